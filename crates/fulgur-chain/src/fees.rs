//! Fee estimates as Core Lightning v26.06 keeps them (`lightningd/chaintopology.c`,
//! `lightningd/bitcoind.c`, `lightningd/feerate.c`): pure, fed with the backend's
//! `estimatefees` answers.
//!
//! What [`Fees::update`] does with an answer, as `lightningd` does:
//! - targets must ascend strictly (otherwise the answer is refused); a rate above the
//!   previous (shorter) target's is lowered to it;
//! - everything is converted from sat/kVB to perkw (÷ 4, rounding up); the floor is raised to
//!   [`FeeratePerKw::FLOOR`] (253) and every rate to the floor;
//! - an answer with no estimates only updates the floor (older estimates stay in use);
//! - the last three non-empty answers are kept (`min_acceptable`, `max_acceptable` look at all
//!   three); if the targets changed, history and smoothing restart;
//! - smoothed rates: `new × α + old × (1 − α)` with `α = 1 − 0.1^(poll_seconds / 120)`
//!   (0.4377 for the 30 s poll), applied only when it moves the rate by more than 10 %, and
//!   never below the floor.
//!
//! Named rates ([`Fees::opening`] ...) use CLN's targets: opening 12 blocks (raw), mutual
//! close 100 (smoothed), unilateral close 6 (smoothed, × `commit-fee` %), unilateral anchor
//! close 100 (raw, at least 1250 perkw), penalty 12 (smoothed), HTLC resolution 6 (smoothed),
//! delayed-to-us 12 (smoothed), splice = opening + `commit-feerate-offset` (capped at
//! `max_acceptable`). Between targets rates are interpolated linearly; outside them the
//! nearest target's rate is used. `min_acceptable` is half the lowest rate seen in the last
//! three answers (at least the floor); `max_acceptable` is 10 × the highest.
//!
//! Where this differs from CLN on purpose: products that overflow 32 bits in CLN's C
//! (`max_acceptable` for absurd rates, the `onchain_fee_estimates` satoshi amounts) saturate
//! instead of wrapping.

use fulgur_types::{FeerateName, FeeratePerKw, FeerateSpec, FeerateStyle};
use serde::{Deserialize, Serialize};

use crate::backend::FeeEstimates;

/// The rate CLN's `bcli` reports on regtest for a target `estimatesmartfee` cannot estimate
/// (regtest has too little history for real estimates): the 1000 sat/kVB minimum relay fee,
/// which becomes [`FeeratePerKw::FLOOR`] (253 perkw) once converted.
pub const REGTEST_FALLBACK_PERKB: u32 = 1000;

/// The block targets CLN's `bcli` asks `estimatesmartfee` for, with the estimate mode for
/// each: 2 blocks `CONSERVATIVE`, 6, 12 and 100 blocks `ECONOMICAL`.
pub const BCLI_TARGETS: [(u32, EstimateMode); 4] = [
    (2, EstimateMode::Conservative),
    (6, EstimateMode::Economical),
    (12, EstimateMode::Economical),
    (100, EstimateMode::Economical),
];

/// bitcoind's `estimatesmartfee` modes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EstimateMode {
    /// `CONSERVATIVE`: considers a longer history; higher, more stable estimates.
    Conservative,
    /// `ECONOMICAL`: reacts faster to the mempool emptying.
    Economical,
}

impl EstimateMode {
    /// The name bitcoind takes.
    pub fn name(self) -> &'static str {
        match self {
            EstimateMode::Conservative => "CONSERVATIVE",
            EstimateMode::Economical => "ECONOMICAL",
        }
    }
}

/// How many `estimatefees` answers are kept (CLN's `FEE_HISTORY_NUM`).
pub const FEE_HISTORY: usize = 3;

/// The weights CLN's `onchain_fee_estimates` prices (its examples in `chaintopology.c`).
pub mod weights {
    /// A typical channel-funding transaction.
    pub const OPENING: u64 = 702;
    /// A typical mutual close.
    pub const MUTUAL_CLOSE: u64 = 673;
    /// A commitment transaction without HTLCs, non-anchor.
    pub const UNILATERAL_CLOSE: u64 = 598;
    /// A commitment transaction without HTLCs, with anchors.
    pub const UNILATERAL_ANCHOR_CLOSE: u64 = 1112;
    /// An HTLC-timeout transaction (BOLT 3, non-anchor).
    pub const HTLC_TIMEOUT: u64 = 663;
    /// An HTLC-success transaction (BOLT 3, non-anchor).
    pub const HTLC_SUCCESS: u64 = 703;
}

/// The lowest rate CLN uses for an anchor channel's unilateral close: 5 sat/vB.
pub const MIN_ANCHOR_CLOSE_PERKW: u32 = 1250;

