//! Round trips for every message type: generated values encode, decode back to themselves,
//! and re-encode to the same bytes.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

use crate::arbitrary::WireArbitrary;
use crate::message::{strategies_by_type, Message, KNOWN_MESSAGE_TYPES};

fn check_round_trip(m: &Message) -> Result<(), TestCaseError> {
    let bytes = m.try_encode().expect("generated messages fit");
    prop_assert_eq!(&bytes, &m.encode());
    prop_assert_eq!(u16::from_be_bytes([bytes[0], bytes[1]]), m.msg_type());
    let back = Message::decode(&bytes);
    prop_assert_eq!(back.as_ref(), Ok(m), "bytes {}", hex::encode(&bytes));
    prop_assert_eq!(back.unwrap().encode(), bytes);
    Ok(())
}

#[test]
fn every_message_type_round_trips() {
    let strategies = strategies_by_type();
    assert_eq!(strategies.len(), KNOWN_MESSAGE_TYPES.len());
    let cases = std::cell::Cell::new(0usize);
    for (msg_type, strategy) in strategies {
        let mut runner = TestRunner::new(Config {
            cases: 64,
            ..Config::default()
        });
        runner
            .run(&strategy, |m| {
                cases.set(cases.get() + 1);
                prop_assert_eq!(m.msg_type(), msg_type);
                check_round_trip(&m)
            })
            .unwrap_or_else(|e| panic!("message type {msg_type}: {e}"));
    }
    assert!(cases.get() >= 64 * KNOWN_MESSAGE_TYPES.len());
}

#[test]
fn message_types_are_unique() {
    let mut types = KNOWN_MESSAGE_TYPES.to_vec();
    types.sort_unstable();
    types.dedup();
    assert_eq!(types.len(), KNOWN_MESSAGE_TYPES.len());
    assert_eq!(KNOWN_MESSAGE_TYPES.len(), 50);
}

proptest! {
    #[test]
    fn any_message_round_trips(m in Message::strategy()) {
        check_round_trip(&m)?;
    }
}
