//! The BOLT test vectors (copied into `tests/vectors/` from the shared JSON set, spec commit
//! a3772650): BOLT 1 Appendix A (BigSize), B (TLV, namespaces n1 and n2), C (message
//! extension), D (signed integers), and BOLT 7's extended gossip queries.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use fulgur_wire::bigsize::{read_bigsize, write_bigsize};
use fulgur_wire::tlv::decode_raw_stream;
use fulgur_wire::{
    ChainHash, Codec, Consequence, DecodeError, Message, PublicKey, QueryOptionFlags, Reader,
    ShortChannelId, Tu32, Tu64, WireError, Writer,
};
use serde_json::Value;

fn vectors(name: &str) -> Value {
    let path = format!("{}/tests/vectors/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

fn unhex(v: &Value) -> Vec<u8> {
    hex::decode(v.as_str().unwrap()).unwrap()
}

fn array<'a>(v: &'a Value, key: &str) -> &'a Vec<Value> {
    v[key]
        .as_array()
        .unwrap_or_else(|| panic!("no array {key}"))
}

// ---------------------------------------------------------------------------------------
// Appendix A: BigSize

#[test]
fn bigsize_decoding() {
    let v = vectors("bolt01-bigsize.json");
    let cases = array(&v, "decoding_tests");
    assert_eq!(cases.len(), 18);
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let bytes = unhex(&case["encoded_hex"]);
        let got = read_bigsize(&mut Reader::new(&bytes));
        match case["expected_error_kind"].as_str() {
            None => {
                let want: u64 = case["expected_value_decimal"]
                    .as_str()
                    .unwrap()
                    .parse()
                    .unwrap();
                assert_eq!(got, Ok(want), "{name}");
            }
            Some("non_canonical") => {
                assert_eq!(got, Err(WireError::NonCanonicalBigSize), "{name}")
            }
            Some("eof_no_bytes") => assert_eq!(
                got,
                Err(WireError::Truncated {
                    needed: 1,
                    available: 0
                }),
                "{name}"
            ),
            Some("unexpected_eof") => {
                assert!(
                    matches!(got, Err(WireError::Truncated { needed, available })
                        if available < needed && !bytes.is_empty()),
                    "{name}: {got:?}"
                )
            }
            Some(other) => panic!("unknown error kind {other}"),
        }
    }
}

#[test]
fn bigsize_encoding() {
    let v = vectors("bolt01-bigsize.json");
    let cases = array(&v, "encoding_tests");
    assert_eq!(cases.len(), 8);
    for case in cases {
        let value: u64 = case["value_decimal"].as_str().unwrap().parse().unwrap();
        let mut w = Writer::new();
        write_bigsize(&mut w, value);
        assert_eq!(
            hex::encode(w.as_bytes()),
            case["expected_encoded_hex"].as_str().unwrap(),
            "{}",
            case["name"]
        );
    }
}

// ---------------------------------------------------------------------------------------
// Appendix B: TLV streams, with the two test namespaces

fulgur_wire::wire_struct! {
    /// `n1`'s `tlv3` value.
    pub struct N1Tlv3 {
        /// `node_id`.
        pub node_id: PublicKey,
        /// `amount_msat_1`.
        pub amount_msat_1: u64,
        /// `amount_msat_2`.
        pub amount_msat_2: u64,
    }
}

fulgur_wire::tlv_stream! {
    /// Namespace `n1`.
    pub struct N1 {
        /// `tlv1`: `tu64` `amount_msat`.
        1 => tlv1: Option<Tu64>,
        /// `tlv2`: `short_channel_id` `scid`.
        2 => tlv2: Option<ShortChannelId>,
        /// `tlv3`.
        3 => tlv3: Option<N1Tlv3>,
        /// `tlv4`: `u16` `cltv_delta`.
        254 => tlv4: Option<u16>,
    }
}

fulgur_wire::tlv_stream! {
    /// Namespace `n2`.
    pub struct N2 {
        /// `tlv1`: `tu64` `amount_msat`.
        0 => tlv1: Option<Tu64>,
        /// `tlv2`: `tu32` `cltv_expiry`.
        11 => tlv2: Option<Tu32>,
    }
}

