//! Signatures: the segwit v0 (BIP 143) sighashes, signing and verification of commitment and
//! HTLC transactions, and the witnesses of BOLT 3 "Commitment Transaction"
//! (`0 <sig1> <sig2> <funding script>`) and "HTLC-Timeout and HTLC-Success Transactions"
//! (`0 <remotehtlcsig> <localhtlcsig> <preimage or empty> <htlc script>`).
//!
//! Signing is deterministic (RFC 6979) and always low-S. Verification rejects high-S
//! signatures: they are not normalized first.

use bitcoin::ecdsa::SerializedSignature;
use bitcoin::sighash::{EcdsaSighashType, SighashCache};
use bitcoin::{Amount, Script, Transaction, Witness};
use secp256k1::ecdsa::Signature;
use secp256k1::{Message, PublicKey, SecretKey, SECP256K1};

use crate::{Bolt3Error, ChannelType};

/// BIP 143 sighash of input 0 spending a P2WSH output of `amount_sat` with `witness_script`.
fn p2wsh_sighash(
    tx: &Transaction,
    witness_script: &Script,
    amount_sat: u64,
    sighash: EcdsaSighashType,
) -> Result<Message, Bolt3Error> {
    let hash = SighashCache::new(tx).p2wsh_signature_hash(
        0,
        witness_script,
        Amount::from_sat(amount_sat),
        sighash,
    )?;
    Ok(Message::from(hash))
}

/// The `SIGHASH_ALL` segwit v0 sighash of a commitment (or closing) transaction's funding
/// input (input 0).
pub fn commitment_sighash(
    tx: &Transaction,
    funding_script: &Script,
    funding_amount_sat: u64,
) -> Result<Message, Bolt3Error> {
    p2wsh_sighash(
        tx,
        funding_script,
        funding_amount_sat,
        EcdsaSighashType::All,
    )
}

/// Signs a commitment (or closing) transaction's funding input with `SIGHASH_ALL`.
pub fn sign_commitment(
    tx: &Transaction,
    funding_script: &Script,
    funding_amount_sat: u64,
    funding_secret: &SecretKey,
) -> Result<Signature, Bolt3Error> {
    let msg = commitment_sighash(tx, funding_script, funding_amount_sat)?;
    Ok(SECP256K1.sign_ecdsa(&msg, funding_secret))
}

/// Verifies a `SIGHASH_ALL` signature of a commitment (or closing) transaction's funding
/// input. High-S signatures are rejected.
pub fn verify_commitment_sig(
    tx: &Transaction,
    funding_script: &Script,
    funding_amount_sat: u64,
    sig: &Signature,
    pubkey: &PublicKey,
) -> Result<(), Bolt3Error> {
    let msg = commitment_sighash(tx, funding_script, funding_amount_sat)?;
    SECP256K1
        .verify_ecdsa(&msg, sig, pubkey)
        .map_err(|_| Bolt3Error::InvalidSignature)
}

/// The sighash type of the counterparty's signature on the holder's HTLC transactions
/// (the `htlc_signatures` of `commitment_signed`): `SIGHASH_ALL`, or with anchors
/// `SIGHASH_SINGLE|SIGHASH_ANYONECANPAY` so the holder can add fee inputs and outputs. The
/// holder's own signature is always `SIGHASH_ALL`.
pub fn htlc_sighash_type(channel_type: ChannelType) -> EcdsaSighashType {
    if channel_type.has_anchors() {
        EcdsaSighashType::SinglePlusAnyoneCanPay
    } else {
        EcdsaSighashType::All
    }
}

/// Signs an HTLC transaction's input 0, which spends an HTLC output of `amount_sat` with
/// witness script `htlc_script`.
pub fn sign_htlc_tx(
    tx: &Transaction,
    htlc_script: &Script,
    amount_sat: u64,
    secret: &SecretKey,
    sighash: EcdsaSighashType,
) -> Result<Signature, Bolt3Error> {
    let msg = p2wsh_sighash(tx, htlc_script, amount_sat, sighash)?;
    Ok(SECP256K1.sign_ecdsa(&msg, secret))
}

/// Verifies a signature of an HTLC transaction's input 0. High-S signatures are rejected.
pub fn verify_htlc_sig(
    tx: &Transaction,
    htlc_script: &Script,
    amount_sat: u64,
    sig: &Signature,
    pubkey: &PublicKey,
    sighash: EcdsaSighashType,
) -> Result<(), Bolt3Error> {
    let msg = p2wsh_sighash(tx, htlc_script, amount_sat, sighash)?;
    SECP256K1
        .verify_ecdsa(&msg, sig, pubkey)
        .map_err(|_| Bolt3Error::InvalidSignature)
}

/// DER signature followed by its sighash byte, as pushed in a witness.
fn witness_sig(sig: &Signature, sighash_type: EcdsaSighashType) -> SerializedSignature {
    bitcoin::ecdsa::Signature {
        signature: *sig,
        sighash_type,
    }
    .serialize()
}

/// Whether `pubkey` is the first key of a BOLT 3 funding script
/// (`2 <pubkey1> <pubkey2> 2 OP_CHECKMULTISIG`).
fn is_first_funding_key(funding_script: &Script, pubkey: &PublicKey) -> bool {
    funding_script.as_bytes().get(2..35) == Some(&pubkey.serialize()[..])
}

/// Fills the funding input's witness of a commitment (or closing) transaction:
/// `0 <signature_for_pubkey1> <signature_for_pubkey2> <funding_script>`, both signatures
/// `SIGHASH_ALL`, ordered as the keys are in `funding_script`.
pub fn finalize_commitment(
    tx: &mut Transaction,
    funding_script: &Script,
    local_funding_pubkey: &PublicKey,
    local_sig: &Signature,
    remote_sig: &Signature,
) {
    let local = witness_sig(local_sig, EcdsaSighashType::All);
    let remote = witness_sig(remote_sig, EcdsaSighashType::All);
    let (first, second) = if is_first_funding_key(funding_script, local_funding_pubkey) {
        (local, remote)
    } else {
        (remote, local)
    };
    let items: [&[u8]; 4] = [&[], &first, &second, funding_script.as_bytes()];
    if let Some(input) = tx.input.first_mut() {
        input.witness = Witness::from_slice(&items);
    }
}

/// Fills an HTLC transaction's witness:
/// `0 <remotehtlcsig> <localhtlcsig> <payment_preimage> <htlc_script>` for HTLC-success
/// (`preimage` given), `0 <remotehtlcsig> <localhtlcsig> <> <htlc_script>` for
/// HTLC-timeout. The local signature is `SIGHASH_ALL`; the remote one uses
/// `remote_sighash` (see [`htlc_sighash_type`]).
pub fn finalize_htlc_tx(
    tx: &mut Transaction,
    htlc_script: &Script,
    local_sig: &Signature,
    remote_sig: &Signature,
    remote_sighash: EcdsaSighashType,
    preimage: Option<&[u8; 32]>,
) {
    let remote = witness_sig(remote_sig, remote_sighash);
    let local = witness_sig(local_sig, EcdsaSighashType::All);
    let preimage: &[u8] = preimage.map_or(&[], |p| &p[..]);
    let items: [&[u8]; 5] = [&[], &remote, &local, preimage, htlc_script.as_bytes()];
    if let Some(input) = tx.input.first_mut() {
        input.witness = Witness::from_slice(&items);
    }
}
