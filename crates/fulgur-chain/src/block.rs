//! Turning what a backend sends into blocks: hex to bytes (a table-driven decoder, since a
//! full block is 8 MB of hex) and bytes to a [`Block`] (consensus decoding), with the hash
//! checked against the one the backend claimed.

use bitcoin::consensus::encode;
use bitcoin::{Block, BlockHash};

/// Why a block sent by a backend could not be used.
#[derive(Debug, thiserror::Error)]
pub enum BlockDecodeError {
    /// The hex text is not hex.
    #[error("block is not valid hex: {0}")]
    Hex(#[from] HexError),
    /// The bytes are not a consensus-encoded block (or have trailing bytes).
    #[error("block does not decode: {0}")]
    Consensus(#[from] encode::Error),
    /// The block decodes, but its header hashes to something else than the backend said.
    #[error("block hashes to {actual}, but the backend said {claimed}")]
    HashMismatch {
        /// The hash the backend sent along.
        claimed: BlockHash,
        /// The hash of the header received.
        actual: BlockHash,
    },
}

/// Why a string is not hex.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HexError {
    /// An odd number of digits.
    #[error("odd number of hex digits ({0})")]
    OddLength(usize),
    /// A byte that is not a hex digit.
    #[error("invalid hex character at offset {0}")]
    InvalidChar(usize),
}

/// Marks a byte that is not a hex digit in [`HEX_VALUES`].
const BAD: u8 = 0xff;

/// The value of every byte as a hex digit (either case), or [`BAD`].
static HEX_VALUES: [u8; 256] = {
    let mut table = [BAD; 256];
    let mut i = 0;
    while i < 10 {
        table[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 6 {
        table[b'a' as usize + i] = 10 + i as u8;
        table[b'A' as usize + i] = 10 + i as u8;
        i += 1;
    }
    table
};

/// Decodes hex text (either case, no prefix, no spaces) into bytes.
pub fn decode_hex(hex: &str) -> Result<Vec<u8>, HexError> {
    let bytes = hex.as_bytes();
    if bytes.len() % 2 != 0 {
        return Err(HexError::OddLength(bytes.len()));
    }
    let mut out = vec![0u8; bytes.len() / 2];
    // Bad digits have high bits set in the table: collect them all and look for the culprit
    // only if there is one, keeping the loop branch-free.
    let mut bad = 0u8;
    for (o, pair) in out.iter_mut().zip(bytes.chunks_exact(2)) {
        let hi = HEX_VALUES[usize::from(pair[0])];
        let lo = HEX_VALUES[usize::from(pair[1])];
        bad |= hi | lo;
        *o = (hi << 4) | (lo & 0x0f);
    }
    if bad & 0xf0 != 0 {
        let offset = bytes
            .iter()
            .position(|b| HEX_VALUES[usize::from(*b)] == BAD)
            .unwrap_or(0);
        return Err(HexError::InvalidChar(offset));
    }
    Ok(out)
}

/// Encodes bytes as lower-case hex.
pub fn encode_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}

/// Decodes a consensus-encoded block, checking its hash is `claimed` when given.
pub fn decode_block(bytes: &[u8], claimed: Option<BlockHash>) -> Result<Block, BlockDecodeError> {
    let block: Block = encode::deserialize(bytes)?;
    if let Some(claimed) = claimed {
        let actual = block.block_hash();
        if actual != claimed {
            return Err(BlockDecodeError::HashMismatch { claimed, actual });
        }
    }
    Ok(block)
}

/// Decodes a hex-encoded block (as `getblock <hash> 0` and `getrawblockbyheight` send it),
/// checking its hash is `claimed` when given.
pub fn decode_block_hex(hex: &str, claimed: Option<BlockHash>) -> Result<Block, BlockDecodeError> {
    let bytes = decode_hex(hex)?;
    decode_block(&bytes, claimed)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use bitcoin::consensus::serialize;
    use proptest::prelude::*;

    #[test]
    fn hex_round_trips_and_rejects_garbage() {
        assert_eq!(decode_hex("").unwrap(), Vec::<u8>::new());
        assert_eq!(
            decode_hex("00ffA0b1").unwrap(),
            vec![0x00, 0xff, 0xa0, 0xb1]
        );
        assert_eq!(decode_hex("abc"), Err(HexError::OddLength(3)));
        assert_eq!(decode_hex("0g"), Err(HexError::InvalidChar(1)));
        assert_eq!(decode_hex("x0"), Err(HexError::InvalidChar(0)));
        assert_eq!(decode_hex("00 1"), Err(HexError::InvalidChar(2)));
        assert_eq!(encode_hex(&[0xde, 0xad, 0x01]), "dead01");
    }

    #[test]
    fn genesis_decodes_and_is_checked() {
        let genesis = bitcoin::constants::genesis_block(bitcoin::Network::Regtest);
        let hex = encode_hex(&serialize(&genesis));
        let block = decode_block_hex(&hex, Some(genesis.block_hash())).unwrap();
        assert_eq!(block, genesis);
        let other = bitcoin::constants::genesis_block(bitcoin::Network::Bitcoin).block_hash();
        let err = decode_block_hex(&hex, Some(other)).unwrap_err();
        assert!(
            matches!(err, BlockDecodeError::HashMismatch { .. }),
            "{err}"
        );
        // Truncated and padded encodings are refused.
        assert!(decode_block_hex(&hex[..hex.len() - 2], None).is_err());
        assert!(decode_block_hex(&format!("{hex}00"), None).is_err());
        assert!(decode_block_hex("", None).is_err());
    }

    proptest! {
        #[test]
        fn hex_matches_the_reference(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let hex = encode_hex(&bytes);
            prop_assert_eq!(decode_hex(&hex).unwrap(), bytes.clone());
            prop_assert_eq!(decode_hex(&hex.to_uppercase()).unwrap(), bytes);
        }

        #[test]
        fn garbage_never_panics(text in ".{0,300}") {
            let _ = decode_block_hex(&text, None);
        }

        #[test]
        fn garbage_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            let _ = decode_block(&bytes, None);
        }
    }
}
