//! Amounts in millisatoshi ([`AmountMsat`]) and satoshi ([`AmountSat`]), with the text forms
//! Core Lightning prints and accepts.
//!
//! Printing follows CLN: `1000msat`, `10sat` (and, on request, `0.00000001000btc`).
//! Parsing accepts exactly the forms CLN's JSON-RPC parameters accept:
//!
//! | input            | [`AmountMsat`]         | [`AmountSat`]                  |
//! |------------------|------------------------|--------------------------------|
//! | `123`            | 123 msat               | 123 sat                        |
//! | `123msat`        | 123 msat               | only whole sats: `123000msat`, or `0msat` |
//! | `123sat`         | 123 000 msat           | 123 sat                        |
//! | `1btc`, `1.5btc` | up to 11 decimals      | up to 8 decimals               |
//!
//! Everything else is rejected: empty strings, signs, whitespace, a decimal point without
//! the `btc` suffix, more decimals than the unit allows, unknown or trailing suffixes, and
//! values that do not fit in a `u64`. A bare trailing point before `btc` (`1.btc`) is
//! accepted, as CLN does.
//!
//! In JSON, CLN outputs amounts as plain integers (millisatoshi for `*_msat` fields), so
//! both types serialize as integers; deserialization accepts an integer (taken in the
//! type's own unit) or a string in one of the forms above.

use std::fmt;
use std::str::FromStr;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Millisatoshi in one satoshi.
pub const MSAT_PER_SAT: u64 = 1_000;
/// Satoshi in one bitcoin.
pub const SAT_PER_BTC: u64 = 100_000_000;
/// Millisatoshi in one bitcoin.
pub const MSAT_PER_BTC: u64 = MSAT_PER_SAT * SAT_PER_BTC;

/// Decimal places a `btc` amount may have when parsed as millisatoshi.
const MSAT_BTC_DECIMALS: usize = 11;
/// Decimal places a `btc` amount may have when parsed as satoshi.
const SAT_BTC_DECIMALS: usize = 8;

/// Why a text or JSON amount was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AmountParseError {
    /// The input was the empty string.
    #[error("empty amount")]
    Empty,
    /// The input is not one of the accepted forms.
    #[error("invalid amount '{0}': expected digits with an optional msat, sat or btc suffix")]
    Invalid(String),
    /// The value does not fit in 64 bits of the target unit.
    #[error("amount '{0}' is too large")]
    Overflow(String),
    /// A `btc` amount had more decimal places than the target unit can hold.
    #[error("amount '{input}' has more than {max} decimal places")]
    TooManyDecimals {
        /// The rejected input.
        input: String,
        /// The most decimal places allowed.
        max: usize,
    },
    /// A millisatoshi amount given where whole satoshis are required.
    #[error("amount '{0}' is not a whole number of satoshis")]
    NotWholeSat(String),
    /// A JSON value that is neither a non-negative integer nor a string.
    #[error("amount must be a non-negative integer or a string, not {0}")]
    WrongJsonType(String),
}

/// An amount in millisatoshi. Every `u64` is a valid amount.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct AmountMsat(u64);

/// An amount in whole satoshi. Every `u64` is a valid amount.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct AmountSat(u64);

impl AmountMsat {
    /// Zero millisatoshi.
    pub const ZERO: AmountMsat = AmountMsat(0);
    /// The largest representable amount.
    pub const MAX: AmountMsat = AmountMsat(u64::MAX);

    /// The amount of `msat` millisatoshi.
    pub const fn from_msat(msat: u64) -> AmountMsat {
        AmountMsat(msat)
    }

    /// The amount of `sat` satoshi, or `None` if it overflows millisatoshi.
    pub const fn from_sat(sat: u64) -> Option<AmountMsat> {
        match sat.checked_mul(MSAT_PER_SAT) {
            Some(msat) => Some(AmountMsat(msat)),
            None => None,
        }
    }

    /// The amount in millisatoshi.
    pub const fn msat(self) -> u64 {
        self.0
    }

    /// `self + other`, or `None` on overflow.
    pub const fn checked_add(self, other: AmountMsat) -> Option<AmountMsat> {
        match self.0.checked_add(other.0) {
            Some(v) => Some(AmountMsat(v)),
            None => None,
        }
    }

