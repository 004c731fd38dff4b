//! Fuzz-style property test: two honest channel machines driven by arbitrary interleavings
//! of HTLC adds (dust-sized too), fulfills and fails, fee updates, single message
//! deliveries, reconnections and restarts from the stored record. An honest peer's message
//! must never be rejected, every view of every commitment must account for the whole
//! funding, and once everything is settled both sides must agree on balances that moved by
//! exactly the fulfilled amounts.
//!
//! `PROPTEST_CASES=1000 cargo test -p fulgur-channel --test interleavings` runs more cases.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

mod common;

use std::collections::HashMap;

use common::*;
use fulgur_channel::{ChannelState, ChannelType, FeeStep, HtlcState};
use fulgur_wire::Message;
use proptest::prelude::*;

#[derive(Clone, Debug)]
enum Op {
    /// A (or B) offers an HTLC.
    Add { from_a: bool, amount_msat: u64 },
    /// A (or B) settles the `pick`-th incoming HTLC that is ready to be removed.
    Resolve {
        by_a: bool,
        pick: usize,
        fulfill: bool,
    },
    /// The opener (A) changes the fee rate.
    Fee { feerate: u32 },
    /// One message is delivered.
    Deliver { a_to_b: bool },
    /// The connection drops (messages in flight are lost) and comes back.
    Reconnect,
    /// A (or B) crashes and restarts from its stored record; the connection drops.
    Restart { a: bool },
    /// A (or B) starts a mutual close; the HTLCs in flight are cleared first.
    Shutdown { by_a: bool },
    /// A (or B) holds (or releases) its commitments for its own requests.
    Hold { a: bool, hold: bool },
    /// A (or B) sends what its requests queued under one commitment.
    Commit { a: bool },
}

fn amount() -> impl Strategy<Value = u64> {
    prop_oneof![
        // Trimmed on one or both commitments at most fee rates.
        3 => 1u64..700_000,
        // Around the trimming thresholds.
        3 => 700_000u64..8_000_000,
        2 => 8_000_000u64..80_000_000,
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        20 => (any::<bool>(), amount()).prop_map(|(from_a, amount_msat)| Op::Add { from_a, amount_msat }),
        15 => (any::<bool>(), 0usize..8, any::<bool>())
            .prop_map(|(by_a, pick, fulfill)| Op::Resolve { by_a, pick, fulfill }),
        5 => prop_oneof![253u32..3000, 3000u32..20_000].prop_map(|feerate| Op::Fee { feerate }),
        50 => any::<bool>().prop_map(|a_to_b| Op::Deliver { a_to_b }),
        5 => Just(Op::Reconnect),
        5 => any::<bool>().prop_map(|a| Op::Restart { a }),
        // Rare: most cases keep the channel open to the end.
        1 => any::<bool>().prop_map(|by_a| Op::Shutdown { by_a }),
        4 => (any::<bool>(), any::<bool>()).prop_map(|(a, hold)| Op::Hold { a, hold }),
        6 => any::<bool>().prop_map(|a| Op::Commit { a }),
    ]
}

/// What the test knows independently of the machines.
struct Model {
    /// Payment hash to preimage.
    preimages: HashMap<[u8; 32], [u8; 32]>,
    next_preimage: u64,
    /// HTLCs A offered that B fulfilled, in total.
    fulfilled_a_to_b: u64,
    /// HTLCs B offered that A fulfilled, in total.
    fulfilled_b_to_a: u64,
}

fn node(p: &mut Pair, a: bool) -> &mut Node {
    if a {
        &mut p.a
    } else {
        &mut p.b
    }
}

fn check_all(p: &Pair) -> Result<(), String> {
    check_views(p.a.ch()).map_err(|e| format!("alice: {e}"))?;
    check_views(p.b.ch()).map_err(|e| format!("bob: {e}"))
}

fn restart(p: &mut Pair, a: bool) {
    p.disconnect();
    node(p, a).restart();
    let acts = p.a.chm().connected();
    p.a.apply(acts);
    let acts = p.b.chm().connected();
    p.b.apply(acts);
}

