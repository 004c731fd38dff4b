//! The node's root secret as Core Lightning stores it in `<lightning-dir>/<network>/hsm_secret`,
//! and the node identity hsmd derives from it.
//!
//! File forms (told apart the way CLN tells them apart, by length first):
//! - exactly 32 bytes: the legacy form; the bytes are the secret;
//! - exactly 73 bytes: CLN's legacy *encrypted* form; rejected (decrypt it with
//!   `lightning-hsmtool` first);
//! - 32 bytes of zeros followed by a BIP39 English mnemonic (ASCII words separated by single
//!   spaces, no trailing newline): the form CLN v25.12+ writes. The seed is BIP39's 64-byte
//!   seed with an empty passphrase, and the 32-byte secret is its first half;
//! - the same with a non-zero 32-byte prefix: the mnemonic was given a passphrase (the prefix
//!   is a hash of the resulting seed); rejected, as passphrases are not supported yet;
//! - anything shorter than 32 bytes: rejected.
//!
//! The node key is HKDF-SHA256 of the secret with info `"nodeid"` and a 4-byte
//! little-endian counter as salt, starting at 0 and incremented until the output is a valid
//! secp256k1 secret key.

use std::fmt;

use bitcoin_hashes::{sha256, Hash};
use secp256k1::{PublicKey, SecretKey};
use zeroize::{Zeroize, Zeroizing};

use crate::kdf::{hkdf_sha256, pbkdf2_hmac_sha512_64};

/// Length of the legacy plain `hsm_secret` and of the secret itself.
pub const HSM_SECRET_LEN: usize = 32;
/// Length of CLN's legacy encrypted `hsm_secret` (24-byte header, 32-byte secret, 17-byte tag).
pub const ENCRYPTED_HSM_SECRET_LEN: usize = 73;
/// Length of the prefix before the mnemonic: zeros, or a hash of the seed if a passphrase
/// was used.
const PASSPHRASE_HASH_LEN: usize = 32;
/// PBKDF2 rounds BIP39 uses to turn a mnemonic into a seed.
const BIP39_PBKDF2_ROUNDS: u32 = 2048;

/// Why the contents of an `hsm_secret` file were not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HsmSecretError {
    /// The mnemonic form with a non-zero prefix: the mnemonic has a passphrase.
    #[error("passphrase-protected hsm_secret is not supported yet")]
    PassphraseProtected,
    /// CLN's legacy 73-byte encrypted form.
    #[error(
        "encrypted hsm_secret (73 bytes) is not supported: decrypt it with \
         `lightning-hsmtool decrypt` first"
    )]
    Encrypted,
    /// Too short to be any known form.
    #[error(
        "hsm_secret is {0} bytes long: expected 32 bytes, or 32 zero bytes followed by a \
         BIP39 mnemonic"
    )]
    InvalidLength(usize),
    /// The mnemonic form whose mnemonic is malformed or fails BIP39 validation.
    #[error("hsm_secret ({len} bytes) does not hold a valid BIP39 mnemonic: {reason}")]
    InvalidMnemonic {
        /// Length of the whole file.
        len: usize,
        /// What is wrong with the mnemonic (never the mnemonic itself).
        reason: String,
    },
}

/// The node's root secret, read from (or generated for) an `hsm_secret` file.
///
/// Holds the secret material in memory that is zeroed on drop; [`fmt::Debug`] never prints
/// it.
pub struct HsmSecret {
    /// What CLN's hsmd is initialised with: the 32-byte secret (legacy form) or the 64-byte
    /// BIP39 seed (mnemonic form). The node secret is always its first 32 bytes.
    seed: Zeroizing<Vec<u8>>,
    /// The mnemonic, for the mnemonic form.
    mnemonic: Option<Zeroizing<String>>,
}

