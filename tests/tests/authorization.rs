//! Authorization end to end: the built-in PDP's answers for an org, a user with a role, a user
//! without one and a system user, for publish, read, subscribe and push; sub-unit delivery;
//! and the remote-PDP mode against a stand-in XACML PDP (requests, decisions, obligations,
//! failures).

use std::process::ExitCode;
use std::time::Duration;

use altinn_events_tests::fixtures::*;
use altinn_events_tests::pdp::StandInPdp;
use altinn_events_tests::{Suite, TestReceiver, TestServer, TokenSpec};
use serde_json::{json, Value};

const T: Duration = Duration::from_secs(20);

fn attrs(category: &Value) -> Vec<(String, String)> {
    category["Attribute"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|a| {
            (
                a["AttributeId"].as_str().unwrap_or_default().to_owned(),
                a["Value"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
        .collect()
}

fn main() -> ExitCode {
    let mut suite = Suite::with_vars(&[("DELIVERY_RETRY_DELAYS", "1,1")]);

    suite.test("built_in_pdp_answers_for_each_kind_of_caller", |ctx| async move {
        let c = ctx.client();
        let id = unique("matrix");
        let res = resource_urn(&id);
        let sys_uuid = "4a80af94-1111-2222-3333-444455556666";
        let party = unique_number(71_000_000);
        let org_number = format!("8{:08}", party % 100_000_000);
        let subject = format!("urn:altinn:organization:identifier-no:{org_number}");
        put_policy(&c, &id, json!({"owner": "ttd", "rules": [
            {"actions": ["subscribe", "read"], "subjects": [{"urn:altinn:rolecode": "DAGL"}]},
            {"actions": ["publish"], "subjects": [{"urn:altinn:systemuser:uuid": sys_uuid}]}
        ]})).await;
        let with_role = 7_000_000 + party % 1_000_000;
        put_party(&c, party, json!({"organizationIdentifier": org_number, "roles": {with_role.to_string(): ["DAGL"]}})).await;
        let scopes = "altinn:events.publish altinn:events.subscribe";
        let org = TokenSpec::org("ttd").scope(scopes).mint();
        let user_role = TokenSpec::user(with_role, 1).scope(scopes).mint();
        let user_none = TokenSpec::user(with_role + 1, 2).scope(scopes).mint();
        let system = TokenSpec::system_user(sys_uuid, "912345678").scope(scopes).mint();
        let other_org = TokenSpec::org("skd").scope(scopes).mint();
        let ev = |eid: &str| {
            let mut e = event(eid, &res);
            e["subject"] = json!(subject);
            e
        };
        // publish
        for (who, token, status) in [("org", &org, 200), ("system user", &system, 200), ("user with role", &user_role, 403), ("user without role", &user_none, 403), ("other org", &other_org, 403)] {
            let r = publish(&c, token, &ev(&format!("pub-{who}"))).await;
            if status == 403 {
                assert_forbidden(&r);
            } else {
                assert_eq!((r.status, r.body.as_str()), (status, ""), "publish as {who}");
            }
        }
        // read
        let read = |token: String| {
            let c = c.clone();
            let url = format!("{EVENTS}?resource={res}&after=0");
            async move { ids(&c.get(&url).bearer(&token).send().await) }
        };
        let both = vec!["pub-org".to_owned(), "pub-system user".into()];
        assert_eq!(read(org.clone()).await, both, "org reads");
        assert_eq!(read(user_role.clone()).await, both, "a role holder for the event's party reads");
        assert!(read(user_none.clone()).await.is_empty(), "no role: nothing");
        assert!(read(system.clone()).await.is_empty(), "the system user may publish, not read");
        assert!(read(other_org.clone()).await.is_empty(), "another org: nothing");
        // subscribe
        let org_rx = TestReceiver::start();
        let user_rx = TestReceiver::start();
        let sub = |rx: &TestReceiver| json!({"endPoint": rx.url_path("/e"), "resourceFilter": res, "subjectFilter": subject});
        let org_sub = create_subscription(&c, &org, &sub(&org_rx)).await;
        let user_sub = create_subscription(&c, &user_role, &sub(&user_rx)).await;
        let denied = format!("Not authorized to create a subscription for resource {res}.");
        assert_text(&c.post(SUBSCRIPTIONS).bearer(&user_none).json(&sub(&user_rx)).send().await, 403, &denied);
        assert_text(&c.post(SUBSCRIPTIONS).bearer(&system).json(&sub(&user_rx)).send().await, 403, &denied);
        wait_validated(&c, &org, org_sub["id"].as_i64().unwrap_or_default(), 20).await;
        wait_validated(&c, &user_role, user_sub["id"].as_i64().unwrap_or_default(), 20).await;
        // push
        publish_ok(&c, &org, &ev("push-1")).await;
        assert_eq!(delivered_ids(&org_rx.wait_for(2, T).await), vec!["push-1"]);
        assert_eq!(delivered_ids(&user_rx.wait_for(2, T).await), vec!["push-1"]);
        // The role is withdrawn in the register: the next event is pushed to the org only.
        put_party(&c, party, json!({"organizationIdentifier": org_number})).await;
        publish_ok(&c, &org, &ev("push-2")).await;
        assert_eq!(delivered_ids(&org_rx.wait_for(3, T).await), vec!["push-1", "push-2"]);
        assert!(user_rx.quiet_for(Duration::from_secs(2)).await.is_empty(), "pushed without a role");
        assert!(read(user_role.clone()).await.is_empty(), "and reads stop too");
    });

    suite.test("person_subjects_are_authorized_through_the_party_uuid", |ctx| async move {
        let c = ctx.client();
        let id = unique("person");
        let res = resource_urn(&id);
        let party = unique_number(72_000_000);
        let ssn = format!("{:011}", party);
        let user_id = 6_000_000 + party % 1_000_000;
        put_party(&c, party, json!({"partyUuid": "7e0f3c52-aaaa-bbbb-cccc-000000000001", "personIdentifier": ssn, "roles": {user_id.to_string(): ["PRIV"]}})).await;
        put_policy(&c, &id, json!({"owner": "ttd", "rules": [{"actions": ["subscribe"], "subjects": [{"urn:altinn:rolecode": "PRIV"}]}]})).await;
        let mut e = event("person-1", &res);
        e["subject"] = json!(format!("urn:altinn:person:identifier-no:{ssn}"));
        publish_ok(&c, &org_token("ttd"), &e).await;
        let user = TokenSpec::user(user_id, party).scope(SUBSCRIBE).mint();
        let r = c.get(&format!("{EVENTS}?resource={res}&after=0")).bearer(&user).send().await;
        assert_eq!(ids(&r), vec!["person-1"]);
        // The original subject is what comes back.
        assert_eq!(r.json()[0]["subject"], json!(format!("urn:altinn:person:identifier-no:{ssn}")));
    });

    suite.test("sub_unit_events_reach_main_unit_subscriptions_with_include_subunits", |ctx| async move {
        let c = ctx.client();
        let id = unique("units");
        let res = resource_urn(&id);
        put_policy(&c, &id, json!({"owner": "ttd"})).await;
        let main = unique_number(73_000_000);
        let sub = unique_number(73_000_000);
        let main_org = format!("7{:08}", main % 100_000_000);
        let sub_org = format!("6{:08}", sub % 100_000_000);
        put_party(&c, main, json!({"organizationIdentifier": main_org})).await;
        put_party(&c, sub, json!({"organizationIdentifier": sub_org, "mainUnitPartyId": main})).await;
        let ttd = org_token("ttd");
        let rx = TestReceiver::start();
        let subs = [
            ("/main-with", format!("urn:altinn:organization:identifier-no:{main_org}"), true),
            ("/main-without", format!("urn:altinn:organization:identifier-no:{main_org}"), false),
            ("/sub", format!("urn:altinn:organization:identifier-no:{sub_org}"), false),
            ("/party-main-with", format!("/party/{main}"), true),
            ("/party-main-without", format!("/party/{main}"), false),
        ];
        for (path, subject, include) in &subs {
            let s = create_subscription(&c, &ttd, &json!({"endPoint": rx.url_path(path), "resourceFilter": res, "subjectFilter": subject, "includeSubunits": include})).await;
            wait_validated(&c, &ttd, s["id"].as_i64().unwrap_or_default(), 20).await;
        }
        rx.clear();
        let mut urn_event = event("unit-urn", &res);
        urn_event["subject"] = json!(format!("urn:altinn:organization:identifier-no:{sub_org}"));
        publish_ok(&c, &ttd, &urn_event).await;
        let mut party_event = event("unit-party", &res);
        party_event["subject"] = json!(format!("/party/{sub}"));
        party_event["alternativesubject"] = json!(format!("/organisation/{sub_org}"));
        publish_ok(&c, &ttd, &party_event).await;
        // Without an organisation alternative subject, a party subject is not expanded.
        let mut plain = event("unit-plain", &res);
        plain["subject"] = json!(format!("/party/{sub}"));
        publish_ok(&c, &ttd, &plain).await;
        rx.wait_for(3, T).await;
        assert!(rx.quiet_for(Duration::from_secs(2)).await.is_empty());
        let mut got: Vec<(String, String)> = rx.requests().iter().map(|r| (r.path.clone(), r.json()["id"].as_str().unwrap_or_default().to_owned())).collect();
        got.sort();
        assert_eq!(got, pairs(&[("/main-with", "unit-urn"), ("/party-main-with", "unit-party"), ("/sub", "unit-urn")]));
    });

    suite.standalone("remote_pdp_mode_asks_the_pdp_and_never_permits_on_failure", || async {
        let pdp = StandInPdp::start();
        let server = TestServer::start(&[("PDP_URL", &pdp.url()), ("DELIVERY_RETRY_DELAYS", "1,1")]);
        let c = server.client();
        let id = unique("remote");
        let res = resource_urn(&id);
        let digdir = org_token("digdir");
        let skd = org_token("skd");

        // Publish: the PDP decides; the request is §11.4's.
        pdp.permit("urn:altinn:org", "digdir", "publish");
        let mut e1 = event("r1", &res);
        e1["subject"] = json!("urn:altinn:organization:identifier-no:912345678");
        publish_ok(&c, &digdir, &e1).await;
        assert_forbidden(&publish(&c, &skd, &event("r-denied", &res)).await);
        let first = pdp.requests()[0].clone();
        assert!(attrs(&first["Request"]["AccessSubject"][0]).contains(&("urn:altinn:org".into(), "digdir".into())), "{first}");
        assert_eq!(attrs(&first["Request"]["Action"][0]), pairs(&[("urn:oasis:names:tc:xacml:1.0:action:action-id", "publish")]));
        assert_eq!(
            attrs(&first["Request"]["Resource"][0]),
            pairs(&[
                ("urn:altinn:event-id", "r1"),
                ("urn:altinn:eventtype", "test.created"),
                ("urn:altinn:eventsource", "https://example.com/source"),
                ("urn:altinn:resource", &id),
                ("urn:altinn:organization:identifier-no", "912345678"),
            ])
        );
        publish_ok(&c, &digdir, &event("r2", &res)).await;
        publish_ok(&c, &digdir, &event("r3", &res)).await;

        // Reads: one multi-decision request per page; only permitted events come back.
        pdp.permit_event("urn:altinn:org", "skd", "subscribe", "r2");
        pdp.clear();
        let r = c.get(&format!("{EVENTS}?resource={res}&after=0")).bearer(&skd).send().await;
        assert_eq!(ids(&r), vec!["r2"]);
        let read_req = pdp.requests()[0].clone();
        assert_eq!(read_req["Request"]["Resource"].as_array().map(Vec::len), Some(3));
        assert_eq!(read_req["Request"]["MultiRequests"]["RequestReference"][2], json!({"ReferenceId": ["s1", "a1", "r3"]}));

        // Obligations: a minimum authentication level filters reads.
        pdp.permit("urn:altinn:userid", "1337", "subscribe");
        pdp.require_auth_level(3);
        let low = TokenSpec::user(1337, 50001337).scope(SUBSCRIBE).authlevel(2).mint();
        let high = TokenSpec::user(1337, 50001337).scope(SUBSCRIBE).authlevel(3).mint();
        let url = format!("{EVENTS}?resource={res}&after=0");
        assert_eq!(c.get(&url).bearer(&low).send().await.body, "[]");
        assert_eq!(ids(&c.get(&url).bearer(&high).send().await), vec!["r1", "r2", "r3"]);

        // Subscription creation: §11.5's request (spec A.7).
        pdp.permit("urn:altinn:userid", "1337", "read");
        pdp.clear();
        let user = TokenSpec::user(1337, 54321).mint();
        let rx = TestReceiver::start();
        let app_sub = create_subscription(&c, &user, &json!({"endPoint": rx.url_path("/u"), "resourceFilter": "urn:altinn:resource:app_ttd_apps-test", "subjectFilter": "/party/54321"})).await;
        let sub_req = pdp.requests()[0].clone();
        assert_eq!(attrs(&sub_req["Request"]["AccessSubject"][0]), pairs(&[("urn:altinn:userid", "1337")]));
        assert_eq!(sub_req["Request"]["AccessSubject"][0]["Attribute"][0]["DataType"], "http://www.w3.org/2001/XMLSchema#string");
        assert_eq!(attrs(&sub_req["Request"]["Action"][0]), pairs(&[("urn:oasis:names:tc:xacml:1.0:action:action-id", "read")]));
        assert_eq!(
            attrs(&sub_req["Request"]["Resource"][0]),
            pairs(&[("urn:altinn:resource", "app_ttd_apps-test"), ("urn:altinn:partyid", "54321"), ("urn:altinn:org", "ttd"), ("urn:altinn:app", "apps-test"), ("urn:altinn:appresource", "events")])
        );
        assert_eq!(sub_req["Request"]["Resource"][0]["Attribute"][1]["DataType"], "http://www.w3.org/2001/XMLSchema#integer");
        assert_eq!(app_sub["consumer"], "/user/1337");

        // Push: one multi-consumer request (§11.6); only permitted consumers get the event.
        pdp.permit("urn:altinn:org", "digdir", "subscribe");
        pdp.permit("urn:altinn:org", "ttd", "subscribe");
        let ttd = org_token("ttd");
        let rx_ttd = TestReceiver::start();
        let rx_digdir = TestReceiver::start();
        let s1 = create_subscription(&c, &ttd, &json!({"endPoint": rx_ttd.url_path("/t"), "resourceFilter": res})).await;
        let s2 = create_subscription(&c, &digdir, &json!({"endPoint": rx_digdir.url_path("/d"), "resourceFilter": res})).await;
        wait_validated(&c, &ttd, s1["id"].as_i64().unwrap_or_default(), 20).await;
        wait_validated(&c, &digdir, s2["id"].as_i64().unwrap_or_default(), 20).await;
        pdp.clear();
        publish_ok(&c, &digdir, &event("r4", &res)).await;
        assert_eq!(delivered_ids(&rx_digdir.wait_for(2, T).await), vec!["r4"]);
        assert_eq!(delivered_ids(&rx_ttd.wait_for(2, T).await), vec!["r4"]);
        let push_req = pdp
            .requests()
            .into_iter()
            .find(|r| r["Request"]["AccessSubject"].as_array().map(Vec::len) == Some(2))
            .unwrap_or_default();
        let mut consumers: Vec<(String, String)> = push_req["Request"]["AccessSubject"].as_array().cloned().unwrap_or_default().iter().flat_map(attrs).collect();
        consumers.sort();
        assert_eq!(consumers, pairs(&[("urn:altinn:org", "digdir"), ("urn:altinn:org", "ttd")]));

        // ttd loses the right: the next event goes to digdir only.
        pdp.reset();
        pdp.permit("urn:altinn:org", "digdir", "publish");
        pdp.permit("urn:altinn:org", "digdir", "subscribe");
        pdp.permit_event("urn:altinn:org", "skd", "subscribe", "r2");
        publish_ok(&c, &digdir, &event("r4b", &res)).await;
        assert_eq!(delivered_ids(&rx_digdir.wait_for(3, T).await), vec!["r4", "r4b"]);
        assert!(rx_ttd.quiet_for(Duration::from_secs(2)).await.is_empty(), "pushed to a consumer the PDP denied");
        // Person subjects reach the PDP as the party's uuid (spec §11.10).
        let party = unique_number(74_000_000);
        put_party(&c, party, json!({"partyUuid": "7e0f3c52-aaaa-bbbb-cccc-000000000002", "personIdentifier": "01017512345"})).await;
        pdp.clear();
        let mut person = event("r4c", &res);
        person["subject"] = json!("urn:altinn:person:identifier-no:01017512345");
        publish_ok(&c, &digdir, &person).await;
        let publish_req = pdp.requests()[0].clone();
        assert!(
            attrs(&publish_req["Request"]["Resource"][0]).contains(&("urn:altinn:party:uuid".into(), "7e0f3c52-aaaa-bbbb-cccc-000000000002".into())),
            "{publish_req}"
        );
        assert!(!publish_req.to_string().contains("01017512345"), "the person number must not reach the PDP");
        // A failing PDP: 503 on the API, never a permit; deliveries wait for it.
        pdp.fail_with(500);
        let r = publish(&c, &digdir, &event("r5", &res)).await;
        assert_problem(&r, 503, "The authorization service (PDP) did not give a decision. Please retry.");
        let r = c.get(&format!("{EVENTS}?resource={res}&after=0")).bearer(&skd).send().await;
        assert_problem(&r, 503, "The authorization service (PDP) did not give a decision. Please retry.");
        let r = c.post(SUBSCRIPTIONS).bearer(&ttd).json(&json!({"endPoint": rx_ttd.url_path("/x"), "resourceFilter": res})).send().await;
        assert_problem(&r, 503, "The authorization service (PDP) did not give a decision. Please retry.");
        let admin = TokenSpec::org("digdir").scope("altinn:events.publish altinn:events.publish.admin").mint();
        publish_ok(&c, &admin, &event("r6", &res)).await;
        assert!(rx_digdir.quiet_for(Duration::from_secs(3)).await.is_empty(), "pushed without a decision");
        pdp.recover();
        assert_eq!(delivered_ids(&rx_digdir.wait_for(5, Duration::from_secs(30)).await), vec!["r4", "r4b", "r4c", "r6"]);
    });

    suite.run()
}
