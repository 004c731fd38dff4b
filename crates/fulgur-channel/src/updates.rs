//! The channel's pending and committed updates: HTLCs and fee changes, each with its
//! lifecycle state, the settled balances, and the views of either side's commitment built
//! from them (BOLT 2 "Normal Operation": updates are proposed, then committed to the
//! receiver's commitment, then to the sender's; BOLT 3 "Fees" and "Trimmed Outputs").

use std::collections::BTreeMap;

use fulgur_bolt3::{fees, ChannelType};
use secp256k1::PublicKey;
use serde::{Deserialize, Serialize};

use crate::state::{HtlcState, Phase, Side};

/// Identifies an HTLC within a channel: who offered it and its `id`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct HtlcKey {
    /// Whether we offered it (outgoing); otherwise the peer did (incoming).
    pub offered_by_us: bool,
    /// The HTLC's `id`.
    pub id: u64,
}

/// How an HTLC was removed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Removal {
    /// Settled with its preimage: the amount goes to the receiver.
    Fulfilled {
        /// The preimage.
        preimage: [u8; 32],
    },
    /// Failed with an onion-encrypted reason: the amount returns to the offerer.
    Failed {
        /// The `reason` of `update_fail_htlc`.
        #[serde(with = "crate::serde_hex")]
        reason: Vec<u8>,
    },
    /// Failed because its onion could not be parsed.
    FailedMalformed {
        /// `sha256_of_onion`.
        sha256_of_onion: [u8; 32],
        /// The BOLT 4 failure code (with `BADONION`).
        failure_code: u16,
    },
}

impl Removal {
    /// Whether the receiver gets the amount.
    pub fn is_fulfill(&self) -> bool {
        matches!(self, Removal::Fulfilled { .. })
    }
}

/// An HTLC of this channel.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Htlc {
    /// The HTLC's `id`.
    pub id: u64,
    /// Its amount.
    pub amount_msat: u64,
    /// The hash of the preimage that settles it.
    pub payment_hash: [u8; 32],
    /// Its absolute expiry height.
    pub cltv_expiry: u32,
    /// Where it is in its lifecycle.
    pub state: HtlcState,
    /// The onion of an incoming HTLC, kept until the HTLC is resolved.
    #[serde(with = "crate::serde_hex::option", default)]
    pub onion: Option<Vec<u8>>,
    /// `update_add_htlc`'s `blinded_path` `path_key`.
    #[serde(default)]
    pub path_key: Option<PublicKey>,
    /// How it is being removed, once a removal was proposed.
    #[serde(default)]
    pub removal: Option<Removal>,
}

impl Htlc {
    /// The HTLC's key.
    pub fn key(&self) -> HtlcKey {
        HtlcKey {
            offered_by_us: self.state.is_offered_by_us(),
            id: self.id,
        }
    }
}

/// A change of the commitment fee rate (only the opener sends them).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeeUpdate {
    /// The new rate.
    pub feerate_per_kw: u32,
    /// Its lifecycle, with the add states of an HTLC.
    pub state: HtlcState,
}

/// Which proposals a view counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ViewKind {
    /// The latest commitment actually signed for that side.
    Current,
    /// As if every update proposed so far were committed to that side.
    Pending,
}

/// One side's commitment as the updates describe it: balances from our point of view, the
/// fee rate and the HTLCs in it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct View<'a> {
    /// Our balance, before fees and anchors.
    pub our_msat: u64,
    /// The peer's balance, before fees and anchors.
    pub their_msat: u64,
    /// The commitment's fee rate.
    pub feerate_per_kw: u32,
    /// The HTLCs in the commitment.
    pub htlcs: Vec<&'a Htlc>,
}

/// All updates of a channel and the balances they settle into.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Updates {
    /// Our balance with every finished HTLC settled.
    pub settled_our_msat: u64,
    /// The peer's balance with every finished HTLC settled.
    pub settled_their_msat: u64,
    /// The fee rate both commitments have once every fee update is finished.
    pub settled_feerate_per_kw: u32,
    /// HTLCs not finished yet.
    #[serde(with = "htlc_list")]
    pub htlcs: BTreeMap<HtlcKey, Htlc>,
    /// Fee updates not finished yet, oldest first.
    pub fee_updates: Vec<FeeUpdate>,
    /// The `id` of the next HTLC we offer.
    pub next_offered_id: u64,
    /// The `id` we expect for the next HTLC the peer offers.
    pub next_received_id: u64,
}

