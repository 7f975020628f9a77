//! The handlers, one file per API area, dispatched from the route table in
//! [`crate::routing`]. The method is read from the request as sent: workers-rs maps methods it
//! does not know (`QUERY`, `PROPFIND`, …) to `GET`, which must not run the GET handler.

mod admin;
mod app;
mod controls;
mod events;
mod exchange;
mod live;
mod pages;
mod private;
pub(crate) mod reference;
mod subscriptions;

use events_core::ApiError;
use worker::{Env, Method, Request, Response};

use crate::routing::{resolve, segments, Route, Verb};
use crate::{config, http};

/// Answer one request. Every error goes through [`http::error_response`].
pub async fn handle(req: Request, env: Env) -> Response {
    match route(req, &env).await {
        Ok(r) => r,
        Err(e) => http::error_response(&e),
    }
}

async fn route(req: Request, env: &Env) -> Result<Response, ApiError> {
    let path = req.path();
    let method = req.inner().method();
    let (route, verb) = resolve(&segments(&path), &method)?;
    let cfg = config::load(env)?;
    if route == Route::Health {
        return match cfg.missing_keys() {
            Some(missing) => Err(ApiError::unavailable(missing)),
            None => http::with_body(200, http::TEXT_PLAIN, "Healthy"),
        };
    }
    if !route.anonymous() {
        if let Some(missing) = cfg.missing_keys() {
            return Err(ApiError::internal(missing));
        }
    }
    match (route, verb) {
        (Route::Events, Verb::Post) => events::publish(req, env, &cfg).await,
        (Route::Events, _) => events::read(req, env, &cfg).await,
        (Route::App, _) => app::publish(req, env, &cfg).await,
        (Route::AppParty, _) => app::read_for_party(req, env, &cfg).await,
        (Route::AppForOrg(org, app), _) => app::read_for_org(req, env, &cfg, org, app).await,
        (Route::Subscriptions, Verb::Post) => subscriptions::create(req, env, &cfg).await,
        (Route::Subscriptions, _) => subscriptions::list(req, env, &cfg).await,
        (Route::ValidateSubscription(id), _) => private::validate(req, env, &cfg, id).await,
        (Route::Subscription(id), Verb::Delete) => subscriptions::delete(req, env, &cfg, id).await,
        (Route::Subscription(id), _) => subscriptions::get(req, env, &cfg, id).await,
        (Route::DeadLetters(id), _) => subscriptions::dead_letters(req, env, &cfg, id).await,
        (Route::Redeliver(id), _) => subscriptions::redeliver(req, env, &cfg, id).await,
        (Route::SubscriptionSecret(id), _) => controls::secret(req, env, &cfg, id).await,
        (Route::RotateSecret(id), _) => controls::rotate(req, env, &cfg, id).await,
        (Route::Attempts(id), _) => controls::attempts(req, env, &cfg, id).await,
        (Route::Enable(id), _) => controls::enable(req, env, &cfg, id).await,
        (Route::Replay(id), _) => controls::replay(req, env, &cfg, id).await,
        (Route::Inbound | Route::Outbound, _) => private::fan_out(req, env, &cfg).await,
        (Route::StorageEvents, _) => private::store(req, env, &cfg).await,
        (Route::StorageLogs, Verb::Post) => private::write_log(req, env, &cfg).await,
        (Route::StorageLogs, _) => private::read_logs(req, env, &cfg).await,
        (Route::WebhookReceiver, _) => private::webhook_receiver(req).await,
        (Route::AdminResource(id), v) => admin::resource(req, env, &cfg, id, method_of(v)).await,
        (Route::AdminParty(id), v) => admin::party(req, env, &cfg, id, method_of(v)).await,
        (Route::AdminOrg(org), v) => admin::org(req, env, &cfg, org, method_of(v)).await,
        (Route::ExchangeMaskinporten, _) => exchange::maskinporten(req, env, &cfg).await,
        (Route::OpenIdConfiguration, _) => exchange::openid_configuration(&cfg),
        (Route::OpenIdJwks, _) => exchange::jwks(&cfg),
        (Route::OpenApi, _) => reference::openapi(&req, &cfg),
        (Route::Docs, _) => Err(reference::docs_missing()),
        (Route::Health, _) => Err(ApiError::not_found()),
    }
}

fn method_of(verb: Verb) -> Method {
    match verb {
        Verb::Get => Method::Get,
        Verb::Head => Method::Head,
        Verb::Post => Method::Post,
        Verb::Put => Method::Put,
        Verb::Delete => Method::Delete,
        Verb::Other => Method::Options,
    }
}
