//! The chain follower against an in-memory fake chain and store: linear growth, reorgs of 1,
//! 10 and more blocks than the in-memory window, restarts, a misbehaving backend, watches
//! through reorgs, and random sequences of all of it.

// Tests fail loudly on purpose.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use bitcoin::absolute::LockTime;
use bitcoin::hashes::Hash;
use bitcoin::{
    Amount, Block, BlockHash, OutPoint, ScriptBuf, Sequence, Transaction, TxIn, TxOut, Txid,
    Witness,
};
use fulgur_chain::{
    Action, FetchedBlock, Follower, FollowerConfig, FollowerError, Input, Start, WatchEvent,
};
use proptest::prelude::*;

/// A chain of blocks, index = height, that can grow and reorg.
#[derive(Clone)]
struct FakeChain {
    blocks: Vec<Block>,
}

impl FakeChain {
    fn new() -> FakeChain {
        FakeChain {
            blocks: vec![bitcoin::constants::genesis_block(bitcoin::Network::Regtest)],
        }
    }

    fn height(&self) -> u32 {
        self.blocks.len() as u32 - 1
    }

    fn hash(&self, height: u32) -> BlockHash {
        self.blocks[height as usize].block_hash()
    }

    /// Appends `n` blocks; `tag` tells branches apart.
    fn mine(&mut self, n: u32, tag: u32) {
        for _ in 0..n {
            self.mine_with(tag, vec![]);
        }
    }

    /// Appends one block holding `txs` after its coinbase.
    fn mine_with(&mut self, tag: u32, txs: Vec<Transaction>) {
        let height = self.height() + 1;
        let prev = self.hash(height - 1);
        self.blocks.push(make_block(prev, height, tag, txs));
    }

    /// Replaces the top `depth` blocks with `n` new ones.
    fn reorg(&mut self, depth: u32, n: u32, tag: u32) {
        let keep = self.blocks.len() - depth as usize;
        self.blocks.truncate(keep.max(1));
        self.mine(n, tag);
    }

    fn get(&self, height: u32) -> Option<FetchedBlock> {
        self.blocks.get(height as usize).map(|b| FetchedBlock {
            hash: b.block_hash(),
            block: b.clone(),
        })
    }
}

fn coinbase(height: u32, tag: u32) -> Transaction {
    let mut script = height.to_le_bytes().to_vec();
    script.extend_from_slice(&tag.to_le_bytes());
    Transaction {
        version: bitcoin::transaction::Version::TWO,
        lock_time: LockTime::ZERO,
        input: vec![TxIn {
            previous_output: OutPoint::null(),
            script_sig: ScriptBuf::from_bytes(script),
            sequence: Sequence::MAX,
            witness: Witness::new(),
        }],
        output: vec![TxOut {
            value: Amount::from_sat(50),
            script_pubkey: ScriptBuf::new(),
        }],
    }
}

fn make_block(prev: BlockHash, height: u32, tag: u32, txs: Vec<Transaction>) -> Block {
    let mut txdata = vec![coinbase(height, tag)];
    txdata.extend(txs);
    let mut block = Block {
        header: bitcoin::block::Header {
            version: bitcoin::block::Version::TWO,
            prev_blockhash: prev,
            merkle_root: bitcoin::TxMerkleNode::all_zeros(),
            time: 1_700_000_000 + height,
            bits: bitcoin::CompactTarget::from_consensus(0x207fffff),
            nonce: tag,
        },
        txdata,
    };
    block.header.merkle_root = block.compute_merkle_root().unwrap();
    block
}

/// A payment to `script`, spending `spends`.
fn payment(spends: OutPoint, script: &ScriptBuf, sat: u64) -> Transaction {
    Transaction {
        version: bitcoin::transaction::Version::TWO,
        lock_time: LockTime::ZERO,
        input: vec![TxIn {
            previous_output: spends,
            script_sig: ScriptBuf::new(),
            sequence: Sequence::MAX,
            witness: Witness::new(),
        }],
        output: vec![TxOut {
            value: Amount::from_sat(sat),
            script_pubkey: script.clone(),
        }],
    }
}

/// What the caller stored, checked as actions arrive.
#[derive(Default)]
struct Store {
    hashes: BTreeMap<u32, BlockHash>,
    connects: usize,
    disconnects: Vec<u32>,
    fetches: usize,
    loads: usize,
    events: Vec<WatchEvent>,
}

