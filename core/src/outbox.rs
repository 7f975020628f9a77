//! The fan-out of one resource's events as a sans-IO state machine, driven by the `EventLog`
//! Durable Object the way [`crate::delivery_queue::DeliveryQueue`] is driven by `Delivery`:
//! inputs through `handle_*` (each with the time as a [`UnixTime`]), work out through
//! [`Outbox::poll_action`] (storage [`Change`]s and the alarm, drained before the next `await`)
//! and [`Outbox::poll_transmit`] (calls to other objects, polled by the alarm run only).
//!
//! The rules:
//! - The outbox knows the resource's subscriptions (a [`SubscriptionIndex`]). A published event
//!   is matched at once, in the same transaction as its insert, and its entry names the
//!   subscriptions it targets; only validated subscriptions match.
//! - Entries are worked strictly in order: the consumers of an entry's remaining targets are
//!   authorized together ([`PushFilter`], spec §11.6), then its event is handed to the permitted
//!   subscriptions' queues. A large fan-out goes [`HAND_OFF_CHUNK`] subscriptions at a time,
//!   progress recorded after each chunk. Small ones are grouped: the head and the entries behind
//!   it, up to [`HAND_OFF_EVENTS`] events for at most [`HAND_OFF_CHUNK`] subscriptions in all,
//!   go out in one hand-off, each subscription getting its events in order in one call. So when
//!   publishing outpaces the fan-out, the calls and writes per event shrink as the backlog grows.
//!   A subscription deleted meanwhile is handed nothing.
//! - A failure (of the PDP or of a hand-off) stops the run and retries the head after a back-off
//!   of 1, 2, 4, … 64 s; nothing behind it overtakes it, so no subscription sees events out of
//!   order. A run hands off at most [`MAX_ENQUEUES_PER_RUN`] events, works at most
//!   [`MAX_ENTRIES_PER_RUN`] entries and starts no new work once it has lasted
//!   [`RUN_SLICE_MS`]; the rest follows in the next run, at once. The slice lets the queues
//!   that were just handed an event start delivering while a large fan-out goes on (under
//!   `wrangler dev` every object shares one thread, and an object's alarm waits while another
//!   object's alarm handler runs).
//! - App instance events about a party (`/party/{id}`) also go to that party's index, in order.
//!   A publish sends its party's pending entries itself; the alarm sends what is left.

use alloc::boxed::Box;
use alloc::collections::{BTreeSet, VecDeque};
use alloc::format;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use core::fmt;

use serde::Deserialize;

use crate::authz::xacml::DecisionResponse;
use crate::delivery::Activity;
use crate::event::{EventId, EventMeta, EventRecord, PartyId, ResourceUrn};
use crate::matching::{EventKey, MatchEntry, SubscriptionId, SubscriptionIndex};
use crate::push_filter::{MainUnitSearch, Permitted, PushFilter};
use crate::sansio::{self, UnknownAlarm};
use crate::subscription::Subscription;
use crate::time::UnixTime;
use crate::uri::AbsoluteUri;

#[cfg(test)]
mod sim;
#[cfg(test)]
mod tests;

/// Hand-offs to delivery queues per run (an invocation's subrequests are limited).
pub const MAX_ENQUEUES_PER_RUN: usize = 500;
/// Outbox entries worked per run.
pub const MAX_ENTRIES_PER_RUN: usize = 50;
/// Subscriptions handed off to together (their calls run concurrently).
pub const HAND_OFF_CHUNK: usize = 25;
/// Events handed off together, each subscription getting its share in one call.
pub const HAND_OFF_EVENTS: usize = 32;
/// How long a run goes on starting new work (a call in flight is always finished).
pub const RUN_SLICE_MS: i64 = 20;
/// When a publish's party-index entry is sent again after it could not be.
pub const PARTY_RETRY_MS: i64 = 1_000;
/// When the alarm sends party-index entries again after one could not be.
pub const PARTY_RUN_RETRY_MS: i64 = 2_000;
/// When the object runs again after a run failed on the platform.
pub const RECOVERY_MS: i64 = 5_000;

/// The back-off before attempt `attempts + 1` of a failed head: 1 s doubling, at most 64 s.
pub fn backoff_ms(attempts: u32) -> i64 {
    1_000i64 << attempts.min(6)
}

