//! Output scripts: BOLT 3 "Funding Transaction Output", "Commitment Transaction Outputs"
//! (`to_local`, `to_remote`, the anchors) and the offered/received "HTLC Outputs"; plus the
//! BOLT 2 `shutdown` scriptpubkey forms ("Closing Initiation: `shutdown`").
//!
//! Functions named `*_script` return witness scripts; `*_script_pubkey` return the P2WSH or
//! P2WPKH output script.

use bitcoin::hashes::{hash160, ripemd160, Hash};
use bitcoin::opcodes::all::{
    OP_CHECKMULTISIG, OP_CHECKSIG, OP_CHECKSIGVERIFY, OP_CLTV, OP_CSV, OP_DROP, OP_DUP, OP_ELSE,
    OP_ENDIF, OP_EQUAL, OP_EQUALVERIFY, OP_HASH160, OP_IF, OP_IFDUP, OP_NOTIF, OP_RETURN, OP_SIZE,
    OP_SWAP,
};
use bitcoin::script::Builder;
use bitcoin::{CompressedPublicKey, Script, ScriptBuf, WitnessVersion};
use secp256k1::PublicKey;

use crate::ChannelType;

/// `2 <pubkey1> <pubkey2> 2 OP_CHECKMULTISIG`, the keys in lexicographic order of their
/// compressed encoding.
pub fn funding_script(a: &PublicKey, b: &PublicKey) -> ScriptBuf {
    let (a, b) = (a.serialize(), b.serialize());
    let (first, second) = if a <= b { (a, b) } else { (b, a) };
    Builder::new()
        .push_int(2)
        .push_slice(first)
        .push_slice(second)
        .push_int(2)
        .push_opcode(OP_CHECKMULTISIG)
        .into_script()
}

/// The funding output's script: P2WSH of [`funding_script`].
pub fn funding_script_pubkey(a: &PublicKey, b: &PublicKey) -> ScriptBuf {
    funding_script(a, b).to_p2wsh()
}

/// The `to_local` witness script (also the output script of HTLC-timeout/success
/// transactions): revocable by `revocation_pubkey`, otherwise spendable by
/// `local_delayedpubkey` after `to_self_delay` blocks.
pub fn to_local_script(
    revocation_pubkey: &PublicKey,
    to_self_delay: u16,
    local_delayedpubkey: &PublicKey,
) -> ScriptBuf {
    Builder::new()
        .push_opcode(OP_IF)
        .push_slice(revocation_pubkey.serialize())
        .push_opcode(OP_ELSE)
        .push_int(i64::from(to_self_delay))
        .push_opcode(OP_CSV)
        .push_opcode(OP_DROP)
        .push_slice(local_delayedpubkey.serialize())
        .push_opcode(OP_ENDIF)
        .push_opcode(OP_CHECKSIG)
        .into_script()
}

/// The `to_remote` output script: P2WPKH of `remote_payment_pubkey`, or with anchors P2WSH
/// of [`to_remote_witness_script`].
pub fn to_remote_script_pubkey(
    remote_payment_pubkey: &PublicKey,
    channel_type: ChannelType,
) -> ScriptBuf {
    match to_remote_witness_script(remote_payment_pubkey, channel_type) {
        Some(ws) => ws.to_p2wsh(),
        None => ScriptBuf::new_p2wpkh(&CompressedPublicKey(*remote_payment_pubkey).wpubkey_hash()),
    }
}

/// With anchors, `<remotepubkey> OP_CHECKSIGVERIFY 1 OP_CHECKSEQUENCEVERIFY`; without,
/// `None` (the output is P2WPKH).
pub fn to_remote_witness_script(
    remote_payment_pubkey: &PublicKey,
    channel_type: ChannelType,
) -> Option<ScriptBuf> {
    channel_type.has_anchors().then(|| {
        Builder::new()
            .push_slice(remote_payment_pubkey.serialize())
            .push_opcode(OP_CHECKSIGVERIFY)
            .push_int(1)
            .push_opcode(OP_CSV)
            .into_script()
    })
}

/// The anchor witness script: spendable by `funding_pubkey`, or by anyone after 16 blocks.
pub fn anchor_script(funding_pubkey: &PublicKey) -> ScriptBuf {
    Builder::new()
        .push_slice(funding_pubkey.serialize())
        .push_opcode(OP_CHECKSIG)
        .push_opcode(OP_IFDUP)
        .push_opcode(OP_NOTIF)
        .push_int(16)
        .push_opcode(OP_CSV)
        .push_opcode(OP_ENDIF)
        .into_script()
}

