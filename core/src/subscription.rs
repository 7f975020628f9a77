//! Subscriptions: the request model, Altinn's checks in Altinn's order (spec §5.6, §8.2–§8.5),
//! the stored model and its JSON (spec §8.1), and the PDP request for creating one (§11.5).

use alloc::borrow::ToOwned;
use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::authz::mapping::{
    subject_attribute, subject_from_consumer, Action, ATTR_APP, ATTR_APP_RESOURCE, ATTR_ORG,
};
use crate::authz::xacml::{action, Attribute, Category, DecisionRequest, TYPE_STRING};
use crate::endpoint::check_endpoint;
use crate::error::ApiError;
use crate::identity::{Claims, Consumer, SCOPE_SUBSCRIBE};
use crate::json::to_json;
use crate::uri::AbsoluteUri;
use crate::urn::{self, is_valid_urn};

/// A subscription's id: Altinn's integer id, as a type of its own so that it is never mixed up
/// with a party id, a queue position or a count. Its JSON form is the bare number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SubscriptionId(pub i64);

impl core::fmt::Display for SubscriptionId {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        core::fmt::Display::fmt(&self.0, f)
    }
}

pub const MSG_INVALID_ENDPOINT: &str = "Missing or invalid endpoint to push events towards";
pub const MSG_INVALID_SOURCE_FILTER: &str =
    "SourceFilter must be an absolute URL with the https scheme.";
pub const MSG_INVALID_RESOURCE_FILTER: &str = "Resource filter must be a valid urn";
pub const MSG_SUBJECT_REQUIRED: &str = "A valid subject to the authenticated identity is required";
pub const MSG_SUBUNITS_NEED_SUBJECT: &str = "IncludeSubunits requires a subject filter.";
pub const MSG_MISSING_CONSUMER: &str = "Missing event consumer";
pub const MSG_APP_ID_REQUIRED: &str =
    "A valid app id is required in source filter {environment}/{org}/{app}";
pub const MSG_FILTERS_INCOMPATIBLE: &str =
    "Provided resource filter and source filter are not compatible";
pub const MSG_RESOURCE_FILTER_REQUIRED: &str = "Resource filter is required.";
pub const MSG_SOURCE_FILTER_UNSUPPORTED: &str =
    "Source filter is not supported for subscriptions on this resource.";
pub const MSG_ALT_SUBJECT_UNSUPPORTED: &str =
    "AlternativeSubject filter is not supported for subscriptions on this resource.";

/// The body of `POST /subscriptions` (property names are case-insensitive).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SubscriptionRequest {
    pub end_point: Option<String>,
    pub source_filter: Option<String>,
    pub subject_filter: Option<String>,
    pub resource_filter: Option<String>,
    pub alternative_subject_filter: Option<String>,
    pub type_filter: Option<String>,
    pub include_subunits: bool,
}

fn binding_error(path: &str, type_name: &str) -> ApiError {
    let mut msg = String::from("The JSON value could not be converted to ");
    msg.push_str(type_name);
    msg.push_str(". Path: ");
    msg.push_str(path);
    msg.push('.');
    ApiError::validation(path, msg)
}