/// An outbox entry's position (the row's `oid`); a party-index entry has its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct OutboxId(pub i64);

/// How an event came to the log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stored {
    /// Inserted now (the first time its `(id, source)` was published).
    New,
    /// Already stored before: nothing more happens.
    Repeat,
    /// Not kept in the log (`POST /inbound`, `/outbound`): fanned out only.
    NotKept,
}

/// How handing an event to one subscription's queue went.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HandOff {
    Queued,
    /// The subscription is gone (deleted since it matched): nothing to deliver.
    Gone,
    Failed(String),
}

/// A write the object makes to its storage.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    /// Store a subscription (insert or replace) with its validation state.
    Subscription {
        subscription: Box<Subscription>,
        validated: bool,
    },
    SubscriptionDeleted(SubscriptionId),
    SubscriptionValidated(SubscriptionId),
    /// A new outbox entry for `event`, targeting `targets` in order.
    Queued {
        oid: OutboxId,
        event: Box<EventRecord>,
        targets: Vec<SubscriptionId>,
        at: UnixTime,
    },
    /// The first `progress` targets of entry `oid` are done.
    Progress {
        oid: OutboxId,
        progress: usize,
    },
    /// Entry `oid` failed; tried again at `next_at`.
    Backoff {
        oid: OutboxId,
        attempts: u32,
        next_at: UnixTime,
    },
    /// Entry `oid` is done (its row goes).
    Done(OutboxId),
    /// A new party-index entry.
    PartyQueued {
        oid: OutboxId,
        party: PartyId,
        event: Box<EventRecord>,
    },
    /// Party-index entry `oid` was sent (its row goes).
    PartyIndexed(OutboxId),
    /// A trace-log row (spec §14).
    Trace {
        activity: Activity,
        event_id: EventId,
        event_type: String,
        /// The subscription and its consumer, for fan-out rows.
        target: Option<(SubscriptionId, String)>,
        at: UnixTime,
    },
}

/// What the object does for the machine, in order.
pub type Action = crate::sansio::Action<Change>;

/// Work of an alarm run; the object reports how it ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Transmit {
    /// Send party-index entry `oid` to the party's object; report with
    /// [`Outbox::handle_indexed`].
    Index { oid: OutboxId, party: PartyId },
    /// Ask the PDP which consumers may be sent the event of entry `oid`; report with
    /// [`Outbox::handle_decisions`].
    Authorize {
        oid: OutboxId,
        event: Box<EventMeta>,
        filter: PushFilter,
    },
    /// Hand these events to these subscriptions' queues, each subscription its share in order
    /// ([`Handed::to`]); report with [`Outbox::handle_handed_off`] (`oid`: the first event's
    /// entry), one outcome per subscription.
    HandOff {
        oid: OutboxId,
        events: Vec<Handed>,
        subscriptions: Vec<SubscriptionId>,
    },
}

/// One event of a hand-off.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Handed {
    pub oid: OutboxId,
    /// Makes a repeat harmless: a queue takes each key once.
    pub key: String,
    pub event: Box<EventMeta>,
    /// The hand-off's subscriptions that get it.
    pub to: Vec<SubscriptionId>,
}

impl Handed {
    /// The events of a hand-off for subscription `sub`, in order.
    pub fn for_subscription(
        events: &[Handed],
        sub: SubscriptionId,
    ) -> impl Iterator<Item = &Handed> {
        events.iter().filter(move |h| h.to.contains(&sub))
    }
}

/// A stored subscription row, read back by column name.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct StoredSubscription {
    pub id: i64,
    /// The subscription as JSON.
    pub subscription: String,
    pub validated: i64,
}

/// A stored outbox row (without the event's text), read back by column name.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct StoredEntry {
    pub oid: i64,
    pub id: EventId,
    pub source: String,
    pub subject: Option<String>,
    #[serde(rename = "type")]
    pub type_: String,
    pub resource_instance: Option<String>,
    pub resource: ResourceUrn,
    /// Subscription ids, comma separated.
    pub targets: String,
    pub progress: i64,
    pub attempts: i64,
    pub next_at: i64,
}

/// A stored party-index row (without the entry's text), read back by column name.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct StoredPartyEntry {
    pub oid: i64,
    pub party: i64,
}

/// A stored row the machine cannot be rebuilt from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RestoreError {
    pub table: &'static str,
    pub key: i64,
    pub problem: String,
}

