//! Coin selection as CLN's `fundpsbt` and `utxopsbt` do it (`wallet/reservation.c`), and the
//! output handling of `txprepare`/`withdraw` (`plugins/txprepare.c`) on top.
//!
//! `fundpsbt` adds coins in the order given until the inputs pay for the target and the fee
//! of the transaction so far (`startweight` plus the inputs added), skipping coins with fewer
//! than `minconf` confirmations and coins that cost more in fee than they bring. CLN walks its
//! coins in random order; here the caller chooses the order (shuffle them with your own
//! randomness for privacy, or sort them for reproducibility), which keeps this pure and
//! deterministic.
//!
//! Change is always a P2TR output, as CLN's, and is only created when the excess pays for
//! the change output itself and leaves at least [`CHANGE_DUST_LIMIT`] (CLN's `change_amount`,
//! 330 sat, the P2TR dust threshold); otherwise the excess is left to the fee.

use bitcoin::{ScriptBuf, TxOut};
use fulgur_types::{AmountMsat, AmountSat, FeeratePerKw};

use crate::keys::AddrType;
use crate::weight::{core_weight, output_weight, spend_weight, CHANGE_OUTPUT_WEIGHT};

/// CLN's chain dust limit (`chainparams->dust_limit`): no payment output, and no `all`
/// amount, may be below it.
pub const DUST_LIMIT: AmountSat = AmountSat::from_sat(546);

/// The smallest change output CLN creates (the P2TR dust threshold); smaller change is left
/// to the fee.
pub const CHANGE_DUST_LIMIT: AmountSat = AmountSat::from_sat(330);

/// CLN's JSON-RPC code for "cannot afford" (`FUND_CANNOT_AFFORD`).
pub const FUND_CANNOT_AFFORD: i32 = 301;
/// CLN's JSON-RPC code for a dust output (`FUND_OUTPUT_IS_DUST`).
pub const FUND_OUTPUT_IS_DUST: i32 = 302;
/// CLN's JSON-RPC code for spending into the emergency reserve
/// (`FUND_CANNOT_AFFORD_WITH_EMERGENCY`).
pub const FUND_CANNOT_AFFORD_WITH_EMERGENCY: i32 = 313;
/// JSON-RPC's invalid-parameters code.
pub const JSONRPC2_INVALID_PARAMS: i32 = -32602;

/// A wallet coin that may be spent.
///
/// The caller only offers coins that are spendable now: unspent, not reserved (unless it
/// means to), and mature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Coin {
    /// The output.
    pub outpoint: bitcoin::OutPoint,
    /// Its value.
    pub amount: AmountSat,
    /// The key index of its script.
    pub keyindex: u32,
    /// The kind of script.
    pub addrtype: AddrType,
    /// Its confirmations: 0 while unconfirmed, 1 in the tip block.
    pub confirmations: u32,
}

/// How much a selection must fund.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Target {
    /// At least this much, on top of the fee.
    Amount(AmountSat),
    /// Everything (`all`): the excess is the whole input value less the fee.
    All,
}

/// The parameters of `fundpsbt` / `utxopsbt` that shape coin selection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FundParams {
    /// `satoshi`: the value needed.
    pub target: Target,
    /// `feerate`, resolved.
    pub feerate: FeeratePerKw,
    /// `startweight`: the weight of the transaction before inputs are added.
    pub startweight: u32,
    /// `minconf` (default 1; 0 allows unconfirmed coins). Ignored for explicit `utxos`.
    pub minconf: u32,
    /// `min_witness_weight` (default 0).
    pub min_witness_weight: u32,
    /// `excess_as_change` (default false): turn the excess into a change output.
    pub excess_as_change: bool,
    /// `nonwrapped` (default false): do not select P2SH-wrapped coins. Ignored for explicit
    /// `utxos`.
    pub nonwrapped: bool,
    /// Funds to keep in the wallet for closing anchor channels (`min-emergency-msat`), or
    /// zero when not needed (no anchor channel and not `opening_anchor_channel`).
    pub emergency_reserve: AmountSat,
}

