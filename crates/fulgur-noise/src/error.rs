//! Errors of the BOLT 8 handshake and transport.

use std::fmt;

use crate::{ACT_ONE_LEN, ACT_THREE_LEN, ACT_TWO_LEN};

/// One of the three acts of the BOLT 8 handshake.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Act {
    /// Act one, `-> e, es`, sent by the initiator.
    One,
    /// Act two, `<- e, ee`, sent by the responder.
    Two,
    /// Act three, `-> s, se`, sent by the initiator.
    Three,
}

impl Act {
    /// The act's number, 1 to 3.
    pub fn number(self) -> u8 {
        match self {
            Act::One => 1,
            Act::Two => 2,
            Act::Three => 3,
        }
    }

    /// The act's exact size on the wire.
    pub fn wire_len(self) -> usize {
        match self {
            Act::One => ACT_ONE_LEN,
            Act::Two => ACT_TWO_LEN,
            Act::Three => ACT_THREE_LEN,
        }
    }
}

impl fmt::Display for Act {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "act {}", self.number())
    }
}

/// Why a BOLT 8 handshake failed. The connection must then be closed without
/// sending anything more.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HandshakeError {
    /// The act's leading version byte is not 0.
    #[error("{act}: bad version byte {version}")]
    BadVersion {
        /// The act that carried it.
        act: Act,
        /// The version byte received.
        version: u8,
    },
    /// Act one or two carried bytes that are not a valid compressed
    /// secp256k1 public key where the ephemeral key belongs.
    #[error("{act}: invalid ephemeral key")]
    InvalidEphemeralKey {
        /// The act that carried it.
        act: Act,
    },
    /// Act three decrypted to bytes that are not a valid compressed
    /// secp256k1 public key where the initiator's static key belongs.
    #[error("act 3: invalid static key")]
    InvalidStaticKey,
    /// The MAC closing an act did not verify. In act one this means the
    /// initiator does not know our static key.
    #[error("{act}: MAC check failed")]
    BadMac {
        /// The act whose MAC failed.
        act: Act,
    },
    /// The MAC of the encrypted static key in act three did not verify.
    #[error("act 3: MAC check failed on the encrypted static key")]
    BadStaticKeyMac,
    /// The stream ended before the act was complete.
    #[error("{act}: short read, got {got} of {} bytes", act.wire_len())]
    Truncated {
        /// The act being read.
        act: Act,
        /// How many of its bytes had arrived.
        got: usize,
    },
    /// The act was handed to a handshake that is not waiting for it.
    #[error("{act}: not expected in the current handshake state")]
    OutOfOrder {
        /// The act that was handed in.
        act: Act,
    },
    /// The handshake already failed and cannot be used again.
    #[error("handshake already failed")]
    Aborted,
    /// The handshake already completed; further bytes belong to the transport.
    #[error("handshake already finished")]
    Finished,
}

impl HandshakeError {
    /// The act the error concerns, when there is one.
    pub fn act(&self) -> Option<Act> {
        match self {
            HandshakeError::BadVersion { act, .. }
            | HandshakeError::InvalidEphemeralKey { act }
            | HandshakeError::BadMac { act }
            | HandshakeError::Truncated { act, .. }
            | HandshakeError::OutOfOrder { act } => Some(*act),
            HandshakeError::InvalidStaticKey | HandshakeError::BadStaticKeyMac => Some(Act::Three),
            HandshakeError::Aborted | HandshakeError::Finished => None,
        }
    }
}

/// Why encrypting or decrypting a transport message failed.
///
/// After any decryption error the receiving side is unusable: every later
/// call returns [`TransportError::Poisoned`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransportError {
    /// The message handed to the encryptor is longer than 65535 bytes.
    #[error("frame length {len} exceeds 65535")]
    FrameTooLong {
        /// The refused message's length.
        len: usize,
    },
    /// The MAC of the encrypted length prefix did not verify.
    #[error("length prefix: MAC check failed")]
    LengthMac,
    /// The MAC of the encrypted message body did not verify.
    #[error("message body: MAC check failed")]
    BodyMac,
    /// The body handed in is not the size the length prefix announced.
    #[error("message body: expected {expected} bytes (message and 16-byte MAC), got {got}")]
    BodyLength {
        /// The announced length plus the MAC.
        expected: usize,
        /// The size handed in.
        got: usize,
    },
    /// A body was handed in before its length prefix was decrypted.
    #[error("message body: no length prefix was decrypted before it")]
    BodyWithoutLength,
    /// A length prefix was handed in while the previous message's body was
    /// still awaited.
    #[error("length prefix: the {len}-byte body of the previous message was not decrypted")]
    LengthWithoutBody {
        /// The length announced by the previous prefix.
        len: u16,
    },
    /// The ChaCha20-Poly1305 implementation refused to encrypt.
    #[error("encryption failed")]
    EncryptionFailed,
    /// An earlier error left this side of the transport unusable.
    #[error("transport unusable after an earlier error")]
    Poisoned,
}
