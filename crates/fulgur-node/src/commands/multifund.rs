//! `multifundchannel`: opens channels to several peers funded by one transaction, with Core
//! Lightning v26.06's parameters, result and `failed` reporting, but in parallel: every peer
//! is connected, every `open_channel` negotiated and every `funding_created` exchanged at
//! once, so the command takes as long as the slowest peer rather than the sum of them.
//!
//! As in CLN, when a peer fails a stage and at least `minchannels` peers remain, the whole
//! flow starts again without it (nothing was broadcast yet); the funding transaction goes
//! out only after every channel it funds is stored (BOLT 2 "Channel Establishment v1").

use std::sync::Arc;
use std::time::Duration;

use bitcoin::{OutPoint, Transaction};
use fulgur_rpc::Call;
use fulgur_rpc_types::{ParamKind, ParamSpec, ParamValue, RpcError};
use fulgur_types::AmountSat;
use fulgur_wallet::{OutputAmount, OutputRequest};
use fulgur_wire::ChannelId;
use secp256k1::PublicKey;
use serde_json::{json, Value};
use tokio::task::JoinSet;

use super::channels::{
    amount_all, close_to_script, commitment_feerate, funding_stand_in, refused_funding, utxos_param,
};
use super::peers::{connect_to, ConnectError};
use crate::channels::{channel_type_json, FundStart, StartedOpen};
use crate::context::NodeContext;
use crate::funding::{self, tx_hex, Flavor, OnRefusal};

const INVALID: i64 = -32602;

/// How long one peer may take over one stage before it is counted as failed.
const STAGE_TIMEOUT: Duration = Duration::from_secs(60);

/// How one destination's stage ended: its value, or an error and whether the peer was
/// silent (timed out) rather than refusing.
type Outcome<T> = Result<T, (RpcError, bool)>;

pub(super) const MULTIFUNDCHANNEL: &[ParamSpec] = &[
    ParamSpec::req("destinations", ParamKind::Array),
    ParamSpec::opt("feerate", ParamKind::Feerate),
    ParamSpec::opt("minconf", ParamKind::U32),
    ParamSpec::opt("utxos", ParamKind::Array),
    ParamSpec::opt("minchannels", ParamKind::U32),
    ParamSpec::opt("commitment_feerate", ParamKind::Feerate),
];

/// One entry of `destinations`, checked.
#[derive(Debug, Clone)]
struct Destination {
    /// `id` as given (with its `@host:port`, if any).
    id_text: String,
    peer: PublicKey,
    /// `None` for `all`; filled in for each round.
    amount_sat: Option<u64>,
    announce: bool,
    push_msat: u64,
    close_to: Option<Vec<u8>>,
    reserve_sat: Option<u64>,
    mindepth: Option<u32>,
}

/// A destination that failed, reported in `failed`.
#[derive(Debug)]
struct Failure {
    peer: PublicKey,
    method: &'static str,
    error: RpcError,
    /// The peer was silent for the whole stage (rather than refusing).
    timed_out: bool,
}

impl Failure {
    fn json(&self) -> Value {
        json!({
            "id": hex::encode(self.peer.serialize()),
            "method": self.method,
            "error": self.error.to_json(),
        })
    }
}

fn bad(index: usize, field: &str, why: &str) -> RpcError {
    RpcError::new(INVALID, format!("destinations[{index}].{field}: {why}"))
}

