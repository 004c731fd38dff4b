//! Spending the wallet against a real regtest bitcoind: `withdraw`, `txprepare`/`txsend`/
//! `txdiscard`, `fundpsbt`/`signpsbt`/`sendpsbt`, `utxopsbt`, reservations, concurrent
//! selections that never share coins, and every bad input answered with CLN's code while
//! changing nothing.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests")]

use fulgur_testkit::{schema, Bitcoind, Node, NodeOptions};
use serde_json::{json, Value};
use std::collections::HashSet;
use std::time::{Duration, Instant};

/// A mainnet address (BIP 173's example): valid, but not on regtest.
const MAINNET: &str = "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4";

/// A regtest P2WPKH address of a fixed key that is not the node's.
fn destination() -> String {
    let secp = bitcoin::secp256k1::Secp256k1::new();
    let sk = bitcoin::secp256k1::SecretKey::from_slice(&[7u8; 32]).unwrap();
    let pk = bitcoin::CompressedPublicKey(sk.public_key(&secp));
    bitcoin::Address::p2wpkh(&pk, bitcoin::Network::Regtest).to_string()
}

/// Waits until the node has processed bitcoind's tip; returns it.
fn synced(node: &Node, b: &Bitcoind) -> u64 {
    let tip = b.rpc("getblockcount", json!([])).unwrap().as_u64().unwrap();
    let r = node
        .rpc(
            "waitblockheight",
            json!({"blockheight": tip, "timeout": 30}),
        )
        .unwrap();
    assert!(r["blockheight"].as_u64().unwrap() >= tip);
    tip
}

/// Calls `method` and checks its result against CLN's schema.
fn ok(node: &Node, method: &str, params: Value) -> Result<Value, String> {
    let result = node
        .rpc(method, params.clone())
        .map_err(|e| format!("{method} {params}: {e}"))?;
    schema::check_response(method, &result).map_err(|e| format!("{e}\n{result}"))?;
    Ok(result)
}

fn outputs(node: &Node) -> Vec<Value> {
    node.rpc("listfunds", json!({})).unwrap()["outputs"]
        .as_array()
        .unwrap()
        .clone()
}

/// Every coin with its reservation, for "nothing changed" checks.
fn coin_states(node: &Node) -> Vec<(String, u64, String, bool)> {
    let mut v: Vec<_> = outputs(node)
        .iter()
        .map(|o| {
            (
                o["txid"].as_str().unwrap().to_string(),
                o["output"].as_u64().unwrap(),
                o["status"].as_str().unwrap().to_string(),
                o["reserved"].as_bool().unwrap(),
            )
        })
        .collect();
    v.sort();
    v
}

fn reserved_count(node: &Node) -> usize {
    outputs(node)
        .iter()
        .filter(|o| o["reserved"] == true)
        .count()
}

fn error(node: &Node, method: &str, params: Value) -> (i64, String) {
    let reply = node.call(method, params.clone()).unwrap();
    reply
        .error()
        .unwrap_or_else(|| panic!("{method} {params} did not fail: {}", reply.0))
}

fn new_address(node: &Node, kind: &str) -> String {
    node.rpc("newaddr", json!({"addresstype": kind})).unwrap()[kind]
        .as_str()
        .unwrap()
        .to_string()
}

/// Mines a block and returns the txids in it.
fn mine_one(b: &Bitcoind) -> Vec<String> {
    let height = b.generate(1).unwrap();
    let hash = b.rpc("getblockhash", json!([height])).unwrap();
    let block = b.rpc("getblock", json!([hash, 1])).unwrap();
    block["tx"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap().to_string())
        .collect()
}

