//! Collecting settings from every source in precedence order, as Core Lightning does: the
//! command line picks `--conf` or `--lightning-dir`; then either the `--conf` file alone, or
//! `<lightning-dir>/config` followed by `<lightning-dir>/<network>/config` (the network being
//! chosen by the command line, else by the general file); the command line comes last, so it
//! wins.

use std::path::{Path, PathBuf};

use fulgur_types::Network;

use crate::error::{ConfigError, Origin, Problem};
use crate::file::read_config_file;
use crate::source::{FileKind, Source};
use crate::table::{self, OptionSpec, Scope};
use crate::value::parse_value;

/// One `name[=value]` as found on the command line or in a config file, not yet validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RawSetting {
    /// The option name, without dashes.
    pub name: String,
    /// The value after `=` (or the next command-line argument), if any.
    pub value: Option<String>,
    /// Where it was given, for error messages.
    pub origin: Origin,
    /// The kind of config file it came from; `None` for the command line.
    pub file_kind: Option<FileKind>,
}

impl RawSetting {
    /// Where it was given, in `listconfigs` spelling.
    pub fn source(&self) -> Source {
        match &self.origin {
            Origin::Cmdline { .. } => Source::Cmdline,
            Origin::File { path, line, .. } => Source::File {
                path: path.clone(),
                line: *line,
            },
        }
    }

    /// Builds a command-line setting from a name (no dashes) and an optional value.
    pub fn cmdline(name: &str, value: Option<&str>) -> RawSetting {
        let text = match value {
            Some(v) => format!("--{name}={v}"),
            None => format!("--{name}"),
        };
        RawSetting {
            name: name.to_string(),
            value: value.map(str::to_string),
            origin: Origin::Cmdline { text },
            file_kind: None,
        }
    }
}

/// Refuses an option given somewhere its scope does not allow.
pub(crate) fn check_scope(spec: &OptionSpec, file_kind: Option<FileKind>) -> Result<(), Problem> {
    match (spec.scope, file_kind) {
        (_, None) | (Scope::Anywhere, _) => Ok(()),
        (Scope::CmdlineOnly, Some(_)) => Err(Problem::NotInConfigFiles),
        (Scope::NotImplicitFile, Some(FileKind::General | FileKind::Network)) => {
            Err(Problem::NotInImplicitConfigFiles)
        }
        (Scope::NotNetworkFile, Some(FileKind::Network)) => Err(Problem::NotInNetworkConfigFile),
        (Scope::NotImplicitFile | Scope::NotNetworkFile, Some(_)) => Ok(()),
    }
}

/// The settings that say where the node's files are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Location {
    /// `--conf`, made absolute.
    pub conf: Option<PathBuf>,
    /// The base directory, made absolute.
    pub lightning_dir: PathBuf,
    /// The network in effect.
    pub network: Network,
    /// The last `rpc-file` value, as given.
    pub rpc_file: Option<String>,
}

impl Location {
    /// Applies, in order, every location option among `settings` (validating those only).
    fn scan(settings: &[RawSetting], cwd: &Path, home: &Path) -> Result<Location, ConfigError> {
        let mut location = Location {
            conf: None,
            lightning_dir: cwd.join(home).join(".lightning"),
            network: Network::Bitcoin,
            rpc_file: None,
        };
        for setting in settings {
            let name = setting.name.as_str();
            let is_location = matches!(name, "conf" | "lightning-dir" | "network" | "rpc-file")
                || table::network_flag(name).is_some();
            if !is_location {
                continue;
            }
            let Some(spec) = table::find(name) else {
                continue;
            };
            let bad = |problem| ConfigError::bad(&setting.origin, problem);
            check_scope(spec, setting.file_kind).map_err(bad)?;
            let value = parse_value(spec, setting.value.as_deref()).map_err(bad)?;
            let text = value.as_str().unwrap_or_default();
            match name {
                "conf" => location.conf = Some(cwd.join(text)),
                "lightning-dir" => location.lightning_dir = cwd.join(text),
                "rpc-file" => location.rpc_file = Some(text.to_string()),
                "network" => {
                    location.network = text
                        .parse()
                        .map_err(|_| bad(Problem::UnknownNetwork(text.to_string())))?;
                }
                _ => {
                    if let Some(network) = table::network_flag(name) {
                        location.network = network;
                    }
                }
            }
        }
        Ok(location)
    }

