//! Absolute URIs the way .NET `System.Uri` treats them, for webhook endpoints and the
//! source filters of subscriptions.
//!
//! Only the hierarchical form `scheme://[userinfo@]host[:port][/path][?query][#fragment]` is
//! accepted. The parsed value keeps one normalised string (the .NET `AbsoluteUri` form) plus
//! the offsets of its parts, so accessors are free and [`AbsoluteUri::as_str`] does not allocate.

use alloc::string::String;
use core::fmt;

/// A parsed, normalised absolute URI.
///
/// Normalisation (as .NET `Uri` does): scheme and host lower-cased; a port equal to the
/// scheme's default (http 80, https 443, ftp 21) dropped; an empty path becomes `/`;
/// backslashes in the path become `/`; `.` and `..` path segments are removed; non-ASCII
/// characters, `"<>\^`{|}` (and `\` outside the path) and `%` not followed by two hex digits
/// are percent-encoded. Existing percent-escapes are kept as written.
/// Equality compares the normalised forms.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct AbsoluteUri {
    /// The normalised absolute form.
    text: String,
    /// `text[..scheme_end]` is the scheme; `text[scheme_end..scheme_end + 3]` is `://`.
    scheme_end: usize,
    /// Whether `text[scheme_end + 3..host_start - 1]` is a userinfo followed by `@`.
    has_userinfo: bool,
    host_start: usize,
    host_end: usize,
    /// Explicit, non-default port.
    port: Option<u16>,
    path_start: usize,
    query_start: usize,
    fragment_start: usize,
}

/// Why a string is not an acceptable absolute URI.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UriError {
    /// The string is empty.
    Empty,
    /// Whitespace or a control character occurs somewhere in the string.
    InvalidCharacter,
    /// No scheme: a relative reference such as `/path`, `//host/path` or `file.txt`.
    Relative,
    /// The scheme has characters other than an ASCII letter followed by letters, digits, `+`, `-`, `.`.
    InvalidScheme,
    /// `scheme:` is not followed by `//` (for example `urn:foo:bar`).
    NoAuthority,
    /// The host is empty where the scheme requires one (http, https, ftp).
    EmptyHost,
    /// The host has characters outside `[A-Za-z0-9.-_~]` and is not a bracketed IPv6 literal.
    InvalidHost,
    /// The port is not a decimal number in 0..=65535.
    InvalidPort,
    /// The userinfo has characters not allowed there.
    InvalidUserInfo,
}

impl fmt::Display for UriError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            UriError::Empty => "empty URI",
            UriError::InvalidCharacter => "URI contains whitespace or control characters",
            UriError::Relative => "URI is not absolute",
            UriError::InvalidScheme => "invalid URI scheme",
            UriError::NoAuthority => "URI has no authority ('//' after the scheme)",
            UriError::EmptyHost => "URI has an empty host",
            UriError::InvalidHost => "invalid URI host",
            UriError::InvalidPort => "invalid URI port",
            UriError::InvalidUserInfo => "invalid URI user info",
        })
    }
}

impl core::error::Error for UriError {}

/// Default port of the schemes .NET knows and Altinn uses.
fn default_port(scheme: &str) -> Option<u16> {
    match scheme {
        "http" => Some(80),
        "https" => Some(443),
        "ftp" => Some(21),
        _ => None,
    }
}

/// Whether the scheme (any case) needs a non-empty host.
fn host_required(scheme: &str) -> bool {
    ["http", "https", "ftp"]
        .iter()
        .any(|s| s.eq_ignore_ascii_case(scheme))
}

impl AbsoluteUri {
    /// Parses `scheme://[userinfo@]host[:port][/path][?query][#fragment]`.
    ///
    /// The scheme is an ASCII letter followed by letters, digits, `+`, `-` or `.`. The host must
    /// be non-empty for http, https and ftp and consist of `[A-Za-z0-9.-_~]`, or be an IPv6
    /// literal in brackets. The port, if given, is at most 65535 (an empty port means none).
    /// Whitespace and control characters anywhere, relative references and `scheme:` without
    /// `//` are errors.
    pub fn parse(s: &str) -> Result<AbsoluteUri, UriError> {
        if s.is_empty() {
            return Err(UriError::Empty);
        }
        if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(UriError::InvalidCharacter);
        }
        let bytes = s.as_bytes();

