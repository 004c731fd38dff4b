//! The manager task: the channels it owns, how it serves requests and peer and chain events,
//! and how channel actions are carried out.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bitcoin::Transaction;
use fulgur_channel::{
    Action, Channel, ChannelError, ChannelSigner, ChannelState, CloseFeerates, Consequence,
    InboundOpen, LocalConfig, OutboundOpen,
};
use fulgur_keys::ChannelBase;
use fulgur_net::{ConnId, NetEvent};
use fulgur_rpc_types::RpcError;
use fulgur_store::ChannelRow;
use fulgur_types::features::Features;
use fulgur_wire::{ChannelId, Message, WarningMessage};
use secp256k1::PublicKey;
use serde_json::{json, Value};
use tokio::sync::mpsc;

use super::handle::{CloseRequest, Reply, Request, StartedOpen};
use super::watch::{ChainEvent, FundingWatch};
use crate::context::NodeContext;

/// At most this many opens in negotiation with one peer.
pub const MAX_PENDING_OPENS_PER_PEER: usize = 4;
/// At most this many opens in negotiation in all.
pub const MAX_PENDING_OPENS: usize = 100;
/// A channel the peer opened is forgotten if its funding is not seen in this many blocks
/// (CLN's limit).
pub const MAX_FUNDING_UNCONFIRMED: u32 = 2016;
/// A mutual close this deep is final: the channel moves to `CLOSED` (as CLN forgets it).
pub const CLOSE_BURIED_DEPTH: u32 = 100;

pub(super) struct Entry {
    pub ch: Channel,
    /// The HTLCs as last stored (for `listhtlcs`'s history).
    pub htlcs_seen: super::htlcs::Seen,
    pub opened_height: u32,
    pub closed_height: Option<u32>,
    /// The funding transaction's block height, once mined.
    pub conf_height: Option<u32>,
    pub funding_tx: Option<Transaction>,
}

pub(super) struct CloseWaiter {
    pub reply: Reply<Value>,
    pub deadline: Option<Instant>,
}

pub(super) struct PendingOut {
    pub open: OutboundOpen,
    pub start_reply: Option<Reply<StartedOpen>>,
    /// The script the funding output must pay, once the peer accepted.
    pub script_pubkey: Option<bitcoin::ScriptBuf>,
    pub complete_reply: Option<Reply<(ChannelId, u32)>>,
}

/// The manager's state, owned by its task.
pub(super) struct Manager {
    pub ctx: Arc<NodeContext>,
    pub base: ChannelBase,
    pub cfg: LocalConfig,
    pub watch: Arc<FundingWatch>,
    pub channels: HashMap<[u8; 32], Entry>,
    /// Channels that reached `CLOSED`: kept for `listclosedchannels`, out of every other path.
    pub closed: HashMap<[u8; 32], Entry>,
    pub conns: HashMap<PublicKey, (ConnId, Features)>,
    pub outbound: HashMap<PublicKey, PendingOut>,
    pub inbound: HashMap<(PublicKey, [u8; 32]), InboundOpen>,
    pub next_dbid: u64,
    pub close_waiters: HashMap<[u8; 32], Vec<CloseWaiter>>,
    pub close_script: Option<Vec<u8>>,
    /// Channel peers to dial again, and when.
    pub reconnects: HashMap<PublicKey, super::reconnect::Reconnect>,
}

/// The queues the manager reads.
#[derive(Debug)]
pub struct Inputs {
    /// Requests from RPC commands.
    pub requests: mpsc::Receiver<Request>,
    /// Peer events.
    pub net: mpsc::Receiver<NetEvent>,
    /// Chain events.
    pub chain: mpsc::UnboundedReceiver<ChainEvent>,
}

/// Starts the manager task: loads the stored channels and serves requests.
pub fn spawn(
    ctx: Arc<NodeContext>,
    base: ChannelBase,
    cfg: LocalConfig,
    watch: Arc<FundingWatch>,
    inputs: Inputs,
    tracker: &tokio_util::task::TaskTracker,
) {
    let Inputs {
        requests,
        net,
        chain,
    } = inputs;
    tracker.spawn(async move {
        let mut m = Manager {
            ctx,
            base,
            cfg,
            watch,
            channels: HashMap::new(),
            closed: HashMap::new(),
            conns: HashMap::new(),
            outbound: HashMap::new(),
            inbound: HashMap::new(),
            next_dbid: 1,
            close_waiters: HashMap::new(),
            close_script: None,
            reconnects: HashMap::new(),
        };
        if let Err(e) = m.load().await {
            tracing::error!(target: "lightningd", "cannot load channels: {e}");
            m.ctx.shutdown.cancel();
            return;
        }
        m.plan_all_reconnects();
        m.run(requests, net, chain).await;
    });
}

