//! Fulgur's chain layer, free of I/O:
//!
//! - [`backend`]: the Bitcoin backend interface, Core Lightning's five backend-plugin methods
//!   (`getchaininfo`, `estimatefees`, `getrawblockbyheight`, `getutxout`,
//!   `sendrawtransaction`) as the [`ChainBackend`] trait, with their JSON shapes in
//!   [`backend::wire`];
//! - [`follower`]: a sans-IO state machine following the backend's best chain block by block,
//!   through reorgs of any depth, with [`watches`] on outpoints, scripts and confirmation
//!   depths;
//! - [`fees`]: CLN's fee-estimate bookkeeping (floor, history, smoothing, named rates, the
//!   `feerates` result) and the resolution of `feerate` parameters;
//! - [`block`]: fast hex and block decoding.

pub mod backend;
pub mod block;
pub mod fees;
pub mod follower;
pub mod watches;

pub use backend::{
    BackendError, BackendErrorKind, BackendFuture, BlockFeerate, ChainBackend, ChainInfo,
    FeeEstimates, FetchedBlock, SendResult, UtxOut,
};
pub use block::{decode_block, decode_block_hex, decode_hex, encode_hex, BlockDecodeError};
pub use fees::{FeeConfig, FeeratesResponse, Fees, NoFeeEstimates};
pub use follower::{Action, Follower, FollowerConfig, FollowerError, Input, Start};
pub use watches::{WatchEvent, Watches};