/// The common head of both HTLC scripts: the revocation branch, then
/// `<remote_htlcpubkey> OP_SWAP OP_SIZE 32 OP_EQUAL`.
fn htlc_script_head(revocation_pubkey: &PublicKey, remote_htlcpubkey: &PublicKey) -> Builder {
    let revocation_hash = hash160::Hash::hash(&revocation_pubkey.serialize());
    Builder::new()
        .push_opcode(OP_DUP)
        .push_opcode(OP_HASH160)
        .push_slice(revocation_hash.to_byte_array())
        .push_opcode(OP_EQUAL)
        .push_opcode(OP_IF)
        .push_opcode(OP_CHECKSIG)
        .push_opcode(OP_ELSE)
        .push_slice(remote_htlcpubkey.serialize())
        .push_opcode(OP_SWAP)
        .push_opcode(OP_SIZE)
        .push_int(32)
        .push_opcode(OP_EQUAL)
}

/// The common tail of both HTLC scripts: the anchors' 1-block CSV, then the outer
/// `OP_ENDIF`.
fn htlc_script_tail(builder: Builder, channel_type: ChannelType) -> ScriptBuf {
    let builder = if channel_type.has_anchors() {
        builder.push_int(1).push_opcode(OP_CSV).push_opcode(OP_DROP)
    } else {
        builder
    };
    builder.push_opcode(OP_ENDIF).into_script()
}

/// `RIPEMD160(payment_hash)`.
fn payment_hash160(payment_hash: &[u8; 32]) -> [u8; 20] {
    ripemd160::Hash::hash(payment_hash).to_byte_array()
}

/// Witness script of an HTLC offered by the commitment's holder: the holder times it out
/// through an HTLC-timeout transaction; the other side claims it with the preimage.
pub fn offered_htlc_script(
    revocation_pubkey: &PublicKey,
    local_htlcpubkey: &PublicKey,
    remote_htlcpubkey: &PublicKey,
    payment_hash: &[u8; 32],
    channel_type: ChannelType,
) -> ScriptBuf {
    let builder = htlc_script_head(revocation_pubkey, remote_htlcpubkey)
        .push_opcode(OP_NOTIF)
        .push_opcode(OP_DROP)
        .push_int(2)
        .push_opcode(OP_SWAP)
        .push_slice(local_htlcpubkey.serialize())
        .push_int(2)
        .push_opcode(OP_CHECKMULTISIG)
        .push_opcode(OP_ELSE)
        .push_opcode(OP_HASH160)
        .push_slice(payment_hash160(payment_hash))
        .push_opcode(OP_EQUALVERIFY)
        .push_opcode(OP_CHECKSIG)
        .push_opcode(OP_ENDIF);
    htlc_script_tail(builder, channel_type)
}

/// Witness script of an HTLC received by the commitment's holder: the holder claims it with
/// the preimage through an HTLC-success transaction; the other side times it out after
/// `cltv_expiry`.
pub fn received_htlc_script(
    revocation_pubkey: &PublicKey,
    local_htlcpubkey: &PublicKey,
    remote_htlcpubkey: &PublicKey,
    payment_hash: &[u8; 32],
    cltv_expiry: u32,
    channel_type: ChannelType,
) -> ScriptBuf {
    let builder = htlc_script_head(revocation_pubkey, remote_htlcpubkey)
        .push_opcode(OP_IF)
        .push_opcode(OP_HASH160)
        .push_slice(payment_hash160(payment_hash))
        .push_opcode(OP_EQUALVERIFY)
        .push_int(2)
        .push_opcode(OP_SWAP)
        .push_slice(local_htlcpubkey.serialize())
        .push_int(2)
        .push_opcode(OP_CHECKMULTISIG)
        .push_opcode(OP_ELSE)
        .push_opcode(OP_DROP)
        .push_int(i64::from(cltv_expiry))
        .push_opcode(OP_CLTV)
        .push_opcode(OP_DROP)
        .push_opcode(OP_CHECKSIG)
        .push_opcode(OP_ENDIF);
    htlc_script_tail(builder, channel_type)
}

/// Which `shutdown` scriptpubkey forms the negotiated features allow (BOLT 2).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct ShutdownScriptRules {
    /// `option_shutdown_anysegwit`: witness versions 1 to 16 with a 2..=40-byte program.
    pub anysegwit: bool,
    /// `option_simple_close`: `OP_RETURN` followed by a single push of 6..=80 bytes.
    pub simple_close: bool,
    /// Also accept P2PKH and P2SH. The current BOLT 2 no longer lists them (they were
    /// dropped so that dust limits down to 354 sat relay), so this is off by default; only
    /// for leniency towards old peers.
    pub legacy_p2pkh_p2sh: bool,
}

