//! The JSON-RPC client: one HTTP connection per call, JSON-RPC 1.0 request bodies, answers
//! classified into results or [`BitcoindError`]s, and typed helpers for the calls the node needs.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use bitcoin::{BlockHash, Txid};
use fulgur_types::Network;
use serde::de::DeserializeOwned;
use serde_json::{json, Value};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::time::{timeout_at, Instant};

use crate::config::{Auth, BitcoindConfig};
use crate::error::{BitcoindError, ProtocolError};
use crate::http::{self, Limits, ReadError};
use crate::types::{ChainInfo, MempoolInfo, NetworkInfo, SmartFeeEstimate, TxOutInfo};

/// How much of a non-JSON error body is kept in [`BitcoindError::HttpStatus`].
const MAX_ERROR_BODY: usize = 1024;
/// The first pause between attempts in [`BitcoindClient::wait_ready`].
const FIRST_RETRY_DELAY: Duration = Duration::from_millis(100);
/// The longest pause between attempts in [`BitcoindClient::wait_ready`].
const MAX_RETRY_DELAY: Duration = Duration::from_secs(2);

/// An async client for bitcoind's JSON-RPC server. Cheap to clone; clones share the request
/// id counter. Each call opens its own connection, so calls may run concurrently.
#[derive(Debug, Clone)]
pub struct BitcoindClient {
    config: BitcoindConfig,
    addr: String,
    next_id: Arc<AtomicU64>,
}

/// The method and address of one call, for building errors.
struct CallCtx<'a> {
    addr: &'a str,
    method: &'a str,
}

impl CallCtx<'_> {
    fn malformed(&self, source: ProtocolError) -> BitcoindError {
        BitcoindError::Malformed {
            addr: self.addr.to_owned(),
            method: self.method.to_owned(),
            source,
        }
    }
}

impl BitcoindClient {
    /// A client for the bitcoind `config` describes. Nothing is contacted until the first call.
    pub fn new(config: BitcoindConfig) -> BitcoindClient {
        let addr = config.addr();
        BitcoindClient {
            config,
            addr,
            next_id: Arc::new(AtomicU64::new(1)),
        }
    }

    /// The configuration this client was built with.
    pub fn config(&self) -> &BitcoindConfig {
        &self.config
    }

    /// The `host:port` calls go to.
    pub fn addr(&self) -> &str {
        &self.addr
    }

    /// Calls `method` with `params` (a JSON array of positional parameters, an object of named
    /// ones, or `null` for none) and returns its `result`.
    pub async fn call(&self, method: &str, params: Value) -> Result<Value, BitcoindError> {
        let ctx = CallCtx {
            addr: &self.addr,
            method,
        };
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let params = if params.is_null() { json!([]) } else { params };
        let body = json!({ "jsonrpc": "1.0", "id": id, "method": method, "params": params });
        let body = serde_json::to_vec(&body).map_err(|source| BitcoindError::Encode {
            addr: self.addr.clone(),
            method: method.to_owned(),
            source,
        })?;
        let started = Instant::now();
        let deadline = started + self.config.timeout;
        let authorization = self.authorization().await?;
        let request = http::encode_request(&self.addr, &authorization, &body);

        let mut stream = self.connect(deadline).await?;
        let limits = Limits {
            header_bytes: http::MAX_HEADER_BYTES,
            body_bytes: self.config.max_response_bytes,
        };
        let exchange = async {
            stream.write_all(&request).await.map_err(ReadError::Io)?;
            stream.flush().await.map_err(ReadError::Io)?;
            http::read_response(&mut stream, limits).await
        };
        let response = match timeout_at(deadline, exchange).await {
            Err(_elapsed) => {
                return Err(BitcoindError::Timeout {
                    addr: self.addr.clone(),
                    method: method.to_owned(),
                    timeout: self.config.timeout,
                })
            }
            Ok(Err(ReadError::Io(source))) => {
                return Err(BitcoindError::Io {
                    addr: self.addr.clone(),
                    method: method.to_owned(),
                    source,
                })
            }
            Ok(Err(ReadError::Protocol(source))) => return Err(ctx.malformed(source)),
            Ok(Err(ReadError::TooLarge { part, limit })) => {
                return Err(BitcoindError::ResponseTooLarge {
                    addr: self.addr.clone(),
                    method: method.to_owned(),
                    part,
                    limit,
                })
            }
            Ok(Ok(response)) => response,
        };
        let result = interpret(response, id, &ctx);
        match &result {
            Ok(_) => tracing::trace!(method, elapsed = ?started.elapsed(), "bitcoind call done"),
            Err(e) => tracing::debug!(method, error = %e, "bitcoind call failed"),
        }
        result
    }

