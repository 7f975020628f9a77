//! App events end to end: `POST /app` (spec §5.1), `GET /app/{org}/{app}` (§5.2) and
//! `GET /app/party` (§5.3) with every validation message of §6.2, subject resolution through
//! the party register, time bounds, patterns, paging and per-event read authorization.

use std::process::ExitCode;
use std::time::Duration;

use altinn_events_tests::fixtures::*;
use altinn_events_tests::{Suite, TestClient, TestReceiver, TokenSpec};
use serde_json::{json, Value};

const APP: &str = "/events/api/v1/app";

fn app_name() -> String {
    unique("app").replace('-', "")
}

fn instance_source(org: &str, app: &str, party: u64, n: u32) -> String {
    format!("https://{org}.apps.altinn.no/{org}/{app}/instances/{party}/6f0c1d8e-2a3b-4c5d-9e8f-{n:012}")
}

fn app_body(org: &str, app: &str, party: u64, n: u32, type_: &str) -> Value {
    json!({
        "specversion": "1.0",
        "type": type_,
        "source": instance_source(org, app, party, n),
        "subject": format!("/party/{party}"),
        "alternativesubject": "/person/01017512345",
        "data": {"ignored": true},
    })
}

/// Publish through POST /app as the app `org/app`, requiring 201.
async fn post_app(c: &TestClient, org: &str, app: &str, body: &Value) -> String {
    let user = TokenSpec::user(1, 1).mint();
    let access = TokenSpec::platform(org, app).mint();
    let r = c
        .post(APP)
        .bearer(&user)
        .platform_token(&access)
        .json(body)
        .send()
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    r.json().as_str().unwrap_or_default().to_owned()
}

/// Publish an app-resource event with a chosen time through the generic API (as the owner).
async fn post_timed(
    c: &TestClient,
    org: &str,
    app: &str,
    party: u64,
    id: &str,
    time: &str,
    type_: &str,
) {
    let e = json!({
        "specversion": "1.0", "id": id, "type": type_, "time": time,
        "source": instance_source(org, app, party, 1),
        "subject": format!("/party/{party}"),
        "resource": format!("urn:altinn:resource:app_{org}_{app}"),
    });
    publish_ok(c, &org_token(org), &e).await;
}

