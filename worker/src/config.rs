//! The settings of CONTRACT §2, read and checked at the start of every request.
//!
//! Parsing the key sets costs more than reading the variables, so the parsed [`Config`] is
//! kept per isolate and reused while the raw values are unchanged. A malformed setting is
//! an error naming it (answered as a 500 problem); it never falls back silently.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use events_core::delivery::{
    parse_disable_after_hours, RetrySchedule, DEFAULT_DISABLE_AFTER_HOURS,
};
use events_core::exchange::{ExchangeSettings, SigningKey};
use events_core::retention::{parse_retention_days, Retention};
use events_core::token::{IssuerKeys, Jwks};
use events_core::ApiError;
use worker::Env;

/// The development key set in `dev/keys`, trusted only with `DEV_MODE=true` where no key
/// setting is given.
pub const DEV_JWKS: &str = include_str!("../../dev/keys/dev-jwks.json");

pub const SETTINGS: [&str; 16] = [
    "ALTINN_JWKS",
    "ALTINN_OPENID_WELLKNOWN",
    "PLATFORM_ACCESS_JWKS",
    "EVENTS_BASE_URL",
    "APPS_DOMAIN",
    "WEBHOOK_ALLOW_PRIVATE",
    "DELIVERY_RETRY_DELAYS",
    "WEBHOOK_TIMEOUT_SECONDS",
    "PDP_URL",
    "DEV_MODE",
    "MASKINPORTEN_JWKS",
    "MASKINPORTEN_WELLKNOWN",
    "MASKINPORTEN_ISSUER",
    "TOKEN_SIGNING_JWK",
    "DISABLE_AFTER_HOURS",
    "EVENT_RETENTION_DAYS",
];

/// Where Altinn token signing keys come from.
#[derive(Clone, Debug)]
pub enum AltinnKeys {
    /// A fixed key set (`ALTINN_JWKS`, or the dev keys by default).
    Jwks(Jwks),
    /// An OpenID configuration URL whose `jwks_uri` is fetched and cached.
    OpenId(String),
}

/// Where Maskinporten's token signing keys come from (the token exchange).
#[derive(Clone, Debug)]
pub enum MaskinportenKeys {
    /// `MASKINPORTEN_JWKS`.
    Jwks(Jwks),
    /// `MASKINPORTEN_WELLKNOWN`: authorization-server metadata whose `jwks_uri` is fetched and cached.
    Metadata(String),
}

#[derive(Clone, Debug)]
pub struct Config {
    pub altinn_keys: AltinnKeys,
    pub platform_keys: IssuerKeys,
    pub base_url: String,
    /// Whether `EVENTS_BASE_URL` is set (`base_url` is otherwise the local default).
    pub base_url_configured: bool,
    pub apps_domain: String,
    pub allow_private_webhooks: bool,
    /// `DELIVERY_RETRY_DELAYS`: Altinn's outbound schedule (spec §10.5, 12 attempts) when unset.
    pub retry_schedule: RetrySchedule,
    pub webhook_timeout_secs: u32,
    /// `DISABLE_AFTER_HOURS` as milliseconds: a subscription whose endpoint failed every
    /// attempt this long is disabled (default 120 hours).
    pub disable_after_ms: i64,
    /// `EVENT_RETENTION_DAYS`: how long events, trace rows, attempt logs and dead letters are
    /// kept (default 90 days, as Altinn).
    pub retention: Retention,
    pub pdp_url: Option<String>,
    /// True while the dev keys are trusted (`DEV_MODE=true` and no key setting given).
    pub dev_keys: bool,
    /// Key settings that are missing outside `DEV_MODE` (the service then fails closed).
    pub missing: Vec<&'static str>,
    pub maskinporten_keys: Option<MaskinportenKeys>,
    pub maskinporten_issuer: Option<String>,
    /// `TOKEN_SIGNING_JWK`: signs exchanged tokens; its public half is trusted like `ALTINN_JWKS`.
    pub signing_key: Option<SigningKey>,
}

