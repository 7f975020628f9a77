//! `Delivery`: one Durable Object per subscription (named by its id), the driver of the
//! subscription's [`DeliveryQueue`] (core), which decides everything: what to POST when, retries,
//! dead letters, the validation handshake. This file keeps the queue's rows in SQLite, POSTs
//! what the queue asks for and reports how it went, and sets the alarm the queue wants. The
//! queue lives in memory between calls and is rebuilt from the rows after an eviction, or after
//! any failure here (so memory never runs ahead of storage).

use std::cell::RefCell;

use events_core::delivery::{webhook_body, WEBHOOK_CONTENT_TYPE};
use events_core::delivery_queue::{
    Action, Change, DeliveryQueue, EntryState, Gone, Outcome, QueuedEvent, StoredDeadLetter,
    StoredEntry, Transmit, RECOVERY_MS,
};
use events_core::subscription::Subscription;
use events_core::time::UnixTime;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use worker::{
    durable_object, Env, Fetch, Headers, Method, Request, RequestInit, Response, ScheduledTime,
    SqlStorageValue, State,
};

use super::directory::{self, IdRequest};
use super::{
    body_json, call_json, now_ms, reply, reply_json, sql_error, stub, DIRECTORY, EVENT_LOG,
};
use crate::config;
use crate::error::Error;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (k INTEGER PRIMARY KEY CHECK (k = 1), subscription TEXT NOT NULL, deleted INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS queue (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, origin TEXT NOT NULL UNIQUE,
  event_json TEXT NOT NULL, event_id TEXT NOT NULL, event_type TEXT NOT NULL, resource TEXT,
  enqueued INTEGER NOT NULL, state INTEGER NOT NULL DEFAULT 0, attempts INTEGER NOT NULL DEFAULT 0,
  next_at INTEGER NOT NULL, delivered INTEGER NOT NULL DEFAULT 0,
  last_status INTEGER, last_error TEXT, finished INTEGER
);
CREATE INDEX IF NOT EXISTS queue_pending ON queue (state, seq);
CREATE TABLE IF NOT EXISTS dead_letters (
  seq INTEGER PRIMARY KEY, origin TEXT NOT NULL,
  event_json TEXT NOT NULL, event_id TEXT NOT NULL, event_type TEXT NOT NULL, resource TEXT,
  enqueued INTEGER NOT NULL, attempts INTEGER NOT NULL, failed INTEGER NOT NULL,
  last_status INTEGER, last_error TEXT
);
CREATE TABLE IF NOT EXISTS trace (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, time INTEGER NOT NULL, activity TEXT NOT NULL,
  event_id TEXT, resource TEXT, event_type TEXT, consumer TEXT, endpoint TEXT, status INTEGER
);
";

/// Start (or restart) a subscription's queue with its validation event (worker → object).
#[derive(Debug, Serialize, Deserialize)]
pub struct InitRequest {
    pub subscription: Subscription,
    pub validation: QueuedEvent,
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

/// A trace-log row (spec §14), stored and read back by column name.
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
    queue: RefCell<Option<DeliveryQueue>>,
}

fn now() -> UnixTime {
    UnixTime::from_millis(now_ms())
}

fn iso(ms: i64) -> String {
    UnixTime::from_millis(ms).to_timestamp().format()
}

/// A stored row that cannot be read: an error, logged, never a default.
fn corrupt(what: impl std::fmt::Display) -> Error {
    Error::corrupt(format_args!("delivery: {what}"))
}

fn gone(_: Gone) -> Error {
    Error::Gone
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
        Err(e) => return Outcome::Failed(format!("invalid request: {e}")),
    };
    let signal: worker::AbortSignal =
        web_sys::AbortSignal::timeout_with_u32(timeout_secs.saturating_mul(1000)).into();
    match Fetch::Request(req).send_with_signal(&signal).await {
        Ok(mut resp) => {
            // Read (and discard) the body so the connection can be reused.
            let _ = super::body_bytes(&mut resp).await;
            Outcome::Answered(resp.status_code())
        }
        Err(_) if signal.aborted() => Outcome::TimedOut(timeout_secs),
        Err(e) => Outcome::Failed(format!("request failed: {e}")),
    }
}

