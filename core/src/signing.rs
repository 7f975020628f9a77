//! Signed webhooks as the Standard Webhooks specification describes them: every delivery
//! carries `webhook-id`, `webhook-timestamp` and `webhook-signature`, where a signature is
//! `v1,` and the base64 of HMAC-SHA256 over `"{id}.{timestamp}.{body}"` keyed with the
//! subscription's secret. The HMAC itself is computed by the worker (WebCrypto); this module
//! owns the secret's format, what is signed, the header values and the rotation rule.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde::{Deserialize, Serialize};

use crate::subscription::SubscriptionId;
use crate::time::UnixTime;

/// Random bytes in a new secret (the specification asks for 24 to 64).
pub const SECRET_BYTES: usize = 32;
/// The prefix of a secret's text form.
pub const SECRET_PREFIX: &str = "whsec_";
/// How long deliveries are also signed with the previous secret after a rotation.
pub const ROTATION_OVERLAP_MS: i64 = 24 * 3_600_000;

/// The headers of a signed delivery.
pub const HEADER_ID: &str = "webhook-id";
pub const HEADER_TIMESTAMP: &str = "webhook-timestamp";
pub const HEADER_SIGNATURE: &str = "webhook-signature";

/// A subscription's signing secret, `whsec_<base64 of the key>`. Its `Debug` form hides the key.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Secret {
    text: String,
    key: Vec<u8>,
}

/// A stored secret that is not `whsec_` and base64 of 24 to 64 bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BadSecret;

impl fmt::Display for BadSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("not a signing secret (whsec_ and base64 of 24 to 64 bytes)")
    }
}

impl Secret {
    /// A secret with these random bytes as its key.
    pub fn from_random(bytes: [u8; SECRET_BYTES]) -> Secret {
        Secret {
            text: format!("{SECRET_PREFIX}{}", STANDARD.encode(bytes)),
            key: bytes.to_vec(),
        }
    }

    /// The secret in its text form.
    pub fn parse(text: &str) -> Result<Secret, BadSecret> {
        let encoded = text.strip_prefix(SECRET_PREFIX).ok_or(BadSecret)?;
        let key = STANDARD.decode(encoded).map_err(|_| BadSecret)?;
        if !(24..=64).contains(&key.len()) {
            return Err(BadSecret);
        }
        Ok(Secret {
            text: String::from(text),
            key,
        })
    }

    /// The text form, `whsec_…`, as the subscriber is given it.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The HMAC key.
    pub fn key(&self) -> &[u8] {
        &self.key
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(…)")
    }
}

impl TryFrom<String> for Secret {
    type Error = BadSecret;
    fn try_from(text: String) -> Result<Secret, BadSecret> {
        Secret::parse(&text)
    }
}

impl From<Secret> for String {
    fn from(secret: Secret) -> String {
        secret.text
    }
}

/// A subscription's secrets: the current one and, for [`ROTATION_OVERLAP_MS`] after a rotation,
/// the previous one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Signing {
    pub current: Secret,
    pub previous: Option<(Secret, UnixTime)>,
}

impl Signing {
    pub fn new(current: Secret) -> Signing {
        Signing {
            current,
            previous: None,
        }
    }

    /// `next` becomes the current secret; the current one still signs until a day from `now`.
    pub fn rotate(&mut self, now: UnixTime, next: Secret) {
        let previous = core::mem::replace(&mut self.current, next);
        self.previous = Some((previous, now.plus_millis(ROTATION_OVERLAP_MS)));
    }

    /// The secrets a delivery at `now` is signed with: the current one first.
    pub fn active(&self, now: UnixTime) -> Vec<&Secret> {
        let mut secrets = alloc::vec![&self.current];
        if let Some((previous, until)) = &self.previous {
            if now < *until {
                secrets.push(previous);
            }
        }
        secrets
    }
}

/// The `webhook-id` of a queue entry: stable over every attempt of one event for one
/// subscription (also after the dead letter is redelivered). `message` is the queue position the
/// event first had.
pub fn webhook_id(subscription: SubscriptionId, message: i64) -> String {
    format!("msg_{subscription}_{message}")
}

/// The `webhook-timestamp` of an attempt at `now`: unix seconds.
pub fn timestamp(now: UnixTime) -> String {
    format!("{}", now.as_millis().div_euclid(1000))
}

/// What is signed: `"{id}.{timestamp}.{body}"`.
pub fn signed_content(id: &str, timestamp: &str, body: &str) -> String {
    format!("{id}.{timestamp}.{body}")
}

/// The `webhook-signature` value for these HMAC results (one per active secret),
/// space-separated `v1,<base64>`.
pub fn signature_header<M: AsRef<[u8]>>(macs: &[M]) -> String {
    let mut header = String::new();
    for mac in macs {
        if !header.is_empty() {
            header.push(' ');
        }
        header.push_str("v1,");
        header.push_str(&STANDARD.encode(mac.as_ref()));
    }
    header
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test(unsupported = test)]
    fn a_secret_round_trips_through_its_text() {
        let secret = Secret::from_random([7; SECRET_BYTES]);
        assert!(secret.as_str().starts_with("whsec_"));
        let parsed = Secret::parse(secret.as_str()).unwrap();
        assert_eq!(parsed, secret);
        assert_eq!(parsed.key(), &[7; SECRET_BYTES]);
        assert_eq!(format!("{secret:?}"), "Secret(…)");
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn bad_secrets_are_refused() {
        for text in [
            "",
            "whsec_",
            "whsec_!!!!",
            "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            // 16 bytes: too short.
            "whsec_AAAAAAAAAAAAAAAAAAAAAA==",
        ] {
            assert_eq!(Secret::parse(text), Err(BadSecret), "{text}");
        }
        // The specification's example secret (24 bytes).
        assert!(Secret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").is_ok());
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn the_previous_secret_signs_for_a_day_after_a_rotation() {
        let a = Secret::from_random([1; SECRET_BYTES]);
        let b = Secret::from_random([2; SECRET_BYTES]);
        let mut signing = Signing::new(a.clone());
        let t0 = UnixTime::from_millis(1_000_000);
        assert_eq!(signing.active(t0), vec![&a]);
        signing.rotate(t0, b.clone());
        assert_eq!(signing.active(t0), vec![&b, &a]);
        let later = t0.plus_millis(ROTATION_OVERLAP_MS - 1);
        assert_eq!(signing.active(later), vec![&b, &a]);
        assert_eq!(signing.active(later.plus_millis(1)), vec![&b]);
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn header_values() {
        assert_eq!(webhook_id(SubscriptionId(42), 7), "msg_42_7");
        assert_eq!(
            timestamp(UnixTime::from_millis(1_674_087_231_999)),
            "1674087231"
        );
        assert_eq!(signed_content("msg_1", "5", "{}"), "msg_1.5.{}");
        assert_eq!(signature_header(&[[0u8; 2], [255u8; 2]]), "v1,AAA= v1,//8=");
    }
}
