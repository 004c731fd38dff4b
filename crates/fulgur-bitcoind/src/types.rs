//! The typed results of the bitcoind calls the node makes, with only the fields it reads
//! (bitcoind's extra fields are ignored, so newer versions keep working).

use bitcoin::BlockHash;
use serde::{Deserialize, Serialize};

/// Part of `getblockchaininfo`'s result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChainInfo {
    /// bitcoind's chain name: `main`, `test`, `testnet4`, `signet` or `regtest` (see
    /// [`fulgur_types::Network::from_bitcoind_chain`]).
    pub chain: String,
    /// The height of the best validated block.
    pub blocks: u64,
    /// The height of the best known header.
    pub headers: u64,
    /// The hash of the best validated block.
    pub bestblockhash: BlockHash,
    /// Whether bitcoind is still in initial block download.
    pub initialblockdownload: bool,
    /// Estimated fraction of the chain verified, 0 to 1.
    pub verificationprogress: f64,
}

/// Part of `getnetworkinfo`'s result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetworkInfo {
    /// The version as a number, e.g. `290000` for v29.0.0.
    pub version: u64,
    /// The user agent, e.g. `/Satoshi:29.0.0/`.
    pub subversion: String,
}
