//! The node's link to the chain: reach bitcoind and check its network, then follow it block
//! by block with the sans-IO follower (`fulgur-chain`), reorgs included. Each block is scanned
//! for our coins and stored in one database transaction before the next is fetched; the
//! processed height is what `getinfo.blockheight` and `waitblockheight` see. Fee estimates are
//! refreshed on the same schedule. While bitcoind cannot be used, the reason is logged once
//! per change and polling goes on; the RPC server keeps answering.

use crate::onchain::Onchain;
use fulgur_bitcoind::{BitcoindBackend, BitcoindError};
use fulgur_chain::{Action, Fees, FetchedBlock, Follower, FollowerConfig, Input, Start};
use fulgur_store::{BlockConnect, NewOutput};
use std::collections::VecDeque;
use std::sync::{Arc, RwLock};
use std::time::Duration;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

/// How many blocks between two rebroadcasts of our unconfirmed transactions.
const REBROADCAST_EVERY: u64 = 6;

/// What the node knows of the chain, as `getinfo` shows it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ChainStatus {
    /// The last block the node processed (0 before the first).
    pub blockheight: u64,
    /// bitcoind's best validated block.
    pub bitcoind_blocks: u64,
    /// bitcoind's best known header height.
    pub headers: u64,
    /// bitcoind is still in initial block download.
    pub initial_block_download: bool,
    /// Why bitcoind cannot be used right now, if it cannot.
    pub problem: Option<String>,
    /// Whether bitcoind has answered at least once.
    pub connected_once: bool,
}

impl ChainStatus {
    /// The `warning_bitcoind_sync` text, when there is something to warn about.
    pub fn bitcoind_warning(&self) -> Option<String> {
        if let Some(p) = &self.problem {
            return Some(format!("Cannot use bitcoind: {p}"));
        }
        if !self.connected_once {
            return Some("Waiting for the first answer from bitcoind.".to_string());
        }
        if self.initial_block_download || self.bitcoind_blocks < self.headers {
            return Some("Bitcoind is not up-to-date with network.".to_string());
        }
        None
    }

    /// The `warning_lightningd_sync` text, while the node is behind bitcoind.
    pub fn lightningd_warning(&self) -> Option<String> {
        (self.connected_once && self.blockheight < self.bitcoind_blocks)
            .then(|| "Lightningd is still loading latest blocks from bitcoind.".to_string())
    }
}

fn describe(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let s_text = s.to_string();
        if !text.contains(&s_text) {
            text.push_str(": ");
            text.push_str(&s_text);
        }
        source = s.source();
    }
    text
}

/// Where a new database starts following: `rescan` blocks below `tip`, or, if `rescan` is
/// negative, that absolute height; never above the tip. Any `rescan` an operator writes is
/// safe (no overflow).
fn start_height(tip: u64, rescan: i64) -> u32 {
    let tip = u32::try_from(tip).unwrap_or(u32::MAX);
    let from = if rescan < 0 {
        u32::try_from(rescan.unsigned_abs()).unwrap_or(u32::MAX)
    } else {
        tip.saturating_sub(u32::try_from(rescan).unwrap_or(u32::MAX))
    };
    from.min(tip)
}

/// Everything the chain task needs.
pub struct ChainTask {
    /// bitcoind.
    pub backend: BitcoindBackend,
    /// The wallet (database, keys, script index).
    pub onchain: Arc<Onchain>,
    /// Fee estimates, refreshed here.
    pub fees: Arc<RwLock<Fees>>,
    /// How often to poll.
    pub interval: Duration,
    /// Where to start on an empty database: this many blocks below bitcoind's tip (CLN's
    /// `rescan`), or, if negative, that absolute height.
    pub rescan: i64,
    /// Status for `getinfo` and `waitblockheight`.
    pub status: watch::Sender<ChainStatus>,
    /// Node shutdown.
    pub shutdown: CancellationToken,
    /// Funding transactions and outputs the channels watch.
    pub funding: Arc<crate::channels::FundingWatch>,
}

impl ChainTask {
    fn set(&self, f: impl FnOnce(&mut ChainStatus)) {
        self.status.send_if_modified(|s| {
            let before = s.clone();
            f(s);
            *s != before
        });
    }

    fn problem(&self, why: String) {
        let changed = self.status.borrow().problem.as_deref() != Some(why.as_str());
        if changed {
            tracing::warn!(target: "bitcoind", "{why}; retrying every {}s", self.interval.as_secs().max(1));
        }
        self.set(|s| s.problem = Some(why));
    }

    async fn sleep(&self) -> bool {
        tokio::select! {
            _ = self.shutdown.cancelled() => false,
            _ = tokio::time::sleep(self.interval) => true,
        }
    }

