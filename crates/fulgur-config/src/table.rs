//! The single static table of every option fulgurd accepts: its name, how it takes a value,
//! its default, where it may appear, how `listconfigs` shows it and a one-line help text.
//!
//! Names, kinds and defaults follow Core Lightning v26.06 so that existing config files and
//! command lines keep working; options fulgurd does not use yet are still accepted and shown.

pub use crate::spec::{
    Check, Computed, DefaultValue, IntType, Listing, OptKind, OptionSpec, Scope,
};

const fn flag(name: &'static str, help: &'static str) -> OptionSpec {
    OptionSpec::new(name, OptKind::Flag, help)
}

const fn boolean(name: &'static str, help: &'static str) -> OptionSpec {
    OptionSpec::new(name, OptKind::Bool, help)
}

const fn u32_opt(name: &'static str, help: &'static str) -> OptionSpec {
    OptionSpec::new(name, OptKind::Int(IntType::U32), help)
}

const fn u64_opt(name: &'static str, help: &'static str) -> OptionSpec {
    OptionSpec::new(name, OptKind::Int(IntType::U64), help)
}

const fn i32_opt(name: &'static str, help: &'static str) -> OptionSpec {
    OptionSpec::new(name, OptKind::Int(IntType::I32), help)
}

const fn msat(name: &'static str, help: &'static str) -> OptionSpec {
    OptionSpec::new(name, OptKind::Msat, help)
}

const fn string(name: &'static str, help: &'static str) -> OptionSpec {
    OptionSpec::new(name, OptKind::Str, help)
}

const fn multi(name: &'static str, help: &'static str) -> OptionSpec {
    OptionSpec::new(name, OptKind::Multi, help)
}

