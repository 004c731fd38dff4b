//! Coin selection against CLN's `fundpsbt` / `utxopsbt` / `txprepare` behaviour: the weights
//! of the schema examples, error codes and messages, and properties over random wallets.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use bitcoin::hashes::Hash;
use bitcoin::{OutPoint, ScriptBuf, Txid};
use fulgur_types::{AmountSat, FeeratePerKw};
use fulgur_wallet::coinselect::{change_fee, tx_fee, CHANGE_DUST_LIMIT, DUST_LIMIT};
use fulgur_wallet::weight::{spend_weight, CHANGE_OUTPUT_WEIGHT};
use fulgur_wallet::{
    fund, prepare_outputs, AddrType, Coin, FundError, FundParams, OutputAmount, OutputRequest,
    Target,
};
use proptest::prelude::*;

fn sat(n: u64) -> AmountSat {
    AmountSat::from_sat(n)
}

fn coin(n: u8, amount: u64, addrtype: AddrType, confirmations: u32) -> Coin {
    Coin {
        outpoint: OutPoint {
            txid: Txid::from_byte_array([n; 32]),
            vout: u32::from(n),
        },
        amount: sat(amount),
        keyindex: u32::from(n),
        addrtype,
        confirmations,
    }
}

fn perkw(n: u32) -> FeeratePerKw {
    FeeratePerKw::from_perkw(n)
}

#[test]
fn fundpsbt_example_1_weight_with_emergency_change() {
    // 1000000sat at 253perkw, startweight 250, one P2TR coin; an anchor channel makes CLN
    // keep min-emergency-msat (25000sat) as change: estimated_final_weight 652, change 0.
    let wallet = [coin(1, 200_000_000, AddrType::P2tr, 6)];
    let params = FundParams {
        emergency_reserve: sat(25_000),
        ..FundParams::new(Target::Amount(sat(1_000_000)), perkw(253), 250)
    };
    let f = fund(&wallet, None, &params).unwrap();
    assert_eq!(f.estimated_final_weight, 652);
    assert_eq!(f.change, Some(sat(25_000)));
    let fee_480 = tx_fee(perkw(253), 480).sat();
    let excess = 200_000_000 - 1_000_000 - fee_480 - change_fee(perkw(253), 480).sat() - 25_000;
    assert_eq!(f.excess, sat(excess));
    assert_eq!(f.excess_msat().msat(), excess * 1000);
    // The inputs pay exactly outputs + change + excess + fee.
    assert_eq!(
        f.input_total().sat(),
        1_000_000 + 25_000 + excess + f.fee().sat()
    );
}

#[test]
fn emergency_reserve_held_elsewhere() {
    let wallet = [
        coin(1, 2_000_000, AddrType::P2tr, 6),
        coin(2, 30_000, AddrType::Bech32, 1),
    ];
    let params = FundParams {
        emergency_reserve: sat(25_000),
        ..FundParams::new(Target::Amount(sat(1_000_000)), perkw(253), 250)
    };
    let f = fund(&wallet, None, &params).unwrap();
    assert_eq!(f.inputs, vec![wallet[0]]);
    assert_eq!(f.change, None);
    // Not enough left anywhere: error 313.
    let params = FundParams {
        emergency_reserve: sat(25_000),
        ..FundParams::new(Target::Amount(sat(1_990_000)), perkw(253), 250)
    };
    let err = fund(&wallet[..1], None, &params).unwrap_err();
    assert_eq!(err.code(), 313);
    assert_eq!(
        err.to_string(),
        "We would not have enough left for min-emergency-msat 25000sat"
    );
}

