//! PSBTs (version 0) spending wallet coins: building them unsigned with everything a signer
//! needs, signing our inputs (CLN's `signpsbt`), finalizing and extracting the transaction.
//!
//! - P2WPKH (and P2SH-wrapped P2WPKH) inputs are signed with ECDSA, `SIGHASH_ALL`, with the
//!   signature ground to low R as CLN's hsmd does (so it fits the weight estimate);
//! - P2TR inputs are signed on the key path with BIP340 Schnorr, `SIGHASH_DEFAULT`, by the
//!   BIP86-tweaked key (no script tree). Signing uses no auxiliary randomness (BIP340's
//!   deterministic variant), so it stays free of I/O.

use std::collections::BTreeSet;

use bitcoin::absolute::LockTime;
use bitcoin::ecdsa;
use bitcoin::hashes::Hash;
use bitcoin::psbt::{self, Psbt};
use bitcoin::script::PushBytesBuf;
use bitcoin::secp256k1::{Message, PublicKey, XOnlyPublicKey, SECP256K1};
use bitcoin::sighash::{EcdsaSighashType, Prevouts, SighashCache, TapSighashType};
use bitcoin::transaction::Version;
use bitcoin::{
    taproot, Amount, OutPoint, ScriptBuf, Sequence, Transaction, TxIn, TxOut, Txid, Witness,
};
use fulgur_types::AmountSat;

use crate::coinselect::Coin;
use crate::keys::{script_for_key, AddrType, KeyError, WalletKeys};
use crate::script_index::{ScriptIndex, ScriptOrigin};

/// The `nSequence` CLN gives wallet inputs: final for locktime, signalling RBF.
pub const RBF_SEQUENCE: Sequence = Sequence(0xffff_fffd);

/// JSON-RPC code CLN uses for its catch-all failures (`LIGHTNINGD`).
pub const LIGHTNINGD: i32 = -1;

/// Why a PSBT could not be built, signed or finalized; [`PsbtError::code`] gives CLN's
/// JSON-RPC code where CLN has one, and messages are CLN's where it has them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PsbtError {
    /// A key could not be derived.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// The bytes are not a valid PSBT.
    #[error("malformed PSBT: {0}")]
    Malformed(String),
    /// A `signonly` entry names an input the PSBT does not have.
    #[error("signonly[{position}]: {input} out of range")]
    SignonlyOutOfRange {
        /// Position in `signonly`.
        position: usize,
        /// The input number given.
        input: u32,
    },
    /// An input listed in `signonly` is not one of ours.
    #[error("Aborting PSBT signing. UTXO {0} is unknown (and specified by signonly)")]
    UnknownSignonlyInput(OutPoint),
    /// No input of the PSBT is ours.
    #[error(
        "No wallet inputs to sign. Are you sure you added inputs to this PSBT? If not, then \
         there is no need to sign it."
    )]
    NoWalletInputs,
    /// The PSBT's UTXO data for one of our inputs is not the output we know.
    #[error("input {0}: the PSBT's UTXO does not match our wallet output")]
    UtxoMismatch(usize),
    /// Signing a taproot input needs the output spent by every input.
    #[error("input {0}: missing the UTXO it spends (needed for taproot signing)")]
    MissingUtxo(usize),
    /// The input asks for a sighash type we do not sign with.
    #[error("input {0}: unsupported sighash type")]
    UnsupportedSighash(usize),
    /// A previous transaction supplied for an input does not hold the output it spends.
    #[error("previous transaction for input {0} does not match the coin")]
    PrevTxMismatch(usize),
    /// The change output's key origin does not give its script.
    #[error("change script does not match its key origin")]
    ChangeMismatch,
    /// An input has no signature to finalize with.
    #[error("input {0} cannot be finalized")]
    CannotFinalize(usize),
    /// An input is not finalized, so the transaction cannot be extracted.
    #[error("input {0} is not finalized")]
    NotFinalized(usize),
    /// Computing a signature hash failed.
    #[error("sighash: {0}")]
    Sighash(String),
}

