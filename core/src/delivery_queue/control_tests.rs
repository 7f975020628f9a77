//! The attempt log, endpoint health (disable and enable), signing secrets and webhook ids.

use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;
use wasm_bindgen_test::wasm_bindgen_test;

use super::sim::{event, subscription, Store};
use super::*;
use crate::delivery::RetrySchedule;
use crate::signing::{Secret, SECRET_BYTES};

const T0: UnixTime = UnixTime::from_millis(1_735_725_600_000);

fn at(ms: i64) -> UnixTime {
    T0.plus_millis(ms)
}

/// A validated subscription (its queue empty), with every change written to `store`.
fn started(delays: Vec<u32>, disable_after: Option<i64>) -> (DeliveryQueue, Store) {
    let mut q = DeliveryQueue::new(RetrySchedule::new(delays)).with_disable_after(disable_after);
    let mut store = Store::default();
    q.handle_subscribed(T0, subscription(true), event("v0", VALIDATION_EVENT_TYPE));
    assert!(q.handle_validated(T0));
    flush(&mut q, &mut store);
    (q, store)
}

/// Write what the queue asks for; the changes written.
fn flush(q: &mut DeliveryQueue, store: &mut Store) -> Vec<Change> {
    let mut changes = Vec::new();
    while let Some(action) = q.poll_action() {
        if let Action::Persist(c) = &action {
            changes.push(c.clone());
        }
        store.apply(action).unwrap();
    }
    changes
}

fn enqueue(q: &mut DeliveryQueue, now: UnixTime, n: u32) {
    let key = format!("urn:altinn:resource:sim#{n}");
    assert_eq!(
        q.handle_enqueue(now, key, event(&format!("e{n}"), "sim.created")),
        Ok(true)
    );
}

/// One alarm run's first POST at `now`, answered with `outcome`.
fn attempt(q: &mut DeliveryQueue, store: &mut Store, now: UnixTime, outcome: Attempted) -> Seq {
    q.handle_alarm(now);
    let Some(Transmit::Post { seq, .. }) = q.poll_transmit(now) else {
        panic!("nothing to POST at {now:?}");
    };
    q.handle_outcome(now, seq, outcome);
    assert_eq!(
        q.poll_transmit(now),
        None,
        "one POST per run in these tests"
    );
    flush(q, store);
    seq
}

fn answered(status: u16) -> Attempted {
    Attempted {
        outcome: Outcome::Answered(status),
        latency_ms: 12,
        response: Some(format!("status {status}")),
    }
}

#[wasm_bindgen_test(unsupported = test)]
fn every_attempt_is_logged_with_its_outcome_and_the_next_attempt() {
    let (mut q, mut store) = started(vec![1, 1, 1], None);
    enqueue(&mut q, T0, 1);
    flush(&mut q, &mut store);
    attempt(&mut q, &mut store, at(0), answered(500));
    attempt(&mut q, &mut store, at(1_000), Outcome::TimedOut(30).into());
    attempt(
        &mut q,
        &mut store,
        at(2_000),
        Outcome::Failed("refused".into()).into(),
    );
    attempt(&mut q, &mut store, at(3_000), answered(204));
    let log: Vec<_> = store.attempts.values().collect();
    let summary: Vec<_> = log
        .iter()
        .map(|a| (a.id, a.attempt, a.outcome, a.status, a.next_attempt_at))
        .collect();
    assert_eq!(
        summary,
        vec![
            (1, 1, AttemptOutcome::HttpError, Some(500), Some(at(1_000))),
            (2, 2, AttemptOutcome::Timeout, None, Some(at(2_000))),
            (3, 3, AttemptOutcome::ConnectionError, None, Some(at(3_000))),
            (4, 4, AttemptOutcome::Success, Some(204), None),
        ]
    );
    assert_eq!(log[0].response.as_deref(), Some("status 500"));
    assert_eq!(log[0].latency_ms, 12);
    assert!(log.iter().all(|a| a.message == log[0].message));
    let health = q.health();
    assert_eq!(health.last_success_at, Some(at(3_000)));
    assert_eq!(health.last_failure_at, Some(at(2_000)));
    assert_eq!(
        health.failing_since, None,
        "a success ends the failing streak"
    );
}

#[wasm_bindgen_test(unsupported = test)]
fn the_last_attempt_before_a_dead_letter_schedules_nothing() {
    let (mut q, mut store) = started(vec![], None);
    enqueue(&mut q, T0, 1);
    flush(&mut q, &mut store);
    attempt(&mut q, &mut store, at(0), answered(410));
    let a = store.attempts.values().next().unwrap();
    assert_eq!((a.attempt, a.next_attempt_at), (1, None));
    assert_eq!(q.dead_letter_count(), 1);
}

