//! Peers between real `fulgurd` processes on loopback: `connect` in both directions,
//! `listpeers`, `ping`, `disconnect`, `sendcustommsg`; `connect` errors that name the failing
//! stage; and bad input on the peer port (garbage, wrong version byte, bad act 3, bad MAC,
//! truncated frames, stalls, floods, malformed messages), each ending only that connection.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests")]

use fulgur_noise::{Initiator, Transport};
use fulgur_testkit::{free_port, Bitcoind, Node, NodeOptions};
use fulgur_types::features::{Features, VAR_ONION_OPTIN};
use fulgur_wire::{ChainHash, Init, Message, Ping};
use secp256k1::{PublicKey, SecretKey, SECP256K1};
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

struct Peer {
    node: Node,
    id: String,
    port: u16,
}

fn start(b: &Bitcoind, extra: &[&str]) -> Peer {
    let port = free_port();
    let mut args = vec![format!("--addr=127.0.0.1:{port}")];
    args.extend(extra.iter().map(|s| s.to_string()));
    let node = Node::start(
        Some(b),
        NodeOptions {
            extra_args: args,
            ..Default::default()
        },
    )
    .unwrap();
    let id = node.rpc("getinfo", json!({})).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    Peer { node, id, port }
}

fn connect(a: &Peer, b: &Peer) -> Value {
    a.node
        .rpc(
            "connect",
            json!({"id": format!("{}@127.0.0.1:{}", b.id, b.port)}),
        )
        .unwrap()
}

