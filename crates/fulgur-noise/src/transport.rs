//! BOLT 8 "Lightning Message Specification" and "Lightning Message Key
//! Rotation": encrypting and decrypting framed messages once the handshake is
//! done.

use std::fmt;

use zeroize::Zeroize;

use crate::crypto::{self, Bytes32};
use crate::error::TransportError;
use crate::{KEY_ROTATION_INTERVAL, LENGTH_HEADER_LEN, MAC_LEN};

/// One direction's key, chaining key and nonce.
struct CipherState {
    key: Bytes32,
    chaining_key: Bytes32,
    nonce: u64,
}

impl CipherState {
    fn new(key: Bytes32, chaining_key: Bytes32) -> Self {
        CipherState {
            key,
            chaining_key,
            nonce: 0,
        }
    }

    /// Counts one use of the current nonce, rotating the key once the nonce
    /// reaches 1000: `ck', k' = HKDF(ck, k)`, then `n = 0`.
    fn advance(&mut self) {
        self.nonce += 1;
        if self.nonce == KEY_ROTATION_INTERVAL {
            let (chaining_key, key) = crypto::hkdf(&self.chaining_key, &self.key);
            self.chaining_key.zeroize();
            self.key.zeroize();
            self.chaining_key = chaining_key;
            self.key = key;
            self.nonce = 0;
        }
    }

    fn seal(&mut self, buf: &mut [u8]) -> Result<[u8; MAC_LEN], TransportError> {
        let mac = crypto::seal(&self.key, self.nonce, &[], buf)
            .map_err(|_| TransportError::EncryptionFailed)?;
        self.advance();
        Ok(mac)
    }

    /// Decrypts in place. The nonce is consumed whether or not the MAC
    /// verifies; callers poison themselves on failure anyway.
    fn open(&mut self, buf: &mut [u8], mac: &[u8; MAC_LEN]) -> bool {
        let ok = crypto::open(&self.key, self.nonce, &[], buf, mac).is_ok();
        self.advance();
        ok
    }
}

impl Drop for CipherState {
    fn drop(&mut self) {
        self.key.zeroize();
        self.chaining_key.zeroize();
    }
}

impl fmt::Debug for CipherState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CipherState")
            .field("nonce", &self.nonce)
            .finish_non_exhaustive()
    }
}

/// The sending half of a transport: encrypts messages into frames.
#[derive(Debug)]
pub struct Encryptor {
    cipher: CipherState,
    poisoned: bool,
}

impl Encryptor {
    /// Encrypts `message` into a new frame: encrypted 2-byte big-endian
    /// length, its MAC, the encrypted message and its MAC.
    ///
    /// Fails without using a nonce if `message` is longer than 65535 bytes.
    pub fn encrypt(&mut self, message: &[u8]) -> Result<Vec<u8>, TransportError> {
        let mut frame = Vec::new();
        self.encrypt_into(message, &mut frame)?;
        Ok(frame)
    }

    /// Appends the frame for `message` to `out`, encrypting in place there so
    /// the caller can reuse one buffer for many frames.
    ///
    /// Fails without using a nonce, and leaves `out` untouched, if `message`
    /// is longer than 65535 bytes.
    pub fn encrypt_into(
        &mut self,
        message: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<(), TransportError> {
        if self.poisoned {
            return Err(TransportError::Poisoned);
        }
        // BOLT 8: a message must not exceed 65535 bytes, the u16 range.
        let len = u16::try_from(message.len())
            .map_err(|_| TransportError::FrameTooLong { len: message.len() })?;
        let start = out.len();
        out.reserve(LENGTH_HEADER_LEN + message.len() + MAC_LEN);
        let result = self.append_frame(len, message, out, start);
        if result.is_err() {
            // Only reachable if the AEAD refused a short input. The nonce may
            // have moved, so this side cannot be used again.
            out.truncate(start);
            self.poisoned = true;
        }
        result
    }

    fn append_frame(
        &mut self,
        len: u16,
        message: &[u8],
        out: &mut Vec<u8>,
        start: usize,
    ) -> Result<(), TransportError> {
        out.extend_from_slice(&len.to_be_bytes());
        let mac = self.cipher.seal(&mut out[start..])?;
        out.extend_from_slice(&mac);
        let body_start = out.len();
        out.extend_from_slice(message);
        let mac = self.cipher.seal(&mut out[body_start..])?;
        out.extend_from_slice(&mac);
        Ok(())
    }
}

/// Where a [`Decryptor`] is in the length-then-body sequence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DecryptState {
    AwaitingLength,
    AwaitingBody(u16),
    Poisoned,
}

/// The receiving half of a transport: decrypts a frame's length prefix, then
/// its body.
///
/// For a byte stream of unknown chunking, wrap it in a
/// [`Decoder`](crate::Decoder). After any error every call returns
/// [`TransportError::Poisoned`].
#[derive(Debug)]
pub struct Decryptor {
    cipher: CipherState,
    state: DecryptState,
}

