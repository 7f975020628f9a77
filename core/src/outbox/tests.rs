//! One test per rule of the outbox.

use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;
use wasm_bindgen_test::wasm_bindgen_test;

use super::sim::{decisions, drain, event, subscription, Store, RESOURCE};
use super::*;

const T0: UnixTime = UnixTime::from_millis(1_735_725_600_000);

fn at(ms: i64) -> UnixTime {
    T0.plus_millis(ms)
}

fn actions(o: &mut Outbox) -> Vec<Action> {
    core::iter::from_fn(|| o.poll_action()).collect()
}

fn changes(o: &mut Outbox) -> Vec<Change> {
    actions(o)
        .into_iter()
        .filter_map(|a| match a {
            Action::Persist(c) => Some(c),
            _ => None,
        })
        .collect()
}

/// An outbox with validated subscriptions `ids` of consumers `/org/{org}`.
fn with_subs(subs: &[(i64, &str)]) -> Outbox {
    let mut o = Outbox::new();
    for (id, org) in subs {
        o.handle_subscription(subscription(*id, org, true));
    }
    actions(&mut o);
    o
}

fn publish(o: &mut Outbox, now: UnixTime, id: &str) -> Option<PartyId> {
    o.handle_published(now, &event(id, None), Stored::New, true, None)
}

fn oid(n: i64) -> OutboxId {
    OutboxId(n)
}

/// Subscription ids from plain numbers, so the tables stay readable.
fn sid(n: i64) -> SubscriptionId {
    SubscriptionId(n)
}

fn sids(ns: &[i64]) -> Vec<SubscriptionId> {
    ns.iter().copied().map(SubscriptionId).collect()
}

/// The only change is entry 1's first back-off, of a second.
fn assert_first_backoff(o: &mut Outbox) {
    assert_eq!(
        changes(o),
        vec![Change::Backoff {
            oid: oid(1),
            attempts: 1,
            next_at: at(1_000)
        }]
    );
}

fn trace(activity: Activity, event_id: &str, target: Option<(i64, &str)>) -> Change {
    Change::Trace {
        activity,
        event_id: event_id.into(),
        event_type: "sim.created".into(),
        target: target.map(|(s, c)| (sid(s), c.to_string())),
        at: T0,
    }
}

#[wasm_bindgen_test(unsupported = test)]
fn a_published_event_is_matched_at_once_and_its_entry_names_the_targets() {
    let mut o = with_subs(&[(3, "a"), (1, "b")]);
    assert_eq!(publish(&mut o, T0, "e1"), None);
    let e = event("e1", None);
    assert_eq!(
        actions(&mut o),
        vec![
            Action::Persist(trace(Activity::Registered, "e1", None)),
            Action::Persist(Change::Queued {
                oid: oid(1),
                event: Box::new(e),
                targets: sids(&[1, 3]),
                at: T0
            }),
            Action::SetAlarm(T0),
        ]
    );
    assert_eq!(o.len(), 1);
}

#[wasm_bindgen_test(unsupported = test)]
fn only_validated_subscriptions_match_and_a_validation_is_kept() {
    let mut o = Outbox::new();
    o.handle_subscription(subscription(1, "a", false));
    publish(&mut o, T0, "e1");
    assert!(!changes(&mut o)
        .iter()
        .any(|c| matches!(c, Change::Queued { .. })));
    o.handle_subscription_validated(sid(1));
    assert_eq!(changes(&mut o), vec![Change::SubscriptionValidated(sid(1))]);
    // A repeated create (validated: false) does not undo the validation.
    o.handle_subscription(subscription(1, "a", false));
    assert_eq!(
        changes(&mut o),
        vec![Change::Subscription {
            subscription: Box::new(subscription(1, "a", false)),
            validated: true
        }]
    );
    publish(&mut o, T0, "e2");
    assert_eq!(o.len(), 1);
}

