//! The Maskinporten token exchange (`GET /authentication/api/v1/exchange/maskinporten`) for
//! deployments outside Altinn: when it is enabled, what a Maskinporten access token must carry,
//! which organisation it speaks for, and the Altinn token the service issues in return. The
//! signature checks and the signing itself are the platform's job (WebCrypto in the worker);
//! time comes in as `now` (Unix seconds).

use alloc::borrow::ToOwned;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::identity::Claims;
use crate::json::to_json;
use crate::token::{self, Alg, Jwk, TokenError};

/// Where the service publishes its own OpenID configuration, below its base URL; also the `iss`
/// of the tokens it issues (base URL + this).
pub const OPENID_PATH: &str = "/authentication/api/v1/openid/";

/// The longest lifetime of an exchanged token (and never beyond the Maskinporten token's `exp`).
pub const MAX_LIFETIME_SECS: i64 = 1800;

/// The ISO 6523 scheme of Norwegian organisation numbers in Maskinporten's `consumer.ID`.
const ORG_NUMBER_SCHEME: &str = "0192:";

/// The settings that enable the exchange, named for messages.
pub const ENABLING_SETTINGS: &str =
    "MASKINPORTEN_WELLKNOWN (or MASKINPORTEN_JWKS), MASKINPORTEN_ISSUER and TOKEN_SIGNING_JWK";

/// Which of the enabling settings are given.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExchangeSettings {
    pub maskinporten_keys: bool,
    pub maskinporten_issuer: bool,
    pub signing_key: bool,
}

impl ExchangeSettings {
    /// `Ok` when the exchange is enabled (every setting given); otherwise the sentence the
    /// 404 problem carries, naming the settings that are missing.
    pub fn enabled(self) -> Result<(), String> {
        let mut missing = Vec::new();
        if !self.maskinporten_keys {
            missing.push("MASKINPORTEN_WELLKNOWN (or MASKINPORTEN_JWKS)");
        }
        if !self.maskinporten_issuer {
            missing.push("MASKINPORTEN_ISSUER");
        }
        if !self.signing_key {
            missing.push("TOKEN_SIGNING_JWK");
        }
        if missing.is_empty() {
            return Ok(());
        }
        Err(format!(
            "The Maskinporten token exchange is not enabled on this service. It is enabled by \
             the settings {ENABLING_SETTINGS}; missing: {}.",
            missing.join(", ")
        ))
    }
}

/// The `iss` of tokens the service issues: its public base URL + [`OPENID_PATH`].
pub fn issuer(base_url: &str) -> String {
    format!("{}{OPENID_PATH}", base_url.trim_end_matches('/'))
}

/// The OpenID configuration document the service publishes.
pub fn openid_configuration(base_url: &str) -> Value {
    let issuer = issuer(base_url);
    let mut m = Map::new();
    m.insert("issuer".into(), Value::String(issuer.clone()));
    m.insert(
        "jwks_uri".into(),
        Value::String(format!("{issuer}.well-known/openid-configuration/jwks")),
    );
    Value::Object(m)
}

/// Nine ASCII digits.
pub fn is_org_number(s: &str) -> bool {
    s.len() == 9 && s.bytes().all(|b| b.is_ascii_digit())
}

/// An org code as used in `urn:altinn:org` (`ttd`, `digdir`): 1–64 ASCII letters, digits, `-`.
pub fn check_org_code(org: &str) -> Result<(), String> {
    let ok = !org.is_empty()
        && org.len() <= 64
        && org.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "'{org}' is not an org code: expected 1 to 64 letters, digits or '-' (e.g. 'ttd')."
        ))
    }
}

/// An org code and the organisation number it stands for
/// (`PUT /events/api/v1/admin/orgs/{org}`, body `{"orgNumber": "991825827"}`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OrgRegistration {
    pub org: String,
    pub org_number: String,
}

