//! Query strings of the read APIs: decoding, ASP.NET-style binding, Altinn's validation rules
//! and messages (spec §5.5, §6.2), size clamping, `next` links (spec §6.5) and the SQL
//! patterns that `type`/`source` filters turn into.

use alloc::borrow::ToOwned;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

use percent_encoding::{percent_decode, utf8_percent_encode, AsciiSet, CONTROLS};

use crate::error::ApiError;
use crate::urn::{ResourceUrn, RESOURCE_PREFIX};

/// A decoded query string: (key, value) pairs in request order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct QueryString {
    pairs: Vec<(String, String)>,
}

/// Decode one `application/x-www-form-urlencoded` value: `+` is a space, `%XX` a byte; an
/// invalid escape is kept literally (as ASP.NET does); invalid UTF-8 becomes U+FFFD. The same
/// decoding [`QueryString::parse`] applies to every key and value (`form_urlencoded` decodes
/// whole query strings only, so a single value is `+`-replaced and percent-decoded here).
pub fn form_decode(s: &str) -> String {
    if !s.bytes().any(|b| b == b'%' || b == b'+') {
        return s.to_owned();
    }
    let bytes: Vec<u8> = s
        .bytes()
        .map(|b| if b == b'+' { b' ' } else { b })
        .collect();
    percent_decode(&bytes).decode_utf8_lossy().into_owned()
}

