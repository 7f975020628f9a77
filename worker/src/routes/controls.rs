//! What a subscriber sees of and controls in its deliveries (this service's additions): the
//! signing secret and its rotation, the attempt log, the endpoint's health and resuming a
//! disabled subscription. Owner only, like the subscription itself (404 unknown, 403 someone
//! else's).

use events_core::delivery_queue::AttemptQuery;
use events_core::signing::{Secret, SECRET_BYTES};
use events_core::subscription::SubscriptionId;
use events_core::ApiError;
use serde::Serialize;
use worker::{Env, Method, Request, Response};

use super::pages::query_string;
use super::subscriptions::{owned_delivery, PATH};
use crate::config::Config;
use crate::error::Error;
use crate::http;
use crate::objects::delivery::{AttemptPage, AttemptQueryBody, HealthView, SecretReply};
use crate::objects::event_log::{ReplayCall, ReplayReply};
use crate::rpc::{self, DELIVERY};

/// A new signing secret, or a 503 when the platform's random source fails.
pub fn new_secret() -> Result<Secret, Error> {
    let mut bytes = [0u8; SECRET_BYTES];
    getrandom::getrandom(&mut bytes).map_err(|_| Error::Platform {
        context: "No signing secret could be generated".to_owned(),
    })?;
    Ok(Secret::from_random(bytes))
}

/// The endpoint health of subscription `id` (`None`: its delivery object holds no live
/// subscription, so there is nothing to report).
pub async fn health(env: &Env, id: SubscriptionId) -> Result<Option<HealthView>, Error> {
    let delivery = rpc::stub(env, DELIVERY, &id.to_string())?;
    match rpc::call(&delivery, Method::Get, "health", None).await {
        Ok(mut resp) => {
            Ok(Some(rpc::body_json_of(&mut resp).await.map_err(|e| {
                Error::platform("Could not read the endpoint health", e)
            })?))
        }
        Err(e) if e.is_gone() => Ok(None),
        Err(e) => Err(e),
    }
}

/// Offer the subscription's delivery object a new secret at `path` and answer the secret in
/// force: `secret` keeps the one it has (a subscription stored before deliveries were signed
/// gets its first here), `rotate` takes the new one.
async fn secret_call(
    req: Request,
    env: &Env,
    cfg: &Config,
    raw_id: &str,
    path: &str,
) -> Result<Response, ApiError> {
    let delivery = owned_delivery(&req, env, cfg, raw_id).await?;
    let offered = SecretReply {
        secret: new_secret()?,
    };
    let reply: SecretReply = rpc::call_json(&delivery, Method::Post, path, &offered).await?;
    http::json(200, serde_json::to_vec(&reply).map_err(Error::from)?)
}

/// `GET /subscriptions/{id}/secret`: `{"secret": "whsec_…"}`.
pub async fn secret(
    req: Request,
    env: &Env,
    cfg: &Config,
    raw_id: &str,
) -> Result<Response, ApiError> {
    secret_call(req, env, cfg, raw_id, "secret").await
}

/// `POST /subscriptions/{id}/secret/rotate`: a new secret; the previous one still signs for 24 h.
pub async fn rotate(
    req: Request,
    env: &Env,
    cfg: &Config,
    raw_id: &str,
) -> Result<Response, ApiError> {
    secret_call(req, env, cfg, raw_id, "rotate").await
}

/// `GET /subscriptions/{id}/attempts?after=&size=`: the attempt log, oldest first.
pub async fn attempts(
    req: Request,
    env: &Env,
    cfg: &Config,
    raw_id: &str,
) -> Result<Response, ApiError> {
    let delivery = owned_delivery(&req, env, cfg, raw_id).await?;
    let qs = query_string(&req)?;
    let query = AttemptQuery::parse(qs.first("after"), qs.first("size"))?;
    let page: AttemptPage = rpc::call_json(
        &delivery,
        Method::Post,
        "attempts",
        &AttemptQueryBody {
            after: query.after,
            size: query.size,
        },
    )
    .await?;
    #[derive(Serialize)]
    struct Body {
        count: usize,
        attempts: Vec<crate::objects::delivery::AttemptView>,
        #[serde(skip_serializing_if = "Option::is_none")]
        next: Option<String>,
    }
    let id = super::subscriptions::parse_id(raw_id)?;
    let next = page.next_after.map(|after| {
        format!(
            "{}{PATH}/{id}/attempts?after={after}&size={}",
            cfg.base_url, query.size
        )
    });
    let body = Body {
        count: page.attempts.len(),
        attempts: page.attempts,
        next,
    };
    http::json(200, serde_json::to_vec(&body).map_err(Error::from)?)
}

/// `POST /subscriptions/{id}/enable`: resume a disabled subscription where it stopped; the
/// answer is its health.
pub async fn enable(
    req: Request,
    env: &Env,
    cfg: &Config,
    raw_id: &str,
) -> Result<Response, ApiError> {
    let delivery = owned_delivery(&req, env, cfg, raw_id).await?;
    let _: serde_json::Value =
        rpc::call_json(&delivery, Method::Post, "enable", &serde_json::json!({})).await?;
    let mut resp = rpc::call(&delivery, Method::Get, "health", None).await?;
    let view: HealthView = rpc::body_json_of(&mut resp)
        .await
        .map_err(|e| Error::platform("Could not read the endpoint health", e))?;
    http::json(200, serde_json::to_vec(&view).map_err(Error::from)?)
}

/// `POST /subscriptions/{id}/replay`: queue again, at the end of the queue and in publish
/// order, the stored events of a window that match the subscription now.
pub async fn replay(
    mut req: Request,
    env: &Env,
    cfg: &Config,
    raw_id: &str,
) -> Result<Response, ApiError> {
    let sub = super::subscriptions::owned_by_caller(&req, env, cfg, raw_id).await?;
    events_core::publish::require_json_content_type(http::header(&req, "content-type").as_deref())?;
    let body = http::read_body(&mut req).await?;
    let request = events_core::replay::ReplayRequest::parse(&body)?;
    let resource = sub.resource_filter.as_str().into();
    let log = rpc::event_log(env, &resource)?;
    let reply: ReplayReply = rpc::call_json(
        &log,
        Method::Post,
        "replay",
        &ReplayCall {
            subscription: sub.id,
            resource,
            request,
        },
    )
    .await?;
    http::json(200, serde_json::to_vec(&reply).map_err(Error::from)?)
}
