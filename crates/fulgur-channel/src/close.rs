//! Mutual close (BOLT 2 "Channel Close"): `shutdown`, clearing the HTLCs, and the legacy
//! `closing_signed` fee negotiation with `fee_range` (BOLT 3 "Closing Transaction").
//! CLN's `fee_negotiation_step` drives the negotiation when the peer sends no `fee_range`.

use bitcoin::{Script, ScriptBuf, Transaction};
use fulgur_bolt3::{
    build_closing_tx, closing_tx_weight, is_valid_shutdown_script, sign, ShutdownScriptRules,
};
use fulgur_wire::{ClosingSigned, FeeRange, Shutdown, Signature as WireSignature};
use serde::{Deserialize, Serialize};

use crate::channel::{Action, Channel, CloseCause, Out};
use crate::error::{ChannelError, RequestError};
use crate::state::{ChannelState, HtlcState, Side};
use crate::updates::ViewKind;

/// How far to move towards the peer's fee each round when it sends no `fee_range`
/// (`close`'s `fee_negotiation_step`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum FeeStep {
    /// This percentage (1-100) of the gap.
    Percent(u8),
    /// This many satoshis.
    Sat(u64),
}

impl Default for FeeStep {
    fn default() -> FeeStep {
        FeeStep::Percent(50)
    }
}

/// Shutdown and closing negotiation state.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Closing {
    /// Where our funds go when no other script is given (a wallet address).
    #[serde(with = "crate::serde_hex")]
    pub default_script: Vec<u8>,
    /// Our `shutdown` script, once we decided to close.
    #[serde(with = "crate::serde_hex::option", default)]
    pub local_script: Option<Vec<u8>>,
    /// The peer's `shutdown` script.
    #[serde(with = "crate::serde_hex::option", default)]
    pub remote_script: Option<Vec<u8>>,
    /// Whether our `shutdown` was sent.
    pub local_shutdown_sent: bool,
    /// The negotiation step.
    #[serde(default)]
    pub step: FeeStep,
    /// Fee rates (desired, lowest, highest) given to `close`, overriding the node's.
    #[serde(default)]
    pub feerange: Option<(u32, u32)>,
    /// The fee we last proposed (this connection).
    pub last_sent_fee: Option<u64>,
    /// The fee the peer last proposed (this connection).
    pub last_received_fee: Option<u64>,
    /// The agreed closing transaction.
    #[serde(with = "crate::serde_hex::option", default)]
    pub agreed_tx: Option<Vec<u8>>,
}

impl Closing {
    /// A channel's closing state before any shutdown.
    pub fn new(default_script: Vec<u8>) -> Closing {
        Closing {
            default_script,
            ..Closing::default()
        }
    }

    /// Negotiation restarts on reconnection.
    pub fn reset_negotiation(&mut self) {
        self.last_sent_fee = None;
        self.last_received_fee = None;
    }
}

/// The node's closing fee rates: desired, lowest and highest sat/kw.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CloseFeerates {
    /// What we propose.
    pub desired: u32,
    /// The least we accept.
    pub min: u32,
    /// The most we pay (as opener).
    pub max: u32,
}

impl Default for CloseFeerates {
    fn default() -> CloseFeerates {
        CloseFeerates {
            desired: 253,
            min: 253,
            max: 253 * 40,
        }
    }
}

impl Channel {
    fn shutdown_rules(&self) -> ShutdownScriptRules {
        ShutdownScriptRules {
            anysegwit: self.d.setup.anysegwit,
            ..ShutdownScriptRules::default()
        }
    }