    /// Runs until shutdown.
    pub async fn run(self) {
        let network = self.backend.client().config().network;
        // 1. bitcoind reachable and on our network.
        let info = loop {
            match self.backend.client().check_network(network).await {
                Ok(info) => break info,
                Err(e) => self.problem(describe(&e as &BitcoindError)),
            }
            if !self.sleep().await {
                return;
            }
        };
        tracing::info!(target: "bitcoind", "connected to bitcoind at {} ({} chain, block {})", self.backend.client().addr(), info.chain, info.blocks);
        self.set(|s| {
            s.problem = None;
            s.connected_once = true;
            s.bitcoind_blocks = info.blocks;
            s.headers = info.headers;
            s.initial_block_download = info.initialblockdownload;
        });
        // 2. Where to start: the stored tip, or `rescan` blocks back on a new database.
        let stored = self.onchain.with_store(|s| Ok(s.best_block()?)).await;
        let start = match stored {
            Ok(Some((height, hash))) => Start::Tip { height, hash },
            Ok(None) => Start::Height(start_height(info.blocks, self.rescan)),
            Err(e) => {
                tracing::error!(target: "lightningd", "cannot read the chain tip from the database: {e}");
                return;
            }
        };
        let mut follower = Follower::new(start, FollowerConfig::default());
        if let Start::Tip { height, .. } = start {
            self.set(|s| s.blockheight = u64::from(height));
        }
        // 3. Follow.
        let mut last_rebroadcast: Option<u64> = None;
        loop {
            self.refresh_fees().await;
            match self.backend.client().getblockchaininfo().await {
                Ok(info) => {
                    if self.status.borrow().problem.is_some() {
                        tracing::info!(target: "bitcoind", "bitcoind at {} answers again", self.backend.client().addr());
                    }
                    self.set(|s| {
                        s.problem = None;
                        s.bitcoind_blocks = info.blocks;
                        s.headers = info.headers;
                        s.initial_block_download = info.initialblockdownload;
                    });
                    let tip = Input::BackendTip {
                        height: info.blocks as u32,
                        hash: Some(info.bestblockhash),
                    };
                    if let Err(e) = self.drive(&mut follower, tip).await {
                        self.problem(e);
                    }
                    // Our transactions not yet in a block are sent again at start and every
                    // few blocks: one recorded just before a crash reaches bitcoind, and one
                    // dropped from a mempool gets another chance.
                    let height = self.status.borrow().blockheight;
                    if last_rebroadcast.is_none_or(|h| height >= h + REBROADCAST_EVERY) {
                        last_rebroadcast = Some(height);
                        self.rebroadcast().await;
                    }
                }
                Err(e) => self.problem(describe(&e)),
            }
            if !self.sleep().await {
                return;
            }
        }
    }

    async fn rebroadcast(&self) {
        let txs = match self.onchain.with_store(|s| Ok(s.transactions()?)).await {
            Ok(t) => t,
            Err(e) => {
                tracing::warn!(target: "wallet", "cannot list our transactions to rebroadcast: {e}");
                return;
            }
        };
        for stored in txs.into_iter().filter(|t| t.blockheight.is_none()) {
            let Ok(tx) = bitcoin::consensus::deserialize::<bitcoin::Transaction>(&stored.raw)
            else {
                tracing::error!(target: "wallet", "stored transaction {} does not parse", stored.txid);
                continue;
            };
            match self.backend.send_raw_transaction(&tx, false).await {
                Ok(r) if r.success => {
                    tracing::debug!(target: "wallet", "rebroadcast {}", stored.txid)
                }
                Ok(r) => {
                    tracing::info!(target: "wallet", "rebroadcast of {} refused: {}", stored.txid, r.errmsg)
                }
                Err(e) => {
                    tracing::info!(target: "wallet", "rebroadcast of {} failed: {}", stored.txid, describe(&e))
                }
            }
        }
    }

    async fn refresh_fees(&self) {
        match self.backend.estimate_fees().await {
            Ok(estimates) => {
                let mut fees = self.fees.write().unwrap_or_else(|e| e.into_inner());
                if let Err(e) = fees.update(&estimates) {
                    tracing::warn!(target: "bitcoind", "ignoring fee estimates: {e}");
                }
            }
            Err(e) => tracing::debug!(target: "bitcoind", "no fee estimates: {}", describe(&e)),
        }
    }

