//! Micro benchmark of the BOLT 8 transport, without a benchmark framework.
//!
//! `cargo bench -p fulgur-noise` prints:
//! * handshake time per connection, both sides (keys are made beforehand;
//!   the state setup in `Initiator::new` / `Responder::new` is included),
//! * encryption, decryption and encrypt+decrypt throughput for maximal
//!   frames (65535-byte messages, the largest BOLT 8 allows).
//!
//! Everything runs on one thread; times are wall-clock from `Instant`.
//! Without `--bench` (as under `cargo test --benches`) it runs a quick smoke
//! pass only.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "benchmark driver")]

use std::hint::black_box;
use std::time::{Duration, Instant};

use fulgur_noise::{Decoder, Initiator, Responder, Transport, MAX_MESSAGE_LEN};
use secp256k1::{SecretKey, SECP256K1};

/// A deterministic valid secret key for index `i`.
fn key(i: u32, salt: u8) -> SecretKey {
    let mut bytes = [salt; 32];
    bytes[..4].copy_from_slice(&i.to_be_bytes());
    bytes[4] = 1;
    SecretKey::from_slice(&bytes).unwrap()
}

fn handshake(keys: &(SecretKey, SecretKey, SecretKey, SecretKey)) -> (Transport, Transport) {
    let (a_static, a_ephemeral, b_static, b_ephemeral) = *keys;
    let initiator = Initiator::new(a_static, b_static.public_key(SECP256K1), a_ephemeral);
    let mut responder = Responder::new(b_static, b_ephemeral);
    let act_two = responder.process_act_one(&initiator.act_one()).unwrap();
    let (act_three, a) = initiator.process_act_two(&act_two).unwrap();
    let (b, _) = responder.process_act_three(&act_three).unwrap();
    (a, b)
}

fn bench_handshake(connections: u32) -> Duration {
    let keys: Vec<_> = (0..connections)
        .map(|i| (key(i, 0x11), key(i, 0x12), key(i, 0x21), key(i, 0x22)))
        .collect();
    let start = Instant::now();
    for k in &keys {
        black_box(handshake(k));
    }
    start.elapsed() / connections
}

struct Throughput {
    encrypt: f64,
    decrypt: f64,
    round_trip: f64,
}

fn mb_per_s(bytes: usize, elapsed: Duration) -> f64 {
    bytes as f64 / elapsed.as_secs_f64() / 1e6
}

fn bench_frames(frames: usize) -> Throughput {
    // Each phase gets a fresh pair with the same keys, so nonces line up.
    let pair = || {
        let (tx, _) = Transport::from_keys([1; 32], [2; 32], [3; 32]).split();
        let decoder = Decoder::new(Transport::from_keys([1; 32], [3; 32], [2; 32]).split().1);
        (tx, decoder)
    };
    let message = vec![0x5a_u8; MAX_MESSAGE_LEN];
    let total = frames * MAX_MESSAGE_LEN;
    let mut frame = Vec::with_capacity(MAX_MESSAGE_LEN + 34);

    // Encryption alone, into one reused buffer.
    let (mut tx, _) = pair();
    let start = Instant::now();
    for _ in 0..frames {
        frame.clear();
        tx.encrypt_into(&message, &mut frame).unwrap();
        black_box(&frame);
    }
    let encrypt = mb_per_s(total, start.elapsed());

    // Decryption alone, through the stream decoder in 64 KiB reads, of a
    // wire prepared beforehand.
    let (mut tx, mut decoder) = pair();
    let mut wire = Vec::with_capacity(frames * (MAX_MESSAGE_LEN + 34));
    for _ in 0..frames {
        tx.encrypt_into(&message, &mut wire).unwrap();
    }
    let start = Instant::now();
    let mut received = 0;
    for mut chunk in wire.chunks(65536) {
        while !chunk.is_empty() {
            let used = decoder.feed(chunk);
            chunk = &chunk[used..];
            if let Some(m) = decoder.next_message().unwrap() {
                received += m.len();
                black_box(m);
            }
        }
    }
    let decrypt = mb_per_s(total, start.elapsed());
    assert_eq!(received, total);
    drop(wire);

    // Encrypt then decrypt each frame, as a connection pair would.
    let (mut tx, mut decoder) = pair();
    let start = Instant::now();
    for _ in 0..frames {
        frame.clear();
        tx.encrypt_into(&message, &mut frame).unwrap();
        assert_eq!(decoder.feed(&frame), frame.len());
        black_box(decoder.next_message().unwrap().unwrap());
    }
    let round_trip = mb_per_s(total, start.elapsed());
    Throughput {
        encrypt,
        decrypt,
        round_trip,
    }
}

fn main() {
    let full = std::env::args().any(|arg| arg == "--bench");
    let (connections, frames) = if full { (2000, 4000) } else { (20, 20) };

    // Warm up caches and CPU frequency.
    bench_handshake(connections / 10 + 1);
    bench_frames(frames / 10 + 1);

    let per_handshake = bench_handshake(connections);
    println!(
        "handshake (initiator + responder, 3 acts): {:.1} µs per connection \
         over {connections} connections (target < 1000 µs)",
        per_handshake.as_secs_f64() * 1e6
    );
    let t = bench_frames(frames);
    println!(
        "65535-byte frames x {frames}: encrypt {:.0} MB/s, decrypt (Decoder) {:.0} MB/s, \
         encrypt+decrypt {:.0} MB/s (target >= 500 MB/s)",
        t.encrypt, t.decrypt, t.round_trip
    );
    if !full {
        println!("(smoke run; use `cargo bench -p fulgur-noise` for real figures)");
    }
}