#[wasm_bindgen_test(unsupported = test)]
fn a_repeat_does_nothing_and_an_event_not_kept_is_only_fanned_out() {
    let mut o = with_subs(&[(1, "a")]);
    let e = event("e1", Some(5));
    assert_eq!(o.handle_published(T0, &e, Stored::Repeat, true, None), None);
    assert_eq!(actions(&mut o), vec![]);
    assert_eq!(
        o.handle_published(T0, &e, Stored::NotKept, true, None),
        None
    );
    let c = changes(&mut o);
    assert_eq!(c.len(), 1);
    assert!(matches!(c[0], Change::Queued { .. }));
    assert_eq!(o.party_len(), 0);
    // Stored without fan-out (POST /storage/events): registered, indexed, not sent.
    assert_eq!(
        o.handle_published(T0, &event("e2", Some(5)), Stored::New, false, None),
        Some(PartyId(5))
    );
    let c = changes(&mut o);
    assert!(matches!(
        c[1],
        Change::PartyQueued {
            party: PartyId(5),
            ..
        }
    ));
    assert_eq!(c.len(), 2);
    assert_eq!(o.len(), 1);
}

#[wasm_bindgen_test(unsupported = test)]
fn party_index_entries_are_sent_in_order_and_retried_after_a_failure() {
    let mut o = Outbox::new();
    let party = PartyId(5);
    for (i, id) in ["e1", "e2"].iter().enumerate() {
        assert_eq!(
            o.handle_published(at(i as i64), &event(id, Some(5)), Stored::New, true, None),
            Some(party)
        );
    }
    o.handle_published(T0, &event("e3", Some(6)), Stored::New, true, None);
    actions(&mut o);
    assert_eq!(o.next_party_entry(party, None), Some(oid(1)));
    assert_eq!(o.next_party_entry(party, Some(oid(1))), Some(oid(2)));
    assert_eq!(o.next_party_entry(party, Some(oid(2))), None);
    o.handle_indexed(at(10), oid(1), true);
    assert_eq!(
        actions(&mut o),
        vec![Action::Persist(Change::PartyIndexed(oid(1)))]
    );
    o.handle_indexed(at(20), oid(2), false);
    assert_eq!(
        actions(&mut o),
        vec![Action::SetAlarm(at(20 + PARTY_RETRY_MS))]
    );
    // The alarm sends what is left, oldest first.
    o.handle_alarm(at(2_000));
    assert_eq!(
        o.poll_transmit(at(2_000)),
        Some(Transmit::Index { oid: oid(2), party })
    );
    assert_eq!(o.poll_transmit(at(2_000)), None, "one call at a time");
    o.handle_indexed(at(2_000), oid(2), true);
    assert_eq!(
        o.poll_transmit(at(2_000)),
        Some(Transmit::Index {
            oid: oid(3),
            party: PartyId(6)
        })
    );
    // A failure leaves the rest to the next run.
    o.handle_indexed(at(2_000), oid(3), false);
    assert_eq!(o.poll_transmit(at(2_000)), None);
    assert_eq!(
        actions(&mut o),
        vec![
            Action::Persist(Change::PartyIndexed(oid(2))),
            Action::SetAlarm(at(2_000 + PARTY_RUN_RETRY_MS)),
        ]
    );
}

#[wasm_bindgen_test(unsupported = test)]
fn a_run_authorizes_the_consumers_then_hands_off_to_the_permitted() {
    let mut o = with_subs(&[(1, "a"), (2, "deny"), (3, "a")]);
    publish(&mut o, T0, "e1");
    actions(&mut o);
    o.handle_alarm(T0);
    let Some(Transmit::Authorize {
        oid: o1,
        event,
        filter,
    }) = o.poll_transmit(T0)
    else {
        panic!("no authorization asked");
    };
    assert_eq!((o1, event.id.as_str()), (oid(1), "e1"));
    assert_eq!(
        filter.consumers(),
        ["/org/a".to_string(), "/org/deny".into()]
    );
    o.handle_decisions(T0, o1, Ok(decisions(&filter, |org| org != "deny")));
    assert_eq!(
        o.poll_transmit(T0),
        Some(Transmit::HandOff {
            oid: oid(1),
            events: vec![Handed {
                oid: oid(1),
                key: format!("{RESOURCE}#1"),
                event: event.clone(),
                to: sids(&[1, 3]),
            }],
            subscriptions: sids(&[1, 3]),
        })
    );
    o.handle_handed_off(T0, oid(1), &[HandOff::Queued, HandOff::Gone]);
    assert_eq!(o.poll_transmit(T0), None);
    assert_eq!(
        actions(&mut o),
        vec![
            Action::Persist(trace(Activity::OutboundQueue, "e1", Some((1, "/org/a")))),
            Action::Persist(trace(Activity::Unauthorized, "e1", Some((2, "/org/deny")))),
            Action::Persist(trace(Activity::OutboundQueue, "e1", Some((3, "/org/a")))),
            Action::Persist(Change::Progress {
                oid: oid(1),
                progress: 3
            }),
            Action::Persist(Change::Done(oid(1))),
        ]
    );
    assert!(o.is_empty());
}