impl PsbtError {
    /// CLN's JSON-RPC error code for this error (`signpsbt`: -32602 for a bad `signonly`,
    /// -1 otherwise).
    pub fn code(&self) -> i32 {
        match self {
            PsbtError::Malformed(_) | PsbtError::SignonlyOutOfRange { .. } => -32602,
            _ => LIGHTNINGD,
        }
    }
}

/// A change output for [`build_psbt`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// Its scriptpubkey.
    pub script_pubkey: ScriptBuf,
    /// Its value.
    pub amount: AmountSat,
    /// The wallet key it pays, if any: its key origin is then recorded in the PSBT.
    pub origin: Option<ScriptOrigin>,
}

impl Change {
    /// Change to the wallet's key `keyindex` as `addrtype` (CLN's is P2TR).
    pub fn to_wallet(
        keys: &WalletKeys,
        keyindex: u32,
        addrtype: AddrType,
        amount: AmountSat,
    ) -> Result<Change, KeyError> {
        Ok(Change {
            script_pubkey: keys.script_pubkey(keyindex, addrtype)?,
            amount,
            origin: Some(ScriptOrigin { keyindex, addrtype }),
        })
    }
}

/// An unsigned PSBT and where its change went.
#[derive(Debug, Clone, PartialEq)]
pub struct BuiltPsbt {
    /// The PSBT.
    pub psbt: Psbt,
    /// The output number of the change, if there is change (`change_outnum`).
    pub change_outnum: Option<u32>,
}

/// Builds the unsigned version-2 transaction spending `inputs` (in order, sequence
/// [`RBF_SEQUENCE`]) to `outputs` then `change`, with `locktime`, as a PSBT with each input's
/// `witness_utxo` and key origin (`bip32_derivation`, or `tap_internal_key` and
/// `tap_key_origins` for P2TR), the redeem script of P2SH-wrapped inputs, and the
/// `non_witness_utxo` of any input whose transaction is in `prev_txs`.
pub fn build_psbt(
    keys: &WalletKeys,
    inputs: &[Coin],
    outputs: &[TxOut],
    change: Option<&Change>,
    locktime: LockTime,
    prev_txs: &[Transaction],
) -> Result<BuiltPsbt, PsbtError> {
    let mut tx_outputs = outputs.to_vec();
    let change_outnum = change.map(|c| {
        tx_outputs.push(TxOut {
            value: c.amount.into(),
            script_pubkey: c.script_pubkey.clone(),
        });
        u32::try_from(tx_outputs.len() - 1).unwrap_or(u32::MAX)
    });
    let tx = Transaction {
        version: Version::TWO,
        lock_time: locktime,
        input: inputs
            .iter()
            .map(|c| TxIn {
                previous_output: c.outpoint,
                sequence: RBF_SEQUENCE,
                ..TxIn::default()
            })
            .collect(),
        output: tx_outputs,
    };
    let mut psbt = Psbt::from_unsigned_tx(tx).map_err(|e| PsbtError::Malformed(e.to_string()))?;
    let prev: Vec<(Txid, &Transaction)> = prev_txs.iter().map(|t| (t.compute_txid(), t)).collect();
    for (i, (coin, input)) in inputs.iter().zip(psbt.inputs.iter_mut()).enumerate() {
        let key = keys.derive_pub(coin.keyindex)?;
        let utxo = TxOut {
            value: coin.amount.into(),
            script_pubkey: script_for_key(&key, coin.addrtype),
        };
        if let Some((_, tx)) = prev.iter().find(|(id, _)| *id == coin.outpoint.txid) {
            let spent = usize::try_from(coin.outpoint.vout)
                .ok()
                .and_then(|v| tx.output.get(v));
            if spent != Some(&utxo) {
                return Err(PsbtError::PrevTxMismatch(i));
            }
            input.non_witness_utxo = Some((*tx).clone());
        }
        input.witness_utxo = Some(utxo);
        add_input_origin(keys, input, coin.keyindex, coin.addrtype, key)?;
    }
    if let (Some(change), Some(outnum)) = (change, change_outnum) {
        if let Some(origin) = change.origin {
            let key = keys.derive_pub(origin.keyindex)?;
            if script_for_key(&key, origin.addrtype) != change.script_pubkey {
                return Err(PsbtError::ChangeMismatch);
            }
            if let Some(output) = usize::try_from(outnum)
                .ok()
                .and_then(|o| psbt.outputs.get_mut(o))
            {
                add_output_origin(keys, output, origin, key)?;
            }
        }
    }
    Ok(BuiltPsbt {
        psbt,
        change_outnum,
    })
}