impl Config {
    /// Whether the Maskinporten exchange is enabled (`Err`: the sentence for its 404).
    pub fn exchange_enabled(&self) -> Result<(), String> {
        ExchangeSettings {
            maskinporten_keys: self.maskinporten_keys.is_some(),
            maskinporten_issuer: self.maskinporten_issuer.is_some(),
            signing_key: self.signing_key.is_some(),
        }
        .enabled()
    }

    /// Why authenticated requests cannot be served: the key settings that are missing in a
    /// deployment without `DEV_MODE=true`, named in one sentence.
    pub fn missing_keys(&self) -> Option<String> {
        if self.missing.is_empty() {
            return None;
        }
        Some(format!(
            "Missing setting: {}. No token can be verified without it; set it (README, \
             Configuration), or DEV_MODE=true for local development with the dev keys.",
            self.missing.join(", ")
        ))
    }
}

/// The raw setting values a parsed configuration was made from.
type Cached = (Vec<Option<String>>, Rc<Config>);

thread_local! {
    static CACHE: RefCell<Option<Cached>> = const { RefCell::new(None) };
    /// Bumped each time the settings are (re-)parsed, so anything derived from a
    /// configuration (verified tokens) can tell it is stale.
    static GENERATION: Cell<u64> = const { Cell::new(0) };
}

/// Which parse of the settings [`load`] last returned in this isolate.
pub fn generation() -> u64 {
    GENERATION.with(Cell::get)
}

/// Read one setting. Empty means unset. `[vars]` given as a TOML table arrive as objects;
/// they are turned back into JSON text.
fn raw(env: &Env, name: &str) -> Option<String> {
    let text = match env.var(name) {
        Ok(v) => v.to_string(),
        Err(_) => match env.object_var::<serde_json::Value>(name) {
            Ok(v) => v.to_string(),
            Err(_) => return None,
        },
    };
    let trimmed = text.trim();
    (!trimmed.is_empty()).then(|| trimmed.to_owned())
}

fn bad(name: &str, why: impl std::fmt::Display) -> ApiError {
    ApiError::internal(format!("The setting {name} is invalid: {why}"))
}

/// The current configuration, or a 500 problem naming the first bad setting.
pub fn load(env: &Env) -> Result<Rc<Config>, ApiError> {
    let values: Vec<Option<String>> = SETTINGS.iter().map(|n| raw(env, n)).collect();
    if let Some(cfg) = CACHE.with(|c| {
        c.borrow()
            .as_ref()
            .filter(|(v, _)| *v == values)
            .map(|(_, cfg)| cfg.clone())
    }) {
        return Ok(cfg);
    }
    let cfg = Rc::new(parse(&values)?);
    GENERATION.with(|g| g.set(g.get() + 1));
    CACHE.with(|c| *c.borrow_mut() = Some((values, cfg.clone())));
    Ok(cfg)
}

fn setting<'a>(values: &'a [Option<String>], name: &str) -> Option<&'a str> {
    SETTINGS
        .iter()
        .position(|n| *n == name)
        .and_then(|i| values.get(i))
        .and_then(|v| v.as_deref())
}

