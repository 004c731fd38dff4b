//! Two channel machines in one process: open, HTLCs both ways, fees, reconnections,
//! restarts and mutual close, all deterministic.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

mod common;

use common::*;
use fulgur_channel::{Action, ChannelState, ChannelType, CloseCause, FeeStep, HtlcState, Side};

#[test]
fn open_reaches_normal_with_the_right_balances() {
    for channel_type in [
        ChannelType::AnchorsZeroFeeHtlcTx,
        ChannelType::StaticRemoteKey,
    ] {
        let p = Pair::normal(OpenSpec {
            push_msat: 100_000_000,
            channel_type,
            ..OpenSpec::default()
        });
        assert_eq!(p.a.ch().balances_msat(), (900_000_000, 100_000_000));
        assert_eq!(p.b.ch().balances_msat(), (100_000_000, 900_000_000));
        assert_eq!(p.a.ch().channel_id(), p.b.ch().channel_id());
        assert!(p.a.events.contains(&Action::Ready));
        assert!(p.b.events.contains(&Action::Ready));
    }
}

#[test]
fn htlc_add_and_fulfill_both_ways() {
    let mut p = Pair::normal(OpenSpec {
        push_msat: 200_000_000,
        ..OpenSpec::default()
    });
    let pre = [1u8; 32];
    let id = p.add(true, 50_000_000, pre);
    p.settle();
    let inc = Pair::incoming(&mut p.b);
    assert_eq!(inc.len(), 1);
    assert_eq!(inc[0].id, id);
    assert_eq!(inc[0].amount_msat, 50_000_000);
    let acts = p.b.chm().fulfill_htlc(id, pre).unwrap();
    p.b.apply(acts);
    p.settle();
    assert!(p
        .a
        .events
        .iter()
        .any(|e| matches!(e, Action::OutgoingFulfilled { id: 0, preimage } if *preimage == pre)));
    assert_eq!(p.a.ch().balances_msat(), (750_000_000, 250_000_000));
    assert_eq!(p.b.ch().balances_msat(), (250_000_000, 750_000_000));
    assert_eq!(p.a.ch().htlcs().count(), 0);
    assert_eq!(p.b.ch().htlcs().count(), 0);

    // And back, with a failure this time.
    let id = p.add(false, 10_000_000, [2; 32]);
    p.settle();
    let inc = Pair::incoming(&mut p.a);
    assert_eq!(inc.len(), 1);
    let acts = p.a.chm().fail_htlc(id, vec![0xee; 300]).unwrap();
    p.a.apply(acts);
    p.settle();
    assert!(p
        .b
        .events
        .iter()
        .any(|e| matches!(e, Action::OutgoingFailed { id: 0, .. })));
    assert_eq!(p.a.ch().balances_msat(), (750_000_000, 250_000_000));
}

#[test]
fn many_htlcs_in_flight_at_once_settle_consistently() {
    let mut p = Pair::normal(OpenSpec {
        push_msat: 400_000_000,
        ..OpenSpec::default()
    });
    let mut a_ids = Vec::new();
    let mut b_ids = Vec::new();
    for i in 0..10u8 {
        a_ids.push((p.add(true, 1_000_000 + u64::from(i) * 1000, [i; 32]), i));
        b_ids.push((p.add(false, 2_000_000, [100 + i; 32]), 100 + i));
        // Interleave deliveries so that commitments cross.
        p.deliver_one(true);
        p.deliver_one(false);
    }
    p.settle();
    assert_eq!(Pair::incoming(&mut p.b).len(), 10);
    assert_eq!(Pair::incoming(&mut p.a).len(), 10);
    for (id, i) in &a_ids {
        let acts = if i % 2 == 0 {
            p.b.chm().fulfill_htlc(*id, [*i; 32]).unwrap()
        } else {
            p.b.chm().fail_htlc(*id, vec![1; 32]).unwrap()
        };
        p.b.apply(acts);
        p.deliver_one(false);
    }
    for (id, i) in &b_ids {
        let acts = p.a.chm().fulfill_htlc(*id, [*i; 32]).unwrap();
        p.a.apply(acts);
        p.deliver_one(true);
    }
    p.settle();
    // a paid 5 HTLCs (even i) and received 10 × 2,000,000.
    let paid: u64 = (0..10u64)
        .filter(|i| i % 2 == 0)
        .map(|i| 1_000_000 + i * 1000)
        .sum();
    let a_bal = 600_000_000 - paid + 20_000_000;
    assert_eq!(p.a.ch().balances_msat(), (a_bal, 1_000_000_000 - a_bal));
    assert_eq!(p.b.ch().balances_msat(), (1_000_000_000 - a_bal, a_bal));
    assert_eq!(p.a.ch().htlcs().count() + p.b.ch().htlcs().count(), 0);
}

