//! The JWT grant a client sends to Maskinporten (RFC 7523, Maskinporten's profile).

use chrono::{DateTime, Duration, Utc};
use jwt_compact::Claims;
use serde::Serialize;

use crate::error::Result;
use crate::jwk::KeyPair;

/// Maskinporten refuses a grant whose `exp` is more than 120 s after `iat`.
pub const GRANT_LIFETIME_SECS: i64 = 120;

/// The grant's custom claims (`iat`, `exp` are jwt-compact's).
#[derive(Debug, Serialize)]
pub struct GrantClaims {
    pub aud: String,
    pub iss: String,
    pub scope: String,
    pub jti: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource: Option<serde_json::Value>,
}

/// What a grant asks for.
#[derive(Debug, Clone)]
pub struct GrantRequest<'a> {
    pub client_id: &'a str,
    /// The Maskinporten issuer, which is the grant's `aud`.
    pub audience: &'a str,
    pub scope: &'a str,
    /// Audience-restricted tokens (`resource`): one string, or an array for several.
    pub resources: &'a [String],
}

/// The claims of a grant issued at `now`, with a fresh random `jti`.
pub fn claims(request: &GrantRequest<'_>, now: DateTime<Utc>) -> Claims<GrantClaims> {
    let resource = match request.resources {
        [] => None,
        [one] => Some(serde_json::Value::String(one.clone())),
        many => Some(serde_json::json!(many)),
    };
    let mut claims = Claims::new(GrantClaims {
        aud: request.audience.to_owned(),
        iss: request.client_id.to_owned(),
        scope: request
            .scope
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" "),
        jti: uuid::Uuid::new_v4().to_string(),
        resource,
    });
    claims.issued_at = Some(now);
    claims.expiration = Some(now + Duration::seconds(GRANT_LIFETIME_SECS));
    claims
}

/// The signed grant (the `assertion` form field).
pub fn sign(key: &KeyPair, request: &GrantRequest<'_>, now: DateTime<Utc>) -> Result<String> {
    key.sign(&claims(request, now))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jwk::KeyAlg;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine as _;
    use jwt_compact::alg::{Es256, Rsa};
    use jwt_compact::jwk::JsonWebKey;
    use jwt_compact::{AlgorithmExt, UntrustedToken};
    use serde_json::Value;

    fn part(token: &str, index: usize) -> Value {
        let text = token.split('.').nth(index).expect("part");
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(text).expect("base64url")).expect("json")
    }

    fn request<'a>(resources: &'a [String]) -> GrantRequest<'a> {
        GrantRequest {
            client_id: "0a1b2c3d-client",
            audience: "https://test.maskinporten.no/",
            scope: "altinn:events.publish  altinn:events.subscribe",
            resources,
        }
    }

    #[test]
    fn header_and_claims_are_maskinportens() {
        let now = Utc::now();
        for alg in [KeyAlg::Rs256, KeyAlg::Es256] {
            let key = KeyPair::generate(alg, "my-kid").expect("key");
            let token = sign(&key, &request(&[]), now).expect("sign");
            let header = part(&token, 0);
            assert_eq!(header["alg"], alg.name());
            assert_eq!(header["kid"], "my-kid");
            let claims = part(&token, 1);
            assert_eq!(claims["aud"], "https://test.maskinporten.no/");
            assert_eq!(claims["iss"], "0a1b2c3d-client");
            assert_eq!(
                claims["scope"],
                "altinn:events.publish altinn:events.subscribe"
            );
            let iat = claims["iat"].as_i64().expect("iat");
            let exp = claims["exp"].as_i64().expect("exp");
            assert_eq!(iat, now.timestamp());
            assert!(exp > iat && exp - iat <= 120, "exp - iat = {}", exp - iat);
            assert!(uuid::Uuid::parse_str(claims["jti"].as_str().expect("jti")).is_ok());
            assert!(claims.get("resource").is_none());

            // The signature verifies with the public JWK.
            let public: JsonWebKey<'_> = serde_json::from_value(key.public_jwk()).expect("jwk");
            let untrusted = UntrustedToken::new(&token).expect("jwt");
            match alg {
                KeyAlg::Rs256 => {
                    let pk = rsa::RsaPublicKey::try_from(&public).expect("rsa");
                    Rsa::rs256()
                        .validator::<Value>(&pk)
                        .validate(&untrusted)
                        .expect("valid");
                }
                KeyAlg::Es256 => {
                    let pk = p256::ecdsa::VerifyingKey::try_from(&public).expect("ec");
                    Es256
                        .validator::<Value>(&pk)
                        .validate(&untrusted)
                        .expect("valid");
                }
            }
        }
    }

    #[test]
    fn jti_is_unique_and_resource_is_optional() {
        let now = Utc::now();
        let one = claims(&request(&[]), now);
        let two = claims(&request(&[]), now);
        assert_ne!(one.custom.jti, two.custom.jti);

        let single = ["urn:altinn:resource:ttd-demo".to_owned()];
        let claims_one = claims(&request(&single), now);
        assert_eq!(
            claims_one.custom.resource,
            Some(Value::String(single[0].clone()))
        );
        let several = ["a".to_owned(), "b".to_owned()];
        let claims_many = claims(&request(&several), now);
        assert_eq!(
            claims_many.custom.resource,
            Some(serde_json::json!(["a", "b"]))
        );
    }
}