/// Records the key origin of our key `key` (index `keyindex`) on a PSBT input.
fn add_input_origin(
    keys: &WalletKeys,
    input: &mut psbt::Input,
    keyindex: u32,
    addrtype: AddrType,
    key: PublicKey,
) -> Result<(), PsbtError> {
    let source = keys.key_source(keyindex)?;
    match addrtype {
        AddrType::P2tr => {
            let xonly = XOnlyPublicKey::from(key);
            input.tap_internal_key = Some(xonly);
            input.tap_key_origins.insert(xonly, (Vec::new(), source));
        }
        AddrType::Bech32 | AddrType::P2shSegwit => {
            if addrtype == AddrType::P2shSegwit {
                input.redeem_script = Some(script_for_key(&key, AddrType::Bech32));
            }
            input.bip32_derivation.insert(key, source);
        }
    }
    Ok(())
}

/// Records the key origin of our key on a PSBT output.
fn add_output_origin(
    keys: &WalletKeys,
    output: &mut psbt::Output,
    origin: ScriptOrigin,
    key: PublicKey,
) -> Result<(), PsbtError> {
    let source = keys.key_source(origin.keyindex)?;
    match origin.addrtype {
        AddrType::P2tr => {
            let xonly = XOnlyPublicKey::from(key);
            output.tap_internal_key = Some(xonly);
            output.tap_key_origins.insert(xonly, (Vec::new(), source));
        }
        AddrType::Bech32 | AddrType::P2shSegwit => {
            if origin.addrtype == AddrType::P2shSegwit {
                output.redeem_script = Some(script_for_key(&key, AddrType::Bech32));
            }
            output.bip32_derivation.insert(key, source);
        }
    }
    Ok(())
}

/// Adds key origins to every output paying one of our scripts (CLN's
/// `match_psbt_outputs_to_wallet`, which `signpsbt` runs). Returns how many were ours.
pub fn add_output_origins(
    keys: &WalletKeys,
    psbt: &mut Psbt,
    ours: &ScriptIndex,
) -> Result<usize, PsbtError> {
    let mut found = 0;
    for (txout, output) in psbt.unsigned_tx.output.iter().zip(psbt.outputs.iter_mut()) {
        if let Some(origin) = ours.lookup(&txout.script_pubkey) {
            add_output_origin(keys, output, origin, keys.derive_pub(origin.keyindex)?)?;
            found += 1;
        }
    }
    Ok(found)
}

/// What the wallet knows about an output it owns, for signing a PSBT input spending it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct OwnedInput {
    /// The key index of its script.
    pub keyindex: u32,
    /// The kind of script.
    pub addrtype: AddrType,
    /// Its value.
    pub amount: AmountSat,
}

impl From<&Coin> for OwnedInput {
    fn from(coin: &Coin) -> OwnedInput {
        OwnedInput {
            keyindex: coin.keyindex,
            addrtype: coin.addrtype,
            amount: coin.amount,
        }
    }
}

