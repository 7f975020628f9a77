//! Absolute URIs (sources, filters, endpoints) and the SSRF rule for webhook endpoints: never a
//! panic, and a parsed URI written back parses to the same text.
#![no_main]

use events_core::endpoint::check_endpoint;
use events_core::uri::AbsoluteUri;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = core::str::from_utf8(data) else {
        return;
    };
    let Ok(uri) = AbsoluteUri::parse(text) else {
        return;
    };
    let written = uri.to_string();
    let again = AbsoluteUri::parse(&written)
        .unwrap_or_else(|e| panic!("written URI does not parse: {e}: {written}"));
    assert_eq!(again.to_string(), written);
    let _ = uri.path_segments().count();
    let _ = check_endpoint(&uri, false);
    let _ = check_endpoint(&uri, true);
    let _ = again.is_base_of(&uri);
});
