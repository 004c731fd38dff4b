//! Errors of the bitcoind client, classified by cause so the daemon can log *why* bitcoind is
//! unreachable (not running, wrong port, wrong credentials, still starting, wrong chain...) and
//! decide whether retrying makes sense ([`BitcoindError::is_transient`]).

use std::fmt;
use std::io;
use std::path::PathBuf;
use std::time::Duration;

use fulgur_types::Network;

/// bitcoind's `RPC_IN_WARMUP` error code: the node is still starting (loading the block index,
/// verifying blocks...) and will answer later.
pub const RPC_IN_WARMUP: i64 = -28;

/// bitcoind's `RPC_INVALID_PARAMETER` error code (e.g. `getblockhash` past the tip).
pub const RPC_INVALID_PARAMETER: i64 = -8;

/// bitcoind's `RPC_VERIFY_ALREADY_IN_UTXO_SET` error code (formerly
/// `RPC_TRANSACTION_ALREADY_IN_CHAIN`): `sendrawtransaction` of a transaction already mined.
pub const RPC_VERIFY_ALREADY_IN_UTXO_SET: i64 = -27;

/// bitcoind's `RPC_METHOD_NOT_FOUND` error code (JSON-RPC's "method not found").
pub const RPC_METHOD_NOT_FOUND: i64 = -32601;

/// Which part of an HTTP response went over its size cap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponsePart {
    /// The status line and headers.
    Headers,
    /// The body.
    Body,
}

impl fmt::Display for ResponsePart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ResponsePart::Headers => "headers",
            ResponsePart::Body => "body",
        })
    }
}

