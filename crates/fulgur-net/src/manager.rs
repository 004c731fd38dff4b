//! The peer manager: one task owns the table of peers; RPC commands, dialing tasks, the
//! listener and connection tasks talk to it by message. It dials (DNS, TCP, handshake, each
//! with a time limit), accepts incoming connections up to a cap, keeps one connection per
//! peer (a newer one replaces an older), and answers `connect` once the peer's `init` arrived.

use crate::address::NetAddress;
use crate::connection::{self, ConnectionParams, NetEvent, PeerCommand};
use crate::error::{tcp_failure, ConnectError, Failure};
use crate::handshake;
use fulgur_noise::Transport;
use fulgur_peer::PeerConfig;
use fulgur_types::features::Features;
use secp256k1::{PublicKey, SecretKey};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Identifies one connection (a peer may reconnect; stale events are ignored by id).
pub type ConnId = u64;

/// Who opened the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// The peer dialed us.
    In,
    /// We dialed the peer.
    Out,
}

impl Direction {
    /// `in` or `out`, as `connect` reports it.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::In => "in",
            Direction::Out => "out",
        }
    }
}

/// A connected peer, as `connect` and `listpeers` show it.
#[derive(Debug, Clone, PartialEq)]
pub struct PeerInfo {
    /// Its node id.
    pub node_id: PublicKey,
    /// Who dialed.
    pub direction: Direction,
    /// Its address.
    pub addr: NetAddress,
    /// Its `init` features; `None` until `init` arrived.
    pub features: Option<Features>,
}

/// Why `connect` failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnectFailure {
    /// No address given and none known (CLN code 400).
    NoAddress,
    /// The attempt failed (codes 401 and 402).
    Failed(ConnectError),
    /// The node is shutting down.
    ShuttingDown,
}

/// Settings of the peer layer.
#[derive(Debug, Clone)]
pub struct NetConfig {
    /// Our node key.
    pub node_key: SecretKey,
    /// Session settings for every peer.
    pub peer: PeerConfig,
    /// Addresses to listen on.
    pub listen: Vec<SocketAddr>,
    /// Most peers connected or handshaking at once; more incoming connections are closed.
    pub max_connections: usize,
    /// Limit for the BOLT 8 handshake.
    pub handshake_timeout: Duration,
    /// Limit for resolving and TCP connect.
    pub connect_timeout: Duration,
    /// Where channel messages and connection events go (none: they are ignored).
    pub app_events: Option<mpsc::Sender<NetEvent>>,
}

/// Messages to the manager task.
#[derive(Debug)]
pub enum ManagerEvent {
    /// A handshake finished (either direction).
    Handshaked {
        /// The peer.
        node_id: PublicKey,
        /// Who dialed.
        direction: Direction,
        /// The peer's address.
        addr: NetAddress,
        /// The socket.
        stream: TcpStream,
        /// The BOLT 8 transport.
        transport: Box<Transport>,
    },
    /// Dialing failed.
    DialFailed {
        /// The peer.
        node_id: PublicKey,
        /// Why.
        error: ConnectError,
    },
    /// A connection's `init` exchange completed.
    Ready {
        /// The connection.
        conn_id: ConnId,
        /// The peer.
        node_id: PublicKey,
        /// Its features.
        features: Features,
    },
    /// A connection ended.
    Closed {
        /// The connection.
        conn_id: ConnId,
        /// The peer.
        node_id: PublicKey,
        /// Why (for the log).
        reason: String,
        /// When it ended before `init` completed: what a waiting `connect` is told.
        before_init: Option<Failure>,
    },
}

/// Where a `connect` caller waits for its answer.
type ConnectReply = oneshot::Sender<Result<PeerInfo, ConnectFailure>>;

enum Command {
    Connect(
        PublicKey,
        Option<NetAddress>,
        oneshot::Sender<Result<PeerInfo, ConnectFailure>>,
    ),
    Disconnect(PublicKey, oneshot::Sender<Result<(), String>>),
    List(oneshot::Sender<Vec<PeerInfo>>),
    Count(oneshot::Sender<usize>),
    Ping(PublicKey, u16, u16, oneshot::Sender<Result<u16, String>>),
    Custom(PublicKey, Vec<u8>, oneshot::Sender<Result<(), String>>),
    Send(PublicKey, ConnId, Box<fulgur_wire::Message>),
}

