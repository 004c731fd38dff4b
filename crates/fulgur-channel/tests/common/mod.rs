//! A deterministic two-node harness over the channel machine: messages are queued per
//! direction and delivered on demand, `Persist` stores the record, restarts reload it.

#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test harness"
)]

use bitcoin::absolute::LockTime;
use bitcoin::transaction::Version;
use bitcoin::{Amount, OutPoint, Transaction, TxIn, TxOut};
use fulgur_channel::{
    Action, Channel, ChannelSigner, ChannelState, ChannelType, InboundOpen, LocalConfig,
    OpenContext, OpenRequest, OutboundOpen,
};
use fulgur_keys::ChannelSecrets;
use fulgur_types::features::{self, Features};
use fulgur_wire::{ChainHash, Message};
use secp256k1::{PublicKey, SecretKey};

pub const ONION: usize = fulgur_wire::ONION_PACKET_LEN;

pub fn node_id(i: u8) -> PublicKey {
    PublicKey::from_secret_key_global(&SecretKey::from_slice(&[i; 32]).unwrap())
}

pub fn features() -> Features {
    let mut f = Features::assumed();
    f.set_optional(features::OPTION_ANCHORS_ZERO_FEE_HTLC_TX);
    f.set_optional(features::OPTION_SHUTDOWN_ANYSEGWIT);
    f.set_optional(features::OPTION_SUPPORT_LARGE_CHANNEL);
    f
}

/// A P2WPKH script for node `i`'s wallet.
pub fn wallet_script(i: u8) -> Vec<u8> {
    let mut s = vec![0x00, 0x14];
    s.extend_from_slice(&[i; 20]);
    s
}

pub fn cfg() -> LocalConfig {
    LocalConfig {
        minimum_depth: 3,
        to_self_delay: 144,
        ..LocalConfig::default()
    }
}

/// One side: its channel, its stored record and what it reported.
pub struct Node {
    pub name: &'static str,
    pub seed: [u8; 32],
    pub cfg: LocalConfig,
    pub ch: Option<Channel>,
    pub stored: Option<String>,
    /// Messages sent to the other side, not yet delivered.
    pub outbox: Vec<Message>,
    /// Non-message actions, in order.
    pub events: Vec<Action>,
    pub broadcasts: Vec<Transaction>,
    /// Whether `Persist` serialises the record (off in benchmarks of the machine alone).
    pub persist_records: bool,
}

impl Node {
    pub fn new(name: &'static str, seed_byte: u8) -> Node {
        Node {
            name,
            seed: [seed_byte; 32],
            cfg: cfg(),
            ch: None,
            stored: None,
            outbox: Vec::new(),
            events: Vec::new(),
            broadcasts: Vec::new(),
            persist_records: true,
        }
    }

    pub fn secrets(&self) -> ChannelSecrets {
        ChannelSecrets::from_seed(&self.seed).unwrap()
    }

    pub fn ch(&self) -> &Channel {
        self.ch.as_ref().expect("channel")
    }

    pub fn chm(&mut self) -> &mut Channel {
        self.ch.as_mut().expect("channel")
    }

    /// Carries out actions: `Persist` stores the record before anything after it.
    pub fn apply(&mut self, actions: Vec<Action>) {
        for a in actions {
            match a {
                Action::Persist => {
                    if self.persist_records || self.stored.is_none() {
                        self.stored = Some(self.ch().record());
                    }
                }
                Action::Send(m) => self.outbox.push(m),
                Action::Broadcast { tx, .. } => {
                    assert!(
                        self.stored.is_some(),
                        "{}: broadcast before anything was stored",
                        self.name
                    );
                    self.broadcasts.push(tx.clone());
                    self.events.push(Action::Broadcast { tx, what: "" });
                }
                other => self.events.push(other),
            }
        }
    }

    /// Simulates a crash and restart: the channel is reloaded from the stored record.
    pub fn restart(&mut self) {
        let record = self.stored.clone().expect("stored");
        let ch = Channel::restore(
            &record,
            ChannelSigner::new(self.secrets()),
            self.cfg.clone(),
        )
        .expect("restore");
        self.ch = Some(ch);
        self.outbox.clear();
    }

    pub fn take_events(&mut self) -> Vec<Action> {
        std::mem::take(&mut self.events)
    }
}

/// The two sides and the funding transaction.
pub struct Pair {
    pub a: Node,
    pub b: Node,
    pub funding_tx: Transaction,
}

pub struct OpenSpec {
    pub funding_sat: u64,
    pub push_msat: u64,
    pub feerate: u32,
    pub channel_type: ChannelType,
}

impl Default for OpenSpec {
    fn default() -> OpenSpec {
        OpenSpec {
            funding_sat: 1_000_000,
            push_msat: 0,
            feerate: 2500,
            channel_type: ChannelType::AnchorsZeroFeeHtlcTx,
        }
    }
}

