//! The peer network edge (BOLT 8 over TCP, BOLT 1 sessions): listening, dialing with time
//! limits, one task per connection with bounded queues, and the peer manager that owns the
//! table of peers. Protocol logic lives in the sans-IO crates (`fulgur-noise`, `fulgur-wire`,
//! `fulgur-peer`); this crate moves bytes and time in and out of them.

pub mod address;
pub mod connection;
pub mod error;
pub mod handshake;
pub mod manager;

pub use address::{parse_address, parse_connect, NetAddress};
pub use connection::NetEvent;
pub use error::{ConnectError, Failure};
pub use manager::{ConnId, ConnectFailure, Direction, NetConfig, PeerInfo, PeerManager};
