//! The stand-in over HTTP: a registered client gets a token; each kind of bad assertion is refused
//! with Maskinporten's error code.

use chrono::{Duration, Utc};
use jwt_compact::alg::{Es256, Rsa};
use jwt_compact::jwk::JsonWebKey;
use jwt_compact::{AlgorithmExt, Claims, Header, UntrustedToken};
use p256::ecdsa::SigningKey;
use serde_json::{json, Value};
use standin::JWT_BEARER;

const CLIENT: &str = "test-client-1";

struct Grant {
    iss: String,
    aud: String,
    scope: String,
    jti: String,
    iat_offset: i64,
    lifetime: i64,
    kid: String,
    resource: Option<String>,
}

impl Grant {
    fn new(aud: &str) -> Self {
        Grant {
            iss: CLIENT.into(),
            aud: aud.into(),
            scope: "altinn:events.publish".into(),
            jti: uuid::Uuid::new_v4().to_string(),
            iat_offset: 0,
            lifetime: 120,
            kid: "k1".into(),
            resource: None,
        }
    }

    fn sign(&self, key: &SigningKey) -> String {
        let now = Utc::now() + Duration::seconds(self.iat_offset);
        let mut claims = Claims::new(json!({
            "iss": self.iss, "aud": self.aud, "scope": self.scope, "jti": self.jti,
        }));
        if let Some(resource) = &self.resource {
            claims.custom["resource"] = json!(resource);
        }
        claims.issued_at = Some(now);
        claims.expiration = Some(now + Duration::seconds(self.lifetime));
        let header = Header::empty().with_key_id(self.kid.clone());
        Es256.token(&header, &claims, key).expect("sign")
    }
}

fn public_jwk(key: &SigningKey, kid: &str) -> Value {
    let mut jwk = serde_json::to_value(JsonWebKey::from(key.verifying_key())).expect("jwk");
    jwk["kid"] = json!(kid);
    jwk
}

async fn post_token(standin: &standin::StandIn, assertion: &str) -> (u16, Value) {
    let resp = reqwest::Client::new()
        .post(standin.token_endpoint())
        .form(&[("grant_type", JWT_BEARER), ("assertion", assertion)])
        .send()
        .await
        .expect("send");
    let status = resp.status().as_u16();
    (status, resp.json().await.expect("json body"))
}

