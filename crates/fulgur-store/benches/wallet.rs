//! The wallet's database with 10,000 UTXOs: `listfunds` (the query and the JSON it answers
//! with), the coins offered to `fundpsbt`, `fundpsbt`'s select-and-reserve with CLN's coin
//! selection, and connecting a block that holds nothing of ours (its database part, with
//! `synchronous = FULL`, so one fsync per block), plus the whole per-block path for a ~4 MB
//! block: hex to `Block`, wallet scan, `connect_block`.
//!
//! Prints the fastest, median, 90th percentile and slowest run next to the targets; it
//! never asserts on time. The database is in a temporary directory (`$TMPDIR`, else `/tmp`):
//! the commit timings are those of that disk.
//!
//! `cargo bench -p fulgur-store --bench wallet`

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    missing_docs,
    reason = "benchmark fails loudly"
)]

use fulgur_benchkit::Rng;
use std::collections::HashSet;
use std::hint::black_box;
use std::io::Write;
use std::time::{Duration, Instant};

use bitcoin::consensus::serialize;
use bitcoin::hashes::Hash;
use bitcoin::{Amount, BlockHash, OutPoint, ScriptBuf, Txid};
use fulgur_chain::{decode_block, decode_block_hex, encode_hex};
use fulgur_keys::HsmSecret;
use fulgur_store::{AvailableOutput, BlockConnect, NewOutput, OutputFilter, Store};
use fulgur_types::{AmountSat, FeeratePerKw, Network};
use fulgur_wallet::{fund, Coin, FundError, FundParams, Target};
use fulgur_wallet::{scan_block, ScriptIndex, WalletKeys};

const BLOCKS: u32 = 100;
const OUTPUTS_PER_BLOCK: u32 = 100;
/// Distinct wallet keys the 10,000 outputs pay to (both address types are issued per key).
const KEYS: u32 = 1_000;
/// The node's look-ahead (`fulgur_node::onchain::LOOKAHEAD`).
const LOOKAHEAD: u32 = 100;
/// CLN's default `reserve` for `fundpsbt` (blocks).
const RESERVE_BLOCKS: u32 = 72;
const BLOCK_BYTES: usize = 4_000_000;

/// Times of the runs of one measurement.
struct Stats {
    sorted: Vec<Duration>,
}

impl Stats {
    fn new(mut times: Vec<Duration>) -> Stats {
        times.sort();
        Stats { sorted: times }
    }

    fn median(&self) -> Duration {
        self.sorted[self.sorted.len() / 2]
    }

    fn p90(&self) -> Duration {
        self.sorted[(self.sorted.len() * 9 / 10).min(self.sorted.len() - 1)]
    }
}

