//! BOLT 1 `bigsize` (Appendix A) and the truncated integers `tu16`, `tu32`, `tu64`
//! ("Fundamental Types"), both of which must be minimally encoded.

use crate::error::WireError;
use crate::primitives::{Codec, Reader, Writer};
use crate::tlv::TlvValue;

/// A BigSize: 1, 3, 5 or 9 bytes (`0xfd`/`0xfe`/`0xff` prefixes for 2/4/8 big-endian bytes);
/// decoding rejects encodings that are not minimal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct BigSize(pub u64);

impl BigSize {
    /// The encoded length of `value`.
    pub fn encoded_len(value: u64) -> usize {
        match value {
            0..=0xfc => 1,
            0xfd..=0xffff => 3,
            0x1_0000..=0xffff_ffff => 5,
            _ => 9,
        }
    }
}

/// Appends `value` as a BigSize.
pub fn write_bigsize(w: &mut Writer, value: u64) {
    match (
        u8::try_from(value),
        u16::try_from(value),
        u32::try_from(value),
    ) {
        (Ok(small), _, _) if small < 0xfd => w.bytes(&[small]),
        (_, Ok(v16), _) => {
            w.bytes(&[0xfd]);
            w.bytes(&v16.to_be_bytes());
        }
        (_, _, Ok(v32)) => {
            w.bytes(&[0xfe]);
            w.bytes(&v32.to_be_bytes());
        }
        _ => {
            w.bytes(&[0xff]);
            w.bytes(&value.to_be_bytes());
        }
    }
}

/// Reads a BigSize. No bytes at all is `Truncated { needed: 1, available: 0 }` (the
/// spec's "EOF"); a cut-off multi-byte form is `Truncated` with what was left ("unexpected
/// EOF"); a non-minimal form is [`WireError::NonCanonicalBigSize`].
pub fn read_bigsize(r: &mut Reader<'_>) -> Result<u64, WireError> {
    let value = match u8::decode(r)? {
        0xfd => {
            let v = u64::from(u16::decode(r)?);
            (v >= 0xfd).then_some(v)
        }
        0xfe => {
            let v = u64::from(u32::decode(r)?);
            (v >= 0x1_0000).then_some(v)
        }
        0xff => {
            let v = u64::decode(r)?;
            (v >= 0x1_0000_0000).then_some(v)
        }
        small => Some(u64::from(small)),
    };
    value.ok_or(WireError::NonCanonicalBigSize)
}

impl Codec for BigSize {
    fn encode(&self, w: &mut Writer) {
        write_bigsize(w, self.0);
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, WireError> {
        read_bigsize(r).map(BigSize)
    }
}

/// A TLV value that is exactly one BigSize.
impl TlvValue for BigSize {
    fn encode_value(&self, w: &mut Writer) {
        self.encode(w);
    }
    fn decode_value(value: &[u8]) -> Result<Self, WireError> {
        let mut r = Reader::new(value);
        let v = BigSize::decode(&mut r)?;
        r.finish()?;
        Ok(v)
    }
}

/// Writes `value` without its leading zero bytes (zero is written as nothing).
fn write_truncated(w: &mut Writer, be: &[u8]) {
    let start = be.iter().position(|b| *b != 0).unwrap_or(be.len());
    w.bytes(be.get(start..).unwrap_or_default());
}

/// Reads a truncated integer of at most `max` bytes, rejecting a leading zero byte.
fn read_truncated(value: &[u8], max: usize) -> Result<u64, WireError> {
    if value.len() > max {
        return Err(WireError::IntegerTooLong {
            len: value.len(),
            max,
        });
    }
    if value.first() == Some(&0) {
        return Err(WireError::NonMinimalInteger);
    }
    Ok(value.iter().fold(0u64, |acc, b| acc << 8 | u64::from(*b)))
}

macro_rules! truncated_int {
    ($(#[$meta:meta])* $name:ident, $t:ty) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
        pub struct $name(pub $t);

        /// The whole TLV value is the integer, minimally encoded.
        impl TlvValue for $name {
            fn encode_value(&self, w: &mut Writer) {
                write_truncated(w, &self.0.to_be_bytes());
            }
            fn decode_value(value: &[u8]) -> Result<Self, WireError> {
                let v = read_truncated(value, std::mem::size_of::<$t>())?;
                <$t>::try_from(v).map($name).map_err(|_| WireError::IntegerTooLong {
                    len: value.len(),
                    max: std::mem::size_of::<$t>(),
                })
            }
        }

        impl From<$t> for $name {
            fn from(v: $t) -> Self {
                $name(v)
            }
        }
    };
}

truncated_int!(
    /// `tu16`: a 0-to-2-byte truncated unsigned integer (the final value of a TLV record).
    Tu16,
    u16
);
truncated_int!(
    /// `tu32`: a 0-to-4-byte truncated unsigned integer.
    Tu32,
    u32
);
truncated_int!(
    /// `tu64`: a 0-to-8-byte truncated unsigned integer.
    Tu64,
    u64
);

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

    use super::*;
    use proptest::prelude::*;

    #[test]
    fn truncated_integers_are_minimal() {
        assert_eq!(Tu64::decode_value(&[]), Ok(Tu64(0)));
        assert_eq!(Tu64::decode_value(&[1, 0]), Ok(Tu64(256)));
        assert_eq!(
            Tu64::decode_value(&[0, 1]),
            Err(WireError::NonMinimalInteger)
        );
        assert_eq!(
            Tu16::decode_value(&[1, 0, 0]).unwrap_err(),
            WireError::IntegerTooLong { len: 3, max: 2 }
        );
        let mut w = Writer::new();
        Tu32(0).encode_value(&mut w);
        assert!(w.is_empty());
        Tu32(0x0100).encode_value(&mut w);
        assert_eq!(w.as_bytes(), &[1, 0]);
    }

    proptest! {
        #[test]
        fn bigsize_round_trip(v in any::<u64>()) {
            let mut w = Writer::new();
            write_bigsize(&mut w, v);
            prop_assert_eq!(w.len(), BigSize::encoded_len(v));
            let mut r = Reader::new(w.as_bytes());
            prop_assert_eq!(read_bigsize(&mut r), Ok(v));
            prop_assert!(r.is_empty());
        }

        #[test]
        fn tu64_round_trip(v in any::<u64>()) {
            let mut w = Writer::new();
            Tu64(v).encode_value(&mut w);
            prop_assert_eq!(Tu64::decode_value(w.as_bytes()), Ok(Tu64(v)));
        }

        #[test]
        fn tu16_round_trip(v in any::<u16>()) {
            let mut w = Writer::new();
            Tu16(v).encode_value(&mut w);
            prop_assert_eq!(Tu16::decode_value(w.as_bytes()), Ok(Tu16(v)));
        }
    }
}
