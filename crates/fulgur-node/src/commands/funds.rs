//! Commands that spend the on-chain wallet: `withdraw`, `multiwithdraw`, `txprepare`,
//! `txsend`, `txdiscard`, `fundpsbt`, `utxopsbt`, `reserveinputs`, `unreserveinputs`,
//! `signpsbt`, `sendpsbt`, and `listtransactions` (CLN v26.06 parameters, results, error codes
//! and messages). The shared logic is in [`crate::funding`].

use super::command;
use crate::context::NodeContext;
use crate::funding::{
    self, address_script, internal, parse_psbt, psbt_base64, psbt_inputs, resolve_feerate, tx_hex,
    AddressProblem, Flavor, FundRequest, OnRefusal, Source, INVALID_PARAMS, LIGHTNINGD,
    RESERVATION_DEFAULT,
};
use bitcoin::{OutPoint, Txid};
use fulgur_rpc::{Call, CommandDef};
use fulgur_rpc_types::{ParamKind, ParamSpec, ParamValue, RpcError};
use fulgur_store::ReservationChange;
use fulgur_types::{AmountSat, FeerateSpec};
use fulgur_wallet::{OutputAmount, OutputRequest, Target};
use serde_json::{json, Map, Value};

const WITHDRAW: &[ParamSpec] = &[
    ParamSpec::req("destination", ParamKind::String),
    ParamSpec::req("satoshi", ParamKind::SatOrAll),
    ParamSpec::opt("feerate", ParamKind::Feerate),
    ParamSpec::opt("minconf", ParamKind::U32),
    ParamSpec::opt("utxos", ParamKind::Any),
];
const MULTIWITHDRAW: &[ParamSpec] = &[
    ParamSpec::req("outputs", ParamKind::Any),
    ParamSpec::opt("feerate", ParamKind::Feerate),
    ParamSpec::opt("minconf", ParamKind::U32),
    ParamSpec::opt("utxos", ParamKind::Any),
];
const TXPREPARE: &[ParamSpec] = &[
    ParamSpec::req("outputs", ParamKind::Any),
    ParamSpec::opt("feerate", ParamKind::Feerate),
    ParamSpec::opt("minconf", ParamKind::U32),
    ParamSpec::opt("utxos", ParamKind::Any),
];
const TXID_ONLY: &[ParamSpec] = &[ParamSpec::req("txid", ParamKind::String)];
const FUNDPSBT: &[ParamSpec] = &[
    ParamSpec::req("satoshi", ParamKind::SatOrAll),
    ParamSpec::req("feerate", ParamKind::Feerate),
    ParamSpec::req("startweight", ParamKind::U32),
    ParamSpec::opt("minconf", ParamKind::U32),
    ParamSpec::opt("reserve", ParamKind::U32),
    ParamSpec::opt("locktime", ParamKind::U32),
    ParamSpec::opt("min_witness_weight", ParamKind::U32),
    ParamSpec::opt("excess_as_change", ParamKind::Bool),
    ParamSpec::opt("nonwrapped", ParamKind::Bool),
    ParamSpec::opt("opening_anchor_channel", ParamKind::Bool),
];
const UTXOPSBT: &[ParamSpec] = &[
    ParamSpec::req("satoshi", ParamKind::SatOrAll),
    ParamSpec::req("feerate", ParamKind::Feerate),
    ParamSpec::req("startweight", ParamKind::U32),
    ParamSpec::req("utxos", ParamKind::Any),
    ParamSpec::opt("reserve", ParamKind::U32),
    ParamSpec::opt("reservedok", ParamKind::Bool),
    ParamSpec::opt("locktime", ParamKind::U32),
    ParamSpec::opt("min_witness_weight", ParamKind::U32),
    ParamSpec::opt("excess_as_change", ParamKind::Bool),
    ParamSpec::opt("opening_anchor_channel", ParamKind::Bool),
];
const RESERVEINPUTS: &[ParamSpec] = &[
    ParamSpec::req("psbt", ParamKind::String),
    ParamSpec::opt("exclusive", ParamKind::Bool),
    ParamSpec::opt("reserve", ParamKind::U32),
];
const UNRESERVEINPUTS: &[ParamSpec] = &[
    ParamSpec::req("psbt", ParamKind::String),
    ParamSpec::opt("reserve", ParamKind::U32),
];
const SIGNPSBT: &[ParamSpec] = &[
    ParamSpec::req("psbt", ParamKind::String),
    ParamSpec::opt("signonly", ParamKind::Array),
];
const SENDPSBT: &[ParamSpec] = &[
    ParamSpec::req("psbt", ParamKind::String),
    ParamSpec::opt("reserve", ParamKind::U32),
];

