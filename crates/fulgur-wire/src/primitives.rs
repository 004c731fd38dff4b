//! BOLT 1 "Fundamental Types": big-endian integers (`u8`..`u64`), signed integers (`s8`..`s64`,
//! two's complement), `chain_hash`, `channel_id`, `sha256`, `signature`, `point`,
//! `short_channel_id`, fixed byte arrays and `u16`-length-prefixed byte arrays; plus the
//! [`Reader`]/[`Writer`] cursors and the [`Codec`] trait every field type implements.
//!
//! Decoding never panics and never allocates more than the bytes actually present: lengths
//! read from the wire are checked against what remains before anything is allocated.

use std::fmt;
use std::str::FromStr;

pub use bitcoin::constants::ChainHash;
use bitcoin::hashes::Hash;
pub use bitcoin::Txid;
use fulgur_types::Features;
pub use secp256k1::PublicKey;

use crate::error::WireError;

/// A cursor over bytes being decoded.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    data: &'a [u8],
}

impl<'a> Reader<'a> {
    /// Starts reading `data`.
    pub fn new(data: &'a [u8]) -> Reader<'a> {
        Reader { data }
    }

    /// Bytes left.
    pub fn remaining(&self) -> usize {
        self.data.len()
    }

    /// Whether nothing is left.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// Takes the next `n` bytes, or fails with [`WireError::Truncated`].
    pub fn take(&mut self, n: usize) -> Result<&'a [u8], WireError> {
        match self.data.split_at_checked(n) {
            Some((head, tail)) => {
                self.data = tail;
                Ok(head)
            }
            None => Err(WireError::Truncated {
                needed: n,
                available: self.data.len(),
            }),
        }
    }

    /// Takes the next `N` bytes as an array.
    pub fn array<const N: usize>(&mut self) -> Result<[u8; N], WireError> {
        let available = self.data.len();
        self.take(N)?.try_into().map_err(|_| WireError::Truncated {
            needed: N,
            available,
        })
    }

    /// Takes everything left.
    pub fn rest(&mut self) -> &'a [u8] {
        std::mem::take(&mut self.data)
    }

    /// Fails with [`WireError::TrailingBytes`] unless everything was consumed.
    pub fn finish(&self) -> Result<(), WireError> {
        if self.data.is_empty() {
            Ok(())
        } else {
            Err(WireError::TrailingBytes {
                extra: self.data.len(),
            })
        }
    }

    /// Reads a `u16` length and then that many bytes.
    pub fn u16_prefixed(&mut self) -> Result<&'a [u8], WireError> {
        let len = u16::decode(self)?;
        self.take(usize::from(len))
    }
}

/// An output buffer for encoding. Length prefixes that cannot hold their field are clamped
/// and recorded, so [`crate::Message::try_encode`] can refuse the result.
#[derive(Debug, Clone, Default)]
pub struct Writer {
    buf: Vec<u8>,
    overflow: bool,
}

impl Writer {
    /// An empty buffer.
    pub fn new() -> Writer {
        Writer::default()
    }

    /// Appends raw bytes.
    pub fn bytes(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// Bytes written so far.
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    /// Whether nothing was written.
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// The bytes written so far.
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf
    }

    /// Whether some length prefix had to be clamped.
    pub fn overflowed(&self) -> bool {
        self.overflow
    }

    /// Records that a field did not fit its length prefix.
    pub fn mark_overflow(&mut self) {
        self.overflow = true;
    }

    /// The bytes written.
    pub fn into_bytes(self) -> Vec<u8> {
        self.buf
    }

    /// Appends another writer's output (and its overflow flag).
    pub fn append(&mut self, other: Writer) {
        self.overflow |= other.overflow;
        self.buf.extend_from_slice(&other.buf);
    }

    /// Writes a `u16` count for `n` items, clamped to 65535; returns the count written.
    pub fn u16_count(&mut self, n: usize) -> usize {
        let count = u16::try_from(n).unwrap_or_else(|_| {
            self.overflow = true;
            u16::MAX
        });
        count.encode(self);
        usize::from(count)
    }

