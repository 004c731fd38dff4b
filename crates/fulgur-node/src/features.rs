//! What the node offers in `init` (BOLT 9) and the chain it is on (BOLT 1 `networks`).
//!
//! The features BOLT 9 marks ASSUMED — the baseline every node is expected to have, which
//! other implementations (ldk-node among them) require of their peers — set as required, as
//! Core Lightning sets them; and, as optional, those the channel code implements:
//! `option_upfront_shutdown_script`, `option_support_large_channel`, `option_anchors` and
//! `option_shutdown_anysegwit`. Others are offered only once the code behind them exists.

use fulgur_types::features::{self, Features};
use fulgur_types::Network;
use fulgur_wire::ChainHash;

/// The `init` (and `node_announcement`) features.
pub fn init_features() -> Features {
    let mut f = Features::assumed();
    f.set_optional(features::OPTION_UPFRONT_SHUTDOWN_SCRIPT);
    f.set_optional(features::OPTION_SUPPORT_LARGE_CHANNEL);
    f.set_optional(features::OPTION_ANCHORS_ZERO_FEE_HTLC_TX);
    f.set_optional(features::OPTION_SHUTDOWN_ANYSEGWIT);
    f
}

/// The BOLT 1 `chain_hash` of `network`: its genesis block hash.
pub fn chain_hash(network: Network) -> ChainHash {
    ChainHash::using_genesis_block(network.to_bitcoin())
}