pub(super) fn defs() -> Vec<CommandDef<NodeContext>> {
    vec![
        command(
            "withdraw",
            WITHDRAW,
            include_str!("../../../../doc/rpc/withdraw.md"),
            withdraw,
        ),
        command(
            "multiwithdraw",
            MULTIWITHDRAW,
            include_str!("../../../../doc/rpc/multiwithdraw.md"),
            multiwithdraw,
        ),
        command(
            "txprepare",
            TXPREPARE,
            include_str!("../../../../doc/rpc/txprepare.md"),
            txprepare,
        ),
        command(
            "txsend",
            TXID_ONLY,
            include_str!("../../../../doc/rpc/txsend.md"),
            txsend,
        ),
        command(
            "txdiscard",
            TXID_ONLY,
            include_str!("../../../../doc/rpc/txdiscard.md"),
            txdiscard,
        ),
        command(
            "fundpsbt",
            FUNDPSBT,
            include_str!("../../../../doc/rpc/fundpsbt.md"),
            fundpsbt,
        ),
        command(
            "utxopsbt",
            UTXOPSBT,
            include_str!("../../../../doc/rpc/utxopsbt.md"),
            utxopsbt,
        ),
        command(
            "reserveinputs",
            RESERVEINPUTS,
            include_str!("../../../../doc/rpc/reserveinputs.md"),
            reserveinputs,
        ),
        command(
            "unreserveinputs",
            UNRESERVEINPUTS,
            include_str!("../../../../doc/rpc/unreserveinputs.md"),
            unreserveinputs,
        ),
        command(
            "signpsbt",
            SIGNPSBT,
            include_str!("../../../../doc/rpc/signpsbt.md"),
            signpsbt,
        ),
        command(
            "sendpsbt",
            SENDPSBT,
            include_str!("../../../../doc/rpc/sendpsbt.md"),
            sendpsbt,
        ),
        command(
            "listtransactions",
            &[],
            include_str!("../../../../doc/rpc/listtransactions.md"),
            listtransactions,
        ),
    ]
}

// ---------------------------------------------------------------------------------------------
// Parameters.

fn invalid(message: impl Into<String>) -> RpcError {
    RpcError::new(INVALID_PARAMS, message)
}

