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

/// A text id as a type of its own (`$name(String)`), so that one kind of id is never passed where
/// another is expected. Its serde form is the bare string, so stored rows and JSON are the same
/// as before the type existed.
macro_rules! text_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(
            Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
        )]
        #[serde(transparent)]
        pub struct $name(alloc::string::String);

        impl $name {
            pub fn new(text: impl Into<alloc::string::String>) -> $name {
                $name(text.into())
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }

            pub fn into_string(self) -> alloc::string::String {
                self.0
            }
        }

        impl core::fmt::Display for $name {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<alloc::string::String> for $name {
            fn from(text: alloc::string::String) -> $name {
                $name(text)
            }
        }

        impl From<&str> for $name {
            fn from(text: &str) -> $name {
                $name(text.into())
            }
        }

        impl From<$name> for alloc::string::String {
            fn from(id: $name) -> alloc::string::String {
                id.0
            }
        }
    };
}

pub mod access;
pub mod app_event;
pub mod authz;
pub mod batch;
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
pub mod live;
pub mod matching;
pub mod outbox;
pub mod publish;
pub mod push_filter;
pub mod query;
pub mod replay;
pub mod retention;
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
