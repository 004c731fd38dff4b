//! Command parameters with Core Lightning's rules: given by position (an array, `null` meaning
//! "not given") or by name (an object); required parameters come first; each value is checked
//! against its kind, and failures carry CLN's codes and messages (`missing required parameter:
//! NAME`, `too many parameters: got N, expected M`, `unknown parameter: NAME, ...`,
//! `NAME: should be ...: invalid token ...`).

use crate::error::RpcError;
use fulgur_types::{AmountMsat, AmountSat, FeerateSpec};
use serde_json::Value;
use std::collections::BTreeMap;

/// What a parameter must hold, with CLN's "should be ..." text for each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamKind {
    /// A JSON string (escapes allowed).
    String,
    /// A string or a number (CLN's `param_string_or_number`-style labels).
    StringOrNumber,
    /// `true` or `false`.
    Bool,
    /// An unsigned 16-bit integer.
    U16,
    /// An unsigned 32-bit integer.
    U32,
    /// An unsigned 64-bit integer.
    U64,
    /// A signed 64-bit integer.
    Integer,
    /// A millisatoshi amount in any of CLN's forms (`1000`, `"1000msat"`, `"1sat"`, `"0.1btc"`).
    Msat,
    /// A satoshi amount in any of CLN's forms.
    Sat,
    /// A satoshi amount, or the string `all`.
    SatOrAll,
    /// A fee rate (`slow`, `normal`, `urgent`, `minimum`, `<N>blocks`, `<N>perkw`, `<N>perkb`).
    Feerate,
    /// A hex string of any even length.
    Hex,
    /// A 33-byte compressed public key in hex.
    Pubkey,
    /// A JSON array.
    Array,
    /// Any JSON value, passed through.
    Any,
}

impl ParamKind {
    fn should_be(self) -> &'static str {
        match self {
            ParamKind::String => "should be a string",
            ParamKind::StringOrNumber => "should be a string or number",
            ParamKind::Bool => "should be 'true' or 'false'",
            ParamKind::U16 => "should be an unsigned 16 bit integer",
            ParamKind::U32 => "should be an unsigned 32 bit integer",
            ParamKind::U64 => "should be an unsigned 64 bit integer",
            ParamKind::Integer => "should be an integer",
            ParamKind::Msat => "should be a millisatoshi amount",
            ParamKind::Sat | ParamKind::SatOrAll => "should be a satoshi amount",
            ParamKind::Feerate => "should be an integer with optional perkw/perkb, slow/normal/urgent/minimum, or blocks",
            ParamKind::Hex => "should be a hex value",
            ParamKind::Pubkey => "should be a pubkey",
            ParamKind::Array => "should be an array",
            ParamKind::Any => "should be valid JSON",
        }
    }

    /// Converts a JSON value to this kind, `None` if it is not one.
    pub fn convert(self, v: &Value) -> Option<ParamValue> {
        let text = || match v {
            Value::String(s) => Some(s.as_str()),
            _ => None,
        };
        // CLN reads numbers given as strings as well ("tok" parsing ignores quotes).
        let unsigned = |max: u64| -> Option<u64> {
            let n = match v {
                Value::Number(n) => n.as_u64(),
                Value::String(s) => s.parse::<u64>().ok(),
                _ => None,
            }?;
            (n <= max).then_some(n)
        };
        Some(match self {
            ParamKind::String => ParamValue::Str(text()?.to_string()),
            ParamKind::StringOrNumber => match v {
                Value::String(s) => ParamValue::Str(s.clone()),
                Value::Number(n) => ParamValue::Str(n.to_string()),
                _ => return None,
            },
            ParamKind::Bool => match v {
                Value::Bool(b) => ParamValue::Bool(*b),
                Value::String(s) if s == "true" => ParamValue::Bool(true),
                Value::String(s) if s == "false" => ParamValue::Bool(false),
                _ => return None,
            },
            ParamKind::U16 => ParamValue::U64(unsigned(u16::MAX.into())?),
            ParamKind::U32 => ParamValue::U64(unsigned(u32::MAX.into())?),
            ParamKind::U64 => ParamValue::U64(unsigned(u64::MAX)?),
            ParamKind::Integer => ParamValue::I64(match v {
                Value::Number(n) => n.as_i64()?,
                Value::String(s) => s.parse().ok()?,
                _ => return None,
            }),
            ParamKind::Msat => ParamValue::Msat(match v {
                Value::Number(n) => AmountMsat::from_msat(n.as_u64()?),
                Value::String(s) => s.parse().ok()?,
                _ => return None,
            }),
            ParamKind::Sat => ParamValue::Sat(match v {
                Value::Number(n) => AmountSat::from_sat(n.as_u64()?),
                Value::String(s) => s.parse().ok()?,
                _ => return None,
            }),
            ParamKind::SatOrAll => match v {
                Value::String(s) if s == "all" => ParamValue::All,
                _ => return ParamKind::Sat.convert(v),
            },
            ParamKind::Feerate => ParamValue::Feerate(match v {
                Value::Number(n) => n.to_string().parse().ok()?,
                Value::String(s) => s.parse().ok()?,
                _ => return None,
            }),
            ParamKind::Hex => {
                let s = text()?;
                if s.len() % 2 != 0 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return None;
                }
                ParamValue::Str(s.to_string())
            }
            ParamKind::Pubkey => {
                let s = text()?;
                let ok = s.len() == 66
                    && (s.starts_with("02") || s.starts_with("03"))
                    && s.bytes().all(|b| b.is_ascii_hexdigit());
                if !ok {
                    return None;
                }
                ParamValue::Str(s.to_ascii_lowercase())
            }
            ParamKind::Array => match v {
                Value::Array(_) => ParamValue::Json(v.clone()),
                _ => return None,
            },
            ParamKind::Any => ParamValue::Json(v.clone()),
        })
    }
}

