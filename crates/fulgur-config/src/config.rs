//! The resolved, typed configuration fulgurd runs with: validated from the gathered settings,
//! with paths made absolute and the most used values in typed fields; every other option can
//! be looked up by name.

use std::path::PathBuf;

use fulgur_types::Network;

use crate::error::{ConfigError, Problem};
use crate::gather::{check_scope, Gathered};
use crate::logging::{parse_log_level, LogFilter, LogLevel, LogLevelSetting, LogTarget};
use crate::source::Source;
use crate::store::{Entry, Store};
use crate::table::{self, OptKind};
use crate::value::{parse_file_mode, parse_rgb, parse_value, Value};

/// How to reach bitcoind (Core Lightning's `bcli` plugin options).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BitcoinOptions {
    /// `bitcoin-rpcconnect`: host to connect to.
    pub rpcconnect: Option<String>,
    /// `bitcoin-rpcport`: port to connect to.
    pub rpcport: Option<u16>,
    /// `bitcoin-rpcuser`.
    pub rpcuser: Option<String>,
    /// `bitcoin-rpcpassword`.
    pub rpcpassword: Option<String>,
    /// `bitcoin-datadir`, made absolute (relative to the network directory).
    pub datadir: Option<PathBuf>,
    /// `bitcoin-cli`: path of the bitcoin-cli program.
    pub cli: Option<String>,
    /// `bitcoin-rpcclienttimeout`, in seconds.
    pub rpcclienttimeout: u64,
    /// `bitcoin-retry-timeout`, in seconds.
    pub retry_timeout: u64,
}

/// The configuration fulgurd runs with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// The base directory, absolute.
    pub lightning_dir: PathBuf,
    /// The network in effect.
    pub network: Network,
    /// The file given with `--conf`, absolute.
    pub conf_file: Option<PathBuf>,
    /// The JSON-RPC socket, absolute.
    pub rpc_file: PathBuf,
    /// Permissions of the JSON-RPC socket.
    pub rpc_file_mode: u32,
    /// The default log level.
    pub log_level: LogLevel,
    /// `log-level=LEVEL:FILTER[:FILE]` filters, in order.
    pub log_filters: Vec<LogFilter>,
    /// Where logs go; empty means standard output only.
    pub log_files: Vec<LogTarget>,
    /// Prefix of every log line.
    pub log_prefix: String,
    /// Whether log lines start with a timestamp.
    pub log_timestamps: bool,
    /// The configured alias, if any (the daemon derives one from the node id otherwise).
    pub alias: Option<String>,
    /// The configured colour, if any (the daemon derives one from the node id otherwise).
    pub rgb: Option<[u8; 3]>,
    /// Run in the background.
    pub daemon: bool,
    /// Where to write the process id, absolute.
    pub pid_file: PathBuf,
    /// The wallet database DSN.
    pub wallet: String,
    /// How to reach bitcoind.
    pub bitcoin: BitcoinOptions,
    /// `addr` values: listen and announce.
    pub addr: Vec<String>,
    /// `bind-addr` values: listen only.
    pub bind_addr: Vec<String>,
    /// `announce-addr` values: announce only.
    pub announce_addr: Vec<String>,
    /// Neither listen nor reconnect.
    pub offline: bool,
    /// Listen on the default port when no address is given.
    pub autolisten: bool,
    /// SOCKS5 proxy.
    pub proxy: Option<String>,
    /// Send every connection through the proxy.
    pub always_use_proxy: bool,
    /// Developer mode.
    pub developer: bool,
    /// Deprecated APIs stay available.
    pub allow_deprecated_apis: bool,
    store: Store,
}

