//! `listpeerchannels` entries, field by field as Core Lightning v26.06 prints them.

use fulgur_channel::{ChannelType, Side};
use secp256k1::PublicKey;
use serde_json::{json, Map, Value};

use super::manager::{Entry, Manager, PendingOut};

/// A channel type as `bits` and `names`, as CLN prints it.
pub(crate) fn channel_type_json(t: ChannelType) -> Value {
    match t {
        ChannelType::StaticRemoteKey => json!({"bits": [12], "names": ["static_remotekey/even"]}),
        ChannelType::AnchorsZeroFeeHtlcTx => {
            json!({"bits": [12, 22], "names": ["static_remotekey/even", "anchors/even"]})
        }
    }
}

fn features_json(t: ChannelType) -> Value {
    match t {
        ChannelType::StaticRemoteKey => json!(["option_static_remotekey"]),
        ChannelType::AnchorsZeroFeeHtlcTx => json!(["option_static_remotekey", "option_anchors"]),
    }
}

fn owner(state: fulgur_channel::ChannelState) -> Option<&'static str> {
    use fulgur_channel::ChannelState::*;
    match state {
        ChanneldAwaitingLockin | ChanneldNormal | ChanneldShuttingDown => Some("channeld"),
        ClosingdSigexchange => Some("closingd"),
        FundingSpendSeen | Onchain => Some("onchaind"),
        ClosingdComplete | AwaitingUnilateral | Closed => None,
    }
}

fn scid_string(s: u64) -> String {
    fulgur_wire::ShortChannelId(s).to_string()
}

fn side_name(x: Side) -> &'static str {
    if x == Side::Local {
        "local"
    } else {
        "remote"
    }
}

/// The fields `listpeerchannels` and `listclosedchannels` share: who, which channel, its
/// funding, type, privacy, opener and alias.
fn identity(o: &mut Map<String, Value>, ch: &fulgur_channel::Channel) {
    let s = ch.setup();
    let d = ch.data();
    o.insert("peer_id".into(), json!(hex::encode(s.peer_id.serialize())));
    o.insert("channel_id".into(), json!(hex::encode(s.channel_id)));
    if let Some(scid) = d.short_channel_id {
        o.insert("short_channel_id".into(), json!(scid_string(scid)));
    }
    o.insert(
        "funding_txid".into(),
        json!(s.funding_outpoint.txid.to_string()),
    );
    o.insert("funding_outnum".into(), json!(s.funding_outpoint.vout));
    o.insert("channel_type".into(), channel_type_json(s.channel_type));
    o.insert("private".into(), json!(!s.announce));
    o.insert("opener".into(), json!(side_name(s.opener)));
    let mut alias = Map::new();
    if let Some(a) = d.remote_alias {
        alias.insert("remote".into(), json!(scid_string(a)));
    }
    o.insert("alias".into(), Value::Object(alias));
}

