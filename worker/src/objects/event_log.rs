//! `EventLog`: one Durable Object per resource (named by its URN). It holds the resource's
//! events in insertion order (SQLite, so sequence numbers are gap-free and events are
//! readable the moment they are stored), the resource's rule document for the built-in PDP,
//! and answers the read queries of both GET APIs for that resource.

use std::cell::RefCell;

use events_core::authz::builtin::{PartyKey, ResourcePolicy};
use events_core::authz::mapping::{
    self, subject_attribute, Action, ATTR_EVENT_ID, ATTR_EVENT_SOURCE, ATTR_EVENT_TYPE,
    ATTR_RESOURCE_INSTANCE,
};
use events_core::authz::mapping::{permitted_consumers, push_request, EventAttrs};
use events_core::authz::xacml::{action, Attribute, Category, DecisionRequest, TYPE_STRING};
use events_core::authz::DecisionResponse;
use events_core::delivery::Activity;
use events_core::identity::Claims;
use events_core::matching::{
    main_unit_lookup, main_unit_subject, EventKey, MatchEntry, SubscriptionId, SubscriptionIndex,
};
use events_core::query::like_to_glob;
use events_core::subscription::Subscription;
use events_core::time::Timestamp;
use events_core::uri::AbsoluteUri;
use events_core::{urn, ApiError};
use serde::{Deserialize, Serialize};
use worker::{durable_object, Env, Method, Request, Response, SqlStorage, SqlStorageValue, State};

use super::delivery::{EnqueueReply, EnqueueRequest, TraceRow};
use super::directory::IdRequest;
use super::{body_json, json_reply, reply, reply_json, sql_error};
use crate::authz::{self, LocalPolicies};
use crate::config;
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
    /// A XACML request to decide with the built-in PDP before storing (`None` when the worker
    /// has already decided).
    pub authorize: Option<serde_json::Value>,
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

/// A read (worker → object).
#[derive(Debug, Serialize, Deserialize)]
pub struct QueryRequest {
    pub resource: String,
    /// Event id cursor; unknown ids mean "from the start".
    pub after: Option<String>,
    pub subject: Option<String>,
    pub alternative_subject: Option<String>,
    /// SQL `LIKE` patterns on `type`; `type_ignore_case` selects `ILIKE` semantics.
    pub types: Vec<String>,
    #[serde(default)]
    pub type_ignore_case: bool,
    pub size: u32,
    /// The caller's token claims, for per-event authorization.
    pub caller: serde_json::Map<String, serde_json::Value>,
}

/// Reply headers of a query: number of events, last id, first subject.
pub const H_COUNT: &str = "x-count";
pub const H_LAST_ID: &str = "x-last-id";
pub const H_FIRST_SUBJECT: &str = "x-first-subject";

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS events (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL,
  source TEXT NOT NULL,
  subject TEXT,
  alt_subject TEXT,
  type TEXT NOT NULL,
  resource_instance TEXT,
  time_ticks INTEGER,
  json TEXT NOT NULL,
  json_utc TEXT,
  registered INTEGER NOT NULL,
  UNIQUE (id, source)
);
CREATE INDEX IF NOT EXISTS events_by_id ON events (id);
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
  attempts INTEGER NOT NULL DEFAULT 0,
  next_at INTEGER NOT NULL DEFAULT 0
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

/// Rows scanned per round when filling a page after authorization.
const MAX_TYPE_PATTERNS: usize = 50;

#[durable_object]
pub struct EventLog {
    state: State,
    env: Env,
    /// The rule document, once read (`Some(None)` = there is none).
    policy: RefCell<Option<Option<ResourcePolicy>>>,
    /// The subscriptions on this resource, as a matching index (loaded on first use).
    index: RefCell<Option<SubscriptionIndex>>,
}

struct Row {
    seq: i64,
    id: String,
    source: String,
    subject: Option<String>,
    type_: String,
    resource_instance: Option<String>,
    json: String,
}

fn text(v: Option<&SqlStorageValue>) -> Option<String> {
    match v {
        Some(SqlStorageValue::String(s)) => Some(s.clone()),
        _ => None,
    }
}

fn int(v: Option<&SqlStorageValue>) -> i64 {
    match v {
        Some(SqlStorageValue::Integer(i)) => *i,
        Some(SqlStorageValue::Float(f)) => *f as i64,
        _ => 0,
    }
}

