//! Opening the database, and helpers shared by the parts of [`Store`].

use std::path::{Path, PathBuf};
use std::time::Duration;

use bitcoin::hashes::Hash;
use bitcoin::{Amount, OutPoint, Txid};
use rusqlite::{Connection, Transaction, TransactionBehavior};

use crate::error::StoreError;
use crate::schema;

/// The file name of the database in the network directory.
pub const DB_FILENAME: &str = "fulgur.sqlite3";

/// How long a statement waits for another connection's write lock before failing with
/// `SQLITE_BUSY`.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// A handle on the node's database. Not `Sync`: the node shares one behind a mutex (or a
/// blocking task); independent handles on the same file (other threads, other processes) are
/// safe, SQLite serializes their writes.
#[derive(Debug)]
pub struct Store {
    pub(crate) conn: Connection,
    path: PathBuf,
}

impl Store {
    /// Where the database of a node lives: `<lightning-dir>/<network>/fulgur.sqlite3`.
    pub fn default_path(lightning_dir: &Path, network: &str) -> PathBuf {
        lightning_dir.join(network).join(DB_FILENAME)
    }

    /// Opens (creating if needed) the database at `path` and brings its schema up to date.
    ///
    /// Sets `busy_timeout`, `foreign_keys = ON`, `synchronous = FULL` and WAL mode, then applies
    /// the missing migrations, one transaction each. Refuses, without writing anything, a
    /// database whose schema is newer than this code knows ([`StoreError::NewerSchema`]). The
    /// parent directory must exist.
    pub fn open(path: impl AsRef<Path>) -> Result<Store, StoreError> {
        let path = path.as_ref().to_path_buf();
        let mut conn = Connection::open(&path)?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        // Before anything that writes to the file (the journal mode is stored in it).
        schema::check_version(&conn, schema::MIGRATIONS)?;
        let mode: String =
            conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::WalUnavailable { mode });
        }
        schema::migrate(&mut conn, schema::MIGRATIONS)?;
        Ok(Store { conn, path })
    }

    /// The file this handle is on.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The schema version of the database (`PRAGMA user_version`).
    pub fn schema_version(&self) -> Result<u32, StoreError> {
        schema::user_version(&self.conn)
    }

    /// Starts a write transaction: `BEGIN IMMEDIATE`, so it holds the write lock from its first
    /// statement, and what it reads cannot be changed by another writer before it commits.
    pub(crate) fn write_tx(&mut self) -> Result<Transaction<'_>, StoreError> {
        Ok(self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?)
    }
}

/// A txid (or block hash) as stored: 32 bytes in internal byte order (as serialized in blocks;
/// the reverse of the hex shown to users).
pub(crate) fn txid_blob(txid: &Txid) -> [u8; 32] {
    txid.to_byte_array()
}

/// The txid stored as `blob`.
pub(crate) fn txid_from(blob: [u8; 32]) -> Txid {
    Txid::from_byte_array(blob)
}

/// An outpoint's `outnum` column value.
pub(crate) fn outnum(outpoint: &OutPoint) -> i64 {
    i64::from(outpoint.vout)
}

/// An amount as stored (`amount_sat`).
pub(crate) fn sat_to_db(amount: Amount) -> Result<i64, StoreError> {
    i64::try_from(amount.to_sat()).map_err(|_| StoreError::OutOfRange { what: "amount_sat" })
}

/// A stored integer that must be a `u32`.
pub(crate) fn u32_from_db(v: i64, what: &str) -> Result<u32, StoreError> {
    u32::try_from(v).map_err(|_| StoreError::Corrupt(format!("{what} {v} out of range")))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

    use super::*;

    #[test]
    fn open_sets_the_pragmas() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path().join(DB_FILENAME)).unwrap();
        let q = |name: &str| -> String {
            store
                .conn
                .pragma_query_value(None, name, |r| r.get::<_, rusqlite::types::Value>(0))
                .map(|v| match v {
                    rusqlite::types::Value::Integer(i) => i.to_string(),
                    rusqlite::types::Value::Text(s) => s,
                    other => format!("{other:?}"),
                })
                .unwrap()
        };
        assert_eq!(q("journal_mode"), "wal");
        assert_eq!(q("foreign_keys"), "1");
        assert_eq!(q("synchronous"), "2"); // FULL
        assert_eq!(q("busy_timeout"), BUSY_TIMEOUT.as_millis().to_string());
        assert_eq!(q("user_version"), schema::SCHEMA_VERSION.to_string());
    }
}
