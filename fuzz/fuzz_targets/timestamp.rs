//! Timestamps: RFC 3339 event times and the query binder's `from`/`to`. A parsed time formats
//! to text that parses to the same instant.
#![no_main]

use events_core::time::Timestamp;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = core::str::from_utf8(data) else {
        return;
    };
    if let Ok(t) = Timestamp::parse_rfc3339(text) {
        let written = t.format();
        let again = Timestamp::parse_rfc3339(&written)
            .unwrap_or_else(|e| panic!("written time does not parse: {e}: {written}"));
        assert_eq!(again.to_utc(), t.to_utc(), "{text} -> {written}");
    }
    if let Ok((t, _)) = Timestamp::parse_query(text) {
        let _ = t.to_utc().format();
    }
});
