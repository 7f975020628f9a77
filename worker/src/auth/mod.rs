//! Who is calling: Altinn tokens (bearer header, then the `AltinnStudioRuntime` cookie) and
//! platform access tokens (`PlatformAccessToken` header), verified with WebCrypto.

mod openid;
pub(crate) mod webcrypto;

use std::cell::RefCell;
use std::collections::HashMap;

use events_core::access::{single_platform_token, PLATFORM_TOKEN_HEADER};
use events_core::exchange::{self, MaskinportenToken, SigningKey};
use events_core::identity::Claims;
use events_core::token::{self, Jwk, Jwks, TokenError, UnverifiedToken};
use worker::{Env, Request};

use crate::config::{self, AltinnKeys, Config, MaskinportenKeys};

/// A caller authenticated by an Altinn token.
#[derive(Clone, Debug)]
pub struct Caller {
    pub claims: Claims,
}

/// A verified platform access token: `iss` and the `urn:altinn:app` claim.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccessToken {
    pub issuer: String,
    pub app: String,
}

fn now_secs() -> i64 {
    (worker::Date::now().as_millis() / 1000) as i64
}

/// The Altinn token of a request, if any: `Authorization: Bearer …` first, then the cookie.
pub fn token_of(req: &Request) -> Option<String> {
    let headers = req.headers();
    if let Ok(Some(auth)) = headers.get("authorization") {
        let auth = auth.trim();
        let scheme = auth.get(..7);
        if scheme.is_some_and(|s| s.eq_ignore_ascii_case("bearer ")) {
            let t = auth.get(7..).unwrap_or_default().trim();
            if !t.is_empty() {
                return Some(t.to_owned());
            }
        }
    }
    let cookies = headers.get("cookie").ok().flatten()?;
    cookies.split(';').find_map(|c| {
        let (name, value) = c.trim().split_once('=')?;
        (name.trim() == "AltinnStudioRuntime" && !value.trim().is_empty())
            .then(|| value.trim().to_owned())
    })
}

async fn verify_with(jwks: &Jwks, t: &UnverifiedToken<'_>) -> Result<(), TokenError> {
    let candidates = jwks.candidates(t.alg, t.kid.as_deref());
    if candidates.is_empty() {
        return Err(TokenError::UnknownKey);
    }
    for key in candidates {
        if webcrypto::verify(t.alg, key, t.signing_input.as_bytes(), &t.signature).await {
            return Ok(());
        }
    }
    Err(TokenError::BadSignature)
}

/// Tokens whose signature verified, per isolate, by their text: a token presented again is not
/// verified with WebCrypto again. Only for fixed key sets (`ALTINN_JWKS`, `PLATFORM_ACCESS_JWKS`,
/// the dev keys), never for keys fetched from an OpenID configuration, which can rotate. Entries
/// belong to one parse of the settings ([`config::generation`]); the token's lifetime (`exp`,
/// `nbf`) is still checked on every use, so the answer is the one a full verification gives.
struct Verified<T> {
    generation: u64,
    claims: Claims,
    value: T,
}

/// Most verified tokens kept per isolate (expired ones are dropped first when full).
const MAX_VERIFIED: usize = 2048;

thread_local! {
    static ALTINN_VERIFIED: RefCell<HashMap<String, Verified<()>>> = RefCell::new(HashMap::new());
    static PLATFORM_VERIFIED: RefCell<HashMap<String, Verified<AccessToken>>> =
        RefCell::new(HashMap::new());
}

type Cache<T> = RefCell<HashMap<String, Verified<T>>>;

/// The cached verification of `raw`, if it belongs to the current settings.
fn cached<T: Clone>(cache: &Cache<T>, raw: &str) -> Option<(Claims, T)> {
    let generation = config::generation();
    cache
        .borrow()
        .get(raw)
        .filter(|v| v.generation == generation)
        .map(|v| (v.claims.clone(), v.value.clone()))
}

fn remember<T>(cache: &Cache<T>, raw: &str, claims: &Claims, value: T) {
    let mut map = cache.borrow_mut();
    if map.len() >= MAX_VERIFIED {
        let now = now_secs();
        map.retain(|_, v| v.claims.seconds("exp").is_some_and(|exp| exp >= now));
        if map.len() >= MAX_VERIFIED {
            map.clear();
        }
    }
    map.insert(
        raw.to_owned(),
        Verified {
            generation: config::generation(),
            claims: claims.clone(),
            value,
        },
    );
}

/// The service's own signing key (`TOKEN_SIGNING_JWK`) when it may have signed `t`: same
/// algorithm, and the token's `kid` is the key's (or the token has none).
fn own_key_for<'a>(cfg: &'a Config, t: &UnverifiedToken<'_>) -> Option<&'a Jwk> {
    let own = cfg.signing_key.as_ref()?;
    let kid_fits = t.kid.as_deref().is_none_or(|k| k == own.kid);
    (kid_fits && own.public.fits(t.alg)).then_some(&own.public)
}

