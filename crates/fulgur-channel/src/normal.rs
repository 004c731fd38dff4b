//! Normal operation (BOLT 2 "Normal Operation"): adding and removing HTLCs, `update_fee`,
//! and the `commitment_signed`/`revoke_and_ack` exchange that commits them, with the
//! in-flight, reserve, fee and dust-exposure limits.
//!
//! Our own updates are queued and go on the wire only together with the
//! `commitment_signed` that covers them, so we never have updates the peer must forget on a
//! disconnection, and a retransmission resends exactly what was sent.

use bitcoin::hashes::{sha256, Hash};
use fulgur_bolt3::{shachain, ChannelType};
use fulgur_wire::{
    ChannelReady, CommitmentSigned, Message, RevokeAndAck, Sha256, Signature as WireSignature,
    UpdateAddHtlc, UpdateFailHtlc, UpdateFailMalformedHtlc, UpdateFee, UpdateFulfillHtlc,
    ONION_PACKET_LEN,
};
use secp256k1::PublicKey;

use crate::channel::{Action, Channel, IncomingHtlc, Out, SentBatch};
use crate::config::MAX_CLTV_EXPIRY;
use crate::error::{ChannelError, RequestError};
use crate::state::{ChannelState, HtlcState, Side};
use crate::updates::{commitment_cost_at, FeeUpdate, Htlc, HtlcKey, Removal, View, ViewKind};

/// `update_fail_malformed_htlc`'s `BADONION` bit.
pub const BADONION: u16 = 0x8000;

impl Channel {
    fn opener_cost_msat(&self, view: &View<'_>, holder: Side, feerate: u32) -> u64 {
        let s = &self.d.setup;
        let c = commitment_cost_at(
            view,
            holder,
            s.dust_limit_sat(holder),
            s.channel_type,
            feerate,
        );
        (c.fee_sat + c.anchors_sat) * 1000
    }

    /// The trimmed HTLC value of `holder`'s commitment (pending view) at `feerate`.
    fn dust_exposure_on(&self, holder: Side, feerate: Option<u32>) -> u64 {
        let s = &self.d.setup;
        let v = self.d.updates.view(holder, ViewKind::Pending);
        let rate = feerate.unwrap_or(v.feerate_per_kw);
        commitment_cost_at(&v, holder, s.dust_limit_sat(holder), s.channel_type, rate)
            .trimmed_htlc_msat
    }

    /// The trimmed HTLC value of both commitments (pending view) at `feerate`.
    fn dust_exposure_msat(&self, feerate: Option<u32>) -> u64 {
        self.dust_exposure_on(Side::Local, feerate)
            .max(self.dust_exposure_on(Side::Remote, feerate))
    }

    /// Checks that `payer` keeps its reserve (and, as opener, pays fees and anchors) in both
    /// pending commitments.
    fn check_affordable(&self, payer: Side, fee_spike: bool) -> Result<(), String> {
        let s = &self.d.setup;
        let reserve_msat = match payer {
            // What the other side asked the payer to keep.
            Side::Local => s.remote.channel_reserve_sat,
            Side::Remote => s.local.channel_reserve_sat,
        } * 1000;
        for holder in [Side::Local, Side::Remote] {
            let v = self.d.updates.view(holder, ViewKind::Pending);
            let balance = match payer {
                Side::Local => v.our_msat,
                Side::Remote => v.their_msat,
            };
            let mut cost = 0;
            if s.opener == payer {
                let rate = if fee_spike {
                    v.feerate_per_kw.saturating_mul(2)
                } else {
                    v.feerate_per_kw
                };
                cost = self.opener_cost_msat(&v, holder, rate);
            }
            if balance < reserve_msat.saturating_add(cost) {
                return Err(format!(
                    "balance {balance}msat is below the reserve {reserve_msat}msat plus fees {cost}msat"
                ));
            }
        }
        Ok(())
    }