impl SubscriptionRequest {
    /// Bind a request body as ASP.NET does: empty body, invalid JSON and wrong value types
    /// are ValidationProblems; unknown properties are ignored.
    pub fn parse(body: &[u8]) -> Result<SubscriptionRequest, ApiError> {
        if body.iter().all(u8::is_ascii_whitespace) {
            return Err(ApiError::validation(
                "",
                "A non-empty request body is required.",
            ));
        }
        let value: Value = serde_json::from_slice(body).map_err(|e| {
            let mut msg = String::from("The request body is not valid JSON: ");
            msg.push_str(&e.to_string());
            ApiError::validation("$", msg)
        })?;
        let Value::Object(map) = value else {
            return Err(binding_error("$", "a subscription request object"));
        };
        let mut req = SubscriptionRequest::default();
        for (key, v) in &map {
            let slot: &mut Option<String> = match key.to_ascii_lowercase().as_str() {
                "endpoint" => &mut req.end_point,
                "sourcefilter" => &mut req.source_filter,
                "subjectfilter" => &mut req.subject_filter,
                "resourcefilter" => &mut req.resource_filter,
                "alternativesubjectfilter" => &mut req.alternative_subject_filter,
                "typefilter" => &mut req.type_filter,
                "includesubunits" => {
                    match v {
                        Value::Bool(b) => req.include_subunits = *b,
                        Value::Null => req.include_subunits = false,
                        _ => {
                            let mut path = String::from("$.");
                            path.push_str(key);
                            return Err(binding_error(&path, "System.Boolean"));
                        }
                    }
                    continue;
                }
                _ => continue,
            };
            match v {
                Value::String(s) => *slot = Some(s.clone()),
                Value::Null => *slot = None,
                _ => {
                    let mut path = String::from("$.");
                    path.push_str(key);
                    return Err(binding_error(&path, "System.String"));
                }
            }
        }
        Ok(req)
    }
}

fn non_empty(s: &Option<String>) -> Option<&str> {
    s.as_deref().filter(|v| !v.is_empty())
}

/// App or generic subscription (spec §8.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    App,
    Generic,
}

/// The result of the controller's checks (spec §5.6 steps 1–5).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checked {
    pub endpoint: AbsoluteUri,
    pub source_filter: Option<AbsoluteUri>,
    pub kind: Kind,
}

/// Spec §5.6 steps 1–5, plus the SSRF rule on the endpoint (right after the endpoint check).
pub fn check_request(
    req: &SubscriptionRequest,
    claims: &Claims,
    apps_domain: &str,
    allow_private: bool,
) -> Result<Checked, ApiError> {
    let endpoint = non_empty(&req.end_point)
        .and_then(|e| AbsoluteUri::parse(e).ok())
        .filter(|u| u.scheme() == "https" || (allow_private && u.scheme() == "http"))
        .ok_or_else(|| ApiError::text(400, MSG_INVALID_ENDPOINT))?;
    check_endpoint(&endpoint, allow_private)
        .map_err(|refusal| ApiError::text(400, refusal.to_string()))?;
    let source_filter = match req.source_filter.as_deref() {
        None => None,
        Some(s) => Some(
            AbsoluteUri::parse(s)
                .ok()
                .filter(|u| u.scheme() == "https")
                .ok_or_else(|| ApiError::text(400, MSG_INVALID_SOURCE_FILTER))?,
        ),
    };
    let is_app = req.resource_filter.as_deref().is_some_and(|r| {
        r.get(..urn::APP_RESOURCE_PREFIX.len())
            .is_some_and(|p| p.eq_ignore_ascii_case(urn::APP_RESOURCE_PREFIX))
    }) || source_filter.as_ref().is_some_and(|s| {
        !apps_domain.is_empty() && s.host().ends_with(&apps_domain.to_ascii_lowercase())
    });
    let kind = if is_app { Kind::App } else { Kind::Generic };
    if kind == Kind::Generic && !claims.has_scope_ignore_case(SCOPE_SUBSCRIBE) {
        return Err(ApiError::forbidden());
    }
    if let Some(r) = req.resource_filter.as_deref() {
        if !is_valid_urn(r) {
            return Err(ApiError::text(400, MSG_INVALID_RESOURCE_FILTER));
        }
    }
    Ok(Checked {
        endpoint,
        source_filter,
        kind,
    })
}

/// A register look-up the app-subscription service makes to turn an alternative subject
/// filter into `/party/{id}` (spec §8.3 step 1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RegisterLookup {
    OrgNumber(String),
    Person(String),
}

