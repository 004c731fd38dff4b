//! fulgur-rpc-types (placeholder, filled in by issue 2).
