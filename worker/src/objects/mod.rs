//! Durable Object classes (one file each) and the object side of the internal protocol
//! ([`crate::rpc`] is the caller's side): replies, request bodies and SQL helpers.

pub mod delivery;
pub mod directory;
pub mod event_log;
pub mod event_query;
pub mod live;
pub mod party;
pub mod retention;

use serde::de::DeserializeOwned;
use serde::Serialize;
use worker::{Headers, Request, Response, ResponseBuilder, SqlStorage, SqlStorageValue};

use crate::error::Error;
use crate::rpc::ERROR_HEADER;

// The client side of the protocol lives in `crate::rpc`; the objects use it through here.
pub use crate::rpc::{body_bytes, call, call_json, event_log, stub, DELIVERY, DIRECTORY, PARTY};

/// The answer of an object for an error: the [`Error`] as JSON, marked with
/// [`ERROR_HEADER`]. Its HTTP status is internal (the caller reads the body); what a client
/// sees is decided by the route that made the call.
pub fn error_reply(err: &Error) -> worker::Result<Response> {
    let headers = Headers::new();
    headers.set(ERROR_HEADER, "1")?;
    headers.set("content-type", "application/json")?;
    let body = serde_json::to_vec(err)?;
    Ok(ResponseBuilder::new()
        .with_status(500)
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
pub fn reply_json<T: Serialize>(value: &T) -> Result<Response, Error> {
    json_reply(value).map_err(|e| Error::platform("Could not encode a storage reply", e))
}

/// Run an object operation and turn its error into the wire form.
pub fn reply<E: Into<Error>>(result: Result<Response, E>) -> worker::Result<Response> {
    match result {
        Ok(r) => Ok(r),
        Err(e) => error_reply(&e.into()),
    }
}

/// Read a JSON request body inside an object (written by this service: unreadable is a
/// platform failure, not a client's mistake).
pub async fn body_json<T: DeserializeOwned>(req: &mut Request) -> Result<T, Error> {
    let bytes = req
        .bytes()
        .await
        .map_err(|e| Error::platform("Could not read an internal request", e))?;
    serde_json::from_slice(&bytes).map_err(|e| Error::platform("Malformed internal request", e))
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

/// All rows of a query, decoded by column name; a row that does not decode is corrupt data.
pub fn decode_rows<T: DeserializeOwned>(
    sql: &SqlStorage,
    query: &str,
    args: Vec<SqlStorageValue>,
) -> Result<Vec<T>, Error> {
    sql.exec(query, args)
        .map_err(sql_error)?
        .to_array()
        .map_err(|e| Error::corrupt(format_args!("{query}: {e}")))
}

/// Now, in unix milliseconds.
pub fn now_ms() -> i64 {
    worker::Date::now().as_millis() as i64
}

/// A SQL error inside an object.
pub fn sql_error(e: worker::Error) -> Error {
    Error::platform("Storage query failed", e)
}
