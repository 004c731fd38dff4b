//! Channel establishment v1 (BOLT 2 "Channel Establishment v1"): `open_channel`,
//! `accept_channel`, `funding_created` and `funding_signed`, for the opener and for the
//! accepter. Nothing here is stored: a channel exists once the first commitment signatures
//! are exchanged, and [`Channel`] takes over from there.

use bitcoin::{OutPoint, ScriptBuf};
use fulgur_bolt3::{
    fees, is_valid_shutdown_script, ChannelType, ShachainStore, ShutdownScriptRules,
};
use fulgur_keys::ChannelSecrets;
use fulgur_types::features::{self, Features};
use fulgur_wire::{
    AcceptChannel, ChainHash, ChannelId, FundingCreated, FundingSigned, OpenChannel,
    Signature as WireSignature,
};
use secp256k1::PublicKey;

use crate::channel::{
    Action, Channel, ChannelData, ChannelSetup, History, LocalCommit, Out, RemoteCommit,
};
use crate::close::Closing;
use crate::config::{
    channel_type_from_features, channel_type_to_features, LocalConfig, PartyParams,
    LARGE_CHANNEL_SAT,
};
use crate::error::ChannelError;
use crate::signer::{ChannelSigner, PartyKeys};
use crate::state::{ChannelState, Side};
use crate::updates::{Updates, ViewKind};

/// What the opener asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpenRequest {
    /// The channel's capacity.
    pub funding_sat: u64,
    /// Given to the peer at open.
    pub push_msat: u64,
    /// The first commitment's fee rate.
    pub feerate_per_kw: u32,
    /// Whether to announce the channel.
    pub announce: bool,
    /// The commitment format to propose.
    pub channel_type: ChannelType,
    /// A script we commit to closing to (`close_to`), if any.
    pub upfront_shutdown_script: Option<Vec<u8>>,
    /// Where our funds go on a mutual close when no other script is given.
    pub default_shutdown_script: Vec<u8>,
    /// The reserve we ask the peer to keep (`reserve`; default: our policy's percentage).
    pub reserve_sat: Option<u64>,
    /// Confirmations we wait for before `channel_ready`, if more than the peer asks
    /// (`mindepth`).
    pub minimum_depth: Option<u32>,
}

/// Who we are talking to and with which keys.
#[derive(Debug)]
pub struct OpenContext {
    /// The chain.
    pub chain_hash: ChainHash,
    /// The peer.
    pub peer_id: PublicKey,
    /// The database id reserved for the channel (its keys derive from it).
    pub dbid: u64,
    /// The channel's secrets (for `peer_id` and `dbid`).
    pub secrets: ChannelSecrets,
    /// Our policy.
    pub cfg: LocalConfig,
    /// The features both sides sent in `init`.
    pub our_features: Features,
    /// The peer's `init` features.
    pub their_features: Features,
}

fn both_support(ctx: &OpenContext, f: features::Feature) -> bool {
    ctx.our_features.supports(f) && ctx.their_features.supports(f)
}

fn shutdown_rules(ctx: &OpenContext) -> ShutdownScriptRules {
    ShutdownScriptRules {
        anysegwit: both_support(ctx, features::OPTION_SHUTDOWN_ANYSEGWIT),
        ..ShutdownScriptRules::default()
    }
}

fn party_keys_of_open(m: &OpenChannel) -> PartyKeys {
    PartyKeys {
        funding_pubkey: m.funding_pubkey,
        revocation_basepoint: m.revocation_basepoint,
        payment_basepoint: m.payment_basepoint,
        delayed_payment_basepoint: m.delayed_payment_basepoint,
        htlc_basepoint: m.htlc_basepoint,
    }
}

fn party_keys_of_accept(m: &AcceptChannel) -> PartyKeys {
    PartyKeys {
        funding_pubkey: m.funding_pubkey,
        revocation_basepoint: m.revocation_basepoint,
        payment_basepoint: m.payment_basepoint,
        delayed_payment_basepoint: m.delayed_payment_basepoint,
        htlc_basepoint: m.htlc_basepoint,
    }
}

