//! Parsing and validating one option value according to its kind and check, into a
//! canonical [`Value`] (the form `listconfigs` shows).

use fulgur_types::Network;

use crate::error::Problem;
use crate::logging::parse_log_level;
use crate::table::{Check, IntType, OptKind, OptionSpec};

/// A parsed option value, in canonical form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// A flag that was given.
    Flag,
    /// A boolean.
    Bool(bool),
    /// An unsigned integer.
    UInt(u64),
    /// A signed integer.
    Int(i64),
    /// An amount in millisatoshi.
    Msat(u64),
    /// A string (canonicalised for colours, file modes and auto-booleans).
    Str(String),
}

impl Value {
    /// The value as a boolean, for flags and booleans.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Flag => Some(true),
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The value as an unsigned integer, for unsigned integers and amounts.
    pub fn as_u64(&self) -> Option<u64> {
        match self {
            Value::UInt(n) | Value::Msat(n) => Some(*n),
            Value::Int(n) => u64::try_from(*n).ok(),
            _ => None,
        }
    }

    /// The value as a signed integer.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Int(n) => Some(*n),
            Value::UInt(n) | Value::Msat(n) => i64::try_from(*n).ok(),
            _ => None,
        }
    }

    /// The value as a string, for string options.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }
}

/// Parses the value given to `spec` (`None` when the option was given without `=value`).
pub(crate) fn parse_value(spec: &OptionSpec, raw: Option<&str>) -> Result<Value, Problem> {
    if spec.kind == OptKind::Flag {
        return match raw {
            Some(_) => Err(Problem::UnexpectedValue),
            None => Ok(Value::Flag),
        };
    }
    let raw = raw.ok_or(Problem::MissingValue)?;
    let text = if spec.keep_whitespace {
        raw
    } else {
        raw.trim()
    };
    let value = match spec.kind {
        OptKind::Flag => Value::Flag,
        OptKind::Bool => Value::Bool(parse_bool(text)?),
        OptKind::Int(IntType::U32) => Value::UInt(parse_unsigned(text, u64::from(u32::MAX))?),
        OptKind::Int(IntType::U64) | OptKind::MultiInt => {
            Value::UInt(parse_unsigned(text, u64::MAX)?)
        }
        OptKind::Int(IntType::I32) => Value::Int(parse_i32(text)?),
        OptKind::Msat => Value::Msat(parse_msat(text)?),
        OptKind::Str | OptKind::Multi => Value::Str(text.to_string()),
    };
    apply_check(spec.check, text, value)
}

/// Runs the option's extra check, returning the canonical value.
fn apply_check(check: Check, text: &str, value: Value) -> Result<Value, Problem> {
    match check {
        Check::None => Ok(value),
        Check::Network => {
            text.parse::<Network>()
                .map_err(|_| Problem::UnknownNetwork(text.to_string()))?;
            Ok(value)
        }
        Check::LogLevel => {
            parse_log_level(text)?;
            Ok(value)
        }
        Check::Rgb => {
            let rgb = parse_rgb(text)?;
            Ok(Value::Str(format!(
                "{:02x}{:02x}{:02x}",
                rgb[0], rgb[1], rgb[2]
            )))
        }
        Check::FileMode => Ok(Value::Str(format!("{:04o}", parse_file_mode(text)?))),
        Check::Alias => {
            if text.len() > 32 {
                return Err(Problem::AliasTooLong(text.to_string()));
            }
            Ok(value)
        }
        Check::AutoBool => {
            let canonical = match text.to_ascii_lowercase().as_str() {
                "yes" | "true" => "true",
                "no" | "false" => "false",
                "auto" | "default" => "auto",
                _ => return Err(Problem::InvalidArgument(text.to_string())),
            };
            Ok(Value::Str(canonical.to_string()))
        }
        Check::Port => match value.as_u64() {
            Some(port) if port > u64::from(u16::MAX) => Err(Problem::OutOfRange(text.to_string())),
            _ => Ok(value),
        },
        Check::Feerates => {
            let parts: Vec<&str> = text.split('/').collect();
            if parts.len() > 6 {
                return Err(Problem::TooManyFeerates);
            }
            for part in parts {
                parse_unsigned(part, u64::from(u32::MAX))?;
            }
            Ok(value)
        }
        Check::Subdaemon => {
            let (name, _) = text.split_once(':').ok_or(Problem::SubdaemonWithoutColon)?;
            if !SUBDAEMONS.contains(&name) {
                return Err(Problem::UnknownSubdaemon(name.to_string()));
            }
            Ok(value)
        }
        Check::NodeId => {
            let ok = text.len() == 66
                && (text.starts_with("02") || text.starts_with("03"))
                && text.bytes().all(|b| b.is_ascii_hexdigit());
            if ok {
                Ok(value)
            } else {
                Err(Problem::BadNodeId)
            }
        }
        Check::WholeSats => match value {
            Value::Msat(msat) if msat % 1000 != 0 => Err(Problem::NotWholeSats(text.to_string())),
            other => Ok(other),
        },
    }
}