/// One declared parameter of a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParamSpec {
    /// The name, as used by name and in messages.
    pub name: &'static str,
    /// What it must hold.
    pub kind: ParamKind,
    /// Whether the command needs it.
    pub required: bool,
}

impl ParamSpec {
    /// A required parameter.
    pub const fn req(name: &'static str, kind: ParamKind) -> Self {
        ParamSpec {
            name,
            kind,
            required: true,
        }
    }

    /// An optional parameter.
    pub const fn opt(name: &'static str, kind: ParamKind) -> Self {
        ParamSpec {
            name,
            kind,
            required: false,
        }
    }
}

/// A checked parameter value.
#[derive(Debug, Clone, PartialEq)]
pub enum ParamValue {
    /// A string (also hex and pubkeys, lower-cased).
    Str(String),
    /// A boolean.
    Bool(bool),
    /// An unsigned integer within the kind's range.
    U64(u64),
    /// A signed integer.
    I64(i64),
    /// A millisatoshi amount.
    Msat(AmountMsat),
    /// A satoshi amount.
    Sat(AmountSat),
    /// The word `all` where a satoshi amount or `all` was allowed.
    All,
    /// A fee rate.
    Feerate(FeerateSpec),
    /// A JSON value passed through.
    Json(Value),
}

/// The parameters a command received, after checking.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Params {
    values: BTreeMap<&'static str, ParamValue>,
    /// Members given by name that the command did not declare (kept only when the command
    /// allows extra parameters, as `check` does).
    pub extra: serde_json::Map<String, Value>,
}

impl Params {
    /// The value of `name`, if given.
    pub fn get(&self, name: &str) -> Option<&ParamValue> {
        self.values.get(name)
    }

    /// A string parameter, if given.
    pub fn str(&self, name: &str) -> Option<&str> {
        match self.values.get(name) {
            Some(ParamValue::Str(s)) => Some(s),
            _ => None,
        }
    }

    /// An unsigned integer parameter, if given.
    pub fn u64(&self, name: &str) -> Option<u64> {
        match self.values.get(name) {
            Some(ParamValue::U64(n)) => Some(*n),
            _ => None,
        }
    }

    /// A boolean parameter, if given.
    pub fn bool(&self, name: &str) -> Option<bool> {
        match self.values.get(name) {
            Some(ParamValue::Bool(b)) => Some(*b),
            _ => None,
        }
    }

    /// A millisatoshi parameter, if given.
    pub fn msat(&self, name: &str) -> Option<AmountMsat> {
        match self.values.get(name) {
            Some(ParamValue::Msat(a)) => Some(*a),
            _ => None,
        }
    }

    /// A JSON parameter, if given.
    pub fn json(&self, name: &str) -> Option<&Value> {
        match self.values.get(name) {
            Some(ParamValue::Json(v)) => Some(v),
            _ => None,
        }
    }
}

/// How parameter errors quote the offending token: CLN quotes it only for developers and for
/// `check`, and otherwise points to the log so that secrets never echo back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenEcho {
    /// `NAME: should be ...: invalid token 'TOKEN'`.
    Show,
    /// `NAME: should be ...: invalid token (see logs for details)`.
    Hide,
}

/// The CLN message for a parameter whose value is of the wrong kind.
pub fn bad_param(name: &str, should_be: &str, token: &Value, echo: TokenEcho) -> RpcError {
    match echo {
        TokenEcho::Show => {
            RpcError::invalid_params(format!("{name}: {should_be}: invalid token '{token}'"))
        }
        TokenEcho::Hide => RpcError::invalid_params(format!(
            "{name}: {should_be}: invalid token (see logs for details)"
        )),
    }
}

