//! Spending the on-chain wallet, shared by `withdraw`, `multiwithdraw`, `txprepare`/`txsend`/
//! `txdiscard`, `fundpsbt`/`utxopsbt`, `reserveinputs`/`unreserveinputs`, `signpsbt` and
//! `sendpsbt` (Core Lightning v26.06 behaviour, error codes and messages).
//!
//! The rules every path follows:
//! - coins are chosen and reserved in one database transaction
//!   ([`fulgur_store::Store::select_and_reserve`]), so concurrent operations never get the same
//!   coins; explicit `utxos` are reserved with an all-or-nothing [`fulgur_store::Store::reserve`];
//! - change goes to a freshly issued P2TR key of ours, recorded before the PSBT is returned;
//! - new transactions get CLN's anti-fee-sniping locktime and RBF-signalling inputs;
//! - a transaction is recorded ([`fulgur_store::Store::record_broadcast`]) before it is handed
//!   to bitcoind; if bitcoind refuses it, the record is undone and the inputs are released,
//!   and the caller gets CLN's "Error broadcasting transaction" error;
//! - anything that fails after coins were reserved releases them again.

use crate::context::NodeContext;
use crate::onchain::OnchainError;
use bitcoin::absolute::LockTime;
use bitcoin::consensus::encode;
use bitcoin::psbt::Psbt;
use bitcoin::{OutPoint, ScriptBuf, Transaction, TxOut, Txid};
use fulgur_rpc_types::RpcError;
use fulgur_store::{
    AvailableOutput, BroadcastTx, NewOutput, OutputInfo, OutputState, ReservationChange,
    ReserveError, SelectError,
};
use fulgur_types::{AmountSat, FeerateName, FeeratePerKw, FeerateSpec};
use fulgur_wallet::{
    build_psbt, default_locktime, extract_tx, finalize_psbt, sign_psbt, AddrType, Change, Coin,
    FundError, FundParams, Funding, OutputRequest, OwnedInput, PsbtError, Target,
};
use std::collections::{HashMap, HashSet};

mod build;
mod select;
mod send;

pub use build::*;
pub use select::*;
pub use send::*;

/// How long coins stay reserved by default (CLN's `RESERVATION_DEFAULT`, about 12 hours).
pub const RESERVATION_DEFAULT: u32 = 72;
/// CLN's catch-all error code.
pub const LIGHTNINGD: i64 = -1;
/// JSON-RPC's invalid-parameters code.
pub const INVALID_PARAMS: i64 = -32602;
/// CLN's code for "not enough funds" (`FUND_CANNOT_AFFORD`).
pub const FUND_CANNOT_AFFORD: i64 = 301;
/// CLN's code for a dust output (`FUND_OUTPUT_IS_DUST`).
pub const FUND_OUTPUT_IS_DUST: i64 = 302;
/// CLN's code for "cannot afford" while the chain is still loading
/// (`FUNDING_STILL_SYNCING_BITCOIN`).
pub const FUNDING_STILL_SYNCING_BITCOIN: i64 = 304;

/// An internal failure (database, task), as CLN's catch-all error.
pub fn internal(e: impl std::fmt::Display) -> RpcError {
    RpcError::new(LIGHTNINGD, e.to_string())
}

fn invalid(message: impl Into<String>) -> RpcError {
    RpcError::new(INVALID_PARAMS, message)
}

// ---------------------------------------------------------------------------------------------
// Encodings.

/// Standard base64 with padding (how PSBTs travel in JSON).
pub fn base64_encode(data: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(data)
}

/// Decodes standard base64 (padding optional); anything outside the alphabet is refused.
pub fn base64_decode(text: &str) -> Option<Vec<u8>> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(text.trim_end_matches('='))
        .ok()
}

/// A PSBT as CLN shows it: base64 of the BIP 174 binary form.
pub fn psbt_base64(psbt: &Psbt) -> String {
    base64_encode(&psbt.serialize())
}

/// A PSBT received as a parameter: version 0, or version 2 (BIP 370, what recent Bitcoin Core
/// creates) turned into version 0, keeping the original to answer in its version.
#[derive(Debug, Clone)]
pub struct ReceivedPsbt {
    /// The PSBT, as version 0.
    pub psbt: Psbt,
    /// The original BIP 174 bytes when it was version 2.
    pub v2: Option<Vec<u8>>,
}

