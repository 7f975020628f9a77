//! The built-in PDP: Altinn's decisions from data the service holds itself (CONTRACT §4):
//! resource rule documents, the party register and the roles users hold for parties.
//!
//! It evaluates the same XACML requests that would go to Altinn's PDP, so both modes share
//! every mapping. Evaluation is pure: the worker first asks [`needs`] what data a request
//! touches, loads it, then calls [`evaluate`].

use alloc::borrow::ToOwned;
use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};

use super::mapping::{
    resource_id_of, Action, ATTR_ORG, ATTR_ORG_NUMBER, ATTR_PARTY_ID, ATTR_PARTY_UUID,
    ATTR_PERSON_ID, ATTR_ROLE, ATTR_SCOPE, ATTR_SYSTEM_USER, ATTR_USER_ID,
};
use super::xacml::{
    Attribute, Category, Decision, DecisionRequest, DecisionResponse, DecisionResult, ACTION_ID,
    CATEGORY_ACTION, CATEGORY_RESOURCE, CATEGORY_SUBJECT,
};
use crate::identity::SCOPE_PUBLISH_ADMIN;
use crate::urn;

/// Subject attribute ids a rule may match on.
pub const RULE_ATTRIBUTES: [&str; 6] = [
    ATTR_ORG,
    ATTR_USER_ID,
    ATTR_ORG_NUMBER,
    ATTR_SYSTEM_USER,
    ATTR_ROLE,
    ATTR_SCOPE,
];

/// A resource's rule document (`PUT /events/api/v1/admin/resources/{id}`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResourcePolicy {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    #[serde(default)]
    pub rules: Vec<Rule>,
}

/// Who may do what: any matcher in `subjects` matching the caller grants every action listed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    pub actions: Vec<String>,
    pub subjects: Vec<BTreeMap<String, String>>,
}

impl ResourcePolicy {
    /// Parse and check a rule document; the error says what is wrong.
    pub fn parse(json: &[u8]) -> Result<ResourcePolicy, String> {
        let doc: ResourcePolicy = serde_json::from_slice(json)
            .map_err(|e| alloc::format!("The resource document is not valid: {e}"))?;
        if doc.owner.as_deref().is_some_and(str::is_empty) {
            return Err("'owner' must not be empty.".into());
        }
        for (i, rule) in doc.rules.iter().enumerate() {
            if rule.actions.is_empty() {
                return Err(alloc::format!(
                    "rules[{i}].actions must list at least one action."
                ));
            }
            for a in &rule.actions {
                if Action::parse(a).is_none() {
                    return Err(alloc::format!(
                        "rules[{i}].actions: unknown action '{a}' (use publish, subscribe or read)."
                    ));
                }
            }
            if rule.subjects.is_empty() {
                return Err(alloc::format!(
                    "rules[{i}].subjects must list at least one subject."
                ));
            }
            for (j, matcher) in rule.subjects.iter().enumerate() {
                if matcher.is_empty() {
                    return Err(alloc::format!(
                        "rules[{i}].subjects[{j}] must name at least one attribute."
                    ));
                }
                for key in matcher.keys() {
                    if !RULE_ATTRIBUTES.contains(&key.as_str()) {
                        return Err(alloc::format!(
                            "rules[{i}].subjects[{j}]: unknown attribute '{key}' (use one of {}).",
                            RULE_ATTRIBUTES.join(", ")
                        ));
                    }
                }
            }
        }
        Ok(doc)
    }

    pub fn to_json(&self) -> String {
        crate::json::to_json(self)
    }
}

/// A party register entry (`PUT /events/api/v1/admin/parties/{partyId}`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Party {
    #[serde(default)]
    pub party_id: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub party_uuid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub person_identifier: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization_identifier: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub main_unit_party_id: Option<i64>,
    /// Roles per user id, e.g. `{"1337": ["DAGL", "PRIV"]}`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub roles: BTreeMap<String, Vec<String>>,
}