/// Checks `params` against `specs`. With `allow_extra`, undeclared parameters are kept in
/// [`Params::extra`] (by name) or ignored (by position) instead of failing.
pub fn parse_params(
    specs: &[ParamSpec],
    params: &Value,
    allow_extra: bool,
    echo: TokenEcho,
) -> Result<Params, RpcError> {
    let mut out = Params::default();
    let set = |spec: &ParamSpec, v: &Value, out: &mut Params| -> Result<(), RpcError> {
        if v.is_null() {
            return Ok(());
        }
        let value = spec
            .kind
            .convert(v)
            .ok_or_else(|| bad_param(spec.name, spec.kind.should_be(), v, echo))?;
        out.values.insert(spec.name, value);
        Ok(())
    };
    match params {
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                match specs.get(i) {
                    Some(spec) => set(spec, v, &mut out)?,
                    None if allow_extra => break,
                    None => {
                        return Err(RpcError::invalid_params(format!(
                            "too many parameters: got {}, expected {}",
                            items.len(),
                            specs.len()
                        )))
                    }
                }
            }
        }
        Value::Object(members) => {
            for (k, v) in members {
                match specs.iter().find(|s| s.name == k) {
                    Some(spec) => set(spec, v, &mut out)?,
                    None if allow_extra => {
                        out.extra.insert(k.clone(), v.clone());
                    }
                    None => {
                        return Err(RpcError::invalid_params(format!(
                            "unknown parameter: {k}, this may be caused by a failure to autodetect key=value-style parameters. Please try using the -k flag and explicit key=value pairs of parameters."
                        )))
                    }
                }
            }
        }
        _ => {
            return Err(RpcError::invalid_params(
                "Expected array or object for params",
            ))
        }
    }
    if let Some(missing) = specs
        .iter()
        .find(|s| s.required && !out.values.contains_key(s.name))
    {
        return Err(RpcError::invalid_params(format!(
            "missing required parameter: {}",
            missing.name
        )));
    }
    Ok(out)
}

/// The usage line CLN shows in `help`: required names bare, optional ones in brackets.
pub fn usage(specs: &[ParamSpec]) -> String {
    specs
        .iter()
        .map(|s| {
            if s.required {
                s.name.to_string()
            } else {
                format!("[{}]", s.name)
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "test inputs are fixed")]
    use super::*;
    use serde_json::json;

    const SPECS: &[ParamSpec] = &[
        ParamSpec::req("id", ParamKind::Pubkey),
        ParamSpec::opt("amount_msat", ParamKind::Msat),
        ParamSpec::opt("count", ParamKind::U32),
    ];
    const ID: &str = "02eec7245d6b7d2ccb30380bfbe2a3648cd7a942653f5aa340edcea1f283686619";

    fn err(params: Value) -> String {
        parse_params(SPECS, &params, false, TokenEcho::Show)
            .unwrap_err()
            .message
    }

    #[test]
    fn by_position_and_by_name() {
        let p = parse_params(SPECS, &json!([ID, "10sat", null]), false, TokenEcho::Show).unwrap();
        assert_eq!(p.str("id"), Some(ID));
        assert_eq!(p.msat("amount_msat"), Some(AmountMsat::from_msat(10_000)));
        assert_eq!(p.u64("count"), None);
        let p = parse_params(
            SPECS,
            &json!({"count": 7, "id": ID}),
            false,
            TokenEcho::Hide,
        )
        .unwrap();
        assert_eq!(p.u64("count"), Some(7));
    }

    #[test]
    fn cln_messages() {
        assert_eq!(err(json!("x")), "Expected array or object for params");
        assert_eq!(err(json!([])), "missing required parameter: id");
        assert_eq!(err(json!({"count": 1})), "missing required parameter: id");
        assert_eq!(err(json!([null])), "missing required parameter: id");
        assert_eq!(
            err(json!([ID, 1, 2, 3])),
            "too many parameters: got 4, expected 3"
        );
        assert!(err(json!({"id": ID, "foo": 1})).starts_with("unknown parameter: foo, this may be caused by a failure to autodetect key=value-style parameters."));
        assert_eq!(
            err(json!([ID, "12parsecs"])),
            "amount_msat: should be a millisatoshi amount: invalid token '\"12parsecs\"'"
        );
        assert_eq!(
            err(json!([ID, null, 4294967296u64])),
            "count: should be an unsigned 32 bit integer: invalid token '4294967296'"
        );
        assert_eq!(
            err(json!(["nope"])),
            "id: should be a pubkey: invalid token '\"nope\"'"
        );
        let hidden = parse_params(SPECS, &json!(["nope"]), false, TokenEcho::Hide).unwrap_err();
        assert_eq!(
            hidden.message,
            "id: should be a pubkey: invalid token (see logs for details)"
        );
        assert_eq!(hidden.code, -32602);
    }

    #[test]
    fn extra_allowed_for_check() {
        let p = parse_params(
            SPECS,
            &json!({"id": ID, "route": []}),
            true,
            TokenEcho::Show,
        )
        .unwrap();
        assert!(p.extra.contains_key("route"));
    }

    #[test]
    fn usage_line() {
        assert_eq!(usage(SPECS), "id [amount_msat] [count]");
        assert_eq!(usage(&[]), "");
    }
}
