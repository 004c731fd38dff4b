//! Reservations, coin selection, prepared transactions.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

mod common;

use bitcoin::Amount;
use common::*;
use fulgur_store::{
    BroadcastTx, OutputFilter, ReservationChange, ReserveError, SelectError, Store,
};

fn reserved_to(store: &Store, outpoint: bitcoin::OutPoint, h: u32) -> Option<u32> {
    store
        .output(&outpoint, h)
        .unwrap()
        .unwrap()
        .reserved_to_block
}

#[test]
fn reserve_reports_like_reserveinputs() {
    let db = TestDb::new();
    let mut store = store_with_coins(&db, 3);
    let got = store
        .reserve(&[op(1000, 0), op(1001, 0)], 100, 72, true)
        .unwrap();
    assert_eq!(
        got,
        [
            ReservationChange {
                outpoint: op(1000, 0),
                was_reserved: false,
                reserved: true,
                reserved_to_block: Some(172)
            },
            ReservationChange {
                outpoint: op(1001, 0),
                was_reserved: false,
                reserved: true,
                reserved_to_block: Some(172)
            },
        ]
    );
    let info = store.output(&op(1000, 0), 100).unwrap().unwrap();
    assert!(info.reserved);
    assert_eq!(info.reserved_to_block, Some(172));
    assert!(!store.output(&op(1002, 0), 100).unwrap().unwrap().reserved);
}

#[test]
fn reserve_is_all_or_nothing() {
    let db = TestDb::new();
    let mut store = store_with_coins(&db, 4);
    store.reserve(&[op(1003, 0)], 100, 10, true).unwrap();
    store
        .record_broadcast(&BroadcastTx {
            txid: txid(7),
            raw: vec![7],
            spends: vec![op(1002, 0)],
            new_outputs: vec![],
        })
        .unwrap();
    let before = store.outputs(OutputFilter::All, 100).unwrap();

    let cases: Vec<(Vec<bitcoin::OutPoint>, &str)> = vec![
        (vec![op(1000, 0), op(1001, 0), op(5555, 0)], "unknown"),
        (vec![op(1000, 0), op(1002, 0)], "spent"),
        (vec![op(1000, 0), op(1001, 0), op(1003, 0)], "reserved"),
        (vec![op(1000, 0), op(1001, 0), op(1000, 0)], "duplicate"),
    ];
    for (outpoints, what) in cases {
        let err = store.reserve(&outpoints, 100, 72, true).unwrap_err();
        let named = match (&err, what) {
            (ReserveError::Unknown(o), "unknown") => *o,
            (ReserveError::Spent(o), "spent") => *o,
            (ReserveError::AlreadyReserved { outpoint, until }, "reserved") => {
                assert_eq!(*until, 110);
                *outpoint
            }
            (ReserveError::Duplicate(o), "duplicate") => *o,
            _ => panic!("{what}: unexpected {err}"),
        };
        let expected = match what {
            "unknown" => op(5555, 0),
            "spent" => op(1002, 0),
            "reserved" => op(1003, 0),
            _ => op(1000, 0),
        };
        assert_eq!(named, expected, "{what}");
        assert!(err.to_string().contains(&expected.to_string()), "{err}");
        assert_eq!(
            store.outputs(OutputFilter::All, 100).unwrap(),
            before,
            "{what}"
        );
    }
    assert_eq!(
        store
            .reserve(&[op(5555, 0)], 100, 1, true)
            .unwrap_err()
            .to_string(),
        format!("unknown output {}", op(5555, 0))
    );
}

