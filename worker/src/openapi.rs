//! The OpenAPI 3.1 document of this service, generated from the route table and committed as
//! `worker/openapi.json` (served by `routes::reference`).
//!
//! True by construction: [`ROUTES`] and the exhaustive match in [`route_doc`] both come from
//! the route table's `Route` enum, so a new route does not compile until it is listed and
//! documented here; the tests check that the committed file is this generator's output, that
//! every documented path resolves to the route it documents with exactly the methods the route
//! serves, and that every operation carries security, tags, an operation id and its 4xx
//! answers. The bodies are described as the parsers in `events_core` read them and the writers
//! write them (see each schema's description). Native only: compiled for the tests, never into
//! the wasm.
//!
//! `UPDATE_OPENAPI=1 cargo test -p altinn-events-worker --lib openapi` rewrites the file.

use events_core::authz::builtin::RULE_ATTRIBUTES;
use events_core::batch::{BATCH_CONTENT_TYPE, MAX_BATCH_EVENTS};
use events_core::delivery::DEFAULT_DISABLE_AFTER_HOURS;
use events_core::delivery_queue::{
    DEFAULT_ATTEMPT_PAGE, KEEP_ATTEMPTS, MAX_ATTEMPT_PAGE, RESPONSE_PREFIX_BYTES,
};
use events_core::error::{JSON_UTF8, PROBLEM_JSON};
use events_core::identity::{SCOPE_PUBLISH, SCOPE_PUBLISH_ADMIN, SCOPE_SUBSCRIBE};
use events_core::json::MAX_DEPTH;
use events_core::query::{DEFAULT_SIZE, MAX_GENERIC_SIZE};
use events_core::replay::REPLAY_LIMIT;
use events_core::signing::ROTATION_OVERLAP_MS;
use serde_json::{json, Map, Value};

use crate::http::{CLOUDEVENTS_JSON, MAX_BODY_BYTES, TEXT_PLAIN};
use crate::objects::event_query::MAX_PATTERNS;
use crate::routing::{Route, Verb};

/// Where the committed document lives, relative to the worker crate.
pub const FILE: &str = "openapi.json";

// ---------------------------------------------------------------------------------------------
// The routes.

/// Writes [`ROUTES`] and an exhaustive match over `Route` from the same list, so a variant
/// that is not listed does not compile.
macro_rules! routes {
    ($($pattern:pat => $sample:expr),* $(,)?) => {
        /// Every route of the table, with the sample parameters the document's examples use.
        pub const ROUTES: &[Route<'static>] = &[$($sample),*];

        #[allow(dead_code)]
        fn every_variant_is_listed(route: Route<'_>) {
            match route {
                $($pattern => {})*
            }
        }
    };
}

routes! {
    Route::Health => Route::Health,
    Route::Events => Route::Events,
    Route::App => Route::App,
    Route::AppParty => Route::AppParty,
    Route::AppForOrg(..) => Route::AppForOrg("ttd", "apps-test"),
    Route::Subscriptions => Route::Subscriptions,
    Route::Subscription(_) => Route::Subscription("42"),
    Route::ValidateSubscription(_) => Route::ValidateSubscription("42"),
    Route::DeadLetters(_) => Route::DeadLetters("42"),
    Route::Redeliver(_) => Route::Redeliver("42"),
    Route::SubscriptionSecret(_) => Route::SubscriptionSecret("42"),
    Route::RotateSecret(_) => Route::RotateSecret("42"),
    Route::Attempts(_) => Route::Attempts("42"),
    Route::Enable(_) => Route::Enable("42"),
    Route::Replay(_) => Route::Replay("42"),
    Route::Inbound => Route::Inbound,
    Route::Outbound => Route::Outbound,
    Route::StorageEvents => Route::StorageEvents,
    Route::StorageLogs => Route::StorageLogs,
    Route::WebhookReceiver => Route::WebhookReceiver,
    Route::AdminResource(_) => Route::AdminResource("ttd-demo"),
    Route::AdminParty(_) => Route::AdminParty("50001337"),
    Route::AdminOrg(_) => Route::AdminOrg("ttd"),
    Route::ExchangeMaskinporten => Route::ExchangeMaskinporten,
    Route::OpenIdConfiguration => Route::OpenIdConfiguration,
    Route::OpenIdJwks => Route::OpenIdJwks,
    Route::OpenApi => Route::OpenApi,
    Route::Docs => Route::Docs,
}

/// One route as documented: its path template and operations.
pub struct RouteDoc {
    pub template: &'static str,
    pub operations: Vec<(Verb, Value)>,
}

/// Path template and operations of a route. Path parameters take their examples from the
/// route's own parameters (the samples in [`ROUTES`]).
pub fn route_doc(route: Route<'_>) -> RouteDoc {
    let (template, operations) = match route {
        Route::Health => ("/health", health()),
        Route::Events => (
            "/events/api/v1/events",
            vec![(Verb::Post, publish_event()), (Verb::Get, read_events())],
        ),
        Route::App => (
            "/events/api/v1/app",
            vec![(Verb::Post, publish_app_event())],
        ),
        Route::AppParty => (
            "/events/api/v1/app/party",
            vec![(Verb::Get, read_app_events_for_party())],
        ),
        Route::AppForOrg(org, app) => (
            "/events/api/v1/app/{org}/{app}",
            vec![(Verb::Get, read_app_events_for_org(org, app))],
        ),
        Route::Subscriptions => (
            "/events/api/v1/subscriptions",
            vec![
                (Verb::Post, create_subscription()),
                (Verb::Get, list_subscriptions()),
            ],
        ),
        Route::Subscription(id) => (
            "/events/api/v1/subscriptions/{id}",
            vec![
                (Verb::Get, get_subscription(id)),
                (Verb::Delete, delete_subscription(id)),
            ],
        ),
        Route::ValidateSubscription(id) => (
            "/events/api/v1/subscriptions/validate/{id}",
            vec![(Verb::Put, validate_subscription(id))],
        ),
        Route::DeadLetters(id) => (
            "/events/api/v1/subscriptions/{id}/deadletters",
            vec![(Verb::Get, dead_letters(id))],
        ),
        Route::Redeliver(id) => (
            "/events/api/v1/subscriptions/{id}/deadletters/redeliver",
            vec![(Verb::Post, redeliver(id))],
        ),
        Route::SubscriptionSecret(id) => (
            "/events/api/v1/subscriptions/{id}/secret",
            vec![(Verb::Get, signing_secret(id))],
        ),
        Route::RotateSecret(id) => (
            "/events/api/v1/subscriptions/{id}/secret/rotate",
            vec![(Verb::Post, rotate_secret(id))],
        ),
        Route::Attempts(id) => (
            "/events/api/v1/subscriptions/{id}/attempts",
            vec![(Verb::Get, attempts(id))],
        ),
        Route::Enable(id) => (
            "/events/api/v1/subscriptions/{id}/enable",
            vec![(Verb::Post, enable(id))],
        ),
        Route::Replay(id) => (
            "/events/api/v1/subscriptions/{id}/replay",
            vec![(Verb::Post, replay(id))],
        ),
        Route::Inbound => ("/events/api/v1/inbound", vec![(Verb::Post, fan_out(true))]),
        Route::Outbound => (
            "/events/api/v1/outbound",
            vec![(Verb::Post, fan_out(false))],
        ),
        Route::StorageEvents => (
            "/events/api/v1/storage/events",
            vec![(Verb::Post, store_event())],
        ),
        Route::StorageLogs => (
            "/events/api/v1/storage/events/logs",
            vec![
                (Verb::Post, write_trace_log()),
                (Verb::Get, read_trace_log()),
            ],
        ),
        Route::WebhookReceiver => (
            "/events/api/v1/tests/webhookreceiver",
            vec![(Verb::Post, webhook_receiver())],
        ),
        Route::AdminResource(id) => (
            "/events/api/v1/admin/resources/{resourceId}",
            admin_resource(id),
        ),
        Route::AdminParty(id) => ("/events/api/v1/admin/parties/{partyId}", admin_party(id)),
        Route::AdminOrg(org) => ("/events/api/v1/admin/orgs/{org}", admin_org(org)),
        Route::ExchangeMaskinporten => (
            "/authentication/api/v1/exchange/maskinporten",
            vec![(Verb::Get, exchange())],
        ),
        Route::OpenIdConfiguration => (
            "/authentication/api/v1/openid/.well-known/openid-configuration",
            vec![(Verb::Get, openid_configuration())],
        ),
        Route::OpenIdJwks => (
            "/authentication/api/v1/openid/.well-known/openid-configuration/jwks",
            vec![(Verb::Get, openid_jwks())],
        ),
        Route::OpenApi => (
            "/events/api/v1/openapi.json",
            vec![(Verb::Get, openapi_document())],
        ),
        Route::Docs => ("/events/api/v1/docs", vec![(Verb::Get, docs_page())]),
    };
    RouteDoc {
        template,
        operations,
    }
}

/// The method's key in a path item.
pub fn method_key(verb: Verb) -> &'static str {
    match verb {
        Verb::Get => "get",
        Verb::Head => "head",
        Verb::Post => "post",
        Verb::Put => "put",
        Verb::Delete => "delete",
        Verb::Other => "x-other",
    }
}

/// The whole document (with the local development server; the worker replaces `servers`).
pub fn document() -> Value {
    let mut paths = Map::new();
    for route in ROUTES {
        let doc = route_doc(*route);
        let mut item = Map::new();
        for (verb, op) in doc.operations {
            item.insert(method_key(verb).into(), op);
        }
        paths.insert(doc.template.into(), Value::Object(item));
    }
    json!({
        "openapi": "3.1.0",
        "jsonSchemaDialect": "https://spec.openapis.org/oas/3.1/dialect/base",
        "info": {
            "title": "Altinn Events API (edge re-implementation)",
            "version": env!("CARGO_PKG_VERSION"),
            "summary": "Altinn 3 Events API v1 as a Cloudflare Worker, plus this service's additions.",
            "description": INFO_DESCRIPTION,
            "license": {"name": "MIT", "identifier": "MIT"}
        },
        "servers": [{
            "url": "http://127.0.0.1:8787",
            "description": "Local development (scripts/dev). The document served at /events/api/v1/openapi.json names the deployment instead: EVENTS_BASE_URL, or the origin it was requested from."
        }],
        "tags": tags(),
        "paths": paths,
        "components": {
            "securitySchemes": security_schemes(),
            "schemas": schemas(),
            "responses": responses(),
            "parameters": parameters(),
            "headers": headers()
        }
    })
}

/// The document as committed: pretty-printed, keys sorted, a final newline.
pub fn document_text() -> String {
    let mut text = serde_json::to_string_pretty(&document()).unwrap_or_default();
    text.push('\n');
    text
}

const INFO_DESCRIPTION: &str = "Publishers post CloudEvents; subscribers read them with a cursor (`after`, the `next` header) or have them pushed to a webhook. The wire protocol is Altinn's (routes, bodies, status codes, messages, tokens), including its mix of error bodies: RFC 9457 problem documents (`application/problem+json`, with ASP.NET's `traceId`), ASP.NET validation problems (an `errors` map), bare JSON strings (`\"Only orgs can call this api\"`) and empty bodies. Where Altinn answers a missing or invalid token (`401`) or a refused scope or policy (`403`) with an empty body, this service sends a problem document saying what is wrong.\n\nPrivate operations, meant for Altinn's own components and this service's operators, are grouped under tags described as `Private API` and carry `x-altinn-private: true`.\n\nEvery operation answers `500` with a problem naming the setting when a deployment setting is malformed. Paths are matched as ASP.NET matches them: literal segments case-insensitively, empty segments ignored. A path served with another method answers `405` with an `Allow` header and no body; an unknown path answers `404` with no body.";

// ---------------------------------------------------------------------------------------------
// Tags and security.

/// Tags of private operations: their description is exactly `Private API`, as in Altinn's document.
pub const PRIVATE_TAGS: [&str; 6] = [
    "Inbound",
    "Outbound",
    "Storage",
    "WebhookReceiver",
    "SubscriptionValidation",
    "Admin",
];

pub const PRIVATE_API: &str = "Private API";

fn tags() -> Value {
    let mut tags = vec![
        json!({"name": "App", "description": "App events: Altinn apps publish instance events; service owners read them per app, anyone reads them per party, each event authorized for the caller."}),
        json!({"name": "Events", "description": "Generic events: publish and read CloudEvents of any resource."}),
        json!({"name": "Subscription", "description": "Webhook subscriptions of the caller, and (this service's additions) their dead letters and redelivery, signing secrets, delivery attempts, endpoint health, resuming and replay."}),
        json!({"name": "Authentication", "description": "This service's addition for deployments outside Altinn: the Maskinporten token exchange, and the OpenID configuration and key set of the tokens it issues."}),
        json!({"name": "Health", "description": "Whether the service can serve."}),
        json!({"name": "Documentation", "description": "This document and the reference page that renders it."}),
    ];
    for name in PRIVATE_TAGS {
        tags.push(json!({"name": name, "description": PRIVATE_API}));
    }
    Value::Array(tags)
}

const BEARER: &str = "Bearer";
const COOKIE: &str = "AltinnStudioRuntime";
const PLATFORM: &str = "PlatformAccessToken";
const MASKINPORTEN: &str = "Maskinporten";

fn security_schemes() -> Value {
    json!({
        BEARER: {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "An Altinn token (RS256 or ES256 JWT; `exp` required, checked with no clock skew) in `Authorization: Bearer …`. Scopes are Maskinporten scopes in the `scope` claim; OpenAPI 3.1 lists them here as the roles an operation requires."
        },
        COOKIE: {
            "type": "apiKey",
            "in": "cookie",
            "name": "AltinnStudioRuntime",
            "description": "The same Altinn token in the `AltinnStudioRuntime` cookie, read when there is no `Authorization: Bearer` header."
        },
        PLATFORM: {
            "type": "apiKey",
            "in": "header",
            "name": "PlatformAccessToken",
            "description": "A platform access token (JWT) of an Altinn component or app; its `iss` selects the trusted key set and `urn:altinn:app` names the calling app."
        },
        MASKINPORTEN: {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "A Maskinporten access token in `Authorization: Bearer …` (only at the token exchange, which needs no Altinn credentials)."
        }
    })
}

/// An Altinn token (header or cookie) with `scopes`.
fn altinn_token(scopes: &[&str]) -> Vec<Value> {
    vec![json!({ BEARER: scopes }), json!({ COOKIE: scopes })]
}

/// An Altinn token (any) and a platform access token.
fn altinn_token_and_platform() -> Vec<Value> {
    vec![
        json!({ BEARER: [], PLATFORM: [] }),
        json!({ COOKIE: [], PLATFORM: [] }),
    ]
}

fn platform_token() -> Vec<Value> {
    vec![json!({ PLATFORM: [] })]
}

// ---------------------------------------------------------------------------------------------
// Operations.

/// An operation being built.
struct Op(Map<String, Value>);

impl Op {
    fn new(id: &str, tag: &str, summary: &str, description: &str, security: Vec<Value>) -> Op {
        let mut m = Map::new();
        m.insert("operationId".into(), id.into());
        m.insert("tags".into(), json!([tag]));
        m.insert("summary".into(), summary.into());
        m.insert("description".into(), description.into());
        m.insert("security".into(), Value::Array(security));
        m.insert("responses".into(), json!({}));
        Op(m)
    }

    fn private(mut self) -> Op {
        self.0.insert("x-altinn-private".into(), true.into());
        self
    }

    fn params(mut self, params: Vec<Value>) -> Op {
        self.0.insert("parameters".into(), Value::Array(params));
        self
    }

    fn body(mut self, body: Value) -> Op {
        self.0.insert("requestBody".into(), body);
        self
    }

    /// The answers of an operation that reads a body: too large (`413`) or of a content type
    /// it does not read (`415`).
    fn reads_body(self) -> Op {
        self.answer(413, response_ref("ContentTooLarge"))
            .answer(415, response_ref("UnsupportedMediaType"))
    }

    fn answer(mut self, status: u16, response: Value) -> Op {
        if let Some(Value::Object(r)) = self.0.get_mut("responses") {
            r.insert(status.to_string(), response);
        }
        self
    }

    /// The operation, with `500` for a malformed setting (and, with credentials, a missing key
    /// setting) unless it has its own.
    fn done(mut self) -> Value {
        if let Some(Value::Object(r)) = self.0.get_mut("responses") {
            r.entry("500")
                .or_insert_with(|| response_ref("ServerMisconfigured"));
        }
        Value::Object(self.0)
    }
}

