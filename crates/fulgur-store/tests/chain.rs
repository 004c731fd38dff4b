//! The chain: connecting and disconnecting blocks, reorgs, our broadcasts.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

mod common;

use bitcoin::Amount;
use common::*;
use fulgur_store::{BroadcastTx, OutputFilter, OutputState, StoreError};

#[test]
fn empty_store_has_no_best_block() {
    let db = TestDb::new();
    let store = db.open();
    assert_eq!(store.best_block().unwrap(), None);
    assert_eq!(store.block_hash(0).unwrap(), None);
}

#[test]
fn first_block_may_be_at_any_height_then_the_chain_must_connect() {
    let db = TestDb::new();
    let mut store = db.open();
    store.connect_block(&empty_block(500, 0, 9)).unwrap(); // prev_hash not checked
    connect_empty(&mut store, 501, 503);
    assert_eq!(store.best_block().unwrap(), Some((503, bhash(503, 0))));
    assert_eq!(store.block_hash(501).unwrap(), Some(bhash(501, 0)));
    assert_eq!(store.block_hash(499).unwrap(), None);

    // Wrong parent.
    let err = store.connect_block(&empty_block(504, 0, 1)).unwrap_err();
    assert!(
        matches!(err, StoreError::PrevHashMismatch { height: 504 }),
        "{err}"
    );
    // A gap.
    let err = store.connect_block(&empty_block(506, 0, 0)).unwrap_err();
    assert!(
        matches!(err, StoreError::PrevHashMismatch { height: 506 }),
        "{err}"
    );
    // Below the first block.
    let err = store.connect_block(&empty_block(499, 0, 0)).unwrap_err();
    assert!(
        matches!(err, StoreError::PrevHashMismatch { height: 499 }),
        "{err}"
    );
    // Height taken.
    let err = store.connect_block(&empty_block(502, 1, 0)).unwrap_err();
    assert!(
        matches!(err, StoreError::BlockExists { height: 502 }),
        "{err}"
    );
    assert_eq!(err.to_string(), "a block is already stored at height 502");
    assert_eq!(store.best_block().unwrap(), Some((503, bhash(503, 0))));
}

