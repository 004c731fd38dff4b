//! Property tests: random handshakes and traffic, hostile input to the
//! responder and the decoder, truncated and tampered frames.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code")]

use fulgur_noise::{
    Act, Decoder, Decryptor, Encryptor, HandshakeError, HandshakeStream, Initiator, Responder,
    Transport, TransportError, ACT_ONE_LEN, ACT_THREE_LEN, KEY_ROTATION_INTERVAL,
    LENGTH_HEADER_LEN, MAX_FRAME_LEN, MAX_MESSAGE_LEN,
};
use proptest::prelude::*;
use secp256k1::{SecretKey, SECP256K1};

fn secret_key() -> impl Strategy<Value = SecretKey> {
    any::<[u8; 32]>().prop_filter_map("not a valid secret key", |b| SecretKey::from_slice(&b).ok())
}

/// Static and ephemeral keys for both sides.
#[derive(Debug, Clone)]
struct Keys {
    initiator_static: SecretKey,
    initiator_ephemeral: SecretKey,
    responder_static: SecretKey,
    responder_ephemeral: SecretKey,
}

fn keys() -> impl Strategy<Value = Keys> {
    (secret_key(), secret_key(), secret_key(), secret_key()).prop_map(|(a, b, c, d)| Keys {
        initiator_static: a,
        initiator_ephemeral: b,
        responder_static: c,
        responder_ephemeral: d,
    })
}

fn handshake(keys: &Keys) -> (Transport, Transport) {
    let responder_id = keys.responder_static.public_key(SECP256K1);
    let initiator = Initiator::new(
        keys.initiator_static,
        responder_id,
        keys.initiator_ephemeral,
    );
    let mut responder = Responder::new(keys.responder_static, keys.responder_ephemeral);
    let act_two = responder.process_act_one(&initiator.act_one()).unwrap();
    let (act_three, initiator_transport) = initiator.process_act_two(&act_two).unwrap();
    let (responder_transport, initiator_id) = responder.process_act_three(&act_three).unwrap();
    assert_eq!(initiator_id, keys.initiator_static.public_key(SECP256K1));
    (initiator_transport, responder_transport)
}

/// A deterministic message body of `len` bytes, distinct per `tag`.
fn body(len: usize, tag: u32) -> Vec<u8> {
    let mut out = vec![tag as u8; len];
    let tag = tag.to_le_bytes();
    let head = len.min(tag.len());
    out[..head].copy_from_slice(&tag[..head]);
    if let Some(last) = out.last_mut() {
        *last ^= 0xa5;
    }
    out
}

/// Feeds `wire` to `decoder` in chunks of the given sizes (cycled), returning
/// every message.
fn decode_chunked(decoder: &mut Decoder, wire: &[u8], chunks: &[usize]) -> Vec<Vec<u8>> {
    let mut messages = Vec::new();
    let mut input = wire;
    let mut sizes = chunks.iter().copied().cycle();
    while !input.is_empty() {
        let size = sizes.next().unwrap_or(1).clamp(1, input.len());
        let mut piece = &input[..size];
        input = &input[size..];
        while !piece.is_empty() {
            let used = decoder.feed(piece);
            piece = &piece[used..];
            assert!(decoder.buffered() <= MAX_FRAME_LEN);
            if let Some(message) = decoder.next_message().unwrap() {
                messages.push(message);
            } else {
                assert!(piece.is_empty(), "bytes left over without a message");
            }
        }
    }
    messages
}

fn read_with_decryptor(rx: &mut Decryptor, frame: &[u8]) -> Result<Vec<u8>, TransportError> {
    let header: [u8; LENGTH_HEADER_LEN] = frame[..LENGTH_HEADER_LEN].try_into().unwrap();
    let len = rx.decrypt_length(&header)?;
    assert_eq!(usize::from(len) + LENGTH_HEADER_LEN + 16, frame.len());
    rx.decrypt_body(&frame[LENGTH_HEADER_LEN..])
}

