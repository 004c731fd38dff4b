//! Watches on the chain: outpoints being spent, scripts being paid, transactions reaching a
//! depth. [`Watches`] scans each connected block and reports [`WatchEvent`]s, remembers what it
//! reported per height, and reverses those reports when blocks are disconnected.
//!
//! The scan is built to cost little when nothing is watched: with no watches at all a block is
//! not looked at; outpoint and script watches only look up each input's outpoint and each
//! output's script in a hash set; transaction ids (a double SHA-256 of each transaction) are
//! computed only for matches, or for every transaction while some depth watch is waiting for
//! its transaction to confirm.
//!
//! Watches live in memory: after a restart the caller registers them again (for a transaction
//! already confirmed, with [`Watches::watch_depth_confirmed`]).

use std::collections::{BTreeMap, HashMap, HashSet};

use bitcoin::{Amount, Block, OutPoint, ScriptBuf, Transaction, Txid};

/// Something a watch saw, or the reversal of it when its block was disconnected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WatchEvent {
    /// A watched outpoint was spent by an input of a transaction in a connected block.
    OutpointSpent {
        /// The outpoint.
        outpoint: OutPoint,
        /// The spending transaction's id.
        spender: Txid,
        /// The spending transaction's position in the block.
        tx_index: u32,
        /// The index of the spending input.
        input_index: u32,
        /// The block's height.
        height: u32,
    },
    /// The block holding an [`WatchEvent::OutpointSpent`] spend was disconnected: the outpoint
    /// is unspent again (it stays watched).
    OutpointSpendReverted {
        /// The outpoint.
        outpoint: OutPoint,
        /// The transaction that no longer spends it.
        spender: Txid,
        /// The height of the disconnected block.
        height: u32,
    },
    /// An output paying a watched script is in a connected block.
    ScriptPaid {
        /// The script.
        script: ScriptBuf,
        /// The new output.
        outpoint: OutPoint,
        /// Its value.
        amount: Amount,
        /// The paying transaction's position in the block.
        tx_index: u32,
        /// The block's height.
        height: u32,
    },
    /// The block holding a [`WatchEvent::ScriptPaid`] output was disconnected.
    ScriptPaymentReverted {
        /// The script.
        script: ScriptBuf,
        /// The output that no longer exists.
        outpoint: OutPoint,
        /// Its value.
        amount: Amount,
        /// The height of the disconnected block.
        height: u32,
    },
    /// A watched transaction is `depth` blocks deep (1 = in the tip block). Reported once per
    /// confirmation.
    DepthReached {
        /// The transaction.
        txid: Txid,
        /// The depth asked for.
        depth: u32,
        /// The height of the block the transaction is in.
        confirmation_height: u32,
        /// The tip height when the depth was reached.
        tip_height: u32,
    },
    /// The block confirming a transaction that had reached its depth was disconnected; the
    /// watch waits for the transaction to confirm again.
    DepthReverted {
        /// The transaction.
        txid: Txid,
        /// The depth asked for.
        depth: u32,
        /// The height of the disconnected block it was in.
        confirmation_height: u32,
    },
}

/// A depth watch's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct DepthWatch {
    depth: u32,
    confirmed_at: Option<u32>,
    reached: bool,
}

/// A forward event remembered so it can be reversed.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Record {
    Spent {
        outpoint: OutPoint,
        spender: Txid,
    },
    Paid {
        script: ScriptBuf,
        outpoint: OutPoint,
        amount: Amount,
    },
}

/// The set of watches and what they have seen, per height.
#[derive(Debug, Clone, Default)]
pub struct Watches {
    outpoints: HashSet<OutPoint>,
    scripts: HashSet<ScriptBuf>,
    depths: HashMap<Txid, DepthWatch>,
    /// Depth watches whose transaction has not confirmed: while non-zero, every transaction id
    /// of every block is computed.
    unconfirmed: usize,
    history: BTreeMap<u32, Vec<Record>>,
}

impl Watches {
    /// No watches.
    pub fn new() -> Watches {
        Watches::default()
    }

    /// Whether nothing is watched (connected blocks are then not looked at).
    pub fn is_empty(&self) -> bool {
        self.outpoints.is_empty() && self.scripts.is_empty() && self.depths.is_empty()
    }

    /// Reports when `outpoint` is spent in a connected block (and when that block goes away).
    /// Returns whether it was newly added.
    pub fn watch_outpoint(&mut self, outpoint: OutPoint) -> bool {
        self.outpoints.insert(outpoint)
    }