#[test]
fn update_fee_is_committed_by_both() {
    let mut p = Pair::normal(OpenSpec::default());
    let acts = p.a.chm().update_fee(5000).unwrap();
    p.a.apply(acts);
    p.settle();
    assert_eq!(p.a.ch().feerate_per_kw(), 5000);
    assert_eq!(p.b.ch().feerate_per_kw(), 5000);
    assert!(
        p.b.chm().update_fee(6000).is_err(),
        "only the opener sends update_fee"
    );
}

#[test]
fn mutual_close_from_either_side_agrees_and_pays_both() {
    for a_closes in [true, false] {
        let mut p = Pair::normal(OpenSpec {
            push_msat: 300_000_000,
            ..OpenSpec::default()
        });
        let (closer, _) = p.side(a_closes);
        let acts = closer
            .chm()
            .shutdown(None, FeeStep::default(), None)
            .unwrap();
        closer.apply(acts);
        p.settle();
        assert_eq!(p.a.ch().state(), ChannelState::ClosingdComplete);
        assert_eq!(p.b.ch().state(), ChannelState::ClosingdComplete);
        let tx = p.a.broadcasts.last().unwrap().clone();
        assert_eq!(
            p.b.broadcasts.last().unwrap().compute_txid(),
            tx.compute_txid()
        );
        assert_eq!(
            tx.input[0].previous_output.txid,
            p.funding_tx.compute_txid()
        );
        let to_b = tx
            .output
            .iter()
            .find(|o| o.script_pubkey.as_bytes() == wallet_script(0xb0))
            .unwrap();
        assert_eq!(to_b.value.to_sat(), 300_000, "the non-opener pays no fee");
        let to_a = tx
            .output
            .iter()
            .find(|o| o.script_pubkey.as_bytes() == wallet_script(0xa1))
            .unwrap();
        assert!(to_a.value.to_sat() < 700_000 && to_a.value.to_sat() > 690_000);
        assert_eq!(tx.input[0].witness.len(), 4);
        // Who closed and why, as listclosedchannels reports it.
        let (closer, other) = if a_closes { (&p.a, &p.b) } else { (&p.b, &p.a) };
        assert_eq!(closer.ch().history().closer, Some(Side::Local));
        assert_eq!(closer.ch().history().cause, Some(CloseCause::User));
        assert_eq!(other.ch().history().closer, Some(Side::Remote));
        assert_eq!(other.ch().history().cause, Some(CloseCause::Remote));
        // Mined and buried: CLOSED, only from ONCHAIN.
        let acts = p.a.chm().resolved();
        assert!(acts.is_err(), "not ONCHAIN yet");
        let acts = p.a.chm().funding_spent(&tx);
        p.a.apply(acts);
        assert!(p.a.ch().history().mutual_close);
        assert_eq!(p.a.ch().history().spend_txid, Some(tx.compute_txid()));
        let acts = p.a.chm().resolved().unwrap();
        assert_eq!(acts[0], Action::Persist);
        p.a.apply(acts);
        assert_eq!(p.a.ch().state(), ChannelState::Closed);
        // The first cause stays: the funding spend does not replace it.
        let want = if a_closes {
            CloseCause::User
        } else {
            CloseCause::Remote
        };
        assert_eq!(p.a.ch().history().cause, Some(want));
    }
}

