//! Building decision requests from callers, consumers and events, exactly as Altinn's mappers
//! do (spec §11.2–§11.9).

use alloc::borrow::ToOwned;
use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;

use serde_json::Value;

use super::xacml::{
    action, Attribute, Category, DecisionRequest, TYPE_STRING, TYPE_XS_INTEGER, TYPE_XS_STRING,
};
use crate::cloud_event::CloudEvent;
use crate::identity::Claims;
use crate::urn;

pub const ATTR_ORG: &str = "urn:altinn:org";
pub const ATTR_APP: &str = "urn:altinn:app";
pub const ATTR_USER_ID: &str = "urn:altinn:userid";
pub const ATTR_PARTY_ID: &str = "urn:altinn:partyid";
pub const ATTR_ORG_NUMBER: &str = "urn:altinn:organization:identifier-no";
pub const ATTR_ORG_NUMBER_LEGACY: &str = "urn:altinn:organizationnumber";
pub const ATTR_SYSTEM_USER: &str = "urn:altinn:systemuser:uuid";
pub const ATTR_PERSON_UUID: &str = "urn:altinn:person:uuid";
pub const ATTR_PARTY_UUID: &str = "urn:altinn:party:uuid";
pub const ATTR_PERSON_ID: &str = "urn:altinn:person:identifier-no";
pub const ATTR_SCOPE: &str = "urn:scope";
pub const ATTR_SESSION: &str = "urn:altinn:sessionid";
pub const ATTR_AUTH_LEVEL: &str = "urn:altinn:authlevel";
pub const ATTR_ROLE: &str = "urn:altinn:rolecode";
pub const ATTR_RESOURCE: &str = "urn:altinn:resource";
pub const ATTR_EVENT_ID: &str = "urn:altinn:event-id";
pub const ATTR_EVENT_TYPE: &str = "urn:altinn:eventtype";
pub const ATTR_EVENT_SOURCE: &str = "urn:altinn:eventsource";
pub const ATTR_RESOURCE_INSTANCE: &str = "urn:altinn:resourceinstance";
pub const ATTR_INSTANCE_ID: &str = "urn:altinn:instance-id";
pub const ATTR_APP_RESOURCE: &str = "urn:altinn:appresource";

/// Actions the service asks about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    Publish,
    Subscribe,
    Read,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Publish => "publish",
            Action::Subscribe => "subscribe",
            Action::Read => "read",
        }
    }

    pub fn parse(s: &str) -> Option<Action> {
        match s {
            "publish" => Some(Action::Publish),
            "subscribe" => Some(Action::Subscribe),
            "read" => Some(Action::Read),
            _ => None,
        }
    }
}

fn claim_value(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(if *b { "true".into() } else { "false".into() }),
        _ => None,
    }
}

