//! `EventLog`: one Durable Object per resource (named by its URN). It holds the resource's
//! events in insertion order (SQLite, so sequence numbers are gap-free and events are
//! readable the moment they are stored), the resource's rule document for the built-in PDP,
//! and answers the read queries of both GET APIs for that resource.

use std::cell::RefCell;

use events_core::authz::builtin::ResourcePolicy;
use events_core::authz::mapping::{
    self, subject_attribute, Action, ATTR_EVENT_ID, ATTR_EVENT_SOURCE, ATTR_EVENT_TYPE,
    ATTR_RESOURCE_INSTANCE,
};
use events_core::authz::xacml::{action, Attribute, Category, DecisionRequest, TYPE_STRING};
use events_core::authz::DecisionResponse;
use events_core::identity::Claims;
use events_core::query::like_to_glob;
use events_core::{urn, ApiError};
use serde::{Deserialize, Serialize};
use worker::{durable_object, Env, Method, Request, Response, SqlStorage, SqlStorageValue, State};

use super::{body_json, json_reply, reply, sql_error};
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
";

/// Rows scanned per round when filling a page after authorization.
const MAX_TYPE_PATTERNS: usize = 50;

#[durable_object]
pub struct EventLog {
    state: State,
    env: Env,
    /// The rule document, once read (`Some(None)` = there is none).
    policy: RefCell<Option<Option<ResourcePolicy>>>,
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
        let now = worker::Date::now().as_millis() as i64;
        let cursor = self
            .sql()
            .exec(
                "INSERT INTO events (id, source, subject, alt_subject, type, resource_instance, time_ticks, json, json_utc, registered)
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id, source) DO NOTHING",
                vec![
                    p.id.into(),
                    p.source.into(),
                    p.subject.into(),
                    p.alternative_subject.into(),
                    p.type_.into(),
                    p.resource_instance.into(),
                    p.time_ticks.into(),
                    p.json.into(),
                    p.json_utc.into(),
                    now.into(),
                ],
            )
            .map_err(sql_error)?;
        let stored = cursor.rows_written() > 0;
        json_reply(&PublishReply { stored }).map_err(|e| http::platform_error("reply", e))
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
            _ => Err(ApiError::not_found()),
        };
        reply(result)
    }
}
