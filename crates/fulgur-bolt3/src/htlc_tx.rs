//! Second-stage HTLC transactions: BOLT 3 "HTLC-Timeout and HTLC-Success Transactions".
//!
//! Each spends one HTLC output of the holder's commitment into a `to_local`-style output
//! (revocable, delayed by `to_self_delay`). The HTLC-timeout transaction (for HTLCs the
//! holder offered) is locked until `cltv_expiry`; the HTLC-success transaction (for HTLCs it
//! received) has locktime 0 and reveals the preimage in its witness. With anchors the input
//! sequence is 1 and the transaction pays no fee.

use bitcoin::absolute::LockTime;
use bitcoin::transaction::Version;
use bitcoin::{Amount, OutPoint, ScriptBuf, Sequence, Transaction, TxIn, TxOut, Txid, Witness};
use secp256k1::PublicKey;

use crate::commitment::{BuiltCommitment, CommitmentKeys, CommitmentParams, HtlcOutput};
use crate::fees::{htlc_success_fee_sat, htlc_timeout_fee_sat};
use crate::scripts::to_local_script;
use crate::ChannelType;

/// Builds the unsigned HTLC-timeout (if `output.offered`) or HTLC-success transaction
/// spending `output` of the commitment `commitment_txid`.
///
/// `to_self_delay`, `revocation_pubkey` and `local_delayedpubkey` are those of the
/// commitment (see [`CommitmentKeys`]).
pub fn build_htlc_tx(
    commitment_txid: Txid,
    output: &HtlcOutput,
    feerate_per_kw: u32,
    to_self_delay: u16,
    revocation_pubkey: &PublicKey,
    local_delayedpubkey: &PublicKey,
    channel_type: ChannelType,
) -> Transaction {
    let (fee_sat, lock_time) = if output.offered {
        (
            htlc_timeout_fee_sat(feerate_per_kw, channel_type),
            output.cltv_expiry,
        )
    } else {
        (htlc_success_fee_sat(feerate_per_kw, channel_type), 0)
    };
    let sequence = if channel_type.has_anchors() { 1 } else { 0 };
    Transaction {
        version: Version::TWO,
        lock_time: LockTime::from_consensus(lock_time),
        input: vec![TxIn {
            previous_output: OutPoint {
                txid: commitment_txid,
                vout: output.output_index,
            },
            script_sig: ScriptBuf::new(),
            sequence: Sequence(sequence),
            witness: Witness::new(),
        }],
        output: vec![TxOut {
            // An untrimmed HTLC always covers its second-stage fee.
            value: Amount::from_sat(output.amount_sat.saturating_sub(fee_sat)),
            script_pubkey: to_local_script(revocation_pubkey, to_self_delay, local_delayedpubkey)
                .to_p2wsh(),
        }],
    }
}

/// Builds the HTLC transactions of every untrimmed HTLC of `commitment`, in output order
/// (the order of `commitment_signed`'s `htlc_signatures`).
pub fn build_htlc_txs(
    commitment: &BuiltCommitment,
    params: &CommitmentParams,
    keys: &CommitmentKeys,
) -> Vec<Transaction> {
    let txid = commitment.tx.compute_txid();
    commitment
        .htlc_outputs
        .iter()
        .map(|output| {
            build_htlc_tx(
                txid,
                output,
                params.feerate_per_kw,
                params.to_self_delay,
                &keys.revocation_pubkey,
                &keys.local_delayedpubkey,
                params.channel_type,
            )
        })
        .collect()
}
