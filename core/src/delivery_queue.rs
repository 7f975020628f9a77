//! The webhook queue of one subscription as a sans-IO state machine, the way `quinn-proto`'s
//! `Connection` is split from `quinn`: the `Delivery` Durable Object feeds it what happened
//! (`handle_*`, each with the time as a [`UnixTime`]) and executes what it asks for:
//!
//! - [`DeliveryQueue::poll_action`]: storage changes ([`Change`]) and the object's alarm
//!   ([`Action::SetAlarm`], [`Action::CancelAlarm`]). Every handler drains these at once, before
//!   its next `await`, so the changes of one input are written together.
//! - [`DeliveryQueue::poll_transmit`]: the next POST (or validation record) of an alarm run.
//!   Only the alarm handler polls it, so a request that arrives while a POST is in flight (the
//!   object's input gate is open during `fetch`) never picks up an attempt.
//!
//! The rules: entries are attempted one at a time in the order they were enqueued (their
//! [`Seq`]); a failing head is tried again on the [`RetrySchedule`] and after its last attempt
//! (`delays + 1` in all) becomes a dead letter, so the queue moves on. An enqueue is idempotent
//! by its key. A validation event answered 2xx is recorded (event log, directory) before the
//! queue moves on, and `PUT /subscriptions/validate` cancels pending validation events.
//! Redelivered dead letters go to the end of the queue with fresh attempts. A deleted
//! subscription is sent nothing more.
//!
//! Everything the rules need is persisted through [`Change`]s; [`DeliveryQueue::restore`]
//! rebuilds the same machine from the stored rows after the object is evicted.

use alloc::boxed::Box;
use alloc::collections::{BTreeMap, VecDeque};
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use serde::{Deserialize, Serialize};

use crate::delivery::VALIDATION_EVENT_TYPE;
use crate::delivery::{is_success, response_activity, Activity, RetrySchedule};
use crate::signing::Signing;
use crate::subscription::Subscription;
use crate::time::UnixTime;

pub use control::{
    response_prefix, AttemptOutcome, AttemptQuery, AttemptRecord, Attempted, Health,
    StoredAttemptRow, StoredHealth, DEFAULT_ATTEMPT_PAGE, KEEP_ATTEMPTS, MAX_ATTEMPT_PAGE,
    RESPONSE_PREFIX_BYTES,
};

mod control;
#[cfg(test)]
mod control_tests;
#[cfg(test)]
mod sim;
#[cfg(test)]
mod tests;

/// Entries handled per alarm run before yielding (the next run starts at once).
pub const MAX_ITEMS_PER_RUN: u32 = 100;
/// Wall time of one alarm run before yielding.
pub const MAX_RUN_MS: i64 = 60_000;
/// Delivered entries are remembered this long, so a repeated enqueue of their key is ignored.
pub const KEEP_DONE_MS: i64 = 24 * 3_600_000;
/// When to try again after the validation could not be recorded.
pub const RECORD_RETRY_MS: i64 = 2_000;
/// When the object runs again after a run failed on the platform (storage, for instance).
pub const RECOVERY_MS: i64 = 5_000;

/// A queue entry's position (the queue row's `seq`): entries are attempted in ascending order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Seq(pub i64);

/// An event handed to the queue: what is POSTed and what the trace log names.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueuedEvent {
    pub event_json: String,
    pub event_id: String,
    pub event_type: String,
    pub resource: Option<String>,
}

/// How one POST ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The endpoint answered with this status (2xx is success).
    Answered(u16),
    /// No answer within the timeout (seconds).
    TimedOut(u32),
    /// The request could not be made or failed without an answer (why).
    Failed(String),
}

impl Outcome {
    fn success(&self) -> bool {
        matches!(self, Outcome::Answered(status) if is_success(*status))
    }

    /// The status and the error text kept with a retried entry or a dead letter.
    fn last(&self) -> (Option<u16>, Option<String>) {
        match self {
            Outcome::Answered(s) if is_success(*s) => (Some(*s), None),
            Outcome::Answered(s) => (Some(*s), Some(format!("endpoint answered {s}"))),
            Outcome::TimedOut(secs) => (None, Some(format!("no response within {secs} s"))),
            Outcome::Failed(why) => (None, Some(why.clone())),
        }
    }
}