/// The `listpeerchannels` entry of a channel.
pub(super) fn channel_json(m: &Manager, e: &Entry) -> Value {
    let ch = &e.ch;
    let s = ch.setup();
    let mut o = Map::new();
    identity(&mut o, ch);
    let connected = m.conns.contains_key(&s.peer_id);
    o.insert("peer_connected".into(), json!(connected));
    if connected {
        o.insert("reestablished".into(), json!(ch.is_live()));
    }
    o.insert("state".into(), json!(ch.state().as_str()));
    o.insert(
        "ignore_fee_limits".into(),
        json!(ch.policy().ignore_fee_limits),
    );
    o.insert("lost_state".into(), json!(false));
    let perkw = ch.feerate_per_kw();
    o.insert(
        "feerate".into(),
        json!({"perkw": perkw, "perkb": perkw * 4}),
    );
    if let Some(owner) = owner(ch.state()) {
        o.insert("owner".into(), json!(owner));
    }
    let ours = m.ctx.node_id_bytes;
    let direction = u32::from(ours > s.peer_id.serialize());
    o.insert("direction".into(), json!(direction));
    if let Some(script) = ch.local_shutdown_script().or_else(|| {
        s.local_upfront_shutdown
            .clone()
            .map(bitcoin::ScriptBuf::from_bytes)
    }) {
        if let Ok(addr) = bitcoin::Address::from_script(&script, m.ctx.config.network.to_bitcoin())
        {
            o.insert("close_to_addr".into(), json!(addr.to_string()));
        }
        o.insert("close_to".into(), json!(hex::encode(script.as_bytes())));
    }
    o.insert("features".into(), features_json(s.channel_type));
    let total = s.funding_sat * 1000;
    let (local_funds, remote_funds) = match s.opener {
        Side::Local => (total, 0),
        Side::Remote => (0, total),
    };
    o.insert(
        "funding".into(),
        json!({
            "local_funds_msat": local_funds,
            "remote_funds_msat": remote_funds,
            "pushed_msat": s.push_msat,
        }),
    );
    let (to_us, to_them) = ch.balances_msat();
    let in_flight_in: u64 = ch
        .htlcs()
        .filter(|h| !h.state.is_offered_by_us())
        .map(|h| h.amount_msat)
        .sum();
    o.insert("to_us_msat".into(), json!(to_us));
    let h = ch.history();
    o.insert(
        "min_to_us_msat".into(),
        json!(h.min_to_us_msat.unwrap_or(to_us).min(to_us)),
    );
    o.insert(
        "max_to_us_msat".into(),
        json!(h
            .max_to_us_msat
            .unwrap_or(0)
            .max(to_us.saturating_add(in_flight_in))),
    );
    o.insert("total_msat".into(), json!(total));
    let (fee_base, fee_ppm) = super::policy::fees(m, ch);
    o.insert("fee_base_msat".into(), json!(fee_base));
    o.insert("fee_proportional_millionths".into(), json!(fee_ppm));
    o.insert(
        "dust_limit_msat".into(),
        json!(s.local.dust_limit_sat * 1000),
    );
    o.insert(
        "their_max_htlc_value_in_flight_msat".into(),
        json!(s.remote.max_htlc_value_in_flight_msat),
    );
    o.insert(
        "our_max_htlc_value_in_flight_msat".into(),
        json!(s.local.max_htlc_value_in_flight_msat),
    );
    // Each side's reserve: what the other side asked it to keep.
    o.insert(
        "their_reserve_msat".into(),
        json!(s.local.channel_reserve_sat * 1000),
    );
    o.insert(
        "our_reserve_msat".into(),
        json!(s.remote.channel_reserve_sat * 1000),
    );
    let spendable = to_us.saturating_sub(s.remote.channel_reserve_sat * 1000);
    let receivable = to_them.saturating_sub(s.local.channel_reserve_sat * 1000);
    o.insert("spendable_msat".into(), json!(spendable));
    o.insert("receivable_msat".into(), json!(receivable));
    o.insert(
        "minimum_htlc_in_msat".into(),
        json!(s.local.htlc_minimum_msat),
    );
    let (htlc_min, htlc_max) = super::policy::htlc_limits(ch);
    o.insert("minimum_htlc_out_msat".into(), json!(htlc_min));
    o.insert("maximum_htlc_out_msat".into(), json!(htlc_max));
    o.insert("their_to_self_delay".into(), json!(s.remote.to_self_delay));
    o.insert("our_to_self_delay".into(), json!(s.local.to_self_delay));
    o.insert(
        "max_accepted_htlcs".into(),
        json!(s.local.max_accepted_htlcs),
    );
    o.insert("state_changes".into(), json!([]));
    o.insert(
        "status".into(),
        json!([format!(
            "{}:{}",
            ch.state().as_str(),
            status_text(ch.state())
        )]),
    );
    o.insert("in_payments_offered".into(), json!(0));
    o.insert("in_offered_msat".into(), json!(0));
    o.insert("in_payments_fulfilled".into(), json!(0));
    o.insert("in_fulfilled_msat".into(), json!(0));
    o.insert("out_payments_offered".into(), json!(0));
    o.insert("out_offered_msat".into(), json!(0));
    o.insert("out_payments_fulfilled".into(), json!(0));
    o.insert("out_fulfilled_msat".into(), json!(0));
    let htlcs: Vec<Value> = ch
        .htlcs()
        .map(|h| {
            json!({
                "direction": if h.state.is_offered_by_us() { "out" } else { "in" },
                "id": h.id,
                "amount_msat": h.amount_msat,
                "expiry": h.cltv_expiry,
                "payment_hash": hex::encode(h.payment_hash),
                "state": h.state.as_str(),
            })
        })
        .collect();
    o.insert("htlcs".into(), Value::Array(htlcs));
    Value::Object(o)
}

