//! The channel's life around normal operation: going live on the connection it was opened
//! on, and the funding output being spent (BOLT 5 "Failing a Channel" and the mutual close
//! confirming); resolving the outputs is the on-chain resolver's job.

use crate::channel::{Action, Channel, Out};
use crate::state::ChannelState;

impl Channel {
    /// A channel just funded on the current connection is live at once: no
    /// `channel_reestablish` is exchanged on the connection it was opened on.
    pub fn mark_live(&mut self) {
        self.live = true;
        self.awaiting_reestablish = false;
    }

    /// A transaction spending the funding output was mined: the channel leaves normal
    /// operation for good.
    pub fn funding_spent(&mut self) -> Vec<Action> {
        let mut out = Out::default();
        if matches!(self.d.state, ChannelState::Onchain | ChannelState::Closed) {
            return out.finish();
        }
        self.live = false;
        self.set_state(ChannelState::FundingSpendSeen, &mut out);
        self.set_state(ChannelState::Onchain, &mut out);
        out.finish()
    }
}
