//! The JSON-RPC server's rules and every kind of bad input, against a real `fulgurd` on a real
//! regtest bitcoind: each case asserts CLN's exact code and message, and that the node keeps
//! serving other clients afterwards.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests")]

use fulgur_testkit::{Bitcoind, Node, NodeOptions, RpcClient};
use serde_json::{json, Value};
use std::io::Write;
use std::time::Duration;

fn node() -> (Bitcoind, Node) {
    let b = Bitcoind::start().unwrap();
    let n = Node::start(Some(&b), NodeOptions::default()).unwrap();
    (b, n)
}

fn err_of(reply: &Value) -> (i64, String) {
    let e = &reply["error"];
    (
        e["code"].as_i64().unwrap(),
        e["message"].as_str().unwrap().to_string(),
    )
}

fn raw(node: &Node, text: &str) -> Value {
    let mut c = node.client().unwrap();
    c.send_raw(text.as_bytes()).unwrap();
    c.read_reply().unwrap().0
}

fn still_serving(node: &Node) {
    let info = node.rpc("getinfo", json!({})).unwrap();
    assert_eq!(info["network"], "regtest");
}

#[test]
fn envelope_rules_and_messages() {
    let (_b, n) = node();
    let cases: &[(&str, Value, i64, &str)] = &[
        (
            r#"{"jsonrpc":"2.0","id":1,"method":"getinfo"}"#,
            json!(1),
            -32600,
            "No params",
        ),
        (
            r#"{"jsonrpc":"2.0","id":1,"params":[]}"#,
            json!(1),
            -32600,
            "No method",
        ),
        (
            r#"{"jsonrpc":"2.0","method":"getinfo","params":[]}"#,
            Value::Null,
            -32600,
            "No id",
        ),
        (
            r#"{"id":"a","method":"getinfo","params":[]}"#,
            Value::Null,
            -32600,
            "jsonrpc: \"2.0\" must be specified in the request",
        ),
        (
            r#"{"jsonrpc":"2.0","id":[1],"method":"getinfo","params":[]}"#,
            Value::Null,
            -32600,
            "Expected string/primitive for id",
        ),
        (
            r#"{"jsonrpc":"2.0","id":"s","method":3,"params":[]}"#,
            json!("s"),
            -32600,
            "Expected string for method",
        ),
        (
            r#"{"jsonrpc":"2.0","id":2,"method":"nosuch","params":[]}"#,
            json!(2),
            -32601,
            "Unknown command 'nosuch'",
        ),
        (
            r#"{"jsonrpc":"2.0","id":3,"method":"getinfo","params":"x"}"#,
            json!(3),
            -32602,
            "Expected array or object for params",
        ),
        (
            r#"{"jsonrpc":"2.0","id":4,"method":"check","params":{}}"#,
            json!(4),
            -32602,
            "missing required parameter: command_to_check",
        ),
        (
            r#"{"jsonrpc":"2.0","id":5,"method":"getinfo","params":[1]}"#,
            json!(5),
            -32602,
            "too many parameters: got 1, expected 0",
        ),
        (
            r#"{"jsonrpc":"2.0","id":6,"method":"help","params":{"command":7}}"#,
            json!(6),
            -32602,
            "command: should be a string: invalid token '7'",
        ),
        (
            r#"{"jsonrpc":"2.0","id":7,"method":"listconfigs","params":{"config":"nope"}}"#,
            json!(7),
            -32602,
            "config: Unknown config option: invalid token '\"nope\"'",
        ),
        (
            r#"{"jsonrpc":"2.0","id":8,"method":"help","params":["nope"]}"#,
            json!(8),
            -32601,
            "Unknown command nope",
        ),
        (
            r#"{"jsonrpc":"2.0","id":9,"method":"getinfo","params":{},"filter":[]}"#,
            json!(9),
            -32602,
            "filter: Expected object: invalid token '[]'",
        ),
    ];
    for (text, id, code, message) in cases {
        let reply = raw(&n, text);
        assert_eq!(reply["jsonrpc"], "2.0", "{text}");
        assert_eq!(&reply["id"], id, "{text}");
        assert_eq!(err_of(&reply), (*code, message.to_string()), "{text}");
    }
    let reply = raw(
        &n,
        r#"{"jsonrpc":"2.0","id":10,"method":"getinfo","params":{"x":1}}"#,
    );
    let (code, message) = err_of(&reply);
    assert_eq!(code, -32602);
    assert!(message.starts_with("unknown parameter: x, this may be caused by a failure to autodetect key=value-style parameters."), "{message}");
    still_serving(&n);
}

