//! Bad input from the peer (and bad local requests): each is refused with the consequence
//! BOLT 2 asks for (`Warn`: warning and disconnect; `Fail`: error and fail the channel;
//! `Ignore`), and the refusal changes nothing: the channel's stored record is the same,
//! nothing is signed and nothing is sent.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

mod common;

use bitcoin::{Amount, OutPoint, ScriptBuf, TxOut};
use common::*;
use fulgur_channel::{
    Action, ChannelError, ChannelSigner, ChannelState, ChannelType, Consequence, FeeStep,
    InboundOpen, OutboundOpen, RequestError, BADONION,
};
use fulgur_types::features::{self, Features};
use fulgur_wire::{
    AcceptChannel, ChainHash, ChannelReady, ChannelReestablish, ClosingSigned, CommitmentSigned,
    FundingSigned, Message, OpenChannel, RevokeAndAck, Sha256, Shutdown, Signature,
    UpdateFailMalformedHtlc, UpdateFee, UpdateFulfillHtlc,
};

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

/// Delivers `msg` to `n` and checks that it is refused with `consequence` and that nothing
/// changed: same record, same connection state, nothing queued to send. Returns the reason.
fn refused(n: &mut Node, msg: &Message, consequence: Consequence) -> String {
    let before = n.ch().record();
    let live = n.ch().is_live();
    let outbox = n.outbox.len();
    let err = match n.chm().handle_message(msg) {
        Ok(acts) => panic!("{}: {} accepted: {acts:?}", n.name, msg.name()),
        Err(e) => e,
    };
    assert_eq!(
        err.consequence,
        consequence,
        "{}: {} refused with {:?} ({}), expected {consequence:?}",
        n.name,
        msg.name(),
        err.consequence,
        err.message
    );
    assert_eq!(
        n.ch().record(),
        before,
        "{}: refused {} changed the record",
        n.name,
        msg.name()
    );
    assert_eq!(n.ch().is_live(), live);
    assert_eq!(n.outbox.len(), outbox);
    err.message
}

/// Checks that a local request was refused and changed nothing.
fn request_refused<T: std::fmt::Debug>(
    n: &mut Node,
    what: &str,
    f: impl FnOnce(&mut fulgur_channel::Channel) -> Result<T, RequestError>,
) -> RequestError {
    let before = n.ch().record();
    let live = n.ch().is_live();
    match f(n.chm()) {
        Ok(v) => panic!("{}: {what} accepted: {v:?}", n.name),
        Err(e) => {
            assert_eq!(
                n.ch().record(),
                before,
                "{}: refused {what} changed the record",
                n.name
            );
            assert_eq!(n.ch().is_live(), live);
            e
        }
    }
}

fn assert_fail<T: std::fmt::Debug>(r: Result<T, ChannelError>, what: &str) -> String {
    match r {
        Ok(v) => panic!("{what} accepted: {v:?}"),
        Err(e) => {
            assert_eq!(e.consequence, Consequence::Fail, "{what}: {}", e.message);
            e.message
        }
    }
}

/// A normal channel: Alice opened 1,000,000 sat and pushed 300,000 sat to Bob.
fn normal() -> Pair {
    normal_of(ChannelType::AnchorsZeroFeeHtlcTx)
}

fn normal_of(channel_type: ChannelType) -> Pair {
    Pair::normal(OpenSpec {
        push_msat: 300_000_000,
        channel_type,
        ..OpenSpec::default()
    })
}

/// A normal channel where Bob's policy is changed by `f`.
fn normal_with_bob(f: impl FnOnce(&mut fulgur_channel::LocalConfig)) -> Pair {
    let a = Node::new("alice", 0xa1);
    let mut b = Node::new("bob", 0xb0);
    f(&mut b.cfg);
    Pair::normal_with(
        a,
        b,
        OpenSpec {
            push_msat: 300_000_000,
            ..OpenSpec::default()
        },
    )
}

fn cid(p: &Pair) -> fulgur_wire::ChannelId {
    p.a.ch().channel_id()
}

/// Alice adds HTLCs of `amounts` (all but the last committed at once); Bob receives the
/// last add; Alice's `commitment_signed` with all of them is taken out of her outbox,
/// undelivered.
fn alice_commitment_with(p: &mut Pair, amounts: &[u64]) -> CommitmentSigned {
    for (i, amount) in amounts.iter().enumerate() {
        if i + 1 == amounts.len() {
            p.settle();
        }
        p.add(true, *amount, [i as u8 + 1; 32]);
    }
    while !matches!(p.a.outbox.first(), Some(Message::CommitmentSigned(_))) {
        assert!(p.deliver_one(true), "no commitment_signed");
    }
    let Message::CommitmentSigned(cs) = p.a.outbox.remove(0) else {
        unreachable!()
    };
    cs
}

/// The curve order n of secp256k1, big-endian.
const CURVE_ORDER: [u8; 32] = [
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe,
    0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48, 0xa0, 0x3b, 0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41,
];

/// The same signature with `s` replaced by `n - s`: valid but high-S.
fn high_s(sig: &Signature) -> Signature {
    let mut out = sig.0;
    let mut borrow = 0i16;
    for i in (0..32).rev() {
        let mut d = i16::from(CURVE_ORDER[i]) - i16::from(sig.0[32 + i]) - borrow;
        borrow = 0;
        if d < 0 {
            d += 256;
            borrow = 1;
        }
        out[32 + i] = d as u8;
    }
    let high = Signature(out);
    // The same signature, mathematically: normalising it gives the original back.
    let parsed = high.to_ecdsa().expect("high-S parses");
    let mut normal = parsed;
    normal.normalize_s();
    assert_ne!(high, *sig);
    assert_eq!(
        Signature::from_ecdsa(&normal),
        *sig,
        "not the same signature"
    );
    high
}

/// A signature with one bit of `s` flipped.
fn corrupt(sig: &Signature) -> Signature {
    let mut out = sig.0;
    out[63] ^= 1;
    Signature(out)
}

fn regtest() -> ChainHash {
    ChainHash::using_genesis_block(bitcoin::Network::Regtest)
}

/// The start of an open: Alice's `OutboundOpen` and her `open_channel`.
fn start_open(spec: &OpenSpec) -> (Node, Node, OutboundOpen, OpenChannel) {
    let a = Node::new("alice", 0xa1);
    let b = Node::new("bob", 0xb0);
    let (opener, open) =
        OutboundOpen::new(ctx(&a, node_id(2)), open_request(spec), [7; 32]).unwrap();
    (a, b, opener, open)
}

fn bob_accepts(b: &Node, open: &OpenChannel) -> Result<(InboundOpen, AcceptChannel), ChannelError> {
    InboundOpen::new(
        ctx(b, node_id(1)),
        open,
        (253, 100_000),
        wallet_script(0xb0),
        None,
    )
}