impl Party {
    /// Parse a register entry for `party_id` (the id in the URL wins over one in the body).
    pub fn parse(party_id: i64, json: &[u8]) -> Result<Party, String> {
        let mut p: Party = serde_json::from_slice(json)
            .map_err(|e| alloc::format!("The party document is not valid: {e}"))?;
        if p.party_id != 0 && p.party_id != party_id {
            return Err("'partyId' in the body differs from the party id in the URL.".into());
        }
        p.party_id = party_id;
        if let Some(uuid) = &p.party_uuid {
            p.party_uuid = Some(
                crate::identity::parse_guid(uuid)
                    .ok_or_else(|| String::from("'partyUuid' must be a GUID."))?,
            );
        }
        for (field, value) in [
            ("personIdentifier", &p.person_identifier),
            ("organizationIdentifier", &p.organization_identifier),
        ] {
            if value
                .as_deref()
                .is_some_and(|v| v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()))
            {
                return Err(alloc::format!("'{field}' must be digits."));
            }
        }
        Ok(p)
    }

    pub fn to_json(&self) -> String {
        crate::json::to_json(self)
    }

    /// True when the user holds any role for this party.
    pub fn user_has_any_role(&self, user_id: &str) -> bool {
        self.roles.get(user_id).is_some_and(|r| !r.is_empty())
    }

    /// True when the user holds this role for this party.
    pub fn user_has_role(&self, user_id: &str, role: &str) -> bool {
        self.roles
            .get(user_id)
            .is_some_and(|r| r.iter().any(|x| x.eq_ignore_ascii_case(role)))
    }
}

/// How a resource category names the party an event or subscription is about.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum PartyKey {
    Id(i64),
    Uuid(String),
    OrgNumber(String),
    PersonId(String),
}

impl PartyKey {
    /// The party key of a resource category, if it names one.
    pub fn of_resource(resource: &Category) -> Option<PartyKey> {
        if let Some(id) = resource.value(ATTR_PARTY_ID) {
            return id.parse().ok().map(PartyKey::Id);
        }
        if let Some(u) = resource.value(ATTR_PARTY_UUID) {
            return Some(PartyKey::Uuid(u.to_ascii_lowercase()));
        }
        if let Some(n) = resource.value(ATTR_ORG_NUMBER) {
            return Some(PartyKey::OrgNumber(n.to_owned()));
        }
        resource
            .value(ATTR_PERSON_ID)
            .map(|p| PartyKey::PersonId(p.to_owned()))
    }

    fn matches(&self, p: &Party) -> bool {
        match self {
            PartyKey::Id(id) => p.party_id == *id,
            PartyKey::Uuid(u) => p.party_uuid.as_deref() == Some(u.as_str()),
            PartyKey::OrgNumber(n) => p.organization_identifier.as_deref() == Some(n.as_str()),
            PartyKey::PersonId(n) => p.person_identifier.as_deref() == Some(n.as_str()),
        }
    }
}

/// What a request touches: the resource documents, parties and users' own parties to load
/// before evaluating.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Needs {
    pub resources: Vec<String>,
    pub parties: Vec<PartyKey>,
    /// User ids (subjects of the request) whose own party matters.
    pub users: Vec<String>,
}

/// The data to load for a request. Parties are only needed when a rule or default looks at
/// roles, but loading them for every resource category keeps this simple and cheap.
pub fn needs(request: &DecisionRequest) -> Needs {
    let mut n = Needs::default();
    for r in &request.resources {
        if let Some(id) = resource_id_of(r) {
            if !urn::is_app_resource_id(&id) && !n.resources.contains(&id) {
                n.resources.push(id);
            }
        }
        if let Some(k) = PartyKey::of_resource(r) {
            if !n.parties.contains(&k) {
                n.parties.push(k);
            }
        }
    }
    if !n.parties.is_empty() {
        for s in &request.subjects {
            for a in s.attributes.iter().filter(|a| a.id == ATTR_USER_ID) {
                if !n.users.contains(&a.value) {
                    n.users.push(a.value.clone());
                }
            }
        }
    }
    n
}

/// Everything the built-in PDP knows while deciding one request.
#[derive(Clone, Debug, Default)]
pub struct PolicyData {
    /// Rule documents by resource id (absent = no document).
    pub resources: BTreeMap<String, ResourcePolicy>,
    pub parties: Vec<Party>,
    /// A user's own party (from the `urn:altinn:partyid` claim of their token, or learned from
    /// it earlier), by user id.
    pub user_parties: BTreeMap<String, i64>,
}

