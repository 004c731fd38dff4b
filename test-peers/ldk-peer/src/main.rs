//! `ldk-peer`: a thin, test-only wrapper around an `ldk-node` [`Node`], driven as a separate
//! process over a line-oriented JSON protocol on stdin/stdout.
//!
//! Fulgur's integration tests use it as a real, independent Lightning peer.
//!
//! Startup: after the node is built and started, exactly one line is printed on stdout:
//!   `{"event":"ready","node_id":"<hex>","listen":"127.0.0.1:PORT"}`
//! (or `{"event":"startup_failed","error":"..."}` followed by exit code 1).
//!
//! Then every stdin line is a request `{"id":N,"method":"...","params":{...}}` answered by one
//! stdout line `{"id":N,"result":...}` or `{"id":N,"error":"message"}`. Requests are handled
//! one at a time, in order. Unsolicited `{"event":"..."}` lines (ldk-node events) may be
//! interleaved with answers; answers always carry `id`, events never do.
//!
//! See README.md next to this file for the full protocol.

use std::fs;
use std::io::{self, BufRead, Write};
use std::path::{Path, PathBuf};
use std::process;
use std::str::FromStr;
use std::sync::mpsc;
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use ldk_node::bitcoin::secp256k1::PublicKey;
use ldk_node::bitcoin::Network;
use ldk_node::lightning::ln::msgs::SocketAddress;
use ldk_node::logger::LogLevel;
use ldk_node::{Builder, ChannelDetails, Event, Node, UserChannelId};
use serde_json::{json, Map, Value};

const SEED_FILE_NAME: &str = "keys_seed";
const SEED_LEN: usize = 64;
const LOG_FILE_NAME: &str = "ldk_node.log";

const USAGE: &str = "usage: ldk-peer --datadir DIR --network regtest --listen 127.0.0.1:PORT \
--bitcoind-rpc HOST:PORT --bitcoind-user U --bitcoind-password P [--alias NAME] \
[--seed-hex HEX128] [--log-level gossip|trace|debug|info|warn|error] [--sync-timeout SECS] \
[--no-events]";

struct Args {
    datadir: PathBuf,
    network: Network,
    listen: String,
    rpc_host: String,
    rpc_port: u16,
    rpc_user: String,
    rpc_password: String,
    alias: Option<String>,
    seed_hex: Option<String>,
    log_level: LogLevel,
    events: bool,
    sync_timeout: Duration,
}

fn parse_args() -> Result<Args, String> {
    let mut datadir = None;
    let mut network = None;
    let mut listen = None;
    let mut rpc = None;
    let mut rpc_user = None;
    let mut rpc_password = None;
    let mut alias = None;
    let mut seed_hex = None;
    let mut log_level = LogLevel::Trace;
    let mut events = true;
    let mut sync_timeout = Duration::from_secs(60);

    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        if flag == "-h" || flag == "--help" {
            println!("{USAGE}");
            process::exit(0);
        }
        if flag == "--no-events" {
            events = false;
            continue;
        }
        let value = it
            .next()
            .ok_or_else(|| format!("missing value for {flag}"))?;
        match flag.as_str() {
            "--datadir" => datadir = Some(PathBuf::from(value)),
            "--network" => {
                network = Some(
                    Network::from_str(&value)
                        .map_err(|e| format!("invalid --network {value:?}: {e}"))?,
                )
            }
            "--listen" => listen = Some(value),
            "--bitcoind-rpc" => rpc = Some(value),
            "--bitcoind-user" => rpc_user = Some(value),
            "--bitcoind-password" => rpc_password = Some(value),
            "--alias" => alias = Some(value),
            "--seed-hex" => seed_hex = Some(value),
            "--sync-timeout" => {
                sync_timeout = Duration::from_secs(
                    value
                        .parse()
                        .map_err(|e| format!("invalid --sync-timeout {value:?}: {e}"))?,
                )
            }
            "--log-level" => {
                log_level = match value.to_ascii_lowercase().as_str() {
                    "gossip" => LogLevel::Gossip,
                    "trace" => LogLevel::Trace,
                    "debug" => LogLevel::Debug,
                    "info" => LogLevel::Info,
                    "warn" => LogLevel::Warn,
                    "error" => LogLevel::Error,
                    _ => return Err(format!("invalid --log-level {value:?}")),
                }
            }
            _ => return Err(format!("unknown argument {flag:?}")),
        }
    }

    let rpc = rpc.ok_or("missing --bitcoind-rpc")?;
    let (rpc_host, rpc_port) = rpc
        .rsplit_once(':')
        .ok_or_else(|| format!("invalid --bitcoind-rpc {rpc:?}"))?;
    let rpc_port = rpc_port
        .parse::<u16>()
        .map_err(|e| format!("invalid --bitcoind-rpc port: {e}"))?;

    Ok(Args {
        datadir: datadir.ok_or("missing --datadir")?,
        network: network.ok_or("missing --network")?,
        listen: listen.ok_or("missing --listen")?,
        rpc_host: rpc_host.to_string(),
        rpc_port,
        rpc_user: rpc_user.ok_or("missing --bitcoind-user")?,
        rpc_password: rpc_password.ok_or("missing --bitcoind-password")?,
        alias,
        seed_hex,
        log_level,
        events,
        sync_timeout,
    })
}

