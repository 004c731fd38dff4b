//! BOLT 8 Appendix A test vectors, from the project's copy in
//! `tests/vectors/` (see `/work/shared/vectors/README.md` for the format).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a bad vector file must fail loudly"
)]

use fulgur_noise::{
    Act, Decoder, HandshakeError, HandshakeEvent, HandshakeStream, Initiator, Responder, Transport,
    TransportError, ACT_ONE_LEN, ACT_THREE_LEN, ACT_TWO_LEN,
};
use secp256k1::{PublicKey, SecretKey, SECP256K1};
use serde_json::Value;

fn load(name: &str) -> Value {
    let path = format!("{}/tests/vectors/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap()
}

fn bytes(value: &Value) -> Vec<u8> {
    hex::decode(value.as_str().expect("hex string")).expect("valid hex")
}

fn array<const N: usize>(value: &Value) -> [u8; N] {
    bytes(value).try_into().expect("hex of the right length")
}

fn secret(value: &Value) -> SecretKey {
    SecretKey::from_slice(&bytes(value)).unwrap()
}

fn public(value: &Value) -> PublicKey {
    PublicKey::from_slice(&bytes(value)).unwrap()
}

/// One act of a case: its number, whether we send it, and its bytes.
struct ActBytes {
    act: u64,
    send: bool,
    bytes: Vec<u8>,
}

struct Case {
    name: String,
    keys: Value,
    acts: Vec<ActBytes>,
    expected_error: Option<(String, u64, Option<u64>)>,
    expected_keys: Option<([u8; 32], [u8; 32])>,
    chaining_key: Option<[u8; 32]>,
    remote_static: Option<PublicKey>,
}

fn cases(role: &str) -> Vec<Case> {
    let file = load("bolt08-handshake.json");
    let list = file[format!("{role}_tests")].as_array().unwrap();
    list.iter()
        .map(|case| {
            assert_eq!(case["role"], role);
            let acts = case["acts"]
                .as_array()
                .unwrap()
                .iter()
                .map(|act| ActBytes {
                    act: act["act"].as_u64().unwrap(),
                    send: act["direction"] == "send",
                    bytes: bytes(&act["message_hex"]),
                })
                .collect();
            let remote_static = case["acts"]
                .as_array()
                .unwrap()
                .iter()
                .flat_map(|act| {
                    act["intermediate_values"]
                        .as_array()
                        .cloned()
                        .unwrap_or_default()
                })
                .find(|value| value["label"] == "remote_static_pubkey")
                // The "bad rs" case traces an invalid key; only valid ones
                // are compared.
                .and_then(|value| PublicKey::from_slice(&bytes(&value["value"])).ok());
            let expected_error = match &case["expected_error"] {
                Value::Null => None,
                error => Some((
                    error["code"].as_str().unwrap().to_owned(),
                    error["at_act"].as_u64().unwrap(),
                    error.get("detail").and_then(Value::as_u64),
                )),
            };
            let expected_keys = match &case["expected_transport_keys"] {
                Value::Null => None,
                keys => Some((array(&keys["sending_key"]), array(&keys["receiving_key"]))),
            };
            let chaining_key = case
                .get("final_split_hkdf")
                .map(|split| array(&split["salt_chaining_key"]));
            Case {
                name: case["name"].as_str().unwrap().to_owned(),
                keys: case["keys"].clone(),
                acts,
                expected_error,
                expected_keys,
                chaining_key,
                remote_static,
            }
        })
        .collect()
}

fn act_number(act: Act) -> u64 {
    u64::from(act.number())
}

/// Checks `error` against a vector's error code (`ACT2_BAD_VERSION` ...).
fn assert_error_matches(name: &str, error: &HandshakeError, expected: &(String, u64, Option<u64>)) {
    let (code, at_act, detail) = expected;
    assert_eq!(
        error.act().map(act_number),
        Some(*at_act),
        "{name}: wrong act in {error}"
    );
    let kind = code.split_once('_').map(|(_, kind)| kind).unwrap();
    let matches = match kind {
        "READ_FAILED" => matches!(error, HandshakeError::Truncated { .. }),
        "BAD_VERSION" => match error {
            HandshakeError::BadVersion { version, .. } => {
                detail.is_none_or(|detail| u64::from(*version) == detail)
            }
            _ => false,
        },
        "BAD_PUBKEY" => matches!(
            error,
            HandshakeError::InvalidEphemeralKey { .. } | HandshakeError::InvalidStaticKey
        ),
        "BAD_TAG" => matches!(error, HandshakeError::BadMac { .. }),
        "BAD_CIPHERTEXT" => matches!(error, HandshakeError::BadStaticKeyMac),
        other => panic!("{name}: unknown error code {other}"),
    };
    assert!(matches, "{name}: expected {code}, got {error:?} ({error})");
}

/// Checks the transport against the vector's final keys: our sending key must
/// produce what a transport built from the expected keys produces, and we
/// must read what a peer holding the expected keys sends.
fn assert_transport_keys(name: &str, transport: &mut Transport, case: &Case) {
    let (sending_key, receiving_key) = case.expected_keys.expect("success case has keys");
    let chaining_key = case
        .chaining_key
        .expect("success case has the final chaining key");
    let mut reference = Transport::from_keys(chaining_key, sending_key, receiving_key);
    let mut peer = Transport::from_keys(chaining_key, receiving_key, sending_key);
    for message in [&b"hello"[..], &[], &[0xab; 1000]] {
        assert_eq!(
            transport.encrypt(message).unwrap(),
            reference.encrypt(message).unwrap(),
            "{name}: sending key"
        );
        let frame = peer.encrypt(message).unwrap();
        let len = transport
            .decrypt_length(&frame[..18].try_into().unwrap())
            .unwrap();
        assert_eq!(usize::from(len), message.len(), "{name}: receiving key");
        assert_eq!(
            transport.decrypt_body(&frame[18..]).unwrap(),
            message,
            "{name}: receiving key"
        );
    }
}

fn check_keys_consistent(case: &Case) {
    let keys = &case.keys;
    let local = secret(&keys["local_static_privkey"]);
    assert_eq!(
        local.public_key(SECP256K1),
        public(&keys["local_static_pubkey"]),
        "{}",
        case.name
    );
    let ephemeral = secret(&keys["local_ephemeral_privkey"]);
    assert_eq!(
        ephemeral.public_key(SECP256K1),
        public(&keys["local_ephemeral_pubkey"]),
        "{}",
        case.name
    );
}

/// Runs an initiator case through the simple API.
fn run_initiator_simple(case: &Case) {
    let name = &case.name;
    let keys = &case.keys;
    let initiator = Initiator::new(
        secret(&keys["local_static_privkey"]),
        public(&keys["remote_static_pubkey"]),
        secret(&keys["local_ephemeral_privkey"]),
    );
    let [act_one, act_two, rest @ ..] = case.acts.as_slice() else {
        panic!("{name}: acts")
    };
    assert!(
        act_one.act == 1 && act_one.send && act_two.act == 2 && !act_two.send,
        "{name}"
    );
    assert_eq!(
        initiator.act_one().as_slice(),
        act_one.bytes,
        "{name}: act one"
    );

    let Ok(act_two_bytes) = <[u8; ACT_TWO_LEN]>::try_from(act_two.bytes.as_slice()) else {
        // A short read cannot be expressed with the fixed-size API; the
        // stream test covers it.
        assert_eq!(
            case.expected_error.as_ref().unwrap().0,
            "ACT2_READ_FAILED",
            "{name}"
        );
        return;
    };
    match (
        initiator.process_act_two(&act_two_bytes),
        &case.expected_error,
    ) {
        (Ok((act_three, mut transport)), None) => {
            let [act_three_expected] = rest else {
                panic!("{name}: act three missing")
            };
            assert_eq!(
                act_three.as_slice(),
                act_three_expected.bytes,
                "{name}: act three"
            );
            assert_transport_keys(name, &mut transport, case);
        }
        (Err(error), Some(expected)) => assert_error_matches(name, &error, expected),
        (Ok(_), Some(expected)) => panic!("{name}: succeeded, expected {expected:?}"),
        (Err(error), None) => panic!("{name}: {error}"),
    }
}

/// Feeds `data` to `stream` in chunks of `chunk` bytes, collecting the single
/// event it produces, checking that it stops exactly at the act's end.
fn feed_chunked(
    stream: &mut HandshakeStream,
    data: &[u8],
    chunk: usize,
) -> Result<Option<HandshakeEvent>, HandshakeError> {
    let mut event = None;
    for piece in data.chunks(chunk) {
        let progress = stream.feed(piece)?;
        assert_eq!(progress.consumed, piece.len());
        if progress.event.is_some() {
            assert!(event.is_none(), "one event per act");
            event = progress.event;
        }
    }
    Ok(event)
}

/// Runs a case of either role through the byte-stream driver, feeding each
/// act in chunks of `chunk` bytes.
fn run_stream(case: &Case, initiator: bool, chunk: usize) {
    let name = &case.name;
    let keys = &case.keys;
    let local = secret(&keys["local_static_privkey"]);
    let ephemeral = secret(&keys["local_ephemeral_privkey"]);
    let mut stream = if initiator {
        let (stream, act_one) =
            HandshakeStream::initiator(local, public(&keys["remote_static_pubkey"]), ephemeral);
        assert_eq!(act_one.as_slice(), case.acts[0].bytes, "{name}: act one");
        stream
    } else {
        HandshakeStream::responder(local, ephemeral)
    };
    let mut outcome: Result<(), HandshakeError> = Ok(());
    let mut complete = None;
    let first = usize::from(initiator);
    for (index, act) in case.acts.iter().enumerate().skip(first) {
        if act.send {
            // What we sent was checked when it was produced.
            continue;
        }
        match feed_chunked(&mut stream, &act.bytes, chunk) {
            Err(error) => {
                outcome = Err(error);
                break;
            }
            Ok(None) => {
                outcome = stream.on_eof();
                assert!(
                    outcome.is_err(),
                    "{name}: an incomplete act must not succeed"
                );
                break;
            }
            Ok(Some(HandshakeEvent::SendActTwo(act_two))) => {
                let expected = &case.acts[index + 1];
                assert!(expected.act == 2 && expected.send, "{name}");
                assert_eq!(act_two.as_slice(), expected.bytes, "{name}: act two");
            }
            Ok(Some(HandshakeEvent::Complete(done))) => complete = Some(done),
        }
    }
    match (outcome, &case.expected_error) {
        (Ok(()), None) => {
            let mut done = complete.unwrap_or_else(|| panic!("{name}: did not complete"));
            if initiator {
                let expected = &case.acts[2];
                assert_eq!(
                    done.act_three.unwrap().as_slice(),
                    expected.bytes,
                    "{name}: act three"
                );
                assert_eq!(
                    done.remote_static,
                    public(&keys["remote_static_pubkey"]),
                    "{name}"
                );
            } else {
                assert!(done.act_three.is_none());
                if let Some(remote) = case.remote_static {
                    assert_eq!(done.remote_static, remote, "{name}: remote static key");
                }
            }
            assert_transport_keys(name, &mut done.transport, case);
            assert_eq!(stream.on_eof(), Ok(()));
            assert_eq!(stream.feed(&[0]).unwrap_err(), HandshakeError::Finished);
        }
        (Err(error), Some(expected)) => {
            assert_error_matches(name, &error, expected);
            assert_eq!(
                stream.feed(&[0]).unwrap_err(),
                HandshakeError::Aborted,
                "{name}"
            );
        }
        (Ok(()), Some(expected)) => panic!("{name}: succeeded, expected {expected:?}"),
        (Err(error), None) => panic!("{name}: {error}"),
    }
}

fn run_responder_simple(case: &Case) {
    let name = &case.name;
    let keys = &case.keys;
    let mut responder = Responder::new(
        secret(&keys["local_static_privkey"]),
        secret(&keys["local_ephemeral_privkey"]),
    );
    let expected = case.expected_error.as_ref();
    let act_one = &case.acts[0];
    assert!(act_one.act == 1 && !act_one.send, "{name}");
    let Ok(act_one_bytes) = <[u8; ACT_ONE_LEN]>::try_from(act_one.bytes.as_slice()) else {
        assert_eq!(expected.unwrap().0, "ACT1_READ_FAILED", "{name}");
        return;
    };
    let act_two = match responder.process_act_one(&act_one_bytes) {
        Ok(act_two) => act_two,
        Err(error) => {
            assert_error_matches(name, &error, expected.expect("act one failed unexpectedly"));
            assert_eq!(
                responder.process_act_one(&act_one_bytes),
                Err(HandshakeError::Aborted)
            );
            return;
        }
    };
    let [_, act_two_expected, act_three] = case.acts.as_slice() else {
        panic!("{name}: acts")
    };
    assert!(
        act_two_expected.send && act_three.act == 3 && !act_three.send,
        "{name}"
    );
    assert_eq!(
        act_two.as_slice(),
        act_two_expected.bytes,
        "{name}: act two"
    );
    assert_eq!(
        responder.process_act_one(&act_one_bytes),
        Err(HandshakeError::OutOfOrder { act: Act::One }),
        "{name}: act one twice"
    );

    let Ok(act_three_bytes) = <[u8; ACT_THREE_LEN]>::try_from(act_three.bytes.as_slice()) else {
        assert_eq!(expected.unwrap().0, "ACT3_READ_FAILED", "{name}");
        return;
    };
    // The previous check failed the responder on purpose; start again.
    let mut responder = Responder::new(
        secret(&keys["local_static_privkey"]),
        secret(&keys["local_ephemeral_privkey"]),
    );
    responder.process_act_one(&act_one_bytes).unwrap();
    match (responder.process_act_three(&act_three_bytes), expected) {
        (Ok((mut transport, remote)), None) => {
            if let Some(expected_remote) = case.remote_static {
                assert_eq!(remote, expected_remote, "{name}: remote static key");
            }
            assert_transport_keys(name, &mut transport, case);
        }
        (Err(error), Some(expected)) => assert_error_matches(name, &error, expected),
        (Ok(_), Some(expected)) => panic!("{name}: succeeded, expected {expected:?}"),
        (Err(error), None) => panic!("{name}: {error}"),
    }
}

#[test]
fn initiator_vectors() {
    let cases = cases("initiator");
    assert_eq!(cases.len(), 5, "README: 5 initiator cases");
    for case in &cases {
        check_keys_consistent(case);
        run_initiator_simple(case);
        for chunk in [1, 7, 50, 66] {
            run_stream(case, true, chunk);
        }
    }
}

#[test]
fn responder_vectors() {
    let cases = cases("responder");
    assert_eq!(cases.len(), 10, "README: 10 responder cases");
    for case in &cases {
        check_keys_consistent(case);
        run_responder_simple(case);
        for chunk in [1, 7, 50, 66] {
            run_stream(case, false, chunk);
        }
    }
}

#[test]
fn error_messages_say_what_failed() {
    let show = |e: HandshakeError| e.to_string();
    assert_eq!(
        show(HandshakeError::BadVersion {
            act: Act::Two,
            version: 1
        }),
        "act 2: bad version byte 1"
    );
    assert_eq!(
        show(HandshakeError::InvalidStaticKey),
        "act 3: invalid static key"
    );
    assert_eq!(
        show(HandshakeError::InvalidEphemeralKey { act: Act::One }),
        "act 1: invalid ephemeral key"
    );
    assert_eq!(
        show(HandshakeError::BadMac { act: Act::Two }),
        "act 2: MAC check failed"
    );
    assert_eq!(
        show(HandshakeError::Truncated {
            act: Act::Three,
            got: 65
        }),
        "act 3: short read, got 65 of 66 bytes"
    );
    assert_eq!(
        TransportError::FrameTooLong { len: 70000 }.to_string(),
        "frame length 70000 exceeds 65535"
    );
}

/// The initiator's keys at the end of the vector handshake, and the peer's
/// mirror image.
fn message_transports() -> (Value, Transport, Transport) {
    let file = load("bolt08-message-encryption.json");
    let state = &file["initial_state"];
    let ck = array(&state["chaining_key"]);
    let sk = array(&state["sending_key"]);
    let rk = array(&state["receiving_key"]);
    (
        file,
        Transport::from_keys(ck, sk, rk),
        Transport::from_keys(ck, rk, sk),
    )
}

#[test]
fn message_encryption_vectors() {
    let (file, mut sender, receiver) = message_transports();
    let plaintext = bytes(&file["message_plaintext_hex"]);
    let count = file["messages_sent"].as_u64().unwrap();
    let expected: Vec<(u64, Vec<u8>)> = file["expected_outputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|out| {
            (
                out["message_index"].as_u64().unwrap(),
                bytes(&out["expected_encrypted_message_hex"]),
            )
        })
        .collect();
    let indexes: Vec<u64> = expected.iter().map(|(index, _)| *index).collect();
    assert_eq!(indexes, [0, 1, 500, 501, 1000, 1001]);

    // The file says 1001 messages, yet its last output is message 1001, the
    // 1002nd; encrypt through the highest index given.
    let last = count.max(*indexes.last().unwrap());
    let (_, receiver) = receiver.split();
    let mut decoder = Decoder::new(receiver);
    let mut checked = 0;
    for index in 0..=last {
        let frame = sender.encrypt(&plaintext).unwrap();
        if let Some((_, want)) = expected.iter().find(|(i, _)| *i == index) {
            assert_eq!(hex::encode(&frame), hex::encode(want), "message {index}");
            checked += 1;
        }
        assert_eq!(decoder.feed(&frame), frame.len());
        assert_eq!(
            decoder.next_message().unwrap().unwrap(),
            plaintext,
            "message {index}"
        );
    }
    assert_eq!(checked, 6);
}

