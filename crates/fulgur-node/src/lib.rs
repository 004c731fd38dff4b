//! The composition layer: it owns the node's parts and wires them together — identity from
//! `hsm_secret`, logging, the JSON-RPC server with the built-in commands, and the link to
//! bitcoind — and runs them until `stop` or a signal.

pub mod alias;
pub mod chain;
pub mod channels;
pub mod commands;
pub mod context;
pub mod daemon;
pub mod features;
pub mod funding;
pub mod hsm_file;
pub mod log;
pub mod onchain;

pub use context::NodeContext;