    /// Starts a mutual close (`close`): `shutdown` with `script` (or the upfront script, or
    /// the default wallet script). HTLCs in flight are cleared first.
    pub fn shutdown(
        &mut self,
        script: Option<Vec<u8>>,
        step: FeeStep,
        feerange: Option<(u32, u32)>,
    ) -> Result<Vec<Action>, RequestError> {
        if !matches!(
            self.d.state,
            ChannelState::ChanneldAwaitingLockin
                | ChannelState::ChanneldNormal
                | ChannelState::ChanneldShuttingDown
        ) {
            return Err(RequestError::WrongState(self.d.state.as_str()));
        }
        if let FeeStep::Percent(p) = step {
            if p == 0 || p > 100 {
                return Err(RequestError::Invalid(
                    "fee_negotiation_step must be 1-100%".into(),
                ));
            }
        }
        if let Some((min, max)) = feerange {
            if min > max {
                return Err(RequestError::Invalid(format!(
                    "feerange: the lowest feerate {min} is above the highest {max}"
                )));
            }
        }
        let upfront = self.d.setup.local_upfront_shutdown.clone();
        let script = match (script, upfront) {
            (Some(s), Some(u)) if s != u => {
                return Err(RequestError::Invalid(
                    "destination differs from the upfront shutdown script we committed to".into(),
                ))
            }
            (Some(s), _) => s,
            (None, Some(u)) => u,
            (None, None) => self.d.closing.default_script.clone(),
        };
        if !is_valid_shutdown_script(&script, self.shutdown_rules()) {
            return Err(RequestError::Invalid(format!(
                "{} is not a script the peer accepts for shutdown",
                hex::encode(&script)
            )));
        }
        if self.d.closing.local_shutdown_sent
            && self.d.closing.local_script.as_ref() != Some(&script)
        {
            return Err(RequestError::Invalid(
                "shutdown already sent with another script".into(),
            ));
        }
        self.d.closing.local_script = Some(script);
        self.d.closing.step = step;
        self.d.closing.feerange = feerange;
        self.note_close(Some(Side::Local), CloseCause::User);
        let mut out = Out::persisting();
        self.send_shutdown(&mut out)
            .map_err(|e| RequestError::Invalid(e.message))?;
        Ok(out.finish())
    }

    fn send_shutdown(&mut self, out: &mut Out) -> Result<(), ChannelError> {
        if self.d.closing.local_shutdown_sent {
            return Ok(());
        }
        if self.d.state != ChannelState::ChanneldAwaitingLockin {
            self.set_state(ChannelState::ChanneldShuttingDown, out);
        }
        out.persist = true;
        // Commit anything queued first: no add of ours may follow our shutdown. The shutdown
        // goes out once none is left unsent (now, or after the revocation we wait for, or
        // on reestablish).
        self.maybe_commit(out)?;
        self.progress_close(out)
    }

    /// Sends our `shutdown` if we want to close, it was not sent yet, we are connected and
    /// every HTLC we offered and fee update we made went out: BOLT 2 forbids
    /// `update_add_htlc` after `shutdown`, and any update once the channel is clean.
    pub(crate) fn maybe_send_shutdown(&mut self, out: &mut Out) -> Result<(), ChannelError> {
        if self.d.closing.local_shutdown_sent || !self.live {
            return Ok(());
        }
        let Some(script) = self.d.closing.local_script.clone() else {
            return Ok(());
        };
        // Our fee updates go before it too: once the channel is clean the peer takes no
        // update after our shutdown.
        let u = &self.d.updates;
        if u.htlcs.values().any(|h| h.state == HtlcState::SentAddHtlc)
            || u.fee_updates
                .iter()
                .any(|f| f.state == HtlcState::SentAddHtlc)
        {
            return Ok(());
        }
        self.d.closing.local_shutdown_sent = true;
        out.persist = true;
        out.send(Shutdown {
            unknown_tlvs: Vec::new(),
            channel_id: self.channel_id(),
            scriptpubkey: script,
        });
        self.set_state(ChannelState::ChanneldShuttingDown, out);
        Ok(())
    }

    pub(crate) fn on_shutdown(&mut self, m: &Shutdown) -> Result<Vec<Action>, ChannelError> {
        if matches!(
            self.d.state,
            ChannelState::ClosingdSigexchange | ChannelState::ClosingdComplete
        ) && self.d.closing.remote_script.as_ref() == Some(&m.scriptpubkey)
        {
            // The peer retransmits its `shutdown` after a reconnection (BOLT 2 "Message
            // Retransmission"); the negotiation restarts with the `closing_signed` that
            // follows.
            return Ok(Vec::new());
        }
        if !matches!(
            self.d.state,
            ChannelState::ChanneldAwaitingLockin
                | ChannelState::ChanneldNormal
                | ChannelState::ChanneldShuttingDown
        ) {
            return Err(ChannelError::warn(format!(
                "shutdown while the channel is {}",
                self.d.state.as_str()
            )));
        }
        if !is_valid_shutdown_script(&m.scriptpubkey, self.shutdown_rules()) {
            return Err(ChannelError::warn(format!(
                "shutdown scriptpubkey {} is not an allowed form",
                hex::encode(&m.scriptpubkey)
            )));
        }
        if let Some(u) = &self.d.setup.remote_upfront_shutdown {
            if *u != m.scriptpubkey {
                return Err(ChannelError::warn(
                    "shutdown scriptpubkey differs from upfront_shutdown_script",
                ));
            }
        }
        if let Some(prev) = &self.d.closing.remote_script {
            if *prev != m.scriptpubkey {
                return Err(ChannelError::warn(
                    "second shutdown with a different scriptpubkey",
                ));
            }
        }
        let mut out = Out::persisting();
        self.note_close(Some(Side::Remote), CloseCause::Remote);
        self.d.closing.remote_script = Some(m.scriptpubkey.clone());
        if self.d.closing.local_script.is_none() {
            self.d.closing.local_script = Some(
                self.d
                    .setup
                    .local_upfront_shutdown
                    .clone()
                    .unwrap_or_else(|| self.d.closing.default_script.clone()),
            );
        }
        self.set_state(ChannelState::ChanneldShuttingDown, &mut out);
        self.send_shutdown(&mut out)?;
        self.progress_close(&mut out)?;
        Ok(out.finish())
    }