#[test]
fn message_encryption_trace_and_rotation() {
    let (file, mut sender, _) = message_transports();
    // The trace's first four encryptions are the first two frames.
    let trace = file["trace_of_first_two_messages"].as_array().unwrap();
    let mut wire = Vec::new();
    for _ in 0..2 {
        wire.extend(sender.encrypt(b"hello").unwrap());
    }
    let traced: Vec<u8> = trace
        .iter()
        .flat_map(|step| bytes(&step["ciphertext_with_tag"]))
        .collect();
    assert_eq!(wire, traced);

    let (_, mut sender, mut receiver) = message_transports();
    // Reading the vector's frames with the length/body API, across both
    // rotations: frame 500 only decrypts with the rotated key.
    let expected = file["expected_outputs"].as_array().unwrap();
    let mut next = 0;
    for out in expected {
        let index = out["message_index"].as_u64().unwrap();
        let frame = bytes(&out["expected_encrypted_message_hex"]);
        while next < index {
            let skipped = sender_frame(&mut sender);
            read_frame(&mut receiver, &skipped);
            next += 1;
        }
        // Keep the sender in step with the receiver.
        assert_eq!(sender_frame(&mut sender), frame);
        assert_eq!(read_frame(&mut receiver, &frame), b"hello");
        next += 1;
    }
    let rotations = file["key_rotations"].as_array().unwrap();
    assert_eq!(rotations.len(), 2);
}

fn sender_frame(sender: &mut Transport) -> Vec<u8> {
    sender.encrypt(b"hello").unwrap()
}

fn read_frame(receiver: &mut Transport, frame: &[u8]) -> Vec<u8> {
    let len = receiver
        .decrypt_length(&frame[..18].try_into().unwrap())
        .unwrap();
    assert_eq!(usize::from(len) + 18 + 16, frame.len());
    receiver.decrypt_body(&frame[18..]).unwrap()
}
