//! The two HTTP calls of a Maskinporten login: the JWT-bearer grant at the token endpoint, then the
//! exchange of the Maskinporten token for an Altinn token. Each refusal becomes an [`Error`] that
//! says what to fix.

use serde::Deserialize;
use serde_json::Value;

use crate::api::{Http, Reply};
use crate::error::{Error, Result};

pub const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
pub const EXCHANGE_PATH: &str = "/authentication/api/v1/exchange/maskinporten";

#[derive(Debug, Deserialize)]
struct TokenAnswer {
    access_token: String,
}

/// What the grant was about, for the hints in error messages.
#[derive(Debug, Clone, Copy)]
pub struct GrantContext<'a> {
    pub client_id: &'a str,
    pub kid: &'a str,
    pub scope: &'a str,
    pub issuer: &'a str,
    pub env: &'a str,
}

/// Posts the signed grant and returns Maskinporten's access token.
pub fn request_token(
    http: &Http,
    token_url: &str,
    assertion: &str,
    context: &GrantContext<'_>,
) -> Result<String> {
    let result = http
        .post(token_url)
        .send_form([("grant_type", JWT_BEARER), ("assertion", assertion)]);
    let Reply { status, body, .. } = Reply::read(token_url, result)?;
    if (200..300).contains(&status) {
        let answer: TokenAnswer = serde_json::from_str(&body).map_err(|err| {
            Error::Protocol(format!(
                "{token_url} answered {status} without an access_token ({err}): {body}"
            ))
        })?;
        return Ok(answer.access_token);
    }
    Err(refusal(status, &body, context))
}

/// Turns a Maskinporten error answer into an error that names the fix.
pub fn refusal(status: u16, body: &str, context: &GrantContext<'_>) -> Error {
    let parsed: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    let error = parsed
        .get("error")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    let description = parsed
        .get("error_description")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .unwrap_or_else(|| {
            if error.is_empty() {
                body.trim().to_owned()
            } else {
                String::new()
            }
        });
    let portal = match context.env {
        "prod" => "Samarbeidsportalen (Produksjon)",
        "tt02" => "Samarbeidsportalen (Ver2, the test environment)",
        _ => "the Maskinporten stand-in (POST /clients) or Samarbeidsportalen",
    };
    let fix = match error.as_str() {
        "invalid_client" => format!(
            "Fix: check that --client-id '{}' is the integration's id (\"Integrasjonens identifikator\") in {portal}, \
             that the public JWK with kid '{}' is in the integration's key list (`altinn-events jwk new` printed it), \
             and that --env matches where the integration was made (issuer {}).",
            context.client_id, context.kid, context.issuer
        ),
        "invalid_scope" => format!(
            "Fix: the integration '{}' is not granted every scope in '{}'. Add the scopes to the integration in {portal} \
             (the scope owner, e.g. Digdir for altinn:*, must first give your organisation access), or ask for fewer with --scope.",
            context.client_id, context.scope
        ),
        "invalid_grant" => format!(
            "Fix: the grant itself was refused. If the message is about iat/exp or expiry, this computer's clock is off: \
             Maskinporten allows only a few seconds of skew and a grant lives {} s, so sync the clock (e.g. `timedatectl set-ntp true`). \
             Otherwise check that the key file holds the private key registered with kid '{}' and that the audience {} is right for --env {}.",
            crate::grant::GRANT_LIFETIME_SECS,
            context.kid,
            context.issuer,
            context.env
        ),
        "unsupported_grant_type" | "invalid_request" => {
            "Fix: the token endpoint did not understand the request; check --maskinporten-token-url.".to_owned()
        }
        _ if status >= 500 => "Fix: Maskinporten had a problem; try again in a moment.".to_owned(),
        _ => format!(
            "Fix: check --maskinporten-token-url and --maskinporten-issuer for --env {}.",
            context.env
        ),
    };
    Error::Maskinporten {
        status,
        error: if error.is_empty() {
            "no error code".to_owned()
        } else {
            error
        },
        description,
        fix,
    }
}