/// Verify a Maskinporten access token for the exchange: signature against the Maskinporten
/// keys (RS256/ES256 only), then `iss`, `exp`, `nbf` and the consumer (core rules).
pub async fn maskinporten(
    env: &Env,
    keys: &MaskinportenKeys,
    issuer: &str,
    raw: &str,
) -> Result<MaskinportenToken, TokenError> {
    let t = token::parse(raw)?;
    match keys {
        MaskinportenKeys::Jwks(jwks) => verify_with(jwks, &t).await?,
        MaskinportenKeys::Metadata(url) => {
            let jwks = openid::keys(env, url, t.kid.as_deref())
                .await
                .map_err(|e| {
                    worker::console_error!("Maskinporten key fetch failed: {e}");
                    TokenError::UnknownKey
                })?;
            verify_with(&jwks, &t).await?
        }
    }
    exchange::check_maskinporten_claims(&t.claims, issuer, now_secs())
}

/// Sign `claims` with the service's key: a compact JWS.
pub async fn sign(
    key: &SigningKey,
    claims: &serde_json::Map<String, serde_json::Value>,
) -> Result<String, String> {
    let input = exchange::signing_input(key, claims);
    let signature = webcrypto::sign(key.alg, &key.private_json, input.as_bytes()).await?;
    Ok(exchange::compact(&input, &signature))
}

pub fn now() -> i64 {
    now_secs()
}

async fn verify_altinn(env: &Env, cfg: &Config, raw: &str) -> Result<Claims, TokenError> {
    let fixed_keys = matches!(cfg.altinn_keys, AltinnKeys::Jwks(_));
    // Tokens verified by the fixed keys or by the service's own key (both fixed per settings).
    {
        if let Some((claims, ())) = ALTINN_VERIFIED.with(|c| cached(c, raw)) {
            token::check_lifetime(&claims, now_secs())?;
            return Ok(claims);
        }
    }
    let t = token::parse(raw)?;
    if let Some(own) = own_key_for(cfg, &t) {
        if webcrypto::verify(t.alg, own, t.signing_input.as_bytes(), &t.signature).await {
            token::check_lifetime(&t.claims, now_secs())?;
            ALTINN_VERIFIED.with(|c| remember(c, raw, &t.claims, ()));
            return Ok(t.claims);
        }
        // A token naming our own kid is ours or nobody's.
        if t.kid.is_some() {
            return Err(TokenError::BadSignature);
        }
    }
    match &cfg.altinn_keys {
        AltinnKeys::Jwks(jwks) => verify_with(jwks, &t).await?,
        AltinnKeys::OpenId(url) => {
            let jwks = openid::keys(env, url, t.kid.as_deref())
                .await
                .map_err(|e| {
                    worker::console_error!("OpenID key fetch failed: {e}");
                    TokenError::UnknownKey
                })?;
            verify_with(&jwks, &t).await?
        }
    }
    token::check_lifetime(&t.claims, now_secs())?;
    if fixed_keys {
        ALTINN_VERIFIED.with(|c| remember(c, raw, &t.claims, ()));
    }
    Ok(t.claims)
}

/// The verified caller, or `None` when there is no token or it does not verify (both are a
/// 401 where a caller is required).
pub async fn caller(req: &Request, env: &Env, cfg: &Config) -> Option<Caller> {
    let raw = token_of(req)?;
    match verify_altinn(env, cfg, &raw).await {
        Ok(claims) => Some(Caller { claims }),
        Err(e) => {
            worker::console_warn!("Altinn token refused: {e}");
            None
        }
    }
}

/// The verified platform access token, or `None` when absent, repeated or invalid.
pub async fn access_token(req: &Request, cfg: &Config) -> Option<AccessToken> {
    let header = req.headers().get(PLATFORM_TOKEN_HEADER).ok().flatten()?;
    let raw = single_platform_token(&header)?;
    let result = async {
        if let Some((claims, token)) = PLATFORM_VERIFIED.with(|c| cached(c, raw)) {
            token::check_lifetime(&claims, now_secs())?;
            return Ok(token);
        }
        let t = token::parse(raw)?;
        let issuer = t.claims.issuer().ok_or(TokenError::Malformed)?;
        let jwks = cfg
            .platform_keys
            .for_issuer(&issuer)
            .ok_or_else(|| TokenError::UnknownIssuer(issuer.clone()))?;
        verify_with(jwks, &t).await?;
        token::check_lifetime(&t.claims, now_secs())?;
        let token = AccessToken {
            issuer,
            app: t.claims.app().unwrap_or_default(),
        };
        PLATFORM_VERIFIED.with(|c| remember(c, raw, &t.claims, token.clone()));
        Ok::<_, TokenError>(token)
    }
    .await;
    match result {
        Ok(a) => Some(a),
        Err(e) => {
            worker::console_warn!("platform access token refused: {e}");
            None
        }
    }
}
