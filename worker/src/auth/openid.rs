//! Token keys from an OpenID configuration or authorization-server metadata document
//! (`ALTINN_OPENID_WELLKNOWN`, `MASKINPORTEN_WELLKNOWN`; cached per URL): the document's
//! `jwks_uri` is fetched and kept in isolate memory and in KV for an hour. An unknown `kid`
//! triggers a refresh (at most once a minute), so key rotation is picked up at once.

use std::cell::RefCell;
use std::collections::HashMap;

use events_core::token::Jwks;
use worker::{Env, Fetch, Method, Request, RequestInit};

const TTL_MS: f64 = 3_600_000.0;
const REFRESH_GAP_MS: f64 = 60_000.0;
const KV_BINDING: &str = "CACHE";

thread_local! {
    static CACHE: RefCell<HashMap<String, (Jwks, f64)>> = RefCell::new(HashMap::new());
}

fn now_ms() -> f64 {
    worker::Date::now().as_millis() as f64
}

/// The configuration document's URL: a base ending in `/` gets
/// `.well-known/openid-configuration` appended (Altinn's setting style).
pub fn configuration_url(setting: &str) -> String {
    if setting.ends_with('/') {
        format!("{setting}.well-known/openid-configuration")
    } else {
        setting.to_owned()
    }
}

async fn get_json(url: &str) -> Result<serde_json::Value, String> {
    let mut init = RequestInit::new();
    init.with_method(Method::Get);
    let req = Request::new_with_init(url, &init).map_err(|e| e.to_string())?;
    let mut resp = Fetch::Request(req)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    if !(200..300).contains(&resp.status_code()) {
        return Err(format!("{url} answered {}", resp.status_code()));
    }
    resp.json().await.map_err(|e| format!("{url}: {e}"))
}

async fn fetch_keys(setting: &str) -> Result<Jwks, String> {
    let config = get_json(&configuration_url(setting)).await?;
    let jwks_uri = config
        .get("jwks_uri")
        .and_then(|v| v.as_str())
        .ok_or("the OpenID configuration has no jwks_uri")?;
    let jwks = get_json(jwks_uri).await?;
    Jwks::from_value(&jwks)
}

/// The current key set. `want_kid`: a kid the caller needs; if the cached set lacks it and
/// the cache is older than a minute, the set is fetched again.
pub async fn keys(env: &Env, setting: &str, want_kid: Option<&str>) -> Result<Jwks, String> {
    let now = now_ms();
    let cached = CACHE.with(|c| c.borrow().get(setting).cloned());
    if let Some((jwks, at)) = &cached {
        let fresh = now - at < TTL_MS;
        let has_kid =
            want_kid.is_none_or(|k| jwks.keys.iter().any(|j| j.kid.as_deref() == Some(k)));
        if fresh && (has_kid || now - at < REFRESH_GAP_MS) {
            return Ok(jwks.clone());
        }
    }
    let kv_key = format!("openid-jwks:{setting}");
    let kv = env.kv(KV_BINDING).ok();
    if cached.is_none() {
        if let Some(kv) = &kv {
            if let Ok(Some(text)) = kv.get(&kv_key).text().await {
                if let Ok(jwks) = Jwks::parse(&text) {
                    let has_kid = want_kid
                        .is_none_or(|k| jwks.keys.iter().any(|j| j.kid.as_deref() == Some(k)));
                    if has_kid {
                        CACHE.with(|c| {
                            c.borrow_mut()
                                .insert(setting.to_owned(), (jwks.clone(), now))
                        });
                        return Ok(jwks);
                    }
                }
            }
        }
    }
    match fetch_keys(setting).await {
        Ok(jwks) => {
            CACHE.with(|c| {
                c.borrow_mut()
                    .insert(setting.to_owned(), (jwks.clone(), now))
            });
            if let Some(kv) = &kv {
                let text = serde_json::json!({"keys": jwks.keys.iter().map(|k| {
                    let mut v: serde_json::Value = serde_json::from_str(&k.json).unwrap_or_default();
                    if let (Some(obj), Some(kid)) = (v.as_object_mut(), &k.kid) { obj.insert("kid".into(), kid.clone().into()); }
                    if let (Some(obj), Some(alg)) = (v.as_object_mut(), &k.alg) { obj.insert("alg".into(), alg.clone().into()); }
                    v
                }).collect::<Vec<_>>()});
                if let Ok(put) = kv.put(&kv_key, text.to_string()) {
                    let _ = put.expiration_ttl(3600).execute().await;
                }
            }
            Ok(jwks)
        }
        // Keep serving a stale set rather than locking everyone out.
        Err(e) => cached.map(|(j, _)| j).ok_or(e),
    }
}
