//! Who is calling: token claims, the "consumer" entity string Altinn derives from them
//! (spec §3.4) and scope checks (spec §3.3).

use alloc::borrow::ToOwned;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

pub const CLAIM_ORG: &str = "urn:altinn:org";
pub const CLAIM_ORG_NUMBER: &str = "urn:altinn:orgNumber";
pub const CLAIM_USER_ID: &str = "urn:altinn:userid";
pub const CLAIM_PARTY_ID: &str = "urn:altinn:partyid";
pub const CLAIM_AUTH_LEVEL: &str = "urn:altinn:authlevel";
pub const CLAIM_APP: &str = "urn:altinn:app";

pub const SCOPE_PUBLISH: &str = "altinn:events.publish";
pub const SCOPE_SUBSCRIBE: &str = "altinn:events.subscribe";
pub const SCOPE_PUBLISH_ADMIN: &str = "altinn:events.publish.admin";

/// The claims of a verified token.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Claims(Map<String, Value>);

impl Claims {
    pub fn new(map: Map<String, Value>) -> Self {
        Claims(map)
    }

    pub fn as_map(&self) -> &Map<String, Value> {
        &self.0
    }

    /// A claim as text: strings as they are, numbers and booleans as their JSON text
    /// (CONTRACT §5: numeric claims may come as numbers or strings).
    pub fn text(&self, name: &str) -> Option<String> {
        match self.0.get(name)? {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(if *b { "true".into() } else { "false".into() }),
            _ => None,
        }
    }

    /// A claim as non-empty text.
    pub fn non_empty(&self, name: &str) -> Option<String> {
        self.text(name).filter(|s| !s.is_empty())
    }

    /// A numeric claim in seconds (`exp`, `nbf`, `iat`), accepting integer or float JSON.
    pub fn seconds(&self, name: &str) -> Option<i64> {
        match self.0.get(name)? {
            Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
            Value::String(s) => s.parse().ok(),
            _ => None,
        }
    }

    pub fn org(&self) -> Option<String> {
        self.non_empty(CLAIM_ORG)
    }
    pub fn org_number(&self) -> Option<String> {
        self.non_empty(CLAIM_ORG_NUMBER)
    }
    pub fn user_id(&self) -> Option<String> {
        self.non_empty(CLAIM_USER_ID)
    }
    pub fn party_id(&self) -> Option<String> {
        self.non_empty(CLAIM_PARTY_ID)
    }
    pub fn auth_level(&self) -> Option<i64> {
        self.text(CLAIM_AUTH_LEVEL)?.parse().ok()
    }
    pub fn issuer(&self) -> Option<String> {
        self.non_empty("iss")
    }
    pub fn app(&self) -> Option<String> {
        self.non_empty(CLAIM_APP)
    }

    /// The raw scope string (space separated).
    pub fn scope(&self) -> Option<String> {
        self.text("urn:altinn:scope").or_else(|| self.text("scope"))
    }

    /// The scopes, split on single spaces.
    pub fn scopes(&self) -> Vec<String> {
        match self.scope() {
            Some(s) => s
                .split(' ')
                .filter(|x| !x.is_empty())
                .map(ToOwned::to_owned)
                .collect(),
            None => Vec::new(),
        }
    }

