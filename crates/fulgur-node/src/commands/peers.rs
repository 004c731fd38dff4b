//! Peer commands: `connect`, `disconnect`, `listpeers`, `ping`, `sendcustommsg`, with Core
//! Lightning v26.06's parameters, results and error codes; `connect` failures name the stage
//! that failed and the likely cause.

use super::command;
use crate::context::NodeContext;
use fulgur_net::{parse_connect, ConnectFailure, PeerInfo};
use fulgur_rpc::{Call, CommandDef};
use fulgur_rpc_types::{codes, ParamKind, ParamSpec, RpcError};
use serde_json::{json, Value};

/// CLN's catch-all error code.
const LIGHTNINGD: i64 = -1;

const CONNECT: &[ParamSpec] = &[
    ParamSpec::req("id", ParamKind::String),
    ParamSpec::opt("host", ParamKind::String),
    ParamSpec::opt("port", ParamKind::U16),
];
const DISCONNECT: &[ParamSpec] = &[
    ParamSpec::req("id", ParamKind::Pubkey),
    ParamSpec::opt("force", ParamKind::Bool),
];
const LISTPEERS: &[ParamSpec] = &[
    ParamSpec::opt("id", ParamKind::Pubkey),
    ParamSpec::opt("level", ParamKind::String),
];
const PING: &[ParamSpec] = &[
    ParamSpec::req("id", ParamKind::Pubkey),
    ParamSpec::opt("len", ParamKind::U16),
    ParamSpec::opt("pongbytes", ParamKind::U16),
];
const SENDCUSTOMMSG: &[ParamSpec] = &[
    ParamSpec::req("node_id", ParamKind::Pubkey),
    ParamSpec::req("msg", ParamKind::Hex),
];

pub(super) fn defs() -> Vec<CommandDef<NodeContext>> {
    vec![
        command(
            "connect",
            CONNECT,
            include_str!("../../../../doc/rpc/connect.md"),
            connect,
        ),
        command(
            "disconnect",
            DISCONNECT,
            include_str!("../../../../doc/rpc/disconnect.md"),
            disconnect,
        ),
        command(
            "listpeers",
            LISTPEERS,
            include_str!("../../../../doc/rpc/listpeers.md"),
            listpeers,
        ),
        command(
            "ping",
            PING,
            include_str!("../../../../doc/rpc/ping.md"),
            ping,
        ),
        command(
            "sendcustommsg",
            SENDCUSTOMMSG,
            include_str!("../../../../doc/rpc/sendcustommsg.md"),
            sendcustommsg,
        ),
    ]
}

fn pubkey(call: &Call<NodeContext>, name: &str) -> Result<secp256k1::PublicKey, RpcError> {
    let text = call.params.str(name).unwrap_or_default();
    let bytes = hex::decode(text).ok();
    bytes
        .and_then(|b| secp256k1::PublicKey::from_slice(&b).ok())
        .ok_or_else(|| {
            call.registry.param_error(
                name,
                "should be a node id",
                &Value::String(text.to_string()),
            )
        })
}

fn address_json(p: &PeerInfo) -> Value {
    json!({"type": p.addr.kind(), "address": p.addr.host(), "port": p.addr.port()})
}

fn features_hex(p: &PeerInfo) -> String {
    p.features
        .as_ref()
        .map(|f| f.to_string())
        .unwrap_or_default()
}

async fn connect(call: Call<NodeContext>) -> Result<Value, RpcError> {
    let id_text = call.params.str("id").unwrap_or_default();
    let port = call.params.u64("port").map(|p| p as u16);
    if port == Some(0) {
        return Err(call
            .registry
            .param_error("port", "should be non-zero", &json!(0)));
    }
    let p = connect_to(&call.ctx, id_text, call.params.str("host"), port)
        .await
        .map_err(|e| match e {
            ConnectError::BadId => call.registry.param_error(
                "id",
                "should be a node id",
                &Value::String(id_text.to_string()),
            ),
            ConnectError::Rpc(e) => e,
        })?;
    Ok(json!({
        "id": hex::encode(p.node_id.serialize()),
        "features": features_hex(&p),
        "direction": p.direction.as_str(),
        "address": address_json(&p),
    }))
}

/// Why [`connect_to`] failed.
pub(crate) enum ConnectError {
    /// The id is not a node id.
    BadId,
    /// CLN's error for the failure.
    Rpc(RpcError),
}

/// `connect`'s work: `id_text` is a node id with an optional `@host[:port]`, as CLN takes it.
pub(crate) async fn connect_to(
    n: &NodeContext,
    id_text: &str,
    host: Option<&str>,
    port: Option<u16>,
) -> Result<PeerInfo, ConnectError> {
    let req = parse_connect(
        id_text,
        host,
        port,
        n.config.network.default_lightning_port(),
    )
    .map_err(|msg| {
        ConnectError::Rpc(if msg.starts_with("Host ") {
            RpcError::new(LIGHTNINGD, msg)
        } else {
            RpcError::invalid_params(msg)
        })
    })?;
    let id = hex::decode(&req.id)
        .ok()
        .and_then(|b| secp256k1::PublicKey::from_slice(&b).ok())
        .ok_or(ConnectError::BadId)?;
    if id.serialize() == n.node_key_id() {
        return Err(ConnectError::Rpc(RpcError::new(
            LIGHTNINGD,
            "Cannot connect to ourselves",
        )));
    }
    let info = n
        .peers
        .connect(id, req.address.clone())
        .await
        .map_err(|e| ConnectError::Rpc(connect_failure(&req.id, e)))?;
    // Remembered so channel peers can be reconnected after a disconnection or a restart.
    if let Some(address) = req.address {
        let text = address.to_string();
        let key = id.serialize();
        let saved = n
            .onchain
            .with_store(move |s| Ok(s.save_peer_address(&key, &text)?))
            .await;
        if let Err(e) = saved {
            tracing::warn!(target: "lightningd", "cannot remember the address of {id}: {e}");
        }
    }
    Ok(info)
}

