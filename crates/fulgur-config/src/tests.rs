//! End-to-end tests of loading: precedence between the command line and config files,
//! includes, sources, every error message, network selection, accumulation of repeatable
//! options, `listconfigs` shapes (checked against CLN's schema when it is available), help.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly on setup errors.

use std::path::{Path, PathBuf};

use serde_json::{json, Value as Json};

use super::*;

/// A temporary home directory with `.lightning` in it.
struct Home {
    dir: tempfile::TempDir,
}

impl Home {
    fn new() -> Home {
        let home = Home {
            dir: tempfile::tempdir().unwrap(),
        };
        std::fs::create_dir_all(home.ldir()).unwrap();
        home
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn ldir(&self) -> PathBuf {
        self.path().join(".lightning")
    }

    /// Writes `<lightning-dir>/<rel>` and returns its path.
    fn write(&self, rel: &str, text: &str) -> PathBuf {
        let path = self.ldir().join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        path
    }

    fn load(&self, args: &[&str]) -> Result<Loaded, ConfigError> {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        load(&args, self.path(), self.path())
    }

    fn config(&self, args: &[&str]) -> Config {
        match self.load(args).unwrap() {
            Loaded::Run(config) => *config,
            other => panic!("expected a config, got {other:?}"),
        }
    }

    fn error(&self, args: &[&str]) -> String {
        self.load(args).unwrap_err().to_string()
    }
}

fn entry(config: &Config, name: &str) -> Json {
    let map = config.listconfigs(Some(name)).unwrap();
    map.get(name).cloned().unwrap_or(Json::Null)
}

#[test]
fn defaults_without_any_file() {
    let home = Home::new();
    let config = home.config(&[]);
    assert_eq!(config.network, Network::Bitcoin);
    assert_eq!(config.lightning_dir, home.ldir());
    assert_eq!(config.rpc_file, home.ldir().join("bitcoin/lightning-rpc"));
    assert_eq!(config.rpc_file_mode, 0o600);
    assert_eq!(config.pid_file, home.ldir().join("lightningd-bitcoin.pid"));
    assert_eq!(config.log_level, LogLevel::Info);
    assert!(config.log_timestamps && config.autolisten && config.allow_deprecated_apis);
    assert!(!config.daemon && !config.developer && !config.offline);
    assert_eq!(config.alias, None);
    assert_eq!(config.rgb, None);
    assert_eq!(config.bitcoin.rpcclienttimeout, 60);
    assert_eq!(config.bitcoin.retry_timeout, 60);
    assert_eq!(config.get_u64("funding-confirms"), Some(3));
    assert_eq!(config.get_u64("cltv-delta"), Some(34));
    assert_eq!(config.get_u64("watchtime-blocks"), Some(144));
    assert_eq!(config.get_u64("htlc-maximum-msat"), Some(u64::MAX));
    assert_eq!(config.get_i64("rescan"), Some(15));
    assert_eq!(config.get_u64("announce-addr-discovered-port"), Some(9735));
    assert_eq!(config.get_bool("ignore-fee-limits"), Some(false));
    assert_eq!(
        config.get_str("announce-addr-discovered").as_deref(),
        Some("auto")
    );
    assert_eq!(config.source("cltv-delta"), Some(Source::Default));
    assert_eq!(
        config.wallet,
        format!(
            "sqlite3://{}/lightningd.sqlite3",
            home.ldir().join("bitcoin").display()
        )
    );
}

#[test]
fn test_networks_have_their_own_defaults() {
    let home = Home::new();
    let config = home.config(&["--regtest"]);
    assert_eq!(config.network, Network::Regtest);
    assert_eq!(config.get_u64("funding-confirms"), Some(1));
    assert_eq!(config.get_u64("fee-base"), Some(1));
    assert_eq!(config.get_u64("max-concurrent-htlcs"), Some(483));
    assert_eq!(config.get_u64("announce-addr-discovered-port"), Some(19846));
    assert_eq!(config.pid_file, home.ldir().join("lightningd-regtest.pid"));
}

#[test]
fn cmdline_beats_network_config_beats_general_config() {
    let home = Home::new();
    let general = home.write(
        "config",
        "network=regtest\nalias=general\ncltv-delta=10\nrgb=010101\n",
    );
    let network = home.write("regtest/config", "alias=network\ncltv-delta=20\n");
    let config = home.config(&["--alias=cmdline"]);
    assert_eq!(config.network, Network::Regtest);
    assert_eq!(config.alias.as_deref(), Some("cmdline"));
    assert_eq!(config.source("alias"), Some(Source::Cmdline));
    assert_eq!(config.get_u64("cltv-delta"), Some(20));
    assert_eq!(
        config.source("cltv-delta"),
        Some(Source::File {
            path: network.clone(),
            line: 2
        })
    );
    assert_eq!(config.rgb, Some([1, 1, 1]));
    assert_eq!(
        entry(&config, "rgb"),
        json!({"value_str": "010101", "source": format!("{}:4", general.display())})
    );
    assert_eq!(
        entry(&config, "network"),
        json!({"value_str": "regtest", "source": format!("{}:1", general.display())})
    );
    assert_eq!(
        entry(&config, "cltv-delta")["source"],
        json!(format!("{}:2", network.display()))
    );
}

#[test]
fn cmdline_network_picks_the_network_file() {
    let home = Home::new();
    home.write("config", "network=regtest\n");
    home.write("regtest/config", "alias=regtest-file\n");
    home.write("signet/config", "alias=signet-file\n");
    let config = home.config(&["--network", "signet"]);
    assert_eq!(config.network, Network::Signet);
    assert_eq!(config.alias.as_deref(), Some("signet-file"));
    assert_eq!(
        entry(&config, "network"),
        json!({"value_str": "signet", "source": "cmdline"})
    );
    // The flag aliases set the network too; `network` itself then stays at its default source.
    let config = home.config(&["--testnet4"]);
    assert_eq!(config.network, Network::Testnet4);
    assert_eq!(entry(&config, "network")["value_str"], json!("testnet4"));
    assert_eq!(
        entry(&config, "testnet4"),
        json!({"set": true, "source": "cmdline"})
    );
    assert_eq!(
        entry(&config, "regtest"),
        json!({"set": false, "source": "default"})
    );
    // The network file may not choose a network.
    let file = home.write("regtest/config", "mainnet\n");
    assert_eq!(
        home.error(&[]),
        format!(
            "config file {} line 1: mainnet: not permitted in network-specific configuration files",
            file.display()
        )
    );
}

#[test]
fn comments_blank_lines_and_includes() {
    let home = Home::new();
    let general = home.write(
        "config",
        "# a comment\n\n  include extra/more.conf  \n   log-prefix=pre \nfee-base=7\n",
    );
    let more = home.write(
        "extra/more.conf",
        "# included\nfee-base=5\nalias=included\n",
    );
    let config = home.config(&[]);
    assert_eq!(config.get_u64("fee-base"), Some(7));
    assert_eq!(
        config.source("fee-base"),
        Some(Source::File {
            path: general.clone(),
            line: 5
        })
    );
    assert_eq!(config.alias.as_deref(), Some("included"));
    assert_eq!(
        config.source("alias"),
        Some(Source::File {
            path: more.clone(),
            line: 3
        })
    );
    // log-prefix keeps trailing whitespace.
    assert_eq!(config.log_prefix, "pre ");
}

#[test]
fn include_loop_is_an_error() {
    let home = Home::new();
    let general = home.write("config", "include config\n");
    assert_eq!(
        home.error(&[]),
        format!("include loop with {} and config", general.display())
    );
}

#[test]
fn conf_replaces_the_default_files() {
    let home = Home::new();
    home.write("config", "alias=general\n");
    home.write("bitcoin/config", "cltv-delta=99\n");
    let other = home.path().join("other.conf");
    std::fs::write(&other, "alias=explicit\nlightning-dir=elsewhere\n").unwrap();
    // Relative to the starting directory (the home directory in these tests).
    let config = home.config(&["--conf=other.conf"]);
    assert_eq!(config.alias.as_deref(), Some("explicit"));
    assert_eq!(config.get_u64("cltv-delta"), Some(34));
    assert_eq!(config.conf_file.as_deref(), Some(other.as_path()));
    assert_eq!(config.lightning_dir, home.path().join("elsewhere"));
    assert_eq!(
        entry(&config, "conf"),
        json!({"value_str": other.display().to_string(), "source": "cmdline"})
    );
    let missing = home.path().join("missing.conf");
    let err = home.error(&["--conf", "missing.conf"]);
    assert!(
        err.starts_with(&format!("opening and reading {}: ", missing.display())),
        "{err}"
    );
    std::fs::write(&other, "conf=/etc/x\n").unwrap();
    assert_eq!(
        home.error(&["--conf=other.conf"]),
        format!(
            "config file {} line 1: conf=/etc/x: not permitted in configuration files",
            other.display()
        )
    );
}

#[test]
fn lightning_dir_from_cmdline_only() {
    let home = Home::new();
    let dir = home.path().join("custom");
    std::fs::create_dir_all(dir.join("regtest")).unwrap();
    std::fs::write(dir.join("config"), "regtest\n").unwrap();
    std::fs::write(dir.join("regtest/config"), "rpc-file=sock\n").unwrap();
    let config = home.config(&["--lightning-dir=custom"]);
    assert_eq!(config.lightning_dir, dir);
    assert_eq!(config.rpc_file, dir.join("regtest/sock"));
    assert_eq!(
        entry(&config, "lightning-dir"),
        json!({"value_str": dir.display().to_string(), "source": "cmdline"})
    );
    let general = home.write("config", "lightning-dir=/tmp\n");
    assert_eq!(
        home.error(&[]),
        format!(
            "config file {} line 1: lightning-dir=/tmp: not permitted in implicit configuration files",
            general.display()
        )
    );
}

#[test]
fn error_messages() {
    let home = Home::new();
    let cases: &[(&[&str], &str)] = &[
        (&["--foo"], "--foo: unknown option"),
        (&["--foo", "bar"], "--foo=bar: unknown option"),
        (&["-q"], "-q: unknown option"),
        (&["stray"], "no arguments accepted: 'stray'"),
        (
            &["--cltv-delta=abc"],
            "--cltv-delta=abc: 'abc' is not a number",
        ),
        (
            &["--cltv-delta=99999999999"],
            "--cltv-delta=99999999999: '99999999999' is out of range",
        ),
        (
            &["--rgb=blue"],
            "--rgb=blue: rgb 'blue' is not six hex digits",
        ),
        (
            &["--network=moon"],
            "--network=moon: unknown network name 'moon'",
        ),
        (
            &["--log-level=loud"],
            "--log-level=loud: unknown log level loud",
        ),
        (
            &["--rpc-file-mode=777"],
            "--rpc-file-mode=777: '777' is not a file mode",
        ),
        (&["--daemon=yes"], "--daemon=yes: doesn't allow an argument"),
        (&["--alias"], "--alias: requires an argument"),
        (
            &["--autolisten=maybe"],
            "--autolisten=maybe: invalid argument 'maybe'",
        ),
        (
            &["--htlc-minimum-msat=x"],
            "--htlc-minimum-msat=x: unable to parse millisatoshi 'x'",
        ),
        (
            &["--dev-fast-gossip"],
            "--dev-fast-gossip: requires --developer",
        ),
        (
            &["--log-level=debug:x:/nope"],
            "--log-level=debug:x:/nope: unknown log file /nope",
        ),
    ];
    for (args, message) in cases {
        assert_eq!(home.error(args), *message, "for {args:?}");
    }
    let general = home.write("config", "alias=x\n\n# c\nfoo=bar\n");
    assert_eq!(
        home.error(&[]),
        format!(
            "config file {} line 4: foo=bar: unknown option",
            general.display()
        )
    );
    home.write("config", "fee-base = 12 \n");
    assert_eq!(home.config(&[]).get_u64("fee-base"), Some(12));
}

#[test]
fn developer_options_and_mode() {
    let home = Home::new();
    let config = home.config(&["--developer", "--dev-fast-gossip", "--dev-bitcoind-poll=2"]);
    assert!(config.developer);
    assert!(!config.allow_deprecated_apis);
    assert_eq!(
        entry(&config, "allow-deprecated-apis"),
        json!({"value_bool": false, "source": "default"})
    );
    assert_eq!(config.get_bool("dev-fast-gossip"), Some(true));
    assert_eq!(config.get_u64("dev-bitcoind-poll"), Some(2));
    let all = config.listconfigs(None).unwrap();
    assert_eq!(
        all["dev-fast-gossip"],
        json!({"set": true, "source": "cmdline"})
    );
    assert!(!all.contains_key("dev-no-reconnect"));
    // Asked by name, an unset developer flag is shown.
    assert_eq!(
        entry(&config, "dev-no-reconnect"),
        json!({"set": false, "source": "default"})
    );
    let config = home.config(&["--developer", "--allow-deprecated-apis=true"]);
    assert!(config.allow_deprecated_apis);
}

#[test]
fn repeatable_options_accumulate_across_sources() {
    let home = Home::new();
    let general = home.write("config", "addr=1.2.3.4:9735\nlog-file=general.log\n");
    let network = home.write("bitcoin/config", "addr=[::]:9735\n");
    let config = home.config(&[
        "--addr=localhost:1",
        "--log-file=-",
        "--log-level=debug:gossipd",
    ]);
    assert_eq!(
        config.addr,
        vec!["1.2.3.4:9735", "[::]:9735", "localhost:1"]
    );
    assert_eq!(
        entry(&config, "addr"),
        json!({
            "values_str": ["1.2.3.4:9735", "[::]:9735", "localhost:1"],
            "sources": [format!("{}:1", general.display()), format!("{}:1", network.display()), "cmdline"]
        })
    );
    assert_eq!(
        config.log_files,
        vec![
            LogTarget::File(home.ldir().join("bitcoin/general.log")),
            LogTarget::Stdout
        ]
    );
    assert_eq!(config.log_level, LogLevel::Info);
    assert_eq!(
        config.log_filters,
        vec![LogFilter {
            level: LogLevel::Debug,
            filter: "gossipd".into(),
            log_file: None
        }]
    );
    // The shown level is the default one; the source is the last log-level given.
    assert_eq!(
        entry(&config, "log-level"),
        json!({"value_str": "info", "source": "cmdline"})
    );
    let config = home.config(&["--log-level=trace", "--log-level=io:chan#3:general.log"]);
    assert_eq!(config.log_level, LogLevel::Trace);
    assert_eq!(
        config.log_filters[0].log_file.as_deref(),
        Some("general.log")
    );
    assert_eq!(
        entry(&config, "bind-addr"),
        json!({"values_str": [], "sources": []})
    );
    assert_eq!(
        entry(&config, "accept-htlc-tlv-type"),
        json!({"values_int": [], "sources": []})
    );
    let config = home.config(&["--accept-htlc-tlv-type=65537"]);
    assert_eq!(
        entry(&config, "accept-htlc-tlv-type"),
        json!({"values_int": [65537], "sources": ["cmdline"]})
    );
}

#[test]
fn single_options_take_the_last_value() {
    let home = Home::new();
    let config = home.config(&["--alias=one", "--alias=two"]);
    assert_eq!(config.alias.as_deref(), Some("two"));
    assert_eq!(config.get_multi("alias"), vec!["one", "two"]);
}

#[test]
fn listconfigs_shapes() {
    let home = Home::new();
    let mut config = home.config(&[
        "--regtest",
        "--experimental-dual-fund",
        "--htlc-minimum-msat=5sat",
        "--rpc-file-mode=0660",
        "--min-capacity-sat=20000",
        "--wumbo",
    ]);
    let all = config.listconfigs(None).unwrap();
    let keys: Vec<&String> = all.keys().collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
    assert_eq!(
        all["experimental-dual-fund"],
        json!({"set": true, "source": "cmdline"})
    );
    assert_eq!(all["daemon"], json!({"set": false, "source": "default"}));
    assert_eq!(
        all["log-timestamps"],
        json!({"value_bool": true, "source": "default"})
    );
    assert_eq!(
        all["funding-confirms"],
        json!({"value_int": 1, "source": "default"})
    );
    assert_eq!(all["rescan"], json!({"value_int": 30, "source": "default"}));
    assert_eq!(
        all["htlc-minimum-msat"],
        json!({"value_msat": 5000, "source": "cmdline"})
    );
    assert_eq!(
        all["htlc-maximum-msat"],
        json!({"value_msat": 18446744073709551615u64, "source": "default"})
    );
    assert_eq!(
        all["rpc-file"],
        json!({"value_str": "lightning-rpc", "source": "default"})
    );
    assert_eq!(
        all["rpc-file-mode"],
        json!({"value_str": "0660", "source": "cmdline"})
    );
    assert_eq!(
        all["min-capacity-sat"],
        json!({"value_int": 20000, "source": "cmdline", "dynamic": true})
    );
    assert_eq!(
        all["large-channels"],
        json!({"set": true, "source": "cmdline"})
    );
    assert_eq!(all["plugin"], json!({"values_str": [], "sources": []}));
    assert_eq!(
        all["announce-addr-discovered-port"],
        json!({"value_int": 19846, "source": "default"})
    );
    assert_eq!(
        all["pid-file"],
        json!({"value_str": home.ldir().join("lightningd-regtest.pid").display().to_string(), "source": "default"})
    );
    // No value and not set: left out.
    for absent in [
        "conf",
        "wallet",
        "proxy",
        "alias",
        "rgb",
        "log-prefix",
        "bitcoin-rpcuser",
    ] {
        assert!(!all.contains_key(absent), "{absent} should be absent");
    }
    assert!(config.listconfigs(Some("no-such-thing")).is_none());
    assert_eq!(
        config.listconfigs(Some("wallet")),
        Some(serde_json::Map::new())
    );
    // Asked by alias, shown under the option's name.
    assert!(config
        .listconfigs(Some("wumbo"))
        .unwrap()
        .contains_key("large-channels"));
    config.set_generated_identity("SILENTARTIST", [2, 45, 34]);
    assert_eq!(
        entry(&config, "alias"),
        json!({"value_str": "SILENTARTIST", "source": "default"})
    );
    assert_eq!(
        entry(&config, "rgb"),
        json!({"value_str": "022d22", "source": "default"})
    );
}

#[test]
fn help_and_version() {
    let home = Home::new();
    assert_eq!(home.load(&["--version"]).unwrap(), Loaded::Version);
    assert_eq!(home.load(&["-V", "--foo"]).unwrap(), Loaded::Version);
    let Loaded::Help(text) = home.load(&["--regtest", "-h"]).unwrap() else {
        panic!("no help")
    };
    assert!(text.contains("network: regtest"), "{text}");
    let line = |name: &str| {
        text.lines()
            .find(|l| l.starts_with(name))
            .map(str::to_string)
            .unwrap_or_default()
    };
    assert!(line("--funding-confirms=<arg>").ends_with("(default: 1)"));
    assert!(line("--lightning-dir=<dir>").contains(&home.ldir().display().to_string()));
    assert!(line("--daemon ").contains("background"));
    assert!(line("-h|--help").contains("Print"));
    assert!(!text.contains("--dev-fast-gossip"));
    let options: Vec<&str> = text.lines().filter(|l| l.starts_with('-')).collect();
    let keys: Vec<&str> = options.iter().map(|l| help::sort_key(l)).collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
    assert!(VERSION.starts_with('v'));
}

#[test]
fn locate_ignores_daemon_options() {
    let home = Home::new();
    home.write("config", "regtest\nsome-plugin-option=1\nalias=x\n");
    home.write("regtest/config", "rpc-file=rpc.sock\nfee-base=nonsense\n");
    let location = locate(&[], home.path(), home.path()).unwrap();
    assert_eq!(location.network, Network::Regtest);
    assert_eq!(location.rpc_file, home.ldir().join("regtest/rpc.sock"));
    let cmdline = [
        ("network".to_string(), Some("signet".to_string())),
        ("rpc-file".to_string(), Some("/abs/sock".to_string())),
    ];
    let location = locate(&cmdline, home.path(), home.path()).unwrap();
    assert_eq!(location.network, Network::Signet);
    assert_eq!(location.network_dir(), home.ldir().join("signet"));
    assert_eq!(location.rpc_file, PathBuf::from("/abs/sock"));
    let bad = [("network".to_string(), Some("moon".to_string()))];
    let err = locate(&bad, home.path(), home.path()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "--network=moon: unknown network name 'moon'"
    );
}

#[test]
fn every_default_parses() {
    let home = Home::new();
    for network in ["bitcoin", "regtest"] {
        for developer in [false, true] {
            let mut args = vec![format!("--network={network}")];
            if developer {
                args.push("--developer".into());
            }
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let config = home.config(&args);
            for spec in table::OPTIONS {
                if spec.default != table::DefaultValue::None {
                    assert!(
                        config.value(spec.name).is_some(),
                        "default of {} fails",
                        spec.name
                    );
                }
            }
        }
    }
}

/// Checks our `listconfigs` output against CLN v26.06's schema: every option the schema lists
/// and we emit has exactly the fields the schema allows, including all it requires.
#[test]
fn listconfigs_matches_cln_schema() {
    let schema_path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/cln-v26.06-schemas/listconfigs.json");
    let Ok(text) = std::fs::read_to_string(&schema_path) else {
        eprintln!(
            "skipping: CLN schema not found at {}",
            schema_path.display()
        );
        return;
    };
    let schema: Json = serde_json::from_str(&text).unwrap();
    let properties = schema["response"]["properties"]["configs"]["properties"]
        .as_object()
        .expect("configs.properties in schema");
    let home = Home::new();
    std::fs::write(home.path().join("cfg"), "").unwrap();
    let config = home.config(&[
        "--developer",
        "--conf=cfg",
        "--addr=127.0.0.1:1",
        "--log-file=-",
        "--proxy=127.0.0.1:9050",
        "--database-upgrade=true",
        "--wallet=sqlite3:///tmp/x",
        "--alias=me",
        "--rgb=aabbcc",
        "--force-feerates=253",
        "--tor-service-password=pw",
        "--subdaemon=hsmd:/bin/x",
        "--log-prefix=p ",
        "--disable-mpp",
        "--fetchinvoice-noconnect",
        "--currencyrate-add-source=a,b,c",
        "--bitcoin-rpcport=18443",
        "--bitcoin-rpcuser=u",
    ]);
    let configs = config.listconfigs(None).unwrap();
    let mut checked = 0;
    for (name, spec) in properties {
        let Some(ours) = configs.get(name) else {
            continue;
        };
        let ours = ours.as_object().unwrap();
        let allowed = spec["properties"].as_object().unwrap();
        for required in spec["required"].as_array().unwrap() {
            let required = required.as_str().unwrap();
            assert!(ours.contains_key(required), "{name}: missing {required}");
        }
        for (field, value) in ours {
            let field_schema = allowed
                .get(field)
                .unwrap_or_else(|| panic!("{name}: field {field} not in schema"));
            let ok = match field_schema["type"].as_str().unwrap_or("") {
                "boolean" => value.is_boolean(),
                "string" | "hex" => value.is_string(),
                "array" => value.is_array(),
                "u32" | "u64" | "integer" | "msat" => value.is_u64() || value.is_i64(),
                other => panic!("{name}.{field}: unexpected schema type {other}"),
            };
            assert!(
                ok,
                "{name}.{field} = {value} does not match {}",
                field_schema["type"]
            );
        }
        checked += 1;
    }
    assert!(checked > 50, "only {checked} options checked");
}