    /// Offers an HTLC. It is sent with the next `commitment_signed` (at once if possible).
    /// Returns its id.
    pub fn add_htlc(
        &mut self,
        amount_msat: u64,
        payment_hash: [u8; 32],
        cltv_expiry: u32,
        onion: Vec<u8>,
        path_key: Option<PublicKey>,
    ) -> Result<(u64, Vec<Action>), RequestError> {
        if self.d.state != ChannelState::ChanneldNormal || self.d.closing.local_shutdown_sent {
            return Err(RequestError::WrongState(self.d.state.as_str()));
        }
        if !self.live {
            return Err(RequestError::HtlcRefused("peer is not connected".into()));
        }
        let s = &self.d.setup;
        if amount_msat == 0 || amount_msat < s.remote.htlc_minimum_msat {
            return Err(RequestError::HtlcRefused(format!(
                "amount {amount_msat}msat is below the peer's htlc_minimum_msat {}",
                s.remote.htlc_minimum_msat
            )));
        }
        if cltv_expiry >= MAX_CLTV_EXPIRY {
            return Err(RequestError::Invalid(format!(
                "cltv_expiry {cltv_expiry} is not a block height"
            )));
        }
        if onion.len() != ONION_PACKET_LEN {
            return Err(RequestError::Invalid(format!(
                "onion is {} bytes, not {ONION_PACKET_LEN}",
                onion.len()
            )));
        }
        let (count, total) = self
            .d
            .updates
            .offered_totals(Side::Remote, ViewKind::Pending, true);
        if count + 1 > usize::from(s.remote.max_accepted_htlcs) {
            return Err(RequestError::HtlcRefused(format!(
                "the peer accepts at most {} HTLCs at once",
                s.remote.max_accepted_htlcs
            )));
        }
        if total.saturating_add(amount_msat) > s.remote.max_htlc_value_in_flight_msat {
            return Err(RequestError::HtlcRefused(format!(
                "the peer accepts at most {}msat in flight",
                s.remote.max_htlc_value_in_flight_msat
            )));
        }
        let id = self.d.updates.next_offered_id;
        let key = HtlcKey {
            offered_by_us: true,
            id,
        };
        self.d.updates.htlcs.insert(
            key,
            Htlc {
                id,
                amount_msat,
                payment_hash,
                cltv_expiry,
                state: HtlcState::SentAddHtlc,
                onion: Some(onion),
                path_key,
                removal: None,
            },
        );
        let refused = self.check_affordable(Side::Local, true).err().or_else(|| {
            let exposure = self.dust_exposure_msat(None);
            (exposure > self.cfg.max_dust_htlc_exposure_msat).then(|| {
                format!(
                    "dust exposure would be {exposure}msat, above the limit {}msat",
                    self.cfg.max_dust_htlc_exposure_msat
                )
            })
        });
        if let Some(why) = refused {
            self.d.updates.htlcs.remove(&key);
            return Err(RequestError::HtlcRefused(why));
        }
        self.d.updates.next_offered_id += 1;
        let mut out = Out::persisting();
        self.commit_unless_holding(&mut out)?;
        Ok((id, out.finish()))
    }

    fn incoming_for_removal(&mut self, id: u64) -> Result<&mut Htlc, RequestError> {
        let h = self
            .d
            .updates
            .htlcs
            .get_mut(&HtlcKey {
                offered_by_us: false,
                id,
            })
            .ok_or_else(|| RequestError::Invalid(format!("no incoming HTLC {id}")))?;
        if h.state != HtlcState::RcvdAddAckRevocation || h.removal.is_some() {
            return Err(RequestError::Invalid(format!(
                "incoming HTLC {id} is {}, not ready to be removed",
                h.state.as_str()
            )));
        }
        Ok(h)
    }

    fn remove_incoming(&mut self, id: u64, removal: Removal) -> Result<Vec<Action>, RequestError> {
        if !self.d.state.is_active() {
            return Err(RequestError::WrongState(self.d.state.as_str()));
        }
        let h = self.incoming_for_removal(id)?;
        if let Removal::Fulfilled { preimage } = &removal {
            if sha256::Hash::hash(preimage).to_byte_array() != h.payment_hash {
                return Err(RequestError::Invalid(format!(
                    "preimage does not match HTLC {id}"
                )));
            }
        }
        h.state = HtlcState::SentRemoveHtlc;
        h.removal = Some(removal);
        let mut out = Out::persisting();
        self.commit_unless_holding(&mut out)?;
        Ok(out.finish())
    }

    /// Settles an incoming HTLC with its preimage. Allowed while disconnected: it is sent
    /// after the reestablish.
    pub fn fulfill_htlc(
        &mut self,
        id: u64,
        preimage: [u8; 32],
    ) -> Result<Vec<Action>, RequestError> {
        self.remove_incoming(id, Removal::Fulfilled { preimage })
    }

