//! Webhook delivery rules that need no I/O (spec §10, §14): the retry schedule, how a
//! response is judged, the body that is POSTed, the validation event of the subscription
//! handshake and the trace-log activity of a response.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use crate::cloud_event::CloudEvent;
use crate::time::UnixTime;

/// Delays between webhook attempts (CONTRACT `DELIVERY_RETRY_DELAYS`); the number of attempts is
/// one more than the number of delays.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetrySchedule {
    delays_secs: Vec<u32>,
}

/// Altinn's outbound schedule (spec §10.5): one cooldown retry after 10 s, then scheduled
/// re-deliveries; 12 attempts over about 34.8 hours.
const ALTINN_DELAYS_SECS: [u32; 11] =
    [10, 30, 60, 300, 600, 1800, 3600, 10800, 21600, 43200, 43200];
/// The longest delay the setting accepts (Altinn's longest step, 12 h).
const MAX_DELAY_SECS: u32 = 43_200;
/// The most delays the setting accepts.
const MAX_DELAYS: usize = 50;

impl RetrySchedule {
    /// A schedule with these delays (seconds) before the second, third, … attempt.
    pub fn new(delays_secs: Vec<u32>) -> Self {
        RetrySchedule { delays_secs }
    }

    /// Altinn's outbound queue schedule: `10,30,60,300,600,1800,3600,10800,21600,43200,43200`.
    pub fn altinn() -> Self {
        RetrySchedule::new(ALTINN_DELAYS_SECS.to_vec())
    }

    /// Parses the `DELIVERY_RETRY_DELAYS` setting: comma-separated whole seconds, each item
    /// trimmed of whitespace; each delay `0..=43200` (Altinn's longest step, 12 h), at most 50.
    /// An item is read as Rust reads a `u32`, so a leading `+` is accepted. (The worker treats an
    /// empty setting as unset, so the empty string here is one empty item: an error.)
    pub fn parse(setting: &str) -> Result<Self, RetryScheduleError> {
        let mut delays = Vec::new();
        for item in setting.split(',') {
            let item = item.trim();
            match item.parse::<u32>() {
                Ok(n) if n <= MAX_DELAY_SECS => delays.push(n),
                _ => return Err(RetryScheduleError::NotADelay(String::from(item))),
            }
        }
        if delays.len() > MAX_DELAYS {
            return Err(RetryScheduleError::TooMany);
        }
        Ok(RetrySchedule::new(delays))
    }

    /// The delays in seconds.
    pub fn delays_secs(&self) -> &[u32] {
        &self.delays_secs
    }

    /// Total attempts: delays + 1.
    pub fn max_attempts(&self) -> u32 {
        u32::try_from(self.delays_secs.len())
            .unwrap_or(u32::MAX)
            .saturating_add(1)
    }

    /// After `attempts_made` failed attempts (1 = the first attempt failed), when the next one
    /// is due, or `None` = give up (dead-letter). With no attempt made yet the first one is due
    /// at `now`.
    pub fn next_attempt_at(&self, attempts_made: u32, now: UnixTime) -> Option<UnixTime> {
        let Some(index) = attempts_made.checked_sub(1) else {
            return Some(now);
        };
        let delay = *self.delays_secs.get(usize::try_from(index).ok()?)?;
        Some(now.plus_secs(delay))
    }
}

/// Why a `DELIVERY_RETRY_DELAYS` setting is refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RetryScheduleError {
    /// An item that is not a whole number of seconds in `0..=43200`.
    NotADelay(String),
    /// More than 50 delays.
    TooMany,
}

impl fmt::Display for RetryScheduleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RetryScheduleError::NotADelay(item) => write!(
                f,
                "'{item}' is not a delay in seconds between 0 and {MAX_DELAY_SECS}"
            ),
            RetryScheduleError::TooMany => {
                write!(f, "at most {MAX_DELAYS} delays are allowed")
            }
        }
    }
}

