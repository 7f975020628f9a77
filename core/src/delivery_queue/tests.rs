//! One test per transition of the delivery queue.

use alloc::boxed::Box;
use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;
use wasm_bindgen_test::wasm_bindgen_test;

use super::sim::{event, subscription, Store};
use super::*;
use crate::delivery::RetrySchedule;

const T0: UnixTime = UnixTime::from_millis(1_735_725_600_000);

fn at(ms: i64) -> UnixTime {
    T0.plus_millis(ms)
}

/// The queue's actions, without the attempt log and the endpoint's health (tested in
/// `control_tests`).
fn actions(q: &mut DeliveryQueue) -> Vec<Action> {
    all_actions(q)
        .into_iter()
        .filter(|a| !matches!(a, Action::Persist(Change::Attempt(_) | Change::Health(_))))
        .collect()
}

fn all_actions(q: &mut DeliveryQueue) -> Vec<Action> {
    core::iter::from_fn(|| q.poll_action()).collect()
}

fn changes(q: &mut DeliveryQueue) -> Vec<Change> {
    actions(q)
        .into_iter()
        .filter_map(|a| match a {
            Action::Persist(c) => Some(c),
            _ => None,
        })
        .collect()
}

/// A validated subscription with an empty queue, its alarm known to be unset.
fn started(delays: Vec<u32>) -> DeliveryQueue {
    let mut q = DeliveryQueue::new(RetrySchedule::new(delays));
    q.handle_subscribed(T0, subscription(true), event("v0", VALIDATION_EVENT_TYPE));
    assert!(q.handle_validated(T0));
    actions(&mut q);
    q
}

fn key(n: u32) -> String {
    format!("urn:altinn:resource:sim#{n}")
}

fn enqueue(q: &mut DeliveryQueue, now: UnixTime, n: u32) {
    assert_eq!(
        q.handle_enqueue(now, key(n), event(&format!("e{n}"), "sim.created")),
        Ok(true)
    );
}

#[wasm_bindgen_test(unsupported = test)]
fn subscribing_stores_the_subscription_and_queues_its_validation_event() {
    let mut q = DeliveryQueue::new(RetrySchedule::new(vec![1]));
    assert!(!q.is_live());
    q.handle_subscribed(T0, subscription(false), event("v1", VALIDATION_EVENT_TYPE));
    assert!(q.is_live());
    assert_eq!(
        actions(&mut q),
        vec![
            Action::Persist(Change::Subscription {
                subscription: Box::new(subscription(false)),
                deleted: false
            }),
            Action::Persist(Change::Enqueued {
                seq: Seq(1),
                key: "validate:v1".into(),
                event: event("v1", VALIDATION_EVENT_TYPE),
                at: T0
            }),
            Action::SetAlarm(T0),
        ]
    );
    // A repeated POST sends its own validation event; the same one again is a repeat.
    q.handle_subscribed(
        at(5),
        subscription(false),
        event("v2", VALIDATION_EVENT_TYPE),
    );
    q.handle_subscribed(
        at(6),
        subscription(false),
        event("v2", VALIDATION_EVENT_TYPE),
    );
    let c = changes(&mut q);
    assert_eq!(
        c.iter()
            .filter(|c| matches!(c, Change::Enqueued { .. }))
            .count(),
        1
    );
    assert_eq!(q.pending_len(), 2);
}

#[wasm_bindgen_test(unsupported = test)]
fn enqueue_is_idempotent_by_key_and_refused_without_a_live_subscription() {
    let mut q = DeliveryQueue::new(RetrySchedule::new(vec![]));
    assert_eq!(q.handle_enqueue(T0, key(1), event("e1", "a")), Err(Gone));
    assert!(actions(&mut q).is_empty());
    let mut q = started(vec![]);
    assert_eq!(q.handle_enqueue(T0, key(1), event("e1", "a")), Ok(true));
    assert_eq!(
        actions(&mut q),
        vec![
            Action::Persist(Change::Enqueued {
                seq: Seq(2),
                key: key(1),
                event: event("e1", "a"),
                at: T0
            }),
            Action::SetAlarm(T0),
        ]
    );
    assert_eq!(q.handle_enqueue(at(1), key(1), event("e1", "a")), Ok(false));
    assert!(actions(&mut q).is_empty());
    q.handle_deleted(at(2));
    assert_eq!(q.handle_enqueue(at(3), key(2), event("e2", "a")), Err(Gone));
}

