//! fulgur-testkit (placeholder, filled in by issue 2).