impl Decryptor {
    /// Decrypts the 18-byte length prefix of the next frame and returns the
    /// length of the body that follows (without its 16-byte MAC).
    pub fn decrypt_length(
        &mut self,
        header: &[u8; LENGTH_HEADER_LEN],
    ) -> Result<u16, TransportError> {
        match self.state {
            DecryptState::AwaitingLength => {}
            DecryptState::AwaitingBody(len) => {
                return Err(self.poison(TransportError::LengthWithoutBody { len }))
            }
            DecryptState::Poisoned => return Err(TransportError::Poisoned),
        }
        let mut len = [header[0], header[1]];
        let mut mac = [0u8; MAC_LEN];
        mac.copy_from_slice(&header[2..]);
        if !self.cipher.open(&mut len, &mac) {
            return Err(self.poison(TransportError::LengthMac));
        }
        let len = u16::from_be_bytes(len);
        self.state = DecryptState::AwaitingBody(len);
        Ok(len)
    }

    /// Decrypts a frame body: exactly the announced length plus 16 MAC bytes.
    pub fn decrypt_body(&mut self, body: &[u8]) -> Result<Vec<u8>, TransportError> {
        self.check_body_len(body.len())?;
        let mut buf = body.to_vec();
        self.open_body(&mut buf)?;
        Ok(buf)
    }

    /// Decrypts a frame body in place: `body` holds the announced length plus
    /// 16 MAC bytes and is left holding only the plaintext.
    pub fn decrypt_body_in_place(&mut self, body: &mut Vec<u8>) -> Result<(), TransportError> {
        self.check_body_len(body.len())?;
        self.open_body(body)
    }

    /// Whether an error has made this decryptor unusable.
    pub fn is_poisoned(&self) -> bool {
        self.state == DecryptState::Poisoned
    }

    /// The body length announced by the last decrypted prefix, if its body is
    /// still awaited.
    pub fn pending_body_len(&self) -> Option<u16> {
        match self.state {
            DecryptState::AwaitingBody(len) => Some(len),
            _ => None,
        }
    }

    fn check_body_len(&mut self, got: usize) -> Result<(), TransportError> {
        match self.state {
            DecryptState::AwaitingBody(len) => {
                let expected = usize::from(len) + MAC_LEN;
                if got == expected {
                    Ok(())
                } else {
                    Err(self.poison(TransportError::BodyLength { expected, got }))
                }
            }
            DecryptState::AwaitingLength => Err(self.poison(TransportError::BodyWithoutLength)),
            DecryptState::Poisoned => Err(TransportError::Poisoned),
        }
    }

    /// Decrypts `buf` (length already checked) and drops its MAC.
    fn open_body(&mut self, buf: &mut Vec<u8>) -> Result<(), TransportError> {
        let split = buf.len().saturating_sub(MAC_LEN);
        let mut mac = [0u8; MAC_LEN];
        mac.copy_from_slice(&buf[split..]);
        buf.truncate(split);
        if !self.cipher.open(buf, &mac) {
            buf.zeroize();
            buf.clear();
            return Err(self.poison(TransportError::BodyMac));
        }
        self.state = DecryptState::AwaitingLength;
        Ok(())
    }

    fn poison(&mut self, error: TransportError) -> TransportError {
        self.state = DecryptState::Poisoned;
        error
    }
}

/// An established BOLT 8 session: encrypts outgoing messages and decrypts
/// incoming ones, rotating each direction's key every 1000 nonces.
///
/// Use [`Transport::split`] to read and write from different tasks.
#[derive(Debug)]
pub struct Transport {
    encryptor: Encryptor,
    decryptor: Decryptor,
}

impl Transport {
    /// Builds a transport from the keys a handshake ends with: the final
    /// chaining key (which starts both `sck` and `rck`) and the sending and
    /// receiving keys, with both nonces at 0.
    ///
    /// Normal code gets its transport from [`Initiator`](crate::Initiator)
    /// or [`Responder`](crate::Responder); this is for tests and tools.
    pub fn from_keys(
        chaining_key: [u8; 32],
        sending_key: [u8; 32],
        receiving_key: [u8; 32],
    ) -> Self {
        Transport {
            encryptor: Encryptor {
                cipher: CipherState::new(sending_key, chaining_key),
                poisoned: false,
            },
            decryptor: Decryptor {
                cipher: CipherState::new(receiving_key, chaining_key),
                state: DecryptState::AwaitingLength,
            },
        }
    }

    /// Encrypts `message` into a new frame; see [`Encryptor::encrypt`].
    pub fn encrypt(&mut self, message: &[u8]) -> Result<Vec<u8>, TransportError> {
        self.encryptor.encrypt(message)
    }

    /// Appends the frame for `message` to `out`; see
    /// [`Encryptor::encrypt_into`].
    pub fn encrypt_into(
        &mut self,
        message: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<(), TransportError> {
        self.encryptor.encrypt_into(message, out)
    }

    /// Decrypts the next frame's length prefix; see
    /// [`Decryptor::decrypt_length`].
    pub fn decrypt_length(
        &mut self,
        header: &[u8; LENGTH_HEADER_LEN],
    ) -> Result<u16, TransportError> {
        self.decryptor.decrypt_length(header)
    }

    /// Decrypts a frame body; see [`Decryptor::decrypt_body`].
    pub fn decrypt_body(&mut self, body: &[u8]) -> Result<Vec<u8>, TransportError> {
        self.decryptor.decrypt_body(body)
    }

    /// Splits the transport into independent sending and receiving halves.
    pub fn split(self) -> (Encryptor, Decryptor) {
        (self.encryptor, self.decryptor)
    }
}
