//! Property tests of the parsers against independent oracles (issue 12): CloudEvents against
//! `serde_json`, IPv4/IPv6 hosts and URIs against the `url` crate and `std::net`, timestamps
//! against `chrono`, query strings against `form_urlencoded`'s encoder, tokens against tokens
//! that `jwt-compact` builds. Native only (the oracles are std crates); a few hundred cases
//! each.
#![cfg(not(target_arch = "wasm32"))]
// The helpers of a test crate are test code too (clippy.toml: a failing test fails loudly).
#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

use std::net::{Ipv4Addr, Ipv6Addr};

use chrono::{DateTime, FixedOffset, Timelike};
use events_core::cloud_event::CloudEvent;
use events_core::endpoint::{check_endpoint, EndpointRefusal};
use events_core::query::{form_decode, next_link, QueryString};
use events_core::time::Timestamp;
use events_core::token::{self, Alg, TokenError};
use events_core::uri::AbsoluteUri;
use jwt_compact::alg::{Hs256, Hs256Key};
use jwt_compact::{AlgorithmExt, Header, Renamed};
use proptest::prelude::*;
use serde_json::{Map, Value};

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 300,
        // A test crate has no lib.rs for proptest to place regression files beside; a failure
        // prints its minimal input instead.
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

// ---------------------------------------------------------------------------------------------
// CloudEvents: parse → write → parse, compared with what serde_json reads from both texts.

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        any::<String>().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(any::<String>(), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn non_empty_text() -> impl Strategy<Value = String> {
    any::<String>().prop_filter("non-empty", |s| !s.is_empty())
}

/// A structured-mode CloudEvent as a JSON object: the required attributes, optional subject
/// and string extensions (valid names), optional non-null data.
fn cloud_event_json() -> impl Strategy<Value = Map<String, Value>> {
    (
        non_empty_text(),
        non_empty_text(),
        non_empty_text(),
        proptest::option::of(any::<String>()),
        prop::collection::btree_map("[a-z][a-z0-9]{0,9}", any::<String>(), 0..4),
        proptest::option::of(json_value().prop_filter("non-null", |v| !v.is_null())),
    )
        .prop_map(|(id, source, type_, subject, extensions, data)| {
            let mut m = Map::new();
            m.insert("specversion".into(), "1.0".into());
            m.insert("id".into(), id.into());
            m.insert("source".into(), source.into());
            m.insert("type".into(), type_.into());
            if let Some(s) = subject {
                m.insert("subject".into(), s.into());
            }
            for (name, value) in extensions {
                let reserved = ["specversion", "id", "source", "type", "subject", "time"];
                let reserved = reserved.contains(&name.as_str())
                    || ["data", "datacontenttype", "dataschema"].contains(&name.as_str());
                if !reserved {
                    m.insert(name, value.into());
                }
            }
            if let Some(d) = data {
                m.insert("data".into(), d);
            }
            m
        })
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn cloud_event_write_reads_back_as_the_same_json(event in cloud_event_json()) {
        let text = serde_json::to_string(&event).unwrap();
        let parsed = CloudEvent::parse(text.as_bytes()).unwrap();
        let written = parsed.to_json();
        // serde_json reads both texts (its float parsing is not exact, so the input is compared
        // as read back, not as generated).
        let input: Value = serde_json::from_str(&text).unwrap();
        let output: Value = serde_json::from_str(&written).unwrap();
        prop_assert_eq!(&output, &input);
        let again = CloudEvent::parse(written.as_bytes()).unwrap();
        prop_assert_eq!(&again, &parsed);
        prop_assert_eq!(again.to_json(), written);
    }
}

// ---------------------------------------------------------------------------------------------
// Timestamps: RFC 3339 texts read by chrono as the oracle; write → parse round trip; order.

/// An RFC 3339 text with 0–9 fraction digits and a `Z` or `±hh:mm` offset (hours 0–14).
fn rfc3339() -> impl Strategy<Value = String> {
    (
        1i32..=9999,
        1u32..=12,
        1u32..=31,
        0u32..24,
        0u32..60,
        0u32..60,
        "[0-9]{0,9}",
        proptest::option::of((any::<bool>(), 0u32..=14, 0u32..60)),
    )
        .prop_map(|(y, mo, d, h, mi, s, frac, offset)| {
            let days_in_month = match mo {
                2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
                2 => 28,
                4 | 6 | 9 | 11 => 30,
                _ => 31,
            };
            let d = d.min(days_in_month);
            let frac = if frac.is_empty() {
                String::new()
            } else {
                format!(".{frac}")
            };
            let offset = match offset {
                None => "Z".to_string(),
                Some((neg, oh, om)) => {
                    let om = if oh == 14 { 0 } else { om };
                    format!("{}{oh:02}:{om:02}", if neg { '-' } else { '+' })
                }
            };
            format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}{frac}{offset}")
        })
}

