//! `listfunds` with 10,000 UTXOs (target ≤ 50 ms): the rows read from a real database, turned
//! into the command's result by the command's own code (`onchain::listfunds_result`) and
//! written as the reply text. Prints figures; asserts nothing.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "benchmark")]

use bitcoin::hashes::Hash;
use bitcoin::{Amount, BlockHash, OutPoint, Txid};
use fulgur_node::onchain::listfunds_result;
use fulgur_store::{BlockConnect, NewOutput, OutputFilter, Store};
use fulgur_wallet::{AddrType, WalletKeys};
use std::time::{Duration, Instant};

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let secret: Vec<u8> = (1..=32).collect();
    let hsm = fulgur_keys::HsmSecret::from_file_bytes(&secret).unwrap();
    let keys = WalletKeys::from_hsm_secret(&hsm, fulgur_types::Network::Regtest);
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path().join("bench.sqlite3")).unwrap();
    let (blocks, per_block) = (100u32, 100u32);
    let mut prev = BlockHash::all_zeros();
    for h in 0..blocks {
        let mut bytes = [0u8; 32];
        bytes[..4].copy_from_slice(&(h + 1).to_le_bytes());
        let hash = BlockHash::from_byte_array(bytes);
        let new_outputs = (0..per_block)
            .map(|i| {
                let n = h * per_block + i;
                let t = if n % 2 == 0 {
                    AddrType::P2tr
                } else {
                    AddrType::Bech32
                };
                let index = n % 1000 + 1;
                let mut txid = [0u8; 32];
                txid[..4].copy_from_slice(&n.to_le_bytes());
                NewOutput {
                    outpoint: OutPoint {
                        txid: Txid::from_byte_array(txid),
                        vout: i % 3,
                    },
                    amount: Amount::from_sat(10_000 + u64::from(n)),
                    script_pubkey: keys.script_pubkey(index, t).unwrap(),
                    keyindex: index,
                    addrtype: t,
                    is_change: false,
                    is_coinbase: false,
                }
            })
            .collect();
        let bc = BlockConnect {
            height: h,
            hash,
            prev_hash: prev,
            new_outputs,
            spends: vec![],
            transactions: vec![],
        };
        store.connect_block(&bc).unwrap();
        prev = hash;
    }
    let height = blocks + 10;
    let network = bitcoin::Network::Regtest;
    let runs = 21;
    let mut query = Vec::new();
    let mut build = Vec::new();
    let mut text = Vec::new();
    let mut total = Vec::new();
    let mut size = 0;
    for _ in 0..runs {
        let t0 = Instant::now();
        let rows = store.outputs(OutputFilter::Unspent, height).unwrap();
        let t1 = Instant::now();
        let value = listfunds_result(rows, network, &keys);
        let t2 = Instant::now();
        let reply = fulgur_rpc_types::envelope::success_reply("7", &value);
        let t3 = Instant::now();
        size = reply.len();
        query.push(t1 - t0);
        build.push(t2 - t1);
        text.push(t3 - t2);
        total.push(t3 - t0);
    }
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "listfunds, {} UTXOs ({} runs, medians):",
        blocks * per_block,
        runs
    );
    println!("  database query            {:8.2} ms", ms(median(query)));
    println!("  rows -> result (command)  {:8.2} ms", ms(median(build)));
    println!("  result -> reply text      {:8.2} ms", ms(median(text)));
    let t = median(total);
    let verdict = if t <= Duration::from_millis(50) {
        "met"
    } else {
        "MISSED"
    };
    println!(
        "  total                     {:8.2} ms   (target <= 50 ms: {verdict}; reply {size} bytes)",
        ms(t)
    );
}