impl Manager {
    async fn load(&mut self) -> Result<(), String> {
        let rows = self
            .ctx
            .onchain
            .with_store(|s| Ok(s.channels()?))
            .await
            .map_err(|e| e.to_string())?;
        for row in rows {
            self.next_dbid = self.next_dbid.max(row.dbid + 1);
            let peer = PublicKey::from_slice(&row.peer_id).map_err(|e| e.to_string())?;
            let secrets = self
                .base
                .channel_secrets(&peer, row.dbid)
                .map_err(|e| e.to_string())?;
            let ch = Channel::restore(&row.record, ChannelSigner::new(secrets), self.cfg.clone())
                .map_err(|e| format!("channel {}: {e}", row.dbid))?;
            let outpoint = ch.setup().funding_outpoint;
            let conf_height = ch.data().short_channel_id.map(|s| (s >> 40) as u32);
            if ch.state().is_active() || ch.state() == ChannelState::ClosingdComplete {
                self.watch.watch(outpoint);
            }
            let closed = ch.state() == ChannelState::Closed;
            let entry = Entry {
                htlcs_seen: super::htlcs::seen(&ch),
                ch,
                opened_height: row.opened_height,
                closed_height: row.closed_height,
                conf_height,
                funding_tx: None,
            };
            if closed {
                self.closed.insert(row.channel_id, entry);
            } else {
                self.channels.insert(row.channel_id, entry);
            }
        }
        tracing::info!(target: "lightningd", "loaded {} channel(s) and {} closed", self.channels.len(), self.closed.len());
        Ok(())
    }

