//! One task per connected peer: a reader task decrypts frames into a bounded queue (so reading
//! pauses when the session falls behind), a writer task encrypts and sends, and the session
//! task in between runs [`PeerSession`], its timers and the manager's commands.

use crate::address::NetAddress;
use crate::error::Failure;
use crate::manager::{ConnId, Direction, ManagerEvent};
use fulgur_noise::Transport;
use fulgur_peer::{Action, DisconnectReason, PeerConfig, PeerEvent, PeerSession};
use secp256k1::PublicKey;
use std::time::Instant;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

/// How many decrypted messages may wait for the session, and encrypted ones for the socket.
const QUEUE: usize = 64;

/// What the network tells the application (the channel layer). For one connection the
/// events arrive in order: `Connected`, then its messages, then `Disconnected`.
#[derive(Debug)]
pub enum NetEvent {
    /// A peer's `init` exchange completed.
    Connected {
        /// The connection.
        conn_id: ConnId,
        /// The peer.
        node_id: PublicKey,
        /// Its features.
        features: fulgur_types::features::Features,
    },
    /// A message the session does not handle itself (channel messages, gossip).
    Message {
        /// The connection it came on.
        conn_id: ConnId,
        /// The peer.
        node_id: PublicKey,
        /// The message.
        msg: Box<fulgur_wire::Message>,
    },
    /// The peer sent an `error` for one channel.
    ChannelError {
        /// The connection it came on.
        conn_id: ConnId,
        /// The peer.
        node_id: PublicKey,
        /// The channel.
        channel_id: fulgur_wire::ChannelId,
        /// Its text.
        text: String,
    },
    /// A ready connection ended.
    Disconnected {
        /// The connection.
        conn_id: ConnId,
        /// The peer.
        node_id: PublicKey,
    },
}

/// What the manager can ask of a connected peer.
#[derive(Debug)]
pub enum PeerCommand {
    /// Send a ping; the reply carries `totlen` or why it could not be sent.
    Ping {
        /// Ignored bytes to send.
        len: u16,
        /// Bytes asked back.
        pongbytes: u16,
        /// Where the answer goes.
        reply: oneshot::Sender<Result<u16, String>>,
    },
    /// Send a custom message (type included).
    Custom(Vec<u8>),
    /// Send a protocol message (from the channel layer).
    Send(Box<fulgur_wire::Message>),
    /// Hang up.
    Disconnect,
}

/// How a connection ended.
enum End {
    /// The session decided (or was told) to hang up.
    Session(DisconnectReason),
    /// The socket closed or failed, or the node is stopping.
    Io(String),
}

impl std::fmt::Display for End {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            End::Session(r) => write!(f, "{r}"),
            End::Io(e) => f.write_str(e),
        }
    }
}

impl End {
    /// What a `connect` waiting for this peer's `init` is told.
    fn failure_before_init(&self, peer_said: Option<String>) -> Failure {
        match self {
            End::Session(DisconnectReason::NoInit(t)) => Failure::NoInit(*t),
            End::Session(DisconnectReason::PeerError(text)) => Failure::ClosedBeforeInit {
                peer_said: Some(text.clone()),
            },
            End::Session(other) => Failure::Rejected(other.to_string()),
            End::Io(_) => Failure::ClosedBeforeInit { peer_said },
        }
    }
}

/// Everything a connection task needs.
pub struct ConnectionParams {
    /// The id the manager knows this connection by.
    pub conn_id: ConnId,
    /// The peer.
    pub node_id: PublicKey,
    /// Who dialed.
    pub direction: Direction,
    /// The peer's address.
    pub addr: NetAddress,
    /// Session settings.
    pub config: PeerConfig,
    /// Events to the manager.
    pub events: mpsc::Sender<ManagerEvent>,
    /// Events to the application (channel messages, connects, disconnects).
    pub app: Option<mpsc::Sender<NetEvent>>,
    /// Node shutdown.
    pub shutdown: CancellationToken,
}

fn peer_hex(id: &PublicKey) -> String {
    hex::encode(id.serialize())
}