#[wasm_bindgen_test(unsupported = test)]
fn targets_are_handed_off_a_chunk_at_a_time_with_progress_after_each() {
    let subs: Vec<(i64, &str)> = (1..=30).map(|i| (i, "a")).collect();
    let mut o = with_subs(&subs);
    publish(&mut o, T0, "e1");
    actions(&mut o);
    o.handle_alarm(T0);
    let Some(Transmit::Authorize { filter, .. }) = o.poll_transmit(T0) else {
        panic!()
    };
    o.handle_decisions(T0, oid(1), Ok(decisions(&filter, |_| true)));
    let Some(Transmit::HandOff { subscriptions, .. }) = o.poll_transmit(T0) else {
        panic!()
    };
    assert_eq!(subscriptions.len(), HAND_OFF_CHUNK);
    o.handle_handed_off(T0, oid(1), &vec![HandOff::Queued; HAND_OFF_CHUNK]);
    let c = changes(&mut o);
    assert_eq!(
        c.last(),
        Some(&Change::Progress {
            oid: oid(1),
            progress: HAND_OFF_CHUNK
        })
    );
    let Some(Transmit::HandOff { subscriptions, .. }) = o.poll_transmit(T0) else {
        panic!()
    };
    assert_eq!(subscriptions, sids(&[26, 27, 28, 29, 30]));
}

#[wasm_bindgen_test(unsupported = test)]
fn a_failure_backs_off_and_nothing_overtakes_the_head() {
    let mut o = with_subs(&[(1, "a")]);
    publish(&mut o, T0, "e1");
    publish(&mut o, T0, "e2");
    actions(&mut o);
    let mut now = T0;
    for (attempt, wait) in [(1, 1_000), (2, 2_000), (3, 4_000), (7, 64_000), (8, 64_000)] {
        while o.head_attempts() + 1 < attempt {
            o.handle_alarm(now);
            let Some(Transmit::Authorize { oid, .. }) = o.poll_transmit(now) else {
                panic!()
            };
            o.handle_decisions(now, oid, Err("PDP down".into()));
            now = o.poll_timeout().unwrap();
            actions(&mut o);
        }
        o.handle_alarm(now);
        let Some(Transmit::Authorize { oid: head, .. }) = o.poll_transmit(now) else {
            panic!()
        };
        assert_eq!(head, oid(1));
        o.handle_decisions(now, head, Err("PDP down".into()));
        assert_eq!(o.poll_transmit(now), None, "the run ends at a failure");
        assert_eq!(
            actions(&mut o),
            vec![
                Action::Persist(Change::Backoff {
                    oid: oid(1),
                    attempts: attempt,
                    next_at: now.plus_millis(wait)
                }),
                Action::SetAlarm(now.plus_millis(wait)),
            ]
        );
        // Not due yet: the run does nothing.
        o.handle_alarm(now);
        assert_eq!(o.poll_transmit(now), None);
        actions(&mut o);
        now = now.plus_millis(wait);
    }
}

