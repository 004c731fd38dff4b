//! fulgur-noise (issue 3, in progress).