/// Runs a connected peer until it disconnects.
pub async fn run(
    stream: TcpStream,
    transport: Transport,
    p: ConnectionParams,
    mut commands: mpsc::Receiver<PeerCommand>,
) {
    let peer_id = peer_hex(&p.node_id);
    let (mut encryptor, mut decryptor) = transport.split();
    let (mut rd, mut wr) = stream.into_split();

    let (in_tx, mut in_rx) = mpsc::channel::<Result<Vec<u8>, String>>(QUEUE);
    let reader = tokio::spawn(async move {
        loop {
            let mut header = [0u8; 18];
            if let Err(e) = rd.read_exact(&mut header).await {
                let _ = in_tx.send(Err(format!("connection closed: {e}"))).await;
                return;
            }
            let len = match decryptor.decrypt_length(&header) {
                Ok(l) => usize::from(l),
                Err(e) => {
                    let _ = in_tx.send(Err(format!("bad frame: {e}"))).await;
                    return;
                }
            };
            let mut body = vec![0u8; len + 16];
            if let Err(e) = rd.read_exact(&mut body).await {
                let _ = in_tx
                    .send(Err(format!("connection closed mid-frame: {e}")))
                    .await;
                return;
            }
            match decryptor.decrypt_body_in_place(&mut body) {
                Ok(()) => {
                    if in_tx.send(Ok(body)).await.is_err() {
                        return;
                    }
                }
                Err(e) => {
                    let _ = in_tx.send(Err(format!("bad frame: {e}"))).await;
                    return;
                }
            }
        }
    });

    let (out_tx, mut out_rx) = mpsc::channel::<Vec<u8>>(QUEUE);
    let writer = tokio::spawn(async move {
        while let Some(plain) = out_rx.recv().await {
            let Ok(frame) = encryptor.encrypt(&plain) else {
                break;
            };
            if wr.write_all(&frame).await.is_err() {
                break;
            }
        }
        let _ = wr.shutdown().await;
    });

    let (mut session, first) = PeerSession::new(p.config.clone(), Instant::now());
    let mut pending_ping: Option<oneshot::Sender<Result<u16, String>>> = None;
    let mut last_warning: Option<String> = None;
    let mut actions = first;
    let end: End = 'run: loop {
        for action in actions.drain(..) {
            match action {
                Action::Send(msg) => {
                    if out_tx.send(msg.encode()).await.is_err() {
                        break 'run End::Io("connection lost while sending".into());
                    }
                }
                Action::SendRaw(raw) => {
                    if out_tx.send(raw).await.is_err() {
                        break 'run End::Io("connection lost while sending".into());
                    }
                }
                Action::Disconnect(why) => {
                    tracing::debug!(target: "connectd", peer_id = peer_id.as_str(), "disconnecting: {why}");
                    break 'run End::Session(why);
                }
                Action::Event(ev) => match ev {
                    PeerEvent::Ready { features } => {
                        tracing::info!(target: "connectd", peer_id = peer_id.as_str(), "peer ready ({:?}), features {}", p.direction, features);
                        if let Some(app) = &p.app {
                            let _ = app
                                .send(NetEvent::Connected {
                                    conn_id: p.conn_id,
                                    node_id: p.node_id,
                                    features: features.clone(),
                                })
                                .await;
                        }
                        let _ = p
                            .events
                            .send(ManagerEvent::Ready {
                                conn_id: p.conn_id,
                                node_id: p.node_id,
                                features,
                            })
                            .await;
                    }
                    PeerEvent::PingDone { totlen } => {
                        if let Some(r) = pending_ping.take() {
                            let _ = r.send(Ok(totlen));
                        }
                    }
                    PeerEvent::Warning { channel_id, text } => {
                        let scope = channel_id
                            .map(|c| format!("channel {c}"))
                            .unwrap_or_else(|| "connection".into());
                        tracing::warn!(target: "connectd", peer_id = peer_id.as_str(), "peer sent warning ({scope}): {text}");
                        last_warning = Some(text);
                    }
                    PeerEvent::ChannelError { channel_id, text } => {
                        tracing::warn!(target: "connectd", peer_id = peer_id.as_str(), "peer sent error for channel {channel_id}: {text}");
                        if let Some(app) = &p.app {
                            let _ = app
                                .send(NetEvent::ChannelError {
                                    conn_id: p.conn_id,
                                    node_id: p.node_id,
                                    channel_id,
                                    text,
                                })
                                .await;
                        }
                    }
                    PeerEvent::Custom { raw } => {
                        let t = raw
                            .get(..2)
                            .map(|b| u16::from_be_bytes([b[0], b[1]]))
                            .unwrap_or(0);
                        tracing::debug!(target: "connectd", peer_id = peer_id.as_str(), "custom message type {t} ({} bytes)", raw.len());
                    }
                    PeerEvent::Message(m) => match &p.app {
                        // The bounded queue pauses reading while the channel layer is busy.
                        Some(app) => {
                            if app
                                .send(NetEvent::Message {
                                    conn_id: p.conn_id,
                                    node_id: p.node_id,
                                    msg: m,
                                })
                                .await
                                .is_err()
                            {
                                break 'run End::Io("node shutting down".into());
                            }
                        }
                        None => {
                            tracing::debug!(target: "connectd", peer_id = peer_id.as_str(), "ignoring message type {} (not handled yet)", m.msg_type());
                        }
                    },
                    PeerEvent::Log { unusual, text } => {
                        if unusual {
                            tracing::warn!(target: "connectd", peer_id = peer_id.as_str(), "{text}");
                        } else {
                            tracing::debug!(target: "connectd", peer_id = peer_id.as_str(), "{text}");
                        }
                    }
                },
            }
        }
        let deadline = session.poll_timeout().map(tokio::time::Instant::from_std);
        tokio::select! {
            _ = p.shutdown.cancelled() => break 'run End::Io("node shutting down".into()),
            incoming = in_rx.recv() => match incoming {
                Some(Ok(msg)) => actions = session.handle_message(&msg, Instant::now()),
                Some(Err(e)) => break 'run End::Io(e),
                None => break 'run End::Io("connection closed".into()),
            },
            cmd = commands.recv() => match cmd {
                Some(PeerCommand::Ping { len, pongbytes, reply }) => match session.request_ping(len, pongbytes, Instant::now()) {
                    Ok(a) => { pending_ping = Some(reply); actions = a; }
                    Err(e) => { let _ = reply.send(Err(e.to_string())); }
                },
                Some(PeerCommand::Custom(raw)) => actions = session.send_custom(raw),
                Some(PeerCommand::Send(msg)) => actions = vec![Action::Send(*msg)],
                Some(PeerCommand::Disconnect) | None => actions = session.disconnect(),
            },
            _ = async { match deadline { Some(d) => tokio::time::sleep_until(d).await, None => std::future::pending().await } } => {
                actions = session.handle_timeout(Instant::now());
            }
        }
    };
    let reason = end.to_string();
    if let (Some(app), true) = (&p.app, session.their_features().is_some()) {
        let _ = app
            .send(NetEvent::Disconnected {
                conn_id: p.conn_id,
                node_id: p.node_id,
            })
            .await;
    }
    if let Some(r) = pending_ping.take() {
        let _ = r.send(Err(format!("peer disconnected: {reason}")));
    }
    let was_ready = session.their_features().is_some();
    let before_init = (!was_ready).then(|| end.failure_before_init(last_warning));
    drop(out_tx);
    // Let queued messages (a warning explaining the hang-up) reach the peer, briefly.
    let _ = tokio::time::timeout(std::time::Duration::from_secs(2), writer).await;
    reader.abort();
    tracing::info!(target: "connectd", peer_id = peer_id.as_str(), "disconnected: {reason}");
    let _ = p
        .events
        .send(ManagerEvent::Closed {
            conn_id: p.conn_id,
            node_id: p.node_id,
            reason,
            before_init,
        })
        .await;
}
