//! The public API on hand-checked bytes: message framing (BOLT 1), what each decode error
//! tells the caller to do, and a few messages spelled out byte by byte.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use fulgur_types::features::{OPTION_STATIC_REMOTEKEY, VAR_ONION_OPTIN};
use fulgur_wire::{
    ChainHash, ChannelId, ChannelUpdate, Consequence, DecodeError, EncodeError, Features, Init,
    Message, NetAddress, Ping, Pong, ShortChannelId, Shutdown, Signature, TlvRecord, UpdateAddHtlc,
    Warning, WireError, WireMessage, ONION_PACKET_LEN,
};

#[test]
fn unknown_types() {
    let err = Message::decode(&[0, 42, 1, 2, 3]).unwrap_err();
    assert_eq!(err, DecodeError::UnknownEvenType(42));
    assert_eq!(err.to_string(), "unknown even message type 42: disconnect");
    assert_eq!(err.consequence(), Consequence::Disconnect);

    let odd = Message::decode(&[0x80, 0x01, 1, 2, 3]).unwrap();
    assert_eq!(
        odd,
        Message::Unknown {
            msg_type: 32769,
            payload: vec![1, 2, 3]
        }
    );
    assert!(odd.is_unknown());
    assert_eq!(odd.encode(), vec![0x80, 0x01, 1, 2, 3]);

    assert_eq!(Message::decode(&[0]), Err(DecodeError::MissingType));
    assert_eq!(Message::type_name(258), Some("channel_update"));
}

#[test]
fn init_with_tlvs() {
    let mut features = Features::new();
    features.set_optional(OPTION_STATIC_REMOTEKEY);
    features.set_required(VAR_ONION_OPTIN);
    // The spec's fields are the whole struct.
    let mut init = Init {
        global_features: Features::empty(),
        features,
        networks: None,
        remote_addr: None,
    };
    assert_eq!(init, Init::new(init.features.clone()));
    init.networks = Some(vec![ChainHash::BITCOIN]);
    init.remote_addr = Some(NetAddress::Ipv4 {
        addr: [203, 0, 113, 7].into(),
        port: 9735,
    });
    let bytes = Message::from(init.clone()).encode();
    let mut expected = hex::decode("0010" /* init */).unwrap();
    expected.extend(hex::decode("0000" /* gflen */).unwrap());
    expected.extend(hex::decode("0002" /* flen */).unwrap());
    expected.extend(hex::decode("2100" /* bits 13 and 8 */).unwrap());
    expected.extend(hex::decode("0120" /* networks */).unwrap());
    expected.extend(ChainHash::BITCOIN.as_ref() as &[u8]);
    expected.extend(hex::decode("0307" /* remote_addr */).unwrap());
    expected.extend(hex::decode("01cb0071072607").unwrap());
    assert_eq!(hex::encode(&bytes), hex::encode(&expected));
    assert_eq!(init.encode(), bytes);
    assert_eq!(Message::decode(&bytes), Ok(Message::Init(init.clone())));
    assert!(init.combined_features().requires(VAR_ONION_OPTIN));

    // networks not a multiple of 32 bytes: invalid extension.
    let mut bad = hex::decode("00100000000001021234").unwrap();
    let err = Message::decode(&bad).unwrap_err();
    assert_eq!(err.consequence(), Consequence::Disconnect);
    // trailing bytes that are not a TLV stream.
    bad = hex::decode("001000000000fd").unwrap();
    assert!(Message::decode(&bad).is_err());
}

#[test]
fn ping_pong() {
    let ping = Ping::new(4, 2);
    let bytes = Message::from(ping.clone()).encode();
    assert_eq!(bytes, vec![0, 18, 0, 4, 0, 2, 0, 0]);
    let Ok(Message::Ping(back)) = Message::decode(&bytes) else {
        panic!()
    };
    assert_eq!(back.reply(), Some(Pong::new(4)));
    assert_eq!(Ping::new(65532, 0).reply(), None);
    // Truncated padding: insufficient length means disconnect.
    let err = Message::decode(&[0, 18, 0, 4, 0, 3, 0, 0]).unwrap_err();
    assert_eq!(err.consequence(), Consequence::Disconnect);
    let DecodeError::Invalid { error, name, .. } = err else {
        panic!()
    };
    assert_eq!(name, "ping");
    assert!(matches!(error, WireError::Truncated { .. }));
}

