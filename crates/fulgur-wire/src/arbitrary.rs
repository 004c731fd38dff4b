//! Proptest strategies for every wire field type (test builds only), used by the round-trip
//! tests the message macro generates. Strategies only produce values that have a canonical
//! encoding, so `decode(encode(x)) == x` must hold for all of them.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test-only generators"
)]

use std::collections::BTreeMap;

use fulgur_types::Features;
use proptest::collection::vec;
use proptest::prelude::*;

use crate::address::NetAddress;
use crate::bigsize::{BigSize, Tu16, Tu32, Tu64};
use crate::bolt2::{AttributionData, FeeRange, MyCurrentFundingLocked, NextFunding};
use crate::bolt2_interactive::Witness;
use crate::bolt7::{
    ChannelUpdateChecksums, ChannelUpdateTimestamps, EncodedQueryFlags, EncodedShortIds,
    EncodedTimestamps, QueryOptionFlags,
};
use crate::primitives::{ChainHash, ChannelId, PublicKey, Sha256, ShortChannelId, Signature, Txid};
use crate::tlv::TlvRecord;

/// A type with a proptest strategy producing canonical values.
pub trait WireArbitrary: Sized + std::fmt::Debug {
    /// The strategy.
    fn strategy() -> BoxedStrategy<Self>;
}

macro_rules! via_any {
    ($($t:ty),*) => {$(
        impl WireArbitrary for $t {
            fn strategy() -> BoxedStrategy<Self> {
                any::<$t>().boxed()
            }
        }
    )*};
}
via_any!(u8, u16, u32, u64, i8, i16, i32, i64, bool);

impl<const N: usize> WireArbitrary for [u8; N] {
    fn strategy() -> BoxedStrategy<Self> {
        vec(any::<u8>(), N)
            .prop_map(|v| v.try_into().expect("length N"))
            .boxed()
    }
}

impl<T: WireArbitrary + 'static> WireArbitrary for Box<T> {
    fn strategy() -> BoxedStrategy<Self> {
        T::strategy().prop_map(Box::new).boxed()
    }
}

impl<T: WireArbitrary + 'static> WireArbitrary for Option<T> {
    fn strategy() -> BoxedStrategy<Self> {
        proptest::option::of(T::strategy()).boxed()
    }
}

impl WireArbitrary for Vec<u8> {
    fn strategy() -> BoxedStrategy<Self> {
        prop_oneof![vec(any::<u8>(), 0..8), vec(any::<u8>(), 0..300)].boxed()
    }
}

macro_rules! small_vec {
    ($($t:ty),*) => {$(
        impl WireArbitrary for Vec<$t> {
            fn strategy() -> BoxedStrategy<Self> {
                vec(<$t>::strategy(), 0..5).boxed()
            }
        }
    )*};
}
small_vec!(
    Signature,
    ChainHash,
    Witness,
    ChannelUpdateChecksums,
    ChannelUpdateTimestamps,
    ShortChannelId
);

macro_rules! via_bytes {
    ($($t:ty => $f:expr),* $(,)?) => {$(
        impl WireArbitrary for $t {
            fn strategy() -> BoxedStrategy<Self> {
                any::<[u8; 32]>().prop_map($f).boxed()
            }
        }
    )*};
}
via_bytes!(
    ChainHash => ChainHash::from,
    ChannelId => ChannelId,
    Sha256 => Sha256,
    Txid => <Txid as bitcoin::hashes::Hash>::from_byte_array,
);

impl WireArbitrary for Signature {
    fn strategy() -> BoxedStrategy<Self> {
        <[u8; 64]>::strategy().prop_map(Signature).boxed()
    }
}

impl WireArbitrary for PublicKey {
    fn strategy() -> BoxedStrategy<Self> {
        any::<[u8; 32]>()
            .prop_filter_map("valid secret key", |b| {
                secp256k1::SecretKey::from_slice(&b).ok()
            })
            .prop_map(|sk| sk.public_key(secp256k1::SECP256K1))
            .boxed()
    }
}

impl WireArbitrary for ShortChannelId {
    fn strategy() -> BoxedStrategy<Self> {
        any::<u64>().prop_map(ShortChannelId).boxed()
    }
}

impl WireArbitrary for Features {
    fn strategy() -> BoxedStrategy<Self> {
        vec(0usize..300, 0..10)
            .prop_map(Features::from_bits)
            .boxed()
    }
}

impl WireArbitrary for BigSize {
    fn strategy() -> BoxedStrategy<Self> {
        any::<u64>().prop_map(BigSize).boxed()
    }
}

impl WireArbitrary for QueryOptionFlags {
    fn strategy() -> BoxedStrategy<Self> {
        any::<u64>().prop_map(QueryOptionFlags).boxed()
    }
}

macro_rules! via_inner {
    ($($t:ident($inner:ty)),*) => {$(
        impl WireArbitrary for $t {
            fn strategy() -> BoxedStrategy<Self> {
                <$inner>::strategy().prop_map($t).boxed()
            }
        }
    )*};
}
via_inner!(
    Tu16(u16),
    Tu32(u32),
    Tu64(u64),
    EncodedShortIds(Vec<ShortChannelId>),
    EncodedTimestamps(Vec<ChannelUpdateTimestamps>)
);