        // Scheme.
        let colon = bytes
            .iter()
            .position(|&b| matches!(b, b':' | b'/' | b'?' | b'#' | b'\\'))
            .filter(|&i| bytes.get(i) == Some(&b':') && i > 0)
            .ok_or(UriError::Relative)?;
        let scheme = &s[..colon];
        if !is_scheme(scheme) {
            return Err(UriError::InvalidScheme);
        }
        let rest = &s[colon + 1..];
        let after_slashes = rest.strip_prefix("//").ok_or(UriError::NoAuthority)?;

        // Authority.
        let authority_len = after_slashes
            .bytes()
            .position(|b| matches!(b, b'/' | b'\\' | b'?' | b'#'))
            .unwrap_or(after_slashes.len());
        let authority = &after_slashes[..authority_len];
        let remainder = &after_slashes[authority_len..];
        let (userinfo, host_port) = match authority.find('@') {
            Some(at) => (Some(&authority[..at]), &authority[at + 1..]),
            None => (None, authority),
        };
        if let Some(info) = userinfo {
            if !info.bytes().all(is_userinfo_byte) {
                return Err(UriError::InvalidUserInfo);
            }
        }
        let (host, port_text) = split_host_port(host_port)?;
        if host.is_empty() && host_required(scheme) {
            return Err(UriError::EmptyHost);
        }
        let port = match port_text {
            None | Some("") => None,
            Some(p) => Some(parse_port(p)?),
        };

        // Path, query, fragment.
        let (before_fragment, fragment) = match remainder.find('#') {
            Some(i) => (&remainder[..i], &remainder[i..]),
            None => (remainder, ""),
        };
        let (path, query) = match before_fragment.find('?') {
            Some(i) => (&before_fragment[..i], &before_fragment[i..]),
            None => (before_fragment, ""),
        };

        // Build the normalised text.
        let mut text = String::with_capacity(s.len() + 8);
        for c in scheme.chars() {
            text.push(c.to_ascii_lowercase());
        }
        let scheme_end = text.len();
        text.push_str("://");
        if let Some(info) = userinfo {
            text.push_str(info);
            text.push('@');
        }
        let host_start = text.len();
        for c in host.chars() {
            text.push(c.to_ascii_lowercase());
        }
        let host_end = text.len();
        let port = port.filter(|&p| default_port(&text[..scheme_end]) != Some(p));
        if let Some(p) = port {
            use core::fmt::Write;
            // Writing to a String cannot fail.
            let _ = write!(text, ":{p}");
        }
        let path_start = text.len();
        push_normalised_path(&mut text, path);
        let query_start = text.len();
        push_escaped(&mut text, query, true);
        let fragment_start = text.len();
        push_escaped(&mut text, fragment, true);

