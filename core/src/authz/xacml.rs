//! XACML 3.0 JSON-profile requests and responses, shaped as Altinn's PEP library and the
//! Events mappers build them (spec §11.1).

use alloc::borrow::ToOwned;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use serde::{Serialize, Serializer};
use serde_json::Value;

pub const ISSUER: &str = "Altinn";
pub const TYPE_STRING: &str = "string";
pub const TYPE_XS_STRING: &str = "http://www.w3.org/2001/XMLSchema#string";
pub const TYPE_XS_INTEGER: &str = "http://www.w3.org/2001/XMLSchema#integer";

pub const ACTION_ID: &str = "urn:oasis:names:tc:xacml:1.0:action:action-id";
pub const CATEGORY_SUBJECT: &str = "urn:oasis:names:tc:xacml:1.0:subject-category:access-subject";
pub const CATEGORY_ACTION: &str = "urn:oasis:names:tc:xacml:3.0:attribute-category:action";
pub const CATEGORY_RESOURCE: &str = "urn:oasis:names:tc:xacml:3.0:attribute-category:resource";

pub const OBLIGATION_MIN_AUTH_LEVEL: &str = "urn:altinn:minimum-authenticationlevel";
pub const OBLIGATION_MIN_AUTH_LEVEL_ORG: &str = "urn:altinn:minimum-authenticationlevel-org";

/// One attribute of a category.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Attribute {
    #[serde(rename = "AttributeId")]
    pub id: String,
    #[serde(rename = "Value")]
    pub value: String,
    #[serde(rename = "DataType")]
    pub data_type: String,
    #[serde(rename = "Issuer", skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    #[serde(rename = "IncludeInResult")]
    pub include_in_result: bool,
}

impl Attribute {
    pub fn new(id: &str, value: &str, data_type: &str) -> Self {
        Attribute {
            id: id.to_owned(),
            value: value.to_owned(),
            data_type: data_type.to_owned(),
            issuer: Some(ISSUER.to_owned()),
            include_in_result: false,
        }
    }

    pub fn included(mut self) -> Self {
        self.include_in_result = true;
        self
    }

    fn from_json(v: &Value) -> Option<Attribute> {
        let value = match v.get("Value")? {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        Some(Attribute {
            id: v.get("AttributeId")?.as_str()?.to_owned(),
            value,
            data_type: v
                .get("DataType")
                .and_then(Value::as_str)
                .unwrap_or(TYPE_STRING)
                .to_owned(),
            issuer: v
                .get("Issuer")
                .and_then(Value::as_str)
                .map(ToOwned::to_owned),
            include_in_result: v
                .get("IncludeInResult")
                .and_then(Value::as_bool)
                .unwrap_or(false),
        })
    }
}

/// A category (one subject, one action or one resource) of a request.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Category {
    /// `s1`, `a1`, `r1`, … in multi-decision requests.
    #[serde(rename = "Id", skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(rename = "Attribute")]
    pub attributes: Vec<Attribute>,
}

impl Category {
    pub fn new(attributes: Vec<Attribute>) -> Self {
        Category {
            id: None,
            attributes,
        }
    }

    pub fn with_id(mut self, id: String) -> Self {
        self.id = Some(id);
        self
    }

    /// The value of the first attribute with this id.
    pub fn value(&self, id: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|a| a.id == id)
            .map(|a| a.value.as_str())
    }

    fn from_json(v: &Value) -> Category {
        Category {
            id: v.get("Id").and_then(Value::as_str).map(ToOwned::to_owned),
            attributes: v
                .get("Attribute")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Attribute::from_json).collect())
                .unwrap_or_default(),
        }
    }
}

/// The action category with one `action-id` attribute.
pub fn action(action: &str, include_in_result: bool) -> Category {
    let mut a = Attribute::new(ACTION_ID, action, TYPE_STRING);
    a.include_in_result = include_in_result;
    Category::new(alloc::vec![a])
}

/// A decision request: one or more subjects, actions and resources. With more than one of
/// any, it is a multi-decision request over every combination (`MultiRequests`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DecisionRequest {
    pub subjects: Vec<Category>,
    pub actions: Vec<Category>,
    pub resources: Vec<Category>,
    pub multi: bool,
}

/// One (subject, action, resource) combination of a request.
#[derive(Clone, Copy, Debug)]
pub struct Triple<'a> {
    pub subject: &'a Category,
    pub action: &'a Category,
    pub resource: &'a Category,
}

