//! Generic events: `POST` and `GET /events/api/v1/events` (spec §5.4, §5.5, §7).

use events_core::access::{self, PdpCheck, PublishGate};
use events_core::authz::mapping::publish_request;
use events_core::batch;
use events_core::event::EventRecord;
use events_core::publish::{require_cloudevents_content_type, validate_generic_event};
use events_core::query::GenericEventsQuery;
use events_core::urn::ResourceUrn;
use events_core::{ApiError, CloudEvent};
use worker::{Env, Method, Request, Response};

use crate::auth;
use crate::authz::{self, LocalPolicies};
use crate::config::Config;
use crate::http;
use crate::objects::event_log::{
    BatchReply, BatchRequest, PublishCheck, PublishReply, PublishRequest,
};
use crate::objects::event_query::QueryRequest;
use crate::routes::{live, pages};
use crate::rpc;

/// `POST /events/api/v1/events`: 401 → 403 → 415 → 413 → 400 → PDP 403 → 200. A body in the
/// batched content mode goes to [`publish_batch`].
pub async fn publish(mut req: Request, env: &Env, cfg: &Config) -> Result<Response, ApiError> {
    let caller = auth::caller(&req, env, cfg)
        .await
        .ok_or(ApiError::unauthorized())?;
    let platform_token = auth::access_token(&req, cfg).await.is_some();
    let check = access::publish_gate(&caller.claims, platform_token)?;
    let content_type = http::header(&req, "content-type");
    if batch::is_batch(content_type.as_deref()) {
        return publish_batch(req, env, cfg, &caller, check).await;
    }
    require_cloudevents_content_type(content_type.as_deref())?;
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

/// A batch (`application/cloudevents-batch+json`): every event checked and authorized as a
/// single publish before anything is stored; then one call per resource, all at once.
async fn publish_batch(
    mut req: Request,
    env: &Env,
    cfg: &Config,
    caller: &auth::Caller,
    gate: PublishGate,
) -> Result<Response, ApiError> {
    let body = http::read_body(&mut req).await?;
    let mut events = batch::parse_batch(&body)?;
    let mut checks = Vec::new();
    if gate == PublishGate::Pdp {
        let replacements =
            authz::person_subject_replacements(env, events.iter().filter_map(|e| e.subject()))
                .await?;
        let subject_override = |event: &CloudEvent| {
            event
                .subject()
                .and_then(|s| replacements.get(s))
                .map(|r| r.as_deref().map(str::to_owned))
        };
        if cfg.pdp_url.is_some() {
            let decisions = futures_util::future::join_all(events.iter().map(|event| {
                let replaced = subject_override(event);
                async move {
                    let request = publish_request(
                        &caller.claims,
                        event,
                        replaced.as_ref().map(|r| r.as_deref()),
                    );
                    authz::decide(env, cfg, &request, &LocalPolicies::new(), None).await
                }
            }))
            .await;
            for decision in decisions {
                access::require_permit(&decision?, PdpCheck::Publish)?;
            }
        } else {
            checks = events
                .iter()
                .map(|event| PublishCheck {
                    caller: caller.claims.as_map().clone(),
                    resource: event.resource().unwrap_or_default().to_owned(),
                    subject: match subject_override(event) {
                        Some(replaced) => replaced,
                        None => event.subject().map(str::to_owned),
                    },
                })
                .map(Some)
                .collect();
        }
    }
    for event in &mut events {
        event.normalise_resource();
    }
    let records: Vec<EventRecord> = events.iter().map(EventRecord::from_event).collect();
    let mut checks: Vec<Option<PublishCheck>> = if checks.is_empty() {
        records.iter().map(|_| None).collect()
    } else {
        checks
    };
    let groups = batch::group_by_resource(records.iter().map(|r| r.meta.resource.as_str()));
    let requests: Vec<(ResourceUrn, BatchRequest)> = groups
        .iter()
        .map(|(resource, indexes)| {
            let authorize: Option<Vec<PublishCheck>> = indexes
                .iter()
                .map(|&i| checks.get_mut(i).and_then(Option::take))
                .collect();
            (
                ResourceUrn::from(*resource),
                BatchRequest {
                    events: indexes
                        .iter()
                        .filter_map(|&i| records.get(i).cloned())
                        .collect(),
                    authorize,
                    check_only: false,
                },
            )
        })
        .collect();
    // A batch over several resources is checked everywhere before it is stored anywhere.
    let checked_apart = requests.len() > 1 && requests.iter().any(|(_, r)| r.authorize.is_some());
    if checked_apart {
        let results =
            futures_util::future::join_all(requests.iter().map(|(resource, r)| async move {
                let stub = rpc::event_log(env, resource)?;
                let check = BatchRequest {
                    events: r.events.clone(),
                    authorize: r
                        .authorize
                        .as_ref()
                        .map(|a| a.iter().map(PublishCheck::clone).collect()),
                    check_only: true,
                };
                rpc::call_json::<_, BatchReply>(&stub, Method::Post, "publish_batch", &check).await
            }))
            .await;
        for result in results {
            result?;
        }
    }
    let results =
        futures_util::future::join_all(requests.into_iter().map(|(resource, mut r)| async move {
            if checked_apart {
                r.authorize = None;
            }
            let stub = rpc::event_log(env, &resource)?;
            rpc::call_json::<_, BatchReply>(&stub, Method::Post, "publish_batch", &r).await
        }))
        .await;
    for result in results {
        result?;
    }
    http::empty(200)
}

/// `GET /events/api/v1/events`: 401 → 403 → 400 (binding, then rules) → 200 with `next`, or the
/// live stream for `Accept: text/event-stream` ([`live`]).
pub async fn read(req: Request, env: &Env, cfg: &Config) -> Result<Response, ApiError> {
    let caller = auth::caller(&req, env, cfg)
        .await
        .ok_or(ApiError::unauthorized())?;
    access::read_gate(&caller.claims)?;
    let qs = live::query_string(&req, pages::query_string(&req)?);
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
    if live::wanted(&req) {
        return live::answer(stub, request).await;
    }
    let subject_from_first = q.alternative_subject.is_some() && q.subject.is_none();
    pages::answer(&req, cfg, &stub, &request, &qs, subject_from_first).await
}