    /// Calls `method` and decodes its result as a `T`.
    pub async fn call_typed<T: DeserializeOwned>(
        &self,
        method: &str,
        params: Value,
    ) -> Result<T, BitcoindError> {
        let value = self.call(method, params).await?;
        serde_json::from_value(value).map_err(|source| BitcoindError::UnexpectedResult {
            addr: self.addr.clone(),
            method: method.to_owned(),
            source,
        })
    }

    /// `getblockchaininfo`: the chain, its height and tip, and sync progress.
    pub async fn getblockchaininfo(&self) -> Result<ChainInfo, BitcoindError> {
        self.call_typed("getblockchaininfo", json!([])).await
    }

    /// `getblockcount`: the height of the best validated block.
    pub async fn getblockcount(&self) -> Result<u64, BitcoindError> {
        self.call_typed("getblockcount", json!([])).await
    }

    /// `getblockhash`: the hash of the best chain's block at `height`.
    pub async fn getblockhash(&self, height: u64) -> Result<BlockHash, BitcoindError> {
        self.call_typed("getblockhash", json!([height])).await
    }

    /// `getnetworkinfo`: bitcoind's version.
    pub async fn getnetworkinfo(&self) -> Result<NetworkInfo, BitcoindError> {
        self.call_typed("getnetworkinfo", json!([])).await
    }

    /// `generatetoaddress` (regtest, signet with a challenge-free setup): mines `nblocks`
    /// blocks paying to `address`, returning their hashes.
    pub async fn generatetoaddress(
        &self,
        nblocks: u64,
        address: &str,
    ) -> Result<Vec<BlockHash>, BitcoindError> {
        self.call_typed("generatetoaddress", json!([nblocks, address]))
            .await
    }

    /// `getblock <hash> 0`: the block, consensus-encoded as hex.
    pub async fn getblock_hex(&self, hash: &BlockHash) -> Result<String, BitcoindError> {
        self.call_typed("getblock", json!([hash, 0])).await
    }

    /// `estimatesmartfee <blocks> <mode>` (`mode`: `CONSERVATIVE` or `ECONOMICAL`).
    pub async fn estimatesmartfee(
        &self,
        blocks: u32,
        mode: &str,
    ) -> Result<SmartFeeEstimate, BitcoindError> {
        self.call_typed("estimatesmartfee", json!([blocks, mode]))
            .await
    }

    /// `getmempoolinfo`: the mempool's and the relay's minimum fee rates.
    pub async fn getmempoolinfo(&self) -> Result<MempoolInfo, BitcoindError> {
        self.call_typed("getmempoolinfo", json!([])).await
    }

    /// `gettxout <txid> <vout>` (mempool included): the output if unspent, `None` if spent
    /// or unknown.
    pub async fn gettxout(
        &self,
        txid: &Txid,
        vout: u32,
    ) -> Result<Option<TxOutInfo>, BitcoindError> {
        self.call_typed("gettxout", json!([txid, vout])).await
    }

    /// `sendrawtransaction <hex> [maxfeerate]`: broadcasts a transaction; `maxfeerate`
    /// (BTC/kvB, `Some(0.0)` for no limit) overrides bitcoind's default fee cap.
    pub async fn sendrawtransaction(
        &self,
        hex: &str,
        maxfeerate: Option<f64>,
    ) -> Result<Txid, BitcoindError> {
        let params = match maxfeerate {
            Some(rate) => json!([hex, rate]),
            None => json!([hex]),
        };
        self.call_typed("sendrawtransaction", params).await
    }

    /// `invalidateblock <hash>`: marks a block (and its descendants) invalid.
    pub async fn invalidateblock(&self, hash: &BlockHash) -> Result<(), BitcoindError> {
        self.call("invalidateblock", json!([hash])).await.map(drop)
    }

    /// `reconsiderblock <hash>`: undoes `invalidateblock`.
    pub async fn reconsiderblock(&self, hash: &BlockHash) -> Result<(), BitcoindError> {
        self.call("reconsiderblock", json!([hash])).await.map(drop)
    }