    /// Scope check of the authorization *policies* (case-sensitive, spec §3.3).
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scope()
            .is_some_and(|s| s.split(' ').any(|x| x == scope))
    }

    /// Scope check of Altinn's own `HasRequiredScope` (case-insensitive, whole token).
    pub fn has_scope_ignore_case(&self, scope: &str) -> bool {
        self.scope()
            .is_some_and(|s| s.split(' ').any(|x| x.eq_ignore_ascii_case(scope)))
    }

    /// The system user id of `authorization_details` (one object or an array of them):
    /// the first `systemuser_id` element that is a non-nil GUID, lower-cased.
    pub fn system_user_id(&self) -> Option<String> {
        let details = self.0.get("authorization_details")?;
        let candidates: Vec<&Value> = match details {
            Value::Array(items) => items.iter().collect(),
            Value::Object(_) => alloc::vec![details],
            // Some issuers put the JSON in a string claim.
            Value::String(s) => {
                return serde_json::from_str::<Value>(s).ok().and_then(|v| {
                    let mut m = Map::new();
                    m.insert("authorization_details".into(), v);
                    Claims(m).system_user_id()
                })
            }
            _ => return None,
        };
        candidates.into_iter().find_map(|d| {
            let first = match d.get("systemuser_id")? {
                Value::Array(ids) => ids.first()?.as_str()?,
                Value::String(s) => s.as_str(),
                _ => return None,
            };
            parse_guid(first).filter(|g| g != "00000000-0000-0000-0000-000000000000")
        })
    }

    /// The organisation number a system user acts for (`systemuser_org.ID` = `0192:{orgno}`).
    pub fn system_user_org_number(&self) -> Option<String> {
        let details = self.0.get("authorization_details")?;
        let items: Vec<&Value> = match details {
            Value::Array(items) => items.iter().collect(),
            other => alloc::vec![other],
        };
        items.into_iter().find_map(|d| {
            let id = d.get("systemuser_org")?.get("ID")?.as_str()?;
            Some(id.rsplit(':').next().unwrap_or(id).to_owned())
        })
    }
}

/// Parse a GUID in any of .NET's common forms (`D`, `N`, `B`, `P`) into lower-case `D` form.
pub fn parse_guid(s: &str) -> Option<String> {
    let s = s.trim();
    let inner =
        if (s.starts_with('{') && s.ends_with('}')) || (s.starts_with('(') && s.ends_with(')')) {
            &s[1..s.len().saturating_sub(1)]
        } else {
            s
        };
    let hex: String = match inner.len() {
        32 => inner.to_owned(),
        36 => {
            let b = inner.as_bytes();
            if [8, 13, 18, 23].iter().any(|&i| b.get(i) != Some(&b'-')) {
                return None;
            }
            inner.chars().filter(|c| *c != '-').collect()
        }
        _ => return None,
    };
    if hex.len() != 32 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let hex = hex.to_ascii_lowercase();
    let mut out = String::with_capacity(36);
    for (i, part) in [(0, 8), (8, 12), (12, 16), (16, 20), (20, 32)]
        .iter()
        .enumerate()
    {
        if i > 0 {
            out.push('-');
        }
        out.push_str(&hex[part.0..part.1]);
    }
    Some(out)
}

/// Format 16 random bytes as a version-4 GUID (lower-case, hyphenated).
pub fn guid_from_random(mut bytes: [u8; 16]) -> String {
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let mut out = String::with_capacity(36);
    for (i, b) in bytes.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            out.push('-');
        }
        out.push(crate::json::hex_digit(b >> 4));
        out.push(crate::json::hex_digit(*b));
    }
    out
}

/// The entity string Altinn records as a subscription's `consumer`/`createdBy` (spec §3.4):
/// `/org/{org}`, `/user/{id}`, `/systemuser/{guid}` or `/organisation/{orgNumber}`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Consumer(String);

impl Consumer {
    /// First match wins: org claim, user id, system user, organisation number.
    pub fn from_claims(claims: &Claims) -> Option<Consumer> {
        if let Some(org) = claims.org() {
            return Some(Consumer::prefixed("/org/", &org));
        }
        if let Some(user) = claims.text(CLAIM_USER_ID) {
            return Some(Consumer::prefixed("/user/", &user));
        }
        if let Some(id) = claims.system_user_id() {
            return Some(Consumer::prefixed("/systemuser/", &id));
        }
        if let Some(number) = claims.org_number() {
            return Some(Consumer::prefixed("/organisation/", &number));
        }
        None
    }

    fn prefixed(prefix: &str, value: &str) -> Consumer {
        let mut s = String::with_capacity(prefix.len() + value.len());
        s.push_str(prefix);
        s.push_str(value);
        Consumer(s)
    }