impl HsmSecret {
    /// Reads the contents of an `hsm_secret` file in any supported form (see the module
    /// documentation).
    pub fn from_file_bytes(bytes: &[u8]) -> Result<HsmSecret, HsmSecretError> {
        let len = bytes.len();
        if len < HSM_SECRET_LEN {
            return Err(HsmSecretError::InvalidLength(len));
        }
        if len == HSM_SECRET_LEN {
            return Ok(HsmSecret {
                seed: Zeroizing::new(bytes.to_vec()),
                mnemonic: None,
            });
        }
        if len == ENCRYPTED_HSM_SECRET_LEN {
            return Err(HsmSecretError::Encrypted);
        }
        let (prefix, phrase) = bytes.split_at(PASSPHRASE_HASH_LEN);
        if prefix.iter().any(|&b| b != 0) {
            return Err(HsmSecretError::PassphraseProtected);
        }
        let invalid = |reason: String| HsmSecretError::InvalidMnemonic { len, reason };
        let phrase = std::str::from_utf8(phrase)
            .ok()
            .filter(|p| is_single_spaced_lowercase_words(p))
            .ok_or_else(|| {
                invalid(
                    "words must be lower-case ASCII letters separated by single spaces, \
                     with no other characters"
                        .to_string(),
                )
            })?;
        bip39::Mnemonic::parse_in_normalized(bip39::Language::English, phrase)
            .map_err(|e| invalid(e.to_string()))?;
        Ok(HsmSecret::from_valid_phrase(phrase.to_string()))
    }

    /// A new secret in the mnemonic form, from 16 bytes of entropy (a 12-word mnemonic).
    /// Returns it with the bytes to write to the `hsm_secret` file: 32 zero bytes followed by
    /// the mnemonic, exactly as CLN writes it when no passphrase is given.
    ///
    /// The entropy must come from a cryptographically secure source.
    pub fn generate(entropy: [u8; 16]) -> (HsmSecret, Vec<u8>) {
        let phrase = mnemonic_from_entropy_128(&entropy);
        let mut file = Vec::with_capacity(PASSPHRASE_HASH_LEN + phrase.len());
        file.extend_from_slice(&[0u8; PASSPHRASE_HASH_LEN]);
        file.extend_from_slice(phrase.as_bytes());
        (HsmSecret::from_valid_phrase(phrase), file)
    }

    /// The secret for a BIP39 mnemonic already checked to be valid, with no passphrase.
    fn from_valid_phrase(phrase: String) -> HsmSecret {
        let phrase = Zeroizing::new(phrase);
        let mut seed = pbkdf2_hmac_sha512_64(phrase.as_bytes(), b"mnemonic", BIP39_PBKDF2_ROUNDS);
        let secret = HsmSecret {
            seed: Zeroizing::new(seed.to_vec()),
            mnemonic: Some(phrase),
        };
        seed.zeroize();
        secret
    }

    /// The 32-byte secret all of hsmd's key derivations start from.
    pub(crate) fn first_32_bytes(&self) -> &[u8] {
        self.secret()
    }

    /// The 32-byte secret all of hsmd's key derivations start from.
    fn secret(&self) -> &[u8] {
        // `seed` is 32 or 64 bytes by construction.
        self.seed.get(..HSM_SECRET_LEN).unwrap_or(&self.seed)
    }

    /// The seed CLN's hsmd is initialised with: the 32-byte secret for the legacy form, the
    /// full 64-byte BIP39 seed for the mnemonic form (whose length also selects CLN's BIP86
    /// wallet derivation).
    pub fn seed_bytes(&self) -> &[u8] {
        &self.seed
    }

    /// The node's secret key, derived as CLN's hsmd derives it.
    pub fn node_secret_key(&self) -> SecretKey {
        let mut counter: u32 = 0;
        let mut okm = Zeroizing::new([0u8; 32]);
        loop {
            hkdf_sha256(
                &counter.to_le_bytes(),
                self.secret(),
                b"nodeid",
                &mut okm[..],
            );
            if let Ok(key) = SecretKey::from_slice(&okm[..]) {
                return key;
            }
            // Fails with probability ~2^-128 per attempt; CLN retries with the next salt.
            counter = counter.wrapping_add(1);
        }
    }

    /// The node id: the compressed public key of [`Self::node_secret_key`].
    pub fn node_id(&self) -> PublicKey {
        let mut key = self.node_secret_key();
        let id = PublicKey::from_secret_key_global(&key);
        key.non_secure_erase();
        id
    }

    /// The BIP39 mnemonic, for a secret in the mnemonic form.
    pub fn mnemonic(&self) -> Option<&str> {
        self.mnemonic.as_deref().map(String::as_str)
    }
}

impl fmt::Debug for HsmSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HsmSecret")
            .field(
                "form",
                &if self.mnemonic.is_some() {
                    "mnemonic"
                } else {
                    "legacy"
                },
            )
            .field("secret", &"<redacted>")
            .finish()
    }
}