#[test]
fn fundpsbt_example_2_min_witness_weight() {
    // 500000sat at urgent (11000perkw), startweight 166, excess_as_change,
    // min_witness_weight 110: estimated_final_weight 613, excess 0, change present.
    let wallet = [coin(1, 2_000_000, AddrType::P2tr, 3)];
    let params = FundParams {
        excess_as_change: true,
        min_witness_weight: 110,
        ..FundParams::new(Target::Amount(sat(500_000)), perkw(11_000), 166)
    };
    let f = fund(&wallet, None, &params).unwrap();
    assert_eq!(f.estimated_final_weight, 613);
    assert_eq!(f.excess, AmountSat::ZERO);
    let fee = tx_fee(perkw(11_000), 613).sat();
    assert_eq!(f.change, Some(sat(2_000_000 - 500_000 - fee)));
    assert_eq!(f.fee().sat(), fee);
}

#[test]
fn utxopsbt_example_weights() {
    // 1000000sat at 15000perkw, startweight 214, one P2WPKH utxo, excess_as_change:
    // estimated_final_weight 657.
    let utxo = [coin(1, 3_000_000, AddrType::Bech32, 2)];
    let params = FundParams {
        excess_as_change: true,
        ..FundParams::new(Target::Amount(sat(1_000_000)), perkw(15_000), 214)
    };
    let f = fund(&[], Some(&utxo), &params).unwrap();
    assert_eq!(f.estimated_final_weight, 657);
    assert_eq!(f.excess, AmountSat::ZERO);
    assert!(f.change.is_some());
}

#[test]
fn cannot_afford_messages() {
    let wallet = [
        coin(1, 30_000, AddrType::Bech32, 1),
        coin(2, 20_000, AddrType::P2tr, 1),
    ];
    let params = FundParams::new(Target::Amount(sat(100_000)), perkw(1000), 42);
    let err = fund(&wallet, None, &params).unwrap_err();
    // Weight 42 + 271 + 230 = 543, fee 543.
    assert_eq!(
        err.to_string(),
        "Could not afford 100000sat using all 2 available UTXOs: 50543sat short"
    );
    assert_eq!(err.code(), 301);
    let all = FundParams::new(Target::All, perkw(1000), 42);
    assert_eq!(
        fund(&[], None, &all).unwrap_err().to_string(),
        "Could not afford all using all 0 available UTXOs: all short"
    );
    let dusty = [coin(1, 800, AddrType::Bech32, 1)];
    assert_eq!(
        fund(&dusty, None, &all).unwrap_err().to_string(),
        "All 1 inputs could not afford fees"
    );
    let err = fund(&[], Some(&wallet), &params).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Could not afford 100000sat using UTXOs totalling 50000sat with weight 543 at feerate 1000"
    );
    let err = fund(&[], Some(&dusty), &all).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Could not afford anything using UTXOs totalling 800sat with weight 313 at feerate 1000"
    );
    assert_eq!(err.code(), 301);
}

#[test]
fn minconf_nonwrapped_and_uneconomic_coins() {
    let wallet = [
        coin(1, 50_000, AddrType::Bech32, 0),
        coin(2, 200, AddrType::Bech32, 5), // costs 271 sat to spend at 1000perkw
        coin(3, 50_000, AddrType::P2shSegwit, 5),
        coin(4, 50_000, AddrType::P2tr, 1),
    ];
    let params = FundParams::new(Target::Amount(sat(40_000)), perkw(1000), 42);
    let f = fund(&wallet, None, &params).unwrap();
    assert_eq!(f.inputs, vec![wallet[2]]);
    let f = fund(
        &wallet,
        None,
        &FundParams {
            nonwrapped: true,
            ..params
        },
    )
    .unwrap();
    assert_eq!(f.inputs, vec![wallet[3]]);
    let f = fund(
        &wallet,
        None,
        &FundParams {
            minconf: 0,
            ..params
        },
    )
    .unwrap();
    assert_eq!(f.inputs, vec![wallet[0]]);
    // With minconf 2, coin 4 (1 confirmation) is not eligible and coin 3 alone is short.
    let err = fund(
        &wallet,
        None,
        &FundParams {
            minconf: 2,
            target: Target::Amount(sat(60_000)),
            ..params
        },
    )
    .unwrap_err();
    assert_eq!(
        err,
        FundError::CannotAfford {
            amount: sat(60_000),
            inputs: 1,
            short: sat(60_000 + tx_fee(perkw(1000), 42 + 271 + 92).sat() - 50_000),
        }
    );
}

