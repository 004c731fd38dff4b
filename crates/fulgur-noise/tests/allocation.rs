//! Hostile input never makes the responder or the decoder allocate more than
//! one frame (`18 + 65535 + 16` bytes). A counting global allocator measures
//! the bytes live at peak while the code under test runs, per thread.

#![allow(
    unsafe_code,
    reason = "a counting global allocator is the only way to see allocations"
)]
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code")]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use fulgur_noise::{
    Decoder, Initiator, Responder, Transport, ACT_ONE_LEN, ACT_THREE_LEN, MAX_FRAME_LEN,
    MAX_MESSAGE_LEN,
};
use proptest::prelude::*;
use secp256k1::{SecretKey, SECP256K1};

struct Counting;

thread_local! {
    static ACTIVE: Cell<bool> = const { Cell::new(false) };
    static LIVE: Cell<usize> = const { Cell::new(0) };
    static PEAK: Cell<usize> = const { Cell::new(0) };
}

fn on_alloc(size: usize) {
    let _ = ACTIVE.try_with(|active| {
        if active.get() {
            let live = LIVE.with(|live| {
                live.set(live.get() + size);
                live.get()
            });
            PEAK.with(|peak| peak.set(peak.get().max(live)));
        }
    });
}

fn on_dealloc(size: usize) {
    let _ = ACTIVE.try_with(|active| {
        if active.get() {
            LIVE.with(|live| live.set(live.get().saturating_sub(size)));
        }
    });
}

// SAFETY: every call is forwarded unchanged to the system allocator; the
// bookkeeping only touches const-initialized thread-locals, which never
// allocate.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        on_alloc(layout.size());
        // SAFETY: same contract as our caller's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        on_alloc(layout.size());
        // SAFETY: same contract as our caller's.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        on_dealloc(layout.size());
        // SAFETY: same contract as our caller's.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        on_dealloc(layout.size());
        on_alloc(new_size);
        // SAFETY: same contract as our caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Runs `f` and returns its result and the peak bytes it had allocated and
/// not yet freed.
fn peak_allocation<R>(f: impl FnOnce() -> R) -> (R, usize) {
    LIVE.with(|live| live.set(0));
    PEAK.with(|peak| peak.set(0));
    ACTIVE.with(|active| active.set(true));
    let result = f();
    ACTIVE.with(|active| active.set(false));
    (result, PEAK.with(Cell::get))
}

fn secret_key() -> impl Strategy<Value = SecretKey> {
    any::<[u8; 32]>().prop_filter_map("not a valid secret key", |b| SecretKey::from_slice(&b).ok())
}

#[test]
fn the_allocation_counter_works() {
    let (v, peak) = peak_allocation(|| vec![0u8; 1000]);
    assert_eq!(v.len(), 1000);
    assert!(peak >= 1000, "counter saw {peak}");
}

#[test]
fn a_maximal_frame_allocates_one_frame() {
    let mut a = Transport::from_keys([1; 32], [2; 32], [3; 32]);
    let (_, rx) = Transport::from_keys([1; 32], [3; 32], [2; 32]).split();
    let frame = a.encrypt(&vec![7; MAX_MESSAGE_LEN]).unwrap();
    let mut decoder = Decoder::new(rx);
    let (message, peak) = peak_allocation(|| {
        for chunk in frame.chunks(1000) {
            assert_eq!(decoder.feed(chunk), chunk.len());
        }
        decoder.next_message().unwrap().unwrap()
    });
    assert_eq!(message.len(), MAX_MESSAGE_LEN);
    // The body buffer is counted, and it is the only allocation.
    assert!(
        (MAX_MESSAGE_LEN..=MAX_FRAME_LEN).contains(&peak),
        "peak {peak}"
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Random or mutated act one and act three bytes.
    #[test]
    fn responder_allocates_at_most_one_frame(
        local in secret_key(),
        ephemeral in secret_key(),
        initiator_static in secret_key(),
        initiator_ephemeral in secret_key(),
        random_one in any::<[u8; ACT_ONE_LEN]>(),
        random_three in any::<[u8; ACT_THREE_LEN]>(),
        position in 0..ACT_THREE_LEN,
        flip in 1u8..=255,
    ) {
        let mut responder = Responder::new(local, ephemeral);
        let (result, peak) = peak_allocation(|| responder.process_act_one(&random_one));
        prop_assert!(result.is_err());
        prop_assert!(peak <= MAX_FRAME_LEN, "peak {}", peak);

        let responder_id = local.public_key(SECP256K1);
        let initiator = Initiator::new(initiator_static, responder_id, initiator_ephemeral);
        let mut responder = Responder::new(local, ephemeral);
        let act_two = responder.process_act_one(&initiator.act_one()).unwrap();
        let (mut act_three, _) = initiator.process_act_two(&act_two).unwrap();
        act_three[position] ^= flip;
        let (result, peak) = peak_allocation(|| responder.process_act_three(&act_three));
        prop_assert!(result.is_err());
        prop_assert!(peak <= MAX_FRAME_LEN, "peak {}", peak);

        let mut responder = Responder::new(local, ephemeral);
        let act_one = initiator_act_one(initiator_static, local, initiator_ephemeral);
        responder.process_act_one(&act_one).unwrap();
        let (result, peak) = peak_allocation(|| responder.process_act_three(&random_three));
        prop_assert!(result.is_err());
        prop_assert!(peak <= MAX_FRAME_LEN, "peak {}", peak);
    }

    /// Random bytes, a genuine prefix announcing the largest body followed by
    /// random bytes, and a genuine frame with a byte changed.
    #[test]
    fn decoder_allocates_at_most_one_frame(
        noise in prop::collection::vec(any::<u8>(), 0..70_000),
        chunk in 1usize..9000,
        position in any::<prop::sample::Index>(),
        flip in 1u8..=255,
    ) {
        let decoder = || Decoder::new(Transport::from_keys([1; 32], [3; 32], [2; 32]).split().1);
        let mut sender = Transport::from_keys([1; 32], [2; 32], [3; 32]);
        let frame = sender.encrypt(&vec![1; MAX_MESSAGE_LEN]).unwrap();

        let mut header_then_noise = frame[..18].to_vec();
        header_then_noise.extend_from_slice(&noise);
        let mut tampered = frame.clone();
        tampered[position.index(frame.len())] ^= flip;

        for input in [&noise, &header_then_noise, &tampered] {
            let mut decoder = decoder();
            let ((), peak) = peak_allocation(|| {
                let mut rest = &input[..];
                while !rest.is_empty() {
                    let size = chunk.min(rest.len());
                    let used = decoder.feed(&rest[..size]);
                    let outcome = decoder.next_message();
                    if outcome.is_err() || used == 0 {
                        break;
                    }
                    rest = &rest[used..];
                }
            });
            prop_assert!(peak <= MAX_FRAME_LEN, "peak {}", peak);
            prop_assert!(decoder.buffered() <= MAX_FRAME_LEN);
        }
    }
}

fn initiator_act_one(
    local: SecretKey,
    responder: SecretKey,
    ephemeral: SecretKey,
) -> [u8; ACT_ONE_LEN] {
    Initiator::new(local, responder.public_key(SECP256K1), ephemeral).act_one()
}
