//! Development tokens: Altinn tokens (org, user, system user) and platform access tokens,
//! signed with the repository's dev keys in `dev/keys/` (see `dev/keys/README.md`).
//!
//! ```no_run
//! use devtoken::TokenSpec;
//! let publisher = TokenSpec::org("ttd").scope("altinn:events.publish").mint();
//! let user = TokenSpec::user(1337, 50001337).mint();
//! let app = TokenSpec::platform("ttd", "apps-test").mint();
//! ```
//!
//! The negative-test helpers at the bottom build tokens by hand, so they can carry things a
//! well-behaved signer never produces (`alg: none`, HS256, a forged signature).

use std::fmt;
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jwt_compact::alg::{Es256, Rsa};
use jwt_compact::jwk::JsonWebKey;
use jwt_compact::{Algorithm, AlgorithmExt, Claims, Header};
use rand_core::{OsRng, RngCore};
use serde_json::{json, Map, Value};

/// `kid` of the dev ES256 key.
pub const DEV_ES256_KID: &str = "dev-es256";
/// `kid` of the dev RS256 key.
pub const DEV_RS256_KID: &str = "dev-rs256";

/// Organisation number used for `ttd` (unless overridden with [`TokenSpec::org_number`]).
pub const TTD_ORG_NUMBER: &str = "991825827";
/// Organisation number used for every other org (unless overridden).
pub const DEFAULT_ORG_NUMBER: &str = "987654321";

const ORG: &str = "urn:altinn:org";
const ORG_NUMBER: &str = "urn:altinn:orgNumber";
const USER_ID: &str = "urn:altinn:userid";
const PARTY_ID: &str = "urn:altinn:partyid";
const AUTH_LEVEL: &str = "urn:altinn:authlevel";
const APP: &str = "urn:altinn:app";

/// Signature algorithm of a minted token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Alg {
    /// ECDSA P-256 with SHA-256, key `dev-es256` (the default).
    Es256,
    /// RSASSA-PKCS1-v1_5 with SHA-256, key `dev-rs256`.
    Rs256,
}

/// Which kind of token a spec describes (only informational; all claims are in the map).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    Org,
    User,
    SystemUser,
    Platform,
    Custom,
}

/// Builder for a dev token. `Default`: ES256, `kid` in the header, `exp` = now + 3600 s, no `nbf`,
/// no claims besides `iat`, `exp` and a random `jti`.
#[derive(Debug, Clone)]
pub struct TokenSpec {
    kind: TokenKind,
    alg: Alg,
    include_kid: bool,
    expires_in: i64,
    not_before_in: Option<i64>,
    numbers_as_strings: bool,
    claims: Map<String, Value>,
    removed: Vec<String>,
}

impl Default for TokenSpec {
    fn default() -> Self {
        TokenSpec {
            kind: TokenKind::Custom,
            alg: Alg::Es256,
            include_kid: true,
            expires_in: 3600,
            not_before_in: None,
            numbers_as_strings: false,
            claims: Map::new(),
            removed: Vec::new(),
        }
    }
}

impl TokenSpec {
    /// An Altinn token for a service owner: `urn:altinn:org`, `urn:altinn:orgNumber`
    /// ([`TTD_ORG_NUMBER`] for `ttd`, [`DEFAULT_ORG_NUMBER`] otherwise) and `urn:altinn:authlevel` 3.
    pub fn org(org: &str) -> Self {
        let number = if org == "ttd" {
            TTD_ORG_NUMBER
        } else {
            DEFAULT_ORG_NUMBER
        };
        TokenSpec {
            kind: TokenKind::Org,
            ..Default::default()
        }
        .claim(ORG, json!(org))
        .claim(ORG_NUMBER, json!(number))
        .claim(AUTH_LEVEL, json!(3))
    }

    /// An Altinn token for a person: `urn:altinn:userid`, `urn:altinn:partyid` (JSON numbers unless
    /// [`numbers_as_strings`](Self::numbers_as_strings)) and `urn:altinn:authlevel` 2.
    pub fn user(user_id: u64, party_id: u64) -> Self {
        TokenSpec {
            kind: TokenKind::User,
            ..Default::default()
        }
        .claim(USER_ID, json!(user_id))
        .claim(PARTY_ID, json!(party_id))
        .claim(AUTH_LEVEL, json!(2))
    }