/// A write the object makes to its storage. Each is self-contained (one row, or one rule
/// applied to rows the change names).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    /// Store the subscription and whether it is deleted.
    Subscription {
        subscription: Box<Subscription>,
        deleted: bool,
    },
    /// A new pending entry at the end of the queue.
    Enqueued {
        seq: Seq,
        key: String,
        event: QueuedEvent,
        at: UnixTime,
    },
    /// The head failed and is tried again at `next_at`.
    Retry {
        seq: Seq,
        attempts: u32,
        next_at: UnixTime,
        last_status: Option<u16>,
        last_error: Option<String>,
    },
    /// A validation event was answered 2xx; recording the validation is still to do.
    ValidationAnswered { seq: Seq },
    /// The entry is done: delivered (or, for a validation event, recorded).
    Delivered {
        seq: Seq,
        attempts: u32,
        at: UnixTime,
    },
    /// A pending validation event is no longer needed (validated with `PUT`).
    Cancelled { seq: Seq, at: UnixTime },
    /// The head failed its last attempt: it becomes a dead letter (the row stays, as dead, so
    /// its key is still known).
    DeadLettered {
        seq: Seq,
        attempts: u32,
        at: UnixTime,
        last_status: Option<u16>,
        last_error: Option<String>,
    },
    /// The dead letter `dead` goes back into the queue as the new pending entry `seq`.
    Redelivered {
        dead: Seq,
        seq: Seq,
        key: String,
        at: UnixTime,
    },
    /// Every pending entry is dropped (the subscription was deleted).
    DroppedPending,
    /// Done entries finished before `before` are forgotten.
    Pruned { before: UnixTime },
    /// A trace-log row for an endpoint's answer to entry `seq`.
    Trace {
        seq: Seq,
        activity: Activity,
        status: u16,
        at: UnixTime,
    },
    /// A trace-log row about the subscription itself (disabled, enabled), with why.
    Note {
        activity: Activity,
        detail: String,
        at: UnixTime,
    },
    /// An attempt-log row (the event id is the queue entry's).
    Attempt(Box<AttemptRecord>),
    /// Attempt-log rows up to this id may go, except those of messages still pending or dead.
    PruneAttempts { through: i64 },
    /// The endpoint's health as it now stands.
    Health(Health),
    /// The subscription's signing secrets as they now stand.
    Signing(Box<Signing>),
    /// The head (entry `seq`) is due again at `next_at` (delivery resumed).
    Resumed { seq: Seq, next_at: UnixTime },
}

/// What the object does for the machine, in order.
pub type Action = crate::sansio::Action<Change>;

/// Work of an alarm run; the object reports how it ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Transmit {
    /// POST entry `seq` to the endpoint (attempt 1, 2, …); report with
    /// [`DeliveryQueue::handle_outcome`].
    Post { seq: Seq, attempt: u32 },
    /// Record that the subscription is validated (the event log and the directory); report
    /// with [`DeliveryQueue::handle_validation_recorded`].
    RecordValidation { seq: Seq },
}

/// The subscription is deleted (or was never started): nothing is queued.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Gone;

/// Row states of a stored entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EntryState {
    Pending,
    Done,
    Dead,
}

impl EntryState {
    /// The stored code.
    pub fn code(self) -> i64 {
        match self {
            EntryState::Pending => 0,
            EntryState::Done => 1,
            EntryState::Dead => 2,
        }
    }

    fn from_code(code: i64) -> Option<EntryState> {
        match code {
            0 => Some(EntryState::Pending),
            1 => Some(EntryState::Done),
            2 => Some(EntryState::Dead),
            _ => None,
        }
    }
}

/// A stored queue entry, as the object reads it back (by column name).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct StoredEntry {
    pub seq: i64,
    /// The position the event first had in the queue (names its `webhook-id`).
    pub msg: i64,
    pub origin: String,
    pub event_type: String,
    pub state: i64,
    pub attempts: i64,
    pub next_at: i64,
    pub delivered: i64,
    pub finished: Option<i64>,
}

/// A stored dead letter, as the object reads it back (by column name).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct StoredDeadLetter {
    pub seq: i64,
    pub msg: i64,
    pub origin: String,
    pub event_type: String,
}

/// A stored row the machine cannot be rebuilt from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RestoreError {
    pub seq: i64,
    pub problem: &'static str,
}

impl fmt::Display for RestoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "stored queue entry {}: {}", self.seq, self.problem)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Entry {
    seq: Seq,
    /// The position the event first had (the same after a redelivery).
    message: i64,
    key: String,
    validation: bool,
    attempts: u32,
    next_at: UnixTime,
    /// A validation event answered 2xx whose validation is not recorded yet.
    answered: bool,
}