#[test]
fn reservations_expire_by_height_as_in_cln() {
    let db = TestDb::new();
    let mut store = store_with_coins(&db, 2);
    store.reserve(&[op(1000, 0)], 100, 72, true).unwrap();
    // Reserved while reserved_to_block > current height.
    assert_eq!(reserved_to(&store, op(1000, 0), 171), Some(172));
    assert_eq!(reserved_to(&store, op(1000, 0), 172), None);
    let avail = |store: &Store, h| -> Vec<_> {
        store
            .available_outputs(h)
            .unwrap()
            .into_iter()
            .map(|a| a.outpoint)
            .collect()
    };
    assert_eq!(avail(&store, 171), [op(1001, 0)]);
    assert_eq!(avail(&store, 172), [op(1000, 0), op(1001, 0)]);

    // An exclusive reservation of an expired one starts from the current height.
    let got = store.reserve(&[op(1000, 0)], 180, 10, true).unwrap();
    assert_eq!(
        (got[0].was_reserved, got[0].reserved_to_block),
        (false, Some(190))
    );
}

#[test]
fn non_exclusive_reservation_extends() {
    let db = TestDb::new();
    let mut store = store_with_coins(&db, 2);
    store.reserve(&[op(1000, 0)], 100, 72, true).unwrap();
    let got = store
        .reserve(&[op(1000, 0), op(1001, 0)], 150, 72, false)
        .unwrap();
    assert_eq!(
        (got[0].was_reserved, got[0].reserved_to_block),
        (true, Some(244))
    );
    assert_eq!(
        (got[1].was_reserved, got[1].reserved_to_block),
        (false, Some(222))
    );
    // Spent coins are refused even when not exclusive.
    store
        .record_broadcast(&BroadcastTx {
            txid: txid(7),
            raw: vec![7],
            spends: vec![op(1001, 0)],
            new_outputs: vec![],
        })
        .unwrap();
    assert!(matches!(
        store.reserve(&[op(1001, 0)], 150, 1, false),
        Err(ReserveError::Spent(o)) if o == op(1001, 0)
    ));
}

#[test]
fn unreserve_shortens_or_clears() {
    let db = TestDb::new();
    let mut store = store_with_coins(&db, 3);
    store
        .reserve(&[op(1000, 0), op(1001, 0)], 100, 72, true)
        .unwrap();
    store.reserve(&[op(1000, 0)], 100, 72, false).unwrap(); // until 244
    let got = store
        .unreserve(&[op(1000, 0), op(1001, 0), op(1002, 0), op(9, 9)], 100, 72)
        .unwrap();
    // Not reserved / not ours: skipped.
    assert_eq!(
        got,
        [
            ReservationChange {
                outpoint: op(1000, 0),
                was_reserved: true,
                reserved: true,
                reserved_to_block: Some(172)
            },
            ReservationChange {
                outpoint: op(1001, 0),
                was_reserved: true,
                reserved: false,
                reserved_to_block: None
            },
        ]
    );
    assert_eq!(reserved_to(&store, op(1000, 0), 100), Some(172));
    assert_eq!(reserved_to(&store, op(1001, 0), 100), None);
    // Unreserving an expired reservation clears it.
    let got = store.unreserve(&[op(1000, 0)], 200, 1).unwrap();
    assert_eq!((got[0].was_reserved, got[0].reserved), (false, false));
    assert!(store.unreserve(&[op(1000, 0)], 200, 1).unwrap().is_empty());
}

#[test]
fn reservations_survive_reopen() {
    let db = TestDb::new();
    {
        let mut store = store_with_coins(&db, 2);
        store.reserve(&[op(1001, 0)], 100, 72, true).unwrap();
    }
    let mut store = db.open();
    assert_eq!(reserved_to(&store, op(1001, 0), 150), Some(172));
    assert!(matches!(
        store.reserve(&[op(1001, 0)], 150, 72, true),
        Err(ReserveError::AlreadyReserved { until: 172, .. })
    ));
}

#[derive(Debug, PartialEq)]
struct Insufficient;

impl std::fmt::Display for Insufficient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("insufficient funds")
    }
}

