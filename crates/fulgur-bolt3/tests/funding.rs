//! BOLT 3 Appendix B (funding transaction) vector: `tests/vectors/bolt03-funding-tx.json`.
//!
//! The funding output script comes from this crate; the rest of the funding transaction
//! (a P2PKH spend of the block-1 coinbase, signed with the legacy sighash) is rebuilt here
//! with the `bitcoin` crate and compared byte for byte, signature included.
//!
//! Appendix G (`bolt03-dual-funded-tx.json`, the interactive-tx / dual-funded funding
//! transaction) is deliberately not tested: this crate only covers v1 channel opens, and
//! interactive transaction construction (dual funding) is a later issue.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

mod common;

use bitcoin::absolute::LockTime;
use bitcoin::hashes::Hash;
use bitcoin::script::Builder;
use bitcoin::sighash::{EcdsaSighashType, SighashCache};
use bitcoin::transaction::Version;
use bitcoin::{
    Amount, CompressedPublicKey, OutPoint, PubkeyHash, ScriptBuf, Sequence, Transaction, TxIn,
    TxOut, Txid, Witness,
};
use common::{bytes, load, pubkey, s, seckey, tx, tx_hex, u};
use fulgur_bolt3::fees::fee_for_weight;
use fulgur_bolt3::scripts::{funding_script, funding_script_pubkey};
use secp256k1::{Message, PublicKey, SECP256K1};

const VECTORS: &str = include_str!("vectors/bolt03-funding-tx.json");

#[test]
fn funding_script_matches() {
    let doc = load(VECTORS);
    let local = pubkey(&doc["local_funding_pubkey"]);
    let remote = pubkey(&doc["remote_funding_pubkey"]);
    let expected = bytes(&doc["funding_witness_script_hex"]);
    // Key order does not matter: the script sorts them.
    assert_eq!(funding_script(&local, &remote).as_bytes(), &expected[..]);
    assert_eq!(funding_script(&remote, &local).as_bytes(), &expected[..]);
    let spk = funding_script_pubkey(&local, &remote);
    assert!(spk.is_p2wsh());
    let expected_tx = tx(&doc["expected_funding_tx_hex"]);
    let index = u(&doc["funding_output_index"]) as usize;
    assert_eq!(expected_tx.output[index].script_pubkey, spk);
    assert_eq!(
        expected_tx.output[index].value,
        Amount::from_sat(u(&doc["funding_amount_sat"]))
    );
}

#[test]
fn funding_tx_rebuilt_and_signed() {
    let doc = load(VECTORS);
    let chain = &doc["chain"];
    let coinbase: Transaction = tx(&chain["block_1_coinbase_tx_hex"]);
    assert_eq!(
        coinbase.compute_txid().to_string(),
        s(&chain["block_1_coinbase_txid"])
    );
    let key = seckey(&chain["block_1_coinbase_privkey"]);
    let key_pub = PublicKey::from_secret_key(SECP256K1, &key);

    let input_txid: Txid = s(&doc["input_txid"]).parse().unwrap();
    assert_eq!(input_txid, coinbase.compute_txid());
    let input_index = u(&doc["input_index"]) as u32;
    let spent = &coinbase.output[input_index as usize];
    assert_eq!(spent.value, Amount::from_sat(u(&doc["input_amount_sat"])));
    assert_eq!(
        spent.script_pubkey,
        ScriptBuf::new_p2pkh(&PubkeyHash::hash(&key_pub.serialize()))
    );

    let local = pubkey(&doc["local_funding_pubkey"]);
    let remote = pubkey(&doc["remote_funding_pubkey"]);
    let mut funding = Transaction {
        version: Version::TWO,
        lock_time: LockTime::ZERO,
        input: vec![TxIn {
            previous_output: OutPoint {
                txid: input_txid,
                vout: input_index,
            },
            script_sig: ScriptBuf::new(),
            sequence: Sequence::MAX,
            witness: Witness::new(),
        }],
        output: vec![
            TxOut {
                value: Amount::from_sat(u(&doc["funding_amount_sat"])),
                script_pubkey: funding_script_pubkey(&local, &remote),
            },
            TxOut {
                value: Amount::from_sat(u(&doc["change_amount_sat"])),
                script_pubkey: ScriptBuf::new_p2wpkh(&CompressedPublicKey(key_pub).wpubkey_hash()),
            },
        ],
    };
    let sighash = SighashCache::new(&funding)
        .legacy_signature_hash(0, &spent.script_pubkey, EcdsaSighashType::All.to_u32())
        .unwrap();
    let sig =
        bitcoin::ecdsa::Signature::sighash_all(SECP256K1.sign_ecdsa(&Message::from(sighash), &key));
    funding.input[0].script_sig = Builder::new()
        .push_slice(sig.serialize())
        .push_slice(key_pub.serialize())
        .into_script();

    assert_eq!(tx_hex(&funding), s(&doc["expected_funding_tx_hex"]));
    assert_eq!(
        funding.compute_txid().to_string(),
        s(&doc["expected_funding_txid"])
    );

    // The change is what is left after paying feerate_per_kw for the transaction's weight.
    let fee =
        u(&doc["input_amount_sat"]) - u(&doc["funding_amount_sat"]) - u(&doc["change_amount_sat"]);
    let feerate = u(&doc["feerate_per_kw"]) as u32;
    assert_eq!(fee, fee_for_weight(feerate, funding.weight().to_wu()));
}
