//! Channel commands: `fundchannel`, `fundchannel_start`, `fundchannel_complete`,
//! `fundchannel_cancel`, `close`, `setchannel`, `listpeerchannels`, `listhtlcs` and
//! `listclosedchannels` (and
//! `multifundchannel`, in `multifund.rs`), with Core Lightning v26.06's
//! parameters, results and error codes. The work is the channel manager's.

use super::command;
use crate::channels::{channel_type_json, CloseRequest, FundStart, ListHtlcs, SetChannel};
use crate::context::NodeContext;
use crate::funding::{self, tx_hex, Flavor, OnRefusal};
use bitcoin::{OutPoint, Transaction};
use fulgur_channel::{ChannelType, FeeStep};
use fulgur_rpc::{Call, CommandDef};
use fulgur_rpc_types::{ParamKind, ParamSpec, ParamValue, RpcError};
use fulgur_types::FeerateSpec;
use fulgur_wallet::{OutputAmount, OutputRequest};
use serde_json::{json, Value};

const INVALID: i64 = -32602;

const FUNDCHANNEL: &[ParamSpec] = &[
    ParamSpec::req("id", ParamKind::Pubkey),
    ParamSpec::req("amount", ParamKind::SatOrAll),
    ParamSpec::opt("feerate", ParamKind::Feerate),
    ParamSpec::opt("announce", ParamKind::Bool),
    ParamSpec::opt("minconf", ParamKind::U32),
    ParamSpec::opt("push_msat", ParamKind::Msat),
    ParamSpec::opt("close_to", ParamKind::String),
    ParamSpec::opt("request_amt", ParamKind::Sat),
    ParamSpec::opt("compact_lease", ParamKind::String),
    ParamSpec::opt("utxos", ParamKind::Any),
    ParamSpec::opt("mindepth", ParamKind::U32),
    ParamSpec::opt("reserve", ParamKind::Sat),
    ParamSpec::opt("channel_type", ParamKind::Any),
];
const FUNDCHANNEL_START: &[ParamSpec] = &[
    ParamSpec::req("id", ParamKind::Pubkey),
    ParamSpec::req("amount", ParamKind::Sat),
    ParamSpec::opt("feerate", ParamKind::Feerate),
    ParamSpec::opt("announce", ParamKind::Bool),
    ParamSpec::opt("close_to", ParamKind::String),
    ParamSpec::opt("push_msat", ParamKind::Msat),
    ParamSpec::opt("mindepth", ParamKind::U32),
    ParamSpec::opt("reserve", ParamKind::Sat),
    ParamSpec::opt("channel_type", ParamKind::Any),
];
const FUNDCHANNEL_COMPLETE: &[ParamSpec] = &[
    ParamSpec::req("id", ParamKind::Pubkey),
    ParamSpec::req("psbt", ParamKind::String),
    ParamSpec::opt("withhold", ParamKind::Bool),
];
const FUNDCHANNEL_CANCEL: &[ParamSpec] = &[ParamSpec::req("id", ParamKind::Pubkey)];
const CLOSE: &[ParamSpec] = &[
    ParamSpec::req("id", ParamKind::String),
    ParamSpec::opt("unilateraltimeout", ParamKind::U32),
    ParamSpec::opt("destination", ParamKind::String),
    ParamSpec::opt("fee_negotiation_step", ParamKind::String),
    ParamSpec::opt("wrong_funding", ParamKind::String),
    ParamSpec::opt("force_lease_closed", ParamKind::Bool),
    ParamSpec::opt("feerange", ParamKind::Array),
];
const SETCHANNEL: &[ParamSpec] = &[
    ParamSpec::req("id", ParamKind::String),
    ParamSpec::opt("feebase", ParamKind::Msat),
    ParamSpec::opt("feeppm", ParamKind::U32),
    ParamSpec::opt("htlcmin", ParamKind::Msat),
    ParamSpec::opt("htlcmax", ParamKind::Msat),
    ParamSpec::opt("enforcedelay", ParamKind::U32),
    ParamSpec::opt("ignorefeelimits", ParamKind::Bool),
];
const LISTHTLCS: &[ParamSpec] = &[
    ParamSpec::opt("id", ParamKind::String),
    ParamSpec::opt("index", ParamKind::String),
    ParamSpec::opt("start", ParamKind::U64),
    ParamSpec::opt("limit", ParamKind::U32),
];
const LISTCLOSEDCHANNELS: &[ParamSpec] = &[ParamSpec::opt("id", ParamKind::Pubkey)];
const LISTPEERCHANNELS: &[ParamSpec] = &[
    ParamSpec::opt("id", ParamKind::Pubkey),
    ParamSpec::opt("short_channel_id", ParamKind::String),
    ParamSpec::opt("channel_id", ParamKind::String),
];