#[test]
fn select_and_reserve_offers_available_and_reserves_the_choice() {
    let db = TestDb::new();
    let mut store = store_with_coins(&db, 5);
    store.reserve(&[op(1001, 0)], 100, 10, true).unwrap();
    // A minconf=2 caller at height 100: block-100 outputs have 1 confirmation.
    let sel = store.select_and_reserve(100, 72, |avail| {
        assert_eq!(avail.len(), 4);
        let conf: Vec<_> = avail.iter().filter(|a| a.confirmations(100) >= 2).collect();
        if conf.is_empty() {
            Err(Insufficient)
        } else {
            Ok(vec![])
        }
    });
    assert!(matches!(sel, Err(SelectError::Select(Insufficient))));
    assert!(!store.output(&op(1000, 0), 100).unwrap().unwrap().reserved);

    // Pick coins until 7000 sat, largest first.
    let sel = store
        .select_and_reserve(101, 72, |avail| {
            let mut v: Vec<_> = avail.to_vec();
            v.sort_by_key(|a| std::cmp::Reverse(a.amount));
            let mut total = Amount::ZERO;
            let mut chosen = vec![];
            for a in v {
                if total >= Amount::from_sat(7000) {
                    break;
                }
                total += a.amount;
                chosen.push(a.outpoint);
            }
            Ok::<_, Insufficient>(chosen)
        })
        .unwrap();
    assert_eq!(sel.reserved_to_block, 173);
    let chosen: Vec<_> = sel.outputs.iter().map(|o| o.outpoint).collect();
    assert_eq!(chosen, [op(1004, 0), op(1003, 0)]);
    for o in &chosen {
        assert_eq!(reserved_to(&store, *o, 101), Some(173));
    }
    // Those are no longer offered.
    let offered: Vec<_> = store
        .select_and_reserve(101, 72, |avail| {
            Ok::<_, Insufficient>(avail.iter().map(|a| a.outpoint).take(0).collect())
        })
        .unwrap()
        .outputs;
    assert!(offered.is_empty());
    let avail: Vec<_> = store
        .available_outputs(101)
        .unwrap()
        .into_iter()
        .map(|a| a.outpoint)
        .collect();
    assert_eq!(avail, [op(1000, 0), op(1002, 0)]);
}

#[test]
fn select_and_reserve_rejects_bad_choices_atomically() {
    let db = TestDb::new();
    let mut store = store_with_coins(&db, 3);
    store.reserve(&[op(1002, 0)], 100, 10, true).unwrap();
    let before = store.outputs(OutputFilter::All, 100).unwrap();
    let err = store
        .select_and_reserve(100, 72, |_| {
            Ok::<_, Insufficient>(vec![op(1000, 0), op(1002, 0)])
        })
        .unwrap_err();
    assert!(
        matches!(err, SelectError::NotAvailable(o) if o == op(1002, 0)),
        "{err}"
    );
    let err = store
        .select_and_reserve(100, 72, |_| {
            Ok::<_, Insufficient>(vec![op(1000, 0), op(1000, 0)])
        })
        .unwrap_err();
    assert!(
        matches!(err, SelectError::Duplicate(o) if o == op(1000, 0)),
        "{err}"
    );
    assert_eq!(store.outputs(OutputFilter::All, 100).unwrap(), before);
}

#[test]
fn prepared_transactions() {
    let db = TestDb::new();
    let mut store = db.open();
    assert_eq!(store.get_prepared(&txid(1)).unwrap(), None);
    store.save_prepared(&txid(1), b"psbt\xff1", 100).unwrap();
    store.save_prepared(&txid(2), b"psbt\xff2", 101).unwrap();
    let p = store.get_prepared(&txid(1)).unwrap().unwrap();
    assert_eq!(
        (p.txid, p.psbt.as_slice(), p.created_height),
        (txid(1), &b"psbt\xff1"[..], 100)
    );
    assert_eq!(store.list_prepared().unwrap().len(), 2);
    drop(store);
    let mut store = db.open();
    assert_eq!(
        store.take_prepared(&txid(1)).unwrap().unwrap().psbt,
        b"psbt\xff1"
    );
    assert_eq!(store.take_prepared(&txid(1)).unwrap(), None);
    assert_eq!(store.get_prepared(&txid(1)).unwrap(), None);
    assert_eq!(store.list_prepared().unwrap()[0].txid, txid(2));
}
