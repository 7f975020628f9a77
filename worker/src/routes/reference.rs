//! The API described: `GET /events/api/v1/openapi.json` serves the committed OpenAPI document
//! (`worker/openapi.json`, written by the generator in `crate::openapi` and checked against it
//! by its tests) with `servers` set to this deployment; `GET /events/api/v1/docs` is the
//! reference page, which Workers Static Assets serve before the worker sees the request, so
//! the worker only answers it when the assets are missing.

use std::cell::RefCell;
use std::rc::Rc;

use events_core::ApiError;
use serde_json::Value;
use worker::{Request, Response};

use crate::config::Config;
use crate::http;

/// The committed document, as the generator wrote it.
pub const DOCUMENT: &str = include_str!("../../openapi.json");

/// Where the reference page is served (by static assets).
pub const DOCS_PATH: &str = "/events/api/v1/docs";

thread_local! {
    /// The parsed document (parsed once per isolate) and the last body served with its
    /// server URL.
    static PARSED: RefCell<Option<Rc<Value>>> = const { RefCell::new(None) };
    static SERVED: RefCell<Option<(String, Rc<str>)>> = const { RefCell::new(None) };
}

fn parsed() -> Result<Rc<Value>, ApiError> {
    if let Some(doc) = PARSED.with(|p| p.borrow().clone()) {
        return Ok(doc);
    }
    let doc: Value = serde_json::from_str(DOCUMENT)
        .map_err(|e| ApiError::internal(format!("The OpenAPI document is not JSON: {e}")))?;
    let doc = Rc::new(doc);
    PARSED.with(|p| *p.borrow_mut() = Some(doc.clone()));
    Ok(doc)
}

/// The document with `servers` naming `server` only.
pub fn with_server(doc: &Value, server: &str) -> Result<String, ApiError> {
    let mut doc = doc.clone();
    let Some(root) = doc.as_object_mut() else {
        return Err(ApiError::internal("The OpenAPI document is not an object."));
    };
    root.insert(
        "servers".into(),
        serde_json::json!([{ "url": server, "description": "This deployment" }]),
    );
    serde_json::to_string(&doc).map_err(|e| ApiError::internal(e.to_string()))
}

/// The server URL of the document: `EVENTS_BASE_URL`, or the request's own origin when it is
/// not set.
fn server_url(req: &Request, cfg: &Config) -> Result<String, ApiError> {
    if cfg.base_url_configured {
        return Ok(cfg.base_url.clone());
    }
    let url = req
        .url()
        .map_err(|_| ApiError::bad_request("The request URL is not valid."))?;
    Ok(url.origin().ascii_serialization())
}

/// `GET /events/api/v1/openapi.json`.
pub fn openapi(req: &Request, cfg: &Config) -> Result<Response, ApiError> {
    let server = server_url(req, cfg)?;
    let cached = SERVED.with(|s| {
        s.borrow()
            .as_ref()
            .filter(|(url, _)| *url == server)
            .map(|(_, body)| body.clone())
    });
    let body = match cached {
        Some(body) => body,
        None => {
            let doc = parsed()?;
            let body: Rc<str> = with_server(&doc, &server)?.into();
            SERVED.with(|s| *s.borrow_mut() = Some((server, body.clone())));
            body
        }
    };
    http::json(200, body.as_bytes())
}

/// `GET /events/api/v1/docs` when the static assets did not answer it: a 503 problem.
pub fn docs_missing() -> ApiError {
    ApiError::unavailable(format!(
        "The API reference page ({DOCS_PATH}) is served from static assets, and they are \
         missing from this deployment. The OpenAPI document it renders is at \
         /events/api/v1/openapi.json."
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn servers_name_the_deployment_only() {
        let doc: Value = serde_json::from_str(DOCUMENT).unwrap();
        let served: Value =
            serde_json::from_str(&with_server(&doc, "https://events.example").unwrap()).unwrap();
        assert_eq!(
            served["servers"],
            serde_json::json!([{"url": "https://events.example", "description": "This deployment"}])
        );
        let mut rest = served.clone();
        rest.as_object_mut().unwrap().remove("servers");
        let mut original = doc.clone();
        original.as_object_mut().unwrap().remove("servers");
        assert_eq!(rest, original, "only servers differ");
    }

    #[test]
    fn docs_fallback_is_a_503_problem() {
        let r = docs_missing().render("t");
        assert_eq!(r.status, 503);
        assert_eq!(r.content_type, Some(events_core::error::PROBLEM_JSON));
        assert!(r.body.contains("static assets"), "{}", r.body);
    }
}
