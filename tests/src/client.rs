//! [`TestClient`]: plain-HTTP reqwest wrapper for talking to a [`TestServer`](crate::TestServer).
//!
//! ```no_run
//! # async fn demo(server: &altinn_events_tests::TestServer) {
//! use altinn_events_tests::TokenSpec;
//! let token = TokenSpec::org("ttd").scope("altinn:events.publish").mint();
//! let response = server
//!     .client()
//!     .post("/events/api/v1/events")
//!     .bearer(&token)
//!     .cloudevent(&serde_json::json!({"specversion": "1.0"}))
//!     .send()
//!     .await;
//! response.assert_status(200);
//! # }
//! ```
//!
//! Redirects are not followed and proxies from the environment are ignored. Transport errors
//! panic with the method and URL (tests want a failure, not a `Result`).

use std::time::Duration;

use reqwest::Method;
use serde_json::Value;

/// Per-request timeout; webhook-timeout tests never wait on the API itself this long.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(120);

/// A client bound to a base URL.
#[derive(Debug, Clone)]
pub struct TestClient {
    base_url: String,
    http: reqwest::Client,
}

impl TestClient {
    pub fn new(base_url: &str) -> TestClient {
        let http = reqwest::Client::builder()
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(REQUEST_TIMEOUT)
            .build()
            .expect("building a plain-HTTP reqwest client");
        TestClient {
            base_url: base_url.trim_end_matches('/').to_owned(),
            http,
        }
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// `path` relative to the base URL (starting with `/`), or an absolute `http://` URL
    /// (e.g. a `next` link from a response).
    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        let url = if path.starts_with("http://") || path.starts_with("https://") {
            path.to_owned()
        } else {
            format!("{}{}", self.base_url, path)
        };
        RequestBuilder {
            http: self.http.clone(),
            method,
            url,
            headers: Vec::new(),
            body: None,
        }
    }

    pub fn get(&self, path: &str) -> RequestBuilder {
        self.request(Method::GET, path)
    }

    pub fn post(&self, path: &str) -> RequestBuilder {
        self.request(Method::POST, path)
    }

    pub fn put(&self, path: &str) -> RequestBuilder {
        self.request(Method::PUT, path)
    }

    pub fn delete(&self, path: &str) -> RequestBuilder {
        self.request(Method::DELETE, path)
    }
}

/// One request under construction.
#[derive(Debug)]
pub struct RequestBuilder {
    http: reqwest::Client,
    method: Method,
    url: String,
    headers: Vec<(String, String)>,
    body: Option<(String, Vec<u8>)>,
}

impl RequestBuilder {
    /// `Authorization: Bearer <token>`.
    pub fn bearer(self, token: &str) -> Self {
        self.header("Authorization", &format!("Bearer {token}"))
    }

    /// [`bearer`](Self::bearer) when `Some`, nothing when `None`.
    pub fn maybe_bearer(self, token: Option<&str>) -> Self {
        match token {
            Some(token) => self.bearer(token),
            None => self,
        }
    }

    /// The token as cookie `AltinnStudioRuntime` (how Altinn apps' browsers send it).
    pub fn cookie_token(self, token: &str) -> Self {
        self.header("Cookie", &format!("AltinnStudioRuntime={token}"))
    }

    /// `PlatformAccessToken: <token>`.
    pub fn platform_token(self, token: &str) -> Self {
        self.header("PlatformAccessToken", token)
    }

    /// [`platform_token`](Self::platform_token) when `Some`.
    pub fn maybe_platform_token(self, token: Option<&str>) -> Self {
        match token {
            Some(token) => self.platform_token(token),
            None => self,
        }
    }

    /// Any extra header (added; repeated names are sent repeatedly).
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// A body with an explicit content type.
    pub fn body(mut self, content_type: &str, body: impl Into<Vec<u8>>) -> Self {
        self.body = Some((content_type.to_owned(), body.into()));
        self
    }

    /// JSON body, `Content-Type: application/json`.
    pub fn json(self, value: &Value) -> Self {
        self.body("application/json", value.to_string())
    }

    /// JSON body, `Content-Type: application/cloudevents+json`.
    pub fn cloudevent(self, value: &Value) -> Self {
        self.body("application/cloudevents+json", value.to_string())
    }

    /// Sends the request; panics on a transport error (connection refused, timeout, ...).
    pub async fn send(self) -> TestResponse {
        let mut request = self.http.request(self.method.clone(), &self.url);
        for (name, value) in &self.headers {
            request = request.header(name.as_str(), value.as_str());
        }
        if let Some((content_type, body)) = self.body {
            request = request.header("Content-Type", content_type).body(body);
        }
        let response = match request.send().await {
            Ok(response) => response,
            Err(err) => panic!("{} {}: request failed: {err:?}", self.method, self.url),
        };
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_owned(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let body = match response.text().await {
            Ok(body) => body,
            Err(err) => panic!(
                "{} {}: reading the body failed: {err:?}",
                self.method, self.url
            ),
        };
        TestResponse {
            method: self.method.to_string(),
            url: self.url,
            status,
            headers,
            body,
        }
    }
}

/// A complete response.
#[derive(Debug, Clone)]
pub struct TestResponse {
    pub method: String,
    pub url: String,
    pub status: u16,
    /// Lower-case names, in order (repeated headers appear repeatedly).
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl TestResponse {
    /// First value of a header (case-insensitive).
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    }

    /// Every value of a header.
    pub fn header_all(&self, name: &str) -> Vec<String> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// The body as JSON (object key order preserved); panics with the body if it is not JSON.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|err| {
            panic!(
                "{} {} -> {}: body is not JSON ({err}): {}",
                self.method, self.url, self.status, self.body
            )
        })
    }

    /// Panics with method, URL, status and body unless the status is `expected`.
    pub fn assert_status(&self, expected: u16) -> &Self {
        assert_eq!(
            self.status, expected,
            "{} {}: expected status {expected}, got {}; body: {}",
            self.method, self.url, self.status, self.body
        );
        self
    }
}
