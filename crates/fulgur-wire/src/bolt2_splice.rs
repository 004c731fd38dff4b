//! BOLT 2 "Channel Quiescence" and "Channel Splicing": `stfu` (2), `splice_init` (80),
//! `splice_ack` (81) and `splice_locked` (77).

use crate::macros::wire_messages;
use crate::primitives::{ChannelId, PublicKey, Txid};

wire_messages! {
    /// `stfu` ("SomeThing Fundamental is Underway"): asks to quiesce the channel
    /// (`option_quiesce`).
    message Stfu = 2 "stfu" {
        /// The channel.
        channel_id: ChannelId,
        /// 1 if the sender initiates quiescence, 0 if it answers.
        initiator: u8,
    }

    /// `splice_init`: proposes replacing the funding transaction (`option_splice`).
    message SpliceInit = 80 "splice_init" {
        /// The channel.
        channel_id: ChannelId,
        /// What the sender adds (positive) or removes (negative) from its balance.
        funding_contribution_satoshis: i64,
        /// Fee rate for the splice transaction.
        funding_feerate_perkw: u32,
        /// Splice transaction locktime.
        locktime: u32,
        /// The sender's funding key for the new funding output.
        funding_pubkey: PublicKey,
    } tlvs {
        /// Type 2: the receiver must use only confirmed inputs.
        2 => require_confirmed_inputs: bool,
    }

    /// `splice_ack`: accepts a `splice_init`.
    message SpliceAck = 81 "splice_ack" {
        /// The channel.
        channel_id: ChannelId,
        /// What the sender adds (positive) or removes (negative) from its balance.
        funding_contribution_satoshis: i64,
        /// The sender's funding key for the new funding output.
        funding_pubkey: PublicKey,
    } tlvs {
        /// Type 2: the receiver must use only confirmed inputs.
        2 => require_confirmed_inputs: bool,
    }

    /// `splice_locked`: a splice transaction reached acceptable depth.
    message SpliceLocked = 77 "splice_locked" {
        /// The channel.
        channel_id: ChannelId,
        /// The locked splice transaction.
        splice_txid: Txid,
    }
}
