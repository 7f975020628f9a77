//! `EventLog`: one Durable Object per resource (named by its URN). It holds the resource's
//! events in insertion order (SQLite, so sequence numbers are gap-free and events are
//! readable the moment they are stored), the resource's rule document for the built-in PDP,
//! and answers the read queries of both GET APIs for that resource.

use std::cell::RefCell;

use events_core::authz::builtin::{PartyKey, ResourcePolicy};
use events_core::authz::mapping::{permitted_consumers, publish_request, push_request, EventAttrs};
use events_core::delivery::Activity;
use events_core::identity::Claims;
use events_core::matching::{
    main_unit_lookup, main_unit_subject, EventKey, MatchEntry, SubscriptionId, SubscriptionIndex,
};
use events_core::subscription::Subscription;
use events_core::time::Timestamp;
use events_core::uri::AbsoluteUri;
use events_core::{urn, ApiError};
use serde::{Deserialize, Serialize};
use worker::{durable_object, Env, Method, Request, Response, SqlStorage, SqlStorageValue, State};

use super::delivery::{EnqueueReply, EnqueueRequest, TraceRow};
use super::directory::IdRequest;
use super::event_query::{self, QueryRequest};
use super::party::IndexEntry;
use super::{body_json, int, json_reply, reply, reply_json, sql_error, text};
use crate::authz::{self, LocalPolicies};
use crate::config;
use crate::error::Error;
use crate::http;

/// Store one event (worker → object).
#[derive(Debug, Serialize, Deserialize)]
pub struct PublishRequest {
    pub resource: String,
    /// The event as published (canonical JSON, original `time` offset).
    pub json: String,
    /// The read form when it differs (time converted to UTC).
    pub json_utc: Option<String>,
    pub id: String,
    pub source: String,
    pub subject: Option<String>,
    pub alternative_subject: Option<String>,
    #[serde(rename = "type")]
    pub type_: String,
    pub resource_instance: Option<String>,
    /// Event `time` in UTC ticks, for `from`/`to` filters.
    pub time_ticks: Option<i64>,
    /// A publish decision for the built-in PDP to take before storing (`None` when the worker
    /// has already decided).
    pub authorize: Option<PublishCheck>,
    /// Store the event in the log (false for `POST /inbound` and `/outbound`).
    #[serde(default = "yes")]
    pub store: bool,
    /// Send the event to matching subscriptions (false for `POST /storage/events`).
    #[serde(default = "yes")]
    pub fan_out: bool,
}

fn yes() -> bool {
    true
}

impl PublishRequest {
    /// The storage request for a parsed event (`authorize`: a built-in PDP check to run first).
    pub fn from_event(
        event: &events_core::CloudEvent,
        authorize: Option<PublishCheck>,
        store: bool,
        fan_out: bool,
    ) -> PublishRequest {
        PublishRequest {
            resource: event.resource().unwrap_or_default().to_owned(),
            json: event.to_json(),
            json_utc: event.has_non_utc_time().then(|| event.to_json_utc()),
            id: event.id().to_owned(),
            source: event.source().to_owned(),
            subject: event.subject().map(str::to_owned),
            alternative_subject: event.alternative_subject().map(str::to_owned),
            type_: event.type_().to_owned(),
            resource_instance: event.resource_instance().map(str::to_owned),
            time_ticks: event.time().map(|t| t.utc_ticks()),
            authorize,
            store,
            fan_out,
        }
    }
}

/// What the built-in PDP needs to decide a publish (spec §11.4) inside the object that holds the
/// resource's rule document.
#[derive(Debug, Serialize, Deserialize)]
pub struct PublishCheck {
    /// The publisher's token claims.
    pub caller: serde_json::Map<String, serde_json::Value>,
    /// The resource as published (before the legacy-format rewrite).
    pub resource: String,
    /// The subject as the PDP sees it (a person's party uuid, `None` = no subject).
    pub subject: Option<String>,
}