    fn closing_weight(&self) -> u64 {
        let (l, r) = self.scripts();
        closing_tx_weight(Script::from_bytes(&l), Script::from_bytes(&r))
    }

    fn scripts(&self) -> (Vec<u8>, Vec<u8>) {
        (
            self.d.closing.local_script.clone().unwrap_or_default(),
            self.d.closing.remote_script.clone().unwrap_or_default(),
        )
    }

    fn opener_balance_sat(&self) -> u64 {
        let v = self.d.updates.view(Side::Local, ViewKind::Current);
        match self.d.setup.opener {
            Side::Local => v.our_msat / 1000,
            Side::Remote => v.their_msat / 1000,
        }
    }

    /// The closing transaction paying `fee_sat`, with outputs below `dust_sat` left out.
    fn closing_tx(&self, fee_sat: u64, dust_sat: u64) -> Option<Transaction> {
        let v = self.d.updates.view(Side::Local, ViewKind::Current);
        let (mut ours, mut theirs) = (v.our_msat / 1000, v.their_msat / 1000);
        match self.d.setup.opener {
            Side::Local => ours = ours.checked_sub(fee_sat)?,
            Side::Remote => theirs = theirs.checked_sub(fee_sat)?,
        }
        let (l, r) = self.scripts();
        Some(build_closing_tx(
            self.d.setup.funding_outpoint,
            Script::from_bytes(&l),
            ours,
            Script::from_bytes(&r),
            theirs,
            dust_sat,
        ))
    }

    /// Our fee range in satoshis: (desired, min, max).
    fn our_fee_range(&self, their_max: Option<u64>) -> (u64, u64, u64) {
        let w = self.closing_weight();
        let f = |rate: u32| u64::from(rate) * w / 1000;
        let rates = match self.d.closing.feerange {
            Some((min, max)) => CloseFeerates {
                desired: self.close_feerates.desired.clamp(min, max),
                min,
                max,
            },
            None => self.close_feerates,
        };
        let cap = self.opener_balance_sat();
        let min = f(rates.min).min(cap);
        let mut max = f(rates.max).min(cap).max(min);
        if self.d.setup.opener == Side::Remote {
            max = max.max(their_max.unwrap_or(0)).min(cap);
        }
        (f(rates.desired).clamp(min, max), min, max)
    }

    fn sign_closing(&self, fee_sat: u64) -> Result<(Transaction, WireSignature), ChannelError> {
        let tx = self
            .closing_tx(fee_sat, self.d.setup.local.dust_limit_sat)
            .ok_or_else(|| {
                ChannelError::fail(format!(
                    "the opener cannot pay a closing fee of {fee_sat} sat"
                ))
            })?;
        let sig = self.signer.sign_funding_spend(
            &tx,
            &self.funding_script(),
            self.d.setup.funding_sat,
        )?;
        Ok((tx, WireSignature::from_ecdsa(&sig)))
    }

    fn send_closing_signed(
        &mut self,
        fee_sat: u64,
        range: Option<(u64, u64)>,
        out: &mut Out,
    ) -> Result<(), ChannelError> {
        let (_, sig) = self.sign_closing(fee_sat)?;
        self.d.closing.last_sent_fee = Some(fee_sat);
        out.send(ClosingSigned {
            unknown_tlvs: Vec::new(),
            channel_id: self.channel_id(),
            fee_satoshis: fee_sat,
            signature: sig,
            fee_range: range.map(|(min_fee_satoshis, max_fee_satoshis)| FeeRange {
                min_fee_satoshis,
                max_fee_satoshis,
            }),
        });
        Ok(())
    }