pub(super) fn defs() -> Vec<CommandDef<NodeContext>> {
    vec![
        command(
            "fundchannel",
            FUNDCHANNEL,
            include_str!("../../../../doc/rpc/fundchannel.md"),
            fundchannel,
        ),
        command(
            "fundchannel_start",
            FUNDCHANNEL_START,
            include_str!("../../../../doc/rpc/fundchannel_start.md"),
            fundchannel_start,
        ),
        command(
            "fundchannel_complete",
            FUNDCHANNEL_COMPLETE,
            include_str!("../../../../doc/rpc/fundchannel_complete.md"),
            fundchannel_complete,
        ),
        command(
            "fundchannel_cancel",
            FUNDCHANNEL_CANCEL,
            include_str!("../../../../doc/rpc/fundchannel_cancel.md"),
            fundchannel_cancel,
        ),
        command(
            "close",
            CLOSE,
            include_str!("../../../../doc/rpc/close.md"),
            close,
        ),
        command(
            "listpeerchannels",
            LISTPEERCHANNELS,
            include_str!("../../../../doc/rpc/listpeerchannels.md"),
            listpeerchannels,
        ),
        command(
            "setchannel",
            SETCHANNEL,
            include_str!("../../../../doc/rpc/setchannel.md"),
            setchannel,
        ),
        command(
            "listhtlcs",
            LISTHTLCS,
            include_str!("../../../../doc/rpc/listhtlcs.md"),
            listhtlcs,
        ),
        command(
            "listclosedchannels",
            LISTCLOSEDCHANNELS,
            include_str!("../../../../doc/rpc/listclosedchannels.md"),
            listclosedchannels,
        ),
        command(
            "multifundchannel",
            super::multifund::MULTIFUNDCHANNEL,
            include_str!("../../../../doc/rpc/multifundchannel.md"),
            super::multifund::multifundchannel,
        ),
    ]
}

fn peer(call: &Call<NodeContext>) -> Result<secp256k1::PublicKey, RpcError> {
    call.params
        .str("id")
        .and_then(|t| hex::decode(t).ok())
        .and_then(|b| secp256k1::PublicKey::from_slice(&b).ok())
        .ok_or_else(|| RpcError::new(INVALID, "id: should be a node id"))
}

fn channel_type_param(call: &Call<NodeContext>) -> Result<Option<ChannelType>, RpcError> {
    let Some(v) = call.params.json("channel_type") else {
        return Ok(None);
    };
    let bits: Option<Vec<u64>> = v
        .as_array()
        .and_then(|a| a.iter().map(Value::as_u64).collect());
    match bits.as_deref() {
        Some([12]) => Ok(Some(ChannelType::StaticRemoteKey)),
        Some([12, 22]) | Some([22, 12]) => Ok(Some(ChannelType::AnchorsZeroFeeHtlcTx)),
        _ => Err(RpcError::new(
            INVALID,
            format!("channel_type: unsupported channel type {v}"),
        )),
    }
}

fn close_to_param(call: &Call<NodeContext>) -> Result<Option<Vec<u8>>, RpcError> {
    match call.params.str("close_to") {
        Some(text) => close_to_script(&call.ctx, text).map(Some),
        None => Ok(None),
    }
}

/// A `close_to` address's script, or CLN's error.
pub(super) fn close_to_script(ctx: &NodeContext, text: &str) -> Result<Vec<u8>, RpcError> {
    funding::address_script(text, ctx.config.network)
        .map(|s| s.to_bytes())
        .map_err(|_| {
            RpcError::new(
                INVALID,
                format!("close_to: Could not parse destination address {text}"),
            )
        })
}