/// Why a response from bitcoind could not be understood, at the HTTP or the JSON-RPC level.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProtocolError {
    /// The server closed the connection without sending a single byte.
    #[error("the connection closed without any response")]
    Empty,
    /// The server closed the connection before the response was complete.
    #[error("the connection closed in the middle of the response")]
    Truncated,
    /// The first line is not an HTTP/1.x status line.
    #[error("malformed status line {0:?}")]
    StatusLine(String),
    /// A header line is not `name: value` (or is not valid UTF-8).
    #[error("malformed header line {0:?}")]
    Header(String),
    /// Too many interim (1xx) responses before the final one.
    #[error("too many interim (1xx) responses")]
    TooManyInterim,
    /// The `Content-Length` header is not a single decimal number.
    #[error("invalid Content-Length {0:?}")]
    ContentLength(String),
    /// A `Transfer-Encoding` other than `chunked`.
    #[error("unsupported Transfer-Encoding {0:?}")]
    TransferEncoding(String),
    /// The chunked body framing is broken.
    #[error("malformed chunked body: {0}")]
    Chunk(&'static str),
    /// The body is not valid JSON.
    #[error("the body is not valid JSON")]
    Json(#[source] serde_json::Error),
    /// The body is JSON but not an object.
    #[error("the body is not a JSON-RPC response object")]
    NotAnObject,
    /// The response answers a different request.
    #[error("the response carries id {got} but the request had id {expected}")]
    IdMismatch {
        /// The id of the request sent.
        expected: u64,
        /// The id found in the response, as JSON.
        got: String,
    },
    /// Neither `result` nor a non-null `error` is present.
    #[error("the response has neither a result nor an error")]
    MissingResult,
    /// The `error` member is not an object with an integer `code`.
    #[error("malformed error object {0}")]
    ErrorObject(String),
}

/// Everything that can go wrong calling bitcoind. Every message names the address tried.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BitcoindError {
    /// The host name could not be resolved.
    #[error("cannot resolve the host name of bitcoind at {addr}")]
    Dns {
        /// The `host:port` tried.
        addr: String,
        /// The resolver's error.
        #[source]
        source: io::Error,
    },
    /// Nothing listens on the address: bitcoind is not running, not yet listening, or the port
    /// is wrong.
    #[error("bitcoind at {addr} refused the connection (is it running, with RPC on that port?)")]
    ConnectionRefused {
        /// The `host:port` tried.
        addr: String,
        /// The connect error.
        #[source]
        source: io::Error,
    },
    /// Resolving or connecting took longer than the call's timeout.
    #[error("timed out after {timeout:?} connecting to bitcoind at {addr}")]
    ConnectTimeout {
        /// The `host:port` tried.
        addr: String,
        /// The call's timeout.
        timeout: Duration,
    },
    /// Connecting failed for another reason (host unreachable, ...).
    #[error("cannot connect to bitcoind at {addr}")]
    Connect {
        /// The `host:port` tried.
        addr: String,
        /// The connect error.
        #[source]
        source: io::Error,
    },
    /// Connected, but the answer did not arrive within the call's timeout.
    #[error("timed out after {timeout:?} waiting for bitcoind at {addr} to answer {method}")]
    Timeout {
        /// The `host:port` tried.
        addr: String,
        /// The RPC method called.
        method: String,
        /// The call's timeout.
        timeout: Duration,
    },
    /// Sending the request or reading the answer failed.
    #[error("connection to bitcoind at {addr} failed during {method}")]
    Io {
        /// The `host:port` tried.
        addr: String,
        /// The RPC method called.
        method: String,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
    /// The cookie file could not be read (bitcoind not running, wrong data directory, or no
    /// permission).
    #[error("cannot read the bitcoind cookie file {} (for bitcoind at {addr})", path.display())]
    CookieUnreadable {
        /// The `host:port` the call was for.
        addr: String,
        /// The cookie file's path.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
    /// The cookie file does not hold `user:password`.
    #[error(
        "the bitcoind cookie file {} does not hold user:password (for bitcoind at {addr})",
        path.display()
    )]
    CookieMalformed {
        /// The `host:port` the call was for.
        addr: String,
        /// The cookie file's path.
        path: PathBuf,
    },
    /// bitcoind rejected the credentials (HTTP 401) or the method for this user (HTTP 403).
    #[error(
        "bitcoind at {addr} rejected the RPC credentials (HTTP {status}): check the RPC user \
         and password, or the cookie file"
    )]
    AuthFailed {
        /// The `host:port` tried.
        addr: String,
        /// The HTTP status (401 or 403).
        status: u16,
    },
    /// bitcoind answered with a JSON-RPC error object.
    #[error("bitcoind at {addr} returned error {code} for {method}: {message}")]
    Rpc {
        /// The `host:port` tried.
        addr: String,
        /// The RPC method called.
        method: String,
        /// bitcoind's error code (see [`RPC_IN_WARMUP`]).
        code: i64,
        /// bitcoind's error message.
        message: String,
    },
    /// An HTTP error status without a JSON-RPC error object.
    #[error("bitcoind at {addr} answered {method} with HTTP status {status}: {body}")]
    HttpStatus {
        /// The `host:port` tried.
        addr: String,
        /// The RPC method called.
        method: String,
        /// The HTTP status.
        status: u16,
        /// The start of the body, as text.
        body: String,
    },
    /// The response could not be understood.
    #[error("malformed response from bitcoind at {addr} to {method}")]
    Malformed {
        /// The `host:port` tried.
        addr: String,
        /// The RPC method called.
        method: String,
        /// What was wrong.
        #[source]
        source: ProtocolError,
    },
    /// The response went over a size cap.
    #[error("the response {part} from bitcoind at {addr} to {method} exceed {limit} bytes")]
    ResponseTooLarge {
        /// The `host:port` tried.
        addr: String,
        /// The RPC method called.
        method: String,
        /// Which part went over.
        part: ResponsePart,
        /// The cap, in bytes.
        limit: usize,
    },
    /// The request could not be encoded as JSON.
    #[error("cannot encode the {method} request for bitcoind at {addr}")]
    Encode {
        /// The `host:port` the call was for.
        addr: String,
        /// The RPC method called.
        method: String,
        /// The encoder's error.
        #[source]
        source: serde_json::Error,
    },
    /// The call succeeded but its result does not have the expected shape.
    #[error("unexpected result from bitcoind at {addr} for {method}")]
    UnexpectedResult {
        /// The `host:port` tried.
        addr: String,
        /// The RPC method called.
        method: String,
        /// The decoder's error.
        #[source]
        source: serde_json::Error,
    },
    /// bitcoind runs on another chain than the node is configured for.
    #[error(
        "bitcoind at {addr} runs chain '{actual}', but the node is configured for {expected} \
         (chain '{}')",
        expected.bitcoind_chain()
    )]
    WrongNetwork {
        /// The `host:port` tried.
        addr: String,
        /// The network the node is configured for.
        expected: Network,
        /// The `chain` bitcoind reported.
        actual: String,
    },
}