    async fn run(
        &mut self,
        mut requests: mpsc::Receiver<Request>,
        mut net: mpsc::Receiver<NetEvent>,
        mut chain: mpsc::UnboundedReceiver<ChainEvent>,
    ) {
        let mut status = self.ctx.chain.clone();
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        let shutdown = self.ctx.shutdown.clone();
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => break,
                Some(r) = requests.recv() => self.request(r).await,
                Some(ev) = net.recv() => self.net_event(ev).await,
                Some(ev) = chain.recv() => self.chain_event(ev).await,
                Ok(()) = status.changed() => self.new_tip().await,
                _ = tick.tick() => self.tick().await,
            }
        }
    }

    pub(super) fn tip(&self) -> u32 {
        self.ctx.blockheight()
    }

    pub(super) fn feerate_bounds(&self) -> (u32, u32) {
        let fees = self.ctx.fees.read().unwrap_or_else(|e| e.into_inner());
        (fees.min_acceptable().perkw(), fees.max_acceptable().perkw())
    }

    pub(super) fn close_feerates(&self) -> CloseFeerates {
        let fees = self.ctx.fees.read().unwrap_or_else(|e| e.into_inner());
        let min = fees.min_acceptable().perkw().max(253);
        let desired = fees.mutual_close().map_or(1000, |r| r.perkw()).max(min);
        let max = fees
            .unilateral_close(false)
            .map_or(desired * 10, |r| r.perkw())
            .max(desired);
        CloseFeerates { desired, min, max }
    }

    /// Refreshes the fee rates a channel accepts and closes at.
    fn tune(&self, ch: &mut Channel) {
        let (lo, hi) = self.feerate_bounds();
        ch.set_feerate_bounds(lo, hi);
        ch.set_close_feerates(self.close_feerates());
    }

    async fn request(&mut self, r: Request) {
        match r {
            Request::Start(req, reply) => self.start_open(req, reply).await,
            Request::Complete(peer, tx, reply) => self.complete_open(peer, tx, reply).await,
            Request::AbandonFunding(txid, why, reply) => {
                let n = self.abandon_funding(txid, &why).await;
                let _ = reply.send(Ok(n));
            }
            Request::Cancel(peer, reply) => {
                let r = match self.outbound.remove(&peer) {
                    Some(p) => {
                        self.send_to(
                            &peer,
                            WarningMessage {
                                channel_id: p.open.temporary_channel_id(),
                                data: b"open cancelled".to_vec(),
                            }
                            .into(),
                        )
                        .await;
                        Ok(())
                    }
                    None => self.cancel_unbroadcast(&peer).await,
                };
                let _ = reply.send(r);
            }
            Request::Close(req, reply) => self.close(req, reply).await,
            Request::List(peer, reply) => {
                let mut v: Vec<Value> = self
                    .channels
                    .values()
                    .filter(|e| peer.is_none_or(|p| e.ch.setup().peer_id == p))
                    .map(|e| super::list::channel_json(self, e))
                    .collect();
                for (p, o) in &self.outbound {
                    if peer.is_none_or(|x| x == *p) {
                        v.push(super::list::opening_json(self, p, o));
                    }
                }
                let _ = reply.send(v);
            }
            Request::HtlcScope(id, reply) => {
                let r = self.htlc_scope(id.as_deref());
                let _ = reply.send(r);
            }
            Request::SetChannel(req, reply) => {
                let r = self.setchannel(req).await;
                let _ = reply.send(r);
            }
            Request::Counts(reply) => {
                let (mut pending, mut active, mut inactive) = (0, 0, 0);
                for e in self.channels.values() {
                    match e.ch.state() {
                        ChannelState::ChanneldAwaitingLockin => pending += 1,
                        ChannelState::ChanneldNormal
                        | ChannelState::ChanneldShuttingDown
                        | ChannelState::ClosingdSigexchange => active += 1,
                        _ => inactive += 1,
                    }
                }
                let _ = reply.send((pending, active, inactive));
            }
            Request::States(peer, reply) => {
                let wanted = |p: &PublicKey| peer.is_none_or(|x| x == *p);
                let mut v: Vec<(PublicKey, &'static str)> = self
                    .channels
                    .values()
                    .map(|e| (e.ch.setup().peer_id, e.ch.state().as_str()))
                    .filter(|(p, _)| wanted(p))
                    .collect();
                v.extend(
                    self.outbound
                        .keys()
                        .filter(|p| wanted(p))
                        .map(|p| (*p, "OPENINGD")),
                );
                let _ = reply.send(v);
            }
            Request::ListClosed(peer, reply) => {
                let mut v: Vec<(u64, Value)> = self
                    .closed
                    .values()
                    .filter(|e| peer.is_none_or(|p| e.ch.setup().peer_id == p))
                    .map(|e| (e.ch.setup().dbid, super::list::closed_json(e)))
                    .collect();
                v.sort_by_key(|(dbid, _)| *dbid);
                let _ = reply.send(v.into_iter().map(|(_, j)| j).collect());
            }
        }
    }

    pub(super) async fn send_to(&self, peer: &PublicKey, msg: Message) {
        if let Some((conn, _)) = self.conns.get(peer) {
            self.ctx.peers.send_message(*peer, *conn, msg).await;
        }
    }

    async fn net_event(&mut self, ev: NetEvent) {
        match ev {
            NetEvent::Connected {
                conn_id,
                node_id,
                features,
            } => {
                self.conns.insert(node_id, (conn_id, features));
                self.reconnects.remove(&node_id);
                let ids: Vec<[u8; 32]> = self.channel_ids_of(&node_id);
                for id in ids {
                    let Some(e) = self.channels.get_mut(&id) else {
                        continue;
                    };
                    e.ch.disconnected();
                    let acts = e.ch.connected();
                    self.apply(id, acts).await;
                }
            }
            NetEvent::Disconnected { conn_id, node_id } => {
                if self.conns.get(&node_id).is_some_and(|(c, _)| *c == conn_id) {
                    self.conns.remove(&node_id);
                    for id in self.channel_ids_of(&node_id) {
                        if let Some(e) = self.channels.get_mut(&id) {
                            e.ch.disconnected();
                        }
                    }
                    self.inbound.retain(|(p, _), _| *p != node_id);
                    if let Some(p) = self.outbound.remove(&node_id) {
                        fail_pending(p, "Peer disconnected");
                    }
                    self.plan_reconnect(node_id, super::reconnect::FIRST_BACKOFF);
                }
            }
            NetEvent::ChannelError {
                conn_id,
                node_id,
                channel_id,
                text,
            } => {
                if self.conns.get(&node_id).is_none_or(|(c, _)| *c != conn_id) {
                    return;
                }
                if let Some(p) = self.outbound.remove(&node_id) {
                    if p.open.temporary_channel_id() == channel_id {
                        fail_pending(p, &format!("Peer error: {text}"));
                    } else {
                        self.outbound.insert(node_id, p);
                    }
                }
                self.inbound.remove(&(node_id, channel_id.0));
                if let Some(e) = self.channels.get_mut(&channel_id.0) {
                    if e.ch.setup().peer_id == node_id && e.ch.state().is_active() {
                        tracing::info!(target: "channeld", "peer failed channel {channel_id}: {text}");
                        let acts = e.ch.peer_failed();
                        self.apply(channel_id.0, acts).await;
                    }
                }
            }
            NetEvent::Message {
                conn_id,
                node_id,
                msg,
            } => {
                if self.conns.get(&node_id).is_none_or(|(c, _)| *c != conn_id) {
                    return;
                }
                self.message(node_id, *msg).await;
            }
        }
    }

    /// The channels funded by transaction `txid`.
    pub(super) fn channels_funded_by(&self, txid: &bitcoin::Txid) -> Vec<[u8; 32]> {
        self.channels
            .iter()
            .filter(|(_, e)| e.ch.setup().funding_outpoint.txid == *txid)
            .map(|(id, _)| *id)
            .collect()
    }

    fn channel_ids_of(&self, peer: &PublicKey) -> Vec<[u8; 32]> {
        self.channels
            .iter()
            .filter(|(_, e)| e.ch.setup().peer_id == *peer)
            .map(|(id, _)| *id)
            .collect()
    }

    async fn message(&mut self, peer: PublicKey, msg: Message) {
        match &msg {
            Message::OpenChannel(m) => return self.on_open_channel(peer, m).await,
            Message::AcceptChannel(m) => return self.on_accept_channel(peer, m).await,
            Message::FundingCreated(m) => return self.on_funding_created(peer, m).await,
            Message::FundingSigned(m) => return self.on_funding_signed(peer, m).await,
            _ => {}
        }
        let (lo, hi) = self.feerate_bounds();
        let Some(channel_id) = message_channel_id(&msg) else {
            tracing::debug!(target: "channeld", "ignoring {} from {peer}", msg.name());
            return;
        };
        let Some(e) = self
            .channels
            .get_mut(&channel_id.0)
            .filter(|e| e.ch.setup().peer_id == peer)
        else {
            self.send_to(
                &peer,
                WarningMessage {
                    channel_id,
                    data: format!("unknown channel for {}", msg.name()).into_bytes(),
                }
                .into(),
            )
            .await;
            return;
        };
        if e.ch.policy().ignore_fee_limits {
            e.ch.set_feerate_bounds(1, u32::MAX);
        } else {
            e.ch.set_feerate_bounds(lo, hi);
        }
        match e.ch.handle_message(&msg) {
            Ok(acts) => self.apply(channel_id.0, acts).await,
            Err(err) => self.protocol_error(channel_id, &peer, err).await,
        }
    }

    pub(super) async fn protocol_error(
        &mut self,
        channel_id: ChannelId,
        peer: &PublicKey,
        err: ChannelError,
    ) {
        tracing::info!(target: "channeld", "channel {channel_id}: {}", err.message);
        match err.consequence {
            Consequence::Ignore => {}
            Consequence::Warn => {
                self.send_to(
                    peer,
                    WarningMessage {
                        channel_id,
                        data: err.message.into_bytes(),
                    }
                    .into(),
                )
                .await;
                let _ = self.ctx.peers.disconnect(*peer).await;
            }
            Consequence::Fail => {
                if let Some(e) = self.channels.get_mut(&channel_id.0) {
                    let acts = e.ch.fail_channel(&err.message);
                    self.apply(channel_id.0, acts).await;
                }
            }
        }
    }

    /// Stores a channel's record now.
    pub(super) async fn persist(&mut self, id: [u8; 32]) -> Result<(), String> {
        let Some(e) = self.channels.get(&id) else {
            return Err("unknown channel".into());
        };
        let row = ChannelRow {
            dbid: e.ch.setup().dbid,
            peer_id: e.ch.setup().peer_id.serialize(),
            channel_id: id,
            state: e.ch.state().as_str().to_string(),
            record: e.ch.record(),
            opened_height: e.opened_height,
            closed_height: e.closed_height,
        };
        let (htlcs, seen) = super::htlcs::changes(&e.ch, &e.htlcs_seen);
        self.ctx
            .onchain
            .with_store(move |s| Ok(s.save_channel_with_htlcs(&row, &htlcs)?))
            .await
            .map_err(|e| e.to_string())?;
        if let Some(e) = self.channels.get_mut(&id) {
            e.htlcs_seen = seen;
        }
        Ok(())
    }

    /// Carries out a channel's actions in order; nothing after a failed `Persist` happens.
    pub(super) async fn apply(&mut self, id: [u8; 32], actions: Vec<Action>) {
        // `close` callers are answered after every action ran (the broadcast included).
        let mut answers: Vec<(CloseWaiter, Value)> = Vec::new();
        self.apply_actions(id, actions, &mut answers).await;
        for (w, v) in answers {
            let _ = w.reply.send(Ok(v));
        }
    }

    async fn apply_actions(
        &mut self,
        id: [u8; 32],
        actions: Vec<Action>,
        answers: &mut Vec<(CloseWaiter, Value)>,
    ) {
        for a in actions {
            let peer = match self.channels.get(&id) {
                Some(e) => e.ch.setup().peer_id,
                None => return,
            };
            match a {
                Action::Persist => {
                    if let Err(e) = self.persist(id).await {
                        tracing::error!(target: "channeld", "cannot store channel {}: {e}; stopping", hex::encode(id));
                        self.ctx.shutdown.cancel();
                        return;
                    }
                }
                Action::Send(m) => self.send_to(&peer, m).await,
                Action::Broadcast { tx, what } => self.broadcast(&tx, what).await,
                Action::StateChanged { from, to } => {
                    tracing::info!(target: "channeld", "channel {}: State changed from {} to {}", hex::encode(id), from.as_str(), to.as_str());
                    if to == ChannelState::AwaitingUnilateral {
                        if let Some(ws) = self.close_waiters.remove(&id) {
                            let tx = self
                                .channels
                                .get(&id)
                                .and_then(|e| e.ch.signed_local_commitment().ok());
                            for w in ws {
                                answers.push((w, close_result("unilateral", tx.as_ref())));
                            }
                        }
                    }
                }
                Action::MutualCloseAgreed { tx } => {
                    if let Some(ws) = self.close_waiters.remove(&id) {
                        for w in ws {
                            answers.push((w, close_result("mutual", Some(&tx))));
                        }
                    }
                }
                Action::Ready => {
                    tracing::info!(target: "channeld", "channel {} is ready", hex::encode(id));
                }
                Action::IncomingHtlc(h) => {
                    tracing::info!(target: "channeld", "channel {}: incoming HTLC {} of {}msat (payments are not handled yet)", hex::encode(id), h.id, h.amount_msat);
                }
                Action::OutgoingFulfilled { id: hid, .. } => {
                    tracing::info!(target: "channeld", "channel {}: HTLC {hid} fulfilled", hex::encode(id));
                }
                Action::OutgoingFailed { id: hid, .. } => {
                    tracing::info!(target: "channeld", "channel {}: HTLC {hid} failed", hex::encode(id));
                }
                Action::HtlcFinished(_) => {}
            }
        }
    }

    pub(super) async fn broadcast(&self, tx: &Transaction, what: &str) {
        let txid = tx.compute_txid();
        match self.ctx.backend.send_raw_transaction(tx, false).await {
            Ok(r) if r.success => {
                tracing::info!(target: "lightningd", "broadcast {what} transaction {txid}")
            }
            Ok(r) => {
                tracing::warn!(target: "lightningd", "bitcoind refused {what} transaction {txid}: {}", r.errmsg)
            }
            Err(e) => {
                tracing::warn!(target: "lightningd", "cannot broadcast {what} transaction {txid}: {e}")
            }
        }
    }

    async fn tick(&mut self) {
        self.reconnect_due();
        let now = Instant::now();
        let due: Vec<[u8; 32]> = self
            .close_waiters
            .iter()
            .filter(|(_, ws)| ws.iter().any(|w| w.deadline.is_some_and(|d| d <= now)))
            .map(|(id, _)| *id)
            .collect();
        for id in due {
            if let Some(e) = self.channels.get_mut(&id) {
                tracing::info!(target: "channeld", "channel {}: mutual close timed out; closing unilaterally", hex::encode(id));
                let acts = e.ch.force_close();
                self.apply(id, acts).await;
            }
        }
    }

    /// Finds a channel by peer id (its one active channel), channel id or short channel id.
    pub(super) fn find(&self, id: &str) -> Result<[u8; 32], RpcError> {
        match ChannelRef::parse(id)? {
            ChannelRef::Peer(peer) => {
                let mut active: Vec<[u8; 32]> = self
                    .channels
                    .iter()
                    .filter(|(_, e)| e.ch.setup().peer_id == peer && e.ch.state().is_active())
                    .map(|(k, _)| *k)
                    .collect();
                match active.len() {
                    0 => Err(RpcError::new(-1, "Peer has no active channel")),
                    1 => Ok(active.remove(0)),
                    _ => Err(RpcError::new(
                        -1,
                        "Peer has multiple channels: use channel_id or short_channel_id",
                    )),
                }
            }
            r => self.lookup(&r, id, false),
        }
    }

    /// The channel a short channel id or channel id names, among the live channels (and the
    /// closed ones with `closed`). A peer id names none here.
    pub(super) fn lookup(
        &self,
        r: &ChannelRef,
        id: &str,
        closed: bool,
    ) -> Result<[u8; 32], RpcError> {
        let mut all = self
            .channels
            .iter()
            .chain(self.closed.iter().filter(|_| closed));
        match r {
            ChannelRef::Scid(scid) => all
                .find(|(_, e)| e.ch.data().short_channel_id == Some(*scid))
                .map(|(k, _)| *k)
                .ok_or_else(|| {
                    RpcError::new(-32602, format!("Short channel ID not found: '{id}'"))
                }),
            ChannelRef::ChannelId(cid) => all
                .find(|(k, _)| *k == cid)
                .map(|(k, _)| *k)
                .ok_or_else(|| RpcError::new(-32602, format!("Channel ID not found: '{id}'"))),
            ChannelRef::Peer(_) => Err(ChannelRef::not_an_id(id)),
        }
    }

    async fn close(&mut self, req: CloseRequest, reply: Reply<Value>) {
        let id = match self.find(&req.id) {
            Ok(id) => id,
            Err(e) => {
                let _ = reply.send(Err(e));
                return;
            }
        };
        let feerates = self.close_feerates();
        let Some(e) = self.channels.get_mut(&id) else {
            return;
        };
        match e.ch.state() {
            ChannelState::ClosingdComplete => {
                let tx = e.ch.closing_transaction();
                let _ = reply.send(Ok(close_result("mutual", tx.as_ref())));
                return;
            }
            s if !s.is_active() => {
                let _ = reply.send(Err(RpcError::new(
                    -1,
                    format!("Channel is in state {}", s.as_str()),
                )));
                return;
            }
            _ => {}
        }
        e.ch.set_close_feerates(feerates);
        match e.ch.shutdown(req.destination, req.step, req.feerange) {
            Ok(acts) => {
                let deadline = (req.unilateral_timeout > 0)
                    .then(|| Instant::now() + Duration::from_secs(req.unilateral_timeout));
                self.close_waiters
                    .entry(id)
                    .or_default()
                    .push(CloseWaiter { reply, deadline });
                self.apply(id, acts).await;
            }
            Err(err) => {
                let _ = reply.send(Err(RpcError::new(-1, err.to_string())));
            }
        }
    }

    /// Carries out the actions that took a channel to `CLOSED`, stops watching its funding
    /// and moves it out of the live channels.
    pub(super) async fn close_out(&mut self, id: [u8; 32], acts: Vec<Action>) {
        let outpoint = self
            .channels
            .get(&id)
            .map(|e| e.ch.setup().funding_outpoint);
        self.apply(id, acts).await;
        if let Some(outpoint) = outpoint {
            self.watch.unwatch(&outpoint);
        }
        self.retire(id);
    }

    /// Moves a channel that reached `CLOSED` out of the live channels.
    pub(super) fn retire(&mut self, id: [u8; 32]) {
        if let Some(e) = self.channels.remove(&id) {
            self.close_waiters.remove(&id);
            self.closed.insert(id, e);
        }
    }

    pub(super) fn allocate_dbid(&mut self) -> u64 {
        let d = self.next_dbid;
        self.next_dbid += 1;
        d
    }
}

