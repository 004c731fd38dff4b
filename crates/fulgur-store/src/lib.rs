//! fulgur-store (issue 4, in progress).