    /// A Maskinporten system-user token: only `authorization_details` (one object; see
    /// [`authorization_details_as_array`](Self::authorization_details_as_array)) plus whatever
    /// [`scope`](Self::scope) adds.
    pub fn system_user(uuid: &str, org_number: &str) -> Self {
        TokenSpec {
            kind: TokenKind::SystemUser,
            ..Default::default()
        }
        .claim(
            "authorization_details",
            json!({
                "type": "urn:altinn:systemuser",
                "systemuser_id": [uuid],
                "systemuser_org": {
                    "authority": "iso6523-actorid-upis",
                    "ID": format!("0192:{org_number}"),
                },
            }),
        )
    }

    /// A `PlatformAccessToken`: `iss` = `issuer` (e.g. `platform`, `ttd`), `urn:altinn:app` = `app`.
    pub fn platform(issuer: &str, app: &str) -> Self {
        TokenSpec {
            kind: TokenKind::Platform,
            ..Default::default()
        }
        .claim("iss", json!(issuer))
        .claim(APP, json!(app))
    }

    /// A token with only the claims added with [`claim`](Self::claim) (plus `iat`, `exp`, `jti`).
    pub fn custom() -> Self {
        Self::default()
    }

    /// Sets `scope` (space separated).
    pub fn scope(self, scopes: &str) -> Self {
        self.claim("scope", json!(scopes))
    }

    /// Sets `urn:altinn:orgNumber`.
    pub fn org_number(self, number: &str) -> Self {
        self.claim(ORG_NUMBER, json!(number))
    }

    /// Sets `urn:altinn:authlevel`.
    pub fn authlevel(self, level: u8) -> Self {
        self.claim(AUTH_LEVEL, json!(level))
    }

    /// Adds or replaces any claim, including `iat`, `exp`, `nbf` and `jti` (an explicit value wins
    /// over the generated one).
    pub fn claim(mut self, name: &str, value: Value) -> Self {
        self.removed.retain(|removed| removed != name);
        self.claims.insert(name.to_owned(), value);
        self
    }

    /// Leaves a claim out, including the generated `iat`, `exp` and `jti`.
    pub fn without_claim(mut self, name: &str) -> Self {
        self.claims.remove(name);
        self.removed.push(name.to_owned());
        self
    }

    /// Wraps `authorization_details` in an array, as Maskinporten itself sends it.
    pub fn authorization_details_as_array(mut self) -> Self {
        if let Some(details) = self.claims.get_mut("authorization_details") {
            if !details.is_array() {
                *details = Value::Array(vec![details.take()]);
            }
        }
        self
    }

    /// Writes `urn:altinn:userid`, `urn:altinn:partyid` and `urn:altinn:authlevel` as JSON strings.
    pub fn numbers_as_strings(mut self) -> Self {
        self.numbers_as_strings = true;
        self
    }

    /// Signs with the RS256 dev key instead of ES256.
    pub fn rs256(mut self) -> Self {
        self.alg = Alg::Rs256;
        self
    }

    /// Leaves `kid` out of the header.
    pub fn without_kid(mut self) -> Self {
        self.include_kid = false;
        self
    }

    /// `exp` = now + `secs` (negative: already expired).
    pub fn expires_in(mut self, secs: i64) -> Self {
        self.expires_in = secs;
        self
    }

    /// `nbf` = now + `secs`.
    pub fn not_before_in(mut self, secs: i64) -> Self {
        self.not_before_in = Some(secs);
        self
    }

    pub fn kind(&self) -> TokenKind {
        self.kind
    }

    pub fn alg(&self) -> Alg {
        self.alg
    }

    /// The claims [`mint`](Self::mint) would sign right now (with a fresh `jti`).
    pub fn claims(&self) -> Map<String, Value> {
        let now = unix_now();
        let mut claims = Map::new();
        for (name, value) in &self.claims {
            let value = if self.numbers_as_strings
                && [USER_ID, PARTY_ID, AUTH_LEVEL].contains(&name.as_str())
            {
                match value {
                    Value::Number(n) => Value::String(n.to_string()),
                    other => other.clone(),
                }
            } else {
                value.clone()
            };
            claims.insert(name.clone(), value);
        }
        let mut generated = vec![("iat", json!(now)), ("exp", json!(now + self.expires_in))];
        if let Some(nbf) = self.not_before_in {
            generated.push(("nbf", json!(now + nbf)));
        }
        generated.push(("jti", json!(random_id())));
        for (name, value) in generated {
            if !claims.contains_key(name) && !self.removed.iter().any(|r| r == name) {
                claims.insert(name.to_owned(), value);
            }
        }
        claims
    }