/// 100-ns ticks since the Unix epoch of a chrono time, the fraction truncated to 100 ns as the
/// service truncates digits beyond the 7th.
fn oracle_ticks(t: &DateTime<FixedOffset>) -> i64 {
    t.timestamp() * 10_000_000 + i64::from(t.nanosecond() / 100)
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn timestamps_parse_like_chrono_and_round_trip(text in rfc3339()) {
        let oracle = DateTime::parse_from_rfc3339(&text).unwrap();
        let t = Timestamp::parse_rfc3339(&text).unwrap();
        prop_assert_eq!(t.utc_ticks(), oracle_ticks(&oracle));
        prop_assert_eq!(i32::from(t.offset_minutes()) * 60, oracle.offset().local_minus_utc());
        let written = t.format();
        let again = Timestamp::parse_rfc3339(&written).unwrap();
        prop_assert_eq!(again, t, "{} -> {}", text, written);
        prop_assert_eq!(again.format(), written);
    }

    #[test]
    fn timestamps_order_like_chrono(a in rfc3339(), b in rfc3339()) {
        let (ta, tb) = (
            Timestamp::parse_rfc3339(&a).unwrap(),
            Timestamp::parse_rfc3339(&b).unwrap(),
        );
        let (oa, ob) = (
            DateTime::parse_from_rfc3339(&a).unwrap(),
            DateTime::parse_from_rfc3339(&b).unwrap(),
        );
        prop_assert_eq!(ta.cmp_instant(&tb), oracle_ticks(&oa).cmp(&oracle_ticks(&ob)));
        prop_assert_eq!(ta.same_instant(&tb), oracle_ticks(&oa) == oracle_ticks(&ob));
    }
}

// ---------------------------------------------------------------------------------------------
// Query strings: what form_urlencoded encodes, QueryString reads back; `next` links read back.

fn pairs() -> impl Strategy<Value = Vec<(String, String)>> {
    prop::collection::vec((any::<String>(), any::<String>()), 0..8)
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn query_strings_read_what_form_urlencoded_writes(pairs in pairs(), question in any::<bool>()) {
        let encoded = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(&pairs)
            .finish();
        let raw = if question { format!("?{encoded}") } else { encoded };
        let parsed = QueryString::parse(&raw);
        prop_assert_eq!(parsed.pairs(), &pairs[..]);
    }

    #[test]
    fn one_value_decodes_what_form_urlencoded_writes(value in any::<String>()) {
        let encoded: String = form_urlencoded::byte_serialize(value.as_bytes()).collect();
        prop_assert_eq!(form_decode(&encoded), value);
    }

    /// The `next` link carries `after` and every other parameter, grouped by key in order of
    /// first appearance; parsed again it gives the same decoded values, keys holding `=`
    /// included.
    #[test]
    fn next_links_read_back(pairs in pairs(), last_id in any::<String>()) {
        let pairs: Vec<(String, String)> = pairs
            .into_iter()
            .filter(|(k, _)| !k.eq_ignore_ascii_case("after"))
            .collect();
        let encoded = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(&pairs)
            .finish();
        let q = QueryString::parse(&encoded);
        let link = next_link("https://example.com/", "/events/api/v1/events", &last_id, &q, None);
        let (prefix, query) = link.split_once('?').unwrap();
        prop_assert_eq!(prefix, "https://example.com/events/api/v1/events");
        prop_assert!(!link.contains('#') && !link.contains(' '));
        let mut expected = vec![("after".to_string(), last_id.clone())];
        let mut seen: Vec<&str> = Vec::new();
        for (key, _) in &pairs {
            if seen.contains(&key.as_str()) {
                continue;
            }
            seen.push(key);
            expected.extend(pairs.iter().filter(|(k, _)| k == key).cloned());
        }
        let read_back = QueryString::parse(query);
        prop_assert_eq!(read_back.pairs(), &expected[..]);
    }
}

