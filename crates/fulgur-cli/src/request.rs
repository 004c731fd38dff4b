//! Turning the method and its arguments into a JSON-RPC request: keyword or positional
//! parameters, each argument sent as raw JSON when it is a literal (number, `true`, `false`,
//! `null`, valid JSON object/array/string) and as a JSON string otherwise.

use crate::args::{Commando, Input};
use crate::rawjson::{self, Kind};

/// A parameter problem (exit status 3).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    /// Keyword mode with an argument lacking `=`.
    #[error("expected key=value in '{0}'")]
    NotKeyValue(String),
    /// A `--filter` that is not valid JSON.
    #[error("some parameters are malformed, cannot create a valid JSON-RPC request: filter {0}")]
    BadFilter(String),
}

/// Whether `arg` is sent as raw JSON: numbers made only of digits and `.` (and a leading
/// `-`), `true`, `false`, `null`, or valid JSON starting with `{`, `[` or `"`.
pub fn is_literal(arg: &str) -> bool {
    let Ok(node) = rawjson::parse(arg) else {
        return false;
    };
    if node.text.len() != arg.len() {
        return false;
    }
    match node.kind {
        Kind::Number => arg
            .bytes()
            .all(|b| b.is_ascii_digit() || b == b'.' || b == b'-'),
        Kind::Bool(_) | Kind::Null => true,
        Kind::String | Kind::Array(_) | Kind::Object(_) => true,
    }
}

/// The JSON text sent for one argument.
pub fn param_json(arg: &str) -> String {
    if is_literal(arg) {
        arg.to_string()
    } else {
        json_string(arg)
    }
}

fn json_string(s: &str) -> String {
    serde_json::Value::from(s).to_string()
}

/// Whether the arguments are sent as keywords: asked for, or (by default) when the first
/// parameter contains `=`.
pub fn use_keywords(input: Input, params: &[String]) -> bool {
    match input {
        Input::Keywords => true,
        Input::Ordered => false,
        Input::Default => params.first().is_some_and(|p| p.contains('=')),
    }
}

/// The `params` JSON text: an object in keyword mode, an array otherwise.
pub fn build_params(input: Input, params: &[String]) -> Result<String, RequestError> {
    if use_keywords(input, params) {
        let mut members = Vec::with_capacity(params.len());
        for param in params {
            let (key, value) = param
                .split_once('=')
                .ok_or_else(|| RequestError::NotKeyValue(param.clone()))?;
            members.push(format!("{}:{}", json_string(key), param_json(value)));
        }
        Ok(format!("{{{}}}", members.join(",")))
    } else {
        let items: Vec<String> = params.iter().map(|p| param_json(p)).collect();
        Ok(format!("[{}]", items.join(",")))
    }
}

/// The request id: `fulgur-cli:<method>#<pid>` (or `weirdmethod!` for methods needing escapes).
pub fn request_id(method: &str, pid: u32) -> String {
    let plain = method
        .chars()
        .all(|c| !c.is_control() && c != '"' && c != '\\');
    if plain {
        format!("fulgur-cli:{method}#{pid}")
    } else {
        format!("fulgur-cli:weirdmethod!#{pid}")
    }
}

/// The whole request text.
pub fn build_request(
    method: &str,
    id: &str,
    params: &str,
    filter: Option<&str>,
    commando: Option<&Commando>,
) -> Result<String, RequestError> {
    if let Some(filter) = filter {
        if rawjson::parse(filter).is_err() {
            return Err(RequestError::BadFilter(filter.to_string()));
        }
    }
    let mut out = format!("{{\"jsonrpc\":\"2.0\",\"id\":{},", json_string(id));
    match commando {
        None => {
            out.push_str(&format!("\"method\":{},", json_string(method)));
            if let Some(filter) = filter {
                out.push_str(&format!("\"filter\":{filter},"));
            }
            out.push_str(&format!("\"params\":{params}}}"));
        }
        Some(commando) => {
            out.push_str("\"method\":\"commando\",\"params\":{");
            out.push_str(&format!("\"peer_id\":{},", json_string(&commando.peer_id)));
            out.push_str(&format!("\"method\":{},", json_string(method)));
            if let Some(filter) = filter {
                out.push_str(&format!("\"filter\":{filter},"));
            }
            if let Some(rune) = &commando.rune {
                out.push_str(&format!("\"rune\":{},", json_string(rune)));
            }
            out.push_str(&format!("\"params\":{params}}}}}"));
        }
    }
    Ok(out)
}

