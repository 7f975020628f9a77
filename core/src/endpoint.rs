//! Which webhook endpoints a subscription may use: the SSRF guard (CONTRACT
//! `WEBHOOK_ALLOW_PRIVATE`).
//!
//! Altinn itself only insists on `https`. A Worker that POSTs to whatever a subscriber names
//! must also keep away from loopback, private, link-local, metadata and other special-purpose
//! addresses, and from names that only resolve inside a network. The host is judged the way
//! `fetch` (a WHATWG URL parser) will read it, so numeric shorthands such as `2130706433`,
//! `0x7f.1` or `0177.0.0.1` are normalised to the IPv4 address they stand for before the
//! ranges are checked.
//!
//! Only the literal host is judged: a public name whose DNS record points at a private address
//! is not caught here (no I/O in this crate).

use alloc::string::{String, ToString};
use core::fmt;
use core::net::{Ipv4Addr, Ipv6Addr};

use crate::uri::AbsoluteUri;

/// Why an endpoint is refused; [`Display`](fmt::Display) gives the client-facing sentence.
/// Variants carrying a `String` hold the endpoint's host as written in the URL (lower-cased;
/// IPv6 literals with their brackets).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EndpointRefusal {
    /// Not `https` (or, with private endpoints allowed, neither `http` nor `https`).
    NotHttps,
    /// 127.0.0.0/8, `::1` (also inside IPv4-mapped/compatible/NAT64 IPv6 forms).
    Loopback(String),
    /// 10/8, 100.64/10, 172.16/12, 192.168/16, fc00::/7, fec0::/10.
    Private(String),
    /// 169.254/16, fe80::/10.
    LinkLocal(String),
    /// A cloud metadata service: 169.254.169.254, 100.100.100.200, fd00:ec2::254, or the names
    /// `metadata`, `metadata.google.internal`, `instance-data`.
    Metadata(String),
    /// Not a public unicast address: this-network, IETF protocol assignments, documentation,
    /// benchmarking, multicast, reserved, broadcast, unspecified, NAT64.
    Reserved(String),
    /// `localhost`, a name in `.localhost`, `.local`, `.internal`, `.home.arpa`, `.lan`, or a
    /// single-label name.
    LocalName(String),
    /// The URL carries userinfo (`user:password@`).
    Credentials,
    /// The host looks numeric but is no IPv4 address a WHATWG URL parser accepts (e.g.
    /// `1.2.3.256`, `example.123`): `fetch` would reject the URL.
    InvalidHost(String),
}

const PUBLIC_ONLY: &str = "webhooks must go to public addresses.";

impl fmt::Display for EndpointRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EndpointRefusal::NotHttps => {
                f.write_str("Missing or invalid endpoint to push events towards")
            }
            EndpointRefusal::Loopback(host) => write!(
                f,
                "The endpoint host '{host}' is a loopback address; {PUBLIC_ONLY}"
            ),
            EndpointRefusal::Private(host) => write!(
                f,
                "The endpoint host '{host}' is a private network address; {PUBLIC_ONLY}"
            ),
            EndpointRefusal::LinkLocal(host) => write!(
                f,
                "The endpoint host '{host}' is a link-local address; {PUBLIC_ONLY}"
            ),
            EndpointRefusal::Metadata(host) => write!(
                f,
                "The endpoint host '{host}' is a cloud metadata service; {PUBLIC_ONLY}"
            ),
            EndpointRefusal::Reserved(host) => write!(
                f,
                "The endpoint host '{host}' is a reserved or special-purpose address; {PUBLIC_ONLY}"
            ),
            EndpointRefusal::LocalName(host) => write!(
                f,
                "The endpoint host '{host}' is a local or internal host name; webhooks must go to publicly resolvable host names."
            ),
            EndpointRefusal::Credentials => f.write_str(
                "The endpoint must not contain credentials (user:password@host); credentials in URLs end up in logs.",
            ),
            EndpointRefusal::InvalidHost(host) => write!(
                f,
                "The endpoint host '{host}' is neither a valid host name nor a valid IPv4 address."
            ),
        }
    }
}

impl core::error::Error for EndpointRefusal {}

