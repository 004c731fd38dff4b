//! The Bitcoin backend interface: exactly the five methods Core Lightning asks of a Bitcoin
//! backend plugin (`doc/developers-guide/plugin-development/bitcoin-backend.md`), as an
//! object-safe trait returning boxed futures.
//!
//! | CLN method            | parameters                    | result                                  |
//! |-----------------------|-------------------------------|-----------------------------------------|
//! | `getchaininfo`        | `last_height` (optional)      | `chain`, `headercount`, `blockcount`, `ibd` |
//! | `estimatefees`        | —                             | `feerate_floor`, `feerates: [{blocks, feerate}]` (sat/kVB) |
//! | `getrawblockbyheight` | `height`                      | `blockhash`, `block` (hex), both `null` if no block there |
//! | `getutxout`           | `txid`, `vout`                | `amount` (sat), `script` (hex), both `null` if spent/unknown |
//! | `sendrawtransaction`  | `tx` (hex), `allowhighfees`   | `success`, `errmsg`                     |
//!
//! The Rust results are typed ([`ChainInfo`], [`FeeEstimates`], [`FetchedBlock`], [`UtxOut`],
//! [`SendResult`]); [`wire`] has the JSON request and response shapes, field for field, with
//! conversions, for talking to (or being) a CLN backend plugin.

use std::fmt;
use std::future::Future;
use std::pin::Pin;

use bitcoin::{Block, BlockHash, ScriptBuf, Transaction, Txid};
use fulgur_types::AmountSat;
use serde::{Deserialize, Serialize};

/// What every backend method returns: a boxed, `Send` future, so the trait stays object-safe
/// (`Arc<dyn ChainBackend>`) without an `async-trait` dependency.
pub type BackendFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, BackendError>> + Send + 'a>>;

/// A source of chain data and a way to broadcast: CLN's five Bitcoin-backend methods.
pub trait ChainBackend: Send + Sync {
    /// `getchaininfo`: the chain name (BIP 70: `main`, `test`, `testnet4`, `signet`,
    /// `regtest`), header and block counts, and whether the backend is in initial block
    /// download. `last_height` is the height the caller already knows, if any.
    fn getchaininfo(&self, last_height: Option<u32>) -> BackendFuture<'_, ChainInfo>;

    /// `estimatefees`: the relay floor and per-target estimates, in sat/kVB, targets
    /// ascending. No estimates at all is not an error (an empty `feerates`).
    fn estimatefees(&self) -> BackendFuture<'_, FeeEstimates>;

    /// `getrawblockbyheight`: the best chain's block at `height` with its hash, or `None` when
    /// there is no block at that height (yet).
    fn getrawblockbyheight(&self, height: u32) -> BackendFuture<'_, Option<FetchedBlock>>;

    /// `getutxout`: the output `txid:vout` if it exists and is unspent, `None` if it is spent
    /// or unknown.
    fn getutxout(&self, txid: Txid, vout: u32) -> BackendFuture<'_, Option<UtxOut>>;

    /// `sendrawtransaction`: broadcasts `tx`. `allowhighfees` lifts the backend's own
    /// maximum-fee check. A rejection is a [`SendResult`] with `success: false`, not an error;
    /// errors are for failing to ask at all.
    fn sendrawtransaction<'a>(
        &'a self,
        tx: &'a Transaction,
        allowhighfees: bool,
    ) -> BackendFuture<'a, SendResult>;
}

/// The `getchaininfo` result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainInfo {
    /// The chain's BIP 70 name, as bitcoind spells it: `main`, `test`, `testnet4`, `signet`,
    /// `regtest`.
    pub chain: String,
    /// The number of block headers the backend has.
    pub headercount: u32,
    /// The number of blocks the backend has (its best block height).
    pub blockcount: u32,
    /// Whether the backend is in initial block download.
    pub ibd: bool,
}

/// One `estimatefees` estimate: the rate for confirmation within `blocks` blocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockFeerate {
    /// The confirmation target, in blocks.
    pub blocks: u32,
    /// The rate, in satoshi per 1000 virtual bytes.
    pub feerate: u32,
}

