//! Pages of events, as both read APIs answer them: the object that holds the events renders
//! the page; the worker passes its body through unread and adds the `next` link.

use events_core::query::{next_link, QueryString};
use events_core::ApiError;
use worker::{Headers, Method, Request, Response, ResponseBody, ResponseBuilder, Stub};

use crate::config::Config;
use crate::http;
use crate::objects::event_query::{
    decode_header, QueryRequest, H_COUNT, H_FIRST_SUBJECT, H_LAST_ID,
};
use crate::rpc;

/// The decoded query string of a request.
pub fn query_string(req: &Request) -> Result<QueryString, ApiError> {
    let url = req
        .url()
        .map_err(|_| ApiError::bad_request("The request URL is not valid."))?;
    Ok(QueryString::parse(url.query().unwrap_or("")))
}

/// Ask `stub` for a page and answer it. `subject_from_first`: append the first event's subject
/// to the `next` link (generic reads by the alternative-subject header, spec §19.9).
pub async fn answer(
    req: &Request,
    cfg: &Config,
    stub: &Stub,
    query: &QueryRequest,
    qs: &QueryString,
    subject_from_first: bool,
) -> Result<Response, ApiError> {
    let body = serde_json::to_vec(query).map_err(|e| ApiError::internal(e.to_string()))?;
    let from_store = rpc::call(stub, Method::Post, "query", Some(body)).await?;
    let headers = Headers::new();
    let _ = headers.set("content-type", http::CLOUDEVENTS_JSON);
    let count: usize = http::header_of(&from_store, H_COUNT)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    if count > 0 {
        let last_id = http::header_of(&from_store, H_LAST_ID)
            .map(|h| decode_header(&h))
            .unwrap_or_default();
        let first_subject = subject_from_first
            .then(|| http::header_of(&from_store, H_FIRST_SUBJECT).map(|h| decode_header(&h)))
            .flatten();
        let extra = first_subject.as_deref().map(|s| ("subject", s));
        let link = next_link(&cfg.base_url, &req.path(), &last_id, qs, extra);
        headers
            .set("next", &link)
            .map_err(|_| ApiError::internal("Could not set the next header."))?;
    }
    // The page (up to megabytes) goes from the object to the client without a copy into wasm.
    let body = match from_store.body() {
        ResponseBody::Stream(stream) => ResponseBody::Stream(stream.clone()),
        ResponseBody::Body(bytes) => ResponseBody::Body(bytes.clone()),
        ResponseBody::Empty => ResponseBody::Empty,
    };
    Ok(ResponseBuilder::new()
        .with_status(200)
        .with_headers(headers)
        .body(body))
}