/// Decodes `bytes` in namespace `ns`; on success, checks the canonical re-encoding.
fn decode_in(ns: &str, bytes: &[u8]) -> Result<Option<N1>, WireError> {
    match ns {
        "n1" => N1::decode(bytes).map(|s| {
            assert_eq!(s.encode(), bytes, "n1 re-encoding");
            Some(s)
        }),
        "n2" => N2::decode(bytes).map(|s| {
            assert_eq!(s.encode(), bytes, "n2 re-encoding");
            None
        }),
        other => panic!("unknown namespace {other}"),
    }
}

fn namespaces(case: &Value) -> Vec<String> {
    array(case, "applies_to_namespaces")
        .iter()
        .map(|n| n.as_str().unwrap().to_string())
        .collect()
}

fn expected_n1(case: &Value) -> N1 {
    let mut s = N1::default();
    for rec in array(case, "expected_known_records") {
        let vals = &rec["values"];
        match rec["type"].as_u64().unwrap() {
            1 => s.tlv1 = Some(Tu64(vals["amount_msat"].as_u64().unwrap())),
            2 => s.tlv2 = Some(vals["scid"].as_str().unwrap().parse().unwrap()),
            3 => {
                s.tlv3 = Some(N1Tlv3 {
                    node_id: vals["node_id"].as_str().unwrap().parse().unwrap(),
                    amount_msat_1: vals["amount_msat_1"].as_u64().unwrap(),
                    amount_msat_2: vals["amount_msat_2"].as_u64().unwrap(),
                })
            }
            254 => s.tlv4 = Some(u16::try_from(vals["cltv_delta"].as_u64().unwrap()).unwrap()),
            other => panic!("unexpected record {other}"),
        }
    }
    s
}

#[test]
fn tlv_decoding_failures() {
    let v = vectors("bolt01-tlv.json");
    let mut checked = 0;
    for key in ["decoding_failures", "stream_decoding_failures"] {
        for case in array(&v, key) {
            let bytes = unhex(&case["stream_hex"]);
            for ns in namespaces(case) {
                let got = decode_in(&ns, &bytes);
                assert!(
                    got.is_err(),
                    "{ns} {}: {}",
                    case["stream_hex"],
                    case["reason"]
                );
                checked += 1;
            }
        }
    }
    // 13 cases in both namespaces, 20 in n1, then 4 + 1 ordering failures.
    assert_eq!(checked, 13 * 2 + 20 + 5);
}

#[test]
fn tlv_failure_reasons() {
    let unknown_even = N1::decode(&hex::decode("1200").unwrap());
    assert_eq!(unknown_even, Err(WireError::UnknownEvenTlv(0x12)));
    let not_minimal = N1::decode(&hex::decode("fd000100").unwrap());
    assert_eq!(not_minimal, Err(WireError::NonCanonicalBigSize));
    let duplicate = N1::decode(&hex::decode("1f001f012a").unwrap());
    assert_eq!(
        duplicate,
        Err(WireError::TlvOrder {
            previous: 0x1f,
            ty: 0x1f
        })
    );
    let bad_point = N1::decode(&hex::decode("0331043da092f6980e58d2c037173180e9a465476026ee50f96695963e8efe436f54eb00000000000000010000000000000002").unwrap());
    assert_eq!(bad_point.unwrap_err().root(), &WireError::InvalidPoint);
    let tu64 = N1::decode(&hex::decode("01020001").unwrap());
    assert_eq!(tu64.unwrap_err().root(), &WireError::NonMinimalInteger);
}

#[test]
fn tlv_decoding_successes() {
    let v = vectors("bolt01-tlv.json");
    let cases = array(&v, "decoding_successes");
    assert_eq!(cases.len(), 19);
    for case in cases {
        let bytes = unhex(&case["stream_hex"]);
        for ns in namespaces(case) {
            let got = decode_in(&ns, &bytes)
                .unwrap_or_else(|e| panic!("{ns} {}: {e}", case["stream_hex"]));
            if ns == "n1" {
                let got = got.unwrap();
                let mut known_only = got.clone();
                known_only.unknown.clear();
                assert_eq!(known_only, expected_n1(case), "{}", case["stream_hex"]);
                if array(case, "expected_known_records").is_empty() && !bytes.is_empty() {
                    assert_eq!(got.unknown.len(), 1, "ignored odd record kept");
                }
            }
        }
    }
}