impl Config {
    /// Validates every gathered setting and resolves the configuration.
    pub(crate) fn build(gathered: Gathered) -> Result<Config, ConfigError> {
        let developer = gathered.settings.iter().any(|s| s.name == "developer");
        let mut entries = Vec::with_capacity(gathered.settings.len());
        for raw in &gathered.settings {
            let bad = |problem| ConfigError::bad(&raw.origin, problem);
            let spec = table::find(&raw.name).ok_or_else(|| bad(Problem::UnknownOption))?;
            check_scope(spec, raw.file_kind).map_err(bad)?;
            if spec.developer_only && !developer {
                return Err(bad(Problem::RequiresDeveloper));
            }
            let value = parse_value(spec, raw.value.as_deref()).map_err(bad)?;
            entries.push(Entry {
                spec,
                value,
                source: raw.source(),
                origin: raw.origin.clone(),
            });
        }
        let location = gathered.location;
        let store = Store {
            entries,
            lightning_dir: location.lightning_dir.clone(),
            conf: location.conf.clone(),
            network: location.network,
            developer,
            generated_alias: None,
            generated_rgb: None,
        };
        check_log_filters(&store)?;
        let network_dir = location.network_dir();
        let in_network_dir = |text: String| network_dir.join(text);

        let mut config = Config {
            lightning_dir: location.lightning_dir.clone(),
            network: location.network,
            conf_file: location.conf.clone(),
            rpc_file: in_network_dir(store_str(&store, "rpc-file").unwrap_or_default()),
            rpc_file_mode: store_str(&store, "rpc-file-mode")
                .and_then(|m| parse_file_mode(&m).ok())
                .unwrap_or(0o600),
            log_level: LogLevel::Info,
            log_filters: Vec::new(),
            log_files: multi_values(&store, "log-file")
                .into_iter()
                .map(|f| {
                    if f == "-" {
                        LogTarget::Stdout
                    } else {
                        LogTarget::File(in_network_dir(f))
                    }
                })
                .collect(),
            log_prefix: store_str(&store, "log-prefix").unwrap_or_default(),
            log_timestamps: store_bool(&store, "log-timestamps").unwrap_or(true),
            alias: store_str(&store, "alias"),
            rgb: store_str(&store, "rgb").and_then(|c| parse_rgb(&c).ok()),
            daemon: store_bool(&store, "daemon").unwrap_or(false),
            pid_file: in_network_dir(store_str(&store, "pid-file").unwrap_or_default()),
            wallet: store_str(&store, "wallet").unwrap_or_else(|| {
                format!("sqlite3://{}/lightningd.sqlite3", network_dir.display())
            }),
            bitcoin: BitcoinOptions {
                rpcconnect: store_str(&store, "bitcoin-rpcconnect"),
                rpcport: store_u64(&store, "bitcoin-rpcport").and_then(|p| u16::try_from(p).ok()),
                rpcuser: store_str(&store, "bitcoin-rpcuser"),
                rpcpassword: store_str(&store, "bitcoin-rpcpassword"),
                datadir: store_str(&store, "bitcoin-datadir").map(in_network_dir),
                cli: store_str(&store, "bitcoin-cli"),
                rpcclienttimeout: store_u64(&store, "bitcoin-rpcclienttimeout").unwrap_or(60),
                retry_timeout: store_u64(&store, "bitcoin-retry-timeout").unwrap_or(60),
            },
            addr: multi_values(&store, "addr"),
            bind_addr: multi_values(&store, "bind-addr"),
            announce_addr: multi_values(&store, "announce-addr"),
            offline: store_bool(&store, "offline").unwrap_or(false),
            autolisten: store_bool(&store, "autolisten").unwrap_or(true),
            proxy: store_str(&store, "proxy"),
            always_use_proxy: store_bool(&store, "always-use-proxy").unwrap_or(false),
            developer,
            allow_deprecated_apis: store_bool(&store, "allow-deprecated-apis")
                .unwrap_or(!developer),
            store,
        };
        for text in multi_values(&config.store, "log-level") {
            match parse_log_level(&text) {
                Ok(LogLevelSetting::Default(level)) => config.log_level = level,
                Ok(LogLevelSetting::Filter(filter)) => config.log_filters.push(filter),
                Err(_) => {}
            }
        }
        Ok(config)
    }

    /// `<lightning-dir>/<network>`: where the daemon keeps its files and runs.
    pub fn network_dir(&self) -> PathBuf {
        self.lightning_dir.join(self.network.name())
    }

