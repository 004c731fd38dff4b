//! fulgur-peer (issue 3, in progress).