/// Bob's answer to a valid `open_channel`.
fn valid_open() -> (
    Node,
    Node,
    OutboundOpen,
    OpenChannel,
    InboundOpen,
    AcceptChannel,
) {
    let (a, b, opener, open) = start_open(&OpenSpec::default());
    let (inbound, accept) = bob_accepts(&b, &open).unwrap();
    (a, b, opener, open, inbound, accept)
}

fn open_refused(open: &OpenChannel) -> String {
    let b = Node::new("bob", 0xb0);
    assert_fail(bob_accepts(&b, open).map(|(_, a)| a), "open_channel")
}

/// Checks that Alice refuses `accept` with `Fail`, and still takes the valid one after.
fn accept_refused(accept: AcceptChannel) -> String {
    let (_, _, mut opener, _, _, valid) = valid_open();
    let why = assert_fail(opener.on_accept_channel(&accept), "accept_channel");
    assert_eq!(
        opener.minimum_depth(),
        None,
        "refused accept_channel was kept"
    );
    opener
        .on_accept_channel(&valid)
        .expect("valid accept_channel");
    why
}

fn channel_type_features(bits: &[usize]) -> Features {
    Features::from_bits(bits.iter().copied())
}

// ---------------------------------------------------------------------------------------
// Funding
// ---------------------------------------------------------------------------------------

#[test]
fn funding_output_not_paying_the_agreed_script_and_amount_is_refused_at_lock_in() {
    let mut p = Pair::open(OpenSpec::default());
    p.connect();
    let good = p.funding_tx.output[0].clone();
    let wrong = [
        TxOut {
            value: good.value,
            script_pubkey: ScriptBuf::new_p2wsh(&ScriptBuf::from_bytes(vec![0x51]).wscript_hash()),
        },
        TxOut {
            value: good.value - Amount::from_sat(1),
            script_pubkey: good.script_pubkey.clone(),
        },
        TxOut {
            value: good.value + Amount::from_sat(1),
            script_pubkey: good.script_pubkey.clone(),
        },
    ];
    for n in [&mut p.a, &mut p.b] {
        for w in &wrong {
            let before = n.ch().record();
            let r = n.chm().funding_depth(3, Some(0x6e_0000_0001_0000), Some(w));
            assert_fail(r, "wrong funding output");
            assert_eq!(n.ch().record(), before);
            assert!(!n.ch().data().channel_ready_sent);
            assert!(n.outbox.is_empty(), "channel_ready sent");
        }
        // Deeper, without the output to check: still no channel_ready.
        let acts = n.chm().funding_depth(6, None, None).unwrap();
        assert!(!acts.iter().any(|a| matches!(a, Action::Send(_))));
        n.apply(acts);
        assert!(!n.ch().data().channel_ready_sent);
    }
    // The right output: channel_ready goes out.
    p.confirm(6);
    assert_eq!(p.a.ch().state(), ChannelState::ChanneldNormal);
}

#[test]
fn all_zero_funding_txid_is_refused_by_the_opener() {
    let (_, _, mut opener, _, _, accept) = valid_open();
    let script = opener.on_accept_channel(&accept).unwrap();
    let zero = OutPoint {
        txid: bitcoin::Txid::from_raw_hash(bitcoin::hashes::Hash::all_zeros()),
        vout: 0,
    };
    assert_fail(opener.funding_created(zero), "all-zero funding txid");
    // Nothing was kept: the real funding still works.
    let tx = funding_tx(script, 1_000_000);
    opener
        .funding_created(OutPoint {
            txid: tx.compute_txid(),
            vout: 0,
        })
        .expect("funding_created");
}

#[test]
fn all_zero_funding_txid_is_refused_by_the_accepter() {
    let (_, _, mut opener, _, inbound, accept) = valid_open();
    let script = opener.on_accept_channel(&accept).unwrap();
    let tx = funding_tx(script, 1_000_000);
    let mut created = opener
        .funding_created(OutPoint {
            txid: tx.compute_txid(),
            vout: 0,
        })
        .unwrap();
    created.funding_txid = bitcoin::Txid::from_raw_hash(bitcoin::hashes::Hash::all_zeros());
    assert_fail(
        inbound.on_funding_created(&created).map(|(_, a)| a),
        "all-zero funding txid",
    );
}

/// Alice's `funding_created` for a valid open, and Bob's answer to it.
fn funding_exchange() -> (OutboundOpen, InboundOpen, fulgur_wire::FundingCreated) {
    let (_, _, mut opener, _, inbound, accept) = valid_open();
    let script = opener.on_accept_channel(&accept).unwrap();
    let tx = funding_tx(script, 1_000_000);
    let created = opener
        .funding_created(OutPoint {
            txid: tx.compute_txid(),
            vout: 0,
        })
        .unwrap();
    (opener, inbound, created)
}

#[test]
fn funding_created_with_an_invalid_signature_is_refused() {
    let (_, inbound, mut created) = funding_exchange();
    created.signature = corrupt(&created.signature);
    assert_fail(
        inbound.on_funding_created(&created).map(|(_, a)| a),
        "bad signature",
    );
}

#[test]
fn funding_created_with_a_high_s_signature_is_refused() {
    let (_, inbound, mut created) = funding_exchange();
    created.signature = high_s(&created.signature);
    assert_fail(
        inbound.on_funding_created(&created).map(|(_, a)| a),
        "high-S",
    );
}

#[test]
fn funding_signed_with_a_bad_or_high_s_signature_is_refused() {
    let (opener, inbound, created) = funding_exchange();
    let (_, acts) = inbound.on_funding_created(&created).unwrap();
    let Some(Action::Send(Message::FundingSigned(signed))) = acts.last().cloned() else {
        panic!("no funding_signed")
    };
    for sig in [corrupt(&signed.signature), high_s(&signed.signature)] {
        let bad = FundingSigned {
            signature: sig,
            ..signed.clone()
        };
        assert_fail(
            opener.on_funding_signed(&bad).map(|(_, a)| a),
            "bad funding_signed",
        );
    }
    // Nothing changed: the real one is taken.
    opener.on_funding_signed(&signed).expect("funding_signed");
}

// ---------------------------------------------------------------------------------------
// Commitment signatures
// ---------------------------------------------------------------------------------------

#[test]
fn invalid_commitment_signature_fails_the_channel() {
    let mut p = normal();
    let cs = alice_commitment_with(&mut p, &[5_000_000]);
    let bad = CommitmentSigned {
        signature: corrupt(&cs.signature),
        ..cs.clone()
    };
    refused(&mut p.b, &bad.into(), Consequence::Fail);
    // A signature of another commitment (Bob's own first one, signed by Alice) is no better.
    let other = Signature(
        p.b.ch()
            .data()
            .local_commit
            .remote_sig
            .clone()
            .try_into()
            .unwrap(),
    );
    let bad = CommitmentSigned {
        signature: other,
        ..cs.clone()
    };
    refused(&mut p.b, &bad.into(), Consequence::Fail);
    // The genuine one is still accepted.
    let acts = p.b.chm().handle_message(&cs.into()).unwrap();
    p.b.apply(acts);
}