/// A handle to the manager, cheap to clone.
#[derive(Clone)]
pub struct PeerManager {
    tx: mpsc::Sender<Command>,
    bound: Arc<Vec<SocketAddr>>,
}

struct Entry {
    conn_id: ConnId,
    info: PeerInfo,
    commands: mpsc::Sender<PeerCommand>,
}

struct State {
    config: NetConfig,
    peers: HashMap<PublicKey, Entry>,
    waiters: HashMap<PublicKey, Vec<ConnectReply>>,
    next_conn: ConnId,
    events_tx: mpsc::Sender<ManagerEvent>,
    shutdown: CancellationToken,
    tracker: TaskTracker,
    open: Arc<AtomicUsize>,
}

fn hex_id(id: &PublicKey) -> String {
    hex::encode(id.serialize())
}

impl PeerManager {
    /// Binds the listening sockets (failing at once if one cannot be bound) and starts the
    /// manager and listener tasks on `tracker`.
    pub async fn start(
        config: NetConfig,
        shutdown: CancellationToken,
        tracker: TaskTracker,
    ) -> std::io::Result<PeerManager> {
        let mut listeners = Vec::new();
        let mut bound = Vec::new();
        for addr in &config.listen {
            let l = TcpListener::bind(addr).await.map_err(|e| {
                std::io::Error::new(e.kind(), format!("cannot listen on {addr}: {e}"))
            })?;
            bound.push(l.local_addr()?);
            listeners.push(l);
        }
        let (tx, mut rx) = mpsc::channel::<Command>(256);
        let (events_tx, mut events_rx) = mpsc::channel::<ManagerEvent>(256);
        let open = Arc::new(AtomicUsize::new(0));
        for l in listeners {
            tracker.spawn(listen(
                l,
                config.clone(),
                events_tx.clone(),
                open.clone(),
                shutdown.clone(),
            ));
        }
        let mut state = State {
            config,
            peers: HashMap::new(),
            waiters: HashMap::new(),
            next_conn: 0,
            events_tx,
            shutdown: shutdown.clone(),
            tracker: tracker.clone(),
            open,
        };
        tracker.spawn(async move {
            loop {
                tokio::select! {
                    _ = state.shutdown.cancelled() => break,
                    Some(cmd) = rx.recv() => state.command(cmd),
                    Some(ev) = events_rx.recv() => state.event(ev),
                }
            }
            for (_, waiters) in state.waiters.drain() {
                for w in waiters {
                    let _ = w.send(Err(ConnectFailure::ShuttingDown));
                }
            }
        });
        Ok(PeerManager {
            tx,
            bound: Arc::new(bound),
        })
    }

    /// The addresses actually listened on (ports resolved when 0 was asked).
    pub fn bindings(&self) -> &[SocketAddr] {
        &self.bound
    }

    async fn ask<T>(&self, make: impl FnOnce(oneshot::Sender<T>) -> Command) -> Option<T> {
        let (tx, rx) = oneshot::channel();
        self.tx.send(make(tx)).await.ok()?;
        rx.await.ok()
    }

    /// Connects (or returns the existing connection) and waits for the peer's `init`.
    pub async fn connect(
        &self,
        node_id: PublicKey,
        addr: Option<NetAddress>,
    ) -> Result<PeerInfo, ConnectFailure> {
        self.ask(|r| Command::Connect(node_id, addr, r))
            .await
            .unwrap_or(Err(ConnectFailure::ShuttingDown))
    }

    /// Disconnects a peer.
    pub async fn disconnect(&self, node_id: PublicKey) -> Result<(), String> {
        self.ask(|r| Command::Disconnect(node_id, r))
            .await
            .unwrap_or(Err("shutting down".into()))
    }

    /// Every connected peer that completed `init`.
    pub async fn list(&self) -> Vec<PeerInfo> {
        self.ask(Command::List).await.unwrap_or_default()
    }

