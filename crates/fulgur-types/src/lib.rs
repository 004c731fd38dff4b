//! Fulgur's L0 primitives shared by every layer: the Bitcoin network a node runs on, and (as
//! they are added) amounts and fee rates in the forms Core Lightning's interfaces accept.
//!
//! Nothing here does I/O.

pub mod network;

pub use network::{Network, UnknownNetwork};