    /// Fails an incoming HTLC with an onion-encrypted reason.
    pub fn fail_htlc(&mut self, id: u64, reason: Vec<u8>) -> Result<Vec<Action>, RequestError> {
        if reason.len() > usize::from(u16::MAX) {
            return Err(RequestError::Invalid("failure reason too long".into()));
        }
        self.remove_incoming(id, Removal::Failed { reason })
    }

    /// Fails an incoming HTLC whose onion could not be parsed.
    pub fn fail_malformed_htlc(
        &mut self,
        id: u64,
        sha256_of_onion: [u8; 32],
        failure_code: u16,
    ) -> Result<Vec<Action>, RequestError> {
        if failure_code & BADONION == 0 {
            return Err(RequestError::Invalid(
                "failure code lacks the BADONION bit".into(),
            ));
        }
        self.remove_incoming(
            id,
            Removal::FailedMalformed {
                sha256_of_onion,
                failure_code,
            },
        )
    }

    /// Changes the commitment fee rate (opener only).
    pub fn update_fee(&mut self, feerate_per_kw: u32) -> Result<Vec<Action>, RequestError> {
        if self.d.setup.opener != Side::Local {
            return Err(RequestError::Invalid(
                "only the opener sends update_fee".into(),
            ));
        }
        // Not after our shutdown: the peer may take the channel for clean and start the
        // closing negotiation before it arrives (BOLT 2: no update once no HTLC is left).
        if !matches!(
            self.d.state,
            ChannelState::ChanneldNormal | ChannelState::ChanneldShuttingDown
        ) || self.d.closing.local_shutdown_sent
        {
            return Err(RequestError::WrongState(self.d.state.as_str()));
        }
        if feerate_per_kw < 253 {
            return Err(RequestError::Invalid(format!(
                "feerate {feerate_per_kw} is below 253"
            )));
        }
        let saved = self.d.updates.fee_updates.clone();
        self.d
            .updates
            .fee_updates
            .retain(|f| f.state != HtlcState::SentAddHtlc);
        self.d.updates.fee_updates.push(FeeUpdate {
            feerate_per_kw,
            state: HtlcState::SentAddHtlc,
        });
        let mut why = self.check_affordable(Side::Local, false).err();
        if why.is_none() && self.d.setup.channel_type == ChannelType::StaticRemoteKey {
            let exposure = self.dust_exposure_msat(Some(feerate_per_kw));
            if exposure > self.cfg.max_dust_htlc_exposure_msat {
                why = Some(format!(
                    "dust exposure would be {exposure}msat at that feerate"
                ));
            }
        }
        if let Some(why) = why {
            self.d.updates.fee_updates = saved;
            return Err(RequestError::Invalid(why));
        }
        let mut out = Out::persisting();
        self.commit_unless_holding(&mut out)?;
        Ok(out.finish())
    }

    fn check_update_allowed(&self, what: &str) -> Result<(), ChannelError> {
        match self.d.state {
            ChannelState::ChanneldNormal | ChannelState::ChanneldShuttingDown => Ok(()),
            s => Err(ChannelError::warn(format!(
                "{what} while the channel is {}",
                s.as_str()
            ))),
        }
    }