#[wasm_bindgen_test(unsupported = test)]
fn a_run_posts_in_order_and_a_2xx_moves_on() {
    let mut q = started(vec![10]);
    enqueue(&mut q, T0, 1);
    enqueue(&mut q, T0, 2);
    actions(&mut q);
    assert_eq!(q.poll_transmit(T0), None, "no run before the alarm");
    q.handle_alarm(at(1));
    let t = q.poll_transmit(at(1));
    assert_eq!(
        t,
        Some(Transmit::Post {
            seq: Seq(2),
            attempt: 1
        })
    );
    assert_eq!(q.poll_transmit(at(1)), None, "one POST at a time");
    q.handle_outcome(at(2), Seq(2), Outcome::Answered(204));
    assert_eq!(
        changes(&mut q),
        vec![
            Change::Trace {
                seq: Seq(2),
                activity: Activity::WebhookPostResponse,
                status: 204,
                at: at(2)
            },
            Change::Delivered {
                seq: Seq(2),
                attempts: 1,
                at: at(2)
            },
        ]
    );
    assert_eq!(
        q.poll_transmit(at(2)),
        Some(Transmit::Post {
            seq: Seq(3),
            attempt: 1
        })
    );
    q.handle_outcome(at(3), Seq(3), Outcome::Answered(200));
    assert_eq!(q.poll_transmit(at(3)), None);
    assert_eq!(q.pending_len(), 0);
    // The fired alarm is gone and nothing is due: no alarm action.
    assert!(actions(&mut q)
        .iter()
        .all(|a| matches!(a, Action::Persist(_))));
    assert_eq!(q.poll_timeout(), None);
}

#[wasm_bindgen_test(unsupported = test)]
fn failures_retry_on_the_schedule_then_dead_letter_after_delays_plus_one() {
    let mut q = started(vec![1, 2]);
    enqueue(&mut q, T0, 1);
    enqueue(&mut q, T0, 2);
    actions(&mut q);
    q.handle_alarm(T0);
    assert_eq!(
        q.poll_transmit(T0),
        Some(Transmit::Post {
            seq: Seq(2),
            attempt: 1
        })
    );
    q.handle_outcome(at(10), Seq(2), Outcome::Answered(503));
    assert_eq!(
        q.poll_transmit(at(10)),
        None,
        "the head waits for its retry"
    );
    assert_eq!(
        actions(&mut q),
        vec![
            Action::Persist(Change::Trace {
                seq: Seq(2),
                activity: Activity::WebhookPostResponse,
                status: 503,
                at: at(10)
            }),
            Action::Persist(Change::Retry {
                seq: Seq(2),
                attempts: 1,
                next_at: at(1_010),
                last_status: Some(503),
                last_error: Some("endpoint answered 503".into())
            }),
            Action::SetAlarm(at(1_010)),
        ]
    );
    q.handle_alarm(at(1_010));
    assert_eq!(
        q.poll_transmit(at(1_010)),
        Some(Transmit::Post {
            seq: Seq(2),
            attempt: 2
        })
    );
    q.handle_outcome(at(4_010), Seq(2), Outcome::TimedOut(3));
    assert_eq!(
        changes(&mut q),
        vec![Change::Retry {
            seq: Seq(2),
            attempts: 2,
            next_at: at(6_010),
            last_status: None,
            last_error: Some("no response within 3 s".into())
        }],
        "no answer, no trace row"
    );
    assert_eq!(q.poll_transmit(at(4_010)), None);
    q.handle_alarm(at(6_010));
    assert_eq!(
        q.poll_transmit(at(6_010)),
        Some(Transmit::Post {
            seq: Seq(2),
            attempt: 3
        })
    );
    q.handle_outcome(
        at(6_020),
        Seq(2),
        Outcome::Failed("request failed: refused".into()),
    );
    assert_eq!(
        changes(&mut q),
        vec![Change::DeadLettered {
            seq: Seq(2),
            attempts: 3,
            at: at(6_020),
            last_status: None,
            last_error: Some("request failed: refused".into())
        }]
    );
    assert_eq!(q.dead_letter_count(), 1);
    // The queue moves on in the same run.
    assert_eq!(
        q.poll_transmit(at(6_020)),
        Some(Transmit::Post {
            seq: Seq(3),
            attempt: 1
        })
    );
}