    /// The value in effect for option `name` (set or default); flags give `Bool`.
    /// `None` for unknown options, repeatable options and options with no value.
    pub fn value(&self, name: &str) -> Option<Value> {
        let spec = table::find(name)?;
        if spec.kind.is_multi() {
            return None;
        }
        self.store.effective(spec).map(|(value, _)| value)
    }

    /// The source of the value in effect for option `name` (`Source::Default` when unset).
    pub fn source(&self, name: &str) -> Option<Source> {
        let spec = table::find(name)?;
        Some(
            self.store
                .last(spec)
                .map_or(Source::Default, |e| e.source.clone()),
        )
    }

    /// Whether option `name` was given anywhere.
    pub fn is_set(&self, name: &str) -> bool {
        table::find(name).is_some_and(|spec| self.store.last(spec).is_some())
    }

    /// A flag or boolean option's value.
    pub fn get_bool(&self, name: &str) -> Option<bool> {
        self.value(name)?.as_bool()
    }

    /// An unsigned integer or amount option's value (amounts in millisatoshi).
    pub fn get_u64(&self, name: &str) -> Option<u64> {
        self.value(name)?.as_u64()
    }

    /// A signed integer option's value.
    pub fn get_i64(&self, name: &str) -> Option<i64> {
        self.value(name)?.as_i64()
    }

    /// A string option's value.
    pub fn get_str(&self, name: &str) -> Option<String> {
        match self.value(name)? {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// Every value given to option `name`, in precedence order (for repeatable options this
    /// is the accumulated list; for others, every value given including overridden ones).
    pub fn get_multi(&self, name: &str) -> Vec<String> {
        multi_values(&self.store, name)
    }

    /// Records the alias and colour the daemon derived from its node id, which `listconfigs`
    /// shows (with source `default`) when none is configured.
    pub fn set_generated_identity(&mut self, alias: &str, rgb: [u8; 3]) {
        self.store.generated_alias = Some(alias.to_string());
        self.store.generated_rgb = Some(format!("{:02x}{:02x}{:02x}", rgb[0], rgb[1], rgb[2]));
    }

    pub(crate) fn store(&self) -> &Store {
        &self.store
    }
}

/// Refuses `log-level=LEVEL:FILTER:FILE` naming a file no `log-file` gives.
fn check_log_filters(store: &Store) -> Result<(), ConfigError> {
    let log_files = multi_values(store, "log-file");
    let Some(spec) = table::find("log-level") else {
        return Ok(());
    };
    for entry in store.entries_for(spec) {
        let Some(text) = entry.value.as_str() else {
            continue;
        };
        if let Ok(LogLevelSetting::Filter(LogFilter {
            log_file: Some(file),
            ..
        })) = parse_log_level(text)
        {
            if !log_files.contains(&file) {
                return Err(ConfigError::bad(
                    &entry.origin,
                    Problem::UnknownLogFile(file),
                ));
            }
        }
    }
    Ok(())
}

fn store_value(store: &Store, name: &str) -> Option<Value> {
    let spec = table::find(name)?;
    store.effective(spec).map(|(value, _)| value)
}

fn store_str(store: &Store, name: &str) -> Option<String> {
    match store_value(store, name)? {
        Value::Str(s) => Some(s),
        _ => None,
    }
}

fn store_bool(store: &Store, name: &str) -> Option<bool> {
    store_value(store, name)?.as_bool()
}

fn store_u64(store: &Store, name: &str) -> Option<u64> {
    store_value(store, name)?.as_u64()
}

/// Every value given to `name`, as text, in precedence order.
fn multi_values(store: &Store, name: &str) -> Vec<String> {
    let Some(spec) = table::find(name) else {
        return Vec::new();
    };
    store
        .entries_for(spec)
        .map(|e| match &e.value {
            Value::Str(s) => s.clone(),
            Value::UInt(n) | Value::Msat(n) => n.to_string(),
            Value::Int(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            Value::Flag => String::new(),
        })
        .filter(|_| spec.kind != OptKind::Flag)
        .collect()
}
