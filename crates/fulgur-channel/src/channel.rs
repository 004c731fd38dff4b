//! The channel after its funding is signed: the persisted data, the actions a step returns,
//! and the commitment building and signing shared by the BOLT 2 flows (BOLT 2 "Normal
//! Operation"; BOLT 3 "Commitment Transaction").

use std::sync::{Mutex, MutexGuard, PoisonError};

use bitcoin::{OutPoint, ScriptBuf, Transaction, TxOut};
use fulgur_bolt3::{
    build_commitment, build_htlc_txs, funding_script, htlc_sighash_type, sign, BuiltCommitment,
    ChannelType, CommitmentHtlc, CommitmentKeys, CommitmentParams, ShachainStore,
};
use fulgur_wire::{ChannelId, Message, Signature as WireSignature};
use secp256k1::ecdsa::Signature;
use secp256k1::PublicKey;
use serde::{Deserialize, Serialize};

use crate::close::Closing;
use crate::config::{channel_type_serde, LocalConfig, PartyParams};
use crate::error::ChannelError;
use crate::signer::{ChannelSigner, PartyKeys};
use crate::state::{ChannelState, Side};
use crate::updates::{Htlc, Removal, Updates, View, ViewKind};

/// What a channel step asks the node to do, in order. Everything after a [`Action::Persist`]
/// must wait until the channel's record is durably stored.
#[derive(Clone, Debug, PartialEq)]
#[allow(clippy::large_enum_variant, reason = "actions are few and short-lived")]
pub enum Action {
    /// Store [`Channel::record`] now; the actions after it depend on it.
    Persist,
    /// Send a message to the peer.
    Send(Message),
    /// Broadcast a transaction.
    Broadcast {
        /// The transaction.
        tx: Transaction,
        /// What it is, for the log (`"mutual close"`, `"unilateral close"`).
        what: &'static str,
    },
    /// The channel's state changed.
    StateChanged {
        /// The state before.
        from: ChannelState,
        /// The state now.
        to: ChannelState,
    },
    /// An HTLC the peer offered is irrevocably committed: forward it, settle it or fail it.
    IncomingHtlc(IncomingHtlc),
    /// The peer settled an HTLC we offered; the preimage can be used at once.
    OutgoingFulfilled {
        /// The HTLC's id.
        id: u64,
        /// The preimage.
        preimage: [u8; 32],
    },
    /// An HTLC we offered failed and is irrevocably gone from both commitments.
    OutgoingFailed {
        /// The HTLC's id.
        id: u64,
        /// How it failed.
        removal: Removal,
    },
    /// An HTLC left both commitments for good (for `listhtlcs` history).
    HtlcFinished(Htlc),
    /// The channel reached normal operation.
    Ready,
    /// The mutual close transaction was agreed (and is in a [`Action::Broadcast`]).
    MutualCloseAgreed {
        /// The closing transaction.
        tx: Transaction,
    },
}

/// An incoming HTLC ready to be handled.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IncomingHtlc {
    /// The HTLC's id.
    pub id: u64,
    /// Its amount.
    pub amount_msat: u64,
    /// Its payment hash.
    pub payment_hash: [u8; 32],
    /// Its expiry height.
    pub cltv_expiry: u32,
    /// The onion.
    pub onion: Vec<u8>,
    /// `blinded_path`'s `path_key`.
    pub path_key: Option<PublicKey>,
    /// Settling it would take the channel's dust exposure over the limit: fail it.
    pub dust_exposure_exceeded: bool,
}

