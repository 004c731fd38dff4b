//! `BitcoindBackend` and the chain follower against a real regtest bitcoind: nothing past the
//! tip, mined blocks parse, UTXOs and broadcasts behave as `bcli` reports them, fees fall back
//! on regtest, and `invalidateblock` / `reconsiderblock` reorgs are followed.

use std::collections::{BTreeMap, VecDeque};

use bitcoin::hashes::Hash;
use bitcoin::secp256k1::{Message, Secp256k1, SecretKey};
use bitcoin::sighash::{EcdsaSighashType, SighashCache};
use bitcoin::{
    Amount, BlockHash, CompressedPublicKey, OutPoint, ScriptBuf, Sequence, Transaction, TxIn,
    TxOut, Witness,
};
use fulgur_bitcoind::{BitcoindBackend, RetryPolicy};
use fulgur_chain::{Action, ChainBackend, Follower, FollowerConfig, Input, Start, WatchEvent};

use crate::node::{NodeAuth, RegtestNode};
use crate::{bitcoind_or_skip, regtest_address, test_address, test_key};

/// The key behind [`regtest_address`] (secret 0x01...01) and its P2WPKH script.
fn key() -> (SecretKey, CompressedPublicKey, ScriptBuf) {
    let (sk, pk) = test_key(1);
    let spk = ScriptBuf::new_p2wpkh(&pk.wpubkey_hash());
    (sk, pk, spk)
}

/// Another address, so re-mined blocks differ from invalidated ones.
fn other_address() -> String {
    test_address(2)
}

fn backend(node: &RegtestNode) -> BitcoindBackend {
    BitcoindBackend::new(node.client().clone()).with_retry(RetryPolicy::no_retry())
}

/// Spends `outpoint` (worth `value`, paying to [`key`]) back to the same script, minus a fee.
fn spend(outpoint: OutPoint, value: Amount) -> Transaction {
    let (sk, pk, spk) = key();
    let mut tx = Transaction {
        version: bitcoin::transaction::Version::TWO,
        lock_time: bitcoin::absolute::LockTime::ZERO,
        input: vec![TxIn {
            previous_output: outpoint,
            script_sig: ScriptBuf::new(),
            sequence: Sequence::MAX,
            witness: Witness::new(),
        }],
        output: vec![TxOut {
            value: value - Amount::from_sat(1000),
            script_pubkey: spk.clone(),
        }],
    };
    let sighash = SighashCache::new(&tx)
        .p2wpkh_signature_hash(0, &spk, value, EcdsaSighashType::All)
        .unwrap();
    let sig = Secp256k1::new().sign_ecdsa(&Message::from_digest(sighash.to_byte_array()), &sk);
    let sig = bitcoin::ecdsa::Signature {
        signature: sig,
        sighash_type: EcdsaSighashType::All,
    };
    tx.input[0].witness = Witness::p2wpkh(&sig, &pk.0);
    tx
}

