//! Building the PSBTs and transactions of withdrawals, txprepare and fundpsbt.

use super::*;

// ---------------------------------------------------------------------------------------------
// Building PSBTs.

/// Issues a fresh P2TR key of ours for change (CLN's change is always P2TR).
pub(super) async fn change_output(
    ctx: &NodeContext,
    amount: AmountSat,
) -> Result<Change, RpcError> {
    let (index, _) = ctx
        .onchain
        .new_address(vec![AddrType::P2tr])
        .await
        .map_err(|e| {
            RpcError::new(
                LIGHTNINGD,
                format!("Failed to generate change address. {e}"),
            )
        })?;
    Change::to_wallet(&ctx.onchain.keys, index, AddrType::P2tr, amount).map_err(internal)
}

/// The stored transactions that created `inputs` (for `non_witness_utxo`).
pub(super) async fn previous_txs(ctx: &NodeContext, inputs: &[Coin]) -> Vec<Transaction> {
    let mut txids: Vec<Txid> = inputs.iter().map(|c| c.outpoint.txid).collect();
    txids.sort();
    txids.dedup();
    let stored = ctx
        .onchain
        .with_store(move |s| {
            let mut out = Vec::new();
            for txid in &txids {
                if let Some(t) = s.transaction(txid)? {
                    out.push(t.raw);
                }
            }
            Ok(out)
        })
        .await
        .unwrap_or_default();
    stored
        .iter()
        .filter_map(|raw| encode::deserialize::<Transaction>(raw).ok())
        .collect()
}

/// Builds the unsigned PSBT: `inputs`, then `outputs`, then the change (if any) to a new key
/// of ours. Returns it and the change's output number.
pub(super) async fn build(
    ctx: &NodeContext,
    inputs: &[Coin],
    outputs: &[TxOut],
    change: Option<AmountSat>,
    locktime: Option<u32>,
) -> Result<(Psbt, Option<u32>), RpcError> {
    let change = match change {
        Some(amount) => Some(change_output(ctx, amount).await?),
        None => None,
    };
    let locktime = match locktime {
        Some(l) => LockTime::from_consensus(l),
        None => default_locktime(ctx.blockheight(), random_u64()),
    };
    let prev = previous_txs(ctx, inputs).await;
    let keys = &ctx.onchain.keys;
    let built = match build_psbt(keys, inputs, outputs, change.as_ref(), locktime, &prev) {
        Ok(b) => b,
        // The stored transactions are only a courtesy to hardware signers.
        Err(PsbtError::PrevTxMismatch(_)) => {
            build_psbt(keys, inputs, outputs, change.as_ref(), locktime, &[]).map_err(internal)?
        }
        Err(e) => return Err(internal(e)),
    };
    Ok((built.psbt, built.change_outnum))
}

/// What `fundpsbt` and `utxopsbt` are asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FundRequest {
    /// `satoshi`.
    pub target: Target,
    /// `feerate`, resolved.
    pub feerate: FeeratePerKw,
    /// `startweight`.
    pub startweight: u32,
    /// `minconf` (ignored for explicit utxos).
    pub minconf: u32,
    /// `reserve`: blocks to reserve the inputs for (0: do not reserve).
    pub reserve: u32,
    /// `locktime`, or CLN's anti-fee-sniping default.
    pub locktime: Option<u32>,
    /// `min_witness_weight`.
    pub min_witness_weight: u32,
    /// `excess_as_change`.
    pub excess_as_change: bool,
    /// `nonwrapped`.
    pub nonwrapped: bool,
    /// `opening_anchor_channel`.
    pub opening_anchor_channel: bool,
    /// Where the inputs come from.
    pub source: Source,
}

/// A funded, unsigned PSBT (`fundpsbt`/`utxopsbt` result).
#[derive(Debug, Clone)]
pub struct FundedPsbt {
    /// The PSBT (inputs and possibly change).
    pub psbt: Psbt,
    /// The selection.
    pub funding: Funding,
    /// Where the change went.
    pub change_outnum: Option<u32>,
    /// What reserving did (`None` when `reserve` was 0).
    pub reservations: Option<Vec<ReservationChange>>,
}

/// `fundpsbt` / `utxopsbt`.
pub async fn fund_psbt(ctx: &NodeContext, req: FundRequest) -> Result<FundedPsbt, RpcError> {
    let params = FundParams {
        minconf: req.minconf,
        min_witness_weight: req.min_witness_weight,
        excess_as_change: req.excess_as_change,
        nonwrapped: req.nonwrapped,
        emergency_reserve: emergency_reserve(ctx, req.opening_anchor_channel),
        ..FundParams::new(req.target, req.feerate, req.startweight)
    };
    let syncing = still_syncing(ctx);
    let wallet = req.source == Source::Wallet;
    let select: SelectFn<Funding> = Box::new(move |available, utxos| {
        let funding = fulgur_wallet::fund(available, utxos, &params)
            .map_err(|e| fund_error(e, syncing, wallet))?;
        let inputs = funding.inputs.clone();
        Ok((funding, inputs))
    });
    let chosen = choose(ctx, req.source.clone(), req.reserve, select).await?;
    let outpoints: Vec<OutPoint> = chosen.inputs.iter().map(|c| c.outpoint).collect();
    let built = build(ctx, &chosen.inputs, &[], chosen.value.change, req.locktime).await;
    let (psbt, change_outnum) = match built {
        Ok(b) => b,
        Err(e) => {
            release(ctx, outpoints, req.reserve).await;
            return Err(e);
        }
    };
    Ok(FundedPsbt {
        psbt,
        funding: chosen.value,
        change_outnum,
        reservations: (req.reserve > 0).then_some(chosen.reservations),
    })
}

