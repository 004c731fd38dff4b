//! Wallet keys: the highest issued BIP 32 index, and the addresses issued.

use rusqlite::{params, OptionalExtension, Transaction};

use crate::error::StoreError;
use crate::store::{u32_from_db, Store};
use crate::types::AddrType;
use crate::types::AddrTypeDb;

/// The `vars` row holding the highest issued key index (CLN's name for it).
pub const VAR_MAX_KEYINDEX: &str = "bip32_max_index";

/// The highest key index the wallet may issue: the last non-hardened BIP 32 index.
pub const MAX_KEYINDEX: u32 = (1 << 31) - 1;

impl Store {
    /// Issues a new key index: atomically increments the highest issued index and returns it.
    /// The first is 1 (index 0 is never used, as in CLN). Fails with
    /// [`StoreError::KeysExhausted`] after [`MAX_KEYINDEX`].
    pub fn next_keyindex(&mut self) -> Result<u32, StoreError> {
        let tx = self.write_tx()?;
        let index = bump_keyindex(&tx)?;
        tx.commit()?;
        Ok(index)
    }

    /// Issues a new key index and records it as issued for each of `addrtypes` (two for
    /// `newaddr addresstype=all`), in one transaction. Returns the index.
    pub fn issue_address(&mut self, addrtypes: &[AddrType]) -> Result<u32, StoreError> {
        let tx = self.write_tx()?;
        let index = bump_keyindex(&tx)?;
        for t in addrtypes {
            insert_address(&tx, index, *t)?;
        }
        tx.commit()?;
        Ok(index)
    }

    /// The highest issued key index (0 if none was).
    pub fn max_keyindex(&self) -> Result<u32, StoreError> {
        let v: Option<i64> = self
            .conn
            .query_row(
                "SELECT value FROM vars WHERE name = ?1",
                [VAR_MAX_KEYINDEX],
                |r| r.get(0),
            )
            .optional()?;
        v.map_or(Ok(0), |v| u32_from_db(v, VAR_MAX_KEYINDEX))
    }

    /// Records that the address of type `addrtype` of key `keyindex` was issued (idempotent).
    /// Raises the highest issued index to `keyindex` if it was lower, so
    /// [`Store::next_keyindex`] never issues a recorded index again.
    pub fn record_address(&mut self, keyindex: u32, addrtype: AddrType) -> Result<(), StoreError> {
        if keyindex > MAX_KEYINDEX {
            return Err(StoreError::OutOfRange { what: "keyindex" });
        }
        let tx = self.write_tx()?;
        insert_address(&tx, keyindex, addrtype)?;
        tx.execute(
            "INSERT INTO vars (name, value) VALUES (?1, ?2)
             ON CONFLICT (name) DO UPDATE SET value = max(value, excluded.value)",
            params![VAR_MAX_KEYINDEX, keyindex],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// The issued addresses, by key index then type: those of the first `limit` issued key
    /// indices (each with all its types) from `start` on (CLN `listaddresses start limit`).
    /// `None` means from the beginning / no limit.
    pub fn list_addresses(
        &self,
        start: Option<u32>,
        limit: Option<u32>,
    ) -> Result<Vec<(u32, AddrType)>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT keyindex, addrtype FROM addresses
             WHERE keyindex IN (SELECT DISTINCT keyindex FROM addresses
                                WHERE keyindex >= ?1 ORDER BY keyindex LIMIT ?2)
             ORDER BY keyindex, addrtype",
        )?;
        let limit = limit.map_or(-1, i64::from);
        let rows = stmt.query_map(params![start.unwrap_or(0), limit], |r| {
            Ok((r.get::<_, u32>(0)?, r.get::<_, i64>(1)?))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (index, t) = row?;
            let t = AddrType::from_db(t)
                .ok_or_else(|| StoreError::Corrupt(format!("unknown addrtype {t}")))?;
            out.push((index, t));
        }
        Ok(out)
    }
}

fn bump_keyindex(tx: &Transaction<'_>) -> Result<u32, StoreError> {
    let current: Option<i64> = tx
        .query_row(
            "SELECT value FROM vars WHERE name = ?1",
            [VAR_MAX_KEYINDEX],
            |r| r.get(0),
        )
        .optional()?;
    let current = current.map_or(Ok(0), |v| u32_from_db(v, VAR_MAX_KEYINDEX))?;
    if current >= MAX_KEYINDEX {
        return Err(StoreError::KeysExhausted);
    }
    let next = current + 1;
    tx.execute(
        "INSERT INTO vars (name, value) VALUES (?1, ?2)
         ON CONFLICT (name) DO UPDATE SET value = excluded.value",
        params![VAR_MAX_KEYINDEX, next],
    )?;
    Ok(next)
}

fn insert_address(tx: &Transaction<'_>, keyindex: u32, t: AddrType) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO addresses (keyindex, addrtype) VALUES (?1, ?2)
         ON CONFLICT (keyindex, addrtype) DO NOTHING",
        params![keyindex, t.to_db()],
    )?;
    Ok(())
}
