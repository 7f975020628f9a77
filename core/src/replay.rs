//! `POST /subscriptions/{id}/replay`: which stored events a subscriber asks to have sent again.
//! The window is of storage times (when this service stored the event), inclusive at both
//! ends, or starts after a named event; one call looks at [`REPLAY_LIMIT`] stored events at
//! most and answers a cursor to go on from.

use alloc::format;
use alloc::string::String;

use serde::{Deserialize, Serialize};

use crate::error::ApiError;
use crate::time::{Timestamp, UnixTime};

/// Stored events one replay call looks at, at most.
pub const REPLAY_LIMIT: u32 = 500;

/// Where the window starts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ReplayStart {
    /// Events stored at or after this instant (unix milliseconds).
    From(i64),
    /// Events stored after the (first) stored event with this id.
    AfterEvent(String),
}

/// A checked replay request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplayRequest {
    pub start: ReplayStart,
    /// Events stored at or before this instant (unix milliseconds); `None`: up to now.
    pub to: Option<i64>,
    /// Go on after this position (the `cursor` of the previous answer).
    pub cursor: Option<i64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Body {
    from: Option<String>,
    to: Option<String>,
    after: Option<String>,
    cursor: Option<String>,
}

fn bad(detail: impl Into<String>) -> ApiError {
    ApiError::bad_request(detail)
}

fn instant(field: &str, value: &str) -> Result<i64, ApiError> {
    Timestamp::parse_rfc3339(value)
        .map(|t| t.unix_millis())
        .map_err(|_| bad(format!("'{field}' must be a date and time with an offset (RFC 3339), such as 2026-11-30T12:00:00Z.")))
}

impl ReplayRequest {
    /// The request body: `{"from": time, "to": time}` or `{"after": event id}` (with an
    /// optional `to`), and the `cursor` of a previous answer to go on.
    pub fn parse(body: &[u8]) -> Result<ReplayRequest, ApiError> {
        let body: Body = serde_json::from_slice(body).map_err(|e| {
            bad(format!(
                "The body must be a JSON object with 'from' and 'to' (or 'after', and optionally 'cursor'): {e}"
            ))
        })?;
        let start =
            match (body.from, body.after) {
                (Some(_), Some(_)) => return Err(bad("Give either 'from' or 'after', not both.")),
                (None, None) => return Err(bad(
                    "Give 'from' (a time) or 'after' (an event id) to say where the replay starts.",
                )),
                (Some(from), None) => ReplayStart::From(instant("from", &from)?),
                (None, Some(after)) if after.is_empty() => {
                    return Err(bad("'after' must be an event id."))
                }
                (None, Some(after)) => ReplayStart::AfterEvent(after),
            };
        let to = body.to.map(|to| instant("to", &to)).transpose()?;
        if let (ReplayStart::From(from), Some(to)) = (&start, to) {
            if *from > to {
                return Err(bad("'from' is after 'to'."));
            }
        }
        let cursor = body
            .cursor
            .map(|c| {
                c.parse::<i64>()
                    .ok()
                    .filter(|c| *c >= 0)
                    .ok_or_else(|| bad(format!("'{c}' is not a replay cursor.")))
            })
            .transpose()?;
        Ok(ReplayRequest { start, to, cursor })
    }
}

/// Where a call's scan of the log starts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ScanStart<'a> {
    /// After this log position.
    After(i64),
    /// After the position of the (first) stored event with this id; none stored is a 400
    /// ([`no_such_event`]).
    AfterEvent(&'a str),
}

/// What one replay call reads: stored events after `start` whose storage time lies in
/// `from..=to`, in log order, at most [`REPLAY_LIMIT`] of them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Scan<'a> {
    pub start: ScanStart<'a>,
    pub from: i64,
    pub to: i64,
}

impl ReplayRequest {
    /// The scan of this call at `now`. A cursor goes on from where the previous call stopped;
    /// without a `to`, the window ends now: events stored after the call reach the
    /// subscription through the normal fan-out anyway.
    pub fn scan(&self, now: UnixTime) -> Scan<'_> {
        let to = self.to.unwrap_or(now.as_millis());
        match (&self.start, self.cursor) {
            (ReplayStart::From(from), cursor) => Scan {
                start: ScanStart::After(cursor.unwrap_or(0)),
                from: *from,
                to,
            },
            (ReplayStart::AfterEvent(_), Some(cursor)) => Scan {
                start: ScanStart::After(cursor),
                from: i64::MIN,
                to,
            },
            (ReplayStart::AfterEvent(id), None) => Scan {
                start: ScanStart::AfterEvent(id),
                from: i64::MIN,
                to,
            },
        }
    }
}

