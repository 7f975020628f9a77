//! Small JSON writing helpers used on hot paths (event serialisation, error bodies) where
//! building a `serde_json::Value` first would cost an allocation per node.

use alloc::string::String;

const HEX: &[u8; 16] = b"0123456789abcdef";

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
                out.push(HEX[(b >> 4) as usize] as char);
                out.push(HEX[(b & 0xf) as usize] as char);
            }
        }
        start = i + 1;
    }
    out.push_str(&s[start..]);
    out.push('"');
}

/// A JSON string literal of `s`, as a new string.
pub fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    write_json_string(&mut out, s);
    out
}

/// Append already-valid JSON text without its insignificant whitespace.
///
/// The input must be valid JSON (it comes from serde_json's `RawValue`, which checked it);
/// string literals are copied byte for byte, escapes included.
pub fn write_minified(out: &mut String, json: &str) {
    let bytes = json.as_bytes();
    // Fast path: nothing to strip.
    if !bytes
        .iter()
        .any(|b| matches!(b, b' ' | b'\n' | b'\r' | b'\t'))
    {
        out.push_str(json);
        return;
    }
    out.reserve(json.len());
    let mut in_string = false;
    let mut escaped = false;
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b' ' | b'\n' | b'\r' | b'\t' => {
                out.push_str(&json[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push_str(&json[start..]);
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test(unsupported = test)]
    fn escapes_quotes_backslashes_and_controls() {
        assert_eq!(
            json_string("a\"b\\c\nd\u{1}é"),
            "\"a\\\"b\\\\c\\nd\\u0001é\""
        );
        assert_eq!(json_string(""), "\"\"");
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
}