#[test]
fn history_keeps_the_extremes_of_our_balance() {
    let mut p = Pair::normal(OpenSpec {
        push_msat: 100_000_000,
        ..OpenSpec::default()
    });
    assert_eq!(p.b.ch().history().min_to_us_msat, Some(100_000_000));
    // Bob is offered 50_000_000: his most counts it while in flight; Alice's least drops.
    let id = p.add(true, 50_000_000, [9; 32]);
    p.settle();
    Pair::incoming(&mut p.b);
    assert_eq!(p.b.ch().history().max_to_us_msat, Some(150_000_000));
    assert_eq!(p.a.ch().history().min_to_us_msat, Some(850_000_000));
    // Failed back: Alice's balance returns, her least stays.
    let acts = p.b.chm().fail_htlc(id, vec![0; 32]).unwrap();
    p.b.apply(acts);
    p.settle();
    assert_eq!(p.a.ch().balances_msat().0, 900_000_000);
    assert_eq!(p.a.ch().history().min_to_us_msat, Some(850_000_000));
    assert_eq!(p.a.ch().history().max_to_us_msat, Some(900_000_000));
    assert_eq!(p.b.ch().history().min_to_us_msat, Some(100_000_000));
    // A peer's error: they closed it.
    let acts = p.a.chm().peer_failed();
    p.a.apply(acts);
    assert_eq!(p.a.ch().state(), ChannelState::AwaitingUnilateral);
    // Our commitment is mined: not a mutual close.
    let commitment = p.a.broadcasts.last().unwrap().clone();
    let acts = p.a.chm().funding_spent(&commitment);
    p.a.apply(acts);
    assert!(!p.a.ch().history().mutual_close);
    assert_eq!(p.a.ch().history().closer, Some(Side::Remote));
    assert_eq!(p.a.ch().history().cause, Some(CloseCause::Remote));
}

#[test]
fn close_waits_for_htlcs_to_clear() {
    let mut p = Pair::normal(OpenSpec::default());
    let id = p.add(true, 5_000_000, [3; 32]);
    p.settle();
    Pair::incoming(&mut p.b);
    let acts = p.b.chm().shutdown(None, FeeStep::default(), None).unwrap();
    p.b.apply(acts);
    p.settle();
    assert_eq!(p.a.ch().state(), ChannelState::ChanneldShuttingDown);
    assert!(p
        .a
        .chm()
        .add_htlc(1000, [0; 32], 500, vec![0; ONION], None)
        .is_err());
    let acts = p.b.chm().fulfill_htlc(id, [3; 32]).unwrap();
    p.b.apply(acts);
    p.settle();
    assert_eq!(p.a.ch().state(), ChannelState::ClosingdComplete);
    assert_eq!(p.b.ch().state(), ChannelState::ClosingdComplete);
}

#[test]
fn fee_ranges_that_overlap_settle_in_the_overlap() {
    // Bob (accepter) wants a higher fee floor than Alice's first proposal; with fee_range
    // they settle in the overlap.
    let mut p = Pair::normal(OpenSpec::default());
    p.a.chm().set_close_feerates(fulgur_channel::CloseFeerates {
        desired: 1000,
        min: 500,
        max: 3000,
    });
    p.b.chm().set_close_feerates(fulgur_channel::CloseFeerates {
        desired: 2000,
        min: 1500,
        max: 4000,
    });
    let acts =
        p.a.chm()
            .shutdown(None, FeeStep::Percent(50), None)
            .unwrap();
    p.a.apply(acts);
    p.settle();
    assert_eq!(p.a.ch().state(), ChannelState::ClosingdComplete);
    let tx = p.a.broadcasts.last().unwrap();
    let out: u64 = tx.output.iter().map(|o| o.value.to_sat()).sum();
    let fee = 1_000_000 - out;
    assert!(fee > 0);
    // At least Bob's floor (1500 sat/kw, with a little slack for the weight estimate).
    assert!(fee * 1000 >= 1400 * tx.weight().to_wu(), "fee {fee}");
}

/// Runs an add+fulfill round from Alice to Bob, delivering one message at a time, and calls
/// `interrupt` once after `cut` messages were delivered (if the round has that many). Bob
/// fulfills as soon as the HTLC is irrevocably his. Returns the pair once all settled, with
/// whether the HTLC was fulfilled.
fn htlc_round_cut_after(cut: usize, interrupt: impl Fn(&mut Pair)) -> (Pair, bool) {
    let mut p = Pair::normal(OpenSpec {
        push_msat: 100_000_000,
        ..OpenSpec::default()
    });
    let id = p.add(true, 7_000_000, [5; 32]);
    let mut delivered = 0;
    let mut interrupted = false;
    let mut fulfilled = false;
    loop {
        if !interrupted && delivered == cut {
            interrupt(&mut p);
            interrupted = true;
        }
        let moved = p.deliver_one(true) | p.deliver_one(false);
        if moved {
            delivered += 1;
        }
        let incoming = Pair::incoming(&mut p.b);
        if !fulfilled
            && (!incoming.is_empty()
                || p.b
                    .ch()
                    .htlcs()
                    .any(|h| h.state == HtlcState::RcvdAddAckRevocation))
        {
            let acts = p.b.chm().fulfill_htlc(id, [5; 32]).unwrap();
            p.b.apply(acts);
            fulfilled = true;
            continue;
        }
        if !moved && (fulfilled || delivered > cut) {
            break;
        }
    }
    p.settle();
    (p, fulfilled)
}

