//! URNs as Altinn validates them (spec §4.7) and splits them for XACML (spec §11.1).
//!
//! A valid URN matches `^urn:[a-z0-9-]{1,30}(:[a-z0-9()+,.\-;$_!\/]{1,100}){1,10}$`:
//! lower case only, a namespace of 1–30 characters and 1–10 further non-empty segments.

use alloc::string::String;

text_id! {
    /// A resource's URN (`urn:altinn:resource:…`), the name of the resource's event log. Kept as
    /// given: whether it is a valid URN is checked where it enters (the event, the query).
    ResourceUrn
}

impl ResourceUrn {
    /// The URN of a resource id: `urn:altinn:resource:{id}`.
    pub fn of_id(id: &str) -> ResourceUrn {
        ResourceUrn(alloc::format!("{RESOURCE_PREFIX}{id}"))
    }
}

/// Prefix of resource URNs.
pub const RESOURCE_PREFIX: &str = "urn:altinn:resource:";
/// Prefix of app resources: `urn:altinn:resource:app_{org}_{app}`.
pub const APP_RESOURCE_PREFIX: &str = "urn:altinn:resource:app_";

/// True iff `s` is a URN by Altinn's rule (spec §4.7).
pub fn is_valid_urn(s: &str) -> bool {
    let Some(rest) = s.strip_prefix("urn:") else {
        return false;
    };
    let mut parts = rest.split(':');
    let Some(namespace) = parts.next() else {
        return false;
    };
    if namespace.is_empty()
        || namespace.len() > 30
        || !namespace
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return false;
    }
    let mut segments = 0;
    for segment in parts {
        segments += 1;
        if segments > 10 || segment.is_empty() || segment.len() > 100 {
            return false;
        }
        if !segment.bytes().all(is_segment_byte) {
            return false;
        }
    }
    segments >= 1
}

fn is_segment_byte(b: u8) -> bool {
    b.is_ascii_lowercase()
        || b.is_ascii_digit()
        || matches!(
            b,
            b'(' | b')' | b'+' | b',' | b'.' | b'-' | b';' | b'$' | b'_' | b'!' | b'/'
        )
}

/// Split a URN at its last `:` into (attribute id, value), as the XACML mappers do:
/// `urn:altinn:resource:nbib.bokoversikt.api` → (`urn:altinn:resource`, `nbib.bokoversikt.api`).
pub fn split_last(urn: &str) -> (&str, &str) {
    match urn.rfind(':') {
        Some(i) => (&urn[..i], &urn[i + 1..]),
        None => ("", urn),
    }
}

/// The resource URN of an Altinn app: `urn:altinn:resource:app_{org}_{app}`.
pub fn app_resource(org: &str, app: &str) -> String {
    let mut resource = String::with_capacity(APP_RESOURCE_PREFIX.len() + org.len() + app.len() + 1);
    resource.push_str(APP_RESOURCE_PREFIX);
    resource.push_str(org);
    resource.push('_');
    resource.push_str(app);
    resource
}

/// The resource id of a resource URN (the part after `urn:altinn:resource:`), if it is one.
pub fn resource_id(resource: &str) -> Option<&str> {
    resource
        .strip_prefix(RESOURCE_PREFIX)
        .filter(|id| !id.is_empty())
}

/// True when the resource is an Altinn app's: `urn:altinn:resource:app_…` (case-sensitive).
pub fn is_app_resource(resource: &str) -> bool {
    resource.starts_with(APP_RESOURCE_PREFIX)
}

/// True when a resource *id* (without `urn:altinn:resource:`) is an app's: `app_…`.
pub fn is_app_resource_id(id: &str) -> bool {
    id.starts_with("app_")
}