fn parse_destination(ctx: &NodeContext, index: usize, v: &Value) -> Result<Destination, RpcError> {
    let o = v.as_object().ok_or_else(|| {
        RpcError::new(
            INVALID,
            format!("destinations[{index}]: should be an object"),
        )
    })?;
    for k in o.keys() {
        if ![
            "id",
            "amount",
            "announce",
            "push_msat",
            "close_to",
            "request_amt",
            "compact_lease",
            "mindepth",
            "reserve",
        ]
        .contains(&k.as_str())
        {
            return Err(bad(index, k, "unknown parameter"));
        }
    }
    let id_text = o.get("id").and_then(Value::as_str).ok_or_else(|| {
        bad(
            index,
            "id",
            "should be a node id, with an optional @host:port",
        )
    })?;
    let peer = id_text
        .split('@')
        .next()
        .and_then(|h| hex::decode(h).ok())
        .and_then(|b| PublicKey::from_slice(&b).ok())
        .ok_or_else(|| {
            bad(
                index,
                "id",
                &format!("should be a node id: invalid token '{id_text}'"),
            )
        })?;
    let amount_sat = match o.get("amount").and_then(|a| ParamKind::SatOrAll.convert(a)) {
        Some(ParamValue::Sat(a)) => Some(a.sat()),
        Some(ParamValue::All) => None,
        _ => return Err(bad(index, "amount", "should be a satoshi amount or 'all'")),
    };
    let announce = match o.get("announce") {
        None => true,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err(bad(index, "announce", "should be a boolean")),
    };
    let push_msat = match o.get("push_msat").map(|p| ParamKind::Msat.convert(p)) {
        None => 0,
        Some(Some(ParamValue::Msat(m))) => m.msat(),
        Some(_) => return Err(bad(index, "push_msat", "should be a millisatoshi amount")),
    };
    if amount_sat.is_some_and(|a| push_msat > a.saturating_mul(1000)) {
        return Err(RpcError::new(
            301,
            "Requested to push_msat more than amount",
        ));
    }
    let close_to = match o.get("close_to") {
        None => None,
        Some(Value::String(text)) => Some(close_to_script(ctx, text)?),
        Some(_) => return Err(bad(index, "close_to", "should be an address")),
    };
    let reserve_sat = match o.get("reserve").map(|r| ParamKind::Sat.convert(r)) {
        None => None,
        Some(Some(ParamValue::Sat(a))) => Some(a.sat()),
        Some(_) => return Err(bad(index, "reserve", "should be a satoshi amount")),
    };
    let mindepth = match o.get("mindepth") {
        None => None,
        Some(v) => Some(
            v.as_u64()
                .and_then(|d| u32::try_from(d).ok())
                .ok_or_else(|| bad(index, "mindepth", "should be a 32-bit number"))?,
        ),
    };
    for unsupported in ["request_amt", "compact_lease"] {
        if o.contains_key(unsupported) {
            return Err(bad(index, unsupported, "liquidity ads are not supported"));
        }
    }
    Ok(Destination {
        id_text: id_text.to_string(),
        peer,
        amount_sat,
        announce,
        push_msat,
        close_to,
        reserve_sat,
        mindepth,
    })
}

/// Runs `f` for every destination at once; the results come back in the destinations' order.
async fn each<T, F, Fut>(dests: &[Destination], f: F) -> Vec<Outcome<T>>
where
    T: Send + 'static,
    F: Fn(Destination) -> Fut,
    Fut: std::future::Future<Output = Result<T, RpcError>> + Send + 'static,
{
    let mut set = JoinSet::new();
    for (i, d) in dests.iter().enumerate() {
        let fut = f(d.clone());
        set.spawn(async move {
            let r = match tokio::time::timeout(STAGE_TIMEOUT, fut).await {
                Ok(r) => r.map_err(|e| (e, false)),
                Err(_) => Err((
                    RpcError::new(
                        -1,
                        format!("Peer did not answer within {}s", STAGE_TIMEOUT.as_secs()),
                    ),
                    true,
                )),
            };
            (i, r)
        });
    }
    let mut out: Vec<Option<Outcome<T>>> = (0..dests.len()).map(|_| None).collect();
    while let Some(joined) = set.join_next().await {
        if let Ok((i, r)) = joined {
            if let Some(slot) = out.get_mut(i) {
                *slot = Some(r);
            }
        }
    }
    out.into_iter()
        .map(|r| {
            r.unwrap_or_else(|| Err((RpcError::new(-1, "internal error: task failed"), false)))
        })
        .collect()
}

