//! Helpers shared by Fulgur's benchmarks (dev only): a small seeded random generator, so runs
//! are repeatable without a dependency, and a synthetic ~4 MB block of ordinary segwit spends,
//! the "block with nothing relevant" several targets are measured on.

use bitcoin::absolute::LockTime;
use bitcoin::consensus::serialize;
use bitcoin::hashes::Hash;
use bitcoin::{
    Amount, Block, OutPoint, ScriptBuf, Sequence, Transaction, TxIn, TxOut, Txid, Witness,
};

/// xorshift64*: fast, seeded, good enough for benchmark data.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from `seed` (0 is replaced, as xorshift needs a non-zero state).
    pub fn new(seed: u64) -> Rng {
        Rng(if seed == 0 {
            0x9e37_79b9_7f4a_7c15
        } else {
            seed
        })
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number below `n` (`n` > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    /// `N` random bytes.
    pub fn bytes<const N: usize>(&mut self) -> [u8; N] {
        let mut out = [0u8; N];
        for chunk in out.chunks_mut(8) {
            let word = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&word[..chunk.len()]);
        }
        out
    }

    /// `n` random bytes.
    pub fn fill(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next_u64() as u8).collect()
    }
}

/// A typical segwit spend, distinct per `seed`: `inputs` P2WPKH inputs, two P2WPKH outputs.
pub fn spend(seed: u32, inputs: u32) -> Transaction {
    let mut sig = vec![0x30u8; 71];
    sig[1..5].copy_from_slice(&seed.to_le_bytes());
    let pubkey = [0x02u8; 33];
    let input = (0..inputs)
        .map(|i| {
            let mut txid = [0u8; 32];
            txid[..4].copy_from_slice(&seed.to_le_bytes());
            txid[4..8].copy_from_slice(&i.to_le_bytes());
            TxIn {
                previous_output: OutPoint {
                    txid: Txid::from_byte_array(txid),
                    vout: i,
                },
                script_sig: ScriptBuf::new(),
                sequence: Sequence::ENABLE_RBF_NO_LOCKTIME,
                witness: Witness::from_slice(&[sig.as_slice(), pubkey.as_slice()]),
            }
        })
        .collect();
    let output = (0..2u8)
        .map(|o| {
            let mut spk = vec![0x00, 0x14];
            spk.extend_from_slice(&[o; 16]);
            spk.extend_from_slice(&seed.to_le_bytes());
            TxOut {
                value: Amount::from_sat(10_000 + u64::from(seed)),
                script_pubkey: ScriptBuf::from_bytes(spk),
            }
        })
        .collect();
    Transaction {
        version: bitcoin::transaction::Version::TWO,
        lock_time: LockTime::ZERO,
        input,
        output,
    }
}

/// A block of at least `target_bytes` serialized bytes: the regtest genesis coinbase, then
/// [`spend`]s of 1 to 3 inputs, with a correct merkle root, on top of the regtest genesis.
pub fn synthetic_block(target_bytes: usize) -> Block {
    let genesis = bitcoin::constants::genesis_block(bitcoin::Network::Regtest);
    let mut block = Block {
        header: bitcoin::block::Header {
            prev_blockhash: genesis.block_hash(),
            ..genesis.header
        },
        txdata: vec![genesis.txdata[0].clone()],
    };
    let mut size = serialize(&block).len();
    let mut seed = 0;
    while size < target_bytes {
        let t = spend(seed, 1 + seed % 3);
        size += serialize(&t).len();
        block.txdata.push(t);
        seed += 1;
    }
    if let Some(root) = block.compute_merkle_root() {
        block.header.merkle_root = root;
    }
    block
}
