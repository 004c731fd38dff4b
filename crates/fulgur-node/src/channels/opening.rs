//! Opening channels through the manager (BOLT 2 "Channel Establishment v1"): our opens
//! (`fundchannel_start`/`fundchannel_complete`, and `fundchannel` built on them) and the
//! peer's, with caps on opens in negotiation per peer and in total.

use bitcoin::{OutPoint, Transaction};
use fulgur_channel::{
    preferred_channel_type, ChannelError, Consequence, InboundOpen, OpenContext, OpenRequest,
    OutboundOpen,
};
use fulgur_rpc_types::RpcError;
use fulgur_wire::{
    AcceptChannel, ChannelId, ErrorMessage, FundingCreated, FundingSigned, Message, OpenChannel,
    WarningMessage,
};
use secp256k1::PublicKey;
use tokio::sync::oneshot;

use super::handle::{FundStart, StartedOpen};
use super::manager::{
    fail_pending, Manager, PendingOut, MAX_PENDING_OPENS, MAX_PENDING_OPENS_PER_PEER,
};

type Reply<T> = oneshot::Sender<Result<T, RpcError>>;

/// CLN's `FUNDING_PEER_NOT_CONNECTED`.
const PEER_NOT_CONNECTED: i64 = 305;
/// CLN's `FUNDING_PSBT_INVALID`.
const FUNDING_PSBT_INVALID: i64 = 309;

fn random_id() -> [u8; 32] {
    let mut b = [0u8; 32];
    // The OS generator only fails on a broken system; a fixed id still works (ids are per
    // peer), it is just guessable.
    let _ = getrandom::getrandom(&mut b);
    b
}

impl Manager {
    fn open_context(&self, peer: PublicKey, dbid: u64) -> Result<OpenContext, String> {
        let their_features = self
            .conns
            .get(&peer)
            .map(|(_, f)| f.clone())
            .ok_or("Peer not connected")?;
        let secrets = self
            .base
            .channel_secrets(&peer, dbid)
            .map_err(|e| e.to_string())?;
        Ok(OpenContext {
            chain_hash: crate::features::chain_hash(self.ctx.config.network),
            peer_id: peer,
            dbid,
            secrets,
            cfg: self.cfg.clone(),
            our_features: self.ctx.our_features.clone(),
            their_features,
        })
    }

    /// Sends what a failed negotiation step deserves: an `error` or a `warning`.
    async fn refuse(&mut self, peer: &PublicKey, channel_id: ChannelId, err: &ChannelError) {
        tracing::info!(target: "openingd", "open with {peer} failed: {}", err.message);
        let data = err.message.clone().into_bytes();
        let msg: Message = match err.consequence {
            Consequence::Fail => ErrorMessage { channel_id, data }.into(),
            _ => WarningMessage { channel_id, data }.into(),
        };
        self.send_to(peer, msg).await;
    }

    pub(super) async fn start_open(&mut self, req: FundStart, reply: Reply<StartedOpen>) {
        let peer = req.peer;
        if !self.conns.contains_key(&peer) {
            let _ = reply.send(Err(RpcError::new(PEER_NOT_CONNECTED, "Peer not connected")));
            return;
        }
        if self.outbound.contains_key(&peer) {
            let _ = reply.send(Err(RpcError::new(-1, "Already funding channel")));
            return;
        }
        let default_close = self.close_script().await;
        let dbid = self.allocate_dbid();
        let ctx = match self.open_context(peer, dbid) {
            Ok(c) => c,
            Err(e) => {
                let _ = reply.send(Err(RpcError::new(-1, e)));
                return;
            }
        };
        let channel_type = req
            .channel_type
            .unwrap_or_else(|| preferred_channel_type(&ctx.our_features, &ctx.their_features));
        let open = OutboundOpen::new(
            ctx,
            OpenRequest {
                funding_sat: req.amount_sat,
                push_msat: req.push_msat,
                feerate_per_kw: req.feerate_per_kw,
                announce: req.announce,
                channel_type,
                upfront_shutdown_script: req.close_to.clone(),
                default_shutdown_script: default_close,
                reserve_sat: req.reserve_sat,
                minimum_depth: req.mindepth,
            },
            random_id(),
        );
        match open {
            Ok((open, msg)) => {
                self.send_to(&peer, msg.into()).await;
                self.outbound.insert(
                    peer,
                    PendingOut {
                        open,
                        start_reply: Some(reply),
                        script_pubkey: None,
                        complete_reply: None,
                    },
                );
            }
            Err(e) => {
                let _ = reply.send(Err(RpcError::new(-1, e.message)));
            }
        }
    }