/// What both sides agreed when the channel was funded; never changes afterwards.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelSetup {
    /// The channel id (from the funding outpoint).
    pub channel_id: [u8; 32],
    /// The peer.
    pub peer_id: PublicKey,
    /// Our database id of the channel (part of its key derivation).
    pub dbid: u64,
    /// Who opened (and funded) the channel.
    pub opener: Side,
    /// The funding output.
    pub funding_outpoint: OutPoint,
    /// The funding amount.
    pub funding_sat: u64,
    /// What the opener gave the other side at open.
    pub push_msat: u64,
    /// The commitment format.
    #[serde(with = "channel_type_serde")]
    pub channel_type: ChannelType,
    /// Whether the channel is to be announced.
    pub announce: bool,
    /// What we announced.
    pub local: PartyParams,
    /// What the peer announced.
    pub remote: PartyParams,
    /// The peer's keys.
    pub remote_keys: PartyKeys,
    /// Confirmations the funding needs before `channel_ready`.
    pub minimum_depth: u32,
    /// Our `upfront_shutdown_script`, if we committed to one.
    #[serde(with = "crate::serde_hex::option", default)]
    pub local_upfront_shutdown: Option<Vec<u8>>,
    /// The peer's `upfront_shutdown_script`, if it committed to one.
    #[serde(with = "crate::serde_hex::option", default)]
    pub remote_upfront_shutdown: Option<Vec<u8>>,
    /// Whether `option_shutdown_anysegwit` was negotiated.
    #[serde(default)]
    pub anysegwit: bool,
    /// Our funding key, to check on restore that the keys derived again are the same.
    #[serde(default)]
    pub local_funding_pubkey: Option<PublicKey>,
}

impl ChannelSetup {
    /// The dust limit of `holder`'s commitment (the one that side announced).
    pub fn dust_limit_sat(&self, holder: Side) -> u64 {
        match holder {
            Side::Local => self.local.dust_limit_sat,
            Side::Remote => self.remote.dust_limit_sat,
        }
    }
}

/// Our latest commitment: the peer's signatures of it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocalCommit {
    /// Its number (from 0).
    pub number: u64,
    /// The peer's signature (compact, hex).
    #[serde(with = "crate::serde_hex")]
    pub remote_sig: Vec<u8>,
    /// The peer's HTLC transaction signatures, in output order.
    #[serde(with = "crate::serde_hex::list")]
    pub remote_htlc_sigs: Vec<Vec<u8>>,
}

/// The peer's latest commitment and its per-commitment points.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemoteCommit {
    /// Its number (from 0).
    pub number: u64,
    /// Its per-commitment point.
    pub point: PublicKey,
    /// The point of the previous commitment while it is not revoked yet.
    pub prev_point: Option<PublicKey>,
    /// The point of the next commitment, once the peer told it.
    pub next_point: Option<PublicKey>,
    /// The txid of the latest commitment we signed (to recognise it on chain).
    pub txid: Option<bitcoin::Txid>,
}

/// The messages of our last `commitment_signed` batch, kept until it is revoked so that
/// they can be retransmitted exactly after a reconnection.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SentBatch {
    /// The number of the remote commitment it signed.
    pub commit_number: u64,
    /// The encoded updates and `commitment_signed`, in sending order.
    #[serde(with = "crate::serde_hex::list")]
    pub messages: Vec<Vec<u8>>,
    /// Its place in the order of our `commitment_signed`s and `revoke_and_ack`s.
    pub seq: u64,
}

/// Everything stored for a channel.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelData {
    /// What never changes.
    pub setup: ChannelSetup,
    /// The state.
    pub state: ChannelState,
    /// HTLCs, fee updates and balances.
    pub updates: Updates,
    /// Our latest commitment.
    pub local_commit: LocalCommit,
    /// The peer's latest commitment.
    pub remote_commit: RemoteCommit,
    /// The per-commitment secrets the peer revealed.
    #[serde(with = "shachain_serde")]
    pub remote_secrets: ShachainStore,
    /// Our last `commitment_signed` batch while it is unrevoked.
    pub last_sent_batch: Option<SentBatch>,
    /// The order number of our last `revoke_and_ack`.
    pub last_revoke_seq: u64,
    /// The last order number given out.
    pub seq: u64,
    /// Whether we sent `channel_ready`.
    pub channel_ready_sent: bool,
    /// Whether the peer sent `channel_ready`.
    pub channel_ready_received: bool,
    /// The funding's `short_channel_id`, once confirmed.
    pub short_channel_id: Option<u64>,
    /// The alias the peer gave in `channel_ready`.
    pub remote_alias: Option<u64>,
    /// The funding's latest depth.
    pub funding_depth: u32,
    /// Whether the funding output was checked against the agreed script and amount.
    pub funding_checked: bool,
    /// Shutdown and closing negotiation.
    pub closing: Closing,
    /// Who closed the channel, why, and the extremes of our balance over its life.
    #[serde(default)]
    pub history: History,
    /// Our relay policy (`setchannel`).
    #[serde(default)]
    pub policy: crate::policy::RelayPolicy,
}

