//! The per-peer protocol after the BOLT 8 handshake, as a sans-IO state machine (BOLT 1
//! "Connection Handling and Multiplexing", "Setup Messages", "Control Messages"): the `init`
//! exchange and feature negotiation, the `networks` check, `ping`/`pong` (answering, keeping an
//! idle link alive, hanging up on a silent peer), `warning` and `error` with their channel
//! scope, and the odd/even rule for unknown messages.
//!
//! The caller feeds decrypted messages and the time; the session returns what to send, when to
//! hang up (and why), and events to report. Nothing here touches sockets or clocks.

pub mod session;

pub use session::{Action, DisconnectReason, PeerConfig, PeerEvent, PeerSession, PingError};
