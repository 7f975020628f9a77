//! CloudEvents 1.0 in structured-mode JSON, parsed and written as Altinn's .NET SDK does it
//! (spec §4.1–§4.3), with attribute order preserved.
//!
//! Parsing borrows every attribute straight from the request body (serde_json `RawValue`), so
//! a publish costs one pass over the bytes plus small per-attribute work.

use alloc::borrow::{Cow, ToOwned};
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

use base64::Engine;
use serde_json::value::RawValue;

use crate::json::{write_json_string, write_minified, Members};
use crate::time::Timestamp;
use crate::urn;

/// The only CloudEvents version accepted.
pub const SPEC_VERSION: &str = "1.0";

/// Attribute names with a fixed meaning in CloudEvents 1.0 (besides `specversion` and data).
const STRING_ATTRIBUTES: [&str; 6] = [
    "id",
    "source",
    "type",
    "subject",
    "datacontenttype",
    "dataschema",
];

/// The payload of an event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Data {
    /// JSON value (including a JSON string for `text/*` data), minified.
    Json(String),
    /// Binary data, kept as its (validated) base64 text.
    Base64(String),
}

/// A CloudEvent: attributes in the order they were given, plus data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CloudEvent {
    /// Every attribute except `specversion`, as (name, value). `time` holds the SDK's
    /// formatting of the parsed timestamp.
    attrs: Vec<(String, String)>,
    time: Option<Timestamp>,
    data: Option<Data>,
}

/// Why a request body is not an acceptable CloudEvent. The message is what the client sees
/// (under `errors.RequestBody` of a ValidationProblem).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventError(pub String);

impl fmt::Display for EventError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

const NOT_A_CLOUD_EVENT: &str = "Structured mode content does not represent a CloudEvent";

fn err(msg: impl Into<String>) -> EventError {
    EventError(msg.into())
}

/// What kind of JSON value a raw value is, from its first byte.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    String,
    Number,
    Bool,
    Null,
    Object,
    Array,
}

fn kind(raw: &RawValue) -> Kind {
    match raw.get().as_bytes().first() {
        Some(b'"') => Kind::String,
        Some(b't') | Some(b'f') => Kind::Bool,
        Some(b'n') => Kind::Null,
        Some(b'{') => Kind::Object,
        Some(b'[') => Kind::Array,
        _ => Kind::Number,
    }
}

fn raw_string(raw: &RawValue) -> Option<Cow<'_, str>> {
    let text = raw.get();
    // Unescaped strings can be borrowed without running the parser again.
    let inner = &text[1..text.len() - 1];
    if !inner.contains('\\') {
        return Some(Cow::Borrowed(inner));
    }
    serde_json::from_str::<String>(text).ok().map(Cow::Owned)
}

/// Attribute names must be non-empty lower-case ASCII letters and digits.
pub fn is_valid_attribute_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

impl CloudEvent {
    /// An event with the three required attributes, in the order id, source, type.
    pub fn new(id: &str, source: &str, type_: &str) -> Self {
        let mut attrs = Vec::with_capacity(8);
        attrs.push(("id".to_owned(), id.to_owned()));
        attrs.push(("source".to_owned(), source.to_owned()));
        attrs.push(("type".to_owned(), type_.to_owned()));
        CloudEvent {
            attrs,
            time: None,
            data: None,
        }
    }

    /// An event with no attributes yet; attributes are written in the order they are pushed.
    pub fn empty() -> Self {
        CloudEvent {
            attrs: Vec::with_capacity(8),
            time: None,
            data: None,
        }
    }

    /// Parse a structured-mode CloudEvent (`application/cloudevents+json`) by the SDK's rules
    /// (spec §4.2).
    pub fn parse(body: &[u8]) -> Result<CloudEvent, EventError> {
        let members: Members<'_> = match serde_json::from_slice(body) {
            Ok(m) => m,
            Err(e) if e.classify() == serde_json::error::Category::Data => {
                return Err(err(NOT_A_CLOUD_EVENT))
            }
            Err(e) => {
                let mut msg = String::from("The request body is not valid JSON: ");
                msg.push_str(&e.to_string());
                return Err(EventError(msg));
            }
        };
        let members = members.0;

