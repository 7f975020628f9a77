//! JSON Web Tokens as the service accepts them (CONTRACT §3): compact JWS, `alg` RS256 or
//! ES256 only, `exp` required and checked with zero skew, `nbf` when present. Signature
//! checking itself is the platform's job (WebCrypto in the worker); this module decides
//! everything else: what to verify, against which keys, and whether the claims are current.
//! `jwt-compact` splits and decodes the token and checks `exp`/`nbf` (with the time passed in);
//! its signature algorithms are not used.

use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

use chrono::{DateTime, Duration, Utc};
use jwt_compact::{TimeOptions, UntrustedToken, ValidationError};
use serde_json::{Map, Value};

use crate::identity::Claims;

/// Signature algorithms the service accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Alg {
    Rs256,
    Es256,
}

impl Alg {
    pub fn name(self) -> &'static str {
        match self {
            Alg::Rs256 => "RS256",
            Alg::Es256 => "ES256",
        }
    }
}

/// Why a token was refused. All of these are a 401 for the client; the variant is for logs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TokenError {
    Malformed,
    UnsupportedAlgorithm(String),
    UnknownKey,
    BadSignature,
    MissingExpiry,
    Expired,
    NotYetValid,
    UnknownIssuer(String),
}

impl fmt::Display for TokenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TokenError::Malformed => f.write_str("token is not a compact JWS"),
            TokenError::UnsupportedAlgorithm(a) => write!(f, "algorithm '{a}' is not accepted"),
            TokenError::UnknownKey => f.write_str("no trusted key matches the token"),
            TokenError::BadSignature => f.write_str("signature does not verify"),
            TokenError::MissingExpiry => f.write_str("token has no exp claim"),
            TokenError::Expired => f.write_str("token has expired"),
            TokenError::NotYetValid => f.write_str("token is not valid yet (nbf)"),
            TokenError::UnknownIssuer(i) => write!(f, "issuer '{i}' has no trusted keys"),
        }
    }
}

/// A token split into its parts, not yet verified.
#[derive(Clone, Debug)]
pub struct UnverifiedToken<'a> {
    pub alg: Alg,
    pub kid: Option<String>,
    pub claims: Claims,
    /// `base64url(header) "." base64url(payload)`: the bytes the signature covers.
    pub signing_input: &'a str,
    pub signature: Vec<u8>,
}

/// Split and decode a compact JWS with `jwt-compact` (three base64url parts, a JSON header
/// with `alg`, JSON claims whose `exp`/`nbf`/`iat` are RFC 7519 NumericDates). Refuses any
/// algorithm but RS256 and ES256 (so `none` and HMAC tokens never reach signature checking).
pub fn parse(token: &str) -> Result<UnverifiedToken<'_>, TokenError> {
    let token = token.trim();
    let untrusted = UntrustedToken::new(token).map_err(|_| TokenError::Malformed)?;
    let alg = match untrusted.algorithm() {
        "RS256" => Alg::Rs256,
        "ES256" => Alg::Es256,
        other => return Err(TokenError::UnsupportedAlgorithm(other.into())),
    };
    // jwt-compact accepts an empty third part (its algorithms then refuse the signature); the
    // signature is checked by WebCrypto here, so an empty one is refused as malformed up front.
    let signature = untrusted.signature_bytes().to_vec();
    if signature.is_empty() {
        return Err(TokenError::Malformed);
    }
    // jwt-compact keeps the signed bytes to itself; they are everything before the last dot.
    let (signing_input, _) = token.rsplit_once('.').ok_or(TokenError::Malformed)?;
    let claims = untrusted
        .deserialize_claims_unchecked::<Map<String, Value>>()
        .map_err(|_| TokenError::Malformed)?;
    // The standard claims are typed by jwt-compact and taken out of the map; the identity rules
    // read every claim by name, so they are put back as integer seconds.
    let mut map = claims.custom;
    for (name, time) in [
        ("exp", claims.expiration),
        ("nbf", claims.not_before),
        ("iat", claims.issued_at),
    ] {
        if let Some(time) = time {
            map.insert(name.into(), time.timestamp().into());
        }
    }
    Ok(UnverifiedToken {
        alg,
        kid: untrusted.header().key_id.clone().filter(|k| !k.is_empty()),
        claims: Claims::new(map),
        signing_input,
        signature,
    })
}

