//! The live stream (issue 15): a read answered as Server-Sent Events when the client sends
//! `Accept: text/event-stream`. The rules, without I/O: whether a request asks for a stream, which
//! cursor it resumes from (`Last-Event-ID` wins over `after`), when it reads on or waits, how a
//! page of events becomes SSE messages, and when the stream sends a heartbeat or ends (the
//! token's `exp`). The worker holds the connection, pulls pages and waits; the clock comes in as
//! an argument.

use alloc::borrow::ToOwned;
use alloc::string::String;
use alloc::vec::Vec;

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::identity::Claims;
use crate::query::QueryString;

/// The media type of the stream.
pub const CONTENT_TYPE: &str = "text/event-stream";
/// A heartbeat: an SSE comment, which clients ignore and proxies see as traffic.
pub const HEARTBEAT: &str = ": keep-alive\n\n";
/// Quiet time after which a heartbeat is sent.
pub const HEARTBEAT_MS: i64 = 15_000;

/// Does an `Accept` header ask for an event stream? A media range `text/event-stream` (any
/// case, parameters allowed) that is not refused with `q=0`. `*/*` does not count: a client
/// that accepts anything gets the plain read, as before.
pub fn wants_stream(accept: Option<&str>) -> bool {
    let Some(accept) = accept else { return false };
    accept.split(',').any(|range| {
        let mut parts = range.split(';').map(str::trim);
        let media = parts.next().unwrap_or_default();
        media.eq_ignore_ascii_case(CONTENT_TYPE)
            && !parts.any(|p| {
                let p = p.replace(' ', "");
                let Some(q) = p.strip_prefix("q=").or_else(|| p.strip_prefix("Q=")) else {
                    return false;
                };
                q.parse::<f32>().map(|q| q <= 0.0).unwrap_or(false)
            })
    })
}

/// The query a stream reads by: a non-empty `Last-Event-ID` takes the place of every `after` in
/// the URL (keys match case-insensitively, as binding does); otherwise the URL's own. The result
/// is then bound and validated exactly as the plain read's query string, so a stream without
/// either cursor gets the read's 400.
pub fn cursor_query(qs: &QueryString, last_event_id: Option<&str>) -> QueryString {
    let Some(id) = last_event_id.filter(|id| !id.is_empty()) else {
        return qs.clone();
    };
    let mut pairs: Vec<(String, String)> = Vec::with_capacity(qs.pairs().len() + 1);
    pairs.push(("after".to_owned(), id.to_owned()));
    pairs.extend(
        qs.pairs()
            .iter()
            .filter(|(k, _)| !k.eq_ignore_ascii_case("after"))
            .cloned(),
    );
    QueryString::from_pairs(pairs)
}

/// One SSE message: `id:` = the event id, `data:` = the CloudEvent JSON. A line break inside the
/// data (only whitespace between JSON tokens can hold one) continues on another `data:` line,
/// which a client joins back with `\n`. An id that SSE cannot carry (a line break or NUL in it)
/// is left out: the client keeps the previous id, and a resume repeats from there.
pub fn message(id: &str, data: &str) -> String {
    let mut out = String::with_capacity(data.len() + id.len() + 16);
    if !id.contains(['\r', '\n', '\0']) {
        out.push_str("id: ");
        out.push_str(id);
        out.push('\n');
    }
    let data = data.replace("\r\n", "\n").replace('\r', "\n");
    for line in data.split('\n') {
        out.push_str("data: ");
        out.push_str(line);
        out.push('\n');
    }
    out.push('\n');
    out
}

/// A page body that is not a JSON array of events with ids (the object wrote it: a fault).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MalformedPage;

/// The SSE messages of one page (the read's body: a JSON array of CloudEvents), in order, each
/// event's JSON as stored.
pub fn page_messages(body: &str) -> Result<String, MalformedPage> {
    #[derive(Deserialize)]
    struct Id<'a> {
        #[serde(borrow)]
        id: &'a str,
    }
    let events: Vec<&RawValue> = serde_json::from_str(body).map_err(|_| MalformedPage)?;
    let mut out = String::with_capacity(body.len() + events.len() * 64);
    for event in events {
        let id: Id<'_> = serde_json::from_str(event.get()).map_err(|_| MalformedPage)?;
        out.push_str(&message(id.id, event.get()));
    }
    Ok(out)
}

/// Where a stream reads next, and whether it reads now or waits for the object's note of a
/// commit. Pages are read by position (the sequence number the last page read to, denied events
/// included), so an event is read once whatever the caller may see.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Follow {
    /// `None` until the first page: that one starts at the read's own cursor.
    position: Option<i64>,
    waiting: bool,
}

impl Follow {
    /// A stream that has read nothing yet.
    pub fn new() -> Follow {
        Follow::default()
    }

    /// The position the next page starts after (`None`: the read's cursor).
    pub fn position(&self) -> Option<i64> {
        self.position
    }

    /// Read a page now (else wait for a note, a heartbeat or the end).
    pub fn wants_read(&self) -> bool {
        !self.waiting
    }

    /// A page was read up to `position`. If it moved, more may be stored already: read on at
    /// once. If not, the log ends there for now: wait.
    pub fn handle_page(&mut self, position: i64) {
        self.waiting = self.position == Some(position);
        self.position = Some(position);
    }

    /// The object stored events since the last page (the note may also be for events that
    /// page already had: one more read finds nothing and waits again).
    pub fn handle_note(&mut self) {
        self.waiting = false;
    }
}

/// What the stream does next, at a given time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tick {
    /// The token has expired: end the stream (the client reconnects with a fresh token).
    End,
    /// Send [`HEARTBEAT`] now.
    Heartbeat,
    /// Nothing is due for this many milliseconds (wait for new events at most that long).
    Wait(i64),
}

/// The stream's timers: a heartbeat after [`HEARTBEAT_MS`] without output, and the end at the
/// token's expiry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Schedule {
    /// Unix ms from which the token is refused (`None`: it carries no `exp`).
    ends_at: Option<i64>,
    /// Unix ms of the last output.
    last_output: i64,
}

impl Schedule {
    /// A stream opened at `now_ms` for a caller with `claims`. The token is valid up to and
    /// including its `exp` second (as [`crate::token::check_lifetime`] decides), so the stream
    /// ends when the next second begins.
    pub fn new(claims: &Claims, now_ms: i64) -> Schedule {
        Schedule {
            ends_at: claims
                .seconds("exp")
                .map(|exp| exp.saturating_add(1).saturating_mul(1000)),
            last_output: now_ms,
        }
    }

    /// Something was sent at `now_ms`: the heartbeat waits again.
    pub fn handle_output(&mut self, now_ms: i64) {
        self.last_output = now_ms;
    }

    /// What is due at `now_ms`.
    pub fn poll(&self, now_ms: i64) -> Tick {
        if self.ends_at.is_some_and(|end| now_ms >= end) {
            return Tick::End;
        }
        let heartbeat = self.last_output.saturating_add(HEARTBEAT_MS);
        if now_ms >= heartbeat {
            return Tick::Heartbeat;
        }
        let next = match self.ends_at {
            Some(end) => end.min(heartbeat),
            None => heartbeat,
        };
        Tick::Wait(next - now_ms)
    }
}

#[cfg(test)]
mod tests;
