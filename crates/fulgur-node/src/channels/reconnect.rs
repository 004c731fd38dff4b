//! Reconnecting channel peers, as Core Lightning does: after a restart and after a
//! disconnection, every peer with a channel that still needs it (open, or a mutual close
//! waiting to be mined) is dialled at the address we last reached it at, with a delay that
//! doubles after each attempt up to [`MAX_BACKOFF`]. Peers that only ever dialled us have no
//! address to dial; they reconnect to us.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use fulgur_channel::ChannelState;
use secp256k1::PublicKey;

use super::manager::Manager;

/// The first delay before reconnecting.
pub const FIRST_BACKOFF: Duration = Duration::from_secs(1);
/// The longest delay between attempts.
pub const MAX_BACKOFF: Duration = Duration::from_secs(300);

/// When to try a peer next.
#[derive(Debug, Clone)]
pub(super) struct Reconnect {
    due: Instant,
    backoff: Duration,
    /// Set while a dial is under way, so a slow one is not joined by another.
    dialing: Arc<AtomicBool>,
}

impl Manager {
    /// Whether some channel with `peer` needs the connection.
    fn needs_connection(&self, peer: &PublicKey) -> bool {
        self.channels.values().any(|e| {
            e.ch.setup().peer_id == *peer
                && (e.ch.state().is_active() || e.ch.state() == ChannelState::ClosingdComplete)
        })
    }

    /// Plans a reconnection to `peer` in `after`, if a channel needs it.
    pub(super) fn plan_reconnect(&mut self, peer: PublicKey, after: Duration) {
        if self.conns.contains_key(&peer) || !self.needs_connection(&peer) {
            return;
        }
        self.reconnects.entry(peer).or_insert(Reconnect {
            due: Instant::now() + after,
            backoff: FIRST_BACKOFF,
            dialing: Arc::new(AtomicBool::new(false)),
        });
    }

    /// Plans a reconnection to every channel peer (at start).
    pub(super) fn plan_all_reconnects(&mut self) {
        let peers: Vec<PublicKey> = self
            .channels
            .values()
            .map(|e| e.ch.setup().peer_id)
            .collect();
        for p in peers {
            self.plan_reconnect(p, Duration::ZERO);
        }
    }

    /// Dials the peers whose time came (each in its own task, so the manager never waits
    /// on the network), and plans the next attempt in case this one fails.
    pub(super) fn reconnect_due(&mut self) {
        let now = Instant::now();
        let connected: Vec<PublicKey> = self
            .reconnects
            .keys()
            .filter(|p| self.conns.contains_key(p) || !self.needs_connection(p))
            .copied()
            .collect();
        for p in connected {
            self.reconnects.remove(&p);
        }
        for (peer, r) in self.reconnects.iter_mut() {
            if r.due > now || r.dialing.swap(true, Ordering::AcqRel) {
                continue;
            }
            r.due = now + r.backoff;
            r.backoff = (r.backoff * 2).min(MAX_BACKOFF);
            let ctx = self.ctx.clone();
            let peer = *peer;
            let dialing = r.dialing.clone();
            tokio::spawn(async move {
                dial(&ctx, peer).await;
                dialing.store(false, Ordering::Release);
            });
        }
    }
}

/// One attempt to reach `peer` at its stored address.
async fn dial(ctx: &crate::context::NodeContext, peer: PublicKey) {
    let key = peer.serialize();
    let address = ctx
        .onchain
        .with_store(move |s| Ok(s.peer_address(&key)?))
        .await;
    let Ok(Some(text)) = address else {
        return;
    };
    let port = ctx.config.network.default_lightning_port();
    let Ok(addr) = fulgur_net::parse_address(&text, port) else {
        tracing::warn!(target: "lightningd", "peer {peer}: stored address {text:?} is not an address");
        return;
    };
    match ctx.peers.connect(peer, Some(addr)).await {
        Ok(_) => tracing::info!(target: "lightningd", "reconnected to {peer} at {text}"),
        Err(e) => {
            tracing::debug!(target: "lightningd", "reconnecting to {peer} at {text}: {e:?}")
        }
    }
}
