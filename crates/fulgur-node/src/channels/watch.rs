//! What the chain task looks for on behalf of channels: funding transactions confirming and
//! funding outputs being spent. The chain task reports them as [`ChainEvent`]s.

use std::collections::HashSet;
use std::sync::RwLock;

use bitcoin::{Block, OutPoint, Transaction, Txid};
use tokio::sync::mpsc;

/// A chain event for the channel manager.
#[derive(Debug, Clone)]
pub enum ChainEvent {
    /// A watched funding transaction was mined.
    Confirmed {
        /// Its txid.
        txid: Txid,
        /// The block height.
        height: u32,
        /// Its index in the block.
        txindex: u32,
        /// The transaction.
        tx: Transaction,
    },
    /// A watched funding output was spent.
    Spent {
        /// The funding outpoint.
        outpoint: OutPoint,
        /// The spending transaction.
        tx: Transaction,
        /// The block height.
        height: u32,
    },
    /// A reorganisation disconnected every block above `height`: confirmations and spends
    /// seen in them are undone (they are reported again when mined anew).
    Reorg {
        /// The highest block kept.
        height: u32,
    },
}

/// The txids and outpoints watched, shared between the channel manager and the chain task.
#[derive(Debug)]
pub struct FundingWatch {
    txids: RwLock<HashSet<Txid>>,
    outpoints: RwLock<HashSet<OutPoint>>,
    events: mpsc::UnboundedSender<ChainEvent>,
}

impl FundingWatch {
    /// A watch reporting to `events`.
    pub fn new(events: mpsc::UnboundedSender<ChainEvent>) -> FundingWatch {
        FundingWatch {
            txids: RwLock::new(HashSet::new()),
            outpoints: RwLock::new(HashSet::new()),
            events,
        }
    }

    /// Watches a funding transaction and its output.
    pub fn watch(&self, outpoint: OutPoint) {
        self.txids
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(outpoint.txid);
        self.outpoints
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(outpoint);
    }

    /// Stops watching for the funding transaction (it is confirmed deep enough).
    pub fn unwatch_tx(&self, txid: &Txid) {
        self.txids
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .remove(txid);
    }

    /// Stops watching a funding output and its transaction (the channel was abandoned).
    pub fn unwatch(&self, outpoint: &OutPoint) {
        self.unwatch_tx(&outpoint.txid);
        self.outpoints
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .remove(outpoint);
    }

    /// Reports that every block above `height` was disconnected.
    pub fn disconnected_above(&self, height: u32) {
        let _ = self.events.send(ChainEvent::Reorg { height });
    }

    /// Looks for watched transactions and spends in a connected block.
    pub fn scan(&self, block: &Block, height: u32) {
        let txids = self.txids.read().unwrap_or_else(|e| e.into_inner());
        let outpoints = self.outpoints.read().unwrap_or_else(|e| e.into_inner());
        if txids.is_empty() && outpoints.is_empty() {
            return;
        }
        for (i, tx) in block.txdata.iter().enumerate() {
            let txid = tx.compute_txid();
            if txids.contains(&txid) {
                let _ = self.events.send(ChainEvent::Confirmed {
                    txid,
                    height,
                    txindex: u32::try_from(i).unwrap_or(u32::MAX),
                    tx: tx.clone(),
                });
            }
            for input in &tx.input {
                if outpoints.contains(&input.previous_output) {
                    let _ = self.events.send(ChainEvent::Spent {
                        outpoint: input.previous_output,
                        tx: tx.clone(),
                        height,
                    });
                }
            }
        }
    }
}
