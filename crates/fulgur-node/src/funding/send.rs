//! Reserving by PSBT, signing our inputs, and sending: persisted before broadcast.

use super::*;

// ---------------------------------------------------------------------------------------------
// Reserving by PSBT.

/// The outpoints a PSBT's inputs spend.
pub fn psbt_inputs(psbt: &Psbt) -> Vec<OutPoint> {
    psbt.unsigned_tx
        .input
        .iter()
        .map(|i| i.previous_output)
        .collect()
}

/// `reserveinputs`: reserves the inputs that are ours (others are ignored), all or nothing.
pub async fn reserve_inputs(
    ctx: &NodeContext,
    outpoints: Vec<OutPoint>,
    exclusive: bool,
    blocks: u32,
) -> Result<Vec<ReservationChange>, RpcError> {
    let height = ctx.blockheight();
    let outcome = ctx
        .onchain
        .with_store(move |s| {
            let mut ours = Vec::new();
            for op in &outpoints {
                let Some(info) = s.output(op, height)? else {
                    continue;
                };
                if exclusive && info.reserved {
                    return Ok(Err(invalid(format!("{op} already reserved"))));
                }
                if info.state == OutputState::Spent || info.spend_txid.is_some() {
                    return Ok(Err(invalid(format!("{op} already spent"))));
                }
                ours.push(*op);
            }
            match s.reserve(&ours, height, blocks, exclusive) {
                Ok(changes) => Ok(Ok(changes)),
                Err(ReserveError::Store(e)) => Err(OnchainError::Store(e)),
                Err(e) => Ok(Err(reserve_error(&e))),
            }
        })
        .await
        .map_err(internal)?;
    outcome
}

/// `unreserveinputs`: shortens the reservations of the inputs that are ours and reserved.
pub async fn unreserve_inputs(
    ctx: &NodeContext,
    outpoints: Vec<OutPoint>,
    blocks: u32,
) -> Result<Vec<ReservationChange>, RpcError> {
    let height = ctx.blockheight();
    ctx.onchain
        .with_store(move |s| {
            let mut ours = Vec::new();
            for op in &outpoints {
                if let Some(info) = s.output(op, height)? {
                    if info.state != OutputState::Spent {
                        ours.push(*op);
                    }
                }
            }
            Ok(s.unreserve(&ours, height, blocks)?)
        })
        .await
        .map_err(internal)
}

// ---------------------------------------------------------------------------------------------
// Signing and sending.

/// Our outputs among `outpoints`, as the store knows them now.
pub(super) async fn our_outputs(
    ctx: &NodeContext,
    outpoints: Vec<OutPoint>,
) -> Result<Vec<(OutPoint, Option<OutputInfo>)>, RpcError> {
    let height = ctx.blockheight();
    ctx.onchain
        .with_store(move |s| {
            let mut out = Vec::with_capacity(outpoints.len());
            for op in outpoints {
                let info = s.output(&op, height)?;
                out.push((op, info));
            }
            Ok(out)
        })
        .await
        .map_err(internal)
}

pub(super) fn not_reserved(op: &OutPoint) -> RpcError {
    RpcError::new(
        LIGHTNINGD,
        format!("Aborting PSBT signing. UTXO {op} is not reserved"),
    )
}

pub(super) fn psbt_error(e: PsbtError) -> RpcError {
    RpcError::new(i64::from(e.code()), e.to_string())
}

/// `signpsbt`: signs the inputs that are ours (all of them, or those in `signonly`), each of
/// which must be reserved, and adds key origins to the outputs that pay us.
pub async fn sign_inputs(
    ctx: &NodeContext,
    psbt: &mut Psbt,
    signonly: Option<Vec<u32>>,
) -> Result<(), RpcError> {
    let n = psbt.unsigned_tx.input.len();
    if let Some(list) = &signonly {
        for (position, input) in list.iter().enumerate() {
            if usize::try_from(*input).map_or(true, |i| i >= n) {
                return Err(invalid(format!(
                    "signonly[{position}]: {input} out of range"
                )));
            }
        }
    }
    let found = our_outputs(ctx, psbt_inputs(psbt)).await?;
    let mut owned = HashMap::new();
    for (i, (op, info)) in found.into_iter().enumerate() {
        if let Some(list) = &signonly {
            if !list.iter().any(|x| usize::try_from(*x).ok() == Some(i)) {
                continue;
            }
        }
        let Some(info) = info else {
            if signonly.is_some() {
                return Err(RpcError::new(
                    LIGHTNINGD,
                    format!(
                        "Aborting PSBT signing. UTXO {op} is unknown (and specified by signonly)"
                    ),
                ));
            }
            continue;
        };
        if !info.reserved {
            return Err(not_reserved(&op));
        }
        owned.insert(
            op,
            OwnedInput {
                keyindex: info.keyindex,
                addrtype: info.addrtype,
                amount: info.amount.into(),
            },
        );
    }
    if owned.is_empty() {
        return Err(psbt_error(PsbtError::NoWalletInputs));
    }
    let keys = &ctx.onchain.keys;
    {
        let index = ctx.onchain.script_index();
        fulgur_wallet::add_output_origins(keys, psbt, &index)
            .map_err(|_| invalid("Could not add keypaths to PSBT?"))?;
    }
    sign_psbt(keys, psbt, |op| owned.get(op).copied(), signonly.as_deref()).map_err(psbt_error)?;
    Ok(())
}

