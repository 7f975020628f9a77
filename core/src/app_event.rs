//! `POST /events/api/v1/app`: binding the request body (`AppCloudEventRequestModel`) as
//! ASP.NET does, Altinn's checks in Altinn's order, and the event the server builds from it
//! (spec §4.4, §5.1).

use alloc::string::{String, ToString};

use serde_json::value::RawValue;

use crate::cloud_event::CloudEvent;
use crate::error::ApiError;
use crate::json::Members;
use crate::time::Timestamp;
use crate::uri::AbsoluteUri;

/// Detail of the 400 when a required value is missing (also used when only `specversion` is).
pub const MSG_MISSING_VALUES: &str =
    "Missing parameter values: source, subject and type cannot be null";
/// Detail of the 400 for a `source` that is not an absolute URI (Altinn answers 500 there).
pub const MSG_SOURCE_NOT_ABSOLUTE: &str = "'source' must be an absolute URI.";
/// ASP.NET's message for an empty body (or the JSON literal `null`).
pub const MSG_EMPTY_BODY: &str = "A non-empty request body is required.";

/// .NET type of the request model, as named in System.Text.Json binding errors.
const MODEL_TYPE: &str = "Altinn.Platform.Events.Models.AppCloudEventRequestModel";

/// The body of `POST /app` (`AppCloudEventRequestModel`).
///
/// Property names match case-insensitively; unknown properties are ignored; when a property
/// occurs more than once the last occurrence wins (System.Text.Json's behaviour). `data`,
/// `dataschema` and `contenttype` are checked for their JSON type only and then dropped: Altinn
/// never copies them into the event (spec §19.1).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AppEventRequest {
    pub source: Option<String>,
    pub specversion: Option<String>,
    pub type_: Option<String>,
    pub subject: Option<String>,
    pub alternativesubject: Option<String>,
}

/// System.Text.Json's conversion error, under the JSON path as ASP.NET reports it.
fn conversion_error(path: &str, type_name: &str, extra: &str) -> ApiError {
    let mut msg = String::from("The JSON value could not be converted to ");
    msg.push_str(type_name);
    msg.push_str(". Path: ");
    msg.push_str(path);
    msg.push('.');
    msg.push_str(extra);
    ApiError::validation(path, msg)
}

/// The first byte of a raw JSON value tells its kind.
fn first_byte(raw: &RawValue) -> u8 {
    raw.get().as_bytes().first().copied().unwrap_or(b'n')
}

/// A JSON string or null, else a conversion error naming `type_name`.
fn bind_string(key: &str, raw: &RawValue, type_name: &str) -> Result<Option<String>, ApiError> {
    match first_byte(raw) {
        b'n' => Ok(None),
        b'"' => serde_json::from_str::<String>(raw.get())
            .map(Some)
            .map_err(|_| conversion_error(&property_path(key), type_name, "")),
        _ => Err(conversion_error(&property_path(key), type_name, "")),
    }
}

fn property_path(key: &str) -> String {
    let mut path = String::from("$.");
    path.push_str(key);
    path
}

