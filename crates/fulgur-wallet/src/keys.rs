//! The wallet's keys, derived from `hsm_secret` exactly as Core Lightning's hsmd derives them,
//! so an operator's existing CLN `hsm_secret` gives the same addresses.
//!
//! - **Mnemonic form** (64-byte BIP39 seed): the BIP32 master key is made from the whole
//!   64-byte seed, and key `i` is `m/86'/0'/0'/0/i` (BIP86 layout; coin type `0'` on every
//!   network, regtest included).
//! - **Legacy form** (32-byte secret): the BIP32 seed is
//!   `HKDF-SHA256(salt = u32 counter little-endian, ikm = secret, info = "bip32 seed")`, 32
//!   bytes, with the counter starting at 0 and incremented until the seed makes a valid master
//!   key; key `i` is `m/0/0/i`.
//!
//! One key index is shared by every address type: `newaddr p2tr` at index `i` is the BIP86
//! key-path-only taproot output of key `i`, `newaddr bech32` the P2WPKH of the same key. CLN
//! issues index 1 first ([`FIRST_KEY_INDEX`]); index 0 is derived and recognised but never
//! handed out.

use std::fmt;

use bitcoin::bip32::{ChildNumber, DerivationPath, Fingerprint, KeySource, Xpriv, Xpub};
use bitcoin::hashes::{sha256, Hash, HashEngine, Hmac, HmacEngine};
use bitcoin::key::{CompressedPublicKey, Keypair, TapTweak, TweakedKeypair};
use bitcoin::secp256k1::{PublicKey, SecretKey, XOnlyPublicKey, SECP256K1};
use bitcoin::{Address, ScriptBuf};
use fulgur_keys::HsmSecret;
use fulgur_types::Network;

/// The first key index CLN hands out (`newaddr` on a fresh wallet); index 0 is never issued.
pub const FIRST_KEY_INDEX: u32 = 1;

pub use fulgur_types::AddrType;

/// Which derivation layout the wallet uses; decided by the form of `hsm_secret`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Derivation {
    /// Mnemonic form: `m/86'/0'/0'/0/i` from the 64-byte BIP39 seed.
    Bip86,
    /// Legacy 32-byte form: `m/0/0/i` from the HKDF-derived BIP32 seed.
    Legacy,
}

/// Why a wallet key could not be derived.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// Key indexes are non-hardened BIP32 children, so below 2^31.
    #[error("key index {0} too great")]
    IndexTooLarge(u32),
    /// BIP32 derivation failed (an invalid child key; probability about 2^-127).
    #[error("bip32 derivation failed: {0}")]
    Bip32(String),
}

impl From<bitcoin::bip32::Error> for KeyError {
    fn from(e: bitcoin::bip32::Error) -> Self {
        KeyError::Bip32(e.to_string())
    }
}

/// The wallet's key tree: turns a key index into keys, scripts and addresses.
///
/// Holds the private base key of the layout (so it can sign); [`fmt::Debug`] never prints
/// it, and it is overwritten on drop.
pub struct WalletKeys {
    network: Network,
    derivation: Derivation,
    /// Fingerprint of the BIP32 master key, for PSBT key origins.
    master_fingerprint: Fingerprint,
    /// Path from the master key to the base key whose non-hardened children are the keys.
    base_path: DerivationPath,
    base_xpriv: Xpriv,
    base_xpub: Xpub,
}

impl WalletKeys {
    /// The wallet keys of `secret` on `network` (the network only chooses address encodings).
    pub fn from_hsm_secret(secret: &HsmSecret, network: Network) -> WalletKeys {
        let seed = secret.seed_bytes();
        let kind = network.to_bitcoin();
        if seed.len() == 64 {
            let master = master_from_seed(seed, kind);
            Self::with_base(network, Derivation::Bip86, master, BIP86_BASE)
        } else {
            let master = legacy_master(seed, kind);
            Self::with_base(network, Derivation::Legacy, master, LEGACY_BASE)
        }
    }

    fn with_base(
        network: Network,
        derivation: Derivation,
        master: Xpriv,
        base: &[ChildNumber],
    ) -> WalletKeys {
        let master_fingerprint = master.fingerprint(SECP256K1);
        let mut base_xpriv = master;
        for child in base {
            // A child at any level is invalid with probability ~2^-127; CLN aborts then. We
            // keep deriving from the parent rather than panic: such a wallet is unusable
            // either way and no real seed reaches this.
            if let Ok(next) = base_xpriv.derive_priv(SECP256K1, &[*child]) {
                base_xpriv = next;
            }
        }
        WalletKeys {
            network,
            derivation,
            master_fingerprint,
            base_path: DerivationPath::from(base.to_vec()),
            base_xpub: Xpub::from_priv(SECP256K1, &base_xpriv),
            base_xpriv,
        }
    }

