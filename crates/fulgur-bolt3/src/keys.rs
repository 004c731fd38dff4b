//! Per-commitment key derivation: BOLT 3 "Key Derivation" (`localpubkey`, the htlc and
//! delayed pubkeys, `revocationpubkey`, and their private keys).
//!
//! - `pubkey = basepoint + SHA256(per_commitment_point || basepoint) * G`
//! - `privkey = basepoint_secret + SHA256(per_commitment_point || basepoint)`
//! - `revocationpubkey = revocation_basepoint * SHA256(revocation_basepoint || per_commitment_point)
//!   + per_commitment_point * SHA256(per_commitment_point || revocation_basepoint)`
//! - `revocationprivkey` is the same combination of the two secrets.
//!
//! `remotepubkey` needs no derivation under `option_static_remotekey`: it is the other
//! side's `payment_basepoint`.

use bitcoin::hashes::{sha256, Hash, HashEngine};
use secp256k1::{PublicKey, Scalar, SecretKey, SECP256K1};

use crate::Bolt3Error;

/// `SHA256(a || b)` of two compressed points, as a scalar.
fn tweak(a: &PublicKey, b: &PublicKey) -> Result<Scalar, Bolt3Error> {
    let mut engine = sha256::Hash::engine();
    engine.input(&a.serialize());
    engine.input(&b.serialize());
    let hash = sha256::Hash::from_engine(engine);
    Scalar::from_be_bytes(hash.to_byte_array())
        .map_err(|_| Bolt3Error::KeyDerivation(secp256k1::Error::InvalidTweak))
}

/// `per_commitment_point = per_commitment_secret * G`.
pub fn per_commitment_point(per_commitment_secret: &[u8; 32]) -> Result<PublicKey, Bolt3Error> {
    let secret =
        SecretKey::from_slice(per_commitment_secret).map_err(|_| Bolt3Error::InvalidSecret)?;
    Ok(PublicKey::from_secret_key(SECP256K1, &secret))
}

/// `basepoint + SHA256(per_commitment_point || basepoint) * G`: `localpubkey`,
/// `local_htlcpubkey`, `remote_htlcpubkey`, `local_delayedpubkey`, `remote_delayedpubkey`.
pub fn derive_pubkey(
    basepoint: &PublicKey,
    per_commitment_point: &PublicKey,
) -> Result<PublicKey, Bolt3Error> {
    let t = tweak(per_commitment_point, basepoint)?;
    Ok(basepoint.add_exp_tweak(SECP256K1, &t)?)
}

/// `basepoint_secret + SHA256(per_commitment_point || basepoint)`: the private key of
/// [`derive_pubkey`]'s result.
pub fn derive_privkey(
    basepoint_secret: &SecretKey,
    per_commitment_point: &PublicKey,
) -> Result<SecretKey, Bolt3Error> {
    let basepoint = PublicKey::from_secret_key(SECP256K1, basepoint_secret);
    let t = tweak(per_commitment_point, &basepoint)?;
    Ok(basepoint_secret.add_tweak(&t)?)
}

/// `revocationpubkey`, from the revocation basepoint of the side that will be able to punish
/// and the per-commitment point of the side whose commitment it is.
pub fn derive_revocation_pubkey(
    revocation_basepoint: &PublicKey,
    per_commitment_point: &PublicKey,
) -> Result<PublicKey, Bolt3Error> {
    let h1 = tweak(revocation_basepoint, per_commitment_point)?;
    let h2 = tweak(per_commitment_point, revocation_basepoint)?;
    let a = revocation_basepoint.mul_tweak(SECP256K1, &h1)?;
    let b = per_commitment_point.mul_tweak(SECP256K1, &h2)?;
    Ok(a.combine(&b)?)
}

/// `revocationprivkey`, once the other side has revealed `per_commitment_secret`.
pub fn derive_revocation_privkey(
    revocation_basepoint_secret: &SecretKey,
    per_commitment_secret: &SecretKey,
) -> Result<SecretKey, Bolt3Error> {
    let revocation_basepoint = PublicKey::from_secret_key(SECP256K1, revocation_basepoint_secret);
    let per_commitment_point = PublicKey::from_secret_key(SECP256K1, per_commitment_secret);
    let h1 = tweak(&revocation_basepoint, &per_commitment_point)?;
    let h2 = tweak(&per_commitment_point, &revocation_basepoint)?;
    let a = revocation_basepoint_secret.mul_tweak(&h1)?;
    let b = per_commitment_secret.mul_tweak(&h2)?;
    Ok(a.add_tweak(&Scalar::from(b))?)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    fn sk(b: u8) -> SecretKey {
        SecretKey::from_slice(&[b; 32]).unwrap()
    }

    #[test]
    fn privkeys_match_pubkeys() {
        let base = sk(0x11);
        let pcs = sk(0x22);
        let pcp = PublicKey::from_secret_key(SECP256K1, &pcs);
        let base_point = PublicKey::from_secret_key(SECP256K1, &base);
        let priv_ = derive_privkey(&base, &pcp).unwrap();
        assert_eq!(
            PublicKey::from_secret_key(SECP256K1, &priv_),
            derive_pubkey(&base_point, &pcp).unwrap()
        );
        let rpriv = derive_revocation_privkey(&base, &pcs).unwrap();
        assert_eq!(
            PublicKey::from_secret_key(SECP256K1, &rpriv),
            derive_revocation_pubkey(&base_point, &pcp).unwrap()
        );
    }

    #[test]
    fn rejects_invalid_secret() {
        assert_eq!(
            per_commitment_point(&[0; 32]),
            Err(Bolt3Error::InvalidSecret)
        );
        assert_eq!(
            per_commitment_point(&[0xff; 32]),
            Err(Bolt3Error::InvalidSecret)
        );
    }
}
