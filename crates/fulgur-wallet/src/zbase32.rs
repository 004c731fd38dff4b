//! z-base-32 (Zooko's human-oriented base-32), as lnd and CLN encode signed messages: the
//! bytes read as a big-endian bit string in groups of 5, the last group padded with zero
//! bits, each group written as a character of `ybndrfg8ejkmcpqxot1uwisza345h769`.

const ALPHABET: &[u8; 32] = b"ybndrfg8ejkmcpqxot1uwisza345h769";

/// The z-base-32 text of `data`.
pub fn encode(data: &[u8]) -> String {
    let mut out = String::with_capacity((data.len() * 8).div_ceil(5));
    let mut acc: u32 = 0;
    let mut bits = 0u32;
    for &byte in data {
        acc = (acc << 8) | u32::from(byte);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(ALPHABET[((acc >> bits) & 31) as usize]));
        }
        acc &= (1 << bits) - 1;
    }
    if bits > 0 {
        out.push(char::from(ALPHABET[((acc << (5 - bits)) & 31) as usize]));
    }
    out
}

/// The value of a z-base-32 character (lower case only, as CLN's table).
fn value(c: u8) -> Option<u32> {
    ALPHABET.iter().position(|&a| a == c).map(|v| v as u32)
}

/// The bytes of z-base-32 `text`, as CLN's `from_zbase32` accepts them: only alphabet
/// characters, and a whole number of bytes (the character count times 5 a multiple of 8).
pub fn decode(text: &str) -> Option<Vec<u8>> {
    let bytes = text.as_bytes();
    if (bytes.len() * 5) % 8 != 0 {
        return None;
    }
    let mut out = Vec::with_capacity(bytes.len() * 5 / 8);
    let mut acc: u32 = 0;
    let mut bits = 0u32;
    for &c in bytes {
        acc = (acc << 5) | value(c)?;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push(((acc >> bits) & 0xff) as u8);
        }
        acc &= (1 << bits) - 1;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_values() {
        // From the z-base-32 specification's examples.
        assert_eq!(encode(&[0xf0, 0xbf, 0xc7]), "6n9hq");
        assert_eq!(encode(&[0xd4, 0x7a, 0x04]), "4t7ye");
        assert_eq!(encode(&[]), "");
        assert_eq!(decode("").unwrap(), Vec::<u8>::new());
        assert_eq!(decode("yyyyyyyy").unwrap(), vec![0u8; 5]);
        assert_eq!(decode("99999999").unwrap(), vec![0xffu8; 5]);
    }

    #[test]
    fn rejects() {
        assert_eq!(decode("yyyyyyy"), None);
        assert_eq!(decode("yyyyyyyl"), None);
        assert_eq!(decode("YYYYYYYY"), None);
        assert_eq!(decode("yyyyyyy2"), None);
    }

    proptest! {
        #[test]
        fn round_trip(data in proptest::collection::vec(any::<u8>(), 0..100)) {
            let text = encode(&data);
            prop_assert_eq!(text.len(), (data.len() * 8).div_ceil(5));
            if data.len() % 5 == 0 {
                prop_assert_eq!(decode(&text), Some(data));
            }
        }
    }
}