/// Svix's five days: how long an endpoint may fail every attempt before its subscription is
/// disabled, when `DISABLE_AFTER_HOURS` is not set.
pub const DEFAULT_DISABLE_AFTER_HOURS: u32 = 120;

/// `DISABLE_AFTER_HOURS`: a decimal number of hours above 0 (at most ten years), as milliseconds.
pub fn parse_disable_after_hours(value: &str) -> Result<i64, String> {
    let hours = value
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|h| h.is_finite() && *h > 0.0 && *h <= 87_600.0)
        .ok_or_else(|| {
            format!("'{value}' is not a number of hours above 0 (such as 120 or 0.002)")
        })?;
    Ok((hours * 3_600_000.0) as i64)
}

/// How a webhook response is judged: any 2xx is success.
pub fn is_success(status: u16) -> bool {
    (200..=299).contains(&status)
}

/// `Content-Type` of every webhook POST.
pub const WEBHOOK_CONTENT_TYPE: &str = "application/json; charset=utf-8";

/// The body POSTed to an endpoint (spec §10.2, §19.32): the CloudEvent JSON as is; for endpoints
/// whose URL contains `hooks.slack.com` (case-sensitive, anywhere in the string), Slack's
/// envelope `{"text": "<the event JSON as a JSON string>"}`. Altinn escapes only `"` there, so
/// an event with a backslash or a control character gives Slack invalid JSON; here the text is
/// a real JSON string.
///
/// An empty `event_json` (an envelope without event) gives an empty body, or `{ }` for Slack,
/// as Altinn does.
pub fn webhook_body(endpoint: &str, event_json: &str) -> String {
    if !endpoint.contains("hooks.slack.com") {
        return String::from(event_json);
    }
    if event_json.is_empty() {
        return String::from("{ }");
    }
    let mut body = String::with_capacity(event_json.len() + event_json.len() / 8 + 12);
    body.push_str("{\"text\": ");
    body.push_str(&crate::json::to_json(event_json));
    body.push('}');
    body
}

/// `type` of the event that validates a subscription endpoint (spec §10.4).
pub const VALIDATION_EVENT_TYPE: &str = "platform.events.validatesubscription";

/// The validation event of a subscription (spec §10.4): `specversion` 1.0, `id` = the given
/// GUID, `source` = `{base_url}/events/api/v1/subscriptions/{id}` (trailing slashes of
/// `base_url` dropped), `type` [`VALIDATION_EVENT_TYPE`], nothing else.
pub fn validation_event(
    event_id: &str,
    base_url: &str,
    subscription_id: crate::subscription::SubscriptionId,
) -> CloudEvent {
    let base = base_url.trim_end_matches('/');
    let source = format!("{base}/events/api/v1/subscriptions/{subscription_id}");
    CloudEvent::new(event_id, &source, VALIDATION_EVENT_TYPE)
}

/// Trace-log activities (spec §14), stored by name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Activity {
    Registered,
    WebhookPostResponse,
    OutboundQueue,
    Unauthorized,
    EndpointValidationSuccess,
    EndpointValidationFailed,
    /// Not Altinn's: delivery paused because the endpoint failed every attempt for too long.
    EndpointDisabled,
    /// Not Altinn's: the subscriber resumed delivery.
    EndpointEnabled,
}

impl Activity {
    /// The name stored in the trace log.
    pub fn as_str(self) -> &'static str {
        match self {
            Activity::Registered => "Registered",
            Activity::WebhookPostResponse => "WebhookPostResponse",
            Activity::OutboundQueue => "OutboundQueue",
            Activity::Unauthorized => "Unauthorized",
            Activity::EndpointValidationSuccess => "EndpointValidationSuccess",
            Activity::EndpointValidationFailed => "EndpointValidationFailed",
            Activity::EndpointDisabled => "EndpointDisabled",
            Activity::EndpointEnabled => "EndpointEnabled",
        }
    }
}

