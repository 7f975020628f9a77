//! What outside clients found (issue 9), kept found: routing of empty segments, 404 for
//! unknown paths, 405 with `Allow` for every wrong or unknown method, empty integer parameters,
//! app ownership by whole path segments, one validation event per subscription `POST`, valid
//! JSON for Slack, fail-closed key settings without `DEV_MODE`, and the JSON nesting limit.

use std::process::ExitCode;
use std::time::Duration;

use altinn_events_tests::fixtures::*;
use altinn_events_tests::token::dev_jwks;
use altinn_events_tests::{Suite, TestClient, TestReceiver, TestServer, TokenSpec};
use reqwest::Method;
use serde_json::{json, Value};

const T: Duration = Duration::from_secs(20);
const VALIDATION: &str = "platform.events.validatesubscription";

fn method(name: &str) -> Method {
    Method::from_bytes(name.as_bytes()).unwrap_or(Method::GET)
}

/// A 405 with an empty body and exactly this `Allow` header.
fn assert_405(r: &altinn_events_tests::TestResponse, allow: &str) {
    assert_eq!(
        (r.status, r.body.as_str(), r.header("allow").as_deref()),
        (405, "", Some(allow)),
        "{} {}",
        r.method,
        r.url
    );
}

/// Nested arrays and objects `levels` deep around a string.
fn nested(levels: usize) -> Value {
    let mut v = json!("leaf");
    for i in 0..levels {
        v = if i % 2 == 0 {
            json!([v])
        } else {
            json!({"n": v})
        };
    }
    v
}

async fn subscription_on_new_resource(
    c: &TestClient,
    receiver: &TestReceiver,
    path: &str,
) -> (String, Value) {
    let id = unique("oc");
    put_policy(c, &id, json!({"owner": "ttd"})).await;
    let body = json!({"endPoint": receiver.url_path(path), "resourceFilter": resource_urn(&id)});
    (id, body)
}

