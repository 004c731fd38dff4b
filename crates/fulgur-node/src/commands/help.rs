//! `help`: every command's usage line, or one command's usage with its reference page in
//! `verbose` (beyond CLN, which points to a man page instead).

use super::command;
use crate::context::NodeContext;
use fulgur_rpc::{Call, CommandDef};
use fulgur_rpc_types::{ParamKind, ParamSpec, RpcError};
use serde_json::{json, Value};

const PARAMS: &[ParamSpec] = &[ParamSpec::opt("command", ParamKind::String)];

pub(super) fn def() -> CommandDef<NodeContext> {
    command(
        "help",
        PARAMS,
        include_str!("../../../../doc/rpc/help.md"),
        run,
    )
}

async fn run(call: Call<NodeContext>) -> Result<Value, RpcError> {
    let entries: Vec<Value> = match call.params.str("command") {
        Some(name) => {
            let def = call.registry.get(name).ok_or_else(|| {
                RpcError::new(
                    fulgur_rpc_types::codes::METHOD_NOT_FOUND,
                    format!("Unknown command {name}"),
                )
            })?;
            let mut entry = json!({"command": format!("{} {}", def.name, def.usage())});
            if let (Some(doc), Value::Object(m)) = (def.doc, &mut entry) {
                m.insert("verbose".into(), Value::String(doc.to_string()));
            }
            vec![entry]
        }
        None => call
            .registry
            .list()
            .iter()
            .map(|def| json!({"command": format!("{} {}", def.name, def.usage())}))
            .collect(),
    };
    Ok(json!({"help": entries, "format-hint": "simple"}))
}
