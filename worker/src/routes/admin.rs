//! Private admin endpoints feeding the built-in PDP (CONTRACT §4): resource rule documents and
//! the party register. They need a platform access token issued by `platform`.

use events_core::access::{self, PlatformPolicy};
use events_core::authz::builtin::ResourcePolicy;
use events_core::authz::builtin::{Party, PartyKey};
use events_core::exchange::{check_org_code, OrgRegistration};
use events_core::ApiError;
use worker::{Env, Method, Request, Response};

use crate::auth;
use crate::authz::{load_party, party_object_name};
use crate::config::Config;
use crate::error::Error;
use crate::http;
use crate::objects::event_log::policy::EXISTED_HEADER;
use crate::routes::exchange::{load_registration, org_number_object, org_object};
use crate::rpc::{self, PARTY};

/// No or invalid platform token → 401; one from another issuer → 403.
async fn require_platform(req: &Request, cfg: &Config) -> Result<(), ApiError> {
    let token = auth::access_token(req, cfg).await;
    PlatformPolicy::Admin.check(token.as_ref().map(|t| t.issuer.as_str()), false)
}

/// `PUT/GET/DELETE /events/api/v1/admin/resources/{resourceId}`.
pub async fn resource(
    mut req: Request,
    env: &Env,
    cfg: &Config,
    id: &str,
    method: Method,
) -> Result<Response, ApiError> {
    require_platform(&req, cfg).await?;
    let id = events_core::query::form_decode(id);
    let resource = access::admin_resource(&id)?;
    let stub = rpc::event_log(env, &resource)?;
    let result = match method {
        Method::Put => {
            events_core::publish::require_json_content_type(
                http::header(&req, "content-type").as_deref(),
            )?;
            let body = http::read_body(&mut req).await?;
            let doc = ResourcePolicy::parse(&body).map_err(ApiError::bad_request)?;
            rpc::call(
                &stub,
                Method::Put,
                "policy",
                Some(doc.to_json().into_bytes()),
            )
            .await
        }
        Method::Get => rpc::call(&stub, Method::Get, "policy", None).await,
        Method::Delete => rpc::call(&stub, Method::Delete, "policy", None).await,
        _ => return Err(ApiError::empty(405)),
    };
    match result {
        Ok(_) if method == Method::Delete => http::empty(204),
        Ok(mut resp) => {
            let replaced = http::header_of(&resp, EXISTED_HEADER).is_none_or(|v| v == "true");
            let status = if method == Method::Put && !replaced {
                201
            } else {
                200
            };
            let bytes = rpc::body_bytes(&mut resp)
                .await
                .map_err(|e| Error::platform("Could not read a rule document", e))?;
            http::json(status, bytes)
        }
        Err(e) if e.is_not_found() => Err(ApiError::problem(
            404,
            format!("No rule document is stored for resource '{resource}'."),
        )),
        Err(e) => Err(e.into()),
    }
}

fn keys_of(p: &Party) -> Vec<PartyKey> {
    let mut keys = vec![PartyKey::Id(p.party_id)];
    if let Some(u) = &p.party_uuid {
        keys.push(PartyKey::Uuid(u.clone()));
    }
    if let Some(n) = &p.organization_identifier {
        keys.push(PartyKey::OrgNumber(n.clone()));
    }
    if let Some(n) = &p.person_identifier {
        keys.push(PartyKey::PersonId(n.clone()));
    }
    keys
}

