//! Real clients against a real node: the `cln-rpc` crate's typed requests (its own response
//! types must deserialize what Fulgur sends), and every built-in command's result checked
//! field by field against Core Lightning v26.06's JSON schemas.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests")]

use cln_rpc::model::requests::{GetinfoRequest, HelpRequest, ListconfigsRequest, StopRequest};
use cln_rpc::ClnRpc;
use fulgur_testkit::{schema, Bitcoind, Node, NodeOptions};
use serde_json::json;

#[test]
fn cln_rpc_typed_requests() {
    let b = Bitcoind::start().unwrap();
    b.generate(3).unwrap();
    let node = Node::start(Some(&b), NodeOptions::default()).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut rpc = ClnRpc::new(&node.rpc_path).await.unwrap();
        let info = rpc.call_typed(&GetinfoRequest {}).await.unwrap();
        assert_eq!(info.network, "regtest");
        assert_eq!(
            info.lightning_dir,
            node.lightning_dir.join("regtest").display().to_string()
        );
        let raw = node.rpc("getinfo", json!({})).unwrap();
        assert_eq!(info.id.to_string(), raw["id"].as_str().unwrap());
        // The follower polls every second; the height reaches 3 quickly.
        let mut height = info.blockheight;
        for _ in 0..50 {
            if height == 3 {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
            height = rpc
                .call_typed(&GetinfoRequest {})
                .await
                .unwrap()
                .blockheight;
        }
        assert_eq!(height, 3);

        let help = rpc
            .call_typed(&HelpRequest { command: None })
            .await
            .unwrap();
        let names: Vec<String> = help
            .help
            .iter()
            .map(|h| h.command.split(' ').next().unwrap().to_string())
            .collect();
        for want in ["check", "getinfo", "help", "listconfigs", "stop"] {
            assert!(
                names.iter().any(|n| n == want),
                "help lacks {want}: {names:?}"
            );
        }
        let one = rpc
            .call_typed(&ListconfigsRequest {
                config: Some("network".into()),
            })
            .await
            .unwrap();
        let network = one.configs.unwrap().network.unwrap();
        assert_eq!(network.value_str, "regtest");

        let err = rpc
            .call_raw::<serde_json::Value, _>("nosuch", &json!({}))
            .await
            .unwrap_err();
        assert_eq!(err.code, Some(-32601));
        assert_eq!(err.message, "Unknown command 'nosuch'");

        let stopped = rpc.call_typed(&StopRequest {}).await.unwrap();
        assert_eq!(
            serde_json::to_value(stopped.result).unwrap(),
            json!("Shutdown complete")
        );
    });
}

#[test]
fn every_result_matches_the_cln_schema() {
    if schema::schema_dir().is_none() {
        eprintln!("skipping: ../shared/cln-v26.06-schemas not found");
        return;
    }
    let b = Bitcoind::start().unwrap();
    let node = Node::start(
        Some(&b),
        NodeOptions {
            extra_args: vec![
                "--announce-addr=1.2.3.4:9735".into(),
                "--announce-addr=example.com".into(),
                "--alias=SCHEMA".into(),
            ],
            ..Default::default()
        },
    )
    .unwrap();
    let calls = [
        ("getinfo", json!({})),
        ("help", json!({})),
        ("help", json!({"command": "getinfo"})),
        ("check", json!({"command_to_check": "getinfo"})),
        ("listconfigs", json!({})),
        ("listconfigs", json!({"config": "log-file"})),
    ];
    for (method, params) in calls {
        let result = node.rpc(method, params.clone()).unwrap();
        assert_eq!(
            schema::check_response(method, &result),
            Ok(true),
            "{method} {params}"
        );
    }
    // Wallet and chain commands.
    let signed = node
        .rpc("signmessage", json!({"message": "schema"}))
        .unwrap();
    let node_id = node.rpc("getinfo", json!({})).unwrap()["id"].clone();
    let wallet_calls = [
        ("newaddr", json!({})),
        ("newaddr", json!({"addresstype": "all"})),
        ("listaddresses", json!({})),
        ("listfunds", json!({})),
        ("feerates", json!({"style": "perkw"})),
        ("feerates", json!({"style": "perkb"})),
        ("signmessage", json!({"message": "hello"})),
        (
            "checkmessage",
            json!({"message": "schema", "zbase": signed["zbase"], "pubkey": node_id}),
        ),
        (
            "checkmessage",
            json!({"message": "schema", "zbase": signed["zbase"]}),
        ),
    ];
    for (method, params) in wallet_calls {
        let result = node.rpc(method, params.clone()).unwrap();
        assert_eq!(
            schema::check_response(method, &result),
            Ok(true),
            "{method} {params}"
        );
    }
    // Peer commands, against a second node.
    let other = Node::start(Some(&b), NodeOptions::default()).unwrap();
    let other_id = other.rpc("getinfo", json!({})).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let other_addr = other.rpc("getinfo", json!({})).unwrap()["binding"][0].clone();
    let target = format!("{other_id}@127.0.0.1:{}", other_addr["port"]);
    let peer_calls = [
        ("connect", json!({"id": target})),
        ("getinfo", json!({})),
        ("listpeers", json!({})),
        ("listpeers", json!({"id": other_id})),
        ("ping", json!({"id": other_id})),
        ("sendcustommsg", json!({"node_id": other_id, "msg": "ffff"})),
        ("disconnect", json!({"id": other_id})),
    ];
    for (method, params) in peer_calls {
        let result = node.rpc(method, params.clone()).unwrap();
        assert_eq!(
            schema::check_response(method, &result),
            Ok(true),
            "{method} {params}"
        );
    }
    // While bitcoind is unreachable, getinfo still matches (with its warning field).
    let lonely = Node::start(
        None,
        NodeOptions {
            no_bitcoind: true,
            ..Default::default()
        },
    )
    .unwrap();
    let result = lonely.rpc("getinfo", json!({})).unwrap();
    assert!(result.get("warning_bitcoind_sync").is_some());
    assert_eq!(schema::check_response("getinfo", &result), Ok(true));
    let mut stopper = Node::start(Some(&b), NodeOptions::default()).unwrap();
    let result = stopper.rpc("stop", json!({})).unwrap();
    assert_eq!(schema::check_response("stop", &result), Ok(true));
    assert!(stopper.wait_exit(std::time::Duration::from_secs(10)));
}