        Ok(AbsoluteUri {
            text,
            scheme_end,
            has_userinfo: userinfo.is_some(),
            host_start,
            host_end,
            port,
            path_start,
            query_start,
            fragment_start,
        })
    }

    /// The scheme, lower-cased.
    pub fn scheme(&self) -> &str {
        &self.text[..self.scheme_end]
    }

    /// The userinfo (without `@`), if present.
    pub fn userinfo(&self) -> Option<&str> {
        if self.has_userinfo {
            self.text.get(self.scheme_end + 3..self.host_start - 1)
        } else {
            None
        }
    }

    /// The host, lower-cased; IPv6 literals keep their brackets. May be empty for schemes
    /// other than http, https and ftp.
    pub fn host(&self) -> &str {
        &self.text[self.host_start..self.host_end]
    }

    /// The explicit port, or `None` when absent or equal to the scheme's default.
    pub fn port(&self) -> Option<u16> {
        self.port
    }

    /// The port to connect to: the explicit one or the scheme's default.
    pub fn effective_port(&self) -> Option<u16> {
        self.port.or_else(|| default_port(self.scheme()))
    }

    /// The normalised path; always starts with `/`.
    pub fn path(&self) -> &str {
        &self.text[self.path_start..self.query_start]
    }

    /// The query including its `?`, or `""`.
    pub fn query(&self) -> &str {
        &self.text[self.query_start..self.fragment_start]
    }

    /// The fragment including its `#`, or `""`.
    pub fn fragment(&self) -> &str {
        &self.text[self.fragment_start..]
    }

    /// .NET `Uri.AbsoluteUri` without allocating.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// .NET `Uri.AbsoluteUri`: e.g. `HTTPS://Example.COM:443` → `https://example.com/`.
    pub fn absolute(&self) -> String {
        self.text.clone()
    }

    /// The path split on `/` as .NET code does with `uri.AbsolutePath.Split('/')`:
    /// `/ttd/app` → `["", "ttd", "app"]`.
    pub fn path_segments(&self) -> impl Iterator<Item = &str> {
        self.path().split('/')
    }

    /// .NET `Uri.IsBaseOf(other)`, used to match a subscription's source filter against an
    /// event source.
    ///
    /// False when the schemes differ. Otherwise `scheme://host[:port]/path` of `self`, cut after
    /// the last `/` of its path, must be a prefix of `other`'s `scheme://host[:port]/path?query`
    /// (userinfo and fragments ignored, as in .NET; hosts are already lower-cased). The last
    /// path segment and the query of `self` are thus ignored: `https://h/ttd/app-a` is a base of
    /// `https://h/ttd/app-b/x`.
    pub fn is_base_of(&self, other: &AbsoluteUri) -> bool {
        if self.scheme() != other.scheme() || self.host() != other.host() || self.port != other.port
        {
            return false;
        }
        // Both paths start with '/', so the authorities line up exactly; and since `base`
        // ends with '/' and holds no '?', a prefix of `other`'s path+query is a prefix of its path.
        let path = self.path();
        let base = match path.rfind('/') {
            Some(i) => &path[..=i],
            None => "/",
        };
        other.path().starts_with(base)
    }

    /// [`AbsoluteUri::is_base_of`] against a string (an event `source`), which is trimmed of
    /// surrounding ASCII whitespace and parsed; false if it is not an absolute URI.
    pub fn is_base_of_str(&self, other: &str) -> bool {
        let other = other.trim_matches(|c: char| c.is_ascii_whitespace());
        match AbsoluteUri::parse(other) {
            Ok(uri) => self.is_base_of(&uri),
            Err(_) => false,
        }
    }
}

impl fmt::Display for AbsoluteUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl core::str::FromStr for AbsoluteUri {
    type Err = UriError;

    fn from_str(s: &str) -> Result<AbsoluteUri, UriError> {
        AbsoluteUri::parse(s)
    }
}

fn is_scheme(s: &str) -> bool {
    let mut bytes = s.bytes();
    matches!(bytes.next(), Some(b) if b.is_ascii_alphabetic())
        && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
}

/// RFC 3986 `userinfo`: unreserved, sub-delims, `:` and percent-escapes.
fn is_userinfo_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'-' | b'.'
                | b'_'
                | b'~'
                | b'!'
                | b'$'
                | b'&'
                | b'\''
                | b'('
                | b')'
                | b'*'
                | b'+'
                | b','
                | b';'
                | b'='
                | b':'
                | b'%'
        )
}

fn is_host_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'~')
}

