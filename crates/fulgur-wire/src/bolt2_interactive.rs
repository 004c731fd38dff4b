//! BOLT 2 "Interactive Transaction Construction" and "Channel Establishment v2":
//! `open_channel2` (64), `accept_channel2` (65), `tx_add_input` (66), `tx_add_output` (67),
//! `tx_remove_input` (68), `tx_remove_output` (69), `tx_complete` (70), `tx_signatures` (71),
//! `tx_init_rbf` (72), `tx_ack_rbf` (73) and `tx_abort` (74).

use fulgur_types::Features;

use crate::macros::wire_messages;
use crate::primitives::{counted_vec_codec, ChainHash, ChannelId, PublicKey, Signature, Txid};

crate::wire_struct! {
    /// The `witness` subtype of `tx_signatures`: one input's witness stack, serialized as in
    /// Bitcoin (a CompactSize count, then CompactSize-prefixed elements).
    pub struct Witness {
        /// The serialized witness stack.
        pub witness_data: Vec<u8>,
    }
}
counted_vec_codec!(Witness);

impl Witness {
    /// Serializes a Bitcoin witness stack.
    pub fn from_bitcoin(witness: &bitcoin::Witness) -> Witness {
        Witness {
            witness_data: bitcoin::consensus::serialize(witness),
        }
    }

    /// Parses the bytes as a Bitcoin witness stack (all bytes must be used).
    pub fn to_bitcoin(&self) -> Result<bitcoin::Witness, bitcoin::consensus::encode::Error> {
        bitcoin::consensus::deserialize(&self.witness_data)
    }
}

