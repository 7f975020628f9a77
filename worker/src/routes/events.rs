//! Generic events: `POST` and `GET /events/api/v1/events` (spec §5.4, §5.5, §7).

use events_core::authz::mapping::publish_request;
use events_core::identity::{SCOPE_PUBLISH, SCOPE_PUBLISH_ADMIN, SCOPE_SUBSCRIBE};
use events_core::publish::{require_cloudevents_content_type, validate_generic_event};
use events_core::query::{next_link, GenericEventsQuery, QueryString};
use events_core::{ApiError, CloudEvent};
use worker::{Env, Method, Request, Response};

use crate::auth;
use crate::authz::{self, LocalPolicies};
use crate::config::Config;
use crate::http;
use crate::objects::event_log::{PublishReply, PublishRequest};
use crate::objects::event_query::{
    decode_header, QueryRequest, H_COUNT, H_FIRST_SUBJECT, H_LAST_ID,
};
use crate::objects::{self, EVENT_LOG};

/// `POST /events/api/v1/events`: 401 → 403 → 415 → 413 → 400 → PDP 403 → 200.
pub async fn publish(mut req: Request, env: &Env, cfg: &Config) -> Result<Response, ApiError> {
    let caller = auth::caller(&req, env, cfg)
        .await
        .ok_or(ApiError::unauthorized())?;
    if !caller.claims.has_scope(SCOPE_PUBLISH) && auth::access_token(&req, cfg).await.is_none() {
        return Err(ApiError::forbidden());
    }
    require_cloudevents_content_type(http::header(&req, "content-type").as_deref())?;
    let body = http::read_body(&mut req).await?;
    let mut event =
        CloudEvent::parse(&body).map_err(|e| ApiError::validation("RequestBody", e.0))?;
    validate_generic_event(&event)?;

    // Authorization is decided on the event as published; the built-in PDP runs inside the
    // resource's object (which holds the rule document), a remote PDP is asked here.
    let mut authorize = None;
    if !caller.claims.has_scope_ignore_case(SCOPE_PUBLISH_ADMIN) {
        let replacements =
            authz::person_subject_replacements(env, event.subject().into_iter()).await?;
        let subject_override = event
            .subject()
            .and_then(|s| replacements.get(s))
            .map(|r| r.as_deref());
        let request = publish_request(&caller.claims, &event, subject_override);
        if cfg.pdp_url.is_some() {
            let decision = authz::decide(env, cfg, &request, &LocalPolicies::new(), None).await?;
            if !decision.first_is_permit() {
                return Err(ApiError::forbidden());
            }
        } else {
            authorize = Some(request.to_json());
        }
    }

    event.normalise_resource();
    let resource = event.resource().unwrap_or_default().to_owned();
    let store = PublishRequest::from_event(&event, authorize, true, true);
    let stub = objects::stub(env, EVENT_LOG, &resource)?;
    let _: PublishReply = objects::call_json(&stub, Method::Post, "publish", &store).await?;
    http::empty(200)
}

/// `GET /events/api/v1/events`: 401 → 403 → 400 (binding, then rules) → 200 with `next`.
pub async fn read(req: Request, env: &Env, cfg: &Config) -> Result<Response, ApiError> {
    let caller = auth::caller(&req, env, cfg)
        .await
        .ok_or(ApiError::unauthorized())?;
    if !caller.claims.has_scope(SCOPE_SUBSCRIBE) {
        return Err(ApiError::forbidden());
    }
    let url = req
        .url()
        .map_err(|_| ApiError::bad_request("The request URL is not valid."))?;
    let qs = QueryString::parse(url.query().unwrap_or(""));
    let alt_header = http::header(&req, "Altinn-AlternativeSubject");
    let q = GenericEventsQuery::from_request(&qs, alt_header.as_deref())?;

    let stub = objects::stub(env, EVENT_LOG, &q.resource)?;
    let request = QueryRequest {
        resource: q.resource.clone(),
        after: Some(q.after.clone()),
        subject: q.subject.clone(),
        alternative_subject: q.alternative_subject.clone(),
        types: q.types.clone(),
        size: q.size,
        caller: caller.claims.as_map().clone(),
        ..QueryRequest::default()
    };
    let body = serde_json::to_vec(&request).map_err(|e| ApiError::internal(e.to_string()))?;
    let mut from_store = objects::call(&stub, Method::Post, "query", Some(body)).await?;
    let count: usize = http::header_of(&from_store, H_COUNT)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let bytes = objects::body_bytes(&mut from_store)
        .await
        .map_err(|e| http::platform_error("Could not read events", e))?;
    let mut resp = http::with_body(200, http::CLOUDEVENTS_JSON, bytes)?;
    if count > 0 {
        let last_id = http::header_of(&from_store, H_LAST_ID)
            .map(|h| decode_header(&h))
            .unwrap_or_default();
        let first_subject =
            http::header_of(&from_store, H_FIRST_SUBJECT).map(|h| decode_header(&h));
        let extra = match (&q.alternative_subject, &q.subject, &first_subject) {
            (Some(_), None, Some(s)) => Some(("subject", s.as_str())),
            _ => None,
        };
        let link = next_link(&cfg.base_url, &req.path(), &last_id, &qs, extra);
        http::set_header(&mut resp, "next", &link)?;
    }
    Ok(resp)
}
