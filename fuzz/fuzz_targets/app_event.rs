//! The `POST /app` body: binding, then building the event as the app `ttd/apps-test`.
#![no_main]

use events_core::app_event::{build_app_event, AppEventRequest};
use events_core::time::Timestamp;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if events_core::json::check_depth(data).is_err() {
        return;
    }
    if let Ok(request) = AppEventRequest::parse(data) {
        let now = Timestamp::from_unix_millis(1_764_000_000_000);
        if let Ok(event) = build_app_event(
            &request,
            "ttd/apps-test",
            "6f0c1d8e-2a3b-4c5d-9e8f-0a1b2c3d4e5f",
            now,
        ) {
            let _ = event.to_json();
        }
    }
});