wire_messages! {
    /// `open_channel2`: the opener proposes a dual-funded channel (`option_dual_fund`).
    message OpenChannel2 = 64 "open_channel2" {
        /// The chain the channel is on.
        chain_hash: ChainHash,
        /// Identifies the channel until `accept_channel2`.
        temporary_channel_id: ChannelId,
        /// Fee rate for the funding transaction.
        funding_feerate_perkw: u32,
        /// Fee rate for commitment transactions.
        commitment_feerate_perkw: u32,
        /// The opener's contribution.
        funding_satoshis: u64,
        /// Outputs below this are not created on the opener's commitment.
        dust_limit_satoshis: u64,
        /// Cap on the total of outstanding HTLCs offered to the opener.
        max_htlc_value_in_flight_msat: u64,
        /// Smallest HTLC the opener accepts.
        htlc_minimum_msat: u64,
        /// Delay the accepter's to-self outputs must wait.
        to_self_delay: u16,
        /// Most HTLCs the accepter may offer.
        max_accepted_htlcs: u16,
        /// Funding transaction locktime.
        locktime: u32,
        /// The opener's funding key.
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
        /// Per-commitment point for the second commitment.
        second_per_commitment_point: PublicKey,
        /// Bit 0: `announce_channel`.
        channel_flags: u8,
    } tlvs {
        /// Type 0: the script the opener will close to.
        0 => upfront_shutdown_script: Option<Vec<u8>>,
        /// Type 1: the proposed channel type.
        1 => channel_type: Option<Features>,
        /// Type 2: the accepter must use only confirmed inputs.
        2 => require_confirmed_inputs: bool,
    }

    /// `accept_channel2`: the accepter agrees and states its contribution.
    message AcceptChannel2 = 65 "accept_channel2" {
        /// From `open_channel2`.
        temporary_channel_id: ChannelId,
        /// The accepter's contribution.
        funding_satoshis: u64,
        /// Outputs below this are not created on the accepter's commitment.
        dust_limit_satoshis: u64,
        /// Cap on the total of outstanding HTLCs offered to the accepter.
        max_htlc_value_in_flight_msat: u64,
        /// Smallest HTLC the accepter accepts.
        htlc_minimum_msat: u64,
        /// Confirmations wanted before `channel_ready`.
        minimum_depth: u32,
        /// Delay the opener's to-self outputs must wait.
        to_self_delay: u16,
        /// Most HTLCs the opener may offer.
        max_accepted_htlcs: u16,
        /// The accepter's funding key.
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
        /// Per-commitment point for the second commitment.
        second_per_commitment_point: PublicKey,
    } tlvs {
        /// Type 0: the script the accepter will close to.
        0 => upfront_shutdown_script: Option<Vec<u8>>,
        /// Type 1: the accepted channel type.
        1 => channel_type: Option<Features>,
        /// Type 2: the opener must use only confirmed inputs.
        2 => require_confirmed_inputs: bool,
    }

    /// `tx_add_input`: adds an input to the transaction under construction.
    message TxAddInput = 66 "tx_add_input" {
        /// The channel.
        channel_id: ChannelId,
        /// Unique id; even from the initiator, odd from the non-initiator.
        serial_id: u64,
        /// The whole previous transaction (empty for the shared funding input).
        prevtx: Vec<u8>,
        /// Output index spent.
        prevtx_vout: u32,
        /// nSequence (at most `0xFFFFFFFD`).
        sequence: u32,
    } tlvs {
        /// Type 0: the shared (previous funding) input's txid, when `prevtx` is empty.
        0 => shared_input_txid: Option<Txid>,
    }

    /// `tx_add_output`: adds an output.
    message TxAddOutput = 67 "tx_add_output" {
        /// The channel.
        channel_id: ChannelId,
        /// Unique id; even from the initiator, odd from the non-initiator.
        serial_id: u64,
        /// Amount.
        sats: u64,
        /// Output script.
        script: Vec<u8>,
    }

    /// `tx_remove_input`: removes an input the sender added.
    message TxRemoveInput = 68 "tx_remove_input" {
        /// The channel.
        channel_id: ChannelId,
        /// The input's id.
        serial_id: u64,
    }

    /// `tx_remove_output`: removes an output the sender added.
    message TxRemoveOutput = 69 "tx_remove_output" {
        /// The channel.
        channel_id: ChannelId,
        /// The output's id.
        serial_id: u64,
    }

    /// `tx_complete`: the sender has nothing more to add.
    message TxComplete = 70 "tx_complete" {
        /// The channel.
        channel_id: ChannelId,
    }

    /// `tx_signatures`: witnesses for the sender's inputs.
    message TxSignatures = 71 "tx_signatures" {
        /// The channel.
        channel_id: ChannelId,
        /// The transaction signed.
        txid: Txid,
        /// One witness per input the sender added, by `serial_id` (`num_witnesses`).
        witnesses: Vec<Witness>,
    } tlvs {
        /// Type 0: the sender's signature for the shared funding input (splicing).
        0 => shared_input_signature: Option<Signature>,
    }

    /// `tx_init_rbf`: starts a replacement of the negotiated transaction.
    message TxInitRbf = 72 "tx_init_rbf" {
        /// The channel.
        channel_id: ChannelId,
        /// Locktime of the replacement.
        locktime: u32,
        /// Fee rate of the replacement.
        feerate: u32,
    } tlvs {
        /// Type 0: the sender's new contribution to the funding output.
        0 => funding_output_contribution: Option<i64>,
        /// Type 2: the peer must use only confirmed inputs.
        2 => require_confirmed_inputs: bool,
    }

    /// `tx_ack_rbf`: accepts a `tx_init_rbf`.
    message TxAckRbf = 73 "tx_ack_rbf" {
        /// The channel.
        channel_id: ChannelId,
    } tlvs {
        /// Type 0: the sender's new contribution to the funding output.
        0 => funding_output_contribution: Option<i64>,
        /// Type 2: the peer must use only confirmed inputs.
        2 => require_confirmed_inputs: bool,
    }

    /// `tx_abort`: abandons the negotiation.
    message TxAbort = 74 "tx_abort" {
        /// The channel.
        channel_id: ChannelId,
        /// Diagnostic data.
        data: Vec<u8>,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

    use super::*;

    #[test]
    fn witness_bitcoin_round_trip() {
        let w = bitcoin::Witness::from_slice(&[vec![1u8, 2, 3], vec![]]);
        let wire = Witness::from_bitcoin(&w);
        assert_eq!(wire.witness_data, vec![2, 3, 1, 2, 3, 0]);
        assert_eq!(wire.to_bitcoin().unwrap(), w);
    }
}