    /// `stop`: asks bitcoind to shut down; returns its farewell message.
    pub async fn stop(&self) -> Result<String, BitcoindError> {
        self.call_typed("stop", json!([])).await
    }

    /// Calls `getblockchaininfo` and checks bitcoind runs the `expected` network.
    pub async fn check_network(&self, expected: Network) -> Result<ChainInfo, BitcoindError> {
        let info = self.getblockchaininfo().await?;
        if Network::from_bitcoind_chain(&info.chain) == Some(expected) {
            Ok(info)
        } else {
            Err(BitcoindError::WrongNetwork {
                addr: self.addr.clone(),
                expected,
                actual: info.chain,
            })
        }
    }

    /// Calls `getblockchaininfo` until it succeeds, retrying (with growing pauses) while the
    /// error [`is transient`](BitcoindError::is_transient) and `max_wait` has not passed.
    /// Returns the last error otherwise. One attempt may outlast `max_wait` by up to the
    /// configured call timeout.
    pub async fn wait_ready(&self, max_wait: Duration) -> Result<ChainInfo, BitcoindError> {
        let deadline = Instant::now() + max_wait;
        let mut delay = FIRST_RETRY_DELAY;
        loop {
            match self.getblockchaininfo().await {
                Ok(info) => return Ok(info),
                Err(e) if e.is_transient() && Instant::now() + delay < deadline => {
                    tracing::debug!(error = %e, "bitcoind not ready yet; retrying");
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(MAX_RETRY_DELAY);
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// The `Authorization` header value, reading the cookie file if configured.
    async fn authorization(&self) -> Result<String, BitcoindError> {
        let (user, password) = match &self.config.auth {
            Auth::UserPass { user, password } => (user.clone(), password.clone()),
            Auth::CookieFile(path) => {
                let text = tokio::fs::read_to_string(path).await.map_err(|source| {
                    BitcoindError::CookieUnreadable {
                        addr: self.addr.clone(),
                        path: path.clone(),
                        source,
                    }
                })?;
                let line = text.lines().next().unwrap_or_default();
                let (user, password) =
                    line.split_once(':')
                        .ok_or_else(|| BitcoindError::CookieMalformed {
                            addr: self.addr.clone(),
                            path: path.clone(),
                        })?;
                (user.to_owned(), password.to_owned())
            }
        };
        let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        Ok(format!("Basic {token}"))
    }

    /// Resolves the host and connects to the first address that accepts, before `deadline`.
    async fn connect(&self, deadline: Instant) -> Result<TcpStream, BitcoindError> {
        let connect_timeout = || BitcoindError::ConnectTimeout {
            addr: self.addr.clone(),
            timeout: self.config.timeout,
        };
        let host = self.config.bare_host();
        let resolved = timeout_at(deadline, tokio::net::lookup_host((host, self.config.port)))
            .await
            .map_err(|_| connect_timeout())?
            .map_err(|source| BitcoindError::Dns {
                addr: self.addr.clone(),
                source,
            })?;
        let mut last_error = None;
        for sockaddr in resolved {
            match timeout_at(deadline, TcpStream::connect(sockaddr)).await {
                Err(_elapsed) => return Err(connect_timeout()),
                Ok(Ok(stream)) => {
                    // Requests are written in one go; Nagle only adds latency.
                    let _ = stream.set_nodelay(true);
                    return Ok(stream);
                }
                Ok(Err(e)) => last_error = Some(e),
            }
        }
        Err(match last_error {
            None => BitcoindError::Dns {
                addr: self.addr.clone(),
                source: std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    "the name resolved to no address",
                ),
            },
            Some(source) if source.kind() == std::io::ErrorKind::ConnectionRefused => {
                BitcoindError::ConnectionRefused {
                    addr: self.addr.clone(),
                    source,
                }
            }
            Some(source) => BitcoindError::Connect {
                addr: self.addr.clone(),
                source,
            },
        })
    }
}

/// Turns an HTTP response to request `id` into the call's result or error.
fn interpret(response: http::Response, id: u64, ctx: &CallCtx<'_>) -> Result<Value, BitcoindError> {
    let status = response.status;
    if status == 401 || status == 403 {
        return Err(BitcoindError::AuthFailed {
            addr: ctx.addr.to_owned(),
            status,
        });
    }
    let success = (200..300).contains(&status);
    let http_status = || BitcoindError::HttpStatus {
        addr: ctx.addr.to_owned(),
        method: ctx.method.to_owned(),
        status,
        body: error_body(&response.body),
    };
    let mut object = match serde_json::from_slice::<Value>(&response.body) {
        Ok(Value::Object(map)) => map,
        Ok(_) if success => return Err(ctx.malformed(ProtocolError::NotAnObject)),
        Err(e) if success => return Err(ctx.malformed(ProtocolError::Json(e))),
        _ => return Err(http_status()),
    };
    match object.get("id") {
        None | Some(Value::Null) => {}
        Some(v) if v.as_u64() == Some(id) => {}
        Some(v) => {
            return Err(ctx.malformed(ProtocolError::IdMismatch {
                expected: id,
                got: v.to_string(),
            }))
        }
    }
    match object.get("error") {
        None | Some(Value::Null) => {}
        Some(error) => {
            let code = error.get("code").and_then(Value::as_i64);
            let message = error
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or_default();
            return Err(match code {
                Some(code) => BitcoindError::Rpc {
                    addr: ctx.addr.to_owned(),
                    method: ctx.method.to_owned(),
                    code,
                    message: message.to_owned(),
                },
                None => ctx.malformed(ProtocolError::ErrorObject(truncate(error.to_string()))),
            });
        }
    }
    if !success {
        return Err(http_status());
    }
    object
        .remove("result")
        .ok_or_else(|| ctx.malformed(ProtocolError::MissingResult))
}

/// The start of a body, as trimmed text.
fn error_body(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(MAX_ERROR_BODY)]);
    text.trim().to_owned()
}

/// `s`, cut to at most [`MAX_ERROR_BODY`] bytes on a character boundary.
fn truncate(mut s: String) -> String {
    if s.len() > MAX_ERROR_BODY {
        let mut end = MAX_ERROR_BODY;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
    }
    s
}

#[cfg(test)]
mod tests {
    // Tests fail loudly on purpose.
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    const CTX: CallCtx<'static> = CallCtx {
        addr: "127.0.0.1:1",
        method: "m",
    };