#[test]
fn high_s_commitment_signature_is_rejected_not_normalised() {
    let mut p = normal();
    let cs = alice_commitment_with(&mut p, &[5_000_000]);
    let bad = CommitmentSigned {
        signature: high_s(&cs.signature),
        ..cs.clone()
    };
    refused(&mut p.b, &bad.into(), Consequence::Fail);
}

#[test]
fn high_s_htlc_signature_is_rejected_not_normalised() {
    let mut p = normal();
    let cs = alice_commitment_with(&mut p, &[5_000_000]);
    assert_eq!(cs.htlc_signatures.len(), 1);
    let bad = CommitmentSigned {
        htlc_signatures: vec![high_s(&cs.htlc_signatures[0])],
        ..cs.clone()
    };
    refused(&mut p.b, &bad.into(), Consequence::Fail);
}

#[test]
fn wrong_number_of_htlc_signatures_fails_the_channel() {
    let mut p = normal();
    let cs = alice_commitment_with(&mut p, &[5_000_000, 6_000_000]);
    assert_eq!(cs.htlc_signatures.len(), 2);
    let mut more = cs.htlc_signatures.clone();
    more.push(cs.htlc_signatures[0]);
    for sigs in [vec![], vec![cs.htlc_signatures[0]], more] {
        let bad = CommitmentSigned {
            htlc_signatures: sigs,
            ..cs.clone()
        };
        refused(&mut p.b, &bad.into(), Consequence::Fail);
    }
}

#[test]
fn bad_htlc_signature_fails_the_channel() {
    let mut p = normal();
    let cs = alice_commitment_with(&mut p, &[5_000_000, 6_000_000]);
    let swapped = vec![cs.htlc_signatures[1], cs.htlc_signatures[0]];
    let corrupted = vec![cs.htlc_signatures[0], corrupt(&cs.htlc_signatures[1])];
    for sigs in [swapped, corrupted] {
        let bad = CommitmentSigned {
            htlc_signatures: sigs,
            ..cs.clone()
        };
        refused(&mut p.b, &bad.into(), Consequence::Fail);
    }
}

// ---------------------------------------------------------------------------------------
// open_channel
// ---------------------------------------------------------------------------------------

fn open_msg() -> OpenChannel {
    start_open(&OpenSpec::default()).3
}

#[test]
fn open_channel_with_a_reserve_out_of_bounds_fails() {
    // More than 20% of the channel.
    open_refused(&OpenChannel {
        channel_reserve_satoshis: 200_001,
        ..open_msg()
    });
    // Below the dust limit it goes with.
    open_refused(&OpenChannel {
        channel_reserve_satoshis: 545,
        dust_limit_satoshis: 546,
        ..open_msg()
    });
}

#[test]
fn open_channel_with_a_dust_limit_out_of_bounds_fails() {
    for dust in [0, 353, 20_001] {
        open_refused(&OpenChannel {
            dust_limit_satoshis: dust,
            channel_reserve_satoshis: 30_000,
            ..open_msg()
        });
    }
}

#[test]
fn open_channel_with_a_too_long_to_self_delay_fails() {
    open_refused(&OpenChannel {
        to_self_delay: 2017,
        ..open_msg()
    });
    open_refused(&OpenChannel {
        to_self_delay: u16::MAX,
        ..open_msg()
    });
}

#[test]
fn open_channel_with_max_accepted_htlcs_out_of_bounds_fails() {
    for n in [0, 484, u16::MAX] {
        open_refused(&OpenChannel {
            max_accepted_htlcs: n,
            ..open_msg()
        });
    }
}

#[test]
fn open_channel_for_another_chain_fails() {
    open_refused(&OpenChannel {
        chain_hash: ChainHash::using_genesis_block(bitcoin::Network::Bitcoin),
        ..open_msg()
    });
    assert_eq!(open_msg().chain_hash, regtest());
}

#[test]
fn open_channel_without_channel_type_fails() {
    open_refused(&OpenChannel {
        channel_type: None,
        ..open_msg()
    });
}

#[test]
fn open_channel_with_an_unsupported_channel_type_fails() {
    for bits in [
        // option_zeroconf (and the option_scid_alias it needs).
        vec![12, 46, 50],
        vec![12, 22, 50],
        vec![12, 46],
        // No option_static_remotekey.
        vec![],
        vec![22],
        // Optional bits are not a channel type.
        vec![13],
        // Unknown.
        vec![12, 100],
    ] {
        let why = open_refused(&OpenChannel {
            channel_type: Some(channel_type_features(&bits)),
            ..open_msg()
        });
        assert!(why.contains("not supported"), "{bits:?}: {why}");
    }
}

#[test]
fn open_channel_with_anchors_not_negotiated_fails() {
    let b = Node::new("bob", 0xb0);
    let mut c = ctx(&b, node_id(1));
    c.their_features
        .clear(features::OPTION_ANCHORS_ZERO_FEE_HTLC_TX);
    let r = InboundOpen::new(c, &open_msg(), (253, 100_000), wallet_script(0xb0), None);
    assert_fail(r.map(|(_, a)| a), "anchors not negotiated");
}

#[test]
fn open_channel_pushing_more_than_the_funding_fails() {
    open_refused(&OpenChannel {
        push_msat: 1_000_000_001,
        ..open_msg()
    });
}

#[test]
fn open_channel_below_the_minimum_funding_fails() {
    open_refused(&OpenChannel {
        funding_satoshis: 9_999,
        ..open_msg()
    });
}

#[test]
fn open_channel_with_a_feerate_out_of_bounds_fails() {
    for feerate in [0, 252, 100_001, u32::MAX] {
        open_refused(&OpenChannel {
            feerate_per_kw: feerate,
            ..open_msg()
        });
    }
}

#[test]
fn open_channel_whose_opener_cannot_pay_the_fee_fails() {
    // The opener keeps 1 sat after the push; the first commitment costs thousands.
    let why = open_refused(&OpenChannel {
        push_msat: 999_999_000,
        ..open_msg()
    });
    assert!(why.contains("cannot pay"), "{why}");
    // Same with a fee rate that eats the whole channel.
    open_refused(&OpenChannel {
        funding_satoshis: 20_000,
        channel_reserve_satoshis: 1_000,
        feerate_per_kw: 50_000,
        ..open_msg()
    });
}

#[test]
fn open_channel_where_neither_side_is_above_its_reserve_fails() {
    // 20,000 sat: 4,000 pushed (Bob's reserve is 4,000), and Alice's 16,000 less the
    // first commitment's 15,834 sat of fee and anchors leaves her 166 (her reserve is 546).
    let why = open_refused(&OpenChannel {
        funding_satoshis: 20_000,
        push_msat: 4_000_000,
        channel_reserve_satoshis: 4_000,
        feerate_per_kw: 13_500,
        ..open_msg()
    });
    assert!(why.contains("neither"), "{why}");
}

// ---------------------------------------------------------------------------------------
// accept_channel
// ---------------------------------------------------------------------------------------

fn accept_msg() -> AcceptChannel {
    valid_open().5
}