fn main() -> ExitCode {
    let mut suite = Suite::new();

    suite.test("post_app_statuses_and_messages", |ctx| async move {
        let c = ctx.client();
        let app = app_name();
        let party = unique_number(60_000_000);
        let body = app_body("ttd", &app, party, 1, "app.instance.created");
        let user = TokenSpec::user(1, 1).mint();
        let access = TokenSpec::platform("ttd", &app).mint();
        // 401 without a token (even with a platform token), 403 without a platform token.
        assert_unauthorized(&c.post(APP).platform_token(&access).json(&body).send().await);
        assert_forbidden(&c.post(APP).bearer(&user).json(&body).send().await);
        assert_forbidden(
            &c.post(APP)
                .bearer(&user)
                .platform_token("x.y.z")
                .json(&body)
                .send()
                .await,
        );
        // 415 for other content types and for none.
        let r = c
            .post(APP)
            .bearer(&user)
            .platform_token(&access)
            .body("text/plain", body.to_string())
            .send()
            .await;
        assert_eq!(r.status, 415);
        let r = c
            .post(APP)
            .bearer(&user)
            .platform_token(&access)
            .send()
            .await;
        assert_eq!(r.status, 415);
        // 400: empty body, missing values, relative source.
        let r = c
            .post(APP)
            .bearer(&user)
            .platform_token(&access)
            .body("application/json", "")
            .send()
            .await;
        assert_validation(&r, json!({"": ["A non-empty request body is required."]}));
        for field in ["source", "type", "subject", "specversion"] {
            let mut b = body.clone();
            b[field] = json!("");
            let r = c
                .post(APP)
                .bearer(&user)
                .platform_token(&access)
                .json(&b)
                .send()
                .await;
            assert_problem(
                &r,
                400,
                "Missing parameter values: source, subject and type cannot be null",
            );
        }
        let mut relative = body.clone();
        relative["source"] = json!(format!("/ttd/{app}/instances/1/2"));
        let r = c
            .post(APP)
            .bearer(&user)
            .platform_token(&access)
            .json(&relative)
            .send()
            .await;
        assert_problem(&r, 400, "'source' must be an absolute URI.");
        // 401 with a JSON string: the app may only publish for itself.
        let other = TokenSpec::platform("ttd", "another-app").mint();
        let r = c
            .post(APP)
            .bearer(&user)
            .platform_token(&other)
            .json(&body)
            .send()
            .await;
        assert_text(
            &r,
            401,
            &format!(
                "ttd/another-app is not authorized to create events for {}",
                instance_source("ttd", &app, party, 1)
            ),
        );
        // 201: Location is the subject, the body the new id; the event is readable at once,
        // built by the server (data dropped, resource and resourceinstance derived).
        let r = c
            .post(APP)
            .bearer(&user)
            .platform_token(&access)
            .json(&body)
            .send()
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        assert_eq!(r.header("location"), Some(format!("/party/{party}")));
        let id = r.json().as_str().unwrap_or_default().to_owned();
        assert_eq!(id.len(), 36, "{id}");
        let read = c
            .get(&format!("{APP}/ttd/{app}?after=0"))
            .bearer(&org_token("ttd"))
            .send()
            .await;
        assert_eq!(read.status, 200, "{}", read.body);
        let events = read.json();
        let e = &events[0];
        assert_eq!(e["id"], json!(id));
        assert_eq!(
            e["resource"],
            json!(format!("urn:altinn:resource:app_ttd_{app}"))
        );
        assert_eq!(
            e["resourceinstance"],
            json!(format!("{party}/6f0c1d8e-2a3b-4c5d-9e8f-000000000001"))
        );
        assert_eq!(e["alternativesubject"], "/person/01017512345");
        assert!(e.get("data").is_none(), "data is dropped: {e}");
        let keys: Vec<String> = e
            .as_object()
            .map(|o| o.keys().cloned().collect())
            .unwrap_or_default();
        assert_eq!(
            keys,
            vec![
                "specversion",
                "id",
                "time",
                "source",
                "subject",
                "type",
                "resource",
                "resourceinstance",
                "alternativesubject"
            ]
        );
        // Ownership is by whole path segments (unlike Altinn's plain prefix): apps-test may not
        // publish for apps-test-2 (tests/outside_clients.rs, app_ownership_is_by_whole_segments).
    });

    suite.test("read_for_org_rules_and_messages", |ctx| async move {
        let c = ctx.client();
        let app = app_name();
        let ttd = org_token("ttd");
        let path = |q: &str| format!("{APP}/ttd/{app}?{q}");
        assert_unauthorized(&c.get(&path("after=0")).send().await);
        let user = TokenSpec::user(1337, 50001337).mint();
        assert_text(&c.get(&path("after=0")).bearer(&user).send().await, 401, "Only orgs can call this api");
        let problems: Vec<(&str, Option<&str>, &str)> = vec![
            ("size=5", None, "The 'From' or 'After' parameter must be defined."),
            ("after=", None, "The 'From' or 'After' parameter must be defined."),
            ("from=2022-07-07T11:00:53", None, "The 'From' parameter must specify timezone. E.g. 2022-07-07T11:00:53.3917Z for UTC"),
            ("after=0&to=2022-07-07", None, "The 'To' parameter must specify timezone. E.g. 2022-07-07T11:00:53.3917Z for UTC"),
            ("after=0&size=0", None, "The 'Size' parameter must be a number larger that 0."),
            ("after=0&size=-4", None, "The 'Size' parameter must be a number larger that 0."),
            ("after=0&party=5", Some("01017512345"), "Only one of 'Party' or 'Person' can be defined."),
            ("after=0&party=5&unit=912345678", None, "Only one of 'Party' or 'Unit' can be defined."),
            ("after=0&unit=12345", None, "Value of 'Unit' needs to be exactly 9 digits."),
            ("after=0&unit=91234567x", None, "Value of 'Unit' needs to be exactly 9 digits."),
        ];
        for (q, person, detail) in problems {
            let mut b = c.get(&path(q)).bearer(&ttd);
            if let Some(p) = person {
                b = b.header("person", p);
            }
            assert_problem(&b.send().await, 400, detail);
        }
        let r = c.get(&path("after=0&party=x&size=y")).bearer(&ttd).send().await;
        assert_validation(&r, json!({"party": ["The value 'x' is not valid for party."], "size": ["The value 'y' is not valid for size."]}));
        let r = c.get(&path("from=yesterday")).bearer(&ttd).send().await;
        assert_validation(&r, json!({"from": ["The value 'yesterday' is not valid for from."]}));
        // A content type other than JSON is refused; none is fine.
        assert_eq!(c.get(&path("after=0")).bearer(&ttd).header("content-type", "text/plain").send().await.status, 415);
        let r = c.get(&path("after=0")).bearer(&ttd).send().await;
        assert_eq!((r.status, r.body.as_str(), r.header("next")), (200, "[]", None));
        // Unknown persons and units are a 404 problem.
        let r = c.get(&path("after=0")).bearer(&ttd).header("person", "99999999999").send().await;
        assert_eq!(r.status, 404, "{}", r.body);
        assert_eq!(r.json()["title"], "Not Found");
        let r = c.get(&path("after=0&unit=999999999")).bearer(&ttd).send().await;
        assert_eq!(r.status, 404, "{}", r.body);
    });

    suite.test("read_for_org_bounds_patterns_paging_and_org_scope", |ctx| async move {
        let c = ctx.client();
        let app = app_name();
        let ttd = org_token("ttd");
        let party = unique_number(60_000_000);
        let party2 = unique_number(60_000_000);
        post_timed(&c, "ttd", &app, party, "t1", "2024-01-01T10:00:00Z", "app.instance.created").await;
        post_timed(&c, "ttd", &app, party, "t2", "2024-01-02T12:00:00+02:00", "app.instance.process.completed").await;
        post_timed(&c, "ttd", &app, party2, "t3", "2024-01-03T10:00:00Z", "App.Instance.Created").await;
        post_timed(&c, "ttd", &app, party, "t4", "2024-01-04T10:00:00Z", "app.instance.created").await;
        post_timed(&c, "ttd", &app, party, "t5", "2024-01-05T10:00:00Z", "other.event").await;
        let get = |q: String| {
            let c = c.clone();
            let ttd = ttd.clone();
            let url = format!("{APP}/ttd/{app}?{q}");
            async move { c.get(&url).bearer(&ttd).send().await }
        };
        assert_eq!(ids(&get("after=0".into()).await), vec!["t1", "t2", "t3", "t4", "t5"]);
        // from/to are inclusive UTC bounds; `+` must be sent as %2B.
        assert_eq!(ids(&get("from=2024-01-02T10:00:00Z&to=2024-01-04T10:00:00Z".into()).await), vec!["t2", "t3", "t4"]);
        assert_eq!(ids(&get("from=2024-01-02T12:00:00%2B02:00".into()).await), vec!["t2", "t3", "t4", "t5"]);
        assert_eq!(ids(&get("after=t3&to=2024-01-04T10:00:00Z".into()).await), vec!["t4"]);
        // type patterns are case-insensitive LIKE, repeatable.
        assert_eq!(ids(&get("after=0&type=app.instance.created".into()).await), vec!["t1", "t3", "t4"]);
        assert_eq!(ids(&get("after=0&type=%25completed&type=other._vent".into()).await), vec!["t2", "t5"]);
        // party filter.
        assert_eq!(ids(&get(format!("after=0&party={party2}")).await), vec!["t3"]);
        // paging across three pages with next.
        let mut url = format!("{APP}/ttd/{app}?after=0&size=2");
        let mut pages = Vec::new();
        loop {
            let r = c.get(&url).bearer(&ttd).send().await;
            let page = ids(&r);
            if page.is_empty() {
                assert_eq!(r.header("next"), None);
                break;
            }
            let next = r.header("next").unwrap_or_default();
            assert_eq!(next, format!("{}{APP}/ttd/{app}?after={}&size=2", ctx.base_url(), page.last().cloned().unwrap_or_default()));
            pages.push(page);
            url = next;
        }
        assert_eq!(pages, vec![vec!["t1", "t2"], vec!["t3", "t4"], vec!["t5"]]);
        // Another org reads only its own apps: nothing here.
        let r = c.get(&format!("{APP}/ttd/{app}?after=0")).bearer(&org_token("skd")).send().await;
        assert_eq!((r.status, r.body.as_str()), (200, "[]"));
        // Events whose source is not an instance URL are never returned (spec §6.6).
        let short = json!({"specversion": "1.0", "id": "t6", "type": "x", "source": format!("https://ttd.apps.altinn.no/ttd/{app}"), "subject": format!("/party/{party}"), "resource": format!("urn:altinn:resource:app_ttd_{app}")});
        publish_ok(&c, &ttd, &short).await;
        assert_eq!(ids(&get("after=t5".into()).await), Vec::<String>::new());
    });

    suite.test("read_for_party_resolution_authorization_and_paging", |ctx| async move {
        let c = ctx.client();
        let app_a = app_name();
        let app_b = app_name();
        let party = unique_number(60_000_000);
        let other_party = unique_number(60_000_000);
        let org_number = format!("9{:08}", party % 100_000_000);
        let person = format!("{:011}", party);
        put_party(&c, party, json!({"organizationIdentifier": org_number, "roles": {"2001": ["DAGL"]}})).await;
        put_party(&c, other_party, json!({"personIdentifier": person})).await;
        post_timed(&c, "ttd", &app_a, party, "p1", "2024-02-01T00:00:00Z", "app.instance.created").await;
        post_timed(&c, "ttd", &app_b, party, "p2", "2024-02-02T00:00:00Z", "app.instance.created").await;
        post_timed(&c, "skd", &app_a, party, "p3", "2024-02-03T00:00:00Z", "app.instance.completed").await;
        post_timed(&c, "ttd", &app_a, other_party, "p4", "2024-02-04T00:00:00Z", "app.instance.created").await;
        let id5 = post_app(&c, "ttd", &app_b, &app_body("ttd", &app_b, party, 9, "app.instance.created")).await;
        let path = |q: &str| format!("{APP}/party?{q}");
        let role_holder = TokenSpec::user(2001, 9).mint();
        // Subject rule (after the shared rules).
        let r = c.get(&path("after=0")).bearer(&role_holder).send().await;
        assert_problem(&r, 400, "Subject must be specified using either query params party or unit or header value person.");
        let r = c.get(&path("size=0&after=0")).bearer(&role_holder).send().await;
        assert_problem(&r, 400, "The 'Size' parameter must be a number larger that 0.");
        assert_unauthorized(&c.get(&path(&format!("after=0&party={party}"))).send().await);
        // A user holding a role for the party reads all its app events, across apps and orgs.
        let r = c.get(&path(&format!("after=0&party={party}"))).bearer(&role_holder).send().await;
        assert_eq!(ids(&r), vec!["p1".to_owned(), "p2".into(), "p3".into(), id5.clone()]);
        // The same via the unit's organisation number, and via the person header.
        let r = c.get(&path(&format!("after=0&unit={org_number}"))).bearer(&role_holder).send().await;
        assert_eq!(ids(&r).len(), 4);
        let owner_of_other = TokenSpec::user(3003, other_party).mint();
        let r = c.get(&path("after=0")).bearer(&owner_of_other).header("person", &person).send().await;
        assert_eq!(ids(&r), vec!["p4"], "a user reads their own party (partyid claim)");
        // A user without a role sees nothing; an org sees its own apps' events only.
        let stranger = TokenSpec::user(4004, 4).mint();
        let r = c.get(&path(&format!("after=0&party={party}"))).bearer(&stranger).send().await;
        assert_eq!((r.status, r.body.as_str(), r.header("next")), (200, "[]", None));
        let r = c.get(&path(&format!("after=0&party={party}"))).bearer(&org_token("skd")).send().await;
        assert_eq!(ids(&r), vec!["p3"]);
        // source patterns (case-insensitive) and time bounds.
        let src = format!("HTTPS://TTD.apps.altinn.no/ttd/{app_a}/%25");
        let r = c.get(&path(&format!("after=0&party={party}&source={src}"))).bearer(&role_holder).send().await;
        assert_eq!(ids(&r), vec!["p1"]);
        let r = c.get(&path(&format!("party={party}&from=2024-02-02T00:00:00Z&to=2024-02-03T00:00:00Z"))).bearer(&role_holder).send().await;
        assert_eq!(ids(&r), vec!["p2", "p3"]);
        // Paging with next across pages.
        let mut url = path(&format!("after=0&party={party}&size=1"));
        let mut seen = Vec::new();
        for _ in 0..4 {
            let r = c.get(&url).bearer(&role_holder).send().await;
            let page = ids(&r);
            assert_eq!(page.len(), 1, "{}", r.body);
            let next = r.header("next").unwrap_or_default();
            assert_eq!(next, format!("{}{APP}/party?after={}&party={party}&size=1", ctx.base_url(), page[0]));
            seen.extend(page);
            url = next;
        }
        assert_eq!(seen, vec!["p1".to_owned(), "p2".into(), "p3".into(), id5]);
        let r = c.get(&url).bearer(&role_holder).send().await;
        assert_eq!((r.body.as_str(), r.header("next")), ("[]", None));
        // Unknown person: 404 problem.
        let r = c.get(&path("after=0")).bearer(&role_holder).header("person", "12345678901").send().await;
        assert_eq!(r.status, 404);
    });

    suite.test("app_events_reach_app_subscriptions", |ctx| async move {
        let c = ctx.client();
        let receiver = TestReceiver::start();
        let app = app_name();
        let party = unique_number(60_000_000);
        let ttd = TokenSpec::org("ttd").mint();
        let sub = create_subscription(&c, &ttd, &json!({"endPoint": receiver.url_path("/app"), "sourceFilter": format!("https://ttd.apps.altinn.no/ttd/{app}"), "typeFilter": "app.instance.created"})).await;
        wait_validated(&c, &ttd, sub["id"].as_i64().unwrap_or_default(), 20).await;
        // A user subscribes to their own party's events of this app.
        let user = TokenSpec::user(5005, party).mint();
        let own = create_subscription(&c, &user, &json!({"endPoint": receiver.url_path("/user"), "resourceFilter": format!("urn:altinn:resource:app_ttd_{app}"), "subjectFilter": format!("/party/{party}")})).await;
        wait_validated(&c, &user, own["id"].as_i64().unwrap_or_default(), 20).await;
        // But not to someone else's party.
        let r = c.post(SUBSCRIPTIONS).bearer(&user).json(&json!({"endPoint": receiver.url_path("/x"), "resourceFilter": format!("urn:altinn:resource:app_ttd_{app}"), "subjectFilter": "/party/1"})).send().await;
        assert_text(&r, 403, &format!("Not authorized to create a subscription for resource urn:altinn:resource:app_ttd_{app}."));
        receiver.clear();
        let id = post_app(&c, "ttd", &app, &app_body("ttd", &app, party, 1, "app.instance.created")).await;
        post_app(&c, "ttd", &app, &app_body("ttd", &app, party, 2, "app.instance.completed")).await;
        let got = receiver.wait_for(3, Duration::from_secs(20)).await;
        let mut seen: Vec<(String, String)> = got.iter().map(|r| (r.path.clone(), r.json()["type"].as_str().unwrap_or_default().to_owned())).collect();
        seen.sort();
        assert_eq!(seen, vec![("/app".into(), "app.instance.created".into()), ("/user".into(), "app.instance.completed".into()), ("/user".into(), "app.instance.created".into())]);
        assert!(got.iter().any(|r| r.json()["id"] == json!(id)));
    });

    suite.run()
}
