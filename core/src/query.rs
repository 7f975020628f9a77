//! Query strings of the read APIs: decoding, ASP.NET-style binding, Altinn's validation rules
//! and messages (spec §5.5, §6.2), size clamping, `next` links (spec §6.5) and the SQL
//! patterns that `type`/`source` filters turn into.

use alloc::borrow::ToOwned;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

use crate::error::ApiError;
use crate::urn::RESOURCE_PREFIX;

/// A decoded query string: (key, value) pairs in request order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct QueryString {
    pairs: Vec<(String, String)>,
}

/// Decode `application/x-www-form-urlencoded` text: `+` is a space, `%XX` a byte; an invalid
/// escape is kept literally (as ASP.NET does); invalid UTF-8 becomes U+FFFD.
pub fn form_decode(s: &str) -> String {
    if !s.bytes().any(|b| b == b'%' || b == b'+') {
        return s.to_owned();
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match (hex_val(bytes[i + 1]), hex_val(bytes[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h * 16 + l);
                    i += 3;
                    continue;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

impl QueryString {
    /// Parse the part of a URL after `?` (without the `?`). Empty segments are skipped.
    pub fn parse(raw: &str) -> QueryString {
        let raw = raw.strip_prefix('?').unwrap_or(raw);
        let pairs = raw
            .split('&')
            .filter(|s| !s.is_empty())
            .map(|pair| match pair.split_once('=') {
                Some((k, v)) => (form_decode(k), form_decode(v)),
                None => (form_decode(pair), String::new()),
            })
            .collect();
        QueryString { pairs }
    }

    pub fn pairs(&self) -> &[(String, String)] {
        &self.pairs
    }

    /// All values of a key (keys match case-insensitively, as ASP.NET binds them).
    pub fn all<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.pairs
            .iter()
            .filter(move |(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_str())
    }

    /// The first value of a key, if any.
    pub fn first<'a>(&'a self, key: &str) -> Option<&'a str> {
        self.pairs
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_str())
    }

    /// The first value of a key when it is non-empty (ASP.NET binds `x=` to null).
    pub fn non_empty<'a>(&'a self, key: &str) -> Option<&'a str> {
        self.first(key).filter(|v| !v.is_empty())
    }

    /// Non-empty values of a repeatable key.
    pub fn list(&self, key: &str) -> Vec<String> {
        self.all(key)
            .filter(|v| !v.is_empty())
            .map(ToOwned::to_owned)
            .collect()
    }

    /// Bind an `int` parameter as ASP.NET does. `Ok(None)` when absent or empty; an error
    /// entry `(key, "The value '…' is not valid for key.")` when not a 32-bit integer.
    pub fn int(&self, key: &str) -> Result<Option<i32>, (String, String)> {
        let Some(v) = self.first(key) else {
            return Ok(None);
        };
        let t = v.trim();
        if t.is_empty() {
            return Ok(None);
        }
        let digits = t.strip_prefix('+').unwrap_or(t);
        match digits.parse::<i32>() {
            Ok(n) if !digits.starts_with('+') => Ok(Some(n)),
            _ => Err((
                key.to_owned(),
                alloc::format!("The value '{v}' is not valid for {key}."),
            )),
        }
    }
}

/// Default page size of the read APIs.
pub const DEFAULT_SIZE: u32 = 50;
/// Largest page of `GET /events`.
pub const MAX_GENERIC_SIZE: u32 = 1000;

/// A validated `GET /events/api/v1/events` request (spec §5.5).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GenericEventsQuery {
    pub resource: String,
    pub after: String,
    pub subject: Option<String>,
    pub alternative_subject: Option<String>,
    /// `LIKE` patterns (case-sensitive, `%` and `_` wildcards); empty means any type.
    pub types: Vec<String>,
    pub size: u32,
}

impl GenericEventsQuery {
    /// Bind and validate in Altinn's order: model binding (required `resource`, integer
    /// `size`) → resource prefix → `after` → subject vs alternative subject.
    pub fn from_request(
        q: &QueryString,
        alternative_subject_header: Option<&str>,
    ) -> Result<GenericEventsQuery, ApiError> {
        let mut binding_errors: Vec<(String, Vec<String>)> = Vec::new();
        let resource = q.non_empty("resource");
        if resource.is_none() {
            binding_errors.push((
                "resource".into(),
                vec!["The resource field is required.".into()],
            ));
        }
        let size = match q.int("size") {
            Ok(size) => size.unwrap_or(0),
            Err((k, m)) => {
                binding_errors.push((k, vec![m]));
                0
            }
        };
        let Some(resource) = resource.filter(|_| binding_errors.is_empty()) else {
            return Err(ApiError::validation_many(binding_errors));
        };
        if !resource.starts_with(RESOURCE_PREFIX) {
            return Err(ApiError::bad_request(
                "The 'resource' parameter must begin with `urn:altinn:resource:`",
            ));
        }
        let Some(after) = q.non_empty("after") else {
            return Err(ApiError::bad_request(
                "The 'after' parameter must be defined.",
            ));
        };
        let subject = q.non_empty("subject").map(ToOwned::to_owned);
        let alternative_subject = alternative_subject_header
            .filter(|h| !h.is_empty())
            .map(ToOwned::to_owned);
        if subject.is_some() && alternative_subject.is_some() {
            return Err(ApiError::bad_request(
                "Only one of 'subject' or 'alternativeSubject' can be defined.",
            ));
        }
        Ok(GenericEventsQuery {
            resource: resource.to_owned(),
            after: after.to_owned(),
            subject,
            alternative_subject,
            types: q.list("type"),
            size: clamp_generic_size(size),
        })
    }
}

