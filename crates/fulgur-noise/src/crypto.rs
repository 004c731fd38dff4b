//! The primitives BOLT 8 names under "Handshake State": `ECDH`, `HKDF`,
//! `encryptWithAD` / `decryptWithAD` and the SHA-256 mixing of `h`.

use bitcoin_hashes::{sha256, Hash, HashEngine, Hmac, HmacEngine};
use chacha20poly1305::aead::AeadInPlace;
use chacha20poly1305::{ChaCha20Poly1305, Key, KeyInit, Nonce, Tag};
use secp256k1::ecdh::SharedSecret;
use secp256k1::{PublicKey, SecretKey};
use zeroize::Zeroize;

use crate::MAC_LEN;

/// A 32-byte symmetric key, chaining key or hash.
pub(crate) type Bytes32 = [u8; 32];

/// The AEAD refused to run. ChaCha20-Poly1305 only does so for inputs longer
/// than 256 GiB, which BOLT 8 never produces.
#[derive(Debug)]
pub(crate) struct SealFailed;

/// A MAC did not verify.
#[derive(Debug)]
pub(crate) struct MacMismatch;

/// `SHA-256(a || b)`.
pub(crate) fn sha256_concat(a: &[u8], b: &[u8]) -> Bytes32 {
    let mut engine = sha256::Hash::engine();
    engine.input(a);
    engine.input(b);
    sha256::Hash::from_engine(engine).to_byte_array()
}

fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> Bytes32 {
    let mut engine = HmacEngine::<sha256::Hash>::new(key);
    for part in parts {
        engine.input(part);
    }
    Hmac::<sha256::Hash>::from_engine(engine).to_byte_array()
}

/// `HKDF(salt, ikm)` from RFC 5869 with an empty `info`, returning the two
/// 32-byte halves of its 64-byte output.
pub(crate) fn hkdf(salt: &Bytes32, ikm: &[u8]) -> (Bytes32, Bytes32) {
    let mut prk = hmac_sha256(salt, &[ikm]);
    let first = hmac_sha256(&prk, &[&[1]]);
    let second = hmac_sha256(&prk, &[&first, &[2]]);
    prk.zeroize();
    (first, second)
}

/// `ECDH(k, rk)`: SHA-256 of the compressed shared point.
pub(crate) fn ecdh(secret: &SecretKey, point: &PublicKey) -> Bytes32 {
    // libsecp256k1's default ECDH hash is exactly SHA-256 over the compressed
    // point, which is what BOLT 8 specifies.
    SharedSecret::new(point, secret).secret_bytes()
}

/// The 96-bit nonce: 32 zero bits then the 64-bit counter, little-endian.
fn nonce(counter: u64) -> Nonce {
    let mut bytes = [0u8; 12];
    bytes[4..].copy_from_slice(&counter.to_le_bytes());
    Nonce::from(bytes)
}

/// `encryptWithAD` in place; returns the detached MAC.
pub(crate) fn seal(
    key: &Bytes32,
    counter: u64,
    ad: &[u8],
    buf: &mut [u8],
) -> Result<[u8; MAC_LEN], SealFailed> {
    let cipher = ChaCha20Poly1305::new(Key::from_slice(key));
    cipher
        .encrypt_in_place_detached(&nonce(counter), ad, buf)
        .map(Into::into)
        .map_err(|_| SealFailed)
}

/// `decryptWithAD` in place against a detached MAC. On failure `buf` holds
/// unspecified bytes and must be discarded.
pub(crate) fn open(
    key: &Bytes32,
    counter: u64,
    ad: &[u8],
    buf: &mut [u8],
    mac: &[u8; MAC_LEN],
) -> Result<(), MacMismatch> {
    let cipher = ChaCha20Poly1305::new(Key::from_slice(key));
    cipher
        .decrypt_in_place_detached(&nonce(counter), ad, buf, Tag::from_slice(mac))
        .map_err(|_| MacMismatch)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "test code")]

    use super::*;

    fn h32(s: &str) -> Bytes32 {
        let mut out = [0u8; 32];
        for (i, byte) in out.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap();
        }
        out
    }

    #[test]
    fn hkdf_matches_the_act_one_trace() {
        // BOLT 8 Appendix A, initiator act one: HKDF(ck, es).
        let (ck, k1) = hkdf(
            &h32("2640f52eebcd9e882958951c794250eedb28002c05d7dc2ea0f195406042caf1"),
            &h32("1e2fb3c8fe8fb9f262f649f64d26ecf0f2c0a805a767cf02dc2d77a6ef1fdcc3"),
        );
        assert_eq!(
            ck,
            h32("b61ec1191326fa240decc9564369dbb3ae2b34341d1e11ad64ed89f89180582f")
        );
        assert_eq!(
            k1,
            h32("e68f69b7f096d7917245f5e5cf8ae1595febe4d4644333c99f9c4a1282031c9f")
        );
    }

    #[test]
    fn seal_and_open_round_trip_and_detect_tampering() {
        let key = [7u8; 32];
        let mut buf = *b"some bytes";
        let mac = seal(&key, 3, b"ad", &mut buf).unwrap();
        let mut copy = buf;
        open(&key, 3, b"ad", &mut copy, &mac).unwrap();
        assert_eq!(&copy, b"some bytes");
        let mut copy = buf;
        assert!(open(&key, 4, b"ad", &mut copy, &mac).is_err());
        let mut copy = buf;
        assert!(open(&key, 3, b"da", &mut copy, &mac).is_err());
    }
}