    /// Wrap a stored consumer string.
    pub fn from_stored(s: impl Into<String>) -> Consumer {
        Consumer(s.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl core::fmt::Display for Consumer {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A party's id in Altinn's register, and the event subject `/party/{id}` that names it (app
/// instance events, `GET /app/party`, the party index).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PartyId(pub i64);

impl PartyId {
    const SUBJECT_PREFIX: &'static str = "/party/";

    /// The subject `/party/{id}`.
    pub fn subject(self) -> String {
        alloc::format!("{}{}", Self::SUBJECT_PREFIX, self.0)
    }

    /// The party a subject names, if it is `/party/{integer}`.
    pub fn from_subject(subject: &str) -> Option<PartyId> {
        subject
            .strip_prefix(Self::SUBJECT_PREFIX)
            .and_then(|id| id.parse::<i64>().ok())
            .map(PartyId)
    }
}

impl core::fmt::Display for PartyId {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use wasm_bindgen_test::wasm_bindgen_test;

    fn claims(v: Value) -> Claims {
        match v {
            Value::Object(m) => Claims::new(m),
            _ => Claims::default(),
        }
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn consumer_precedence() {
        let guid = "4A80AF94-1111-2222-3333-444455556666";
        let cases = [
            (
                json!({"urn:altinn:org": "ttd", "urn:altinn:userid": 1}),
                Some("/org/ttd"),
            ),
            (
                json!({"urn:altinn:org": "", "urn:altinn:userid": 1337}),
                Some("/user/1337"),
            ),
            (json!({"urn:altinn:userid": "1337"}), Some("/user/1337")),
            (
                json!({"authorization_details": {"type": "urn:altinn:systemuser", "systemuser_id": [guid]}, "urn:altinn:orgNumber": "991825827"}),
                Some("/systemuser/4a80af94-1111-2222-3333-444455556666"),
            ),
            (
                json!({"authorization_details": [{"type": "x"}, {"systemuser_id": [guid]}]}),
                Some("/systemuser/4a80af94-1111-2222-3333-444455556666"),
            ),
            (
                json!({"authorization_details": {"systemuser_id": ["00000000-0000-0000-0000-000000000000"]}, "urn:altinn:orgNumber": "991825827"}),
                Some("/organisation/991825827"),
            ),
            (
                json!({"urn:altinn:orgNumber": "991825827"}),
                Some("/organisation/991825827"),
            ),
            (json!({"scope": "x"}), None),
        ];
        for (c, expected) in cases {
            let got = Consumer::from_claims(&claims(c.clone()));
            assert_eq!(got.as_ref().map(Consumer::as_str), expected, "{c}");
        }
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn scope_case_rules() {
        let c = claims(json!({"scope": "altinn:events.publish Altinn:Events.Publish.Admin"}));
        assert!(c.has_scope("altinn:events.publish"));
        assert!(!c.has_scope("altinn:events.publish.admin"));
        assert!(c.has_scope_ignore_case("altinn:events.publish.admin"));
        let c = claims(json!({"scope": "somerandomprefix:altinn:events.publish.admin"}));
        assert!(!c.has_scope_ignore_case("altinn:events.publish.admin"));
        assert_eq!(claims(json!({})).scopes(), Vec::<String>::new());
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn numeric_claims_as_numbers_or_strings() {
        let c = claims(
            json!({"urn:altinn:userid": 1337, "urn:altinn:partyid": "50001337", "urn:altinn:authlevel": "3", "exp": 1.7e9}),
        );
        assert_eq!(c.user_id().as_deref(), Some("1337"));
        assert_eq!(c.party_id().as_deref(), Some("50001337"));
        assert_eq!(c.auth_level(), Some(3));
        assert_eq!(c.seconds("exp"), Some(1_700_000_000));
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn guids() {
        assert_eq!(
            parse_guid("{4A80AF94-1111-2222-3333-444455556666}").as_deref(),
            Some("4a80af94-1111-2222-3333-444455556666")
        );
        assert_eq!(
            parse_guid("4a80af94111122223333444455556666").as_deref(),
            Some("4a80af94-1111-2222-3333-444455556666")
        );
        assert_eq!(parse_guid("not-a-guid"), None);
        let g = guid_from_random([0xff; 16]);
        assert_eq!(g, "ffffffff-ffff-4fff-bfff-ffffffffffff");
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn party_subjects_round_trip() {
        assert_eq!(PartyId(50001337).subject(), "/party/50001337");
        assert_eq!(
            PartyId::from_subject("/party/50001337"),
            Some(PartyId(50001337))
        );
        assert_eq!(PartyId::from_subject("/party/x"), None);
        assert_eq!(PartyId::from_subject("/person/1"), None);
        assert_eq!(PartyId::from_subject("/party/"), None);
    }
}
