//! CloudEvent structured-mode parsing (`POST /events`, `/storage/events`, `/inbound`): never a
//! panic, and what parses writes back to JSON that parses to the same event. The nesting limit
//! runs first, as in the service.
#![no_main]

use events_core::cloud_event::CloudEvent;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if events_core::json::check_depth(data).is_err() {
        return;
    }
    if let Ok(event) = CloudEvent::parse(data) {
        let written = event.to_json();
        let again = CloudEvent::parse(written.as_bytes())
            .unwrap_or_else(|e| panic!("written event does not parse: {e:?}: {written}"));
        assert_eq!(again.to_json(), written);
        let _ = events_core::publish::validate_generic_event(&event);
        let _ = event.to_json_utc();
    }
});
