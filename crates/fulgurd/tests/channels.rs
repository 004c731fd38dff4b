//! Channels between two `fulgurd` processes on a real regtest bitcoind: `fundchannel` in both
//! directions, both sides reaching `CHANNELD_NORMAL` with the right balances, and a mutual
//! `close` from either side, each result checked against CLN v26.06's schemas.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests")]

use fulgur_testkit::{schema, Bitcoind, Node, NodeOptions};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

fn start(b: &Bitcoind) -> Node {
    Node::start(Some(b), NodeOptions::default()).unwrap()
}

fn ok(node: &Node, method: &str, params: Value) -> Value {
    let r = node
        .rpc(method, params.clone())
        .unwrap_or_else(|e| panic!("{method} {params}: {e}\n{}", node.log()));
    schema::check_response(method, &r).unwrap_or_else(|e| panic!("{method}: {e}\n{r}"));
    r
}

fn id(node: &Node) -> String {
    node.rpc("getinfo", json!({})).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string()
}

fn port(node: &Node) -> u64 {
    node.rpc("getinfo", json!({})).unwrap()["binding"][0]["port"]
        .as_u64()
        .unwrap()
}

fn channels(node: &Node) -> Vec<Value> {
    ok(node, "listpeerchannels", json!({}))["channels"]
        .as_array()
        .unwrap()
        .clone()
}