/// The `estimatefees` result (CLN's "modern" shape, the only one v26.06 accepts): everything
/// in satoshi per 1000 virtual bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeeEstimates {
    /// The lowest rate the backend relays (e.g. 1000 with an empty mempool).
    pub feerate_floor: u32,
    /// Zero or more estimates, in ascending `blocks` order.
    pub feerates: Vec<BlockFeerate>,
}

impl FeeEstimates {
    /// What CLN's `bcli` answers when bitcoind cannot estimate: the standard floor of
    /// 1000 sat/kVB and no estimates.
    pub fn unavailable() -> FeeEstimates {
        FeeEstimates {
            feerate_floor: 1000,
            feerates: Vec::new(),
        }
    }
}

/// A block at a height, as `getrawblockbyheight` returns it (decoded).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchedBlock {
    /// The block's hash, as the backend reported it (checked against the header).
    pub hash: BlockHash,
    /// The block.
    pub block: Block,
}

/// An unspent output, as `getutxout` returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UtxOut {
    /// Its value.
    pub amount: AmountSat,
    /// Its scriptPubKey.
    pub script: ScriptBuf,
}

/// The `sendrawtransaction` result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendResult {
    /// Whether the backend accepted the transaction (or already had it confirmed).
    pub success: bool,
    /// Why it was rejected; empty on success.
    pub errmsg: String,
}

/// How a backend call failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackendErrorKind {
    /// The backend could not be reached or is not ready; retrying later may work.
    Transient,
    /// The backend answered something that makes no sense (bad JSON, bad hex, a block whose
    /// hash is not the one claimed...). Retrying may work if the backend recovers.
    Malformed,
    /// The backend refused in a way retrying will not change (bad credentials, wrong chain,
    /// unsupported call...).
    Permanent,
}

impl fmt::Display for BackendErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            BackendErrorKind::Transient => "unavailable",
            BackendErrorKind::Malformed => "returned garbage",
            BackendErrorKind::Permanent => "failed",
        })
    }
}

/// A failed backend call: the method, what kind of failure, and the underlying error.
#[derive(Debug, thiserror::Error)]
#[error("chain backend {kind} in {method}")]
pub struct BackendError {
    /// The CLN method name (`getrawblockbyheight`, ...).
    pub method: &'static str,
    /// What kind of failure.
    pub kind: BackendErrorKind,
    /// The cause.
    #[source]
    pub source: Box<dyn std::error::Error + Send + Sync>,
}

