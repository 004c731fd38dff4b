//! The node identity derived from `hsm_secret` files, checked against node ids measured from
//! Core Lightning (`tests/vectors/cln-hsm-secret-derivation.json`), plus the file forms that
//! must be rejected.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use fulgur_keys::{HsmSecret, HsmSecretError};

const VECTORS: &str = include_str!("vectors/cln-hsm-secret-derivation.json");

/// `(name, hsm_secret file bytes, expected node id hex)` for every case in the vector file.
fn cases() -> Vec<(String, Vec<u8>, String)> {
    let doc: serde_json::Value = serde_json::from_str(VECTORS).unwrap();
    doc["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|case| {
            (
                case["name"].as_str().unwrap().to_string(),
                hex::decode(case["hsm_secret_file_hex"].as_str().unwrap()).unwrap(),
                case["expected_node_id"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn case(name: &str) -> (Vec<u8>, String) {
    let (_, file, id) = cases().into_iter().find(|(n, _, _)| n == name).unwrap();
    (file, id)
}

#[test]
fn vector_file_has_both_forms() {
    let names: Vec<String> = cases().into_iter().map(|(n, _, _)| n).collect();
    assert_eq!(names, ["mnemonic", "legacy-32-byte"]);
}

#[test]
fn node_ids_match_cln() {
    for (name, file, expected) in cases() {
        let secret = HsmSecret::from_file_bytes(&file).unwrap();
        assert_eq!(secret.node_id().to_string(), expected, "case {name}");
        assert_eq!(
            secp256k1::PublicKey::from_secret_key_global(&secret.node_secret_key()),
            secret.node_id(),
            "case {name}"
        );
    }
}

#[test]
fn mnemonic_vector() {
    let (file, expected) = case("mnemonic");
    let secret = HsmSecret::from_file_bytes(&file).unwrap();
    assert_eq!(
        secret.mnemonic(),
        Some(std::str::from_utf8(&file[32..]).unwrap())
    );
    assert_eq!(secret.seed_bytes().len(), 64);
    assert_eq!(secret.node_id().to_string(), expected);
}

#[test]
fn legacy_vector() {
    let (file, expected) = case("legacy-32-byte");
    let secret = HsmSecret::from_file_bytes(&file).unwrap();
    assert_eq!(secret.mnemonic(), None);
    assert_eq!(secret.seed_bytes(), &file[..]);
    assert_eq!(secret.node_id().to_string(), expected);
}

#[test]
fn generate_round_trips() {
    for seed in [[0u8; 16], [0xa5; 16], *b"fulgur-entropy!!"] {
        let (secret, file) = HsmSecret::generate(seed);
        assert_eq!(&file[..32], &[0u8; 32]);
        let words = secret.mnemonic().unwrap();
        assert_eq!(words.split(' ').count(), 12);
        assert_eq!(&file[32..], words.as_bytes());
        let reread = HsmSecret::from_file_bytes(&file).unwrap();
        assert_eq!(reread.node_id(), secret.node_id());
        assert_eq!(reread.node_secret_key(), secret.node_secret_key());
        assert_eq!(reread.mnemonic(), secret.mnemonic());
        assert_eq!(reread.seed_bytes(), secret.seed_bytes());
    }
    assert_ne!(
        HsmSecret::generate([1; 16]).0.node_id(),
        HsmSecret::generate([2; 16]).0.node_id()
    );
}

#[test]
fn too_short_is_rejected_with_its_length() {
    for len in [0, 1, 31] {
        let err = HsmSecret::from_file_bytes(&vec![1u8; len]).unwrap_err();
        assert_eq!(err, HsmSecretError::InvalidLength(len));
        assert!(err.to_string().contains(&format!("{len} bytes")), "{err}");
    }
}

#[test]
fn encrypted_form_is_rejected() {
    let err = HsmSecret::from_file_bytes(&[0x42; 73]).unwrap_err();
    assert_eq!(err, HsmSecretError::Encrypted);
    assert!(err.to_string().contains("encrypted"), "{err}");
}

#[test]
fn passphrase_form_is_rejected() {
    let (mut file, _) = case("mnemonic");
    file[5] = 1;
    let err = HsmSecret::from_file_bytes(&file).unwrap_err();
    assert_eq!(err, HsmSecretError::PassphraseProtected);
    assert_eq!(
        err.to_string(),
        "passphrase-protected hsm_secret is not supported yet"
    );
}

#[test]
fn malformed_mnemonics_are_rejected() {
    let (file, _) = case("mnemonic");
    let words = std::str::from_utf8(&file[32..]).unwrap().to_string();
    let with = |phrase: &str| {
        let mut bytes = vec![0u8; 32];
        bytes.extend_from_slice(phrase.as_bytes());
        HsmSecret::from_file_bytes(&bytes)
    };
    let bad = [
        format!("{words}\n"),
        format!(" {words}"),
        words.replacen(' ', "  ", 1),
        words.replacen(' ', "\t", 1),
        words.to_uppercase(),
        // Wrong checksum: swap the last word for another list word.
        format!("{} zoo", words.rsplit_once(' ').unwrap().0),
        // Not in the word list.
        format!("{} fulgur", words.rsplit_once(' ').unwrap().0),
        // Too few words.
        words.split(' ').take(11).collect::<Vec<_>>().join(" "),
        "\u{e9}".repeat(20),
        String::from_utf8_lossy(&[0xff; 40]).into_owned(),
        "x".to_string(),
    ];
    for phrase in bad {
        let len = 32 + phrase.len();
        match with(&phrase) {
            Err(HsmSecretError::InvalidMnemonic { len: l, reason }) => {
                assert_eq!(l, len);
                assert!(
                    !reason.contains("harvest"),
                    "reason leaks the mnemonic: {reason}"
                );
            }
            other => panic!("{phrase:?} gave {other:?}"),
        }
    }
    // Invalid UTF-8.
    let mut bytes = vec![0u8; 32];
    bytes.extend_from_slice(&[0xff; 50]);
    assert!(matches!(
        HsmSecret::from_file_bytes(&bytes),
        Err(HsmSecretError::InvalidMnemonic { len: 82, .. })
    ));
}

#[test]
fn longer_mnemonics_are_accepted() {
    // CLN validates any BIP39 length; a 24-word mnemonic is read like a 12-word one.
    let m = bip39::Mnemonic::from_entropy_in(bip39::Language::English, &[3u8; 32]).unwrap();
    let mut bytes = vec![0u8; 32];
    bytes.extend_from_slice(m.to_string().as_bytes());
    let secret = HsmSecret::from_file_bytes(&bytes).unwrap();
    assert_eq!(secret.seed_bytes(), &m.to_seed_normalized("")[..]);
}

#[test]
fn debug_does_not_print_the_secret() {
    let (file, _) = case("mnemonic");
    let secret = HsmSecret::from_file_bytes(&file).unwrap();
    let shown = format!("{secret:?} {secret:#?}");
    assert!(shown.contains("redacted"), "{shown}");
    assert!(!shown.contains("harvest"), "{shown}");
    let seed_hex = hex::encode(secret.seed_bytes());
    assert!(!shown.contains(&seed_hex[..16]), "{shown}");

    let legacy = HsmSecret::from_file_bytes(&[0x5a; 32]).unwrap();
    let shown = format!("{legacy:?}");
    assert!(shown.contains("redacted"), "{shown}");
    assert!(!shown.contains("90"), "{shown}"); // 0x5a as decimal
    assert!(!shown.to_lowercase().contains("5a5a"), "{shown}");
}