/// Signs the inputs of `psbt` that spend our outputs (those `lookup` knows), as CLN's
/// `signpsbt`: all of ours, or with `signonly` exactly the listed input numbers, each of
/// which must be ours. Fills in a missing `witness_utxo` (and redeem script) from what the
/// wallet knows, and refuses UTXO data that disagrees with it. Returns the input numbers
/// signed.
///
/// Checking that the inputs are reserved, as `signpsbt` requires, is the caller's.
pub fn sign_psbt<F>(
    keys: &WalletKeys,
    psbt: &mut Psbt,
    lookup: F,
    signonly: Option<&[u32]>,
) -> Result<Vec<usize>, PsbtError>
where
    F: Fn(&OutPoint) -> Option<OwnedInput>,
{
    check_shape(psbt)?;
    let n = psbt.inputs.len();
    let only: Option<BTreeSet<usize>> = match signonly {
        None => None,
        Some(list) => {
            let mut set = BTreeSet::new();
            for (position, &input) in list.iter().enumerate() {
                match usize::try_from(input).ok().filter(|&i| i < n) {
                    Some(i) => set.insert(i),
                    None => return Err(PsbtError::SignonlyOutOfRange { position, input }),
                };
            }
            Some(set)
        }
    };
    let mut ours = Vec::new();
    for (i, txin) in psbt.unsigned_tx.input.iter().enumerate() {
        if only.as_ref().is_some_and(|set| !set.contains(&i)) {
            continue;
        }
        match lookup(&txin.previous_output) {
            Some(owned) => ours.push((i, owned)),
            None if only.is_some() => {
                return Err(PsbtError::UnknownSignonlyInput(txin.previous_output))
            }
            None => {}
        }
    }
    if ours.is_empty() {
        return Err(PsbtError::NoWalletInputs);
    }
    let mut keyed = Vec::with_capacity(ours.len());
    for &(i, owned) in &ours {
        let key = keys.derive_pub(owned.keyindex)?;
        fill_utxo(psbt, i, &owned, &key)?;
        keyed.push((i, owned, key));
    }
    let prevouts = if ours.iter().any(|(_, o)| o.addrtype == AddrType::P2tr) {
        Some(all_prevouts(psbt)?)
    } else {
        None
    };
    let mut cache = SighashCache::new(psbt.unsigned_tx.clone());
    for (i, owned, key) in keyed {
        let Some(input) = psbt.inputs.get_mut(i) else {
            continue;
        };
        match (owned.addrtype, &prevouts) {
            (AddrType::P2tr, Some(prevouts)) => {
                if !matches!(
                    input.sighash_type.map(|t| t.taproot_hash_ty()),
                    None | Some(Ok(TapSighashType::Default))
                ) {
                    return Err(PsbtError::UnsupportedSighash(i));
                }
                let hash = cache
                    .taproot_key_spend_signature_hash(
                        i,
                        &Prevouts::All(prevouts),
                        TapSighashType::Default,
                    )
                    .map_err(|e| PsbtError::Sighash(e.to_string()))?;
                let keypair = keys.tweaked_keypair(owned.keyindex)?;
                let signature = SECP256K1.sign_schnorr_no_aux_rand(
                    &Message::from_digest(hash.to_byte_array()),
                    &keypair.to_keypair(),
                );
                input.tap_key_sig = Some(taproot::Signature {
                    signature,
                    sighash_type: TapSighashType::Default,
                });
                add_input_origin(keys, input, owned.keyindex, owned.addrtype, key)?;
            }
            (AddrType::P2tr, None) => return Err(PsbtError::MissingUtxo(i)),
            (AddrType::Bech32 | AddrType::P2shSegwit, _) => {
                if !matches!(
                    input.sighash_type.map(|t| t.ecdsa_hash_ty()),
                    None | Some(Ok(EcdsaSighashType::All))
                ) {
                    return Err(PsbtError::UnsupportedSighash(i));
                }
                let program = script_for_key(&key, AddrType::Bech32);
                let hash = cache
                    .p2wpkh_signature_hash(
                        i,
                        &program,
                        Amount::from(owned.amount),
                        EcdsaSighashType::All,
                    )
                    .map_err(|e| PsbtError::Sighash(e.to_string()))?;
                let secret = keys.derive_priv(owned.keyindex)?;
                let signature = SECP256K1
                    .sign_ecdsa_low_r(&Message::from_digest(hash.to_byte_array()), &secret);
                input.partial_sigs.insert(
                    bitcoin::PublicKey::new(key),
                    ecdsa::Signature {
                        signature,
                        sighash_type: EcdsaSighashType::All,
                    },
                );
                add_input_origin(keys, input, owned.keyindex, owned.addrtype, key)?;
            }
        }
    }
    Ok(ours.into_iter().map(|(i, _)| i).collect())
}