    pub(super) async fn on_accept_channel(&mut self, peer: PublicKey, m: &AcceptChannel) {
        let Some(mut p) = self.outbound.remove(&peer) else {
            self.send_to(
                &peer,
                WarningMessage {
                    channel_id: m.temporary_channel_id,
                    data: b"unexpected accept_channel".to_vec(),
                }
                .into(),
            )
            .await;
            return;
        };
        match p.open.on_accept_channel(m) {
            Ok(script_pubkey) => {
                p.script_pubkey = Some(script_pubkey.clone());
                let started = StartedOpen {
                    script_pubkey,
                    channel_type: p.open.request().channel_type,
                    mindepth: p.open.minimum_depth().unwrap_or(m.minimum_depth),
                };
                if let Some(r) = p.start_reply.take() {
                    let _ = r.send(Ok(started));
                }
                self.outbound.insert(peer, p);
            }
            Err(e) => {
                self.refuse(&peer, m.temporary_channel_id, &e).await;
                fail_pending(p, &format!("Peer refused the channel: {}", e.message));
            }
        }
    }

    pub(super) async fn complete_open(
        &mut self,
        peer: PublicKey,
        tx: Transaction,
        reply: Reply<(ChannelId, u32)>,
    ) {
        let Some(p) = self.outbound.get_mut(&peer) else {
            let _ = reply.send(Err(RpcError::new(-1, "No channel funding in progress.")));
            return;
        };
        let Some(script) = p.script_pubkey.as_ref() else {
            let _ = reply.send(Err(RpcError::new(
                -1,
                "Peer has not accepted the channel yet",
            )));
            return;
        };
        let amount = p.open.request().funding_sat;
        let mut paying = tx
            .output
            .iter()
            .enumerate()
            .filter(|(_, o)| o.script_pubkey == *script && o.value.to_sat() == amount);
        let vout = match (paying.next(), paying.next()) {
            (Some((i, _)), None) => u32::try_from(i).unwrap_or(u32::MAX),
            _ => {
                let _ = reply.send(Err(RpcError::new(
                    FUNDING_PSBT_INVALID,
                    "Funding PSBT does not have a unique, correct output to fund the channel",
                )));
                return;
            }
        };
        let outpoint = OutPoint {
            txid: tx.compute_txid(),
            vout,
        };
        match p.open.funding_created(outpoint) {
            Ok(msg) => {
                p.complete_reply = Some(reply);
                self.send_to(&peer, msg.into()).await;
            }
            Err(e) => {
                let _ = reply.send(Err(RpcError::new(-1, e.message)));
            }
        }
    }

    pub(super) async fn on_funding_signed(&mut self, peer: PublicKey, m: &FundingSigned) {
        let Some(mut p) = self.outbound.remove(&peer) else {
            self.send_to(
                &peer,
                WarningMessage {
                    channel_id: m.channel_id,
                    data: b"unexpected funding_signed".to_vec(),
                }
                .into(),
            )
            .await;
            return;
        };
        if p.complete_reply.as_ref().is_some_and(|r| r.is_closed()) {
            // Whoever asked gave up (a timeout): its funding will not be broadcast, so no
            // channel may be made of it.
            self.send_to(
                &peer,
                ErrorMessage {
                    channel_id: m.channel_id,
                    data: b"funding cancelled".to_vec(),
                }
                .into(),
            )
            .await;
            return;
        }
        match p.open.on_funding_signed(m) {
            Ok((ch, acts)) => {
                let vout = ch.setup().funding_outpoint.vout;
                // Answered once the channel is stored: only then may the funding go out.
                match self.adopt(ch, acts, None).await {
                    Ok(id) => {
                        if let Some(r) = p.complete_reply.take() {
                            let _ = r.send(Ok((id, vout)));
                        }
                    }
                    Err(e) => fail_pending(p, &format!("cannot store the channel: {e}")),
                }
            }
            Err(e) => {
                self.refuse(&peer, m.channel_id, &e).await;
                fail_pending(p, &format!("Bad funding_signed: {}", e.message));
            }
        }
    }

