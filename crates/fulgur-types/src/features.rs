//! BOLT 9 feature bits: the `features` bit vectors of `init` (BOLT 1), `channel_announcement`
//! and `node_announcement` (BOLT 7), and the `channel_type` TLV (BOLT 2).
//!
//! Bits are numbered from the least-significant bit of the last byte on the wire: the wire form
//! is big-endian, so bit 0 is `0x01` in the final byte. Features come in pairs: the even bit
//! means *required* ("it's ok to be odd": a peer that does not know it must disconnect), the odd
//! bit means *optional*.
//!
//! [`Features`] is normalized (no leading zero bytes), so two vectors with the same bits set
//! compare equal whatever padding they arrived with.

use std::fmt;
use std::str::FromStr;

/// The largest number of bits a wire feature vector can carry: its length is a `u16` count of
/// bytes, so bits `0..MAX_BITS` are representable.
pub const MAX_BITS: usize = 65535 * 8;

/// A named BOLT 9 feature: a pair of bits, the even one *required* and the odd one *optional*.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Feature {
    name: &'static str,
    even_bit: u16,
    assumed: bool,
    depends_on: &'static [Feature],
}

impl Feature {
    const fn new(name: &'static str, even_bit: u16) -> Feature {
        Feature {
            name,
            even_bit,
            assumed: false,
            depends_on: &[],
        }
    }

    const fn assumed(mut self) -> Feature {
        self.assumed = true;
        self
    }

    const fn depends_on(mut self, deps: &'static [Feature]) -> Feature {
        self.depends_on = deps;
        self
    }

    /// The name BOLT 9 gives the feature, e.g. `option_static_remotekey`.
    pub fn name(self) -> &'static str {
        self.name
    }

    /// The even (compulsory) bit.
    pub fn required_bit(self) -> usize {
        usize::from(self.even_bit)
    }

    /// The odd (optional) bit.
    pub fn optional_bit(self) -> usize {
        usize::from(self.even_bit) + 1
    }

    /// Whether BOLT 9 marks the feature `ASSUMED`: so widespread that every node is taken to
    /// support it.
    pub fn is_assumed(self) -> bool {
        self.assumed
    }

    /// The features this one needs set as well (BOLT 9 "Dependencies" column).
    pub fn dependencies(self) -> &'static [Feature] {
        self.depends_on
    }

    /// The known feature owning `bit` (either of its pair), if any.
    pub fn from_bit(bit: usize) -> Option<Feature> {
        ALL_KNOWN
            .iter()
            .copied()
            .find(|f| f.required_bit() == bit & !1)
    }
}

impl fmt::Display for Feature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name)
    }
}

/// 0/1 `option_data_loss_protect` (ASSUMED).
pub const OPTION_DATA_LOSS_PROTECT: Feature = Feature::new("option_data_loss_protect", 0).assumed();
/// Bit 3, `initial_routing_sync`: a lone optional bit from older versions of BOLT 7, no longer
/// listed in BOLT 9. Kept so it can be recognised (and ignored) in old peers' `init`.
pub const INITIAL_ROUTING_SYNC_BIT: usize = 3;
/// 4/5 `option_upfront_shutdown_script`.
pub const OPTION_UPFRONT_SHUTDOWN_SCRIPT: Feature =
    Feature::new("option_upfront_shutdown_script", 4);