impl BackendError {
    /// An error of `kind` in `method`, caused by `source`.
    pub fn new(
        method: &'static str,
        kind: BackendErrorKind,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> BackendError {
        BackendError {
            method,
            kind,
            source: source.into(),
        }
    }

    /// A [`BackendErrorKind::Malformed`] error with a message.
    pub fn malformed(method: &'static str, why: impl fmt::Display) -> BackendError {
        BackendError::new(method, BackendErrorKind::Malformed, why.to_string())
    }

    /// Whether retrying later may succeed.
    pub fn is_transient(&self) -> bool {
        self.kind == BackendErrorKind::Transient
    }

    /// The error and its chain of causes, `: `-separated, for logs.
    pub fn chain(&self) -> String {
        let mut text = self.to_string();
        let mut source: Option<&(dyn std::error::Error + 'static)> = Some(self.source.as_ref());
        while let Some(s) = source {
            text.push_str(": ");
            text.push_str(&s.to_string());
            source = s.source();
        }
        text
    }
}

/// The JSON shapes of CLN's backend methods, field for field: what `lightningd` sends a backend
/// plugin and what it expects back. [`ChainInfo`], [`FeeEstimates`] and [`SendResult`]
/// serialize as their results directly; the two results with `null`-able fields have their
/// own types here.
pub mod wire {
    use bitcoin::consensus::encode;
    use bitcoin::{BlockHash, ScriptBuf, Txid};
    use fulgur_types::AmountSat;
    use serde::{Deserialize, Serialize};

    use super::{FetchedBlock, UtxOut};
    use crate::block::{self, BlockDecodeError, HexError};

    /// Why a backend plugin's answer could not be turned into a typed result.
    #[derive(Debug, thiserror::Error)]
    pub enum DecodeError {
        /// The block is not a valid hex-encoded block with the hash sent along.
        #[error(transparent)]
        Block(#[from] BlockDecodeError),
        /// A hex field is not hex.
        #[error(transparent)]
        Hex(#[from] HexError),
        /// One of two fields that are `null` together is `null`, the other not.
        #[error("'{present}' is set but '{missing}' is null")]
        Incomplete {
            /// The field that is set.
            present: &'static str,
            /// The field that is `null`.
            missing: &'static str,
        },
    }

    /// `getchaininfo` parameters.
    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
    pub struct GetChainInfoRequest {
        /// The height the caller knows, if any.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub last_height: Option<u32>,
    }

    /// `getrawblockbyheight` parameters.
    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct GetRawBlockByHeightRequest {
        /// The height of the block wanted.
        pub height: u32,
    }

    /// `getrawblockbyheight` result: both fields `null` when there is no block at the height.
    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct GetRawBlockByHeightResponse {
        /// The block hash, as hex (`null` if none).
        pub blockhash: Option<BlockHash>,
        /// The consensus-encoded block, as hex (`null` if none).
        pub block: Option<String>,
    }

    impl GetRawBlockByHeightResponse {
        /// Decodes the block and checks its hash. One field `null` without the other is
        /// reported as a missing block hash or an empty block.
        pub fn decode(&self) -> Result<Option<FetchedBlock>, DecodeError> {
            match (&self.blockhash, &self.block) {
                (None, None) => Ok(None),
                (Some(hash), Some(hex)) => Ok(Some(FetchedBlock {
                    hash: *hash,
                    block: block::decode_block_hex(hex, Some(*hash))?,
                })),
                (None, Some(_)) => Err(DecodeError::Incomplete {
                    present: "block",
                    missing: "blockhash",
                }),
                (Some(_), None) => Err(DecodeError::Incomplete {
                    present: "blockhash",
                    missing: "block",
                }),
            }
        }
    }

    impl From<Option<&FetchedBlock>> for GetRawBlockByHeightResponse {
        fn from(block: Option<&FetchedBlock>) -> Self {
            match block {
                None => GetRawBlockByHeightResponse {
                    blockhash: None,
                    block: None,
                },
                Some(b) => GetRawBlockByHeightResponse {
                    blockhash: Some(b.hash),
                    block: Some(block::encode_hex(&encode::serialize(&b.block))),
                },
            }
        }
    }

    /// `getutxout` parameters.
    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct GetUtxOutRequest {
        /// The transaction id.
        pub txid: Txid,
        /// The output index.
        pub vout: u32,
    }

    /// `getutxout` result: both fields `null` when the output is spent or unknown.
    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct GetUtxOutResponse {
        /// The value in satoshi.
        pub amount: Option<AmountSat>,
        /// The scriptPubKey as hex.
        pub script: Option<String>,
    }

    impl GetUtxOutResponse {
        /// The output, `None` when both fields are `null`; an error when only one is, or the
        /// script is not hex.
        pub fn decode(&self) -> Result<Option<UtxOut>, DecodeError> {
            match (&self.amount, &self.script) {
                (Some(amount), Some(script)) => Ok(Some(UtxOut {
                    amount: *amount,
                    script: ScriptBuf::from_bytes(block::decode_hex(script)?),
                })),
                (None, None) => Ok(None),
                (Some(_), None) => Err(DecodeError::Incomplete {
                    present: "amount",
                    missing: "script",
                }),
                (None, Some(_)) => Err(DecodeError::Incomplete {
                    present: "script",
                    missing: "amount",
                }),
            }
        }
    }

    impl From<Option<&UtxOut>> for GetUtxOutResponse {
        fn from(out: Option<&UtxOut>) -> Self {
            GetUtxOutResponse {
                amount: out.map(|o| o.amount),
                script: out.map(|o| block::encode_hex(o.script.as_bytes())),
            }
        }
    }

    /// `sendrawtransaction` parameters.
    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct SendRawTransactionRequest {
        /// The transaction, hex-encoded.
        pub tx: String,
        /// Whether to lift the backend's maximum-fee check.
        pub allowhighfees: bool,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::wire::*;
    use super::*;
    use serde_json::json;

    #[test]
    fn json_shapes_match_cln() {
        let info = ChainInfo {
            chain: "regtest".into(),
            headercount: 5,
            blockcount: 4,
            ibd: false,
        };
        assert_eq!(
            serde_json::to_value(&info).unwrap(),
            json!({"chain": "regtest", "headercount": 5, "blockcount": 4, "ibd": false})
        );
        let fees: FeeEstimates = serde_json::from_value(json!({
            "feerate_floor": 1000,
            "feerates": [{"blocks": 2, "feerate": 5000}, {"blocks": 6, "feerate": 4000}]
        }))
        .unwrap();
        assert_eq!(
            fees.feerates[1],
            BlockFeerate {
                blocks: 6,
                feerate: 4000
            }
        );
        assert_eq!(
            serde_json::to_value(FeeEstimates::unavailable()).unwrap(),
            json!({"feerate_floor": 1000, "feerates": []})
        );
        let none: GetRawBlockByHeightResponse = (None).into();
        assert_eq!(
            serde_json::to_value(&none).unwrap(),
            json!({"blockhash": null, "block": null})
        );
        assert_eq!(none.decode().unwrap(), None);
        let spent: GetUtxOutResponse = (None).into();
        assert_eq!(
            serde_json::to_value(&spent).unwrap(),
            json!({"amount": null, "script": null})
        );
        let out = UtxOut {
            amount: AmountSat::from_sat(1234),
            script: ScriptBuf::from_bytes(vec![0x00, 0x14]),
        };
        let shaped: GetUtxOutResponse = Some(&out).into();
        assert_eq!(
            serde_json::to_value(&shaped).unwrap(),
            json!({"amount": 1234, "script": "0014"})
        );
        assert_eq!(shaped.decode().unwrap(), Some(out));
        let sent = SendResult {
            success: false,
            errmsg: "nope".into(),
        };
        assert_eq!(
            serde_json::to_value(&sent).unwrap(),
            json!({"success": false, "errmsg": "nope"})
        );
    }

    #[test]
    fn raw_block_response_round_trips_and_checks() {
        let genesis = bitcoin::constants::genesis_block(bitcoin::Network::Regtest);
        let fetched = FetchedBlock {
            hash: genesis.block_hash(),
            block: genesis,
        };
        let resp: GetRawBlockByHeightResponse = Some(&fetched).into();
        let text = serde_json::to_string(&resp).unwrap();
        let back: GetRawBlockByHeightResponse = serde_json::from_str(&text).unwrap();
        assert_eq!(back.decode().unwrap(), Some(fetched.clone()));

        let mut wrong = back.clone();
        wrong.blockhash =
            Some(bitcoin::constants::genesis_block(bitcoin::Network::Bitcoin).block_hash());
        assert!(wrong.decode().is_err());
        let mut half = back.clone();
        half.block = None;
        assert!(half.decode().is_err());
        let mut garbage = back;
        garbage.block = Some("zz".into());
        assert!(garbage.decode().is_err());
    }

    #[test]
    fn errors_name_the_method_and_cause() {
        let e = BackendError::malformed("getutxout", "script is not hex");
        assert!(!e.is_transient());
        assert_eq!(
            e.chain(),
            "chain backend returned garbage in getutxout: script is not hex"
        );
        let e = BackendError::new("estimatefees", BackendErrorKind::Transient, "refused");
        assert!(e.is_transient());
    }
}
