//! Mutual-close transactions: BOLT 3 "Legacy Closing Transaction" (`closing_signed`) and
//! "Closing Transaction" (`closing_complete` / `closing_sig`, `option_simple_close`).
//!
//! Both spend the funding output with witness `0 <sig1> <sig2> <funding script>` (see
//! [`crate::sign::finalize_commitment`], which applies unchanged), and order their outputs
//! by BIP 69 (value, then scriptpubkey).

use bitcoin::absolute::LockTime;
use bitcoin::transaction::Version;
use bitcoin::{
    Amount, OutPoint, Script, ScriptBuf, Sequence, Transaction, TxIn, TxOut, VarInt, Witness,
};

/// Sequence of the legacy closing transaction's input.
const LEGACY_CLOSING_SEQUENCE: u32 = 0xFFFF_FFFF;
/// Sequence of the `option_simple_close` closing transaction's input (signals RBF).
const SIMPLE_CLOSING_SEQUENCE: u32 = 0xFFFF_FFFD;

/// A version-2 transaction spending the funding output with the given sequence, locktime and
/// outputs (sorted here, by BIP 69).
fn closing_tx(
    funding_outpoint: OutPoint,
    sequence: u32,
    lock_time: u32,
    mut outputs: Vec<TxOut>,
) -> Transaction {
    // `TxOut`'s order is BIP 69's: value, then scriptpubkey bytes.
    outputs.sort();
    Transaction {
        version: Version::TWO,
        lock_time: LockTime::from_consensus(lock_time),
        input: vec![TxIn {
            previous_output: funding_outpoint,
            script_sig: ScriptBuf::new(),
            sequence: Sequence(sequence),
            witness: Witness::new(),
        }],
        output: outputs,
    }
}

/// Builds the unsigned legacy closing transaction (`closing_signed`): version 2, locktime
/// 0, sequence `0xFFFFFFFF`, outputs below `dust_limit_sat` omitted, BIP 69 order.
///
/// The amounts are final: the caller has already rounded down to whole satoshis and
/// subtracted `fee_satoshis` from the opener's amount.
pub fn build_closing_tx(
    funding_outpoint: OutPoint,
    local_script: &Script,
    local_amount_sat: u64,
    remote_script: &Script,
    remote_amount_sat: u64,
    dust_limit_sat: u64,
) -> Transaction {
    let outputs = [
        (local_script, local_amount_sat),
        (remote_script, remote_amount_sat),
    ]
    .into_iter()
    .filter(|(_, amount)| *amount >= dust_limit_sat)
    .map(|(script, amount)| TxOut {
        value: Amount::from_sat(amount),
        script_pubkey: script.to_owned(),
    })
    .collect();
    closing_tx(funding_outpoint, LEGACY_CLOSING_SEQUENCE, 0, outputs)
}

/// Builds the unsigned `option_simple_close` closing transaction: version 2, the
/// `closing_complete` locktime, sequence `0xFFFFFFFD`, BIP 69 order.
///
/// Each output is given as `(scriptpubkey, amount)`, or `None` when it is left out
/// (`closer_output_only` / `closee_output_only`). The closer's amount must already have
/// `fee_satoshis` subtracted. An output whose script starts with `OP_RETURN` gets value 0
/// whatever amount is passed.
pub fn build_simple_closing_tx(
    funding_outpoint: OutPoint,
    closer: Option<(&Script, u64)>,
    closee: Option<(&Script, u64)>,
    locktime: u32,
) -> Transaction {
    let outputs = [closer, closee]
        .into_iter()
        .flatten()
        .map(|(script, amount)| TxOut {
            value: Amount::from_sat(if script.is_op_return() { 0 } else { amount }),
            script_pubkey: script.to_owned(),
        })
        .collect();
    closing_tx(funding_outpoint, SIMPLE_CLOSING_SEQUENCE, locktime, outputs)
}