#[test]
fn reconnect_at_every_point_of_an_htlc_exchange_loses_nothing() {
    for cut in 0..20 {
        let (p, fulfilled) = htlc_round_cut_after(cut, |p| {
            p.disconnect();
            p.connect();
        });
        assert!(fulfilled, "cut {cut}: HTLC never arrived");
        assert_eq!(
            p.a.ch().balances_msat(),
            (893_000_000, 107_000_000),
            "cut {cut}"
        );
        assert_eq!(
            p.b.ch().balances_msat(),
            (107_000_000, 893_000_000),
            "cut {cut}"
        );
        assert_eq!(
            p.a.ch().htlcs().count() + p.b.ch().htlcs().count(),
            0,
            "cut {cut}"
        );
    }
}

#[test]
fn restart_at_every_point_of_an_htlc_exchange_loses_nothing() {
    for restart_b in [false, true] {
        for cut in 0..20 {
            let (p, fulfilled) = htlc_round_cut_after(cut, |p| {
                p.disconnect();
                if restart_b {
                    p.b.restart()
                } else {
                    p.a.restart()
                }
                p.connect();
            });
            assert!(fulfilled, "cut {cut}: HTLC never arrived");
            assert_eq!(
                p.a.ch().balances_msat(),
                (893_000_000, 107_000_000),
                "cut {cut} restart_b {restart_b}"
            );
            assert_eq!(
                p.b.ch().balances_msat(),
                (107_000_000, 893_000_000),
                "cut {cut} restart_b {restart_b}"
            );
        }
    }
}

#[test]
fn restart_before_channel_ready_resends_it() {
    let mut p = Pair::open(OpenSpec::default());
    p.connect();
    p.confirm(3);
    p.disconnect();
    p.a.restart();
    p.b.restart();
    p.connect();
    assert_eq!(p.a.ch().state(), ChannelState::ChanneldNormal);
    let id = p.add(true, 1_000_000, [8; 32]);
    p.settle();
    assert_eq!(Pair::incoming(&mut p.b)[0].id, id);
}

#[test]
fn records_round_trip() {
    let mut p = Pair::normal(OpenSpec::default());
    p.add(true, 3_000_000, [4; 32]);
    p.settle();
    let rec = p.a.ch().record();
    p.a.restart();
    assert_eq!(p.a.ch().record(), rec);
}

#[test]
fn an_unfunded_channel_is_abandoned_only_by_its_funder_before_the_funding_is_seen() {
    use fulgur_wire::Message;
    // The accepter may not abandon a channel the peer funded.
    let mut p = Pair::open(OpenSpec::default());
    assert!(p.b.chm().abandon_unfunded("no").is_err());
    assert_eq!(p.b.ch().state(), ChannelState::ChanneldAwaitingLockin);
    // The funder may, before the funding is seen: stored CLOSED first, then the error.
    let acts = p.a.chm().abandon_unfunded("funding failed").unwrap();
    assert_eq!(acts[0], Action::Persist);
    assert!(acts.iter().any(|a| matches!(
        a,
        Action::Send(Message::Error(e)) if e.data == b"funding failed" && e.channel_id == p.a.ch().channel_id()
    )));
    p.a.apply(acts);
    assert_eq!(p.a.ch().state(), ChannelState::Closed);
    assert!(p.a.ch().history().funding_withheld);
    // A second time, or once the funding is seen, it is refused.
    assert!(p.a.chm().abandon_unfunded("again").is_err());
    let mut q = Pair::open(OpenSpec::default());
    q.connect();
    q.confirm(1);
    assert!(q.a.chm().abandon_unfunded("late").is_err());
    assert_ne!(q.a.ch().state(), ChannelState::Closed);
}