// ---------------------------------------------------------------------------------------------
// IP hosts: the SSRF rule against the `url` crate's WHATWG host parser and std::net.

/// The refusal kind, without the host text.
fn kind(r: &Result<(), EndpointRefusal>) -> &'static str {
    match r {
        Ok(()) => "ok",
        Err(EndpointRefusal::NotHttps) => "not-https",
        Err(EndpointRefusal::Credentials) => "credentials",
        Err(EndpointRefusal::Loopback(_)) => "loopback",
        Err(EndpointRefusal::Private(_)) => "private",
        Err(EndpointRefusal::LinkLocal(_)) => "link-local",
        Err(EndpointRefusal::Metadata(_)) => "metadata",
        Err(EndpointRefusal::Reserved(_)) => "reserved",
        Err(EndpointRefusal::LocalName(_)) => "local-name",
        Err(EndpointRefusal::InvalidHost(_)) => "invalid-host",
    }
}

fn check_host(host: &str) -> Result<(), EndpointRefusal> {
    let uri = AbsoluteUri::parse(&format!("https://{host}/"))
        .unwrap_or_else(|e| panic!("https://{host}/ should parse: {e}"));
    check_endpoint(&uri, false)
}

/// What std's (stable) address predicates say the SSRF rule must refuse, if anything.
fn std_class_v4(a: Ipv4Addr) -> Option<&'static str> {
    if a == Ipv4Addr::new(169, 254, 169, 254) {
        Some("metadata")
    } else if a.is_loopback() {
        Some("loopback")
    } else if a.is_private() {
        Some("private")
    } else if a.is_link_local() {
        Some("link-local")
    } else if a.is_unspecified()
        || a.is_documentation()
        || a.is_multicast()
        || a.is_broadcast()
        || a.octets()[0] == 0
    {
        Some("reserved")
    } else {
        None
    }
}

/// One WHATWG IPv4 number in decimal, octal (`0…`) or hex (`0x…`/`0X…`, any case).
fn ipv4_number(value: u64) -> impl Strategy<Value = String> {
    (0u8..3, 0usize..3, any::<bool>(), any::<bool>()).prop_map(move |(radix, zeros, x, upper)| {
        let pad = "0".repeat(zeros);
        match radix {
            0 => format!("{value}"),
            1 => format!("0{pad}{value:o}"),
            _ => {
                let digits = if upper {
                    format!("{value:X}")
                } else {
                    format!("{value:x}")
                };
                format!("0{}{pad}{digits}", if x { 'X' } else { 'x' })
            }
        }
    })
}

/// `addr` written in one of the forms a WHATWG URL parser accepts: 1–4 numbers, the last
/// filling the remaining bytes, each in any radix; optionally a trailing dot.
fn ipv4_form() -> impl Strategy<Value = (Ipv4Addr, String)> {
    (any::<u32>(), 1usize..=4, any::<bool>()).prop_flat_map(|(addr, parts, dot)| {
        let b = addr.to_be_bytes();
        let numbers: Vec<u64> = match parts {
            1 => vec![u64::from(addr)],
            2 => vec![u64::from(b[0]), u64::from(addr & 0x00ff_ffff)],
            3 => vec![u64::from(b[0]), u64::from(b[1]), u64::from(addr & 0xffff)],
            _ => b.iter().map(|&x| u64::from(x)).collect(),
        };
        let texts: Vec<_> = numbers.into_iter().map(ipv4_number).collect();
        texts.prop_map(move |t| {
            let mut host = t.join(".");
            if dot {
                host.push('.');
            }
            (Ipv4Addr::from(addr), host)
        })
    })
}

