//! Native end-to-end harness for the Altinn Events worker, and the dev-token tool's library.
//!
//! - [`token`]: dev tokens signed with the keys in `dev/keys/`.
//! - [`server`]: [`TestServer`] runs the worker under `wrangler dev` (one process group per server).
//! - [`receiver`]: [`TestReceiver`], a loopback webhook endpoint that records what it gets.
//! - [`client`]: [`TestClient`], a small reqwest wrapper with bearer/PlatformAccessToken helpers.
//! - [`browser`]: what the browser tests share (Node, screenshots).
//! - [`sse`]: [`sse::EventStream`], a Server-Sent Events reader for the live stream.
//! - [`suite`]: [`Suite`], a libtest-mimic runner where many tests share one server.

pub mod browser;
pub mod client;
pub mod fixtures;
pub mod pdp;
pub mod receiver;
pub mod server;
pub mod sse;
pub mod suite;

use std::path::PathBuf;

pub use client::{RequestBuilder, TestClient, TestResponse};
pub use devtoken as token;
pub use devtoken::TokenSpec;
pub use receiver::{Received, TestReceiver};
pub use server::{StartError, TestServer, SETTINGS};
pub use suite::{Ctx, Suite};

/// The repository root (the workspace directory holding `wrangler.toml`).
pub fn repo_root() -> PathBuf {
    let manifest_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest_dir
        .parent()
        .map(PathBuf::from)
        .unwrap_or(manifest_dir)
}
