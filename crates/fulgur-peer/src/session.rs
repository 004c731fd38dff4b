//! One peer connection's BOLT 1 state machine.

use fulgur_types::features::Features;
use fulgur_wire::{ChainHash, ChannelId, DecodeError, Init, Message, Ping, Pong, WarningMessage};
use std::time::{Duration, Instant};

/// Settings of a session.
#[derive(Debug, Clone)]
pub struct PeerConfig {
    /// The features we offer in `init`.
    pub our_features: Features,
    /// The chain we are on (sent in `networks`, and required of the peer's `networks`).
    pub chain_hash: ChainHash,
    /// How long the peer may stay silent before we probe it with a `ping`.
    pub idle_before_ping: Duration,
    /// How long we wait for the `pong` before hanging up.
    pub pong_timeout: Duration,
    /// How long the peer has to send its `init` after the handshake.
    pub init_timeout: Duration,
}

impl PeerConfig {
    /// Defaults close to Core Lightning's: probe after 60 s of silence, wait 30 s for the
    /// answer, 60 s for `init`.
    pub fn new(our_features: Features, chain_hash: ChainHash) -> Self {
        PeerConfig {
            our_features,
            chain_hash,
            idle_before_ping: Duration::from_secs(60),
            pong_timeout: Duration::from_secs(30),
            init_timeout: Duration::from_secs(60),
        }
    }
}

/// Why a session ended; its `Display` is what is logged and reported.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DisconnectReason {
    /// The peer sent something other than `init` first.
    #[error("peer sent message type {0} before init")]
    MessageBeforeInit(u16),
    /// The peer never sent `init`.
    #[error("peer sent no init within {0:?}")]
    NoInit(Duration),
    /// The peer requires features we do not know.
    #[error("peer requires features we do not support: {0}")]
    IncompatibleFeatures(String),
    /// The peer is on other chains.
    #[error("peer is on other networks (no common chain in its init networks)")]
    WrongNetwork,
    /// The peer did not answer a `ping` in time.
    #[error("peer did not answer our ping within {0:?}")]
    PingTimeout(Duration),
    /// The peer sent a message we cannot decode, or an unknown even type.
    #[error("{0}")]
    BadMessage(String),
    /// The peer sent an `error` for all channels.
    #[error("peer sent error: {0}")]
    PeerError(String),
    /// We were asked to disconnect.
    #[error("disconnect requested")]
    Requested,
}

/// Something to report upwards.
#[derive(Debug, Clone, PartialEq)]
pub enum PeerEvent {
    /// The peer's `init` arrived and was accepted: the connection is ready.
    Ready {
        /// Its features (global and local combined).
        features: Features,
    },
    /// The `pong` answering a ping we were asked to send; `totlen` as CLN reports it (the
    /// pong's length on the wire including its type and length fields).
    PingDone {
        /// Length of the `pong`, or 0 when no answer was requested.
        totlen: u16,
    },
    /// The peer sent a `warning`.
    Warning {
        /// `None` for the whole connection, else the channel concerned.
        channel_id: Option<ChannelId>,
        /// The text, printable characters only.
        text: String,
    },
    /// The peer sent an `error` for one channel (the whole-connection case ends the session).
    ChannelError {
        /// The channel concerned.
        channel_id: ChannelId,
        /// The text.
        text: String,
    },
    /// A message of an unknown odd type (custom message), kept whole for plugins.
    Custom {
        /// The raw message, type included.
        raw: Vec<u8>,
    },
    /// Another known message, for the layers above (channels, gossip) once they exist.
    Message(Box<Message>),
    /// A note for the log.
    Log {
        /// Whether it is unusual (else debug).
        unusual: bool,
        /// The text.
        text: String,
    },
}

/// What the caller must do.
#[derive(Debug, Clone, PartialEq)]
#[allow(
    clippy::large_enum_variant,
    reason = "actions live for one step and are few; boxing would allocate on every send"
)]
pub enum Action {
    /// Encrypt and send this message.
    Send(Message),
    /// Send these raw bytes as one message (custom messages).
    SendRaw(Vec<u8>),
    /// Report this.
    Event(PeerEvent),
    /// Send what is queued, then close the connection.
    Disconnect(DisconnectReason),
}

/// Why a requested ping cannot be sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PingError {
    /// A ping is already waiting for its pong.
    #[error("Ping already pending")]
    AlreadyPending,
    /// The peer has not completed `init` yet.
    #[error("Peer not connected")]
    NotReady,
    /// The ping would not fit in a message.
    #[error("{0} would result in oversize ping")]
    TooLong(u16),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PongWanted {
    /// No ping outstanding.
    None,
    /// Our keep-alive probe, sent at this time.
    Probe(Instant),
    /// A ping the operator asked for, answered with `PingDone`.
    Requested(Instant),
}

