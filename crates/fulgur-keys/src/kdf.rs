//! The two key-derivation functions the node identity needs, built on `bitcoin_hashes`' HMAC:
//! HKDF-SHA256 (RFC 5869), which Core Lightning's hsmd uses to derive keys from the
//! 32-byte secret, and the single-block PBKDF2-HMAC-SHA512 that turns a BIP39 mnemonic into
//! its 64-byte seed.

use bitcoin_hashes::{sha256, sha512, Hash, HashEngine, Hmac, HmacEngine};
use zeroize::Zeroize;

/// HKDF-SHA256 (RFC 5869) with `salt`, input key material `ikm` and `info`, filling `out`.
///
/// `out` may be at most 255 × 32 bytes long; longer outputs are not defined by RFC 5869 and
/// the excess is left as zeros (callers ask for at most 192 bytes).
pub(crate) fn hkdf_sha256(salt: &[u8], ikm: &[u8], info: &[u8], out: &mut [u8]) {
    // Extract: PRK = HMAC(salt, IKM).
    let mut extract = HmacEngine::<sha256::Hash>::new(salt);
    extract.input(ikm);
    let mut prk = Hmac::from_engine(extract).to_byte_array();

    // Expand: T(i) = HMAC(PRK, T(i-1) || info || i), OKM = T(1) || T(2) || ...
    let mut previous = [0u8; 32];
    for (i, chunk) in (1..=255u8).zip(out.chunks_mut(32)) {
        let mut expand = HmacEngine::<sha256::Hash>::new(&prk);
        if i > 1 {
            expand.input(&previous);
        }
        expand.input(info);
        expand.input(&[i]);
        previous = Hmac::from_engine(expand).to_byte_array();
        chunk.copy_from_slice(&previous[..chunk.len()]);
    }
    prk.zeroize();
    previous.zeroize();
}

/// PBKDF2-HMAC-SHA512 with `iterations` rounds and a 64-byte output (one block), as BIP39
/// uses it with 2048 iterations and the salt `"mnemonic" || passphrase`.
pub(crate) fn pbkdf2_hmac_sha512_64(password: &[u8], salt: &[u8], iterations: u32) -> [u8; 64] {
    // U1 = HMAC(P, S || INT(1)); Ui = HMAC(P, Ui-1); T = U1 ^ U2 ^ ... ^ Uc.
    let mut engine = HmacEngine::<sha512::Hash>::new(password);
    engine.input(salt);
    engine.input(&1u32.to_be_bytes());
    let mut u = Hmac::from_engine(engine).to_byte_array();
    let mut t = u;
    for _ in 1..iterations {
        let mut engine = HmacEngine::<sha512::Hash>::new(password);
        engine.input(&u);
        u = Hmac::from_engine(engine).to_byte_array();
        t.iter_mut().zip(u.iter()).for_each(|(t, u)| *t ^= u);
    }
    u.zeroize();
    t
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

    use super::*;

    fn unhex(s: &str) -> Vec<u8> {
        hex::decode(s).unwrap()
    }

    #[test]
    fn hkdf_rfc5869_case_1() {
        let ikm = [0x0b; 22];
        let salt = unhex("000102030405060708090a0b0c");
        let info = unhex("f0f1f2f3f4f5f6f7f8f9");
        let mut okm = [0u8; 42];
        hkdf_sha256(&salt, &ikm, &info, &mut okm);
        assert_eq!(
            hex::encode(okm),
            "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865"
        );
    }

    #[test]
    fn hkdf_rfc5869_case_3_empty_salt_and_info() {
        let ikm = [0x0b; 22];
        let mut okm = [0u8; 42];
        hkdf_sha256(&[], &ikm, &[], &mut okm);
        assert_eq!(
            hex::encode(okm),
            "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8"
        );
    }

    #[test]
    fn pbkdf2_rfc6070_style_vector() {
        // PBKDF2-HMAC-SHA512("password", "salt", 1 and 2 iterations), first 64 bytes.
        assert_eq!(
            hex::encode(pbkdf2_hmac_sha512_64(b"password", b"salt", 1)),
            "867f70cf1ade02cff3752599a3a53dc4af34c7a669815ae5d513554e1c8cf252\
             c02d470a285a0501bad999bfe943c08f050235d7d68b1da55e63f73b60a57fce"
        );
        assert_eq!(
            hex::encode(pbkdf2_hmac_sha512_64(b"password", b"salt", 2)),
            "e1d9c16aa681708a45f5c7c4e215ceb66e011a2e9f0040713f18aefdb866d53c\
             f76cab2868a39b9f7840edce4fef5a82be67335c77a6068e04112754f27ccf4e"
        );
    }
}
