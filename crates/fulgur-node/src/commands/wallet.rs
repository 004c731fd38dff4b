//! Wallet commands that need no chain data: `newaddr`, `listaddresses`, `signmessage`,
//! `checkmessage` (CLN v26.06 parameters, results and errors).

use super::command;
use crate::context::NodeContext;
use fulgur_rpc::{Call, CommandDef};
use fulgur_rpc_types::{ParamKind, ParamSpec, RpcError};
use fulgur_wallet::AddrType;
use serde_json::{json, Map, Value};

const NEWADDR: &[ParamSpec] = &[ParamSpec::opt("addresstype", ParamKind::String)];
const LISTADDRESSES: &[ParamSpec] = &[
    ParamSpec::opt("address", ParamKind::String),
    ParamSpec::opt("start", ParamKind::U64),
    ParamSpec::opt("limit", ParamKind::U32),
];
const SIGNMESSAGE: &[ParamSpec] = &[ParamSpec::req("message", ParamKind::String)];
const CHECKMESSAGE: &[ParamSpec] = &[
    ParamSpec::req("message", ParamKind::String),
    ParamSpec::req("zbase", ParamKind::String),
    ParamSpec::opt("pubkey", ParamKind::Pubkey),
];

pub(super) fn defs() -> Vec<CommandDef<NodeContext>> {
    vec![
        command(
            "newaddr",
            NEWADDR,
            include_str!("../../../../doc/rpc/newaddr.md"),
            newaddr,
        ),
        command(
            "listaddresses",
            LISTADDRESSES,
            include_str!("../../../../doc/rpc/listaddresses.md"),
            listaddresses,
        ),
        command(
            "signmessage",
            SIGNMESSAGE,
            include_str!("../../../../doc/rpc/signmessage.md"),
            signmessage,
        ),
        command(
            "checkmessage",
            CHECKMESSAGE,
            include_str!("../../../../doc/rpc/checkmessage.md"),
            checkmessage,
        ),
    ]
}

/// CLN's code for a signature whose key is not a known node.
const SIGNMESSAGE_PUBKEY_NOT_FOUND: i64 = 1301;

fn internal(e: impl std::fmt::Display) -> RpcError {
    RpcError::new(-1, e.to_string())
}

async fn newaddr(call: Call<NodeContext>) -> Result<Value, RpcError> {
    let types = match call.params.str("addresstype").unwrap_or("p2tr") {
        "p2tr" => vec![AddrType::P2tr],
        "bech32" => vec![AddrType::Bech32],
        "all" => vec![AddrType::Bech32, AddrType::P2tr],
        other => {
            return Err(call.registry.param_error(
                "addresstype",
                "should be one of 'bech32', 'p2tr' or 'all'",
                &Value::String(other.to_string()),
            ))
        }
    };
    let (_, addrs) = call
        .ctx
        .onchain
        .new_address(types)
        .await
        .map_err(internal)?;
    let mut out = Map::new();
    for (t, a) in addrs {
        out.insert(t.name().to_string(), Value::String(a.to_string()));
    }
    Ok(Value::Object(out))
}

async fn listaddresses(call: Call<NodeContext>) -> Result<Value, RpcError> {
    let start = call
        .params
        .u64("start")
        .map(|s| s.min(u64::from(u32::MAX)) as u32);
    let limit = call.params.u64("limit").map(|l| l as u32);
    let wanted = call.params.str("address").map(str::to_string);
    let rows = call
        .ctx
        .onchain
        .with_store(move |s| Ok(s.list_addresses(start, limit)?))
        .await
        .map_err(internal)?;
    let keys = &call.ctx.onchain.keys;
    let mut entries: Vec<Map<String, Value>> = Vec::new();
    for (index, t) in rows {
        let addr = keys.address(index, t).map_err(internal)?.to_string();
        if wanted.as_ref().is_some_and(|w| *w != addr) {
            continue;
        }
        match entries.last_mut() {
            Some(e) if e.get("keyidx") == Some(&json!(index)) => {
                e.insert(t.name().into(), Value::String(addr));
            }
            _ => {
                let mut e = Map::new();
                e.insert("keyidx".into(), json!(index));
                e.insert(t.name().into(), Value::String(addr));
                entries.push(e);
            }
        }
    }
    Ok(json!({"addresses": entries}))
}

async fn signmessage(call: Call<NodeContext>) -> Result<Value, RpcError> {
    let message = call.params.str("message").unwrap_or_default();
    let signed = fulgur_wallet::sign_message(&call.ctx.node_key, message.as_bytes())
        .map_err(|e| RpcError::new(e.code().into(), e.to_string()))?;
    Ok(
        json!({"signature": signed.signature_hex(), "recid": signed.recid_hex(), "zbase": signed.zbase}),
    )
}

async fn checkmessage(call: Call<NodeContext>) -> Result<Value, RpcError> {
    let message = call.params.str("message").unwrap_or_default();
    let zbase = call.params.str("zbase").unwrap_or_default();
    let pubkey = match call.params.str("pubkey") {
        Some(p) => Some(
            hex::decode(p)
                .ok()
                .and_then(|b| secp256k1::PublicKey::from_slice(&b).ok())
                .ok_or_else(|| {
                    call.registry.param_error(
                        "pubkey",
                        "should be a pubkey",
                        &Value::String(p.into()),
                    )
                })?,
        ),
        None => None,
    };
    let checked = fulgur_wallet::check_message(message.as_bytes(), zbase, pubkey.as_ref())
        .map_err(|e| RpcError::new(e.code().into(), e.to_string()))?;
    // Without a key CLN accepts the recovered key only if it is a known node; with no
    // gossip yet, our own id and connected peers are the nodes we know.
    let verified = match (checked.verified, pubkey, checked.pubkey) {
        (true, _, _) => true,
        (false, None, Some(recovered)) => {
            recovered.serialize() == call.ctx.node_id_bytes
                || call
                    .ctx
                    .peers
                    .list()
                    .await
                    .iter()
                    .any(|p| p.node_id == recovered)
        }
        _ => false,
    };
    let Some(recovered) = checked.pubkey else {
        // Nothing could be recovered: CLN answers with `verified: false` alone.
        return Ok(json!({"verified": false}));
    };
    let shown = hex::encode(recovered.serialize());
    if !verified && pubkey.is_none() {
        return Err(RpcError::new(
            SIGNMESSAGE_PUBKEY_NOT_FOUND,
            "pubkey not found in the graph",
        )
        .with_data(json!({"claimed_key": shown})));
    }
    Ok(json!({"pubkey": shown, "verified": verified}))
}
