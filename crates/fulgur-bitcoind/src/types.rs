//! The typed results of the bitcoind calls the node makes, with only the fields it reads
//! (bitcoind's extra fields are ignored, so newer versions keep working).

use bitcoin::BlockHash;
use serde::{Deserialize, Serialize};

/// Part of `getblockchaininfo`'s result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChainInfo {
    /// bitcoind's chain name: `main`, `test`, `testnet4`, `signet` or `regtest` (see
    /// [`fulgur_types::Network::from_bitcoind_chain`]).
    pub chain: String,
    /// The height of the best validated block.
    pub blocks: u64,
    /// The height of the best known header.
    pub headers: u64,
    /// The hash of the best validated block.
    pub bestblockhash: BlockHash,
    /// Whether bitcoind is still in initial block download.
    pub initialblockdownload: bool,
    /// Estimated fraction of the chain verified, 0 to 1.
    pub verificationprogress: f64,
}

/// Part of `getnetworkinfo`'s result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetworkInfo {
    /// The version as a number, e.g. `290000` for v29.0.0.
    pub version: u64,
    /// The user agent, e.g. `/Satoshi:29.0.0/`.
    pub subversion: String,
}

/// Part of `getmempoolinfo`'s result: the fee rates below which the mempool takes nothing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MempoolInfo {
    /// The current minimum fee rate to enter the mempool, in BTC/kvB.
    pub mempoolminfee: f64,
    /// The configured minimum relay fee rate, in BTC/kvB.
    pub minrelaytxfee: f64,
}

/// `estimatesmartfee`'s result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SmartFeeEstimate {
    /// The estimate in BTC/kvB; absent when bitcoind cannot estimate (then `errors` says why).
    #[serde(default)]
    pub feerate: Option<f64>,
    /// Why there is no estimate.
    #[serde(default)]
    pub errors: Option<Vec<String>>,
    /// The target the estimate is for (0 when there is none).
    #[serde(default)]
    pub blocks: u64,
}

/// A scriptPubKey as bitcoind describes it (only the hex is read).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScriptPubKeyInfo {
    /// The script, hex-encoded.
    pub hex: String,
}

/// `gettxout`'s result for an unspent output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TxOutInfo {
    /// Its value, in BTC.
    pub value: f64,
    /// Its script.
    #[serde(rename = "scriptPubKey")]
    pub script_pubkey: ScriptPubKeyInfo,
    /// Its confirmations (0 if in the mempool).
    #[serde(default)]
    pub confirmations: u64,
}

/// Converts a BTC amount as bitcoind prints it (a JSON number with up to 8 decimals) to
/// satoshi; `None` if negative, not finite, or more than 21 million BTC.
pub fn btc_to_sat(btc: f64) -> Option<u64> {
    if !btc.is_finite() || !(0.0..=21_000_000.0).contains(&btc) {
        return None;
    }
    // Exact for 8-decimal values in this range: the error of the product is far below 0.5.
    Some((btc * 100_000_000.0).round() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn btc_amounts_convert_exactly() {
        assert_eq!(btc_to_sat(0.0), Some(0));
        assert_eq!(btc_to_sat(0.00001), Some(1000));
        assert_eq!(btc_to_sat(0.00000001), Some(1));
        assert_eq!(btc_to_sat(20_999_999.976_9), Some(2_099_999_997_690_000));
        assert_eq!(btc_to_sat(1.23456789), Some(123_456_789));
        assert_eq!(btc_to_sat(-0.1), None);
        assert_eq!(btc_to_sat(f64::NAN), None);
        assert_eq!(btc_to_sat(f64::INFINITY), None);
        assert_eq!(btc_to_sat(21_000_000.1), None);
    }

    #[test]
    fn estimatesmartfee_results_parse() {
        let ok: SmartFeeEstimate = serde_json::from_str(r#"{"feerate":0.00012345,"blocks":2}"#)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(ok.feerate.and_then(btc_to_sat), Some(12_345));
        let none: SmartFeeEstimate = serde_json::from_str(
            r#"{"errors":["Insufficient data or no feerate found"],"blocks":0}"#,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(none.feerate, None);
        assert!(serde_json::from_str::<SmartFeeEstimate>(r#"{"feerate":"x"}"#).is_err());
    }
}
