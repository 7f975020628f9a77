//! JSON helpers: [`to_json`] for the documents serde derives write, and the hand-written
//! CloudEvent writer's pieces ([`write_json_string`], [`write_minified`]), kept because
//! `BENCHMARKS.md` measures CloudEvent parse + write and the hand-written path pays there.

use alloc::borrow::Cow;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde::Serialize;
use serde_json::value::RawValue;

/// The lower-case hex digit of the low four bits of `nibble`.
pub fn hex_digit(nibble: u8) -> char {
    match nibble & 0xf {
        n @ 0..=9 => char::from(b'0' + n),
        n => char::from(b'a' + n - 10),
    }
}

/// Append `s` as a JSON string literal (quotes included). Escapes `"`, `\` and control
/// characters; everything else, including non-ASCII, is written as is.
pub fn write_json_string(out: &mut String, s: &str) {
    out.reserve(s.len() + 2);
    out.push('"');
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let escape: Option<&str> = match b {
            b'"' => Some("\\\""),
            b'\\' => Some("\\\\"),
            b'\n' => Some("\\n"),
            b'\r' => Some("\\r"),
            b'\t' => Some("\\t"),
            0x08 => Some("\\b"),
            0x0c => Some("\\f"),
            0x00..=0x1f | 0x7f => None,
            _ => continue,
        };
        out.push_str(&s[start..i]);
        match escape {
            Some(e) => out.push_str(e),
            None => {
                out.push_str("\\u00");
                out.push(hex_digit(b >> 4));
                out.push(hex_digit(b));
            }
        }
        start = i + 1;
    }
    out.push_str(&s[start..]);
    out.push('"');
}

/// `value` as compact JSON, written by its `Serialize` impl.
///
/// serde_json fails only for a map with non-string keys or a `Serialize` impl that reports an
/// error; the documents of this crate and the worker have neither, so the empty string this
/// returns on failure is never sent.
pub fn to_json<T: Serialize + ?Sized>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

/// Append already-valid JSON text without its insignificant whitespace.
///
/// The input must be valid JSON (it comes from serde_json's `RawValue`, which checked it);
/// string literals are copied byte for byte, escapes included.
pub fn write_minified(out: &mut String, json: &str) {
    let bytes = json.as_bytes();
    out.reserve(json.len());
    // Copied in runs between whitespace: compact JSON is one run.
    let mut start = 0;
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            // A string: skip to its closing quote (the only bytes that matter in it are `"`
            // and `\`, and the byte after a `\` is never the end).
            b'"' => {
                i += 1;
                while let Some(offset) = bytes
                    .get(i..)
                    .and_then(|rest| rest.iter().position(|&c| c == b'"' || c == b'\\'))
                {
                    i += offset;
                    if bytes.get(i) == Some(&b'"') {
                        break;
                    }
                    i += 2;
                }
            }
            b' ' | b'\n' | b'\r' | b'\t' => {
                out.push_str(json.get(start..i).unwrap_or_default());
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    out.push_str(json.get(start..).unwrap_or_default());
}

/// The members of a JSON object, borrowed from the input, in document order (a body read once,
/// each value kept as raw JSON for the caller to interpret).
pub struct Members<'a>(pub Vec<(Cow<'a, str>, &'a RawValue)>);

impl<'de> Deserialize<'de> for Members<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct MembersVisitor;
        impl<'de> Visitor<'de> for MembersVisitor {
            type Value = Members<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut members = Vec::with_capacity(map.size_hint().unwrap_or(12));
                while let Some(key) = map.next_key::<Cow<'de, str>>()? {
                    let value: &'de RawValue = map.next_value()?;
                    members.push((key, value));
                }
                Ok(Members(members))
            }
        }
        deserializer.deserialize_map(MembersVisitor)
    }
}

/// Deepest nesting of arrays and objects a request body may have (System.Text.Json's
/// default `MaxDepth`, which Altinn's API uses).
pub const MAX_DEPTH: usize = 64;