#[test]
fn warning_text_and_extension_records() {
    let w = Warning::new(ChannelId::ALL, "bad things");
    let mut bytes = Message::from(w.clone()).encode();
    // An unknown odd extension record is accepted and, for `warning`, dropped.
    bytes.extend([7, 1, 9]);
    let Ok(Message::Warning(back)) = Message::decode(&bytes) else {
        panic!()
    };
    assert_eq!(back.text(), Some("bad things"));
    assert_eq!(back, w);
    let raw = Warning {
        channel_id: ChannelId::ALL,
        data: vec![0xff],
    };
    assert_eq!(raw.text(), None);
    // An unknown even one is not.
    let len = bytes.len();
    bytes[len - 3] = 8;
    assert!(Message::decode(&bytes).is_err());

    // Other messages keep unknown odd records and re-encode them in place.
    let mut shutdown = Shutdown {
        channel_id: ChannelId([3; 32]),
        scriptpubkey: vec![0x00, 0x14],
        unknown_tlvs: vec![TlvRecord {
            ty: 7,
            value: vec![9],
        }],
    };
    let bytes = Message::from(shutdown.clone()).encode();
    assert!(bytes.ends_with(&[7, 1, 9]));
    assert_eq!(
        Message::decode(&bytes),
        Ok(Message::Shutdown(shutdown.clone()))
    );
    shutdown.unknown_tlvs.clear();
    assert_eq!(shutdown.encode().len(), bytes.len() - 3);
}

fn channel_update_bytes() -> Vec<u8> {
    let cu = ChannelUpdate {
        signature: Signature([1; 64]),
        chain_hash: ChainHash::REGTEST,
        short_channel_id: ShortChannelId::new(103, 1, 0).unwrap(),
        timestamp: 1_700_000_000,
        message_flags: 1,
        channel_flags: 3,
        cltv_expiry_delta: 6,
        htlc_minimum_msat: 0,
        fee_base_msat: 1000,
        fee_proportional_millionths: 10,
        htlc_maximum_msat: 990_000_000,
        unknown_tlvs: vec![],
    };
    assert!(cu.is_disabled());
    assert_eq!(cu.direction(), 1);
    assert!(!cu.dont_forward());
    Message::from(cu).encode()
}

#[test]
fn gossip_with_invalid_point_is_a_warning() {
    let bytes = channel_update_bytes();
    assert_eq!(bytes.len(), 2 + 136);
    assert!(matches!(
        Message::decode(&bytes),
        Ok(Message::ChannelUpdate(_))
    ));

    // A node_announcement whose node_id is not a point.
    let mut na = vec![1, 1];
    na.extend([0u8; 64]); // signature
    na.extend([0, 0]); // flen
    na.extend([0, 0, 0, 1]); // timestamp
    na.extend([5u8; 33]); // node_id: invalid prefix
    na.extend([0u8; 3 + 32]);
    na.extend([0, 0]); // addrlen
    let err = Message::decode(&na).unwrap_err();
    assert_eq!(err.consequence(), Consequence::Warn);
    assert!(err.to_string().contains("invalid point"), "{err}");
}

#[test]
fn update_add_htlc_carries_the_onion() {
    let htlc = UpdateAddHtlc {
        channel_id: ChannelId([7; 32]),
        id: 0,
        amount_msat: 1000,
        payment_hash: [9; 32].into(),
        cltv_expiry: 500,
        onion_routing_packet: Box::new([0xab; ONION_PACKET_LEN]),
        blinded_path: None,
        unknown_tlvs: vec![],
    };
    let bytes = htlc.encode();
    assert_eq!(bytes.len(), 2 + 32 + 8 + 8 + 32 + 4 + ONION_PACKET_LEN);
    assert_eq!(Message::decode(&bytes), Ok(Message::UpdateAddHtlc(htlc)));
    // One byte short of the onion.
    let err = Message::decode(&bytes[..bytes.len() - 1]).unwrap_err();
    assert_eq!(err.consequence(), Consequence::Disconnect);
}

#[test]
fn try_encode_refuses_oversized_fields() {
    let big = Message::from(Pong {
        ignored: vec![0; 70_000],
    });
    assert_eq!(big.try_encode(), Err(EncodeError::FieldTooLong));
    assert_eq!(big.encode().len(), 2 + 2 + 65535);
    let long = Message::from(Pong {
        ignored: vec![0; 65532],
    });
    assert_eq!(long.try_encode(), Err(EncodeError::MessageTooLong(65536)));
    assert!(Message::from(Pong::new(65531)).try_encode().is_ok());
}