    /// How many peers completed `init` (cheaper than [`PeerManager::list`]).
    pub async fn count(&self) -> usize {
        self.ask(Command::Count).await.unwrap_or_default()
    }

    /// Pings a peer; the answer is CLN's `totlen`.
    pub async fn ping(&self, node_id: PublicKey, len: u16, pongbytes: u16) -> Result<u16, String> {
        self.ask(|r| Command::Ping(node_id, len, pongbytes, r))
            .await
            .unwrap_or(Err("shutting down".into()))
    }

    /// Sends a protocol message on connection `conn_id` of `node_id`. Dropped if that
    /// connection is gone (the channel layer reestablishes on the next one); a connection
    /// whose queue is full is closed rather than losing a message.
    pub async fn send_message(
        &self,
        node_id: PublicKey,
        conn_id: ConnId,
        msg: fulgur_wire::Message,
    ) {
        let _ = self
            .tx
            .send(Command::Send(node_id, conn_id, Box::new(msg)))
            .await;
    }

    /// Sends a raw message (type included) to a peer.
    pub async fn send_custom(&self, node_id: PublicKey, raw: Vec<u8>) -> Result<(), String> {
        self.ask(|r| Command::Custom(node_id, raw, r))
            .await
            .unwrap_or(Err("shutting down".into()))
    }
}

impl State {
    fn ready_peer(&self, id: &PublicKey) -> Option<&Entry> {
        self.peers.get(id).filter(|e| e.info.features.is_some())
    }

    fn command(&mut self, cmd: Command) {
        match cmd {
            Command::Connect(id, addr, reply) => {
                if let Some(e) = self.ready_peer(&id) {
                    let _ = reply.send(Ok(e.info.clone()));
                    return;
                }
                if let Some(waiters) = self.waiters.get_mut(&id) {
                    waiters.push(reply);
                    return;
                }
                let Some(addr) = addr else {
                    let _ = reply.send(Err(ConnectFailure::NoAddress));
                    return;
                };
                self.waiters.insert(id, vec![reply]);
                self.tracker
                    .spawn(dial(id, addr, self.config.clone(), self.events_tx.clone()));
            }
            Command::Disconnect(id, reply) => match self.peers.remove(&id) {
                Some(e) => {
                    // Forget it now, so a `connect` right after dials afresh; the connection's
                    // own `Closed` event will no longer match and is ignored.
                    let _ = e.commands.try_send(PeerCommand::Disconnect);
                    self.open.fetch_sub(1, Ordering::AcqRel);
                    let _ = reply.send(Ok(()));
                }
                None => {
                    let _ = reply.send(Err("Peer not connected".into()));
                }
            },
            Command::List(reply) => {
                let mut v: Vec<PeerInfo> = self
                    .peers
                    .values()
                    .filter(|e| e.info.features.is_some())
                    .map(|e| e.info.clone())
                    .collect();
                v.sort_by_key(|p| p.node_id.serialize());
                let _ = reply.send(v);
            }
            Command::Count(reply) => {
                let _ = reply.send(
                    self.peers
                        .values()
                        .filter(|e| e.info.features.is_some())
                        .count(),
                );
            }
            Command::Ping(id, len, pongbytes, reply) => match self.ready_peer(&id) {
                Some(e) => {
                    if let Err(
                        mpsc::error::TrySendError::Full(PeerCommand::Ping { reply, .. })
                        | mpsc::error::TrySendError::Closed(PeerCommand::Ping { reply, .. }),
                    ) = e.commands.try_send(PeerCommand::Ping {
                        len,
                        pongbytes,
                        reply,
                    }) {
                        let _ = reply.send(Err("Peer not connected".into()));
                    }
                }
                None => {
                    let _ = reply.send(Err("Peer not connected".into()));
                }
            },
            Command::Send(id, conn_id, msg) => {
                if let Some(e) = self.peers.get(&id).filter(|e| e.conn_id == conn_id) {
                    if e.commands.try_send(PeerCommand::Send(msg)).is_err() {
                        tracing::info!(target: "connectd", peer_id = hex_id(&id).as_str(), "send queue full: disconnecting");
                        let _ = e.commands.try_send(PeerCommand::Disconnect);
                    }
                }
            }
            Command::Custom(id, raw, reply) => match self.ready_peer(&id) {
                Some(e) => {
                    let r = e
                        .commands
                        .try_send(PeerCommand::Custom(raw))
                        .map_err(|_| "Peer is not connected".to_string());
                    let _ = reply.send(r);
                }
                None => {
                    let _ = reply.send(Err(format!("No such peer: {}", hex_id(&id))));
                }
            },
        }
    }