impl EventLog {
    fn sql(&self) -> SqlStorage {
        self.state.storage().sql()
    }

    fn policy(&self) -> Result<Option<ResourcePolicy>, ApiError> {
        if let Some(p) = self.policy.borrow().as_ref() {
            return Ok(p.clone());
        }
        let rows: Vec<Vec<SqlStorageValue>> = self
            .sql()
            .exec("SELECT doc FROM policy WHERE k = 1", None)
            .map_err(sql_error)?
            .raw()
            .collect::<worker::Result<_>>()
            .map_err(sql_error)?;
        let doc = rows
            .first()
            .and_then(|r| text(r.first()))
            .and_then(|d| ResourcePolicy::parse(d.as_bytes()).ok());
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

    async fn publish(&self, req: &mut Request) -> Result<Response, ApiError> {
        let p: PublishRequest = body_json(req).await?;
        if let Some(request) = &p.authorize {
            let request = DecisionRequest::from_json(request)
                .ok_or_else(|| ApiError::internal("Malformed authorization request"))?;
            let cfg = config::load(&self.env)?;
            let decision = authz::decide(
                &self.env,
                &cfg,
                &request,
                &self.local_policies(&p.resource)?,
            )
            .await?;
            if !decision.first_is_permit() {
                return Err(ApiError::forbidden());
            }
        }
        let main_unit = if p.fan_out {
            self.main_unit_subject(&p).await?
        } else {
            None
        };
        // From here on nothing awaits until the writes are done: the event, its outbox entry
        // and the trace row are committed together.
        let now = worker::Date::now().as_millis() as i64;
        if !p.store {
            let queued = self.record_fan_out(&p, main_unit.as_deref(), now)?;
            if queued {
                self.ensure_alarm(now).await?;
            }
            return json_reply(&PublishReply { stored: false })
                .map_err(|e| http::platform_error("reply", e));
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
                    p.time_ticks.into(),
                    p.json.clone().into(),
                    p.json_utc.clone().into(),
                    now.into(),
                ],
            )
            .map_err(sql_error)?;
        let stored = cursor.rows_written() > 0;
        let mut queued = false;
        if stored {
            self.trace(Activity::Registered, &p.id, &p.type_, None)?;
            if p.fan_out {
                queued = self.record_fan_out(&p, main_unit.as_deref(), now)?;
            }
        }
        if queued {
            self.ensure_alarm(now).await?;
        }
        json_reply(&PublishReply { stored }).map_err(|e| http::platform_error("reply", e))
    }