/// Stores the HTLC map as a list (JSON maps need string keys; the key is in each HTLC).
mod htlc_list {
    use std::collections::BTreeMap;

    use serde::{Deserialize, Deserializer, Serializer};

    use super::{Htlc, HtlcKey};

    pub fn serialize<S: Serializer>(m: &BTreeMap<HtlcKey, Htlc>, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(m.values())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<BTreeMap<HtlcKey, Htlc>, D::Error> {
        let list = Vec::<Htlc>::deserialize(d)?;
        let mut m = BTreeMap::new();
        for h in list {
            if m.insert(h.key(), h).is_some() {
                return Err(serde::de::Error::custom("duplicate HTLC"));
            }
        }
        Ok(m)
    }
}

fn pending_phase(state: HtlcState, side: Side) -> Phase {
    match (state, side) {
        (HtlcState::SentAddHtlc, Side::Remote) | (HtlcState::RcvdAddHtlc, Side::Local) => Phase::In,
        (HtlcState::SentRemoveHtlc, Side::Remote) | (HtlcState::RcvdRemoveHtlc, Side::Local) => {
            Phase::Removed
        }
        _ => state.phase(side),
    }
}

impl Updates {
    /// The updates of a new channel.
    pub fn new(our_msat: u64, their_msat: u64, feerate_per_kw: u32) -> Updates {
        Updates {
            settled_our_msat: our_msat,
            settled_their_msat: their_msat,
            settled_feerate_per_kw: feerate_per_kw,
            htlcs: BTreeMap::new(),
            fee_updates: Vec::new(),
            next_offered_id: 0,
            next_received_id: 0,
        }
    }

    /// A view of `side`'s commitment.
    pub fn view(&self, side: Side, kind: ViewKind) -> View<'_> {
        let phase = |s: HtlcState| match kind {
            ViewKind::Current => s.phase(side),
            ViewKind::Pending => pending_phase(s, side),
        };
        let mut our = i128::from(self.settled_our_msat);
        let mut their = i128::from(self.settled_their_msat);
        let mut htlcs = Vec::new();
        for h in self.htlcs.values() {
            let amount = i128::from(h.amount_msat);
            let ours = h.state.is_offered_by_us();
            let settle = match phase(h.state) {
                Phase::NotYet => continue,
                Phase::In => {
                    htlcs.push(h);
                    false
                }
                Phase::Removed => h.removal.as_ref().is_some_and(Removal::is_fulfill),
            };
            if matches!(phase(h.state), Phase::In) || settle {
                if ours {
                    our -= amount;
                } else {
                    their -= amount;
                }
            }
            if settle {
                if ours {
                    their += amount;
                } else {
                    our += amount;
                }
            }
        }
        let feerate_per_kw = self
            .fee_updates
            .iter()
            .rev()
            .find(|f| phase(f.state) == Phase::In)
            .map_or(self.settled_feerate_per_kw, |f| f.feerate_per_kw);
        View {
            // Never negative: every add was checked against the offerer's balance.
            our_msat: u64::try_from(our.max(0)).unwrap_or(0),
            their_msat: u64::try_from(their.max(0)).unwrap_or(0),
            feerate_per_kw,
            htlcs,
        }
    }

    /// Applies a state transition to every update.
    pub fn transition(&mut self, f: fn(HtlcState) -> HtlcState) {
        for h in self.htlcs.values_mut() {
            h.state = f(h.state);
        }
        for u in &mut self.fee_updates {
            u.state = f(u.state);
        }
    }

    /// Whether any update would change `side`'s next commitment.
    pub fn has_changes_for(&self, side: Side) -> bool {
        let changes = |s: HtlcState| s.phase(side) != pending_phase(s, side);
        let acked = |s: HtlcState| match side {
            Side::Remote => matches!(
                s,
                HtlcState::SentAddRevocation | HtlcState::SentRemoveRevocation
            ),
            Side::Local => false,
        };
        self.htlcs
            .values()
            .any(|h| changes(h.state) || acked(h.state))
            || self
                .fee_updates
                .iter()
                .any(|f| changes(f.state) || acked(f.state))
    }

