//! Benchmark of the channel machine alone: HTLC add + fulfill cycles between two channel
//! machines in one thread, signatures included, without persistence (the `Persist` actions
//! are not serialised), then the same with each step's record serialised to JSON.
//!
//! Each is measured one HTLC at a time (every HTLC waits for the previous one's four
//! commitments), with 8 HTLCs pipelined (offered back to back: the first goes at once, the
//! others share the next commitment), and with 8 HTLCs per commitment (commits held while
//! the 8 are offered, then one `commit`, as a node with a commit timer sends a burst).
//!
//! `cargo bench -p fulgur-channel` prints cycles per second, by the wall clock and by the
//! CPU time of the benchmark thread (the per-core figure, which other processes competing for
//! the machine do not distort). `cargo bench -p fulgur-channel -- persistence` runs only the
//! runs whose label contains `persistence` (likewise `JSON`, and `floor` for the timing of
//! the elliptic-curve operations a cycle cannot avoid); `HTLC_CYCLES=n` sets the number
//! of cycles (for a run under a profiler or `valgrind --tool=callgrind`). Without `--bench` (as under
//! `cargo test --benches`) it runs a short smoke pass.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "benchmark driver")]

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::Instant;

use common::{OpenSpec, Pair};

/// `n` cycles, `batch` HTLCs at a time: the adds are offered back to back (the first goes out
/// at once, the rest wait for its revocation and share the next commitment), settled, then
/// fulfilled back to back and settled, as a node under load pipelines them.
fn cycles(pair: &mut Pair, n: u32, batch: u32, hold: bool) {
    if batch > 1 {
        pair.a.chm().hold_commits(hold);
        pair.b.chm().hold_commits(hold);
        let mut i = 0;
        while i < n {
            let k = batch.min(n - i);
            let mut ids = Vec::new();
            for j in i..i + k {
                let mut pre = [0u8; 32];
                pre[..4].copy_from_slice(&j.to_be_bytes());
                ids.push((pair.add(true, 1_000_000, pre), pre));
            }
            if hold {
                let acts = pair.a.chm().commit().unwrap();
                pair.a.apply(acts);
            }
            pair.settle();
            assert_eq!(Pair::incoming(&mut pair.b).len(), k as usize);
            for (id, pre) in ids {
                let acts = pair.b.chm().fulfill_htlc(id, pre).unwrap();
                pair.b.apply(acts);
            }
            if hold {
                let acts = pair.b.chm().commit().unwrap();
                pair.b.apply(acts);
            }
            pair.settle();
            pair.a.events.clear();
            pair.b.events.clear();
            i += k;
        }
        return;
    }
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

/// CPU time of this thread so far, in seconds (Linux: `/proc/thread-self/schedstat`).
fn thread_cpu_secs() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: u64 = s.split_whitespace().next()?.parse().ok()?;
    Some(ns as f64 / 1e9)
}

fn run(label: &str, persist: bool, n: u32, batch: u32, hold: bool) {
    let mut pair = Pair::normal(OpenSpec {
        funding_sat: 16_000_000,
        ..OpenSpec::default()
    });
    pair.a.persist_records = persist;
    pair.b.persist_records = persist;
    cycles(&mut pair, n / 10, batch, hold);
    let cpu_start = thread_cpu_secs();
    let start = Instant::now();
    cycles(&mut pair, n, batch, hold);
    let secs = start.elapsed().as_secs_f64();
    let cpu = match (cpu_start, thread_cpu_secs()) {
        (Some(a), Some(b)) if b > a => format!(
            "; CPU {:.3} s = {:.0} cycles/s per core",
            b - a,
            f64::from(n) / (b - a)
        ),
        _ => String::new(),
    };
    println!(
        "{label}: {n} add+fulfill cycles in {:.3} s = {:.0} cycles/s ({:.1} us per cycle){cpu}",
        secs,
        f64::from(n) / secs,
        secs * 1e6 / f64::from(n)
    );
}

/// The best of three timings of `f`, in microseconds per call.
fn time_us(n: u32, mut f: impl FnMut(usize)) -> f64 {
    let mut best = f64::MAX;
    for _ in 0..3 {
        let start = Instant::now();
        for i in 0..n as usize {
            f(i);
        }
        best = best.min(start.elapsed().as_secs_f64() * 1e6 / f64::from(n));
    }
    best
}

