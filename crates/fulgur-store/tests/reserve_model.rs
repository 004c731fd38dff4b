//! Property test: random reserve/unreserve sequences agree with a simple model of CLN's rules.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

mod common;

use std::collections::{HashMap, HashSet};

use bitcoin::OutPoint;
use common::*;
use fulgur_store::{BroadcastTx, ReservationChange, ReserveError, Store};
use proptest::prelude::*;

/// Our coins are `op(1000 + i, 0)` for `i < OURS`; the last one is spent by a broadcast.
const OURS: u32 = 6;
/// Indices `OURS..UNIVERSE` are outpoints that are not ours.
const UNIVERSE: u32 = 8;

fn coin(i: u32) -> OutPoint {
    if i < OURS {
        op(1000 + i, 0)
    } else {
        op(9000 + i, 0)
    }
}

#[derive(Debug, Clone)]
enum Op {
    Reserve {
        coins: Vec<u32>,
        height: u32,
        blocks: u32,
        exclusive: bool,
    },
    Unreserve {
        coins: Vec<u32>,
        height: u32,
        blocks: u32,
    },
}

fn op_strategy() -> impl Strategy<Value = Op> {
    let coins = prop::collection::vec(0..UNIVERSE, 0..4);
    prop_oneof![
        (coins.clone(), 90u32..200, 0u32..80, any::<bool>()).prop_map(
            |(coins, height, blocks, exclusive)| Op::Reserve {
                coins,
                height,
                blocks,
                exclusive
            }
        ),
        (coins, 90u32..200, 0u32..80).prop_map(|(coins, height, blocks)| Op::Unreserve {
            coins,
            height,
            blocks
        }),
    ]
}

/// The error, reduced to something comparable.
#[derive(Debug, PartialEq, Eq)]
enum Refusal {
    Unknown(OutPoint),
    Spent(OutPoint),
    AlreadyReserved(OutPoint, u32),
    Duplicate(OutPoint),
}

fn refusal(e: ReserveError) -> Refusal {
    match e {
        ReserveError::Unknown(o) => Refusal::Unknown(o),
        ReserveError::Spent(o) => Refusal::Spent(o),
        ReserveError::AlreadyReserved { outpoint, until } => {
            Refusal::AlreadyReserved(outpoint, until)
        }
        ReserveError::Duplicate(o) => Refusal::Duplicate(o),
        ReserveError::Store(e) => panic!("store failed: {e}"),
    }
}

struct Model {
    /// `reserved_til` of each of our coins.
    til: HashMap<OutPoint, Option<u32>>,
    spent: HashSet<OutPoint>,
}

fn change(outpoint: OutPoint, old: Option<u32>, new: Option<u32>, h: u32) -> ReservationChange {
    let to = new.filter(|t| *t > h);
    ReservationChange {
        outpoint,
        was_reserved: old.is_some_and(|t| t > h),
        reserved: to.is_some(),
        reserved_to_block: to,
    }
}

impl Model {
    fn reserve(
        &mut self,
        coins: &[OutPoint],
        h: u32,
        blocks: u32,
        exclusive: bool,
    ) -> Result<Vec<ReservationChange>, Refusal> {
        let mut seen = HashSet::new();
        for c in coins {
            if !seen.insert(*c) {
                return Err(Refusal::Duplicate(*c));
            }
            let Some(til) = self.til.get(c) else {
                return Err(Refusal::Unknown(*c));
            };
            if self.spent.contains(c) {
                return Err(Refusal::Spent(*c));
            }
            if let Some(t) = til.filter(|t| exclusive && *t > h) {
                return Err(Refusal::AlreadyReserved(*c, t));
            }
        }
        let mut out = vec![];
        for c in coins {
            let old = self.til[c];
            let new = old.unwrap_or(0).max(h).saturating_add(blocks);
            self.til.insert(*c, Some(new));
            out.push(change(*c, old, Some(new), h));
        }
        Ok(out)
    }

    fn unreserve(&mut self, coins: &[OutPoint], h: u32, blocks: u32) -> Vec<ReservationChange> {
        let mut out = vec![];
        for c in coins {
            let Some(Some(old)) = self.til.get(c).copied() else {
                continue;
            };
            let new = if old <= h + blocks {
                None
            } else {
                Some(old - blocks)
            };
            self.til.insert(*c, new);
            out.push(change(*c, Some(old), new, h));
        }
        out
    }
}

fn check_state(store: &Store, model: &Model, h: u32) {
    for (c, til) in &model.til {
        // At height 0 every stored reservation (all are > 0) shows as reserved.
        let raw = store.output(c, 0).unwrap().unwrap();
        assert_eq!(
            raw.reserved_to_block,
            if model.spent.contains(c) { None } else { *til }
        );
        let now = store.output(c, h).unwrap().unwrap();
        let expect = til.filter(|t| *t > h && !model.spent.contains(c));
        assert_eq!(now.reserved_to_block, expect, "{c} at {h}");
        assert_eq!(now.reserved, expect.is_some());
    }
    let available: HashSet<_> = store
        .available_outputs(h)
        .unwrap()
        .into_iter()
        .map(|a| a.outpoint)
        .collect();
    let expect: HashSet<_> = model
        .til
        .iter()
        .filter(|(c, til)| !model.spent.contains(*c) && til.is_none_or(|t| t <= h))
        .map(|(c, _)| *c)
        .collect();
    assert_eq!(available, expect);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn reserve_unreserve_follow_the_model(ops in prop::collection::vec(op_strategy(), 1..30)) {
        let db = TestDb::new();
        let mut store = store_with_coins(&db, OURS);
        let spent = coin(OURS - 1);
        store.record_broadcast(&BroadcastTx {
            txid: txid(1),
            raw: vec![1],
            spends: vec![spent],
            new_outputs: vec![],
        }).unwrap();
        let mut model = Model {
            til: (0..OURS).map(|i| (coin(i), None)).collect(),
            spent: [spent].into_iter().collect(),
        };
        for op in ops {
            match op {
                Op::Reserve { coins, height, blocks, exclusive } => {
                    let coins: Vec<_> = coins.into_iter().map(coin).collect();
                    let got = store.reserve(&coins, height, blocks, exclusive).map_err(refusal);
                    let want = model.reserve(&coins, height, blocks, exclusive);
                    prop_assert_eq!(got, want);
                    check_state(&store, &model, height);
                }
                Op::Unreserve { coins, height, blocks } => {
                    let coins: Vec<_> = coins.into_iter().map(coin).collect();
                    let got = store.unreserve(&coins, height, blocks).unwrap();
                    let want = model.unreserve(&coins, height, blocks);
                    prop_assert_eq!(got, want);
                    check_state(&store, &model, height);
                }
            }
        }
        // Reservations survive a reopen.
        drop(store);
        let store = db.open();
        check_state(&store, &model, 120);
    }
}