    /// Feeds the follower until it has nothing more to ask; every block is stored before the
    /// next is fetched.
    async fn drive(&self, follower: &mut Follower, first: Input) -> Result<(), String> {
        let mut inputs = VecDeque::from([first, Input::Tick]);
        while let Some(input) = inputs.pop_front() {
            if self.shutdown.is_cancelled() {
                return Ok(());
            }
            let actions = follower
                .handle(input)
                .map_err(|e| format!("chain follower: {e}"))?;
            for action in actions {
                match action {
                    Action::FetchBlock { height } => {
                        let block =
                            self.backend
                                .raw_block_by_height(height)
                                .await
                                .map_err(|e| {
                                    format!("cannot fetch block {height}: {}", describe(&e))
                                })?;
                        inputs.push_back(Input::BlockAtHeight { height, block });
                    }
                    Action::LoadStoredHash { height } => {
                        let hash = self
                            .onchain
                            .with_store(move |s| Ok(s.block_hash(height)?))
                            .await
                            .map_err(|e| e.to_string())?;
                        inputs.push_back(Input::StoredHash { height, hash });
                    }
                    Action::ConnectBlock {
                        height,
                        hash,
                        block,
                    } => {
                        self.connect(height, FetchedBlock { hash, block }).await?;
                    }
                    Action::DisconnectAbove { height } => {
                        let n = self
                            .onchain
                            .with_store(move |s| Ok(s.disconnect_above(height)?))
                            .await
                            .map_err(|e| e.to_string())?;
                        tracing::info!(target: "lightningd", "reorg: {n} block(s) above {height} disconnected");
                        self.funding.disconnected_above(height);
                        self.set(|s| s.blockheight = u64::from(height));
                    }
                    Action::Synced { .. } | Action::Watch(_) => {}
                }
            }
        }
        Ok(())
    }

    async fn connect(&self, height: u32, fetched: FetchedBlock) -> Result<(), String> {
        let block = fetched.block;
        self.funding.scan(&block, height);
        let coinbase = block.txdata.first().map(|t| t.compute_txid());
        let scan = {
            let ours = self.onchain.known_outpoints();
            let index = self.onchain.script_index();
            fulgur_wallet::scan_block(&block, height, &index, &|op: &bitcoin::OutPoint| {
                ours.contains(op)
            })
        };
        if let Some(max) = scan.max_keyindex() {
            self.onchain.cover(max).map_err(|e| e.to_string())?;
        }
        let new_outputs: Vec<NewOutput> = scan
            .new_outputs
            .iter()
            .map(|o| NewOutput {
                outpoint: o.outpoint,
                amount: o.amount.into(),
                script_pubkey: o.script.clone(),
                keyindex: o.keyindex,
                addrtype: o.addrtype,
                is_change: false,
                is_coinbase: Some(o.outpoint.txid) == coinbase,
            })
            .collect();
        let found = new_outputs.len();
        let bc = BlockConnect {
            height,
            hash: fetched.hash,
            prev_hash: block.header.prev_blockhash,
            spends: scan
                .spends
                .iter()
                .map(|s| (s.outpoint, s.spender))
                .collect(),
            transactions: scan
                .relevant_txs
                .iter()
                .map(|t| (t.txid, t.raw.clone(), t.txindex))
                .collect(),
            new_outputs,
        };
        let outpoints: Vec<bitcoin::OutPoint> = bc.new_outputs.iter().map(|o| o.outpoint).collect();
        self.onchain
            .with_store(move |s| Ok(s.connect_block(&bc)?))
            .await
            .map_err(|e| e.to_string())?;
        self.onchain.note_outpoints(&outpoints);
        if found > 0 || !scan.spends.is_empty() {
            tracing::info!(target: "wallet", "block {height}: {found} new output(s) of ours, {} spent", scan.spends.len());
        }
        self.set(|s| s.blockheight = u64::from(height));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_height_is_safe_for_any_rescan() {
        assert_eq!(start_height(100, 15), 85);
        assert_eq!(start_height(10, 15), 0);
        assert_eq!(start_height(100, -40), 40);
        assert_eq!(start_height(100, -400), 100);
        assert_eq!(start_height(100, i64::MIN), 100);
        assert_eq!(start_height(100, i64::MAX), 0);
        assert_eq!(start_height(u64::MAX, 0), u32::MAX);
    }

    #[test]
    fn warnings() {
        assert_eq!(
            ChainStatus::default().bitcoind_warning().as_deref(),
            Some("Waiting for the first answer from bitcoind.")
        );
        let mut s = ChainStatus {
            blockheight: 10,
            bitcoind_blocks: 10,
            headers: 10,
            connected_once: true,
            ..Default::default()
        };
        assert_eq!(s.bitcoind_warning(), None);
        assert_eq!(s.lightningd_warning(), None);
        s.headers = 12;
        assert_eq!(
            s.bitcoind_warning().as_deref(),
            Some("Bitcoind is not up-to-date with network.")
        );
        s.blockheight = 9;
        assert!(s.lightningd_warning().is_some());
        s.problem = Some("refused".into());
        assert_eq!(
            s.bitcoind_warning().as_deref(),
            Some("Cannot use bitcoind: refused")
        );
    }
}