/// Check a parsed endpoint.
///
/// `allow_private` is `WEBHOOK_ALLOW_PRIVATE=true`: then `http://` and `https://` endpoints to
/// any host are accepted and only other schemes are refused.
///
/// Otherwise the scheme must be `https`, the URL must carry no userinfo, and the host must be
/// neither a non-public IP address (IPv4 in any numeric form `fetch` accepts, or bracketed IPv6,
/// including IPv4-mapped, IPv4-compatible, NAT64 and 6to4 forms of non-public IPv4 addresses)
/// nor a local, internal, metadata or single-label name. Hosts are compared case-insensitively
/// and trailing dots are ignored.
pub fn check_endpoint(uri: &AbsoluteUri, allow_private: bool) -> Result<(), EndpointRefusal> {
    let scheme = uri.scheme();
    if allow_private {
        return if scheme.eq_ignore_ascii_case("https") || scheme.eq_ignore_ascii_case("http") {
            Ok(())
        } else {
            Err(EndpointRefusal::NotHttps)
        };
    }
    if !scheme.eq_ignore_ascii_case("https") {
        return Err(EndpointRefusal::NotHttps);
    }
    if uri.userinfo().is_some() {
        return Err(EndpointRefusal::Credentials);
    }
    check_host(uri.host())
}

/// What kind of non-public address an IP is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Class {
    Loopback,
    Private,
    LinkLocal,
    Metadata,
    Reserved,
}

impl Class {
    fn refusal(self, host: &str) -> EndpointRefusal {
        let host = host.to_string();
        match self {
            Class::Loopback => EndpointRefusal::Loopback(host),
            Class::Private => EndpointRefusal::Private(host),
            Class::LinkLocal => EndpointRefusal::LinkLocal(host),
            Class::Metadata => EndpointRefusal::Metadata(host),
            Class::Reserved => EndpointRefusal::Reserved(host),
        }
    }
}

fn check_host(host: &str) -> Result<(), EndpointRefusal> {
    // IPv6 literal.
    if let Some(inner) = host.strip_prefix('[') {
        let inner = inner.strip_suffix(']').unwrap_or(inner);
        return match inner.parse::<Ipv6Addr>() {
            Ok(addr) => match classify_ipv6(addr) {
                Some(class) => Err(class.refusal(host)),
                None => Ok(()),
            },
            Err(_) => Err(EndpointRefusal::InvalidHost(host.to_string())),
        };
    }

    // Names and IPv4 in every form; "localhost." is "localhost".
    let name = host.trim_end_matches('.');
    if name.is_empty() {
        return Err(EndpointRefusal::InvalidHost(host.to_string()));
    }
    if ends_in_number(name) {
        return match parse_whatwg_ipv4(name) {
            Some(addr) => match classify_ipv4(addr) {
                Some(class) => Err(class.refusal(host)),
                None => Ok(()),
            },
            None => Err(EndpointRefusal::InvalidHost(host.to_string())),
        };
    }

    const METADATA_NAMES: [&str; 3] = ["metadata", "metadata.google.internal", "instance-data"];
    if METADATA_NAMES.iter().any(|m| name.eq_ignore_ascii_case(m)) {
        return Err(EndpointRefusal::Metadata(host.to_string()));
    }
    const LOCAL_SUFFIXES: [&str; 5] = [".localhost", ".local", ".internal", ".home.arpa", ".lan"];
    let local = name.eq_ignore_ascii_case("localhost")
        || !name.contains('.')
        || LOCAL_SUFFIXES
            .iter()
            .any(|s| ends_with_ignore_case(name, s));
    if local {
        return Err(EndpointRefusal::LocalName(host.to_string()));
    }
    Ok(())
}

fn ends_with_ignore_case(s: &str, suffix: &str) -> bool {
    s.len()
        .checked_sub(suffix.len())
        .and_then(|start| s.as_bytes().get(start..))
        .is_some_and(|end| end.eq_ignore_ascii_case(suffix.as_bytes()))
}

