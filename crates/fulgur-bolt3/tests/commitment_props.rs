//! Property tests of commitment construction: it never panics, and a built commitment
//! accounts for every satoshi of the funding output.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use bitcoin::hashes::Hash;
use bitcoin::{OutPoint, Txid};
use fulgur_bolt3::commitment::{
    build_commitment, Basepoints, CommitmentHtlc, CommitmentKeys, CommitmentParams,
};
use fulgur_bolt3::fees::{commitment_fee_sat, is_htlc_trimmed, ANCHOR_OUTPUT_VALUE_SAT};
use fulgur_bolt3::htlc_tx::build_htlc_txs;
use fulgur_bolt3::{Bolt3Error, ChannelType};
use proptest::prelude::*;
use secp256k1::{PublicKey, SecretKey, SECP256K1};

fn point(b: u8) -> PublicKey {
    PublicKey::from_secret_key(SECP256K1, &SecretKey::from_slice(&[b; 32]).unwrap())
}

fn keys() -> CommitmentKeys {
    let holder = Basepoints {
        funding_pubkey: point(1),
        revocation_basepoint: point(2),
        payment_basepoint: point(3),
        delayed_payment_basepoint: point(4),
        htlc_basepoint: point(5),
    };
    let counterparty = Basepoints {
        funding_pubkey: point(11),
        revocation_basepoint: point(12),
        payment_basepoint: point(13),
        delayed_payment_basepoint: point(14),
        htlc_basepoint: point(15),
    };
    CommitmentKeys::derive(&point(99), &holder, &counterparty).unwrap()
}

fn channel_type() -> impl Strategy<Value = ChannelType> {
    prop_oneof![
        Just(ChannelType::StaticRemoteKey),
        Just(ChannelType::AnchorsZeroFeeHtlcTx)
    ]
}

fn feerate() -> impl Strategy<Value = u32> {
    prop_oneof![0u32..20_000, 0u32..10_000_000, any::<u32>()]
}

