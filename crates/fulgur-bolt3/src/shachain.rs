//! Per-commitment secrets: BOLT 3 "Per-commitment Secret Requirements" (generation from a
//! seed) and "Efficient Per-commitment Secret Storage" (the receiver's 49-slot store).
//!
//! Secrets are numbered by a 48-bit index that starts at [`MAX_INDEX`] for the first
//! commitment and counts down. The secret for index `I` is obtained from the seed by, for
//! each bit `B` set in `I` from bit 47 down to bit 0, flipping bit `B` of the running value
//! and hashing it with SHA256. A secret whose index ends in `b` zero bits can therefore
//! derive every secret whose index shares its upper `48 - b` bits, which is what lets the
//! receiver keep one secret per trailing-zero count.

use bitcoin::hashes::{sha256, Hash};

/// The highest (first) per-commitment index: `2^48 - 1`.
pub const MAX_INDEX: u64 = (1 << 48) - 1;

/// Number of slots in the store: one per possible trailing-zero count (0..=48).
const SLOTS: u8 = 49;
/// Serialization format version of [`ShachainStore::to_bytes`].
const FORMAT_VERSION: u8 = 1;
/// Serialized size of one slot: position, 8-byte index, 32-byte secret.
const SLOT_LEN: usize = 1 + 8 + 32;

/// Why a secret was refused or a serialized store was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShachainError {
    /// The index is above [`MAX_INDEX`].
    #[error("per-commitment index {0} does not fit in 48 bits")]
    IndexOutOfRange(u64),
    /// Secrets must arrive in descending order, one index at a time.
    #[error("per-commitment secret {got} does not follow the last one received ({last})")]
    NotNextIndex {
        /// The lowest index stored so far.
        last: u64,
        /// The index offered.
        got: u64,
    },
    /// The secret does not derive the secrets already stored: the two were not generated
    /// from the same seed.
    #[error("per-commitment secret {index} is inconsistent with earlier secrets")]
    InconsistentSecret {
        /// The index offered.
        index: u64,
    },
    /// A serialized store is malformed.
    #[error("malformed per-commitment secret store: {0}")]
    Malformed(&'static str),
}

/// Derives the secret for `index` from `base`, whose index shares all bits from `bits` up
/// (BOLT 3 `derive_secret`).
fn derive_secret(base: &[u8; 32], bits: u8, index: u64) -> [u8; 32] {
    let mut p = *base;
    for b in (0..bits).rev() {
        if (index >> b) & 1 == 1 {
            p[usize::from(b / 8)] ^= 1 << (b % 8);
            p = sha256::Hash::hash(&p).to_byte_array();
        }
    }
    p
}

/// The per-commitment secret for `index` generated from `seed` (BOLT 3
/// `generate_from_seed`). Only the low 48 bits of `index` are used.
pub fn per_commitment_secret(seed: &[u8; 32], index: u64) -> [u8; 32] {
    derive_secret(seed, 48, index & MAX_INDEX)
}

/// The slot a secret with this index goes in: its number of trailing zero bits, capped at
/// 48 (so 48 for index 0, whose 64 trailing zeros would not fit a 48-bit index).
fn position_for(index: u64) -> u8 {
    // At most 48: the cast cannot truncate.
    index.trailing_zeros().min(48) as u8
}

/// Mask keeping the bits of an index a secret in slot `position` can derive from.
fn prefix_mask(position: u8) -> u64 {
    !((1u64 << position) - 1)
}

/// One stored secret.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Slot {
    position: u8,
    index: u64,
    secret: [u8; 32],
}

/// The receiver's compact store of the counterparty's revealed per-commitment secrets: at
/// most 49 `(index, secret)` slots, from which every secret received so far can be derived.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ShachainStore {
    /// Occupied slots, sorted by position, positions unique.
    slots: Vec<Slot>,
}

