//! A deterministic simulation of one resource's fan-out, in quinn's style: a seeded PRNG drives
//! subscriptions coming, going and being validated, publishes (new, repeated, not kept, about
//! parties), alarm runs whose PDP calls, hand-offs and party-index sends fail at random, inputs
//! that arrive while a call is in flight, and restarts (the machine rebuilt from what was
//! persisted, the call in flight lost). After every step the invariants are checked:
//!
//! 1. the persisted rows rebuild the same machine (nothing decided is left unpersisted);
//! 2. per-subscription order: the first hand-off of each entry to a subscription comes after
//!    the first hand-offs of every earlier entry to it;
//! 3. a deleted subscription is handed nothing after its delete;
//! 4. the alarm is set whenever work is pending and no run is going on (no stuck outbox);
//! 5. at the end, with every call succeeding, nothing acknowledged is lost: each entry reached
//!    every target that was never deleted and whose consumer the PDP permits, and each
//!    party-index entry reached its party, in order per party.
//!
//! `SIM_SEEDS=100000 cargo test -p altinn-events-core outbox::sim` runs more seeds.

use alloc::collections::{BTreeMap, BTreeSet};
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use super::*;
use crate::authz::mapping::ATTR_ORG;
use crate::authz::xacml::{Attribute, Decision, DecisionResult, CATEGORY_SUBJECT};
use crate::sansio::Rng;

pub(super) const RESOURCE: &str = "urn:altinn:resource:sim";
pub(super) const INSTANCE: &str =
    "https://ttd.apps.altinn.no/ttd/sim/instances/5/0b6b3e06-4a4b-4bd5-9f3c-9d06bbbf2f5e";

/// A subscription of consumer `/org/{org}` on the simulated resource.
pub(super) fn subscription(id: i64, org: &str, validated: bool) -> Subscription {
    Subscription {
        id: SubscriptionId(id),
        end_point: "https://hook.example/h".to_string(),
        source_filter: None,
        resource_filter: RESOURCE.to_string(),
        subject_filter: None,
        type_filter: None,
        consumer: format!("/org/{org}"),
        created_by: format!("/org/{org}"),
        created: "2025-01-01T00:00:00Z".to_string(),
        validated,
        include_subunits: false,
    }
}