#[test]
fn tlv_composition_rules() {
    let v = vectors("bolt01-tlv.json");
    let n1 = |case: &&Value| namespaces(case).iter().any(|n| n == "n1");
    let valid: Vec<Vec<u8>> = array(&v, "decoding_successes")
        .iter()
        .filter(n1)
        .map(|c| unhex(&c["stream_hex"]))
        .collect();
    let invalid: Vec<Vec<u8>> = array(&v, "decoding_failures")
        .iter()
        .chain(array(&v, "stream_decoding_failures"))
        .filter(n1)
        .map(|c| unhex(&c["stream_hex"]))
        .collect();
    let types = |s: &[u8]| -> Vec<u64> {
        decode_raw_stream(s)
            .unwrap()
            .into_iter()
            .map(|r| r.ty)
            .collect()
    };
    let (mut successes, mut failures) = (0, 0);
    for a in &valid {
        for b in &invalid {
            let joined = [a.as_slice(), b.as_slice()].concat();
            assert!(
                N1::decode(&joined).is_err(),
                "{} + {}",
                hex::encode(a),
                hex::encode(b)
            );
            failures += 1;
        }
        for b in &valid {
            let (ta, tb) = (types(a), types(b));
            if ta.last().zip(tb.first()).is_none_or(|(x, y)| x < y) {
                let joined = [a.as_slice(), b.as_slice()].concat();
                let got = N1::decode(&joined)
                    .unwrap_or_else(|e| panic!("{} + {}: {e}", hex::encode(a), hex::encode(b)));
                assert_eq!(got.encode(), joined);
                successes += 1;
            }
        }
    }
    assert!(successes > 50 && failures > 400, "{successes} {failures}");
}

// ---------------------------------------------------------------------------------------
// Appendix C: message extension

#[test]
fn init_extension() {
    let v = vectors("bolt01-init-extension.json");
    let cases = array(&v, "cases");
    assert_eq!(cases.len(), 5);
    for case in cases {
        let bytes = unhex(&case["message_hex"]);
        let label = case["label"].as_str().unwrap();
        let got = Message::decode(&bytes);
        if case["valid"].as_bool().unwrap() {
            let Ok(Message::Init(init)) = &got else {
                panic!("{label}: {got:?}")
            };
            assert!(init.features.is_empty() && init.global_features.is_empty());
            assert_eq!(init.networks, None);
            // `init` validates its extension but keeps only the known records, so it
            // re-encodes to the base message.
            assert!(decode_raw_stream(&unhex(&case["extension_tlv_stream_hex"])).is_ok());
            assert_eq!(init.remote_addr, None);
            assert_eq!(
                got.unwrap().encode(),
                unhex(&v["base_init_message_hex"]),
                "{label}"
            );
        } else {
            let err = got.expect_err(label);
            assert_eq!(err.consequence(), Consequence::Disconnect, "{label}");
            assert!(matches!(err, DecodeError::Invalid { msg_type: 16, .. }));
        }
    }
}

// ---------------------------------------------------------------------------------------
// Appendix D: signed integers

fn signed_round_trip<T: Codec + Into<i64> + Copy>(bytes: &[u8]) -> i64 {
    let mut r = Reader::new(bytes);
    let v = T::decode(&mut r).unwrap();
    assert!(r.is_empty());
    let mut w = Writer::new();
    v.encode(&mut w);
    assert_eq!(w.as_bytes(), bytes);
    v.into()
}

#[test]
fn signed_integers() {
    let v = vectors("bolt01-signed-integers.json");
    let cases = array(&v, "cases");
    assert_eq!(cases.len(), 23);
    for case in cases {
        let want: i64 = case["value_decimal"].as_str().unwrap().parse().unwrap();
        let bytes = unhex(&case["encoded_hex"]);
        let got = match case["integer_type"].as_str().unwrap() {
            "s8" => signed_round_trip::<i8>(&bytes),
            "s16" => signed_round_trip::<i16>(&bytes),
            "s32" => signed_round_trip::<i32>(&bytes),
            "s64" => signed_round_trip::<i64>(&bytes),
            other => panic!("type {other}"),
        };
        assert_eq!(got, want, "{}", case["encoded_hex"]);
    }
}

// ---------------------------------------------------------------------------------------
// BOLT 7 extended queries

fn chain_hash(v: &Value) -> ChainHash {
    ChainHash::from(<[u8; 32]>::try_from(unhex(v)).unwrap())
}

fn scids(v: &Value) -> Vec<String> {
    array(&v["shortChannelIds"], "array")
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect()
}

fn pairs(v: &Value, a: &str, b: &str) -> Vec<(u32, u32)> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                u32::try_from(p[a].as_u64().unwrap()).unwrap(),
                u32::try_from(p[b].as_u64().unwrap()).unwrap(),
            )
        })
        .collect()
}

