//! `stop`: shut the node down cleanly; the reply is written before the process exits.

use super::command;
use crate::context::NodeContext;
use fulgur_rpc::{Call, CommandDef};
use fulgur_rpc_types::RpcError;
use serde_json::{json, Value};

pub(super) fn def() -> CommandDef<NodeContext> {
    command(
        "stop",
        &[],
        include_str!("../../../../doc/rpc/stop.md"),
        run,
    )
}

async fn run(call: Call<NodeContext>) -> Result<Value, RpcError> {
    tracing::info!(target: "lightningd", "stop requested over JSON-RPC");
    call.ctx.shutdown.cancel();
    Ok(json!({"result": "Shutdown complete"}))
}