/// `(offered, amount_msat, cltv_expiry, payment hash byte)`, small amounts favoured so that
/// trimming happens at both ends.
fn htlcs() -> impl Strategy<Value = Vec<(bool, u64, u32, u8)>> {
    proptest::collection::vec(
        (
            any::<bool>(),
            prop_oneof![0u64..5_000_000, 0u64..1_000_000_000],
            prop_oneof![500u32..510, any::<u32>()],
            0u8..4,
        ),
        0..24,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// With consistent balances, construction either succeeds with every satoshi accounted
    /// for, or fails only because the opener cannot pay for the anchors.
    #[test]
    fn outputs_plus_fee_equal_funding(
        funding_extra_sat in prop_oneof![0u64..20_000_000, 0u64..(1u64 << 40)],
        local_share in 0.0f64..=1.0,
        raw_htlcs in htlcs(),
        feerate_per_kw in feerate(),
        dust_limit_sat in prop_oneof![0u64..1_000, 0u64..1_000_000],
        channel_type in channel_type(),
        holder_is_opener in any::<bool>(),
        commitment_number in 0u64..(1u64 << 48),
        to_self_delay in any::<u16>(),
        obscuring_factor in 0u64..(1u64 << 48),
    ) {
        let htlcs: Vec<CommitmentHtlc> = raw_htlcs
            .iter()
            .enumerate()
            .map(|(i, &(offered, amount_msat, cltv_expiry, hash))| CommitmentHtlc {
                offered,
                amount_msat,
                cltv_expiry,
                payment_hash: [hash; 32],
                htlc_id: i as u64,
            })
            .collect();
        let htlc_msat: u64 = htlcs.iter().map(|h| h.amount_msat).sum();
        let funding_amount_sat = htlc_msat.div_ceil(1000) + funding_extra_sat;
        let balance_msat = funding_amount_sat * 1000 - htlc_msat;
        let to_local_msat = ((balance_msat as f64) * local_share) as u64;
        let to_local_msat = to_local_msat.min(balance_msat);
        let to_remote_msat = balance_msat - to_local_msat;
        let params = CommitmentParams {
            funding_outpoint: OutPoint { txid: Txid::all_zeros(), vout: 0 },
            funding_amount_sat,
            commitment_number,
            obscuring_factor,
            to_self_delay,
            dust_limit_sat,
            feerate_per_kw,
            channel_type,
            holder_is_opener,
        };
        let keys = keys();
        let built = match build_commitment(&params, &keys, to_local_msat, to_remote_msat, &htlcs) {
            Ok(built) => built,
            Err(Bolt3Error::OutputsExceedFunding { .. }) => {
                // Only possible when the opener's balance does not cover the anchors.
                prop_assert!(channel_type.has_anchors());
                let opener_sat =
                    if holder_is_opener { to_local_msat } else { to_remote_msat } / 1000;
                prop_assert!(opener_sat < 2 * ANCHOR_OUTPUT_VALUE_SAT
                    + commitment_fee_sat(feerate_per_kw, htlcs.len(), channel_type));
                return Ok(());
            }
            Err(e) => return Err(TestCaseError::fail(format!("unexpected error {e}"))),
        };

        let outputs_sat: u64 = built.tx.output.iter().map(|o| o.value.to_sat()).sum();
        prop_assert_eq!(outputs_sat + built.fee_sat, funding_amount_sat);

        // Untrimmed HTLCs are exactly the ones present, each where the map says.
        let untrimmed = htlcs
            .iter()
            .filter(|h| {
                !is_htlc_trimmed(h.offered, h.amount_msat, dust_limit_sat, feerate_per_kw, channel_type)
            })
            .count();
        prop_assert_eq!(built.htlc_outputs.len(), untrimmed);
        prop_assert_eq!(
            built.base_fee_sat,
            commitment_fee_sat(feerate_per_kw, untrimmed, channel_type)
        );
        for out in &built.htlc_outputs {
            let txout = &built.tx.output[out.output_index as usize];
            prop_assert_eq!(txout.value.to_sat(), out.amount_sat);
            prop_assert_eq!(out.amount_sat, out.amount_msat / 1000);
            prop_assert_eq!(&txout.script_pubkey, &out.witness_script.to_p2wsh());
        }
        let anchors = usize::from(built.local_anchor_output.is_some())
            + usize::from(built.remote_anchor_output.is_some());
        prop_assert_eq!(
            built.tx.output.len(),
            untrimmed
                + usize::from(built.to_local_output.is_some())
                + usize::from(built.to_remote_output.is_some())
                + anchors
        );
        if !channel_type.has_anchors() {
            prop_assert_eq!(anchors, 0);
        }

        // The non-opener's balance is never charged.
        let (non_opener_msat, non_opener_output) = if holder_is_opener {
            (to_remote_msat, built.to_remote_output)
        } else {
            (to_local_msat, built.to_local_output)
        };
        if non_opener_msat / 1000 >= dust_limit_sat {
            let index = non_opener_output.unwrap() as usize;
            prop_assert_eq!(built.tx.output[index].value.to_sat(), non_opener_msat / 1000);
        } else {
            prop_assert!(non_opener_output.is_none());
        }
        // The opener's output is its balance minus base fee and anchors.
        let opener_msat = if holder_is_opener { to_local_msat } else { to_remote_msat };
        let owed = built.base_fee_sat
            + if channel_type.has_anchors() { 2 * ANCHOR_OUTPUT_VALUE_SAT } else { 0 };
        prop_assert_eq!(built.opener_shortfall_sat, owed.saturating_sub(opener_msat / 1000));
        let opener_output = if holder_is_opener { built.to_local_output } else { built.to_remote_output };
        if let Some(index) = opener_output {
            // What the opener cannot pay is the shortfall above (an output is kept, at zero,
            // only with a zero dust limit).
            prop_assert_eq!(
                built.tx.output[index as usize].value.to_sat(),
                (opener_msat / 1000).saturating_sub(owed)
            );
        }

        // BIP 69 order.
        for pair in built.tx.output.windows(2) {
            prop_assert!(
                (pair[0].value, pair[0].script_pubkey.as_bytes())
                    <= (pair[1].value, pair[1].script_pubkey.as_bytes())
            );
        }

        // Every HTLC transaction spends its output.
        let htlc_txs = build_htlc_txs(&built, &params, &keys);
        let txid = built.tx.compute_txid();
        prop_assert_eq!(htlc_txs.len(), built.htlc_outputs.len());
        for (tx, out) in htlc_txs.iter().zip(&built.htlc_outputs) {
            prop_assert_eq!(tx.input[0].previous_output.txid, txid);
            prop_assert_eq!(tx.input[0].previous_output.vout, out.output_index);
            prop_assert!(tx.output[0].value.to_sat() <= out.amount_sat);
        }
    }

    /// Arbitrary (usually inconsistent) inputs never panic.
    #[test]
    fn never_panics(
        funding_amount_sat in any::<u64>(),
        to_local_msat in any::<u64>(),
        to_remote_msat in any::<u64>(),
        raw_htlcs in htlcs(),
        feerate_per_kw in any::<u32>(),
        dust_limit_sat in any::<u64>(),
        channel_type in channel_type(),
        holder_is_opener in any::<bool>(),
        commitment_number in any::<u64>(),
    ) {
        let htlcs: Vec<CommitmentHtlc> = raw_htlcs
            .iter()
            .map(|&(offered, amount_msat, cltv_expiry, hash)| CommitmentHtlc {
                offered,
                amount_msat,
                cltv_expiry,
                payment_hash: [hash; 32],
                htlc_id: 0,
            })
            .collect();
        let params = CommitmentParams {
            funding_outpoint: OutPoint::null(),
            funding_amount_sat,
            commitment_number,
            obscuring_factor: 0,
            to_self_delay: 144,
            dust_limit_sat,
            feerate_per_kw,
            channel_type,
            holder_is_opener,
        };
        let _ = build_commitment(&params, &keys(), to_local_msat, to_remote_msat, &htlcs);
    }
}

/// Found by `outputs_plus_fee_equal_funding`: an opener 1 sat short of the fee and anchors,
/// with a zero dust limit, keeps a zero-valued output and reports the shortfall.
#[test]
fn an_opener_short_of_the_anchors_keeps_a_zero_output() {
    let params = CommitmentParams {
        funding_outpoint: OutPoint {
            txid: Txid::all_zeros(),
            vout: 0,
        },
        funding_amount_sat: 757,
        commitment_number: 0,
        obscuring_factor: 0,
        to_self_delay: 0,
        dust_limit_sat: 0,
        feerate_per_kw: 88,
        channel_type: ChannelType::AnchorsZeroFeeHtlcTx,
        holder_is_opener: false,
    };
    let built = build_commitment(&params, &keys(), 0, 757_000, &[]).unwrap();
    assert_eq!(built.opener_shortfall_sat, 1);
    let index = built.to_remote_output.unwrap() as usize;
    assert_eq!(built.tx.output[index].value.to_sat(), 0);
}
