//! Decoding and encoding errors, and what BOLT 1 ("Lightning Message Format") says a receiver
//! must do about each: close the connection, send a `warning`, or ignore the message.

use std::fmt;

/// What a receiver does with a message it could not decode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Consequence {
    /// Drop the message and carry on.
    Ignore,
    /// Send a `warning` (and drop the message); closing the connection is allowed but not
    /// required.
    Warn,
    /// Close the connection (BOLT 1: unknown even type, insufficient length, invalid
    /// extension). Channels MAY be failed as well.
    Disconnect,
}

impl fmt::Display for Consequence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Consequence::Ignore => "ignore",
            Consequence::Warn => "warn",
            Consequence::Disconnect => "disconnect",
        })
    }
}

/// A field, TLV stream or value that does not decode.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    /// The data ends before a field does ("insufficient length for the contents").
    #[error("unexpected end of data: needed {needed} bytes, {available} left")]
    Truncated {
        /// Bytes the field needs.
        needed: usize,
        /// Bytes that were left.
        available: usize,
    },
    /// A BigSize that could have been written in fewer bytes.
    #[error("bigsize is not minimally encoded")]
    NonCanonicalBigSize,
    /// A truncated integer (`tu16`/`tu32`/`tu64`) with a leading zero byte.
    #[error("truncated integer is not minimally encoded")]
    NonMinimalInteger,
    /// A truncated integer longer than its type allows.
    #[error("truncated integer of {len} bytes is longer than {max}")]
    IntegerTooLong {
        /// The value's length.
        len: usize,
        /// The type's size.
        max: usize,
    },
    /// 33 bytes that are not a compressed secp256k1 point.
    #[error("invalid point")]
    InvalidPoint,
    /// TLV types not strictly increasing (includes duplicates).
    #[error("tlv type {ty} after type {previous}: types must strictly increase")]
    TlvOrder {
        /// The type before.
        previous: u64,
        /// The offending type.
        ty: u64,
    },
    /// A TLV record whose length runs past the end of the stream.
    #[error("tlv type {ty} has length {length} but only {available} bytes remain")]
    TlvLengthExceeds {
        /// The record type.
        ty: u64,
        /// Its declared length.
        length: u64,
        /// Bytes left in the stream.
        available: usize,
    },
    /// A TLV record of an even type this stream does not know ("it's ok to be odd").
    #[error("unknown even tlv type {0}")]
    UnknownEvenTlv(u64),
    /// A known TLV record whose value does not decode.
    #[error("tlv type {ty}: {source}")]
    TlvValue {
        /// The record type.
        ty: u64,
        /// Why its value is invalid.
        source: Box<WireError>,
    },
    /// A fixed-size value followed by extra bytes.
    #[error("{extra} unexpected bytes after the value")]
    TrailingBytes {
        /// How many bytes were left over.
        extra: usize,
    },
    /// An array whose byte length is not a whole number of elements.
    #[error("array of {len} bytes is not a whole number of {size}-byte elements")]
    ArrayLength {
        /// The byte length.
        len: usize,
        /// The element size.
        size: usize,
    },
    /// A BOLT 7 `encoding_type` other than 0 (1 was zlib, which BOLT 7 now forbids).
    #[error("unsupported encoding type {0}")]
    UnsupportedEncoding(u8),
    /// A BOLT 7 address descriptor of a known type with the wrong length.
    #[error("address descriptor of type {kind} is truncated")]
    InvalidAddress {
        /// The descriptor type.
        kind: u8,
    },
}

impl WireError {
    /// The innermost error, looking through [`WireError::TlvValue`].
    pub fn root(&self) -> &WireError {
        match self {
            WireError::TlvValue { source, .. } => source.root(),
            other => other,
        }
    }

    pub(crate) fn in_tlv(ty: u64) -> impl FnOnce(WireError) -> WireError {
        move |e| WireError::TlvValue {
            ty,
            source: Box::new(e),
        }
    }
}

/// A message that cannot be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// Fewer than the 2 bytes of the message type.
    #[error("message shorter than its 2-byte type: disconnect")]
    MissingType,
    /// A message of an even type this node does not know (BOLT 1: MUST close the connection).
    #[error("unknown even message type {0}: disconnect")]
    UnknownEvenType(u16),
    /// A known message whose fields or extension do not decode.
    #[error("invalid {name} message (type {msg_type}): {error}: {consequence}")]
    Invalid {
        /// The message type.
        msg_type: u16,
        /// The message name, as the BOLTs spell it.
        name: &'static str,
        /// What is wrong.
        error: WireError,
        /// What to do about it.
        consequence: Consequence,
    },
}

impl DecodeError {
    /// What the receiver must do.
    pub fn consequence(&self) -> Consequence {
        match self {
            DecodeError::MissingType | DecodeError::UnknownEvenType(_) => Consequence::Disconnect,
            DecodeError::Invalid { consequence, .. } => *consequence,
        }
    }

    /// Builds [`DecodeError::Invalid`], choosing the consequence:
    ///
    /// * an unsupported BOLT 7 `encoding_type` (zlib): BOLT 7 says the receiver MAY send a
    ///   `warning` and MAY close, so [`Consequence::Warn`];
    /// * an invalid point or address descriptor inside gossip (types 256–511): BOLT 7 says
    ///   SHOULD send a `warning`, MAY close, MUST NOT process further, so
    ///   [`Consequence::Warn`];
    /// * anything else (truncation, bad extension, invalid fields in channel messages):
    ///   [`Consequence::Disconnect`], per BOLT 1.
    pub(crate) fn invalid(msg_type: u16, name: &'static str, error: WireError) -> DecodeError {
        let gossip = (256..512).contains(&msg_type);
        let consequence = match error.root() {
            WireError::UnsupportedEncoding(_) => Consequence::Warn,
            WireError::InvalidPoint | WireError::InvalidAddress { .. } if gossip => {
                Consequence::Warn
            }
            _ => Consequence::Disconnect,
        };
        DecodeError::Invalid {
            msg_type,
            name,
            error,
            consequence,
        }
    }
}

/// A message that cannot be put on the wire as it is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    /// A length-prefixed field holds more than its prefix can count (65535 for a `u16`,
    /// 255 for a DNS hostname's `u8`).
    #[error("a length-prefixed field is longer than its prefix allows")]
    FieldTooLong,
    /// The encoded message exceeds the 65535 bytes BOLT 8 can carry.
    #[error("encoded message is {0} bytes, more than 65535")]
    MessageTooLong(usize),
}
