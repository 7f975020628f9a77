//! The live stream (issue 15): a read with `Accept: text/event-stream` answered as Server-Sent
//! Events. "Notify, then pull by cursor": the route has bound, validated and authorized the read
//! exactly as the plain read; here the worker subscribes to the object's notes ([`socket`]),
//! reads the first page (its errors are the read's 4xx), then answers a stream that repeats: send
//! the page's events, read on at once while pages move (core's `Follow`), otherwise wait for a note,
//! the next heartbeat or the token's end. Every event passes the object's per-event
//! authorization, so a right withdrawn stops the stream's events at the next one.

mod socket;

use std::time::Duration;

use events_core::identity::Claims;
use events_core::live::{self, Follow, Schedule, Tick};
use events_core::query::QueryString;
use events_core::ApiError;
use futures_util::future::{self, Either};
use worker::{Delay, Headers, Method, Request, Response, Stub};

use crate::error::Error;
use crate::http;
use crate::objects::event_query::{QueryRequest, H_POSITION};
use crate::rpc;
use socket::{Note, Subscription};

/// Does this request ask for the stream?
pub fn wanted(req: &Request) -> bool {
    live::wants_stream(http::header(req, "accept").as_deref())
}

/// The query string a read binds: for a stream, `Last-Event-ID` in place of `after`.
pub fn query_string(req: &Request, qs: QueryString) -> QueryString {
    if wanted(req) {
        live::cursor_query(&qs, http::header(req, "last-event-id").as_deref())
    } else {
        qs
    }
}

fn now_ms() -> i64 {
    worker::Date::now().as_millis() as i64
}

/// One page after the cursor as SSE messages, and the position it read to.
async fn pull(stub: &Stub, query: &QueryRequest) -> Result<(String, i64), Error> {
    let body = serde_json::to_vec(query)?;
    let mut resp = rpc::call(stub, Method::Post, "query", Some(body)).await?;
    let position = http::header_of(&resp, H_POSITION)
        .and_then(|p| p.parse().ok())
        .ok_or_else(|| Error::corrupt("a page without its position"))?;
    let text = rpc::body_text(&mut resp)
        .await
        .map_err(|e| Error::platform("Storage answered something unreadable", e))?;
    let messages = live::page_messages(&text).map_err(|_| Error::corrupt("a page of events"))?;
    Ok((messages, position))
}

/// A stream in progress.
struct Live {
    stub: Stub,
    query: QueryRequest,
    notes: Subscription,
    follow: Follow,
    schedule: Schedule,
}

impl Live {
    /// Read a page and move the cursor past it.
    async fn pull(&mut self) -> Result<String, Error> {
        self.query.after_seq = self.follow.position();
        let (messages, position) = pull(&self.stub, &self.query).await?;
        self.follow.handle_page(position);
        Ok(messages)
    }

    /// The next chunk of the stream; `None` ends it.
    async fn next_chunk(&mut self) -> Option<String> {
        loop {
            let wait = match self.schedule.poll(now_ms()) {
                Tick::End => return None,
                Tick::Heartbeat => {
                    self.schedule.handle_output(now_ms());
                    return Some(live::HEARTBEAT.to_owned());
                }
                Tick::Wait(ms) => ms,
            };
            if self.follow.wants_read() {
                match self.pull().await {
                    Ok(messages) if messages.is_empty() => continue,
                    Ok(messages) => {
                        self.schedule.handle_output(now_ms());
                        return Some(messages);
                    }
                    Err(e) => {
                        // The client reconnects with Last-Event-ID.
                        worker::console_error!("live stream ends: {}", e.describe());
                        return None;
                    }
                }
            }
            let timer = Delay::from(Duration::from_millis(wait.max(0) as u64));
            match future::select(self.notes.next(), timer).await {
                Either::Left((Note::New, _)) => self.follow.handle_note(),
                Either::Left((Note::Closed, _)) => return None,
                Either::Right(((), _)) => {}
            }
        }
    }
}

/// Answer a validated read as a stream: subscribe, read the first page (errors are the read's),
/// then stream.
pub async fn answer(stub: Stub, query: QueryRequest) -> Result<Response, ApiError> {
    let schedule = Schedule::new(&Claims::new(query.caller.clone()), now_ms());
    let notes = Subscription::open(&stub).await?;
    let (first, position) = pull(&stub, &query).await?;
    let mut follow = Follow::new();
    follow.handle_page(position);
    let state = Live {
        stub,
        query,
        notes,
        follow,
        schedule,
    };
    let first = (!first.is_empty()).then_some(first);
    let chunks = futures_util::stream::unfold((state, first), |(mut state, first)| async move {
        let chunk = match first {
            Some(first) => Some(first),
            None => state.next_chunk().await,
        };
        chunk.map(|c| (Ok::<Vec<u8>, worker::Error>(c.into_bytes()), (state, None)))
    });
    let headers = Headers::new();
    let set = |name: &str, value: &str| {
        headers
            .set(name, value)
            .map_err(|_| ApiError::internal("Could not set a stream header."))
    };
    set("content-type", live::CONTENT_TYPE)?;
    set("cache-control", "no-cache")?;
    let resp = Response::from_stream(chunks)
        .map_err(|e| ApiError::from(Error::platform("Could not start the stream", e)))?;
    Ok(resp.with_headers(headers))
}