/// A non-empty upfront shutdown script, checked.
fn upfront_script(
    script: &Option<Vec<u8>>,
    rules: ShutdownScriptRules,
) -> Result<Option<Vec<u8>>, ChannelError> {
    match script {
        Some(s) if !s.is_empty() => {
            if is_valid_shutdown_script(s, rules) {
                Ok(Some(s.clone()))
            } else {
                Err(ChannelError::fail(format!(
                    "upfront_shutdown_script {} is not a valid shutdown script",
                    hex::encode(s)
                )))
            }
        }
        _ => Ok(None),
    }
}

/// Checks that the opener can pay the first commitment's fee and anchors, and that one side
/// has more than its reserve (BOLT 2 `open_channel` receiver requirements).
fn check_initial_balances(
    funding_sat: u64,
    push_msat: u64,
    feerate_per_kw: u32,
    channel_type: ChannelType,
    opener_reserve_sat: u64,
    accepter_reserve_sat: u64,
) -> Result<(), ChannelError> {
    if funding_sat > MAX_FUNDING_SAT {
        return Err(ChannelError::fail(format!(
            "funding_satoshis {funding_sat} is more than all bitcoin"
        )));
    }
    let opener_msat = funding_sat.saturating_mul(1000).saturating_sub(push_msat);
    let anchors = fees::anchors_sat(channel_type);
    let cost_sat = fees::commitment_fee_sat(feerate_per_kw, 0, channel_type) + anchors;
    if opener_msat / 1000 < cost_sat {
        return Err(ChannelError::fail(format!(
            "opener's {opener_msat}msat cannot pay the first commitment's {cost_sat}sat fee and anchors"
        )));
    }
    let to_opener = opener_msat / 1000 - cost_sat;
    if to_opener <= opener_reserve_sat && push_msat / 1000 <= accepter_reserve_sat {
        return Err(ChannelError::fail(
            "neither side's first balance is above its channel reserve".to_string(),
        ));
    }
    Ok(())
}

/// The most a channel can hold: every bitcoin there will ever be (21 million BTC). Bounds
/// the msat arithmetic on a peer's `funding_satoshis`.
pub const MAX_FUNDING_SAT: u64 = 21_000_000 * 100_000_000;

/// The parts of a channel both open flows finish with.
struct Finished {
    peer_id: PublicKey,
    dbid: u64,
    opener: Side,
    funding_outpoint: OutPoint,
    funding_sat: u64,
    push_msat: u64,
    feerate_per_kw: u32,
    channel_type: ChannelType,
    announce: bool,
    local: PartyParams,
    remote: PartyParams,
    remote_keys: PartyKeys,
    remote_first_point: PublicKey,
    minimum_depth: u32,
    local_upfront: Option<Vec<u8>>,
    remote_upfront: Option<Vec<u8>>,
    anysegwit: bool,
    default_shutdown_script: Vec<u8>,
}

