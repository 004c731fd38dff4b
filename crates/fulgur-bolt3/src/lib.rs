//! BOLT 3 ("Bitcoin Transaction and Script Formats"): the transactions a Lightning channel is
//! made of, and the keys and secrets they use.
//!
//! - [`keys`]: per-commitment key derivation ("Key Derivation").
//! - [`shachain`]: per-commitment secret generation and compact storage ("Per-commitment
//!   Secret Requirements", "Efficient Per-commitment Secret Storage").
//! - [`scripts`]: the funding, `to_local`, `to_remote`, anchor and HTLC scripts, plus the
//!   BOLT 2 `shutdown` scriptpubkey forms.
//! - [`fees`]: expected weights, fees and trimming ("Fees", "Trimmed Outputs").
//! - [`commitment`]: the commitment transaction ("Commitment Transaction",
//!   "Commitment Transaction Construction").
//! - [`htlc_tx`]: the second-stage HTLC-timeout and HTLC-success transactions.
//! - [`closing`]: the mutual-close transactions ("Legacy Closing Transaction",
//!   "Closing Transaction").
//! - [`sign`]: segwit v0 sighashes, signing, verification and witness assembly.
//!
//! The crate is sans-IO: it does no I/O, reads no clock and draws no randomness. ECDSA
//! signatures are deterministic (RFC 6979) and low-S.

pub mod closing;
pub mod commitment;
pub mod fees;
pub mod htlc_tx;
pub mod keys;
pub mod scripts;
pub mod shachain;
pub mod sign;

pub use closing::{build_closing_tx, build_simple_closing_tx, closing_tx_weight};
pub use commitment::{
    build_commitment, obscuring_factor, Basepoints, BuiltCommitment, CommitmentHtlc,
    CommitmentKeys, CommitmentParams, HtlcOutput,
};
pub use fees::{
    commitment_fee_sat, commitment_weight, htlc_success_fee_sat, htlc_timeout_fee_sat,
    is_htlc_trimmed, ANCHOR_OUTPUT_VALUE_SAT,
};
pub use htlc_tx::{build_htlc_tx, build_htlc_txs};
pub use keys::{
    derive_privkey, derive_pubkey, derive_revocation_privkey, derive_revocation_pubkey,
    per_commitment_point,
};
pub use scripts::{
    anchor_script, funding_script, funding_script_pubkey, is_valid_shutdown_script,
    offered_htlc_script, received_htlc_script, to_local_script, to_remote_script_pubkey,
    to_remote_witness_script, ShutdownScriptRules,
};
pub use shachain::{per_commitment_secret, ShachainError, ShachainStore, MAX_INDEX};
pub use sign::{
    commitment_sighash, finalize_commitment, finalize_htlc_tx, htlc_sighash_type, sign_commitment,
    sign_htlc_tx, verify_commitment_sig, verify_htlc_sig,
};

/// Commitment format negotiated for the channel (`channel_type`).
///
/// Both formats use `option_static_remotekey` (the `to_remote` output pays the other side's
/// `payment_basepoint` directly); the legacy format without it is not supported.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ChannelType {
    /// `option_static_remotekey` without anchors: `to_remote` is P2WPKH, HTLC transactions
    /// pay their own fee and are signed with `SIGHASH_ALL`.
    StaticRemoteKey,
    /// `option_anchors_zero_fee_htlc_tx` (implies static remotekey): two 330-sat anchor
    /// outputs, a 1-block CSV on `to_remote` and HTLC outputs, zero-fee HTLC transactions
    /// signed by the counterparty with `SIGHASH_SINGLE|SIGHASH_ANYONECANPAY`.
    AnchorsZeroFeeHtlcTx,
}

impl ChannelType {
    /// Whether the commitment has anchor outputs (`option_anchors`).
    pub fn has_anchors(self) -> bool {
        matches!(self, ChannelType::AnchorsZeroFeeHtlcTx)
    }
}

/// Why a BOLT 3 construction or check failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Bolt3Error {
    /// A 32-byte secret is zero or not below the curve order.
    #[error("secret is not a valid secp256k1 secret key")]
    InvalidSecret,
    /// A key derivation hit an invalid tweak or the point at infinity (negligible odds
    /// with honest inputs).
    #[error("key derivation failed: {0}")]
    KeyDerivation(secp256k1::Error),
    /// The commitment number does not fit in 48 bits.
    #[error("commitment number {0} does not fit in 48 bits")]
    CommitmentNumberTooLarge(u64),
    /// `to_local + to_remote + HTLCs` does not add up to the funding amount.
    #[error(
        "balances add up to {total_msat} msat but the funding output holds {funding_msat} msat"
    )]
    BalanceMismatch {
        /// The funding output, in millisatoshi.
        funding_msat: u64,
        /// `to_local_msat + to_remote_msat + sum(htlc amount_msat)`.
        total_msat: u64,
    },
    /// An amount overflowed `u64`.
    #[error("amount overflow")]
    AmountOverflow,
    /// The outputs would spend more than the funding output holds: the opener cannot pay
    /// for the anchors.
    #[error("outputs total {outputs_sat} sat but the funding output holds {funding_sat} sat")]
    OutputsExceedFunding {
        /// Sum of the commitment outputs.
        outputs_sat: u64,
        /// The funding output.
        funding_sat: u64,
    },
    /// The transaction has no input 0 to compute a sighash for.
    #[error("sighash: {0}")]
    Sighash(#[from] bitcoin::transaction::InputsIndexError),
    /// A signature does not verify (including a valid but high-S signature).
    #[error("invalid signature")]
    InvalidSignature,
}

impl From<secp256k1::Error> for Bolt3Error {
    fn from(e: secp256k1::Error) -> Self {
        Bolt3Error::KeyDerivation(e)
    }
}