/// Parse raw setting values (in [`SETTINGS`] order).
pub fn parse(values: &[Option<String>]) -> Result<Config, ApiError> {
    let get = |name| setting(values, name);
    let dev_mode = parse_bool("DEV_MODE", get("DEV_MODE"))?;
    let mut missing = Vec::new();
    let dev = || Jwks::parse(DEV_JWKS).map_err(|e| bad("ALTINN_JWKS", e));
    let (altinn_keys, mut dev_keys) = match (get("ALTINN_JWKS"), get("ALTINN_OPENID_WELLKNOWN")) {
        (Some(jwks), _) => (
            AltinnKeys::Jwks(Jwks::parse(jwks).map_err(|e| bad("ALTINN_JWKS", e))?),
            false,
        ),
        (None, Some(url)) => {
            if !(url.starts_with("https://") || url.starts_with("http://")) {
                return Err(bad("ALTINN_OPENID_WELLKNOWN", "expected an http(s) URL"));
            }
            (AltinnKeys::OpenId(url.to_owned()), false)
        }
        (None, None) if dev_mode => (AltinnKeys::Jwks(dev()?), true),
        // A deployment that trusts only the tokens it issues itself (the exchange).
        (None, None) if get("TOKEN_SIGNING_JWK").is_some() => {
            (AltinnKeys::Jwks(Jwks::default()), false)
        }
        (None, None) => {
            missing.push("ALTINN_JWKS (or ALTINN_OPENID_WELLKNOWN)");
            (AltinnKeys::Jwks(Jwks::default()), false)
        }
    };
    let platform_keys = match get("PLATFORM_ACCESS_JWKS") {
        Some(json) => IssuerKeys::parse(json).map_err(|e| bad("PLATFORM_ACCESS_JWKS", e))?,
        None if !dev_mode => {
            missing.push("PLATFORM_ACCESS_JWKS");
            IssuerKeys::default()
        }
        None => {
            dev_keys = true;
            let jwks = Jwks::parse(DEV_JWKS).map_err(|e| bad("PLATFORM_ACCESS_JWKS", e))?;
            IssuerKeys {
                issuers: vec![("platform".into(), jwks.clone()), ("ttd".into(), jwks)],
            }
        }
    };
    let base_url = get("EVENTS_BASE_URL").unwrap_or("http://127.0.0.1:8787");
    if !(base_url.starts_with("https://") || base_url.starts_with("http://")) {
        return Err(bad("EVENTS_BASE_URL", "expected an http(s) URL"));
    }
    let apps_domain = get("APPS_DOMAIN").unwrap_or("apps.altinn.no");
    if apps_domain.contains('/') || apps_domain.contains(' ') {
        return Err(bad("APPS_DOMAIN", "expected a domain name"));
    }
    let allow_private_webhooks = parse_bool("WEBHOOK_ALLOW_PRIVATE", get("WEBHOOK_ALLOW_PRIVATE"))?;
    let retry_schedule = match get("DELIVERY_RETRY_DELAYS") {
        None => RetrySchedule::altinn(),
        Some(v) => RetrySchedule::parse(v).map_err(|e| bad("DELIVERY_RETRY_DELAYS", e))?,
    };
    let webhook_timeout_secs = match get("WEBHOOK_TIMEOUT_SECONDS") {
        None => 45,
        Some(v) => match v.parse::<u32>() {
            Ok(n) if (1..=900).contains(&n) => n,
            _ => {
                return Err(bad(
                    "WEBHOOK_TIMEOUT_SECONDS",
                    format!("'{v}' is not a number of seconds between 1 and 900"),
                ))
            }
        },
    };
    let disable_after_ms = match get("DISABLE_AFTER_HOURS") {
        None => i64::from(DEFAULT_DISABLE_AFTER_HOURS) * 3_600_000,
        Some(v) => parse_disable_after_hours(v).map_err(|e| bad("DISABLE_AFTER_HOURS", e))?,
    };
    let retention = match get("EVENT_RETENTION_DAYS") {
        None => Retention::default(),
        Some(v) => parse_retention_days(v).map_err(|e| bad("EVENT_RETENTION_DAYS", e))?,
    };
    let pdp_url = match get("PDP_URL") {
        None => None,
        Some(u) if u.starts_with("https://") || u.starts_with("http://") => Some(u.to_owned()),
        Some(_) => return Err(bad("PDP_URL", "expected an http(s) URL")),
    };
    let maskinporten_keys = match (get("MASKINPORTEN_JWKS"), get("MASKINPORTEN_WELLKNOWN")) {
        (Some(jwks), _) => Some(MaskinportenKeys::Jwks(
            Jwks::parse(jwks).map_err(|e| bad("MASKINPORTEN_JWKS", e))?,
        )),
        (None, Some(url)) if url.starts_with("https://") || url.starts_with("http://") => {
            Some(MaskinportenKeys::Metadata(url.to_owned()))
        }
        (None, Some(_)) => return Err(bad("MASKINPORTEN_WELLKNOWN", "expected an http(s) URL")),
        (None, None) => None,
    };
    let signing_key = get("TOKEN_SIGNING_JWK")
        .map(SigningKey::parse)
        .transpose()
        .map_err(|e| bad("TOKEN_SIGNING_JWK", e))?;
    Ok(Config {
        maskinporten_keys,
        maskinporten_issuer: get("MASKINPORTEN_ISSUER").map(str::to_owned),
        signing_key,
        altinn_keys,
        platform_keys,
        base_url: base_url.trim_end_matches('/').to_owned(),
        base_url_configured: get("EVENTS_BASE_URL").is_some(),
        apps_domain: apps_domain.to_owned(),
        allow_private_webhooks,
        retry_schedule,
        webhook_timeout_secs,
        disable_after_ms,
        retention,
        pdp_url,
        dev_keys,
        missing,
    })
}