fn feerate_param(call: &Call<NodeContext>) -> Option<FeerateSpec> {
    match call.params.get("feerate") {
        Some(ParamValue::Feerate(spec)) => Some(*spec),
        _ => None,
    }
}

/// The commitment fee rate for a new channel of `channel_type`.
pub(super) fn commitment_feerate(ctx: &NodeContext, channel_type: Option<ChannelType>) -> u32 {
    let fees = ctx.fees.read().unwrap_or_else(|e| e.into_inner());
    let anchors = channel_type != Some(ChannelType::StaticRemoteKey);
    fees.unilateral_close(anchors)
        .map(|r| r.perkw())
        .unwrap_or(if anchors { 3750 } else { 7500 })
}

fn start_request(call: &Call<NodeContext>, amount_sat: u64) -> Result<FundStart, RpcError> {
    let ctx = &call.ctx;
    let channel_type = channel_type_param(call)?;
    for lease in ["request_amt", "compact_lease"] {
        if call.params.get(lease).is_some() {
            return Err(RpcError::new(
                INVALID,
                format!("{lease}: liquidity ads are not supported"),
            ));
        }
    }
    Ok(FundStart {
        peer: peer(call)?,
        amount_sat,
        push_msat: call.params.msat("push_msat").map_or(0, |a| a.msat()),
        announce: call.params.bool("announce").unwrap_or(true),
        close_to: close_to_param(call)?,
        feerate_per_kw: commitment_feerate(ctx, channel_type),
        channel_type,
        reserve_sat: match call.params.get("reserve") {
            Some(ParamValue::Sat(a)) => Some(a.sat()),
            _ => None,
        },
        mindepth: call
            .params
            .u64("mindepth")
            .map(|v| u32::try_from(v).unwrap_or(u32::MAX)),
    })
}

/// A stand-in for a funding output's script while the real one is not known yet: a P2WSH
/// script (the form every funding script has, so the same size and fee), told apart by `tag`.
pub(super) fn funding_stand_in(tag: u8) -> bitcoin::ScriptBuf {
    let mut script = vec![0x00, 0x20];
    script.extend([tag; 32]);
    bitcoin::ScriptBuf::from_bytes(script)
}

/// What an `all` channel to `peer` can hold next to `fixed` outputs: the wallet's (or
/// `utxos`') coins less the fee and the other outputs, capped below 2^24 sat unless the peer
/// supports large channels. Found by building the transaction with a stand-in for the
/// funding output (a funding output is always a 34-byte P2WSH, so the fee is the same), then
/// releasing its coins.
pub(super) async fn amount_all(
    ctx: &NodeContext,
    fixed: Vec<OutputRequest>,
    feerate: fulgur_types::FeeratePerKw,
    minconf: u32,
    utxos: Option<Vec<OutPoint>>,
    peer: secp256k1::PublicKey,
) -> Result<u64, RpcError> {
    let stand_in = funding_stand_in(0);
    let mut outputs = fixed;
    outputs.push(OutputRequest {
        script_pubkey: stand_in.clone(),
        amount: OutputAmount::All,
    });
    let prepared =
        funding::prepare_spend(ctx, outputs, feerate, minconf, utxos, Flavor::TxPrepare).await?;
    funding::release(ctx, prepared.inputs.clone(), u32::MAX).await;
    let all = prepared
        .psbt
        .unsigned_tx
        .output
        .iter()
        .find(|o| o.script_pubkey == stand_in)
        .map(|o| o.value.to_sat())
        .ok_or_else(|| RpcError::new(-1, "internal error: no 'all' output"))?;
    let large = ctx.peers.list().await.into_iter().any(|p| {
        p.node_id == peer
            && p.features
                .as_ref()
                .is_some_and(|f| f.supports(fulgur_types::features::OPTION_SUPPORT_LARGE_CHANNEL))
    });
    Ok(if large {
        all
    } else {
        all.min(fulgur_channel::LARGE_CHANNEL_SAT - 1)
    })
}

fn amount_sat(call: &Call<NodeContext>) -> Option<u64> {
    match call.params.get("amount") {
        Some(ParamValue::Sat(a)) => Some(a.sat()),
        _ => None,
    }
}

