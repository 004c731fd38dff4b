//! Why a connection failed, by stage, with the likely cause spelled out for the operator (the
//! part of Core Lightning's "Cryptographic handshake: Connection reset by peer" that it leaves
//! to guesswork), and the CLN `connect` error code each maps to.

use std::fmt;
use std::time::Duration;

/// The stage a connection attempt reached before it failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The host name could not be resolved.
    Dns(String),
    /// Nothing listens there.
    Refused,
    /// TCP connect did not complete in time.
    ConnectTimeout(Duration),
    /// Another TCP error.
    Tcp(String),
    /// The peer closed the connection before sending act two: with BOLT 8 this is what a
    /// node does when act one was not meant for it, i.e. the node id does not match the
    /// address.
    ClosedDuringAct2,
    /// Act two arrived but failed (bad version, bad key, MAC): not a Lightning node, or not
    /// the node we think.
    Act2(String),
    /// The peer stopped sending mid-handshake.
    HandshakeTimeout(Duration),
    /// The peer closed the connection before its `init`.
    ClosedBeforeInit {
        /// What the peer said in a `warning` or `error` before closing, if anything.
        peer_said: Option<String>,
    },
    /// The peer sent no `init` in time.
    NoInit(Duration),
    /// The session ended during `init` for a reason we found (features, network, ...).
    Rejected(String),
}

/// A failed connection to one address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectError {
    /// The address tried (as text).
    pub addr: String,
    /// What went wrong.
    pub failure: Failure,
}

impl ConnectError {
    /// CLN's code: 401 when the address could not be used (nothing reached a Lightning node
    /// that accepted us), 402 when the peer disconnected while connecting (after the handshake).
    pub fn code(&self) -> i64 {
        match self.failure {
            Failure::ClosedBeforeInit { .. } | Failure::NoInit(_) | Failure::Rejected(_) => 402,
            _ => 401,
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Dns(e) => write!(f, "cannot resolve the host name ({e})"),
            Failure::Refused => f.write_str("TCP connection refused: nothing is listening on that port"),
            Failure::ConnectTimeout(t) => {
                write!(f, "TCP connection timed out after {}s: host down or port filtered", t.as_secs())
            }
            Failure::Tcp(e) => write!(f, "TCP connection failed: {e}"),
            Failure::ClosedDuringAct2 => f.write_str(
                "the peer closed the connection during the handshake (act 2): the node id is probably not the one at this address",
            ),
            Failure::Act2(e) => write!(
                f,
                "handshake act 2 failed ({e}): the peer is not the node with this id, or not a Lightning node"
            ),
            Failure::HandshakeTimeout(t) => {
                write!(f, "the peer stopped answering during the handshake ({}s)", t.as_secs())
            }
            Failure::ClosedBeforeInit { peer_said: Some(s) } => {
                write!(f, "the peer disconnected before sending init; it said: \"{s}\"")
            }
            Failure::ClosedBeforeInit { peer_said: None } => f.write_str(
                "the peer disconnected after the handshake without sending init (it may reject our features or network)",
            ),
            Failure::NoInit(t) => write!(f, "the peer sent no init within {}s", t.as_secs()),
            Failure::Rejected(why) => write!(f, "connection rejected during init: {why}"),
        }
    }
}

impl fmt::Display for ConnectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.addr, self.failure)
    }
}

impl std::error::Error for ConnectError {}

/// Classifies a TCP connect error.
pub fn tcp_failure(e: &std::io::Error) -> Failure {
    match e.kind() {
        std::io::ErrorKind::ConnectionRefused => Failure::Refused,
        _ => Failure::Tcp(e.to_string()),
    }
}
