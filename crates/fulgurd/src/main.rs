//! fulgurd binary.
fn main() {}
