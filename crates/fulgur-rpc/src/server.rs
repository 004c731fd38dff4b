//! The `lightning-rpc` Unix socket: one task per connection, requests read as they arrive and
//! answered concurrently (replies in completion order, each ending in a blank line), a cap on
//! request size, on connections and on requests in flight per connection (reading pauses
//! while the cap is reached), and a clean stop on cancellation.

use crate::registry::Registry;
use fulgur_rpc_types::envelope::error_reply;
use fulgur_rpc_types::framing::{Scan, Scanner};
use fulgur_rpc_types::RpcError;
use serde_json::value::RawValue;
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::{mpsc, Semaphore};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Limits of the server.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Largest request accepted, in bytes; a larger one gets an error and the connection closes.
    pub max_request_bytes: usize,
    /// Most connections open at once; more are closed on accept.
    pub max_connections: usize,
    /// Most requests of one connection being handled at once.
    pub max_in_flight: usize,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            max_request_bytes: 16 * 1024 * 1024,
            max_connections: 1024,
            max_in_flight: 64,
        }
    }
}

/// Binds the socket at `path` with permissions `mode`. A stale socket file left by a process
/// that died is removed; a live one (something answers on it) is an `AddrInUse` error.
///
/// Returns a non-blocking std listener, so a daemon can take the socket (its guard against a
/// second instance) before it starts its async runtime; turn it into a tokio listener with
/// `UnixListener::from_std` inside the runtime.
pub fn bind_socket(path: &Path, mode: u32) -> io::Result<std::os::unix::net::UnixListener> {
    if path.exists() {
        if std::os::unix::net::UnixStream::connect(path).is_ok() {
            return Err(io::Error::new(
                io::ErrorKind::AddrInUse,
                format!("{} is in use: is another node running?", path.display()),
            ));
        }
        std::fs::remove_file(path)?;
    }
    let listener = std::os::unix::net::UnixListener::bind(path)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))?;
    listener.set_nonblocking(true)?;
    Ok(listener)
}

/// Serves `listener` until `shutdown` is cancelled. Connection tasks are spawned on `tracker`,
/// so the caller can wait for replies in flight to be written before it exits.
pub async fn serve<C: Send + Sync + 'static>(
    listener: UnixListener,
    registry: Arc<Registry<C>>,
    ctx: Arc<C>,
    config: ServerConfig,
    shutdown: CancellationToken,
    tracker: TaskTracker,
) {
    let open = Arc::new(AtomicUsize::new(0));
    let mut next_id: u64 = 0;
    let mut failures: u32 = 0;
    loop {
        let stream = tokio::select! {
            _ = shutdown.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    if failures > 0 {
                        tracing::info!(target: "jsonrpc", "accepting again after {failures} failed attempts");
                        failures = 0;
                    }
                    stream
                }
                Err(e) => {
                    // Out of file descriptors, typically: say so once per streak, back off.
                    failures += 1;
                    if failures == 1 {
                        tracing::warn!(target: "jsonrpc", "accept failed: {e} (retrying with back-off)");
                    }
                    let pause = 50u64.saturating_mul(1 << failures.min(5));
                    tokio::time::sleep(std::time::Duration::from_millis(pause)).await;
                    continue;
                }
            },
        };
        if open.load(Ordering::Acquire) >= config.max_connections {
            tracing::warn!(target: "jsonrpc", "refusing connection: {} already open", config.max_connections);
            drop(stream);
            continue;
        }
        open.fetch_add(1, Ordering::AcqRel);
        next_id += 1;
        let conn = Connection {
            id: next_id,
            registry: registry.clone(),
            ctx: ctx.clone(),
            config: config.clone(),
            shutdown: shutdown.clone(),
            tracker: tracker.clone(),
        };
        let open = open.clone();
        tracker.spawn(async move {
            conn.run(stream).await;
            open.fetch_sub(1, Ordering::AcqRel);
        });
    }
}

