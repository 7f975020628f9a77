//! The worker's error type. Below the route layer (objects, the object protocol, authz,
//! settings) code says *what* went wrong; only the route layer turns that into what the client
//! sees, through the one conversion `From<Error> for ApiError` at the end of this file.
//! Objects send an `Error` to their caller as JSON (see `rpc`), so a record that is missing in
//! an object is `NotFound` to the route that asked, which decides the answer.

use std::fmt;

use events_core::ApiError;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "error", rename_all = "snake_case")]
pub enum Error {
    /// An answer a core rule decided (a validation message, a refused token, …); it reaches
    /// the client as it is.
    Api { answer: ApiError },
    /// The record asked for is not stored.
    NotFound,
    /// The subscription has been deleted.
    Gone,
    /// The platform failed (storage, another object, `fetch`, the random source); retrying
    /// may help. `context` says what was being done.
    Platform { context: String },
    /// Stored data could not be read back.
    Corrupt { detail: String },
}

impl Error {
    /// A platform failure while doing `context`; the cause is logged, not shown to clients.
    pub fn platform(context: &str, cause: impl fmt::Display) -> Error {
        worker::console_error!("{context}: {cause}");
        Error::Platform {
            context: context.to_owned(),
        }
    }

    /// A stored row that cannot be read: logged, never replaced by a default.
    pub fn corrupt(detail: impl fmt::Display) -> Error {
        worker::console_error!("stored data is corrupt: {detail}");
        Error::Corrupt {
            detail: detail.to_string(),
        }
    }

    /// Whether the record is missing: `NotFound`, or a bare 404 from an object that still
    /// answers with an [`ApiError`].
    pub fn is_not_found(&self) -> bool {
        match self {
            Error::NotFound => true,
            Error::Api { answer } => answer.status == 404,
            _ => false,
        }
    }

    /// Whether the subscription is deleted (also as an object's bare 410).
    pub fn is_gone(&self) -> bool {
        match self {
            Error::Gone => true,
            Error::Api { answer } => answer.status == 410,
            _ => false,
        }
    }

    /// One line for logs.
    pub fn describe(&self) -> String {
        match self {
            Error::Api { answer } => answer.describe(),
            Error::NotFound => "not found".to_owned(),
            Error::Gone => "subscription deleted".to_owned(),
            Error::Platform { context } => format!("platform failure: {context}"),
            Error::Corrupt { detail } => format!("corrupt stored data: {detail}"),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe())
    }
}

impl From<ApiError> for Error {
    fn from(answer: ApiError) -> Error {
        Error::Api { answer }
    }
}

impl From<worker::Error> for Error {
    fn from(cause: worker::Error) -> Error {
        Error::platform("A platform call failed", cause)
    }
}

impl From<serde_json::Error> for Error {
    /// Only for JSON this service wrote itself (an object's request or reply): a client's
    /// JSON is parsed by core, which answers 400.
    fn from(cause: serde_json::Error) -> Error {
        Error::platform("An internal message could not be read", cause)
    }
}

/// What the client sees: the one place a worker error becomes an answer.
impl From<Error> for ApiError {
    fn from(error: Error) -> ApiError {
        match error {
            Error::Api { answer } => answer,
            // A subscription deleted while a request was on its way is, to the client, one
            // that is not there.
            Error::NotFound | Error::Gone => ApiError::not_found(),
            Error::Platform { context } => {
                ApiError::unavailable(format!("{context}. Please retry."))
            }
            Error::Corrupt { .. } => {
                ApiError::internal("Stored data could not be read. The operators have been told.")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_route_layer_decides_what_clients_see() {
        let status = |e: Error| ApiError::from(e).status;
        assert_eq!(status(Error::NotFound), 404);
        assert_eq!(status(Error::Gone), 404);
        // A PDP refusal is core's answer (`access::require_permit`), passed on as it is.
        assert_eq!(status(Error::from(ApiError::forbidden())), 403);
        assert_eq!(
            status(Error::Platform {
                context: "Storage did not answer".into()
            }),
            503
        );
        assert_eq!(status(Error::Corrupt { detail: "x".into() }), 500);
        assert_eq!(status(Error::from(ApiError::bad_request("no"))), 400);
        let e = ApiError::from(Error::Platform {
            context: "Storage did not answer".into(),
        });
        assert_eq!(e.describe(), "503 Storage did not answer. Please retry.");
    }

    #[test]
    fn errors_cross_the_object_boundary_intact() {
        for e in [
            Error::NotFound,
            Error::Gone,
            Error::Platform {
                context: "c".into(),
            },
            Error::Corrupt { detail: "d".into() },
            Error::from(ApiError::forbidden()),
        ] {
            let wire = serde_json::to_string(&e).unwrap();
            assert_eq!(serde_json::from_str::<Error>(&wire).unwrap(), e, "{wire}");
        }
        assert!(Error::from(ApiError::not_found()).is_not_found());
        assert!(Error::from(ApiError::empty(410)).is_gone());
        assert!(!Error::from(ApiError::forbidden()).is_not_found());
    }
}