fn status_text(state: fulgur_channel::ChannelState) -> &'static str {
    use fulgur_channel::ChannelState::*;
    match state {
        ChanneldAwaitingLockin => "Funding transaction signed; waiting for lock-in.",
        ChanneldNormal => "Channel ready for use.",
        ChanneldShuttingDown => "Shutting down: clearing HTLCs.",
        ClosingdSigexchange => "Negotiating the closing fee.",
        ClosingdComplete => "Closing transaction broadcast; waiting for it to be mined.",
        AwaitingUnilateral => "Our commitment transaction was broadcast.",
        FundingSpendSeen => "The funding output was spent.",
        Onchain => "Resolving the funding spend on chain.",
        Closed => "Closed.",
    }
}

/// The `listpeerchannels` entry of an open still in negotiation (`OPENINGD`).
pub(super) fn opening_json(m: &Manager, peer: &PublicKey, p: &PendingOut) -> Value {
    let req = p.open.request();
    json!({
        "peer_id": hex::encode(peer.serialize()),
        "peer_connected": m.conns.contains_key(peer),
        "state": "OPENINGD",
        "channel_type": channel_type_json(req.channel_type),
        "opener": "local",
        "private": !req.announce,
        "features": features_json(req.channel_type),
        "funding": {"local_funds_msat": req.funding_sat * 1000, "remote_funds_msat": 0, "pushed_msat": req.push_msat},
        "total_msat": req.funding_sat * 1000,
        "owner": "openingd",
        "status": ["OPENINGD:Negotiating the channel with the peer."],
        "htlcs": [],
    })
}

/// The `listclosedchannels` entry of a channel that reached `CLOSED`.
pub(super) fn closed_json(e: &Entry) -> Value {
    let ch = &e.ch;
    let s = ch.setup();
    let d = ch.data();
    let h = ch.history();
    let mut o = Map::new();
    identity(&mut o, ch);
    if let Some(c) = h.closer {
        o.insert("closer".into(), json!(side_name(c)));
    }
    o.insert(
        "total_local_commitments".into(),
        json!(d.local_commit.number + 1),
    );
    o.insert(
        "total_remote_commitments".into(),
        json!(d.remote_commit.number + 1),
    );
    o.insert("total_htlcs_sent".into(), json!(d.updates.next_offered_id));
    o.insert("funding_withheld".into(), json!(h.funding_withheld));
    o.insert("leased".into(), json!(false));
    if s.push_msat > 0 {
        o.insert("funding_pushed_msat".into(), json!(s.push_msat));
    }
    let total = s.funding_sat * 1000;
    o.insert("total_msat".into(), json!(total));
    let (to_us, _) = ch.balances_msat();
    o.insert("final_to_us_msat".into(), json!(to_us));
    o.insert(
        "min_to_us_msat".into(),
        json!(h.min_to_us_msat.unwrap_or(to_us).min(to_us)),
    );
    o.insert(
        "max_to_us_msat".into(),
        json!(h.max_to_us_msat.unwrap_or(to_us).max(to_us)),
    );
    if let Some(txid) = h.spend_txid {
        o.insert("last_commitment_txid".into(), json!(txid.to_string()));
        let known = ch
            .closing_transaction()
            .into_iter()
            .chain(ch.signed_local_commitment().ok())
            .find(|tx| tx.compute_txid() == txid);
        if let Some(tx) = known {
            let out: u64 = tx.output.iter().map(|o| o.value.to_sat()).sum();
            o.insert(
                "last_commitment_fee_msat".into(),
                json!(s.funding_sat.saturating_sub(out) * 1000),
            );
        }
    }
    o.insert(
        "close_cause".into(),
        json!(h.cause.map_or("unknown", |c| c.as_str())),
    );
    Value::Object(o)
}