/// What caused a channel to close, in CLN's words (`listclosedchannels.close_cause`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CloseCause {
    /// This node decided on its own (a timeout, a lost funding).
    Local,
    /// The operator asked (`close`, `multifundchannel`'s undo).
    User,
    /// The peer asked (`shutdown`) or failed the channel (`error`).
    Remote,
    /// A protocol violation by the peer made us fail it.
    Protocol,
    /// The funding output was spent without a close we knew of.
    Onchain,
}

impl CloseCause {
    /// CLN's name.
    pub fn as_str(self) -> &'static str {
        match self {
            CloseCause::Local => "local",
            CloseCause::User => "user",
            CloseCause::Remote => "remote",
            CloseCause::Protocol => "protocol",
            CloseCause::Onchain => "onchain",
        }
    }
}

/// A channel's history as `listclosedchannels` reports it. Records stored before it existed
/// load with the balances unknown (`None`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct History {
    /// The side that started the close (the first to act wins).
    pub closer: Option<Side>,
    /// Why the channel closed (the first cause wins).
    pub cause: Option<CloseCause>,
    /// The least our balance ever was.
    pub min_to_us_msat: Option<u64>,
    /// The most our balance ever was, counting HTLCs offered to us.
    pub max_to_us_msat: Option<u64>,
    /// The transaction that spent the funding output, once mined.
    #[serde(default)]
    pub spend_txid: Option<bitcoin::Txid>,
    /// Whether that spend is a mutual close (not a commitment transaction).
    #[serde(default)]
    pub mutual_close: bool,
    /// Whether the channel was abandoned before its funding transaction went out.
    #[serde(default)]
    pub funding_withheld: bool,
}

mod shachain_serde {
    use fulgur_bolt3::ShachainStore;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(s: &ShachainStore, ser: S) -> Result<S::Ok, S::Error> {
        ser.serialize_str(&hex::encode(s.to_bytes()))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<ShachainStore, D::Error> {
        let s = String::deserialize(d)?;
        let bytes = hex::decode(s).map_err(serde::de::Error::custom)?;
        ShachainStore::from_bytes(&bytes).map_err(|e| serde::de::Error::custom(format!("{e:?}")))
    }
}

/// Why a stored record could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum RestoreError {
    /// The record is not valid.
    #[error("invalid channel record: {0}")]
    Invalid(String),
    /// The record does not match the keys derived for it.
    #[error("channel record does not match its keys: {0}")]
    WrongKeys(String),
}

/// A funded channel.
#[derive(Debug)]
pub struct Channel {
    pub(crate) d: ChannelData,
    pub(crate) signer: ChannelSigner,
    pub(crate) cfg: LocalConfig,
    /// Connected and `channel_reestablish` exchanged.
    pub(crate) live: bool,
    /// Connected, our `channel_reestablish` sent, theirs not received yet.
    pub(crate) awaiting_reestablish: bool,
    /// The fee rates we accept from the peer: (lowest, highest).
    pub(crate) feerate_bounds: (u32, u32),
    /// The fee rates for a mutual close.
    pub(crate) close_feerates: crate::close::CloseFeerates,
    /// Commitment keys derived lately, by holder and per-commitment point (not stored: the
    /// same commitment is built again to resend or broadcast it).
    pub(crate) keys_cache: KeysCache,
    /// Our requests queue their updates without signing (see [`Channel::hold_commits`]).
    pub(crate) holding: bool,
}