/// An event of the simulated resource (`party`: an app instance event about that party).
pub(super) fn event(id: &str, party: Option<i64>) -> EventRecord {
    EventRecord {
        meta: EventMeta {
            id: id.into(),
            source: match party {
                Some(_) => INSTANCE.to_string(),
                None => "https://sim.example/s".to_string(),
            },
            subject: party.map(|p| format!("/party/{p}")),
            alternative_subject: None,
            type_: "sim.created".to_string(),
            resource: RESOURCE.into(),
            resource_instance: None,
            time_ticks: None,
        },
        json: format!(r#"{{"id":"{id}"}}"#),
        json_utc: None,
    }
}

/// A PDP answer permitting the consumers `/org/{org}` whose org passes `permit`.
pub(super) fn decisions(filter: &PushFilter, permit: impl Fn(&str) -> bool) -> DecisionResponse {
    DecisionResponse {
        results: filter
            .consumers()
            .iter()
            .map(|c| {
                let org = c.strip_prefix("/org/").unwrap_or(c);
                DecisionResult {
                    decision: if permit(org) {
                        Decision::Permit
                    } else {
                        Decision::Deny
                    },
                    categories: alloc::vec![(
                        CATEGORY_SUBJECT.to_string(),
                        alloc::vec![Attribute::new(ATTR_ORG, org, "string")],
                    )],
                    obligations: Vec::new(),
                }
            })
            .collect(),
    }
}

/// The object's storage as the driver's SQL leaves it: what survives a restart.
#[derive(Clone, Debug, Default)]
pub(super) struct Store {
    pub(super) subs: BTreeMap<SubscriptionId, (Subscription, bool)>,
    pub(super) outbox: BTreeMap<OutboxId, StoredEntry>,
    pub(super) party: BTreeMap<OutboxId, (PartyId, EventRecord)>,
    pub(super) last_oid: i64,
    pub(super) last_party_oid: i64,
    pub(super) trace: Vec<(Activity, String, Option<SubscriptionId>)>,
    pub(super) alarm: Option<UnixTime>,
}

impl Store {
    /// Execute one action the way `worker/src/objects/event_log.rs` does.
    pub(super) fn apply(&mut self, action: Action) -> Result<(), String> {
        let Some(change) = action.into_change(&mut self.alarm) else {
            return Ok(());
        };
        match change {
            Change::Subscription {
                subscription,
                validated,
            } => {
                self.subs
                    .insert(subscription.id, (*subscription, validated));
            }
            Change::SubscriptionDeleted(id) => {
                self.subs.remove(&id);
            }
            Change::SubscriptionValidated(id) => {
                if let Some(s) = self.subs.get_mut(&id) {
                    s.1 = true;
                }
            }
            Change::Queued {
                oid,
                event,
                targets,
                at,
            } => {
                if oid.0 <= self.last_oid {
                    return Err(format!("outbox id {oid:?} given out again"));
                }
                self.last_oid = oid.0;
                let m = event.meta;
                self.outbox.insert(
                    oid,
                    StoredEntry {
                        oid: oid.0,
                        id: m.id,
                        source: m.source,
                        subject: m.subject,
                        type_: m.type_,
                        resource_instance: m.resource_instance,
                        resource: m.resource,
                        targets: targets_text(&targets),
                        progress: 0,
                        attempts: 0,
                        next_at: at.as_millis(),
                    },
                );
            }
            Change::Progress { oid, progress } => {
                let row = self.outbox.get_mut(&oid).ok_or("no outbox row")?;
                row.progress = progress as i64;
            }
            Change::Backoff {
                oid,
                attempts,
                next_at,
            } => {
                let row = self.outbox.get_mut(&oid).ok_or("no outbox row")?;
                row.attempts = i64::from(attempts);
                row.next_at = next_at.as_millis();
            }
            Change::Done(oid) => {
                self.outbox.remove(&oid).ok_or("no outbox row")?;
            }
            Change::PartyQueued { oid, party, event } => {
                if oid.0 <= self.last_party_oid {
                    return Err(format!("party id {oid:?} given out again"));
                }
                self.last_party_oid = oid.0;
                self.party.insert(oid, (party, *event));
            }
            Change::PartyIndexed(oid) => {
                self.party.remove(&oid);
            }
            Change::Trace {
                activity,
                event_id,
                target,
                ..
            } => self
                .trace
                .push((activity, event_id.into(), target.map(|t| t.0))),
        }
        Ok(())
    }

    /// The machine the rows describe.
    pub(super) fn restore(&self) -> Outbox {
        let subs = self
            .subs
            .values()
            .map(|(s, v)| StoredSubscription {
                id: s.id.0,
                subscription: serde_json::to_string(s).unwrap(),
                validated: i64::from(*v),
            })
            .collect();
        let party = self
            .party
            .iter()
            .map(|(oid, (p, _))| StoredPartyEntry {
                oid: oid.0,
                party: p.0,
            })
            .collect();
        Outbox::restore(
            subs,
            self.outbox.values().cloned().collect(),
            party,
            self.last_oid,
            self.last_party_oid,
        )
        .unwrap()
    }
}

/// Drain the machine's actions into the store.
pub(super) fn drain(outbox: &mut Outbox, store: &mut Store) {
    while let Some(action) = outbox.poll_action() {
        store.apply(action).unwrap();
    }
}

struct World {
    rng: Rng,
    now: UnixTime,
    outbox: Outbox,
    store: Store,
    next_sub: i64,
    next_event: u32,
    /// Subscriptions ever deleted.
    deleted: BTreeSet<SubscriptionId>,
    /// Entry targets as queued: oid → targets.
    queued: BTreeMap<OutboxId, Vec<SubscriptionId>>,
    /// The oids handed to each subscription, first hand-offs in order.
    handed: BTreeMap<SubscriptionId, Vec<OutboxId>>,
    /// Party entries queued and the ones that reached their party, first sends in order.
    party_queued: BTreeMap<OutboxId, PartyId>,
    indexed: Vec<OutboxId>,
    /// Orgs the PDP denies.
    denied: BTreeSet<String>,
    /// Probability (percent) that a call fails.
    failure: u64,
}

impl World {
    fn new(seed: u64) -> World {
        let mut outbox = Outbox::new();
        let mut store = Store::default();
        outbox.handle_alarm(UnixTime::from_millis(0));
        while outbox.poll_transmit(UnixTime::from_millis(0)).is_some() {}
        drain(&mut outbox, &mut store);
        let mut denied = BTreeSet::new();
        denied.insert("deny".to_string());
        World {
            rng: Rng::new(seed),
            now: UnixTime::from_millis(1_735_725_600_000),
            outbox,
            store,
            next_sub: 1,
            next_event: 1,
            deleted: BTreeSet::new(),
            queued: BTreeMap::new(),
            handed: BTreeMap::new(),
            party_queued: BTreeMap::new(),
            indexed: Vec::new(),
            denied,
            failure: 20,
        }
    }

    fn drain(&mut self) {
        drain(&mut self.outbox, &mut self.store);
    }

    fn fail(&mut self) -> bool {
        let p = self.failure;
        self.rng.chance(p)
    }

    /// One random input that can also arrive while a call is in flight.
    fn input(&mut self) {
        match self.rng.below(10) {
            0..=1 => {
                let id = self.next_sub;
                self.next_sub += 1;
                let org = ["a", "b", "deny"][self.rng.below(3) as usize];
                let validated = self.rng.chance(80);
                self.outbox
                    .handle_subscription(subscription(id, org, validated));
            }
            // Ids of subscriptions made so far (a deleted id is never made again).
            2 if self.next_sub > 1 => {
                let id = 1 + self.rng.below(self.next_sub as u64 - 1) as i64;
                self.outbox.handle_subscription_deleted(SubscriptionId(id));
                self.deleted.insert(SubscriptionId(id));
            }
            3 if self.next_sub > 1 => {
                let id = 1 + self.rng.below(self.next_sub as u64 - 1) as i64;
                self.outbox
                    .handle_subscription_validated(SubscriptionId(id));
            }
            _ => self.publish(),
        }
        self.drain();
    }

    fn publish(&mut self) {
        let n = self.next_event;
        self.next_event += 1;
        let party = self.rng.chance(30).then(|| 1 + self.rng.below(3) as i64);
        let stored = match self.rng.below(10) {
            0 => Stored::Repeat,
            1 => Stored::NotKept,
            _ => Stored::New,
        };
        let before = self.store.last_oid;
        let party_before = self.store.last_party_oid;
        let e = event(&format!("e{n}"), party);
        let to_index = self
            .outbox
            .handle_published(self.now, &e, stored, true, None);
        self.drain();
        if self.store.last_oid > before {
            let oid = OutboxId(self.store.last_oid);
            let row = &self.store.outbox[&oid];
            self.queued
                .insert(oid, parse_targets(&row.targets).unwrap());
        }
        if self.store.last_party_oid > party_before {
            let oid = OutboxId(self.store.last_party_oid);
            self.party_queued.insert(oid, self.store.party[&oid].0);
        }
        // The publish sends its party's entries, as the driver does.
        if let Some(party) = to_index {
            let mut after = None;
            while let Some(oid) = self.outbox.next_party_entry(party, after) {
                let sent = !self.fail();
                if sent {
                    self.index(oid);
                }
                self.outbox.handle_indexed(self.now, oid, sent);
                self.drain();
                if !sent {
                    break;
                }
                after = Some(oid);
            }
        }
    }

    fn index(&mut self, oid: OutboxId) {
        if !self.indexed.contains(&oid) {
            self.indexed.push(oid);
        }
    }

    fn restart(&mut self) {
        self.outbox = self.store.restore();
        self.drain();
    }

    /// One alarm run, with inputs and restarts between its calls. False: it was cut short
    /// by a restart.
    fn run(&mut self) -> bool {
        self.store.alarm = None;
        self.outbox.handle_alarm(self.now);
        self.drain();
        loop {
            let Some(transmit) = self.outbox.poll_transmit(self.now) else {
                self.drain();
                return true;
            };
            self.drain();
            if let Transmit::HandOff {
                oid,
                subscriptions,
                events,
            } = &transmit
            {
                for sub in subscriptions {
                    assert!(
                        !self.deleted.contains(sub),
                        "deleted subscription {sub} handed entry {oid:?}"
                    );
                }
                assert!(events.len() <= HAND_OFF_EVENTS && subscriptions.len() <= HAND_OFF_CHUNK);
                assert!(
                    events.windows(2).all(|w| w[0].oid < w[1].oid),
                    "events out of order"
                );
            }
            // Inputs arrive while the call is in flight.
            if self.rng.chance(15) {
                self.input();
            }
            if self.rng.chance(3) {
                // The isolate goes away with a call in flight; the platform retries the alarm.
                self.restart();
                self.store.alarm.get_or_insert(self.now);
                return false;
            }
            self.now = self.now.plus_millis(self.rng.below(50) as i64);
            match transmit {
                Transmit::Index { oid, .. } => {
                    let sent = !self.fail();
                    if sent {
                        self.index(oid);
                    }
                    self.outbox.handle_indexed(self.now, oid, sent);
                }
                Transmit::Authorize { oid, filter, .. } => {
                    let answer = if self.fail() {
                        Err("PDP down".to_string())
                    } else {
                        let denied = self.denied.clone();
                        Ok(decisions(&filter, |org| !denied.contains(org)))
                    };
                    self.outbox.handle_decisions(self.now, oid, answer);
                }
                Transmit::HandOff {
                    oid,
                    events,
                    subscriptions,
                } => {
                    let mut outcomes = Vec::new();
                    for sub in &subscriptions {
                        let mine: Vec<OutboxId> = Handed::for_subscription(&events, *sub)
                            .map(|h| h.oid)
                            .collect();
                        assert!(!mine.is_empty(), "{sub} handed no event");
                        // A failed call may have queued a first part of its events.
                        let failed = self.fail();
                        let taken = if failed {
                            self.rng.below(mine.len() as u64 + 1) as usize
                        } else {
                            mine.len()
                        };
                        let got = self.handed.entry(*sub).or_default();
                        for handed in mine.into_iter().take(taken) {
                            if !got.contains(&handed) {
                                if let Some(last) = got.last() {
                                    assert!(*last < handed, "{sub} got {handed:?} after {last:?}");
                                }
                                got.push(handed);
                            }
                        }
                        outcomes.push(if failed {
                            HandOff::Failed("down".into())
                        } else {
                            HandOff::Queued
                        });
                    }
                    self.outbox.handle_handed_off(self.now, oid, &outcomes);
                }
            }
            self.drain();
        }
    }

    fn check(&self) {
        let rebuilt = self.store.restore();
        assert_eq!(rebuilt.entries, self.outbox.entries, "outbox rows");
        assert_eq!(rebuilt.party, self.outbox.party, "party rows");
        assert!(rebuilt.last_oid >= self.outbox.last_oid);
        if self.outbox.run.is_none() {
            if let Some(want) = self.outbox.poll_timeout() {
                let alarm = self.store.alarm.expect("work pending without an alarm");
                assert!(alarm <= want, "alarm {alarm:?} after the work at {want:?}");
            }
            if !self.outbox.entries.is_empty() {
                assert!(
                    self.store.alarm.is_some(),
                    "outbox entries without an alarm"
                );
            }
        }
    }

    fn step(&mut self) {
        match self.rng.below(10) {
            0..=4 => self.input(),
            5..=7 => {
                if let Some(at) = self.store.alarm {
                    self.now = self.now.max(at);
                    self.run();
                }
            }
            8 => self.restart(),
            _ => self.now = self.now.plus_millis(self.rng.below(70_000) as i64),
        }
        self.check();
    }

    /// Every call succeeds from now on: run until nothing is left.
    fn settle(&mut self) {
        self.failure = 0;
        for _ in 0..10_000 {
            if self.outbox.is_empty() {
                break;
            }
            let at = self.store.alarm.expect("work pending without an alarm");
            self.now = self.now.max(at);
            if self.run() {
                self.check();
            }
        }
        assert!(self.outbox.is_empty(), "the outbox did not drain");
        for (oid, targets) in &self.queued {
            for t in targets {
                let permitted = self
                    .store
                    .trace
                    .iter()
                    .all(|(a, _, s)| !(*a == Activity::Unauthorized && *s == Some(*t)));
                if self.deleted.contains(t) || !permitted {
                    continue;
                }
                let got = self.handed.get(t).is_some_and(|h| h.contains(oid));
                assert!(got, "entry {oid:?} never reached subscription {t}");
            }
        }
        for oid in self.party_queued.keys() {
            assert!(self.indexed.contains(oid), "party entry {oid:?} never sent");
        }
        for party in self.party_queued.values().collect::<BTreeSet<_>>() {
            let sent: Vec<_> = self
                .indexed
                .iter()
                .filter(|o| self.party_queued.get(o) == Some(party))
                .collect();
            assert!(
                sent.windows(2).all(|w| w[0] < w[1]),
                "party {party:?} out of order"
            );
        }
    }
}

fn seeds() -> u64 {
    #[cfg(not(target_arch = "wasm32"))]
    if let Some(n) = std::env::var("SIM_SEEDS").ok().and_then(|s| s.parse().ok()) {
        return n;
    }
    300
}

#[wasm_bindgen_test::wasm_bindgen_test(unsupported = test)]
fn simulation() {
    for seed in 0..seeds() {
        let mut world = World::new(seed);
        let steps = 40 + world.rng.below(160);
        for _ in 0..steps {
            world.step();
        }
        world.settle();
    }
}