    /// `self - other`, or `None` if `other` is larger.
    pub const fn checked_sub(self, other: AmountMsat) -> Option<AmountMsat> {
        match self.0.checked_sub(other.0) {
            Some(v) => Some(AmountMsat(v)),
            None => None,
        }
    }

    /// `self + other`, or `None` on overflow.
    pub fn checked_add_sat(self, other: AmountSat) -> Option<AmountMsat> {
        self.checked_add(other.to_msat()?)
    }

    /// `self - other`, or `None` if `other` is larger (or overflows millisatoshi).
    pub fn checked_sub_sat(self, other: AmountSat) -> Option<AmountMsat> {
        self.checked_sub(other.to_msat()?)
    }

    /// The amount in whole satoshi, or `None` if it is not a whole number of satoshi.
    pub const fn to_sat_exact(self) -> Option<AmountSat> {
        if self.0 % MSAT_PER_SAT == 0 {
            Some(AmountSat(self.0 / MSAT_PER_SAT))
        } else {
            None
        }
    }

    /// The amount in satoshi, dropping any millisatoshi remainder.
    pub const fn to_sat_round_down(self) -> AmountSat {
        AmountSat(self.0 / MSAT_PER_SAT)
    }

    /// The millisatoshi left over after [`Self::to_sat_round_down`].
    pub const fn sat_remainder(self) -> AmountMsat {
        AmountMsat(self.0 % MSAT_PER_SAT)
    }

    /// The amount in bitcoin with all 11 decimals, as CLN's `fmt_amount_msat_btc` prints it
    /// (`0btc` for zero, otherwise e.g. `0.00000001000btc`).
    pub fn to_btc_string(self) -> String {
        if self.0 == 0 {
            return "0btc".to_string();
        }
        format!("{}.{:011}btc", self.0 / MSAT_PER_BTC, self.0 % MSAT_PER_BTC)
    }

    /// Parses a JSON parameter as CLN does: an integer is millisatoshi, a string is parsed
    /// with [`FromStr`]; anything else (including floats and negative numbers) is rejected.
    pub fn from_json_value(value: &serde_json::Value) -> Result<AmountMsat, AmountParseError> {
        json_u64_or_str(value).and_then(|v| match v {
            JsonAmount::Int(n) => Ok(AmountMsat(n)),
            JsonAmount::Str(s) => s.parse(),
        })
    }
}

impl AmountSat {
    /// Zero satoshi.
    pub const ZERO: AmountSat = AmountSat(0);
    /// The largest representable amount.
    pub const MAX: AmountSat = AmountSat(u64::MAX);

    /// The amount of `sat` satoshi.
    pub const fn from_sat(sat: u64) -> AmountSat {
        AmountSat(sat)
    }

    /// The amount in satoshi.
    pub const fn sat(self) -> u64 {
        self.0
    }

    /// The amount in millisatoshi, or `None` if it overflows.
    pub const fn to_msat(self) -> Option<AmountMsat> {
        AmountMsat::from_sat(self.0)
    }

    /// `self + other`, or `None` on overflow.
    pub const fn checked_add(self, other: AmountSat) -> Option<AmountSat> {
        match self.0.checked_add(other.0) {
            Some(v) => Some(AmountSat(v)),
            None => None,
        }
    }

    /// `self - other`, or `None` if `other` is larger.
    pub const fn checked_sub(self, other: AmountSat) -> Option<AmountSat> {
        match self.0.checked_sub(other.0) {
            Some(v) => Some(AmountSat(v)),
            None => None,
        }
    }

    /// The amount in bitcoin with all 8 decimals, as CLN's `fmt_amount_sat_btc` prints it
    /// (`0btc` for zero, otherwise e.g. `0.00000001btc`).
    pub fn to_btc_string(self) -> String {
        if self.0 == 0 {
            return "0btc".to_string();
        }
        format!("{}.{:08}btc", self.0 / SAT_PER_BTC, self.0 % SAT_PER_BTC)
    }

