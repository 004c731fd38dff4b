//! Channel and HTLC states, named as Core Lightning names them so that `listpeerchannels`
//! and `listhtlcs` print what operators know (BOLT 2 "Normal Operation" describes the
//! lifecycle; the names are CLN's). The stored numbers are append-only.

use serde::{Deserialize, Serialize};

/// One side of a channel.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Side {
    /// This node.
    Local,
    /// The peer.
    Remote,
}

impl Side {
    /// The other side.
    pub fn other(self) -> Side {
        match self {
            Side::Local => Side::Remote,
            Side::Remote => Side::Local,
        }
    }
}

/// The state of a channel (from its funding onward).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ChannelState {
    /// Funding signed; waiting for the funding transaction to reach its depth and for both
    /// `channel_ready`.
    ChanneldAwaitingLockin,
    /// Normal operation.
    ChanneldNormal,
    /// A `shutdown` was sent or received; HTLCs are being cleared.
    ChanneldShuttingDown,
    /// Negotiating the closing transaction's fee.
    ClosingdSigexchange,
    /// A closing transaction was agreed and broadcast.
    ClosingdComplete,
    /// We broadcast our latest commitment transaction.
    AwaitingUnilateral,
    /// A transaction spending the funding output was seen.
    FundingSpendSeen,
    /// The funding spend is being resolved on chain.
    Onchain,
    /// Nothing is left to do.
    Closed,
}

impl ChannelState {
    /// CLN's name for the state.
    pub fn as_str(self) -> &'static str {
        match self {
            ChannelState::ChanneldAwaitingLockin => "CHANNELD_AWAITING_LOCKIN",
            ChannelState::ChanneldNormal => "CHANNELD_NORMAL",
            ChannelState::ChanneldShuttingDown => "CHANNELD_SHUTTING_DOWN",
            ChannelState::ClosingdSigexchange => "CLOSINGD_SIGEXCHANGE",
            ChannelState::ClosingdComplete => "CLOSINGD_COMPLETE",
            ChannelState::AwaitingUnilateral => "AWAITING_UNILATERAL",
            ChannelState::FundingSpendSeen => "FUNDING_SPEND_SEEN",
            ChannelState::Onchain => "ONCHAIN",
            ChannelState::Closed => "CLOSED",
        }
    }

    /// Whether the channel still talks to its peer (reestablish on reconnection).
    pub fn is_active(self) -> bool {
        matches!(
            self,
            ChannelState::ChanneldAwaitingLockin
                | ChannelState::ChanneldNormal
                | ChannelState::ChanneldShuttingDown
                | ChannelState::ClosingdSigexchange
        )
    }
}

/// Where an HTLC is in its lifecycle. `Sent*`/`Rcvd*` are from this node's point of view;
/// the first ten are HTLCs we offered, the last ten HTLCs the peer offered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[allow(
    missing_docs,
    reason = "the names are the documentation: CLN's HTLC states"
)]
pub enum HtlcState {
    SentAddHtlc,
    SentAddCommit,
    RcvdAddRevocation,
    RcvdAddAckCommit,
    SentAddAckRevocation,
    RcvdRemoveHtlc,
    RcvdRemoveCommit,
    SentRemoveRevocation,
    SentRemoveAckCommit,
    RcvdRemoveAckRevocation,
    RcvdAddHtlc,
    RcvdAddCommit,
    SentAddRevocation,
    SentAddAckCommit,
    RcvdAddAckRevocation,
    SentRemoveHtlc,
    SentRemoveCommit,
    RcvdRemoveRevocation,
    RcvdRemoveAckCommit,
    SentRemoveAckRevocation,
}

/// Whether an update is part of one side's commitment transaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Not added to that commitment yet.
    NotYet,
    /// In that commitment.
    In,
    /// Was in it and has been removed.
    Removed,
}