#[wasm_bindgen_test(unsupported = test)]
fn a_failed_hand_off_retries_the_chunk_and_a_gone_subscription_counts_as_done() {
    let mut o = with_subs(&[(1, "a"), (2, "a")]);
    publish(&mut o, T0, "e1");
    actions(&mut o);
    o.handle_alarm(T0);
    let Some(Transmit::Authorize { filter, .. }) = o.poll_transmit(T0) else {
        panic!()
    };
    o.handle_decisions(T0, oid(1), Ok(decisions(&filter, |_| true)));
    o.poll_transmit(T0);
    o.handle_handed_off(
        T0,
        oid(1),
        &[HandOff::Queued, HandOff::Failed("503".into())],
    );
    assert_first_backoff(&mut o);
    // The next run asks again and sends the whole chunk again (a repeat is harmless).
    o.handle_alarm(at(1_000));
    let Some(Transmit::Authorize { filter, .. }) = o.poll_transmit(at(1_000)) else {
        panic!()
    };
    o.handle_decisions(at(1_000), oid(1), Ok(decisions(&filter, |_| true)));
    let Some(Transmit::HandOff { subscriptions, .. }) = o.poll_transmit(at(1_000)) else {
        panic!()
    };
    assert_eq!(subscriptions, sids(&[1, 2]));
}

#[wasm_bindgen_test(unsupported = test)]
fn a_deleted_subscription_is_handed_nothing_more() {
    let mut o = with_subs(&[(1, "a"), (2, "b")]);
    publish(&mut o, T0, "e1");
    o.handle_subscription_deleted(sid(2));
    assert_eq!(
        changes(&mut o).last(),
        Some(&Change::SubscriptionDeleted(sid(2)))
    );
    o.handle_alarm(T0);
    let Some(Transmit::Authorize { filter, .. }) = o.poll_transmit(T0) else {
        panic!()
    };
    assert_eq!(filter.consumers(), ["/org/a".to_string()]);
    o.handle_decisions(T0, oid(1), Ok(decisions(&filter, |_| true)));
    // Deleted while the PDP was asked: still nothing.
    o.handle_subscription_deleted(sid(1));
    assert_eq!(o.poll_transmit(T0), None);
    assert!(o.is_empty());
    // An entry whose targets are all gone is done without asking anyone.
    let mut o = with_subs(&[(1, "a")]);
    publish(&mut o, T0, "e1");
    o.handle_subscription_deleted(sid(1));
    o.handle_alarm(T0);
    assert_eq!(o.poll_transmit(T0), None);
    assert!(changes(&mut o).contains(&Change::Done(oid(1))));
}

#[wasm_bindgen_test(unsupported = test)]
fn a_run_yields_after_its_budget_and_continues_at_once() {
    // Fan-outs too large to be grouped: a call per subscription and event.
    let subs: Vec<(i64, &str)> = (1..=2 * HAND_OFF_CHUNK as i64).map(|i| (i, "a")).collect();
    let mut o = with_subs(&subs);
    let events = MAX_ENQUEUES_PER_RUN / (2 * HAND_OFF_CHUNK) + 1;
    for i in 0..events {
        publish(&mut o, T0, &format!("e{i}"));
    }
    actions(&mut o);
    o.handle_alarm(T0);
    let mut handed = 0;
    while let Some(t) = o.poll_transmit(T0) {
        match t {
            Transmit::Authorize { oid, filter, .. } => {
                o.handle_decisions(T0, oid, Ok(decisions(&filter, |_| true)))
            }
            Transmit::HandOff {
                oid, subscriptions, ..
            } => {
                handed += subscriptions.len();
                o.handle_handed_off(T0, oid, &vec![HandOff::Queued; subscriptions.len()]);
            }
            Transmit::Index { .. } => panic!(),
        }
    }
    assert_eq!(handed, MAX_ENQUEUES_PER_RUN);
    assert_eq!(o.len(), 1);
    assert_eq!(actions(&mut o).last(), Some(&Action::SetAlarm(T0)));
}

