//! The state every command sees: who the node is, its configuration, what it knows of the
//! chain, and the token that stops it.

use crate::chain::ChainStatus;
use serde_json::{json, Value};
use std::path::PathBuf;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

/// The version string `getinfo` reports: CLN's release it is compatible with, then Fulgur's.
pub const VERSION: &str = concat!("v26.06-fulgur-", env!("CARGO_PKG_VERSION"));

/// Who the node is.
#[derive(Debug, Clone)]
pub struct Identity {
    /// The compressed node id, hex.
    pub node_id: String,
    /// The alias (`--alias` or derived from the id).
    pub alias: String,
    /// The colour as 6 hex digits (`--rgb` or derived from the id).
    pub color: String,
}

/// The node's shared state, handed to every command.
pub struct NodeContext {
    /// Identity.
    pub identity: Identity,
    /// The configuration, for `listconfigs` and settings commands read.
    pub config: fulgur_config::Config,
    /// The network directory (`<lightning-dir>/<network>`), as `getinfo` shows it.
    pub network_dir: PathBuf,
    /// Addresses from `--announce-addr`, as `getinfo.address` entries.
    pub announce: Vec<Value>,
    /// The chain as last seen.
    pub chain: watch::Receiver<ChainStatus>,
    /// Cancelled to stop the node.
    pub shutdown: CancellationToken,
    /// The peer layer.
    pub peers: fulgur_net::PeerManager,
    /// The feature bits we offer in `init`.
    pub our_features: fulgur_types::features::Features,
    /// The compressed node id.
    pub node_id_bytes: [u8; 33],
    /// The node key (for `signmessage`).
    pub node_key: secp256k1::SecretKey,
    /// The on-chain wallet.
    pub onchain: std::sync::Arc<crate::onchain::Onchain>,
    /// Fee estimates (refreshed by the chain task).
    pub fees: std::sync::Arc<std::sync::RwLock<fulgur_chain::Fees>>,
    /// bitcoind, as CLN's five-call chain backend.
    pub backend: fulgur_bitcoind::BitcoindBackend,
    /// The channel manager.
    pub channels: crate::channels::ChannelsHandle,
}

impl NodeContext {
    /// The last block the node processed.
    pub fn blockheight(&self) -> u32 {
        u32::try_from(self.chain.borrow().blockheight).unwrap_or(u32::MAX)
    }
}

impl NodeContext {
    /// Our compressed node id.
    pub fn node_key_id(&self) -> [u8; 33] {
        self.node_id_bytes
    }
}

/// Turns an `--announce-addr` value into a `getinfo.address` entry (`type`, `address`,
/// `port`), defaulting the port to the network's. Returns `None` for forms shown elsewhere
/// (Tor, websockets) until the peer issue supports them.
pub fn announce_entry(addr: &str, default_port: u16) -> Option<Value> {
    if let Ok(sa) = addr.parse::<std::net::SocketAddr>() {
        let kind = if sa.is_ipv4() { "ipv4" } else { "ipv6" };
        return Some(json!({"type": kind, "address": sa.ip().to_string(), "port": sa.port()}));
    }
    if let Ok(ip) = addr.trim_matches(['[', ']']).parse::<std::net::IpAddr>() {
        let kind = if ip.is_ipv4() { "ipv4" } else { "ipv6" };
        return Some(json!({"type": kind, "address": ip.to_string(), "port": default_port}));
    }
    let (host, port) = match addr.rsplit_once(':') {
        Some((h, p)) => (h, p.parse::<u16>().ok()?),
        None => (addr, default_port),
    };
    if host.is_empty() || host.ends_with(".onion") || host.contains('/') {
        return None;
    }
    Some(json!({"type": "dns", "address": host.trim_start_matches("dns:"), "port": port}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn announce_entries() {
        assert_eq!(
            announce_entry("1.2.3.4:9735", 19846),
            Some(json!({"type":"ipv4","address":"1.2.3.4","port":9735}))
        );
        assert_eq!(
            announce_entry("1.2.3.4", 19846),
            Some(json!({"type":"ipv4","address":"1.2.3.4","port":19846}))
        );
        assert_eq!(
            announce_entry("[::1]:99", 1),
            Some(json!({"type":"ipv6","address":"::1","port":99}))
        );
        assert_eq!(
            announce_entry("node.example.com:9735", 1),
            Some(json!({"type":"dns","address":"node.example.com","port":9735}))
        );
        assert_eq!(announce_entry("abc.onion:9735", 1), None);
    }
}
