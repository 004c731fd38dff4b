//! Checks JSON-RPC results against Core Lightning v26.06's JSON schemas (kept outside the
//! project, in `../shared/cln-v26.06-schemas/`). It understands the subset those schemas use:
//! CLN's own types (`pubkey`, `msat`, `u32`, `hex`, ...), `required`, `properties`,
//! `additionalProperties`, `items`, `enum`, `minLength`/`maxLength`, `if`/`then`/`else` and
//! `allOf`.

use crate::paths;
use serde_json::{Map, Value};
use std::path::PathBuf;

/// The schema directory, if present (`$FULGUR_CLN_SCHEMAS`, else `../shared/` beside the
/// workspace). Tests that need it print a skip message when this is `None`.
pub fn schema_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("FULGUR_CLN_SCHEMAS")
        .map(PathBuf::from)
        .unwrap_or_else(|| paths::workspace_root().join("../shared/cln-v26.06-schemas"));
    dir.is_dir().then_some(dir)
}

/// The whole schema file of `command`, if the directory is present.
pub fn load(command: &str) -> Option<Value> {
    let text = std::fs::read_to_string(schema_dir()?.join(format!("{command}.json"))).ok()?;
    serde_json::from_str(&text).ok()
}

/// Checks `result` against the `response` schema of `command`. `Ok(false)` when the schemas
/// are absent (the caller should say it skipped), `Err` with every violation otherwise.
pub fn check_response(command: &str, result: &Value) -> Result<bool, String> {
    let Some(schema) = load(command) else {
        eprintln!("skipping schema check of {command}: ../shared/cln-v26.06-schemas not found");
        return Ok(false);
    };
    let mut errors = Vec::new();
    validate(&schema["response"], result, "result", &mut errors);
    if errors.is_empty() {
        Ok(true)
    } else {
        Err(format!(
            "{command} response does not match CLN's schema:\n  {}",
            errors.join("\n  ")
        ))
    }
}

/// Validates `value` against `schema`, appending violations (prefixed by `path`).
pub fn validate(schema: &Value, value: &Value, path: &str, errors: &mut Vec<String>) {
    let Some(s) = schema.as_object() else { return };
    if let Some(t) = s.get("type").and_then(Value::as_str) {
        if let Err(e) = check_type(t, value) {
            errors.push(format!("{path}: {e}"));
            return;
        }
    }
    if let Some(options) = s.get("enum").and_then(Value::as_array) {
        if !options.contains(value) {
            errors.push(format!("{path}: {value} is not one of {options:?}"));
        }
    }
    if let Some(text) = value.as_str() {
        let n = text.chars().count() as u64;
        if s.get("minLength")
            .and_then(Value::as_u64)
            .is_some_and(|m| n < m)
        {
            errors.push(format!("{path}: shorter than minLength"));
        }
        if s.get("maxLength")
            .and_then(Value::as_u64)
            .is_some_and(|m| n > m)
        {
            errors.push(format!("{path}: longer than maxLength"));
        }
    }
    if let Value::Object(obj) = value {
        check_object(s, obj, path, errors);
    }
    if let (Value::Array(items), Some(item_schema)) = (value, s.get("items")) {
        for (i, item) in items.iter().enumerate() {
            validate(item_schema, item, &format!("{path}[{i}]"), errors);
        }
    }
    if let Some(cond) = s.get("if") {
        let mut probe = Vec::new();
        validate(cond, value, path, &mut probe);
        let branch = if probe.is_empty() {
            s.get("then")
        } else {
            s.get("else")
        };
        if let Some(b) = branch {
            validate(b, value, path, errors);
        }
    }
    if let Some(all) = s.get("allOf").and_then(Value::as_array) {
        for sub in all {
            validate(sub, value, path, errors);
        }
    }
}