/// A funding transaction paying `funding_sat` to `script` (its input is made up).
pub fn funding_tx(script: bitcoin::ScriptBuf, funding_sat: u64) -> Transaction {
    Transaction {
        version: Version::TWO,
        lock_time: LockTime::ZERO,
        input: vec![TxIn {
            previous_output: OutPoint {
                txid: bitcoin::Txid::from_raw_hash(bitcoin::hashes::Hash::from_byte_array([9; 32])),
                vout: 0,
            },
            ..TxIn::default()
        }],
        output: vec![TxOut {
            value: Amount::from_sat(funding_sat),
            script_pubkey: script,
        }],
    }
}

/// The opener's request for `spec`.
pub fn open_request(spec: &OpenSpec) -> OpenRequest {
    OpenRequest {
        funding_sat: spec.funding_sat,
        push_msat: spec.push_msat,
        feerate_per_kw: spec.feerate,
        announce: false,
        channel_type: spec.channel_type,
        upfront_shutdown_script: None,
        default_shutdown_script: wallet_script(0xa1),
        reserve_sat: None,
        minimum_depth: None,
    }
}

/// The open context of `node` with `peer`.
pub fn ctx(node: &Node, peer: PublicKey) -> OpenContext {
    OpenContext {
        chain_hash: ChainHash::using_genesis_block(bitcoin::Network::Regtest),
        peer_id: peer,
        dbid: 1,
        secrets: node.secrets(),
        cfg: node.cfg.clone(),
        our_features: features(),
        their_features: features(),
    }
}

impl Pair {
    /// Runs the v1 open with `a` as opener, up to both channels stored.
    pub fn open(spec: OpenSpec) -> Pair {
        Pair::open_with(Node::new("alice", 0xa1), Node::new("bob", 0xb0), spec)
    }

    pub fn open_with(mut a: Node, mut b: Node, spec: OpenSpec) -> Pair {
        let (mut opener, open_msg) =
            OutboundOpen::new(ctx(&a, node_id(2)), open_request(&spec), [7; 32])
                .expect("open_channel");
        let (inbound, accept) = InboundOpen::new(
            ctx(&b, node_id(1)),
            &open_msg,
            (253, 100_000),
            wallet_script(0xb0),
            None,
        )
        .expect("accept_channel");
        let script = opener.on_accept_channel(&accept).expect("accepted");
        let funding_tx = funding_tx(script, spec.funding_sat);
        let outpoint = OutPoint {
            txid: funding_tx.compute_txid(),
            vout: 0,
        };
        let created = opener.funding_created(outpoint).expect("funding_created");
        let (ch_b, actions_b) = inbound
            .on_funding_created(&created)
            .expect("funding_signed");
        b.ch = Some(ch_b);
        b.apply(actions_b);
        let Some(Message::FundingSigned(signed)) = b.outbox.pop() else {
            panic!("no funding_signed")
        };
        let (ch_a, actions_a) = opener.on_funding_signed(&signed).expect("channel");
        a.ch = Some(ch_a);
        a.apply(actions_a);
        assert!(a.stored.is_some() && b.stored.is_some());
        Pair { a, b, funding_tx }
    }

    pub fn side(&mut self, a_to_b: bool) -> (&mut Node, &mut Node) {
        if a_to_b {
            (&mut self.a, &mut self.b)
        } else {
            (&mut self.b, &mut self.a)
        }
    }

    /// Delivers the oldest message from one side to the other. Returns false if none.
    pub fn deliver_one(&mut self, a_to_b: bool) -> bool {
        let (from, to) = self.side(a_to_b);
        if from.outbox.is_empty() {
            return false;
        }
        let msg = from.outbox.remove(0);
        let res = to.chm().handle_message(&msg);
        match res {
            Ok(actions) => to.apply(actions),
            Err(e) => panic!(
                "{} rejected {} from {}: {e:?}",
                to.name,
                msg.name(),
                from.name
            ),
        }
        true
    }

    /// Delivers messages both ways until both outboxes are empty.
    pub fn settle(&mut self) {
        let mut rounds = 0;
        while self.deliver_one(true) | self.deliver_one(false) {
            rounds += 1;
            assert!(rounds < 10_000, "no quiescence");
        }
    }

    /// Both sides connect and reestablish.
    pub fn connect(&mut self) {
        let acts = self.a.chm().connected();
        self.a.apply(acts);
        let acts = self.b.chm().connected();
        self.b.apply(acts);
        self.settle();
        assert!(self.a.ch().is_live() && self.b.ch().is_live());
    }

    /// Both sides lose the connection; messages in flight are lost.
    pub fn disconnect(&mut self) {
        self.a.outbox.clear();
        self.b.outbox.clear();
        self.a.chm().disconnected();
        self.b.chm().disconnected();
    }

