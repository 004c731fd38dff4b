//! The history of every HTLC our channels carried (`listhtlcs`): each channel step stores, in
//! the same transaction as the channel, the HTLCs whose state changed since the last step,
//! and those that left the channel in their final state (BOLT 2 "Normal Operation").

use std::collections::HashMap;

use fulgur_channel::{Channel, HtlcState};
use fulgur_rpc_types::RpcError;
use fulgur_store::{HtlcQuery, HtlcRow};
use serde_json::{json, Map, Value};

use super::manager::{ChannelRef, Manager};

/// The HTLCs of a channel as last stored, by (offered by us, id).
pub(super) type Seen = HashMap<(bool, u64), HtlcRow>;

/// CLN's final state of an HTLC we offered, once it is gone from the channel.
const OUT_DONE: &str = "RCVD_REMOVE_ACK_REVOCATION";
/// CLN's final state of an HTLC the peer offered, once it is gone from the channel.
const IN_DONE: &str = "SENT_REMOVE_ACK_REVOCATION";

/// The channel's HTLCs now, leaving out adds no commitment covers yet: those can still be
/// dropped on a disconnection (and their id given to another HTLC), so they are not history.
pub(super) fn seen(ch: &Channel) -> Seen {
    let dbid = ch.setup().dbid;
    ch.htlcs()
        .filter(|h| !matches!(h.state, HtlcState::SentAddHtlc | HtlcState::RcvdAddHtlc))
        .map(|h| {
            let offered = h.state.is_offered_by_us();
            (
                (offered, h.id),
                HtlcRow {
                    channel_dbid: dbid,
                    offered,
                    htlc_id: h.id,
                    amount_msat: h.amount_msat,
                    cltv_expiry: h.cltv_expiry,
                    payment_hash: h.payment_hash,
                    state: h.state.as_str().to_string(),
                },
            )
        })
        .collect()
}

/// What to store for this step: HTLCs that are new or changed state, and those that left
/// the channel (in their final state), in a fixed order; and the new [`Seen`].
pub(super) fn changes(ch: &Channel, before: &Seen) -> (Vec<HtlcRow>, Seen) {
    let now = seen(ch);
    (diff(&now, before), now)
}

/// The rows to store to go from `before` to `now`.
fn diff(now: &Seen, before: &Seen) -> Vec<HtlcRow> {
    let mut out: Vec<HtlcRow> = now
        .iter()
        .filter(|(k, r)| before.get(k).is_none_or(|o| o.state != r.state))
        .map(|(_, r)| r.clone())
        .collect();
    out.extend(
        before
            .iter()
            .filter(|(k, _)| !now.contains_key(k))
            .map(|(_, r)| {
                let mut done = r.clone();
                done.state = if r.offered { OUT_DONE } else { IN_DONE }.to_string();
                done
            }),
    );
    out.sort_by_key(|r| (!r.offered, r.htlc_id));
    out
}

/// `listhtlcs`'s request.
#[derive(Debug, Clone, Default)]
pub struct ListHtlcs {
    /// A short channel id or channel id: only that channel's HTLCs.
    pub id: Option<String>,
    /// Order by `updated_index` instead of `created_index`.
    pub by_updated: bool,
    /// The first index to list.
    pub start: Option<u64>,
    /// At most this many.
    pub limit: Option<u32>,
}

/// What the manager knows for `listhtlcs`: which channel `id` names, and every channel's
/// short channel id.
#[derive(Debug, Clone, Default)]
pub struct HtlcScope {
    /// The dbid of the channel asked for, if one was.
    pub channel_dbid: Option<u64>,
    /// Short channel id by dbid, open and closed channels alike.
    pub scids: HashMap<u64, u64>,
}

