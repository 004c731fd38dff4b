//! The node's SQLite database (an L3 adapter): one file per node,
//! `<lightning-dir>/<network>/fulgur.sqlite3`.
//!
//! It holds the chain as the node processed it, the on-chain wallet's keys and coins, our
//! transactions, coin reservations, prepared transactions and channels. The API is synchronous; the node
//! wraps a [`Store`] in a mutex or a blocking task. Every logical change is one SQLite
//! transaction, and writers take the lock up front (`BEGIN IMMEDIATE`), so two operations can
//! never both reserve the same coins, even from separate handles or processes.
//!
//! What is stored, and how, is documented in `docs/storage.md`.

mod chain;
mod channels;
mod coins;
mod error;
mod keys;
mod peers;
mod prepared;
mod schema;
mod store;
mod types;

pub use channels::{ChannelRow, HtlcQuery, HtlcRow, StoredHtlc};
pub use error::{ReserveError, SelectError, StoreError};
pub use keys::{MAX_KEYINDEX, VAR_MAX_KEYINDEX};
pub use schema::{MIGRATIONS, SCHEMA_VERSION};
pub use store::{Store, BUSY_TIMEOUT, DB_FILENAME};
pub use types::{
    AddrType, AddrTypeDb, AvailableOutput, BlockConnect, BroadcastTx, NewOutput, OutputFilter,
    OutputInfo, OutputState, PreparedTx, ReservationChange, Selection, StoredTx, COINBASE_MATURITY,
};
