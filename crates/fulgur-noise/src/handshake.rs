//! BOLT 8 "Authenticated Key Exchange Handshake Specification": handshake
//! state initialization and the three acts, for the initiator and the
//! responder.

use std::fmt;

use secp256k1::{PublicKey, SecretKey, SECP256K1};
use zeroize::Zeroize;

use crate::crypto::{self, Bytes32};
use crate::error::{Act, HandshakeError};
use crate::transport::Transport;
use crate::{ACT_ONE_LEN, ACT_THREE_LEN, ACT_TWO_LEN, MAC_LEN};

/// The Noise protocol name hashed into the initial state.
const PROTOCOL_NAME: &[u8] = b"Noise_XK_secp256k1_ChaChaPoly_SHA256";
/// The prologue mixed into the handshake hash.
const PROLOGUE: &[u8] = b"lightning";
/// The only handshake version BOLT 8 defines.
const VERSION: u8 = 0;
/// Size of a compressed secp256k1 public key.
const PUBKEY_LEN: usize = 33;

/// The chaining key `ck` and the handshake hash `h`.
struct SymmetricState {
    chaining_key: Bytes32,
    hash: Bytes32,
}

impl SymmetricState {
    /// "Handshake State Initialization", ending with the responder's static
    /// key mixed into `h`.
    fn new(responder_static: &PublicKey) -> Self {
        let protocol_hash = crypto::sha256_concat(PROTOCOL_NAME, &[]);
        let mut state = SymmetricState {
            chaining_key: protocol_hash,
            hash: crypto::sha256_concat(&protocol_hash, PROLOGUE),
        };
        state.mix_hash(&responder_static.serialize());
        state
    }

    /// `h = SHA-256(h || data)`.
    fn mix_hash(&mut self, data: &[u8]) {
        self.hash = crypto::sha256_concat(&self.hash, data);
    }

    /// `ck, temp_k = HKDF(ck, shared_secret)`; returns `temp_k`.
    fn mix_key(&mut self, mut shared_secret: Bytes32) -> Bytes32 {
        let (chaining_key, temp_key) = crypto::hkdf(&self.chaining_key, &shared_secret);
        shared_secret.zeroize();
        self.chaining_key.zeroize();
        self.chaining_key = chaining_key;
        temp_key
    }

    /// `encryptWithAD(temp_k, 0, h, zero)` followed by `h = SHA-256(h || c)`.
    /// Returns the 16-byte MAC that is the whole ciphertext.
    fn seal_empty(&mut self, temp_key: &Bytes32) -> [u8; MAC_LEN] {
        // ChaCha20-Poly1305 only refuses inputs over 256 GiB. Should it ever
        // refuse the empty one, an all-zero MAC makes the peer fail the
        // handshake: we fail closed, with no secret leaked.
        let mac = crypto::seal(temp_key, 0, &self.hash, &mut []).unwrap_or_default();
        self.mix_hash(&mac);
        mac
    }

    /// `decryptWithAD(temp_k, 0, h, c)` for a zero-length plaintext, then
    /// `h = SHA-256(h || c)`.
    fn open_empty(
        &mut self,
        temp_key: &Bytes32,
        mac: &[u8; MAC_LEN],
        act: Act,
    ) -> Result<(), HandshakeError> {
        crypto::open(temp_key, 0, &self.hash, &mut [], mac)
            .map_err(|_| HandshakeError::BadMac { act })?;
        self.mix_hash(mac);
        Ok(())
    }

    /// The final `HKDF(ck, zero)`: the initiator's sending key first.
    fn split(&self) -> (Bytes32, Bytes32) {
        crypto::hkdf(&self.chaining_key, &[])
    }
}

impl Drop for SymmetricState {
    fn drop(&mut self) {
        self.chaining_key.zeroize();
        self.hash.zeroize();
    }
}

/// A handshake act split into its version byte, the 33 bytes of a public key
/// and the MAC.
struct KeyAct<'a> {
    version: u8,
    key: &'a [u8],
    mac: [u8; MAC_LEN],
}

impl<'a> KeyAct<'a> {
    fn parse(act: &'a [u8; ACT_ONE_LEN]) -> Self {
        let mut mac = [0u8; MAC_LEN];
        mac.copy_from_slice(&act[1 + PUBKEY_LEN..]);
        KeyAct {
            version: act[0],
            key: &act[1..1 + PUBKEY_LEN],
            mac,
        }
    }

    fn write(ephemeral: &PublicKey, mac: &[u8; MAC_LEN]) -> [u8; ACT_ONE_LEN] {
        let mut out = [0u8; ACT_ONE_LEN];
        out[0] = VERSION;
        out[1..1 + PUBKEY_LEN].copy_from_slice(&ephemeral.serialize());
        out[1 + PUBKEY_LEN..].copy_from_slice(mac);
        out
    }
}