fn decode_hex(s: &str) -> Result<Vec<u8>, String> {
    if s.len() % 2 != 0 {
        return Err("odd-length hex string".into());
    }
    (0..s.len())
        .step_by(2)
        .map(|i| {
            u8::from_str_radix(s.get(i..i + 2).ok_or("invalid hex")?, 16)
                .map_err(|e| format!("invalid hex: {e}"))
        })
        .collect()
}

/// Makes sure `DIR/keys_seed` exists. If `--seed-hex` was given, the file is created from it
/// (or must already hold exactly those bytes); otherwise ldk-node creates a random one.
fn prepare_seed(datadir: &Path, seed_hex: Option<&str>) -> Result<PathBuf, String> {
    let path = datadir.join(SEED_FILE_NAME);
    if let Some(hex) = seed_hex {
        let seed = decode_hex(hex.trim())?;
        if seed.len() != SEED_LEN {
            return Err(format!(
                "--seed-hex must be {SEED_LEN} bytes, got {}",
                seed.len()
            ));
        }
        if path.exists() {
            let existing = fs::read(&path).map_err(|e| format!("reading {path:?}: {e}"))?;
            if existing != seed {
                return Err(format!("{path:?} exists and differs from --seed-hex"));
            }
        } else {
            fs::write(&path, &seed).map_err(|e| format!("writing {path:?}: {e}"))?;
        }
    }
    Ok(path)
}

fn build_node(args: &Args) -> Result<Node, String> {
    fs::create_dir_all(&args.datadir)
        .map_err(|e| format!("creating datadir {:?}: {e}", args.datadir))?;
    let datadir = args
        .datadir
        .canonicalize()
        .map_err(|e| format!("canonicalizing datadir {:?}: {e}", args.datadir))?;
    let seed_path = prepare_seed(&datadir, args.seed_hex.as_deref())?;
    let listen = SocketAddress::from_str(&args.listen)
        .map_err(|e| format!("invalid --listen {:?}: {e:?}", args.listen))?;

    let mut builder = Builder::new();
    builder.set_network(args.network);
    builder.set_storage_dir_path(datadir.to_string_lossy().into_owned());
    builder.set_filesystem_logger(
        Some(datadir.join(LOG_FILE_NAME).to_string_lossy().into_owned()),
        Some(args.log_level),
    );
    builder.set_entropy_seed_path(seed_path.to_string_lossy().into_owned());
    builder.set_chain_source_bitcoind_rpc(
        args.rpc_host.clone(),
        args.rpc_port,
        args.rpc_user.clone(),
        args.rpc_password.clone(),
    );
    builder
        .set_listening_addresses(vec![listen])
        .map_err(|e| format!("listen address: {e}"))?;
    if let Some(alias) = &args.alias {
        builder
            .set_node_alias(alias.clone())
            .map_err(|e| format!("alias: {e}"))?;
    }
    builder.build().map_err(|e| format!("building node: {e}"))
}

