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
}
