//! Concurrent selections from separate handles on the same file never share coins.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

mod common;

use std::collections::HashSet;
use std::sync::{Arc, Barrier};

use bitcoin::OutPoint;
use common::*;
use fulgur_store::{OutputFilter, ReserveError, Store};

const THREADS: usize = 50;
const COINS: u32 = 200;

#[test]
fn concurrent_select_and_reserve_never_overlaps() {
    let db = TestDb::new();
    drop(store_with_coins(&db, COINS));
    let barrier = Arc::new(Barrier::new(THREADS));
    let handles: Vec<_> = (0..THREADS)
        .map(|t| {
            let path = db.path.clone();
            let barrier = Arc::clone(&barrier);
            std::thread::spawn(move || {
                let mut store = Store::open(&path).unwrap();
                let mut rng = Rng::new(t as u64 + 1);
                let want = 1 + rng.below(3) as usize;
                // Half the threads all go for the oldest coins (maximum contention), half pick
                // at random.
                let greedy = t % 2 == 0;
                barrier.wait();
                let sel = store
                    .select_and_reserve(100, 72, |avail| {
                        if avail.len() < want {
                            return Err("insufficient");
                        }
                        let mut idx: Vec<usize> = (0..avail.len()).collect();
                        if !greedy {
                            for i in 0..want {
                                let j = i + rng.below((avail.len() - i) as u64) as usize;
                                idx.swap(i, j);
                            }
                        }
                        Ok(idx[..want].iter().map(|&i| avail[i].outpoint).collect())
                    })
                    .unwrap();
                assert_eq!(sel.outputs.len(), want);
                assert_eq!(sel.reserved_to_block, 172);
                sel.outputs
                    .into_iter()
                    .map(|o| o.outpoint)
                    .collect::<Vec<OutPoint>>()
            })
        })
        .collect();

    let mut taken = HashSet::new();
    for h in handles {
        for outpoint in h.join().unwrap() {
            assert!(taken.insert(outpoint), "{outpoint} was selected twice");
        }
    }
    assert!(taken.len() >= THREADS);

    // The database agrees: exactly the selected coins are reserved.
    let store = db.open();
    let reserved: HashSet<_> = store
        .outputs(OutputFilter::All, 100)
        .unwrap()
        .into_iter()
        .filter(|o| o.reserved)
        .map(|o| o.outpoint)
        .collect();
    assert_eq!(reserved, taken);
    assert_eq!(
        store.available_outputs(100).unwrap().len(),
        COINS as usize - taken.len()
    );
}

#[test]
fn concurrent_exclusive_reserve_of_the_same_coins_has_one_winner() {
    let db = TestDb::new();
    drop(store_with_coins(&db, 10));
    let threads = 20;
    let barrier = Arc::new(Barrier::new(threads));
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let path = db.path.clone();
            let barrier = Arc::clone(&barrier);
            std::thread::spawn(move || {
                let mut store = Store::open(&path).unwrap();
                // Everyone wants coin 1005; each also wants a coin of its own choosing.
                let outpoints = [op(1000 + (t as u32 % 5), 0), op(1005, 0)];
                barrier.wait();
                match store.reserve(&outpoints, 100, 72, true) {
                    Ok(_) => true,
                    Err(ReserveError::AlreadyReserved { .. }) => false,
                    Err(e) => panic!("{e}"),
                }
            })
        })
        .collect();
    let winners = handles
        .into_iter()
        .map(|h| h.join().unwrap())
        .filter(|won| *won)
        .count();
    assert_eq!(winners, 1);
    // All-or-nothing: only the winner's two coins are reserved.
    let store = db.open();
    let reserved = store.outputs(OutputFilter::All, 100).unwrap();
    assert_eq!(reserved.iter().filter(|o| o.reserved).count(), 2);
}
