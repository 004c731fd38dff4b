//! `getinfo`: the node's identity, counts, chain height and features (CLN v26.06 shape).

use super::command;
use crate::context::{NodeContext, VERSION};
use fulgur_rpc::{Call, CommandDef};
use fulgur_rpc_types::RpcError;
use serde_json::{json, Value};

pub(super) fn def() -> CommandDef<NodeContext> {
    command(
        "getinfo",
        &[],
        include_str!("../../../../doc/rpc/getinfo.md"),
        run,
    )
}

async fn run(call: Call<NodeContext>) -> Result<Value, RpcError> {
    let n = &call.ctx;
    let chain = n.chain.borrow().clone();
    let num_peers = n.peers.count().await;
    let (pending, active, inactive) = n.channels.counts().await;
    let binding: Vec<Value> = n
        .peers
        .bindings()
        .iter()
        .map(|sa| {
            let kind = if sa.is_ipv4() { "ipv4" } else { "ipv6" };
            json!({"type": kind, "address": sa.ip().to_string(), "port": sa.port()})
        })
        .collect();
    let features = n.our_features.to_string();
    let mut out = json!({
        "id": n.identity.node_id,
        "alias": n.identity.alias,
        "color": n.identity.color,
        "num_peers": num_peers,
        "num_pending_channels": pending,
        "num_active_channels": active,
        "num_inactive_channels": inactive,
        "address": n.announce,
        "binding": binding,
        "version": VERSION,
        "blockheight": chain.blockheight,
        "network": n.config.network.name(),
        "fees_collected_msat": 0,
        "lightning-dir": n.network_dir.display().to_string(),
        // No channels or invoices yet: only the connection features are offered.
        "our_features": {"init": features, "node": features, "channel": "", "invoice": ""},
    });
    if let Value::Object(m) = &mut out {
        if binding_is_empty(m) {
            m.remove("binding");
        }
    }
    if let (Some(w), Value::Object(m)) = (chain.lightningd_warning(), &mut out) {
        m.insert("warning_lightningd_sync".into(), Value::String(w));
    }
    if let (Some(w), Value::Object(m)) = (chain.bitcoind_warning(), &mut out) {
        m.insert("warning_bitcoind_sync".into(), Value::String(w));
    }
    Ok(out)
}

fn binding_is_empty(m: &serde_json::Map<String, Value>) -> bool {
    m.get("binding")
        .and_then(Value::as_array)
        .is_some_and(Vec::is_empty)
}
