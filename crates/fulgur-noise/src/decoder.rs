//! BOLT 8 "Receiving and Decrypting Messages" over a byte stream that
//! arrives in arbitrary chunks.

use crate::error::TransportError;
use crate::transport::Decryptor;
use crate::{LENGTH_HEADER_LEN, MAC_LEN};

/// Where the decoder is within the current frame.
#[derive(Debug)]
enum DecodeState {
    /// Collecting the 18-byte encrypted length prefix.
    Header { filled: usize },
    /// Collecting the body and its MAC; `buf` never grows past `expected`.
    Body { expected: usize, buf: Vec<u8> },
    /// An error occurred. It is reported once by `next_message`, then every
    /// call reports [`TransportError::Poisoned`].
    Failed(Option<TransportError>),
}

/// Turns an incoming byte stream into decrypted messages.
///
/// [`Decoder::feed`] takes bytes up to the end of the current frame and
/// returns how many it took; [`Decoder::next_message`] then yields the message
/// once its frame is complete. At most one frame is ever buffered: the 18-byte
/// prefix plus a body buffer sized to the announced length and its MAC, so
/// at most `18 + 65535 + 16` bytes.
///
/// ```
/// # use fulgur_noise::{Decoder, Transport, TransportError};
/// # fn main() -> Result<(), TransportError> {
/// # let mut alice = Transport::from_keys([1; 32], [2; 32], [3; 32]);
/// # let (_, bob_rx) = Transport::from_keys([1; 32], [3; 32], [2; 32]).split();
/// # let mut received = alice.encrypt(b"one")?;
/// # received.extend(alice.encrypt(b"two")?);
/// let mut decoder = Decoder::new(bob_rx);
/// let mut messages = Vec::new();
/// // `received` is whatever one read from the socket returned.
/// let mut input = &received[..];
/// while !input.is_empty() {
///     let used = decoder.feed(input);
///     input = &input[used..];
///     if let Some(message) = decoder.next_message()? {
///         messages.push(message);
///     }
/// }
/// assert_eq!(messages, [b"one".to_vec(), b"two".to_vec()]);
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct Decoder {
    decryptor: Decryptor,
    header: [u8; LENGTH_HEADER_LEN],
    state: DecodeState,
}

impl Decoder {
    /// Wraps the receiving half of a transport.
    pub fn new(decryptor: Decryptor) -> Self {
        Decoder {
            decryptor,
            header: [0; LENGTH_HEADER_LEN],
            state: DecodeState::Header { filled: 0 },
        }
    }

    /// Buffers bytes from `data` up to the end of the current frame and
    /// returns how many were taken. The rest must be fed again after
    /// [`Decoder::next_message`] has been called.
    ///
    /// Returns 0 when a complete frame is waiting to be collected with
    /// [`Decoder::next_message`], or after an error. The length prefix is
    /// decrypted here as soon as it is complete; an error doing so is
    /// reported by the next call to [`Decoder::next_message`].
    pub fn feed(&mut self, data: &[u8]) -> usize {
        let mut used = 0;
        loop {
            let rest = &data[used..];
            match &mut self.state {
                DecodeState::Header { filled } => {
                    let take = rest.len().min(LENGTH_HEADER_LEN - *filled);
                    self.header[*filled..*filled + take].copy_from_slice(&rest[..take]);
                    *filled += take;
                    used += take;
                    if *filled < LENGTH_HEADER_LEN {
                        return used;
                    }
                    self.state = match self.decryptor.decrypt_length(&self.header) {
                        Ok(len) => {
                            let expected = usize::from(len) + MAC_LEN;
                            DecodeState::Body {
                                expected,
                                buf: Vec::with_capacity(expected),
                            }
                        }
                        Err(error) => DecodeState::Failed(Some(error)),
                    };
                }
                DecodeState::Body { expected, buf } => {
                    let take = rest.len().min(*expected - buf.len());
                    buf.extend_from_slice(&rest[..take]);
                    return used + take;
                }
                DecodeState::Failed(_) => return used,
            }
        }
    }

    /// Returns the next message if its whole frame has been fed, `Ok(None)` if
    /// more bytes are needed, or the error that made the stream unusable.
    ///
    /// An incomplete frame is never an error. After an error, every call
    /// fails, with [`TransportError::Poisoned`] from the second call on.
    pub fn next_message(&mut self) -> Result<Option<Vec<u8>>, TransportError> {
        match &mut self.state {
            DecodeState::Header { .. } => Ok(None),
            DecodeState::Body { expected, buf } if buf.len() == *expected => {
                let mut body = std::mem::take(buf);
                self.state = DecodeState::Header { filled: 0 };
                match self.decryptor.decrypt_body_in_place(&mut body) {
                    Ok(()) => Ok(Some(body)),
                    Err(error) => {
                        self.state = DecodeState::Failed(None);
                        Err(error)
                    }
                }
            }
            DecodeState::Body { .. } => Ok(None),
            DecodeState::Failed(error) => Err(error.take().unwrap_or(TransportError::Poisoned)),
        }
    }

    /// How many more bytes the current part of the frame (prefix, or body
    /// and MAC) needs; 0 when a frame is complete or after an error. A good
    /// size for the next read.
    pub fn bytes_needed(&self) -> usize {
        match &self.state {
            DecodeState::Header { filled } => LENGTH_HEADER_LEN - filled,
            DecodeState::Body { expected, buf } => expected - buf.len(),
            DecodeState::Failed(_) => 0,
        }
    }

    /// How many bytes of the current frame are buffered.
    pub fn buffered(&self) -> usize {
        match &self.state {
            DecodeState::Header { filled } => *filled,
            DecodeState::Body { buf, .. } => LENGTH_HEADER_LEN + buf.len(),
            DecodeState::Failed(_) => 0,
        }
    }

    /// Whether an error has made the decoder unusable.
    pub fn is_poisoned(&self) -> bool {
        matches!(self.state, DecodeState::Failed(_))
    }

    /// The wrapped receiving half. Bytes of a partly fed frame are dropped,
    /// so this is only useful between frames.
    pub fn into_decryptor(self) -> Decryptor {
        self.decryptor
    }
}

impl From<Decryptor> for Decoder {
    fn from(decryptor: Decryptor) -> Self {
        Decoder::new(decryptor)
    }
}