/// `true`/`false` (any case); unset is `false`.
fn parse_bool(name: &str, value: Option<&str>) -> Result<bool, ApiError> {
    match value {
        None => Ok(false),
        Some(v) if v.eq_ignore_ascii_case("true") => Ok(true),
        Some(v) if v.eq_ignore_ascii_case("false") => Ok(false),
        Some(v) => Err(bad(name, format!("'{v}' is not true or false"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(pairs: &[(&str, &str)]) -> Vec<Option<String>> {
        SETTINGS
            .iter()
            .map(|n| {
                pairs
                    .iter()
                    .find(|(k, _)| k == n)
                    .map(|(_, v)| v.to_string())
            })
            .collect()
    }

    fn detail(e: ApiError) -> String {
        match e.body {
            events_core::ErrorBody::Problem { detail: Some(d) } => d,
            other => format!("{other:?}"),
        }
    }

    #[test]
    fn without_dev_mode_missing_keys_fail_closed() {
        let c = parse(&values(&[])).unwrap();
        assert!(!c.dev_keys);
        assert!(c.platform_keys.for_issuer("platform").is_none());
        assert_eq!(
            c.missing_keys().unwrap(),
            "Missing setting: ALTINN_JWKS (or ALTINN_OPENID_WELLKNOWN), PLATFORM_ACCESS_JWKS. No \
             token can be verified without it; set it (README, Configuration), or DEV_MODE=true \
             for local development with the dev keys."
        );
        let c = parse(&values(&[("ALTINN_JWKS", DEV_JWKS), ("DEV_MODE", "false")])).unwrap();
        assert!(c
            .missing_keys()
            .unwrap()
            .starts_with("Missing setting: PLATFORM_ACCESS_JWKS. "));
        let platform = format!(r#"{{"platform":{DEV_JWKS}}}"#);
        let c = parse(&values(&[
            ("ALTINN_JWKS", DEV_JWKS),
            ("PLATFORM_ACCESS_JWKS", &platform),
        ]))
        .unwrap();
        assert_eq!(c.missing_keys(), None);
        assert!(!c.dev_keys);
    }

    #[test]
    fn dev_mode_trusts_dev_keys() {
        let c = parse(&values(&[("DEV_MODE", "true")])).unwrap();
        assert!(c.dev_keys);
        assert_eq!(c.missing_keys(), None);
        assert_eq!(c.retry_schedule, RetrySchedule::altinn());
        assert_eq!(c.webhook_timeout_secs, 45);
        assert_eq!(c.retention, Retention::days(90));
        assert_eq!(c.base_url, "http://127.0.0.1:8787");
        assert!(!c.base_url_configured);
        assert!(c.platform_keys.for_issuer("platform").is_some());
        assert!(c.platform_keys.for_issuer("ttd").is_some());
        let set = parse(&values(&[("EVENTS_BASE_URL", "https://events.example/")])).unwrap();
        assert_eq!(set.base_url, "https://events.example");
        assert!(set.base_url_configured);
    }

    #[test]
    fn bad_settings_are_named() {
        let cases = [
            ("ALTINN_JWKS", "{nope", "The setting ALTINN_JWKS is invalid: not JSON"),
            ("PLATFORM_ACCESS_JWKS", "[]", "The setting PLATFORM_ACCESS_JWKS is invalid: expected an object mapping issuer to a JWKS"),
            ("DELIVERY_RETRY_DELAYS", "10,x", "The setting DELIVERY_RETRY_DELAYS is invalid: 'x' is not a delay"),
            ("WEBHOOK_TIMEOUT_SECONDS", "0", "The setting WEBHOOK_TIMEOUT_SECONDS is invalid: '0'"),
            ("WEBHOOK_ALLOW_PRIVATE", "yes", "The setting WEBHOOK_ALLOW_PRIVATE is invalid: 'yes' is not true or false"),
            ("DISABLE_AFTER_HOURS", "0", "The setting DISABLE_AFTER_HOURS is invalid: '0' is not a number of hours"),
            ("EVENT_RETENTION_DAYS", "0", "The setting EVENT_RETENTION_DAYS is invalid: '0' is not a number of days"),
            ("DEV_MODE", "1", "The setting DEV_MODE is invalid: '1' is not true or false"),
            ("PDP_URL", "ftp://x", "The setting PDP_URL is invalid: expected an http(s) URL"),
            ("EVENTS_BASE_URL", "localhost", "The setting EVENTS_BASE_URL is invalid: expected an http(s) URL"),
            ("MASKINPORTEN_JWKS", "{}", "The setting MASKINPORTEN_JWKS is invalid: expected an object"),
            ("MASKINPORTEN_WELLKNOWN", "x", "The setting MASKINPORTEN_WELLKNOWN is invalid: expected an http(s) URL"),
            ("TOKEN_SIGNING_JWK", r#"{"kty":"EC","crv":"P-256","x":"X","y":"Y","kid":"k"}"#, "The setting TOKEN_SIGNING_JWK is invalid: the JWK has no \"d\""),
        ];
        for (name, value, prefix) in cases {
            let d = detail(parse(&values(&[(name, value)])).unwrap_err());
            assert!(d.starts_with(prefix), "{name}: {d}");
        }
        let c = parse(&values(&[("DELIVERY_RETRY_DELAYS", "1, 2,3")])).unwrap();
        assert_eq!(c.retry_schedule.delays_secs(), [1, 2, 3]);
    }

    #[test]
    fn exchange_needs_all_three_settings() {
        let key = r#"{"kty":"EC","crv":"P-256","x":"X","y":"Y","d":"D","kid":"k"}"#;
        let c = parse(&values(&[("DEV_MODE", "true")])).unwrap();
        assert!(c.exchange_enabled().is_err());
        let c = parse(&values(&[
            (
                "MASKINPORTEN_WELLKNOWN",
                "http://127.0.0.1:8788/.well-known/oauth-authorization-server",
            ),
            ("MASKINPORTEN_ISSUER", "http://127.0.0.1:8788/"),
            ("TOKEN_SIGNING_JWK", key),
        ]))
        .unwrap();
        assert_eq!(c.exchange_enabled(), Ok(()));
        assert_eq!(c.signing_key.map(|k| k.kid), Some("k".into()));
        let c = parse(&values(&[
            ("MASKINPORTEN_ISSUER", "http://127.0.0.1:8788/"),
            ("TOKEN_SIGNING_JWK", key),
        ]))
        .unwrap();
        assert!(c
            .exchange_enabled()
            .unwrap_err()
            .contains("missing: MASKINPORTEN_WELLKNOWN"));
    }
}
