//! A regtest `bitcoind` on free loopback ports in a temporary data directory.

use crate::{free_port, paths};
use anyhow::{Context, Result};
use fulgur_bitcoind::{Auth, BitcoindClient, BitcoindConfig};
use fulgur_types::Network;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A running regtest bitcoind; killed on drop.
pub struct Bitcoind {
    child: Option<Child>,
    datadir: PathBuf,
    _tmp: Option<tempfile::TempDir>,
    /// Its JSON-RPC port on 127.0.0.1.
    pub rpc_port: u16,
    /// Its P2P port on 127.0.0.1.
    pub p2p_port: u16,
    /// RPC user name.
    pub rpc_user: String,
    /// RPC password.
    pub rpc_password: String,
    runtime: tokio::runtime::Runtime,
    client: BitcoindClient,
}

impl Bitcoind {
    /// Starts bitcoind in a fresh temporary directory and waits until its RPC answers.
    pub fn start() -> Result<Bitcoind> {
        let tmp = tempfile::Builder::new()
            .prefix("fulgur-bitcoind-")
            .tempdir()?;
        let dir = tmp.path().to_path_buf();
        let mut b = Self::start_in(&dir)?;
        b._tmp = Some(tmp);
        Ok(b)
    }

    /// Starts bitcoind in a fresh temporary directory with its RPC on `rpc_port`.
    pub fn start_on_port(rpc_port: u16) -> Result<Bitcoind> {
        let tmp = tempfile::Builder::new()
            .prefix("fulgur-bitcoind-")
            .tempdir()?;
        let dir = tmp.path().to_path_buf();
        let mut b = Self::launch(&dir, rpc_port)?;
        b._tmp = Some(tmp);
        Ok(b)
    }

    /// Starts bitcoind with `datadir` (created if missing) and waits until its RPC answers.
    pub fn start_in(datadir: &Path) -> Result<Bitcoind> {
        Self::launch(datadir, free_port())
    }

    fn launch(datadir: &Path, rpc_port: u16) -> Result<Bitcoind> {
        std::fs::create_dir_all(datadir)?;
        let p2p_port = free_port();
        let (rpc_user, rpc_password) = ("fulgur".to_string(), "fulgurpass".to_string());
        let log = std::fs::File::create(datadir.join("bitcoind.out"))?;
        let child = Command::new(paths::bitcoind_dir().join("bitcoind"))
            .arg("-regtest")
            .arg(format!("-datadir={}", datadir.display()))
            .arg(format!("-rpcport={rpc_port}"))
            .arg(format!("-port={p2p_port}"))
            .arg(format!("-rpcuser={rpc_user}"))
            .arg(format!("-rpcpassword={rpc_password}"))
            .args([
                "-server",
                "-listen=0",
                "-rpcbind=127.0.0.1",
                "-rpcallowip=127.0.0.1",
            ])
            .args(["-fallbackfee=0.0002", "-txindex=0", "-printtoconsole=0"])
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .context("starting bitcoind")?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let config =
            BitcoindConfig::new(Network::Regtest, Auth::user_pass(&rpc_user, &rpc_password))
                .with_host("127.0.0.1")
                .with_port(rpc_port);
        let client = BitcoindClient::new(config);
        let b = Bitcoind {
            child: Some(child),
            datadir: datadir.to_path_buf(),
            _tmp: None,
            rpc_port,
            p2p_port,
            rpc_user,
            rpc_password,
            runtime,
            client,
        };
        b.runtime
            .block_on(b.client.wait_ready(Duration::from_secs(60)))
            .context("waiting for bitcoind RPC")?;
        Ok(b)
    }

    /// Its data directory.
    pub fn datadir(&self) -> &Path {
        &self.datadir
    }

    /// Calls a bitcoind RPC method.
    pub fn rpc(&self, method: &str, params: serde_json::Value) -> Result<serde_json::Value> {
        Ok(self.runtime.block_on(self.client.call(method, params))?)
    }

    /// Mines `n` blocks to a fixed regtest address and returns the new height.
    pub fn generate(&self, n: u64) -> Result<u64> {
        // A P2WPKH address of a fixed test key; nobody needs to spend these coins yet.
        let address = "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080";
        self.rpc("generatetoaddress", serde_json::json!([n, address]))?;
        Ok(self
            .rpc("getblockcount", serde_json::json!([]))?
            .as_u64()
            .unwrap_or(0))
    }

    /// Stops bitcoind (also done on drop).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = self.runtime.block_on(self.client.stop());
            for _ in 0..100 {
                if let Ok(Some(_)) = child.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Bitcoind {
    fn drop(&mut self) {
        self.stop();
    }
}
