//! How commands talk to the channel manager: the requests it serves and the handle that
//! sends them and waits for the answers.

use bitcoin::Transaction;
use fulgur_channel::FeeStep;
use fulgur_rpc_types::RpcError;
use fulgur_wire::ChannelId;
use secp256k1::PublicKey;
use serde_json::Value;
use tokio::sync::{mpsc, oneshot};

/// `fundchannel_start`'s request.
#[derive(Debug, Clone)]
pub struct FundStart {
    /// The peer.
    pub peer: PublicKey,
    /// Capacity.
    pub amount_sat: u64,
    /// Given to the peer.
    pub push_msat: u64,
    /// Whether to announce.
    pub announce: bool,
    /// Upfront shutdown script (`close_to`).
    pub close_to: Option<Vec<u8>>,
    /// Commitment fee rate.
    pub feerate_per_kw: u32,
    /// The channel type asked for (None: the best both support).
    pub channel_type: Option<fulgur_channel::ChannelType>,
    /// The reserve we ask the peer to keep (`reserve`).
    pub reserve_sat: Option<u64>,
    /// Confirmations to wait for, if more than the peer asks (`mindepth`).
    pub mindepth: Option<u32>,
}

/// What `fundchannel_start` answers once the peer accepted.
#[derive(Debug, Clone)]
pub struct StartedOpen {
    /// The script the funding output must pay.
    pub script_pubkey: bitcoin::ScriptBuf,
    /// The negotiated type.
    pub channel_type: fulgur_channel::ChannelType,
    /// The peer's `minimum_depth`.
    pub mindepth: u32,
}

/// `close`'s request.
#[derive(Debug, Clone)]
pub struct CloseRequest {
    /// A peer id, channel id or short channel id, as given.
    pub id: String,
    /// Where our funds go.
    pub destination: Option<Vec<u8>>,
    /// Negotiation step.
    pub step: FeeStep,
    /// Seconds before closing unilaterally (0: never).
    pub unilateral_timeout: u64,
    /// Fee rate range.
    pub feerange: Option<(u32, u32)>,
}

pub(super) type Reply<T> = oneshot::Sender<Result<T, RpcError>>;

/// A request to the manager (made through [`ChannelsHandle`]).
#[allow(missing_docs, reason = "internal plumbing")]
pub enum Request {
    Start(FundStart, Reply<StartedOpen>),
    Complete(PublicKey, Transaction, Reply<(ChannelId, u32)>),
    Cancel(PublicKey, Reply<()>),
    AbandonFunding(bitcoin::Txid, String, Reply<usize>),
    Close(CloseRequest, Reply<Value>),
    List(Option<PublicKey>, oneshot::Sender<Vec<Value>>),
    ListClosed(Option<PublicKey>, oneshot::Sender<Vec<Value>>),
    Counts(oneshot::Sender<(usize, usize, usize)>),
    States(
        Option<PublicKey>,
        oneshot::Sender<Vec<(PublicKey, &'static str)>>,
    ),
    SetChannel(super::policy::SetChannel, Reply<Vec<Value>>),
    HtlcScope(Option<String>, Reply<super::htlcs::HtlcScope>),
}

/// A handle to the manager.
#[derive(Clone, Debug)]
pub struct ChannelsHandle {
    tx: mpsc::Sender<Request>,
}

fn gone() -> RpcError {
    RpcError::new(-1, "node is shutting down")
}

impl ChannelsHandle {
    async fn ask<T>(&self, make: impl FnOnce(Reply<T>) -> Request) -> Result<T, RpcError> {
        let (tx, rx) = oneshot::channel();
        self.tx.send(make(tx)).await.map_err(|_| gone())?;
        rx.await.map_err(|_| gone())?
    }

    /// Sends `open_channel` and waits for `accept_channel`.
    pub async fn start(&self, req: FundStart) -> Result<StartedOpen, RpcError> {
        self.ask(|r| Request::Start(req, r)).await
    }

