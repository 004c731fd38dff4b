//! Fulgur's key material: the node's root secret as Core Lightning stores it in `hsm_secret`,
//! and the node identity and per-channel secrets derived from it exactly as CLN's hsmd derives
//! them.
//!
//! Nothing here does I/O: callers read and write the `hsm_secret` file and supply any
//! randomness (see [`HsmSecret::generate`]).

pub mod channel;
pub mod hsm_secret;
mod kdf;

pub use channel::{ChannelBase, ChannelSecrets, InvalidChannelSecret};
pub use hsm_secret::{HsmSecret, HsmSecretError};