    fn event(&mut self, ev: ManagerEvent) {
        match ev {
            ManagerEvent::Handshaked {
                node_id,
                direction,
                addr,
                stream,
                transport,
            } => {
                if let Some(old) = self.peers.remove(&node_id) {
                    tracing::debug!(target: "connectd", peer_id = hex_id(&node_id).as_str(), "new connection replaces the existing one");
                    let _ = old.commands.try_send(PeerCommand::Disconnect);
                    self.open.fetch_sub(1, Ordering::AcqRel);
                }
                self.next_conn += 1;
                let conn_id = self.next_conn;
                let (cmd_tx, cmd_rx) = mpsc::channel(1024);
                let info = PeerInfo {
                    node_id,
                    direction,
                    addr: addr.clone(),
                    features: None,
                };
                self.peers.insert(
                    node_id,
                    Entry {
                        conn_id,
                        info,
                        commands: cmd_tx,
                    },
                );
                let params = ConnectionParams {
                    conn_id,
                    node_id,
                    direction,
                    addr,
                    config: self.config.peer.clone(),
                    events: self.events_tx.clone(),
                    app: self.config.app_events.clone(),
                    shutdown: self.shutdown.clone(),
                };
                if direction == Direction::Out {
                    self.open.fetch_add(1, Ordering::AcqRel);
                }
                self.tracker
                    .spawn(connection::run(stream, *transport, params, cmd_rx));
            }
            ManagerEvent::DialFailed { node_id, error } => {
                tracing::info!(target: "connectd", peer_id = hex_id(&node_id).as_str(), "connect failed: {error}");
                if let Some(waiters) = self.waiters.remove(&node_id) {
                    for w in waiters {
                        let _ = w.send(Err(ConnectFailure::Failed(error.clone())));
                    }
                }
            }
            ManagerEvent::Ready {
                conn_id,
                node_id,
                features,
            } => {
                let Some(e) = self
                    .peers
                    .get_mut(&node_id)
                    .filter(|e| e.conn_id == conn_id)
                else {
                    return;
                };
                e.info.features = Some(features);
                let info = e.info.clone();
                if let Some(waiters) = self.waiters.remove(&node_id) {
                    for w in waiters {
                        let _ = w.send(Ok(info.clone()));
                    }
                }
            }
            ManagerEvent::Closed {
                conn_id,
                node_id,
                reason: _,
                before_init,
            } => {
                let Some(e) = self.peers.get(&node_id).filter(|e| e.conn_id == conn_id) else {
                    return;
                };
                let addr = e.info.addr.to_string();
                self.peers.remove(&node_id);
                self.open.fetch_sub(1, Ordering::AcqRel);
                if let Some(failure) = before_init {
                    for w in self.waiters.remove(&node_id).unwrap_or_default() {
                        let error = ConnectError {
                            addr: addr.clone(),
                            failure: failure.clone(),
                        };
                        let _ = w.send(Err(ConnectFailure::Failed(error)));
                    }
                }
            }
        }
    }
}

async fn dial(
    node_id: PublicKey,
    addr: NetAddress,
    config: NetConfig,
    events: mpsc::Sender<ManagerEvent>,
) {
    let result = dial_inner(node_id, &addr, &config).await;
    let ev = match result {
        Ok((stream, transport, used)) => ManagerEvent::Handshaked {
            node_id,
            direction: Direction::Out,
            addr: used,
            stream,
            transport: Box::new(transport),
        },
        Err(error) => ManagerEvent::DialFailed { node_id, error },
    };
    let _ = events.send(ev).await;
}