impl ReceivedPsbt {
    /// `psbt` in base64, in the version the PSBT was received in (CLN answers `signpsbt` in
    /// the version it was given).
    pub fn to_base64(&self, psbt: &Psbt) -> String {
        match self
            .v2
            .as_deref()
            .and_then(|orig| psbt_v2::from_v0(psbt, orig))
        {
            Some(bytes) => base64_encode(&bytes),
            None => psbt_base64(psbt),
        }
    }
}

/// Parses a base64 PSBT of version 0 or 2 (CLN's `param_psbt`): `None` if it is not one.
pub fn parse_psbt(text: &str) -> Option<ReceivedPsbt> {
    let bytes = base64_decode(text)?;
    if let Ok(psbt) = fulgur_wallet::decode_psbt(&bytes) {
        return Some(ReceivedPsbt { psbt, v2: None });
    }
    let v0 = psbt_v2::to_v0(&bytes)?;
    let psbt = fulgur_wallet::decode_psbt(&v0).ok()?;
    Some(ReceivedPsbt {
        psbt,
        v2: Some(bytes),
    })
}

/// Converting between PSBT version 2 (BIP 370) and version 0 (BIP 174) at the level of the
/// key-value maps: version 2 moves the unsigned transaction's fields into the maps.
mod psbt_v2 {
    use bitcoin::absolute::LockTime;
    use bitcoin::consensus::encode;
    use bitcoin::psbt::Psbt;
    use bitcoin::transaction::Version;
    use bitcoin::{Amount, OutPoint, ScriptBuf, Sequence, Transaction, TxIn, TxOut, Txid};

    const MAGIC: &[u8] = b"psbt\xff";

    type Map = Vec<(Vec<u8>, Vec<u8>)>;

    /// Global fields that exist only in version 2 (tx version, fallback locktime, input and
    /// output counts, modifiable flags) and the PSBT version field.
    const GLOBAL_V2: &[u8] = &[0x02, 0x03, 0x04, 0x05, 0x06, 0xfb];
    /// Input fields of version 2: previous txid, output index, sequence, required locktimes.
    const INPUT_V2: &[u8] = &[0x0e, 0x0f, 0x10, 0x11, 0x12];
    /// Output fields of version 2: amount and script.
    const OUTPUT_V2: &[u8] = &[0x03, 0x04];

    fn read_compact(data: &[u8], pos: &mut usize) -> Option<u64> {
        let (n, used) =
            bitcoin::consensus::deserialize_partial::<bitcoin::VarInt>(data.get(*pos..)?).ok()?;
        *pos += used;
        Some(n.0)
    }