    /// Match the event against this resource's subscriptions and record the targets in the
    /// outbox (synchronously, in the same transaction as the insert). True if anything matched.
    fn record_fan_out(
        &self,
        p: &PublishRequest,
        main_unit: Option<&str>,
        now: i64,
    ) -> Result<bool, ApiError> {
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
    async fn main_unit_subject(&self, p: &PublishRequest) -> Result<Option<String>, ApiError> {
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
    ) -> Result<Vec<Vec<SqlStorageValue>>, ApiError> {
        self.sql()
            .exec(query, args)
            .map_err(sql_error)?
            .raw()
            .collect::<worker::Result<_>>()
            .map_err(sql_error)
    }

    fn trace(
        &self,
        activity: Activity,
        event_id: &str,
        event_type: &str,
        target: Option<(&MatchEntry, Option<&str>)>,
    ) -> Result<(), ApiError> {
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
                    (worker::Date::now().as_millis() as i64).into(),
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

    fn trace_rows(&self, resource: &str) -> Result<Vec<TraceRow>, ApiError> {
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

    async fn ensure_alarm(&self, at: i64) -> Result<(), ApiError> {
        let storage = self.state.storage();
        let current = storage
            .get_alarm()
            .await
            .map_err(|e| http::platform_error("Could not read the fan-out alarm", e))?;
        if current.is_none_or(|t| t > at) {
            storage
                .set_alarm(worker::ScheduledTime::new(js_sys::Date::new(
                    &(at as f64).into(),
                )))
                .await
                .map_err(|e| http::platform_error("Could not schedule fan-out", e))?;
        }
        Ok(())
    }

    /// Run `f` on the matching index, loading it from storage on first use.
    fn with_index<R>(&self, f: impl FnOnce(&mut SubscriptionIndex) -> R) -> Result<R, ApiError> {
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
            None => Err(ApiError::internal("matching index unavailable")),
        }
    }

    fn sub_upsert(&self, sub: &Subscription) -> Result<Response, ApiError> {
        let json = serde_json::to_string(sub).map_err(|e| ApiError::internal(e.to_string()))?;
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

    fn sub_delete(&self, id: SubscriptionId) -> Result<Response, ApiError> {
        self.sql()
            .exec("DELETE FROM subs WHERE id = ?", vec![id.into()])
            .map_err(sql_error)?;
        self.with_index(|index| index.remove(id))?;
        reply_json(&serde_json::json!({"ok": true}))
    }

    fn sub_validate(&self, id: SubscriptionId) -> Result<Response, ApiError> {
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
    async fn run_outbox(&self) -> Result<(), ApiError> {
        let cfg = config::load(&self.env)?;
        for _ in 0..50 {
            let rows = self.rows(
                "SELECT oid, event_json, id, source, subject, type, resource_instance, resource, targets, attempts, next_at
                 FROM outbox ORDER BY oid LIMIT 1",
                Vec::new(),
            )?;
            let Some(r) = rows.first() else {
                return Ok(());
            };
            let oid = int(r.first());
            let next_at = int(r.get(10));
            let now = worker::Date::now().as_millis() as i64;
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
            let targets: Vec<SubscriptionId> = text(r.get(8))
                .unwrap_or_default()
                .split(',')
                .filter_map(|t| t.parse().ok())
                .collect();
            let entries: Vec<MatchEntry> = self.with_index(|index| {
                targets
                    .iter()
                    .filter_map(|t| index.get(*t).cloned())
                    .collect()
            })?;
            let attrs = EventAttrs {
                id: &id,
                type_: &type_,
                source: &source,
                subject: subject.as_deref(),
                resource: Some(&resource),
                resource_instance: resource_instance.as_deref(),
            };
            let result = self.push(&cfg, oid, &attrs, &event_json, &entries).await;
            match result {
                Ok(()) => {
                    self.sql()
                        .exec("DELETE FROM outbox WHERE oid = ?", vec![oid.into()])
                        .map_err(sql_error)?;
                }
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
        self.ensure_alarm(worker::Date::now().as_millis() as i64)
            .await
    }

    async fn push(
        &self,
        cfg: &config::Config,
        oid: i64,
        event: &EventAttrs<'_>,
        event_json: &str,
        entries: &[MatchEntry],
    ) -> Result<(), ApiError> {
        if entries.is_empty() {
            return Ok(());
        }
        let mut consumers: Vec<&str> = entries.iter().map(|e| e.consumer.as_str()).collect();
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
        let response = authz::decide(&self.env, cfg, &request, &local).await?;
        let permitted = permitted_consumers(&response);
        let origin = format!("{}#{}", event.resource.unwrap_or_default(), oid);
        let allowed: Vec<&MatchEntry> = entries
            .iter()
            .filter(|e| permitted.contains(&e.consumer))
            .collect();
        for chunk in allowed.chunks(25) {
            let calls = chunk.iter().map(|entry| {
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
                        Err(e) if e.status == 410 => Ok(()),
                        Err(e) => Err(e),
                    }
                }
            });
            for r in futures_util::future::join_all(calls).await {
                r?;
            }
        }
        for e in entries {
            if permitted.contains(&e.consumer) {
                self.trace(
                    Activity::OutboundQueue,
                    event.id,
                    event.type_,
                    Some((e, None)),
                )?;
            } else {
                self.trace(
                    Activity::Unauthorized,
                    event.id,
                    event.type_,
                    Some((e, None)),
                )?;
            }
        }
        Ok(())
    }

    fn select(&self, q: &QueryRequest, after_seq: i64, limit: u32) -> Result<Vec<Row>, ApiError> {
        let mut sql = String::from(
            "SELECT seq, id, source, subject, type, resource_instance, COALESCE(json_utc, json) FROM events WHERE seq > ?",
        );
        let mut args: Vec<SqlStorageValue> = vec![after_seq.into()];
        if let Some(s) = &q.subject {
            sql.push_str(" AND subject = ?");
            args.push(s.clone().into());
        }
        if let Some(a) = &q.alternative_subject {
            sql.push_str(" AND alt_subject = ?");
            args.push(a.clone().into());
        }
        if !q.types.is_empty() {
            sql.push_str(" AND (");
            for (i, t) in q.types.iter().enumerate() {
                if i > 0 {
                    sql.push_str(" OR ");
                }
                if q.type_ignore_case {
                    sql.push_str("type LIKE ? ESCAPE '\\'");
                    args.push(t.clone().into());
                } else {
                    sql.push_str("type GLOB ?");
                    args.push(like_to_glob(t).into());
                }
            }
            sql.push(')');
        }
        sql.push_str(" ORDER BY seq LIMIT ?");
        args.push((limit as i64).into());
        let cursor = self.sql().exec(&sql, args).map_err(sql_error)?;
        let mut rows = Vec::new();
        for r in cursor.raw() {
            let r = r.map_err(sql_error)?;
            rows.push(Row {
                seq: int(r.first()),
                id: text(r.get(1)).unwrap_or_default(),
                source: text(r.get(2)).unwrap_or_default(),
                subject: text(r.get(3)),
                type_: text(r.get(4)).unwrap_or_default(),
                resource_instance: text(r.get(5)),
                json: text(r.get(6)).unwrap_or_default(),
            });
        }
        Ok(rows)
    }

    fn cursor_position(&self, after: Option<&str>) -> Result<i64, ApiError> {
        let Some(after) = after else { return Ok(0) };
        let rows: Vec<Vec<SqlStorageValue>> = self
            .sql()
            .exec(
                "SELECT MIN(seq) FROM events WHERE id = ?",
                vec![after.into()],
            )
            .map_err(sql_error)?
            .raw()
            .collect::<worker::Result<_>>()
            .map_err(sql_error)?;
        Ok(rows.first().map(|r| int(r.first())).unwrap_or(0))
    }

    /// Which rows the caller may see (action `subscribe`, spec §7.2).
    async fn authorize_rows(
        &self,
        q: &QueryRequest,
        claims: &Claims,
        rows: &[Row],
    ) -> Result<Vec<bool>, ApiError> {
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let replacements = authz::person_subject_replacements(
            &self.env,
            rows.iter().filter_map(|r| r.subject.as_deref()),
        )
        .await?;
        let (res_attr, res_value) = urn::split_last(&q.resource);
        let resources: Vec<Category> = rows
            .iter()
            .map(|r| {
                let mut attrs = Vec::with_capacity(6);
                attrs.push(Attribute::new(ATTR_EVENT_ID, &r.id, TYPE_STRING).included());
                attrs.push(Attribute::new(ATTR_EVENT_TYPE, &r.type_, TYPE_STRING));
                attrs.push(Attribute::new(ATTR_EVENT_SOURCE, &r.source, TYPE_STRING));
                attrs.push(Attribute::new(res_attr, res_value, TYPE_STRING));
                let subject = match r.subject.as_deref() {
                    Some(s) => match replacements.get(s) {
                        Some(replaced) => replaced.as_deref(),
                        None => Some(s),
                    },
                    None => None,
                };
                if let Some(a) = subject.and_then(subject_attribute) {
                    attrs.push(a);
                }
                if let Some(ri) = &r.resource_instance {
                    attrs.push(Attribute::new(ATTR_RESOURCE_INSTANCE, ri, TYPE_STRING));
                }
                Category::new(attrs)
            })
            .collect();
        let request = DecisionRequest::multi(
            vec![mapping::subject_from_claims(claims)],
            vec![action(Action::Subscribe.as_str(), true)],
            resources,
        );
        let cfg = config::load(&self.env)?;
        let response: DecisionResponse = authz::decide(
            &self.env,
            &cfg,
            &request,
            &self.local_policies(&q.resource)?,
        )
        .await?;
        let level = claims.auth_level();
        let is_org = claims.org().is_some();
        let permitted: Vec<&str> = response
            .results
            .iter()
            .filter(|r| r.is_valid_for(level, is_org))
            .filter_map(mapping::result_event_id)
            .collect();
        Ok(rows
            .iter()
            .map(|r| permitted.contains(&r.id.as_str()))
            .collect())
    }

    async fn query(&self, req: &mut Request) -> Result<Response, ApiError> {
        let q: QueryRequest = body_json(req).await?;
        if q.types.len() > MAX_TYPE_PATTERNS {
            return Err(ApiError::bad_request(format!(
                "At most {MAX_TYPE_PATTERNS} 'type' values can be given."
            )));
        }
        let claims = Claims::new(q.caller.clone());
        let size = q.size.max(1) as usize;
        let mut position = self.cursor_position(q.after.as_deref())?;
        let mut body = String::with_capacity(2 + size * 300);
        body.push('[');
        let mut count = 0usize;
        let mut last_id = String::new();
        let mut first_subject: Option<String> = None;
        // Altinn filters a page after the SQL LIMIT, so pages can be short or empty while more
        // events exist. Here the page is filled: keep scanning until it is full or the log
        // ends (bounded, so one request cannot scan a whole log).
        let mut rounds = 0;
        while count < size && rounds < 10 {
            rounds += 1;
            let want = (size - count) as u32;
            let rows = self.select(&q, position, want)?;
            let Some(last) = rows.last() else { break };
            position = last.seq;
            let allowed = self.authorize_rows(&q, &claims, &rows).await?;
            for (row, ok) in rows.iter().zip(allowed) {
                if !ok {
                    continue;
                }
                if count > 0 {
                    body.push_str(", ");
                }
                body.push_str(&row.json);
                if count == 0 {
                    first_subject = row.subject.clone();
                }
                last_id.clone_from(&row.id);
                count += 1;
            }
            if rows.len() < want as usize {
                break;
            }
        }
        body.push(']');
        let mut resp = http::with_body(200, http::CLOUDEVENTS_JSON, body)?;
        http::set_header(&mut resp, H_COUNT, &count.to_string())?;
        if count > 0 {
            http::set_header(&mut resp, H_LAST_ID, &encode_header(&last_id))?;
            if let Some(s) = first_subject {
                http::set_header(&mut resp, H_FIRST_SUBJECT, &encode_header(&s))?;
            }
        }
        Ok(resp)
    }

    async fn put_policy(&self, req: &mut Request) -> Result<Response, ApiError> {
        let bytes = req
            .bytes()
            .await
            .map_err(|e| http::platform_error("read", e))?;
        let doc = ResourcePolicy::parse(&bytes).map_err(ApiError::bad_request)?;
        let existed = self.policy()?.is_some();
        self.sql()
            .exec(
                "INSERT INTO policy (k, doc) VALUES (1, ?) ON CONFLICT (k) DO UPDATE SET doc = excluded.doc",
                vec![doc.to_json().into()],
            )
            .map_err(sql_error)?;
        *self.policy.borrow_mut() = Some(Some(doc.clone()));
        http::json(if existed { 200 } else { 201 }, doc.to_json())
    }

    fn get_policy(&self) -> Result<Response, ApiError> {
        match self.policy()? {
            Some(doc) => http::json(200, doc.to_json()),
            None => Err(ApiError::not_found()),
        }
    }

    fn delete_policy(&self) -> Result<Response, ApiError> {
        if self.policy()?.is_none() {
            return Err(ApiError::not_found());
        }
        self.sql()
            .exec("DELETE FROM policy WHERE k = 1", None)
            .map_err(sql_error)?;
        *self.policy.borrow_mut() = Some(None);
        http::empty(204)
    }
}

/// Header values must be ISO-8859-1 without control characters: percent-encode anything else.
pub fn encode_header(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if (0x20..0x7f).contains(&b) && b != b'%' {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The inverse of [`encode_header`].
pub fn decode_header(s: &str) -> String {
    events_core::query::form_decode(&s.replace('+', "%2B"))
}

impl worker::DurableObject for EventLog {
    fn new(state: State, env: Env) -> Self {
        if let Err(e) = state.storage().sql().exec(SCHEMA, None) {
            worker::console_error!("EventLog schema: {e}");
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
            _ => Err(ApiError::not_found()),
        };
        reply(result)
    }

    async fn alarm(&self) -> worker::Result<Response> {
        if let Err(e) = self.run_outbox().await {
            worker::console_error!("fan-out run failed: {}", e.describe());
            let _ = self
                .ensure_alarm(worker::Date::now().as_millis() as i64 + 5_000)
                .await;
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
