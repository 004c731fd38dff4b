//! An independent Lightning peer for interop tests: `ldk-node` (crates.io) wrapped by the
//! `ldk-peer` binary in `test-peers/ldk-peer`, built once and cached by
//! `scripts/build-ldk-peer.sh`, driven by JSON lines.

use crate::bitcoind::Bitcoind;
use crate::{free_port, paths};
use anyhow::{bail, Context, Result};
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

/// The `ldk-peer` binary: `$FULGUR_LDK_PEER`, else what `scripts/build-ldk-peer.sh` prints
/// (a cached build; the first build takes several minutes).
pub fn binary() -> Result<PathBuf> {
    if let Some(p) = std::env::var_os("FULGUR_LDK_PEER") {
        return Ok(PathBuf::from(p));
    }
    let script = paths::workspace_root().join("scripts/build-ldk-peer.sh");
    let out = Command::new(&script)
        .stderr(Stdio::inherit())
        .output()
        .context("running build-ldk-peer.sh")?;
    if !out.status.success() {
        bail!("{} failed", script.display());
    }
    let text = String::from_utf8(out.stdout)?;
    let last = text
        .lines()
        .last()
        .context("build-ldk-peer.sh printed nothing")?;
    Ok(PathBuf::from(last.trim()))
}

/// A running ldk-node peer; stopped on drop.
pub struct LdkPeer {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    next_id: u64,
    _dir: tempfile::TempDir,
    /// Its node id (hex).
    pub node_id: String,
    /// Its listening port on 127.0.0.1.
    pub port: u16,
}

impl LdkPeer {
    /// Starts an ldk-node on `bitcoind` (regtest), listening on a free loopback port.
    pub fn start(bitcoind: &Bitcoind) -> Result<LdkPeer> {
        let dir = tempfile::Builder::new().prefix("fulgur-ldk-").tempdir()?;
        let port = free_port();
        let mut child = Command::new(binary()?)
            .arg("--datadir")
            .arg(dir.path())
            .args(["--network", "regtest", "--listen"])
            .arg(format!("127.0.0.1:{port}"))
            .arg("--bitcoind-rpc")
            .arg(format!("127.0.0.1:{}", bitcoind.rpc_port))
            .args([
                "--bitcoind-user",
                &bitcoind.rpc_user,
                "--bitcoind-password",
                &bitcoind.rpc_password,
            ])
            .args(["--alias", "ldk-interop", "--log-level", "debug"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .context("starting ldk-peer")?;
        let stdin = child.stdin.take().context("stdin")?;
        let mut stdout = BufReader::new(child.stdout.take().context("stdout")?);
        let mut line = String::new();
        stdout.read_line(&mut line)?;
        let ready: Value =
            serde_json::from_str(&line).with_context(|| format!("ldk-peer said {line:?}"))?;
        if ready["event"] != "ready" {
            bail!("ldk-peer did not start: {line}");
        }
        let node_id = ready["node_id"].as_str().context("node_id")?.to_string();
        Ok(LdkPeer {
            child,
            stdin,
            stdout,
            next_id: 1,
            _dir: dir,
            node_id,
            port,
        })
    }

    /// Calls a method and returns its result (event lines in between are skipped).
    pub fn call(&mut self, method: &str, params: Value) -> Result<Value> {
        let id = self.next_id;
        self.next_id += 1;
        writeln!(
            self.stdin,
            "{}",
            json!({"id": id, "method": method, "params": params})
        )?;
        self.stdin.flush()?;
        loop {
            let mut line = String::new();
            if self.stdout.read_line(&mut line)? == 0 {
                bail!("ldk-peer exited while answering {method}");
            }
            let v: Value = serde_json::from_str(&line)?;
            if v.get("event").is_some() {
                continue;
            }
            if v["id"] != json!(id) {
                bail!("ldk-peer answered {} to request {id}", v["id"]);
            }
            if let Some(e) = v.get("error") {
                bail!("ldk-peer {method}: {e}");
            }
            return Ok(v["result"].clone());
        }
    }

    /// The peers ldk-node lists.
    pub fn peers(&mut self) -> Result<Vec<Value>> {
        Ok(self
            .call("list_peers", json!({}))?
            .as_array()
            .cloned()
            .unwrap_or_default())
    }
}

impl Drop for LdkPeer {
    fn drop(&mut self) {
        let _ = self.call("stop", json!({}));
        for _ in 0..100 {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
