//! Query strings of the reads: decoding, binding and validation of `GET /events`,
//! `GET /app/{org}/{app}` and `GET /app/party`, and the `next` link built from them.
#![no_main]

use events_core::query::{next_link, AppEndpoint, AppEventsQuery, GenericEventsQuery, QueryString};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = core::str::from_utf8(data) else {
        return;
    };
    // An optional header value after a newline (`Altinn-AlternativeSubject` / `person`).
    let (query, header) = match text.split_once('\n') {
        Some((q, h)) => (q, Some(h)),
        None => (text, None),
    };
    let q = QueryString::parse(query);
    let _ = GenericEventsQuery::from_request(&q, header);
    for endpoint in [AppEndpoint::ForOrg, AppEndpoint::ForParty] {
        if let Ok(parsed) = AppEventsQuery::from_request(&q, header, endpoint) {
            let _ = parsed.subject_source();
        }
    }
    let _ = next_link(
        "https://platform.altinn.no",
        "/events/api/v1/events",
        "id",
        &q,
        Some(("resource", query)),
    );
});
