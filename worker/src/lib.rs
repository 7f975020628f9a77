//! The Altinn Events API as a Cloudflare Worker.
//!
//! The stateless part (routes, token verification, settings) lives in this crate's
//! `routes`, `auth` and `config` modules; state lives in Durable Objects (`objects`). Every
//! Altinn rule is decided in the `events_core` crate.

mod auth;
mod authz;
pub mod config;
mod error;
mod http;
mod objects;
#[cfg(test)]
mod openapi;
mod routes;
pub mod routing;
mod rpc;

pub use objects::delivery::Delivery;
pub use objects::directory::SubscriptionDirectory;
pub use objects::event_log::EventLog;
pub use objects::party::Party;

use worker::{event, Context, Env, Request, Response, Result};

#[event(fetch)]
async fn fetch(req: Request, env: Env, _ctx: Context) -> Result<Response> {
    Ok(routes::handle(req, env).await)
}
