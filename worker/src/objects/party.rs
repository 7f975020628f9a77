//! `Party`: the party register, one Durable Object per look-up key (`party:{id}`,
//! `uuid:{uuid}`, `orgno:{number}`, `person:{number}`, `user:{id}` for a user's own party),
//! each holding a copy of the entry so any look-up is one call. Entries are written through
//! `PUT /admin/parties/{id}`.
//!
//! The `party:{id}` object also indexes the events about that party (subject `/party/{id}`)
//! across all resources, in its own order, for `GET /app/party`. Its alarm deletes the indexed
//! events stored longer ago than `EVENT_RETENTION_DAYS` ([`super::retention`]), a bounded batch
//! per run: the first event indexed schedules the first sweep, each sweep the next.

use worker::{durable_object, Env, Method, Request, Response, State};

use events_core::event::EventRecord;
use events_core::time::UnixTime;
use serde::Deserialize;

use super::event_query::{self, QueryRequest};
use super::live;
use super::retention::{self, Sweeps, Swept};
use super::{body_json, reply, reply_json, sql_error};
use crate::authz::LocalPolicies;
use crate::error::Error;
use crate::http;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS record (k INTEGER PRIMARY KEY CHECK (k = 1), json TEXT NOT NULL);
";

/// What a sweep deletes here: indexed events, oldest first.
const SWEPT: [Swept; 1] = [Swept {
    table: "events",
    key: "seq",
    column: "registered",
    keep: "",
}];

#[durable_object]
pub struct Party {
    state: State,
    env: Env,
    sweeps: Sweeps,
}

fn now() -> UnixTime {
    UnixTime::from_millis(super::now_ms())
}

impl Party {
    fn read(&self) -> Result<Option<String>, Error> {
        #[derive(Deserialize)]
        struct Row {
            json: String,
        }
        let rows: Vec<Row> = self
            .state
            .storage()
            .sql()
            .exec("SELECT json FROM record WHERE k = 1", None)
            .and_then(|c| c.to_array())
            .map_err(sql_error)?;
        Ok(rows.into_iter().next().map(|r| r.json))
    }

    /// Index one event of the party's (event log → object); a repeat is stored once.
    async fn index(&self, event: EventRecord) -> Result<Response, Error> {
        let EventRecord {
            meta: e,
            json,
            json_utc,
        } = event;
        let at = now();
        let sql = self.state.storage().sql();
        let written = sql
            .exec(
                "INSERT INTO events (id, source, subject, alt_subject, type, resource, resource_instance, time_ticks, json, json_utc, registered)
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id, source) DO NOTHING",
                vec![
                    e.id.into_string().into(),
                    e.source.into(),
                    e.subject.into(),
                    e.alternative_subject.into(),
                    e.type_.into(),
                    e.resource.into_string().into(),
                    e.resource_instance.into(),
                    super::ticks(e.time_ticks),
                    json.into(),
                    json_utc.into(),
                    at.as_millis().into(),
                ],
            )
            .map_err(sql_error)?
            .rows_written();
        if written > 0 {
            live::notify(&self.state);
        }
        // The first event of an empty index schedules the first sweep.
        if written > 0 && self.sweeps.handle_stored(&sql, &self.env, at)? {
            let due = self.sweeps.alarm(&sql, &self.env, None)?;
            retention::set_alarm(&self.state.storage(), due).await?;
        }
        reply_json(&serde_json::json!({"indexed": true}))
    }

    /// One alarm run: a sweep, then the alarm for the next.
    async fn run(&self) -> Result<(), Error> {
        let sql = self.state.storage().sql();
        let now = now();
        if let Err(e) = self.sweeps.sweep(&sql, &self.env, now, &SWEPT) {
            worker::console_error!("retention sweep failed: {}", e.describe());
            self.sweeps.handle_failed(now);
        }
        let due = self.sweeps.alarm(&sql, &self.env, None)?;
        retention::set_alarm(&self.state.storage(), due).await
    }

    async fn handle(&self, req: &mut Request) -> Result<Response, Error> {
        let path = req.path();
        match (req.method(), path.as_str()) {
            (Method::Post, "/index") => return self.index(body_json(req).await?).await,
            (Method::Get, live::PATH) => return live::subscribe(&self.state),
            (Method::Post, "/query") => {
                let q: QueryRequest = body_json(req).await?;
                let sql = self.state.storage().sql();
                return event_query::page(&sql, &self.env, &q, &LocalPolicies::new()).await;
            }
            _ => {}
        }
        let sql = self.state.storage().sql();
        match req.method() {
            Method::Get => match self.read()? {
                Some(json) => Ok(http::json(200, json)?),
                None => Err(Error::NotFound),
            },
            Method::Put => {
                let body = req
                    .text()
                    .await
                    .map_err(|e| Error::platform("Could not read an internal request", e))?;
                let existed = self.read()?.is_some();
                sql.exec(
                    "INSERT INTO record (k, json) VALUES (1, ?) ON CONFLICT (k) DO UPDATE SET json = excluded.json",
                    vec![body.into()],
                )
                .map_err(sql_error)?;
                reply_json(&serde_json::json!({"replaced": existed}))
            }
            Method::Delete => {
                sql.exec("DELETE FROM record WHERE k = 1", None)
                    .map_err(sql_error)?;
                reply_json(&serde_json::json!({"deleted": true}))
            }
            _ => Err(Error::NotFound),
        }
    }
}

impl worker::DurableObject for Party {
    fn new(state: State, env: Env) -> Self {
        let sql = state.storage().sql();
        for schema in [event_query::EVENTS_TABLE, SCHEMA, retention::SCHEMA] {
            if let Err(e) = sql.exec(schema, None) {
                worker::console_error!("Party schema: {e}");
            }
        }
        Party {
            state,
            env,
            sweeps: Sweeps::default(),
        }
    }

    async fn fetch(&self, mut req: Request) -> worker::Result<Response> {
        reply(self.handle(&mut req).await)
    }

    live::socket_handlers!();

    async fn alarm(&self) -> worker::Result<Response> {
        if let Err(e) = self.run().await {
            worker::console_error!("party alarm failed: {}", e.describe());
            let retry = Some(now().plus_millis(events_core::retention::SWEEP_RETRY_MS));
            let _ = retention::set_alarm(&self.state.storage(), retry).await;
        }
        Response::ok("done")
    }
}