    /// Writes a `u16` length and the bytes (clamped to 65535 bytes).
    pub fn u16_prefixed(&mut self, bytes: &[u8]) {
        let n = self.u16_count(bytes.len());
        self.bytes(bytes.get(..n).unwrap_or(bytes));
    }
}

/// A type with a fixed wire encoding inside a message body.
pub trait Codec: Sized {
    /// Appends the encoding.
    fn encode(&self, w: &mut Writer);
    /// Reads one value.
    fn decode(r: &mut Reader<'_>) -> Result<Self, WireError>;
}

macro_rules! int_codec {
    ($($t:ty),*) => {$(
        impl Codec for $t {
            fn encode(&self, w: &mut Writer) {
                w.bytes(&self.to_be_bytes());
            }
            fn decode(r: &mut Reader<'_>) -> Result<Self, WireError> {
                Ok(<$t>::from_be_bytes(r.array()?))
            }
        }
    )*};
}
int_codec!(u8, u16, u32, u64, i8, i16, i32, i64);

impl<const N: usize> Codec for [u8; N] {
    fn encode(&self, w: &mut Writer) {
        w.bytes(self);
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, WireError> {
        r.array()
    }
}

/// Large fixed arrays (the 1366-byte onion) are boxed to keep messages small to move.
impl<const N: usize> Codec for Box<[u8; N]> {
    fn encode(&self, w: &mut Writer) {
        w.bytes(&self[..]);
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, WireError> {
        let bytes = r.take(N)?;
        let boxed: Box<[u8]> = bytes.into();
        boxed.try_into().map_err(|_| WireError::Truncated {
            needed: N,
            available: 0,
        })
    }
}

/// `u16` length followed by that many bytes (`len*byte`).
impl Codec for Vec<u8> {
    fn encode(&self, w: &mut Writer) {
        w.u16_prefixed(self);
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, WireError> {
        Ok(r.u16_prefixed()?.to_vec())
    }
}

/// A feature vector in a message body: `u16` length, then the big-endian bits (BOLT 9).
impl Codec for Features {
    fn encode(&self, w: &mut Writer) {
        w.u16_prefixed(&self.to_wire_bytes());
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, WireError> {
        Ok(Features::from_wire_bytes(r.u16_prefixed()?))
    }
}

/// `point`: a 33-byte compressed secp256k1 public key, validated on decode.
impl Codec for PublicKey {
    fn encode(&self, w: &mut Writer) {
        w.bytes(&self.serialize());
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, WireError> {
        let bytes: [u8; 33] = r.array()?;
        PublicKey::from_slice(&bytes).map_err(|_| WireError::InvalidPoint)
    }
}

impl Codec for ChainHash {
    fn encode(&self, w: &mut Writer) {
        w.bytes(self.as_ref());
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, WireError> {
        Ok(ChainHash::from(r.array::<32>()?))
    }
}

/// A transaction id in its internal byte order (the order inside serialized transactions;
/// reversed with respect to how explorers print it).
impl Codec for Txid {
    fn encode(&self, w: &mut Writer) {
        w.bytes(self.as_byte_array());
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, WireError> {
        Ok(Txid::from_byte_array(r.array()?))
    }
}

macro_rules! byte_newtype {
    ($(#[$meta:meta])* $name:ident, $len:literal) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub [u8; $len]);

        impl $name {
            /// The bytes.
            pub fn as_bytes(&self) -> &[u8; $len] {
                &self.0
            }
        }

        impl From<[u8; $len]> for $name {
            fn from(bytes: [u8; $len]) -> Self {
                $name(bytes)
            }
        }

        impl Codec for $name {
            fn encode(&self, w: &mut Writer) {
                w.bytes(&self.0);
            }
            fn decode(r: &mut Reader<'_>) -> Result<Self, WireError> {
                Ok($name(r.array()?))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&hex::encode(self.0))
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self)
            }
        }
    };
}

byte_newtype!(
    /// `channel_id` (BOLT 2 "Definition of `channel_id`"); all zeroes means "all channels" in
    /// `error` and `warning`. Also used for `temporary_channel_id`.
    ChannelId,
    32
);
byte_newtype!(
    /// `sha256`: a 32-byte SHA256 hash such as `payment_hash` (txids use [`Txid`]).
    Sha256,
    32
);
byte_newtype!(
    /// `signature`: a 64-byte compact ECDSA signature (`r || s`), kept as the bytes received;
    /// [`Signature::to_ecdsa`] parses it for verification.
    Signature,
    64
);

impl ChannelId {
    /// The all-zero id: "every channel" in `error`/`warning`.
    pub const ALL: ChannelId = ChannelId([0; 32]);