    /// Signs the token and returns it in compact JWS form.
    pub fn mint(&self) -> String {
        let claims = Claims::new(self.claims());
        let mut header = Header::empty().with_token_type("JWT");
        let result = match self.alg {
            Alg::Es256 => {
                if self.include_kid {
                    header = header.with_key_id(DEV_ES256_KID);
                }
                Es256.token(&header, &claims, &dev_keys().es256)
            }
            Alg::Rs256 => {
                if self.include_kid {
                    header = header.with_key_id(DEV_RS256_KID);
                }
                Rsa::rs256().token(&header, &claims, &dev_keys().rs256)
            }
        };
        // Serialising a JSON map and signing with a validated key cannot fail.
        result.expect("signing a dev token")
    }
}

// The negative-test helpers below take the claims as given, except that `iat`, `exp` (now + 1 h)
// and `jti` are added to an object that lacks them, so that the intended defect is the only one.
// Tip: `unsigned_token(&Value::Object(TokenSpec::org("ttd").claims()))`.

/// A token with `alg: none` and an empty signature (`<header>.<payload>.`).
pub fn unsigned_token(claims: &Value) -> String {
    let header = json!({"alg": "none", "typ": "JWT"});
    format!(
        "{}.{}.",
        b64_json(&header),
        b64_json(&with_defaults(claims))
    )
}

/// An HS256 token signed with `secret`, header `kid: dev-es256` (for "symmetric algorithms are
/// rejected" tests; a worker that wrongly accepted HS256 might use the public key bytes as the HMAC
/// secret, so try that as `secret` too).
pub fn hs256_token(claims: &Value, secret: &[u8]) -> String {
    let header = json!({"alg": "HS256", "typ": "JWT", "kid": DEV_ES256_KID});
    let signing_input = format!("{}.{}", b64_json(&header), b64_json(&with_defaults(claims)));
    let signature = hmac_sha256(secret, signing_input.as_bytes());
    format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(signature))
}

fn hmac_sha256(key: &[u8], data: &[u8]) -> [u8; 32] {
    use hmac::{Hmac, Mac};
    let mut mac =
        <Hmac<sha2::Sha256> as Mac>::new_from_slice(key).expect("HMAC accepts keys of any length");
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// Changes the payload of a signed token and keeps the old signature: numeric
/// `urn:altinn:userid` / `urn:altinn:partyid` are incremented, `urn:altinn:org` becomes `evil`,
/// and a `tampered: true` claim is always added, so the payload differs in every case.
///
/// Panics if `token` is not three base64url JSON parts (a test-authoring error).
pub fn tamper(token: &str) -> String {
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        panic!("tamper: not a compact JWS: {token}");
    };
    let bytes = URL_SAFE_NO_PAD
        .decode(payload)
        .expect("tamper: payload is not base64url");
    let mut claims: Map<String, Value> =
        serde_json::from_slice(&bytes).expect("tamper: payload is not a JSON object");
    for name in [USER_ID, PARTY_ID] {
        if let Some(n) = claims.get(name).and_then(Value::as_u64) {
            claims.insert(name.to_owned(), json!(n + 1));
        }
    }
    if claims.contains_key(ORG) {
        claims.insert(ORG.to_owned(), json!("evil"));
    }
    claims.insert("tampered".to_owned(), json!(true));
    format!("{header}.{}.{signature}", b64_json(&Value::Object(claims)))
}

/// An ES256 token signed by a freshly generated key but carrying `kid: dev-es256`, so key
/// selection succeeds and signature verification must fail.
pub fn signed_by_unknown_key(claims: &Value) -> String {
    let key = p256::ecdsa::SigningKey::random(&mut OsRng);
    let header = Header::empty()
        .with_token_type("JWT")
        .with_key_id(DEV_ES256_KID);
    let claims = Claims::new(with_defaults(claims));
    Es256
        .token(&header, &claims, &key)
        .expect("signing with a fresh key")
}

/// `<repo>/dev/keys`.
pub fn dev_keys_dir() -> PathBuf {
    let manifest_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest_dir.join("..").join("..").join("dev").join("keys")
}

/// The public dev key set (`dev/keys/dev-jwks.json`) as JSON.
pub fn dev_jwks() -> Value {
    let path = dev_keys_dir().join("dev-jwks.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|err| panic!("cannot read {}: {err}", path.display()));
    serde_json::from_str(&text)
        .unwrap_or_else(|err| panic!("{} is not JSON: {err}", path.display()))
}

/// Error loading a dev key.
#[derive(Debug)]
pub struct KeyError(String);

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for KeyError {}

struct DevKeys {
    es256: <Es256 as Algorithm>::SigningKey,
    rs256: <Rsa as Algorithm>::SigningKey,
}

fn dev_keys() -> &'static DevKeys {
    static KEYS: OnceLock<DevKeys> = OnceLock::new();
    KEYS.get_or_init(|| match load_dev_keys() {
        Ok(keys) => keys,
        Err(err) => panic!("{err}"),
    })
}