    pub(crate) fn on_update_add(&mut self, m: &UpdateAddHtlc) -> Result<Vec<Action>, ChannelError> {
        // Only the peer's own `shutdown` stops its adds: ours may have crossed them (BOLT 2:
        // the sender of a `shutdown` sends no `update_add_htlc` after it).
        if !matches!(
            self.d.state,
            ChannelState::ChanneldNormal | ChannelState::ChanneldShuttingDown
        ) || self.d.closing.remote_script.is_some()
        {
            return Err(ChannelError::fail(format!(
                "update_add_htlc while the channel is {}",
                self.d.state.as_str()
            )));
        }
        let s = &self.d.setup;
        if m.id != self.d.updates.next_received_id {
            return Err(ChannelError::fail(format!(
                "update_add_htlc id {} but expected {}",
                m.id, self.d.updates.next_received_id
            )));
        }
        if m.amount_msat == 0 || m.amount_msat < s.local.htlc_minimum_msat {
            return Err(ChannelError::fail(format!(
                "update_add_htlc amount {}msat is below our htlc_minimum_msat {}",
                m.amount_msat, s.local.htlc_minimum_msat
            )));
        }
        if m.cltv_expiry >= MAX_CLTV_EXPIRY {
            return Err(ChannelError::fail(format!(
                "cltv_expiry {} is not a block height",
                m.cltv_expiry
            )));
        }
        let (count, total) = self
            .d
            .updates
            .offered_totals(Side::Local, ViewKind::Pending, false);
        if count + 1 > usize::from(s.local.max_accepted_htlcs) {
            return Err(ChannelError::fail(format!(
                "more than our max_accepted_htlcs {} HTLCs",
                s.local.max_accepted_htlcs
            )));
        }
        if total.saturating_add(m.amount_msat) > s.local.max_htlc_value_in_flight_msat {
            return Err(ChannelError::fail(format!(
                "more than our max_htlc_value_in_flight_msat {}",
                s.local.max_htlc_value_in_flight_msat
            )));
        }
        let key = HtlcKey {
            offered_by_us: false,
            id: m.id,
        };
        self.d.updates.htlcs.insert(
            key,
            Htlc {
                id: m.id,
                amount_msat: m.amount_msat,
                payment_hash: m.payment_hash.0,
                cltv_expiry: m.cltv_expiry,
                state: HtlcState::RcvdAddHtlc,
                onion: Some(m.onion_routing_packet.to_vec()),
                path_key: m.blinded_path,
                removal: None,
            },
        );
        if let Err(why) = self.check_affordable(Side::Remote, false) {
            self.d.updates.htlcs.remove(&key);
            return Err(ChannelError::fail(format!(
                "peer cannot afford HTLC {}: {why}",
                m.id
            )));
        }
        self.d.updates.next_received_id += 1;
        Ok(Vec::new())
    }

    fn outgoing_for_removal(&mut self, id: u64, what: &str) -> Result<&mut Htlc, ChannelError> {
        let h = self
            .d
            .updates
            .htlcs
            .get_mut(&HtlcKey {
                offered_by_us: true,
                id,
            })
            .ok_or_else(|| ChannelError::fail(format!("{what} for unknown HTLC {id}")))?;
        if h.state != HtlcState::SentAddAckRevocation || h.removal.is_some() {
            return Err(ChannelError::fail(format!(
                "{what} for HTLC {id} which is {}",
                h.state.as_str()
            )));
        }
        Ok(h)
    }

    pub(crate) fn on_update_fulfill(
        &mut self,
        m: &UpdateFulfillHtlc,
    ) -> Result<Vec<Action>, ChannelError> {
        self.check_update_allowed("update_fulfill_htlc")?;
        let h = self.outgoing_for_removal(m.id, "update_fulfill_htlc")?;
        if sha256::Hash::hash(&m.payment_preimage).to_byte_array() != h.payment_hash {
            return Err(ChannelError::fail(format!(
                "wrong preimage for HTLC {}",
                m.id
            )));
        }
        h.state = HtlcState::RcvdRemoveHtlc;
        h.removal = Some(Removal::Fulfilled {
            preimage: m.payment_preimage,
        });
        Ok(vec![Action::OutgoingFulfilled {
            id: m.id,
            preimage: m.payment_preimage,
        }])
    }

    pub(crate) fn on_update_fail(
        &mut self,
        m: &UpdateFailHtlc,
    ) -> Result<Vec<Action>, ChannelError> {
        self.check_update_allowed("update_fail_htlc")?;
        let h = self.outgoing_for_removal(m.id, "update_fail_htlc")?;
        h.state = HtlcState::RcvdRemoveHtlc;
        h.removal = Some(Removal::Failed {
            reason: m.reason.clone(),
        });
        Ok(Vec::new())
    }

    pub(crate) fn on_update_fail_malformed(
        &mut self,
        m: &UpdateFailMalformedHtlc,
    ) -> Result<Vec<Action>, ChannelError> {
        self.check_update_allowed("update_fail_malformed_htlc")?;
        if m.failure_code & BADONION == 0 {
            return Err(ChannelError::fail(
                "update_fail_malformed_htlc without the BADONION bit",
            ));
        }
        let h = self.outgoing_for_removal(m.id, "update_fail_malformed_htlc")?;
        h.state = HtlcState::RcvdRemoveHtlc;
        h.removal = Some(Removal::FailedMalformed {
            sha256_of_onion: m.sha256_of_onion.0,
            failure_code: m.failure_code,
        });
        Ok(Vec::new())
    }

