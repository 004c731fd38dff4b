//! Fee rates: [`FeeratePerKw`] (satoshi per 1000 weight units, the unit BOLT 3 and Core
//! Lightning compute with), the two styles CLN reports rates in ([`FeerateStyle`]), and the
//! `feerate` parameter forms CLN's JSON-RPC commands accept ([`FeerateSpec`]).
//!
//! A `feerate` parameter is one of:
//! - a name: `slow`, `normal`, `urgent`, `minimum`, and the per-purpose rates `opening`,
//!   `mutual_close`, `penalty`, `unilateral_close`, `unilateral_anchor_close`;
//! - a block target `<N>blocks` (e.g. `12blocks`);
//! - a number with an optional `perkw` or `perkb` suffix; without a suffix it is `perkb`.
//!   `perkb` is converted to `perkw` by dividing by 4, rounding up, and any explicit rate
//!   below [`FeeratePerKw::FLOOR`] is raised to it, as CLN does.
//!
//! Names and suffixes are case-sensitive; signs, spaces and decimals are rejected.

use std::fmt;
use std::str::FromStr;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::amount::{json_type_name, AmountSat};

/// A fee rate in satoshi per 1000 weight units ("perkw"). Every `u32` is representable;
/// rates CLN would use for its own transactions are at least [`FeeratePerKw::FLOOR`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct FeeratePerKw(u32);

impl FeeratePerKw {
    /// The lowest rate that bitcoind relays for any transaction weight (CLN's
    /// `FEERATE_FLOOR`: 253 perkw, i.e. just above 1 sat/vbyte after bitcoind's rounding).
    pub const FLOOR: FeeratePerKw = FeeratePerKw(253);

    /// The rate of `perkw` satoshi per 1000 weight units.
    pub const fn from_perkw(perkw: u32) -> FeeratePerKw {
        FeeratePerKw(perkw)
    }

    /// The rate of `perkb` satoshi per 1000 virtual bytes, divided by 4 rounding up (so a
    /// non-zero rate never becomes zero).
    pub const fn from_perkb(perkb: u32) -> FeeratePerKw {
        FeeratePerKw(perkb.div_ceil(4))
    }

    /// The rate in `style`'s unit (`perkb` is 4 × `perkw`, saturating at `u32::MAX`).
    pub const fn in_style(self, style: FeerateStyle) -> u32 {
        match style {
            FeerateStyle::PerKw => self.0,
            FeerateStyle::PerKb => self.0.saturating_mul(4),
        }
    }

    /// The rate in satoshi per 1000 weight units.
    pub const fn perkw(self) -> u32 {
        self.0
    }

    /// The rate in satoshi per 1000 virtual bytes (saturating at `u32::MAX`).
    pub const fn perkb(self) -> u32 {
        self.in_style(FeerateStyle::PerKb)
    }

    /// This rate, raised to [`Self::FLOOR`] if below it.
    pub const fn at_least_floor(self) -> FeeratePerKw {
        if self.0 < Self::FLOOR.0 {
            Self::FLOOR
        } else {
            self
        }
    }

    /// The fee for a transaction of `weight` weight units: `rate × weight / 1000`, rounded
    /// down (BOLT 3). `None` only for weights no transaction can have.
    pub fn fee_for_weight(self, weight: u64) -> Option<AmountSat> {
        u64::from(self.0)
            .checked_mul(weight)
            .map(|x| AmountSat::from_sat(x / 1000))
    }
}

impl fmt::Display for FeeratePerKw {
    /// `<n>perkw`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}perkw", self.0)
    }
}

impl Serialize for FeeratePerKw {
    /// A plain JSON integer, as CLN outputs `perkw` rates.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u32(self.0)
    }
}

impl<'de> Deserialize<'de> for FeeratePerKw {
    /// A JSON integer of satoshi per 1000 weight units.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        u32::deserialize(deserializer).map(FeeratePerKw)
    }
}

/// The unit a fee rate is expressed in: CLN's `perkw` / `perkb` style names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FeerateStyle {
    /// Satoshi per 1000 weight units (`perkw`).
    PerKw,
    /// Satoshi per 1000 virtual bytes (`perkb`).
    PerKb,
}

/// A style name that is neither `perkw` nor `perkb`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("feerate style should be 'perkw' or 'perkb', not '{0}'")]
pub struct UnknownFeerateStyle(pub String);

impl FeerateStyle {
    /// The style's name: `perkw` or `perkb`.
    pub const fn name(self) -> &'static str {
        match self {
            FeerateStyle::PerKw => "perkw",
            FeerateStyle::PerKb => "perkb",
        }
    }

    /// Converts a rate given in this style to perkw (perkb: ÷ 4, rounding up).
    pub const fn to_perkw(self, rate: u32) -> FeeratePerKw {
        match self {
            FeerateStyle::PerKw => FeeratePerKw::from_perkw(rate),
            FeerateStyle::PerKb => FeeratePerKw::from_perkb(rate),
        }
    }
}

