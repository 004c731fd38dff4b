//! Where bitcoind's JSON-RPC server is and how to log in to it: host, port, credentials
//! (user and password, or bitcoind's `.cookie` file), per-call timeout and response size cap.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use fulgur_types::Network;

/// How to authenticate to bitcoind.
#[derive(Clone, PartialEq, Eq)]
pub enum Auth {
    /// A fixed user name and password (`-rpcuser`/`-rpcpassword`, or `-rpcauth`).
    UserPass {
        /// The RPC user name.
        user: String,
        /// The RPC password.
        password: String,
    },
    /// The cookie file bitcoind writes at start-up (`user:password`, normally
    /// `__cookie__:<random>`). It is read afresh for every call, so a restarted bitcoind's new
    /// cookie is picked up.
    CookieFile(PathBuf),
}

impl Auth {
    /// Fixed credentials.
    pub fn user_pass(user: impl Into<String>, password: impl Into<String>) -> Auth {
        Auth::UserPass {
            user: user.into(),
            password: password.into(),
        }
    }

    /// The cookie file bitcoind with data directory `datadir` writes on `network`:
    /// `<datadir>/<network subdir>/.cookie`.
    pub fn cookie_in_datadir(datadir: &Path, network: Network) -> Auth {
        Auth::CookieFile(cookie_path(datadir, network))
    }
}

/// The path of the cookie file bitcoind with data directory `datadir` writes on `network`.
pub fn cookie_path(datadir: &Path, network: Network) -> PathBuf {
    let subdir = network.bitcoind_subdir();
    if subdir.is_empty() {
        datadir.join(".cookie")
    } else {
        datadir.join(subdir).join(".cookie")
    }
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Auth::UserPass { user, .. } => f
                .debug_struct("UserPass")
                .field("user", user)
                .field("password", &"<redacted>")
                .finish(),
            Auth::CookieFile(path) => f.debug_tuple("CookieFile").field(path).finish(),
        }
    }
}

/// Everything needed to reach bitcoind's JSON-RPC server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BitcoindConfig {
    /// Host name or IP address (`--bitcoin-rpcconnect`); IPv6 literals with or without
    /// brackets.
    pub host: String,
    /// TCP port (`--bitcoin-rpcport`).
    pub port: u16,
    /// Credentials.
    pub auth: Auth,
    /// Limit on each call, from resolving the host to the last byte of the answer.
    pub timeout: Duration,
    /// The network the node runs on (default port, cookie location, chain check).
    pub network: Network,
    /// Cap on the body of a response, in bytes.
    pub max_response_bytes: usize,
}

impl BitcoindConfig {
    /// The default host.
    pub const DEFAULT_HOST: &'static str = "127.0.0.1";
    /// The default per-call timeout.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);
    /// The default cap on a response body: 64 MiB, well above a 4 MB block sent as hex.
    pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 64 * 1024 * 1024;

    /// A configuration for `network` with the default host, the network's default RPC port,
    /// the default timeout and the default response cap.
    pub fn new(network: Network, auth: Auth) -> BitcoindConfig {
        BitcoindConfig {
            host: Self::DEFAULT_HOST.to_owned(),
            port: network.default_bitcoind_rpc_port(),
            auth,
            timeout: Self::DEFAULT_TIMEOUT,
            network,
            max_response_bytes: Self::DEFAULT_MAX_RESPONSE_BYTES,
        }
    }

    /// This configuration with another host.
    pub fn with_host(mut self, host: impl Into<String>) -> BitcoindConfig {
        self.host = host.into();
        self
    }

    /// This configuration with another port.
    pub fn with_port(mut self, port: u16) -> BitcoindConfig {
        self.port = port;
        self
    }

    /// This configuration with another per-call timeout.
    pub fn with_timeout(mut self, timeout: Duration) -> BitcoindConfig {
        self.timeout = timeout;
        self
    }

    /// This configuration with another response body cap.
    pub fn with_max_response_bytes(mut self, max: usize) -> BitcoindConfig {
        self.max_response_bytes = max;
        self
    }

    /// The host without the brackets an IPv6 literal may be written with.
    pub(crate) fn bare_host(&self) -> &str {
        let h = self.host.as_str();
        h.strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(h)
    }

    /// The address as `host:port` (`[v6]:port` for IPv6 literals), as used in error messages
    /// and the HTTP `Host` header.
    pub fn addr(&self) -> String {
        let host = self.bare_host();
        if host.contains(':') {
            format!("[{host}]:{}", self.port)
        } else {
            format!("{host}:{}", self.port)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_follow_the_network() {
        let c = BitcoindConfig::new(Network::Regtest, Auth::user_pass("u", "p"));
        assert_eq!(c.host, "127.0.0.1");
        assert_eq!(c.port, 18443);
        assert_eq!(c.timeout, Duration::from_secs(60));
        assert_eq!(c.addr(), "127.0.0.1:18443");
        let c = BitcoindConfig::new(Network::Bitcoin, Auth::user_pass("u", "p"));
        assert_eq!(c.port, 8332);
    }

    #[test]
    fn ipv6_hosts_are_bracketed_once() {
        let c = BitcoindConfig::new(Network::Signet, Auth::user_pass("u", "p")).with_host("::1");
        assert_eq!(c.addr(), "[::1]:38332");
        let c = c.with_host("[::1]");
        assert_eq!(c.addr(), "[::1]:38332");
        assert_eq!(c.bare_host(), "::1");
    }

    #[test]
    fn cookie_lives_in_the_network_subdir() {
        let d = Path::new("/data");
        assert_eq!(cookie_path(d, Network::Bitcoin), Path::new("/data/.cookie"));
        assert_eq!(
            cookie_path(d, Network::Regtest),
            Path::new("/data/regtest/.cookie")
        );
        assert_eq!(
            cookie_path(d, Network::Testnet),
            Path::new("/data/testnet3/.cookie")
        );
        assert_eq!(
            Auth::cookie_in_datadir(d, Network::Signet),
            Auth::CookieFile("/data/signet/.cookie".into())
        );
    }

    #[test]
    fn debug_hides_the_password() {
        let s = format!("{:?}", Auth::user_pass("alice", "hunter2"));
        assert!(s.contains("alice") && !s.contains("hunter2"));
    }
}