#[test]
fn extended_gossip_queries() {
    let v = vectors("bolt07-extended-queries.json");
    let cases = array(&v, "cases");
    assert_eq!(cases.len(), 10);
    let mut decoded = 0;
    for case in cases {
        let bytes = unhex(&case["hex"]);
        let msg = &case["msg"];
        let name = case["message_name"].as_str().unwrap();
        let got = Message::decode(&bytes);
        if case["uses_zlib_encoding"].as_bool().unwrap() {
            let err = got.expect_err(name);
            let DecodeError::Invalid {
                error, consequence, ..
            } = &err
            else {
                panic!("{err}")
            };
            assert_eq!(error.root(), &WireError::UnsupportedEncoding(1), "{name}");
            assert_eq!(*consequence, Consequence::Warn);
            continue;
        }
        let m = got.unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            m.msg_type(),
            u16::try_from(case["message_type"].as_u64().unwrap()).unwrap()
        );
        assert_eq!(m.encode(), bytes, "{name}: re-encoding");
        match &m {
            Message::QueryChannelRange(q) => {
                assert_eq!(q.chain_hash, chain_hash(&msg["chainHash"]));
                assert_eq!(
                    u64::from(q.first_blocknum),
                    msg["firstBlockNum"].as_u64().unwrap()
                );
                assert_eq!(
                    u64::from(q.number_of_blocks),
                    msg["numberOfBlocks"].as_u64().unwrap()
                );
                let records = array(&msg["tlvStream"], "records");
                match records.first().and_then(Value::as_str) {
                    None => assert_eq!(q.query_option, None),
                    Some("WANT_TIMESTAMPS | WANT_CHECKSUMS") => {
                        let o = q.query_option.unwrap();
                        assert_eq!(
                            o,
                            QueryOptionFlags(
                                QueryOptionFlags::WANT_TIMESTAMPS
                                    | QueryOptionFlags::WANT_CHECKSUMS
                            )
                        );
                        assert!(o.wants_timestamps() && o.wants_checksums());
                    }
                    Some(other) => panic!("record {other}"),
                }
            }
            Message::ReplyChannelRange(r) => {
                assert_eq!(r.chain_hash, chain_hash(&msg["chainHash"]));
                assert_eq!(
                    u64::from(r.first_blocknum),
                    msg["firstBlockNum"].as_u64().unwrap()
                );
                assert_eq!(
                    u64::from(r.number_of_blocks),
                    msg["numberOfBlocks"].as_u64().unwrap()
                );
                assert_eq!(
                    u64::from(r.sync_complete),
                    msg["complete"].as_u64().unwrap()
                );
                let got: Vec<String> = r
                    .encoded_short_ids
                    .0
                    .iter()
                    .map(ToString::to_string)
                    .collect();
                assert_eq!(got, scids(msg));
                match msg.get("timestamps") {
                    None => assert_eq!(r.timestamps_tlv, None),
                    Some(t) => {
                        let got: Vec<(u32, u32)> = r
                            .timestamps_tlv
                            .as_ref()
                            .unwrap()
                            .0
                            .iter()
                            .map(|t| (t.timestamp_node_id_1, t.timestamp_node_id_2))
                            .collect();
                        assert_eq!(got, pairs(&t["timestamps"], "timestamp1", "timestamp2"));
                    }
                }
                match msg.get("checksums") {
                    None => assert_eq!(r.checksums_tlv, None),
                    Some(c) => {
                        let got: Vec<(u32, u32)> = r
                            .checksums_tlv
                            .as_ref()
                            .unwrap()
                            .iter()
                            .map(|c| (c.checksum_node_id_1, c.checksum_node_id_2))
                            .collect();
                        assert_eq!(got, pairs(&c["checksums"], "checksum1", "checksum2"));
                    }
                }
            }
            Message::QueryShortChannelIds(q) => {
                assert_eq!(q.chain_hash, chain_hash(&msg["chainHash"]));
                let got: Vec<String> = q
                    .encoded_short_ids
                    .0
                    .iter()
                    .map(ToString::to_string)
                    .collect();
                assert_eq!(got, scids(msg));
                assert!(array(&msg["tlvStream"], "records").is_empty());
                assert_eq!(q.query_flags, None);
            }
            other => panic!("unexpected {other:?}"),
        }
        decoded += 1;
    }
    assert_eq!(decoded, 5);
}
