//! bitcoind as a [`ChainBackend`]: Core Lightning's five backend methods answered the way its
//! `bcli` plugin answers them, over this crate's JSON-RPC client.
//!
//! - `getchaininfo`: `getblockchaininfo` (`chain`, `headers`, `blocks`,
//!   `initialblockdownload`).
//! - `estimatefees`: the floor is the larger of `getmempoolinfo`'s `mempoolminfee` and
//!   `minrelaytxfee`; then `estimatesmartfee` for 2 blocks `CONSERVATIVE` and 6, 12, 100
//!   blocks `ECONOMICAL`. Estimates below the floor are raised to it, ones above `u32::MAX`
//!   trimmed. If bitcoind cannot estimate one target (or refuses a call) the answer is CLN's
//!   "no estimates": floor 1000, no rates — except on regtest (or with
//!   [`BitcoindBackend::with_fake_fees`]), where a missing estimate is faked at 1000 sat/kVB,
//!   as `bcli` does.
//! - `getrawblockbyheight`: `getblockhash` (an out-of-range height, error -8, means no block:
//!   `None`), then `getblock <hash> 0`, decoded and checked against the hash.
//! - `getutxout`: `gettxout <txid> <vout>` (mempool included); `null` means spent or unknown.
//! - `sendrawtransaction`: `sendrawtransaction <hex>`, with a `maxfeerate` of 0 when
//!   `allowhighfees`. A rejection is `success: false` with `errmsg` as `bitcoin-cli` prints
//!   it (`error code: -26\nerror message:\n...`); "already in the UTXO set" (-27) counts as
//!   success, as `bcli` intends.
//!
//! Transient failures (bitcoind down, warming up, overloaded, slow) are retried with growing
//! pauses for up to [`RetryPolicy::max_wait`] (CLN's `--bitcoin-retry-timeout`, 60 s), each
//! retry logged with the reason. Anything bitcoind sends that does not parse is an error of
//! kind [`BackendErrorKind::Malformed`], never a panic.

use std::future::Future;
use std::time::Duration;

use bitcoin::consensus::encode;
use bitcoin::{BlockHash, ScriptBuf, Transaction, Txid};
use fulgur_chain::backend::{
    BackendError, BackendErrorKind, BackendFuture, BlockFeerate, ChainBackend, ChainInfo,
    FeeEstimates, FetchedBlock, SendResult, UtxOut,
};
use fulgur_chain::fees::{BCLI_TARGETS, REGTEST_FALLBACK_PERKB};
use fulgur_types::{AmountSat, Network};
use tokio::time::Instant;

use crate::client::BitcoindClient;
use crate::error::{BitcoindError, RPC_INVALID_PARAMETER, RPC_VERIFY_ALREADY_IN_UTXO_SET};
use crate::types::btc_to_sat;

/// How long and how often transient failures are retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Give up (returning the last error) once this much time has passed since the first
    /// attempt. Zero means a single attempt.
    pub max_wait: Duration,
    /// The first pause.
    pub first_delay: Duration,
    /// The longest pause (pauses double up to it).
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    /// 60 s (CLN's default `--bitcoin-retry-timeout`), pauses from 100 ms doubling to 2 s.
    fn default() -> Self {
        RetryPolicy {
            max_wait: Duration::from_secs(60),
            first_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(2),
        }
    }
}

impl RetryPolicy {
    /// One attempt, no retries.
    pub fn no_retry() -> RetryPolicy {
        RetryPolicy {
            max_wait: Duration::ZERO,
            ..RetryPolicy::default()
        }
    }
}

/// bitcoind behind CLN's backend interface. Cheap to clone.
#[derive(Debug, Clone)]
pub struct BitcoindBackend {
    client: BitcoindClient,
    retry: RetryPolicy,
    fake_fees: bool,
}

impl BitcoindBackend {
    /// A backend over `client`, with the default [`RetryPolicy`]; fees are faked when bitcoind
    /// cannot estimate only if the client is configured for regtest.
    pub fn new(client: BitcoindClient) -> BitcoindBackend {
        let fake_fees = client.config().network == Network::Regtest;
        BitcoindBackend {
            client,
            retry: RetryPolicy::default(),
            fake_fees,
        }
    }

    /// This backend with another retry policy.
    pub fn with_retry(mut self, retry: RetryPolicy) -> BitcoindBackend {
        self.retry = retry;
        self
    }

    /// This backend faking missing estimates at 1000 sat/kVB (`true`) or reporting no
    /// estimates (`false`) — CLN's `--dev-no-fake-fees` is `false` on regtest.
    pub fn with_fake_fees(mut self, fake: bool) -> BitcoindBackend {
        self.fake_fees = fake;
        self
    }

    /// The client.
    pub fn client(&self) -> &BitcoindClient {
        &self.client
    }

