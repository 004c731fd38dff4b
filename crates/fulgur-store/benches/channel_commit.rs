//! The durable commit of one channel step: `save_channel` of a channel record (about the
//! size of a channel with a few HTLCs in flight) with `synchronous = FULL`, one transaction
//! and one fsync per step, as the node does before a step's messages leave. Also the same
//! steps for many channels at once in one transaction, the shape of a shared commit.
//!
//! Prints the fastest, median, 90th percentile and slowest commit; never asserts on time.
//! The database is in `$TMPDIR` (else `/tmp`): the timings are that disk's.
//!
//! `cargo bench -p fulgur-store --bench channel_commit`

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    missing_docs,
    reason = "benchmark fails loudly"
)]

use std::time::{Duration, Instant};

use fulgur_store::{ChannelRow, Store};

fn row(dbid: u64, record: &str) -> ChannelRow {
    let mut channel_id = [0u8; 32];
    channel_id[..8].copy_from_slice(&dbid.to_be_bytes());
    ChannelRow {
        dbid,
        peer_id: [2; 33],
        channel_id,
        state: "CHANNELD_NORMAL".into(),
        record: record.to_string(),
        opened_height: 100,
        closed_height: None,
    }
}

fn report(label: &str, mut times: Vec<Duration>) {
    times.sort();
    let pick = |q: f64| times[((times.len() - 1) as f64 * q) as usize];
    println!(
        "{label}: min {:?}, median {:?}, p90 {:?}, max {:?} (target: one step's commit <= 2 ms)",
        times[0],
        pick(0.5),
        pick(0.9),
        times[times.len() - 1]
    );
}

fn main() {
    let bench = std::env::args().any(|a| a == "--bench");
    let n = if bench { 500 } else { 10 };
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path().join("bench.sqlite3")).unwrap();
    // ~6 KB: a channel record with a handful of HTLCs and their onions.
    let record = format!("{{\"pad\":\"{}\"}}", "ab".repeat(3000));
    for dbid in 1..=100 {
        store.save_channel(&row(dbid, &record)).unwrap();
    }
    let mut one = Vec::with_capacity(n);
    for i in 0..n {
        let r = row(1 + (i as u64 % 100), &record);
        let t = Instant::now();
        store.save_channel(&r).unwrap();
        one.push(t.elapsed());
    }
    report("one channel step per commit", one);
    let mut many = Vec::with_capacity(n / 10 + 1);
    for _ in 0..(n / 10).max(1) {
        let rows: Vec<ChannelRow> = (1..=100).map(|d| row(d, &record)).collect();
        let t = Instant::now();
        store.save_channels(&rows).unwrap();
        many.push(t.elapsed());
    }
    report("100 channels' steps in one commit", many);
}