/// How many derived [`CommitmentKeys`] a [`Channel`] remembers: the current and next
/// commitment of each side.
const KEYS_CACHE_SLOTS: usize = 4;

/// The last few [`CommitmentKeys`] derived, oldest replaced first.
#[derive(Debug, Default)]
pub(crate) struct KeysCache(Mutex<KeysSlots>);

/// [`KeysCache`]'s content: the slots, and the one to fill next.
#[derive(Debug, Default)]
struct KeysSlots {
    slots: [Option<(Side, CommitmentKeys)>; KEYS_CACHE_SLOTS],
    next: usize,
}

impl KeysCache {
    fn lock(&self) -> MutexGuard<'_, KeysSlots> {
        // The cache holds no invariant a panic could break.
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn get(&self, holder: Side, point: &PublicKey) -> Option<CommitmentKeys> {
        self.lock()
            .slots
            .iter()
            .flatten()
            .find(|(h, k)| *h == holder && k.per_commitment_point == *point)
            .map(|(_, k)| *k)
    }

    fn insert(&self, holder: Side, keys: CommitmentKeys) {
        let mut cache = self.lock();
        let next = cache.next;
        cache.slots[next] = Some((holder, keys));
        cache.next = (next + 1) % KEYS_CACHE_SLOTS;
    }
}

/// Collects a step's actions; a persist request is placed before everything else.
#[derive(Debug, Default)]
pub(crate) struct Out {
    pub persist: bool,
    pub actions: Vec<Action>,
}

impl Out {
    /// A step that changed stored state.
    pub fn persisting() -> Out {
        Out {
            persist: true,
            actions: Vec::new(),
        }
    }

    pub fn send(&mut self, m: impl Into<Message>) {
        self.actions.push(Action::Send(m.into()));
    }

    pub fn push(&mut self, a: Action) {
        self.actions.push(a);
    }

    pub fn finish(self) -> Vec<Action> {
        let mut v = Vec::with_capacity(self.actions.len() + 1);
        if self.persist {
            v.push(Action::Persist);
        }
        v.extend(self.actions);
        v
    }
}

/// A commitment built for signing or checking, with what its HTLC transactions need.
pub(crate) struct Built {
    pub commitment: BuiltCommitment,
    pub params: CommitmentParams,
    pub keys: CommitmentKeys,
}

impl Channel {
    pub(crate) fn new(d: ChannelData, signer: ChannelSigner, cfg: LocalConfig) -> Channel {
        Channel {
            d,
            signer,
            cfg,
            live: false,
            awaiting_reestablish: false,
            feerate_bounds: (253, u32::MAX),
            close_feerates: crate::close::CloseFeerates::default(),
            keys_cache: KeysCache::default(),
            holding: false,
        }
    }

    /// The channel's stored form (JSON). Stored values are append-only.
    pub fn record(&self) -> String {
        // Serialising plain data to a string cannot fail.
        serde_json::to_string(&self.d).unwrap_or_default()
    }

    /// Loads a stored channel. The peer counts as disconnected: updates it proposed that no
    /// `commitment_signed` covered are forgotten.
    pub fn restore(
        record: &str,
        signer: ChannelSigner,
        cfg: LocalConfig,
    ) -> Result<Channel, RestoreError> {
        let d: ChannelData =
            serde_json::from_str(record).map_err(|e| RestoreError::Invalid(e.to_string()))?;
        let expected_id = ChannelId::v1(
            &d.setup.funding_outpoint.txid,
            u16::try_from(d.setup.funding_outpoint.vout)
                .map_err(|_| RestoreError::Invalid("funding output index".into()))?,
        );
        if expected_id.0 != d.setup.channel_id {
            return Err(RestoreError::Invalid(
                "channel id does not match funding".into(),
            ));
        }
        // Keys derived from another hsm_secret or dbid would sign for nothing.
        if d.setup
            .local_funding_pubkey
            .is_some_and(|k| k != signer.keys().funding_pubkey)
        {
            return Err(RestoreError::WrongKeys("funding key".into()));
        }
        let mut ch = Channel::new(d, signer, cfg);
        ch.disconnected();
        Ok(ch)
    }