#[test]
fn accept_channel_with_a_reserve_out_of_bounds_fails() {
    accept_refused(AcceptChannel {
        channel_reserve_satoshis: 200_001,
        ..accept_msg()
    });
    // Below the dust limit of our open_channel.
    accept_refused(AcceptChannel {
        channel_reserve_satoshis: 545,
        dust_limit_satoshis: 354,
        ..accept_msg()
    });
    // Below its own dust limit.
    accept_refused(AcceptChannel {
        channel_reserve_satoshis: 1000,
        dust_limit_satoshis: 1001,
        ..accept_msg()
    });
}

#[test]
fn accept_channel_with_a_dust_limit_out_of_bounds_fails() {
    for dust in [0, 353, 20_001] {
        accept_refused(AcceptChannel {
            dust_limit_satoshis: dust,
            channel_reserve_satoshis: 30_000,
            ..accept_msg()
        });
    }
    // Above the reserve of our open_channel (10,000 sat).
    accept_refused(AcceptChannel {
        dust_limit_satoshis: 10_001,
        channel_reserve_satoshis: 20_000,
        ..accept_msg()
    });
}

#[test]
fn accept_channel_with_a_too_long_to_self_delay_fails() {
    accept_refused(AcceptChannel {
        to_self_delay: 2017,
        ..accept_msg()
    });
}

#[test]
fn accept_channel_with_max_accepted_htlcs_out_of_bounds_fails() {
    for n in [0, 484] {
        accept_refused(AcceptChannel {
            max_accepted_htlcs: n,
            ..accept_msg()
        });
    }
}

#[test]
fn accept_channel_with_another_channel_type_fails() {
    accept_refused(AcceptChannel {
        channel_type: Some(channel_type_features(&[12])),
        ..accept_msg()
    });
    accept_refused(AcceptChannel {
        channel_type: Some(channel_type_features(&[12, 22, 50])),
        ..accept_msg()
    });
    accept_refused(AcceptChannel {
        channel_type: None,
        ..accept_msg()
    });
}

#[test]
fn accept_channel_with_a_too_large_minimum_depth_fails() {
    let why = accept_refused(AcceptChannel {
        minimum_depth: 101,
        ..accept_msg()
    });
    assert!(why.contains("minimum_depth"), "{why}");
}

// ---------------------------------------------------------------------------------------
// update_fee
// ---------------------------------------------------------------------------------------

fn update_fee(p: &Pair, feerate_per_kw: u32) -> Message {
    UpdateFee {
        unknown_tlvs: Vec::new(),
        channel_id: cid(p),
        feerate_per_kw,
    }
    .into()
}

#[test]
fn update_fee_from_the_non_opener_fails_the_channel() {
    let mut p = normal();
    let msg = update_fee(&p, 3000);
    // Bob did not open: Alice refuses his update_fee.
    refused(&mut p.a, &msg, Consequence::Fail);
    // And Bob does not send one.
    request_refused(&mut p.b, "update_fee", |c| c.update_fee(3000));
}

#[test]
fn update_fee_out_of_the_accepted_range_fails_the_channel() {
    let mut p = normal();
    p.b.chm().set_feerate_bounds(1000, 10_000);
    for rate in [252, 999, 10_001] {
        let msg = update_fee(&p, rate);
        refused(&mut p.b, &msg, Consequence::Fail);
    }
}

#[test]
fn update_fee_the_opener_cannot_afford_fails_the_channel() {
    // Alice keeps 1% of the channel after the push; a huge fee rate eats it.
    let mut p = Pair::normal(OpenSpec {
        push_msat: 980_000_000,
        ..OpenSpec::default()
    });
    let msg = update_fee(&p, 50_000);
    refused(&mut p.b, &msg, Consequence::Fail);
    request_refused(&mut p.a, "update_fee", |c| c.update_fee(50_000));
}

#[test]
fn update_fee_trimming_htlcs_beyond_the_dust_exposure_limit_fails() {
    // A static_remotekey channel (HTLC transactions pay their fee from the HTLC), five
    // HTLCs of 2,500 sat from Alice: above Bob's trimming threshold at 2,500 sat/kw
    // (546 + 1,757 sat), below it at 5,000 sat/kw. 12,500,000 msat would be trimmed, above
    // both nodes' limit of 10,000,000 msat.
    let mut a = Node::new("alice", 0xa1);
    let mut b = Node::new("bob", 0xb0);
    a.cfg.max_dust_htlc_exposure_msat = 10_000_000;
    b.cfg.max_dust_htlc_exposure_msat = 10_000_000;
    let mut p = Pair::normal_with(
        a,
        b,
        OpenSpec {
            push_msat: 300_000_000,
            feerate: 2500,
            channel_type: ChannelType::StaticRemoteKey,
            ..OpenSpec::default()
        },
    );
    for i in 0..5 {
        p.add(true, 2_500_000, [i; 32]);
    }
    p.settle();
    assert_eq!(p.b.ch().htlcs().count(), 5);
    let msg = update_fee(&p, 5000);
    let why = refused(&mut p.b, &msg, Consequence::Fail);
    assert!(why.contains("max-dust-htlc-exposure-msat"), "{why}");
    // Alice does not send it either.
    request_refused(&mut p.a, "update_fee", |c| c.update_fee(5000));
    // A smaller step that trims nothing is fine.
    let acts = p.a.chm().update_fee(2600).unwrap();
    p.a.apply(acts);
    p.settle();
    assert_eq!(p.b.ch().feerate_per_kw(), 2600);
}

// ---------------------------------------------------------------------------------------
// update_add_htlc from the peer
// ---------------------------------------------------------------------------------------

fn add_to_bob(p: &Pair, id: u64, amount_msat: u64) -> Message {
    update_add(cid(p), id, amount_msat, [id as u8; 32], 600)
}

#[test]
fn htlcs_beyond_max_accepted_htlcs_fail_the_channel() {
    let mut p = normal_with_bob(|c| c.max_accepted_htlcs = 3);
    for id in 0..3 {
        let msg = add_to_bob(&p, id, 1_000_000);
        p.b.chm().handle_message(&msg).unwrap();
    }
    let msg = add_to_bob(&p, 3, 1_000_000);
    let why = refused(&mut p.b, &msg, Consequence::Fail);
    assert!(why.contains("max_accepted_htlcs"), "{why}");
}

#[test]
fn htlcs_beyond_max_htlc_value_in_flight_fail_the_channel() {
    let mut p = normal_with_bob(|c| c.max_htlc_value_in_flight_msat = 100_000_000);
    let msg = add_to_bob(&p, 0, 60_000_000);
    p.b.chm().handle_message(&msg).unwrap();
    let msg = add_to_bob(&p, 1, 40_000_001);
    let why = refused(&mut p.b, &msg, Consequence::Fail);
    assert!(why.contains("max_htlc_value_in_flight_msat"), "{why}");
    // Exactly the limit is fine.
    let msg = add_to_bob(&p, 1, 40_000_000);
    p.b.chm().handle_message(&msg).unwrap();
}

