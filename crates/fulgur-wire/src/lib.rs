//! fulgur-wire (issue 3, in progress).
