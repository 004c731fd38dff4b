//! The JSON-RPC 2.0 request envelope with Core Lightning's rules: objects only (no batches),
//! `id` echoed byte for byte, `"jsonrpc": "2.0"` and `params` required, an optional `filter`.

use crate::error::RpcError;
use serde_json::value::RawValue;
use serde_json::Value;
use std::collections::BTreeMap;

/// A request that passed envelope validation.
#[derive(Debug, Clone)]
pub struct Request {
    /// The `id` exactly as the client wrote it (a string with its quotes, or a primitive).
    pub id: Box<RawValue>,
    /// The method name.
    pub method: String,
    /// The `params` member: an array or object for a valid call (checked by the parameter
    /// parser, which gives CLN's message otherwise).
    pub params: Value,
    /// The `filter` member, if given (checked by [`crate::Filter::parse`]).
    pub filter: Option<Value>,
}

/// Why a request was refused before a command could run.
#[derive(Debug, Clone, PartialEq)]
pub struct Malformed {
    /// The id to answer with: `None` when the request had no usable id (answered as `null`).
    pub id: Option<String>,
    /// The error to send.
    pub error: RpcError,
}

impl Malformed {
    fn without_id(message: &str) -> Self {
        Malformed {
            id: None,
            error: RpcError::invalid_request(message),
        }
    }
}

/// Validates one complete JSON text as a request, in the order Core Lightning checks it.
///
/// The caller has already framed `raw` as one syntactically valid JSON value.
pub fn parse_request(raw: &RawValue) -> Result<Request, Malformed> {
    if !raw.get().trim_start().starts_with('{') {
        return Err(Malformed::without_id("Expected {} for json command"));
    }
    let members: BTreeMap<String, Box<RawValue>> = serde_json::from_str(raw.get())
        .map_err(|_| Malformed::without_id("Expected {} for json command"))?;

    let id = members
        .get("id")
        .ok_or_else(|| Malformed::without_id("No id"))?;
    let id_text = id.get().trim();
    if id_text.starts_with('{') || id_text.starts_with('[') {
        return Err(Malformed::without_id("Expected string/primitive for id"));
    }
    let jsonrpc_ok = members
        .get("jsonrpc")
        .and_then(|v| serde_json::from_str::<String>(v.get()).ok())
        .is_some_and(|v| v == "2.0");
    if !jsonrpc_ok {
        return Err(Malformed::without_id(
            "jsonrpc: \"2.0\" must be specified in the request",
        ));
    }
    let id_owned: Box<RawValue> = RawValue::from_string(id_text.to_string())
        .map_err(|_| Malformed::without_id("Expected string/primitive for id"))?;
    let with_id = |message: &str| Malformed {
        id: Some(id_owned.get().to_string()),
        error: RpcError::invalid_request(message),
    };

    let method = members.get("method");
    let params = members.get("params");
    let (Some(method), Some(params)) = (method, params) else {
        return Err(with_id(if method.is_some() {
            "No params"
        } else {
            "No method"
        }));
    };
    let method: String =
        serde_json::from_str(method.get()).map_err(|_| with_id("Expected string for method"))?;
    let params: Value =
        serde_json::from_str(params.get()).map_err(|_| with_id("Expected string for method"))?;
    let filter = match members.get("filter") {
        Some(f) => Some(serde_json::from_str(f.get()).map_err(|_| with_id("Bad filter"))?),
        None => None,
    };
    Ok(Request {
        id: id_owned,
        method,
        params,
        filter,
    })
}

/// Builds the text of a success reply, `id` copied exactly, ended by the blank line CLN sends.
pub fn success_reply(id: &str, result: &Value) -> String {
    format!("{{\"jsonrpc\":\"2.0\",\"id\":{id},\"result\":{result}}}\n\n")
}

/// Builds the text of an error reply; `id` is `null` when the request had none.
pub fn error_reply(id: Option<&str>, error: &RpcError) -> String {
    format!(
        "{{\"jsonrpc\":\"2.0\",\"id\":{},\"error\":{}}}\n\n",
        id.unwrap_or("null"),
        error.to_json()
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "test inputs are fixed")]
    use super::*;

    fn parse(s: &str) -> Result<Request, Malformed> {
        let raw: Box<RawValue> = serde_json::from_str(s).unwrap();
        parse_request(&raw)
    }

    #[test]
    fn valid_request_keeps_id_text() {
        let r =
            parse(r#"{"jsonrpc":"2.0","id":  "a\"b" ,"method":"getinfo","params":{}}"#).unwrap();
        assert_eq!(r.id.get(), r#""a\"b""#);
        assert_eq!(r.method, "getinfo");
        let r = parse(r#"{"jsonrpc":"2.0","id":1.50,"method":"x","params":[]}"#).unwrap();
        assert_eq!(r.id.get(), "1.50");
    }

    #[test]
    fn envelope_errors_in_cln_order() {
        let cases = [
            ("[]", None, "Expected {} for json command"),
            ("42", None, "Expected {} for json command"),
            (
                r#"{"jsonrpc":"2.0","method":"x","params":[]}"#,
                None,
                "No id",
            ),
            (
                r#"{"jsonrpc":"2.0","id":{},"method":"x","params":[]}"#,
                None,
                "Expected string/primitive for id",
            ),
            (
                r#"{"id":1,"method":"x","params":[]}"#,
                None,
                "jsonrpc: \"2.0\" must be specified in the request",
            ),
            (
                r#"{"jsonrpc":"1.0","id":1,"method":"x","params":[]}"#,
                None,
                "jsonrpc: \"2.0\" must be specified in the request",
            ),
            (
                r#"{"jsonrpc":"2.0","id":1,"params":[]}"#,
                Some("1"),
                "No method",
            ),
            (
                r#"{"jsonrpc":"2.0","id":1,"method":"x"}"#,
                Some("1"),
                "No params",
            ),
            (
                r#"{"jsonrpc":"2.0","id":"q","method":7,"params":[]}"#,
                Some("\"q\""),
                "Expected string for method",
            ),
        ];
        for (input, id, message) in cases {
            let err = parse(input).unwrap_err();
            assert_eq!(err.id.as_deref(), id, "{input}");
            assert_eq!(err.error.message, message, "{input}");
            assert_eq!(err.error.code, -32600);
        }
    }

    #[test]
    fn replies_end_with_blank_line() {
        let ok = success_reply("\"x\"", &serde_json::json!({"a":1}));
        assert_eq!(
            ok,
            "{\"jsonrpc\":\"2.0\",\"id\":\"x\",\"result\":{\"a\":1}}\n\n"
        );
        let err = error_reply(None, &RpcError::unknown_command("foo"));
        assert!(err.contains("\"id\":null") && err.contains("-32601") && err.ends_with("}\n\n"));
    }
}
