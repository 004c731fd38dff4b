//! The client against a fake bitcoind: a task on 127.0.0.1:0 that reads each request, checks
//! its credentials, and answers with canned (sometimes broken) HTTP responses.

// Tests fail loudly on purpose.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{read_request, Request};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use fulgur_bitcoind::{
    Auth, BitcoindClient, BitcoindConfig, BitcoindError, ProtocolError, ResponsePart, RPC_IN_WARMUP,
};
use fulgur_types::Network;
use serde_json::{json, Value};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};

/// What the fake server does with a request.
enum Reply {
    /// Write these bytes, then close.
    Bytes(Vec<u8>),
    /// Keep the connection open and say nothing.
    Hang,
}

type Handler = dyn Fn(&Request) -> Reply + Send + Sync;

struct FakeServer {
    addr: SocketAddr,
    requests: Arc<Mutex<Vec<Request>>>,
}

impl FakeServer {
    async fn start(handler: impl Fn(&Request) -> Reply + Send + Sync + 'static) -> FakeServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let handler: Arc<Handler> = Arc::new(handler);
        let seen = requests.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let handler = handler.clone();
                let seen = seen.clone();
                tokio::spawn(async move { serve(stream, &*handler, &seen).await });
            }
        });
        FakeServer { addr, requests }
    }

    /// A server answering every request with the JSON-RPC result `result`, when the
    /// credentials are `user:password`, and with 401 otherwise.
    async fn with_result(user: &str, password: &str, result: Value) -> FakeServer {
        let expected = basic(user, password);
        FakeServer::start(move |req| {
            if req.authorization.as_deref() != Some(expected.as_str()) {
                return Reply::Bytes(unauthorized());
            }
            Reply::Bytes(ok_json(
                &json!({"result": result, "error": null, "id": req.id()}),
            ))
        })
        .await
    }

    fn client(&self, auth: Auth) -> BitcoindClient {
        BitcoindClient::new(self.config(auth))
    }

    fn config(&self, auth: Auth) -> BitcoindConfig {
        BitcoindConfig::new(Network::Regtest, auth)
            .with_port(self.addr.port())
            .with_timeout(Duration::from_secs(10))
    }

    fn requests(&self) -> Vec<Request> {
        self.requests.lock().unwrap().clone()
    }
}

async fn serve(mut stream: TcpStream, handler: &Handler, seen: &Mutex<Vec<Request>>) {
    let Some(request) = read_request(&mut stream).await else {
        return;
    };
    seen.lock().unwrap().push(request.clone());
    match handler(&request) {
        Reply::Bytes(bytes) => {
            let _ = stream.write_all(&bytes).await;
            let _ = stream.shutdown().await;
        }
        Reply::Hang => {
            tokio::time::sleep(Duration::from_secs(60)).await;
        }
    }
}

fn basic(user: &str, password: &str) -> String {
    let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    format!("Basic {token}")
}

fn http(status: &str, headers: &str, body: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\n{headers}Content-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body);
    out
}

fn ok_json(body: &Value) -> Vec<u8> {
    http("200 OK", "", body.to_string().as_bytes())
}

fn unauthorized() -> Vec<u8> {
    http(
        "401 Unauthorized",
        "WWW-Authenticate: Basic realm=\"jsonrpc\"\r\n",
        b"",
    )
}

fn chain_info(chain: &str) -> Value {
    json!({
        "chain": chain,
        "blocks": 101,
        "headers": 102,
        "bestblockhash": "0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206",
        "difficulty": 4.656542373906925e-10,
        "time": 1296688602,
        "initialblockdownload": false,
        "verificationprogress": 1.0,
        "pruned": false,
        "warnings": []
    })
}

fn user_pass() -> Auth {
    Auth::user_pass("alice", "s3cret")
}

