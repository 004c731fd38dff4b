//! How long connecting a full (~4 MB) block takes: the JSON-RPC answer's hex string pulled out
//! of its JSON, hex to bytes, consensus decoding, and the follower connecting it with watches
//! that match nothing. Target: at most 20 ms from hex to connected.
//!
//! `cargo bench -p fulgur-chain --bench block_decode`

// A benchmark fails loudly on purpose.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use bitcoin::consensus::serialize;
use bitcoin::hashes::Hash;
use bitcoin::{OutPoint, ScriptBuf, Txid};
use fulgur_chain::{
    decode_block, decode_block_hex, decode_hex, encode_hex, Action, FetchedBlock, Follower,
    FollowerConfig, Input, Start,
};

const TARGET_BYTES: usize = 4_000_000;
const RUNS: usize = 15;

/// Runs `f` [`RUNS`] times; returns the fastest and the median time.
fn time<T>(mut f: impl FnMut() -> T) -> (Duration, Duration) {
    let mut times: Vec<Duration> = (0..RUNS)
        .map(|_| {
            let start = Instant::now();
            black_box(f());
            start.elapsed()
        })
        .collect();
    times.sort();
    (times[0], times[RUNS / 2])
}

fn report(what: &str, (min, median): (Duration, Duration)) {
    println!(
        "{what:<58} min {:>7.2} ms   median {:>7.2} ms",
        min.as_secs_f64() * 1e3,
        median.as_secs_f64() * 1e3
    );
}

/// A follower at the genesis, watching `n` outpoints and scripts that never match (and a
/// transaction that never confirms, if `depth`).
fn follower(n: u32, depth: bool) -> Follower {
    let genesis = bitcoin::constants::genesis_block(bitcoin::Network::Regtest);
    let mut f = Follower::new(
        Start::Tip {
            height: 0,
            hash: genesis.block_hash(),
        },
        FollowerConfig::default(),
    );
    for i in 0..n {
        f.watch_outpoint(OutPoint {
            txid: Txid::from_byte_array([0xee; 32]),
            vout: i,
        });
        f.watch_script(ScriptBuf::from_bytes(vec![0x51, (i % 256) as u8, 7]));
    }
    if depth {
        f.watch_depth(Txid::from_byte_array([0xdd; 32]), 3);
    }
    f.handle(Input::Tick).unwrap();
    f
}

/// Hex to connected: what happens to each block the backend sends.
fn connect(hex: &str, f: &mut Follower) -> usize {
    let block = decode_block_hex(hex, None).unwrap();
    let hash = block.block_hash();
    let actions = f
        .handle(Input::BlockAtHeight {
            height: 1,
            block: Some(FetchedBlock { hash, block }),
        })
        .unwrap();
    assert!(matches!(actions[0], Action::ConnectBlock { .. }));
    actions.len()
}

fn main() {
    let block = fulgur_benchkit::synthetic_block(TARGET_BYTES);
    let bytes = serialize(&block);
    let hex = encode_hex(&bytes);
    let json = format!(r#"{{"result":"{hex}","error":null,"id":7}}"#);
    println!(
        "block: {} transactions, {} bytes ({} hex characters), weight {}",
        block.txdata.len(),
        bytes.len(),
        hex.len(),
        block.weight()
    );

    report(
        "JSON-RPC answer -> hex string (serde_json)",
        time(|| {
            let v: serde_json::Value = serde_json::from_str(&json).unwrap();
            v["result"].as_str().map(str::len)
        }),
    );
    report("hex -> bytes", time(|| decode_hex(&hex).unwrap()));
    report(
        "bytes -> Block (consensus decode)",
        time(|| decode_block(&bytes, None).unwrap()),
    );
    report(
        "hex -> Block",
        time(|| decode_block_hex(&hex, None).unwrap()),
    );
    report(
        "hex -> connected, no watches",
        time(|| connect(&hex, &mut follower(0, false))),
    );
    report(
        "hex -> connected, 1000 outpoint + 1000 script watches",
        time(|| connect(&hex, &mut follower(1000, false))),
    );
    report(
        "hex -> connected, those + an unconfirmed depth watch",
        time(|| connect(&hex, &mut follower(1000, true))),
    );
    let (_, median) = time(|| connect(&hex, &mut follower(1000, false)));
    println!(
        "target: hex -> connected with no relevant transactions <= 20 ms: {}",
        if median <= Duration::from_millis(20) {
            "met"
        } else {
            "NOT met"
        }
    );
}
