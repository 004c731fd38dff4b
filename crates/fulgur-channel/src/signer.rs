//! Our channel keys: basepoints, per-commitment points and secrets, and the signatures of
//! commitment, HTLC and closing transactions (BOLT 3 "Key Derivation", "Per-commitment
//! Secret Requirements"). The secrets come from `hsm_secret` (see `fulgur_keys::channel`).

use std::fmt;
use std::sync::{Mutex, MutexGuard, PoisonError};

use bitcoin::sighash::EcdsaSighashType;
use bitcoin::{Script, Transaction};
use fulgur_bolt3::{keys, shachain, sign, Basepoints, Bolt3Error};
use fulgur_keys::ChannelSecrets;
use secp256k1::ecdsa::Signature;
use secp256k1::{PublicKey, SecretKey};
use serde::{Deserialize, Serialize};

use crate::error::ChannelError;

/// One side's public keys: the funding key and the four basepoints (stored for the peer).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartyKeys {
    /// The key of the side's half of the 2-of-2 funding output.
    pub funding_pubkey: PublicKey,
    /// Basepoint of revocation keys.
    pub revocation_basepoint: PublicKey,
    /// Basepoint of payment keys (the `to_remote` key with `option_static_remotekey`).
    pub payment_basepoint: PublicKey,
    /// Basepoint of delayed payment keys.
    pub delayed_payment_basepoint: PublicKey,
    /// Basepoint of HTLC keys.
    pub htlc_basepoint: PublicKey,
}

impl PartyKeys {
    /// The BOLT 3 crate's form.
    pub fn basepoints(&self) -> Basepoints {
        Basepoints {
            funding_pubkey: self.funding_pubkey,
            revocation_basepoint: self.revocation_basepoint,
            payment_basepoint: self.payment_basepoint,
            delayed_payment_basepoint: self.delayed_payment_basepoint,
            htlc_basepoint: self.htlc_basepoint,
        }
    }
}

/// Our secrets for one channel, and what is derived from them.
#[derive(Debug)]
pub struct ChannelSigner {
    secrets: ChannelSecrets,
    keys: PartyKeys,
    /// Recently used per-commitment secrets and points (each costs a shachain walk and a
    /// multiplication, and the same few numbers are asked for again and again).
    points: Mutex<PointCache>,
}

/// How many commitment numbers [`PointCache`] remembers: the previous, current and next of
/// our commitment, plus one.
const POINT_CACHE_SLOTS: usize = 4;

/// One remembered commitment number.
#[derive(Clone, Copy)]
struct CachedPoint {
    number: u64,
    secret: SecretKey,
    point: PublicKey,
}

/// Low bits of a shachain index below [`PointCache::prefix`].
const PREFIX_LOW_BITS: u32 = 8;

/// The last few per-commitment secrets and points computed, oldest replaced first.
#[derive(Default)]
struct PointCache {
    slots: [Option<CachedPoint>; POINT_CACHE_SLOTS],
    next: usize,
    /// `(index >> PREFIX_LOW_BITS, secret of index with its low bits cleared)` for the last
    /// block of 256 indices used: the shachain walk of every index in the block starts with
    /// the same 40 steps, so the secrets of the block take at most 8 hashes instead of 48.
    prefix: Option<(u64, [u8; 32])>,
}

impl fmt::Debug for PointCache {
    // Never prints the secrets.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let numbers: Vec<u64> = self.slots.iter().flatten().map(|c| c.number).collect();
        f.debug_struct("PointCache")
            .field("numbers", &numbers)
            .field("prefix", &self.prefix.map(|(p, _)| p))
            .finish()
    }
}

impl PointCache {
    fn get(&self, number: u64) -> Option<CachedPoint> {
        self.slots
            .iter()
            .flatten()
            .find(|c| c.number == number)
            .copied()
    }

    fn insert(&mut self, entry: CachedPoint) {
        self.slots[self.next] = Some(entry);
        self.next = (self.next + 1) % POINT_CACHE_SLOTS;
    }
}

