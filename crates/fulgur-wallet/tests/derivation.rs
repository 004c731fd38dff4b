//! The addresses CLN v26.06 issued for two `hsm_secret`s (tests/vectors/, measured on
//! regtest): three `newaddr p2tr` then three `newaddr bech32` on a fresh wallet, which take
//! key indexes 1, 2, 3 and 4, 5, 6 of the one shared counter.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use fulgur_keys::HsmSecret;
use fulgur_types::Network;
use fulgur_wallet::{AddrType, Derivation, ScriptIndex, WalletKeys, FIRST_KEY_INDEX};
use serde_json::Value;

fn cases() -> Vec<Value> {
    let text = include_str!("vectors/cln-hsm-secret-derivation.json");
    let json: Value = serde_json::from_str(text).unwrap();
    json["cases"].as_array().unwrap().clone()
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn all_twelve_cln_addresses() {
    let mut checked = 0;
    for case in cases() {
        let file = hex::decode(case["hsm_secret_file_hex"].as_str().unwrap()).unwrap();
        let secret = HsmSecret::from_file_bytes(&file).unwrap();
        let network: Network = case["network"].as_str().unwrap().parse().unwrap();
        assert_eq!(
            secret.node_id().to_string(),
            case["expected_node_id"].as_str().unwrap()
        );
        let keys = WalletKeys::from_hsm_secret(&secret, network);
        let expected_derivation = if file.len() == 32 {
            Derivation::Legacy
        } else {
            Derivation::Bip86
        };
        assert_eq!(keys.derivation(), expected_derivation);
        let p2tr = strings(&case["expected_newaddr_p2tr"]);
        let bech32 = strings(&case["expected_newaddr_bech32"]);
        let mut index = FIRST_KEY_INDEX;
        let index_set = ScriptIndex::new(&keys, 0, ScriptIndex::DEFAULT_GAP).unwrap();
        for (addrtype, expected) in [(AddrType::P2tr, &p2tr), (AddrType::Bech32, &bech32)] {
            for want in expected {
                let address = keys.address(index, addrtype).unwrap();
                assert_eq!(&address.to_string(), want, "{} index {index}", case["name"]);
                let script = keys.script_pubkey(index, addrtype).unwrap();
                assert_eq!(address.script_pubkey(), script);
                let origin = index_set.lookup(&script).unwrap();
                assert_eq!((origin.keyindex, origin.addrtype), (index, addrtype));
                index += 1;
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 12);
}
