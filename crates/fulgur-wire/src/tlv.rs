//! BOLT 1 "Type-Length-Value Format": TLV records and streams.
//!
//! A stream is a series of `bigsize type, bigsize length, value` records. When reading
//! ([`TlvReader`]):
//!
//! * types and lengths must be minimal BigSizes;
//! * types must strictly increase (so no duplicates);
//! * a length is checked against the bytes remaining *before* anything is allocated;
//! * a known type's value must decode to exactly its length ([`TlvValue`]);
//! * an unknown even type fails the stream, an unknown odd type is kept as a [`TlvRecord`]
//!   so re-encoding reproduces it (signatures over gossip cover these bytes).
//!
//! [`tlv_stream!`](crate::tlv_stream) declares a stream with its known records;
//! [`wire_struct!`](crate::wire_struct) declares a multi-field record value or subtype.

use fulgur_types::Features;

use crate::bigsize::{read_bigsize, write_bigsize};
use crate::error::WireError;
use crate::primitives::{
    ChainHash, ChannelId, Codec, PublicKey, Reader, Sha256, ShortChannelId, Signature, Txid, Writer,
};

/// The value of a TLV record of a known type: it owns all `length` bytes.
pub trait TlvValue: Sized {
    /// Appends the value (without type or length).
    fn encode_value(&self, w: &mut Writer);
    /// Decodes a value from exactly these bytes (leftover bytes are an error).
    fn decode_value(value: &[u8]) -> Result<Self, WireError>;
}

/// A field of a TLV stream struct: `Option<T>` for a record with data, `bool` for a record
/// whose presence is the information (zero-length value, e.g. `require_confirmed_inputs`).
pub trait TlvField: Default {
    /// Appends the whole record (type, length, value) if present.
    fn encode_record(&self, ty: u64, w: &mut Writer);
    /// Decodes the value of a record that is present.
    fn decode_record(value: &[u8]) -> Result<Self, WireError>;
}

impl<T: TlvValue> TlvField for Option<T> {
    fn encode_record(&self, ty: u64, w: &mut Writer) {
        if let Some(v) = self {
            let mut value = Writer::new();
            v.encode_value(&mut value);
            write_bigsize(w, ty);
            write_bigsize(w, u64::try_from(value.len()).unwrap_or(u64::MAX));
            w.append(value);
        }
    }
    fn decode_record(value: &[u8]) -> Result<Self, WireError> {
        T::decode_value(value).map(Some)
    }
}

impl TlvField for bool {
    fn encode_record(&self, ty: u64, w: &mut Writer) {
        if *self {
            write_bigsize(w, ty);
            write_bigsize(w, 0);
        }
    }
    fn decode_record(value: &[u8]) -> Result<Self, WireError> {
        Reader::new(value).finish().map(|()| true)
    }
}

/// A TLV record kept as bytes: an unknown odd record, or any record of a generic stream.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TlvRecord {
    /// The record type.
    pub ty: u64,
    /// The value bytes.
    pub value: Vec<u8>,
}

impl TlvRecord {
    /// Appends type, length and value.
    pub fn encode(&self, w: &mut Writer) {
        write_bigsize(w, self.ty);
        write_bigsize(w, u64::try_from(self.value.len()).unwrap_or(u64::MAX));
        w.bytes(&self.value);
    }
}

/// Reads the records of a TLV stream one by one, enforcing the BOLT 1 framing rules
/// (minimal BigSizes, strictly increasing types, lengths within the remaining bytes).
#[derive(Debug, Clone)]
pub struct TlvReader<'a> {
    r: Reader<'a>,
    previous: Option<u64>,
}