/// How `multiwithdraw` and `txprepare`/`withdraw` word the same funding failures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    /// `txprepare` and `withdraw` (CLN's txprepare plugin).
    TxPrepare,
    /// `multiwithdraw` (CLN's spender plugin), which also shuffles the outputs.
    MultiWithdraw,
}

pub(super) fn prepare_error(e: FundError, syncing: bool, wallet: bool, flavor: Flavor) -> RpcError {
    match (flavor, &e) {
        (Flavor::MultiWithdraw, FundError::CannotAffordOutput(_)) => {
            RpcError::new(FUND_CANNOT_AFFORD, "Insufficient funds.")
        }
        (Flavor::MultiWithdraw, FundError::Overflow) => {
            RpcError::new(FUND_CANNOT_AFFORD, "Overflow in amount sum.")
        }
        (Flavor::MultiWithdraw, FundError::AllOutputTooSmall(left)) => RpcError::new(
            FUND_OUTPUT_IS_DUST,
            format!("Output 'all' {left} would be dust."),
        ),
        _ => fund_error(e, syncing, wallet),
    }
}

/// A transaction built for `txprepare`, `withdraw` or `multiwithdraw`, its inputs reserved.
#[derive(Debug, Clone)]
pub struct PreparedSpend {
    /// The unsigned PSBT.
    pub psbt: Psbt,
    /// Its inputs (reserved for [`RESERVATION_DEFAULT`] blocks).
    pub inputs: Vec<OutPoint>,
}

/// Funds `outputs` (one may be `all`) from the wallet or from `utxos`, reserves the inputs
/// and builds the unsigned PSBT: the outputs in order then change (`txprepare`), or all of
/// them shuffled (`multiwithdraw`).
pub async fn prepare_spend(
    ctx: &NodeContext,
    outputs: Vec<OutputRequest>,
    feerate: FeeratePerKw,
    minconf: u32,
    utxos: Option<Vec<OutPoint>>,
    flavor: Flavor,
) -> Result<PreparedSpend, RpcError> {
    let syncing = still_syncing(ctx);
    let wallet = utxos.is_none();
    let source = match utxos {
        None => Source::Wallet,
        Some(outpoints) => Source::Utxos {
            outpoints,
            reserved_ok: false,
        },
    };
    let select: SelectFn<fulgur_wallet::PreparedOutputs> = Box::new(move |available, utxos| {
        let prepared = fulgur_wallet::prepare_outputs(
            available,
            utxos,
            &outputs,
            feerate,
            minconf,
            AmountSat::ZERO,
        )
        .map_err(|e| prepare_error(e, syncing, wallet, flavor))?;
        let inputs = prepared.funding.inputs.clone();
        Ok((prepared, inputs))
    });
    let chosen = choose(ctx, source, RESERVATION_DEFAULT, select).await?;
    let inputs: Vec<OutPoint> = chosen.inputs.iter().map(|c| c.outpoint).collect();
    let built = match flavor {
        Flavor::TxPrepare => {
            build(
                ctx,
                &chosen.inputs,
                &chosen.value.outputs,
                chosen.value.funding.change,
                None,
            )
            .await
        }
        Flavor::MultiWithdraw => shuffled_build(ctx, &chosen.inputs, &chosen.value).await,
    };
    match built {
        Ok((psbt, _)) => Ok(PreparedSpend { psbt, inputs }),
        Err(e) => {
            release(ctx, inputs, u32::MAX).await;
            Err(e)
        }
    }
}

/// `multiwithdraw`'s PSBT: the outputs and the change in random order.
pub(super) async fn shuffled_build(
    ctx: &NodeContext,
    inputs: &[Coin],
    prepared: &fulgur_wallet::PreparedOutputs,
) -> Result<(Psbt, Option<u32>), RpcError> {
    let mut outputs = prepared.outputs.clone();
    if let Some(amount) = prepared.funding.change {
        let change = change_output(ctx, amount).await?;
        outputs.push(TxOut {
            value: change.amount.into(),
            script_pubkey: change.script_pubkey,
        });
    }
    shuffle(&mut outputs, random_u64());
    let (mut psbt, _) = build(ctx, inputs, &outputs, None, None).await?;
    let index = ctx.onchain.script_index();
    fulgur_wallet::add_output_origins(&ctx.onchain.keys, &mut psbt, &index).map_err(internal)?;
    Ok((psbt, None))
}
