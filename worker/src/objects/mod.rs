//! Durable Object classes (one file each) and the internal protocol between the stateless
//! worker and them: JSON over `fetch` to `https://do/{operation}`. An object answers an
//! [`ApiError`] as JSON with the header `x-api-error`, so a decision taken inside an object
//! (a 403 from the PDP, a 404) reaches the client unchanged.

pub mod delivery;
pub mod directory;
pub mod event_log;
pub mod event_query;
pub mod party;

use events_core::ApiError;
use serde::de::DeserializeOwned;
use serde::Serialize;
use worker::{
    Env, Headers, Method, Request, RequestInit, Response, ResponseBody, ResponseBuilder,
    SqlStorageValue, Stub,
};

use crate::http::platform_error;

/// Binding names (wrangler.toml).
pub const EVENT_LOG: &str = "EVENT_LOG";
pub const PARTY: &str = "PARTY";
pub const DIRECTORY: &str = "DIRECTORY";
pub const DELIVERY: &str = "DELIVERY";

/// The stub of the object `name` of a namespace.
pub fn stub(env: &Env, binding: &str, name: &str) -> Result<Stub, ApiError> {
    env.durable_object(binding)
        .and_then(|ns| ns.get_by_name(name))
        .map_err(|e| platform_error("Storage is not available", e))
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
) -> Result<Response, ApiError> {
    let mut init = RequestInit::new();
    init.with_method(method);
    if let Some(body) = body {
        init.with_body(Some(js_sys::Uint8Array::from(body.as_slice()).into()));
    }
    let url = format!("https://do/{op}");
    let req = Request::new_with_init(&url, &init)
        .map_err(|e| platform_error("Could not build a storage request", e))?;
    let mut resp = stub
        .fetch_with_request(req)
        .await
        .map_err(|e| platform_error("Storage did not answer", e))?;
    let status = resp.status_code();
    if (200..300).contains(&status) {
        return Ok(resp);
    }
    if resp.headers().get("x-api-error").ok().flatten().is_some() {
        let text = body_text(&mut resp).await.unwrap_or_default();
        if let Ok(err) = serde_json::from_str::<ApiError>(&text) {
            return Err(err);
        }
    }
    worker::console_error!("storage operation {op} failed with {status}");
    Err(ApiError::unavailable(
        "Storage failed to complete the operation. Please retry.",
    ))
}

/// Send a JSON operation and decode a JSON answer.
pub async fn call_json<Req: Serialize, Resp: DeserializeOwned>(
    stub: &Stub,
    method: Method,
    op: &str,
    body: &Req,
) -> Result<Resp, ApiError> {
    let bytes = serde_json::to_vec(body)
        .map_err(|e| ApiError::internal(format!("Could not encode a storage request: {e}")))?;
    let mut resp = call(stub, method, op, Some(bytes)).await?;
    body_json_of::<Resp>(&mut resp)
        .await
        .map_err(|e| platform_error("Storage answered something unreadable", e))
}

/// The answer of an object for an error.
pub fn error_reply(err: &ApiError) -> worker::Result<Response> {
    let headers = Headers::new();
    headers.set("x-api-error", "1")?;
    headers.set("content-type", "application/json")?;
    let body = serde_json::to_vec(err).unwrap_or_default();
    Ok(ResponseBuilder::new()
        .with_status(err.status)
        .with_headers(headers)
        .fixed(body))
}

/// A JSON answer of an object.
pub fn json_reply<T: Serialize>(value: &T) -> worker::Result<Response> {
    let body = serde_json::to_vec(value).map_err(|e| worker::Error::RustError(e.to_string()))?;
    let headers = Headers::new();
    headers.set("content-type", "application/json")?;
    Ok(ResponseBuilder::new().with_headers(headers).fixed(body))
}

/// A JSON answer of an object, as a result of an operation.
pub fn reply_json<T: Serialize>(value: &T) -> Result<Response, ApiError> {
    json_reply(value).map_err(|e| platform_error("Could not encode a storage reply", e))
}

/// Run an object operation and turn its error into the wire form.
pub fn reply(result: Result<Response, ApiError>) -> worker::Result<Response> {
    match result {
        Ok(r) => Ok(r),
        Err(e) => error_reply(&e),
    }
}

/// Read a JSON request body inside an object.
pub async fn body_json<T: DeserializeOwned>(req: &mut Request) -> Result<T, ApiError> {
    let bytes = req
        .bytes()
        .await
        .map_err(|e| platform_error("Could not read an internal request", e))?;
    serde_json::from_slice(&bytes)
        .map_err(|e| ApiError::internal(format!("Malformed internal request: {e}")))
}

/// An event `time` (UTC ticks of 100 ns) as stored for `from`/`to` filters: whole
/// microseconds, which stay within JavaScript's safe-integer range (ticks do not, and would
/// be rounded on their way into SQLite). Both stored times and bounds go through this.
pub fn ticks(value: Option<i64>) -> SqlStorageValue {
    match value {
        Some(t) => SqlStorageValue::Integer(t.div_euclid(10)),
        None => SqlStorageValue::Null,
    }
}

/// A text column.
pub fn text(v: Option<&SqlStorageValue>) -> Option<String> {
    match v {
        Some(SqlStorageValue::String(s)) => Some(s.clone()),
        _ => None,
    }
}

/// An integer column (`None` for NULL).
pub fn opt_int(v: Option<&SqlStorageValue>) -> Option<i64> {
    match v {
        Some(SqlStorageValue::Integer(i)) => Some(*i),
        Some(SqlStorageValue::Float(f)) => Some(*f as i64),
        Some(SqlStorageValue::Boolean(b)) => Some(*b as i64),
        _ => None,
    }
}

/// An integer column (0 for NULL).
pub fn int(v: Option<&SqlStorageValue>) -> i64 {
    opt_int(v).unwrap_or(0)
}

/// Now, in unix milliseconds.
pub fn now_ms() -> i64 {
    worker::Date::now().as_millis() as i64
}

/// Map a SQL error inside an object to a 503.
pub fn sql_error(e: worker::Error) -> ApiError {
    platform_error("Storage query failed", e)
}
