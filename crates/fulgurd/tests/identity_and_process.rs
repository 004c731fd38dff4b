//! The node's identity from `hsm_secret` (created 0400, stable across restarts, CLN's
//! derivation for both file forms), the pid file, `--daemon`, signals and log files.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests")]

use fulgur_testkit::{paths, Bitcoind, Node, NodeOptions};
use serde_json::{json, Value};
use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

fn vectors() -> Value {
    let path = paths::workspace_root()
        .join("crates/fulgur-keys/tests/vectors/cln-hsm-secret-derivation.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn hsm_secret_created_private_and_node_id_stable() {
    let b = Bitcoind::start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let opts = NodeOptions {
        lightning_dir: Some(dir.path().to_path_buf()),
        ..Default::default()
    };
    let mut node = Node::start(Some(&b), opts.clone()).unwrap();
    let id = node.rpc("getinfo", json!({})).unwrap()["id"].clone();
    let hsm = dir.path().join("regtest/hsm_secret");
    assert_eq!(
        std::fs::metadata(&hsm).unwrap().permissions().mode() & 0o777,
        0o400
    );
    let bytes = std::fs::read(&hsm).unwrap();
    assert!(
        bytes[..32].iter().all(|b| *b == 0),
        "mnemonic form starts with 32 zero bytes"
    );
    let words = std::str::from_utf8(&bytes[32..]).unwrap();
    assert_eq!(words.split(' ').count(), 12);
    assert!(
        !node.log().contains(words),
        "the mnemonic must never be logged"
    );
    node.stop();
    let node = Node::start(Some(&b), opts).unwrap();
    assert_eq!(node.rpc("getinfo", json!({})).unwrap()["id"], id);
}

#[test]
fn existing_cln_hsm_secrets_give_clns_node_ids_and_addresses() {
    let b = Bitcoind::start().unwrap();
    for case in vectors()["cases"].as_array().unwrap() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("regtest")).unwrap();
        std::fs::write(
            dir.path().join("regtest/hsm_secret"),
            hex_decode(case["hsm_secret_file_hex"].as_str().unwrap()),
        )
        .unwrap();
        let node = Node::start(
            Some(&b),
            NodeOptions {
                lightning_dir: Some(dir.path().to_path_buf()),
                ..Default::default()
            },
        )
        .unwrap();
        let info = node.rpc("getinfo", json!({})).unwrap();
        assert_eq!(info["id"], case["expected_node_id"], "{}", case["name"]);
        // The same wallet addresses, in the same order, as CLN hands out.
        for (kind, field) in [
            ("p2tr", "expected_newaddr_p2tr"),
            ("bech32", "expected_newaddr_bech32"),
        ] {
            for want in case[field].as_array().unwrap() {
                let got = node.rpc("newaddr", json!({"addresstype": kind})).unwrap();
                assert_eq!(&got[kind], want, "{} {kind}", case["name"]);
            }
        }
        let listed = node.rpc("listaddresses", json!({})).unwrap()["addresses"].clone();
        assert_eq!(listed.as_array().unwrap().len(), 6);
        assert_eq!(listed[0]["keyidx"], 1);
        assert_eq!(listed[0]["p2tr"], case["expected_newaddr_p2tr"][0]);
        assert_eq!(listed[5]["bech32"], case["expected_newaddr_bech32"][2]);
    }
}

#[test]
fn corrupt_hsm_secret_stops_startup_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("regtest")).unwrap();
    std::fs::write(dir.path().join("regtest/hsm_secret"), b"garbage").unwrap();
    let out = std::process::Command::new(paths::workspace_bin("fulgurd"))
        .args([
            format!("--lightning-dir={}", dir.path().display()),
            "--regtest".into(),
            "--log-file=-".into(),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("hsm_secret") && stderr.contains("7"),
        "{stderr}"
    );
}

#[test]
fn pid_file_sigterm_and_sighup_reopen() {
    let b = Bitcoind::start().unwrap();
    let mut node = Node::start(Some(&b), NodeOptions::default()).unwrap();
    let pid = node.pid().unwrap();
    let pid_file = node.lightning_dir.join("lightningd-regtest.pid");
    assert_eq!(
        std::fs::read_to_string(&pid_file).unwrap().trim(),
        pid.to_string()
    );
    // Rotate the log and ask for a reopen.
    let log = node.lightning_dir.join("log");
    std::fs::rename(&log, node.lightning_dir.join("log.old")).unwrap();
    assert_eq!(unsafe_kill(pid, libc::SIGHUP), 0);
    node.wait_for_log("SIGHUP: log files reopened", Duration::from_secs(5))
        .unwrap();
    assert_eq!(unsafe_kill(pid, libc::SIGTERM), 0);
    assert!(node.wait_exit(Duration::from_secs(10)));
    assert!(!pid_file.exists() && !node.rpc_path.exists());
    let old = std::fs::read_to_string(node.lightning_dir.join("log.old")).unwrap();
    assert!(old.contains("Server started with public key"));
    assert!(!old.contains("SIGHUP: log files reopened"));
}

#[test]
fn daemon_mode_returns_once_ready() {
    let b = Bitcoind::start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut args = Node::base_args(dir.path(), Some(&b));
    args.push("--daemon".into());
    let status = std::process::Command::new(paths::workspace_bin("fulgurd"))
        .args(&args)
        .status()
        .unwrap();
    assert!(status.success());
    let sock = dir.path().join("regtest/lightning-rpc");
    let mut c = fulgur_testkit::RpcClient::connect(&sock).unwrap();
    assert_eq!(
        c.call("getinfo", json!([])).unwrap().result().unwrap()["network"],
        "regtest"
    );
    c.call("stop", json!([])).unwrap();
}

#[test]
fn second_node_on_same_dir_refuses_to_start() {
    let b = Bitcoind::start().unwrap();
    let node = Node::start(Some(&b), NodeOptions::default()).unwrap();
    let out = std::process::Command::new(paths::workspace_bin("fulgurd"))
        .args(Node::base_args(&node.lightning_dir, Some(&b)))
        .arg("--log-file=-")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is another node running?"));
    assert!(
        node.rpc("getinfo", json!({})).is_ok(),
        "the first node must keep running"
    );
    let pid_file = node.lightning_dir.join("lightningd-regtest.pid");
    assert_eq!(
        std::fs::read_to_string(pid_file).unwrap().trim(),
        node.pid().unwrap().to_string()
    );
}

fn hex_decode(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

#[allow(unsafe_code, reason = "sending a signal to the child under test")]
fn unsafe_kill(pid: u32, sig: i32) -> i32 {
    // SAFETY: kill(2) with a pid we spawned; no memory is shared.
    unsafe { libc::kill(pid as i32, sig) }
}
