//! JSON-RPC errors and the error codes Core Lightning v26.06 returns, in one place so every
//! command maps its failures the same way.

use serde_json::{Map, Value};
use std::fmt;

/// Error codes as Core Lightning numbers them (`common/jsonrpc_errors.h` in CLN's tree).
pub mod codes {
    /// The request is not a valid JSON-RPC 2.0 request object.
    pub const INVALID_REQUEST: i64 = -32600;
    /// No command by that name.
    pub const METHOD_NOT_FOUND: i64 = -32601;
    /// The parameters are missing, extra or malformed, or the command failed on them.
    pub const INVALID_PARAMS: i64 = -32602;
    /// A plugin failed to answer.
    pub const PLUGIN_ERROR: i64 = -3;
    /// A plugin died while handling the command.
    pub const PLUGIN_TERMINATED: i64 = -4;
    /// The node is shutting down.
    pub const LIGHTNINGD_SHUTDOWN: i64 = -5;
    /// `connect`: the peer could not be reached.
    pub const CONNECT_NO_KNOWN_ADDRESS: i64 = 400;
    /// `connect`: every address failed.
    pub const CONNECT_ALL_ADDRESSES_FAILED: i64 = 401;
    /// `connect`: the peer disconnected during `init`.
    pub const CONNECT_DISCONNECTED_DURING: i64 = 402;
}

/// A JSON-RPC error object: `{"code": .., "message": .., "data": ..}`.
#[derive(Debug, Clone, PartialEq)]
pub struct RpcError {
    /// The numeric code (see [`codes`]).
    pub code: i64,
    /// A human-readable message.
    pub message: String,
    /// Optional structured detail.
    pub data: Option<Box<Value>>,
}

impl RpcError {
    /// An error with `code` and `message` and no data.
    pub fn new(code: i64, message: impl Into<String>) -> Self {
        RpcError {
            code,
            message: message.into(),
            data: None,
        }
    }

    /// -32600: the request object is not valid.
    pub fn invalid_request(message: impl Into<String>) -> Self {
        RpcError::new(codes::INVALID_REQUEST, message)
    }

    /// -32601 with CLN's text for an unknown method.
    pub fn unknown_command(name: &str) -> Self {
        RpcError::new(codes::METHOD_NOT_FOUND, format!("Unknown command '{name}'"))
    }

    /// -32602: the parameters are wrong.
    pub fn invalid_params(message: impl Into<String>) -> Self {
        RpcError::new(codes::INVALID_PARAMS, message)
    }

    /// Attaches structured data.
    pub fn with_data(mut self, data: Value) -> Self {
        self.data = Some(Box::new(data));
        self
    }

    /// The error as the JSON object placed in a response's `error` member.
    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("code".into(), Value::from(self.code));
        m.insert("message".into(), Value::from(self.message.clone()));
        if let Some(d) = &self.data {
            m.insert("data".into(), (**d).clone());
        }
        Value::Object(m)
    }
}

impl fmt::Display for RpcError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (code {})", self.message, self.code)
    }
}

impl std::error::Error for RpcError {}