/// Whether `script` is a `shutdown` scriptpubkey form allowed under `rules` (BOLT 2):
/// P2WPKH and P2WSH always; witness v1..=16 programs of 2..=40 bytes with
/// [`ShutdownScriptRules::anysegwit`]; the `OP_RETURN` forms with
/// [`ShutdownScriptRules::simple_close`]; P2PKH and P2SH with
/// [`ShutdownScriptRules::legacy_p2pkh_p2sh`].
pub fn is_valid_shutdown_script(script: &[u8], rules: ShutdownScriptRules) -> bool {
    let script = Script::from_bytes(script);
    script.is_p2wpkh()
        || script.is_p2wsh()
        || (rules.anysegwit
            && script
                .witness_version()
                .is_some_and(|v| v != WitnessVersion::V0))
        || (rules.simple_close && is_simple_close_op_return(script))
        || (rules.legacy_p2pkh_p2sh && (script.is_p2pkh() || script.is_p2sh()))
}

/// `OP_RETURN` followed by a single push of 6..=80 bytes: a direct push of 6..=75 bytes, or
/// `OP_PUSHDATA1` and 76..=80 bytes (`option_simple_close`).
fn is_simple_close_op_return(script: &Script) -> bool {
    const OP_PUSHDATA1: u8 = 0x4c;
    match script.as_bytes() {
        [op, rest @ ..] if *op == OP_RETURN.to_u8() => match rest {
            [n, data @ ..] if (6..=75).contains(n) => data.len() == usize::from(*n),
            [OP_PUSHDATA1, n, data @ ..] => (76..=80).contains(n) && data.len() == usize::from(*n),
            _ => false,
        },
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn shutdown_forms() {
        let p2wpkh = [&[0u8, 20][..], &[1; 20]].concat();
        let p2wsh = [&[0u8, 32][..], &[1; 32]].concat();
        let p2tr = [&[0x51u8, 32][..], &[1; 32]].concat();
        let v16_2 = [0x60u8, 2, 1, 1];
        let v1_41 = [&[0x51u8, 41][..], &[1; 41]].concat();
        let v1_1 = [0x51u8, 1, 1];
        let p2pkh = [&[0x76u8, 0xa9, 20][..], &[1; 20], &[0x88, 0xac]].concat();
        let p2sh = [&[0xa9u8, 20][..], &[1; 20], &[0x87]].concat();
        let ret6 = [&[0x6au8, 6][..], &[1; 6]].concat();
        let ret5 = [&[0x6au8, 5][..], &[1; 5]].concat();
        let ret75 = [&[0x6au8, 75][..], &[1; 75]].concat();
        let ret80 = [&[0x6au8, 0x4c, 80][..], &[1; 80]].concat();
        let ret81 = [&[0x6au8, 0x4c, 81][..], &[1; 81]].concat();
        let ret_pd1_75 = [&[0x6au8, 0x4c, 75][..], &[1; 75]].concat();

        // Without option_simple_close nor the legacy forms, with or without anysegwit.
        let is_standard = |script: &[u8], anysegwit: bool| {
            is_valid_shutdown_script(
                script,
                ShutdownScriptRules {
                    anysegwit,
                    ..ShutdownScriptRules::default()
                },
            )
        };
        assert!(is_standard(&p2wpkh, false));
        assert!(is_standard(&p2wsh, false));
        assert!(!is_standard(&p2wpkh[..21], false));
        assert!(!is_standard(&p2tr, false));
        assert!(is_standard(&p2tr, true));
        assert!(is_standard(&v16_2, true));
        assert!(!is_standard(&v1_41, true));
        assert!(!is_standard(&v1_1, true));
        assert!(!is_standard(&p2pkh, true));
        assert!(!is_standard(&p2sh, true));
        assert!(!is_standard(&ret6, true));
        assert!(!is_standard(&[], true));

        let all = ShutdownScriptRules {
            anysegwit: true,
            simple_close: true,
            legacy_p2pkh_p2sh: true,
        };
        for ok in [&p2wpkh, &p2wsh, &p2tr, &p2pkh, &p2sh, &ret6, &ret75, &ret80] {
            assert!(is_valid_shutdown_script(ok, all), "{}", hex::encode(ok));
        }
        for bad in [&ret5, &ret81, &ret_pd1_75, &v1_41] {
            assert!(!is_valid_shutdown_script(bad, all), "{}", hex::encode(bad));
        }
    }

    #[test]
    fn anchor_and_to_remote_scripts() {
        let pk = PublicKey::from_slice(
            &hex::decode("023da092f6980e58d2c037173180e9a465476026ee50f96695963e8efe436f54eb")
                .unwrap(),
        )
        .unwrap();
        assert_eq!(
            hex::encode(anchor_script(&pk).as_bytes()),
            "21023da092f6980e58d2c037173180e9a465476026ee50f96695963e8efe436f54ebac736460b268"
        );
        assert_eq!(
            hex::encode(
                to_remote_witness_script(&pk, ChannelType::AnchorsZeroFeeHtlcTx)
                    .unwrap()
                    .as_bytes()
            ),
            "21023da092f6980e58d2c037173180e9a465476026ee50f96695963e8efe436f54ebad51b2"
        );
        assert!(to_remote_witness_script(&pk, ChannelType::StaticRemoteKey).is_none());
    }
}
