//! The on-chain wallet as the node runs it: the database (`fulgur-store`), the keys derived
//! from `hsm_secret` exactly as Core Lightning derives them (`fulgur-wallet`), and the index
//! of our scripts used to recognise our coins in blocks. Database calls are short and run on
//! the blocking pool.

use bitcoin::OutPoint;
use fulgur_store::Store;
use fulgur_wallet::{AddrType, ScriptIndex, WalletKeys};
use std::collections::HashSet;
use std::sync::{Arc, Mutex, RwLock};

/// Keys beyond the highest issued index that are still watched (CLN-like gap).
pub const LOOKAHEAD: u32 = 100;

/// Why a wallet operation failed.
#[derive(Debug, thiserror::Error)]
pub enum OnchainError {
    /// The database failed.
    #[error("wallet database: {0}")]
    Store(#[from] fulgur_store::StoreError),
    /// Key derivation failed (index out of range).
    #[error("wallet keys: {0}")]
    Keys(#[from] fulgur_wallet::KeyError),
    /// The blocking task died.
    #[error("wallet task failed: {0}")]
    Join(String),
}

/// The wallet: database, keys and script index.
pub struct Onchain {
    store: Mutex<Store>,
    /// Every outpoint ever ours, to recognise our spends in blocks without a database read.
    known: RwLock<HashSet<OutPoint>>,
    /// Keys derived from `hsm_secret`.
    pub keys: WalletKeys,
    index: RwLock<ScriptIndex>,
}

impl Onchain {
    /// Opens (creating if needed) the database and builds the script index.
    pub fn open(path: &std::path::Path, keys: WalletKeys) -> Result<Onchain, OnchainError> {
        let store = Store::open(path)?;
        let max = store.max_keyindex()?;
        let index = ScriptIndex::new(&keys, max, LOOKAHEAD)?;
        let known = store
            .outputs(fulgur_store::OutputFilter::All, 0)?
            .into_iter()
            .map(|o| o.outpoint)
            .collect();
        Ok(Onchain {
            store: Mutex::new(store),
            known: RwLock::new(known),
            keys,
            index: RwLock::new(index),
        })
    }

    /// Runs `f` on the database on the blocking pool.
    pub async fn with_store<T, F>(self: &Arc<Self>, f: F) -> Result<T, OnchainError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Store) -> Result<T, OnchainError> + Send + 'static,
    {
        let me = self.clone();
        tokio::task::spawn_blocking(move || {
            let mut store = me.store.lock().unwrap_or_else(|e| e.into_inner());
            f(&mut store)
        })
        .await
        .map_err(|e| OnchainError::Join(e.to_string()))?
    }

    /// Issues the next key index for `types` (recorded before the addresses are shown, so a
    /// restart never hands out the same index twice) and returns its addresses.
    pub async fn new_address(
        self: &Arc<Self>,
        types: Vec<AddrType>,
    ) -> Result<(u32, Vec<(AddrType, bitcoin::Address)>), OnchainError> {
        let stored: Vec<fulgur_store::AddrType> = types.clone();
        let index = self
            .with_store(move |s| Ok(s.issue_address(&stored)?))
            .await?;
        {
            let mut idx = self.index.write().unwrap_or_else(|e| e.into_inner());
            idx.ensure_covers(&self.keys, index)?;
        }
        let mut out = Vec::new();
        for t in types {
            out.push((t, self.keys.address(index, t)?));
        }
        Ok((index, out))
    }

    /// The script index (read access).
    pub fn script_index(&self) -> std::sync::RwLockReadGuard<'_, ScriptIndex> {
        self.index.read().unwrap_or_else(|e| e.into_inner())
    }

    /// The outpoints that are (or were) ours.
    pub fn known_outpoints(&self) -> std::sync::RwLockReadGuard<'_, HashSet<OutPoint>> {
        self.known.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Remembers new outpoints of ours.
    pub fn note_outpoints(&self, outpoints: &[OutPoint]) {
        let mut known = self.known.write().unwrap_or_else(|e| e.into_inner());
        known.extend(outpoints.iter().copied());
    }

    /// Makes sure keys up to `max_used` (+ lookahead) are watched.
    pub fn cover(&self, max_used: u32) -> Result<(), OnchainError> {
        let mut idx = self.index.write().unwrap_or_else(|e| e.into_inner());
        Ok(idx.ensure_covers(&self.keys, max_used)?)
    }
}

/// `listfunds`'s result for `outputs`: each with its address (from the script, or derived
/// from its key), CLN's status names, confirmation height and reservation.
pub fn listfunds_result(
    outputs: Vec<fulgur_store::OutputInfo>,
    network: bitcoin::Network,
    keys: &WalletKeys,
) -> serde_json::Value {
    use serde_json::{Map, Value};
    // Built member by member: with 10,000 coins, json!() re-serialising the array and copying
    // every string cost more than the database query.
    let outputs: Vec<Value> = outputs
        .into_iter()
        .map(|o| {
            let mut m = Map::with_capacity(9);
            m.insert("txid".into(), Value::String(o.outpoint.txid.to_string()));
            m.insert("output".into(), Value::from(o.outpoint.vout));
            m.insert("amount_msat".into(), Value::from(o.amount.to_sat() * 1000));
            m.insert(
                "scriptpubkey".into(),
                Value::String(hex::encode(o.script_pubkey.as_bytes())),
            );
            let address = bitcoin::Address::from_script(&o.script_pubkey, network)
                .ok()
                .or_else(|| keys.address(o.keyindex, o.addrtype).ok());
            if let Some(a) = address {
                m.insert("address".into(), Value::String(a.to_string()));
            }
            let state = o.state.as_str();
            m.insert("status".into(), Value::from(state));
            if let Some(h) = o.confirmation_height.filter(|_| state == "confirmed") {
                m.insert("blockheight".into(), Value::from(h));
            }
            m.insert("reserved".into(), Value::Bool(o.reserved));
            if let Some(b) = o.reserved_to_block.filter(|_| o.reserved) {
                m.insert("reserved_to_block".into(), Value::from(b));
            }
            Value::Object(m)
        })
        .collect();
    let mut result = Map::with_capacity(2);
    result.insert("outputs".into(), Value::Array(outputs));
    result.insert("channels".into(), Value::Array(Vec::new()));
    Value::Object(result)
}