impl Finished {
    /// Builds the channel, checks the peer's signature of our first commitment and signs
    /// theirs.
    fn into_channel(
        self,
        signer: ChannelSigner,
        cfg: LocalConfig,
        their_sig: Option<&WireSignature>,
    ) -> Result<(Channel, WireSignature), ChannelError> {
        let vout = u16::try_from(self.funding_outpoint.vout)
            .map_err(|_| ChannelError::fail("funding output index above 65535"))?;
        let channel_id = ChannelId::v1(&self.funding_outpoint.txid, vout);
        let (ours, theirs) = match self.opener {
            Side::Local => (self.funding_sat * 1000 - self.push_msat, self.push_msat),
            Side::Remote => (self.push_msat, self.funding_sat * 1000 - self.push_msat),
        };
        let data = ChannelData {
            setup: ChannelSetup {
                channel_id: channel_id.0,
                peer_id: self.peer_id,
                dbid: self.dbid,
                opener: self.opener,
                funding_outpoint: self.funding_outpoint,
                funding_sat: self.funding_sat,
                push_msat: self.push_msat,
                channel_type: self.channel_type,
                announce: self.announce,
                local: self.local,
                remote: self.remote,
                remote_keys: self.remote_keys,
                minimum_depth: self.minimum_depth,
                local_upfront_shutdown: self.local_upfront,
                remote_upfront_shutdown: self.remote_upfront,
                anysegwit: self.anysegwit,
                local_funding_pubkey: Some(signer.keys().funding_pubkey),
            },
            state: ChannelState::ChanneldAwaitingLockin,
            updates: Updates::new(ours, theirs, self.feerate_per_kw),
            local_commit: LocalCommit {
                number: 0,
                remote_sig: Vec::new(),
                remote_htlc_sigs: Vec::new(),
            },
            remote_commit: RemoteCommit {
                number: 0,
                point: self.remote_first_point,
                prev_point: None,
                next_point: None,
                txid: None,
            },
            remote_secrets: ShachainStore::new(),
            last_sent_batch: None,
            last_revoke_seq: 0,
            seq: 0,
            channel_ready_sent: false,
            channel_ready_received: false,
            short_channel_id: None,
            remote_alias: None,
            funding_depth: 0,
            funding_checked: false,
            closing: Closing::new(self.default_shutdown_script),
            history: History::default(),
            policy: Default::default(),
        };
        let mut ch = Channel::new(data, signer, cfg);
        ch.note_balance();
        let remote_view = ch.d.updates.view(Side::Remote, ViewKind::Current);
        let remote = ch.build(Side::Remote, 0, &ch.d.remote_commit.point, &remote_view)?;
        let (our_sig, _) = ch.sign_remote(&remote)?;
        ch.d.remote_commit.txid = Some(remote.commitment.tx.compute_txid());
        if let Some(their_sig) = their_sig {
            let local_view = ch.d.updates.view(Side::Local, ViewKind::Current);
            let point = ch.signer.per_commitment_point(0);
            let local = ch.build(Side::Local, 0, &point, &local_view)?;
            ch.check_local_sigs(&local, their_sig, &[])?;
            ch.d.local_commit.remote_sig = their_sig.0.to_vec();
        }
        Ok((ch, WireSignature::from_ecdsa(&our_sig)))
    }
}

/// An open we started, until `funding_signed`.
#[derive(Debug)]
pub struct OutboundOpen {
    ctx: OpenContext,
    signer: ChannelSigner,
    req: OpenRequest,
    temporary_channel_id: ChannelId,
    local: PartyParams,
    accepted: Option<AcceptChannel>,
    funding: Option<(OutPoint, FundingCreated)>,
}

