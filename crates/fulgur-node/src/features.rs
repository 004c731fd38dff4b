//! What the node offers in `init` (BOLT 9) and the chain it is on (BOLT 1 `networks`).
//!
//! Today that is the features BOLT 9 marks ASSUMED — the baseline every node is expected to
//! have, which other implementations (ldk-node among them) require of their peers — set as
//! required, as Core Lightning sets them. Optional features are offered only once the code
//! behind them exists.

use fulgur_types::features::Features;
use fulgur_types::Network;
use fulgur_wire::ChainHash;

/// The `init` (and `node_announcement`) features.
pub fn init_features() -> Features {
    Features::assumed()
}

/// The BOLT 1 `chain_hash` of `network`: its genesis block hash.
pub fn chain_hash(network: Network) -> ChainHash {
    ChainHash::using_genesis_block(network.to_bitcoin())
}