    /// The stored data (read-only).
    pub fn data(&self) -> &ChannelData {
        &self.d
    }

    /// The channel id.
    pub fn channel_id(&self) -> ChannelId {
        ChannelId(self.d.setup.channel_id)
    }

    /// The state.
    pub fn state(&self) -> ChannelState {
        self.d.state
    }

    /// The setup.
    pub fn setup(&self) -> &ChannelSetup {
        &self.d.setup
    }

    /// Our keys.
    pub fn local_keys(&self) -> &PartyKeys {
        self.signer.keys()
    }

    /// Whether the peer is connected and the channel reestablished.
    pub fn is_live(&self) -> bool {
        self.live
    }

    /// The HTLCs not finished yet.
    pub fn htlcs(&self) -> impl Iterator<Item = &Htlc> {
        self.d.updates.htlcs.values()
    }

    /// Our balance and the peer's in our latest commitment, before fees.
    pub fn balances_msat(&self) -> (u64, u64) {
        let v = self.d.updates.view(Side::Local, ViewKind::Current);
        (v.our_msat, v.their_msat)
    }

    /// The fee rate of our latest commitment.
    pub fn feerate_per_kw(&self) -> u32 {
        self.d
            .updates
            .view(Side::Local, ViewKind::Current)
            .feerate_per_kw
    }

    /// Sets the fee rates accepted from the peer in `update_fee` (from the node's estimates).
    pub fn set_feerate_bounds(&mut self, min: u32, max: u32) {
        self.feerate_bounds = (min, max.max(min));
    }

    /// Sets the fee rates for a mutual close (from the node's estimates).
    pub fn set_close_feerates(&mut self, rates: crate::close::CloseFeerates) {
        self.close_feerates = rates;
    }

    /// The 2-of-2 funding witness script.
    pub fn funding_script(&self) -> ScriptBuf {
        funding_script(
            &self.signer.keys().funding_pubkey,
            &self.d.setup.remote_keys.funding_pubkey,
        )
    }

    /// The funding output's script pubkey.
    pub fn funding_script_pubkey(&self) -> ScriptBuf {
        ScriptBuf::new_p2wsh(&self.funding_script().wscript_hash())
    }

    /// Records who closed the channel and why, unless already known.
    pub(crate) fn note_close(&mut self, closer: Option<Side>, cause: CloseCause) {
        let h = &mut self.d.history;
        if h.cause.is_none() {
            h.cause = Some(cause);
            h.closer = closer;
        }
    }

    /// Widens the recorded extremes of our balance to the current commitment.
    pub(crate) fn note_balance(&mut self) {
        let (to_us, _) = self.balances_msat();
        let incoming: u64 = self
            .d
            .updates
            .htlcs
            .values()
            .filter(|h| !h.state.is_offered_by_us())
            .map(|h| h.amount_msat)
            .sum();
        let h = &mut self.d.history;
        h.min_to_us_msat = Some(h.min_to_us_msat.map_or(to_us, |m| m.min(to_us)));
        let high = to_us.saturating_add(incoming);
        h.max_to_us_msat = Some(h.max_to_us_msat.map_or(high, |m| m.max(high)));
    }

    pub(crate) fn set_state(&mut self, to: ChannelState, out: &mut Out) {
        let from = self.d.state;
        if from != to {
            self.d.state = to;
            out.persist = true;
            out.push(Action::StateChanged { from, to });
        }
    }

    pub(crate) fn next_seq(&mut self) -> u64 {
        self.d.seq += 1;
        self.d.seq
    }