fn load_dev_keys() -> Result<DevKeys, KeyError> {
    let es = read_jwk("dev-es256.private.jwk.json")?;
    let rs = read_jwk("dev-rs256.private.jwk.json")?;
    let es256 = <Es256 as Algorithm>::SigningKey::try_from(&es)
        .map_err(|err| KeyError(format!("dev-es256.private.jwk.json: {err}")))?;
    let rs256 = <Rsa as Algorithm>::SigningKey::try_from(&rs)
        .map_err(|err| KeyError(format!("dev-rs256.private.jwk.json: {err}")))?;
    Ok(DevKeys { es256, rs256 })
}

fn read_jwk(name: &str) -> Result<JsonWebKey<'static>, KeyError> {
    let path = dev_keys_dir().join(name);
    let text = std::fs::read_to_string(&path)
        .map_err(|err| KeyError(format!("cannot read {}: {err}", path.display())))?;
    serde_json::from_str(&text)
        .map_err(|err| KeyError(format!("{} is not a JWK: {err}", path.display())))
}

fn with_defaults(claims: &Value) -> Value {
    let mut claims = claims.clone();
    if let Value::Object(map) = &mut claims {
        let now = unix_now();
        for (name, value) in [
            ("iat", json!(now)),
            ("exp", json!(now + 3600)),
            ("jti", json!(random_id())),
        ] {
            map.entry(name).or_insert(value);
        }
    }
    claims
}

