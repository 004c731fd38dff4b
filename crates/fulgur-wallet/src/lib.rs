//! Fulgur's on-chain wallet logic, compatible with Core Lightning's wallet so that an
//! operator's existing CLN `hsm_secret` gives the same addresses and funds.
//!
//! - [`keys`]: the wallet's BIP32 keys, addresses and scripts from `hsm_secret`;
//! - [`script_index`]: recognising our scripts (key index plus look-ahead gap);
//! - [`scan`]: our outputs and spends in a block;
//! - [`weight`] and [`coinselect`]: CLN's weight estimates and `fundpsbt`/`utxopsbt`
//!   selection, with its error codes and messages;
//! - [`psbt`]: unsigned PSBTs, signing our inputs, finalizing;
//! - [`message`]: `signmessage`/`checkmessage`, with [`zbase32`].
//!
//! Sans-IO: nothing here touches files, sockets or clocks, and randomness is passed in.

pub mod coinselect;
pub mod keys;
pub mod message;
pub mod psbt;
pub mod scan;
pub mod script_index;
pub mod weight;
pub mod zbase32;

pub use coinselect::{
    fund, prepare_outputs, Coin, FundError, FundParams, Funding, OutputAmount, OutputRequest,
    PreparedOutputs, Target,
};
pub use keys::{AddrType, Derivation, KeyError, WalletKeys, FIRST_KEY_INDEX};
pub use message::{check_message, sign_message, CheckedMessage, MessageError, SignedMessage};
pub use psbt::{
    add_output_origins, build_psbt, decode_psbt, default_locktime, extract_tx, finalize_psbt,
    sign_psbt, BuiltPsbt, Change, OwnedInput, PsbtError,
};
pub use scan::{scan_block, BlockScan, FoundOutput, FoundSpend, RelevantTx};
pub use script_index::{ScriptIndex, ScriptOrigin};
