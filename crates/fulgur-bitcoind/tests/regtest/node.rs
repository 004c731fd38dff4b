//! A throw-away regtest bitcoind for tests: finds the binary, starts it on free ports in a
//! given data directory, waits until its RPC answers, and stops it (by RPC, then by killing
//! it). Self-contained; the project-wide test fixture lives elsewhere.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use fulgur_bitcoind::{Auth, BitcoindClient, BitcoindConfig, ChainInfo};
use fulgur_types::Network;
use tokio::process::{Child, Command};

/// The user and password a [`NodeAuth::UserPass`] node accepts.
pub const RPC_USER: &str = "u";
/// See [`RPC_USER`].
pub const RPC_PASSWORD: &str = "p";

/// How long start-up may take before the test fails.
const START_TIMEOUT: Duration = Duration::from_secs(90);
/// How long `stop` may take before the process is killed.
const STOP_TIMEOUT: Duration = Duration::from_secs(30);

/// The bitcoind binary to test against: `$FULGUR_BITCOIND`, else the one
/// `scripts/build-bitcoind.sh` caches. `Err` says why there is none.
pub fn find_bitcoind() -> Result<PathBuf, String> {
    if let Some(path) = std::env::var_os("FULGUR_BITCOIND") {
        let path = PathBuf::from(path);
        return if path.is_file() {
            Ok(path)
        } else {
            Err(format!("$FULGUR_BITCOIND={} is not a file", path.display()))
        };
    }
    let cache = match std::env::var_os("FULGUR_CACHE_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => match std::env::var_os("HOME") {
            Some(home) => PathBuf::from(home).join(".cache").join("fulgur"),
            None => return Err("neither $FULGUR_BITCOIND nor $HOME is set".into()),
        },
    };
    let path = cache.join("bitcoind-0.4.1").join("bin").join("bitcoind");
    if path.is_file() {
        Ok(path)
    } else {
        Err(format!(
            "no bitcoind at {} (run scripts/build-bitcoind.sh or set $FULGUR_BITCOIND)",
            path.display()
        ))
    }
}

/// How the node's RPC server authenticates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeAuth {
    /// `-rpcuser=u -rpcpassword=p`.
    UserPass,
    /// No credentials given: bitcoind writes `<datadir>/regtest/.cookie`.
    Cookie,
}

/// A TCP port nothing listens on right now.
pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    listener.local_addr().expect("local address").port()
}

/// A running regtest bitcoind. Killed when dropped if [`RegtestNode::stop`] was not called.
pub struct RegtestNode {
    child: Child,
    datadir: PathBuf,
    rpc_port: u16,
    client: BitcoindClient,
}

impl RegtestNode {
    /// Starts bitcoind on new free ports in `datadir` and waits until its RPC answers.
    pub async fn start(binary: &Path, datadir: &Path, auth: NodeAuth) -> RegtestNode {
        RegtestNode::start_on(binary, datadir, auth, free_port()).await
    }

    /// Starts bitcoind with RPC on `rpc_port` (to restart a node where a client expects it).
    pub async fn start_on(
        binary: &Path,
        datadir: &Path,
        auth: NodeAuth,
        rpc_port: u16,
    ) -> RegtestNode {
        let stderr = std::fs::File::create(datadir.join("stderr.log")).expect("stderr log");
        let mut cmd = Command::new(binary);
        cmd.arg("-regtest")
            .arg(format!("-datadir={}", datadir.display()))
            .arg(format!("-rpcport={rpc_port}"))
            .arg(format!("-port={}", free_port()))
            .args([
                "-listen=0",
                "-server",
                "-printtoconsole=0",
                "-fallbackfee=0.0002",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr)
            .kill_on_drop(true);
        let client_auth = match auth {
            NodeAuth::UserPass => {
                cmd.arg(format!("-rpcuser={RPC_USER}"))
                    .arg(format!("-rpcpassword={RPC_PASSWORD}"));
                Auth::user_pass(RPC_USER, RPC_PASSWORD)
            }
            NodeAuth::Cookie => Auth::cookie_in_datadir(datadir, Network::Regtest),
        };
        let child = cmd.spawn().expect("spawn bitcoind");
        let config = BitcoindConfig::new(Network::Regtest, client_auth)
            .with_port(rpc_port)
            .with_timeout(Duration::from_secs(30));
        let mut node = RegtestNode {
            child,
            datadir: datadir.to_owned(),
            rpc_port,
            client: BitcoindClient::new(config),
        };
        node.wait_ready().await;
        node
    }

    /// A client logged in the way the node was started.
    pub fn client(&self) -> &BitcoindClient {
        &self.client
    }

    /// The RPC port.
    pub fn rpc_port(&self) -> u16 {
        self.rpc_port
    }

    /// Waits until `getblockchaininfo` answers, failing the test with bitcoind's logs if it
    /// exits or takes too long.
    async fn wait_ready(&mut self) -> ChainInfo {
        let deadline = tokio::time::Instant::now() + START_TIMEOUT;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "bitcoind exited during start-up ({status}):\n{}",
                    self.logs()
                );
            }
            match self.client.getblockchaininfo().await {
                Ok(info) => return info,
                Err(e) if e.is_transient() && tokio::time::Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => panic!("bitcoind did not become ready: {e}\n{}", self.logs()),
            }
        }
    }

    /// The end of bitcoind's stderr and debug.log, for failure messages.
    pub fn logs(&self) -> String {
        let tail = |path: PathBuf| {
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            let lines: Vec<&str> = text.lines().collect();
            let start = lines.len().saturating_sub(30);
            format!("--- {} ---\n{}", path.display(), lines[start..].join("\n"))
        };
        format!(
            "{}\n{}",
            tail(self.datadir.join("stderr.log")),
            tail(self.datadir.join("regtest").join("debug.log"))
        )
    }

    /// Stops bitcoind with the `stop` RPC and waits for it to exit, killing it if it lingers.
    pub async fn stop(mut self) {
        let asked = self.client.stop().await;
        let exited = match asked {
            Ok(_) => tokio::time::timeout(STOP_TIMEOUT, self.child.wait())
                .await
                .is_ok(),
            Err(e) => {
                eprintln!("stop RPC failed ({e}); killing bitcoind");
                false
            }
        };
        if !exited {
            let _ = self.child.kill().await;
        }
    }
}