    /// Parses a JSON parameter as CLN does: an integer is satoshi, a string is parsed with
    /// [`FromStr`]; anything else (including floats and negative numbers) is rejected.
    pub fn from_json_value(value: &serde_json::Value) -> Result<AmountSat, AmountParseError> {
        json_u64_or_str(value).and_then(|v| match v {
            JsonAmount::Int(n) => Ok(AmountSat(n)),
            JsonAmount::Str(s) => s.parse(),
        })
    }
}

impl TryFrom<AmountSat> for AmountMsat {
    type Error = AmountParseError;

    /// Fails with [`AmountParseError::Overflow`] above `u64::MAX` millisatoshi.
    fn try_from(sat: AmountSat) -> Result<Self, Self::Error> {
        sat.to_msat()
            .ok_or_else(|| AmountParseError::Overflow(sat.to_string()))
    }
}

impl From<AmountSat> for bitcoin::Amount {
    fn from(sat: AmountSat) -> Self {
        bitcoin::Amount::from_sat(sat.0)
    }
}

impl From<bitcoin::Amount> for AmountSat {
    fn from(amount: bitcoin::Amount) -> Self {
        AmountSat(amount.to_sat())
    }
}

impl fmt::Display for AmountMsat {
    /// `<n>msat`, as CLN prints millisatoshi amounts.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}msat", self.0)
    }
}

impl fmt::Display for AmountSat {
    /// `<n>sat`, as CLN prints satoshi amounts.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}sat", self.0)
    }
}

/// An amount string split at its decimal point and suffix.
struct Parts<'a> {
    /// The digits before any decimal point (never empty).
    whole: &'a str,
    /// The digits after a decimal point (possibly empty), if there was one.
    fraction: Option<&'a str>,
    /// Everything after the number.
    suffix: &'a str,
}

fn leading_digits(s: &str) -> (&str, &str) {
    let end = s
        .bytes()
        .position(|b| !b.is_ascii_digit())
        .unwrap_or(s.len());
    s.split_at(end)
}

fn split_amount(s: &str) -> Result<Parts<'_>, AmountParseError> {
    if s.is_empty() {
        return Err(AmountParseError::Empty);
    }
    let (whole, rest) = leading_digits(s);
    if whole.is_empty() {
        return Err(AmountParseError::Invalid(s.to_string()));
    }
    let (fraction, suffix) = match rest.strip_prefix('.') {
        Some(after_point) => {
            let (fraction, suffix) = leading_digits(after_point);
            (Some(fraction), suffix)
        }
        None => (None, rest),
    };
    Ok(Parts {
        whole,
        fraction,
        suffix,
    })
}

/// `digits × 10^scale`, or `None` on overflow. `digits` must be ASCII digits.
fn scaled(digits: &str, scale: usize) -> Option<u64> {
    let mut value: u64 = 0;
    for b in digits.bytes() {
        value = value.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
    }
    for _ in 0..scale {
        value = value.checked_mul(10)?;
    }
    Some(value)
}

/// `whole.fraction` in units of 10^-`decimals`.
fn parse_btc(
    input: &str,
    whole: &str,
    fraction: &str,
    decimals: usize,
) -> Result<u64, AmountParseError> {
    if fraction.len() > decimals {
        return Err(AmountParseError::TooManyDecimals {
            input: input.to_string(),
            max: decimals,
        });
    }
    let overflow = || AmountParseError::Overflow(input.to_string());
    let whole = scaled(whole, decimals).ok_or_else(overflow)?;
    let fraction = scaled(fraction, decimals - fraction.len()).ok_or_else(overflow)?;
    whole.checked_add(fraction).ok_or_else(overflow)
}

impl FromStr for AmountMsat {
    type Err = AmountParseError;

    /// Accepts `<n>`, `<n>msat`, `<n>sat` and `<n>[.<d>]btc` (at most 11 decimals).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let parts = split_amount(s)?;
        let overflow = || AmountParseError::Overflow(s.to_string());
        let msat = match (parts.fraction, parts.suffix) {
            (None, "" | "msat") => scaled(parts.whole, 0).ok_or_else(overflow)?,
            (None, "sat") => scaled(parts.whole, 3).ok_or_else(overflow)?,
            (fraction, "btc") => {
                parse_btc(s, parts.whole, fraction.unwrap_or(""), MSAT_BTC_DECIMALS)?
            }
            _ => return Err(AmountParseError::Invalid(s.to_string())),
        };
        Ok(AmountMsat(msat))
    }
}