#[test]
fn ids_echoed_exactly_and_replies_end_with_blank_line() {
    let (_b, n) = node();
    let mut c = n.client().unwrap();
    for id in [
        r#""abc""#,
        "1.50",
        "12345678901234567890123",
        r#""with \"quotes\"""#,
        "-0",
        "null",
        "true",
    ] {
        c.send_raw(
            format!(r#"{{"jsonrpc":"2.0","id":{id},"method":"stop_not","params":[]}}"#).as_bytes(),
        )
        .unwrap();
        let text = c.read_reply_text().unwrap();
        assert!(text.ends_with("}\n\n"), "{text:?}");
        assert!(
            text.contains(&format!("\"id\":{id},")),
            "id {id} not echoed exactly: {text}"
        );
    }
}

#[test]
fn named_and_positional_params_and_null_means_absent() {
    let (_b, n) = node();
    let by_pos = n.rpc("listconfigs", json!(["alias"])).unwrap();
    let by_name = n.rpc("listconfigs", json!({"config": "alias"})).unwrap();
    assert_eq!(by_pos, by_name);
    assert_eq!(by_pos["configs"].as_object().unwrap().len(), 1);
    let all = n.rpc("listconfigs", json!([null])).unwrap();
    assert!(all["configs"].as_object().unwrap().len() > 40);
}

#[test]
fn filter_keeps_only_named_fields() {
    let (_b, n) = node();
    let mut c = n.client().unwrap();
    c.send_raw(br#"{"jsonrpc":"2.0","id":1,"method":"getinfo","params":{},"filter":{"id":true,"our_features":{"init":true}}}"#).unwrap();
    let r = c.read_reply().unwrap();
    let result = r.result().unwrap().as_object().unwrap().clone();
    assert_eq!(result.keys().collect::<Vec<_>>(), ["id", "our_features"]);
    assert_eq!(
        result["our_features"]
            .as_object()
            .unwrap()
            .keys()
            .collect::<Vec<_>>(),
        ["init"]
    );
    c.send_raw(br#"{"jsonrpc":"2.0","id":2,"method":"getinfo","params":{},"filter":{"address":{"port":true}}}"#).unwrap();
    let r = c.read_reply().unwrap();
    assert_eq!(
        r.result().unwrap()["warning_parameter_filter"],
        ".address is an array"
    );
}

#[test]
fn malformed_json_gets_error_and_close_others_unaffected() {
    let (_b, n) = node();
    for bad in [
        &b"{\"jsonrpc\": nope}"[..],
        b"\x00\x01\xff{{{",
        b"hello",
        b"]",
    ] {
        let mut c = n.client().unwrap();
        c.send_raw(bad).unwrap();
        let reply = c.read_reply().unwrap().0;
        assert_eq!(reply["id"], Value::Null);
        assert_eq!(reply["error"]["code"], -32600, "{reply}");
        assert!(
            c.is_closed_by_peer(),
            "connection should close after {bad:?}"
        );
    }
    // A top-level non-object (a batch) is refused with CLN's message.
    let reply = raw(
        &n,
        r#"[{"jsonrpc":"2.0","id":1,"method":"getinfo","params":[]}]"#,
    );
    assert_eq!(
        err_of(&reply),
        (-32600, "Expected {} for json command".to_string())
    );
    still_serving(&n);
}

#[test]
fn oversized_request_is_refused() {
    let (_b, n) = node();
    let mut c = n.client().unwrap();
    let mut big = br#"{"jsonrpc":"2.0","id":1,"method":"getinfo","params":[""#.to_vec();
    big.extend(std::iter::repeat_n(b'a', 20 * 1024 * 1024));
    // The node may close while we are still writing: that is fine.
    let _ = c.send_raw(&big);
    let reply = c.read_reply().unwrap().0;
    let (code, message) = err_of(&reply);
    assert_eq!(code, -32600);
    assert!(message.starts_with("Request too large"), "{message}");
    still_serving(&n);
}

#[test]
fn idle_and_vanishing_clients_do_not_block_others() {
    let (_b, n) = node();
    let idle: Vec<RpcClient> = (0..20).map(|_| n.client().unwrap()).collect();
    {
        let mut half = std::os::unix::net::UnixStream::connect(&n.rpc_path).unwrap();
        half.write_all(br#"{"jsonrpc":"2.0","id":1,"meth"#).unwrap();
    } // dropped mid-request
    {
        let c = n.client().unwrap();
        c.send_raw_and_close(br#"{"jsonrpc":"2.0","id":1,"method":"getinfo","params":[]}"#);
    }
    still_serving(&n);
    drop(idle);
    still_serving(&n);
}

#[test]
fn many_requests_in_flight_on_one_connection_and_many_connections() {
    let (_b, n) = node();
    let mut c = n.client().unwrap();
    let mut batch = String::new();
    for i in 0..200 {
        batch.push_str(&format!(
            r#"{{"jsonrpc":"2.0","id":"r{i}","method":"getinfo","params":[]}}"#
        ));
    }
    c.send_raw(batch.as_bytes()).unwrap();
    let mut seen: Vec<String> = (0..200)
        .map(|_| {
            c.read_reply().unwrap().0["id"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    seen.sort();
    let mut want: Vec<String> = (0..200).map(|i| format!("r{i}")).collect();
    want.sort();
    assert_eq!(seen, want);

    let threads: Vec<_> = (0..16)
        .map(|_| {
            let path = n.rpc_path.clone();
            std::thread::spawn(move || {
                let mut c = RpcClient::connect(&path).unwrap();
                for _ in 0..50 {
                    assert!(c.call("getinfo", json!([])).unwrap().result().is_ok());
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
}

#[test]
fn stop_answers_then_exits_and_removes_socket() {
    let (_b, mut n) = node();
    let r = n.call("stop", json!([])).unwrap();
    assert_eq!(r.result().unwrap(), &json!({"result": "Shutdown complete"}));
    assert!(
        n.wait_exit(Duration::from_secs(10)),
        "fulgurd did not exit after stop"
    );
    assert!(!n.rpc_path.exists(), "socket file left behind");
    assert!(n.log().contains("Shutdown complete"));
}
