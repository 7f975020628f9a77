//! A deterministic simulation of one subscription's delivery, in quinn's style: a seeded
//! PRNG drives publishes, endpoint answers (2xx, 5xx, timeouts, network errors), alarm
//! firings over simulated time, process restarts (the machine rebuilt from what was
//! persisted, with an attempt in flight lost), deletes, `PUT validate`s, repeated `POST`s and
//! redeliveries. Inputs also arrive while a POST is in flight, as they do in a Durable Object.
//! After every step the invariants are checked against an oracle that keeps its own books:
//!
//! 1. the persisted rows rebuild the same machine (nothing decided is left unpersisted);
//! 2. no acknowledged event is lost: each is pending, delivered (a 2xx was reported), a dead
//!    letter or (a validation event) cancelled — and the machine agrees;
//! 3. order: an entry is POSTed only when every earlier entry is settled (so first successful
//!    deliveries follow the queue order);
//! 4. exactly `delays + 1` failed attempts before a dead letter, never one more, and never a
//!    retry before its delay has passed;
//! 5. a deleted subscription is sent nothing more and accepts nothing;
//! 6. the object's alarm is set whenever work is pending (no stuck queue) and the subscription is
//!    not disabled, and at the end, with a healthy endpoint (and the subscription enabled),
//!    everything acknowledged is delivered or a dead letter;
//! 7. endpoint health: a subscription is disabled exactly when its endpoint has failed every
//!    attempt for the configured time, is sent nothing while disabled, and `enable` resumes it;
//!    every attempt reported is logged once.
//!
//! `SIM_SEEDS=100000 cargo test -p altinn-events-core simulation` runs more seeds.

use alloc::collections::{BTreeMap, BTreeSet};
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use super::*;
use crate::delivery::{RetrySchedule, VALIDATION_EVENT_TYPE};
use crate::sansio::Rng;
use crate::subscription::Subscription;

#[derive(Clone, Debug)]
struct Row {
    msg: i64,
    origin: String,
    event: QueuedEvent,
    state: EntryState,
    attempts: u32,
    next_at: UnixTime,
    delivered: bool,
    finished: Option<UnixTime>,
}

/// The object's storage as the driver's SQL leaves it: what survives a restart.
#[derive(Clone, Debug, Default)]
pub(super) struct Store {
    pub(super) meta: Option<(Subscription, bool)>,
    queue: BTreeMap<Seq, Row>,
    dead_letters: BTreeMap<Seq, Row>,
    pub(super) trace: Vec<(Seq, Activity, u16)>,
    pub(super) notes: Vec<Activity>,
    pub(super) attempts: BTreeMap<i64, AttemptRecord>,
    health: Health,
    signing: Option<crate::signing::Signing>,
    pub(super) alarm: Option<UnixTime>,
}

