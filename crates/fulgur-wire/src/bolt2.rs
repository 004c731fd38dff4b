//! BOLT 2 "Channel Establishment v1", "Channel Close", "Normal Operation" and "Message
//! Retransmission": `open_channel` (32), `accept_channel` (33), `funding_created` (34),
//! `funding_signed` (35), `channel_ready` (36), `shutdown` (38), `closing_signed` (39),
//! `closing_complete` (40), `closing_sig` (41), `start_batch` (127), `update_add_htlc` (128),
//! `update_fulfill_htlc` (130), `update_fail_htlc` (131), `commitment_signed` (132),
//! `revoke_and_ack` (133), `update_fee` (134), `update_fail_malformed_htlc` (135) and
//! `channel_reestablish` (136).

use fulgur_types::Features;

use crate::error::WireError;
use crate::macros::wire_messages;
use crate::primitives::{
    ChainHash, ChannelId, Codec, PublicKey, Reader, Sha256, ShortChannelId, Signature, Txid, Writer,
};
use crate::tlv::TlvValue;

/// The size of `update_add_htlc`'s `onion_routing_packet` (BOLT 4).
pub const ONION_PACKET_LEN: usize = 1366;

crate::wire_struct! {
    /// `closing_signed`'s `fee_range` TLV: the fees the sender accepts.
    pub struct FeeRange {
        /// Lowest acceptable fee.
        pub min_fee_satoshis: u64,
        /// Highest acceptable fee.
        pub max_fee_satoshis: u64,
    }
}

crate::wire_struct! {
    /// `channel_reestablish`'s `next_funding` TLV: an interactive funding transaction being
    /// negotiated when the connection dropped.
    pub struct NextFunding {
        /// Its txid.
        pub next_funding_txid: Txid,
        /// Bit 0: the sender wants `commitment_signed` retransmitted.
        pub retransmit_flags: u8,
    }
}

crate::wire_struct! {
    /// `channel_reestablish`'s `my_current_funding_locked` TLV: the latest funding
    /// transaction the sender has sent `channel_ready`/`splice_locked` for.
    pub struct MyCurrentFundingLocked {
        /// Its txid.
        pub my_current_funding_locked_txid: Txid,
        /// Bit 0: the sender wants `announcement_signatures` retransmitted.
        pub retransmit_flags: u8,
    }
}

/// The `attribution_data` TLV of `update_fulfill_htlc` and `update_fail_htlc` (BOLT 4):
/// 20 hold times and 210 truncated HMACs, 920 bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttributionData {
    /// `htlc_hold_times` (`20*u32`).
    pub htlc_hold_times: [u32; 20],
    /// `truncated_hmacs` (`210*sha256[..4]`).
    pub truncated_hmacs: [[u8; 4]; 210],
}

impl TlvValue for AttributionData {
    fn encode_value(&self, w: &mut Writer) {
        for t in &self.htlc_hold_times {
            t.encode(w);
        }
        for h in &self.truncated_hmacs {
            w.bytes(h);
        }
    }
    fn decode_value(value: &[u8]) -> Result<Self, WireError> {
        let mut r = Reader::new(value);
        let mut htlc_hold_times = [0u32; 20];
        for t in htlc_hold_times.iter_mut() {
            *t = u32::decode(&mut r)?;
        }
        let mut truncated_hmacs = [[0u8; 4]; 210];
        for h in truncated_hmacs.iter_mut() {
            *h = r.array()?;
        }
        r.finish()?;
        Ok(AttributionData {
            htlc_hold_times,
            truncated_hmacs,
        })
    }
}