/// The caller's subject category, built from token claims as Altinn's PEP library does
/// (spec §11.9): `scope` → `urn:scope`, `jti` → `urn:altinn:sessionid`, other `urn:` claims
/// copied, and exactly one identity attribute (person uuid > user id > party id > system user
/// (alone) > organisation number).
pub fn subject_from_claims(claims: &Claims) -> Category {
    let mut attrs: Vec<Attribute> = Vec::new();
    let mut user_id = None;
    let mut person_uuid = None;
    let mut party_id = None;
    let mut system_user = None;
    let mut legacy_org_number: Option<String> = None;
    let mut org_number: Option<String> = None;
    for (name, value) in claims.as_map() {
        match name.as_str() {
            "urn:altinn:orgNumber" => {
                if let Some(v) = claim_value(value) {
                    legacy_org_number = Some(v.clone());
                    org_number = Some(v);
                }
            }
            "scope" => {
                if let Some(v) = claim_value(value) {
                    attrs.push(Attribute::new(ATTR_SCOPE, &v, TYPE_STRING));
                }
            }
            "jti" => {
                if let Some(v) = claim_value(value) {
                    attrs.push(Attribute::new(ATTR_SESSION, &v, TYPE_STRING));
                }
            }
            "authorization_details" => {
                let mut only = serde_json::Map::new();
                only.insert(name.clone(), value.clone());
                if let Some(id) = Claims::new(only).system_user_id() {
                    system_user = Some(id);
                }
            }
            ATTR_USER_ID => user_id = claim_value(value),
            ATTR_PERSON_UUID => person_uuid = claim_value(value),
            ATTR_PARTY_ID => party_id = claim_value(value),
            ATTR_ORG_NUMBER => {
                org_number = claim_value(value);
                legacy_org_number = None;
            }
            other if other.starts_with("urn:") => {
                if let Some(v) = claim_value(value) {
                    attrs.push(Attribute::new(other, &v, TYPE_STRING));
                }
            }
            _ => {}
        }
    }
    if let Some(v) = person_uuid {
        attrs.push(Attribute::new(ATTR_PERSON_UUID, &v, TYPE_STRING));
    } else if let Some(v) = user_id {
        attrs.push(Attribute::new(ATTR_USER_ID, &v, TYPE_STRING));
    } else if let Some(v) = party_id {
        attrs.push(Attribute::new(ATTR_PARTY_ID, &v, TYPE_STRING));
    } else if let Some(v) = system_user {
        attrs.clear();
        attrs.push(Attribute::new(ATTR_SYSTEM_USER, &v, TYPE_STRING));
    } else if let Some(v) = legacy_org_number {
        attrs.push(Attribute::new(ATTR_ORG_NUMBER_LEGACY, &v, TYPE_STRING));
        if let Some(n) = org_number {
            attrs.push(Attribute::new(ATTR_ORG_NUMBER, &n, TYPE_STRING));
        }
    } else if let Some(v) = org_number {
        attrs.push(Attribute::new(ATTR_ORG_NUMBER, &v, TYPE_STRING));
    }
    Category::new(attrs)
}

/// A consumer or subject string as XACML attributes (spec §11.7): `/user/`, `/org/`,
/// `/party/`, `/organisation/`, `/systemuser/` prefixes and valid URNs; anything else maps to
/// nothing.
pub fn subject_attribute(value: &str) -> Option<Attribute> {
    let prefixed: [(&str, &str, &str); 5] = [
        ("/user/", ATTR_USER_ID, TYPE_XS_STRING),
        ("/org/", ATTR_ORG, TYPE_XS_STRING),
        ("/party/", ATTR_PARTY_ID, TYPE_XS_INTEGER),
        ("/organisation/", ATTR_ORG_NUMBER, TYPE_XS_STRING),
        ("/systemuser/", ATTR_SYSTEM_USER, TYPE_XS_STRING),
    ];
    for (prefix, id, ty) in prefixed {
        if let Some(rest) = value.strip_prefix(prefix) {
            return Some(Attribute::new(id, rest, ty));
        }
    }
    if urn::is_valid_urn(value) {
        let (id, v) = urn::split_last(value);
        return Some(Attribute::new(id, v, TYPE_STRING));
    }
    None
}

/// A consumer string back from a result's subject category (spec §11.8).
pub fn consumer_from_attributes(attrs: &[Attribute]) -> Option<String> {
    attrs.iter().find_map(|a| {
        let prefix = match a.id.as_str() {
            ATTR_ORG => "/org/",
            ATTR_USER_ID => "/user/",
            ATTR_SYSTEM_USER => "/systemuser/",
            ATTR_ORG_NUMBER => "/organisation/",
            _ => return None,
        };
        let mut s = String::from(prefix);
        s.push_str(&a.value);
        Some(s)
    })
}

/// The subject category of a consumer (push authorization, subscriptions).
pub fn subject_from_consumer(consumer: &str, include_in_result: bool) -> Category {
    let attrs = subject_attribute(consumer)
        .map(|mut a| {
            a.include_in_result = include_in_result;
            vec![a]
        })
        .unwrap_or_default();
    Category::new(attrs)
}

/// The attributes of an event the mappers read: a parsed [`CloudEvent`], or the columns of a
/// stored event ([`EventAttrs`]).
pub trait EventView {
    fn id(&self) -> &str;
    fn type_(&self) -> &str;
    fn source(&self) -> &str;
    fn subject(&self) -> Option<&str>;
    fn resource(&self) -> Option<&str>;
    fn resource_instance(&self) -> Option<&str>;
}