/// Signs our inputs, finalizes and extracts the transaction (the `withdraw`/`txsend` path):
/// returns the finalized PSBT and the transaction.
pub async fn sign_and_finalize(
    ctx: &NodeContext,
    mut psbt: Psbt,
) -> Result<(Psbt, Transaction), RpcError> {
    sign_inputs(ctx, &mut psbt, None).await?;
    if finalize_psbt(&mut psbt).is_err() {
        return Err(RpcError::new(
            LIGHTNINGD,
            format!("Signed PSBT not finalizeable: {}", psbt_base64(&psbt)),
        ));
    }
    let tx = extract_tx(psbt.clone()).map_err(|_| {
        RpcError::new(
            LIGHTNINGD,
            format!("Could not extract final tx: {}", psbt_base64(&psbt)),
        )
    })?;
    Ok((psbt, tx))
}

/// What to do with our inputs' reservations if bitcoind refuses the transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnRefusal {
    /// Shorten them by this many blocks (`sendpsbt`, which extended them by as much).
    Shorten(u32),
    /// Release them (`withdraw`, `txsend`, `multiwithdraw`).
    Release,
}

/// Records `tx` as ours, then hands it to bitcoind (`sendpsbt`). Every input of ours must be
/// reserved; with `extend`, their reservations are extended by that many blocks first, as
/// CLN's `sendpsbt` does. If bitcoind refuses it, the record is undone, the reservations are
/// shortened or released per `on_refusal`, and CLN's error is returned.
pub async fn broadcast(
    ctx: &NodeContext,
    tx: &Transaction,
    extend: Option<u32>,
    on_refusal: OnRefusal,
) -> Result<(), RpcError> {
    broadcast_outcome(ctx, tx, extend, on_refusal)
        .await
        .map_err(|f| f.error)
}

/// Why [`broadcast_outcome`] failed.
#[derive(Debug)]
pub struct BroadcastFailure {
    /// CLN's error for the command.
    pub error: RpcError,
    /// bitcoind's (or the transport's) reason.
    pub why: String,
    /// Whether the transaction may have reached bitcoind nonetheless (it could not be
    /// asked, or it knows the transaction's outputs): then its record and the reservations
    /// of its inputs were kept, since it may confirm.
    pub maybe_sent: bool,
}

/// Whether `tx` surely never reached bitcoind: none of its outputs is known to it, in the
/// mempool or the chain. Not being able to ask counts as "maybe reached".
pub async fn surely_unsent(ctx: &NodeContext, tx: &Transaction) -> bool {
    use fulgur_chain::ChainBackend;
    let txid = tx.compute_txid();
    for vout in 0..tx.output.len() {
        let Ok(vout) = u32::try_from(vout) else {
            return false;
        };
        match ctx.backend.getutxout(txid, vout).await {
            Ok(None) => {}
            _ => return false,
        }
    }
    true
}