#[test]
fn htlc_the_opener_cannot_afford_fails_the_channel() {
    // Alice has 700,000 sat; Bob asks her to keep 10,000 sat, and she pays the fee.
    let mut p = normal();
    let msg = add_to_bob(&p, 0, 690_000_000);
    let why = refused(&mut p.b, &msg, Consequence::Fail);
    assert!(why.contains("cannot afford"), "{why}");
}

#[test]
fn htlc_the_non_opener_cannot_afford_fails_the_channel() {
    // Bob has 300,000 sat and must keep 10,000 sat.
    let mut p = normal();
    let msg = update_add(cid(&p), 0, 290_000_001, [1; 32], 600);
    let why = refused(&mut p.a, &msg, Consequence::Fail);
    assert!(why.contains("cannot afford"), "{why}");
    let msg = update_add(cid(&p), 0, 290_000_000, [1; 32], 600);
    p.a.chm().handle_message(&msg).unwrap();
}

#[test]
fn htlc_of_zero_or_below_htlc_minimum_fails_the_channel() {
    let mut p = normal_with_bob(|c| c.htlc_minimum_msat = 1000);
    for amount in [0, 1, 999] {
        let msg = add_to_bob(&p, 0, amount);
        refused(&mut p.b, &msg, Consequence::Fail);
    }
    let msg = add_to_bob(&p, 0, 1000);
    p.b.chm().handle_message(&msg).unwrap();
    // Zero is refused even when the minimum is 0.
    let mut p = normal();
    let msg = add_to_bob(&p, 0, 0);
    refused(&mut p.b, &msg, Consequence::Fail);
}

#[test]
fn htlc_with_a_cltv_expiry_in_seconds_fails_the_channel() {
    let mut p = normal();
    for cltv in [500_000_000, u32::MAX] {
        let msg = update_add(cid(&p), 0, 1_000_000, [1; 32], cltv);
        refused(&mut p.b, &msg, Consequence::Fail);
    }
    let msg = update_add(cid(&p), 0, 1_000_000, [1; 32], 499_999_999);
    p.b.chm().handle_message(&msg).unwrap();
}

#[test]
fn htlc_with_a_wrong_id_fails_the_channel() {
    let mut p = normal();
    let msg = add_to_bob(&p, 1, 1_000_000);
    refused(&mut p.b, &msg, Consequence::Fail);
    let msg = add_to_bob(&p, 0, 1_000_000);
    p.b.chm().handle_message(&msg).unwrap();
    // A repeat of id 0 (without a reconnection) and a gap.
    for id in [0, 2, u64::MAX] {
        let msg = add_to_bob(&p, id, 1_000_000);
        refused(&mut p.b, &msg, Consequence::Fail);
    }
}

#[test]
fn htlc_after_the_peers_shutdown_fails_the_channel() {
    let mut p = normal();
    // An HTLC in flight keeps the channel in CHANNELD_SHUTTING_DOWN.
    p.add(true, 5_000_000, [1; 32]);
    p.settle();
    let acts = p.b.chm().shutdown(None, FeeStep::default(), None).unwrap();
    p.b.apply(acts);
    p.deliver_one(false);
    assert!(p.a.ch().data().closing.remote_script.is_some());
    assert_eq!(p.a.ch().state(), ChannelState::ChanneldShuttingDown);
    let msg = update_add(cid(&p), 0, 1_000_000, [1; 32], 600);
    refused(&mut p.a, &msg, Consequence::Fail);
}

// ---------------------------------------------------------------------------------------
// channel_ready
// ---------------------------------------------------------------------------------------

fn channel_ready(p: &Pair, point: secp256k1::PublicKey) -> Message {
    ChannelReady {
        unknown_tlvs: Vec::new(),
        channel_id: cid(p),
        second_per_commitment_point: point,
        short_channel_id: None,
    }
    .into()
}

#[test]
fn second_channel_ready_with_another_point_is_refused_and_a_repeat_ignored() {
    let mut p = Pair::open(OpenSpec::default());
    p.connect();
    // Only Alice sees the funding confirm: Bob gets her channel_ready while still waiting.
    let out = p.funding_tx.output[0].clone();
    let acts = p.a.chm().funding_depth(3, None, Some(&out)).unwrap();
    p.a.apply(acts);
    let Some(Message::ChannelReady(ready)) = p.a.outbox.first().cloned() else {
        panic!("no channel_ready")
    };
    p.deliver_one(true);
    assert_eq!(p.b.ch().state(), ChannelState::ChanneldAwaitingLockin);
    let other = node_id(9);
    let msg = channel_ready(&p, other);
    refused(&mut p.b, &msg, Consequence::Warn);
    // The same one again: ignored, nothing changes.
    let before = p.b.ch().record();
    let acts = p.b.chm().handle_message(&ready.clone().into()).unwrap();
    assert!(acts.is_empty(), "{acts:?}");
    assert_eq!(p.b.ch().record(), before);

    // Once normal, before any commitment update: same.
    p.confirm(3);
    assert_eq!(p.b.ch().state(), ChannelState::ChanneldNormal);
    refused(&mut p.b, &msg, Consequence::Warn);
    let before = p.b.ch().record();
    let acts = p.b.chm().handle_message(&ready.into()).unwrap();
    assert!(acts.is_empty(), "{acts:?}");
    assert_eq!(p.b.ch().record(), before);
}

// ---------------------------------------------------------------------------------------
// Removing HTLCs
// ---------------------------------------------------------------------------------------

fn fulfill(p: &Pair, id: u64, preimage: [u8; 32]) -> Message {
    UpdateFulfillHtlc {
        unknown_tlvs: Vec::new(),
        channel_id: cid(p),
        id,
        payment_preimage: preimage,
        attribution_data: None,
    }
    .into()
}

/// A normal channel with one HTLC from Alice to Bob (preimage `[1; 32]`), irrevocably
/// committed.
fn with_htlc() -> Pair {
    let mut p = normal();
    p.add(true, 5_000_000, [1; 32]);
    p.settle();
    assert_eq!(Pair::incoming(&mut p.b).len(), 1);
    p
}

#[test]
fn update_fulfill_with_a_wrong_preimage_fails_the_channel() {
    let mut p = with_htlc();
    let msg = fulfill(&p, 0, [2; 32]);
    let why = refused(&mut p.a, &msg, Consequence::Fail);
    assert!(why.contains("preimage"), "{why}");
    // And locally.
    request_refused(&mut p.b, "fulfill", |c| c.fulfill_htlc(0, [2; 32]));
}

#[test]
fn update_fulfill_for_an_unknown_htlc_fails_the_channel() {
    let mut p = with_htlc();
    for id in [1, 7, u64::MAX] {
        let msg = fulfill(&p, id, [1; 32]);
        refused(&mut p.a, &msg, Consequence::Fail);
    }
    // Bob's HTLC 0 is the one Alice offered him: Alice cannot settle it.
    let msg = fulfill(&p, 0, [1; 32]);
    refused(&mut p.b, &msg, Consequence::Fail);
}