impl HtlcState {
    /// CLN's name for the state.
    pub fn as_str(self) -> &'static str {
        use HtlcState::*;
        match self {
            SentAddHtlc => "SENT_ADD_HTLC",
            SentAddCommit => "SENT_ADD_COMMIT",
            RcvdAddRevocation => "RCVD_ADD_REVOCATION",
            RcvdAddAckCommit => "RCVD_ADD_ACK_COMMIT",
            SentAddAckRevocation => "SENT_ADD_ACK_REVOCATION",
            RcvdRemoveHtlc => "RCVD_REMOVE_HTLC",
            RcvdRemoveCommit => "RCVD_REMOVE_COMMIT",
            SentRemoveRevocation => "SENT_REMOVE_REVOCATION",
            SentRemoveAckCommit => "SENT_REMOVE_ACK_COMMIT",
            RcvdRemoveAckRevocation => "RCVD_REMOVE_ACK_REVOCATION",
            RcvdAddHtlc => "RCVD_ADD_HTLC",
            RcvdAddCommit => "RCVD_ADD_COMMIT",
            SentAddRevocation => "SENT_ADD_REVOCATION",
            SentAddAckCommit => "SENT_ADD_ACK_COMMIT",
            RcvdAddAckRevocation => "RCVD_ADD_ACK_REVOCATION",
            SentRemoveHtlc => "SENT_REMOVE_HTLC",
            SentRemoveCommit => "SENT_REMOVE_COMMIT",
            RcvdRemoveRevocation => "RCVD_REMOVE_REVOCATION",
            RcvdRemoveAckCommit => "RCVD_REMOVE_ACK_COMMIT",
            SentRemoveAckRevocation => "SENT_REMOVE_ACK_REVOCATION",
        }
    }

    /// Whether this is the state of an HTLC we offered.
    pub fn is_offered_by_us(self) -> bool {
        use HtlcState::*;
        matches!(
            self,
            SentAddHtlc
                | SentAddCommit
                | RcvdAddRevocation
                | RcvdAddAckCommit
                | SentAddAckRevocation
                | RcvdRemoveHtlc
                | RcvdRemoveCommit
                | SentRemoveRevocation
                | SentRemoveAckCommit
                | RcvdRemoveAckRevocation
        )
    }

    /// Whether the HTLC is gone from both commitments and both old commitments are revoked.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            HtlcState::RcvdRemoveAckRevocation | HtlcState::SentRemoveAckRevocation
        )
    }

    /// Whether the HTLC (or fee update) is part of `side`'s latest commitment.
    pub fn phase(self, side: Side) -> Phase {
        use HtlcState::*;
        use Phase::*;
        match (self, side) {
            (SentAddHtlc | SentAddCommit | RcvdAddRevocation, Side::Local) => NotYet,
            (RcvdAddAckCommit | SentAddAckRevocation | RcvdRemoveHtlc, Side::Local) => In,
            (
                RcvdRemoveCommit
                | SentRemoveRevocation
                | SentRemoveAckCommit
                | RcvdRemoveAckRevocation,
                Side::Local,
            ) => Removed,
            (SentAddHtlc, Side::Remote) => NotYet,
            (
                SentAddCommit | RcvdAddRevocation | RcvdAddAckCommit | SentAddAckRevocation
                | RcvdRemoveHtlc | RcvdRemoveCommit | SentRemoveRevocation,
                Side::Remote,
            ) => In,
            (SentRemoveAckCommit | RcvdRemoveAckRevocation, Side::Remote) => Removed,
            (RcvdAddHtlc, Side::Local) => NotYet,
            (
                RcvdAddCommit | SentAddRevocation | SentAddAckCommit | RcvdAddAckRevocation
                | SentRemoveHtlc | SentRemoveCommit | RcvdRemoveRevocation,
                Side::Local,
            ) => In,
            (RcvdRemoveAckCommit | SentRemoveAckRevocation, Side::Local) => Removed,
            (RcvdAddHtlc | RcvdAddCommit | SentAddRevocation, Side::Remote) => NotYet,
            (SentAddAckCommit | RcvdAddAckRevocation | SentRemoveHtlc, Side::Remote) => In,
            (
                SentRemoveCommit
                | RcvdRemoveRevocation
                | RcvdRemoveAckCommit
                | SentRemoveAckRevocation,
                Side::Remote,
            ) => Removed,
        }
    }

    /// The state after we send `commitment_signed`.
    pub fn on_send_commit(self) -> HtlcState {
        use HtlcState::*;
        match self {
            SentAddHtlc => SentAddCommit,
            SentRemoveHtlc => SentRemoveCommit,
            SentAddRevocation => SentAddAckCommit,
            SentRemoveRevocation => SentRemoveAckCommit,
            other => other,
        }
    }

    /// The state after we receive `revoke_and_ack`.
    pub fn on_recv_revoke(self) -> HtlcState {
        use HtlcState::*;
        match self {
            SentAddCommit => RcvdAddRevocation,
            SentRemoveCommit => RcvdRemoveRevocation,
            SentAddAckCommit => RcvdAddAckRevocation,
            SentRemoveAckCommit => RcvdRemoveAckRevocation,
            other => other,
        }
    }

    /// The state after we receive `commitment_signed`.
    pub fn on_recv_commit(self) -> HtlcState {
        use HtlcState::*;
        match self {
            RcvdAddHtlc => RcvdAddCommit,
            RcvdRemoveHtlc => RcvdRemoveCommit,
            RcvdAddRevocation => RcvdAddAckCommit,
            RcvdRemoveRevocation => RcvdRemoveAckCommit,
            other => other,
        }
    }

    /// The state after we send `revoke_and_ack`.
    pub fn on_send_revoke(self) -> HtlcState {
        use HtlcState::*;
        match self {
            RcvdAddCommit => SentAddRevocation,
            RcvdRemoveCommit => SentRemoveRevocation,
            RcvdAddAckCommit => SentAddAckRevocation,
            RcvdRemoveAckCommit => SentRemoveAckRevocation,
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [HtlcState; 20] = {
        use HtlcState::*;
        [
            SentAddHtlc,
            SentAddCommit,
            RcvdAddRevocation,
            RcvdAddAckCommit,
            SentAddAckRevocation,
            RcvdRemoveHtlc,
            RcvdRemoveCommit,
            SentRemoveRevocation,
            SentRemoveAckCommit,
            RcvdRemoveAckRevocation,
            RcvdAddHtlc,
            RcvdAddCommit,
            SentAddRevocation,
            SentAddAckCommit,
            RcvdAddAckRevocation,
            SentRemoveHtlc,
            SentRemoveCommit,
            RcvdRemoveRevocation,
            RcvdRemoveAckCommit,
            SentRemoveAckRevocation,
        ]
    };

    /// Walks both lifecycles through the events that drive them, in the only order the
    /// protocol allows, and checks each state's phase on both commitments.
    #[test]
    fn lifecycles_follow_the_commitment_dance() {
        use HtlcState::*;
        use Phase::*;
        // Offered by us: add, we sign, they revoke, they sign, we revoke; they remove, they
        // sign, we revoke, we sign, they revoke.
        let mut s = SentAddHtlc;
        let mut seen = vec![(s, s.phase(Side::Local), s.phase(Side::Remote))];
        for step in [
            HtlcState::on_send_commit as fn(HtlcState) -> HtlcState,
            HtlcState::on_recv_revoke,
            HtlcState::on_recv_commit,
            HtlcState::on_send_revoke,
        ] {
            s = step(s);
            seen.push((s, s.phase(Side::Local), s.phase(Side::Remote)));
        }
        assert_eq!(
            seen,
            vec![
                (SentAddHtlc, NotYet, NotYet),
                (SentAddCommit, NotYet, In),
                (RcvdAddRevocation, NotYet, In),
                (RcvdAddAckCommit, In, In),
                (SentAddAckRevocation, In, In),
            ]
        );
        s = RcvdRemoveHtlc;
        assert_eq!((s.phase(Side::Local), s.phase(Side::Remote)), (In, In));
        s = s.on_recv_commit();
        assert_eq!((s, s.phase(Side::Local)), (RcvdRemoveCommit, Removed));
        s = s.on_send_revoke();
        assert_eq!(s, SentRemoveRevocation);
        s = s.on_send_commit();
        assert_eq!((s, s.phase(Side::Remote)), (SentRemoveAckCommit, Removed));
        s = s.on_recv_revoke();
        assert!(s.is_final());

        // Offered by the peer: mirror image.
        let mut s = RcvdAddHtlc;
        s = s.on_recv_commit();
        assert_eq!(
            (s, s.phase(Side::Local), s.phase(Side::Remote)),
            (RcvdAddCommit, In, NotYet)
        );
        s = s.on_send_revoke().on_send_commit();
        assert_eq!((s, s.phase(Side::Remote)), (SentAddAckCommit, In));
        s = s.on_recv_revoke();
        assert_eq!(s, RcvdAddAckRevocation);
        s = SentRemoveHtlc.on_send_commit();
        assert_eq!(
            (s, s.phase(Side::Remote), s.phase(Side::Local)),
            (SentRemoveCommit, Removed, In)
        );
        s = s.on_recv_revoke().on_recv_commit();
        assert_eq!((s, s.phase(Side::Local)), (RcvdRemoveAckCommit, Removed));
        s = s.on_send_revoke();
        assert!(s.is_final());
    }

    #[test]
    fn names_are_clns_and_distinct() {
        let names: std::collections::HashSet<_> = ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(names.len(), 20);
        assert!(ALL
            .iter()
            .all(|s| s.as_str().starts_with("SENT_") || s.as_str().starts_with("RCVD_")));
        assert_eq!(ALL.iter().filter(|s| s.is_offered_by_us()).count(), 10);
        // Once removed from a commitment an HTLC never comes back, and final states are
        // removed from both.
        for s in ALL {
            if s.is_final() {
                assert_eq!(s.phase(Side::Local), Phase::Removed);
                assert_eq!(s.phase(Side::Remote), Phase::Removed);
            }
        }
    }

    #[test]
    fn stored_names_are_pinned() {
        // Stored values are append-only: these serialised names must never change.
        assert_eq!(
            serde_json::to_string(&HtlcState::SentAddAckRevocation).unwrap_or_default(),
            "\"SentAddAckRevocation\""
        );
        assert_eq!(
            serde_json::to_string(&ChannelState::ChanneldNormal).unwrap_or_default(),
            "\"ChanneldNormal\""
        );
    }
}