impl Delivery {
    fn exec(&self, query: &str, args: Vec<SqlStorageValue>) -> Result<(), Error> {
        let sql = self.state.storage().sql();
        sql.exec(query, args).map(|_| ()).map_err(sql_error)
    }

    /// Rows decoded by column name.
    fn rows<T: DeserializeOwned>(
        &self,
        query: &str,
        args: Vec<SqlStorageValue>,
    ) -> Result<Vec<T>, Error> {
        let sql = self.state.storage().sql();
        let cursor = sql.exec(query, args).map_err(sql_error)?;
        cursor
            .to_array()
            .map_err(|e| corrupt(format!("{query}: {e}")))
    }

    /// The queue as storage describes it.
    fn load(&self) -> Result<DeliveryQueue, Error> {
        #[derive(Deserialize)]
        struct Meta {
            subscription: String,
            deleted: i64,
        }
        let cfg = config::load(&self.env)?;
        let meta: Vec<Meta> =
            self.rows("SELECT subscription, deleted FROM meta WHERE k = 1", vec![])?;
        let subscription = match meta.into_iter().next() {
            None => None,
            Some(m) => Some((
                serde_json::from_str(&m.subscription).map_err(|e| corrupt(format!("meta: {e}")))?,
                m.deleted != 0,
            )),
        };
        let entries: Vec<StoredEntry> = self.rows(
            "SELECT seq, origin, event_type, state, attempts, next_at, delivered, finished FROM queue",
            vec![],
        )?;
        let dead: Vec<StoredDeadLetter> =
            self.rows("SELECT seq, origin, event_type FROM dead_letters", vec![])?;
        DeliveryQueue::restore(cfg.retry_schedule.clone(), subscription, entries, dead)
            .map_err(corrupt)
    }

    fn with_queue<R>(&self, f: impl FnOnce(&mut DeliveryQueue) -> R) -> Result<R, Error> {
        let mut slot = self.queue.borrow_mut();
        let queue = match &mut *slot {
            Some(queue) => queue,
            None => slot.insert(self.load()?),
        };
        Ok(f(queue))
    }

    /// Feed one input to the queue and carry out what it asks for: every storage change before
    /// the next `await` (so they are written together), then the alarm. On failure the queue
    /// in memory is dropped; the next call rebuilds it from storage.
    async fn drive<R>(&self, input: impl FnOnce(&mut DeliveryQueue) -> R) -> Result<R, Error> {
        let result = self
            .with_queue(|queue| {
                let out = input(queue);
                let mut alarm = None;
                while let Some(action) = queue.poll_action() {
                    match action {
                        Action::Persist(change) => self.apply(queue.subscription(), change)?,
                        Action::SetAlarm(at) => alarm = Some(Some(at)),
                        Action::CancelAlarm => alarm = Some(None),
                    }
                }
                Ok((out, alarm))
            })
            .and_then(|r| r);
        let result = match result {
            Ok((out, Some(alarm))) => self.set_alarm(alarm).await.map(|()| out),
            Ok((out, None)) => Ok(out),
            Err(e) => Err(e),
        };
        if result.is_err() {
            self.queue.replace(None);
        }
        result
    }

    async fn set_alarm(&self, at: Option<UnixTime>) -> Result<(), Error> {
        let storage = self.state.storage();
        match at {
            Some(at) => {
                let date = js_sys::Date::new(&(at.as_millis() as f64).into());
                storage.set_alarm(ScheduledTime::new(date)).await
            }
            None => storage.delete_alarm().await,
        }
        .map_err(|e| Error::platform("Could not schedule background work", e))
    }