/// Splits `host[:port]` / `[v6][:port]`, validating the host.
fn split_host_port(s: &str) -> Result<(&str, Option<&str>), UriError> {
    if s.starts_with('[') {
        let close = s.find(']').ok_or(UriError::InvalidHost)?;
        let host = &s[..=close];
        if !is_ipv6(&s[1..close]) {
            return Err(UriError::InvalidHost);
        }
        let after = &s[close + 1..];
        return match after.strip_prefix(':') {
            Some(port) => Ok((host, Some(port))),
            None if after.is_empty() => Ok((host, None)),
            None => Err(UriError::InvalidHost),
        };
    }
    let (host, port) = match s.find(':') {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    if !host.bytes().all(is_host_byte) {
        return Err(UriError::InvalidHost);
    }
    Ok((host, port))
}

fn parse_port(s: &str) -> Result<u16, UriError> {
    let mut value: u32 = 0;
    for b in s.bytes() {
        if !b.is_ascii_digit() {
            return Err(UriError::InvalidPort);
        }
        value = value * 10 + u32::from(b - b'0');
        if value > u32::from(u16::MAX) {
            return Err(UriError::InvalidPort);
        }
    }
    u16::try_from(value).map_err(|_| UriError::InvalidPort)
}

/// The text between the brackets of an IPv6 literal: eight 16-bit groups of 1-4 hex digits,
/// at most one `::` standing for one or more zero groups, and optionally a dotted IPv4
/// address as the last two groups.
fn is_ipv6(s: &str) -> bool {
    s.parse::<core::net::Ipv6Addr>().is_ok()
}

/// Appends the path (without query/fragment) normalised: `/` when empty, `\` read as `/`,
/// `.` and `..` segments removed (RFC 3986 §5.2.4), characters escaped as by [`push_escaped`].
fn push_normalised_path(out: &mut String, path: &str) {
    let root = out.len();
    out.push('/');
    // The authority ends at '/' or '\', so a non-empty path starts with one of them.
    let Some(rest) = path.get(1..) else {
        return;
    };
    let mut segments = rest.split(['/', '\\']).peekable();
    while let Some(segment) = segments.next() {
        let last = segments.peek().is_none();
        match segment {
            // `out` ends with '/' here: a "." segment adds nothing.
            "." => {}
            ".." => {
                // Drop the previous segment, keeping its leading '/'.
                let current = &out[root..out.len() - 1];
                if let Some(i) = current.rfind('/') {
                    out.truncate(root + i + 1);
                }
            }
            _ => {
                push_escaped(out, segment, false);
                if !last {
                    out.push('/');
                }
            }
        }
    }
}

/// Appends `part`, percent-encoding what .NET escapes in `AbsoluteUri`: non-ASCII characters
/// (as UTF-8), `"<>^`{|}`, `\` (when `escape_backslash`) and `%` not starting an escape.
fn push_escaped(out: &mut String, part: &str, escape_backslash: bool) {
    let bytes = part.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let escape = match b {
            b'"' | b'<' | b'>' | b'^' | b'`' | b'{' | b'|' | b'}' => true,
            b'\\' => escape_backslash,
            b'%' => !(is_hex(bytes.get(i + 1)) && is_hex(bytes.get(i + 2))),
            _ => !b.is_ascii(),
        };
        if escape {
            // Every byte of a multi-byte character is escaped, so `start..i` is either whole
            // characters or empty (`get` then yields `None` only for an empty range).
            out.push_str(part.get(start..i).unwrap_or_default());
            push_percent(out, b);
            start = i + 1;
        }
    }
    out.push_str(part.get(start..).unwrap_or_default());
}

fn is_hex(b: Option<&u8>) -> bool {
    matches!(b, Some(b) if b.is_ascii_hexdigit())
}

