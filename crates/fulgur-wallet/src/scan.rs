//! Finding the wallet's outputs and spends in a block.
//!
//! Fast path: every output script is looked up in the [`ScriptIndex`] hash map (after a
//! length check) and every input's outpoint goes through the caller's predicate; a
//! transaction is hashed and serialized only when one of those hits.

use std::collections::HashSet;

use bitcoin::{Block, OutPoint, ScriptBuf, Transaction, Txid};
use fulgur_types::AmountSat;

use crate::keys::AddrType;
use crate::script_index::ScriptIndex;

/// An output paying one of our scripts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundOutput {
    /// The output.
    pub outpoint: OutPoint,
    /// Its value.
    pub amount: AmountSat,
    /// Its scriptpubkey.
    pub script: ScriptBuf,
    /// The key index the script belongs to.
    pub keyindex: u32,
    /// The kind of script.
    pub addrtype: AddrType,
}

/// A spend of one of our outpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FoundSpend {
    /// The outpoint spent.
    pub outpoint: OutPoint,
    /// The spending transaction.
    pub spender: Txid,
    /// The input of `spender` that spends it.
    pub input: u32,
}

/// A transaction of the block that pays or spends the wallet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelevantTx {
    /// Its txid.
    pub txid: Txid,
    /// Its consensus serialization, with witnesses.
    pub raw: Vec<u8>,
    /// Its position in the block (0 is the coinbase).
    pub txindex: u32,
}

/// What a block holds for the wallet, in block order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BlockScan {
    /// The block height given to [`scan_block`].
    pub height: u32,
    /// Outputs paying our scripts.
    pub new_outputs: Vec<FoundOutput>,
    /// Spends of our outpoints, including outputs created earlier in the same block.
    pub spends: Vec<FoundSpend>,
    /// Every transaction behind `new_outputs` and `spends`, once each.
    pub relevant_txs: Vec<RelevantTx>,
}

impl BlockScan {
    /// Whether the block holds nothing for the wallet.
    pub fn is_empty(&self) -> bool {
        self.relevant_txs.is_empty()
    }

    /// The highest key index among `new_outputs` (to grow the [`ScriptIndex`] with).
    pub fn max_keyindex(&self) -> Option<u32> {
        self.new_outputs.iter().map(|o| o.keyindex).max()
    }
}

/// Scans `block` (at `height`) for outputs paying scripts in `ours` and for inputs spending
/// outpoints for which `our_outpoints` is true. Outputs found in this block count as ours for
/// later transactions of the same block.
pub fn scan_block<F>(block: &Block, height: u32, ours: &ScriptIndex, our_outpoints: &F) -> BlockScan
where
    F: Fn(&OutPoint) -> bool + ?Sized,
{
    let mut scan = BlockScan {
        height,
        ..BlockScan::default()
    };
    // Outputs created in this block, so a spend later in the block is seen too.
    let mut created: HashSet<OutPoint> = HashSet::new();
    for (txindex, tx) in block.txdata.iter().enumerate() {
        let mut txid = None;
        scan_spends(tx, our_outpoints, &created, &mut txid, &mut scan.spends);
        scan_outputs(tx, ours, &mut txid, &mut created, &mut scan.new_outputs);
        if let Some(txid) = txid {
            scan.relevant_txs.push(RelevantTx {
                txid,
                raw: bitcoin::consensus::serialize(tx),
                txindex: u32::try_from(txindex).unwrap_or(u32::MAX),
            });
        }
    }
    scan
}

/// Records the inputs of `tx` that spend ours; computes `txid` on the first hit.
fn scan_spends<F>(
    tx: &Transaction,
    our_outpoints: &F,
    created: &HashSet<OutPoint>,
    txid: &mut Option<Txid>,
    spends: &mut Vec<FoundSpend>,
) where
    F: Fn(&OutPoint) -> bool + ?Sized,
{
    if tx.is_coinbase() {
        return;
    }
    for (i, input) in tx.input.iter().enumerate() {
        let prev = &input.previous_output;
        if our_outpoints(prev) || (!created.is_empty() && created.contains(prev)) {
            spends.push(FoundSpend {
                outpoint: *prev,
                spender: *txid.get_or_insert_with(|| tx.compute_txid()),
                input: u32::try_from(i).unwrap_or(u32::MAX),
            });
        }
    }
}

/// Records the outputs of `tx` paying our scripts; computes `txid` on the first hit.
fn scan_outputs(
    tx: &Transaction,
    ours: &ScriptIndex,
    txid: &mut Option<Txid>,
    created: &mut HashSet<OutPoint>,
    found: &mut Vec<FoundOutput>,
) {
    for (vout, output) in tx.output.iter().enumerate() {
        let Some(origin) = ours.lookup(&output.script_pubkey) else {
            continue;
        };
        let outpoint = OutPoint {
            txid: *txid.get_or_insert_with(|| tx.compute_txid()),
            vout: u32::try_from(vout).unwrap_or(u32::MAX),
        };
        created.insert(outpoint);
        found.push(FoundOutput {
            outpoint,
            amount: output.value.into(),
            script: output.script_pubkey.clone(),
            keyindex: origin.keyindex,
            addrtype: origin.addrtype,
        });
    }
}
