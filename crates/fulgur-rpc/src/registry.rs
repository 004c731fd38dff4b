//! The one command registry: every JSON-RPC method, built in or (later) added by a plugin,
//! with its parameters, help text and handler; and dispatch of a request to it.

use fulgur_rpc_types::envelope::{error_reply, success_reply};
use fulgur_rpc_types::params::bad_param;
use fulgur_rpc_types::{
    parse_params, parse_request, usage, Filter, ParamSpec, Params, RpcError, TokenEcho,
};
use serde_json::value::RawValue;
use serde_json::Value;
use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, RwLock};

/// What a handler returns.
pub type HandlerFuture = Pin<Box<dyn Future<Output = Result<Value, RpcError>> + Send>>;

/// A command's implementation: it gets the call and returns the result object.
pub type Handler<C> = Arc<dyn Fn(Call<C>) -> HandlerFuture + Send + Sync>;

/// One call of a command.
pub struct Call<C> {
    /// The node's shared state.
    pub ctx: Arc<C>,
    /// The registry, for commands about commands (`help`, `check`).
    pub registry: Arc<Registry<C>>,
    /// The checked parameters.
    pub params: Params,
    /// The parameters exactly as sent (for commands that pass them on, like `check`).
    pub raw_params: Value,
}

/// A command as the registry knows it.
pub struct CommandDef<C> {
    /// The method name.
    pub name: String,
    /// Declared parameters, required first.
    pub params: Vec<ParamSpec>,
    /// Accept undeclared parameters (`check` passes them on to the command it checks).
    pub allow_extra: bool,
    /// Only callable with `--developer`.
    pub dev_only: bool,
    /// The command's reference page (markdown), shown by `help <command>`.
    pub doc: Option<&'static str>,
    /// The implementation.
    pub handler: Handler<C>,
}

impl<C> CommandDef<C> {
    /// The usage line, e.g. `command_to_check` or `[command]`.
    pub fn usage(&self) -> String {
        usage(&self.params)
    }
}

/// Whether a dispatch runs the command or only checks its parameters (`check`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Run it.
    Run,
    /// Stop after the parameters are checked.
    CheckOnly,
}

/// All commands, by name.
pub struct Registry<C> {
    commands: RwLock<BTreeMap<String, Arc<CommandDef<C>>>>,
    developer: bool,
}

/// Adding a command whose name is taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DuplicateCommand(pub String);

impl std::fmt::Display for DuplicateCommand {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "command '{}' is already registered", self.0)
    }
}

impl std::error::Error for DuplicateCommand {}

impl<C: Send + Sync + 'static> Registry<C> {
    /// An empty registry; `developer` enables developer-only commands and echoes bad tokens in
    /// parameter errors, as CLN's `--developer` does.
    pub fn new(developer: bool) -> Self {
        Registry {
            commands: RwLock::new(BTreeMap::new()),
            developer,
        }
    }

    /// Adds a command; fails if the name is taken.
    pub fn add(&self, def: CommandDef<C>) -> Result<(), DuplicateCommand> {
        let mut map = self.commands.write().unwrap_or_else(|e| e.into_inner());
        if map.contains_key(&def.name) {
            return Err(DuplicateCommand(def.name));
        }
        map.insert(def.name.clone(), Arc::new(def));
        Ok(())
    }

    /// Removes a command (a plugin that stops takes its commands with it).
    pub fn remove(&self, name: &str) -> bool {
        let mut map = self.commands.write().unwrap_or_else(|e| e.into_inner());
        map.remove(name).is_some()
    }

    /// Looks up a command callable by this node (developer-only ones hidden otherwise).
    pub fn get(&self, name: &str) -> Option<Arc<CommandDef<C>>> {
        let map = self.commands.read().unwrap_or_else(|e| e.into_inner());
        map.get(name)
            .filter(|c| self.developer || !c.dev_only)
            .cloned()
    }

    /// Every callable command, sorted by name.
    pub fn list(&self) -> Vec<Arc<CommandDef<C>>> {
        let map = self.commands.read().unwrap_or_else(|e| e.into_inner());
        map.values()
            .filter(|c| self.developer || !c.dev_only)
            .cloned()
            .collect()
    }

    /// Whether developer mode is on.
    pub fn developer(&self) -> bool {
        self.developer
    }

    /// A `-32602` error for parameter `name` whose value `token` is wrong for a reason found by
    /// the command itself, worded as CLN words parameter errors.
    pub fn param_error(&self, name: &str, problem: &str, token: &Value) -> RpcError {
        bad_param(name, problem, token, self.echo(Mode::Run))
    }

    fn echo(&self, mode: Mode) -> TokenEcho {
        if self.developer || mode == Mode::CheckOnly {
            TokenEcho::Show
        } else {
            TokenEcho::Hide
        }
    }

    /// Runs `method` with raw `params` (or only checks them), returning the result object.
    pub async fn call(
        self: &Arc<Self>,
        ctx: &Arc<C>,
        method: &str,
        params_in: &Value,
        mode: Mode,
    ) -> Result<Value, RpcError> {
        let def = self
            .get(method)
            .ok_or_else(|| RpcError::unknown_command(method))?;
        let params = parse_params(&def.params, params_in, def.allow_extra, self.echo(mode))?;
        if mode == Mode::CheckOnly {
            return Ok(Value::Null);
        }
        let call = Call {
            ctx: ctx.clone(),
            registry: self.clone(),
            params,
            raw_params: params_in.clone(),
        };
        (def.handler)(call).await
    }

    /// Handles one framed request and returns the full reply text (ending in a blank line).
    pub async fn dispatch(self: &Arc<Self>, ctx: &Arc<C>, raw: &RawValue) -> String {
        let req = match parse_request(raw) {
            Ok(r) => r,
            Err(m) => return error_reply(m.id.as_deref(), &m.error),
        };
        let id = req.id.get();
        let filter = match req.filter.as_ref().map(Filter::parse) {
            None => None,
            Some(Ok(f)) => Some(f),
            Some(Err(why)) => {
                let token = req.filter.as_ref().unwrap_or(&Value::Null);
                let err = bad_param("filter", why, token, self.echo(Mode::Run));
                return error_reply(Some(id), &err);
            }
        };
        tracing::trace!(target: "jsonrpc", "{} {}", req.method, id);
        match self.call(ctx, &req.method, &req.params, Mode::Run).await {
            Ok(result) => match filter {
                None => success_reply(id, &result),
                Some(f) => {
                    let (mut out, warning) = f.apply(result);
                    if let (Some(w), Value::Object(m)) = (warning, &mut out) {
                        m.insert("warning_parameter_filter".into(), Value::String(w));
                    }
                    success_reply(id, &out)
                }
            },
            Err(e) => error_reply(Some(id), &e),
        }
    }
}
