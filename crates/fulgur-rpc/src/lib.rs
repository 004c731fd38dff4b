//! The JSON-RPC server Core Lightning clients talk to: the `lightning-rpc` Unix socket, the
//! framing of concatenated JSON requests, the command registry (built-in commands now,
//! plugin commands later) and dispatch with parameter checks and `filter`.

pub mod registry;
pub mod server;

pub use registry::{Call, CommandDef, Handler, Registry};
pub use server::{bind_socket, serve, ServerConfig};