impl Store {
    /// Execute one action the way `worker/src/objects/delivery.rs` does.
    pub(super) fn apply(&mut self, action: Action) -> Result<(), String> {
        let Some(change) = action.into_change(&mut self.alarm) else {
            return Ok(());
        };
        fn row(queue: &mut BTreeMap<Seq, Row>, seq: Seq) -> Result<&mut Row, String> {
            queue
                .get_mut(&seq)
                .ok_or_else(|| format!("no queue row {seq:?}"))
        }
        match change {
            Change::Subscription {
                subscription,
                deleted,
            } => self.meta = Some((*subscription, deleted)),
            Change::Enqueued {
                seq,
                key,
                event,
                at,
            } => self.insert(seq, seq.0, key, event, at)?,
            Change::Retry {
                seq,
                attempts,
                next_at,
                ..
            } => {
                let r = row(&mut self.queue, seq)?;
                r.attempts = attempts;
                r.next_at = next_at;
            }
            Change::ValidationAnswered { seq } => row(&mut self.queue, seq)?.delivered = true,
            Change::Delivered { seq, attempts, at } => {
                let r = row(&mut self.queue, seq)?;
                r.state = EntryState::Done;
                r.finished = Some(at);
                r.attempts = attempts;
            }
            Change::Cancelled { seq, at } => {
                let r = row(&mut self.queue, seq)?;
                r.state = EntryState::Done;
                r.finished = Some(at);
            }
            Change::DeadLettered {
                seq, attempts, at, ..
            } => {
                let r = row(&mut self.queue, seq)?;
                r.state = EntryState::Dead;
                r.finished = Some(at);
                r.attempts = attempts;
                let copy = r.clone();
                self.dead_letters.insert(seq, copy);
            }
            Change::Redelivered { dead, seq, key, at } => {
                let letter = self
                    .dead_letters
                    .remove(&dead)
                    .ok_or_else(|| format!("no dead letter {dead:?}"))?;
                self.insert(seq, letter.msg, key, letter.event, at)?;
            }
            Change::DroppedPending => self.queue.retain(|_, r| r.state != EntryState::Pending),
            Change::Pruned { before } => self.queue.retain(|_, r| {
                !(r.state == EntryState::Done && r.finished.is_some_and(|f| f < before))
            }),
            Change::Trace {
                seq,
                activity,
                status,
                ..
            } => {
                if self.queue.contains_key(&seq) {
                    self.trace.push((seq, activity, status));
                }
            }
            Change::Note { activity, .. } => self.notes.push(activity),
            Change::Attempt(record) => {
                if !self.queue.contains_key(&record.seq) {
                    return Err(format!("attempt of unknown entry {:?}", record.seq));
                }
                if self.attempts.insert(record.id, *record).is_some() {
                    return Err("attempt id given out twice".to_string());
                }
            }
            Change::PruneAttempts { through } => {
                let live: BTreeSet<i64> = self
                    .queue
                    .values()
                    .filter(|r| r.state == EntryState::Pending)
                    .chain(self.dead_letters.values())
                    .map(|r| r.msg)
                    .collect();
                self.attempts
                    .retain(|id, a| *id > through || live.contains(&a.message));
            }
            Change::Health(health) => self.health = health,
            Change::Signing(signing) => self.signing = Some(*signing),
            Change::Resumed { seq, next_at } => row(&mut self.queue, seq)?.next_at = next_at,
        }
        Ok(())
    }

    fn insert(
        &mut self,
        seq: Seq,
        msg: i64,
        key: String,
        event: QueuedEvent,
        at: UnixTime,
    ) -> Result<(), String> {
        let taken = |r: &Row| r.origin == key;
        if self.queue.contains_key(&seq) || self.queue.values().any(taken) {
            return Err(format!("insert conflicts: {seq:?} {key}"));
        }
        self.queue.insert(
            seq,
            Row {
                msg,
                origin: key,
                event,
                state: EntryState::Pending,
                attempts: 0,
                next_at: at,
                delivered: false,
                finished: None,
            },
        );
        Ok(())
    }

    /// The machine these rows describe (what the object builds after a restart).
    pub(super) fn restore(&self, schedule: &RetrySchedule) -> Result<DeliveryQueue, RestoreError> {
        let entries = self
            .queue
            .iter()
            .map(|(seq, r)| StoredEntry {
                seq: seq.0,
                msg: r.msg,
                origin: r.origin.clone(),
                event_type: r.event.event_type.clone(),
                state: r.state.code(),
                attempts: i64::from(r.attempts),
                next_at: r.next_at.as_millis(),
                delivered: i64::from(r.delivered),
                finished: r.finished.map(UnixTime::as_millis),
            })
            .collect();
        let dead = self
            .dead_letters
            .iter()
            .map(|(seq, r)| StoredDeadLetter {
                seq: seq.0,
                msg: r.msg,
                origin: r.origin.clone(),
                event_type: r.event.event_type.clone(),
            })
            .collect();
        let last_attempt = self.attempts.keys().next_back().copied().unwrap_or(0);
        Ok(
            DeliveryQueue::restore(schedule.clone(), self.meta.clone(), entries, dead)?
                .with_stored(self.health, self.signing.clone(), last_attempt),
        )
    }
}