/// Line-at-a-time writer for stdout. Answers and events come from two threads; each line is
/// written and flushed while holding the stdout lock, so lines never interleave.
#[derive(Clone, Copy)]
struct Out;

impl Out {
    fn line(&self, v: &Value) {
        let mut s = v.to_string();
        s.push('\n');
        let mut lock = io::stdout().lock();
        // If stdout is gone the controlling process is gone: nothing sensible left to do.
        if lock
            .write_all(s.as_bytes())
            .and_then(|_| lock.flush())
            .is_err()
        {
            process::exit(0);
        }
    }
}

fn params_str<'a>(params: &'a Value, key: &str) -> Result<&'a str, String> {
    params
        .get(key)
        .and_then(Value::as_str)
        .ok_or_else(|| format!("missing string param {key:?}"))
}

fn params_pubkey(params: &Value, key: &str) -> Result<PublicKey, String> {
    let s = params_str(params, key)?;
    PublicKey::from_str(s).map_err(|e| format!("invalid {key}: {e}"))
}

fn params_u64(params: &Value, key: &str) -> Result<Option<u64>, String> {
    match params.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_u64()
            .map(Some)
            .ok_or_else(|| format!("param {key:?} must be a non-negative integer")),
    }
}

fn params_bool(params: &Value, key: &str) -> Result<Option<bool>, String> {
    match params.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_bool()
            .map(Some)
            .ok_or_else(|| format!("param {key:?} must be a boolean")),
    }
}

/// A `user_channel_id` (a u128): a decimal string as `open_channel` / `list_channels` return
/// it, or a JSON integer if it fits in a u64.
fn params_user_channel_id(params: &Value, key: &str) -> Result<UserChannelId, String> {
    let v = params
        .get(key)
        .ok_or_else(|| format!("missing param {key:?}"))?;
    let n = match v {
        Value::String(s) => s
            .parse::<u128>()
            .map_err(|e| format!("invalid {key} {s:?}: {e}"))?,
        Value::Number(n) => n
            .as_u64()
            .ok_or_else(|| format!("invalid {key} {n}"))?
            .into(),
        _ => return Err(format!("param {key:?} must be a decimal string")),
    };
    Ok(UserChannelId(n))
}

/// ldk-node's `close_channel` / `force_close_channel` silently do nothing for a channel they
/// don't know; make that an error instead.
fn check_channel_exists(
    node: &Node,
    ucid: &UserChannelId,
    counterparty: &PublicKey,
) -> Result<(), String> {
    if node
        .list_channels()
        .iter()
        .any(|c| c.user_channel_id == *ucid && c.counterparty_node_id == *counterparty)
    {
        Ok(())
    } else {
        Err(format!(
            "no channel with user_channel_id {} and counterparty {counterparty}",
            ucid.0
        ))
    }
}