    /// Runs `call` until it succeeds, fails for good, or transient failures outlast
    /// [`RetryPolicy::max_wait`].
    async fn retry<T, F, Fut>(&self, method: &'static str, mut call: F) -> Result<T, BitcoindError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, BitcoindError>>,
    {
        let deadline = Instant::now() + self.retry.max_wait;
        let mut delay = self.retry.first_delay;
        let mut attempt = 1u32;
        loop {
            match call().await {
                Ok(v) => {
                    if attempt > 1 {
                        tracing::info!(method, attempt, "bitcoind answered again");
                    }
                    return Ok(v);
                }
                Err(e) if e.is_transient() && Instant::now() + delay < deadline => {
                    tracing::warn!(
                        method,
                        attempt,
                        retry_in = ?delay,
                        reason = %describe(&e),
                        "bitcoind call failed; retrying"
                    );
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(self.retry.max_delay);
                    attempt += 1;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// `getchaininfo`.
    pub async fn chain_info(&self) -> Result<ChainInfo, BackendError> {
        const M: &str = "getchaininfo";
        let info = self
            .retry(M, || self.client.getblockchaininfo())
            .await
            .map_err(|e| backend_error(M, e))?;
        let count = |n: u64, what: &str| {
            u32::try_from(n)
                .map_err(|_| BackendError::malformed(M, format!("{what} {n} is too large")))
        };
        Ok(ChainInfo {
            headercount: count(info.headers, "header count")?,
            blockcount: count(info.blocks, "block count")?,
            chain: info.chain,
            ibd: info.initialblockdownload,
        })
    }

    /// `estimatefees`.
    pub async fn estimate_fees(&self) -> Result<FeeEstimates, BackendError> {
        const M: &str = "estimatefees";
        let mempool = match self.retry(M, || self.client.getmempoolinfo()).await {
            Ok(info) => info,
            Err(e @ BitcoindError::Rpc { .. }) => {
                tracing::debug!(reason = %describe(&e), "getmempoolinfo refused: no fee estimates");
                return Ok(FeeEstimates::unavailable());
            }
            Err(e) => return Err(backend_error(M, e)),
        };
        let floor = match (
            btc_to_sat(mempool.mempoolminfee),
            btc_to_sat(mempool.minrelaytxfee),
        ) {
            (Some(a), Some(b)) => a.max(b),
            _ => {
                return Err(BackendError::malformed(
                    M,
                    format!(
                        "getmempoolinfo fee rates {} / {} are not amounts",
                        mempool.mempoolminfee, mempool.minrelaytxfee
                    ),
                ))
            }
        };
        let mut feerates = Vec::with_capacity(BCLI_TARGETS.len());
        for (blocks, mode) in BCLI_TARGETS {
            let estimate = match self
                .retry(M, || self.client.estimatesmartfee(blocks, mode.name()))
                .await
            {
                Ok(est) => est,
                Err(e @ BitcoindError::Rpc { .. }) => {
                    tracing::debug!(blocks, reason = %describe(&e), "estimatesmartfee refused: no fee estimates");
                    return Ok(FeeEstimates::unavailable());
                }
                Err(e) => return Err(backend_error(M, e)),
            };
            let perkb = match estimate.feerate {
                Some(btc) => btc_to_sat(btc).ok_or_else(|| {
                    BackendError::malformed(
                        M,
                        format!("estimatesmartfee feerate {btc} is not an amount"),
                    )
                })?,
                None if self.fake_fees => u64::from(REGTEST_FALLBACK_PERKB),
                None => {
                    tracing::debug!(
                        blocks,
                        errors = ?estimate.errors,
                        "bitcoind cannot estimate fees"
                    );
                    return Ok(FeeEstimates::unavailable());
                }
            };
            if perkb == 0 {
                continue;
            }
            let perkb = if perkb > u64::from(u32::MAX) {
                tracing::warn!(blocks, perkb, "feerate is ridiculous: trimming to 32 bits");
                u32::MAX
            } else {
                perkb as u32
            };
            let floor32 = u32::try_from(floor).unwrap_or(u32::MAX);
            feerates.push(BlockFeerate {
                blocks,
                feerate: perkb.max(floor32),
            });
        }
        Ok(FeeEstimates {
            feerate_floor: u32::try_from(floor).unwrap_or(u32::MAX),
            feerates,
        })
    }

    /// `getrawblockbyheight`.
    pub async fn raw_block_by_height(
        &self,
        height: u32,
    ) -> Result<Option<FetchedBlock>, BackendError> {
        const M: &str = "getrawblockbyheight";
        if i32::try_from(height).is_err() {
            // bitcoind takes heights as 32-bit signed integers; no block can be that high.
            return Ok(None);
        }
        let hash: BlockHash = match self
            .retry(M, || self.client.getblockhash(u64::from(height)))
            .await
        {
            Ok(hash) => hash,
            Err(e) if e.rpc_code() == Some(RPC_INVALID_PARAMETER) => return Ok(None),
            Err(e) => return Err(backend_error(M, e)),
        };
        let hex = self
            .retry(M, || self.client.getblock_hex(&hash))
            .await
            .map_err(|e| backend_error(M, e))?;
        let block = fulgur_chain::decode_block_hex(&hex, Some(hash))
            .map_err(|e| BackendError::new(M, BackendErrorKind::Malformed, e))?;
        Ok(Some(FetchedBlock { hash, block }))
    }

    /// `getutxout`.
    pub async fn utxout(&self, txid: Txid, vout: u32) -> Result<Option<UtxOut>, BackendError> {
        const M: &str = "getutxout";
        let Some(out) = self
            .retry(M, || self.client.gettxout(&txid, vout))
            .await
            .map_err(|e| backend_error(M, e))?
        else {
            return Ok(None);
        };
        let sat = btc_to_sat(out.value).ok_or_else(|| {
            BackendError::malformed(M, format!("value {} is not an amount", out.value))
        })?;
        let script = fulgur_chain::decode_hex(&out.script_pubkey.hex)
            .map_err(|e| BackendError::new(M, BackendErrorKind::Malformed, e))?;
        Ok(Some(UtxOut {
            amount: AmountSat::from_sat(sat),
            script: ScriptBuf::from_bytes(script),
        }))
    }

    /// `sendrawtransaction`.
    pub async fn send_raw_transaction(
        &self,
        tx: &Transaction,
        allowhighfees: bool,
    ) -> Result<SendResult, BackendError> {
        const M: &str = "sendrawtransaction";
        let hex = fulgur_chain::encode_hex(&encode::serialize(tx));
        let maxfeerate = allowhighfees.then_some(0.0);
        let result = self
            .retry(M, || self.client.sendrawtransaction(&hex, maxfeerate))
            .await;
        tracing::debug!(txid = %tx.compute_txid(), ok = result.is_ok(), "sendrawtransaction");
        match result {
            Ok(_txid) => Ok(SendResult {
                success: true,
                errmsg: String::new(),
            }),
            Err(BitcoindError::Rpc { code, message, .. }) => Ok(SendResult {
                success: code == RPC_VERIFY_ALREADY_IN_UTXO_SET,
                errmsg: format!("error code: {code}\nerror message:\n{message}"),
            }),
            Err(e) => Err(backend_error(M, e)),
        }
    }
}

impl ChainBackend for BitcoindBackend {
    fn getchaininfo(&self, _last_height: Option<u32>) -> BackendFuture<'_, ChainInfo> {
        Box::pin(self.chain_info())
    }

    fn estimatefees(&self) -> BackendFuture<'_, FeeEstimates> {
        Box::pin(self.estimate_fees())
    }

    fn getrawblockbyheight(&self, height: u32) -> BackendFuture<'_, Option<FetchedBlock>> {
        Box::pin(self.raw_block_by_height(height))
    }

    fn getutxout(&self, txid: Txid, vout: u32) -> BackendFuture<'_, Option<UtxOut>> {
        Box::pin(self.utxout(txid, vout))
    }

    fn sendrawtransaction<'a>(
        &'a self,
        tx: &'a Transaction,
        allowhighfees: bool,
    ) -> BackendFuture<'a, SendResult> {
        Box::pin(self.send_raw_transaction(tx, allowhighfees))
    }
}