impl FundParams {
    /// The parameters with CLN's defaults for everything but the three required ones.
    pub fn new(target: Target, feerate: FeeratePerKw, startweight: u32) -> FundParams {
        FundParams {
            target,
            feerate,
            startweight,
            minconf: 1,
            min_witness_weight: 0,
            excess_as_change: false,
            nonwrapped: false,
            emergency_reserve: AmountSat::ZERO,
        }
    }
}

/// A successful selection: what `fundpsbt` / `utxopsbt` report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Funding {
    /// The coins to spend, in the order to use as inputs.
    pub inputs: Vec<Coin>,
    /// `feerate_per_kw`.
    pub feerate: FeeratePerKw,
    /// `estimated_final_weight`: `startweight`, the inputs, and the change output if any.
    pub estimated_final_weight: u64,
    /// `excess_msat` in satoshi: the value above the target and the fee that is not in
    /// `change` (zero when `change` is present, unless an emergency reserve split it).
    pub excess: AmountSat,
    /// The value of the change output to add, if any.
    pub change: Option<AmountSat>,
}

impl Funding {
    /// The total value of the inputs.
    pub fn input_total(&self) -> AmountSat {
        AmountSat::from_sat(self.inputs.iter().map(|c| c.amount.sat()).sum())
    }

    /// `excess_msat`.
    pub fn excess_msat(&self) -> AmountMsat {
        AmountMsat::from_msat(self.excess.sat().saturating_mul(1000))
    }

    /// The fee at `feerate` for `estimated_final_weight`.
    pub fn fee(&self) -> AmountSat {
        tx_fee(self.feerate, self.estimated_final_weight)
    }
}

/// Why coins could not be selected; [`FundError::code`] gives CLN's JSON-RPC code and the
/// message is CLN's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FundError {
    /// `fundpsbt` ran out of coins before reaching a target amount.
    #[error("Could not afford {amount} using all {inputs} available UTXOs: {short} short")]
    CannotAfford {
        /// The target.
        amount: AmountSat,
        /// How many coins it had selected.
        inputs: usize,
        /// How much was missing.
        short: AmountSat,
    },
    /// `fundpsbt` with `all` found no usable coin.
    #[error("Could not afford all using all 0 available UTXOs: all short")]
    NothingForAll,
    /// `fundpsbt` with `all`: the coins do not leave a non-dust amount after fees.
    #[error("All {inputs} inputs could not afford fees")]
    AllCannotAffordFees {
        /// How many coins were selected.
        inputs: usize,
    },
    /// `utxopsbt`: the given coins do not pay for the target (or, for `all`, leave a
    /// non-dust amount) at the fee rate.
    #[error(
        "Could not afford {} using UTXOs totalling {total} with weight {weight} at feerate {feerate}",
        .amount.map_or_else(|| "anything".to_string(), |a| a.to_string()),
        feerate = .feerate.perkw()
    )]
    UtxosCannotAfford {
        /// The target, or `None` for `all`.
        amount: Option<AmountSat>,
        /// The total of the given coins.
        total: AmountSat,
        /// The weight with the coins.
        weight: u64,
        /// The fee rate.
        feerate: FeeratePerKw,
    },
    /// Spending would leave less than the emergency reserve.
    #[error("We would not have enough left for min-emergency-msat {reserve}")]
    EmergencyReserve {
        /// The reserve.
        reserve: AmountSat,
    },
    /// `txprepare`: the fixed outputs exceed what an `all` selection yields.
    #[error("Could not afford output {0}")]
    CannotAffordOutput(usize),
    /// `txprepare`: the `all` output would be dust.
    #[error("Could not afford 'all' output: only {0} left")]
    AllOutputTooSmall(AmountSat),
    /// A payment output below the dust limit.
    #[error("Output {0} would be dust.")]
    OutputIsDust(AmountSat),
    /// More than one output asked for `all`.
    #[error("Cannot use 'all' in two outputs")]
    TwoAllOutputs,
    /// Amounts that overflow.
    #[error("Output amount overflow")]
    Overflow,
}

