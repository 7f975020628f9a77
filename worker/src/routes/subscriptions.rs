//! Subscriptions: create, list, get and delete (spec §5.6–§5.9, §8), plus this service's
//! dead-letter endpoints.

use events_core::access::{self, PdpCheck};
use events_core::authz::builtin::PartyKey;
use events_core::delivery::validation_event;
use events_core::delivery_queue::QueuedEvent;
use events_core::identity::Consumer;
use events_core::subscription::{
    app_subject_lookup, check_request, complete_app, complete_generic, list_json, list_json_with,
    Kind, RegisterLookup, Subscription, SubscriptionId, SubscriptionRequest,
};
use events_core::time::Timestamp;
use events_core::ApiError;
use worker::{Env, Method, Request, Response};

use super::controls;
use crate::auth::{self, Caller};
use crate::authz::{self, LocalPolicies};
use crate::config::Config;
use crate::error::Error;
use crate::http;
use crate::objects::delivery::{DeadLetter, InitRequest, SecretReply};
use crate::objects::directory::{self, CreateReply, CreateRequest, IdRequest, ListRequest};
use crate::objects::event_log::SubscriptionUpsert;
use crate::rpc::{self, DELIVERY, DIRECTORY};

pub const PATH: &str = "/events/api/v1/subscriptions";

fn now_iso() -> String {
    Timestamp::from_unix_millis(worker::Date::now().as_millis() as i64).format()
}

async fn caller(req: &Request, env: &Env, cfg: &Config) -> Result<Caller, ApiError> {
    auth::caller(req, env, cfg)
        .await
        .ok_or(ApiError::unauthorized())
}

pub use events_core::subscription::parse_route_id as parse_id;

/// The party id the register has for an alternative subject; look-up failures count as
/// "not found" (Altinn swallows them so the API cannot be used to probe for persons).
async fn lookup_party_id(env: &Env, lookup: RegisterLookup) -> Option<i64> {
    let key = match lookup {
        RegisterLookup::OrgNumber(n) => PartyKey::OrgNumber(n),
        RegisterLookup::Person(p) => PartyKey::PersonId(p),
    };
    authz::load_party(env, &key)
        .await
        .ok()
        .flatten()
        .map(|p| p.party_id)
}

/// `POST /subscriptions`: 401 → 415 → 413 → 400 (binding) → controller checks → service
/// checks → PDP (403) → 201 with the subscription (new or the identical existing one).
pub async fn create(mut req: Request, env: &Env, cfg: &Config) -> Result<Response, ApiError> {
    let caller = caller(&req, env, cfg).await?;
    events_core::publish::require_json_content_type(http::header(&req, "content-type").as_deref())?;
    let body = http::read_body(&mut req).await?;
    let request = SubscriptionRequest::parse(&body)?;
    let checked = check_request(
        &request,
        &caller.claims,
        &cfg.apps_domain,
        cfg.allow_private_webhooks,
    )?;
    let draft = match checked.kind {
        Kind::App => {
            let found = match app_subject_lookup(&request) {
                Some(lookup) => lookup_party_id(env, lookup).await,
                None => None,
            };
            complete_app(&request, &checked, &caller.claims, found)?
        }
        Kind::Generic => complete_generic(&request, &checked, &caller.claims)?,
    };
    // The built-in PDP needs to know a user's own party when it later authorizes pushes to
    // them, with no token at hand: remember it from this verified token.
    authz::learn_own_party(env, &caller.claims).await?;
    let decision = authz::decide(
        env,
        cfg,
        &draft.authorization_request(),
        &LocalPolicies::new(),
        Some(&caller.claims),
    )
    .await?;
    let check = PdpCheck::CreateSubscription {
        resource_filter: &draft.resource_filter,
    };
    access::require_permit(&decision, check)?;

    // The validation event's id is drawn before anything is stored, so a failing random
    // source stores nothing.
    let event_id = http::new_guid()?;
    let secret = controls::new_secret()?;
    let dir = rpc::stub(env, DIRECTORY, directory::NAME)?;
    let created: CreateReply = rpc::call_json(
        &dir,
        Method::Post,
        "create",
        &CreateRequest {
            draft,
            created: now_iso(),
        },
    )
    .await?;
    let sub = created.subscription;
    // Matching takes effect for the very next event: the resource's log learns of the
    // subscription before the 201 is sent.
    let log = rpc::event_log(env, &sub.resource_filter.as_str().into())?;
    let _: serde_json::Value = rpc::call_json(
        &log,
        Method::Post,
        "sub_upsert",
        &SubscriptionUpsert {
            subscription: sub.clone(),
        },
    )
    .await?;
    // Every successful POST (new or duplicate) sends a validation event (spec §8.5 step 4).
    let event = validation_event(&event_id, &cfg.base_url, sub.id);
    let delivery = rpc::stub(env, DELIVERY, &sub.id.to_string())?;
    let signing: SecretReply = rpc::call_json(
        &delivery,
        Method::Post,
        "init",
        &InitRequest {
            secret,
            subscription: sub.clone(),
            validation: QueuedEvent {
                event_json: event.to_json(),
                event_id,
                event_type: event.type_().to_owned(),
                resource: None,
            },
        },
    )
    .await?;
    // The secret is shown here and by `GET …/secret`, never in a subscription's GET or list.
    let mut resp = http::json(201, sub.to_json_with(Some(&signing)))?;
    http::set_header(&mut resp, "location", &format!("{PATH}/{}", sub.id))?;
    Ok(resp)
}

