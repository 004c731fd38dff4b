//! The commitment transaction: BOLT 3 "Commitment Transaction" (obscured commitment number
//! in locktime and sequence), "Commitment Transaction Outputs", "Trimmed Outputs",
//! "Fee Payment", "Commitment Transaction Construction" and "Transaction Output Ordering"
//! (BIP 69 plus CLTV).
//!
//! Everything here is from the point of view of the commitment's *holder* (the node that can
//! broadcast it; BOLT 3's "local"): the holder's outputs are delayed and revocable, the other
//! side's `to_remote` is not.

use bitcoin::absolute::LockTime;
use bitcoin::hashes::{sha256, Hash, HashEngine};
use bitcoin::transaction::Version;
use bitcoin::{Amount, OutPoint, ScriptBuf, Sequence, Transaction, TxIn, TxOut, Witness};
use secp256k1::PublicKey;

use crate::fees::{anchors_sat, commitment_fee_sat, is_htlc_trimmed, ANCHOR_OUTPUT_VALUE_SAT};
use crate::keys::{derive_pubkey, derive_revocation_pubkey};
use crate::scripts::{
    anchor_script, offered_htlc_script, received_htlc_script, to_local_script,
    to_remote_script_pubkey,
};
use crate::shachain::MAX_INDEX;
use crate::{Bolt3Error, ChannelType};

/// The commitment-number obscuring factor: the lower 48 bits of
/// `SHA256(opener's payment_basepoint || accepter's payment_basepoint)`.
pub fn obscuring_factor(
    opener_payment_basepoint: &PublicKey,
    accepter_payment_basepoint: &PublicKey,
) -> u64 {
    let mut engine = sha256::Hash::engine();
    engine.input(&opener_payment_basepoint.serialize());
    engine.input(&accepter_payment_basepoint.serialize());
    let hash = sha256::Hash::from_engine(engine).to_byte_array();
    let mut low = [0u8; 8];
    low[2..].copy_from_slice(&hash[26..]);
    u64::from_be_bytes(low)
}

/// The locktime and input sequence encoding `commitment_number ^ obscuring_factor`:
/// locktime `0x20` followed by its lower 24 bits, sequence `0x80` followed by its upper 24.
pub fn obscured_locktime_and_sequence(
    commitment_number: u64,
    obscuring_factor: u64,
) -> Result<(u32, u32), Bolt3Error> {
    if commitment_number > MAX_INDEX {
        return Err(Bolt3Error::CommitmentNumberTooLarge(commitment_number));
    }
    let obscured = (commitment_number ^ obscuring_factor) & MAX_INDEX;
    let low = (obscured & 0xff_ffff) as u32;
    let high = ((obscured >> 24) & 0xff_ffff) as u32;
    Ok((0x2000_0000 | low, 0x8000_0000 | high))
}

/// Recovers the commitment number from a commitment transaction's locktime and sequence.
pub fn commitment_number_from_tx(locktime: u32, sequence: u32, obscuring_factor: u64) -> u64 {
    let obscured = (u64::from(sequence & 0xff_ffff) << 24) | u64::from(locktime & 0xff_ffff);
    (obscured ^ obscuring_factor) & MAX_INDEX
}

/// One side's static channel public keys, as sent in `open_channel` / `accept_channel`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Basepoints {
    /// `funding_pubkey`.
    pub funding_pubkey: PublicKey,
    /// `revocation_basepoint`.
    pub revocation_basepoint: PublicKey,
    /// `payment_basepoint` (the `to_remote` key under static remotekey).
    pub payment_basepoint: PublicKey,
    /// `delayed_payment_basepoint`.
    pub delayed_payment_basepoint: PublicKey,
    /// `htlc_basepoint`.
    pub htlc_basepoint: PublicKey,
}

/// Keys for ONE commitment transaction, from the point of view of its holder ("local" = the
/// holder).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CommitmentKeys {
    /// The holder's per-commitment point for this commitment.
    pub per_commitment_point: PublicKey,
    /// `revocationpubkey`, derived from the OTHER side's revocation basepoint.
    pub revocation_pubkey: PublicKey,
    /// The holder's `local_htlcpubkey`.
    pub local_htlcpubkey: PublicKey,
    /// The other side's `remote_htlcpubkey`.
    pub remote_htlcpubkey: PublicKey,
    /// The holder's `local_delayedpubkey`.
    pub local_delayedpubkey: PublicKey,
    /// `remotepubkey`: static, the other side's `payment_basepoint`.
    pub remote_payment_pubkey: PublicKey,
    /// The holder's funding pubkey (its anchor's key).
    pub local_funding_pubkey: PublicKey,
    /// The other side's funding pubkey (its anchor's key).
    pub remote_funding_pubkey: PublicKey,
}