    pub(crate) fn on_update_fee(&mut self, m: &UpdateFee) -> Result<Vec<Action>, ChannelError> {
        self.check_update_allowed("update_fee")?;
        if self.d.setup.opener != Side::Remote {
            return Err(ChannelError::fail(
                "update_fee from the side that does not pay the fee",
            ));
        }
        let (lo, hi) = self.feerate_bounds;
        if m.feerate_per_kw < lo.max(253) || m.feerate_per_kw > hi {
            return Err(ChannelError::fail(format!(
                "update_fee {} is outside the acceptable {}-{hi}",
                m.feerate_per_kw,
                lo.max(253)
            )));
        }
        self.d.updates.fee_updates.push(FeeUpdate {
            feerate_per_kw: m.feerate_per_kw,
            state: HtlcState::RcvdAddHtlc,
        });
        let mut why = None;
        let v = self.d.updates.view(Side::Local, ViewKind::Pending);
        let cost = self.opener_cost_msat(&v, Side::Local, m.feerate_per_kw);
        if v.their_msat < cost {
            why = Some(format!(
                "peer cannot pay {cost}msat of fees at feerate {}",
                m.feerate_per_kw
            ));
        } else if self.d.setup.channel_type == ChannelType::StaticRemoteKey {
            // Only our own commitment: the peer's pending view of it is exactly ours at this
            // point of the message stream. Our pending view of the peer's commitment also
            // holds our updates the peer had not seen when it sent this, so judging it
            // would fail the channel on an honest race (the peer checked its own view).
            let exposure = self.dust_exposure_on(Side::Local, Some(m.feerate_per_kw));
            if exposure > self.cfg.max_dust_htlc_exposure_msat {
                why = Some(format!(
                    "update_fee {} would trim {exposure}msat of HTLCs, above max-dust-htlc-exposure-msat {}",
                    m.feerate_per_kw, self.cfg.max_dust_htlc_exposure_msat
                ));
            }
        }
        if let Some(why) = why {
            self.d.updates.fee_updates.pop();
            return Err(ChannelError::fail(why));
        }
        Ok(Vec::new())
    }

    pub(crate) fn on_commitment_signed(
        &mut self,
        m: &CommitmentSigned,
    ) -> Result<Vec<Action>, ChannelError> {
        self.check_update_allowed("commitment_signed")?;
        let mut updates = self.d.updates.clone();
        updates.transition(HtlcState::on_recv_commit);
        let number = self.d.local_commit.number + 1;
        let point = self.signer.per_commitment_point(number);
        let built = {
            let view = updates.view(Side::Local, ViewKind::Current);
            self.build(Side::Local, number, &point, &view)?
        };
        self.check_local_sigs(&built, &m.signature, &m.htlc_signatures)?;
        self.d.updates = updates;
        self.d.local_commit.number = number;
        self.d.local_commit.remote_sig = m.signature.0.to_vec();
        self.d.local_commit.remote_htlc_sigs =
            m.htlc_signatures.iter().map(|s| s.0.to_vec()).collect();
        let mut out = Out::persisting();
        out.send(self.revoke_message());
        self.d.last_revoke_seq = self.next_seq();
        self.d.updates.transition(HtlcState::on_send_revoke);
        self.finish_htlcs(&mut out);
        self.maybe_commit(&mut out)?;
        self.progress_close(&mut out)?;
        Ok(out.finish())
    }

    /// Our `revoke_and_ack` for the commitment before our latest.
    pub(crate) fn revoke_message(&self) -> RevokeAndAck {
        let number = self.d.local_commit.number;
        RevokeAndAck {
            unknown_tlvs: Vec::new(),
            channel_id: self.channel_id(),
            per_commitment_secret: self.signer.per_commitment_secret(number.saturating_sub(1)),
            next_per_commitment_point: self.signer.per_commitment_point(number + 1),
        }
    }

