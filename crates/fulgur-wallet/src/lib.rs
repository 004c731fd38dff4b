//! fulgur-wallet (issue 4, in progress).