fn check_object(
    s: &Map<String, Value>,
    obj: &Map<String, Value>,
    path: &str,
    errors: &mut Vec<String>,
) {
    let props = s.get("properties").and_then(Value::as_object);
    for req in s
        .get("required")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(name) = req.as_str() {
            if !obj.contains_key(name) {
                errors.push(format!("{path}: missing required field {name}"));
            }
        }
    }
    for (k, v) in obj {
        match props.and_then(|p| p.get(k)) {
            Some(sub) => validate(sub, v, &format!("{path}.{k}"), errors),
            None => {
                if s.get("additionalProperties") == Some(&Value::Bool(false)) {
                    errors.push(format!("{path}: unexpected field {k}"));
                }
            }
        }
    }
}

fn is_hex(s: &str) -> bool {
    s.len() % 2 == 0
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fn check_type(t: &str, v: &Value) -> Result<(), String> {
    let unsigned = |max: u64| match v.as_u64() {
        Some(n) if n <= max => Ok(()),
        _ => Err(format!("{v} is not a {t}")),
    };
    let string = |ok: bool| {
        if v.is_string() && ok {
            Ok(())
        } else {
            Err(format!("{v} is not a {t}"))
        }
    };
    let text = v.as_str().unwrap_or("");
    match t {
        "object" => v
            .is_object()
            .then_some(())
            .ok_or_else(|| format!("{v} is not an object")),
        "array" => v
            .is_array()
            .then_some(())
            .ok_or_else(|| format!("{v} is not an array")),
        "boolean" => v
            .is_boolean()
            .then_some(())
            .ok_or_else(|| format!("{v} is not a boolean")),
        "string" => string(true),
        "integer" => (v.is_i64() || v.is_u64())
            .then_some(())
            .ok_or_else(|| format!("{v} is not an integer")),
        "number" => v
            .is_number()
            .then_some(())
            .ok_or_else(|| format!("{v} is not a number")),
        "u8" => unsigned(u8::MAX.into()),
        "u16" => unsigned(u16::MAX.into()),
        "u32" => unsigned(u32::MAX.into()),
        "u64" | "msat" | "sat" => unsigned(u64::MAX),
        "hex" => string(is_hex(text)),
        "pubkey" | "point" => string(
            text.len() == 66 && is_hex(text) && (text.starts_with("02") || text.starts_with("03")),
        ),
        "txid" | "hash" | "secret" | "sha256" => string(text.len() == 64 && is_hex(text)),
        "short_channel_id" => string(text.split('x').count() == 3),
        // Other CLN types are strings whose format this checker does not look into.
        _ => match v {
            Value::String(_) | Value::Number(_) => Ok(()),
            _ => Err(format!("{v} is not a {t}")),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn catches_what_it_should() {
        let schema = json!({
            "type": "object", "additionalProperties": false, "required": ["id", "n"],
            "properties": {
                "id": {"type": "pubkey"}, "n": {"type": "u32"},
                "kind": {"type": "string", "enum": ["a", "b"]},
                "addrs": {"type": "array", "items": {
                    "type": "object", "additionalProperties": true, "required": ["type"],
                    "properties": {"type": {"type": "string"}},
                    "if": {"properties": {"type": {"enum": ["dns"]}}},
                    "then": {"additionalProperties": false, "required": ["type", "address"], "properties": {"type": {}, "address": {"type": "string"}}},
                    "else": {"additionalProperties": false, "required": ["type"], "properties": {"type": {}}}
                }}
            }
        });
        let good = json!({"id": format!("02{}", "ab".repeat(32)), "n": 5, "kind": "a",
                          "addrs": [{"type": "dns", "address": "x"}, {"type": "ipv4"}]});
        let mut e = Vec::new();
        validate(&schema, &good, "r", &mut e);
        assert!(e.is_empty(), "{e:?}");
        let bad = json!({"id": "03zz", "n": -1, "kind": "c", "extra": 1,
                         "addrs": [{"type": "dns"}, {"type": "ipv4", "address": "y"}]});
        let mut e = Vec::new();
        validate(&schema, &bad, "r", &mut e);
        let all = e.join("\n");
        for needle in [
            "r.id",
            "r.n",
            "r.kind",
            "unexpected field extra",
            "r.addrs[0]: missing required field address",
            "r.addrs[1]: unexpected field address",
        ] {
            assert!(all.contains(needle), "missing {needle:?} in {all}");
        }
    }
}