    pub(crate) fn on_revoke_and_ack(
        &mut self,
        m: &RevokeAndAck,
    ) -> Result<Vec<Action>, ChannelError> {
        self.check_update_allowed("revoke_and_ack")?;
        let Some(prev) = self.d.remote_commit.prev_point else {
            return Err(ChannelError::fail(
                "revoke_and_ack without an unrevoked commitment",
            ));
        };
        let point = fulgur_bolt3::keys::revealed_per_commitment_point(&m.per_commitment_secret)
            .map_err(|_| ChannelError::fail("per_commitment_secret is not a valid secret"))?;
        if point != prev {
            return Err(ChannelError::fail(format!(
                "per_commitment_secret does not match commitment {}",
                self.d.remote_commit.number - 1
            )));
        }
        let index = shachain::MAX_INDEX - (self.d.remote_commit.number - 1);
        let mut secrets = self.d.remote_secrets.clone();
        secrets
            .insert(index, m.per_commitment_secret)
            .map_err(|e| {
                ChannelError::fail(format!("per_commitment_secret not from a shachain: {e}"))
            })?;
        self.d.remote_secrets = secrets;
        self.d.remote_commit.prev_point = None;
        self.d.remote_commit.next_point = Some(m.next_per_commitment_point);
        self.d.last_sent_batch = None;
        let mut out = Out::persisting();
        let newly_committed: Vec<HtlcKey> = self
            .d
            .updates
            .htlcs
            .values()
            .filter(|h| h.state == HtlcState::SentAddAckCommit)
            .map(Htlc::key)
            .collect();
        self.d.updates.transition(HtlcState::on_recv_revoke);
        let exposure_exceeded =
            self.dust_exposure_msat(None) > self.cfg.max_dust_htlc_exposure_msat;
        for key in newly_committed {
            if let Some(h) = self.d.updates.htlcs.get(&key) {
                out.push(Action::IncomingHtlc(IncomingHtlc {
                    id: h.id,
                    amount_msat: h.amount_msat,
                    payment_hash: h.payment_hash,
                    cltv_expiry: h.cltv_expiry,
                    onion: h.onion.clone().unwrap_or_default(),
                    path_key: h.path_key,
                    dust_exposure_exceeded: exposure_exceeded && self.is_trimmed_anywhere(h),
                }));
            }
        }
        self.finish_htlcs(&mut out);
        self.maybe_commit(&mut out)?;
        self.progress_close(&mut out)?;
        Ok(out.finish())
    }

    fn is_trimmed_anywhere(&self, h: &Htlc) -> bool {
        let s = &self.d.setup;
        [Side::Local, Side::Remote].into_iter().any(|side| {
            let v = self.d.updates.view(side, ViewKind::Current);
            fulgur_bolt3::is_htlc_trimmed(
                h.state.is_offered_by_us() == (side == Side::Local),
                h.amount_msat,
                s.dust_limit_sat(side),
                v.feerate_per_kw,
                s.channel_type,
            )
        })
    }

    /// Folds finished HTLCs into the balances and reports them.
    fn finish_htlcs(&mut self, out: &mut Out) {
        for h in self.d.updates.settle_finished() {
            if h.state.is_offered_by_us() {
                if let Some(removal @ (Removal::Failed { .. } | Removal::FailedMalformed { .. })) =
                    &h.removal
                {
                    out.push(Action::OutgoingFailed {
                        id: h.id,
                        removal: removal.clone(),
                    });
                }
            }
            out.push(Action::HtlcFinished(h));
        }
    }

    /// Holds (`true`) or releases our `commitment_signed` for our own requests: while held,
    /// `add_htlc`, `fulfill_htlc`, `fail_htlc`, `fail_malformed_htlc` and `update_fee` store
    /// their updates without signing, and [`Channel::commit`] then sends them all under one
    /// commitment. A node processing a burst of requests holds, then commits once, so many
    /// HTLCs share each commitment's signatures (as Core Lightning's commit timer does). The
    /// peer's messages are answered as usual either way. Not stored: a restarted channel does
    /// not hold.
    pub fn hold_commits(&mut self, hold: bool) {
        self.holding = hold;
    }

    /// Sends what our requests queued, under one `commitment_signed`, if anything is queued
    /// and we may sign now (otherwise it goes after the peer's next revocation).
    pub fn commit(&mut self) -> Result<Vec<Action>, RequestError> {
        let mut out = Out::default();
        self.maybe_commit(&mut out)
            .map_err(|e| RequestError::Invalid(e.message))?;
        Ok(out.finish())
    }