impl Store {
    fn tip(&self) -> Option<(u32, BlockHash)> {
        self.hashes.last_key_value().map(|(h, b)| (*h, *b))
    }

    fn apply(&mut self, action: &Action) {
        match action {
            Action::ConnectBlock {
                height,
                hash,
                block,
            } => {
                assert_eq!(block.block_hash(), *hash);
                assert!(
                    !self.hashes.contains_key(height),
                    "block at {height} connected twice"
                );
                if let Some((tip, tip_hash)) = self.tip() {
                    assert_eq!(*height, tip + 1, "connect not on top of the tip");
                    assert_eq!(block.header.prev_blockhash, tip_hash, "does not link");
                }
                self.hashes.insert(*height, *hash);
                self.connects += 1;
            }
            Action::DisconnectAbove { height } => {
                let tip = self.tip().expect("disconnect with nothing stored").0;
                assert!(*height < tip, "disconnect above {height} with tip {tip}");
                self.hashes.split_off(&(height + 1));
                self.disconnects.push(*height);
            }
            Action::Watch(e) => self.events.push(e.clone()),
            Action::FetchBlock { .. } => self.fetches += 1,
            Action::LoadStoredHash { .. } => self.loads += 1,
            Action::Synced { .. } => {}
        }
    }

    /// Asserts the store holds exactly `chain` from `from` up.
    fn assert_matches(&self, chain: &FakeChain, from: u32) {
        let want: BTreeMap<u32, BlockHash> = (from..=chain.height())
            .map(|h| (h, chain.hash(h)))
            .collect();
        assert_eq!(self.hashes, want);
    }
}

/// Drives `f` against `chain` until it reports being synced. Returns the number of steps.
fn sync(f: &mut Follower, chain: &FakeChain, store: &mut Store) -> usize {
    sync_from(f, chain, store, Input::Tick)
}

/// Like [`sync`], starting with `first` (a tick if `first` leads to no request).
fn sync_from(f: &mut Follower, chain: &FakeChain, store: &mut Store, first: Input) -> usize {
    let mut inputs = vec![first];
    let mut started = false;
    let mut steps = 0;
    while let Some(input) = inputs.pop() {
        steps += 1;
        assert!(steps < 100_000, "no progress");
        let actions = f.handle(input).unwrap();
        let mut synced = false;
        for a in &actions {
            store.apply(a);
            match a {
                Action::FetchBlock { height } => inputs.push(Input::BlockAtHeight {
                    height: *height,
                    block: chain.get(*height),
                }),
                Action::LoadStoredHash { height } => inputs.push(Input::StoredHash {
                    height: *height,
                    hash: store.hashes.get(height).copied(),
                }),
                Action::Synced { height } => {
                    assert_eq!(*height, chain.height());
                    synced = true;
                }
                _ => {}
            }
        }
        assert!(inputs.len() <= 1, "one request at a time");
        if !started && inputs.is_empty() && !synced {
            inputs.push(Input::Tick);
        }
        started = true;
        if synced {
            assert!(inputs.is_empty());
            assert!(f.is_synced());
        }
    }
    assert!(f.is_synced());
    steps
}

fn follower_from_genesis(config: FollowerConfig) -> Follower {
    Follower::new(Start::Height(0), config)
}

#[test]
fn linear_growth() {
    let mut chain = FakeChain::new();
    chain.mine(20, 0);
    let mut f = follower_from_genesis(FollowerConfig::default());
    let mut store = Store::default();
    sync(&mut f, &chain, &mut store);
    store.assert_matches(&chain, 0);
    assert_eq!(store.connects, 21);
    assert_eq!(
        store.fetches, 22,
        "one fetch per block, plus the one past the tip"
    );
    assert_eq!(f.tip(), Some((20, chain.hash(20))));

    // Nothing new: one fetch, nothing connected.
    sync(&mut f, &chain, &mut store);
    assert_eq!(store.connects, 21);
    chain.mine(5, 0);
    sync(&mut f, &chain, &mut store);
    store.assert_matches(&chain, 0);
    assert!(store.disconnects.is_empty());
}