#[wasm_bindgen_test(unsupported = test)]
fn an_endpoint_failing_too_long_is_disabled_and_resumes_in_order_when_enabled() {
    let (mut q, mut store) = started(vec![10; 20], Some(15_000));
    enqueue(&mut q, T0, 1);
    flush(&mut q, &mut store);
    for ms in [0, 10_000] {
        attempt(&mut q, &mut store, at(ms), answered(503));
        assert!(q.health().disabled_at.is_none(), "not yet at {ms}");
    }
    assert_eq!(q.health().failing_since, Some(at(0)));
    let seq = attempt(&mut q, &mut store, at(20_000), answered(503));
    assert_eq!(q.health().disabled_at, Some(at(20_000)));
    let last = store.attempts.values().next_back().unwrap();
    assert_eq!(last.next_attempt_at, None, "paused: nothing scheduled");
    assert!(last.note.as_deref().unwrap().contains("disabled"));
    assert_eq!(store.notes, vec![Activity::EndpointDisabled]);
    assert_eq!(q.poll_timeout(), None, "no alarm while disabled");

    // Events keep queueing; nothing is sent.
    enqueue(&mut q, at(21_000), 2);
    enqueue(&mut q, at(21_000), 3);
    flush(&mut q, &mut store);
    assert_eq!(q.pending_len(), 3);
    q.handle_alarm(at(31_000));
    assert_eq!(q.poll_transmit(at(31_000)), None);
    flush(&mut q, &mut store);

    // Enabled: the head is due at once, then the rest in order.
    assert_eq!(q.handle_enable(at(25_000)), Ok(true));
    let changes = flush(&mut q, &mut store);
    assert!(changes.contains(&Change::Resumed {
        seq,
        next_at: at(25_000)
    }));
    assert_eq!(store.alarm, Some(at(25_000)));
    assert_eq!(store.notes.last(), Some(&Activity::EndpointEnabled));
    assert_eq!(q.health().failing_since, None);
    let mut sent = Vec::new();
    q.handle_alarm(at(25_000));
    while let Some(Transmit::Post { seq, .. }) = q.poll_transmit(at(25_000)) {
        sent.push(seq);
        q.handle_outcome(at(25_000), seq, answered(200));
    }
    flush(&mut q, &mut store);
    assert_eq!(sent, vec![seq, Seq(seq.0 + 1), Seq(seq.0 + 2)]);
    assert_eq!(q.pending_len(), 0);
    assert_eq!(q.handle_enable(at(26_000)), Ok(false), "not disabled");
    // What was stored rebuilds the same machine.
    let restored = store.restore(&RetrySchedule::new(vec![10; 20])).unwrap();
    assert_eq!(restored.model, q.model);
}

#[wasm_bindgen_test(unsupported = test)]
fn a_disabled_subscription_stays_paused_after_a_restart() {
    let schedule = RetrySchedule::new(vec![1; 5]);
    let (mut q, mut store) = started(vec![1; 5], Some(0));
    enqueue(&mut q, T0, 1);
    flush(&mut q, &mut store);
    attempt(&mut q, &mut store, at(0), answered(500));
    assert!(q.health().disabled_at.is_some());
    let restored = store
        .restore(&schedule)
        .unwrap()
        .with_disable_after(Some(0));
    assert_eq!(restored.health(), q.health());
    assert_eq!(restored.poll_timeout(), None);
}

#[wasm_bindgen_test(unsupported = test)]
fn enable_and_rotate_need_a_live_subscription() {
    let mut q = DeliveryQueue::new(RetrySchedule::altinn());
    assert_eq!(q.handle_enable(T0), Err(Gone));
    let secret = Secret::from_random([3; SECRET_BYTES]);
    assert_eq!(q.handle_rotate(T0, secret.clone()), Err(Gone));
    assert_eq!(q.handle_secret_offered(secret), Err(Gone));
}

#[wasm_bindgen_test(unsupported = test)]
fn the_first_secret_offered_is_kept_and_a_rotation_signs_with_both_for_a_day() {
    let (mut q, mut store) = started(vec![1], None);
    let first = Secret::from_random([1; SECRET_BYTES]);
    let second = Secret::from_random([2; SECRET_BYTES]);
    assert_eq!(q.handle_secret_offered(first.clone()), Ok(first.clone()));
    assert_eq!(
        q.handle_secret_offered(second.clone()),
        Ok(first.clone()),
        "a repeated POST gets the secret it got the first time"
    );
    flush(&mut q, &mut store);
    assert_eq!(q.signing_secrets(T0), vec![&first]);
    let third = Secret::from_random([3; SECRET_BYTES]);
    assert_eq!(q.handle_rotate(at(10), third.clone()), Ok(third.clone()));
    flush(&mut q, &mut store);
    assert_eq!(q.secret(), Some(&third));
    assert_eq!(q.signing_secrets(at(11)), vec![&third, &first]);
    let day = crate::signing::ROTATION_OVERLAP_MS;
    assert_eq!(q.signing_secrets(at(10 + day)), vec![&third]);
    let restored = store.restore(&RetrySchedule::new(vec![1])).unwrap();
    assert_eq!(restored.signing_secrets(at(11)), vec![&third, &first]);
}