#[test]
fn update_fulfill_before_the_htlc_is_irrevocably_committed_fails_the_channel() {
    let mut p = normal();
    p.add(true, 5_000_000, [1; 32]);
    // Bob gets the add and the commitment; Alice has nothing back yet.
    p.deliver_one(true);
    p.deliver_one(true);
    let msg = fulfill(&p, 0, [1; 32]);
    refused(&mut p.a, &msg, Consequence::Fail);
    // Bob's revoke_and_ack: the HTLC is in Bob's commitment, not yet in Alice's.
    p.deliver_one(false);
    refused(&mut p.a, &msg, Consequence::Fail);
    // Bob's commitment_signed: Alice revokes her previous commitment, so the HTLC is
    // irrevocably committed on both sides once Bob has that revoke_and_ack, which reaches
    // him before anything he sends next reaches her. From then on a fulfill is legitimate.
    p.deliver_one(false);
    p.a.chm().handle_message(&msg).unwrap();
    // Locally: Bob may not fulfill before he has Alice's revoke_and_ack.
    let mut p = normal();
    p.add(true, 5_000_000, [1; 32]);
    p.deliver_one(true);
    p.deliver_one(true);
    p.deliver_one(false);
    p.deliver_one(false);
    request_refused(&mut p.b, "fulfill", |c| c.fulfill_htlc(0, [1; 32]));
    p.deliver_one(true);
    let acts = p.b.chm().fulfill_htlc(0, [1; 32]).unwrap();
    p.b.apply(acts);
}

#[test]
fn update_fail_malformed_without_badonion_fails_the_channel() {
    let mut p = with_htlc();
    let malformed = |p: &Pair, code: u16| -> Message {
        UpdateFailMalformedHtlc {
            unknown_tlvs: Vec::new(),
            channel_id: cid(p),
            id: 0,
            sha256_of_onion: Sha256([0; 32]),
            failure_code: code,
        }
        .into()
    };
    for code in [0, 0x4000 | 5, 0x7fff] {
        let msg = malformed(&p, code);
        refused(&mut p.a, &msg, Consequence::Fail);
    }
    request_refused(&mut p.b, "fail_malformed", |c| {
        c.fail_malformed_htlc(0, [0; 32], 0x4000 | 5)
    });
    let msg = malformed(&p, BADONION | 0x4000 | 5);
    p.a.chm().handle_message(&msg).unwrap();
}

// ---------------------------------------------------------------------------------------
// revoke_and_ack
// ---------------------------------------------------------------------------------------

#[test]
fn revoke_and_ack_with_a_wrong_secret_fails_the_channel() {
    let mut p = normal();
    p.add(true, 5_000_000, [1; 32]);
    p.deliver_one(true);
    p.deliver_one(true);
    let Some(Message::RevokeAndAck(rev)) = p.b.outbox.first().cloned() else {
        panic!("no revoke_and_ack")
    };
    let bob = ChannelSigner::new(p.b.secrets());
    for secret in [
        [0; 32],
        [0xff; 32],
        [7; 32],
        // Bob's secret, of the wrong commitment.
        bob.per_commitment_secret(1),
    ] {
        let bad = RevokeAndAck {
            per_commitment_secret: secret,
            ..rev.clone()
        };
        refused(&mut p.a, &bad.into(), Consequence::Fail);
    }
    assert_eq!(rev.per_commitment_secret, bob.per_commitment_secret(0));
    p.deliver_one(false);
}

#[test]
fn revoke_and_ack_when_none_is_expected_fails_the_channel() {
    let mut p = normal();
    let bob = ChannelSigner::new(p.b.secrets());
    // A genuine secret and point of Bob's, but Alice signed nothing to be revoked.
    let rev = RevokeAndAck {
        unknown_tlvs: Vec::new(),
        channel_id: cid(&p),
        per_commitment_secret: bob.per_commitment_secret(0),
        next_per_commitment_point: bob.per_commitment_point(2),
    };
    refused(&mut p.a, &rev.clone().into(), Consequence::Fail);
    // Nor after a full round.
    p.add(true, 5_000_000, [1; 32]);
    p.settle();
    refused(&mut p.a, &rev.into(), Consequence::Fail);
}

// ---------------------------------------------------------------------------------------
// Reconnection
// ---------------------------------------------------------------------------------------

#[test]
fn updates_and_commitments_before_channel_reestablish_are_refused() {
    let mut p = normal();
    p.add(true, 5_000_000, [1; 32]);
    let add = p.a.outbox[0].clone();
    let cs = p.a.outbox[1].clone();
    let bob = ChannelSigner::new(p.b.secrets());
    let rev: Message = RevokeAndAck {
        unknown_tlvs: Vec::new(),
        channel_id: cid(&p),
        per_commitment_secret: bob.per_commitment_secret(0),
        next_per_commitment_point: bob.per_commitment_point(2),
    }
    .into();
    let fee = update_fee(&p, 3000);
    p.disconnect();
    // Disconnected.
    for m in [&add, &cs, &fee] {
        refused(&mut p.b, m, Consequence::Warn);
    }
    refused(&mut p.a, &rev, Consequence::Warn);
    // Reconnected, our channel_reestablish sent, the peer's not received yet.
    let acts = p.a.chm().connected();
    p.a.apply(acts);
    let acts = p.b.chm().connected();
    p.b.apply(acts);
    for m in [&add, &cs, &fee] {
        refused(&mut p.b, m, Consequence::Warn);
    }
    refused(&mut p.a, &rev, Consequence::Warn);
    // Then all is well.
    p.settle();
    assert!(p.a.ch().is_live() && p.b.ch().is_live());
    assert_eq!(p.b.ch().htlcs().count(), 1);
}

fn reestablish_of(n: &Node) -> ChannelReestablish {
    n.ch().reestablish_message()
}

#[test]
fn channel_reestablish_with_next_commitment_number_zero_fails_the_channel() {
    let mut p = normal();
    p.disconnect();
    let acts = p.a.chm().connected();
    p.a.apply(acts);
    let msg = ChannelReestablish {
        next_commitment_number: 0,
        ..reestablish_of(&p.b)
    };
    refused(&mut p.a, &msg.into(), Consequence::Fail);
}

#[test]
fn channel_reestablish_when_not_expected_is_refused() {
    let mut p = normal();
    let msg = reestablish_of(&p.b);
    refused(&mut p.a, &msg.clone().into(), Consequence::Warn);
    p.disconnect();
    refused(&mut p.a, &msg.into(), Consequence::Warn);
}