    /// The network addresses are encoded for.
    pub fn network(&self) -> Network {
        self.network
    }

    /// The derivation layout in use.
    pub fn derivation(&self) -> Derivation {
        self.derivation
    }

    /// The fingerprint of the BIP32 master key (PSBT key origins start with it).
    pub fn master_fingerprint(&self) -> Fingerprint {
        self.master_fingerprint
    }

    /// The full derivation path of key `index` from the master key.
    pub fn key_path(&self, index: u32) -> Result<DerivationPath, KeyError> {
        Ok(self.base_path.child(child(index)?))
    }

    /// The key origin (master fingerprint and path) of key `index`, as PSBTs record it.
    pub fn key_source(&self, index: u32) -> Result<KeySource, KeyError> {
        Ok((self.master_fingerprint, self.key_path(index)?))
    }

    /// The public key of index `index`.
    pub fn derive_pub(&self, index: u32) -> Result<PublicKey, KeyError> {
        Ok(self
            .base_xpub
            .derive_pub(SECP256K1, &[child(index)?])?
            .public_key)
    }

    /// The secret key of index `index`.
    pub(crate) fn derive_priv(&self, index: u32) -> Result<SecretKey, KeyError> {
        Ok(self
            .base_xpriv
            .derive_priv(SECP256K1, &[child(index)?])?
            .private_key)
    }

    /// The BIP86 tweaked key pair that signs a key-path spend of index `index`'s P2TR output.
    pub(crate) fn tweaked_keypair(&self, index: u32) -> Result<TweakedKeypair, KeyError> {
        let keypair = Keypair::from_secret_key(SECP256K1, &self.derive_priv(index)?);
        Ok(keypair.tap_tweak(SECP256K1, None))
    }

    /// The output script of key `index` as an `addrtype` output.
    pub fn script_pubkey(&self, index: u32, addrtype: AddrType) -> Result<ScriptBuf, KeyError> {
        Ok(script_for_key(&self.derive_pub(index)?, addrtype))
    }

    /// The address of key `index` as an `addrtype` output, for this wallet's network.
    pub fn address(&self, index: u32, addrtype: AddrType) -> Result<Address, KeyError> {
        let key = CompressedPublicKey(self.derive_pub(index)?);
        let network = self.network.to_bitcoin();
        Ok(match addrtype {
            AddrType::Bech32 => Address::p2wpkh(&key, network),
            AddrType::P2tr => Address::p2tr(SECP256K1, XOnlyPublicKey::from(key.0), None, network),
            AddrType::P2shSegwit => Address::p2shwpkh(&key, network),
        })
    }
}

impl Drop for WalletKeys {
    fn drop(&mut self) {
        self.base_xpriv.private_key.non_secure_erase();
        self.base_xpriv.chain_code = bitcoin::bip32::ChainCode::from([0u8; 32]);
    }
}

impl fmt::Debug for WalletKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WalletKeys")
            .field("network", &self.network)
            .field("derivation", &self.derivation)
            .field("master_fingerprint", &self.master_fingerprint)
            .field("keys", &"<redacted>")
            .finish()
    }
}

/// `m/86'/0'/0'/0`.
const BIP86_BASE: &[ChildNumber] = &[
    ChildNumber::Hardened { index: 86 },
    ChildNumber::Hardened { index: 0 },
    ChildNumber::Hardened { index: 0 },
    ChildNumber::Normal { index: 0 },
];

/// `m/0/0`.
const LEGACY_BASE: &[ChildNumber] = &[
    ChildNumber::Normal { index: 0 },
    ChildNumber::Normal { index: 0 },
];

/// Key index `index` as a non-hardened child number.
fn child(index: u32) -> Result<ChildNumber, KeyError> {
    ChildNumber::from_normal_idx(index).map_err(|_| KeyError::IndexTooLarge(index))
}

/// The output script paying to `key` as `addrtype`.
pub(crate) fn script_for_key(key: &PublicKey, addrtype: AddrType) -> ScriptBuf {
    let key = CompressedPublicKey(*key);
    match addrtype {
        AddrType::Bech32 => ScriptBuf::new_p2wpkh(&key.wpubkey_hash()),
        AddrType::P2tr => ScriptBuf::new_p2tr(SECP256K1, XOnlyPublicKey::from(key.0), None),
        AddrType::P2shSegwit => ScriptBuf::new_p2wpkh(&key.wpubkey_hash()).to_p2sh(),
    }
}