impl AppEventRequest {
    /// Bind a request body as ASP.NET does.
    ///
    /// * empty (or whitespace-only) body, or the literal `null` → ValidationProblem
    ///   `{"": ["A non-empty request body is required."]}`;
    /// * invalid JSON → ValidationProblem under `$`;
    /// * a value that is not an object → ValidationProblem under `$`;
    /// * `source`, `specversion`, `type`, `subject`, `alternativesubject` given as anything but
    ///   a string or null → ValidationProblem under `$.{name}` ("The JSON value could not be
    ///   converted to System.String. Path: $.{name}."; `System.Uri` for `source`, which Altinn
    ///   types as a URI). `{name}` is the property name as written in the body;
    /// * `dataschema` (a .NET `Uri`) must be a string or null;
    /// * `contenttype` is a .NET `ContentType` object: an object or null is accepted (and
    ///   ignored), a string or any other value fails binding as it does in Altinn;
    /// * `data` may be any JSON value and is ignored.
    pub fn parse(body: &[u8]) -> Result<AppEventRequest, ApiError> {
        // System.Text.Json skips a UTF-8 byte order mark.
        let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
        if body.iter().all(u8::is_ascii_whitespace) {
            return Err(ApiError::validation("", MSG_EMPTY_BODY));
        }
        let root: &RawValue = serde_json::from_slice(body).map_err(|e| {
            let mut msg = String::from("The request body is not valid JSON: ");
            msg.push_str(&e.to_string());
            ApiError::validation("$", msg)
        })?;
        match first_byte(root) {
            b'{' => {}
            b'n' => return Err(ApiError::validation("", MSG_EMPTY_BODY)),
            _ => return Err(conversion_error("$", MODEL_TYPE, "")),
        }
        let members: Members<'_> =
            serde_json::from_str(root.get()).map_err(|_| conversion_error("$", MODEL_TYPE, ""))?;
        let mut req = AppEventRequest::default();
        for (key, raw) in &members.0 {
            let key: &str = key;
            let lower = key.to_ascii_lowercase();
            match lower.as_str() {
                "source" => req.source = bind_string(key, raw, "System.Uri")?,
                "specversion" => req.specversion = bind_string(key, raw, "System.String")?,
                "type" => req.type_ = bind_string(key, raw, "System.String")?,
                "subject" => req.subject = bind_string(key, raw, "System.String")?,
                "alternativesubject" => {
                    req.alternativesubject = bind_string(key, raw, "System.String")?
                }
                "dataschema" => {
                    bind_string(key, raw, "System.Uri")?;
                }
                "contenttype" => match first_byte(raw) {
                    b'n' | b'{' => {}
                    _ => {
                        return Err(conversion_error(
                            &property_path(key),
                            "System.Net.Mime.ContentType",
                            " Altinn binds 'contenttype' as a .NET ContentType object, so a \
                             string is refused; the value is never used, leave it out.",
                        ))
                    }
                },
                _ => {}
            }
        }
        Ok(req)
    }
}

fn non_empty(s: &Option<String>) -> Option<&str> {
    s.as_deref().filter(|v| !v.is_empty())
}

/// Check a bound request and build the app event (spec §5.1 steps 1–3, §4.4).
///
/// 1. `source`, `type`, `subject` and `specversion` must be non-empty, else 400 ProblemDetails
///    [`MSG_MISSING_VALUES`].
/// 2. `access_context` is `"{iss}/{app}"` of the platform access token. `source` must be an
///    absolute URI of the form `scheme://authority[/path]` (else 400 ProblemDetails
///    [`MSG_SOURCE_NOT_ABSOLUTE`]: Altinn throws on a relative source and answers 500; sources
///    such as `urn:a:b` or with an invalid host/port are refused the same way here) whose absolute path starts with `"/" + access_context` — a plain string
///    prefix, so `ttd/apps-test` may publish for `/ttd/apps-test-2/…` — else 401 with the JSON
///    string `"{access_context} is not authorized to create events for {source}"`.
/// 3. The event: `id`, `time` (`now`, in UTC), `source`, `subject`, `type`, `resource`,
///    `resourceinstance`, then `alternativesubject` when non-empty; `specversion` 1.0; no data.
///    Org, app, party and instance come from parts 1, 2, 4 and 5 of the source path split on
///    `/` when it has more than 5 parts; otherwise they are empty, which gives
///    `urn:altinn:resource:app__` and `/`.
pub fn build_app_event(
    req: &AppEventRequest,
    access_context: &str,
    id: &str,
    now: Timestamp,
) -> Result<CloudEvent, ApiError> {
    let (Some(source), Some(type_), Some(subject), Some(_)) = (
        non_empty(&req.source),
        non_empty(&req.type_),
        non_empty(&req.subject),
        non_empty(&req.specversion),
    ) else {
        return Err(ApiError::bad_request(MSG_MISSING_VALUES));
    };

    let uri =
        AbsoluteUri::parse(source).map_err(|_| ApiError::bad_request(MSG_SOURCE_NOT_ABSOLUTE))?;
    if !owns_source_path(access_context, uri.path()) {
        let mut msg = String::with_capacity(access_context.len() + source.len() + 48);
        msg.push_str(access_context);
        msg.push_str(" is not authorized to create events for ");
        msg.push_str(source);
        return Err(ApiError::text(401, msg));
    }

    let parts: alloc::vec::Vec<&str> = uri.path_segments().collect();
    let (org, app, party, instance) = match parts.as_slice() {
        [_, org, app, _, party, instance, ..] => (*org, *app, *party, *instance),
        _ => ("", "", "", ""),
    };
    let resource = crate::urn::app_resource(org, app);
    let mut instance_id = String::with_capacity(party.len() + instance.len() + 1);
    instance_id.push_str(party);
    instance_id.push('/');
    instance_id.push_str(instance);

    let mut event = CloudEvent::empty();
    event.set("id", id);
    event.set_time(now.to_utc());
    event.set("source", source);
    event.set("subject", subject);
    event.set("type", type_);
    event.set("resource", resource);
    event.set("resourceinstance", instance_id);
    if let Some(alt) = non_empty(&req.alternativesubject) {
        event.set("alternativesubject", alt);
    }
    Ok(event)
}