impl CommitmentKeys {
    /// Derives all per-commitment keys from both sides' basepoints and the holder's
    /// per-commitment point.
    pub fn derive(
        per_commitment_point: &PublicKey,
        holder: &Basepoints,
        counterparty: &Basepoints,
    ) -> Result<Self, Bolt3Error> {
        let revocation_pubkey =
            derive_revocation_pubkey(&counterparty.revocation_basepoint, per_commitment_point)?;
        Self::derive_with_revocation_pubkey(
            per_commitment_point,
            revocation_pubkey,
            holder,
            counterparty,
        )
    }

    /// [`CommitmentKeys::derive`] with `revocationpubkey` already derived (by a caller that
    /// knows one of its secrets and uses [`crate::keys::derive_revocation_pubkey_with_point_secret`]
    /// or [`crate::keys::derive_revocation_pubkey_with_basepoint_secret`]). It MUST be the
    /// revocation pubkey of `counterparty.revocation_basepoint` and `per_commitment_point`.
    pub fn derive_with_revocation_pubkey(
        per_commitment_point: &PublicKey,
        revocation_pubkey: PublicKey,
        holder: &Basepoints,
        counterparty: &Basepoints,
    ) -> Result<Self, Bolt3Error> {
        Ok(Self {
            per_commitment_point: *per_commitment_point,
            revocation_pubkey,
            local_htlcpubkey: derive_pubkey(&holder.htlc_basepoint, per_commitment_point)?,
            remote_htlcpubkey: derive_pubkey(&counterparty.htlc_basepoint, per_commitment_point)?,
            local_delayedpubkey: derive_pubkey(
                &holder.delayed_payment_basepoint,
                per_commitment_point,
            )?,
            remote_payment_pubkey: counterparty.payment_basepoint,
            local_funding_pubkey: holder.funding_pubkey,
            remote_funding_pubkey: counterparty.funding_pubkey,
        })
    }
}

/// An HTLC as it appears in one commitment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CommitmentHtlc {
    /// Offered by the holder (an outgoing HTLC of the holder); otherwise received.
    pub offered: bool,
    /// Amount in millisatoshi; the output gets the whole satoshis.
    pub amount_msat: u64,
    /// `cltv_expiry`.
    pub cltv_expiry: u32,
    /// `payment_hash`.
    pub payment_hash: [u8; 32],
    /// Opaque to this crate, returned in [`HtlcOutput::htlc_id`].
    pub htlc_id: u64,
}

/// Channel state that determines one commitment transaction, besides balances and HTLCs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CommitmentParams {
    /// The funding output.
    pub funding_outpoint: OutPoint,
    /// Value of the funding output.
    pub funding_amount_sat: u64,
    /// Commitment number, counting UP from 0 (not the shachain index).
    pub commitment_number: u64,
    /// See [`obscuring_factor`].
    pub obscuring_factor: u64,
    /// The delay imposed on the holder (the OTHER side's `to_self_delay`).
    pub to_self_delay: u16,
    /// The holder's `dust_limit_satoshis`.
    pub dust_limit_sat: u64,
    /// `feerate_per_kw`.
    pub feerate_per_kw: u32,
    /// The channel type.
    pub channel_type: ChannelType,
    /// Whether the holder opened the channel: the opener pays the fee and the anchors.
    pub holder_is_opener: bool,
}

/// An untrimmed HTLC output of a built commitment.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct HtlcOutput {
    /// [`CommitmentHtlc::htlc_id`].
    pub htlc_id: u64,
    /// Offered by the holder.
    pub offered: bool,
    /// Index of the output in the commitment transaction.
    pub output_index: u32,
    /// Value of the output (the HTLC's whole satoshis).
    pub amount_sat: u64,
    /// The HTLC's amount in millisatoshi.
    pub amount_msat: u64,
    /// `cltv_expiry`.
    pub cltv_expiry: u32,
    /// `payment_hash`.
    pub payment_hash: [u8; 32],
    /// The offered or received HTLC witness script the output pays to (P2WSH).
    pub witness_script: ScriptBuf,
}

/// A commitment transaction, unsigned, and what its outputs are.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BuiltCommitment {
    /// The transaction, with an empty witness.
    pub tx: Transaction,
    /// The actual fee: funding amount minus all outputs (the base fee plus trimmed HTLCs,
    /// trimmed balances, and millisatoshi remainders).
    pub fee_sat: u64,
    /// The base fee ([`commitment_fee_sat`]) for the untrimmed HTLCs; what the opener was
    /// charged.
    pub base_fee_sat: u64,
    /// How much of the base fee plus anchors the opener's balance could not cover (0 when
    /// the opener can pay in full). When positive, the opener's output is absent and the
    /// transaction pays less fee than the base fee; BOLT 2 forbids getting into this state.
    pub opener_shortfall_sat: u64,
    /// For each untrimmed HTLC, in output order.
    pub htlc_outputs: Vec<HtlcOutput>,
    /// Index of the `to_local` output, if not trimmed.
    pub to_local_output: Option<u32>,
    /// Index of the `to_remote` output, if not trimmed.
    pub to_remote_output: Option<u32>,
    /// Index of the holder's anchor, if present.
    pub local_anchor_output: Option<u32>,
    /// Index of the other side's anchor, if present.
    pub remote_anchor_output: Option<u32>,
}

