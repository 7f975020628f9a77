//! [`StandInPdp`]: a small XACML JSON-profile PDP on loopback, standing in for Altinn
//! Authorization's `/authorization/api/v1/decision` (which cannot run here). It records every
//! request and decides by simple rules: "a subject with attribute `id` = `value` may do
//! `action`", optionally only for one event id.

use std::sync::{Arc, Mutex};

use events_core::authz::xacml::{
    Decision, DecisionRequest, DecisionResponse, DecisionResult, Obligation, ACTION_ID,
    CATEGORY_ACTION, CATEGORY_RESOURCE, CATEGORY_SUBJECT, OBLIGATION_MIN_AUTH_LEVEL,
};
use serde_json::Value;

use crate::receiver::TestReceiver;

#[derive(Clone, Debug)]
struct Rule {
    attribute: String,
    value: String,
    action: String,
    event_id: Option<String>,
}

#[derive(Default)]
struct State {
    rules: Vec<Rule>,
    min_auth_level: Option<u32>,
}

pub struct StandInPdp {
    receiver: TestReceiver,
    state: Arc<Mutex<State>>,
}

fn lock(m: &Mutex<State>) -> std::sync::MutexGuard<'_, State> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn decide(state: &State, request: &DecisionRequest) -> DecisionResponse {
    let results = request
        .triples()
        .into_iter()
        .map(|t| {
            let action = t.action.value(ACTION_ID).unwrap_or_default();
            let event_id = t.resource.value("urn:altinn:event-id");
            let permit = state.rules.iter().any(|r| {
                r.action == action
                    && t.subject
                        .attributes
                        .iter()
                        .any(|a| a.id == r.attribute && a.value == r.value)
                    && r.event_id.as_deref().is_none_or(|id| Some(id) == event_id)
            });
            let echo = |id: &str, c: &events_core::authz::xacml::Category| {
                (
                    id.to_owned(),
                    c.attributes
                        .iter()
                        .filter(|a| a.include_in_result)
                        .cloned()
                        .collect(),
                )
            };
            DecisionResult {
                decision: if permit {
                    Decision::Permit
                } else {
                    Decision::Deny
                },
                categories: vec![
                    echo(CATEGORY_SUBJECT, t.subject),
                    echo(CATEGORY_ACTION, t.action),
                    echo(CATEGORY_RESOURCE, t.resource),
                ],
                obligations: match (permit, state.min_auth_level) {
                    (true, Some(level)) => vec![Obligation {
                        category: OBLIGATION_MIN_AUTH_LEVEL.to_owned(),
                        value: level.to_string(),
                    }],
                    _ => Vec::new(),
                },
            }
        })
        .collect();
    DecisionResponse { results }
}

impl StandInPdp {
    /// Start on `127.0.0.1:<random port>`; denies everything until told otherwise.
    pub fn start() -> StandInPdp {
        let receiver = TestReceiver::start();
        let state = Arc::new(Mutex::new(State::default()));
        let shared = Arc::clone(&state);
        receiver.respond_using(move |req| {
            let Ok(body) = serde_json::from_str::<Value>(&req.body) else {
                return (400, "\"not JSON\"".to_owned());
            };
            let Some(request) = DecisionRequest::from_json(&body) else {
                return (400, "\"not a XACML request\"".to_owned());
            };
            (
                200,
                serde_json::to_string(&decide(&lock(&shared), &request)).unwrap_or_default(),
            )
        });
        StandInPdp { receiver, state }
    }

    /// The decision endpoint, for `PDP_URL`.
    pub fn url(&self) -> String {
        self.receiver.url_path("/authorization/api/v1/decision")
    }

    /// A subject with `attribute` = `value` may do `action`.
    pub fn permit(&self, attribute: &str, value: &str, action: &str) {
        lock(&self.state).rules.push(Rule {
            attribute: attribute.to_owned(),
            value: value.to_owned(),
            action: action.to_owned(),
            event_id: None,
        });
    }

    /// … but only for this event.
    pub fn permit_event(&self, attribute: &str, value: &str, action: &str, event_id: &str) {
        lock(&self.state).rules.push(Rule {
            attribute: attribute.to_owned(),
            value: value.to_owned(),
            action: action.to_owned(),
            event_id: Some(event_id.to_owned()),
        });
    }

    /// Forget every rule and obligation: deny everything again.
    pub fn reset(&self) {
        let mut state = lock(&self.state);
        state.rules.clear();
        state.min_auth_level = None;
    }

    /// Every Permit carries a minimum-authentication-level obligation.
    pub fn require_auth_level(&self, level: u32) {
        lock(&self.state).min_auth_level = Some(level);
    }

    /// Answer every request with this status and no decision (a failing PDP).
    pub fn fail_with(&self, status: u16) {
        self.receiver.respond_with(status);
    }

    /// Decide again after [`fail_with`](Self::fail_with).
    pub fn recover(&self) {
        self.receiver.respond_with(200);
    }

    /// Every request received so far, as JSON.
    pub fn requests(&self) -> Vec<Value> {
        self.receiver
            .requests()
            .iter()
            .filter_map(|r| serde_json::from_str(&r.body).ok())
            .collect()
    }

    pub fn clear(&self) {
        self.receiver.clear();
    }
}