    /// Stops watching `outpoint`. Returns whether it was watched.
    pub fn unwatch_outpoint(&mut self, outpoint: &OutPoint) -> bool {
        self.outpoints.remove(outpoint)
    }

    /// Reports every output paying `script` in a connected block (and when that block goes
    /// away). Returns whether it was newly added.
    pub fn watch_script(&mut self, script: ScriptBuf) -> bool {
        self.scripts.insert(script)
    }

    /// Stops watching `script`. Returns whether it was watched.
    pub fn unwatch_script(&mut self, script: &ScriptBuf) -> bool {
        self.scripts.remove(script)
    }

    /// Reports when `txid` is `depth` blocks deep (`depth` 0 is taken as 1), once it confirms
    /// in a connected block. Replaces any depth watch on `txid`.
    pub fn watch_depth(&mut self, txid: Txid, depth: u32) {
        self.set_depth(txid, depth, None);
    }

    /// Like [`Watches::watch_depth`], for a transaction known to be in the block at
    /// `confirmation_height` (e.g. after a restart). The depth is checked at the next block.
    pub fn watch_depth_confirmed(&mut self, txid: Txid, depth: u32, confirmation_height: u32) {
        self.set_depth(txid, depth, Some(confirmation_height));
    }

    /// Stops watching `txid`'s depth. Returns whether it was watched.
    pub fn unwatch_depth(&mut self, txid: &Txid) -> bool {
        match self.depths.remove(txid) {
            Some(w) => {
                if w.confirmed_at.is_none() {
                    self.unconfirmed -= 1;
                }
                true
            }
            None => false,
        }
    }

    /// The height `txid` was seen confirmed at, if it has a depth watch and has confirmed.
    pub fn confirmation_height(&self, txid: &Txid) -> Option<u32> {
        self.depths.get(txid).and_then(|w| w.confirmed_at)
    }

    fn set_depth(&mut self, txid: Txid, depth: u32, confirmed_at: Option<u32>) {
        self.unwatch_depth(&txid);
        if confirmed_at.is_none() {
            self.unconfirmed += 1;
        }
        self.depths.insert(
            txid,
            DepthWatch {
                depth: depth.max(1),
                confirmed_at,
                reached: false,
            },
        );
    }

    /// Scans the block connected at `height` and appends what the watches saw to `out`.
    pub fn block_connected(&mut self, height: u32, block: &Block, out: &mut Vec<WatchEvent>) {
        if self.is_empty() {
            return;
        }
        let scan_io = !self.outpoints.is_empty() || !self.scripts.is_empty();
        let need_txids = self.unconfirmed > 0;
        let mut records = Vec::new();
        for (tx_index, tx) in block.txdata.iter().enumerate() {
            let tx_index = u32::try_from(tx_index).unwrap_or(u32::MAX);
            let mut txid = need_txids.then(|| tx.compute_txid());
            if let Some(id) = txid {
                if let Some(w) = self.depths.get_mut(&id) {
                    if w.confirmed_at.is_none() {
                        w.confirmed_at = Some(height);
                        self.unconfirmed -= 1;
                    }
                }
            }
            if scan_io {
                self.scan_tx(tx, tx_index, height, &mut txid, &mut records, out);
            }
        }
        self.check_depths(height, out);
        if !records.is_empty() {
            self.history.entry(height).or_default().extend(records);
        }
    }

    fn scan_tx(
        &self,
        tx: &Transaction,
        tx_index: u32,
        height: u32,
        txid: &mut Option<Txid>,
        records: &mut Vec<Record>,
        out: &mut Vec<WatchEvent>,
    ) {
        if !self.outpoints.is_empty() {
            for (input_index, input) in tx.input.iter().enumerate() {
                if self.outpoints.contains(&input.previous_output) {
                    let spender = *txid.get_or_insert_with(|| tx.compute_txid());
                    let outpoint = input.previous_output;
                    out.push(WatchEvent::OutpointSpent {
                        outpoint,
                        spender,
                        tx_index,
                        input_index: u32::try_from(input_index).unwrap_or(u32::MAX),
                        height,
                    });
                    records.push(Record::Spent { outpoint, spender });
                }
            }
        }
        if !self.scripts.is_empty() {
            for (vout, output) in tx.output.iter().enumerate() {
                if self.scripts.contains(&output.script_pubkey) {
                    let id = *txid.get_or_insert_with(|| tx.compute_txid());
                    let outpoint = OutPoint {
                        txid: id,
                        vout: u32::try_from(vout).unwrap_or(u32::MAX),
                    };
                    out.push(WatchEvent::ScriptPaid {
                        script: output.script_pubkey.clone(),
                        outpoint,
                        amount: output.value,
                        tx_index,
                        height,
                    });
                    records.push(Record::Paid {
                        script: output.script_pubkey.clone(),
                        outpoint,
                        amount: output.value,
                    });
                }
            }
        }
    }

