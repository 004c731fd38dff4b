//! Wallet keys and issued addresses.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

mod common;

use std::collections::HashSet;

use common::*;
use fulgur_store::{AddrType, Store, StoreError, MAX_KEYINDEX};

#[test]
fn next_keyindex_starts_at_one_and_is_monotonic_across_reopen() {
    let db = TestDb::new();
    {
        let mut store = db.open();
        assert_eq!(store.max_keyindex().unwrap(), 0);
        assert_eq!(store.next_keyindex().unwrap(), 1);
        assert_eq!(store.next_keyindex().unwrap(), 2);
        assert_eq!(store.max_keyindex().unwrap(), 2);
    }
    let mut store = db.open();
    assert_eq!(store.max_keyindex().unwrap(), 2);
    assert_eq!(store.next_keyindex().unwrap(), 3);
    drop(store);
    let mut store = db.open();
    assert_eq!(store.next_keyindex().unwrap(), 4);
}

#[test]
fn issue_and_record_addresses() {
    let db = TestDb::new();
    let mut store = db.open();
    assert_eq!(store.issue_address(&[AddrType::P2tr]).unwrap(), 1);
    assert_eq!(
        store
            .issue_address(&[AddrType::Bech32, AddrType::P2tr])
            .unwrap(),
        2
    );
    assert_eq!(store.next_keyindex().unwrap(), 3); // issued, never recorded
    assert_eq!(store.issue_address(&[AddrType::Bech32]).unwrap(), 4);
    store.record_address(4, AddrType::Bech32).unwrap(); // idempotent
                                                        // Recording above the highest index raises it.
    store.record_address(10, AddrType::P2tr).unwrap();
    assert_eq!(store.max_keyindex().unwrap(), 10);
    assert_eq!(store.next_keyindex().unwrap(), 11);
    // Recording below leaves it.
    store.record_address(3, AddrType::P2tr).unwrap();
    assert_eq!(store.max_keyindex().unwrap(), 11);

    use AddrType::*;
    let all = store.list_addresses(None, None).unwrap();
    assert_eq!(
        all,
        [
            (1, P2tr),
            (2, Bech32),
            (2, P2tr),
            (3, P2tr),
            (4, Bech32),
            (10, P2tr)
        ]
    );
    // `limit` counts key indices, each with all its types.
    assert_eq!(
        store.list_addresses(Some(2), Some(2)).unwrap(),
        [(2, Bech32), (2, P2tr), (3, P2tr)]
    );
    assert_eq!(store.list_addresses(Some(5), None).unwrap(), [(10, P2tr)]);
    assert_eq!(store.list_addresses(Some(1), Some(0)).unwrap(), []);
    assert_eq!(store.list_addresses(Some(11), Some(5)).unwrap(), []);
}

#[test]
fn keys_run_out_at_the_last_non_hardened_index() {
    let db = TestDb::new();
    let mut store = db.open();
    store
        .record_address(MAX_KEYINDEX - 1, AddrType::P2tr)
        .unwrap();
    assert_eq!(store.next_keyindex().unwrap(), MAX_KEYINDEX);
    let err = store.next_keyindex().unwrap_err();
    assert!(matches!(err, StoreError::KeysExhausted), "{err}");
    assert!(matches!(
        store.issue_address(&[AddrType::P2tr]),
        Err(StoreError::KeysExhausted)
    ));
    assert_eq!(store.max_keyindex().unwrap(), MAX_KEYINDEX);
    let err = store
        .record_address(MAX_KEYINDEX + 1, AddrType::P2tr)
        .unwrap_err();
    assert!(matches!(err, StoreError::OutOfRange { .. }), "{err}");
}

#[test]
fn concurrent_next_keyindex_never_repeats() {
    let db = TestDb::new();
    drop(db.open());
    let handles: Vec<_> = (0..16)
        .map(|_| {
            let path = db.path.clone();
            std::thread::spawn(move || {
                let mut store = Store::open(&path).unwrap();
                (0..10)
                    .map(|_| store.next_keyindex().unwrap())
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let mut all = HashSet::new();
    for h in handles {
        let got = h.join().unwrap();
        assert!(got.windows(2).all(|w| w[0] < w[1]), "{got:?}");
        for i in got {
            assert!(all.insert(i), "index {i} issued twice");
        }
    }
    assert_eq!(all, (1..=160).collect());
}