#[wasm_bindgen_test(unsupported = test)]
fn a_webhook_id_is_stable_over_retries_and_a_redelivery() {
    let (mut q, mut store) = started(vec![1], None);
    enqueue(&mut q, T0, 1);
    flush(&mut q, &mut store);
    let seq = attempt(&mut q, &mut store, at(0), answered(500));
    let id = q.webhook_id(seq).unwrap();
    assert_eq!(id, "msg_7_2");
    attempt(&mut q, &mut store, at(1_000), answered(500));
    assert_eq!(q.dead_letter_count(), 1);
    assert_eq!(q.handle_redeliver(at(2_000)), Ok(1));
    flush(&mut q, &mut store);
    let again = attempt(&mut q, &mut store, at(2_000), answered(200));
    assert_ne!(again, seq);
    assert_eq!(store.attempts.values().next_back().unwrap().message, 2);
    let restored = store.restore(&RetrySchedule::new(vec![1])).unwrap();
    assert_eq!(restored.model, q.model);
    // A new event is a new message.
    enqueue(&mut q, at(3_000), 2);
    flush(&mut q, &mut store);
    q.handle_alarm(at(3_000));
    let Some(Transmit::Post { seq: next, .. }) = q.poll_transmit(at(3_000)) else {
        panic!("nothing to POST");
    };
    assert_eq!(q.webhook_id(next), Some(format!("msg_7_{}", next.0)));
}

#[wasm_bindgen_test(unsupported = test)]
fn old_attempts_are_pruned_but_those_of_queued_or_dead_messages_stay() {
    let (mut q, mut store) = started(vec![0; 3], None);
    // One event that becomes a dead letter, then many that succeed.
    enqueue(&mut q, T0, 0);
    flush(&mut q, &mut store);
    for ms in 0..4 {
        q.handle_alarm(at(ms));
        let Some(Transmit::Post { seq, .. }) = q.poll_transmit(at(ms)) else {
            panic!("nothing to POST");
        };
        q.handle_outcome(at(ms), seq, answered(500));
    }
    assert_eq!(q.poll_transmit(at(4)), None);
    flush(&mut q, &mut store);
    assert_eq!(q.dead_letter_count(), 1);
    let total = KEEP_ATTEMPTS + 200;
    for n in 1..=(total - 4) {
        enqueue(&mut q, T0, n as u32);
        flush(&mut q, &mut store);
        attempt(&mut q, &mut store, T0, answered(200));
    }
    let ids: Vec<i64> = store.attempts.keys().copied().collect();
    assert_eq!(ids[..4], [1, 2, 3, 4], "the dead letter's attempts stay");
    assert_eq!(ids[4], total - KEEP_ATTEMPTS + 1);
    assert_eq!(*ids.last().unwrap(), total);
    // After a restart ids go on where they were.
    let mut q = store.restore(&RetrySchedule::new(vec![0; 3])).unwrap();
    enqueue(&mut q, T0, 99_999);
    flush(&mut q, &mut store);
    attempt(&mut q, &mut store, T0, answered(200));
    assert_eq!(*store.attempts.keys().next_back().unwrap(), total + 1);
}

#[wasm_bindgen_test(unsupported = test)]
fn attempt_queries() {
    assert_eq!(
        AttemptQuery::parse(None, None),
        Ok(AttemptQuery {
            after: 0,
            size: DEFAULT_ATTEMPT_PAGE
        })
    );
    assert_eq!(
        AttemptQuery::parse(Some("17"), Some("3")),
        Ok(AttemptQuery { after: 17, size: 3 })
    );
    for (after, size) in [
        (Some("x"), None),
        (Some("-1"), None),
        (None, Some("0")),
        (None, Some("1001")),
        (None, Some("ten")),
    ] {
        let err = AttemptQuery::parse(after, size).unwrap_err();
        assert_eq!(err.status, 400, "{after:?} {size:?}");
    }
    let row = |id| StoredAttemptRow {
        id,
        event_id: "e".into(),
        attempt: 1,
        time: 0,
        outcome: AttemptOutcome::Success,
        status: Some(200),
        latency_ms: 1,
        response: None,
        next_at: None,
        note: None,
    };
    let q = AttemptQuery { after: 0, size: 2 };
    assert_eq!(q.next_after(&[row(4), row(9)]), Some(9));
    assert_eq!(q.next_after(&[row(4)]), None);
}

#[wasm_bindgen_test(unsupported = test)]
fn a_response_prefix_is_cut_at_one_kib_on_a_character_boundary() {
    assert_eq!(response_prefix(b"ok"), "ok");
    let long = "é".repeat(600); // 1200 bytes
    let cut = response_prefix(long.as_bytes());
    assert_eq!(cut, "é".repeat(512));
    let odd = String::from("x") + &"é".repeat(600);
    let cut = response_prefix(odd.as_bytes());
    assert_eq!(cut.len(), 1023);
    assert!(cut.ends_with('é'));
    assert_eq!(response_prefix(&[0xff, b'a']), "\u{FFFD}a".to_string());
}