impl FromStr for AmountSat {
    type Err = AmountParseError;

    /// Accepts `<n>`, `<n>sat`, `<n>msat` when it is a whole number of satoshi, and
    /// `<n>[.<d>]btc` (at most 8 decimals).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let parts = split_amount(s)?;
        let overflow = || AmountParseError::Overflow(s.to_string());
        let sat = match (parts.fraction, parts.suffix) {
            (None, "" | "sat") => scaled(parts.whole, 0).ok_or_else(overflow)?,
            (None, "msat") => {
                let digits = parts.whole;
                if digits.bytes().all(|b| b == b'0') {
                    0
                } else if let Some(sats) = digits.strip_suffix("000") {
                    scaled(sats, 0).ok_or_else(overflow)?
                } else {
                    return Err(AmountParseError::NotWholeSat(s.to_string()));
                }
            }
            (fraction, "btc") => {
                parse_btc(s, parts.whole, fraction.unwrap_or(""), SAT_BTC_DECIMALS)?
            }
            _ => return Err(AmountParseError::Invalid(s.to_string())),
        };
        Ok(AmountSat(sat))
    }
}

/// A JSON amount parameter before unit handling.
enum JsonAmount<'a> {
    Int(u64),
    Str(&'a str),
}

fn json_u64_or_str(value: &serde_json::Value) -> Result<JsonAmount<'_>, AmountParseError> {
    match value {
        serde_json::Value::Number(n) => match n.as_u64() {
            Some(n) => Ok(JsonAmount::Int(n)),
            None => Err(AmountParseError::WrongJsonType(format!("the number {n}"))),
        },
        serde_json::Value::String(s) => Ok(JsonAmount::Str(s)),
        other => Err(AmountParseError::WrongJsonType(
            json_type_name(other).to_string(),
        )),
    }
}

/// A short name for a JSON value's type, for error messages.
pub(crate) fn json_type_name(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

impl Serialize for AmountMsat {
    /// A plain JSON integer of millisatoshi.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u64(self.0)
    }
}

impl Serialize for AmountSat {
    /// A plain JSON integer of satoshi.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u64(self.0)
    }
}

/// Deserializes an integer (in the unit of `T`) or a string parsed with `T::from_str`.
struct AmountVisitor<T> {
    from_int: fn(u64) -> T,
    expecting: &'static str,
}

impl<T> Visitor<'_> for AmountVisitor<T>
where
    T: FromStr<Err = AmountParseError>,
{
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.expecting)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<T, E> {
        Ok((self.from_int)(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<T, E> {
        u64::try_from(v)
            .map(self.from_int)
            .map_err(|_| E::invalid_value(de::Unexpected::Signed(v), &self))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
        v.parse().map_err(E::custom)
    }
}

impl<'de> Deserialize<'de> for AmountMsat {
    /// Accepts an integer of millisatoshi or a string such as `"10sat"`.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(AmountVisitor {
            from_int: AmountMsat::from_msat,
            expecting: "an integer of millisatoshi or an amount string",
        })
    }
}

impl<'de> Deserialize<'de> for AmountSat {
    /// Accepts an integer of satoshi or a string such as `"10000msat"`.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(AmountVisitor {
            from_int: AmountSat::from_sat,
            expecting: "an integer of satoshi or an amount string",
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

    use super::*;
    use serde_json::json;

    fn msat(s: &str) -> Result<u64, AmountParseError> {
        s.parse::<AmountMsat>().map(AmountMsat::msat)
    }

    fn sat(s: &str) -> Result<u64, AmountParseError> {
        s.parse::<AmountSat>().map(AmountSat::sat)
    }

