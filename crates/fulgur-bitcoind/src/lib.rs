//! Fulgur's L3 adapter to bitcoind: an async client for its JSON-RPC interface.
//!
//! The transport is a deliberately small HTTP/1.1 client over a Tokio TCP stream (one
//! connection per call, `Connection: close`), with hard caps on response size and a per-call
//! timeout. Credentials are a fixed user and password or bitcoind's cookie file, re-read for
//! every call so a restarted bitcoind is followed. Failures are [`BitcoindError`]s classified
//! by cause (refused, timeout, DNS, credentials, cookie, RPC error, bad response, wrong chain),
//! with [`BitcoindError::is_transient`] telling which are worth retrying.
//!
//! [`BitcoindBackend`] puts the client behind [`fulgur_chain::ChainBackend`], Core Lightning's
//! five Bitcoin-backend methods answered as its `bcli` plugin answers them, with retries of
//! transient failures.
//!
//! ```no_run
//! # async fn demo() -> Result<(), fulgur_bitcoind::BitcoindError> {
//! use fulgur_bitcoind::{Auth, BitcoindClient, BitcoindConfig};
//! use fulgur_types::Network;
//!
//! let auth = Auth::cookie_in_datadir("/home/me/.bitcoin".as_ref(), Network::Regtest);
//! let client = BitcoindClient::new(BitcoindConfig::new(Network::Regtest, auth));
//! let info = client.check_network(Network::Regtest).await?;
//! println!("bitcoind at {} is at height {}", client.addr(), info.blocks);
//! # Ok(())
//! # }
//! ```

pub mod backend;
pub mod client;
pub mod config;
pub mod error;
mod http;
pub mod types;

pub use backend::{BitcoindBackend, RetryPolicy};
pub use client::BitcoindClient;
pub use config::{cookie_path, Auth, BitcoindConfig};
pub use error::{
    BitcoindError, ProtocolError, ResponsePart, RPC_INVALID_PARAMETER, RPC_IN_WARMUP,
    RPC_METHOD_NOT_FOUND, RPC_VERIFY_ALREADY_IN_UTXO_SET,
};
pub use types::{btc_to_sat, ChainInfo, MempoolInfo, NetworkInfo, SmartFeeEstimate, TxOutInfo};