impl QueryString {
    /// Parse the part of a URL after `?` (without the `?`) with `form_urlencoded`: pairs split
    /// at `&`, empty segments skipped, a key without `=` has the empty value.
    pub fn parse(raw: &str) -> QueryString {
        let raw = raw.strip_prefix('?').unwrap_or(raw);
        let pairs = form_urlencoded::parse(raw.as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        QueryString { pairs }
    }

    /// A query string of these pairs, in this order.
    pub fn from_pairs(pairs: Vec<(String, String)>) -> QueryString {
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

    /// Bind a non-nullable `int` parameter as ASP.NET does. `Ok(None)` when absent; an error
    /// entry `(key, "The value '…' is invalid.")` when given empty or blank (`size=`), and
    /// `(key, "The value '…' is not valid for key.")` when not a 32-bit integer.
    pub fn int(&self, key: &str) -> Result<Option<i32>, (String, String)> {
        let Some(v) = self.first(key) else {
            return Ok(None);
        };
        let t = v.trim();
        if t.is_empty() {
            return Err((
                key.to_owned(),
                alloc::format!("The value '{v}' is invalid."),
            ));
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
    pub resource: ResourceUrn,
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
            resource: ResourceUrn::from(resource),
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

/// Characters escaped in `next` links. Altinn writes decoded values; this service does too,
/// except for the few characters that would change the meaning of the link: `%`, `&`, `+`,
/// `#`, space, controls and (as UTF-8 bytes) everything outside ASCII.
const LINK_ESCAPED: &AsciiSet = &CONTROLS.add(b'%').add(b'&').add(b'+').add(b'#').add(b' ');

fn write_link_value(out: &mut String, value: &str) {
    out.extend(utf8_percent_encode(value, LINK_ESCAPED));
}

/// Keys are written like values, with `=` escaped too: a key holding `=` must not end early.
const LINK_KEY_ESCAPED: &AsciiSet = &LINK_ESCAPED.add(b'=');

fn write_link_key(out: &mut String, key: &str) {
    out.extend(utf8_percent_encode(key, LINK_KEY_ESCAPED));
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
                write_link_key(&mut out, k);
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
            Some(Tok::Lit(c)) if text.get(t).is_some_and(|x| eq(*c, *x)) => {
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

// ---------------------------------------------------------------------------------------------
// App events: GET /app/{org}/{app} and GET /app/party (spec §5.2, §5.3, §6.2, §6.3).

use crate::time::Timestamp;

/// Which app-events read endpoint a query belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AppEndpoint {
    /// `GET /app/{org}/{app}`: no `source` parameter, no subject required.
    ForOrg,
    /// `GET /app/party`: adds the repeatable `source` parameter and requires one of the
    /// `person` header, `unit` or `party`.
    ForParty,
}

/// A validated `GET /app/{org}/{app}` or `GET /app/party` request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppEventsQuery {
    /// The event-id cursor (exclusive), when non-empty.
    pub after: Option<String>,
    /// Inclusive lower bound on event `time`, in UTC.
    pub from: Option<Timestamp>,
    /// Inclusive upper bound on event `time`, in UTC.
    pub to: Option<Timestamp>,
    /// Party id; 0 when absent (negative values are kept and mean "no party").
    pub party: i32,
    /// Organisation number (checked to be 9 digit characters).
    pub unit: Option<String>,
    /// National identity number, from the `person` header.
    pub person: Option<String>,
    /// `ILIKE` patterns on `type` (repeatable; empty values ignored); empty means any type.
    pub types: Vec<String>,
    /// `ILIKE` patterns on `source` (only `GET /app/party`; always empty for the org endpoint).
    pub sources: Vec<String>,
    /// Page size: default 50, at least 1, no maximum.
    pub size: u32,
}

/// What the subject filter of an app-events query needs (spec §6.3).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SubjectSource {
    /// No subject filter (only possible on `GET /app/{org}/{app}`).
    None,
    /// `/party/{id}` directly.
    Party(i32),
    /// Register v1 look-up of a person (national identity number) → party id.
    LookupPerson(String),
    /// Register v1 look-up of an organisation number → party id.
    LookupUnit(String),
}

const MSG_FROM_OR_AFTER: &str = "The 'From' or 'After' parameter must be defined.";
const MSG_FROM_TIMEZONE: &str =
    "The 'From' parameter must specify timezone. E.g. 2022-07-07T11:00:53.3917Z for UTC";
const MSG_TO_TIMEZONE: &str =
    "The 'To' parameter must specify timezone. E.g. 2022-07-07T11:00:53.3917Z for UTC";
const MSG_SIZE: &str = "The 'Size' parameter must be a number larger that 0.";
const MSG_PARTY_AND_PERSON: &str = "Only one of 'Party' or 'Person' can be defined.";
const MSG_PARTY_AND_UNIT: &str = "Only one of 'Party' or 'Unit' can be defined.";
const MSG_UNIT_DIGITS: &str = "Value of 'Unit' needs to be exactly 9 digits.";
pub const MSG_SUBJECT_REQUIRED: &str =
    "Subject must be specified using either query params party or unit or header value person.";

/// Bind a `DateTime?` query parameter as ASP.NET does: absent, empty or whitespace → `None`;
/// otherwise the timestamp (in UTC) and whether it had a time-zone designator, or a binding
/// error entry.
fn bind_query_date(
    q: &QueryString,
    key: &str,
    errors: &mut Vec<(String, Vec<String>)>,
) -> Option<(Timestamp, bool)> {
    let v = q.first(key)?;
    if v.trim().is_empty() {
        return None;
    }
    match Timestamp::parse_query(v) {
        Ok((t, has_designator)) => Some((t.to_utc(), has_designator)),
        Err(_) => {
            errors.push((
                key.to_owned(),
                vec![alloc::format!("The value '{v}' is not valid for {key}.")],
            ));
            None
        }
    }
}

/// Bind an `int` query parameter, recording a binding error entry.
fn bind_query_int(
    q: &QueryString,
    key: &str,
    default: i32,
    errors: &mut Vec<(String, Vec<String>)>,
) -> i32 {
    match q.int(key) {
        Ok(v) => v.unwrap_or(default),
        Err((k, m)) => {
            errors.push((k, vec![m]));
            default
        }
    }
}

/// Altinn's unit check: exactly 9 characters (.NET `string.Length`, i.e. UTF-16 code units),
/// each a digit in the Unicode sense (spec §19.30). `char::is_numeric` is used rather than
/// `char::is_ascii_digit` so that non-ASCII digits pass as they do in .NET; it is slightly
/// wider than .NET's `char.IsDigit` (it also admits e.g. `²`, `½`, `Ⅻ`). Such a unit can only
/// fail the register look-up afterwards.
fn is_nine_digits(unit: &str) -> bool {
    unit.encode_utf16().count() == 9 && unit.chars().all(char::is_numeric)
}

impl AppEventsQuery {
    /// Bind and validate a request in Altinn's order.
    ///
    /// First ASP.NET model binding, which reports every failing parameter at once, in
    /// parameter order (`after`, `from`, `to`, `party`, `unit`, `type`, `size`), as a
    /// ValidationProblem `"The value '{v}' is not valid for {key}."`: a non-integer `party` or
    /// `size`, an unparseable `from` or `to` (see [`Timestamp::parse_query`]).
    ///
    /// A `+` in a query value decodes to a space, so `from=2020-01-01T00:00:00+01:00` sent
    /// unencoded arrives as `2020-01-01T00:00:00 01:00`, which is a binding error: clients
    /// must send the offset sign as `%2B` (`2020-01-01T00:00:00%2B01:00`) or use `Z`.
    ///
    /// Then the rules of spec §6.2, first failure wins, as 400 ProblemDetails:
    /// 1. neither `after` nor `from`;
    /// 2. `from` without time-zone designator (`2020-01-01Z` has one);
    /// 3. `to` without one;
    /// 4. `size` < 1 (there is no maximum);
    /// 5. `person` header and `party` > 0;
    /// 6. `unit` and `party` > 0;
    /// 7. `unit` not exactly 9 digits.
    ///
    /// For [`AppEndpoint::ForParty`] finally: none of the `person` header, `unit` or
    /// `party` > 0.
    pub fn from_request(
        q: &QueryString,
        person_header: Option<&str>,
        endpoint: AppEndpoint,
    ) -> Result<AppEventsQuery, ApiError> {
        let mut errors: Vec<(String, Vec<String>)> = Vec::new();
        let after = q.non_empty("after").map(ToOwned::to_owned);
        let from = bind_query_date(q, "from", &mut errors);
        let to = bind_query_date(q, "to", &mut errors);
        let party = bind_query_int(q, "party", 0, &mut errors);
        let unit = q.non_empty("unit").map(ToOwned::to_owned);
        let types = q.list("type");
        let size = bind_query_int(q, "size", DEFAULT_SIZE as i32, &mut errors);
        let sources = match endpoint {
            AppEndpoint::ForParty => q.list("source"),
            AppEndpoint::ForOrg => Vec::new(),
        };
        if !errors.is_empty() {
            return Err(ApiError::validation_many(errors));
        }
        let person = person_header
            .filter(|p| !p.is_empty())
            .map(ToOwned::to_owned);

        if after.is_none() && from.is_none() {
            return Err(ApiError::bad_request(MSG_FROM_OR_AFTER));
        }
        if from.is_some_and(|(_, designated)| !designated) {
            return Err(ApiError::bad_request(MSG_FROM_TIMEZONE));
        }
        if to.is_some_and(|(_, designated)| !designated) {
            return Err(ApiError::bad_request(MSG_TO_TIMEZONE));
        }
        if size < 1 {
            return Err(ApiError::bad_request(MSG_SIZE));
        }
        if person.is_some() && party > 0 {
            return Err(ApiError::bad_request(MSG_PARTY_AND_PERSON));
        }
        if unit.is_some() && party > 0 {
            return Err(ApiError::bad_request(MSG_PARTY_AND_UNIT));
        }
        if unit.as_deref().is_some_and(|u| !is_nine_digits(u)) {
            return Err(ApiError::bad_request(MSG_UNIT_DIGITS));
        }
        if endpoint == AppEndpoint::ForParty && person.is_none() && unit.is_none() && party <= 0 {
            return Err(ApiError::bad_request(MSG_SUBJECT_REQUIRED));
        }
        Ok(AppEventsQuery {
            after,
            from: from.map(|(t, _)| t),
            to: to.map(|(t, _)| t),
            party,
            unit,
            person,
            types,
            sources,
            size: size as u32,
        })
    }

    /// What the subject filter needs (spec §6.3): the party when `party` > 0; otherwise a
    /// register look-up of `unit` or `person`. When both are given the unit is looked up, as
    /// Register's `PartyLookup` does (`OrgNo ?? Ssn`); otherwise no subject filter.
    pub fn subject_source(&self) -> SubjectSource {
        if self.party > 0 {
            SubjectSource::Party(self.party)
        } else if let Some(unit) = &self.unit {
            SubjectSource::LookupUnit(unit.clone())
        } else if let Some(person) = &self.person {
            SubjectSource::LookupPerson(person.clone())
        } else {
            SubjectSource::None
        }
    }
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
        assert_eq!(ok.resource.as_str(), "urn:altinn:resource:x");
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
        let p = q("a%3Db=c%3Dd");
        assert_eq!(
            next_link("https://h", "/p", "id", &p, None),
            "https://h/p?after=id&a%3Db=c=d"
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

#[cfg(test)]
mod app_query_tests {
    use super::*;
    use alloc::vec;
    use wasm_bindgen_test::wasm_bindgen_test;

    const PERSON: &str = "01017512345";

    fn run(
        query: &str,
        person: Option<&str>,
        endpoint: AppEndpoint,
    ) -> Result<AppEventsQuery, ApiError> {
        AppEventsQuery::from_request(&QueryString::parse(query), person, endpoint)
    }

    fn bad(detail: &str) -> Result<AppEventsQuery, ApiError> {
        Err(ApiError::bad_request(detail))
    }

    fn binding(fields: &[(&str, &str)]) -> Result<AppEventsQuery, ApiError> {
        Err(ApiError::validation_many(
            fields
                .iter()
                .map(|(k, v)| {
                    (
                        (*k).to_owned(),
                        vec![alloc::format!("The value '{v}' is not valid for {k}.")],
                    )
                })
                .collect(),
        ))
    }

    fn base() -> AppEventsQuery {
        AppEventsQuery {
            after: None,
            from: None,
            to: None,
            party: 0,
            unit: None,
            person: None,
            types: Vec::new(),
            sources: Vec::new(),
            size: 50,
        }
    }

    fn ts(s: &str) -> Option<Timestamp> {
        Timestamp::parse_rfc3339(s).ok()
    }

    fn after0() -> Option<String> {
        Some("0".to_owned())
    }

    const FROM_OR_AFTER: &str = "The 'From' or 'After' parameter must be defined.";
    const FROM_TZ: &str =
        "The 'From' parameter must specify timezone. E.g. 2022-07-07T11:00:53.3917Z for UTC";
    const TO_TZ: &str =
        "The 'To' parameter must specify timezone. E.g. 2022-07-07T11:00:53.3917Z for UTC";
    const SIZE: &str = "The 'Size' parameter must be a number larger that 0.";
    const PARTY_PERSON: &str = "Only one of 'Party' or 'Person' can be defined.";
    const PARTY_UNIT: &str = "Only one of 'Party' or 'Unit' can be defined.";
    const UNIT_DIGITS: &str = "Value of 'Unit' needs to be exactly 9 digits.";
    const SUBJECT: &str =
        "Subject must be specified using either query params party or unit or header value person.";

    #[wasm_bindgen_test(unsupported = test)]
    fn validation_rules_in_order() {
        use AppEndpoint::{ForOrg, ForParty};
        let p = Some(PERSON);
        let cases: Vec<(&str, Option<&str>, AppEndpoint, &str)> = vec![
            // 1.
            ("", None, ForOrg, FROM_OR_AFTER),
            ("after=&from=", None, ForOrg, FROM_OR_AFTER),
            ("to=2020-01-01Z&party=1", None, ForParty, FROM_OR_AFTER),
            ("size=0&party=1&unit=1", p, ForParty, FROM_OR_AFTER),
            // 2.
            ("from=2020-01-01T00:00:00", None, ForOrg, FROM_TZ),
            ("from=2020-01-01", None, ForOrg, FROM_TZ),
            // `2020-01-01+01:00` sent unencoded: the date with a time of 01:00, no zone.
            ("from=2020-01-01+01:00", None, ForOrg, FROM_TZ),
            (
                "from=2020-01-01T00:00:00&to=2020-01-01&size=0",
                None,
                ForOrg,
                FROM_TZ,
            ),
            // 3.
            ("after=1&to=2020-01-01T00:00:00", None, ForOrg, TO_TZ),
            (
                "from=2020-01-01Z&to=2020-01-01 10:00&size=0",
                None,
                ForOrg,
                TO_TZ,
            ),
            // 4.
            ("after=1&size=0", None, ForOrg, SIZE),
            ("after=1&size=-5&party=3", p, ForOrg, SIZE),
            // 5.
            ("after=1&party=5", p, ForOrg, PARTY_PERSON),
            ("after=1&party=5&unit=x", p, ForParty, PARTY_PERSON),
            // 6.
            ("after=1&party=5&unit=123456789", None, ForOrg, PARTY_UNIT),
            ("after=1&party=5&unit=abc", None, ForParty, PARTY_UNIT),
            // 7.
            ("after=1&unit=12345678", None, ForOrg, UNIT_DIGITS),
            ("after=1&unit=1234567890", None, ForOrg, UNIT_DIGITS),
            ("after=1&unit=12345678a", None, ForParty, UNIT_DIGITS),
            ("after=1&unit=%2012345678", None, ForParty, UNIT_DIGITS),
            ("after=1&unit=1&party=-3", p, ForParty, UNIT_DIGITS),
            // Subject for /app/party.
            ("after=1", None, ForParty, SUBJECT),
            ("after=1&party=0", None, ForParty, SUBJECT),
            ("after=1&party=-7&unit=", Some(""), ForParty, SUBJECT),
        ];
        for (query, person, endpoint, detail) in cases {
            assert_eq!(
                run(query, person, endpoint),
                bad(detail),
                "{query} {person:?} {endpoint:?}"
            );
        }
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn empty_integers_are_invalid() {
        let q = |s: &str| QueryString::parse(s);
        let invalid = |field: &str, value: &str| {
            ApiError::validation(field, alloc::format!("The value '{value}' is invalid."))
        };
        let generic = |s: &str| GenericEventsQuery::from_request(&q(s), None);
        assert_eq!(
            generic("resource=urn:altinn:resource:x&after=0&size=").unwrap_err(),
            invalid("size", "")
        );
        assert_eq!(
            generic("resource=urn:altinn:resource:x&after=0&size=%20").unwrap_err(),
            invalid("size", " ")
        );
        assert!(generic("resource=urn:altinn:resource:x&after=0").is_ok());
        let app = |s: &str| AppEventsQuery::from_request(&q(s), None, AppEndpoint::ForParty);
        assert_eq!(app("after=0&party=").unwrap_err(), invalid("party", ""));
        assert_eq!(
            app("after=0&party=1&size=").unwrap_err(),
            invalid("size", "")
        );
        assert_eq!(
            app("after=0&party=&size=+").unwrap_err(),
            ApiError::validation_many(vec![
                ("party".into(), vec!["The value '' is invalid.".into()]),
                ("size".into(), vec!["The value ' ' is invalid.".into()]),
            ])
        );
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn binding_errors_come_first_and_together() {
        use AppEndpoint::{ForOrg, ForParty};
        let cases: Vec<(&str, AppEndpoint, Result<AppEventsQuery, ApiError>)> = vec![
            ("party=abc", ForOrg, binding(&[("party", "abc")])),
            ("after=1&size=x", ForParty, binding(&[("size", "x")])),
            (
                "size=x&party=1.5",
                ForOrg,
                binding(&[("party", "1.5"), ("size", "x")]),
            ),
            (
                "party=99999999999",
                ForOrg,
                binding(&[("party", "99999999999")]),
            ),
            (
                "size=12&to=tomorrow&from=yesterday&party=z",
                ForOrg,
                binding(&[("from", "yesterday"), ("to", "tomorrow"), ("party", "z")]),
            ),
            // An unencoded '+' becomes a space.
            (
                "from=2020-01-01T00:00:00+01:00",
                ForOrg,
                binding(&[("from", "2020-01-01T00:00:00 01:00")]),
            ),
            (
                "after=1&to=2020-01-01T00:00+01:00",
                ForOrg,
                binding(&[("to", "2020-01-01T00:00 01:00")]),
            ),
            (
                "From=2020-13-01Z",
                ForOrg,
                binding(&[("from", "2020-13-01Z")]),
            ),
        ];
        for (query, endpoint, want) in cases {
            assert_eq!(run(query, None, endpoint), want, "{query}");
        }
        let rendered = run("party=abc&size=x", None, ForOrg)
            .unwrap_err()
            .render("t");
        assert_eq!(
            (rendered.status, rendered.body.as_str()),
            (
                400,
                "{\"type\":\"https://tools.ietf.org/html/rfc9110#section-15.5.1\",\"title\":\"One or more validation errors occurred.\",\"status\":400,\"errors\":{\"party\":[\"The value 'abc' is not valid for party.\"],\"size\":[\"The value 'x' is not valid for size.\"]},\"traceId\":\"t\"}"
            )
        );
        let rendered = run("after=1&size=0", None, ForOrg).unwrap_err().render("t");
        assert_eq!(
            (rendered.status, rendered.body.as_str()),
            (
                400,
                "{\"type\":\"https://tools.ietf.org/html/rfc9110#section-15.5.1\",\"title\":\"Bad Request\",\"status\":400,\"detail\":\"The 'Size' parameter must be a number larger that 0.\",\"traceId\":\"t\"}"
            )
        );
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn accepted_queries() {
        use AppEndpoint::{ForOrg, ForParty};
        let cases: Vec<(&str, Option<&str>, AppEndpoint, AppEventsQuery)> = vec![
            (
                "from=2020-01-01Z",
                None,
                ForOrg,
                AppEventsQuery {
                    from: ts("2020-01-01T00:00:00Z"),
                    ..base()
                },
            ),
            (
                "after=0&size=100000&from=&to=",
                None,
                ForOrg,
                AppEventsQuery {
                    after: after0(),
                    size: 100_000,
                    ..base()
                },
            ),
            (
                "from=2020-01-01T01:00:00%2B01:00&to=2020-01-02T00:00:00.5-02:00&size=1",
                None,
                ForOrg,
                AppEventsQuery {
                    from: ts("2020-01-01T00:00:00Z"),
                    to: ts("2020-01-02T02:00:00.5Z"),
                    size: 1,
                    ..base()
                },
            ),
            (
                "after=0&type=app.%25&type=&TYPE=b&source=https://x/%25",
                None,
                ForOrg,
                AppEventsQuery {
                    after: after0(),
                    types: vec!["app.%".to_owned(), "b".to_owned()],
                    ..base()
                },
            ),
            (
                "after=0&party=1337&source=https://ttd.apps.altinn.no/ttd/%25&Source=&source=s2&type=t",
                None,
                ForParty,
                AppEventsQuery {
                    after: after0(),
                    party: 1337,
                    types: vec!["t".to_owned()],
                    sources: vec!["https://ttd.apps.altinn.no/ttd/%".to_owned(), "s2".to_owned()],
                    ..base()
                },
            ),
            (
                "after=0",
                Some(PERSON),
                ForParty,
                AppEventsQuery {
                    after: after0(),
                    person: Some(PERSON.to_owned()),
                    ..base()
                },
            ),
            (
                "after=0&unit=987654321&party=-1",
                Some(PERSON),
                ForParty,
                AppEventsQuery {
                    after: after0(),
                    unit: Some("987654321".to_owned()),
                    person: Some(PERSON.to_owned()),
                    party: -1,
                    ..base()
                },
            ),
            // Unicode digits pass the 9-digit check, as in .NET.
            (
                "after=0&unit=%D9%A1%D9%A2%D9%A3%D9%A4%D9%A5%D9%A6%D9%A7%D9%A8%D9%A9",
                None,
                ForParty,
                AppEventsQuery {
                    after: after0(),
                    unit: Some("١٢٣٤٥٦٧٨٩".to_owned()),
                    ..base()
                },
            ),
            (
                "after=0&party=5",
                Some(""),
                ForOrg,
                AppEventsQuery {
                    after: after0(),
                    party: 5,
                    ..base()
                },
            ),
        ];
        for (query, person, endpoint, want) in cases {
            assert_eq!(run(query, person, endpoint), Ok(want), "{query}");
        }
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn subject_sources() {
        use AppEndpoint::{ForOrg, ForParty};
        let cases: Vec<(&str, Option<&str>, AppEndpoint, SubjectSource)> = vec![
            ("after=0", None, ForOrg, SubjectSource::None),
            ("after=0&party=-2", None, ForOrg, SubjectSource::None),
            ("after=0&party=42", None, ForParty, SubjectSource::Party(42)),
            (
                "after=0",
                Some(PERSON),
                ForParty,
                SubjectSource::LookupPerson(PERSON.to_owned()),
            ),
            (
                "after=0&unit=987654321",
                None,
                ForOrg,
                SubjectSource::LookupUnit("987654321".to_owned()),
            ),
            (
                "after=0&unit=987654321",
                Some(PERSON),
                ForParty,
                SubjectSource::LookupUnit("987654321".to_owned()),
            ),
        ];
        for (query, person, endpoint, want) in cases {
            let got = run(query, person, endpoint).map(|q| q.subject_source());
            assert_eq!(got, Ok(want), "{query} {person:?}");
        }
    }
}
