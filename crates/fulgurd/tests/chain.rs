//! The link to bitcoind: the height follows the chain, and a missing, misconfigured or
//! wrong-network bitcoind is reported clearly (in the log and in `getinfo`) while RPC keeps
//! answering; the node picks bitcoind up once it appears.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests")]

use fulgur_testkit::{free_port, Bitcoind, Node, NodeOptions};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

fn wait_getinfo(node: &Node, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
    let start = Instant::now();
    loop {
        let info = node.rpc("getinfo", json!({})).unwrap();
        if pred(&info) {
            return info;
        }
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "getinfo never showed {what}: {info}\n{}",
            node.output()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn blockheight_follows_bitcoind() {
    let b = Bitcoind::start().unwrap();
    let node = Node::start(Some(&b), NodeOptions::default()).unwrap();
    // A fresh regtest chain is in initial block download until its first block: say so.
    wait_getinfo(&node, "the not-synced warning at height 0", |i| {
        i["blockheight"] == 0
            && i["warning_bitcoind_sync"] == "Bitcoind is not up-to-date with network."
    });
    b.generate(7).unwrap();
    wait_getinfo(&node, "height 7 without warning", |i| {
        i["blockheight"] == 7 && i.get("warning_bitcoind_sync").is_none()
    });
    node.wait_for_log("connected to bitcoind at 127.0.0.1", Duration::from_secs(5))
        .unwrap();
}

#[test]
fn unreachable_bitcoind_is_explained_and_rpc_keeps_answering() {
    let port = free_port();
    let node = Node::start(
        None,
        NodeOptions {
            no_bitcoind: true,
            extra_args: vec![
                format!("--bitcoin-rpcport={port}"),
                "--bitcoin-rpcuser=u".into(),
                "--bitcoin-rpcpassword=p".into(),
            ],
            ..Default::default()
        },
    )
    .unwrap();
    let info = wait_getinfo(&node, "a refused warning", |i| {
        i["warning_bitcoind_sync"]
            .as_str()
            .is_some_and(|w| w.contains("refused the connection"))
    });
    assert_eq!(info["blockheight"], 0);
    node.wait_for_log(
        &format!("UNUSUAL bitcoind: bitcoind at 127.0.0.1:{port} refused the connection"),
        Duration::from_secs(5),
    )
    .unwrap();
    // Logged once per change of cause, not on every poll.
    std::thread::sleep(Duration::from_millis(2500));
    assert_eq!(
        node.log().matches("refused the connection").count(),
        1,
        "{}",
        node.log()
    );
}

#[test]
fn wrong_password_and_wrong_network_are_named() {
    let b = Bitcoind::start().unwrap();
    let bad_auth = Node::start(
        None,
        NodeOptions {
            no_bitcoind: true,
            extra_args: vec![
                "--bitcoin-rpcconnect=127.0.0.1".into(),
                format!("--bitcoin-rpcport={}", b.rpc_port),
                "--bitcoin-rpcuser=fulgur".into(),
                "--bitcoin-rpcpassword=wrong".into(),
            ],
            ..Default::default()
        },
    )
    .unwrap();
    wait_getinfo(&bad_auth, "an authentication warning", |i| {
        i["warning_bitcoind_sync"]
            .as_str()
            .is_some_and(|w| w.contains("rejected the RPC credentials"))
    });

    // A testnet node pointed at a regtest bitcoind.
    let dir = tempfile::tempdir().unwrap();
    let mut args = Node::base_args(dir.path(), Some(&b));
    args.retain(|a| a != "--network=regtest");
    args.push("--network=testnet".into());
    let out = std::fs::File::create(dir.path().join("out")).unwrap();
    let mut child = std::process::Command::new(fulgur_testkit::paths::workspace_bin("fulgurd"))
        .args(&args)
        .stdout(out.try_clone().unwrap())
        .stderr(out)
        .spawn()
        .unwrap();
    let sock = dir.path().join("testnet/lightning-rpc");
    let start = Instant::now();
    let warning = loop {
        if let Ok(mut c) = fulgur_testkit::RpcClient::connect(&sock) {
            let info = c.call("getinfo", json!([])).unwrap().0["result"].clone();
            // Until its first poll of bitcoind the node only says it is waiting.
            match info["warning_bitcoind_sync"].as_str() {
                Some("Waiting for the first answer from bitcoind.") | None => {}
                Some(w) => break w.to_string(),
            }
        }
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "no wrong-network warning"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        warning.contains("regtest") && warning.contains("testnet"),
        "{warning}"
    );
}

#[test]
fn node_picks_up_bitcoind_when_it_appears() {
    let port = free_port();
    let node = Node::start(
        None,
        NodeOptions {
            no_bitcoind: true,
            extra_args: vec![
                format!("--bitcoin-rpcport={port}"),
                "--bitcoin-rpcuser=fulgur".into(),
                "--bitcoin-rpcpassword=fulgurpass".into(),
            ],
            ..Default::default()
        },
    )
    .unwrap();
    wait_getinfo(&node, "a warning", |i| {
        i.get("warning_bitcoind_sync").is_some()
    });
    let b = Bitcoind::start_on_port(port).unwrap();
    b.generate(2).unwrap();
    wait_getinfo(&node, "height 2 and no warning", |i| {
        i["blockheight"] == 2 && i.get("warning_bitcoind_sync").is_none()
    });
}