/// IPv6 addresses, a third of them IPv4-mapped or IPv4-compatible, the rest with zero and
/// all-ones groups often enough to hit the special ranges.
fn ipv6_segments() -> impl Strategy<Value = [u16; 8]> {
    let v4 = |prefix: u16| {
        any::<u32>().prop_map(move |a| {
            let [h, l] = [(a >> 16) as u16, a as u16];
            [0, 0, 0, 0, 0, prefix, h, l]
        })
    };
    prop_oneof![
        prop::array::uniform8(prop_oneof![Just(0u16), Just(0xffff), any::<u16>()]),
        v4(0xffff),
        v4(0),
    ]
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn every_whatwg_ipv4_form_is_judged_as_its_address((addr, host) in ipv4_form()) {
        // The oracle reads the host as fetch will.
        prop_assert_eq!(url::Host::parse(&host), Ok(url::Host::Ipv4(addr)), "{}", host);
        let dotted = check_host(&addr.to_string());
        prop_assert_eq!(kind(&check_host(&host)), kind(&dotted), "{}", host);
        match std_class_v4(addr) {
            Some(class) => prop_assert_eq!(kind(&dotted), class, "{}", addr),
            None => prop_assert!(
                kind(&dotted) == "ok" || kind(&dotted) == "reserved" || kind(&dotted) == "private",
                "{} {:?}", addr, dotted
            ),
        }
    }

    /// Hosts made of digits, hex letters, `x` and dots: where the url crate reads an IPv4
    /// address the rule judges that address, where it fails the host is invalid, where it
    /// reads a name the rule treats it as a name.
    #[test]
    fn numeric_looking_hosts_agree_with_the_url_crate(
        body in "[0-9a-fxX.]{0,14}[0-9a-fxX]",
        dot in any::<bool>(),
    ) {
        let host = if dot { format!("{body}.") } else { body };
        let ours = check_host(&host);
        match url::Host::parse(&host) {
            Ok(url::Host::Ipv4(addr)) => {
                prop_assert_eq!(kind(&ours), kind(&check_host(&addr.to_string())), "{}", host)
            }
            Ok(_) => prop_assert!(
                kind(&ours) == "ok" || kind(&ours) == "local-name",
                "{} {:?}", host, ours
            ),
            Err(_) => prop_assert_eq!(kind(&ours), "invalid-host", "{}", host),
        }
    }

    /// IPv6 literals in every textual form std writes or reads: the URI parser accepts them,
    /// the url crate reads the same address, and the rule refuses what std's predicates call
    /// non-public (IPv4-mapped addresses as their IPv4 address).
    #[test]
    fn ipv6_literals_agree_with_std_and_url(
        segments in ipv6_segments(),
        form in 0u8..3,
        upper in any::<bool>(),
    ) {
        let addr = Ipv6Addr::from(segments);
        let text = match form {
            0 => addr.to_string(),
            1 => segments.iter().map(|s| format!("{s:04x}")).collect::<Vec<_>>().join(":"),
            _ => {
                let [a, b, c, d, e, f, g, h] = segments;
                let v4 = Ipv4Addr::from((u32::from(g) << 16) | u32::from(h));
                format!("{a:x}:{b:x}:{c:x}:{d:x}:{e:x}:{f:x}:{v4}")
            }
        };
        let text = if upper { text.to_uppercase() } else { text };
        let host = format!("[{text}]");
        prop_assert_eq!(url::Host::parse(&host), Ok(url::Host::Ipv6(addr)));
        let ours = check_host(&host);
        let expected = if let Some(v4) = addr.to_ipv4_mapped() {
            std_class_v4(v4)
        } else if addr.is_loopback() || addr.is_unspecified() || addr.is_multicast() {
            Some(if addr.is_loopback() { "loopback" } else { "reserved" })
        } else if addr.is_unique_local() {
            Some("private")
        } else if addr.is_unicast_link_local() {
            Some("link-local")
        } else {
            None
        };
        if let Some(class) = expected {
            prop_assert_eq!(kind(&ours), class, "{}", host);
        }
    }

    /// Any text in brackets: a valid IPv6 literal for the URI parser and the SSRF rule exactly
    /// when std and the url crate read one.
    #[test]
    fn bracketed_text_is_ipv6_exactly_when_std_says_so(text in "[0-9a-fA-F:.]{0,24}") {
        let std_ok = text.parse::<Ipv6Addr>().is_ok();
        prop_assert_eq!(url::Host::parse(&format!("[{text}]")).is_ok(), std_ok, "{}", text);
        let uri = AbsoluteUri::parse(&format!("https://[{text}]/"));
        prop_assert_eq!(uri.is_ok(), std_ok, "{}", text);
        if let Ok(uri) = uri {
            prop_assert_ne!(kind(&check_endpoint(&uri, false)), "invalid-host");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// URIs: http(s) URLs built from parts; AbsoluteUri reads the parts the url crate reads.

fn http_url() -> impl Strategy<Value = String> {
    let host = prop_oneof![
        prop::collection::vec("[a-wyzA-Z][a-zA-Z0-9-]{0,8}", 1..4).prop_map(|l| l.join(".")),
        any::<Ipv4Addr>().prop_map(|a| a.to_string()),
        any::<Ipv6Addr>().prop_map(|a| format!("[{a}]")),
    ];
    (
        prop_oneof![Just("http"), Just("https"), Just("HTTPS"), Just("Http")],
        host,
        proptest::option::of(any::<u16>()),
        prop::collection::vec("[A-Za-z0-9._~!$&'()*+,;=:@-]{0,6}", 0..4),
        proptest::option::of("[A-Za-z0-9=&_.~-]{0,8}"),
        proptest::option::of("[A-Za-z0-9=&_.~-]{0,8}"),
    )
        .prop_map(|(scheme, host, port, segments, query, fragment)| {
            let mut s = format!("{scheme}://{host}");
            if let Some(p) = port {
                s.push_str(&format!(":{p}"));
            }
            for seg in segments {
                s.push('/');
                s.push_str(&seg);
            }
            if let Some(q) = query {
                s.push('?');
                s.push_str(&q);
            }
            if let Some(f) = fragment {
                s.push('#');
                s.push_str(&f);
            }
            s
        })
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn uris_have_the_parts_the_url_crate_reads(text in http_url()) {
        let oracle = url::Url::parse(&text).unwrap();
        let ours = AbsoluteUri::parse(&text).unwrap();
        prop_assert_eq!(ours.scheme(), oracle.scheme());
        match oracle.host().unwrap() {
            url::Host::Ipv6(a) => {
                let inner = ours.host().trim_start_matches('[').trim_end_matches(']');
                prop_assert_eq!(inner.parse::<Ipv6Addr>(), Ok(a));
            }
            _ => prop_assert_eq!(Some(ours.host()), oracle.host_str()),
        }
        prop_assert_eq!(ours.port(), oracle.port());
        prop_assert_eq!(ours.effective_port(), oracle.port_or_known_default());
        prop_assert_eq!(ours.path(), oracle.path());
        prop_assert_eq!(ours.query(), oracle.query().map(|q| format!("?{q}")).unwrap_or_default());
        prop_assert_eq!(
            ours.fragment(),
            oracle.fragment().map(|f| format!("#{f}")).unwrap_or_default()
        );
        // The normal form reads back as itself.
        prop_assert_eq!(AbsoluteUri::parse(ours.as_str()).unwrap(), ours);
    }
}

// ---------------------------------------------------------------------------------------------
// Tokens: tokens jwt-compact builds, with random claims, parse to the same claims.

fn claim_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<String>().prop_map(Value::String),
        any::<i64>().prop_map(Value::from),
        any::<bool>().prop_map(Value::Bool),
        prop::collection::vec(any::<String>().prop_map(Value::String), 0..3).prop_map(Value::Array),
    ]
}

/// Seconds in chrono's range and far beyond any real token.
fn seconds() -> impl Strategy<Value = i64> {
    -100_000_000_000i64..100_000_000_000
}

fn time(secs: i64) -> DateTime<chrono::Utc> {
    DateTime::from_timestamp(secs, 0).unwrap()
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn tokens_built_by_jwt_compact_parse_to_their_claims(
        custom in prop::collection::btree_map("[a-z:]{1,12}", claim_value(), 0..5),
        exp in proptest::option::of(seconds()),
        nbf in proptest::option::of(seconds()),
        iat in proptest::option::of(seconds()),
        kid in proptest::option::of("[A-Za-z0-9_-]{0,12}"),
        es256 in any::<bool>(),
    ) {
        let custom: Map<String, Value> = custom
            .into_iter()
            .filter(|(k, _)| !["exp", "nbf", "iat"].contains(&k.as_str()))
            .collect();
        let mut claims = jwt_compact::Claims::new(custom.clone());
        claims.expiration = exp.map(time);
        claims.not_before = nbf.map(time);
        claims.issued_at = iat.map(time);
        let mut header = Header::empty();
        if let Some(kid) = &kid {
            header = header.with_key_id(kid.clone());
        }
        // Signed with HMAC under the accepted names: core never checks the signature (WebCrypto
        // does), and jwt-compact's ES256 needs features that do not build on their own.
        let name = if es256 { "ES256" } else { "RS256" };
        let text = Renamed::new(Hs256, name)
            .token(&header, &claims, &Hs256Key::new([9u8; 32]))
            .unwrap();
        let parsed = token::parse(&text).unwrap();
        prop_assert_eq!(parsed.alg, if es256 { Alg::Es256 } else { Alg::Rs256 });
        prop_assert_eq!(parsed.kid, kid.filter(|k| !k.is_empty()));
        let mut expected = custom;
        for (name, secs) in [("exp", exp), ("nbf", nbf), ("iat", iat)] {
            if let Some(secs) = secs {
                expected.insert(name.into(), secs.into());
            }
        }
        prop_assert_eq!(parsed.claims.as_map(), &expected);
        let (input, signature) = text.rsplit_once('.').unwrap();
        prop_assert_eq!(parsed.signing_input, input);
        let untrusted = jwt_compact::UntrustedToken::new(&text).unwrap();
        prop_assert_eq!(&parsed.signature[..], untrusted.signature_bytes());
        prop_assert!(!signature.is_empty());
        prop_assert_eq!(parsed.signature.len(), 32);
    }

    /// Zero skew: valid from `nbf` (inclusive) up to and including `exp`.
    #[test]
    fn lifetime_is_the_zero_skew_rule(
        exp in proptest::option::of(seconds()),
        nbf in proptest::option::of(seconds()),
        now in seconds(),
        edge in 0u8..4,
        delta in -1i64..=1,
    ) {
        // Put `now` next to one of the limits half the time, so equality is exercised.
        let now = match (edge, exp, nbf) {
            (0, Some(e), _) => e + delta,
            (1, _, Some(n)) => n + delta,
            _ => now,
        };
        let mut map = Map::new();
        if let Some(e) = exp {
            map.insert("exp".into(), e.into());
        }
        if let Some(n) = nbf {
            map.insert("nbf".into(), n.into());
        }
        let expected = match (exp, nbf) {
            (None, _) => Err(TokenError::MissingExpiry),
            (Some(e), _) if now > e => Err(TokenError::Expired),
            (_, Some(n)) if now < n => Err(TokenError::NotYetValid),
            _ => Ok(()),
        };
        let claims = events_core::identity::Claims::new(map);
        prop_assert_eq!(token::check_lifetime(&claims, now), expected);
    }
}
