//! fulgur-rpc (placeholder, filled in by issue 2).