/// `PUT/GET/DELETE /events/api/v1/admin/parties/{partyId}`. The entry is copied to one
/// object per look-up key (id, uuid, organisation number, person number).
pub async fn party(
    mut req: Request,
    env: &Env,
    cfg: &Config,
    id: &str,
    method: Method,
) -> Result<Response, ApiError> {
    require_platform(&req, cfg).await?;
    let party_id: i64 = id.parse().ok().filter(|n| *n > 0).ok_or_else(|| {
        ApiError::bad_request(format!(
            "'{id}' is not a party id: expected a positive integer."
        ))
    })?;
    let not_found = || ApiError::problem(404, format!("Party {party_id} is not in the register."));
    let old = load_party(env, &PartyKey::Id(party_id)).await?;
    match method {
        Method::Get => match old {
            Some(p) => http::json(200, p.to_json()),
            None => Err(not_found()),
        },
        Method::Put => {
            events_core::publish::require_json_content_type(
                http::header(&req, "content-type").as_deref(),
            )?;
            let body = http::read_body(&mut req).await?;
            let party = Party::parse(party_id, &body).map_err(ApiError::bad_request)?;
            let json = party.to_json();
            let new_keys = keys_of(&party);
            for key in &new_keys {
                let stub = rpc::stub(env, PARTY, &party_object_name(key))?;
                rpc::call(
                    &stub,
                    Method::Put,
                    "record",
                    Some(json.clone().into_bytes()),
                )
                .await?;
            }
            if let Some(old) = &old {
                for key in keys_of(old).into_iter().filter(|k| !new_keys.contains(k)) {
                    let stub = rpc::stub(env, PARTY, &party_object_name(&key))?;
                    rpc::call(&stub, Method::Delete, "record", None).await?;
                }
            }
            http::json(if old.is_some() { 200 } else { 201 }, json)
        }
        Method::Delete => {
            let Some(old) = old else {
                return Err(not_found());
            };
            for key in keys_of(&old) {
                let stub = rpc::stub(env, PARTY, &party_object_name(&key))?;
                rpc::call(&stub, Method::Delete, "record", None).await?;
            }
            http::empty(204)
        }
        _ => Err(ApiError::empty(405)),
    }
}

async fn put_record(env: &Env, object: &str, json: Option<&str>) -> Result<(), ApiError> {
    let stub = rpc::stub(env, PARTY, object)?;
    match json {
        Some(json) => {
            rpc::call(&stub, Method::Put, "record", Some(json.as_bytes().to_vec())).await?
        }
        None => rpc::call(&stub, Method::Delete, "record", None).await?,
    };
    Ok(())
}

/// Drop the index entry under `number` that `org` left behind, if it is still `org`'s.
async fn drop_index(env: &Env, org: &str, number: &str) -> Result<(), ApiError> {
    let index = org_number_object(number);
    let entry = load_registration(env, &index).await?;
    if entry.is_some_and(|r| r.is_index_of(org)) {
        put_record(env, &index, None).await?;
    }
    Ok(())
}

/// `PUT/GET/DELETE /events/api/v1/admin/orgs/{org}`: the organisation number an org code stands
/// for at the Maskinporten exchange. Stored under the org code's object (for GET/DELETE) and
/// indexed under the organisation number's object (for the exchange).
pub async fn org(
    mut req: Request,
    env: &Env,
    cfg: &Config,
    org: &str,
    method: Method,
) -> Result<Response, ApiError> {
    require_platform(&req, cfg).await?;
    let org = events_core::query::form_decode(org);
    check_org_code(&org).map_err(ApiError::bad_request)?;
    let old = load_registration(env, &org_object(&org)).await?;
    let not_found = || {
        ApiError::problem(
            404,
            format!("No organisation number is registered for org '{org}'."),
        )
    };
    match method {
        Method::Get => match old {
            Some(r) => http::json(200, r.to_json()),
            None => Err(not_found()),
        },
        Method::Put => {
            events_core::publish::require_json_content_type(
                http::header(&req, "content-type").as_deref(),
            )?;
            let body = http::read_body(&mut req).await?;
            let reg = OrgRegistration::parse(&org, &body).map_err(ApiError::bad_request)?;
            let json = reg.to_json();
            put_record(env, &org_number_object(&reg.org_number), Some(&json)).await?;
            put_record(env, &org_object(&org), Some(&json)).await?;
            if let Some(number) = old.as_ref().and_then(|o| o.left_behind_index(Some(&reg))) {
                drop_index(env, &org, number).await?;
            }
            http::json(if old.is_some() { 200 } else { 201 }, json)
        }
        Method::Delete => {
            let Some(old) = old else {
                return Err(not_found());
            };
            if let Some(number) = old.left_behind_index(None) {
                drop_index(env, &org, number).await?;
            }
            put_record(env, &org_object(&org), None).await?;
            http::empty(204)
        }
        _ => Err(ApiError::empty(405)),
    }
}
