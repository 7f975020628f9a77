//! `EventLog`: one Durable Object per resource (named by its URN). It holds the resource's
//! events in insertion order (SQLite, so sequence numbers are gap-free and events are
//! readable the moment they are stored), the resource's rule document for the built-in PDP,
//! and answers the read queries of both GET APIs for that resource ([`event_query`]).
//!
//! Fan-out is decided by core's [`Outbox`]: the object keeps its rows (subscriptions, outbox,
//! party-index outbox, trace), makes the calls it asks for (the party register, the PDP, the
//! delivery and party objects) and reports back, and sets the alarm it wants. The outbox lives
//! in memory between calls and is rebuilt from the rows after an eviction or any failure here.
//!
//! This file is the object's entry: its wire types, its state and its routes. The rest, by
//! responsibility: [`store`] (schema, SQL, the outbox's rows), [`publish`] (storing an event),
//! [`fan_out`] (driving the outbox, the alarm run), [`policy`] (the rule document),
//! [`trace`] (the trace log) and [`sweep`] (retention: old events and trace rows go).

mod fan_out;
pub mod policy;
mod publish;
mod replay;
mod store;
mod sweep;
mod trace;

pub use publish::{BatchReply, BatchRequest};
pub use replay::{ReplayCall, ReplayReply};

use std::cell::RefCell;

use events_core::authz::builtin::ResourcePolicy;
use events_core::event::EventRecord;
use events_core::outbox::{Outbox, RECOVERY_MS};
use events_core::subscription::Subscription;
use events_core::time::UnixTime;
use serde::{Deserialize, Serialize};
use worker::{durable_object, Env, Method, Request, Response, State};

use super::directory::IdRequest;
use super::event_query::{self, QueryRequest};
use super::live;
use super::retention::{self, Sweeps};
use super::{body_json, reply, reply_json};
use crate::error::Error;

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
#[derive(Clone, Debug, Serialize, Deserialize)]
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

#[durable_object]
pub struct EventLog {
    state: State,
    env: Env,
    /// The rule document, once read (`Some(None)` = there is none).
    policy: RefCell<Option<Option<ResourcePolicy>>>,
    outbox: RefCell<Option<Outbox>>,
    /// When old events and trace rows are swept next.
    sweeps: Sweeps,
}

fn now() -> UnixTime {
    UnixTime::from_millis(super::now_ms())
}

fn ok() -> Result<Response, Error> {
    reply_json(&serde_json::json!({"ok": true}))
}

impl EventLog {
    async fn handle(&self, req: &mut Request) -> Result<Response, Error> {
        match (req.method(), req.path().as_str()) {
            (Method::Post, "/publish") => self.publish(req).await,
            (Method::Post, "/publish_batch") => self.publish_batch(req).await,
            (Method::Post, "/replay") => {
                let call: ReplayCall = body_json(req).await?;
                reply_json(&self.replay(call).await?)
            }
            (Method::Get, live::PATH) => live::subscribe(&self.state),
            (Method::Post, "/query") => {
                let q: QueryRequest = body_json(req).await?;
                let local = self.local_policies(q.resource.as_ref())?;
                event_query::page(&self.state.storage().sql(), &self.env, &q, &local).await
            }
            (Method::Put, "/policy") => self.put_policy(req).await,
            (Method::Get, "/policy") => match self.policy()? {
                Some(doc) => reply_json(&doc),
                None => Err(Error::NotFound),
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
                reply_json(&self.trace_rows(q.resource.as_ref())?)
            }
            _ => Err(Error::NotFound),
        }
    }
}

impl worker::DurableObject for EventLog {
    fn new(state: State, env: Env) -> Self {
        let sql = state.storage().sql();
        for schema in [event_query::EVENTS_TABLE, store::SCHEMA, retention::SCHEMA] {
            if let Err(e) = sql.exec(schema, None) {
                worker::console_error!("EventLog schema: {e}");
            }
        }
        EventLog {
            state,
            env,
            policy: RefCell::new(None),
            outbox: RefCell::new(None),
            sweeps: Sweeps::default(),
        }
    }

    async fn fetch(&self, mut req: Request) -> worker::Result<Response> {
        reply(self.handle(&mut req).await)
    }

    live::socket_handlers!();

    /// One alarm run: the outbox's work first, then a retention sweep if one is due; then the
    /// alarm again, for whichever of the two comes next (the one that fired is spent).
    async fn alarm(&self) -> worker::Result<Response> {
        let wish = match self.run().await {
            Ok(()) => {
                if let Err(e) = self.sweep(now()) {
                    worker::console_error!("retention sweep failed: {}", e.describe());
                    self.sweeps.handle_failed(now());
                }
                self.drive(|o| o.poll_timeout()).await
            }
            Err(e) => Err(e),
        };
        let wish = wish.unwrap_or_else(|e| {
            worker::console_error!("fan-out run failed: {}", e.describe());
            // The outbox is intact in storage; run again shortly.
            self.outbox.replace(None);
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
