//! Benchmark of the channel machine alone: HTLC add + fulfill cycles between two channel
//! machines in one thread, signatures included, without persistence (the `Persist` actions
//! are not serialised), then the same with each step's record serialised to JSON.
//!
//! `cargo bench -p fulgur-channel` prints cycles per second. Without `--bench` (as under
//! `cargo test --benches`) it runs a short smoke pass.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "benchmark driver")]

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::Instant;

use common::{OpenSpec, Pair};

fn cycles(pair: &mut Pair, n: u32) {
    for i in 0..n {
        let mut pre = [0u8; 32];
        pre[..4].copy_from_slice(&i.to_be_bytes());
        let id = pair.add(true, 1_000_000, pre);
        pair.settle();
        let inc = Pair::incoming(&mut pair.b);
        assert_eq!(inc.len(), 1);
        let acts = pair.b.chm().fulfill_htlc(id, pre).unwrap();
        pair.b.apply(acts);
        pair.settle();
        pair.a.events.clear();
        pair.b.events.clear();
    }
}

fn run(label: &str, persist: bool, n: u32) {
    let mut pair = Pair::normal(OpenSpec {
        funding_sat: 16_000_000,
        ..OpenSpec::default()
    });
    pair.a.persist_records = persist;
    pair.b.persist_records = persist;
    cycles(&mut pair, n / 10);
    let start = Instant::now();
    cycles(&mut pair, n);
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{label}: {n} add+fulfill cycles in {:.3} s = {:.0} cycles/s ({:.1} us per cycle)",
        secs,
        f64::from(n) / secs,
        secs * 1e6 / f64::from(n)
    );
}

fn main() {
    let bench = std::env::args().any(|a| a == "--bench");
    let n = if bench { 5_000 } else { 20 };
    run("two channel machines, no persistence", false, n);
    run("two channel machines, JSON record per step", true, n);
}
