//! Opening, migrations, and refusing newer databases.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

mod common;

use std::path::Path;

use common::*;
use fulgur_store::{Store, StoreError, SCHEMA_VERSION};
use rusqlite::Connection;

fn raw_user_version(path: &Path) -> i64 {
    let conn = Connection::open(path).unwrap();
    conn.pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap()
}

#[test]
fn fresh_file_is_migrated_and_reopens() {
    let db = TestDb::new();
    {
        let mut store = db.open();
        assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
        assert_eq!(store.path(), db.path);
        connect_empty(&mut store, 7, 9);
    }
    assert_eq!(raw_user_version(&db.path), i64::from(SCHEMA_VERSION));
    let store = db.open();
    assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
    assert_eq!(store.best_block().unwrap(), Some((9, bhash(9, 0))));
    // WAL mode is a property of the file.
    let conn = Connection::open(&db.path).unwrap();
    let mode: String = conn
        .pragma_query_value(None, "journal_mode", |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
}

#[test]
fn newer_database_is_refused_untouched() {
    let db = TestDb::new();
    {
        // A database from "the future": a rollback journal and version SCHEMA_VERSION + 1.
        let conn = Connection::open(&db.path).unwrap();
        conn.execute_batch("CREATE TABLE future (x INTEGER);")
            .unwrap();
        conn.pragma_update(None, "user_version", SCHEMA_VERSION + 1)
            .unwrap();
    }
    let err = Store::open(&db.path).unwrap_err();
    match err {
        StoreError::NewerSchema { found, known } => {
            assert_eq!(found, SCHEMA_VERSION + 1);
            assert_eq!(known, SCHEMA_VERSION);
        }
        other => panic!("expected NewerSchema, got {other}"),
    }
    let msg = err_msg(&db.path);
    assert!(
        msg.starts_with(&format!(
            "database schema version {} is newer",
            SCHEMA_VERSION + 1
        )),
        "{msg}"
    );
    assert!(msg.chars().next().unwrap().is_lowercase());
    // Nothing was written: still the old journal mode, no tables of ours.
    let conn = Connection::open(&db.path).unwrap();
    let mode: String = conn
        .pragma_query_value(None, "journal_mode", |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "delete");
    let ours: i64 = conn
        .query_row(
            "SELECT count(*) FROM sqlite_schema WHERE name = 'outputs'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(ours, 0);
}

fn err_msg(path: &Path) -> String {
    Store::open(path).unwrap_err().to_string()
}

#[test]
fn a_partially_migrated_database_is_completed() {
    // A database at version 0 with nothing in it (e.g. created by an interrupted first start).
    let db = TestDb::new();
    Connection::open(&db.path)
        .unwrap()
        .execute_batch("PRAGMA user_version = 0;")
        .unwrap();
    let store = db.open();
    assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
}

#[test]
fn many_handles_open_a_fresh_file_at_once() {
    let db = TestDb::new();
    let path = db.path.clone();
    let handles: Vec<_> = (0..8)
        .map(|_| {
            let path = path.clone();
            std::thread::spawn(move || Store::open(&path).map(|s| s.schema_version().unwrap()))
        })
        .collect();
    for h in handles {
        assert_eq!(h.join().unwrap().unwrap(), SCHEMA_VERSION);
    }
}

#[test]
fn default_path_is_network_dir() {
    let p = Store::default_path(Path::new("/home/u/.lightning"), "regtest");
    assert_eq!(p, Path::new("/home/u/.lightning/regtest/fulgur.sqlite3"));
}

#[test]
fn missing_directory_is_an_error() {
    let db = TestDb::new();
    let err = Store::open(db.dir.path().join("no/such/dir/fulgur.sqlite3")).unwrap_err();
    assert!(matches!(err, StoreError::Sqlite(_)), "{err}");
}
