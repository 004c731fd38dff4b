//! The wallet following a real regtest chain: coins paid to our addresses appear (immature,
//! then confirmed), a reorg moves them back to unconfirmed and forward again, and a restart
//! keeps everything.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests")]

use fulgur_testkit::{Bitcoind, Node, NodeOptions};
use serde_json::{json, Value};
use std::time::Duration;

fn synced(node: &Node, b: &Bitcoind) -> u64 {
    let tip = b.rpc("getblockcount", json!([])).unwrap().as_u64().unwrap();
    let r = node
        .rpc(
            "waitblockheight",
            json!({"blockheight": tip, "timeout": 20}),
        )
        .unwrap();
    assert!(r["blockheight"].as_u64().unwrap() >= tip);
    tip
}

fn outputs(node: &Node) -> Vec<Value> {
    node.rpc("listfunds", json!({})).unwrap()["outputs"]
        .as_array()
        .unwrap()
        .clone()
}

#[test]
fn coins_follow_the_chain_through_reorgs_and_restarts() {
    let b = Bitcoind::start().unwrap();
    b.generate(1).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let opts = NodeOptions {
        lightning_dir: Some(dir.path().to_path_buf()),
        ..Default::default()
    };
    let mut node = Node::start(Some(&b), opts.clone()).unwrap();
    synced(&node, &b);
    assert!(outputs(&node).is_empty());

    let p2tr = node.rpc("newaddr", json!({})).unwrap()["p2tr"]
        .as_str()
        .unwrap()
        .to_string();
    let wpkh = node
        .rpc("newaddr", json!({"addresstype": "bech32"}))
        .unwrap()["bech32"]
        .as_str()
        .unwrap()
        .to_string();
    let hashes = b.rpc("generatetoaddress", json!([1, p2tr])).unwrap();
    let our_block = hashes[0].as_str().unwrap().to_string();
    b.rpc("generatetoaddress", json!([1, wpkh])).unwrap();
    let height = synced(&node, &b);
    let outs = outputs(&node);
    assert_eq!(outs.len(), 2, "{outs:?}");
    assert!(
        outs.iter()
            .all(|o| o["status"] == "immature" && o["amount_msat"] == 5_000_000_000_000u64),
        "{outs:?}"
    );
    assert!(outs.iter().any(|o| o["address"] == p2tr.as_str()));
    assert!(outs.iter().any(|o| o["address"] == wpkh.as_str()));

    b.generate(100).unwrap();
    synced(&node, &b);
    let outs = outputs(&node);
    assert!(outs.iter().all(|o| o["status"] == "confirmed"), "{outs:?}");
    let first = outs
        .iter()
        .find(|o| o["address"] == p2tr.as_str())
        .unwrap()
        .clone();
    assert_eq!(first["blockheight"], height - 1);
    let info = node.rpc("getinfo", json!({})).unwrap();
    assert_eq!(info["blockheight"], height + 100);
    assert!(info.get("warning_lightningd_sync").is_none());

    // Reorg: invalidate the block holding our first coin (and everything after it).
    b.rpc("invalidateblock", json!([our_block])).unwrap();
    let tip = synced_down(&node, &b);
    assert_eq!(tip, height - 2);
    let outs = outputs(&node);
    assert!(
        outs.iter()
            .all(|o| o["status"] == "unconfirmed" && o.get("blockheight").is_none()),
        "{outs:?}"
    );
    // And back.
    b.rpc("reconsiderblock", json!([our_block])).unwrap();
    synced(&node, &b);
    let outs = outputs(&node);
    assert!(outs.iter().all(|o| o["status"] == "confirmed"), "{outs:?}");
    assert_eq!(
        outs.iter().find(|o| o["address"] == p2tr.as_str()).unwrap()["blockheight"],
        height - 1
    );
    node.wait_for_log("reorg: 102 block(s) above", Duration::from_secs(5))
        .unwrap();

    // Restart: everything is still there, and following resumes where it stopped.
    node.stop();
    let node = Node::start(Some(&b), opts).unwrap();
    let before = outs.clone();
    b.generate(3).unwrap();
    synced(&node, &b);
    assert_eq!(outputs(&node), before);
    let again = node.rpc("listaddresses", json!({})).unwrap()["addresses"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(again, 2);
    // The next address continues the key sequence.
    let next = node.rpc("newaddr", json!({})).unwrap();
    let listed = node
        .rpc("listaddresses", json!({"address": next["p2tr"]}))
        .unwrap();
    assert_eq!(listed["addresses"][0]["keyidx"], 3);
}

/// Waits for the node to follow bitcoind down to a lower tip after a reorg.
fn synced_down(node: &Node, b: &Bitcoind) -> u64 {
    let tip = b.rpc("getblockcount", json!([])).unwrap().as_u64().unwrap();
    for _ in 0..200 {
        if node.rpc("getinfo", json!({})).unwrap()["blockheight"] == tip {
            return tip;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!(
        "node did not follow the reorg down to {tip}:\n{}",
        node.output()
    );
}

#[test]
fn waitblockheight_times_out_and_feerates_answer() {
    let b = Bitcoind::start().unwrap();
    let node = Node::start(Some(&b), NodeOptions::default()).unwrap();
    let err = node
        .call("waitblockheight", json!({"blockheight": 500, "timeout": 1}))
        .unwrap()
        .error()
        .unwrap();
    assert_eq!(err, (2000, "Timed out.".to_string()));
    b.generate(2).unwrap();
    assert_eq!(
        node.rpc("waitblockheight", json!({"blockheight": 2, "timeout": 20}))
            .unwrap(),
        json!({"blockheight": 2})
    );
    let f = node.rpc("feerates", json!({"style": "perkw"})).unwrap();
    assert!(f["perkw"]["opening"].as_u64().unwrap() >= 253, "{f}");
    assert!(f["perkw"]["floor"].as_u64().unwrap() >= 253, "{f}");
    let err = node
        .call("feerates", json!({"style": "perbyte"}))
        .unwrap()
        .error()
        .unwrap();
    assert_eq!(err.0, -32602);
    for (method, params) in [
        ("feerates", json!({"style": "perkb"})),
        ("listfunds", json!({})),
        ("waitblockheight", json!({"blockheight": 1})),
    ] {
        let result = node.rpc(method, params).unwrap();
        assert_eq!(
            fulgur_testkit::schema::check_response(method, &result),
            Ok(true),
            "{method}"
        );
    }
}

/// A transaction recorded just before a crash, never sent: the node must send it on restart.
#[test]
fn recorded_but_unsent_transaction_is_broadcast_after_restart() {
    use bitcoin::hashes::Hash;
    let b = Bitcoind::start().unwrap();
    b.generate(1).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let opts = NodeOptions {
        lightning_dir: Some(dir.path().to_path_buf()),
        ..Default::default()
    };
    let mut node = Node::start(Some(&b), opts.clone()).unwrap();
    let addr = node
        .rpc("newaddr", json!({"addresstype": "bech32"}))
        .unwrap()["bech32"]
        .as_str()
        .unwrap()
        .to_string();
    b.rpc("generatetoaddress", json!([1, addr])).unwrap();
    b.generate(100).unwrap();
    synced(&node, &b);
    let coin = outputs(&node)[0].clone();
    node.stop();

    // What the node would have written before broadcasting: a signed spend of that coin.
    let secret = std::fs::read(dir.path().join("regtest/hsm_secret")).unwrap();
    let hsm = fulgur_keys::HsmSecret::from_file_bytes(&secret).unwrap();
    let keys = fulgur_wallet::WalletKeys::from_hsm_secret(&hsm, fulgur_types::Network::Regtest);
    let outpoint = bitcoin::OutPoint {
        txid: coin["txid"].as_str().unwrap().parse().unwrap(),
        vout: coin["output"].as_u64().unwrap() as u32,
    };
    let amount = fulgur_types::AmountSat::from_sat(coin["amount_msat"].as_u64().unwrap() / 1000);
    let input = fulgur_wallet::Coin {
        outpoint,
        amount,
        keyindex: 1,
        addrtype: fulgur_wallet::AddrType::Bech32,
        confirmations: 100,
    };
    let to = bitcoin::TxOut {
        value: bitcoin::Amount::from_sat(amount.sat() - 10_000),
        script_pubkey: bitcoin::ScriptBuf::new_p2wpkh(&bitcoin::WPubkeyHash::from_byte_array(
            [7; 20],
        )),
    };
    let mut built = fulgur_wallet::build_psbt(
        &keys,
        &[input],
        &[to],
        None,
        bitcoin::absolute::LockTime::ZERO,
        &[],
    )
    .unwrap();
    let owned = fulgur_wallet::OwnedInput {
        keyindex: 1,
        addrtype: fulgur_wallet::AddrType::Bech32,
        amount,
    };
    fulgur_wallet::sign_psbt(
        &keys,
        &mut built.psbt,
        |op| (*op == outpoint).then_some(owned),
        None,
    )
    .unwrap();
    fulgur_wallet::finalize_psbt(&mut built.psbt).unwrap();
    let tx = fulgur_wallet::extract_tx(built.psbt).unwrap();
    let txid = tx.compute_txid();
    let mut store =
        fulgur_store::Store::open(dir.path().join("regtest").join(fulgur_store::DB_FILENAME))
            .unwrap();
    store
        .record_broadcast(&fulgur_store::BroadcastTx {
            txid,
            raw: bitcoin::consensus::serialize(&tx),
            spends: vec![outpoint],
            new_outputs: vec![],
        })
        .unwrap();
    drop(store);
    let mempool = b.rpc("getrawmempool", json!([])).unwrap();
    assert!(!mempool
        .as_array()
        .unwrap()
        .contains(&json!(txid.to_string())));

    // Restart: the node sends it.
    let node = Node::start(Some(&b), opts).unwrap();
    let mut seen = false;
    for _ in 0..100 {
        let mempool = b.rpc("getrawmempool", json!([])).unwrap();
        if mempool
            .as_array()
            .unwrap()
            .contains(&json!(txid.to_string()))
        {
            seen = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        seen,
        "the recorded transaction never reached bitcoind:\n{}",
        node.output()
    );
    b.generate(1).unwrap();
    synced(&node, &b);
    let spent =
        node.rpc("listfunds", json!({"spent": true})).unwrap()["outputs"][0]["status"].clone();
    assert_eq!(spent, "spent");
}

/// Older CLN wallets (legacy 32-byte hsm_secret) may hold P2SH-wrapped P2WPKH coins: they are
/// found and listed like any other.
#[test]
fn legacy_p2sh_segwit_coins_are_found() {
    let b = Bitcoind::start().unwrap();
    b.generate(1).unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("regtest")).unwrap();
    let secret: Vec<u8> = (1..=32).collect();
    std::fs::write(dir.path().join("regtest/hsm_secret"), &secret).unwrap();
    let node = Node::start(
        Some(&b),
        NodeOptions {
            lightning_dir: Some(dir.path().to_path_buf()),
            ..Default::default()
        },
    )
    .unwrap();
    let hsm = fulgur_keys::HsmSecret::from_file_bytes(&secret).unwrap();
    let keys = fulgur_wallet::WalletKeys::from_hsm_secret(&hsm, fulgur_types::Network::Regtest);
    let wrapped = keys
        .address(1, fulgur_wallet::AddrType::P2shSegwit)
        .unwrap()
        .to_string();
    assert!(wrapped.starts_with('2'), "{wrapped}");
    b.rpc("generatetoaddress", json!([1, wrapped])).unwrap();
    b.generate(100).unwrap();
    synced(&node, &b);
    let outs = outputs(&node);
    assert_eq!(outs.len(), 1, "{outs:?}");
    assert_eq!(outs[0]["address"], wrapped.as_str());
    assert_eq!(outs[0]["status"], "confirmed");
}
