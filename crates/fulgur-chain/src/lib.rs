//! fulgur-chain (issue 4, in progress).
