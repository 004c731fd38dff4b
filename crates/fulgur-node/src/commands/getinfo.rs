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
    let mut out = json!({
        "id": n.identity.node_id,
        "alias": n.identity.alias,
        "color": n.identity.color,
        "num_peers": 0,
        "num_pending_channels": 0,
        "num_active_channels": 0,
        "num_inactive_channels": 0,
        "address": n.announce,
        "version": VERSION,
        "blockheight": chain.blockheight,
        "network": n.config.network.name(),
        "fees_collected_msat": 0,
        "lightning-dir": n.network_dir.display().to_string(),
        // No peer protocol yet, so no feature bits are offered anywhere.
        "our_features": {"init": "", "node": "", "channel": "", "invoice": ""},
    });
    if let (Some(w), Value::Object(m)) = (chain.bitcoind_warning(), &mut out) {
        m.insert("warning_bitcoind_sync".into(), Value::String(w));
    }
    Ok(out)
}
