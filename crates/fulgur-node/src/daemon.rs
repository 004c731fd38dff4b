//! Running the node: directories, `--daemon`, the pid file, logging, identity, the RPC socket,
//! the bitcoind follower and signals (SIGTERM/SIGINT stop, SIGHUP reopens log files).

use crate::chain::{ChainStatus, ChainTask};
use crate::context::{announce_entry, Identity, NodeContext};
use crate::log::{ClnLayer, Logger};
use crate::{alias, commands, hsm_file};
use fulgur_bitcoind::{Auth, BitcoindClient, BitcoindConfig};
use fulgur_config::Config;
use fulgur_net::{NetConfig, PeerManager};
use fulgur_peer::PeerConfig;
use fulgur_rpc::{bind_socket, serve, Registry, ServerConfig};
use std::os::unix::fs::DirBuilderExt;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::signal::unix::{signal, SignalKind};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing_subscriber::layer::SubscriberExt;

/// Why the node could not start or run.
#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    /// A directory, file or socket could not be set up.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The command registry refused a command (a bug).
    #[error("{0}")]
    Registry(String),
}

fn io_err(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> DaemonError {
    let what = what.into();
    move |source| DaemonError::Io { what, source }
}

fn make_dir(path: &Path) -> Result<(), DaemonError> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(path)
        .map_err(io_err(format!("cannot create {}", path.display())))
}

/// The bitcoind connection the options describe: user/password when given, else the cookie in
/// `--bitcoin-datadir` (default `~/.bitcoin`).
pub fn bitcoind_config(config: &Config) -> BitcoindConfig {
    let b = &config.bitcoin;
    let auth = match (&b.rpcuser, &b.rpcpassword) {
        (Some(u), Some(p)) => Auth::user_pass(u, p),
        _ => {
            let datadir = b.datadir.clone().unwrap_or_else(|| {
                Path::new(&std::env::var_os("HOME").unwrap_or_default()).join(".bitcoin")
            });
            Auth::cookie_in_datadir(&datadir, config.network)
        }
    };
    let mut c = BitcoindConfig::new(config.network, auth)
        .with_timeout(Duration::from_secs(b.rpcclienttimeout.max(1)));
    if let Some(h) = &b.rpcconnect {
        c = c.with_host(h);
    }
    if let Some(p) = b.rpcport {
        c = c.with_port(p);
    }
    c
}

fn init_logging(config: &Config) -> Result<Arc<Logger>, DaemonError> {
    let logger = Logger::new(config).map_err(io_err("cannot set up logging"))?;
    let subscriber = tracing_subscriber::registry().with(ClnLayer::new(logger.clone()));
    // Only fails if a subscriber is already set (tests running several nodes in-process).
    let _ = tracing::subscriber::set_global_default(subscriber);
    Ok(logger)
}

/// Runs the node until it is stopped. The caller has already handled `--daemon`.
pub fn run(mut config: Config) -> Result<(), DaemonError> {
    let network_dir = config.network_dir();
    make_dir(&config.lightning_dir)?;
    make_dir(&network_dir)?;
    let logger = init_logging(&config)?;
    // Every peer is a socket: take all the file descriptors the system allows us.
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(n) => tracing::debug!(target: "lightningd", "file descriptor limit: {n}"),
        Err(e) => {
            tracing::warn!(target: "lightningd", "cannot raise the file descriptor limit: {e}")
        }
    }

    // Taking the socket first makes a second node on the same directory fail before it touches
    // anything of the first one's: its hsm_secret, its database, its pid file.
    let rpc_path = config.rpc_file.clone();
    let listener = bind_socket(&rpc_path, config.rpc_file_mode)
        .map_err(io_err(format!("cannot listen on {}", rpc_path.display())))?;

    let hsm_path = network_dir.join("hsm_secret");
    let (secret, created) = hsm_file::load_or_create(&hsm_path).map_err(io_err("hsm_secret"))?;
    if created {
        tracing::info!(target: "hsmd", "created new hsm_secret file at {}", hsm_path.display());
    }
    let id_bytes = secret.node_id().serialize();
    let node_key = secret.node_secret_key();
    let wallet_keys = fulgur_wallet::WalletKeys::from_hsm_secret(&secret, config.network);
    let channel_base = secret.channel_base();
    drop(secret);
    let db_path = network_dir.join(fulgur_store::DB_FILENAME);
    let onchain =
        crate::onchain::Onchain::open(&db_path, wallet_keys).map_err(|e| DaemonError::Io {
            what: format!("cannot open the wallet database {}", db_path.display()),
            source: std::io::Error::other(e.to_string()),
        })?;
    let alias = config
        .alias
        .clone()
        .unwrap_or_else(|| alias::default_alias(&id_bytes));
    let rgb = config
        .rgb
        .unwrap_or_else(|| alias::default_color(&id_bytes));
    config.set_generated_identity(&alias, rgb);

    let pid_file = config.pid_file.clone();
    std::fs::write(&pid_file, format!("{}\n", std::process::id())).map_err(io_err(format!(
        "cannot write pid file {}",
        pid_file.display()
    )))?;

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(io_err("cannot start the async runtime"))?;
    let result = runtime.block_on(serve_until_stopped(
        config,
        listener,
        NodeKeys {
            node_key,
            channel_base,
        },
        onchain,
        alias,
        rgb,
        logger,
    ));
    let _ = std::fs::remove_file(&pid_file);
    result
}