/// The look-up needed before [`complete_app`], if any.
pub fn app_subject_lookup(req: &SubscriptionRequest) -> Option<RegisterLookup> {
    if non_empty(&req.subject_filter).is_some() {
        return None;
    }
    let alt = non_empty(&req.alternative_subject_filter)?;
    if let Some(n) = alt
        .strip_prefix("/org/")
        .or_else(|| alt.strip_prefix("/organisation/"))
    {
        return Some(RegisterLookup::OrgNumber(n.to_owned()));
    }
    alt.strip_prefix("/person/")
        .map(|ssn| RegisterLookup::Person(ssn.to_owned()))
}

/// A subscription about to be created (or found as a duplicate).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Draft {
    pub end_point: String,
    pub source_filter: Option<String>,
    pub resource_filter: String,
    pub subject_filter: Option<String>,
    pub type_filter: Option<String>,
    pub consumer: String,
    pub include_subunits: bool,
}

/// Spec §8.3 steps 2–4, after [`app_subject_lookup`] (`found_party`: the party id the
/// register returned, look-up errors already swallowed as `None`).
pub fn complete_app(
    req: &SubscriptionRequest,
    checked: &Checked,
    claims: &Claims,
    found_party: Option<i64>,
) -> Result<Draft, ApiError> {
    let mut subject = non_empty(&req.subject_filter).map(ToOwned::to_owned);
    if subject.is_none() {
        if let Some(p) = found_party.filter(|p| *p != 0) {
            subject = Some(crate::identity::PartyId(p).subject());
        }
    }
    let consumer = Consumer::from_claims(claims);
    if subject.is_none() && claims.org().is_none() {
        return Err(ApiError::text(400, MSG_SUBJECT_REQUIRED));
    }
    if non_empty(&req.alternative_subject_filter).is_some() && subject.is_none() {
        return Err(ApiError::text(400, MSG_SUBJECT_REQUIRED));
    }
    if req.include_subunits && subject.is_none() {
        return Err(ApiError::text(400, MSG_SUBUNITS_NEED_SUBJECT));
    }
    let Some(consumer) = consumer else {
        return Err(ApiError::text(400, MSG_MISSING_CONSUMER));
    };
    let mut from_source: Option<String> = None;
    if let Some(source) = &checked.source_filter {
        let parts: Vec<&str> = source.path_segments().collect();
        let [_, org, app] = parts.as_slice() else {
            return Err(ApiError::text(400, MSG_APP_ID_REQUIRED));
        };
        from_source = Some(urn::app_resource(org, app));
    }
    let resource = match (req.resource_filter.as_deref(), from_source) {
        (Some(given), Some(derived)) if given != derived => {
            return Err(ApiError::text(400, MSG_FILTERS_INCOMPATIBLE))
        }
        (Some(given), _) => given.to_owned(),
        (None, Some(derived)) => derived,
        // Classified as an app subscription without either filter cannot happen.
        (None, None) => return Err(ApiError::text(400, MSG_RESOURCE_FILTER_REQUIRED)),
    };
    Ok(Draft {
        end_point: checked.endpoint.absolute(),
        source_filter: checked.source_filter.as_ref().map(AbsoluteUri::absolute),
        resource_filter: resource.to_ascii_lowercase(),
        subject_filter: subject,
        type_filter: req.type_filter.clone().filter(|t| !t.is_empty()),
        consumer: consumer.as_str().to_owned(),
        include_subunits: req.include_subunits,
    })
}

