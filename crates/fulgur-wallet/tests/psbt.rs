//! PSBTs end to end: fund, build, sign, finalize, extract; each signature checked against
//! its sighash and key, and the final weight against CLN's estimate.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use bitcoin::absolute::LockTime;
use bitcoin::hashes::Hash;
use bitcoin::psbt::Psbt;
use bitcoin::secp256k1::{schnorr, Message, XOnlyPublicKey, SECP256K1};
use bitcoin::sighash::{EcdsaSighashType, Prevouts, SighashCache, TapSighashType};
use bitcoin::transaction::Version;
use bitcoin::{Amount, OutPoint, ScriptBuf, Transaction, TxIn, TxOut, Txid};
use fulgur_keys::HsmSecret;
use fulgur_types::{AmountSat, FeeratePerKw, Network};
use fulgur_wallet::psbt::RBF_SEQUENCE;
use fulgur_wallet::{
    add_output_origins, build_psbt, decode_psbt, default_locktime, extract_tx, finalize_psbt,
    prepare_outputs, sign_psbt, AddrType, Change, Coin, OutputAmount, OutputRequest, OwnedInput,
    PsbtError, ScriptIndex, WalletKeys,
};

fn legacy_keys() -> WalletKeys {
    let secret = HsmSecret::from_file_bytes(&[0x42; 32]).unwrap();
    WalletKeys::from_hsm_secret(&secret, Network::Regtest)
}

fn bip86_keys() -> WalletKeys {
    let (secret, _) = HsmSecret::generate([0x24; 16]);
    WalletKeys::from_hsm_secret(&secret, Network::Regtest)
}

/// A transaction paying our keys `(index, type, sat)`, and the coins it makes.
fn receive(keys: &WalletKeys, outputs: &[(u32, AddrType, u64)]) -> (Transaction, Vec<Coin>) {
    let tx = Transaction {
        version: Version::TWO,
        lock_time: LockTime::ZERO,
        input: vec![TxIn {
            previous_output: OutPoint::new(Txid::from_byte_array([9; 32]), 3),
            ..TxIn::default()
        }],
        output: outputs
            .iter()
            .map(|&(i, t, v)| TxOut {
                value: Amount::from_sat(v),
                script_pubkey: keys.script_pubkey(i, t).unwrap(),
            })
            .collect(),
    };
    let txid = tx.compute_txid();
    let coins = outputs
        .iter()
        .enumerate()
        .map(|(vout, &(keyindex, addrtype, v))| Coin {
            outpoint: OutPoint::new(txid, u32::try_from(vout).unwrap()),
            amount: AmountSat::from_sat(v),
            keyindex,
            addrtype,
            confirmations: 3,
        })
        .collect();
    (tx, coins)
}

fn lookup(coins: &[Coin]) -> impl Fn(&OutPoint) -> Option<OwnedInput> + '_ {
    move |op| {
        coins
            .iter()
            .find(|c| c.outpoint == *op)
            .map(OwnedInput::from)
    }
}

fn external_script() -> ScriptBuf {
    ScriptBuf::new_p2wpkh(&bitcoin::WPubkeyHash::from_byte_array([7; 20]))
}

/// Checks every input's final witness against its sighash and the key of its script.
fn verify_signed(tx: &Transaction, prevouts: &[TxOut]) -> Result<(), bitcoin::secp256k1::Error> {
    let mut cache = SighashCache::new(tx);
    for (i, (input, prevout)) in tx.input.iter().zip(prevouts).enumerate() {
        let spk = &prevout.script_pubkey;
        if spk.is_p2tr() {
            assert_eq!(input.witness.len(), 1);
            let sig = schnorr::Signature::from_slice(&input.witness[0]).unwrap();
            let hash = cache
                .taproot_key_spend_signature_hash(
                    i,
                    &Prevouts::All(prevouts),
                    TapSighashType::Default,
                )
                .unwrap();
            let key = XOnlyPublicKey::from_slice(&spk.as_bytes()[2..34]).unwrap();
            SECP256K1.verify_schnorr(&sig, &Message::from_digest(hash.to_byte_array()), &key)?;
            assert!(input.script_sig.is_empty());
        } else {
            assert_eq!(input.witness.len(), 2);
            let sig = bitcoin::ecdsa::Signature::from_slice(&input.witness[0]).unwrap();
            assert_eq!(sig.sighash_type, EcdsaSighashType::All);
            assert!(input.witness[0].len() <= 71, "signature is ground to low R");
            let key = bitcoin::PublicKey::from_slice(&input.witness[1]).unwrap();
            let program = ScriptBuf::new_p2wpkh(&key.wpubkey_hash().unwrap());
            if spk.is_p2sh() {
                assert_eq!(program.to_p2sh(), *spk);
                assert_eq!(&input.script_sig.as_bytes()[1..], program.as_bytes());
            } else {
                assert_eq!(program, *spk);
                assert!(input.script_sig.is_empty());
            }
            let hash = cache
                .p2wpkh_signature_hash(i, &program, prevout.value, EcdsaSighashType::All)
                .unwrap();
            SECP256K1.verify_ecdsa(
                &Message::from_digest(hash.to_byte_array()),
                &sig.signature,
                &key.inner,
            )?;
        }
    }
    Ok(())
}