#[tokio::test]
async fn success_with_content_length() {
    let server = FakeServer::with_result("alice", "s3cret", json!(42)).await;
    let client = server.client(user_pass());
    assert_eq!(client.getblockcount().await.unwrap(), 42);
    assert_eq!(
        client.call("getblockcount", Value::Null).await.unwrap(),
        json!(42)
    );

    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    let r = &requests[0];
    assert!(r.head.starts_with("POST / HTTP/1.1\r\n"), "{}", r.head);
    assert!(r
        .head
        .to_ascii_lowercase()
        .contains("content-type: application/json"));
    assert_eq!(
        r.authorization.as_deref(),
        Some(basic("alice", "s3cret").as_str())
    );
    assert_eq!(r.body["jsonrpc"], "1.0");
    assert_eq!(r.method(), "getblockcount");
    assert_eq!(r.body["params"], json!([]));
    assert_ne!(requests[0].id(), requests[1].id(), "ids must differ");
}

#[tokio::test]
async fn typed_helpers_send_the_right_params() {
    let hash = "0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206";
    let server = FakeServer::start(move |req| {
        let result = match req.method() {
            "getblockhash" => json!(hash),
            "getnetworkinfo" => json!({"version": 290000, "subversion": "/Satoshi:29.0.0/",
                                       "protocolversion": 70016}),
            "generatetoaddress" => json!([hash, hash]),
            _ => Value::Null,
        };
        Reply::Bytes(ok_json(
            &json!({"result": result, "error": null, "id": req.id()}),
        ))
    })
    .await;
    let client = server.client(user_pass());
    assert_eq!(client.getblockhash(0).await.unwrap().to_string(), hash);
    let info = client.getnetworkinfo().await.unwrap();
    assert_eq!(
        (info.version, info.subversion.as_str()),
        (290000, "/Satoshi:29.0.0/")
    );
    let hashes = client.generatetoaddress(2, "bcrt1qexample").await.unwrap();
    assert_eq!(hashes.len(), 2);

    let requests = server.requests();
    assert_eq!(requests[0].body["params"], json!([0]));
    assert_eq!(requests[2].body["params"], json!([2, "bcrt1qexample"]));
}

#[tokio::test]
async fn chunked_body() {
    let server = FakeServer::start(|req| {
        let body = json!({"result": chain_info("regtest"), "error": null, "id": req.id()});
        let text = body.to_string().into_bytes();
        let mut out =
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
                .to_vec();
        for piece in text.chunks(17) {
            out.extend_from_slice(format!("{:X}\r\n", piece.len()).as_bytes());
            out.extend_from_slice(piece);
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"0\r\n\r\n");
        Reply::Bytes(out)
    })
    .await;
    let info = server
        .client(user_pass())
        .getblockchaininfo()
        .await
        .unwrap();
    assert_eq!(info.chain, "regtest");
    assert_eq!((info.blocks, info.headers), (101, 102));
    assert!(!info.initialblockdownload);
    assert_eq!(info.verificationprogress, 1.0);
}

#[tokio::test]
async fn wrong_password_is_auth_failed() {
    let server = FakeServer::with_result("alice", "s3cret", json!(1)).await;
    let err = server
        .client(Auth::user_pass("alice", "wrong"))
        .getblockcount()
        .await
        .unwrap_err();
    assert!(
        matches!(err, BitcoindError::AuthFailed { status: 401, .. }),
        "{err:?}"
    );
    assert!(!err.is_transient());
    assert!(err.to_string().contains(&server.addr.to_string()), "{err}");
}

