//! Fulgur's channel state machine (BOLT 2 "Channel Establishment v1", "Normal Operation",
//! "Message Retransmission" and "Channel Close"), built on the BOLT 3 transactions of
//! `fulgur-bolt3`.
//!
//! Sans-IO: no sockets, clocks or randomness. Inputs are peer messages, local requests
//! (add or settle an HTLC, close) and chain events (funding depth); each step returns
//! [`Action`]s for the node to carry out in order. A step that changed what must survive a
//! restart starts with [`Action::Persist`]: the node stores [`Channel::record`] before it
//! sends, broadcasts or reports anything that follows.

mod channel;
mod close;
mod config;
mod error;
mod lifecycle;
mod normal;
mod open;
mod policy;
mod reestablish;
mod serde_hex;
mod signer;
mod state;
mod updates;

pub use channel::{
    Action, Channel, ChannelData, ChannelSetup, CloseCause, History, IncomingHtlc, LocalCommit,
    RemoteCommit, RestoreError, SentBatch,
};
pub use close::{CloseFeerates, Closing, FeeStep};
pub use config::{
    channel_type_from_features, channel_type_to_features, preferred_channel_type, LocalConfig,
    PartyParams, LARGE_CHANNEL_SAT, MAX_ACCEPTED_HTLCS_LIMIT, MAX_CLTV_EXPIRY,
};
pub use error::{ChannelError, Consequence, RequestError};
pub use fulgur_bolt3::ChannelType;
pub use normal::BADONION;
pub use open::{InboundOpen, OpenContext, OpenRequest, OutboundOpen, MAX_FUNDING_SAT};
pub use policy::RelayPolicy;
pub use signer::{ChannelSigner, PartyKeys};
pub use state::{ChannelState, HtlcState, Phase, Side};
pub use updates::{FeeUpdate, Htlc, HtlcKey, Removal, Updates, View, ViewKind};

use fulgur_wire::{ErrorMessage, Message};

impl Channel {
    /// Handles a message from the peer for this channel. On an error, nothing changed; the
    /// node acts on its [`Consequence`] (see [`Channel::fail_channel`]).
    pub fn handle_message(&mut self, msg: &Message) -> Result<Vec<Action>, ChannelError> {
        if let Message::ChannelReestablish(m) = msg {
            return self.on_reestablish(m);
        }
        if self.awaiting_reestablish {
            return Err(ChannelError::warn(format!(
                "{} before channel_reestablish",
                msg.name()
            )));
        }
        if !self.live {
            return Err(ChannelError::warn(format!(
                "{} while not reestablished",
                msg.name()
            )));
        }
        let result = match msg {
            Message::ChannelReady(m) => self.on_channel_ready(m),
            Message::UpdateAddHtlc(m) => self.on_update_add(m),
            Message::UpdateFulfillHtlc(m) => self.on_update_fulfill(m),
            Message::UpdateFailHtlc(m) => self.on_update_fail(m),
            Message::UpdateFailMalformedHtlc(m) => self.on_update_fail_malformed(m),
            Message::UpdateFee(m) => self.on_update_fee(m),
            Message::CommitmentSigned(m) => self.on_commitment_signed(m),
            Message::RevokeAndAck(m) => self.on_revoke_and_ack(m),
            Message::Shutdown(m) => self.on_shutdown(m),
            Message::ClosingSigned(m) => self.on_closing_signed(m),
            other => Err(ChannelError::warn(format!(
                "unexpected {} for an established channel",
                other.name()
            ))),
        };
        if result.is_ok() {
            self.note_balance();
        }
        result
    }

    /// The peer failed the channel (it sent an `error`): our latest commitment is broadcast.
    pub fn peer_failed(&mut self) -> Vec<Action> {
        self.note_close(Some(Side::Remote), CloseCause::Remote);
        self.force_close()
    }

    /// Who closed the channel, why, and the extremes of our balance.
    pub fn history(&self) -> &History {
        &self.d.history
    }

    /// Fails the channel after a protocol error: an `error` to the peer, then our latest
    /// commitment broadcast.
    pub fn fail_channel(&mut self, why: &str) -> Vec<Action> {
        self.note_close(Some(Side::Local), CloseCause::Protocol);
        let mut actions = vec![Action::Send(
            ErrorMessage {
                channel_id: self.channel_id(),
                data: why.as_bytes().to_vec(),
            }
            .into(),
        )];
        let closing = self.force_close();
        // Persist must still come first.
        let mut v: Vec<Action> = closing
            .iter()
            .filter(|a| **a == Action::Persist)
            .cloned()
            .collect();
        v.append(&mut actions);
        v.extend(closing.into_iter().filter(|a| *a != Action::Persist));
        v
    }
}
