//! `check`: validate the parameters of another command without running it.

use super::command;
use crate::context::NodeContext;
use fulgur_rpc::registry::Mode;
use fulgur_rpc::{Call, CommandDef};
use fulgur_rpc_types::{ParamKind, ParamSpec, RpcError};
use serde_json::{json, Value};

const PARAMS: &[ParamSpec] = &[ParamSpec::req("command_to_check", ParamKind::String)];

pub(super) fn def() -> CommandDef<NodeContext> {
    let mut def = command(
        "check",
        PARAMS,
        include_str!("../../../../doc/rpc/check.md"),
        run,
    );
    def.allow_extra = true;
    def
}

async fn run(call: Call<NodeContext>) -> Result<Value, RpcError> {
    let name = call
        .params
        .str("command_to_check")
        .unwrap_or_default()
        .to_string();
    // The checked command gets every parameter but the first (by position) or but
    // `command_to_check` (by name).
    let inner = match &call.raw_params {
        Value::Array(items) => Value::Array(items.iter().skip(1).cloned().collect()),
        _ => Value::Object(call.params.extra.clone()),
    };
    call.registry
        .call(&call.ctx, &name, &inner, Mode::CheckOnly)
        .await?;
    Ok(json!({"command_to_check": name}))
}
