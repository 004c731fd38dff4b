//! Our relay policy for one channel (BOLT 7 `channel_update`'s `fee_base_msat`,
//! `fee_proportional_millionths`, `htlc_minimum_msat`, `htlc_maximum_msat`), set by
//! `setchannel` and stored with the channel. Fields left `None` follow the node's options.

use serde::{Deserialize, Serialize};

use crate::channel::{Action, Channel, Out};

/// The relay policy of one channel.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RelayPolicy {
    /// Base fee for forwarding (`fee-base` when `None`).
    pub fee_base_msat: Option<u64>,
    /// Proportional fee in millionths (`fee-per-satoshi` when `None`).
    pub fee_proportional_millionths: Option<u32>,
    /// Smallest HTLC we forward over the channel (the peer's minimum when `None`).
    pub htlc_minimum_msat: Option<u64>,
    /// Largest HTLC we forward over the channel (as much as the channel can carry when `None`).
    pub htlc_maximum_msat: Option<u64>,
    /// Accept any commitment fee rate the peer sets.
    pub ignore_fee_limits: bool,
}

impl Channel {
    /// The channel's relay policy.
    pub fn policy(&self) -> &RelayPolicy {
        &self.d.policy
    }

    /// Replaces the relay policy; stored with the channel (nothing is sent to the peer).
    pub fn set_policy(&mut self, policy: RelayPolicy) -> Vec<Action> {
        if self.d.policy == policy {
            return Vec::new();
        }
        self.d.policy = policy;
        Out::persisting().finish()
    }

    /// The most an HTLC we send can carry: the capacity less the reserve the peer asks us
    /// to keep, and no more than the peer lets be in flight.
    pub fn max_htlc_out_msat(&self) -> u64 {
        let s = &self.d.setup;
        s.funding_sat
            .saturating_sub(s.remote.channel_reserve_sat)
            .saturating_mul(1000)
            .min(s.remote.max_htlc_value_in_flight_msat)
    }
}