#[tokio::test]
async fn backend_methods_on_regtest() {
    let Some(binary) = bitcoind_or_skip("backend_methods_on_regtest") else {
        return;
    };
    let datadir = tempfile::tempdir().unwrap();
    let node = RegtestNode::start(&binary, datadir.path(), NodeAuth::UserPass).await;
    let backend = backend(&node);

    let info = backend.getchaininfo(None).await.unwrap();
    assert_eq!(
        (info.chain.as_str(), info.blockcount, info.ibd),
        ("regtest", 0, info.ibd)
    );
    // Past the tip: nothing (both fields null in CLN's shape).
    assert!(backend.getrawblockbyheight(1).await.unwrap().is_none());
    assert!(backend
        .getrawblockbyheight(u32::MAX)
        .await
        .unwrap()
        .is_none());
    let genesis = backend.getrawblockbyheight(0).await.unwrap().unwrap();
    assert_eq!(
        genesis.block,
        bitcoin::constants::genesis_block(bitcoin::Network::Regtest)
    );

    // A mined block parses, with the hash bitcoind reports.
    let hashes = node
        .client()
        .generatetoaddress(101, &regtest_address())
        .await
        .unwrap();
    let first = backend.getrawblockbyheight(1).await.unwrap().unwrap();
    assert_eq!(first.hash, hashes[0]);
    assert_eq!(first.block.block_hash(), hashes[0]);
    assert!(first.block.check_merkle_root());
    assert_eq!(first.block.header.prev_blockhash, genesis.hash);

    // The coinbase output is unspent, worth 50 BTC, paying our script.
    let (_, _, spk) = key();
    let coinbase = OutPoint {
        txid: first.block.txdata[0].compute_txid(),
        vout: 0,
    };
    let utxo = backend.getutxout(coinbase.txid, 0).await.unwrap().unwrap();
    assert_eq!(utxo.amount.sat(), 5_000_000_000);
    assert_eq!(utxo.script, spk);
    assert!(backend.getutxout(coinbase.txid, 7).await.unwrap().is_none());

    // Fees: a fresh regtest has no estimates; bcli's regtest fallback fills them in.
    // The floor is bitcoind's relay minimum: 1000 sat/kVB before v30, 100 since.
    let fees = backend.estimatefees().await.unwrap();
    let mempool = node.client().getmempoolinfo().await.unwrap();
    let floor = fulgur_bitcoind::btc_to_sat(mempool.minrelaytxfee.max(mempool.mempoolminfee));
    assert_eq!(Some(u64::from(fees.feerate_floor)), floor, "{fees:?}");
    let rates: Vec<(u32, u32)> = fees
        .feerates
        .iter()
        .map(|f| (f.blocks, f.feerate))
        .collect();
    assert_eq!(rates, vec![(2, 1000), (6, 1000), (12, 1000), (100, 1000)]);
    let none = backend
        .clone()
        .with_fake_fees(false)
        .estimatefees()
        .await
        .unwrap();
    assert!(none.feerates.is_empty());
    let mut fee_state = fulgur_chain::Fees::default();
    fee_state.update(&fees).unwrap();
    assert_eq!(fee_state.opening(), Some(fulgur_types::FeeratePerKw::FLOOR));

    // Broadcast: a valid spend succeeds, spends the UTXO; a bad one is refused with
    // bitcoin-cli's message; once mined, sending again counts as success.
    let tx = spend(coinbase, Amount::from_sat(utxo.amount.sat()));
    let sent = backend.sendrawtransaction(&tx, false).await.unwrap();
    assert!(sent.success, "{sent:?}");
    assert!(backend.getutxout(coinbase.txid, 0).await.unwrap().is_none());
    // Spending an output that does not exist.
    let bad = spend(
        OutPoint {
            txid: coinbase.txid,
            vout: 5,
        },
        Amount::from_sat(utxo.amount.sat()),
    );
    let refused = backend.sendrawtransaction(&bad, true).await.unwrap();
    assert!(!refused.success, "{refused:?}");
    assert!(
        refused.errmsg.starts_with("error code: -"),
        "{}",
        refused.errmsg
    );
    node.client()
        .generatetoaddress(1, &regtest_address())
        .await
        .unwrap();
    let again = backend.sendrawtransaction(&tx, false).await.unwrap();
    assert!(again.success, "{again:?}");
    assert!(again.errmsg.contains("-27"), "{}", again.errmsg);

    node.stop().await;
}

/// What the test stored.
#[derive(Default)]
struct Store {
    hashes: BTreeMap<u32, BlockHash>,
    events: Vec<WatchEvent>,
    disconnects: Vec<u32>,
}

