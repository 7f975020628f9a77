//! `EventLog`: one Durable Object per resource (named by its URN). It holds the resource's
//! events in insertion order (SQLite, so sequence numbers are gap-free and events are
//! readable the moment they are stored), the resource's rule document for the built-in PDP,
//! and answers the read queries of both GET APIs for that resource ([`event_query`]).
//!
//! Fan-out is decided by core's [`Outbox`]: this file keeps its rows (subscriptions, outbox,
//! party-index outbox, trace), makes the calls it asks for (the party register, the PDP, the
//! delivery and party objects) and reports back, and sets the alarm it wants. The outbox lives
//! in memory between calls and is rebuilt from the rows after an eviction or any failure here.

use std::cell::RefCell;

use events_core::authz::builtin::{PartyKey, ResourcePolicy};
use events_core::authz::mapping::{publish_request, EventAttrs};
use events_core::authz::xacml::DecisionResponse;
use events_core::event::{EventMeta, EventRecord, PartyId};
use events_core::identity::Claims;
use events_core::matching::SubscriptionId;
use events_core::outbox::{
    targets_text, Action, Change, HandOff, Outbox, OutboxId, Stored, StoredEntry, StoredPartyEntry,
    StoredSubscription, Transmit, RECOVERY_MS,
};
use events_core::push_filter::{MainUnitSearch, PushFilter};
use events_core::subscription::Subscription;
use events_core::time::UnixTime;
use events_core::{urn, ApiError};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use worker::{durable_object, Env, Method, Request, Response, SqlStorageValue, State};

use super::delivery::{EnqueueReply, EnqueueRequest, TraceRow};
use super::directory::IdRequest;
use super::event_query::{self, QueryRequest};
use super::{body_json, json_reply, reply, reply_json, sql_error};
use crate::authz::{self, LocalPolicies};
use crate::{config, http};

/// Store one event (worker → object).
#[derive(Debug, Serialize, Deserialize)]
pub struct PublishRequest {
    pub event: EventRecord,
    /// A publish decision for the built-in PDP to take before storing (`None` when the worker
    /// has already decided).
    pub authorize: Option<PublishCheck>,
    /// Store the event in the log (false for `POST /inbound` and `/outbound`).
    pub store: bool,
    /// Send the event to matching subscriptions (false for `POST /storage/events`).
    pub fan_out: bool,
}