impl fmt::Display for FeerateStyle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for FeerateStyle {
    type Err = UnknownFeerateStyle;

    /// Accepts exactly `perkw` or `perkb`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "perkw" => Ok(FeerateStyle::PerKw),
            "perkb" => Ok(FeerateStyle::PerKb),
            other => Err(UnknownFeerateStyle(other.to_string())),
        }
    }
}

impl Serialize for FeerateStyle {
    /// The style name as a JSON string.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for FeerateStyle {
    /// A JSON string `"perkw"` or `"perkb"`.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        s.parse().map_err(de::Error::custom)
    }
}

/// A named fee rate a `feerate` parameter can ask for; the node resolves it from its
/// current estimates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FeerateName {
    /// `slow`: the estimate for confirmation within 100 blocks.
    Slow,
    /// `normal`: the estimate for confirmation within 12 blocks.
    Normal,
    /// `urgent`: the estimate for confirmation within 6 blocks.
    Urgent,
    /// `minimum`: the lowest rate the node considers acceptable (its fee floor).
    Minimum,
    /// `opening`: the rate used to open channels.
    Opening,
    /// `mutual_close`: the rate used for mutual closes.
    MutualClose,
    /// `penalty`: the rate used for penalty transactions.
    Penalty,
    /// `unilateral_close`: the rate used for unilateral closes of non-anchor channels.
    UnilateralClose,
    /// `unilateral_anchor_close`: the rate used for unilateral closes of anchor channels.
    UnilateralAnchorClose,
}

impl FeerateName {
    /// Every name, in a stable order.
    pub const ALL: [FeerateName; 9] = [
        FeerateName::Slow,
        FeerateName::Normal,
        FeerateName::Urgent,
        FeerateName::Minimum,
        FeerateName::Opening,
        FeerateName::MutualClose,
        FeerateName::Penalty,
        FeerateName::UnilateralClose,
        FeerateName::UnilateralAnchorClose,
    ];

    /// The name as written in a `feerate` parameter.
    pub const fn name(self) -> &'static str {
        match self {
            FeerateName::Slow => "slow",
            FeerateName::Normal => "normal",
            FeerateName::Urgent => "urgent",
            FeerateName::Minimum => "minimum",
            FeerateName::Opening => "opening",
            FeerateName::MutualClose => "mutual_close",
            FeerateName::Penalty => "penalty",
            FeerateName::UnilateralClose => "unilateral_close",
            FeerateName::UnilateralAnchorClose => "unilateral_anchor_close",
        }
    }

    /// The confirmation target in blocks CLN estimates `slow` (100), `normal` (12) and
    /// `urgent` (6) with; `None` for the other names.
    pub const fn block_target(self) -> Option<u32> {
        match self {
            FeerateName::Slow => Some(100),
            FeerateName::Normal => Some(12),
            FeerateName::Urgent => Some(6),
            _ => None,
        }
    }

    fn from_name(s: &str) -> Option<FeerateName> {
        FeerateName::ALL.into_iter().find(|n| n.name() == s)
    }
}

impl fmt::Display for FeerateName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A parsed `feerate` parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FeerateSpec {
    /// A named rate, e.g. `urgent`.
    Named(FeerateName),
    /// The estimate for confirmation within this many blocks (`<N>blocks`).
    Blocks(u32),
    /// An explicit rate, already converted to perkw and raised to [`FeeratePerKw::FLOOR`].
    PerKw(FeeratePerKw),
}

/// Why a `feerate` parameter was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FeerateParseError {
    /// `<N>blocks` where `<N>` is not a 32-bit unsigned integer.
    #[error("feerate block target should be an integer, not '{0}'")]
    InvalidBlocks(String),
    /// Neither a name, a block target nor an integer with an optional perkw/perkb suffix.
    #[error("feerate should be an integer with optional perkw/perkb, not '{0}'")]
    Invalid(String),
    /// A JSON value that is neither a non-negative integer nor a string.
    #[error("feerate must be an integer or a string, not {0}")]
    WrongJsonType(String),
}

/// Parses ASCII digits into a `u32` (no sign, no spaces, no empty string).
fn parse_u32_digits(s: &str) -> Option<u32> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

impl FeerateSpec {
    /// Parses a JSON `feerate` parameter as CLN does: an integer is a `perkb` rate, a string
    /// is parsed with [`FromStr`]; anything else is rejected.
    pub fn from_json_value(value: &serde_json::Value) -> Result<FeerateSpec, FeerateParseError> {
        match value {
            serde_json::Value::Number(n) => n
                .as_u64()
                .and_then(|n| u32::try_from(n).ok())
                .map(|n| FeerateSpec::PerKw(FeeratePerKw::from_perkb(n).at_least_floor()))
                .ok_or_else(|| FeerateParseError::Invalid(n.to_string())),
            serde_json::Value::String(s) => s.parse(),
            other => Err(FeerateParseError::WrongJsonType(
                json_type_name(other).to_string(),
            )),
        }
    }
}