    /// The all-zero id ([`ChannelId::ALL`]).
    pub const fn all_zero() -> ChannelId {
        ChannelId::ALL
    }

    /// Whether this is the all-zero id.
    pub fn is_all_zero(&self) -> bool {
        self.0 == [0; 32]
    }

    /// The v1 channel id: the funding txid (internal byte order) with the output index XORed
    /// into its last two bytes, big-endian.
    pub fn v1(funding_txid: &Txid, funding_output_index: u16) -> ChannelId {
        let mut id = funding_txid.to_byte_array();
        let [hi, lo] = funding_output_index.to_be_bytes();
        id[30] ^= hi;
        id[31] ^= lo;
        ChannelId(id)
    }

    /// The v2 channel id: SHA256 of the two `revocation_basepoint`s, lesser (as serialized)
    /// first.
    pub fn v2(a: &PublicKey, b: &PublicKey) -> ChannelId {
        let (a, b) = (a.serialize(), b.serialize());
        let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
        let mut data = [0u8; 66];
        data[..33].copy_from_slice(&lo);
        data[33..].copy_from_slice(&hi);
        ChannelId(bitcoin::hashes::sha256::Hash::hash(&data).to_byte_array())
    }
}

impl Signature {
    /// The compact form of an ECDSA signature.
    pub fn from_ecdsa(sig: &secp256k1::ecdsa::Signature) -> Signature {
        Signature(sig.serialize_compact())
    }

    /// Parses the bytes as an ECDSA signature (fails if `r` or `s` is out of range).
    pub fn to_ecdsa(&self) -> Result<secp256k1::ecdsa::Signature, secp256k1::Error> {
        secp256k1::ecdsa::Signature::from_compact(&self.0)
    }
}

impl From<secp256k1::ecdsa::Signature> for Signature {
    fn from(sig: secp256k1::ecdsa::Signature) -> Signature {
        Signature::from_ecdsa(&sig)
    }
}

/// `short_channel_id` (BOLT 7): block height (3 bytes), transaction index (3 bytes) and output
/// index (2 bytes), big-endian; printed `BLOCKxTXxOUT`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct ShortChannelId(pub u64);

impl ShortChannelId {
    /// Builds an id; `None` if the block or transaction index needs more than 24 bits.
    pub fn new(block_height: u32, tx_index: u32, output_index: u16) -> Option<ShortChannelId> {
        if block_height >= 1 << 24 || tx_index >= 1 << 24 {
            return None;
        }
        Some(ShortChannelId(
            u64::from(block_height) << 40 | u64::from(tx_index) << 16 | u64::from(output_index),
        ))
    }

    /// The block height of the funding transaction.
    pub fn block_height(self) -> u32 {
        u32::try_from(self.0 >> 40).unwrap_or(u32::MAX)
    }

    /// The index of the funding transaction in its block.
    pub fn tx_index(self) -> u32 {
        u32::try_from((self.0 >> 16) & 0xff_ffff).unwrap_or(u32::MAX)
    }