pub(super) fn subscription(validated: bool) -> Subscription {
    Subscription {
        id: crate::subscription::SubscriptionId(7),
        end_point: "https://hook.example/h".to_string(),
        source_filter: None,
        resource_filter: "urn:altinn:resource:sim".to_string(),
        subject_filter: None,
        type_filter: None,
        consumer: "/org/ttd".to_string(),
        created_by: "/org/ttd".to_string(),
        created: "2025-01-01T00:00:00Z".to_string(),
        validated,
        include_subunits: false,
    }
}

pub(super) fn event(id: &str, type_: &str) -> QueuedEvent {
    QueuedEvent {
        event_json: format!(r#"{{"id":"{id}","type":"{type_}"}}"#),
        event_id: id.to_string(),
        event_type: type_.to_string(),
        resource: Some("urn:altinn:resource:sim".to_string()),
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Status {
    Open,
    /// A validation event answered 2xx, its record still to do.
    Answered,
    Delivered,
    Dead,
    Cancelled,
    Redelivered,
    Dropped,
}

#[derive(Clone, Debug)]
struct Track {
    key: String,
    validation: bool,
    failures: u32,
    not_before: UnixTime,
    got_2xx: bool,
    status: Status,
}

/// What the step being executed may legitimately cause.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Cause {
    Other,
    PutValidate,
    Delete,
    Redeliver,
}

struct World {
    rng: Rng,
    now: UnixTime,
    schedule: RetrySchedule,
    timeout_secs: u32,
    store: Store,
    queue: DeliveryQueue,
    tracks: BTreeMap<Seq, Track>,
    /// Keys acknowledged, to their first seq.
    acked: BTreeMap<String, Seq>,
    deleted: bool,
    /// Disable after failing this long (`None`: never), and the oracle's own health books.
    disable_after: Option<i64>,
    failing_since: Option<UnixTime>,
    disabled: bool,
    /// Attempts reported to the machine for open entries, and attempt-log rows it wrote.
    reported: usize,
    logged: usize,
    published: u32,
    validations: u32,
    log: Vec<String>,
}

type Check = Result<(), String>;

fn fail<T>(why: String) -> Result<T, String> {
    Err(why)
}

impl World {
    fn new(seed: u64) -> World {
        let mut rng = Rng::new(seed);
        let delays = (0..rng.below(4)).map(|_| rng.below(6) as u32).collect();
        let schedule = RetrySchedule::new(delays);
        let disable_after = rng.chance(50).then(|| rng.below(20_000) as i64);
        let queue = DeliveryQueue::new(schedule.clone()).with_disable_after(disable_after);
        World {
            rng,
            now: UnixTime::from_millis(1_735_725_600_000),
            schedule,
            timeout_secs: 3,
            store: Store::default(),
            queue,
            tracks: BTreeMap::new(),
            acked: BTreeMap::new(),
            deleted: false,
            disable_after,
            failing_since: None,
            disabled: false,
            reported: 0,
            logged: 0,
            published: 0,
            validations: 0,
            log: Vec::new(),
        }
    }

    fn max_attempts(&self) -> u32 {
        self.schedule.max_attempts()
    }

    /// Execute the machine's actions and check each against the books.
    fn drain(&mut self, cause: Cause) -> Check {
        while let Some(action) = self.queue.poll_action() {
            if let Action::Persist(change) = &action {
                self.observe(change, cause)?;
            }
            self.store.apply(action)?;
        }
        Ok(())
    }

    fn track(&mut self, seq: Seq) -> Result<&mut Track, String> {
        self.tracks
            .get_mut(&seq)
            .ok_or_else(|| format!("{seq:?} was never enqueued"))
    }

    fn observe(&mut self, change: &Change, cause: Cause) -> Check {
        let max = self.max_attempts();
        match change {
            Change::Enqueued { seq, key, .. } => {
                if self.tracks.contains_key(seq) {
                    return fail(format!("{seq:?} enqueued twice"));
                }
                self.tracks.insert(
                    *seq,
                    Track {
                        key: key.clone(),
                        validation: key.starts_with(VALIDATION_KEY_PREFIX),
                        failures: 0,
                        not_before: self.now,
                        got_2xx: false,
                        status: Status::Open,
                    },
                );
            }
            Change::Redelivered { dead, seq, key, .. } => {
                if cause != Cause::Redeliver {
                    return fail(format!("redelivered {dead:?} unasked"));
                }
                let now = self.now;
                let old = self.track(*dead)?;
                if old.status != Status::Dead {
                    return fail(format!("redelivered {dead:?} in state {:?}", old.status));
                }
                old.status = Status::Redelivered;
                let fresh = Track {
                    key: key.clone(),
                    failures: 0,
                    not_before: now,
                    got_2xx: false,
                    status: Status::Open,
                    ..old.clone()
                };
                self.tracks.insert(*seq, fresh);
            }
            Change::DeadLettered { seq, attempts, .. } => {
                let t = self.track(*seq)?;
                if t.failures != max || *attempts != max || t.status != Status::Open {
                    return fail(format!(
                        "dead letter {seq:?} after {} reported failures, {attempts} counted, {max} allowed ({:?})",
                        t.failures, t.status
                    ));
                }
                t.status = Status::Dead;
            }
            Change::Delivered { seq, .. } => {
                let t = self.track(*seq)?;
                if !t.got_2xx || !matches!(t.status, Status::Open | Status::Answered) {
                    return fail(format!("{seq:?} done without a 2xx ({:?})", t.status));
                }
                t.status = Status::Delivered;
            }
            Change::Cancelled { seq, .. } => {
                let t = self.track(*seq)?;
                if cause != Cause::PutValidate || !t.validation {
                    return fail(format!("{seq:?} cancelled unasked"));
                }
                t.status = Status::Cancelled;
            }
            Change::DroppedPending => {
                if cause != Cause::Delete {
                    return fail("pending entries dropped unasked".into());
                }
                for t in self.tracks.values_mut() {
                    if matches!(t.status, Status::Open | Status::Answered) {
                        t.status = Status::Dropped;
                    }
                }
            }
            Change::ValidationAnswered { seq } => {
                let t = self.track(*seq)?;
                if !t.got_2xx || !t.validation {
                    return fail(format!("{seq:?} marked answered without a 2xx"));
                }
                t.status = Status::Answered;
            }
            Change::Retry {
                seq,
                attempts,
                next_at,
                ..
            } => {
                let t = self.track(*seq)?;
                if t.failures != *attempts || *attempts >= max {
                    return fail(format!(
                        "retry of {seq:?} after {attempts} (reported {})",
                        t.failures
                    ));
                }
                if *next_at < t.not_before {
                    return fail(format!("retry of {seq:?} scheduled before its delay"));
                }
            }
            Change::Attempt(record) => {
                if record.attempt == 0 || record.attempt > max {
                    return fail(format!(
                        "attempt {} of {:?} logged",
                        record.attempt, record.seq
                    ));
                }
                self.logged += 1;
            }
            Change::Subscription { .. }
            | Change::Pruned { .. }
            | Change::Trace { .. }
            | Change::Note { .. }
            | Change::PruneAttempts { .. }
            | Change::Health(_)
            | Change::Signing(_)
            | Change::Resumed { .. } => {}
        }
        Ok(())
    }

    /// Invariants 1, 2 and 6 (after every step).
    fn check(&mut self) -> Check {
        let restored = self
            .store
            .restore(&self.schedule)
            .map_err(|e| format!("restore: {e}"))?;
        if restored.model != self.queue.model {
            return fail(format!(
                "the persisted rows rebuild another machine:\n stored {:?}\n memory {:?}",
                restored.model, self.queue.model
            ));
        }
        let pending: BTreeSet<Seq> = self.queue.model.pending.iter().map(|e| e.seq).collect();
        let dead: BTreeSet<Seq> = self
            .queue
            .model
            .dead_letters
            .iter()
            .map(|d| d.seq)
            .collect();
        for (seq, t) in &self.tracks {
            let in_pending = pending.contains(seq);
            let in_dead = dead.contains(seq);
            let ok = match t.status {
                Status::Open | Status::Answered => in_pending && !in_dead,
                Status::Dead => in_dead && !in_pending,
                Status::Delivered => t.got_2xx && !in_pending && !in_dead,
                Status::Cancelled | Status::Redelivered | Status::Dropped => {
                    !in_pending && !in_dead
                }
            };
            if !ok {
                return fail(format!(
                    "{seq:?} ({}) is {:?} but pending={in_pending} dead={in_dead}",
                    t.key, t.status
                ));
            }
        }
        if self.queue.health().disabled_at.is_some() != self.disabled {
            return fail(format!(
                "disabled: machine {:?}, oracle {} (failing since {:?}, after {:?})",
                self.queue.health().disabled_at,
                self.disabled,
                self.failing_since,
                self.disable_after
            ));
        }
        if self.logged != self.reported {
            return fail(format!(
                "{} attempts reported, {} logged",
                self.reported, self.logged
            ));
        }
        if pending
            .iter()
            .chain(&dead)
            .any(|s| !self.tracks.contains_key(s))
        {
            return fail("the machine holds an entry nobody enqueued".into());
        }
        if self.queue.run.is_none() {
            let want = self.queue.poll_timeout();
            if self.queue.is_live()
                && !pending.is_empty()
                && !self.disabled
                && self.store.alarm.is_none()
            {
                return fail("work is pending but no alarm is set".into());
            }
            if self.queue.alarm.is_some() && self.store.alarm != want {
                return fail(format!(
                    "alarm {:?}, machine wants {want:?}",
                    self.store.alarm
                ));
            }
        }
        Ok(())
    }

    /// Invariants 3, 4, 5 for a transmit about to be executed.
    fn check_post(&mut self, seq: Seq, attempt: u32) -> Check {
        if self.deleted {
            return fail(format!(
                "POST of {seq:?} after the subscription was deleted"
            ));
        }
        if self.disabled {
            return fail(format!("POST of {seq:?} while disabled"));
        }
        let max = self.max_attempts();
        let now = self.now;
        let t = self.track(seq)?.clone();
        if t.status != Status::Open {
            return fail(format!("POST of {seq:?} in state {:?}", t.status));
        }
        if attempt != t.failures + 1 || attempt > max {
            return fail(format!(
                "attempt {attempt} of {seq:?} after {} failures ({max} allowed)",
                t.failures
            ));
        }
        if now < t.not_before {
            return fail(format!("attempt {attempt} of {seq:?} before its delay"));
        }
        if let Some((earlier, e)) = self
            .tracks
            .range(..seq)
            .find(|(_, e)| matches!(e.status, Status::Open | Status::Answered))
        {
            return fail(format!(
                "POST of {seq:?} while the earlier {earlier:?} ({}) is not settled",
                e.key
            ));
        }
        Ok(())
    }

    fn publish(&mut self) -> Check {
        let repeat = !self.acked.is_empty() && self.rng.chance(10);
        let key = if repeat {
            let i = self.rng.below(self.acked.len() as u64) as usize;
            self.acked.keys().nth(i).cloned().unwrap_or_default()
        } else {
            self.published += 1;
            format!("urn:altinn:resource:sim#{}", self.published)
        };
        let id = format!("e{}", self.published);
        // A publisher may use the validation event's type; it is still an ordinary event.
        let type_ = if self.rng.chance(10) {
            VALIDATION_EVENT_TYPE
        } else {
            "sim.created"
        };
        self.log.push(format!("publish {key} ({type_})"));
        let result = self
            .queue
            .handle_enqueue(self.now, key.clone(), event(&id, type_));
        match (result, self.deleted, repeat) {
            (Err(Gone), true, _) => {}
            (Ok(true), false, false) => {
                let seq = Seq(self.queue.next_seq - 1);
                self.acked.insert(key, seq);
            }
            (Ok(false), false, true) => {}
            (other, deleted, repeat) => {
                return fail(format!(
                    "enqueue gave {other:?} (deleted {deleted}, repeat {repeat})"
                ))
            }
        }
        self.drain(Cause::Other)
    }

    fn subscribe(&mut self) -> Check {
        self.validations += 1;
        let id = format!("v{}", self.validations);
        self.log.push(format!("subscribe {id}"));
        let validated = self.queue.subscription().is_some_and(|s| s.validated);
        self.queue.handle_subscribed(
            self.now,
            subscription(validated),
            event(&id, VALIDATION_EVENT_TYPE),
        );
        self.drain(Cause::Other)
    }

    /// A request that may arrive at any time, also while a POST is in flight.
    fn request(&mut self) -> Check {
        match self.rng.below(100) {
            0..=69 => self.publish(),
            70..=79 => {
                self.log.push("redeliver".into());
                let expect = self.queue.dead_letter_count();
                match (self.queue.handle_redeliver(self.now), self.deleted) {
                    (Ok(n), false) if n == expect => {}
                    (Err(Gone), true) => {}
                    (other, _) => return fail(format!("redeliver gave {other:?}, {expect} dead")),
                }
                self.drain(Cause::Redeliver)
            }
            80..=86 => {
                self.log.push("put validate".into());
                let live = self.queue.handle_validated(self.now);
                if live == self.deleted {
                    return fail(format!(
                        "put validate answered {live}, deleted: {}",
                        self.deleted
                    ));
                }
                self.drain(Cause::PutValidate)
            }
            87..=90 if !self.deleted => self.subscribe(),
            91..=94 => self.enable(),
            95..=96 => {
                self.log.push("delete".into());
                self.deleted = true;
                self.queue.handle_deleted(self.now);
                self.drain(Cause::Delete)
            }
            _ => self.publish(),
        }
    }

    fn enable(&mut self) -> Check {
        self.log.push("enable".into());
        match (self.queue.handle_enable(self.now), self.deleted) {
            (Ok(resumed), false) if resumed == self.disabled => {}
            (Err(Gone), true) => {}
            (other, deleted) => {
                return fail(format!(
                    "enable gave {other:?} (deleted {deleted}, disabled {})",
                    self.disabled
                ))
            }
        }
        if !self.deleted && self.disabled {
            self.disabled = false;
            self.failing_since = None;
            // The head is due at once (not after the rest of its delay).
            let now = self.now;
            if let Some(head) = self.tracks.values_mut().find(|t| t.status == Status::Open) {
                head.not_before = head.not_before.min(now);
            }
        }
        self.drain(Cause::Other)
    }

    fn restart(&mut self) -> Check {
        self.log.push("restart".into());
        self.queue = self
            .store
            .restore(&self.schedule)
            .map_err(|e| format!("restore: {e}"))?
            .with_disable_after(self.disable_after);
        Ok(())
    }

    /// Evicted mid-run: the report of the work in flight is lost and the platform retries
    /// the alarm.
    fn crash(&mut self) -> Check {
        let retry = self.now.plus_millis(1_000);
        self.store.alarm = Some(self.store.alarm.map_or(retry, |a| a.min(retry)));
        self.restart()
    }

    /// The alarm fires at its time: one run, with requests and crashes interleaved.
    fn fire_alarm(&mut self, healthy: bool) -> Check {
        let Some(at) = self.store.alarm else {
            return Ok(());
        };
        self.now = self.now.max(at);
        self.store.alarm = None;
        self.log.push(format!("alarm at {}", self.now.as_millis()));
        self.queue.handle_alarm(self.now);
        self.drain(Cause::Other)?;
        while let Some(transmit) = self.queue.poll_transmit(self.now) {
            match transmit {
                Transmit::Post { seq, attempt } => {
                    self.check_post(seq, attempt)?;
                    let outcome = match self.rng.below(100) {
                        _ if healthy => Outcome::Answered(200),
                        0..=59 => Outcome::Answered(200 + self.rng.below(3) as u16),
                        60..=79 => Outcome::Answered(500 + self.rng.below(4) as u16),
                        80..=89 => Outcome::TimedOut(self.timeout_secs),
                        _ => Outcome::Failed("request failed: connection refused".into()),
                    };
                    self.log
                        .push(format!("POST {seq:?} attempt {attempt}: {outcome:?}"));
                    self.now = match outcome {
                        Outcome::TimedOut(secs) => self.now.plus_secs(secs),
                        _ => self.now.plus_millis(self.rng.below(50) as i64),
                    };
                    if !healthy && self.rng.chance(3) {
                        return self.crash();
                    }
                    let now = self.now;
                    let delays = self.schedule.clone();
                    let t = self.track(seq)?;
                    let open = matches!(t.status, Status::Open);
                    if open {
                        if outcome.success() {
                            t.got_2xx = true;
                        } else {
                            t.failures += 1;
                            t.not_before = delays.next_attempt_at(t.failures, now).unwrap_or(now);
                        }
                    }
                    if open && !self.deleted {
                        self.reported += 1;
                        if outcome.success() {
                            self.failing_since = None;
                        } else {
                            let since = *self.failing_since.get_or_insert(now);
                            if self.disable_after.is_some_and(|d| {
                                now.as_millis().saturating_sub(since.as_millis()) >= d
                            }) {
                                self.disabled = true;
                            }
                        }
                    }
                    self.queue.handle_outcome(self.now, seq, outcome);
                }
                Transmit::RecordValidation { seq } => {
                    if self.deleted {
                        return fail("validation recorded after delete".into());
                    }
                    if !healthy && self.rng.chance(15) {
                        self.request()?;
                    }
                    if !healthy && self.rng.chance(3) {
                        return self.crash();
                    }
                    let ok = healthy || self.rng.chance(75);
                    self.log.push(format!("record {seq:?}: {ok}"));
                    self.queue.handle_validation_recorded(self.now, seq, ok);
                }
            }
            self.drain(Cause::Other)?;
        }
        self.drain(Cause::Other)
    }

    fn step(&mut self) -> Check {
        match self.rng.below(100) {
            0..=29 => self.request(),
            30..=64 => {
                if let Some(at) = self.store.alarm {
                    // Sometimes the alarm is a little late, never early.
                    self.now = self.now.max(at).plus_millis(self.rng.below(3) as i64 * 500);
                }
                self.fire_alarm(false)
            }
            65..=84 => {
                self.now = self.now.plus_millis(self.rng.below(5_000) as i64);
                Ok(())
            }
            85..=89 => self.restart(),
            _ => self.request(),
        }
    }

    /// With a healthy endpoint and no crashes, run until the queue is idle; everything
    /// acknowledged must then be delivered or a dead letter (invariant 6).
    fn settle(&mut self) -> Check {
        if self.disabled {
            self.enable()?;
        }
        for _ in 0..10_000 {
            if self.store.alarm.is_none() {
                break;
            }
            self.fire_alarm(true)?;
            self.check()?;
        }
        if self.store.alarm.is_some() {
            return fail("the queue never went idle".into());
        }
        if let Some((seq, t)) = self
            .tracks
            .iter()
            .find(|(_, t)| matches!(t.status, Status::Open | Status::Answered))
        {
            return fail(format!("{seq:?} ({}) never settled: {:?}", t.key, t.status));
        }
        Ok(())
    }
}

fn run_seed(seed: u64, steps: u32) -> Result<(), (String, Vec<String>)> {
    let mut w = World::new(seed);
    let result = (|| {
        w.subscribe()?;
        w.check()?;
        for _ in 0..steps {
            w.step()?;
            w.check()?;
        }
        w.settle()
    })();
    result.map_err(|e| (e, w.log))
}

fn seeds() -> u64 {
    #[cfg(not(target_arch = "wasm32"))]
    if let Some(n) = std::env::var("SIM_SEEDS").ok().and_then(|v| v.parse().ok()) {
        return n;
    }
    if cfg!(target_arch = "wasm32") {
        200
    } else {
        2_000
    }
}

#[wasm_bindgen_test::wasm_bindgen_test(unsupported = test)]
fn simulation() {
    for seed in 0..seeds() {
        if let Err((why, log)) = run_seed(seed, 200) {
            let tail = log.len().saturating_sub(40);
            panic!(
                "seed {seed}: {why}\nlast steps:\n  {}",
                log.get(tail..).unwrap_or_default().join("\n  ")
            );
        }
    }
}