/// Exchanges a Maskinporten access token for an Altinn token at `{base_url}/authentication/api/v1/exchange/maskinporten`.
pub fn exchange(http: &Http, base_url: &str, maskinporten_token: &str) -> Result<String> {
    let url = format!("{base_url}{EXCHANGE_PATH}");
    let result = http
        .get(&url)
        .header("authorization", &format!("Bearer {maskinporten_token}"))
        .call();
    let Reply { status, body, .. } = Reply::read(&url, result)?;
    if (200..300).contains(&status) {
        let token = unquote(&body);
        if token.split('.').count() != 3 {
            return Err(Error::Protocol(format!(
                "{url} answered {status} but the body is not a token: {body}"
            )));
        }
        return Ok(token);
    }
    let fix = match status {
        401 | 403 => "Fix: the platform does not accept this Maskinporten token. Check that the integration has the scopes the \
                      platform requires, that your organisation is registered as a service owner there, and, for an altinn-events \
                      deployment, that its exchange is configured (MASKINPORTEN_ISSUER, MASKINPORTEN_JWKS or MASKINPORTEN_WELLKNOWN, \
                      TOKEN_SIGNING_JWK) to trust this Maskinporten and the org is registered (PUT /events/api/v1/admin/orgs/{org})."
            .to_owned(),
        404 => "Fix: this service has no token exchange enabled: configure MASKINPORTEN_ISSUER, MASKINPORTEN_JWKS (or \
                MASKINPORTEN_WELLKNOWN) and TOKEN_SIGNING_JWK, or check --base-url."
            .to_owned(),
        _ => "Fix: check --base-url; the exchange may be temporarily unavailable.".to_owned(),
    };
    Err(Error::Exchange {
        url,
        status,
        body,
        fix,
    })
}

/// The exchange answers the token as text, sometimes as a JSON string (`"eyJ..."`).
pub fn unquote(body: &str) -> String {
    let body = body.trim();
    if body.starts_with('"') {
        if let Ok(text) = serde_json::from_str::<String>(body) {
            return text.trim().to_owned();
        }
    }
    body.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context() -> GrantContext<'static> {
        GrantContext {
            client_id: "my-client",
            kid: "my-kid",
            scope: "altinn:events.publish altinn:serviceowner",
            issuer: "https://test.maskinporten.no/",
            env: "tt02",
        }
    }

    #[test]
    fn each_maskinporten_error_names_its_fix() {
        let cases = [
            (
                401,
                r#"{"error":"invalid_client","error_description":"Client not found"}"#,
                "invalid_client",
                &["Client not found", "my-client", "my-kid", "Ver2"][..],
            ),
            (
                400,
                r#"{"error":"invalid_scope","error_description":"Invalid scope"}"#,
                "invalid_scope",
                &["not granted", "altinn:serviceowner", "--scope"][..],
            ),
            (
                400,
                r#"{"error":"invalid_grant","error_description":"Invalid assertion. Client authentication failed. Invalid exp"}"#,
                "invalid_grant",
                &["clock", "120 s", "my-kid", "https://test.maskinporten.no/"][..],
            ),
            (
                503,
                "upstream down",
                "no error code",
                &["upstream down", "try again"][..],
            ),
        ];
        for (status, body, code, words) in cases {
            let err = refusal(status, body, &context());
            assert_eq!(err.exit_code(), 3);
            let Error::Maskinporten { error, .. } = &err else {
                panic!("not a Maskinporten error: {err}");
            };
            assert_eq!(error, code);
            let text = err.to_string();
            assert!(
                text.starts_with(&format!("Maskinporten refused the grant ({status} {code}")),
                "{text}"
            );
            for word in words {
                assert!(text.contains(word), "{code}: '{word}' missing in: {text}");
            }
        }
    }

    #[test]
    fn exchange_answers_are_unquoted() {
        assert_eq!(unquote("\"a.b.c\"\n"), "a.b.c");
        assert_eq!(unquote(" a.b.c "), "a.b.c");
        assert_eq!(unquote("\"broken"), "\"broken");
    }
}