fn pubkey(secret: &SecretKey) -> PublicKey {
    PublicKey::from_secret_key_global(secret)
}

fn bolt3_err(what: &str) -> impl Fn(fulgur_bolt3::Bolt3Error) -> ChannelError + '_ {
    move |e| ChannelError::fail(format!("{what}: {e}"))
}

impl ChannelSigner {
    /// A signer over a channel's secrets.
    pub fn new(secrets: ChannelSecrets) -> ChannelSigner {
        let keys = PartyKeys {
            funding_pubkey: pubkey(&secrets.funding_key),
            revocation_basepoint: pubkey(&secrets.revocation_basepoint_secret),
            payment_basepoint: pubkey(&secrets.payment_basepoint_secret),
            delayed_payment_basepoint: pubkey(&secrets.delayed_payment_basepoint_secret),
            htlc_basepoint: pubkey(&secrets.htlc_basepoint_secret),
        };
        ChannelSigner {
            secrets,
            keys,
            points: Mutex::new(PointCache::default()),
        }
    }

    fn cache(&self) -> MutexGuard<'_, PointCache> {
        // The cache holds no invariant a panic could break.
        self.points.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Our per-commitment secret and point for commitment number `n`, from the cache or
    /// computed (and remembered). `None` if the secret is not a valid key (odds ~2^-128).
    fn cached_point(&self, n: u64) -> Option<CachedPoint> {
        let cached = self.cache().get(n);
        if cached.is_some() {
            return cached;
        }
        let secret = SecretKey::from_slice(&self.compute_secret(n)).ok()?;
        let entry = CachedPoint {
            number: n,
            secret,
            point: pubkey(&secret),
        };
        self.cache().insert(entry);
        Some(entry)
    }

    /// The per-commitment secret of commitment number `n`, by the shachain walk from the
    /// cached start of its block of 256 indices (see [`PointCache::prefix`]).
    fn compute_secret(&self, n: u64) -> [u8; 32] {
        let index = shachain::MAX_INDEX.wrapping_sub(n) & shachain::MAX_INDEX;
        let prefix = index >> PREFIX_LOW_BITS;
        let cached = self.cache().prefix.filter(|(p, _)| *p == prefix);
        let start = match cached {
            Some((_, start)) => start,
            None => {
                // Walking the bits above the block from the seed (the low bits are zero).
                let start = shachain::per_commitment_secret(
                    &self.secrets.shaseed,
                    prefix << PREFIX_LOW_BITS,
                );
                self.cache().prefix = Some((prefix, start));
                start
            }
        };
        // The rest of the walk: only the low bits, from the block's start.
        shachain::per_commitment_secret(&start, index & ((1 << PREFIX_LOW_BITS) - 1))
    }

    /// Our public keys.
    pub fn keys(&self) -> &PartyKeys {
        &self.keys
    }

    /// The secret of our commitment number `n` (numbers count up from 0).
    pub fn per_commitment_secret(&self, n: u64) -> [u8; 32] {
        let cached = self.cache().get(n);
        match cached {
            Some(hit) => hit.secret.secret_bytes(),
            None => self.compute_secret(n),
        }
    }

    /// The point of our commitment number `n`.
    pub fn per_commitment_point(&self, n: u64) -> PublicKey {
        // A SHA256 output is a valid secret key except with probability ~2^-128.
        self.cached_point(n)
            .map_or(self.keys.funding_pubkey, |c| c.point)
    }

    /// `revocationpubkey` of our commitment number `n` whose per-commitment point is
    /// `point`, with the peer's `revocation_basepoint`. Uses our per-commitment secret
    /// (faster) when `point` is indeed ours for `n`.
    pub fn local_revocation_pubkey(
        &self,
        n: u64,
        point: &PublicKey,
        remote_revocation_basepoint: &PublicKey,
    ) -> Result<PublicKey, Bolt3Error> {
        match self.cached_point(n) {
            Some(ours) if ours.point == *point => keys::derive_revocation_pubkey_with_point_secret(
                remote_revocation_basepoint,
                &ours.secret,
                point,
            ),
            _ => keys::derive_revocation_pubkey(remote_revocation_basepoint, point),
        }
    }

