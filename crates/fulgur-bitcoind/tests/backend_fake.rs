//! `BitcoindBackend` against a fake bitcoind answering each JSON-RPC method with canned results,
//! errors or garbage: CLN's `bcli` answers for good data, errors (never panics) for bad data,
//! and retries of transient failures.

// Tests fail loudly on purpose.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::read_request;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bitcoin::consensus::serialize;
use bitcoin::hashes::Hash;
use bitcoin::{BlockHash, Txid};
use fulgur_bitcoind::{Auth, BitcoindBackend, BitcoindClient, BitcoindConfig, RetryPolicy};
use fulgur_chain::{BackendErrorKind, BlockFeerate, ChainBackend, FeeEstimates};
use fulgur_types::Network;
use serde_json::{json, Value};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};

/// What the fake answers to one call.
enum Answer {
    Result(Value),
    Error(i64, &'static str),
    Raw(&'static str),
}

type Handler = dyn Fn(&str, &Value) -> Answer + Send + Sync;

struct Fake {
    addr: SocketAddr,
    calls: Arc<Mutex<Vec<(String, Value)>>>,
}

impl Fake {
    async fn start(handler: impl Fn(&str, &Value) -> Answer + Send + Sync + 'static) -> Fake {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let calls = Arc::new(Mutex::new(Vec::new()));
        let handler: Arc<Handler> = Arc::new(handler);
        let seen = calls.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (handler, seen) = (handler.clone(), seen.clone());
                tokio::spawn(async move { serve(stream, &*handler, &seen).await });
            }
        });
        Fake { addr, calls }
    }

    fn backend(&self, network: Network) -> BitcoindBackend {
        let client = BitcoindClient::new(
            BitcoindConfig::new(network, Auth::user_pass("u", "p"))
                .with_port(self.addr.port())
                .with_timeout(Duration::from_secs(10)),
        );
        BitcoindBackend::new(client).with_retry(RetryPolicy {
            max_wait: Duration::from_secs(5),
            first_delay: Duration::from_millis(10),
            max_delay: Duration::from_millis(50),
        })
    }

    fn calls(&self) -> Vec<(String, Value)> {
        self.calls.lock().unwrap().clone()
    }
}

async fn serve(mut stream: TcpStream, handler: &Handler, seen: &Mutex<Vec<(String, Value)>>) {
    let Some(request) = read_request(&mut stream).await else {
        return;
    };
    let (method, params, body) = (request.method().to_owned(), request.params(), request.body);
    seen.lock().unwrap().push((method.clone(), params.clone()));
    // bitcoind answers errors with HTTP 500 (404 for unknown methods).
    let (status, text) = match handler(&method, &params) {
        Answer::Result(v) => (
            "200 OK",
            json!({"result": v, "error": null, "id": body["id"]}).to_string(),
        ),
        Answer::Error(code, message) => (
            "500 Internal Server Error",
            json!({
                "result": null, "error": {"code": code, "message": message}, "id": body["id"]
            })
            .to_string(),
        ),
        Answer::Raw(text) => ("200 OK", text.to_owned()),
    };
    let reply = format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{text}",
        text.len()
    );
    let _ = stream.write_all(reply.as_bytes()).await;
    let _ = stream.shutdown().await;
}

fn mempool(minfee: f64, relay: f64) -> Answer {
    Answer::Result(
        json!({"loaded": true, "size": 0, "mempoolminfee": minfee, "minrelaytxfee": relay}),
    )
}

#[tokio::test]
async fn getchaininfo_has_clns_fields() {
    let fake = Fake::start(|m, _| match m {
        "getblockchaininfo" => Answer::Result(json!({
            "chain": "regtest", "blocks": 101, "headers": 102,
            "bestblockhash": BlockHash::all_zeros(), "initialblockdownload": true,
            "verificationprogress": 0.5
        })),
        _ => Answer::Error(-32601, "Method not found"),
    })
    .await;
    let info = fake
        .backend(Network::Regtest)
        .getchaininfo(None)
        .await
        .unwrap();
    assert_eq!(
        serde_json::to_value(&info).unwrap(),
        json!({"chain": "regtest", "headercount": 102, "blockcount": 101, "ibd": true})
    );
}