    pub(super) async fn on_open_channel(&mut self, peer: PublicKey, m: &OpenChannel) {
        let per_peer = self.inbound.keys().filter(|(p, _)| *p == peer).count();
        if per_peer >= MAX_PENDING_OPENS_PER_PEER || self.inbound.len() >= MAX_PENDING_OPENS {
            let e = ChannelError::warn(format!(
                "too many channel opens in negotiation ({per_peer} from you, {} in all)",
                self.inbound.len()
            ));
            self.refuse(&peer, m.temporary_channel_id, &e).await;
            return;
        }
        let dbid = self.allocate_dbid();
        let ctx = match self.open_context(peer, dbid) {
            Ok(c) => c,
            Err(_) => return,
        };
        let script = self.close_script().await;
        let bounds = self.feerate_bounds();
        match InboundOpen::new(ctx, m, bounds, script, None) {
            Ok((open, accept)) => {
                self.inbound.insert((peer, m.temporary_channel_id.0), open);
                self.send_to(&peer, accept.into()).await;
            }
            Err(e) => self.refuse(&peer, m.temporary_channel_id, &e).await,
        }
    }

    pub(super) async fn on_funding_created(&mut self, peer: PublicKey, m: &FundingCreated) {
        let Some(open) = self.inbound.remove(&(peer, m.temporary_channel_id.0)) else {
            self.send_to(
                &peer,
                WarningMessage {
                    channel_id: m.temporary_channel_id,
                    data: b"unexpected funding_created".to_vec(),
                }
                .into(),
            )
            .await;
            return;
        };
        match open.on_funding_created(m) {
            Ok((ch, acts)) => {
                if let Err(e) = self.adopt(ch, acts, None).await {
                    tracing::error!(target: "openingd", "cannot store the channel: {e}");
                }
            }
            Err(e) => self.refuse(&peer, m.temporary_channel_id, &e).await,
        }
    }

    /// The wallet script our funds go to on a mutual close (one address per node run).
    pub(super) async fn close_script(&mut self) -> Vec<u8> {
        if let Some(s) = &self.close_script {
            return s.clone();
        }
        let script = match self
            .ctx
            .onchain
            .new_address(vec![fulgur_types::AddrType::Bech32])
            .await
        {
            Ok((_, addrs)) => addrs
                .first()
                .map(|(_, a)| a.script_pubkey().to_bytes())
                .unwrap_or_default(),
            Err(e) => {
                tracing::error!(target: "lightningd", "cannot issue a close address: {e}");
                Vec::new()
            }
        };
        self.close_script = Some(script.clone());
        script
    }

    /// Abandons the channels we funded with `txid` (see `Channel::abandon_unfunded`): each
    /// stored as `CLOSED`, its peer told, then forgotten here. Channels the machine refuses
    /// to abandon (seen on chain, or funded by the peer) are left alone.
    pub(super) async fn abandon_funding(&mut self, txid: bitcoin::Txid, why: &str) -> usize {
        let ids = self.channels_funded_by(&txid);
        let mut n = 0;
        for id in ids {
            let Some(e) = self.channels.get_mut(&id) else {
                continue;
            };
            match e.ch.abandon_unfunded(why) {
                Ok(acts) => {
                    self.close_out(id, acts).await;
                    n += 1;
                }
                Err(err) => {
                    tracing::warn!(target: "openingd", "not abandoning channel {}: {err}", hex::encode(id))
                }
            }
        }
        n
    }

    /// `fundchannel_cancel` after `fundchannel_complete`: abandons our channel with `peer`
    /// while bitcoind knows nothing of its funding (neither in its mempool nor mined), as
    /// CLN allows until the funding is broadcast.
    pub(super) async fn cancel_unbroadcast(&mut self, peer: &PublicKey) -> Result<(), RpcError> {
        use fulgur_chain::ChainBackend;
        let unconfirmed = self.channels.values().find(|e| {
            e.ch.setup().peer_id == *peer
                && e.ch.setup().opener == fulgur_channel::Side::Local
                && e.ch.state() == fulgur_channel::ChannelState::ChanneldAwaitingLockin
                && e.conf_height.is_none()
        });
        let Some(outpoint) = unconfirmed.map(|e| e.ch.setup().funding_outpoint) else {
            return Err(RpcError::new(-1, "No channel funding in progress."));
        };
        match self
            .ctx
            .backend
            .getutxout(outpoint.txid, outpoint.vout)
            .await
        {
            Ok(None) => {}
            Ok(Some(_)) => {
                return Err(RpcError::new(
                    -1,
                    "Funding transaction was already broadcast: the channel cannot be cancelled",
                ))
            }
            Err(e) => {
                return Err(RpcError::new(
                    -1,
                    format!("Cannot tell whether the funding was broadcast: {e}"),
                ))
            }
        }
        self.abandon_funding(outpoint.txid, "Channel open canceled by RPC")
            .await;
        Ok(())
    }
}
