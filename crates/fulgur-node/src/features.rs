//! What the node offers in `init` (BOLT 9): only features it implements — today the
//! connection-level ones — and the chain it is on (BOLT 1 `networks`).

use fulgur_types::features::Features;
use fulgur_types::Network;
use fulgur_wire::ChainHash;

/// The `init` (and `node_announcement`) features.
pub fn init_features() -> Features {
    let mut f = Features::empty();
    // var_onion_optin is assumed by every node today (BOLT 9 "ASSUMED").
    f.set_required(fulgur_types::features::VAR_ONION_OPTIN);
    f
}

/// The BOLT 1 `chain_hash` of `network`: its genesis block hash.
pub fn chain_hash(network: Network) -> ChainHash {
    ChainHash::using_genesis_block(network.to_bitcoin())
}