/// Settles an incoming HTLC of `by_a`'s side; returns whether one was ready.
fn resolve(
    p: &mut Pair,
    m: &mut Model,
    by_a: bool,
    pick: usize,
    fulfill: bool,
) -> Result<bool, String> {
    let n = node(p, by_a);
    let ready: Vec<(u64, u64, [u8; 32])> = n
        .ch()
        .htlcs()
        .filter(|h| h.state == HtlcState::RcvdAddAckRevocation && h.removal.is_none())
        .map(|h| (h.id, h.amount_msat, h.payment_hash))
        .collect();
    if ready.is_empty() {
        return Ok(false);
    }
    let (id, amount, hash) = ready[pick % ready.len()];
    let res = if fulfill {
        let preimage = m.preimages[&hash];
        n.chm().fulfill_htlc(id, preimage)
    } else {
        n.chm().fail_htlc(id, vec![0x55; 40])
    };
    let acts = res.map_err(|e| format!("{}: settling ready HTLC {id} refused: {e}", n.name))?;
    n.apply(acts);
    if fulfill {
        if by_a {
            m.fulfilled_b_to_a += amount;
        } else {
            m.fulfilled_a_to_b += amount;
        }
    }
    Ok(true)
}

fn step(p: &mut Pair, m: &mut Model, op: &Op) -> Result<(), String> {
    match *op {
        Op::Add {
            from_a,
            amount_msat,
        } => {
            m.next_preimage += 1;
            let mut preimage = [0u8; 32];
            preimage[..8].copy_from_slice(&m.next_preimage.to_be_bytes());
            let hash = sha256(&preimage);
            m.preimages.insert(hash, preimage);
            let n = node(p, from_a);
            let before = n.ch().record();
            match n
                .chm()
                .add_htlc(amount_msat, hash, 600, vec![0u8; ONION], None)
            {
                Ok((_, acts)) => n.apply(acts),
                Err(_) => {
                    if n.ch().record() != before {
                        return Err(format!("{}: refused add_htlc changed the record", n.name));
                    }
                }
            }
        }
        Op::Resolve {
            by_a,
            pick,
            fulfill,
        } => {
            resolve(p, m, by_a, pick, fulfill)?;
        }
        Op::Fee { feerate } => {
            let before = p.a.ch().record();
            match p.a.chm().update_fee(feerate) {
                Ok(acts) => p.a.apply(acts),
                Err(_) => {
                    if p.a.ch().record() != before {
                        return Err("alice: refused update_fee changed the record".into());
                    }
                }
            }
        }
        Op::Deliver { a_to_b } => {
            p.try_deliver_one(a_to_b)?;
        }
        Op::Reconnect => p.reconnect_undelivered(),
        Op::Restart { a } => restart(p, a),
        Op::Hold { a, hold } => node(p, a).chm().hold_commits(hold),
        Op::Commit { a } => commit(node(p, a))?,
        Op::Shutdown { by_a } => {
            let n = node(p, by_a);
            let before = n.ch().record();
            match n.chm().shutdown(None, FeeStep::default(), None) {
                Ok(acts) => n.apply(acts),
                Err(_) => {
                    if n.ch().record() != before {
                        return Err(format!("{}: refused shutdown changed the record", n.name));
                    }
                }
            }
        }
    }
    Ok(())
}

fn commit(n: &mut Node) -> Result<(), String> {
    let acts = n
        .chm()
        .commit()
        .map_err(|e| format!("{}: commit refused: {e}", n.name))?;
    n.apply(acts);
    Ok(())
}

fn finish(p: &mut Pair, m: &mut Model) -> Result<(), String> {
    // Whatever was held goes out now.
    for a in [true, false] {
        node(p, a).chm().hold_commits(false);
        commit(node(p, a))?;
    }
    p.reconnect_undelivered();
    p.try_settle()?;
    check_all(p)?;
    let mut fulfill = true;
    for round in 0.. {
        if round > 50 {
            return Err("HTLCs are stuck".into());
        }
        let mut any = false;
        for by_a in [true, false] {
            while resolve(p, m, by_a, 0, fulfill)? {
                fulfill = !fulfill;
                any = true;
            }
        }
        p.try_settle()?;
        check_all(p)?;
        if !any {
            break;
        }
    }
    let (a, b) = (p.a.ch(), p.b.ch());
    for ch in [a, b] {
        // A channel whose mutual close completed is no longer live.
        if !ch.is_live() && ch.state() != ChannelState::ClosingdComplete {
            return Err(format!("not live after settling: {:?}", ch.state()));
        }
    }
    let left: Vec<_> = a
        .htlcs()
        .chain(b.htlcs())
        .map(|h| (h.id, h.state))
        .collect();
    if !left.is_empty() {
        return Err(format!("HTLCs left after settling: {left:?}"));
    }
    let (a_ours, a_theirs) = a.balances_msat();
    let (b_ours, b_theirs) = b.balances_msat();
    if (a_ours, a_theirs) != (b_theirs, b_ours) {
        return Err(format!(
            "balances disagree: alice ({a_ours}, {a_theirs}), bob ({b_ours}, {b_theirs})"
        ));
    }
    let push = a.setup().push_msat;
    let expected_a = a.setup().funding_sat * 1000 - push - m.fulfilled_a_to_b + m.fulfilled_b_to_a;
    if a_ours != expected_a {
        return Err(format!(
            "alice has {a_ours}msat but the fulfilled HTLCs leave her {expected_a}msat"
        ));
    }
    if a.feerate_per_kw() != b.feerate_per_kw() {
        return Err(format!(
            "fee rates disagree: {} and {}",
            a.feerate_per_kw(),
            b.feerate_per_kw()
        ));
    }
    Ok(())
}