fn message_len() -> impl Strategy<Value = usize> {
    prop_oneof![
        200 => 0usize..64,
        20 => 64usize..2048,
        1 => (MAX_MESSAGE_LEN - 16)..=MAX_MESSAGE_LEN,
    ]
}

proptest! {
    // ChaCha20 runs unoptimized in debug builds; keep the traffic volume modest.
    #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]

    /// A handshake with random keys, then random traffic in both directions,
    /// long enough to cross key rotations (every 500 messages) in most cases.
    #[test]
    fn random_handshake_then_traffic_round_trips(
        keys in keys(),
        traffic in prop::collection::vec((any::<bool>(), message_len()), 0..2400),
        chunks in prop::collection::vec(1usize..4000, 1..8),
    ) {
        let (initiator, responder) = handshake(&keys);
        let (mut a_tx, a_rx) = initiator.split();
        let (mut b_tx, mut b_rx) = responder.split();
        let mut a_decoder = Decoder::new(a_rx);

        // Initiator to responder: one wire buffer read with the length/body
        // API. Responder to initiator: a wire read by the decoder in chunks.
        let mut to_initiator = Vec::new();
        let mut expected_at_initiator = Vec::new();
        for (index, (from_initiator, len)) in traffic.iter().enumerate() {
            let message = body(*len, index as u32);
            if *from_initiator {
                let frame = a_tx.encrypt(&message).unwrap();
                prop_assert_eq!(frame.len(), len + 34);
                prop_assert_eq!(read_with_decryptor(&mut b_rx, &frame).unwrap(), message);
            } else {
                b_tx.encrypt_into(&message, &mut to_initiator).unwrap();
                expected_at_initiator.push(message);
            }
        }
        let received = decode_chunked(&mut a_decoder, &to_initiator, &chunks);
        prop_assert_eq!(received, expected_at_initiator);
        prop_assert_eq!(a_decoder.bytes_needed(), LENGTH_HEADER_LEN);
    }

    /// Random act one bytes never panic and never pass: a valid MAC cannot be
    /// forged without the responder's static key.
    #[test]
    fn responder_rejects_random_act_one(keys in keys(), act in any::<[u8; ACT_ONE_LEN]>()) {
        let mut responder = Responder::new(keys.responder_static, keys.responder_ephemeral);
        prop_assert!(responder.process_act_one(&act).is_err());
        prop_assert_eq!(responder.process_act_one(&act), Err(HandshakeError::Aborted));
    }

    /// A genuine act one with any byte changed is refused with the error for
    /// the field that was changed.
    #[test]
    fn responder_rejects_mutated_act_one(
        keys in keys(),
        position in 0..ACT_ONE_LEN,
        flip in 1u8..=255,
    ) {
        let responder_id = keys.responder_static.public_key(SECP256K1);
        let initiator =
            Initiator::new(keys.initiator_static, responder_id, keys.initiator_ephemeral);
        let mut act = initiator.act_one();
        act[position] ^= flip;
        let mut responder = Responder::new(keys.responder_static, keys.responder_ephemeral);
        let error = responder.process_act_one(&act).unwrap_err();
        match position {
            0 => prop_assert_eq!(
                error,
                HandshakeError::BadVersion { act: Act::One, version: flip }
            ),
            1..=33 => prop_assert!(matches!(
                error,
                HandshakeError::InvalidEphemeralKey { .. } | HandshakeError::BadMac { .. }
            ), "{error}"),
            _ => prop_assert_eq!(error, HandshakeError::BadMac { act: Act::One }),
        }
    }

    /// Act three with random bytes, or a genuine act three with any byte
    /// changed, is refused and never panics.
    #[test]
    fn responder_rejects_bad_act_three(
        keys in keys(),
        random in any::<[u8; ACT_THREE_LEN]>(),
        position in 0..ACT_THREE_LEN,
        flip in 1u8..=255,
    ) {
        let responder_id = keys.responder_static.public_key(SECP256K1);
        let start = || {
            let initiator =
                Initiator::new(keys.initiator_static, responder_id, keys.initiator_ephemeral);
            let mut responder = Responder::new(keys.responder_static, keys.responder_ephemeral);
            let act_two = responder.process_act_one(&initiator.act_one()).unwrap();
            let (act_three, _) = initiator.process_act_two(&act_two).unwrap();
            (responder, act_three)
        };
        let (responder, _) = start();
        prop_assert!(responder.process_act_three(&random).is_err());

        let (responder, mut act_three) = start();
        act_three[position] ^= flip;
        let error = responder.process_act_three(&act_three).unwrap_err();
        match position {
            0 => prop_assert_eq!(
                error,
                HandshakeError::BadVersion { act: Act::Three, version: flip }
            ),
            1..=49 => prop_assert_eq!(error, HandshakeError::BadStaticKeyMac),
            _ => prop_assert_eq!(error, HandshakeError::BadMac { act: Act::Three }),
        }
    }

    /// Random bytes fed in random chunks to the byte-stream responder never
    /// panic, are taken at most one act at a time, and fail the handshake.
    #[test]
    fn stream_responder_survives_random_bytes(
        keys in keys(),
        noise in prop::collection::vec(any::<u8>(), 0..200),
        chunk in 1usize..80,
    ) {
        let mut stream =
            HandshakeStream::responder(keys.responder_static, keys.responder_ephemeral);
        let mut failed = None;
        for piece in noise.chunks(chunk) {
            match stream.feed(piece) {
                Ok(progress) => {
                    prop_assert!(progress.consumed <= piece.len());
                    prop_assert!(progress.event.is_none(), "random bytes passed act one");
                    prop_assert!(stream.bytes_needed() <= ACT_ONE_LEN);
                }
                Err(error) if failed.is_some() => prop_assert_eq!(error, HandshakeError::Aborted),
                Err(error) => failed = Some(error),
            }
        }
        prop_assert_eq!(failed.is_some(), noise.len() >= ACT_ONE_LEN);
        if failed.is_none() {
            let truncated = HandshakeError::Truncated { act: Act::One, got: noise.len() };
            prop_assert_eq!(stream.on_eof(), Err(truncated));
        }
    }

    /// Random bytes fed to a decoder never panic, never buffer more than one
    /// frame, never yield a message, and the first error poisons it.
    #[test]
    fn decoder_survives_random_bytes(
        keys in keys(),
        noise in prop::collection::vec(any::<u8>(), 0..300),
        chunks in prop::collection::vec(1usize..40, 1..6),
    ) {
        let (_, responder) = handshake(&keys);
        let (_, rx) = responder.split();
        let mut decoder = Decoder::new(rx);
        let mut failed = false;
        let mut input = &noise[..];
        let mut sizes = chunks.iter().copied().cycle();
        while !input.is_empty() {
            let size = sizes.next().unwrap_or(1).min(input.len());
            let used = decoder.feed(&input[..size]);
            prop_assert!(used <= size);
            prop_assert!(decoder.buffered() <= MAX_FRAME_LEN);
            // A failed decoder takes nothing more; skip the chunk.
            input = &input[if failed { size } else { used }..];
            match decoder.next_message() {
                Ok(None) => prop_assert!(!failed),
                Ok(Some(_)) => prop_assert!(false, "random bytes decrypted"),
                Err(error) if failed => prop_assert_eq!(error, TransportError::Poisoned),
                Err(error) => {
                    prop_assert_eq!(error, TransportError::LengthMac);
                    failed = true;
                }
            }
        }
        prop_assert_eq!(failed, noise.len() >= LENGTH_HEADER_LEN);
    }

    /// Any strict prefix of a frame, in any chunking, is "incomplete", never
    /// an error; the rest of the frame then completes the message.
    #[test]
    fn truncated_frame_is_incomplete(
        keys in keys(),
        len in message_len(),
        cut_permille in 0usize..1000,
        chunks in prop::collection::vec(1usize..5000, 1..6),
    ) {
        let (mut initiator, responder) = handshake(&keys);
        let (_, rx) = responder.split();
        let message = body(len, 7);
        let frame = initiator.encrypt(&message).unwrap();
        let cut = frame.len() * cut_permille / 1000;
        let mut decoder = Decoder::new(rx);
        prop_assert!(decode_chunked(&mut decoder, &frame[..cut], &chunks).is_empty());
        prop_assert_eq!(decoder.next_message(), Ok(None));
        prop_assert_eq!(decoder.buffered(), cut);
        prop_assert_eq!(decoder.bytes_needed() > 0, true);
        let rest = decode_chunked(&mut decoder, &frame[cut..], &chunks);
        prop_assert_eq!(rest, vec![message]);
    }

    /// A single flipped bit anywhere in a frame is a MAC error, from the
    /// decoder and from the length/body API, and both then refuse to go on.
    #[test]
    fn flipped_bit_is_a_mac_error(
        keys in keys(),
        len in message_len(),
        bit in any::<prop::sample::Index>(),
    ) {
        let (mut initiator, responder) = handshake(&keys);
        let (_, mut rx) = responder.split();
        let message = body(len, 9);
        let frame = initiator.encrypt(&message).unwrap();
        let next = initiator.encrypt(b"next").unwrap();
        let bit = bit.index(frame.len() * 8);
        let mut tampered = frame.clone();
        tampered[bit / 8] ^= 1 << (bit % 8);
        let expected = if bit / 8 < LENGTH_HEADER_LEN {
            TransportError::LengthMac
        } else {
            TransportError::BodyMac
        };

        // Length/body API.
        let (_, rx2) = handshake(&keys).1.split();
        let header: [u8; LENGTH_HEADER_LEN] = tampered[..LENGTH_HEADER_LEN].try_into().unwrap();
        let error = match rx.decrypt_length(&header) {
            Err(error) => error,
            Ok(_) => rx.decrypt_body(&tampered[LENGTH_HEADER_LEN..]).unwrap_err(),
        };
        prop_assert_eq!(&error, &expected);
        prop_assert!(rx.is_poisoned());
        let header: [u8; LENGTH_HEADER_LEN] = next[..LENGTH_HEADER_LEN].try_into().unwrap();
        prop_assert_eq!(rx.decrypt_length(&header), Err(TransportError::Poisoned));

        // Decoder.
        let mut decoder = Decoder::new(rx2);
        let used = decoder.feed(&tampered);
        prop_assert!(used <= tampered.len());
        prop_assert_eq!(decoder.next_message(), Err(expected));
        prop_assert_eq!(decoder.feed(&next), 0);
        prop_assert_eq!(decoder.next_message(), Err(TransportError::Poisoned));
        prop_assert!(decoder.is_poisoned());
    }
}

