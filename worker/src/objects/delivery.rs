//! `Delivery`: one Durable Object per subscription (named by its id). It owns the
//! subscription's queue: events are POSTed to the endpoint one at a time in the order they
//! were enqueued; a failing head is retried on `DELIVERY_RETRY_DELAYS` and, after the last
//! attempt, moved to the subscription's dead letters so the queue moves on. The object's
//! single alarm drives it, so a pending retry survives restarts.

use events_core::delivery::{self, RetrySchedule, VALIDATION_EVENT_TYPE, WEBHOOK_CONTENT_TYPE};
use events_core::subscription::Subscription;
use events_core::time::Timestamp;
use events_core::ApiError;
use serde::{Deserialize, Serialize};
use worker::{
    durable_object, Env, Fetch, Headers, Method, Request, RequestInit, Response, SqlStorage,
    SqlStorageValue, State,
};

use super::directory::{self, IdRequest};
use super::{
    body_json, call_json, now_ms, opt_int, reply, reply_json, sql_error, stub, text, DIRECTORY,
    EVENT_LOG,
};
use crate::config;

/// Queue row states.
const PENDING: i64 = 0;
const DONE: i64 = 1;
const DEAD: i64 = 2;

/// Items handled per alarm run before yielding (the next run starts at once).
const MAX_ITEMS_PER_RUN: usize = 100;
/// Wall time per alarm run before yielding.
const MAX_RUN_MS: i64 = 60_000;
/// Delivered rows are kept this long so a repeated enqueue of the same origin is ignored.
const KEEP_DONE_MS: i64 = 24 * 3_600_000;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (k INTEGER PRIMARY KEY CHECK (k = 1), subscription TEXT NOT NULL, deleted INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS queue (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  origin TEXT NOT NULL UNIQUE,
  event_json TEXT NOT NULL,
  event_id TEXT NOT NULL,
  event_type TEXT NOT NULL,
  resource TEXT,
  enqueued INTEGER NOT NULL,
  state INTEGER NOT NULL DEFAULT 0,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_at INTEGER NOT NULL,
  delivered INTEGER NOT NULL DEFAULT 0,
  last_status INTEGER,
  last_error TEXT,
  finished INTEGER
);
CREATE INDEX IF NOT EXISTS queue_pending ON queue (state, seq);
CREATE TABLE IF NOT EXISTS dead_letters (
  seq INTEGER PRIMARY KEY,
  origin TEXT NOT NULL,
  event_json TEXT NOT NULL,
  event_id TEXT NOT NULL,
  event_type TEXT NOT NULL,
  resource TEXT,
  enqueued INTEGER NOT NULL,
  attempts INTEGER NOT NULL,
  failed INTEGER NOT NULL,
  last_status INTEGER,
  last_error TEXT
);
CREATE TABLE IF NOT EXISTS trace (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  time INTEGER NOT NULL,
  activity TEXT NOT NULL,
  event_id TEXT,
  resource TEXT,
  event_type TEXT,
  consumer TEXT,
  endpoint TEXT,
  status INTEGER
);
";

/// Start (or restart) a subscription's queue with a validation event (worker → object).
#[derive(Debug, Serialize, Deserialize)]
pub struct InitRequest {
    pub subscription: Subscription,
    pub validation_event_id: String,
    pub validation_event_json: String,
}

/// One event for the queue (event log → object). `origin` makes the enqueue idempotent.
#[derive(Debug, Serialize, Deserialize)]
pub struct EnqueueRequest {
    pub origin: String,
    pub event_json: String,
    pub event_id: String,
    pub event_type: String,
    pub resource: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct EnqueueReply {
    pub queued: bool,
}

/// A trace-log row (spec §14).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TraceRow {
    pub time: String,
    pub activity: String,
    pub cloud_event_id: Option<String>,
    pub resource: Option<String>,
    pub event_type: Option<String>,
    pub consumer: Option<String>,
    pub endpoint: Option<String>,
    pub subscription_id: Option<i64>,
    pub status_code: Option<i64>,
}

/// A dead letter as the API shows it.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeadLetter {
    pub event: serde_json::Value,
    pub attempts: i64,
    pub enqueued: String,
    pub failed: String,
    pub last_status_code: Option<i64>,
    pub last_error: Option<String>,
}

#[durable_object]
pub struct Delivery {
    state: State,
    env: Env,
}