/// The kind of backend error a client error is.
fn kind_of(e: &BitcoindError) -> BackendErrorKind {
    if e.is_transient() {
        return BackendErrorKind::Transient;
    }
    match e {
        BitcoindError::Malformed { .. }
        | BitcoindError::UnexpectedResult { .. }
        | BitcoindError::ResponseTooLarge { .. } => BackendErrorKind::Malformed,
        _ => BackendErrorKind::Permanent,
    }
}

fn backend_error(method: &'static str, e: BitcoindError) -> BackendError {
    BackendError::new(method, kind_of(&e), e)
}

/// An error with its causes, for logs.
fn describe(e: &BitcoindError) -> String {
    use std::error::Error;
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

#[cfg(test)]
mod tests {
    // Tests fail loudly on purpose.
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn client_errors_map_to_backend_kinds() {
        let rpc = |code| BitcoindError::Rpc {
            addr: "h:1".into(),
            method: "m".into(),
            code,
            message: "x".into(),
        };
        assert_eq!(kind_of(&rpc(-28)), BackendErrorKind::Transient);
        assert_eq!(kind_of(&rpc(-5)), BackendErrorKind::Permanent);
        let bad = BitcoindError::UnexpectedResult {
            addr: "h:1".into(),
            method: "m".into(),
            source: serde_json::from_str::<u32>("x").unwrap_err(),
        };
        assert_eq!(kind_of(&bad), BackendErrorKind::Malformed);
        let e = backend_error("getutxout", bad);
        assert!(
            e.chain().contains("unexpected result from bitcoind at h:1"),
            "{}",
            e.chain()
        );
    }
}