/// What a command's `id` names: a short channel id, a channel id or a peer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ChannelRef {
    Scid(u64),
    ChannelId([u8; 32]),
    Peer(PublicKey),
}

impl ChannelRef {
    /// Reads `id`, with CLN's texts for what is none of the three.
    pub(super) fn parse(id: &str) -> Result<ChannelRef, RpcError> {
        if let Ok(scid) = id.parse::<fulgur_wire::ShortChannelId>() {
            return Ok(ChannelRef::Scid(scid.0));
        }
        let bytes = hex::decode(id).map_err(|_| ChannelRef::not_an_id(id))?;
        if bytes.len() == 33 {
            return PublicKey::from_slice(&bytes)
                .map(ChannelRef::Peer)
                .map_err(|_| RpcError::new(-32602, format!("Invalid peer id '{id}'")));
        }
        <[u8; 32]>::try_from(bytes.as_slice())
            .map(ChannelRef::ChannelId)
            .map_err(|_| ChannelRef::not_an_id(id))
    }

    fn not_an_id(id: &str) -> RpcError {
        RpcError::new(
            -32602,
            format!("Given id is not a channel ID or short channel ID: '{id}'"),
        )
    }
}

/// `close`'s result.
pub(super) fn close_result(kind: &str, tx: Option<&Transaction>) -> Value {
    match tx {
        Some(tx) => {
            let hex = hex::encode(bitcoin::consensus::encode::serialize(tx));
            let txid = tx.compute_txid().to_string();
            json!({"txs": [hex], "txids": [txid], "type": kind})
        }
        None => json!({"txs": [], "txids": [], "type": kind}),
    }
}

