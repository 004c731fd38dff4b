//! fulgur-bitcoind (placeholder, filled in by issue 2).