impl PublishRequest {
    /// The storage request for a parsed event (`authorize`: a built-in PDP check to run first).
    pub fn from_event(
        event: &events_core::CloudEvent,
        authorize: Option<PublishCheck>,
        store: bool,
        fan_out: bool,
    ) -> PublishRequest {
        let event = EventRecord::from_event(event);
        PublishRequest {
            event,
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

const SCHEMA: &str = "
CREATE INDEX IF NOT EXISTS events_by_subject ON events (subject, seq);
CREATE TABLE IF NOT EXISTS policy (k INTEGER PRIMARY KEY CHECK (k = 1), doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS subs (
  id INTEGER PRIMARY KEY, subscription TEXT NOT NULL, validated INTEGER NOT NULL,
  include_subunits INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS outbox (
  oid INTEGER PRIMARY KEY AUTOINCREMENT, event_json TEXT NOT NULL, id TEXT NOT NULL,
  source TEXT NOT NULL, subject TEXT, type TEXT NOT NULL, resource_instance TEXT,
  resource TEXT NOT NULL, targets TEXT NOT NULL, progress INTEGER NOT NULL DEFAULT 0,
  attempts INTEGER NOT NULL DEFAULT 0, next_at INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS party_outbox (
  oid INTEGER PRIMARY KEY AUTOINCREMENT, party INTEGER NOT NULL, entry TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS trace (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, time INTEGER NOT NULL, activity TEXT NOT NULL,
  event_id TEXT, event_type TEXT, consumer TEXT, endpoint TEXT, subscription_id INTEGER
);
";

#[durable_object]
pub struct EventLog {
    state: State,
    env: Env,
    /// The rule document, once read (`Some(None)` = there is none).
    policy: RefCell<Option<Option<ResourcePolicy>>>,
    outbox: RefCell<Option<Outbox>>,
}

fn now() -> UnixTime {
    UnixTime::from_millis(super::now_ms())
}

/// A stored row that cannot be read: an error, logged, never a default.
fn corrupt(what: impl std::fmt::Display) -> ApiError {
    worker::console_error!("event log storage is corrupt: {what}");
    ApiError::internal(format!("Stored event log data is corrupt: {what}"))
}

/// JSON text of a value to store.
fn to_json<T: Serialize>(value: &T) -> Result<String, ApiError> {
    serde_json::to_string(value).map_err(|e| ApiError::internal(e.to_string()))
}

fn ok() -> Result<Response, ApiError> {
    reply_json(&serde_json::json!({"ok": true}))
}

impl EventLog {
    fn exec(&self, query: &str, args: Vec<SqlStorageValue>) -> Result<usize, ApiError> {
        let cursor = self
            .state
            .storage()
            .sql()
            .exec(query, args)
            .map_err(sql_error)?;
        Ok(cursor.rows_written())
    }

    /// Rows decoded by column name.
    fn rows<T: DeserializeOwned>(
        &self,
        q: &str,
        args: Vec<SqlStorageValue>,
    ) -> Result<Vec<T>, ApiError> {
        let cursor = self
            .state
            .storage()
            .sql()
            .exec(q, args)
            .map_err(sql_error)?;
        cursor.to_array().map_err(|e| corrupt(format!("{q}: {e}")))
    }

    fn policy(&self) -> Result<Option<ResourcePolicy>, ApiError> {
        #[derive(Deserialize)]
        struct Row {
            doc: String,
        }
        if let Some(p) = self.policy.borrow().as_ref() {
            return Ok(p.clone());
        }
        let rows: Vec<Row> = self.rows("SELECT doc FROM policy WHERE k = 1", vec![])?;
        let doc = match rows.into_iter().next() {
            Some(r) => Some(
                ResourcePolicy::parse(r.doc.as_bytes())
                    .map_err(|e| corrupt(format!("policy: {e:?}")))?,
            ),
            None => None,
        };
        *self.policy.borrow_mut() = Some(doc.clone());
        Ok(doc)
    }

    fn local_policies(&self, resource: &str) -> Result<LocalPolicies, ApiError> {
        let mut local = LocalPolicies::new();
        if let Some(id) = urn::resource_id(resource) {
            local.insert(id.to_owned(), self.policy()?);
        }
        Ok(local)
    }

    /// The outbox as storage describes it.
    fn load(&self) -> Result<Outbox, ApiError> {
        #[derive(Deserialize)]
        struct Sequence {
            name: String,
            seq: i64,
        }
        let subs: Vec<StoredSubscription> =
            self.rows("SELECT id, subscription, validated FROM subs", vec![])?;
        let entries: Vec<StoredEntry> = self.rows(
            "SELECT oid, id, source, subject, type, resource_instance, resource, targets, progress, attempts, next_at FROM outbox",
            vec![],
        )?;
        let party: Vec<StoredPartyEntry> =
            self.rows("SELECT oid, party FROM party_outbox", vec![])?;
        // Ids are never given out twice, also after their rows are gone.
        let seqs: Vec<Sequence> = self.rows(
            "SELECT name, seq FROM sqlite_sequence WHERE name IN ('outbox', 'party_outbox')",
            vec![],
        )?;
        let last = |table: &str| seqs.iter().find(|s| s.name == table).map_or(0, |s| s.seq);
        Outbox::restore(subs, entries, party, last("outbox"), last("party_outbox")).map_err(corrupt)
    }

    /// Feed one input to the outbox and carry out what it asks for: every storage change before
    /// the next `await`, then the alarm. On failure the outbox in memory is dropped.
    async fn drive<R>(&self, input: impl FnOnce(&mut Outbox) -> R) -> Result<R, ApiError> {
        let result = (|| {
            let mut slot = self.outbox.borrow_mut();
            let outbox = match &mut *slot {
                Some(outbox) => outbox,
                None => slot.insert(self.load()?),
            };
            let out = input(outbox);
            let mut alarm = None;
            while let Some(action) = outbox.poll_action() {
                match action {
                    Action::Persist(change) => self.apply(change)?,
                    Action::SetAlarm(at) => alarm = Some(Some(at)),
                    Action::CancelAlarm => alarm = Some(None),
                }
            }
            Ok((out, alarm))
        })();
        let result = match result {
            Ok((out, Some(alarm))) => self.set_alarm(alarm).await.map(|()| out),
            Ok((out, None)) => Ok(out),
            Err(e) => Err(e),
        };
        if result.is_err() {
            self.outbox.replace(None);
        }
        result
    }

    async fn set_alarm(&self, at: Option<UnixTime>) -> Result<(), ApiError> {
        let storage = self.state.storage();
        match at {
            Some(at) => {
                let date = js_sys::Date::new(&(at.as_millis() as f64).into());
                storage.set_alarm(worker::ScheduledTime::new(date)).await
            }
            None => storage.delete_alarm().await,
        }
        .map_err(|e| http::platform_error("Could not schedule background work", e))
    }

    /// One storage change, as SQL.
    fn apply(&self, change: Change) -> Result<(), ApiError> {
        let id = |oid: OutboxId| SqlStorageValue::from(oid.0);
        match change {
            Change::Subscription { subscription: s, validated } => self.exec(
                "INSERT INTO subs (id, subscription, validated, include_subunits) VALUES (?, ?, ?, ?)
                 ON CONFLICT (id) DO UPDATE SET subscription = excluded.subscription, validated = excluded.validated,
                 include_subunits = excluded.include_subunits",
                vec![s.id.into(), to_json(&*s)?.into(), i64::from(validated).into(), i64::from(s.include_subunits).into()],
            ),
            Change::SubscriptionDeleted(sub) => self.exec("DELETE FROM subs WHERE id = ?", vec![sub.into()]),
            Change::SubscriptionValidated(sub) => self.exec("UPDATE subs SET validated = 1 WHERE id = ?", vec![sub.into()]),
            Change::Queued { oid, event, targets, at } => {
                let EventRecord { meta: e, json, .. } = *event;
                self.exec(
                    "INSERT INTO outbox (oid, event_json, id, source, subject, type, resource_instance, resource, targets, next_at)
                     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    vec![id(oid), json.into(), e.id.into(), e.source.into(), e.subject.into(), e.type_.into(),
                         e.resource_instance.into(), e.resource.into(), targets_text(&targets).into(), at.as_millis().into()],
                )
            }
            Change::Progress { oid, progress } => self.exec(
                "UPDATE outbox SET progress = ? WHERE oid = ?",
                vec![(progress as i64).into(), id(oid)],
            ),
            Change::Backoff { oid, attempts, next_at } => self.exec(
                "UPDATE outbox SET attempts = ?, next_at = ? WHERE oid = ?",
                vec![i64::from(attempts).into(), next_at.as_millis().into(), id(oid)],
            ),
            Change::Done(oid) => self.exec("DELETE FROM outbox WHERE oid = ?", vec![id(oid)]),
            Change::PartyQueued { oid, party, event } => self.exec(
                "INSERT INTO party_outbox (oid, party, entry) VALUES (?, ?, ?)",
                vec![id(oid), party.0.into(), to_json(&*event)?.into()],
            ),
            Change::PartyIndexed(oid) => self.exec("DELETE FROM party_outbox WHERE oid = ?", vec![id(oid)]),
            Change::Trace { activity, event_id, event_type, target, at } => {
                let (sub, consumer) = target.map_or((None, None), |(s, c)| (Some(s), Some(c)));
                self.exec(
                    "INSERT INTO trace (time, activity, event_id, event_type, consumer, subscription_id) VALUES (?, ?, ?, ?, ?, ?)",
                    vec![at.as_millis().into(), activity.as_str().into(), event_id.into(), event_type.into(), consumer.into(), sub.into()],
                )
            }
        }
        .map(|_| ())
    }

    async fn publish(&self, req: &mut Request) -> Result<Response, ApiError> {
        let p: PublishRequest = body_json(req).await?;
        let event = &p.event;
        if let Some(check) = &p.authorize {
            let attrs = EventAttrs {
                id: &event.meta.id,
                type_: &event.meta.type_,
                source: &event.meta.source,
                subject: check.subject.as_deref(),
                resource: Some(&check.resource),
                resource_instance: event.meta.resource_instance.as_deref(),
            };
            let request = publish_request(&Claims::new(check.caller.clone()), &attrs, None);
            let local = self.local_policies(&event.meta.resource)?;
            let cfg = config::load(&self.env)?;
            let decision = authz::decide(&self.env, &cfg, &request, &local, None).await?;
            if !decision.first_is_permit() {
                return Err(ApiError::forbidden());
            }
        }
        let search = match p.fan_out {
            true => self.drive(|o| o.main_unit_search(&event.meta)).await?,
            false => None,
        };
        let main_unit = match search {
            Some(search) => self.main_unit(search).await?,
            None => None,
        };
        // From here on nothing awaits until the writes are done: the event, its outbox
        // entries and the trace row are committed together.
        let at = now();
        let stored = if p.store {
            let m = &event.meta;
            let written = self.exec(
                "INSERT INTO events (id, source, subject, alt_subject, type, resource_instance, time_ticks, json, json_utc, registered)
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id, source) DO NOTHING",
                vec![m.id.clone().into(), m.source.clone().into(), m.subject.clone().into(), m.alternative_subject.clone().into(),
                     m.type_.clone().into(), m.resource_instance.clone().into(), super::ticks(m.time_ticks),
                     event.json.clone().into(), event.json_utc.clone().into(), at.as_millis().into()],
            )?;
            if written > 0 {
                Stored::New
            } else {
                Stored::Repeat
            }
        } else {
            Stored::NotKept
        };
        let party = self
            .drive(|o| o.handle_published(at, event, stored, p.fan_out, main_unit.as_deref()))
            .await?;
        // Events about a party are readable through GET /app/party as soon as this answers;
        // if the party's object cannot be reached now, the alarm keeps trying.
        if let Some(party) = party {
            let mut after = None;
            while let Some(oid) = self.drive(|o| o.next_party_entry(party, after)).await? {
                let sent = self.send_party_entry(oid, party).await.is_ok();
                self.drive(|o| o.handle_indexed(now(), oid, sent)).await?;
                if !sent {
                    break;
                }
                after = Some(oid);
            }
        }
        json_reply(&PublishReply {
            stored: stored == Stored::New,
        })
        .map_err(|e| http::platform_error("reply", e))
    }

    /// The main unit's subject for sub-unit delivery, from the party register.
    async fn main_unit(&self, mut search: MainUnitSearch) -> Result<Option<String>, ApiError> {
        loop {
            let party = authz::load_party(&self.env, &search.lookup()).await?;
            match search.handle_party(party) {
                Ok(subject) => return Ok(subject),
                Err(next) => search = next,
            }
        }
    }

    /// Send one party-index entry to the party's object (gone already: sent by someone else).
    async fn send_party_entry(&self, oid: OutboxId, party: PartyId) -> Result<(), ApiError> {
        #[derive(Deserialize)]
        struct Row {
            entry: String,
        }
        let rows: Vec<Row> = self.rows(
            "SELECT entry FROM party_outbox WHERE oid = ?",
            vec![oid.0.into()],
        )?;
        let Some(row) = rows.into_iter().next() else {
            return Ok(());
        };
        let name = authz::party_object_name(&PartyKey::Id(party.0));
        let stub = super::stub(&self.env, super::PARTY, &name)?;
        let sent = super::call(&stub, Method::Post, "index", Some(row.entry.into_bytes())).await;
        if let Err(e) = &sent {
            worker::console_error!("party index update failed: {}", e.describe());
        }
        sent.map(|_| ())
    }

    /// Ask the PDP which consumers may be sent an event (spec §11.6).
    async fn authorize_push(
        &self,
        event: &EventMeta,
        filter: &PushFilter,
    ) -> Result<DecisionResponse, ApiError> {
        let lookups =
            PushFilter::lookup(event).map(|key| (event.subject.clone().unwrap_or_default(), key));
        let replacements =
            authz::person_replacements(&self.env, lookups.into_iter().collect()).await?;
        let request = filter.request(event, &replacements);
        let cfg = config::load(&self.env)?;
        authz::decide(
            &self.env,
            &cfg,
            &request,
            &self.local_policies(&event.resource)?,
            None,
        )
        .await
    }

    /// Hand an outbox entry's event to subscriptions' delivery queues, all at once.
    async fn hand_off(
        &self,
        oid: OutboxId,
        key: String,
        event: &EventMeta,
        subs: &[SubscriptionId],
    ) -> Result<Vec<HandOff>, ApiError> {
        #[derive(Deserialize)]
        struct Row {
            event_json: String,
        }
        let rows: Vec<Row> = self.rows(
            "SELECT event_json FROM outbox WHERE oid = ?",
            vec![oid.0.into()],
        )?;
        let row = rows
            .into_iter()
            .next()
            .ok_or_else(|| corrupt(format!("outbox entry {} is not stored", oid.0)))?;
        let req = EnqueueRequest {
            origin: key,
            event_json: row.event_json,
            event_id: event.id.clone(),
            event_type: event.type_.clone(),
            resource: Some(event.resource.clone()),
        };
        let calls = subs.iter().map(|sub| {
            let req = &req;
            async move {
                let stub = super::stub(&self.env, super::DELIVERY, &sub.to_string())?;
                super::call_json::<_, EnqueueReply>(&stub, Method::Post, "enqueue", req).await
            }
        });
        Ok(futures_util::future::join_all(calls)
            .await
            .into_iter()
            .map(|r| match r {
                Ok(_) => HandOff::Queued,
                Err(e) if e.status == 410 => HandOff::Gone,
                Err(e) => HandOff::Failed(e.describe()),
            })
            .collect())
    }

    /// One alarm run: what the outbox asks for, one step at a time.
    async fn run(&self) -> Result<(), ApiError> {
        self.drive(|o| o.handle_alarm(now())).await?;
        while let Some(transmit) = self.drive(|o| o.poll_transmit(now())).await? {
            match transmit {
                Transmit::Index { oid, party } => {
                    let sent = self.send_party_entry(oid, party).await.is_ok();
                    self.drive(|o| o.handle_indexed(now(), oid, sent)).await?;
                }
                Transmit::Authorize { oid, event, filter } => {
                    let decisions = self.authorize_push(&event, &filter).await.map_err(|e| {
                        worker::console_error!(
                            "fan-out of event {} failed: {}",
                            event.id,
                            e.describe()
                        );
                        e.describe()
                    });
                    self.drive(|o| o.handle_decisions(now(), oid, decisions))
                        .await?;
                }
                Transmit::HandOff {
                    oid,
                    key,
                    event,
                    subscriptions,
                } => {
                    let outcomes = self.hand_off(oid, key, &event, &subscriptions).await?;
                    if let Some(HandOff::Failed(why)) =
                        outcomes.iter().find(|o| matches!(o, HandOff::Failed(_)))
                    {
                        worker::console_error!("fan-out of event {} failed: {why}", event.id);
                    }
                    self.drive(|o| o.handle_handed_off(now(), oid, &outcomes))
                        .await?;
                }
            }
        }
        Ok(())
    }

    fn trace_rows(&self, resource: &str) -> Result<Vec<TraceRow>, ApiError> {
        #[derive(Deserialize)]
        struct Row {
            time: i64,
            activity: String,
            event_id: Option<String>,
            event_type: Option<String>,
            consumer: Option<String>,
            endpoint: Option<String>,
            subscription_id: Option<i64>,
        }
        let rows: Vec<Row> = self.rows(
            "SELECT time, activity, event_id, event_type, consumer, endpoint, subscription_id FROM trace ORDER BY seq",
            vec![],
        )?;
        Ok(rows
            .into_iter()
            .map(|r| TraceRow {
                time: UnixTime::from_millis(r.time).to_timestamp().format(),
                activity: r.activity,
                cloud_event_id: r.event_id,
                resource: Some(resource.to_owned()),
                event_type: r.event_type,
                consumer: r.consumer,
                endpoint: r.endpoint,
                subscription_id: r.subscription_id,
                status_code: None,
            })
            .collect())
    }

    async fn put_policy(&self, req: &mut Request) -> Result<Response, ApiError> {
        let bytes = req
            .bytes()
            .await
            .map_err(|e| http::platform_error("read", e))?;
        let doc = ResourcePolicy::parse(&bytes).map_err(ApiError::bad_request)?;
        let existed = self.policy()?.is_some();
        self.exec(
            "INSERT INTO policy (k, doc) VALUES (1, ?) ON CONFLICT (k) DO UPDATE SET doc = excluded.doc",
            vec![doc.to_json().into()],
        )?;
        *self.policy.borrow_mut() = Some(Some(doc.clone()));
        http::json(if existed { 200 } else { 201 }, doc.to_json())
    }

    fn delete_policy(&self) -> Result<Response, ApiError> {
        if self.policy()?.is_none() {
            return Err(ApiError::not_found());
        }
        self.exec("DELETE FROM policy WHERE k = 1", vec![])?;
        *self.policy.borrow_mut() = Some(None);
        http::empty(204)
    }

    async fn handle(&self, req: &mut Request) -> Result<Response, ApiError> {
        match (req.method(), req.path().as_str()) {
            (Method::Post, "/publish") => self.publish(req).await,
            (Method::Post, "/query") => {
                let q: QueryRequest = body_json(req).await?;
                let local = self.local_policies(&q.resource)?;
                event_query::page(&self.state.storage().sql(), &self.env, &q, &local).await
            }
            (Method::Put, "/policy") => self.put_policy(req).await,
            (Method::Get, "/policy") => match self.policy()? {
                Some(doc) => http::json(200, doc.to_json()),
                None => Err(ApiError::not_found()),
            },
            (Method::Delete, "/policy") => self.delete_policy(),
            (Method::Post, "/sub_upsert") => {
                let u: SubscriptionUpsert = body_json(req).await?;
                self.drive(|o| o.handle_subscription(u.subscription))
                    .await?;
                ok()
            }
            (Method::Post, "/sub_delete") => {
                let r: IdRequest = body_json(req).await?;
                self.drive(|o| o.handle_subscription_deleted(r.id)).await?;
                ok()
            }
            (Method::Post, "/sub_validate") => {
                let r: IdRequest = body_json(req).await?;
                self.drive(|o| o.handle_subscription_validated(r.id))
                    .await?;
                ok()
            }
            (Method::Post, "/trace") => {
                let q: QueryRequest = body_json(req).await?;
                reply_json(&self.trace_rows(&q.resource)?)
            }
            _ => Err(ApiError::not_found()),
        }
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
            outbox: RefCell::new(None),
        }
    }

    async fn fetch(&self, mut req: Request) -> worker::Result<Response> {
        reply(self.handle(&mut req).await)
    }

    async fn alarm(&self) -> worker::Result<Response> {
        if let Err(e) = self.run().await {
            worker::console_error!("fan-out run failed: {}", e.describe());
            // The outbox is intact in storage; run again shortly.
            self.outbox.replace(None);
            let _ = self.set_alarm(Some(now().plus_millis(RECOVERY_MS))).await;
        }
        Response::ok("done")
    }
}
