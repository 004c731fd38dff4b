//! Fulgur's L0 primitives shared by every layer: the Bitcoin network a node runs on, amounts
//! and fee rates in the forms Core Lightning's interfaces print and accept.
//!
//! Nothing here does I/O.

pub mod addrtype;
pub mod amount;
pub mod features;
pub mod feerate;
pub mod network;

pub use addrtype::AddrType;
pub use amount::{AmountMsat, AmountParseError, AmountSat};
pub use features::{Feature, Features};
pub use feerate::{
    FeerateName, FeerateParseError, FeeratePerKw, FeerateSpec, FeerateStyle, UnknownFeerateStyle,
};
pub use network::{Network, UnknownNetwork};