/// The subdaemons `subdaemon=NAME:PATH` may replace.
const SUBDAEMONS: &[&str] = &[
    "channeld",
    "closingd",
    "connectd",
    "gossipd",
    "gossip_compactd",
    "hsmd",
    "onchaind",
    "openingd",
];

/// `yes`/`true`/`no`/`false`, any case.
pub(crate) fn parse_bool(s: &str) -> Result<bool, Problem> {
    match s.to_ascii_lowercase().as_str() {
        "yes" | "true" => Ok(true),
        "no" | "false" => Ok(false),
        _ => Err(Problem::InvalidArgument(s.to_string())),
    }
}

/// Splits a C-style integer literal into its radix and digits: `0x1f` is hex, `017` octal.
fn radix_and_digits(s: &str) -> (u32, &str) {
    if let Some(hex) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        (16, hex)
    } else if s.len() > 1 && s.starts_with('0') {
        (8, &s[1..])
    } else {
        (10, s)
    }
}

/// Magnitude of an unsigned C-style literal (decimal, `0x` hex or leading-zero octal).
fn parse_magnitude(original: &str, s: &str) -> Result<u64, Problem> {
    let (radix, digits) = radix_and_digits(s);
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return Err(Problem::NotANumber(original.to_string()));
    }
    u64::from_str_radix(digits, radix).map_err(|_| Problem::OutOfRange(original.to_string()))
}

/// An unsigned integer no larger than `max`.
pub(crate) fn parse_unsigned(s: &str, max: u64) -> Result<u64, Problem> {
    let (negative, body) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let n = parse_magnitude(s, body)?;
    if (negative && n != 0) || n > max {
        return Err(Problem::OutOfRange(s.to_string()));
    }
    Ok(n)
}

/// A signed 32-bit integer.
fn parse_i32(s: &str) -> Result<i64, Problem> {
    let (negative, body) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let n =
        i64::try_from(parse_magnitude(s, body)?).map_err(|_| Problem::OutOfRange(s.to_string()))?;
    let n = if negative { -n } else { n };
    if n < i64::from(i32::MIN) || n > i64::from(i32::MAX) {
        return Err(Problem::OutOfRange(s.to_string()));
    }
    Ok(n)
}

/// An amount: `N`, `Nmsat`, `Nsat` or `N[.DDD]btc` (up to 11 decimals), in millisatoshi.
pub(crate) fn parse_msat(s: &str) -> Result<u64, Problem> {
    let bad = || Problem::BadAmount(s.to_string());
    let digits_end = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (whole, rest) = s.split_at(digits_end);
    if whole.is_empty() {
        return Err(bad());
    }
    let scaled = |number: &str, tens: u32| -> Result<u64, Problem> {
        let n: u64 = number.parse().map_err(|_| bad())?;
        10u64
            .checked_pow(tens)
            .and_then(|f| n.checked_mul(f))
            .ok_or_else(bad)
    };
    match rest {
        "" | "msat" => scaled(whole, 0),
        "sat" => scaled(whole, 3),
        "btc" => scaled(whole, 11),
        _ => {
            let fraction = rest.strip_prefix('.').and_then(|r| r.strip_suffix("btc"));
            let fraction = fraction.ok_or_else(bad)?;
            let valid = !fraction.is_empty()
                && fraction.len() <= 11
                && fraction.bytes().all(|b| b.is_ascii_digit());
            if !valid {
                return Err(bad());
            }
            let tens = u32::try_from(11 - fraction.len()).map_err(|_| bad())?;
            scaled(whole, 11)?
                .checked_add(scaled(fraction, tens)?)
                .ok_or_else(bad)
        }
    }
}

/// Six hex digits, as red, green and blue bytes.
pub(crate) fn parse_rgb(s: &str) -> Result<[u8; 3], Problem> {
    let bad = || Problem::BadRgb(s.to_string());
    if s.len() != 6 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(bad());
    }
    let byte = |i: usize| s.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok());
    match (byte(0), byte(2), byte(4)) {
        (Some(r), Some(g), Some(b)) => Ok([r, g, b]),
        _ => Err(bad()),
    }
}

