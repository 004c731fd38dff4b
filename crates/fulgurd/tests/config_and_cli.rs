//! Options and config files through the real daemon (precedence, sources in `listconfigs`,
//! start-up errors naming the option) and `fulgur-cli` against a live node (modes, argument
//! typing, output formats, exit codes).

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests")]

use fulgur_testkit::{paths, Bitcoind, Node, NodeOptions};
use serde_json::{json, Value};

fn fulgurd(args: &[&str]) -> std::process::Output {
    std::process::Command::new(paths::workspace_bin("fulgurd"))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn bad_options_stop_startup_naming_them() {
    let dir = tempfile::tempdir().unwrap();
    let ld = format!("--lightning-dir={}", dir.path().display());
    let out = fulgurd(&[&ld, "--regtest", "--no-such-option"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--no-such-option"),
        "{out:?}"
    );
    let out = fulgurd(&[&ld, "--regtest", "--rgb=zzzzzz"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("rgb"),
        "{out:?}"
    );
    std::fs::write(
        dir.path().join("config"),
        "# comment\nalias=ok\nbogus-line=1\n",
    )
    .unwrap();
    let out = fulgurd(&[&ld, "--regtest"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("config") && err.contains("line 3") && err.contains("bogus-line"),
        "{err}"
    );
    assert!(
        !dir.path().join("regtest/hsm_secret").exists(),
        "a failed start must create nothing"
    );
}

#[test]
fn help_lists_every_option_with_defaults() {
    let out = fulgurd(&["--help"]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for opt in [
        "--lightning-dir",
        "--network",
        "--rpc-file",
        "--rpc-file-mode",
        "--log-level",
        "--log-file",
        "--log-prefix",
        "--log-timestamps",
        "--alias",
        "--rgb",
        "--daemon",
        "--pid-file",
        "--bitcoin-rpcconnect",
        "--bitcoin-rpcport",
        "--bitcoin-rpcuser",
        "--bitcoin-rpcpassword",
        "--bitcoin-datadir",
        "--addr",
        "--bind-addr",
        "--announce-addr",
        "--developer",
        "--allow-deprecated-apis",
        "--conf",
        "--regtest",
    ] {
        assert!(text.contains(opt), "--help does not list {opt}");
    }
    assert!(
        text.contains("0600"),
        "--help should show rpc-file-mode's default"
    );
}

#[test]
fn config_files_precedence_and_sources() {
    let b = Bitcoind::start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("regtest")).unwrap();
    std::fs::write(
        dir.path().join("config"),
        "alias=FROMBASE\nrgb=112233\ninclude extra.conf\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("extra.conf"),
        "announce-addr=5.6.7.8:9735\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("regtest/config"),
        "# network config\nalias=FROMNET\n",
    )
    .unwrap();
    let node = Node::start(
        Some(&b),
        NodeOptions {
            lightning_dir: Some(dir.path().to_path_buf()),
            extra_args: vec!["--rgb=aabbcc".into()],
            ..Default::default()
        },
    )
    .unwrap();
    let info = node.rpc("getinfo", json!({})).unwrap();
    assert_eq!(info["alias"], "FROMNET");
    assert_eq!(info["color"], "aabbcc");
    assert_eq!(
        info["address"],
        json!([{"type": "ipv4", "address": "5.6.7.8", "port": 9735}])
    );
    let c = node.rpc("listconfigs", json!({})).unwrap()["configs"].clone();
    let net_config = dir.path().join("regtest/config").canonicalize().unwrap();
    assert_eq!(
        c["alias"],
        json!({"value_str": "FROMNET", "source": format!("{}:2", net_config.display())})
    );
    assert_eq!(
        c["rgb"],
        json!({"value_str": "aabbcc", "source": "cmdline"})
    );
    assert_eq!(
        c["network"],
        json!({"value_str": "regtest", "source": "cmdline"})
    );
    let extra = dir.path().join("extra.conf").canonicalize().unwrap();
    assert_eq!(
        c["announce-addr"],
        json!({"values_str": ["5.6.7.8:9735"], "sources": [format!("{}:1", extra.display())]})
    );
    assert_eq!(c["developer"], json!({"set": true, "source": "cmdline"}));
}

fn cli(node: &Node, args: &[&str]) -> (i32, String, String) {
    let out = node.cli(args).unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

#[test]
fn fulgur_cli_against_a_live_node() {
    let b = Bitcoind::start().unwrap();
    let node = Node::start(Some(&b), NodeOptions::default()).unwrap();
    let (code, out, _) = cli(&node, &["getinfo"]);
    assert_eq!(code, 0);
    let info: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(info["network"], "regtest");

    // Keyword mode picked from '=', positional mode, explicit -k.
    for args in [
        &["listconfigs", "config=alias"][..],
        &["listconfigs", "alias"],
        &["-k", "listconfigs", "config=alias"],
    ] {
        let (code, out, _) = cli(&node, args);
        assert_eq!(code, 0, "{args:?}");
        let v: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(
            v["configs"].as_object().unwrap().keys().collect::<Vec<_>>(),
            ["alias"],
            "{args:?}"
        );
    }
    // A number is sent as JSON: help's `command` must be a string, so this is a param error.
    let (code, out, _) = cli(&node, &["help", "42"]);
    assert_eq!(code, 1);
    let err: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(err["code"], -32602);
    assert_eq!(
        err["message"],
        "command: should be a string: invalid token '42'"
    );

    let (code, out, _) = cli(&node, &["nosuchcommand"]);
    assert_eq!(code, 1);
    assert!(out.contains("Unknown command 'nosuchcommand'"), "{out}");

    let (code, out, _) = cli(&node, &["-F", "getinfo"]);
    assert_eq!(code, 0);
    assert!(out.lines().any(|l| l == "network=regtest"), "{out}");
    assert!(
        out.lines().any(|l| l.starts_with("our_features.init=")),
        "{out}"
    );

    let (code, out, _) = cli(&node, &["-H", "listconfigs", "network"]);
    assert_eq!(code, 0);
    assert!(out.contains("value_str=regtest"), "{out}");

    let (code, out, _) = cli(&node, &["-R", "getinfo"]);
    assert_eq!(code, 0);
    assert!(
        out.starts_with('{') && !out.contains("\n   "),
        "raw output is not reformatted: {out}"
    );

    let (code, out, _) = cli(&node, &["help", "getinfo"]);
    assert_eq!(code, 0);
    assert!(
        out.contains("# getinfo") && out.contains("warning_bitcoind_sync"),
        "{out}"
    );

    let (code, out, _) = cli(&node, &["help"]);
    assert_eq!(code, 0);
    assert!(out.contains("listconfigs [config]"), "{out}");

    let (code, _, err) = cli(&node, &["--definitely-not-an-option"]);
    assert_eq!(code, 3, "{err}");

    let out = std::process::Command::new(paths::workspace_bin("fulgur-cli"))
        .args([
            "--lightning-dir=/nonexistent-fulgur",
            "--regtest",
            "getinfo",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("/nonexistent-fulgur/regtest/lightning-rpc")
    );
}

#[test]
fn rpc_file_and_mode_options() {
    use std::os::unix::fs::PermissionsExt;
    let b = Bitcoind::start().unwrap();
    let node = Node::start(Some(&b), NodeOptions::default()).unwrap();
    assert_eq!(
        std::fs::metadata(&node.rpc_path)
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o600
    );

    let dir = tempfile::tempdir().unwrap();
    let mut args = Node::base_args(dir.path(), Some(&b));
    args.extend([
        "--rpc-file=my-rpc".to_string(),
        "--rpc-file-mode=0660".to_string(),
    ]);
    let mut child = std::process::Command::new(paths::workspace_bin("fulgurd"))
        .args(&args)
        .spawn()
        .unwrap();
    let sock = dir.path().join("regtest/my-rpc");
    let mut ready = false;
    for _ in 0..200 {
        if std::os::unix::net::UnixStream::connect(&sock).is_ok() {
            ready = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(25));
    }
    assert!(ready, "no socket at {}", sock.display());
    assert_eq!(
        std::fs::metadata(&sock).unwrap().permissions().mode() & 0o777,
        0o660
    );
    let out = std::process::Command::new(paths::workspace_bin("fulgur-cli"))
        .args([
            format!("--lightning-dir={}", dir.path().display()),
            "--regtest".into(),
            "--rpc-file=my-rpc".into(),
            "stop".into(),
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert!(child.wait().unwrap().success());
}