    /// Builds `holder`'s commitment number `number` with per-commitment point `point` from
    /// `view`.
    pub(crate) fn build(
        &self,
        holder: Side,
        number: u64,
        point: &PublicKey,
        view: &View<'_>,
    ) -> Result<Built, ChannelError> {
        let s = &self.d.setup;
        let ours = self.signer.keys().basepoints();
        let theirs = s.remote_keys.basepoints();
        let (holder_keys, counterparty_keys) = match holder {
            Side::Local => (&ours, &theirs),
            Side::Remote => (&theirs, &ours),
        };
        let keys = match self.keys_cache.get(holder, point) {
            Some(keys) => keys,
            None => {
                // Our secrets make the revocation key cheaper: our per-commitment secret for
                // our commitment, our revocation basepoint secret for theirs.
                let revocation_pubkey = match holder {
                    Side::Local => self.signer.local_revocation_pubkey(
                        number,
                        point,
                        &theirs.revocation_basepoint,
                    ),
                    Side::Remote => self.signer.remote_revocation_pubkey(point),
                };
                let keys = revocation_pubkey
                    .and_then(|revocation_pubkey| {
                        CommitmentKeys::derive_with_revocation_pubkey(
                            point,
                            revocation_pubkey,
                            holder_keys,
                            counterparty_keys,
                        )
                    })
                    .map_err(|e| {
                        ChannelError::fail(format!("cannot derive commitment keys: {e}"))
                    })?;
                self.keys_cache.insert(holder, keys);
                keys
            }
        };
        let (opener_payment, accepter_payment) = match s.opener {
            Side::Local => (ours.payment_basepoint, theirs.payment_basepoint),
            Side::Remote => (theirs.payment_basepoint, ours.payment_basepoint),
        };
        let params = CommitmentParams {
            funding_outpoint: s.funding_outpoint,
            funding_amount_sat: s.funding_sat,
            commitment_number: number,
            obscuring_factor: fulgur_bolt3::obscuring_factor(&opener_payment, &accepter_payment),
            // The delay on the holder's outputs is the one the other side asked for.
            to_self_delay: match holder {
                Side::Local => s.remote.to_self_delay,
                Side::Remote => s.local.to_self_delay,
            },
            dust_limit_sat: s.dust_limit_sat(holder),
            feerate_per_kw: view.feerate_per_kw,
            channel_type: s.channel_type,
            holder_is_opener: s.opener == holder,
        };
        let htlcs: Vec<CommitmentHtlc> = view
            .htlcs
            .iter()
            .enumerate()
            .map(|(i, h)| CommitmentHtlc {
                offered: h.state.is_offered_by_us() == (holder == Side::Local),
                amount_msat: h.amount_msat,
                cltv_expiry: h.cltv_expiry,
                payment_hash: h.payment_hash,
                htlc_id: i as u64,
            })
            .collect();
        let (to_holder, to_other) = match holder {
            Side::Local => (view.our_msat, view.their_msat),
            Side::Remote => (view.their_msat, view.our_msat),
        };
        let commitment = build_commitment(&params, &keys, to_holder, to_other, &htlcs)
            .map_err(|e| ChannelError::fail(format!("cannot build commitment {number}: {e}")))?;
        Ok(Built {
            commitment,
            params,
            keys,
        })
    }

    /// Signs the peer's commitment: our funding signature and our HTLC signatures.
    pub(crate) fn sign_remote(
        &self,
        built: &Built,
    ) -> Result<(Signature, Vec<Signature>), ChannelError> {
        let s = &self.d.setup;
        let sig = self.signer.sign_funding_spend(
            &built.commitment.tx,
            &self.funding_script(),
            s.funding_sat,
        )?;
        let sighash = htlc_sighash_type(s.channel_type);
        let txs = build_htlc_txs(&built.commitment, &built.params, &built.keys);
        let mut htlc_sigs = Vec::with_capacity(txs.len());
        for (out, tx) in built.commitment.htlc_outputs.iter().zip(&txs) {
            htlc_sigs.push(self.signer.sign_htlc(
                tx,
                &out.witness_script,
                out.amount_sat,
                &built.keys.per_commitment_point,
                sighash,
            )?);
        }
        Ok((sig, htlc_sigs))
    }