        // specversion first: it decides how everything else is read.
        let spec = members
            .iter()
            .rev()
            .find(|(k, _)| k == "specversion")
            .map(|(_, v)| *v)
            .ok_or_else(|| err(NOT_A_CLOUD_EVENT))?;
        if kind(spec) != Kind::String {
            return Err(err(NOT_A_CLOUD_EVENT));
        }
        let version = raw_string(spec).ok_or_else(|| err(NOT_A_CLOUD_EVENT))?;
        if version != SPEC_VERSION {
            let mut msg = String::from("Unsupported CloudEvents spec version '");
            msg.push_str(&version);
            msg.push('\'');
            return Err(EventError(msg));
        }

        let mut event = CloudEvent::empty();
        let mut data: Option<&RawValue> = None;
        let mut data_base64: Option<String> = None;
        for (key, raw) in &members {
            let key: &str = key;
            match key {
                "specversion" => continue,
                "data" => {
                    data = (kind(raw) != Kind::Null).then_some(*raw);
                    continue;
                }
                "data_base64" => {
                    match kind(raw) {
                        Kind::Null => data_base64 = None,
                        Kind::String => {
                            let text = raw_string(raw).unwrap_or_default();
                            if base64::engine::general_purpose::STANDARD
                                .decode(text.as_bytes())
                                .is_err()
                            {
                                return Err(err(
                                    "Invalid value for 'data_base64': it is not valid base64.",
                                ));
                            }
                            data_base64 = Some(text.into_owned());
                        }
                        _ => {
                            return Err(err(
                                "Invalid value for 'data_base64': expected a JSON string.",
                            ))
                        }
                    }
                    continue;
                }
                _ => {}
            }
            if !is_valid_attribute_name(key) {
                let mut msg = String::from("Invalid attribute name '");
                msg.push_str(key);
                msg.push_str(
                    "': attribute names must consist of lower-case ASCII letters and digits.",
                );
                return Err(EventError(msg));
            }
            let value: Option<String> = if key == "time" || STRING_ATTRIBUTES.contains(&key) {
                match kind(raw) {
                    Kind::Null => None,
                    Kind::String => Some(raw_string(raw).unwrap_or_default().into_owned()),
                    _ => return Err(invalid_attribute(key, "expected a JSON string")),
                }
            } else {
                extension_value(key, raw)?
            };
            match value {
                None => {
                    event.remove(key);
                }
                Some(value) if key == "time" => {
                    let ts = Timestamp::parse_rfc3339(&value).map_err(|_| {
                        let mut reason = String::from("'");
                        reason.push_str(&value);
                        reason.push_str("' is not an RFC 3339 timestamp with a time zone offset");
                        invalid_attribute("time", &reason)
                    })?;
                    event.set_time(ts);
                }
                Some(value) => {
                    if key == "dataschema" && !looks_absolute_uri(&value) {
                        return Err(invalid_attribute(key, "expected an absolute URI"));
                    }
                    event.set(key, value);
                }
            }
        }

        let missing: Vec<&str> = ["id", "source", "type"]
            .into_iter()
            .filter(|name| event.get(name).is_none())
            .collect();
        if !missing.is_empty() {
            let mut msg = String::from("CloudEvent is missing required attributes: ");
            msg.push_str(&missing.join(", "));
            msg.push_str(" (Parameter 'data')");
            return Err(EventError(msg));
        }
        for name in ["id", "source", "type"] {
            if event.get(name).is_some_and(str::is_empty) {
                return Err(invalid_attribute(name, "must not be empty"));
            }
        }