/// Runs `f` `runs` times.
fn time<T>(runs: usize, mut f: impl FnMut() -> T) -> Stats {
    Stats::new(
        (0..runs)
            .map(|_| {
                let start = Instant::now();
                black_box(f());
                start.elapsed()
            })
            .collect(),
    )
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn report(what: &str, s: &Stats) {
    println!(
        "  {what:<56} min {:>8.3}  median {:>8.3}  p90 {:>8.3}  max {:>8.3} ms  ({} runs)",
        ms(s.sorted[0]),
        ms(s.median()),
        ms(s.p90()),
        ms(s.sorted[s.sorted.len() - 1]),
        s.sorted.len()
    );
}

fn verdict(what: &str, median: Duration, target_ms: u64) {
    let target = Duration::from_millis(target_ms);
    println!(
        "TARGET {what} <= {target_ms} ms: median {:.3} ms -> {}",
        ms(median),
        if median <= target { "met" } else { "NOT met" }
    );
}

/// A block hash for `height` (the stored chain is synthetic; only the linkage is checked).
fn hash_at(height: u32) -> BlockHash {
    let mut h = [0xb1u8; 32];
    h[..4].copy_from_slice(&height.to_le_bytes());
    BlockHash::from_byte_array(h)
}

/// Blocks 1..=100 with 100 of our outputs each (one transaction each, P2WPKH and P2TR scripts
/// of 1,000 real wallet keys, 500 sat to 0.02 BTC).
fn fill(store: &mut Store, keys: &WalletKeys, rng: &mut Rng) {
    let scripts: Vec<(u32, fulgur_wallet::AddrType, ScriptBuf)> = (1..=KEYS)
        .map(|k| {
            let t = if k % 2 == 0 {
                fulgur_wallet::AddrType::P2tr
            } else {
                fulgur_wallet::AddrType::Bech32
            };
            (k, t, keys.script_pubkey(k, t).unwrap())
        })
        .collect();
    let mut n = 0usize;
    for height in 1..=BLOCKS {
        let mut new_outputs = Vec::new();
        let mut transactions = Vec::new();
        for i in 0..OUTPUTS_PER_BLOCK {
            let txid = Txid::from_byte_array(rng.bytes::<32>());
            let (keyindex, t, script) = &scripts[n % scripts.len()];
            n += 1;
            new_outputs.push(NewOutput {
                outpoint: OutPoint::new(txid, rng.below(3) as u32),
                amount: Amount::from_sat(500 + rng.below(2_000_000)),
                script_pubkey: script.clone(),
                keyindex: *keyindex,
                addrtype: *t,
                is_change: false,
                is_coinbase: false,
            });
            // A one-input, two-output segwit transaction is about 222 bytes.
            transactions.push((txid, rng.fill(222), 1 + i));
        }
        store
            .connect_block(&BlockConnect {
                height,
                hash: hash_at(height),
                prev_hash: hash_at(height - 1),
                new_outputs,
                spends: Vec::new(),
                transactions,
            })
            .unwrap();
    }
}

/// The coins as `fundpsbt` hands them to `coinselect::fund`.
fn coins(available: &[AvailableOutput], height: u32) -> Vec<Coin> {
    available
        .iter()
        .map(|o| Coin {
            outpoint: o.outpoint,
            amount: AmountSat::from_sat(o.amount.to_sat()),
            keyindex: o.keyindex,
            addrtype: o.addrtype,
            confirmations: o.confirmations(height),
        })
        .collect()
}

/// splitmix64, as `fulgur-node/src/funding.rs` uses to shuffle the coins.
fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// `fundpsbt`'s selection as `fulgur-node/src/funding.rs` (`choose`) runs it inside
/// `select_and_reserve`: the offered coins as `Coin`s, shuffled (Fisher–Yates), then CLN's
/// coin selection.
fn select(
    available: &[AvailableOutput],
    height: u32,
    params: &FundParams,
    seed: u64,
) -> Result<Vec<OutPoint>, FundError> {
    let mut coins = coins(available, height);
    let mut state = seed;
    for i in (1..coins.len()).rev() {
        let j = (splitmix(&mut state) % (i as u64 + 1)) as usize;
        coins.swap(i, j);
    }
    let funding = fund(&coins, None, params)?;
    Ok(funding.inputs.iter().map(|c| c.outpoint).collect())
}

/// The database part of a block with nothing of ours.
fn empty_connect(height: u32) -> BlockConnect {
    BlockConnect {
        height,
        hash: hash_at(height),
        prev_hash: hash_at(height - 1),
        new_outputs: Vec::new(),
        spends: Vec::new(),
        transactions: Vec::new(),
    }
}

/// fsync of a 4 KiB append in `dir`: the disk's floor for one durable commit.
fn fsync_floor(dir: &std::path::Path) -> Stats {
    let mut f = std::fs::File::create(dir.join("fsync-probe")).unwrap();
    let page = [0x5au8; 4096];
    time(100, || {
        f.write_all(&page).unwrap();
        f.sync_all().unwrap();
    })
}

/// What reserving all 10,000 coins costs in SQL alone, written three ways, each in a
/// transaction that is rolled back (so no fsync): one `UPDATE` per coin by `(txid, outnum)` as
/// `select_and_reserve` does (`set_reserved_til` in `src/coins.rs`), one per coin by `rowid`,
/// and a single `UPDATE ... WHERE rowid IN (SELECT value FROM json_each(?))`. Uses its own
/// connection on the file; not part of the store's API.
fn reservation_strategies(path: &std::path::Path, height: u32) {
    use rusqlite::params;
    let mut conn = rusqlite::Connection::open(path).unwrap();
    conn.busy_timeout(Duration::from_secs(30)).unwrap();
    let rows: Vec<(i64, [u8; 32], u32)> = {
        let mut stmt = conn
            .prepare("SELECT rowid, txid, outnum FROM outputs ORDER BY rowid")
            .unwrap();
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap();
        rows.collect::<Result<_, _>>().unwrap()
    };
    let until = height + RESERVE_BLOCKS;
    println!(
        "  SQL alone, reserving {} coins (rolled back, no fsync):",
        rows.len()
    );
    let runs = 11;
    let by_outpoint = time(runs, || {
        let tx = conn.transaction().unwrap();
        for (_, txid, outnum) in &rows {
            let mut stmt = tx
                .prepare_cached(
                    "UPDATE outputs SET reserved_til = ?1 WHERE txid = ?2 AND outnum = ?3",
                )
                .unwrap();
            stmt.execute(params![until, txid, outnum]).unwrap();
        }
        tx.rollback().unwrap();
    });
    report(
        "    UPDATE per coin by (txid, outnum) (as today)",
        &by_outpoint,
    );
    let by_rowid = time(runs, || {
        let tx = conn.transaction().unwrap();
        {
            let mut stmt = tx
                .prepare_cached("UPDATE outputs SET reserved_til = ?1 WHERE rowid = ?2")
                .unwrap();
            for (rowid, _, _) in &rows {
                stmt.execute(params![until, rowid]).unwrap();
            }
        }
        tx.rollback().unwrap();
    });
    report(
        "    UPDATE per coin by rowid, one prepared statement",
        &by_rowid,
    );
    let one_statement = time(runs, || {
        let tx = conn.transaction().unwrap();
        let mut list = String::with_capacity(rows.len() * 7);
        list.push('[');
        for (i, (rowid, _, _)) in rows.iter().enumerate() {
            if i > 0 {
                list.push(',');
            }
            list.push_str(&rowid.to_string());
        }
        list.push(']');
        let n = tx
            .execute(
                "UPDATE outputs SET reserved_til = ?1
                 WHERE rowid IN (SELECT value FROM json_each(?2))",
                params![until, list],
            )
            .unwrap();
        assert_eq!(n, rows.len());
        tx.rollback().unwrap();
    });
    report(
        "    one UPDATE ... WHERE rowid IN json_each(?)",
        &one_statement,
    );
}

fn main() {
    let mut rng = Rng::new(0x5eed_f00d_0bad_cafe);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(fulgur_store::DB_FILENAME);
    let mut store = Store::open(&path).unwrap();
    let secret = HsmSecret::from_file_bytes(&[0x11; 32]).unwrap();
    let keys = WalletKeys::from_hsm_secret(&secret, Network::Bitcoin);

    let start = Instant::now();
    fill(&mut store, &keys, &mut rng);
    let fill_time = start.elapsed();
    let mut height = BLOCKS;
    let utxos = store.outputs(OutputFilter::Unspent, height).unwrap();
    let total: u64 = utxos.iter().map(|o| o.amount.to_sat()).sum();
    println!(
        "database {} ({}): {} unspent outputs, {total} sat, in {BLOCKS} blocks of \
         {OUTPUTS_PER_BLOCK}; filled in {:.0} ms ({:.2} ms per 100-output block)",
        path.display(),
        std::fs::canonicalize(dir.path()).unwrap().display(),
        utxos.len(),
        ms(fill_time),
        ms(fill_time) / f64::from(BLOCKS),
    );
    assert_eq!(utxos.len(), (BLOCKS * OUTPUTS_PER_BLOCK) as usize);
    drop(utxos);

    println!("disk:");
    let floor = fsync_floor(dir.path());
    report(
        "write 4 KiB + fsync (the floor of a durable commit)",
        &floor,
    );

    // listfunds: the query. Turning the rows into the command's JSON is measured on the real
    // code by `cargo bench -p fulgur-node --bench listfunds`.
    println!("listfunds (10,000 unspent outputs):");
    let runs = 21;
    let query = time(runs, || {
        store.outputs(OutputFilter::Unspent, height).unwrap()
    });
    report(
        "store.outputs(Unspent, h) (the database part of listfunds)",
        &query,
    );

    // fundpsbt: the offered coins, the selection, and the reservation.
    println!("fundpsbt (10,000 available outputs, feerate 2500 perkw, reserve 72 blocks):");
    let available = time(runs, || store.available_outputs(height).unwrap());
    report("store.available_outputs(h)", &available);
    let offered = store.available_outputs(height).unwrap();
    assert_eq!(offered.len(), (BLOCKS * OUTPUTS_PER_BLOCK) as usize);
    let feerate = FeeratePerKw::from_perkw(2_500);
    let startweight = 42 * 4 + 2;
    let amount = |sat: u64| Target::Amount(AmountSat::from_sat(sat));
    let reserve = AmountSat::from_sat(25_000);
    let cases = [
        ("target 0.5 BTC", amount(50_000_000), AmountSat::ZERO),
        ("target half the wallet", amount(total / 2), AmountSat::ZERO),
        ("target all", Target::All, AmountSat::ZERO),
        (
            "target 0.5 BTC, emergency reserve 25,000 sat",
            amount(50_000_000),
            reserve,
        ),
        (
            "target all, emergency reserve 25,000 sat",
            Target::All,
            reserve,
        ),
    ];
    let mut medium = Duration::ZERO;
    for (name, target, emergency_reserve) in cases {
        let params = FundParams {
            emergency_reserve,
            ..FundParams::new(target, feerate, startweight)
        };
        let chosen = select(&offered, height, &params, 1).unwrap();
        println!("  {name}: {} inputs", chosen.len());
        let mut seed = 0;
        let pure = time(runs, || {
            seed += 1;
            select(&offered, height, &params, seed).unwrap()
        });
        report(
            "  AvailableOutput -> Coin, shuffle, coinselect::fund",
            &pure,
        );
        let mut unreserve = Vec::with_capacity(runs);
        let mut whole = Vec::with_capacity(runs);
        for run in 0..runs {
            let start = Instant::now();
            let selection = store
                .select_and_reserve(height, RESERVE_BLOCKS, |offered| {
                    select(offered, height, &params, run as u64)
                })
                .unwrap();
            whole.push(start.elapsed());
            assert!(!selection.outputs.is_empty());
            let outpoints: Vec<OutPoint> = selection.outputs.iter().map(|o| o.outpoint).collect();
            let start = Instant::now();
            let changes = store.unreserve(&outpoints, height, RESERVE_BLOCKS).unwrap();
            unreserve.push(start.elapsed());
            assert!(changes.iter().all(|c| !c.reserved));
        }
        let whole = Stats::new(whole);
        report("  select_and_reserve (whole transaction)", &whole);
        report(
            "  unreserve of those (after each run, untimed above)",
            &Stats::new(unreserve),
        );
        println!(
            "  {} the 20 ms target",
            if whole.median() <= Duration::from_millis(20) {
                "within"
            } else {
                "OVER"
            }
        );
        if medium == Duration::ZERO {
            medium = whole.median();
        }
    }
    verdict(
        "fundpsbt coin selection, 10,000 UTXOs, 0.5 BTC (select_and_reserve)",
        medium,
        20,
    );

    reservation_strategies(&path, height);

    // Connecting a block: the database part, then the whole path.
    println!("connect a block with nothing of ours:");
    let connect_runs = 101;
    let mut times = Vec::with_capacity(connect_runs);
    for _ in 0..connect_runs {
        height += 1;
        let bc = empty_connect(height);
        let start = Instant::now();
        store.connect_block(&bc).unwrap();
        times.push(start.elapsed());
    }
    let connect = Stats::new(times);
    report(
        "store.connect_block, empty (BEGIN IMMEDIATE .. fsync)",
        &connect,
    );

    let block = fulgur_benchkit::synthetic_block(BLOCK_BYTES);
    let bytes = serialize(&block);
    let hex = encode_hex(&bytes);
    let index = ScriptIndex::new(&keys, KEYS, LOOKAHEAD).unwrap();
    let owned: HashSet<OutPoint> = store
        .outputs(OutputFilter::All, height)
        .unwrap()
        .into_iter()
        .map(|o| o.outpoint)
        .collect();
    println!(
        "  block: {} transactions, {} bytes, weight {}; wallet: {} scripts, {} outpoints",
        block.txdata.len(),
        bytes.len(),
        block.weight().to_wu(),
        index.len(),
        owned.len()
    );
    let runs = 15;
    report(
        "bytes -> Block (consensus decode)",
        &time(runs, || decode_block(&bytes, None).unwrap()),
    );
    let decode = time(runs, || decode_block_hex(&hex, None).unwrap());
    report("hex -> Block", &decode);
    let scan = time(runs, || {
        let scan = scan_block(black_box(&block), height + 1, &index, &|op: &OutPoint| {
            owned.contains(op)
        });
        assert!(scan.is_empty());
        scan
    });
    report(
        "scan_block (1,000 keys + look-ahead, 10,000 outpoints)",
        &scan,
    );
    // The node's `connect` (fulgur-node/src/chain.rs), minus the follower and the async hops.
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        height += 1;
        let start = Instant::now();
        let block = decode_block_hex(&hex, None).unwrap();
        black_box(block.block_hash());
        black_box(block.txdata.first().map(|t| t.compute_txid()));
        let scan = scan_block(&block, height, &index, &|op: &OutPoint| owned.contains(op));
        assert!(scan.is_empty());
        // Synthetic hashes: the same block is connected at every height.
        store.connect_block(&empty_connect(height)).unwrap();
        times.push(start.elapsed());
        drop(block);
    }
    let pipeline = Stats::new(times);
    report("hex -> Block -> scan -> connect_block, measured", &pipeline);
    let sum = decode.median() + scan.median() + connect.median();
    println!(
        "  sum of medians: decode {:.3} + scan {:.3} + connect_block {:.3} = {:.3} ms",
        ms(decode.median()),
        ms(scan.median()),
        ms(connect.median()),
        ms(sum)
    );
    verdict(
        "connect a 4 MB block with nothing relevant (measured pipeline)",
        pipeline.median(),
        20,
    );
}
