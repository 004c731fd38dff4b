//! fulgur-cli binary.
fn main() {}