/// IPv4 ranges that are not public unicast, as (network, prefix length, class). More specific
/// entries come first.
const IPV4_RANGES: [(u32, u32, Class); 16] = [
    (ipv4(169, 254, 169, 254), 32, Class::Metadata),
    (ipv4(100, 100, 100, 200), 32, Class::Metadata),
    (ipv4(0, 0, 0, 0), 8, Class::Reserved),
    (ipv4(10, 0, 0, 0), 8, Class::Private),
    (ipv4(100, 64, 0, 0), 10, Class::Private),
    (ipv4(127, 0, 0, 0), 8, Class::Loopback),
    (ipv4(169, 254, 0, 0), 16, Class::LinkLocal),
    (ipv4(172, 16, 0, 0), 12, Class::Private),
    (ipv4(192, 0, 0, 0), 24, Class::Reserved),
    (ipv4(192, 0, 2, 0), 24, Class::Reserved),
    (ipv4(192, 168, 0, 0), 16, Class::Private),
    (ipv4(198, 18, 0, 0), 15, Class::Reserved),
    (ipv4(198, 51, 100, 0), 24, Class::Reserved),
    (ipv4(203, 0, 113, 0), 24, Class::Reserved),
    (ipv4(224, 0, 0, 0), 4, Class::Reserved),
    (ipv4(240, 0, 0, 0), 4, Class::Reserved),
];

const fn ipv4(a: u8, b: u8, c: u8, d: u8) -> u32 {
    u32::from_be_bytes([a, b, c, d])
}

fn classify_ipv4(addr: Ipv4Addr) -> Option<Class> {
    let addr = u32::from(addr);
    IPV4_RANGES.iter().find_map(|&(network, prefix, class)| {
        // prefix is 4..=32, so the shift is in range.
        let mask = u32::MAX << (32 - prefix);
        (addr & mask == network).then_some(class)
    })
}

fn classify_ipv6(addr: Ipv6Addr) -> Option<Class> {
    let g = addr.segments();
    let embedded_v4 = Ipv4Addr::from((u32::from(g[6]) << 16) | u32::from(g[7]));
    let first_five_zero = g[..5].iter().all(|&x| x == 0);
    if first_five_zero && g[5] == 0 {
        // ::, ::1, and the deprecated IPv4-compatible ::a.b.c.d.
        return match u32::from(embedded_v4) {
            0 => Some(Class::Reserved),
            1 => Some(Class::Loopback),
            _ => classify_ipv4(embedded_v4),
        };
    }
    if first_five_zero && g[5] == 0xffff {
        // IPv4-mapped ::ffff:a.b.c.d.
        return classify_ipv4(embedded_v4);
    }
    if g[0] == 0x0064 && g[1] == 0xff9b && g[2..6].iter().all(|&x| x == 0) {
        // NAT64 well-known prefix 64:ff9b::/96: refused whatever it embeds.
        return Some(classify_ipv4(embedded_v4).unwrap_or(Class::Reserved));
    }
    if g[0] == 0x2002 {
        // 6to4 2002:aabb:ccdd::/48 carries a.b.c.d; public ones are fine.
        return classify_ipv4(Ipv4Addr::from((u32::from(g[1]) << 16) | u32::from(g[2])));
    }
    if g == [0xfd00, 0x0ec2, 0, 0, 0, 0, 0, 0x0254] {
        return Some(Class::Metadata);
    }
    match g[0] {
        x if x & 0xfe00 == 0xfc00 => Some(Class::Private),
        x if x & 0xffc0 == 0xfe80 => Some(Class::LinkLocal),
        x if x & 0xffc0 == 0xfec0 => Some(Class::Private),
        x if x & 0xff00 == 0xff00 => Some(Class::Reserved),
        0x2001 if g[1] == 0x0db8 => Some(Class::Reserved),
        _ => None,
    }
}

/// The WHATWG URL "ends in a number" check: hosts for which it holds are parsed as IPv4 (and
/// the URL is invalid when that fails). `host` has no trailing dot.
fn ends_in_number(host: &str) -> bool {
    let last = host.rsplit('.').next().unwrap_or(host);
    (!last.is_empty() && last.bytes().all(|b| b.is_ascii_digit()))
        || parse_ipv4_number(last).is_some()
}