struct Item {
    seq: i64,
    event_json: String,
    event_id: String,
    event_type: String,
    resource: Option<String>,
    attempts: i64,
    next_at: i64,
    delivered: bool,
}

fn iso(ms: i64) -> String {
    Timestamp::from_unix_millis(ms).format()
}

/// The outcome of one webhook POST.
struct Outcome {
    status: Option<u16>,
    error: Option<String>,
}

impl Outcome {
    fn success(&self) -> bool {
        self.status.is_some_and(delivery::is_success)
    }
}

async fn post_webhook(endpoint: &str, body: String, timeout_secs: u32) -> Outcome {
    let headers = Headers::new();
    let _ = headers.set("content-type", WEBHOOK_CONTENT_TYPE);
    let mut init = RequestInit::new();
    init.with_method(Method::Post)
        .with_headers(headers)
        .with_body(Some(body.into()));
    let req = match Request::new_with_init(endpoint, &init) {
        Ok(r) => r,
        Err(e) => {
            return Outcome {
                status: None,
                error: Some(format!("invalid request: {e}")),
            }
        }
    };
    let signal: worker::AbortSignal =
        web_sys::AbortSignal::timeout_with_u32(timeout_secs.saturating_mul(1000)).into();
    match Fetch::Request(req).send_with_signal(&signal).await {
        Ok(mut resp) => {
            let status = resp.status_code();
            // Read (and discard) the body so the connection can be reused.
            let _ = super::body_bytes(&mut resp).await;
            Outcome {
                status: Some(status),
                error: (!delivery::is_success(status))
                    .then(|| format!("endpoint answered {status}")),
            }
        }
        Err(e) => Outcome {
            status: None,
            error: Some(if signal_aborted(&signal) {
                format!("no response within {timeout_secs} s")
            } else {
                format!("request failed: {e}")
            }),
        },
    }
}

fn signal_aborted(signal: &worker::AbortSignal) -> bool {
    signal.aborted()
}

impl Delivery {
    fn sql(&self) -> SqlStorage {
        self.state.storage().sql()
    }

    fn rows(
        &self,
        query: &str,
        args: Vec<SqlStorageValue>,
    ) -> Result<Vec<Vec<SqlStorageValue>>, ApiError> {
        super::rows(&self.sql(), query, args)
    }

    fn exec(&self, query: &str, args: Vec<SqlStorageValue>) -> Result<(), ApiError> {
        self.sql().exec(query, args).map_err(sql_error).map(|_| ())
    }

    /// The subscription and whether it was deleted.
    fn meta(&self) -> Result<Option<(Subscription, bool)>, ApiError> {
        let rows = self.rows(
            "SELECT subscription, deleted FROM meta WHERE k = 1",
            Vec::new(),
        )?;
        Ok(rows.first().and_then(|r| {
            let sub: Subscription = serde_json::from_str(&text(r.first())?).ok()?;
            Some((sub, opt_int(r.get(1)).unwrap_or(0) != 0))
        }))
    }

    fn live_subscription(&self) -> Result<Option<Subscription>, ApiError> {
        Ok(self
            .meta()?
            .and_then(|(s, deleted)| (!deleted).then_some(s)))
    }

    async fn ensure_alarm(&self, at: i64) -> Result<(), ApiError> {
        super::ensure_alarm(&self.state, at).await
    }

    fn insert_item(
        &self,
        origin: &str,
        event_json: &str,
        event_id: &str,
        event_type: &str,
        resource: Option<&str>,
    ) -> Result<bool, ApiError> {
        let now = now_ms();
        let cursor = self
            .sql()
            .exec(
                "INSERT INTO queue (origin, event_json, event_id, event_type, resource, enqueued, next_at)
                 VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (origin) DO NOTHING",
                vec![
                    origin.into(),
                    event_json.into(),
                    event_id.into(),
                    event_type.into(),
                    resource.map(str::to_owned).into(),
                    now.into(),
                    now.into(),
                ],
            )
            .map_err(sql_error)?;
        Ok(cursor.rows_written() > 0)
    }

    async fn init(&self, req: InitRequest) -> Result<Response, ApiError> {
        let json = serde_json::to_string(&req.subscription)
            .map_err(|e| ApiError::internal(e.to_string()))?;
        self.exec(
            "INSERT INTO meta (k, subscription, deleted) VALUES (1, ?, 0)
             ON CONFLICT (k) DO UPDATE SET subscription = excluded.subscription, deleted = 0",
            vec![json.into()],
        )?;
        let origin = format!("validate:{}", req.validation_event_id);
        self.insert_item(
            &origin,
            &req.validation_event_json,
            &req.validation_event_id,
            VALIDATION_EVENT_TYPE,
            None,
        )?;
        self.ensure_alarm(now_ms()).await?;
        reply_json(&EnqueueReply { queued: true })
    }