    /// Reports depth watches that have reached their depth with the tip at `tip_height`.
    fn check_depths(&mut self, tip_height: u32, out: &mut Vec<WatchEvent>) {
        let mut reached: Vec<(u32, Txid, u32)> = Vec::new();
        for (txid, w) in self.depths.iter_mut() {
            let Some(conf) = w.confirmed_at else { continue };
            if w.reached || tip_height < conf {
                continue;
            }
            if tip_height - conf + 1 >= w.depth {
                w.reached = true;
                reached.push((conf, *txid, w.depth));
            }
        }
        // A stable order, whatever the hash map's.
        reached.sort_unstable();
        out.extend(
            reached
                .into_iter()
                .map(|(conf, txid, depth)| WatchEvent::DepthReached {
                    txid,
                    depth,
                    confirmation_height: conf,
                    tip_height,
                }),
        );
    }

    /// Reverses what was seen in blocks above `height` (newest first), after they were
    /// disconnected, appending the reversals to `out`.
    pub fn disconnected_above(&mut self, height: u32, out: &mut Vec<WatchEvent>) {
        let above = self.history.split_off(&height.saturating_add(1));
        for (h, records) in above.into_iter().rev() {
            for record in records.into_iter().rev() {
                out.push(match record {
                    Record::Spent { outpoint, spender } => WatchEvent::OutpointSpendReverted {
                        outpoint,
                        spender,
                        height: h,
                    },
                    Record::Paid {
                        script,
                        outpoint,
                        amount,
                    } => WatchEvent::ScriptPaymentReverted {
                        script,
                        outpoint,
                        amount,
                        height: h,
                    },
                });
            }
        }
        let mut reverted: Vec<(u32, Txid, u32)> = Vec::new();
        for (txid, w) in self.depths.iter_mut() {
            match w.confirmed_at {
                Some(conf) if conf > height => {
                    if w.reached {
                        reverted.push((conf, *txid, w.depth));
                    }
                    w.confirmed_at = None;
                    w.reached = false;
                    self.unconfirmed += 1;
                }
                _ => {}
            }
        }
        // Newest confirmation first, like the other reversals.
        reverted.sort_unstable_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        out.extend(
            reverted
                .into_iter()
                .map(|(conf, txid, depth)| WatchEvent::DepthReverted {
                    txid,
                    depth,
                    confirmation_height: conf,
                }),
        );
    }