/// `exp` is required and the token is valid up to and including that second; `nbf`, when
/// present, must have passed (valid from that second on). No clock skew is allowed (as Altinn
/// configures it): jwt-compact's `validate_expiration`/`validate_maturity` with zero leeway and
/// `now` as the clock.
pub fn check_lifetime(claims: &Claims, now_unix_secs: i64) -> Result<(), TokenError> {
    // Seconds outside chrono's range (about ±262 000 years) are no time at all: refused, never
    // clamped. `parse` only yields claims in range; `now` comes from the platform clock.
    let time = |secs: i64| DateTime::<Utc>::from_timestamp(secs, 0).ok_or(TokenError::Malformed);
    let now = time(now_unix_secs)?;
    let mut lifetime = jwt_compact::Claims::empty();
    lifetime.expiration = claims.seconds("exp").map(time).transpose()?;
    lifetime.not_before = claims.seconds("nbf").map(time).transpose()?;
    let options = TimeOptions::new(Duration::zero(), move || now);
    lifetime
        .validate_expiration(&options)
        .map_err(|e| match e {
            ValidationError::NoClaim(_) => TokenError::MissingExpiry,
            _ => TokenError::Expired,
        })?;
    match lifetime.validate_maturity(&options) {
        Ok(_) | Err(ValidationError::NoClaim(_)) => Ok(()),
        Err(_) => Err(TokenError::NotYetValid),
    }
}

/// One public key of a JWKS, kept as its JSON (for WebCrypto `importKey("jwk", …)`).
#[derive(Clone, Debug, PartialEq)]
pub struct Jwk {
    pub kid: Option<String>,
    pub kty: String,
    pub crv: Option<String>,
    pub alg: Option<String>,
    /// The key as a JSON object with only the public members WebCrypto needs.
    pub json: String,
}

impl Jwk {
    /// Whether this key can verify a token signed with `alg`.
    pub fn fits(&self, alg: Alg) -> bool {
        if let Some(a) = &self.alg {
            if a != alg.name() {
                return false;
            }
        }
        match alg {
            Alg::Rs256 => self.kty == "RSA",
            Alg::Es256 => self.kty == "EC" && self.crv.as_deref() == Some("P-256"),
        }
    }
}

/// A JSON Web Key Set (RFC 7517).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Jwks {
    pub keys: Vec<Jwk>,
}

impl Jwks {
    /// Parse a JWKS document. Keys of other types are skipped; a document that is not a
    /// JWKS, or has no usable key, is an error (so a typo in a setting is noticed).
    pub fn parse(json: &str) -> Result<Jwks, String> {
        let v: Value = serde_json::from_str(json).map_err(|e| alloc::format!("not JSON: {e}"))?;
        Self::from_value(&v)
    }

    pub fn from_value(v: &Value) -> Result<Jwks, String> {
        let keys = v
            .get("keys")
            .and_then(Value::as_array)
            .ok_or_else(|| String::from("expected an object with a \"keys\" array"))?;
        let mut out = Vec::new();
        for k in keys {
            let Some(kty) = k.get("kty").and_then(Value::as_str) else {
                return Err("a key has no \"kty\"".into());
            };
            let members: &[&str] = match kty {
                "RSA" => &["kty", "n", "e"],
                "EC" => &["kty", "crv", "x", "y"],
                _ => continue,
            };
            let mut public = Map::new();
            for m in members {
                match k.get(*m) {
                    Some(Value::String(s)) => {
                        public.insert((*m).into(), Value::String(s.clone()));
                    }
                    _ => return Err(alloc::format!("a {kty} key has no \"{m}\"")),
                }
            }
            let text = |name: &str| k.get(name).and_then(Value::as_str).map(String::from);
            out.push(Jwk {
                kid: text("kid"),
                kty: kty.into(),
                crv: text("crv"),
                alg: text("alg"),
                json: Value::Object(public).to_string(),
            });
        }
        if out.is_empty() {
            return Err("no RSA or EC key in the key set".into());
        }
        Ok(Jwks { keys: out })
    }