fn spend_all_types(keys: &WalletKeys, types: &[AddrType]) {
    let outputs: Vec<(u32, AddrType, u64)> = types
        .iter()
        .enumerate()
        .map(|(i, &t)| {
            (
                u32::try_from(i).unwrap() + 1,
                t,
                40_000 + 1_000 * u64::try_from(i).unwrap(),
            )
        })
        .collect();
    let (prev, coins) = receive(keys, &outputs);
    let total: u64 = outputs.iter().map(|o| o.2).sum();
    let request = [OutputRequest {
        script_pubkey: external_script(),
        amount: OutputAmount::Sat(AmountSat::from_sat(total - 20_000)),
    }];
    let feerate = FeeratePerKw::from_perkw(2_500);
    let prepared = prepare_outputs(&coins, None, &request, feerate, 1, AmountSat::ZERO).unwrap();
    assert_eq!(prepared.funding.inputs.len(), coins.len());
    let change = prepared
        .funding
        .change
        .map(|amount| Change::to_wallet(keys, 77, AddrType::P2tr, amount).unwrap());
    assert!(change.is_some());
    let built = build_psbt(
        keys,
        &prepared.funding.inputs,
        &prepared.outputs,
        change.as_ref(),
        LockTime::from_height(150).unwrap(),
        std::slice::from_ref(&prev),
    )
    .unwrap();
    assert_eq!(built.change_outnum, Some(1));
    let psbt = &built.psbt;
    assert_eq!(psbt.unsigned_tx.version, Version::TWO);
    assert_eq!(
        psbt.unsigned_tx.lock_time,
        LockTime::from_height(150).unwrap()
    );
    for (coin, (txin, input)) in coins
        .iter()
        .zip(psbt.unsigned_tx.input.iter().zip(&psbt.inputs))
    {
        assert_eq!(txin.sequence, RBF_SEQUENCE);
        assert_eq!(
            input.witness_utxo.as_ref().unwrap().value.to_sat(),
            coin.amount.sat()
        );
        assert_eq!(input.non_witness_utxo.as_ref(), Some(&prev));
        let source = keys.key_source(coin.keyindex).unwrap();
        match coin.addrtype {
            AddrType::P2tr => {
                let internal = input.tap_internal_key.unwrap();
                assert_eq!(input.tap_key_origins[&internal].1, source);
            }
            _ => {
                let key = keys.derive_pub(coin.keyindex).unwrap();
                assert_eq!(input.bip32_derivation[&key], source);
                assert_eq!(
                    input.redeem_script.is_some(),
                    coin.addrtype == AddrType::P2shSegwit
                );
            }
        }
    }
    let change_out = &psbt.outputs[1];
    assert_eq!(
        change_out.tap_key_origins[&change_out.tap_internal_key.unwrap()].1,
        keys.key_source(77).unwrap()
    );

    // Round trip through bytes, as the RPC layer does (base64 around it).
    let mut psbt = decode_psbt(&built.psbt.serialize()).unwrap();
    assert_eq!(psbt, built.psbt);
    let signed = sign_psbt(keys, &mut psbt, lookup(&coins), None).unwrap();
    assert_eq!(signed, (0..coins.len()).collect::<Vec<_>>());
    finalize_psbt(&mut psbt).unwrap();
    let tx = extract_tx(psbt).unwrap();
    let prevouts: Vec<TxOut> = tx
        .input
        .iter()
        .map(|i| prev.output[i.previous_output.vout as usize].clone())
        .collect();
    assert_eq!(verify_signed(&tx, &prevouts), Ok(()));
    // The check bites: a changed output invalidates every signature.
    let mut tampered = tx.clone();
    tampered.output[0].value = Amount::from_sat(tampered.output[0].value.to_sat() - 1);
    assert!(verify_signed(&tampered, &prevouts).is_err());
    let actual = tx.weight().to_wu();
    let estimate = prepared.funding.estimated_final_weight;
    assert!(actual <= estimate, "actual {actual} > estimate {estimate}");
    // Only ECDSA signatures shorter than 71 bytes make the estimate differ.
    let ecdsa_inputs = coins
        .iter()
        .filter(|c| c.addrtype != AddrType::P2tr)
        .count() as u64;
    assert!(
        estimate - actual <= 2 * ecdsa_inputs,
        "{estimate} vs {actual}"
    );
    // The fee paid is what the estimate priced.
    let out_total: u64 = tx.output.iter().map(|o| o.value.to_sat()).sum();
    let in_total: u64 = coins.iter().map(|c| c.amount.sat()).sum();
    assert_eq!(in_total - out_total, prepared.funding.fee().sat());
}