#[wasm_bindgen_test(unsupported = test)]
fn without_delays_one_failure_is_a_dead_letter() {
    let mut q = started(vec![]);
    enqueue(&mut q, T0, 1);
    actions(&mut q);
    q.handle_alarm(T0);
    assert_eq!(
        q.poll_transmit(T0),
        Some(Transmit::Post {
            seq: Seq(2),
            attempt: 1
        })
    );
    q.handle_outcome(T0, Seq(2), Outcome::Answered(404));
    assert!(matches!(
        changes(&mut q).last(),
        Some(Change::DeadLettered {
            attempts: 1,
            last_status: Some(404),
            ..
        })
    ));
}

#[wasm_bindgen_test(unsupported = test)]
fn a_validation_event_answered_2xx_is_recorded_before_the_queue_moves_on() {
    let mut q = DeliveryQueue::new(RetrySchedule::new(vec![1]));
    q.handle_subscribed(T0, subscription(false), event("v1", VALIDATION_EVENT_TYPE));
    actions(&mut q);
    q.handle_alarm(T0);
    assert_eq!(
        q.poll_transmit(T0),
        Some(Transmit::Post {
            seq: Seq(1),
            attempt: 1
        })
    );
    q.handle_outcome(at(1), Seq(1), Outcome::Answered(500));
    assert!(matches!(
        changes(&mut q).first(),
        Some(Change::Trace {
            activity: Activity::EndpointValidationFailed,
            status: 500,
            ..
        })
    ));
    assert_eq!(q.poll_transmit(at(1)), None);
    q.handle_alarm(at(1_001));
    assert_eq!(
        q.poll_transmit(at(1_001)),
        Some(Transmit::Post {
            seq: Seq(1),
            attempt: 2
        })
    );
    q.handle_outcome(at(1_002), Seq(1), Outcome::Answered(200));
    assert_eq!(
        changes(&mut q),
        vec![
            Change::Trace {
                seq: Seq(1),
                activity: Activity::EndpointValidationSuccess,
                status: 200,
                at: at(1_002)
            },
            Change::ValidationAnswered { seq: Seq(1) },
        ]
    );
    assert_eq!(
        q.poll_transmit(at(1_002)),
        Some(Transmit::RecordValidation { seq: Seq(1) })
    );
    // The event log or the directory could not be reached: again in 2 s, without a new POST.
    q.handle_validation_recorded(at(1_003), Seq(1), false);
    assert_eq!(q.poll_transmit(at(1_003)), None);
    assert_eq!(actions(&mut q), vec![Action::SetAlarm(at(3_003))]);
    q.handle_alarm(at(3_003));
    assert_eq!(
        q.poll_transmit(at(3_003)),
        Some(Transmit::RecordValidation { seq: Seq(1) })
    );
    q.handle_validation_recorded(at(3_004), Seq(1), true);
    assert_eq!(
        changes(&mut q),
        vec![
            Change::Subscription {
                subscription: Box::new(subscription(true)),
                deleted: false
            },
            Change::Delivered {
                seq: Seq(1),
                attempts: 2,
                at: at(3_004)
            },
        ]
    );
    assert_eq!(q.subscription().map(|s| s.validated), Some(true));
}