    #[test]
    fn msat_accepted_forms() {
        assert_eq!(msat("0"), Ok(0));
        assert_eq!(msat("123"), Ok(123));
        assert_eq!(msat("007"), Ok(7));
        assert_eq!(msat("123msat"), Ok(123));
        assert_eq!(msat("123sat"), Ok(123_000));
        assert_eq!(msat("0.001btc"), Ok(100_000_000));
        assert_eq!(msat("1btc"), Ok(100_000_000_000));
        assert_eq!(msat("1.btc"), Ok(100_000_000_000));
        assert_eq!(msat("0.00000000001btc"), Ok(1));
        assert_eq!(msat("18446744073709551615"), Ok(u64::MAX));
        assert_eq!(msat("18446744073709551615msat"), Ok(u64::MAX));
        assert_eq!(msat("184467440.73709551615btc"), Ok(u64::MAX));
        assert_eq!(msat("18446744073709551sat"), Ok(18_446_744_073_709_551_000));
    }

    #[test]
    fn msat_rejected_forms() {
        assert_eq!(msat(""), Err(AmountParseError::Empty));
        for bad in [
            "msat", "sat", "btc", ".5btc", "-1", "+1", " 1", "1 ", "1 msat", "1.5", "1.", "1.5sat",
            "1.5msat", "1msats", "1msatfoo", "1BTC", "1Sat", "1e3", "0x10", "1,000", "1..5btc",
            "1.5.5btc", "1k",
        ] {
            assert!(
                matches!(msat(bad), Err(AmountParseError::Invalid(_))),
                "{bad:?} -> {:?}",
                msat(bad)
            );
        }
        assert!(matches!(
            msat("0.000000000001btc"),
            Err(AmountParseError::TooManyDecimals { max: 11, .. })
        ));
        assert!(matches!(
            msat("18446744073709551616"),
            Err(AmountParseError::Overflow(_))
        ));
        assert!(matches!(
            msat("18446744073709552sat"),
            Err(AmountParseError::Overflow(_))
        ));
        assert!(matches!(
            msat("184467441btc"),
            Err(AmountParseError::Overflow(_))
        ));
        assert!(matches!(
            msat("184467440.73709551616btc"),
            Err(AmountParseError::Overflow(_))
        ));
    }

    #[test]
    fn sat_accepted_forms() {
        assert_eq!(sat("123"), Ok(123));
        assert_eq!(sat("123sat"), Ok(123));
        assert_eq!(sat("123000msat"), Ok(123));
        assert_eq!(sat("0msat"), Ok(0));
        assert_eq!(sat("000msat"), Ok(0));
        assert_eq!(sat("1.5btc"), Ok(150_000_000));
        assert_eq!(sat("0.00000001btc"), Ok(1));
        assert_eq!(sat("21000000btc"), Ok(2_100_000_000_000_000));
        assert_eq!(sat("18446744073709551615000msat"), Ok(u64::MAX));
    }

    #[test]
    fn sat_rejected_forms() {
        assert_eq!(sat(""), Err(AmountParseError::Empty));
        for bad in ["1500msat", "1msat", "0123msat"] {
            assert!(
                matches!(sat(bad), Err(AmountParseError::NotWholeSat(_))),
                "{bad:?}"
            );
        }
        assert!(matches!(
            sat("0.000000001btc"),
            Err(AmountParseError::TooManyDecimals { max: 8, .. })
        ));
        for bad in ["-5", "5 sat", "1.5sat", "1.5msat", "1.5", "5sats", "sat"] {
            assert!(
                matches!(sat(bad), Err(AmountParseError::Invalid(_))),
                "{bad:?}"
            );
        }
        assert!(matches!(
            sat("18446744073709551616"),
            Err(AmountParseError::Overflow(_))
        ));
        assert!(matches!(
            sat("18446744073709551616000msat"),
            Err(AmountParseError::Overflow(_))
        ));
    }

    #[test]
    fn display_like_cln() {
        assert_eq!(AmountMsat::from_msat(1000).to_string(), "1000msat");
        assert_eq!(AmountSat::from_sat(10).to_string(), "10sat");
        assert_eq!(AmountMsat::ZERO.to_btc_string(), "0btc");
        assert_eq!(
            AmountMsat::from_msat(1000).to_btc_string(),
            "0.00000001000btc"
        );
        assert_eq!(
            AmountSat::from_sat(150_000_000).to_btc_string(),
            "1.50000000btc"
        );
        assert_eq!(AmountSat::ZERO.to_btc_string(), "0btc");
    }