fn channel_json(c: &ChannelDetails) -> Value {
    json!({
        "channel_id": c.channel_id.to_string(),
        "counterparty_node_id": c.counterparty_node_id.to_string(),
        "user_channel_id": c.user_channel_id.0.to_string(),
        "funding_txo": opt_str(&c.funding_txo),
        "short_channel_id": c.short_channel_id,
        "outbound_scid_alias": c.outbound_scid_alias,
        "inbound_scid_alias": c.inbound_scid_alias,
        "channel_value_sats": c.channel_value_sats,
        "unspendable_punishment_reserve": c.unspendable_punishment_reserve,
        "counterparty_unspendable_punishment_reserve": c.counterparty_unspendable_punishment_reserve,
        "feerate_sat_per_1000_weight": c.feerate_sat_per_1000_weight,
        "outbound_capacity_msat": c.outbound_capacity_msat,
        "inbound_capacity_msat": c.inbound_capacity_msat,
        "next_outbound_htlc_limit_msat": c.next_outbound_htlc_limit_msat,
        "next_outbound_htlc_minimum_msat": c.next_outbound_htlc_minimum_msat,
        "inbound_htlc_minimum_msat": c.inbound_htlc_minimum_msat,
        "inbound_htlc_maximum_msat": c.inbound_htlc_maximum_msat,
        "confirmations_required": c.confirmations_required,
        "confirmations": c.confirmations,
        "is_outbound": c.is_outbound,
        "is_channel_ready": c.is_channel_ready,
        "is_usable": c.is_usable,
        "is_announced": c.is_announced,
        "cltv_expiry_delta": c.cltv_expiry_delta,
        "force_close_spend_delay": c.force_close_spend_delay,
        "counterparty_outbound_htlc_minimum_msat": c.counterparty_outbound_htlc_minimum_msat,
        "counterparty_outbound_htlc_maximum_msat": c.counterparty_outbound_htlc_maximum_msat,
        "counterparty_forwarding_info_fee_base_msat": c.counterparty_forwarding_info_fee_base_msat,
        "counterparty_forwarding_info_fee_proportional_millionths":
            c.counterparty_forwarding_info_fee_proportional_millionths,
        "counterparty_forwarding_info_cltv_expiry_delta":
            c.counterparty_forwarding_info_cltv_expiry_delta,
        "config": {
            "forwarding_fee_base_msat": c.config.forwarding_fee_base_msat,
            "forwarding_fee_proportional_millionths": c.config.forwarding_fee_proportional_millionths,
            "cltv_expiry_delta": c.config.cltv_expiry_delta,
            "force_close_avoidance_max_fee_satoshis": c.config.force_close_avoidance_max_fee_satoshis,
        },
        "debug": format!("{c:?}"),
    })
}

fn node_err(e: ldk_node::NodeError) -> String {
    format!("{e} ({e:?})")
}

