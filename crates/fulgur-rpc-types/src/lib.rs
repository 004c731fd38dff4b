//! The JSON-RPC interface of Core Lightning v26.06 as data, with no I/O: the request envelope
//! and its validation, the error codes, positional and named parameters with CLN's messages,
//! and the `filter` member. The server (`fulgur-rpc`) and every command build on these.

pub mod envelope;
pub mod error;
pub mod filter;
pub mod framing;
pub mod params;

pub use envelope::{parse_request, Malformed, Request};
pub use error::{codes, RpcError};
pub use filter::Filter;
pub use params::{parse_params, usage, TokenEcho};
pub use params::{ParamKind, ParamSpec, ParamValue, Params};