/// CLN's block targets for the named rates.
pub mod targets {
    /// `opening` (and `normal`).
    pub const OPENING: u32 = 12;
    /// `mutual_close` (and `slow`).
    pub const MUTUAL_CLOSE: u32 = 100;
    /// `unilateral_close` (and `urgent`).
    pub const UNILATERAL_CLOSE: u32 = 6;
    /// `unilateral_anchor_close`: low-balled, anchors allow CPFP.
    pub const UNILATERAL_ANCHOR_CLOSE: u32 = 100;
    /// Delayed outputs to us.
    pub const DELAYED_TO_US: u32 = 12;
    /// HTLC resolution transactions.
    pub const HTLC_RESOLUTION: u32 = 6;
    /// `penalty`.
    pub const PENALTY: u32 = 12;
}

/// The node options that shape fee rates, with CLN's defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FeeConfig {
    /// How often estimates are polled, in seconds (sets the smoothing factor). CLN: 30.
    pub poll_seconds: u32,
    /// `max_acceptable` is this many times the highest estimate. CLN: 10.
    pub max_fee_multiplier: u32,
    /// `--commit-fee`: percentage of the 6-block estimate for non-anchor commitments. CLN: 100.
    pub commit_fee_percent: u64,
    /// `--commit-feerate-offset`: added to the opening rate for splices. CLN: 5.
    pub feerate_offset: u32,
    /// Whether the node offers anchor channels (then `unilateral_close_satoshis` prices an
    /// anchor commitment). CLN v26.06: yes.
    pub anchors: bool,
}

impl Default for FeeConfig {
    fn default() -> Self {
        FeeConfig {
            poll_seconds: 30,
            max_fee_multiplier: 10,
            commit_fee_percent: 100,
            feerate_offset: 5,
            anchors: true,
        }
    }
}

/// One estimate in perkw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FeerateEstimate {
    /// The confirmation target, in blocks.
    pub blockcount: u32,
    /// The rate (0 never appears: rates are raised to the floor).
    pub rate: FeeratePerKw,
}

/// An `estimatefees` answer `lightningd` would refuse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FeeEstimatesError {
    /// Targets not in strictly ascending order.
    #[error("estimatefees: blocks must be ascending order: {blocks} <= {previous}")]
    NotAscending {
        /// The offending target.
        blocks: u32,
        /// The target before it.
        previous: u32,
    },
}

/// A named or block-target rate asked for before any estimate is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("Cannot estimate fees (yet)")]
pub struct NoFeeEstimates;

impl NoFeeEstimates {
    /// CLN's JSON-RPC error code for it (`BCLI_NO_FEE_ESTIMATES`).
    pub const CODE: i32 = 501;
}

/// The fee state: floor, the last answers and their smoothed rates.
#[derive(Debug, Clone)]
pub struct Fees {
    config: FeeConfig,
    floor: FeeratePerKw,
    /// Newest first; empty vectors for answers not had yet.
    history: [Vec<FeerateEstimate>; FEE_HISTORY],
    smoothed: Vec<FeerateEstimate>,
}

impl Default for Fees {
    fn default() -> Self {
        Fees::new(FeeConfig::default())
    }
}