/// The channel and policy of one case.
#[derive(Clone, Debug)]
struct Params {
    channel_type: ChannelType,
    funding_sat: u64,
    push_msat: u64,
    feerate: u32,
    /// Both nodes' `max_dust_htlc_exposure_msat`.
    max_dust_msat: u64,
    /// Both nodes' `max_accepted_htlcs`.
    max_accepted: u16,
    /// Both nodes' `max_htlc_value_in_flight_msat`.
    max_in_flight_msat: u64,
    /// Both nodes' `htlc_minimum_msat`.
    htlc_minimum_msat: u64,
    /// Who starts the mutual close at the end.
    closer_a: bool,
}

fn params() -> impl Strategy<Value = Params> {
    (
        any::<bool>(),
        prop_oneof![Just(1_000_000u64), Just(200_000u64)],
        0u64..=50,
        prop_oneof![Just(253u32), Just(2500u32), Just(8000u32)],
        prop_oneof![Just(50_000_000u64), Just(5_000_000u64)],
        prop_oneof![Just(30u16), Just(5u16)],
        prop_oneof![Just(u64::MAX), Just(120_000_000u64)],
        prop_oneof![Just(0u64), Just(1000u64)],
        any::<bool>(),
    )
        .prop_map(
            |(
                anchors,
                funding_sat,
                push_percent,
                feerate,
                max_dust_msat,
                max_accepted,
                max_in_flight_msat,
                htlc_minimum_msat,
                closer_a,
            )| Params {
                channel_type: if anchors {
                    ChannelType::AnchorsZeroFeeHtlcTx
                } else {
                    ChannelType::StaticRemoteKey
                },
                funding_sat,
                push_msat: funding_sat * 10 * push_percent,
                feerate,
                max_dust_msat,
                max_accepted,
                max_in_flight_msat,
                htlc_minimum_msat,
                closer_a,
            },
        )
}

fn run(params: &Params, ops: &[Op]) -> Result<(), String> {
    let mut a = Node::new("alice", 0xa1);
    let mut b = Node::new("bob", 0xb0);
    for n in [&mut a, &mut b] {
        n.cfg.max_dust_htlc_exposure_msat = params.max_dust_msat;
        n.cfg.max_accepted_htlcs = params.max_accepted;
        n.cfg.max_htlc_value_in_flight_msat = params.max_in_flight_msat;
        n.cfg.htlc_minimum_msat = params.htlc_minimum_msat;
    }
    let mut p = Pair::open_with(
        a,
        b,
        OpenSpec {
            funding_sat: params.funding_sat,
            push_msat: params.push_msat,
            feerate: params.feerate,
            channel_type: params.channel_type,
        },
    );
    p.connect();
    p.confirm(3);
    let mut m = Model {
        preimages: HashMap::new(),
        next_preimage: 0,
        fulfilled_a_to_b: 0,
        fulfilled_b_to_a: 0,
    };
    for (i, op) in ops.iter().enumerate() {
        step(&mut p, &mut m, op)
            .and_then(|()| check_all(&p))
            .map_err(|e| format!("after op {i} ({op:?}): {e}"))?;
    }
    finish(&mut p, &mut m).map_err(|e| format!("at the end: {e}"))?;
    close(&mut p, params.closer_a).map_err(|e| format!("closing: {e}"))
}

