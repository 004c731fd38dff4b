//! The built-in JSON-RPC commands, one file each, and their registration. Each command's
//! reference page lives in `doc/rpc/<command>.md` and is what `help <command>` returns.

use crate::context::NodeContext;
use fulgur_rpc::{Call, CommandDef, Registry};
use fulgur_rpc_types::{ParamSpec, RpcError};
use serde_json::Value;
use std::future::Future;
use std::sync::Arc;

mod chain;
mod channels;
mod check;
mod funds;
mod getinfo;
mod help;
mod listconfigs;
mod multifund;
mod peers;
mod stop;
mod wallet;

/// Builds a command definition from an async function.
fn command<F, Fut>(
    name: &str,
    params: &[ParamSpec],
    doc: &'static str,
    f: F,
) -> CommandDef<NodeContext>
where
    F: Fn(Call<NodeContext>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Value, RpcError>> + Send + 'static,
{
    CommandDef {
        name: name.to_string(),
        params: params.to_vec(),
        allow_extra: false,
        dev_only: false,
        doc: Some(doc),
        handler: Arc::new(move |call| Box::pin(f(call))),
    }
}

/// Every built-in command, for registration and for tests that walk the documentation.
pub fn builtin() -> Vec<CommandDef<NodeContext>> {
    let mut all = vec![
        check::def(),
        getinfo::def(),
        help::def(),
        listconfigs::def(),
        stop::def(),
    ];
    all.extend(peers::defs());
    all.extend(wallet::defs());
    all.extend(funds::defs());
    all.extend(chain::defs());
    all.extend(channels::defs());
    all
}

/// Registers every built-in command.
pub fn register(
    registry: &Registry<NodeContext>,
) -> Result<(), fulgur_rpc::registry::DuplicateCommand> {
    for def in builtin() {
        registry.add(def)?;
    }
    Ok(())
}