impl fmt::Display for Activity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The activity for a webhook response: for validation events (type exactly
/// [`VALIDATION_EVENT_TYPE`]) `EndpointValidationSuccess` on 2xx else
/// `EndpointValidationFailed`; for other events `WebhookPostResponse`.
pub fn response_activity(event_type: &str, status: u16) -> Activity {
    if event_type != VALIDATION_EVENT_TYPE {
        Activity::WebhookPostResponse
    } else if is_success(status) {
        Activity::EndpointValidationSuccess
    } else {
        Activity::EndpointValidationFailed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::borrow::ToOwned;
    use alloc::string::ToString;
    use alloc::vec;
    use wasm_bindgen_test::wasm_bindgen_test;

    const NOW_MS: i64 = 1_735_725_600_000; // 2025-01-01T10:00:00Z
    const NOW: UnixTime = UnixTime::from_millis(NOW_MS);

    fn at(ms: i64) -> Option<UnixTime> {
        Some(UnixTime::from_millis(ms))
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn disable_after_hours() {
        assert_eq!(parse_disable_after_hours("120"), Ok(432_000_000));
        assert_eq!(parse_disable_after_hours("0.001"), Ok(3_600));
        assert_eq!(parse_disable_after_hours(" 1.5 "), Ok(5_400_000));
        for bad in ["0", "-1", "x", "", "NaN", "inf", "100000"] {
            assert!(parse_disable_after_hours(bad).is_err(), "{bad}");
        }
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn retry_schedules() {
        // (schedule, max attempts, [(attempts made, next attempt at)])
        #[allow(clippy::type_complexity)]
        let cases: &[(RetrySchedule, u32, &[(u32, Option<UnixTime>)])] = &[
            (
                RetrySchedule::altinn(),
                12,
                &[
                    (0, Some(NOW)),
                    (1, at(NOW_MS + 10_000)),
                    (2, at(NOW_MS + 30_000)),
                    (3, at(NOW_MS + 60_000)),
                    (4, at(NOW_MS + 300_000)),
                    (5, at(NOW_MS + 600_000)),
                    (6, at(NOW_MS + 1_800_000)),
                    (7, at(NOW_MS + 3_600_000)),
                    (8, at(NOW_MS + 10_800_000)),
                    (9, at(NOW_MS + 21_600_000)),
                    (10, at(NOW_MS + 43_200_000)),
                    (11, at(NOW_MS + 43_200_000)),
                    (12, None),
                    (13, None),
                    (u32::MAX, None),
                ],
            ),
            (
                RetrySchedule::new(vec![1, 1]),
                3,
                &[(1, at(NOW_MS + 1_000)), (2, at(NOW_MS + 1_000)), (3, None)],
            ),
            (
                RetrySchedule::new(Vec::new()),
                1,
                &[(0, Some(NOW)), (1, None)],
            ),
            (
                RetrySchedule::new(vec![u32::MAX]),
                2,
                &[(1, at(NOW_MS + i64::from(u32::MAX) * 1000)), (2, None)],
            ),
        ];
        for (schedule, attempts, steps) in cases {
            assert_eq!(schedule.max_attempts(), *attempts, "{schedule:?}");
            for &(made, expected) in *steps {
                assert_eq!(
                    schedule.next_attempt_at(made, NOW),
                    expected,
                    "{schedule:?} after {made}"
                );
            }
        }
        assert_eq!(
            RetrySchedule::new(vec![5]).next_attempt_at(1, UnixTime::from_millis(i64::MAX - 1)),
            at(i64::MAX)
        );
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn retry_schedule_parse() {
        // The setting's rules as the worker has always applied them.
        let cases: &[(&str, Result<&[u32], &str>)] = &[
            (
                "10,30,60,300,600,1800,3600,10800,21600,43200,43200",
                Ok(&ALTINN_DELAYS_SECS),
            ),
            ("1,1", Ok(&[1, 1])),
            ("1, 2,3", Ok(&[1, 2, 3])),
            (" 5 , 0 ,7 ", Ok(&[5, 0, 7])),
            ("\u{a0}4\u{2003}", Ok(&[4])),
            ("+1", Ok(&[1])),
            ("0", Ok(&[0])),
            ("43200", Ok(&[43_200])),
            (
                "43201",
                Err("'43201' is not a delay in seconds between 0 and 43200"),
            ),
            (
                "4294967296",
                Err("'4294967296' is not a delay in seconds between 0 and 43200"),
            ),
            ("", Err("'' is not a delay in seconds between 0 and 43200")),
            (
                "  ",
                Err("'' is not a delay in seconds between 0 and 43200"),
            ),
            (
                "1,,2",
                Err("'' is not a delay in seconds between 0 and 43200"),
            ),
            (
                "1,",
                Err("'' is not a delay in seconds between 0 and 43200"),
            ),
            (
                "10,x",
                Err("'x' is not a delay in seconds between 0 and 43200"),
            ),
            (
                "-1",
                Err("'-1' is not a delay in seconds between 0 and 43200"),
            ),
            (
                "1.5",
                Err("'1.5' is not a delay in seconds between 0 and 43200"),
            ),
            (
                "1;2",
                Err("'1;2' is not a delay in seconds between 0 and 43200"),
            ),
        ];
        for &(input, expected) in cases {
            let parsed = RetrySchedule::parse(input);
            assert_eq!(
                parsed
                    .as_ref()
                    .map(RetrySchedule::delays_secs)
                    .map_err(|e| e.to_string()),
                expected.map_err(str::to_owned),
                "{input:?}"
            );
        }
        let fifty = vec!["1"; 50].join(",");
        assert_eq!(
            RetrySchedule::parse(&fifty).map(|s| s.max_attempts()),
            Ok(51)
        );
        let fifty_one = vec!["1"; 51].join(",");
        assert_eq!(
            RetrySchedule::parse(&fifty_one).map_err(|e| e.to_string()),
            Err("at most 50 delays are allowed".to_owned())
        );
        assert_eq!(
            RetrySchedule::parse("10,30,60,300,600,1800,3600,10800,21600,43200,43200"),
            Ok(RetrySchedule::altinn())
        );
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn success_statuses() {
        let cases: &[(u16, bool)] = &[
            (100, false),
            (199, false),
            (200, true),
            (201, true),
            (202, true),
            (204, true),
            (299, true),
            (300, false),
            (302, false),
            (400, false),
            (404, false),
            (500, false),
            (503, false),
            (0, false),
        ];
        for &(status, expected) in cases {
            assert_eq!(is_success(status), expected, "{status}");
        }
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn webhook_bodies() {
        let event = r#"{"specversion":"1.0","id":"x"}"#;
        let cases: &[(&str, &str, &str)] = &[
            (
                "https://hooks.slack.com/services/T000/B000/XXX",
                event,
                r#"{"text": "{\"specversion\":\"1.0\",\"id\":\"x\"}"}"#,
            ),
            (
                "https://proxy.example.com/?to=hooks.slack.com",
                event,
                r#"{"text": "{\"specversion\":\"1.0\",\"id\":\"x\"}"}"#,
            ),
            // A real JSON string: backslashes are escaped too (Altinn escapes only quotes).
            (
                "https://hooks.slack.com/x",
                r#"{"id":"a\\b","data":"æ\"q"}"#,
                r#"{"text": "{\"id\":\"a\\\\b\",\"data\":\"æ\\\"q\"}"}"#,
            ),
            ("https://hooks.slack.com/x", "", "{ }"),
            ("https://webhook.example.com/hook", event, event),
            ("https://HOOKS.SLACK.COM/x", event, event),
            ("https://hooks.slack.co/x", event, event),
            ("https://webhook.example.com/hook", "", ""),
        ];
        for &(endpoint, json, expected) in cases {
            assert_eq!(webhook_body(endpoint, json), expected, "{endpoint} {json}");
        }
        // Whatever the event holds, Slack gets valid JSON whose text is the event.
        for event in [
            r#"{"data":{"path":"C:\\temp","lines":"a\nb","ctl":"\u0001\t"}}"#,
            r#"{"data":"\\\"\/"}"#,
        ] {
            let body = webhook_body("https://hooks.slack.com/x", event);
            let parsed: serde_json::Value = serde_json::from_str(&body).unwrap();
            assert_eq!(parsed["text"], event, "{body}");
        }
        assert_eq!(WEBHOOK_CONTENT_TYPE, "application/json; charset=utf-8");
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn validation_events() {
        let cases: &[(&str, &str, i64, &str)] = &[
            (
                "9a0e",
                "https://platform.altinn.no",
                4711,
                r#"{"specversion":"1.0","id":"9a0e","source":"https://platform.altinn.no/events/api/v1/subscriptions/4711","type":"platform.events.validatesubscription"}"#,
            ),
            (
                "9a0e",
                "https://platform.altinn.no/",
                4711,
                r#"{"specversion":"1.0","id":"9a0e","source":"https://platform.altinn.no/events/api/v1/subscriptions/4711","type":"platform.events.validatesubscription"}"#,
            ),
            (
                "0b9ab8f6-4a41-4c4e-8c5e-2f0b1d4a5f3e",
                "http://localhost:8787",
                1,
                r#"{"specversion":"1.0","id":"0b9ab8f6-4a41-4c4e-8c5e-2f0b1d4a5f3e","source":"http://localhost:8787/events/api/v1/subscriptions/1","type":"platform.events.validatesubscription"}"#,
            ),
        ];
        for &(id, base, sub, expected) in cases {
            let event = validation_event(id, base, crate::subscription::SubscriptionId(sub));
            assert_eq!(event.to_json(), expected, "{base} {sub}");
            assert_eq!(event.type_(), VALIDATION_EVENT_TYPE);
            assert_eq!(event.subject(), None);
            assert_eq!(event.time(), None);
            assert_eq!(event.data(), None);
        }
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn activities() {
        let names: &[(Activity, &str)] = &[
            (Activity::Registered, "Registered"),
            (Activity::WebhookPostResponse, "WebhookPostResponse"),
            (Activity::OutboundQueue, "OutboundQueue"),
            (Activity::Unauthorized, "Unauthorized"),
            (
                Activity::EndpointValidationSuccess,
                "EndpointValidationSuccess",
            ),
            (
                Activity::EndpointValidationFailed,
                "EndpointValidationFailed",
            ),
        ];
        for &(activity, name) in names {
            assert_eq!(activity.as_str(), name);
            assert_eq!(activity.to_string(), name);
        }

        let responses: &[(&str, u16, Activity)] = &[
            (
                VALIDATION_EVENT_TYPE,
                200,
                Activity::EndpointValidationSuccess,
            ),
            (
                VALIDATION_EVENT_TYPE,
                204,
                Activity::EndpointValidationSuccess,
            ),
            (
                VALIDATION_EVENT_TYPE,
                299,
                Activity::EndpointValidationSuccess,
            ),
            (
                VALIDATION_EVENT_TYPE,
                301,
                Activity::EndpointValidationFailed,
            ),
            (
                VALIDATION_EVENT_TYPE,
                404,
                Activity::EndpointValidationFailed,
            ),
            (
                VALIDATION_EVENT_TYPE,
                500,
                Activity::EndpointValidationFailed,
            ),
            ("app.instance.created", 200, Activity::WebhookPostResponse),
            ("app.instance.created", 500, Activity::WebhookPostResponse),
            (
                "Platform.Events.ValidateSubscription",
                200,
                Activity::WebhookPostResponse,
            ),
            ("", 404, Activity::WebhookPostResponse),
        ];
        for &(event_type, status, expected) in responses {
            assert_eq!(
                response_activity(event_type, status),
                expected,
                "{event_type} {status}"
            );
        }
    }
}