fn wait_until(what: &str, f: impl Fn() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn peer_ids(n: &Node) -> Vec<String> {
    n.rpc("listpeers", json!({})).unwrap()["peers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn two_nodes_connect_both_ways_ping_and_disconnect() {
    let b = Bitcoind::start().unwrap();
    let (x, y) = (start(&b, &[]), start(&b, &[]));
    let r = connect(&x, &y);
    assert_eq!(r["id"], y.id.as_str());
    assert_eq!(r["direction"], "out");
    assert_eq!(
        r["address"],
        json!({"type": "ipv4", "address": "127.0.0.1", "port": y.port})
    );
    assert!(r["features"].as_str().is_some());
    wait_until("y to list x", || peer_ids(&y.node) == vec![x.id.clone()]);
    assert_eq!(peer_ids(&x.node), vec![y.id.clone()]);
    let listed = &y.node.rpc("listpeers", json!({"id": x.id})).unwrap()["peers"][0];
    assert_eq!(listed["connected"], true);
    assert_eq!(listed["num_channels"], 0);
    assert!(listed["netaddr"][0]
        .as_str()
        .unwrap()
        .starts_with("127.0.0.1:"));
    assert_eq!(x.node.rpc("getinfo", json!({})).unwrap()["num_peers"], 1);
    // Connecting again returns the same connection.
    assert_eq!(connect(&x, &y)["direction"], "out");
    // And from the other side it is the incoming one.
    assert_eq!(
        y.node.rpc("connect", json!({"id": x.id})).unwrap()["direction"],
        "in"
    );

    assert_eq!(
        x.node.rpc("ping", json!({"id": y.id})).unwrap(),
        json!({"totlen": 132})
    );
    assert_eq!(
        x.node
            .rpc("ping", json!({"id": y.id, "len": 1000, "pongbytes": 3}))
            .unwrap(),
        json!({"totlen": 7})
    );
    assert_eq!(
        x.node
            .rpc("ping", json!({"id": y.id, "pongbytes": 65535}))
            .unwrap(),
        json!({"totlen": 0})
    );

    assert_eq!(
        x.node
            .rpc("sendcustommsg", json!({"node_id": y.id, "msg": "7777abcd"}))
            .unwrap()["status"],
        "Message sent to connectd for delivery"
    );
    y.node
        .wait_for_log("custom message type 30583", Duration::from_secs(5))
        .unwrap();
    let err = x
        .node
        .call("sendcustommsg", json!({"node_id": y.id, "msg": "0012"}))
        .unwrap()
        .error()
        .unwrap();
    assert_eq!(err.0, -32600);
    assert!(
        err.1.starts_with("Cannot send messages of type 18."),
        "{}",
        err.1
    );

    assert_eq!(
        x.node.rpc("disconnect", json!({"id": y.id})).unwrap(),
        json!({})
    );
    wait_until("both sides to drop the peer", || {
        peer_ids(&x.node).is_empty() && peer_ids(&y.node).is_empty()
    });
    let err = x
        .node
        .call("disconnect", json!({"id": y.id}))
        .unwrap()
        .error()
        .unwrap();
    assert_eq!(err, (-32602, format!("Unknown peer '{}'", y.id)));
    let err = x
        .node
        .call("ping", json!({"id": y.id}))
        .unwrap()
        .error()
        .unwrap();
    assert_eq!(err, (-1, "Peer not connected".into()));

    // Now the other direction.
    assert_eq!(connect(&y, &x)["direction"], "out");
    wait_until("x to list y", || peer_ids(&x.node) == vec![y.id.clone()]);
    // Peer log lines carry the peer's full node id before the subsystem.
    assert!(
        x.node
            .log()
            .contains(&format!("{}-connectd: peer ready", y.id)),
        "{}",
        x.node.log()
    );
}

#[test]
fn connect_errors_name_the_stage() {
    let b = Bitcoind::start().unwrap();
    let (x, y) = (start(&b, &[]), start(&b, &[]));
    let err = |params: Value| x.node.call("connect", params).unwrap().error().unwrap();

    let closed = free_port();
    let (code, msg) = err(json!({"id": y.id, "host": "127.0.0.1", "port": closed}));
    assert_eq!(code, 401);
    assert!(
        msg.contains(&format!("127.0.0.1:{closed}")) && msg.contains("TCP connection refused"),
        "{msg}"
    );

    // Right address, wrong id: the peer cannot decrypt act one and hangs up during act 2.
    let wrong = "02eec7245d6b7d2ccb30380bfbe2a3648cd7a942653f5aa340edcea1f283686619";
    let (code, msg) = err(json!({"id": format!("{wrong}@127.0.0.1:{}", y.port)}));
    assert_eq!(code, 401);
    assert!(
        msg.contains("act 2") && msg.contains("node id is probably not the one at this address"),
        "{msg}"
    );

    let (code, msg) = err(json!({"id": y.id}));
    assert_eq!(code, 400);
    assert!(
        msg.starts_with("Unable to connect, no address known for peer"),
        "{msg}"
    );

    let (code, msg) = err(json!({"id": y.id, "host": "no-such-host.invalid"}));
    assert_eq!(code, 401);
    assert!(msg.contains("cannot resolve the host name"), "{msg}");

    assert_eq!(
        err(json!({"id": y.id, "port": 5})),
        (-32602, "Can't specify port without host".into())
    );
    assert_eq!(
        err(json!({"id": format!("{}@h", y.id), "host": "x"})),
        (
            -32602,
            "Can't specify host as both xxx@yyy and separate argument".into()
        )
    );
    assert_eq!(
        err(json!({"id": x.id, "host": "127.0.0.1"})),
        (-1, "Cannot connect to ourselves".into())
    );
    let (code, msg) = err(json!({"id": "nothex@127.0.0.1"}));
    assert_eq!(code, -32602);
    assert!(msg.starts_with("id: should be a node id"), "{msg}");
}

#[test]
fn wrong_network_peer_is_refused_with_its_reason() {
    let b = Bitcoind::start().unwrap();
    let x = start(&b, &[]);
    // A raw client that completes the handshake and sends a testnet-only init.
    let mut c = RawPeer::handshake(x.port, &x.id);
    let testnet = ChainHash::using_genesis_block(bitcoin::Network::Testnet);
    c.send(&init(Some(vec![testnet])));
    let msgs = c.read_until_closed();
    assert!(
        msgs.iter()
            .any(|m| m.first() == Some(&0) && m.get(1) == Some(&1)),
        "expected a warning before the hang-up"
    );
    x.node
        .wait_for_log("peer is on other networks", Duration::from_secs(5))
        .unwrap();
    still_serves(&x);
}

fn init(networks: Option<Vec<ChainHash>>) -> Vec<u8> {
    let mut f = Features::empty();
    f.set_optional(VAR_ONION_OPTIN);
    Message::Init(Init {
        global_features: Features::empty(),
        features: f,
        networks,
        remote_addr: None,
    })
    .encode()
}

fn regtest_chain() -> ChainHash {
    ChainHash::using_genesis_block(bitcoin::Network::Regtest)
}

/// The node still accepts and serves a well-behaved peer.
fn still_serves(x: &Peer) {
    let mut c = RawPeer::handshake(x.port, &x.id);
    c.send(&init(Some(vec![regtest_chain()])));
    let first = c.recv().expect("the node's init");
    assert_eq!(&first[..2], &[0, 16]);
    c.send(
        &Message::Ping(Ping {
            num_pong_bytes: 4,
            ignored: vec![],
        })
        .encode(),
    );
    let pong = c.recv().expect("pong");
    assert_eq!(pong, vec![0, 19, 0, 4, 0, 0, 0, 0]);
}

struct RawPeer {
    stream: TcpStream,
    transport: Transport,
}

impl RawPeer {
    fn tcp(port: u16) -> TcpStream {
        let s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        s
    }

    fn keys() -> (SecretKey, SecretKey) {
        (
            SecretKey::from_slice(&[0x11; 32]).unwrap(),
            SecretKey::from_slice(&[0x22; 32]).unwrap(),
        )
    }

    fn handshake(port: u16, id: &str) -> RawPeer {
        let mut stream = Self::tcp(port);
        let remote = PublicKey::from_slice(&hex::decode(id).unwrap()).unwrap();
        let (ls, eph) = Self::keys();
        let init = Initiator::new(ls, remote, eph);
        stream.write_all(&init.act_one()).unwrap();
        let mut act_two = [0u8; 50];
        stream.read_exact(&mut act_two).unwrap();
        let (act_three, transport) = init.process_act_two(&act_two).unwrap();
        stream.write_all(&act_three).unwrap();
        RawPeer { stream, transport }
    }

    fn send(&mut self, msg: &[u8]) {
        let frame = self.transport.encrypt(msg).unwrap();
        self.stream.write_all(&frame).unwrap();
    }

    fn recv(&mut self) -> Option<Vec<u8>> {
        let mut header = [0u8; 18];
        self.stream.read_exact(&mut header).ok()?;
        let len = self.transport.decrypt_length(&header).ok()?;
        let mut body = vec![0u8; usize::from(len) + 16];
        self.stream.read_exact(&mut body).ok()?;
        self.transport.decrypt_body(&body).ok()
    }

    fn read_until_closed(&mut self) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        while let Some(m) = self.recv() {
            out.push(m);
            assert!(out.len() < 100);
        }
        out
    }
}

fn closed_by_node(s: &mut TcpStream) -> bool {
    let mut buf = [0u8; 64];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => continue,
            Err(e)
                if e.kind() == std::io::ErrorKind::WouldBlock
                    || e.kind() == std::io::ErrorKind::TimedOut =>
            {
                return false
            }
            Err(_) => return true,
        }
    }
}