    /// Checks the peer's signatures of our commitment.
    pub(crate) fn check_local_sigs(
        &self,
        built: &Built,
        sig: &WireSignature,
        htlc_sigs: &[WireSignature],
    ) -> Result<(), ChannelError> {
        let s = &self.d.setup;
        let sig = sig
            .to_ecdsa()
            .map_err(|_| ChannelError::fail("commitment signature is not a valid signature"))?;
        sign::verify_commitment_sig(
            &built.commitment.tx,
            &self.funding_script(),
            s.funding_sat,
            &sig,
            &s.remote_keys.funding_pubkey,
        )
        .map_err(|_| {
            ChannelError::fail(format!(
                "bad commitment signature for commitment {} (txid {})",
                built.params.commitment_number,
                built.commitment.tx.compute_txid()
            ))
        })?;
        if htlc_sigs.len() != built.commitment.htlc_outputs.len() {
            return Err(ChannelError::fail(format!(
                "expected {} HTLC signatures, got {}",
                built.commitment.htlc_outputs.len(),
                htlc_sigs.len()
            )));
        }
        let sighash = htlc_sighash_type(s.channel_type);
        let txs = build_htlc_txs(&built.commitment, &built.params, &built.keys);
        for ((out, hsig), tx) in built
            .commitment
            .htlc_outputs
            .iter()
            .zip(htlc_sigs)
            .zip(&txs)
        {
            let hsig = hsig
                .to_ecdsa()
                .map_err(|_| ChannelError::fail("HTLC signature is not a valid signature"))?;
            sign::verify_htlc_sig(
                tx,
                &out.witness_script,
                out.amount_sat,
                &hsig,
                &built.keys.remote_htlcpubkey,
                sighash,
            )
            .map_err(|_| {
                ChannelError::fail(format!(
                    "bad HTLC signature for output {}",
                    out.output_index
                ))
            })?;
        }
        Ok(())
    }

    /// Our latest commitment transaction, fully signed, ready to broadcast.
    pub fn signed_local_commitment(&self) -> Result<Transaction, ChannelError> {
        let view = self.d.updates.view(Side::Local, ViewKind::Current);
        let number = self.d.local_commit.number;
        let point = self.signer.per_commitment_point(number);
        let built = self.build(Side::Local, number, &point, &view)?;
        let mut tx = built.commitment.tx;
        let remote_sig = WireSignature(
            self.d
                .local_commit
                .remote_sig
                .as_slice()
                .try_into()
                .map_err(|_| ChannelError::fail("stored signature has the wrong length"))?,
        )
        .to_ecdsa()
        .map_err(|_| ChannelError::fail("stored signature is invalid"))?;
        let script = self.funding_script();
        let ours = self
            .signer
            .sign_funding_spend(&tx, &script, self.d.setup.funding_sat)?;
        sign::finalize_commitment(
            &mut tx,
            &script,
            &self.signer.keys().funding_pubkey,
            &ours,
            &remote_sig,
        );
        Ok(tx)
    }

    /// Fails the channel: broadcasts our latest commitment (BOLT 5 "Failing a Channel").
    /// Resolving its outputs is the on-chain resolver's job.
    pub fn force_close(&mut self) -> Vec<Action> {
        let mut out = Out::default();
        if !self.d.state.is_active() {
            return out.finish();
        }
        self.note_close(Some(Side::Local), CloseCause::Local);
        self.live = false;
        self.set_state(ChannelState::AwaitingUnilateral, &mut out);
        if let Ok(tx) = self.signed_local_commitment() {
            out.push(Action::Broadcast {
                tx,
                what: "unilateral close",
            });
        }
        out.finish()
    }

    /// The funding output's expected form.
    pub fn expected_funding_output(&self) -> TxOut {
        TxOut {
            value: bitcoin::Amount::from_sat(self.d.setup.funding_sat),
            script_pubkey: self.funding_script_pubkey(),
        }
    }
}