    #[test]
    fn arithmetic_and_conversions() {
        let a = AmountMsat::from_msat(1500);
        assert_eq!(
            a.checked_add(AmountMsat::from_msat(500)),
            Some(AmountMsat::from_msat(2000))
        );
        assert_eq!(AmountMsat::MAX.checked_add(AmountMsat::from_msat(1)), None);
        assert_eq!(a.checked_sub(AmountMsat::from_msat(1501)), None);
        assert_eq!(
            a.checked_add_sat(AmountSat::from_sat(1)),
            Some(AmountMsat::from_msat(2500))
        );
        assert_eq!(
            a.checked_sub_sat(AmountSat::from_sat(1)),
            Some(AmountMsat::from_msat(500))
        );
        assert_eq!(a.checked_sub_sat(AmountSat::MAX), None);
        assert_eq!(a.to_sat_exact(), None);
        assert_eq!(a.to_sat_round_down(), AmountSat::from_sat(1));
        assert_eq!(a.sat_remainder(), AmountMsat::from_msat(500));
        assert_eq!(
            AmountMsat::from_msat(2000).to_sat_exact(),
            Some(AmountSat::from_sat(2))
        );
        assert_eq!(AmountSat::MAX.to_msat(), None);
        assert!(AmountMsat::try_from(AmountSat::MAX).is_err());
        assert_eq!(
            AmountMsat::try_from(AmountSat::from_sat(3)),
            Ok(AmountMsat::from_msat(3000))
        );
        let s = AmountSat::from_sat(7);
        assert_eq!(s.checked_add(AmountSat::MAX), None);
        assert_eq!(s.checked_sub(AmountSat::from_sat(8)), None);
        assert_eq!(
            s.checked_sub(AmountSat::from_sat(2)),
            Some(AmountSat::from_sat(5))
        );
        let btc: bitcoin::Amount = s.into();
        assert_eq!(AmountSat::from(btc), s);
    }

    #[test]
    fn json_values() {
        assert_eq!(
            AmountMsat::from_json_value(&json!(5)),
            Ok(AmountMsat::from_msat(5))
        );
        assert_eq!(
            AmountMsat::from_json_value(&json!("5sat")),
            Ok(AmountMsat::from_msat(5000))
        );
        assert_eq!(
            AmountSat::from_json_value(&json!(5)),
            Ok(AmountSat::from_sat(5))
        );
        assert_eq!(
            AmountSat::from_json_value(&json!("5000msat")),
            Ok(AmountSat::from_sat(5))
        );
        for bad in [
            json!(1.5),
            json!(-1),
            json!(null),
            json!(true),
            json!([1]),
            json!({}),
        ] {
            assert!(matches!(
                AmountMsat::from_json_value(&bad),
                Err(AmountParseError::WrongJsonType(_))
            ));
            assert!(AmountSat::from_json_value(&bad).is_err());
        }
        assert!(AmountMsat::from_json_value(&json!("1.5")).is_err());
    }

    #[test]
    fn serde_round_trip() {
        let m = AmountMsat::from_msat(1234);
        assert_eq!(serde_json::to_string(&m).unwrap(), "1234");
        assert_eq!(serde_json::from_str::<AmountMsat>("1234").unwrap(), m);
        assert_eq!(
            serde_json::from_str::<AmountMsat>("\"1234msat\"").unwrap(),
            m
        );
        let s = AmountSat::from_sat(u64::MAX);
        assert_eq!(serde_json::to_string(&s).unwrap(), u64::MAX.to_string());
        assert_eq!(
            serde_json::from_str::<AmountSat>(&u64::MAX.to_string()).unwrap(),
            s
        );
        assert_eq!(
            serde_json::from_str::<AmountSat>("\"1btc\"").unwrap(),
            AmountSat::from_sat(SAT_PER_BTC)
        );
        assert!(serde_json::from_str::<AmountSat>("-1").is_err());
        assert!(serde_json::from_str::<AmountSat>("1.0").is_err());
        assert!(serde_json::from_str::<AmountSat>("\"1500msat\"").is_err());
        assert!(serde_json::from_str::<AmountMsat>("null").is_err());
    }
}