impl EventView for CloudEvent {
    fn id(&self) -> &str {
        CloudEvent::id(self)
    }
    fn type_(&self) -> &str {
        CloudEvent::type_(self)
    }
    fn source(&self) -> &str {
        CloudEvent::source(self)
    }
    fn subject(&self) -> Option<&str> {
        CloudEvent::subject(self)
    }
    fn resource(&self) -> Option<&str> {
        CloudEvent::resource(self)
    }
    fn resource_instance(&self) -> Option<&str> {
        CloudEvent::resource_instance(self)
    }
}

/// Borrowed event attributes (e.g. from storage columns).
#[derive(Clone, Copy, Debug)]
pub struct EventAttrs<'a> {
    pub id: &'a str,
    pub type_: &'a str,
    pub source: &'a str,
    pub subject: Option<&'a str>,
    pub resource: Option<&'a str>,
    pub resource_instance: Option<&'a str>,
}

impl EventView for EventAttrs<'_> {
    fn id(&self) -> &str {
        self.id
    }
    fn type_(&self) -> &str {
        self.type_
    }
    fn source(&self) -> &str {
        self.source
    }
    fn subject(&self) -> Option<&str> {
        self.subject
    }
    fn resource(&self) -> Option<&str> {
        self.resource
    }
    fn resource_instance(&self) -> Option<&str> {
        self.resource_instance
    }
}

/// The resource category of a generic event (spec §11.2). `subject_override` replaces the
/// event subject (person-identifier replacement, §11.10): `Some(None)` means "no subject".
pub fn generic_event_resource<E: EventView + ?Sized>(
    event: &E,
    subject_override: Option<Option<&str>>,
) -> Category {
    let mut attrs = Vec::with_capacity(6);
    attrs.push(Attribute::new(ATTR_EVENT_ID, event.id(), TYPE_STRING).included());
    attrs.push(Attribute::new(ATTR_EVENT_TYPE, event.type_(), TYPE_STRING));
    attrs.push(Attribute::new(
        ATTR_EVENT_SOURCE,
        event.source(),
        TYPE_STRING,
    ));
    if let Some(resource) = event.resource() {
        let (id, value) = urn::split_last(resource);
        attrs.push(Attribute::new(id, value, TYPE_STRING));
    }
    let subject = match subject_override {
        Some(s) => s,
        None => event.subject(),
    };
    if let Some(a) = subject.and_then(subject_attribute) {
        attrs.push(a);
    }
    if let Some(ri) = event.resource_instance() {
        attrs.push(Attribute::new(ATTR_RESOURCE_INSTANCE, ri, TYPE_STRING));
    }
    Category::new(attrs)
}

/// Publishing a generic event (spec §11.4): the caller, action `publish`, the event.
pub fn publish_request<E: EventView + ?Sized>(
    caller: &Claims,
    event: &E,
    subject_override: Option<Option<&str>>,
) -> DecisionRequest {
    DecisionRequest::single(
        subject_from_claims(caller),
        action(Action::Publish.as_str(), false),
        generic_event_resource(event, subject_override),
    )
}

/// Reading generic events (spec §11.3): the caller, action `subscribe`, one resource per event.
pub fn generic_read_request(caller: &Claims, resources: Vec<Category>) -> DecisionRequest {
    DecisionRequest::multi(
        vec![subject_from_claims(caller)],
        vec![action(Action::Subscribe.as_str(), true)],
        resources,
    )
}

/// The resource category of an app event for reading it (spec §11.3): only events whose source
/// path has exactly 6 parts (`/{org}/{app}/instances/{party}/{guid}`) can be asked about.
pub fn app_event_read_resource<E: EventView + ?Sized>(event: &E) -> Option<Category> {
    let uri = crate::uri::AbsoluteUri::parse(event.source()).ok()?;
    let parts: Vec<&str> = uri.path_segments().collect();
    let [_, org, app, _, party_id, guid] = parts.as_slice() else {
        return None;
    };
    let mut instance = String::from(*party_id);
    instance.push('/');
    instance.push_str(guid);
    let party = event
        .subject()
        .and_then(|s| s.split('/').nth(2))
        .unwrap_or("");
    Some(Category::new(vec![
        Attribute::new(ATTR_INSTANCE_ID, &instance, TYPE_STRING).included(),
        Attribute::new(ATTR_APP_RESOURCE, "events", TYPE_STRING),
        Attribute::new(ATTR_EVENT_ID, event.id(), TYPE_STRING).included(),
        Attribute::new(ATTR_PARTY_ID, party, TYPE_STRING),
        Attribute::new(ATTR_ORG, org, TYPE_STRING),
        Attribute::new(ATTR_APP, app, TYPE_STRING),
    ]))
}

