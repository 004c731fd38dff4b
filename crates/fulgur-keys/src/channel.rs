//! Per-channel secrets, derived from `hsm_secret` as Core Lightning's hsmd derives them, so that
//! an operator's CLN recovery tools (which rebuild channel keys from the peer id and the
//! channel's database id) find the funds of a Fulgur channel too.
//!
//! The derivation: a channel base secret (HKDF of the first 32 bytes of the seed with the info
//! `"peer seed"`), a channel seed (HKDF of that base, salted with the peer's compressed node id
//! and the little-endian database id, info `"per-peer seed"`), and from the seed, by one more
//! HKDF with the info `"c-lightning"`, 192 bytes: the funding key, then the revocation, HTLC,
//! payment and delayed-payment basepoint secrets, then the shachain seed (BOLT 3
//! "Per-commitment Secret Requirements").

use std::fmt;

use secp256k1::{PublicKey, SecretKey};
use zeroize::{Zeroize, Zeroizing};

use crate::hsm_secret::HsmSecret;
use crate::kdf::hkdf_sha256;

/// The secrets of one channel. [`fmt::Debug`] never prints them.
#[derive(Clone)]
pub struct ChannelSecrets {
    /// The key of our side of the 2-of-2 funding output.
    pub funding_key: SecretKey,
    /// Secret of our `revocation_basepoint`.
    pub revocation_basepoint_secret: SecretKey,
    /// Secret of our `payment_basepoint` (our `to_remote` key with `option_static_remotekey`).
    pub payment_basepoint_secret: SecretKey,
    /// Secret of our `delayed_payment_basepoint`.
    pub delayed_payment_basepoint_secret: SecretKey,
    /// Secret of our `htlc_basepoint`.
    pub htlc_basepoint_secret: SecretKey,
    /// The seed our per-commitment secrets are generated from.
    pub shaseed: [u8; 32],
}

impl fmt::Debug for ChannelSecrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ChannelSecrets(<redacted>)")
    }
}

impl Drop for ChannelSecrets {
    fn drop(&mut self) {
        self.funding_key.non_secure_erase();
        self.revocation_basepoint_secret.non_secure_erase();
        self.payment_basepoint_secret.non_secure_erase();
        self.delayed_payment_basepoint_secret.non_secure_erase();
        self.htlc_basepoint_secret.non_secure_erase();
        self.shaseed.zeroize();
    }
}

/// A derived 32-byte value was not a valid secret key (probability about 2^-128).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("derived channel secret {0} is not a valid secret key")]
pub struct InvalidChannelSecret(pub &'static str);

/// The base secret every channel's seed derives from (HKDF of the first 32 bytes of the
/// seed with the info `"peer seed"`). Kept by the node instead of the whole `hsm_secret`.
#[derive(Clone)]
pub struct ChannelBase(Zeroizing<[u8; 32]>);

impl fmt::Debug for ChannelBase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ChannelBase(<redacted>)")
    }
}

impl ChannelBase {
    /// The 32-byte seed of the channel with `peer_id` whose database id is `dbid`.
    pub fn channel_seed(&self, peer_id: &PublicKey, dbid: u64) -> Zeroizing<[u8; 32]> {
        let mut salt = [0u8; 33 + 8];
        salt[..33].copy_from_slice(&peer_id.serialize());
        salt[33..].copy_from_slice(&dbid.to_le_bytes());
        let mut seed = Zeroizing::new([0u8; 32]);
        hkdf_sha256(&salt, &self.0[..], b"per-peer seed", &mut seed[..]);
        seed
    }

    /// The secrets of the channel with `peer_id` whose database id is `dbid`.
    pub fn channel_secrets(
        &self,
        peer_id: &PublicKey,
        dbid: u64,
    ) -> Result<ChannelSecrets, InvalidChannelSecret> {
        ChannelSecrets::from_seed(&self.channel_seed(peer_id, dbid))
    }
}

impl HsmSecret {
    /// The base secret of all channel seeds.
    pub fn channel_base(&self) -> ChannelBase {
        let mut base = Zeroizing::new([0u8; 32]);
        hkdf_sha256(&[], self.first_32_bytes(), b"peer seed", &mut base[..]);
        ChannelBase(base)
    }