pub(super) fn fail_pending(p: PendingOut, why: &str) {
    if let Some(r) = p.start_reply {
        let _ = r.send(Err(RpcError::new(-1, why.to_string())));
    }
    if let Some(r) = p.complete_reply {
        let _ = r.send(Err(RpcError::new(-1, why.to_string())));
    }
}

fn message_channel_id(m: &Message) -> Option<ChannelId> {
    Some(match m {
        Message::ChannelReady(x) => x.channel_id,
        Message::ChannelReestablish(x) => x.channel_id,
        Message::UpdateAddHtlc(x) => x.channel_id,
        Message::UpdateFulfillHtlc(x) => x.channel_id,
        Message::UpdateFailHtlc(x) => x.channel_id,
        Message::UpdateFailMalformedHtlc(x) => x.channel_id,
        Message::UpdateFee(x) => x.channel_id,
        Message::CommitmentSigned(x) => x.channel_id,
        Message::RevokeAndAck(x) => x.channel_id,
        Message::Shutdown(x) => x.channel_id,
        Message::ClosingSigned(x) => x.channel_id,
        _ => return None,
    })
}

impl Manager {
    /// The store write for a brand-new channel, then its actions.
    pub(super) async fn adopt(
        &mut self,
        ch: Channel,
        actions: Vec<Action>,
        funding_tx: Option<Transaction>,
    ) -> Result<ChannelId, String> {
        let id = ch.channel_id();
        let outpoint = ch.setup().funding_outpoint;
        let mut ch = ch;
        self.tune(&mut ch);
        let opened_height = self.tip();
        self.channels.insert(
            id.0,
            Entry {
                htlcs_seen: Default::default(),
                ch,
                opened_height,
                closed_height: None,
                conf_height: None,
                funding_tx,
            },
        );
        if let Err(e) = self.persist(id.0).await {
            // Not stored: it must not live on in memory either.
            self.channels.remove(&id.0);
            return Err(e);
        }
        self.watch.watch(outpoint);
        // The channel is live on this connection already: no reestablish for a new channel.
        if let Some(e) = self.channels.get_mut(&id.0) {
            e.ch.mark_live();
        }
        self.apply(id.0, actions).await;
        Ok(id)
    }
}
