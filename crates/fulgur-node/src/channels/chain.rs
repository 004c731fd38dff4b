//! What the chain tells the channels (BOLT 2 "Channel Establishment" lock-in, and the close
//! being mined): funding confirmations and their depth, funding spends, reorganisations, and
//! mutual closes buried deep enough to be final.

use bitcoin::Transaction;
use fulgur_channel::{Action, ChannelState};
use fulgur_wire::ChannelId;

use super::manager::{Manager, CLOSE_BURIED_DEPTH, MAX_FUNDING_UNCONFIRMED};
use super::watch::ChainEvent;

impl Manager {
    pub(super) async fn chain_event(&mut self, ev: ChainEvent) {
        match ev {
            ChainEvent::Confirmed {
                txid,
                height,
                txindex,
                tx,
            } => {
                let ids = self.channels_funded_by(&txid);
                for id in ids {
                    if let Some(e) = self.channels.get_mut(&id) {
                        e.conf_height = Some(height);
                        e.funding_tx = Some(tx.clone());
                    }
                    self.update_depth(id, Some(txindex)).await;
                }
            }
            ChainEvent::Spent {
                outpoint,
                tx,
                height,
            } => {
                let ids: Vec<[u8; 32]> = self
                    .channels
                    .iter()
                    .filter(|(_, e)| e.ch.setup().funding_outpoint == outpoint)
                    .map(|(id, _)| *id)
                    .collect();
                for id in ids {
                    self.funding_spent(id, &tx, height).await;
                }
            }
            ChainEvent::Reorg { height } => self.reorg(height).await,
        }
    }

    /// Blocks above `height` are gone: a funding confirmed there is unconfirmed again (its
    /// depth restarts when it is mined anew, with its new short channel id), and a close
    /// mined there is not final any more (another spend may be mined instead).
    async fn reorg(&mut self, height: u32) {
        let ids: Vec<[u8; 32]> = self.channels.keys().copied().collect();
        for id in ids {
            let funding = self.channels.get_mut(&id).and_then(|e| {
                e.conf_height.filter(|h| *h > height)?;
                e.conf_height = None;
                e.funding_tx = None;
                Some(e.ch.funding_reorged())
            });
            if let Some(acts) = funding {
                tracing::info!(target: "lightningd", "channel {}: funding transaction unconfirmed by a reorg", hex::encode(id));
                self.apply(id, acts).await;
            }
            let spend = self.channels.get_mut(&id).and_then(|e| {
                e.closed_height.filter(|h| *h > height)?;
                e.closed_height = None;
                Some(e.ch.spend_reorged())
            });
            if let Some(mut acts) = spend {
                tracing::info!(target: "lightningd", "channel {}: closing transaction unconfirmed by a reorg", hex::encode(id));
                // The row's closed_height changed even if the record did not.
                if !acts.contains(&Action::Persist) {
                    acts.insert(0, Action::Persist);
                }
                self.apply(id, acts).await;
            }
        }
    }

    async fn funding_spent(&mut self, id: [u8; 32], tx: &Transaction, height: u32) {
        let Some(e) = self.channels.get_mut(&id) else {
            return;
        };
        tracing::info!(target: "lightningd", "channel {}: funding spent by {} at height {height}", hex::encode(id), tx.compute_txid());
        let acts = e.ch.funding_spent(tx);
        e.closed_height = Some(height);
        self.watch.unwatch_tx(&e.ch.setup().funding_outpoint.txid);
        self.apply(id, acts).await;
    }

    /// Feeds a channel its funding depth.
    async fn update_depth(&mut self, id: [u8; 32], txindex: Option<u32>) {
        let tip = self.tip();
        let Some(e) = self.channels.get_mut(&id) else {
            return;
        };
        let Some(h) = e.conf_height else { return };
        if !e.ch.state().is_active() {
            return;
        }
        let depth = tip.saturating_sub(h).saturating_add(1).max(1);
        let outpoint = e.ch.setup().funding_outpoint;
        let scid = match (txindex, e.ch.data().short_channel_id) {
            (Some(i), _) => {
                fulgur_wire::ShortChannelId::new(h, i, outpoint.vout as u16).map(|s| s.0)
            }
            (None, s) => s,
        };
        let out = e
            .funding_tx
            .as_ref()
            .and_then(|t| t.output.get(outpoint.vout as usize).cloned());
        match e.ch.funding_depth(depth, scid, out.as_ref()) {
            Ok(acts) => self.apply(id, acts).await,
            Err(err) => {
                let peer = e.ch.setup().peer_id;
                self.protocol_error(ChannelId(id), &peer, err).await
            }
        }
    }

    pub(super) async fn new_tip(&mut self) {
        let ids: Vec<[u8; 32]> = self.channels.keys().copied().collect();
        for id in ids {
            self.update_depth(id, None).await;
        }
        self.retire_buried_closes().await;
        self.forget_unfunded().await;
    }

    /// Channels the peer opened whose funding never appeared in [`MAX_FUNDING_UNCONFIRMED`]
    /// blocks are forgotten, as CLN does: nothing of ours is in them, and a peer must not
    /// hold our resources with opens it never funds.
    async fn forget_unfunded(&mut self) {
        let tip = self.tip();
        let due: Vec<[u8; 32]> = self
            .channels
            .iter()
            .filter(|(_, e)| {
                e.ch.setup().opener == fulgur_channel::Side::Remote
                    && e.conf_height.is_none()
                    && e.ch.data().short_channel_id.is_none()
                    && tip.saturating_sub(e.opened_height) >= MAX_FUNDING_UNCONFIRMED
            })
            .map(|(id, _)| *id)
            .collect();
        for id in due {
            let Some(e) = self.channels.get_mut(&id) else {
                continue;
            };
            let why = format!("funding transaction not seen in {MAX_FUNDING_UNCONFIRMED} blocks");
            if let Ok(acts) = e.ch.forget_unfunded(&why) {
                tracing::info!(target: "lightningd", "channel {}: forgotten: {why}", hex::encode(id));
                self.close_out(id, acts).await;
            }
        }
    }

    /// Mutual closes buried [`CLOSE_BURIED_DEPTH`] deep are done: `CLOSED`, then kept only
    /// for `listclosedchannels`. (Unilateral closes wait for the on-chain resolver.)
    async fn retire_buried_closes(&mut self) {
        let tip = self.tip();
        let due: Vec<[u8; 32]> = self
            .channels
            .iter()
            .filter(|(_, e)| {
                e.ch.state() == ChannelState::Onchain
                    && e.ch.history().mutual_close
                    && e.closed_height
                        .is_some_and(|h| tip.saturating_sub(h) + 1 >= CLOSE_BURIED_DEPTH)
            })
            .map(|(id, _)| *id)
            .collect();
        for id in due {
            let Some(e) = self.channels.get_mut(&id) else {
                continue;
            };
            match e.ch.resolved() {
                Ok(acts) => self.close_out(id, acts).await,
                Err(err) => {
                    tracing::warn!(target: "lightningd", "channel {}: {err}", hex::encode(id))
                }
            }
        }
    }
}