#[test]
fn spend_bip86_wallet() {
    spend_all_types(
        &bip86_keys(),
        &[AddrType::P2tr, AddrType::Bech32, AddrType::P2tr],
    );
    spend_all_types(&bip86_keys(), &[AddrType::P2tr]);
    spend_all_types(&bip86_keys(), &[AddrType::Bech32]);
}

#[test]
fn spend_legacy_wallet() {
    spend_all_types(
        &legacy_keys(),
        &[AddrType::Bech32, AddrType::P2shSegwit, AddrType::P2tr],
    );
}

/// A PSBT with our P2TR coin, our P2WPKH coin and a foreign input, in that order.
fn mixed_psbt(keys: &WalletKeys) -> (Psbt, Vec<Coin>) {
    let (_, coins) = receive(
        keys,
        &[(1, AddrType::P2tr, 50_000), (2, AddrType::Bech32, 60_000)],
    );
    let mut psbt = build_psbt(
        keys,
        &coins,
        &[TxOut {
            value: Amount::from_sat(100_000),
            script_pubkey: external_script(),
        }],
        None,
        LockTime::ZERO,
        &[],
    )
    .unwrap()
    .psbt;
    psbt.unsigned_tx.input.push(TxIn {
        previous_output: OutPoint::new(Txid::from_byte_array([5; 32]), 0),
        sequence: RBF_SEQUENCE,
        ..TxIn::default()
    });
    psbt.inputs.push(Default::default());
    (psbt, coins)
}

#[test]
fn signonly_and_errors() {
    let keys = bip86_keys();
    let (base, coins) = mixed_psbt(&keys);

    // Taproot signing needs every input's UTXO.
    let mut psbt = base.clone();
    assert_eq!(
        sign_psbt(&keys, &mut psbt, lookup(&coins), None),
        Err(PsbtError::MissingUtxo(2))
    );
    let mut with_foreign_utxo = base.clone();
    with_foreign_utxo.inputs[2].witness_utxo = Some(TxOut {
        value: Amount::from_sat(1_000),
        script_pubkey: external_script(),
    });

    // Only input 1 (P2WPKH), which needs no other UTXO.
    let mut psbt = base.clone();
    assert_eq!(
        sign_psbt(&keys, &mut psbt, lookup(&coins), Some(&[1])),
        Ok(vec![1])
    );
    assert!(psbt.inputs[0].tap_key_sig.is_none());
    assert_eq!(psbt.inputs[1].partial_sigs.len(), 1);
    assert_eq!(
        finalize_psbt(&mut psbt.clone()),
        Err(PsbtError::CannotFinalize(0))
    );

    // All of ours, the foreign one left alone.
    let mut psbt = with_foreign_utxo.clone();
    assert_eq!(
        sign_psbt(&keys, &mut psbt, lookup(&coins), None),
        Ok(vec![0, 1])
    );
    assert!(psbt.inputs[0].tap_key_sig.is_some());
    assert_eq!(
        finalize_psbt(&mut psbt.clone()),
        Err(PsbtError::CannotFinalize(2))
    );
    assert_eq!(extract_tx(psbt), Err(PsbtError::NotFinalized(0)));

    let err = sign_psbt(&keys, &mut base.clone(), lookup(&coins), Some(&[0, 3])).unwrap_err();
    assert_eq!(err.to_string(), "signonly[1]: 3 out of range");
    assert_eq!(err.code(), -32602);

    let err = sign_psbt(
        &keys,
        &mut with_foreign_utxo.clone(),
        lookup(&coins),
        Some(&[2]),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "Aborting PSBT signing. UTXO {}:0 is unknown (and specified by signonly)",
            Txid::from_byte_array([5; 32])
        )
    );
    assert_eq!(err.code(), -1);

    let err = sign_psbt(&keys, &mut base.clone(), lookup(&[]), None).unwrap_err();
    assert_eq!(err, PsbtError::NoWalletInputs);
    assert!(err.to_string().starts_with("No wallet inputs to sign."));

    // A PSBT whose UTXO for our input lies about the amount is refused.
    let mut lying = with_foreign_utxo.clone();
    lying.inputs[1].witness_utxo.as_mut().unwrap().value = Amount::from_sat(1);
    assert_eq!(
        sign_psbt(&keys, &mut lying, lookup(&coins), None),
        Err(PsbtError::UtxoMismatch(1))
    );

    // A PSBT without UTXO data for our inputs gets it from the wallet.
    let mut bare = with_foreign_utxo.clone();
    bare.inputs[0] = Default::default();
    bare.inputs[1] = Default::default();
    assert_eq!(
        sign_psbt(&keys, &mut bare, lookup(&coins), None),
        Ok(vec![0, 1])
    );
    assert_eq!(
        bare.inputs[1].witness_utxo.as_ref().unwrap().value.to_sat(),
        60_000
    );

    // Sighash types we do not sign with.
    let mut other_sighash = with_foreign_utxo.clone();
    other_sighash.inputs[1].sighash_type = Some(EcdsaSighashType::None.into());
    assert_eq!(
        sign_psbt(&keys, &mut other_sighash, lookup(&coins), None),
        Err(PsbtError::UnsupportedSighash(1))
    );

    assert!(matches!(
        decode_psbt(b"not a psbt"),
        Err(PsbtError::Malformed(_))
    ));
}

