//! Transactions prepared by `txprepare`, awaiting `txsend` or `txdiscard`.

use bitcoin::Txid;
use rusqlite::{params, OptionalExtension};

use crate::error::StoreError;
use crate::store::{txid_blob, txid_from, Store};
use crate::types::PreparedTx;

type Row = ([u8; 32], Vec<u8>, u32);

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Row> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
}

fn prepared((txid, psbt, created_height): Row) -> PreparedTx {
    PreparedTx {
        txid: txid_from(txid),
        psbt,
        created_height,
    }
}

impl Store {
    /// Stores a prepared transaction (its PSBT in BIP 174 binary), replacing one with the same
    /// txid. Commit this before `txprepare` answers.
    pub fn save_prepared(
        &mut self,
        txid: &Txid,
        psbt: &[u8],
        created_height: u32,
    ) -> Result<(), StoreError> {
        let tx = self.write_tx()?;
        tx.execute(
            "INSERT INTO prepared_txs (txid, psbt, created_height) VALUES (?1, ?2, ?3)
             ON CONFLICT (txid) DO UPDATE SET
                psbt = excluded.psbt, created_height = excluded.created_height",
            params![txid_blob(txid), psbt, created_height],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// A prepared transaction, left in place.
    pub fn get_prepared(&self, txid: &Txid) -> Result<Option<PreparedTx>, StoreError> {
        let r = self
            .conn
            .query_row(
                "SELECT txid, psbt, created_height FROM prepared_txs WHERE txid = ?1",
                [txid_blob(txid)],
                row,
            )
            .optional()?;
        Ok(r.map(prepared))
    }

    /// Removes and returns a prepared transaction (`txsend`, `txdiscard`): of two concurrent
    /// calls for the same txid, exactly one gets it.
    pub fn take_prepared(&mut self, txid: &Txid) -> Result<Option<PreparedTx>, StoreError> {
        let tx = self.write_tx()?;
        let r = tx
            .query_row(
                "DELETE FROM prepared_txs WHERE txid = ?1
                 RETURNING txid, psbt, created_height",
                [txid_blob(txid)],
                row,
            )
            .optional()?;
        tx.commit()?;
        Ok(r.map(prepared))
    }

    /// Every prepared transaction, oldest first.
    pub fn list_prepared(&self) -> Result<Vec<PreparedTx>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT txid, psbt, created_height FROM prepared_txs ORDER BY created_height, rowid",
        )?;
        let rows = stmt.query_map([], row)?;
        let mut out = Vec::new();
        for r in rows {
            out.push(prepared(r?));
        }
        Ok(out)
    }
}