/// What an output of the commitment under construction is.
enum OutputKind<'a> {
    ToLocal,
    ToRemote,
    LocalAnchor,
    RemoteAnchor,
    /// An untrimmed HTLC and the witness script its output pays to.
    Htlc(&'a CommitmentHtlc, ScriptBuf),
}

/// An output before sorting.
struct PendingOutput<'a> {
    kind: OutputKind<'a>,
    txout: TxOut,
    /// For HTLCs: the final sort key; 0 for the others (never tied with an HTLC).
    cltv_expiry: u32,
}

/// Builds the holder's commitment transaction (BOLT 3 "Commitment Transaction
/// Construction").
///
/// `to_local_msat` and `to_remote_msat` are the holder's and the other side's balances
/// excluding in-flight HTLCs and BEFORE the commitment fee and the anchors are taken from
/// the opener's side; with the HTLCs they must add up to the funding amount. Outputs below
/// the holder's dust limit are left out (their value goes to fees).
///
/// If the opener's balance does not cover the base fee and anchors, its output is dropped
/// and [`BuiltCommitment::opener_shortfall_sat`] says by how much (the spec's "fee greater
/// than funder amount" vector is such a transaction). Fails if the outputs would exceed the
/// funding amount, if the balances do not add up, or if the commitment number is over 48
/// bits.
pub fn build_commitment(
    params: &CommitmentParams,
    keys: &CommitmentKeys,
    to_local_msat: u64,
    to_remote_msat: u64,
    htlcs: &[CommitmentHtlc],
) -> Result<BuiltCommitment, Bolt3Error> {
    let channel_type = params.channel_type;
    let (locktime, sequence) =
        obscured_locktime_and_sequence(params.commitment_number, params.obscuring_factor)?;

    let funding_msat = params
        .funding_amount_sat
        .checked_mul(1000)
        .ok_or(Bolt3Error::AmountOverflow)?;
    let total_msat = [to_local_msat, to_remote_msat]
        .into_iter()
        .chain(htlcs.iter().map(|h| h.amount_msat))
        .try_fold(0u64, u64::checked_add)
        .ok_or(Bolt3Error::AmountOverflow)?;
    if total_msat != funding_msat {
        return Err(Bolt3Error::BalanceMismatch {
            funding_msat,
            total_msat,
        });
    }

    let untrimmed: Vec<&CommitmentHtlc> = htlcs
        .iter()
        .filter(|h| {
            !is_htlc_trimmed(
                h.offered,
                h.amount_msat,
                params.dust_limit_sat,
                params.feerate_per_kw,
                channel_type,
            )
        })
        .collect();

    let base_fee_sat = commitment_fee_sat(params.feerate_per_kw, untrimmed.len(), channel_type);
    let anchors_sat = anchors_sat(channel_type);
    let opener_owes = base_fee_sat.saturating_add(anchors_sat);
    let mut to_local_sat = to_local_msat / 1000;
    let mut to_remote_sat = to_remote_msat / 1000;
    let opener_sat = if params.holder_is_opener {
        &mut to_local_sat
    } else {
        &mut to_remote_sat
    };
    let opener_shortfall_sat = opener_owes.saturating_sub(*opener_sat);
    *opener_sat = opener_sat.saturating_sub(opener_owes);

    let mut outputs: Vec<PendingOutput> = Vec::with_capacity(untrimmed.len() + 4);
    let mut push = |kind, value_sat, script_pubkey, cltv_expiry| {
        outputs.push(PendingOutput {
            kind,
            txout: TxOut {
                value: Amount::from_sat(value_sat),
                script_pubkey,
            },
            cltv_expiry,
        });
    };
    for h in &untrimmed {
        let witness_script = htlc_witness_script(keys, h, channel_type);
        let script_pubkey = witness_script.to_p2wsh();
        push(
            OutputKind::Htlc(h, witness_script),
            h.amount_msat / 1000,
            script_pubkey,
            h.cltv_expiry,
        );
    }
    let has_to_local = to_local_sat >= params.dust_limit_sat;
    let has_to_remote = to_remote_sat >= params.dust_limit_sat;
    if has_to_local {
        let script = to_local_script(
            &keys.revocation_pubkey,
            params.to_self_delay,
            &keys.local_delayedpubkey,
        );
        push(OutputKind::ToLocal, to_local_sat, script.to_p2wsh(), 0);
    }
    if has_to_remote {
        let script_pubkey = to_remote_script_pubkey(&keys.remote_payment_pubkey, channel_type);
        push(OutputKind::ToRemote, to_remote_sat, script_pubkey, 0);
    }
    if channel_type.has_anchors() {
        if has_to_local || !untrimmed.is_empty() {
            let script_pubkey = anchor_script(&keys.local_funding_pubkey).to_p2wsh();
            push(
                OutputKind::LocalAnchor,
                ANCHOR_OUTPUT_VALUE_SAT,
                script_pubkey,
                0,
            );
        }
        if has_to_remote || !untrimmed.is_empty() {
            let script_pubkey = anchor_script(&keys.remote_funding_pubkey).to_p2wsh();
            push(
                OutputKind::RemoteAnchor,
                ANCHOR_OUTPUT_VALUE_SAT,
                script_pubkey,
                0,
            );
        }
    }

    // BIP 69 (value, then scriptpubkey bytes: `TxOut`'s own order) and then cltv_expiry; the
    // sort is stable so fully identical HTLC outputs keep the caller's order.
    outputs.sort_by(|a, b| (&a.txout, a.cltv_expiry).cmp(&(&b.txout, b.cltv_expiry)));

    let outputs_sat = outputs
        .iter()
        .try_fold(0u64, |acc, o| acc.checked_add(o.txout.value.to_sat()))
        .ok_or(Bolt3Error::AmountOverflow)?;
    let fee_sat = params.funding_amount_sat.checked_sub(outputs_sat).ok_or(
        Bolt3Error::OutputsExceedFunding {
            outputs_sat,
            funding_sat: params.funding_amount_sat,
        },
    )?;

    let mut built = BuiltCommitment {
        tx: Transaction {
            version: Version::TWO,
            lock_time: LockTime::from_consensus(locktime),
            input: vec![TxIn {
                previous_output: params.funding_outpoint,
                script_sig: ScriptBuf::new(),
                sequence: Sequence(sequence),
                witness: Witness::new(),
            }],
            output: Vec::with_capacity(outputs.len()),
        },
        fee_sat,
        base_fee_sat,
        opener_shortfall_sat,
        htlc_outputs: Vec::with_capacity(untrimmed.len()),
        to_local_output: None,
        to_remote_output: None,
        local_anchor_output: None,
        remote_anchor_output: None,
    };
    for (index, out) in outputs.into_iter().enumerate() {
        // A transaction cannot have 2^32 outputs: at most 4 plus the HTLCs.
        let output_index = u32::try_from(index).map_err(|_| Bolt3Error::AmountOverflow)?;
        match out.kind {
            OutputKind::ToLocal => built.to_local_output = Some(output_index),
            OutputKind::ToRemote => built.to_remote_output = Some(output_index),
            OutputKind::LocalAnchor => built.local_anchor_output = Some(output_index),
            OutputKind::RemoteAnchor => built.remote_anchor_output = Some(output_index),
            OutputKind::Htlc(h, witness_script) => built.htlc_outputs.push(HtlcOutput {
                htlc_id: h.htlc_id,
                offered: h.offered,
                output_index,
                amount_sat: out.txout.value.to_sat(),
                amount_msat: h.amount_msat,
                cltv_expiry: h.cltv_expiry,
                payment_hash: h.payment_hash,
                witness_script,
            }),
        }
        built.tx.output.push(out.txout);
    }
    Ok(built)
}

