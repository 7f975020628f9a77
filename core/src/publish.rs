//! Rules of `POST /events/api/v1/events` beyond CloudEvent parsing (spec §5.4, §7.3).

use crate::cloud_event::{media_type, CloudEvent};
use crate::error::ApiError;
use crate::urn::is_valid_urn;

/// `[Consumes("application/cloudevents+json")]`: only that media type (any parameters);
/// a missing content type cannot be read either.
pub fn require_cloudevents_content_type(content_type: Option<&str>) -> Result<(), ApiError> {
    match content_type.and_then(media_type) {
        Some(mt) if mt == "application/cloudevents+json" => Ok(()),
        _ => Err(ApiError::unsupported_media_type()),
    }
}

/// `[Consumes("application/json")]`: `application/json` or any `+json` type; requests
/// without a content type are let through (they have no body to read).
pub fn require_json_content_type(content_type: Option<&str>) -> Result<(), ApiError> {
    let Some(ct) = content_type.filter(|c| !c.trim().is_empty()) else {
        return Ok(());
    };
    match media_type(ct) {
        Some(mt)
            if mt == "application/json"
                || (mt.starts_with("application/") && mt.ends_with("+json")) =>
        {
            Ok(())
        }
        _ => Err(ApiError::unsupported_media_type()),
    }
}

/// `POST /storage/events` stores an event only under a resource that is a valid URN (400).
pub fn require_storable(event: &CloudEvent) -> Result<(), ApiError> {
    if is_routable(event) {
        Ok(())
    } else {
        Err(ApiError::bad_request(
            "A 'resource' property that is a valid urn must be defined.",
        ))
    }
}

/// `POST /inbound` and `/outbound` accept any event; one without a valid resource URN has no
/// resource log and no subscription can match it, so it is answered 200 and dropped.
pub fn is_routable(event: &CloudEvent) -> bool {
    event.resource().is_some_and(is_valid_urn)
}

/// `POST /app` reads only JSON, and (unlike Altinn's other JSON endpoints) a request without a
/// content type is refused too (415).
pub fn require_app_content_type(content_type: Option<&str>) -> Result<(), ApiError> {
    if content_type.is_none_or(|c| c.trim().is_empty()) {
        return Err(ApiError::unsupported_media_type());
    }
    require_json_content_type(content_type)
}

/// A generic event needs a `resource` extension that is a valid URN.
pub fn validate_generic_event(event: &CloudEvent) -> Result<(), ApiError> {
    match event.resource() {
        None | Some("") => Err(ApiError::bad_request(
            "A 'resource' property must be defined.",
        )),
        Some(r) if !is_valid_urn(r) => {
            Err(ApiError::bad_request("'Resource' must be a valid urn."))
        }
        Some(_) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorBody;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test(unsupported = test)]
    fn content_types() {
        assert!(require_cloudevents_content_type(Some("application/cloudevents+json")).is_ok());
        assert!(require_cloudevents_content_type(Some(
            "Application/CloudEvents+JSON; charset=utf-8"
        ))
        .is_ok());
        for bad in [Some("application/json"), Some("text/plain"), None, Some("")] {
            assert_eq!(
                require_cloudevents_content_type(bad).unwrap_err().status,
                415,
                "{bad:?}"
            );
        }
        assert!(require_json_content_type(Some("application/cloudevents+json")).is_ok());
        assert!(require_json_content_type(None).is_ok());
        assert_eq!(
            require_json_content_type(Some("text/plain"))
                .unwrap_err()
                .status,
            415
        );
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn resource_rules() {
        let mut e = CloudEvent::new("1", "s", "t");
        let detail = |e: &CloudEvent| match validate_generic_event(e) {
            Err(ApiError {
                body: ErrorBody::Problem { detail: Some(d) },
                ..
            }) => d,
            other => alloc::format!("{other:?}"),
        };
        assert_eq!(detail(&e), "A 'resource' property must be defined.");
        e.set("resource", "");
        assert_eq!(detail(&e), "A 'resource' property must be defined.");
        e.set("resource", "urn:altinn:resource:Test");
        assert_eq!(detail(&e), "'Resource' must be a valid urn.");
        e.set("resource", "urn:altinn:resource:test");
        assert!(validate_generic_event(&e).is_ok());
        e.set("resource", "urn:other:thing");
        assert!(
            validate_generic_event(&e).is_ok(),
            "need not be a resource URN"
        );
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn storage_and_fan_out_need_a_resource_urn() {
        let mut e = CloudEvent::parse(
            br#"{"specversion":"1.0","id":"1","source":"https://x/y","type":"t"}"#,
        )
        .unwrap();
        assert!(!is_routable(&e));
        assert_eq!(require_storable(&e).unwrap_err().status, 400);
        e.set("resource", "urn:altinn:resource:r");
        assert!(is_routable(&e));
        assert!(require_storable(&e).is_ok());
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn app_events_need_a_json_content_type() {
        assert_eq!(require_app_content_type(None).unwrap_err().status, 415);
        assert_eq!(require_app_content_type(Some(" ")).unwrap_err().status, 415);
        assert_eq!(
            require_app_content_type(Some("text/plain"))
                .unwrap_err()
                .status,
            415
        );
        assert!(require_app_content_type(Some("application/json; charset=utf-8")).is_ok());
    }
}