    /// The keys to try for a token: the key with the token's `kid` when it has one, else
    /// every key that fits the algorithm.
    pub fn candidates(&self, alg: Alg, kid: Option<&str>) -> Vec<&Jwk> {
        self.keys
            .iter()
            .filter(|k| k.fits(alg))
            .filter(|k| match kid {
                Some(kid) => k.kid.as_deref() == Some(kid),
                None => true,
            })
            .collect()
    }
}

/// Trusted keys for platform access tokens, per issuer (`iss` selects the set).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct IssuerKeys {
    pub issuers: Vec<(String, Jwks)>,
}

impl IssuerKeys {
    /// Parse `{"platform": {JWKS}, "ttd": {JWKS}}`.
    pub fn parse(json: &str) -> Result<IssuerKeys, String> {
        let v: Value = serde_json::from_str(json).map_err(|e| alloc::format!("not JSON: {e}"))?;
        let obj = v
            .as_object()
            .ok_or_else(|| String::from("expected an object mapping issuer to a JWKS"))?;
        let mut issuers = Vec::new();
        for (iss, jwks) in obj {
            let keys = Jwks::from_value(jwks).map_err(|e| alloc::format!("issuer '{iss}': {e}"))?;
            issuers.push((iss.clone(), keys));
        }
        Ok(IssuerKeys { issuers })
    }