/// CLN's check of `push_msat` against `amount`, before anything is done.
fn check_push(call: &Call<NodeContext>, amount: u64) -> Result<(), RpcError> {
    if call.params.msat("push_msat").map_or(0, |a| a.msat()) > amount.saturating_mul(1000) {
        return Err(RpcError::new(
            301,
            "Requested to push_msat more than amount",
        ));
    }
    Ok(())
}

async fn fundchannel_start(call: Call<NodeContext>) -> Result<Value, RpcError> {
    let amount = amount_sat(&call).unwrap_or(0);
    check_push(&call, amount)?;
    let req = start_request(&call, amount)?;
    let close_to = req.close_to.clone();
    let started = call.ctx.channels.start(req).await?;
    let address =
        bitcoin::Address::from_script(&started.script_pubkey, call.ctx.config.network.to_bitcoin())
            .map(|a| a.to_string())
            .unwrap_or_default();
    let mut out = json!({
        "funding_address": address,
        "scriptpubkey": hex::encode(started.script_pubkey.as_bytes()),
        "channel_type": channel_type_json(started.channel_type),
        "warning_usage": "The funding transaction MUST NOT be broadcast until after channel establishment has been successfully completed by running `fundchannel_complete`",
        "mindepth": started.mindepth,
    });
    if let Some(c) = close_to {
        out["close_to"] = json!(hex::encode(c));
    }
    Ok(out)
}

async fn fundchannel_complete(call: Call<NodeContext>) -> Result<Value, RpcError> {
    let text = call.params.str("psbt").unwrap_or_default();
    let received = funding::parse_psbt(text).ok_or_else(|| {
        call.registry
            .param_error("psbt", "Expected a PSBT", &Value::String(text.into()))
    })?;
    let (id, _) = call
        .ctx
        .channels
        .complete(peer(&call)?, received.psbt.unsigned_tx)
        .await?;
    Ok(json!({"channel_id": hex::encode(id.0), "commitments_secured": true}))
}

async fn fundchannel_cancel(call: Call<NodeContext>) -> Result<Value, RpcError> {
    call.ctx.channels.cancel(peer(&call)?).await?;
    Ok(json!({"cancelled": "Channel open canceled by RPC"}))
}

async fn fundchannel(call: Call<NodeContext>) -> Result<Value, RpcError> {
    let ctx = &call.ctx;
    let feerate = funding::resolve_feerate(ctx, feerate_param(&call))?;
    let minconf = call
        .params
        .u64("minconf")
        .and_then(|v| u32::try_from(v).ok())
        .unwrap_or(1);
    let utxos = utxos_param(call.params.json("utxos"))?;
    let amount = match amount_sat(&call) {
        Some(a) => a,
        None => {
            amount_all(
                ctx,
                Vec::new(),
                feerate,
                minconf,
                utxos.clone(),
                peer(&call)?,
            )
            .await?
        }
    };
    check_push(&call, amount)?;
    let req = start_request(&call, amount)?;
    let peer = req.peer;
    let close_to = req.close_to.clone();
    let started = ctx.channels.start(req).await?;
    let outputs = vec![OutputRequest {
        script_pubkey: started.script_pubkey.clone(),
        amount: OutputAmount::Sat(fulgur_types::AmountSat::from_sat(amount)),
    }];
    let prepared =
        match funding::prepare_spend(ctx, outputs, feerate, minconf, utxos, Flavor::MultiWithdraw)
            .await
        {
            Ok(p) => p,
            Err(e) => {
                let _ = ctx.channels.cancel(peer).await;
                return Err(e);
            }
        };
    let inputs = prepared.inputs.clone();
    let signed = funding::sign_and_finalize(ctx, prepared.psbt).await;
    let tx = match signed {
        Ok((_, tx)) => tx,
        Err(e) => {
            funding::release(ctx, inputs, u32::MAX).await;
            let _ = ctx.channels.cancel(peer).await;
            return Err(e);
        }
    };
    let (id, outnum) = match ctx.channels.complete(peer, tx.clone()).await {
        Ok(done) => done,
        Err(e) => {
            funding::release(ctx, inputs, u32::MAX).await;
            let _ = ctx.channels.cancel(peer).await;
            return Err(e);
        }
    };
    // The channel is stored: now the funding goes out, recorded as the wallet's own spend
    // (its change is ours at once). If bitcoind refuses it, the channel is abandoned.
    if let Err(e) = funding::broadcast_outcome(ctx, &tx, None, OnRefusal::Release).await {
        return Err(refused_funding(ctx, &tx, e).await);
    }
    let txid = tx.compute_txid();
    let mut out = json!({
        "tx": tx_hex(&tx),
        "txid": txid.to_string(),
        "outnum": outnum,
        "channel_type": channel_type_json(started.channel_type),
        "channel_id": hex::encode(id.0),
        "mindepth": started.mindepth,
    });
    if let Some(c) = close_to {
        out["close_to"] = json!(hex::encode(c));
    }
    Ok(out)
}

