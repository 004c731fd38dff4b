//! The validated settings in precedence order, and how an option's effective value (last
//! setting, accumulated values, or default) and its source are worked out from them.

use std::path::PathBuf;

use fulgur_types::Network;

use crate::error::Origin;
use crate::logging::{parse_log_level, LogLevelSetting};
use crate::source::Source;
use crate::table::{Computed, DefaultValue, OptionSpec};
use crate::value::{parse_value, Value};

/// One validated setting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Entry {
    /// The option.
    pub spec: &'static OptionSpec,
    /// Its parsed value.
    pub value: Value,
    /// Where it came from.
    pub source: Source,
    /// Where it came from, for error messages.
    pub origin: Origin,
}

/// Validated settings plus what defaults depend on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Store {
    /// Settings in precedence order: config files first, command line last.
    pub entries: Vec<Entry>,
    /// The base directory (absolute).
    pub lightning_dir: PathBuf,
    /// The file given with `--conf` (absolute).
    pub conf: Option<PathBuf>,
    /// The network in effect.
    pub network: Network,
    /// Developer mode is on.
    pub developer: bool,
    /// Alias shown when none is configured (derived from the node id by the daemon).
    pub generated_alias: Option<String>,
    /// Colour shown when none is configured (derived from the node id by the daemon).
    pub generated_rgb: Option<String>,
}

impl Store {
    /// A store with no settings, for showing defaults.
    pub fn empty(lightning_dir: PathBuf, network: Network, developer: bool) -> Store {
        Store {
            entries: Vec::new(),
            lightning_dir,
            conf: None,
            network,
            developer,
            generated_alias: None,
            generated_rgb: None,
        }
    }

    /// The settings of `spec`, in precedence order.
    pub fn entries_for<'a>(&'a self, spec: &OptionSpec) -> impl Iterator<Item = &'a Entry> {
        let name = spec.name;
        self.entries.iter().filter(move |e| e.spec.name == name)
    }

    /// The last (winning) setting of `spec`.
    pub fn last(&self, spec: &OptionSpec) -> Option<&Entry> {
        self.entries_for(spec).last()
    }

    /// The default of `spec` as text, if it has one.
    pub fn default_text(&self, spec: &OptionSpec) -> Option<String> {
        let text = match spec.default {
            DefaultValue::None => return None,
            DefaultValue::Fixed(text) => text.to_string(),
            DefaultValue::PerNetwork { mainnet, testnets } => match self.network {
                Network::Bitcoin => mainnet.to_string(),
                _ => testnets.to_string(),
            },
            DefaultValue::Computed(computed) => match computed {
                Computed::LightningDir => self.lightning_dir.to_string_lossy().into_owned(),
                Computed::Network => self.network.name().to_string(),
                Computed::PidFile => self
                    .lightning_dir
                    .join(format!("lightningd-{}.pid", self.network.name()))
                    .to_string_lossy()
                    .into_owned(),
                Computed::LightningPort => self.network.default_lightning_port().to_string(),
                Computed::DeprecatedApis => (!self.developer).to_string(),
            },
        };
        Some(text)
    }

    /// The default of `spec` as a value, if it has one.
    pub fn default_value(&self, spec: &OptionSpec) -> Option<Value> {
        let text = self.default_text(spec)?;
        parse_value(spec, Some(&text)).ok()
    }

    /// The value in effect for a single-valued option, and its source; `None` when neither
    /// set nor defaulted. Flags are `Bool`s here.
    pub fn effective(&self, spec: &OptionSpec) -> Option<(Value, Source)> {
        let last = self.last(spec);
        let source = last.map_or(Source::Default, |e| e.source.clone());
        match spec.name {
            // The network may also be chosen by --regtest and friends; the source stays that
            // of `network` itself, as Core Lightning shows it.
            "network" => return Some((Value::Str(self.network.name().to_string()), source)),
            // Filters accumulate; the value shown is the default level.
            "log-level" => return Some((Value::Str(self.default_log_level()), source)),
            // Paths are shown made absolute.
            "lightning-dir" => {
                let dir = self.lightning_dir.to_string_lossy().into_owned();
                return Some((Value::Str(dir), source));
            }
            "conf" => {
                let conf = self.conf.as_ref()?.to_string_lossy().into_owned();
                return Some((Value::Str(conf), source));
            }
            _ => {}
        }
        if spec.kind.takes_value() {
            match last {
                Some(entry) => Some((entry.value.clone(), source)),
                None => {
                    let generated = match spec.name {
                        "alias" => self.generated_alias.clone(),
                        "rgb" => self.generated_rgb.clone(),
                        _ => None,
                    };
                    match generated {
                        Some(text) => Some((Value::Str(text), Source::Default)),
                        None => self.default_value(spec).map(|v| (v, Source::Default)),
                    }
                }
            }
        } else {
            Some((Value::Bool(last.is_some()), source))
        }
    }

    /// The name of the default log level: the last plain `log-level=LEVEL`, else `info`.
    fn default_log_level(&self) -> String {
        let mut level = String::from("info");
        if let Some(spec) = crate::table::find("log-level") {
            for entry in self.entries_for(spec) {
                if let Some(Ok(LogLevelSetting::Default(l))) =
                    entry.value.as_str().map(parse_log_level)
                {
                    level = l.name().to_string();
                }
            }
        }
        level
    }
}