/// A mutual close from the settled channel: both sides sign the same transaction, which
/// pays the accepter its balance and the opener its balance less the fee.
fn close(p: &mut Pair, closer_a: bool) -> Result<(), String> {
    let (a_msat, b_msat) = p.a.ch().balances_msat();
    // Unless a shutdown during the run already closed it.
    let n = node(p, closer_a);
    if n.ch().state() == ChannelState::ChanneldNormal {
        let acts = n
            .chm()
            .shutdown(None, FeeStep::default(), None)
            .map_err(|e| format!("{}: shutdown refused: {e}", n.name))?;
        n.apply(acts);
        p.try_settle()?;
    }
    for n in [&p.a, &p.b] {
        if n.ch().state() != ChannelState::ClosingdComplete {
            return Err(format!("{} is {:?}", n.name, n.ch().state()));
        }
    }
    let (Some(tx), Some(tx_b)) = (
        p.a.ch().closing_transaction(),
        p.b.ch().closing_transaction(),
    ) else {
        return Err("no closing transaction".into());
    };
    if tx.compute_txid() != tx_b.compute_txid() {
        return Err("the sides closed with different transactions".into());
    }
    let paid = |script: Vec<u8>| {
        tx.output
            .iter()
            .filter(|o| o.script_pubkey.as_bytes() == script)
            .map(|o| o.value.to_sat())
            .sum::<u64>()
    };
    let (to_a, to_b) = (paid(wallet_script(0xa1)), paid(wallet_script(0xb0)));
    let dust = p.b.ch().setup().local.dust_limit_sat;
    let expected_b = if b_msat / 1000 >= dust {
        b_msat / 1000
    } else {
        0
    };
    if to_b != expected_b {
        return Err(format!("bob gets {to_b} sat, not {expected_b}"));
    }
    let total: u64 = tx.output.iter().map(|o| o.value.to_sat()).sum();
    if to_a + to_b != total || to_a > a_msat / 1000 {
        return Err(format!("alice gets {to_a} sat of her {a_msat} msat"));
    }
    Ok(())
}

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(64)
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: cases(),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn honest_peers_never_disagree(
        params in params(),
        ops in prop::collection::vec(op(), 1..60),
    ) {
        if let Err(e) = run(&params, &ops) {
            prop_assert!(false, "{params:?}: {e}");
        }
    }
}

fn base_params() -> Params {
    Params {
        channel_type: ChannelType::StaticRemoteKey,
        funding_sat: 200_000,
        push_msat: 80_000_000,
        feerate: 253,
        max_dust_msat: 50_000_000,
        max_accepted: 30,
        max_in_flight_msat: u64::MAX,
        htlc_minimum_msat: 0,
        closer_a: true,
    }
}

#[test]
fn regression_fee_down_then_up() {
    let ops = [
        Op::Fee { feerate: 10263 },
        Op::Add {
            from_a: true,
            amount_msat: 17184382,
        },
        Op::Add {
            from_a: true,
            amount_msat: 4838235,
        },
        Op::Fee { feerate: 253 },
        Op::Add {
            from_a: true,
            amount_msat: 6290594,
        },
        Op::Add {
            from_a: true,
            amount_msat: 78726790,
        },
    ];
    run(&base_params(), &ops).unwrap();
}

/// The accepter queues many HTLCs while the opener, unaware of them, offers one that leaves
/// it just its fee spike buffer. Both are honest: neither may reject the other's adds.
#[test]
fn concurrent_adds_near_the_openers_limit() {
    let mut p = Pair::normal(OpenSpec {
        funding_sat: 200_000,
        push_msat: 20_000_000,
        feerate: 8000,
        channel_type: ChannelType::AnchorsZeroFeeHtlcTx,
    });
    for i in 0..10u8 {
        p.add(false, 1_000_000, [i; 32]);
    }
    // Alice's largest HTLC that keeps twice the fee of her commitment with it.
    let mut amount = 180_000_000;
    let id = loop {
        let r =
            p.a.chm()
                .add_htlc(amount, [0xaa; 32], 600, vec![0; ONION], None);
        if let Ok((id, acts)) = r {
            p.a.apply(acts);
            break id;
        }
        amount -= 100_000;
    };
    assert_eq!(id, 0);
    p.try_settle().unwrap();
    assert_eq!(p.a.ch().htlcs().count(), 11);
    assert_eq!(p.b.ch().htlcs().count(), 11);
}