    fn resp(status: u16, body: &str) -> http::Response {
        http::Response {
            status,
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn result_is_extracted() {
        let v = interpret(resp(200, r#"{"result":7,"error":null,"id":3}"#), 3, &CTX).unwrap();
        assert_eq!(v, json!(7));
        let v = interpret(
            resp(200, r#"{"result":null,"error":null,"id":null}"#),
            3,
            &CTX,
        );
        assert_eq!(v.unwrap(), Value::Null);
    }

    #[test]
    fn rpc_errors_come_with_any_status() {
        for status in [200, 404, 500] {
            let body =
                r#"{"result":null,"error":{"code":-32601,"message":"Method not found"},"id":1}"#;
            let e = interpret(resp(status, body), 1, &CTX).unwrap_err();
            assert!(
                matches!(e, BitcoindError::Rpc { code: -32601, ref message, .. }
                if message == "Method not found")
            );
        }
    }

    #[test]
    fn malformed_answers() {
        let cases = [
            (200, "not json"),
            (200, "[1]"),
            (200, r#"{"error":null,"id":1}"#),
            (200, r#"{"result":1,"id":2}"#),
            (200, r#"{"result":null,"error":"boom","id":1}"#),
        ];
        for (status, body) in cases {
            let e = interpret(resp(status, body), 1, &CTX).unwrap_err();
            assert!(
                matches!(e, BitcoindError::Malformed { .. }),
                "{body}: {e:?}"
            );
        }
    }

    #[test]
    fn http_errors_keep_the_body() {
        let e = interpret(resp(503, "Work queue depth exceeded\n"), 1, &CTX).unwrap_err();
        assert!(
            matches!(e, BitcoindError::HttpStatus { status: 503, ref body, .. }
            if body == "Work queue depth exceeded")
        );
        assert!(e.is_transient());
        let e = interpret(resp(500, r#"{"result":1}"#), 1, &CTX).unwrap_err();
        assert!(matches!(e, BitcoindError::HttpStatus { status: 500, .. }));
        let e = interpret(resp(401, ""), 1, &CTX).unwrap_err();
        assert!(matches!(e, BitcoindError::AuthFailed { status: 401, .. }));
    }

    #[test]
    fn truncation_respects_char_boundaries() {
        let s = "é".repeat(MAX_ERROR_BODY);
        let t = truncate(s);
        assert!(t.len() <= MAX_ERROR_BODY && t.chars().all(|c| c == 'é'));
    }
}
