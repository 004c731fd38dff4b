//! What the option table says about each option: its kind, default, scope, how `listconfigs`
//! shows it, and the `const` builders the table is written with.

/// How an option takes its value, which also decides the field `listconfigs` uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OptKind {
    /// Takes no value; shown as `set`.
    Flag,
    /// `true`/`false` (`yes`/`no` also accepted); shown as `value_bool`.
    Bool,
    /// An integer; shown as `value_int`.
    Int(IntType),
    /// An amount (`123`, `123msat`, `5sat`, `0.1btc`); shown in millisatoshi as `value_msat`.
    Msat,
    /// A string; shown as `value_str`.
    Str,
    /// A repeatable string; shown as `values_str` with one entry of `sources` per value.
    Multi,
    /// A repeatable integer; shown as `values_int` with one entry of `sources` per value.
    MultiInt,
}

impl OptKind {
    /// Whether the option needs a value (`--name=value`), i.e. it is not a [`OptKind::Flag`].
    pub fn takes_value(self) -> bool {
        self != OptKind::Flag
    }

    /// Whether the option may be given several times, each value being kept.
    pub fn is_multi(self) -> bool {
        matches!(self, OptKind::Multi | OptKind::MultiInt)
    }
}

/// The range of an integer option.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IntType {
    /// 0 ..= 4294967295.
    U32,
    /// 0 ..= 18446744073709551615.
    U64,
    /// -2147483648 ..= 2147483647.
    I32,
}

/// Defaults that depend on other settings (the directory, the network, developer mode).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Computed {
    /// `$HOME/.lightning`.
    LightningDir,
    /// The network in effect (`bitcoin` unless chosen).
    Network,
    /// `<lightning-dir>/lightningd-<network>.pid`.
    PidFile,
    /// The default Lightning port of the network in effect.
    LightningPort,
    /// `true`, or `false` in developer mode.
    DeprecatedApis,
}

/// An option's default, written in the option's own syntax.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DefaultValue {
    /// No default: the option is absent from `listconfigs` until set.
    None,
    /// The same default on every network.
    Fixed(&'static str),
    /// One default on mainnet (`bitcoin`) and another on the test networks.
    PerNetwork {
        /// The default on `bitcoin`.
        mainnet: &'static str,
        /// The default on testnet, testnet4, signet and regtest.
        testnets: &'static str,
    },
    /// A default worked out from other settings.
    Computed(Computed),
}

/// Extra validation applied to a value on top of its kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    /// Nothing beyond the kind.
    None,
    /// A network name (`bitcoin`, `testnet`, `testnet4`, `signet`, `regtest`).
    Network,
    /// `LEVEL[:FILTER[:LOGFILE]]`.
    LogLevel,
    /// Six hex digits (`RRGGBB`).
    Rgb,
    /// Four octal digits starting with `0` (`0600`).
    FileMode,
    /// At most 32 bytes.
    Alias,
    /// `true`, `false` or `auto`.
    AutoBool,
    /// A TCP port (at most 65535).
    Port,
    /// Up to six `/`-separated integers.
    Feerates,
    /// `SUBDAEMON:PATH`.
    Subdaemon,
    /// A 33-byte compressed public key in hex.
    NodeId,
    /// A whole number of satoshi.
    WholeSats,
}

/// When `listconfigs` shows an option that was not asked for by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listing {
    /// Always (if it has a value, set or default).
    Always,
    /// Only when set: hidden, deprecated and developer options, and options without a
    /// meaningful default.
    WhenSet,
    /// Only when its value is not the empty string.
    WhenNonEmpty,
}

/// Where an option may be given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// The command line and any config file.
    Anywhere,
    /// The command line only.
    CmdlineOnly,
    /// The command line or the file named by `--conf`, not the default config files.
    NotImplicitFile,
    /// Anywhere but the per-network config file.
    NotNetworkFile,
}

/// One option fulgurd accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OptionSpec {
    /// The name, without leading dashes; `listconfigs` uses it as the key.
    pub name: &'static str,
    /// Other names accepted for the same option.
    pub aliases: &'static [&'static str],
    /// How the option takes a value.
    pub kind: OptKind,
    /// The placeholder shown in `--help` (`<arg>` when empty).
    pub arg: &'static str,
    /// The default value.
    pub default: DefaultValue,
    /// One line of help for `--help`.
    pub help: &'static str,
    /// Only accepted together with `--developer`.
    pub developer_only: bool,
    /// Left out of `--help` (deprecated or ignored options; developer options outside
    /// developer mode).
    pub hidden: bool,
    /// When `listconfigs` shows it.
    pub listing: Listing,
    /// Extra validation of the value.
    pub check: Check,
    /// Where it may be given.
    pub scope: Scope,
    /// Keep trailing whitespace of the value (it is trimmed otherwise).
    pub keep_whitespace: bool,
    /// Can be changed at runtime with `setconfig` (shown as `"dynamic": true`).
    pub dynamic: bool,
    /// The Core Lightning plugin that provides this option there, if it is not built in.
    pub plugin: Option<&'static str>,
}

impl OptionSpec {
    pub(crate) const fn new(name: &'static str, kind: OptKind, help: &'static str) -> Self {
        OptionSpec {
            name,
            aliases: &[],
            kind,
            arg: "",
            default: DefaultValue::None,
            help,
            developer_only: false,
            hidden: false,
            listing: Listing::Always,
            check: Check::None,
            scope: Scope::Anywhere,
            keep_whitespace: false,
            dynamic: false,
            plugin: None,
        }
    }

    pub(crate) const fn with_default(mut self, value: &'static str) -> Self {
        self.default = DefaultValue::Fixed(value);
        self
    }

    pub(crate) const fn per_network(
        mut self,
        mainnet: &'static str,
        testnets: &'static str,
    ) -> Self {
        self.default = DefaultValue::PerNetwork { mainnet, testnets };
        self
    }

    pub(crate) const fn computed(mut self, computed: Computed) -> Self {
        self.default = DefaultValue::Computed(computed);
        self
    }

    pub(crate) const fn dev(mut self) -> Self {
        self.developer_only = true;
        self.hidden = true;
        self.listing = Listing::WhenSet;
        self
    }

    pub(crate) const fn hidden(mut self) -> Self {
        self.hidden = true;
        self.listing = Listing::WhenSet;
        self
    }

    pub(crate) const fn listing(mut self, listing: Listing) -> Self {
        self.listing = listing;
        self
    }

    pub(crate) const fn check(mut self, check: Check) -> Self {
        self.check = check;
        self
    }

    pub(crate) const fn scope(mut self, scope: Scope) -> Self {
        self.scope = scope;
        self
    }

    pub(crate) const fn keep_whitespace(mut self) -> Self {
        self.keep_whitespace = true;
        self
    }

    pub(crate) const fn dynamic(mut self) -> Self {
        self.dynamic = true;
        self
    }

    pub(crate) const fn plugin(mut self, plugin: &'static str) -> Self {
        self.plugin = Some(plugin);
        self
    }

    pub(crate) const fn aliases(mut self, aliases: &'static [&'static str]) -> Self {
        self.aliases = aliases;
        self
    }

    pub(crate) const fn arg(mut self, arg: &'static str) -> Self {
        self.arg = arg;
        self
    }

    /// Whether `name` is this option's name or one of its aliases.
    pub fn is_named(&self, name: &str) -> bool {
        self.name == name || self.aliases.contains(&name)
    }

    /// The placeholder shown in `--help` for the value.
    pub fn arg_placeholder(&self) -> &'static str {
        if self.arg.is_empty() {
            "<arg>"
        } else {
            self.arg
        }
    }
}