/// Non-witness size of an output paying `script`: value, script length and script.
fn output_size(script: &Script) -> u64 {
    let len = script.len();
    u64::try_from(8 + VarInt::from(len).size() + len).unwrap_or(u64::MAX)
}

/// Expected weight of a closing transaction with both outputs and its full witness, for fee
/// estimates. Like BOLT 3's expected commitment weight, it assumes 73-byte signatures and a
/// 71-byte funding script: `4 * (10 + 41 + outputs) + 2 + 222`.
pub fn closing_tx_weight(local_script: &Script, remote_script: &Script) -> u64 {
    // version 4, input count 1, output count 1, locktime 4.
    const TX_FIELDS: u64 = 10;
    // outpoint 36, empty script_sig 1, sequence 4.
    const FUNDING_INPUT: u64 = 41;
    // segwit marker and flag.
    const WITNESS_HEADER: u64 = 2;
    // item count 1, empty item 1, two 73-byte signatures with length, 71-byte script with
    // length.
    const FUNDING_WITNESS: u64 = 1 + 1 + 2 * (1 + 73) + 1 + 71;
    let outputs = output_size(local_script).saturating_add(output_size(remote_script));
    4u64.saturating_mul(TX_FIELDS + FUNDING_INPUT + outputs)
        .saturating_add(WITNESS_HEADER + FUNDING_WITNESS)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use bitcoin::hashes::Hash;

    fn p2wpkh(b: u8) -> ScriptBuf {
        ScriptBuf::new_p2wpkh(&bitcoin::WPubkeyHash::from_byte_array([b; 20]))
    }

    fn p2wsh(b: u8) -> ScriptBuf {
        ScriptBuf::new_p2wsh(&bitcoin::WScriptHash::from_byte_array([b; 32]))
    }

    #[test]
    fn weight_matches_commitment_formula() {
        // A P2WSH and a P2WPKH output: the same shape as a commitment without anchors or
        // HTLCs, whose expected weight is 724.
        assert_eq!(closing_tx_weight(&p2wsh(1), &p2wpkh(2)), 724);
    }

    #[test]
    fn legacy_closing_trims_and_sorts() {
        let op = OutPoint::null();
        let tx = build_closing_tx(op, &p2wpkh(9), 5000, &p2wpkh(1), 5000, 546);
        assert_eq!(tx.output.len(), 2);
        assert_eq!(tx.output[0].script_pubkey, p2wpkh(1));
        assert_eq!(tx.input[0].sequence, Sequence(0xFFFF_FFFF));
        assert_eq!(tx.lock_time, LockTime::ZERO);
        let tx = build_closing_tx(op, &p2wpkh(9), 545, &p2wpkh(1), 5000, 546);
        assert_eq!(tx.output.len(), 1);
        assert_eq!(tx.output[0].value, Amount::from_sat(5000));
        let tx = build_closing_tx(op, &p2wpkh(9), 7000, &p2wpkh(1), 5000, 546);
        assert_eq!(tx.output[0].value, Amount::from_sat(5000));
    }

    #[test]
    fn simple_closing_zeroes_op_return() {
        let op_return = ScriptBuf::from_bytes(vec![0x6a, 6, 1, 2, 3, 4, 5, 6]);
        let tx = build_simple_closing_tx(
            OutPoint::null(),
            Some((&op_return, 1234)),
            Some((&p2wpkh(1), 5000)),
            800_000,
        );
        assert_eq!(tx.output[0].value, Amount::ZERO);
        assert_eq!(tx.output[0].script_pubkey, op_return);
        assert_eq!(tx.input[0].sequence, Sequence(0xFFFF_FFFD));
        assert_eq!(tx.lock_time, LockTime::from_consensus(800_000));
        let tx = build_simple_closing_tx(OutPoint::null(), None, Some((&p2wpkh(1), 5000)), 0);
        assert_eq!(tx.output.len(), 1);
    }
}
