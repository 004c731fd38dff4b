//! Fuzz-style properties of [`Message::decode`] on hostile input: random bytes and mutated
//! valid encodings never panic, whatever decodes re-encodes to something that decodes to the
//! same message, and decoding allocates at most a constant times the input length (checked
//! with a counting allocator, per thread so parallel tests do not disturb each other).

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]
#![allow(
    unsafe_code,
    reason = "a counting global allocator for the allocation-bound test"
)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use proptest::collection::vec;
use proptest::prelude::*;

use crate::arbitrary::WireArbitrary;
use crate::message::{Message, KNOWN_MESSAGE_TYPES};

/// Counts the bytes this thread asks the allocator for.
struct Counting;

thread_local! {
    static ALLOCATED: Cell<usize> = const { Cell::new(0) };
}

fn count(size: usize) {
    let _ = ALLOCATED.try_with(|a| a.set(a.get().saturating_add(size)));
}

// SAFETY: every method forwards to `System` with the same arguments; counting only touches
// a const-initialized thread-local `Cell` (no allocation, no destructor).
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count(layout.size());
        // SAFETY: same contract as our caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count(layout.size());
        // SAFETY: same contract as our caller's.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as our caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count(new_size);
        // SAFETY: same contract as our caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Bytes allocated on this thread while running `f`.
fn allocated_by<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let before = ALLOCATED.with(Cell::get);
    let out = f();
    let after = ALLOCATED.with(Cell::get);
    (out, after.saturating_sub(before))
}

/// The allowance: the largest decoded element per input byte is a 32-byte unknown TLV
/// record from 2 input bytes (64 with `Vec` doubling), plus a constant for error boxes.
fn allowance(input_len: usize) -> usize {
    64 * input_len + 4096
}

/// Decodes, checking the allocation bound and, on success, the re-encoding property.
fn check_decode(bytes: &[u8]) -> Result<(), TestCaseError> {
    let (result, allocated) = allocated_by(|| Message::decode(bytes));
    prop_assert!(
        allocated <= allowance(bytes.len()),
        "{} bytes allocated for {} input bytes",
        allocated,
        bytes.len()
    );
    if let Ok(m) = result {
        let again = Message::decode(&m.encode());
        prop_assert_eq!(again, Ok(m));
    }
    Ok(())
}

#[derive(Debug, Clone)]
enum Mutation {
    Flip(usize, u8),
    Truncate(usize),
    Insert(usize, u8),
    Remove(usize),
    Append(Vec<u8>),
    /// Overwrites two bytes with a large big-endian `u16` (a hostile length or count).
    BigU16(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 1u8..).prop_map(|(i, x)| Mutation::Flip(i, x)),
        any::<usize>().prop_map(Mutation::Truncate),
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Insert(i, b)),
        any::<usize>().prop_map(Mutation::Remove),
        vec(any::<u8>(), 1..12).prop_map(Mutation::Append),
        any::<usize>().prop_map(Mutation::BigU16),
    ]
}

fn apply(bytes: &mut Vec<u8>, m: &Mutation) {
    let len = bytes.len().max(1);
    match m {
        Mutation::Flip(i, x) => {
            if let Some(b) = bytes.get_mut(i % len) {
                *b ^= x;
            }
        }
        Mutation::Truncate(i) => bytes.truncate(i % len),
        Mutation::Insert(i, b) => bytes.insert(i % (bytes.len() + 1), *b),
        Mutation::Remove(i) => {
            if !bytes.is_empty() {
                bytes.remove(i % len);
            }
        }
        Mutation::Append(extra) => bytes.extend_from_slice(extra),
        Mutation::BigU16(i) => {
            let at = i % len;
            for (k, v) in [0xffu8, 0xf0].into_iter().enumerate() {
                if let Some(b) = bytes.get_mut(at + k) {
                    *b = v;
                }
            }
        }
    }
}

/// A message type, mostly known ones, so payload decoders are exercised.
fn msg_type() -> impl Strategy<Value = u16> {
    prop_oneof![
        4 => proptest::sample::select(KNOWN_MESSAGE_TYPES.to_vec()),
        1 => any::<u16>(),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn random_payloads_never_panic(ty in msg_type(), payload in vec(any::<u8>(), 0..400)) {
        let mut bytes = ty.to_be_bytes().to_vec();
        bytes.extend_from_slice(&payload);
        check_decode(&bytes)?;
    }

    #[test]
    fn random_bytes_never_panic(bytes in vec(any::<u8>(), 0..64)) {
        check_decode(&bytes)?;
    }

    #[test]
    fn mutated_encodings_never_panic(
        m in Message::strategy(),
        mutations in vec(mutation(), 1..4),
    ) {
        let mut bytes = m.encode();
        check_decode(&bytes)?;
        for mutation in &mutations {
            apply(&mut bytes, mutation);
        }
        check_decode(&bytes)?;
    }
}

/// Hostile lengths and counts right after the fixed fields of every message type: a claimed
/// 65535-element array or a 2^64-byte TLV must not allocate.
#[test]
fn hostile_lengths_do_not_allocate() {
    for &ty in KNOWN_MESSAGE_TYPES {
        for fill in [0x00u8, 0xfd, 0xfe, 0xff] {
            for len in 0..200 {
                let mut bytes = ty.to_be_bytes().to_vec();
                bytes.extend(std::iter::repeat_n(fill, len));
                check_decode(&bytes).unwrap();
            }
        }
    }
}

#[test]
fn allocator_counts() {
    let (v, n) = allocated_by(|| vec![0u8; 1000]);
    assert_eq!(v.len(), 1000);
    assert!(n >= 1000);
}
