//! The values the store takes and gives back.

use bitcoin::{Amount, BlockHash, OutPoint, ScriptBuf, Txid};

/// Blocks a coinbase output must be buried under before we spend it, counted as CLN does: a
/// coinbase output confirmed at height `c` is immature while `c + COINBASE_MATURITY > current`.
pub const COINBASE_MATURITY: u32 = 100;

pub use fulgur_types::AddrType;

/// How an address type is stored in the `addrtype` columns. The numbers are append-only
/// (never reuse or renumber one; `addrtype_numbers_are_pinned` checks them).
pub trait AddrTypeDb: Sized {
    /// The number stored.
    fn to_db(self) -> i64;
    /// The type stored as `n`, if this code knows it.
    fn from_db(n: i64) -> Option<Self>;
}

impl AddrTypeDb for AddrType {
    fn to_db(self) -> i64 {
        match self {
            AddrType::Bech32 => 0,
            AddrType::P2tr => 1,
            AddrType::P2shSegwit => 2,
        }
    }

    fn from_db(n: i64) -> Option<AddrType> {
        match n {
            0 => Some(AddrType::Bech32),
            1 => Some(AddrType::P2tr),
            2 => Some(AddrType::P2shSegwit),
            _ => None,
        }
    }
}

/// One of our outputs, as the chain follower or the wallet found it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOutput {
    /// Where it is.
    pub outpoint: OutPoint,
    /// Its value.
    pub amount: Amount,
    /// Its scriptPubKey.
    pub script_pubkey: ScriptBuf,
    /// The BIP 32 index of the wallet key it pays to.
    pub keyindex: u32,
    /// How that key is used in the script.
    pub addrtype: AddrType,
    /// Whether it is change from a transaction of ours.
    pub is_change: bool,
    /// Whether it is an output of a coinbase transaction (subject to maturity).
    pub is_coinbase: bool,
}

/// Everything that block `height` changes for us, applied by [`crate::Store::connect_block`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockConnect {
    /// Its height.
    pub height: u32,
    /// Its hash.
    pub hash: BlockHash,
    /// Its parent's hash: must be the stored hash at `height - 1`.
    pub prev_hash: BlockHash,
    /// Our outputs created in this block.
    pub new_outputs: Vec<NewOutput>,
    /// Our outputs spent in this block, with the spending transaction.
    pub spends: Vec<(OutPoint, Txid)>,
    /// Our transactions in this block: txid, serialized transaction, position in the block.
    pub transactions: Vec<(Txid, Vec<u8>, u32)>,
}

/// A transaction of ours about to be broadcast, recorded by [`crate::Store::record_broadcast`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BroadcastTx {
    /// Its txid.
    pub txid: Txid,
    /// The serialized (signed) transaction.
    pub raw: Vec<u8>,
    /// The inputs it spends (those that are not ours are ignored).
    pub spends: Vec<OutPoint>,
    /// Its outputs that pay to us (change).
    pub new_outputs: Vec<NewOutput>,
}

/// The state of an output as CLN's `listfunds` names it (`status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OutputState {
    /// Not in a block (yet, or any more after a reorg).
    Unconfirmed,
    /// In a block.
    Confirmed,
    /// A coinbase output in a block, not yet [`COINBASE_MATURITY`] deep.
    Immature,
    /// Spent by a transaction in a block.
    Spent,
}

impl OutputState {
    /// CLN's name: `unconfirmed`, `confirmed`, `immature` or `spent`.
    pub const fn as_str(self) -> &'static str {
        match self {
            OutputState::Unconfirmed => "unconfirmed",
            OutputState::Confirmed => "confirmed",
            OutputState::Immature => "immature",
            OutputState::Spent => "spent",
        }
    }
}

/// Which outputs [`crate::Store::outputs`] lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OutputFilter {
    /// Every output whose state is not [`OutputState::Spent`] (`listfunds`).
    #[default]
    Unspent,
    /// Every output (`listfunds spent=true`).
    All,
}

/// One of our outputs with its state at a given height.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputInfo {
    /// Where it is.
    pub outpoint: OutPoint,
    /// Its value.
    pub amount: Amount,
    /// Its scriptPubKey.
    pub script_pubkey: ScriptBuf,
    /// The BIP 32 index of the wallet key it pays to.
    pub keyindex: u32,
    /// How that key is used in the script.
    pub addrtype: AddrType,
    /// Whether it is change from a transaction of ours.
    pub is_change: bool,
    /// Whether it is a coinbase output.
    pub is_coinbase: bool,
    /// The block it is in, if any.
    pub confirmation_height: Option<u32>,
    /// The transaction that spends it, if known (from a block, or our own broadcast).
    pub spend_txid: Option<Txid>,
    /// The block the spend is in, if any.
    pub spend_height: Option<u32>,
    /// Its state as `listfunds` names it.
    pub state: OutputState,
    /// Whether it is reserved at the height asked about (`reserved_to_block > height`).
    pub reserved: bool,
    /// The block its reservation expires at, when `reserved`.
    pub reserved_to_block: Option<u32>,
}

