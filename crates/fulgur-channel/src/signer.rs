//! Our channel keys: basepoints, per-commitment points and secrets, and the signatures of
//! commitment, HTLC and closing transactions (BOLT 3 "Key Derivation", "Per-commitment
//! Secret Requirements"). The secrets come from `hsm_secret` (see `fulgur_keys::channel`).

use bitcoin::sighash::EcdsaSighashType;
use bitcoin::{Script, Transaction};
use fulgur_bolt3::{keys, shachain, sign, Basepoints};
use fulgur_keys::ChannelSecrets;
use secp256k1::ecdsa::Signature;
use secp256k1::{PublicKey, SecretKey};
use serde::{Deserialize, Serialize};

use crate::error::ChannelError;

/// One side's public keys: the funding key and the four basepoints (stored for the peer).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartyKeys {
    /// The key of the side's half of the 2-of-2 funding output.
    pub funding_pubkey: PublicKey,
    /// Basepoint of revocation keys.
    pub revocation_basepoint: PublicKey,
    /// Basepoint of payment keys (the `to_remote` key with `option_static_remotekey`).
    pub payment_basepoint: PublicKey,
    /// Basepoint of delayed payment keys.
    pub delayed_payment_basepoint: PublicKey,
    /// Basepoint of HTLC keys.
    pub htlc_basepoint: PublicKey,
}

impl PartyKeys {
    /// The BOLT 3 crate's form.
    pub fn basepoints(&self) -> Basepoints {
        Basepoints {
            funding_pubkey: self.funding_pubkey,
            revocation_basepoint: self.revocation_basepoint,
            payment_basepoint: self.payment_basepoint,
            delayed_payment_basepoint: self.delayed_payment_basepoint,
            htlc_basepoint: self.htlc_basepoint,
        }
    }
}

/// Our secrets for one channel, and what is derived from them.
#[derive(Debug)]
pub struct ChannelSigner {
    secrets: ChannelSecrets,
    keys: PartyKeys,
}

fn pubkey(secret: &SecretKey) -> PublicKey {
    PublicKey::from_secret_key_global(secret)
}

fn bolt3_err(what: &str) -> impl Fn(fulgur_bolt3::Bolt3Error) -> ChannelError + '_ {
    move |e| ChannelError::fail(format!("{what}: {e}"))
}

impl ChannelSigner {
    /// A signer over a channel's secrets.
    pub fn new(secrets: ChannelSecrets) -> ChannelSigner {
        let keys = PartyKeys {
            funding_pubkey: pubkey(&secrets.funding_key),
            revocation_basepoint: pubkey(&secrets.revocation_basepoint_secret),
            payment_basepoint: pubkey(&secrets.payment_basepoint_secret),
            delayed_payment_basepoint: pubkey(&secrets.delayed_payment_basepoint_secret),
            htlc_basepoint: pubkey(&secrets.htlc_basepoint_secret),
        };
        ChannelSigner { secrets, keys }
    }

    /// Our public keys.
    pub fn keys(&self) -> &PartyKeys {
        &self.keys
    }

    /// The secret of our commitment number `n` (numbers count up from 0).
    pub fn per_commitment_secret(&self, n: u64) -> [u8; 32] {
        shachain::per_commitment_secret(&self.secrets.shaseed, shachain::MAX_INDEX - n)
    }

    /// The point of our commitment number `n`.
    pub fn per_commitment_point(&self, n: u64) -> PublicKey {
        // A SHA256 output is a valid secret key except with probability ~2^-128.
        keys::per_commitment_point(&self.per_commitment_secret(n))
            .unwrap_or(self.keys.funding_pubkey)
    }

    /// Signs a transaction spending the funding output (a commitment or closing transaction).
    pub fn sign_funding_spend(
        &self,
        tx: &Transaction,
        funding_script: &Script,
        funding_sat: u64,
    ) -> Result<Signature, ChannelError> {
        sign::sign_commitment(tx, funding_script, funding_sat, &self.secrets.funding_key)
            .map_err(bolt3_err("cannot sign the funding spend"))
    }

    /// Signs an HTLC transaction of a commitment whose per-commitment point is `point`.
    pub fn sign_htlc(
        &self,
        tx: &Transaction,
        htlc_script: &Script,
        amount_sat: u64,
        point: &PublicKey,
        sighash: EcdsaSighashType,
    ) -> Result<Signature, ChannelError> {
        let key = keys::derive_privkey(&self.secrets.htlc_basepoint_secret, point)
            .map_err(bolt3_err("cannot derive our HTLC key"))?;
        sign::sign_htlc_tx(tx, htlc_script, amount_sat, &key, sighash)
            .map_err(bolt3_err("cannot sign an HTLC transaction"))
    }
}