#[test]
fn block_with_outputs_and_spends_then_reorg_unconfirms_them() {
    let db = TestDb::new();
    let mut store = db.open();
    connect_empty(&mut store, 99, 99);

    // Block 100: receives two outputs in tx 1.
    let mut b100 = empty_block(100, 0, 0);
    b100.new_outputs = vec![
        new_output(op(1, 0), 50_000, 1),
        new_output(op(1, 1), 20_000, 2),
    ];
    b100.transactions = vec![(txid(1), vec![1, 1], 3)];
    store.connect_block(&b100).unwrap();

    // Block 101: tx 2 spends op(1,0) and pays us change op(2,0); a spend of a foreign output is
    // ignored.
    let mut b101 = empty_block(101, 0, 0);
    let mut change = new_output(op(2, 0), 49_000, 3);
    change.is_change = true;
    b101.new_outputs = vec![change];
    b101.spends = vec![(op(1, 0), txid(2)), (op(77, 0), txid(2))];
    b101.transactions = vec![(txid(2), vec![2, 2], 1)];
    store.connect_block(&b101).unwrap();

    let all = store.outputs(OutputFilter::All, 101).unwrap();
    assert_eq!(all.len(), 3);
    assert_eq!(all[0].outpoint, op(1, 0));
    assert_eq!(all[0].state, OutputState::Spent);
    assert_eq!(all[0].spend_txid, Some(txid(2)));
    assert_eq!(all[0].spend_height, Some(101));
    assert_eq!(all[1].state, OutputState::Confirmed);
    assert_eq!(all[1].confirmation_height, Some(100));
    assert_eq!(all[1].amount, Amount::from_sat(20_000));
    assert_eq!(all[2].state, OutputState::Confirmed);
    assert!(all[2].is_change);
    let unspent = store.outputs(OutputFilter::Unspent, 101).unwrap();
    assert_eq!(
        unspent.iter().map(|o| o.outpoint).collect::<Vec<_>>(),
        [op(1, 1), op(2, 0)]
    );
    let tx2 = store.transaction(&txid(2)).unwrap().unwrap();
    assert_eq!((tx2.blockheight, tx2.txindex), (Some(101), Some(1)));

    // Reorg away block 101.
    assert_eq!(store.disconnect_above(100).unwrap(), 1);
    assert_eq!(store.best_block().unwrap(), Some((100, bhash(100, 0))));
    let o10 = store.output(&op(1, 0), 100).unwrap().unwrap();
    // The spend is unconfirmed now, but remembered: the coin stays unavailable.
    assert_eq!(o10.state, OutputState::Confirmed);
    assert_eq!(o10.spend_txid, Some(txid(2)));
    assert_eq!(o10.spend_height, None);
    assert!(!store
        .available_outputs(100)
        .unwrap()
        .iter()
        .any(|a| a.outpoint == op(1, 0)));
    let o20 = store.output(&op(2, 0), 100).unwrap().unwrap();
    assert_eq!(
        (o20.state, o20.confirmation_height),
        (OutputState::Unconfirmed, None)
    );
    let tx2 = store.transaction(&txid(2)).unwrap().unwrap();
    assert_eq!((tx2.blockheight, tx2.txindex), (None, None));
    assert_eq!(tx2.raw, vec![2, 2]);

    // Deeper: block 100 goes too, and 99.
    assert_eq!(store.disconnect_above(98).unwrap(), 2);
    assert_eq!(store.best_block().unwrap(), None);
    assert!(store
        .outputs(OutputFilter::All, 100)
        .unwrap()
        .iter()
        .all(|o| o.confirmation_height.is_none() && o.spend_height.is_none()));
    assert_eq!(store.disconnect_above(98).unwrap(), 0);

    // The new chain confirms tx 2 at a different height: heights are set again.
    connect_empty(&mut store, 99, 99);
    let mut b100b = empty_block(100, 1, 0);
    b100b.new_outputs = vec![
        new_output(op(1, 0), 50_000, 1),
        new_output(op(1, 1), 20_000, 2),
    ];
    store.connect_block(&b100b).unwrap();
    let mut b101b = empty_block(101, 1, 1);
    b101b.new_outputs = vec![new_output(op(2, 0), 49_000, 3)];
    b101b.spends = vec![(op(1, 0), txid(2))];
    b101b.transactions = vec![(txid(2), vec![2, 2], 5)];
    store.connect_block(&b101b).unwrap();
    let o10 = store.output(&op(1, 0), 101).unwrap().unwrap();
    assert_eq!(
        (o10.state, o10.spend_height),
        (OutputState::Spent, Some(101))
    );
    // Upserting kept the first-seen metadata (is_change) and set the height.
    let o20 = store.output(&op(2, 0), 101).unwrap().unwrap();
    assert!(o20.is_change);
    assert_eq!(o20.confirmation_height, Some(101));
    let tx2 = store.transaction(&txid(2)).unwrap().unwrap();
    assert_eq!((tx2.blockheight, tx2.txindex), (Some(101), Some(5)));
}

#[test]
fn rejected_block_changes_nothing() {
    let db = TestDb::new();
    let mut store = store_with_coins(&db, 2);
    let before = store.outputs(OutputFilter::All, 100).unwrap();

    let mut bad = empty_block(101, 0, 5); // wrong prev_hash
    bad.new_outputs = vec![new_output(op(9, 0), 1, 9)];
    bad.spends = vec![(op(1000, 0), txid(9))];
    bad.transactions = vec![(txid(9), vec![9], 0)];
    let err = store.connect_block(&bad).unwrap_err();
    assert!(
        matches!(err, StoreError::PrevHashMismatch { height: 101 }),
        "{err}"
    );

    assert_eq!(store.best_block().unwrap(), Some((100, bhash(100, 0))));
    assert_eq!(store.outputs(OutputFilter::All, 100).unwrap(), before);
    assert_eq!(store.transaction(&txid(9)).unwrap(), None);

    // A failure half-way (a constraint: same hash as block 100) rolls back the whole block.
    let mut dup = empty_block(101, 0, 0);
    dup.hash = bhash(100, 0);
    dup.new_outputs = vec![new_output(op(9, 0), 1, 9)];
    assert!(matches!(
        store.connect_block(&dup).unwrap_err(),
        StoreError::Sqlite(_)
    ));
    assert_eq!(store.outputs(OutputFilter::All, 100).unwrap(), before);
    assert_eq!(store.best_block().unwrap(), Some((100, bhash(100, 0))));
}