    fn commit_unless_holding(&mut self, out: &mut Out) -> Result<(), RequestError> {
        if self.holding {
            return Ok(());
        }
        self.maybe_commit(out)
            .map_err(|e| RequestError::Invalid(e.message))
    }

    /// Sends our queued updates and a `commitment_signed` if anything changed for the peer's
    /// commitment and we may sign now; then our `shutdown` if one is wanted and no add or
    /// fee update of ours is left unsent.
    pub(crate) fn maybe_commit(&mut self, out: &mut Out) -> Result<(), ChannelError> {
        self.commit_queued(out)?;
        self.maybe_send_shutdown(out)
    }

    fn commit_queued(&mut self, out: &mut Out) -> Result<(), ChannelError> {
        // The peer's next point is known only once it revoked its previous commitment.
        let Some(point) = self.d.remote_commit.next_point else {
            return Ok(());
        };
        if !self.live
            || !matches!(
                self.d.state,
                ChannelState::ChanneldNormal | ChannelState::ChanneldShuttingDown
            )
            || !self.d.updates.has_changes_for(Side::Remote)
        {
            return Ok(());
        }
        let channel_id = self.channel_id();
        let mut messages: Vec<Message> = Vec::new();
        // The fee update goes first: every HTLC we queued was checked against the fee rate
        // pending at the time, and the fee change was checked with every HTLC queued before
        // it, so the peer checks each add at the batch's final rate, as we did.
        if let Some(f) = self
            .d
            .updates
            .fee_updates
            .iter()
            .rev()
            .find(|f| f.state == HtlcState::SentAddHtlc)
        {
            messages.push(
                UpdateFee {
                    unknown_tlvs: Vec::new(),
                    channel_id,
                    feerate_per_kw: f.feerate_per_kw,
                }
                .into(),
            );
        }
        for h in self.d.updates.htlcs.values_mut() {
            match h.state {
                HtlcState::SentAddHtlc => {
                    let mut onion = Box::new([0u8; ONION_PACKET_LEN]);
                    if let Some(o) = h.onion.take() {
                        if o.len() == ONION_PACKET_LEN {
                            onion.copy_from_slice(&o);
                        }
                    }
                    messages.push(
                        UpdateAddHtlc {
                            unknown_tlvs: Vec::new(),
                            channel_id,
                            id: h.id,
                            amount_msat: h.amount_msat,
                            payment_hash: Sha256(h.payment_hash),
                            cltv_expiry: h.cltv_expiry,
                            onion_routing_packet: onion,
                            blinded_path: h.path_key,
                        }
                        .into(),
                    );
                }
                HtlcState::SentRemoveHtlc => messages.push(match &h.removal {
                    Some(Removal::Fulfilled { preimage }) => UpdateFulfillHtlc {
                        unknown_tlvs: Vec::new(),
                        channel_id,
                        id: h.id,
                        payment_preimage: *preimage,
                        attribution_data: None,
                    }
                    .into(),
                    Some(Removal::Failed { reason }) => UpdateFailHtlc {
                        unknown_tlvs: Vec::new(),
                        channel_id,
                        id: h.id,
                        reason: reason.clone(),
                        attribution_data: None,
                    }
                    .into(),
                    Some(Removal::FailedMalformed {
                        sha256_of_onion,
                        failure_code,
                    }) => UpdateFailMalformedHtlc {
                        unknown_tlvs: Vec::new(),
                        channel_id,
                        id: h.id,
                        sha256_of_onion: Sha256(*sha256_of_onion),
                        failure_code: *failure_code,
                    }
                    .into(),
                    None => continue,
                }),
                _ => {}
            }
        }
        self.d.updates.transition(HtlcState::on_send_commit);
        let number = self.d.remote_commit.number + 1;
        let built = {
            let view = self.d.updates.view(Side::Remote, ViewKind::Current);
            self.build(Side::Remote, number, &point, &view)?
        };
        let (sig, htlc_sigs) = self.sign_remote(&built)?;
        messages.push(
            CommitmentSigned {
                unknown_tlvs: Vec::new(),
                channel_id,
                signature: WireSignature::from_ecdsa(&sig),
                htlc_signatures: htlc_sigs.iter().map(WireSignature::from_ecdsa).collect(),
                funding_txid: None,
            }
            .into(),
        );
        let prev = self.d.remote_commit.point;
        self.d.remote_commit.number = number;
        self.d.remote_commit.prev_point = Some(prev);
        self.d.remote_commit.point = point;
        self.d.remote_commit.next_point = None;
        self.d.remote_commit.txid = Some(built.commitment.tx.compute_txid());
        let seq = self.next_seq();
        self.d.last_sent_batch = Some(SentBatch {
            commit_number: number,
            messages: messages.iter().map(Message::encode).collect(),
            seq,
        });
        out.persist = true;
        for m in messages {
            out.push(Action::Send(m));
        }
        self.finish_htlcs(out);
        Ok(())
    }