/// 6/7 `gossip_queries`: the peer has useful gossip to share.
pub const GOSSIP_QUERIES: Feature = Feature::new("gossip_queries", 6);
/// 8/9 `var_onion_optin` (ASSUMED; every node MUST support it).
pub const VAR_ONION_OPTIN: Feature = Feature::new("var_onion_optin", 8).assumed();
/// 10/11 `gossip_queries_ex`: gossip queries with timestamps and checksums.
pub const GOSSIP_QUERIES_EX: Feature = Feature::new("gossip_queries_ex", 10);
/// 12/13 `option_static_remotekey` (ASSUMED).
pub const OPTION_STATIC_REMOTEKEY: Feature = Feature::new("option_static_remotekey", 12).assumed();
/// 14/15 `payment_secret` (ASSUMED).
pub const PAYMENT_SECRET: Feature = Feature::new("payment_secret", 14).assumed();
/// 16/17 `basic_mpp`; depends on `payment_secret`.
pub const BASIC_MPP: Feature = Feature::new("basic_mpp", 16).depends_on(&[PAYMENT_SECRET]);
/// 18/19 `option_support_large_channel`.
pub const OPTION_SUPPORT_LARGE_CHANNEL: Feature = Feature::new("option_support_large_channel", 18);
/// 22/23 `option_anchors` (anchor outputs with zero-fee HTLC transactions).
pub const OPTION_ANCHORS: Feature = Feature::new("option_anchors", 22);
/// The older name of [`OPTION_ANCHORS`].
pub const OPTION_ANCHORS_ZERO_FEE_HTLC_TX: Feature = OPTION_ANCHORS;
/// 24/25 `option_route_blinding`.
pub const OPTION_ROUTE_BLINDING: Feature = Feature::new("option_route_blinding", 24);
/// 26/27 `option_shutdown_anysegwit`.
pub const OPTION_SHUTDOWN_ANYSEGWIT: Feature = Feature::new("option_shutdown_anysegwit", 26);
/// 28/29 `option_dual_fund` (channel establishment v2).
pub const OPTION_DUAL_FUND: Feature = Feature::new("option_dual_fund", 28);
/// 34/35 `option_quiesce` (the `stfu` message).
pub const OPTION_QUIESCE: Feature = Feature::new("option_quiesce", 34);
/// 36/37 `option_attribution_data`.
pub const OPTION_ATTRIBUTION_DATA: Feature = Feature::new("option_attribution_data", 36);
/// 38/39 `option_onion_messages`.
pub const OPTION_ONION_MESSAGES: Feature = Feature::new("option_onion_messages", 38);
/// 42/43 `option_provide_storage` (`peer_storage`).
pub const OPTION_PROVIDE_STORAGE: Feature = Feature::new("option_provide_storage", 42);
/// 44/45 `option_channel_type` (ASSUMED).
pub const OPTION_CHANNEL_TYPE: Feature = Feature::new("option_channel_type", 44).assumed();
/// 46/47 `option_scid_alias`.
pub const OPTION_SCID_ALIAS: Feature = Feature::new("option_scid_alias", 46);
/// 48/49 `option_payment_metadata`.
pub const OPTION_PAYMENT_METADATA: Feature = Feature::new("option_payment_metadata", 48);
/// 50/51 `option_zeroconf`; depends on `option_scid_alias`.
pub const OPTION_ZEROCONF: Feature =
    Feature::new("option_zeroconf", 50).depends_on(&[OPTION_SCID_ALIAS]);
/// 60/61 `option_simple_close`; depends on `option_shutdown_anysegwit`.
pub const OPTION_SIMPLE_CLOSE: Feature =
    Feature::new("option_simple_close", 60).depends_on(&[OPTION_SHUTDOWN_ANYSEGWIT]);
/// 62/63 `option_splice`.
pub const OPTION_SPLICE: Feature = Feature::new("option_splice", 62);

/// Every feature BOLT 9 currently assigns, in bit order.
pub const ALL_KNOWN: &[Feature] = &[
    OPTION_DATA_LOSS_PROTECT,
    OPTION_UPFRONT_SHUTDOWN_SCRIPT,
    GOSSIP_QUERIES,
    VAR_ONION_OPTIN,
    GOSSIP_QUERIES_EX,
    OPTION_STATIC_REMOTEKEY,
    PAYMENT_SECRET,
    BASIC_MPP,
    OPTION_SUPPORT_LARGE_CHANNEL,
    OPTION_ANCHORS,
    OPTION_ROUTE_BLINDING,
    OPTION_SHUTDOWN_ANYSEGWIT,
    OPTION_DUAL_FUND,
    OPTION_QUIESCE,
    OPTION_ATTRIBUTION_DATA,
    OPTION_ONION_MESSAGES,
    OPTION_PROVIDE_STORAGE,
    OPTION_CHANNEL_TYPE,
    OPTION_SCID_ALIAS,
    OPTION_PAYMENT_METADATA,
    OPTION_ZEROCONF,
    OPTION_SIMPLE_CLOSE,
    OPTION_SPLICE,
];

/// A feature bit vector.
///
/// Stored least-significant byte first and without high zero bytes, so equality ignores
/// padding. Bits at or above [`MAX_BITS`] cannot be carried on the wire and are ignored by
/// [`Features::set_bit`].
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct Features {
    /// `le[i]` holds bits `8*i .. 8*i+7`; the last byte is never zero.
    le: Vec<u8>,
}