    /// Removes finished HTLCs and fee updates, folding them into the settled balances.
    /// Returns the finished HTLCs.
    pub fn settle_finished(&mut self) -> Vec<Htlc> {
        let done: Vec<HtlcKey> = self
            .htlcs
            .values()
            .filter(|h| h.state.is_final())
            .map(Htlc::key)
            .collect();
        let mut finished = Vec::with_capacity(done.len());
        for key in done {
            let Some(h) = self.htlcs.remove(&key) else {
                continue;
            };
            if h.removal.as_ref().is_some_and(Removal::is_fulfill) {
                if key.offered_by_us {
                    self.settled_our_msat = self.settled_our_msat.saturating_sub(h.amount_msat);
                    self.settled_their_msat = self.settled_their_msat.saturating_add(h.amount_msat);
                } else {
                    self.settled_their_msat = self.settled_their_msat.saturating_sub(h.amount_msat);
                    self.settled_our_msat = self.settled_our_msat.saturating_add(h.amount_msat);
                }
            }
            finished.push(h);
        }
        if let Some(last) = self.fee_updates.iter().rposition(|f| {
            matches!(
                f.state,
                HtlcState::SentAddAckRevocation | HtlcState::RcvdAddAckRevocation
            )
        }) {
            self.settled_feerate_per_kw = self.fee_updates[last].feerate_per_kw;
            self.fee_updates.drain(..=last);
        }
        finished
    }

    /// Forgets the peer's updates that no `commitment_signed` covered (BOLT 2 "Message
    /// Retransmission": reverse uncommitted updates on disconnection).
    pub fn drop_uncommitted_remote(&mut self) {
        let mut first_dropped: Option<u64> = None;
        self.htlcs.retain(|k, h| {
            if h.state == HtlcState::RcvdAddHtlc {
                first_dropped = Some(first_dropped.map_or(k.id, |f: u64| f.min(k.id)));
                false
            } else {
                true
            }
        });
        if let Some(id) = first_dropped {
            self.next_received_id = id;
        }
        for h in self.htlcs.values_mut() {
            if h.state == HtlcState::RcvdRemoveHtlc {
                h.state = HtlcState::SentAddAckRevocation;
                h.removal = None;
            }
        }
        self.fee_updates
            .retain(|f| f.state != HtlcState::RcvdAddHtlc);
    }

    /// The total of HTLCs the peer offered that are in `side`'s commitment (or pending).
    pub fn offered_totals(&self, side: Side, kind: ViewKind, by_us: bool) -> (usize, u64) {
        let v = self.view(side, kind);
        v.htlcs
            .iter()
            .filter(|h| h.state.is_offered_by_us() == by_us)
            .fold((0, 0), |(n, t), h| (n + 1, t.saturating_add(h.amount_msat)))
    }
}

/// The figures of one commitment that the affordability rules need.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CommitmentCost {
    /// The commitment fee at its fee rate.
    pub fee_sat: u64,
    /// The anchors' value (0 without anchors).
    pub anchors_sat: u64,
    /// The HTLCs whose outputs are trimmed, in total.
    pub trimmed_htlc_msat: u64,
}

/// The cost of a commitment held by `holder` with the given view, at `feerate_per_kw`.
pub fn commitment_cost_at(
    view: &View<'_>,
    holder: Side,
    holder_dust_limit_sat: u64,
    channel_type: ChannelType,
    feerate_per_kw: u32,
) -> CommitmentCost {
    let mut untrimmed = 0;
    let mut trimmed_htlc_msat = 0u64;
    for h in &view.htlcs {
        let offered_by_holder = h.state.is_offered_by_us() == (holder == Side::Local);
        if fees::is_htlc_trimmed(
            offered_by_holder,
            h.amount_msat,
            holder_dust_limit_sat,
            feerate_per_kw,
            channel_type,
        ) {
            trimmed_htlc_msat = trimmed_htlc_msat.saturating_add(h.amount_msat);
        } else {
            untrimmed += 1;
        }
    }
    CommitmentCost {
        fee_sat: fees::commitment_fee_sat(feerate_per_kw, untrimmed, channel_type),
        anchors_sat: fees::anchors_sat(channel_type),
        trimmed_htlc_msat,
    }
}
