//! Reading events from an object's `events` table (shared by `EventLog`, which holds a
//! resource's events, and `Party`, which indexes a party's events across resources): the driver
//! of core's [`EventPage`], which decides the page. This file turns its reads into SQL (filters
//! and the `after` cursor) and its questions into PDP calls, and writes the reply.

use events_core::event_page::{EventPage, PageRow, Step};
use events_core::identity::Claims;
use events_core::query::like_to_glob;
use events_core::urn::ResourceUrn;
use serde::{Deserialize, Serialize};
use worker::{Env, Response, SqlStorage, SqlStorageValue};

use super::sql_error;
use crate::authz::{self, LocalPolicies};
use crate::error::Error;
use crate::{config, http};

/// For the OpenAPI document's tests, which name the limit.
#[cfg(test)]
pub use events_core::event_page::MAX_PATTERNS;

/// A read (worker → object).
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct QueryRequest {
    /// The resource (generic reads authorize against it); `None` for party reads.
    pub resource: Option<ResourceUrn>,
    /// Event id cursor; an id that is not stored (never, or deleted by retention) starts at the
    /// oldest kept event.
    pub after: Option<String>,
    /// A live stream's cursor after its first page: the position the previous page read to
    /// (wins over `after`).
    #[serde(default)]
    pub after_seq: Option<i64>,
    pub subject: Option<String>,
    pub alternative_subject: Option<String>,
    /// SQL `LIKE` patterns on `type`; `ignore_case` selects `ILIKE` semantics.
    pub types: Vec<String>,
    /// `ILIKE` patterns on `source` (app reads by party).
    #[serde(default)]
    pub sources: Vec<String>,
    #[serde(default)]
    pub ignore_case: bool,
    /// Inclusive bounds on the event `time` (UTC ticks).
    #[serde(default)]
    pub from_ticks: Option<i64>,
    #[serde(default)]
    pub to_ticks: Option<i64>,
    /// Authorize as an app-event read (action `read`, spec §11.3) instead of a generic one.
    #[serde(default)]
    pub app_read: bool,
    pub size: u32,
    /// The caller's token claims, for per-event authorization.
    pub caller: serde_json::Map<String, serde_json::Value>,
}

/// The `events` table both the resource log and the party index keep (the party index also
/// fills `resource`): insertion order in `seq`, one copy per `(id, source)`.
pub const EVENTS_TABLE: &str = "
CREATE TABLE IF NOT EXISTS events (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL,
  source TEXT NOT NULL,
  subject TEXT,
  alt_subject TEXT,
  type TEXT NOT NULL,
  resource TEXT,
  resource_instance TEXT,
  time_ticks INTEGER,
  json TEXT NOT NULL,
  json_utc TEXT,
  registered INTEGER NOT NULL,
  UNIQUE (id, source)
);
CREATE INDEX IF NOT EXISTS events_by_id ON events (id);
CREATE INDEX IF NOT EXISTS events_by_registered ON events (registered);
";

/// Reply headers of a query: number of events, last id, first subject.
pub const H_COUNT: &str = "x-count";
pub const H_LAST_ID: &str = "x-last-id";
pub const H_FIRST_SUBJECT: &str = "x-first-subject";
/// The sequence number the page read to ([`QueryRequest::after_seq`] of the next).
pub const H_POSITION: &str = "x-position";

fn push_patterns(
    sql: &mut String,
    args: &mut Vec<SqlStorageValue>,
    column: &str,
    patterns: &[String],
    ignore_case: bool,
) {
    if patterns.is_empty() {
        return;
    }
    sql.push_str(" AND (");
    for (i, p) in patterns.iter().enumerate() {
        if i > 0 {
            sql.push_str(" OR ");
        }
        sql.push_str(column);
        if ignore_case {
            sql.push_str(" LIKE ? ESCAPE '\\'");
            args.push(p.clone().into());
        } else {
            sql.push_str(" GLOB ?");
            args.push(like_to_glob(p).into());
        }
    }
    sql.push(')');
}