#[test]
fn small_change_goes_to_fee() {
    let feerate = perkw(253);
    // Excess after the input: 400 sat; the change output costs 43, leaving 357 >= 330.
    let base_fee = tx_fee(feerate, 42 + 230).sat();
    let wallet = [coin(1, 100_000 + base_fee + 400, AddrType::P2tr, 1)];
    let params = FundParams {
        excess_as_change: true,
        ..FundParams::new(Target::Amount(sat(100_000)), feerate, 42)
    };
    let f = fund(&wallet, None, &params).unwrap();
    let cf = change_fee(feerate, 272).sat();
    assert_eq!(f.change, Some(sat(400 - cf)));
    // 360 sat of excess leaves less than 330 after the change fee: no change, all to fee.
    let wallet = [coin(1, 100_000 + base_fee + 360, AddrType::P2tr, 1)];
    let f = fund(&wallet, None, &params).unwrap();
    assert_eq!(f.change, None);
    assert_eq!(f.excess, AmountSat::ZERO);
    assert_eq!(f.estimated_final_weight, 272);
    assert_eq!(CHANGE_DUST_LIMIT, sat(330));
}

#[test]
fn all_takes_everything() {
    let wallet = [
        coin(1, 10_000, AddrType::Bech32, 1),
        coin(2, 100, AddrType::P2tr, 1), // uneconomic, but `all` takes it
        coin(3, 20_000, AddrType::P2tr, 0),
    ];
    let params = FundParams {
        excess_as_change: true,
        ..FundParams::new(Target::All, perkw(1000), 42 + 124)
    };
    let f = fund(&wallet, None, &params).unwrap();
    assert_eq!(f.inputs, wallet[..2].to_vec());
    assert_eq!(f.change, None);
    let weight = 42 + 124 + 271 + 230;
    assert_eq!(f.estimated_final_weight, weight);
    assert_eq!(f.excess, sat(10_100 - tx_fee(perkw(1000), weight).sat()));
}

fn script(n: u8, len: usize) -> ScriptBuf {
    ScriptBuf::from_bytes(vec![n; len])
}

#[test]
fn txprepare_outputs() {
    let wallet = [
        coin(1, 100_000, AddrType::Bech32, 1),
        coin(2, 200_000, AddrType::P2tr, 1),
    ];
    let outputs = [
        OutputRequest {
            script_pubkey: script(0x51, 22),
            amount: OutputAmount::Sat(sat(50_000)),
        },
        OutputRequest {
            script_pubkey: script(0x52, 34),
            amount: OutputAmount::All,
        },
    ];
    let p = prepare_outputs(&wallet, None, &outputs, perkw(1000), 1, AmountSat::ZERO).unwrap();
    let weight = 42 + 124 + 172 + 271 + 230;
    assert_eq!(p.funding.estimated_final_weight, weight);
    assert_eq!(p.funding.change, None);
    assert_eq!(p.funding.excess, AmountSat::ZERO);
    assert_eq!(p.outputs[0].value.to_sat(), 50_000);
    assert_eq!(
        p.outputs[1].value.to_sat(),
        300_000 - 50_000 - tx_fee(perkw(1000), weight).sat()
    );
    // Fixed amounts only: change after the outputs.
    let fixed = [OutputRequest {
        script_pubkey: script(0x51, 22),
        amount: OutputAmount::Sat(sat(50_000)),
    }];
    let p = prepare_outputs(&wallet, None, &fixed, perkw(1000), 1, AmountSat::ZERO).unwrap();
    assert_eq!(p.funding.inputs, vec![wallet[0]]);
    let w = 42 + 124 + 271;
    assert_eq!(p.funding.estimated_final_weight, w + CHANGE_OUTPUT_WEIGHT);
    assert_eq!(
        p.funding.change,
        Some(sat(100_000
            - 50_000
            - tx_fee(perkw(1000), w + CHANGE_OUTPUT_WEIGHT).sat()))
    );
}