/// The connection drops (or a side restarts) at each point of a mutual close: the
/// negotiation starts again on reconnection and completes.
#[test]
fn reconnect_or_restart_during_mutual_close_completes() {
    for restart in [None, Some(true), Some(false)] {
        for closer_a in [true, false] {
            for cut in 0..8 {
                let mut p = Pair::normal(OpenSpec {
                    push_msat: 300_000_000,
                    ..OpenSpec::default()
                });
                let n = node(&mut p, closer_a);
                let acts = n.chm().shutdown(None, FeeStep::default(), None).unwrap();
                n.apply(acts);
                // Deliver `cut` messages, one at a time, alternating when both sides have some.
                for i in 0..cut {
                    let a_to_b = !p.a.outbox.is_empty() && (i % 2 == 0 || p.b.outbox.is_empty());
                    p.try_deliver_one(a_to_b).unwrap();
                }
                match restart {
                    None => p.reconnect_undelivered(),
                    Some(a) => self::restart(&mut p, a),
                }
                let ctx = format!("restart {restart:?} closer_a {closer_a} cut {cut}");
                p.try_settle().map_err(|e| format!("{ctx}: {e}")).unwrap();
                for n in [&p.a, &p.b] {
                    assert_eq!(
                        n.ch().state(),
                        ChannelState::ClosingdComplete,
                        "{ctx}: {}",
                        n.name
                    );
                }
                assert_eq!(
                    p.a.ch().closing_transaction().map(|t| t.compute_txid()),
                    p.b.ch().closing_transaction().map(|t| t.compute_txid()),
                    "{ctx}"
                );
            }
        }
    }
}

/// The opener raises the fee while the accepter, unaware, offers an HTLC that the new rate
/// trims: the accepter judged its add at the old rate, the opener its fee without the add.
#[test]
fn regression_fee_update_crossing_a_soon_trimmed_htlc() {
    let params = Params {
        funding_sat: 1_000_000,
        push_msat: 70_000_000,
        max_dust_msat: 5_000_000,
        ..base_params()
    };
    let ops = [
        Op::Fee { feerate: 8359 },
        Op::Add {
            from_a: false,
            amount_msat: 5_000_001,
        },
    ];
    run(&params, &ops).unwrap();
}

/// HTLCs offered by the peer cross our `shutdown`: they were legitimate when sent.
#[test]
fn regression_adds_crossing_our_shutdown() {
    let params = Params {
        funding_sat: 1_000_000,
        push_msat: 20_000_000,
        ..base_params()
    };
    let ops = [
        Op::Shutdown { by_a: true },
        Op::Add {
            from_a: false,
            amount_msat: 1,
        },
        Op::Add {
            from_a: false,
            amount_msat: 1,
        },
        Op::Deliver { a_to_b: false },
        Op::Deliver { a_to_b: true },
        Op::Deliver { a_to_b: false },
    ];
    run(&params, &ops).unwrap();
}

/// The opener sends `shutdown`, the peer answers and the channel is clean: no fee update
/// may follow (the peer is negotiating the close).
#[test]
fn regression_no_fee_update_after_our_shutdown() {
    let ops = [
        Op::Shutdown { by_a: true },
        Op::Deliver { a_to_b: true },
        Op::Fee { feerate: 253 },
    ];
    run(&base_params(), &ops).unwrap();
}

/// The peer's `shutdown` arrives while an add of ours waits for a revocation to be sent:
/// our `shutdown` waits for it (no `update_add_htlc` may follow a `shutdown`).
#[test]
fn shutdown_waits_for_our_queued_adds() {
    let mut p = Pair::normal(OpenSpec {
        push_msat: 300_000_000,
        ..OpenSpec::default()
    });
    p.add(true, 5_000_000, [1; 32]);
    p.add(true, 6_000_000, [2; 32]);
    assert_eq!(
        p.a.outbox.len(),
        2,
        "the second add waits for the revocation"
    );
    let acts = p.b.chm().shutdown(None, FeeStep::default(), None).unwrap();
    p.b.apply(acts);
    p.try_deliver_one(false).unwrap();
    assert!(
        !p.a.outbox.iter().any(|m| matches!(m, Message::Shutdown(_))),
        "shutdown sent before a queued add"
    );
    p.try_settle().unwrap();
    assert!(p.a.ch().data().closing.local_shutdown_sent);
    assert_eq!(p.b.ch().htlcs().count(), 2);
    for (id, pre) in [(0, [1; 32]), (1, [2; 32])] {
        let acts = p.b.chm().fulfill_htlc(id, pre).unwrap();
        p.b.apply(acts);
    }
    p.try_settle().unwrap();
    assert_eq!(p.a.ch().state(), ChannelState::ClosingdComplete);
    assert_eq!(p.b.ch().state(), ChannelState::ClosingdComplete);
    assert_eq!(p.b.ch().balances_msat().0, 311_000_000);
}