/// A token's text as CLN's `json_strdup` gives it (strings without their quotes).
fn strdup(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A token's text as CLN's `json_tok_full` gives it (strings with their quotes).
fn full(v: &Value) -> String {
    v.to_string()
}

fn feerate_param(call: &Call<NodeContext>) -> Option<FeerateSpec> {
    match call.params.get("feerate") {
        Some(ParamValue::Feerate(spec)) => Some(*spec),
        _ => None,
    }
}

fn target_param(call: &Call<NodeContext>) -> Target {
    match call.params.get("satoshi") {
        Some(ParamValue::Sat(a)) => Target::Amount(*a),
        _ => Target::All,
    }
}

fn u32_param(call: &Call<NodeContext>, name: &str, default: u32) -> u32 {
    call.params
        .u64(name)
        .and_then(|v| u32::try_from(v).ok())
        .unwrap_or(default)
}

fn txid_param(call: &Call<NodeContext>) -> Result<Txid, RpcError> {
    let text = call.params.str("txid").unwrap_or_default();
    text.parse().map_err(|_| {
        call.registry
            .param_error("txid", "should be a txid", &Value::String(text.into()))
    })
}

fn psbt_param(call: &Call<NodeContext>) -> Result<funding::ReceivedPsbt, RpcError> {
    let text = call.params.str("psbt").unwrap_or_default();
    parse_psbt(text).ok_or_else(|| {
        call.registry
            .param_error("psbt", "Expected a PSBT", &Value::String(text.into()))
    })
}

/// `txid:vout`, or `None`.
fn outpoint(text: &str) -> Option<OutPoint> {
    let (txid, vout) = text.split_once(':')?;
    Some(OutPoint {
        txid: txid.parse().ok()?,
        vout: vout.parse().ok()?,
    })
}

/// `utxos` as CLN's `param_outpoint_arr` reads it (`withdraw`, `txprepare`), then as
/// `utxopsbt` does (which refuses an empty list).
fn outpoint_array(name: &str, v: &Value) -> Result<Vec<OutPoint>, RpcError> {
    let Value::Array(items) = v else {
        return Err(invalid(format!(
            "Could not decode the outpoint array for {name}: \"{}\" is not a valid outpoint array.",
            strdup(v)
        )));
    };
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        let op = item.as_str().and_then(outpoint).ok_or_else(|| {
            invalid(format!(
                "Could not decode outpoint \"{}\", expected format: txid:output",
                full(item)
            ))
        })?;
        out.push(op);
    }
    if out.is_empty() {
        return Err(empty_utxos(v));
    }
    Ok(out)
}

fn empty_utxos(v: &Value) -> RpcError {
    invalid(format!(
        "Please specify an array of 'txid:output_index', not \"{}\"",
        full(v)
    ))
}

/// `utxos` as CLN's `utxopsbt` reads it (`param_txout`; also `multiwithdraw`).
fn txout_array(v: &Value) -> Result<Vec<OutPoint>, RpcError> {
    let Value::Array(items) = v else {
        return Err(empty_utxos(v));
    };
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        let text = strdup(item);
        let Some((txid, vout)) = text.split_once(':') else {
            return Err(invalid(format!(
                "Could not decode the outpoint from \"{text}\" The utxos should be specified as 'txid:output_index'."
            )));
        };
        let txid: Txid = txid
            .parse()
            .map_err(|_| invalid(format!("Could not get a txid out of \"{txid}\"")))?;
        let vout: u32 = vout
            .parse()
            .map_err(|_| invalid(format!("Could not get a vout out of \"{vout}\"")))?;
        out.push(OutPoint { txid, vout });
    }
    if out.is_empty() {
        return Err(empty_utxos(v));
    }
    Ok(out)
}

fn sat_or_all(v: &Value) -> Option<OutputAmount> {
    if v.as_str() == Some("all") {
        return Some(OutputAmount::All);
    }
    AmountSat::from_json_value(v).ok().map(OutputAmount::Sat)
}

/// `txprepare`'s `outputs` (CLN's txprepare plugin wording).
fn txprepare_outputs(
    v: &Value,
    network: fulgur_types::Network,
) -> Result<Vec<OutputRequest>, RpcError> {
    let Value::Array(items) = v else {
        return Err(invalid(format!(
            "Expected an array of outputs in the format '[{{\"txid\":0}}, ...]', got \"{}\"",
            strdup(v)
        )));
    };
    let mut out = Vec::with_capacity(items.len());
    let mut have_all = false;
    for item in items {
        let Some((addr, amount)) = item.as_object().and_then(|m| m.iter().next()) else {
            return Err(invalid("The output format must be {destination: amount}"));
        };
        let script_pubkey = address_script(addr, network).map_err(|p| match p {
            AddressProblem::Unrecognized => invalid("Could not parse destination address"),
            AddressProblem::WrongNetwork => invalid(format!(
                "Destination address is not on network {}",
                network.name()
            )),
        })?;
        let amount = sat_or_all(amount)
            .ok_or_else(|| invalid(format!("'{}' is a invalid satoshi amount", strdup(amount))))?;
        if amount == OutputAmount::All {
            if have_all {
                return Err(invalid("Cannot use 'all' in two outputs"));
            }
            have_all = true;
        }
        out.push(OutputRequest {
            script_pubkey,
            amount,
        });
    }
    Ok(out)
}