/// Splits `dests` by `results`: the failures go to `failed` under `method`.
fn keep_ok<T>(
    dests: Vec<Destination>,
    results: Vec<Outcome<T>>,
    method: &'static str,
    failed: &mut Vec<Failure>,
) -> Vec<(Destination, T)> {
    let mut kept = Vec::new();
    for (d, r) in dests.into_iter().zip(results) {
        match r {
            Ok(v) => kept.push((d, v)),
            Err((error, timed_out)) => {
                tracing::info!(target: "plugin-spenderp", "multifundchannel: {} failed at {method}: {}", hex::encode(d.peer.serialize()), error.message);
                failed.push(Failure {
                    peer: d.peer,
                    method,
                    error,
                    timed_out,
                })
            }
        }
    }
    kept
}

/// The command's error once fewer than `minchannels` destinations are left: the latest
/// failure's, as CLN reports it.
fn too_few(failed: &[Failure]) -> RpcError {
    failed
        .last()
        .map(|f| f.error.clone())
        .unwrap_or_else(|| RpcError::new(-1, "Too few destinations left"))
}

/// Options shared by every destination.
struct Common {
    feerate: fulgur_types::FeeratePerKw,
    commitment_feerate: u32,
    minconf: u32,
    utxos: Option<Vec<OutPoint>>,
    minchannels: usize,
}

pub(super) async fn multifundchannel(call: Call<NodeContext>) -> Result<Value, RpcError> {
    let ctx = call.ctx.clone();
    let list = call
        .params
        .json("destinations")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if list.is_empty() {
        return Err(RpcError::new(
            INVALID,
            "destinations: must have at least one entry",
        ));
    }
    let mut dests = Vec::with_capacity(list.len());
    for (i, v) in list.iter().enumerate() {
        let d = parse_destination(&ctx, i, v)?;
        if dests.iter().any(|x: &Destination| x.peer == d.peer) {
            return Err(RpcError::new(
                INVALID,
                format!("Duplicate destination: {}", hex::encode(d.peer.serialize())),
            ));
        }
        if d.amount_sat.is_none() && dests.iter().any(|x: &Destination| x.amount_sat.is_none()) {
            return Err(RpcError::new(
                INVALID,
                "Only one destination can indicate \"all\" for amount",
            ));
        }
        dests.push(d);
    }
    let minchannels = match call.params.u64("minchannels") {
        None => dests.len(),
        Some(0) => return Err(RpcError::new(INVALID, "minchannels: Must be non-zero")),
        Some(n) => usize::try_from(n).unwrap_or(usize::MAX),
    };
    if minchannels > dests.len() {
        return Err(RpcError::new(
            INVALID,
            "minchannels: Must not exceed number of destinations",
        ));
    }
    let feerate_spec = match call.params.get("feerate") {
        Some(ParamValue::Feerate(s)) => Some(*s),
        _ => None,
    };
    let commitment_feerate = match call.params.get("commitment_feerate") {
        Some(ParamValue::Feerate(s)) => funding::resolve_feerate(&ctx, Some(*s))?.perkw(),
        _ => commitment_feerate(&ctx, None),
    };
    let utxos = utxos_param(call.params.json("utxos"))?;
    let common = Common {
        feerate: funding::resolve_feerate(&ctx, feerate_spec)?,
        commitment_feerate,
        minconf: call
            .params
            .u64("minconf")
            .and_then(|v| u32::try_from(v).ok())
            .unwrap_or(1),
        utxos,
        minchannels,
    };
    run(ctx, dests, common).await
}

