//! BOLT 3 Appendix E (key derivation) vectors: `tests/vectors/bolt03-key-derivation.json`.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

mod common;

use common::{load, pubkey, s, seckey};
use fulgur_bolt3::keys::{
    derive_privkey, derive_pubkey, derive_revocation_privkey, derive_revocation_pubkey,
    per_commitment_point,
};
use secp256k1::{PublicKey, SECP256K1};

const VECTORS: &str = include_str!("vectors/bolt03-key-derivation.json");

#[test]
fn every_key_derivation_case() {
    let doc = load(VECTORS);
    let inputs = &doc["common_inputs"];
    let base_secret = seckey(&inputs["base_secret"]);
    let per_commitment_secret = seckey(&inputs["per_commitment_secret"]);
    let base_point = pubkey(&inputs["base_point"]);
    let pcp = pubkey(&inputs["per_commitment_point"]);

    // The common inputs are consistent with each other.
    assert_eq!(
        PublicKey::from_secret_key(SECP256K1, &base_secret),
        base_point
    );
    assert_eq!(
        per_commitment_point(&per_commitment_secret.secret_bytes()).unwrap(),
        pcp
    );

    let cases = doc["test_cases"].as_array().unwrap();
    assert_eq!(cases.len(), 4);
    for case in cases {
        let expected = s(&case["expected_output"]);
        let got = match s(&case["output_name"]) {
            "localpubkey" => derive_pubkey(&base_point, &pcp).unwrap().to_string(),
            "localprivkey" => {
                let k = derive_privkey(&base_secret, &pcp).unwrap();
                assert_eq!(
                    PublicKey::from_secret_key(SECP256K1, &k),
                    derive_pubkey(&base_point, &pcp).unwrap()
                );
                hex::encode(k.secret_bytes())
            }
            "revocationpubkey" => derive_revocation_pubkey(&base_point, &pcp)
                .unwrap()
                .to_string(),
            "revocationprivkey" => {
                let k = derive_revocation_privkey(&base_secret, &per_commitment_secret).unwrap();
                assert_eq!(
                    PublicKey::from_secret_key(SECP256K1, &k),
                    derive_revocation_pubkey(&base_point, &pcp).unwrap()
                );
                hex::encode(k.secret_bytes())
            }
            other => panic!("unknown output {other}"),
        };
        assert_eq!(got, expected, "{}", s(&case["name"]));
    }
}