impl DecisionRequest {
    /// A single decision request.
    pub fn single(subject: Category, action: Category, resource: Category) -> Self {
        DecisionRequest {
            subjects: alloc::vec![subject],
            actions: alloc::vec![action],
            resources: alloc::vec![resource],
            multi: false,
        }
    }

    /// A multi-decision request; categories get the ids `s1.., a1.., r1..`.
    pub fn multi(
        subjects: Vec<Category>,
        actions: Vec<Category>,
        resources: Vec<Category>,
    ) -> Self {
        fn number(cats: Vec<Category>, prefix: &str) -> Vec<Category> {
            cats.into_iter()
                .enumerate()
                .map(|(i, c)| c.with_id(alloc::format!("{prefix}{}", i + 1)))
                .collect()
        }
        DecisionRequest {
            subjects: number(subjects, "s"),
            actions: number(actions, "a"),
            resources: number(resources, "r"),
            multi: true,
        }
    }

    /// Every combination, in the order Altinn lists its request references
    /// (subjects outermost, then actions, then resources).
    pub fn triples(&self) -> Vec<Triple<'_>> {
        let mut out =
            Vec::with_capacity(self.subjects.len() * self.actions.len() * self.resources.len());
        for s in &self.subjects {
            for a in &self.actions {
                for r in &self.resources {
                    out.push(Triple {
                        subject: s,
                        action: a,
                        resource: r,
                    });
                }
            }
        }
        out
    }

    /// The JSON-profile request body as a [`Value`] (for inspection; the remote-PDP call
    /// writes the request with its `Serialize` impl).
    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }

    /// Parse a JSON-profile request (used by the PDP stand-in in tests and by the built-in
    /// PDP when asked over HTTP).
    pub fn from_json(v: &Value) -> Option<DecisionRequest> {
        let r = v.get("Request")?;
        let cats = |name: &str| -> Vec<Category> {
            r.get(name)
                .and_then(Value::as_array)
                .map(|a| a.iter().map(Category::from_json).collect())
                .unwrap_or_default()
        };
        Some(DecisionRequest {
            subjects: cats("AccessSubject"),
            actions: cats("Action"),
            resources: cats("Resource"),
            multi: r.get("MultiRequests").is_some(),
        })
    }
}

/// A PDP decision.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    Permit,
    Deny,
    NotApplicable,
    Indeterminate,
}

impl Decision {
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Permit => "Permit",
            Decision::Deny => "Deny",
            Decision::NotApplicable => "NotApplicable",
            Decision::Indeterminate => "Indeterminate",
        }
    }

    fn parse(s: &str) -> Decision {
        match s {
            "Permit" => Decision::Permit,
            "Deny" => Decision::Deny,
            "NotApplicable" => Decision::NotApplicable,
            _ => Decision::Indeterminate,
        }
    }
}

/// An obligation attribute assignment (`Category` + `Value`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Obligation {
    pub category: String,
    pub value: String,
}

/// One result of a response: the decision, the echoed attributes (those with
/// `IncludeInResult`) per category, and obligations.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecisionResult {
    pub decision: Decision,
    /// (CategoryId, attributes).
    pub categories: Vec<(String, Vec<Attribute>)>,
    pub obligations: Vec<Obligation>,
}

impl DecisionResult {
    /// The value of an echoed attribute in a category.
    pub fn value(&self, category: &str, attribute: &str) -> Option<&str> {
        self.categories
            .iter()
            .filter(|(c, _)| c == category)
            .flat_map(|(_, attrs)| attrs.iter())
            .find(|a| a.id == attribute)
            .map(|a| a.value.as_str())
    }

    /// The echoed attributes of a category.
    pub fn attributes(&self, category: &str) -> &[Attribute] {
        self.categories
            .iter()
            .find(|(c, _)| c == category)
            .map(|(_, a)| a.as_slice())
            .unwrap_or(&[])
    }