/// Reading app events (spec §11.3): the caller, action `read`, one resource per readable event.
pub fn app_read_request(caller: &Claims, resources: Vec<Category>) -> DecisionRequest {
    DecisionRequest::multi(
        vec![subject_from_claims(caller)],
        vec![action(Action::Read.as_str(), true)],
        resources,
    )
}

/// The single resource of a push-authorization request for an app event (spec §11.6).
pub fn app_event_push_resource<E: EventView + ?Sized>(
    event: &E,
    subject_override: Option<Option<&str>>,
) -> Category {
    let mut attrs = Vec::with_capacity(6);
    let (org, app): (String, String);
    let source_parts = crate::cloud_event::app_source_parts(event.source());
    if event.type_().starts_with("app.") {
        match &source_parts {
            Some(p) => {
                org = p.org.clone();
                app = p.app.clone();
                let mut instance = p.party_id.clone();
                instance.push('/');
                instance.push_str(&p.instance_guid);
                attrs.push(Attribute::new(ATTR_INSTANCE_ID, &instance, TYPE_STRING).included());
            }
            None => {
                org = String::new();
                app = String::new();
            }
        }
    } else {
        let id = event.resource().and_then(urn::resource_id).unwrap_or("");
        let (o, a) = urn::app_of_resource_id_full(id).unwrap_or(("", ""));
        org = o.to_owned();
        app = a.to_owned();
    }
    let subject = match subject_override {
        Some(s) => s,
        None => event.subject(),
    };
    if let Some(a) = subject.and_then(subject_attribute) {
        attrs.push(a.included());
    }
    attrs.push(Attribute::new(ATTR_ORG, &org, TYPE_STRING));
    attrs.push(Attribute::new(ATTR_APP, &app, TYPE_STRING));
    attrs.push(Attribute::new(ATTR_APP_RESOURCE, "events", TYPE_STRING));
    Category::new(attrs)
}

/// Authorizing several consumers for one event before pushing it (spec §11.6): one subject per
/// consumer (echoed in results), action `read` for app events and `subscribe` otherwise.
pub fn push_request<E: EventView + ?Sized>(
    consumers: &[&str],
    event: &E,
    subject_override: Option<Option<&str>>,
) -> DecisionRequest {
    let is_app = event.resource().is_some_and(urn::is_app_resource);
    let subjects = consumers
        .iter()
        .map(|c| subject_from_consumer(c, true))
        .collect();
    let (act, resource) = if is_app {
        (
            Action::Read,
            app_event_push_resource(event, subject_override),
        )
    } else {
        (
            Action::Subscribe,
            generic_event_resource(event, subject_override),
        )
    };
    DecisionRequest::multi(subjects, vec![action(act.as_str(), true)], vec![resource])
}

/// The consumers a push-authorization response permits (spec §11.6, §11.8): Permit results
/// whose subject maps back to a consumer string (obligations are not evaluated here).
pub fn permitted_consumers(response: &super::xacml::DecisionResponse) -> Vec<String> {
    response
        .results
        .iter()
        .filter(|r| r.decision == super::xacml::Decision::Permit)
        .filter_map(|r| consumer_from_attributes(r.attributes(super::xacml::CATEGORY_SUBJECT)))
        .collect()
}

/// The event id echoed in a result (`urn:altinn:event-id`).
pub fn result_event_id(result: &super::xacml::DecisionResult) -> Option<&str> {
    result.value(super::xacml::CATEGORY_RESOURCE, ATTR_EVENT_ID)
}

