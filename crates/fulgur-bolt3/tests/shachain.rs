//! BOLT 3 Appendix D (per-commitment secret generation and storage) vectors:
//! `tests/vectors/bolt03-per-commitment-secrets.json`, plus property tests of the store.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

mod common;

use common::{b32, load, s, u};
use fulgur_bolt3::shachain::{per_commitment_secret, ShachainError, ShachainStore, MAX_INDEX};
use proptest::prelude::*;

const VECTORS: &str = include_str!("vectors/bolt03-per-commitment-secrets.json");

#[test]
fn every_generation_case() {
    let doc = load(VECTORS);
    let cases = doc["generation_tests"].as_array().unwrap();
    assert_eq!(cases.len(), 5);
    for case in cases {
        let index = u(&case["index"]);
        assert_eq!(
            u64::from_str_radix(s(&case["index_hex"]), 16).unwrap(),
            index,
            "{}",
            s(&case["name"])
        );
        assert_eq!(
            hex::encode(per_commitment_secret(&b32(&case["seed"]), index)),
            s(&case["expected_secret"]),
            "{}",
            s(&case["name"])
        );
    }
}

#[test]
fn every_storage_case() {
    let doc = load(VECTORS);
    let cases = doc["storage_tests"].as_array().unwrap();
    assert_eq!(cases.len(), 9);
    let mut steps_run = 0;
    for case in cases {
        let name = s(&case["name"]);
        let mut store = ShachainStore::new();
        let mut inserted: Vec<(u64, [u8; 32])> = Vec::new();
        let steps = case["steps"].as_array().unwrap();
        for (i, step) in steps.iter().enumerate() {
            steps_run += 1;
            let index = u(&step["index"]);
            let secret = b32(&step["secret"]);
            let before = store.clone();
            let result = store.insert(index, secret);
            match s(&step["expected_result"]) {
                "ok" => {
                    result.unwrap_or_else(|e| panic!("{name}: step {i} refused: {e}"));
                    inserted.push((index, secret));
                    assert_eq!(store.min_index(), Some(index), "{name}: step {i}");
                    for (j, sec) in &inserted {
                        assert_eq!(store.get(*j), Some(*sec), "{name}: step {i}: get({j})");
                    }
                    assert_eq!(store.get(index - 1), None, "{name}: step {i}");
                    let back = ShachainStore::from_bytes(&store.to_bytes()).unwrap();
                    assert_eq!(back, store, "{name}: step {i}: round trip");
                }
                "error" => {
                    assert_eq!(
                        result,
                        Err(ShachainError::InconsistentSecret { index }),
                        "{name}: step {i} accepted"
                    );
                    assert_eq!(store, before, "{name}: store changed on error");
                    // The error is the last step of every failing case.
                    assert_eq!(i, steps.len() - 1, "{name}");
                }
                other => panic!("unknown result {other}"),
            }
        }
        if name == "insert_secret correct sequence" {
            let seed = b32(&case["seed_used_for_correct_secrets"]);
            for (j, sec) in &inserted {
                assert_eq!(per_commitment_secret(&seed, *j), *sec);
            }
        }
    }
    assert_eq!(steps_run, 56);
}

proptest! {
    /// Consecutive secrets from a random seed and starting index can all be read back, and
    /// the store survives serialization.
    #[test]
    fn insert_get_round_trip(
        seed in any::<[u8; 32]>(),
        start_offset in 0u64..1_000_000,
        count in 1u64..300,
    ) {
        let start = MAX_INDEX - start_offset;
        let mut store = ShachainStore::new();
        for k in 0..count {
            let index = start - k;
            store.insert(index, per_commitment_secret(&seed, index)).unwrap();
        }
        let min = start - (count - 1);
        prop_assert_eq!(store.min_index(), Some(min));
        for index in min..=start {
            prop_assert_eq!(store.get(index), Some(per_commitment_secret(&seed, index)));
        }
        prop_assert_eq!(store.get(min - 1), None);
        let back = ShachainStore::from_bytes(&store.to_bytes()).unwrap();
        prop_assert_eq!(&back, &store);
        // A secret from another seed is refused once it would derive stored ones.
        let mut other = seed;
        other[0] ^= 1;
        let next = min - 1;
        let before = store.clone();
        if next.trailing_zeros() > 0 && count > 1 {
            prop_assert!(store.insert(next, per_commitment_secret(&other, next)).is_err());
            prop_assert_eq!(&store, &before);
        }
    }

    /// Stores starting near index 0 (the end of the chain) work too.
    #[test]
    fn insert_down_to_zero(seed in any::<[u8; 32]>(), count in 1u64..200) {
        let mut store = ShachainStore::new();
        for index in (0..count).rev() {
            store.insert(index, per_commitment_secret(&seed, index)).unwrap();
        }
        for index in 0..count {
            prop_assert_eq!(store.get(index), Some(per_commitment_secret(&seed, index)));
        }
        prop_assert_eq!(store.get(0), Some(seed));
        prop_assert!(store.insert(0, seed).is_err());
        prop_assert_eq!(ShachainStore::from_bytes(&store.to_bytes()).unwrap(), store);
    }

    /// `from_bytes` never panics, and whatever it accepts serializes back to the same bytes.
    #[test]
    fn from_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..2100)) {
        if let Ok(store) = ShachainStore::from_bytes(&bytes) {
            prop_assert_eq!(store.to_bytes(), bytes);
        }
    }

    /// Well-formed headers with random slots: still no panic.
    #[test]
    fn from_bytes_random_slots(
        slots in proptest::collection::vec((0u8..49, any::<u64>(), any::<[u8; 32]>()), 0..49),
    ) {
        let mut bytes = vec![1u8, slots.len() as u8];
        for (pos, index, secret) in &slots {
            bytes.push(*pos);
            bytes.extend_from_slice(&(index & MAX_INDEX).to_be_bytes());
            bytes.extend_from_slice(secret);
        }
        if let Ok(store) = ShachainStore::from_bytes(&bytes) {
            prop_assert_eq!(store.to_bytes(), bytes);
        }
    }
}
