//! An independent Lightning peer for interop tests: `ldk-node` (crates.io) wrapped by the
//! `ldk-peer` binary in `test-peers/ldk-peer`, built once and cached by
//! `scripts/build-ldk-peer.sh`, driven by JSON lines.

use crate::bitcoind::Bitcoind;
use crate::{free_port, paths};
use anyhow::{bail, Context, Result};
use serde_json::{json, Value};
use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

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

/// How long a request may take before [`LdkPeer::call`] gives up (`connect`, `open_channel`
/// and `sync` block ldk-peer while they run).
const CALL_TIMEOUT: Duration = Duration::from_secs(120);
/// How long ldk-peer may take to print its `ready` line (node start and initial chain sync).
const READY_TIMEOUT: Duration = Duration::from_secs(120);

/// A running ldk-node peer; stopped on drop.
///
/// Its stdout is read by a background thread. Event lines that arrive while waiting for an
/// answer are queued, so [`LdkPeer::wait_event`] also finds events that came in earlier.
pub struct LdkPeer {
    child: Child,
    stdin: ChildStdin,
    /// stdout lines, from the reader thread; disconnected once ldk-peer closed its stdout.
    lines: Receiver<String>,
    /// Events received and not yet taken by `wait_event*` / `take_events`.
    events: VecDeque<Value>,
    next_id: u64,
    _dir: tempfile::TempDir,
    /// Its node id (hex).
    pub node_id: String,
    /// Its listening port on 127.0.0.1.
    pub port: u16,
}