#[test]
fn reorgs_unconfirm_the_funding_and_the_spend() {
    let mut p = Pair::normal(OpenSpec::default());
    assert!(p.a.ch().data().short_channel_id.is_some());
    // The funding's block is gone: depth and short channel id are forgotten, and stored.
    let acts = p.a.chm().funding_reorged();
    assert_eq!(acts, vec![Action::Persist]);
    assert_eq!(p.a.ch().data().short_channel_id, None);
    assert_eq!(p.a.ch().data().funding_depth, 0);
    assert!(
        p.a.chm().funding_reorged().is_empty(),
        "nothing more to forget"
    );
    // A mutual close is mined, then reorganised away, and our commitment is mined instead.
    let commitment = p.a.ch().signed_local_commitment().unwrap();
    let acts = p.a.chm().shutdown(None, FeeStep::default(), None).unwrap();
    p.a.apply(acts);
    p.settle();
    let close = p.a.broadcasts.last().unwrap().clone();
    let acts = p.a.chm().funding_spent(&close);
    p.a.apply(acts);
    assert!(p.a.ch().history().mutual_close);
    assert_eq!(p.a.chm().spend_reorged(), vec![Action::Persist]);
    assert_eq!(p.a.ch().history().spend_txid, None);
    let acts = p.a.chm().funding_spent(&commitment);
    assert_eq!(acts, vec![Action::Persist]);
    assert!(
        !p.a.ch().history().mutual_close,
        "a commitment is not a mutual close"
    );
    assert_eq!(
        p.a.ch().history().spend_txid,
        Some(commitment.compute_txid())
    );
    assert_eq!(p.a.ch().state(), ChannelState::Onchain);
}

#[test]
fn held_commits_send_many_updates_under_one_commitment() {
    use fulgur_wire::Message;
    let mut p = Pair::normal(OpenSpec::default());
    p.a.chm().hold_commits(true);
    let mut ids = Vec::new();
    for i in 0..3u8 {
        ids.push((p.add(true, 2_000_000, [i + 10; 32]), [i + 10; 32]));
    }
    assert!(p.a.outbox.is_empty(), "held: nothing sent yet");
    assert!(p.a.stored.is_some());
    let acts = p.a.chm().commit().unwrap();
    assert_eq!(acts[0], Action::Persist);
    p.a.apply(acts);
    let kinds: Vec<&str> = p.a.outbox.iter().map(Message::name).collect();
    assert_eq!(
        kinds,
        [
            "update_add_htlc",
            "update_add_htlc",
            "update_add_htlc",
            "commitment_signed"
        ]
    );
    p.a.chm().hold_commits(false);
    p.settle();
    assert_eq!(Pair::incoming(&mut p.b).len(), 3);
    // The other way: three fulfills, one commitment.
    p.b.chm().hold_commits(true);
    for (id, pre) in &ids {
        let acts = p.b.chm().fulfill_htlc(*id, *pre).unwrap();
        p.b.apply(acts);
    }
    assert!(p.b.outbox.is_empty());
    let acts = p.b.chm().commit().unwrap();
    p.b.apply(acts);
    assert_eq!(
        p.b.outbox
            .iter()
            .filter(|m| m.name() == "commitment_signed")
            .count(),
        1
    );
    p.settle();
    assert_eq!(p.a.ch().balances_msat(), (994_000_000, 6_000_000));
    assert_eq!(p.a.ch().htlcs().count(), 0);
    // Nothing queued: commit sends nothing.
    assert!(p.b.chm().commit().unwrap().is_empty());
}

#[test]
fn an_unfunded_channel_the_peer_opened_is_forgotten_only_while_unseen() {
    use fulgur_wire::Message;
    let mut p = Pair::open(OpenSpec::default());
    // The funder may not forget: it abandons.
    assert!(p.a.chm().forget_unfunded("no").is_err());
    // The fundee may, also after the peer failed the channel.
    let acts = p.b.chm().peer_failed();
    p.b.apply(acts);
    assert_eq!(p.b.ch().state(), ChannelState::AwaitingUnilateral);
    let acts =
        p.b.chm()
            .forget_unfunded("funding never confirmed")
            .unwrap();
    assert_eq!(acts[0], Action::Persist);
    assert!(acts
        .iter()
        .any(|a| matches!(a, Action::Send(Message::Error(_)))));
    p.b.apply(acts);
    assert_eq!(p.b.ch().state(), ChannelState::Closed);
    assert_eq!(p.b.ch().history().cause, Some(CloseCause::Remote));
    // Once the funding is seen, never.
    let mut q = Pair::open(OpenSpec::default());
    q.connect();
    q.confirm(1);
    assert!(q.b.chm().forget_unfunded("late").is_err());
}