/// The (txid, vout) inputs of a PSBT, as bitcoind decodes it.
fn psbt_inputs(b: &Bitcoind, psbt: &str) -> Vec<(String, u64)> {
    let decoded = b.rpc("decodepsbt", json!([psbt])).unwrap();
    decoded["tx"]["vin"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["txid"].as_str().unwrap().to_string(),
                i["vout"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn reservation_set(r: &Value) -> HashSet<(String, u64)> {
    r["reservations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            (
                x["txid"].as_str().unwrap().to_string(),
                x["vout"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn wait_until(what: &str, mut f: impl FnMut() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(start.elapsed() < Duration::from_secs(30), "never: {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn spending_flows_and_bad_inputs() {
    let b = Bitcoind::start().unwrap();
    b.generate(1).unwrap();
    let node = Node::start(Some(&b), NodeOptions::default()).unwrap();
    synced(&node, &b);
    let dest = destination();

    // Nothing to spend yet.
    assert_eq!(
        error(
            &node,
            "withdraw",
            json!({"destination": dest, "satoshi": "all"})
        ),
        (
            301,
            "Could not afford all using all 0 available UTXOs: all short".to_string()
        )
    );
    assert_eq!(
        error(
            &node,
            "fundpsbt",
            json!({"satoshi": "all", "feerate": "normal", "startweight": 166})
        )
        .0,
        301
    );

    // Fund: five taproot coinbases, matured.
    let p2tr = new_address(&node, "p2tr");
    b.rpc("generatetoaddress", json!([5, p2tr])).unwrap();
    // Immature coins are not spendable.
    synced(&node, &b);
    assert_eq!(
        error(
            &node,
            "withdraw",
            json!({"destination": dest, "satoshi": "all"})
        )
        .0,
        301
    );
    b.generate(100).unwrap();
    synced(&node, &b);
    assert_eq!(outputs(&node).len(), 5);
    let first = outputs(&node)[0].clone();
    let first_outpoint = format!("{}:{}", first["txid"].as_str().unwrap(), first["output"]);

    // Every bad input gets CLN's code, and changes nothing.
    let before = coin_states(&node);
    let bad_cases: Vec<(&str, Value, i64)> = vec![
        // withdraw's destination is CLN's `param_bitcoin_address`: code -1.
        (
            "withdraw",
            json!({"destination": MAINNET, "satoshi": 10000}),
            -1,
        ),
        (
            "withdraw",
            json!({"destination": "bcrt1qnope", "satoshi": 10000}),
            -1,
        ),
        // txprepare and multiwithdraw check outputs as parameters: -32602.
        ("txprepare", json!({"outputs": [{MAINNET: 10000}]}), -32602),
        (
            "txprepare",
            json!({"outputs": [{"not-an-address": 10000}]}),
            -32602,
        ),
        (
            "multiwithdraw",
            json!({"outputs": [{MAINNET: 10000}]}),
            -32602,
        ),
        (
            "multiwithdraw",
            json!({"outputs": [{"garbage": 10000}]}),
            -32602,
        ),
        // Dust.
        (
            "withdraw",
            json!({"destination": dest, "satoshi": 100}),
            302,
        ),
        ("txprepare", json!({"outputs": [{dest.clone(): 545}]}), 302),
        (
            "multiwithdraw",
            json!({"outputs": [{dest.clone(): 1}]}),
            302,
        ),
        // More than we have (5 × 50 BTC).
        (
            "withdraw",
            json!({"destination": dest, "satoshi": "300btc"}),
            301,
        ),
        (
            "txprepare",
            json!({"outputs": [{dest.clone(): "251btc"}]}),
            301,
        ),
        (
            "fundpsbt",
            json!({"satoshi": "251btc", "feerate": "normal", "startweight": 166}),
            301,
        ),
        (
            "utxopsbt",
            json!({"satoshi": "51btc", "feerate": "normal", "startweight": 166,
                   "utxos": [first_outpoint]}),
            301,
        ),
        // Fee rates CLN cannot parse (too large for 32 bits, negative, unknown names).
        (
            "withdraw",
            json!({"destination": dest, "satoshi": 10000, "feerate": "99999999999perkw"}),
            -32602,
        ),
        (
            "withdraw",
            json!({"destination": dest, "satoshi": 10000, "feerate": -1}),
            -32602,
        ),
        (
            "txprepare",
            json!({"outputs": [{dest.clone(): 10000}], "feerate": "fast"}),
            -32602,
        ),
        (
            "fundpsbt",
            json!({"satoshi": 10000, "feerate": "4294967296perkb", "startweight": 166}),
            -32602,
        ),
        // Unknown prepared transactions.
        ("txsend", json!({"txid": "11".repeat(32)}), -32602),
        ("txdiscard", json!({"txid": "11".repeat(32)}), -32602),
        ("txsend", json!({"txid": "not-a-txid"}), -32602),
        // Malformed PSBTs.
        ("sendpsbt", json!({"psbt": "not a psbt"}), -32602),
        ("signpsbt", json!({"psbt": "cHNidP8="}), -32602),
        ("reserveinputs", json!({"psbt": "AAAA"}), -32602),
        ("unreserveinputs", json!({"psbt": ""}), -32602),
        // Unknown or malformed utxos.
        (
            "withdraw",
            json!({"destination": dest, "satoshi": 10000,
                   "utxos": [format!("{}:0", "22".repeat(32))]}),
            -32602,
        ),
        (
            "withdraw",
            json!({"destination": dest, "satoshi": 10000, "utxos": ["nope"]}),
            -32602,
        ),
        (
            "utxopsbt",
            json!({"satoshi": 10000, "feerate": "normal", "startweight": 166, "utxos": []}),
            -32602,
        ),
    ];
    for (method, params, code) in &bad_cases {
        let (got, message) = error(&node, method, params.clone());
        assert_eq!(got, *code, "{method} {params}: {message}");
    }
    assert_eq!(
        coin_states(&node),
        before,
        "a failed call changed the coins"
    );
    // The highest rate CLN parses is affordable here, but bitcoind refuses such a fee: the
    // record is undone and the coins released.
    let (code, message) = error(
        &node,
        "withdraw",
        json!({"destination": dest, "satoshi": 10000, "feerate": "4294967295perkw"}),
    );
    assert_eq!(code, -1, "{message}");
    assert!(
        message.starts_with("Error broadcasting transaction: ")
            && message.contains("Unsent tx discarded"),
        "{message}"
    );
    assert_eq!(
        coin_states(&node),
        before,
        "a refused broadcast left traces"
    );
    assert!(
        ok(&node, "listtransactions", json!({})).unwrap()["transactions"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["blockheight"] != 0)
    );
    assert_eq!(
        error(
            &node,
            "withdraw",
            json!({"destination": MAINNET, "satoshi": 1000})
        )
        .1,
        "Destination address is not on network regtest"
    );
    assert_eq!(
        error(
            &node,
            "txprepare",
            json!({"outputs": [{"not-an-address": 1000}]})
        )
        .1,
        "Could not parse destination address"
    );
    assert_eq!(
        error(
            &node,
            "withdraw",
            json!({"destination": dest, "satoshi": 100})
        )
        .1,
        "Output 100sat would be dust."
    );
    let unknown = "11".repeat(32);
    assert_eq!(
        error(&node, "txdiscard", json!({"txid": unknown})).1,
        format!("not an unreleased txid '{unknown}'")
    );

    // withdraw: mined, and the change comes back to us.
    let w = ok(
        &node,
        "withdraw",
        json!({"destination": dest, "satoshi": 1_000_000}),
    )
    .unwrap();
    let txid = w["txid"].as_str().unwrap().to_string();
    assert!(w["tx"].as_str().unwrap().len() > 100);
    assert!(w["psbt"].as_str().unwrap().starts_with("cHNidP8"));
    let change: Vec<Value> = outputs(&node)
        .into_iter()
        .filter(|o| o["txid"] == txid.as_str())
        .collect();
    assert_eq!(change.len(), 1, "{:?}", outputs(&node));
    assert_eq!(change[0]["status"], "unconfirmed");
    assert!(change[0]["address"].as_str().unwrap().starts_with("bcrt1p"));
    assert!(mine_one(&b).contains(&txid), "withdraw not mined");
    let height = synced(&node, &b);
    let outs = outputs(&node);
    assert_eq!(outs.len(), 5, "{outs:?}");
    let change = outs.iter().find(|o| o["txid"] == txid.as_str()).unwrap();
    assert_eq!(change["status"], "confirmed");
    assert_eq!(change["blockheight"], height);
    let paid = 5_000_000_000u64 - change["amount_msat"].as_u64().unwrap() / 1000;
    assert!(paid > 1_000_000 && paid < 1_001_000, "paid {paid}");
    assert_eq!(reserved_count(&node), 0);
    let txs = ok(&node, "listtransactions", json!({})).unwrap();
    let listed = txs["transactions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["hash"] == txid.as_str())
        .unwrap()
        .clone();
    assert_eq!(listed["blockheight"], height);
    assert_eq!(listed["outputs"].as_array().unwrap().len(), 2);
    assert_eq!(listed["inputs"][0]["sequence"], 0xffff_fffdu64);

    // txprepare then txdiscard releases the coin; a second txprepare can use it.
    let p = ok(
        &node,
        "txprepare",
        json!({"outputs": [{dest.clone(): 2_000_000}]}),
    )
    .unwrap();
    let prepared = p["txid"].as_str().unwrap().to_string();
    let inputs = psbt_inputs(&b, p["psbt"].as_str().unwrap());
    assert_eq!(inputs.len(), 1);
    assert_eq!(reserved_count(&node), 1);
    let d = ok(&node, "txdiscard", json!({"txid": prepared.clone()})).unwrap();
    assert_eq!(d["txid"], prepared.as_str());
    assert_eq!(d["unsigned_tx"], p["unsigned_tx"]);
    assert_eq!(reserved_count(&node), 0);
    assert_eq!(error(&node, "txsend", json!([prepared])).0, -32602);
    let utxo = format!("{}:{}", inputs[0].0, inputs[0].1);
    let p2 = ok(
        &node,
        "txprepare",
        json!({"outputs": [{dest.clone(): 2_000_000}], "utxos": [utxo]}),
    )
    .unwrap();
    assert_eq!(psbt_inputs(&b, p2["psbt"].as_str().unwrap()), inputs);
    // Reserved now: another preparation cannot take it.
    assert_eq!(
        error(
            &node,
            "txprepare",
            json!({"outputs": [{dest.clone(): 2_000_000}], "utxos": [utxo]})
        ),
        (-32602, format!("UTXO {utxo} already reserved"))
    );
    let s = ok(&node, "txsend", json!({"txid": p2["txid"].clone()})).unwrap();
    assert_eq!(s["txid"], p2["txid"]);
    let sent = s["txid"].as_str().unwrap().to_string();
    assert_eq!(error(&node, "txsend", json!([sent])).0, -32602);
    assert!(mine_one(&b).contains(&sent), "txsend not mined");
    synced(&node, &b);

    // Pay ourselves (a P2WPKH address), then spend exactly that coin, all of it (a segwit v0
    // input to sign).
    let wpkh = new_address(&node, "bech32");
    let own = ok(
        &node,
        "withdraw",
        json!({"destination": wpkh, "satoshi": 20_000_000}),
    )
    .unwrap();
    let own_txid = own["txid"].as_str().unwrap().to_string();
    assert!(outputs(&node)
        .iter()
        .any(|o| o["address"] == wpkh.as_str() && o["status"] == "unconfirmed"));
    assert!(
        mine_one(&b).contains(&own_txid),
        "payment to ourselves not mined"
    );
    synced(&node, &b);
    let wpkh_coin = outputs(&node)
        .into_iter()
        .find(|o| o["address"] == wpkh.as_str())
        .unwrap();
    assert_eq!(wpkh_coin["status"], "confirmed");
    assert_eq!(wpkh_coin["amount_msat"], 20_000_000_000u64);
    let wpkh_outpoint = format!(
        "{}:{}",
        wpkh_coin["txid"].as_str().unwrap(),
        wpkh_coin["output"]
    );
    let w2 = ok(
        &node,
        "withdraw",
        json!({"destination": dest, "satoshi": "all", "utxos": [wpkh_outpoint],
                   "feerate": "urgent"}),
    )
    .unwrap();
    let w2_txid = w2["txid"].as_str().unwrap().to_string();
    assert!(outputs(&node).iter().all(|o| o["txid"] != w2_txid.as_str()));
    let decoded = b
        .rpc("decoderawtransaction", json!([w2["tx"].clone()]))
        .unwrap();
    assert_eq!(decoded["vin"].as_array().unwrap().len(), 1);
    assert_eq!(decoded["vout"].as_array().unwrap().len(), 1);
    assert!(mine_one(&b).contains(&w2_txid), "withdraw all not mined");
    synced(&node, &b);
    assert!(outputs(&node).iter().all(|o| o["address"] != wpkh.as_str()));

    // fundpsbt → (add the payment) → signpsbt → sendpsbt.
    let f = ok(
        &node,
        "fundpsbt",
        json!({"satoshi": 500_000, "feerate": "253perkw", "startweight": 166,
                   "excess_as_change": true}),
    )
    .unwrap();
    assert_eq!(f["feerate_per_kw"], 253);
    assert_eq!(f["excess_msat"], 0);
    let reserved = reservation_set(&f);
    assert_eq!(reserved.len(), 1);
    assert!(f["reservations"][0]["reserved_to_block"].as_u64().unwrap() > 0);
    let decoded = b.rpc("decodepsbt", json!([f["psbt"].clone()])).unwrap();
    let change_out = &decoded["tx"]["vout"][f["change_outnum"].as_u64().unwrap() as usize];
    let locktime = decoded["tx"]["locktime"].as_u64().unwrap();
    let tip = b.rpc("getblockcount", json!([])).unwrap().as_u64().unwrap();
    assert!(
        locktime <= tip && locktime + 100 >= tip,
        "locktime {locktime}"
    );
    let vin: Vec<Value> = decoded["tx"]["vin"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| json!({"txid": i["txid"], "vout": i["vout"], "sequence": i["sequence"]}))
        .collect();
    let change_addr = change_out["scriptPubKey"]["address"]
        .as_str()
        .unwrap()
        .to_string();
    let change_value = change_out["value"].clone();
    let with_payment = b
        .rpc(
            "createpsbt",
            json!([vin, [{dest.clone(): 0.005}, {change_addr: change_value}], locktime]),
        )
        .unwrap();
    // Not reserved: signing is refused.
    let unres = ok(
        &node,
        "unreserveinputs",
        json!({"psbt": with_payment.clone()}),
    )
    .unwrap();
    assert_eq!(unres["reservations"][0]["was_reserved"], true);
    assert_eq!(unres["reservations"][0]["reserved"], false);
    let (code, message) = error(&node, "signpsbt", json!({"psbt": with_payment.clone()}));
    assert_eq!(code, -1);
    assert!(message.ends_with("is not reserved"), "{message}");
    let again = ok(
        &node,
        "reserveinputs",
        json!({"psbt": with_payment.clone()}),
    )
    .unwrap();
    assert_eq!(reservation_set(&again), reserved);
    assert_eq!(again["reservations"][0]["was_reserved"], false);
    // Exclusive: a second reservation fails and changes nothing.
    let before = coin_states(&node);
    assert_eq!(
        error(
            &node,
            "reserveinputs",
            json!({"psbt": with_payment.clone()})
        )
        .0,
        -32602
    );
    assert_eq!(coin_states(&node), before);
    let extended = ok(
        &node,
        "reserveinputs",
        json!({"psbt": with_payment.clone(), "exclusive": false, "reserve": 10}),
    )
    .unwrap();
    assert_eq!(extended["reservations"][0]["was_reserved"], true);
    let signed = ok(&node, "signpsbt", json!({"psbt": with_payment.clone()})).unwrap()
        ["signed_psbt"]
        .clone();
    // Bitcoin Core made a version 2 PSBT: it is signed and given back as version 2.
    let decoded_signed = b.rpc("decodepsbt", json!([signed.clone()])).unwrap();
    assert_eq!(decoded_signed["psbt_version"], 2);
    assert!(decoded_signed["inputs"][0]
        .get("taproot_key_path_sig")
        .is_some());
    // An unsigned PSBT cannot be sent.
    assert_eq!(
        error(&node, "sendpsbt", json!({"psbt": with_payment})).0,
        -1
    );
    let sent = ok(&node, "sendpsbt", json!({"psbt": signed.clone()})).unwrap();
    let sent_txid = sent["txid"].as_str().unwrap().to_string();
    // Sending it again while unconfirmed is harmless, as in CLN.
    let resent = ok(&node, "sendpsbt", json!({"psbt": signed.clone()})).unwrap();
    assert_eq!(resent["txid"], sent_txid.as_str());
    assert!(mine_one(&b).contains(&sent_txid), "sendpsbt not mined");
    synced(&node, &b);
    // Once mined its inputs are spent: CLN refuses (not reserved any more).
    let before = coin_states(&node);
    let (code, message) = error(&node, "sendpsbt", json!({"psbt": signed}));
    assert_eq!(code, -1, "{message}");
    assert!(
        message.starts_with("Aborting PSBT signing. UTXO "),
        "{message}"
    );
    assert_eq!(coin_states(&node), before);
    assert!(outputs(&node)
        .iter()
        .any(|o| o["txid"] == sent_txid.as_str()));

    // utxopsbt: a reserved coin needs reservedok.
    let coin = outputs(&node)
        .into_iter()
        .find(|o| o["status"] == "confirmed" && o["reserved"] == false)
        .unwrap();
    let op = format!("{}:{}", coin["txid"].as_str().unwrap(), coin["output"]);
    let u = ok(
        &node,
        "utxopsbt",
        json!({"satoshi": 100_000, "feerate": "normal", "startweight": 166, "utxos": [op]}),
    )
    .unwrap();
    assert_eq!(u["reservations"][0]["was_reserved"], false);
    assert!(u.get("change_outnum").is_none());
    assert!(u["excess_msat"].as_u64().unwrap() > 0);
    assert_eq!(
        error(
            &node,
            "utxopsbt",
            json!({"satoshi": 100_000, "feerate": "normal", "startweight": 166, "utxos": [op]})
        ),
        (-32602, format!("UTXO {op} already reserved"))
    );
    let u2 = ok(
        &node,
        "utxopsbt",
        json!({"satoshi": 100_000, "feerate": "normal", "startweight": 166,
                   "utxos": [op], "reservedok": true, "excess_as_change": true}),
    )
    .unwrap();
    assert_eq!(u2["reservations"][0]["was_reserved"], true);
    assert_eq!(u2["change_outnum"], 0);

    // multiwithdraw to two destinations.
    let other = new_address(&node, "bech32");
    let m = ok(
        &node,
        "multiwithdraw",
        json!({"outputs": [{dest.clone(): 300_000}, {other.clone(): "0.01btc"}]}),
    )
    .unwrap();
    let m_txid = m["txid"].as_str().unwrap().to_string();
    assert!(mine_one(&b).contains(&m_txid), "multiwithdraw not mined");
    synced(&node, &b);
    wait_until("the multiwithdraw payment to us appears", || {
        outputs(&node)
            .iter()
            .any(|o| o["address"] == other.as_str() && o["amount_msat"] == 1_000_000_000u64)
    });
}

#[test]
fn concurrent_fundpsbt_calls_never_share_coins() {
    let b = Bitcoind::start().unwrap();
    b.generate(1).unwrap();
    let node = Node::start(Some(&b), NodeOptions::default()).unwrap();
    synced(&node, &b);
    let addr = new_address(&node, "p2tr");
    b.rpc("generatetoaddress", json!([60, addr])).unwrap();
    b.generate(100).unwrap();
    synced(&node, &b);
    assert_eq!(outputs(&node).len(), 60);

    let results: Vec<Value> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..50)
            .map(|i| {
                let node = &node;
                scope.spawn(move || {
                    let mut client = node.client().unwrap();
                    let reply = client
                        .call(
                            "fundpsbt",
                            json!({"satoshi": 10_000 + i, "feerate": "253perkw",
                                   "startweight": 166, "excess_as_change": i % 2 == 0}),
                        )
                        .unwrap();
                    let result = reply.result().unwrap().clone();
                    schema::check_response("fundpsbt", &result).unwrap();
                    result
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut all = HashSet::new();
    let mut total = 0;
    for r in &results {
        let set = reservation_set(r);
        assert!(!set.is_empty());
        total += set.len();
        for op in set {
            assert!(all.insert(op.clone()), "coin {op:?} given to two callers");
        }
    }
    assert_eq!(all.len(), total);
    assert_eq!(reserved_count(&node), total);
    // The change outputs got distinct fresh keys.
    let changes: HashSet<String> = results
        .iter()
        .filter(|r| r.get("change_outnum").is_some())
        .map(|r| {
            let d = b.rpc("decodepsbt", json!([r["psbt"].clone()])).unwrap();
            d["tx"]["vout"][0]["scriptPubKey"]["hex"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(changes.len(), 25);
    // Ten coins are left: an eleventh call for 10 coins' worth cannot be funded...
    assert_eq!(
        error(
            &node,
            "fundpsbt",
            json!({"satoshi": "501btc", "feerate": "253perkw", "startweight": 166})
        )
        .0,
        301
    );
    // ...and `all` takes exactly the ten that are left.
    let rest = ok(
        &node,
        "fundpsbt",
        json!({"satoshi": "all", "feerate": "253perkw", "startweight": 166}),
    )
    .unwrap();
    let rest = reservation_set(&rest);
    assert_eq!(rest.len(), 10);
    assert!(rest.is_disjoint(&all));
}