#[test]
fn one_block_reorg() {
    let mut chain = FakeChain::new();
    chain.mine(10, 0);
    let mut f = follower_from_genesis(FollowerConfig::default());
    let mut store = Store::default();
    sync(&mut f, &chain, &mut store);
    chain.reorg(1, 2, 1);
    let (connects, fetches) = (store.connects, store.fetches);
    sync(&mut f, &chain, &mut store);
    store.assert_matches(&chain, 0);
    assert_eq!(store.disconnects, vec![9]);
    assert_eq!(store.connects - connects, 2);
    // 11 (mismatch), 10 (the new 10; its parent is our 9), 12 (none).
    assert_eq!(store.fetches - fetches, 3);
    assert_eq!(store.loads, 0);
}

#[test]
fn ten_block_reorg() {
    let mut chain = FakeChain::new();
    chain.mine(30, 0);
    let mut f = follower_from_genesis(FollowerConfig::default());
    let mut store = Store::default();
    sync(&mut f, &chain, &mut store);
    chain.reorg(10, 11, 1);
    sync(&mut f, &chain, &mut store);
    store.assert_matches(&chain, 0);
    assert_eq!(store.disconnects, vec![20]);
    assert_eq!(store.loads, 0, "the window covers 10 blocks");
}

#[test]
fn reorg_deeper_than_the_window_asks_the_store() {
    for branch_cache in [0, 3, 16] {
        let config = FollowerConfig {
            window: 4,
            branch_cache,
        };
        let mut chain = FakeChain::new();
        chain.mine(40, 0);
        let mut f = follower_from_genesis(config);
        let mut store = Store::default();
        sync(&mut f, &chain, &mut store);
        chain.reorg(12, 13, 7);
        sync(&mut f, &chain, &mut store);
        store.assert_matches(&chain, 0);
        assert_eq!(store.disconnects, vec![28]);
        assert!(store.loads >= 8, "{} loads", store.loads);

        // And a reorg reaching the genesis' child.
        chain.reorg(41, 45, 8);
        sync(&mut f, &chain, &mut store);
        store.assert_matches(&chain, 0);
        assert_eq!(store.disconnects, vec![28, 0]);
    }
}

#[test]
fn branch_blocks_are_not_fetched_twice_when_cached() {
    let mut chain = FakeChain::new();
    chain.mine(20, 0);
    let mut f = follower_from_genesis(FollowerConfig {
        window: 100,
        branch_cache: 100,
    });
    let mut store = Store::default();
    sync(&mut f, &chain, &mut store);
    chain.reorg(5, 6, 1);
    let fetches = store.fetches;
    sync(&mut f, &chain, &mut store);
    store.assert_matches(&chain, 0);
    // 21 (mismatch), 20..16 walking back, 22 (none): each block fetched once.
    assert_eq!(store.fetches - fetches, 7);
}

#[test]
fn restart_from_a_stored_tip() {
    let mut chain = FakeChain::new();
    chain.mine(10, 0);
    let mut f = follower_from_genesis(FollowerConfig::default());
    let mut store = Store::default();
    sync(&mut f, &chain, &mut store);
    drop(f);

    // Restart with nothing but the store: continues above the tip.
    chain.mine(3, 0);
    let (height, hash) = store.tip().unwrap();
    let mut f = Follower::new(Start::Tip { height, hash }, FollowerConfig::default());
    assert_eq!(f.next_height(), 11);
    sync(&mut f, &chain, &mut store);
    store.assert_matches(&chain, 0);
    assert!(store.disconnects.is_empty());

    // Restart after a reorg happened while down: the walk asks the store.
    chain.reorg(4, 5, 1);
    let (height, hash) = store.tip().unwrap();
    let mut f = Follower::new(Start::Tip { height, hash }, FollowerConfig::default());
    let loads = store.loads;
    sync(&mut f, &chain, &mut store);
    store.assert_matches(&chain, 0);
    assert_eq!(store.disconnects, vec![9]);
    assert!(store.loads > loads);

    // With preloaded hashes the store is not asked.
    chain.reorg(3, 4, 2);
    let (height, hash) = store.tip().unwrap();
    let mut f = Follower::new(Start::Tip { height, hash }, FollowerConfig::default());
    let recent: Vec<(u32, BlockHash)> = store.hashes.iter().map(|(h, b)| (*h, *b)).collect();
    f.preload_hashes(&recent);
    let loads = store.loads;
    sync(&mut f, &chain, &mut store);
    store.assert_matches(&chain, 0);
    assert_eq!(store.loads, loads);
}