async fn dial_inner(
    node_id: PublicKey,
    addr: &NetAddress,
    config: &NetConfig,
) -> Result<(TcpStream, Transport, NetAddress), ConnectError> {
    let fail = |failure| ConnectError {
        addr: addr.to_string(),
        failure,
    };
    let targets: Vec<SocketAddr> = match addr {
        NetAddress::Ip(sa) => vec![*sa],
        NetAddress::Dns { host, port } => {
            let lookup = tokio::time::timeout(
                config.connect_timeout,
                tokio::net::lookup_host((host.as_str(), *port)),
            )
            .await;
            match lookup {
                Err(_) => {
                    return Err(fail(Failure::Dns(format!(
                        "no answer within {}s",
                        config.connect_timeout.as_secs()
                    ))))
                }
                Ok(Err(e)) => return Err(fail(Failure::Dns(e.to_string()))),
                Ok(Ok(found)) => found.collect(),
            }
        }
    };
    if targets.is_empty() {
        return Err(fail(Failure::Dns("no addresses".into())));
    }
    let mut last = None;
    for target in targets {
        let attempt =
            async {
                let mut stream =
                    match tokio::time::timeout(config.connect_timeout, TcpStream::connect(target))
                        .await
                    {
                        Err(_) => return Err(Failure::ConnectTimeout(config.connect_timeout)),
                        Ok(Err(e)) => return Err(tcp_failure(&e)),
                        Ok(Ok(s)) => s,
                    };
                let _ = stream.set_nodelay(true);
                let transport = handshake::outbound(
                    &mut stream,
                    config.node_key,
                    node_id,
                    config.handshake_timeout,
                )
                .await?;
                Ok((stream, transport))
            };
        match attempt.await {
            Ok((stream, transport)) => return Ok((stream, transport, NetAddress::Ip(target))),
            Err(failure) => {
                last = Some(ConnectError {
                    addr: target.to_string(),
                    failure,
                })
            }
        }
    }
    Err(last.unwrap_or_else(|| fail(Failure::Dns("no addresses".into()))))
}

async fn listen(
    listener: TcpListener,
    config: NetConfig,
    events: mpsc::Sender<ManagerEvent>,
    open: Arc<AtomicUsize>,
    shutdown: CancellationToken,
) {
    let mut failures: u32 = 0;
    loop {
        let (mut stream, peer_addr) = tokio::select! {
            _ = shutdown.cancelled() => return,
            r = listener.accept() => match r {
                Ok(x) => {
                    if failures > 0 {
                        tracing::info!(target: "connectd", "accepting again after {failures} failed attempts");
                        failures = 0;
                    }
                    x
                }
                Err(e) => {
                    // Out of file descriptors, typically: say so once per streak, back off.
                    failures += 1;
                    if failures == 1 {
                        tracing::warn!(target: "connectd", "accept failed: {e} (retrying with back-off)");
                    }
                    let pause = 50u64.saturating_mul(1 << failures.min(5));
                    tokio::time::sleep(std::time::Duration::from_millis(pause)).await;
                    continue;
                }
            },
        };
        if open.load(Ordering::Acquire) >= config.max_connections {
            tracing::warn!(target: "connectd", "refusing connection from {peer_addr}: {} connections open (max-connections)", config.max_connections);
            drop(stream);
            continue;
        }
        open.fetch_add(1, Ordering::AcqRel);
        let (config, events, open) = (config.clone(), events.clone(), open.clone());
        tokio::spawn(async move {
            let _ = stream.set_nodelay(true);
            match handshake::inbound(&mut stream, config.node_key, config.handshake_timeout).await {
                Ok((transport, node_id)) => {
                    tracing::debug!(target: "connectd", peer_id = hex_id(&node_id).as_str(), "incoming connection from {peer_addr}");
                    let ev = ManagerEvent::Handshaked {
                        node_id,
                        direction: Direction::In,
                        addr: NetAddress::Ip(peer_addr),
                        stream,
                        transport: Box::new(transport),
                    };
                    if events.send(ev).await.is_err() {
                        open.fetch_sub(1, Ordering::AcqRel);
                    }
                }
                Err(e) => {
                    open.fetch_sub(1, Ordering::AcqRel);
                    tracing::info!(target: "connectd", "incoming connection from {peer_addr} failed: {e}");
                }
            }
        });
    }
}