/// Refuse a JSON body nested deeper than [`MAX_DEPTH`] before any parser walks it (a 400
/// ValidationProblem for `$`). Brackets inside strings do not count. Text that is not JSON
/// passes here and is refused by the parser that reads it.
pub fn check_depth(body: &[u8]) -> Result<(), crate::ApiError> {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for &b in body {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err(crate::ApiError::validation(
                        "$",
                        alloc::format!(
                            "The JSON value is nested deeper than the maximum depth of {MAX_DEPTH}."
                        ),
                    ));
                }
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test(unsupported = test)]
    fn escapes_quotes_backslashes_and_controls() {
        let json_string = |s: &str| {
            let mut out = String::new();
            write_json_string(&mut out, s);
            out
        };
        assert_eq!(
            json_string("a\"b\\c\nd\u{1}é"),
            "\"a\\\"b\\\\c\\nd\\u0001é\""
        );
        assert_eq!(json_string(""), "\"\"");
        // The same text serde_json writes (the serde documents and the CloudEvent writer agree).
        assert_eq!(json_string("a\"b\\c\nd\u{1}é"), to_json("a\"b\\c\nd\u{1}é"));
    }

    /// The byte-at-a-time state machine `write_minified` must agree with.
    fn minified_slowly(json: &str) -> String {
        let mut out = String::new();
        let (mut in_string, mut escaped) = (false, false);
        for c in json.chars() {
            if in_string {
                if escaped {
                    escaped = false;
                } else if c == '\\' {
                    escaped = true;
                } else if c == '"' {
                    in_string = false;
                }
                out.push(c);
            } else if !matches!(c, ' ' | '\n' | '\r' | '\t') {
                in_string = c == '"';
                out.push(c);
            }
        }
        out
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn minify_agrees_with_a_plain_state_machine() {
        let pieces = [
            "{",
            "}",
            "[",
            "]",
            ",",
            ":",
            " ",
            "\n",
            "\t",
            "\r\n",
            "\"a b\"",
            "\"\\\"\"",
            "\"x\\\\\"",
            "\"\\\\\\\" y\"",
            "\"é \\u00e9\"",
            "1.5",
            "true",
            "null",
            "\"\"",
        ];
        let mut state: u64 = 0x5eed;
        for _ in 0..5_000 {
            let mut json = String::new();
            for _ in 0..12 {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                json.push_str(pieces[(state % pieces.len() as u64) as usize]);
            }
            let mut out = String::new();
            write_minified(&mut out, &json);
            assert_eq!(out, minified_slowly(&json), "{json:?}");
        }
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn minify_keeps_strings_intact() {
        let mut out = String::new();
        write_minified(&mut out, "{ \"a b\" : [ 1 , \"x \\\" y\" ],\n\t\"c\":{} }");
        assert_eq!(out, "{\"a b\":[1,\"x \\\" y\"],\"c\":{}}");
        let mut out = String::new();
        write_minified(&mut out, "\"already\"");
        assert_eq!(out, "\"already\"");
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn nesting_depth() {
        let nested = |n: usize| {
            let mut s = String::new();
            for _ in 0..n {
                s.push_str("{\"a\":[");
            }
            for _ in 0..n {
                s.push_str("]}");
            }
            s
        };
        // 32 pairs = 64 levels: accepted; one more level: refused.
        assert!(check_depth(nested(32).as_bytes()).is_ok());
        let deeper = alloc::format!("[{}]", nested(32));
        let e = check_depth(deeper.as_bytes()).unwrap_err();
        assert_eq!(e.status, 400);
        assert_eq!(
            e,
            crate::ApiError::validation(
                "$",
                "The JSON value is nested deeper than the maximum depth of 64."
            )
        );
        // Brackets in strings (with escaped quotes) do not count.
        let in_string = alloc::format!("{{\"s\":\"\\\"{}\"}}", "[".repeat(100));
        assert!(check_depth(in_string.as_bytes()).is_ok());
        assert!(check_depth(b"[]]]]]]{}").is_ok());
    }
}