#[test]
fn bad_handshakes_end_only_that_connection() {
    let b = Bitcoind::start().unwrap();
    let x = start(&b, &["--dev-handshake-timeout=2"]);
    let remote = PublicKey::from_slice(&hex::decode(&x.id).unwrap()).unwrap();

    // Garbage instead of act one.
    let mut s = RawPeer::tcp(x.port);
    s.write_all(&[0xab; 50]).unwrap();
    assert!(closed_by_node(&mut s));

    // A valid act one with a wrong version byte.
    let (ls, eph) = RawPeer::keys();
    let mut act_one = Initiator::new(ls, remote, eph).act_one();
    act_one[0] = 1;
    let mut s = RawPeer::tcp(x.port);
    s.write_all(&act_one).unwrap();
    assert!(closed_by_node(&mut s));

    // A bad act three (corrupted encrypted static key: MAC failure).
    let init = Initiator::new(ls, remote, eph);
    let mut s = RawPeer::tcp(x.port);
    s.write_all(&init.act_one()).unwrap();
    let mut act_two = [0u8; 50];
    s.read_exact(&mut act_two).unwrap();
    let (mut act_three, _) = init.process_act_two(&act_two).unwrap();
    act_three[5] ^= 0xff;
    s.write_all(&act_three).unwrap();
    assert!(closed_by_node(&mut s));

    // A stall after act one: closed after the handshake time limit.
    let started = Instant::now();
    let mut s = RawPeer::tcp(x.port);
    s.write_all(&Initiator::new(ls, remote, eph).act_one())
        .unwrap();
    let mut act_two = [0u8; 50];
    s.read_exact(&mut act_two).unwrap();
    assert!(closed_by_node(&mut s));
    assert!(started.elapsed() >= Duration::from_secs(2));

    x.node
        .wait_for_log("handshake not completed within", Duration::from_secs(5))
        .unwrap();
    let log = x.node.log();
    let failures: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("incoming connection from 127.0.0.1"))
        .collect();
    assert_eq!(failures.len(), 4, "{log}");
    assert!(failures.iter().all(|l| l.contains("failed")), "{log}");
    for reason in [
        "act 1: bad version byte 1",
        "act 3: MAC check failed",
        "handshake not completed within 2s",
    ] {
        assert!(
            failures.iter().any(|l| l.contains(reason)),
            "no {reason:?} in {log}"
        );
    }
    still_serves(&x);
}

