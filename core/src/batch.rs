//! `POST /events` in the CloudEvents HTTP batched content mode
//! (`application/cloudevents-batch+json`): a JSON array of structured-mode events, checked as a
//! whole before anything is stored, then grouped by resource (one object call and one
//! transaction per resource, array order kept within each).

use alloc::collections::BTreeSet;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use serde_json::value::RawValue;

use crate::cloud_event::{media_type, CloudEvent};
use crate::error::{ApiError, ErrorBody};
use crate::publish::validate_generic_event;

/// The media type of a batch.
pub const BATCH_CONTENT_TYPE: &str = "application/cloudevents-batch+json";
/// Events in one batch, at most.
pub const MAX_BATCH_EVENTS: usize = 1000;

/// Whether a request's content type is the batched mode (any parameters).
pub fn is_batch(content_type: Option<&str>) -> bool {
    content_type
        .and_then(media_type)
        .is_some_and(|mt| mt == BATCH_CONTENT_TYPE)
}

fn problem_detail(e: &ApiError) -> String {
    match &e.body {
        ErrorBody::Problem { detail: Some(d) } | ErrorBody::Text(d) => d.clone(),
        ErrorBody::Validation(errors) => errors
            .iter()
            .map(|(field, messages)| format!("{field}: {}", messages.join("; ")))
            .collect::<Vec<_>>()
            .join("; "),
        _ => e.describe(),
    }
}

/// Every event of a batch body, each parsed and checked as a single publish is (a generic
/// event: a `resource` that is a valid URN). The first bad event refuses the whole batch with
/// a `400` problem naming its 0-based index and why.
pub fn parse_batch(body: &[u8]) -> Result<Vec<CloudEvent>, ApiError> {
    let items: Vec<&RawValue> = serde_json::from_slice(body).map_err(|_| {
        ApiError::bad_request(
            "A batch must be a JSON array of CloudEvents in structured mode (application/cloudevents-batch+json).",
        )
    })?;
    if items.is_empty() {
        return Err(ApiError::bad_request(
            "The batch is empty: send at least one event.",
        ));
    }
    if items.len() > MAX_BATCH_EVENTS {
        return Err(ApiError::problem(
            413,
            format!(
                "A batch holds at most {MAX_BATCH_EVENTS} events; this one has {}. Split it.",
                items.len()
            ),
        ));
    }
    let events = items
        .iter()
        .enumerate()
        .map(|(i, raw)| {
            let event = CloudEvent::parse(raw.get().as_bytes())
                .map_err(|e| ApiError::bad_request(format!("Event {i}: {}", e.0)))?;
            validate_generic_event(&event)
                .map_err(|e| ApiError::bad_request(format!("Event {i}: {}", problem_detail(&e))))?;
            Ok(event)
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    Ok(collapse_repeats(events))
}

/// The first of the events with the same `(id, source)`, in order: a repeat within a batch is
/// the same event, stored and sent once.
fn collapse_repeats(events: Vec<CloudEvent>) -> Vec<CloudEvent> {
    let mut seen = BTreeSet::new();
    events
        .into_iter()
        .filter(|e| seen.insert((String::from(e.id()), String::from(e.source()))))
        .collect()
}

/// The positions of a batch's events by resource: resources in the order they first appear,
/// each with its events' indexes in array order.
pub fn group_by_resource<'a>(
    resources: impl IntoIterator<Item = &'a str>,
) -> Vec<(&'a str, Vec<usize>)> {
    let mut groups: Vec<(&str, Vec<usize>)> = Vec::new();
    for (i, resource) in resources.into_iter().enumerate() {
        match groups.iter_mut().find(|(r, _)| *r == resource) {
            Some((_, indexes)) => indexes.push(i),
            None => groups.push((resource, alloc::vec![i])),
        }
    }
    groups
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;
    use wasm_bindgen_test::wasm_bindgen_test;

    fn event(id: &str, resource: &str) -> String {
        format!(
            r#"{{"specversion":"1.0","id":"{id}","source":"https://example.com/s","type":"t","resource":"{resource}"}}"#
        )
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn content_type() {
        assert!(is_batch(Some("application/cloudevents-batch+json")));
        assert!(is_batch(Some(
            "Application/CloudEvents-Batch+JSON; charset=utf-8"
        )));
        assert!(!is_batch(Some("application/cloudevents+json")));
        assert!(!is_batch(None));
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn a_batch_parses_in_order() {
        let body = format!(
            "[{}, {}]",
            event("a", "urn:altinn:resource:x"),
            event("b", "urn:altinn:resource:y")
        );
        let events = parse_batch(body.as_bytes()).unwrap();
        let ids: Vec<&str> = events.iter().map(|e| e.id()).collect();
        assert_eq!(ids, ["a", "b"]);
        // A repeat of (id, source) collapses into the first; another source is another event.
        let other_source =
            event("a", "urn:altinn:resource:x").replace("example.com/s", "example.com/t");
        let body = format!(
            "[{}, {}, {}, {}]",
            event("a", "urn:altinn:resource:x"),
            event("b", "urn:altinn:resource:y"),
            event("a", "urn:altinn:resource:x"),
            other_source
        );
        let events = parse_batch(body.as_bytes()).unwrap();
        let keys: Vec<(&str, &str)> = events.iter().map(|e| (e.id(), e.source())).collect();
        assert_eq!(
            keys,
            [
                ("a", "https://example.com/s"),
                ("b", "https://example.com/s"),
                ("a", "https://example.com/t")
            ]
        );
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn bad_batches_say_why() {
        let too_many = format!(
            "[{}]",
            vec![event("a", "urn:altinn:resource:x"); MAX_BATCH_EVENTS + 1].join(",")
        );
        let cases: Vec<(String, u16, &str)> = vec![
            ("{}".into(), 400, "must be a JSON array"),
            ("not json".into(), 400, "must be a JSON array"),
            ("[]".into(), 400, "The batch is empty"),
            (too_many, 413, "at most 1000 events; this one has 1001"),
            (
                format!("[{}, 3]", event("a", "urn:altinn:resource:x")),
                400,
                "Event 1: ",
            ),
            (
                format!(
                    "[{}, {}]",
                    event("a", "urn:altinn:resource:x"),
                    r#"{"specversion":"1.0","id":"b","source":"s","type":"t"}"#
                ),
                400,
                "Event 1: A 'resource' property must be defined.",
            ),
            (
                format!("[{}]", event("a", "not a urn")),
                400,
                "Event 0: 'Resource' must be a valid urn.",
            ),
            (
                format!(
                    "[{}]",
                    r#"{"specversion":"1.0","id":"a","type":"t","resource":"urn:altinn:resource:x"}"#
                ),
                400,
                "Event 0: ",
            ),
        ];
        for (body, status, says) in cases {
            let err = parse_batch(body.as_bytes()).unwrap_err();
            assert_eq!(err.status, status, "{body}");
            let text = err.describe();
            assert!(text.contains(says), "{text}");
        }
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn groups_keep_first_appearance_and_array_order() {
        let groups = group_by_resource(["x", "y", "x", "z", "y"]);
        assert_eq!(
            groups,
            vec![("x", vec![0, 2]), ("y", vec![1, 4]), ("z", vec![3])]
        );
    }
}