#[test]
fn broadcast_then_confirmation() {
    let db = TestDb::new();
    let mut store = store_with_coins(&db, 3);
    let mut change = new_output(op(50, 1), 2_500, 10);
    change.is_change = true;
    let btx = BroadcastTx {
        txid: txid(50),
        raw: vec![5, 0],
        spends: vec![op(1000, 0), op(1001, 0), op(4242, 7)], // the last is not ours
        new_outputs: vec![change],
    };
    store.record_broadcast(&btx).unwrap();
    store.record_broadcast(&btx).unwrap(); // idempotent

    let spent = store.output(&op(1000, 0), 100).unwrap().unwrap();
    assert_eq!(spent.spend_txid, Some(txid(50)));
    assert_eq!(spent.spend_height, None);
    assert_eq!(spent.state, OutputState::Confirmed); // listfunds: spent only once in a block
    let available: Vec<_> = store
        .available_outputs(100)
        .unwrap()
        .into_iter()
        .map(|a| a.outpoint)
        .collect();
    // The change output is unconfirmed but ours to spend (callers filter by confirmations).
    assert_eq!(available, [op(1002, 0), op(50, 1)]);
    let c = store.output(&op(50, 1), 100).unwrap().unwrap();
    assert_eq!((c.state, c.is_change), (OutputState::Unconfirmed, true));
    assert_eq!(
        store.transaction(&txid(50)).unwrap().unwrap().blockheight,
        None
    );
    assert_eq!(
        store.outputs_spent_by(&txid(50)).unwrap(),
        [op(1000, 0), op(1001, 0)]
    );

    // It confirms in block 101.
    let mut b = empty_block(101, 0, 0);
    b.new_outputs = vec![new_output(op(50, 1), 2_500, 10)];
    b.spends = vec![(op(1000, 0), txid(50)), (op(1001, 0), txid(50))];
    b.transactions = vec![(txid(50), vec![5, 0, 1], 2)];
    store.connect_block(&b).unwrap();
    let s = store.output(&op(1001, 0), 101).unwrap().unwrap();
    assert_eq!((s.state, s.spend_height), (OutputState::Spent, Some(101)));
    let c = store.output(&op(50, 1), 101).unwrap().unwrap();
    assert_eq!(
        (c.state, c.confirmation_height, c.is_change),
        (OutputState::Confirmed, Some(101), true)
    );
    let t = store.transaction(&txid(50)).unwrap().unwrap();
    assert_eq!(
        (t.blockheight, t.txindex, t.raw),
        (Some(101), Some(2), vec![5, 0, 1])
    );

    // Recording it again after confirmation changes nothing.
    store.record_broadcast(&btx).unwrap();
    let t = store.transaction(&txid(50)).unwrap().unwrap();
    assert_eq!(t.raw, vec![5, 0, 1]);

    // A different transaction spending a confirmed-spent coin is refused, atomically.
    let other = BroadcastTx {
        txid: txid(51),
        raw: vec![5, 1],
        spends: vec![op(1002, 0), op(1000, 0)],
        new_outputs: vec![],
    };
    let err = store.record_broadcast(&other).unwrap_err();
    assert!(
        matches!(err, StoreError::SpentInBlock { outpoint, spend_txid } if outpoint == op(1000, 0) && spend_txid == txid(50)),
        "{err}"
    );
    assert_eq!(
        store.output(&op(1002, 0), 101).unwrap().unwrap().spend_txid,
        None
    );
    assert_eq!(store.transaction(&txid(51)).unwrap(), None);
    assert_eq!(store.transactions().unwrap().len(), 1);
}