    fn from_json(v: &Value) -> DecisionResult {
        let decision = Decision::parse(v.get("Decision").and_then(Value::as_str).unwrap_or(""));
        let categories = v
            .get("Category")
            .and_then(Value::as_array)
            .map(|cats| {
                cats.iter()
                    .map(|c| {
                        let id = c
                            .get("CategoryId")
                            .and_then(Value::as_str)
                            .unwrap_or("")
                            .to_owned();
                        (id, Category::from_json(c).attributes)
                    })
                    .collect()
            })
            .unwrap_or_default();
        let obligations = v
            .get("Obligations")
            .and_then(Value::as_array)
            .map(|obs| {
                obs.iter()
                    .flat_map(|o| {
                        o.get("AttributeAssignment")
                            .and_then(Value::as_array)
                            .cloned()
                            .unwrap_or_default()
                    })
                    .filter_map(|a| {
                        Some(Obligation {
                            category: a.get("Category")?.as_str()?.to_owned(),
                            value: match a.get("Value")? {
                                Value::String(s) => s.clone(),
                                other => other.to_string(),
                            },
                        })
                    })
                    .collect()
            })
            .unwrap_or_default();
        DecisionResult {
            decision,
            categories,
            obligations,
        }
    }

    /// Altinn's `ValidateDecisionResult` (spec §11.9): Permit, and if a minimum
    /// authentication level obligation is present, the caller meets it (orgs may meet the
    /// `-org` variant instead).
    pub fn is_valid_for(&self, auth_level: Option<i64>, caller_is_org: bool) -> bool {
        if self.decision != Decision::Permit {
            return false;
        }
        let level = |cat: &str| {
            self.obligations
                .iter()
                .find(|o| o.category == cat)
                .and_then(|o| o.value.parse::<i64>().ok())
        };
        match level(OBLIGATION_MIN_AUTH_LEVEL) {
            None => true,
            Some(min) => {
                let have = auth_level.unwrap_or(0);
                if have >= min {
                    return true;
                }
                caller_is_org
                    && level(OBLIGATION_MIN_AUTH_LEVEL_ORG).is_some_and(|min_org| have >= min_org)
            }
        }
    }
}

/// A PDP response.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct DecisionResponse {
    #[serde(rename = "Response")]
    pub results: Vec<DecisionResult>,
}

impl DecisionResponse {
    /// The JSON-profile response as a [`Value`] (the built-in PDP and the test stand-in write
    /// it with its `Serialize` impl).
    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }

    /// Parse a PDP answer; `None` if it is not a JSON-profile response.
    pub fn from_json(v: &Value) -> Option<DecisionResponse> {
        let results = v.get("Response")?.as_array()?;
        Some(DecisionResponse {
            results: results.iter().map(DecisionResult::from_json).collect(),
        })
    }

    /// The first result is a Permit (single-decision checks: publish, subscription).
    pub fn first_is_permit(&self) -> bool {
        self.results
            .first()
            .is_some_and(|r| r.decision == Decision::Permit)
    }
}

impl Serialize for DecisionRequest {
    /// `{"Request": {"AccessSubject": [...], "Action": [...], "Resource": [...]}}`, with
    /// `MultiRequests` listing every (subject, action, resource) reference of a multi-decision
    /// request.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Envelope<'a> {
            #[serde(rename = "Request")]
            request: Body<'a>,
        }
        #[derive(Serialize)]
        #[serde(rename_all = "PascalCase")]
        struct Body<'a> {
            access_subject: &'a [Category],
            action: &'a [Category],
            resource: &'a [Category],
            #[serde(skip_serializing_if = "Option::is_none")]
            multi_requests: Option<MultiRequests<'a>>,
        }
        #[derive(Serialize)]
        #[serde(rename_all = "PascalCase")]
        struct MultiRequests<'a> {
            request_reference: Vec<Reference<'a>>,
        }
        #[derive(Serialize)]
        #[serde(rename_all = "PascalCase")]
        struct Reference<'a> {
            reference_id: [&'a str; 3],
        }
        fn id(c: &Category) -> &str {
            c.id.as_deref().unwrap_or_default()
        }
        let multi_requests = self.multi.then(|| MultiRequests {
            request_reference: self
                .triples()
                .into_iter()
                .map(|t| Reference {
                    reference_id: [id(t.subject), id(t.action), id(t.resource)],
                })
                .collect(),
        });
        Envelope {
            request: Body {
                access_subject: &self.subjects,
                action: &self.actions,
                resource: &self.resources,
                multi_requests,
            },
        }
        .serialize(serializer)
    }
}

