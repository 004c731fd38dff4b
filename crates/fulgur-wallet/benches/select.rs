//! Coin selection speed: `coinselect::fund` (what `fundpsbt` runs) over a wallet of 10,000
//! coins with random amounts (fixed seed), for a small, a medium and a large target, `all`, a
//! target the wallet cannot afford (every coin is walked), and the same with an emergency
//! reserve (`min-emergency-msat`, anchor channels). The coins are walked in the order given
//! (oldest first, as the store lists them) and, for the reserve cases, also shuffled as
//! `fulgur-node/src/funding.rs` shuffles them before selecting. Prints the median time next to
//! the issue's
//! target (coin selection for `fundpsbt` with 10,000 UTXOs: at most 20 ms); never asserts on
//! time.
//!
//! `cargo bench -p fulgur-wallet --bench select`

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    missing_docs,
    reason = "benchmark fails loudly"
)]

use fulgur_benchkit::Rng;
use std::hint::black_box;
use std::time::{Duration, Instant};

use bitcoin::hashes::Hash;
use bitcoin::{OutPoint, Txid};
use fulgur_types::{AmountSat, FeeratePerKw};
use fulgur_wallet::{fund, AddrType, Coin, FundError, FundParams, Funding, Target};

const COINS: usize = 10_000;
const RUNS: usize = 51;
/// The target for `fundpsbt` coin selection with 10,000 UTXOs.
const TARGET: Duration = Duration::from_millis(20);

/// 10,000 coins: amounts from 500 sat to 0.02 BTC (a few are uneconomic at the fee rate
/// used, so the skip path runs), P2TR and P2WPKH mixed, 0 to 999 confirmations.
fn wallet(rng: &mut Rng) -> Vec<Coin> {
    (0..COINS)
        .map(|i| Coin {
            outpoint: OutPoint {
                txid: Txid::from_byte_array(rng.bytes::<32>()),
                vout: rng.below(4) as u32,
            },
            amount: AmountSat::from_sat(500 + rng.below(2_000_000)),
            keyindex: 1 + (i as u32 % 1_000),
            addrtype: if rng.below(2) == 0 {
                AddrType::P2tr
            } else {
                AddrType::Bech32
            },
            confirmations: rng.below(1_000) as u32,
        })
        .collect()
}

/// Runs `f` [`RUNS`] times; returns the fastest, the median and the slowest time.
fn time<T>(mut f: impl FnMut() -> T) -> (Duration, Duration, Duration) {
    let mut times: Vec<Duration> = (0..RUNS)
        .map(|_| {
            let start = Instant::now();
            black_box(f());
            start.elapsed()
        })
        .collect();
    times.sort();
    (times[0], times[RUNS / 2], times[RUNS - 1])
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn describe(result: &Result<Funding, FundError>) -> String {
    match result {
        Ok(f) => format!(
            "{} inputs, change {}",
            f.inputs.len(),
            f.change
                .map_or_else(|| "none".to_string(), |c| c.to_string())
        ),
        Err(e) => format!("error {}: {e}", e.code()),
    }
}

fn main() {
    let mut rng = Rng::new(0x5eed_c01d_cafe_f00d);
    let coins = wallet(&mut rng);
    let total: u64 = coins.iter().map(|c| c.amount.sat()).sum();
    let confirmed = coins.iter().filter(|c| c.confirmations >= 1).count();
    println!(
        "wallet: {} coins, {} sat in total, {confirmed} with >= 1 confirmation",
        coins.len(),
        total
    );

    // 10 sat/vB, and a startweight of a one-output P2TR transaction (as `txprepare` passes).
    let feerate = FeeratePerKw::from_perkw(2_500);
    let startweight = 42 * 4 + 2;
    let amount = |sat: u64| Target::Amount(AmountSat::from_sat(sat));
    let reserve = AmountSat::from_sat(25_000);
    let mut shuffled = coins.clone();
    for i in (1..shuffled.len()).rev() {
        let j = rng.below(i as u64 + 1) as usize;
        shuffled.swap(i, j);
    }
    let none = AmountSat::ZERO;
    let cases: Vec<(&str, &[Coin], Target, AmountSat)> = vec![
        ("small: 10,000 sat", &coins, amount(10_000), none),
        ("medium: 0.5 BTC", &coins, amount(50_000_000), none),
        ("large: half the wallet", &coins, amount(total / 2), none),
        ("all", &coins, Target::All, none),
        (
            "cannot afford: 2x the wallet",
            &coins,
            amount(total * 2),
            none,
        ),
        (
            "medium, reserve 25,000 sat",
            &coins,
            amount(50_000_000),
            reserve,
        ),
        (
            "large, reserve 25,000 sat",
            &coins,
            amount(total / 2),
            reserve,
        ),
        ("all, reserve 25,000 sat", &coins, Target::All, reserve),
        (
            "shuffled, medium, reserve",
            &shuffled,
            amount(50_000_000),
            reserve,
        ),
        (
            "shuffled, large, reserve",
            &shuffled,
            amount(total / 2),
            reserve,
        ),
        ("shuffled, all, reserve", &shuffled, Target::All, reserve),
    ];

    println!(
        "{:<40} {:>9} {:>10} {:>9}   result",
        "coinselect::fund, 10,000 coins", "min ms", "median ms", "max ms"
    );
    let mut worst_plain = Duration::ZERO;
    for (name, coins, target, emergency_reserve) in cases {
        let params = FundParams {
            emergency_reserve,
            ..FundParams::new(target, feerate, startweight)
        };
        let result = fund(coins, None, &params);
        let (min, median, max) = time(|| fund(black_box(coins), None, black_box(&params)));
        println!(
            "{name:<40} {:>9.4} {:>10.4} {:>9.4}   {}{}",
            ms(min),
            ms(median),
            ms(max),
            describe(&result),
            if median > TARGET {
                "   <-- over the 20 ms target"
            } else {
                ""
            }
        );
        if emergency_reserve == AmountSat::ZERO {
            worst_plain = worst_plain.max(median);
        }
    }
    println!(
        "target: fundpsbt coin selection with 10,000 UTXOs <= 20 ms: worst median without an \
         emergency reserve {:.3} ms ({})",
        ms(worst_plain),
        if worst_plain <= TARGET {
            "met"
        } else {
            "NOT met"
        }
    );
}