    fn read_bytes<'a>(data: &'a [u8], pos: &mut usize) -> Option<&'a [u8]> {
        let len = usize::try_from(read_compact(data, pos)?).ok()?;
        let bytes = data.get(*pos..pos.checked_add(len)?)?;
        *pos += len;
        Some(bytes)
    }

    fn read_map(data: &[u8], pos: &mut usize) -> Option<Map> {
        let mut map = Vec::new();
        loop {
            let key = read_bytes(data, pos)?;
            if key.is_empty() {
                return Some(map);
            }
            let value = read_bytes(data, pos)?;
            map.push((key.to_vec(), value.to_vec()));
        }
    }

    fn write_compact(out: &mut Vec<u8>, n: usize) {
        out.extend_from_slice(&bitcoin::consensus::serialize(&bitcoin::VarInt(n as u64)));
    }

    fn write_map(out: &mut Vec<u8>, map: &Map) {
        for (key, value) in map {
            write_compact(out, key.len());
            out.extend_from_slice(key);
            write_compact(out, value.len());
            out.extend_from_slice(value);
        }
        out.push(0);
    }

    /// The value of the key-data-less field `kind`.
    fn field(map: &Map, kind: u8) -> Option<&[u8]> {
        map.iter()
            .find(|(k, _)| k.as_slice() == [kind])
            .map(|(_, v)| v.as_slice())
    }

    fn u32_field(map: &Map, kind: u8) -> Option<Option<u32>> {
        match field(map, kind) {
            None => Some(None),
            Some(v) => Some(Some(u32::from_le_bytes(v.try_into().ok()?))),
        }
    }

    fn count_field(map: &Map, kind: u8) -> Option<usize> {
        let v = field(map, kind)?;
        let mut pos = 0;
        let n = read_compact(v, &mut pos)?;
        (pos == v.len()).then_some(())?;
        usize::try_from(n).ok()
    }

    fn without(map: Map, kinds: &[u8]) -> Map {
        map.into_iter()
            .filter(|(k, _)| !(k.len() == 1 && kinds.contains(&k[0])))
            .collect()
    }

    fn only(map: &Map, kinds: &[u8]) -> Map {
        map.iter()
            .filter(|(k, _)| k.len() == 1 && kinds.contains(&k[0]))
            .cloned()
            .collect()
    }

    /// The maps of a PSBT whose input and output counts are known only after the global map
    /// is read.
    struct Maps {
        global: Map,
        inputs: Vec<Map>,
        outputs: Vec<Map>,
    }

    fn read_all(bytes: &[u8], counts: impl FnOnce(&Map) -> Option<(usize, usize)>) -> Option<Maps> {
        let body = bytes.strip_prefix(MAGIC)?;
        let mut pos = 0;
        let global = read_map(body, &mut pos)?;
        let (n_in, n_out) = counts(&global)?;
        let mut inputs = Vec::new();
        for _ in 0..n_in {
            inputs.push(read_map(body, &mut pos)?);
        }
        let mut outputs = Vec::new();
        for _ in 0..n_out {
            outputs.push(read_map(body, &mut pos)?);
        }
        (pos == body.len()).then_some(Maps {
            global,
            inputs,
            outputs,
        })
    }

    fn write_all(maps: &Maps) -> Vec<u8> {
        let mut out = MAGIC.to_vec();
        write_map(&mut out, &maps.global);
        for m in maps.inputs.iter().chain(&maps.outputs) {
            write_map(&mut out, m);
        }
        out
    }

    fn v2_counts(global: &Map) -> Option<(usize, usize)> {
        if u32_field(global, 0xfb)? != Some(2) {
            return None;
        }
        Some((count_field(global, 0x04)?, count_field(global, 0x05)?))
    }

    /// The locktime BIP 370 gives the transaction: the fallback unless inputs require one;
    /// then the largest height lock if every such input accepts a height, else the largest
    /// time lock if every one accepts a time.
    fn locktime(fallback: u32, locks: &[(Option<u32>, Option<u32>)]) -> Option<u32> {
        let constrained: Vec<_> = locks
            .iter()
            .filter(|(t, h)| t.is_some() || h.is_some())
            .collect();
        if constrained.is_empty() {
            return Some(fallback);
        }
        if constrained.iter().all(|(_, h)| h.is_some()) {
            return constrained.iter().filter_map(|(_, h)| *h).max();
        }
        if constrained.iter().all(|(t, _)| t.is_some()) {
            return constrained.iter().filter_map(|(t, _)| *t).max();
        }
        None
    }

    /// A version 2 PSBT as version 0 bytes; `None` if `bytes` is not a valid version 2 PSBT.
    pub(super) fn to_v0(bytes: &[u8]) -> Option<Vec<u8>> {
        let maps = read_all(bytes, v2_counts)?;
        let tx_version = u32_field(&maps.global, 0x02)??;
        let fallback = u32_field(&maps.global, 0x03)?.unwrap_or(0);
        let mut input = Vec::new();
        let mut locks = Vec::new();
        for m in &maps.inputs {
            let txid: [u8; 32] = field(m, 0x0e)?.try_into().ok()?;
            let vout = u32_field(m, 0x0f)??;
            let sequence = u32_field(m, 0x10)?.unwrap_or(u32::MAX);
            locks.push((u32_field(m, 0x11)?, u32_field(m, 0x12)?));
            input.push(TxIn {
                previous_output: OutPoint {
                    txid: <Txid as bitcoin::hashes::Hash>::from_byte_array(txid),
                    vout,
                },
                sequence: Sequence(sequence),
                ..TxIn::default()
            });
        }
        let mut output = Vec::new();
        for m in &maps.outputs {
            let amount = i64::from_le_bytes(field(m, 0x03)?.try_into().ok()?);
            output.push(TxOut {
                value: Amount::from_sat(u64::try_from(amount).ok()?),
                script_pubkey: ScriptBuf::from_bytes(field(m, 0x04)?.to_vec()),
            });
        }
        let tx = Transaction {
            version: Version(i32::from_le_bytes(tx_version.to_le_bytes())),
            lock_time: LockTime::from_consensus(locktime(fallback, &locks)?),
            input,
            output,
        };
        let mut global = vec![(vec![0x00], encode::serialize(&tx))];
        global.extend(without(maps.global, GLOBAL_V2));
        let converted = Maps {
            global,
            inputs: maps
                .inputs
                .into_iter()
                .map(|m| without(m, INPUT_V2))
                .collect(),
            outputs: maps
                .outputs
                .into_iter()
                .map(|m| without(m, OUTPUT_V2))
                .collect(),
        };
        Some(write_all(&converted))
    }

    /// `psbt` (version 0) back in the version 2 form of `original`: the version 2 fields of
    /// the original with everything `psbt` holds now.
    pub(super) fn from_v0(psbt: &Psbt, original: &[u8]) -> Option<Vec<u8>> {
        let orig = read_all(original, v2_counts)?;
        let n = (psbt.inputs.len(), psbt.outputs.len());
        let now = read_all(&psbt.serialize(), |_| Some(n))?;
        if orig.inputs.len() != now.inputs.len() || orig.outputs.len() != now.outputs.len() {
            return None;
        }
        let mut global = only(&orig.global, GLOBAL_V2);
        global.extend(without(now.global, &[0x00, 0xfb]));
        let merge = |o: &Map, n: Map, kinds: &[u8]| {
            let mut m = only(o, kinds);
            m.extend(n);
            m
        };
        let inputs = orig
            .inputs
            .iter()
            .zip(now.inputs)
            .map(|(o, n)| merge(o, n, INPUT_V2))
            .collect();
        let outputs = orig
            .outputs
            .iter()
            .zip(now.outputs)
            .map(|(o, n)| merge(o, n, OUTPUT_V2))
            .collect();
        Some(write_all(&Maps {
            global,
            inputs,
            outputs,
        }))
    }
}

