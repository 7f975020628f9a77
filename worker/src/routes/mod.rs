//! Routing: one file per API area. Literal path segments match case-insensitively and a
//! trailing slash is ignored, as in ASP.NET.

mod admin;
mod app;
mod events;
mod pages;
mod private;
mod subscriptions;

use events_core::ApiError;
use worker::{Env, Method, Request, Response};

use crate::{config, http};

/// Answer one request. Every error goes through [`http::error_response`].
pub async fn handle(req: Request, env: Env) -> Response {
    match route(req, &env).await {
        Ok(r) => r,
        Err(e) => http::error_response(&e),
    }
}

async fn route(req: Request, env: &Env) -> Result<Response, ApiError> {
    let cfg = config::load(env)?;
    let path = req.path();
    let trimmed = if path.len() > 1 {
        path.trim_end_matches('/')
    } else {
        path.as_str()
    };
    let segments: Vec<&str> = trimmed.split('/').skip(1).collect();
    let lower: Vec<String> = segments.iter().map(|s| s.to_ascii_lowercase()).collect();
    let lower: Vec<&str> = lower.iter().map(String::as_str).collect();
    let method = req.method();

    if lower.as_slice() == ["health"] {
        return match method {
            Method::Get | Method::Head => {
                http::with_body(200, "text/plain; charset=utf-8", "Healthy")
            }
            _ => Err(ApiError::empty(405)),
        };
    }
    let api: &[&str] = match lower.as_slice() {
        ["events", "api", "v1", rest @ ..] => rest,
        _ => return Err(ApiError::not_found()),
    };
    let raw = &segments[3..];
    match (api, &method) {
        (["events"], Method::Post) => events::publish(req, env, &cfg).await,
        (["events"], Method::Get) => events::read(req, env, &cfg).await,
        (["events"], _) => Err(ApiError::empty(405)),
        (["app"], Method::Post) => app::publish(req, env, &cfg).await,
        (["app", "party"], Method::Get) => app::read_for_party(req, env, &cfg).await,
        (["app", _, _], Method::Get) => app::read_for_org(req, env, &cfg, raw[1], raw[2]).await,
        (["app"], _) | (["app", _, _], _) => Err(ApiError::empty(405)),
        (["subscriptions"], Method::Post) => subscriptions::create(req, env, &cfg).await,
        (["subscriptions"], Method::Get) => subscriptions::list(req, env, &cfg).await,
        (["subscriptions", "validate", _], Method::Put) => {
            private::validate(req, env, &cfg, raw[2]).await
        }
        (["subscriptions", _], Method::Get) => subscriptions::get(req, env, &cfg, raw[1]).await,
        (["subscriptions", _], Method::Delete) => {
            subscriptions::delete(req, env, &cfg, raw[1]).await
        }
        (["subscriptions", _, "deadletters"], Method::Get) => {
            subscriptions::dead_letters(req, env, &cfg, raw[1]).await
        }
        (["subscriptions", _, "deadletters", "redeliver"], Method::Post) => {
            subscriptions::redeliver(req, env, &cfg, raw[1]).await
        }
        (["inbound"], Method::Post) | (["outbound"], Method::Post) => {
            private::fan_out(req, env, &cfg).await
        }
        (["storage", "events"], Method::Post) => private::store(req, env, &cfg).await,
        (["storage", "events", "logs"], Method::Post) => private::write_log(req, env, &cfg).await,
        (["storage", "events", "logs"], Method::Get) => private::read_logs(req, env, &cfg).await,
        (["tests", "webhookreceiver"], Method::Post) => private::webhook_receiver(req).await,
        (["subscriptions", ..], _)
        | (["inbound"], _)
        | (["outbound"], _)
        | (["storage", ..], _)
        | (["tests", "webhookreceiver"], _) => Err(ApiError::empty(405)),
        (["admin", "resources", _], m) => admin::resource(req, env, &cfg, raw[2], m.clone()).await,
        (["admin", "parties", _], m) => admin::party(req, env, &cfg, raw[2], m.clone()).await,
        _ => Err(ApiError::not_found()),
    }
}