    async fn enqueue(&self, req: EnqueueRequest) -> Result<Response, ApiError> {
        if self.live_subscription()?.is_none() {
            return Err(ApiError::empty(410));
        }
        let queued = self.insert_item(
            &req.origin,
            &req.event_json,
            &req.event_id,
            &req.event_type,
            req.resource.as_deref(),
        )?;
        if queued {
            self.ensure_alarm(now_ms()).await?;
        }
        reply_json(&EnqueueReply { queued })
    }

    async fn stop(&self) -> Result<Response, ApiError> {
        self.exec("UPDATE meta SET deleted = 1 WHERE k = 1", Vec::new())?;
        self.exec("DELETE FROM queue WHERE state = ?", vec![PENDING.into()])?;
        self.state
            .storage()
            .delete_alarm()
            .await
            .map_err(|e| crate::http::platform_error("Could not cancel delivery", e))?;
        reply_json(&serde_json::json!({"stopped": true}))
    }

    /// Record that the subscription is validated. `cancel_pending`: it was validated elsewhere
    /// (`PUT /subscriptions/validate/{id}`), so pending validation events are no longer needed.
    /// After a validation event succeeded they stay: every `POST` sends its own.
    fn mark_validated(&self, cancel_pending: bool) -> Result<Response, ApiError> {
        if let Some((mut sub, deleted)) = self.meta()? {
            sub.validated = true;
            let json =
                serde_json::to_string(&sub).map_err(|e| ApiError::internal(e.to_string()))?;
            self.exec(
                "UPDATE meta SET subscription = ?, deleted = ? WHERE k = 1",
                vec![json.into(), (deleted as i64).into()],
            )?;
        }
        if !cancel_pending {
            return reply_json(&serde_json::json!({"validated": true}));
        }
        self.exec(
            "UPDATE queue SET state = ?, finished = ? WHERE state = ? AND event_type = ?",
            vec![
                DONE.into(),
                now_ms().into(),
                PENDING.into(),
                VALIDATION_EVENT_TYPE.into(),
            ],
        )?;
        reply_json(&serde_json::json!({"validated": true}))
    }