    /// `<lightning-dir>/<network>`.
    pub fn network_dir(&self) -> PathBuf {
        self.lightning_dir.join(self.network.name())
    }
}

/// Every setting from every source, in precedence order (later wins), and where files are.
#[derive(Debug, Clone)]
pub(crate) struct Gathered {
    /// Config-file settings followed by command-line settings.
    pub settings: Vec<RawSetting>,
    /// Where the node's files are, after all settings.
    pub location: Location,
}

/// Reads the config files the command line leads to and joins them with it.
pub(crate) fn gather(
    cmdline: Vec<RawSetting>,
    home: &Path,
    cwd: &Path,
) -> Result<Gathered, ConfigError> {
    let early = Location::scan(&cmdline, cwd, home)?;
    let file_settings = match &early.conf {
        Some(conf) => read_config_file(conf, FileKind::Explicit, true)?,
        None => {
            let dir = &early.lightning_dir;
            let mut settings = read_config_file(&dir.join("config"), FileKind::General, false)?;
            let with_cmdline: Vec<RawSetting> =
                settings.iter().chain(cmdline.iter()).cloned().collect();
            let network = Location::scan(&with_cmdline, cwd, home)?.network;
            let network_file = dir.join(network.name()).join("config");
            settings.extend(read_config_file(&network_file, FileKind::Network, false)?);
            settings
        }
    };
    let mut settings = file_settings;
    settings.extend(cmdline);
    let location = Location::scan(&settings, cwd, home)?;
    Ok(Gathered { settings, location })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly on setup errors.

    use super::*;

    #[test]
    fn scopes() {
        let conf = table::find("conf").unwrap();
        let dir = table::find("lightning-dir").unwrap();
        let network = table::find("network").unwrap();
        let alias = table::find("alias").unwrap();
        assert_eq!(check_scope(conf, None), Ok(()));
        assert_eq!(
            check_scope(conf, Some(FileKind::Explicit)),
            Err(Problem::NotInConfigFiles)
        );
        assert_eq!(check_scope(dir, Some(FileKind::Explicit)), Ok(()));
        assert_eq!(
            check_scope(dir, Some(FileKind::General)),
            Err(Problem::NotInImplicitConfigFiles)
        );
        assert_eq!(check_scope(network, Some(FileKind::General)), Ok(()));
        assert_eq!(
            check_scope(network, Some(FileKind::Network)),
            Err(Problem::NotInNetworkConfigFile)
        );
        assert_eq!(check_scope(alias, Some(FileKind::Network)), Ok(()));
    }

    #[test]
    fn last_network_choice_wins() {
        let settings = vec![
            RawSetting::cmdline("network", Some("testnet")),
            RawSetting::cmdline("regtest", None),
            RawSetting::cmdline("lightning-dir", Some("rel")),
        ];
        let location = Location::scan(&settings, Path::new("/cwd"), Path::new("/home/u")).unwrap();
        assert_eq!(location.network, Network::Regtest);
        assert_eq!(location.lightning_dir, PathBuf::from("/cwd/rel"));
        assert_eq!(location.network_dir(), PathBuf::from("/cwd/rel/regtest"));
        let settings = vec![RawSetting::cmdline("network", Some("moon"))];
        let err = Location::scan(&settings, Path::new("/"), Path::new("/h")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "--network=moon: unknown network name 'moon'"
        );
    }
}