/// After bitcoind did not take a funding transaction: if it surely does not have it, the
/// coins were released and its channels are abandoned; otherwise (it may have it) the coins
/// stay reserved and the channels are kept awaiting lock-in, since a forgotten channel whose
/// funding confirms leaves the funds with a peer that forgot it. Returns CLN's error (303),
/// without the signed transaction: it must not be broadcast once its channels are gone.
pub(super) async fn refused_funding(
    ctx: &NodeContext,
    tx: &Transaction,
    failure: funding::BroadcastFailure,
) -> RpcError {
    let txid = tx.compute_txid();
    if failure.maybe_sent {
        tracing::warn!(target: "lightningd", "funding {txid} may have gone out: its channels are kept");
        return RpcError::new(303, failure.error.message);
    }
    let _ = ctx
        .channels
        .abandon_funding(txid, "funding transaction was refused")
        .await;
    RpcError::new(
        303,
        format!(
            "Error broadcasting funding transaction {txid}: {}. The channels were abandoned and the coins released",
            failure.why
        ),
    )
}

/// The `utxos` parameter: `txid:vout` strings.
pub(super) fn utxos_param(v: Option<&Value>) -> Result<Option<Vec<OutPoint>>, RpcError> {
    let Some(v) = v else { return Ok(None) };
    v.as_array()
        .and_then(|a| {
            a.iter()
                .map(|x| x.as_str().and_then(parse_outpoint))
                .collect::<Option<Vec<_>>>()
        })
        .map(Some)
        .ok_or_else(|| RpcError::new(INVALID, "utxos: should be an array of txid:vout"))
}

fn parse_outpoint(text: &str) -> Option<OutPoint> {
    let (txid, vout) = text.split_once(':')?;
    Some(OutPoint {
        txid: txid.parse().ok()?,
        vout: vout.parse().ok()?,
    })
}

async fn close(call: Call<NodeContext>) -> Result<Value, RpcError> {
    let ctx = &call.ctx;
    let destination = match call.params.str("destination") {
        Some(text) => Some(
            funding::address_script(text, ctx.config.network)
                .map_err(|_| {
                    RpcError::new(INVALID, format!("destination: Invalid address '{text}'"))
                })?
                .to_bytes(),
        ),
        None => None,
    };
    let step = match call.params.str("fee_negotiation_step") {
        None => FeeStep::default(),
        Some(t) => parse_step(t).ok_or_else(|| {
            RpcError::new(INVALID, format!("fee_negotiation_step: should be a percentage (1-100%) or a number of satoshis: '{t}'"))
        })?,
    };
    let feerange = match call.params.json("feerange") {
        None => None,
        Some(v) => {
            let parse = |x: &Value| -> Option<u32> {
                let spec: FeerateSpec = match x {
                    Value::String(s) => s.parse().ok()?,
                    Value::Number(n) => format!("{n}").parse().ok()?,
                    _ => return None,
                };
                let fees = ctx.fees.read().unwrap_or_else(|e| e.into_inner());
                fees.resolve(&spec).ok().map(|r| r.perkw())
            };
            match v.as_array().map(|a| a.as_slice()) {
                Some([a, b]) => Some((
                    parse(a).ok_or_else(|| RpcError::new(INVALID, "feerange: bad feerate"))?,
                    parse(b).ok_or_else(|| RpcError::new(INVALID, "feerange: bad feerate"))?,
                )),
                _ => {
                    return Err(RpcError::new(
                        INVALID,
                        "feerange: should be an array of two feerates",
                    ))
                }
            }
        }
    };
    if call.params.str("wrong_funding").is_some() {
        return Err(RpcError::new(-1, "wrong_funding is not supported"));
    }
    let unilateral_timeout = call.params.u64("unilateraltimeout").unwrap_or(172_800);
    ctx.channels
        .close(CloseRequest {
            id: call.params.str("id").unwrap_or_default().to_string(),
            destination,
            step,
            unilateral_timeout,
            feerange,
        })
        .await
}

