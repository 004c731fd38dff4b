//! The schema: an append-only list of migrations, and the code that applies them.
//!
//! Rules (see `docs/storage.md`):
//! - never edit or remove a migration once it is released: add a new one at the end
//!   (`released_migrations_are_pinned` fails otherwise);
//! - `PRAGMA user_version` is the number of migrations applied;
//! - each migration is applied in its own `BEGIN IMMEDIATE` transaction together with the
//!   version bump, so a crash leaves the database at one version or the next, never between.

use rusqlite::{Connection, TransactionBehavior};

use crate::error::StoreError;

/// The migrations, in order. Migration `i` (0-based) takes the schema from version `i` to `i + 1`.
pub const MIGRATIONS: &[&str] = &[
    // 1: chain, wallet keys and coins, transactions, prepared transactions.
    r#"
CREATE TABLE vars (
    name TEXT PRIMARY KEY NOT NULL,
    value ANY
) STRICT;

CREATE TABLE blocks (
    height INTEGER PRIMARY KEY CHECK (height >= 0),
    hash BLOB NOT NULL UNIQUE CHECK (length(hash) = 32),
    prev_hash BLOB NOT NULL CHECK (length(prev_hash) = 32)
) STRICT;

CREATE TABLE addresses (
    keyindex INTEGER NOT NULL CHECK (keyindex >= 0),
    addrtype INTEGER NOT NULL,
    PRIMARY KEY (keyindex, addrtype)
) STRICT;

CREATE TABLE outputs (
    txid BLOB NOT NULL CHECK (length(txid) = 32),
    outnum INTEGER NOT NULL CHECK (outnum >= 0),
    amount_sat INTEGER NOT NULL CHECK (amount_sat >= 0),
    scriptpubkey BLOB NOT NULL,
    keyindex INTEGER NOT NULL CHECK (keyindex >= 0),
    addrtype INTEGER NOT NULL,
    is_change INTEGER NOT NULL CHECK (is_change IN (0, 1)),
    is_coinbase INTEGER NOT NULL DEFAULT 0 CHECK (is_coinbase IN (0, 1)),
    confirmation_height INTEGER REFERENCES blocks(height) ON DELETE SET NULL,
    spend_txid BLOB CHECK (spend_txid IS NULL OR length(spend_txid) = 32),
    spend_height INTEGER REFERENCES blocks(height) ON DELETE SET NULL,
    reserved_til INTEGER CHECK (reserved_til IS NULL OR reserved_til >= 0),
    PRIMARY KEY (txid, outnum),
    CHECK (spend_height IS NULL OR spend_txid IS NOT NULL)
) STRICT;

CREATE INDEX outputs_confirmation_height ON outputs (confirmation_height);
CREATE INDEX outputs_spend_height ON outputs (spend_height);
CREATE INDEX outputs_spend_txid ON outputs (spend_txid);

CREATE TABLE transactions (
    txid BLOB PRIMARY KEY NOT NULL CHECK (length(txid) = 32),
    rawtx BLOB NOT NULL,
    blockheight INTEGER REFERENCES blocks(height) ON DELETE SET NULL,
    txindex INTEGER CHECK (txindex IS NULL OR txindex >= 0)
) STRICT;

CREATE INDEX transactions_blockheight ON transactions (blockheight);

CREATE TABLE prepared_txs (
    txid BLOB PRIMARY KEY NOT NULL CHECK (length(txid) = 32),
    psbt BLOB NOT NULL,
    created_height INTEGER NOT NULL CHECK (created_height >= 0)
) STRICT;
"#,
    // 2: channels. The channel machine's state is one JSON record per channel, written
    // before any message, signature or transaction it produced leaves the node; the other
    // columns repeat what lookups and listings need.
    r#"
CREATE TABLE channels (
    dbid INTEGER PRIMARY KEY NOT NULL CHECK (dbid > 0),
    peer_id BLOB NOT NULL CHECK (length(peer_id) = 33),
    channel_id BLOB NOT NULL UNIQUE CHECK (length(channel_id) = 32),
    state TEXT NOT NULL,
    record TEXT NOT NULL,
    opened_height INTEGER NOT NULL CHECK (opened_height >= 0),
    closed_height INTEGER CHECK (closed_height IS NULL OR closed_height >= 0)
) STRICT;

CREATE INDEX channels_peer ON channels (peer_id);
"#,
    // 3: peers' addresses, so channel peers are reconnected after a disconnection or a
    // restart (the address we last reached each one at); every HTLC our channels ever
    // carried, with its latest state (`listhtlcs`).
    r#"
CREATE TABLE peers (
    node_id BLOB PRIMARY KEY NOT NULL CHECK (length(node_id) = 33),
    address TEXT NOT NULL
) STRICT;

CREATE TABLE htlcs (
    created_index INTEGER PRIMARY KEY NOT NULL CHECK (created_index > 0),
    updated_index INTEGER UNIQUE CHECK (updated_index IS NULL OR updated_index > 0),
    channel_dbid INTEGER NOT NULL REFERENCES channels(dbid),
    direction INTEGER NOT NULL CHECK (direction IN (0, 1)),
    htlc_id INTEGER NOT NULL CHECK (htlc_id >= 0),
    amount_msat INTEGER NOT NULL CHECK (amount_msat >= 0),
    cltv_expiry INTEGER NOT NULL CHECK (cltv_expiry >= 0),
    payment_hash BLOB NOT NULL CHECK (length(payment_hash) = 32),
    state TEXT NOT NULL,
    UNIQUE (channel_dbid, direction, htlc_id)
) STRICT;
"#,
];

/// The schema version this code writes: the number of migrations it knows.
pub const SCHEMA_VERSION: u32 = MIGRATIONS.len() as u32;