impl OutboundOpen {
    /// Starts an open: the `open_channel` to send. `temporary_channel_id` must be random.
    pub fn new(
        ctx: OpenContext,
        req: OpenRequest,
        temporary_channel_id: [u8; 32],
    ) -> Result<(OutboundOpen, OpenChannel), ChannelError> {
        if req.push_msat > req.funding_sat.saturating_mul(1000) {
            return Err(ChannelError::fail("push_msat is more than the channel"));
        }
        if req.funding_sat >= LARGE_CHANNEL_SAT
            && !ctx
                .their_features
                .supports(features::OPTION_SUPPORT_LARGE_CHANNEL)
        {
            return Err(ChannelError::fail(format!(
                "peer does not support large channels; the limit is {} sat",
                LARGE_CHANNEL_SAT - 1
            )));
        }
        let signer = ChannelSigner::new(ctx.secrets.clone());
        let mut local = ctx.cfg.party_params(req.funding_sat);
        if let Some(reserve) = req.reserve_sat {
            // BOLT 2: the reserve we ask for is at least our own dust limit.
            if reserve < local.dust_limit_sat || reserve >= req.funding_sat {
                return Err(ChannelError::fail(format!(
                    "reserve {reserve} sat must be at least the dust limit {} sat and below the channel's {} sat",
                    local.dust_limit_sat, req.funding_sat
                )));
            }
            local.channel_reserve_sat = reserve;
        }
        check_initial_balances(
            req.funding_sat,
            req.push_msat,
            req.feerate_per_kw,
            req.channel_type,
            0,
            0,
        )?;
        let keys = *signer.keys();
        let msg = OpenChannel {
            unknown_tlvs: Vec::new(),
            chain_hash: ctx.chain_hash,
            temporary_channel_id: ChannelId(temporary_channel_id),
            funding_satoshis: req.funding_sat,
            push_msat: req.push_msat,
            dust_limit_satoshis: local.dust_limit_sat,
            max_htlc_value_in_flight_msat: local.max_htlc_value_in_flight_msat,
            channel_reserve_satoshis: local.channel_reserve_sat,
            htlc_minimum_msat: local.htlc_minimum_msat,
            feerate_per_kw: req.feerate_per_kw,
            to_self_delay: local.to_self_delay,
            max_accepted_htlcs: local.max_accepted_htlcs,
            funding_pubkey: keys.funding_pubkey,
            revocation_basepoint: keys.revocation_basepoint,
            payment_basepoint: keys.payment_basepoint,
            delayed_payment_basepoint: keys.delayed_payment_basepoint,
            htlc_basepoint: keys.htlc_basepoint,
            first_per_commitment_point: signer.per_commitment_point(0),
            channel_flags: u8::from(req.announce),
            upfront_shutdown_script: Some(req.upfront_shutdown_script.clone().unwrap_or_default()),
            channel_type: Some(channel_type_to_features(req.channel_type)),
        };
        Ok((
            OutboundOpen {
                ctx,
                signer,
                req,
                temporary_channel_id: ChannelId(temporary_channel_id),
                local,
                accepted: None,
                funding: None,
            },
            msg,
        ))
    }

    /// The temporary channel id.
    pub fn temporary_channel_id(&self) -> ChannelId {
        self.temporary_channel_id
    }

    /// The open request.
    pub fn request(&self) -> &OpenRequest {
        &self.req
    }

    /// The peer.
    pub fn peer_id(&self) -> PublicKey {
        self.ctx.peer_id
    }

    /// The confirmations the channel waits for, once the peer accepted: the peer's
    /// `minimum_depth`, or our `mindepth` if more.
    pub fn minimum_depth(&self) -> Option<u32> {
        self.accepted
            .as_ref()
            .map(|a| a.minimum_depth.max(self.req.minimum_depth.unwrap_or(0)))
    }

    /// Handles `accept_channel`; returns the script the funding output must pay.
    pub fn on_accept_channel(&mut self, m: &AcceptChannel) -> Result<ScriptBuf, ChannelError> {
        if self.accepted.is_some() {
            return Err(ChannelError::warn("second accept_channel"));
        }
        if m.temporary_channel_id != self.temporary_channel_id {
            return Err(ChannelError::warn(
                "accept_channel for another temporary_channel_id",
            ));
        }
        let Some(t) = m.channel_type.as_ref() else {
            return Err(ChannelError::fail("accept_channel without channel_type"));
        };
        if channel_type_from_features(t) != Some(self.req.channel_type) {
            return Err(ChannelError::fail(
                "accept_channel's channel_type differs from ours",
            ));
        }
        if m.minimum_depth > self.ctx.cfg.max_minimum_depth {
            return Err(ChannelError::fail(format!(
                "minimum_depth {} is more than our limit {}",
                m.minimum_depth, self.ctx.cfg.max_minimum_depth
            )));
        }
        let theirs = PartyParams {
            dust_limit_sat: m.dust_limit_satoshis,
            max_htlc_value_in_flight_msat: m.max_htlc_value_in_flight_msat,
            channel_reserve_sat: m.channel_reserve_satoshis,
            htlc_minimum_msat: m.htlc_minimum_msat,
            to_self_delay: m.to_self_delay,
            max_accepted_htlcs: m.max_accepted_htlcs,
        };
        self.ctx
            .cfg
            .check_remote_params(&theirs, &self.local, self.req.funding_sat)?;
        upfront_script(&m.upfront_shutdown_script, shutdown_rules(&self.ctx))?;
        self.accepted = Some(m.clone());
        Ok(fulgur_bolt3::funding_script_pubkey(
            &self.signer.keys().funding_pubkey,
            &m.funding_pubkey,
        ))
    }