#[wasm_bindgen_test(unsupported = test)]
fn put_validate_cancels_pending_validation_events_only() {
    let mut q = DeliveryQueue::new(RetrySchedule::new(vec![1]));
    q.handle_subscribed(T0, subscription(false), event("v1", VALIDATION_EVENT_TYPE));
    q.handle_subscribed(T0, subscription(false), event("v2", VALIDATION_EVENT_TYPE));
    actions(&mut q);
    q.handle_alarm(T0);
    assert_eq!(
        q.poll_transmit(T0),
        Some(Transmit::Post {
            seq: Seq(1),
            attempt: 1
        })
    );
    // Validated elsewhere while the first validation event is in flight.
    assert_eq!(q.handle_enqueue(T0, key(1), event("e1", "a")), Ok(true));
    assert!(q.handle_validated(at(1)));
    assert_eq!(
        changes(&mut q),
        vec![
            Change::Enqueued {
                seq: Seq(3),
                key: key(1),
                event: event("e1", "a"),
                at: T0
            },
            Change::Subscription {
                subscription: Box::new(subscription(true)),
                deleted: false
            },
            Change::Cancelled {
                seq: Seq(1),
                at: at(1)
            },
            Change::Cancelled {
                seq: Seq(2),
                at: at(1)
            },
        ]
    );
    // Its answer is only traced; the queue goes on with the event.
    q.handle_outcome(at(2), Seq(1), Outcome::Answered(200));
    assert!(matches!(changes(&mut q).as_slice(), [Change::Trace { .. }]));
    assert_eq!(
        q.poll_transmit(at(2)),
        Some(Transmit::Post {
            seq: Seq(3),
            attempt: 1
        })
    );
    // A cancelled key stays known.
    q.handle_subscribed(
        at(3),
        subscription(true),
        event("v1", VALIDATION_EVENT_TYPE),
    );
    assert_eq!(q.pending_len(), 1);
}

#[wasm_bindgen_test(unsupported = test)]
fn redelivered_dead_letters_go_to_the_end_with_fresh_attempts() {
    let mut q = started(vec![]);
    for n in 1..=3 {
        enqueue(&mut q, T0, n);
    }
    actions(&mut q);
    q.handle_alarm(T0);
    for (seq, outcome) in [(2, 500), (3, 200), (4, 500)] {
        assert!(q.poll_transmit(T0).is_some());
        q.handle_outcome(T0, Seq(seq), Outcome::Answered(outcome));
    }
    assert_eq!(q.poll_transmit(T0), None);
    assert_eq!(q.dead_letter_count(), 2);
    enqueue(&mut q, at(1), 4);
    actions(&mut q);
    assert_eq!(q.handle_redeliver(at(2)), Ok(2));
    assert_eq!(
        actions(&mut q),
        vec![
            Action::Persist(Change::Redelivered {
                dead: Seq(2),
                seq: Seq(6),
                key: format!("{}#redelivered:{}", key(1), at(2).as_millis()),
                at: at(2)
            }),
            Action::Persist(Change::Redelivered {
                dead: Seq(4),
                seq: Seq(7),
                key: format!("{}#redelivered:{}", key(3), at(2).as_millis()),
                at: at(2)
            }),
        ],
        "the alarm (for the pending event 4) is already set"
    );
    assert_eq!(q.dead_letter_count(), 0);
    q.handle_alarm(at(3));
    let order: Vec<_> = core::iter::from_fn(|| {
        let t = q.poll_transmit(at(3));
        if let Some(Transmit::Post { seq, .. }) = t {
            q.handle_outcome(at(3), seq, Outcome::Answered(200));
        }
        t
    })
    .collect();
    assert_eq!(
        order,
        vec![
            Transmit::Post {
                seq: Seq(5),
                attempt: 1
            },
            Transmit::Post {
                seq: Seq(6),
                attempt: 1
            },
            Transmit::Post {
                seq: Seq(7),
                attempt: 1
            },
        ]
    );
    assert_eq!(q.handle_redeliver(at(4)), Ok(0));
    q.handle_deleted(at(5));
    assert_eq!(q.handle_redeliver(at(6)), Err(Gone));
}