#[wasm_bindgen_test(unsupported = test)]
fn a_run_starts_no_new_work_after_its_slice_and_continues_at_once() {
    let subs: Vec<(i64, &str)> = (1..=3 * HAND_OFF_CHUNK as i64).map(|i| (i, "a")).collect();
    let mut o = with_subs(&subs);
    publish(&mut o, T0, "e1");
    actions(&mut o);
    o.handle_alarm(T0);
    let Some(Transmit::Authorize {
        oid: first, filter, ..
    }) = o.poll_transmit(T0)
    else {
        panic!("the run starts by authorizing");
    };
    o.handle_decisions(T0, first, Ok(decisions(&filter, |_| true)));
    // One chunk goes out within the slice; the call that ends after it is still taken in.
    let Some(Transmit::HandOff { subscriptions, .. }) = o.poll_transmit(at(RUN_SLICE_MS - 1))
    else {
        panic!("a hand-off within the slice");
    };
    assert_eq!(subscriptions.len(), HAND_OFF_CHUNK);
    let late = at(RUN_SLICE_MS + 30);
    o.handle_handed_off(late, first, &vec![HandOff::Queued; HAND_OFF_CHUNK]);
    assert_eq!(o.poll_transmit(late), None, "the slice is spent");
    let wished = actions(&mut o);
    assert!(wished.contains(&Action::Persist(Change::Progress {
        oid: first,
        progress: HAND_OFF_CHUNK
    })));
    assert_eq!(wished.last(), Some(&Action::SetAlarm(T0)), "at once");
    // The next run carries on where this one stopped, with the same decision.
    o.handle_alarm(late);
    let Some(Transmit::HandOff { subscriptions, .. }) = o.poll_transmit(late) else {
        panic!("the next chunk");
    };
    assert_eq!(
        subscriptions,
        (HAND_OFF_CHUNK as i64 + 1..=2 * HAND_OFF_CHUNK as i64)
            .map(sid)
            .collect::<Vec<_>>()
    );
}

#[wasm_bindgen_test(unsupported = test)]
fn a_run_works_at_most_its_number_of_entries() {
    let mut o = with_subs(&[(1, "a")]);
    for i in 0..MAX_ENTRIES_PER_RUN + 1 {
        publish(&mut o, T0, &format!("e{i}"));
    }
    o.handle_subscription_deleted(sid(1));
    actions(&mut o);
    o.handle_alarm(T0);
    assert_eq!(o.poll_transmit(T0), None);
    assert_eq!(o.len(), 1);
    assert_eq!(actions(&mut o).last(), Some(&Action::SetAlarm(T0)));
}

#[wasm_bindgen_test(unsupported = test)]
fn the_stored_rows_rebuild_the_outbox_and_ids_are_never_given_out_twice() {
    let mut store = Store::default();
    let mut o = with_subs(&[(1, "a"), (2, "b")]);
    o.handle_subscription(subscription(1, "a", true));
    o.handle_subscription(subscription(2, "b", true));
    publish(&mut o, T0, "e1");
    o.handle_published(T0, &event("e2", Some(5)), Stored::New, true, None);
    drain(&mut o, &mut store);
    // The rows of entry 1 are gone (done), the sequence remembers it.
    store.outbox.remove(&oid(1));
    let mut rebuilt = store.restore();
    assert_eq!(rebuilt.len(), 1);
    assert_eq!(rebuilt.party_len(), 1);
    // The party entry left over gets an alarm at once.
    assert_eq!(
        actions(&mut rebuilt),
        vec![Action::SetAlarm(UnixTime::from_millis(0))]
    );
    publish(&mut rebuilt, T0, "e3");
    let queued = changes(&mut rebuilt).into_iter().find_map(|c| match c {
        Change::Queued { oid, .. } => Some(oid),
        _ => None,
    });
    assert_eq!(queued, Some(oid(3)));
}

#[wasm_bindgen_test(unsupported = test)]
fn a_corrupt_row_is_an_error() {
    let entry = |targets: &str, progress: i64| StoredEntry {
        oid: 4,
        id: "e".into(),
        source: "s".into(),
        subject: None,
        type_: "t".into(),
        resource_instance: None,
        resource: RESOURCE.into(),
        targets: targets.into(),
        progress,
        attempts: 0,
        next_at: 0,
    };
    let restore = |e: StoredEntry| Outbox::restore(vec![], vec![e], vec![], 0, 0).map(|_| ());
    assert!(restore(entry("1,2", 2)).is_ok());
    assert!(restore(entry("", 0)).is_ok());
    let err = restore(entry("1,x", 0)).unwrap_err();
    assert_eq!((err.table, err.key), ("outbox", 4));
    assert!(restore(entry("1,2", 3)).is_err());
    assert!(restore(entry("1", -1)).is_err());
    let sub = |json: String, validated| StoredSubscription {
        id: 1,
        subscription: json,
        validated,
    };
    let good = serde_json::to_string(&subscription(1, "a", true)).unwrap();
    assert!(Outbox::restore(vec![sub(good.clone(), 1)], vec![], vec![], 0, 0).is_ok());
    assert!(Outbox::restore(vec![sub(good, 2)], vec![], vec![], 0, 0).is_err());
    assert!(Outbox::restore(vec![sub("{".into(), 1)], vec![], vec![], 0, 0).is_err());
}

