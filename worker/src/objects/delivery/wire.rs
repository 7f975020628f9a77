//! What the `Delivery` object exchanges with the rest of the service: the requests other code
//! sends it, the rows the API shows, and the webhook POST itself.

use events_core::delivery::WEBHOOK_CONTENT_TYPE;
use events_core::delivery_queue::{response_prefix, Attempted, Outcome, QueuedEvent};
use events_core::signing::Secret;
use events_core::subscription::{Subscription, SubscriptionId};
use serde::{Deserialize, Serialize};
use worker::{Fetch, Headers, Method, Request, RequestInit};

/// Start (or restart) a subscription's queue with its validation event (worker → object).
#[derive(Debug, Serialize, Deserialize)]
pub struct InitRequest {
    pub subscription: Subscription,
    pub validation: QueuedEvent,
    /// The signing secret for a new subscription (one that has a secret keeps it).
    pub secret: Secret,
}

/// A subscription's signing secret (object → route).
#[derive(Debug, Serialize, Deserialize)]
pub struct SecretReply {
    pub secret: Secret,
}

/// One event for the queue. `origin` makes the enqueue idempotent.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct QueuedWire {
    pub origin: String,
    pub event_json: String,
    pub event_id: String,
    pub event_type: String,
    pub resource: Option<String>,
}

/// Events for the queue, in order, stored together (event log → object).
#[derive(Debug, Serialize, Deserialize)]
pub struct EnqueueRequest {
    pub events: Vec<QueuedWire>,
}

/// The largest enqueue request the event log sends, in bytes of event text (an event larger
/// than this goes alone).
pub const ENQUEUE_BYTES: usize = 2 * 1024 * 1024;

impl EnqueueRequest {
    /// `events` in order, cut into requests of at most `limit` bytes of event text each.
    pub fn parts<'a>(
        events: impl IntoIterator<Item = &'a QueuedWire>,
        limit: usize,
    ) -> Vec<EnqueueRequest> {
        let mut parts: Vec<EnqueueRequest> = Vec::new();
        let mut size = 0;
        for event in events {
            let len = event.event_json.len();
            match parts.last_mut() {
                Some(part) if size + len <= limit => part.events.push(event.clone()),
                _ => {
                    parts.push(EnqueueRequest {
                        events: vec![event.clone()],
                    });
                    size = 0;
                }
            }
            size += len;
        }
        parts
    }
}

/// How many of an enqueue request's events were new to the queue.
#[derive(Debug, Serialize, Deserialize)]
pub struct EnqueueReply {
    pub queued: usize,
}

/// A trace-log row (spec §14), stored and read back by column name.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TraceRow {
    pub time: String,
    pub activity: String,
    pub cloud_event_id: Option<String>,
    pub resource: Option<String>,
    pub event_type: Option<String>,
    pub consumer: Option<String>,
    pub endpoint: Option<String>,
    pub subscription_id: Option<SubscriptionId>,
    pub status_code: Option<i64>,
}

/// A dead letter as the API shows it.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeadLetter {
    pub event: serde_json::Value,
    pub attempts: i64,
    pub enqueued: String,
    pub failed: String,
    pub last_status_code: Option<i64>,
    pub last_error: Option<String>,
}

/// POST `body` with `headers` (the content type is added); how it went, with the latency and
/// the start of the answer.
pub(super) async fn post_webhook(
    endpoint: &str,
    headers: Headers,
    body: String,
    timeout_secs: u32,
) -> Attempted {
    let started = js_sys::Date::now();
    let elapsed = || {
        let ms = (js_sys::Date::now() - started).max(0.0);
        if ms > f64::from(u32::MAX) {
            u32::MAX
        } else {
            ms as u32
        }
    };
    let _ = headers.set("content-type", WEBHOOK_CONTENT_TYPE);
    let mut init = RequestInit::new();
    init.with_method(Method::Post)
        .with_headers(headers)
        .with_body(Some(body.into()));
    let failed = |outcome: Outcome, latency_ms: u32| Attempted {
        outcome,
        latency_ms,
        response: None,
    };
    let req = match Request::new_with_init(endpoint, &init) {
        Ok(r) => r,
        Err(e) => return failed(Outcome::Failed(format!("invalid request: {e}")), 0),
    };
    let signal: worker::AbortSignal =
        web_sys::AbortSignal::timeout_with_u32(timeout_secs.saturating_mul(1000)).into();
    match Fetch::Request(req).send_with_signal(&signal).await {
        Ok(mut resp) => {
            // Reading the body also lets the connection be reused.
            let body = super::super::body_bytes(&mut resp)
                .await
                .unwrap_or_default();
            Attempted {
                outcome: Outcome::Answered(resp.status_code()),
                latency_ms: elapsed(),
                response: Some(response_prefix(&body)).filter(|r| !r.is_empty()),
            }
        }
        Err(_) if signal.aborted() => failed(Outcome::TimedOut(timeout_secs), elapsed()),
        Err(e) => failed(Outcome::Failed(format!("request failed: {e}")), elapsed()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(n: usize, len: usize) -> QueuedWire {
        QueuedWire {
            origin: format!("urn:r#{n}"),
            event_json: "x".repeat(len),
            event_id: n.to_string(),
            event_type: "t".into(),
            resource: None,
        }
    }

    #[test]
    fn enqueue_parts_keep_the_order_and_stay_under_the_limit_unless_one_event_is_larger() {
        let events: Vec<QueuedWire> = [40, 50, 20, 200, 30, 30, 30]
            .iter()
            .enumerate()
            .map(|(n, len)| event(n, *len))
            .collect();
        let parts = EnqueueRequest::parts(&events, 100);
        let ids: Vec<Vec<&str>> = parts
            .iter()
            .map(|p| p.events.iter().map(|e| e.event_id.as_str()).collect())
            .collect();
        assert_eq!(
            ids,
            vec![vec!["0", "1"], vec!["2"], vec!["3"], vec!["4", "5", "6"]]
        );
        assert!(EnqueueRequest::parts(&[], 100).is_empty());
    }
}