/// Every option fulgurd accepts (besides `--help` and `--version`).
pub static OPTIONS: &[OptionSpec] = &[
    // Where things are.
    string(
        "conf",
        "Read this config file instead of the default general and per-network ones",
    )
    .arg("<file>")
    .scope(Scope::CmdlineOnly)
    .listing(Listing::WhenSet),
    string(
        "lightning-dir",
        "Base directory; each network has its own sub-directory in it",
    )
    .arg("<dir>")
    .computed(Computed::LightningDir)
    .scope(Scope::NotImplicitFile),
    string(
        "network",
        "Chain to run on: bitcoin, testnet, testnet4, signet or regtest",
    )
    .computed(Computed::Network)
    .check(Check::Network)
    .scope(Scope::NotNetworkFile),
    flag("mainnet", "Same as --network=bitcoin").scope(Scope::NotNetworkFile),
    flag("testnet", "Same as --network=testnet").scope(Scope::NotNetworkFile),
    flag("testnet4", "Same as --network=testnet4").scope(Scope::NotNetworkFile),
    flag("signet", "Same as --network=signet").scope(Scope::NotNetworkFile),
    flag("regtest", "Same as --network=regtest").scope(Scope::NotNetworkFile),
    string(
        "rpc-file",
        "Path of the JSON-RPC socket, relative to the network directory",
    )
    .with_default("lightning-rpc"),
    string(
        "rpc-file-mode",
        "Permissions of the JSON-RPC socket, as four octal digits",
    )
    .with_default("0600")
    .check(Check::FileMode),
    // General.
    flag(
        "developer",
        "Enable developer options and commands; disables deprecated APIs",
    ),
    boolean(
        "allow-deprecated-apis",
        "Keep deprecated options, commands and fields working",
    )
    .computed(Computed::DeprecatedApis),
    boolean(
        "database-upgrade",
        "Allow (true) or refuse (false) irreversible database upgrades",
    )
    .listing(Listing::WhenSet),
    multi(
        "i-promise-to-fix-broken-api-user",
        "Re-enable one deprecated feature that is about to be removed (repeatable)",
    ),
    string(
        "wallet",
        "Database location, as a DSN such as sqlite3:///path/to/file",
    )
    .listing(Listing::WhenSet),
    string(
        "recover",
        "Create the node secret from this mnemonic or hex secret, then stay offline",
    )
    .listing(Listing::WhenSet),
    flag(
        "hsm-passphrase",
        "Ask for the passphrase protecting the node secret at start-up",
    ),
    flag("encrypted-hsm", "Deprecated spelling of --hsm-passphrase").hidden(),
    flag(
        "daemon",
        "Detach and run in the background (set log-file too)",
    ),
    string("pid-file", "Where to write the process id")
        .arg("<file>")
        .computed(Computed::PidFile),
    multi(
        "subdaemon",
        "Use another binary for a subdaemon, as SUBDAEMON:PATH (repeatable)",
    )
    .check(Check::Subdaemon),
    // Logging.
    string(
        "log-level",
        "Log level (io, trace, debug, info, unusual, broken), or LEVEL:FILTER",
    )
    .with_default("info")
    .check(Check::LogLevel),
    string("log-prefix", "Text put at the start of every log line")
        .with_default("")
        .keep_whitespace()
        .listing(Listing::WhenNonEmpty),
    multi(
        "log-file",
        "Also log to this file; - means standard output (repeatable)",
    )
    .arg("<file>"),
    boolean("log-timestamps", "Start log lines with a timestamp").with_default("true"),
    // Bitcoin backend.
    string(
        "bitcoin-datadir",
        "bitcoind data directory (where its cookie file is)",
    )
    .plugin("bcli"),
    string("bitcoin-cli", "Path of the bitcoin-cli program").plugin("bcli"),
    string("bitcoin-rpcuser", "bitcoind JSON-RPC user name").plugin("bcli"),
    string("bitcoin-rpcpassword", "bitcoind JSON-RPC password").plugin("bcli"),
    string("bitcoin-rpcconnect", "bitcoind JSON-RPC host").plugin("bcli"),
    u32_opt("bitcoin-rpcport", "bitcoind JSON-RPC port")
        .check(Check::Port)
        .plugin("bcli"),
    u64_opt(
        "bitcoin-rpcclienttimeout",
        "Seconds to wait for one bitcoind reply",
    )
    .with_default("60")
    .plugin("bcli"),
    u64_opt(
        "bitcoin-retry-timeout",
        "Seconds to keep retrying bitcoind before giving up",
    )
    .with_default("60")
    .plugin("bcli"),
    i32_opt(
        "rescan",
        "Blocks to rescan back from the tip at start, or a height if negative",
    )
    .per_network("15", "30"),
    // Node announcement and fees.
    string("alias", "Node alias, at most 32 bytes")
        .check(Check::Alias)
        .keep_whitespace(),
    string("rgb", "Node colour as RRGGBB hex").check(Check::Rgb),
    u32_opt(
        "fee-base",
        "Base routing fee in millisatoshi for new channels",
    )
    .per_network("1000", "1"),
    u32_opt(
        "fee-per-satoshi",
        "Proportional routing fee in millionths for new channels",
    )
    .with_default("10"),
    u64_opt(
        "min-capacity-sat",
        "Refuse channels that could not carry this many satoshi",
    )
    .with_default("10000")
    .dynamic(),
    boolean(
        "ignore-fee-limits",
        "Accept any feerate a peer proposes (dangerous)",
    )
    .per_network("false", "true"),
    u32_opt(
        "commit-time",
        "Milliseconds to wait before sending a commitment",
    )
    .arg("<millseconds>")
    .with_default("10"),
    string(
        "force-feerates",
        "Fixed feerates in sat/kw, '/'-separated (testing networks)",
    )
    .check(Check::Feerates)
    .listing(Listing::WhenSet),
    msat("htlc-minimum-msat", "Smallest HTLC new channels forward").with_default("0"),
    msat("htlc-maximum-msat", "Largest HTLC new channels forward")
        .with_default("18446744073709551615"),
    string(
        "announce-addr-discovered",
        "Announce addresses peers report seeing: true, false or auto",
    )
    .with_default("auto")
    .check(Check::AutoBool),
    u32_opt(
        "announce-addr-discovered-port",
        "Port announced with discovered addresses",
    )
    .computed(Computed::LightningPort)
    .check(Check::Port),
    // Channels and HTLCs.
    flag(
        "large-channels",
        "Ignored: channels over 16777215 sat are always allowed",
    )
    .aliases(&["wumbo"])
    .hidden(),
    u32_opt(
        "watchtime-blocks",
        "Blocks a peer must wait after closing unilaterally",
    )
    .per_network("144", "6"),
    u32_opt(
        "funding-confirms",
        "Confirmations needed before a channel opened to us is usable",
    )
    .per_network("3", "1"),
    u64_opt(
        "commit-fee",
        "Percentage of the estimated fee to use for commitment transactions",
    )
    .with_default("100"),
    u32_opt(
        "commit-feerate-offset",
        "Extra feerate the opener adds to its feerate updates",
    )
    .with_default("5"),
    u32_opt(
        "max-concurrent-htlcs",
        "HTLCs in flight per direction per channel (1 to 483)",
    )
    .per_network("30", "483"),
    msat(
        "max-dust-htlc-exposure-msat",
        "Most value in dust HTLCs a channel may hold",
    )
    .with_default("50000000"),
    u32_opt(
        "cltv-delta",
        "Blocks between an incoming HTLC's expiry and the outgoing one's",
    )
    .per_network("34", "6"),
    u32_opt(
        "cltv-final",
        "Blocks of margin required on payments we receive",
    )
    .per_network("18", "10"),
    OptionSpec::new(
        "accept-htlc-tlv-type",
        OptKind::MultiInt,
        "Accept HTLC onions carrying this unknown even TLV type (repeatable)",
    ),
    msat(
        "min-emergency-msat",
        "Funds kept in the wallet to close anchor channels",
    )
    .with_default("25000000")
    .check(Check::WholeSats),
    boolean(
        "require-confirmed-inputs",
        "Require confirmed inputs from peers in dual-funded opens",
    )
    .with_default("false"),
    // Networking.
    multi(
        "addr",
        "Listen on this address and announce it (repeatable)",
    ),
    multi(
        "bind-addr",
        "Listen on this address without announcing it (repeatable)",
    ),
    multi(
        "announce-addr",
        "Announce this address without listening on it (repeatable)",
    ),
    boolean(
        "announce-addr-dns",
        "Deprecated: announce host names as DNS addresses",
    )
    .with_default("false")
    .hidden(),
    flag("offline", "Neither listen nor reconnect to peers"),
    u32_opt(
        "max-connections",
        "Fulgur: most peer connections open at once (incoming ones beyond it are closed)",
    )
    .with_default("1000"),
    boolean(
        "autolisten",
        "Listen on the default port when no address is given",
    )
    .with_default("true"),
    string("proxy", "SOCKS5 proxy for Tor (and other) connections").listing(Listing::WhenSet),
    boolean(
        "always-use-proxy",
        "Send every connection through the proxy; no DNS lookups",
    )
    .with_default("false"),
    flag(
        "disable-dns",
        "Do not look up peers' addresses through DNS seeds",
    ),
    boolean(
        "message-padding",
        "Pad messages to peers to uniform lengths",
    )
    .with_default("false"),
    string("tor-service-password", "Password for the Tor control port").listing(Listing::WhenSet),
    u32_opt(
        "autoconnect-seeker-peers",
        "Keep this many peers to exchange gossip with",
    )
    .with_default("10"),
    multi(
        "payment-fronting-node",
        "Route invoices and offers through this peer (repeatable)",
    )
    .check(Check::NodeId),
    flag(
        "invoices-onchain-fallback",
        "Add an on-chain fallback address to invoices",
    ),
    // Plugins.
    multi("plugin", "Start this plugin (repeatable)"),
    multi(
        "plugin-dir",
        "Start every plugin found in this directory (repeatable)",
    ),
    multi(
        "important-plugin",
        "Start this plugin and stop when it stops (repeatable)",
    ),
    multi(
        "disable-plugin",
        "Do not start the plugin with this name or path (repeatable)",
    ),
    flag(
        "clear-plugins",
        "Forget the plugins and plugin directories given before this",
    ),
    // Experimental.
    flag("experimental-dual-fund", "Enable dual-funded channel opens"),
    flag(
        "experimental-splicing",
        "Deprecated: splicing is always available",
    ),
    flag(
        "experimental-shutdown-wrong-funding",
        "Allow closing with a corrected funding txid",
    ),
    flag(
        "experimental-peer-storage",
        "Deprecated: peer storage is always on",
    )
    .hidden(),
    flag(
        "experimental-anchors",
        "Ignored: anchor channels are always supported",
    )
    .hidden(),
    string("bookkeeper-dir", "Old bookkeeper directory to migrate from").hidden(),
    string("bookkeeper-db", "Old bookkeeper database to migrate from").hidden(),
    // Options Core Lightning's bundled plugins provide: accepted so existing config files
    // keep working.
    flag("disable-mpp", "Never split payments into parts").plugin("pay"),
    flag(
        "fetchinvoice-noconnect",
        "Do not connect directly to fetch offers' invoices",
    )
    .plugin("offers"),
    u64_opt("autoclean-cycle", "Seconds between two clean-ups")
        .listing(Listing::WhenSet)
        .dynamic()
        .plugin("autoclean"),
    u64_opt(
        "autoclean-networkevents-age",
        "Age in seconds after which network events go",
    )
    .listing(Listing::WhenSet)
    .dynamic()
    .plugin("autoclean"),
    u64_opt(
        "autoclean-succeededforwards-age",
        "Age in seconds after which settled forwards go",
    )
    .listing(Listing::WhenSet)
    .dynamic()
    .plugin("autoclean"),
    u64_opt(
        "autoclean-failedforwards-age",
        "Age in seconds after which failed forwards go",
    )
    .listing(Listing::WhenSet)
    .dynamic()
    .plugin("autoclean"),
    u64_opt(
        "autoclean-succeededpays-age",
        "Age in seconds after which completed payments go",
    )
    .listing(Listing::WhenSet)
    .dynamic()
    .plugin("autoclean"),
    u64_opt(
        "autoclean-failedpays-age",
        "Age in seconds after which failed payments go",
    )
    .listing(Listing::WhenSet)
    .dynamic()
    .plugin("autoclean"),
    u64_opt(
        "autoclean-paidinvoices-age",
        "Age in seconds after which paid invoices go",
    )
    .listing(Listing::WhenSet)
    .dynamic()
    .plugin("autoclean"),
    u64_opt(
        "autoclean-expiredinvoices-age",
        "Age in seconds after which expired invoices go",
    )
    .listing(Listing::WhenSet)
    .dynamic()
    .plugin("autoclean"),
    boolean("xpay-handle-pay", "Let xpay answer pay commands")
        .listing(Listing::WhenSet)
        .dynamic()
        .plugin("xpay"),
    boolean(
        "xpay-slow-mode",
        "Wait for every part of a payment before returning",
    )
    .listing(Listing::WhenSet)
    .dynamic()
    .plugin("xpay"),
    multi(
        "xpay-user-layer",
        "Layer used for every xpay payment (repeatable)",
    )
    .listing(Listing::WhenSet)
    .plugin("xpay"),
    string("grpc-host", "Address the gRPC server listens on")
        .listing(Listing::WhenSet)
        .plugin("cln-grpc"),
    u32_opt("grpc-port", "Port the gRPC server listens on")
        .check(Check::Port)
        .listing(Listing::WhenSet)
        .plugin("cln-grpc"),
    u32_opt(
        "grpc-msg-buffer-size",
        "Notifications buffered for gRPC clients",
    )
    .listing(Listing::WhenSet)
    .plugin("cln-grpc"),
    u32_opt(
        "clnrest-port",
        "Port of the REST server (disabled when unset)",
    )
    .check(Check::Port)
    .listing(Listing::WhenSet)
    .plugin("clnrest"),
    string("clnrest-protocol", "REST server protocol (http or https)")
        .listing(Listing::WhenSet)
        .plugin("clnrest"),
    string("clnrest-host", "Address the REST server listens on")
        .listing(Listing::WhenSet)
        .plugin("clnrest"),
    string(
        "clnrest-certs",
        "Directory of the REST server's certificate and key",
    )
    .listing(Listing::WhenSet)
    .plugin("clnrest"),
    string(
        "clnrest-cors-origins",
        "Origins allowed to use the REST server",
    )
    .listing(Listing::WhenSet)
    .plugin("clnrest"),
    string(
        "clnrest-csp",
        "Content-Security-Policy header of the REST server",
    )
    .listing(Listing::WhenSet)
    .plugin("clnrest"),
    string(
        "clnrest-swagger-root",
        "Root URL of the REST server's Swagger UI",
    )
    .listing(Listing::WhenSet)
    .plugin("clnrest"),
    multi(
        "wss-bind-addr",
        "Address of the WebSocket proxy (repeatable)",
    )
    .listing(Listing::WhenSet)
    .plugin("wss-proxy"),
    string(
        "wss-certs",
        "Directory of the WebSocket proxy's certificate and key",
    )
    .listing(Listing::WhenSet)
    .plugin("wss-proxy"),
    string(
        "exposesecret-passphrase",
        "Passphrase that unlocks the exposesecret command",
    )
    .listing(Listing::WhenSet)
    .plugin("exposesecret"),
    u64_opt("askrene-timeout", "Seconds route finding may take")
        .listing(Listing::WhenSet)
        .dynamic()
        .plugin("askrene"),
    u64_opt("askrene-max-threads", "Routes computed at the same time")
        .listing(Listing::WhenSet)
        .dynamic()
        .plugin("askrene"),
    string(
        "bkpr-currency",
        "Currency (ISO 4217) bookkeeper records rates in",
    )
    .listing(Listing::WhenSet)
    .dynamic()
    .plugin("bookkeeper"),
    multi(
        "currencyrate-add-source",
        "Exchange-rate source as NAME,URL,MEMBERS (repeatable)",
    )
    .listing(Listing::WhenSet)
    .plugin("cln-currencyrate"),
    multi(
        "currencyrate-disable-source",
        "Do not use this exchange-rate source (repeatable)",
    )
    .listing(Listing::WhenSet)
    .plugin("cln-currencyrate"),
    u64_opt(
        "bwatch-poll-interval",
        "Milliseconds between polls for new blocks",
    )
    .listing(Listing::WhenSet)
    .plugin("bwatch"),
    flag("experimental-bwatch", "Enable the bwatch chain watcher")
        .listing(Listing::WhenSet)
        .plugin("bwatch"),
    flag("experimental-lsps-client", "Enable the LSPS client")
        .listing(Listing::WhenSet)
        .plugin("cln-lsps-client"),
    flag(
        "experimental-lsps2-service",
        "Offer LSPS2 just-in-time channels",
    )
    .listing(Listing::WhenSet)
    .plugin("cln-lsps-service"),
    string(
        "experimental-lsps2-promise-secret",
        "64 hex characters signing LSPS2 promises",
    )
    .listing(Listing::WhenSet)
    .plugin("cln-lsps-service"),
    // Developer options (need --developer).
    string("dev-debugger", "Start a debugger for this subprocess").dev(),
    flag(
        "dev-no-plugin-checksum",
        "Do not checksum plugins to spot changes",
    )
    .dev(),
    flag(
        "dev-builtin-plugins-unimportant",
        "Allow stopping built-in plugins",
    )
    .dev(),
    flag("dev-no-reconnect", "Never reconnect to peers by ourselves").dev(),
    flag(
        "dev-no-reconnect-private",
        "Never reconnect to peers with only private channels",
    )
    .dev(),
    flag(
        "dev-fast-reconnect",
        "Cap the reconnection delay at 3 seconds",
    )
    .dev(),
    flag(
        "dev-fail-on-subdaemon-fail",
        "Stop when any subdaemon fails",
    )
    .dev(),
    string(
        "dev-disconnect",
        "File listing the points at which to disconnect",
    )
    .dev(),
    flag(
        "dev-allow-localhost",
        "Announce and accept localhost addresses",
    )
    .dev(),
    u32_opt("dev-bitcoind-poll", "Seconds between polls of bitcoind").dev(),
    u32_opt(
        "dev-handshake-timeout",
        "Fulgur: seconds allowed for a peer's BOLT 8 handshake, and then for its init",
    )
    .dev(),
    u32_opt(
        "dev-ping-idle",
        "Fulgur: seconds of peer silence before we ping it",
    )
    .dev(),
    u32_opt(
        "dev-pong-timeout",
        "Fulgur: seconds to wait for a pong before hanging up",
    )
    .dev(),
    flag("dev-fast-gossip", "Use short gossip timers").dev(),
    flag(
        "dev-fast-gossip-prune",
        "Prune stale gossip after 120 seconds",
    )
    .dev(),
    string("dev-force-privkey", "Use this node private key").dev(),
    string("dev-force-bip32-seed", "Use this BIP32 seed").dev(),
    string("dev-force-channel-secrets", "Use these per-channel secrets").dev(),
    u32_opt(
        "dev-max-funding-unconfirmed-blocks",
        "Blocks to wait for a peer's funding",
    )
    .dev(),
    string("dev-force-tmp-channel-id", "Use this temporary channel id").dev(),
    flag(
        "dev-no-htlc-timeout",
        "Do not fail channels over unconfirmed HTLCs",
    )
    .dev(),
    flag(
        "dev-fail-process-onionpacket",
        "Fail every onion we process",
    )
    .dev(),
    flag("dev-no-version-checks", "Skip subdaemon version checks").dev(),
    string(
        "dev-force-features",
        "Override the feature bits we advertise",
    )
    .dev(),
    u32_opt(
        "dev-timeout-secs",
        "Seconds to wait for a peer's init message",
    )
    .dev(),
    flag("dev-no-modern-onion", "Ignore modern onion messages").dev(),
    i32_opt(
        "dev-disable-commit-after",
        "Stop committing after this many commitments",
    )
    .dev(),
    flag(
        "dev-no-ping-timer",
        "Do not hang up on peers that miss pings",
    )
    .dev(),
    u32_opt("dev-onion-reply-length", "Length of onion error replies").dev(),
    u32_opt(
        "dev-max-fee-multiplier",
        "How far above ours a peer's feerate may be",
    )
    .dev(),
    boolean(
        "dev-allowdustreserve",
        "Allow channel reserves below the dust limit",
    )
    .dev(),
    flag("dev-any-channel-type", "Offer and accept any channel type").dev(),
    flag(
        "dev-allow-shutdown-destination-change",
        "Allow changing the close address",
    )
    .dev(),
    flag(
        "dev-hsmd-no-preapprove-check",
        "Signer skips pre-approval checks",
    )
    .dev(),
    flag(
        "dev-hsmd-fail-preapprove",
        "Signer refuses every pre-approval",
    )
    .dev(),
    u32_opt(
        "dev-fd-limit-multiplier",
        "File descriptors allowed per channel",
    )
    .dev(),
    flag(
        "dev-handshake-no-reply",
        "Send no init message after connecting",
    )
    .dev(),
    flag(
        "dev-strict-forwarding",
        "Forward only over the requested channel",
    )
    .dev(),
    flag("dev-throttle-gossip", "Slow gossip right down").dev(),
    flag(
        "dev-limit-connections-inflight",
        "Limit connections being set up",
    )
    .dev(),
    u32_opt(
        "dev-low-prio-anchor-blocks",
        "Target blocks for low-priority anchor spends",
    )
    .dev(),
    string("dev-crash-after", "Crash after this many seconds").dev(),
    flag(
        "dev-warn-on-overgrind",
        "Warn about signatures that are not 71 bytes",
    )
    .dev(),
    string("dev-save-plugin-io", "Directory to save plugin traffic to").dev(),
    flag("dev-keep-nagle", "Do not set TCP_NODELAY on peer sockets").dev(),
    flag("dev-debug-self", "Open a debugger on ourselves at start").dev(),
];

