//! `signmessage` / `checkmessage` against the examples in CLN v26.06's schemas.
//!
//! CLN's documentation examples come from its test nodes, whose `hsm_secret` is the node's
//! directory name padded with zeros to 32 bytes (pyln-testing); the `signmessage` examples
//! were made by `lightning-2`.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use bitcoin::secp256k1::{PublicKey, SecretKey};
use fulgur_keys::HsmSecret;
use fulgur_wallet::message::{message_digest, MAX_MESSAGE_LEN};
use fulgur_wallet::{check_message, sign_message, zbase32, MessageError};

fn test_node_key(name: &str) -> SecretKey {
    let mut secret = name.as_bytes().to_vec();
    secret.resize(32, 0);
    HsmSecret::from_file_bytes(&secret)
        .unwrap()
        .node_secret_key()
}

#[test]
fn signmessage_examples() {
    let key = test_node_key("lightning-2");
    let examples = [
        (
            "this is a test!",
            "9ea05929890e40489edbd5fe0552d22bcffe00bbd29da4fcf93ed5d8f1973e421509071a64935231a126637e3615225ddda86d2d0926ae537d9c3be149f9b21f",
            "00",
            "d6xkysjjtr8ry1r65xk9hbk14eih99oyzxjj5j8h9r9pms8t1h9rrfejyhpgjr41ggo1ca56gak1rzq7ibs14njgi3jz58b5hfr9uco9",
        ),
        (
            "message for you",
            "8149401781108c1c2fda12d91969bfe2306afe06c387394d47a83a85a14702a16b6fcd0060693da436ff1c2b25cc470d7db68fe45d833733d8dca660a3f4d67d",
            "00",
            "d6yw1oyzoreea8bx5ejp1gmjz9tdy4z6y5baqqkpe6wdibpbehbkn45x3wygy4j7wo5x68bmrzgrqdm7s486ezcdgh37tzfgcnt9jiu7",
        ),
    ];
    let node_id = PublicKey::from_secret_key_global(&key);
    for (message, signature, recid, zbase) in examples {
        let signed = sign_message(&key, message.as_bytes()).unwrap();
        assert_eq!(signed.signature_hex(), signature);
        assert_eq!(signed.recid_hex(), recid);
        assert_eq!(signed.zbase, zbase);
        let checked = check_message(message.as_bytes(), zbase, Some(&node_id)).unwrap();
        assert_eq!(checked.pubkey, Some(node_id));
        assert!(checked.verified);
    }
}

#[test]
fn checkmessage_example_with_pubkey() {
    let pubkey: PublicKey = "03be3b0e9992153b1d5a6e1623670b6c3663f72ce6cf2e0dd39c0a373a7de5a3b7"
        .parse()
        .unwrap();
    let zbase = "d66bqz3qsku5fxtqsi37j11pci47ydxa95iusphutggz9ezaxt56neh77kxe5hyr41kwgkncgiu94p9ecxiexgpgsz8daoq4tw8kj8yx";
    let checked = check_message(b"testcase to check new rpc error", zbase, Some(&pubkey)).unwrap();
    assert_eq!(checked.pubkey, Some(pubkey));
    assert!(checked.verified);
    // The same signature over another message recovers another key: not verified.
    let other = check_message(b"testcase to check new rpc error!", zbase, Some(&pubkey)).unwrap();
    assert!(!other.verified);
    assert_ne!(other.pubkey, Some(pubkey));
}

#[test]
fn checkmessage_example_without_pubkey() {
    // Made by lightning-1 (shown redacted in the schema); without a pubkey the recovered key
    // is returned and `verified` waits for the caller's graph lookup.
    let zbase = "d6tqaeuonjhi98mmont9m4wag7gg4krg1f4txonug3h31e9h6p6k6nbwjondnj46dkyausobstnk7fhyy998bhgc1yr98dfmhb4k54d7";
    let checked = check_message(b"this is a test!", zbase, None).unwrap();
    let l1 = PublicKey::from_secret_key_global(&test_node_key("lightning-1"));
    assert_eq!(checked.pubkey, Some(l1));
    assert!(!checked.verified);
    assert_eq!(
        sign_message(&test_node_key("lightning-1"), b"this is a test!")
            .unwrap()
            .zbase,
        zbase
    );
}

#[test]
fn checkmessage_errors() {
    let key = test_node_key("lightning-2");
    let good = sign_message(&key, b"x").unwrap().zbase;
    assert_eq!(
        check_message(b"x", "not zbase!", None),
        Err(MessageError::NotZbase32)
    );
    // 103 characters: not a whole number of bytes.
    assert_eq!(
        check_message(b"x", &good[..103], None),
        Err(MessageError::NotZbase32)
    );
    let short = &good[..96];
    let err = check_message(b"x", short, None).unwrap_err();
    assert_eq!(err, MessageError::WrongLength(60));
    assert_eq!(err.to_string(), "zbase is too short");
    let long = format!("{good}yyyyyyyy");
    assert_eq!(
        check_message(b"x", &long, None).unwrap_err().to_string(),
        "zbase is too long"
    );
    // A header byte outside 31..=34.
    let mut bytes = zbase32::decode(&good).unwrap();
    bytes[0] = 35;
    assert_eq!(
        check_message(b"x", &zbase32::encode(&bytes), None),
        Err(MessageError::BadSignature)
    );
    bytes[0] = 30;
    assert_eq!(
        check_message(b"x", &zbase32::encode(&bytes), None)
            .unwrap_err()
            .to_string(),
        "cannot parse zbase signature"
    );
    // r = s = 0xff..: out of range.
    let mut bad = vec![31u8];
    bad.extend_from_slice(&[0xff; 64]);
    assert_eq!(
        check_message(b"x", &zbase32::encode(&bad), None),
        Err(MessageError::BadSignature)
    );
}

#[test]
fn message_length_limit() {
    let key = test_node_key("lightning-2");
    assert!(sign_message(&key, &vec![b'a'; MAX_MESSAGE_LEN]).is_ok());
    let err = sign_message(&key, &vec![b'a'; MAX_MESSAGE_LEN + 1]).unwrap_err();
    assert_eq!(err.to_string(), "Message must be < 64k");
    assert_eq!(err.code(), -32602);
}

#[test]
fn digest_is_double_sha256_of_prefixed_message() {
    use bitcoin::hashes::{sha256, Hash};
    let once = sha256::Hash::hash(b"Lightning Signed Message:hello");
    let twice = sha256::Hash::hash(once.as_byte_array());
    assert_eq!(message_digest(b"hello"), twice.to_byte_array());
}