/// One connection's session.
#[derive(Debug)]
pub struct PeerSession {
    config: PeerConfig,
    connected_at: Instant,
    last_received: Instant,
    their_features: Option<Features>,
    pong: PongWanted,
    closed: bool,
}

/// Printable text of a warning or error's data, as the spec asks to show it.
fn printable(data: &[u8]) -> String {
    data.iter()
        .map(|&b| {
            if (0x20..0x7f).contains(&b) {
                b as char
            } else {
                '?'
            }
        })
        .collect()
}

impl PeerSession {
    /// A session for a connection whose handshake finished at `now`. The returned actions
    /// send our `init`, which must be the first message on the connection.
    pub fn new(config: PeerConfig, now: Instant) -> (PeerSession, Vec<Action>) {
        let init = Init {
            global_features: Features::empty(),
            features: config.our_features.clone(),
            networks: Some(vec![config.chain_hash]),
            remote_addr: None,
        };
        let session = PeerSession {
            config,
            connected_at: now,
            last_received: now,
            their_features: None,
            pong: PongWanted::None,
            closed: false,
        };
        (session, vec![Action::Send(Message::Init(init))])
    }

    /// Whether the peer's `init` was accepted.
    pub fn is_ready(&self) -> bool {
        self.their_features.is_some() && !self.closed
    }

    /// The peer's features, once its `init` arrived.
    pub fn their_features(&self) -> Option<&Features> {
        self.their_features.as_ref()
    }

    fn close(&mut self, reason: DisconnectReason, warn: bool) -> Vec<Action> {
        self.closed = true;
        let mut out = Vec::new();
        if warn {
            out.push(Action::Send(Message::Warning(WarningMessage {
                channel_id: ChannelId::all_zero(),
                data: reason.to_string().into_bytes(),
            })));
        }
        out.push(Action::Disconnect(reason));
        out
    }

    /// Handles one decrypted message from the peer, received at `now`.
    pub fn handle_message(&mut self, bytes: &[u8], now: Instant) -> Vec<Action> {
        if self.closed {
            return Vec::new();
        }
        self.last_received = now;
        let msg = match Message::decode(bytes) {
            Ok(m) => m,
            Err(DecodeError::UnknownEvenType(t)) => {
                return self.close(
                    DisconnectReason::BadMessage(format!("unknown even message type {t}")),
                    true,
                )
            }
            Err(e) => {
                return self.close(
                    DisconnectReason::BadMessage(format!("malformed message: {e}")),
                    true,
                )
            }
        };
        if self.their_features.is_none() {
            // A peer refusing us often says why in a warning or error before hanging up:
            // keep its words rather than treating them as a protocol violation.
            return match msg {
                Message::Init(init) => self.handle_init(init),
                Message::Warning(_) | Message::Error(_) => self.handle_control(msg),
                other => self.close(DisconnectReason::MessageBeforeInit(other.msg_type()), true),
            };
        }
        match msg {
            Message::Init(_) => vec![Action::Event(PeerEvent::Log {
                unusual: true,
                text: "ignoring a second init".into(),
            })],
            Message::Ping(ping) => self.handle_ping(ping),
            Message::Pong(pong) => self.handle_pong(pong, now),
            Message::Warning(_) | Message::Error(_) => self.handle_control(msg),
            Message::Unknown { .. } => vec![Action::Event(PeerEvent::Custom {
                raw: bytes.to_vec(),
            })],
            other => vec![Action::Event(PeerEvent::Message(Box::new(other)))],
        }
    }

    /// A `warning` or `error`: reported, and an `error` for every channel ends the session.
    fn handle_control(&mut self, msg: Message) -> Vec<Action> {
        match msg {
            Message::Warning(w) => {
                let channel_id = (!w.channel_id.is_all_zero()).then_some(w.channel_id);
                vec![Action::Event(PeerEvent::Warning {
                    channel_id,
                    text: printable(&w.data),
                })]
            }
            Message::Error(e) => {
                let text = printable(&e.data);
                if e.channel_id.is_all_zero() {
                    self.close(DisconnectReason::PeerError(text), false)
                } else {
                    vec![Action::Event(PeerEvent::ChannelError {
                        channel_id: e.channel_id,
                        text,
                    })]
                }
            }
            _ => Vec::new(),
        }
    }