/// The option called `name` (or with `name` as an alias), if any.
pub fn find(name: &str) -> Option<&'static OptionSpec> {
    OPTIONS.iter().find(|spec| spec.is_named(name))
}

/// The network a network-selecting flag (`mainnet`, `testnet`, ...) chooses.
pub fn network_flag(name: &str) -> Option<fulgur_types::Network> {
    use fulgur_types::Network;
    match name {
        "mainnet" => Some(Network::Bitcoin),
        "testnet" => Some(Network::Testnet),
        "testnet4" => Some(Network::Testnet4),
        "signet" => Some(Network::Signet),
        "regtest" => Some(Network::Regtest),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn names_are_unique_and_plain() {
        let mut seen = HashSet::new();
        for spec in OPTIONS {
            for name in std::iter::once(&spec.name).chain(spec.aliases) {
                assert!(seen.insert(*name), "duplicate option {name}");
                assert!(
                    !name.starts_with('-') && !name.contains('='),
                    "bad name {name}"
                );
            }
            assert!(!spec.help.is_empty(), "{} has no help", spec.name);
        }
    }

    #[test]
    fn flags_have_no_default_and_developer_options_are_hidden() {
        for spec in OPTIONS {
            if spec.kind == OptKind::Flag || spec.kind.is_multi() {
                assert_eq!(spec.default, DefaultValue::None, "{}", spec.name);
            }
            if spec.developer_only {
                assert_eq!(spec.listing, Listing::WhenSet, "{}", spec.name);
                assert!(spec.name.starts_with("dev-"), "{}", spec.name);
            }
        }
    }

    #[test]
    fn lookup_by_alias() {
        assert_eq!(find("wumbo").map(|s| s.name), Some("large-channels"));
        assert!(find("no-such-option").is_none());
        assert_eq!(
            network_flag("mainnet"),
            Some(fulgur_types::Network::Bitcoin)
        );
        assert_eq!(network_flag("network"), None);
    }
}