impl<'a> TlvReader<'a> {
    /// Starts reading a stream that fills `bytes`.
    pub fn new(bytes: &'a [u8]) -> TlvReader<'a> {
        TlvReader {
            r: Reader::new(bytes),
            previous: None,
        }
    }

    /// The next record's type and value, or `None` at the end of the stream.
    pub fn next_record(&mut self) -> Result<Option<(u64, &'a [u8])>, WireError> {
        if self.r.is_empty() {
            return Ok(None);
        }
        let ty = read_bigsize(&mut self.r)?;
        if let Some(previous) = self.previous {
            if ty <= previous {
                return Err(WireError::TlvOrder { previous, ty });
            }
        }
        self.previous = Some(ty);
        let length = read_bigsize(&mut self.r)?;
        let available = self.r.remaining();
        let len = usize::try_from(length)
            .ok()
            .filter(|len| *len <= available)
            .ok_or(WireError::TlvLengthExceeds {
                ty,
                length,
                available,
            })?;
        Ok(Some((ty, self.r.take(len)?)))
    }
}

/// Decodes a stream, handing each record to `known`, which returns `None` for types it does
/// not know. Unknown even types fail; unknown odd types are returned in order.
pub fn decode_stream_with(
    bytes: &[u8],
    mut known: impl FnMut(u64, &[u8]) -> Option<Result<(), WireError>>,
) -> Result<Vec<TlvRecord>, WireError> {
    let mut reader = TlvReader::new(bytes);
    let mut unknown = Vec::new();
    while let Some((ty, value)) = reader.next_record()? {
        match known(ty, value) {
            Some(result) => result.map_err(WireError::in_tlv(ty))?,
            None if ty % 2 == 0 => return Err(WireError::UnknownEvenTlv(ty)),
            None => unknown.push(TlvRecord {
                ty,
                value: value.to_vec(),
            }),
        }
    }
    Ok(unknown)
}

/// Writes the unknown records whose type is below `ty` (used by the generated encoders to
/// merge unknown records between known ones).
#[doc(hidden)]
pub fn write_unknown_before(
    unknown: &mut std::iter::Peekable<std::slice::Iter<'_, TlvRecord>>,
    ty: u64,
    w: &mut Writer,
) {
    while let Some(rec) = unknown.next_if(|r| r.ty < ty) {
        rec.encode(w);
    }
}

/// Decodes a stream without interpreting it: every record is returned, whatever its parity
/// (the caller decides which types it knows). Framing rules are enforced.
pub fn decode_raw_stream(bytes: &[u8]) -> Result<Vec<TlvRecord>, WireError> {
    let mut reader = TlvReader::new(bytes);
    let mut records = Vec::new();
    while let Some((ty, value)) = reader.next_record()? {
        records.push(TlvRecord {
            ty,
            value: value.to_vec(),
        });
    }
    Ok(records)
}

/// Encodes records in the order given (keep them sorted by type).
pub fn encode_raw_stream(records: &[TlvRecord]) -> Vec<u8> {
    let mut w = Writer::new();
    for rec in records {
        rec.encode(&mut w);
    }
    w.into_bytes()
}

/// Implements [`TlvValue`] for a type with a fixed-size [`Codec`]: the value must be exactly
/// that size.
macro_rules! tlv_value_via_codec {
    ($($t:ty),* $(,)?) => {$(
        impl TlvValue for $t {
            fn encode_value(&self, w: &mut Writer) {
                Codec::encode(self, w);
            }
            fn decode_value(value: &[u8]) -> Result<Self, WireError> {
                let mut r = Reader::new(value);
                let v = <$t as Codec>::decode(&mut r)?;
                r.finish()?;
                Ok(v)
            }
        }
    )*};
}
tlv_value_via_codec!(
    u8,
    u16,
    u32,
    u64,
    i8,
    i16,
    i32,
    i64,
    PublicKey,
    ChainHash,
    Txid,
    ChannelId,
    Sha256,
    Signature,
    ShortChannelId,
);

impl<const N: usize> TlvValue for [u8; N] {
    fn encode_value(&self, w: &mut Writer) {
        w.bytes(self);
    }
    fn decode_value(value: &[u8]) -> Result<Self, WireError> {
        let mut r = Reader::new(value);
        let v = r.array()?;
        r.finish()?;
        Ok(v)
    }
}

/// `...*byte`: the value is the bytes.
impl TlvValue for Vec<u8> {
    fn encode_value(&self, w: &mut Writer) {
        w.bytes(self);
    }
    fn decode_value(value: &[u8]) -> Result<Self, WireError> {
        Ok(value.to_vec())
    }
}

/// A feature vector filling the value (e.g. `channel_type`).
impl TlvValue for Features {
    fn encode_value(&self, w: &mut Writer) {
        w.bytes(&self.to_wire_bytes());
    }
    fn decode_value(value: &[u8]) -> Result<Self, WireError> {
        Ok(Features::from_wire_bytes(value))
    }
}

/// `...*chain_hash` (e.g. `init`'s `networks`).
impl TlvValue for Vec<ChainHash> {
    fn encode_value(&self, w: &mut Writer) {
        for c in self {
            c.encode(w);
        }
    }
    fn decode_value(value: &[u8]) -> Result<Self, WireError> {
        decode_array(value, 32)
    }
}

/// Decodes a value made of fixed-size elements, with no count: the length must be a whole
/// number of `size`-byte elements. Allocates only for elements present.
pub(crate) fn decode_array<T: Codec>(value: &[u8], size: usize) -> Result<Vec<T>, WireError> {
    if size == 0 || value.len() % size != 0 {
        return Err(WireError::ArrayLength {
            len: value.len(),
            size,
        });
    }
    let mut r = Reader::new(value);
    let mut out = Vec::with_capacity(value.len() / size);
    while !r.is_empty() {
        out.push(T::decode(&mut r)?);
    }
    Ok(out)
}

/// Large values are boxed to keep messages cheap to move.
impl<T: TlvValue> TlvValue for Box<T> {
    fn encode_value(&self, w: &mut Writer) {
        (**self).encode_value(w);
    }
    fn decode_value(value: &[u8]) -> Result<Self, WireError> {
        T::decode_value(value).map(Box::new)
    }
}

/// Declares a TLV stream: a struct with one field per known record (`Option<T>` with
/// `T: TlvValue`, or `bool` for an empty flag record) plus `unknown: Vec<TlvRecord>`, and
/// `decode`/`encode`. Known types must be listed in increasing order.
///
/// ```
/// fulgur_wire::tlv_stream! {
///     /// A stream with one record.
///     pub struct Example {
///         /// Type 1: an amount.
///         1 => amount: Option<fulgur_wire::Tu64>,
///         /// Type 3: a flag.
///         3 => flag: bool,
///     }
/// }
/// let s = Example::decode(&[1, 1, 42, 3, 0]).unwrap();
/// assert_eq!(s.amount, Some(fulgur_wire::Tu64(42)));
/// assert!(s.flag);
/// assert_eq!(s.encode(), vec![1, 1, 42, 3, 0]);
/// ```
#[macro_export]
macro_rules! tlv_stream {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident {
            $( $(#[$fmeta:meta])* $ty:literal => $field:ident : $fty:ty ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Default)]
        $vis struct $name {
            $( $(#[$fmeta])* pub $field: $fty, )*
            /// Unknown odd records, in type order.
            pub unknown: ::std::vec::Vec<$crate::TlvRecord>,
        }

        impl $name {
            /// Decodes a stream that fills `bytes`.
            pub fn decode(bytes: &[u8]) -> ::core::result::Result<Self, $crate::WireError> {
                $( let mut $field: $fty = ::core::default::Default::default(); )*
                let unknown = $crate::tlv::decode_stream_with(bytes, |ty, value| match ty {
                    $( $ty => Some(
                        <$fty as $crate::TlvField>::decode_record(value).map(|v| $field = v)
                    ), )*
                    _ => {
                        let _ = value;
                        None
                    }
                })?;
                Ok($name { $( $field, )* unknown })
            }

            /// Appends the stream, merging known and unknown records in type order.
            pub fn encode_to(&self, w: &mut $crate::Writer) {
                #[allow(unused_mut)]
                let mut unknown = self.unknown.iter().peekable();
                $(
                    $crate::tlv::write_unknown_before(&mut unknown, $ty, w);
                    <$fty as $crate::TlvField>::encode_record(&self.$field, $ty, w);
                )*
                for rec in unknown {
                    rec.encode(w);
                }
            }

            /// The encoded stream.
            pub fn encode(&self) -> ::std::vec::Vec<u8> {
                let mut w = $crate::Writer::new();
                self.encode_to(&mut w);
                w.into_bytes()
            }
        }
    };
}

/// Declares a struct whose encoding is its fields in order (a BOLT `subtype`, or a
/// multi-field TLV value). It implements [`Codec`] and [`TlvValue`] (where the fields must
/// fill the value exactly).
///
/// ```
/// fulgur_wire::wire_struct! {
///     /// Two amounts.
///     pub struct Range {
///         /// Low end.
///         pub min: u64,
///         /// High end.
///         pub max: u64,
///     }
/// }
/// use fulgur_wire::TlvValue;
/// let bytes = [0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 2];
/// assert_eq!(Range::decode_value(&bytes), Ok(Range { min: 1, max: 2 }));
/// ```
#[macro_export]
macro_rules! wire_struct {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident {
            $( $(#[$fmeta:meta])* $fvis:vis $field:ident : $fty:ty ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        $vis struct $name {
            $( $(#[$fmeta])* $fvis $field: $fty, )*
        }

        impl $crate::Codec for $name {
            fn encode(&self, w: &mut $crate::Writer) {
                $( $crate::Codec::encode(&self.$field, w); )*
            }
            fn decode(r: &mut $crate::Reader<'_>) -> ::core::result::Result<Self, $crate::WireError> {
                $( let $field = <$fty as $crate::Codec>::decode(r)?; )*
                Ok($name { $( $field, )* })
            }
        }

        impl $crate::TlvValue for $name {
            fn encode_value(&self, w: &mut $crate::Writer) {
                $crate::Codec::encode(self, w);
            }
            fn decode_value(value: &[u8]) -> ::core::result::Result<Self, $crate::WireError> {
                let mut r = $crate::Reader::new(value);
                let v = <$name as $crate::Codec>::decode(&mut r)?;
                r.finish()?;
                Ok(v)
            }
        }
    };
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

    use super::*;

    #[test]
    fn reader_checks_length_before_taking() {
        let mut r = TlvReader::new(&[1, 0xfe, 0xff, 0xff, 0xff, 0xff]);
        assert_eq!(
            r.next_record(),
            Err(WireError::TlvLengthExceeds {
                ty: 1,
                length: 0xffff_ffff,
                available: 0
            })
        );
    }

    #[test]
    fn raw_stream_round_trip() {
        let bytes = [0, 1, 7, 2, 0, 0xfd, 0x01, 0x00, 1, 9];
        let records = decode_raw_stream(&bytes).unwrap();
        assert_eq!(records.len(), 3);
        assert_eq!(encode_raw_stream(&records), bytes.to_vec());
        assert!(decode_raw_stream(&[2, 0, 2, 0]).is_err());
    }

    #[test]
    fn flag_records_must_be_empty() {
        assert_eq!(bool::decode_record(&[]), Ok(true));
        assert_eq!(
            bool::decode_record(&[0]),
            Err(WireError::TrailingBytes { extra: 1 })
        );
    }
}