    /// One storage change, as SQL.
    fn apply(&self, sub: Option<&Subscription>, change: Change) -> Result<(), Error> {
        let state = |s: EntryState| SqlStorageValue::from(s.code());
        let ms = |t: UnixTime| SqlStorageValue::from(t.as_millis());
        let status = |s: Option<u16>| SqlStorageValue::from(s.map(i64::from));
        match change {
            Change::Subscription { subscription, deleted } => {
                let json = serde_json::to_string(&subscription)?;
                self.exec(
                    "INSERT INTO meta (k, subscription, deleted) VALUES (1, ?, ?)
                     ON CONFLICT (k) DO UPDATE SET subscription = excluded.subscription, deleted = excluded.deleted",
                    vec![json.into(), i64::from(deleted).into()],
                )
            }
            Change::Enqueued { seq, key, event, at } => self.exec(
                "INSERT INTO queue (seq, origin, event_json, event_id, event_type, resource, enqueued, next_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                vec![seq.0.into(), key.into(), event.event_json.into(), event.event_id.into(), event.event_type.into(), event.resource.into(), ms(at), ms(at)],
            ),
            Change::Retry { seq, attempts, next_at, last_status, last_error } => self.exec(
                "UPDATE queue SET attempts = ?, next_at = ?, last_status = ?, last_error = ? WHERE seq = ?",
                vec![i64::from(attempts).into(), ms(next_at), status(last_status), last_error.into(), seq.0.into()],
            ),
            Change::ValidationAnswered { seq } => {
                self.exec("UPDATE queue SET delivered = 1 WHERE seq = ?", vec![seq.0.into()])
            }
            Change::Delivered { seq, attempts, at } => self.exec(
                "UPDATE queue SET state = ?, finished = ?, attempts = ? WHERE seq = ?",
                vec![state(EntryState::Done), ms(at), i64::from(attempts).into(), seq.0.into()],
            ),
            Change::Cancelled { seq, at } => self.exec(
                "UPDATE queue SET state = ?, finished = ? WHERE seq = ?",
                vec![state(EntryState::Done), ms(at), seq.0.into()],
            ),
            Change::DeadLettered { seq, attempts, at, last_status, last_error } => {
                self.exec(
                    "INSERT INTO dead_letters (seq, origin, event_json, event_id, event_type, resource, enqueued, attempts, failed, last_status, last_error)
                     SELECT seq, origin, event_json, event_id, event_type, resource, enqueued, ?, ?, ?, ? FROM queue WHERE seq = ?",
                    vec![i64::from(attempts).into(), ms(at), status(last_status), last_error.into(), seq.0.into()],
                )?;
                self.exec(
                    "UPDATE queue SET state = ?, finished = ?, attempts = ? WHERE seq = ?",
                    vec![state(EntryState::Dead), ms(at), i64::from(attempts).into(), seq.0.into()],
                )
            }
            Change::Redelivered { dead, seq, key, at } => {
                self.exec(
                    "INSERT INTO queue (seq, origin, event_json, event_id, event_type, resource, enqueued, next_at)
                     SELECT ?, ?, event_json, event_id, event_type, resource, ?, ? FROM dead_letters WHERE seq = ?",
                    vec![seq.0.into(), key.into(), ms(at), ms(at), dead.0.into()],
                )?;
                self.exec("DELETE FROM dead_letters WHERE seq = ?", vec![dead.0.into()])
            }
            Change::DroppedPending => {
                self.exec("DELETE FROM queue WHERE state = ?", vec![state(EntryState::Pending)])
            }
            Change::Pruned { before } => self.exec(
                "DELETE FROM queue WHERE state = ? AND finished < ?",
                vec![state(EntryState::Done), ms(before)],
            ),
            Change::Trace { seq, activity, status, at } => self.exec(
                "INSERT INTO trace (time, activity, event_id, resource, event_type, consumer, endpoint, status)
                 SELECT ?, ?, event_id, resource, event_type, ?, ?, ? FROM queue WHERE seq = ?",
                vec![
                    ms(at),
                    activity.as_str().into(),
                    sub.map(|s| s.consumer.clone()).into(),
                    sub.map(|s| s.end_point.clone()).into(),
                    i64::from(status).into(),
                    seq.0.into(),
                ],
            ),
        }
    }

