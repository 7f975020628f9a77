//! `Delivery`: one Durable Object per subscription (named by its id), the driver of the
//! subscription's [`DeliveryQueue`] (core), which decides everything: what to POST when, retries,
//! dead letters, the validation handshake. This file runs the machine: it feeds it the object's
//! requests and alarms, writes what it asks for (`store`), POSTs what it asks for (`wire`) and
//! reports how it went, and sets the alarm it wants. The queue lives in memory between calls and
//! is rebuilt from the rows after an eviction, or after any failure here (so memory never runs
//! ahead of storage).
//!
//! Its alarm also sweeps (`sweep`, retention): trace rows, attempt-log rows, dead letters and
//! finished queue rows stored longer ago than `EVENT_RETENTION_DAYS`. Pending queue rows stay
//! whatever their age.

use std::cell::RefCell;

use events_core::delivery::webhook_body;
use events_core::delivery_queue::{Action, Change, DeliveryQueue, Gone, Transmit, RECOVERY_MS};
use events_core::signing::Secret;
use events_core::time::UnixTime;
use serde::Deserialize;
use worker::{durable_object, Env, Headers, Method, Request, Response, State};

use super::directory::{self, IdRequest};
use super::retention::{self, Sweeps};
use super::{call_json, event_log, now_ms, reply, stub, DIRECTORY};
use crate::config;
use crate::error::Error;

mod control;
mod reads;
mod requests;
mod store;
mod sweep;
mod wire;

use control::signature_headers;
pub use control::{AttemptPage, AttemptView, HealthView};
pub use requests::AttemptQueryBody;
use store::{migrate, SCHEMA};
use wire::post_webhook;
pub use wire::{
    DeadLetter, EnqueueReply, EnqueueRequest, InitRequest, QueuedWire, SecretReply, TraceRow,
    ENQUEUE_BYTES,
};

#[durable_object]
pub struct Delivery {
    state: State,
    env: Env,
    queue: RefCell<Option<DeliveryQueue>>,
    /// When old trace, attempt and dead-letter rows are swept next.
    sweeps: Sweeps,
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

/// A change that writes a row a sweep deletes once it is old.
fn swept_later(change: &Change) -> bool {
    matches!(
        change,
        Change::Trace { .. }
            | Change::Note { .. }
            | Change::Attempt(_)
            | Change::DeadLettered { .. }
            | Change::Delivered { .. }
            | Change::Cancelled { .. }
    )
}

fn gone(_: Gone) -> Error {
    Error::Gone
}

impl Delivery {
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
                let mut retained = false;
                while let Some(action) = queue.poll_action() {
                    match action {
                        Action::Persist(change) => {
                            retained |= swept_later(&change);
                            self.apply(queue.subscription(), change)?
                        }
                        Action::SetAlarm(at) => alarm = Some(Some(at)),
                        Action::CancelAlarm => alarm = Some(None),
                    }
                }
                // The first such row since the object was empty schedules the first sweep.
                if retained && self.stored_row(now())? && alarm.is_none() {
                    alarm = Some(queue.poll_timeout());
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

    /// Set the alarm for the queue's wish (`machine`) or the next sweep, whichever is earlier:
    /// the queue cancelling its alarm leaves a sweep's in place.
    async fn set_alarm(&self, machine: Option<UnixTime>) -> Result<(), Error> {
        let at = self
            .sweeps
            .alarm(&self.state.storage().sql(), &self.env, machine)?;
        retention::set_alarm(&self.state.storage(), at).await
    }

    /// Tell the resource's event log and the directory that the subscription is validated.
    async fn record_validation(&self) -> Result<(), Error> {
        let sub = self
            .with_queue(|q| q.subscription().cloned())?
            .ok_or(Error::Gone)?;
        let req = IdRequest { id: sub.id };
        let log = event_log(&self.env, &sub.resource_filter.as_str().into())?;
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
                    let sent_at = now();
                    let (id, secrets) = self.with_queue(|q| {
                        let secrets: Vec<Secret> =
                            q.signing_secrets(sent_at).into_iter().cloned().collect();
                        (q.webhook_id(seq), secrets)
                    })?;
                    let id =
                        id.ok_or_else(|| corrupt(format!("queue entry {} has no id", seq.0)))?;
                    let headers = Headers::new();
                    signature_headers(&headers, &id, sent_at, &body, &secrets).await?;
                    let outcome =
                        post_webhook(&endpoint, headers, body, cfg.webhook_timeout_secs).await;
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
}

impl worker::DurableObject for Delivery {
    fn new(state: State, env: Env) -> Self {
        let sql = state.storage().sql();
        let schema = sql
            .exec(SCHEMA, None)
            .and_then(|_| migrate(&sql))
            .and_then(|_| sql.exec(retention::SCHEMA, None));
        if let Err(e) = schema {
            worker::console_error!("Delivery schema: {e}");
        }
        Delivery {
            state,
            env,
            queue: RefCell::new(None),
            sweeps: Sweeps::default(),
        }
    }

    async fn fetch(&self, mut req: Request) -> worker::Result<Response> {
        reply(self.handle(&mut req).await)
    }

    /// One alarm run: the queue's work first, then a retention sweep if one is due; then the
    /// alarm again, for whichever of the two comes next (the one that fired is spent).
    async fn alarm(&self) -> worker::Result<Response> {
        let wish = match self.run().await {
            Ok(()) => {
                if let Err(e) = self.sweep(now()) {
                    worker::console_error!("retention sweep failed: {}", e.describe());
                    self.sweeps.handle_failed(now());
                }
                self.drive(|q| q.poll_timeout()).await
            }
            Err(e) => Err(e),
        };
        let wish = wish.unwrap_or_else(|e| {
            worker::console_error!("delivery run failed: {}", e.describe());
            // The queue is intact in storage; run again shortly.
            self.queue.replace(None);
            self.sweeps.handle_failed(now());
            Some(now().plus_millis(RECOVERY_MS))
        });
        if let Err(e) = self.set_alarm(wish).await {
            worker::console_error!("could not set the alarm: {}", e.describe());
            let retry = Some(now().plus_millis(RECOVERY_MS));
            let _ = retention::set_alarm(&self.state.storage(), retry).await;
        }
        Response::ok("done")
    }
}
