//! What the `Delivery` object exchanges with the rest of the service: the requests other code
//! sends it, the rows the API shows, and the webhook POST itself.

use events_core::delivery::WEBHOOK_CONTENT_TYPE;
use events_core::delivery_queue::{Outcome, QueuedEvent};
use events_core::subscription::{Subscription, SubscriptionId};
use serde::{Deserialize, Serialize};
use worker::{Fetch, Headers, Method, Request, RequestInit};

/// Start (or restart) a subscription's queue with its validation event (worker → object).
#[derive(Debug, Serialize, Deserialize)]
pub struct InitRequest {
    pub subscription: Subscription,
    pub validation: QueuedEvent,
}

/// One event for the queue (event log → object). `origin` makes the enqueue idempotent.
#[derive(Debug, Serialize, Deserialize)]
pub struct EnqueueRequest {
    pub origin: String,
    pub event_json: String,
    pub event_id: String,
    pub event_type: String,
    pub resource: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct EnqueueReply {
    pub queued: bool,
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

pub(super) async fn post_webhook(endpoint: &str, body: String, timeout_secs: u32) -> Outcome {
    let headers = Headers::new();
    let _ = headers.set("content-type", WEBHOOK_CONTENT_TYPE);
    let mut init = RequestInit::new();
    init.with_method(Method::Post)
        .with_headers(headers)
        .with_body(Some(body.into()));
    let req = match Request::new_with_init(endpoint, &init) {
        Ok(r) => r,
        Err(e) => return Outcome::Failed(format!("invalid request: {e}")),
    };
    let signal: worker::AbortSignal =
        web_sys::AbortSignal::timeout_with_u32(timeout_secs.saturating_mul(1000)).into();
    match Fetch::Request(req).send_with_signal(&signal).await {
        Ok(mut resp) => {
            // Read (and discard) the body so the connection can be reused.
            let _ = super::super::body_bytes(&mut resp).await;
            Outcome::Answered(resp.status_code())
        }
        Err(_) if signal.aborted() => Outcome::TimedOut(timeout_secs),
        Err(e) => Outcome::Failed(format!("request failed: {e}")),
    }
}