impl WireArbitrary for EncodedQueryFlags {
    fn strategy() -> BoxedStrategy<Self> {
        vec(any::<u64>(), 0..5).prop_map(EncodedQueryFlags).boxed()
    }
}

impl WireArbitrary for Witness {
    fn strategy() -> BoxedStrategy<Self> {
        <Vec<u8>>::strategy()
            .prop_map(|witness_data| Witness { witness_data })
            .boxed()
    }
}

impl WireArbitrary for FeeRange {
    fn strategy() -> BoxedStrategy<Self> {
        (any::<u64>(), any::<u64>())
            .prop_map(|(min_fee_satoshis, max_fee_satoshis)| FeeRange {
                min_fee_satoshis,
                max_fee_satoshis,
            })
            .boxed()
    }
}

impl WireArbitrary for NextFunding {
    fn strategy() -> BoxedStrategy<Self> {
        (Txid::strategy(), any::<u8>())
            .prop_map(|(next_funding_txid, retransmit_flags)| NextFunding {
                next_funding_txid,
                retransmit_flags,
            })
            .boxed()
    }
}

impl WireArbitrary for MyCurrentFundingLocked {
    fn strategy() -> BoxedStrategy<Self> {
        (Txid::strategy(), any::<u8>())
            .prop_map(
                |(my_current_funding_locked_txid, retransmit_flags)| MyCurrentFundingLocked {
                    my_current_funding_locked_txid,
                    retransmit_flags,
                },
            )
            .boxed()
    }
}

impl WireArbitrary for AttributionData {
    fn strategy() -> BoxedStrategy<Self> {
        (any::<[u32; 20]>(), vec(any::<[u8; 4]>(), 210))
            .prop_map(|(htlc_hold_times, hmacs)| AttributionData {
                htlc_hold_times,
                truncated_hmacs: hmacs.try_into().expect("210 hmacs"),
            })
            .boxed()
    }
}

impl WireArbitrary for ChannelUpdateTimestamps {
    fn strategy() -> BoxedStrategy<Self> {
        (any::<u32>(), any::<u32>())
            .prop_map(
                |(timestamp_node_id_1, timestamp_node_id_2)| ChannelUpdateTimestamps {
                    timestamp_node_id_1,
                    timestamp_node_id_2,
                },
            )
            .boxed()
    }
}

impl WireArbitrary for ChannelUpdateChecksums {
    fn strategy() -> BoxedStrategy<Self> {
        (any::<u32>(), any::<u32>())
            .prop_map(
                |(checksum_node_id_1, checksum_node_id_2)| ChannelUpdateChecksums {
                    checksum_node_id_1,
                    checksum_node_id_2,
                },
            )
            .boxed()
    }
}

/// One address descriptor of a known type.
fn known_address() -> BoxedStrategy<NetAddress> {
    prop_oneof![
        (any::<[u8; 4]>(), any::<u16>()).prop_map(|(a, port)| NetAddress::Ipv4 {
            addr: a.into(),
            port
        }),
        (any::<[u8; 16]>(), any::<u16>()).prop_map(|(a, port)| NetAddress::Ipv6 {
            addr: a.into(),
            port
        }),
        (any::<[u8; 10]>(), any::<u16>()).prop_map(|(addr, port)| NetAddress::TorV2 { addr, port }),
        (<[u8; 35]>::strategy(), any::<u16>())
            .prop_map(|(addr, port)| NetAddress::TorV3 { addr, port }),
        (vec(any::<u8>(), 0..=255), any::<u16>())
            .prop_map(|(hostname, port)| NetAddress::Dns { hostname, port }),
    ]
    .boxed()
}

/// A descriptor of a type this crate does not know (it swallows the rest of the field).
fn unknown_address() -> BoxedStrategy<NetAddress> {
    (prop_oneof![Just(0u8), 6u8..=255], vec(any::<u8>(), 0..20))
        .prop_map(|(kind, data)| NetAddress::Unknown { kind, data })
        .boxed()
}

impl WireArbitrary for NetAddress {
    fn strategy() -> BoxedStrategy<Self> {
        prop_oneof![4 => known_address(), 1 => unknown_address()].boxed()
    }
}

impl WireArbitrary for Vec<NetAddress> {
    fn strategy() -> BoxedStrategy<Self> {
        (
            vec(known_address(), 0..4),
            proptest::option::of(unknown_address()),
        )
            .prop_map(|(mut list, last)| {
                list.extend(last);
                list
            })
            .boxed()
    }
}

/// Up to three unknown odd records whose types avoid `known`, sorted.
pub fn unknown_tlvs(known: &'static [u64]) -> BoxedStrategy<Vec<TlvRecord>> {
    let ty = prop_oneof![0u64..600, any::<u64>()].prop_map(|t| t | 1);
    vec((ty, vec(any::<u8>(), 0..20)), 0..3)
        .prop_map(move |records| {
            records
                .into_iter()
                .filter(|(ty, _)| !known.contains(ty))
                .collect::<BTreeMap<u64, Vec<u8>>>()
                .into_iter()
                .map(|(ty, value)| TlvRecord { ty, value })
                .collect()
        })
        .boxed()
}