#[wasm_bindgen_test(unsupported = test)]
fn back_off_doubles_up_to_a_minute() {
    let waits: Vec<i64> = (0..9).map(backoff_ms).collect();
    assert_eq!(
        waits,
        vec![1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 64_000, 64_000, 64_000]
    );
}

impl Outbox {
    fn head_attempts(&self) -> u32 {
        self.entries.front().map_or(0, |e| e.attempts)
    }
}

#[wasm_bindgen_test(unsupported = test)]
fn a_replay_queues_the_event_for_that_subscription_only_if_it_matches_now() {
    let mut o = with_subs(&[(3, "a"), (1, "b")]);
    let e = event("e1", None);
    assert!(o.handle_replay(T0, sid(3), &e, None));
    assert_eq!(
        actions(&mut o),
        vec![
            Action::Persist(Change::Queued {
                oid: oid(1),
                event: Box::new(e.clone()),
                targets: sids(&[3]),
                at: T0,
            }),
            Action::SetAlarm(T0),
        ]
    );
    // No trace row and no party-index entry: the event was registered when it was published.
    // A subscription that is gone (or never matched) gets nothing.
    o.handle_subscription_deleted(sid(3));
    actions(&mut o);
    assert!(!o.handle_replay(T0, sid(3), &e, None));
    assert!(!o.handle_replay(T0, sid(99), &e, None));
    assert_eq!(changes(&mut o), vec![]);
    assert_eq!(o.len(), 1);
}

/// Run the authorizations of an alarm run (everyone permitted) up to its first hand-off.
fn authorize_until_hand_off(o: &mut Outbox, now: UnixTime) -> (Vec<OutboxId>, Transmit) {
    let mut asked = Vec::new();
    loop {
        match o.poll_transmit(now) {
            Some(Transmit::Authorize { oid, filter, .. }) => {
                asked.push(oid);
                o.handle_decisions(now, oid, Ok(decisions(&filter, |org| org != "deny")));
            }
            Some(t @ Transmit::HandOff { .. }) => return (asked, t),
            other => panic!("expected a hand-off, got {other:?}"),
        }
    }
}

#[wasm_bindgen_test(unsupported = test)]
fn a_backlog_of_small_fan_outs_goes_out_in_one_hand_off_each_subscription_its_share_in_order() {
    let mut o = with_subs(&[(1, "a"), (2, "b"), (3, "deny")]);
    for i in 1..=3 {
        publish(&mut o, T0, &format!("e{i}"));
    }
    // Subscription 1 is deleted before the run, so no event reaches it.
    o.handle_subscription_deleted(sid(1));
    publish(&mut o, T0, "e4");
    actions(&mut o);
    o.handle_alarm(T0);
    let (asked, transmit) = authorize_until_hand_off(&mut o, T0);
    assert_eq!(
        asked,
        vec![oid(1), oid(2), oid(3), oid(4)],
        "one PDP call per event"
    );
    let Transmit::HandOff {
        oid: first,
        events,
        subscriptions,
    } = transmit
    else {
        unreachable!()
    };
    assert_eq!(first, oid(1));
    assert_eq!(subscriptions, sids(&[2]), "deleted and denied get nothing");
    let shares: Vec<(OutboxId, &str)> = Handed::for_subscription(&events, sid(2))
        .map(|h| (h.oid, h.event.id.as_str()))
        .collect();
    assert_eq!(
        shares,
        vec![
            (oid(1), "e1"),
            (oid(2), "e2"),
            (oid(3), "e3"),
            (oid(4), "e4")
        ]
    );
    assert_eq!(events[3].key, format!("{RESOURCE}#4"));
    o.handle_handed_off(T0, first, &[HandOff::Queued]);
    assert_eq!(o.poll_transmit(T0), None);
    let c = changes(&mut o);
    let done: Vec<&Change> = c.iter().filter(|c| matches!(c, Change::Done(_))).collect();
    assert_eq!(
        done,
        vec![
            &Change::Done(oid(1)),
            &Change::Done(oid(2)),
            &Change::Done(oid(3)),
            &Change::Done(oid(4))
        ]
    );
    assert!(c.contains(&trace(Activity::Unauthorized, "e2", Some((3, "/org/deny")))));
    assert!(c.contains(&trace(Activity::OutboundQueue, "e4", Some((2, "/org/b")))));
    assert!(o.is_empty());
}