impl LdkPeer {
    /// Starts an ldk-node on `bitcoind` (regtest), listening on a free loopback port, with the
    /// node alias "ldk-interop" (needed to accept and open announced channels).
    ///
    /// It accepts inbound channels; anchor channels (which ldk-node negotiates by default)
    /// only while it has at least 25,000 sat spendable on chain (ldk-node's per-channel anchor
    /// reserve), so fund it first (see [`LdkPeer::fund`]).
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
        let stdout = BufReader::new(child.stdout.take().context("stdout")?);
        let (tx, lines) = mpsc::channel();
        std::thread::Builder::new()
            .name("ldk-peer-stdout".into())
            .spawn(move || {
                for line in stdout.lines() {
                    let Ok(line) = line else { break };
                    if tx.send(line).is_err() {
                        break;
                    }
                }
            })
            .context("spawning the ldk-peer stdout reader")?;
        let line = match lines.recv_timeout(READY_TIMEOUT) {
            Ok(l) => l,
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                bail!("ldk-peer did not start: {e}");
            }
        };
        let ready: Value =
            serde_json::from_str(&line).with_context(|| format!("ldk-peer said {line:?}"))?;
        if ready["event"] != "ready" {
            bail!("ldk-peer did not start: {line}");
        }
        let node_id = ready["node_id"].as_str().context("node_id")?.to_string();
        Ok(LdkPeer {
            child,
            stdin,
            lines,
            events: VecDeque::new(),
            next_id: 1,
            _dir: dir,
            node_id,
            port,
        })
    }

    /// Calls a method and returns its result (event lines in between are queued for
    /// [`LdkPeer::wait_event`]).
    pub fn call(&mut self, method: &str, params: Value) -> Result<Value> {
        self.call_timeout(method, params, CALL_TIMEOUT)
    }

    fn call_timeout(&mut self, method: &str, params: Value, timeout: Duration) -> Result<Value> {
        let id = self.next_id;
        self.next_id += 1;
        writeln!(
            self.stdin,
            "{}",
            json!({"id": id, "method": method, "params": params})
        )?;
        self.stdin.flush()?;
        let deadline = Instant::now() + timeout;
        loop {
            let line = match self
                .lines
                .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            {
                Ok(l) => l,
                Err(RecvTimeoutError::Timeout) => {
                    bail!("ldk-peer did not answer {method} within {timeout:?}")
                }
                Err(RecvTimeoutError::Disconnected) => {
                    bail!("ldk-peer exited while answering {method}")
                }
            };
            let v: Value = serde_json::from_str(&line)?;
            if v.get("event").is_some() {
                self.events.push_back(v);
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

    /// Waits for the first event (queued or new) with `"event": kind`, e.g. "channel_pending",
    /// "channel_ready", "channel_closed", "payment_received", and removes it from the queue.
    /// Other events stay queued.
    pub fn wait_event(&mut self, kind: &str, timeout: Duration) -> Result<Value> {
        self.wait_event_matching(timeout, |e| e["event"] == kind)
            .with_context(|| format!("waiting for ldk-peer event {kind:?}"))
    }

    /// Waits for the first event (queued or new) for which `pred` holds and removes it from
    /// the queue. Other events stay queued.
    pub fn wait_event_matching(
        &mut self,
        timeout: Duration,
        mut pred: impl FnMut(&Value) -> bool,
    ) -> Result<Value> {
        if let Some(i) = self.events.iter().position(&mut pred) {
            if let Some(e) = self.events.remove(i) {
                return Ok(e);
            }
        }
        let deadline = Instant::now() + timeout;
        loop {
            let line = match self
                .lines
                .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            {
                Ok(l) => l,
                Err(RecvTimeoutError::Timeout) => bail!(
                    "no matching event within {timeout:?}; queued events: {:?}",
                    self.events
                ),
                Err(RecvTimeoutError::Disconnected) => bail!("ldk-peer exited"),
            };
            let v: Value = serde_json::from_str(&line)?;
            if v.get("event").is_none() {
                bail!("ldk-peer sent an answer nobody asked for: {line}");
            }
            if pred(&v) {
                return Ok(v);
            }
            self.events.push_back(v);
        }
    }

    /// Takes all queued events (those already received; it does not wait).
    pub fn take_events(&mut self) -> Vec<Value> {
        while let Ok(line) = self.lines.try_recv() {
            if let Ok(v) = serde_json::from_str::<Value>(&line) {
                if v.get("event").is_some() {
                    self.events.push_back(v);
                }
            }
        }
        self.events.drain(..).collect()
    }

    /// The peers ldk-node lists.
    pub fn peers(&mut self) -> Result<Vec<Value>> {
        Ok(self
            .call("list_peers", json!({}))?
            .as_array()
            .cloned()
            .unwrap_or_default())
    }

    /// Connects to `node_id` at `addr` ("HOST:PORT"); returns once `init` was exchanged.
    pub fn connect(&mut self, node_id: &str, addr: &str) -> Result<()> {
        self.call("connect", json!({"node_id": node_id, "address": addr}))?;
        Ok(())
    }

    /// A new address of its on-chain wallet.
    pub fn new_address(&mut self) -> Result<String> {
        Ok(self
            .call("new_address", json!({}))?
            .as_str()
            .context("new_address")?
            .to_string())
    }

    /// Syncs its on-chain and Lightning wallets to bitcoind's tip.
    pub fn sync(&mut self) -> Result<()> {
        self.call("sync", json!({}))?;
        Ok(())
    }

    /// Mines `coinbases` blocks paying its on-chain wallet, then 100 more (to a fixed address)
    /// so those coinbases are spendable, and syncs. On a fresh regtest chain each coinbase is
    /// worth 50 BTC.
    pub fn fund(&mut self, bitcoind: &Bitcoind, coinbases: u64) -> Result<()> {
        let address = self.new_address()?;
        bitcoind.rpc("generatetoaddress", json!([coinbases, address]))?;
        bitcoind.generate(100)?;
        self.sync()
    }

    /// Its balances: `{"total_onchain_balance_sats", "spendable_onchain_balance_sats",
    /// "total_anchor_channels_reserve_sats", "total_lightning_balance_sats",
    /// "lightning_balances": [..], "pending_balances_from_channel_closures": [..]}` (the
    /// lists hold ldk-node's Debug renderings).
    pub fn balances(&mut self) -> Result<Value> {
        self.call("list_balances", json!({}))
    }

    /// Opens a channel of `amount_sat` to `node_id` at `addr` ("HOST:PORT"), connecting first
    /// if needed, announced if `announce`. Returns ldk-node's `user_channel_id` (a u128 as a
    /// decimal string). The channel is pending until a `channel_pending` event.
    pub fn open_channel(
        &mut self,
        node_id: &str,
        addr: &str,
        amount_sat: u64,
        push_msat: Option<u64>,
        announce: bool,
    ) -> Result<String> {
        let r = self.call(
            "open_channel",
            json!({
                "node_id": node_id,
                "address": addr,
                "channel_amount_sat": amount_sat,
                "push_msat": push_msat,
                "announce": announce,
            }),
        )?;
        Ok(r["user_channel_id"]
            .as_str()
            .context("open_channel: no user_channel_id")?
            .to_string())
    }

    /// Its channels, as ldk-peer's `list_channels` reports them (see test-peers/ldk-peer's
    /// README): `channel_id`, `counterparty_node_id`, `user_channel_id`, `funding_txo`,
    /// `short_channel_id`, `channel_value_sats`, `outbound_capacity_msat`, `is_usable`, ...
    pub fn list_channels(&mut self) -> Result<Vec<Value>> {
        Ok(self
            .call("list_channels", json!({}))?
            .as_array()
            .cloned()
            .unwrap_or_default())
    }

    /// Sends a spontaneous (keysend) payment of `amount_msat` to `node_id` (hex); returns the
    /// payment id.
    pub fn spontaneous_send(&mut self, node_id: &str, amount_msat: u64) -> Result<String> {
        let r = self.call(
            "spontaneous_send",
            json!({"node_id": node_id, "amount_msat": amount_msat}),
        )?;
        Ok(r["payment_id"]
            .as_str()
            .context("spontaneous_send: no payment_id")?
            .to_string())
    }

    /// Starts a cooperative close of the channel `user_channel_id` with `counterparty`
    /// (node id hex); a `channel_closed` event follows.
    pub fn close_channel(&mut self, user_channel_id: &str, counterparty: &str) -> Result<()> {
        self.call(
            "close_channel",
            json!({"user_channel_id": user_channel_id, "counterparty_node_id": counterparty}),
        )?;
        Ok(())
    }

    /// Force-closes the channel `user_channel_id` with `counterparty` (node id hex),
    /// broadcasting ldk-node's latest commitment transaction.
    pub fn force_close_channel(
        &mut self,
        user_channel_id: &str,
        counterparty: &str,
        reason: Option<&str>,
    ) -> Result<()> {
        self.call(
            "force_close_channel",
            json!({
                "user_channel_id": user_channel_id,
                "counterparty_node_id": counterparty,
                "reason": reason,
            }),
        )?;
        Ok(())
    }
}

impl Drop for LdkPeer {
    fn drop(&mut self) {
        let _ = self.call_timeout("stop", json!({}), Duration::from_secs(10));
        for _ in 0..100 {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