/// The WHATWG IPv4 parser: 1–4 dot-separated numbers, each decimal, hex (`0x`) or octal
/// (leading `0`); all but the last at most 255, the last filling the remaining bytes.
/// `host` has no trailing dot. `None` = not an IPv4 address (a URL parser fails).
///
/// Kept by hand on purpose: `core::net::Ipv4Addr` parses only the strict dotted quad and
/// refuses `0x7f.1`, `2130706433` and `0177.0.0.1`, which `fetch` connects to as 127.0.0.1.
/// The `url` crate's host parser reads these forms and builds without `std`, but it brings
/// `idna` and its Unicode tables into the worker for these forty lines. Its answers are the
/// oracle of this function's property test.
fn parse_whatwg_ipv4(host: &str) -> Option<Ipv4Addr> {
    let mut numbers = [0u64; 4];
    let mut count = 0;
    for part in host.split('.') {
        *numbers.get_mut(count)? = parse_ipv4_number(part)?;
        count += 1;
    }
    let (last, leading) = numbers.get(..count)?.split_last()?;
    if leading.iter().any(|&n| n > 255) {
        return None;
    }
    // The last number fills 5 - count bytes (count is 1..=4).
    let last_bytes = 5 - count as u32;
    if *last >= 1u64 << (8 * last_bytes) {
        return None;
    }
    let mut addr = *last;
    for (i, &n) in leading.iter().enumerate() {
        addr += n << (8 * (3 - i as u32));
    }
    u32::try_from(addr).ok().map(Ipv4Addr::from)
}

