//! Trace-log entries posted by delivery workers (`POST /storage/events/logs`, spec §5.14, §14).

use alloc::borrow::ToOwned;
use alloc::string::String;

use serde_json::Value;

use crate::error::ApiError;
use crate::identity::parse_guid;
use crate::uri::AbsoluteUri;
use crate::urn::ResourceUrn;

/// A validated `LogEntryDto` (property names are case-insensitive).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogEntry {
    pub cloud_event_id: String,
    pub cloud_event_resource: Option<String>,
    pub cloud_event_type: Option<String>,
    pub subscription_id: Option<i64>,
    pub consumer: Option<String>,
    pub endpoint: String,
    pub status_code: u16,
    pub is_success_status_code: bool,
}

/// Which trace log `GET /storage/events/logs` reads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LogQuery {
    /// Webhook responses of one subscription (`?subscriptionId=`).
    Subscription(crate::subscription::SubscriptionId),
    /// Registrations and queueing decisions of one resource (`?resource=`).
    Resource(ResourceUrn),
}

impl LogQuery {
    /// Exactly one of the two parameters (empty counts as absent), each valid, or a 400.
    pub fn from_query(
        subscription_id: Option<&str>,
        resource: Option<&str>,
    ) -> Result<LogQuery, ApiError> {
        match (subscription_id, resource) {
            (Some(_), Some(_)) => Err(bad("Give 'subscriptionId' or 'resource', not both.")),
            (Some(id), None) => crate::subscription::parse_route_id(id).map(LogQuery::Subscription),
            (None, Some(r)) if crate::urn::is_valid_urn(r) => Ok(LogQuery::Resource(r.into())),
            (None, Some(_)) => Err(bad("'resource' must be a valid urn.")),
            (None, None) => Err(bad("Give 'subscriptionId' or 'resource'.")),
        }
    }
}

fn bad(detail: &str) -> ApiError {
    ApiError::bad_request(detail)
}

impl LogEntry {
    /// The subscription the entry is filed with; this service keeps trace logs per
    /// subscription, so an entry without one is a 400.
    pub fn require_subscription(&self) -> Result<crate::subscription::SubscriptionId, ApiError> {
        self.subscription_id
            .map(crate::subscription::SubscriptionId)
            .ok_or_else(|| {
                bad("'subscriptionId' is needed to file the entry with its subscription.")
            })
    }

    /// Parse and check: `cloudEventId` must be a GUID, `endpoint` an absolute URI and
    /// `statusCode` an HTTP status; anything else is a 400 problem.
    pub fn parse(body: &[u8]) -> Result<LogEntry, ApiError> {
        let v: Value =
            serde_json::from_slice(body).map_err(|_| bad("The log entry is not a JSON object."))?;
        let Value::Object(map) = v else {
            return Err(bad("The log entry is not a JSON object."));
        };
        let get = |name: &str| {
            map.iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v)
                .filter(|v| !v.is_null())
        };
        let string = |name: &str| -> Result<Option<String>, ApiError> {
            match get(name) {
                None => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(_) => {
                    let mut msg = String::from("'");
                    msg.push_str(name);
                    msg.push_str("' must be a string.");
                    Err(bad(&msg))
                }
            }
        };
        let cloud_event_id = string("cloudEventId")?
            .as_deref()
            .and_then(parse_guid)
            .ok_or_else(|| bad("'cloudEventId' must be a GUID."))?;
        let endpoint = string("endpoint")?
            .filter(|e| AbsoluteUri::parse(e).is_ok())
            .ok_or_else(|| bad("'endpoint' must be an absolute URI."))?;
        let status_code = get("statusCode")
            .and_then(Value::as_u64)
            .filter(|s| (100..=599).contains(s))
            .map(|s| s as u16)
            .ok_or_else(|| bad("'statusCode' must be an HTTP status code."))?;
        let subscription_id = match get("subscriptionId") {
            None => None,
            Some(v) => Some(
                v.as_i64()
                    .ok_or_else(|| bad("'subscriptionId' must be an integer."))?,
            ),
        };
        let is_success_status_code = match get("isSuccessStatusCode") {
            None => false,
            Some(Value::Bool(b)) => *b,
            Some(_) => return Err(bad("'isSuccessStatusCode' must be true or false.")),
        };
        Ok(LogEntry {
            cloud_event_id,
            cloud_event_resource: string("cloudEventResource")?,
            cloud_event_type: string("cloudEventType")?,
            subscription_id,
            consumer: string("consumer")?.map(|c| c.to_owned()),
            endpoint,
            status_code,
            is_success_status_code,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorBody;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test(unsupported = test)]
    fn parses_pascal_and_camel_case() {
        let e = LogEntry::parse(br#"{"CloudEventId":"4A80AF94-1111-2222-3333-444455556666","Endpoint":"https://x.example/h","StatusCode":200,"SubscriptionId":7,"CloudEventType":"t"}"#).unwrap();
        assert_eq!(e.cloud_event_id, "4a80af94-1111-2222-3333-444455556666");
        assert_eq!(
            (
                e.status_code,
                e.subscription_id,
                e.cloud_event_type.as_deref()
            ),
            (200, Some(7), Some("t"))
        );
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn rejections() {
        let cases: [(&[u8], &str); 5] = [
            (b"[]", "The log entry is not a JSON object."),
            (br#"{"cloudEventId":"x","endpoint":"https://a/","statusCode":200}"#, "'cloudEventId' must be a GUID."),
            (br#"{"cloudEventId":"4a80af94-1111-2222-3333-444455556666","statusCode":200}"#, "'endpoint' must be an absolute URI."),
            (br#"{"cloudEventId":"4a80af94-1111-2222-3333-444455556666","endpoint":"https://a/"}"#, "'statusCode' must be an HTTP status code."),
            (br#"{"cloudEventId":"4a80af94-1111-2222-3333-444455556666","endpoint":"https://a/","statusCode":200,"subscriptionId":"x"}"#, "'subscriptionId' must be an integer."),
        ];
        for (body, detail) in cases {
            let e = LogEntry::parse(body).unwrap_err();
            assert_eq!(
                e.body,
                ErrorBody::Problem {
                    detail: Some(detail.into())
                }
            );
        }
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn a_log_query_names_one_log() {
        assert_eq!(
            LogQuery::from_query(Some("7"), None),
            Ok(LogQuery::Subscription(crate::subscription::SubscriptionId(
                7
            )))
        );
        assert_eq!(
            LogQuery::from_query(None, Some("urn:altinn:resource:r")),
            Ok(LogQuery::Resource("urn:altinn:resource:r".into()))
        );
        let detail = |r: Result<LogQuery, ApiError>| match r.unwrap_err().body {
            ErrorBody::Problem { detail } => detail,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            detail(LogQuery::from_query(Some("7"), Some("urn:a:b"))).as_deref(),
            Some("Give 'subscriptionId' or 'resource', not both.")
        );
        assert_eq!(
            detail(LogQuery::from_query(None, None)).as_deref(),
            Some("Give 'subscriptionId' or 'resource'.")
        );
        assert_eq!(
            detail(LogQuery::from_query(None, Some("Urn:x"))).as_deref(),
            Some("'resource' must be a valid urn.")
        );
        assert_eq!(
            LogQuery::from_query(Some("x"), None).unwrap_err().status,
            400
        );
        let entry = LogEntry::parse(br#"{"cloudEventId":"4A80AF94-1111-2222-3333-444455556666","endpoint":"https://x.example/h","statusCode":200}"#).unwrap();
        assert_eq!(entry.require_subscription().unwrap_err().status, 400);
    }
}