impl OrgRegistration {
    /// Parse the admin body for `org`. Every problem is a sentence for a 400.
    pub fn parse(org: &str, body: &[u8]) -> Result<OrgRegistration, String> {
        check_org_code(org)?;
        let v: Value = serde_json::from_slice(body)
            .map_err(|e| format!("The body is not a JSON object: {e}"))?;
        let obj = v.as_object().ok_or_else(|| {
            String::from("The body must be a JSON object {\"orgNumber\": \"…\"}.")
        })?;
        if let Some(other) = obj.keys().find(|k| k.as_str() != "orgNumber") {
            return Err(format!(
                "Unknown member '{other}': the body is {{\"orgNumber\": \"…\"}}."
            ));
        }
        let number = match obj.get("orgNumber") {
            Some(Value::String(s)) => s.clone(),
            Some(_) => return Err("orgNumber must be a string of 9 digits.".into()),
            None => return Err("orgNumber is required (9 digits).".into()),
        };
        if !is_org_number(&number) {
            return Err(format!(
                "'{number}' is not an organisation number: expected 9 digits."
            ));
        }
        Ok(OrgRegistration {
            org: org.to_owned(),
            org_number: number,
        })
    }

    /// The stored and returned document.
    pub fn to_json(&self) -> String {
        to_json(self)
    }

    /// The organisation number whose index entry is left behind when this (stored)
    /// registration is replaced by `new` (`None`: deleted): this one's number, unless `new`
    /// keeps it.
    pub fn left_behind_index(&self, new: Option<&OrgRegistration>) -> Option<&str> {
        match new {
            Some(new) if new.org_number == self.org_number => None,
            _ => Some(&self.org_number),
        }
    }

    /// Whether this index entry (as stored under an organisation number) is still `org`'s, so
    /// that `org` leaving the number drops it. Org codes compare without case; an entry that
    /// names another org belongs to that org now and stays.
    pub fn is_index_of(&self, org: &str) -> bool {
        self.org.eq_ignore_ascii_case(org)
    }

    /// A stored document (see [`to_json`](Self::to_json)); `None` if it is not one.
    pub fn from_stored(text: &str) -> Option<OrgRegistration> {
        let v: Value = serde_json::from_str(text).ok()?;
        let org = v.get("org")?.as_str()?.to_owned();
        let org_number = v.get("orgNumber")?.as_str()?.to_owned();
        Some(OrgRegistration { org, org_number })
    }
}

/// What the exchange takes from a verified Maskinporten access token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MaskinportenToken {
    pub org_number: String,
    pub scope: String,
    pub exp: i64,
}

/// Why a Maskinporten token (whose signature verified) is refused; each is a 401.
pub fn check_maskinporten_claims(
    claims: &Claims,
    expected_issuer: &str,
    now: i64,
) -> Result<MaskinportenToken, TokenError> {
    let iss = claims.issuer().unwrap_or_default();
    if iss != expected_issuer {
        return Err(TokenError::UnknownIssuer(iss));
    }
    token::check_lifetime(claims, now)?;
    let exp = claims.seconds("exp").ok_or(TokenError::MissingExpiry)?;
    let org_number = consumer_org_number(claims).ok_or(TokenError::Malformed)?;
    Ok(MaskinportenToken {
        org_number,
        scope: claims.text("scope").unwrap_or_default(),
        exp,
    })
}

/// The organisation number of Maskinporten's `consumer` claim
/// (`{"authority": "iso6523-actorid-upis", "ID": "0192:991825827"}`).
pub fn consumer_org_number(claims: &Claims) -> Option<String> {
    let id = claims.as_map().get("consumer")?.get("ID")?.as_str()?;
    let number = id.strip_prefix(ORG_NUMBER_SCHEME)?;
    is_org_number(number).then(|| number.to_owned())
}