impl PolicyData {
    fn party(&self, key: &PartyKey) -> Option<&Party> {
        self.parties.iter().find(|p| key.matches(p))
    }
}

fn has(subject: &Category, id: &str, value: &str) -> bool {
    subject
        .attributes
        .iter()
        .any(|a| a.id == id && a.value == value)
}

fn has_scope(subject: &Category, scope: &str) -> bool {
    subject
        .attributes
        .iter()
        .filter(|a| a.id == ATTR_SCOPE)
        .any(|a| a.value.split(' ').any(|s| s == scope))
}

fn decide(subject: &Category, action: Action, resource: &Category, data: &PolicyData) -> Decision {
    let Some(resource_id) = resource_id_of(resource) else {
        return Decision::NotApplicable;
    };
    let is_app = urn::is_app_resource_id(&resource_id);
    let policy = data.resources.get(&resource_id);
    let owner: Option<&str> = if is_app {
        urn::app_of_resource_id_full(&resource_id).map(|(org, _)| org)
    } else {
        policy.and_then(|p| p.owner.as_deref())
    };
    // 1. The owner org may do everything with its resource.
    if let Some(owner) = owner.filter(|o| !o.is_empty()) {
        if has(subject, ATTR_ORG, owner) {
            return Decision::Permit;
        }
    }
    // 2. Admin publishers may publish anywhere.
    if action == Action::Publish
        && subject
            .attributes
            .iter()
            .filter(|a| a.id == ATTR_SCOPE)
            .any(|a| {
                a.value
                    .split(' ')
                    .any(|s| s.eq_ignore_ascii_case(SCOPE_PUBLISH_ADMIN))
            })
    {
        return Decision::Permit;
    }
    let party = PartyKey::of_resource(resource).and_then(|k| data.party(&k));
    let user = subject
        .attributes
        .iter()
        .find(|a| a.id == ATTR_USER_ID)
        .map(|a| a.value.as_str());
    // 3. Rules of the resource document.
    if let Some(policy) = policy {
        for rule in &policy.rules {
            if !rule.actions.iter().any(|a| a == action.as_str()) {
                continue;
            }
            let matched = rule.subjects.iter().any(|m| {
                m.iter().all(|(id, value)| match id.as_str() {
                    ATTR_ROLE => match (party, user) {
                        (Some(p), Some(u)) => p.user_has_role(u, value),
                        _ => false,
                    },
                    ATTR_SCOPE => has_scope(subject, value),
                    _ => has(subject, id, value),
                })
            });
            if matched {
                return Decision::Permit;
            }
        }
    }
    // 4. Users may read and subscribe app events about their own party or a party they
    //    hold a role for.
    if is_app && matches!(action, Action::Read | Action::Subscribe) {
        if let (Some(party_id), Some(caller_party)) = (
            resource.value(ATTR_PARTY_ID),
            subject.attributes.iter().find(|a| a.id == ATTR_PARTY_ID),
        ) {
            if caller_party.value == party_id {
                return Decision::Permit;
            }
        }
        if let (Some(p), Some(u)) = (party, user) {
            if p.user_has_any_role(u) {
                return Decision::Permit;
            }
        }
        if let (Some(PartyKey::Id(party_id)), Some(u)) = (PartyKey::of_resource(resource), user) {
            if data.user_parties.get(u) == Some(&party_id) {
                return Decision::Permit;
            }
        }
    }
    Decision::Deny
}

fn echoed(category_id: &str, c: &Category) -> (String, Vec<Attribute>) {
    (
        category_id.to_owned(),
        c.attributes
            .iter()
            .filter(|a| a.include_in_result)
            .cloned()
            .collect(),
    )
}

