//! Property tests for the text forms of amounts and fee rates: what is printed parses back to
//! the same value, parsing agrees with a simple 128-bit model, and no input makes a parser
//! panic.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use fulgur_types::{
    AmountMsat, AmountParseError, AmountSat, FeerateName, FeeratePerKw, FeerateSpec, FeerateStyle,
};
use proptest::prelude::*;

/// The value of `whole.fraction` in units of 10^-`decimals`, if it fits a `u64`.
fn model_btc(whole: u64, fraction: &str, decimals: u32) -> Option<u64> {
    let mut frac: u128 = 0;
    for b in fraction.bytes() {
        frac = frac * 10 + u128::from(b - b'0');
    }
    let pad = decimals - u32::try_from(fraction.len()).unwrap();
    let total = u128::from(whole) * 10u128.pow(decimals) + frac * 10u128.pow(pad);
    u64::try_from(total).ok()
}

fn feerate_spec() -> impl Strategy<Value = FeerateSpec> {
    prop_oneof![
        proptest::sample::select(FeerateName::ALL.to_vec()).prop_map(FeerateSpec::Named),
        any::<u32>().prop_map(FeerateSpec::Blocks),
        (253u32..).prop_map(|n| FeerateSpec::PerKw(FeeratePerKw::from_perkw(n))),
    ]
}

proptest! {
    #[test]
    fn msat_display_round_trips(n in any::<u64>()) {
        let a = AmountMsat::from_msat(n);
        prop_assert_eq!(a.to_string().parse::<AmountMsat>(), Ok(a));
        prop_assert_eq!(a.to_btc_string().parse::<AmountMsat>(), Ok(a));
        prop_assert_eq!(n.to_string().parse::<AmountMsat>(), Ok(a));
        let json = serde_json::to_string(&a).unwrap();
        prop_assert_eq!(&json, &n.to_string());
        prop_assert_eq!(serde_json::from_str::<AmountMsat>(&json).unwrap(), a);
    }

    #[test]
    fn sat_display_round_trips(n in any::<u64>()) {
        let a = AmountSat::from_sat(n);
        prop_assert_eq!(a.to_string().parse::<AmountSat>(), Ok(a));
        prop_assert_eq!(a.to_btc_string().parse::<AmountSat>(), Ok(a));
        prop_assert_eq!(format!("{}msat", u128::from(n) * 1000).parse::<AmountSat>(), Ok(a));
        let json = serde_json::to_string(&a).unwrap();
        prop_assert_eq!(serde_json::from_str::<AmountSat>(&json).unwrap(), a);
        if let Some(m) = a.to_msat() {
            prop_assert_eq!(m.to_string().parse::<AmountSat>(), Ok(a));
            prop_assert_eq!(a.to_string().parse::<AmountMsat>(), Ok(m));
        }
    }

    #[test]
    fn sat_suffix_matches_model(n in any::<u64>()) {
        let parsed = format!("{n}sat").parse::<AmountMsat>();
        match n.checked_mul(1000) {
            Some(m) => prop_assert_eq!(parsed, Ok(AmountMsat::from_msat(m))),
            None => prop_assert!(matches!(parsed, Err(AmountParseError::Overflow(_)))),
        }
    }

    #[test]
    fn msat_suffix_for_sat_needs_whole_sats(n in any::<u64>()) {
        let parsed = format!("{n}msat").parse::<AmountSat>();
        if n % 1000 == 0 {
            prop_assert_eq!(parsed, Ok(AmountSat::from_sat(n / 1000)));
        } else {
            prop_assert!(matches!(parsed, Err(AmountParseError::NotWholeSat(_))));
        }
    }

    #[test]
    fn btc_matches_model(
        whole in prop_oneof![0u64..100_000_000, any::<u64>()],
        fraction in "[0-9]{0,13}",
    ) {
        let s = format!("{whole}.{fraction}btc");
        let msat = s.parse::<AmountMsat>();
        if fraction.len() > 11 {
            let too_many = matches!(msat, Err(AmountParseError::TooManyDecimals { .. }));
            prop_assert!(too_many);
        } else {
            prop_assert_eq!(msat.ok().map(AmountMsat::msat), model_btc(whole, &fraction, 11));
        }
        let sat = s.parse::<AmountSat>();
        if fraction.len() > 8 {
            let too_many = matches!(sat, Err(AmountParseError::TooManyDecimals { .. }));
            prop_assert!(too_many);
        } else {
            prop_assert_eq!(sat.ok().map(AmountSat::sat), model_btc(whole, &fraction, 8));
        }
    }

    #[test]
    fn amount_parsers_never_panic(s in "\\PC{0,40}") {
        let _ = s.parse::<AmountMsat>();
        let _ = s.parse::<AmountSat>();
        let _ = AmountMsat::from_json_value(&serde_json::Value::String(s.clone()));
        let _ = serde_json::from_str::<AmountSat>(&s);
    }

    #[test]
    fn amount_parsers_never_panic_near_misses(s in "[0-9.]{0,25}(m?sat|btc|perk[wb]|blocks|[ +-])?") {
        let m = s.parse::<AmountMsat>();
        let sat = s.parse::<AmountSat>();
        // With a unit suffix, whatever the sat parser accepts the msat parser accepts as
        // 1000 times as much, unless that overflows. (A bare number is in each type's unit.)
        let has_unit = s.ends_with("sat") || s.ends_with("btc");
        if let (true, Ok(sat)) = (has_unit, sat) {
            if let (Some(expected), Ok(m)) = (sat.to_msat(), &m) {
                prop_assert_eq!(*m, expected);
            }
        }
        let _ = s.parse::<FeerateSpec>();
    }

    #[test]
    fn feerate_display_round_trips(spec in feerate_spec()) {
        prop_assert_eq!(spec.to_string().parse::<FeerateSpec>(), Ok(spec));
        let json = serde_json::to_value(spec).unwrap();
        prop_assert_eq!(serde_json::from_value::<FeerateSpec>(json).unwrap(), spec);
    }

    #[test]
    fn feerate_numbers_match_model(n in any::<u32>()) {
        let floor = u64::from(FeeratePerKw::FLOOR.perkw());
        let perkw = |x: u64| FeerateSpec::PerKw(
            FeeratePerKw::from_perkw(u32::try_from(x.max(floor)).unwrap()),
        );
        prop_assert_eq!(format!("{n}perkw").parse(), Ok(perkw(u64::from(n))));
        let from_kb = perkw(u64::from(n).div_ceil(4));
        prop_assert_eq!(format!("{n}perkb").parse(), Ok(from_kb));
        prop_assert_eq!(n.to_string().parse(), Ok(from_kb));
        prop_assert_eq!(FeerateSpec::from_json_value(&serde_json::json!(n)), Ok(from_kb));
        let rate = FeeratePerKw::from_perkw(n);
        prop_assert_eq!(rate.in_style(FeerateStyle::PerKb), n.saturating_mul(4));
    }

    #[test]
    fn feerate_parsers_never_panic(s in "\\PC{0,40}") {
        if let Ok(spec) = s.parse::<FeerateSpec>() {
            // Whatever is accepted prints in a form that parses to the same thing.
            prop_assert_eq!(spec.to_string().parse::<FeerateSpec>(), Ok(spec));
        }
        let _ = s.parse::<FeerateStyle>();
    }
}