    /// Tell the resource's event log and the directory that the subscription is validated.
    async fn record_validation(&self) -> Result<(), Error> {
        let sub = self
            .with_queue(|q| q.subscription().cloned())?
            .ok_or(Error::Gone)?;
        let req = IdRequest { id: sub.id };
        let log = stub(&self.env, EVENT_LOG, &sub.resource_filter)?;
        let _: serde_json::Value = call_json(&log, Method::Post, "sub_validate", &req).await?;
        let dir = stub(&self.env, DIRECTORY, directory::NAME)?;
        match call_json::<_, serde_json::Value>(&dir, Method::Post, "validate", &req).await {
            // Deleted meanwhile: nothing to validate.
            Err(e) if !e.is_not_found() => Err(e),
            _ => Ok(()),
        }
    }

    /// One alarm run: the queue's work, one POST at a time.
    async fn run(&self) -> Result<(), Error> {
        let cfg = config::load(&self.env)?;
        self.drive(|q| q.handle_alarm(now())).await?;
        while let Some(transmit) = self.drive(|q| q.poll_transmit(now())).await? {
            match transmit {
                Transmit::Post { seq, .. } => {
                    #[derive(Deserialize)]
                    struct Body {
                        event_json: String,
                    }
                    let endpoint =
                        self.with_queue(|q| q.subscription().map(|s| s.end_point.clone()))?;
                    let bodies: Vec<Body> = self.rows(
                        "SELECT event_json FROM queue WHERE seq = ?",
                        vec![seq.0.into()],
                    )?;
                    let (Some(endpoint), Some(body)) = (endpoint, bodies.into_iter().next()) else {
                        return Err(corrupt(format!("queue entry {} is not stored", seq.0)));
                    };
                    let body = webhook_body(&endpoint, &body.event_json);
                    let outcome = post_webhook(&endpoint, body, cfg.webhook_timeout_secs).await;
                    self.drive(|q| q.handle_outcome(now(), seq, outcome))
                        .await?;
                }
                Transmit::RecordValidation { seq } => {
                    let recorded = self.record_validation().await;
                    if let Err(e) = &recorded {
                        worker::console_error!(
                            "could not record a validation yet: {}",
                            e.describe()
                        );
                    }
                    self.drive(|q| q.handle_validation_recorded(now(), seq, recorded.is_ok()))
                        .await?;
                }
            }
        }
        Ok(())
    }