wire_messages! {
    /// `open_channel`: the funder proposes a v1 channel.
    message OpenChannel = 32 "open_channel" {
        /// The chain the channel is on.
        chain_hash: ChainHash,
        /// Identifies the channel until the funding transaction is known.
        temporary_channel_id: ChannelId,
        /// Channel capacity.
        funding_satoshis: u64,
        /// Amount given to the fundee at open.
        push_msat: u64,
        /// Outputs below this are not created on the funder's commitment.
        dust_limit_satoshis: u64,
        /// Cap on the total of outstanding HTLCs offered to the funder.
        max_htlc_value_in_flight_msat: u64,
        /// Minimum the fundee must keep.
        channel_reserve_satoshis: u64,
        /// Smallest HTLC the funder accepts.
        htlc_minimum_msat: u64,
        /// Initial commitment fee rate.
        feerate_per_kw: u32,
        /// Delay the fundee's to-self outputs must wait.
        to_self_delay: u16,
        /// Most HTLCs the fundee may offer.
        max_accepted_htlcs: u16,
        /// The funder's funding key.
        funding_pubkey: PublicKey,
        /// Basepoint for revocation keys.
        revocation_basepoint: PublicKey,
        /// Basepoint for payment keys.
        payment_basepoint: PublicKey,
        /// Basepoint for delayed payment keys.
        delayed_payment_basepoint: PublicKey,
        /// Basepoint for HTLC keys.
        htlc_basepoint: PublicKey,
        /// Per-commitment point for the first commitment.
        first_per_commitment_point: PublicKey,
        /// Bit 0: `announce_channel`.
        channel_flags: u8,
    } tlvs {
        /// Type 0: the script the funder will close to (`option_upfront_shutdown_script`).
        0 => upfront_shutdown_script: Option<Vec<u8>>,
        /// Type 1: the proposed channel type.
        1 => channel_type: Option<Features>,
    }

    /// `accept_channel`: the fundee accepts a v1 channel.
    message AcceptChannel = 33 "accept_channel" {
        /// From `open_channel`.
        temporary_channel_id: ChannelId,
        /// Outputs below this are not created on the fundee's commitment.
        dust_limit_satoshis: u64,
        /// Cap on the total of outstanding HTLCs offered to the fundee.
        max_htlc_value_in_flight_msat: u64,
        /// Minimum the funder must keep.
        channel_reserve_satoshis: u64,
        /// Smallest HTLC the fundee accepts.
        htlc_minimum_msat: u64,
        /// Confirmations the fundee wants before `channel_ready`.
        minimum_depth: u32,
        /// Delay the funder's to-self outputs must wait.
        to_self_delay: u16,
        /// Most HTLCs the funder may offer.
        max_accepted_htlcs: u16,
        /// The fundee's funding key.
        funding_pubkey: PublicKey,
        /// Basepoint for revocation keys.
        revocation_basepoint: PublicKey,
        /// Basepoint for payment keys.
        payment_basepoint: PublicKey,
        /// Basepoint for delayed payment keys.
        delayed_payment_basepoint: PublicKey,
        /// Basepoint for HTLC keys.
        htlc_basepoint: PublicKey,
        /// Per-commitment point for the first commitment.
        first_per_commitment_point: PublicKey,
    } tlvs {
        /// Type 0: the script the fundee will close to.
        0 => upfront_shutdown_script: Option<Vec<u8>>,
        /// Type 1: the accepted channel type.
        1 => channel_type: Option<Features>,
    }

    /// `funding_created`: the funder's funding outpoint and signature of the fundee's first
    /// commitment.
    message FundingCreated = 34 "funding_created" {
        /// From `open_channel`.
        temporary_channel_id: ChannelId,
        /// The funding transaction id.
        funding_txid: Txid,
        /// The funding output index.
        funding_output_index: u16,
        /// Signature of the fundee's commitment transaction.
        signature: Signature,
    }

    /// `funding_signed`: the fundee's signature of the funder's first commitment.
    message FundingSigned = 35 "funding_signed" {
        /// The channel id derived from the funding outpoint.
        channel_id: ChannelId,
        /// Signature of the funder's commitment transaction.
        signature: Signature,
    }

    /// `channel_ready`: the funding transaction reached the required depth.
    message ChannelReady = 36 "channel_ready" {
        /// The channel.
        channel_id: ChannelId,
        /// Per-commitment point for the second commitment.
        second_per_commitment_point: PublicKey,
    } tlvs {
        /// Type 1 `short_channel_id`: an alias to use in routing hints (`alias`).
        1 => short_channel_id: Option<ShortChannelId>,
    }

    /// `shutdown`: starts a mutual close.
    message Shutdown = 38 "shutdown" {
        /// The channel.
        channel_id: ChannelId,
        /// Where the sender wants its funds.
        scriptpubkey: Vec<u8>,
    }

    /// `closing_signed`: legacy fee negotiation for the closing transaction.
    message ClosingSigned = 39 "closing_signed" {
        /// The channel.
        channel_id: ChannelId,
        /// Proposed fee.
        fee_satoshis: u64,
        /// Signature of the closing transaction with that fee.
        signature: Signature,
    } tlvs {
        /// Type 1: acceptable fee range.
        1 => fee_range: Option<FeeRange>,
    }

    /// `closing_complete`: the closer's signed closing transaction (`option_simple_close`).
    message ClosingComplete = 40 "closing_complete" {
        /// The channel.
        channel_id: ChannelId,
        /// The closer's output script.
        closer_scriptpubkey: Vec<u8>,
        /// The closee's output script.
        closee_scriptpubkey: Vec<u8>,
        /// Fee the closer pays.
        fee_satoshis: u64,
        /// Transaction locktime.
        locktime: u32,
    } tlvs {
        /// Type 1: signature for a transaction with only the closer's output.
        1 => closer_output_only: Option<Signature>,
        /// Type 2: signature for a transaction with only the closee's output.
        2 => closee_output_only: Option<Signature>,
        /// Type 3: signature for a transaction with both outputs.
        3 => closer_and_closee_outputs: Option<Signature>,
    }

    /// `closing_sig`: the closee's signature for one of the `closing_complete` variants.
    message ClosingSig = 41 "closing_sig" {
        /// The channel.
        channel_id: ChannelId,
        /// The closer's output script.
        closer_scriptpubkey: Vec<u8>,
        /// The closee's output script.
        closee_scriptpubkey: Vec<u8>,
        /// Fee the closer pays.
        fee_satoshis: u64,
        /// Transaction locktime.
        locktime: u32,
    } tlvs {
        /// Type 1: signature for a transaction with only the closer's output.
        1 => closer_output_only: Option<Signature>,
        /// Type 2: signature for a transaction with only the closee's output.
        2 => closee_output_only: Option<Signature>,
        /// Type 3: signature for a transaction with both outputs.
        3 => closer_and_closee_outputs: Option<Signature>,
    }

    /// `start_batch`: the next `batch_size` messages form one batch (several
    /// `commitment_signed` during a splice).
    message StartBatch = 127 "start_batch" {
        /// The channel.
        channel_id: ChannelId,
        /// Number of messages in the batch (2 to 20).
        batch_size: u16,
    } tlvs {
        /// Type 1: the type of the batched messages.
        1 => message_type: Option<u16>,
    }

    /// `update_add_htlc`: offers an HTLC.
    message UpdateAddHtlc = 128 "update_add_htlc" {
        /// The channel.
        channel_id: ChannelId,
        /// HTLC id (increments by one per offered HTLC).
        id: u64,
        /// Amount.
        amount_msat: u64,
        /// Hash of the preimage that settles it.
        payment_hash: Sha256,
        /// Absolute expiry height.
        cltv_expiry: u32,
        /// The BOLT 4 onion (1366 bytes).
        onion_routing_packet: Box<[u8; ONION_PACKET_LEN]>,
    } tlvs {
        /// Type 0 `blinded_path`: the `path_key` when the HTLC is inside a blinded route.
        0 => blinded_path: Option<PublicKey>,
    }

    /// `update_fulfill_htlc`: settles an HTLC with its preimage.
    message UpdateFulfillHtlc = 130 "update_fulfill_htlc" {
        /// The channel.
        channel_id: ChannelId,
        /// The HTLC id.
        id: u64,
        /// The preimage.
        payment_preimage: [u8; 32],
    } tlvs {
        /// Type 1: hold times and HMACs for attributable errors.
        1 => attribution_data: Option<Box<AttributionData>>,
    }

    /// `update_fail_htlc`: fails an HTLC with an encrypted reason.
    message UpdateFailHtlc = 131 "update_fail_htlc" {
        /// The channel.
        channel_id: ChannelId,
        /// The HTLC id.
        id: u64,
        /// The onion-encrypted failure (BOLT 4).
        reason: Vec<u8>,
    } tlvs {
        /// Type 1: hold times and HMACs for attributable errors.
        1 => attribution_data: Option<Box<AttributionData>>,
    }

    /// `commitment_signed`: signs the peer's next commitment.
    message CommitmentSigned = 132 "commitment_signed" {
        /// The channel.
        channel_id: ChannelId,
        /// Signature of the commitment transaction.
        signature: Signature,
        /// One signature per HTLC output, in output order (`num_htlcs`, `htlc_signature`).
        htlc_signatures: Vec<Signature>,
    } tlvs {
        /// Type 1: which funding transaction this commitment spends (splicing).
        1 => funding_txid: Option<Txid>,
    }

    /// `revoke_and_ack`: revokes the previous commitment.
    message RevokeAndAck = 133 "revoke_and_ack" {
        /// The channel.
        channel_id: ChannelId,
        /// The secret of the revoked commitment.
        per_commitment_secret: [u8; 32],
        /// The point for the commitment after next.
        next_per_commitment_point: PublicKey,
    }

    /// `update_fee`: the funder changes the commitment fee rate.
    message UpdateFee = 134 "update_fee" {
        /// The channel.
        channel_id: ChannelId,
        /// New fee rate.
        feerate_per_kw: u32,
    }

    /// `update_fail_malformed_htlc`: fails an HTLC whose onion could not be parsed.
    message UpdateFailMalformedHtlc = 135 "update_fail_malformed_htlc" {
        /// The channel.
        channel_id: ChannelId,
        /// The HTLC id.
        id: u64,
        /// SHA256 of the onion received.
        sha256_of_onion: Sha256,
        /// The BOLT 4 failure code (with `BADONION` set).
        failure_code: u16,
    }

    /// `channel_reestablish`: resynchronizes channel state after reconnection.
    message ChannelReestablish = 136 "channel_reestablish" {
        /// The channel.
        channel_id: ChannelId,
        /// Commitment number of the next `commitment_signed` expected.
        next_commitment_number: u64,
        /// Commitment number of the next `revoke_and_ack` expected.
        next_revocation_number: u64,
        /// The last `per_commitment_secret` received (zeroes if none).
        your_last_per_commitment_secret: [u8; 32],
        /// The sender's current per-commitment point.
        my_current_per_commitment_point: PublicKey,
    } tlvs {
        /// Type 1: interactive funding in progress.
        1 => next_funding: Option<NextFunding>,
        /// Type 5: the latest locked funding transaction.
        5 => my_current_funding_locked: Option<MyCurrentFundingLocked>,
    }
}