#[test]
fn key_rotation_every_thousand_nonces_in_both_directions() {
    let keys = |b: u8| SecretKey::from_slice(&[b; 32]).unwrap();
    let keys = Keys {
        initiator_static: keys(1),
        initiator_ephemeral: keys(2),
        responder_static: keys(3),
        responder_ephemeral: keys(4),
    };
    let (mut a, mut b) = handshake(&keys);
    // Two full rotations and a bit, unevenly in each direction.
    let rounds = 3 * KEY_ROTATION_INTERVAL as usize / 2 + 7;
    for i in 0..rounds {
        let m = body(i % 300, i as u32);
        let frame = a.encrypt(&m).unwrap();
        let len = b.decrypt_length(&frame[..18].try_into().unwrap()).unwrap();
        assert_eq!(usize::from(len), m.len());
        assert_eq!(b.decrypt_body(&frame[18..]).unwrap(), m);
        if i % 3 == 0 {
            let frame = b.encrypt(&m).unwrap();
            a.decrypt_length(&frame[..18].try_into().unwrap()).unwrap();
            assert_eq!(a.decrypt_body(&frame[18..]).unwrap(), m);
        }
    }
}

#[test]
fn oversized_message_is_refused_without_using_a_nonce() {
    let mut a = Transport::from_keys([1; 32], [2; 32], [3; 32]);
    let (_, rx) = Transport::from_keys([1; 32], [3; 32], [2; 32]).split();
    let too_big = vec![0u8; MAX_MESSAGE_LEN + 1];
    assert_eq!(
        a.encrypt(&too_big),
        Err(TransportError::FrameTooLong { len: 65536 })
    );
    let mut out = vec![9];
    assert_eq!(
        a.encrypt_into(&vec![0; 70000], &mut out),
        Err(TransportError::FrameTooLong { len: 70000 })
    );
    assert_eq!(out, [9]);
    let largest = vec![0x5a; MAX_MESSAGE_LEN];
    let frame = a.encrypt(&largest).unwrap();
    assert_eq!(frame.len(), MAX_FRAME_LEN);
    let mut decoder = Decoder::new(rx);
    assert_eq!(decoder.feed(&frame), MAX_FRAME_LEN);
    assert_eq!(decoder.next_message().unwrap().unwrap(), largest);
}