/// Times the elliptic-curve operations a cycle cannot do without and prints the floor they
/// put under a cycle. Per add+fulfill cycle there are four `commitment_signed` (each side
/// signs for the other after the add and after the fulfill), two of them with the HTLC's
/// signature: 6 signatures made and 6 checked; four `revoke_and_ack`, each with a new
/// per-commitment point (a constant-time multiplication of the generator) and a revealed
/// secret whose point the receiver checks; and eight sets of commitment keys (each of the
/// four commitments, by its signer and by its holder).
fn floor() {
    use fulgur_bolt3::keys;
    use secp256k1::{ecdsa::Signature, Message, PublicKey, Scalar, SecretKey, SECP256K1};

    const N: usize = 64;
    let secrets: Vec<SecretKey> = (1..=N as u8)
        .map(|i| SecretKey::from_slice(&common::sha256(&[i])).unwrap())
        .collect();
    let points: Vec<PublicKey> = secrets
        .iter()
        .map(|k| PublicKey::from_secret_key(SECP256K1, k))
        .collect();
    let msg = Message::from_digest(common::sha256(b"sighash"));
    let sigs: Vec<Signature> = secrets
        .iter()
        .map(|k| SECP256K1.sign_ecdsa(&msg, k))
        .collect();
    let at = |i: usize| (i % N, (i + 1) % N);
    let n = 2_000;
    let sign = time_us(n, |i| {
        std::hint::black_box(SECP256K1.sign_ecdsa(&msg, &secrets[i % N]));
    });
    let verify = time_us(n, |i| {
        let i = i % N;
        SECP256K1.verify_ecdsa(&msg, &sigs[i], &points[i]).unwrap();
    });
    let new_point = time_us(n, |i| {
        std::hint::black_box(PublicKey::from_secret_key(SECP256K1, &secrets[i % N]));
    });
    let check_secret = time_us(n, |i| {
        std::hint::black_box(
            keys::revealed_per_commitment_point(&secrets[i % N].secret_bytes()).unwrap(),
        );
    });
    let derive_pubkey = time_us(n, |i| {
        let (a, b) = at(i);
        std::hint::black_box(keys::derive_pubkey(&points[a], &points[b]).unwrap());
    });
    let revocation = time_us(n, |i| {
        let (a, b) = at(i);
        std::hint::black_box(
            keys::derive_revocation_pubkey_with_point_secret(&points[a], &secrets[b], &points[b])
                .unwrap(),
        );
    });
    let revocation_generic = time_us(n, |i| {
        let (a, b) = at(i);
        std::hint::black_box(keys::derive_revocation_pubkey(&points[a], &points[b]).unwrap());
    });
    let add_exp_tweak = time_us(n, |i| {
        let (a, b) = at(i);
        let t = Scalar::from_be_bytes(secrets[b].secret_bytes()).unwrap();
        std::hint::black_box(points[a].add_exp_tweak(SECP256K1, &t).unwrap());
    });
    println!(
        "primitives (us): ECDSA sign {sign:.1}, verify {verify:.1}, secret*G {new_point:.1}, \
         revealed secret*G {check_secret:.1}, derive_pubkey {derive_pubkey:.1} \
         (add_exp_tweak {add_exp_tweak:.1}), revocation pubkey {revocation:.1} \
         (generic {revocation_generic:.1})"
    );
    let signatures = 6.0 * (sign + verify);
    let points = 4.0 * (new_point + check_secret);
    let derivations = 8.0 * (3.0 * derive_pubkey + revocation);
    let essential = signatures + points;
    println!(
        "floor per cycle: 6 signatures made + 6 checked {signatures:.0} us, 4 new points + 4 \
         revealed secrets checked {points:.0} us: {essential:.0} us = {:.0} cycles/s; with \
         8 sets of commitment keys {derivations:.0} us: {:.0} us = {:.0} cycles/s",
        1e6 / essential,
        essential + derivations,
        1e6 / (essential + derivations)
    );
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let bench = args.iter().any(|a| a == "--bench");
    let filters: Vec<&String> = args.iter().filter(|a| !a.starts_with("--")).collect();
    let n = std::env::var("HTLC_CYCLES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if bench { 5_000 } else { 20 });
    for (label, persist, batch, hold) in [
        (
            "two channel machines, one HTLC at a time, no persistence",
            false,
            1,
            false,
        ),
        (
            "two channel machines, one HTLC at a time, JSON record per step",
            true,
            1,
            false,
        ),
        (
            "two channel machines, 8 HTLCs pipelined, no persistence",
            false,
            8,
            false,
        ),
        (
            "two channel machines, 8 HTLCs pipelined, JSON record per step",
            true,
            8,
            false,
        ),
        (
            "two channel machines, 8 HTLCs per commitment, no persistence",
            false,
            8,
            true,
        ),
        (
            "two channel machines, 8 HTLCs per commitment, JSON record per step",
            true,
            8,
            true,
        ),
    ] {
        if filters.is_empty() || filters.iter().any(|f| label.contains(f.as_str())) {
            run(label, persist, n, batch, hold);
        }
    }
    if bench && (filters.is_empty() || filters.iter().any(|f| f.as_str() == "floor")) {
        floor();
    }
}
