//! Real regtest blocks (tests/vectors/regtest-wallet-spends.json): coinbases paid to wallet
//! addresses of every type, then one transaction per wallet, built and signed by this crate,
//! that Bitcoin Core accepted and mined. Checks block scanning on them, and that the whole
//! pipeline (fund, build, sign, finalize) reproduces the mined transactions byte for byte
//! (signing is deterministic).

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use std::collections::HashSet;

use bitcoin::absolute::LockTime;
use bitcoin::{Block, OutPoint, ScriptBuf, Transaction};
use fulgur_keys::HsmSecret;
use fulgur_types::{AmountSat, FeeratePerKw, Network};
use fulgur_wallet::{
    build_psbt, extract_tx, finalize_psbt, prepare_outputs, scan_block, sign_psbt, AddrType,
    Change, Coin, FoundOutput, OutputAmount, OutputRequest, OwnedInput, ScriptIndex, WalletKeys,
};
use serde_json::Value;

fn vector() -> Value {
    serde_json::from_str(include_str!("vectors/regtest-wallet-spends.json")).unwrap()
}

fn block(hex: &Value) -> Block {
    bitcoin::consensus::deserialize(&hex::decode(hex.as_str().unwrap()).unwrap()).unwrap()
}

fn wallet(v: &Value, name: &str) -> WalletKeys {
    let w = &v["wallets"][name];
    let secret = match w["hsm_secret_file_hex"].as_str() {
        Some(file) => HsmSecret::from_file_bytes(&hex::decode(file).unwrap()).unwrap(),
        None => {
            let entropy = hex::decode(w["hsm_secret_entropy_hex"].as_str().unwrap()).unwrap();
            HsmSecret::generate(entropy.try_into().unwrap()).0
        }
    };
    WalletKeys::from_hsm_secret(&secret, Network::Regtest)
}

fn addrtype(name: &str) -> AddrType {
    [AddrType::Bech32, AddrType::P2tr, AddrType::P2shSegwit]
        .into_iter()
        .find(|t| t.name() == name)
        .unwrap()
}

/// The coinbase outputs each wallet received, found by scanning blocks 1 to 5.
fn received(v: &Value, name: &str, keys: &WalletKeys) -> (Vec<FoundOutput>, Vec<Transaction>) {
    let index = ScriptIndex::new(keys, 0, ScriptIndex::DEFAULT_GAP).unwrap();
    let mut found = Vec::new();
    let mut coinbases = Vec::new();
    let nobody = |_: &OutPoint| false;
    for (expected, hex) in v["coinbase_outputs"]
        .as_array()
        .unwrap()
        .iter()
        .zip(v["coinbase_blocks_hex"].as_array().unwrap())
    {
        let height = u32::try_from(expected["height"].as_u64().unwrap()).unwrap();
        let scan = scan_block(&block(hex), height, &index, &nobody);
        assert_eq!(scan.height, height);
        if expected["wallet"] != name {
            assert!(scan.is_empty());
            continue;
        }
        assert_eq!(scan.new_outputs.len(), 1);
        assert!(scan.spends.is_empty());
        let out = &scan.new_outputs[0];
        assert_eq!(
            u64::from(out.keyindex),
            expected["keyindex"].as_u64().unwrap()
        );
        assert_eq!(
            out.addrtype,
            addrtype(expected["addrtype"].as_str().unwrap())
        );
        assert_eq!(out.amount, AmountSat::from_sat(5_000_000_000));
        assert_eq!(scan.relevant_txs.len(), 1);
        assert_eq!(scan.relevant_txs[0].txindex, 0);
        let tx: Transaction = bitcoin::consensus::deserialize(&scan.relevant_txs[0].raw).unwrap();
        assert_eq!(tx.compute_txid(), out.outpoint.txid);
        assert_eq!(scan.relevant_txs[0].txid, out.outpoint.txid);
        found.push(out.clone());
        coinbases.push(tx);
    }
    (found, coinbases)
}