/// [`broadcast`], telling a transaction bitcoind surely does not have from one it may have.
pub async fn broadcast_outcome(
    ctx: &NodeContext,
    tx: &Transaction,
    extend: Option<u32>,
    on_refusal: OnRefusal,
) -> Result<(), BroadcastFailure> {
    let txid = tx.compute_txid();
    let raw = encode::serialize(tx);
    let found = our_outputs(ctx, psbt_inputs_of(tx)).await.map_err(early)?;
    let mut ours = Vec::new();
    let mut previous_spenders = HashSet::new();
    for (op, info) in found {
        let Some(info) = info else { continue };
        if !info.reserved {
            return Err(early(not_reserved(&op)));
        }
        if let Some(other) = info.spend_txid.filter(|t| *t != txid) {
            previous_spenders.insert(other);
        }
        ours.push((op, info.spend_txid == Some(txid)));
    }
    let our_ops: Vec<OutPoint> = ours.iter().map(|(op, _)| *op).collect();
    // Change: every output paying one of our scripts.
    let new_outputs: Vec<NewOutput> = {
        let index = ctx.onchain.script_index();
        tx.output
            .iter()
            .enumerate()
            .filter_map(|(vout, out)| {
                let origin = index.lookup(&out.script_pubkey)?;
                Some(NewOutput {
                    outpoint: OutPoint {
                        txid,
                        vout: u32::try_from(vout).ok()?,
                    },
                    amount: out.value,
                    script_pubkey: out.script_pubkey.clone(),
                    keyindex: origin.keyindex,
                    addrtype: origin.addrtype,
                    is_change: true,
                    is_coinbase: false,
                })
            })
            .collect()
    };
    let change_ops: Vec<OutPoint> = new_outputs.iter().map(|o| o.outpoint).collect();
    let height = ctx.blockheight();
    let to_extend: Vec<OutPoint> = ours
        .iter()
        .filter(|(_, in_flight)| !in_flight)
        .map(|(op, _)| *op)
        .collect();
    let record = BroadcastTx {
        txid,
        raw: raw.clone(),
        spends: psbt_inputs_of(tx),
        new_outputs,
    };
    let recorded = ctx
        .onchain
        .with_store(move |s| {
            if let Some(blocks) = extend {
                match s.reserve(&to_extend, height, blocks, false) {
                    Ok(_) => {}
                    Err(ReserveError::Store(e)) => return Err(OnchainError::Store(e)),
                    Err(e) => return Ok(Err(reserve_error(&e))),
                }
            }
            s.record_broadcast(&record)?;
            Ok(Ok(()))
        })
        .await
        .map_err(|e| early(internal(e)))?;
    recorded.map_err(early)?;
    ctx.onchain.note_outpoints(&change_ops);

    let why = match ctx.backend.send_raw_transaction(tx, false).await {
        Ok(sent) if sent.success => {
            tracing::info!(target: "wallet", "broadcast {txid}");
            return Ok(());
        }
        Ok(sent) => sent.errmsg,
        Err(e) => e.to_string(),
    };
    tracing::info!(target: "wallet", "bitcoind refused {txid}: {why}");
    if !surely_unsent(ctx, tx).await {
        // It may be out: keep it recorded as ours, its inputs reserved, so nothing else
        // spends them while it may still confirm.
        tracing::warn!(target: "wallet", "{txid} may have reached bitcoind after all: kept as sent");
        return Err(BroadcastFailure {
            error: RpcError::new(
                LIGHTNINGD,
                format!(
                    "Error broadcasting transaction: {why}. bitcoind may have it nonetheless: it is kept as sent and its inputs stay reserved"
                ),
            ),
            why,
            maybe_sent: true,
        });
    }
    let blocks = match on_refusal {
        OnRefusal::Shorten(b) => b,
        OnRefusal::Release => u32::MAX,
    };
    let undo = ctx
        .onchain
        .with_store(move |s| {
            s.forget_broadcast(&txid)?;
            // Put back the unconfirmed spends this transaction had replaced.
            for other in previous_spenders {
                let Some(stored) = s.transaction(&other)? else {
                    continue;
                };
                let Ok(prev) = encode::deserialize::<Transaction>(&stored.raw) else {
                    continue;
                };
                s.record_broadcast(&BroadcastTx {
                    txid: other,
                    spends: psbt_inputs_of(&prev),
                    raw: stored.raw,
                    new_outputs: Vec::new(),
                })?;
            }
            Ok(s.unreserve(&our_ops, height, blocks)?)
        })
        .await;
    if let Err(e) = undo {
        tracing::error!(target: "wallet", "cannot undo the record of refused {txid}: {e}");
    }
    Err(BroadcastFailure {
        error: RpcError::new(
            LIGHTNINGD,
            format!(
                "Error broadcasting transaction: {why}. Unsent tx discarded {}",
                encode::serialize_hex(tx)
            ),
        ),
        why,
        maybe_sent: false,
    })
}

/// A failure before anything was sent.
fn early(error: RpcError) -> BroadcastFailure {
    BroadcastFailure {
        error,
        why: String::new(),
        maybe_sent: false,
    }
}

pub(super) fn psbt_inputs_of(tx: &Transaction) -> Vec<OutPoint> {
    tx.input.iter().map(|i| i.previous_output).collect()
}

/// Releases the reservations of a spend that will not be sent (an error before broadcast).
pub async fn abandon(ctx: &NodeContext, inputs: Vec<OutPoint>) {
    release(ctx, inputs, u32::MAX).await;
}