    pub(crate) fn on_channel_ready(
        &mut self,
        m: &ChannelReady,
    ) -> Result<Vec<Action>, ChannelError> {
        let mut out = Out::default();
        if self.d.channel_ready_received {
            // A repeat after a reconnection is ignored; it may only bring a new alias.
            let expected = if self.d.remote_commit.number == 0 {
                self.d.remote_commit.next_point
            } else {
                None
            };
            if expected.is_some_and(|p| p != m.second_per_commitment_point) {
                return Err(ChannelError::warn(
                    "second channel_ready with a different second_per_commitment_point",
                ));
            }
            if let Some(alias) = m.short_channel_id {
                if self.d.remote_alias != Some(alias.0) {
                    self.d.remote_alias = Some(alias.0);
                    out.persist = true;
                }
            }
            return Ok(out.finish());
        }
        if self.d.state != ChannelState::ChanneldAwaitingLockin
            && self.d.state != ChannelState::ChanneldShuttingDown
        {
            return Err(ChannelError::warn(format!(
                "channel_ready while the channel is {}",
                self.d.state.as_str()
            )));
        }
        self.d.channel_ready_received = true;
        self.d.remote_commit.next_point = Some(m.second_per_commitment_point);
        self.d.remote_alias = m.short_channel_id.map(|s| s.0);
        out.persist = true;
        self.check_ready(&mut out);
        Ok(out.finish())
    }

    /// Moves to normal operation once both `channel_ready` are exchanged.
    pub(crate) fn check_ready(&mut self, out: &mut Out) {
        if self.d.state == ChannelState::ChanneldAwaitingLockin
            && self.d.channel_ready_sent
            && self.d.channel_ready_received
        {
            self.set_state(ChannelState::ChanneldNormal, out);
            out.push(Action::Ready);
        }
    }

    /// Our `channel_ready`.
    pub(crate) fn channel_ready_message(&self) -> ChannelReady {
        ChannelReady {
            unknown_tlvs: Vec::new(),
            channel_id: self.channel_id(),
            second_per_commitment_point: self.signer.per_commitment_point(1),
            short_channel_id: None,
        }
    }

    /// The funding transaction's depth changed. `funding_output` is the output at the
    /// funding outpoint, as confirmed; it must pay the agreed script and amount.
    pub fn funding_depth(
        &mut self,
        depth: u32,
        short_channel_id: Option<u64>,
        funding_output: Option<&bitcoin::TxOut>,
    ) -> Result<Vec<Action>, ChannelError> {
        let mut out = Out::default();
        if !self.d.funding_checked {
            if let Some(o) = funding_output {
                if *o != self.expected_funding_output() {
                    return Err(ChannelError::fail(format!(
                        "funding output {} pays {} to {}, not the agreed {} sat to the 2-of-2 script",
                        self.d.setup.funding_outpoint,
                        o.value,
                        o.script_pubkey,
                        self.d.setup.funding_sat
                    )));
                }
                self.d.funding_checked = true;
                out.persist = true;
            }
        }
        self.d.funding_depth = depth;
        if short_channel_id.is_some() && self.d.short_channel_id != short_channel_id {
            self.d.short_channel_id = short_channel_id;
            out.persist = true;
        }
        if depth >= self.d.setup.minimum_depth.max(1)
            && self.d.funding_checked
            && !self.d.channel_ready_sent
            && self.d.state == ChannelState::ChanneldAwaitingLockin
        {
            self.d.channel_ready_sent = true;
            out.persist = true;
            if self.live {
                out.send(self.channel_ready_message());
            }
            self.check_ready(&mut out);
        }
        Ok(out.finish())
    }
}