/// The secrets the running node keeps from `hsm_secret`.
struct NodeKeys {
    node_key: secp256k1::SecretKey,
    channel_base: fulgur_keys::ChannelBase,
}

async fn serve_until_stopped(
    config: Config,
    listener: std::os::unix::net::UnixListener,
    keys: NodeKeys,
    onchain: crate::onchain::Onchain,
    alias: String,
    rgb: [u8; 3],
    logger: Arc<Logger>,
) -> Result<(), DaemonError> {
    let NodeKeys {
        node_key,
        channel_base,
    } = keys;
    let shutdown = CancellationToken::new();
    let tracker = TaskTracker::new();
    let node_id_bytes =
        secp256k1::PublicKey::from_secret_key(secp256k1::SECP256K1, &node_key).serialize();
    let node_id = hex::encode(node_id_bytes);
    let our_features = crate::features::init_features();
    let mut peer_config = PeerConfig::new(
        our_features.clone(),
        crate::features::chain_hash(config.network),
    );
    if let Some(s) = config.get_u64("dev-ping-idle") {
        peer_config.idle_before_ping = Duration::from_secs(s);
    }
    if let Some(s) = config.get_u64("dev-pong-timeout") {
        peer_config.pong_timeout = Duration::from_secs(s);
    }
    if let Some(s) = config.get_u64("dev-handshake-timeout") {
        peer_config.init_timeout = Duration::from_secs(s);
    }
    let (net_tx, net_rx) = tokio::sync::mpsc::channel(1024);
    let (chain_events_tx, chain_events_rx) = tokio::sync::mpsc::unbounded_channel();
    let funding_watch = Arc::new(crate::channels::FundingWatch::new(chain_events_tx));
    let (channels, channel_requests) = crate::channels::request_channel();
    let net_config = NetConfig {
        node_key,
        peer: peer_config,
        listen: listen_addresses(&config)?,
        max_connections: config.get_u64("max-connections").unwrap_or(1000) as usize,
        handshake_timeout: Duration::from_secs(
            config.get_u64("dev-handshake-timeout").unwrap_or(30),
        ),
        connect_timeout: Duration::from_secs(30),
        app_events: Some(net_tx),
    };
    let peers = PeerManager::start(net_config, shutdown.clone(), tracker.clone())
        .await
        .map_err(io_err("cannot start the peer network"))?;
    for b in peers.bindings() {
        tracing::info!(target: "connectd", "listening for peers on {b}");
    }
    let rpc_path = config.rpc_file.clone();
    let listener = tokio::net::UnixListener::from_std(listener)
        .map_err(io_err(format!("cannot listen on {}", rpc_path.display())))?;

    let client = BitcoindClient::new(bitcoind_config(&config));
    let poll = Duration::from_secs(config.get_u64("dev-bitcoind-poll").unwrap_or(30).max(1));
    let (chain_tx, chain_rx) = tokio::sync::watch::channel(ChainStatus::default());
    let backend = fulgur_bitcoind::BitcoindBackend::new(client);
    let fees = Arc::new(std::sync::RwLock::new(fulgur_chain::Fees::new(
        fulgur_chain::FeeConfig::default(),
    )));
    let onchain = Arc::new(onchain);
    let chain_task = ChainTask {
        backend: backend.clone(),
        onchain: onchain.clone(),
        fees: fees.clone(),
        interval: poll,
        rescan: config.get_i64("rescan").unwrap_or(15),
        status: chain_tx,
        shutdown: shutdown.clone(),
        funding: funding_watch.clone(),
    };
    tracker.spawn(chain_task.run());

    let default_port = config.network.default_lightning_port();
    let announce = config
        .announce_addr
        .iter()
        .filter_map(|a| announce_entry(a, default_port))
        .collect();
    let alias_for_log = alias.clone();
    let registry = Arc::new(Registry::new(config.developer));
    commands::register(&registry).map_err(|e| DaemonError::Registry(e.to_string()))?;
    let ctx = Arc::new(NodeContext {
        identity: Identity {
            node_id: node_id.clone(),
            alias,
            color: hex::encode(rgb),
        },
        network_dir: config.network_dir(),
        announce,
        config,
        chain: chain_rx,
        shutdown: shutdown.clone(),
        peers,
        our_features,
        node_id_bytes,
        node_key,
        onchain,
        fees,
        backend,
        channels,
    });
    let channel_cfg = crate::channels::local_config(&ctx.config);
    crate::channels::spawn(
        ctx.clone(),
        channel_base,
        channel_cfg,
        funding_watch,
        crate::channels::Inputs {
            requests: channel_requests,
            net: net_rx,
            chain: chain_events_rx,
        },
        &tracker,
    );
    tracker.spawn(serve(
        listener,
        registry,
        ctx,
        ServerConfig::default(),
        shutdown.clone(),
        tracker.clone(),
    ));
    tracing::info!(target: "lightningd", "Server started with public key {node_id}, alias {alias_for_log} (color #{}) and lightningd {}", hex::encode(rgb), crate::context::VERSION);
    tracing::info!(target: "lightningd", "JSON-RPC listening on {}", rpc_path.display());

    let mut term = signal(SignalKind::terminate()).map_err(io_err("cannot handle SIGTERM"))?;
    let mut int = signal(SignalKind::interrupt()).map_err(io_err("cannot handle SIGINT"))?;
    let mut hup = signal(SignalKind::hangup()).map_err(io_err("cannot handle SIGHUP"))?;
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = term.recv() => { tracing::info!(target: "lightningd", "SIGTERM: shutting down"); shutdown.cancel(); }
            _ = int.recv() => { tracing::info!(target: "lightningd", "SIGINT: shutting down"); shutdown.cancel(); }
            _ = hup.recv() => { logger.reopen(); tracing::info!(target: "lightningd", "SIGHUP: log files reopened"); }
        }
    }
    tracker.close();
    if tokio::time::timeout(Duration::from_secs(5), tracker.wait())
        .await
        .is_err()
    {
        tracing::warn!(target: "lightningd", "some tasks did not finish within 5s of stop");
    }
    let _ = std::fs::remove_file(&rpc_path);
    tracing::info!(target: "lightningd", "Shutdown complete");
    Ok(())
}