impl Fees {
    /// No estimates yet; the floor is [`FeeratePerKw::FLOOR`].
    pub fn new(config: FeeConfig) -> Fees {
        Fees {
            config,
            floor: FeeratePerKw::FLOOR,
            history: Default::default(),
            smoothed: Vec::new(),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &FeeConfig {
        &self.config
    }

    /// Takes an `estimatefees` answer. Returns whether the estimates or smoothed rates changed
    /// (CLN then sends a `feerate` change notification); an answer without estimates only
    /// moves the floor and returns `false`.
    pub fn update(&mut self, answer: &FeeEstimates) -> Result<bool, FeeEstimatesError> {
        let mut perkb: Vec<(u32, u32)> = Vec::with_capacity(answer.feerates.len());
        for est in &answer.feerates {
            let mut rate = est.feerate;
            if let Some(&(previous, prev_rate)) = perkb.last() {
                if est.blocks <= previous {
                    return Err(FeeEstimatesError::NotAscending {
                        blocks: est.blocks,
                        previous,
                    });
                }
                if rate > prev_rate {
                    tracing::info!(
                        blocks = est.blocks,
                        rate,
                        previous,
                        prev_rate,
                        "feerate estimate above the shorter target's: lowered to it"
                    );
                    rate = prev_rate;
                }
            }
            perkb.push((est.blocks, rate));
        }
        if perkb.is_empty() {
            tracing::debug!("unable to estimate any fees");
        }
        let floor = FeeratePerKw::from_perkb(answer.feerate_floor).at_least_floor();
        let rates: Vec<FeerateEstimate> = perkb
            .into_iter()
            .map(|(blockcount, rate)| FeerateEstimate {
                blockcount,
                rate: FeeratePerKw::from_perkb(rate).max(floor),
            })
            .collect();
        Ok(self.update_perkw(floor, rates))
    }

    /// `update_feerates`: the answer already in perkw and floored.
    fn update_perkw(&mut self, floor: FeeratePerKw, rates: Vec<FeerateEstimate>) -> bool {
        self.floor = floor;
        if rates.is_empty() {
            return false;
        }
        let targets_changed = !self.history[0].is_empty()
            && (self.history[0].len() != rates.len()
                || self.history[0]
                    .iter()
                    .zip(&rates)
                    .any(|(a, b)| a.blockcount != b.blockcount));
        if targets_changed {
            tracing::info!("feerate targets changed: restarting history and smoothing");
            self.history = Default::default();
            self.smoothed.clear();
        }
        self.history.rotate_right(1);
        self.history[0] = rates;
        let mut changed = self.history[0] != self.history[1];

        let mut smoothed = self.history[0].clone();
        if !self.smoothed.is_empty() {
            for rate in &mut smoothed {
                self.smooth_one(rate);
            }
        }
        changed |= smoothed != self.smoothed;
        self.smoothed = smoothed;
        changed
    }

    /// `smooth_one_feerate`: mixes the fresh `rate` with the previous smoothed one.
    fn smooth_one(&self, rate: &mut FeerateEstimate) {
        let alpha = 1.0 - 0.1f64.powf(f64::from(self.config.poll_seconds) / 120.0);
        let old = interp(&self.smoothed, rate.blockcount);
        let fresh = f64::from(rate.rate.perkw());
        // C's double-to-unsigned conversion truncates.
        let smooth = (fresh * alpha + f64::from(old) * (1.0 - alpha)) as u32;
        if (i64::from(rate.rate.perkw()) - i64::from(smooth)).abs() as f64 > 0.1 * fresh {
            rate.rate = FeeratePerKw::from_perkw(smooth);
        }
        if rate.rate < self.floor {
            rate.rate = self.floor;
        }
    }

    /// The floor: the lowest rate the backend relays, at least [`FeeratePerKw::FLOOR`].
    pub fn floor(&self) -> FeeratePerKw {
        self.floor
    }

    /// Whether any estimate is known.
    pub fn has_estimates(&self) -> bool {
        !self.history[0].is_empty()
    }

    /// The latest estimates.
    pub fn estimates(&self) -> &[FeerateEstimate] {
        &self.history[0]
    }

    /// The smoothed estimates, target for target.
    pub fn smoothed(&self) -> &[FeerateEstimate] {
        &self.smoothed
    }

    /// The rate for confirmation within `blocks` blocks (interpolated, at least the floor).
    pub fn feerate_for_deadline(&self, blocks: u32) -> Option<FeeratePerKw> {
        match interp(&self.history[0], blocks) {
            0 => None,
            rate => Some(FeeratePerKw::from_perkw(rate).max(self.floor)),
        }
    }

    /// The smoothed rate for `blocks` blocks.
    pub fn smoothed_feerate_for_deadline(&self, blocks: u32) -> Option<FeeratePerKw> {
        match interp(&self.smoothed, blocks) {
            0 => None,
            rate => Some(FeeratePerKw::from_perkw(rate)),
        }
    }

    /// `feerate_for_target`: the rate to be confirmed by block `deadline` with the tip at
    /// `tip_height`: the 1-block rate once past it, the floor beyond 100 blocks,
    /// [`FeeratePerKw::FLOOR`] beyond 200.
    pub fn feerate_for_target(&self, deadline: u64, tip_height: u32) -> Option<FeeratePerKw> {
        let tip = u64::from(tip_height);
        if tip > deadline {
            return self.feerate_for_deadline(1);
        }
        let blocks = deadline - tip;
        if blocks > 200 {
            Some(FeeratePerKw::FLOOR)
        } else if blocks > 100 {
            Some(self.floor)
        } else {
            // At most 100 here.
            self.feerate_for_deadline(blocks as u32)
        }
    }

    /// `opening`: the 12-block estimate.
    pub fn opening(&self) -> Option<FeeratePerKw> {
        self.feerate_for_deadline(targets::OPENING)
    }

    /// `mutual_close`: the smoothed 100-block estimate.
    pub fn mutual_close(&self) -> Option<FeeratePerKw> {
        self.smoothed_feerate_for_deadline(targets::MUTUAL_CLOSE)
    }

    /// `unilateral_close` (`anchors: false`): the smoothed 6-block estimate × `commit-fee` %;
    /// `unilateral_anchor_close` (`anchors: true`): the 100-block estimate, at least 1250.
    pub fn unilateral_close(&self, anchors: bool) -> Option<FeeratePerKw> {
        if anchors {
            return self
                .feerate_for_deadline(targets::UNILATERAL_ANCHOR_CLOSE)
                .map(|r| r.max(FeeratePerKw::from_perkw(MIN_ANCHOR_CLOSE_PERKW)));
        }
        let rate = self.smoothed_feerate_for_deadline(targets::UNILATERAL_CLOSE)?;
        let scaled = u64::from(rate.perkw()).saturating_mul(self.config.commit_fee_percent) / 100;
        match saturate_u32(scaled) {
            0 => None,
            r => Some(FeeratePerKw::from_perkw(r)),
        }
    }

    /// The rate for outputs delayed to us: the smoothed 12-block estimate.
    pub fn delayed_to_us(&self) -> Option<FeeratePerKw> {
        self.smoothed_feerate_for_deadline(targets::DELAYED_TO_US)
    }

    /// The rate for HTLC resolution transactions: the smoothed 6-block estimate.
    pub fn htlc_resolution(&self) -> Option<FeeratePerKw> {
        self.smoothed_feerate_for_deadline(targets::HTLC_RESOLUTION)
    }

    /// `penalty`: the smoothed 12-block estimate.
    pub fn penalty(&self) -> Option<FeeratePerKw> {
        self.smoothed_feerate_for_deadline(targets::PENALTY)
    }

    /// `splice`: the opening rate plus `commit-feerate-offset`, at most `max_acceptable`.
    pub fn splice(&self) -> Option<FeeratePerKw> {
        let opening = self.opening()?;
        let rate = opening.perkw().saturating_add(self.config.feerate_offset);
        Some(FeeratePerKw::from_perkw(rate).min(self.max_acceptable()))
    }

    /// `min_acceptable`: half the lowest rate of the last three answers, at least the floor.
    pub fn min_acceptable(&self) -> FeeratePerKw {
        let min = self
            .history
            .iter()
            .flatten()
            .map(|e| e.rate.perkw())
            .min()
            .unwrap_or(0);
        FeeratePerKw::from_perkw(min / 2).max(self.floor)
    }

    /// `max_acceptable`: `max_fee_multiplier` × the highest rate of the last three answers;
    /// `u32::MAX` while none is known.
    pub fn max_acceptable(&self) -> FeeratePerKw {
        let max = self
            .history
            .iter()
            .flatten()
            .map(|e| e.rate.perkw())
            .max()
            .unwrap_or(0);
        if max == 0 {
            return FeeratePerKw::from_perkw(u32::MAX);
        }
        FeeratePerKw::from_perkw(max.saturating_mul(self.config.max_fee_multiplier))
    }

    /// The rate a named rate stands for (`None` while unknown).
    pub fn named(&self, name: FeerateName) -> Option<FeeratePerKw> {
        match name {
            FeerateName::Opening => self.opening(),
            FeerateName::MutualClose => self.mutual_close(),
            FeerateName::Penalty => self.penalty(),
            FeerateName::UnilateralClose => self.unilateral_close(false),
            FeerateName::UnilateralAnchorClose => self.unilateral_close(true),
            FeerateName::Minimum => Some(self.floor),
            FeerateName::Slow | FeerateName::Normal | FeerateName::Urgent => {
                let blocks = name.block_target().unwrap_or(targets::OPENING);
                self.feerate_for_deadline(blocks)
            }
        }
    }

    /// Resolves a `feerate` parameter as `param_feerate` does: names and `<N>blocks` from the
    /// estimates (an error while there are none), explicit rates as they are.
    pub fn resolve(&self, spec: &FeerateSpec) -> Result<FeeratePerKw, NoFeeEstimates> {
        let rate = match *spec {
            FeerateSpec::Named(name) => self.named(name),
            FeerateSpec::Blocks(blocks) => self.feerate_for_deadline(blocks),
            FeerateSpec::PerKw(rate) => Some(rate),
        };
        match rate {
            Some(r) if r.perkw() != 0 => Ok(r),
            _ => Err(NoFeeEstimates),
        }
    }

    /// The `feerates` command's result in `style`.
    pub fn feerates(&self, style: FeerateStyle) -> FeeratesResponse {
        let to = |r: FeeratePerKw| r.in_style(style);
        let rates = FeeratesByStyle {
            opening: self.opening().map(to),
            mutual_close: self.mutual_close().map(to),
            unilateral_close: self.unilateral_close(false).map(to),
            unilateral_anchor_close: self.unilateral_close(true).map(to),
            penalty: self.penalty().map(to),
            splice: self.splice().map(to),
            min_acceptable: to(self.min_acceptable()),
            max_acceptable: to(self.max_acceptable()),
            floor: to(self.floor),
            estimates: self.history[0]
                .iter()
                .zip(&self.smoothed)
                .map(|(raw, smooth)| EstimateEntry {
                    blockcount: raw.blockcount,
                    feerate: to(raw.rate),
                    smoothed_feerate: to(smooth.rate),
                })
                .collect(),
        };
        let known = self.has_estimates();
        let fee = |rate: Option<FeeratePerKw>, weight: u64| {
            rate.map_or(0, |r| u64::from(r.perkw()).saturating_mul(weight) / 1000)
        };
        let unilateral_nonanchor = fee(self.unilateral_close(false), weights::UNILATERAL_CLOSE);
        let onchain = known.then(|| OnchainFeeEstimates {
            opening_channel_satoshis: fee(self.opening(), weights::OPENING),
            mutual_close_satoshis: fee(self.mutual_close(), weights::MUTUAL_CLOSE),
            unilateral_close_satoshis: if self.config.anchors {
                fee(
                    self.unilateral_close(true),
                    weights::UNILATERAL_ANCHOR_CLOSE,
                )
            } else {
                unilateral_nonanchor
            },
            unilateral_close_nonanchor_satoshis: unilateral_nonanchor,
            htlc_timeout_satoshis: fee(self.htlc_resolution(), weights::HTLC_TIMEOUT),
            htlc_success_satoshis: fee(self.htlc_resolution(), weights::HTLC_SUCCESS),
        });
        let (perkb, perkw) = match style {
            FeerateStyle::PerKb => (Some(rates), None),
            FeerateStyle::PerKw => (None, Some(rates)),
        };
        FeeratesResponse {
            warning_missing_feerates: (!known)
                .then(|| "Some fee estimates unavailable: bitcoind startup?".to_owned()),
            perkb,
            perkw,
            onchain_fee_estimates: onchain,
        }
    }
}

/// `interp_feerate`: the rate at `blocks` from estimates sorted by target, interpolating
/// linearly between the targets around it (never upward), the nearest target's outside; 0 if
/// there are none.
fn interp(rates: &[FeerateEstimate], blocks: u32) -> u32 {
    let mut before = None;
    let mut after = None;
    for r in rates {
        if r.blockcount <= blocks {
            before = Some(r);
        } else if after.is_none() {
            after = Some(r);
        }
    }
    match (before, after) {
        (None, None) => 0,
        (None, Some(a)) => a.rate.perkw(),
        (Some(b), None) => b.rate.perkw(),
        (Some(b), Some(a)) => {
            let (br, ar) = (b.rate.perkw(), a.rate.perkw());
            if br < ar {
                return br;
            }
            let drop = u64::from(blocks - b.blockcount) * u64::from(br - ar)
                / u64::from(a.blockcount - b.blockcount);
            // drop <= br - ar, so this stays in range.
            br - drop as u32
        }
    }
}

fn saturate_u32(v: u64) -> u32 {
    u32::try_from(v).unwrap_or(u32::MAX)
}

/// The `feerates` command's result (`doc/schemas/feerates.json`): one of `perkb` / `perkw`,
/// and `onchain_fee_estimates` once estimates are known.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeeratesResponse {
    /// Present while no estimate is known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warning_missing_feerates: Option<String>,
    /// The rates, for `style: perkb`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub perkb: Option<FeeratesByStyle>,
    /// The rates, for `style: perkw`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub perkw: Option<FeeratesByStyle>,
    /// Typical transaction costs at the current rates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub onchain_fee_estimates: Option<OnchainFeeEstimates>,
}

/// The `perkb` / `perkw` object of [`FeeratesResponse`]; named rates are absent while
/// unknown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeeratesByStyle {
    /// Default rate for funding channels and withdrawals.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opening: Option<u32>,
    /// Rate to aim for in mutual closes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mutual_close: Option<u32>,
    /// Rate for our commitment transactions (non-anchor).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unilateral_close: Option<u32>,
    /// Rate for our commitment transactions (anchors).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unilateral_anchor_close: Option<u32>,
    /// Rate for penalty transactions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub penalty: Option<u32>,
    /// Rate for splices.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub splice: Option<u32>,
    /// The lowest rate accepted from peers.
    pub min_acceptable: u32,
    /// The highest rate accepted from peers.
    pub max_acceptable: u32,
    /// The lowest rate the backend relays.
    pub floor: u32,
    /// The backend's estimates in use, raw and smoothed.
    pub estimates: Vec<EstimateEntry>,
}