#[test]
fn scan_and_rebuild_mined_spends() {
    let v = vector();
    let spend_block = block(&v["spend_block_hex"]);
    let height = u32::try_from(v["spend_block_height"].as_u64().unwrap()).unwrap();
    let pay = &v["payments"];
    let to = ScriptBuf::from_bytes(hex::decode(pay["to_script_hex"].as_str().unwrap()).unwrap());
    for name in ["legacy", "bip86"] {
        let keys = wallet(&v, name);
        let (found, coinbases) = received(&v, name, &keys);
        let ours: HashSet<OutPoint> = found.iter().map(|f| f.outpoint).collect();
        let index = ScriptIndex::new(&keys, 0, ScriptIndex::DEFAULT_GAP).unwrap();
        let scan = scan_block(&spend_block, height, &index, &|op| ours.contains(op));

        // Every coinbase output spent, by one transaction, which pays change to key 50. The
        // block's own coinbase pays the bip86 wallet's key 2.
        let spent: HashSet<OutPoint> = scan.spends.iter().map(|s| s.outpoint).collect();
        assert_eq!(spent, ours);
        let coinbase_is_ours = v["spend_block_coinbase"]["wallet"] == name;
        assert_eq!(scan.relevant_txs.len(), 1 + usize::from(coinbase_is_ours));
        let mined = scan.relevant_txs.last().unwrap();
        assert!(mined.txindex > 0);
        assert!(scan.spends.iter().all(|s| s.spender == mined.txid));
        let change: Vec<&FoundOutput> = scan
            .new_outputs
            .iter()
            .filter(|o| o.outpoint.txid == mined.txid)
            .collect();
        assert_eq!(change.len(), 1);
        assert_eq!(change[0].keyindex, 50);
        assert_eq!(change[0].addrtype, AddrType::P2tr);
        assert_eq!(scan.new_outputs.len(), 1 + usize::from(coinbase_is_ours));
        if coinbase_is_ours {
            assert_eq!(scan.relevant_txs[0].txindex, 0);
            assert_eq!(scan.new_outputs[0].keyindex, 2);
            assert_eq!(scan.new_outputs[0].addrtype, AddrType::Bech32);
        }
        assert_eq!(scan.max_keyindex(), Some(50));

        // Rebuild it from the same coins and parameters: identical bytes.
        let coins: Vec<Coin> = found
            .iter()
            .map(|f| Coin {
                outpoint: f.outpoint,
                amount: f.amount,
                keyindex: f.keyindex,
                addrtype: f.addrtype,
                confirmations: 101,
            })
            .collect();
        let request = [OutputRequest {
            script_pubkey: to.clone(),
            amount: OutputAmount::Sat(AmountSat::from_sat(pay[name].as_u64().unwrap())),
        }];
        let feerate = FeeratePerKw::from_perkw(
            u32::try_from(pay["feerate_perkw"].as_u64().unwrap()).unwrap(),
        );
        let prepared =
            prepare_outputs(&coins, None, &request, feerate, 1, AmountSat::ZERO).unwrap();
        let change =
            Change::to_wallet(&keys, 50, AddrType::P2tr, prepared.funding.change.unwrap()).unwrap();
        let locktime =
            LockTime::from_consensus(u32::try_from(pay["locktime"].as_u64().unwrap()).unwrap());
        let mut psbt = build_psbt(
            &keys,
            &prepared.funding.inputs,
            &prepared.outputs,
            Some(&change),
            locktime,
            &coinbases,
        )
        .unwrap()
        .psbt;
        sign_psbt(
            &keys,
            &mut psbt,
            |op| {
                coins
                    .iter()
                    .find(|c| c.outpoint == *op)
                    .map(OwnedInput::from)
            },
            None,
        )
        .unwrap();
        finalize_psbt(&mut psbt).unwrap();
        let tx = extract_tx(psbt).unwrap();
        assert_eq!(bitcoin::consensus::serialize(&tx), mined.raw, "{name}");
        assert_eq!(tx.weight().to_wu(), prepared.funding.estimated_final_weight);
    }
}

#[test]
fn spend_in_same_block_as_receive() {
    // The spend block's transactions spend outputs the scan has not been told about, but a
    // block holding both the receive and the spend links them.
    let v = vector();
    let keys = wallet(&v, "bip86");
    let (_, coinbases) = received(&v, "bip86", &keys);
    let mut combined = block(&v["spend_block_hex"]);
    // Put the funding coinbases before the spends (as if mined together; not a valid block,
    // but scanning does not validate).
    let spends = combined.txdata.split_off(1);
    combined.txdata.extend(coinbases);
    combined.txdata.extend(spends);
    let index = ScriptIndex::new(&keys, 0, ScriptIndex::DEFAULT_GAP).unwrap();
    let scan = scan_block(&combined, 7, &index, &|_: &OutPoint| false);
    // The block's coinbase and the two funding coinbases pay us, then the spend (whose
    // change pays us too) spends the two funding outputs found earlier in the block.
    assert_eq!(scan.new_outputs.len(), 4);
    assert_eq!(scan.spends.len(), 2);
    let positions: Vec<u32> = scan.relevant_txs.iter().map(|t| t.txindex).collect();
    assert_eq!(positions, [0, 1, 2, 3]);
}