#[test]
fn bad_frames_and_messages_end_only_that_connection() {
    let b = Bitcoind::start().unwrap();
    let x = start(&b, &[]);

    // A frame with a corrupted MAC.
    let mut c = RawPeer::handshake(x.port, &x.id);
    let mut frame = c
        .transport
        .encrypt(&init(Some(vec![regtest_chain()])))
        .unwrap();
    let last = frame.len() - 1;
    frame[last] ^= 1;
    c.stream.write_all(&frame).unwrap();
    assert!(c
        .read_until_closed()
        .iter()
        .all(|m| m.starts_with(&[0, 16])));

    // A truncated frame: a header, then the connection closes.
    let mut c = RawPeer::handshake(x.port, &x.id);
    let frame = c.transport.encrypt(&init(None)).unwrap();
    c.stream.write_all(&frame[..25]).unwrap();
    drop(c);

    // A message whose length field points past its end (ping with byteslen 1000).
    let mut c = RawPeer::handshake(x.port, &x.id);
    c.send(&init(Some(vec![regtest_chain()])));
    c.send(&[0, 18, 0, 1, 0x03, 0xe8, 1, 2]);
    let msgs = c.read_until_closed();
    assert!(
        msgs.iter().any(|m| m.starts_with(&[0, 1])),
        "a warning explains the hang-up"
    );

    // An unknown even message type.
    let mut c = RawPeer::handshake(x.port, &x.id);
    c.send(&init(Some(vec![regtest_chain()])));
    c.send(&[0x77, 0x76, 0, 0]);
    c.read_until_closed();

    // A message before init.
    let mut c = RawPeer::handshake(x.port, &x.id);
    c.send(
        &Message::Ping(Ping {
            num_pong_bytes: 1,
            ignored: vec![],
        })
        .encode(),
    );
    c.read_until_closed();

    let log = x.node.log();
    for needle in [
        "bad frame",
        "connection closed mid-frame",
        "malformed message",
        "unknown even message type 30582",
        "before init",
    ] {
        assert!(log.contains(needle), "log lacks {needle:?}:\n{log}");
    }
    still_serves(&x);
}

#[test]
fn connection_flood_is_capped() {
    let b = Bitcoind::start().unwrap();
    let x = start(&b, &["--max-connections=3", "--dev-handshake-timeout=30"]);
    let mut held: Vec<TcpStream> = (0..3).map(|_| RawPeer::tcp(x.port)).collect();
    std::thread::sleep(Duration::from_millis(300));
    let mut extra = RawPeer::tcp(x.port);
    assert!(
        closed_by_node(&mut extra),
        "the 4th connection should be closed at once"
    );
    x.node
        .wait_for_log("refusing connection from 127.0.0.1", Duration::from_secs(5))
        .unwrap();
    held.clear();
    std::thread::sleep(Duration::from_millis(300));
    still_serves(&x);
}

