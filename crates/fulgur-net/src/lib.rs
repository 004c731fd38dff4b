//! fulgur-net (issue 3, in progress).