    fn trace(&self, row: &TraceRow) -> Result<(), ApiError> {
        self.exec(
            "INSERT INTO trace (time, activity, event_id, resource, event_type, consumer, endpoint, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            vec![
                now_ms().into(),
                row.activity.clone().into(),
                row.cloud_event_id.clone().into(),
                row.resource.clone().into(),
                row.event_type.clone().into(),
                row.consumer.clone().into(),
                row.endpoint.clone().into(),
                row.status_code.into(),
            ],
        )
    }

    fn trace_rows(&self) -> Result<Vec<TraceRow>, ApiError> {
        let sub_id = self.meta()?.map(|(s, _)| s.id);
        let rows = self.rows(
            "SELECT time, activity, event_id, resource, event_type, consumer, endpoint, status FROM trace ORDER BY seq",
            Vec::new(),
        )?;
        Ok(rows
            .iter()
            .map(|r| TraceRow {
                time: iso(opt_int(r.first()).unwrap_or(0)),
                activity: text(r.get(1)).unwrap_or_default(),
                cloud_event_id: text(r.get(2)),
                resource: text(r.get(3)),
                event_type: text(r.get(4)),
                consumer: text(r.get(5)),
                endpoint: text(r.get(6)),
                subscription_id: sub_id,
                status_code: opt_int(r.get(7)),
            })
            .collect())
    }

    fn dead_letters(&self) -> Result<Vec<DeadLetter>, ApiError> {
        let rows = self.rows(
            "SELECT event_json, attempts, enqueued, failed, last_status, last_error FROM dead_letters ORDER BY seq",
            Vec::new(),
        )?;
        Ok(rows
            .iter()
            .map(|r| DeadLetter {
                event: text(r.first())
                    .and_then(|j| serde_json::from_str(&j).ok())
                    .unwrap_or(serde_json::Value::Null),
                attempts: opt_int(r.get(1)).unwrap_or(0),
                enqueued: iso(opt_int(r.get(2)).unwrap_or(0)),
                failed: iso(opt_int(r.get(3)).unwrap_or(0)),
                last_status_code: opt_int(r.get(4)),
                last_error: text(r.get(5)),
            })
            .collect())
    }

    /// Put every dead letter back at the end of the queue, in order, with fresh attempts.
    async fn redeliver(&self) -> Result<Response, ApiError> {
        if self.live_subscription()?.is_none() {
            return Err(ApiError::empty(410));
        }
        let rows = self.rows(
            "SELECT seq, origin, event_json, event_id, event_type, resource FROM dead_letters ORDER BY seq",
            Vec::new(),
        )?;
        let now = now_ms();
        for r in &rows {
            let origin = format!("{}#redelivered:{}", text(r.get(1)).unwrap_or_default(), now);
            self.insert_item(
                &origin,
                &text(r.get(2)).unwrap_or_default(),
                &text(r.get(3)).unwrap_or_default(),
                &text(r.get(4)).unwrap_or_default(),
                text(r.get(5)).as_deref(),
            )?;
            self.exec(
                "DELETE FROM dead_letters WHERE seq = ?",
                vec![opt_int(r.first()).unwrap_or(0).into()],
            )?;
        }
        if !rows.is_empty() {
            self.ensure_alarm(now).await?;
        }
        reply_json(&serde_json::json!({"redelivered": rows.len()}))
    }

    fn head(&self) -> Result<Option<Item>, ApiError> {
        let rows = self.rows(
            "SELECT seq, event_json, event_id, event_type, resource, attempts, next_at, delivered FROM queue WHERE state = ? ORDER BY seq LIMIT 1",
            vec![PENDING.into()],
        )?;
        Ok(rows.first().map(|r| Item {
            seq: opt_int(r.first()).unwrap_or(0),
            event_json: text(r.get(1)).unwrap_or_default(),
            event_id: text(r.get(2)).unwrap_or_default(),
            event_type: text(r.get(3)).unwrap_or_default(),
            resource: text(r.get(4)),
            attempts: opt_int(r.get(5)).unwrap_or(0),
            next_at: opt_int(r.get(6)).unwrap_or(0),
            delivered: opt_int(r.get(7)).unwrap_or(0) != 0,
        }))
    }

    /// Tell the resource's event log and the directory that the subscription is validated.
    async fn propagate_validated(&self, sub: &Subscription) -> Result<(), ApiError> {
        let req = IdRequest { id: sub.id };
        let log = stub(&self.env, EVENT_LOG, &sub.resource_filter)?;
        let _: serde_json::Value = call_json(&log, Method::Post, "sub_validate", &req).await?;
        let dir = stub(&self.env, DIRECTORY, directory::NAME)?;
        match call_json::<_, serde_json::Value>(&dir, Method::Post, "validate", &req).await {
            Ok(_) => {}
            // Deleted meanwhile: nothing to validate.
            Err(e) if e.status == 404 => {}
            Err(e) => return Err(e),
        }
        self.mark_validated(false)?;
        Ok(())
    }

    /// Work the queue head by head (the alarm handler).
    async fn run(&self) -> Result<(), ApiError> {
        let cfg = config::load(&self.env)?;
        let schedule = RetrySchedule::new(cfg.retry_delays.clone());
        let started = now_ms();
        self.exec(
            "DELETE FROM queue WHERE state = ? AND finished < ?",
            vec![DONE.into(), (started - KEEP_DONE_MS).into()],
        )?;
        for _ in 0..MAX_ITEMS_PER_RUN {
            let Some(sub) = self.live_subscription()? else {
                return Ok(());
            };
            let Some(item) = self.head()? else {
                return Ok(());
            };
            let now = now_ms();
            if item.next_at > now {
                return self.ensure_alarm(item.next_at).await;
            }
            if now - started > MAX_RUN_MS {
                return self.ensure_alarm(now).await;
            }
            let is_validation = item.event_type == VALIDATION_EVENT_TYPE;
            if !item.delivered {
                let body = delivery::webhook_body(&sub.end_point, &item.event_json);
                let outcome = post_webhook(&sub.end_point, body, cfg.webhook_timeout_secs).await;
                // The subscription may have been deleted while the request was in flight.
                if self.live_subscription()?.is_none() {
                    return Ok(());
                }
                if let Some(status) = outcome.status {
                    self.trace(&TraceRow {
                        time: String::new(),
                        activity: delivery::response_activity(&item.event_type, status)
                            .as_str()
                            .to_owned(),
                        cloud_event_id: Some(item.event_id.clone()),
                        resource: item.resource.clone(),
                        event_type: Some(item.event_type.clone()),
                        consumer: Some(sub.consumer.clone()),
                        endpoint: Some(sub.end_point.clone()),
                        subscription_id: Some(sub.id),
                        status_code: Some(status as i64),
                    })?;
                }
                if !outcome.success() {
                    let attempts = item.attempts + 1;
                    match schedule.next_attempt_at(attempts as u32, now_ms()) {
                        Some(at) => {
                            self.exec(
                                "UPDATE queue SET attempts = ?, next_at = ?, last_status = ?, last_error = ? WHERE seq = ?",
                                vec![
                                    attempts.into(),
                                    at.into(),
                                    outcome.status.map(|s| s as i64).into(),
                                    outcome.error.clone().into(),
                                    item.seq.into(),
                                ],
                            )?;
                            return self.ensure_alarm(at).await;
                        }
                        None => {
                            self.dead_letter(&item, attempts, &outcome)?;
                            continue;
                        }
                    }
                }
                if is_validation {
                    self.exec(
                        "UPDATE queue SET delivered = 1 WHERE seq = ?",
                        vec![item.seq.into()],
                    )?;
                }
            }
            if is_validation {
                if let Err(e) = self.propagate_validated(&sub).await {
                    worker::console_error!(
                        "subscription {}: could not record validation yet: {}",
                        sub.id,
                        e.describe()
                    );
                    return self.ensure_alarm(now_ms() + 2_000).await;
                }
            }
            self.exec(
                "UPDATE queue SET state = ?, finished = ?, attempts = attempts + 1 WHERE seq = ?",
                vec![DONE.into(), now_ms().into(), item.seq.into()],
            )?;
        }
        self.ensure_alarm(now_ms()).await
    }

    fn dead_letter(&self, item: &Item, attempts: i64, outcome: &Outcome) -> Result<(), ApiError> {
        let now = now_ms();
        self.exec(
            "INSERT INTO dead_letters (seq, origin, event_json, event_id, event_type, resource, enqueued, attempts, failed, last_status, last_error)
             SELECT seq, origin, event_json, event_id, event_type, resource, enqueued, ?, ?, ?, ? FROM queue WHERE seq = ?",
            vec![
                attempts.into(),
                now.into(),
                outcome.status.map(|s| s as i64).into(),
                outcome.error.clone().into(),
                item.seq.into(),
            ],
        )?;
        self.exec(
            "UPDATE queue SET state = ?, finished = ?, attempts = ? WHERE seq = ?",
            vec![DEAD.into(), now.into(), attempts.into(), item.seq.into()],
        )
    }

    async fn handle(&self, req: &mut Request) -> Result<Response, ApiError> {
        let path = req.path();
        match (req.method(), path.as_str()) {
            (Method::Post, "/init") => self.init(body_json(req).await?).await,
            (Method::Post, "/enqueue") => self.enqueue(body_json(req).await?).await,
            (Method::Post, "/stop") => self.stop().await,
            (Method::Post, "/validated") => self.mark_validated(true),
            (Method::Get, "/deadletters") => reply_json(&self.dead_letters()?),
            (Method::Post, "/redeliver") => self.redeliver().await,
            (Method::Get, "/trace") => reply_json(&self.trace_rows()?),
            (Method::Post, "/trace") => {
                let row: TraceRow = body_json(req).await?;
                self.trace(&row)?;
                reply_json(&serde_json::json!({"logged": true}))
            }
            _ => Err(ApiError::not_found()),
        }
    }
}

impl worker::DurableObject for Delivery {
    fn new(state: State, env: Env) -> Self {
        if let Err(e) = state.storage().sql().exec(SCHEMA, None) {
            worker::console_error!("Delivery schema: {e}");
        }
        Delivery { state, env }
    }

    async fn fetch(&self, mut req: Request) -> worker::Result<Response> {
        reply(self.handle(&mut req).await)
    }

    async fn alarm(&self) -> worker::Result<Response> {
        if let Err(e) = self.run().await {
            worker::console_error!("delivery run failed: {}", e.describe());
            // Try again shortly; the queue is intact.
            let _ = self.ensure_alarm(now_ms() + 5_000).await;
        }
        Response::ok("done")
    }
}