/// `GET /subscriptions`: the caller's own subscriptions, validated or not.
pub async fn list(req: Request, env: &Env, cfg: &Config) -> Result<Response, ApiError> {
    let caller = caller(&req, env, cfg).await?;
    let Some(consumer) = Consumer::from_claims(&caller.claims) else {
        return http::json(200, list_json(&[]));
    };
    let dir = rpc::stub(env, DIRECTORY, directory::NAME)?;
    let subs: Vec<Subscription> = rpc::call_json(
        &dir,
        Method::Post,
        "list",
        &ListRequest {
            consumer: consumer.as_str().to_owned(),
        },
    )
    .await?;
    let healths =
        futures_util::future::join_all(subs.iter().map(|s| controls::health(env, s.id))).await;
    let with_health = subs
        .into_iter()
        .zip(healths)
        .map(|(sub, health)| health.map(|h| (sub, h)))
        .collect::<Result<Vec<_>, Error>>()?;
    http::json(200, list_json_with(&with_health))
}

/// The subscription `id` if the caller created it: 404 if it does not exist, 403 if it is
/// someone else's.
async fn owned(env: &Env, caller: &Caller, id: SubscriptionId) -> Result<Subscription, ApiError> {
    let dir = rpc::stub(env, DIRECTORY, directory::NAME)?;
    let sub: Subscription = rpc::call_json(&dir, Method::Post, "get", &IdRequest { id }).await?;
    access::require_owner(&sub, &caller.claims)?;
    Ok(sub)
}

/// The subscription `raw_id` of the request's caller: 401 without a token, 400 for an id that
/// is not an int32, 404 if it does not exist, 403 if it is someone else's.
pub(super) async fn owned_by_caller(
    req: &Request,
    env: &Env,
    cfg: &Config,
    raw_id: &str,
) -> Result<Subscription, ApiError> {
    let caller = caller(req, env, cfg).await?;
    let id = parse_id(raw_id)?;
    owned(env, &caller, id).await
}

/// `GET /subscriptions/{id}`.
pub async fn get(
    req: Request,
    env: &Env,
    cfg: &Config,
    raw_id: &str,
) -> Result<Response, ApiError> {
    let sub = owned_by_caller(&req, env, cfg, raw_id).await?;
    let health = controls::health(env, sub.id).await?;
    http::json(200, sub.to_json_with(health.as_ref()))
}

/// Stop delivery, remove the subscription from matching, then from the directory; each step
/// is idempotent, so a retried DELETE finishes what a failed one started.
pub async fn remove(env: &Env, sub: &Subscription) -> Result<(), ApiError> {
    let delivery = rpc::stub(env, DELIVERY, &sub.id.to_string())?;
    let _: serde_json::Value =
        rpc::call_json(&delivery, Method::Post, "stop", &serde_json::json!({})).await?;
    let log = rpc::event_log(env, &sub.resource_filter.as_str().into())?;
    let _: serde_json::Value =
        rpc::call_json(&log, Method::Post, "sub_delete", &IdRequest { id: sub.id }).await?;
    let dir = rpc::stub(env, DIRECTORY, directory::NAME)?;
    match rpc::call_json::<_, Subscription>(&dir, Method::Post, "delete", &IdRequest { id: sub.id })
        .await
    {
        Ok(_) => Ok(()),
        Err(e) if e.is_not_found() => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// `DELETE /subscriptions/{id}`: 200 with an empty body.
pub async fn delete(
    req: Request,
    env: &Env,
    cfg: &Config,
    raw_id: &str,
) -> Result<Response, ApiError> {
    let sub = owned_by_caller(&req, env, cfg, raw_id).await?;
    remove(env, &sub).await?;
    http::empty(200)
}

/// The delivery object of subscription `raw_id` if the caller created it (401/400/404/403
/// otherwise).
pub(super) async fn owned_delivery(
    req: &Request,
    env: &Env,
    cfg: &Config,
    raw_id: &str,
) -> Result<worker::Stub, ApiError> {
    let sub = owned_by_caller(req, env, cfg, raw_id).await?;
    Ok(rpc::stub(env, DELIVERY, &sub.id.to_string())?)
}

/// `GET /subscriptions/{id}/deadletters`: events whose every attempt failed.
pub async fn dead_letters(
    req: Request,
    env: &Env,
    cfg: &Config,
    raw_id: &str,
) -> Result<Response, ApiError> {
    let delivery = owned_delivery(&req, env, cfg, raw_id).await?;
    let mut resp = rpc::call(&delivery, Method::Get, "deadletters", None).await?;
    let letters: Vec<DeadLetter> = rpc::body_json_of(&mut resp)
        .await
        .map_err(|e| Error::platform("Could not read dead letters", e))?;
    let body = serde_json::json!({"count": letters.len(), "deadLetters": letters});
    http::json(200, body.to_string())
}

/// `POST /subscriptions/{id}/deadletters/redeliver`: put every dead letter back in the queue.
pub async fn redeliver(
    req: Request,
    env: &Env,
    cfg: &Config,
    raw_id: &str,
) -> Result<Response, ApiError> {
    let delivery = owned_delivery(&req, env, cfg, raw_id).await?;
    let mut resp = rpc::call(&delivery, Method::Post, "redeliver", None).await?;
    let bytes = rpc::body_bytes(&mut resp)
        .await
        .map_err(|e| Error::platform("Could not redeliver", e))?;
    http::json(200, bytes)
}