    /// The funding output index.
    pub fn output_index(self) -> u16 {
        u16::try_from(self.0 & 0xffff).unwrap_or(u16::MAX)
    }
}

impl Codec for ShortChannelId {
    fn encode(&self, w: &mut Writer) {
        self.0.encode(w);
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, WireError> {
        Ok(ShortChannelId(u64::decode(r)?))
    }
}

impl fmt::Display for ShortChannelId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}x{}x{}",
            self.block_height(),
            self.tx_index(),
            self.output_index()
        )
    }
}

impl fmt::Debug for ShortChannelId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ShortChannelId({self})")
    }
}

/// A string that is not `BLOCKxTXxOUT`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid short channel id '{0}': expected BLOCKxTXxOUT")]
pub struct ShortChannelIdParseError(pub String);

impl FromStr for ShortChannelId {
    type Err = ShortChannelIdParseError;
    fn from_str(s: &str) -> Result<ShortChannelId, ShortChannelIdParseError> {
        let err = || ShortChannelIdParseError(s.to_string());
        let mut parts = s.split('x');
        let block = parts.next().and_then(|p| p.parse().ok()).ok_or_else(err)?;
        let tx = parts.next().and_then(|p| p.parse().ok()).ok_or_else(err)?;
        let out = parts.next().and_then(|p| p.parse().ok()).ok_or_else(err)?;
        if parts.next().is_some() {
            return Err(err());
        }
        ShortChannelId::new(block, tx, out).ok_or_else(err)
    }
}

/// A `u16` count of elements, then the elements (`num*type`), for the listed types.
macro_rules! counted_vec_codec {
    ($($t:ty),*) => {$(
        impl $crate::primitives::Codec for Vec<$t> {
            fn encode(&self, w: &mut $crate::primitives::Writer) {
                let n = w.u16_count(self.len());
                for item in self.iter().take(n) {
                    $crate::primitives::Codec::encode(item, w);
                }
            }
            fn decode(
               r: &mut $crate::primitives::Reader<'_>,
            ) -> ::core::result::Result<Self, $crate::error::WireError> {
                let n = <u16 as $crate::primitives::Codec>::decode(r)?;
                // Grow as elements actually decode: a claimed count never sizes an allocation.
                let mut out = Vec::new();
                for _ in 0..n {
                    out.push(<$t as $crate::primitives::Codec>::decode(r)?);
                }
                Ok(out)
            }
        }
    )*};
}
pub(crate) use counted_vec_codec;
counted_vec_codec!(Signature);

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

    use super::*;

    #[test]
    fn short_channel_id_parts() {
        let scid: ShortChannelId = "539268x845x1".parse().unwrap();
        assert_eq!(scid.block_height(), 539268);
        assert_eq!(scid.tx_index(), 845);
        assert_eq!(scid.output_index(), 1);
        assert_eq!(scid.to_string(), "539268x845x1");
        assert_eq!(ShortChannelId(0x226).to_string(), "0x0x550");
        assert!("1x2".parse::<ShortChannelId>().is_err());
        assert!("16777216x0x0".parse::<ShortChannelId>().is_err());
    }

    #[test]
    fn channel_id_v1_xors_output_index() {
        let txid = Txid::from_byte_array([0xff; 32]);
        let id = ChannelId::v1(&txid, 0x0102);
        assert_eq!(&id.0[28..], &[0xff, 0xff, 0xfe, 0xfd]);
    }

    #[test]
    fn reader_reports_truncation() {
        let mut r = Reader::new(&[1, 2, 3]);
        assert_eq!(
            r.take(4),
            Err(WireError::Truncated {
                needed: 4,
                available: 3
            })
        );
        assert_eq!(u16::decode(&mut r), Ok(0x0102));
        assert_eq!(r.finish(), Err(WireError::TrailingBytes { extra: 1 }));
    }

    #[test]
    fn points_are_validated() {
        let mut bad = [0u8; 33];
        bad[0] = 4;
        assert_eq!(
            PublicKey::decode(&mut Reader::new(&bad)),
            Err(WireError::InvalidPoint)
        );
    }

    #[test]
    fn counted_vec_does_not_trust_the_count() {
        let bytes = [0xff, 0xff, 0, 0];
        let got = Vec::<Signature>::decode(&mut Reader::new(&bytes));
        assert!(matches!(got, Err(WireError::Truncated { .. })));
    }
}