    /// `revocationpubkey` of the peer's commitment whose per-commitment point is `point`
    /// (with our revocation basepoint, whose secret makes it faster).
    pub fn remote_revocation_pubkey(&self, point: &PublicKey) -> Result<PublicKey, Bolt3Error> {
        keys::derive_revocation_pubkey_with_basepoint_secret(
            &self.secrets.revocation_basepoint_secret,
            &self.keys.revocation_basepoint,
            point,
        )
    }

    /// Signs a transaction spending the funding output (a commitment or closing transaction).
    pub fn sign_funding_spend(
        &self,
        tx: &Transaction,
        funding_script: &Script,
        funding_sat: u64,
    ) -> Result<Signature, ChannelError> {
        sign::sign_commitment(tx, funding_script, funding_sat, &self.secrets.funding_key)
            .map_err(bolt3_err("cannot sign the funding spend"))
    }

    /// Signs an HTLC transaction of a commitment whose per-commitment point is `point`.
    pub fn sign_htlc(
        &self,
        tx: &Transaction,
        htlc_script: &Script,
        amount_sat: u64,
        point: &PublicKey,
        sighash: EcdsaSighashType,
    ) -> Result<Signature, ChannelError> {
        let key = keys::derive_privkey_with_basepoint(
            &self.secrets.htlc_basepoint_secret,
            &self.keys.htlc_basepoint,
            point,
        )
        .map_err(bolt3_err("cannot derive our HTLC key"))?;
        sign::sign_htlc_tx(tx, htlc_script, amount_sat, &key, sighash)
            .map_err(bolt3_err("cannot sign an HTLC transaction"))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    fn signer() -> ChannelSigner {
        ChannelSigner::new(ChannelSecrets::from_seed(&[0x5a; 32]).unwrap())
    }

    #[test]
    fn secrets_and_points_match_the_plain_derivation() {
        let s = signer();
        let seed = s.secrets.shaseed;
        // In order, backwards, across blocks of 256 and repeated: cache hits and misses.
        let numbers: Vec<u64> = (0..600)
            .chain((250..520).rev())
            .chain([0, 1, 255, 256, 257, 511, 512, 1 << 20, (1 << 20) + 1, 0, 5])
            .chain([shachain::MAX_INDEX, shachain::MAX_INDEX - 1])
            .collect();
        for n in numbers {
            let expected = shachain::per_commitment_secret(&seed, shachain::MAX_INDEX - n);
            assert_eq!(s.per_commitment_secret(n), expected, "secret {n}");
            if n % 37 == 0 || n < 5 {
                assert_eq!(
                    s.per_commitment_point(n),
                    keys::per_commitment_point(&expected).unwrap(),
                    "point {n}"
                );
                assert_eq!(s.per_commitment_secret(n), expected, "cached secret {n}");
            }
        }
    }

    #[test]
    fn revocation_pubkeys_match_the_plain_derivation() {
        let s = signer();
        let other = ChannelSigner::new(ChannelSecrets::from_seed(&[0x33; 32]).unwrap());
        let theirs = other.keys().revocation_basepoint;
        for n in [0u64, 1, 2, 300] {
            let ours = s.per_commitment_point(n);
            assert_eq!(
                s.local_revocation_pubkey(n, &ours, &theirs).unwrap(),
                keys::derive_revocation_pubkey(&theirs, &ours).unwrap()
            );
            // A point that is not ours for `n` takes the plain path.
            let not_ours = other.per_commitment_point(n);
            assert_eq!(
                s.local_revocation_pubkey(n, &not_ours, &theirs).unwrap(),
                keys::derive_revocation_pubkey(&theirs, &not_ours).unwrap()
            );
            assert_eq!(
                s.remote_revocation_pubkey(&not_ours).unwrap(),
                keys::derive_revocation_pubkey(&s.keys().revocation_basepoint, &not_ours).unwrap()
            );
        }
    }
}