/// The persisted part of the machine: what [`DeliveryQueue::restore`] rebuilds.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Model {
    subscription: Option<Subscription>,
    deleted: bool,
    /// In `seq` order.
    pending: VecDeque<Entry>,
    /// The key of every stored entry (pending, done or dead): enqueueing one again is a repeat.
    keys: BTreeMap<String, Seq>,
    /// Done entries by (finished, seq), for forgetting them after [`KEEP_DONE_MS`].
    done: BTreeMap<(UnixTime, Seq), String>,
    /// In `seq` order.
    dead_letters: Vec<DeadEntry>,
    health: Health,
    signing: Option<Signing>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct DeadEntry {
    seq: Seq,
    message: i64,
    key: String,
    validation: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Run {
    started: UnixTime,
    items: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum InFlight {
    Post { seq: Seq, validation: bool },
    Record(Seq),
}

/// The queue of one subscription. See the module documentation.
#[derive(Clone, Debug)]
pub struct DeliveryQueue {
    schedule: RetrySchedule,
    /// Disable the subscription after its endpoint failed every attempt this long.
    disable_after_ms: Option<i64>,
    model: Model,
    next_seq: i64,
    last_attempt_id: i64,
    run: Option<Run>,
    in_flight: Option<InFlight>,
    /// After a failed validation record: not again before this.
    record_after: Option<UnixTime>,
    /// The object's alarm as last set by an action (`None`: not known).
    alarm: Option<Option<UnixTime>>,
    actions: VecDeque<Action>,
}

/// Keys of the validation events the queue makes itself. Events from the event log are keyed
/// `{resource}#{outbox id}` and a resource is a URN, so no published event carries this prefix
/// (whatever its `type`).
pub const VALIDATION_KEY_PREFIX: &str = "validate:";

fn is_validation(key: &str) -> bool {
    key.starts_with(VALIDATION_KEY_PREFIX)
}

impl DeliveryQueue {
    /// A queue with nothing stored.
    pub fn new(schedule: RetrySchedule) -> Self {
        DeliveryQueue {
            schedule,
            model: Model {
                subscription: None,
                deleted: false,
                pending: VecDeque::new(),
                keys: BTreeMap::new(),
                done: BTreeMap::new(),
                dead_letters: Vec::new(),
                health: Health::default(),
                signing: None,
            },
            disable_after_ms: None,
            next_seq: 1,
            last_attempt_id: 0,
            run: None,
            in_flight: None,
            record_after: None,
            alarm: None,
            actions: VecDeque::new(),
        }
    }

    /// The machine the stored rows describe: the subscription (and whether it is deleted), every
    /// queue entry and the dead letters. A row that breaks the stored form is an error.
    pub fn restore(
        schedule: RetrySchedule,
        subscription: Option<(Subscription, bool)>,
        mut entries: Vec<StoredEntry>,
        mut dead_letters: Vec<StoredDeadLetter>,
    ) -> Result<Self, RestoreError> {
        let mut queue = DeliveryQueue::new(schedule);
        if let Some((subscription, deleted)) = subscription {
            queue.model.subscription = Some(subscription);
            queue.model.deleted = deleted;
        }
        entries.sort_by_key(|e| e.seq);
        let mut max_seq = 0;
        for row in entries {
            let bad = |problem| RestoreError {
                seq: row.seq,
                problem,
            };
            let seq = Seq(row.seq);
            max_seq = max_seq.max(row.seq);
            let state = EntryState::from_code(row.state).ok_or(bad("unknown state"))?;
            let attempts = u32::try_from(row.attempts).map_err(|_| bad("attempts out of range"))?;
            let answered = match row.delivered {
                0 => false,
                1 => true,
                _ => return Err(bad("delivered is not 0 or 1")),
            };
            let validation = is_validation(&row.origin);
            if answered && !validation {
                return Err(bad("delivered set on an event that is not a validation"));
            }
            if queue.model.keys.insert(row.origin.clone(), seq).is_some() {
                return Err(bad("origin stored twice"));
            }
            match state {
                EntryState::Pending => queue.model.pending.push_back(Entry {
                    seq,
                    message: row.msg,
                    validation,
                    key: row.origin,
                    attempts,
                    next_at: UnixTime::from_millis(row.next_at),
                    answered,
                }),
                EntryState::Done => {
                    let finished = row.finished.ok_or(bad("done without a finishing time"))?;
                    queue
                        .model
                        .done
                        .insert((UnixTime::from_millis(finished), seq), row.origin);
                }
                EntryState::Dead => {}
            }
        }
        dead_letters.sort_by_key(|d| d.seq);
        for row in dead_letters {
            max_seq = max_seq.max(row.seq);
            let validation = is_validation(&row.origin);
            queue.model.dead_letters.push(DeadEntry {
                seq: Seq(row.seq),
                message: row.msg,
                key: row.origin,
                validation,
            });
        }
        queue.next_seq = max_seq.saturating_add(1);
        Ok(queue)
    }

    /// The highest entry number ever given out (stored apart from the rows, which retention and
    /// pruning delete): new entries, and their webhook ids, come after it and are never reused.
    pub fn with_last_seq(mut self, last: i64) -> Self {
        self.next_seq = self.next_seq.max(last.saturating_add(1));
        self
    }

    /// The subscription, if one was ever started here (also when deleted since).
    pub fn subscription(&self) -> Option<&Subscription> {
        self.model.subscription.as_ref()
    }

    /// Whether a subscription is started here and not deleted.
    pub fn is_live(&self) -> bool {
        self.model.subscription.is_some() && !self.model.deleted
    }

    /// Pending entries.
    pub fn pending_len(&self) -> usize {
        self.model.pending.len()
    }

    /// Dead letters.
    pub fn dead_letter_count(&self) -> usize {
        self.model.dead_letters.len()
    }

    /// When the machine next wants [`DeliveryQueue::handle_alarm`] (`None`: nothing to do).
    pub fn poll_timeout(&self) -> Option<UnixTime> {
        if !self.is_live() || self.model.health.disabled_at.is_some() {
            return None;
        }
        let head = self.model.pending.front()?;
        Some(if head.answered {
            self.record_after.unwrap_or(head.next_at)
        } else {
            head.next_at
        })
    }

    /// The next storage change or alarm update, in order.
    pub fn poll_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    /// The next work of the current alarm run, or `None`: the run is over (or waits for the
    /// report of the work in flight).
    pub fn poll_transmit(&mut self, now: UnixTime) -> Option<Transmit> {
        if self.in_flight.is_some() {
            return None;
        }
        let run = self.run?;
        let next = self.next_transmit(run, now);
        match &next {
            Some(Transmit::Post { seq, .. }) => {
                let validation = self.model.pending.front().is_some_and(|e| e.validation);
                self.in_flight = Some(InFlight::Post {
                    seq: *seq,
                    validation,
                });
            }
            Some(Transmit::RecordValidation { seq }) => {
                self.in_flight = Some(InFlight::Record(*seq));
            }
            None => {
                self.run = None;
                self.sync_alarm();
                return None;
            }
        }
        self.run = Some(Run {
            items: run.items.saturating_add(1),
            ..run
        });
        next
    }

    fn next_transmit(&self, run: Run, now: UnixTime) -> Option<Transmit> {
        let due = self.poll_timeout()?;
        let head = self.model.pending.front()?;
        if due > now
            || run.items >= MAX_ITEMS_PER_RUN
            || now.as_millis().saturating_sub(run.started.as_millis()) > MAX_RUN_MS
        {
            return None;
        }
        Some(if head.answered {
            Transmit::RecordValidation { seq: head.seq }
        } else {
            Transmit::Post {
                seq: head.seq,
                attempt: head.attempts.saturating_add(1),
            }
        })
    }

    /// The subscription is started (or started again by a repeated `POST /subscriptions`):
    /// it is stored, not deleted, and its validation event is queued.
    pub fn handle_subscribed(
        &mut self,
        now: UnixTime,
        mut subscription: Subscription,
        validation: QueuedEvent,
    ) {
        // This queue owns `validated`: a copy that has not caught up never takes it back.
        if self
            .model
            .subscription
            .as_ref()
            .is_some_and(|s| s.validated)
        {
            subscription.validated = true;
        }
        self.model.subscription = Some(subscription.clone());
        self.model.deleted = false;
        self.persist(Change::Subscription {
            subscription: Box::new(subscription),
            deleted: false,
        });
        let key = format!("{VALIDATION_KEY_PREFIX}{}", validation.event_id);
        self.insert(now, key, validation);
        self.sync_alarm();
    }

    /// An event for the queue; `Ok(false)`: its key was enqueued before.
    pub fn handle_enqueue(
        &mut self,
        now: UnixTime,
        key: String,
        event: QueuedEvent,
    ) -> Result<bool, Gone> {
        if !self.is_live() {
            return Err(Gone);
        }
        let queued = self.insert(now, key, event);
        self.sync_alarm();
        Ok(queued)
    }

    fn insert(&mut self, now: UnixTime, key: String, event: QueuedEvent) -> bool {
        if self.model.keys.contains_key(&key) {
            return false;
        }
        let seq = self.take_seq();
        self.model.keys.insert(key.clone(), seq);
        self.model.pending.push_back(Entry {
            seq,
            message: seq.0,
            key: key.clone(),
            validation: is_validation(&key),
            attempts: 0,
            next_at: now,
            answered: false,
        });
        self.persist(Change::Enqueued {
            seq,
            key,
            event,
            at: now,
        });
        true
    }

    fn take_seq(&mut self) -> Seq {
        let seq = Seq(self.next_seq);
        self.next_seq = self.next_seq.saturating_add(1);
        seq
    }

    /// The subscription is deleted: pending entries are dropped and nothing more is sent.
    pub fn handle_deleted(&mut self, _now: UnixTime) {
        if let Some(subscription) = &self.model.subscription {
            if !self.model.deleted {
                self.model.deleted = true;
                let subscription = Box::new(subscription.clone());
                self.persist(Change::Subscription {
                    subscription,
                    deleted: true,
                });
            }
        }
        for entry in core::mem::take(&mut self.model.pending) {
            self.model.keys.remove(&entry.key);
        }
        self.record_after = None;
        self.persist(Change::DroppedPending);
        self.sync_alarm();
    }

    /// The subscription was validated with `PUT /subscriptions/validate/{id}`: pending
    /// validation events are no longer needed. (After a validation event succeeded the others
    /// stay: every `POST` sends its own.) False when no live subscription is here: nothing
    /// changes, and there is nothing to validate.
    pub fn handle_validated(&mut self, now: UnixTime) -> bool {
        if !self.is_live() {
            return false;
        }
        if let Some(subscription) = &mut self.model.subscription {
            subscription.validated = true;
            let change = Change::Subscription {
                subscription: Box::new(subscription.clone()),
                deleted: self.model.deleted,
            };
            self.persist(change);
        }
        let (cancelled, kept) = core::mem::take(&mut self.model.pending)
            .into_iter()
            .partition::<VecDeque<_>, _>(|e| e.validation);
        self.model.pending = kept;
        for entry in cancelled {
            self.model.done.insert((now, entry.seq), entry.key);
            self.persist(Change::Cancelled {
                seq: entry.seq,
                at: now,
            });
        }
        if !self.model.pending.front().is_some_and(|e| e.answered) {
            self.record_after = None;
        }
        self.sync_alarm();
        true
    }

    /// `POST …/deadletters/redeliver`: every dead letter goes back to the end of the queue, in
    /// order, with fresh attempts. The number redelivered.
    pub fn handle_redeliver(&mut self, now: UnixTime) -> Result<usize, Gone> {
        if !self.is_live() {
            return Err(Gone);
        }
        let mut redelivered = 0;
        for dead_entry in core::mem::take(&mut self.model.dead_letters) {
            let new_key = format!("{}#redelivered:{}", dead_entry.key, now.as_millis());
            if self.model.keys.contains_key(&new_key) {
                self.model.dead_letters.push(dead_entry);
                continue;
            }
            let DeadEntry {
                seq: dead,
                message,
                validation,
                ..
            } = dead_entry;
            let seq = self.take_seq();
            self.model.keys.insert(new_key.clone(), seq);
            self.model.pending.push_back(Entry {
                seq,
                message,
                key: new_key.clone(),
                validation,
                attempts: 0,
                next_at: now,
                answered: false,
            });
            self.persist(Change::Redelivered {
                dead,
                seq,
                key: new_key,
                at: now,
            });
            redelivered += 1;
        }
        self.sync_alarm();
        Ok(redelivered)
    }

    /// The object's alarm fired: forget old done entries and start a run (poll it with
    /// [`DeliveryQueue::poll_transmit`]).
    pub fn handle_alarm(&mut self, now: UnixTime) {
        // A fired alarm is gone until it is set again.
        self.alarm = Some(None);
        let before = now.plus_millis(-KEEP_DONE_MS);
        let keep = self.model.done.split_off(&(before, Seq(i64::MIN)));
        let forgotten = core::mem::replace(&mut self.model.done, keep);
        if !forgotten.is_empty() {
            for key in forgotten.values() {
                self.model.keys.remove(key);
            }
            self.persist(Change::Pruned { before });
        }
        if self.run.is_none() {
            self.run = Some(Run {
                started: now,
                items: 0,
            });
        }
    }

    /// How the POST of entry `seq` ended (an [`Outcome`], or an [`Attempted`] with the
    /// latency and the start of the answer for the attempt log).
    pub fn handle_outcome(&mut self, now: UnixTime, seq: Seq, attempted: impl Into<Attempted>) {
        let attempted = attempted.into();
        let outcome = &attempted.outcome;
        let Some(InFlight::Post {
            seq: sent,
            validation,
        }) = self.in_flight
        else {
            return;
        };
        if sent != seq {
            return;
        }
        self.in_flight = None;
        if !self.is_live() {
            return;
        }
        if let Outcome::Answered(status) = *outcome {
            let event_type = if validation {
                VALIDATION_EVENT_TYPE
            } else {
                ""
            };
            self.persist(Change::Trace {
                seq,
                activity: response_activity(event_type, status),
                status,
                at: now,
            });
        }
        // Cancelled while in flight: nothing more to do for it.
        let Some(head) = self.model.pending.front_mut().filter(|e| e.seq == seq) else {
            return;
        };
        let attempts = head.attempts.saturating_add(1);
        let message = head.message;
        if outcome.success() {
            if head.validation {
                head.answered = true;
                self.persist(Change::ValidationAnswered { seq });
            } else {
                self.finish(now, attempts);
            }
            self.note_success(now);
            self.record_attempt(now, seq, message, attempts, &attempted, None, None);
            return;
        }
        let (last_status, last_error) = outcome.last();
        let next = self.schedule.next_attempt_at(attempts, now);
        match next {
            Some(next_at) => {
                if let Some(head) = self.model.pending.front_mut() {
                    head.attempts = attempts;
                    head.next_at = next_at;
                }
                self.persist(Change::Retry {
                    seq,
                    attempts,
                    next_at,
                    last_status,
                    last_error,
                });
            }
            None => {
                if let Some(entry) = self.model.pending.pop_front() {
                    self.model.dead_letters.push(DeadEntry {
                        seq: entry.seq,
                        message: entry.message,
                        key: entry.key,
                        validation: entry.validation,
                    });
                }
                self.persist(Change::DeadLettered {
                    seq,
                    attempts,
                    at: now,
                    last_status,
                    last_error,
                });
            }
        }
        let disabled = self.note_failure(now);
        let next = if disabled.is_some() { None } else { next };
        self.record_attempt(now, seq, message, attempts, &attempted, next, disabled);
    }

    /// Whether the validation of entry `seq` was recorded (the event log and the directory
    /// know); if not, it is tried again after [`RECORD_RETRY_MS`].
    pub fn handle_validation_recorded(&mut self, now: UnixTime, seq: Seq, recorded: bool) {
        if self.in_flight != Some(InFlight::Record(seq)) {
            return;
        }
        self.in_flight = None;
        if !self.is_live() {
            return;
        }
        if !recorded {
            self.record_after = Some(now.plus_millis(RECORD_RETRY_MS));
            return;
        }
        self.record_after = None;
        if let Some(subscription) = &mut self.model.subscription {
            if !subscription.validated {
                subscription.validated = true;
                let change = Change::Subscription {
                    subscription: Box::new(subscription.clone()),
                    deleted: false,
                };
                self.persist(change);
            }
        }
        if let Some(head) = self.model.pending.front().filter(|e| e.seq == seq) {
            let attempts = head.attempts.saturating_add(1);
            self.finish(now, attempts);
        }
    }

    /// The head is done.
    fn finish(&mut self, now: UnixTime, attempts: u32) {
        if let Some(entry) = self.model.pending.pop_front() {
            self.model.done.insert((now, entry.seq), entry.key);
            self.persist(Change::Delivered {
                seq: entry.seq,
                attempts,
                at: now,
            });
        }
    }

    fn persist(&mut self, change: Change) {
        self.actions.push_back(Action::Persist(change));
    }

    /// Ask for the alarm the queue needs, if it changed (not during a run: its end decides).
    fn sync_alarm(&mut self) {
        if self.run.is_some() {
            return;
        }
        let want = self.poll_timeout();
        let unknown = crate::sansio::UnknownAlarm::Cancel;
        crate::sansio::sync_alarm(&mut self.alarm, want, unknown, &mut self.actions);
    }
}
