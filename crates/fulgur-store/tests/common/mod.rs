//! Helpers shared by the integration tests.
#![allow(dead_code, reason = "each test file uses a different subset")]
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use std::path::PathBuf;

use bitcoin::hashes::Hash;
use bitcoin::{Amount, BlockHash, OutPoint, ScriptBuf, Txid};
use fulgur_store::{AddrType, BlockConnect, NewOutput, Store};

/// A temporary directory holding one database file.
pub struct TestDb {
    pub dir: tempfile::TempDir,
    pub path: PathBuf,
}

impl TestDb {
    pub fn new() -> TestDb {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("fulgur.sqlite3");
        TestDb { dir, path }
    }

    pub fn open(&self) -> Store {
        Store::open(&self.path).unwrap()
    }
}

/// A distinct txid for each `n`.
pub fn txid(n: u32) -> Txid {
    let mut b = [0u8; 32];
    b[..4].copy_from_slice(&n.to_le_bytes());
    b[31] = 0x7a;
    Txid::from_byte_array(b)
}

/// A distinct block hash for each `(height, fork)`.
pub fn bhash(height: u32, fork: u8) -> BlockHash {
    let mut b = [0u8; 32];
    b[..4].copy_from_slice(&height.to_le_bytes());
    b[4] = fork;
    b[31] = 0xb1;
    BlockHash::from_byte_array(b)
}

pub fn op(tx: u32, vout: u32) -> OutPoint {
    OutPoint {
        txid: txid(tx),
        vout,
    }
}

pub fn new_output(outpoint: OutPoint, sat: u64, keyindex: u32) -> NewOutput {
    NewOutput {
        outpoint,
        amount: Amount::from_sat(sat),
        script_pubkey: ScriptBuf::from_bytes(vec![0x00, 0x14, keyindex as u8]),
        keyindex,
        addrtype: AddrType::Bech32,
        is_change: false,
        is_coinbase: false,
    }
}

/// A block on fork `fork` with nothing of ours in it.
pub fn empty_block(height: u32, fork: u8, prev_fork: u8) -> BlockConnect {
    BlockConnect {
        height,
        hash: bhash(height, fork),
        prev_hash: bhash(height.wrapping_sub(1), prev_fork),
        new_outputs: vec![],
        spends: vec![],
        transactions: vec![],
    }
}

/// Connects empty blocks `from..=to` on fork 0.
pub fn connect_empty(store: &mut Store, from: u32, to: u32) {
    for h in from..=to {
        store.connect_block(&empty_block(h, 0, 0)).unwrap();
    }
}

/// A store at height 100 (fork 0, blocks 100..=100) whose block 100 confirms `n` outputs
/// `op(1000 + i, 0)` of `(i + 1) * 1000` sat each.
pub fn store_with_coins(db: &TestDb, n: u32) -> Store {
    let mut store = db.open();
    let mut block = empty_block(100, 0, 0);
    block.new_outputs = (0..n)
        .map(|i| new_output(op(1000 + i, 0), u64::from(i + 1) * 1000, i + 1))
        .collect();
    store.connect_block(&block).unwrap();
    store
}

/// Tiny deterministic PRNG (xorshift64*), so the tests need no extra crates.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}