#[test]
fn txprepare_errors() {
    let wallet = [coin(1, 100_000, AddrType::Bech32, 1)];
    let out = |amount| OutputRequest {
        script_pubkey: script(0x51, 22),
        amount,
    };
    let err = prepare_outputs(
        &wallet,
        None,
        &[out(OutputAmount::Sat(sat(545)))],
        perkw(253),
        1,
        AmountSat::ZERO,
    )
    .unwrap_err();
    assert_eq!(err, FundError::OutputIsDust(sat(545)));
    assert_eq!(err.code(), 302);
    assert_eq!(err.to_string(), "Output 545sat would be dust.");
    assert!(prepare_outputs(
        &wallet,
        None,
        &[out(OutputAmount::Sat(DUST_LIMIT))],
        perkw(253),
        1,
        AmountSat::ZERO
    )
    .is_ok());
    let err = prepare_outputs(
        &wallet,
        None,
        &[out(OutputAmount::All), out(OutputAmount::All)],
        perkw(253),
        1,
        AmountSat::ZERO,
    )
    .unwrap_err();
    assert_eq!(err.code(), -32602);
    let err = prepare_outputs(
        &wallet,
        None,
        &[out(OutputAmount::Sat(sat(99_900))), out(OutputAmount::All)],
        perkw(253),
        1,
        AmountSat::ZERO,
    )
    .unwrap_err();
    assert_eq!(err, FundError::CannotAffordOutput(0));
    let err = prepare_outputs(
        &wallet,
        None,
        &[out(OutputAmount::Sat(sat(99_500))), out(OutputAmount::All)],
        perkw(253),
        1,
        AmountSat::ZERO,
    )
    .unwrap_err();
    assert!(matches!(err, FundError::AllOutputTooSmall(_)));
    assert!(err
        .to_string()
        .starts_with("Could not afford 'all' output: only "));
}

fn arb_coin() -> impl Strategy<Value = (u64, u8, u32)> {
    (
        prop_oneof![1u64..2_000, 2_000u64..200_000, 200_000u64..100_000_000],
        0u8..3,
        0u32..4,
    )
}

fn arb_wallet() -> impl Strategy<Value = Vec<Coin>> {
    proptest::collection::vec(arb_coin(), 0..12).prop_map(|coins| {
        coins
            .into_iter()
            .enumerate()
            .map(|(i, (amount, t, confs))| {
                let addrtype =
                    [AddrType::Bech32, AddrType::P2tr, AddrType::P2shSegwit][usize::from(t)];
                coin(u8::try_from(i).unwrap(), amount, addrtype, confs)
            })
            .collect()
    })
}

