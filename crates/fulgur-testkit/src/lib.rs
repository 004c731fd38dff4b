//! Test fixtures for Fulgur (dev only): a real regtest `bitcoind` on free loopback ports, any
//! number of `fulgurd` processes each in its own directory, a blocking JSON-RPC client for
//! their sockets, and a checker for responses against Core Lightning v26.06's JSON schemas.
//!
//! Everything started here is stopped when its handle is dropped.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test fixtures fail loudly by design"
)]

pub mod bench_peers;
pub mod bitcoind;
pub mod ldk;
pub mod node;
pub mod paths;
pub mod rpc;
pub mod schema;

pub use bitcoind::Bitcoind;
pub use ldk::LdkPeer;
pub use node::{Node, NodeOptions};
pub use rpc::{RpcClient, RpcReply};

/// A free TCP port on 127.0.0.1 (bound then released; good enough for tests).
pub fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    l.local_addr().expect("local addr").port()
}