impl fmt::Display for FeerateSpec {
    /// The canonical parameter form: the name, `<N>blocks` or `<N>perkw`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FeerateSpec::Named(name) => write!(f, "{name}"),
            FeerateSpec::Blocks(n) => write!(f, "{n}blocks"),
            FeerateSpec::PerKw(rate) => write!(f, "{rate}"),
        }
    }
}

impl FromStr for FeerateSpec {
    type Err = FeerateParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if let Some(name) = FeerateName::from_name(s) {
            return Ok(FeerateSpec::Named(name));
        }
        if let Some(blocks) = s.strip_suffix("blocks") {
            return parse_u32_digits(blocks)
                .map(FeerateSpec::Blocks)
                .ok_or_else(|| FeerateParseError::InvalidBlocks(blocks.to_string()));
        }
        let (number, style) = if let Some(n) = s.strip_suffix(FeerateStyle::PerKb.name()) {
            (n, FeerateStyle::PerKb)
        } else if let Some(n) = s.strip_suffix(FeerateStyle::PerKw.name()) {
            (n, FeerateStyle::PerKw)
        } else {
            (s, FeerateStyle::PerKb)
        };
        let rate =
            parse_u32_digits(number).ok_or_else(|| FeerateParseError::Invalid(s.to_string()))?;
        Ok(FeerateSpec::PerKw(style.to_perkw(rate).at_least_floor()))
    }
}

