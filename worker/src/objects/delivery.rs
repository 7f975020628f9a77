//! `Delivery`: one Durable Object per subscription (named by its id), the driver of the
//! subscription's [`DeliveryQueue`] (core), which decides everything: what to POST when, retries,
//! dead letters, the validation handshake. This file runs the machine: it feeds it the object's
//! requests and alarms, writes what it asks for (`store`), POSTs what it asks for (`wire`) and
//! reports how it went, and sets the alarm it wants. The queue lives in memory between calls and
//! is rebuilt from the rows after an eviction, or after any failure here (so memory never runs
//! ahead of storage).

use std::cell::RefCell;

use events_core::delivery::webhook_body;
use events_core::delivery_queue::{Action, DeliveryQueue, Gone, Transmit, RECOVERY_MS};
use events_core::signing::Secret;
use events_core::time::UnixTime;
use serde::Deserialize;
use worker::{durable_object, Env, Headers, Method, Request, Response, ScheduledTime, State};

use super::directory::{self, IdRequest};
use super::{call_json, event_log, now_ms, reply, stub, DIRECTORY};
use crate::config;
use crate::error::Error;

mod control;
mod reads;
mod requests;
mod store;
mod wire;

use control::signature_headers;
pub use control::{AttemptPage, AttemptView, HealthView};
pub use requests::AttemptQueryBody;
use store::{migrate, SCHEMA};
use wire::post_webhook;
pub use wire::{DeadLetter, EnqueueReply, EnqueueRequest, InitRequest, SecretReply, TraceRow};

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
        if let Err(e) = sql.exec(SCHEMA, None).and_then(|_| migrate(&sql)) {
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