fn push_percent(out: &mut String, b: u8) {
    out.push('%');
    out.push(crate::json::hex_digit(b >> 4).to_ascii_uppercase());
    out.push(crate::json::hex_digit(b).to_ascii_uppercase());
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;
    use alloc::vec::Vec;
    use wasm_bindgen_test::wasm_bindgen_test;

    fn uri(s: &str) -> AbsoluteUri {
        match AbsoluteUri::parse(s) {
            Ok(u) => u,
            Err(e) => panic!("{s:?} should parse: {e}"),
        }
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn parse_valid() {
        // (input, scheme, userinfo, host, port, effective port, path, query, fragment)
        #[allow(clippy::type_complexity)]
        let cases: &[(
            &str,
            &str,
            Option<&str>,
            &str,
            Option<u16>,
            Option<u16>,
            &str,
            &str,
            &str,
        )] = &[
            (
                "https://example.com",
                "https",
                None,
                "example.com",
                None,
                Some(443),
                "/",
                "",
                "",
            ),
            (
                "HTTPS://Example.COM:443",
                "https",
                None,
                "example.com",
                None,
                Some(443),
                "/",
                "",
                "",
            ),
            (
                "https://example.com:8443/a?b=1#f",
                "https",
                None,
                "example.com",
                Some(8443),
                Some(8443),
                "/a",
                "?b=1",
                "#f",
            ),
            (
                "http://localhost:80/Path/To/X/",
                "http",
                None,
                "localhost",
                None,
                Some(80),
                "/Path/To/X/",
                "",
                "",
            ),
            (
                "http://localhost:443/",
                "http",
                None,
                "localhost",
                Some(443),
                Some(443),
                "/",
                "",
                "",
            ),
            (
                "https://[::1]:8080/x",
                "https",
                None,
                "[::1]",
                Some(8080),
                Some(8080),
                "/x",
                "",
                "",
            ),
            (
                "http://[FE80::A:b]",
                "http",
                None,
                "[fe80::a:b]",
                None,
                Some(80),
                "/",
                "",
                "",
            ),
            (
                "https://[::ffff:192.168.0.1]:443/",
                "https",
                None,
                "[::ffff:192.168.0.1]",
                None,
                Some(443),
                "/",
                "",
                "",
            ),
            (
                "ftp://user:pa%20ss@Files.Example.org:21/pub",
                "ftp",
                Some("user:pa%20ss"),
                "files.example.org",
                None,
                Some(21),
                "/pub",
                "",
                "",
            ),
            (
                "https://u@h",
                "https",
                Some("u"),
                "h",
                None,
                Some(443),
                "/",
                "",
                "",
            ),
            (
                "https://h?q=1",
                "https",
                None,
                "h",
                None,
                Some(443),
                "/",
                "?q=1",
                "",
            ),
            (
                "https://h#frag",
                "https",
                None,
                "h",
                None,
                Some(443),
                "/",
                "",
                "#frag",
            ),
            (
                "https://h:/x",
                "https",
                None,
                "h",
                None,
                Some(443),
                "/x",
                "",
                "",
            ),
            (
                "https://h:00443/x",
                "https",
                None,
                "h",
                None,
                Some(443),
                "/x",
                "",
                "",
            ),
            (
                "https://h:0/x",
                "https",
                None,
                "h",
                Some(0),
                Some(0),
                "/x",
                "",
                "",
            ),
            (
                "https://h:65535/x",
                "https",
                None,
                "h",
                Some(65535),
                Some(65535),
                "/x",
                "",
                "",
            ),
            (
                "https://a-b_c~d.127.0.0.1/%41%zz?x=%7e",
                "https",
                None,
                "a-b_c~d.127.0.0.1",
                None,
                Some(443),
                "/%41%25zz",
                "?x=%7e",
                "",
            ),
            (
                "svc+v1.x-y://host/p",
                "svc+v1.x-y",
                None,
                "host",
                None,
                None,
                "/p",
                "",
                "",
            ),
            (
                "file:///etc/hosts",
                "file",
                None,
                "",
                None,
                None,
                "/etc/hosts",
                "",
                "",
            ),
            (
                "https://h/a?b#c?d#e",
                "https",
                None,
                "h",
                None,
                Some(443),
                "/a",
                "?b",
                "#c?d#e",
            ),
            (
                "https://h/a/./b/../c",
                "https",
                None,
                "h",
                None,
                Some(443),
                "/a/c",
                "",
                "",
            ),
            (
                "https://h\\a\\b?c\\d",
                "https",
                None,
                "h",
                None,
                Some(443),
                "/a/b",
                "?c%5Cd",
                "",
            ),
            (
                "https://h/æ",
                "https",
                None,
                "h",
                None,
                Some(443),
                "/%C3%A6",
                "",
                "",
            ),
            (
                "https://h/{a}|<b>^`\"?{q}#{f}",
                "https",
                None,
                "h",
                None,
                Some(443),
                "/%7Ba%7D%7C%3Cb%3E%5E%60%22",
                "?%7Bq%7D",
                "#%7Bf%7D",
            ),
        ];
        for &(input, scheme, userinfo, host, port, effective, path, query, fragment) in cases {
            let u = uri(input);
            assert_eq!(u.scheme(), scheme, "{input}");
            assert_eq!(u.userinfo(), userinfo, "{input}");
            assert_eq!(u.host(), host, "{input}");
            assert_eq!(u.port(), port, "{input}");
            assert_eq!(u.effective_port(), effective, "{input}");
            assert_eq!(u.path(), path, "{input}");
            assert_eq!(u.query(), query, "{input}");
            assert_eq!(u.fragment(), fragment, "{input}");
            assert_eq!(input.parse::<AbsoluteUri>(), Ok(u.clone()), "{input}");
            // The normalised form is a fixed point.
            assert_eq!(uri(u.as_str()), u, "{input}");
        }
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn parse_invalid() {
        let cases: &[(&str, UriError)] = &[
            ("", UriError::Empty),
            ("http://", UriError::EmptyHost),
            ("https:///x", UriError::EmptyHost),
            ("ftp://:21/x", UriError::EmptyHost),
            ("https://user@/x", UriError::EmptyHost),
            ("/relative", UriError::Relative),
            ("relative/path", UriError::Relative),
            ("file.txt", UriError::Relative),
            ("//host/path", UriError::Relative),
            ("?q", UriError::Relative),
            ("#f", UriError::Relative),
            (":foo", UriError::Relative),
            ("urn:foo:bar", UriError::NoAuthority),
            ("mailto:a@b.c", UriError::NoAuthority),
            ("https:/x", UriError::NoAuthority),
            ("https:x", UriError::NoAuthority),
            ("c:\\windows", UriError::NoAuthority),
            ("1http://h", UriError::InvalidScheme),
            ("ht_tp://h", UriError::InvalidScheme),
            ("ht%74p://h", UriError::InvalidScheme),
            ("https://exa mple.com", UriError::InvalidCharacter),
            (" https://example.com", UriError::InvalidCharacter),
            ("https://example.com ", UriError::InvalidCharacter),
            ("https://example.com/a b", UriError::InvalidCharacter),
            ("https://example.com/a\tb", UriError::InvalidCharacter),
            ("https://example.com/\n", UriError::InvalidCharacter),
            ("https://example.com/\u{7f}", UriError::InvalidCharacter),
            ("https://example.com/\u{a0}", UriError::InvalidCharacter),
            ("https://example.com/\u{2028}", UriError::InvalidCharacter),
            ("https://example.com:70000/", UriError::InvalidPort),
            ("https://example.com:65536/", UriError::InvalidPort),
            (
                "https://example.com:99999999999999999999/",
                UriError::InvalidPort,
            ),
            ("https://example.com:-1/", UriError::InvalidPort),
            ("https://example.com:8o/", UriError::InvalidPort),
            ("https://example.com:80:80/", UriError::InvalidPort),
            ("https://[::1]:x/", UriError::InvalidPort),
            ("https://exa%6dple.com/", UriError::InvalidHost),
            ("https://exa!mple.com/", UriError::InvalidHost),
            ("https://bøk.no/", UriError::InvalidHost),
            ("https://a@b@c/", UriError::InvalidHost),
            ("https://[::1/", UriError::InvalidHost),
            ("https://[::1]x/", UriError::InvalidHost),
            ("https://[]/", UriError::InvalidHost),
            ("https://[1:2:3:4:5:6:7]/", UriError::InvalidHost),
            ("https://[1:2:3:4:5:6:7:8:9]/", UriError::InvalidHost),
            ("https://[1::2::3]/", UriError::InvalidHost),
            ("https://[12345::]/", UriError::InvalidHost),
            ("https://[g::]/", UriError::InvalidHost),
            ("https://[::1.2.3]/", UriError::InvalidHost),
            ("https://[::1.2.3.256]/", UriError::InvalidHost),
            ("https://[1.2.3.4::]/", UriError::InvalidHost),
            ("https://[:1::]/", UriError::InvalidHost),
            ("https://[127.0.0.1]/", UriError::InvalidHost),
            ("https://us er@h/", UriError::InvalidCharacter),
            ("https://u[x]@h/", UriError::InvalidUserInfo),
            ("https://ü@h/", UriError::InvalidUserInfo),
        ];
        for &(input, expected) in cases {
            assert_eq!(AbsoluteUri::parse(input), Err(expected), "{input:?}");
        }
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn ipv6_literals() {
        let cases: &[(&str, bool)] = &[
            ("::", true),
            ("::1", true),
            ("1::", true),
            ("1:2:3:4:5:6:7:8", true),
            ("1:2:3:4:5:6::8", true),
            ("1::8", true),
            ("ffff:FFFF::", true),
            ("::ffff:10.0.0.1", true),
            ("1:2:3:4:5:6:10.0.0.1", true),
            ("1:2:3:4:5::10.0.0.1", true),
            ("1:2:3:4:5:6:7::", true),
            ("1:2:3:4:5:6:7:8::", false),
            ("1:2:3:4:5:6:7:10.0.0.1", false),
            ("1:2:3:4:5:6:7", false),
            (":::", false),
            ("1:::2", false),
            ("", false),
            ("1", false),
            ("::10.0.0.1:1", false),
            ("fe80::1%eth0", false),
        ];
        for &(input, valid) in cases {
            assert_eq!(is_ipv6(input), valid, "{input}");
        }
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn absolute_normalisation() {
        let cases: &[(&str, &str)] = &[
            ("HTTPS://Example.COM:443", "https://example.com/"),
            (
                "https://example.com:8443/a?b=1#f",
                "https://example.com:8443/a?b=1#f",
            ),
            (
                "HTTP://EXAMPLE.com:80/A/B?C=D#E",
                "http://example.com/A/B?C=D#E",
            ),
            ("http://example.com:443", "http://example.com:443/"),
            ("https://example.com:80", "https://example.com:80/"),
            ("FTP://Files:21", "ftp://files/"),
            ("https://User:PW@Host/x", "https://User:PW@host/x"),
            ("https://h?", "https://h/?"),
            ("https://h#", "https://h/#"),
            ("https://h:08080", "https://h:8080/"),
            ("https://[0:0::1]:443/", "https://[0:0::1]/"),
            ("https://h/a/b/../../../c", "https://h/c"),
            ("https://h/a/./b/.", "https://h/a/b/"),
            ("https://h/a/b/..", "https://h/a/"),
            ("https://h/..", "https://h/"),
            ("https://h/a//b/", "https://h/a//b/"),
            ("https://h/a/..b/.c", "https://h/a/..b/.c"),
            ("https://h/a/%2e%2e/b", "https://h/a/%2e%2e/b"),
            ("https://h/a/../b?x=/../y", "https://h/b?x=/../y"),
            ("https://h/p%20q%C3%A6", "https://h/p%20q%C3%A6"),
            ("https://h/50%", "https://h/50%25"),
            ("https://h/%4", "https://h/%254"),
            (
                "https://h/æøå?æ#å",
                "https://h/%C3%A6%C3%B8%C3%A5?%C3%A6#%C3%A5",
            ),
            ("https://h/€", "https://h/%E2%82%AC"),
            ("Custom://Host/Path", "custom://host/Path"),
        ];
        for &(input, expected) in cases {
            let u = uri(input);
            assert_eq!(u.absolute(), expected, "{input}");
            assert_eq!(u.as_str(), expected, "{input}");
            assert_eq!(u.to_string(), expected, "{input}");
        }
        // Equality follows the normalised form.
        assert_eq!(uri("HTTPS://Example.COM:443"), uri("https://example.com/"));
        assert_ne!(uri("https://example.com/A"), uri("https://example.com/a"));
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn path_segments() {
        let cases: &[(&str, &[&str])] = &[
            ("https://h", &["", ""]),
            ("https://h/", &["", ""]),
            ("https://h/ttd/app", &["", "ttd", "app"]),
            ("https://h/ttd/app/", &["", "ttd", "app", ""]),
            (
                "https://h/ttd/app/instances/1337/6f0c?x=1#y",
                &["", "ttd", "app", "instances", "1337", "6f0c"],
            ),
            ("https://h//a", &["", "", "a"]),
        ];
        for &(input, expected) in cases {
            let u = uri(input);
            let segments: Vec<&str> = u.path_segments().collect();
            assert_eq!(segments, expected, "{input}");
            assert_eq!(u.path_segments().count(), expected.len(), "{input}");
        }
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn is_base_of() {
        let cases: &[(&str, &str, bool)] = &[
            (
                "https://ttd.apps.altinn.no/ttd/endring-av-navn-v2",
                "https://ttd.apps.altinn.no/ttd/endring-av-navn-v2/instances/1337/6f0c7d5b-6e11-4f3b-a3d6-4e1f5b0b3c0e",
                true,
            ),
            // Last segment of the base is ignored (Altinn quirk).
            ("https://host/ttd/app-a", "https://host/ttd/app-b/instances/1/2", true),
            ("https://host/ttd/app-a/", "https://host/ttd/app-b/x", false),
            ("https://host/ttd/app-a/", "https://host/ttd/app-a/x", true),
            ("https://host/ttd/app-a/", "https://host/ttd/app-a/", true),
            ("https://host/ttd/app-a/", "https://host/ttd/app-a", false),
            ("https://host/ttd/app-a", "https://other/ttd/app-a/x", false),
            ("ftp://host/ttd/app-a", "https://host/ttd/app-a/x", false),
            ("https://host/ttd/app-a", "http://host/ttd/app-a/x", false),
            ("https://host:8443/a/b", "https://host/a/b/c", false),
            ("https://host/a/b", "https://host:8443/a/b/c", false),
            ("https://host:443/a/b", "https://host/a/b/c", true),
            ("https://host/a/b", "https://HOST:443/a/b/c", true),
            ("HTTPS://Host/a/b", "https://host/a/b/c", true),
            // Paths are case-sensitive.
            ("https://host/TTD/app", "https://host/ttd/app/x", false),
            // Query on the base is ignored; the other's query does not matter.
            ("https://host/ttd/app?x=1", "https://host/ttd/app/instances", true),
            ("https://host/ttd/app/?x=1", "https://host/ttd/app/?y=2", true),
            ("https://host/ttd/app/", "https://host/ttd/app?x=/ttd/app/", false),
            // Fragments ignored.
            ("https://host/ttd/app#f", "https://host/ttd/other#g", true),
            ("https://host/ttd/#f", "https://host/ttd/x", true),
            // Identical URIs.
            ("https://host/ttd/app", "https://host/ttd/app", true),
            ("https://host/", "https://host/", true),
            // Root base.
            ("https://host", "https://host/anything", true),
            ("https://host", "https://host/", true),
            ("https://host/", "https://host/a/b/c?d", true),
            ("https://host", "https://hostile/anything", false),
            ("https://host", "https://host.evil/anything", false),
            ("https://host/a", "https://host/ab", true),
            ("https://host/a/b", "https://host/a", false),
            ("https://host/a/bc", "https://host/a/b", true),
            ("https://host/a/b/c", "https://host/a/b?x", false),
            // Userinfo is ignored, as in .NET.
            ("https://u:p@host/a/", "https://host/a/b", true),
            ("https://host/a/", "https://evil@host/a/b", true),
            // Dot segments are resolved before comparing.
            ("https://host/ttd/app-a/", "https://host/ttd/app-a/../../org/x", false),
            ("https://host/org/", "https://host/ttd/app-a/../../org/x", true),
            ("https://host/ttd/app-a/", "https://host/ttd\\app-a\\x", true),
            // Percent-escapes are compared as written.
            ("https://host/a%20b/", "https://host/a%20b/c", true),
            ("https://host/a%20b/", "https://host/a%2520b/c", false),
            ("https://[::1]:8080/a/", "https://[::1]:8080/a/b", true),
            ("https://[::1]/a/", "https://[::2]/a/b", false),
        ];
        for &(base, other, expected) in cases {
            assert_eq!(
                uri(base).is_base_of(&uri(other)),
                expected,
                "{base} is_base_of {other}"
            );
            assert_eq!(
                uri(base).is_base_of_str(other),
                expected,
                "{base} is_base_of_str {other}"
            );
        }
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn is_base_of_str_lenient() {
        let base = uri("https://host/ttd/app");
        let cases: &[(&str, bool)] = &[
            ("https://host/ttd/app/instances/1", true),
            ("  https://host/ttd/app/instances/1\n", true),
            ("https://host/other/app", false),
            ("/ttd/app/instances/1", false),
            ("ttd/app", false),
            ("urn:altinn:ttd:app", false),
            ("", false),
            ("https://host/ttd/a b", false),
            ("not a uri", false),
        ];
        for &(other, expected) in cases {
            assert_eq!(base.is_base_of_str(other), expected, "{other:?}");
        }
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn error_display() {
        let cases: &[(UriError, &str)] = &[
            (UriError::Empty, "empty URI"),
            (
                UriError::InvalidCharacter,
                "URI contains whitespace or control characters",
            ),
            (UriError::Relative, "URI is not absolute"),
            (UriError::InvalidScheme, "invalid URI scheme"),
            (
                UriError::NoAuthority,
                "URI has no authority ('//' after the scheme)",
            ),
            (UriError::EmptyHost, "URI has an empty host"),
            (UriError::InvalidHost, "invalid URI host"),
            (UriError::InvalidPort, "invalid URI port"),
            (UriError::InvalidUserInfo, "invalid URI user info"),
        ];
        for &(error, text) in cases {
            assert_eq!(error.to_string(), text);
        }
    }
}