#[wasm_bindgen_test(unsupported = test)]
fn a_deleted_subscription_is_sent_nothing_more() {
    let mut q = started(vec![1]);
    enqueue(&mut q, T0, 1);
    enqueue(&mut q, T0, 2);
    actions(&mut q);
    q.handle_alarm(T0);
    assert_eq!(
        q.poll_transmit(T0),
        Some(Transmit::Post {
            seq: Seq(2),
            attempt: 1
        })
    );
    q.handle_deleted(at(1));
    assert_eq!(
        changes(&mut q),
        vec![
            Change::Subscription {
                subscription: Box::new(subscription(true)),
                deleted: true
            },
            Change::DroppedPending,
        ]
    );
    q.handle_outcome(at(2), Seq(2), Outcome::Answered(200));
    assert!(actions(&mut q).is_empty(), "not even a trace row");
    assert_eq!(q.poll_transmit(at(2)), None);
    assert_eq!(q.pending_len(), 0);
    assert_eq!(q.poll_timeout(), None);
    q.handle_alarm(at(3));
    assert_eq!(q.poll_transmit(at(3)), None);
    // Started again (the subscription re-created under the same id): live again.
    q.handle_subscribed(
        at(4),
        subscription(false),
        event("v9", VALIDATION_EVENT_TYPE),
    );
    assert!(q.is_live());
}

#[wasm_bindgen_test(unsupported = test)]
fn deleting_cancels_the_alarm() {
    let mut q = started(vec![]);
    enqueue(&mut q, T0, 1);
    assert_eq!(actions(&mut q).last(), Some(&Action::SetAlarm(T0)));
    q.handle_deleted(at(1));
    assert_eq!(actions(&mut q).last(), Some(&Action::CancelAlarm));
}

#[wasm_bindgen_test(unsupported = test)]
fn done_entries_are_forgotten_after_a_day() {
    let mut q = started(vec![]);
    enqueue(&mut q, T0, 1);
    q.handle_alarm(T0);
    q.poll_transmit(T0);
    q.handle_outcome(T0, Seq(2), Outcome::Answered(200));
    q.poll_transmit(T0);
    actions(&mut q);
    assert_eq!(q.handle_enqueue(at(1), key(1), event("e1", "a")), Ok(false));
    q.handle_alarm(at(KEEP_DONE_MS));
    assert!(changes(&mut q).is_empty(), "kept for a full day");
    q.poll_transmit(at(KEEP_DONE_MS));
    q.handle_alarm(at(KEEP_DONE_MS + 1));
    assert_eq!(changes(&mut q), vec![Change::Pruned { before: at(1) }]);
    q.poll_transmit(at(KEEP_DONE_MS + 1));
    assert_eq!(
        q.handle_enqueue(at(KEEP_DONE_MS + 2), key(1), event("e1", "a")),
        Ok(true)
    );
}

#[wasm_bindgen_test(unsupported = test)]
fn a_run_yields_after_its_budget() {
    let mut q = started(vec![]);
    for n in 1..=(MAX_ITEMS_PER_RUN + 1) {
        enqueue(&mut q, T0, n);
    }
    actions(&mut q);
    q.handle_alarm(T0);
    let mut sent = 0;
    while let Some(Transmit::Post { seq, .. }) = q.poll_transmit(T0) {
        q.handle_outcome(T0, seq, Outcome::Answered(200));
        sent += 1;
    }
    assert_eq!(sent, MAX_ITEMS_PER_RUN);
    assert_eq!(
        actions(&mut q).last(),
        Some(&Action::SetAlarm(T0)),
        "the next run at once"
    );
    // And by wall time.
    enqueue(&mut q, T0, 1_000);
    q.handle_alarm(T0);
    assert!(q.poll_transmit(T0).is_some());
    q.handle_outcome(at(MAX_RUN_MS + 1), Seq(102), Outcome::Answered(200));
    assert_eq!(q.poll_transmit(at(MAX_RUN_MS + 1)), None);
    assert_eq!(q.pending_len(), 1);
}