/// Spec §8.4 step 2 (and a missing consumer is a 400 here rather than Altinn's 500).
pub fn complete_generic(
    req: &SubscriptionRequest,
    checked: &Checked,
    claims: &Claims,
) -> Result<Draft, ApiError> {
    let Some(resource) = non_empty(&req.resource_filter) else {
        return Err(ApiError::text(400, MSG_RESOURCE_FILTER_REQUIRED));
    };
    if checked.source_filter.is_some() {
        return Err(ApiError::text(400, MSG_SOURCE_FILTER_UNSUPPORTED));
    }
    if non_empty(&req.alternative_subject_filter).is_some() {
        return Err(ApiError::text(400, MSG_ALT_SUBJECT_UNSUPPORTED));
    }
    let subject = non_empty(&req.subject_filter).map(ToOwned::to_owned);
    if req.include_subunits && subject.is_none() {
        return Err(ApiError::text(400, MSG_SUBUNITS_NEED_SUBJECT));
    }
    let consumer =
        Consumer::from_claims(claims).ok_or_else(|| ApiError::text(400, MSG_MISSING_CONSUMER))?;
    Ok(Draft {
        end_point: checked.endpoint.absolute(),
        source_filter: None,
        resource_filter: resource.to_ascii_lowercase(),
        subject_filter: subject,
        type_filter: req.type_filter.clone().filter(|t| !t.is_empty()),
        consumer: consumer.as_str().to_owned(),
        include_subunits: req.include_subunits,
    })
}

impl Draft {
    /// True for app resources (`urn:altinn:resource:app_`, case-sensitive): action `read`.
    pub fn is_app(&self) -> bool {
        urn::is_app_resource(&self.resource_filter)
    }

    /// The PDP request for creating this subscription (spec §11.5).
    pub fn authorization_request(&self) -> DecisionRequest {
        let is_app = self.is_app();
        let (_, resource_value) = urn::split_last(&self.resource_filter);
        let mut attrs = vec![Attribute::new(
            crate::authz::mapping::ATTR_RESOURCE,
            resource_value,
            TYPE_STRING,
        )];
        if let Some(a) = self.subject_filter.as_deref().and_then(subject_attribute) {
            attrs.push(a);
        }
        if is_app {
            let mut parts = resource_value.split('_');
            let _ = parts.next();
            let org = parts.next().unwrap_or("");
            let app = parts.next().unwrap_or("");
            attrs.push(Attribute::new(ATTR_ORG, org, TYPE_STRING));
            attrs.push(Attribute::new(ATTR_APP, app, TYPE_STRING));
            attrs.push(Attribute::new(ATTR_APP_RESOURCE, "events", TYPE_STRING));
        }
        let act = if is_app {
            Action::Read
        } else {
            Action::Subscribe
        };
        DecisionRequest::single(
            subject_from_consumer(&self.consumer, false),
            action(act.as_str(), false),
            Category::new(attrs),
        )
    }
}

/// The 403 message when the PDP says no (spec §8.5).
pub fn not_authorized(resource_filter: &str) -> ApiError {
    let mut msg = String::from("Not authorized to create a subscription for resource ");
    msg.push_str(resource_filter);
    msg.push('.');
    ApiError::text(403, msg)
}

/// A subscription id from a route (`{id}`), bound as ASP.NET binds `{id:int}`: an int32, or a
/// 400 naming the value.
pub fn parse_route_id(raw: &str) -> Result<SubscriptionId, ApiError> {
    raw.parse::<i32>()
        .map(|id| SubscriptionId(i64::from(id)))
        .map_err(|_| ApiError::validation("id", alloc::format!("The value '{raw}' is not valid.")))
}

/// A stored subscription (spec §8.1).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subscription {
    pub id: SubscriptionId,
    pub end_point: String,
    pub source_filter: Option<String>,
    pub resource_filter: String,
    pub subject_filter: Option<String>,
    pub type_filter: Option<String>,
    pub consumer: String,
    pub created_by: String,
    pub created: String,
    pub validated: bool,
    pub include_subunits: bool,
}

impl Subscription {
    pub fn from_draft(id: SubscriptionId, draft: Draft, created: String) -> Subscription {
        Subscription {
            id,
            end_point: draft.end_point,
            source_filter: draft.source_filter,
            resource_filter: draft.resource_filter,
            subject_filter: draft.subject_filter,
            type_filter: draft.type_filter,
            created_by: draft.consumer.clone(),
            consumer: draft.consumer,
            created,
            validated: false,
            include_subunits: draft.include_subunits,
        }
    }

