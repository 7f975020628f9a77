//! [`EventStream`]: a Server-Sent Events client for the live stream (issue 15). It reads the
//! chunked body incrementally and parses it as the HTML standard's event-stream format does
//! (fields `id`, `data`, comments, blank-line dispatch), so a test sees what a browser's
//! `EventSource` would, and how long each message took to arrive.

use std::time::Duration;

use serde_json::Value;

/// One item of the stream.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    /// A dispatched message: its `id` field (if it had one) and its joined `data` lines.
    Event { id: Option<String>, data: String },
    /// A comment line (`: ...`), without the colon.
    Comment(String),
}

/// An open response read as an event stream (or, for an error answer, read whole).
pub struct EventStream {
    pub status: u16,
    pub content_type: Option<String>,
    response: reqwest::Response,
    buffer: String,
    /// Bytes of an incomplete UTF-8 sequence at the end of the last chunk.
    pending: Vec<u8>,
    id: Option<String>,
    data: Option<String>,
    ended: bool,
}

/// `GET base_url + path` with `Accept: text/event-stream`, a bearer token and extra headers.
pub async fn open(
    base_url: &str,
    path: &str,
    token: &str,
    headers: &[(&str, &str)],
) -> EventStream {
    let http = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("a reqwest client");
    let mut request = http
        .get(format!("{base_url}{path}"))
        .header("accept", "text/event-stream")
        .bearer_auth(token);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET {path} (stream) failed: {e:?}"));
    EventStream {
        status: response.status().as_u16(),
        content_type: response
            .headers()
            .get("content-type")
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned()),
        response,
        buffer: String::new(),
        pending: Vec::new(),
        id: None,
        data: None,
        ended: false,
    }
}

impl EventStream {
    /// Panics unless the stream opened (200, `text/event-stream`).
    pub fn assert_open(&self) -> &Self {
        assert_eq!(self.status, 200, "the stream did not open");
        assert_eq!(self.content_type.as_deref(), Some("text/event-stream"));
        self
    }

    /// The parsed item at the front of the buffer, if a whole line is there.
    fn parse_one(&mut self) -> Option<Item> {
        while let Some(end) = self.buffer.find('\n') {
            let line: String = self.buffer.drain(..=end).collect();
            let line = line.trim_end_matches('\n').trim_end_matches('\r');
            if line.is_empty() {
                if let Some(data) = self.data.take() {
                    return Some(Item::Event {
                        id: self.id.take(),
                        data,
                    });
                }
                self.id = None;
                continue;
            }
            if let Some(comment) = line.strip_prefix(':') {
                return Some(Item::Comment(comment.trim_start().to_owned()));
            }
            let (field, value) = match line.split_once(':') {
                Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
                None => (line, ""),
            };
            match field {
                "id" => self.id = Some(value.to_owned()),
                "data" => match &mut self.data {
                    Some(d) => {
                        d.push('\n');
                        d.push_str(value);
                    }
                    None => self.data = Some(value.to_owned()),
                },
                other => panic!("unexpected SSE field {other:?} in {line:?}"),
            }
        }
        None
    }

    /// The next item, `None` when the stream ended or nothing came within `timeout`.
    pub async fn next(&mut self, timeout: Duration) -> Option<Item> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if let Some(item) = self.parse_one() {
                return Some(item);
            }
            if self.ended {
                return None;
            }
            match tokio::time::timeout_at(deadline, self.response.chunk()).await {
                Err(_) => return None,
                Ok(Ok(Some(chunk))) => {
                    // A chunk may end inside a UTF-8 sequence: keep its tail for the next one.
                    self.pending.extend_from_slice(&chunk);
                    let valid = match std::str::from_utf8(&self.pending) {
                        Ok(text) => text.len(),
                        Err(e) if e.error_len().is_none() => e.valid_up_to(),
                        Err(e) => panic!("the stream is not UTF-8: {e}"),
                    };
                    let text: Vec<u8> = self.pending.drain(..valid).collect();
                    self.buffer
                        .push_str(std::str::from_utf8(&text).unwrap_or_default());
                }
                Ok(Ok(None)) | Ok(Err(_)) => self.ended = true,
            }
        }
    }

    /// Has the server ended the stream (within `timeout`, skipping comments)?
    pub async fn ends_within(&mut self, timeout: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match self.next(left).await {
                Some(Item::Comment(_)) => continue,
                Some(item) => panic!("expected the end, got {item:?}"),
                None => return self.ended,
            }
        }
    }

    /// The next `n` events (ids and CloudEvents), comments skipped; panics with what came if
    /// they do not all come within `timeout`.
    pub async fn events(&mut self, n: usize, timeout: Duration) -> Vec<(String, Value)> {
        let deadline = tokio::time::Instant::now() + timeout;
        let mut got = Vec::new();
        while got.len() < n {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match self.next(left).await {
                Some(Item::Event { id, data }) => {
                    let event: Value = serde_json::from_str(&data)
                        .unwrap_or_else(|e| panic!("data is not JSON ({e}): {data}"));
                    got.push((id.unwrap_or_default(), event));
                }
                Some(Item::Comment(_)) => {}
                None => panic!(
                    "expected {n} events, got {} (ended: {}): {:?}",
                    got.len(),
                    self.ended,
                    got.iter().map(|(id, _)| id).collect::<Vec<_>>()
                ),
            }
        }
        got
    }

    /// The event ids that arrive within `duration` (comments skipped).
    pub async fn ids_within(&mut self, duration: Duration) -> Vec<String> {
        let deadline = tokio::time::Instant::now() + duration;
        let mut ids = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match self.next(left).await {
                Some(Item::Event { id, .. }) => ids.push(id.unwrap_or_default()),
                Some(Item::Comment(_)) => {}
                None => return ids,
            }
        }
    }

    /// The whole body (for an answer that is not a stream).
    pub async fn body(self) -> String {
        self.response.text().await.unwrap_or_default()
    }
}

/// The ids of `events`.
pub fn ids(events: &[(String, Value)]) -> Vec<&str> {
    events.iter().map(|(id, _)| id.as_str()).collect()
}