        match (data, data_base64) {
            (Some(_), Some(_)) => {
                return Err(err(
                    "A CloudEvent cannot have both 'data' and 'data_base64' properties.",
                ))
            }
            (Some(raw), None) => {
                check_data_encoding(event.get("datacontenttype"), kind(raw) == Kind::String)?;
                let mut text = String::new();
                write_minified(&mut text, raw.get());
                event.data = Some(Data::Json(text));
            }
            (None, Some(b64)) => event.data = Some(Data::Base64(b64)),
            (None, None) => {}
        }
        Ok(event)
    }

    /// The value of an attribute (`time` as formatted by the SDK).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Set an attribute, keeping its position if it exists, else appending it.
    /// Use [`CloudEvent::set_time`] for `time`.
    pub fn set(&mut self, name: &str, value: impl Into<String>) {
        let value = value.into();
        match self.attrs.iter_mut().find(|(n, _)| n == name) {
            Some(slot) => slot.1 = value,
            None => self.attrs.push((name.to_owned(), value)),
        }
    }

    /// Set `time`.
    pub fn set_time(&mut self, time: Timestamp) {
        self.time = Some(time);
        self.set("time", time.format());
    }

    /// Remove an attribute; returns its value.
    pub fn remove(&mut self, name: &str) -> Option<String> {
        let i = self.attrs.iter().position(|(n, _)| n == name)?;
        if name == "time" {
            self.time = None;
        }
        Some(self.attrs.remove(i).1)
    }

    /// Attributes in order (excluding `specversion`).
    pub fn attributes(&self) -> impl Iterator<Item = (&str, &str)> {
        self.attrs.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }

    pub fn id(&self) -> &str {
        self.get("id").unwrap_or("")
    }
    pub fn source(&self) -> &str {
        self.get("source").unwrap_or("")
    }
    pub fn type_(&self) -> &str {
        self.get("type").unwrap_or("")
    }
    pub fn subject(&self) -> Option<&str> {
        self.get("subject")
    }
    pub fn resource(&self) -> Option<&str> {
        self.get("resource")
    }
    pub fn alternative_subject(&self) -> Option<&str> {
        self.get("alternativesubject")
    }
    pub fn resource_instance(&self) -> Option<&str> {
        self.get("resourceinstance")
    }
    pub fn time(&self) -> Option<Timestamp> {
        self.time
    }
    pub fn data(&self) -> Option<&Data> {
        self.data.as_ref()
    }
    pub fn set_data(&mut self, data: Option<Data>) {
        self.data = data;
    }

    /// Structured-mode JSON as stored and delivered: `specversion` first, attributes in order,
    /// data last; `time` keeps the offset it was published with.
    pub fn to_json(&self) -> String {
        let mut out = String::with_capacity(256);
        self.write_json(&mut out, false);
        out
    }

    /// Structured-mode JSON as the read APIs return it: `time` converted to UTC.
    pub fn to_json_utc(&self) -> String {
        let mut out = String::with_capacity(256);
        self.write_json(&mut out, true);
        out
    }

    /// True when [`to_json`](Self::to_json) and [`to_json_utc`](Self::to_json_utc) differ.
    pub fn has_non_utc_time(&self) -> bool {
        self.time.is_some_and(|t| !t.is_utc())
    }

    /// Append the JSON form to `out`.
    ///
    /// Written by hand, not by a serde derive: attributes are kept as text in publish order and
    /// `data` as minified raw JSON, so writing is copying, and `BENCHMARKS.md` (cloudevent_parse,
    /// which parses and writes) shows this path pays for itself.
    pub fn write_json(&self, out: &mut String, utc_time: bool) {
        out.push_str("{\"specversion\":\"1.0\"");
        for (name, value) in &self.attrs {
            out.push(',');
            write_json_string(out, name);
            out.push(':');
            match (name.as_str(), self.time) {
                ("time", Some(t)) if utc_time && !t.is_utc() => {
                    out.push('"');
                    t.to_utc().write_to(out);
                    out.push('"');
                }
                _ => write_json_string(out, value),
            }
        }
        match &self.data {
            Some(Data::Json(json)) => {
                out.push_str(",\"data\":");
                out.push_str(json);
            }
            Some(Data::Base64(b64)) => {
                out.push_str(",\"data_base64\":");
                write_json_string(out, b64);
            }
            None => {}
        }
        out.push('}');
    }

    /// Rewrite the legacy resource format `urn:altinn:resource:altinnapp.{org}.{app}` into
    /// `urn:altinn:resource:app_{org}_{app}`, taking org and app from the source path (spec §4.6).
    pub fn normalise_resource(&mut self) {
        let Some(resource) = self.resource() else {
            return;
        };
        if !resource.starts_with("urn:altinn:resource:altinnapp.") {
            return;
        }
        let (org, app) = app_source_parts(self.source())
            .map(|p| (p.org, p.app))
            .unwrap_or_default();
        self.set("resource", urn::app_resource(&org, &app));
    }
}

fn invalid_attribute(name: &str, reason: &str) -> EventError {
    let mut msg = String::from("Invalid value for attribute '");
    msg.push_str(name);
    msg.push_str("': ");
    msg.push_str(reason);
    msg.push('.');
    EventError(msg)
}

