//! A `fulgurd` process on regtest in its own lightning directory, connected to a [`Bitcoind`].

use crate::bitcoind::Bitcoind;
use crate::paths;
use crate::rpc::{socket_path, RpcClient, RpcReply};
use anyhow::{bail, Context, Result};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// How to start a node.
#[derive(Debug, Clone, Default)]
pub struct NodeOptions {
    /// Extra command-line options for `fulgurd`.
    pub extra_args: Vec<String>,
    /// Use this directory instead of a temporary one (kept after the node stops).
    pub lightning_dir: Option<PathBuf>,
    /// Do not pass bitcoind's address and credentials (to test a missing bitcoind).
    pub no_bitcoind: bool,
}

/// A running `fulgurd`; stopped on drop.
pub struct Node {
    child: Option<Child>,
    _tmp: Option<tempfile::TempDir>,
    /// Its lightning directory.
    pub lightning_dir: PathBuf,
    /// Its RPC socket.
    pub rpc_path: PathBuf,
}

impl Node {
    /// The arguments that point a node at `bitcoind` on regtest with a log file.
    pub fn base_args(lightning_dir: &Path, bitcoind: Option<&Bitcoind>) -> Vec<String> {
        let mut args = vec![
            format!("--lightning-dir={}", lightning_dir.display()),
            "--network=regtest".to_string(),
            format!("--log-file={}", lightning_dir.join("log").display()),
            "--log-level=debug".to_string(),
            "--developer".to_string(),
            "--dev-bitcoind-poll=1".to_string(),
            format!("--addr=127.0.0.1:{}", crate::free_port()),
        ];
        if let Some(b) = bitcoind {
            args.push("--bitcoin-rpcconnect=127.0.0.1".to_string());
            args.push(format!("--bitcoin-rpcport={}", b.rpc_port));
            args.push(format!("--bitcoin-rpcuser={}", b.rpc_user));
            args.push(format!("--bitcoin-rpcpassword={}", b.rpc_password));
        }
        args
    }

    /// Starts a node and waits until its RPC socket accepts connections.
    pub fn start(bitcoind: Option<&Bitcoind>, opts: NodeOptions) -> Result<Node> {
        let (tmp, dir) = match &opts.lightning_dir {
            Some(d) => (None, d.clone()),
            None => {
                let t = tempfile::Builder::new().prefix("fulgur-node-").tempdir()?;
                let d = t.path().to_path_buf();
                (Some(t), d)
            }
        };
        std::fs::create_dir_all(&dir)?;
        let bitcoind = if opts.no_bitcoind { None } else { bitcoind };
        let mut args = Self::base_args(&dir, bitcoind);
        args.extend(opts.extra_args.iter().cloned());
        let out = std::fs::File::create(dir.join("fulgurd.out"))?;
        let child = Command::new(paths::workspace_bin("fulgurd"))
            .args(&args)
            .stdin(Stdio::null())
            .stdout(out.try_clone()?)
            .stderr(out)
            .spawn()
            .context("starting fulgurd")?;
        let mut node = Node {
            child: Some(child),
            _tmp: tmp,
            rpc_path: socket_path(&dir),
            lightning_dir: dir,
        };
        node.wait_ready(Duration::from_secs(20))?;
        Ok(node)
    }