impl FundError {
    /// CLN's JSON-RPC error code for this error.
    pub fn code(&self) -> i32 {
        match self {
            FundError::CannotAfford { .. }
            | FundError::NothingForAll
            | FundError::AllCannotAffordFees { .. }
            | FundError::UtxosCannotAfford { .. }
            | FundError::CannotAffordOutput(_)
            | FundError::AllOutputTooSmall(_) => FUND_CANNOT_AFFORD,
            FundError::OutputIsDust(_) => FUND_OUTPUT_IS_DUST,
            FundError::EmergencyReserve { .. } => FUND_CANNOT_AFFORD_WITH_EMERGENCY,
            FundError::TwoAllOutputs | FundError::Overflow => JSONRPC2_INVALID_PARAMS,
        }
    }
}

/// The fee for `weight` at `feerate`, rounded down (CLN's `amount_tx_fee`).
pub fn tx_fee(feerate: FeeratePerKw, weight: u64) -> AmountSat {
    AmountSat::from_sat(u64::from(feerate.perkw()).saturating_mul(weight) / 1000)
}

/// What adding a P2TR change output to a transaction of `weight` costs in fee; computed as a
/// difference of whole fees so rounding matches the final transaction (CLN's `change_fee`).
pub fn change_fee(feerate: FeeratePerKw, weight: u64) -> AmountSat {
    let with = tx_fee(feerate, weight + CHANGE_OUTPUT_WEIGHT).sat();
    AmountSat::from_sat(with - tx_fee(feerate, weight).sat())
}

/// The change output `excess` pays for in a transaction of `weight` (before the change
/// output): the excess less the change output's fee, or zero if that is below
/// [`CHANGE_DUST_LIMIT`] (CLN's `change_amount`).
pub fn change_amount(excess: AmountSat, feerate: FeeratePerKw, weight: u64) -> AmountSat {
    match excess.checked_sub(change_fee(feerate, weight)) {
        Some(change) if change >= CHANGE_DUST_LIMIT => change,
        _ => AmountSat::ZERO,
    }
}

/// `input - (amount + fee(weight))`: `Ok(excess)` if the input covers it, `Err(shortfall)`
/// otherwise (CLN's `inputs_sufficient`). `amount` `None` is `all`, which is never covered.
fn sufficient(
    input: u64,
    amount: Option<u64>,
    feerate: FeeratePerKw,
    weight: u64,
) -> Result<u64, Option<u64>> {
    let Some(needed) = amount.and_then(|a| a.checked_add(tx_fee(feerate, weight).sat())) else {
        return Err(None);
    };
    input
        .checked_sub(needed)
        .ok_or_else(|| Some(needed - input))
}

/// Selects coins the way `fundpsbt` does when `utxos` is `None`, or funds with exactly the
/// coins in `utxos` the way `utxopsbt` does.
///
/// `available` are the wallet's spendable coins in the order to consider them. With
/// explicit `utxos`, `available` only serves the emergency-reserve check (whether the rest
/// of the wallet holds the reserve).
pub fn fund(
    available: &[Coin],
    utxos: Option<&[Coin]>,
    params: &FundParams,
) -> Result<Funding, FundError> {
    let selection = match utxos {
        None => select(available, params)?,
        Some(utxos) => use_exactly(utxos, params)?,
    };
    finish(available, selection, params)
}

/// Coins chosen and the state after choosing them.
struct Selection {
    inputs: Vec<Coin>,
    weight: u64,
    /// Value above the target and the fee so far.
    excess: u64,
}

fn select(available: &[Coin], params: &FundParams) -> Result<Selection, FundError> {
    let amount = match params.target {
        Target::Amount(a) => Some(a.sat()),
        Target::All => None,
    };
    let feerate = params.feerate;
    let mut inputs = Vec::new();
    let mut input: u64 = 0;
    let mut weight = u64::from(params.startweight);
    let mut candidates = available.iter().filter(|c| {
        c.confirmations >= params.minconf
            && !(params.nonwrapped && c.addrtype == AddrType::P2shSegwit)
    });
    let excess = loop {
        let short = match sufficient(input, amount, feerate, weight) {
            Ok(excess) => break excess,
            Err(short) => short,
        };
        if let Some(coin) = candidates.next() {
            let coin_weight = spend_weight(coin.addrtype, u64::from(params.min_witness_weight));
            // Uneconomic at this fee rate: skip it (unless spending everything).
            if amount.is_some() && tx_fee(feerate, coin_weight) >= coin.amount {
                continue;
            }
            input = input
                .checked_add(coin.amount.sat())
                .ok_or(FundError::Overflow)?;
            weight += coin_weight;
            inputs.push(*coin);
            continue;
        }
        match (amount, short) {
            (None, _) if !inputs.is_empty() => {
                break all_excess(input, feerate, weight, inputs.len())?;
            }
            (None, _) => return Err(FundError::NothingForAll),
            (Some(a), short) => {
                return Err(FundError::CannotAfford {
                    amount: AmountSat::from_sat(a),
                    inputs: inputs.len(),
                    short: AmountSat::from_sat(short.unwrap_or(u64::MAX)),
                })
            }
        }
    };
    Ok(Selection {
        inputs,
        weight,
        excess,
    })
}

