//! The `POST /subscriptions` body: binding and every check of spec §5.6/§8, with and without
//! private endpoints, for an org and a user caller.
#![no_main]

use events_core::identity::Claims;
use events_core::subscription::{check_request, SubscriptionRequest};
use libfuzzer_sys::fuzz_target;
use serde_json::json;

fuzz_target!(|data: &[u8]| {
    if events_core::json::check_depth(data).is_err() {
        return;
    }
    let Ok(request) = SubscriptionRequest::parse(data) else {
        return;
    };
    let org = json!({"urn:altinn:org": "ttd", "scope": "altinn:events.subscribe"});
    let user = json!({"urn:altinn:userid": "1337", "urn:altinn:partyid": 50001337});
    for claims in [org, user] {
        let claims = Claims::new(claims.as_object().cloned().unwrap_or_default());
        for allow_private in [false, true] {
            let _ = check_request(&request, &claims, "apps.altinn.no", allow_private);
        }
    }
});