fn main() -> ExitCode {
    let mut suite = Suite::with_vars(&[("DELIVERY_RETRY_DELAYS", "1,1")]);

    // 1. ASP.NET ignores empty path segments; Altinn's own client builds `subscriptions//{id}`.
    suite.test("empty_path_segments_are_ignored", |ctx| async move {
        let c = ctx.client();
        let receiver = TestReceiver::start();
        let (_, body) = subscription_on_new_resource(&c, &receiver, "/hook").await;
        let token = org_token("ttd");
        let sub = create_subscription(&c, &token, &body).await;
        let id = sub["id"].as_i64().unwrap_or_default();
        for path in [
            format!("/events/api/v1/subscriptions//{id}"),
            format!("//events/api/v1//subscriptions/{id}//"),
        ] {
            let r = c.get(&path).bearer(&token).send().await;
            assert_eq!(r.status, 200, "{path}: {}", r.body);
            assert_eq!(r.json()["id"], json!(id), "{path}");
        }
        let r = c.get("//health").send().await;
        assert_eq!((r.status, r.body.as_str()), (200, "Healthy"));
    });

    // 2. Unknown paths under a known prefix are 404, not 405.
    suite.test("unknown_paths_are_404", |ctx| async move {
        let c = ctx.client();
        let token = org_token("ttd");
        for path in [
            "/events/api/v1/subscriptions/1/foo",
            "/events/api/v1/subscriptions/1/deadletters/foo",
            "/events/api/v1/storage",
            "/events/api/v1/storage/events/logs/x",
            "/events/api/v1/storage/anything",
            "/events/api/v1/app/ttd/app/extra",
            "/events/api/v1/nothing",
        ] {
            for m in ["GET", "POST", "DELETE"] {
                let r = c.request(method(m), path).bearer(&token).send().await;
                assert_eq!(r.status, 404, "{m} {path}: {}", r.body);
            }
        }
    });

    // 3 + 4. Methods workers-rs does not know are not GET; every 405 carries `Allow`.
    suite.test(
        "unknown_and_wrong_methods_are_405_with_allow",
        |ctx| async move {
            let c = ctx.client();
            let token = org_token("ttd");
            for m in [
                // Method names the local proxy (Node's HTTP parser) passes on; it answers 501 itself
                // for names it does not know, before the worker sees them.
                "QUERY",
                "PROPFIND",
                "PROPPATCH",
                "SEARCH",
                "COPY",
                "MOVE",
                "LOCK",
                "UNLOCK",
                "MKCOL",
                "PURGE",
                "REPORT",
                "CHECKOUT",
                "MERGE",
                "NOTIFY",
                "SUBSCRIBE",
                "UNSUBSCRIBE",
                "MKACTIVITY",
                "ACL",
                "PATCH",
            ] {
                let r = c
                    .request(method(m), SUBSCRIPTIONS)
                    .bearer(&token)
                    .send()
                    .await;
                assert_405(&r, "GET, POST");
            }
            let cases = [
                ("PUT", "/events/api/v1/events", "GET, POST"),
                ("GET", "/events/api/v1/app", "POST"),
                ("DELETE", "/events/api/v1/subscriptions", "GET, POST"),
                ("POST", "/events/api/v1/subscriptions/1", "GET, DELETE"),
                ("GET", "/events/api/v1/subscriptions/validate/1", "PUT"),
                ("POST", "/events/api/v1/subscriptions/1/deadletters", "GET"),
                (
                    "GET",
                    "/events/api/v1/subscriptions/1/deadletters/redeliver",
                    "POST",
                ),
                ("GET", "/events/api/v1/inbound", "POST"),
                ("GET", "/events/api/v1/outbound", "POST"),
                ("GET", "/events/api/v1/storage/events", "POST"),
                ("DELETE", "/events/api/v1/storage/events/logs", "GET, POST"),
                ("GET", "/events/api/v1/tests/webhookreceiver", "POST"),
                (
                    "POST",
                    "/events/api/v1/admin/resources/x",
                    "GET, PUT, DELETE",
                ),
                (
                    "PATCH",
                    "/events/api/v1/admin/parties/1",
                    "GET, PUT, DELETE",
                ),
                ("POST", "/health", "GET, HEAD"),
            ];
            for (m, path, allow) in cases {
                let r = c.request(method(m), path).bearer(&token).send().await;
                assert_405(&r, allow);
            }
        },
    );

    // 5. A wrong method on /app/party is a 405 like everywhere else.
    suite.test("app_party_wrong_methods_are_405", |ctx| async move {
        let c = ctx.client();
        let token = TokenSpec::user(1337, 50001337).mint();
        for m in ["POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "HEAD"] {
            let r = c
                .request(method(m), "/events/api/v1/app/party?after=0&party=50001337")
                .bearer(&token)
                .send()
                .await;
            assert_405(&r, "GET");
        }
    });

    // 6. `size=` is not "absent": ASP.NET's binder refuses an empty value for an int.
    suite.test("empty_integer_parameters_are_400", |ctx| async move {
        let c = ctx.client();
        let org = org_token("ttd");
        let user = TokenSpec::user(1337, 50001337).mint();
        let invalid = |field: &str, value: &str| json!({ field: [format!("The value '{value}' is invalid.")] });
        let r = c
            .get(&format!("{EVENTS}?resource=urn:altinn:resource:x&after=0&size="))
            .bearer(&org)
            .send()
            .await;
        assert_validation(&r, invalid("size", ""));
        let r = c
            .get(&format!("{EVENTS}?resource=urn:altinn:resource:x&after=0&size=%20"))
            .bearer(&org)
            .send()
            .await;
        assert_validation(&r, invalid("size", " "));
        let r = c
            .get("/events/api/v1/app/party?after=0&party=")
            .bearer(&user)
            .send()
            .await;
        assert_validation(&r, invalid("party", ""));
        let r = c
            .get("/events/api/v1/app/ttd/apps-test?after=0&size=")
            .bearer(&org)
            .send()
            .await;
        assert_validation(&r, invalid("size", ""));
    });

    // 7. An app may not publish for another app whose name merely starts with its own.
    suite.test("app_ownership_is_by_whole_segments", |ctx| async move {
        let c = ctx.client();
        let app = unique("own").replace('-', "");
        let user = TokenSpec::user(1337, 50001337).mint();
        let access = TokenSpec::platform("ttd", &app).mint();
        let post = |source: String| {
            let c = c.clone();
            let (user, access) = (user.clone(), access.clone());
            async move {
                c.post("/events/api/v1/app")
                    .bearer(&user)
                    .platform_token(&access)
                    .json(&json!({
                        "specversion": "1.0", "type": "app.instance.created",
                        "subject": "/party/50001337", "source": source,
                    }))
                    .send()
                    .await
            }
        };
        let other = format!("https://ttd.apps.altinn.no/ttd/{app}-2/instances/50001337/a72223a3-926b-4095-a2a6-bacc10815f2d");
        let r = post(other.clone()).await;
        assert_text(&r, 401, &format!("ttd/{app} is not authorized to create events for {other}"));
        let own = format!("https://ttd.apps.altinn.no/ttd/{app}/instances/50001337/a72223a3-926b-4095-a2a6-bacc10815f2d");
        assert_eq!(post(own).await.status, 201);
    });

    // 8. Re-posting a subscription while its first validation event is in flight sends a
    // second validation event: every successful POST sends its own.
    suite.test(
        "every_subscription_post_sends_its_own_validation_event",
        |ctx| async move {
            let c = ctx.client();
            let receiver = TestReceiver::start();
            receiver.delay(Duration::from_millis(800));
            let (_, body) = subscription_on_new_resource(&c, &receiver, "/slow").await;
            let token = org_token("ttd");
            let first = create_subscription(&c, &token, &body).await;
            let second = create_subscription(&c, &token, &body).await;
            assert_eq!(first["id"], second["id"]);
            let got = receiver.wait_for(2, T).await;
            let ids: Vec<String> = got
                .iter()
                .map(|r| {
                    let v = r.json();
                    assert_eq!(v["type"], VALIDATION, "{v}");
                    v["id"].as_str().unwrap_or_default().to_owned()
                })
                .collect();
            assert_eq!(ids.len(), 2);
            assert_ne!(ids[0], ids[1], "two distinct validation events");
            assert!(receiver.quiet_for(Duration::from_secs(2)).await.is_empty());
        },
    );

    // 9. Slack gets valid JSON whatever the event holds.
    suite.test("slack_bodies_are_valid_json", |ctx| async move {
        let c = ctx.client();
        let receiver = TestReceiver::start();
        let (id, body) =
            subscription_on_new_resource(&c, &receiver, "/hooks.slack.com/services/T0/B0/X").await;
        let token = org_token("ttd");
        let sub = create_subscription(&c, &token, &body).await;
        wait_validated(&c, &token, sub["id"].as_i64().unwrap_or_default(), 20).await;
        receiver.clear();
        let mut ev = event("slack-escapes", &resource_urn(&id));
        ev["data"] = json!({"path": "C:\\temp", "lines": "a\nb", "tab": "x\ty", "ctl": "\u{1}"});
        publish_ok(&c, &token, &ev).await;
        let got = receiver.wait_for(1, T).await;
        let envelope: Value = serde_json::from_str(&got[0].body)
            .unwrap_or_else(|e| panic!("Slack body is not JSON ({e}): {}", got[0].body));
        let text = envelope["text"].as_str().unwrap_or_default();
        let inner: Value = serde_json::from_str(text).unwrap_or_default();
        assert_eq!(inner["id"], "slack-escapes");
        assert_eq!(inner["data"], ev["data"]);
    });

    // 12. JSON nested deeper than 64 levels is refused before it is walked.
    suite.test("json_deeper_than_64_levels_is_400", |ctx| async move {
        let c = ctx.client();
        let id = unique("deep");
        put_policy(&c, &id, json!({"owner": "ttd"})).await;
        let token = org_token("ttd");
        let too_deep = json!({"$": ["The JSON value is nested deeper than the maximum depth of 64."]});
        // The event object is level 1, so data may hold 63 more.
        let mut ev = event("deep-ok", &resource_urn(&id));
        ev["data"] = nested(63);
        publish_ok(&c, &token, &ev).await;
        ev["id"] = json!("deep-bad");
        ev["data"] = nested(64);
        assert_validation(&publish(&c, &token, &ev).await, too_deep.clone());
        let r = c
            .post(SUBSCRIPTIONS)
            .bearer(&token)
            .json(&json!({"endPoint": "https://example.com/x", "resourceFilter": resource_urn(&id), "x": nested(80)}))
            .send()
            .await;
        assert_validation(&r, too_deep.clone());
        let r = c
            .put(&format!("/events/api/v1/admin/resources/{id}"))
            .platform_token(&platform_token())
            .json(&json!({"owner": "ttd", "rules": nested(100)}))
            .send()
            .await;
        assert_validation(&r, too_deep);
        // Nothing of the refused event was stored.
        let r = c
            .get(&format!("{EVENTS}?resource={}&after=0", resource_urn(&id)))
            .bearer(&token)
            .send()
            .await;
        assert_eq!(ids(&r), vec!["deep-ok".to_owned()]);
    });

    // 11. Without DEV_MODE the dev keys are never trusted and missing key settings fail closed.
    suite.standalone(
        "missing_key_settings_fail_closed_without_dev_mode",
        || async {
            let server = TestServer::start(&[("DEV_MODE", "")]);
            let c = server.client();
            let health = c.get("/health").send().await;
            assert_problem(
            &health,
            503,
            "Missing setting: ALTINN_JWKS (or ALTINN_OPENID_WELLKNOWN), PLATFORM_ACCESS_JWKS. No \
             token can be verified without it; set it (README, Configuration), or DEV_MODE=true \
             for local development with the dev keys.",
        );
            let detail = health.json()["detail"].clone();
            // An admin token minted with the public dev keys gets nowhere.
            let r = c
                .put("/events/api/v1/admin/resources/x")
                .platform_token(&platform_token())
                .json(&json!({"owner": "ttd"}))
                .send()
                .await;
            assert_eq!(
                (r.status, r.json()["detail"].clone()),
                (500, detail.clone()),
                "{}",
                r.body
            );
            let r = c
                .get(&format!("{EVENTS}?resource=urn:altinn:resource:x&after=0"))
                .bearer(&org_token("ttd"))
                .send()
                .await;
            assert_eq!(
                (r.status, r.json()["detail"].clone()),
                (500, detail),
                "{}",
                r.body
            );
            // Anonymous routes still answer.
            let r = c
                .post("/events/api/v1/tests/webhookreceiver")
                .json(&json!({}))
                .send()
                .await;
            assert_eq!(r.status, 200, "{}", r.body);
            drop(server);

            // With the key settings given (and still no DEV_MODE) the service is healthy.
            let jwks = dev_jwks().to_string();
            let platform = json!({"platform": dev_jwks()}).to_string();
            let server = TestServer::start(&[
                ("DEV_MODE", ""),
                ("ALTINN_JWKS", &jwks),
                ("PLATFORM_ACCESS_JWKS", &platform),
            ]);
            let c = server.client();
            let r = c.get("/health").send().await;
            assert_eq!((r.status, r.body.as_str()), (200, "Healthy"));
            put_policy(&c, "fail-closed", json!({"owner": "ttd"})).await;
            // Only `platform` is configured: a ttd platform token is no longer trusted.
            let r = c
                .put("/events/api/v1/admin/resources/x")
                .platform_token(&TokenSpec::platform("ttd", "apps-test").mint())
                .json(&json!({"owner": "ttd"}))
                .send()
                .await;
            assert_eq!(r.status, 401, "{}", r.body);
        },
    );

    suite.run()
}
