//! Building blocks shared by the end-to-end test files: common tokens, events, admin calls
//! and assertions on Altinn's error bodies.

use serde_json::{json, Value};

use crate::client::{TestClient, TestResponse};
use crate::token::TokenSpec;

pub const EVENTS: &str = "/events/api/v1/events";
pub const PUBLISH: &str = "altinn:events.publish";
pub const SUBSCRIBE: &str = "altinn:events.subscribe";

/// An org token with the publish and subscribe scopes.
pub fn org_token(org: &str) -> String {
    TokenSpec::org(org)
        .scope(&format!("{PUBLISH} {SUBSCRIBE}"))
        .mint()
}

/// A platform access token from `platform` (admin endpoints).
pub fn platform_token() -> String {
    TokenSpec::platform("platform", "events").mint()
}

/// A unique suffix for resource ids, so parallel tests never share state.
pub fn unique(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("{prefix}-{}-{n}-{nanos:x}", std::process::id())
}

/// A generic CloudEvent for a resource.
pub fn event(id: &str, resource: &str) -> Value {
    json!({
        "specversion": "1.0",
        "id": id,
        "source": "https://example.com/source",
        "type": "test.created",
        "resource": resource,
        "subject": "/party/1",
    })
}

/// PUT an admin document with the platform token and require 200/201.
async fn put_admin(client: &TestClient, path: &str, doc: &Value) {
    let r = client
        .put(path)
        .platform_token(&platform_token())
        .json(doc)
        .send()
        .await;
    assert!(
        r.status == 200 || r.status == 201,
        "PUT {path} failed: {} {}",
        r.status,
        r.body
    );
}

/// Store a rule document for a resource id (the part after `urn:altinn:resource:`).
pub async fn put_policy(client: &TestClient, resource_id: &str, doc: Value) {
    put_admin(
        client,
        &format!("/events/api/v1/admin/resources/{resource_id}"),
        &doc,
    )
    .await;
}

/// Publish an event and return the response.
pub async fn publish(client: &TestClient, token: &str, event: &Value) -> TestResponse {
    client
        .post(EVENTS)
        .bearer(token)
        .cloudevent(event)
        .send()
        .await
}

/// Publish and require 200 with an empty body.
pub async fn publish_ok(client: &TestClient, token: &str, event: &Value) {
    let r = publish(client, token, event).await;
    assert_eq!(
        (r.status, r.body.as_str()),
        (200, ""),
        "publish failed: {}",
        r.body
    );
}

/// Assert a ProblemDetails with this status and detail.
pub fn assert_problem(r: &TestResponse, status: u16, detail: &str) {
    assert_eq!(r.status, status, "body: {}", r.body);
    assert_eq!(
        r.header("content-type").as_deref(),
        Some("application/problem+json; charset=utf-8"),
        "body: {}",
        r.body
    );
    let v = r.json();
    assert_eq!(v["status"], json!(status), "body: {}", r.body);
    assert_eq!(v["detail"], json!(detail), "body: {}", r.body);
    assert!(v["traceId"].is_string(), "body: {}", r.body);
}

/// Assert a ValidationProblem with exactly these field errors.
pub fn assert_validation(r: &TestResponse, errors: Value) {
    assert_eq!(r.status, 400, "body: {}", r.body);
    let v = r.json();
    assert_eq!(
        v["title"], "One or more validation errors occurred.",
        "body: {}",
        r.body
    );
    assert_eq!(v["errors"], errors, "body: {}", r.body);
}

/// Assert a JSON string body.
pub fn assert_text(r: &TestResponse, status: u16, text: &str) {
    assert_eq!(r.status, status, "body: {}", r.body);
    assert_eq!(r.json(), json!(text), "body: {}", r.body);
}

/// Assert the 401 of a missing or invalid token: a problem document saying so, and a `Bearer`
/// challenge.
pub fn assert_unauthorized(r: &TestResponse) {
    assert_problem(r, 401, events_core::error::UNAUTHORIZED_DETAIL);
    assert_eq!(r.header("www-authenticate").as_deref(), Some("Bearer"));
}

/// Assert the 403 of a valid token that does not allow the request.
pub fn assert_forbidden(r: &TestResponse) {
    assert_problem(r, 403, events_core::error::FORBIDDEN_DETAIL);
}

/// Assert a status with an empty body.
pub fn assert_empty(r: &TestResponse, status: u16) {
    assert_eq!(
        (r.status, r.body.as_str()),
        (status, ""),
        "unexpected response"
    );
}

/// The ids of a JSON array of events.
pub fn ids(r: &TestResponse) -> Vec<String> {
    r.json()
        .as_array()
        .map(|a| {
            a.iter()
                .map(|e| e["id"].as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

pub const SUBSCRIPTIONS: &str = "/events/api/v1/subscriptions";

/// Create a subscription and require 201.
pub async fn create_subscription(client: &TestClient, token: &str, body: &Value) -> Value {
    let r = client
        .post(SUBSCRIPTIONS)
        .bearer(token)
        .json(body)
        .send()
        .await;
    assert_eq!(r.status, 201, "creating {body} failed: {}", r.body);
    let v = r.json();
    let id = v["id"].as_i64().unwrap_or_default();
    assert_eq!(
        r.header("location").as_deref(),
        Some(format!("{SUBSCRIPTIONS}/{id}").as_str())
    );
    v
}

/// Poll `GET /subscriptions/{id}` until it is validated (or panic after `secs`).
pub async fn wait_validated(client: &TestClient, token: &str, id: i64, secs: u64) -> Value {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    loop {
        let r = client
            .get(&format!("{SUBSCRIPTIONS}/{id}"))
            .bearer(token)
            .send()
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        let v = r.json();
        if v["validated"] == json!(true) {
            return v;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "subscription {id} was not validated: {v}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// `urn:altinn:resource:{id}`.
pub fn resource_urn(id: &str) -> String {
    format!("urn:altinn:resource:{id}")
}

/// Store a party register entry and require 200/201.
pub async fn put_party(client: &TestClient, party: u64, doc: Value) {
    put_admin(
        client,
        &format!("/events/api/v1/admin/parties/{party}"),
        &doc,
    )
    .await;
}

/// A number unique within this test process, above `base` (party ids and the like).
pub fn unique_number(base: u64) -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    base + (std::process::id() as u64 % 1000) * 1000 + N.fetch_add(1, Ordering::Relaxed)
}

/// The event ids of webhook deliveries, in arrival order (validation events included).
pub fn received_ids(requests: &[crate::receiver::Received]) -> Vec<String> {
    requests
        .iter()
        .map(|r| r.json()["id"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// The event ids of webhook deliveries other than validation events, in arrival order.
pub fn delivered_ids(requests: &[crate::receiver::Received]) -> Vec<String> {
    requests
        .iter()
        .filter(|r| r.json()["type"] != "platform.events.validatesubscription")
        .map(|r| r.json()["id"].as_str().unwrap_or_default().to_owned())
        .collect()
}