/// For `all`: what is left after fees, which must be at least the dust limit.
fn all_excess(input: u64, feerate: FeeratePerKw, weight: u64, n: usize) -> Result<u64, FundError> {
    match sufficient(input, Some(0), feerate, weight) {
        Ok(excess) if excess >= DUST_LIMIT.sat() => Ok(excess),
        _ => Err(FundError::AllCannotAffordFees { inputs: n }),
    }
}

fn use_exactly(utxos: &[Coin], params: &FundParams) -> Result<Selection, FundError> {
    let mut input: u64 = 0;
    let mut weight = u64::from(params.startweight);
    for coin in utxos {
        input = input
            .checked_add(coin.amount.sat())
            .ok_or(FundError::Overflow)?;
        weight += spend_weight(coin.addrtype, u64::from(params.min_witness_weight));
    }
    let amount = match params.target {
        Target::Amount(a) => Some(a),
        Target::All => None,
    };
    let excess = match sufficient(
        input,
        Some(amount.map_or(0, |a| a.sat())),
        params.feerate,
        weight,
    ) {
        Ok(excess) if amount.is_some() || excess >= DUST_LIMIT.sat() => excess,
        _ => {
            return Err(FundError::UtxosCannotAfford {
                amount,
                total: AmountSat::from_sat(input),
                weight,
                feerate: params.feerate,
            })
        }
    };
    Ok(Selection {
        inputs: utxos.to_vec(),
        weight,
        excess,
    })
}

/// Change, emergency reserve and the final weight (CLN's tail of `json_fundpsbt` and
/// `finish_psbt`).
fn finish(
    wallet: &[Coin],
    selection: Selection,
    params: &FundParams,
) -> Result<Funding, FundError> {
    let feerate = params.feerate;
    let weight = selection.weight;
    let as_change = params.excess_as_change && params.target != Target::All;
    let (mut excess, mut change) = if as_change {
        (0, selection.excess)
    } else {
        (selection.excess, 0)
    };
    reserve_emergency(wallet, &selection, params, &mut excess, &mut change)?;
    let change = change_amount(AmountSat::from_sat(change), feerate, weight);
    let change = (change > AmountSat::ZERO).then_some(change);
    Ok(Funding {
        estimated_final_weight: weight
            + if change.is_some() {
                CHANGE_OUTPUT_WEIGHT
            } else {
                0
            },
        inputs: selection.inputs,
        feerate,
        excess: AmountSat::from_sat(excess),
        change,
    })
}

/// Makes sure `min-emergency-msat` stays in the wallet: fine if the other confirmed coins
/// hold it, or if the change does; otherwise moves it (and the change output's fee) from
/// the excess into the change (CLN's `change_for_emergency`).
fn reserve_emergency(
    wallet: &[Coin],
    selection: &Selection,
    params: &FundParams,
    excess: &mut u64,
    change: &mut u64,
) -> Result<(), FundError> {
    let mut needed = params.emergency_reserve.sat();
    if needed == 0 {
        return Ok(());
    }
    // Confirmed coins outside the selection count towards the reserve (CLN's
    // `wallet_has_funds`, which also leaves `needed` reduced by them when they fall short).
    // A set, not `inputs.contains`: with 10,000 coins the scan per coin was quadratic.
    let selected: std::collections::HashSet<bitcoin::OutPoint> =
        selection.inputs.iter().map(|c| c.outpoint).collect();
    for coin in wallet
        .iter()
        .filter(|c| c.confirmations > 0 && !selected.contains(&c.outpoint))
    {
        match needed.checked_sub(coin.amount.sat()) {
            Some(rest) if rest > 0 => needed = rest,
            _ => return Ok(()),
        }
    }
    let (feerate, weight) = (params.feerate, selection.weight);
    if change_amount(AmountSat::from_sat(*change), feerate, weight).sat() >= needed {
        return Ok(());
    }
    let fee = change_fee(feerate, weight).sat();
    let reserve = FundError::EmergencyReserve {
        reserve: params.emergency_reserve,
    };
    *excess = excess
        .checked_sub(fee)
        .and_then(|e| e.checked_sub(needed))
        .ok_or(reserve)?;
    *change = change.saturating_add(fee).saturating_add(needed);
    Ok(())
}

