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

/// A node with a 50 BTC coinbase, connected to a second node.
fn connected_pair(b: &Bitcoind) -> (Node, Node) {
    let n1 = start(b);
    let n2 = start(b);
    n1.fund_coinbase(b).unwrap();
    n2.wait_synced(b).unwrap();
    ok(
        &n1,
        "connect",
        json!({"id": id(&n2), "host": "127.0.0.1", "port": port(&n2)}),
    );
    (n1, n2)
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
    // Buried 100 deep, the close is final: out of listpeerchannels, into listclosedchannels.
    b.generate(99).unwrap();
    for (node, cause, closer_side) in [(closer, "user", "local"), (other, "remote", "remote")] {
        let deadline = Instant::now() + Duration::from_secs(30);
        let gone = loop {
            let closed = ok(node, "listclosedchannels", json!({}))["closedchannels"].clone();
            let found = closed
                .as_array()
                .unwrap()
                .iter()
                .find(|c| c["channel_id"] == a["channel_id"])
                .cloned();
            if let Some(c) = found.filter(|_| channels(node).is_empty()) {
                break c;
            }
            assert!(
                Instant::now() < deadline,
                "never closed: {closed}\n{}",
                node.log()
            );
            std::thread::sleep(Duration::from_millis(200));
        };
        assert_eq!(gone["close_cause"], cause, "{gone}");
        assert_eq!(gone["closer"], closer_side, "{gone}");
        assert_eq!(gone["last_commitment_txid"], json!(close_txid));
        assert_eq!(gone["total_msat"], json!(500_000_000u64));
        assert!(
            gone["last_commitment_fee_msat"].as_u64().unwrap() > 0,
            "{gone}"
        );
    }
    let by_peer = ok(opener, "listclosedchannels", json!({"id": id(accepter)}));
    let closed = by_peer["closedchannels"][0].clone();
    assert_eq!(by_peer["closedchannels"].as_array().unwrap().len(), 1);
    assert_eq!(closed["final_to_us_msat"], json!(400_000_000u64));
    assert_eq!(closed["opener"], "local");
    assert_eq!(closed["funding_pushed_msat"], json!(100_000_000u64));
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

/// Waits until `node`'s channel is reestablished on a live connection.
fn wait_reestablished(node: &Node) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !channels(node).iter().any(|c| c["reestablished"] == true) {
        assert!(
            Instant::now() < deadline,
            "never reestablished: {:?}\n{}",
            channels(node),
            node.log()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// SIGKILL of the accepter during lock-in and in normal operation: each time it restarts,
/// the opener reconnects by itself (it remembers the address) and the channel resumes.
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
    // n1 reconnects on its own, at the address it reached n2 at.
    let a = wait_state(&n1, "CHANNELD_NORMAL");
    let c = wait_state(&n2, "CHANNELD_NORMAL");
    assert_eq!(a["short_channel_id"], c["short_channel_id"]);
    assert_eq!(c["to_us_msat"], json!(1_000_000u64));
    assert_eq!(c["reestablished"], true);
    let mut n2 = n2;
    // And again in normal operation: reestablished, then closed cleanly.
    kill9(&mut n2);
    let n2 = Node::start(Some(&b), opts2).unwrap();
    let c = wait_state(&n2, "CHANNELD_NORMAL");
    wait_reestablished(&n2);
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
    let (n1, n2) = connected_pair(&b);
    let id2 = id(&n2);
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

/// A node id nobody runs (the generator point), at a port nothing listens on.
const NOBODY: &str =
    "0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798@127.0.0.1:1";

fn dest(node: &Node, amount: u64) -> Value {
    json!({"id": format!("{}@127.0.0.1:{}", id(node), port(node)), "amount": amount})
}

fn reserved_coins(node: &Node) -> usize {
    ok(node, "listfunds", json!({}))["outputs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["reserved"] == true)
        .count()
}

/// `multifundchannel` to two peers and one that cannot be reached, with `minchannels` 2: both
/// channels are funded by one transaction and the unreachable peer is reported in `failed`.
#[test]
fn multifundchannel_funds_several_channels_in_one_transaction() {
    let b = Bitcoind::start().unwrap();
    let n1 = start(&b);
    let n2 = start(&b);
    let n3 = start(&b);
    n1.fund_coinbase(&b).unwrap();
    n2.wait_synced(&b).unwrap();
    n3.wait_synced(&b).unwrap();
    let mut d2 = dest(&n2, 300_000);
    d2["push_msat"] = json!(1_000_000);
    let mut d3 = dest(&n3, 200_000);
    d3["announce"] = json!(false);
    let r = ok(
        &n1,
        "multifundchannel",
        json!({"destinations": [d2, d3, {"id": NOBODY, "amount": 100_000}], "minchannels": 2}),
    );
    let ids = r["channel_ids"].as_array().unwrap();
    assert_eq!(ids.len(), 2, "{r}");
    assert_eq!(r["failed"].as_array().unwrap().len(), 1, "{r}");
    assert_eq!(r["failed"][0]["method"], "connect");
    assert_eq!(
        r["failed"][0]["id"],
        json!(NOBODY.split('@').next().unwrap())
    );
    // One transaction, in bitcoind's mempool, with each channel's output at its `outnum`.
    let txid = r["txid"].as_str().unwrap();
    let tx = b.rpc("getrawtransaction", json!([txid, true])).unwrap();
    for (c, amount) in ids.iter().zip([300_000u64, 200_000]) {
        let out = &tx["vout"][c["outnum"].as_u64().unwrap() as usize];
        assert_eq!(
            (out["value"].as_f64().unwrap() * 1e8).round() as u64,
            amount
        );
        assert_eq!(c["channel_type"]["bits"], json!([12, 22]));
    }
    assert_eq!(ids[0]["id"], json!(id(&n2)));
    assert_eq!(ids[1]["id"], json!(id(&n3)));
    wait_state(&n2, "CHANNELD_AWAITING_LOCKIN");
    wait_state(&n3, "CHANNELD_AWAITING_LOCKIN");
    b.generate(1).unwrap();
    let c2 = wait_state(&n2, "CHANNELD_NORMAL");
    let c3 = wait_state(&n3, "CHANNELD_NORMAL");
    assert_eq!(c2["funding_txid"], json!(txid));
    assert_eq!(c3["funding_txid"], json!(txid));
    assert_eq!(c2["to_us_msat"], json!(1_000_000u64));
    assert_eq!(c3["private"], true);
    assert_eq!(channels(&n1).len(), 2);
    let info = ok(&n1, "getinfo", json!({}));
    assert_eq!(info["num_active_channels"], json!(2));
    assert_eq!(info["num_pending_channels"], json!(0));
    let listed = ok(&n1, "listpeers", json!({"id": id(&n2)}));
    assert_eq!(listed["peers"][0]["num_channels"], json!(1));
    let e = n1.call("disconnect", json!({"id": id(&n2)})).unwrap();
    assert_eq!(
        e.error().unwrap().1,
        "Peer has (at least one) channel in state CHANNELD_NORMAL"
    );
    // The funding was recorded as the wallet's own spend: no coin stays reserved.
    assert_eq!(reserved_coins(&n1), 0);

    // setchannel: every channel, then one by short channel id with a limit it cannot carry.
    let set = ok(
        &n1,
        "setchannel",
        json!({"id": "all", "feebase": 5000, "feeppm": 300}),
    );
    assert_eq!(set["channels"].as_array().unwrap().len(), 2, "{set}");
    let scid = c2["short_channel_id"].as_str().unwrap();
    let set = ok(
        &n1,
        "setchannel",
        json!({"id": scid, "htlcmax": 1_000_000_000_000u64, "ignorefeelimits": true}),
    );
    let one = &set["channels"][0];
    assert_eq!(one["short_channel_id"], json!(scid));
    assert_eq!(one["fee_base_msat"], json!(5000));
    assert_eq!(one["fee_proportional_millionths"], json!(300));
    assert_eq!(one["ignore_fee_limits"], true);
    assert!(one["warning_htlcmax_too_high"].is_string(), "{one}");
    let capped = one["maximum_htlc_out_msat"].as_u64().unwrap();
    assert!(capped < 300_000_000 && capped > 290_000_000, "{one}");
    let listed =
        ok(&n1, "listpeerchannels", json!({"short_channel_id": scid}))["channels"][0].clone();
    assert_eq!(listed["fee_base_msat"], json!(5000));
    assert_eq!(listed["maximum_htlc_out_msat"], json!(capped));
    assert_eq!(listed["ignore_fee_limits"], true);
    let e = n1
        .call("setchannel", json!({"id": id(&n2), "feeppm": 1}))
        .unwrap();
    assert!(e.error().is_none(), "a peer id names its channels: {e:?}");
}

/// A peer that refuses the channel: with `minchannels` 1 the round is redone without it; with
/// every peer needed, the command fails and nothing is left behind on either side.
#[test]
fn multifundchannel_redoes_without_a_refusing_peer_or_leaves_nothing() {
    let b = Bitcoind::start().unwrap();
    let n1 = start(&b);
    let n2 = start(&b);
    let picky = Node::start(
        Some(&b),
        NodeOptions {
            extra_args: vec!["--min-capacity-sat=1000000".into()],
            ..Default::default()
        },
    )
    .unwrap();
    n1.fund_coinbase(&b).unwrap();
    n2.wait_synced(&b).unwrap();
    picky.wait_synced(&b).unwrap();

    let e = n1
        .call(
            "multifundchannel",
            json!({"destinations": [dest(&n2, 250_000), dest(&picky, 250_000)]}),
        )
        .unwrap();
    let (code, message) = e.error().expect("picky refuses, so the command fails");
    assert_eq!(code, -1, "{message}");
    assert!(channels(&n1).is_empty(), "{:?}", channels(&n1));
    assert!(channels(&n2).is_empty(), "{:?}", channels(&n2));
    assert_eq!(reserved_coins(&n1), 0);

    let r = ok(
        &n1,
        "multifundchannel",
        json!({"destinations": [dest(&n2, 250_000), dest(&picky, 250_000)], "minchannels": 1}),
    );
    assert_eq!(r["channel_ids"].as_array().unwrap().len(), 1, "{r}");
    assert_eq!(r["channel_ids"][0]["id"], json!(id(&n2)));
    assert_eq!(r["failed"][0]["method"], "fundchannel_start");
    assert_eq!(r["failed"][0]["id"], json!(id(&picky)));
    b.generate(1).unwrap();
    wait_state(&n2, "CHANNELD_NORMAL");
    assert!(channels(&picky).is_empty());

    // `all` to picky (it now gets far more than its minimum) next to a fixed amount to n2:
    // every coin goes into the two channels, with no change.
    let mut everything = dest(&picky, 0);
    everything["amount"] = json!("all");
    let r = ok(
        &n1,
        "multifundchannel",
        json!({"destinations": [dest(&n2, 100_000), everything], "feerate": "1000perkw"}),
    );
    assert_eq!(r["channel_ids"].as_array().unwrap().len(), 2, "{r}");
    assert!(r.get("failed").is_none(), "{r}");
    let tx = b
        .rpc("getrawtransaction", json!([r["txid"], true]))
        .unwrap();
    assert_eq!(tx["vout"].as_array().unwrap().len(), 2, "no change: {tx}");
    let e = n1
        .call(
            "multifundchannel",
            json!({"destinations": [{"id": id(&n2), "amount": "all"}, {"id": id(&picky), "amount": "all"}]}),
        )
        .unwrap();
    assert_eq!(e.error().unwrap().0, -32602);
}

/// A reorganisation moves the funding transaction one block later: both sides follow it to
/// its new short channel id.
#[test]
fn a_funding_reorg_moves_the_short_channel_id() {
    let b = Bitcoind::start().unwrap();
    let (n1, n2) = connected_pair(&b);
    let id2 = id(&n2);
    let funded = ok(&n1, "fundchannel", json!({"id": id2, "amount": 300_000}));
    let txid = funded["txid"].as_str().unwrap().to_string();
    let deadline = Instant::now() + Duration::from_secs(20);
    while b.rpc("getmempoolentry", json!([txid])).is_err() {
        assert!(
            Instant::now() < deadline,
            "funding never reached the mempool"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    b.generate(1).unwrap();
    let height = b.rpc("getblockcount", json!([])).unwrap().as_u64().unwrap();
    let first = wait_state(&n1, "CHANNELD_NORMAL")["short_channel_id"].clone();
    assert!(
        first.as_str().unwrap().starts_with(&format!("{height}x")),
        "{first}"
    );
    // Replace the funding's block with an empty one, then mine the funding in the next.
    let hash = b.rpc("getblockhash", json!([height])).unwrap();
    b.rpc("invalidateblock", json!([hash])).unwrap();
    let addr = "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080";
    b.rpc("generateblock", json!([addr, []])).unwrap();
    b.generate(1).unwrap();
    let moved = format!("{}x", height + 1);
    for node in [&n1, &n2] {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let c = channels(node);
            let scid = c[0]["short_channel_id"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            if scid.starts_with(&moved) {
                assert_eq!(c[0]["state"], "CHANNELD_NORMAL");
                break;
            }
            assert!(
                Instant::now() < deadline,
                "scid never moved: {c:?}\n{}",
                node.log()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

/// `close` with a short `unilateraltimeout` while the peer is gone: our latest commitment is
/// broadcast, with the peer's balance on it, and the channel follows it on chain.
#[test]
fn close_falls_back_to_our_commitment_when_the_peer_is_gone() {
    let b = Bitcoind::start().unwrap();
    let (n1, mut n2) = connected_pair(&b);
    let id2 = id(&n2);
    let funded = ok(
        &n1,
        "fundchannel",
        json!({"id": id2, "amount": 300_000, "push_msat": 50_000_000}),
    );
    wait_state(&n2, "CHANNELD_AWAITING_LOCKIN");
    b.generate(1).unwrap();
    wait_state(&n1, "CHANNELD_NORMAL");
    wait_state(&n2, "CHANNELD_NORMAL");
    kill9(&mut n2);
    let deadline = Instant::now() + Duration::from_secs(30);
    while channels(&n1)[0]["peer_connected"] != false {
        assert!(Instant::now() < deadline, "n1 never saw n2 go");
        std::thread::sleep(Duration::from_millis(100));
    }
    let closed = ok(&n1, "close", json!({"id": id2, "unilateraltimeout": 1}));
    assert_eq!(closed["type"], "unilateral", "{closed}");
    let txid = closed["txids"][0].as_str().unwrap().to_string();
    wait_state(&n1, "AWAITING_UNILATERAL");
    let tx = b.rpc("getrawtransaction", json!([txid, true])).unwrap();
    assert_eq!(tx["vin"][0]["txid"], funded["txid"]);
    let values: Vec<u64> = tx["vout"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| (o["value"].as_f64().unwrap() * 1e8).round() as u64)
        .collect();
    assert!(values.contains(&50_000), "the peer's balance: {values:?}");
    assert_eq!(
        values.iter().filter(|v| **v == 330).count(),
        2,
        "two anchors: {values:?}"
    );
    b.generate(1).unwrap();
    wait_state(&n1, "ONCHAIN");
    // Not a mutual close: it waits for the on-chain resolver rather than being retired.
    b.generate(100).unwrap();
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(channels(&n1)[0]["state"], "ONCHAIN");
    assert!(ok(&n1, "listclosedchannels", json!({}))["closedchannels"]
        .as_array()
        .unwrap()
        .is_empty());
}

/// `fundchannel` with amount `all`, a `reserve` for the peer and a `mindepth` above the
/// peer's: the funding spends every coin with no change, the peer is asked for that reserve,
/// and the channel waits for our depth.
#[test]
fn fundchannel_all_with_reserve_and_mindepth() {
    let b = Bitcoind::start().unwrap();
    let (n1, n2) = connected_pair(&b);
    let id2 = id(&n2);
    let wallet: u64 = ok(&n1, "listfunds", json!({}))["outputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["amount_msat"].as_u64().unwrap() / 1000)
        .sum();
    let funded = ok(
        &n1,
        "fundchannel",
        json!({"id": id2, "amount": "all", "reserve": 20_000, "mindepth": 2, "feerate": "1000perkw"}),
    );
    assert_eq!(funded["mindepth"], json!(2));
    let tx = b
        .rpc("getrawtransaction", json!([funded["txid"], true]))
        .unwrap();
    let outs = tx["vout"].as_array().unwrap();
    assert_eq!(outs.len(), 1, "no change: {tx}");
    let capacity = (outs[0]["value"].as_f64().unwrap() * 1e8).round() as u64;
    assert!(
        capacity < wallet && capacity > wallet - 2_000,
        "{capacity} of {wallet}"
    );
    b.generate(1).unwrap();
    // The peer is ready after one block; we wait for two.
    wait_state(&n2, "CHANNELD_AWAITING_LOCKIN");
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(channels(&n1)[0]["state"], "CHANNELD_AWAITING_LOCKIN");
    b.generate(1).unwrap();
    let a = wait_state(&n1, "CHANNELD_NORMAL");
    assert_eq!(a["total_msat"], json!(capacity * 1000));
    assert_eq!(a["their_reserve_msat"], json!(20_000_000u64));
    let c = wait_state(&n2, "CHANNELD_NORMAL");
    assert_eq!(c["our_reserve_msat"], json!(20_000_000u64));
}

/// bitcoind refuses the funding transaction (its fee is below bitcoind's minimum relay fee):
/// the coins are released, the channel is abandoned (the peer told), and the error does not
/// hand out the signed transaction.
#[test]
fn a_refused_funding_abandons_the_channel_and_releases_the_coins() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("bitcoin.conf"), "minrelaytxfee=0.0001\n").unwrap();
    let b = Bitcoind::start_in(dir.path()).unwrap();
    let (n1, n2) = connected_pair(&b);
    let id2 = id(&n2);
    let e = n1
        .call(
            "fundchannel",
            json!({"id": id2, "amount": 200_000, "feerate": "1000perkw"}),
        )
        .unwrap();
    let (code, message) = e.error().expect("bitcoind refuses a 4 sat/vB funding");
    assert_eq!(code, 303, "{message}");
    assert!(message.contains("abandoned"), "{message}");
    assert!(
        !message.contains("02000000"),
        "no signed transaction in: {message}"
    );
    assert!(channels(&n1).is_empty(), "{:?}", channels(&n1));
    assert_eq!(reserved_coins(&n1), 0);
    let closed = ok(&n1, "listclosedchannels", json!({}))["closedchannels"].clone();
    assert_eq!(closed[0]["funding_withheld"], true, "{closed}");
    assert_eq!(closed[0]["close_cause"], "user");
}

/// `fundchannel_cancel` after `fundchannel_complete`, before the funding is broadcast: the
/// channel is abandoned and the peer told; the peer, which failed it, forgets it once the
/// funding has not appeared for 2016 blocks.
#[test]
fn fundchannel_cancel_before_broadcast_and_the_peer_forgets_after_2016_blocks() {
    let b = Bitcoind::start().unwrap();
    let (n1, n2) = connected_pair(&b);
    let id2 = id(&n2);
    let started = ok(
        &n1,
        "fundchannel_start",
        json!({"id": id2, "amount": 250_000}),
    );
    let prepared = ok(
        &n1,
        "txprepare",
        json!({"outputs": [{started["funding_address"].as_str().unwrap(): 250_000}]}),
    );
    let done = ok(
        &n1,
        "fundchannel_complete",
        json!({"id": id2, "psbt": prepared["psbt"]}),
    );
    wait_state(&n2, "CHANNELD_AWAITING_LOCKIN");
    let cancelled = ok(&n1, "fundchannel_cancel", json!({"id": id2}));
    assert!(cancelled["cancelled"].is_string());
    assert!(channels(&n1).is_empty());
    let ours = ok(&n1, "listclosedchannels", json!({}))["closedchannels"][0].clone();
    assert_eq!(ours["channel_id"], done["channel_id"]);
    assert_eq!(ours["funding_withheld"], true);
    // The peer failed it on our error; with no funding for 2016 blocks it lets it go.
    wait_state(&n2, "AWAITING_UNILATERAL");
    ok(&n1, "txdiscard", json!({"txid": prepared["txid"]}));
    b.generate(2016).unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    let theirs = loop {
        let closed = ok(&n2, "listclosedchannels", json!({}))["closedchannels"].clone();
        if let Some(c) = closed.as_array().unwrap().first() {
            break c.clone();
        }
        assert!(
            Instant::now() < deadline,
            "never forgotten: {:?}",
            channels(&n2)
        );
        std::thread::sleep(Duration::from_millis(500));
    };
    assert_eq!(theirs["channel_id"], done["channel_id"]);
    assert_eq!(theirs["opener"], "remote");
    assert!(channels(&n2).is_empty());
}