    /// The 32-byte seed of the channel with `peer_id` whose database id is `dbid`.
    pub fn channel_seed(&self, peer_id: &PublicKey, dbid: u64) -> Zeroizing<[u8; 32]> {
        self.channel_base().channel_seed(peer_id, dbid)
    }

    /// The secrets of the channel with `peer_id` whose database id is `dbid`.
    pub fn channel_secrets(
        &self,
        peer_id: &PublicKey,
        dbid: u64,
    ) -> Result<ChannelSecrets, InvalidChannelSecret> {
        self.channel_base().channel_secrets(peer_id, dbid)
    }
}

impl ChannelSecrets {
    /// Expands a channel seed into the channel's secrets.
    pub fn from_seed(seed: &[u8; 32]) -> Result<ChannelSecrets, InvalidChannelSecret> {
        let mut okm = Zeroizing::new([0u8; 192]);
        hkdf_sha256(&[], seed, b"c-lightning", &mut okm[..]);
        let key = |i: usize, name: &'static str| {
            SecretKey::from_slice(&okm[i * 32..(i + 1) * 32])
                .map_err(|_| InvalidChannelSecret(name))
        };
        let mut shaseed = [0u8; 32];
        shaseed.copy_from_slice(&okm[160..192]);
        Ok(ChannelSecrets {
            funding_key: key(0, "funding_key")?,
            revocation_basepoint_secret: key(1, "revocation_basepoint_secret")?,
            htlc_basepoint_secret: key(2, "htlc_basepoint_secret")?,
            payment_basepoint_secret: key(3, "payment_basepoint_secret")?,
            delayed_payment_basepoint_secret: key(4, "delayed_payment_basepoint_secret")?,
            shaseed,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

    use super::*;

    fn secret() -> HsmSecret {
        HsmSecret::from_file_bytes(&[0x11; 32]).unwrap()
    }

    #[test]
    fn seeds_differ_by_peer_and_dbid_and_are_stable() {
        let s = secret();
        let peer_a = PublicKey::from_secret_key_global(&SecretKey::from_slice(&[1; 32]).unwrap());
        let peer_b = PublicKey::from_secret_key_global(&SecretKey::from_slice(&[2; 32]).unwrap());
        let a1 = *s.channel_seed(&peer_a, 1);
        assert_eq!(a1, *s.channel_seed(&peer_a, 1));
        assert_ne!(a1, *s.channel_seed(&peer_a, 2));
        assert_ne!(a1, *s.channel_seed(&peer_b, 1));
        let keys = s.channel_secrets(&peer_a, 1).unwrap();
        let all = [
            keys.funding_key.secret_bytes(),
            keys.revocation_basepoint_secret.secret_bytes(),
            keys.payment_basepoint_secret.secret_bytes(),
            keys.delayed_payment_basepoint_secret.secret_bytes(),
            keys.htlc_basepoint_secret.secret_bytes(),
            keys.shaseed,
        ];
        for (i, x) in all.iter().enumerate() {
            for y in &all[i + 1..] {
                assert_ne!(x, y);
            }
        }
        assert_eq!(format!("{keys:?}"), "ChannelSecrets(<redacted>)");
    }

    #[test]
    fn expansion_order_is_funding_revocation_htlc_payment_delayed_shaseed() {
        let seed = [7u8; 32];
        let keys = ChannelSecrets::from_seed(&seed).unwrap();
        let mut okm = [0u8; 192];
        hkdf_sha256(&[], &seed, b"c-lightning", &mut okm);
        assert_eq!(keys.funding_key.secret_bytes(), okm[0..32]);
        assert_eq!(keys.revocation_basepoint_secret.secret_bytes(), okm[32..64]);
        assert_eq!(keys.htlc_basepoint_secret.secret_bytes(), okm[64..96]);
        assert_eq!(keys.payment_basepoint_secret.secret_bytes(), okm[96..128]);
        assert_eq!(
            keys.delayed_payment_basepoint_secret.secret_bytes(),
            okm[128..160]
        );
        assert_eq!(keys.shaseed, okm[160..192]);
    }
}
