//! `setchannel` in the manager: which channels an id names, and each one's new relay policy
//! (BOLT 7 `channel_update` fields), stored with the channel before the command answers.

use fulgur_channel::{Channel, ChannelState, RelayPolicy};
use fulgur_rpc_types::RpcError;
use serde_json::{json, Map, Value};

use super::manager::{ChannelRef, Manager};

/// `setchannel`'s request; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct SetChannel {
    /// `all`, a peer id, a channel id or a short channel id.
    pub id: String,
    /// New base fee.
    pub feebase: Option<u64>,
    /// New proportional fee.
    pub feeppm: Option<u32>,
    /// New smallest HTLC to forward.
    pub htlcmin: Option<u64>,
    /// New largest HTLC to forward.
    pub htlcmax: Option<u64>,
    /// Accept any commitment fee rate from the peer.
    pub ignorefeelimits: Option<bool>,
}

fn settable(state: ChannelState) -> bool {
    matches!(
        state,
        ChannelState::ChanneldNormal | ChannelState::ChanneldAwaitingLockin
    )
}

/// The fee fields `listpeerchannels` and `setchannel` show: the channel's own, or the
/// node's options.
pub(super) fn fees(m: &Manager, ch: &Channel) -> (u64, u64) {
    let p = ch.policy();
    (
        p.fee_base_msat
            .unwrap_or_else(|| m.ctx.config.get_u64("fee-base").unwrap_or(1)),
        p.fee_proportional_millionths.map_or_else(
            || m.ctx.config.get_u64("fee-per-satoshi").unwrap_or(10),
            u64::from,
        ),
    )
}

/// The smallest and largest HTLC we forward over the channel.
pub(super) fn htlc_limits(ch: &Channel) -> (u64, u64) {
    let p = ch.policy();
    (
        p.htlc_minimum_msat
            .unwrap_or(ch.setup().remote.htlc_minimum_msat),
        p.htlc_maximum_msat
            .unwrap_or_else(|| ch.max_htlc_out_msat()),
    )
}

impl Manager {
    fn setchannel_targets(&self, id: &str) -> Result<Vec<[u8; 32]>, RpcError> {
        if id == "all" {
            return Ok(self
                .channels
                .iter()
                .filter(|(_, e)| settable(e.ch.state()))
                .map(|(k, _)| *k)
                .collect());
        }
        let cid = match ChannelRef::parse(id)? {
            ChannelRef::Peer(peer) => {
                let ids: Vec<[u8; 32]> = self
                    .channels
                    .iter()
                    .filter(|(_, e)| e.ch.setup().peer_id == peer && settable(e.ch.state()))
                    .map(|(k, _)| *k)
                    .collect();
                if ids.is_empty() {
                    return Err(RpcError::new(
                        -1,
                        "Could not find any active channels of peer with that id",
                    ));
                }
                return Ok(ids);
            }
            r => self.lookup(&r, id, false)?,
        };
        match self.channels.get(&cid).map(|e| e.ch.state()) {
            Some(s) if settable(s) => Ok(vec![cid]),
            Some(s) => Err(RpcError::new(
                -32602,
                format!("Channel in state {}", s.as_str()),
            )),
            None => Err(RpcError::new(
                -32602,
                format!("Channel ID not found: '{id}'"),
            )),
        }
    }

    /// Sets the relay policy of every channel `req.id` names; answers each one's result.
    pub(super) async fn setchannel(&mut self, req: SetChannel) -> Result<Vec<Value>, RpcError> {
        if let (Some(min), Some(max)) = (req.htlcmin, req.htlcmax) {
            if max < min {
                return Err(RpcError::new(-1, "htlcmax cannot be less than htlcmin"));
            }
        }
        let ids = self.setchannel_targets(&req.id)?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            let Some(e) = self.channels.get_mut(&id) else {
                continue;
            };
            let old = e.ch.policy().clone();
            let floor = e.ch.setup().remote.htlc_minimum_msat;
            let ceiling = e.ch.max_htlc_out_msat();
            let mut warnings = Map::new();
            let htlc_minimum_msat = match req.htlcmin {
                Some(v) if v < floor => {
                    warnings.insert(
                        "warning_htlcmin_too_low".into(),
                        json!("Set minimum_htlc_out_msat to minimum allowed by peer"),
                    );
                    Some(floor)
                }
                Some(v) => Some(v),
                None => old.htlc_minimum_msat,
            };
            let htlc_maximum_msat = match req.htlcmax {
                Some(v) if v > ceiling => {
                    warnings.insert(
                        "warning_htlcmax_too_high".into(),
                        json!("Set maximum_htlc_out_msat to maximum possible in channel"),
                    );
                    Some(ceiling)
                }
                Some(v) => Some(v),
                None => old.htlc_maximum_msat,
            };
            let policy = RelayPolicy {
                fee_base_msat: req.feebase.or(old.fee_base_msat),
                fee_proportional_millionths: req.feeppm.or(old.fee_proportional_millionths),
                htlc_minimum_msat,
                htlc_maximum_msat,
                ignore_fee_limits: req.ignorefeelimits.unwrap_or(old.ignore_fee_limits),
            };
            let acts = e.ch.set_policy(policy);
            self.apply(id, acts).await;
            let Some(e) = self.channels.get(&id) else {
                continue;
            };
            let (base, ppm) = fees(self, &e.ch);
            let (min, max) = htlc_limits(&e.ch);
            let mut v = Map::new();
            v.insert(
                "peer_id".into(),
                json!(hex::encode(e.ch.setup().peer_id.serialize())),
            );
            v.insert("channel_id".into(), json!(hex::encode(id)));
            if let Some(scid) = e.ch.data().short_channel_id {
                v.insert(
                    "short_channel_id".into(),
                    json!(fulgur_wire::ShortChannelId(scid).to_string()),
                );
            }
            v.insert("fee_base_msat".into(), json!(base));
            v.insert("fee_proportional_millionths".into(), json!(ppm));
            v.insert(
                "ignore_fee_limits".into(),
                json!(e.ch.policy().ignore_fee_limits),
            );
            v.insert("minimum_htlc_out_msat".into(), json!(min));
            v.insert("maximum_htlc_out_msat".into(), json!(max));
            v.extend(warnings);
            out.push(Value::Object(v));
        }
        Ok(out)
    }
}