/// An output that may be spent now: unspent (not even by an unconfirmed transaction of ours),
/// not reserved, and not an immature coinbase output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AvailableOutput {
    /// Where it is.
    pub outpoint: OutPoint,
    /// Its value.
    pub amount: Amount,
    /// Its scriptPubKey.
    pub script_pubkey: ScriptBuf,
    /// The BIP 32 index of the wallet key it pays to.
    pub keyindex: u32,
    /// How that key is used in the script.
    pub addrtype: AddrType,
    /// Whether it is change from a transaction of ours.
    pub is_change: bool,
    /// The block it is in, if any.
    pub confirmation_height: Option<u32>,
}

impl AvailableOutput {
    /// Its confirmations at `current_height` (1 in the block that confirmed it; 0 unconfirmed).
    pub fn confirmations(&self, current_height: u32) -> u32 {
        match self.confirmation_height {
            Some(h) if h <= current_height => current_height - h + 1,
            _ => 0,
        }
    }
}

/// What a reservation call did to one output (the fields of CLN's `reserveinputs` and
/// `unreserveinputs` results).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReservationChange {
    /// The output.
    pub outpoint: OutPoint,
    /// Whether it was reserved before the call.
    pub was_reserved: bool,
    /// Whether it is reserved after the call.
    pub reserved: bool,
    /// The block its reservation expires at, when `reserved`.
    pub reserved_to_block: Option<u32>,
}

/// The outputs [`crate::Store::select_and_reserve`] reserved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selection {
    /// The chosen outputs, in the order the selection function returned them.
    pub outputs: Vec<AvailableOutput>,
    /// The block their reservation expires at.
    pub reserved_to_block: u32,
}

/// A transaction of ours as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredTx {
    /// Its txid.
    pub txid: Txid,
    /// The serialized transaction.
    pub raw: Vec<u8>,
    /// The block it is in, if any.
    pub blockheight: Option<u32>,
    /// Its position in that block (`None` when unconfirmed).
    pub txindex: Option<u32>,
}

/// A transaction prepared by `txprepare`, awaiting `txsend` or `txdiscard`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreparedTx {
    /// The txid of its unsigned transaction.
    pub txid: Txid,
    /// The PSBT, serialized as BIP 174 binary.
    pub psbt: Vec<u8>,
    /// The block height when it was prepared.
    pub created_height: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addrtype_numbers_are_pinned() {
        // These numbers are on disk: append new types, never change these.
        assert_eq!(AddrType::Bech32.to_db(), 0);
        assert_eq!(AddrType::P2tr.to_db(), 1);
        assert_eq!(AddrType::P2shSegwit.to_db(), 2);
        for t in AddrType::ALL {
            assert_eq!(AddrType::from_db(t.to_db()), Some(t));
        }
        assert_eq!(AddrType::from_db(3), None);
        assert_eq!(AddrType::from_db(-1), None);
        assert_eq!(AddrType::Bech32.name(), "bech32");
        assert_eq!(AddrType::P2tr.name(), "p2tr");
    }

    #[test]
    fn output_state_names_are_clns() {
        assert_eq!(OutputState::Unconfirmed.as_str(), "unconfirmed");
        assert_eq!(OutputState::Confirmed.as_str(), "confirmed");
        assert_eq!(OutputState::Immature.as_str(), "immature");
        assert_eq!(OutputState::Spent.as_str(), "spent");
    }

    #[test]
    fn confirmations_count_the_confirming_block() {
        let mut o = AvailableOutput {
            outpoint: OutPoint::null(),
            amount: Amount::from_sat(1),
            script_pubkey: ScriptBuf::new(),
            keyindex: 1,
            addrtype: AddrType::P2tr,
            is_change: false,
            confirmation_height: None,
        };
        assert_eq!(o.confirmations(100), 0);
        o.confirmation_height = Some(100);
        assert_eq!(o.confirmations(100), 1);
        assert_eq!(o.confirmations(105), 6);
        assert_eq!(o.confirmations(99), 0);
    }
}