/// A transaction in hex, as CLN shows it.
pub fn tx_hex(tx: &Transaction) -> String {
    encode::serialize_hex(tx)
}

/// Why an address was refused (CLN's `address_parse_result`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddressProblem {
    /// Not an address of any network.
    Unrecognized,
    /// An address of another network.
    WrongNetwork,
}

/// The scriptpubkey `text` pays to on `network`.
pub fn address_script(
    text: &str,
    network: fulgur_types::Network,
) -> Result<ScriptBuf, AddressProblem> {
    let unchecked: bitcoin::Address<bitcoin::address::NetworkUnchecked> =
        text.parse().map_err(|_| AddressProblem::Unrecognized)?;
    unchecked
        .require_network(network.to_bitcoin())
        .map(|a| a.script_pubkey())
        .map_err(|_| AddressProblem::WrongNetwork)
}

// ---------------------------------------------------------------------------------------------
// Chain state, fees, randomness.

/// Resolves a `feerate` parameter, `normal` when absent; 501 while there are no estimates.
pub fn resolve_feerate(
    ctx: &NodeContext,
    spec: Option<FeerateSpec>,
) -> Result<FeeratePerKw, RpcError> {
    let spec = spec.unwrap_or(FeerateSpec::Named(FeerateName::Normal));
    let fees = ctx.fees.read().unwrap_or_else(|e| e.into_inner());
    fees.resolve(&spec)
        .map_err(|e| RpcError::new(i64::from(fulgur_chain::NoFeeEstimates::CODE), e.to_string()))
}

/// Whether the node is still catching up with bitcoind (CLN's `!topology_synced`).
fn still_syncing(ctx: &NodeContext) -> bool {
    let s = ctx.chain.borrow();
    !s.connected_once || s.bitcoind_warning().is_some() || s.lightningd_warning().is_some()
}

/// `min-emergency-msat` when it applies: only for `opening_anchor_channel` (no channel of
/// ours has anchors yet).
fn emergency_reserve(ctx: &NodeContext, opening_anchor_channel: bool) -> AmountSat {
    if !opening_anchor_channel {
        return AmountSat::ZERO;
    }
    let msat = ctx
        .config
        .get_u64("min-emergency-msat")
        .unwrap_or(25_000_000);
    AmountSat::from_sat(msat / 1000)
}

