//! Key pairs as JSON Web Keys: generation (`rsa` / `p256`), the public JWK for Samarbeidsportalen,
//! the `EncodedJwk` form (base64 of the private JWK's JSON, as Altinn's Maskinporten client reads
//! it) and signing with `jwt-compact`.

use base64::engine::general_purpose::{STANDARD, URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine as _;
use jwt_compact::alg::{Es256, Rsa};
use jwt_compact::jwk::JsonWebKey;
use jwt_compact::{AlgorithmExt, Claims, Header};
use rsa::traits::PrivateKeyParts;
use rsa::RsaPrivateKey;
use serde::Serialize;
use serde_json::{json, Map, Value};

use crate::error::{Error, Result};

/// The signature algorithms Maskinporten accepts for a grant that this tool generates keys for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum KeyAlg {
    #[value(name = "RS256", alias = "rs256")]
    Rs256,
    #[value(name = "ES256", alias = "es256")]
    Es256,
}

impl KeyAlg {
    pub fn name(self) -> &'static str {
        match self {
            KeyAlg::Rs256 => "RS256",
            KeyAlg::Es256 => "ES256",
        }
    }
}

enum SigningKey {
    Rsa(Box<RsaPrivateKey>),
    Ec(p256::ecdsa::SigningKey),
}

/// A private key with its `kid` and algorithm.
pub struct KeyPair {
    pub kid: String,
    pub alg: KeyAlg,
    key: SigningKey,
}

impl KeyPair {
    /// A new key: RSA 2048 bits for RS256, P-256 for ES256.
    pub fn generate(alg: KeyAlg, kid: &str) -> Result<Self> {
        let key = match alg {
            KeyAlg::Rs256 => SigningKey::Rsa(Box::new(
                RsaPrivateKey::new(&mut rand_core::OsRng, 2048)
                    .map_err(|err| Error::Key(format!("cannot generate an RSA key: {err}")))?,
            )),
            KeyAlg::Es256 => SigningKey::Ec(p256::ecdsa::SigningKey::random(&mut rand_core::OsRng)),
        };
        Ok(KeyPair {
            kid: kid.to_owned(),
            alg,
            key,
        })
    }

    fn jwk_with(&self, jwk: JsonWebKey<'_>) -> Value {
        let mut map = match serde_json::to_value(jwk) {
            Ok(Value::Object(map)) => map,
            _ => Map::new(),
        };
        map.insert("kid".into(), json!(self.kid));
        map.insert("alg".into(), json!(self.alg.name()));
        map.insert("use".into(), json!("sig"));
        Value::Object(map)
    }

    /// The public JWK (`kty`, key material, `kid`, `alg`, `use`).
    pub fn public_jwk(&self) -> Value {
        match &self.key {
            SigningKey::Rsa(key) => self.jwk_with(JsonWebKey::from(&key.to_public_key())),
            SigningKey::Ec(key) => self.jwk_with(JsonWebKey::from(key.verifying_key())),
        }
    }

    /// The private JWK (the public one plus the private parts).
    pub fn private_jwk(&self) -> Value {
        match &self.key {
            SigningKey::Rsa(key) => {
                let mut jwk = self.jwk_with(JsonWebKey::from(key.as_ref()));
                // jwt-compact leaves out dp, dq and qi; RFC 7518 §6.3.2 wants all CRT members
                // or none, and WebCrypto (the worker's TOKEN_SIGNING_JWK) refuses p/q alone.
                if let (Some(map), Some(dp), Some(dq), Some(qi)) = (
                    jwk.as_object_mut(),
                    key.dp(),
                    key.dq(),
                    key.crt_coefficient(),
                ) {
                    let b64 = |n: &rsa::BigUint| json!(URL_SAFE_NO_PAD.encode(n.to_bytes_be()));
                    map.insert("dp".into(), b64(dp));
                    map.insert("dq".into(), b64(dq));
                    map.insert("qi".into(), b64(&qi));
                }
                jwk
            }
            SigningKey::Ec(key) => self.jwk_with(JsonWebKey::from(key)),
        }
    }