/// A string that is not a hex feature vector.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FeaturesParseError {
    /// An odd number of hex digits.
    #[error("feature vector hex has an odd number of digits")]
    OddLength,
    /// A character that is not a hex digit.
    #[error("feature vector hex has a non-hex character {0:?}")]
    BadDigit(char),
    /// More bytes than a `u16` length can carry.
    #[error("feature vector longer than 65535 bytes")]
    TooLong,
}

impl Features {
    /// No bits set.
    pub fn new() -> Features {
        Features::default()
    }

    /// No bits set (same as [`Features::new`]).
    pub fn empty() -> Features {
        Features::default()
    }

    /// A vector with exactly the given bits set (bits at or above [`MAX_BITS`] are ignored).
    pub fn from_bits(bits: impl IntoIterator<Item = usize>) -> Features {
        let mut f = Features::new();
        for b in bits {
            f.set_bit(b);
        }
        f
    }

    /// Decodes the wire form (big-endian bytes, any number of leading zero bytes).
    pub fn from_wire_bytes(bytes: &[u8]) -> Features {
        let mut le: Vec<u8> = bytes.iter().rev().copied().collect();
        normalize(&mut le);
        Features { le }
    }

    /// The wire form: big-endian, without leading zero bytes (empty when no bit is set).
    pub fn to_wire_bytes(&self) -> Vec<u8> {
        self.le.iter().rev().copied().collect()
    }

    /// The length of [`Features::to_wire_bytes`].
    pub fn wire_len(&self) -> usize {
        self.le.len()
    }

    /// Whether no bit is set.
    pub fn is_empty(&self) -> bool {
        self.le.is_empty()
    }

    /// Whether `bit` is set.
    pub fn has_bit(&self, bit: usize) -> bool {
        self.le
            .get(bit / 8)
            .is_some_and(|byte| byte & (1 << (bit % 8)) != 0)
    }

    /// Sets `bit`; bits at or above [`MAX_BITS`] cannot be encoded and are ignored.
    pub fn set_bit(&mut self, bit: usize) {
        if bit >= MAX_BITS {
            return;
        }
        let index = bit / 8;
        if self.le.len() <= index {
            self.le.resize(index + 1, 0);
        }
        if let Some(byte) = self.le.get_mut(index) {
            *byte |= 1 << (bit % 8);
        }
    }

    /// Clears `bit`.
    pub fn clear_bit(&mut self, bit: usize) {
        if let Some(byte) = self.le.get_mut(bit / 8) {
            *byte &= !(1 << (bit % 8));
        }
        normalize(&mut self.le);
    }

    /// Sets the feature's even (required) bit and clears its odd bit (BOLT 9: never both).
    pub fn set_required(&mut self, feature: Feature) {
        self.clear_bit(feature.optional_bit());
        self.set_bit(feature.required_bit());
    }

    /// Sets the feature's odd (optional) bit and clears its even bit.
    pub fn set_optional(&mut self, feature: Feature) {
        self.clear_bit(feature.required_bit());
        self.set_bit(feature.optional_bit());
    }

    /// Builder form of [`Features::set_required`].
    pub fn with_required(mut self, feature: Feature) -> Features {
        self.set_required(feature);
        self
    }

    /// Builder form of [`Features::set_optional`].
    pub fn with_optional(mut self, feature: Feature) -> Features {
        self.set_optional(feature);
        self
    }

    /// Clears both bits of the feature.
    pub fn clear(&mut self, feature: Feature) {
        self.clear_bit(feature.required_bit());
        self.clear_bit(feature.optional_bit());
    }

    /// Whether either bit of the feature is set (the feature is *offered*).
    pub fn supports(&self, feature: Feature) -> bool {
        self.has_bit(feature.required_bit()) || self.has_bit(feature.optional_bit())
    }

    /// Whether the even bit is set (BOLT 9: if both are set the feature counts as required).
    pub fn requires(&self, feature: Feature) -> bool {
        self.has_bit(feature.required_bit())
    }

    /// Whether only the odd bit is set.
    pub fn is_optional(&self, feature: Feature) -> bool {
        self.has_bit(feature.optional_bit()) && !self.has_bit(feature.required_bit())
    }