/// The resource id a resource category is about: `urn:altinn:resource` when present (generic
/// events, subscriptions), else `app_{org}_{app}` from the org and app attributes.
pub fn resource_id_of(resource: &Category) -> Option<String> {
    if let Some(r) = resource.value(ATTR_RESOURCE) {
        return Some(r.to_owned());
    }
    let org = resource.value(ATTR_ORG)?;
    let app = resource.value(ATTR_APP)?;
    Some(alloc::format!("app_{org}_{app}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use wasm_bindgen_test::wasm_bindgen_test;

    fn claims(v: Value) -> Claims {
        Claims::new(v.as_object().cloned().unwrap_or_default())
    }

    fn ids(c: &Category) -> Vec<(&str, &str)> {
        c.attributes
            .iter()
            .map(|a| (a.id.as_str(), a.value.as_str()))
            .collect()
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn caller_subject_keeps_one_identity() {
        let c = subject_from_claims(&claims(json!({
            "urn:altinn:userid": "1337", "urn:altinn:partyid": 50001337, "urn:altinn:authlevel": 2,
            "scope": "altinn:events.subscribe", "jti": "j1", "iss": "x", "exp": 5
        })));
        assert_eq!(
            ids(&c),
            vec![
                ("urn:altinn:sessionid", "j1"),
                ("urn:scope", "altinn:events.subscribe"),
                ("urn:altinn:authlevel", "2"),
                ("urn:altinn:userid", "1337")
            ]
        );
        let org = subject_from_claims(&claims(
            json!({"urn:altinn:org": "ttd", "urn:altinn:orgNumber": "991825827"}),
        ));
        assert_eq!(
            ids(&org),
            vec![
                ("urn:altinn:org", "ttd"),
                ("urn:altinn:organizationnumber", "991825827"),
                ("urn:altinn:organization:identifier-no", "991825827")
            ]
        );
        let sys = subject_from_claims(&claims(json!({
            "scope": "s", "urn:altinn:orgNumber": "1",
            "authorization_details": {"type": "urn:altinn:systemuser", "systemuser_id": ["4a80af94-1111-2222-3333-444455556666"]}
        })));
        assert_eq!(
            ids(&sys),
            vec![(
                "urn:altinn:systemuser:uuid",
                "4a80af94-1111-2222-3333-444455556666"
            )]
        );
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn consumer_and_subject_strings() {
        let cases = [
            (
                "/user/1337",
                Some(("urn:altinn:userid", "1337", TYPE_XS_STRING)),
            ),
            ("/org/ttd", Some(("urn:altinn:org", "ttd", TYPE_XS_STRING))),
            (
                "/party/500000",
                Some(("urn:altinn:partyid", "500000", TYPE_XS_INTEGER)),
            ),
            (
                "/organisation/912345678",
                Some((
                    "urn:altinn:organization:identifier-no",
                    "912345678",
                    TYPE_XS_STRING,
                )),
            ),
            (
                "/systemuser/abc",
                Some(("urn:altinn:systemuser:uuid", "abc", TYPE_XS_STRING)),
            ),
            (
                "urn:altinn:organization:identifier-no:912345678",
                Some((
                    "urn:altinn:organization:identifier-no",
                    "912345678",
                    TYPE_STRING,
                )),
            ),
            (
                "urn:altinn:person:identifier-no:12345678901",
                Some((
                    "urn:altinn:person:identifier-no",
                    "12345678901",
                    TYPE_STRING,
                )),
            ),
            ("/person/123", None),
            ("/organization/123", None),
            ("foobar", None),
        ];
        for (input, want) in cases {
            let got = subject_attribute(input).map(|a| (a.id, a.value, a.data_type));
            let want = want.map(|(a, b, c)| (a.to_owned(), b.to_owned(), c.to_owned()));
            assert_eq!(got, want, "{input}");
        }
        let back = consumer_from_attributes(&[
            Attribute::new("urn:altinn:partyid", "1", TYPE_STRING),
            Attribute::new("urn:altinn:userid", "7", TYPE_STRING),
        ]);
        assert_eq!(back.as_deref(), Some("/user/7"));
        assert_eq!(
            consumer_from_attributes(&[Attribute::new("urn:altinn:partyid", "1", TYPE_STRING)]),
            None
        );
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn generic_resource_attribute_counts() {
        let ev = |extra: &str| {
            let s = alloc::format!(
                r#"{{"specversion":"1.0","id":"e1","source":"https://s","type":"t","resource":"urn:altinn:resource:nbib.bokoversikt.api"{extra}}}"#
            );
            CloudEvent::parse(s.as_bytes()).unwrap()
        };
        assert_eq!(generic_event_resource(&ev(""), None).attributes.len(), 4);
        assert_eq!(
            generic_event_resource(&ev(r#","subject":"/person/1""#), None)
                .attributes
                .len(),
            4
        );
        let with_urn = generic_event_resource(
            &ev(r#","subject":"urn:altinn:organization:identifier-no:912345678""#),
            None,
        );
        assert_eq!(with_urn.attributes.len(), 5);
        assert_eq!(
            with_urn.value("urn:altinn:resource"),
            Some("nbib.bokoversikt.api")
        );
        assert!(with_urn.attributes[0].include_in_result);
        let with_ri =
            generic_event_resource(&ev(r#","subject":"foobar","resourceinstance":"ri""#), None);
        assert_eq!(with_ri.attributes.len(), 5);
        let replaced = generic_event_resource(
            &ev(r#","subject":"urn:altinn:person:identifier-no:1""#),
            Some(None),
        );
        assert_eq!(replaced.attributes.len(), 4);
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn app_event_mappers() {
        let app_event = EventAttrs {
            id: "e1",
            type_: "app.instance.created",
            source: "https://ttd.apps.altinn.no/ttd/apps-test/instances/50015641/a72223a3",
            subject: Some("/party/50015641"),
            resource: Some("urn:altinn:resource:app_ttd_apps-test"),
            resource_instance: Some("50015641/a72223a3"),
        };
        let push = app_event_push_resource(&app_event, None);
        assert_eq!(
            ids(&push),
            vec![
                ("urn:altinn:instance-id", "50015641/a72223a3"),
                ("urn:altinn:partyid", "50015641"),
                ("urn:altinn:org", "ttd"),
                ("urn:altinn:app", "apps-test"),
                ("urn:altinn:appresource", "events")
            ]
        );
        let dialog = EventAttrs {
            type_: "dialogporten.dialog.created",
            source: "https://dialogporten/x",
            subject: Some("urn:altinn:organization:identifier-no:912345678"),
            resource: Some("urn:altinn:resource:app_ttd_my_app"),
            ..app_event
        };
        let push = app_event_push_resource(&dialog, None);
        assert_eq!(
            ids(&push),
            vec![
                ("urn:altinn:organization:identifier-no", "912345678"),
                ("urn:altinn:org", "ttd"),
                ("urn:altinn:app", "my_app"),
                ("urn:altinn:appresource", "events")
            ]
        );
        let req = push_request(&["/org/ttd", "/user/12345"], &app_event, None);
        let v = req.to_json();
        assert_eq!(v["Request"]["Action"][0]["Attribute"][0]["Value"], "read");
        assert_eq!(
            v["Request"]["MultiRequests"]["RequestReference"]
                .as_array()
                .map(Vec::len),
            Some(2)
        );
        let generic = EventAttrs {
            resource: Some("urn:altinn:resource:r"),
            ..app_event
        };
        assert_eq!(
            push_request(&["/org/ttd"], &generic, None).to_json()["Request"]["Action"][0]
                ["Attribute"][0]["Value"],
            "subscribe"
        );

        let read = app_event_read_resource(&app_event).unwrap();
        assert_eq!(
            ids(&read),
            vec![
                ("urn:altinn:instance-id", "50015641/a72223a3"),
                ("urn:altinn:appresource", "events"),
                ("urn:altinn:event-id", "e1"),
                ("urn:altinn:partyid", "50015641"),
                ("urn:altinn:org", "ttd"),
                ("urn:altinn:app", "apps-test")
            ]
        );
        let short = EventAttrs {
            source: "https://ttd.apps.altinn.no/ttd/apps-test",
            ..app_event
        };
        assert!(app_event_read_resource(&short).is_none());

        let resp = super::super::xacml::DecisionResponse::from_json(&serde_json::json!({"Response": [
            {"Decision": "Permit", "Category": [{"CategoryId": super::super::xacml::CATEGORY_SUBJECT, "Attribute": [{"AttributeId": "urn:altinn:org", "Value": "ttd"}]}]},
            {"Decision": "Deny", "Category": [{"CategoryId": super::super::xacml::CATEGORY_SUBJECT, "Attribute": [{"AttributeId": "urn:altinn:userid", "Value": "1"}]}]},
            {"Decision": "Permit", "Category": [{"CategoryId": super::super::xacml::CATEGORY_SUBJECT, "Attribute": [{"AttributeId": "urn:altinn:partyid", "Value": "5"}]}]}
        ]})).unwrap();
        assert_eq!(permitted_consumers(&resp), vec!["/org/ttd".to_owned()]);
    }
}
