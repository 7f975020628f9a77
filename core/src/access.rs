//! The gates in front of each API area: which token a caller needs before anything else is
//! looked at, and what a request may touch. The worker verifies tokens (signatures need
//! WebCrypto) and hands the verified facts here; every answer (401, 403, which PDP check
//! follows) is decided in this module.

use alloc::format;

use crate::authz::xacml::DecisionResponse;
use crate::error::ApiError;
use crate::identity::{Claims, Consumer, SCOPE_PUBLISH, SCOPE_PUBLISH_ADMIN, SCOPE_SUBSCRIBE};
use crate::subscription::{self, Subscription};
use crate::urn::{self, ResourceUrn};

/// What follows a successful publish gate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PublishGate {
    /// The PDP decides whether the caller may publish this event.
    Pdp,
    /// The caller holds `altinn:events.publish.admin` (any case): no PDP check (spec §11.4).
    AdminScope,
}

/// `POST /events`: the caller needs the publish scope or a platform access token (an Altinn
/// component publishing on its own behalf); otherwise 403. `platform_token`: the request also
/// carries a valid platform access token.
pub fn publish_gate(claims: &Claims, platform_token: bool) -> Result<PublishGate, ApiError> {
    if !claims.has_scope(SCOPE_PUBLISH) && !platform_token {
        return Err(ApiError::forbidden());
    }
    Ok(if claims.has_scope_ignore_case(SCOPE_PUBLISH_ADMIN) {
        PublishGate::AdminScope
    } else {
        PublishGate::Pdp
    })
}

/// `GET /events`: the caller needs the subscribe scope (403 otherwise).
pub fn read_gate(claims: &Claims) -> Result<(), ApiError> {
    if claims.has_scope(SCOPE_SUBSCRIBE) {
        Ok(())
    } else {
        Err(ApiError::forbidden())
    }
}

/// What a single-decision PDP check was asked to permit; it names the refusal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PdpCheck<'a> {
    /// Publishing an event (spec §11.4): a refusal is the plain 403 problem.
    Publish,
    /// Creating a subscription on this resource filter (spec §11.5): a refusal names it.
    CreateSubscription { resource_filter: &'a str },
}

/// A single-decision check passes only when the PDP's first result is `Permit`; anything else
/// (deny, not applicable, indeterminate, no result) is a 403 for the check asked.
pub fn require_permit(decision: &DecisionResponse, check: PdpCheck<'_>) -> Result<(), ApiError> {
    if decision.first_is_permit() {
        return Ok(());
    }
    Err(match check {
        PdpCheck::Publish => ApiError::forbidden(),
        PdpCheck::CreateSubscription { resource_filter } => {
            subscription::not_authorized(resource_filter)
        }
    })
}

/// Who may call the private endpoints, by their platform access token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlatformPolicy {
    /// Altinn's `PlatformAccess` policy (spec §5.10–§5.15): any valid platform access token.
    /// Without one, a caller with an Altinn token is refused (403), a caller with nothing is
    /// not authenticated (401).
    Components,
    /// This service's admin endpoints (CONTRACT §4): a platform access token issued by
    /// `platform`; none → 401, another issuer → 403.
    Admin,
}

/// The header that carries a platform access token.
pub const PLATFORM_TOKEN_HEADER: &str = "PlatformAccessToken";

/// The platform access token of a [`PLATFORM_TOKEN_HEADER`] value: exactly one value is
/// accepted. Repeated headers arrive comma-joined and a token has no comma, so a value with a
/// comma is more than one token, and none is used.
pub fn single_platform_token(header: &str) -> Option<&str> {
    (!header.contains(',')).then_some(header)
}

/// The issuer the admin endpoints accept.
pub const ADMIN_ISSUER: &str = "platform";

impl PlatformPolicy {
    /// `token_issuer`: the issuer of the request's valid platform access token, if it has one;
    /// `has_caller`: the request also carries a valid Altinn token.
    pub fn check(self, token_issuer: Option<&str>, has_caller: bool) -> Result<(), ApiError> {
        match (self, token_issuer) {
            (PlatformPolicy::Components, Some(_)) => Ok(()),
            (PlatformPolicy::Components, None) if has_caller => Err(ApiError::forbidden()),
            (PlatformPolicy::Admin, Some(ADMIN_ISSUER)) => Ok(()),
            (PlatformPolicy::Admin, Some(_)) => Err(ApiError::forbidden()),
            (_, None) => Err(ApiError::unauthorized()),
        }
    }
}

/// A subscription is read, deleted and managed only by the entity that created it (403 for
/// anyone else; spec §8.3).
pub fn require_owner(subscription: &Subscription, claims: &Claims) -> Result<(), ApiError> {
    let entity = Consumer::from_claims(claims);
    if entity.as_ref().map(Consumer::as_str) == Some(subscription.created_by.as_str()) {
        Ok(())
    } else {
        Err(ApiError::forbidden())
    }
}