#[wasm_bindgen_test(unsupported = test)]
fn stale_reports_are_ignored() {
    let mut q = started(vec![]);
    enqueue(&mut q, T0, 1);
    actions(&mut q);
    q.handle_outcome(T0, Seq(2), Outcome::Answered(500));
    q.handle_validation_recorded(T0, Seq(2), true);
    assert!(actions(&mut q).is_empty());
    q.handle_alarm(T0);
    assert_eq!(
        q.poll_transmit(T0),
        Some(Transmit::Post {
            seq: Seq(2),
            attempt: 1
        })
    );
    q.handle_outcome(T0, Seq(99), Outcome::Answered(500));
    assert!(actions(&mut q).is_empty());
    assert_eq!(
        q.poll_transmit(T0),
        None,
        "still waiting for the report of seq 2"
    );
}

#[wasm_bindgen_test(unsupported = test)]
fn the_stored_rows_rebuild_the_same_machine() {
    let schedule = RetrySchedule::new(vec![5]);
    let mut q = DeliveryQueue::new(schedule.clone());
    let mut store = Store::default();
    let step = |q: &mut DeliveryQueue, store: &mut Store| {
        for a in all_actions(q) {
            store.apply(a).unwrap();
        }
        let restored = store.restore(&schedule).unwrap();
        assert_eq!(restored.model, q.model);
        assert_eq!(restored.poll_timeout(), q.poll_timeout());
    };
    q.handle_subscribed(T0, subscription(false), event("v1", VALIDATION_EVENT_TYPE));
    step(&mut q, &mut store);
    q.handle_alarm(T0);
    q.poll_transmit(T0);
    q.handle_outcome(T0, Seq(1), Outcome::Answered(200));
    step(&mut q, &mut store);
    // Restarted between the validation's 2xx and its record: the record, not a new POST.
    let mut q = store.restore(&schedule).unwrap();
    q.handle_alarm(at(1));
    assert_eq!(
        q.poll_transmit(at(1)),
        Some(Transmit::RecordValidation { seq: Seq(1) })
    );
    q.handle_validation_recorded(at(1), Seq(1), true);
    step(&mut q, &mut store);
    q.poll_transmit(at(1));
    enqueue(&mut q, at(2), 1);
    enqueue(&mut q, at(2), 2);
    step(&mut q, &mut store);
    q.handle_alarm(at(2));
    q.poll_transmit(at(2));
    q.handle_outcome(at(2), Seq(2), Outcome::Answered(500));
    step(&mut q, &mut store);
    // A pending retry survives a restart with its attempt count and time.
    let mut q = store.restore(&schedule).unwrap();
    assert_eq!(q.poll_timeout(), Some(at(5_002)));
    q.handle_alarm(at(5_002));
    assert_eq!(
        q.poll_transmit(at(5_002)),
        Some(Transmit::Post {
            seq: Seq(2),
            attempt: 2
        })
    );
    q.handle_outcome(at(5_002), Seq(2), Outcome::Answered(500));
    step(&mut q, &mut store);
    assert_eq!(q.dead_letter_count(), 1);
    assert_eq!(q.handle_redeliver(at(6_000)), Ok(1));
    step(&mut q, &mut store);
    q.handle_deleted(at(7_000));
    step(&mut q, &mut store);
    let restored = store.restore(&schedule).unwrap();
    assert!(!restored.is_live());
    assert_eq!(
        restored.next_seq, 3,
        "after the highest stored seq (pending ones dropped)"
    );
    // Numbers given out to rows that are gone since (retention, pruning) are not reused.
    assert_eq!(restored.clone().with_last_seq(9).next_seq, 10);
    assert_eq!(restored.with_last_seq(1).next_seq, 3);
}