/// Waits until `node`'s only channel is in `state`; returns it.
fn wait_state(node: &Node, state: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let chans = channels(node);
        if let Some(c) = chans.iter().find(|c| c["state"] == state) {
            return c.clone();
        }
        assert!(
            Instant::now() < deadline,
            "never reached {state}: {chans:?}\n{}",
            node.log()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn open_and_close(b: &Bitcoind, opener: &Node, accepter: &Node, closer_is_opener: bool) {
    let accepter_id = id(accepter);
    ok(
        opener,
        "connect",
        json!({"id": accepter_id, "host": "127.0.0.1", "port": port(accepter)}),
    );
    let funded = ok(
        opener,
        "fundchannel",
        json!({"id": accepter_id, "amount": 500_000, "push_msat": 100_000_000, "announce": false}),
    );
    assert_eq!(funded["channel_type"]["bits"], json!([12, 22]));
    let txid = funded["txid"].as_str().unwrap().to_string();
    // Broadcast once the channel was stored: bitcoind has it.
    let deadline = Instant::now() + Duration::from_secs(20);
    while b.rpc("getmempoolentry", json!([txid])).is_err() {
        assert!(
            Instant::now() < deadline,
            "funding never reached the mempool"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(
        wait_state(opener, "CHANNELD_AWAITING_LOCKIN")["opener"],
        "local"
    );
    assert_eq!(
        wait_state(accepter, "CHANNELD_AWAITING_LOCKIN")["opener"],
        "remote"
    );
    b.generate(1).unwrap();
    let a = wait_state(opener, "CHANNELD_NORMAL");
    let c = wait_state(accepter, "CHANNELD_NORMAL");
    assert_eq!(a["channel_id"], c["channel_id"]);
    assert_eq!(a["short_channel_id"], c["short_channel_id"]);
    assert_eq!(a["funding_txid"], json!(txid));
    assert_eq!(a["total_msat"], json!(500_000_000u64));
    assert_eq!(a["to_us_msat"], json!(400_000_000u64));
    assert_eq!(c["to_us_msat"], json!(100_000_000u64));
    let funds = ok(opener, "listfunds", json!({}));
    let listed = funds["channels"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["channel_id"] == a["channel_id"])
        .unwrap()
        .clone();
    assert_eq!(listed["our_amount_msat"], json!(400_000_000u64));
    assert_eq!(listed["amount_msat"], json!(500_000_000u64));
    assert_eq!(listed["state"], "CHANNELD_NORMAL");

    let (closer, other) = if closer_is_opener {
        (opener, accepter)
    } else {
        (accepter, opener)
    };
    let closed = ok(
        closer,
        "close",
        json!({"id": a["channel_id"].as_str().unwrap()}),
    );
    assert_eq!(closed["type"], "mutual");
    let close_txid = closed["txids"][0].as_str().unwrap().to_string();
    let tx = b
        .rpc("getrawtransaction", json!([close_txid, true]))
        .unwrap();
    assert_eq!(tx["vin"][0]["txid"], json!(txid));
    // The accepter's output is exactly its balance: the opener pays the closing fee.
    let values: Vec<u64> = tx["vout"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| (o["value"].as_f64().unwrap() * 1e8).round() as u64)
        .collect();
    assert!(values.contains(&100_000), "{values:?}");
    assert!(
        values.iter().any(|v| *v > 390_000 && *v < 400_000),
        "{values:?}"
    );
    wait_state(other, "CLOSINGD_COMPLETE");
    b.generate(1).unwrap();
    wait_state(closer, "ONCHAIN");
    wait_state(other, "ONCHAIN");
}

#[test]
fn fulgurd_opens_to_fulgurd_and_both_sides_close() {
    let b = Bitcoind::start().unwrap();
    let n1 = start(&b);
    let n2 = start(&b);
    n1.fund_coinbase(&b).unwrap();
    n2.fund_coinbase(&b).unwrap();
    n1.wait_synced(&b).unwrap();
    open_and_close(&b, &n1, &n2, true);
    // The other way round, closed by the accepter.
    let n3 = start(&b);
    n3.fund_coinbase(&b).unwrap();
    n2.wait_synced(&b).unwrap();
    open_and_close(&b, &n2, &n3, false);
}

/// Kills `node` with SIGKILL (no chance to tidy up) and waits for it to exit.
fn kill9(node: &mut Node) {
    let pid = node.pid().unwrap();
    std::process::Command::new("kill")
        .args(["-9", &pid.to_string()])
        .status()
        .unwrap();
    assert!(node.wait_exit(Duration::from_secs(10)));
}

#[test]
fn channels_survive_kill_and_restart() {
    let b = Bitcoind::start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let port2 = fulgur_testkit::free_port();
    let opts2 = NodeOptions {
        lightning_dir: Some(dir.path().to_path_buf()),
        extra_args: vec![format!("--addr=127.0.0.1:{port2}")],
        ..Default::default()
    };
    let n1 = start(&b);
    let mut n2 = Node::start(Some(&b), opts2.clone()).unwrap();
    n1.fund_coinbase(&b).unwrap();
    n2.wait_synced(&b).unwrap();
    let id2 = id(&n2);
    ok(
        &n1,
        "connect",
        json!({"id": id2, "host": "127.0.0.1", "port": port2}),
    );
    let funded = ok(
        &n1,
        "fundchannel",
        json!({"id": id2, "amount": 400_000, "push_msat": 1_000_000}),
    );
    wait_state(&n2, "CHANNELD_AWAITING_LOCKIN");
    // Killed while waiting for lock-in: the channel was stored before funding_signed left.
    kill9(&mut n2);
    b.generate(1).unwrap();
    let n2 = Node::start(Some(&b), opts2.clone()).unwrap();
    let before = wait_state(&n2, "CHANNELD_AWAITING_LOCKIN");
    assert_eq!(before["funding_txid"], funded["txid"]);
    ok(
        &n1,
        "connect",
        json!({"id": id2, "host": "127.0.0.1", "port": port2}),
    );
    let a = wait_state(&n1, "CHANNELD_NORMAL");
    let c = wait_state(&n2, "CHANNELD_NORMAL");
    assert_eq!(a["short_channel_id"], c["short_channel_id"]);
    assert_eq!(c["to_us_msat"], json!(1_000_000u64));
    assert_eq!(c["reestablished"], true);
    let mut n2 = n2;
    // And again in normal operation: reestablished, then closed cleanly.
    kill9(&mut n2);
    let n2 = Node::start(Some(&b), opts2).unwrap();
    ok(
        &n1,
        "connect",
        json!({"id": id2, "host": "127.0.0.1", "port": port2}),
    );
    let c = wait_state(&n2, "CHANNELD_NORMAL");
    assert_eq!(c["to_us_msat"], json!(1_000_000u64));
    let closed = ok(&n2, "close", json!({"id": id(&n1)}));
    assert_eq!(closed["type"], "mutual");
    b.generate(1).unwrap();
    wait_state(&n1, "ONCHAIN");
    wait_state(&n2, "ONCHAIN");
}

/// `fundchannel_start`, a funding transaction built with `txprepare`, `fundchannel_complete`,
/// then `txsend`: the flow of users who build the funding themselves.
#[test]
fn fundchannel_start_and_complete_with_a_prepared_transaction() {
    let b = Bitcoind::start().unwrap();
    let n1 = start(&b);
    let n2 = start(&b);
    n1.fund_coinbase(&b).unwrap();
    n2.wait_synced(&b).unwrap();
    let id2 = id(&n2);
    ok(
        &n1,
        "connect",
        json!({"id": id2, "host": "127.0.0.1", "port": port(&n2)}),
    );
    let started = ok(
        &n1,
        "fundchannel_start",
        json!({"id": id2, "amount": 250_000, "announce": false}),
    );
    let address = started["funding_address"].as_str().unwrap().to_string();
    // A transaction paying the wrong amount is refused and the open stays in progress.
    let wrong = ok(
        &n1,
        "txprepare",
        json!({"outputs": [{address.clone(): 249_999}]}),
    );
    let e = n1
        .call(
            "fundchannel_complete",
            json!({"id": id2, "psbt": wrong["psbt"]}),
        )
        .unwrap();
    assert_eq!(e.error().unwrap().0, 309, "{e:?}");
    ok(&n1, "txdiscard", json!({"txid": wrong["txid"]}));
    let prepared = ok(&n1, "txprepare", json!({"outputs": [{address: 250_000}]}));
    let done = ok(
        &n1,
        "fundchannel_complete",
        json!({"id": id2, "psbt": prepared["psbt"]}),
    );
    assert_eq!(done["commitments_secured"], true);
    wait_state(&n1, "CHANNELD_AWAITING_LOCKIN");
    let sent = ok(&n1, "txsend", json!({"txid": prepared["txid"]}));
    b.generate(1).unwrap();
    let a = wait_state(&n1, "CHANNELD_NORMAL");
    wait_state(&n2, "CHANNELD_NORMAL");
    assert_eq!(a["channel_id"], done["channel_id"]);
    assert_eq!(a["funding_txid"], sent["txid"]);
}
