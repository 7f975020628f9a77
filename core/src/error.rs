//! The one error type of the service.
//!
//! Every variant says what went wrong *for the client* and carries the exact body Altinn's API
//! sends in that situation (Altinn mixes ProblemDetails, bare JSON strings, ValidationProblems and
//! empty bodies; see spec §3.6). The worker turns an [`ApiError`] into an HTTP response in exactly
//! one place, using [`ApiError::render`].

use alloc::borrow::ToOwned;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;
use core::fmt;

use serde::{Serialize, Serializer};

use crate::json::to_json;

/// What the body of an error response looks like.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ErrorBody {
    /// No body at all (bare `StatusCode(404)`, `NotFound()`).
    Empty,
    /// 401: no valid token. Altinn's authentication challenge has an empty body; this service
    /// says what is wrong in a problem document and sends `WWW-Authenticate: Bearer`.
    Unauthenticated,
    /// A single JSON string literal, e.g. `"Only orgs can call this api"`.
    Text(String),
    /// RFC 9457 problem details; `detail` is omitted when `None`.
    Problem { detail: Option<String> },
    /// ASP.NET's ValidationProblem: `errors` maps a field name to its messages.
    Validation(Vec<(String, Vec<String>)>),
    /// No body, and an `Allow` header listing the methods the path supports (RFC 9110 §15.5.6).
    MethodNotAllowed { allow: String },
}

/// An error answered to the client: an HTTP status and the body that goes with it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ApiError {
    pub status: u16,
    pub body: ErrorBody,
}

/// A rendered error response: status, content type (if there is a body) and body text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RenderedError {
    pub status: u16,
    pub content_type: Option<&'static str>,
    /// The `Allow` header of a 405.
    pub allow: Option<String>,
    /// The `WWW-Authenticate` challenge of a 401 for a missing or invalid token.
    pub challenge: Option<&'static str>,
    pub body: String,
}

/// The detail of every 401 for a missing or invalid token.
pub const UNAUTHORIZED_DETAIL: &str =
    "No valid token: it is missing, has expired, or is not signed by a key this service trusts.";
/// The detail of a 403 where the token is valid but does not allow the request.
pub const FORBIDDEN_DETAIL: &str = "The token is valid, but it does not allow this request.";

pub const PROBLEM_JSON: &str = "application/problem+json; charset=utf-8";
pub const JSON_UTF8: &str = "application/json; charset=utf-8";

impl ApiError {
    pub const fn new(status: u16, body: ErrorBody) -> Self {
        ApiError { status, body }
    }