#[test]
fn build_checks() {
    let keys = legacy_keys();
    let (prev, coins) = receive(&keys, &[(3, AddrType::Bech32, 10_000)]);
    let mut wrong_prev = prev.clone();
    wrong_prev.output[0].value = Amount::from_sat(9_999);
    // A different transaction (different txid) is simply not used...
    let built = build_psbt(&keys, &coins, &[], None, LockTime::ZERO, &[wrong_prev]).unwrap();
    assert!(built.psbt.inputs[0].non_witness_utxo.is_none());
    // ... but the right txid with the wrong output cannot happen unless the coin is wrong.
    let mut wrong_coin = coins.clone();
    wrong_coin[0].amount = AmountSat::from_sat(1);
    assert_eq!(
        build_psbt(&keys, &wrong_coin, &[], None, LockTime::ZERO, &[prev]),
        Err(PsbtError::PrevTxMismatch(0))
    );
    let bad_change = Change {
        script_pubkey: external_script(),
        amount: AmountSat::from_sat(1_000),
        origin: Some(fulgur_wallet::ScriptOrigin {
            keyindex: 1,
            addrtype: AddrType::P2tr,
        }),
    };
    assert_eq!(
        build_psbt(&keys, &coins, &[], Some(&bad_change), LockTime::ZERO, &[]),
        Err(PsbtError::ChangeMismatch)
    );
}

#[test]
fn output_origins_for_our_outputs() {
    let keys = legacy_keys();
    let (_, coins) = receive(&keys, &[(3, AddrType::Bech32, 10_000)]);
    let ours = ScriptIndex::new(&keys, 10, 5).unwrap();
    let outputs = [
        TxOut {
            value: Amount::from_sat(1_000),
            script_pubkey: external_script(),
        },
        TxOut {
            value: Amount::from_sat(2_000),
            script_pubkey: keys.script_pubkey(12, AddrType::Bech32).unwrap(),
        },
        TxOut {
            value: Amount::from_sat(3_000),
            script_pubkey: keys.script_pubkey(4, AddrType::P2shSegwit).unwrap(),
        },
    ];
    let mut psbt = build_psbt(&keys, &coins, &outputs, None, LockTime::ZERO, &[])
        .unwrap()
        .psbt;
    assert_eq!(add_output_origins(&keys, &mut psbt, &ours), Ok(2));
    assert!(psbt.outputs[0].bip32_derivation.is_empty());
    let key12 = keys.derive_pub(12).unwrap();
    assert_eq!(
        psbt.outputs[1].bip32_derivation[&key12],
        keys.key_source(12).unwrap()
    );
    assert!(psbt.outputs[2].redeem_script.is_some());
}

#[test]
fn locktime_fuzz() {
    assert_eq!(default_locktime(50, 0), LockTime::from_height(50).unwrap());
    assert_eq!(
        default_locktime(1_000, 1),
        LockTime::from_height(1_000).unwrap()
    );
    assert_eq!(
        default_locktime(1_000, 10 * 37),
        LockTime::from_height(963).unwrap()
    );
    for r in 0..5_000u64 {
        let LockTime::Blocks(h) = default_locktime(101, r) else {
            panic!("not a height")
        };
        assert!((2..=101).contains(&h.to_consensus_u32()));
    }
}