/// The 400 for an `after` naming no stored event of `resource`.
pub fn no_such_event(resource: &str, id: &str) -> ApiError {
    bad(format!("No stored event of {resource} has the id '{id}'."))
}

/// The cursor of a call that read `read` events, the last at position `last`: only a call
/// that read as many as it may can have left events behind.
pub fn next_cursor(read: usize, last: Option<i64>) -> Option<String> {
    last.filter(|_| read >= REPLAY_LIMIT as usize)
        .map(|seq| format!("{seq}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test(unsupported = test)]
    fn windows() {
        let r = ReplayRequest::parse(
            br#"{"from": "2026-11-30T12:00:00Z", "to": "2026-11-30T13:00:00+01:00"}"#,
        )
        .unwrap();
        assert_eq!(r.start, ReplayStart::From(1_796_040_000_000));
        assert_eq!(r.to, Some(1_796_040_000_000), "the same instant: inclusive");
        assert_eq!(r.cursor, None);
        let r = ReplayRequest::parse(br#"{"after": "e1", "cursor": "42"}"#).unwrap();
        assert_eq!(r.start, ReplayStart::AfterEvent("e1".into()));
        assert_eq!((r.to, r.cursor), (None, Some(42)));
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn a_call_scans_its_window_and_a_full_call_answers_a_cursor() {
        let now = UnixTime::from_millis(5_000);
        let r = ReplayRequest::parse(br#"{"from": "1970-01-01T00:00:01Z"}"#).unwrap();
        let scan = Scan {
            start: ScanStart::After(0),
            from: 1_000,
            to: 5_000,
        };
        assert_eq!(r.scan(now), scan, "up to now without a 'to'");
        let r = ReplayRequest::parse(
            br#"{"from": "1970-01-01T00:00:01Z", "to": "1970-01-01T00:00:02Z", "cursor": "7"}"#,
        )
        .unwrap();
        let scan = Scan {
            start: ScanStart::After(7),
            from: 1_000,
            to: 2_000,
        };
        assert_eq!(r.scan(now), scan);
        let r = ReplayRequest::parse(br#"{"after": "e1"}"#).unwrap();
        let scan = Scan {
            start: ScanStart::AfterEvent("e1"),
            from: i64::MIN,
            to: 5_000,
        };
        assert_eq!(r.scan(now), scan, "the event's position is looked up");
        let r = ReplayRequest::parse(br#"{"after": "e1", "cursor": "9"}"#).unwrap();
        assert_eq!(r.scan(now).start, ScanStart::After(9), "a cursor wins");

        let limit = REPLAY_LIMIT as usize;
        assert_eq!(next_cursor(limit, Some(812)), Some("812".into()));
        assert_eq!(next_cursor(limit - 1, Some(812)), None, "all read");
        assert_eq!(next_cursor(0, None), None);
        let err = no_such_event("urn:altinn:resource:r", "e9");
        assert_eq!(err.status, 400);
        assert!(err
            .describe()
            .contains("No stored event of urn:altinn:resource:r has the id 'e9'."));
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn bad_requests_say_why() {
        let cases: [(&[u8], &str); 9] = [
            (b"", "must be a JSON object"),
            (b"[]", "must be a JSON object"),
            (br#"{"to": "2026-11-30T12:00:00Z"}"#, "Give 'from'"),
            (
                br#"{"from": "2026-11-30T12:00:00Z", "after": "x"}"#,
                "not both",
            ),
            (br#"{"from": "yesterday"}"#, "'from' must be a date"),
            (
                br#"{"from": "2026-11-30T12:00:00"}"#,
                "'from' must be a date",
            ),
            (
                br#"{"from": "2026-11-30T13:00:00Z", "to": "2026-11-30T12:00:00Z"}"#,
                "after 'to'",
            ),
            (br#"{"after": "e", "cursor": "-1"}"#, "not a replay cursor"),
            (br#"{"after": "e", "limit": 5}"#, "must be a JSON object"),
        ];
        for (body, says) in cases {
            let err = ReplayRequest::parse(body).unwrap_err();
            assert_eq!(err.status, 400);
            let text = err.describe();
            assert!(
                text.contains(says),
                "{}: {text}",
                String::from_utf8_lossy(body)
            );
        }
    }
}