    /// 400 ProblemDetails with a detail message (Altinn's `Problem(detail, null, 400)`).
    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::problem(400, detail)
    }

    /// 400 ValidationProblem with one message for one field (model binding, CloudEvent parsing).
    pub fn validation(field: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError::new(
            400,
            ErrorBody::Validation(vec![(field.into(), vec![message.into()])]),
        )
    }

    /// 400 ValidationProblem with several fields.
    pub fn validation_many(errors: Vec<(String, Vec<String>)>) -> Self {
        ApiError::new(400, ErrorBody::Validation(errors))
    }

    /// A ProblemDetails with the given status and detail.
    pub fn problem(status: u16, detail: impl Into<String>) -> Self {
        ApiError::new(
            status,
            ErrorBody::Problem {
                detail: Some(detail.into()),
            },
        )
    }

    /// A ProblemDetails with a status and no detail (e.g. 404 `NotFound()`, 415).
    pub const fn problem_without_detail(status: u16) -> Self {
        ApiError::new(status, ErrorBody::Problem { detail: None })
    }

    /// A status with a JSON string body (Altinn's `StatusCode(code, "text")`).
    pub fn text(status: u16, message: impl Into<String>) -> Self {
        ApiError::new(status, ErrorBody::Text(message.into()))
    }

    /// A status with no body.
    pub const fn empty(status: u16) -> Self {
        ApiError::new(status, ErrorBody::Empty)
    }

    /// 405 without a body and with `Allow: {methods}` (comma-separated).
    pub fn method_not_allowed(methods: &[&str]) -> Self {
        ApiError::new(
            405,
            ErrorBody::MethodNotAllowed {
                allow: methods.join(", "),
            },
        )
    }

    /// 401 ProblemDetails with [`UNAUTHORIZED_DETAIL`] and a `Bearer` challenge: no or invalid
    /// credentials. (Altinn answers these with an empty body, which leaves a client guessing.)
    pub const fn unauthorized() -> Self {
        ApiError::new(401, ErrorBody::Unauthenticated)
    }

    /// 403 ProblemDetails with [`FORBIDDEN_DETAIL`]: authenticated, but a scope, a policy or the
    /// PDP said no. (Altinn's `Forbid()` has an empty body.)
    pub fn forbidden() -> Self {
        Self::problem(403, FORBIDDEN_DETAIL)
    }

    /// 404 without a body.
    pub const fn not_found() -> Self {
        Self::empty(404)
    }

    /// 415 ProblemDetails (ASP.NET `[Consumes]` rejection).
    pub const fn unsupported_media_type() -> Self {
        Self::problem_without_detail(415)
    }

    /// 413 ProblemDetails: the request body is larger than the service accepts.
    pub fn payload_too_large(limit_bytes: usize) -> Self {
        Self::problem(
            413,
            format!("The request body is larger than the limit of {limit_bytes} bytes."),
        )
    }

    /// 500 ProblemDetails naming what is broken on the server side (e.g. a bad setting).
    pub fn internal(detail: impl Into<String>) -> Self {
        Self::problem(500, detail)
    }

    /// 503 ProblemDetails: a dependency (storage, PDP) is unavailable; the client may retry.
    pub fn unavailable(detail: impl Into<String>) -> Self {
        Self::problem(503, detail)
    }

    /// Render status, content type and body. `trace_id` goes into ProblemDetails as `traceId`.
    pub fn render(&self, trace_id: &str) -> RenderedError {
        match &self.body {
            ErrorBody::Empty => RenderedError {
                status: self.status,
                content_type: None,
                allow: None,
                challenge: None,
                body: String::new(),
            },
            ErrorBody::MethodNotAllowed { allow } => RenderedError {
                status: self.status,
                content_type: None,
                allow: Some(allow.clone()),
                challenge: None,
                body: String::new(),
            },
            ErrorBody::Text(text) => RenderedError {
                status: self.status,
                content_type: Some(JSON_UTF8),
                allow: None,
                challenge: None,
                body: to_json(text),
            },
            ErrorBody::Unauthenticated => {
                let mut rendered =
                    ApiError::problem(self.status, UNAUTHORIZED_DETAIL).render(trace_id);
                rendered.challenge = Some("Bearer");
                rendered
            }
            ErrorBody::Problem { detail } => self.render_problem(ProblemDocument {
                type_: problem_type(self.status),
                title: problem_title(self.status),
                status: self.status,
                detail: detail.as_deref(),
                errors: None,
                trace_id,
            }),
            ErrorBody::Validation(errors) => self.render_problem(ProblemDocument {
                type_: problem_type(self.status),
                title: "One or more validation errors occurred.",
                status: self.status,
                detail: None,
                errors: Some(FieldErrors(errors)),
                trace_id,
            }),
        }
    }

    fn render_problem(&self, document: ProblemDocument<'_>) -> RenderedError {
        RenderedError {
            status: self.status,
            content_type: Some(PROBLEM_JSON),
            allow: None,
            challenge: None,
            body: to_json(&document),
        }
    }

    /// A short human description, for logs.
    pub fn describe(&self) -> String {
        let mut out = self.status.to_string();
        match &self.body {
            ErrorBody::Empty => {}
            ErrorBody::Unauthenticated => {
                out.push(' ');
                out.push_str(UNAUTHORIZED_DETAIL);
            }
            ErrorBody::MethodNotAllowed { allow } => {
                out.push_str(" allow: ");
                out.push_str(allow);
            }
            ErrorBody::Text(t) => {
                out.push(' ');
                out.push_str(t);
            }
            ErrorBody::Problem { detail: Some(d) } => {
                out.push(' ');
                out.push_str(d);
            }
            ErrorBody::Problem { detail: None } => {}
            ErrorBody::Validation(errors) => {
                for (field, messages) in errors {
                    out.push(' ');
                    out.push_str(field);
                    out.push_str(": ");
                    out.push_str(&messages.join("; "));
                }
            }
        }
        out
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe())
    }
}

/// The RFC 9110 section a problem `type` points at, per status.
pub fn problem_type(status: u16) -> Option<&'static str> {
    Some(match status {
        400 => "https://tools.ietf.org/html/rfc9110#section-15.5.1",
        401 => "https://tools.ietf.org/html/rfc9110#section-15.5.2",
        403 => "https://tools.ietf.org/html/rfc9110#section-15.5.4",
        404 => "https://tools.ietf.org/html/rfc9110#section-15.5.5",
        405 => "https://tools.ietf.org/html/rfc9110#section-15.5.6",
        409 => "https://tools.ietf.org/html/rfc9110#section-15.5.10",
        413 => "https://tools.ietf.org/html/rfc9110#section-15.5.14",
        415 => "https://tools.ietf.org/html/rfc9110#section-15.5.16",
        500 => "https://tools.ietf.org/html/rfc9110#section-15.6.1",
        502 => "https://tools.ietf.org/html/rfc9110#section-15.6.3",
        503 => "https://tools.ietf.org/html/rfc9110#section-15.6.4",
        _ => return None,
    })
}

