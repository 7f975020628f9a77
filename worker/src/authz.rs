//! Asking for authorization decisions: the built-in PDP (data loaded from the objects that
//! hold it) or, with `PDP_URL`, Altinn's PDP over HTTP. A PDP that fails is an error (503 on
//! API paths, a retry on delivery paths), never a silent permit.

use std::collections::BTreeMap;

use events_core::authz::builtin::{self, Party, PartyKey, PolicyData, ResourcePolicy};
use events_core::authz::{Decision, DecisionRequest, DecisionResponse};
use events_core::identity::Claims;
use events_core::push_filter::{person_lookup, person_replacement, SubjectReplacements};
use events_core::urn::ResourceUrn;
use worker::{Env, Fetch, Headers, Method, Request, RequestInit};

use crate::config::Config;
use crate::error::Error;
use crate::rpc::{self, PARTY};

/// Timeout of a remote PDP call.
const PDP_TIMEOUT_MS: u32 = 10_000;

/// Resource documents the caller already holds (an object deciding about its own resource),
/// by resource id. `None` = known to have no document.
pub type LocalPolicies = BTreeMap<String, Option<ResourcePolicy>>;

/// The name of the party-register object for a key.
pub fn party_object_name(key: &PartyKey) -> String {
    match key {
        PartyKey::Id(id) => format!("party:{id}"),
        PartyKey::Uuid(u) => format!("uuid:{u}"),
        PartyKey::OrgNumber(n) => format!("orgno:{n}"),
        PartyKey::PersonId(n) => format!("person:{n}"),
    }
}

/// Load one party register entry.
pub async fn load_party(env: &Env, key: &PartyKey) -> Result<Option<Party>, Error> {
    let stub = rpc::stub(env, PARTY, &party_object_name(key))?;
    match rpc::call(&stub, Method::Get, "record", None).await {
        Ok(mut resp) => {
            let text = rpc::body_text(&mut resp)
                .await
                .map_err(|e| Error::platform("Could not read a party", e))?;
            Ok(serde_json::from_str(&text).ok())
        }
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(e),
    }
}

/// Load the rule document of a resource id from its event-log object.
pub async fn load_policy(env: &Env, resource_id: &str) -> Result<Option<ResourcePolicy>, Error> {
    let stub = rpc::event_log(env, &ResourceUrn::of_id(resource_id))?;
    match rpc::call(&stub, Method::Get, "policy", None).await {
        Ok(mut resp) => {
            let bytes = rpc::body_bytes(&mut resp)
                .await
                .map_err(|e| Error::platform("Could not read a policy", e))?;
            Ok(ResourcePolicy::parse(&bytes).ok())
        }
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(e),
    }
}

/// The object that remembers a user's own party, learned from a verified token.
pub fn user_object_name(user_id: &str) -> String {
    format!("user:{user_id}")
}

/// Remember a user's own party (from a verified token with both claims), so pushes to this
/// user can be authorized for their own party later, when no token is at hand.
pub async fn learn_own_party(env: &Env, claims: &Claims) -> Result<(), Error> {
    let (Some(user), Some(party)) = (
        claims.user_id(),
        claims.party_id().and_then(|p| p.parse::<i64>().ok()),
    ) else {
        return Ok(());
    };
    let stub = rpc::stub(env, PARTY, &user_object_name(&user))?;
    let record = Party {
        party_id: party,
        ..Party::default()
    };
    rpc::call(
        &stub,
        Method::Put,
        "record",
        Some(record.to_json().into_bytes()),
    )
    .await?;
    Ok(())
}

async fn load_own_party(env: &Env, user_id: &str) -> Result<Option<i64>, Error> {
    let stub = rpc::stub(env, PARTY, &user_object_name(user_id))?;
    match rpc::call(&stub, Method::Get, "record", None).await {
        Ok(mut resp) => {
            let text = rpc::body_text(&mut resp)
                .await
                .map_err(|e| Error::platform("Could not read a party", e))?;
            Ok(serde_json::from_str::<Party>(&text)
                .ok()
                .map(|p| p.party_id))
        }
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(e),
    }
}