/// Reads `PRAGMA user_version`.
pub(crate) fn user_version(conn: &Connection) -> Result<u32, StoreError> {
    let v: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    u32::try_from(v).map_err(|_| StoreError::Corrupt(format!("negative user_version {v}")))
}

/// Fails with [`StoreError::NewerSchema`] if `found` is newer than `migrations` know.
fn check_not_newer(found: u32, migrations: &[&str]) -> Result<(), StoreError> {
    let known = known_version(migrations);
    if found > known {
        return Err(StoreError::NewerSchema { found, known });
    }
    Ok(())
}

fn known_version(migrations: &[&str]) -> u32 {
    u32::try_from(migrations.len()).unwrap_or(u32::MAX)
}

/// Refuses a database newer than `migrations` without writing anything.
pub(crate) fn check_version(conn: &Connection, migrations: &[&str]) -> Result<(), StoreError> {
    check_not_newer(user_version(conn)?, migrations)
}

/// Applies the missing migrations, one transaction each. Safe against other handles migrating
/// the same file at the same time: the version is re-read under the write lock.
pub(crate) fn migrate(conn: &mut Connection, migrations: &[&str]) -> Result<(), StoreError> {
    let known = known_version(migrations);
    loop {
        // Cheap read first: the usual open has nothing to do and should not take the write lock.
        let version = user_version(conn)?;
        check_not_newer(version, migrations)?;
        if version == known {
            return Ok(());
        }
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let version = user_version(&tx)?;
        check_not_newer(version, migrations)?;
        if version == known {
            return Ok(());
        }
        let Some(sql) = usize::try_from(version)
            .ok()
            .and_then(|i| migrations.get(i))
        else {
            return Err(StoreError::Corrupt(format!(
                "no migration for version {version}"
            )));
        };
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", version + 1)?;
        tx.commit()?;
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

    use super::*;
    use bitcoin::hashes::{sha256, Hash};

    /// SHA-256 (hex) of the SQL text of every released migration, in order.
    ///
    /// A released migration must never change: a node that already applied it would not apply
    /// the edit, and nodes would end up with different schemas at the same version. Add a new
    /// migration instead, and append its hash here when it is released.
    const RELEASED: &[&str] = &[
        "ae67f6a87729ff5f59123eaf0e4d7dce3553f3fc5fd8367c7876d916c6bdd6e3",
        "398e64f5c37a307f4d8abd8d5839a53aa30b7d7a98e4972427699609a411ca76",
    ];

    /// The SQL with every run of whitespace made one space, so line endings and indentation do
    /// not matter (a checkout with CRLF line endings must not fail).
    fn normalized(sql: &str) -> String {
        sql.split_whitespace().collect::<Vec<_>>().join(" ")
    }

    #[test]
    fn released_migrations_are_pinned() {
        assert!(
            MIGRATIONS.len() >= RELEASED.len(),
            "a released migration was removed: migrations are append-only"
        );
        for (i, (sql, pinned)) in MIGRATIONS.iter().zip(RELEASED).enumerate() {
            let got = sha256::Hash::hash(normalized(sql).as_bytes()).to_string();
            assert_eq!(
                &got,
                pinned,
                "migration {} was edited after release; add a new migration instead",
                i + 1
            );
        }
    }

    #[test]
    fn schema_version_is_number_of_migrations() {
        assert_eq!(SCHEMA_VERSION as usize, MIGRATIONS.len());
        assert_eq!(SCHEMA_VERSION, 3);
    }

    fn fresh() -> (tempfile::TempDir, Connection) {
        let dir = tempfile::tempdir().unwrap();
        let conn = Connection::open(dir.path().join("t.sqlite3")).unwrap();
        conn.pragma_update(None, "foreign_keys", "ON").unwrap();
        (dir, conn)
    }

    #[test]
    fn each_migration_is_its_own_transaction() {
        let (_dir, mut conn) = fresh();
        let broken = [
            MIGRATIONS[0],
            "CREATE TABLE extra (x INTEGER); THIS IS NOT SQL;",
        ];
        let err = migrate(&mut conn, &broken).unwrap_err();
        assert!(matches!(err, StoreError::Sqlite(_)), "{err}");
        // Migration 1 stayed applied; the broken second one left nothing behind.
        assert_eq!(user_version(&conn).unwrap(), 1);
        let extra: i64 = conn
            .query_row(
                "SELECT count(*) FROM sqlite_schema WHERE name = 'extra'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(extra, 0);
        // With the fixed list, the second applies.
        let fixed = [MIGRATIONS[0], "CREATE TABLE extra (x INTEGER);"];
        migrate(&mut conn, &fixed).unwrap();
        assert_eq!(user_version(&conn).unwrap(), 2);
        // And going back to the older code is refused.
        let err = migrate(&mut conn, &MIGRATIONS[..1]).unwrap_err();
        assert!(
            matches!(err, StoreError::NewerSchema { found: 2, known: 1 }),
            "{err}"
        );
    }

    #[test]
    fn migrations_apply_to_an_empty_database_and_are_idempotent() {
        let (_dir, mut conn) = fresh();
        migrate(&mut conn, MIGRATIONS).unwrap();
        migrate(&mut conn, MIGRATIONS).unwrap();
        assert_eq!(user_version(&conn).unwrap(), SCHEMA_VERSION);
        let mut names: Vec<String> = conn
            .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        names.sort();
        assert_eq!(
            names,
            [
                "addresses",
                "blocks",
                "channels",
                "htlcs",
                "outputs",
                "peers",
                "prepared_txs",
                "transactions",
                "vars"
            ]
        );
    }
}