/// Connects, then negotiates and funds until it succeeds or too few destinations are left.
async fn run(
    ctx: Arc<NodeContext>,
    dests: Vec<Destination>,
    common: Common,
) -> Result<Value, RpcError> {
    let mut failed: Vec<Failure> = Vec::new();
    let connected = each(&dests, |d| {
        let ctx = ctx.clone();
        async move {
            connect_to(&ctx, &d.id_text, None, None)
                .await
                .map(|_| ())
                .map_err(|e| match e {
                    ConnectError::BadId => RpcError::new(INVALID, "id: should be a node id"),
                    ConnectError::Rpc(e) => e,
                })
        }
    })
    .await;
    let mut live: Vec<Destination> = keep_ok(dests, connected, "connect", &mut failed)
        .into_iter()
        .map(|(d, ())| d)
        .collect();
    loop {
        if live.len() < common.minchannels {
            return Err(too_few(&failed));
        }
        match attempt(&ctx, &live, &common, &mut failed).await? {
            Attempt::Done(v) => {
                let mut v = v;
                if !failed.is_empty() {
                    v["failed"] = Value::Array(failed.iter().map(Failure::json).collect());
                }
                return Ok(v);
            }
            Attempt::Redo => {
                live.retain(|d| !failed.iter().any(|f| f.peer == d.peer));
            }
        }
    }
}

enum Attempt {
    Done(Value),
    /// Some destinations failed (now in `failed`); nothing was broadcast.
    Redo,
}

/// One round: start every open, build and sign the one funding transaction, exchange every
/// `funding_created`, then broadcast. Any failure undoes the round before returning.
async fn attempt(
    ctx: &Arc<NodeContext>,
    live: &[Destination],
    common: &Common,
    failed: &mut Vec<Failure>,
) -> Result<Attempt, RpcError> {
    let feerate_per_kw = common.commitment_feerate;
    let live = &resolve_all(ctx, live, common).await?;
    let started = each(live, |d| {
        let ctx = ctx.clone();
        async move {
            let req = FundStart {
                peer: d.peer,
                amount_sat: d.amount_sat.unwrap_or(0),
                push_msat: d.push_msat,
                announce: d.announce,
                close_to: d.close_to.clone(),
                feerate_per_kw,
                channel_type: None,
                reserve_sat: d.reserve_sat,
                mindepth: d.mindepth,
            };
            ctx.channels.start(req).await
        }
    })
    .await;
    let before = failed.len();
    let started: Vec<(Destination, StartedOpen)> =
        keep_ok(live.to_vec(), started, "fundchannel_start", failed);
    if failed.len() > before {
        // Out here, not in the stage's future, which a timeout drops: a silent peer's open
        // is forgotten in the manager. (Other failures left nothing of ours behind; an open
        // refused as "Already funding channel" is someone else's and stays.)
        let silent: Vec<&Failure> = failed[before..].iter().filter(|f| f.timed_out).collect();
        for f in silent {
            let _ = ctx.channels.cancel(f.peer).await;
        }
        cancel_all(ctx, &started).await;
        return Ok(Attempt::Redo);
    }

    let outputs: Vec<OutputRequest> = started
        .iter()
        .map(|(d, s)| OutputRequest {
            script_pubkey: s.script_pubkey.clone(),
            amount: OutputAmount::Sat(AmountSat::from_sat(d.amount_sat.unwrap_or(0))),
        })
        .collect();
    let prepared = match funding::prepare_spend(
        ctx,
        outputs,
        common.feerate,
        common.minconf,
        common.utxos.clone(),
        Flavor::MultiWithdraw,
    )
    .await
    {
        Ok(p) => p,
        Err(e) => {
            cancel_all(ctx, &started).await;
            return Err(e);
        }
    };
    let inputs = prepared.inputs.clone();
    let tx = match funding::sign_and_finalize(ctx, prepared.psbt).await {
        Ok((_, tx)) => tx,
        Err(e) => {
            funding::release(ctx, inputs, u32::MAX).await;
            cancel_all(ctx, &started).await;
            return Err(e);
        }
    };

    let dests: Vec<Destination> = started.iter().map(|(d, _)| d.clone()).collect();
    let completed = each(&dests, |d| {
        let ctx = ctx.clone();
        let tx = tx.clone();
        async move { ctx.channels.complete(d.peer, tx).await }
    })
    .await;
    let before = failed.len();
    let mut done: Vec<(Destination, StartedOpen, ChannelId, u32)> = Vec::new();
    let completed = keep_ok(dests, completed, "fundchannel_complete", failed);
    for (d, (id, outnum)) in completed {
        if let Some((_, s)) = started.iter().find(|(x, _)| x.peer == d.peer) {
            done.push((d, s.clone(), id, outnum));
        }
    }
    if failed.len() > before {
        // The silent peers' opens are forgotten first, so no late funding_signed can make a
        // channel after the abandon; then every channel of this transaction is abandoned,
        // before the coins are released: the transaction can never go out after.
        cancel_failed(ctx, &failed[before..]).await;
        abandon(
            ctx,
            &tx,
            "funding cancelled: another peer of the batch failed",
        )
        .await;
        funding::release(ctx, inputs, u32::MAX).await;
        return Ok(Attempt::Redo);
    }

    // Every channel is stored: only now may the funding go out.
    if let Err(e) = funding::broadcast_outcome(ctx, &tx, None, OnRefusal::Release).await {
        return Err(refused_funding(ctx, &tx, e).await);
    }
    Ok(Attempt::Done(result(&tx, &done)))
}