#[test]
fn decryptor_refuses_out_of_order_use_and_stays_refused() {
    let mut a = Transport::from_keys([1; 32], [2; 32], [3; 32]);
    let frame = a.encrypt(b"abc").unwrap();
    let header: [u8; 18] = frame[..18].try_into().unwrap();

    let (_, mut rx) = Transport::from_keys([1; 32], [3; 32], [2; 32]).split();
    assert_eq!(
        rx.decrypt_body(&frame[18..]),
        Err(TransportError::BodyWithoutLength)
    );
    assert_eq!(rx.decrypt_length(&header), Err(TransportError::Poisoned));

    let (_, mut rx) = Transport::from_keys([1; 32], [3; 32], [2; 32]).split();
    assert_eq!(rx.decrypt_length(&header), Ok(3));
    assert_eq!(rx.pending_body_len(), Some(3));
    assert_eq!(
        rx.decrypt_length(&header),
        Err(TransportError::LengthWithoutBody { len: 3 })
    );
    assert_eq!(rx.decrypt_body(&frame[18..]), Err(TransportError::Poisoned));

    let (_, mut rx) = Transport::from_keys([1; 32], [3; 32], [2; 32]).split();
    rx.decrypt_length(&header).unwrap();
    assert_eq!(
        rx.decrypt_body(&frame[18..frame.len() - 1]),
        Err(TransportError::BodyLength {
            expected: 19,
            got: 18
        })
    );
    assert!(rx.is_poisoned());
}

#[test]
fn handshake_misuse_is_refused() {
    let key = |b: u8| SecretKey::from_slice(&[b; 32]).unwrap();
    let responder = Responder::new(key(3), key(4));
    assert_eq!(
        responder
            .process_act_three(&[0; ACT_THREE_LEN])
            .unwrap_err(),
        HandshakeError::OutOfOrder { act: Act::Three }
    );
    let initiator = Initiator::new(key(1), key(3).public_key(SECP256K1), key(2));
    assert_eq!(initiator.remote_static(), key(3).public_key(SECP256K1));
    // Talking to the wrong node: act one's MAC fails at the responder.
    let mut wrong = Responder::new(key(5), key(4));
    assert_eq!(
        wrong.process_act_one(&initiator.act_one()),
        Err(HandshakeError::BadMac { act: Act::One })
    );
}

#[test]
fn halves_can_move_to_other_threads() {
    fn assert_send<T: Send + Sync + 'static>() {}
    assert_send::<Encryptor>();
    assert_send::<Decryptor>();
    assert_send::<Decoder>();
    assert_send::<Transport>();
    assert_send::<Initiator>();
    assert_send::<Responder>();
}