#[test]
fn replacing_an_unconfirmed_spend_and_forgetting_a_broadcast() {
    let db = TestDb::new();
    let mut store = store_with_coins(&db, 2);
    let first = BroadcastTx {
        txid: txid(60),
        raw: vec![6],
        spends: vec![op(1000, 0)],
        new_outputs: vec![new_output(op(60, 0), 900, 11)],
    };
    store.record_broadcast(&first).unwrap();
    // An RBF replacement spends the same coin.
    let replacement = BroadcastTx {
        txid: txid(61),
        raw: vec![6, 1],
        spends: vec![op(1000, 0)],
        new_outputs: vec![new_output(op(61, 0), 800, 12)],
    };
    store.record_broadcast(&replacement).unwrap();
    assert_eq!(
        store.output(&op(1000, 0), 100).unwrap().unwrap().spend_txid,
        Some(txid(61))
    );

    // The first never made it: forget it. The coin stays spent by the replacement.
    assert!(store.forget_broadcast(&txid(60)).unwrap());
    assert_eq!(store.output(&op(60, 0), 100).unwrap(), None);
    assert_eq!(
        store.output(&op(1000, 0), 100).unwrap().unwrap().spend_txid,
        Some(txid(61))
    );
    assert!(!store.forget_broadcast(&txid(60)).unwrap());

    // A child spending the replacement's output blocks forgetting the replacement.
    let child = BroadcastTx {
        txid: txid(62),
        raw: vec![6, 2],
        spends: vec![op(61, 0)],
        new_outputs: vec![],
    };
    store.record_broadcast(&child).unwrap();
    let err = store.forget_broadcast(&txid(61)).unwrap_err();
    assert!(matches!(err, StoreError::TxHasSpentOutput { .. }), "{err}");
    assert!(store.forget_broadcast(&txid(62)).unwrap());
    assert!(store.forget_broadcast(&txid(61)).unwrap());
    let o = store.output(&op(1000, 0), 100).unwrap().unwrap();
    assert_eq!(o.spend_txid, None);
    assert_eq!(store.available_outputs(100).unwrap().len(), 2);
    assert!(store.transactions().unwrap().is_empty());

    // A confirmed transaction cannot be forgotten.
    let mut b = empty_block(101, 0, 0);
    b.transactions = vec![(txid(63), vec![6, 3], 0)];
    store.connect_block(&b).unwrap();
    let err = store.forget_broadcast(&txid(63)).unwrap_err();
    assert!(matches!(err, StoreError::TxConfirmed { .. }), "{err}");
}

#[test]
fn coinbase_outputs_mature_after_100_blocks() {
    let db = TestDb::new();
    let mut store = db.open();
    let mut b = empty_block(200, 0, 0);
    let mut cb = new_output(op(1, 0), 50_0000_0000, 1);
    cb.is_coinbase = true;
    b.new_outputs = vec![cb];
    store.connect_block(&b).unwrap();
    let at = |store: &fulgur_store::Store, h| store.output(&op(1, 0), h).unwrap().unwrap().state;
    assert_eq!(at(&store, 200), OutputState::Immature);
    assert_eq!(at(&store, 299), OutputState::Immature);
    assert_eq!(at(&store, 300), OutputState::Confirmed);
    assert!(store.available_outputs(299).unwrap().is_empty());
    assert_eq!(store.available_outputs(300).unwrap().len(), 1);
    // Unconfirmed by a reorg: not spendable at all.
    store.disconnect_above(199).unwrap();
    assert_eq!(at(&store, 300), OutputState::Unconfirmed);
    assert!(store.available_outputs(300).unwrap().is_empty());
}
