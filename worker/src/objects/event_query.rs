//! Reading events from an object's `events` table: filters, the `after` cursor, per-event
//! authorization and the page (shared by `EventLog`, which holds a resource's events, and
//! `Party`, which indexes a party's events across resources).

use events_core::authz::mapping::{
    self, app_event_read_resource, app_read_request, generic_event_resource, generic_read_request,
    EventAttrs,
};
use events_core::authz::xacml::Category;
use events_core::identity::Claims;
use events_core::query::like_to_glob;
use events_core::ApiError;
use serde::{Deserialize, Serialize};
use worker::{Env, Response, SqlStorage, SqlStorageValue};

use super::{int, sql_error};
use crate::authz::{self, LocalPolicies};
use crate::error::Error;
use crate::{config, http};

/// A read (worker → object).
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct QueryRequest {
    /// The resource (generic reads authorize against it); empty for party reads.
    pub resource: String,
    /// Event id cursor; unknown ids mean "from the start".
    pub after: Option<String>,
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
";

/// Reply headers of a query: number of events, last id, first subject.
pub const H_COUNT: &str = "x-count";
pub const H_LAST_ID: &str = "x-last-id";
pub const H_FIRST_SUBJECT: &str = "x-first-subject";

/// Most `type`/`source` patterns in one query (each is a bound parameter).
pub const MAX_PATTERNS: usize = 40;
/// Rounds of scanning to fill a page whose events were partly denied.
const MAX_ROUNDS: usize = 10;

pub struct Row {
    pub seq: i64,
    pub id: String,
    pub source: String,
    pub subject: Option<String>,
    pub type_: String,
    pub resource_instance: Option<String>,
    pub json: String,
}

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

/// Up to `limit` events after sequence number `after_seq` that pass the filters.
pub fn select(
    sql: &SqlStorage,
    q: &QueryRequest,
    after_seq: i64,
    limit: u32,
) -> Result<Vec<Row>, Error> {
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
        // Move the values out of the row (no copies).
        let mut cols = r.map_err(sql_error)?.into_iter();
        let seq = int(cols.next().as_ref());
        let mut next_text = || match cols.next() {
            Some(SqlStorageValue::String(s)) => Some(s),
            Some(SqlStorageValue::Blob(b)) => String::from_utf8(b).ok(),
            _ => None,
        };
        rows.push(Row {
            seq,
            id: next_text().unwrap_or_default(),
            source: next_text().unwrap_or_default(),
            subject: next_text(),
            type_: next_text().unwrap_or_default(),
            resource_instance: next_text(),
            json: next_text().unwrap_or_default(),
        });
    }
    Ok(rows)
}

/// The cursor position of `after`: the first event with that id, or the start.
pub fn cursor_position(sql: &SqlStorage, after: Option<&str>) -> Result<i64, Error> {
    let Some(after) = after else { return Ok(0) };
    let rows = super::rows(
        sql,
        "SELECT MIN(seq) FROM events WHERE id = ?",
        vec![after.into()],
    )?;
    Ok(rows.first().map(|r| int(r.first())).unwrap_or(0))
}

/// Which rows the caller may see: generic reads ask `subscribe` per event (spec §7.2), app
/// reads ask `read` for events with an instance source (spec §6.6, §11.3).
async fn authorize(
    env: &Env,
    q: &QueryRequest,
    claims: &Claims,
    rows: &[Row],
    local: &LocalPolicies,
) -> Result<Vec<bool>, Error> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    fn attrs<'a>(r: &'a Row, resource: &'a str) -> EventAttrs<'a> {
        EventAttrs {
            id: &r.id,
            type_: &r.type_,
            source: &r.source,
            subject: r.subject.as_deref(),
            resource: Some(resource).filter(|r| !r.is_empty()),
            resource_instance: r.resource_instance.as_deref(),
        }
    }
    let request = if q.app_read {
        let resources: Vec<Category> = rows
            .iter()
            .filter_map(|r| app_event_read_resource(&attrs(r, &q.resource)))
            .collect();
        if resources.is_empty() {
            return Ok(vec![false; rows.len()]);
        }
        app_read_request(claims, resources)
    } else {
        let replacements = authz::person_subject_replacements(
            env,
            rows.iter().filter_map(|r| r.subject.as_deref()),
        )
        .await?;
        let resources = rows
            .iter()
            .map(|r| {
                let subject_override = r
                    .subject
                    .as_deref()
                    .and_then(|s| replacements.get(s))
                    .map(|x| x.as_deref());
                generic_event_resource(&attrs(r, &q.resource), subject_override)
            })
            .collect();
        generic_read_request(claims, resources)
    };
    let cfg = config::load(env)?;
    let response = authz::decide(env, &cfg, &request, local, Some(claims)).await?;
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

/// Answer a query: a JSON array of the permitted events after the cursor, in order.
///
/// Altinn filters a page after its SQL `LIMIT`, so pages can be short or empty while more
/// events exist, and paging then stops. Here the page is filled by scanning on (a bounded
/// number of rounds, so one request cannot scan a whole log).
pub async fn page(
    sql: &SqlStorage,
    env: &Env,
    q: &QueryRequest,
    local: &LocalPolicies,
) -> Result<Response, Error> {
    if q.types.len() > MAX_PATTERNS || q.sources.len() > MAX_PATTERNS {
        return Err(Error::from(ApiError::bad_request(format!(
            "At most {MAX_PATTERNS} 'type' and {MAX_PATTERNS} 'source' values can be given."
        ))));
    }
    let claims = Claims::new(q.caller.clone());
    let size = q.size.clamp(1, 10_000) as usize;
    let mut position = cursor_position(sql, q.after.as_deref())?;
    let mut body = String::with_capacity(2 + size.min(1000) * 300);
    body.push('[');
    let mut count = 0usize;
    let mut last_id = String::new();
    let mut first_subject: Option<String> = None;
    for _ in 0..MAX_ROUNDS {
        if count >= size {
            break;
        }
        let want = (size - count) as u32;
        let rows = select(sql, q, position, want)?;
        let Some(last) = rows.last() else { break };
        position = last.seq;
        let allowed = authorize(env, q, &claims, &rows, local).await?;
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
