//! The chain as the node processed it, and the transactions that change our coins.

use bitcoin::hashes::Hash;
use bitcoin::{BlockHash, Txid};
use rusqlite::{params, OptionalExtension, Transaction};

use crate::error::StoreError;
use crate::store::{outnum, sat_to_db, txid_blob, txid_from, u32_from_db, Store};
use crate::types::AddrTypeDb;
use crate::types::{BlockConnect, BroadcastTx, NewOutput, StoredTx};

impl Store {
    /// The highest stored block, if any.
    pub fn best_block(&self) -> Result<Option<(u32, BlockHash)>, StoreError> {
        let row: Option<(u32, [u8; 32])> = self
            .conn
            .query_row(
                "SELECT height, hash FROM blocks ORDER BY height DESC LIMIT 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        Ok(row.map(|(h, hash)| (h, BlockHash::from_byte_array(hash))))
    }

    /// The hash of the stored block at `height`, if any.
    pub fn block_hash(&self, height: u32) -> Result<Option<BlockHash>, StoreError> {
        let hash: Option<[u8; 32]> = self
            .conn
            .query_row("SELECT hash FROM blocks WHERE height = ?1", [height], |r| {
                r.get(0)
            })
            .optional()?;
        Ok(hash.map(BlockHash::from_byte_array))
    }

    /// Stores block `block.height` and everything it changes for us, in one transaction.
    ///
    /// Fails, changing nothing, with [`StoreError::BlockExists`] if a block is stored at that
    /// height, and with [`StoreError::PrevHashMismatch`] if `prev_hash` is not the stored hash
    /// at `height - 1` (unless no block is stored at all: the first block may be at any height).
    /// So the stored blocks are always one contiguous chain.
    ///
    /// Outputs and transactions we already know unconfirmed (from our own broadcast) are
    /// updated with the height; spends set `spend_txid` and `spend_height` (replacing an
    /// unconfirmed spend by another transaction); spends of outpoints we do not own are ignored.
    pub fn connect_block(&mut self, block: &BlockConnect) -> Result<(), StoreError> {
        let tx = self.write_tx()?;
        let height = block.height;
        let exists: bool = tx.query_row(
            "SELECT EXISTS (SELECT 1 FROM blocks WHERE height = ?1)",
            [height],
            |r| r.get(0),
        )?;
        if exists {
            return Err(StoreError::BlockExists { height });
        }
        let any: bool = tx.query_row("SELECT EXISTS (SELECT 1 FROM blocks)", [], |r| r.get(0))?;
        if any {
            let prev: Option<[u8; 32]> = match height.checked_sub(1) {
                None => None,
                Some(below) => tx
                    .query_row("SELECT hash FROM blocks WHERE height = ?1", [below], |r| {
                        r.get(0)
                    })
                    .optional()?,
            };
            if prev != Some(block.prev_hash.to_byte_array()) {
                return Err(StoreError::PrevHashMismatch { height });
            }
        }
        tx.execute(
            "INSERT INTO blocks (height, hash, prev_hash) VALUES (?1, ?2, ?3)",
            params![
                height,
                block.hash.to_byte_array(),
                block.prev_hash.to_byte_array()
            ],
        )?;
        {
            let mut stmt = tx.prepare_cached(
                "INSERT INTO transactions (txid, rawtx, blockheight, txindex)
                 VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (txid) DO UPDATE SET
                    rawtx = excluded.rawtx,
                    blockheight = excluded.blockheight,
                    txindex = excluded.txindex",
            )?;
            for (txid, raw, txindex) in &block.transactions {
                stmt.execute(params![txid_blob(txid), raw, height, txindex])?;
            }
        }
        for output in &block.new_outputs {
            upsert_output(&tx, output, Some(height))?;
        }
        {
            let mut stmt = tx.prepare_cached(
                "UPDATE outputs SET spend_txid = ?1, spend_height = ?2
                 WHERE txid = ?3 AND outnum = ?4",
            )?;
            for (outpoint, spender) in &block.spends {
                stmt.execute(params![
                    txid_blob(spender),
                    height,
                    txid_blob(&outpoint.txid),
                    outnum(outpoint)
                ])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Forgets the blocks above `height` (a reorg), in one transaction, and returns how many.
    ///
    /// Every output, spend and transaction confirmed in them becomes unconfirmed (the foreign
    /// keys are `ON DELETE SET NULL`); the spending txids stay, so those outputs are still not
    /// available until the wallet decides otherwise.
    pub fn disconnect_above(&mut self, height: u32) -> Result<usize, StoreError> {
        let tx = self.write_tx()?;
        let n = tx.execute("DELETE FROM blocks WHERE height > ?1", [height])?;
        tx.execute(
            "UPDATE transactions SET txindex = NULL
             WHERE blockheight IS NULL AND txindex IS NOT NULL",
            [],
        )?;
        tx.commit()?;
        Ok(n)
    }

    /// Records a transaction of ours before it is broadcast, in one transaction: stores it
    /// (unconfirmed), marks the outputs of ours it spends with its txid (no height), and adds
    /// its change outputs unconfirmed.
    ///
    /// An input spent in a block by another transaction fails the whole call with
    /// [`StoreError::SpentInBlock`]; an unconfirmed spend by another transaction (one we are
    /// replacing) is overwritten. Inputs that are not ours are ignored. Calling it again for the
    /// same transaction is harmless.
    pub fn record_broadcast(&mut self, btx: &BroadcastTx) -> Result<(), StoreError> {
        let tx = self.write_tx()?;
        tx.execute(
            "INSERT INTO transactions (txid, rawtx) VALUES (?1, ?2)
             ON CONFLICT (txid) DO UPDATE SET rawtx = excluded.rawtx
             WHERE blockheight IS NULL",
            params![txid_blob(&btx.txid), btx.raw],
        )?;
        for outpoint in &btx.spends {
            // spend_txid is never NULL when spend_height is set (a CHECK constraint).
            let confirmed: Option<[u8; 32]> = tx
                .query_row(
                    "SELECT spend_txid FROM outputs
                     WHERE txid = ?1 AND outnum = ?2 AND spend_height IS NOT NULL",
                    params![txid_blob(&outpoint.txid), outnum(outpoint)],
                    |r| r.get(0),
                )
                .optional()?;
            if let Some(spender) = confirmed {
                let spend_txid = txid_from(spender);
                if spend_txid != btx.txid {
                    return Err(StoreError::SpentInBlock {
                        outpoint: *outpoint,
                        spend_txid,
                    });
                }
                continue;
            }
            tx.execute(
                "UPDATE outputs SET spend_txid = ?1 WHERE txid = ?2 AND outnum = ?3",
                params![
                    txid_blob(&btx.txid),
                    txid_blob(&outpoint.txid),
                    outnum(outpoint)
                ],
            )?;
        }
        for output in &btx.new_outputs {
            insert_output_if_new(&tx, output)?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Undoes [`Store::record_broadcast`] for a transaction that never made it out (the
    /// broadcast was refused), in one transaction: our outputs it spent are unspent again, its
    /// unconfirmed outputs and the transaction are removed. Reservations are left as they are.
    ///
    /// Returns `false` if the transaction is unknown. Fails with [`StoreError::TxConfirmed`]
    /// if it is in a block, and with [`StoreError::TxHasSpentOutput`] if one of its outputs is
    /// spent (forget the child first).
    pub fn forget_broadcast(&mut self, txid: &Txid) -> Result<bool, StoreError> {
        let tx = self.write_tx()?;
        let id = txid_blob(txid);
        let row: Option<Option<u32>> = tx
            .query_row(
                "SELECT blockheight FROM transactions WHERE txid = ?1",
                [id],
                |r| r.get(0),
            )
            .optional()?;
        let Some(blockheight) = row else {
            return Ok(false);
        };
        let confirmed_output: bool = tx.query_row(
            "SELECT EXISTS (SELECT 1 FROM outputs
                            WHERE txid = ?1 AND confirmation_height IS NOT NULL)",
            [id],
            |r| r.get(0),
        )?;
        if blockheight.is_some() || confirmed_output {
            return Err(StoreError::TxConfirmed { txid: *txid });
        }
        let spent_output: bool = tx.query_row(
            "SELECT EXISTS (SELECT 1 FROM outputs WHERE txid = ?1 AND spend_txid IS NOT NULL)",
            [id],
            |r| r.get(0),
        )?;
        if spent_output {
            return Err(StoreError::TxHasSpentOutput { txid: *txid });
        }
        tx.execute(
            "UPDATE outputs SET spend_txid = NULL WHERE spend_txid = ?1 AND spend_height IS NULL",
            [id],
        )?;
        tx.execute("DELETE FROM outputs WHERE txid = ?1", [id])?;
        tx.execute("DELETE FROM transactions WHERE txid = ?1", [id])?;
        tx.commit()?;
        Ok(true)
    }

    /// A stored transaction.
    pub fn transaction(&self, txid: &Txid) -> Result<Option<StoredTx>, StoreError> {
        let row = self
            .conn
            .query_row(
                "SELECT txid, rawtx, blockheight, txindex FROM transactions WHERE txid = ?1",
                [txid_blob(txid)],
                stored_tx_row,
            )
            .optional()?;
        row.map(stored_tx).transpose()
    }

    /// Every stored transaction: confirmed ones by (height, position), then unconfirmed ones
    /// in the order they were stored.
    pub fn transactions(&self) -> Result<Vec<StoredTx>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT txid, rawtx, blockheight, txindex FROM transactions
             ORDER BY blockheight IS NULL, blockheight, txindex, rowid",
        )?;
        let rows = stmt.query_map([], stored_tx_row)?;
        let mut out = Vec::new();
        for row in rows {
            out.push(stored_tx(row?)?);
        }
        Ok(out)
    }
}

type StoredTxRow = ([u8; 32], Vec<u8>, Option<i64>, Option<i64>);

fn stored_tx_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<StoredTxRow> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
}

fn stored_tx((txid, raw, blockheight, txindex): StoredTxRow) -> Result<StoredTx, StoreError> {
    let blockheight = blockheight
        .map(|h| u32_from_db(h, "blockheight"))
        .transpose()?;
    // The position is meaningless once the block is gone.
    let txindex = match blockheight {
        Some(_) => txindex.map(|i| u32_from_db(i, "txindex")).transpose()?,
        None => None,
    };
    Ok(StoredTx {
        txid: txid_from(txid),
        raw,
        blockheight,
        txindex,
    })
}

/// Inserts an output, or sets the confirmation height of a known one.
fn upsert_output(
    tx: &Transaction<'_>,
    o: &NewOutput,
    confirmation_height: Option<u32>,
) -> Result<(), StoreError> {
    let mut stmt = tx.prepare_cached(
        "INSERT INTO outputs (txid, outnum, amount_sat, scriptpubkey, keyindex, addrtype,
                              is_change, is_coinbase, confirmation_height)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
         ON CONFLICT (txid, outnum) DO UPDATE SET
            confirmation_height = excluded.confirmation_height",
    )?;
    stmt.execute(params![
        txid_blob(&o.outpoint.txid),
        outnum(&o.outpoint),
        sat_to_db(o.amount)?,
        o.script_pubkey.as_bytes(),
        o.keyindex,
        o.addrtype.to_db(),
        o.is_change,
        o.is_coinbase,
        confirmation_height,
    ])?;
    Ok(())
}

/// Inserts an unconfirmed output unless it is known.
fn insert_output_if_new(tx: &Transaction<'_>, o: &NewOutput) -> Result<(), StoreError> {
    let mut stmt = tx.prepare_cached(
        "INSERT INTO outputs (txid, outnum, amount_sat, scriptpubkey, keyindex, addrtype,
                              is_change, is_coinbase)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
         ON CONFLICT (txid, outnum) DO NOTHING",
    )?;
    stmt.execute(params![
        txid_blob(&o.outpoint.txid),
        outnum(&o.outpoint),
        sat_to_db(o.amount)?,
        o.script_pubkey.as_bytes(),
        o.keyindex,
        o.addrtype.to_db(),
        o.is_change,
        o.is_coinbase,
    ])?;
    Ok(())
}