/// The title ASP.NET gives a ProblemDetails of this status.
pub fn problem_title(status: u16) -> &'static str {
    match status {
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        409 => "Conflict",
        413 => "Content Too Large",
        415 => "Unsupported Media Type",
        499 => "Cancellation was requested.",
        500 => "An error occurred while processing your request.",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Error",
    }
}

/// An RFC 9457 problem document as ASP.NET writes it: `type` (when the status has an RFC 9110
/// section), `title`, `status`, then `detail` or a ValidationProblem's `errors`, then `traceId`.
#[derive(Serialize)]
struct ProblemDocument<'a> {
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    type_: Option<&'static str>,
    title: &'a str,
    status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    detail: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    errors: Option<FieldErrors<'a>>,
    #[serde(rename = "traceId")]
    trace_id: &'a str,
}

/// A ValidationProblem's `errors`: an object from field name to messages, in the given order.
struct FieldErrors<'a>(&'a [(String, Vec<String>)]);

impl Serialize for FieldErrors<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.0.iter().map(|(field, messages)| (field, messages)))
    }
}

impl From<&str> for ErrorBody {
    fn from(s: &str) -> Self {
        ErrorBody::Text(s.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test(unsupported = test)]
    fn problem_with_detail_renders_like_aspnet() {
        let r = ApiError::bad_request("The 'after' parameter must be defined.").render("t1");
        assert_eq!(r.status, 400);
        assert_eq!(r.content_type, Some(PROBLEM_JSON));
        assert_eq!(
            r.body,
            "{\"type\":\"https://tools.ietf.org/html/rfc9110#section-15.5.1\",\"title\":\"Bad Request\",\"status\":400,\"detail\":\"The 'after' parameter must be defined.\",\"traceId\":\"t1\"}"
        );
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn validation_problem_lists_fields_in_order() {
        let r = ApiError::validation_many(vec![
            (
                "resource".into(),
                vec!["The resource field is required.".into()],
            ),
            (
                "size".into(),
                vec!["The value 'x' is not valid for size.".into()],
            ),
        ])
        .render("t");
        assert_eq!(
            r.body,
            "{\"type\":\"https://tools.ietf.org/html/rfc9110#section-15.5.1\",\"title\":\"One or more validation errors occurred.\",\"status\":400,\"errors\":{\"resource\":[\"The resource field is required.\"],\"size\":[\"The value 'x' is not valid for size.\"]},\"traceId\":\"t\"}"
        );
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn text_and_empty_bodies() {
        let r = ApiError::text(401, "Only orgs can call this api").render("t");
        assert_eq!(r.body, "\"Only orgs can call this api\"");
        assert_eq!(r.content_type, Some(JSON_UTF8));
        let r = ApiError::not_found().render("t");
        assert_eq!((r.status, r.content_type, r.body.as_str()), (404, None, ""));
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn token_failures_say_what_is_wrong() {
        let r = ApiError::unauthorized().render("t");
        assert_eq!(
            (r.status, r.content_type, r.challenge),
            (401, Some(PROBLEM_JSON), Some("Bearer"))
        );
        assert_eq!(
            r.body,
            "{\"type\":\"https://tools.ietf.org/html/rfc9110#section-15.5.2\",\"title\":\"Unauthorized\",\"status\":401,\"detail\":\"No valid token: it is missing, has expired, or is not signed by a key this service trusts.\",\"traceId\":\"t\"}"
        );
        let r = ApiError::forbidden().render("t");
        assert_eq!(
            (r.status, r.content_type, r.challenge),
            (403, Some(PROBLEM_JSON), None)
        );
        assert!(
            r.body
                .contains("\"detail\":\"The token is valid, but it does not allow this request.\""),
            "{}",
            r.body
        );
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn payload_too_large_names_the_limit() {
        let r = ApiError::payload_too_large(1_048_576).render("x");
        assert_eq!(r.status, 413);
        assert!(r.body.contains(
            "\"detail\":\"The request body is larger than the limit of 1048576 bytes.\""
        ));
    }
}
