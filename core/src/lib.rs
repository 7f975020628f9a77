//! The rules of the Altinn Events API, without I/O.
//!
//! Everything here is a pure function of its inputs: CloudEvent parsing and writing, URN
//! rules, identities from token claims, query binding and validation, XACML requests and
//! the built-in PDP, subscription matching and retry timelines. Time and randomness come in
//! as arguments. The `worker` crate carries these decisions to Durable Objects, KV and fetch.
#![no_std]
extern crate alloc;
#[cfg(any(test, feature = "std"))]
extern crate std;

pub mod access;
pub mod app_event;
pub mod authz;
pub mod cloud_event;
pub mod delivery;
pub mod delivery_queue;
pub mod endpoint;
pub mod error;
pub mod event;
pub mod event_page;
pub mod exchange;
pub mod identity;
pub mod json;
pub mod matching;
pub mod outbox;
pub mod publish;
pub mod push_filter;
pub mod query;
pub mod replay;
pub mod sansio;
pub mod signing;
pub mod subscription;
pub mod time;
pub mod token;
pub mod trace;
pub mod uri;
pub mod urn;

pub use cloud_event::CloudEvent;
pub use error::{ApiError, ErrorBody};