/// The offered or received HTLC witness script for `htlc` in this commitment.
fn htlc_witness_script(
    keys: &CommitmentKeys,
    htlc: &CommitmentHtlc,
    channel_type: ChannelType,
) -> ScriptBuf {
    if htlc.offered {
        offered_htlc_script(
            &keys.revocation_pubkey,
            &keys.local_htlcpubkey,
            &keys.remote_htlcpubkey,
            &htlc.payment_hash,
            channel_type,
        )
    } else {
        received_htlc_script(
            &keys.revocation_pubkey,
            &keys.local_htlcpubkey,
            &keys.remote_htlcpubkey,
            &htlc.payment_hash,
            htlc.cltv_expiry,
            channel_type,
        )
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn obscured_number_round_trips() {
        let factor = 0x2bb0_3852_1914;
        let (lt, seq) = obscured_locktime_and_sequence(42, factor).unwrap();
        assert_eq!(lt, 0x2052_193e);
        assert_eq!(seq, 0x802b_b038);
        assert_eq!(commitment_number_from_tx(lt, seq, factor), 42);
        assert_eq!(
            obscured_locktime_and_sequence(MAX_INDEX + 1, factor),
            Err(Bolt3Error::CommitmentNumberTooLarge(MAX_INDEX + 1))
        );
    }
}