#[wasm_bindgen_test(unsupported = test)]
fn a_group_stops_at_its_event_limit_and_at_an_entry_too_large_to_share_a_hand_off() {
    let mut o = with_subs(&[(1, "a")]);
    for i in 0..HAND_OFF_EVENTS + 1 {
        publish(&mut o, T0, &format!("e{i}"));
    }
    actions(&mut o);
    o.handle_alarm(T0);
    let (_, Transmit::HandOff { events, .. }) = authorize_until_hand_off(&mut o, T0) else {
        unreachable!()
    };
    assert_eq!(events.len(), HAND_OFF_EVENTS);

    // A fan-out of more than a chunk is handed off alone, chunk by chunk.
    let subs: Vec<(i64, &str)> = (1..=HAND_OFF_CHUNK as i64 + 1).map(|i| (i, "a")).collect();
    let mut o = with_subs(&subs);
    publish(&mut o, T0, "small");
    o.handle_subscription(subscription(HAND_OFF_CHUNK as i64 + 2, "a", true));
    publish(&mut o, T0, "large");
    actions(&mut o);
    o.handle_alarm(T0);
    // The first event goes to 26 subscriptions: chunked, alone.
    let (
        _,
        Transmit::HandOff {
            events,
            subscriptions,
            ..
        },
    ) = authorize_until_hand_off(&mut o, T0)
    else {
        unreachable!()
    };
    assert_eq!((events.len(), subscriptions.len()), (1, HAND_OFF_CHUNK));
}

#[wasm_bindgen_test(unsupported = test)]
fn a_failed_group_backs_off_whole_and_a_pdp_failure_behind_the_head_ends_the_group_before_it() {
    let mut o = with_subs(&[(1, "a"), (2, "b")]);
    for i in 1..=3 {
        publish(&mut o, T0, &format!("e{i}"));
    }
    actions(&mut o);
    o.handle_alarm(T0);
    let (
        _,
        Transmit::HandOff {
            oid: first, events, ..
        },
    ) = authorize_until_hand_off(&mut o, T0)
    else {
        unreachable!()
    };
    assert_eq!(events.len(), 3);
    o.handle_handed_off(T0, first, &[HandOff::Queued, HandOff::Failed("503".into())]);
    assert_first_backoff(&mut o);
    assert_eq!(o.len(), 3, "nothing is done");

    // The PDP fails for the second entry: the first goes alone, the second is asked again as
    // the head (and its failure then backs off).
    let now = at(1_000);
    o.handle_alarm(now);
    let Some(Transmit::Authorize { oid: a, filter, .. }) = o.poll_transmit(now) else {
        panic!()
    };
    o.handle_decisions(now, a, Ok(decisions(&filter, |_| true)));
    let Some(Transmit::Authorize { oid: b, .. }) = o.poll_transmit(now) else {
        panic!()
    };
    assert_eq!((a, b), (oid(1), oid(2)));
    o.handle_decisions(now, b, Err("PDP down".into()));
    let Some(Transmit::HandOff {
        oid: first,
        events,
        subscriptions,
    }) = o.poll_transmit(now)
    else {
        panic!()
    };
    assert_eq!((first, events.len()), (oid(1), 1));
    o.handle_handed_off(now, first, &vec![HandOff::Queued; subscriptions.len()]);
    let Some(Transmit::Authorize { oid: again, .. }) = o.poll_transmit(now) else {
        panic!()
    };
    assert_eq!(again, oid(2));
    o.handle_decisions(now, again, Err("PDP down".into()));
    assert_eq!(o.poll_transmit(now), None);
    assert!(changes(&mut o).contains(&Change::Backoff {
        oid: oid(2),
        attempts: 1,
        next_at: now.plus_millis(1_000)
    }));
}
