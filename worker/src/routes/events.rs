//! Generic events: `POST` and `GET /events/api/v1/events` (spec §5.4, §5.5, §7).

use events_core::access::{self, PdpCheck, PublishGate};
use events_core::authz::mapping::publish_request;
use events_core::publish::{require_cloudevents_content_type, validate_generic_event};
use events_core::query::GenericEventsQuery;
use events_core::{ApiError, CloudEvent};
use worker::{Env, Method, Request, Response};

use crate::auth;
use crate::authz::{self, LocalPolicies};
use crate::config::Config;
use crate::http;
use crate::objects::event_log::{PublishCheck, PublishReply, PublishRequest};
use crate::objects::event_query::QueryRequest;
use crate::routes::pages;
use crate::rpc;

/// `POST /events/api/v1/events`: 401 → 403 → 415 → 413 → 400 → PDP 403 → 200.
pub async fn publish(mut req: Request, env: &Env, cfg: &Config) -> Result<Response, ApiError> {
    let caller = auth::caller(&req, env, cfg)
        .await
        .ok_or(ApiError::unauthorized())?;
    let platform_token = auth::access_token(&req, cfg).await.is_some();
    let check = access::publish_gate(&caller.claims, platform_token)?;
    require_cloudevents_content_type(http::header(&req, "content-type").as_deref())?;
    let body = http::read_body(&mut req).await?;
    let mut event =
        CloudEvent::parse(&body).map_err(|e| ApiError::validation("RequestBody", e.0))?;
    validate_generic_event(&event)?;

    // Authorization is decided on the event as published; the built-in PDP runs inside the
    // resource's object (which holds the rule document), a remote PDP is asked here.
    let mut authorize = None;
    if check == PublishGate::Pdp {
        let replacements =
            authz::person_subject_replacements(env, event.subject().into_iter()).await?;
        let subject_override = event
            .subject()
            .and_then(|s| replacements.get(s))
            .map(|r| r.as_deref());
        if cfg.pdp_url.is_some() {
            let request = publish_request(&caller.claims, &event, subject_override);
            let decision = authz::decide(env, cfg, &request, &LocalPolicies::new(), None).await?;
            access::require_permit(&decision, PdpCheck::Publish)?;
        } else {
            authorize = Some(PublishCheck {
                caller: caller.claims.as_map().clone(),
                resource: event.resource().unwrap_or_default().to_owned(),
                subject: match subject_override {
                    Some(replaced) => replaced.map(str::to_owned),
                    None => event.subject().map(str::to_owned),
                },
            });
        }
    }

    event.normalise_resource();
    let store = PublishRequest::from_event(&event, authorize, true, true);
    let stub = rpc::event_log(env, &store.event.meta.resource)?;
    let _: PublishReply = rpc::call_json(&stub, Method::Post, "publish", &store).await?;
    http::empty(200)
}

/// `GET /events/api/v1/events`: 401 → 403 → 400 (binding, then rules) → 200 with `next`.
pub async fn read(req: Request, env: &Env, cfg: &Config) -> Result<Response, ApiError> {
    let caller = auth::caller(&req, env, cfg)
        .await
        .ok_or(ApiError::unauthorized())?;
    access::read_gate(&caller.claims)?;
    let qs = pages::query_string(&req)?;
    let alt_header = http::header(&req, "Altinn-AlternativeSubject");
    let q = GenericEventsQuery::from_request(&qs, alt_header.as_deref())?;

    let stub = rpc::event_log(env, &q.resource)?;
    let request = QueryRequest {
        resource: Some(q.resource.clone()),
        after: Some(q.after.clone()),
        subject: q.subject.clone(),
        alternative_subject: q.alternative_subject.clone(),
        types: q.types.clone(),
        size: q.size,
        caller: caller.claims.as_map().clone(),
        ..QueryRequest::default()
    };
    let subject_from_first = q.alternative_subject.is_some() && q.subject.is_none();
    pages::answer(&req, cfg, &stub, &request, &qs, subject_from_first).await
}