    fn handle_init(&mut self, init: Init) -> Vec<Action> {
        let mut theirs = init.features.clone();
        theirs.merge(&init.global_features);
        // ASSUMED features are understood by every node (BOLT 9), so never "unknown".
        let known = self.config.our_features.union(&Features::assumed());
        let unknown = theirs.unknown_required(&known);
        if !unknown.is_empty() {
            let bits: Vec<String> = unknown.iter().map(|b| b.to_string()).collect();
            return self.close(
                DisconnectReason::IncompatibleFeatures(format!("bits {}", bits.join(","))),
                true,
            );
        }
        if let Some(networks) = &init.networks {
            if !networks.contains(&self.config.chain_hash) {
                return self.close(DisconnectReason::WrongNetwork, true);
            }
        }
        self.their_features = Some(theirs.clone());
        vec![Action::Event(PeerEvent::Ready { features: theirs })]
    }

    fn handle_ping(&mut self, ping: Ping) -> Vec<Action> {
        // A num_pong_bytes of 65532 or more asks for no answer.
        if ping.num_pong_bytes >= 65532 {
            return Vec::new();
        }
        vec![Action::Send(Message::Pong(Pong {
            ignored: vec![0; usize::from(ping.num_pong_bytes)],
        }))]
    }

    fn handle_pong(&mut self, pong: Pong, _now: Instant) -> Vec<Action> {
        match std::mem::replace(&mut self.pong, PongWanted::None) {
            PongWanted::None => vec![Action::Event(PeerEvent::Log {
                unusual: true,
                text: "unexpected pong".into(),
            })],
            PongWanted::Probe(_) => Vec::new(),
            PongWanted::Requested(_) => {
                // type (2) + byteslen (2) + the bytes.
                let totlen = u16::try_from(pong.ignored.len() + 4).unwrap_or(u16::MAX);
                vec![Action::Event(PeerEvent::PingDone { totlen })]
            }
        }
    }

    /// Sends a ping the operator asked for (`len` ignored bytes, asking for `pongbytes` back).
    /// The answer comes later as [`PeerEvent::PingDone`]; when no answer is asked for
    /// (`pongbytes` ≥ 65532) it comes at once with `totlen` 0.
    pub fn request_ping(
        &mut self,
        len: u16,
        pongbytes: u16,
        now: Instant,
    ) -> Result<Vec<Action>, PingError> {
        if !self.is_ready() {
            return Err(PingError::NotReady);
        }
        if len > 65535 - 6 {
            return Err(PingError::TooLong(len));
        }
        if self.pong != PongWanted::None {
            return Err(PingError::AlreadyPending);
        }
        let ping = Message::Ping(Ping {
            num_pong_bytes: pongbytes,
            ignored: vec![0; usize::from(len)],
        });
        if pongbytes >= 65532 {
            return Ok(vec![
                Action::Send(ping),
                Action::Event(PeerEvent::PingDone { totlen: 0 }),
            ]);
        }
        self.pong = PongWanted::Requested(now);
        Ok(vec![Action::Send(ping)])
    }

    /// Sends a custom message (raw bytes, type included).
    pub fn send_custom(&mut self, raw: Vec<u8>) -> Vec<Action> {
        if self.closed {
            return Vec::new();
        }
        vec![Action::SendRaw(raw)]
    }

    /// Ends the session at our request.
    pub fn disconnect(&mut self) -> Vec<Action> {
        if self.closed {
            return Vec::new();
        }
        self.close(DisconnectReason::Requested, false)
    }

