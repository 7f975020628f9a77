//! Calls to the Events API with the cached (or renewed) token.

use std::path::PathBuf;
use std::time::Duration;

use serde_json::Value;

use crate::env::Target;
use crate::error::{http_error, Error, Result};
use crate::login;

pub const EVENTS: &str = "/events/api/v1/events";
pub const APP_EVENTS: &str = "/events/api/v1/app";
pub const SUBSCRIPTIONS: &str = "/events/api/v1/subscriptions";

/// A successful answer: the `next` header and the body text.
#[derive(Debug)]
pub struct Answer {
    pub next: Option<String>,
    pub body: String,
}

impl Answer {
    /// The body as JSON (`null` for an empty body).
    pub fn json(&self) -> Result<Value> {
        if self.body.trim().is_empty() {
            return Ok(Value::Null);
        }
        serde_json::from_str(&self.body).map_err(|err| {
            Error::Protocol(format!("the answer is not JSON ({err}): {}", self.body))
        })
    }
}

pub struct Api {
    pub http: Http,
    pub target: Target,
    pub cache_path: PathBuf,
    /// `--token` / `ALTINN_EVENTS_TOKEN`: use this token instead of the cache.
    pub fixed_token: Option<String>,
}

impl Api {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.target.base_url)
    }

    /// `url` with query parameters (empty values are left out).
    pub fn url_with(&self, path: &str, params: &[(&str, String)]) -> Result<String> {
        let params: Vec<&(&str, String)> = params.iter().filter(|(_, v)| !v.is_empty()).collect();
        let url = self.url(path);
        url::Url::parse_with_params(&url, params.iter().map(|(k, v)| (*k, v.as_str())))
            .map(String::from)
            .map_err(|err| Error::Usage(format!("bad base URL {}: {err}", self.target.base_url)))
    }

    pub(crate) fn token(&self) -> Result<String> {
        match &self.fixed_token {
            Some(token) => Ok(token.clone()),
            None => login::bearer(&self.http, &self.cache_path, &self.target),
        }
    }

    /// Sends a request; any status outside 2xx is an [`Error::Api`].
    pub fn send(&self, method: Method, url: &str, body: Option<(&str, String)>) -> Result<Answer> {
        let auth = format!("Bearer {}", self.token()?);
        let result = match (method, body) {
            (Method::Get, _) => self.http.get(url).header("authorization", &auth).call(),
            (Method::Delete, _) => self.http.delete(url).header("authorization", &auth).call(),
            (Method::Post, Some((content_type, text))) => self
                .http
                .post(url)
                .header("authorization", &auth)
                .header("content-type", content_type)
                .send(text),
            (Method::Post, None) => self
                .http
                .post(url)
                .header("authorization", &auth)
                .send_empty(),
        };
        let reply = Reply::read(url, result)?;
        if !(200..300).contains(&reply.status) {
            return Err(Error::Api {
                method: method.name(),
                url: url.to_owned(),
                status: reply.status,
                body: reply.body,
            });
        }
        Ok(Answer {
            next: reply.next,
            body: reply.body,
        })
    }

    /// One page of events from `url`: the events and the `next` link.
    pub fn page(&self, url: &str) -> Result<(Vec<Value>, Option<String>)> {
        let answer = self.send(Method::Get, url, None)?;
        let events = match answer.json()? {
            Value::Array(events) => events,
            Value::Null => Vec::new(),
            other => {
                return Err(Error::Protocol(format!(
                    "{url} answered {other} instead of an array of events"
                )))
            }
        };
        Ok((events, answer.next))
    }

    /// Reads from `url`, following `next` until a page is empty; with `poll`, then keeps asking
    /// for the following page every `poll` interval. Each page goes to `on_page`. With `poll`, the
    /// live stream is used instead where the server offers it (resumed with `Last-Event-ID` when
    /// it ends); a server that answers a page has none, and is polled.
    pub fn follow(
        &self,
        url: String,
        poll: Option<std::time::Duration>,
        mut on_page: impl FnMut(&[Value]) -> Result<()>,
    ) -> Result<()> {
        let mut url = url;
        if let Some(interval) = poll {
            let mut last: Option<String> = None;
            // Until a server answers a page instead of a stream.
            while let crate::live::Ended::Closed(id) =
                self.stream(&url, last.as_deref(), &mut on_page)?
            {
                last = id;
                std::thread::sleep(interval.min(std::time::Duration::from_secs(1)));
            }
            if let Some(id) = last {
                // Poll on from the last event the stream sent.
                url = with_after(&url, &id)?;
            }
        }
        loop {
            let (events, next) = self.page(&url)?;
            on_page(&events)?;
            let more = !events.is_empty() && next.as_deref().is_some_and(|n| n != url);
            if let Some(next) = next {
                url = next;
            }
            if !more {
                match poll {
                    Some(interval) => std::thread::sleep(interval),
                    None => return Ok(()),
                }
            }
        }
    }
}