/// Whether `s` is one or more runs of `a`–`z` separated by single spaces.
fn is_single_spaced_lowercase_words(s: &str) -> bool {
    !s.is_empty()
        && s.split(' ')
            .all(|w| !w.is_empty() && w.bytes().all(|b| b.is_ascii_lowercase()))
}

/// The 12-word English BIP39 mnemonic for 128 bits of entropy: the entropy followed by the
/// first 4 bits of its SHA-256, read as twelve 11-bit word indices.
fn mnemonic_from_entropy_128(entropy: &[u8; 16]) -> String {
    let checksum = sha256::Hash::hash(entropy).to_byte_array()[0] >> 4;
    // 128 entropy bits then 4 checksum bits, as one 132-bit big-endian number.
    let bit = |i: usize| -> u16 {
        match entropy.get(i / 8) {
            Some(byte) => u16::from(byte >> (7 - i % 8)) & 1,
            None => u16::from(checksum >> (3 - (i - 128))) & 1,
        }
    };
    let words = bip39::Language::English.word_list();
    let mut phrase = String::with_capacity(12 * 9);
    for w in 0..12 {
        let index = (0..11).fold(0u16, |acc, j| (acc << 1) | bit(w * 11 + j));
        if w > 0 {
            phrase.push(' ');
        }
        phrase.push_str(words[usize::from(index)]);
    }
    phrase
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

    use super::*;

    #[test]
    fn mnemonic_encoding_matches_bip39_crate() {
        let mut entropy = [0u8; 16];
        for round in 0..64u8 {
            entropy
                .iter_mut()
                .enumerate()
                .for_each(|(i, b)| *b = round.wrapping_mul(37).wrapping_add(i as u8 * 11));
            if round == 1 {
                entropy = [0xff; 16];
            }
            let ours = mnemonic_from_entropy_128(&entropy);
            let theirs =
                bip39::Mnemonic::from_entropy_in(bip39::Language::English, &entropy).unwrap();
            assert_eq!(ours, theirs.to_string());
            let (secret, _) = HsmSecret::generate(entropy);
            assert_eq!(secret.seed_bytes(), &theirs.to_seed_normalized("")[..]);
        }
    }

    #[test]
    fn bip39_reference_vector() {
        // The first published BIP39 vector (entropy 00..00, passphrase "TREZOR").
        let (secret, file) = HsmSecret::generate([0u8; 16]);
        assert_eq!(
            secret.mnemonic(),
            Some(
                "abandon abandon abandon abandon abandon abandon abandon abandon abandon \
                 abandon abandon about"
            )
        );
        assert_eq!(&file[..32], &[0u8; 32]);
        assert_eq!(&file[32..], secret.mnemonic().unwrap().as_bytes());
        let seed = pbkdf2_hmac_sha512_64(
            secret.mnemonic().unwrap().as_bytes(),
            b"mnemonicTREZOR",
            BIP39_PBKDF2_ROUNDS,
        );
        assert_eq!(
            hex::encode(seed),
            "c55257c360c07c72029aebc1b53c05ed0362ada38ead3e3e9efa3708e53495531f09a6987599d18264c1e1c92f2cf141630c7a3c4ab7c81b2f001698e7463b04"
        );
    }

    #[test]
    fn secret_is_first_half_of_seed() {
        let (secret, _) = HsmSecret::generate([7u8; 16]);
        assert_eq!(secret.seed_bytes().len(), 64);
        assert_eq!(secret.secret(), &secret.seed_bytes()[..32]);
        let legacy = HsmSecret::from_file_bytes(&[9u8; 32]).unwrap();
        assert_eq!(legacy.seed_bytes(), &[9u8; 32]);
        assert_eq!(legacy.secret(), &[9u8; 32]);
        assert_eq!(legacy.mnemonic(), None);
    }

    #[test]
    fn word_format_check() {
        assert!(is_single_spaced_lowercase_words("abandon about"));
        assert!(!is_single_spaced_lowercase_words(""));
        assert!(!is_single_spaced_lowercase_words("abandon  about"));
        assert!(!is_single_spaced_lowercase_words(" abandon"));
        assert!(!is_single_spaced_lowercase_words("abandon "));
        assert!(!is_single_spaced_lowercase_words("abandon\nabout"));
        assert!(!is_single_spaced_lowercase_words("Abandon"));
    }
}