    /// Every set bit, ascending.
    pub fn set_bits(&self) -> impl Iterator<Item = usize> + '_ {
        self.le.iter().enumerate().flat_map(|(i, byte)| {
            (0..8)
                .filter(move |b| byte & (1 << b) != 0)
                .map(move |b| i * 8 + b)
        })
    }

    /// Every BOLT 9 feature marked ASSUMED (present on every node today), as required bits.
    pub fn assumed() -> Features {
        let mut f = Features::new();
        for feature in ALL_KNOWN.iter().filter(|f| f.is_assumed()) {
            f.set_required(*feature);
        }
        f
    }

    /// The even bits set here whose feature pair `known` does not mention (neither of its
    /// bits set): per BOLT 1, a peer's unknown required feature means closing the connection.
    /// Pass the feature set this node understands (typically its own `init` features).
    pub fn unknown_required(&self, known: &Features) -> Vec<usize> {
        self.set_bits()
            .filter(|b| b % 2 == 0 && !known.has_bit(*b) && !known.has_bit(b + 1))
            .collect()
    }

    /// Known features that are offered here while a feature they depend on is not:
    /// `(feature, missing dependency)`. BOLT 1: MUST close the connection on such an `init`.
    pub fn missing_dependencies(&self) -> Vec<(Feature, Feature)> {
        ALL_KNOWN
            .iter()
            .filter(|f| self.supports(**f))
            .flat_map(|f| {
                f.dependencies()
                    .iter()
                    .filter(|d| !self.supports(**d))
                    .map(move |d| (*f, *d))
            })
            .collect()
    }

    /// ORs `other` into this vector.
    pub fn merge(&mut self, other: &Features) {
        *self = self.union(other);
    }

    /// Bitwise OR (BOLT 1 combines `globalfeatures` and `features` this way).
    pub fn union(&self, other: &Features) -> Features {
        let (long, short) = if self.le.len() >= other.le.len() {
            (self, other)
        } else {
            (other, self)
        };
        let mut le = long.le.clone();
        for (a, b) in le.iter_mut().zip(short.le.iter()) {
            *a |= b;
        }
        Features { le }
    }
}

fn normalize(le: &mut Vec<u8>) {
    while le.last() == Some(&0) {
        le.pop();
    }
}

impl std::ops::BitOr for &Features {
    type Output = Features;
    fn bitor(self, rhs: &Features) -> Features {
        self.union(rhs)
    }
}

/// Lower-case hex of the wire form (empty when no bit is set).
impl fmt::Display for Features {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for byte in self.le.iter().rev() {
            write!(f, "{byte:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Features {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Features(0x{self}: ")?;
        let mut list = f.debug_list();
        for bit in self.set_bits() {
            match Feature::from_bit(bit) {
                Some(feat) if bit % 2 == 0 => list.entry(&format_args!("{bit} {feat} (required)")),
                Some(feat) => list.entry(&format_args!("{bit} {feat} (optional)")),
                None => list.entry(&bit),
            };
        }
        list.finish()?;
        f.write_str(")")
    }
}

/// Parses hex of the wire form (as printed by `Display`, leading zeros allowed).
impl FromStr for Features {
    type Err = FeaturesParseError;
    fn from_str(s: &str) -> Result<Features, FeaturesParseError> {
        if s.len() % 2 != 0 {
            return Err(FeaturesParseError::OddLength);
        }
        if s.len() / 2 > 65535 {
            return Err(FeaturesParseError::TooLong);
        }
        let mut bytes = Vec::with_capacity(s.len() / 2);
        let mut high: Option<u8> = None;
        for c in s.chars() {
            let nibble = c
                .to_digit(16)
                .and_then(|d| u8::try_from(d).ok())
                .ok_or(FeaturesParseError::BadDigit(c))?;
            match high.take() {
                None => high = Some(nibble),
                Some(h) => bytes.push(h << 4 | nibble),
            }
        }
        Ok(Features::from_wire_bytes(&bytes))
    }
}

impl serde::Serialize for Features {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Features {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Features, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

    use super::*;
    use proptest::prelude::*;