#[test]
fn starting_mid_chain_and_reorging_below_the_start() {
    let mut chain = FakeChain::new();
    chain.mine(20, 0);
    let mut f = Follower::new(Start::Height(15), FollowerConfig::default());
    let mut store = Store::default();
    sync(&mut f, &chain, &mut store);
    store.assert_matches(&chain, 15);
    // Reorg from 12: nothing stored below 15, so 14 is taken as the fork point.
    chain.reorg(9, 10, 1);
    sync(&mut f, &chain, &mut store);
    assert_eq!(store.disconnects, vec![14]);
    assert_eq!(
        store.loads, 0,
        "heights below the start are never asked for"
    );
    assert_eq!(f.tip(), Some((chain.height(), chain.hash(chain.height()))));
    store.assert_matches(&chain, 15);
}

#[test]
fn a_misbehaving_backend_changes_nothing() {
    let mut chain = FakeChain::new();
    chain.mine(5, 0);
    let mut f = follower_from_genesis(FollowerConfig::default());
    let mut store = Store::default();
    sync(&mut f, &chain, &mut store);
    chain.mine(1, 0);

    let tick = f.handle(Input::Tick).unwrap();
    assert_eq!(tick, vec![Action::FetchBlock { height: 6 }]);
    // A block whose hash is not the one claimed.
    let mut bad = chain.get(6).unwrap();
    bad.hash = chain.hash(5);
    let err = f
        .handle(Input::BlockAtHeight {
            height: 6,
            block: Some(bad.clone()),
        })
        .unwrap_err();
    assert!(matches!(err, FollowerError::HashMismatch { height: 6, .. }));
    // Tampered contents under the right hash: refused too.
    let mut tampered = chain.get(6).unwrap();
    tampered.block.header.nonce ^= 1;
    assert!(f
        .handle(Input::BlockAtHeight {
            height: 6,
            block: Some(tampered),
        })
        .is_err());
    // Answers nobody asked for are ignored.
    for input in [
        Input::BlockAtHeight {
            height: 3,
            block: chain.get(3),
        },
        Input::BlockAtHeight {
            height: 7,
            block: None,
        },
        Input::StoredHash {
            height: 2,
            hash: None,
        },
    ] {
        assert_eq!(f.handle(input).unwrap(), vec![]);
    }
    // The failed fetch is repeated on the next tick, and then works.
    assert_eq!(
        f.handle(Input::Tick).unwrap(),
        vec![Action::FetchBlock { height: 6 }]
    );
    let actions = f
        .handle(Input::BlockAtHeight {
            height: 6,
            block: chain.get(6),
        })
        .unwrap();
    assert!(matches!(actions[0], Action::ConnectBlock { height: 6, .. }));
    for a in &actions {
        store.apply(a);
    }
    // "No block there" means synced.
    let actions = f
        .handle(Input::BlockAtHeight {
            height: 7,
            block: None,
        })
        .unwrap();
    assert_eq!(actions, vec![Action::Synced { height: 6 }]);
    store.assert_matches(&chain, 0);
}