impl BitcoindError {
    /// Whether retrying later may succeed without changing any configuration: bitcoind is not
    /// (yet) listening, is slow, is still warming up (error -28), is overloaded (HTTP 503), is
    /// restarting (its cookie file is missing between runs, or it dropped the connection).
    pub fn is_transient(&self) -> bool {
        match self {
            BitcoindError::ConnectionRefused { .. }
            | BitcoindError::ConnectTimeout { .. }
            | BitcoindError::Timeout { .. } => true,
            BitcoindError::Rpc { code, .. } => *code == RPC_IN_WARMUP,
            BitcoindError::HttpStatus { status, .. } => *status == 503,
            BitcoindError::CookieUnreadable { source, .. } => {
                source.kind() == io::ErrorKind::NotFound
            }
            BitcoindError::Io { source, .. } => matches!(
                source.kind(),
                io::ErrorKind::ConnectionReset
                    | io::ErrorKind::ConnectionAborted
                    | io::ErrorKind::BrokenPipe
            ),
            BitcoindError::Malformed { source, .. } => matches!(source, ProtocolError::Empty),
            _ => false,
        }
    }

    /// The JSON-RPC error code, if bitcoind returned an error object.
    pub fn rpc_code(&self) -> Option<i64> {
        match self {
            BitcoindError::Rpc { code, .. } => Some(*code),
            _ => None,
        }
    }

    /// The `host:port` the failed call was for.
    pub fn addr(&self) -> &str {
        match self {
            BitcoindError::Dns { addr, .. }
            | BitcoindError::ConnectionRefused { addr, .. }
            | BitcoindError::ConnectTimeout { addr, .. }
            | BitcoindError::Connect { addr, .. }
            | BitcoindError::Timeout { addr, .. }
            | BitcoindError::Io { addr, .. }
            | BitcoindError::CookieUnreadable { addr, .. }
            | BitcoindError::CookieMalformed { addr, .. }
            | BitcoindError::AuthFailed { addr, .. }
            | BitcoindError::Rpc { addr, .. }
            | BitcoindError::HttpStatus { addr, .. }
            | BitcoindError::Malformed { addr, .. }
            | BitcoindError::ResponseTooLarge { addr, .. }
            | BitcoindError::Encode { addr, .. }
            | BitcoindError::UnexpectedResult { addr, .. }
            | BitcoindError::WrongNetwork { addr, .. } => addr,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rpc(code: i64) -> BitcoindError {
        BitcoindError::Rpc {
            addr: "127.0.0.1:18443".into(),
            method: "getblockcount".into(),
            code,
            message: "x".into(),
        }
    }

    #[test]
    fn warmup_is_transient_other_rpc_errors_are_not() {
        assert!(rpc(RPC_IN_WARMUP).is_transient());
        assert!(!rpc(RPC_METHOD_NOT_FOUND).is_transient());
        assert_eq!(rpc(-8).rpc_code(), Some(-8));
    }

    #[test]
    fn auth_and_network_errors_are_permanent() {
        let auth = BitcoindError::AuthFailed {
            addr: "h:1".into(),
            status: 401,
        };
        assert!(!auth.is_transient());
        let wrong = BitcoindError::WrongNetwork {
            addr: "h:1".into(),
            expected: Network::Regtest,
            actual: "main".into(),
        };
        assert!(!wrong.is_transient());
        let msg = wrong.to_string();
        assert!(msg.contains("h:1") && msg.contains("'main'") && msg.contains("'regtest'"));
    }

    #[test]
    fn missing_cookie_is_transient_but_unreadable_cookie_is_not() {
        let missing = BitcoindError::CookieUnreadable {
            addr: "h:1".into(),
            path: "/x/.cookie".into(),
            source: io::Error::from(io::ErrorKind::NotFound),
        };
        assert!(missing.is_transient());
        assert!(missing.to_string().contains("/x/.cookie"));
        let denied = BitcoindError::CookieUnreadable {
            addr: "h:1".into(),
            path: "/x/.cookie".into(),
            source: io::Error::from(io::ErrorKind::PermissionDenied),
        };
        assert!(!denied.is_transient());
    }

    #[test]
    fn every_message_is_lower_case_and_names_the_address() {
        let errors = [
            rpc(-28),
            BitcoindError::ConnectTimeout {
                addr: "node.example:8332".into(),
                timeout: Duration::from_secs(1),
            },
            BitcoindError::ResponseTooLarge {
                addr: "node.example:8332".into(),
                method: "getblock".into(),
                part: ResponsePart::Body,
                limit: 10,
            },
        ];
        for e in errors {
            let msg = e.to_string();
            assert!(msg.contains(e.addr()), "{msg}");
            assert!(msg.starts_with(|c: char| !c.is_uppercase()), "{msg}");
        }
    }
}