    /// The funding transaction is built: signs the peer's first commitment and returns
    /// `funding_created`. The funding transaction must not be broadcast yet.
    pub fn funding_created(&mut self, outpoint: OutPoint) -> Result<FundingCreated, ChannelError> {
        if outpoint.txid == bitcoin::Txid::from_raw_hash(bitcoin::hashes::Hash::all_zeros()) {
            return Err(ChannelError::fail("all-zero funding txid"));
        }
        let (_, our_sig) = self.finished(outpoint)?.into_channel(
            ChannelSigner::new(self.ctx.secrets.clone()),
            self.ctx.cfg.clone(),
            None,
        )?;
        let msg = FundingCreated {
            unknown_tlvs: Vec::new(),
            temporary_channel_id: self.temporary_channel_id,
            funding_txid: outpoint.txid,
            funding_output_index: u16::try_from(outpoint.vout)
                .map_err(|_| ChannelError::fail("funding output index above 65535"))?,
            signature: our_sig,
        };
        self.funding = Some((outpoint, msg.clone()));
        Ok(msg)
    }

    fn finished(&self, funding_outpoint: OutPoint) -> Result<Finished, ChannelError> {
        let Some(a) = self.accepted.as_ref() else {
            return Err(ChannelError::warn(
                "the peer has not accepted the channel yet",
            ));
        };
        Ok(Finished {
            peer_id: self.ctx.peer_id,
            dbid: self.ctx.dbid,
            opener: Side::Local,
            funding_outpoint,
            funding_sat: self.req.funding_sat,
            push_msat: self.req.push_msat,
            feerate_per_kw: self.req.feerate_per_kw,
            channel_type: self.req.channel_type,
            announce: self.req.announce,
            local: self.local.clone(),
            remote: PartyParams {
                dust_limit_sat: a.dust_limit_satoshis,
                max_htlc_value_in_flight_msat: a.max_htlc_value_in_flight_msat,
                channel_reserve_sat: a.channel_reserve_satoshis,
                htlc_minimum_msat: a.htlc_minimum_msat,
                to_self_delay: a.to_self_delay,
                max_accepted_htlcs: a.max_accepted_htlcs,
            },
            remote_keys: party_keys_of_accept(a),
            remote_first_point: a.first_per_commitment_point,
            minimum_depth: a.minimum_depth.max(self.req.minimum_depth.unwrap_or(0)),
            local_upfront: self
                .req
                .upfront_shutdown_script
                .clone()
                .filter(|s| !s.is_empty()),
            remote_upfront: a.upfront_shutdown_script.clone().filter(|s| !s.is_empty()),
            anysegwit: both_support(&self.ctx, features::OPTION_SHUTDOWN_ANYSEGWIT),
            default_shutdown_script: self.req.default_shutdown_script.clone(),
        })
    }

    /// Handles `funding_signed`: checks the peer's signature of our first commitment. The
    /// returned actions start with [`Action::Persist`]; broadcast the funding transaction
    /// only after it.
    pub fn on_funding_signed(
        &self,
        m: &FundingSigned,
    ) -> Result<(Channel, Vec<Action>), ChannelError> {
        let Some((outpoint, _)) = self.funding else {
            return Err(ChannelError::warn("funding_signed before funding_created"));
        };
        let expected = ChannelId::v1(&outpoint.txid, u16::try_from(outpoint.vout).unwrap_or(0));
        if m.channel_id != expected {
            return Err(ChannelError::warn("funding_signed for another channel_id"));
        }
        let (ch, _) = self.finished(outpoint)?.into_channel(
            ChannelSigner::new(self.ctx.secrets.clone()),
            self.ctx.cfg.clone(),
            Some(&m.signature),
        )?;
        let out = Out::persisting();
        Ok((ch, out.finish()))
    }
}