struct Connection<C> {
    id: u64,
    registry: Arc<Registry<C>>,
    ctx: Arc<C>,
    config: ServerConfig,
    shutdown: CancellationToken,
    tracker: TaskTracker,
}

impl<C: Send + Sync + 'static> Connection<C> {
    async fn run(self, stream: UnixStream) {
        let (mut rd, mut wr) = stream.into_split();
        let (tx, mut rx) = mpsc::channel::<String>(self.config.max_in_flight);
        let writer = self.tracker.spawn(async move {
            while let Some(reply) = rx.recv().await {
                if wr.write_all(reply.as_bytes()).await.is_err() {
                    break;
                }
            }
            let _ = wr.shutdown().await;
        });
        let slots = Arc::new(Semaphore::new(self.config.max_in_flight));
        let mut buf: Vec<u8> = Vec::with_capacity(4096);
        let mut scanner = Scanner::new();
        let mut chunk = vec![0u8; 64 * 1024];
        tracing::debug!(target: "jsonrpc", "jsonrpc#{}: connection opened", self.id);
        'conn: loop {
            // Hand out every complete request already buffered.
            loop {
                match scanner.scan(&buf) {
                    Scan::Empty(n) => {
                        buf.drain(..n);
                        scanner = Scanner::new();
                        break;
                    }
                    Scan::Incomplete => break,
                    Scan::NotAnObject => {
                        self.fail(&tx, "Expected {} for json command").await;
                        break 'conn;
                    }
                    Scan::Complete { start, end } => {
                        let parsed = serde_json::from_slice::<Box<RawValue>>(&buf[start..end]);
                        buf.drain(..end);
                        scanner = Scanner::new();
                        let raw: Box<RawValue> = match parsed {
                            Ok(raw) => raw,
                            Err(e) => {
                                self.fail(&tx, &format!("Failed to parse JSON request: {e}"))
                                    .await;
                                break 'conn;
                            }
                        };
                        let permit = tokio::select! {
                            _ = self.shutdown.cancelled() => break 'conn,
                            p = slots.clone().acquire_owned() => match p {
                                Ok(p) => p,
                                Err(_) => break 'conn,
                            },
                        };
                        let (registry, ctx, tx, shutdown) = (
                            self.registry.clone(),
                            self.ctx.clone(),
                            tx.clone(),
                            self.shutdown.clone(),
                        );
                        self.tracker.spawn(async move {
                            let reply = tokio::select! {
                                biased;
                                r = registry.dispatch(&ctx, &raw) => r,
                                _ = shutdown.cancelled() => {
                                    let id = fulgur_rpc_types::parse_request(&raw).ok().map(|r| r.id.get().to_string());
                                    error_reply(id.as_deref(), &RpcError::new(fulgur_rpc_types::codes::LIGHTNINGD_SHUTDOWN, "lightningd is shutting down"))
                                }
                            };
                            let _ = tx.send(reply).await;
                            drop(permit);
                        });
                    }
                }
            }
            if buf.len() > self.config.max_request_bytes {
                let msg = format!(
                    "Request too large: more than {} bytes without a complete JSON object",
                    self.config.max_request_bytes
                );
                self.fail(&tx, &msg).await;
                break;
            }
            let n = tokio::select! {
                _ = self.shutdown.cancelled() => break,
                r = rd.read(&mut chunk) => match r {
                    Ok(0) | Err(_) => break,
                    Ok(n) => n,
                },
            };
            buf.extend_from_slice(&chunk[..n]);
        }
        drop(tx);
        let _ = writer.await;
        tracing::debug!(target: "jsonrpc", "jsonrpc#{}: connection closed", self.id);
    }

    async fn fail(&self, tx: &mpsc::Sender<String>, message: &str) {
        tracing::info!(target: "jsonrpc", "jsonrpc#{}: closing connection: {message}", self.id);
        let _ = tx
            .send(error_reply(None, &RpcError::invalid_request(message)))
            .await;
    }
}
