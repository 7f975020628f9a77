//! App events (spec §5.1–§5.3, §6): Altinn apps publish instance events; service owners read
//! them per app, and anyone reads them per party, each event authorized for the caller.

use events_core::app_event::{build_app_event, require_org_caller, AppEventRequest};
use events_core::authz::builtin::PartyKey;
use events_core::identity::PartyId;
use events_core::query::{AppEndpoint, AppEventsQuery, SubjectSource, MSG_SUBJECT_REQUIRED};
use events_core::time::Timestamp;
use events_core::urn::{self, ResourceUrn};
use events_core::ApiError;
use worker::{Env, Request, Response};

use crate::auth;
use crate::authz;
use crate::config::Config;
use crate::http;
use crate::objects::event_query::QueryRequest;
use crate::routes::private::send_to_log;
use crate::routes::{live, pages};
use crate::rpc::{self, PARTY};

/// `POST /events/api/v1/app`: a token (401) and a platform access token (403), JSON (415),
/// the required values (400), the ownership check (401 JSON string), then 201 with
/// `Location` = the subject and the new id as a JSON string.
pub async fn publish(mut req: Request, env: &Env, cfg: &Config) -> Result<Response, ApiError> {
    auth::caller(&req, env, cfg)
        .await
        .ok_or(ApiError::unauthorized())?;
    let access = auth::access_token(&req, cfg)
        .await
        .ok_or(ApiError::forbidden())?;
    events_core::publish::require_app_content_type(http::header(&req, "content-type").as_deref())?;
    let body = http::read_body(&mut req).await?;
    let request = AppEventRequest::parse(&body)?;
    let context = format!("{}/{}", access.issuer, access.app);
    let now = Timestamp::from_unix_millis(worker::Date::now().as_millis() as i64);
    let event = build_app_event(&request, &context, &http::new_guid()?, now)?;
    send_to_log(env, &event, true, true).await?;
    let mut resp = http::json(201, events_core::json::to_json(event.id()))?;
    http::set_header(&mut resp, "location", event.subject().unwrap_or_default())?;
    Ok(resp)
}

/// `/party/{id}` for the request's party, unit or person (spec §6.3). Unknown persons and
/// units are a 404 problem, as Altinn's register answers.
async fn party_of(env: &Env, q: &AppEventsQuery) -> Result<Option<PartyId>, ApiError> {
    let key = match q.subject_source() {
        SubjectSource::None => return Ok(None),
        SubjectSource::Party(p) => return Ok(Some(PartyId(i64::from(p)))),
        SubjectSource::LookupPerson(p) => PartyKey::PersonId(p),
        SubjectSource::LookupUnit(u) => PartyKey::OrgNumber(u),
    };
    match authz::load_party(env, &key).await? {
        Some(p) => Ok(Some(PartyId(p.party_id))),
        None => Err(ApiError::problem(
            404,
            "No party was found in the register for the given person or unit.",
        )),
    }
}

fn query_request(
    q: &AppEventsQuery,
    resource: Option<ResourceUrn>,
    subject: Option<String>,
    claims: &events_core::identity::Claims,
) -> QueryRequest {
    QueryRequest {
        resource,
        after: q.after.clone(),
        subject,
        types: q.types.clone(),
        sources: q.sources.clone(),
        ignore_case: true,
        from_ticks: q.from.map(|t| t.utc_ticks()),
        to_ticks: q.to.map(|t| t.utc_ticks()),
        app_read: true,
        size: q.size,
        caller: claims.as_map().clone(),
        ..QueryRequest::default()
    }
}

/// `GET /events/api/v1/app/{org}/{app}`: org tokens only (401 JSON string otherwise).
pub async fn read_for_org(
    req: Request,
    env: &Env,
    cfg: &Config,
    org: &str,
    app: &str,
) -> Result<Response, ApiError> {
    let caller = auth::caller(&req, env, cfg)
        .await
        .ok_or(ApiError::unauthorized())?;
    require_org_caller(&caller.claims)?;
    events_core::publish::require_json_content_type(http::header(&req, "content-type").as_deref())?;
    let qs = live::query_string(&req, pages::query_string(&req)?);
    let person = http::header(&req, "person");
    let q = AppEventsQuery::from_request(&qs, person.as_deref(), AppEndpoint::ForOrg)?;
    let subject = party_of(env, &q).await?.map(PartyId::subject);
    let org = events_core::query::form_decode(org);
    let app = events_core::query::form_decode(app);
    let resource = ResourceUrn::from(urn::app_resource(&org, &app));
    let stub = rpc::event_log(env, &resource)?;
    let query = query_request(&q, Some(resource), subject, &caller.claims);
    if live::wanted(&req) {
        return live::answer(stub, query).await;
    }
    pages::answer(&req, cfg, &stub, &query, &qs, false).await
}

/// `GET /events/api/v1/app/party`: any token; events of one party across all apps.
pub async fn read_for_party(req: Request, env: &Env, cfg: &Config) -> Result<Response, ApiError> {
    let caller = auth::caller(&req, env, cfg)
        .await
        .ok_or(ApiError::unauthorized())?;
    events_core::publish::require_json_content_type(http::header(&req, "content-type").as_deref())?;
    let qs = live::query_string(&req, pages::query_string(&req)?);
    let person = http::header(&req, "person");
    let q = AppEventsQuery::from_request(&qs, person.as_deref(), AppEndpoint::ForParty)?;
    let Some(party) = party_of(env, &q).await? else {
        return Err(ApiError::bad_request(MSG_SUBJECT_REQUIRED));
    };
    let stub = rpc::stub(
        env,
        PARTY,
        &authz::party_object_name(&PartyKey::Id(party.0)),
    )?;
    let query = query_request(&q, None, Some(party.subject()), &caller.claims);
    if live::wanted(&req) {
        return live::answer(stub, query).await;
    }
    pages::answer(&req, cfg, &stub, &query, &qs, false).await
}