    /// Forgets what was seen at heights below `height` (it can then no longer be reversed).
    /// Callers prune what is deeper than any reorg they care about.
    pub fn forget_below(&mut self, height: u32) {
        self.history = self.history.split_off(&height);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use bitcoin::absolute::LockTime;
    use bitcoin::block::{Header, Version};
    use bitcoin::hashes::Hash;
    use bitcoin::{BlockHash, CompactTarget, Sequence, TxIn, TxMerkleNode, TxOut, Witness};

    fn tx(inputs: &[OutPoint], outputs: &[(&ScriptBuf, u64)], tag: u32) -> Transaction {
        Transaction {
            version: bitcoin::transaction::Version::TWO,
            lock_time: LockTime::from_consensus(tag),
            input: inputs
                .iter()
                .map(|o| TxIn {
                    previous_output: *o,
                    script_sig: ScriptBuf::new(),
                    sequence: Sequence::MAX,
                    witness: Witness::new(),
                })
                .collect(),
            output: outputs
                .iter()
                .map(|(s, v)| TxOut {
                    value: Amount::from_sat(*v),
                    script_pubkey: (*s).clone(),
                })
                .collect(),
        }
    }

    fn block(txs: Vec<Transaction>) -> Block {
        Block {
            header: Header {
                version: Version::TWO,
                prev_blockhash: BlockHash::all_zeros(),
                merkle_root: TxMerkleNode::all_zeros(),
                time: 0,
                bits: CompactTarget::from_consensus(0x207fffff),
                nonce: 0,
            },
            txdata: txs,
        }
    }

    fn op(n: u8, vout: u32) -> OutPoint {
        OutPoint {
            txid: Txid::from_byte_array([n; 32]),
            vout,
        }
    }

    #[test]
    fn spends_payments_and_depths_are_seen_and_reversed() {
        let mine = ScriptBuf::from_bytes(vec![0x51]);
        let other = ScriptBuf::from_bytes(vec![0x52]);
        let mut w = Watches::new();
        assert!(w.is_empty());
        assert!(w.watch_outpoint(op(1, 0)));
        assert!(!w.watch_outpoint(op(1, 0)));
        w.watch_script(mine.clone());
        let funding = tx(&[op(9, 9)], &[(&mine, 5000), (&other, 1)], 1);
        let funding_id = funding.compute_txid();
        w.watch_depth(funding_id, 3);

        let mut ev = Vec::new();
        w.block_connected(10, &block(vec![tx(&[], &[], 0), funding]), &mut ev);
        assert_eq!(
            ev,
            vec![WatchEvent::ScriptPaid {
                script: mine.clone(),
                outpoint: OutPoint {
                    txid: funding_id,
                    vout: 0
                },
                amount: Amount::from_sat(5000),
                tx_index: 1,
                height: 10,
            }]
        );
        assert_eq!(w.confirmation_height(&funding_id), Some(10));

        let spender = tx(&[op(2, 0), op(1, 0)], &[(&other, 7)], 2);
        let spender_id = spender.compute_txid();
        ev.clear();
        w.block_connected(11, &block(vec![spender]), &mut ev);
        assert_eq!(
            ev,
            vec![WatchEvent::OutpointSpent {
                outpoint: op(1, 0),
                spender: spender_id,
                tx_index: 0,
                input_index: 1,
                height: 11,
            }]
        );
        ev.clear();
        w.block_connected(12, &block(vec![]), &mut ev);
        assert_eq!(
            ev,
            vec![WatchEvent::DepthReached {
                txid: funding_id,
                depth: 3,
                confirmation_height: 10,
                tip_height: 12,
            }]
        );
        // Reported once.
        ev.clear();
        w.block_connected(13, &block(vec![]), &mut ev);
        assert!(ev.is_empty());

        // Disconnecting above 10 keeps the confirmation, reverses the spend.
        ev.clear();
        w.disconnected_above(10, &mut ev);
        assert_eq!(
            ev,
            vec![WatchEvent::OutpointSpendReverted {
                outpoint: op(1, 0),
                spender: spender_id,
                height: 11,
            }]
        );
        // Disconnecting above 9 reverses the payment and the depth.
        ev.clear();
        w.disconnected_above(9, &mut ev);
        assert_eq!(
            ev,
            vec![
                WatchEvent::ScriptPaymentReverted {
                    script: mine,
                    outpoint: OutPoint {
                        txid: funding_id,
                        vout: 0
                    },
                    amount: Amount::from_sat(5000),
                    height: 10,
                },
                WatchEvent::DepthReverted {
                    txid: funding_id,
                    depth: 3,
                    confirmation_height: 10,
                },
            ]
        );
        assert_eq!(w.confirmation_height(&funding_id), None);
        assert_eq!(w.unconfirmed, 1);
    }

    #[test]
    fn confirmed_watches_and_unwatching() {
        let mut w = Watches::new();
        let id = Txid::from_byte_array([7; 32]);
        w.watch_depth_confirmed(id, 0, 5);
        assert_eq!(w.unconfirmed, 0);
        let mut ev = Vec::new();
        w.block_connected(5, &block(vec![]), &mut ev);
        assert_eq!(
            ev,
            vec![WatchEvent::DepthReached {
                txid: id,
                depth: 1,
                confirmation_height: 5,
                tip_height: 5
            }]
        );
        w.watch_depth(id, 2);
        assert_eq!(w.unconfirmed, 1);
        assert!(w.unwatch_depth(&id));
        assert!(!w.unwatch_depth(&id));
        assert_eq!(w.unconfirmed, 0);
        assert!(w.is_empty());
        w.watch_script(ScriptBuf::new());
        assert!(w.unwatch_script(&ScriptBuf::new()));
        w.watch_outpoint(op(1, 1));
        assert!(w.unwatch_outpoint(&op(1, 1)));
    }

    #[test]
    fn forgotten_history_is_not_reversed() {
        let s = ScriptBuf::from_bytes(vec![0x51]);
        let mut w = Watches::new();
        w.watch_script(s.clone());
        let mut ev = Vec::new();
        w.block_connected(1, &block(vec![tx(&[], &[(&s, 1)], 0)]), &mut ev);
        w.block_connected(2, &block(vec![tx(&[], &[(&s, 2)], 0)]), &mut ev);
        w.forget_below(2);
        ev.clear();
        w.disconnected_above(0, &mut ev);
        assert_eq!(ev.len(), 1, "{ev:?}");
    }
}