#[tokio::test]
async fn estimatefees_asks_bcli_targets_and_floors() {
    let fake = Fake::start(|m, p| match m {
        "getmempoolinfo" => mempool(0.00002, 0.00001),
        "estimatesmartfee" => Answer::Result(match p[0].as_u64().unwrap() {
            2 => json!({"feerate": 0.0005, "blocks": 2}),
            6 => json!({"feerate": 0.0002, "blocks": 6}),
            12 => json!({"feerate": 0.00001, "blocks": 12}),
            _ => json!({"feerate": 100.0, "blocks": 100}),
        }),
        _ => Answer::Error(-32601, "Method not found"),
    })
    .await;
    let fees = fake.backend(Network::Bitcoin).estimatefees().await.unwrap();
    assert_eq!(
        fees,
        FeeEstimates {
            feerate_floor: 2000,
            feerates: vec![
                BlockFeerate {
                    blocks: 2,
                    feerate: 50_000
                },
                BlockFeerate {
                    blocks: 6,
                    feerate: 20_000
                },
                // Raised to the floor.
                BlockFeerate {
                    blocks: 12,
                    feerate: 2000
                },
                // 100 BTC/kvB does not fit 32 bits of sat/kVB: trimmed.
                BlockFeerate {
                    blocks: 100,
                    feerate: u32::MAX
                },
            ],
        }
    );
    let modes: Vec<Value> = fake
        .calls()
        .into_iter()
        .filter(|(m, _)| m == "estimatesmartfee")
        .map(|(_, p)| p)
        .collect();
    assert_eq!(
        modes,
        vec![
            json!([2, "CONSERVATIVE"]),
            json!([6, "ECONOMICAL"]),
            json!([12, "ECONOMICAL"]),
            json!([100, "ECONOMICAL"]),
        ]
    );
}

#[tokio::test]
async fn missing_estimates_are_faked_only_on_regtest() {
    let fake = Fake::start(|m, p| match m {
        "getmempoolinfo" => mempool(0.00001, 0.00001),
        "estimatesmartfee" if p[0] == 2 => Answer::Result(json!({"feerate": 0.0001, "blocks": 2})),
        "estimatesmartfee" => Answer::Result(
            json!({"errors": ["Insufficient data or no feerate found"], "blocks": 0}),
        ),
        _ => Answer::Error(-32601, "Method not found"),
    })
    .await;
    // Mainnet: one missing estimate means none at all, as bcli answers.
    let fees = fake.backend(Network::Bitcoin).estimatefees().await.unwrap();
    assert_eq!(fees, FeeEstimates::unavailable());
    // Regtest: the missing ones are 1000 sat/kVB.
    let fees = fake.backend(Network::Regtest).estimatefees().await.unwrap();
    let rates: Vec<(u32, u32)> = fees
        .feerates
        .iter()
        .map(|f| (f.blocks, f.feerate))
        .collect();
    assert_eq!(rates, vec![(2, 10_000), (6, 1000), (12, 1000), (100, 1000)]);
    // Unless told not to (CLN's --dev-no-fake-fees).
    let fees = fake
        .backend(Network::Regtest)
        .with_fake_fees(false)
        .estimatefees()
        .await
        .unwrap();
    assert_eq!(fees, FeeEstimates::unavailable());
}

#[tokio::test]
async fn fee_garbage_is_an_error_and_refusals_mean_no_estimates() {
    let fake = Fake::start(|m, _| match m {
        "getmempoolinfo" => mempool(0.00001, 0.00001),
        "estimatesmartfee" => Answer::Result(json!({"feerate": "lots", "blocks": 2})),
        _ => Answer::Error(-32601, "Method not found"),
    })
    .await;
    let err = fake
        .backend(Network::Bitcoin)
        .estimatefees()
        .await
        .unwrap_err();
    assert_eq!(err.kind, BackendErrorKind::Malformed, "{}", err.chain());

    let fake = Fake::start(|m, _| match m {
        "getmempoolinfo" => mempool(-1.0, 0.00001),
        _ => Answer::Error(-32601, "Method not found"),
    })
    .await;
    let err = fake
        .backend(Network::Bitcoin)
        .estimatefees()
        .await
        .unwrap_err();
    assert_eq!(err.kind, BackendErrorKind::Malformed);

    let fake = Fake::start(|_, _| Answer::Error(-32601, "Method not found")).await;
    let fees = fake.backend(Network::Bitcoin).estimatefees().await.unwrap();
    assert_eq!(fees, FeeEstimates::unavailable());
}