/// The claims of the Altinn token issued for `mp` at `now`: `urn:altinn:org` only when the
/// organisation number is registered, `exp` = the earlier of the Maskinporten token's and
/// `now` + [`MAX_LIFETIME_SECS`].
pub fn altinn_claims(
    mp: &MaskinportenToken,
    org: Option<&str>,
    issuer: &str,
    now: i64,
) -> Map<String, Value> {
    let mut m = Map::new();
    if let Some(org) = org {
        m.insert("urn:altinn:org".into(), Value::String(org.to_owned()));
    }
    m.insert(
        "urn:altinn:orgNumber".into(),
        Value::String(mp.org_number.clone()),
    );
    m.insert(
        "urn:altinn:authenticatemethod".into(),
        "maskinporten".into(),
    );
    m.insert("urn:altinn:authlevel".into(), 3.into());
    m.insert("scope".into(), Value::String(mp.scope.clone()));
    m.insert("iss".into(), Value::String(issuer.to_owned()));
    m.insert("iat".into(), now.into());
    m.insert("nbf".into(), now.into());
    m.insert("exp".into(), expiry(mp.exp, now).into());
    m
}

/// The `exp` of an exchanged token.
pub fn expiry(maskinporten_exp: i64, now: i64) -> i64 {
    maskinporten_exp.min(now.saturating_add(MAX_LIFETIME_SECS))
}

/// `base64url(header) "." base64url(claims)`: what the signing key signs.
pub fn signing_input(key: &SigningKey, claims: &Map<String, Value>) -> String {
    #[derive(Serialize)]
    struct Header<'a> {
        alg: &'a str,
        kid: &'a str,
        typ: &'a str,
    }
    let header = to_json(&Header {
        alg: key.alg.name(),
        kid: &key.kid,
        typ: "JWT",
    });
    let payload = Value::Object(claims.clone()).to_string();
    format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.as_bytes()),
        URL_SAFE_NO_PAD.encode(payload.as_bytes())
    )
}

/// The compact JWS: the signing input and the signature (raw `r||s` for ES256, as WebCrypto
/// produces it).
pub fn compact(signing_input: &str, signature: &[u8]) -> String {
    format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(signature))
}

/// The service's own signing key (`TOKEN_SIGNING_JWK`): a private JWK, RSA (RS256) or P-256
/// (ES256), with a `kid`.
#[derive(Clone, Debug, PartialEq)]
pub struct SigningKey {
    pub alg: Alg,
    pub kid: String,
    /// The private JWK as WebCrypto imports it (key material only).
    pub private_json: String,
    /// The public half, as a trusted key.
    pub public: Jwk,
    /// The public half's members, for the published key set.
    public_members: Map<String, Value>,
}

impl SigningKey {
    /// Parse a private JWK. A public key, another key type or curve, an `alg` that does not fit
    /// the key, or a missing `kid` is an error (for the 500 naming the setting).
    pub fn parse(json: &str) -> Result<SigningKey, String> {
        let v: Value = serde_json::from_str(json).map_err(|e| format!("not JSON: {e}"))?;
        let k = v
            .as_object()
            .ok_or_else(|| String::from("expected a private JWK (a JSON object)"))?;
        let text = |name: &str| k.get(name).and_then(Value::as_str);
        let kid = text("kid")
            .filter(|s| !s.is_empty())
            .ok_or_else(|| String::from("the JWK has no \"kid\""))?;
        let (alg, public_members, private_members): (Alg, &[&str], &[&str]) = match text("kty") {
            Some("RSA") => (Alg::Rs256, &["kty", "n", "e"], &["d"]),
            Some("EC") if text("crv") == Some("P-256") => {
                (Alg::Es256, &["kty", "crv", "x", "y"], &["d"])
            }
            Some("EC") => return Err("an EC key must be on curve P-256 (ES256)".into()),
            Some(other) => {
                return Err(format!(
                    "key type \"{other}\" is not supported (RSA for RS256, EC P-256 for ES256)"
                ))
            }
            None => return Err("the JWK has no \"kty\"".into()),
        };
        if let Some(a) = text("alg") {
            if a != alg.name() {
                return Err(format!("\"alg\" is {a}, but the key is for {}", alg.name()));
            }
        }
        let mut public = Map::new();
        let mut private = Map::new();
        for m in public_members.iter().chain(private_members) {
            let Some(value) = text(m) else {
                return Err(if private_members.contains(m) {
                    format!("the JWK has no \"{m}\": a private key is needed to sign")
                } else {
                    format!("the JWK has no \"{m}\"")
                });
            };
            if public_members.contains(m) {
                public.insert((*m).into(), Value::String(value.into()));
            }
            private.insert((*m).into(), Value::String(value.into()));
        }
        // RFC 7518 §6.3.2: the CRT members come all together or not at all.
        if alg == Alg::Rs256 {
            const CRT: [&str; 5] = ["p", "q", "dp", "dq", "qi"];
            let present: Vec<&str> = CRT.iter().copied().filter(|m| text(m).is_some()).collect();
            if !present.is_empty() && present.len() != CRT.len() {
                let absent: Vec<&str> = CRT.iter().copied().filter(|m| text(m).is_none()).collect();
                return Err(format!(
                    "the RSA JWK has {} but not {} (RFC 7518 §6.3.2: all of p, q, dp, dq, qi or none)",
                    present.join(", "),
                    absent.join(", ")
                ));
            }
            for m in present {
                if let Some(v) = text(m) {
                    private.insert(m.into(), Value::String(v.into()));
                }
            }
        }
        Ok(SigningKey {
            alg,
            kid: kid.into(),
            private_json: Value::Object(private).to_string(),
            public: Jwk {
                kid: Some(kid.into()),
                kty: text("kty").unwrap_or_default().into(),
                crv: text("crv").map(String::from),
                alg: Some(alg.name().into()),
                json: Value::Object(public.clone()).to_string(),
            },
            public_members: public,
        })
    }