#[test]
fn a_chain_that_shrinks_is_noticed_from_the_backend_tip() {
    let mut chain = FakeChain::new();
    chain.mine(10, 0);
    let mut f = follower_from_genesis(FollowerConfig::default());
    let mut store = Store::default();
    sync(&mut f, &chain, &mut store);
    // invalidateblock on 8: the backend's chain is now 7 blocks long.
    chain.blocks.truncate(8);
    // Polling above the tip shows nothing...
    assert_eq!(
        f.handle(Input::Tick).unwrap(),
        vec![Action::FetchBlock { height: 11 }]
    );
    let actions = f
        .handle(Input::BlockAtHeight {
            height: 11,
            block: chain.get(11),
        })
        .unwrap();
    assert_eq!(actions, vec![Action::Synced { height: 10 }]);
    // ...the backend's tip does.
    let actions = f
        .handle(Input::BackendTip {
            height: 7,
            hash: None,
        })
        .unwrap();
    assert_eq!(actions, vec![Action::FetchBlock { height: 7 }]);
    let actions = f
        .handle(Input::BlockAtHeight {
            height: 7,
            block: chain.get(7),
        })
        .unwrap();
    assert_eq!(
        actions,
        vec![
            Action::DisconnectAbove { height: 7 },
            Action::FetchBlock { height: 8 }
        ]
    );
    for a in &actions {
        store.apply(a);
    }
    f.handle(Input::BlockAtHeight {
        height: 8,
        block: None,
    })
    .unwrap();
    store.assert_matches(&chain, 0);

    // A swapped tip at the same height, with its hash: walk from there.
    chain.reorg(1, 1, 5);
    let actions = f
        .handle(Input::BackendTip {
            height: 7,
            hash: Some(chain.hash(7)),
        })
        .unwrap();
    assert_eq!(actions, vec![Action::FetchBlock { height: 7 }]);
    for a in &actions {
        store.apply(a);
    }
    let mut inputs = vec![Input::BlockAtHeight {
        height: 7,
        block: chain.get(7),
    }];
    while let Some(i) = inputs.pop() {
        for a in f.handle(i).unwrap() {
            store.apply(&a);
            if let Action::FetchBlock { height } = a {
                inputs.push(Input::BlockAtHeight {
                    height,
                    block: chain.get(height),
                });
            }
        }
    }
    store.assert_matches(&chain, 0);
    // The same tip again, or a higher one while synced, is nothing special.
    let same = f
        .handle(Input::BackendTip {
            height: 7,
            hash: Some(chain.hash(7)),
        })
        .unwrap();
    assert!(same.is_empty());
    let higher = f
        .handle(Input::BackendTip {
            height: 9,
            hash: None,
        })
        .unwrap();
    assert_eq!(higher, vec![Action::FetchBlock { height: 8 }]);
}

#[test]
fn another_chain_is_refused() {
    let mut f = Follower::new(
        Start::Tip {
            height: 0,
            hash: bitcoin::constants::genesis_block(bitcoin::Network::Bitcoin).block_hash(),
        },
        FollowerConfig::default(),
    );
    let chain = {
        let mut c = FakeChain::new();
        c.mine(1, 0);
        c
    };
    f.handle(Input::Tick).unwrap();
    let err = f
        .handle(Input::BlockAtHeight {
            height: 1,
            block: chain.get(1),
        })
        .unwrap_err();
    assert!(matches!(
        err,
        FollowerError::NoCommonBlock { height: 0, .. }
    ));
}

#[test]
fn watches_follow_reorgs() {
    let mine = ScriptBuf::from_bytes(vec![0x00, 0x14, 1, 2, 3]);
    let funding_src = OutPoint {
        txid: Txid::from_byte_array([9; 32]),
        vout: 1,
    };
    let pay = payment(funding_src, &mine, 10_000);
    let pay_id = pay.compute_txid();

    let mut chain = FakeChain::new();
    chain.mine(5, 0);
    let mut f = follower_from_genesis(FollowerConfig::default());
    f.watch_script(mine.clone());
    f.watch_outpoint(funding_src);
    f.watch_depth(pay_id, 3);
    let mut store = Store::default();
    sync(&mut f, &chain, &mut store);
    assert!(store.events.is_empty());

    chain.mine_with(0, vec![pay.clone()]); // height 6
    chain.mine(1, 0);
    sync(&mut f, &chain, &mut store);
    assert_eq!(
        store.events,
        vec![
            WatchEvent::OutpointSpent {
                outpoint: funding_src,
                spender: pay_id,
                tx_index: 1,
                input_index: 0,
                height: 6
            },
            WatchEvent::ScriptPaid {
                script: mine.clone(),
                outpoint: OutPoint {
                    txid: pay_id,
                    vout: 0
                },
                amount: Amount::from_sat(10_000),
                tx_index: 1,
                height: 6
            },
        ]
    );
    store.events.clear();
    chain.mine(1, 0); // height 8: depth 3
    sync(&mut f, &chain, &mut store);
    assert_eq!(
        store.events,
        vec![WatchEvent::DepthReached {
            txid: pay_id,
            depth: 3,
            confirmation_height: 6,
            tip_height: 8
        }]
    );

    // Reorg out heights 6..8; the payment comes back at 7 in the new branch.
    store.events.clear();
    chain.reorg(3, 0, 1);
    chain.mine(1, 1);
    chain.mine_with(1, vec![pay.clone()]);
    chain.mine(2, 1);
    sync(&mut f, &chain, &mut store);
    assert_eq!(store.disconnects, vec![5]);
    let spent_again = OutPoint {
        txid: pay_id,
        vout: 0,
    };
    assert_eq!(
        store.events,
        vec![
            WatchEvent::ScriptPaymentReverted {
                script: mine.clone(),
                outpoint: spent_again,
                amount: Amount::from_sat(10_000),
                height: 6
            },
            WatchEvent::OutpointSpendReverted {
                outpoint: funding_src,
                spender: pay_id,
                height: 6
            },
            WatchEvent::DepthReverted {
                txid: pay_id,
                depth: 3,
                confirmation_height: 6
            },
            WatchEvent::OutpointSpent {
                outpoint: funding_src,
                spender: pay_id,
                tx_index: 1,
                input_index: 0,
                height: 7
            },
            WatchEvent::ScriptPaid {
                script: mine,
                outpoint: spent_again,
                amount: Amount::from_sat(10_000),
                tx_index: 1,
                height: 7
            },
            WatchEvent::DepthReached {
                txid: pay_id,
                depth: 3,
                confirmation_height: 7,
                tip_height: 9
            },
        ]
    );
}