/// Extension values: strings as they are; booleans and 32-bit integers as their text;
/// null means "absent"; anything else is rejected (spec §4.2).
fn extension_value(name: &str, raw: &RawValue) -> Result<Option<String>, EventError> {
    match kind(raw) {
        Kind::Null => Ok(None),
        Kind::String => Ok(Some(raw_string(raw).unwrap_or_default().into_owned())),
        Kind::Bool => Ok(Some(raw.get().to_owned())),
        Kind::Number => {
            let text = raw.get();
            match text.parse::<i32>() {
                Ok(n) => Ok(Some(n.to_string())),
                Err(_) => Err(invalid_extension(
                    name,
                    "numbers must be integers that fit in 32 bits",
                )),
            }
        }
        Kind::Object | Kind::Array => Err(invalid_extension(
            name,
            "extension values must be strings, booleans or integers",
        )),
    }
}

fn invalid_extension(name: &str, reason: &str) -> EventError {
    let mut msg = String::from("Invalid value for extension attribute '");
    msg.push_str(name);
    msg.push_str("': ");
    msg.push_str(reason);
    msg.push('.');
    EventError(msg)
}

fn looks_absolute_uri(s: &str) -> bool {
    let Some(colon) = s.find(':') else {
        return false;
    };
    let scheme = &s[..colon];
    let mut bytes = scheme.bytes();
    matches!(bytes.next(), Some(b) if b.is_ascii_alphabetic())
        && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
        && colon + 1 < s.len()
        && !s.bytes().any(|b| b <= b' ' || b == 0x7f)
}

/// A media type `type/subtype` (lower-cased) from a content-type value; parameters ignored.
pub fn media_type(content_type: &str) -> Option<String> {
    let essence = content_type.split(';').next()?.trim();
    let (t, s) = essence.split_once('/')?;
    let token = |x: &str| {
        !x.is_empty()
            && x.bytes().all(|b| {
                b.is_ascii_alphanumeric()
                    || matches!(
                        b,
                        b'!' | b'#' | b'$' | b'&' | b'-' | b'^' | b'_' | b'.' | b'+'
                    )
            })
    };
    if !token(t) || !token(s) {
        return None;
    }
    let mut out = String::with_capacity(essence.len());
    out.push_str(essence);
    out.make_ascii_lowercase();
    Some(out)
}

/// True for `application/json` and any `+json` structured-syntax type.
pub fn is_json_media_type(media_type: &str) -> bool {
    media_type == "application/json" || media_type.ends_with("+json")
}

/// Data must be writable again in structured mode (the SDK fails at serialisation otherwise,
/// which Altinn turns into a 500; here it is a 400 at the door).
fn check_data_encoding(content_type: Option<&str>, is_string: bool) -> Result<(), EventError> {
    let Some(ct) = content_type else {
        return Ok(());
    };
    let Some(mt) = media_type(ct) else {
        let mut msg = String::from("Invalid value for attribute 'datacontenttype': '");
        msg.push_str(ct);
        msg.push_str("' is not a media type.");
        return Err(EventError(msg));
    };
    if is_json_media_type(&mt) || (is_string && mt.starts_with("text/")) {
        return Ok(());
    }
    let mut msg = String::from("Data cannot be written in structured mode with content type '");
    msg.push_str(ct);
    msg.push_str(
        "': use JSON data with a JSON content type, a string with a text/* type, or data_base64.",
    );
    Err(EventError(msg))
}

/// The parts of an app instance source `https://{host}/{org}/{app}/instances/{party}/{guid}`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AppSourceParts {
    pub org: String,
    pub app: String,
    pub party_id: String,
    pub instance_guid: String,
    /// Number of parts of the path split on `/` (6 for a full instance path).
    pub path_parts: usize,
}

/// Split an absolute source URL's path the way Altinn does (`AbsolutePath.Split('/')`).
/// `None` when the source is not an absolute URL or the path has 5 parts or fewer.
pub fn app_source_parts(source: &str) -> Option<AppSourceParts> {
    let uri = crate::uri::AbsoluteUri::parse(source).ok()?;
    let parts: Vec<&str> = uri.path_segments().collect();
    let [_, org, app, _, party_id, instance_guid, ..] = parts.as_slice() else {
        return None;
    };
    Some(AppSourceParts {
        org: (*org).to_owned(),
        app: (*app).to_owned(),
        party_id: (*party_id).to_owned(),
        instance_guid: (*instance_guid).to_owned(),
        path_parts: parts.len(),
    })
}