    /// Altinn's JSON: camelCase, nulls omitted, properties in model order. (The serde derive
    /// of [`Subscription`] is the stored form, with snake_case names.)
    pub fn to_json(&self) -> String {
        to_json(&SubscriptionJson::from(self))
    }

    /// [`Subscription::to_json`] with this service's properties (`extra`, an object such as
    /// the endpoint's health or the signing secret; `None`: none) after Altinn's.
    pub fn to_json_with<E: Serialize>(&self, extra: Option<&E>) -> String {
        to_json(&WithExtra {
            subscription: SubscriptionJson::from(self),
            extra,
        })
    }
}

#[derive(Serialize)]
struct WithExtra<'a, E> {
    #[serde(flatten)]
    subscription: SubscriptionJson<'a>,
    #[serde(flatten)]
    extra: Option<&'a E>,
}

/// The API shape of a [`Subscription`] (spec §8.1).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SubscriptionJson<'a> {
    id: SubscriptionId,
    end_point: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    source_filter: Option<&'a str>,
    resource_filter: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    subject_filter: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    type_filter: Option<&'a str>,
    consumer: &'a str,
    created_by: &'a str,
    created: &'a str,
    validated: bool,
    include_subunits: bool,
}

impl<'a> From<&'a Subscription> for SubscriptionJson<'a> {
    fn from(s: &'a Subscription) -> Self {
        SubscriptionJson {
            id: s.id,
            end_point: &s.end_point,
            source_filter: s.source_filter.as_deref(),
            resource_filter: &s.resource_filter,
            subject_filter: s.subject_filter.as_deref(),
            type_filter: s.type_filter.as_deref(),
            consumer: &s.consumer,
            created_by: &s.created_by,
            created: &s.created,
            validated: s.validated,
            include_subunits: s.include_subunits,
        }
    }
}

/// `{"count": n, "subscriptions": [...]}` with each subscription's extra properties (see
/// [`Subscription::to_json_with`]).
pub fn list_json_with<E: Serialize>(subs: &[(Subscription, Option<E>)]) -> String {
    #[derive(Serialize)]
    struct SubscriptionList<'a, E> {
        count: usize,
        subscriptions: Vec<WithExtra<'a, E>>,
    }
    to_json(&SubscriptionList {
        count: subs.len(),
        subscriptions: subs
            .iter()
            .map(|(s, extra)| WithExtra {
                subscription: SubscriptionJson::from(s),
                extra: extra.as_ref(),
            })
            .collect(),
    })
}