/// One part of a WHATWG IPv4 address: `0x`/`0X` hex (empty after the prefix = 0), leading-`0`
/// octal, else decimal. Values too big for `u64` saturate (and then fail the range checks).
fn parse_ipv4_number(part: &str) -> Option<u64> {
    if part.is_empty() {
        return None;
    }
    let (digits, radix) =
        if let Some(hex) = part.strip_prefix("0x").or_else(|| part.strip_prefix("0X")) {
            (hex, 16)
        } else if part.len() > 1 && part.starts_with('0') {
            (&part[1..], 8)
        } else {
            (part, 10)
        };
    let mut value: u64 = 0;
    for c in digits.chars() {
        let d = c.to_digit(radix)?;
        value = value
            .saturating_mul(u64::from(radix))
            .saturating_add(u64::from(d));
    }
    Some(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;
    use alloc::string::ToString;
    use wasm_bindgen_test::wasm_bindgen_test;

    fn uri(s: &str) -> AbsoluteUri {
        match AbsoluteUri::parse(s) {
            Ok(u) => u,
            Err(e) => panic!("{s:?} should parse: {e}"),
        }
    }

    /// The refusal kind without the host, for compact tables.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    enum K {
        Ok,
        NotHttps,
        Loopback,
        Private,
        LinkLocal,
        Metadata,
        Reserved,
        LocalName,
        Credentials,
        InvalidHost,
    }

    fn kind(r: &Result<(), EndpointRefusal>) -> K {
        match r {
            Ok(()) => K::Ok,
            Err(EndpointRefusal::NotHttps) => K::NotHttps,
            Err(EndpointRefusal::Loopback(_)) => K::Loopback,
            Err(EndpointRefusal::Private(_)) => K::Private,
            Err(EndpointRefusal::LinkLocal(_)) => K::LinkLocal,
            Err(EndpointRefusal::Metadata(_)) => K::Metadata,
            Err(EndpointRefusal::Reserved(_)) => K::Reserved,
            Err(EndpointRefusal::LocalName(_)) => K::LocalName,
            Err(EndpointRefusal::Credentials) => K::Credentials,
            Err(EndpointRefusal::InvalidHost(_)) => K::InvalidHost,
        }
    }

    fn check_hosts(cases: &[(&str, K)]) {
        for &(host, expected) in cases {
            let url = format!("https://{host}/hook");
            let result = check_endpoint(&uri(&url), false);
            assert_eq!(kind(&result), expected, "{url}");
        }
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn ipv4_ranges_inside_and_just_outside() {
        check_hosts(&[
            // 0.0.0.0/8
            ("0.0.0.0", K::Reserved),
            ("0.255.255.255", K::Reserved),
            ("1.0.0.0", K::Ok),
            // 10/8
            ("10.0.0.1", K::Private),
            ("10.255.255.255", K::Private),
            ("9.255.255.255", K::Ok),
            ("11.0.0.0", K::Ok),
            // 100.64/10
            ("100.64.0.1", K::Private),
            ("100.127.255.255", K::Private),
            ("100.63.255.255", K::Ok),
            ("100.128.0.0", K::Ok),
            // 127/8
            ("127.0.0.1", K::Loopback),
            ("127.255.255.254", K::Loopback),
            ("126.255.255.255", K::Ok),
            ("128.0.0.0", K::Ok),
            // 169.254/16, with the metadata address inside
            ("169.254.0.1", K::LinkLocal),
            ("169.254.169.254", K::Metadata),
            ("169.254.169.253", K::LinkLocal),
            ("169.253.255.255", K::Ok),
            ("169.255.0.0", K::Ok),
            // 100.100.100.200 (metadata, inside 100.64/10)
            ("100.100.100.200", K::Metadata),
            // 172.16/12
            ("172.16.0.1", K::Private),
            ("172.31.255.255", K::Private),
            ("172.15.255.255", K::Ok),
            ("172.32.0.0", K::Ok),
            // 192.0.0/24
            ("192.0.0.1", K::Reserved),
            ("191.255.255.255", K::Ok),
            ("192.0.1.0", K::Ok),
            // 192.0.2/24
            ("192.0.2.1", K::Reserved),
            ("192.0.3.0", K::Ok),
            // 192.168/16
            ("192.168.1.1", K::Private),
            ("192.167.255.255", K::Ok),
            ("192.169.0.0", K::Ok),
            // 198.18/15
            ("198.18.0.1", K::Reserved),
            ("198.19.255.255", K::Reserved),
            ("198.17.255.255", K::Ok),
            ("198.20.0.0", K::Ok),
            // 198.51.100/24
            ("198.51.100.7", K::Reserved),
            ("198.51.99.255", K::Ok),
            ("198.51.101.0", K::Ok),
            // 203.0.113/24
            ("203.0.113.9", K::Reserved),
            ("203.0.112.255", K::Ok),
            ("203.0.114.0", K::Ok),
            // 224/4
            ("224.0.0.1", K::Reserved),
            ("239.255.255.255", K::Reserved),
            ("223.255.255.255", K::Ok),
            // 240/4 and broadcast
            ("240.0.0.1", K::Reserved),
            ("255.255.255.255", K::Reserved),
            // public
            ("8.8.8.8", K::Ok),
            ("1.1.1.1", K::Ok),
            ("93.184.216.34", K::Ok),
        ]);
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn ipv4_numeric_forms() {
        check_hosts(&[
            ("2130706433", K::Loopback),   // 127.0.0.1
            ("0x7f000001", K::Loopback),   // 127.0.0.1
            ("0x7f.1", K::Loopback),       // 127.0.0.1
            ("0177.0.0.1", K::Loopback),   // 127.0.0.1
            ("127.1", K::Loopback),        // 127.0.0.1
            ("127.0.1", K::Loopback),      // 127.0.0.1
            ("0X7F.0.0.1", K::Loopback),   // upper-case hex prefix
            ("017700000001", K::Loopback), // octal 127.0.0.1
            ("0", K::Reserved),            // 0.0.0.0
            ("0x", K::Reserved),           // 0.0.0.0
            ("0x0.0x.0.0", K::Reserved),
            ("0xa.0.0.1", K::Private),      // 10.0.0.1
            ("012.0.0.1", K::Private),      // 10.0.0.1
            ("167772161", K::Private),      // 10.0.0.1
            ("0xc0.0xa8.1", K::Private),    // 192.168.0.1
            ("2852039166", K::Metadata),    // 169.254.169.254
            ("0xa9fea9fe", K::Metadata),    // 169.254.169.254
            ("169.254.43518", K::Metadata), // 169.254.169.254
            ("4294967295", K::Reserved),    // 255.255.255.255
            ("127.0.0.1.", K::Loopback),    // trailing dot
            ("134744072", K::Ok),           // 8.8.8.8
            ("0x8.0x8.0x8.0x8", K::Ok),     // 8.8.8.8
            ("010.010.010.010", K::Ok),     // 8.8.8.8
            ("8.8.2056", K::Ok),            // 8.8.8.8
            ("08.8.8.8", K::InvalidHost),   // 8 is no octal digit
            ("4294967296", K::InvalidHost), // > 32 bits
            ("1.2.3.256", K::InvalidHost),
            ("1.2.65536", K::InvalidHost),
            ("256.1.1.1", K::InvalidHost),
            ("1.2.3.4.5", K::InvalidHost),
            ("1..2.3", K::InvalidHost),
            ("example.123", K::InvalidHost),
            ("example.0x1", K::InvalidHost),
            ("0xg.1", K::InvalidHost),
            ("99999999999999999999999", K::InvalidHost),
            // Not ending in a number: host names.
            ("1.2.3.4x", K::Ok),
            ("123.example", K::Ok),
        ]);
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn ipv6_forms() {
        check_hosts(&[
            ("[::]", K::Reserved),
            ("[0:0:0:0:0:0:0:0]", K::Reserved),
            ("[::1]", K::Loopback),
            ("[0:0:0:0:0:0:0:1]", K::Loopback),
            ("[::2]", K::Reserved), // ::0.0.0.2, IPv4-compatible 0/8
            ("[fc00::1]", K::Private),
            ("[fdff:ffff::1]", K::Private),
            ("[fd00:ec2::254]", K::Metadata),
            ("[fbff::1]", K::Ok),
            ("[fe00::1]", K::Ok),
            ("[fe80::1]", K::LinkLocal),
            ("[febf:ffff::1]", K::LinkLocal),
            ("[fec0::1]", K::Private),
            ("[ff02::1]", K::Reserved),
            ("[ff00::]", K::Reserved),
            ("[2001:db8::1]", K::Reserved),
            ("[2001:DB8:FFFF::1]", K::Reserved),
            ("[2001:db9::1]", K::Ok),
            ("[2001:db7::1]", K::Ok),
            ("[64:ff9b::8.8.8.8]", K::Reserved),
            ("[64:ff9b::7f00:1]", K::Loopback),
            ("[64:ff9b::a00:1]", K::Private),
            ("[64:ff9b:1::8.8.8.8]", K::Ok),
            ("[::ffff:127.0.0.1]", K::Loopback),
            ("[::ffff:7f00:1]", K::Loopback),
            ("[::ffff:10.1.2.3]", K::Private),
            ("[::ffff:169.254.169.254]", K::Metadata),
            ("[::ffff:192.168.0.1]", K::Private),
            ("[0:0:0:0:0:ffff:172.16.0.1]", K::Private),
            ("[::ffff:8.8.8.8]", K::Ok),
            ("[::ffff:808:808]", K::Ok),
            ("[::127.0.0.1]", K::Loopback),
            ("[::10.0.0.1]", K::Private),
            ("[::8.8.8.8]", K::Ok),
            ("[2002:7f00:1::]", K::Loopback),
            ("[2002:a9fe:a9fe::1]", K::Metadata),
            ("[2002:808:808::1]", K::Ok),
            ("[2606:4700:4700::1111]", K::Ok),
            ("[2a00:1450:4001:81b::200e]", K::Ok),
        ]);
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn host_names() {
        check_hosts(&[
            ("localhost", K::LocalName),
            ("LOCALHOST", K::LocalName),
            ("localhost.", K::LocalName),
            ("app.localhost", K::LocalName),
            ("printer.local", K::LocalName),
            ("Printer.LOCAL.", K::LocalName),
            ("db.internal", K::LocalName),
            ("svc.cluster.internal", K::LocalName),
            ("nas.home.arpa", K::LocalName),
            ("router.lan", K::LocalName),
            ("intranet", K::LocalName),
            ("intranet.", K::LocalName),
            ("metadata", K::Metadata),
            ("metadata.google.internal", K::Metadata),
            ("METADATA.GOOGLE.INTERNAL.", K::Metadata),
            ("instance-data", K::Metadata),
            ("webhook.example.com", K::Ok),
            ("hooks.slack.com", K::Ok),
            ("example.com.", K::Ok),
            ("localhost.example.com", K::Ok),
            ("local.example.com", K::Ok),
            ("mylan", K::LocalName),
            ("my-lan.com", K::Ok),
            ("home.arpa.example", K::Ok),
            ("internal.example", K::Ok),
            ("notlocal", K::LocalName),
            ("x.notlocal", K::Ok),
        ]);
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn schemes_credentials_and_allow_private() {
        let cases: &[(&str, bool, K)] = &[
            ("https://webhook.example.com/hook", false, K::Ok),
            ("HTTPS://Webhook.Example.com:8443/hook", false, K::Ok),
            ("http://webhook.example.com/hook", false, K::NotHttps),
            ("http://127.0.0.1:9000/hook", false, K::NotHttps),
            ("ftp://webhook.example.com/hook", false, K::NotHttps),
            ("wss://webhook.example.com/hook", false, K::NotHttps),
            (
                "https://user:pw@webhook.example.com/hook",
                false,
                K::Credentials,
            ),
            (
                "https://user@webhook.example.com/hook",
                false,
                K::Credentials,
            ),
            ("https://user:pw@127.0.0.1/hook", false, K::Credentials),
            ("https://127.0.0.1:9000/hook", false, K::Loopback),
            ("http://127.0.0.1:9000/hook", true, K::Ok),
            ("https://127.0.0.1:9000/hook", true, K::Ok),
            ("http://localhost:8787/hook", true, K::Ok),
            ("https://[::1]/hook", true, K::Ok),
            ("http://10.0.0.1/hook", true, K::Ok),
            ("http://user:pw@localhost/hook", true, K::Ok),
            ("http://webhook.example.com/hook", true, K::Ok),
            ("ftp://webhook.example.com/hook", true, K::NotHttps),
            ("ftp://127.0.0.1/hook", true, K::NotHttps),
            ("ws://localhost/hook", true, K::NotHttps),
        ];
        for &(url, allow_private, expected) in cases {
            let result = check_endpoint(&uri(url), allow_private);
            assert_eq!(
                kind(&result),
                expected,
                "{url} allow_private={allow_private}"
            );
        }
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn refusal_values_and_messages() {
        let cases: &[(&str, EndpointRefusal, &str)] = &[
            (
                "http://example.com/",
                EndpointRefusal::NotHttps,
                "Missing or invalid endpoint to push events towards",
            ),
            (
                "https://127.0.0.1/",
                EndpointRefusal::Loopback("127.0.0.1".to_string()),
                "The endpoint host '127.0.0.1' is a loopback address; webhooks must go to public addresses.",
            ),
            (
                "https://0x7F.1/",
                EndpointRefusal::Loopback("0x7f.1".to_string()),
                "The endpoint host '0x7f.1' is a loopback address; webhooks must go to public addresses.",
            ),
            (
                "https://[::FFFF:10.0.0.1]/",
                EndpointRefusal::Private("[::ffff:10.0.0.1]".to_string()),
                "The endpoint host '[::ffff:10.0.0.1]' is a private network address; webhooks must go to public addresses.",
            ),
            (
                "https://[fe80::1]:8443/",
                EndpointRefusal::LinkLocal("[fe80::1]".to_string()),
                "The endpoint host '[fe80::1]' is a link-local address; webhooks must go to public addresses.",
            ),
            (
                "https://169.254.169.254/latest/meta-data",
                EndpointRefusal::Metadata("169.254.169.254".to_string()),
                "The endpoint host '169.254.169.254' is a cloud metadata service; webhooks must go to public addresses.",
            ),
            (
                "https://224.0.0.1/",
                EndpointRefusal::Reserved("224.0.0.1".to_string()),
                "The endpoint host '224.0.0.1' is a reserved or special-purpose address; webhooks must go to public addresses.",
            ),
            (
                "https://Localhost./",
                EndpointRefusal::LocalName("localhost.".to_string()),
                "The endpoint host 'localhost.' is a local or internal host name; webhooks must go to publicly resolvable host names.",
            ),
            (
                "https://u:p@example.com/",
                EndpointRefusal::Credentials,
                "The endpoint must not contain credentials (user:password@host); credentials in URLs end up in logs.",
            ),
            (
                "https://1.2.3.256/",
                EndpointRefusal::InvalidHost("1.2.3.256".to_string()),
                "The endpoint host '1.2.3.256' is neither a valid host name nor a valid IPv4 address.",
            ),
        ];
        for (url, refusal, message) in cases {
            assert_eq!(
                check_endpoint(&uri(url), false),
                Err(refusal.clone()),
                "{url}"
            );
            assert_eq!(refusal.to_string(), *message, "{url}");
        }
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn whatwg_ipv4_parser() {
        let parse_whatwg_ipv4 = |s| parse_whatwg_ipv4(s).map(u32::from);
        let cases: &[(&str, Option<u32>)] = &[
            ("1.2.3.4", Some(0x0102_0304)),
            ("1.2.772", Some(0x0102_0304)),
            ("1.131844", Some(0x0102_0304)),
            ("16909060", Some(0x0102_0304)),
            ("0x01020304", Some(0x0102_0304)),
            ("01.02.03.04", Some(0x0102_0304)),
            ("0x1.0x2.0x3.0x4", Some(0x0102_0304)),
            ("0.0.0.0", Some(0)),
            ("0x.0x.0x.0x", Some(0)),
            ("255.255.255.255", Some(u32::MAX)),
            ("0xffffffff", Some(u32::MAX)),
            ("037777777777", Some(u32::MAX)),
            ("1.16777215", Some(0x01ff_ffff)),
            ("1.16777216", None),
            ("1.2.3.4.5", None),
            ("", None),
            ("1..3", None),
            ("09", None),
            ("0xz", None),
            ("a.b.c.d", None),
        ];
        for &(input, expected) in cases {
            assert_eq!(parse_whatwg_ipv4(input), expected, "{input}");
        }
    }

    /// IPv6 literals are read by `core::net`; these are the forms the SSRF rule relies on.
    #[wasm_bindgen_test(unsupported = test)]
    fn ipv6_parser() {
        let parse_ipv6 = |s: &str| s.parse::<Ipv6Addr>().ok().map(|a| a.segments());
        let cases: &[(&str, Option<[u16; 8]>)] = &[
            ("::", Some([0; 8])),
            ("::1", Some([0, 0, 0, 0, 0, 0, 0, 1])),
            ("1::", Some([1, 0, 0, 0, 0, 0, 0, 0])),
            ("1:2:3:4:5:6:7:8", Some([1, 2, 3, 4, 5, 6, 7, 8])),
            ("1::8", Some([1, 0, 0, 0, 0, 0, 0, 8])),
            ("1:2:3:4:5:6::8", Some([1, 2, 3, 4, 5, 6, 0, 8])),
            (
                "::ffff:10.0.0.1",
                Some([0, 0, 0, 0, 0, 0xffff, 0x0a00, 0x0001]),
            ),
            (
                "1:2:3:4:5:6:1.2.3.4",
                Some([1, 2, 3, 4, 5, 6, 0x0102, 0x0304]),
            ),
            ("FFFF::abCD", Some([0xffff, 0, 0, 0, 0, 0, 0, 0xabcd])),
            ("1:2:3:4:5:6:7:8::", None),
            ("1:2:3:4:5:6:7", None),
            ("1:2:3:4:5:6:7:1.2.3.4", None),
            (":::", None),
            ("1:::2", None),
            ("1::2::3", None),
            ("12345::", None),
            ("+1::", None),
            ("::1.2.3.256", None),
            // A leading zero in the embedded IPv4 address: refused by core::net as by the
            // WHATWG URL parser (the hand-written parser before issue 12 accepted it).
            ("::ffff:01.2.3.4", None),
            ("1::2%eth0", None),
            ("::1.2.3", None),
            ("", None),
        ];
        for &(input, expected) in cases {
            assert_eq!(parse_ipv6(input), expected, "{input}");
        }
    }
}