#[tokio::test]
async fn grant_and_refusals() {
    let standin = standin::spawn().await.expect("spawn");
    let issuer = standin.issuer().to_owned();
    let key = SigningKey::random(&mut rand_core::OsRng);
    let other_key = SigningKey::random(&mut rand_core::OsRng);

    // Registration over HTTP, as a test harness does it.
    let base = issuer.trim_end_matches('/');
    let resp = reqwest::Client::new()
        .post(format!("{base}/clients"))
        .json(&json!({
            "client_id": CLIENT,
            "jwks": [public_jwk(&key, "k1")],
            "scopes": ["altinn:events.publish", "altinn:events.subscribe"],
            "org_number": "991825827",
        }))
        .send()
        .await
        .expect("register");
    assert_eq!(resp.status().as_u16(), 201);

    // Granted.
    let (status, body) = post_token(&standin, &Grant::new(&issuer).sign(&key)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 120);
    assert_eq!(body["scope"], "altinn:events.publish");
    let access = body["access_token"].as_str().expect("access_token");
    let token = UntrustedToken::new(access).expect("jwt");
    let jwks: Value = reqwest::get(format!("{base}/jwk"))
        .await
        .expect("jwk")
        .json()
        .await
        .expect("json");
    assert_eq!(
        token.header().key_id.as_deref(),
        jwks["keys"][0]["kid"].as_str()
    );
    let jwk: JsonWebKey<'_> = serde_json::from_value(jwks["keys"][0].clone()).expect("jwk");
    let public = rsa::RsaPublicKey::try_from(&jwk).expect("rsa key");
    let claims = Rsa::rs256()
        .validator::<Value>(&public)
        .validate(&token)
        .expect("signed by the stand-in");
    let claims = claims.claims();
    assert_eq!(claims.custom["iss"], issuer.as_str());
    assert_eq!(claims.custom["client_id"], CLIENT);
    assert_eq!(
        claims.custom["consumer"],
        json!({"authority": "iso6523-actorid-upis", "ID": "0192:991825827"})
    );
    assert!(claims.expiration.is_some());
    assert!(claims.custom.get("aud").is_none());

    // An audience-restricted token carries the resource as `aud`.
    let restricted = Grant {
        resource: Some("https://platform.tt02.altinn.no".into()),
        ..Grant::new(&issuer)
    };
    let (status, body) = post_token(&standin, &restricted.sign(&key)).await;
    assert_eq!(status, 200, "{body}");
    let token = UntrustedToken::new(body["access_token"].as_str().expect("token")).expect("jwt");
    let claims = token
        .deserialize_claims_unchecked::<Value>()
        .expect("claims");
    assert_eq!(claims.custom["aud"], "https://platform.tt02.altinn.no");

    let metadata: Value = reqwest::get(format!("{base}/.well-known/oauth-authorization-server"))
        .await
        .expect("metadata")
        .json()
        .await
        .expect("json");
    assert_eq!(metadata["issuer"], issuer.as_str());
    assert_eq!(metadata["token_endpoint"], format!("{base}/token"));
    assert_eq!(metadata["jwks_uri"], format!("{base}/jwk"));

    // Refusals: (name, assertion, status, error, words in the description).
    let reused = Grant::new(&issuer);
    let (status, _) = post_token(&standin, &reused.sign(&key)).await;
    assert_eq!(status, 200);
    let cases: Vec<(&str, String, u16, &str, &str)> = vec![
        (
            "bad signature",
            Grant::new(&issuer).sign(&other_key),
            400,
            "invalid_grant",
            "Invalid signature",
        ),
        (
            "wrong aud",
            Grant::new("https://test.maskinporten.no/").sign(&key),
            400,
            "invalid_grant",
            "aud",
        ),
        (
            "exp too far",
            Grant {
                lifetime: 121,
                ..Grant::new(&issuer)
            }
            .sign(&key),
            400,
            "invalid_grant",
            "120 seconds",
        ),
        (
            "expired",
            Grant {
                iat_offset: -600,
                ..Grant::new(&issuer)
            }
            .sign(&key),
            400,
            "invalid_grant",
            "expired",
        ),
        (
            "iat in the future",
            Grant {
                iat_offset: 600,
                ..Grant::new(&issuer)
            }
            .sign(&key),
            400,
            "invalid_grant",
            "future",
        ),
        (
            "jti reuse",
            reused.sign(&key),
            400,
            "invalid_grant",
            "already been used",
        ),
        (
            "scope not allowed",
            Grant {
                scope: "altinn:events.publish altinn:serviceowner".into(),
                ..Grant::new(&issuer)
            }
            .sign(&key),
            400,
            "invalid_scope",
            "altinn:serviceowner",
        ),
        (
            "unknown client",
            Grant {
                iss: "nobody".into(),
                ..Grant::new(&issuer)
            }
            .sign(&key),
            401,
            "invalid_client",
            "nobody",
        ),
        (
            "unknown kid",
            Grant {
                kid: "k2".into(),
                ..Grant::new(&issuer)
            }
            .sign(&key),
            401,
            "invalid_client",
            "k2",
        ),
        (
            "not a JWT",
            "not-a-jwt".into(),
            400,
            "invalid_grant",
            "Not a JWT",
        ),
    ];
    for (name, assertion, want_status, want_error, words) in cases {
        let (status, body) = post_token(&standin, &assertion).await;
        assert_eq!(status, want_status, "{name}: {body}");
        assert_eq!(body["error"], want_error, "{name}: {body}");
        let description = body["error_description"].as_str().unwrap_or_default();
        assert!(description.contains(words), "{name}: {description}");
    }

    // A wrong grant type.
    let resp = reqwest::Client::new()
        .post(standin.token_endpoint())
        .form(&[("grant_type", "client_credentials"), ("assertion", "x")])
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status().as_u16(), 400);
    let body: Value = resp.json().await.expect("json");
    assert_eq!(body["error"], "unsupported_grant_type");
}