/// The HTTP client of every command: status codes are answers, not errors; certificates are
/// checked against the operating system's trust store.
pub type Http = ureq::Agent;

pub fn http_client() -> Http {
    let tls = ureq::tls::TlsConfig::builder()
        .root_certs(ureq::tls::RootCerts::PlatformVerifier)
        .build();
    ureq::Agent::config_builder()
        .tls_config(tls)
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(60)))
        .user_agent(concat!("altinn-events-cli/", env!("CARGO_PKG_VERSION")))
        .build()
        .into()
}

/// The methods the Events API uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
    Delete,
}

impl Method {
    pub fn name(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Delete => "DELETE",
        }
    }
}

/// Any HTTP answer: status, the `next` header, the body text.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub next: Option<String>,
    pub body: String,
}

/// The largest body read (a page of 10 000 events fits easily).
const BODY_LIMIT: u64 = 256 * 1024 * 1024;

impl Reply {
    pub fn read(
        url: &str,
        result: std::result::Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    ) -> Result<Reply> {
        let mut response = result.map_err(|err| http_error(url, &err))?;
        let status = response.status().as_u16();
        let next = response
            .headers()
            .get("next")
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned)
            .filter(|next| !next.is_empty());
        let body = response
            .body_mut()
            .with_config()
            .limit(BODY_LIMIT)
            .read_to_string()
            .map_err(|err| http_error(url, &err))?;
        Ok(Reply { status, next, body })
    }
}

/// `url` with its `after` parameter set to `id`.
fn with_after(url: &str, id: &str) -> Result<String> {
    let mut parsed =
        url::Url::parse(url).map_err(|err| Error::Usage(format!("bad URL {url}: {err}")))?;
    let pairs: Vec<(String, String)> = parsed
        .query_pairs()
        .filter(|(k, _)| k != "after")
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    parsed
        .query_pairs_mut()
        .clear()
        .append_pair("after", id)
        .extend_pairs(pairs);
    Ok(parsed.into())
}

/// `ttd-demo` → `urn:altinn:resource:ttd-demo`; a URN is kept as it is.
pub fn resource_urn(resource: &str) -> String {
    if resource.starts_with("urn:") {
        resource.to_owned()
    } else {
        format!("urn:altinn:resource:{resource}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_names_become_urns() {
        assert_eq!(resource_urn("ttd-demo"), "urn:altinn:resource:ttd-demo");
        assert_eq!(
            resource_urn("urn:altinn:resource:x"),
            "urn:altinn:resource:x"
        );
    }

    #[test]
    fn query_leaves_out_empty_values_and_escapes() {
        let api = Api {
            http: http_client(),
            target: crate::env::resolve(&crate::env::Overrides::default()).expect("local"),
            cache_path: PathBuf::from("/nonexistent"),
            fixed_token: None,
        };
        let url = api
            .url_with(
                EVENTS,
                &[
                    ("resource", "urn:altinn:resource:a".into()),
                    ("after", "0".into()),
                    ("subject", String::new()),
                    ("from", "2026-01-01T00:00:00+01:00".into()),
                ],
            )
            .expect("url");
        assert_eq!(
            url,
            "http://127.0.0.1:8787/events/api/v1/events?resource=urn%3Aaltinn%3Aresource%3Aa&after=0&from=2026-01-01T00%3A00%3A00%2B01%3A00"
        );
    }
}