/// The BIP32 master key of `seed` (the standard "Bitcoin seed" HMAC). Falls back to the
/// HKDF-retry of the legacy form in the ~2^-127 case where the seed is not a valid key, so
/// that no seed can make this panic.
fn master_from_seed(seed: &[u8], network: bitcoin::Network) -> Xpriv {
    match Xpriv::new_master(network, seed) {
        Ok(master) => master,
        Err(_) => legacy_master(seed, network),
    }
}

/// The master key of a legacy 32-byte secret: HKDF-SHA256 with info `"bip32 seed"` and a
/// little-endian `u32` counter as salt, retried with the next counter until valid (as hsmd).
fn legacy_master(secret: &[u8], network: bitcoin::Network) -> Xpriv {
    let mut salt: u32 = 0;
    loop {
        let mut bip32_seed = hkdf_sha256_32(&salt.to_le_bytes(), secret, b"bip32 seed");
        let master = Xpriv::new_master(network, &bip32_seed);
        bip32_seed.fill(0);
        if let Ok(master) = master {
            return master;
        }
        salt = salt.wrapping_add(1);
    }
}

/// HKDF-SHA256 (RFC 5869) with a 32-byte output (a single expand block).
pub(crate) fn hkdf_sha256_32(salt: &[u8], ikm: &[u8], info: &[u8]) -> [u8; 32] {
    let mut extract = HmacEngine::<sha256::Hash>::new(salt);
    extract.input(ikm);
    let mut prk = Hmac::from_engine(extract).to_byte_array();
    let mut expand = HmacEngine::<sha256::Hash>::new(&prk);
    expand.input(info);
    expand.input(&[1u8]);
    prk.fill(0);
    Hmac::from_engine(expand).to_byte_array()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

    use super::*;

    #[test]
    fn hkdf_rfc5869_case_1_first_block() {
        let ikm = [0x0b; 22];
        let salt = hex::decode("000102030405060708090a0b0c").unwrap();
        let info = hex::decode("f0f1f2f3f4f5f6f7f8f9").unwrap();
        assert_eq!(
            hex::encode(hkdf_sha256_32(&salt, &ikm, &info)),
            "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf"
        );
    }

    #[test]
    fn index_range() {
        let secret = HsmSecret::from_file_bytes(&[7u8; 32]).unwrap();
        let keys = WalletKeys::from_hsm_secret(&secret, Network::Regtest);
        assert_eq!(keys.derivation(), Derivation::Legacy);
        assert!(keys.derive_pub(0x7fff_ffff).is_ok());
        assert_eq!(
            keys.derive_pub(0x8000_0000),
            Err(KeyError::IndexTooLarge(0x8000_0000))
        );
        assert_eq!(keys.key_path(5).unwrap().to_string(), "0/0/5");
    }

    #[test]
    fn public_and_private_derivation_agree() {
        let (secret, _) = HsmSecret::generate([3u8; 16]);
        let keys = WalletKeys::from_hsm_secret(&secret, Network::Bitcoin);
        assert_eq!(keys.derivation(), Derivation::Bip86);
        assert_eq!(keys.key_path(2).unwrap().to_string(), "86'/0'/0'/0/2");
        for i in [0u32, 1, 2, 1000] {
            let sk = keys.derive_priv(i).unwrap();
            assert_eq!(
                PublicKey::from_secret_key(SECP256K1, &sk),
                keys.derive_pub(i).unwrap()
            );
            for t in [AddrType::Bech32, AddrType::P2tr, AddrType::P2shSegwit] {
                assert_eq!(
                    keys.address(i, t).unwrap().script_pubkey(),
                    keys.script_pubkey(i, t).unwrap()
                );
            }
        }
        assert!(!format!("{keys:?}")
            .contains(&hex::encode(keys.derive_priv(1).unwrap().secret_bytes())));
    }

    #[test]
    fn bip86_reference_vector() {
        // BIP86's test vector: mnemonic "abandon ... about", m/86'/0'/0'/0/0.
        let (secret, _) = HsmSecret::generate([0u8; 16]);
        let keys = WalletKeys::from_hsm_secret(&secret, Network::Bitcoin);
        assert_eq!(
            keys.address(0, AddrType::P2tr).unwrap().to_string(),
            "bc1p5cyxnuxmeuwuvkwfem96lqzszd02n6xdcjrs20cac6yqjjwudpxqkedrcr"
        );
        assert_eq!(
            keys.address(1, AddrType::P2tr).unwrap().to_string(),
            "bc1p4qhjn9zdvkux4e44uhx8tc55attvtyu358kutcqkudyccelu0was9fqzwh"
        );
    }
}
