//! Expected weights, fees and trimming: BOLT 3 "Fees" ("Fee Calculation", "Fee Payment"),
//! "Trimmed Outputs" and "Dust Limits".
//!
//! All fees are `feerate_per_kw * expected_weight / 1000`, rounded down. The expected weights
//! assume 73-byte signatures and (for commitments) both `to_local` and `to_remote` outputs
//! (and, with anchors, both anchors), whatever the actual transaction holds.

use crate::ChannelType;

/// Value of each anchor output (`option_anchors`), in satoshi.
pub const ANCHOR_OUTPUT_VALUE_SAT: u64 = 330;

/// What the opener pays for the two anchor outputs (0 without anchors).
pub fn anchors_sat(channel_type: ChannelType) -> u64 {
    if channel_type.has_anchors() {
        2 * ANCHOR_OUTPUT_VALUE_SAT
    } else {
        0
    }
}
/// Expected weight of a commitment transaction without HTLC outputs, without anchors.
pub const COMMITMENT_BASE_WEIGHT: u64 = 724;
/// Expected weight of a commitment transaction without HTLC outputs, with anchors.
pub const ANCHORS_COMMITMENT_BASE_WEIGHT: u64 = 1124;
/// Expected weight each untrimmed HTLC output adds to a commitment transaction.
pub const COMMITMENT_WEIGHT_PER_HTLC: u64 = 172;
/// Expected weight of an HTLC-timeout transaction without anchors.
pub const HTLC_TIMEOUT_WEIGHT: u64 = 663;
/// Expected weight of an HTLC-timeout transaction with anchors (its fee is still 0).
pub const ANCHORS_HTLC_TIMEOUT_WEIGHT: u64 = 666;
/// Expected weight of an HTLC-success transaction without anchors.
pub const HTLC_SUCCESS_WEIGHT: u64 = 703;
/// Expected weight of an HTLC-success transaction with anchors (its fee is still 0).
pub const ANCHORS_HTLC_SUCCESS_WEIGHT: u64 = 706;
/// Lowest `dust_limit_satoshis` BOLT 2 lets a peer use (the unknown-segwit-version dust
/// threshold).
pub const MIN_DUST_LIMIT_SAT: u64 = 354;

/// `feerate_per_kw * weight / 1000`, rounded down.
pub fn fee_for_weight(feerate_per_kw: u32, weight: u64) -> u64 {
    u64::from(feerate_per_kw).saturating_mul(weight) / 1000
}

/// Expected commitment weight: 724 (1124 with anchors) + 172 per untrimmed HTLC.
pub fn commitment_weight(num_untrimmed_htlcs: usize, channel_type: ChannelType) -> u64 {
    let base = if channel_type.has_anchors() {
        ANCHORS_COMMITMENT_BASE_WEIGHT
    } else {
        COMMITMENT_BASE_WEIGHT
    };
    let htlcs = u64::try_from(num_untrimmed_htlcs).unwrap_or(u64::MAX);
    base.saturating_add(COMMITMENT_WEIGHT_PER_HTLC.saturating_mul(htlcs))
}

/// The commitment's base fee, which the opener pays: `feerate * weight / 1000`, rounded
/// down. Does not include the anchors nor trimmed amounts.
pub fn commitment_fee_sat(
    feerate_per_kw: u32,
    num_untrimmed_htlcs: usize,
    channel_type: ChannelType,
) -> u64 {
    fee_for_weight(
        feerate_per_kw,
        commitment_weight(num_untrimmed_htlcs, channel_type),
    )
}

/// Fee of an HTLC-timeout transaction: 0 with anchors (zero-fee HTLC transactions),
/// otherwise `feerate * 663 / 1000`.
pub fn htlc_timeout_fee_sat(feerate_per_kw: u32, channel_type: ChannelType) -> u64 {
    if channel_type.has_anchors() {
        0
    } else {
        fee_for_weight(feerate_per_kw, HTLC_TIMEOUT_WEIGHT)
    }
}

/// Fee of an HTLC-success transaction: 0 with anchors (zero-fee HTLC transactions),
/// otherwise `feerate * 703 / 1000`.
pub fn htlc_success_fee_sat(feerate_per_kw: u32, channel_type: ChannelType) -> u64 {
    if channel_type.has_anchors() {
        0
    } else {
        fee_for_weight(feerate_per_kw, HTLC_SUCCESS_WEIGHT)
    }
}

/// Whether an HTLC is trimmed from a commitment: its amount in whole satoshis, minus the
/// fee of the second-stage transaction that would spend it (HTLC-timeout if `offered`,
/// HTLC-success otherwise), is below the holder's `dust_limit_sat`.
///
/// `offered` is from the point of view of the commitment's owner (the holder of this
/// commitment tx).
pub fn is_htlc_trimmed(
    offered: bool,
    amount_msat: u64,
    dust_limit_sat: u64,
    feerate_per_kw: u32,
    channel_type: ChannelType,
) -> bool {
    let second_stage_fee = if offered {
        htlc_timeout_fee_sat(feerate_per_kw, channel_type)
    } else {
        htlc_success_fee_sat(feerate_per_kw, channel_type)
    };
    amount_msat / 1000 < dust_limit_sat.saturating_add(second_stage_fee)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The worked example of BOLT 3 "Fee Calculation": feerate 5000, dust limit 546.
    #[test]
    fn spec_fee_example() {
        let ct = ChannelType::StaticRemoteKey;
        assert_eq!(htlc_timeout_fee_sat(5000, ct), 3315);
        assert_eq!(htlc_success_fee_sat(5000, ct), 3515);
        assert!(!is_htlc_trimmed(true, 5_000_000, 546, 5000, ct));
        assert!(is_htlc_trimmed(true, 1_000_000, 546, 5000, ct));
        assert!(!is_htlc_trimmed(false, 7_000_000, 546, 5000, ct));
        assert!(is_htlc_trimmed(false, 800_000, 546, 5000, ct));
        assert_eq!(commitment_weight(2, ct), 1068);
        assert_eq!(commitment_fee_sat(5000, 2, ct), 5340);
    }

    #[test]
    fn anchors_have_zero_fee_htlc_txs() {
        let ct = ChannelType::AnchorsZeroFeeHtlcTx;
        assert_eq!(htlc_timeout_fee_sat(100_000, ct), 0);
        assert_eq!(htlc_success_fee_sat(100_000, ct), 0);
        assert_eq!(commitment_weight(0, ct), 1124);
        assert!(!is_htlc_trimmed(true, 546_000, 546, 100_000, ct));
        assert!(is_htlc_trimmed(true, 545_999, 546, 100_000, ct));
    }
}
