//! Chain-facing commands: `waitblockheight`, `feerates`, `listfunds` (CLN v26.06 shapes).

use super::command;
use crate::context::NodeContext;
use fulgur_rpc::{Call, CommandDef};
use fulgur_rpc_types::{ParamKind, ParamSpec, RpcError};
use fulgur_types::FeerateStyle;
use serde_json::{json, Value};
use std::time::Duration;

const WAITBLOCKHEIGHT: &[ParamSpec] = &[
    ParamSpec::req("blockheight", ParamKind::U32),
    ParamSpec::opt("timeout", ParamKind::U32),
];
const FEERATES: &[ParamSpec] = &[ParamSpec::req("style", ParamKind::String)];
const LISTFUNDS: &[ParamSpec] = &[ParamSpec::opt("spent", ParamKind::Bool)];

/// CLN's code for `waitblockheight` timing out.
const WAIT_TIMEOUT: i64 = 2000;

pub(super) fn defs() -> Vec<CommandDef<NodeContext>> {
    vec![
        command(
            "waitblockheight",
            WAITBLOCKHEIGHT,
            include_str!("../../../../doc/rpc/waitblockheight.md"),
            waitblockheight,
        ),
        command(
            "feerates",
            FEERATES,
            include_str!("../../../../doc/rpc/feerates.md"),
            feerates,
        ),
        command(
            "listfunds",
            LISTFUNDS,
            include_str!("../../../../doc/rpc/listfunds.md"),
            listfunds,
        ),
    ]
}

async fn waitblockheight(call: Call<NodeContext>) -> Result<Value, RpcError> {
    let target = call.params.u64("blockheight").unwrap_or_default();
    let timeout = Duration::from_secs(call.params.u64("timeout").unwrap_or(60));
    let mut rx = call.ctx.chain.clone();
    let reached = tokio::time::timeout(timeout, rx.wait_for(|s| s.blockheight >= target)).await;
    match reached {
        Ok(Ok(s)) => Ok(json!({"blockheight": s.blockheight})),
        Ok(Err(_)) => Err(RpcError::new(
            fulgur_rpc_types::codes::LIGHTNINGD_SHUTDOWN,
            "lightningd is shutting down",
        )),
        Err(_) => Err(RpcError::new(WAIT_TIMEOUT, "Timed out.")),
    }
}

async fn feerates(call: Call<NodeContext>) -> Result<Value, RpcError> {
    let text = call.params.str("style").unwrap_or_default();
    let style: FeerateStyle = text.parse().map_err(|_| {
        call.registry.param_error(
            "style",
            "should be 'perkw' or 'perkb'",
            &Value::String(text.into()),
        )
    })?;
    let response = call
        .ctx
        .fees
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .feerates(style);
    serde_json::to_value(response).map_err(|e| RpcError::new(-1, e.to_string()))
}

async fn listfunds(call: Call<NodeContext>) -> Result<Value, RpcError> {
    let filter = if call.params.bool("spent") == Some(true) {
        fulgur_store::OutputFilter::All
    } else {
        fulgur_store::OutputFilter::Unspent
    };
    let height = call.ctx.blockheight();
    let outputs = call
        .ctx
        .onchain
        .with_store(move |s| Ok(s.outputs(filter, height)?))
        .await
        .map_err(|e| RpcError::new(-1, e.to_string()))?;
    let network = call.ctx.config.network.to_bitcoin();
    let mut result = crate::onchain::listfunds_result(outputs, network, &call.ctx.onchain.keys);
    // Channels as CLN lists them here: every channel not forgotten, with our balance.
    let channels: Vec<Value> = call
        .ctx
        .channels
        .list(None)
        .await
        .into_iter()
        .filter(|c| c["state"] != "OPENINGD")
        .map(|c| {
            let mut m = serde_json::Map::new();
            m.insert("peer_id".into(), c["peer_id"].clone());
            m.insert("connected".into(), c["peer_connected"].clone());
            m.insert("state".into(), c["state"].clone());
            m.insert("channel_id".into(), c["channel_id"].clone());
            if let Some(s) = c.get("short_channel_id") {
                m.insert("short_channel_id".into(), s.clone());
            }
            m.insert("our_amount_msat".into(), c["to_us_msat"].clone());
            m.insert("amount_msat".into(), c["total_msat"].clone());
            m.insert("funding_txid".into(), c["funding_txid"].clone());
            m.insert("funding_output".into(), c["funding_outnum"].clone());
            Value::Object(m)
        })
        .collect();
    result["channels"] = Value::Array(channels);
    Ok(result)
}
