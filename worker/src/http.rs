//! HTTP plumbing: the one place an [`ApiError`] becomes a response, request-body limits, and
//! small response builders.

use events_core::error::JSON_UTF8;
use events_core::ApiError;
use worker::{Headers, Request, Response, ResponseBuilder};

use crate::error::Error;

/// Largest request body accepted (1 MiB).
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Content type of CloudEvent lists.
pub const CLOUDEVENTS_JSON: &str = "application/cloudevents+json; charset=utf-8";

/// Content type of plain-text answers (the health check, an exchanged token).
pub const TEXT_PLAIN: &str = "text/plain; charset=utf-8";

/// A random W3C-style trace id for problem documents. It identifies a log line, nothing is
/// stored under it; if the platform's random source fails, the id says so instead.
pub fn trace_id() -> String {
    let mut bytes = [0u8; 24];
    if getrandom::getrandom(&mut bytes).is_err() {
        return "00-no-random-source-00".to_owned();
    }
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let (trace, rest) = hex.split_at(32);
    let span = rest.get(..16).unwrap_or(rest);
    format!("00-{trace}-{span}-00")
}

/// A new random GUID (version 4), or a 503 when the platform's random source fails: an all-zero
/// id would make the `(id, source)` de-duplication drop every later event.
pub fn new_guid() -> Result<String, Error> {
    guid_from(getrandom::getrandom).inspect_err(|_| {
        worker::console_error!("the random source failed");
    })
}

fn guid_from<E>(fill: impl FnOnce(&mut [u8]) -> Result<(), E>) -> Result<String, Error> {
    let mut bytes = [0u8; 16];
    fill(&mut bytes).map_err(|_| Error::Platform {
        context: "No random id could be generated".to_owned(),
    })?;
    Ok(events_core::identity::guid_from_random(bytes))
}

/// Render an error. This is the only place that maps [`ApiError`] to HTTP.
pub fn error_response(err: &ApiError) -> Response {
    let rendered = err.render(&trace_id());
    if err.status >= 500 {
        worker::console_error!("{}", err.describe());
    }
    let headers = Headers::new();
    if let Some(ct) = rendered.content_type {
        let _ = headers.set("content-type", ct);
    }
    if let Some(allow) = &rendered.allow {
        let _ = headers.set("allow", allow);
    }
    if let Some(challenge) = rendered.challenge {
        let _ = headers.set("www-authenticate", challenge);
    }
    let builder = ResponseBuilder::new()
        .with_status(rendered.status)
        .with_headers(headers);
    if rendered.body.is_empty() {
        builder.empty()
    } else {
        builder.fixed(rendered.body.into_bytes())
    }
}

/// Read the body up to [`MAX_BODY_BYTES`]; larger bodies are a 413 problem, JSON nested
/// deeper than [`events_core::json::MAX_DEPTH`] a 400.
pub async fn read_body(req: &mut Request) -> Result<Vec<u8>, ApiError> {
    if let Ok(Some(len)) = req.headers().get("content-length") {
        if len
            .trim()
            .parse::<usize>()
            .is_ok_and(|n| n > MAX_BODY_BYTES)
        {
            return Err(ApiError::payload_too_large(MAX_BODY_BYTES));
        }
    }
    let bytes = req
        .bytes()
        .await
        .map_err(|_| ApiError::bad_request("The request body could not be read."))?;
    if bytes.len() > MAX_BODY_BYTES {
        return Err(ApiError::payload_too_large(MAX_BODY_BYTES));
    }
    // Every body of this API is JSON: none nested deeper than Altinn's parser allows.
    events_core::json::check_depth(&bytes)?;
    Ok(bytes)
}

/// A header value, if present.
pub fn header(req: &Request, name: &str) -> Option<String> {
    req.headers().get(name).ok().flatten()
}

/// A response with a body and content type.
pub fn with_body(
    status: u16,
    content_type: &str,
    body: impl Into<Vec<u8>>,
) -> Result<Response, ApiError> {
    let headers = Headers::new();
    let _ = headers.set("content-type", content_type);
    Ok(ResponseBuilder::new()
        .with_status(status)
        .with_headers(headers)
        .fixed(body.into()))
}

/// A JSON response.
pub fn json(status: u16, body: impl Into<Vec<u8>>) -> Result<Response, ApiError> {
    with_body(status, JSON_UTF8, body)
}

/// A response with no body.
pub fn empty(status: u16) -> Result<Response, ApiError> {
    Ok(ResponseBuilder::new().with_status(status).empty())
}

/// Set a header on a response.
pub fn set_header(resp: &mut Response, name: &str, value: &str) -> Result<(), ApiError> {
    resp.headers_mut()
        .set(name, value)
        .map_err(|_| ApiError::internal(format!("Could not set the {name} header.")))
}

/// A header of a response, if present.
pub fn header_of(resp: &Response, name: &str) -> Option<String> {
    resp.headers().get(name).ok().flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guid_needs_randomness() {
        let e = ApiError::from(guid_from(|_| Err(())).unwrap_err());
        assert_eq!(e.status, 503);
        assert_eq!(
            e.describe(),
            "503 No random id could be generated. Please retry."
        );
        let id = guid_from(|b: &mut [u8]| {
            b.fill(0xab);
            Ok::<(), ()>(())
        })
        .unwrap();
        assert_eq!(id, "abababab-abab-4bab-abab-abababababab");
    }
}
