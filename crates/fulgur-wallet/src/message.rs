//! `signmessage` / `checkmessage`: CLN's (and lnd's) signed-message format.
//!
//! The node key signs `SHA256(SHA256("Lightning Signed Message:" || message))` with a
//! recoverable ECDSA signature (RFC 6979 nonce, as libsecp256k1's default, so signatures are
//! deterministic). `signmessage` returns the 64-byte compact signature in hex, the recovery
//! id as one hex byte, and `zbase`: z-base-32 of the byte `31 + recid` followed by the 64
//! bytes. `checkmessage` recovers the public key from `zbase`.
//!
//! CLN hashes the message exactly as its JSON token is written in the request (JSON escapes
//! are not decoded); the RPC layer must pass those bytes.

use bitcoin::hashes::{sha256d, Hash, HashEngine};
use bitcoin::secp256k1::ecdsa::{RecoverableSignature, RecoveryId};
use bitcoin::secp256k1::{Message, PublicKey, SecretKey, SECP256K1};

use crate::zbase32;

/// The prefix hashed before every message.
pub const MESSAGE_PREFIX: &[u8] = b"Lightning Signed Message:";

/// The longest message `signmessage` accepts (in bytes).
pub const MAX_MESSAGE_LEN: usize = 65535;

/// The result of `signmessage`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedMessage {
    /// The compact signature (r then s).
    pub signature: [u8; 64],
    /// The recovery id, 0 to 3.
    pub recid: u8,
    /// z-base-32 of `31 + recid` followed by `signature`.
    pub zbase: String,
}

impl SignedMessage {
    /// `signature` as CLN prints it: 128 hex digits.
    pub fn signature_hex(&self) -> String {
        hex::encode(self.signature)
    }

    /// `recid` as CLN prints it: 2 hex digits.
    pub fn recid_hex(&self) -> String {
        hex::encode([self.recid])
    }
}

/// The result of `checkmessage` before any graph lookup.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckedMessage {
    /// The key recovered from the signature; `None` if none could be (then `verified` is
    /// false).
    pub pubkey: Option<PublicKey>,
    /// Whether a `pubkey` was given and it is the recovered one. Without a given key CLN
    /// accepts the recovered key only if it is a node in the gossip graph: the caller checks
    /// that.
    pub verified: bool,
}

/// Why a message could not be signed or checked; all are CLN's invalid-parameter errors
/// (-32602), with its messages.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MessageError {
    /// The message is 64 KiB or longer.
    #[error("Message must be < 64k")]
    TooLong,
    /// `zbase` has characters outside the alphabet or a partial byte.
    #[error("zbase is not valid zbase32")]
    NotZbase32,
    /// `zbase` does not hold 65 bytes.
    #[error("zbase is too {}", if *.0 < 65 { "short" } else { "long" })]
    WrongLength(usize),
    /// The recovery byte or the signature is out of range.
    #[error("cannot parse zbase signature")]
    BadSignature,
}

impl MessageError {
    /// CLN's JSON-RPC code.
    pub fn code(&self) -> i32 {
        -32602
    }
}

/// The digest signed for `message`.
pub fn message_digest(message: &[u8]) -> [u8; 32] {
    let mut engine = sha256d::Hash::engine();
    engine.input(MESSAGE_PREFIX);
    engine.input(message);
    sha256d::Hash::from_engine(engine).to_byte_array()
}

/// Signs `message` with the node key, as `signmessage`.
pub fn sign_message(node_key: &SecretKey, message: &[u8]) -> Result<SignedMessage, MessageError> {
    if message.len() > MAX_MESSAGE_LEN {
        return Err(MessageError::TooLong);
    }
    let digest = Message::from_digest(message_digest(message));
    let (recid, signature) = SECP256K1
        .sign_ecdsa_recoverable(&digest, node_key)
        .serialize_compact();
    // A recovery id is 0..=3.
    let recid = u8::try_from(recid.to_i32()).unwrap_or(0);
    let mut zbase = [0u8; 65];
    zbase[0] = 31 + recid;
    zbase[1..].copy_from_slice(&signature);
    Ok(SignedMessage {
        signature,
        recid,
        zbase: zbase32::encode(&zbase),
    })
}

/// Checks a `zbase` signature of `message`, as `checkmessage`: recovers the signing key and,
/// if `pubkey` is given, compares it.
pub fn check_message(
    message: &[u8],
    zbase: &str,
    pubkey: Option<&PublicKey>,
) -> Result<CheckedMessage, MessageError> {
    let bytes = zbase32::decode(zbase).ok_or(MessageError::NotZbase32)?;
    let (&header, compact) = match bytes.split_first() {
        Some(split) if bytes.len() == 65 => split,
        _ => return Err(MessageError::WrongLength(bytes.len())),
    };
    let recid = header
        .checked_sub(31)
        .and_then(|r| RecoveryId::from_i32(i32::from(r)).ok())
        .ok_or(MessageError::BadSignature)?;
    let signature = RecoverableSignature::from_compact(compact, recid)
        .map_err(|_| MessageError::BadSignature)?;
    let digest = Message::from_digest(message_digest(message));
    Ok(match SECP256K1.recover_ecdsa(&digest, &signature) {
        Ok(recovered) => CheckedMessage {
            pubkey: Some(recovered),
            verified: pubkey == Some(&recovered),
        },
        Err(_) => CheckedMessage {
            pubkey: None,
            verified: false,
        },
    })
}
