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

fn ctx(node: &Node, peer: PublicKey) -> OpenContext {
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
        let (mut opener, open_msg) = OutboundOpen::new(
            ctx(&a, node_id(2)),
            OpenRequest {
                funding_sat: spec.funding_sat,
                push_msat: spec.push_msat,
                feerate_per_kw: spec.feerate,
                announce: false,
                channel_type: spec.channel_type,
                upfront_shutdown_script: None,
                default_shutdown_script: wallet_script(0xa1),
            },
            [7; 32],
        )
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
        let funding_tx = Transaction {
            version: Version::TWO,
            lock_time: LockTime::ZERO,
            input: vec![TxIn {
                previous_output: OutPoint {
                    txid: bitcoin::Txid::from_raw_hash(bitcoin::hashes::Hash::from_byte_array(
                        [9; 32],
                    )),
                    vout: 0,
                },
                ..TxIn::default()
            }],
            output: vec![TxOut {
                value: Amount::from_sat(spec.funding_sat),
                script_pubkey: script,
            }],
        };
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
        let mut p = Pair::open(spec);
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