    /// Gives the funding transaction (signed or not): it must have exactly one output paying
    /// the open's script and amount. Waits for `funding_signed`; returns the channel id and
    /// the funding output's index once the channel is stored, so the caller may broadcast.
    pub async fn complete(
        &self,
        peer: PublicKey,
        tx: Transaction,
    ) -> Result<(ChannelId, u32), RpcError> {
        self.ask(|r| Request::Complete(peer, tx, r)).await
    }

    /// Abandons every channel we funded with `txid` that was never seen on chain, because
    /// the transaction will not be broadcast: each peer is told to forget its channel and
    /// the channels are stored as `CLOSED`. Returns how many there were. Done by txid, so a
    /// channel whose `funding_signed` arrived just as its caller gave up is caught too.
    pub async fn abandon_funding(&self, txid: bitcoin::Txid, why: &str) -> Result<usize, RpcError> {
        let why = why.to_string();
        self.ask(|r| Request::AbandonFunding(txid, why, r)).await
    }

    /// Abandons an open in progress with `peer`.
    pub async fn cancel(&self, peer: PublicKey) -> Result<(), RpcError> {
        self.ask(|r| Request::Cancel(peer, r)).await
    }

    /// Closes a channel; answers when the closing transaction is broadcast.
    pub async fn close(&self, req: CloseRequest) -> Result<Value, RpcError> {
        self.ask(|r| Request::Close(req, r)).await
    }

    /// `listpeerchannels` entries.
    pub async fn list(&self, peer: Option<PublicKey>) -> Vec<Value> {
        let (tx, rx) = oneshot::channel();
        if self.tx.send(Request::List(peer, tx)).await.is_err() {
            return Vec::new();
        }
        rx.await.unwrap_or_default()
    }

    /// `setchannel`: sets the relay policy of the channels `req.id` names.
    pub async fn setchannel(&self, req: super::policy::SetChannel) -> Result<Vec<Value>, RpcError> {
        self.ask(|r| Request::SetChannel(req, r)).await
    }

    /// `listhtlcs` entries. The manager only names the channels; the history is read from
    /// the database outside its task, so a long history never holds up the channels.
    pub async fn list_htlcs(
        &self,
        ctx: &std::sync::Arc<crate::onchain::Onchain>,
        req: super::htlcs::ListHtlcs,
    ) -> Result<Vec<Value>, RpcError> {
        let id = req.id.clone();
        let scope = self.ask(|r| Request::HtlcScope(id, r)).await?;
        super::htlcs::list(ctx, scope, req).await
    }

    /// `getinfo`'s channel counts: pending (awaiting lock-in), active (normal, or closing
    /// but still talking to the peer) and inactive (closed or closing on chain).
    pub async fn counts(&self) -> (usize, usize, usize) {
        let (tx, rx) = oneshot::channel();
        if self.tx.send(Request::Counts(tx)).await.is_err() {
            return (0, 0, 0);
        }
        rx.await.unwrap_or_default()
    }

    /// Each channel's peer and state name (`OPENINGD` for our opens in negotiation), without
    /// building the listings: for `listpeers` and `disconnect`.
    pub async fn states(&self, peer: Option<PublicKey>) -> Vec<(PublicKey, &'static str)> {
        let (tx, rx) = oneshot::channel();
        if self.tx.send(Request::States(peer, tx)).await.is_err() {
            return Vec::new();
        }
        rx.await.unwrap_or_default()
    }

    /// `listclosedchannels` entries.
    pub async fn list_closed(&self, peer: Option<PublicKey>) -> Vec<Value> {
        let (tx, rx) = oneshot::channel();
        if self.tx.send(Request::ListClosed(peer, tx)).await.is_err() {
            return Vec::new();
        }
        rx.await.unwrap_or_default()
    }
}

/// Makes the handle and the request queue for [`spawn`].
pub fn request_channel() -> (ChannelsHandle, mpsc::Receiver<Request>) {
    let (tx, rx) = mpsc::channel(256);
    (ChannelsHandle { tx }, rx)
}
