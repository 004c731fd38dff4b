//! Block scanning speed: a ~4 MB block of random-looking transactions, none of them (or a
//! handful) ours, scanned against a wallet's script index and a set of 10,000 owned
//! outpoints. Prints the time per scan; run with `cargo bench -p fulgur-wallet --bench scan`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "benchmark fails loudly"
)]

use fulgur_benchkit::Rng;
use std::collections::HashSet;
use std::hint::black_box;
use std::time::{Duration, Instant};

use bitcoin::absolute::LockTime;
use bitcoin::block::{Header, Version as BlockVersion};
use bitcoin::hashes::Hash;
use bitcoin::transaction::Version;
use bitcoin::{
    Amount, Block, BlockHash, CompactTarget, OutPoint, ScriptBuf, Sequence, Transaction, TxIn,
    TxMerkleNode, TxOut, Txid, Witness,
};
use fulgur_keys::HsmSecret;
use fulgur_types::Network;
use fulgur_wallet::{scan_block, AddrType, ScriptIndex, WalletKeys};

fn random_output(rng: &mut Rng) -> TxOut {
    let script_pubkey = match rng.below(3) {
        0 => ScriptBuf::new_p2wpkh(&bitcoin::WPubkeyHash::from_byte_array(rng.bytes())),
        1 => {
            let mut s = vec![0x51, 0x20];
            s.extend_from_slice(&rng.bytes::<32>());
            ScriptBuf::from_bytes(s)
        }
        _ => ScriptBuf::new_p2sh(&bitcoin::ScriptHash::from_byte_array(rng.bytes())),
    };
    TxOut {
        value: Amount::from_sat(rng.below(100_000_000)),
        script_pubkey,
    }
}

fn random_input(rng: &mut Rng) -> TxIn {
    let witness = if rng.below(2) == 0 {
        Witness::from_slice(&[rng.bytes::<71>().to_vec(), rng.bytes::<33>().to_vec()])
    } else {
        Witness::from_slice(&[rng.bytes::<64>().to_vec()])
    };
    TxIn {
        previous_output: OutPoint::new(Txid::from_byte_array(rng.bytes()), rng.below(4) as u32),
        script_sig: ScriptBuf::new(),
        sequence: Sequence(0xffff_fffd),
        witness,
    }
}

fn random_block(rng: &mut Rng, target_size: usize) -> Block {
    let coinbase = Transaction {
        version: Version::TWO,
        lock_time: LockTime::ZERO,
        input: vec![TxIn {
            previous_output: OutPoint::null(),
            script_sig: ScriptBuf::from_bytes(vec![3, 1, 2, 3]),
            sequence: Sequence::MAX,
            witness: Witness::from_slice(&[[0u8; 32]]),
        }],
        output: vec![random_output(rng)],
    };
    let mut txdata = vec![coinbase];
    let mut size = 80;
    while size < target_size {
        let tx = Transaction {
            version: Version::TWO,
            lock_time: LockTime::from_consensus(rng.below(800_000) as u32),
            input: (0..1 + rng.below(3)).map(|_| random_input(rng)).collect(),
            output: (0..1 + rng.below(3)).map(|_| random_output(rng)).collect(),
        };
        size += tx.total_size();
        txdata.push(tx);
    }
    Block {
        header: Header {
            version: BlockVersion::TWO,
            prev_blockhash: BlockHash::all_zeros(),
            merkle_root: TxMerkleNode::all_zeros(),
            time: 0,
            bits: CompactTarget::from_consensus(0x207f_ffff),
            nonce: 0,
        },
        txdata,
    }
}

fn time<F: FnMut()>(iterations: u32, mut f: F) -> (Duration, Duration) {
    let mut times: Vec<Duration> = (0..iterations)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .collect();
    times.sort();
    (times[0], times[times.len() / 2])
}

fn main() {
    let mut rng = Rng::new(0x5eed_f00d_dead_beef);
    let secret = HsmSecret::from_file_bytes(&[0x11; 32]).unwrap();
    let keys = WalletKeys::from_hsm_secret(&secret, Network::Bitcoin);
    let index = ScriptIndex::new(&keys, 1_000, ScriptIndex::DEFAULT_GAP).unwrap();
    let owned: HashSet<OutPoint> = (0..10_000)
        .map(|_| OutPoint::new(Txid::from_byte_array(rng.bytes()), 0))
        .collect();
    let is_ours = |op: &OutPoint| owned.contains(op);

    let mut block = random_block(&mut rng, 4_000_000);
    let size = bitcoin::consensus::serialize(&block).len();
    let inputs: usize = block.txdata.iter().map(|t| t.input.len()).sum();
    let outputs: usize = block.txdata.iter().map(|t| t.output.len()).sum();
    println!(
        "block: {size} bytes, weight {}, {} transactions, {inputs} inputs, {outputs} outputs; \
         wallet: {} scripts, {} owned outpoints",
        block.weight().to_wu(),
        block.txdata.len(),
        index.len(),
        owned.len()
    );

    let (min, median) = time(50, || {
        let scan = scan_block(black_box(&block), 900_000, &index, &is_ours);
        assert!(scan.is_empty());
        black_box(scan);
    });
    println!("scan, nothing relevant: min {min:?}, median {median:?}");

    // Ten transactions pay us, ten spend ours.
    let some_owned: Vec<OutPoint> = owned.iter().take(10).copied().collect();
    for (i, op) in some_owned.iter().enumerate() {
        let n = block.txdata.len();
        let tx = &mut block.txdata[1 + (i * 997) % (n - 1)];
        tx.input[0].previous_output = *op;
        let tx = &mut block.txdata[1 + (i * 1931) % (n - 1)];
        tx.output[0].script_pubkey = keys.script_pubkey(900 + i as u32, AddrType::P2tr).unwrap();
    }
    let (min, median) = time(50, || {
        let scan = scan_block(black_box(&block), 900_000, &index, &is_ours);
        assert_eq!(scan.spends.len(), 10);
        assert_eq!(scan.new_outputs.len(), 10);
        black_box(scan);
    });
    println!("scan, 20 relevant transactions: min {min:?}, median {median:?}");
}