fn schema_ref(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

fn response_ref(name: &str) -> Value {
    json!({"$ref": format!("#/components/responses/{name}")})
}

fn param_ref(name: &str) -> Value {
    json!({"$ref": format!("#/components/parameters/{name}")})
}

fn header_ref(name: &str) -> Value {
    json!({"$ref": format!("#/components/headers/{name}")})
}

/// A response with one JSON body.
fn json_response(description: &str, schema: Value) -> Value {
    json!({"description": description, "content": {JSON_UTF8: {"schema": schema}}})
}

/// A response with no body.
fn empty(description: &str) -> Value {
    json!({ "description": description })
}

/// A response with a problem document.
fn problem(description: &str) -> Value {
    json!({"description": description, "content": {PROBLEM_JSON: {"schema": schema_ref("ProblemDetails")}}})
}

/// A 401 for a missing or invalid token: a problem document saying so and a `Bearer` challenge.
fn unauthorized(description: &str) -> Value {
    json!({
        "description": description,
        "headers": {"WWW-Authenticate": header_ref("WwwAuthenticate")},
        "content": {PROBLEM_JSON: {"schema": schema_ref("ProblemDetails")}}
    })
}

/// A status that answers either a problem document (the token's failures) or one of Altinn's
/// JSON strings (its rules); the content type tells which.
fn problem_or_json_string(description: &str) -> Value {
    json!({
        "description": description,
        "content": {
            PROBLEM_JSON: {"schema": schema_ref("ProblemDetails")},
            JSON_UTF8: {"schema": schema_ref("Message")}
        }
    })
}

/// A JSON-string body (Altinn's `StatusCode(code, "text")`).
fn json_string(description: &str) -> Value {
    json!({"description": description, "content": {JSON_UTF8: {"schema": schema_ref("Message")}}})
}

fn request_body(media_type: &str, schema: Value, description: &str) -> Value {
    json!({
        "required": true,
        "description": description,
        "content": {media_type: {"schema": schema}}
    })
}

fn path_param(name: &str, description: &str, schema: Value, example: &str) -> Value {
    let example = match schema.get("type").and_then(Value::as_str) {
        Some("integer") => example
            .parse::<i64>()
            .map(Value::from)
            .unwrap_or(example.into()),
        _ => Value::from(example),
    };
    json!({
        "name": name,
        "in": "path",
        "required": true,
        "description": description,
        "schema": schema,
        "example": example
    })
}

fn subscription_id_param(id: &str) -> Value {
    path_param(
        "id",
        "The subscription id (a 32-bit integer; anything else is a `400` validation problem under `id`).",
        json!({"type": "integer", "format": "int32"}),
        id,
    )
}

const BODY_LIMIT: &str = "Bodies larger than 1 MiB are refused with `413`; JSON nested deeper than 64 levels with a `400` validation problem under `$`.";

fn health() -> Vec<(Verb, Value)> {
    let description = "`200` with the text `Healthy` once the service can serve. A deployment without its key settings (`ALTINN_JWKS` or `ALTINN_OPENID_WELLKNOWN`, `PLATFORM_ACCESS_JWKS`) outside `DEV_MODE` answers `503` with a problem naming what is missing.";
    let unavailable = problem(
        "Key settings are missing: the service fails closed (the problem names the settings).",
    );
    let get = Op::new("getHealth", "Health", "Health check", description, vec![])
        .answer(
            200,
            json!({
                "description": "The service can serve.",
                "content": {TEXT_PLAIN: {"schema": {"type": "string", "const": "Healthy"}}}
            }),
        )
        .answer(503, unavailable)
        .done();
    let head = Op::new(
        "headHealth",
        "Health",
        "Health check (headers only)",
        "`GET /health` without the body.",
        vec![],
    )
    .answer(200, empty("The service can serve (no body)."))
    .answer(503, empty("Key settings are missing (no body)."))
    .answer(500, empty("A deployment setting is malformed (no body)."))
    .done();
    vec![(Verb::Get, get), (Verb::Head, head)]
}

fn publish_event() -> Value {
    let description = format!(
        "Publishes one CloudEvent (structured mode) to the log of its `resource`. Needs an Altinn token and either the scope `{SCOPE_PUBLISH}` or a platform access token; then the PDP must permit `publish` on the resource for the caller, unless the token has the scope `{SCOPE_PUBLISH_ADMIN}`. The event is stored and readable at once; re-posting an event with the same `id` and `source` answers `200` and stores nothing. Checks in order: `401`, `403` (scope), `415`, `413`, `400` (body, then the `resource` rules), `403` (PDP). {BODY_LIMIT} This service's addition, the CloudEvents batched content mode: with `Content-Type: application/cloudevents-batch+json` the body is a JSON array of at most {MAX_BATCH_EVENTS} such events (`413` above that, or above 1 MiB in all). Every event is checked and authorized as a single publish before any is stored: the first bad one refuses the whole batch (`400` problem whose detail starts `Event {{index}}: ` with the 0-based index, or `403`); a body that is not an array, or an empty array, is a `400`. Otherwise every event is stored (a repeat of an `(id, source)`, also within the batch, stores nothing), in array order within each resource, and `200` means all of them are."
    );
    let mut security = altinn_token(&[SCOPE_PUBLISH]);
    security.extend(altinn_token_and_platform());
    let mut body = request_body(
        "application/cloudevents+json",
        schema_ref("GenericCloudEventRequest"),
        "The event, or a batch of events. Only `application/cloudevents+json` and `application/cloudevents-batch+json` (any parameters) are accepted; `application/json` is `415`.",
    );
    if let Some(content) = body.get_mut("content").and_then(Value::as_object_mut) {
        content.insert(
            BATCH_CONTENT_TYPE.to_owned(),
            json!({"schema": {
                "type": "array",
                "minItems": 1,
                "maxItems": MAX_BATCH_EVENTS,
                "items": schema_ref("GenericCloudEventRequest")
            }}),
        );
    }
    Op::new(
        "publishEvent",
        "Events",
        "Publish a generic event (or a batch)",
        &description,
        security,
    )
    .body(body)
    .answer(200, empty("Stored (or already stored). No body."))
    .answer(400, response_ref("BadRequest"))
    .answer(401, response_ref("Unauthorized"))
    .answer(403, response_ref("Forbidden"))
    .reads_body()
    .answer(503, response_ref("ServiceUnavailable"))
    .done()
}

fn read_events() -> Value {
    let description = format!(
        "The caller's page of events of one resource after the cursor, in publish order, each authorized for the caller (action `subscribe`). Needs the scope `{SCOPE_SUBSCRIBE}`. The page is filled from further events when some are not permitted, so a short page means the end of the log for now. Checks in order: `401`, `403` (scope), `400` (`resource` missing or `size` not an integer: validation problem; then `resource` prefix, `after`, `subject` together with `Altinn-AlternativeSubject`: problem; more than {MAX_PATTERNS} `type` values: problem).{LIVE_STREAM_NOTE}"
    );
    Op::new(
        "getEvents",
        "Events",
        "Read generic events",
        &description,
        altinn_token(&[SCOPE_SUBSCRIBE]),
    )
    .params(vec![
        param_ref("EventsResource"),
        param_ref("EventsAfter"),
        param_ref("EventsSubject"),
        param_ref("AlternativeSubject"),
        param_ref("EventsType"),
        param_ref("EventsSize"),
        param_ref("LastEventId"),
    ])
    .answer(200, response_ref("EventPage"))
    .answer(400, response_ref("BadRequest"))
    .answer(401, response_ref("Unauthorized"))
    .answer(403, response_ref("Forbidden"))
    .answer(503, response_ref("ServiceUnavailable"))
    .done()
}

fn publish_app_event() -> Value {
    let description = format!(
        "Registers an event of an Altinn app instance; the service sets `id`, `time`, `resource` (`urn:altinn:resource:app_{{org}}_{{app}}` from the source path) and `resourceinstance`, and drops `data`, `dataschema` and `contenttype`. Needs an Altinn token (any) and a platform access token of the app: the path of `source` must begin with `/{{iss}}/{{app}}` of that token as whole segments, else `401` with a JSON string. Checks in order: `401` (no Altinn token: a problem document), `403` (no platform token), `415` (no or a non-JSON content type), `413`, `400`, `401` (ownership, JSON string). {BODY_LIMIT}"
    );
    Op::new("publishAppEvent", "App", "Register an app event", &description, altinn_token_and_platform())
        .body(request_body(
            "application/json",
            schema_ref("AppEventRequest"),
            "The event to build. `application/json` or any `application/*+json` type.",
        ))
        .answer(201, json!({
            "description": "Registered: the new event's id as a JSON string.",
            "headers": {"Location": {
                "description": "The event's subject (e.g. `/party/50015641`), as Altinn sets it.",
                "required": true,
                "schema": {"type": "string"}
            }},
            "content": {JSON_UTF8: {"schema": {"type": "string", "format": "uuid"}}}
        }))
        .answer(400, response_ref("BadRequest"))
        .answer(401, json!({
            "description": "No valid Altinn token (a problem document, with `WWW-Authenticate: Bearer`), or the platform token's app does not own the event's source: a JSON string `\"{iss}/{app} is not authorized to create events for {source}\"`.",
            "headers": {"WWW-Authenticate": header_ref("WwwAuthenticate")},
            "content": {
                PROBLEM_JSON: {"schema": schema_ref("ProblemDetails")},
                JSON_UTF8: {"schema": schema_ref("Message")}
            }
        }))
        .answer(403, problem("An Altinn token, but no valid platform access token."))
        .reads_body()
        .answer(503, response_ref("ServiceUnavailable"))
        .done()
}

/// Parameters shared by both app-event reads.
fn app_query_params(for_party: bool) -> Vec<Value> {
    let mut params = vec![
        param_ref("AppAfter"),
        param_ref("AppFrom"),
        param_ref("AppTo"),
        param_ref("AppParty"),
        param_ref("AppUnit"),
        param_ref("Person"),
        param_ref("AppType"),
        param_ref("AppSize"),
    ];
    if for_party {
        params.push(param_ref("AppSource"));
    }
    params.push(param_ref("LastEventId"));
    params
}

/// The live stream (issue 15), as the three reads' `text/event-stream` answer describes it.
const LIVE_STREAM: &str = "Server-Sent Events: every permitted event after the cursor (in pages of `size`, which is no cap), then each new event as it is stored, in publish order, nothing lost or repeated between the two. One message per event: `id:` the event id, `data:` the CloudEvent JSON (as the JSON read answers it). Comment lines (`: keep-alive`) after 15 s without a message. Per-event authorization as the read, so a withdrawn right stops events at the next one. The stream ends at the token's `exp` (or when the service restarts the resource's storage): reconnect with `Last-Event-ID`.";

/// The sentence each read's description ends with.
const LIVE_STREAM_NOTE: &str = " With `Accept: text/event-stream` the same read (same parameters, checks and answers before the stream starts) is a live stream of Server-Sent Events; the `Last-Event-ID` header takes the place of `after` and wins over it.";

const APP_READ_RULES: &str = "Either `after` or `from` is required; `from` and `to` need a time zone (`Z` or an offset; send `+` as `%2B`); `size` is at least 1 (default 50, no maximum); `party` excludes the `person` header and `unit`; `unit` is 9 digits. Values that cannot be bound (a non-integer `party` or `size`, an unreadable `from` or `to`) are a `400` validation problem listing every such parameter; the rules above are `400` problems, first failure wins. A `person` or `unit` the party register does not know is a `404` problem. The page is filled from further events when some are not permitted.";

fn read_app_events_for_org(org: &str, app: &str) -> Value {
    let description = format!(
        "Events of one app, for its service owner: the caller's token must carry `urn:altinn:org` (else `401` with the JSON string `\"Only orgs can call this api\"`); the PDP decides per event (action `read`). Without `party`, `unit` or `person` every subject is included. {APP_READ_RULES} A request content type other than JSON is `415`.{LIVE_STREAM_NOTE}"
    );
    Op::new("getAppEventsForOrg", "App", "Read app events as the service owner", &description, altinn_token(&[]))
        .params({
            let mut p = vec![
                path_param("org", "The app owner's org code (e.g. `ttd`).", json!({"type": "string"}), org),
                path_param("app", "The app's name.", json!({"type": "string"}), app),
            ];
            p.extend(app_query_params(false));
            p
        })
        .answer(200, response_ref("EventPage"))
        .answer(400, response_ref("BadRequest"))
        .answer(401, json!({
            "description": "No valid Altinn token (a problem document, with `WWW-Authenticate: Bearer`), or a token without `urn:altinn:org`: the JSON string `\"Only orgs can call this api\"`.",
            "headers": {"WWW-Authenticate": header_ref("WwwAuthenticate")},
            "content": {
                PROBLEM_JSON: {"schema": schema_ref("ProblemDetails")},
                JSON_UTF8: {"schema": schema_ref("Message")}
            }
        }))
        .answer(404, problem("The party register knows no party for the `person` header or `unit`."))
        .answer(415, response_ref("UnsupportedMediaType"))
        .answer(503, response_ref("ServiceUnavailable"))
        .done()
}

fn read_app_events_for_party() -> Value {
    let description = format!(
        "Events of one party across every app, for any authenticated caller; the PDP decides per event (action `read`). One of `party`, `unit` or the `person` header is required (`400` problem otherwise). {APP_READ_RULES} A request content type other than JSON is `415`.{LIVE_STREAM_NOTE}"
    );
    Op::new(
        "getAppEventsForParty",
        "App",
        "Read app events of a party",
        &description,
        altinn_token(&[]),
    )
    .params(app_query_params(true))
    .answer(200, response_ref("EventPage"))
    .answer(400, response_ref("BadRequest"))
    .answer(401, response_ref("Unauthorized"))
    .answer(
        404,
        problem("The party register knows no party for the `person` header or `unit`."),
    )
    .answer(415, response_ref("UnsupportedMediaType"))
    .answer(503, response_ref("ServiceUnavailable"))
    .done()
}

fn create_subscription() -> Value {
    let description = format!(
        "Creates a webhook subscription for the caller (or answers the identical existing one) and sends it a validation event (type `platform.events.validatesubscription`); events are pushed once the endpoint has answered it with a 2xx, each POST signed with the subscription's secret (Standard Webhooks headers; see `GET …/secret`). The answer carries that secret (this service's addition; an identical re-POST answers the same one). App subscriptions (`resourceFilter` `urn:altinn:resource:app_…` or a `sourceFilter` on the apps domain) need any Altinn token; other (generic) subscriptions need the scope `{SCOPE_SUBSCRIBE}` (`403` without it). The PDP must then permit `read` (app) or `subscribe` (generic) on the resource for the caller, else `403` with a JSON string. Endpoints must be `https://` on public addresses (`http://` and private addresses only with `WEBHOOK_ALLOW_PRIVATE=true`); a refused endpoint is a `400` JSON string saying why. Checks in order: `401`, `415`, `413`, `400` (binding: validation problem), `400` (endpoint, filters: JSON string), `403` (scope), `400` (service rules: JSON string), `403` (PDP). {BODY_LIMIT}"
    );
    Op::new("createSubscription", "Subscription", "Create a subscription", &description, altinn_token(&[]))
        .body(request_body(
            "application/json",
            schema_ref("SubscriptionRequest"),
            "The subscription. `application/json` or any `application/*+json` type; property names are matched case-insensitively.",
        ))
        .answer(201, json!({
            "description": "Created, or the identical subscription the caller already has.",
            "headers": {"Location": {
                "description": "The subscription's URL (`/events/api/v1/subscriptions/{id}`; Altinn answers the non-existent `/subscription/{id}`).",
                "required": true,
                "schema": {"type": "string", "format": "uri-reference"}
            }},
            "content": {JSON_UTF8: {"schema": schema_ref("CreatedSubscription")}}
        }))
        .answer(400, json!({
            "description": "A body that cannot be bound (not JSON, wrong value types, empty): a validation problem; one that cannot be read: a problem. A rule of the subscription is broken (endpoint, filters, subject, consumer): a JSON string with Altinn's message, e.g. `\"Missing or invalid endpoint to push events towards\"`.",
            "content": {
                PROBLEM_JSON: {"schema": {"oneOf": [schema_ref("ProblemDetails"), schema_ref("ValidationProblemDetails")]}},
                JSON_UTF8: {"schema": schema_ref("Message")}
            }
        }))
        .answer(401, response_ref("Unauthorized"))
        .answer(403, problem_or_json_string("A generic subscription without the scope `altinn:events.subscribe` (a problem document), or the PDP did not permit it: the JSON string `\"Not authorized to create a subscription for resource {resourceFilter}.\"`."))
        .reads_body()
        .answer(503, response_ref("ServiceUnavailable"))
        .done()
}

fn list_subscriptions() -> Value {
    Op::new(
        "listSubscriptions",
        "Subscription",
        "List the caller's subscriptions",
        "Every subscription the caller created (its consumer: `/org/{org}`, `/user/{id}`, `/systemuser/{uuid}` or `/organisation/{number}`), validated or not, by id. A token that names no consumer gets an empty list.",
        altinn_token(&[]),
    )
    .answer(200, json_response("The caller's subscriptions.", schema_ref("SubscriptionList")))
    .answer(401, response_ref("Unauthorized"))
    .answer(503, response_ref("ServiceUnavailable"))
    .done()
}

/// The answers of an operation on one of the caller's subscriptions.
fn owned_subscription(op: Op) -> Op {
    op.answer(400, response_ref("ValidationProblem"))
        .answer(401, response_ref("Unauthorized"))
        .answer(
            403,
            problem("The subscription was created by someone else."),
        )
        .answer(404, response_ref("NotFound"))
        .answer(503, response_ref("ServiceUnavailable"))
}

fn get_subscription(id: &str) -> Value {
    owned_subscription(
        Op::new(
            "getSubscription",
            "Subscription",
            "Get a subscription",
            "One subscription, if the caller created it.",
            altinn_token(&[]),
        )
        .params(vec![subscription_id_param(id)])
        .answer(
            200,
            json_response("The subscription.", schema_ref("Subscription")),
        ),
    )
    .done()
}

fn delete_subscription(id: &str) -> Value {
    owned_subscription(
        Op::new(
            "deleteSubscription",
            "Subscription",
            "Delete a subscription",
            "Stops delivery and removes the subscription, if the caller created it; the next event published no longer matches it.",
            altinn_token(&[]),
        )
        .params(vec![subscription_id_param(id)])
        .answer(200, empty("Deleted. No body.")),
    )
    .done()
}

fn dead_letters(id: &str) -> Value {
    owned_subscription(
        Op::new(
            "getDeadLetters",
            "Subscription",
            "Read a subscription's dead letters",
            "This service's addition: the events of the caller's subscription whose every delivery attempt failed, oldest first. Delivery moves on past them; redeliver them with `POST …/deadletters/redeliver`.",
            altinn_token(&[]),
        )
        .params(vec![subscription_id_param(id)])
        .answer(200, json_response("The dead letters.", schema_ref("DeadLetterList"))),
    )
    .done()
}

fn redeliver(id: &str) -> Value {
    owned_subscription(
        Op::new(
            "redeliverDeadLetters",
            "Subscription",
            "Redeliver a subscription's dead letters",
            "This service's addition: puts every dead letter of the caller's subscription back at the end of its queue, in order, with fresh attempts. No request body is read.",
            altinn_token(&[]),
        )
        .params(vec![subscription_id_param(id)])
        .answer(200, json_response("How many dead letters were queued again.", schema_ref("RedeliverResult"))),
    )
    .done()
}

/// How a webhook POST is signed, for the operations that hand out secrets.
const SIGNED_DELIVERIES: &str = "Every webhook POST carries the Standard Webhooks headers `webhook-id` (`msg_{subscriptionId}_{n}`, the same on every attempt of one delivery, so a receiver can drop duplicates), `webhook-timestamp` (the attempt's time in unix seconds) and `webhook-signature`: `v1,` and the base64 of HMAC-SHA256 over `{webhook-id}.{webhook-timestamp}.{body}`, keyed with the bytes the base64 after `whsec_` decodes to; one such entry per secret in force, separated by spaces.";

fn signing_secret(id: &str) -> Value {
    let description = format!(
        "This service's addition: the secret that signs the deliveries of the caller's subscription. {SIGNED_DELIVERIES} A subscription stored before deliveries were signed gets its secret on this first read (until then its deliveries carry `webhook-id` and `webhook-timestamp` only)."
    );
    owned_subscription(
        Op::new(
            "getSigningSecret",
            "Subscription",
            "Read a subscription's signing secret",
            &description,
            altinn_token(&[]),
        )
        .params(vec![subscription_id_param(id)])
        .answer(
            200,
            json_response("The current secret.", schema_ref("SigningSecret")),
        ),
    )
    .done()
}

fn rotate_secret(id: &str) -> Value {
    let description = format!(
        "This service's addition: makes a new signing secret for the caller's subscription and answers it. For {} hours after the rotation deliveries are signed with both the new and the previous secret (two entries in `webhook-signature`), so a receiver can switch without refusing a delivery; after that with the new one only. A subscription without a secret gets its first. No request body is read. How deliveries are signed: `GET …/secret`.",
        ROTATION_OVERLAP_MS / 3_600_000
    );
    owned_subscription(
        Op::new(
            "rotateSigningSecret",
            "Subscription",
            "Rotate a subscription's signing secret",
            &description,
            altinn_token(&[]),
        )
        .params(vec![subscription_id_param(id)])
        .answer(
            200,
            json_response("The new secret.", schema_ref("SigningSecret")),
        ),
    )
    .done()
}

fn attempts(id: &str) -> Value {
    let description = format!(
        "This service's addition: the delivery attempts of the caller's subscription, oldest first, one per webhook POST (the validation event's included): when, how it ended, the status code, the latency, the start of the answer, and when the next attempt is due if one is scheduled. The service keeps the last {KEEP_ATTEMPTS} attempts and every attempt of an event still queued or dead-lettered. A full page links the next one in `next`."
    );
    owned_subscription(
        Op::new(
            "getDeliveryAttempts",
            "Subscription",
            "Read a subscription's delivery attempts",
            &description,
            altinn_token(&[]),
        )
        .params(vec![
            subscription_id_param(id),
            param_ref("AttemptsAfter"),
            param_ref("AttemptsSize"),
        ])
        .answer(200, json_response("A page of the attempt log.", schema_ref("AttemptLog"))),
    )
    .answer(400, json!({
        "description": "`after` or `size` is not valid (a problem saying which), or the id is not a 32-bit integer (a validation problem under `id`).",
        "content": {PROBLEM_JSON: {"schema": {"oneOf": [schema_ref("ProblemDetails"), schema_ref("ValidationProblemDetails")]}}}
    }))
    .done()
}

fn enable(id: &str) -> Value {
    let description = format!(
        "This service's addition: resumes the caller's subscription after it was disabled (its endpoint failed every attempt for `DISABLE_AFTER_HOURS`, default {DEFAULT_DISABLE_AFTER_HOURS}) where it stopped: the event at the head of its queue is attempted at once and the rest follow in order. An active subscription is left as it is. No request body is read."
    );
    owned_subscription(
        Op::new(
            "enableSubscription",
            "Subscription",
            "Resume a disabled subscription",
            &description,
            altinn_token(&[]),
        )
        .params(vec![subscription_id_param(id)])
        .answer(
            200,
            json_response(
                "The endpoint's health after the call.",
                schema_ref("EndpointHealth"),
            ),
        ),
    )
    .done()
}

fn replay(id: &str) -> Value {
    let description = format!(
        "This service's addition: queues again, at the end of the caller's subscription's queue and in publish order, the events stored for its resource in a window, each if it matches the subscription now; it is then authorized for the subscriber as a new event is. The window is of the times this service stored the events, both ends inclusive: from `from`, or after the event `after`, to `to` (default: now). One call looks at {REPLAY_LIMIT} stored events at most; when more remain the answer carries a `cursor`: send the same body with it to go on. Checks in order: `401`, `400` (id: validation problem), `404`, `403`, `415` (a content type other than JSON; none is read as JSON), `413`, `400` (the body, or an `after` id no stored event of the resource has: problem). {BODY_LIMIT}"
    );
    owned_subscription(
        Op::new(
            "replayEvents",
            "Subscription",
            "Replay stored events to a subscription",
            &description,
            altinn_token(&[]),
        )
        .params(vec![subscription_id_param(id)])
        .body(request_body(
            "application/json",
            schema_ref("ReplayRequest"),
            "The window. `application/json` or any `application/*+json` type.",
        ))
        .answer(
            200,
            json_response(
                "How many events were queued again, and where to go on.",
                schema_ref("ReplayResult"),
            ),
        )
        .reads_body(),
    )
    .answer(400, response_ref("BadRequest"))
    .done()
}

/// 401 and 403 of the `PlatformAccess` policy.
fn platform_access(op: Op) -> Op {
    op.answer(
        401,
        unauthorized("No credentials: neither a valid platform access token nor an Altinn token."),
    )
    .answer(
        403,
        problem("An Altinn token, but no valid platform access token."),
    )
}

fn validate_subscription(id: &str) -> Value {
    platform_access(
        Op::new(
            "validateSubscription",
            "SubscriptionValidation",
            "Mark a subscription as validated",
            "For the validation step of delivery: marks the subscription validated and answers it as it was before the update (as Altinn does), so `validated` may still be `false` in the body. Needs only a platform access token (any issuer).",
            platform_token(),
        )
        .private()
        .params(vec![subscription_id_param(id)])
        .answer(200, json_response("The subscription as it was before the update.", schema_ref("Subscription")))
        .answer(400, response_ref("ValidationProblem"))
        .answer(404, response_ref("NotFound"))
        .answer(503, response_ref("ServiceUnavailable")),
    )
    .done()
}

/// 400, 413 and 415 of the private operations that read a CloudEvent.
fn reads_cloud_event(op: Op, schema: &str) -> Op {
    op.body(request_body(
        "application/cloudevents+json",
        schema_ref(schema),
        "The event. Only `application/cloudevents+json` (any parameters) is accepted.",
    ))
    .reads_body()
}

fn fan_out(inbound: bool) -> Value {
    let (id, tag, summary) = if inbound {
        (
            "postInbound",
            "Inbound",
            "Fan out a registered event (inbound stage)",
        )
    } else {
        (
            "postOutbound",
            "Outbound",
            "Fan out an event to its subscribers (outbound stage)",
        )
    };
    let description = format!(
        "For Altinn's pipeline: matches the event against the subscriptions of its resource and queues it for each authorized subscriber, without storing it. An event without a valid `resource` URN matches nothing (`200`). Needs only a platform access token (any issuer). Any failure to queue is a `503` with the reason as a JSON string. {BODY_LIMIT}"
    );
    platform_access(reads_cloud_event(
        Op::new(id, tag, summary, &description, platform_token()).private(),
        "CloudEventRequest",
    ))
    .answer(
        200,
        empty("Queued for the matching subscriptions. No body."),
    )
    .answer(400, response_ref("BadRequest"))
    .answer(
        503,
        json_string("The event could not be queued: the reason, as a JSON string."),
    )
    .done()
}

fn store_event() -> Value {
    let description = format!(
        "For Altinn's pipeline: stores the event in the log of its `resource` (which must be a valid URN after the legacy `urn:altinn:resource:altinnapp.{{org}}.{{app}}` form is rewritten) without fanning it out. Needs only a platform access token (any issuer). {BODY_LIMIT}"
    );
    platform_access(reads_cloud_event(
        Op::new(
            "storeEvent",
            "Storage",
            "Store an event",
            &description,
            platform_token(),
        )
        .private(),
        "StoredCloudEventRequest",
    ))
    .answer(200, empty("Stored (or already stored). No body."))
    .answer(400, response_ref("BadRequest"))
    .answer(
        503,
        json_string("`\"Failed to save event with ID {id} to storage.\"`"),
    )
    .done()
}

fn write_trace_log() -> Value {
    let description = format!(
        "For Altinn's delivery functions: records a webhook's response in the trace log of its subscription (`subscriptionId` is required here: the entry is filed with its subscription). The activity is `WebhookPostResponse`, or for validation events `EndpointValidationSuccess`/`EndpointValidationFailed`. Needs only a platform access token (any issuer). {BODY_LIMIT}"
    );
    platform_access(
        Op::new("writeTraceLogEntry", "Storage", "Record a webhook response in the trace log", &description, platform_token())
            .private()
            .body(request_body(
                "application/json",
                schema_ref("LogEntryRequest"),
                "The entry. `application/json` or any `application/*+json` type; property names are matched case-insensitively.",
            ))
            .answer(201, empty("Recorded. No body, no `Location`."))
            .answer(400, response_ref("BadRequest"))
            .reads_body()
            .answer(503, response_ref("ServiceUnavailable")),
    )
    .done()
}

fn read_trace_log() -> Value {
    platform_access(
        Op::new(
            "getTraceLog",
            "Storage",
            "Read the trace log",
            "This service's addition: the trace log of a subscription (`subscriptionId`: the webhook responses and validation results of its deliveries) or of a resource (`resource`: registrations, queueing and authorization decisions), oldest first. Give exactly one of them: neither or both is a `400` problem. Needs only a platform access token (any issuer).",
            platform_token(),
        )
        .private()
        .params(vec![param_ref("TraceSubscriptionId"), param_ref("TraceResource")])
        .answer(200, json_response("The entries.", schema_ref("TraceLog")))
        .answer(400, response_ref("BadRequest"))
        .answer(503, response_ref("ServiceUnavailable")),
    )
    .done()
}

fn webhook_receiver() -> Value {
    Op::new(
        "postTestWebhook",
        "WebhookReceiver",
        "Test webhook receiver",
        "A sink for tests: accepts any JSON (the body is not read) and answers `200`. Anonymous; a content type other than JSON is `415`.",
        vec![],
    )
    .private()
    .body(json!({
        "required": false,
        "description": "Anything; `application/json` or any `application/*+json` type, or no content type.",
        "content": {"application/json": {"schema": {}}}
    }))
    .answer(200, empty("Accepted. No body."))
    .answer(415, response_ref("UnsupportedMediaType"))
    .done()
}

/// 401 and 403 of the admin endpoints.
fn admin_access(op: Op) -> Op {
    op.answer(401, unauthorized("No valid platform access token."))
        .answer(
            403,
            problem("A valid platform access token from another issuer than `platform`."),
        )
        .answer(503, response_ref("ServiceUnavailable"))
}

const ADMIN: &str =
    "This service's addition (CONTRACT §4): needs a platform access token issued by `platform`.";

/// GET, PUT and DELETE of one admin document.
#[allow(clippy::too_many_arguments)]
fn admin_document(
    noun: &str,
    id_param: Value,
    put_schema: &str,
    get_schema: &str,
    ids: [&str; 3],
    about: &str,
    bad_id: &str,
    not_found: &str,
) -> Vec<(Verb, Value)> {
    let [get_id, put_id, delete_id] = ids;
    let put = admin_access(
        Op::new(put_id, "Admin", &format!("Store the {noun}"), &format!("{ADMIN} {about} `PUT` replaces the whole document; a malformed one is a `400` problem saying what is wrong. {BODY_LIMIT}"), platform_token())
            .private()
            .params(vec![id_param.clone()])
            .body(request_body("application/json", schema_ref(put_schema), "The document. `application/json` or any `application/*+json` type."))
            .answer(200, json_response("Replaced; the stored document.", schema_ref(get_schema)))
            .answer(201, json_response("Created; the stored document.", schema_ref(get_schema)))
            .answer(400, json!({
                "description": format!("{bad_id}, or the document is malformed (a problem saying what is wrong), or nested too deep (a validation problem)."),
                "content": {PROBLEM_JSON: {"schema": {"oneOf": [schema_ref("ProblemDetails"), schema_ref("ValidationProblemDetails")]}}}
            }))
            .reads_body(),
    )
    .done();
    let get = admin_access(
        Op::new(
            get_id,
            "Admin",
            &format!("Read the {noun}"),
            &format!("{ADMIN} {about}"),
            platform_token(),
        )
        .private()
        .params(vec![id_param.clone()])
        .answer(
            200,
            json_response("The stored document.", schema_ref(get_schema)),
        )
        .answer(400, problem(bad_id))
        .answer(404, problem(not_found)),
    )
    .done();
    let delete = admin_access(
        Op::new(
            delete_id,
            "Admin",
            &format!("Remove the {noun}"),
            &format!("{ADMIN} {about}"),
            platform_token(),
        )
        .private()
        .params(vec![id_param])
        .answer(204, empty("Removed. No body."))
        .answer(400, problem(bad_id))
        .answer(404, problem(not_found)),
    )
    .done();
    vec![(Verb::Get, get), (Verb::Put, put), (Verb::Delete, delete)]
}

fn admin_resource(id: &str) -> Vec<(Verb, Value)> {
    admin_document(
        "rule document of a resource",
        path_param(
            "resourceId",
            "The resource id: the part of the resource URN after `urn:altinn:resource:` (e.g. `nbib.bokoversikt.api`, `app_ttd_apps-test`), percent-decoded with `+` as a space.",
            json!({"type": "string", "pattern": RESOURCE_ID_PATTERN}),
            id,
        ),
        "ResourcePolicyRequest",
        "ResourcePolicy",
        ["getResourcePolicy", "putResourcePolicy", "deleteResourcePolicy"],
        "The built-in PDP's rules for one resource: its `owner` org may publish, subscribe and read; each rule grants its actions to callers matching any of its subject matchers. With `PDP_URL` set the documents have no effect. A change applies to the very next request.",
        "`urn:altinn:resource:{resourceId}` is not a valid URN",
        "No rule document is stored for the resource.",
    )
}

fn admin_party(id: &str) -> Vec<(Verb, Value)> {
    admin_document(
        "party register entry",
        path_param(
            "partyId",
            "The party id (a positive 64-bit integer).",
            json!({"type": "integer", "format": "int64", "minimum": 1}),
            id,
        ),
        "PartyRequest",
        "Party",
        ["getParty", "putParty", "deleteParty"],
        "A party register entry: person and unit look-ups (`person` header, `unit`, alternative subjects), person-subject replacement, main-unit expansion for `includeSubunits`, and the roles users hold for the party.",
        "The party id is not a positive integer",
        "The party is not in the register.",
    )
}

fn admin_org(org: &str) -> Vec<(Verb, Value)> {
    admin_document(
        "organisation number of an org",
        path_param(
            "org",
            "The org code (1 to 64 letters, digits or `-`, e.g. `ttd`), percent-decoded with `+` as a space.",
            json!({"type": "string", "pattern": "^[A-Za-z0-9-]{1,64}$"}),
            org,
        ),
        "OrgRegistrationRequest",
        "OrgRegistration",
        ["getOrg", "putOrg", "deleteOrg"],
        "The organisation number an org code stands for at the Maskinporten token exchange: a token whose consumer is that number is exchanged for one carrying `urn:altinn:org`.",
        "The org code is not 1 to 64 letters, digits or `-`",
        "No organisation number is registered for the org.",
    )
}

fn exchange() -> Value {
    Op::new(
        "exchangeMaskinportenToken",
        "Authentication",
        "Exchange a Maskinporten token for an Altinn token",
        "This service's addition (CONTRACT §6), for deployments outside Altinn: takes a Maskinporten access token (`Authorization: Bearer`; no Altinn credentials) and answers an Altinn token signed with `TOKEN_SIGNING_JWK`: `urn:altinn:orgNumber` from the token's consumer, `urn:altinn:org` when an org code is registered for that number (`PUT /events/api/v1/admin/orgs/{org}`), its `scope`, `iss` = `{EVENTS_BASE_URL}/authentication/api/v1/openid/` and an `exp` no later than the Maskinporten token's (at most 30 minutes). Enabled by `MASKINPORTEN_WELLKNOWN` (or `MASKINPORTEN_JWKS`), `MASKINPORTEN_ISSUER` and `TOKEN_SIGNING_JWK`; otherwise `404`.",
        vec![json!({ MASKINPORTEN: [] })],
    )
    .answer(200, json!({
        "description": "The Altinn token (a compact JWS).",
        "content": {TEXT_PLAIN: {"schema": {"type": "string", "pattern": JWT_PATTERN}}}
    }))
    .answer(401, problem("No Bearer token, or the Maskinporten token was refused (the problem says why)."))
    .answer(404, problem("The exchange is not enabled on this deployment (the problem names the missing settings)."))
    .answer(503, response_ref("ServiceUnavailable"))
    .answer(500, problem("A deployment setting is malformed, or `TOKEN_SIGNING_JWK` cannot sign (the problem says which)."))
    .done()
}

fn openid_configuration() -> Value {
    Op::new(
        "getOpenIdConfiguration",
        "Authentication",
        "OpenID configuration of exchanged tokens",
        "The issuer of the tokens the exchange signs and where its key set is. `404` when `TOKEN_SIGNING_JWK` is not set.",
        vec![],
    )
    .answer(200, json_response("The configuration.", schema_ref("OpenIdConfiguration")))
    .answer(404, problem("This service issues no tokens (`TOKEN_SIGNING_JWK` is not set)."))
    .done()
}

fn openid_jwks() -> Value {
    Op::new(
        "getOpenIdJwks",
        "Authentication",
        "Key set of exchanged tokens",
        "The public half of `TOKEN_SIGNING_JWK`. `404` when it is not set.",
        vec![],
    )
    .answer(200, json_response("The key set.", schema_ref("Jwks")))
    .answer(
        404,
        problem("This service issues no tokens (`TOKEN_SIGNING_JWK` is not set)."),
    )
    .done()
}

fn openapi_document() -> Value {
    Op::new(
        "getOpenApiDocument",
        "Documentation",
        "This document",
        "The OpenAPI 3.1 document of every route, with `servers` naming this deployment (`EVENTS_BASE_URL`, or the origin it was requested from).",
        vec![],
    )
    .answer(200, json_response("The document.", json!({
        "type": "object",
        "required": ["openapi", "info", "paths", "servers"],
        "properties": {"openapi": {"type": "string", "const": "3.1.0"}}
    })))
    .done()
}

fn docs_page() -> Value {
    Op::new(
        "getApiReference",
        "Documentation",
        "The API reference page",
        "An HTML page rendering this document, served from the deployment's static assets (no internet needed). The worker itself answers only when the assets are missing: `503`.",
        vec![],
    )
    .answer(200, json!({
        "description": "The page.",
        "content": {"text/html": {"schema": {"type": "string"}}}
    }))
    .answer(503, problem("The page's static assets are missing from this deployment."))
    .done()
}

// ---------------------------------------------------------------------------------------------
// Parameters, headers and shared responses.

fn parameters() -> Value {
    let patterns = format!("At most {MAX_PATTERNS} non-empty values (`400` problem otherwise); empty values are ignored.");
    json!({
        "EventsResource": {
            "name": "resource", "in": "query", "required": true,
            "description": "The resource whose events to read. Missing or empty: `400` validation problem; not beginning with `urn:altinn:resource:`: `400` problem.",
            "schema": {"type": "string", "pattern": "^urn:altinn:resource:"},
            "example": "urn:altinn:resource:ttd-demo"
        },
        "EventsAfter": {
            "name": "after", "in": "query", "required": true,
            "description": "The id of the last event already read (exclusive cursor); `0`, or any id the log does not hold, starts from the beginning. Missing or empty: `400` problem.",
            "schema": {"type": "string", "minLength": 1},
            "example": "0"
        },
        "EventsSubject": {
            "name": "subject", "in": "query",
            "description": "Only events with exactly this subject. Excludes the `Altinn-AlternativeSubject` header (`400` problem when both are given).",
            "schema": {"type": "string"},
            "example": "/party/50001337"
        },
        "AlternativeSubject": {
            "name": "Altinn-AlternativeSubject", "in": "header",
            "description": "Only events with exactly this `alternativesubject`. When it is used without `subject`, the `next` link carries the first event's subject.",
            "schema": {"type": "string"},
            "example": "/person/16035001577"
        },
        "EventsType": {
            "name": "type", "in": "query", "style": "form", "explode": true,
            "description": format!("Only events whose type matches one of these SQL `LIKE` patterns (case-sensitive; `%` any run, `_` one character). {patterns}"),
            "schema": {"type": "array", "items": {"type": "string"}, "maxItems": MAX_PATTERNS}
        },
        "EventsSize": {
            "name": "size", "in": "query",
            "description": format!("The page size: below 1 means {DEFAULT_SIZE}, above {MAX_GENERIC_SIZE} means {MAX_GENERIC_SIZE}. Not an integer: `400` validation problem."),
            "schema": {"type": "integer", "format": "int32", "default": DEFAULT_SIZE}
        },
        "LastEventId": {
            "name": "Last-Event-ID", "in": "header",
            "description": "With `Accept: text/event-stream` only: the id of the last event received (what SSE clients send when they reconnect). It takes the place of `after` and wins over an `after` in the URL; ignored by the JSON read.",
            "schema": {"type": "string"}
        },
        "AppAfter": {
            "name": "after", "in": "query",
            "description": "The id of the last event already read (exclusive cursor). `after` or `from` is required.",
            "schema": {"type": "string"},
            "example": "3fa85f64-5717-4562-b3fc-2c963f66afa6"
        },
        "AppFrom": {
            "name": "from", "in": "query",
            "description": "Only events whose `time` is at or after this instant. It must name its time zone (`Z` or an offset, e.g. `2022-07-07T11:00:53.3917Z`; a date alone as `2022-07-07Z`). `after` or `from` is required.",
            "schema": {"type": "string", "format": "date-time"},
            "example": "2022-02-14T07:22:19Z"
        },
        "AppTo": {
            "name": "to", "in": "query",
            "description": "Only events whose `time` is at or before this instant; it must name its time zone.",
            "schema": {"type": "string", "format": "date-time"},
            "example": "2022-06-16T13:37:00Z"
        },
        "AppParty": {
            "name": "party", "in": "query",
            "description": "Only events about this party (subject `/party/{party}`); 0 or less means none given. Excludes `unit` and the `person` header.",
            "schema": {"type": "integer", "format": "int32"},
            "example": 50002108
        },
        "AppUnit": {
            "name": "unit", "in": "query",
            "description": "Only events about the party of this organisation number (9 digits; looked up in the party register, `404` problem when it is unknown). Empty means none given.",
            "schema": {"type": "string", "pattern": "^([0-9]{9})?$"},
            "example": "989271156"
        },
        "Person": {
            "name": "person", "in": "header",
            "description": "Only events about the party of this national identity number (looked up in the party register, `404` problem when it is unknown).",
            "schema": {"type": "string"},
            "example": "01014922047"
        },
        "AppType": {
            "name": "type", "in": "query", "style": "form", "explode": true,
            "description": format!("Only events whose type matches one of these `ILIKE` patterns (case-insensitive; `%` any run, `_` one character). {patterns}"),
            "schema": {"type": "array", "items": {"type": "string"}, "maxItems": MAX_PATTERNS},
            "example": ["app.instance.created", "app.instance.process.completed"]
        },
        "AppSource": {
            "name": "source", "in": "query", "style": "form", "explode": true,
            "description": format!("Only events whose source matches one of these `ILIKE` patterns (e.g. `https://ttd.apps.altinn.no/ttd/%`). {patterns}"),
            "schema": {"type": "array", "items": {"type": "string"}, "maxItems": MAX_PATTERNS}
        },
        "AppSize": {
            "name": "size", "in": "query",
            "description": "The page size, at least 1 (`400` problem otherwise); no maximum.",
            "schema": {"type": "integer", "format": "int32", "minimum": 1, "default": DEFAULT_SIZE}
        },
        "AttemptsAfter": {
            "name": "after", "in": "query",
            "description": "Start after this position: a non-negative integer, `0` (the default) for the oldest attempt kept. Take it from a page's `next` link. Anything else is a `400` problem.",
            "schema": {"type": "integer", "format": "int64", "minimum": 0, "default": 0}
        },
        "AttemptsSize": {
            "name": "size", "in": "query",
            "description": format!("The page size, 1 to {MAX_ATTEMPT_PAGE} (default {DEFAULT_ATTEMPT_PAGE}); anything else is a `400` problem."),
            "schema": {"type": "integer", "format": "int32", "minimum": 1, "maximum": MAX_ATTEMPT_PAGE, "default": DEFAULT_ATTEMPT_PAGE}
        },
        "TraceSubscriptionId": {
            "name": "subscriptionId", "in": "query",
            "description": "The subscription whose trace log to read (a 32-bit integer; anything else is a `400` validation problem under `id`). Empty means none given.",
            "schema": {"type": "integer", "format": "int32"},
            "example": 42
        },
        "TraceResource": {
            "name": "resource", "in": "query",
            "description": "The resource whose trace log to read (a valid URN, `400` problem otherwise). Empty means none given.",
            "schema": {"type": "string", "pattern": URN_PATTERN},
            "example": "urn:altinn:resource:ttd-demo"
        }
    })
}

fn headers() -> Value {
    json!({
        "WwwAuthenticate": {
            "description": "`Bearer`: the authentication challenge of a missing or invalid token.",
            "schema": {"type": "string", "const": "Bearer"}
        },
        "Next": {
            "description": "The URL of the next page: `{EVENTS_BASE_URL}{path}?after={last id}` followed by the request's other query parameters (values decoded, except `%`, `&`, `+`, `#`, spaces and non-ASCII characters, which are percent-encoded). Only on a non-empty page.",
            "schema": {"type": "string", "format": "uri"}
        }
    })
}

fn responses() -> Value {
    json!({
        "Unauthorized": unauthorized("No valid Altinn token (`Authorization: Bearer` or the `AltinnStudioRuntime` cookie; a missing, expired, unsigned or wrongly signed token): a problem document saying so (Altinn sends no body) and `WWW-Authenticate: Bearer`."),
        "Forbidden": problem("The token lacks the scope the operation requires, or the PDP did not permit the action: a problem document (Altinn sends no body)."),
        "NotFound": {"description": "No subscription with this id. No body."},
        "ValidationProblem": {
            "description": "The value cannot be bound (e.g. an id that is not a 32-bit integer): an ASP.NET validation problem.",
            "content": {PROBLEM_JSON: {"schema": schema_ref("ValidationProblemDetails")}}
        },
        "BadRequest": {
            "description": "A value cannot be bound or read (a validation problem: `errors` maps the field, e.g. `RequestBody` for an invalid CloudEvent, to its messages) or breaks a rule (a problem whose `detail` is Altinn's message).",
            "content": {PROBLEM_JSON: {"schema": {"oneOf": [schema_ref("ProblemDetails"), schema_ref("ValidationProblemDetails")]}}}
        },
        "UnsupportedMediaType": {
            "description": "The request's content type is not one the operation reads.",
            "content": {PROBLEM_JSON: {"schema": schema_ref("ProblemDetails")}}
        },
        "ContentTooLarge": {
            "description": format!("The body is larger than {MAX_BODY_BYTES} bytes."),
            "content": {PROBLEM_JSON: {"schema": schema_ref("ProblemDetails")}}
        },
        "ServiceUnavailable": {
            "description": "Storage, the PDP (`PDP_URL`) or the random source failed; nothing was stored half-way. Retry.",
            "content": {PROBLEM_JSON: {"schema": schema_ref("ProblemDetails")}}
        },
        "ServerMisconfigured": {
            "description": "A deployment setting is malformed, or (for operations that need credentials) a key setting is missing outside `DEV_MODE`; the problem names the setting.",
            "content": {PROBLEM_JSON: {"schema": schema_ref("ProblemDetails")}}
        },
        "EventPage": {
            "description": "A page of CloudEvents (possibly empty), `time` in UTC, attributes in the order they were published. With `Accept: text/event-stream`: the live stream instead (no `next` header).",
            "headers": {"next": header_ref("Next")},
            "content": {
                CLOUDEVENTS_JSON: {"schema": {"type": "array", "items": schema_ref("CloudEvent")}},
                "text/event-stream": {
                    "schema": {"type": "string", "description": LIVE_STREAM},
                    "example": "id: 3fa85f64-5717-4562-b3fc-2c963f66afa6\ndata: {\"specversion\":\"1.0\",\"id\":\"3fa85f64-5717-4562-b3fc-2c963f66afa6\",\"source\":\"https://example.com/s\",\"type\":\"test.created\"}\n\n: keep-alive\n\n"
                }
            }
        }
    })
}

// ---------------------------------------------------------------------------------------------
// Schemas.

/// Altinn's URN rule (`events_core::urn::is_valid_urn`).
const URN_PATTERN: &str = r"^urn:[a-z0-9-]{1,30}(:[a-z0-9()+,.;$_!/-]{1,100}){1,10}$";
/// What may follow `urn:altinn:resource:` in a valid URN.
const RESOURCE_ID_PATTERN: &str = r"^[a-z0-9()+,.;$_!/-]{1,100}(:[a-z0-9()+,.;$_!/-]{1,100}){0,8}$";
/// `events_core::identity::parse_guid`.
const GUID_PATTERN: &str = r"^\s*(\{([0-9A-Fa-f]{32}|[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12})\}|\(([0-9A-Fa-f]{32}|[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12})\)|[0-9A-Fa-f]{32}|[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12})\s*$";
/// After `scheme://`, as `events_core::uri::AbsoluteUri` reads it: `[userinfo@]host[:port]`
/// then `/`, `\`, `?` or `#` and the rest; no whitespace or control characters anywhere;
/// host letters, digits and `._~-` (or an IPv6 literal, whose groups are not checked here); a
/// port up to 65535. `{HOST}` is
/// replaced by the host's repetition (`+` where a host is required, `*` where not).
const AUTHORITY_AND_REST: &str = r"://([A-Za-z0-9._~!$&'()*+,;=:%-]*@)?([A-Za-z0-9._~-]{HOST}|\[[0-9A-Fa-f:.]+\])(:0*(6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[0-9]{1,4})?)?([/\\?#][^\s\u0000-\u001f\u007f-\u009f]*)?$";

/// Any scheme but `http`, `https` and `ftp` (any case), which need a host.
const HOSTLESS_SCHEME: &str = "([A-EGI-Za-egi-z][A-Za-z0-9+.-]*|[Hh]([A-SU-Za-su-z0-9+.-][A-Za-z0-9+.-]*)?|[Hh][Tt]([A-SU-Za-su-z0-9+.-][A-Za-z0-9+.-]*)?|[Hh][Tt][Tt]([A-OQ-Za-oq-z0-9+.-][A-Za-z0-9+.-]*)?|[Hh][Tt][Tt][Pp]([A-RT-Za-rt-z0-9+.-][A-Za-z0-9+.-]*|[Ss][A-Za-z0-9+.-]+)|[Ff]([A-SU-Za-su-z0-9+.-][A-Za-z0-9+.-]*)?|[Ff][Tt]([A-OQ-Za-oq-z0-9+.-][A-Za-z0-9+.-]*)?|[Ff][Tt][Pp][A-Za-z0-9+.-]+)";

fn authority(host_required: bool) -> String {
    AUTHORITY_AND_REST.replace("{HOST}", if host_required { "+" } else { "*" })
}

/// An absolute URI of any scheme (`AbsoluteUri::parse`).
fn absolute_uri_pattern() -> String {
    let hosted = format!("([Hh][Tt][Tt][Pp][Ss]?|[Ff][Tt][Pp]){}", authority(true));
    let hostless = format!("{HOSTLESS_SCHEME}{}", authority(false));
    format!("^({hosted}|{hostless})")
}

/// An absolute `https://` URI, or also `http://` with `http`.
fn web_uri_pattern(http: bool) -> String {
    let scheme = if http {
        "[Hh][Tt][Tt][Pp][Ss]?"
    } else {
        "[Hh][Tt][Tt][Pp][Ss]"
    };
    format!("^{scheme}{}", authority(true))
}

/// `scheme:…` without spaces or control characters (a CloudEvent's `dataschema`).
const DATASCHEMA_PATTERN: &str = r"^[A-Za-z][A-Za-z0-9+.-]*:[^\u0000-\u0020\u007f]+$";
/// Standard base64 with canonical padding and no stray bits.
const BASE64_PATTERN: &str =
    r"^([A-Za-z0-9+/]{4})*([A-Za-z0-9+/][AQgw]==|[A-Za-z0-9+/]{2}[AEIMQUYcgkosw048]=)?$";
/// RFC 3339 as `Timestamp::parse_rfc3339` reads it (years 0001-9999, no leap second, offsets
/// up to 14:59).
const TIME_PATTERN: &str = r"^([0-9]{3}[1-9]|[0-9]{2}[1-9][0-9]|[0-9][1-9][0-9]{2}|[1-9][0-9]{3})-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])[Tt]([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]+)?([Zz]|[+-](0[0-9]|1[0-4]):[0-5][0-9])$";
/// A media type whose data is JSON: `application/json` or any `+json` type (any case).
const JSON_MEDIA_TYPE_PATTERN: &str = r"^\s*([Aa][Pp][Pp][Ll][Ii][Cc][Aa][Tt][Ii][Oo][Nn]/[Jj][Ss][Oo][Nn]|[A-Za-z0-9!#$&^_.+-]+/[A-Za-z0-9!#$&^_.+-]*\+[Jj][Ss][Oo][Nn])\s*(;[\s\S]*)?$";
/// A JSON media type or `text/*`.
const JSON_OR_TEXT_MEDIA_TYPE_PATTERN: &str = r"^\s*([Aa][Pp][Pp][Ll][Ii][Cc][Aa][Tt][Ii][Oo][Nn]/[Jj][Ss][Oo][Nn]|[A-Za-z0-9!#$&^_.+-]+/[A-Za-z0-9!#$&^_.+-]*\+[Jj][Ss][Oo][Nn]|[Tt][Ee][Xx][Tt]/[A-Za-z0-9!#$&^_.+-]+)\s*(;[\s\S]*)?$";
/// A signing secret's text form (`events_core::signing::Secret`).
const SECRET_PATTERN: &str = "^whsec_[A-Za-z0-9+/]+={0,2}$";
/// A compact JWS.
const JWT_PATTERN: &str = r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$";
/// CloudEvent attribute names: lower-case letters and digits (plus `data_base64`).
const ATTRIBUTE_NAME_PATTERN: &str = "^([a-z0-9]+|data_base64)$";

fn schemas() -> Value {
    let mut s = Map::new();
    s.insert("ProblemDetails".into(), problem_details());
    s.insert(
        "ValidationProblemDetails".into(),
        validation_problem_details(),
    );
    s.insert("Message".into(), json!({
        "type": "string",
        "description": "Altinn's `StatusCode(code, \"text\")`: the message as a JSON string literal.",
        "examples": ["Only orgs can call this api"]
    }));
    s.insert("CloudEvent".into(), cloud_event());
    s.insert("CloudEventRequest".into(), cloud_event_request());
    s.insert("GenericCloudEventRequest".into(), json!({
        "description": "A CloudEvent as `POST /events/api/v1/events` accepts it: a `resource` that is a valid URN is required (`400` problems `A 'resource' property must be defined.` and `'Resource' must be a valid urn.`). It need not be a `urn:altinn:resource:` URN.",
        "allOf": [schema_ref("CloudEventRequest")],
        "required": ["resource"],
        "properties": {"resource": {"type": "string", "pattern": URN_PATTERN}},
        "examples": [{
            "specversion": "1.0",
            "id": "9f1c2f2e-6a1b-4c55-8f0e-1f2a3b4c5d6e",
            "source": "https://example.com/demo",
            "type": "demo.created",
            "resource": "urn:altinn:resource:ttd-demo",
            "subject": "/party/50001337",
            "time": "2026-11-24T10:00:00Z",
            "data": {"hello": "world"}
        }]
    }));
    s.insert("StoredCloudEventRequest".into(), json!({
        "description": "A CloudEvent as `POST /events/api/v1/storage/events` accepts it: a `resource` that is a valid URN is required (after `urn:altinn:resource:altinnapp.{org}.{app}` is rewritten to `urn:altinn:resource:app_{org}_{app}` from the source path), else the `400` problem `A 'resource' property that is a valid urn must be defined.`.",
        "allOf": [schema_ref("CloudEventRequest")],
        "required": ["resource"],
        "properties": {"resource": {"type": "string", "pattern": URN_PATTERN}}
    }));
    s.insert("AppEventRequest".into(), app_event_request());
    s.insert("SubscriptionRequest".into(), subscription_request());
    s.insert("Subscription".into(), subscription());
    s.insert("CreatedSubscription".into(), created_subscription());
    s.insert(
        "SubscriptionList".into(),
        json!({
            "type": "object",
            "description": "The caller's subscriptions.",
            "required": ["count", "subscriptions"],
            "additionalProperties": false,
            "properties": {
                "count": {"type": "integer", "minimum": 0},
                "subscriptions": {"type": "array", "items": schema_ref("Subscription")}
            }
        }),
    );
    s.insert("DeadLetter".into(), json!({
        "type": "object",
        "description": "An event whose every delivery attempt failed.",
        "required": ["event", "attempts", "enqueued", "failed", "lastStatusCode", "lastError"],
        "additionalProperties": false,
        "properties": {
            "event": schema_ref("CloudEvent"),
            "attempts": {"type": "integer", "minimum": 0, "description": "Attempts made."},
            "enqueued": {"type": "string", "format": "date-time", "description": "When the event was queued for the subscription."},
            "failed": {"type": "string", "format": "date-time", "description": "When the last attempt failed."},
            "lastStatusCode": {"type": ["integer", "null"], "description": "The endpoint's status code on the last attempt; null when it did not answer."},
            "lastError": {"type": ["string", "null"], "description": "Why the last attempt failed, when it did not answer (timeout, connection error)."}
        }
    }));
    s.insert(
        "DeadLetterList".into(),
        json!({
            "type": "object",
            "required": ["count", "deadLetters"],
            "additionalProperties": false,
            "properties": {
                "count": {"type": "integer", "minimum": 0},
                "deadLetters": {"type": "array", "items": schema_ref("DeadLetter")}
            }
        }),
    );
    s.insert("RedeliverResult".into(), json!({
        "type": "object",
        "required": ["redelivered"],
        "additionalProperties": false,
        "properties": {"redelivered": {"type": "integer", "minimum": 0, "description": "Dead letters queued again."}}
    }));
    s.insert("SigningSecret".into(), json!({
        "type": "object",
        "description": "A subscription's signing secret (Standard Webhooks): `whsec_` and the base64 of the HMAC key. Keep it secret; rotate it with `POST …/secret/rotate`.",
        "required": ["secret"],
        "additionalProperties": false,
        "properties": {"secret": {"type": "string", "pattern": SECRET_PATTERN}},
        "examples": [{"secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}]
    }));
    s.insert("Attempt".into(), attempt());
    s.insert(
        "AttemptLog".into(),
        json!({
            "type": "object",
            "description": "A page of the attempt log, oldest first.",
            "required": ["count", "attempts"],
            "additionalProperties": false,
            "properties": {
                "count": {"type": "integer", "minimum": 0, "description": "Attempts on this page."},
                "attempts": {"type": "array", "items": schema_ref("Attempt")},
                "next": {"type": "string", "format": "uri", "description": "The URL of the next page (`{EVENTS_BASE_URL}/events/api/v1/subscriptions/{id}/attempts?after=…&size=…`); only on a full page."}
            }
        }),
    );
    s.insert("EndpointHealth".into(), json!({
        "type": "object",
        "description": "How the subscription's endpoint is doing.",
        "required": ["status", "lastSuccessAt", "lastFailureAt", "failingSince", "queued", "deadLetters"],
        "additionalProperties": false,
        "properties": health_properties()
    }));
    s.insert("ReplayRequest".into(), replay_request());
    s.insert("ReplayResult".into(), json!({
        "type": "object",
        "required": ["requeued"],
        "additionalProperties": false,
        "properties": {
            "requeued": {"type": "integer", "minimum": 0, "description": "Events of the window that match the subscription and were queued again (each still authorized before delivery)."},
            "cursor": {"type": "string", "pattern": "^[0-9]+$", "description": "Present when the window holds more events than one call looks at: send it with the same request to go on."}
        }
    }));
    s.insert("LogEntryRequest".into(), log_entry_request());
    s.insert("TraceLogEntry".into(), trace_log_entry());
    s.insert(
        "TraceLog".into(),
        json!({
            "type": "object",
            "required": ["count", "entries"],
            "additionalProperties": false,
            "properties": {
                "count": {"type": "integer", "minimum": 0},
                "entries": {"type": "array", "items": schema_ref("TraceLogEntry")}
            }
        }),
    );
    s.insert("ResourcePolicyRequest".into(), resource_policy_request());
    s.insert("ResourcePolicy".into(), resource_policy());
    s.insert("PolicyRule".into(), policy_rule());
    s.insert("PartyRequest".into(), party_request());
    s.insert("Party".into(), party());
    s.insert("OrgRegistrationRequest".into(), json!({
        "type": "object",
        "description": "The organisation number an org code stands for.",
        "required": ["orgNumber"],
        "additionalProperties": false,
        "properties": {"orgNumber": {"type": "string", "pattern": "^[0-9]{9}$", "examples": ["991825827"]}}
    }));
    s.insert("OrgRegistration".into(), json!({
        "type": "object",
        "required": ["org", "orgNumber"],
        "additionalProperties": false,
        "properties": {
            "org": {"type": "string", "description": "The org code, as given when it was stored."},
            "orgNumber": {"type": "string", "pattern": "^[0-9]{9}$"}
        }
    }));
    s.insert("OpenIdConfiguration".into(), json!({
        "type": "object",
        "required": ["issuer", "jwks_uri"],
        "additionalProperties": false,
        "properties": {
            "issuer": {"type": "string", "format": "uri", "description": "`{EVENTS_BASE_URL}/authentication/api/v1/openid/`: the `iss` of exchanged tokens."},
            "jwks_uri": {"type": "string", "format": "uri"}
        }
    }));
    s.insert("Jwks".into(), jwks());
    Value::Object(s)
}

fn problem_details() -> Value {
    json!({
        "type": "object",
        "description": "An RFC 9457 problem document as ASP.NET writes it (content type `application/problem+json; charset=utf-8`), in this order: `type` (the RFC 9110 section of the status), `title`, `status`, `detail` (when there is one), `traceId`.",
        "required": ["type", "title", "status", "traceId"],
        "additionalProperties": false,
        "properties": {
            "type": {"type": "string", "format": "uri", "examples": ["https://tools.ietf.org/html/rfc9110#section-15.5.1"]},
            "title": {"type": "string", "examples": ["Bad Request"]},
            "status": {"type": "integer", "minimum": 400, "maximum": 599},
            "detail": {"type": "string", "examples": ["The 'after' parameter must be defined."]},
            "traceId": {"type": "string", "description": "Identifies the log line of the request (W3C trace-context form)."}
        }
    })
}

fn validation_problem_details() -> Value {
    json!({
        "type": "object",
        "description": "ASP.NET's validation problem: `errors` maps each field (a parameter, `RequestBody`, a JSON path such as `$.endPoint`, or `\"\"` for an empty body) to its messages.",
        "required": ["type", "title", "status", "errors", "traceId"],
        "additionalProperties": false,
        "properties": {
            "type": {"type": "string", "const": "https://tools.ietf.org/html/rfc9110#section-15.5.1"},
            "title": {"type": "string", "const": "One or more validation errors occurred."},
            "status": {"type": "integer", "const": 400},
            "errors": {
                "type": "object",
                "additionalProperties": {"type": "array", "items": {"type": "string"}, "minItems": 1}
            },
            "traceId": {"type": "string"}
        },
        "examples": [{
            "type": "https://tools.ietf.org/html/rfc9110#section-15.5.1",
            "title": "One or more validation errors occurred.",
            "status": 400,
            "errors": {"RequestBody": ["CloudEvent is missing required attributes: id (Parameter 'data')"]},
            "traceId": "00-5c3f0a9a1d2e4f6b8c7d9e0f1a2b3c4d-1a2b3c4d5e6f7a8b-00"
        }]
    })
}

/// The CloudEvent attributes with a fixed meaning, as written by the service.
fn cloud_event() -> Value {
    json!({
        "type": "object",
        "description": "A CloudEvent 1.0 in structured mode as the service writes it: `specversion` first, then the attributes in the order they were published (or, for app events, `id`, `time`, `source`, `subject`, `type`, `resource`, `resourceinstance`, `alternativesubject`), then `data` or `data_base64`. Extension attribute values are always strings (a published `true` or `42` reads back as `\"true\"`, `\"42\"`). The read APIs give `time` in UTC.",
        "required": ["specversion", "id", "source", "type"],
        "properties": {
            "specversion": {"type": "string", "const": "1.0"},
            "id": {"type": "string", "minLength": 1},
            "source": {"type": "string", "minLength": 1, "description": "A URI-reference; app events: `https://{org}.apps.{domain}/{org}/{app}/instances/{partyId}/{instanceGuid}`."},
            "type": {"type": "string", "minLength": 1},
            "subject": {"type": "string"},
            "time": {"type": "string", "format": "date-time"},
            "datacontenttype": {"type": "string"},
            "dataschema": {"type": "string", "pattern": DATASCHEMA_PATTERN},
            "data": {"description": "The payload: any JSON value (a string for `text/*` data)."},
            "data_base64": {"type": "string", "contentEncoding": "base64"},
            "resource": {"type": "string", "description": "Extension: the resource URN (app events: `urn:altinn:resource:app_{org}_{app}`)."},
            "resourceinstance": {"type": "string", "description": "Extension: app events: `{partyId}/{instanceGuid}`."},
            "alternativesubject": {"type": "string", "description": "Extension: e.g. `/person/{ssn}` or `/organisation/{orgNumber}`."}
        },
        "propertyNames": {"pattern": ATTRIBUTE_NAME_PATTERN},
        "additionalProperties": {"type": "string", "description": "Any other extension attribute."},
        "not": {"required": ["data", "data_base64"]},
        "examples": [{
            "specversion": "1.0",
            "id": "9f1c2f2e-6a1b-4c55-8f0e-1f2a3b4c5d6e",
            "source": "https://example.com/demo",
            "type": "demo.created",
            "resource": "urn:altinn:resource:ttd-demo",
            "subject": "/party/50001337",
            "time": "2026-11-24T10:00:00Z",
            "data": {"hello": "world"}
        }]
    })
}

/// What `CloudEvent::parse` accepts (`events_core::cloud_event`).
fn cloud_event_request() -> Value {
    let nullable_string = json!({"type": ["string", "null"]});
    json!({
        "type": "object",
        "description": "A CloudEvent 1.0 in structured mode, read by the rules of Altinn's .NET SDK: `specversion` must be the string `1.0`; `id`, `source` and `type` are required non-empty strings; the other known attributes are strings; attribute names are lower-case letters and digits; extension values may be strings, booleans or 32-bit integers (stored as their text); `null` means absent; `data` and `data_base64` (canonical base64) exclude each other; with a `datacontenttype`, JSON `data` needs a JSON media type (`application/json`, `*/*+json`) and string `data` a JSON or `text/*` type. Anything else is a `400` validation problem under `RequestBody` with the SDK's message.",
        "required": ["specversion", "id", "source", "type"],
        "properties": {
            "specversion": {"type": "string", "const": "1.0"},
            "id": {"type": "string", "minLength": 1},
            "source": {"type": "string", "minLength": 1, "description": "A URI-reference."},
            "type": {"type": "string", "minLength": 1},
            "subject": nullable_string,
            "time": {"type": ["string", "null"], "format": "date-time", "pattern": TIME_PATTERN, "description": "RFC 3339 with `Z` or an offset; fractional digits beyond the 7th are dropped."},
            "datacontenttype": nullable_string,
            "dataschema": {"type": ["string", "null"], "pattern": DATASCHEMA_PATTERN, "description": "An absolute URI."},
            "data": {"description": "Any JSON value."},
            "data_base64": {"type": ["string", "null"], "pattern": BASE64_PATTERN, "contentEncoding": "base64"}
        },
        "propertyNames": {"pattern": ATTRIBUTE_NAME_PATTERN},
        "additionalProperties": {
            "type": ["string", "boolean", "integer", "null"],
            "minimum": i32::MIN,
            "maximum": i32::MAX,
            "description": "An extension attribute (e.g. `resource`, `resourceinstance`, `alternativesubject`)."
        },
        "not": {
            "required": ["data", "data_base64"],
            "properties": {"data": {"not": {"type": "null"}}, "data_base64": {"type": "string"}}
        },
        "allOf": [
            {
                "if": {"required": ["data", "datacontenttype"], "properties": {"data": {"type": "string"}, "datacontenttype": {"type": "string"}}},
                "then": {"properties": {"datacontenttype": {"pattern": JSON_OR_TEXT_MEDIA_TYPE_PATTERN}}}
            },
            {
                "if": {"required": ["data", "datacontenttype"], "properties": {"data": {"type": ["object", "array", "number", "boolean"]}, "datacontenttype": {"type": "string"}}},
                "then": {"properties": {"datacontenttype": {"pattern": JSON_MEDIA_TYPE_PATTERN}}}
            }
        ]
    })
}

/// `events_core::app_event::AppEventRequest::parse` and `build_app_event`.
fn app_event_request() -> Value {
    json!({
        "type": "object",
        "description": "Altinn's `AppCloudEventRequestModel`. Property names are matched case-insensitively and unknown properties are ignored. `source`, `specversion`, `type` and `subject` must be non-empty (else the `400` problem `Missing parameter values: source, subject and type cannot be null`); `source` must be an absolute `scheme://authority` URI (`400` problem otherwise). `data`, `dataschema` and `contenttype` are checked for their JSON type and then dropped, as in Altinn. A value of the wrong JSON type, invalid JSON, a body that is not an object, or an empty body is a `400` validation problem.",
        "required": ["source", "specversion", "type", "subject"],
        "properties": {
            "source": {"type": "string", "pattern": absolute_uri_pattern(), "description": "The instance URL, `https://{org}.apps.{domain}/{org}/{app}/instances/{partyId}/{instanceGuid}` (an absolute URI with a host for http and https); its path must begin with the platform token's `/{org}/{app}`."},
            "specversion": {"type": "string", "minLength": 1, "description": "Required; its value is not used (the event is 1.0)."},
            "type": {"type": "string", "minLength": 1},
            "subject": {"type": "string", "minLength": 1, "description": "`/party/{partyId}`; also the `Location` of the answer."},
            "alternativesubject": {"type": ["string", "null"], "description": "Set on the event when non-empty, e.g. `/person/{ssn}`."},
            "data": {"description": "Ignored."},
            "dataschema": {"type": ["string", "null"], "description": "Ignored."},
            "contenttype": {"type": ["object", "null"], "description": "A .NET `ContentType` object in Altinn (a string fails binding there and here); ignored."}
        },
        "examples": [{
            "source": "https://ttd.apps.altinn.no/ttd/apps-test/instances/50015641/a72223a3-926b-4095-a2a6-bacc10815f2d",
            "specversion": "1.0",
            "type": "app.instance.created",
            "subject": "/party/50015641",
            "alternativesubject": "/person/01017512345"
        }]
    })
}

/// `events_core::subscription::SubscriptionRequest::parse` and `check_request`.
fn subscription_request() -> Value {
    json!({
        "type": "object",
        "description": "Altinn's `SubscriptionRequestModel`. Property names are matched case-insensitively and unknown properties are ignored; a value of the wrong JSON type, invalid JSON, a body that is not an object or an empty body is a `400` validation problem. The rules (`400` JSON strings, in this order): `endPoint` must be an absolute `https://` URL (`http://` with `WEBHOOK_ALLOW_PRIVATE=true`) the SSRF rule accepts; `sourceFilter` an absolute `https://` URL; `resourceFilter` a valid URN. App subscriptions (`resourceFilter` `urn:altinn:resource:app_…`, or a `sourceFilter` on the apps domain): callers without `urn:altinn:org` must give a subject (`subjectFilter`, or an `alternativeSubjectFilter` `/person/{ssn}`, `/org/{orgNumber}` or `/organisation/{orgNumber}` the party register resolves to `/party/{id}`); `sourceFilter` must be `…/{org}/{app}` and agree with `resourceFilter`. Generic subscriptions: `resourceFilter` is required, `sourceFilter` and `alternativeSubjectFilter` are not supported. `includeSubunits` needs a subject.",
        "required": ["endPoint"],
        "properties": {
            "endPoint": {"type": "string", "pattern": web_uri_pattern(true), "description": "The webhook URL: `https://` with a host (`http://` only with `WEBHOOK_ALLOW_PRIVATE=true`)."},
            "sourceFilter": {"type": ["string", "null"], "pattern": web_uri_pattern(false), "description": "App subscriptions: the app, `https://{org}.apps.{domain}/{org}/{app}`."},
            "resourceFilter": {"type": ["string", "null"], "pattern": URN_PATTERN, "description": "The resource (stored lower-cased)."},
            "subjectFilter": {"type": ["string", "null"], "description": "Only events with exactly this subject."},
            "alternativeSubjectFilter": {"type": ["string", "null"], "description": "App subscriptions only: resolved to a `subjectFilter` through the party register; never stored."},
            "typeFilter": {"type": ["string", "null"], "description": "Only events of exactly this type."},
            "includeSubunits": {"type": ["boolean", "null"], "description": "Also events about the subject's sub-units (needs a subject)."}
        },
        "examples": [{
            "endPoint": "https://example.com/webhook",
            "resourceFilter": "urn:altinn:resource:ttd-demo",
            "typeFilter": "demo.created"
        }]
    })
}

/// The members of `events_core::subscription::Subscription::to_json`.
const SUBSCRIPTION_REQUIRED: [&str; 8] = [
    "id",
    "endPoint",
    "resourceFilter",
    "consumer",
    "createdBy",
    "created",
    "validated",
    "includeSubunits",
];

fn subscription_properties() -> Map<String, Value> {
    let properties = json!({
        "id": {"type": "integer", "minimum": 1},
        "endPoint": {"type": "string", "format": "uri", "description": "Normalised (lower-case scheme and host, `/` for an empty path)."},
        "sourceFilter": {"type": "string", "format": "uri"},
        "resourceFilter": {"type": "string"},
        "subjectFilter": {"type": "string"},
        "typeFilter": {"type": "string"},
        "consumer": {"type": "string", "pattern": "^/(org|user|systemuser|organisation)/", "description": "Who receives the events: the creator."},
        "createdBy": {"type": "string", "pattern": "^/(org|user|systemuser|organisation)/"},
        "created": {"type": "string", "format": "date-time"},
        "validated": {"type": "boolean", "description": "Whether the endpoint has answered the validation event with a 2xx."},
        "includeSubunits": {"type": "boolean"}
    });
    properties.as_object().cloned().unwrap_or_default()
}

/// `Subscription::to_json`, with the endpoint's health (`routes::subscriptions::get`, `list`).
fn subscription() -> Value {
    let mut properties = subscription_properties();
    properties.extend(health_properties());
    json!({
        "type": "object",
        "description": "A subscription as Altinn writes it: camelCase, absent values omitted, in this order. This service adds the endpoint's health (`status` to `deadLetters`, as in `EndpointHealth`) in `GET /subscriptions` and `GET /subscriptions/{id}` whenever the subscription's delivery is live (normally always; never in the answer of `PUT …/validate/{id}`).",
        "required": SUBSCRIPTION_REQUIRED,
        "additionalProperties": false,
        "properties": properties,
        "examples": [{
            "id": 1,
            "endPoint": "https://example.com/webhook",
            "resourceFilter": "urn:altinn:resource:ttd-demo",
            "typeFilter": "demo.created",
            "consumer": "/org/ttd",
            "createdBy": "/org/ttd",
            "created": "2026-11-24T10:00:00.123Z",
            "validated": true,
            "includeSubunits": false,
            "status": "active",
            "lastSuccessAt": "2026-11-24T10:05:00.250Z",
            "lastFailureAt": null,
            "failingSince": null,
            "queued": 0,
            "deadLetters": 0
        }]
    })
}

/// The answer of `POST /subscriptions`: the subscription and its signing secret.
fn created_subscription() -> Value {
    let mut properties = subscription_properties();
    properties.insert(
        "secret".into(),
        json!({"type": "string", "pattern": SECRET_PATTERN, "description": "This service's addition: the secret the subscription's deliveries are signed with (see `SigningSecret`). Identical re-POSTs answer the same secret; later ones come from `GET …/secret` and `POST …/secret/rotate`."}),
    );
    let mut required = SUBSCRIPTION_REQUIRED.to_vec();
    required.push("secret");
    json!({
        "type": "object",
        "description": "A subscription as `POST /subscriptions` answers it: `Subscription`'s members (without the health) and `secret`.",
        "required": required,
        "additionalProperties": false,
        "properties": properties
    })
}

/// `worker::objects::delivery::HealthView`.
fn health_properties() -> Map<String, Value> {
    let time = |description: &str| json!({"type": ["string", "null"], "format": "date-time", "description": description});
    let properties = json!({
        "status": {
            "type": "string",
            "enum": ["active", "disabled"],
            "description": format!("`disabled` once the endpoint has failed every attempt for `DISABLE_AFTER_HOURS` (default {DEFAULT_DISABLE_AFTER_HOURS}): delivery pauses and events keep queueing until `POST …/enable`.")
        },
        "lastSuccessAt": time("The last attempt the endpoint answered with a 2xx; null before the first."),
        "lastFailureAt": time("The last failed attempt; null before the first."),
        "failingSince": time("The first failure since the last success (or since the subscription was enabled); null while the endpoint is not failing."),
        "queued": {"type": "integer", "minimum": 0, "description": "Events queued for delivery."},
        "deadLetters": {"type": "integer", "minimum": 0, "description": "Events whose every attempt failed (`GET …/deadletters`)."}
    });
    properties.as_object().cloned().unwrap_or_default()
}

/// `worker::objects::delivery::AttemptView`.
fn attempt() -> Value {
    json!({
        "type": "object",
        "description": "One webhook POST of one event.",
        "required": ["eventId", "attempt", "time", "outcome", "latencyMs"],
        "additionalProperties": false,
        "properties": {
            "eventId": {"type": "string", "description": "The CloudEvent's `id`."},
            "attempt": {"type": "integer", "minimum": 1, "description": "Which attempt at this event (1 for the first)."},
            "time": {"type": "string", "format": "date-time", "description": "When the POST was sent."},
            "outcome": {"type": "string", "enum": ["success", "http_error", "timeout", "connection_error"], "description": "`success`: a 2xx; `http_error`: any other status; `timeout`: no answer within `WEBHOOK_TIMEOUT_SECONDS`; `connection_error`: no answer at all."},
            "statusCode": {"type": "integer", "description": "The endpoint's status code; absent when it did not answer."},
            "latencyMs": {"type": "integer", "minimum": 0, "description": "From sending the POST to its outcome, in milliseconds."},
            "response": {"type": "string", "description": format!("The start of the answer's body: at most {RESPONSE_PREFIX_BYTES} bytes, cut on a character boundary, invalid UTF-8 replaced.")},
            "nextAttemptAt": {"type": "string", "format": "date-time", "description": "When the event is attempted again; absent when no retry is scheduled (delivered, dead-lettered or paused)."},
            "note": {"type": "string", "description": "Why delivery paused after this attempt (the subscription was disabled)."}
        }
    })
}

/// `events_core::replay::ReplayRequest::parse`.
fn replay_request() -> Value {
    let time = |description: &str| json!({"type": "string", "format": "date-time", "pattern": TIME_PATTERN, "description": description});
    json!({
        "type": "object",
        "description": "Which stored events to replay: `from` (and optionally `to`), or `after` (and optionally `to`); plus the `cursor` of a previous answer to go on. Times are RFC 3339 with `Z` or an offset and compare with when this service stored each event, both ends inclusive. `null` counts as absent; unknown members, both or neither of `from` and `after`, a `from` after `to` or a malformed value are a `400` problem saying which.",
        "additionalProperties": false,
        "properties": {
            "from": time("Events stored at or after this instant."),
            "after": {"type": "string", "minLength": 1, "description": "Events stored after the stored event with this id (the first, if several of the resource's events share it); one the resource's log does not hold is a `400` problem."},
            "to": time("Events stored at or before this instant (default: when the call started)."),
            "cursor": {"type": "string", "pattern": "^[0-9]+$", "description": "The `cursor` of the previous answer, to go on where it stopped."}
        },
        "oneOf": [{"required": ["from"]}, {"required": ["after"]}],
        "examples": [
            {"from": "2026-11-24T10:00:00Z", "to": "2026-11-24T12:00:00Z"},
            {"after": "9f1c2f2e-6a1b-4c55-8f0e-1f2a3b4c5d6e"}
        ]
    })
}

/// `events_core::trace::LogEntry::parse`.
fn log_entry_request() -> Value {
    let nullable_string = json!({"type": ["string", "null"]});
    json!({
        "type": "object",
        "description": "Altinn's `LogEntryDto`. Property names are matched case-insensitively; unknown properties are ignored; `null` means absent. A body that is not a JSON object or breaks a rule is a `400` problem naming the property.",
        "required": ["cloudEventId", "endpoint", "statusCode", "subscriptionId"],
        "properties": {
            "cloudEventId": {"type": "string", "pattern": GUID_PATTERN, "description": "The event's id, a GUID."},
            "cloudEventResource": nullable_string,
            "cloudEventType": nullable_string,
            "subscriptionId": {"type": "integer", "description": "The subscription the webhook belongs to (required by this service)."},
            "consumer": nullable_string,
            "endpoint": {"type": "string", "pattern": absolute_uri_pattern(), "description": "The webhook URL, an absolute URI (with a host for http and https)."},
            "statusCode": {"type": "integer", "minimum": 100, "maximum": 599},
            "isSuccessStatusCode": {"type": ["boolean", "null"]}
        }
    })
}

/// `worker::objects::delivery::TraceRow`.
fn trace_log_entry() -> Value {
    json!({
        "type": "object",
        "description": "A trace-log row (Altinn's `events.trace`). Every member is present; those that do not apply are `null`.",
        "required": ["time", "activity", "cloudEventId", "resource", "eventType", "consumer", "endpoint", "subscriptionId", "statusCode"],
        "additionalProperties": false,
        "properties": {
            "time": {"type": "string", "format": "date-time"},
            "activity": {"type": "string", "enum": ["Registered", "WebhookPostResponse", "OutboundQueue", "Unauthorized", "EndpointValidationSuccess", "EndpointValidationFailed", "EndpointDisabled", "EndpointEnabled"], "description": "Altinn's activities, and this service's `EndpointDisabled` (delivery paused: the endpoint failed every attempt for `DISABLE_AFTER_HOURS`) and `EndpointEnabled` (the subscriber resumed it)."},
            "cloudEventId": {"type": ["string", "null"]},
            "resource": {"type": ["string", "null"]},
            "eventType": {"type": ["string", "null"]},
            "consumer": {"type": ["string", "null"]},
            "endpoint": {"type": ["string", "null"]},
            "subscriptionId": {"type": ["integer", "null"]},
            "statusCode": {"type": ["integer", "null"]}
        }
    })
}

/// `events_core::authz::builtin::ResourcePolicy`.
fn resource_policy_request() -> Value {
    json!({
        "type": "object",
        "description": "A resource's rule document for the built-in PDP; both members are optional and unknown members are refused.",
        "additionalProperties": false,
        "properties": {
            "owner": {"type": ["string", "null"], "minLength": 1, "description": "The org code that owns the resource (may publish, subscribe and read)."},
            "rules": {"type": "array", "items": schema_ref("PolicyRule")}
        },
        "examples": [{
            "owner": "ttd",
            "rules": [{"actions": ["subscribe", "read"], "subjects": [{"urn:altinn:org": "digdir"}, {"urn:altinn:rolecode": "DAGL"}]}]
        }]
    })
}

/// `ResourcePolicy::to_json`.
fn resource_policy() -> Value {
    json!({
        "type": "object",
        "description": "A stored rule document: `owner` is omitted when absent, `rules` is always present.",
        "required": ["rules"],
        "additionalProperties": false,
        "properties": {
            "owner": {"type": "string", "minLength": 1},
            "rules": {"type": "array", "items": schema_ref("PolicyRule")}
        }
    })
}

fn policy_rule() -> Value {
    json!({
        "type": "object",
        "description": "Grants `actions` to callers matching any of `subjects`; a matcher matches when the caller has every attribute it lists with that value.",
        "required": ["actions", "subjects"],
        "additionalProperties": false,
        "properties": {
            "actions": {"type": "array", "minItems": 1, "items": {"type": "string", "enum": ["publish", "subscribe", "read"]}},
            "subjects": {
                "type": "array",
                "minItems": 1,
                "items": {
                    "type": "object",
                    "minProperties": 1,
                    "propertyNames": {"enum": RULE_ATTRIBUTES},
                    "additionalProperties": {"type": "string"}
                }
            }
        }
    })
}

fn party_request() -> Value {
    json!({
        "type": "object",
        "description": "A party register entry; every member is optional and unknown members are refused. `partyId`, when given, must be 0 or the id in the URL.",
        "additionalProperties": false,
        "properties": {
            "partyId": {"type": "integer", "format": "int64"},
            "partyUuid": {"type": ["string", "null"], "pattern": GUID_PATTERN},
            "personIdentifier": {"type": ["string", "null"], "pattern": "^[0-9]+$", "description": "National identity number."},
            "organizationIdentifier": {"type": ["string", "null"], "pattern": "^[0-9]+$", "description": "Organisation number."},
            "mainUnitPartyId": {"type": ["integer", "null"], "format": "int64", "description": "The party of the main unit, for `includeSubunits`."},
            "roles": {
                "type": "object",
                "description": "Role codes (e.g. `DAGL`, `PRIV`) per user id that user holds for this party.",
                "additionalProperties": {"type": "array", "items": {"type": "string"}}
            }
        },
        "examples": [{"organizationIdentifier": "912345678", "roles": {"1337": ["DAGL"]}}]
    })
}

fn party() -> Value {
    json!({
        "type": "object",
        "description": "A stored party register entry: absent members and empty `roles` are omitted; `partyUuid` is lower-case and hyphenated.",
        "required": ["partyId"],
        "additionalProperties": false,
        "properties": {
            "partyId": {"type": "integer", "format": "int64", "minimum": 1},
            "partyUuid": {"type": "string", "format": "uuid"},
            "personIdentifier": {"type": "string", "pattern": "^[0-9]+$"},
            "organizationIdentifier": {"type": "string", "pattern": "^[0-9]+$"},
            "mainUnitPartyId": {"type": "integer", "format": "int64"},
            "roles": {
                "type": "object",
                "minProperties": 1,
                "additionalProperties": {"type": "array", "items": {"type": "string"}}
            }
        }
    })
}

fn jwks() -> Value {
    json!({
        "type": "object",
        "description": "The public key of `TOKEN_SIGNING_JWK` (RFC 7517).",
        "required": ["keys"],
        "additionalProperties": false,
        "properties": {
            "keys": {
                "type": "array",
                "minItems": 1,
                "maxItems": 1,
                "items": {
                    "oneOf": [
                        {
                            "type": "object",
                            "required": ["kty", "n", "e", "kid", "alg", "use"],
                            "additionalProperties": false,
                            "properties": {
                                "kty": {"const": "RSA"}, "n": {"type": "string"}, "e": {"type": "string"},
                                "kid": {"type": "string"}, "alg": {"const": "RS256"}, "use": {"const": "sig"}
                            }
                        },
                        {
                            "type": "object",
                            "required": ["kty", "crv", "x", "y", "kid", "alg", "use"],
                            "additionalProperties": false,
                            "properties": {
                                "kty": {"const": "EC"}, "crv": {"const": "P-256"}, "x": {"type": "string"}, "y": {"type": "string"},
                                "kid": {"type": "string"}, "alg": {"const": "ES256"}, "use": {"const": "sig"}
                            }
                        }
                    ]
                }
            }
        }
    })
}

const _: () = assert!(
    MAX_DEPTH == 64 && MAX_BODY_BYTES == 1024 * 1024,
    "BODY_LIMIT names these"
);

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};
    use std::path::PathBuf;

    use super::*;
    use crate::routing::{resolve, segments};

    fn committed_path() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(FILE)
    }

    const METHODS: [(&str, Verb); 5] = [
        ("get", Verb::Get),
        ("head", Verb::Head),
        ("post", Verb::Post),
        ("put", Verb::Put),
        ("delete", Verb::Delete),
    ];

    /// Every operation of a document: (path, method, operation).
    fn operations(doc: &Value) -> Vec<(String, String, Value)> {
        let mut out = Vec::new();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                out.push((path.clone(), method.clone(), op.clone()));
            }
        }
        out
    }

    /// `template` with each `{name}` replaced by the example of the path parameter `name`.
    fn sample_path(template: &str, op: &Value) -> Result<String, String> {
        let mut path = template.to_owned();
        while let Some(start) = path.find('{') {
            let end = path[start..].find('}').ok_or("unclosed {")? + start;
            let name = &path[start + 1..end];
            let param = op["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|p| p["in"] == "path" && p["name"] == name)
                .ok_or_else(|| format!("{template}: no path parameter {name}"))?;
            if param["required"] != true {
                return Err(format!("{template}: path parameter {name} is not required"));
            }
            let example = match &param["example"] {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                _ => return Err(format!("{template}: path parameter {name} has no example")),
            };
            path.replace_range(start..=end, &example);
        }
        Ok(path)
    }

    /// Every `$ref` in a value.
    fn refs(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                for (k, x) in m {
                    if k == "$ref" {
                        out.push(x.as_str().unwrap_or_default().to_owned());
                    } else {
                        refs(x, out);
                    }
                }
            }
            Value::Array(a) => a.iter().for_each(|x| refs(x, out)),
            _ => {}
        }
    }

    /// Operations that cannot answer any client error (a 405 for another method is not the
    /// operation's): they are exempt from "at least one 4xx", and must have none.
    const NO_CLIENT_ERROR: [&str; 4] = [
        "getHealth",
        "headHealth",
        "getOpenApiDocument",
        "getApiReference",
    ];

    /// Everything wrong with `doc` as the document of `ROUTES` (empty when it is right).
    fn problems(doc: &Value) -> Vec<String> {
        let mut problems = Vec::new();
        let mut p = |s: String| problems.push(s);

        // Paths: each route's template, with exactly the route's methods, resolving back to it.
        let mut templates = BTreeSet::new();
        for route in ROUTES {
            let template = route_doc(*route).template;
            templates.insert(template.to_owned());
            let Some(item) = doc["paths"][template].as_object() else {
                p(format!("{route:?}: {template} is not documented"));
                continue;
            };
            let documented: BTreeSet<&str> = item.keys().map(String::as_str).collect();
            let served: BTreeSet<&str> = route.methods().iter().map(|v| method_key(*v)).collect();
            if documented != served {
                p(format!(
                    "{template}: documents {documented:?}, serves {served:?}"
                ));
            }
            for (method, op) in item {
                let Some((_, verb)) = METHODS.iter().find(|(m, _)| m == method) else {
                    p(format!("{template}: unknown method {method}"));
                    continue;
                };
                match sample_path(template, op) {
                    Err(e) => p(e),
                    Ok(path) => match resolve(&segments(&path), &method.to_uppercase()) {
                        Ok((r, v)) if r == *route && v == *verb => {}
                        other => p(format!(
                            "{method} {path} resolves to {other:?}, not {route:?}"
                        )),
                    },
                }
            }
        }
        for path in doc["paths"].as_object().unwrap().keys() {
            if !templates.contains(path) {
                p(format!("{path} is documented but no route's"));
            }
        }

        // Tags.
        let declared: BTreeMap<String, String> = doc["tags"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| {
                let name = t["name"].as_str().unwrap_or_default().to_owned();
                let description = t["description"].as_str().unwrap_or_default().to_owned();
                (name, description)
            })
            .collect();
        for (name, description) in &declared {
            let private = PRIVATE_TAGS.contains(&name.as_str());
            if private != (description == PRIVATE_API) {
                p(format!(
                    "tag {name}: private {private}, description {description:?}"
                ));
            }
        }

        // Operations.
        let anonymous: BTreeMap<&str, bool> = ROUTES
            .iter()
            .map(|r| (route_doc(*r).template, r.anonymous()))
            .collect();
        let schemes = doc["components"]["securitySchemes"].as_object().unwrap();
        let mut ids = BTreeSet::new();
        for (path, method, op) in operations(doc) {
            let at = format!("{method} {path}");
            let id = op["operationId"].as_str().unwrap_or_default();
            if id.is_empty() || !ids.insert(id.to_owned()) {
                p(format!("{at}: operationId {id:?} missing or not unique"));
            }
            if op["summary"].as_str().unwrap_or_default().is_empty() {
                p(format!("{at}: no summary"));
            }
            let tags: Vec<&str> = op["tags"]
                .as_array()
                .map(|t| t.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            if tags.is_empty() {
                p(format!("{at}: no tags"));
            }
            for t in &tags {
                if !declared.contains_key(*t) {
                    p(format!("{at}: tag {t} is not declared"));
                }
            }
            let private_tags = tags.iter().filter(|t| PRIVATE_TAGS.contains(t)).count();
            let marked = op.get("x-altinn-private") == Some(&Value::Bool(true));
            if marked && private_tags != tags.len() {
                p(format!("{at}: x-altinn-private, but tagged {tags:?}"));
            }
            if !marked && (private_tags > 0 || op.get("x-altinn-private").is_some()) {
                p(format!(
                    "{at}: tagged {tags:?} without x-altinn-private: true"
                ));
            }

            // Security: present everywhere; empty (or only the Maskinporten token) exactly for
            // the routes that need no Altinn or platform credentials.
            let Some(security) = op["security"].as_array() else {
                p(format!("{at}: no security"));
                continue;
            };
            for requirement in security {
                for (scheme, roles) in requirement.as_object().unwrap() {
                    if !schemes.contains_key(scheme) {
                        p(format!("{at}: unknown security scheme {scheme}"));
                    }
                    for role in roles.as_array().unwrap() {
                        let known = [SCOPE_PUBLISH, SCOPE_SUBSCRIBE];
                        if ![BEARER, COOKIE].contains(&scheme.as_str())
                            || !known.iter().any(|k| role == k)
                        {
                            p(format!("{at}: role {role} on {scheme}"));
                        }
                    }
                }
            }
            let needs_credentials = security.iter().any(|r| {
                r.as_object()
                    .unwrap()
                    .keys()
                    .any(|k| [BEARER, COOKIE, PLATFORM].contains(&k.as_str()))
            });
            let only_credentials = !security.is_empty()
                && security.iter().all(|r| {
                    r.as_object()
                        .unwrap()
                        .keys()
                        .any(|k| [BEARER, COOKIE, PLATFORM].contains(&k.as_str()))
                });
            match anonymous.get(path.as_str()) {
                Some(true) if needs_credentials => p(format!(
                    "{at}: anonymous route with credentials {security:?}"
                )),
                Some(true) if !security.is_empty() && id != "exchangeMaskinportenToken" => {
                    p(format!("{at}: anonymous route, security is not []"))
                }
                Some(false) if !only_credentials => {
                    p(format!("{at}: needs credentials, security is {security:?}"))
                }
                _ => {}
            }

            // Responses.
            let responses = op["responses"].as_object().unwrap();
            let client_errors = responses.keys().filter(|s| s.starts_with('4')).count();
            if NO_CLIENT_ERROR.contains(&id) {
                if client_errors > 0 {
                    p(format!("{at}: listed as answering no 4xx"));
                }
            } else if client_errors == 0 {
                p(format!("{at}: no 4xx"));
            }
            if !responses.contains_key("500") {
                p(format!("{at}: no 500 (a malformed setting)"));
            }
            if op.get("requestBody").is_some() && !responses.contains_key("415") {
                p(format!("{at}: reads a body, no 415"));
            }
            for (status, r) in responses {
                let resolved = match r["$ref"].as_str() {
                    Some(reference) => {
                        let name = reference.trim_start_matches("#/components/responses/");
                        &doc["components"]["responses"][name]
                    }
                    None => r,
                };
                if resolved["description"]
                    .as_str()
                    .unwrap_or_default()
                    .is_empty()
                {
                    p(format!("{at} {status}: no description"));
                }
            }
        }

        // Every reference resolves; every component is used.
        let mut all = Vec::new();
        refs(doc, &mut all);
        for reference in &all {
            let mut target = doc;
            for part in reference.trim_start_matches("#/").split('/') {
                target = &target[part];
            }
            if target.is_null() {
                p(format!("{reference} does not resolve"));
            }
        }
        for kind in ["schemas", "responses", "parameters", "headers"] {
            for name in doc["components"][kind].as_object().unwrap().keys() {
                let reference = format!("#/components/{kind}/{name}");
                if !all.contains(&reference) {
                    p(format!("{reference} is never used"));
                }
            }
        }
        problems
    }

    #[test]
    fn committed_document_is_the_generated_one() {
        let generated = document_text();
        let path = committed_path();
        if std::env::var_os("UPDATE_OPENAPI").is_some() {
            std::fs::write(&path, &generated).unwrap();
            eprintln!("wrote {}", path.display());
            return;
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        if committed != generated {
            let line = committed
                .lines()
                .zip(generated.lines())
                .position(|(a, b)| a != b)
                .map_or(
                    committed.lines().count().min(generated.lines().count()),
                    |i| i,
                );
            panic!(
                "worker/{FILE} is not what the generator in worker/src/openapi.rs writes (first \
                 difference at line {}). Rewrite it with `UPDATE_OPENAPI=1 cargo test -p \
                 altinn-events-worker --lib openapi` and commit it.",
                line + 1
            );
        }
        assert!(
            crate::routes::reference::DOCUMENT == committed,
            "the served document (include_str!) is stale: rebuild"
        );
    }

    #[test]
    fn document_describes_the_route_table() {
        let problems = problems(&document());
        assert!(problems.is_empty(), "{problems:#?}");
    }

    #[test]
    fn every_operation_is_counted() {
        let doc = document();
        let served: usize = ROUTES.iter().map(|r| r.methods().len()).sum();
        assert_eq!(operations(&doc).len(), served);
        assert_eq!(doc["paths"].as_object().unwrap().len(), ROUTES.len());
    }

    /// The checks above fail on a document that is wrong in each way they look for.
    #[test]
    fn the_checks_catch_a_wrong_document() {
        type Mutation = (&'static str, fn(&mut Value));
        let mutations: [Mutation; 12] = [
            ("an operation without security", |d| {
                d["paths"]["/events/api/v1/events"]["get"]
                    .as_object_mut()
                    .unwrap()
                    .remove("security");
            }),
            ("credentials dropped", |d| {
                d["paths"]["/events/api/v1/subscriptions"]["get"]["security"] = json!([]);
            }),
            ("an anonymous route with a token", |d| {
                d["paths"]["/health"]["get"]["security"] = json!([{ "Bearer": [] }]);
            }),
            ("a method the route does not serve", |d| {
                d["paths"]["/health"]["post"] = d["paths"]["/health"]["get"].clone();
            }),
            ("a method the route serves, undocumented", |d| {
                d["paths"]["/events/api/v1/subscriptions/{id}"]
                    .as_object_mut()
                    .unwrap()
                    .remove("delete");
            }),
            ("a path no route has", |d| {
                let item = d["paths"]["/events/api/v1/subscriptions/{id}"].clone();
                d["paths"]["/events/api/v1/subscription/{id}"] = item;
            }),
            ("an example that resolves elsewhere", |d| {
                d["paths"]["/events/api/v1/subscriptions/{id}/deadletters"]["get"]["parameters"]
                    [0]["example"] = json!("validate");
            }),
            ("a public operation marked private", |d| {
                d["paths"]["/events/api/v1/events"]["post"]["x-altinn-private"] = json!(true);
            }),
            ("a private operation not marked", |d| {
                d["paths"]["/events/api/v1/inbound"]["post"]
                    .as_object_mut()
                    .unwrap()
                    .remove("x-altinn-private");
            }),
            ("no 4xx", |d| {
                let r = d["paths"]["/events/api/v1/subscriptions"]["get"]["responses"]
                    .as_object_mut()
                    .unwrap();
                r.retain(|s, _| !s.starts_with('4'));
            }),
            ("a duplicate operation id", |d| {
                d["paths"]["/events/api/v1/events"]["get"]["operationId"] = json!("publishEvent");
            }),
            ("a dangling reference", |d| {
                d["paths"]["/events/api/v1/events"]["get"]["responses"]["200"] =
                    json!({"$ref": "#/components/responses/Nothing"});
            }),
        ];
        for (what, mutate) in mutations {
            let mut doc = document();
            mutate(&mut doc);
            assert!(!problems(&doc).is_empty(), "not caught: {what}");
        }
    }

    #[test]
    fn examples_are_what_the_parsers_accept() {
        use events_core::app_event::AppEventRequest;
        use events_core::authz::builtin::{Party, ResourcePolicy};
        use events_core::exchange::OrgRegistration;
        use events_core::subscription::SubscriptionRequest;
        use events_core::CloudEvent;

        let doc = document();
        let example = |name: &str| {
            serde_json::to_vec(&doc["components"]["schemas"][name]["examples"][0]).unwrap()
        };
        let event = CloudEvent::parse(&example("GenericCloudEventRequest")).unwrap();
        events_core::publish::validate_generic_event(&event).unwrap();
        // What the read APIs write back is the output schema's example.
        let written: Value = serde_json::from_str(&event.to_json_utc()).unwrap();
        assert_eq!(
            written,
            doc["components"]["schemas"]["CloudEvent"]["examples"][0]
        );
        let app = AppEventRequest::parse(&example("AppEventRequest")).unwrap();
        assert_eq!(app.subject.as_deref(), Some("/party/50015641"));
        let sub = SubscriptionRequest::parse(&example("SubscriptionRequest")).unwrap();
        assert_eq!(
            sub.end_point.as_deref(),
            Some("https://example.com/webhook")
        );
        let policy = ResourcePolicy::parse(&example("ResourcePolicyRequest")).unwrap();
        let stored: Value = serde_json::from_str(&policy.to_json()).unwrap();
        assert_eq!(
            stored,
            doc["components"]["schemas"]["ResourcePolicyRequest"]["examples"][0]
        );
        Party::parse(1, &example("PartyRequest")).unwrap();
        OrgRegistration::parse("ttd", &example("OrgRegistrationRequest")).unwrap_err();
        let org = doc["components"]["schemas"]["OrgRegistrationRequest"]["properties"]["orgNumber"]
            ["examples"][0]
            .clone();
        OrgRegistration::parse("ttd", json!({ "orgNumber": org }).to_string().as_bytes()).unwrap();
        for replay in doc["components"]["schemas"]["ReplayRequest"]["examples"]
            .as_array()
            .unwrap()
        {
            events_core::replay::ReplayRequest::parse(replay.to_string().as_bytes()).unwrap();
        }
        let secret = &doc["components"]["schemas"]["SigningSecret"]["examples"][0]["secret"];
        events_core::signing::Secret::parse(secret.as_str().unwrap()).unwrap();
    }

    /// A small JSON Schema check (types, required, properties, additionalProperties, items,
    /// const, enum, oneOf, allOf, `$ref`; not patterns or formats): what is wrong with `v`.
    fn check(doc: &Value, schema: &Value, v: &Value, at: &str, out: &mut Vec<String>) {
        if let Some(r) = schema["$ref"].as_str() {
            let name = r.trim_start_matches("#/components/schemas/");
            return check(doc, &doc["components"]["schemas"][name], v, at, out);
        }
        let type_name = match v {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::Array(_) => "array",
            Value::Object(_) => "object",
        };
        let types: Vec<&str> = match &schema["type"] {
            Value::String(t) => vec![t.as_str()],
            Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
            _ => vec![],
        };
        let number_ok = type_name == "integer" && types.contains(&"number");
        if !types.is_empty() && !types.contains(&type_name) && !number_ok {
            out.push(format!("{at}: {type_name}, expected {types:?}"));
            return;
        }
        if !schema["const"].is_null() && schema["const"] != *v {
            out.push(format!("{at}: {v}, expected {}", schema["const"]));
        }
        if let Some(options) = schema["enum"].as_array() {
            if !options.contains(v) {
                out.push(format!("{at}: {v} is not one of {options:?}"));
            }
        }
        for part in schema["allOf"].as_array().into_iter().flatten() {
            check(doc, part, v, at, out);
        }
        if let Some(options) = schema["oneOf"].as_array() {
            let fits = options
                .iter()
                .filter(|o| {
                    let mut e = Vec::new();
                    check(doc, o, v, at, &mut e);
                    e.is_empty()
                })
                .count();
            if fits != 1 {
                out.push(format!("{at}: fits {fits} of oneOf"));
            }
        }
        if let Value::Object(m) = v {
            for r in schema["required"].as_array().into_iter().flatten() {
                if !m.contains_key(r.as_str().unwrap_or_default()) {
                    out.push(format!("{at}: {r} missing"));
                }
            }
            for (k, x) in m {
                let at = format!("{at}.{k}");
                match (&schema["properties"][k], &schema["additionalProperties"]) {
                    (Value::Null, Value::Bool(false)) => out.push(format!("{at}: not allowed")),
                    (Value::Null, Value::Object(_)) => {
                        check(doc, &schema["additionalProperties"], x, &at, out)
                    }
                    (Value::Null, _) => {}
                    (p, _) => check(doc, p, x, &at, out),
                }
            }
        }
        if let Value::Array(items) = v {
            for (i, x) in items.iter().enumerate() {
                if !schema["items"].is_null() {
                    check(doc, &schema["items"], x, &format!("{at}[{i}]"), out);
                }
            }
        }
    }

    fn conforms(doc: &Value, name: &str, v: &Value) {
        let mut out = Vec::new();
        check(doc, &schema_ref(name), v, name, &mut out);
        assert!(out.is_empty(), "{v}\n{out:#?}");
    }

    /// `object` with the members of `extra` added, as `routes::controls::with_fields` writes it.
    fn with_fields(object: &Value, extra: &impl serde::Serialize) -> Value {
        let mut object = object.clone();
        if let (Some(o), Value::Object(fields)) =
            (object.as_object_mut(), serde_json::to_value(extra).unwrap())
        {
            o.extend(fields);
        }
        object
    }

    /// The writers of the service write what the response schemas say.
    #[test]
    fn writers_write_what_the_schemas_say() {
        use crate::objects::delivery::{
            AttemptView, DeadLetter, HealthView, SecretReply, TraceRow,
        };
        use crate::objects::event_log::ReplayReply;
        use events_core::authz::builtin::Party;
        use events_core::delivery_queue::{AttemptOutcome, Health};
        use events_core::exchange::{openid_configuration, OrgRegistration, SigningKey};
        use events_core::signing::{Secret, SECRET_BYTES};
        use events_core::subscription::{list_json, Subscription};
        use events_core::time::UnixTime;

        let doc = document();
        let parse = |s: &str| -> Value { serde_json::from_str(s).unwrap() };
        let mut sub = Subscription {
            id: events_core::subscription::SubscriptionId(7),
            end_point: "https://example.com/hook".into(),
            source_filter: None,
            resource_filter: "urn:altinn:resource:ttd-demo".into(),
            subject_filter: None,
            type_filter: None,
            consumer: "/org/ttd".into(),
            created_by: "/org/ttd".into(),
            created: "2026-11-24T10:00:00.123Z".into(),
            validated: false,
            include_subunits: false,
        };
        conforms(&doc, "Subscription", &parse(&sub.to_json()));
        sub.source_filter = Some("https://ttd.apps.altinn.no/ttd/app".into());
        sub.subject_filter = Some("/party/1".into());
        sub.type_filter = Some("t".into());
        conforms(&doc, "Subscription", &parse(&sub.to_json()));
        conforms(
            &doc,
            "SubscriptionList",
            &parse(&list_json(&[sub.clone(), sub.clone()])),
        );
        conforms(&doc, "SubscriptionList", &parse(&list_json(&[])));

        // The health beside a subscription (GET, list), the secret beside a new one (201).
        let at = |ms: i64| Some(UnixTime::from_millis(ms));
        let failing = Health {
            last_success_at: at(1_796_000_000_000),
            last_failure_at: at(1_796_040_000_123),
            failing_since: at(1_796_030_000_000),
            disabled_at: at(1_796_040_000_123),
        };
        let healths = [
            HealthView::new(Health::default(), 0, 0),
            HealthView::new(failing, 3, 1),
        ];
        assert_eq!(healths[1].status, "disabled");
        for health in &healths {
            conforms(
                &doc,
                "EndpointHealth",
                &serde_json::to_value(health).unwrap(),
            );
            let item = with_fields(&parse(&sub.to_json()), health);
            conforms(&doc, "Subscription", &item);
            conforms(
                &doc,
                "SubscriptionList",
                &json!({"count": 2, "subscriptions": [item, parse(&sub.to_json())]}),
            );
        }
        let secret = SecretReply {
            secret: Secret::from_random([9; SECRET_BYTES]),
        };
        conforms(
            &doc,
            "SigningSecret",
            &serde_json::to_value(&secret).unwrap(),
        );
        conforms(
            &doc,
            "CreatedSubscription",
            &with_fields(&parse(&sub.to_json()), &secret),
        );

        let attempts = vec![
            AttemptView {
                event_id: "e1".into(),
                attempt: 1,
                time: "2026-11-24T10:00:00.123Z".into(),
                outcome: AttemptOutcome::Timeout,
                status_code: None,
                latency_ms: 30_000,
                response: None,
                next_attempt_at: Some("2026-11-24T10:00:10.123Z".into()),
                note: None,
            },
            AttemptView {
                event_id: "e1".into(),
                attempt: 2,
                time: "2026-11-24T10:00:10.2Z".into(),
                outcome: AttemptOutcome::HttpError,
                status_code: Some(503),
                latency_ms: 12,
                response: Some("busy".into()),
                next_attempt_at: None,
                note: Some("endpoint disabled".into()),
            },
            AttemptView {
                event_id: "e2".into(),
                attempt: 1,
                time: "2026-11-24T11:00:00Z".into(),
                outcome: AttemptOutcome::Success,
                status_code: Some(200),
                latency_ms: 0,
                response: Some(String::new()),
                next_attempt_at: None,
                note: None,
            },
        ];
        conforms(
            &doc,
            "AttemptLog",
            &json!({
                "count": attempts.len(),
                "attempts": attempts,
                "next": "https://events.example/events/api/v1/subscriptions/7/attempts?after=3&size=3"
            }),
        );
        conforms(&doc, "AttemptLog", &json!({"count": 0, "attempts": []}));
        for reply in [
            ReplayReply {
                requeued: 0,
                cursor: None,
            },
            ReplayReply {
                requeued: 500,
                cursor: Some("1234".into()),
            },
        ] {
            conforms(&doc, "ReplayResult", &serde_json::to_value(&reply).unwrap());
        }

        let letter = DeadLetter {
            event: parse(r#"{"specversion":"1.0","id":"1","source":"s","type":"t","n":"1"}"#),
            attempts: 12,
            enqueued: "2026-11-24T10:00:00Z".into(),
            failed: "2026-11-24T11:00:00Z".into(),
            last_status_code: None,
            last_error: Some("timeout".into()),
        };
        let letters = vec![letter];
        let body = json!({"count": letters.len(), "deadLetters": letters});
        conforms(&doc, "DeadLetterList", &body);

        let row = TraceRow {
            time: "2026-11-24T10:00:00Z".into(),
            activity: "WebhookPostResponse".into(),
            cloud_event_id: Some("1".into()),
            resource: None,
            event_type: None,
            consumer: None,
            endpoint: None,
            subscription_id: Some(events_core::subscription::SubscriptionId(1)),
            status_code: Some(200),
        };
        let mut paused = row.clone();
        paused.activity = events_core::delivery::Activity::EndpointDisabled
            .as_str()
            .into();
        paused.cloud_event_id = None;
        paused.status_code = None;
        let rows = vec![row, paused];
        conforms(
            &doc,
            "TraceLog",
            &json!({"count": rows.len(), "entries": rows}),
        );

        let party = Party::parse(
            5,
            br#"{"partyUuid":"{4A80AF94-1111-2222-3333-444455556666}","personIdentifier":"01017512345","mainUnitPartyId":2,"roles":{"1337":["DAGL"]}}"#,
        )
        .unwrap();
        conforms(&doc, "Party", &parse(&party.to_json()));
        conforms(
            &doc,
            "Party",
            &parse(&Party::parse(5, b"{}").unwrap().to_json()),
        );
        let org = OrgRegistration::parse("ttd", br#"{"orgNumber":"991825827"}"#).unwrap();
        conforms(&doc, "OrgRegistration", &parse(&org.to_json()));
        conforms(
            &doc,
            "OpenIdConfiguration",
            &openid_configuration("https://events.example"),
        );
        for jwk in [
            r#"{"kty":"EC","crv":"P-256","x":"X","y":"Y","d":"D","kid":"k1"}"#,
            r#"{"kty":"RSA","n":"N","e":"AQAB","d":"D","kid":"k2"}"#,
        ] {
            conforms(&doc, "Jwks", &SigningKey::parse(jwk).unwrap().public_jwks());
        }
        let event = events_core::CloudEvent::parse(
            br#"{"specversion":"1.0","id":"1","source":"s","type":"t","time":"2020-01-01T01:00:00+01:00","ext":7,"flag":true,"data_base64":"QQ=="}"#,
        )
        .unwrap();
        conforms(&doc, "CloudEvent", &parse(&event.to_json_utc()));

        // And the check fails where it should.
        for (name, wrong) in [
            ("Subscription", json!({"id": "7"})),
            (
                "Subscription",
                with_fields(&parse(&sub.to_json()), &json!({"secret": "whsec_AAAA"})),
            ),
            ("CreatedSubscription", parse(&sub.to_json())),
            (
                "EndpointHealth",
                json!({"status": "paused", "lastSuccessAt": null, "lastFailureAt": null, "failingSince": null, "queued": 0, "deadLetters": 0}),
            ),
            (
                "AttemptLog",
                json!({"count": 1, "attempts": [{"eventId": "e"}]}),
            ),
            ("ReplayResult", json!({"requeued": 1, "more": true})),
            ("Party", json!({"partyId": 1, "extra": true})),
            ("Jwks", json!({"keys": [{"kty": "EC"}]})),
            (
                "TraceLog",
                json!({"count": 0, "entries": [{"activity": "Other"}]}),
            ),
        ] {
            let mut out = Vec::new();
            check(&doc, &schema_ref(name), &wrong, name, &mut out);
            assert!(!out.is_empty(), "{name}: {wrong} passes");
        }
    }

    #[test]
    fn error_bodies_are_what_the_service_writes() {
        use events_core::ApiError;
        // Problem and validation problem as rendered: exactly the members of their schemas.
        let doc = document();
        let members = |name: &str| -> BTreeSet<String> {
            doc["components"]["schemas"][name]["properties"]
                .as_object()
                .unwrap()
                .keys()
                .cloned()
                .collect()
        };
        let rendered = |e: ApiError| -> BTreeSet<String> {
            let body: Value = serde_json::from_str(&e.render("t").body).unwrap();
            body.as_object().unwrap().keys().cloned().collect()
        };
        assert_eq!(
            rendered(ApiError::bad_request("x")),
            members("ProblemDetails")
        );
        assert_eq!(
            rendered(ApiError::validation("id", "x")),
            members("ValidationProblemDetails")
        );
        let r = ApiError::validation("id", "x").render("t");
        let body: Value = serde_json::from_str(&r.body).unwrap();
        let schema = &doc["components"]["schemas"]["ValidationProblemDetails"]["properties"];
        for k in ["type", "title", "status"] {
            assert_eq!(body[k], schema[k]["const"], "{k}");
        }
        assert_eq!(r.content_type, Some(PROBLEM_JSON));
        assert_eq!(
            ApiError::text(400, "x").render("t").content_type,
            Some(JSON_UTF8)
        );
    }
}
