//! Choosing coins and reserving them in the same database transaction.

use super::*;

// ---------------------------------------------------------------------------------------------
// Choosing and reserving coins.

pub(super) fn coin_of(o: &AvailableOutput, height: u32) -> Coin {
    Coin {
        outpoint: o.outpoint,
        amount: o.amount.into(),
        keyindex: o.keyindex,
        addrtype: o.addrtype,
        confirmations: o.confirmations(height),
    }
}

pub(super) fn coin_of_info(o: &OutputInfo, height: u32) -> Coin {
    let confirmations = match o.confirmation_height {
        Some(c) if c <= height => height - c + 1,
        _ => 0,
    };
    Coin {
        outpoint: o.outpoint,
        amount: o.amount.into(),
        keyindex: o.keyindex,
        addrtype: o.addrtype,
        confirmations,
    }
}

/// Where the inputs come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// Chosen from the wallet's available coins (`fundpsbt`).
    Wallet,
    /// Exactly these (`utxopsbt`, `utxos` parameters); `reserved_ok` allows coins that are
    /// already reserved (their reservation is then extended).
    Utxos {
        /// The coins, in input order.
        outpoints: Vec<OutPoint>,
        /// `reservedok`.
        reserved_ok: bool,
    },
}

/// Coins chosen and reserved, with what the selection function computed.
pub(super) struct Chosen<T> {
    pub(super) value: T,
    pub(super) inputs: Vec<Coin>,
    /// What reserving them did (empty when `reserve` was 0).
    pub(super) reservations: Vec<ReservationChange>,
}

/// The selection function: given the wallet's spendable coins (shuffled) and, for
/// [`Source::Utxos`], the coins to use, computes something and the inputs it needs.
pub(super) type SelectFn<T> =
    Box<dyn FnOnce(&[Coin], Option<&[Coin]>) -> Result<(T, Vec<Coin>), RpcError> + Send>;

/// Chooses coins with `select` and reserves them for `reserve` blocks, atomically.
pub(super) async fn choose<T: Send + 'static>(
    ctx: &NodeContext,
    source: Source,
    reserve: u32,
    select: SelectFn<T>,
) -> Result<Chosen<T>, RpcError> {
    let height = ctx.blockheight();
    let seed = random_u64();
    let outcome = ctx
        .onchain
        .with_store(move |s| match source {
            Source::Wallet => {
                let mut result: Option<(T, Vec<Coin>)> = None;
                let selection = s.select_and_reserve(height, reserve, |available| {
                    let mut coins: Vec<Coin> =
                        available.iter().map(|o| coin_of(o, height)).collect();
                    shuffle(&mut coins, seed);
                    let (value, inputs) = select(&coins, None)?;
                    let outpoints = inputs.iter().map(|c| c.outpoint).collect();
                    result = Some((value, inputs));
                    Ok(outpoints)
                });
                let selection = match selection {
                    Ok(sel) => sel,
                    Err(SelectError::Select(e)) => return Ok(Err(e)),
                    Err(SelectError::Store(e)) => return Err(OnchainError::Store(e)),
                    Err(e) => return Ok(Err(internal(e))),
                };
                let Some((value, inputs)) = result else {
                    return Ok(Err(internal("coin selection gave no result")));
                };
                let reservations = if reserve == 0 {
                    Vec::new()
                } else {
                    selection
                        .outputs
                        .iter()
                        .map(|o| ReservationChange {
                            outpoint: o.outpoint,
                            was_reserved: false,
                            reserved: true,
                            reserved_to_block: Some(selection.reserved_to_block),
                        })
                        .collect()
                };
                Ok(Ok(Chosen {
                    value,
                    inputs,
                    reservations,
                }))
            }
            Source::Utxos {
                outpoints,
                reserved_ok,
            } => {
                let mut infos = Vec::with_capacity(outpoints.len());
                for op in &outpoints {
                    let Some(info) = s.output(op, height)? else {
                        return Ok(Err(invalid(format!("Unknown UTXO {op}"))));
                    };
                    if info.state == OutputState::Spent || info.spend_txid.is_some() {
                        return Ok(Err(invalid(format!("Already spent UTXO {op}"))));
                    }
                    infos.push(info);
                }
                if let Some(taken) = infos.iter().find(|i| !reserved_ok && i.reserved) {
                    return Ok(Err(invalid(format!(
                        "UTXO {} already reserved",
                        taken.outpoint
                    ))));
                }
                let coins: Vec<Coin> = infos.iter().map(|i| coin_of_info(i, height)).collect();
                let available: Vec<Coin> = s
                    .available_outputs(height)?
                    .iter()
                    .map(|o| coin_of(o, height))
                    .collect();
                let (value, inputs) = match select(&available, Some(&coins)) {
                    Ok(v) => v,
                    Err(e) => return Ok(Err(e)),
                };
                let reservations = if reserve == 0 {
                    Vec::new()
                } else {
                    match s.reserve(&outpoints, height, reserve, !reserved_ok) {
                        Ok(changes) => changes,
                        Err(ReserveError::Store(e)) => return Err(OnchainError::Store(e)),
                        Err(e) => return Ok(Err(reserve_error(&e))),
                    }
                };
                Ok(Ok(Chosen {
                    value,
                    inputs,
                    reservations,
                }))
            }
        })
        .await
        .map_err(internal)?;
    outcome
}

/// CLN's messages for coins that cannot be reserved.
pub(super) fn reserve_error(e: &ReserveError) -> RpcError {
    match e {
        ReserveError::Unknown(op) => invalid(format!("Unknown UTXO {op}")),
        ReserveError::Spent(op) => invalid(format!("{op} already spent")),
        ReserveError::AlreadyReserved { outpoint, .. } => {
            invalid(format!("{outpoint} already reserved"))
        }
        ReserveError::Duplicate(op) => invalid(format!("{op} is listed twice")),
        ReserveError::Store(e) => internal(e),
    }
}

/// Shortens the reservations of `outpoints` by `blocks` (`u32::MAX` releases them), logging
/// rather than failing: used to undo a reservation on an error path.
pub(crate) async fn release(ctx: &NodeContext, outpoints: Vec<OutPoint>, blocks: u32) {
    if outpoints.is_empty() {
        return;
    }
    let height = ctx.blockheight();
    let result = ctx
        .onchain
        .with_store(move |s| Ok(s.unreserve(&outpoints, height, blocks)?))
        .await;
    if let Err(e) = result {
        tracing::error!(target: "wallet", "cannot release reserved coins: {e}");
    }
}

/// The error for a failed selection, with CLN's "still syncing" variant of "cannot afford".
pub(super) fn fund_error(e: FundError, syncing: bool, wallet: bool) -> RpcError {
    let afford = matches!(
        e,
        FundError::CannotAfford { .. }
            | FundError::NothingForAll
            | FundError::AllCannotAffordFees { .. }
    );
    if afford && syncing && wallet {
        return RpcError::new(
            FUNDING_STILL_SYNCING_BITCOIN,
            "Cannot afford: still syncing with bitcoin network...",
        );
    }
    RpcError::new(i64::from(e.code()), e.to_string())
}
