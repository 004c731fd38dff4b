//! Interop with an independent implementation: `fulgurd` and `ldk-node` (crates.io, driven
//! through `test-peers/ldk-peer`) connect in both directions on regtest, see each other's
//! `init` features, ping, and disconnect cleanly.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests")]

use fulgur_testkit::{free_port, Bitcoind, LdkPeer, Node, NodeOptions};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

fn wait_until(what: &str, mut f: impl FnMut() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

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

fn listed(node: &Node, id: &str) -> Option<Value> {
    node.rpc("listpeers", json!({"id": id})).unwrap()["peers"]
        .as_array()
        .unwrap()
        .first()
        .cloned()
}

fn ldk_sees(ldk: &mut LdkPeer, id: &str) -> bool {
    ldk.peers()
        .unwrap()
        .iter()
        .any(|p| p["node_id"] == id && p["is_connected"] == true)
}

#[test]
fn fulgurd_connects_to_ldk_node() {
    let b = Bitcoind::start().unwrap();
    b.generate(101).unwrap();
    let (node, id, _) = fulgur(&b);
    let mut ldk = LdkPeer::start(&b).unwrap();

    let r = node
        .rpc(
            "connect",
            json!({"id": format!("{}@127.0.0.1:{}", ldk.node_id, ldk.port)}),
        )
        .unwrap();
    assert_eq!(r["id"], ldk.node_id.as_str());
    assert_eq!(r["direction"], "out");
    // LDK always offers static_remotekey (bit 12/13) and var_onion_optin (8/9).
    let features = r["features"].as_str().unwrap().to_string();
    assert!(!features.is_empty());
    assert_eq!(
        listed(&node, &ldk.node_id).unwrap()["features"],
        features.as_str()
    );
    wait_until("ldk-node to list fulgurd", || ldk_sees(&mut ldk, &id));

    assert_eq!(
        node.rpc(
            "ping",
            json!({"id": ldk.node_id, "len": 16, "pongbytes": 64})
        )
        .unwrap(),
        json!({"totlen": 68})
    );

    assert_eq!(
        node.rpc("disconnect", json!({"id": ldk.node_id})).unwrap(),
        json!({})
    );
    wait_until("ldk-node to see the disconnect", || {
        !ldk_sees(&mut ldk, &id)
    });
    assert!(listed(&node, &ldk.node_id).is_none());
    let log = node.log();
    assert!(!log.contains("**BROKEN**"), "{log}");
}

#[test]
fn ldk_node_connects_to_fulgurd() {
    let b = Bitcoind::start().unwrap();
    b.generate(101).unwrap();
    let (node, id, port) = fulgur(&b);
    let mut ldk = LdkPeer::start(&b).unwrap();

    ldk.call(
        "connect",
        json!({"node_id": id, "address": format!("127.0.0.1:{port}")}),
    )
    .unwrap();
    assert!(ldk_sees(&mut ldk, &id));
    wait_until("fulgurd to list ldk-node", || {
        listed(&node, &ldk.node_id).is_some()
    });
    let peer = listed(&node, &ldk.node_id).unwrap();
    assert_eq!(peer["connected"], true);
    assert!(!peer["features"].as_str().unwrap().is_empty());
    // The existing connection is the one ldk-node opened.
    assert_eq!(
        node.rpc("connect", json!({"id": ldk.node_id})).unwrap()["direction"],
        "in"
    );
    assert_eq!(
        node.rpc("ping", json!({"id": ldk.node_id})).unwrap(),
        json!({"totlen": 132})
    );

    ldk.call("disconnect", json!({"node_id": id})).unwrap();
    wait_until("fulgurd to see ldk-node leave", || {
        listed(&node, &ldk.node_id).is_none()
    });
    node.wait_for_log(
        &format!("{}-connectd: disconnected", ldk.node_id),
        Duration::from_secs(5),
    )
    .unwrap();
}