proptest! {
    #[test]
    fn selection_properties(
        wallet in arb_wallet(),
        target in prop_oneof![Just(None), (0u64..50_000_000).prop_map(Some)],
        feerate in 253u32..60_000,
        startweight in 42u32..1_000,
        minconf in 0u32..3,
        min_witness_weight in prop_oneof![Just(0u32), 0u32..200],
        excess_as_change: bool,
        nonwrapped: bool,
        explicit: bool,
    ) {
        let feerate = perkw(feerate);
        let params = FundParams {
            minconf,
            min_witness_weight,
            excess_as_change,
            nonwrapped,
            ..FundParams::new(
                target.map_or(Target::All, |t| Target::Amount(sat(t))),
                feerate,
                startweight,
            )
        };
        let utxos = explicit.then_some(&wallet[..]);
        let weight_of = |coins: &[Coin]| -> u64 {
            u64::from(startweight) + coins.iter()
                .map(|c| spend_weight(c.addrtype, u64::from(min_witness_weight)))
                .sum::<u64>()
        };
        match fund(&wallet, utxos, &params) {
            Ok(f) => {
                let inputs_weight = weight_of(&f.inputs);
                let has_change = f.change.is_some();
                prop_assert_eq!(
                    f.estimated_final_weight,
                    inputs_weight + if has_change { CHANGE_OUTPUT_WEIGHT } else { 0 }
                );
                if !explicit {
                    for c in &f.inputs {
                        prop_assert!(c.confirmations >= minconf);
                        prop_assert!(!(nonwrapped && c.addrtype == AddrType::P2shSegwit));
                    }
                } else {
                    prop_assert_eq!(&f.inputs, &wallet);
                }
                let mut seen = std::collections::HashSet::new();
                prop_assert!(f.inputs.iter().all(|c| seen.insert(c.outpoint)));
                if let Some(change) = f.change {
                    prop_assert!(change >= CHANGE_DUST_LIMIT);
                }
                let total = f.input_total().sat();
                let spent = target.unwrap_or(0) + f.change.map_or(0, |c| c.sat())
                    + f.excess.sat() + f.fee().sat();
                // Selected covers the target, change, reported excess and fee at the rate.
                prop_assert!(total >= spent, "{} < {}", total, spent);
                let left_to_fee = total - spent;
                if excess_as_change && target.is_some() {
                    // Only an excess too small for a change output is left to the fee.
                    prop_assert_eq!(f.excess.sat(), 0);
                    if has_change {
                        prop_assert_eq!(left_to_fee, 0);
                    } else {
                        prop_assert!(
                            left_to_fee < change_fee(feerate, inputs_weight).sat()
                                + CHANGE_DUST_LIMIT.sat()
                        );
                    }
                } else {
                    prop_assert_eq!(left_to_fee, 0);
                    prop_assert!(!has_change);
                }
                if target.is_none() {
                    prop_assert!(f.excess >= DUST_LIMIT);
                }
            }
            Err(FundError::CannotAfford { amount, short, .. }) => {
                prop_assert!(!explicit);
                // Even every eligible economical coin falls short.
                let eligible: Vec<Coin> = wallet.iter().copied().filter(|c| {
                    c.confirmations >= minconf
                        && !(nonwrapped && c.addrtype == AddrType::P2shSegwit)
                        && tx_fee(feerate, spend_weight(c.addrtype, u64::from(min_witness_weight)))
                            < c.amount
                }).collect();
                let total: u64 = eligible.iter().map(|c| c.amount.sat()).sum();
                let needed = amount.sat() + tx_fee(feerate, weight_of(&eligible)).sat();
                prop_assert!(total < needed);
                prop_assert_eq!(short.sat(), needed - total);
            }
            Err(FundError::UtxosCannotAfford { total, weight, .. }) => {
                prop_assert!(explicit);
                prop_assert_eq!(weight, weight_of(&wallet));
                let fee = tx_fee(feerate, weight).sat();
                match target {
                    Some(t) => prop_assert!(total.sat() < t + fee),
                    None => prop_assert!(total.sat() < fee + DUST_LIMIT.sat()),
                }
            }
            Err(FundError::NothingForAll) => {
                prop_assert!(target.is_none());
                prop_assert!(!wallet.iter().any(|c| c.confirmations >= minconf
                    && !(nonwrapped && c.addrtype == AddrType::P2shSegwit)));
            }
            Err(FundError::AllCannotAffordFees { .. }) => prop_assert!(target.is_none()),
            Err(other) => prop_assert!(false, "unexpected error {:?}", other),
        }
    }

    #[test]
    fn deterministic(wallet in arb_wallet(), t in 0u64..10_000_000, feerate in 253u32..20_000) {
        let params = FundParams::new(Target::Amount(sat(t)), perkw(feerate), 100);
        prop_assert_eq!(fund(&wallet, None, &params), fund(&wallet, None, &params));
    }
}