/// The initiator's side of the handshake (the node that opened the
/// connection and knows the responder's node id).
///
/// Send [`Initiator::act_one`], then hand the 50 bytes the responder sends
/// back to [`Initiator::process_act_two`], which yields act three and the
/// transport.
pub struct Initiator {
    local_static: SecretKey,
    remote_static: PublicKey,
    ephemeral: SecretKey,
    state: SymmetricState,
    act_one: [u8; ACT_ONE_LEN],
}

impl Initiator {
    /// Starts a handshake with the node `remote_static`, using our node key
    /// `local_static` and a fresh, random `ephemeral` key that must never be
    /// reused. Act one (`-> e, es`) is computed here.
    pub fn new(local_static: SecretKey, remote_static: PublicKey, ephemeral: SecretKey) -> Self {
        let mut state = SymmetricState::new(&remote_static);
        let ephemeral_pub = ephemeral.public_key(SECP256K1);
        state.mix_hash(&ephemeral_pub.serialize());
        let temp_k1 = state.mix_key(crypto::ecdh(&ephemeral, &remote_static));
        let mac = state.seal_empty(&temp_k1);
        let act_one = KeyAct::write(&ephemeral_pub, &mac);
        Initiator {
            local_static,
            remote_static,
            ephemeral,
            state,
            act_one,
        }
    }

    /// The responder's static public key (node id) this handshake targets.
    pub fn remote_static(&self) -> PublicKey {
        self.remote_static
    }

    /// The 50 bytes of act one to send to the responder.
    pub fn act_one(&self) -> [u8; ACT_ONE_LEN] {
        self.act_one
    }

    /// Processes act two (`<- e, ee`) and produces act three (`-> s, se`),
    /// to be sent to the responder, and the established transport.
    pub fn process_act_two(
        mut self,
        act_two: &[u8; ACT_TWO_LEN],
    ) -> Result<([u8; ACT_THREE_LEN], Transport), HandshakeError> {
        let act = KeyAct::parse(act_two);
        if act.version != VERSION {
            return Err(HandshakeError::BadVersion {
                act: Act::Two,
                version: act.version,
            });
        }
        let remote_ephemeral = PublicKey::from_slice(act.key)
            .map_err(|_| HandshakeError::InvalidEphemeralKey { act: Act::Two })?;
        self.state.mix_hash(act.key);
        let mut temp_k2 = self
            .state
            .mix_key(crypto::ecdh(&self.ephemeral, &remote_ephemeral));
        self.state.open_empty(&temp_k2, &act.mac, Act::Two)?;

        // Act three: our static key, encrypted under temp_k2 with nonce 1.
        let mut out = [0u8; ACT_THREE_LEN];
        out[0] = VERSION;
        let (static_part, final_mac) = out[1..].split_at_mut(PUBKEY_LEN + MAC_LEN);
        let (static_key, static_mac) = static_part.split_at_mut(PUBKEY_LEN);
        static_key.copy_from_slice(&self.local_static.public_key(SECP256K1).serialize());
        // See `seal_empty` for why a refusal can only fail closed.
        let mac = crypto::seal(&temp_k2, 1, &self.state.hash, static_key).unwrap_or_default();
        temp_k2.zeroize();
        static_mac.copy_from_slice(&mac);
        self.state.mix_hash(static_part);
        let mut temp_k3 = self
            .state
            .mix_key(crypto::ecdh(&self.local_static, &remote_ephemeral));
        final_mac.copy_from_slice(&self.state.seal_empty(&temp_k3));
        temp_k3.zeroize();

        let (mut sending_key, mut receiving_key) = self.state.split();
        let transport = Transport::from_keys(self.state.chaining_key, sending_key, receiving_key);
        sending_key.zeroize();
        receiving_key.zeroize();
        Ok((out, transport))
    }
}

impl Drop for Initiator {
    fn drop(&mut self) {
        self.local_static.non_secure_erase();
        self.ephemeral.non_secure_erase();
    }
}

impl fmt::Debug for Initiator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Initiator").finish_non_exhaustive()
    }
}

/// Where a [`Responder`] is in the handshake.
enum ResponderState {
    AwaitingActOne(SymmetricState),
    AwaitingActThree {
        state: SymmetricState,
        temp_k2: Bytes32,
    },
    Failed,
}

/// The responder's side of the handshake (the node that accepted the
/// connection).
///
/// Hand the first 50 bytes received to [`Responder::process_act_one`] and send
/// the act two it returns, then hand the next 66 bytes to
/// [`Responder::process_act_three`], which yields the transport and the
/// initiator's node id. After an error the responder refuses further use.
pub struct Responder {
    local_static: SecretKey,
    ephemeral: SecretKey,
    state: ResponderState,
}

impl Responder {
    /// Prepares to accept a handshake, using our node key `local_static` and a
    /// fresh, random `ephemeral` key that must never be reused.
    pub fn new(local_static: SecretKey, ephemeral: SecretKey) -> Self {
        let state = SymmetricState::new(&local_static.public_key(SECP256K1));
        Responder {
            local_static,
            ephemeral,
            state: ResponderState::AwaitingActOne(state),
        }
    }