/// One entry of `estimates`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct EstimateEntry {
    /// The confirmation target.
    pub blockcount: u32,
    /// The estimate.
    pub feerate: u32,
    /// The estimate, smoothed over time.
    pub smoothed_feerate: u32,
}

/// `onchain_fee_estimates`: satoshi costs of typical transactions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct OnchainFeeEstimates {
    /// A channel open (702 weight at `opening`).
    pub opening_channel_satoshis: u64,
    /// A mutual close (673 weight at `mutual_close`).
    pub mutual_close_satoshis: u64,
    /// A unilateral close: with anchors (if offered) 1112 weight at `unilateral_anchor_close`,
    /// else 598 at `unilateral_close`.
    pub unilateral_close_satoshis: u64,
    /// A non-anchor unilateral close (598 weight at `unilateral_close`).
    pub unilateral_close_nonanchor_satoshis: u64,
    /// An HTLC-timeout transaction (663 weight at the HTLC resolution rate).
    pub htlc_timeout_satoshis: u64,
    /// An HTLC-success transaction (703 weight at the HTLC resolution rate).
    pub htlc_success_satoshis: u64,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use crate::backend::BlockFeerate;
    use proptest::prelude::*;
    use serde_json::json;

    fn answer(floor: u32, rates: &[(u32, u32)]) -> FeeEstimates {
        FeeEstimates {
            feerate_floor: floor,
            feerates: rates
                .iter()
                .map(|&(blocks, feerate)| BlockFeerate { blocks, feerate })
                .collect(),
        }
    }

    fn kw(n: u32) -> FeeratePerKw {
        FeeratePerKw::from_perkw(n)
    }

    /// bcli's four targets at 40, 20, 8 and 4 sat/vB.
    fn typical() -> FeeEstimates {
        answer(1000, &[(2, 40_000), (6, 20_000), (12, 8_000), (100, 4_000)])
    }

    #[test]
    fn nothing_known_yet() {
        let fees = Fees::default();
        assert!(!fees.has_estimates());
        assert_eq!(fees.floor(), kw(253));
        assert_eq!(fees.opening(), None);
        assert_eq!(fees.min_acceptable(), kw(253));
        assert_eq!(fees.max_acceptable(), kw(u32::MAX));
        assert_eq!(
            fees.resolve(&"normal".parse().unwrap()),
            Err(NoFeeEstimates)
        );
        assert_eq!(
            fees.resolve(&"6blocks".parse().unwrap()),
            Err(NoFeeEstimates)
        );
        assert_eq!(fees.resolve(&"minimum".parse().unwrap()), Ok(kw(253)));
        assert_eq!(fees.resolve(&"1000perkw".parse().unwrap()), Ok(kw(1000)));
        let v = serde_json::to_value(fees.feerates(FeerateStyle::PerKw)).unwrap();
        assert_eq!(
            v,
            json!({
                "warning_missing_feerates": "Some fee estimates unavailable: bitcoind startup?",
                "perkw": {
                    "min_acceptable": 253,
                    "max_acceptable": u32::MAX,
                    "floor": 253,
                    "estimates": []
                }
            })
        );
    }

    #[test]
    fn first_answer_gives_clns_named_rates() {
        let mut fees = Fees::default();
        assert!(fees.update(&typical()).unwrap());
        assert_eq!(fees.floor(), kw(253));
        assert_eq!(fees.opening(), Some(kw(2000)));
        assert_eq!(fees.mutual_close(), Some(kw(1000)));
        assert_eq!(fees.unilateral_close(false), Some(kw(5000)));
        assert_eq!(fees.unilateral_close(true), Some(kw(1250)));
        assert_eq!(fees.penalty(), Some(kw(2000)));
        assert_eq!(fees.htlc_resolution(), Some(kw(5000)));
        assert_eq!(fees.delayed_to_us(), Some(kw(2000)));
        assert_eq!(fees.splice(), Some(kw(2005)));
        assert_eq!(fees.min_acceptable(), kw(500));
        assert_eq!(fees.max_acceptable(), kw(100_000));
        // Interpolation: between 6 (5000) and 12 (2000), 9 blocks is half-way.
        assert_eq!(fees.feerate_for_deadline(9), Some(kw(3500)));
        // No extrapolation.
        assert_eq!(fees.feerate_for_deadline(1), Some(kw(10_000)));
        assert_eq!(fees.feerate_for_deadline(1000), Some(kw(1000)));
        // Named parameters.
        let r = |s: &str| fees.resolve(&s.parse().unwrap()).unwrap();
        assert_eq!(r("urgent"), kw(5000));
        assert_eq!(r("normal"), kw(2000));
        assert_eq!(r("slow"), kw(1000));
        assert_eq!(r("minimum"), kw(253));
        assert_eq!(r("opening"), kw(2000));
        assert_eq!(r("mutual_close"), kw(1000));
        assert_eq!(r("unilateral_close"), kw(5000));
        assert_eq!(r("unilateral_anchor_close"), kw(1250));
        assert_eq!(r("penalty"), kw(2000));
        assert_eq!(r("3blocks"), kw(8750));
        assert_eq!(r("12000"), kw(3000));
        assert_eq!(r("100perkb"), kw(253));
        // Deadlines.
        assert_eq!(fees.feerate_for_target(90, 100), Some(kw(10_000)));
        assert_eq!(fees.feerate_for_target(250, 100), Some(kw(253)));
        assert_eq!(fees.feerate_for_target(350, 100), Some(kw(253)));
        assert_eq!(fees.feerate_for_target(106, 100), Some(kw(5000)));
    }

    #[test]
    fn feerates_json_matches_clns_layout() {
        let mut fees = Fees::default();
        fees.update(&typical()).unwrap();
        let v = serde_json::to_value(fees.feerates(FeerateStyle::PerKw)).unwrap();
        assert_eq!(
            v,
            json!({
                "perkw": {
                    "opening": 2000,
                    "mutual_close": 1000,
                    "unilateral_close": 5000,
                    "unilateral_anchor_close": 1250,
                    "penalty": 2000,
                    "splice": 2005,
                    "min_acceptable": 500,
                    "max_acceptable": 100_000,
                    "floor": 253,
                    "estimates": [
                        {"blockcount": 2, "feerate": 10_000, "smoothed_feerate": 10_000},
                        {"blockcount": 6, "feerate": 5000, "smoothed_feerate": 5000},
                        {"blockcount": 12, "feerate": 2000, "smoothed_feerate": 2000},
                        {"blockcount": 100, "feerate": 1000, "smoothed_feerate": 1000}
                    ]
                },
                "onchain_fee_estimates": {
                    "opening_channel_satoshis": 1404,
                    "mutual_close_satoshis": 673,
                    "unilateral_close_satoshis": 1390,
                    "unilateral_close_nonanchor_satoshis": 2990,
                    "htlc_timeout_satoshis": 3315,
                    "htlc_success_satoshis": 3515
                }
            })
        );
        // The key order is CLN's.
        let text = serde_json::to_string(&fees.feerates(FeerateStyle::PerKb)).unwrap();
        let keys = [
            "\"perkb\"",
            "\"opening\"",
            "\"mutual_close\"",
            "\"unilateral_close\"",
            "\"unilateral_anchor_close\"",
            "\"penalty\"",
            "\"splice\"",
            "\"min_acceptable\"",
            "\"max_acceptable\"",
            "\"floor\"",
            "\"estimates\"",
            "\"onchain_fee_estimates\"",
        ];
        let positions: Vec<usize> = keys.iter().map(|k| text.find(k).unwrap()).collect();
        assert!(positions.windows(2).all(|w| w[0] < w[1]), "{text}");
        let perkb = fees.feerates(FeerateStyle::PerKb).perkb.unwrap();
        assert_eq!(perkb.opening, Some(8000));
        assert_eq!(perkb.floor, 1012);
        assert_eq!(perkb.estimates[0].feerate, 40_000);
        let no_anchors = Fees::new(FeeConfig {
            anchors: false,
            ..FeeConfig::default()
        });
        let mut no_anchors = no_anchors;
        no_anchors.update(&typical()).unwrap();
        let est = no_anchors
            .feerates(FeerateStyle::PerKw)
            .onchain_fee_estimates
            .unwrap();
        assert_eq!(est.unilateral_close_satoshis, 2990);
    }

    #[test]
    fn answers_are_cleaned_like_lightningd_does() {
        let mut fees = Fees::default();
        // Rising rates are lowered; perkb rounds up; rates are raised to the floor.
        fees.update(&answer(4001, &[(2, 9000), (6, 12_000), (12, 1)]))
            .unwrap();
        assert_eq!(fees.floor(), kw(1001));
        let rates: Vec<(u32, u32)> = fees
            .estimates()
            .iter()
            .map(|e| (e.blockcount, e.rate.perkw()))
            .collect();
        assert_eq!(rates, vec![(2, 2250), (6, 2250), (12, 1001)]);
        // Out-of-order targets are refused, nothing changes.
        let err = fees.update(&answer(1000, &[(6, 1), (6, 1)])).unwrap_err();
        assert_eq!(
            err,
            FeeEstimatesError::NotAscending {
                blocks: 6,
                previous: 6
            }
        );
        assert_eq!(fees.floor(), kw(1001));
        // An empty answer moves the floor, keeps the estimates.
        assert!(!fees.update(&FeeEstimates::unavailable()).unwrap());
        assert_eq!(fees.floor(), kw(253));
        assert_eq!(fees.estimates().len(), 3);
        // A zero rate (unknown to a plugin) becomes the floor.
        fees.update(&answer(0, &[(2, 0)])).unwrap();
        assert_eq!(fees.estimates()[0].rate, kw(253));
    }

    #[test]
    fn smoothing_follows_cln() {
        let mut fees = Fees::default();
        fees.update(&answer(1000, &[(6, 40_000)])).unwrap();
        assert_eq!(fees.smoothed()[0].rate, kw(10_000));
        // Doubles: alpha = 1 - 0.1^(30/120) = 0.43766; 20000a + 10000(1-a) = 14376.
        assert!(fees.update(&answer(1000, &[(6, 80_000)])).unwrap());
        assert_eq!(fees.estimates()[0].rate, kw(20_000));
        assert_eq!(fees.smoothed()[0].rate, kw(14_376));
        // A move of 10 % or less is not smoothed: the fresh rate is used.
        let mut fees = Fees::default();
        fees.update(&answer(1000, &[(6, 40_000)])).unwrap();
        fees.update(&answer(1000, &[(6, 42_000)])).unwrap();
        // smooth = 10500a + 10000(1-a) = 10218; |10500-10218| = 282 <= 1050.
        assert_eq!(fees.smoothed()[0].rate, kw(10_500));
        // The same answer again changes nothing.
        assert!(!fees.update(&answer(1000, &[(6, 42_000)])).unwrap());
        // Changed targets restart history and smoothing.
        fees.update(&answer(1000, &[(6, 8000), (12, 4000)]))
            .unwrap();
        assert_eq!(fees.smoothed()[0].rate, kw(2000));
        assert_eq!(fees.min_acceptable(), kw(500));
        // min/max look at three answers.
        fees.update(&answer(1000, &[(6, 80_000), (12, 40_000)]))
            .unwrap();
        assert_eq!(fees.min_acceptable(), kw(500));
        assert_eq!(fees.max_acceptable(), kw(200_000));
        fees.update(&answer(1000, &[(6, 80_000), (12, 40_000)]))
            .unwrap();
        fees.update(&answer(1000, &[(6, 80_000), (12, 40_000)]))
            .unwrap();
        assert_eq!(fees.min_acceptable(), kw(5000));
    }

    #[test]
    fn regtest_fallback_is_the_floor_everywhere() {
        // What bcli answers on regtest with no estimates: 1000 sat/kVB per target.
        let mut fees = Fees::default();
        let fallback = answer(
            1000,
            &BCLI_TARGETS.map(|(blocks, _)| (blocks, REGTEST_FALLBACK_PERKB)),
        );
        fees.update(&fallback).unwrap();
        for name in [
            "opening",
            "mutual_close",
            "unilateral_close",
            "penalty",
            "urgent",
        ] {
            assert_eq!(fees.resolve(&name.parse().unwrap()), Ok(kw(253)), "{name}");
        }
        assert_eq!(fees.unilateral_close(true), Some(kw(1250)));
        assert_eq!(fees.splice(), Some(kw(258)));
        assert_eq!(fees.min_acceptable(), kw(253));
        assert_eq!(fees.max_acceptable(), kw(2530));
        assert_eq!(EstimateMode::Conservative.name(), "CONSERVATIVE");
    }

    #[test]
    fn huge_rates_saturate() {
        let mut fees = Fees::new(FeeConfig {
            commit_fee_percent: 1000,
            ..FeeConfig::default()
        });
        fees.update(&answer(u32::MAX, &[(2, u32::MAX)])).unwrap();
        assert_eq!(fees.max_acceptable(), kw(u32::MAX));
        assert_eq!(fees.unilateral_close(false), Some(kw(u32::MAX)));
        let v = fees.feerates(FeerateStyle::PerKb);
        assert_eq!(v.perkb.unwrap().floor, u32::MAX);
    }

    proptest! {
        #[test]
        fn interpolation_is_monotone_and_bounded(
            mut rates in proptest::collection::vec((1u32..1000, 253u32..1_000_000), 1..6),
            blocks in 0u32..2000,
        ) {
            rates.sort_unstable();
            rates.dedup_by_key(|r| r.0);
            let mut fees = Fees::default();
            fees.update(&answer(1000, &rates.iter().map(|&(b, r)| (b, r * 4)).collect::<Vec<_>>())).unwrap();
            let a = fees.feerate_for_deadline(blocks).unwrap();
            let b = fees.feerate_for_deadline(blocks + 1).unwrap();
            prop_assert!(b <= a);
            let hi = fees.estimates().iter().map(|e| e.rate).max().unwrap();
            let lo = fees.estimates().iter().map(|e| e.rate).min().unwrap();
            prop_assert!(a <= hi && a >= lo);
            prop_assert!(fees.min_acceptable() <= a.max(fees.floor()));
        }

        #[test]
        fn smoothing_stays_between_old_and_new(
            first in 253u32..5_000_000, second in 253u32..5_000_000,
        ) {
            let mut fees = Fees::default();
            fees.update(&answer(1000, &[(6, first.saturating_mul(4))])).unwrap();
            fees.update(&answer(1000, &[(6, second.saturating_mul(4))])).unwrap();
            let s = fees.smoothed()[0].rate.perkw();
            let (lo, hi) = (first.min(second), first.max(second));
            prop_assert!(s >= lo.saturating_sub(1) && s <= hi, "{} not in [{}, {}]", s, lo, hi);
        }
    }
}