/// An open the peer started, until `funding_created`.
#[derive(Debug)]
pub struct InboundOpen {
    ctx: OpenContext,
    open: OpenChannel,
    local: PartyParams,
    channel_type: ChannelType,
    default_shutdown_script: Vec<u8>,
    local_upfront: Option<Vec<u8>>,
}

impl InboundOpen {
    /// Checks `open_channel` and returns the `accept_channel` to send.
    /// `feerate_bounds` are the commitment fee rates we accept.
    pub fn new(
        ctx: OpenContext,
        m: &OpenChannel,
        feerate_bounds: (u32, u32),
        default_shutdown_script: Vec<u8>,
        upfront_shutdown_script: Option<Vec<u8>>,
    ) -> Result<(InboundOpen, AcceptChannel), ChannelError> {
        if m.chain_hash != ctx.chain_hash {
            return Err(ChannelError::fail("open_channel for another chain"));
        }
        let Some(t) = m.channel_type.as_ref() else {
            return Err(ChannelError::fail("open_channel without channel_type"));
        };
        let Some(channel_type) = channel_type_from_features(t) else {
            return Err(ChannelError::fail(format!(
                "channel_type {} is not supported",
                hex::encode(t.to_wire_bytes())
            )));
        };
        if channel_type.has_anchors()
            && !both_support(&ctx, features::OPTION_ANCHORS_ZERO_FEE_HTLC_TX)
        {
            return Err(ChannelError::fail(
                "anchors channel_type was not negotiated",
            ));
        }
        if m.funding_satoshis < ctx.cfg.min_funding_sat {
            return Err(ChannelError::fail(format!(
                "funding_satoshis {} is below our minimum {}",
                m.funding_satoshis, ctx.cfg.min_funding_sat
            )));
        }
        if m.push_msat > m.funding_satoshis.saturating_mul(1000) {
            return Err(ChannelError::fail(
                "push_msat is more than funding_satoshis",
            ));
        }
        let (lo, hi) = feerate_bounds;
        if m.feerate_per_kw < lo || m.feerate_per_kw > hi {
            return Err(ChannelError::fail(format!(
                "feerate_per_kw {} is outside {lo}-{hi}",
                m.feerate_per_kw
            )));
        }
        let theirs = PartyParams {
            dust_limit_sat: m.dust_limit_satoshis,
            max_htlc_value_in_flight_msat: m.max_htlc_value_in_flight_msat,
            channel_reserve_sat: m.channel_reserve_satoshis,
            htlc_minimum_msat: m.htlc_minimum_msat,
            to_self_delay: m.to_self_delay,
            max_accepted_htlcs: m.max_accepted_htlcs,
        };
        let mut local = ctx.cfg.party_params(m.funding_satoshis);
        // Our reserve must be at least their dust limit.
        local.channel_reserve_sat = local.channel_reserve_sat.max(theirs.dust_limit_sat);
        ctx.cfg
            .check_remote_params(&theirs, &local, m.funding_satoshis)?;
        check_initial_balances(
            m.funding_satoshis,
            m.push_msat,
            m.feerate_per_kw,
            channel_type,
            local.channel_reserve_sat,
            theirs.channel_reserve_sat,
        )?;
        upfront_script(&m.upfront_shutdown_script, shutdown_rules(&ctx))?;
        let signer = ChannelSigner::new(ctx.secrets.clone());
        let keys = *signer.keys();
        let accept = AcceptChannel {
            unknown_tlvs: Vec::new(),
            temporary_channel_id: m.temporary_channel_id,
            dust_limit_satoshis: local.dust_limit_sat,
            max_htlc_value_in_flight_msat: local.max_htlc_value_in_flight_msat,
            channel_reserve_satoshis: local.channel_reserve_sat,
            htlc_minimum_msat: local.htlc_minimum_msat,
            minimum_depth: ctx.cfg.minimum_depth,
            to_self_delay: local.to_self_delay,
            max_accepted_htlcs: local.max_accepted_htlcs,
            funding_pubkey: keys.funding_pubkey,
            revocation_basepoint: keys.revocation_basepoint,
            payment_basepoint: keys.payment_basepoint,
            delayed_payment_basepoint: keys.delayed_payment_basepoint,
            htlc_basepoint: keys.htlc_basepoint,
            first_per_commitment_point: signer.per_commitment_point(0),
            upfront_shutdown_script: Some(upfront_shutdown_script.clone().unwrap_or_default()),
            channel_type: Some(channel_type_to_features(channel_type)),
        };
        Ok((
            InboundOpen {
                ctx,
                open: m.clone(),
                local,
                channel_type,
                default_shutdown_script,
                local_upfront: upfront_shutdown_script.filter(|s| !s.is_empty()),
            },
            accept,
        ))
    }

