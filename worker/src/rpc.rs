//! The internal protocol between the stateless worker and the Durable Objects, the caller's
//! side: JSON over `fetch` to `https://do/{operation}`. An object answers an error as JSON with
//! the header `x-object-error` (the objects' `error_reply`).
//!
//! Routes, `authz` and the objects themselves call objects through here; this module depends
//! on nothing above it, so `authz` (used by the objects) never reaches back into `objects`.

use events_core::urn::ResourceUrn;
use serde::de::DeserializeOwned;
use serde::Serialize;
use worker::{Env, Method, Request, RequestInit, Response, ResponseBody, Stub};

use crate::error::Error;

/// The header that marks an object's answer as an [`Error`].
pub const ERROR_HEADER: &str = "x-object-error";

/// Binding names (wrangler.toml). The event log's is reached through [`event_log`] only.
const EVENT_LOG: &str = "EVENT_LOG";
pub const PARTY: &str = "PARTY";
pub const DIRECTORY: &str = "DIRECTORY";
pub const DELIVERY: &str = "DELIVERY";

/// The stub of the object `name` of a namespace.
pub fn stub(env: &Env, binding: &str, name: &str) -> Result<Stub, Error> {
    env.durable_object(binding)
        .and_then(|ns| ns.get_by_name(name))
        .map_err(|e| Error::platform("Storage is not available", e))
}

/// The event log of a resource: one object per resource, named by its URN.
pub fn event_log(env: &Env, resource: &ResourceUrn) -> Result<Stub, Error> {
    stub(env, EVENT_LOG, resource.as_str())
}

/// The whole body of a response from `fetch` (an object's or a webhook's), read in one piece with
/// `arrayBuffer()`. `worker::Response::bytes` reads it chunk by chunk through a Rust stream
/// instead, which costs several calls between wasm and JavaScript per chunk.
pub async fn body_bytes(resp: &mut Response) -> worker::Result<Vec<u8>> {
    match resp.body() {
        ResponseBody::Empty => Ok(Vec::new()),
        ResponseBody::Body(bytes) => Ok(bytes.clone()),
        ResponseBody::Stream(stream) => {
            let whole = web_sys::Response::new_with_opt_readable_stream(Some(stream))?;
            let buffer = wasm_bindgen_futures::JsFuture::from(whole.array_buffer()?).await?;
            Ok(js_sys::Uint8Array::new(&buffer).to_vec())
        }
    }
}

/// [`body_bytes`] as UTF-8 text.
pub async fn body_text(resp: &mut Response) -> worker::Result<String> {
    String::from_utf8(body_bytes(resp).await?).map_err(|e| worker::Error::RustError(e.to_string()))
}

/// [`body_bytes`] as JSON.
pub async fn body_json_of<T: DeserializeOwned>(resp: &mut Response) -> worker::Result<T> {
    serde_json::from_slice(&body_bytes(resp).await?).map_err(worker::Error::from)
}

/// Send one operation to an object; non-2xx answers become the error they carry.
pub async fn call(
    stub: &Stub,
    method: Method,
    op: &str,
    body: Option<Vec<u8>>,
) -> Result<Response, Error> {
    let mut init = RequestInit::new();
    init.with_method(method);
    if let Some(body) = body {
        init.with_body(Some(js_sys::Uint8Array::from(body.as_slice()).into()));
    }
    let url = format!("https://do/{op}");
    let req = Request::new_with_init(&url, &init)
        .map_err(|e| Error::platform("Could not build a storage request", e))?;
    let mut resp = stub
        .fetch_with_request(req)
        .await
        .map_err(|e| Error::platform("Storage did not answer", e))?;
    let status = resp.status_code();
    if (200..300).contains(&status) {
        return Ok(resp);
    }
    if resp.headers().get(ERROR_HEADER).ok().flatten().is_some() {
        let bytes = body_bytes(&mut resp)
            .await
            .map_err(|e| Error::platform("Storage answered an unreadable error", e))?;
        return Err(serde_json::from_slice::<Error>(&bytes)
            .map_err(|e| Error::platform("Storage answered an unreadable error", e))?);
    }
    Err(Error::platform(
        "Storage failed to complete the operation",
        format!("operation {op} answered {status}"),
    ))
}

/// Send a JSON operation and decode a JSON answer.
pub async fn call_json<Req: Serialize, Resp: DeserializeOwned>(
    stub: &Stub,
    method: Method,
    op: &str,
    body: &Req,
) -> Result<Resp, Error> {
    let bytes = serde_json::to_vec(body)
        .map_err(|e| Error::platform("Could not encode a storage request", e))?;
    let mut resp = call(stub, method, op, Some(bytes)).await?;
    body_json_of::<Resp>(&mut resp)
        .await
        .map_err(|e| Error::platform("Storage answered something unreadable", e))
}
