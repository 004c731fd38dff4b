//! The default alias and colour a node shows when the operator sets none: both derived from
//! the node id, so they stay the same across restarts. The colour is the first three bytes of
//! the compressed node id, as Core Lightning picks it; the alias comes from Fulgur's own
//! word lists (an adjective and a noun, upper-case, at most 32 bytes).

const ADJECTIVES: [&str; 32] = [
    "AMBER", "BRIGHT", "CALM", "CRISP", "DARING", "EAGER", "FAINT", "FIERCE", "GENTLE", "GOLDEN",
    "HOLLOW", "IVORY", "JOLLY", "KEEN", "LIVELY", "LUCID", "MELLOW", "NIMBLE", "OPAL", "PROUD",
    "QUIET", "RAPID", "SCARLET", "SILVER", "STEADY", "SWIFT", "TIDY", "UPBEAT", "VIVID", "WARM",
    "WILD", "ZESTY",
];

const NOUNS: [&str; 32] = [
    "ANVIL", "BEACON", "CANYON", "COMET", "DELTA", "EMBER", "FALCON", "FJORD", "GLACIER", "HARBOR",
    "ISLAND", "JUNCTION", "KESTREL", "LANTERN", "MEADOW", "NEBULA", "ORCHARD", "PRISM", "QUASAR",
    "RIVER", "SPARK", "SUMMIT", "THUNDER", "TUNDRA", "UPLAND", "VALLEY", "VOLT", "WAVE", "WILLOW",
    "XENON", "YONDER", "ZEPHYR",
];

/// The alias for a node whose compressed id is `node_id` (33 bytes).
pub fn default_alias(node_id: &[u8; 33]) -> String {
    // Skip the parity byte: it carries one bit.
    let adjective = ADJECTIVES[usize::from(node_id[1]) % ADJECTIVES.len()];
    let noun = NOUNS[usize::from(node_id[2]) % NOUNS.len()];
    format!("{adjective}{noun}")
}

/// The colour for a node whose compressed id is `node_id`.
pub fn default_color(node_id: &[u8; 33]) -> [u8; 3] {
    [node_id[0], node_id[1], node_id[2]]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_from_id() {
        let mut id = [0u8; 33];
        id[0] = 3;
        id[1] = 0xff;
        id[2] = 0x11;
        assert_eq!(default_color(&id), [3, 0xff, 0x11]);
        assert_eq!(default_alias(&id), "ZESTYPRISM");
        assert!(ADJECTIVES.iter().chain(NOUNS.iter()).all(|w| w.len() <= 16));
    }
}
