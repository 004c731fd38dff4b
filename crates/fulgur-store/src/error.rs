//! Typed errors of the store.

use bitcoin::{OutPoint, Txid};

/// An error from the store. Messages are lower-case, without a final full stop.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite reported an error (I/O, a constraint, a busy timeout, ...).
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The database was written by a newer Fulgur: it has migrations this code does not know.
    #[error(
        "database schema version {found} is newer than this fulgur knows ({known}); \
         refusing to open it (upgrade fulgur)"
    )]
    NewerSchema {
        /// The version recorded in the database.
        found: u32,
        /// The newest version this code knows.
        known: u32,
    },
    /// SQLite would not put the database in WAL mode (it reported another journal mode).
    #[error("database refused write-ahead logging (journal mode is {mode:?})")]
    WalUnavailable {
        /// The journal mode SQLite reported.
        mode: String,
    },
    /// A block's `prev_hash` is not the stored hash at `height - 1` (or there is no block there
    /// although the table is not empty).
    #[error("block {height} does not connect: its prev_hash is not the stored block below it")]
    PrevHashMismatch {
        /// The height of the block that was refused.
        height: u32,
    },
    /// A block is already stored at this height; disconnect it first.
    #[error("a block is already stored at height {height}")]
    BlockExists {
        /// The height of the block that was refused.
        height: u32,
    },
    /// The highest BIP 32 non-hardened index (2^31 - 1) has been issued.
    #[error("wallet keys exhausted: all non-hardened bip32 indices are issued")]
    KeysExhausted,
    /// An output we are recording a broadcast for is already spent in a block by another
    /// transaction.
    #[error("output {outpoint} is already spent in a block by {spend_txid}")]
    SpentInBlock {
        /// The output.
        outpoint: OutPoint,
        /// The transaction that spent it in a block.
        spend_txid: Txid,
    },
    /// The transaction to forget is confirmed.
    #[error("transaction {txid} is confirmed; it cannot be forgotten")]
    TxConfirmed {
        /// The transaction.
        txid: Txid,
    },
    /// The transaction to forget has an output that is already spent (by a child transaction).
    #[error("transaction {txid} has an output that is already spent; forget the child first")]
    TxHasSpentOutput {
        /// The transaction.
        txid: Txid,
    },
    /// A value does not fit the column it goes to (or came from).
    #[error("value out of range for {what}")]
    OutOfRange {
        /// What the value is.
        what: &'static str,
    },
    /// The database holds a value this code cannot interpret.
    #[error("corrupt database: {0}")]
    Corrupt(String),
}

/// Why [`crate::Store::reserve`] changed nothing.
#[derive(Debug, thiserror::Error)]
pub enum ReserveError {
    /// The outpoint is not one of our outputs.
    #[error("unknown output {0}")]
    Unknown(OutPoint),
    /// The output is spent (in a block, or by a transaction we broadcast).
    #[error("output {0} is already spent")]
    Spent(OutPoint),
    /// The reservation is exclusive and the output is reserved beyond the current height.
    #[error("output {outpoint} is already reserved until block {until}")]
    AlreadyReserved {
        /// The output.
        outpoint: OutPoint,
        /// The block its reservation expires at.
        until: u32,
    },
    /// The same outpoint appears twice in the request.
    #[error("output {0} is listed twice")]
    Duplicate(OutPoint),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<rusqlite::Error> for ReserveError {
    fn from(e: rusqlite::Error) -> Self {
        Self::Store(StoreError::Sqlite(e))
    }
}

/// Why [`crate::Store::select_and_reserve`] reserved nothing.
#[derive(Debug, thiserror::Error)]
pub enum SelectError<E> {
    /// The selection function failed (e.g. insufficient funds); its error.
    #[error("{0}")]
    Select(E),
    /// The selection function chose an outpoint that was not offered to it.
    #[error("selected output {0} is not available")]
    NotAvailable(OutPoint),
    /// The selection function chose the same outpoint twice.
    #[error("selected output {0} twice")]
    Duplicate(OutPoint),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl<E> From<rusqlite::Error> for SelectError<E> {
    fn from(e: rusqlite::Error) -> Self {
        Self::Store(StoreError::Sqlite(e))
    }
}