    /// Delivers the oldest message from one side to the other. `Ok(false)` if there was
    /// none; a rejection is returned (with the message's name) instead of panicking.
    pub fn try_deliver_one(&mut self, a_to_b: bool) -> Result<bool, String> {
        let (from, to) = self.side(a_to_b);
        if from.outbox.is_empty() {
            return Ok(false);
        }
        let msg = from.outbox.remove(0);
        match to.chm().handle_message(&msg) {
            Ok(actions) => {
                to.apply(actions);
                Ok(true)
            }
            Err(e) => Err(format!(
                "{} rejected {} from {}: {:?} {}",
                to.name,
                msg.name(),
                from.name,
                e.consequence,
                e.message
            )),
        }
    }

    /// Delivers messages both ways until both outboxes are empty; stops at a rejection.
    pub fn try_settle(&mut self) -> Result<(), String> {
        let mut rounds = 0;
        while self.try_deliver_one(true)? | self.try_deliver_one(false)? {
            rounds += 1;
            if rounds >= 10_000 {
                return Err("no quiescence".into());
            }
        }
        Ok(())
    }

    /// Drops the connection (messages in flight are lost) and reconnects: both sides send
    /// `channel_reestablish`, which is left in the outboxes for delivery.
    pub fn reconnect_undelivered(&mut self) {
        self.disconnect();
        let acts = self.a.chm().connected();
        self.a.apply(acts);
        let acts = self.b.chm().connected();
        self.b.apply(acts);
    }

    /// The funding confirms `depth` times on both sides.
    pub fn confirm(&mut self, depth: u32) {
        let out = self.funding_tx.output[0].clone();
        for n in [&mut self.a, &mut self.b] {
            let acts = n
                .chm()
                .funding_depth(depth, Some(0x6e_0000_0001_0000), Some(&out))
                .expect("funding depth");
            n.apply(acts);
        }
        self.settle();
    }

    /// Opens, connects and confirms: both channels in CHANNELD_NORMAL.
    pub fn normal(spec: OpenSpec) -> Pair {
        Pair::normal_with(Node::new("alice", 0xa1), Node::new("bob", 0xb0), spec)
    }

    /// [`Pair::normal`] with the given nodes (and their policies).
    pub fn normal_with(a: Node, b: Node, spec: OpenSpec) -> Pair {
        let mut p = Pair::open_with(a, b, spec);
        p.connect();
        p.confirm(3);
        assert_eq!(p.a.ch().state(), ChannelState::ChanneldNormal);
        assert_eq!(p.b.ch().state(), ChannelState::ChanneldNormal);
        p
    }

    /// Adds an HTLC from one side; returns its id.
    pub fn add(&mut self, a_to_b: bool, amount_msat: u64, preimage: [u8; 32]) -> u64 {
        let hash = sha256(&preimage);
        let (from, _) = self.side(a_to_b);
        let (id, acts) = from
            .chm()
            .add_htlc(amount_msat, hash, 500, vec![0u8; ONION], None)
            .expect("add_htlc");
        from.apply(acts);
        id
    }

    /// The incoming HTLCs reported on a side, taken from its events.
    pub fn incoming(node: &mut Node) -> Vec<fulgur_channel::IncomingHtlc> {
        let mut found = Vec::new();
        node.events.retain(|e| match e {
            Action::IncomingHtlc(h) => {
                found.push(h.clone());
                false
            }
            _ => true,
        });
        found
    }
}

pub fn sha256(b: &[u8]) -> [u8; 32] {
    use bitcoin::hashes::{sha256, Hash};
    sha256::Hash::hash(b).to_byte_array()
}

/// The `update_add_htlc` a peer would send.
pub fn update_add(
    channel_id: fulgur_wire::ChannelId,
    id: u64,
    amount_msat: u64,
    payment_hash: [u8; 32],
    cltv_expiry: u32,
) -> Message {
    fulgur_wire::UpdateAddHtlc {
        unknown_tlvs: Vec::new(),
        channel_id,
        id,
        amount_msat,
        payment_hash: fulgur_wire::Sha256(payment_hash),
        cltv_expiry,
        onion_routing_packet: Box::new([0u8; ONION]),
        blinded_path: None,
    }
    .into()
}

/// Checks that every view of a channel's commitments accounts for the whole funding:
/// both balances plus the HTLCs in it.
pub fn check_views(ch: &Channel) -> Result<(), String> {
    use fulgur_channel::{Side, ViewKind};
    let funding_msat = ch.setup().funding_sat * 1000;
    let u = &ch.data().updates;
    for side in [Side::Local, Side::Remote] {
        for kind in [ViewKind::Current, ViewKind::Pending] {
            let v = u.view(side, kind);
            let htlcs: u64 = v.htlcs.iter().map(|h| h.amount_msat).sum();
            let total = v.our_msat + v.their_msat + htlcs;
            if total != funding_msat {
                return Err(format!(
                    "{side:?} {kind:?} view: {} + {} + {htlcs} = {total}, not {funding_msat}",
                    v.our_msat, v.their_msat
                ));
            }
        }
    }
    Ok(())
}