/// The round's destinations with the `all` one's amount worked out from the coins left
/// after the others.
async fn resolve_all(
    ctx: &NodeContext,
    live: &[Destination],
    common: &Common,
) -> Result<Vec<Destination>, RpcError> {
    let Some(all) = live.iter().position(|d| d.amount_sat.is_none()) else {
        return Ok(live.to_vec());
    };
    let fixed: Vec<OutputRequest> = live
        .iter()
        .filter_map(|d| {
            Some(OutputRequest {
                script_pubkey: funding_stand_in(1),
                amount: OutputAmount::Sat(AmountSat::from_sat(d.amount_sat?)),
            })
        })
        .collect();
    let amount = amount_all(
        ctx,
        fixed,
        common.feerate,
        common.minconf,
        common.utxos.clone(),
        live[all].peer,
    )
    .await?;
    let mut out = live.to_vec();
    if let Some(d) = out.get_mut(all) {
        if d.push_msat > amount.saturating_mul(1000) {
            return Err(RpcError::new(
                301,
                "Requested to push_msat more than amount",
            ));
        }
        d.amount_sat = Some(amount);
    }
    Ok(out)
}

fn result(tx: &Transaction, done: &[(Destination, StartedOpen, ChannelId, u32)]) -> Value {
    let ids: Vec<Value> = done
        .iter()
        .map(|(d, s, id, outnum)| {
            let mut v = json!({
                "id": hex::encode(d.peer.serialize()),
                "channel_id": hex::encode(id.0),
                "channel_type": channel_type_json(s.channel_type),
                "outnum": outnum,
            });
            if let Some(c) = &d.close_to {
                v["close_to"] = json!(hex::encode(c));
            }
            v
        })
        .collect();
    json!({
        "tx": tx_hex(tx),
        "txid": tx.compute_txid().to_string(),
        "channel_ids": ids,
    })
}

async fn cancel_failed(ctx: &NodeContext, failed: &[Failure]) {
    for f in failed {
        let _ = ctx.channels.cancel(f.peer).await;
    }
}

async fn cancel_all(ctx: &NodeContext, started: &[(Destination, StartedOpen)]) {
    for (d, _) in started {
        let _ = ctx.channels.cancel(d.peer).await;
    }
}

async fn abandon(ctx: &NodeContext, tx: &Transaction, why: &str) {
    let txid = tx.compute_txid();
    if let Err(e) = ctx.channels.abandon_funding(txid, why).await {
        tracing::warn!(target: "plugin-spenderp", "cannot abandon the channels of {txid}: {}", e.message);
    }
}