    /// The temporary channel id.
    pub fn temporary_channel_id(&self) -> ChannelId {
        self.open.temporary_channel_id
    }

    /// The peer.
    pub fn peer_id(&self) -> PublicKey {
        self.ctx.peer_id
    }

    /// The `open_channel` being answered.
    pub fn open_channel(&self) -> &OpenChannel {
        &self.open
    }

    /// Handles `funding_created`: checks the peer's signature of our first commitment and
    /// signs theirs. The actions are [`Action::Persist`] then `funding_signed`.
    pub fn on_funding_created(
        self,
        m: &FundingCreated,
    ) -> Result<(Channel, Vec<Action>), ChannelError> {
        if m.temporary_channel_id != self.open.temporary_channel_id {
            return Err(ChannelError::warn(
                "funding_created for another temporary_channel_id",
            ));
        }
        if m.funding_txid == bitcoin::Txid::from_raw_hash(bitcoin::hashes::Hash::all_zeros()) {
            return Err(ChannelError::fail("all-zero funding txid"));
        }
        let o = &self.open;
        let finished = Finished {
            peer_id: self.ctx.peer_id,
            dbid: self.ctx.dbid,
            opener: Side::Remote,
            funding_outpoint: OutPoint {
                txid: m.funding_txid,
                vout: u32::from(m.funding_output_index),
            },
            funding_sat: o.funding_satoshis,
            push_msat: o.push_msat,
            feerate_per_kw: o.feerate_per_kw,
            channel_type: self.channel_type,
            announce: o.channel_flags & 1 == 1,
            local: self.local.clone(),
            remote: PartyParams {
                dust_limit_sat: o.dust_limit_satoshis,
                max_htlc_value_in_flight_msat: o.max_htlc_value_in_flight_msat,
                channel_reserve_sat: o.channel_reserve_satoshis,
                htlc_minimum_msat: o.htlc_minimum_msat,
                to_self_delay: o.to_self_delay,
                max_accepted_htlcs: o.max_accepted_htlcs,
            },
            remote_keys: party_keys_of_open(o),
            remote_first_point: o.first_per_commitment_point,
            minimum_depth: self.ctx.cfg.minimum_depth,
            local_upfront: self.local_upfront.clone(),
            remote_upfront: o.upfront_shutdown_script.clone().filter(|s| !s.is_empty()),
            anysegwit: both_support(&self.ctx, features::OPTION_SHUTDOWN_ANYSEGWIT),
            default_shutdown_script: self.default_shutdown_script.clone(),
        };
        let signer = ChannelSigner::new(self.ctx.secrets.clone());
        let (ch, our_sig) =
            finished.into_channel(signer, self.ctx.cfg.clone(), Some(&m.signature))?;
        let mut out = Out::persisting();
        out.send(FundingSigned {
            unknown_tlvs: Vec::new(),
            channel_id: ch.channel_id(),
            signature: our_sig,
        });
        Ok((ch, out.finish()))
    }
}