fn b64_json(value: &Value) -> String {
    // A `Value` always serialises.
    let text = serde_json::to_string(value).unwrap_or_default();
    URL_SAFE_NO_PAD.encode(text)
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

fn random_id() -> String {
    let mut bytes = [0u8; 16];
    OsRng.fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use jwt_compact::UntrustedToken;

    fn public_key(kid: &str) -> JsonWebKey<'static> {
        let jwks = dev_jwks();
        let key = jwks["keys"]
            .as_array()
            .expect("keys array")
            .iter()
            .find(|k| k["kid"] == kid)
            .unwrap_or_else(|| panic!("{kid} in dev-jwks.json"))
            .clone();
        assert!(key.get("d").is_none(), "public JWKS must not contain d");
        serde_json::from_value(key).expect("JWK")
    }

    fn verify(token: &str) -> Result<Map<String, Value>, String> {
        let untrusted = UntrustedToken::new(token).map_err(|e| e.to_string())?;
        let kid = untrusted.header().key_id.clone().unwrap_or_default();
        let claims = match untrusted.algorithm() {
            "ES256" => {
                let key = <Es256 as Algorithm>::VerifyingKey::try_from(&public_key(&kid))
                    .map_err(|e| e.to_string())?;
                Es256
                    .validator::<Map<String, Value>>(&key)
                    .validate(&untrusted)
                    .map_err(|e| e.to_string())?
                    .claims()
                    .custom
                    .clone()
            }
            "RS256" => {
                let key = <Rsa as Algorithm>::VerifyingKey::try_from(&public_key(&kid))
                    .map_err(|e| e.to_string())?;
                Rsa::rs256()
                    .validator::<Map<String, Value>>(&key)
                    .validate(&untrusted)
                    .map_err(|e| e.to_string())?
                    .claims()
                    .custom
                    .clone()
            }
            other => return Err(format!("unexpected alg {other}")),
        };
        Ok(claims)
    }

    fn header(token: &str) -> Value {
        let part = token.split('.').next().expect("header part");
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).expect("b64")).expect("json")
    }

    fn payload(token: &str) -> Value {
        let part = token.split('.').nth(1).expect("payload part");
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).expect("b64")).expect("json")
    }

    #[test]
    fn es256_org_token_verifies() {
        let token = TokenSpec::org("ttd").scope("altinn:events.publish").mint();
        assert_eq!(header(&token)["alg"], "ES256");
        assert_eq!(header(&token)["kid"], DEV_ES256_KID);
        let claims = verify(&token).expect("valid ES256 token");
        assert_eq!(claims["urn:altinn:org"], "ttd");
        assert_eq!(claims["urn:altinn:orgNumber"], TTD_ORG_NUMBER);
        assert_eq!(claims["urn:altinn:authlevel"], 3);
        assert_eq!(claims["scope"], "altinn:events.publish");
        let p = payload(&token);
        assert!(p["jti"].as_str().is_some_and(|j| j.len() == 32));
        let (iat, exp) = (
            p["iat"].as_i64().expect("iat"),
            p["exp"].as_i64().expect("exp"),
        );
        assert_eq!(exp - iat, 3600);
        assert!(p.get("nbf").is_none());
    }

    #[test]
    fn rs256_user_token_verifies() {
        let token = TokenSpec::user(1337, 50001337).rs256().mint();
        assert_eq!(header(&token)["alg"], "RS256");
        assert_eq!(header(&token)["kid"], DEV_RS256_KID);
        let claims = verify(&token).expect("valid RS256 token");
        assert_eq!(claims["urn:altinn:userid"], 1337);
        assert_eq!(claims["urn:altinn:partyid"], 50001337);
        assert_eq!(claims["urn:altinn:authlevel"], 2);
    }

    #[test]
    fn tampered_tokens_fail() {
        for token in [
            TokenSpec::org("ttd").mint(),
            TokenSpec::user(1, 2).rs256().mint(),
        ] {
            verify(&token).expect("original verifies");
            let bad = tamper(&token);
            assert_ne!(bad, token);
            assert!(verify(&bad).is_err(), "tampered token must not verify");
        }
        let unknown = signed_by_unknown_key(&json!({"urn:altinn:org": "ttd"}));
        assert_eq!(header(&unknown)["kid"], DEV_ES256_KID);
        assert!(verify(&unknown).is_err());
    }

    #[test]
    fn options_shape_claims() {
        let p = payload(
            &TokenSpec::user(7, 8)
                .numbers_as_strings()
                .without_kid()
                .expires_in(-10)
                .not_before_in(5)
                .claim("extra", json!({"a": 1}))
                .mint(),
        );
        assert_eq!(p["urn:altinn:userid"], "7");
        assert_eq!(p["urn:altinn:partyid"], "8");
        assert_eq!(p["urn:altinn:authlevel"], "2");
        assert_eq!(p["extra"], json!({"a": 1}));
        assert_eq!(
            p["exp"].as_i64().expect("exp") - p["iat"].as_i64().expect("iat"),
            -10
        );
        assert_eq!(
            p["nbf"].as_i64().expect("nbf") - p["iat"].as_i64().expect("iat"),
            5
        );

        let p = payload(
            &TokenSpec::org("digdir")
                .without_claim("exp")
                .claim("iat", json!(1))
                .mint(),
        );
        assert!(p.get("exp").is_none());
        assert_eq!(p["iat"], 1);
        assert_eq!(p["urn:altinn:orgNumber"], DEFAULT_ORG_NUMBER);

        let p = payload(
            &TokenSpec::system_user("u-1", "912345678")
                .scope("altinn:events.subscribe")
                .mint(),
        );
        assert_eq!(
            p["authorization_details"]["systemuser_org"]["ID"],
            "0192:912345678"
        );
        assert!(p.get("urn:altinn:orgNumber").is_none());
        let p = payload(
            &TokenSpec::system_user("u-1", "912345678")
                .authorization_details_as_array()
                .mint(),
        );
        assert_eq!(p["authorization_details"][0]["systemuser_id"][0], "u-1");

        let t = TokenSpec::platform("platform", "events").mint();
        assert_eq!(verify(&t).expect("platform token")["iss"], "platform");
        let t = TokenSpec::org("ttd").without_kid().rs256().mint();
        assert!(header(&t).get("kid").is_none());
    }

    #[test]
    fn negative_variants_have_expected_shape() {
        let claims = json!({"urn:altinn:org": "ttd", "exp": unix_now() + 60});
        let none = unsigned_token(&claims);
        assert!(none.ends_with('.'));
        assert_eq!(header(&none)["alg"], "none");
        assert_eq!(payload(&none)["urn:altinn:org"], "ttd");
        assert_eq!(payload(&none)["exp"], claims["exp"]);
        assert!(payload(&none)["iat"].is_i64() && payload(&none)["jti"].is_string());
        let hs = hs256_token(&claims, b"secret");
        assert_eq!(header(&hs)["alg"], "HS256");
        // RFC 4231 test case 2.
        let mac = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
        let hex: String = mac.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            hex,
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        let sig = URL_SAFE_NO_PAD
            .decode(hs.rsplit('.').next().expect("sig"))
            .expect("b64");
        assert_eq!(sig.len(), 32);
        assert!(verify(&hs).is_err());
    }
}