/// Whether an app (`{org}/{app}`, its platform token's access context) owns a source path:
/// the path must begin with the context's segments as whole segments, so `ttd/app` owns
/// `/ttd/app/instances/…` but not `/ttd/app-2/…` (Altinn compares string prefixes; spec §19.3).
pub fn owns_source_path(access_context: &str, path: &str) -> bool {
    let mut path_segments = path.strip_prefix('/').unwrap_or(path).split('/');
    let mut context_segments = access_context.split('/');
    context_segments.all(|c| !c.is_empty() && path_segments.next() == Some(c))
}

/// `GET /app/{org}/{app}` is for service owners: a token without `urn:altinn:org` gets 401
/// with a JSON string (spec §5.2), checked before the parameters.
pub fn require_org_caller(claims: &crate::identity::Claims) -> Result<(), ApiError> {
    match claims.org() {
        Some(_) => Ok(()),
        None => Err(ApiError::text(401, "Only orgs can call this api")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorBody;
    use alloc::borrow::ToOwned;
    use alloc::vec;
    use alloc::vec::Vec;
    use wasm_bindgen_test::wasm_bindgen_test;

    const ID: &str = "6f0c1d8e-2a3b-4c5d-9e8f-0a1b2c3d4e5f";
    const SOURCE: &str =
        "https://ttd.apps.altinn.no/ttd/apps-test/instances/50015641/a72223a3-926b-4095-a2a6-bacc10815f2d";

    fn now() -> Timestamp {
        // 2025-03-01T10:15:30.1234567Z
        Timestamp::from_utc_ticks(1_740_824_130 * 10_000_000 + 1_234_567)
    }

    fn req(source: &str, spec: &str, type_: &str, subject: &str, alt: &str) -> AppEventRequest {
        let opt = |s: &str| (s != "-").then(|| s.to_owned());
        AppEventRequest {
            source: opt(source),
            specversion: opt(spec),
            type_: opt(type_),
            subject: opt(subject),
            alternativesubject: opt(alt),
        }
    }

    fn validation(field: &str, message: &str) -> ApiError {
        ApiError::validation(field, message)
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn binding_errors() {
        let s = "The JSON value could not be converted to System.String. Path: ";
        let cases: Vec<(&str, ApiError)> = vec![
            ("", validation("", MSG_EMPTY_BODY)),
            (" \r\n\t", validation("", MSG_EMPTY_BODY)),
            ("null", validation("", MSG_EMPTY_BODY)),
            (" null\n", validation("", MSG_EMPTY_BODY)),
            (
                "[1]",
                validation("$", "The JSON value could not be converted to Altinn.Platform.Events.Models.AppCloudEventRequestModel. Path: $."),
            ),
            (
                "\"x\"",
                validation("$", "The JSON value could not be converted to Altinn.Platform.Events.Models.AppCloudEventRequestModel. Path: $."),
            ),
            (
                "{\"type\":1}",
                validation("$.type", &alloc::format!("{s}$.type.")),
            ),
            (
                "{\"Subject\":{}}",
                validation("$.Subject", &alloc::format!("{s}$.Subject.")),
            ),
            (
                "{\"specversion\":1.0}",
                validation("$.specversion", &alloc::format!("{s}$.specversion.")),
            ),
            (
                "{\"alternativesubject\":true}",
                validation("$.alternativesubject", &alloc::format!("{s}$.alternativesubject.")),
            ),
            (
                "{\"source\":[\"https://x\"]}",
                validation("$.source", "The JSON value could not be converted to System.Uri. Path: $.source."),
            ),
            (
                "{\"dataschema\":5}",
                validation("$.dataschema", "The JSON value could not be converted to System.Uri. Path: $.dataschema."),
            ),
            (
                "{\"type\":\"t\",\"contenttype\":\"application/json\",\"subject\":5}",
                validation("$.contenttype", "The JSON value could not be converted to System.Net.Mime.ContentType. Path: $.contenttype. Altinn binds 'contenttype' as a .NET ContentType object, so a string is refused; the value is never used, leave it out."),
            ),
            (
                "{\"ContentType\":7}",
                validation("$.ContentType", "The JSON value could not be converted to System.Net.Mime.ContentType. Path: $.ContentType. Altinn binds 'contenttype' as a .NET ContentType object, so a string is refused; the value is never used, leave it out."),
            ),
        ];
        for (body, want) in cases {
            assert_eq!(AppEventRequest::parse(body.as_bytes()), Err(want), "{body}");
        }
        for body in ["{", "{\"a\":}", "{\"type\":\"t\"} x"] {
            let e = AppEventRequest::parse(body.as_bytes()).unwrap_err();
            assert_eq!(e.status, 400);
            match e.body {
                ErrorBody::Validation(errors) => {
                    assert_eq!(errors.len(), 1);
                    assert_eq!(errors[0].0, "$");
                    assert!(
                        errors[0].1[0].starts_with("The request body is not valid JSON: "),
                        "{body}: {:?}",
                        errors[0].1
                    );
                }
                other => panic!("{body}: {other:?}"),
            }
        }
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn binding_success() {
        let cases: Vec<(&str, AppEventRequest)> = vec![
            ("{}", req("-", "-", "-", "-", "-")),
            ("\n {\"type\":\"t\"} \n", req("-", "-", "t", "-", "-")),
            (
                "\u{feff}{\"SOURCE\":\"https://h/a\",\"SpecVersion\":\"1.0\",\"Type\":\"t\",\"subject\":\"/party/1\",\"AlternativeSubject\":\"/person/1\"}",
                req("https://h/a", "1.0", "t", "/party/1", "/person/1"),
            ),
            (
                "{\"type\":\"a\",\"TYPE\":\"b\",\"subject\":null,\"unknown\":[1,{}],\"id\":5,\"time\":false}",
                req("-", "-", "b", "-", "-"),
            ),
            (
                "{\"data\":{\"x\":[1,2]},\"dataschema\":\"https://schema\",\"contenttype\":{\"mediaType\":\"application/json\"},\"type\":\"t\\u0041\"}",
                req("-", "-", "tA", "-", "-"),
            ),
            (
                "{\"data\":\"text\",\"dataschema\":null,\"contenttype\":null}",
                req("-", "-", "-", "-", "-"),
            ),
        ];
        for (body, want) in cases {
            let bytes = body.as_bytes();
            assert_eq!(AppEventRequest::parse(bytes), Ok(want), "{body}");
        }
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn required_values() {
        let missing = ApiError::bad_request(MSG_MISSING_VALUES);
        let s = "https://ttd.apps.altinn.no/ttd/apps-test/instances/1/g";
        let cases = [
            req("-", "1.0", "t", "/party/1", "-"),
            req("", "1.0", "t", "/party/1", "-"),
            req(s, "-", "t", "/party/1", "-"),
            req(s, "", "t", "/party/1", "-"),
            req(s, "1.0", "-", "/party/1", "-"),
            req(s, "1.0", "", "/party/1", "-"),
            req(s, "1.0", "t", "-", "-"),
            req(s, "1.0", "t", "", "-"),
            req("-", "-", "-", "-", "/person/1"),
        ];
        for r in cases {
            let got = build_app_event(&r, "other/app", ID, now());
            assert_eq!(got, Err(missing.clone()), "{r:?}");
        }
        // Rendered exactly as Altinn's Problem(...).
        assert_eq!(
            missing.render("t").body,
            "{\"type\":\"https://tools.ietf.org/html/rfc9110#section-15.5.1\",\"title\":\"Bad Request\",\"status\":400,\"detail\":\"Missing parameter values: source, subject and type cannot be null\",\"traceId\":\"t\"}"
        );
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn ownership_is_by_whole_segments() {
        let cases = [
            ("ttd/app", "/ttd/app/instances/1/2", true),
            ("ttd/app", "/ttd/app", true),
            ("ttd/app", "/ttd/app/", true),
            ("ttd/app", "/ttd/app-2/instances/1/2", false),
            ("ttd/app", "/ttd/appx", false),
            ("ttd/app", "/ttd2/app/instances", false),
            ("ttd/app", "/ttd", false),
            ("ttd/app", "/", false),
            ("ttd/", "/ttd/x", false),
            ("/", "/ttd/x", false),
            ("ttd/app", "/TTD/app/x", false),
        ];
        for (context, path, owned) in cases {
            assert_eq!(owns_source_path(context, path), owned, "{context} {path}");
        }
        let r = req(
            "https://ttd.apps.altinn.no/ttd/app-2/instances/1/2",
            "1.0",
            "t",
            "/party/1",
            "",
        );
        assert_eq!(
            build_app_event(&r, "ttd/app", ID, now()).unwrap_err(),
            ApiError::text(
                401,
                "ttd/app is not authorized to create events for https://ttd.apps.altinn.no/ttd/app-2/instances/1/2"
            )
        );
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn ownership_and_absolute_source() {
        let cases: Vec<(&str, &str, Result<(), ApiError>)> = vec![
            ("ttd/apps-test", SOURCE, Ok(())),
            // Whole segments (Altinn: a plain prefix, so apps-test could publish for apps-test-2).
            (
                "ttd/apps-test",
                "https://ttd.apps.altinn.no/ttd/apps-test-2/instances/1/g",
                Err(ApiError::text(
                    401,
                    "ttd/apps-test is not authorized to create events for https://ttd.apps.altinn.no/ttd/apps-test-2/instances/1/g",
                )),
            ),
            ("ttd/apps-test", "https://ttd.apps.altinn.no/ttd/apps-test", Ok(())),
            (
                "ttd/endring-av-navn-v3",
                "https://ttd.apps.altinn.no/ttd/endring-av-navn-v2/232243423",
                Err(ApiError::text(
                    401,
                    "ttd/endring-av-navn-v3 is not authorized to create events for https://ttd.apps.altinn.no/ttd/endring-av-navn-v2/232243423",
                )),
            ),
            // Case-sensitive, like .NET's StartsWith on the path.
            (
                "ttd/apps-test",
                "https://ttd.apps.altinn.no/TTD/apps-test/instances/1/g",
                Err(ApiError::text(
                    401,
                    "ttd/apps-test is not authorized to create events for https://ttd.apps.altinn.no/TTD/apps-test/instances/1/g",
                )),
            ),
            // The org must start the path: host and deeper segments do not count.
            (
                "ttd/apps-test",
                "https://ttd.apps.altinn.no/x/ttd/apps-test/instances/1/g",
                Err(ApiError::text(
                    401,
                    "ttd/apps-test is not authorized to create events for https://ttd.apps.altinn.no/x/ttd/apps-test/instances/1/g",
                )),
            ),
            (
                "ttd/apps-test",
                "/ttd/apps-test/instances/1/g",
                Err(ApiError::bad_request(MSG_SOURCE_NOT_ABSOLUTE)),
            ),
            (
                "ttd/apps-test",
                "ttd/apps-test",
                Err(ApiError::bad_request(MSG_SOURCE_NOT_ABSOLUTE)),
            ),
            (
                "ttd/apps-test",
                "urn:ttd:apps-test",
                Err(ApiError::bad_request(MSG_SOURCE_NOT_ABSOLUTE)),
            ),
        ];
        for (ctx, source, want) in cases {
            let r = req(source, "1.0", "t", "/party/1", "-");
            let got = build_app_event(&r, ctx, ID, now()).map(|_| ());
            assert_eq!(got, want, "{ctx} {source}");
        }
        let e = build_app_event(
            &req(
                "https://ttd.apps.altinn.no/ttd/endring-av-navn-v2/232243423",
                "1.0",
                "t",
                "/party/1",
                "-",
            ),
            "ttd/endring-av-navn-v3",
            ID,
            now(),
        )
        .unwrap_err()
        .render("t");
        assert_eq!(
            (e.status, e.body.as_str()),
            (
                401,
                "\"ttd/endring-av-navn-v3 is not authorized to create events for https://ttd.apps.altinn.no/ttd/endring-av-navn-v2/232243423\""
            )
        );
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn built_events() {
        let a1_body = r#"{"specversion":"1.0","type":"app.instance.created",
 "source":"https://ttd.apps.altinn.no/ttd/apps-test/instances/50015641/a72223a3-926b-4095-a2a6-bacc10815f2d",
 "subject":"/party/50015641","alternativesubject":"/person/01017512345","data":{"ignored":true}}"#;
        let cases: Vec<(&str, &str, &str)> = vec![
            (
                a1_body,
                "ttd/apps-test",
                r#"{"specversion":"1.0","id":"6f0c1d8e-2a3b-4c5d-9e8f-0a1b2c3d4e5f","time":"2025-03-01T10:15:30.1234567Z","source":"https://ttd.apps.altinn.no/ttd/apps-test/instances/50015641/a72223a3-926b-4095-a2a6-bacc10815f2d","subject":"/party/50015641","type":"app.instance.created","resource":"urn:altinn:resource:app_ttd_apps-test","resourceinstance":"50015641/a72223a3-926b-4095-a2a6-bacc10815f2d","alternativesubject":"/person/01017512345"}"#,
            ),
            // Short path: empty org/app/party/instance; empty alternativesubject left out;
            // data, dataschema, contenttype and a posted id/time dropped.
            (
                r#"{"specversion":"1.0","type":"app.instance.created","source":"https://ttd.apps.altinn.no/ttd/apps-test/instances/50015641","subject":"/party/50015641","alternativesubject":"","data":"x","dataschema":"https://s","contenttype":{},"id":"mine","time":"2020-01-01T00:00:00Z"}"#,
                "ttd/apps-test",
                r#"{"specversion":"1.0","id":"6f0c1d8e-2a3b-4c5d-9e8f-0a1b2c3d4e5f","time":"2025-03-01T10:15:30.1234567Z","source":"https://ttd.apps.altinn.no/ttd/apps-test/instances/50015641","subject":"/party/50015641","type":"app.instance.created","resource":"urn:altinn:resource:app__","resourceinstance":"/"}"#,
            ),
            // Deeper paths use parts 1, 2, 4 and 5.
            (
                r#"{"specversion":"1.0","type":"t","source":"https://h/ttd/app/instances/1/g/data/x","subject":"/party/1"}"#,
                "ttd/app",
                r#"{"specversion":"1.0","id":"6f0c1d8e-2a3b-4c5d-9e8f-0a1b2c3d4e5f","time":"2025-03-01T10:15:30.1234567Z","source":"https://h/ttd/app/instances/1/g/data/x","subject":"/party/1","type":"t","resource":"urn:altinn:resource:app_ttd_app","resourceinstance":"1/g"}"#,
            ),
        ];
        for (body, ctx, want) in cases {
            let r = AppEventRequest::parse(body.as_bytes()).unwrap();
            let e = build_app_event(&r, ctx, ID, now()).unwrap();
            assert_eq!(e.to_json(), want, "{body}");
            assert!(e.data().is_none());
        }
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn time_is_utc() {
        let local = Timestamp::parse_rfc3339("2025-03-01T12:15:30.5+02:00").unwrap();
        let e = build_app_event(
            &req(SOURCE, "1.0", "t", "/party/1", "-"),
            "ttd/apps-test",
            ID,
            local,
        )
        .unwrap();
        assert_eq!(e.get("time"), Some("2025-03-01T10:15:30.500Z"));
    }
}