    pub fn for_issuer(&self, iss: &str) -> Option<&Jwks> {
        self.issuers.iter().find(|(i, _)| i == iss).map(|(_, k)| k)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    use wasm_bindgen_test::wasm_bindgen_test;

    fn b64(s: &str) -> String {
        URL_SAFE_NO_PAD.encode(s.as_bytes())
    }

    fn token(header: &str, payload: &str) -> String {
        format!("{}.{}.{}", b64(header), b64(payload), b64("sig"))
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn parses_accepted_algorithms_only() {
        let t = token(
            r#"{"alg":"ES256","kid":"k1"}"#,
            r#"{"exp":10,"urn:altinn:org":"ttd"}"#,
        );
        let u = parse(&t).unwrap();
        assert_eq!(u.alg, Alg::Es256);
        assert_eq!(u.kid.as_deref(), Some("k1"));
        assert_eq!(u.claims.org().as_deref(), Some("ttd"));
        assert_eq!(u.signature, b"sig");
        assert_eq!(u.signing_input, &t[..t.rfind('.').unwrap()]);

        for alg in ["none", "HS256", "RS512"] {
            let t = token(&format!(r#"{{"alg":"{alg}"}}"#), r#"{"exp":10}"#);
            assert_eq!(
                parse(&t).unwrap_err(),
                TokenError::UnsupportedAlgorithm(alg.into())
            );
        }
        for bad in [
            "",
            "a.b",
            "a.b.c.d",
            "!!.e30.c2ln",
            &format!("{}.{}.", b64(r#"{"alg":"ES256"}"#), b64("{}")),
        ] {
            assert_eq!(parse(bad).unwrap_err(), TokenError::Malformed, "{bad}");
        }
    }

    /// What jwt-compact's reading adds to the rules above: the header members it knows must
    /// have their registered types (as Altinn's and Maskinporten's tokens have them), and
    /// `exp`/`nbf`/`iat` must be NumericDates (RFC 7519 §2), which come back as integers.
    #[wasm_bindgen_test(unsupported = test)]
    fn header_and_dates_as_jwt_compact_reads_them() {
        let x5t = URL_SAFE_NO_PAD.encode([7u8; 20]);
        let header =
            format!(r#"{{"alg":"RS256","kid":"K","typ":"JWT","x5t":"{x5t}","x5c":["MII"]}}"#);
        let t = token(&header, r#"{"exp":10.9,"nbf":1,"iat":1,"scope":"s"}"#);
        let u = parse(&t).unwrap();
        assert_eq!(u.claims.seconds("exp"), Some(10));
        assert_eq!(u.claims.text("exp").as_deref(), Some("10"));
        assert_eq!(u.claims.text("scope").as_deref(), Some("s"));
        assert_eq!(u.kid.as_deref(), Some("K"));
        let empty_kid = token(r#"{"alg":"ES256","kid":""}"#, r#"{"exp":10}"#);
        assert_eq!(parse(&empty_kid).unwrap().kid, None);
        for (header, payload) in [
            (r#"{"alg":"RS256","typ":1}"#, r#"{"exp":10}"#),
            (r#"{"alg":"RS256","cty":"cbor"}"#, r#"{"exp":10}"#),
            (r#"{"kid":"k"}"#, r#"{"exp":10}"#),
            (r#"{"alg":"RS256"}"#, r#"{"exp":"10"}"#),
            (r#"{"alg":"RS256"}"#, r#"{"exp":null}"#),
            (r#"{"alg":"RS256"}"#, r#"{"iat":"yesterday","exp":10}"#),
            (r#"{"alg":"RS256"}"#, r#"{"exp":9223372036854775807}"#),
            (r#"{"alg":"RS256"}"#, "[]"),
        ] {
            assert_eq!(
                parse(&token(header, payload)).unwrap_err(),
                TokenError::Malformed,
                "{header} {payload}"
            );
        }
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn lifetime_has_zero_skew() {
        let c = |v: Value| Claims::new(v.as_object().cloned().unwrap_or_default());
        assert_eq!(
            check_lifetime(&c(serde_json::json!({"exp": 100})), 100),
            Ok(())
        );
        assert_eq!(
            check_lifetime(&c(serde_json::json!({"exp": 100})), 101),
            Err(TokenError::Expired)
        );
        assert_eq!(
            check_lifetime(&c(serde_json::json!({})), 1),
            Err(TokenError::MissingExpiry)
        );
        assert_eq!(
            check_lifetime(&c(serde_json::json!({"exp": 100, "nbf": 50})), 49),
            Err(TokenError::NotYetValid)
        );
        assert_eq!(
            check_lifetime(&c(serde_json::json!({"exp": 100, "nbf": 50})), 50),
            Ok(())
        );
        assert_eq!(
            check_lifetime(&c(serde_json::json!({"exp": 100, "nbf": 100})), 100),
            Ok(())
        );
        // Seconds outside chrono's range are refused, never clamped.
        assert_eq!(
            check_lifetime(&c(serde_json::json!({"exp": i64::MAX})), 1),
            Err(TokenError::Malformed)
        );
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn key_selection() {
        let jwks = Jwks::parse(
            r#"{"keys":[
            {"kty":"EC","crv":"P-256","x":"X","y":"Y","kid":"e1","d":"secret"},
            {"kty":"RSA","n":"N","e":"AQAB","kid":"r1","alg":"RS256"},
            {"kty":"EC","crv":"P-256","x":"X2","y":"Y2"},
            {"kty":"oct","k":"zzz"}]}"#,
        )
        .unwrap();
        assert_eq!(jwks.keys.len(), 3);
        assert!(
            !jwks.keys[0].json.contains("secret"),
            "private members are dropped"
        );
        assert_eq!(jwks.candidates(Alg::Es256, Some("e1")).len(), 1);
        assert_eq!(jwks.candidates(Alg::Es256, None).len(), 2);
        assert_eq!(jwks.candidates(Alg::Rs256, Some("e1")).len(), 0);
        assert_eq!(jwks.candidates(Alg::Es256, Some("nope")).len(), 0);
        assert!(Jwks::parse(r#"{"keys":[]}"#).is_err());
        assert!(Jwks::parse("[1]").is_err());
        let iss = IssuerKeys::parse(r#"{"platform":{"keys":[{"kty":"RSA","n":"N","e":"AQAB"}]}}"#)
            .unwrap();
        assert!(iss.for_issuer("platform").is_some());
        assert!(iss.for_issuer("ttd").is_none());
        assert!(IssuerKeys::parse(r#"{"platform":{}}"#).is_err());
    }
}