    fn wait_ready(&mut self, limit: Duration) -> Result<()> {
        let start = Instant::now();
        loop {
            // Ready means answering: the socket is bound early (it guards against a second
            // instance), before the rest of the node is up.
            if let Ok(mut c) = RpcClient::connect(&self.rpc_path) {
                if c.call("getinfo", serde_json::json!([])).is_ok() {
                    return Ok(());
                }
            }
            if let Some(child) = self.child.as_mut() {
                if let Some(status) = child.try_wait()? {
                    bail!(
                        "fulgurd exited with {status} before its socket was ready:\n{}",
                        self.output()
                    );
                }
            }
            if start.elapsed() > limit {
                bail!(
                    "fulgurd socket {} not ready after {limit:?}:\n{}",
                    self.rpc_path.display(),
                    self.output()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Everything the process printed, and its log file.
    pub fn output(&self) -> String {
        let out =
            std::fs::read_to_string(self.lightning_dir.join("fulgurd.out")).unwrap_or_default();
        let log = std::fs::read_to_string(self.lightning_dir.join("log")).unwrap_or_default();
        format!("--- stdout/stderr ---\n{out}\n--- log ---\n{log}")
    }

    /// The log file's contents.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.lightning_dir.join("log")).unwrap_or_default()
    }

    /// Waits until the log contains `needle`.
    pub fn wait_for_log(&self, needle: &str, limit: Duration) -> Result<()> {
        let start = Instant::now();
        while start.elapsed() < limit {
            if self.log().contains(needle) {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        bail!("log never contained {needle:?}:\n{}", self.output())
    }

    /// A new RPC connection.
    pub fn client(&self) -> Result<RpcClient> {
        RpcClient::connect(&self.rpc_path)
    }

    /// Calls `method` on a fresh connection.
    pub fn call(&self, method: &str, params: Value) -> Result<RpcReply> {
        self.client()?.call(method, params)
    }

    /// Calls `method` and returns its result, failing on an error reply.
    pub fn rpc(&self, method: &str, params: Value) -> Result<Value> {
        self.call(method, params)?.result().cloned()
    }

    /// Runs `fulgur-cli` against this node with `args`.
    pub fn cli(&self, args: &[&str]) -> Result<Output> {
        Ok(Command::new(paths::workspace_bin("fulgur-cli"))
            .arg(format!("--lightning-dir={}", self.lightning_dir.display()))
            .arg("--network=regtest")
            .args(args)
            .output()?)
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.as_mut().map(|c| c.try_wait()), Some(Ok(None)))
    }

    /// Waits for the process to exit on its own; returns whether it did within `limit`.
    pub fn wait_exit(&mut self, limit: Duration) -> bool {
        let start = Instant::now();
        while start.elapsed() < limit {
            if !self.is_running() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    /// Stops the node with the `stop` command, killing it if it does not exit.
    pub fn stop(&mut self) {
        if self.child.is_none() {
            return;
        }
        let _ = self.call("stop", Value::Array(vec![]));
        if !self.wait_exit(Duration::from_secs(10)) {
            if let Some(c) = self.child.as_mut() {
                let _ = c.kill();
            }
        }
        if let Some(mut c) = self.child.take() {
            let _ = c.wait();
        }
    }

    /// The node id (`getinfo`'s `id`).
    pub fn id(&self) -> Result<String> {
        let info = self.rpc("getinfo", serde_json::json!({}))?;
        Ok(info["id"].as_str().unwrap_or_default().to_string())
    }

    /// Waits (up to 60 s) until the node has processed bitcoind's tip.
    pub fn wait_synced(&self, bitcoind: &Bitcoind) -> Result<()> {
        let tip = bitcoind.rpc("getblockcount", serde_json::json!([]))?;
        self.rpc(
            "waitblockheight",
            serde_json::json!({"blockheight": tip, "timeout": 60}),
        )?;
        Ok(())
    }

    /// Mines one coinbase (50 BTC) to a new bech32 address of the node, matures it with 100
    /// more blocks, and waits until the node has seen them.
    pub fn fund_coinbase(&self, bitcoind: &Bitcoind) -> Result<()> {
        let addr = self.rpc("newaddr", serde_json::json!({"addresstype": "bech32"}))?;
        let addr = addr["bech32"].as_str().unwrap_or_default().to_string();
        bitcoind.rpc("generatetoaddress", serde_json::json!([1, addr]))?;
        bitcoind.generate(100)?;
        self.wait_synced(bitcoind)
    }

    /// The process id, while running.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(|c| c.id())
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.stop();
    }
}