/// The `(org, app)` of an app resource id `app_{org}_{app}` split as Altinn does for
/// subscriptions (`split('_')`, so an app name containing `_` is cut at it; spec §11.5).
pub fn app_of_resource_id(id: &str) -> Option<(&str, &str)> {
    let rest = id.strip_prefix("app_")?;
    let mut parts = rest.split('_');
    let org = parts.next()?;
    let app = parts.next().unwrap_or("");
    Some((org, app))
}

/// The `(org, app)` of an app resource id split at the first `_` only (`split("_", 3)`),
/// keeping underscores in the app name.
pub fn app_of_resource_id_full(id: &str) -> Option<(&str, &str)> {
    let rest = id.strip_prefix("app_")?;
    match rest.find('_') {
        Some(i) => Some((&rest[..i], &rest[i + 1..])),
        None => Some((rest, "")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test(unsupported = test)]
    fn a_resource_urn_is_its_text_on_the_wire() {
        let urn = ResourceUrn::from("urn:altinn:resource:ttd-demo");
        assert_eq!(urn.as_str(), "urn:altinn:resource:ttd-demo");
        assert_eq!(urn.to_string(), "urn:altinn:resource:ttd-demo");
        let json = serde_json::to_string(&urn).unwrap();
        assert_eq!(json, "\"urn:altinn:resource:ttd-demo\"");
        assert_eq!(serde_json::from_str::<ResourceUrn>(&json).unwrap(), urn);
        assert_eq!(ResourceUrn::of_id("ttd-demo"), urn);
        assert_eq!(String::from(urn), "urn:altinn:resource:ttd-demo");
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn urn_rule_table() {
        let cases: &[(&str, bool)] = &[
            ("urn:altinn:resource:nbib.bokoversikt.api", true),
            ("urn:altinn:resource:app_ttd_apps-test", true),
            ("urn:altinn:person:identifier-no:12345678901", true),
            ("urn:x:y", true),
            ("urn:a-b:(c)+,.-;$_!/d", true),
            ("urn:altinn:resource:Test", false),
            ("URN:altinn:resource:x", false),
            ("urn:foo::::", false),
            ("urn:foo", false),
            ("urn::x", false),
            (" urn:altinn:resource:x", false),
            ("urn:altinn:resource:x ", false),
            ("urn:altinn:resource:a%20b", false),
            ("urn:altinn:resource:a*b", false),
            ("urn:altinn:resource:a=b", false),
            ("urn:altinn:resource:a@b", false),
            ("urn:altinn:a:b:c:d:e:f:g:h:i", true),
            ("urn:altinn:a:b:c:d:e:f:g:h:i:j", true),
            ("urn:altinn:a:b:c:d:e:f:g:h:i:j:k", false),
            ("", false),
            ("https://example.com", false),
        ];
        for (s, ok) in cases {
            assert_eq!(is_valid_urn(s), *ok, "{s}");
        }
        let long_ns = alloc::format!("urn:{}:x", "a".repeat(31));
        assert!(!is_valid_urn(&long_ns));
        let ok_ns = alloc::format!("urn:{}:x", "a".repeat(30));
        assert!(is_valid_urn(&ok_ns));
        let long_seg = alloc::format!("urn:a:{}", "b".repeat(101));
        assert!(!is_valid_urn(&long_seg));
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn splitting() {
        assert_eq!(
            split_last("urn:altinn:resource:nbib.bokoversikt.api"),
            ("urn:altinn:resource", "nbib.bokoversikt.api")
        );
        assert_eq!(
            resource_id("urn:altinn:resource:app_ttd_x"),
            Some("app_ttd_x")
        );
        assert_eq!(resource_id("urn:altinn:resource:"), None);
        assert_eq!(app_of_resource_id("app_ttd_my_app"), Some(("ttd", "my")));
        assert_eq!(
            app_of_resource_id_full("app_ttd_my_app"),
            Some(("ttd", "my_app"))
        );
        assert!(is_app_resource("urn:altinn:resource:app_ttd_x"));
        assert!(!is_app_resource("urn:altinn:resource:App_ttd_x"));
    }
}
