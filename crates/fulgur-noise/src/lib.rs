//! BOLT 8 encrypted and authenticated transport, sans-IO.
//!
//! This crate implements `08-transport.md` of the Lightning specification:
//!
//! * "Authenticated Key Exchange Handshake Specification": the three-act
//!   `Noise_XK_secp256k1_ChaChaPoly_SHA256` handshake with the prologue
//!   `lightning`, for both roles ([`Initiator`], [`Responder`], and the
//!   byte-stream driver [`HandshakeStream`]).
//! * "Lightning Message Specification": framing of each message as an
//!   encrypted 2-byte length prefix with its MAC followed by the encrypted body
//!   with its MAC ([`Transport`], [`Encryptor`], [`Decryptor`], and the
//!   byte-stream [`Decoder`]).
//! * "Lightning Message Key Rotation": sending and receiving keys are rotated
//!   separately every 1000 nonces (500 messages).
//!
//! The crate does no I/O and has no clock or random source: the caller reads
//! and writes the bytes, and passes in the ephemeral keys, which it must
//! generate with strong randomness for every connection.
//!
//! ```
//! use fulgur_noise::{Initiator, Responder};
//! use secp256k1::{SecretKey, SECP256K1};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let key = |b: u8| SecretKey::from_slice(&[b; 32]);
//! let responder_static = key(0x21)?;
//! let responder_id = responder_static.public_key(SECP256K1);
//!
//! let initiator = Initiator::new(key(0x11)?, responder_id, key(0x12)?);
//! let mut responder = Responder::new(responder_static, key(0x22)?);
//!
//! let act_two = responder.process_act_one(&initiator.act_one())?;
//! let (act_three, mut alice) = initiator.process_act_two(&act_two)?;
//! let (mut bob, alice_id) = responder.process_act_three(&act_three)?;
//! assert_eq!(alice_id, key(0x11)?.public_key(SECP256K1));
//!
//! let frame = alice.encrypt(b"hello")?;
//! let header: [u8; 18] = frame[..18].try_into()?;
//! let len = bob.decrypt_length(&header)?;
//! assert_eq!(len, 5);
//! assert_eq!(bob.decrypt_body(&frame[18..])?, b"hello");
//! # Ok(())
//! # }
//! ```

mod crypto;
mod decoder;
mod error;
mod handshake;
mod stream;
mod transport;

pub use decoder::Decoder;
pub use error::{Act, HandshakeError, TransportError};
pub use handshake::{Initiator, Responder};
pub use stream::{HandshakeComplete, HandshakeEvent, HandshakeStream, Progress};
pub use transport::{Decryptor, Encryptor, Transport};

/// Size of act one on the wire: version, ephemeral key and MAC.
pub const ACT_ONE_LEN: usize = 50;
/// Size of act two on the wire: version, ephemeral key and MAC.
pub const ACT_TWO_LEN: usize = 50;
/// Size of act three on the wire: version, encrypted static key with its MAC,
/// and the final MAC.
pub const ACT_THREE_LEN: usize = 66;
/// Size of a Poly1305 MAC.
pub const MAC_LEN: usize = 16;
/// Size of the encrypted length prefix of a frame, MAC included.
pub const LENGTH_HEADER_LEN: usize = 2 + MAC_LEN;
/// Largest message body allowed by BOLT 8.
pub const MAX_MESSAGE_LEN: usize = 65535;
/// Largest frame on the wire: `2 + 16 + 65535 + 16` bytes.
pub const MAX_FRAME_LEN: usize = LENGTH_HEADER_LEN + MAX_MESSAGE_LEN + MAC_LEN;
/// Number of nonces a transport key is used for before it is rotated.
pub const KEY_ROTATION_INTERVAL: u64 = 1000;
