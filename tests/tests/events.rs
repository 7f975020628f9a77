//! Generic events end to end: `POST`/`GET /events/api/v1/events`, every status and message of
//! spec §5.4/§5.5, token variants, cursor paging, duplicates, authorization, admin rule
//! documents, and a restart of `wrangler dev` on the same state.

use std::process::ExitCode;

use altinn_events_tests::fixtures::*;
use altinn_events_tests::token::{hs256_token, signed_by_unknown_key, tamper, unsigned_token};
use altinn_events_tests::{Suite, TestServer, TokenSpec};
use serde_json::{json, Value};

fn main() -> ExitCode {
    let mut suite = Suite::new();

    suite.test("publish_statuses_and_messages_in_order", |ctx| async move {
        let c = ctx.client();
        let id = unique("pub");
        put_policy(&c, &id, json!({"owner": "ttd"})).await;
        let ev = event("e1", &resource_urn(&id));
        let ttd = org_token("ttd");

        // 401: no token, an invalid token.
        let r = c.post(EVENTS).cloudevent(&ev).send().await;
        assert_unauthorized(&r);
        let r = c.post(EVENTS).bearer("not-a-jwt").cloudevent(&ev).send().await;
        assert_unauthorized(&r);
        // 403: valid token without the publish scope and without a platform token.
        let no_scope = TokenSpec::org("ttd").scope("altinn:events.subscribe").mint();
        assert_forbidden(&publish(&c, &no_scope, &ev).await);
        // 401 comes before 415/400.
        let r = c.post(EVENTS).body("application/json", "{").send().await;
        assert_unauthorized(&r);
        // 415: application/json, text/plain, no content type.
        for ct in ["application/json", "text/plain"] {
            let r = c.post(EVENTS).bearer(&ttd).body(ct, ev.to_string()).send().await;
            assert_eq!(r.status, 415, "{ct}: {}", r.body);
            assert_eq!(r.json()["title"], "Unsupported Media Type");
        }
        let r = c.post(EVENTS).bearer(&ttd).send().await;
        assert_eq!(r.status, 415, "{}", r.body);
        // 413: larger than 1 MiB.
        let mut big = ev.clone();
        big["data"] = json!("x".repeat(1024 * 1024 + 10));
        let r = publish(&c, &ttd, &big).await;
        assert_problem(&r, 413, "The request body is larger than the limit of 1048576 bytes.");
        // 400 ValidationProblems from parsing.
        let cases: Vec<(String, &str)> = vec![
            ("[1]".into(), "Structured mode content does not represent a CloudEvent"),
            (json!({"specversion": "0.3", "id": "1", "source": "s", "type": "t"}).to_string(), "Unsupported CloudEvents spec version '0.3'"),
            (json!({"specversion": "1.0", "source": "s", "type": "t", "resource": resource_urn(&id)}).to_string(), "CloudEvent is missing required attributes: id (Parameter 'data')"),
            (json!({"specversion": "1.0", "id": "1", "source": "s", "type": "t", "alternativeSubject": "x"}).to_string(), "Invalid attribute name 'alternativeSubject': attribute names must consist of lower-case ASCII letters and digits."),
            (json!({"specversion": "1.0", "id": "1", "source": "s", "type": "t", "ext": {"a": 1}}).to_string(), "Invalid value for extension attribute 'ext': extension values must be strings, booleans or integers."),
            (json!({"specversion": "1.0", "id": "1", "source": "s", "type": "t", "time": "yesterday"}).to_string(), "Invalid value for attribute 'time': 'yesterday' is not an RFC 3339 timestamp with a time zone offset."),
        ];
        for (body, message) in cases {
            let r = c.post(EVENTS).bearer(&ttd).body("application/cloudevents+json", body.clone()).send().await;
            assert_validation(&r, json!({"RequestBody": [message]}));
        }
        let r = c.post(EVENTS).bearer(&ttd).body("application/cloudevents+json", "{\"specversion\":").send().await;
        assert_eq!(r.status, 400);
        assert!(r.json()["errors"]["RequestBody"][0].as_str().unwrap_or("").starts_with("The request body is not valid JSON"), "{}", r.body);
        // 400 ProblemDetails from the resource rules.
        let mut no_resource = ev.clone();
        no_resource.as_object_mut().map(|o| o.remove("resource"));
        assert_problem(&publish(&c, &ttd, &no_resource).await, 400, "A 'resource' property must be defined.");
        let mut bad_urn = ev.clone();
        bad_urn["resource"] = json!("urn:altinn:resource:Test");
        assert_problem(&publish(&c, &ttd, &bad_urn).await, 400, "'Resource' must be a valid urn.");
        // 403 from the PDP: another org has no rights on this resource.
        assert_forbidden(&publish(&c, &org_token("skd"), &ev).await);
        // 200 with an empty body; subject and time are optional.
        publish_ok(&c, &ttd, &ev).await;
        let mut minimal = ev.clone();
        minimal["id"] = json!("e2");
        minimal.as_object_mut().map(|o| o.remove("subject"));
        publish_ok(&c, &ttd, &minimal).await;
        // A platform access token stands in for the publish scope.
        let r = c
            .post(EVENTS)
            .bearer(&no_scope)
            .platform_token(&TokenSpec::platform("ttd", "apps-test").mint())
            .cloudevent(&json!({"specversion": "1.0", "id": "e3", "source": "s", "type": "t", "resource": resource_urn(&id)}))
            .send()
            .await;
        assert_empty(&r, 200);
        let r = c.get(&format!("{EVENTS}?resource={}&after=0", resource_urn(&id))).bearer(&ttd).send().await;
        assert_eq!(ids(&r), vec!["e1", "e2", "e3"]);
    });

    suite.test("admin_scope_publishes_anywhere_and_rules_grant_publish", |ctx| async move {
        let c = ctx.client();
        let id = unique("adm");
        let ev = event("a1", &resource_urn(&id));
        // No document: nobody but admins may publish.
        assert_forbidden(&publish(&c, &org_token("digdir"), &ev).await);
        let admin = TokenSpec::org("digdir").scope("altinn:events.publish altinn:events.publish.admin").mint();
        publish_ok(&c, &admin, &ev).await;
        // The admin scope is matched case-insensitively, but not as a suffix.
        let admin_upper = TokenSpec::org("digdir").scope("altinn:events.publish ALTINN:EVENTS.PUBLISH.ADMIN").mint();
        publish_ok(&c, &admin_upper, &event("a2", &resource_urn(&id))).await;
        let prefixed = TokenSpec::org("digdir").scope("altinn:events.publish somerandomprefix:altinn:events.publish.admin").mint();
        assert_forbidden(&publish(&c, &prefixed, &event("a3", &resource_urn(&id))).await);
        // A rule lets digdir publish.
        put_policy(&c, &id, json!({"owner": "nbib", "rules": [{"actions": ["publish"], "subjects": [{"urn:altinn:org": "digdir"}]}]})).await;
        publish_ok(&c, &org_token("digdir"), &event("a4", &resource_urn(&id))).await;
        assert_forbidden(&publish(&c, &org_token("skd"), &event("a5", &resource_urn(&id))).await);
    });

    suite.test("bad_token_variants_are_401", |ctx| async move {
        let c = ctx.client();
        let id = unique("tok");
        put_policy(&c, &id, json!({"owner": "ttd"})).await;
        let ev = event("t1", &resource_urn(&id));
        let good = TokenSpec::org("ttd").scope(PUBLISH);
        let claims = good.claims();
        let claims = Value::Object(claims);
        let variants: Vec<(&str, String)> = vec![
            (
                "expired",
                TokenSpec::org("ttd").scope(PUBLISH).expires_in(-5).mint(),
            ),
            (
                "not yet valid",
                TokenSpec::org("ttd")
                    .scope(PUBLISH)
                    .not_before_in(120)
                    .mint(),
            ),
            ("alg none", unsigned_token(&claims)),
            ("HS256", hs256_token(&claims, b"secret")),
            ("unknown key", signed_by_unknown_key(&claims)),
            ("tampered", tamper(&good.mint())),
            (
                "no exp",
                TokenSpec::org("ttd")
                    .scope(PUBLISH)
                    .without_claim("exp")
                    .mint(),
            ),
            ("garbage", "a.b.c".into()),
        ];
        for (name, token) in variants {
            let r = publish(&c, &token, &ev).await;
            assert_eq!(r.status, 401, "{name}");
            assert_unauthorized(&r);
        }
        // Accepted variants: RS256, no kid, the AltinnStudioRuntime cookie, string claims.
        publish_ok(
            &c,
            &TokenSpec::org("ttd").scope(PUBLISH).rs256().mint(),
            &ev,
        )
        .await;
        publish_ok(
            &c,
            &TokenSpec::org("ttd").scope(PUBLISH).without_kid().mint(),
            &ev,
        )
        .await;
        publish_ok(
            &c,
            &TokenSpec::org("ttd")
                .scope(PUBLISH)
                .rs256()
                .without_kid()
                .mint(),
            &ev,
        )
        .await;
        let r = c
            .post(EVENTS)
            .cookie_token(&good.mint())
            .cloudevent(&ev)
            .send()
            .await;
        assert_empty(&r, 200);
        // The bearer header wins over the cookie.
        let r = c
            .post(EVENTS)
            .bearer(&org_token("skd"))
            .cookie_token(&good.mint())
            .cloudevent(&ev)
            .send()
            .await;
        assert_forbidden(&r);
        // Platform token variants on an admin endpoint.
        let path = format!("/events/api/v1/admin/resources/{id}");
        assert_unauthorized(&c.get(&path).send().await);
        let expired = TokenSpec::platform("platform", "events")
            .expires_in(-1)
            .mint();
        assert_unauthorized(&c.get(&path).platform_token(&expired).send().await);
        assert_unauthorized(
            &c.get(&path)
                .platform_token(&tamper(&platform_token()))
                .send()
                .await,
        );
        assert_unauthorized(
            &c.get(&path)
                .platform_token(&TokenSpec::platform("unknown", "x").mint())
                .send()
                .await,
        );
        assert_forbidden(
            &c.get(&path)
                .platform_token(&TokenSpec::platform("ttd", "apps-test").mint())
                .send()
                .await,
        );
        let r = c.get(&path).platform_token(&platform_token()).send().await;
        assert_eq!(
            (r.status, r.json()),
            (200, json!({"owner": "ttd", "rules": []}))
        );
    });

    // The worker keeps tokens whose signature verified (per isolate); their lifetime must still
    // be checked on every use.
    suite.test("a_token_verified_before_still_expires", |ctx| async move {
        let c = ctx.client();
        let id = unique("exp");
        put_policy(&c, &id, json!({"owner": "ttd"})).await;
        let token = TokenSpec::org("ttd").scope(PUBLISH).expires_in(4).mint();
        let platform = TokenSpec::platform("platform", "events")
            .expires_in(4)
            .mint();
        let path = format!("/events/api/v1/admin/resources/{id}");
        publish_ok(&c, &token, &event("e1", &resource_urn(&id))).await;
        publish_ok(&c, &token, &event("e2", &resource_urn(&id))).await;
        assert_eq!(
            c.get(&path).platform_token(&platform).send().await.status,
            200
        );
        assert_eq!(
            c.get(&path).platform_token(&platform).send().await.status,
            200
        );
        // `exp` is checked with zero skew at one-second resolution.
        tokio::time::sleep(std::time::Duration::from_secs(6)).await;
        assert_unauthorized(&publish(&c, &token, &event("e3", &resource_urn(&id))).await);
        assert_unauthorized(&c.get(&path).platform_token(&platform).send().await);
    });

    suite.test("read_statuses_and_messages_in_order", |ctx| async move {
        let c = ctx.client();
        let id = unique("read");
        let res = resource_urn(&id);
        let ttd = org_token("ttd");
        let q = |s: &str| format!("{EVENTS}?{s}");
        assert_unauthorized(&c.get(&q(&format!("resource={res}&after=0"))).send().await);
        let publish_only = TokenSpec::org("ttd").scope(PUBLISH).mint();
        assert_forbidden(&c.get(&q(&format!("resource={res}&after=0"))).bearer(&publish_only).send().await);
        // The subscribe scope is case-sensitive in the policy.
        let upper = TokenSpec::org("ttd").scope("ALTINN:EVENTS.SUBSCRIBE").mint();
        assert_forbidden(&c.get(&q(&format!("resource={res}&after=0"))).bearer(&upper).send().await);
        let r = c.get(&q("after=0")).bearer(&ttd).send().await;
        assert_validation(&r, json!({"resource": ["The resource field is required."]}));
        let r = c.get(&q("resource=&after=0&size=ten")).bearer(&ttd).send().await;
        assert_validation(&r, json!({"resource": ["The resource field is required."], "size": ["The value 'ten' is not valid for size."]}));
        let r = c.get(&q(&format!("resource={res}&after=0&size=9999999999"))).bearer(&ttd).send().await;
        assert_validation(&r, json!({"size": ["The value '9999999999' is not valid for size."]}));
        let r = c.get(&q("resource=urn:other:x&after=0")).bearer(&ttd).send().await;
        assert_problem(&r, 400, "The 'resource' parameter must begin with `urn:altinn:resource:`");
        let r = c.get(&q(&format!("resource={res}"))).bearer(&ttd).send().await;
        assert_problem(&r, 400, "The 'after' parameter must be defined.");
        let r = c
            .get(&q(&format!("resource={res}&after=0&subject=/party/1")))
            .header("Altinn-AlternativeSubject", "/person/1")
            .bearer(&ttd)
            .send()
            .await;
        assert_problem(&r, 400, "Only one of 'subject' or 'alternativeSubject' can be defined.");
        // 200 with an empty list and no next header.
        let r = c.get(&q(&format!("resource={res}&after=0"))).bearer(&ttd).send().await;
        assert_eq!((r.status, r.body.as_str()), (200, "[]"));
        assert_eq!(r.header("content-type").as_deref(), Some("application/cloudevents+json; charset=utf-8"));
        assert_eq!(r.header("next"), None);
    });

    suite.test(
        "cursor_paging_across_three_pages_with_next",
        |ctx| async move {
            let c = ctx.client();
            let id = unique("page");
            let res = resource_urn(&id);
            put_policy(&c, &id, json!({"owner": "ttd"})).await;
            let ttd = org_token("ttd");
            for i in 1..=7 {
                publish_ok(&c, &ttd, &event(&format!("p{i}"), &res)).await;
            }
            let mut url = format!("{EVENTS}?resource={res}&after=0&size=3");
            let mut pages = Vec::new();
            for _ in 0..3 {
                let r = c.get(&url).bearer(&ttd).send().await;
                assert_eq!(r.status, 200, "{}", r.body);
                let page = ids(&r);
                let next = r
                    .header("next")
                    .unwrap_or_else(|| panic!("no next after {page:?}"));
                let last = page.last().cloned().unwrap_or_default();
                assert_eq!(
                    next,
                    format!(
                        "{}{EVENTS}?after={last}&resource={res}&size=3",
                        ctx.base_url()
                    )
                );
                pages.push(page);
                url = next;
            }
            assert_eq!(
                pages,
                vec![vec!["p1", "p2", "p3"], vec!["p4", "p5", "p6"], vec!["p7"]]
            );
            let r = c.get(&url).bearer(&ttd).send().await;
            assert_eq!(
                (r.status, r.body.as_str(), r.header("next")),
                (200, "[]", None)
            );
            // An unknown cursor starts from the beginning; size is clamped.
            let r = c
                .get(&format!("{EVENTS}?resource={res}&after=unknown&size=0"))
                .bearer(&ttd)
                .send()
                .await;
            assert_eq!(ids(&r).len(), 7);
            let r = c
                .get(&format!("{EVENTS}?resource={res}&after=p6&size=5000"))
                .bearer(&ttd)
                .send()
                .await;
            assert_eq!(ids(&r), vec!["p7"]);
        },
    );

    suite.test(
        "duplicates_by_id_and_source_are_stored_once",
        |ctx| async move {
            let c = ctx.client();
            let id = unique("dup");
            let res = resource_urn(&id);
            put_policy(&c, &id, json!({"owner": "ttd"})).await;
            let ttd = org_token("ttd");
            let ev = event("same", &res);
            publish_ok(&c, &ttd, &ev).await;
            publish_ok(&c, &ttd, &ev).await;
            let mut changed = ev.clone();
            changed["type"] = json!("other.type");
            publish_ok(&c, &ttd, &changed).await;
            let mut other_source = ev.clone();
            other_source["source"] = json!("https://example.com/other");
            publish_ok(&c, &ttd, &other_source).await;
            let r = c
                .get(&format!("{EVENTS}?resource={res}&after=0"))
                .bearer(&ttd)
                .send()
                .await;
            let events = r.json();
            let list = events.as_array().cloned().unwrap_or_default();
            assert_eq!(list.len(), 2, "{}", r.body);
            assert_eq!(list[0]["type"], "test.created", "the first copy wins");
            assert_eq!(list[1]["source"], "https://example.com/other");
        },
    );

    suite.test("filters_formatting_and_alternative_subject", |ctx| async move {
        let c = ctx.client();
        let id = unique("flt");
        let res = resource_urn(&id);
        put_policy(&c, &id, json!({"owner": "ttd"})).await;
        let ttd = org_token("ttd");
        let mut e1 = event("f1", &res);
        e1["type"] = json!("app.instance.created");
        e1["time"] = json!("2024-05-01T12:00:00.5+02:00");
        e1["alternativesubject"] = json!("/person/01017512345");
        e1["flag"] = json!(true);
        e1["count"] = json!(7);
        e1["data"] = json!({ "b": 1, "a": [1, 2] });
        publish_ok(&c, &ttd, &e1).await;
        let mut e2 = event("f2", &res);
        e2["type"] = json!("App.Instance.Completed");
        e2["subject"] = json!("/party/2");
        publish_ok(&c, &ttd, &e2).await;
        let mut e3 = event("f3", &res);
        e3["type"] = json!("other.thing");
        publish_ok(&c, &ttd, &e3).await;

        // Attribute order as published, time in UTC, extension values as strings.
        let r = c.get(&format!("{EVENTS}?resource={res}&after=0&size=1")).bearer(&ttd).send().await;
        assert_eq!(
            r.body,
            format!(r#"[{{"specversion":"1.0","id":"f1","source":"https://example.com/source","type":"app.instance.created","resource":"{res}","subject":"/party/1","time":"2024-05-01T10:00:00.500Z","alternativesubject":"/person/01017512345","flag":"true","count":"7","data":{{"b":1,"a":[1,2]}}}}]"#)
        );
        // LIKE patterns are case-sensitive for generic events, repeatable, and % / _ work.
        let r = c.get(&format!("{EVENTS}?resource={res}&after=0&type=app.%25")).bearer(&ttd).send().await;
        assert_eq!(ids(&r), vec!["f1"]);
        let r = c.get(&format!("{EVENTS}?resource={res}&after=0&type=app.%25&type=other.t_ing")).bearer(&ttd).send().await;
        assert_eq!(ids(&r), vec!["f1", "f3"]);
        assert_eq!(
            r.header("next").unwrap_or_default(),
            format!("{}{EVENTS}?after=f3&resource={res}&type=app.%25&type=other.t_ing", ctx.base_url())
        );
        // Subject filter, with the value decoded in the next link.
        let r = c.get(&format!("{EVENTS}?resource={res}&after=0&subject=%2Fparty%2F2")).bearer(&ttd).send().await;
        assert_eq!(ids(&r), vec!["f2"]);
        assert_eq!(r.header("next").unwrap_or_default(), format!("{}{EVENTS}?after=f2&resource={res}&subject=/party/2", ctx.base_url()));
        // The alternative-subject header filters, and the next link carries the subject.
        let r = c
            .get(&format!("{EVENTS}?resource={res}&after=0"))
            .header("Altinn-AlternativeSubject", "/person/01017512345")
            .bearer(&ttd)
            .send()
            .await;
        assert_eq!(ids(&r), vec!["f1"]);
        assert_eq!(r.header("next").unwrap_or_default(), format!("{}{EVENTS}?after=f1&resource={res}&subject=/party/1", ctx.base_url()));
    });

    suite.test("reads_are_filtered_by_the_pdp", |ctx| async move {
        let c = ctx.client();
        let id = unique("authz");
        let res = resource_urn(&id);
        put_policy(
            &c,
            &id,
            json!({"owner": "ttd", "rules": [{"actions": ["subscribe"], "subjects": [{"urn:altinn:org": "digdir"}]}]}),
        )
        .await;
        let ttd = org_token("ttd");
        for i in 1..=3 {
            publish_ok(&c, &ttd, &event(&format!("z{i}"), &res)).await;
        }
        let read = |token: String| {
            let c = c.clone();
            let url = format!("{EVENTS}?resource={res}&after=0");
            async move { c.get(&url).bearer(&token).send().await }
        };
        assert_eq!(ids(&read(ttd.clone()).await), vec!["z1", "z2", "z3"]);
        assert_eq!(ids(&read(org_token("digdir")).await), vec!["z1", "z2", "z3"]);
        let r = read(org_token("skd")).await;
        assert_eq!((r.status, r.body.as_str(), r.header("next")), (200, "[]", None));
        let user = TokenSpec::user(1337, 50001337).scope(SUBSCRIBE).mint();
        assert_eq!(read(user).await.body, "[]");
    });

    suite.test("admin_resource_documents", |ctx| async move {
        let c = ctx.client();
        let id = unique("doc");
        let path = format!("/events/api/v1/admin/resources/{id}");
        let p = platform_token();
        let r = c.get(&path).platform_token(&p).send().await;
        assert_problem(&r, 404, &format!("No rule document is stored for resource 'urn:altinn:resource:{id}'."));
        let doc = json!({"owner": "ttd", "rules": [{"actions": ["subscribe", "read"], "subjects": [{"urn:altinn:org": "digdir"}, {"urn:altinn:rolecode": "DAGL"}]}]});
        let r = c.put(&path).platform_token(&p).json(&doc).send().await;
        assert_eq!((r.status, r.json()), (201, doc.clone()));
        let r = c.put(&path).platform_token(&p).json(&doc).send().await;
        assert_eq!(r.status, 200);
        let r = c.get(&path).platform_token(&p).send().await;
        assert_eq!((r.status, r.json()), (200, doc));
        let bad = c.put(&path).platform_token(&p).json(&json!({"rules": [{"actions": ["write"], "subjects": [{"urn:altinn:org": "x"}]}]})).send().await;
        assert_problem(&bad, 400, "rules[0].actions: unknown action 'write' (use publish, subscribe or read).");
        let bad = c.put("/events/api/v1/admin/resources/Bad%20Id").platform_token(&p).json(&json!({})).send().await;
        assert_problem(&bad, 400, "'Bad Id' is not a valid resource id: 'urn:altinn:resource:Bad Id' must be a valid urn.");
        assert_empty(&c.delete(&path).platform_token(&p).send().await, 204);
        assert_eq!(c.delete(&path).platform_token(&p).send().await.status, 404);
    });

    suite.test("admin_party_register", |ctx| async move {
        let c = ctx.client();
        let p = platform_token();
        let party = 70_000_000 + (std::process::id() % 1000) as u64;
        let path = format!("/events/api/v1/admin/parties/{party}");
        let doc = json!({"partyUuid": "4A80AF94-1111-2222-3333-444455556666", "organizationIdentifier": "912345678", "roles": {"1337": ["DAGL"]}});
        let r = c.put(&path).platform_token(&p).json(&doc).send().await;
        assert!(r.status == 201 || r.status == 200, "{}", r.body);
        assert_eq!(
            r.json(),
            json!({"partyId": party, "partyUuid": "4a80af94-1111-2222-3333-444455556666", "organizationIdentifier": "912345678", "roles": {"1337": ["DAGL"]}})
        );
        let r = c.get(&path).platform_token(&p).send().await;
        assert_eq!(r.json()["partyUuid"], "4a80af94-1111-2222-3333-444455556666");
        let bad = c.put(&path).platform_token(&p).json(&json!({"personIdentifier": "12ab"})).send().await;
        assert_problem(&bad, 400, "'personIdentifier' must be digits.");
        let bad = c.put("/events/api/v1/admin/parties/abc").platform_token(&p).json(&json!({})).send().await;
        assert_problem(&bad, 400, "'abc' is not a party id: expected a positive integer.");
        assert_forbidden(&c.put(&path).platform_token(&TokenSpec::platform("ttd", "apps-test").mint()).json(&doc).send().await);
        assert_empty(&c.delete(&path).platform_token(&p).send().await, 204);
        let r = c.get(&path).platform_token(&p).send().await;
        assert_problem(&r, 404, &format!("Party {party} is not in the register."));
    });

    suite.test("health_and_unknown_routes", |ctx| async move {
        let c = ctx.client();
        let r = c.get("/health").send().await;
        assert_eq!((r.status, r.body.as_str()), (200, "Healthy"));
        assert_empty(&c.get("/events/api/v1/nothing").send().await, 404);
        assert_empty(&c.delete(EVENTS).send().await, 405);
        // Trailing slashes and upper-case literals route as in ASP.NET.
        let r = c
            .get("/Events/API/v1/events/?after=0")
            .bearer(&org_token("ttd"))
            .send()
            .await;
        assert_validation(&r, json!({"resource": ["The resource field is required."]}));
    });

    suite.standalone("restart_keeps_every_event", || async {
        let server = TestServer::start(&[]);
        let c = server.client();
        let id = unique("restart");
        let res = resource_urn(&id);
        put_policy(&c, &id, json!({"owner": "ttd"})).await;
        let ttd = org_token("ttd");
        for i in 1..=5 {
            publish_ok(&c, &ttd, &event(&format!("r{i}"), &res)).await;
        }
        let state = server.stop();
        let server = TestServer::start_with_state(&state, &[]);
        let c = server.client();
        let r = c
            .get(&format!("{EVENTS}?resource={res}&after=0"))
            .bearer(&ttd)
            .send()
            .await;
        assert_eq!(ids(&r), vec!["r1", "r2", "r3", "r4", "r5"]);
        // The rule document survived too, and the cursor continues.
        publish_ok(&c, &ttd, &event("r6", &res)).await;
        let r = c
            .get(&format!("{EVENTS}?resource={res}&after=r5"))
            .bearer(&ttd)
            .send()
            .await;
        assert_eq!(ids(&r), vec!["r6"]);
        // Duplicates stay duplicates across restarts.
        publish_ok(&c, &ttd, &event("r1", &res)).await;
        let r = c
            .get(&format!("{EVENTS}?resource={res}&after=0"))
            .bearer(&ttd)
            .send()
            .await;
        assert_eq!(ids(&r).len(), 6);
    });

    suite.standalone("keys_from_an_openid_configuration", || async {
        // A stand-in for Altinn Authentication's OpenID configuration and key set.
        let idp = altinn_events_tests::TestReceiver::start();
        let jwks_uri = idp.url_path("/jwks");
        let jwks = altinn_events_tests::token::dev_jwks();
        idp.respond_using(move |req| match req.path.as_str() {
            "/authentication/api/v1/openid/.well-known/openid-configuration" => (
                200,
                json!({"issuer": "https://platform.test", "jwks_uri": jwks_uri}).to_string(),
            ),
            "/jwks" => (200, jwks.to_string()),
            _ => (404, "{}".into()),
        });
        let setting = idp.url_path("/authentication/api/v1/openid/");
        let server = TestServer::start(&[("ALTINN_OPENID_WELLKNOWN", &setting)]);
        let c = server.client();
        let id = unique("oidc");
        put_policy(&c, &id, json!({"owner": "ttd"})).await;
        let ev = event("o1", &resource_urn(&id));
        publish_ok(&c, &TokenSpec::org("ttd").scope(PUBLISH).mint(), &ev).await;
        publish_ok(
            &c,
            &TokenSpec::org("ttd").scope(PUBLISH).rs256().mint(),
            &ev,
        )
        .await;
        assert_unauthorized(
            &publish(
                &c,
                &tamper(&TokenSpec::org("ttd").scope(PUBLISH).mint()),
                &ev,
            )
            .await,
        );
        let paths: Vec<String> = idp.requests().iter().map(|r| r.path.clone()).collect();
        assert_eq!(
            paths,
            vec![
                "/authentication/api/v1/openid/.well-known/openid-configuration".to_owned(),
                "/jwks".to_owned()
            ],
            "fetched once, then cached"
        );
    });

    suite.standalone("a_bad_setting_is_a_500_naming_it", || async {
        let server = TestServer::start(&[("DELIVERY_RETRY_DELAYS", "10,soon")]);
        let r = server.client().get(EVENTS).send().await;
        assert_problem(&r, 500, "The setting DELIVERY_RETRY_DELAYS is invalid: 'soon' is not a delay in seconds between 0 and 43200");
        let r = server.client().get("/health").send().await;
        assert_eq!(r.status, 500);
    });

    suite.run()
}