fn connect_failure(id: &str, e: ConnectFailure) -> RpcError {
    match e {
        ConnectFailure::NoAddress => RpcError::new(
            codes::CONNECT_NO_KNOWN_ADDRESS,
            format!("Unable to connect, no address known for peer {id}: give one as id@host:port"),
        ),
        ConnectFailure::Failed(e) => RpcError::new(e.code(), e.to_string()),
        ConnectFailure::ShuttingDown => {
            RpcError::new(codes::LIGHTNINGD_SHUTDOWN, "lightningd is shutting down")
        }
    }
}

/// Channel states that need the connection (CLN's "wants peer comms").
const TALKING: &[&str] = &[
    "CHANNELD_AWAITING_LOCKIN",
    "CHANNELD_NORMAL",
    "CHANNELD_SHUTTING_DOWN",
    "CLOSINGD_SIGEXCHANGE",
];

async fn disconnect(call: Call<NodeContext>) -> Result<Value, RpcError> {
    let id = pubkey(&call, "id")?;
    let connected = call.ctx.peers.list().await.iter().any(|p| p.node_id == id);
    if connected && !call.params.bool("force").unwrap_or(false) {
        let states = call.ctx.channels.states(Some(id)).await;
        if let Some((_, state)) = states.iter().find(|(_, s)| TALKING.contains(s)) {
            return Err(RpcError::new(
                LIGHTNINGD,
                format!("Peer has (at least one) channel in state {state}"),
            ));
        }
    }
    // CLN's text for a peer that is not connected.
    call.ctx.peers.disconnect(id).await.map_err(|_| {
        RpcError::invalid_params(format!(
            "Unknown peer '{}'",
            call.params.str("id").unwrap_or_default()
        ))
    })?;
    Ok(json!({}))
}

async fn listpeers(call: Call<NodeContext>) -> Result<Value, RpcError> {
    let only = match call.params.str("id") {
        Some(_) => Some(pubkey(&call, "id")?),
        None => None,
    };
    if let Some(level) = call.params.str("level") {
        if !["io", "trace", "debug", "info", "unusual", "broken"].contains(&level) {
            return Err(call.registry.param_error(
                "level",
                "should be 'io', 'debug', 'info', or 'unusual'",
                &Value::String(level.into()),
            ));
        }
    }
    // Channels per peer: peers with channels are listed even while disconnected, as CLN does.
    let mut per_peer: std::collections::BTreeMap<String, u64> = std::collections::BTreeMap::new();
    for (p, _) in call.ctx.channels.states(only).await {
        *per_peer.entry(hex::encode(p.serialize())).or_default() += 1;
    }
    let mut peers: Vec<Value> = call
        .ctx
        .peers
        .list()
        .await
        .into_iter()
        .filter(|p| only.is_none_or(|id| p.node_id == id))
        .map(|p| {
            let id = hex::encode(p.node_id.serialize());
            let n = per_peer.remove(&id).unwrap_or(0);
            json!({
                "id": id,
                "connected": true,
                "num_channels": n,
                "netaddr": [p.addr.to_string()],
                "features": features_hex(&p),
            })
        })
        .collect();
    peers.extend(
        per_peer
            .into_iter()
            .map(|(id, n)| json!({"id": id, "connected": false, "num_channels": n})),
    );
    Ok(json!({"peers": peers}))
}

async fn ping(call: Call<NodeContext>) -> Result<Value, RpcError> {
    let id = pubkey(&call, "id")?;
    let len = call.params.u64("len").unwrap_or(128) as u16;
    let pongbytes = call.params.u64("pongbytes").unwrap_or(128) as u16;
    if len > 65535 - 6 {
        return Err(RpcError::invalid_params(format!(
            "{len} would result in oversize ping"
        )));
    }
    match call.ctx.peers.ping(id, len, pongbytes).await {
        Ok(totlen) => Ok(json!({"totlen": totlen})),
        Err(e) => Err(RpcError::new(LIGHTNINGD, e)),
    }
}

/// Message types managed by the node itself, which `sendcustommsg` refuses (BOLT 1, 2, 7).
fn is_internal(t: u16) -> bool {
    matches!(t, 1 | 2 | 16..=19 | 32..=41 | 64..=81 | 128..=136 | 256..=265)
}

async fn sendcustommsg(call: Call<NodeContext>) -> Result<Value, RpcError> {
    let id = pubkey(&call, "node_id")?;
    let raw = hex::decode(call.params.str("msg").unwrap_or_default()).unwrap_or_default();
    let Some(t) = raw.get(..2).map(|b| u16::from_be_bytes([b[0], b[1]])) else {
        return Err(call.registry.param_error(
            "msg",
            "should be a message of at least 2 bytes (its type)",
            &json!(hex::encode(&raw)),
        ));
    };
    if is_internal(t) {
        return Err(RpcError::invalid_request(format!(
            "Cannot send messages of type {t}. It is not possible to send messages that have a type managed internally since that might cause issues with the internal state tracking."
        )));
    }
    if raw.len() > 65535 {
        return Err(call.registry.param_error(
            "msg",
            "should be at most 65535 bytes",
            &json!(raw.len()),
        ));
    }
    call.ctx
        .peers
        .send_custom(id, raw)
        .await
        .map_err(RpcError::invalid_request)?;
    Ok(json!({"status": "Message sent to connectd for delivery"}))
}