impl ShachainStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Stores the secret for `index` (BOLT 3 `insert_secret`).
    ///
    /// The first secret may have any index up to [`MAX_INDEX`]; each later one must have the
    /// index just below the lowest stored so far. The secret must derive every stored secret
    /// it covers. On error the store is unchanged.
    pub fn insert(&mut self, index: u64, secret: [u8; 32]) -> Result<(), ShachainError> {
        if index > MAX_INDEX {
            return Err(ShachainError::IndexOutOfRange(index));
        }
        if let Some(last) = self.min_index() {
            if last.checked_sub(1) != Some(index) {
                return Err(ShachainError::NotNextIndex { last, got: index });
            }
        }
        let position = position_for(index);
        for slot in self.slots.iter().filter(|s| s.position < position) {
            if derive_secret(&secret, position, slot.index) != slot.secret {
                return Err(ShachainError::InconsistentSecret { index });
            }
        }
        let new = Slot {
            position,
            index,
            secret,
        };
        match self.slots.binary_search_by_key(&position, |s| s.position) {
            Ok(i) => self.slots[i] = new,
            Err(i) => self.slots.insert(i, new),
        }
        Ok(())
    }

    /// The secret for `index`, if it was received (BOLT 3 `derive_old_secret`).
    pub fn get(&self, index: u64) -> Option<[u8; 32]> {
        if index > MAX_INDEX {
            return None;
        }
        self.slots
            .iter()
            .find(|s| index & prefix_mask(s.position) == s.index)
            .map(|s| derive_secret(&s.secret, s.position, index))
    }

    /// The lowest (most recent) index received, or `None` if the store is empty.
    pub fn min_index(&self) -> Option<u64> {
        self.slots.iter().map(|s| s.index).min()
    }

    /// Whether no secret was received yet.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// Serializes the store for persistence: a version byte (1), a slot count, then per slot
    /// its position (1 byte), index (8 bytes big-endian) and secret (32 bytes).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(2 + self.slots.len() * SLOT_LEN);
        out.push(FORMAT_VERSION);
        // At most 49 slots.
        out.push(self.slots.len() as u8);
        for slot in &self.slots {
            out.push(slot.position);
            out.extend_from_slice(&slot.index.to_be_bytes());
            out.extend_from_slice(&slot.secret);
        }
        out
    }

    /// Parses [`ShachainStore::to_bytes`] output, checking its structure and that every
    /// stored secret derives the stored secrets it covers.
    pub fn from_bytes(b: &[u8]) -> Result<Self, ShachainError> {
        let (&version, rest) = b.split_first().ok_or(ShachainError::Malformed("empty"))?;
        if version != FORMAT_VERSION {
            return Err(ShachainError::Malformed("unknown version"));
        }
        let (&count, rest) = rest
            .split_first()
            .ok_or(ShachainError::Malformed("truncated"))?;
        if count > SLOTS {
            return Err(ShachainError::Malformed("too many slots"));
        }
        if rest.len() != usize::from(count) * SLOT_LEN {
            return Err(ShachainError::Malformed("wrong length"));
        }
        let mut slots: Vec<Slot> = Vec::with_capacity(usize::from(count));
        for chunk in rest.chunks_exact(SLOT_LEN) {
            let position = chunk[0];
            let mut index_bytes = [0u8; 8];
            index_bytes.copy_from_slice(&chunk[1..9]);
            let index = u64::from_be_bytes(index_bytes);
            let mut secret = [0u8; 32];
            secret.copy_from_slice(&chunk[9..]);
            if index > MAX_INDEX {
                return Err(ShachainError::Malformed("index out of range"));
            }
            if position_for(index) != position {
                return Err(ShachainError::Malformed("index in the wrong slot"));
            }
            if slots.last().is_some_and(|prev| prev.position >= position) {
                return Err(ShachainError::Malformed("slots out of order"));
            }
            slots.push(Slot {
                position,
                index,
                secret,
            });
        }
        for (i, high) in slots.iter().enumerate() {
            for low in &slots[..i] {
                if low.index & prefix_mask(high.position) == high.index
                    && derive_secret(&high.secret, high.position, low.index) != low.secret
                {
                    return Err(ShachainError::Malformed("inconsistent secrets"));
                }
            }
        }
        Ok(Self { slots })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn rejects_out_of_order_and_keeps_state() {
        let seed = [7u8; 32];
        let mut store = ShachainStore::new();
        store
            .insert(MAX_INDEX, per_commitment_secret(&seed, MAX_INDEX))
            .unwrap();
        let before = store.clone();
        assert_eq!(
            store.insert(MAX_INDEX - 2, per_commitment_secret(&seed, MAX_INDEX - 2)),
            Err(ShachainError::NotNextIndex {
                last: MAX_INDEX,
                got: MAX_INDEX - 2
            })
        );
        assert_eq!(store, before);
        assert_eq!(
            store.insert(MAX_INDEX + 1, [0; 32]),
            Err(ShachainError::IndexOutOfRange(MAX_INDEX + 1))
        );
        assert_eq!(store.get(MAX_INDEX - 1), None);
    }

    #[test]
    fn index_zero_goes_to_last_slot() {
        let seed = [9u8; 32];
        let mut store = ShachainStore::new();
        store.insert(1, per_commitment_secret(&seed, 1)).unwrap();
        store.insert(0, per_commitment_secret(&seed, 0)).unwrap();
        assert_eq!(store.get(0), Some(seed));
        assert_eq!(store.get(1), Some(per_commitment_secret(&seed, 1)));
        // The seed (index 0) derives every secret.
        assert_eq!(store.get(2), Some(per_commitment_secret(&seed, 2)));
        assert!(store.insert(0, seed).is_err());
        let back = ShachainStore::from_bytes(&store.to_bytes()).unwrap();
        assert_eq!(back, store);
    }

    #[test]
    fn from_bytes_rejects_inconsistent_secrets() {
        let seed = [3u8; 32];
        let mut store = ShachainStore::new();
        for i in 0..4 {
            store
                .insert(MAX_INDEX - i, per_commitment_secret(&seed, MAX_INDEX - i))
                .unwrap();
        }
        let mut bytes = store.to_bytes();
        // Corrupt the secret of the first (position 0) slot.
        bytes[2 + 9] ^= 1;
        assert!(ShachainStore::from_bytes(&bytes).is_err());
        bytes[2 + 9] ^= 1;
        assert_eq!(ShachainStore::from_bytes(&bytes).unwrap(), store);
        assert!(ShachainStore::from_bytes(&bytes[..bytes.len() - 1]).is_err());
        assert!(ShachainStore::from_bytes(&[]).is_err());
        assert_eq!(
            ShachainStore::from_bytes(&[1, 0]).unwrap(),
            ShachainStore::new()
        );
    }
}