    /// Starts fee negotiation once both `shutdown`s are exchanged and no HTLC or update is
    /// left in either commitment.
    pub(crate) fn progress_close(&mut self, out: &mut Out) -> Result<(), ChannelError> {
        let c = &self.d.closing;
        let clean = self.d.updates.htlcs.is_empty()
            && self.d.updates.fee_updates.is_empty()
            && self.d.remote_commit.prev_point.is_none();
        // Also in CLOSINGD_SIGEXCHANGE: after a reconnection the negotiation starts again.
        if !(self.live
            && matches!(
                self.d.state,
                ChannelState::ChanneldShuttingDown | ChannelState::ClosingdSigexchange
            )
            && c.local_shutdown_sent
            && c.remote_script.is_some()
            && clean)
        {
            return Ok(());
        }
        self.set_state(ChannelState::ClosingdSigexchange, out);
        if self.d.setup.opener == Side::Local && self.d.closing.last_sent_fee.is_none() {
            let (desired, min, max) = self.our_fee_range(None);
            self.send_closing_signed(desired, Some((min, max)), out)?;
        }
        Ok(())
    }

    /// Finds the closing transaction variant the peer signed (BOLT 3: outputs below either
    /// side's dust limit may be left out, and the sender may leave out its own output).
    fn verify_closing(
        &self,
        fee_sat: u64,
        sig: &WireSignature,
    ) -> Result<Transaction, ChannelError> {
        let sig = sig
            .to_ecdsa()
            .map_err(|_| ChannelError::fail("closing_signed signature is not a valid signature"))?;
        let s = &self.d.setup;
        let (_, remote_script) = self.scripts();
        let mut variants: Vec<Transaction> = Vec::new();
        for dust in [s.local.dust_limit_sat, s.remote.dust_limit_sat] {
            if let Some(tx) = self.closing_tx(fee_sat, dust) {
                let mut without_theirs = tx.clone();
                without_theirs
                    .output
                    .retain(|o| o.script_pubkey.as_bytes() != remote_script.as_slice());
                variants.push(tx);
                if !without_theirs.output.is_empty() {
                    variants.push(without_theirs);
                }
            }
        }
        let script = self.funding_script();
        variants
            .into_iter()
            .find(|tx| {
                sign::verify_commitment_sig(
                    tx,
                    &script,
                    s.funding_sat,
                    &sig,
                    &s.remote_keys.funding_pubkey,
                )
                .is_ok()
            })
            .ok_or_else(|| {
                ChannelError::fail(format!("bad closing_signed signature for fee {fee_sat}"))
            })
    }

    fn complete_close(
        &mut self,
        mut tx: Transaction,
        their_sig: &WireSignature,
        out: &mut Out,
    ) -> Result<(), ChannelError> {
        let script = self.funding_script();
        let ours = self
            .signer
            .sign_funding_spend(&tx, &script, self.d.setup.funding_sat)?;
        let theirs = their_sig
            .to_ecdsa()
            .map_err(|_| ChannelError::fail("closing_signed signature is not a valid signature"))?;
        sign::finalize_commitment(
            &mut tx,
            &script,
            &self.signer.keys().funding_pubkey,
            &ours,
            &theirs,
        );
        self.d.closing.agreed_tx = Some(bitcoin::consensus::encode::serialize(&tx));
        self.set_state(ChannelState::ClosingdComplete, out);
        out.persist = true;
        self.live = false;
        out.push(Action::MutualCloseAgreed { tx: tx.clone() });
        out.push(Action::Broadcast {
            tx,
            what: "mutual close",
        });
        Ok(())
    }