/// One step of a random scenario.
#[derive(Debug, Clone)]
enum Op {
    Mine(u32),
    Reorg {
        depth: u32,
        new: u32,
    },
    /// `invalidateblock`: the chain loses its top blocks; told via the backend's tip.
    Shrink {
        depth: u32,
        with_hash: bool,
    },
    Restart,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (1u32..6).prop_map(Op::Mine),
        2 => (1u32..25, 0u32..30).prop_map(|(depth, new)| Op::Reorg { depth, new }),
        1 => (1u32..8, any::<bool>()).prop_map(|(depth, with_hash)| Op::Shrink { depth, with_hash }),
        1 => Just(Op::Restart),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Whatever happens, after syncing the store holds exactly the backend's chain, and no
    /// block was ever connected twice or off the tip (checked by `Store::apply`).
    #[test]
    fn random_reorgs_end_in_step(
        ops in proptest::collection::vec(op(), 1..25),
        window in 1usize..12,
        branch_cache in 0usize..6,
        lose_every in 0usize..5,
    ) {
        let config = FollowerConfig { window, branch_cache };
        let mut chain = FakeChain::new();
        chain.mine(3, 0);
        let mut f = follower_from_genesis(config);
        let mut store = Store::default();
        sync(&mut f, &chain, &mut store);
        for (tag, op) in ops.into_iter().enumerate() {
            let tag = tag as u32 + 1;
            let mut first = Input::Tick;
            match op {
                Op::Mine(n) => chain.mine(n, tag),
                Op::Reorg { depth, new } => {
                    let depth = depth.min(chain.height());
                    // A reorg to a shorter chain is only seen once it outgrows ours.
                    chain.reorg(depth, new.max(depth + 1), tag);
                }
                Op::Shrink { depth, with_hash } => {
                    let keep = chain.blocks.len().saturating_sub(depth as usize).max(1);
                    chain.blocks.truncate(keep);
                    first = Input::BackendTip {
                        height: chain.height(),
                        hash: with_hash.then(|| chain.hash(chain.height())),
                    };
                }
                Op::Restart => {
                    let (height, hash) = store.tip().unwrap();
                    f = Follower::new(Start::Tip { height, hash }, config);
                }
            }
            if lose_every > 0 {
                // A flaky backend: every n-th answer is lost and a tick repeats the request.
                let mut n = 0;
                let mut inputs = vec![Input::Tick, first];
                while let Some(input) = inputs.pop() {
                    for a in f.handle(input).unwrap() {
                        store.apply(&a);
                        n += 1;
                        let answer = match a {
                            Action::FetchBlock { height } => Some(Input::BlockAtHeight {
                                height,
                                block: chain.get(height),
                            }),
                            Action::LoadStoredHash { height } => Some(Input::StoredHash {
                                height,
                                hash: store.hashes.get(&height).copied(),
                            }),
                            _ => None,
                        };
                        if let Some(answer) = answer {
                            inputs.push(if n % (lose_every + 1) == 0 { Input::Tick } else { answer });
                        }
                    }
                }
                prop_assert!(f.is_synced());
            } else {
                sync_from(&mut f, &chain, &mut store, first);
            }
            store.assert_matches(&chain, 0);
        }
    }
}
