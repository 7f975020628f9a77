//! `EventLog`: one Durable Object per resource (named by its URN). It holds the resource's
//! events in insertion order (SQLite, so sequence numbers are gap-free and events are
//! readable the moment they are stored), the resource's rule document for the built-in PDP,
//! and answers the read queries of both GET APIs for that resource ([`event_query`]).
//!
//! Fan-out is decided by core's [`Outbox`]: this file keeps its rows (subscriptions, outbox,
//! party-index outbox, trace), makes the calls it asks for (the party register, the PDP, the
//! delivery and party objects) and reports back, and sets the alarm it wants. The outbox lives
//! in memory between calls and is rebuilt from the rows after an eviction or any failure here.

mod fan_out;
pub mod policy;

use std::cell::RefCell;

use events_core::access::{self, PdpCheck};
use events_core::authz::builtin::ResourcePolicy;
use events_core::authz::mapping::{publish_request, EventAttrs};
use events_core::event::EventRecord;
use events_core::identity::Claims;
use events_core::outbox::{Outbox, Stored, RECOVERY_MS};
use events_core::subscription::Subscription;
use events_core::time::UnixTime;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use worker::{durable_object, Env, Method, Request, Response, SqlStorageValue, State};

use super::directory::IdRequest;
use super::event_query::{self, QueryRequest};
use super::{body_json, json_reply, reply, reply_json, sql_error};
use crate::authz;
use crate::config;
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
fn corrupt(what: impl std::fmt::Display) -> Error {
    Error::corrupt(format_args!("event log: {what}"))
}

/// JSON text of a value to store.
fn to_json<T: Serialize>(value: &T) -> Result<String, Error> {
    serde_json::to_string(value).map_err(|e| Error::platform("Could not encode stored data", e))
}

fn ok() -> Result<Response, Error> {
    reply_json(&serde_json::json!({"ok": true}))
}

impl EventLog {
    fn exec(&self, query: &str, args: Vec<SqlStorageValue>) -> Result<usize, Error> {
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
    ) -> Result<Vec<T>, Error> {
        let cursor = self
            .state
            .storage()
            .sql()
            .exec(q, args)
            .map_err(sql_error)?;
        cursor.to_array().map_err(|e| corrupt(format!("{q}: {e}")))
    }

    async fn publish(&self, req: &mut Request) -> Result<Response, Error> {
        let p: PublishRequest = body_json(req).await?;
        let event = &p.event;
        if let Some(check) = &p.authorize {
            let attrs = EventAttrs {
                id: event.meta.id.as_str(),
                type_: &event.meta.type_,
                source: &event.meta.source,
                subject: check.subject.as_deref(),
                resource: Some(&check.resource),
                resource_instance: event.meta.resource_instance.as_deref(),
            };
            let request = publish_request(&Claims::new(check.caller.clone()), &attrs, None);
            let local = self.local_policies(Some(&event.meta.resource))?;
            let cfg = config::load(&self.env)?;
            let decision = authz::decide(&self.env, &cfg, &request, &local, None).await?;
            access::require_permit(&decision, PdpCheck::Publish)?;
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
                vec![m.id.to_string().into(), m.source.clone().into(), m.subject.clone().into(), m.alternative_subject.clone().into(),
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
        .map_err(|e| Error::platform("reply", e))
    }

    async fn handle(&self, req: &mut Request) -> Result<Response, Error> {
        match (req.method(), req.path().as_str()) {
            (Method::Post, "/publish") => self.publish(req).await,
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