    /// The public key set to publish: `{"keys": [{kty, n/e or crv/x/y, kid, alg, use}]}`.
    pub fn public_jwks(&self) -> Value {
        let mut key = self.public_members.clone();
        key.insert("kid".into(), Value::String(self.kid.clone()));
        key.insert("alg".into(), self.alg.name().into());
        key.insert("use".into(), "sig".into());
        let mut set = Map::new();
        set.insert("keys".into(), Value::Array(alloc::vec![Value::Object(key)]));
        Value::Object(set)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use wasm_bindgen_test::wasm_bindgen_test;

    fn claims(v: Value) -> Claims {
        Claims::new(v.as_object().cloned().unwrap_or_default())
    }

    const EC: &str =
        r#"{"kty":"EC","crv":"P-256","x":"X","y":"Y","d":"D","kid":"k1","alg":"ES256"}"#;

    #[wasm_bindgen_test(unsupported = test)]
    fn enabled_only_with_every_setting() {
        let all = ExchangeSettings {
            maskinporten_keys: true,
            maskinporten_issuer: true,
            signing_key: true,
        };
        assert_eq!(all.enabled(), Ok(()));
        let msg = ExchangeSettings {
            maskinporten_issuer: false,
            signing_key: false,
            ..all
        }
        .enabled()
        .unwrap_err();
        assert!(msg.starts_with("The Maskinporten token exchange is not enabled"));
        assert!(
            msg.ends_with("missing: MASKINPORTEN_ISSUER, TOKEN_SIGNING_JWK."),
            "{msg}"
        );
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn consumer_is_an_iso6523_org_number() {
        let c = |id: Value| {
            claims(json!({"consumer": {"authority": "iso6523-actorid-upis", "ID": id}}))
        };
        assert_eq!(
            consumer_org_number(&c(json!("0192:991825827"))).as_deref(),
            Some("991825827")
        );
        for bad in [
            json!("991825827"),
            json!("0192:99182582"),
            json!("0192:9918258270"),
            json!("0192:99182582x"),
            json!("0007:991825827"),
            json!(991825827),
        ] {
            assert_eq!(consumer_org_number(&c(bad.clone())), None, "{bad}");
        }
        assert_eq!(consumer_org_number(&claims(json!({}))), None);
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn maskinporten_claims_are_checked() {
        let iss = "https://test.maskinporten.no/";
        let good = json!({"iss": iss, "exp": 200, "scope": "altinn:events.publish",
            "consumer": {"ID": "0192:991825827"}});
        let mp = check_maskinporten_claims(&claims(good.clone()), iss, 100).unwrap();
        assert_eq!(
            mp,
            MaskinportenToken {
                org_number: "991825827".into(),
                scope: "altinn:events.publish".into(),
                exp: 200
            }
        );
        let with = |k: &str, v: Value| {
            let mut g = good.clone();
            g[k] = v;
            claims(g)
        };
        assert_eq!(
            check_maskinporten_claims(&with("iss", json!("https://evil/")), iss, 100),
            Err(TokenError::UnknownIssuer("https://evil/".into()))
        );
        assert_eq!(
            check_maskinporten_claims(&claims(good.clone()), iss, 201),
            Err(TokenError::Expired)
        );
        assert_eq!(
            check_maskinporten_claims(&with("nbf", json!(150)), iss, 100),
            Err(TokenError::NotYetValid)
        );
        let mut no_exp = good.clone();
        no_exp.as_object_mut().unwrap().remove("exp");
        assert_eq!(
            check_maskinporten_claims(&claims(no_exp), iss, 100),
            Err(TokenError::MissingExpiry)
        );
        assert_eq!(
            check_maskinporten_claims(&with("consumer", json!({"ID": "x"})), iss, 100),
            Err(TokenError::Malformed)
        );
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn altinn_claims_and_expiry() {
        let mp = MaskinportenToken {
            org_number: "991825827".into(),
            scope: "altinn:events.publish".into(),
            exp: 1_000_120,
        };
        let iss = issuer("http://127.0.0.1:8787/");
        assert_eq!(iss, "http://127.0.0.1:8787/authentication/api/v1/openid/");
        let c = altinn_claims(&mp, Some("ttd"), &iss, 1_000_000);
        assert_eq!(c["urn:altinn:org"], "ttd");
        assert_eq!(c["urn:altinn:orgNumber"], "991825827");
        assert_eq!(c["scope"], "altinn:events.publish");
        assert_eq!(c["iss"], iss.as_str());
        assert_eq!(c["iat"], 1_000_000);
        assert_eq!(c["exp"], 1_000_120, "never later than Maskinporten's exp");
        let c = altinn_claims(&mp, None, &iss, 1_000_000);
        assert!(!c.contains_key("urn:altinn:org"));
        assert_eq!(expiry(10_000, 0), MAX_LIFETIME_SECS);
        assert_eq!(expiry(10, 0), 10);
        assert_eq!(expiry(i64::MAX, i64::MAX), i64::MAX);
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn signing_keys() {
        let k = SigningKey::parse(EC).unwrap();
        assert_eq!((k.alg, k.kid.as_str()), (Alg::Es256, "k1"));
        assert!(k.private_json.contains("\"d\""));
        assert!(!k.public.json.contains("\"d\""));
        let jwks = k.public_jwks();
        assert_eq!(
            jwks,
            json!({"keys": [{"kty":"EC","crv":"P-256","x":"X","y":"Y","kid":"k1","alg":"ES256","use":"sig"}]})
        );
        let rsa = r#"{"kty":"RSA","n":"N","e":"AQAB","d":"D","p":"P","q":"Q","dp":"DP","dq":"DQ","qi":"QI","kid":"r"}"#;
        let k = SigningKey::parse(rsa).unwrap();
        assert_eq!(k.alg, Alg::Rs256);
        assert!(k.private_json.contains("\"qi\":\"QI\""));
        let no_crt = SigningKey::parse(r#"{"kty":"RSA","n":"N","e":"AQAB","d":"D","kid":"r"}"#);
        assert!(!no_crt.unwrap().private_json.contains("\"p\""));
        for private in ["\"d\"", "\"p\"", "\"q\"", "\"dp\"", "\"dq\"", "\"qi\""] {
            assert!(!k.public_jwks().to_string().contains(private), "{private}");
        }
        for (bad, why) in [
            ("nope", "not JSON"),
            ("[]", "expected a private JWK"),
            (
                r#"{"kty":"EC","crv":"P-256","x":"X","y":"Y","d":"D"}"#,
                "no \"kid\"",
            ),
            (
                r#"{"kty":"EC","crv":"P-256","x":"X","y":"Y","kid":"k"}"#,
                "a private key is needed",
            ),
            (
                r#"{"kty":"EC","crv":"P-384","x":"X","y":"Y","d":"D","kid":"k"}"#,
                "P-256",
            ),
            (r#"{"kty":"oct","k":"K","kid":"k"}"#, "not supported"),
            (
                r#"{"kty":"RSA","n":"N","e":"AQAB","d":"D","p":"P","q":"Q","kid":"k"}"#,
                "has p, q but not dp, dq, qi",
            ),
            (r#"{"kty":"RSA","n":"N","e":"AQAB","kid":"k"}"#, "no \"d\""),
            (
                r#"{"kty":"EC","crv":"P-256","x":"X","y":"Y","d":"D","kid":"k","alg":"RS256"}"#,
                "\"alg\" is RS256",
            ),
        ] {
            let e = SigningKey::parse(bad).unwrap_err();
            assert!(e.contains(why), "{bad}: {e}");
        }
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn compact_tokens() {
        let k = SigningKey::parse(EC).unwrap();
        let mut c = Map::new();
        c.insert("exp".into(), 5.into());
        let input = signing_input(&k, &c);
        let t = compact(&input, b"sig");
        let parsed = token::parse(&t).unwrap();
        assert_eq!(parsed.alg, Alg::Es256);
        assert_eq!(parsed.kid.as_deref(), Some("k1"));
        assert_eq!(parsed.claims.seconds("exp"), Some(5));
        assert_eq!(parsed.signing_input, input);
        let header = URL_SAFE_NO_PAD
            .decode(input.split('.').next().unwrap())
            .unwrap();
        assert_eq!(
            serde_json::from_slice::<Value>(&header).unwrap(),
            json!({"alg": "ES256", "kid": "k1", "typ": "JWT"})
        );
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn a_number_index_entry_is_dropped_only_by_the_org_it_names() {
        let reg = |org: &str, number: &str| OrgRegistration {
            org: org.into(),
            org_number: number.into(),
        };
        let old = reg("ttd", "991825827");
        // A PUT with the same number keeps the entry; another number or a DELETE leaves the
        // old number's entry behind.
        assert_eq!(old.left_behind_index(Some(&reg("ttd", "991825827"))), None);
        assert_eq!(
            old.left_behind_index(Some(&reg("ttd", "123456789"))),
            Some("991825827")
        );
        assert_eq!(old.left_behind_index(None), Some("991825827"));
        // That entry goes only if it still names this org (in any case).
        assert!(reg("ttd", "991825827").is_index_of("ttd"));
        assert!(reg("TTD", "991825827").is_index_of("ttd"));
        assert!(!reg("skd", "991825827").is_index_of("ttd"));
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn org_registrations() {
        let r = OrgRegistration::parse("ttd", br#"{"orgNumber":"991825827"}"#).unwrap();
        assert_eq!(r.to_json(), r#"{"org":"ttd","orgNumber":"991825827"}"#);
        assert_eq!(OrgRegistration::from_stored(&r.to_json()), Some(r));
        for (org, body, why) in [
            ("ttd", "{}", "orgNumber is required"),
            ("ttd", r#"{"orgNumber":"12345678"}"#, "expected 9 digits"),
            ("ttd", r#"{"orgNumber":991825827}"#, "must be a string"),
            (
                "ttd",
                r#"{"orgNumber":"991825827","x":1}"#,
                "Unknown member 'x'",
            ),
            ("ttd", "[1]", "must be a JSON object"),
            ("ttd", "{", "not a JSON object"),
            ("t t", r#"{"orgNumber":"991825827"}"#, "is not an org code"),
            ("", r#"{"orgNumber":"991825827"}"#, "is not an org code"),
        ] {
            let e = OrgRegistration::parse(org, body.as_bytes()).unwrap_err();
            assert!(e.contains(why), "{org} {body}: {e}");
        }
    }
}