#[tokio::test]
async fn getrawblockbyheight_past_the_tip_is_none_and_garbage_is_an_error() {
    let genesis = bitcoin::constants::genesis_block(bitcoin::Network::Regtest);
    let hex = fulgur_chain::encode_hex(&serialize(&genesis));
    let genesis_hash = genesis.block_hash();
    let fake = Fake::start(move |m, p| match (m, p[0].as_u64()) {
        ("getblockhash", Some(0)) => Answer::Result(json!(genesis_hash)),
        ("getblockhash", Some(1)) => Answer::Result(json!(genesis_hash)),
        ("getblockhash", Some(2)) => Answer::Result(json!("not a hash")),
        ("getblockhash", Some(3)) => Answer::Result(json!(BlockHash::all_zeros())),
        ("getblockhash", _) => Answer::Error(-8, "Block height out of range"),
        ("getblock", _) if p[0] == json!(BlockHash::all_zeros()) => Answer::Result(json!("00zz")),
        ("getblock", _) => Answer::Result(json!(hex.clone())),
        _ => Answer::Error(-32601, "Method not found"),
    })
    .await;
    let backend = fake.backend(Network::Regtest);
    let got = backend.getrawblockbyheight(0).await.unwrap().unwrap();
    assert_eq!((got.hash, &got.block), (genesis_hash, &genesis));
    assert!(backend.getrawblockbyheight(100).await.unwrap().is_none());
    let bad_hash = backend.getrawblockbyheight(2).await.unwrap_err();
    assert_eq!(bad_hash.kind, BackendErrorKind::Malformed);
    let bad_hex = backend.getrawblockbyheight(3).await.unwrap_err();
    assert_eq!(bad_hex.kind, BackendErrorKind::Malformed);
    assert!(bad_hex.chain().contains("hex"), "{}", bad_hex.chain());
    assert_eq!(
        fake.calls()
            .iter()
            .find(|(m, _)| m == "getblock")
            .unwrap()
            .1,
        json!([genesis_hash, 0])
    );
}

#[tokio::test]
async fn getrawblockbyheight_refuses_a_block_that_is_not_the_hash() {
    let genesis = bitcoin::constants::genesis_block(bitcoin::Network::Regtest);
    let hex = fulgur_chain::encode_hex(&serialize(&genesis));
    let other = bitcoin::constants::genesis_block(bitcoin::Network::Bitcoin).block_hash();
    let fake = Fake::start(move |m, _| match m {
        "getblockhash" => Answer::Result(json!(other)),
        "getblock" => Answer::Result(json!(hex.clone())),
        _ => Answer::Error(-32601, "Method not found"),
    })
    .await;
    let err = fake
        .backend(Network::Regtest)
        .getrawblockbyheight(0)
        .await
        .unwrap_err();
    assert_eq!(err.kind, BackendErrorKind::Malformed);
    assert!(err.chain().contains("hashes to"), "{}", err.chain());
}

#[tokio::test]
async fn getutxout_decodes_or_reports_spent() {
    let fake = Fake::start(|m, p| match (m, p[1].as_u64()) {
        ("gettxout", Some(0)) => Answer::Result(json!({
            "bestblock": BlockHash::all_zeros(), "confirmations": 3, "value": 0.5,
            "scriptPubKey": {"asm": "", "hex": "0014aabb", "type": "witness_v0_keyhash"},
            "coinbase": false
        })),
        ("gettxout", Some(1)) => Answer::Result(Value::Null),
        ("gettxout", Some(2)) => {
            Answer::Result(json!({"value": 1.0, "scriptPubKey": {"hex": "x"}}))
        }
        ("gettxout", _) => Answer::Raw("not json at all"),
        _ => Answer::Error(-32601, "Method not found"),
    })
    .await;
    let backend = fake.backend(Network::Regtest);
    let txid = Txid::from_byte_array([3; 32]);
    let out = backend.getutxout(txid, 0).await.unwrap().unwrap();
    assert_eq!(out.amount.sat(), 50_000_000);
    assert_eq!(out.script.as_bytes(), &[0x00, 0x14, 0xaa, 0xbb]);
    assert!(backend.getutxout(txid, 1).await.unwrap().is_none());
    let err = backend.getutxout(txid, 2).await.unwrap_err();
    assert_eq!(err.kind, BackendErrorKind::Malformed);
    let err = backend.getutxout(txid, 3).await.unwrap_err();
    assert_eq!(err.kind, BackendErrorKind::Malformed);
    assert_eq!(fake.calls()[0].1, json!([txid, 0]));
}

