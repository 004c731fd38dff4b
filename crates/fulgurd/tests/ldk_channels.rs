//! Channels with an independent implementation on regtest: `fulgurd` opens an anchor channel
//! to `ldk-node` and `ldk-node` opens one to `fulgurd`; both reach normal operation, and a
//! mutual close started from either side confirms and pays each side its balance.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests")]

use fulgur_testkit::{free_port, Bitcoind, LdkPeer, Node, NodeOptions};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

fn fulgur(b: &Bitcoind) -> (Node, String, u16) {
    let port = free_port();
    let node = Node::start(
        Some(b),
        NodeOptions {
            extra_args: vec![format!("--addr=127.0.0.1:{port}")],
            ..Default::default()
        },
    )
    .unwrap();
    let id = node.rpc("getinfo", json!({})).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    (node, id, port)
}

fn channel(node: &Node) -> Option<Value> {
    node.rpc("listpeerchannels", json!({})).unwrap()["channels"]
        .as_array()
        .unwrap()
        .first()
        .cloned()
}

fn wait_state(node: &Node, state: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        if let Some(c) = channel(node).filter(|c| c["state"] == state) {
            return c;
        }
        assert!(
            Instant::now() < deadline,
            "never reached {state}: {:?}\n{}",
            channel(node),
            node.log()
        );
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// Mines a block at a time until `done`, syncing ldk-node in between.
fn mine_until(
    b: &Bitcoind,
    ldk: &mut LdkPeer,
    what: &str,
    mut done: impl FnMut(&mut LdkPeer) -> bool,
) {
    for _ in 0..20 {
        if done(ldk) {
            return;
        }
        b.generate(1).unwrap();
        ldk.sync().unwrap();
        std::thread::sleep(Duration::from_millis(300));
    }
    panic!("never: {what}");
}

fn ldk_channel(ldk: &mut LdkPeer) -> Option<Value> {
    ldk.list_channels().unwrap().first().cloned()
}

#[test]
fn fulgurd_opens_to_ldk_node_and_closes() {
    let b = Bitcoind::start().unwrap();
    let (node, id, _) = fulgur(&b);
    let mut ldk = LdkPeer::start(&b).unwrap();
    ldk.fund(&b, 1).unwrap();
    node.fund_coinbase(&b).unwrap();
    node.rpc(
        "connect",
        json!({"id": format!("{}@127.0.0.1:{}", ldk.node_id, ldk.port)}),
    )
    .unwrap();
    let funded = node
        .rpc(
            "fundchannel",
            json!({"id": ldk.node_id, "amount": 300_000, "push_msat": 50_000_000, "announce": false}),
        )
        .unwrap_or_else(|e| panic!("fundchannel: {e}\n{}", node.log()));
    assert_eq!(funded["channel_type"]["bits"], json!([12, 22]));
    ldk.wait_event("channel_pending", Duration::from_secs(30))
        .unwrap();
    mine_until(&b, &mut ldk, "ldk channel ready", |l| {
        ldk_channel(l).is_some_and(|c| c["is_channel_ready"] == true)
    });
    let ours = wait_state(&node, "CHANNELD_NORMAL");
    assert_eq!(ours["to_us_msat"], json!(250_000_000u64));
    let theirs = ldk_channel(&mut ldk).unwrap();
    assert_eq!(theirs["channel_id"], ours["channel_id"]);
    assert_eq!(theirs["is_outbound"], false);
    assert!(theirs["is_usable"] == true, "{theirs}");

    let closed = node
        .rpc("close", json!({"id": ldk.node_id}))
        .unwrap_or_else(|e| panic!("close: {e}\n{}", node.log()));
    assert_eq!(closed["type"], "mutual");
    let ev = ldk
        .wait_event("channel_closed", Duration::from_secs(30))
        .unwrap();
    assert_eq!(ev["reason_kind"], "CounterpartyInitiatedCooperativeClosure");
    let txid = closed["txids"][0].as_str().unwrap();
    let tx = b.rpc("getrawtransaction", json!([txid, true])).unwrap();
    let values: Vec<u64> = tx["vout"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| (o["value"].as_f64().unwrap() * 1e8).round() as u64)
        .collect();
    assert!(
        values.contains(&50_000),
        "ldk gets its 50,000 sat: {values:?}"
    );
    b.generate(1).unwrap();
    wait_state(&node, "ONCHAIN");
    drop(id);
}

#[test]
fn ldk_node_opens_to_fulgurd_and_closes() {
    let b = Bitcoind::start().unwrap();
    let (node, id, port) = fulgur(&b);
    let mut ldk = LdkPeer::start(&b).unwrap();
    ldk.fund(&b, 1).unwrap();
    // ldk-node needs 25,000 sat on chain for an anchor channel; fulgurd needs nothing to
    // accept one.
    node.wait_synced(&b).unwrap();
    let user_channel_id = ldk
        .open_channel(
            &id,
            &format!("127.0.0.1:{port}"),
            200_000,
            Some(20_000_000),
            false,
        )
        .unwrap();
    ldk.wait_event("channel_pending", Duration::from_secs(30))
        .unwrap_or_else(|e| panic!("{e}\n{}", node.log()));
    let pending = wait_state(&node, "CHANNELD_AWAITING_LOCKIN");
    assert_eq!(pending["opener"], "remote");
    mine_until(&b, &mut ldk, "ldk channel ready", |l| {
        ldk_channel(l).is_some_and(|c| c["is_channel_ready"] == true)
    });
    let ours = wait_state(&node, "CHANNELD_NORMAL");
    assert_eq!(ours["to_us_msat"], json!(20_000_000u64));
    assert_eq!(ours["channel_type"]["bits"], json!([12, 22]));

    ldk.close_channel(&user_channel_id, &id).unwrap();
    let ev = ldk
        .wait_event("channel_closed", Duration::from_secs(30))
        .unwrap_or_else(|e| panic!("{e}\n{}", node.log()));
    assert_eq!(ev["reason_kind"], "LocallyInitiatedCooperativeClosure");
    let closing = wait_state(&node, "CLOSINGD_COMPLETE");
    assert_eq!(closing["opener"], "remote");
    b.generate(1).unwrap();
    wait_state(&node, "ONCHAIN");
    // Our 20,000 sat arrive in the wallet once the close confirms.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let funds = node.rpc("listfunds", json!({})).unwrap();
        let total: u64 = funds["outputs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["amount_msat"].as_u64().unwrap())
            .sum();
        if total == 20_000_000 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "wallet never got the close output: {funds}"
        );
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// An HTLC from ldk-node (a keysend fulgurd cannot settle yet, so it stays committed): it is
/// committed on both sides, and `listhtlcs` lists it with its channel, indexes and state, also
/// after a restart.
#[test]
fn an_htlc_from_ldk_node_is_listed_by_listhtlcs() {
    let b = Bitcoind::start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let opts = NodeOptions {
        lightning_dir: Some(dir.path().to_path_buf()),
        extra_args: vec![format!("--addr=127.0.0.1:{port}")],
        ..Default::default()
    };
    let mut node = Node::start(Some(&b), opts.clone()).unwrap();
    let id = node.rpc("getinfo", json!({})).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let mut ldk = LdkPeer::start(&b).unwrap();
    ldk.fund(&b, 1).unwrap();
    node.wait_synced(&b).unwrap();
    ldk.open_channel(&id, &format!("127.0.0.1:{port}"), 200_000, None, false)
        .unwrap();
    ldk.wait_event("channel_pending", Duration::from_secs(30))
        .unwrap_or_else(|e| panic!("{e}\n{}", node.log()));
    mine_until(&b, &mut ldk, "ldk channel usable", |l| {
        ldk_channel(l).is_some_and(|c| c["is_usable"] == true)
    });
    let ours = wait_state(&node, "CHANNELD_NORMAL");
    let scid = ours["short_channel_id"].as_str().unwrap().to_string();
    ldk.spontaneous_send(&id, 5_000_000)
        .unwrap_or_else(|e| panic!("{e}\n{}", node.log()));
    // Fully committed on our side: the peer's add is irrevocably in both commitments.
    let deadline = Instant::now() + Duration::from_secs(60);
    let htlc = loop {
        let c = channel(&node).unwrap();
        if let Some(h) = c["htlcs"]
            .as_array()
            .unwrap()
            .iter()
            .find(|h| h["state"] == "RCVD_ADD_ACK_REVOCATION")
        {
            break h.clone();
        }
        assert!(
            Instant::now() < deadline,
            "HTLC never committed: {c}\n{}",
            node.log()
        );
        std::thread::sleep(Duration::from_millis(250));
    };
    assert_eq!(htlc["direction"], "in");
    let check = |node: &Node| {
        let listed = node.rpc("listhtlcs", json!({})).unwrap();
        if fulgur_testkit::schema::schema_dir().is_some() {
            fulgur_testkit::schema::check_response("listhtlcs", &listed).unwrap();
        }
        let all = listed["htlcs"].as_array().unwrap().clone();
        assert_eq!(all.len(), 1, "{listed}");
        let h = &all[0];
        assert_eq!(h["short_channel_id"], json!(scid));
        assert_eq!(h["direction"], "in");
        assert_eq!(h["id"], htlc["id"]);
        assert_eq!(h["amount_msat"], json!(5_000_000u64));
        assert_eq!(h["expiry"], htlc["expiry"]);
        assert_eq!(h["payment_hash"], htlc["payment_hash"]);
        assert_eq!(h["state"], "RCVD_ADD_ACK_REVOCATION");
        assert_eq!(h["created_index"], json!(1));
        assert!(h["updated_index"].as_u64().unwrap() >= 1, "{h}");
        let by_scid = node.rpc("listhtlcs", json!({"id": scid})).unwrap();
        assert_eq!(by_scid["htlcs"], listed["htlcs"]);
        let later = node
            .rpc("listhtlcs", json!({"index": "created", "start": 2}))
            .unwrap();
        assert!(later["htlcs"].as_array().unwrap().is_empty());
    };
    check(&node);
    // Stored, not just in memory.
    node.stop();
    let node = Node::start(Some(&b), opts).unwrap();
    check(&node);
    let e = node.call("listhtlcs", json!({"id": "1x1x1"})).unwrap();
    assert_eq!(e.error().unwrap().0, -32602);
}

/// `multifundchannel` to ldk-node and to a second fulgurd at once: one funding transaction,
/// both channels usable, each peer with the amount it was given.
#[test]
fn multifundchannel_to_ldk_node_and_fulgurd() {
    let b = Bitcoind::start().unwrap();
    let (node, _, _) = fulgur(&b);
    let (other, other_id, other_port) = fulgur(&b);
    let mut ldk = LdkPeer::start(&b).unwrap();
    ldk.fund(&b, 1).unwrap();
    node.fund_coinbase(&b).unwrap();
    other.wait_synced(&b).unwrap();
    let r = node
        .rpc(
            "multifundchannel",
            json!({"destinations": [
                {"id": format!("{}@127.0.0.1:{}", ldk.node_id, ldk.port), "amount": 300_000, "push_msat": 10_000_000, "announce": false},
                {"id": format!("{other_id}@127.0.0.1:{other_port}"), "amount": 200_000},
            ]}),
        )
        .unwrap_or_else(|e| panic!("multifundchannel: {e}\n{}", node.log()));
    assert_eq!(r["channel_ids"].as_array().unwrap().len(), 2, "{r}");
    let txid = r["txid"].as_str().unwrap().to_string();
    ldk.wait_event("channel_pending", Duration::from_secs(30))
        .unwrap();
    mine_until(&b, &mut ldk, "ldk channel usable", |l| {
        ldk_channel(l).is_some_and(|c| c["is_usable"] == true)
    });
    let theirs = ldk_channel(&mut ldk).unwrap();
    assert_eq!(
        theirs["funding_txo"].as_str().unwrap().split(':').next(),
        Some(txid.as_str())
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let ours = node.rpc("listpeerchannels", json!({})).unwrap()["channels"].clone();
        let normal = ours
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["state"] == "CHANNELD_NORMAL" && c["funding_txid"] == json!(txid))
            .count();
        if normal == 2 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "not both normal: {ours}\n{}",
            node.log()
        );
        std::thread::sleep(Duration::from_millis(250));
    }
    assert_eq!(
        wait_state(&other, "CHANNELD_NORMAL")["funding_txid"],
        json!(txid)
    );
}