#[test]
fn channel_reestablish_with_a_wrong_last_secret_fails_the_channel() {
    let mut p = normal();
    for i in 0..2 {
        p.add(true, 5_000_000, [i; 32]);
        p.settle();
    }
    p.disconnect();
    let acts = p.a.chm().connected();
    p.a.apply(acts);
    let good = reestablish_of(&p.b);
    assert!(good.next_revocation_number > 0);
    let msg = ChannelReestablish {
        your_last_per_commitment_secret: [3; 32],
        ..good.clone()
    };
    refused(&mut p.a, &msg.into(), Consequence::Fail);
    // Claiming revocations we never gave, without the proof: fail, and it is no
    // data-loss claim (we do not give up on our commitment).
    let msg = ChannelReestablish {
        next_revocation_number: good.next_revocation_number + 3,
        ..good.clone()
    };
    refused(&mut p.a, &msg.into(), Consequence::Fail);
    p.a.chm()
        .handle_message(&good.into())
        .expect("genuine reestablish");
}

#[test]
fn channel_reestablish_proving_we_lost_data_stops_without_broadcasting() {
    let mut p = normal();
    p.add(true, 5_000_000, [1; 32]);
    p.settle();
    // Alice's backup from here...
    let old = p.a.stored.clone().unwrap();
    let old_number = p.a.ch().data().local_commit.number;
    // ...and the channel moves on.
    for i in 2..5 {
        let id = p.add(true, 5_000_000, [i; 32]);
        p.settle();
        let acts = p.b.chm().fulfill_htlc(id, [i; 32]).unwrap();
        p.b.apply(acts);
        p.settle();
    }
    p.disconnect();
    // Alice restarts from the old backup.
    p.a.stored = Some(old);
    p.a.restart();
    assert_eq!(p.a.ch().data().local_commit.number, old_number);
    let acts = p.a.chm().connected();
    p.a.apply(acts);
    let Some(Message::ChannelReestablish(from_alice)) = p.a.outbox.first().cloned() else {
        panic!("no channel_reestablish from alice")
    };
    let acts = p.b.chm().connected();
    p.b.apply(acts);
    let Some(Message::ChannelReestablish(from_bob)) = p.b.outbox.first().cloned() else {
        panic!("no channel_reestablish")
    };
    assert!(from_bob.next_revocation_number > old_number);
    let acts = p.a.chm().handle_message(&from_bob.into()).unwrap();
    assert!(
        !acts.iter().any(|a| matches!(a, Action::Broadcast { .. })),
        "broadcast a revoked commitment: {acts:?}"
    );
    assert_eq!(acts.first(), Some(&Action::Persist));
    assert!(acts.iter().any(|a| matches!(
        a,
        Action::StateChanged {
            to: ChannelState::AwaitingUnilateral,
            ..
        }
    )));
    let errors: Vec<_> = acts
        .iter()
        .filter(|a| matches!(a, Action::Send(Message::Error(_))))
        .collect();
    assert_eq!(errors.len(), 1, "{acts:?}");
    assert!(
        acts.iter()
            .all(|a| !matches!(a, Action::Send(m) if !matches!(m, Message::Error(_)))),
        "sent something else: {acts:?}"
    );
    p.a.apply(acts);
    assert_eq!(p.a.ch().state(), ChannelState::AwaitingUnilateral);
    assert!(p.a.broadcasts.is_empty());
    assert!(!p.a.ch().is_live());
    // Stored as such: a restart does not bring the old state back.
    p.a.restart();
    assert_eq!(p.a.ch().state(), ChannelState::AwaitingUnilateral);
    assert!(p.a.chm().connected().is_empty());
    assert!(p.a.chm().force_close().is_empty(), "would broadcast");
    // Bob, seeing Alice's old numbers, fails the channel (and will broadcast his latest).
    refused(&mut p.b, &from_alice.into(), Consequence::Fail);
}

// ---------------------------------------------------------------------------------------
// Messages out of order
// ---------------------------------------------------------------------------------------

#[test]
fn funding_signed_to_an_established_channel_is_refused() {
    let mut p = normal();
    let msg = FundingSigned {
        unknown_tlvs: Vec::new(),
        channel_id: cid(&p),
        signature: Signature(
            p.a.ch()
                .data()
                .local_commit
                .remote_sig
                .clone()
                .try_into()
                .unwrap(),
        ),
    };
    refused(&mut p.a, &msg.into(), Consequence::Warn);
    let msg = open_msg();
    refused(&mut p.b, &msg.into(), Consequence::Warn);
    let msg = accept_msg();
    refused(&mut p.a, &msg.into(), Consequence::Warn);
}

#[test]
fn closing_signed_before_shutdown_is_refused() {
    let mut p = normal();
    let msg = ClosingSigned {
        unknown_tlvs: Vec::new(),
        channel_id: cid(&p),
        fee_satoshis: 1000,
        signature: Signature([1; 64]),
        fee_range: None,
    };
    refused(&mut p.a, &msg.clone().into(), Consequence::Warn);
    refused(&mut p.b, &msg.clone().into(), Consequence::Warn);
    // Nor after only one side's shutdown while an HTLC is pending.
    p.add(true, 5_000_000, [1; 32]);
    p.settle();
    let acts = p.a.chm().shutdown(None, FeeStep::default(), None).unwrap();
    p.a.apply(acts);
    p.settle();
    assert_eq!(p.b.ch().state(), ChannelState::ChanneldShuttingDown);
    refused(&mut p.b, &msg.into(), Consequence::Warn);
}

#[test]
fn closing_signed_with_a_bad_or_high_s_signature_is_refused() {
    let mut p = normal();
    let acts = p.b.chm().shutdown(None, FeeStep::default(), None).unwrap();
    p.b.apply(acts);
    // Bob's shutdown to Alice; Alice's shutdown and first closing_signed to Bob.
    p.deliver_one(false);
    p.deliver_one(true);
    let Some(Message::ClosingSigned(cs)) = p.a.outbox.first().cloned() else {
        panic!("no closing_signed")
    };
    assert_eq!(p.b.ch().state(), ChannelState::ClosingdSigexchange);
    for sig in [corrupt(&cs.signature), high_s(&cs.signature)] {
        let bad = ClosingSigned {
            signature: sig,
            ..cs.clone()
        };
        refused(&mut p.b, &bad.into(), Consequence::Fail);
    }
    p.settle();
    assert_eq!(p.b.ch().state(), ChannelState::ClosingdComplete);
}

#[test]
fn shutdown_with_a_non_standard_script_is_refused() {
    let mut p = normal();
    let p2pkh = {
        let mut s = vec![0x76, 0xa9, 0x14];
        s.extend_from_slice(&[1; 20]);
        s.extend_from_slice(&[0x88, 0xac]);
        s
    };
    let bad_scripts = [
        p2pkh,
        vec![],
        vec![0x6a],
        // Witness v0 with a 21-byte program.
        [vec![0x00, 0x15], vec![2; 21]].concat(),
        // Witness v1 with a 41-byte program.
        [vec![0x51, 0x29], vec![2; 41]].concat(),
    ];
    for script in bad_scripts {
        let msg = Shutdown {
            unknown_tlvs: Vec::new(),
            channel_id: cid(&p),
            scriptpubkey: script,
        };
        refused(&mut p.a, &msg.into(), Consequence::Warn);
    }
    // Locally too.
    request_refused(&mut p.a, "shutdown", |c| {
        c.shutdown(Some(vec![0x6a]), FeeStep::default(), None)
    });
}