/// Decide a request with the configured PDP. `caller`: the claims of the token the request was
/// built from, if any (their party id tells the built-in PDP the user's own party).
pub async fn decide(
    env: &Env,
    cfg: &Config,
    request: &DecisionRequest,
    local: &LocalPolicies,
    caller: Option<&Claims>,
) -> Result<DecisionResponse, Error> {
    if request.resources.is_empty() || request.subjects.is_empty() {
        return Ok(DecisionResponse::default());
    }
    match &cfg.pdp_url {
        Some(url) => remote(url, request).await,
        None => {
            let needs = builtin::needs(request);
            let mut data = PolicyData::default();
            for id in needs.resources {
                let doc = match local.get(&id) {
                    Some(d) => d.clone(),
                    None => load_policy(env, &id).await?,
                };
                if let Some(doc) = doc {
                    data.resources.insert(id, doc);
                }
            }
            if let Some(claims) = caller {
                if let (Some(u), Some(p)) = (
                    claims.user_id(),
                    claims.party_id().and_then(|p| p.parse().ok()),
                ) {
                    data.user_parties.insert(u, p);
                }
            }
            // Party data (roles, users' own parties) only ever turns a decision into a
            // Permit. When every decision is a Permit without it (the owner org publishing or
            // reading its resource, an admin publisher, a rule on org or scope), looking the
            // parties up cannot change the answer: skip the calls to their objects.
            if !needs.parties.is_empty() || !needs.users.is_empty() {
                let without = builtin::evaluate(request, &data);
                if without
                    .results
                    .iter()
                    .all(|r| r.decision == Decision::Permit)
                {
                    return Ok(without);
                }
            }
            for key in needs.parties {
                if let Some(p) = load_party(env, &key).await? {
                    data.parties.push(p);
                }
            }
            for user in needs.users {
                if data.user_parties.contains_key(&user) {
                    continue;
                }
                if let Some(p) = load_own_party(env, &user).await? {
                    data.user_parties.insert(user, p);
                }
            }
            Ok(builtin::evaluate(request, &data))
        }
    }
}

async fn remote(url: &str, request: &DecisionRequest) -> Result<DecisionResponse, Error> {
    let unavailable = |why: String| {
        Error::platform(
            "The authorization service (PDP) did not give a decision",
            why,
        )
    };
    let headers = Headers::new();
    let _ = headers.set("content-type", "application/json");
    let mut init = RequestInit::new();
    init.with_method(Method::Post)
        .with_headers(headers)
        .with_body(Some(events_core::json::to_json(request).into()));
    let req = Request::new_with_init(url, &init).map_err(|e| unavailable(e.to_string()))?;
    let signal: worker::AbortSignal = web_sys::AbortSignal::timeout_with_u32(PDP_TIMEOUT_MS).into();
    let mut resp = Fetch::Request(req)
        .send_with_signal(&signal)
        .await
        .map_err(|e| unavailable(e.to_string()))?;
    if resp.status_code() != 200 {
        return Err(unavailable(format!("status {}", resp.status_code())));
    }
    let body: serde_json::Value = resp.json().await.map_err(|e| unavailable(e.to_string()))?;
    DecisionResponse::from_json(&body)
        .ok_or_else(|| unavailable("not a XACML JSON response".into()))
}

/// Person-number subjects are not understood by the PDP (spec §11.10): the party uuid of
/// each distinct `urn:altinn:person:identifier-no:{ssn}` subject, from the party register.
/// `None` for persons the register does not know.
pub async fn person_subject_replacements(
    env: &Env,
    subjects: impl Iterator<Item = &str>,
) -> Result<SubjectReplacements, Error> {
    let lookups = subjects
        .filter_map(|s| person_lookup(s).map(|key| (s.to_owned(), key)))
        .collect();
    person_replacements(env, lookups).await
}

/// The replacements of person-number subjects, from the register look-ups core asked for
/// (subject, key); a subject asked twice is looked up once.
pub async fn person_replacements(
    env: &Env,
    lookups: Vec<(String, PartyKey)>,
) -> Result<SubjectReplacements, Error> {
    let mut out = SubjectReplacements::new();
    for (subject, key) in lookups {
        if out.contains_key(&subject) {
            continue;
        }
        let party = load_party(env, &key).await?;
        out.insert(subject, person_replacement(party.as_ref()));
    }
    Ok(out)
}