/// Decide every (subject, action, resource) combination of the request.
pub fn evaluate(request: &DecisionRequest, data: &PolicyData) -> DecisionResponse {
    let results = request
        .triples()
        .into_iter()
        .map(|t| {
            let decision = match t.action.value(ACTION_ID).and_then(Action::parse) {
                Some(action) => decide(t.subject, action, t.resource, data),
                None => Decision::NotApplicable,
            };
            DecisionResult {
                decision,
                categories: alloc::vec![
                    echoed(CATEGORY_SUBJECT, t.subject),
                    echoed(CATEGORY_ACTION, t.action),
                    echoed(CATEGORY_RESOURCE, t.resource),
                ],
                obligations: Vec::new(),
            }
        })
        .collect();
    DecisionResponse { results }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::authz::mapping::{publish_request, subject_from_claims};
    use crate::authz::xacml::{action, TYPE_STRING};
    use crate::cloud_event::CloudEvent;
    use crate::identity::Claims;
    use serde_json::json;
    use wasm_bindgen_test::wasm_bindgen_test;

    fn claims(v: serde_json::Value) -> Claims {
        Claims::new(v.as_object().cloned().unwrap_or_default())
    }

    fn event(resource: &str, subject: Option<&str>) -> CloudEvent {
        let mut e = CloudEvent::new("e1", "https://s", "t");
        e.set("resource", resource);
        if let Some(s) = subject {
            e.set("subject", s);
        }
        e
    }

    fn data_with(resource: &str, doc: &str, parties: Vec<Party>) -> PolicyData {
        let mut d = PolicyData::default();
        d.resources.insert(
            resource.into(),
            ResourcePolicy::parse(doc.as_bytes()).unwrap(),
        );
        d.parties = parties;
        d
    }

    fn permits(req: &DecisionRequest, data: &PolicyData) -> bool {
        evaluate(req, data).first_is_permit()
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn owner_admin_rules_and_default_deny() {
        let data = data_with(
            "nbib.bokoversikt.api",
            r#"{"owner":"nbib","rules":[{"actions":["publish"],"subjects":[{"urn:altinn:org":"digdir"},{"urn:scope":"x:y","urn:altinn:organization:identifier-no":"911"}]}]}"#,
            Vec::new(),
        );
        let ev = event("urn:altinn:resource:nbib.bokoversikt.api", None);
        let ask = |c: serde_json::Value| permits(&publish_request(&claims(c), &ev, None), &data);
        assert!(ask(json!({"urn:altinn:org": "nbib"})), "owner");
        assert!(ask(json!({"urn:altinn:org": "digdir"})), "rule by org");
        assert!(!ask(json!({"urn:altinn:org": "ttd"})), "other org");
        assert!(
            ask(
                json!({"urn:altinn:org": "ttd", "scope": "altinn:events.publish altinn:events.publish.admin"})
            ),
            "admin scope"
        );
        assert!(
            ask(json!({"urn:altinn:orgNumber": "911", "scope": "x:y"})),
            "rule with two attributes"
        );
        assert!(
            !ask(json!({"urn:altinn:orgNumber": "911"})),
            "rule needs every attribute"
        );
        let unknown = event("urn:altinn:resource:nothing", None);
        assert!(!permits(
            &publish_request(&claims(json!({"urn:altinn:org": "ttd"})), &unknown, None),
            &data
        ));
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn app_resources_are_owned_by_their_org_and_readable_by_party_users() {
        let party = Party {
            party_id: 500,
            roles: [("1337".to_owned(), alloc::vec!["DAGL".to_owned()])]
                .into_iter()
                .collect(),
            ..Party::default()
        };
        let data = PolicyData {
            parties: alloc::vec![party],
            ..PolicyData::default()
        };
        let resource = Category::new(alloc::vec![
            Attribute::new("urn:altinn:org", "ttd", TYPE_STRING),
            Attribute::new("urn:altinn:app", "apps-test", TYPE_STRING),
            Attribute::new("urn:altinn:partyid", "500", TYPE_STRING),
        ]);
        let read = |c: serde_json::Value| {
            permits(
                &DecisionRequest::single(
                    subject_from_claims(&claims(c)),
                    action("read", false),
                    resource.clone(),
                ),
                &data,
            )
        };
        assert!(read(json!({"urn:altinn:org": "ttd"})));
        assert!(!read(json!({"urn:altinn:org": "skd"})));
        assert!(read(json!({"urn:altinn:userid": "1337"})), "role holder");
        assert!(!read(json!({"urn:altinn:userid": "7"})), "no role");
        assert!(read(json!({"urn:altinn:partyid": "500"})), "own party");
        // A user's own party, known from their token: the request carries only the user id.
        let mut own = data.clone();
        own.user_parties.insert("42".into(), 500);
        let req = DecisionRequest::single(
            subject_from_claims(&claims(
                json!({"urn:altinn:userid": "42", "urn:altinn:partyid": "500"}),
            )),
            action("read", false),
            resource.clone(),
        );
        assert_eq!(needs(&req).users, alloc::vec![String::from("42")]);
        assert!(
            !permits(&req, &data),
            "the request alone does not carry the party"
        );
        assert!(permits(&req, &own));
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn role_rules_use_the_party_of_the_event() {
        let party = Party {
            party_id: 1,
            organization_identifier: Some("912345678".into()),
            roles: [("42".to_owned(), alloc::vec!["DAGL".to_owned()])]
                .into_iter()
                .collect(),
            ..Party::default()
        };
        let data = data_with(
            "r",
            r#"{"owner":"x","rules":[{"actions":["subscribe"],"subjects":[{"urn:altinn:rolecode":"dagl"}]}]}"#,
            alloc::vec![party],
        );
        let ev = event(
            "urn:altinn:resource:r",
            Some("urn:altinn:organization:identifier-no:912345678"),
        );
        let req = |user: &str| {
            DecisionRequest::single(
                subject_from_claims(&claims(json!({"urn:altinn:userid": user}))),
                action("subscribe", false),
                crate::authz::mapping::generic_event_resource(&ev, None),
            )
        };
        assert_eq!(
            needs(&req("42")).parties,
            alloc::vec![PartyKey::OrgNumber("912345678".into())]
        );
        assert_eq!(needs(&req("42")).resources, alloc::vec![String::from("r")]);
        assert!(permits(&req("42"), &data));
        assert!(!permits(&req("43"), &data));
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn document_validation() {
        let bad = [
            (r#"{"owner":""}"#, "'owner' must not be empty."),
            (
                r#"{"rules":[{"actions":[],"subjects":[{"urn:altinn:org":"a"}]}]}"#,
                "rules[0].actions must list at least one action.",
            ),
            (
                r#"{"rules":[{"actions":["write"],"subjects":[{"urn:altinn:org":"a"}]}]}"#,
                "rules[0].actions: unknown action 'write' (use publish, subscribe or read).",
            ),
            (
                r#"{"rules":[{"actions":["read"],"subjects":[]}]}"#,
                "rules[0].subjects must list at least one subject.",
            ),
            (
                r#"{"rules":[{"actions":["read"],"subjects":[{}]}]}"#,
                "rules[0].subjects[0] must name at least one attribute.",
            ),
        ];
        for (doc, msg) in bad {
            assert_eq!(
                ResourcePolicy::parse(doc.as_bytes()).unwrap_err(),
                msg,
                "{doc}"
            );
        }
        assert!(ResourcePolicy::parse(br#"{"owner":"a","extra":1}"#)
            .unwrap_err()
            .starts_with("The resource document is not valid: unknown field `extra`"));
        assert!(ResourcePolicy::parse(
            br#"{"rules":[{"actions":["read"],"subjects":[{"urn:x":"a"}]}]}"#
        )
        .unwrap_err()
        .contains("unknown attribute 'urn:x'"));
        let p = Party::parse(
            7,
            br#"{"partyUuid":"4A80AF94-1111-2222-3333-444455556666","roles":{"1":["PRIV"]}}"#,
        )
        .unwrap();
        assert_eq!(p.party_id, 7);
        assert_eq!(
            p.to_json(),
            r#"{"partyId":7,"partyUuid":"4a80af94-1111-2222-3333-444455556666","roles":{"1":["PRIV"]}}"#
        );
        assert!(Party::parse(7, br#"{"personIdentifier":"12x"}"#).is_err());
        assert!(Party::parse(7, br#"{"partyId":8}"#).is_err());
    }
}
