//! Helpers shared by the vector tests: loading the JSON files and parsing hex fields.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use bitcoin::consensus::encode::deserialize;
use bitcoin::Transaction;
use secp256k1::ecdsa::Signature;
use secp256k1::{PublicKey, SecretKey};
use serde_json::Value;

/// Parses a vector file.
pub fn load(json: &str) -> Value {
    serde_json::from_str(json).expect("vector file is valid JSON")
}

/// The string at `v`, panicking with the value if it is not one.
pub fn s(v: &Value) -> &str {
    v.as_str().unwrap_or_else(|| panic!("not a string: {v}"))
}

/// The unsigned integer at `v`.
pub fn u(v: &Value) -> u64 {
    v.as_u64().unwrap_or_else(|| panic!("not a u64: {v}"))
}

/// Hex bytes.
pub fn bytes(v: &Value) -> Vec<u8> {
    hex::decode(s(v)).unwrap()
}

/// 32 hex bytes.
pub fn b32(v: &Value) -> [u8; 32] {
    bytes(v).try_into().unwrap()
}

/// A compressed public key.
pub fn pubkey(v: &Value) -> PublicKey {
    PublicKey::from_slice(&bytes(v)).unwrap()
}

/// A secret key.
pub fn seckey(v: &Value) -> SecretKey {
    SecretKey::from_slice(&bytes(v)).unwrap()
}

/// A DER signature without sighash byte.
pub fn sig(v: &Value) -> Signature {
    Signature::from_der(&bytes(v)).unwrap()
}

/// A consensus-encoded transaction.
pub fn tx(v: &Value) -> Transaction {
    deserialize(&bytes(v)).unwrap()
}

/// Consensus-encoded hex of a transaction.
pub fn tx_hex(tx: &Transaction) -> String {
    bitcoin::consensus::encode::serialize_hex(tx)
}

/// `tx` with every witness emptied.
pub fn strip_witness(tx: &Transaction) -> Transaction {
    let mut tx = tx.clone();
    for input in &mut tx.input {
        input.witness.clear();
    }
    tx
}