fn parse_step(t: &str) -> Option<FeeStep> {
    if let Some(p) = t.strip_suffix('%') {
        let p: u8 = p.parse().ok()?;
        return (1..=100).contains(&p).then_some(FeeStep::Percent(p));
    }
    let s: u64 = t.parse().ok()?;
    (s > 0).then_some(FeeStep::Sat(s))
}

async fn listpeerchannels(call: Call<NodeContext>) -> Result<Value, RpcError> {
    let peer = match call.params.str("id") {
        Some(_) => Some(peer(&call)?),
        None => None,
    };
    let scid = call.params.str("short_channel_id");
    let cid = call.params.str("channel_id");
    if scid.is_some() && cid.is_some() {
        return Err(RpcError::new(
            INVALID,
            "Cannot specify both short_channel_id and channel_id",
        ));
    }
    let mut channels = call.ctx.channels.list(peer).await;
    if let Some(s) = scid {
        channels.retain(|c| {
            c["short_channel_id"] == s || c["alias"]["local"] == s || c["alias"]["remote"] == s
        });
    }
    if let Some(c) = cid {
        channels.retain(|x| x["channel_id"] == c);
    }
    Ok(json!({"channels": channels}))
}

async fn listclosedchannels(call: Call<NodeContext>) -> Result<Value, RpcError> {
    let peer = match call.params.str("id") {
        Some(_) => Some(peer(&call)?),
        None => None,
    };
    let closed = call.ctx.channels.list_closed(peer).await;
    Ok(json!({"closedchannels": closed}))
}

async fn setchannel(call: Call<NodeContext>) -> Result<Value, RpcError> {
    let p = &call.params;
    let feebase = p.msat("feebase").map(|a| a.msat());
    if feebase.is_some_and(|f| f > u64::from(u32::MAX)) {
        return Err(RpcError::new(
            INVALID,
            "feebase: should be a millisatoshi amount that fits in 32 bits",
        ));
    }
    let req = SetChannel {
        id: p.str("id").unwrap_or_default().to_string(),
        feebase,
        feeppm: p.u64("feeppm").and_then(|v| u32::try_from(v).ok()),
        htlcmin: p.msat("htlcmin").map(|a| a.msat()),
        htlcmax: p.msat("htlcmax").map(|a| a.msat()),
        ignorefeelimits: p.bool("ignorefeelimits"),
    };
    let channels = call.ctx.channels.setchannel(req).await?;
    Ok(json!({ "channels": channels }))
}

async fn listhtlcs(call: Call<NodeContext>) -> Result<Value, RpcError> {
    let p = &call.params;
    let by_updated = match p.str("index") {
        None | Some("created") => false,
        Some("updated") => true,
        Some(other) => {
            return Err(call.registry.param_error(
                "index",
                "should be 'created' or 'updated'",
                &json!(other),
            ))
        }
    };
    if p.str("index").is_none() {
        if p.u64("start").is_some_and(|v| v != 0) {
            return Err(RpcError::new(
                INVALID,
                "Can only specify {start} with {index}",
            ));
        }
        if p.get("limit").is_some() {
            return Err(RpcError::new(
                INVALID,
                "Can only specify {limit} with {index}",
            ));
        }
    }
    let htlcs = call
        .ctx
        .channels
        .list_htlcs(
            &call.ctx.onchain,
            ListHtlcs {
                id: p.str("id").map(str::to_string),
                by_updated,
                start: p.u64("start"),
                limit: p.u64("limit").and_then(|v| u32::try_from(v).ok()),
            },
        )
        .await?;
    Ok(json!({ "htlcs": htlcs }))
}