impl Serialize for DecisionResult {
    /// `Decision`, an ok `Status`, the minimum-authentication-level `Obligations` (if any) and
    /// the echoed attributes per `Category`.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        #[serde(rename_all = "PascalCase")]
        struct Result<'a> {
            decision: &'static str,
            status: Status,
            #[serde(skip_serializing_if = "Option::is_none")]
            obligations: Option<[ObligationJson<'a>; 1]>,
            category: Vec<ResultCategory<'a>>,
        }
        #[derive(Serialize)]
        #[serde(rename_all = "PascalCase")]
        struct Status {
            status_code: StatusCode,
        }
        #[derive(Serialize)]
        #[serde(rename_all = "PascalCase")]
        struct StatusCode {
            value: &'static str,
        }
        #[derive(Serialize)]
        #[serde(rename_all = "PascalCase")]
        struct ObligationJson<'a> {
            id: &'static str,
            attribute_assignment: Vec<Assignment<'a>>,
        }
        #[derive(Serialize)]
        #[serde(rename_all = "PascalCase")]
        struct Assignment<'a> {
            attribute_id: &'static str,
            value: &'a str,
            category: &'a str,
            data_type: &'static str,
        }
        #[derive(Serialize)]
        #[serde(rename_all = "PascalCase")]
        struct ResultCategory<'a> {
            category_id: &'a str,
            attribute: &'a [Attribute],
        }
        let obligations = (!self.obligations.is_empty()).then(|| {
            [ObligationJson {
                id: "urn:altinn:obligation:authenticationLevel1",
                attribute_assignment: self
                    .obligations
                    .iter()
                    .map(|o| Assignment {
                        attribute_id: "urn:altinn:obligation-assignment-1",
                        value: &o.value,
                        category: &o.category,
                        data_type: TYPE_XS_INTEGER,
                    })
                    .collect(),
            }]
        });
        Result {
            decision: self.decision.as_str(),
            status: Status {
                status_code: StatusCode {
                    value: "urn:oasis:names:tc:xacml:1.0:status:ok",
                },
            },
            obligations,
            category: self
                .categories
                .iter()
                .map(|(id, attributes)| ResultCategory {
                    category_id: id,
                    attribute: attributes,
                })
                .collect(),
        }
        .serialize(serializer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;
    use serde_json::json;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test(unsupported = test)]
    fn multi_request_json_shape() {
        let req = DecisionRequest::multi(
            vec![
                Category::new(vec![Attribute::new(
                    "urn:altinn:org",
                    "ttd",
                    TYPE_XS_STRING,
                )
                .included()]),
                Category::new(vec![Attribute::new(
                    "urn:altinn:userid",
                    "12345",
                    TYPE_XS_STRING,
                )
                .included()]),
            ],
            vec![action("subscribe", true)],
            vec![Category::new(vec![Attribute::new(
                "urn:altinn:event-id",
                "e1",
                TYPE_STRING,
            )
            .included()])],
        );
        let v = req.to_json();
        assert_eq!(v["Request"]["AccessSubject"][1]["Id"], "s2");
        assert_eq!(
            v["Request"]["Action"][0]["Attribute"][0]["AttributeId"],
            ACTION_ID
        );
        assert_eq!(
            v["Request"]["MultiRequests"]["RequestReference"],
            json!([{"ReferenceId": ["s1", "a1", "r1"]}, {"ReferenceId": ["s2", "a1", "r1"]}])
        );
        assert_eq!(DecisionRequest::from_json(&v), Some(req));
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn obligations_gate_reads() {
        let r = DecisionResponse::from_json(&json!({"Response": [{
            "Decision": "Permit",
            "Obligations": [{"Id": "o", "AttributeAssignment": [
                {"AttributeId": "a", "Value": "3", "Category": OBLIGATION_MIN_AUTH_LEVEL},
                {"AttributeId": "b", "Value": "2", "Category": OBLIGATION_MIN_AUTH_LEVEL_ORG}]}],
            "Category": [{"CategoryId": CATEGORY_RESOURCE, "Attribute": [{"AttributeId": "urn:altinn:event-id", "Value": "e1"}]}]
        }]}))
        .unwrap();
        let res = &r.results[0];
        assert_eq!(
            res.value(CATEGORY_RESOURCE, "urn:altinn:event-id"),
            Some("e1")
        );
        assert!(res.is_valid_for(Some(3), false));
        assert!(!res.is_valid_for(Some(2), false));
        assert!(res.is_valid_for(Some(2), true));
        assert!(!res.is_valid_for(Some(1), true));
        let round = DecisionResponse::from_json(&r.to_json()).unwrap();
        assert_eq!(round, r);
    }
}