/// The request asking the node to send notifications on this connection.
pub fn notifications_request(pid: u32) -> String {
    format!(
        "{{\"jsonrpc\":\"2.0\",\"id\":\"fulgur-cli:notifications#{pid}\",\
         \"method\":\"notifications\",\"params\":{{\"enable\":true}}}}"
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly on bad input.

    use super::*;

    fn strings(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn argument_typing() {
        for literal in [
            "0",
            "42",
            "1.5",
            "-3",
            "true",
            "false",
            "null",
            "{\"a\":1}",
            "[1,2]",
            "\"q\"",
        ] {
            assert!(is_literal(literal), "{literal} should be raw JSON");
            assert_eq!(param_json(literal), literal);
        }
        for string in [
            "", "abc", "007", "1e3", "1.", "1.2.3", "{bad", "[1,", "\"open", "0x10", "True",
        ] {
            assert!(!is_literal(string), "{string} should be a string");
        }
        assert_eq!(param_json("lnbc1"), "\"lnbc1\"");
        assert_eq!(param_json("{bad"), "\"{bad\"");
        assert_eq!(param_json("say \"hi\"\n"), "\"say \\\"hi\\\"\\n\"");
    }

    #[test]
    fn keyword_detection() {
        assert!(use_keywords(Input::Default, &strings(&["id=02", "x"])));
        assert!(!use_keywords(Input::Default, &strings(&["02", "x=1"])));
        assert!(!use_keywords(Input::Default, &[]));
        assert!(use_keywords(Input::Keywords, &strings(&["a"])));
        assert!(!use_keywords(Input::Ordered, &strings(&["a=b"])));
    }

    #[test]
    fn params() {
        assert_eq!(
            build_params(
                Input::Default,
                &strings(&["amount_msat=1000", "label=a=b", "x={\"y\":1}"])
            )
            .unwrap(),
            r#"{"amount_msat":1000,"label":"a=b","x":{"y":1}}"#
        );
        assert_eq!(
            build_params(Input::Default, &strings(&["1000", "lbl", "true"])).unwrap(),
            r#"[1000,"lbl",true]"#
        );
        assert_eq!(build_params(Input::Default, &[]).unwrap(), "[]");
        assert_eq!(
            build_params(Input::Keywords, &strings(&["noequals"]))
                .unwrap_err()
                .to_string(),
            "expected key=value in 'noequals'"
        );
    }

    #[test]
    fn requests() {
        assert_eq!(request_id("getinfo", 7), "fulgur-cli:getinfo#7");
        assert_eq!(request_id("we\"ird", 7), "fulgur-cli:weirdmethod!#7");
        let request = build_request("getinfo", "id1", "[]", None, None).unwrap();
        assert_eq!(
            request,
            r#"{"jsonrpc":"2.0","id":"id1","method":"getinfo","params":[]}"#
        );
        let request = build_request("x", "id1", "{}", Some(r#"{"a":true}"#), None).unwrap();
        let value: serde_json::Value = serde_json::from_str(&request).unwrap();
        assert_eq!(value["filter"], serde_json::json!({"a": true}));
        assert!(build_request("x", "id", "[]", Some("{"), None).is_err());
        let commando = Commando {
            peer_id: "02aa".into(),
            rune: Some("r".into()),
        };
        let request = build_request("getinfo", "id1", "[]", None, Some(&commando)).unwrap();
        let value: serde_json::Value = serde_json::from_str(&request).unwrap();
        assert_eq!(value["method"], "commando");
        assert_eq!(
            value["params"],
            serde_json::json!({"peer_id": "02aa", "method": "getinfo", "rune": "r", "params": []})
        );
        let value: serde_json::Value = serde_json::from_str(&notifications_request(3)).unwrap();
        assert_eq!(value["params"]["enable"], true);
    }
}
