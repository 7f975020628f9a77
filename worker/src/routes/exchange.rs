//! The Maskinporten token exchange (`GET /authentication/api/v1/exchange/maskinporten`) and the
//! service's own OpenID configuration and key set, for deployments outside Altinn. The rules are
//! in `events_core::exchange`; this file verifies and signs with WebCrypto and looks up the org
//! code registered for the token's organisation number.

use events_core::exchange::{self, OrgRegistration};
use events_core::ApiError;
use worker::{Env, Method, Request, Response};

use crate::config::Config;
use crate::error::Error;
use crate::rpc::{self, PARTY};
use crate::{auth, http};

/// The `Party` object holding the org code registered for an organisation number.
pub fn org_number_object(org_number: &str) -> String {
    format!("exchange-orgno:{org_number}")
}

/// The `Party` object holding the registration of an org code.
pub fn org_object(org: &str) -> String {
    format!("exchange-org:{}", org.to_ascii_lowercase())
}

/// The stored registration in one of the objects above, if any.
pub async fn load_registration(
    env: &Env,
    object: &str,
) -> Result<Option<OrgRegistration>, ApiError> {
    let stub = rpc::stub(env, PARTY, object)?;
    match rpc::call(&stub, Method::Get, "record", None).await {
        Ok(mut resp) => {
            let text = rpc::body_text(&mut resp)
                .await
                .map_err(|e| Error::platform("Could not read an org registration", e))?;
            Ok(OrgRegistration::from_stored(&text))
        }
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(e.into()),
    }
}

fn refused(why: impl std::fmt::Display) -> ApiError {
    ApiError::problem(401, format!("The Maskinporten token was refused: {why}."))
}

/// `GET /authentication/api/v1/exchange/maskinporten`: a Maskinporten access token in, an
/// Altinn token signed with `TOKEN_SIGNING_JWK` out (`200 text/plain`).
pub async fn maskinporten(req: Request, env: &Env, cfg: &Config) -> Result<Response, ApiError> {
    cfg.exchange_enabled()
        .map_err(|why| ApiError::problem(404, why))?;
    let (Some(keys), Some(issuer), Some(key)) = (
        &cfg.maskinporten_keys,
        &cfg.maskinporten_issuer,
        &cfg.signing_key,
    ) else {
        return Err(ApiError::problem(404, "The token exchange is not enabled."));
    };
    let raw = auth::token_of(&req)
        .ok_or_else(|| refused("no Bearer token in the Authorization header"))?;
    let mp = auth::maskinporten(env, keys, issuer, &raw)
        .await
        .map_err(|e| {
            worker::console_warn!("Maskinporten token refused: {e}");
            refused(e)
        })?;
    let org = load_registration(env, &org_number_object(&mp.org_number))
        .await?
        .map(|r| r.org);
    let claims = exchange::altinn_claims(
        &mp,
        org.as_deref(),
        &exchange::issuer(&cfg.base_url),
        auth::now(),
    );
    let token = auth::sign(key, &claims).await.map_err(|e| {
        ApiError::internal(format!(
            "Could not sign with TOKEN_SIGNING_JWK (is it a valid private key?): {e}"
        ))
    })?;
    http::with_body(200, http::TEXT_PLAIN, token)
}

fn signing_key_unset() -> ApiError {
    ApiError::problem(
        404,
        "This service issues no tokens: TOKEN_SIGNING_JWK is not set, so there is no OpenID \
         configuration or key set to publish.",
    )
}

/// `GET /authentication/api/v1/openid/.well-known/openid-configuration`.
pub fn openid_configuration(cfg: &Config) -> Result<Response, ApiError> {
    if cfg.signing_key.is_none() {
        return Err(signing_key_unset());
    }
    http::json(
        200,
        exchange::openid_configuration(&cfg.base_url).to_string(),
    )
}

/// `GET /authentication/api/v1/openid/.well-known/openid-configuration/jwks`: the public key.
pub fn jwks(cfg: &Config) -> Result<Response, ApiError> {
    let key = cfg.signing_key.as_ref().ok_or_else(signing_key_unset)?;
    http::json(200, key.public_jwks().to_string())
}