impl fmt::Display for RestoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "stored {} row {}: {}",
            self.table, self.key, self.problem
        )
    }
}

/// The targets as stored: ids, comma separated.
pub fn targets_text(targets: &[SubscriptionId]) -> String {
    let mut out = String::new();
    for (i, t) in targets.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&format!("{t}"));
    }
    out
}

fn parse_targets(text: &str) -> Option<Vec<SubscriptionId>> {
    if text.is_empty() {
        return Some(Vec::new());
    }
    text.split(',')
        .map(|t| t.parse().ok().map(SubscriptionId))
        .collect()
}

/// The matching-index entry of a subscription.
pub fn match_entry(sub: &Subscription, validated: bool) -> MatchEntry {
    MatchEntry {
        id: sub.id,
        resource: sub.resource_filter.clone(),
        subject: sub.subject_filter.clone(),
        type_: sub.type_filter.clone(),
        source_filter: sub
            .source_filter
            .as_deref()
            .and_then(|s| AbsoluteUri::parse(s).ok()),
        include_subunits: sub.include_subunits,
        validated,
        consumer: sub.consumer.clone(),
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Entry {
    oid: OutboxId,
    event: EventMeta,
    targets: Vec<SubscriptionId>,
    progress: usize,
    attempts: u32,
    next_at: UnixTime,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Run {
    started: UnixTime,
    entries: usize,
    budget: usize,
    /// A party-index entry could not be sent in this run: the rest waits.
    party_stopped: bool,
    /// The PDP gave no answer for this entry behind the head: no group reaches it this run.
    group_stop: Option<OutboxId>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum InFlight {
    Index(OutboxId),
    Authorize(OutboxId),
    /// A chunk of the head `oid` ending at target `end` (`entries` = 1), or the whole of the
    /// first `entries` entries.
    HandOff {
        oid: OutboxId,
        end: usize,
        entries: usize,
    },
}

/// The fan-out of one resource. See the module documentation.
#[derive(Clone, Debug)]
pub struct Outbox {
    index: SubscriptionIndex,
    /// Subscriptions that include sub-units (validated or not).
    subunits: BTreeSet<SubscriptionId>,
    /// In `oid` order.
    entries: VecDeque<Entry>,
    /// (oid, party) in `oid` order.
    party: VecDeque<(OutboxId, PartyId)>,
    last_oid: i64,
    last_party_oid: i64,
    /// After a party-index entry could not be sent: the next try.
    party_retry_at: Option<UnixTime>,
    /// Who may be sent the events of the first entries, once the PDP answered (with their
    /// `oid`s, from the head on).
    permitted: VecDeque<(OutboxId, Permitted)>,
    run: Option<Run>,
    in_flight: Option<InFlight>,
    /// The object's alarm as last set by an action (`None`: not known).
    alarm: Option<Option<UnixTime>>,
    actions: VecDeque<Action>,
}

impl Default for Outbox {
    fn default() -> Self {
        Outbox::new()
    }
}

impl Outbox {
    /// An outbox with nothing stored.
    pub fn new() -> Outbox {
        Outbox {
            index: SubscriptionIndex::new(),
            subunits: BTreeSet::new(),
            entries: VecDeque::new(),
            party: VecDeque::new(),
            last_oid: 0,
            last_party_oid: 0,
            party_retry_at: None,
            permitted: VecDeque::new(),
            run: None,
            in_flight: None,
            alarm: None,
            actions: VecDeque::new(),
        }
    }

    /// The machine the stored rows describe. `last_oid`/`last_party_oid`: the highest ids ever
    /// given out (ids are never reused: a delivery queue remembers an entry's key). Party-index
    /// entries left over are sent at the next chance.
    pub fn restore(
        subscriptions: Vec<StoredSubscription>,
        mut entries: Vec<StoredEntry>,
        mut party: Vec<StoredPartyEntry>,
        last_oid: i64,
        last_party_oid: i64,
    ) -> Result<Outbox, RestoreError> {
        let mut outbox = Outbox::new();
        for row in subscriptions {
            let bad = |problem: String| RestoreError {
                table: "subs",
                key: row.id,
                problem,
            };
            let sub: Subscription = serde_json::from_str(&row.subscription)
                .map_err(|e| bad(format!("subscription: {e}")))?;
            if sub.id != SubscriptionId(row.id) {
                return Err(bad("the subscription has another id".into()));
            }
            let validated = match row.validated {
                0 => false,
                1 => true,
                _ => return Err(bad("validated is not 0 or 1".into())),
            };
            outbox.index_upsert(&sub, validated);
        }
        entries.sort_by_key(|e| e.oid);
        for row in entries {
            let bad = |problem: &str| RestoreError {
                table: "outbox",
                key: row.oid,
                problem: problem.into(),
            };
            let targets = parse_targets(&row.targets).ok_or(bad("targets are not ids"))?;
            let progress = usize::try_from(row.progress)
                .ok()
                .filter(|p| *p <= targets.len())
                .ok_or(bad("progress out of range"))?;
            let attempts = u32::try_from(row.attempts).map_err(|_| bad("attempts out of range"))?;
            outbox.last_oid = outbox.last_oid.max(row.oid);
            outbox.entries.push_back(Entry {
                oid: OutboxId(row.oid),
                event: EventMeta {
                    id: row.id,
                    source: row.source,
                    subject: row.subject,
                    alternative_subject: None,
                    type_: row.type_,
                    resource: row.resource,
                    resource_instance: row.resource_instance,
                    time_ticks: None,
                },
                targets,
                progress,
                attempts,
                next_at: UnixTime::from_millis(row.next_at),
            });
        }
        party.sort_by_key(|p| p.oid);
        for row in party {
            outbox.last_party_oid = outbox.last_party_oid.max(row.oid);
            outbox
                .party
                .push_back((OutboxId(row.oid), PartyId(row.party)));
        }
        if !outbox.party.is_empty() {
            // Whoever wrote them may not have sent them: send them at once.
            outbox.party_retry_at = Some(UnixTime::from_millis(0));
        }
        outbox.last_oid = outbox.last_oid.max(last_oid);
        outbox.last_party_oid = outbox.last_party_oid.max(last_party_oid);
        // Pending work gets its alarm, whatever happened to the one set before.
        outbox.sync_alarm();
        Ok(outbox)
    }

    /// Pending outbox entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty() && self.party.is_empty()
    }

    /// Pending party-index entries.
    pub fn party_len(&self) -> usize {
        self.party.len()
    }

    /// The subscription's matching entry, if it is known here.
    pub fn subscription(&self, id: SubscriptionId) -> Option<&MatchEntry> {
        self.index.get(id)
    }

    /// When the machine next wants [`Outbox::handle_alarm`] (`None`: nothing to do).
    pub fn poll_timeout(&self) -> Option<UnixTime> {
        let head = self.entries.front().map(|e| e.next_at);
        let party = self.party_retry_at.filter(|_| !self.party.is_empty());
        match (head, party) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// The next storage change or alarm update, in order.
    pub fn poll_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    // ---- subscriptions ----

    /// A subscription was created or changed. A validation that already happened stays.
    pub fn handle_subscription(&mut self, subscription: Subscription) {
        let validated =
            subscription.validated || self.index.get(subscription.id).is_some_and(|e| e.validated);
        self.index_upsert(&subscription, validated);
        self.persist(Change::Subscription {
            subscription: Box::new(subscription),
            validated,
        });
    }

    /// A subscription was deleted: it matches nothing more and is handed nothing more.
    pub fn handle_subscription_deleted(&mut self, id: SubscriptionId) {
        self.index.remove(id);
        self.subunits.remove(&id);
        self.persist(Change::SubscriptionDeleted(id));
    }

    /// A subscription's endpoint was validated: it matches events from now on.
    pub fn handle_subscription_validated(&mut self, id: SubscriptionId) {
        self.index.set_validated(id, true);
        self.persist(Change::SubscriptionValidated(id));
    }

    fn index_upsert(&mut self, sub: &Subscription, validated: bool) {
        if sub.include_subunits {
            self.subunits.insert(sub.id);
        } else {
            self.subunits.remove(&sub.id);
        }
        self.index.upsert(match_entry(sub, validated));
    }

    // ---- publishing ----

    /// The register look-ups matching `event` needs first (spec §9 step 2), if any.
    pub fn main_unit_search(&self, event: &EventMeta) -> Option<MainUnitSearch> {
        MainUnitSearch::start(
            event.subject.as_deref(),
            event.alternative_subject.as_deref(),
            !self.subunits.is_empty(),
        )
    }

    /// An event was published to the log (`stored`: how it was kept; `fan_out`: whether to
    /// send it to subscriptions; `main_unit`: the subject found by [`Outbox::main_unit_search`]).
    /// The party whose index entries the publish should send now, if any.
    pub fn handle_published(
        &mut self,
        now: UnixTime,
        event: &EventRecord,
        stored: Stored,
        fan_out: bool,
        main_unit: Option<&str>,
    ) -> Option<PartyId> {
        let meta = &event.meta;
        let mut party = None;
        match stored {
            Stored::Repeat => return None,
            Stored::New => {
                self.persist(Change::Trace {
                    activity: Activity::Registered,
                    event_id: meta.id.clone(),
                    event_type: meta.type_.clone(),
                    target: None,
                    at: now,
                });
                if let Some(p) = meta.indexed_party() {
                    self.last_party_oid += 1;
                    let oid = OutboxId(self.last_party_oid);
                    self.party.push_back((oid, p));
                    self.persist(Change::PartyQueued {
                        oid,
                        party: p,
                        event: Box::new(event.clone()),
                    });
                    party = Some(p);
                }
                if fan_out {
                    self.fan_out(now, event, main_unit);
                }
            }
            // Events that are not kept are only ever sent on.
            Stored::NotKept => self.fan_out(now, event, main_unit),
        }
        self.sync_alarm();
        party
    }

    /// `POST /subscriptions/{id}/replay`: a stored event goes to subscription `only` again (a
    /// new outbox entry, so authorization is checked again and the hand-off is fresh) if it
    /// matches the subscription now. Whether it was queued.
    pub fn handle_replay(
        &mut self,
        now: UnixTime,
        only: SubscriptionId,
        event: &EventRecord,
        main_unit: Option<&str>,
    ) -> bool {
        let queued = self.fan_out_to(now, event, main_unit, Some(only));
        self.sync_alarm();
        queued
    }

    fn fan_out(&mut self, now: UnixTime, event: &EventRecord, main_unit: Option<&str>) {
        self.fan_out_to(now, event, main_unit, None);
    }

    fn fan_out_to(
        &mut self,
        now: UnixTime,
        event: &EventRecord,
        main_unit: Option<&str>,
        only: Option<SubscriptionId>,
    ) -> bool {
        let meta = &event.meta;
        let mut targets = Vec::new();
        self.index.matches(
            &EventKey {
                resource: meta.resource.as_str(),
                subject: meta.subject.as_deref(),
                type_: &meta.type_,
                source: Some(&meta.source),
                main_unit_subject: main_unit,
            },
            &mut targets,
        );
        if let Some(only) = only {
            targets.retain(|t| *t == only);
        }
        if targets.is_empty() {
            return false;
        }
        self.last_oid += 1;
        let oid = OutboxId(self.last_oid);
        self.entries.push_back(Entry {
            oid,
            event: EventMeta {
                alternative_subject: None,
                time_ticks: None,
                ..meta.clone()
            },
            targets: targets.clone(),
            progress: 0,
            attempts: 0,
            next_at: now,
        });
        self.persist(Change::Queued {
            oid,
            event: Box::new(event.clone()),
            targets,
            at: now,
        });
        true
    }

    /// The first pending party-index entry of `party` after `after` (a publish sends its
    /// party's entries in order, reporting each with [`Outbox::handle_indexed`]).
    pub fn next_party_entry(&self, party: PartyId, after: Option<OutboxId>) -> Option<OutboxId> {
        self.party
            .iter()
            .find(|(oid, p)| *p == party && after.is_none_or(|a| *oid > a))
            .map(|(oid, _)| *oid)
    }

    /// Whether party-index entry `oid` reached the party's object.
    pub fn handle_indexed(&mut self, now: UnixTime, oid: OutboxId, sent: bool) {
        if self.in_flight == Some(InFlight::Index(oid)) {
            self.in_flight = None;
            if !sent {
                if let Some(run) = &mut self.run {
                    run.party_stopped = true;
                }
            }
        }
        if sent {
            if let Some(i) = self.party.iter().position(|(o, _)| *o == oid) {
                self.party.remove(i);
                self.persist(Change::PartyIndexed(oid));
            }
            if self.party.is_empty() {
                self.party_retry_at = None;
            }
        } else {
            let wait = if self.run.is_some() {
                PARTY_RUN_RETRY_MS
            } else {
                PARTY_RETRY_MS
            };
            let at = now.plus_millis(wait);
            self.party_retry_at = Some(self.party_retry_at.map_or(at, |t| t.min(at)));
        }
        self.sync_alarm();
    }

    // ---- the alarm run ----

    /// The object's alarm fired: start a run (poll it with [`Outbox::poll_transmit`]).
    pub fn handle_alarm(&mut self, now: UnixTime) {
        self.alarm = Some(None);
        if self.run.is_none() {
            self.party_retry_at = None;
            self.run = Some(Run {
                started: now,
                entries: 0,
                budget: MAX_ENQUEUES_PER_RUN,
                party_stopped: false,
                group_stop: None,
            });
        }
    }

    /// The next work of the current alarm run, or `None`: the run is over (or waits for the
    /// report of the work in flight).
    pub fn poll_transmit(&mut self, now: UnixTime) -> Option<Transmit> {
        if self.in_flight.is_some() {
            return None;
        }
        let mut run = self.run?;
        let next = self.next_transmit(&mut run, now);
        self.run = Some(run);
        if next.is_none() {
            self.run = None;
            self.sync_alarm();
        }
        next
    }

    fn next_transmit(&mut self, run: &mut Run, now: UnixTime) -> Option<Transmit> {
        if !run.party_stopped {
            if let Some(&(oid, party)) = self.party.front() {
                self.in_flight = Some(InFlight::Index(oid));
                return Some(Transmit::Index { oid, party });
            }
        }
        loop {
            let head = self.entries.front()?;
            if head.next_at > now
                || run.entries >= MAX_ENTRIES_PER_RUN
                || now.as_millis().saturating_sub(run.started.as_millis()) >= RUN_SLICE_MS
            {
                return None;
            }
            if self.permitted_at(0).is_none() {
                match self.authorize(0) {
                    Some(transmit) => return Some(transmit),
                    None => {
                        // Nobody left to send it to.
                        self.finish_head(run);
                        continue;
                    }
                }
            }
            if head.progress >= head.targets.len() {
                self.finish_head(run);
                continue;
            }
            if run.budget == 0 {
                return None;
            }
            let transmit = if head.targets.len() - head.progress > HAND_OFF_CHUNK {
                self.next_chunk()
            } else {
                match self.next_group(run, now) {
                    Ok(transmit) => transmit,
                    // An entry behind the head is to be authorized first.
                    Err(authorize) => return Some(authorize),
                }
            };
            match transmit {
                Some(transmit) => {
                    if let Transmit::HandOff { subscriptions, .. } = &transmit {
                        run.budget = run.budget.saturating_sub(subscriptions.len());
                    }
                    return Some(transmit);
                }
                // Nobody permitted: the work is done without a call.
                None => self.handed_off(now, run),
            }
        }
    }

    /// Who may be sent the event of entry `i` (from the head), if the PDP answered.
    fn permitted_at(&self, i: usize) -> Option<&Permitted> {
        let entry = self.entries.get(i)?;
        self.permitted
            .get(i)
            .filter(|(oid, _)| *oid == entry.oid)
            .map(|(_, p)| p)
    }

    /// Ask the PDP about the consumers of entry `i`'s remaining targets (`None`: there are none).
    fn authorize(&mut self, i: usize) -> Option<Transmit> {
        let entry = self.entries.get(i)?;
        let remaining = entry.targets.get(entry.progress..).unwrap_or(&[]);
        let filter = PushFilter::new(
            remaining
                .iter()
                .filter_map(|t| self.index.get(*t))
                .map(|e| e.consumer.as_str()),
        );
        if filter.is_empty() {
            return None;
        }
        self.in_flight = Some(InFlight::Authorize(entry.oid));
        Some(Transmit::Authorize {
            oid: entry.oid,
            event: Box::new(entry.event.clone()),
            filter,
        })
    }

    /// The subscriptions among `targets` that exist and may be sent an event with `permitted`.
    fn permitted_targets<'a>(
        &'a self,
        targets: &'a [SubscriptionId],
        permitted: &'a Permitted,
    ) -> impl Iterator<Item = SubscriptionId> + 'a {
        targets.iter().copied().filter(move |t| {
            self.index
                .get(*t)
                .is_some_and(|e| permitted.allows(&e.consumer))
        })
    }

    fn handed(entry: &Entry, to: Vec<SubscriptionId>) -> Handed {
        Handed {
            oid: entry.oid,
            key: format!("{}#{}", entry.event.resource, entry.oid.0),
            event: Box::new(entry.event.clone()),
            to,
        }
    }

    /// The head's next chunk of targets (`None`: nobody in it is permitted).
    fn next_chunk(&mut self) -> Option<Transmit> {
        let head = self.entries.front()?;
        let permitted = self.permitted_at(0)?;
        let end = (head.progress + HAND_OFF_CHUNK).min(head.targets.len());
        let chunk = head.targets.get(head.progress..end).unwrap_or(&[]);
        let subscriptions: Vec<SubscriptionId> = self.permitted_targets(chunk, permitted).collect();
        self.in_flight = Some(InFlight::HandOff {
            oid: head.oid,
            end,
            entries: 1,
        });
        if subscriptions.is_empty() {
            return None;
        }
        Some(Transmit::HandOff {
            oid: head.oid,
            events: vec![Self::handed(head, subscriptions.clone())],
            subscriptions,
        })
    }

    /// The head and the ready entries behind it that fit one hand-off (`Ok(None)`: nobody in
    /// them is permitted; `Err`: an entry behind the head that would fit is to be authorized).
    fn next_group(&mut self, run: &Run, now: UnixTime) -> Result<Option<Transmit>, Transmit> {
        let limit = HAND_OFF_EVENTS.min(MAX_ENTRIES_PER_RUN.saturating_sub(run.entries).max(1));
        let mut subscriptions: Vec<SubscriptionId> = Vec::new();
        let mut events = Vec::new();
        for (i, entry) in self.entries.iter().enumerate().take(limit) {
            let remaining = entry.targets.get(entry.progress..).unwrap_or(&[]);
            let fits = |candidates: &mut dyn Iterator<Item = SubscriptionId>| {
                let mut union = subscriptions.clone();
                for t in candidates {
                    if !union.contains(&t) {
                        union.push(t);
                    }
                }
                (union.len() <= HAND_OFF_CHUNK).then_some(union)
            };
            if i > 0 {
                let live = &mut remaining
                    .iter()
                    .copied()
                    .filter(|t| self.index.get(*t).is_some());
                if entry.next_at > now
                    || run.group_stop == Some(entry.oid)
                    || remaining.len() > HAND_OFF_CHUNK
                    || fits(live).is_none()
                {
                    break;
                }
            }
            let Some(permitted) = self.permitted_at(i) else {
                return match self.authorize(i) {
                    Some(authorize) => Err(authorize),
                    // Nobody to send it to: it is finished once it is the head.
                    None => break,
                };
            };
            let to: Vec<SubscriptionId> = self.permitted_targets(remaining, permitted).collect();
            let Some(union) = fits(&mut to.iter().copied()) else {
                break;
            };
            subscriptions = union;
            events.push(Self::handed(entry, to));
        }
        let Some(head) = self.entries.front() else {
            return Ok(None);
        };
        let entries = events.len().max(1);
        self.in_flight = Some(InFlight::HandOff {
            oid: head.oid,
            end: head.targets.len(),
            entries,
        });
        events.retain(|h| !h.to.is_empty());
        if subscriptions.is_empty() {
            return Ok(None);
        }
        Ok(Some(Transmit::HandOff {
            oid: head.oid,
            events,
            subscriptions,
        }))
    }

    /// The PDP's answer for the consumers of entry `oid` (`Err`: it gave none).
    pub fn handle_decisions(
        &mut self,
        now: UnixTime,
        oid: OutboxId,
        response: Result<DecisionResponse, String>,
    ) {
        if self.in_flight != Some(InFlight::Authorize(oid)) {
            return;
        }
        self.in_flight = None;
        let position = self.entries.iter().position(|e| e.oid == oid);
        let is_head = position == Some(0);
        match response {
            // Answers are kept for the entries from the head on, without a gap.
            Ok(response) if position == Some(self.permitted.len()) => self
                .permitted
                .push_back((oid, Permitted::from_response(&response))),
            Ok(_) => {}
            Err(_) if is_head => self.fail_head(now, oid),
            Err(_) => {
                // Behind the head: the group ends before it; it is asked again as the head.
                if let Some(run) = &mut self.run {
                    run.group_stop = Some(oid);
                }
            }
        }
    }

    /// How handing off went, one outcome per subscription of the hand-off (`oid`: its first
    /// entry).
    pub fn handle_handed_off(&mut self, now: UnixTime, oid: OutboxId, outcomes: &[HandOff]) {
        let Some(InFlight::HandOff { oid: sent, .. }) = self.in_flight.clone() else {
            return;
        };
        if sent != oid {
            return;
        }
        if outcomes.iter().any(|o| matches!(o, HandOff::Failed(_))) {
            self.in_flight = None;
            self.fail_head(now, oid);
            return;
        }
        let Some(mut run) = self.run else {
            self.in_flight = None;
            return;
        };
        self.handed_off(now, &mut run);
        self.run = Some(run);
    }

    /// The hand-off in flight is done: its chunk, or its whole entries.
    fn handed_off(&mut self, now: UnixTime, run: &mut Run) {
        let Some(InFlight::HandOff { oid, end, entries }) = self.in_flight.take() else {
            return;
        };
        if self.entries.front().map(|h| h.oid) != Some(oid) {
            return;
        }
        if entries <= 1 {
            self.chunk_done(now, run, end);
            return;
        }
        for _ in 0..entries {
            let Some(len) = self.entries.front().map(|h| h.targets.len()) else {
                return;
            };
            self.chunk_done(now, run, len);
        }
    }

    /// The head's targets up to `end` are done: their trace rows and the progress.
    fn chunk_done(&mut self, now: UnixTime, run: &mut Run, end: usize) {
        let Some(head) = self.entries.front_mut() else {
            return;
        };
        let permitted = self
            .permitted
            .front()
            .filter(|(oid, _)| *oid == head.oid)
            .map(|(_, p)| p);
        let mut traces = Vec::new();
        for t in head.targets.get(head.progress..end).unwrap_or(&[]) {
            if let Some(e) = self.index.get(*t) {
                let activity = if permitted.is_some_and(|p| p.allows(&e.consumer)) {
                    Activity::OutboundQueue
                } else {
                    Activity::Unauthorized
                };
                traces.push((activity, e.id, e.consumer.clone()));
            }
        }
        head.progress = end;
        let (oid, event_id, event_type) =
            (head.oid, head.event.id.clone(), head.event.type_.clone());
        for (activity, id, consumer) in traces {
            self.persist(Change::Trace {
                activity,
                event_id: event_id.clone(),
                event_type: event_type.clone(),
                target: Some((id, consumer)),
                at: now,
            });
        }
        self.persist(Change::Progress { oid, progress: end });
        if self
            .entries
            .front()
            .is_some_and(|h| h.progress >= h.targets.len())
        {
            self.finish_head(run);
        }
    }

    fn finish_head(&mut self, run: &mut Run) {
        if let Some(head) = self.entries.pop_front() {
            run.entries += 1;
            if self
                .permitted
                .front()
                .is_some_and(|(oid, _)| *oid == head.oid)
            {
                self.permitted.pop_front();
            }
            self.persist(Change::Done(head.oid));
        }
    }

    fn fail_head(&mut self, now: UnixTime, oid: OutboxId) {
        self.permitted.clear();
        if let Some(head) = self.entries.front_mut().filter(|h| h.oid == oid) {
            let next_at = now.plus_millis(backoff_ms(head.attempts));
            head.attempts = head.attempts.saturating_add(1);
            head.next_at = next_at;
            let attempts = head.attempts;
            self.persist(Change::Backoff {
                oid,
                attempts,
                next_at,
            });
        }
        // The run ends here: nothing behind the head may overtake it.
        self.run = None;
        self.sync_alarm();
    }

    fn persist(&mut self, change: Change) {
        self.actions.push_back(Action::Persist(change));
    }

    /// Ask for the alarm the outbox needs, if it changed (not during a run: its end decides).
    fn sync_alarm(&mut self) {
        if self.run.is_some() {
            return;
        }
        let want = self.poll_timeout();
        // Nothing to do and the alarm not known: an alarm that fires finds nothing, which is
        // cheaper than deleting it on every publish after a restart.
        sansio::sync_alarm(
            &mut self.alarm,
            want,
            UnknownAlarm::Leave,
            &mut self.actions,
        );
    }
}