/// Where to listen for peers: every `--addr` and `--bind-addr` (IP addresses; a port of 0
/// picks a free one), else the network's default port on all interfaces (IPv6 and IPv4 when
/// the system allows, else IPv4), unless `--offline` or `autolisten=false`.
fn listen_addresses(config: &Config) -> Result<Vec<std::net::SocketAddr>, DaemonError> {
    if config.offline {
        return Ok(Vec::new());
    }
    let port = config.network.default_lightning_port();
    let mut out = Vec::new();
    for text in config.addr.iter().chain(config.bind_addr.iter()) {
        match fulgur_net::parse_address(text, port) {
            Ok(fulgur_net::NetAddress::Ip(sa)) => out.push(sa),
            Ok(fulgur_net::NetAddress::Dns { .. }) | Err(_) => return Err(DaemonError::Io {
                what: format!("--addr/--bind-addr {text}"),
                source: std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    "can only listen on an IP address (host names and Tor are not supported yet)",
                ),
            }),
        }
    }
    if out.is_empty() && config.autolisten {
        let any6 = std::net::SocketAddr::from((std::net::Ipv6Addr::UNSPECIFIED, port));
        let any4 = std::net::SocketAddr::from((std::net::Ipv4Addr::UNSPECIFIED, port));
        // A dual-stack IPv6 socket also takes IPv4; fall back to IPv4 alone without IPv6.
        let v6_ok = std::net::TcpListener::bind(any6).is_ok();
        out.push(if v6_ok { any6 } else { any4 });
    }
    Ok(out)
}