#[tokio::test]
async fn sendrawtransaction_reports_like_bcli() {
    let tx = bitcoin::constants::genesis_block(bitcoin::Network::Regtest).txdata[0].clone();
    let fake = Fake::start(|m, p| match m {
        // The fake tells the cases apart by the maxfeerate parameter.
        "sendrawtransaction" if p.get(1).is_some() => {
            Answer::Error(-27, "Transaction outputs already in utxo set")
        }
        "sendrawtransaction" => Answer::Error(-26, "min relay fee not met"),
        _ => Answer::Error(-32601, "Method not found"),
    })
    .await;
    let backend = fake.backend(Network::Regtest);
    let rejected = backend.sendrawtransaction(&tx, false).await.unwrap();
    assert!(!rejected.success);
    assert_eq!(
        rejected.errmsg,
        "error code: -26\nerror message:\nmin relay fee not met"
    );
    let already = backend.sendrawtransaction(&tx, true).await.unwrap();
    assert!(already.success, "{already:?}");
    let calls = fake.calls();
    let hex = fulgur_chain::encode_hex(&serialize(&tx));
    assert_eq!(calls[0].1, json!([hex]));
    assert_eq!(calls[1].1, json!([hex, 0.0]));

    let fake = Fake::start(|_, _| {
        Answer::Result(json!(
            "4a5e1e4baab89f3a32518a88c31bc87f618f76673e2cc77ab2127b7afdeda33b"
        ))
    })
    .await;
    let ok = fake
        .backend(Network::Regtest)
        .sendrawtransaction(&tx, false)
        .await
        .unwrap();
    assert_eq!((ok.success, ok.errmsg.as_str()), (true, ""));
}

#[tokio::test]
async fn transient_failures_are_retried_then_reported() {
    let attempts = Arc::new(AtomicUsize::new(0));
    let seen = attempts.clone();
    let fake = Fake::start(move |m, _| match m {
        "getblockchaininfo" => {
            if seen.fetch_add(1, Ordering::SeqCst) < 3 {
                Answer::Error(-28, "Loading block index...")
            } else {
                Answer::Result(json!({
                    "chain": "main", "blocks": 1, "headers": 1,
                    "bestblockhash": BlockHash::all_zeros(),
                    "initialblockdownload": false, "verificationprogress": 1.0
                }))
            }
        }
        _ => Answer::Error(-32601, "Method not found"),
    })
    .await;
    let info = fake
        .backend(Network::Bitcoin)
        .getchaininfo(Some(0))
        .await
        .unwrap();
    assert_eq!(info.blockcount, 1);
    assert_eq!(fake.calls().len(), 4, "three warm-up answers, then success");

    // Without retries the warm-up is a transient error.
    attempts.store(0, Ordering::SeqCst);
    let err = fake
        .backend(Network::Bitcoin)
        .with_retry(RetryPolicy::no_retry())
        .getchaininfo(None)
        .await
        .unwrap_err();
    assert!(err.is_transient(), "{}", err.chain());

    // Nobody listening: retried until the policy gives up, then transient.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let client = BitcoindClient::new(
        BitcoindConfig::new(Network::Regtest, Auth::user_pass("u", "p")).with_port(port),
    );
    let started = std::time::Instant::now();
    let err = BitcoindBackend::new(client)
        .with_retry(RetryPolicy {
            max_wait: Duration::from_millis(300),
            first_delay: Duration::from_millis(20),
            max_delay: Duration::from_millis(50),
        })
        .getrawblockbyheight(1)
        .await
        .unwrap_err();
    assert!(err.is_transient(), "{}", err.chain());
    assert!(started.elapsed() >= Duration::from_millis(200));
    assert!(err.chain().contains("refused"), "{}", err.chain());
}