    pub(crate) fn on_closing_signed(
        &mut self,
        m: &ClosingSigned,
    ) -> Result<Vec<Action>, ChannelError> {
        let mut out = Out::default();
        if self.d.state == ChannelState::ClosingdComplete {
            // Reconnected after we agreed: the peer may have missed our last
            // `closing_signed`; it gets the agreed one (once per connection).
            self.send_agreed_closing_signed(&mut out)?;
            return Ok(out.finish());
        }
        self.progress_close(&mut out)?;
        if self.d.state != ChannelState::ClosingdSigexchange {
            return Err(ChannelError::warn(format!(
                "closing_signed while the channel is {}",
                self.d.state.as_str()
            )));
        }
        let fee = m.fee_satoshis;
        let tx = self.verify_closing(fee, &m.signature)?;
        let we_open = self.d.setup.opener == Side::Local;
        if self.d.closing.last_sent_fee == Some(fee) {
            self.complete_close(tx, &m.signature, &mut out)?;
            return Ok(out.finish());
        }
        if let Some(range) = &m.fee_range {
            let (_, min, max) = self.our_fee_range(Some(range.max_fee_satoshis));
            let lo = min.max(range.min_fee_satoshis);
            let hi = max.min(range.max_fee_satoshis);
            if lo > hi {
                return Err(ChannelError::warn(format!(
                    "no overlap between our closing fee range {min}-{max} and the peer's {}-{}",
                    range.min_fee_satoshis, range.max_fee_satoshis
                )));
            }
            if we_open || self.d.closing.last_sent_fee.is_some() {
                if fee < lo || fee > hi {
                    return Err(ChannelError::fail(format!(
                        "closing fee {fee} is outside the agreed range {lo}-{hi}"
                    )));
                }
                self.send_closing_signed(fee, None, &mut out)?;
                self.complete_close(tx, &m.signature, &mut out)?;
                return Ok(out.finish());
            }
            // We are not the opener and this is the first proposal.
            if (lo..=hi).contains(&fee) {
                self.send_closing_signed(fee, Some((lo, hi)), &mut out)?;
                self.complete_close(tx, &m.signature, &mut out)?;
            } else {
                let ours = fee.clamp(lo, hi);
                self.d.closing.last_received_fee = Some(fee);
                self.send_closing_signed(ours, Some((lo, hi)), &mut out)?;
            }
            return Ok(out.finish());
        }
        // No fee_range: the old "strictly between" negotiation.
        let (desired, min, max) = self.our_fee_range(None);
        if let (Some(sent), Some(received)) = (
            self.d.closing.last_sent_fee,
            self.d.closing.last_received_fee,
        ) {
            let (a, b) = (sent.min(received), sent.max(received));
            if fee <= a || fee >= b {
                return Err(ChannelError::warn(format!(
                    "closing fee {fee} is not strictly between {a} and {b}"
                )));
            }
        }
        self.d.closing.last_received_fee = Some(fee);
        if (min..=max).contains(&fee) {
            self.send_closing_signed(fee, None, &mut out)?;
            self.complete_close(tx, &m.signature, &mut out)?;
            return Ok(out.finish());
        }
        let ours = self.d.closing.last_sent_fee.unwrap_or(desired);
        let next = match self.d.closing.step {
            FeeStep::Percent(p) => {
                let gap = i128::from(fee) - i128::from(ours);
                let moved = i128::from(ours) + gap * i128::from(p) / 100;
                u64::try_from(moved).unwrap_or(ours)
            }
            FeeStep::Sat(s) => {
                if fee > ours {
                    ours.saturating_add(s).min(fee)
                } else {
                    ours.saturating_sub(s).max(fee)
                }
            }
        };
        let next = if next == ours {
            if fee > ours {
                ours + 1
            } else {
                ours.saturating_sub(1)
            }
        } else {
            next
        };
        if next == fee {
            self.send_closing_signed(fee, None, &mut out)?;
            self.complete_close(tx, &m.signature, &mut out)?;
        } else {
            self.send_closing_signed(next, None, &mut out)?;
        }
        Ok(out.finish())
    }

    /// Our `closing_signed` for the agreed closing transaction, with a `fee_range` of just
    /// its fee, unless already sent on this connection.
    pub(crate) fn send_agreed_closing_signed(&mut self, out: &mut Out) -> Result<(), ChannelError> {
        if self.d.closing.last_sent_fee.is_some() {
            return Ok(());
        }
        let Some(tx) = self.closing_transaction() else {
            return Ok(());
        };
        let paid: u64 = tx.output.iter().map(|o| o.value.to_sat()).sum();
        let fee_sat = self.d.setup.funding_sat.saturating_sub(paid);
        // The witness is not part of the signed digest.
        let sig = self.signer.sign_funding_spend(
            &tx,
            &self.funding_script(),
            self.d.setup.funding_sat,
        )?;
        self.d.closing.last_sent_fee = Some(fee_sat);
        out.send(ClosingSigned {
            unknown_tlvs: Vec::new(),
            channel_id: self.channel_id(),
            fee_satoshis: fee_sat,
            signature: WireSignature::from_ecdsa(&sig),
            fee_range: Some(FeeRange {
                min_fee_satoshis: fee_sat,
                max_fee_satoshis: fee_sat,
            }),
        });
        Ok(())
    }

    /// The agreed closing transaction, once negotiated.
    pub fn closing_transaction(&self) -> Option<Transaction> {
        self.d
            .closing
            .agreed_tx
            .as_ref()
            .and_then(|b| bitcoin::consensus::encode::deserialize(b).ok())
    }

    /// Our script for the closing transaction, once decided.
    pub fn local_shutdown_script(&self) -> Option<ScriptBuf> {
        self.d
            .closing
            .local_script
            .clone()
            .map(ScriptBuf::from_bytes)
    }
}