    /// `EncodedJwk`: standard base64 of the private JWK's JSON.
    pub fn encoded(&self) -> String {
        STANDARD.encode(self.private_jwk().to_string())
    }

    /// Reads a private JWK object; `alg` comes from the JWK or, failing that, from its key type.
    pub fn from_jwk(jwk: &Value) -> Result<Self> {
        let kid = jwk
            .get("kid")
            .and_then(Value::as_str)
            .filter(|kid| !kid.is_empty())
            .ok_or_else(|| {
                Error::Key("the JWK has no kid (Maskinporten finds the key by its kid)".into())
            })?
            .to_owned();
        let parsed: JsonWebKey<'_> = serde_json::from_value(jwk.clone())
            .map_err(|err| Error::Key(format!("not a JWK: {err}")))?;
        let not_private = |err: jwt_compact::jwk::JwkError| {
            Error::Key(format!(
                "the JWK '{kid}' is not a usable private key ({err}); a public JWK cannot sign"
            ))
        };
        let key = match jwk.get("kty").and_then(Value::as_str) {
            Some("RSA") => SigningKey::Rsa(Box::new(
                RsaPrivateKey::try_from(&parsed).map_err(not_private)?,
            )),
            Some("EC") => {
                SigningKey::Ec(p256::ecdsa::SigningKey::try_from(&parsed).map_err(not_private)?)
            }
            other => {
                return Err(Error::Key(format!(
                    "unsupported key type {other:?}: use an RSA (RS256) or P-256 EC (ES256) key"
                )))
            }
        };
        let alg = match (&key, jwk.get("alg").and_then(Value::as_str)) {
            (SigningKey::Rsa(_), None | Some("RS256")) => KeyAlg::Rs256,
            (SigningKey::Ec(_), None | Some("ES256")) => KeyAlg::Es256,
            (_, Some(alg)) => {
                return Err(Error::Key(format!(
                "the JWK '{kid}' says alg {alg}, which this tool does not sign with (RS256, ES256)"
            )))
            }
        };
        Ok(KeyPair { kid, alg, key })
    }

    /// Reads an `EncodedJwk` (base64, standard or URL-safe, of a private JWK's JSON).
    pub fn from_encoded(encoded: &str) -> Result<Self> {
        let encoded = encoded.trim();
        let bytes = STANDARD
            .decode(encoded)
            .or_else(|_| URL_SAFE.decode(encoded))
            .or_else(|_| URL_SAFE_NO_PAD.decode(encoded))
            .map_err(|err| Error::Key(format!("the EncodedJwk is not base64: {err}")))?;
        let jwk: Value = serde_json::from_slice(&bytes).map_err(|err| {
            Error::Key(format!("the EncodedJwk does not hold a JWK's JSON: {err}"))
        })?;
        Self::from_jwk(&jwk)
    }

    /// Reads a key file's text: a private JWK, the file `jwk new` writes (`{"jwk": ..}`), or an
    /// `EncodedJwk`.
    pub fn from_file_text(text: &str) -> Result<Self> {
        match serde_json::from_str::<Value>(text) {
            Ok(value) => match value.get("jwk") {
                Some(jwk) => Self::from_jwk(jwk),
                None => Self::from_jwk(&value),
            },
            Err(_) => Self::from_encoded(text),
        }
    }

    /// Signs `claims` as a compact JWS with `alg` and `kid` in the header.
    pub fn sign<T: Serialize>(&self, claims: &Claims<T>) -> Result<String> {
        let header = Header::empty()
            .with_key_id(self.kid.clone())
            .with_token_type("JWT");
        let signed = match &self.key {
            SigningKey::Rsa(key) => Rsa::rs256().token(&header, claims, key.as_ref()),
            SigningKey::Ec(key) => Es256.token(&header, claims, key),
        };
        signed.map_err(|err| Error::Key(format!("cannot sign with key '{}': {err}", self.kid)))
    }
}