/// Up to `limit` events after sequence number `after_seq` that pass the filters. The read path
/// that is measured (BENCHMARKS.md): columns are taken by position and moved out of the row.
fn select(
    sql: &SqlStorage,
    q: &QueryRequest,
    after_seq: i64,
    limit: u32,
) -> Result<Vec<PageRow>, Error> {
    // The event text comes as a BLOB: a blob reaches Rust as one copy of its bytes, where a
    // string is copied character by character by the JavaScript glue.
    let mut query = String::from(
        "SELECT seq, id, source, subject, type, resource_instance, CAST(COALESCE(json_utc, json) AS BLOB) FROM events WHERE seq > ?",
    );
    let mut args: Vec<SqlStorageValue> = vec![after_seq.into()];
    if let Some(s) = &q.subject {
        query.push_str(" AND subject = ?");
        args.push(s.clone().into());
    }
    if let Some(a) = &q.alternative_subject {
        query.push_str(" AND alt_subject = ?");
        args.push(a.clone().into());
    }
    if let Some(from) = q.from_ticks {
        query.push_str(" AND time_ticks >= ?");
        args.push(super::ticks(Some(from)));
    }
    if let Some(to) = q.to_ticks {
        query.push_str(" AND time_ticks <= ?");
        args.push(super::ticks(Some(to)));
    }
    push_patterns(&mut query, &mut args, "type", &q.types, q.ignore_case);
    push_patterns(&mut query, &mut args, "source", &q.sources, q.ignore_case);
    query.push_str(" ORDER BY seq LIMIT ?");
    args.push((limit as i64).into());
    let cursor = sql.exec(&query, args).map_err(sql_error)?;
    let mut rows = Vec::new();
    for r in cursor.raw() {
        let mut cols = r.map_err(sql_error)?.into_iter();
        let seq = match cols.next() {
            Some(SqlStorageValue::Integer(seq)) => seq,
            _ => return Err(corrupt("seq")),
        };
        let mut next_text = || match cols.next() {
            Some(SqlStorageValue::String(s)) => Ok(Some(s)),
            Some(SqlStorageValue::Blob(b)) => {
                String::from_utf8(b).map(Some).map_err(|_| corrupt("text"))
            }
            Some(SqlStorageValue::Null) => Ok(None),
            _ => Err(corrupt("a column")),
        };
        let required = |v: Option<String>, column| v.ok_or_else(|| corrupt(column));
        rows.push(PageRow {
            seq,
            id: required(next_text()?, "id")?,
            source: required(next_text()?, "source")?,
            subject: next_text()?,
            type_: required(next_text()?, "type")?,
            resource_instance: next_text()?,
            json: required(next_text()?, "json")?,
        });
    }
    Ok(rows)
}

/// A stored event that cannot be read: an error, never a default.
fn corrupt(column: &str) -> Error {
    Error::corrupt(format_args!("a stored event ({column})"))
}

/// The stored position of the `after` cursor's event (the first with that id), if it is stored
/// ([`EventPage::after_cursor`] decides where a page starts when it is not).
fn cursor_position(sql: &SqlStorage, after: Option<&str>) -> Result<Option<i64>, Error> {
    #[derive(Deserialize)]
    struct First {
        seq: Option<i64>,
    }
    let Some(after) = after else { return Ok(None) };
    let rows: Vec<First> = sql
        .exec(
            "SELECT MIN(seq) AS seq FROM events WHERE id = ?",
            vec![after.into()],
        )
        .map_err(sql_error)?
        .to_array()
        .map_err(|e| corrupt(&e.to_string()))?;
    Ok(rows.first().and_then(|r| r.seq))
}

/// Answer a query: a JSON array of the permitted events after the cursor, in order.
pub async fn page(
    sql: &SqlStorage,
    env: &Env,
    q: &QueryRequest,
    local: &LocalPolicies,
) -> Result<Response, Error> {
    let claims = Claims::new(q.caller.clone());
    let patterns = (q.types.len(), q.sources.len());
    let page = EventPage::new(claims, q.resource.clone(), q.app_read, q.size, patterns)?;
    let mut page = match q.after_seq {
        Some(seq) => page.after(seq),
        None => page.after_cursor(cursor_position(sql, q.after.as_deref())?),
    };
    let mut cfg = None;
    loop {
        match page.poll() {
            Step::Read { after, limit } => page.handle_rows(select(sql, q, after, limit)?),
            Step::Authorize => {
                let replacements = authz::person_replacements(env, page.lookups()).await?;
                let request = page.request(&replacements);
                let cfg = match &cfg {
                    Some(c) => c,
                    None => cfg.insert(config::load(env)?),
                };
                let claims = page.claims();
                let response = authz::decide(env, cfg, &request, local, Some(claims)).await?;
                page.handle_decisions(&response);
            }
            Step::Done => break,
        }
    }
    let page = page.finish();
    let mut resp = http::with_body(200, http::CLOUDEVENTS_JSON, page.body)?;
    http::set_header(&mut resp, H_COUNT, &page.count.to_string())?;
    http::set_header(&mut resp, H_POSITION, &page.position.to_string())?;
    if let Some(last_id) = page.last_id {
        http::set_header(&mut resp, H_LAST_ID, &encode_header(&last_id))?;
        if let Some(s) = page.first_subject {
            http::set_header(&mut resp, H_FIRST_SUBJECT, &encode_header(&s))?;
        }
    }
    Ok(resp)
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