/// `{"count": n, "subscriptions": [...]}`.
pub fn list_json(subs: &[Subscription]) -> String {
    #[derive(Serialize)]
    struct SubscriptionList<'a> {
        count: usize,
        subscriptions: Vec<SubscriptionJson<'a>>,
    }
    to_json(&SubscriptionList {
        count: subs.len(),
        subscriptions: subs.iter().map(SubscriptionJson::from).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorBody;
    use serde_json::json;
    use wasm_bindgen_test::wasm_bindgen_test;

    fn claims(v: Value) -> Claims {
        Claims::new(v.as_object().cloned().unwrap_or_default())
    }
    fn org() -> Claims {
        claims(json!({"urn:altinn:org": "ttd", "scope": "altinn:events.subscribe"}))
    }
    fn req(v: Value) -> SubscriptionRequest {
        SubscriptionRequest::parse(v.to_string().as_bytes()).unwrap()
    }
    fn text(e: ApiError) -> (u16, String) {
        match e.body {
            ErrorBody::Text(t) => (e.status, t),
            other => (e.status, alloc::format!("{other:?}")),
        }
    }
    fn run(v: Value, c: &Claims) -> Result<Draft, ApiError> {
        let r = req(v);
        let checked = check_request(&r, c, "apps.altinn.no", false)?;
        match checked.kind {
            Kind::App => complete_app(&r, &checked, c, None),
            Kind::Generic => complete_generic(&r, &checked, c),
        }
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn binding() {
        let r = req(
            json!({"EndPoint": "https://x.example/h", "INCLUDESUBUNITS": true, "consumer": "ignored"}),
        );
        assert_eq!(r.end_point.as_deref(), Some("https://x.example/h"));
        assert!(r.include_subunits);
        let e = SubscriptionRequest::parse(b"").unwrap_err();
        assert_eq!(
            e.body,
            ErrorBody::Validation(vec![(
                "".into(),
                vec!["A non-empty request body is required.".into()]
            )])
        );
        let e = SubscriptionRequest::parse(br#"{"includeSubunits":"yes"}"#).unwrap_err();
        assert_eq!(
            e.body,
            ErrorBody::Validation(vec![("$.includeSubunits".into(), vec!["The JSON value could not be converted to System.Boolean. Path: $.includeSubunits.".into()])])
        );
        assert_eq!(SubscriptionRequest::parse(b"{").unwrap_err().status, 400);
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn controller_and_service_rules_in_order() {
        let user = claims(json!({"urn:altinn:userid": "1337", "urn:altinn:partyid": 5}));
        let cases: Vec<(Value, Claims, (u16, &str))> = vec![
            (json!({}), org(), (400, MSG_INVALID_ENDPOINT)),
            (
                json!({"endPoint": "/relative"}),
                org(),
                (400, MSG_INVALID_ENDPOINT),
            ),
            (
                json!({"endPoint": "http://x.example/h"}),
                org(),
                (400, MSG_INVALID_ENDPOINT),
            ),
            (
                json!({"endPoint": "https://x.example/h", "sourceFilter": "http://ttd.apps.altinn.no/ttd/a"}),
                org(),
                (400, MSG_INVALID_SOURCE_FILTER),
            ),
            (
                json!({"endPoint": "https://x.example/h", "resourceFilter": "urn:altinn:resource:Bad"}),
                org(),
                (400, MSG_INVALID_RESOURCE_FILTER),
            ),
            (
                json!({"endPoint": "https://x.example/h", "resourceFilter": "urn:altinn:resourceé:app_x"}),
                org(),
                (400, MSG_INVALID_RESOURCE_FILTER),
            ),
            (
                json!({"endPoint": "https://x.example/h", "resourceFilter": "urn:altinn:resource:app_ttd_a"}),
                user.clone(),
                (400, MSG_SUBJECT_REQUIRED),
            ),
            (
                json!({"endPoint": "https://x.example/h", "resourceFilter": "urn:altinn:resource:app_ttd_a", "alternativeSubjectFilter": "/person/1"}),
                org(),
                (400, MSG_SUBJECT_REQUIRED),
            ),
            (
                json!({"endPoint": "https://x.example/h", "resourceFilter": "urn:altinn:resource:app_ttd_a", "includeSubunits": true}),
                org(),
                (400, MSG_SUBUNITS_NEED_SUBJECT),
            ),
            (
                json!({"endPoint": "https://x.example/h", "sourceFilter": "https://ttd.apps.altinn.no/ttd/a/"}),
                org(),
                (400, MSG_APP_ID_REQUIRED),
            ),
            (
                json!({"endPoint": "https://x.example/h", "sourceFilter": "https://ttd.apps.altinn.no/ttd"}),
                org(),
                (400, MSG_APP_ID_REQUIRED),
            ),
            (
                json!({"endPoint": "https://x.example/h", "sourceFilter": "https://ttd.apps.altinn.no/ttd/a", "resourceFilter": "urn:altinn:resource:app_ttd_b"}),
                org(),
                (400, MSG_FILTERS_INCOMPATIBLE),
            ),
            (
                json!({"endPoint": "https://x.example/h"}),
                org(),
                (400, MSG_RESOURCE_FILTER_REQUIRED),
            ),
            (
                json!({"endPoint": "https://x.example/h", "resourceFilter": "urn:altinn:resource:r", "sourceFilter": "https://x.example/a/b"}),
                org(),
                (400, MSG_SOURCE_FILTER_UNSUPPORTED),
            ),
            (
                json!({"endPoint": "https://x.example/h", "resourceFilter": "urn:altinn:resource:r", "alternativeSubjectFilter": "/org/1"}),
                org(),
                (400, MSG_ALT_SUBJECT_UNSUPPORTED),
            ),
            (
                json!({"endPoint": "https://x.example/h", "resourceFilter": "urn:altinn:resource:r", "includeSubunits": true}),
                org(),
                (400, MSG_SUBUNITS_NEED_SUBJECT),
            ),
        ];
        for (body, c, want) in cases {
            let got = text(run(body.clone(), &c).unwrap_err());
            assert_eq!((got.0, got.1.as_str()), want, "{body}");
        }
        // Generic without the subscribe scope: 403 with no body.
        let e = run(
            json!({"endPoint": "https://x.example/h", "resourceFilter": "urn:altinn:resource:r"}),
            &claims(json!({"urn:altinn:org": "ttd"})),
        )
        .unwrap_err();
        assert_eq!(e, ApiError::forbidden());
        // SSRF refusals are 400 JSON strings.
        let e = run(
            json!({"endPoint": "https://127.0.0.1/h", "resourceFilter": "urn:altinn:resource:r"}),
            &org(),
        )
        .unwrap_err();
        assert_eq!(e.status, 400);
        assert!(matches!(e.body, ErrorBody::Text(ref t) if t.contains("127.0.0.1")));
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn app_subscription_from_source_filter() {
        let d = run(json!({"endPoint": "HTTPS://Webhook.Example.com", "sourceFilter": "https://ttd.apps.altinn.no/ttd/apps-test", "typeFilter": "app.instance.process.completed"}), &org()).unwrap();
        assert_eq!(d.end_point, "https://webhook.example.com/");
        assert_eq!(d.resource_filter, "urn:altinn:resource:app_ttd_apps-test");
        assert_eq!(d.consumer, "/org/ttd");
        let s =
            Subscription::from_draft(SubscriptionId(4711), d, "2025-03-01T10:20:00.123Z".into());
        assert_eq!(
            s.to_json(),
            r#"{"id":4711,"endPoint":"https://webhook.example.com/","sourceFilter":"https://ttd.apps.altinn.no/ttd/apps-test","resourceFilter":"urn:altinn:resource:app_ttd_apps-test","typeFilter":"app.instance.process.completed","consumer":"/org/ttd","createdBy":"/org/ttd","created":"2025-03-01T10:20:00.123Z","validated":false,"includeSubunits":false}"#
        );
        assert_eq!(list_json(&[]), r#"{"count":0,"subscriptions":[]}"#);
        // This service's properties come after Altinn's.
        let extra = json!({"status": "active", "queued": 0});
        let with = s.to_json_with(Some(&extra));
        assert!(with.starts_with(r#"{"id":4711,"endPoint":"#), "{with}");
        assert!(
            with.ends_with(r#""includeSubunits":false,"queued":0,"status":"active"}"#),
            "{with}"
        );
        assert_eq!(s.to_json_with::<serde_json::Value>(None), s.to_json());
        let list = list_json_with(&[(s.clone(), Some(extra)), (s.clone(), None)]);
        assert!(
            list.starts_with(r#"{"count":2,"subscriptions":[{"id":4711,"#),
            "{list}"
        );
        assert!(
            list.contains(r#""includeSubunits":false,"queued":0,"status":"active"},{"id":4711"#),
            "{list}"
        );
        assert!(list.ends_with(r#""includeSubunits":false}]}"#), "{list}");
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn app_subject_enrichment() {
        let r = req(
            json!({"endPoint": "https://x.example/h", "resourceFilter": "urn:altinn:resource:app_ttd_a", "alternativeSubjectFilter": "/person/01017512345"}),
        );
        assert_eq!(
            app_subject_lookup(&r),
            Some(RegisterLookup::Person("01017512345".into()))
        );
        let user = claims(json!({"urn:altinn:userid": "1337"}));
        let checked = check_request(&r, &user, "apps.altinn.no", false).unwrap();
        assert_eq!(
            complete_app(&r, &checked, &user, Some(54321))
                .unwrap()
                .subject_filter
                .as_deref(),
            Some("/party/54321")
        );
        assert_eq!(
            text(complete_app(&r, &checked, &user, None).unwrap_err()).1,
            MSG_SUBJECT_REQUIRED
        );
        let r = req(json!({"alternativeSubjectFilter": "/organisation/912345678"}));
        assert_eq!(
            app_subject_lookup(&r),
            Some(RegisterLookup::OrgNumber("912345678".into()))
        );
        let r = req(json!({"alternativeSubjectFilter": "/organization/912345678"}));
        assert_eq!(app_subject_lookup(&r), None);
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn pdp_request_for_creation() {
        let user = claims(json!({"urn:altinn:userid": "1337"}));
        let r = req(
            json!({"endPoint": "https://x.example/h", "resourceFilter": "urn:altinn:resource:app_ttd_apps-test", "subjectFilter": "/party/54321"}),
        );
        let checked = check_request(&r, &user, "apps.altinn.no", false).unwrap();
        let d = complete_app(&r, &checked, &user, None).unwrap();
        let v = d.authorization_request().to_json();
        assert_eq!(
            v["Request"]["AccessSubject"][0]["Attribute"][0]["AttributeId"],
            "urn:altinn:userid"
        );
        assert_eq!(v["Request"]["Action"][0]["Attribute"][0]["Value"], "read");
        let ids: Vec<(&str, &str)> = v["Request"]["Resource"][0]["Attribute"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| {
                (
                    a["AttributeId"].as_str().unwrap(),
                    a["Value"].as_str().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            ids,
            vec![
                ("urn:altinn:resource", "app_ttd_apps-test"),
                ("urn:altinn:partyid", "54321"),
                ("urn:altinn:org", "ttd"),
                ("urn:altinn:app", "apps-test"),
                ("urn:altinn:appresource", "events")
            ]
        );
        // An app name with `_` is cut at it, as Altinn's mapper does (spec §19.34).
        let r = req(
            json!({"endPoint": "https://x.example/h", "resourceFilter": "urn:altinn:resource:app_ttd_my_app"}),
        );
        let checked = check_request(&r, &org(), "apps.altinn.no", false).unwrap();
        let d = complete_app(&r, &checked, &org(), None).unwrap();
        let v = d.authorization_request().to_json();
        assert_eq!(v["Request"]["Resource"][0]["Attribute"][2]["Value"], "my");
        let g = run(
            json!({"endPoint": "https://x.example/h", "resourceFilter": "urn:altinn:resource:r"}),
            &org(),
        )
        .unwrap();
        let v = g.authorization_request().to_json();
        assert_eq!(
            v["Request"]["Action"][0]["Attribute"][0]["Value"],
            "subscribe"
        );
        assert_eq!(
            v["Request"]["Resource"][0]["Attribute"]
                .as_array()
                .unwrap()
                .len(),
            1
        );
        assert_eq!(
            text(not_authorized("urn:altinn:resource:r")),
            (
                403,
                "Not authorized to create a subscription for resource urn:altinn:resource:r."
                    .into()
            )
        );
    }
}