/// The amount of one `txprepare`/`withdraw` output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OutputAmount {
    /// A fixed amount.
    Sat(AmountSat),
    /// Everything left after the other outputs and the fee (`all`).
    All,
}

/// One output requested from `txprepare`/`withdraw`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OutputRequest {
    /// The destination's scriptpubkey.
    pub script_pubkey: ScriptBuf,
    /// The amount.
    pub amount: OutputAmount,
}

/// The outcome of [`prepare_outputs`]: the funding and the outputs with every amount known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreparedOutputs {
    /// The selection (with `excess_as_change`).
    pub funding: Funding,
    /// The requested outputs in order, the `all` one filled in. Change goes after them.
    pub outputs: Vec<TxOut>,
}

/// Funds the outputs of a `txprepare`/`withdraw`: rejects dust amounts and a second `all`,
/// estimates the start weight (one input assumed for the counts, as CLN does), selects with
/// `excess_as_change` (or uses exactly `utxos`), then gives an `all` output the excess less
/// the other outputs.
pub fn prepare_outputs(
    available: &[Coin],
    utxos: Option<&[Coin]>,
    outputs: &[OutputRequest],
    feerate: FeeratePerKw,
    minconf: u32,
    emergency_reserve: AmountSat,
) -> Result<PreparedOutputs, FundError> {
    let mut all_index = None;
    let mut total: u64 = 0;
    let mut weight = core_weight(1, outputs.len() as u64);
    for (i, output) in outputs.iter().enumerate() {
        match output.amount {
            OutputAmount::All if all_index.is_some() => return Err(FundError::TwoAllOutputs),
            OutputAmount::All => all_index = Some(i),
            OutputAmount::Sat(a) if a < DUST_LIMIT => return Err(FundError::OutputIsDust(a)),
            OutputAmount::Sat(a) => {
                total = total.checked_add(a.sat()).ok_or(FundError::Overflow)?;
            }
        }
        weight += output_weight(output.script_pubkey.len());
    }
    let weight = u32::try_from(weight).map_err(|_| FundError::Overflow)?;
    let params = FundParams {
        minconf,
        excess_as_change: true,
        emergency_reserve,
        ..FundParams::new(
            match all_index {
                Some(_) => Target::All,
                None => Target::Amount(AmountSat::from_sat(total)),
            },
            feerate,
            weight,
        )
    };
    let mut funding = fund(available, utxos, &params)?;
    let mut amounts: Vec<u64> = outputs
        .iter()
        .map(|o| match o.amount {
            OutputAmount::Sat(a) => a.sat(),
            OutputAmount::All => 0,
        })
        .collect();
    if let Some(all) = all_index {
        let mut left = funding.excess.sat();
        for (i, amount) in amounts.iter().enumerate().filter(|(i, _)| *i != all) {
            left = left
                .checked_sub(*amount)
                .ok_or(FundError::CannotAffordOutput(i))?;
        }
        if left < DUST_LIMIT.sat() {
            return Err(FundError::AllOutputTooSmall(AmountSat::from_sat(left)));
        }
        if let Some(slot) = amounts.get_mut(all) {
            *slot = left;
        }
        funding.excess = AmountSat::ZERO;
    }
    let outputs = outputs
        .iter()
        .zip(amounts)
        .map(|(o, value)| TxOut {
            value: bitcoin::Amount::from_sat(value),
            script_pubkey: o.script_pubkey.clone(),
        })
        .collect();
    Ok(PreparedOutputs { funding, outputs })
}