/// The number of `/`-separated parts of an absolute source URL's path, if it is one.
pub fn source_path_part_count(source: &str) -> Option<usize> {
    let uri = crate::uri::AbsoluteUri::parse(source).ok()?;
    Some(uri.path_segments().count())
}

/// True for an app instance URL `https://{host}/{org}/{app}/instances/{party}/{guid}`: a path of
/// exactly 6 parts. Only such events can be returned by the app-event read APIs (spec §6.6).
pub fn is_instance_source(source: &str) -> bool {
    source_path_part_count(source) == Some(6)
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    fn parse(s: &str) -> Result<CloudEvent, String> {
        CloudEvent::parse(s.as_bytes()).map_err(|e| e.0)
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn keeps_order_and_puts_specversion_first_and_data_last() {
        let e = parse(r#"{"id":"1","data":{ "a" : [1, 2] },"source":"https://x/y","specversion":"1.0","type":"t","resource":"urn:altinn:resource:r","zeta":"z"}"#).unwrap();
        assert_eq!(
            e.to_json(),
            r#"{"specversion":"1.0","id":"1","source":"https://x/y","type":"t","resource":"urn:altinn:resource:r","zeta":"z","data":{"a":[1,2]}}"#
        );
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn extension_values_become_strings() {
        let e = parse(r#"{"specversion":"1.0","id":"1","source":"s","type":"t","flag":true,"n":-42,"s":"x","gone":null}"#).unwrap();
        assert_eq!(e.get("flag"), Some("true"));
        assert_eq!(e.get("n"), Some("-42"));
        assert_eq!(e.get("gone"), None);
        assert_eq!(
            e.to_json(),
            r#"{"specversion":"1.0","id":"1","source":"s","type":"t","flag":"true","n":"-42","s":"x"}"#
        );
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn rejections_table() {
        let cases: &[(&str, &str)] = &[
            ("[1]", NOT_A_CLOUD_EVENT),
            ("\"x\"", NOT_A_CLOUD_EVENT),
            (r#"{"id":"1"}"#, NOT_A_CLOUD_EVENT),
            (r#"{"specversion":1.0,"id":"1"}"#, NOT_A_CLOUD_EVENT),
            (r#"{"specversion":"0.3","id":"1","source":"s","type":"t"}"#, "Unsupported CloudEvents spec version '0.3'"),
            (r#"{"specversion":"1.0","source":"s","type":"t"}"#, "CloudEvent is missing required attributes: id (Parameter 'data')"),
            (r#"{"specversion":"1.0","id":null}"#, "CloudEvent is missing required attributes: id, source, type (Parameter 'data')"),
            (r#"{"specversion":"1.0","id":"1","source":"s","type":"t","alternativeSubject":"x"}"#, "Invalid attribute name 'alternativeSubject': attribute names must consist of lower-case ASCII letters and digits."),
            (r#"{"specversion":"1.0","id":"1","source":"s","type":"t","a_b":"x"}"#, "Invalid attribute name 'a_b': attribute names must consist of lower-case ASCII letters and digits."),
            (r#"{"specversion":"1.0","id":1,"source":"s","type":"t"}"#, "Invalid value for attribute 'id': expected a JSON string."),
            (r#"{"specversion":"1.0","id":"","source":"s","type":"t"}"#, "Invalid value for attribute 'id': must not be empty."),
            (r#"{"specversion":"1.0","id":"1","source":"s","type":"t","ext":{"a":1}}"#, "Invalid value for extension attribute 'ext': extension values must be strings, booleans or integers."),
            (r#"{"specversion":"1.0","id":"1","source":"s","type":"t","ext":[1]}"#, "Invalid value for extension attribute 'ext': extension values must be strings, booleans or integers."),
            (r#"{"specversion":"1.0","id":"1","source":"s","type":"t","ext":1.5}"#, "Invalid value for extension attribute 'ext': numbers must be integers that fit in 32 bits."),
            (r#"{"specversion":"1.0","id":"1","source":"s","type":"t","ext":2147483648}"#, "Invalid value for extension attribute 'ext': numbers must be integers that fit in 32 bits."),
            (r#"{"specversion":"1.0","id":"1","source":"s","type":"t","time":"2022-05-12T00:02:07"}"#, "Invalid value for attribute 'time': '2022-05-12T00:02:07' is not an RFC 3339 timestamp with a time zone offset."),
            (r#"{"specversion":"1.0","id":"1","source":"s","type":"t","data":1,"data_base64":"AA=="}"#, "A CloudEvent cannot have both 'data' and 'data_base64' properties."),
            (r#"{"specversion":"1.0","id":"1","source":"s","type":"t","data_base64":"%%%"}"#, "Invalid value for 'data_base64': it is not valid base64."),
            (r#"{"specversion":"1.0","id":"1","source":"s","type":"t","dataschema":"relative/x"}"#, "Invalid value for attribute 'dataschema': expected an absolute URI."),
            (r#"{"specversion":"1.0","id":"1","source":"s","type":"t","datacontenttype":"application/xml","data":{"a":1}}"#, "Data cannot be written in structured mode with content type 'application/xml': use JSON data with a JSON content type, a string with a text/* type, or data_base64."),
        ];
        for (input, message) in cases {
            assert_eq!(
                parse(input).err().as_deref(),
                Some(*message),
                "input: {input}"
            );
        }
        let bad_json = parse("{\"specversion\":").unwrap_err();
        assert!(
            bad_json.starts_with("The request body is not valid JSON: "),
            "{bad_json}"
        );
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn data_encodings() {
        let e = parse(r#"{"specversion":"1.0","id":"1","source":"s","type":"t","datacontenttype":"text/plain","data":"hello"}"#).unwrap();
        assert_eq!(e.data(), Some(&Data::Json("\"hello\"".into())));
        let e =
            parse(r#"{"specversion":"1.0","id":"1","source":"s","type":"t","data_base64":"AAEC"}"#)
                .unwrap();
        assert!(e.to_json().ends_with(r#","data_base64":"AAEC"}"#));
        let e = parse(r#"{"specversion":"1.0","id":"1","source":"s","type":"t","datacontenttype":"application/vnd.x+json; charset=utf-8","data":[1]}"#).unwrap();
        assert_eq!(e.data(), Some(&Data::Json("[1]".into())));
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn time_is_canonicalised_and_converted_for_reads() {
        let e = parse(r#"{"specversion":"1.0","id":"1","source":"s","type":"t","time":"2022-05-12T02:02:07.5+02:00"}"#).unwrap();
        assert_eq!(e.get("time"), Some("2022-05-12T02:02:07.500+02:00"));
        assert!(e.has_non_utc_time());
        assert_eq!(
            e.to_json_utc(),
            r#"{"specversion":"1.0","id":"1","source":"s","type":"t","time":"2022-05-12T00:02:07.500Z"}"#
        );
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn escaped_strings_round_trip() {
        let e =
            parse(r#"{"specversion":"1.0","id":"a\"b","source":"s\u00e9","type":"t"}"#).unwrap();
        assert_eq!(e.id(), "a\"b");
        assert_eq!(e.source(), "sé");
        assert_eq!(
            e.to_json(),
            r#"{"specversion":"1.0","id":"a\"b","source":"sé","type":"t"}"#
        );
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn legacy_resource_format_is_rewritten() {
        let mut e = parse(r#"{"specversion":"1.0","id":"1","source":"https://ttd.apps.altinn.cloud/skd/endring-av-navn/instances/1337/abc","type":"t","resource":"urn:altinn:resource:altinnapp.skd.endring-av-navn"}"#).unwrap();
        e.normalise_resource();
        assert_eq!(
            e.resource(),
            Some("urn:altinn:resource:app_skd_endring-av-navn")
        );
        let mut e = parse(r#"{"specversion":"1.0","id":"1","source":"https://x/a/b","type":"t","resource":"urn:altinn:resource:altinnapp.a.b"}"#).unwrap();
        e.normalise_resource();
        assert_eq!(e.resource(), Some("urn:altinn:resource:app__"));
        let mut e = parse(r#"{"specversion":"1.0","id":"1","source":"s","type":"t","resource":"urn:altinn:resource:other"}"#).unwrap();
        e.normalise_resource();
        assert_eq!(e.resource(), Some("urn:altinn:resource:other"));
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn media_types() {
        assert_eq!(
            media_type("Application/CloudEvents+JSON; charset=utf-8").as_deref(),
            Some("application/cloudevents+json")
        );
        assert_eq!(media_type("nonsense"), None);
        assert!(is_json_media_type("application/cloudevents+json"));
        assert!(!is_json_media_type("text/json"));
    }
}