    /// When [`PeerSession::handle_timeout`] should next be called.
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.closed {
            return None;
        }
        if self.their_features.is_none() {
            return Some(self.connected_at + self.config.init_timeout);
        }
        Some(match self.pong {
            PongWanted::Probe(sent) | PongWanted::Requested(sent) => {
                sent + self.config.pong_timeout
            }
            PongWanted::None => self.last_received + self.config.idle_before_ping,
        })
    }

    /// Acts on the passage of time: hangs up on a peer that sent no `init` or no `pong` in
    /// time, and probes a peer that has been silent.
    pub fn handle_timeout(&mut self, now: Instant) -> Vec<Action> {
        if self.closed {
            return Vec::new();
        }
        if self.their_features.is_none() {
            if now >= self.connected_at + self.config.init_timeout {
                return self.close(DisconnectReason::NoInit(self.config.init_timeout), false);
            }
            return Vec::new();
        }
        match self.pong {
            PongWanted::Probe(sent) | PongWanted::Requested(sent) => {
                if now >= sent + self.config.pong_timeout {
                    return self.close(
                        DisconnectReason::PingTimeout(self.config.pong_timeout),
                        false,
                    );
                }
                Vec::new()
            }
            PongWanted::None => {
                if now >= self.last_received + self.config.idle_before_ping {
                    self.pong = PongWanted::Probe(now);
                    return vec![Action::Send(Message::Ping(Ping {
                        num_pong_bytes: 1,
                        ignored: Vec::new(),
                    }))];
                }
                Vec::new()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "test inputs are fixed")]
    use super::*;
    use fulgur_types::features::{Features, VAR_ONION_OPTIN};

    const CHAIN: [u8; 32] = [7; 32];

    fn config() -> PeerConfig {
        let mut f = Features::empty();
        f.set_required(VAR_ONION_OPTIN);
        PeerConfig::new(f, ChainHash::from(CHAIN))
    }

    fn init_bytes(features: Features, networks: Option<Vec<ChainHash>>) -> Vec<u8> {
        Message::Init(Init {
            global_features: Features::empty(),
            features,
            networks,
            remote_addr: None,
        })
        .encode()
    }

    fn ready(now: Instant) -> PeerSession {
        let (mut s, first) = PeerSession::new(config(), now);
        assert!(matches!(&first[..], [Action::Send(Message::Init(_))]));
        let mut f = Features::empty();
        f.set_optional(VAR_ONION_OPTIN);
        let out = s.handle_message(&init_bytes(f, Some(vec![ChainHash::from(CHAIN)])), now);
        assert!(
            matches!(&out[..], [Action::Event(PeerEvent::Ready { .. })]),
            "{out:?}"
        );
        s
    }

    fn disconnect_reason(actions: &[Action]) -> Option<&DisconnectReason> {
        actions.iter().find_map(|a| match a {
            Action::Disconnect(r) => Some(r),
            _ => None,
        })
    }

    #[test]
    fn init_must_come_first() {
        let now = Instant::now();
        let (mut s, _) = PeerSession::new(config(), now);
        let ping = Message::Ping(Ping {
            num_pong_bytes: 1,
            ignored: vec![],
        })
        .encode();
        let out = s.handle_message(&ping, now);
        assert_eq!(
            disconnect_reason(&out),
            Some(&DisconnectReason::MessageBeforeInit(18))
        );
        assert!(
            matches!(out[0], Action::Send(Message::Warning(_))),
            "a warning explains the hang-up"
        );
        assert!(
            s.handle_message(&ping, now).is_empty(),
            "nothing after close"
        );
    }

    #[test]
    fn unknown_required_feature_and_wrong_chain_refused() {
        let now = Instant::now();
        let (mut s, _) = PeerSession::new(config(), now);
        let mut f = Features::empty();
        f.set_bit(100);
        let out = s.handle_message(&init_bytes(f, None), now);
        assert!(
            matches!(disconnect_reason(&out), Some(DisconnectReason::IncompatibleFeatures(t)) if t.contains("100")),
            "{out:?}"
        );

        let (mut s, _) = PeerSession::new(config(), now);
        let mut f = Features::empty();
        f.set_bit(101); // unknown odd: fine
        let out = s.handle_message(&init_bytes(f, Some(vec![ChainHash::from([9; 32])])), now);
        assert_eq!(
            disconnect_reason(&out),
            Some(&DisconnectReason::WrongNetwork)
        );
    }

    #[test]
    fn assumed_features_are_never_unknown() {
        let now = Instant::now();
        let (mut s, _) = PeerSession::new(config(), now);
        // What ldk-node requires: data_loss_protect, static_remotekey, payment_secret, channel_type.
        let out = s.handle_message(&init_bytes(Features::from_bits([0, 12, 14, 44]), None), now);
        assert!(
            matches!(&out[..], [Action::Event(PeerEvent::Ready { .. })]),
            "{out:?}"
        );
    }

    #[test]
    fn warning_before_init_is_kept_and_error_ends() {
        let now = Instant::now();
        let (mut s, _) = PeerSession::new(config(), now);
        let w = Message::Warning(WarningMessage {
            channel_id: ChannelId::all_zero(),
            data: b"no thanks".to_vec(),
        })
        .encode();
        let out = s.handle_message(&w, now);
        assert_eq!(
            out,
            vec![Action::Event(PeerEvent::Warning {
                channel_id: None,
                text: "no thanks".into()
            })]
        );
        let e = Message::Error(fulgur_wire::ErrorMessage {
            channel_id: ChannelId::all_zero(),
            data: b"bye".to_vec(),
        })
        .encode();
        let out = s.handle_message(&e, now);
        assert_eq!(
            disconnect_reason(&out),
            Some(&DisconnectReason::PeerError("bye".into()))
        );
    }

    #[test]
    fn answers_pings_and_ignores_big_requests() {
        let now = Instant::now();
        let mut s = ready(now);
        let out = s.handle_message(
            &Message::Ping(Ping {
                num_pong_bytes: 10,
                ignored: vec![0; 3],
            })
            .encode(),
            now,
        );
        assert_eq!(
            out,
            vec![Action::Send(Message::Pong(Pong {
                ignored: vec![0; 10]
            }))]
        );
        let out = s.handle_message(
            &Message::Ping(Ping {
                num_pong_bytes: 65532,
                ignored: vec![],
            })
            .encode(),
            now,
        );
        assert!(out.is_empty());
    }

    #[test]
    fn requested_ping_reports_totlen_and_one_at_a_time() {
        let now = Instant::now();
        let mut s = ready(now);
        let out = s.request_ping(128, 128, now).unwrap();
        assert!(
            matches!(&out[..], [Action::Send(Message::Ping(p))] if p.ignored.len() == 128 && p.num_pong_bytes == 128)
        );
        assert_eq!(s.request_ping(1, 1, now), Err(PingError::AlreadyPending));
        let out = s.handle_message(
            &Message::Pong(Pong {
                ignored: vec![0; 128],
            })
            .encode(),
            now,
        );
        assert_eq!(
            out,
            vec![Action::Event(PeerEvent::PingDone { totlen: 132 })]
        );
        let out = s.request_ping(5, 65535, now).unwrap();
        assert_eq!(
            out.last(),
            Some(&Action::Event(PeerEvent::PingDone { totlen: 0 }))
        );
        assert_eq!(
            s.request_ping(65530, 1, now),
            Err(PingError::TooLong(65530))
        );
    }

    #[test]
    fn idle_peer_is_probed_then_dropped() {
        let t0 = Instant::now();
        let mut s = ready(t0);
        let cfg = config();
        assert_eq!(s.poll_timeout(), Some(t0 + cfg.idle_before_ping));
        let t1 = t0 + cfg.idle_before_ping;
        let out = s.handle_timeout(t1);
        assert!(matches!(&out[..], [Action::Send(Message::Ping(_))]));
        let t2 = t1 + cfg.pong_timeout;
        let out = s.handle_timeout(t2);
        assert_eq!(
            disconnect_reason(&out),
            Some(&DisconnectReason::PingTimeout(cfg.pong_timeout))
        );
    }

    #[test]
    fn silent_peer_after_handshake_is_dropped() {
        let t0 = Instant::now();
        let (mut s, _) = PeerSession::new(config(), t0);
        let cfg = config();
        assert!(s.handle_timeout(t0 + cfg.init_timeout / 2).is_empty());
        let out = s.handle_timeout(t0 + cfg.init_timeout);
        assert_eq!(
            disconnect_reason(&out),
            Some(&DisconnectReason::NoInit(cfg.init_timeout))
        );
    }

    #[test]
    fn odd_even_rule_warnings_and_errors() {
        let now = Instant::now();
        let mut s = ready(now);
        // Unknown odd: passed up as a custom message.
        let out = s.handle_message(&[0x77, 0x77, 1, 2], now);
        assert_eq!(
            out,
            vec![Action::Event(PeerEvent::Custom {
                raw: vec![0x77, 0x77, 1, 2]
            })]
        );
        // A warning for the connection.
        let w = Message::Warning(WarningMessage {
            channel_id: ChannelId::all_zero(),
            data: b"careful\x01".to_vec(),
        })
        .encode();
        let out = s.handle_message(&w, now);
        assert_eq!(
            out,
            vec![Action::Event(PeerEvent::Warning {
                channel_id: None,
                text: "careful?".into()
            })]
        );
        // Unknown even: hang up.
        let out = s.handle_message(&[0x77, 0x76], now);
        assert!(
            matches!(disconnect_reason(&out), Some(DisconnectReason::BadMessage(t)) if t.contains("30582")),
            "{out:?}"
        );
    }

    #[test]
    fn truncated_message_is_refused() {
        let now = Instant::now();
        let mut s = ready(now);
        // A ping whose byteslen (1000) points past the end.
        let out = s.handle_message(&[0, 18, 0, 1, 0x03, 0xe8, 0, 0], now);
        assert!(
            matches!(disconnect_reason(&out), Some(DisconnectReason::BadMessage(t)) if t.starts_with("malformed message")),
            "{out:?}"
        );
    }
}
