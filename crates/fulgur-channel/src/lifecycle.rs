//! The channel's life around normal operation: going live on the connection it was opened
//! on, and the funding output being spent (BOLT 5 "Failing a Channel" and the mutual close
//! confirming); resolving the outputs is the on-chain resolver's job.

use bitcoin::Transaction;
use fulgur_wire::ErrorMessage;

use crate::channel::{Action, Channel, CloseCause, Out};
use crate::error::RequestError;
use crate::state::ChannelState;
use crate::Side;

impl Channel {
    /// A channel just funded on the current connection is live at once: no
    /// `channel_reestablish` is exchanged on the connection it was opened on.
    pub fn mark_live(&mut self) {
        self.live = true;
        self.awaiting_reestablish = false;
    }

    /// `tx`, spending the funding output, was mined: the channel leaves normal operation for
    /// good. A commitment transaction is told from a mutual close by the marks BOLT 3 puts
    /// in its locktime (upper byte 0x20) and input sequence (upper byte 0x80).
    pub fn funding_spent(&mut self, tx: &Transaction) -> Vec<Action> {
        let mut out = Out::default();
        let commitment = tx.lock_time.to_consensus_u32() >> 24 == 0x20
            && tx.input.first().is_some_and(|i| i.sequence.0 >> 24 == 0x80);
        let txid = tx.compute_txid();
        if self.d.history.spend_txid != Some(txid) {
            // A first spend, or another one mined after a reorganisation took the first.
            self.d.history.spend_txid = Some(txid);
            self.d.history.mutual_close = !commitment;
            out.persist = true;
        }
        if matches!(self.d.state, ChannelState::Onchain | ChannelState::Closed) {
            return out.finish();
        }
        self.live = false;
        self.note_close(None, CloseCause::Onchain);
        self.set_state(ChannelState::FundingSpendSeen, &mut out);
        self.set_state(ChannelState::Onchain, &mut out);
        out.finish()
    }

    /// A reorganisation took the funding transaction's block: the funding is unconfirmed
    /// again. Its depth restarts and its short channel id is forgotten until it is mined
    /// anew (so a restart does not count depth from a block that is gone).
    pub fn funding_reorged(&mut self) -> Vec<Action> {
        let mut out = Out::default();
        if self.d.funding_depth != 0 || self.d.short_channel_id.is_some() {
            self.d.funding_depth = 0;
            self.d.short_channel_id = None;
            out.persist = true;
        }
        out.finish()
    }

    /// A reorganisation took the block of the transaction that spent the funding output: the
    /// spend is forgotten until one is mined again (maybe another one).
    pub fn spend_reorged(&mut self) -> Vec<Action> {
        let mut out = Out::default();
        if self.d.history.spend_txid.take().is_some() {
            self.d.history.mutual_close = false;
            out.persist = true;
        }
        out.finish()
    }

    /// The funding spend is fully resolved (for a mutual close: buried deep enough that no
    /// reorganisation will undo it): the channel moves from `ONCHAIN` to `CLOSED`.
    pub fn resolved(&mut self) -> Result<Vec<Action>, RequestError> {
        if self.d.state != ChannelState::Onchain {
            return Err(RequestError::WrongState(self.d.state.as_str()));
        }
        let mut out = Out::default();
        self.set_state(ChannelState::Closed, &mut out);
        Ok(out.finish())
    }

    /// Forgets a channel the peer opened whose funding transaction never appeared (CLN gives
    /// up after 2016 blocks): nothing of ours was ever at stake in it. Also after the peer
    /// failed it, while we wait in `AWAITING_UNILATERAL` for a commitment that cannot confirm.
    /// The peer is told with an `error`; the channel moves to `CLOSED`.
    pub fn forget_unfunded(&mut self, why: &str) -> Result<Vec<Action>, RequestError> {
        self.close_unfunded(
            Side::Remote,
            &[
                ChannelState::ChanneldAwaitingLockin,
                ChannelState::AwaitingUnilateral,
            ],
            why,
        )
    }

    /// Abandons a channel we opened whose funding transaction never went out (the funding
    /// flow failed after `funding_signed` but before the broadcast, as `multifundchannel`'s
    /// redo does): the peer is told with an `error` to forget it and the channel moves to
    /// `CLOSED`. Refused for a channel the peer funded, or once the funding was seen on
    /// chain, since then real funds sit in the funding output.
    pub fn abandon_unfunded(&mut self, why: &str) -> Result<Vec<Action>, RequestError> {
        self.close_unfunded(Side::Local, &[ChannelState::ChanneldAwaitingLockin], why)
    }

    /// Closes a channel funded by `opener` whose funding was never seen, from one of
    /// `states`: stored `CLOSED` first, then an `error` to the peer.
    fn close_unfunded(
        &mut self,
        opener: Side,
        states: &[ChannelState],
        why: &str,
    ) -> Result<Vec<Action>, RequestError> {
        if !states.contains(&self.d.state) {
            return Err(RequestError::WrongState(self.d.state.as_str()));
        }
        if self.d.setup.opener != opener {
            return Err(RequestError::Invalid(
                if opener == Side::Local {
                    "the peer funded this channel: only the funder can abandon it"
                } else {
                    "we funded this channel: abandon it instead"
                }
                .into(),
            ));
        }
        if self.d.funding_depth > 0 || self.d.short_channel_id.is_some() {
            return Err(RequestError::Invalid(
                "the funding transaction was seen on chain".into(),
            ));
        }
        let mut out = Out::default();
        self.live = false;
        if opener == Side::Local {
            // Our funding never went out.
            self.note_close(Some(Side::Local), CloseCause::User);
            self.d.history.funding_withheld = true;
        } else {
            self.note_close(Some(Side::Local), CloseCause::Local);
        }
        self.set_state(ChannelState::Closed, &mut out);
        out.send(ErrorMessage {
            channel_id: self.channel_id(),
            data: why.as_bytes().to_vec(),
        });
        Ok(out.finish())
    }
}