/// What `jwk new` writes to its file: the key pair and its `EncodedJwk` form.
pub fn key_file_contents(key: &KeyPair) -> Value {
    json!({
        "kid": key.kid,
        "alg": key.alg.name(),
        "jwk": key.private_jwk(),
        "encodedJwk": key.encoded(),
        "publicJwks": [key.public_jwk()],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoded_jwk_round_trip() {
        for alg in [KeyAlg::Es256, KeyAlg::Rs256] {
            let key = KeyPair::generate(alg, "k-1").expect("generate");
            let encoded = key.encoded();
            let decoded = STANDARD.decode(&encoded).expect("standard base64");
            let jwk: Value = serde_json::from_slice(&decoded).expect("JSON");
            assert_eq!(jwk, key.private_jwk());
            let back = KeyPair::from_encoded(&encoded).expect("decode");
            assert_eq!(back.kid, "k-1");
            assert_eq!(back.alg, alg);
            assert_eq!(back.private_jwk(), key.private_jwk());
            // The key file and a bare JWK read back too.
            let file = key_file_contents(&key).to_string();
            assert_eq!(
                KeyPair::from_file_text(&file).expect("file").public_jwk(),
                key.public_jwk()
            );
            let bare = key.private_jwk().to_string();
            assert_eq!(
                KeyPair::from_file_text(&bare).expect("bare").public_jwk(),
                key.public_jwk()
            );
            assert_eq!(
                KeyPair::from_file_text(&encoded).expect("encoded").kid,
                "k-1"
            );
        }
    }

    #[test]
    fn public_jwk_has_no_private_parts() {
        let ec = KeyPair::generate(KeyAlg::Es256, "ec")
            .expect("ec")
            .public_jwk();
        assert_eq!(ec["kty"], "EC");
        assert_eq!(ec["crv"], "P-256");
        assert_eq!(ec["alg"], "ES256");
        assert_eq!(ec["use"], "sig");
        assert_eq!(ec["kid"], "ec");
        assert!(ec.get("d").is_none());
        let rsa = KeyPair::generate(KeyAlg::Rs256, "rsa")
            .expect("rsa")
            .public_jwk();
        assert_eq!(rsa["kty"], "RSA");
        assert_eq!(rsa["alg"], "RS256");
        for private in ["d", "p", "q", "dp", "dq", "qi"] {
            assert!(rsa.get(private).is_none(), "{private}");
        }
    }

    #[test]
    fn private_rsa_jwk_has_every_crt_member() {
        let key = KeyPair::generate(KeyAlg::Rs256, "rsa").expect("rsa");
        let jwk = key.private_jwk();
        for member in ["n", "e", "d", "p", "q", "dp", "dq", "qi"] {
            assert!(jwk[member].is_string(), "{member}: {jwk}");
        }
        let back = KeyPair::from_jwk(&jwk).expect("reads its own JWK");
        assert_eq!(back.private_jwk(), jwk);
    }

    #[test]
    fn public_keys_and_junk_are_refused() {
        let key = KeyPair::generate(KeyAlg::Es256, "ec").expect("ec");
        let err = KeyPair::from_jwk(&key.public_jwk())
            .err()
            .expect("public cannot sign");
        assert!(err.to_string().contains("public JWK cannot sign"), "{err}");
        let mut no_kid = key.private_jwk();
        no_kid.as_object_mut().expect("object").remove("kid");
        assert!(KeyPair::from_jwk(&no_kid)
            .err()
            .expect("no kid")
            .to_string()
            .contains("kid"));
        assert!(KeyPair::from_encoded("%%%").is_err());
        assert!(KeyPair::from_encoded(&STANDARD.encode("not json")).is_err());
    }
}