impl Manager {
    /// `listhtlcs`'s scope (see [`HtlcScope`]).
    pub(super) fn htlc_scope(&self, id: Option<&str>) -> Result<HtlcScope, RpcError> {
        Ok(HtlcScope {
            channel_dbid: match id {
                Some(i) => {
                    let key = self.lookup(&ChannelRef::parse(i)?, i, true)?;
                    self.channels
                        .get(&key)
                        .or_else(|| self.closed.get(&key))
                        .map(|e| e.ch.setup().dbid)
                }
                None => None,
            },
            scids: self
                .channels
                .values()
                .chain(self.closed.values())
                .filter_map(|e| Some((e.ch.setup().dbid, e.ch.data().short_channel_id?)))
                .collect(),
        })
    }
}

/// Reads the history `req` asks for, in `scope`, as `listhtlcs` entries.
pub(super) async fn list(
    onchain: &std::sync::Arc<crate::onchain::Onchain>,
    scope: HtlcScope,
    req: ListHtlcs,
) -> Result<Vec<Value>, RpcError> {
    let q = HtlcQuery {
        channel_dbid: scope.channel_dbid,
        by_updated: req.by_updated,
        start: req.start,
        limit: req.limit,
    };
    let rows = onchain
        .with_store(move |s| Ok(s.htlcs(q)?))
        .await
        .map_err(|e| RpcError::new(-1, e.to_string()))?;
    Ok(rows
        .into_iter()
        .filter_map(|r| {
            // A channel whose funding a reorganisation unconfirmed has no short channel id
            // until it is mined again; its HTLCs are listed again then.
            let scid = scope.scids.get(&r.htlc.channel_dbid)?;
            let mut o = Map::new();
            o.insert(
                "short_channel_id".into(),
                json!(fulgur_wire::ShortChannelId(*scid).to_string()),
            );
            o.insert("created_index".into(), json!(r.created_index));
            if let Some(u) = r.updated_index {
                o.insert("updated_index".into(), json!(u));
            }
            o.insert("id".into(), json!(r.htlc.htlc_id));
            o.insert("expiry".into(), json!(r.htlc.cltv_expiry));
            o.insert("amount_msat".into(), json!(r.htlc.amount_msat));
            o.insert(
                "direction".into(),
                json!(if r.htlc.offered { "out" } else { "in" }),
            );
            o.insert(
                "payment_hash".into(),
                json!(hex::encode(r.htlc.payment_hash)),
            );
            o.insert("state".into(), json!(r.htlc.state));
            Some(Value::Object(o))
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(offered: bool, id: u64, state: &str) -> HtlcRow {
        HtlcRow {
            channel_dbid: 1,
            offered,
            htlc_id: id,
            amount_msat: 5,
            cltv_expiry: 9,
            payment_hash: [1; 32],
            state: state.into(),
        }
    }

    fn seen_of(rows: &[HtlcRow]) -> Seen {
        rows.iter()
            .map(|r| ((r.offered, r.htlc_id), r.clone()))
            .collect()
    }

    #[test]
    fn new_changed_and_gone_htlcs_are_stored_unchanged_ones_are_not() {
        let before = seen_of(&[
            row(true, 3, "SENT_REMOVE_ACK_COMMIT"),
            row(false, 1, "RCVD_REMOVE_ACK_COMMIT"),
            row(false, 2, "RCVD_ADD_COMMIT"),
            row(true, 4, "SENT_ADD_COMMIT"),
        ]);
        let now = seen_of(&[
            row(false, 2, "RCVD_ADD_COMMIT"),
            row(true, 4, "RCVD_ADD_REVOCATION"),
            row(true, 5, "SENT_ADD_HTLC"),
        ]);
        assert_eq!(
            diff(&now, &before),
            [
                row(true, 3, OUT_DONE),
                row(true, 4, "RCVD_ADD_REVOCATION"),
                row(true, 5, "SENT_ADD_HTLC"),
                row(false, 1, IN_DONE),
            ]
        );
        assert!(diff(&now, &now).is_empty());
    }
}