/// Executes one request. `Ok(true)` in the second slot means "exit after answering".
fn handle(node: &Node, method: &str, params: &Value) -> (Result<Value, String>, bool) {
    let res = match method {
        "node_id" => Ok(json!(node.node_id().to_string())),
        "connect" => (|| {
            let node_id = params_pubkey(params, "node_id")?;
            let addr_s = params_str(params, "address")?;
            let addr = SocketAddress::from_str(addr_s)
                .map_err(|e| format!("invalid address {addr_s:?}: {e:?}"))?;
            let persist = params
                .get("persist")
                .and_then(Value::as_bool)
                .unwrap_or(false);
            node.connect(node_id, addr, persist).map_err(node_err)?;
            Ok(Value::Null)
        })(),
        "disconnect" => (|| {
            let node_id = params_pubkey(params, "node_id")?;
            node.disconnect(node_id).map_err(node_err)?;
            Ok(Value::Null)
        })(),
        "list_peers" => Ok(Value::Array(
            node.list_peers()
                .into_iter()
                .map(|p| {
                    json!({
                        "node_id": p.node_id.to_string(),
                        "address": p.address.to_string(),
                        "is_connected": p.is_connected,
                        "is_persisted": p.is_persisted,
                    })
                })
                .collect(),
        )),
        "new_address" => node
            .onchain_payment()
            .new_address()
            .map(|a| json!(a.to_string()))
            .map_err(node_err),
        "open_channel" => (|| {
            let node_id = params_pubkey(params, "node_id")?;
            let addr_s = params_str(params, "address")?;
            let addr = SocketAddress::from_str(addr_s)
                .map_err(|e| format!("invalid address {addr_s:?}: {e:?}"))?;
            let amount_sat = params_u64(params, "channel_amount_sat")?
                .ok_or("missing integer param \"channel_amount_sat\"")?;
            let push_msat = params_u64(params, "push_msat")?;
            let announce = params_bool(params, "announce")?.unwrap_or(false);
            let ucid = if announce {
                node.open_announced_channel(node_id, addr, amount_sat, push_msat, None)
            } else {
                node.open_channel(node_id, addr, amount_sat, push_msat, None)
            }
            .map_err(node_err)?;
            Ok(json!({ "user_channel_id": ucid.0.to_string() }))
        })(),
        "list_channels" => Ok(Value::Array(
            node.list_channels().iter().map(channel_json).collect(),
        )),
        "close_channel" => (|| {
            let ucid = params_user_channel_id(params, "user_channel_id")?;
            let counterparty = params_pubkey(params, "counterparty_node_id")?;
            check_channel_exists(node, &ucid, &counterparty)?;
            node.close_channel(&ucid, counterparty).map_err(node_err)?;
            Ok(Value::Null)
        })(),
        "force_close_channel" => (|| {
            let ucid = params_user_channel_id(params, "user_channel_id")?;
            let counterparty = params_pubkey(params, "counterparty_node_id")?;
            let reason = match params.get("reason") {
                None | Some(Value::Null) => None,
                Some(Value::String(r)) => Some(r.clone()),
                Some(_) => return Err("param \"reason\" must be a string".to_string()),
            };
            check_channel_exists(node, &ucid, &counterparty)?;
            node.force_close_channel(&ucid, counterparty, reason)
                .map_err(node_err)?;
            Ok(Value::Null)
        })(),
        "balances" | "list_balances" => {
            let b = node.list_balances();
            Ok(json!({
                "total_onchain_balance_sats": b.total_onchain_balance_sats,
                "spendable_onchain_balance_sats": b.spendable_onchain_balance_sats,
                "total_anchor_channels_reserve_sats": b.total_anchor_channels_reserve_sats,
                "total_lightning_balance_sats": b.total_lightning_balance_sats,
                "lightning_balances": b.lightning_balances.iter()
                    .map(|l| format!("{l:?}")).collect::<Vec<_>>(),
                "pending_balances_from_channel_closures": b.pending_balances_from_channel_closures
                    .iter().map(|l| format!("{l:?}")).collect::<Vec<_>>(),
            }))
        }
        "spontaneous_send" => (|| {
            let node_id = params_pubkey(params, "node_id")?;
            let amount_msat = params_u64(params, "amount_msat")?
                .ok_or("missing integer param \"amount_msat\"")?;
            let id = node
                .spontaneous_payment()
                .send(amount_msat, node_id, None)
                .map_err(node_err)?;
            Ok(json!({ "payment_id": hex_bytes(&id.0) }))
        })(),
        "sync" => node.sync_wallets().map(|_| Value::Null).map_err(node_err),
        "stop" => {
            let r = node.stop().map(|_| Value::Null).map_err(node_err);
            return (r, true);
        }
        other => Err(format!("unknown method {other:?}")),
    };
    (res, false)
}

fn opt_str<T: ToString>(v: &Option<T>) -> Value {
    v.as_ref().map_or(Value::Null, |x| json!(x.to_string()))
}