/// Four octal digits starting with `0`, such as `0600`.
pub(crate) fn parse_file_mode(s: &str) -> Result<u32, Problem> {
    let bad = || Problem::BadFileMode(s.to_string());
    if s.len() != 4 || !s.starts_with('0') || !s.bytes().all(|b| (b'0'..=b'7').contains(&b)) {
        return Err(bad());
    }
    u32::from_str_radix(s, 8).map_err(|_| bad())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::find;

    fn parse(name: &str, raw: Option<&str>) -> Result<Value, String> {
        let spec = find(name).ok_or("no such option")?;
        parse_value(spec, raw).map_err(|e| e.to_string())
    }

    #[test]
    fn flags_and_missing_values() {
        assert_eq!(parse("daemon", None), Ok(Value::Flag));
        assert_eq!(
            parse("daemon", Some("1")),
            Err("doesn't allow an argument".into())
        );
        assert_eq!(parse("alias", None), Err("requires an argument".into()));
    }

    #[test]
    fn integers() {
        assert_eq!(parse("cltv-delta", Some("40")), Ok(Value::UInt(40)));
        assert_eq!(parse("cltv-delta", Some("0x10")), Ok(Value::UInt(16)));
        assert_eq!(parse("cltv-delta", Some("40  ")), Ok(Value::UInt(40)));
        assert_eq!(
            parse("cltv-delta", Some("forty")),
            Err("'forty' is not a number".into())
        );
        assert_eq!(
            parse("cltv-delta", Some("")),
            Err("'' is not a number".into())
        );
        assert_eq!(
            parse("cltv-delta", Some("4294967296")),
            Err("'4294967296' is out of range".into())
        );
        assert_eq!(
            parse("cltv-delta", Some("-1")),
            Err("'-1' is out of range".into())
        );
        assert_eq!(parse("rescan", Some("-800000")), Ok(Value::Int(-800000)));
        assert_eq!(
            parse("commit-fee", Some("18446744073709551615")),
            Ok(Value::UInt(u64::MAX))
        );
        assert_eq!(
            parse("bitcoin-rpcport", Some("70000")),
            Err("'70000' is out of range".into())
        );
    }

    #[test]
    fn booleans() {
        assert_eq!(parse("autolisten", Some("FALSE")), Ok(Value::Bool(false)));
        assert_eq!(parse("autolisten", Some("yes")), Ok(Value::Bool(true)));
        assert_eq!(
            parse("autolisten", Some("maybe")),
            Err("invalid argument 'maybe'".into())
        );
        assert_eq!(
            parse("announce-addr-discovered", Some("Default")),
            Ok(Value::Str("auto".into()))
        );
    }

    #[test]
    fn amounts() {
        assert_eq!(parse_msat("1000"), Ok(1000));
        assert_eq!(parse_msat("1000msat"), Ok(1000));
        assert_eq!(parse_msat("5sat"), Ok(5000));
        assert_eq!(parse_msat("1btc"), Ok(100_000_000_000));
        assert_eq!(parse_msat("0.001btc"), Ok(100_000_000));
        assert!(parse_msat("0.5sat").is_err());
        assert!(parse_msat("sat").is_err());
        assert!(parse_msat("1.btc").is_err());
        assert!(parse_msat("99999999999999999999").is_err());
        assert_eq!(
            parse("htlc-minimum-msat", Some("lots")),
            Err("unable to parse millisatoshi 'lots'".into())
        );
        assert_eq!(
            parse("min-emergency-msat", Some("1500")),
            Err("'1500' is not a whole number of sats".into())
        );
    }

    #[test]
    fn strings_with_checks() {
        assert_eq!(
            parse("rgb", Some("FF00aa")),
            Ok(Value::Str("ff00aa".into()))
        );
        assert_eq!(
            parse("rgb", Some("red")),
            Err("rgb 'red' is not six hex digits".into())
        );
        assert_eq!(
            parse("rpc-file-mode", Some("0660")),
            Ok(Value::Str("0660".into()))
        );
        assert_eq!(
            parse("rpc-file-mode", Some("660")),
            Err("'660' is not a file mode".into())
        );
        assert_eq!(
            parse("rpc-file-mode", Some("0680")),
            Err("'0680' is not a file mode".into())
        );
        assert_eq!(
            parse("network", Some("liquid")),
            Err("unknown network name 'liquid'".into())
        );
        assert_eq!(
            parse("log-level", Some("chatty")),
            Err("unknown log level chatty".into())
        );
        assert_eq!(
            parse("alias", Some("trailing  ")),
            Ok(Value::Str("trailing  ".into()))
        );
        assert_eq!(
            parse("alias", Some(&"x".repeat(33))),
            Err(format!("alias '{}' is over 32 characters", "x".repeat(33)))
        );
        assert_eq!(
            parse("subdaemon", Some("hsmd")),
            Err("argument must contain ':'".into())
        );
        assert_eq!(
            parse("subdaemon", Some("foo:/bin/x")),
            Err("\"foo\" is not a subdaemon".into())
        );
        assert!(parse("subdaemon", Some("hsmd:/bin/remote")).is_ok());
        assert_eq!(
            parse("force-feerates", Some("1/2/3/4/5/6/7")),
            Err("too many values".into())
        );
        assert!(parse("force-feerates", Some("253/1000")).is_ok());
        assert_eq!(
            parse("payment-fronting-node", Some("02ab")),
            Err("unparsable nodeid".into())
        );
    }

    #[test]
    fn helpers() {
        assert_eq!(parse_rgb("0a0B0c"), Ok([10, 11, 12]));
        assert_eq!(parse_file_mode("0600"), Ok(0o600));
        assert_eq!(parse_bool("No"), Ok(false));
        assert_eq!(Value::UInt(3).as_i64(), Some(3));
        assert_eq!(Value::Flag.as_bool(), Some(true));
    }
}