#[test]
fn silent_peer_is_pinged_then_dropped() {
    let b = Bitcoind::start().unwrap();
    let x = start(&b, &["--dev-ping-idle=1", "--dev-pong-timeout=1"]);
    let mut c = RawPeer::handshake(x.port, &x.id);
    c.send(&init(Some(vec![regtest_chain()])));
    let msgs = c.read_until_closed();
    assert!(
        msgs.iter().any(|m| m.starts_with(&[0, 18])),
        "the node should have pinged the silent peer"
    );
    x.node
        .wait_for_log("did not answer our ping", Duration::from_secs(5))
        .unwrap();
}

#[test]
fn ipv6_and_dns_addresses() {
    let b = Bitcoind::start().unwrap();
    let x = start(&b, &[]);
    let v6_port = free_port();
    let y = start(&b, &[&format!("--addr=[::1]:{v6_port}")]);
    let bindings = y.node.rpc("getinfo", json!({})).unwrap()["binding"].clone();
    assert!(
        bindings
            .as_array()
            .unwrap()
            .iter()
            .any(|b| b["type"] == "ipv6" && b["address"] == "::1"),
        "{bindings}"
    );
    // IPv6 literal.
    let r = x
        .node
        .rpc(
            "connect",
            json!({"id": format!("{}@[::1]:{v6_port}", y.id)}),
        )
        .unwrap();
    assert_eq!(
        r["address"],
        json!({"type": "ipv6", "address": "::1", "port": v6_port})
    );
    x.node.rpc("disconnect", json!({"id": y.id})).unwrap();
    wait_until("the disconnect", || peer_ids(&x.node).is_empty());
    // A DNS name, resolved when connecting.
    let r = x
        .node
        .rpc(
            "connect",
            json!({"id": y.id, "host": "localhost", "port": y.port}),
        )
        .unwrap();
    assert_eq!(r["id"], y.id.as_str());
    assert_eq!(r["address"]["port"], y.port);
}

/// A raw BOLT 8 responder on a free port: completes the handshake, then runs `then` on the
/// transport and socket. Returns its node id and port.
fn raw_responder(
    then: impl FnOnce(&mut TcpStream, &mut Transport) + Send + 'static,
) -> (String, u16) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let key = SecretKey::from_slice(&[0x33; 32]).unwrap();
    let id = hex::encode(PublicKey::from_secret_key(SECP256K1, &key).serialize());
    std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        let mut responder =
            fulgur_noise::Responder::new(key, SecretKey::from_slice(&[0x44; 32]).unwrap());
        let mut act_one = [0u8; 50];
        s.read_exact(&mut act_one).unwrap();
        s.write_all(&responder.process_act_one(&act_one).unwrap())
            .unwrap();
        let mut act_three = [0u8; 66];
        s.read_exact(&mut act_three).unwrap();
        let (mut t, _) = responder.process_act_three(&act_three).unwrap();
        then(&mut s, &mut t);
    });
    (id, port)
}

#[test]
fn connect_reports_what_the_peer_said_and_a_missing_init() {
    let b = Bitcoind::start().unwrap();
    let x = start(&b, &["--dev-handshake-timeout=2"]);

    // The peer explains itself in a warning, then hangs up.
    let (id, port) = raw_responder(|s, t| {
        let w = fulgur_wire::Message::Warning(fulgur_wire::WarningMessage::new(
            fulgur_wire::ChannelId::all_zero(),
            "we only talk to friends",
        ));
        s.write_all(&t.encrypt(&w.encode()).unwrap()).unwrap();
        std::thread::sleep(Duration::from_millis(200));
    });
    let (code, msg) = x
        .node
        .call("connect", json!({"id": format!("{id}@127.0.0.1:{port}")}))
        .unwrap()
        .error()
        .unwrap();
    assert_eq!(code, 402);
    assert!(
        msg.contains("disconnected before sending init") && msg.contains("we only talk to friends"),
        "{msg}"
    );

    // The peer completes the handshake and then says nothing.
    let (id, port) = raw_responder(|_, _| std::thread::sleep(Duration::from_secs(5)));
    let (code, msg) = x
        .node
        .call("connect", json!({"id": format!("{id}@127.0.0.1:{port}")}))
        .unwrap()
        .error()
        .unwrap();
    assert_eq!(code, 402);
    assert!(msg.contains("sent no init within 2s"), "{msg}");
}