fn event_json(ev: &Event) -> Value {
    let mut v = match ev {
        Event::PaymentSuccessful {
            payment_id,
            payment_hash,
            payment_preimage,
            fee_paid_msat,
        } => {
            json!({
                "event": "payment_successful",
                "payment_id": opt_str(payment_id),
                "payment_hash": payment_hash.to_string(),
                "payment_preimage": opt_str(payment_preimage),
                "fee_paid_msat": fee_paid_msat,
            })
        }
        Event::PaymentFailed {
            payment_id,
            payment_hash,
            reason,
        } => json!({
            "event": "payment_failed",
            "payment_id": opt_str(payment_id),
            "payment_hash": opt_str(payment_hash),
            "reason": reason.as_ref().map(|r| format!("{r:?}")),
        }),
        Event::PaymentReceived {
            payment_id,
            payment_hash,
            amount_msat,
            ..
        } => json!({
            "event": "payment_received",
            "payment_id": opt_str(payment_id),
            "payment_hash": payment_hash.to_string(),
            "amount_msat": amount_msat,
        }),
        Event::PaymentClaimable {
            payment_id,
            payment_hash,
            claimable_amount_msat,
            ..
        } => {
            json!({
                "event": "payment_claimable",
                "payment_id": payment_id.to_string(),
                "payment_hash": payment_hash.to_string(),
                "claimable_amount_msat": claimable_amount_msat,
            })
        }
        Event::PaymentForwarded {
            prev_channel_id,
            next_channel_id,
            total_fee_earned_msat,
            ..
        } => {
            json!({
                "event": "payment_forwarded",
                "prev_channel_id": prev_channel_id.to_string(),
                "next_channel_id": next_channel_id.to_string(),
                "total_fee_earned_msat": total_fee_earned_msat,
            })
        }
        Event::ChannelPending {
            channel_id,
            user_channel_id,
            former_temporary_channel_id,
            counterparty_node_id,
            funding_txo,
        } => json!({
            "event": "channel_pending",
            "channel_id": channel_id.to_string(),
            "user_channel_id": user_channel_id.0.to_string(),
            "former_temporary_channel_id": former_temporary_channel_id.to_string(),
            "counterparty_node_id": counterparty_node_id.to_string(),
            "funding_txo": funding_txo.to_string(),
        }),
        Event::ChannelReady {
            channel_id,
            user_channel_id,
            counterparty_node_id,
            funding_txo,
        } => {
            json!({
                "event": "channel_ready",
                "channel_id": channel_id.to_string(),
                "user_channel_id": user_channel_id.0.to_string(),
                "counterparty_node_id": opt_str(counterparty_node_id),
                "funding_txo": opt_str(funding_txo),
            })
        }
        Event::ChannelClosed {
            channel_id,
            user_channel_id,
            counterparty_node_id,
            reason,
        } => {
            json!({
                "event": "channel_closed",
                "channel_id": channel_id.to_string(),
                "user_channel_id": user_channel_id.0.to_string(),
                "counterparty_node_id": opt_str(counterparty_node_id),
                "reason": opt_str(reason),
                // The `ClosureReason` variant name, e.g. "HolderForceClosed",
                // "CounterpartyForceClosed", "LocallyInitiatedCooperativeClosure",
                // "CounterpartyInitiatedCooperativeClosure" (`reason` is its prose).
                "reason_kind": reason.as_ref().map(|r| {
                    let d = format!("{r:?}");
                    d.split(|c: char| !c.is_alphanumeric() && c != '_')
                        .next()
                        .unwrap_or_default()
                        .to_string()
                }),
            })
        }
        Event::SplicePending {
            channel_id,
            user_channel_id,
            counterparty_node_id,
            new_funding_txo,
        } => json!({
            "event": "splice_pending",
            "channel_id": channel_id.to_string(),
            "user_channel_id": user_channel_id.0.to_string(),
            "counterparty_node_id": counterparty_node_id.to_string(),
            "new_funding_txo": new_funding_txo.to_string(),
        }),
        Event::SpliceFailed {
            channel_id,
            user_channel_id,
            counterparty_node_id,
            ..
        } => json!({
            "event": "splice_failed",
            "channel_id": channel_id.to_string(),
            "user_channel_id": user_channel_id.0.to_string(),
            "counterparty_node_id": counterparty_node_id.to_string(),
        }),
        #[allow(unreachable_patterns)]
        _ => json!({ "event": "other" }),
    };
    // Always include the full Debug rendering so nothing is lost for fields not mapped above.
    if let Value::Object(m) = &mut v {
        m.insert("debug".into(), json!(format!("{ev:?}")));
    }
    v
}