impl Serialize for FeerateSpec {
    /// The canonical parameter form as a JSON string (see [`fmt::Display`]).
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// Deserializes a `feerate` parameter: an integer (perkb) or a string.
struct FeerateSpecVisitor;

impl Visitor<'_> for FeerateSpecVisitor {
    type Value = FeerateSpec;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a feerate name, '<N>blocks', or an integer with optional perkw/perkb")
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<FeerateSpec, E> {
        u32::try_from(v)
            .map(|n| FeerateSpec::PerKw(FeeratePerKw::from_perkb(n).at_least_floor()))
            .map_err(|_| E::invalid_value(de::Unexpected::Unsigned(v), &self))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<FeerateSpec, E> {
        match u64::try_from(v) {
            Ok(v) => self.visit_u64(v),
            Err(_) => Err(E::invalid_value(de::Unexpected::Signed(v), &self)),
        }
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<FeerateSpec, E> {
        v.parse().map_err(E::custom)
    }
}

impl<'de> Deserialize<'de> for FeerateSpec {
    /// Accepts what [`FeerateSpec::from_json_value`] accepts.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(FeerateSpecVisitor)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

    use super::*;
    use serde_json::json;

    fn spec(s: &str) -> Result<FeerateSpec, FeerateParseError> {
        s.parse()
    }

    fn kw(n: u32) -> FeerateSpec {
        FeerateSpec::PerKw(FeeratePerKw::from_perkw(n))
    }

    #[test]
    fn named_rates() {
        assert_eq!(spec("urgent"), Ok(FeerateSpec::Named(FeerateName::Urgent)));
        assert_eq!(spec("normal"), Ok(FeerateSpec::Named(FeerateName::Normal)));
        assert_eq!(spec("slow"), Ok(FeerateSpec::Named(FeerateName::Slow)));
        assert_eq!(
            spec("minimum"),
            Ok(FeerateSpec::Named(FeerateName::Minimum))
        );
        for name in FeerateName::ALL {
            assert_eq!(spec(name.name()), Ok(FeerateSpec::Named(name)));
        }
        assert_eq!(FeerateName::Slow.block_target(), Some(100));
        assert_eq!(FeerateName::Normal.block_target(), Some(12));
        assert_eq!(FeerateName::Urgent.block_target(), Some(6));
        assert_eq!(FeerateName::Minimum.block_target(), None);
        assert!(spec("Urgent").is_err());
        assert!(spec("fast").is_err());
    }

    #[test]
    fn block_targets() {
        assert_eq!(spec("12blocks"), Ok(FeerateSpec::Blocks(12)));
        assert_eq!(spec("0blocks"), Ok(FeerateSpec::Blocks(0)));
        assert_eq!(spec("4294967295blocks"), Ok(FeerateSpec::Blocks(u32::MAX)));
        for bad in [
            "blocks",
            "-1blocks",
            "1.5blocks",
            " 12blocks",
            "12 blocks",
            "4294967296blocks",
        ] {
            assert!(
                matches!(spec(bad), Err(FeerateParseError::InvalidBlocks(_))),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn explicit_rates() {
        assert_eq!(spec("1000perkw"), Ok(kw(1000)));
        assert_eq!(spec("4000perkb"), Ok(kw(1000)));
        assert_eq!(spec("4000"), Ok(kw(1000)));
        assert_eq!(spec("4001"), Ok(kw(1001)), "perkb rounds up");
        assert_eq!(spec("253perkw"), Ok(kw(253)));
        assert_eq!(spec("252perkw"), Ok(kw(253)), "raised to the floor");
        assert_eq!(spec("0"), Ok(kw(253)));
        assert_eq!(spec("1000perkb"), Ok(kw(253)));
        assert_eq!(spec("4294967295perkw"), Ok(kw(u32::MAX)));
        assert_eq!(spec("4294967295perkb"), Ok(kw(1_073_741_824)));
        for bad in [
            "",
            "perkw",
            "perkb",
            "-1",
            "+1",
            "1.5",
            "1.5perkw",
            "1 perkw",
            "1perkwperkw",
            "1PERKW",
            "1sat",
            "4294967296",
            "4294967296perkw",
            "1perkvb",
        ] {
            assert!(
                matches!(spec(bad), Err(FeerateParseError::Invalid(_))),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn styles() {
        assert_eq!("perkw".parse(), Ok(FeerateStyle::PerKw));
        assert_eq!("perkb".parse(), Ok(FeerateStyle::PerKb));
        assert_eq!(
            "perkvb".parse::<FeerateStyle>(),
            Err(UnknownFeerateStyle("perkvb".to_string()))
        );
        assert_eq!(FeerateStyle::PerKb.to_string(), "perkb");
        let rate = FeeratePerKw::from_perkw(1000);
        assert_eq!(rate.in_style(FeerateStyle::PerKb), 4000);
        assert_eq!(rate.in_style(FeerateStyle::PerKw), 1000);
        assert_eq!(FeeratePerKw::from_perkw(u32::MAX).perkb(), u32::MAX);
        assert_eq!(FeerateStyle::PerKb.to_perkw(1), FeeratePerKw::from_perkw(1));
        assert_eq!(
            serde_json::from_value::<FeerateStyle>(json!("perkb")).unwrap(),
            FeerateStyle::PerKb
        );
        assert_eq!(
            serde_json::to_value(FeerateStyle::PerKw).unwrap(),
            json!("perkw")
        );
    }

    #[test]
    fn feerate_helpers() {
        assert_eq!(FeeratePerKw::FLOOR.perkw(), 253);
        assert_eq!(
            FeeratePerKw::from_perkw(1).at_least_floor(),
            FeeratePerKw::FLOOR
        );
        assert_eq!(FeeratePerKw::from_perkw(300).at_least_floor().perkw(), 300);
        assert_eq!(FeeratePerKw::from_perkw(253).to_string(), "253perkw");
        assert_eq!(
            FeeratePerKw::from_perkw(253).fee_for_weight(400),
            Some(AmountSat::from_sat(101))
        );
        assert_eq!(FeeratePerKw::from_perkw(2).fee_for_weight(u64::MAX), None);
        assert_eq!(
            serde_json::to_value(FeeratePerKw::FLOOR).unwrap(),
            json!(253)
        );
        assert_eq!(
            serde_json::from_value::<FeeratePerKw>(json!(300)).unwrap(),
            FeeratePerKw::from_perkw(300)
        );
    }

    #[test]
    fn json_values() {
        assert_eq!(FeerateSpec::from_json_value(&json!(4000)), Ok(kw(1000)));
        assert_eq!(
            FeerateSpec::from_json_value(&json!("12blocks")),
            Ok(FeerateSpec::Blocks(12))
        );
        assert!(FeerateSpec::from_json_value(&json!(-1)).is_err());
        assert!(FeerateSpec::from_json_value(&json!(1.5)).is_err());
        assert!(FeerateSpec::from_json_value(&json!(4294967296u64)).is_err());
        assert!(matches!(
            FeerateSpec::from_json_value(&json!(null)),
            Err(FeerateParseError::WrongJsonType(_))
        ));
        assert_eq!(
            serde_json::from_value::<FeerateSpec>(json!(4000)).unwrap(),
            kw(1000)
        );
        assert_eq!(
            serde_json::from_value::<FeerateSpec>(json!("urgent")).unwrap(),
            FeerateSpec::Named(FeerateName::Urgent)
        );
        assert!(serde_json::from_value::<FeerateSpec>(json!(-4)).is_err());
        assert!(serde_json::from_value::<FeerateSpec>(json!(true)).is_err());
        assert_eq!(serde_json::to_value(kw(300)).unwrap(), json!("300perkw"));
        assert_eq!(
            serde_json::to_value(FeerateSpec::Blocks(3)).unwrap(),
            json!("3blocks")
        );
    }
}
