//! Private endpoints for platform components (spec §5.10–§5.15): they need only a valid
//! `PlatformAccessToken` (401 without any credentials, 403 with a user token but no valid
//! platform token).

use events_core::access::PlatformPolicy;
use events_core::delivery::{response_activity, Activity};
use events_core::publish::{self, require_cloudevents_content_type, require_json_content_type};
use events_core::subscription::Subscription;
use events_core::trace::{LogEntry, LogQuery};
use events_core::{ApiError, CloudEvent};
use worker::{Env, Method, Request, Response};

use crate::auth::{self, AccessToken};
use crate::config::Config;
use crate::error::Error;
use crate::http;
use crate::objects::delivery::TraceRow;
use crate::objects::directory::{self, IdRequest};
use crate::objects::event_log::{PublishReply, PublishRequest};
use crate::objects::event_query::QueryRequest;
use crate::routes::subscriptions::parse_id;
use crate::rpc::{self, DELIVERY, DIRECTORY};

/// The `PlatformAccess` policy.
pub async fn require_platform_access(
    req: &Request,
    env: &Env,
    cfg: &Config,
) -> Result<AccessToken, ApiError> {
    let token = auth::access_token(req, cfg).await;
    let has_caller = token.is_none() && auth::caller(req, env, cfg).await.is_some();
    PlatformPolicy::Components.check(token.as_ref().map(|t| t.issuer.as_str()), has_caller)?;
    token.ok_or_else(ApiError::unauthorized)
}

/// `PUT /subscriptions/validate/{id}`: mark validated; answers the subscription as it was
/// before the update (as Altinn does). The subscription's delivery object owns `validated`: it
/// records the change and copies it to the event log and the directory (the same path a
/// successful validation handshake takes) before this answers.
pub async fn validate(
    req: Request,
    env: &Env,
    cfg: &Config,
    raw_id: &str,
) -> Result<Response, ApiError> {
    require_platform_access(&req, env, cfg).await?;
    let id = parse_id(raw_id)?;
    let dir = rpc::stub(env, DIRECTORY, directory::NAME)?;
    let before: Subscription = rpc::call_json(&dir, Method::Post, "get", &IdRequest { id }).await?;
    let delivery = rpc::stub(env, DELIVERY, &id.to_string())?;
    rpc::call(&delivery, Method::Post, "validated", None).await?;
    http::json(200, before.to_json())
}

async fn read_event(req: &mut Request) -> Result<CloudEvent, ApiError> {
    require_cloudevents_content_type(http::header(req, "content-type").as_deref())?;
    let body = http::read_body(req).await?;
    CloudEvent::parse(&body).map_err(|e| ApiError::validation("RequestBody", e.0))
}

/// Send a parsed event to its resource's log with the given flags.
pub async fn send_to_log(
    env: &Env,
    event: &CloudEvent,
    store: bool,
    fan_out: bool,
) -> Result<PublishReply, ApiError> {
    let request = PublishRequest::from_event(event, None, store, fan_out);
    let stub = rpc::event_log(env, &request.event.meta.resource)?;
    Ok(rpc::call_json(&stub, Method::Post, "publish", &request).await?)
}

/// `POST /inbound` and `POST /outbound`: match the event against subscriptions and queue it
/// for delivery, without storing it. Failures are 503 with a JSON string.
pub async fn fan_out(mut req: Request, env: &Env, cfg: &Config) -> Result<Response, ApiError> {
    require_platform_access(&req, env, cfg).await?;
    let mut event = read_event(&mut req).await?;
    event.normalise_resource();
    if publish::is_routable(&event) {
        send_to_log(env, &event, false, true)
            .await
            .map_err(|e| ApiError::text(503, e.describe()))?;
    }
    http::empty(200)
}

/// `POST /storage/events`: store without fan-out.
pub async fn store(mut req: Request, env: &Env, cfg: &Config) -> Result<Response, ApiError> {
    require_platform_access(&req, env, cfg).await?;
    let mut event = read_event(&mut req).await?;
    event.normalise_resource();
    let failed = || {
        ApiError::text(
            503,
            format!("Failed to save event with ID {} to storage.", event.id()),
        )
    };
    publish::require_storable(&event)?;
    send_to_log(env, &event, true, false)
        .await
        .map_err(|_| failed())?;
    http::empty(200)
}

/// `POST /storage/events/logs`: record a webhook response in the trace log (201, no body).
/// The entry is filed with its subscription's delivery log.
pub async fn write_log(mut req: Request, env: &Env, cfg: &Config) -> Result<Response, ApiError> {
    require_platform_access(&req, env, cfg).await?;
    require_json_content_type(http::header(&req, "content-type").as_deref())?;
    let body = http::read_body(&mut req).await?;
    let entry = LogEntry::parse(&body)?;
    let sub_id = entry.require_subscription()?;
    let activity: Activity = response_activity(
        entry.cloud_event_type.as_deref().unwrap_or(""),
        entry.status_code,
    );
    let row = TraceRow {
        time: String::new(),
        activity: activity.as_str().to_owned(),
        cloud_event_id: Some(entry.cloud_event_id),
        resource: entry.cloud_event_resource,
        event_type: entry.cloud_event_type,
        consumer: entry.consumer,
        endpoint: Some(entry.endpoint),
        subscription_id: Some(sub_id),
        status_code: Some(entry.status_code as i64),
    };
    let delivery = rpc::stub(env, DELIVERY, &sub_id.to_string())?;
    let _: serde_json::Value = rpc::call_json(&delivery, Method::Post, "trace", &row).await?;
    http::empty(201)
}

/// `GET /storage/events/logs?subscriptionId=…` or `?resource=…`: read the trace log of a
/// subscription (webhook responses) or of a resource (registrations and queueing decisions).
pub async fn read_logs(req: Request, env: &Env, cfg: &Config) -> Result<Response, ApiError> {
    require_platform_access(&req, env, cfg).await?;
    let url = req
        .url()
        .map_err(|_| ApiError::bad_request("The request URL is not valid."))?;
    let q = events_core::query::QueryString::parse(url.query().unwrap_or(""));
    let query = LogQuery::from_query(q.non_empty("subscriptionId"), q.non_empty("resource"))?;
    let rows: Vec<TraceRow> = match query {
        LogQuery::Subscription(id) => {
            let delivery = rpc::stub(env, DELIVERY, &id.to_string())?;
            let mut resp = rpc::call(&delivery, Method::Get, "trace", None).await?;
            rpc::body_json_of(&mut resp)
                .await
                .map_err(|e| Error::platform("Could not read the trace log", e))?
        }
        LogQuery::Resource(resource) => {
            let log = rpc::event_log(env, &resource)?;
            let query = QueryRequest {
                resource: Some(resource),
                ..QueryRequest::default()
            };
            rpc::call_json(&log, Method::Post, "trace", &query).await?
        }
    };
    let body = serde_json::json!({"count": rows.len(), "entries": rows});
    http::json(200, body.to_string())
}

/// `POST /tests/webhookreceiver`: a sink for tests; accepts any JSON (200, no body).
pub async fn webhook_receiver(req: Request) -> Result<Response, ApiError> {
    require_json_content_type(http::header(&req, "content-type").as_deref())?;
    http::empty(200)
}