/// Drives the follower until it is synced with bitcoind: a small loop doing the I/O.
async fn drive(f: &mut Follower, backend: &BitcoindBackend, store: &mut Store) {
    let info = backend.client().getblockchaininfo().await.unwrap();
    let mut inputs = VecDeque::from([Input::BackendTip {
        height: info.blocks as u32,
        hash: Some(info.bestblockhash),
    }]);
    let mut first = true;
    while let Some(input) = inputs.pop_front() {
        let actions = f.handle(input).unwrap();
        if first && actions.is_empty() {
            inputs.push_back(Input::Tick);
        }
        first = false;
        for action in actions {
            match action {
                Action::FetchBlock { height } => inputs.push_back(Input::BlockAtHeight {
                    height,
                    block: backend.getrawblockbyheight(height).await.unwrap(),
                }),
                Action::LoadStoredHash { height } => inputs.push_back(Input::StoredHash {
                    height,
                    hash: store.hashes.get(&height).copied(),
                }),
                Action::ConnectBlock { height, hash, .. } => {
                    assert!(store.hashes.insert(height, hash).is_none());
                }
                Action::DisconnectAbove { height } => {
                    store.hashes.split_off(&(height + 1));
                    store.disconnects.push(height);
                }
                Action::Watch(e) => store.events.push(e),
                Action::Synced { .. } => {}
            }
        }
    }
    assert!(f.is_synced());
}

/// Asserts the store holds bitcoind's best chain.
async fn assert_in_step(node: &RegtestNode, store: &Store) {
    let height = node.client().getblockcount().await.unwrap() as u32;
    let mut want = BTreeMap::new();
    for h in 0..=height {
        want.insert(h, node.client().getblockhash(u64::from(h)).await.unwrap());
    }
    assert_eq!(store.hashes, want);
}

/// Outputs paying our script on the store's chain, per the watch events.
fn paid(store: &Store) -> i64 {
    store
        .events
        .iter()
        .map(|e| match e {
            WatchEvent::ScriptPaid { .. } => 1,
            WatchEvent::ScriptPaymentReverted { .. } => -1,
            _ => 0,
        })
        .sum()
}

#[tokio::test]
async fn follower_follows_invalidate_and_reconsider() {
    let Some(binary) = bitcoind_or_skip("follower_follows_invalidate_and_reconsider") else {
        return;
    };
    let datadir = tempfile::tempdir().unwrap();
    let node = RegtestNode::start(&binary, datadir.path(), NodeAuth::UserPass).await;
    let backend = backend(&node);
    let client = node.client();
    let ours = regtest_address();

    let mut f = Follower::new(
        Start::Height(0),
        FollowerConfig {
            window: 2,
            branch_cache: 1,
        },
    );
    f.watch_script(key().2);
    let mut store = Store::default();
    client.generatetoaddress(5, &ours).await.unwrap();
    drive(&mut f, &backend, &mut store).await;
    assert_in_step(&node, &store).await;
    assert_eq!(paid(&store), 5);

    // invalidateblock at 3: the chain is 2 blocks; 2 new blocks (to another address) make
    // it 4, shorter than ours: noticed from getblockchaininfo's tip.
    let old3 = client.getblockhash(3).await.unwrap();
    client.invalidateblock(&old3).await.unwrap();
    client.generatetoaddress(2, &other_address()).await.unwrap();
    drive(&mut f, &backend, &mut store).await;
    assert_in_step(&node, &store).await;
    assert_eq!(store.disconnects, vec![2]);
    assert_eq!(paid(&store), 2);

    // reconsiderblock: the old branch (5 blocks) has more work again; bitcoind switches
    // back, the follower sees block 5 not linking to its 4 and walks back (past its
    // 2-block window, asking the store).
    client.reconsiderblock(&old3).await.unwrap();
    assert_eq!(client.getblockcount().await.unwrap(), 5);
    drive(&mut f, &backend, &mut store).await;
    assert_in_step(&node, &store).await;
    assert_eq!(store.disconnects, vec![2, 2]);
    assert_eq!(paid(&store), 5);

    // Restart from the stored tip and keep following.
    let (height, hash) = store
        .hashes
        .last_key_value()
        .map(|(h, b)| (*h, *b))
        .unwrap();
    let mut f = Follower::new(Start::Tip { height, hash }, FollowerConfig::default());
    client.generatetoaddress(3, &ours).await.unwrap();
    drive(&mut f, &backend, &mut store).await;
    assert_in_step(&node, &store).await;
    assert_eq!(f.tip().unwrap().0, 8);

    node.stop().await;
}