/// The resource URN an admin route's `{resourceId}` names (already percent-decoded).
pub fn admin_resource(id: &str) -> Result<ResourceUrn, ApiError> {
    let resource = ResourceUrn::of_id(id);
    if urn::is_valid_urn(resource.as_str()) {
        Ok(resource)
    } else {
        Err(ApiError::bad_request(format!(
            "'{id}' is not a valid resource id: '{resource}' must be a valid urn."
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};
    use wasm_bindgen_test::wasm_bindgen_test;

    fn claims(v: Value) -> Claims {
        match v {
            Value::Object(m) => Claims::new(m),
            _ => Claims::default(),
        }
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn publishing_needs_the_scope_or_a_platform_token() {
        let none = claims(json!({"urn:altinn:org": "ttd"}));
        assert_eq!(publish_gate(&none, false).unwrap_err().status, 403);
        assert_eq!(publish_gate(&none, true), Ok(PublishGate::Pdp));
        let scoped = claims(json!({"scope": "altinn:events.publish"}));
        assert_eq!(publish_gate(&scoped, false), Ok(PublishGate::Pdp));
        let admin = claims(json!({"scope": "altinn:events.publish ALTINN:EVENTS.PUBLISH.ADMIN"}));
        assert_eq!(publish_gate(&admin, false), Ok(PublishGate::AdminScope));
        // The admin scope alone does not open the gate.
        let admin_only = claims(json!({"scope": "altinn:events.publish.admin"}));
        assert_eq!(publish_gate(&admin_only, false).unwrap_err().status, 403);
        assert_eq!(publish_gate(&admin_only, true), Ok(PublishGate::AdminScope));
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn reading_needs_the_subscribe_scope() {
        assert!(read_gate(&claims(json!({"scope": "altinn:events.subscribe"}))).is_ok());
        let e = read_gate(&claims(json!({"scope": "altinn:events.publish"}))).unwrap_err();
        assert_eq!(e.status, 403);
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn only_a_first_permit_passes_a_pdp_check() {
        use crate::authz::xacml::{Decision, DecisionResult};
        let answer = |decisions: &[Decision]| DecisionResponse {
            results: decisions
                .iter()
                .map(|d| DecisionResult {
                    decision: *d,
                    categories: alloc::vec::Vec::new(),
                    obligations: alloc::vec::Vec::new(),
                })
                .collect(),
        };
        let sub = PdpCheck::CreateSubscription {
            resource_filter: "urn:altinn:resource:r",
        };
        for check in [PdpCheck::Publish, sub] {
            let permit = answer(&[Decision::Permit, Decision::Deny]);
            assert_eq!(require_permit(&permit, check), Ok(()));
        }
        for refused in [
            answer(&[]),
            answer(&[Decision::Deny, Decision::Permit]),
            answer(&[Decision::NotApplicable]),
            answer(&[Decision::Indeterminate]),
        ] {
            assert_eq!(
                require_permit(&refused, PdpCheck::Publish),
                Err(ApiError::forbidden())
            );
            let e = require_permit(&refused, sub).unwrap_err();
            assert_eq!(e, subscription::not_authorized("urn:altinn:resource:r"));
            assert_eq!(e.status, 403);
        }
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn exactly_one_platform_token_is_accepted() {
        assert_eq!(single_platform_token("a.b.c"), Some("a.b.c"));
        // Two headers, as the platform hands them over.
        assert_eq!(single_platform_token("a.b.c, d.e.f"), None);
        assert_eq!(single_platform_token("a.b.c,d.e.f"), None);
        assert_eq!(single_platform_token(","), None);
        // What is left is for the verifier to refuse.
        assert_eq!(single_platform_token(""), Some(""));
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn platform_policies() {
        use PlatformPolicy::*;
        let status = |r: Result<(), ApiError>| r.map_or_else(|e| e.status, |()| 200);
        assert_eq!(status(Components.check(Some("studio"), false)), 200);
        assert_eq!(status(Components.check(None, true)), 403);
        assert_eq!(status(Components.check(None, false)), 401);
        assert_eq!(status(Admin.check(Some("platform"), false)), 200);
        assert_eq!(status(Admin.check(Some("studio"), true)), 403);
        assert_eq!(status(Admin.check(None, true)), 401);
        assert_eq!(status(Admin.check(None, false)), 401);
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn only_the_creator_owns_a_subscription() {
        let sub = Subscription {
            id: crate::subscription::SubscriptionId(1),
            end_point: "https://example.com/hook".into(),
            source_filter: None,
            resource_filter: "urn:altinn:resource:ttd-demo".into(),
            subject_filter: None,
            type_filter: None,
            consumer: "/org/ttd".into(),
            created_by: "/org/ttd".into(),
            created: "2026-01-01T00:00:00Z".into(),
            validated: true,
            include_subunits: false,
        };
        assert!(require_owner(&sub, &claims(json!({"urn:altinn:org": "ttd"}))).is_ok());
        let other = require_owner(&sub, &claims(json!({"urn:altinn:org": "skd"})));
        assert_eq!(other.unwrap_err().status, 403);
        assert_eq!(
            require_owner(&sub, &Claims::default()).unwrap_err().status,
            403
        );
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn admin_resource_ids_must_make_a_urn() {
        assert_eq!(
            admin_resource("ttd-demo"),
            Ok(ResourceUrn::from("urn:altinn:resource:ttd-demo"))
        );
        let e = admin_resource("").unwrap_err();
        assert_eq!(e.status, 400);
    }
}