/// The PSBT's maps must line up with its unsigned transaction.
fn check_shape(psbt: &Psbt) -> Result<(), PsbtError> {
    if psbt.inputs.len() != psbt.unsigned_tx.input.len()
        || psbt.outputs.len() != psbt.unsigned_tx.output.len()
    {
        return Err(PsbtError::Malformed(
            "input or output maps do not match the unsigned transaction".to_string(),
        ));
    }
    Ok(())
}

/// Makes sure input `i` carries the UTXO we own: fills it in when absent, rejects it when it
/// differs.
fn fill_utxo(
    psbt: &mut Psbt,
    i: usize,
    owned: &OwnedInput,
    key: &PublicKey,
) -> Result<(), PsbtError> {
    let expected = TxOut {
        value: owned.amount.into(),
        script_pubkey: script_for_key(key, owned.addrtype),
    };
    let outpoint = psbt
        .unsigned_tx
        .input
        .get(i)
        .map(|t| t.previous_output)
        .ok_or(PsbtError::UtxoMismatch(i))?;
    let input = psbt.inputs.get_mut(i).ok_or(PsbtError::UtxoMismatch(i))?;
    if let Some(tx) = &input.non_witness_utxo {
        let spent = usize::try_from(outpoint.vout)
            .ok()
            .and_then(|v| tx.output.get(v));
        if tx.compute_txid() != outpoint.txid || spent != Some(&expected) {
            return Err(PsbtError::UtxoMismatch(i));
        }
    }
    match &input.witness_utxo {
        Some(utxo) if *utxo != expected => return Err(PsbtError::UtxoMismatch(i)),
        Some(_) => {}
        None => input.witness_utxo = Some(expected),
    }
    if owned.addrtype == AddrType::P2shSegwit {
        let redeem = script_for_key(key, AddrType::Bech32);
        match &input.redeem_script {
            Some(r) if *r != redeem => return Err(PsbtError::UtxoMismatch(i)),
            _ => input.redeem_script = Some(redeem),
        }
    }
    Ok(())
}

/// The output spent by input `i`, from its `witness_utxo` or `non_witness_utxo`.
fn spent_output(psbt: &Psbt, i: usize) -> Option<TxOut> {
    let input = psbt.inputs.get(i)?;
    if let Some(utxo) = &input.witness_utxo {
        return Some(utxo.clone());
    }
    let outpoint = psbt.unsigned_tx.input.get(i)?.previous_output;
    let tx = input.non_witness_utxo.as_ref()?;
    if tx.compute_txid() != outpoint.txid {
        return None;
    }
    tx.output.get(usize::try_from(outpoint.vout).ok()?).cloned()
}

/// The outputs spent by every input, which taproot signature hashes commit to.
fn all_prevouts(psbt: &Psbt) -> Result<Vec<TxOut>, PsbtError> {
    (0..psbt.inputs.len())
        .map(|i| spent_output(psbt, i).ok_or(PsbtError::MissingUtxo(i)))
        .collect()
}