fn stop_and_exit(node: &Node, code: i32) -> ! {
    let _ = node.stop();
    process::exit(code);
}

fn main() {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("ldk-peer: {e}\n{USAGE}");
            process::exit(2);
        }
    };
    let out = Out;

    let node = match build_node(&args) {
        Ok(n) => Arc::new(n),
        Err(e) => {
            eprintln!("ldk-peer: {e}");
            out.line(&json!({"event": "startup_failed", "error": e}));
            process::exit(1);
        }
    };
    let startup_failed = |e: String| -> ! {
        eprintln!("ldk-peer: {e}");
        out.line(&json!({"event": "startup_failed", "error": e}));
        process::exit(1);
    };
    if let Err(e) = node.start() {
        startup_failed(format!("starting node: {}", node_err(e)));
    }

    // `start` succeeds even if bitcoind is unreachable (ldk-node then keeps retrying its initial
    // chain sync with backoff). Wait for that initial sync so that "ready" means the node is
    // synced to bitcoind's tip, and fail fast on a bad RPC address or credentials.
    let (tx, rx) = mpsc::channel();
    let sync_node = Arc::clone(&node);
    thread::spawn(move || {
        let _ = tx.send(sync_node.sync_wallets());
    });
    match rx.recv_timeout(args.sync_timeout) {
        Ok(Ok(())) => {}
        Ok(Err(e)) => startup_failed(format!("initial chain sync failed: {}", node_err(e))),
        Err(_) => startup_failed(format!(
            "initial chain sync did not finish within {}s; is bitcoind RPC reachable at {}:{} \
             with these credentials? (see {})",
            args.sync_timeout.as_secs(),
            args.rpc_host,
            args.rpc_port,
            node.config().storage_dir_path + "/" + LOG_FILE_NAME,
        )),
    }

    out.line(&json!({
        "event": "ready",
        "node_id": node.node_id().to_string(),
        "listen": args.listen,
    }));

    if args.events {
        let node = Arc::clone(&node);
        thread::Builder::new()
            .name("ldk-peer-events".into())
            .spawn(move || loop {
                let ev = node.wait_next_event();
                out.line(&event_json(&ev));
                if let Err(e) = node.event_handled() {
                    eprintln!("ldk-peer: event_handled failed: {e}");
                }
            })
            .expect("spawning event thread");
    }

    let stdin = io::stdin();
    for line in stdin.lock().lines() {
        let line = match line {
            Ok(l) => l,
            Err(e) => {
                eprintln!("ldk-peer: reading stdin: {e}");
                stop_and_exit(&node, 1);
            }
        };
        if line.trim().is_empty() {
            continue;
        }
        let req: Value = match serde_json::from_str(&line) {
            Ok(v @ Value::Object(_)) => v,
            Ok(_) => {
                out.line(&json!({"id": null, "error": "request must be a JSON object"}));
                continue;
            }
            Err(e) => {
                out.line(&json!({"id": null, "error": format!("invalid JSON: {e}")}));
                continue;
            }
        };
        let id = req.get("id").cloned().unwrap_or(Value::Null);
        let empty = Value::Object(Map::new());
        let params = req.get("params").unwrap_or(&empty);
        let (res, exit) = match req.get("method").and_then(Value::as_str) {
            Some(m) => handle(&node, m, params),
            None => (Err("missing \"method\"".to_string()), false),
        };
        match res {
            Ok(r) => out.line(&json!({"id": id, "result": r})),
            Err(e) => out.line(&json!({"id": id, "error": e})),
        }
        if exit {
            process::exit(0);
        }
    }

    // stdin closed: the controlling process is done with us.
    stop_and_exit(&node, 0);
}

fn hex_bytes(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}