fn random_u64() -> u64 {
    let mut bytes = [0u8; 8];
    if getrandom::getrandom(&mut bytes).is_err() {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        return nanos as u64;
    }
    u64::from_le_bytes(bytes)
}

fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Shuffles `items` (Fisher–Yates) with randomness from `seed`.
pub fn shuffle<T>(items: &mut [T], seed: u64) {
    let mut state = seed;
    for i in (1..items.len()).rev() {
        let j = (splitmix(&mut state) % (i as u64 + 1)) as usize;
        items.swap(i, j);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "test inputs are fixed")]
    use super::*;

    #[test]
    fn base64_round_trips() {
        for (plain, coded) in [
            (&b""[..], ""),
            (b"f", "Zg=="),
            (b"fo", "Zm8="),
            (b"foo", "Zm9v"),
            (b"foob", "Zm9vYg=="),
            (b"fooba", "Zm9vYmE="),
            (b"foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64_encode(plain), coded);
            assert_eq!(base64_decode(coded).unwrap(), plain);
        }
        assert_eq!(base64_decode("Zm9vYg").unwrap(), b"foob");
        assert!(base64_decode("Zm9v!").is_none());
        assert!(base64_decode("Z").is_none());
        let all: Vec<u8> = (0..=255).collect();
        assert_eq!(base64_decode(&base64_encode(&all)).unwrap(), all);
    }

    #[test]
    fn psbt_text_is_refused_cleanly() {
        assert!(parse_psbt("not a psbt").is_none());
        assert!(parse_psbt("cHNidP8=").is_none());
    }

    /// A version 2 PSBT as Bitcoin Core v31's `createpsbt` makes it: one input, two outputs,
    /// fallback locktime 110.
    const CORE_V2: &str = "cHNidP8BAgQCAAAAAQMEbgAAAAEEAQEBBQECAfsEAgAAAAABDiDTRnwxpbZ5RltAMO8AWOY9rW5s5SQfjE698l89XHmEOwEPBAAAAAABEAT9////AAEDCCChBwAAAAAAAQQWABSjxrHuSknZ8q87OAKXR0T7qSQWSgABAwhRUP4pAQAAAAEEIlEgXLuEXodnjS+ns3BcSOImSD1sWCBsdwp1eq/RyipMvooA";

    #[test]
    fn psbt_version_2_is_read_and_given_back() {
        let received = parse_psbt(CORE_V2).unwrap();
        assert!(received.v2.is_some());
        let tx = &received.psbt.unsigned_tx;
        assert_eq!(tx.input.len(), 1);
        assert_eq!(tx.output.len(), 2);
        assert_eq!(tx.lock_time.to_consensus_u32(), 110);
        assert_eq!(tx.version.0, 2);
        assert_eq!(tx.input[0].sequence.0, 0xffff_fffd);
        assert_eq!(tx.output[0].value.to_sat(), 500_000);
        assert!(tx.output[1].script_pubkey.is_p2tr());
        // Unchanged, it converts back to exactly the bytes received.
        assert_eq!(received.to_base64(&received.psbt), CORE_V2);
        // A version 0 PSBT stays version 0.
        let v0 = psbt_base64(&received.psbt);
        let again = parse_psbt(&v0).unwrap();
        assert!(again.v2.is_none());
        assert_eq!(again.to_base64(&again.psbt), v0);
    }

    #[test]
    fn addresses_by_network() {
        use fulgur_types::Network;
        let regtest = "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080";
        assert!(address_script(regtest, Network::Regtest).is_ok());
        assert_eq!(
            address_script(regtest, Network::Bitcoin),
            Err(AddressProblem::WrongNetwork)
        );
        assert_eq!(
            address_script(
                "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4",
                Network::Regtest
            ),
            Err(AddressProblem::WrongNetwork)
        );
        assert_eq!(
            address_script("not-an-address", Network::Regtest),
            Err(AddressProblem::Unrecognized)
        );
    }

    #[test]
    fn shuffle_is_a_permutation() {
        let mut v: Vec<u32> = (0..50).collect();
        shuffle(&mut v, 7);
        let mut sorted = v.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..50).collect::<Vec<_>>());
        assert_ne!(v, sorted);
    }
}