#[wasm_bindgen_test(unsupported = test)]
fn a_corrupt_row_is_an_error() {
    let entry = StoredEntry {
        seq: 4,
        msg: 4,
        origin: "o".into(),
        event_type: "a".into(),
        state: 0,
        attempts: 0,
        next_at: 0,
        delivered: 0,
        finished: None,
    };
    let cases: Vec<(StoredEntry, &str)> = vec![
        (
            StoredEntry {
                state: 3,
                ..entry.clone()
            },
            "unknown state",
        ),
        (
            StoredEntry {
                attempts: -1,
                ..entry.clone()
            },
            "attempts out of range",
        ),
        (
            StoredEntry {
                delivered: 2,
                ..entry.clone()
            },
            "delivered is not 0 or 1",
        ),
        (
            StoredEntry {
                delivered: 1,
                ..entry.clone()
            },
            "delivered set on an event that is not a validation",
        ),
        (
            StoredEntry {
                state: 1,
                ..entry.clone()
            },
            "done without a finishing time",
        ),
    ];
    for (row, problem) in cases {
        let err = DeliveryQueue::restore(RetrySchedule::altinn(), None, vec![row], vec![])
            .map(|_| ())
            .unwrap_err();
        assert_eq!(err, RestoreError { seq: 4, problem });
        assert_eq!(err.to_string(), format!("stored queue entry 4: {problem}"));
    }
    let twice = vec![
        entry.clone(),
        StoredEntry {
            seq: 5,
            ..entry.clone()
        },
    ];
    assert!(DeliveryQueue::restore(RetrySchedule::altinn(), None, twice, vec![]).is_err());
    assert!(DeliveryQueue::restore(RetrySchedule::altinn(), None, vec![entry], vec![]).is_ok());
}

#[wasm_bindgen_test(unsupported = test)]
fn a_published_event_of_the_validation_type_is_an_ordinary_event() {
    let mut q = started(vec![]);
    assert_eq!(
        q.handle_enqueue(T0, key(1), event("e1", VALIDATION_EVENT_TYPE)),
        Ok(true)
    );
    actions(&mut q);
    q.handle_alarm(at(1));
    assert_eq!(
        q.poll_transmit(at(1)),
        Some(Transmit::Post {
            seq: Seq(2),
            attempt: 1
        })
    );
    q.handle_outcome(at(2), Seq(2), Outcome::Answered(200));
    let c = changes(&mut q);
    assert!(
        c.contains(&Change::Delivered {
            seq: Seq(2),
            attempts: 1,
            at: at(2)
        }),
        "delivered at once, no validation to record: {c:?}"
    );
    assert_eq!(q.pending_len(), 0);
    let trace = c.iter().find_map(|c| match c {
        Change::Trace { activity, .. } => Some(*activity),
        _ => None,
    });
    assert_eq!(trace, Some(Activity::WebhookPostResponse));
}

#[wasm_bindgen_test(unsupported = test)]
fn validating_without_a_live_subscription_changes_nothing() {
    let mut q = DeliveryQueue::new(RetrySchedule::new(vec![]));
    assert!(!q.handle_validated(T0));
    assert!(actions(&mut q).is_empty());
    let mut q = started(vec![]);
    q.handle_deleted(at(1));
    actions(&mut q);
    assert!(!q.handle_validated(at(2)));
    assert!(actions(&mut q).is_empty());
}

#[wasm_bindgen_test(unsupported = test)]
fn a_repeated_subscribe_never_takes_validated_back() {
    let mut q = started(vec![]);
    assert!(q.subscription().is_some_and(|s| s.validated));
    // The directory's copy may still say false (its copy failed); the queue keeps its own.
    q.handle_subscribed(
        at(1),
        subscription(false),
        event("v9", VALIDATION_EVENT_TYPE),
    );
    assert!(q.subscription().is_some_and(|s| s.validated));
    assert!(changes(&mut q).contains(&Change::Subscription {
        subscription: Box::new(subscription(true)),
        deleted: false
    }));
}
