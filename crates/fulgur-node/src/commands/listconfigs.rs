//! `listconfigs`: every option with its value and where it came from, or just one.

use super::command;
use crate::context::NodeContext;
use fulgur_rpc::{Call, CommandDef};
use fulgur_rpc_types::{ParamKind, ParamSpec, RpcError};
use serde_json::{json, Value};

const PARAMS: &[ParamSpec] = &[ParamSpec::opt("config", ParamKind::String)];

pub(super) fn def() -> CommandDef<NodeContext> {
    command(
        "listconfigs",
        PARAMS,
        include_str!("../../../../doc/rpc/listconfigs.md"),
        run,
    )
}

async fn run(call: Call<NodeContext>) -> Result<Value, RpcError> {
    let only = call.params.str("config");
    let configs = call.ctx.config.listconfigs(only);
    if let (Some(name), None) = (only, &configs) {
        return Err(call.registry.param_error(
            "config",
            "Unknown config option",
            &Value::String(name.to_string()),
        ));
    }
    Ok(json!({"configs": configs.unwrap_or_default()}))
}