    #[test]
    fn wire_form_is_big_endian_and_trimmed() {
        let f = Features::from_bits([0, 9, 15]);
        assert_eq!(f.to_wire_bytes(), vec![0x82, 0x01]);
        assert_eq!(f.to_string(), "8201");
        let padded = Features::from_wire_bytes(&[0, 0, 0x82, 0x01]);
        assert_eq!(padded, f);
        assert_eq!(padded.to_wire_bytes(), vec![0x82, 0x01]);
        assert_eq!(Features::new().to_wire_bytes(), Vec::<u8>::new());
        assert_eq!(Features::from_wire_bytes(&[0, 0]), Features::new());
        assert_eq!(f.set_bits().collect::<Vec<_>>(), vec![0, 9, 15]);
    }

    #[test]
    fn pairs_and_helpers() {
        let mut f = Features::new();
        f.set_optional(OPTION_STATIC_REMOTEKEY);
        assert!(f.has_bit(13) && !f.has_bit(12));
        assert!(f.supports(OPTION_STATIC_REMOTEKEY));
        assert!(f.is_optional(OPTION_STATIC_REMOTEKEY));
        assert!(!f.requires(OPTION_STATIC_REMOTEKEY));
        f.set_required(OPTION_STATIC_REMOTEKEY);
        assert!(f.has_bit(12) && !f.has_bit(13));
        assert!(f.requires(OPTION_STATIC_REMOTEKEY));
        f.clear(OPTION_STATIC_REMOTEKEY);
        assert!(f.is_empty());
        assert_eq!(OPTION_SPLICE.required_bit(), 62);
        assert_eq!(OPTION_SPLICE.optional_bit(), 63);
        assert_eq!(Feature::from_bit(63), Some(OPTION_SPLICE));
        assert_eq!(Feature::from_bit(2), None);
        assert!(VAR_ONION_OPTIN.is_assumed());
    }

    #[test]
    fn unknown_required_bits() {
        let known = Features::new()
            .with_optional(OPTION_STATIC_REMOTEKEY)
            .with_required(VAR_ONION_OPTIN);
        let peer = Features::from_bits([8, 12, 13, 20, 21, 100, 101, 103]);
        // 8 known (even), 12 known (pair offered as odd), 20 and 100 unknown even.
        assert_eq!(peer.unknown_required(&known), vec![20, 100]);
    }

    #[test]
    fn dependencies() {
        let f = Features::new().with_optional(BASIC_MPP);
        assert_eq!(f.missing_dependencies(), vec![(BASIC_MPP, PAYMENT_SECRET)]);
        let f = f.with_optional(PAYMENT_SECRET);
        assert!(f.missing_dependencies().is_empty());
    }

    #[test]
    fn union_and_parse() {
        let a = Features::from_bits([1, 40]);
        let b = Features::from_bits([3]);
        assert_eq!(&a | &b, Features::from_bits([1, 3, 40]));
        let mut c = b.clone();
        c.merge(&a);
        assert_eq!(c, &a | &b);
        assert_eq!(
            "000a".parse::<Features>().unwrap(),
            Features::from_bits([1, 3])
        );
        assert!("0".parse::<Features>().is_err());
        assert!("zz".parse::<Features>().is_err());
        let json = serde_json::to_string(&a).unwrap();
        assert_eq!(serde_json::from_str::<Features>(&json).unwrap(), a);
    }

    #[test]
    fn set_bit_beyond_wire_limit_is_ignored() {
        let mut f = Features::new();
        f.set_bit(MAX_BITS);
        assert!(f.is_empty());
        f.set_bit(MAX_BITS - 1);
        assert_eq!(f.wire_len(), 65535);
    }

    proptest! {
        #[test]
        fn wire_round_trip(bytes in proptest::collection::vec(any::<u8>(), 0..40)) {
            let f = Features::from_wire_bytes(&bytes);
            let enc = f.to_wire_bytes();
            prop_assert!(enc.first() != Some(&0));
            prop_assert_eq!(Features::from_wire_bytes(&enc), f.clone());
            let trimmed: Vec<u8> = bytes.iter().copied().skip_while(|b| *b == 0).collect();
            prop_assert_eq!(enc, trimmed);
            prop_assert_eq!(f.to_string().parse::<Features>().unwrap(), f);
        }

        #[test]
        fn set_then_has(bits in proptest::collection::btree_set(0usize..600, 0..20)) {
            let f = Features::from_bits(bits.iter().copied());
            prop_assert_eq!(f.set_bits().collect::<std::collections::BTreeSet<_>>(), bits);
        }
    }
}