#[tokio::test]
async fn forbidden_is_auth_failed() {
    let server = FakeServer::start(|_| Reply::Bytes(http("403 Forbidden", "", b"forbidden"))).await;
    let err = server
        .client(user_pass())
        .getblockcount()
        .await
        .unwrap_err();
    assert!(
        matches!(err, BitcoindError::AuthFailed { status: 403, .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn rpc_error_object() {
    let server = FakeServer::start(|req| {
        let (status, code, message) = match req.method() {
            "getblockcount" => (
                "500 Internal Server Error",
                RPC_IN_WARMUP,
                "Loading block index…",
            ),
            _ => ("404 Not Found", -32601, "Method not found"),
        };
        let body = json!({"result": null, "error": {"code": code, "message": message},
                          "id": req.id()});
        Reply::Bytes(http(status, "", body.to_string().as_bytes()))
    })
    .await;
    let client = server.client(user_pass());

    let err = client.getblockcount().await.unwrap_err();
    match &err {
        BitcoindError::Rpc {
            code,
            message,
            method,
            ..
        } => {
            assert_eq!((*code, message.as_str()), (-28, "Loading block index…"));
            assert_eq!(method, "getblockcount");
        }
        other => panic!("expected an RPC error, got {other:?}"),
    }
    assert!(err.is_transient());
    assert_eq!(err.rpc_code(), Some(RPC_IN_WARMUP));

    let err = client.call("nosuchmethod", json!([])).await.unwrap_err();
    assert_eq!(err.rpc_code(), Some(-32601));
    assert!(!err.is_transient());
    let msg = err.to_string();
    assert!(
        msg.contains("-32601") && msg.contains("nosuchmethod") && msg.contains("Method not found")
    );
}

#[tokio::test]
async fn http_error_status_keeps_the_body() {
    let server = FakeServer::start(|_| {
        Reply::Bytes(http(
            "503 Service Unavailable",
            "",
            b"Work queue depth exceeded",
        ))
    })
    .await;
    let err = server
        .client(user_pass())
        .getblockcount()
        .await
        .unwrap_err();
    assert!(
        matches!(&err, BitcoindError::HttpStatus { status: 503, body, .. }
            if body == "Work queue depth exceeded"),
        "{err:?}"
    );
    assert!(err.is_transient());
}

#[tokio::test]
async fn garbage_is_malformed_not_a_panic() {
    let garbage: Vec<Vec<u8>> = vec![
        b"hello there\r\n\r\n".to_vec(),
        b"\x00\xff\xfe garbage without any line end".to_vec(),
        b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"result\":".to_vec(),
        http("200 OK", "", b"<html>not json</html>"),
        http("200 OK", "", b"[1,2,3]"),
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nnot-hex\r\n".to_vec(),
        Vec::new(),
    ];
    for (i, bytes) in garbage.into_iter().enumerate() {
        let server = FakeServer::start(move |_| Reply::Bytes(bytes.clone())).await;
        let err = server
            .client(user_pass())
            .getblockcount()
            .await
            .unwrap_err();
        assert!(
            matches!(err, BitcoindError::Malformed { .. }),
            "case {i}: {err:?}"
        );
        assert!(err.to_string().contains(&server.addr.to_string()));
    }
}

#[tokio::test]
async fn closed_without_answer_is_empty_and_transient() {
    let server = FakeServer::start(|_| Reply::Bytes(Vec::new())).await;
    let err = server
        .client(user_pass())
        .getblockcount()
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            BitcoindError::Malformed {
                source: ProtocolError::Empty,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.is_transient());
}

#[tokio::test]
async fn answer_to_another_request_is_malformed() {
    let server = FakeServer::start(|_| {
        Reply::Bytes(ok_json(&json!({"result": 1, "error": null, "id": 999_999})))
    })
    .await;
    let err = server
        .client(user_pass())
        .getblockcount()
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            BitcoindError::Malformed {
                source: ProtocolError::IdMismatch { .. },
                ..
            }
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn unexpected_result_shape() {
    let server = FakeServer::with_result("alice", "s3cret", json!("not a number")).await;
    let err = server
        .client(user_pass())
        .getblockcount()
        .await
        .unwrap_err();
    assert!(
        matches!(err, BitcoindError::UnexpectedResult { .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn oversized_body_is_refused() {
    let server = FakeServer::start(|req| {
        let big = "x".repeat(10_000);
        Reply::Bytes(ok_json(
            &json!({"result": big, "error": null, "id": req.id()}),
        ))
    })
    .await;
    let client = BitcoindClient::new(server.config(user_pass()).with_max_response_bytes(1024));
    let err = client.call("getblock", json!(["00", 0])).await.unwrap_err();
    assert!(
        matches!(
            err,
            BitcoindError::ResponseTooLarge {
                part: ResponsePart::Body,
                limit: 1024,
                ..
            }
        ),
        "{err:?}"
    );
    // The same answer fits the default cap.
    let ok = server
        .client(user_pass())
        .call("getblock", json!(["00", 0]))
        .await
        .unwrap();
    assert_eq!(ok.as_str().map(str::len), Some(10_000));
}

#[tokio::test]
async fn oversized_body_without_length_is_refused() {
    let server = FakeServer::start(|_| {
        let mut out = b"HTTP/1.1 200 OK\r\n\r\n".to_vec();
        out.extend(std::iter::repeat_n(b'7', 5000));
        Reply::Bytes(out)
    })
    .await;
    let client = BitcoindClient::new(server.config(user_pass()).with_max_response_bytes(1000));
    let err = client.getblockcount().await.unwrap_err();
    assert!(matches!(
        err,
        BitcoindError::ResponseTooLarge {
            part: ResponsePart::Body,
            ..
        }
    ));
}

#[tokio::test]
async fn oversized_headers_are_refused() {
    let server = FakeServer::start(|_| {
        let filler = format!("X-Filler: {}\r\n", "f".repeat(1000)).repeat(100);
        Reply::Bytes(http("200 OK", &filler, b"{}"))
    })
    .await;
    let err = server
        .client(user_pass())
        .getblockcount()
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            BitcoindError::ResponseTooLarge {
                part: ResponsePart::Headers,
                ..
            }
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn silent_server_times_out() {
    let server = FakeServer::start(|_| Reply::Hang).await;
    let client = BitcoindClient::new(
        server
            .config(user_pass())
            .with_timeout(Duration::from_millis(300)),
    );
    let started = std::time::Instant::now();
    let err = client.getblockcount().await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(
        matches!(&err, BitcoindError::Timeout { method, timeout, .. }
            if method == "getblockcount" && *timeout == Duration::from_millis(300)),
        "{err:?}"
    );
    assert!(err.is_transient());
    assert!(err.to_string().contains(&server.addr.to_string()));
}

#[tokio::test]
async fn closed_port_is_connection_refused() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let config = BitcoindConfig::new(Network::Regtest, user_pass()).with_port(port);
    let err = BitcoindClient::new(config)
        .getblockcount()
        .await
        .unwrap_err();
    assert!(
        matches!(err, BitcoindError::ConnectionRefused { .. }),
        "{err:?}"
    );
    assert!(err.is_transient());
    assert!(
        err.to_string().contains(&format!("127.0.0.1:{port}")),
        "{err}"
    );
}

#[tokio::test]
async fn unresolvable_host_is_a_dns_error() {
    // `.invalid` never resolves (RFC 2606).
    let config = BitcoindConfig::new(Network::Regtest, user_pass())
        .with_host("fulgur-no-such-host.invalid")
        .with_timeout(Duration::from_secs(20));
    let err = BitcoindClient::new(config)
        .getblockcount()
        .await
        .unwrap_err();
    assert!(matches!(err, BitcoindError::Dns { .. }), "{err:?}");
    assert!(!err.is_transient());
    assert!(
        err.to_string()
            .contains("fulgur-no-such-host.invalid:18443"),
        "{err}"
    );
}

#[tokio::test]
async fn cookie_file_auth_is_reread_on_each_call() {
    let datadir = tempfile::tempdir().unwrap();
    std::fs::create_dir(datadir.path().join("regtest")).unwrap();
    let cookie = datadir.path().join("regtest").join(".cookie");
    std::fs::write(&cookie, "__cookie__:first").unwrap();

    let expected = Arc::new(Mutex::new(basic("__cookie__", "first")));
    let wanted = expected.clone();
    let server = FakeServer::start(move |req| {
        if req.authorization.as_deref() != Some(wanted.lock().unwrap().as_str()) {
            return Reply::Bytes(unauthorized());
        }
        Reply::Bytes(ok_json(
            &json!({"result": 7, "error": null, "id": req.id()}),
        ))
    })
    .await;
    let client = server.client(Auth::cookie_in_datadir(datadir.path(), Network::Regtest));
    assert_eq!(client.getblockcount().await.unwrap(), 7);

    // bitcoind restarts with a new cookie: the same client follows.
    std::fs::write(&cookie, "__cookie__:second\n").unwrap();
    *expected.lock().unwrap() = basic("__cookie__", "second");
    assert_eq!(client.getblockcount().await.unwrap(), 7);
}

#[tokio::test]
async fn missing_cookie_names_the_path() {
    let datadir = tempfile::tempdir().unwrap();
    let server = FakeServer::with_result("a", "b", json!(1)).await;
    let client = server.client(Auth::cookie_in_datadir(datadir.path(), Network::Regtest));
    let err = client.getblockcount().await.unwrap_err();
    let path = datadir.path().join("regtest").join(".cookie");
    assert!(
        matches!(&err, BitcoindError::CookieUnreadable { path: p, .. } if *p == path),
        "{err:?}"
    );
    assert!(
        err.to_string().contains(&path.display().to_string()),
        "{err}"
    );
    assert!(
        server.requests().is_empty(),
        "no request without credentials"
    );
}

#[tokio::test]
async fn malformed_cookie_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(".cookie");
    std::fs::write(&path, "no-colon-here").unwrap();
    let server = FakeServer::with_result("a", "b", json!(1)).await;
    let err = server
        .client(Auth::CookieFile(path.clone()))
        .getblockcount()
        .await
        .unwrap_err();
    assert!(
        matches!(&err, BitcoindError::CookieMalformed { path: p, .. } if *p == path),
        "{err:?}"
    );
}

#[tokio::test]
async fn wrong_network_is_detected() {
    let server = FakeServer::with_result("alice", "s3cret", chain_info("main")).await;
    let client = server.client(user_pass());
    let err = client.check_network(Network::Regtest).await.unwrap_err();
    assert!(
        matches!(&err, BitcoindError::WrongNetwork { expected: Network::Regtest, actual, .. }
            if actual == "main"),
        "{err:?}"
    );
    assert!(!err.is_transient());
    let info = client.check_network(Network::Bitcoin).await.unwrap();
    assert_eq!(info.chain, "main");

    let server = FakeServer::with_result("alice", "s3cret", chain_info("someday-net")).await;
    let err = server
        .client(user_pass())
        .check_network(Network::Signet)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("someday-net"), "{err}");
}

#[tokio::test]
async fn wait_ready_retries_through_warmup() {
    let calls = Arc::new(Mutex::new(0u32));
    let counter = calls.clone();
    let server = FakeServer::start(move |req| {
        let mut n = counter.lock().unwrap();
        *n += 1;
        let body = if *n < 3 {
            json!({"result": null, "error": {"code": -28, "message": "Verifying blocks…"},
                   "id": req.id()})
        } else {
            json!({"result": chain_info("regtest"), "error": null, "id": req.id()})
        };
        Reply::Bytes(http("200 OK", "", body.to_string().as_bytes()))
    })
    .await;
    let info = server
        .client(user_pass())
        .wait_ready(Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!(info.blocks, 101);
    assert_eq!(*calls.lock().unwrap(), 3);
}

#[tokio::test]
async fn wait_ready_gives_up_on_permanent_errors() {
    let server = FakeServer::with_result("alice", "s3cret", json!(1)).await;
    let client = server.client(Auth::user_pass("alice", "wrong"));
    let err = client
        .wait_ready(Duration::from_secs(10))
        .await
        .unwrap_err();
    assert!(matches!(err, BitcoindError::AuthFailed { .. }));
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn concurrent_calls_share_a_client() {
    let server = FakeServer::with_result("alice", "s3cret", json!(5)).await;
    let client = server.client(user_pass());
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let c = client.clone();
            tokio::spawn(async move { c.getblockcount().await })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.unwrap().unwrap(), 5);
    }
    let mut ids: Vec<u64> = server
        .requests()
        .iter()
        .map(|r| r.id().as_u64().unwrap())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 8);
}