/// A subscription change for the matching index (worker or delivery → object).
#[derive(Debug, Serialize, Deserialize)]
pub struct SubscriptionUpsert {
    pub subscription: Subscription,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct PublishReply {
    /// False when an event with the same (id, source) was already stored.
    pub stored: bool,
}

/// Calls to delivery objects per fan-out run (alarm invocation); the rest follows at once in
/// the next run.
const MAX_ENQUEUES_PER_RUN: usize = 500;

const SCHEMA: &str = "
CREATE INDEX IF NOT EXISTS events_by_subject ON events (subject, seq);
CREATE TABLE IF NOT EXISTS policy (k INTEGER PRIMARY KEY CHECK (k = 1), doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS subs (
  id INTEGER PRIMARY KEY,
  subscription TEXT NOT NULL,
  validated INTEGER NOT NULL,
  include_subunits INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS outbox (
  oid INTEGER PRIMARY KEY AUTOINCREMENT,
  event_json TEXT NOT NULL,
  id TEXT NOT NULL,
  source TEXT NOT NULL,
  subject TEXT,
  type TEXT NOT NULL,
  resource_instance TEXT,
  resource TEXT NOT NULL,
  targets TEXT NOT NULL,
  progress INTEGER NOT NULL DEFAULT 0,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_at INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS party_outbox (
  oid INTEGER PRIMARY KEY AUTOINCREMENT,
  party INTEGER NOT NULL,
  entry TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS trace (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  time INTEGER NOT NULL,
  activity TEXT NOT NULL,
  event_id TEXT,
  event_type TEXT,
  consumer TEXT,
  endpoint TEXT,
  subscription_id INTEGER
);
";

#[durable_object]
pub struct EventLog {
    state: State,
    env: Env,
    /// The rule document, once read (`Some(None)` = there is none).
    policy: RefCell<Option<Option<ResourcePolicy>>>,
    /// The subscriptions on this resource, as a matching index (loaded on first use).
    index: RefCell<Option<SubscriptionIndex>>,
}

impl EventLog {
    fn sql(&self) -> SqlStorage {
        self.state.storage().sql()
    }

    fn policy(&self) -> Result<Option<ResourcePolicy>, Error> {
        if let Some(p) = self.policy.borrow().as_ref() {
            return Ok(p.clone());
        }
        let rows = self.rows("SELECT doc FROM policy WHERE k = 1", Vec::new())?;
        let doc = rows
            .first()
            .and_then(|r| text(r.first()))
            .and_then(|d| ResourcePolicy::parse(d.as_bytes()).ok());
        *self.policy.borrow_mut() = Some(doc.clone());
        Ok(doc)
    }

    fn local_policies(&self, resource: &str) -> Result<LocalPolicies, Error> {
        let mut local = LocalPolicies::new();
        if let Some(id) = urn::resource_id(resource) {
            local.insert(id.to_owned(), self.policy()?);
        }
        Ok(local)
    }

    async fn publish(&self, req: &mut Request) -> Result<Response, Error> {
        let p: PublishRequest = body_json(req).await?;
        if let Some(check) = &p.authorize {
            let event = EventAttrs {
                id: &p.id,
                type_: &p.type_,
                source: &p.source,
                subject: check.subject.as_deref(),
                resource: Some(&check.resource),
                resource_instance: p.resource_instance.as_deref(),
            };
            let request = publish_request(&Claims::new(check.caller.clone()), &event, None);
            let cfg = config::load(&self.env)?;
            let decision = authz::decide(
                &self.env,
                &cfg,
                &request,
                &self.local_policies(&p.resource)?,
                None,
            )
            .await?;
            if !decision.first_is_permit() {
                return Err(Error::Denied);
            }
        }
        let main_unit = if p.fan_out {
            self.main_unit_subject(&p).await?
        } else {
            None
        };
        // From here on nothing awaits until the writes are done: the event, its outbox entry
        // and the trace row are committed together.
        let now = super::now_ms();
        if !p.store {
            let queued = self.record_fan_out(&p, main_unit.as_deref(), now)?;
            if queued {
                self.ensure_alarm(now).await?;
            }
            return json_reply(&PublishReply { stored: false })
                .map_err(|e| Error::platform("reply", e));
        }
        let cursor = self
            .sql()
            .exec(
                "INSERT INTO events (id, source, subject, alt_subject, type, resource_instance, time_ticks, json, json_utc, registered)
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id, source) DO NOTHING",
                vec![
                    p.id.clone().into(),
                    p.source.clone().into(),
                    p.subject.clone().into(),
                    p.alternative_subject.clone().into(),
                    p.type_.clone().into(),
                    p.resource_instance.clone().into(),
                    super::ticks(p.time_ticks),
                    p.json.clone().into(),
                    p.json_utc.clone().into(),
                    now.into(),
                ],
            )
            .map_err(sql_error)?;
        let stored = cursor.rows_written() > 0;
        let mut queued = false;
        let mut party_pending = None;
        if stored {
            self.trace(Activity::Registered, &p.id, &p.type_, None)?;
            party_pending = self.record_party_index(&p)?;
            if p.fan_out {
                queued = self.record_fan_out(&p, main_unit.as_deref(), now)?;
            }
        }
        if queued {
            self.ensure_alarm(now).await?;
        }
        // Events about a party are readable through GET /app/party as soon as this answers;
        // if the party's object cannot be reached now, the alarm keeps trying.
        if let Some(party) = party_pending {
            if self.flush_party_index(Some(party)).await.is_err() {
                self.ensure_alarm(now + 1_000).await?;
            }
        }
        json_reply(&PublishReply { stored }).map_err(|e| Error::platform("reply", e))
    }

    /// For app instance events about a party (`/party/{id}`), record the entry for the party's index (in
    /// the same transaction as the event). The party, if there is one to send.
    fn record_party_index(&self, p: &PublishRequest) -> Result<Option<i64>, Error> {
        // Only app instance events can ever be returned by GET /app/party (spec §6.6).
        let Some(party) = p
            .subject
            .as_deref()
            .and_then(|s| s.strip_prefix("/party/"))
            .and_then(|id| id.parse::<i64>().ok())
            .filter(|_| events_core::cloud_event::is_instance_source(&p.source))
        else {
            return Ok(None);
        };
        let entry = IndexEntry {
            id: p.id.clone(),
            source: p.source.clone(),
            subject: p.subject.clone(),
            alternative_subject: p.alternative_subject.clone(),
            type_: p.type_.clone(),
            resource: p.resource.clone(),
            resource_instance: p.resource_instance.clone(),
            time_ticks: p.time_ticks,
            json: p.json.clone(),
            json_utc: p.json_utc.clone(),
        };
        let json = serde_json::to_string(&entry)?;
        self.sql()
            .exec(
                "INSERT INTO party_outbox (party, entry) VALUES (?, ?)",
                vec![party.into(), json.into()],
            )
            .map_err(sql_error)?;
        Ok(Some(party))
    }

    /// Send pending party-index entries in order; stops at the first failure. Order only
    /// matters within a party (each party's index is its own object), so a publish sends just
    /// its party's pending entries (`only`: usually the one it wrote, after any earlier ones
    /// still pending) and publishes about different parties do not queue behind each other's
    /// calls. The alarm (`only` = `None`) sends everything, oldest first. An entry sent twice
    /// (by two publishes about one party at once) is stored once by the party's object.
    async fn flush_party_index(&self, only: Option<i64>) -> Result<(), Error> {
        if let Some(party) = only {
            let rows = self.rows(
                "SELECT oid, party, entry FROM party_outbox WHERE party = ? ORDER BY oid",
                vec![party.into()],
            )?;
            for r in &rows {
                self.send_party_entry(r).await?;
            }
            return Ok(());
        }
        loop {
            let rows = self.rows(
                "SELECT oid, party, entry FROM party_outbox ORDER BY oid LIMIT 1",
                Vec::new(),
            )?;
            let Some(r) = rows.first() else {
                return Ok(());
            };
            self.send_party_entry(r).await?;
        }
    }

    /// Send one `party_outbox` row (oid, party, entry) to the party's object, then drop it.
    async fn send_party_entry(&self, r: &[SqlStorageValue]) -> Result<(), Error> {
        let oid = int(r.first());
        let party = int(r.get(1));
        let entry = text(r.get(2)).unwrap_or_default();
        let stub = super::stub(
            &self.env,
            super::PARTY,
            &authz::party_object_name(&PartyKey::Id(party)),
        )?;
        super::call(&stub, Method::Post, "index", Some(entry.into_bytes())).await?;
        self.sql()
            .exec("DELETE FROM party_outbox WHERE oid = ?", vec![oid.into()])
            .map_err(sql_error)?;
        Ok(())
    }

    /// Match the event against this resource's subscriptions and record the targets in the
    /// outbox (synchronously, in the same transaction as the insert). True if anything matched.
    fn record_fan_out(
        &self,
        p: &PublishRequest,
        main_unit: Option<&str>,
        now: i64,
    ) -> Result<bool, Error> {
        let mut targets: Vec<SubscriptionId> = Vec::new();
        self.with_index(|index| {
            index.matches(
                &EventKey {
                    resource: &p.resource,
                    subject: p.subject.as_deref(),
                    type_: &p.type_,
                    source: Some(&p.source),
                    main_unit_subject: main_unit,
                },
                &mut targets,
            )
        })?;
        if targets.is_empty() {
            return Ok(false);
        }
        let list = targets
            .iter()
            .map(|t| t.to_string())
            .collect::<Vec<_>>()
            .join(",");
        self.sql()
            .exec(
                "INSERT INTO outbox (event_json, id, source, subject, type, resource_instance, resource, targets, next_at)
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                vec![
                    p.json.clone().into(),
                    p.id.clone().into(),
                    p.source.clone().into(),
                    p.subject.clone().into(),
                    p.type_.clone().into(),
                    p.resource_instance.clone().into(),
                    p.resource.clone().into(),
                    list.into(),
                    now.into(),
                ],
            )
            .map_err(sql_error)?;
        Ok(true)
    }

    /// The main unit's subject for sub-unit delivery (spec §9 step 2), looked up in the party
    /// register only when the event qualifies and some subscription here wants sub-units.
    async fn main_unit_subject(&self, p: &PublishRequest) -> Result<Option<String>, Error> {
        let Some((lookup, format)) =
            main_unit_lookup(p.subject.as_deref(), p.alternative_subject.as_deref())
        else {
            return Ok(None);
        };
        let wants_subunits = !self
            .rows(
                "SELECT 1 FROM subs WHERE include_subunits = 1 LIMIT 1",
                Vec::new(),
            )?
            .is_empty();
        if !wants_subunits {
            return Ok(None);
        }
        let key = if let Some(n) = lookup.strip_prefix("urn:altinn:organization:identifier-no:") {
            PartyKey::OrgNumber(n.to_owned())
        } else if let Some(id) = lookup.strip_prefix("urn:altinn:party:id:") {
            match id.parse() {
                Ok(id) => PartyKey::Id(id),
                Err(_) => return Ok(None),
            }
        } else {
            return Ok(None);
        };
        let Some(unit) = authz::load_party(&self.env, &key).await? else {
            return Ok(None);
        };
        let Some(main_id) = unit.main_unit_party_id else {
            return Ok(None);
        };
        let Some(main) = authz::load_party(&self.env, &PartyKey::Id(main_id)).await? else {
            return Ok(None);
        };
        Ok(main
            .organization_identifier
            .as_deref()
            .map(|org| main_unit_subject(format, org, main_id)))
    }

    fn rows(
        &self,
        query: &str,
        args: Vec<SqlStorageValue>,
    ) -> Result<Vec<Vec<SqlStorageValue>>, Error> {
        super::rows(&self.sql(), query, args)
    }

    fn trace(
        &self,
        activity: Activity,
        event_id: &str,
        event_type: &str,
        target: Option<(&MatchEntry, Option<&str>)>,
    ) -> Result<(), Error> {
        let (consumer, endpoint, sub_id) = match target {
            Some((e, endpoint)) => (
                Some(e.consumer.clone()),
                endpoint.map(str::to_owned),
                Some(e.id),
            ),
            None => (None, None, None),
        };
        self.sql()
            .exec(
                "INSERT INTO trace (time, activity, event_id, event_type, consumer, endpoint, subscription_id) VALUES (?, ?, ?, ?, ?, ?, ?)",
                vec![
                    super::now_ms().into(),
                    activity.as_str().into(),
                    event_id.into(),
                    event_type.into(),
                    consumer.into(),
                    endpoint.into(),
                    sub_id.into(),
                ],
            )
            .map_err(sql_error)?;
        Ok(())
    }

    fn trace_rows(&self, resource: &str) -> Result<Vec<TraceRow>, Error> {
        let rows = self.rows(
            "SELECT time, activity, event_id, event_type, consumer, endpoint, subscription_id FROM trace ORDER BY seq",
            Vec::new(),
        )?;
        Ok(rows
            .iter()
            .map(|r| TraceRow {
                time: Timestamp::from_unix_millis(int(r.first())).format(),
                activity: text(r.get(1)).unwrap_or_default(),
                cloud_event_id: text(r.get(2)),
                resource: Some(resource.to_owned()),
                event_type: text(r.get(3)),
                consumer: text(r.get(4)),
                endpoint: text(r.get(5)),
                subscription_id: match r.get(6) {
                    Some(SqlStorageValue::Integer(i)) => Some(*i),
                    _ => None,
                },
                status_code: None,
            })
            .collect())
    }

    async fn ensure_alarm(&self, at: i64) -> Result<(), Error> {
        super::ensure_alarm(&self.state, at).await
    }

    /// Run `f` on the matching index, loading it from storage on first use.
    fn with_index<R>(&self, f: impl FnOnce(&mut SubscriptionIndex) -> R) -> Result<R, Error> {
        let mut slot = self.index.borrow_mut();
        if slot.is_none() {
            let mut index = SubscriptionIndex::new();
            for r in self.rows("SELECT subscription, validated FROM subs", Vec::new())? {
                if let Some(sub) =
                    text(r.first()).and_then(|j| serde_json::from_str::<Subscription>(&j).ok())
                {
                    let mut entry = match_entry(&sub);
                    entry.validated = int(r.get(1)) != 0;
                    index.upsert(entry);
                }
            }
            *slot = Some(index);
        }
        match slot.as_mut() {
            Some(index) => Ok(f(index)),
            None => Err(Error::platform(
                "The matching index is unavailable",
                "not loaded",
            )),
        }
    }

    fn sub_upsert(&self, sub: &Subscription) -> Result<Response, Error> {
        let json = serde_json::to_string(sub)?;
        // Keep a validation that already happened (a repeated create must not undo it).
        let validated = sub.validated
            || !self
                .rows(
                    "SELECT 1 FROM subs WHERE id = ? AND validated = 1",
                    vec![sub.id.into()],
                )?
                .is_empty();
        self.sql()
            .exec(
                "INSERT INTO subs (id, subscription, validated, include_subunits) VALUES (?, ?, ?, ?)
                 ON CONFLICT (id) DO UPDATE SET subscription = excluded.subscription, validated = excluded.validated,
                 include_subunits = excluded.include_subunits",
                vec![sub.id.into(), json.into(), (validated as i64).into(), (sub.include_subunits as i64).into()],
            )
            .map_err(sql_error)?;
        let mut entry = match_entry(sub);
        entry.validated = validated;
        self.with_index(|index| index.upsert(entry))?;
        reply_json(&serde_json::json!({"ok": true}))
    }

    fn sub_delete(&self, id: SubscriptionId) -> Result<Response, Error> {
        self.sql()
            .exec("DELETE FROM subs WHERE id = ?", vec![id.into()])
            .map_err(sql_error)?;
        self.with_index(|index| index.remove(id))?;
        reply_json(&serde_json::json!({"ok": true}))
    }

    fn sub_validate(&self, id: SubscriptionId) -> Result<Response, Error> {
        self.sql()
            .exec(
                "UPDATE subs SET validated = 1 WHERE id = ?",
                vec![id.into()],
            )
            .map_err(sql_error)?;
        self.with_index(|index| index.set_validated(id, true))?;
        reply_json(&serde_json::json!({"ok": true}))
    }

    /// Work the outbox in order: authorize the consumers of each event (spec §11.6) and hand
    /// the event to each authorized subscription's delivery queue. Stops at the first failure
    /// and retries with back-off, so no subscription ever sees events out of order.
    async fn run_outbox(&self) -> Result<(), Error> {
        let cfg = config::load(&self.env)?;
        // Calls to delivery objects in one run (an invocation's subrequests are limited);
        // a bigger fan-out continues in the next run, from where this one stopped.
        let mut budget = MAX_ENQUEUES_PER_RUN;
        for _ in 0..50 {
            let rows = self.rows(
                "SELECT oid, event_json, id, source, subject, type, resource_instance, resource, targets, attempts, next_at, progress
                 FROM outbox ORDER BY oid LIMIT 1",
                Vec::new(),
            )?;
            let Some(r) = rows.first() else {
                return Ok(());
            };
            let oid = int(r.first());
            let next_at = int(r.get(10));
            let now = super::now_ms();
            if next_at > now {
                return self.ensure_alarm(next_at).await;
            }
            let event_json = text(r.get(1)).unwrap_or_default();
            let id = text(r.get(2)).unwrap_or_default();
            let source = text(r.get(3)).unwrap_or_default();
            let subject = text(r.get(4));
            let type_ = text(r.get(5)).unwrap_or_default();
            let resource_instance = text(r.get(6));
            let resource = text(r.get(7)).unwrap_or_default();
            let attempts = int(r.get(9));
            let progress = usize::try_from(int(r.get(11))).unwrap_or(0);
            let targets: Vec<SubscriptionId> = text(r.get(8))
                .unwrap_or_default()
                .split(',')
                .filter_map(|t| t.parse().ok())
                .collect();
            let attrs = EventAttrs {
                id: &id,
                type_: &type_,
                source: &source,
                subject: subject.as_deref(),
                resource: Some(&resource),
                resource_instance: resource_instance.as_deref(),
            };
            let remaining = targets.get(progress..).unwrap_or(&[]);
            match self
                .push(&cfg, oid, &attrs, &event_json, remaining, &mut budget)
                .await
            {
                Ok(true) => {
                    self.sql()
                        .exec("DELETE FROM outbox WHERE oid = ?", vec![oid.into()])
                        .map_err(sql_error)?;
                }
                Ok(false) => return self.ensure_alarm(super::now_ms()).await,
                Err(e) => {
                    let wait = 1_000i64 << attempts.clamp(0, 6);
                    worker::console_error!(
                        "fan-out of event {id} failed (attempt {}): {}",
                        attempts + 1,
                        e.describe()
                    );
                    self.sql()
                        .exec(
                            "UPDATE outbox SET attempts = attempts + 1, next_at = ? WHERE oid = ?",
                            vec![(now + wait).into(), oid.into()],
                        )
                        .map_err(sql_error)?;
                    return self.ensure_alarm(now + wait).await;
                }
            }
        }
        self.ensure_alarm(super::now_ms()).await
    }

    /// Authorize the consumers of `targets` for the event (spec §11.6) and hand it to each
    /// permitted subscription's delivery queue, a chunk at a time, recording the progress in
    /// the outbox row after each chunk. `Ok(true)` when every target is done; `Ok(false)` when
    /// the run's `budget` of calls ran out first.
    async fn push(
        &self,
        cfg: &config::Config,
        oid: i64,
        event: &EventAttrs<'_>,
        event_json: &str,
        targets: &[SubscriptionId],
        budget: &mut usize,
    ) -> Result<bool, Error> {
        let entries: Vec<Option<MatchEntry>> =
            self.with_index(|index| targets.iter().map(|t| index.get(*t).cloned()).collect())?;
        let mut consumers: Vec<&str> = entries
            .iter()
            .flatten()
            .map(|e| e.consumer.as_str())
            .collect();
        if consumers.is_empty() {
            return Ok(true);
        }
        consumers.sort_unstable();
        consumers.dedup();
        let replacements =
            authz::person_subject_replacements(&self.env, event.subject.into_iter()).await?;
        let subject_override = event
            .subject
            .and_then(|s| replacements.get(s))
            .map(|r| r.as_deref());
        let request = push_request(&consumers, event, subject_override);
        let local = self.local_policies(event.resource.unwrap_or_default())?;
        let response = authz::decide(&self.env, cfg, &request, &local, None).await?;
        let permitted = permitted_consumers(&response);
        let origin = format!("{}#{}", event.resource.unwrap_or_default(), oid);
        for chunk in entries.chunks(25) {
            if *budget == 0 {
                return Ok(false);
            }
            let allowed: Vec<&MatchEntry> = chunk
                .iter()
                .flatten()
                .filter(|e| permitted.contains(&e.consumer))
                .collect();
            *budget = budget.saturating_sub(allowed.len());
            let calls = allowed.iter().map(|entry| {
                let req = EnqueueRequest {
                    origin: origin.clone(),
                    event_json: event_json.to_owned(),
                    event_id: event.id.to_owned(),
                    event_type: event.type_.to_owned(),
                    resource: event.resource.map(str::to_owned),
                };
                let env = &self.env;
                async move {
                    let stub = super::stub(env, super::DELIVERY, &entry.id.to_string())?;
                    match super::call_json::<_, EnqueueReply>(&stub, Method::Post, "enqueue", &req)
                        .await
                    {
                        Ok(_) => Ok(()),
                        // Deleted since it matched: nothing to deliver.
                        Err(e) if e.is_gone() => Ok(()),
                        Err(e) => Err(e),
                    }
                }
            });
            for r in futures_util::future::join_all(calls).await {
                r?;
            }
            for e in chunk.iter().flatten() {
                let activity = if permitted.contains(&e.consumer) {
                    Activity::OutboundQueue
                } else {
                    Activity::Unauthorized
                };
                self.trace(activity, event.id, event.type_, Some((e, None)))?;
            }
            self.sql()
                .exec(
                    "UPDATE outbox SET progress = progress + ? WHERE oid = ?",
                    vec![(chunk.len() as i64).into(), oid.into()],
                )
                .map_err(sql_error)?;
        }
        Ok(true)
    }

    async fn query(&self, req: &mut Request) -> Result<Response, Error> {
        let q: QueryRequest = body_json(req).await?;
        let local = self.local_policies(&q.resource)?;
        event_query::page(&self.sql(), &self.env, &q, &local).await
    }

    async fn put_policy(&self, req: &mut Request) -> Result<Response, Error> {
        let bytes = req.bytes().await.map_err(|e| Error::platform("read", e))?;
        let doc =
            ResourcePolicy::parse(&bytes).map_err(|e| Error::from(ApiError::bad_request(e)))?;
        let existed = self.policy()?.is_some();
        self.sql()
            .exec(
                "INSERT INTO policy (k, doc) VALUES (1, ?) ON CONFLICT (k) DO UPDATE SET doc = excluded.doc",
                vec![doc.to_json().into()],
            )
            .map_err(sql_error)?;
        *self.policy.borrow_mut() = Some(Some(doc.clone()));
        Ok(http::json(if existed { 200 } else { 201 }, doc.to_json())?)
    }

    fn get_policy(&self) -> Result<Response, Error> {
        match self.policy()? {
            Some(doc) => Ok(http::json(200, doc.to_json())?),
            None => Err(Error::NotFound),
        }
    }

    fn delete_policy(&self) -> Result<Response, Error> {
        if self.policy()?.is_none() {
            return Err(Error::NotFound);
        }
        self.sql()
            .exec("DELETE FROM policy WHERE k = 1", None)
            .map_err(sql_error)?;
        *self.policy.borrow_mut() = Some(None);
        Ok(http::empty(204)?)
    }
}

impl worker::DurableObject for EventLog {
    fn new(state: State, env: Env) -> Self {
        let sql = state.storage().sql();
        for schema in [event_query::EVENTS_TABLE, SCHEMA] {
            if let Err(e) = sql.exec(schema, None) {
                worker::console_error!("EventLog schema: {e}");
            }
        }
        EventLog {
            state,
            env,
            policy: RefCell::new(None),
            index: RefCell::new(None),
        }
    }

    async fn fetch(&self, mut req: Request) -> worker::Result<Response> {
        let path = req.path();
        let result = match (req.method(), path.as_str()) {
            (Method::Post, "/publish") => self.publish(&mut req).await,
            (Method::Post, "/query") => self.query(&mut req).await,
            (Method::Put, "/policy") => self.put_policy(&mut req).await,
            (Method::Get, "/policy") => self.get_policy(),
            (Method::Delete, "/policy") => self.delete_policy(),
            (Method::Post, "/sub_upsert") => {
                match body_json::<SubscriptionUpsert>(&mut req).await {
                    Ok(u) => self.sub_upsert(&u.subscription),
                    Err(e) => Err(e),
                }
            }
            (Method::Post, "/sub_delete") => match body_json::<IdRequest>(&mut req).await {
                Ok(r) => self.sub_delete(r.id),
                Err(e) => Err(e),
            },
            (Method::Post, "/sub_validate") => match body_json::<IdRequest>(&mut req).await {
                Ok(r) => self.sub_validate(r.id),
                Err(e) => Err(e),
            },
            (Method::Post, "/trace") => match body_json::<QueryRequest>(&mut req).await {
                Ok(q) => self
                    .trace_rows(&q.resource)
                    .and_then(|rows| reply_json(&rows)),
                Err(e) => Err(e),
            },
            _ => Err(Error::NotFound),
        };
        reply(result)
    }

    async fn alarm(&self) -> worker::Result<Response> {
        if let Err(e) = self.flush_party_index(None).await {
            worker::console_error!("party index update failed: {}", e.describe());
            let _ = self.ensure_alarm(super::now_ms() + 2_000).await;
        }
        if let Err(e) = self.run_outbox().await {
            worker::console_error!("fan-out run failed: {}", e.describe());
            let _ = self.ensure_alarm(super::now_ms() + 5_000).await;
        }
        Response::ok("done")
    }
}

/// The matching-index entry of a subscription.
fn match_entry(sub: &Subscription) -> MatchEntry {
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
        validated: sub.validated,
        consumer: sub.consumer.clone(),
    }
}