// ---------------------------------------------------------------------------------------
// Local requests
// ---------------------------------------------------------------------------------------

fn try_add(
    c: &mut fulgur_channel::Channel,
    amount_msat: u64,
    cltv: u32,
    onion_len: usize,
) -> Result<(u64, Vec<Action>), RequestError> {
    c.add_htlc(amount_msat, [1; 32], cltv, vec![0; onion_len], None)
}

#[test]
fn local_add_htlc_beyond_max_accepted_htlcs_changes_nothing() {
    let mut p = normal_with_bob(|c| c.max_accepted_htlcs = 2);
    p.add(true, 1_000_000, [1; 32]);
    p.add(true, 1_000_000, [2; 32]);
    let outbox = p.a.outbox.len();
    let e = request_refused(&mut p.a, "add_htlc", |c| try_add(c, 1_000_000, 600, ONION));
    assert!(matches!(e, RequestError::HtlcRefused(_)), "{e:?}");
    assert_eq!(p.a.outbox.len(), outbox);
    p.settle();
    assert_eq!(p.b.ch().htlcs().count(), 2);
}

#[test]
fn local_add_htlc_beyond_max_htlc_value_in_flight_changes_nothing() {
    let mut p = normal_with_bob(|c| c.max_htlc_value_in_flight_msat = 100_000_000);
    p.add(true, 60_000_000, [1; 32]);
    let e = request_refused(&mut p.a, "add_htlc", |c| try_add(c, 40_000_001, 600, ONION));
    assert!(matches!(e, RequestError::HtlcRefused(_)), "{e:?}");
    p.add(true, 40_000_000, [2; 32]);
    p.settle();
}

#[test]
fn local_add_htlc_below_the_peers_minimum_changes_nothing() {
    let mut p = normal_with_bob(|c| c.htlc_minimum_msat = 1000);
    for amount in [0, 999] {
        let e = request_refused(&mut p.a, "add_htlc", |c| try_add(c, amount, 600, ONION));
        assert!(matches!(e, RequestError::HtlcRefused(_)), "{e:?}");
    }
    assert!(p.a.outbox.is_empty());
}

#[test]
fn local_add_htlc_we_cannot_afford_changes_nothing() {
    let mut p = normal();
    // Alice (opener) has 700,000 sat, must keep 10,000 sat and the fees.
    let e = request_refused(&mut p.a, "add_htlc", |c| {
        try_add(c, 690_000_000, 600, ONION)
    });
    assert!(matches!(e, RequestError::HtlcRefused(_)), "{e:?}");
    // Bob has 300,000 sat and must keep 10,000 sat.
    let e = request_refused(&mut p.b, "add_htlc", |c| {
        try_add(c, 290_000_001, 600, ONION)
    });
    assert!(matches!(e, RequestError::HtlcRefused(_)), "{e:?}");
    assert!(p.a.outbox.is_empty() && p.b.outbox.is_empty());
}

#[test]
fn local_add_htlc_beyond_the_dust_exposure_limit_changes_nothing() {
    let mut a = Node::new("alice", 0xa1);
    a.cfg.max_dust_htlc_exposure_msat = 1_000_000;
    let mut p = Pair::normal_with(
        a,
        Node::new("bob", 0xb0),
        OpenSpec {
            push_msat: 300_000_000,
            ..OpenSpec::default()
        },
    );
    p.add(true, 500_000, [1; 32]);
    p.add(true, 500_000, [2; 32]);
    let e = request_refused(&mut p.a, "add_htlc", |c| try_add(c, 1, 600, ONION));
    assert!(matches!(e, RequestError::HtlcRefused(_)), "{e:?}");
}

#[test]
fn local_add_htlc_with_bad_arguments_or_while_disconnected_changes_nothing() {
    let mut p = normal();
    for cltv in [500_000_000, u32::MAX] {
        let e = request_refused(&mut p.a, "add_htlc", |c| try_add(c, 1_000_000, cltv, ONION));
        assert!(matches!(e, RequestError::Invalid(_)), "{e:?}");
    }
    for len in [0, ONION - 1, ONION + 1] {
        let e = request_refused(&mut p.a, "add_htlc", |c| try_add(c, 1_000_000, 600, len));
        assert!(matches!(e, RequestError::Invalid(_)), "{e:?}");
    }
    p.disconnect();
    request_refused(&mut p.a, "add_htlc", |c| try_add(c, 1_000_000, 600, ONION));
    // After the peer's shutdown.
    p.connect();
    let acts = p.b.chm().shutdown(None, FeeStep::default(), None).unwrap();
    p.b.apply(acts);
    p.settle();
    let e = request_refused(&mut p.a, "add_htlc", |c| try_add(c, 1_000_000, 600, ONION));
    assert!(matches!(e, RequestError::WrongState(_)), "{e:?}");
    assert!(p.a.outbox.is_empty());
}

#[test]
fn open_channel_with_more_than_all_bitcoin_fails() {
    // The msat arithmetic on such an amount would overflow.
    let why = open_refused(&OpenChannel {
        funding_satoshis: u64::MAX,
        ..open_msg()
    });
    assert!(why.contains("more than all bitcoin"), "{why}");
}

#[test]
fn restoring_a_record_with_another_channels_keys_is_refused() {
    let p = normal();
    let record = p.a.ch().record();
    let other = fulgur_keys::ChannelSecrets::from_seed(&[0x55; 32]).unwrap();
    let r = fulgur_channel::Channel::restore(
        &record,
        fulgur_channel::ChannelSigner::new(other),
        p.a.cfg.clone(),
    );
    assert!(
        matches!(r, Err(fulgur_channel::RestoreError::WrongKeys(_))),
        "{r:?}"
    );
}

#[test]
fn shutdown_with_an_inverted_feerange_is_refused() {
    let mut p = normal();
    let e = request_refused(&mut p.a, "shutdown", |c| {
        c.shutdown(None, fulgur_channel::FeeStep::default(), Some((5000, 1000)))
    });
    assert!(matches!(e, RequestError::Invalid(_)), "{e:?}");
}

#[test]
fn a_reserve_below_our_dust_limit_or_not_below_the_capacity_is_refused() {
    let a = Node::new("alice", 0xa1);
    let spec = OpenSpec::default();
    for reserve in [0, a.cfg.dust_limit_sat - 1, spec.funding_sat] {
        let mut req = open_request(&spec);
        req.reserve_sat = Some(reserve);
        assert!(
            OutboundOpen::new(ctx(&a, node_id(2)), req, [7; 32]).is_err(),
            "reserve {reserve} accepted"
        );
    }
    let mut req = open_request(&spec);
    req.reserve_sat = Some(a.cfg.dust_limit_sat);
    let (_, msg) = OutboundOpen::new(ctx(&a, node_id(2)), req, [7; 32]).unwrap();
    assert_eq!(msg.channel_reserve_satoshis, a.cfg.dust_limit_sat);
}
