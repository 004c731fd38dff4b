//! fulgurd's options and config files, compatible with Core Lightning v26.06's `lightningd`:
//! the same option names and defaults, the same config-file syntax and precedence
//! (general file, then per-network file, then command line), the same sources in
//! `listconfigs`, and `fulgur-cli` finds the RPC socket from the same files.
//!
//! Entry points: [`load`] for the daemon, [`locate`] for clients that only need to find the
//! socket. Nothing here exits the process or prints.

mod cmdline;
mod config;
mod error;
mod file;
mod gather;
mod help;
mod listconfigs;
mod logging;
mod source;
mod spec;
mod store;
pub mod table;
mod value;

#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};

use fulgur_types::Network;

pub use config::{BitcoinOptions, Config};
pub use error::{ConfigError, Origin, Problem};
pub use help::VERSION;
pub use logging::{LogFilter, LogLevel, LogTarget};
pub use source::Source;
pub use value::Value;

use gather::RawSetting;
use store::Store;

/// What the command line asks fulgurd to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Loaded {
    /// `--help`: print this text and exit successfully.
    Help(String),
    /// `--version`: print [`VERSION`] and exit successfully.
    Version,
    /// Run with this configuration.
    Run(Box<Config>),
}

/// Parses fulgurd's command line (`args` without the program name), reads the config files
/// it leads to and resolves the configuration.
///
/// `home` is the user's home directory (the default base directory is `home/.lightning`;
/// pass `cwd` when there is no home), `cwd` the directory relative paths given on the command
/// line start from.
pub fn load(args: &[String], home: &Path, cwd: &Path) -> Result<Loaded, ConfigError> {
    let parsed = cmdline::parse_cmdline(args)?;
    if parsed.version {
        return Ok(Loaded::Version);
    }
    let gathered = gather::gather(parsed.settings, home, cwd)?;
    let help_asked = parsed.help || gathered.settings.iter().any(|s| s.name == "help");
    if help_asked {
        let developer = gathered.settings.iter().any(|s| s.name == "developer");
        let location = &gathered.location;
        let store = Store::empty(location.lightning_dir.clone(), location.network, developer);
        return Ok(Loaded::Help(help::help_text(&store)));
    }
    if gathered.settings.iter().any(|s| s.name == "version") {
        return Ok(Loaded::Version);
    }
    Ok(Loaded::Run(Box::new(Config::build(gathered)?)))
}

/// Where a client finds the node: the base directory, network and JSON-RPC socket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// The base directory, absolute.
    pub lightning_dir: PathBuf,
    /// The network in effect.
    pub network: Network,
    /// The JSON-RPC socket, absolute.
    pub rpc_file: PathBuf,
    /// The file given with `--conf`, absolute.
    pub conf_file: Option<PathBuf>,
}

impl Location {
    /// `<lightning-dir>/<network>`.
    pub fn network_dir(&self) -> PathBuf {
        self.lightning_dir.join(self.network.name())
    }
}

/// Finds the node's socket the way `lightning-cli` does: from command-line options (names
/// without dashes, with their values: `conf`, `lightning-dir`, `network`, `mainnet`, `testnet`,
/// `testnet4`, `signet`, `regtest`, `rpc-file`) and the same config files the daemon reads.
///
/// Only those options are looked at; every other line of the config files is ignored, known
/// or not, so clients do not fail on daemon options.
pub fn locate(
    cmdline: &[(String, Option<String>)],
    home: &Path,
    cwd: &Path,
) -> Result<Location, ConfigError> {
    let settings = cmdline
        .iter()
        .map(|(name, value)| RawSetting::cmdline(name, value.as_deref()))
        .collect();
    let gathered = gather::gather(settings, home, cwd)?;
    let location = gathered.location;
    let network_dir = location.network_dir();
    let rpc_file = location.rpc_file.as_deref().unwrap_or("lightning-rpc");
    Ok(Location {
        rpc_file: network_dir.join(rpc_file),
        lightning_dir: location.lightning_dir,
        network: location.network,
        conf_file: location.conf,
    })
}