/// `multiwithdraw`'s `outputs` (CLN's spender plugin wording).
fn multiwithdraw_outputs(
    v: &Value,
    network: fulgur_types::Network,
) -> Result<Vec<OutputRequest>, RpcError> {
    let shape = || {
        invalid(format!(
            "'outputs' should be a non-empty array of '{{\"address\": amount}}' objects, got {}",
            full(v)
        ))
    };
    let items = v.as_array().filter(|a| !a.is_empty()).ok_or_else(shape)?;
    let mut out = Vec::with_capacity(items.len());
    let mut have_all = false;
    for item in items {
        let member = item.as_object().filter(|m| m.len() == 1);
        let Some((addr, amount)) = member.and_then(|m| m.iter().next()) else {
            return Err(shape());
        };
        let quoted = full(&Value::String(addr.clone()));
        let script_pubkey = address_script(addr, network).map_err(|p| match p {
            AddressProblem::Unrecognized => {
                invalid(format!("'outputs' address could not be parsed: {quoted}"))
            }
            AddressProblem::WrongNetwork => invalid(format!(
                "'outputs' address is not on network {}: {quoted}",
                network.name()
            )),
        })?;
        let amount = sat_or_all(amount).ok_or_else(|| {
            invalid(format!(
                "'outputs' amount could not be parsed: {}",
                full(amount)
            ))
        })?;
        if amount == OutputAmount::All {
            if have_all {
                return Err(invalid(
                    "'outputs' cannot have more than one amount as \"all\"",
                ));
            }
            have_all = true;
        }
        out.push(OutputRequest {
            script_pubkey,
            amount,
        });
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Results.

fn reservation_json(c: &ReservationChange) -> Value {
    let mut m = Map::new();
    m.insert("txid".into(), json!(c.outpoint.txid.to_string()));
    m.insert("vout".into(), json!(c.outpoint.vout));
    m.insert("was_reserved".into(), json!(c.was_reserved));
    m.insert("reserved".into(), json!(c.reserved));
    if let Some(b) = c.reserved_to_block.filter(|_| c.reserved) {
        m.insert("reserved_to_block".into(), json!(b));
    }
    Value::Object(m)
}

fn reservations_json(changes: &[ReservationChange]) -> Value {
    Value::Array(changes.iter().map(reservation_json).collect())
}

// ---------------------------------------------------------------------------------------------
// Withdrawals and prepared transactions.

/// Signs and sends a prepared spend; on failure before the broadcast its inputs are
/// released (the broadcast releases them itself if bitcoind refuses).
async fn sign_and_send(
    ctx: &NodeContext,
    prepared: funding::PreparedSpend,
) -> Result<(bitcoin::psbt::Psbt, bitcoin::Transaction), RpcError> {
    let (psbt, tx) = match funding::sign_and_finalize(ctx, prepared.psbt).await {
        Ok(done) => done,
        Err(e) => {
            funding::abandon(ctx, prepared.inputs).await;
            return Err(e);
        }
    };
    funding::broadcast(ctx, &tx, None, OnRefusal::Release).await?;
    Ok((psbt, tx))
}

fn utxos_param(
    call: &Call<NodeContext>,
    read: fn(&Value) -> Result<Vec<OutPoint>, RpcError>,
) -> Result<Option<Vec<OutPoint>>, RpcError> {
    call.params.json("utxos").map(read).transpose()
}

async fn withdraw(call: Call<NodeContext>) -> Result<Value, RpcError> {
    let ctx = &call.ctx;
    let network = ctx.config.network;
    let destination = call.params.str("destination").unwrap_or_default();
    let script_pubkey = address_script(destination, network).map_err(|p| match p {
        AddressProblem::Unrecognized => RpcError::new(
            LIGHTNINGD,
            "Could not parse destination address, destination should be a valid address",
        ),
        AddressProblem::WrongNetwork => RpcError::new(
            LIGHTNINGD,
            format!("Destination address is not on network {}", network.name()),
        ),
    })?;
    let amount = match target_param(&call) {
        Target::Amount(a) => OutputAmount::Sat(a),
        Target::All => OutputAmount::All,
    };
    let minconf = u32_param(&call, "minconf", 1);
    let utxos = utxos_param(&call, |v| outpoint_array("utxos", v))?;
    let feerate = resolve_feerate(ctx, feerate_param(&call))?;
    let outputs = vec![OutputRequest {
        script_pubkey,
        amount,
    }];
    let prepared =
        funding::prepare_spend(ctx, outputs, feerate, minconf, utxos, Flavor::TxPrepare).await?;
    let (psbt, tx) = sign_and_send(ctx, prepared).await?;
    Ok(json!({
        "tx": tx_hex(&tx),
        "txid": tx.compute_txid().to_string(),
        "psbt": psbt_base64(&psbt),
    }))
}

async fn multiwithdraw(call: Call<NodeContext>) -> Result<Value, RpcError> {
    let ctx = &call.ctx;
    let outputs = multiwithdraw_outputs(
        call.params.json("outputs").unwrap_or(&Value::Null),
        ctx.config.network,
    )?;
    let minconf = u32_param(&call, "minconf", 1);
    let utxos = utxos_param(&call, txout_array)?;
    let feerate = resolve_feerate(ctx, feerate_param(&call))?;
    let prepared =
        funding::prepare_spend(ctx, outputs, feerate, minconf, utxos, Flavor::MultiWithdraw)
            .await?;
    let (_, tx) = sign_and_send(ctx, prepared).await?;
    Ok(json!({
        "tx": tx_hex(&tx),
        "txid": tx.compute_txid().to_string(),
    }))
}

async fn txprepare(call: Call<NodeContext>) -> Result<Value, RpcError> {
    let ctx = &call.ctx;
    let outputs = txprepare_outputs(
        call.params.json("outputs").unwrap_or(&Value::Null),
        ctx.config.network,
    )?;
    let minconf = u32_param(&call, "minconf", 1);
    let utxos = utxos_param(&call, |v| outpoint_array("utxos", v))?;
    let feerate = resolve_feerate(ctx, feerate_param(&call))?;
    let prepared =
        funding::prepare_spend(ctx, outputs, feerate, minconf, utxos, Flavor::TxPrepare).await?;
    let txid = prepared.psbt.unsigned_tx.compute_txid();
    let bytes = prepared.psbt.serialize();
    let height = ctx.blockheight();
    let saved = ctx
        .onchain
        .with_store(move |s| Ok(s.save_prepared(&txid, &bytes, height)?))
        .await;
    if let Err(e) = saved {
        funding::abandon(ctx, prepared.inputs).await;
        return Err(internal(e));
    }
    Ok(json!({
        "unsigned_tx": tx_hex(&prepared.psbt.unsigned_tx),
        "txid": txid.to_string(),
        "psbt": psbt_base64(&prepared.psbt),
    }))
}

/// Takes a prepared transaction out of the store (exactly one caller gets it).
async fn take_prepared(call: &Call<NodeContext>) -> Result<(Txid, bitcoin::psbt::Psbt), RpcError> {
    let txid = txid_param(call)?;
    let taken = call
        .ctx
        .onchain
        .with_store(move |s| Ok(s.take_prepared(&txid)?))
        .await
        .map_err(internal)?;
    let Some(prepared) = taken else {
        return Err(invalid(format!("not an unreleased txid '{txid}'")));
    };
    let psbt = fulgur_wallet::decode_psbt(&prepared.psbt).map_err(internal)?;
    Ok((txid, psbt))
}

async fn txsend(call: Call<NodeContext>) -> Result<Value, RpcError> {
    let (txid, psbt) = take_prepared(&call).await?;
    let ctx = &call.ctx;
    let inputs = psbt_inputs(&psbt);
    let (psbt, tx) = match funding::sign_and_finalize(ctx, psbt).await {
        Ok(done) => done,
        Err(e) => {
            funding::abandon(ctx, inputs).await;
            return Err(e);
        }
    };
    let signed = tx.compute_txid();
    if signed != txid {
        funding::abandon(ctx, inputs).await;
        return Err(RpcError::new(
            LIGHTNINGD,
            format!("Signed tx changed txid? Had '{txid}' now '{signed}'"),
        ));
    }
    funding::broadcast(ctx, &tx, None, OnRefusal::Release).await?;
    Ok(json!({
        "tx": tx_hex(&tx),
        "txid": txid.to_string(),
        "psbt": psbt_base64(&psbt),
    }))
}

async fn txdiscard(call: Call<NodeContext>) -> Result<Value, RpcError> {
    let (txid, psbt) = take_prepared(&call).await?;
    funding::unreserve_inputs(&call.ctx, psbt_inputs(&psbt), RESERVATION_DEFAULT).await?;
    Ok(json!({
        "unsigned_tx": tx_hex(&psbt.unsigned_tx),
        "txid": txid.to_string(),
    }))
}

// ---------------------------------------------------------------------------------------------
// PSBT commands.

fn fund_request(call: &Call<NodeContext>, source: Source) -> Result<FundRequest, RpcError> {
    Ok(FundRequest {
        target: target_param(call),
        feerate: resolve_feerate(&call.ctx, feerate_param(call))?,
        startweight: u32_param(call, "startweight", 0),
        minconf: u32_param(call, "minconf", 1),
        reserve: u32_param(call, "reserve", RESERVATION_DEFAULT),
        locktime: call
            .params
            .u64("locktime")
            .and_then(|v| u32::try_from(v).ok()),
        min_witness_weight: u32_param(call, "min_witness_weight", 0),
        excess_as_change: call.params.bool("excess_as_change").unwrap_or(false),
        nonwrapped: call.params.bool("nonwrapped").unwrap_or(false),
        opening_anchor_channel: call.params.bool("opening_anchor_channel").unwrap_or(false),
        source,
    })
}

fn funded_json(f: &funding::FundedPsbt) -> Value {
    let mut m = Map::new();
    m.insert("psbt".into(), json!(psbt_base64(&f.psbt)));
    m.insert("feerate_per_kw".into(), json!(f.funding.feerate.perkw()));
    m.insert(
        "estimated_final_weight".into(),
        json!(f.funding.estimated_final_weight),
    );
    m.insert("excess_msat".into(), json!(f.funding.excess_msat().msat()));
    if let Some(n) = f.change_outnum {
        m.insert("change_outnum".into(), json!(n));
    }
    if let Some(r) = &f.reservations {
        m.insert("reservations".into(), reservations_json(r));
    }
    Value::Object(m)
}

async fn fundpsbt(call: Call<NodeContext>) -> Result<Value, RpcError> {
    let req = fund_request(&call, Source::Wallet)?;
    let funded = funding::fund_psbt(&call.ctx, req).await?;
    Ok(funded_json(&funded))
}

async fn utxopsbt(call: Call<NodeContext>) -> Result<Value, RpcError> {
    let outpoints = txout_array(call.params.json("utxos").unwrap_or(&Value::Null))?;
    let source = Source::Utxos {
        outpoints,
        reserved_ok: call.params.bool("reservedok").unwrap_or(false),
    };
    let req = fund_request(&call, source)?;
    let funded = funding::fund_psbt(&call.ctx, req).await?;
    Ok(funded_json(&funded))
}

async fn reserveinputs(call: Call<NodeContext>) -> Result<Value, RpcError> {
    let psbt = psbt_param(&call)?.psbt;
    let exclusive = call.params.bool("exclusive").unwrap_or(true);
    let blocks = u32_param(&call, "reserve", RESERVATION_DEFAULT);
    let changes = funding::reserve_inputs(&call.ctx, psbt_inputs(&psbt), exclusive, blocks).await?;
    Ok(json!({"reservations": reservations_json(&changes)}))
}

async fn unreserveinputs(call: Call<NodeContext>) -> Result<Value, RpcError> {
    let psbt = psbt_param(&call)?.psbt;
    let blocks = u32_param(&call, "reserve", RESERVATION_DEFAULT);
    let changes = funding::unreserve_inputs(&call.ctx, psbt_inputs(&psbt), blocks).await?;
    Ok(json!({"reservations": reservations_json(&changes)}))
}

async fn signpsbt(call: Call<NodeContext>) -> Result<Value, RpcError> {
    let received = psbt_param(&call)?;
    let mut psbt = received.psbt.clone();
    let signonly = match call.params.json("signonly") {
        None => None,
        Some(Value::Array(items)) => {
            let mut list = Vec::with_capacity(items.len());
            for item in items {
                let n = item
                    .as_u64()
                    .or_else(|| item.as_str().and_then(|s| s.parse().ok()))
                    .and_then(|n| u32::try_from(n).ok())
                    .ok_or_else(|| {
                        call.registry
                            .param_error("signonly", "should be an integer", item)
                    })?;
                list.push(n);
            }
            Some(list)
        }
        Some(other) => {
            return Err(call
                .registry
                .param_error("signonly", "should be an array", other))
        }
    };
    funding::sign_inputs(&call.ctx, &mut psbt, signonly).await?;
    Ok(json!({"signed_psbt": received.to_base64(&psbt)}))
}

async fn sendpsbt(call: Call<NodeContext>) -> Result<Value, RpcError> {
    let received = psbt_param(&call)?;
    let mut psbt = received.psbt.clone();
    let blocks = u32_param(&call, "reserve", RESERVATION_DEFAULT);
    // As CLN: finalize what can be, then the transaction must be complete.
    let _ = fulgur_wallet::finalize_psbt(&mut psbt);
    let tx = fulgur_wallet::extract_tx(psbt.clone()).map_err(|_| {
        RpcError::new(
            LIGHTNINGD,
            format!("PSBT not finalizeable {}", received.to_base64(&psbt)),
        )
    })?;
    funding::broadcast(&call.ctx, &tx, Some(blocks), OnRefusal::Shorten(blocks)).await?;
    Ok(json!({
        "tx": tx_hex(&tx),
        "txid": tx.compute_txid().to_string(),
    }))
}

// ---------------------------------------------------------------------------------------------
// listtransactions.

async fn listtransactions(call: Call<NodeContext>) -> Result<Value, RpcError> {
    let mut stored = call
        .ctx
        .onchain
        .with_store(|s| Ok(s.transactions()?))
        .await
        .map_err(internal)?;
    // CLN lists by (blockheight, txindex) with 0 for unconfirmed: those come first.
    stored.sort_by_key(|t| (t.blockheight.unwrap_or(0), t.txindex.unwrap_or(0)));
    let mut out = Vec::with_capacity(stored.len());
    for t in stored {
        let Ok(tx) = bitcoin::consensus::encode::deserialize::<bitcoin::Transaction>(&t.raw) else {
            tracing::warn!(target: "wallet", "stored transaction {} does not decode", t.txid);
            continue;
        };
        let inputs: Vec<Value> = tx
            .input
            .iter()
            .map(|i| {
                json!({
                    "txid": i.previous_output.txid.to_string(),
                    "index": i.previous_output.vout,
                    "sequence": i.sequence.0,
                })
            })
            .collect();
        let outputs: Vec<Value> = tx
            .output
            .iter()
            .enumerate()
            .map(|(index, o)| {
                json!({
                    "index": index,
                    "amount_msat": o.value.to_sat().saturating_mul(1000),
                    "scriptPubKey": hex::encode(o.script_pubkey.as_bytes()),
                })
            })
            .collect();
        out.push(json!({
            "hash": t.txid.to_string(),
            "rawtx": hex::encode(&t.raw),
            "blockheight": t.blockheight.unwrap_or(0),
            "txindex": t.txindex.unwrap_or(0),
            "locktime": tx.lock_time.to_consensus_u32(),
            "version": tx.version.0 as u32,
            "inputs": inputs,
            "outputs": outputs,
        }));
    }
    Ok(json!({"transactions": out}))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "test inputs are fixed")]
    use super::*;
    use fulgur_types::Network;

    const ADDR: &str = "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080";
    const TXID: &str = "0101010101010101010101010101010101010101010101010101010101010101";

    #[test]
    fn txprepare_outputs_are_read_as_cln_does() {
        let ok =
            txprepare_outputs(&json!([{ADDR: 1000}, {ADDR: "all"}]), Network::Regtest).unwrap();
        assert_eq!(ok.len(), 2);
        assert_eq!(ok[1].amount, OutputAmount::All);
        let err = |v: Value| txprepare_outputs(&v, Network::Regtest).unwrap_err().message;
        assert_eq!(
            err(json!([{ADDR: "all"}, {ADDR: "all"}])),
            "Cannot use 'all' in two outputs"
        );
        assert_eq!(
            err(json!([5])),
            "The output format must be {destination: amount}"
        );
        assert_eq!(
            err(json!([{"nope": 5}])),
            "Could not parse destination address"
        );
        assert_eq!(
            err(json!([{"bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4": 5}])),
            "Destination address is not on network regtest"
        );
        assert_eq!(err(json!([{ADDR: "x"}])), "'x' is a invalid satoshi amount");
        assert!(err(json!("x")).starts_with("Expected an array of outputs"));
    }

    #[test]
    fn multiwithdraw_outputs_are_read_as_cln_does() {
        let err = |v: Value| {
            multiwithdraw_outputs(&v, Network::Regtest)
                .unwrap_err()
                .message
        };
        assert!(err(json!([])).starts_with("'outputs' should be a non-empty array"));
        assert_eq!(
            err(json!([{"nope": 5}])),
            "'outputs' address could not be parsed: \"nope\""
        );
        assert_eq!(
            err(json!([{ADDR: "all"}, {ADDR: "all"}])),
            "'outputs' cannot have more than one amount as \"all\""
        );
    }

    #[test]
    fn utxo_lists() {
        let op = format!("{TXID}:1");
        assert_eq!(outpoint_array("utxos", &json!([op])).unwrap()[0].vout, 1);
        assert_eq!(
            outpoint_array("utxos", &json!(["x"])).unwrap_err().message,
            "Could not decode outpoint \"\"x\"\", expected format: txid:output"
        );
        assert_eq!(
            outpoint_array("utxos", &json!([])).unwrap_err().message,
            "Please specify an array of 'txid:output_index', not \"[]\""
        );
        assert_eq!(
            txout_array(&json!(["abc"])).unwrap_err().message,
            "Could not decode the outpoint from \"abc\" The utxos should be specified as 'txid:output_index'."
        );
        assert_eq!(
            txout_array(&json!(["abc:1"])).unwrap_err().message,
            "Could not get a txid out of \"abc\""
        );
    }
}