/// Finalizes every input that is not final yet from its signature: a taproot key-path
/// signature, or the signature of a P2WPKH (or P2SH-wrapped P2WPKH) input's key. Clears the
/// signing fields BIP174 says a finalizer removes.
pub fn finalize_psbt(psbt: &mut Psbt) -> Result<(), PsbtError> {
    check_shape(psbt)?;
    for i in 0..psbt.inputs.len() {
        let spent = spent_output(psbt, i);
        let Some(input) = psbt.inputs.get_mut(i) else {
            continue;
        };
        if input.final_script_witness.is_some() || input.final_script_sig.is_some() {
            continue;
        }
        let spk = spent
            .map(|o| o.script_pubkey)
            .ok_or(PsbtError::CannotFinalize(i))?;
        if spk.is_p2tr() {
            let sig = input.tap_key_sig.ok_or(PsbtError::CannotFinalize(i))?;
            input.final_script_witness = Some(Witness::from_slice(&[sig.to_vec()]));
        } else {
            let (program, script_sig) = if spk.is_p2wpkh() {
                (spk, None)
            } else {
                let redeem = input
                    .redeem_script
                    .clone()
                    .filter(|r| r.is_p2wpkh() && r.to_p2sh() == spk)
                    .ok_or(PsbtError::CannotFinalize(i))?;
                let push = PushBytesBuf::try_from(redeem.to_bytes())
                    .map_err(|_| PsbtError::CannotFinalize(i))?;
                let script_sig = bitcoin::script::Builder::new()
                    .push_slice(push)
                    .into_script();
                (redeem, Some(script_sig))
            };
            let (key, sig) = input
                .partial_sigs
                .iter()
                .find(|(key, _)| {
                    key.wpubkey_hash()
                        .is_ok_and(|hash| ScriptBuf::new_p2wpkh(&hash) == program)
                })
                .ok_or(PsbtError::CannotFinalize(i))?;
            input.final_script_witness = Some(Witness::from_slice(&[sig.to_vec(), key.to_bytes()]));
            input.final_script_sig = script_sig;
        }
        clear_signing_fields(input);
    }
    Ok(())
}

fn clear_signing_fields(input: &mut psbt::Input) {
    input.partial_sigs.clear();
    input.sighash_type = None;
    input.redeem_script = None;
    input.witness_script = None;
    input.bip32_derivation.clear();
    input.tap_key_sig = None;
    input.tap_script_sigs.clear();
    input.tap_scripts.clear();
    input.tap_key_origins.clear();
    input.tap_internal_key = None;
    input.tap_merkle_root = None;
}

/// The network transaction of a fully finalized PSBT.
pub fn extract_tx(psbt: Psbt) -> Result<Transaction, PsbtError> {
    check_shape(&psbt)?;
    if let Some(i) = psbt
        .inputs
        .iter()
        .position(|i| i.final_script_witness.is_none() && i.final_script_sig.is_none())
    {
        return Err(PsbtError::NotFinalized(i));
    }
    Ok(psbt.extract_tx_unchecked_fee_rate())
}

/// Parses a binary PSBT (the caller decodes base64).
pub fn decode_psbt(bytes: &[u8]) -> Result<Psbt, PsbtError> {
    let psbt = Psbt::deserialize(bytes).map_err(|e| PsbtError::Malformed(e.to_string()))?;
    check_shape(&psbt)?;
    Ok(psbt)
}

/// The locktime CLN gives new transactions (`default_locktime`): the current height, against
/// fee sniping, but one time in ten (when above 100) up to 99 blocks earlier so wallet
/// transactions look like others. `random` is caller-supplied randomness.
pub fn default_locktime(current_height: u32, random: u64) -> LockTime {
    let mut height = current_height;
    if height > 100 && random % 10 == 0 {
        // At most 99, and height > 100, so this cannot underflow.
        height -= u32::try_from((random / 10) % 100).unwrap_or(0);
    }
    LockTime::from_consensus(height)
}