/// `size` of `GET /events`: below 1 means the default (50), above 1000 means 1000.
pub fn clamp_generic_size(size: i32) -> u32 {
    if size < 1 {
        DEFAULT_SIZE
    } else {
        (size as u32).min(MAX_GENERIC_SIZE)
    }
}

/// Characters kept as they are in `next` links. Altinn writes decoded values; this service
/// does too, except for the few characters that would change the meaning of the link.
fn write_link_value(out: &mut String, value: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for ch in value.chars() {
        let keep = !matches!(ch, '%' | '&' | '+' | '#' | ' ') && !ch.is_control() && ch.is_ascii();
        if keep {
            out.push(ch);
        } else {
            let mut buf = [0u8; 4];
            for b in ch.encode_utf8(&mut buf).bytes() {
                out.push('%');
                out.push(HEX[(b >> 4) as usize] as char);
                out.push(HEX[(b & 0xf) as usize] as char);
            }
        }
    }
}

/// The `next` header (spec §6.5): `{base}{path}?after={last id}` followed by every other
/// query parameter, keys in order of first appearance with repeated keys grouped, values
/// decoded; `extra` is appended last (the `subject` Altinn adds when the alternative-subject
/// header was used).
pub fn next_link(
    base_url: &str,
    path: &str,
    last_id: &str,
    q: &QueryString,
    extra: Option<(&str, &str)>,
) -> String {
    let mut out = String::with_capacity(base_url.len() + path.len() + 64);
    out.push_str(base_url.trim_end_matches('/'));
    out.push_str(path);
    out.push_str("?after=");
    write_link_value(&mut out, last_id);
    let mut seen: Vec<&str> = Vec::new();
    for (key, _) in &q.pairs {
        if key.eq_ignore_ascii_case("after") || seen.iter().any(|s| s == key) {
            continue;
        }
        seen.push(key);
        for (k, v) in &q.pairs {
            if k == key {
                out.push('&');
                write_link_value(&mut out, k);
                out.push('=');
                write_link_value(&mut out, v);
            }
        }
    }
    if let Some((k, v)) = extra {
        out.push('&');
        out.push_str(k);
        out.push('=');
        write_link_value(&mut out, v);
    }
    out
}

/// Turn a SQL `LIKE` pattern (`%` any run, `_` one character, `\` escapes the next
/// character, as in PostgreSQL) into an SQLite `GLOB` pattern, which is case-sensitive.
pub fn like_to_glob(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len() + 4);
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        match c {
            '%' => out.push('*'),
            '_' => out.push('?'),
            '\\' => match chars.next() {
                Some(next) => push_glob_literal(&mut out, next),
                None => push_glob_literal(&mut out, '\\'),
            },
            other => push_glob_literal(&mut out, other),
        }
    }
    out
}

fn push_glob_literal(out: &mut String, c: char) {
    match c {
        '*' | '?' | '[' => {
            out.push('[');
            out.push(c);
            out.push(']');
        }
        _ => out.push(c),
    }
}