    /// Processes act one (`-> e, es`) and returns act two (`<- e, ee`), to
    /// be sent to the initiator.
    pub fn process_act_one(
        &mut self,
        act_one: &[u8; ACT_ONE_LEN],
    ) -> Result<[u8; ACT_TWO_LEN], HandshakeError> {
        let mut state = match std::mem::replace(&mut self.state, ResponderState::Failed) {
            ResponderState::AwaitingActOne(state) => state,
            ResponderState::AwaitingActThree { .. } => {
                return Err(HandshakeError::OutOfOrder { act: Act::One })
            }
            ResponderState::Failed => return Err(HandshakeError::Aborted),
        };
        let act = KeyAct::parse(act_one);
        if act.version != VERSION {
            return Err(HandshakeError::BadVersion {
                act: Act::One,
                version: act.version,
            });
        }
        let remote_ephemeral = PublicKey::from_slice(act.key)
            .map_err(|_| HandshakeError::InvalidEphemeralKey { act: Act::One })?;
        state.mix_hash(act.key);
        let mut temp_k1 = state.mix_key(crypto::ecdh(&self.local_static, &remote_ephemeral));
        let checked = state.open_empty(&temp_k1, &act.mac, Act::One);
        temp_k1.zeroize();
        checked?;

        let ephemeral_pub = self.ephemeral.public_key(SECP256K1);
        state.mix_hash(&ephemeral_pub.serialize());
        let temp_k2 = state.mix_key(crypto::ecdh(&self.ephemeral, &remote_ephemeral));
        let mac = state.seal_empty(&temp_k2);
        self.state = ResponderState::AwaitingActThree { state, temp_k2 };
        Ok(KeyAct::write(&ephemeral_pub, &mac))
    }

    /// Processes act three (`-> s, se`) and returns the established transport
    /// and the initiator's static public key (its node id).
    pub fn process_act_three(
        mut self,
        act_three: &[u8; ACT_THREE_LEN],
    ) -> Result<(Transport, PublicKey), HandshakeError> {
        let (mut state, mut temp_k2) =
            match std::mem::replace(&mut self.state, ResponderState::Failed) {
                ResponderState::AwaitingActThree { state, temp_k2 } => (state, temp_k2),
                ResponderState::AwaitingActOne(_) => {
                    return Err(HandshakeError::OutOfOrder { act: Act::Three })
                }
                ResponderState::Failed => return Err(HandshakeError::Aborted),
            };
        let version = act_three[0];
        if version != VERSION {
            temp_k2.zeroize();
            return Err(HandshakeError::BadVersion {
                act: Act::Three,
                version,
            });
        }
        let ciphertext = &act_three[1..1 + PUBKEY_LEN + MAC_LEN];
        let mut static_key = [0u8; PUBKEY_LEN];
        static_key.copy_from_slice(&ciphertext[..PUBKEY_LEN]);
        let mut static_mac = [0u8; MAC_LEN];
        static_mac.copy_from_slice(&ciphertext[PUBKEY_LEN..]);
        let mut final_mac = [0u8; MAC_LEN];
        final_mac.copy_from_slice(&act_three[1 + PUBKEY_LEN + MAC_LEN..]);

        let opened = crypto::open(&temp_k2, 1, &state.hash, &mut static_key, &static_mac);
        temp_k2.zeroize();
        opened.map_err(|_| HandshakeError::BadStaticKeyMac)?;
        state.mix_hash(ciphertext);
        let remote_static =
            PublicKey::from_slice(&static_key).map_err(|_| HandshakeError::InvalidStaticKey)?;
        let mut temp_k3 = state.mix_key(crypto::ecdh(&self.ephemeral, &remote_static));
        let checked = state.open_empty(&temp_k3, &final_mac, Act::Three);
        temp_k3.zeroize();
        checked?;

        let (mut receiving_key, mut sending_key) = state.split();
        let transport = Transport::from_keys(state.chaining_key, sending_key, receiving_key);
        sending_key.zeroize();
        receiving_key.zeroize();
        Ok((transport, remote_static))
    }
}

impl Drop for Responder {
    fn drop(&mut self) {
        self.local_static.non_secure_erase();
        self.ephemeral.non_secure_erase();
        if let ResponderState::AwaitingActThree { temp_k2, .. } = &mut self.state {
            temp_k2.zeroize();
        }
    }
}

impl fmt::Debug for Responder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let stage = match self.state {
            ResponderState::AwaitingActOne(_) => "awaiting act 1",
            ResponderState::AwaitingActThree { .. } => "awaiting act 3",
            ResponderState::Failed => "failed",
        };
        f.debug_struct("Responder")
            .field("stage", &stage)
            .finish_non_exhaustive()
    }
}