    fn trace(&self, row: &TraceRow) -> Result<(), Error> {
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

    fn trace_rows(&self) -> Result<Vec<TraceRow>, Error> {
        #[derive(Deserialize)]
        struct Stored {
            time: i64,
            activity: String,
            event_id: Option<String>,
            resource: Option<String>,
            event_type: Option<String>,
            consumer: Option<String>,
            endpoint: Option<String>,
            status: Option<i64>,
        }
        let sub_id = self.with_queue(|q| q.subscription().map(|s| s.id))?;
        let rows: Vec<Stored> = self.rows(
            "SELECT time, activity, event_id, resource, event_type, consumer, endpoint, status FROM trace ORDER BY seq",
            vec![],
        )?;
        Ok(rows
            .into_iter()
            .map(|r| TraceRow {
                time: iso(r.time),
                activity: r.activity,
                cloud_event_id: r.event_id,
                resource: r.resource,
                event_type: r.event_type,
                consumer: r.consumer,
                endpoint: r.endpoint,
                subscription_id: sub_id,
                status_code: r.status,
            })
            .collect())
    }

    fn dead_letters(&self) -> Result<Vec<DeadLetter>, Error> {
        #[derive(Deserialize)]
        struct Stored {
            seq: i64,
            event_json: String,
            attempts: i64,
            enqueued: i64,
            failed: i64,
            last_status: Option<i64>,
            last_error: Option<String>,
        }
        let rows: Vec<Stored> = self.rows(
            "SELECT seq, event_json, attempts, enqueued, failed, last_status, last_error FROM dead_letters ORDER BY seq",
            vec![],
        )?;
        rows.into_iter()
            .map(|r| {
                Ok(DeadLetter {
                    event: serde_json::from_str(&r.event_json)
                        .map_err(|e| corrupt(format!("dead letter {}: {e}", r.seq)))?,
                    attempts: r.attempts,
                    enqueued: iso(r.enqueued),
                    failed: iso(r.failed),
                    last_status_code: r.last_status,
                    last_error: r.last_error,
                })
            })
            .collect()
    }

    async fn handle(&self, req: &mut Request) -> Result<Response, Error> {
        let at = now();
        match (req.method(), req.path().as_str()) {
            (Method::Post, "/init") => {
                let r: InitRequest = body_json(req).await?;
                self.drive(|q| q.handle_subscribed(at, r.subscription, r.validation))
                    .await?;
                reply_json(&EnqueueReply { queued: true })
            }
            (Method::Post, "/enqueue") => {
                let r: EnqueueRequest = body_json(req).await?;
                let event = QueuedEvent {
                    event_json: r.event_json,
                    event_id: r.event_id,
                    event_type: r.event_type,
                    resource: r.resource,
                };
                let queued = self
                    .drive(|q| q.handle_enqueue(at, r.origin, event))
                    .await?
                    .map_err(gone)?;
                reply_json(&EnqueueReply { queued })
            }
            (Method::Post, "/stop") => {
                self.drive(|q| q.handle_deleted(at)).await?;
                reply_json(&serde_json::json!({"stopped": true}))
            }
            (Method::Post, "/validated") => {
                // This object owns `validated`: record it, then copy it to the event log and
                // the directory (idempotent, so a retried PUT finishes a failed copy).
                if !self.drive(|q| q.handle_validated(at)).await? {
                    return Err(gone(Gone));
                }
                self.record_validation().await?;
                reply_json(&serde_json::json!({"validated": true}))
            }
            (Method::Get, "/deadletters") => reply_json(&self.dead_letters()?),
            (Method::Post, "/redeliver") => {
                let n = self
                    .drive(|q| q.handle_redeliver(at))
                    .await?
                    .map_err(gone)?;
                reply_json(&serde_json::json!({"redelivered": n}))
            }
            (Method::Get, "/trace") => reply_json(&self.trace_rows()?),
            (Method::Post, "/trace") => {
                let row: TraceRow = body_json(req).await?;
                self.trace(&row)?;
                reply_json(&serde_json::json!({"logged": true}))
            }
            _ => Err(Error::NotFound),
        }
    }
}

impl worker::DurableObject for Delivery {
    fn new(state: State, env: Env) -> Self {
        if let Err(e) = state.storage().sql().exec(SCHEMA, None) {
            worker::console_error!("Delivery schema: {e}");
        }
        Delivery {
            state,
            env,
            queue: RefCell::new(None),
        }
    }

    async fn fetch(&self, mut req: Request) -> worker::Result<Response> {
        reply(self.handle(&mut req).await)
    }

    async fn alarm(&self) -> worker::Result<Response> {
        if let Err(e) = self.run().await {
            worker::console_error!("delivery run failed: {}", e.describe());
            // The queue is intact in storage; run again shortly.
            self.queue.replace(None);
            let _ = self.set_alarm(Some(now().plus_millis(RECOVERY_MS))).await;
        }
        Response::ok("done")
    }
}
