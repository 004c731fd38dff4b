//! The link to bitcoind for now: reach it, check it runs the node's network, and poll its tip
//! so `getinfo.blockheight` stays current. While bitcoind cannot be used, the reason is logged
//! once per change (refused, authentication failed, wrong network, ...) and polling goes on;
//! the RPC server keeps answering meanwhile.

use fulgur_bitcoind::{BitcoindClient, BitcoindError};
use std::time::Duration;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

/// What the node knows of the chain, as `getinfo` shows it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ChainStatus {
    /// The best block height bitcoind has validated (0 before the first contact).
    pub blockheight: u64,
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
        if self.initial_block_download || self.blockheight < self.headers {
            return Some("Bitcoind is not up-to-date with network.".to_string());
        }
        None
    }
}

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

/// Polls bitcoind every `interval` until `shutdown`, publishing the status on `tx`.
pub async fn follow_tip(
    client: BitcoindClient,
    interval: Duration,
    tx: watch::Sender<ChainStatus>,
    shutdown: CancellationToken,
) {
    let network = client.config().network;
    loop {
        let result = tokio::select! {
            _ = shutdown.cancelled() => return,
            r = client.check_network(network) => r,
        };
        let previous = tx.borrow().clone();
        let mut next = previous.clone();
        match result {
            Ok(info) => {
                if !previous.connected_once || previous.problem.is_some() {
                    tracing::info!(target: "bitcoind", "connected to bitcoind at {} ({} chain, block {})", client.addr(), info.chain, info.blocks);
                }
                if info.blocks != previous.blockheight {
                    tracing::debug!(target: "bitcoind", "new tip: block {} ({})", info.blocks, info.bestblockhash);
                }
                next.blockheight = info.blocks;
                next.headers = info.headers;
                next.initial_block_download = info.initialblockdownload;
                next.problem = None;
                next.connected_once = true;
            }
            Err(e) => {
                let why = describe(&e);
                if previous.problem.as_deref() != Some(why.as_str()) {
                    tracing::warn!(target: "bitcoind", "{why}; retrying every {}s", interval.as_secs().max(1));
                }
                next.problem = Some(why);
            }
        }
        if next != previous {
            let _ = tx.send(next);
        }
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(interval) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warnings() {
        assert_eq!(
            ChainStatus::default().bitcoind_warning().as_deref(),
            Some("Waiting for the first answer from bitcoind.")
        );
        let mut s = ChainStatus {
            blockheight: 10,
            headers: 10,
            connected_once: true,
            ..Default::default()
        };
        assert_eq!(s.bitcoind_warning(), None);
        s.headers = 12;
        assert_eq!(
            s.bitcoind_warning().as_deref(),
            Some("Bitcoind is not up-to-date with network.")
        );
        s.problem = Some("refused".into());
        assert_eq!(
            s.bitcoind_warning().as_deref(),
            Some("Cannot use bitcoind: refused")
        );
    }
}