/// Match a `LIKE` pattern in Rust (for filtering outside SQL), optionally ignoring ASCII case.
pub fn like_matches(pattern: &str, text: &str, ignore_case: bool) -> bool {
    // Tokenise the pattern once.
    enum Tok {
        Any,
        One,
        Lit(char),
    }
    let mut toks = Vec::with_capacity(pattern.len());
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        toks.push(match c {
            '%' => Tok::Any,
            '_' => Tok::One,
            '\\' => Tok::Lit(chars.next().unwrap_or('\\')),
            c => Tok::Lit(c),
        });
    }
    let text: Vec<char> = text.chars().collect();
    let eq = |a: char, b: char| {
        if ignore_case {
            a.to_lowercase().eq(b.to_lowercase())
        } else {
            a == b
        }
    };
    // Iterative wildcard matching with backtracking to the last `%`.
    let (mut p, mut t) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match toks.get(p) {
            Some(Tok::One) => {
                p += 1;
                t += 1;
            }
            Some(Tok::Lit(c)) if eq(*c, text[t]) => {
                p += 1;
                t += 1;
            }
            Some(Tok::Any) => {
                star = Some((p, t));
                p += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    p = sp + 1;
                    t = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    while let Some(Tok::Any) = toks.get(p) {
        p += 1;
    }
    p == toks.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorBody;
    use wasm_bindgen_test::wasm_bindgen_test;

    fn q(s: &str) -> QueryString {
        QueryString::parse(s)
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn decoding() {
        assert_eq!(form_decode("a+b%2Fc%zz%4"), "a b/c%zz%4");
        assert_eq!(form_decode("%E2%9C%93"), "✓");
        let p = q("?a=1&&B=x%3Dy&c");
        assert_eq!(
            p.pairs(),
            &[
                ("a".into(), "1".into()),
                ("B".into(), "x=y".into()),
                ("c".into(), "".into())
            ]
        );
        assert_eq!(p.first("b"), Some("x=y"));
    }

    fn detail(e: ApiError) -> String {
        match e.body {
            ErrorBody::Problem { detail: Some(d) } => d,
            other => alloc::format!("{other:?}"),
        }
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn generic_query_validation_order() {
        let r = |s: &str, h: Option<&str>| GenericEventsQuery::from_request(&q(s), h);
        let e = r("after=0", None).unwrap_err();
        assert_eq!(
            e.body,
            ErrorBody::Validation(vec![(
                "resource".into(),
                vec!["The resource field is required.".into()]
            )])
        );
        let e = r("resource=&size=abc", None).unwrap_err();
        assert_eq!(
            e.body,
            ErrorBody::Validation(vec![
                (
                    "resource".into(),
                    vec!["The resource field is required.".into()]
                ),
                (
                    "size".into(),
                    vec!["The value 'abc' is not valid for size.".into()]
                ),
            ])
        );
        assert_eq!(
            detail(r("resource=urn:x:y&after=0", None).unwrap_err()),
            "The 'resource' parameter must begin with `urn:altinn:resource:`"
        );
        assert_eq!(
            detail(r("resource=urn:altinn:resource:x", None).unwrap_err()),
            "The 'after' parameter must be defined."
        );
        assert_eq!(
            detail(
                r(
                    "resource=urn:altinn:resource:x&after=0&subject=s",
                    Some("a")
                )
                .unwrap_err()
            ),
            "Only one of 'subject' or 'alternativeSubject' can be defined."
        );
        let ok = r(
            "Resource=urn:altinn:resource:x&after=0&type=a.%25&type=b&size=5000",
            Some("/org/1"),
        )
        .unwrap();
        assert_eq!(ok.resource, "urn:altinn:resource:x");
        assert_eq!(ok.types, vec!["a.%".to_owned(), "b".to_owned()]);
        assert_eq!(ok.size, 1000);
        assert_eq!(ok.alternative_subject.as_deref(), Some("/org/1"));
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn size_clamping() {
        assert_eq!(clamp_generic_size(0), 50);
        assert_eq!(clamp_generic_size(-3), 50);
        assert_eq!(clamp_generic_size(1), 1);
        assert_eq!(clamp_generic_size(1001), 1000);
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn next_links() {
        let p = q("from=2020-01-01Z&party=1337&size=5");
        assert_eq!(
            next_link("http://localhost:5080", "/events/api/v1/app/party", "e31dbb11", &p, None),
            "http://localhost:5080/events/api/v1/app/party?after=e31dbb11&from=2020-01-01Z&party=1337&size=5"
        );
        let p = q("type=a&after=x&subject=%2Fparty%2F1337&type=b");
        assert_eq!(
            next_link("https://h/", "/p", "id1", &p, None),
            "https://h/p?after=id1&type=a&type=b&subject=/party/1337"
        );
        let p = q("resource=urn:altinn:resource:r&after=0&type=a%26b%25");
        assert_eq!(
            next_link("https://h", "/p", "id", &p, Some(("subject", "/party/1"))),
            "https://h/p?after=id&resource=urn:altinn:resource:r&type=a%26b%25&subject=/party/1"
        );
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn like_patterns() {
        assert_eq!(like_to_glob("app.%"), "app.*");
        assert_eq!(like_to_glob("a_b*c?[d"), "a?b[*]c[?][[]d");
        assert_eq!(like_to_glob("100\\%"), "100%");
        let cases = [
            ("app.%", "app.instance.created", false, true),
            ("app.%", "App.instance", false, false),
            ("app.%", "App.instance", true, true),
            ("a_c", "abc", false, true),
            ("a_c", "abbc", false, false),
            ("%created", "app.instance.created", false, true),
            ("%", "", false, true),
            ("a%b%c", "axxbyyc", false, true),
            ("a%b%c", "axxbyy", false, false),
            ("100\\%", "100%", false, true),
            ("100\\%", "1000", false, false),
            (
                "https://ttd.apps.altinn.no/ttd/%",
                "HTTPS://TTD.apps.altinn.no/ttd/x/y",
                true,
                true,
            ),
        ];
        for (p, t, ci, want) in cases {
            assert_eq!(like_matches(p, t, ci), want, "{p} {t} {ci}");
        }
    }
}
