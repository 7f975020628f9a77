//! Subscriptions and webhook delivery end to end, with real loopback receivers: the
//! validation handshake, matching, ordering, retries, dead letters, restarts, deletion,
//! every validation rule of spec §5.6–§5.9 and §8, SSRF rules and the private endpoints.

use std::process::ExitCode;
use std::time::Duration;

use altinn_events_tests::fixtures::*;
use altinn_events_tests::{Received, Suite, TestReceiver, TestServer, TokenSpec};
use serde_json::{json, Value};

/// Delays of the shared server: 3 attempts, one second apart.
const DELAYS: &str = "1,1";
const T: Duration = Duration::from_secs(20);

fn non_validation(requests: &[Received]) -> Vec<Received> {
    requests
        .iter()
        .filter(|r| r.json()["type"] != "platform.events.validatesubscription")
        .cloned()
        .collect()
}

/// A resource owned by ttd, a validated subscription on it to `receiver{path}`, and the token.
async fn validated_subscription(
    ctx_client: &altinn_events_tests::TestClient,
    receiver: &TestReceiver,
    path: &str,
    extra: Value,
) -> (String, i64, String) {
    let id = unique("sub");
    put_policy(ctx_client, &id, json!({"owner": "ttd"})).await;
    let token = org_token("ttd");
    let mut body =
        json!({"endPoint": receiver.url_path(path), "resourceFilter": resource_urn(&id)});
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            b.insert(k.clone(), v.clone());
        }
    }
    let sub = create_subscription(ctx_client, &token, &body).await;
    let sub_id = sub["id"].as_i64().unwrap_or_default();
    wait_validated(ctx_client, &token, sub_id, 20).await;
    (id, sub_id, token)
}

fn main() -> ExitCode {
    let mut suite = Suite::with_vars(&[
        ("DELIVERY_RETRY_DELAYS", DELAYS),
        ("WEBHOOK_TIMEOUT_SECONDS", "3"),
    ]);

    suite.test("handshake_validates_and_only_then_events_flow", |ctx| async move {
        let c = ctx.client();
        let receiver = TestReceiver::start();
        let id = unique("hs");
        put_policy(&c, &id, json!({"owner": "ttd"})).await;
        let token = org_token("ttd");
        // The endpoint refuses the handshake at first: no events reach it until it is validated.
        receiver.respond_with(503);
        let body = json!({"endPoint": receiver.url_path("/hook"), "resourceFilter": resource_urn(&id)});
        let r = c.post(SUBSCRIPTIONS).bearer(&token).json(&body).send().await;
        assert_eq!(r.status, 201, "{}", r.body);
        let sub = r.json();
        let sub_id = sub["id"].as_i64().unwrap_or_default();
        assert_eq!(sub["validated"], json!(false));
        assert_eq!(sub["consumer"], "/org/ttd");
        assert_eq!(sub["createdBy"], "/org/ttd");
        assert_eq!(r.header("location"), Some(format!("{SUBSCRIPTIONS}/{sub_id}")));
        let first = receiver.wait_for(1, T).await;
        let v = first[0].json();
        assert_eq!(first[0].method, "POST");
        assert_eq!(first[0].path, "/hook");
        assert_eq!(first[0].header("content-type"), Some("application/json; charset=utf-8"));
        assert_eq!(v["type"], "platform.events.validatesubscription");
        assert_eq!(v["source"], format!("{}{SUBSCRIPTIONS}/{sub_id}", ctx.base_url()));
        assert_eq!(v.as_object().map(|o| o.keys().cloned().collect::<Vec<_>>()), Some(vec!["specversion".into(), "id".into(), "source".into(), "type".into()]));
        // An event published now is not delivered to the unvalidated subscription.
        publish_ok(&c, &token, &event("before", &resource_urn(&id))).await;
        receiver.respond_with(200);
        let all = receiver.wait_for(2, T).await;
        assert_eq!(all[1].json()["type"], "platform.events.validatesubscription", "the handshake is retried");
        wait_validated(&c, &token, sub_id, 20).await;
        publish_ok(&c, &token, &event("after", &resource_urn(&id))).await;
        let all = receiver.wait_for(3, T).await;
        assert_eq!(received_ids(&non_validation(&all)), vec!["after"]);
        assert!(receiver.quiet_for(Duration::from_millis(1500)).await.is_empty());
    });

    suite.test("only_matching_events_are_delivered", |ctx| async move {
        let c = ctx.client();
        let receiver = TestReceiver::start();
        let id = unique("match");
        let app = format!("app_ttd_{}", unique("a").replace('-', ""));
        let res = resource_urn(&id);
        let app_res = resource_urn(&app);
        put_policy(&c, &id, json!({"owner": "ttd"})).await;
        let token = org_token("ttd");
        let app_name = app.trim_start_matches("app_ttd_").to_owned();
        let subs = [
            ("/all", json!({"resourceFilter": res})),
            ("/subject", json!({"resourceFilter": res, "subjectFilter": "/party/2"})),
            ("/type", json!({"resourceFilter": res, "typeFilter": "test.updated"})),
            ("/both", json!({"resourceFilter": res, "subjectFilter": "/party/2", "typeFilter": "test.updated"})),
            ("/source", json!({"sourceFilter": format!("https://ttd.apps.altinn.no/ttd/{app_name}")})),
        ];
        for (path, filters) in &subs {
            let mut body = filters.clone();
            body["endPoint"] = json!(receiver.url_path(path));
            let sub = create_subscription(&c, &token, &body).await;
            wait_validated(&c, &token, sub["id"].as_i64().unwrap_or_default(), 20).await;
        }
        receiver.clear();
        let mk = |eid: &str, resource: &str, subject: Option<&str>, type_: &str, source: &str| {
            let mut e = json!({"specversion": "1.0", "id": eid, "source": source, "type": type_, "resource": resource});
            if let Some(s) = subject {
                e["subject"] = json!(s);
            }
            e
        };
        let events = [
            mk("m1", &res, Some("/party/1"), "test.created", "https://example.com/s"),
            mk("m2", &res, Some("/party/2"), "test.created", "https://example.com/s"),
            mk("m3", &res, Some("/party/1"), "test.updated", "https://example.com/s"),
            mk("m4", &res, Some("/party/2"), "test.updated", "https://example.com/s"),
            mk("m5", &res, None, "test.created", "https://example.com/s"),
            mk("m6", &app_res, Some("/party/1"), "app.instance.created", &format!("https://ttd.apps.altinn.no/ttd/{app_name}/instances/1/6f0c1d8e")),
            mk("m7", &app_res, Some("/party/1"), "app.instance.created", &format!("https://other.example/ttd/{app_name}/instances/1/6f0c1d8e")),
            mk("m8", &resource_urn(&unique("other")), Some("/party/2"), "test.updated", "https://example.com/s"),
        ];
        let admin = TokenSpec::org("ttd").scope("altinn:events.publish altinn:events.publish.admin").mint();
        for e in &events {
            publish_ok(&c, &admin, e).await;
        }
        let expected: Vec<(&str, Vec<&str>)> = vec![
            ("/all", vec!["m1", "m2", "m3", "m4", "m5"]),
            ("/subject", vec!["m2", "m4"]),
            ("/type", vec!["m3", "m4"]),
            ("/both", vec!["m4"]),
            ("/source", vec!["m6"]),
        ];
        let total: usize = expected.iter().map(|(_, e)| e.len()).sum();
        receiver.wait_for(total, T).await;
        let extra = receiver.quiet_for(Duration::from_millis(1500)).await;
        assert!(extra.is_empty(), "unexpected deliveries: {}", altinn_events_tests::receiver::describe(&extra));
        let all = receiver.requests();
        for (path, want) in expected {
            let got: Vec<String> = received_ids(&all.iter().filter(|r| r.path == path).cloned().collect::<Vec<_>>());
            assert_eq!(got, want, "deliveries to {path}");
        }
    });

    suite.test("fifty_events_arrive_in_publish_order", |ctx| async move {
        let c = ctx.client();
        let receiver = TestReceiver::start();
        let (id, _, token) = validated_subscription(&c, &receiver, "/ordered", json!({})).await;
        receiver.clear();
        let want: Vec<String> = (1..=50).map(|i| format!("o{i:02}")).collect();
        for eid in &want {
            publish_ok(&c, &token, &event(eid, &resource_urn(&id))).await;
        }
        let got = receiver.wait_for(50, Duration::from_secs(60)).await;
        assert_eq!(received_ids(&got), want);
        assert!(
            receiver
                .quiet_for(Duration::from_millis(1000))
                .await
                .is_empty(),
            "duplicates arrived"
        );
    });

    suite.test(
        "failing_twice_then_recovering_delivers_each_event_once",
        |ctx| async move {
            let c = ctx.client();
            let receiver = TestReceiver::start();
            let (id, sub_id, token) =
                validated_subscription(&c, &receiver, "/flaky", json!({})).await;
            receiver.clear();
            receiver.fail_times(2, 500);
            publish_ok(&c, &token, &event("f1", &resource_urn(&id))).await;
            publish_ok(&c, &token, &event("f2", &resource_urn(&id))).await;
            let got = receiver.wait_for(4, T).await;
            let attempts: Vec<(String, u16)> = got
                .iter()
                .map(|r| {
                    (
                        r.json()["id"].as_str().unwrap_or_default().to_owned(),
                        r.answered,
                    )
                })
                .collect();
            assert_eq!(
                attempts,
                vec![
                    ("f1".into(), 500),
                    ("f1".into(), 500),
                    ("f1".into(), 200),
                    ("f2".into(), 200)
                ],
                "f2 waits behind f1 and each succeeds once"
            );
            // Retries follow the schedule (1 s apart here).
            let gap = got[1].at.duration_since(got[0].at);
            assert!(gap >= Duration::from_millis(900), "retried after {gap:?}");
            assert!(receiver
                .quiet_for(Duration::from_millis(2500))
                .await
                .is_empty());
            let r = c
                .get(&format!("{SUBSCRIPTIONS}/{sub_id}/deadletters"))
                .bearer(&token)
                .send()
                .await;
            assert_eq!(
                (r.status, r.json()),
                (200, json!({"count": 0, "deadLetters": []}))
            );
        },
    );

    suite.test(
        "always_failing_gets_every_attempt_then_dead_letters",
        |ctx| async move {
            let c = ctx.client();
            let receiver = TestReceiver::start();
            let (id, sub_id, token) =
                validated_subscription(&c, &receiver, "/down", json!({})).await;
            receiver.clear();
            receiver.respond_with(502);
            publish_ok(&c, &token, &event("d1", &resource_urn(&id))).await;
            publish_ok(&c, &token, &event("d2", &resource_urn(&id))).await;
            // 3 attempts (two delays) for d1, then d1 is dead and d2 gets its 3.
            let got = receiver.wait_for(6, T).await;
            assert_eq!(received_ids(&got), vec!["d1", "d1", "d1", "d2", "d2", "d2"]);
            assert!(
                receiver
                    .quiet_for(Duration::from_millis(2500))
                    .await
                    .is_empty(),
                "no attempt beyond the schedule"
            );
            let r = c
                .get(&format!("{SUBSCRIPTIONS}/{sub_id}/deadletters"))
                .bearer(&token)
                .send()
                .await;
            assert_eq!(r.status, 200, "{}", r.body);
            let v = r.json();
            assert_eq!(v["count"], 2);
            assert_eq!(v["deadLetters"][0]["event"]["id"], "d1");
            assert_eq!(v["deadLetters"][0]["attempts"], 3);
            assert_eq!(v["deadLetters"][0]["lastStatusCode"], 502);
            assert_eq!(v["deadLetters"][1]["event"]["id"], "d2");
            // The queue moved on: a new event is tried (and succeeds) once the endpoint is back.
            receiver.respond_with(200);
            receiver.clear();
            publish_ok(&c, &token, &event("d3", &resource_urn(&id))).await;
            assert_eq!(received_ids(&receiver.wait_for(1, T).await), vec!["d3"]);
            // Dead letters can be sent again, in order.
            let r = c
                .post(&format!("{SUBSCRIPTIONS}/{sub_id}/deadletters/redeliver"))
                .bearer(&token)
                .send()
                .await;
            assert_eq!((r.status, r.json()), (200, json!({"redelivered": 2})));
            assert_eq!(
                received_ids(&receiver.wait_for(3, T).await),
                vec!["d3", "d1", "d2"]
            );
            let r = c
                .get(&format!("{SUBSCRIPTIONS}/{sub_id}/deadletters"))
                .bearer(&token)
                .send()
                .await;
            assert_eq!(r.json()["count"], 0);
            // Someone else cannot see them.
            let other = org_token("skd");
            assert_forbidden(
                &c.get(&format!("{SUBSCRIPTIONS}/{sub_id}/deadletters"))
                    .bearer(&other)
                    .send()
                    .await,
            );
        },
    );

    suite.test(
        "a_slow_endpoint_times_out_and_is_retried",
        |ctx| async move {
            let c = ctx.client();
            let receiver = TestReceiver::start();
            let (id, _, token) = validated_subscription(&c, &receiver, "/slow", json!({})).await;
            receiver.clear();
            receiver.delay(Duration::from_secs(5));
            publish_ok(&c, &token, &event("s1", &resource_urn(&id))).await;
            receiver.wait_for(2, Duration::from_secs(30)).await;
            receiver.delay(Duration::ZERO);
            let got = receiver.wait_for(3, Duration::from_secs(30)).await;
            assert_eq!(
                received_ids(&got),
                vec!["s1", "s1", "s1"],
                "the timed-out attempts count as failures"
            );
        },
    );

    suite.test(
        "deleting_a_subscription_stops_delivery_at_once",
        |ctx| async move {
            let c = ctx.client();
            let receiver = TestReceiver::start();
            let (id, sub_id, token) =
                validated_subscription(&c, &receiver, "/gone", json!({})).await;
            receiver.clear();
            publish_ok(&c, &token, &event("g1", &resource_urn(&id))).await;
            assert_eq!(received_ids(&receiver.wait_for(1, T).await), vec!["g1"]);
            let path = format!("{SUBSCRIPTIONS}/{sub_id}");
            assert_forbidden(&c.delete(&path).bearer(&org_token("skd")).send().await);
            assert_empty(&c.delete(&path).bearer(&token).send().await, 200);
            publish_ok(&c, &token, &event("g2", &resource_urn(&id))).await;
            assert!(
                receiver.quiet_for(Duration::from_secs(2)).await.is_empty(),
                "delivered after delete"
            );
            assert_empty(&c.get(&path).bearer(&token).send().await, 404);
            assert_empty(&c.delete(&path).bearer(&token).send().await, 404);
        },
    );

    suite.test(
        "duplicate_post_returns_the_same_subscription_and_revalidates",
        |ctx| async move {
            let c = ctx.client();
            let receiver = TestReceiver::start();
            let (id, sub_id, token) =
                validated_subscription(&c, &receiver, "/dup", json!({})).await;
            let body =
                json!({"endPoint": receiver.url_path("/dup"), "resourceFilter": resource_urn(&id)});
            let again = create_subscription(&c, &token, &body).await;
            assert_eq!(again["id"].as_i64(), Some(sub_id));
            assert_eq!(again["validated"], json!(true));
            let got = receiver.wait_for(2, T).await;
            assert_eq!(
                got.iter()
                    .filter(|r| r.json()["type"] == "platform.events.validatesubscription")
                    .count(),
                2
            );
            // A different filter is a different subscription.
            let mut other = body.clone();
            other["typeFilter"] = json!("x");
            let third = create_subscription(&c, &token, &other).await;
            assert_ne!(third["id"].as_i64(), Some(sub_id));
        },
    );

    suite.test("list_get_and_ownership", |ctx| async move {
        let c = ctx.client();
        let receiver = TestReceiver::start();
        let id = unique("own");
        put_policy(&c, &id, json!({"owner": "ttd", "rules": [{"actions": ["subscribe"], "subjects": [{"urn:altinn:org": "digdir"}]}]})).await;
        let ttd = org_token("ttd");
        let digdir = org_token("digdir");
        let body = json!({"endPoint": receiver.url_path("/x"), "resourceFilter": resource_urn(&id), "subjectFilter": "/party/1", "includeSubunits": true});
        let a = create_subscription(&c, &ttd, &body).await;
        let b = create_subscription(&c, &digdir, &body).await;
        assert_eq!(a["includeSubunits"], json!(true));
        assert_eq!(a["subjectFilter"], "/party/1");
        let a_id = a["id"].as_i64().unwrap_or_default();
        let b_id = b["id"].as_i64().unwrap_or_default();
        let list = c.get(SUBSCRIPTIONS).bearer(&digdir).send().await;
        assert_eq!(list.status, 200);
        let v = list.json();
        let listed: Vec<i64> = v["subscriptions"].as_array().cloned().unwrap_or_default().iter().filter_map(|s| s["id"].as_i64()).collect();
        assert!(listed.contains(&b_id) && !listed.contains(&a_id), "{v}");
        assert_eq!(v["count"].as_u64(), Some(listed.len() as u64));
        assert_forbidden(&c.get(&format!("{SUBSCRIPTIONS}/{a_id}")).bearer(&digdir).send().await);
        assert_empty(&c.get(&format!("{SUBSCRIPTIONS}/999999")).bearer(&digdir).send().await, 404);
        let r = c.get(&format!("{SUBSCRIPTIONS}/abc")).bearer(&digdir).send().await;
        assert_validation(&r, json!({"id": ["The value 'abc' is not valid."]}));
        assert_unauthorized(&c.get(SUBSCRIPTIONS).send().await);
        let r = c.get(&format!("{SUBSCRIPTIONS}/{b_id}")).bearer(&digdir).send().await;
        assert_eq!((r.status, r.json()["id"].as_i64()), (200, Some(b_id)));
        // A user with no subscriptions gets an empty list.
        let user = TokenSpec::user(424242, 5042).mint();
        let r = c.get(SUBSCRIPTIONS).bearer(&user).send().await;
        assert_eq!((r.status, r.json()), (200, json!({"count": 0, "subscriptions": []})));
    });

    suite.test("push_authorization_is_checked_per_event", |ctx| async move {
        let c = ctx.client();
        let receiver = TestReceiver::start();
        let id = unique("pushauth");
        let rule = json!({"owner": "ttd", "rules": [{"actions": ["subscribe"], "subjects": [{"urn:altinn:org": "digdir"}]}]});
        put_policy(&c, &id, rule).await;
        let digdir = org_token("digdir");
        let sub = create_subscription(&c, &digdir, &json!({"endPoint": receiver.url_path("/d"), "resourceFilter": resource_urn(&id)})).await;
        let sub_id = sub["id"].as_i64().unwrap_or_default();
        wait_validated(&c, &digdir, sub_id, 20).await;
        receiver.clear();
        let ttd = org_token("ttd");
        publish_ok(&c, &ttd, &event("p1", &resource_urn(&id))).await;
        assert_eq!(received_ids(&receiver.wait_for(1, T).await), vec!["p1"]);
        // The rule is withdrawn: the next event is not pushed to digdir.
        put_policy(&c, &id, json!({"owner": "ttd"})).await;
        publish_ok(&c, &ttd, &event("p2", &resource_urn(&id))).await;
        assert!(receiver.quiet_for(Duration::from_secs(2)).await.is_empty());
        // The trace log shows both decisions.
        let logs = c.get(&format!("/events/api/v1/storage/events/logs?resource={}", resource_urn(&id))).platform_token(&platform_token()).send().await;
        assert_eq!(logs.status, 200, "{}", logs.body);
        let entries = logs.json()["entries"].as_array().cloned().unwrap_or_default();
        let seen: Vec<(String, String)> = entries.iter().map(|e| (e["activity"].as_str().unwrap_or_default().to_owned(), e["cloudEventId"].as_str().unwrap_or_default().to_owned())).collect();
        assert_eq!(
            seen,
            vec![
                ("Registered".into(), "p1".into()),
                ("OutboundQueue".into(), "p1".into()),
                ("Registered".into(), "p2".into()),
                ("Unauthorized".into(), "p2".into()),
            ]
        );
        assert_eq!(entries[1]["consumer"], "/org/digdir");
        assert_eq!(entries[1]["subscriptionId"].as_i64(), Some(sub_id));
        let logs = c.get(&format!("/events/api/v1/storage/events/logs?subscriptionId={sub_id}")).platform_token(&platform_token()).send().await;
        let entries = logs.json()["entries"].as_array().cloned().unwrap_or_default();
        let seen: Vec<(String, i64)> = entries.iter().map(|e| (e["activity"].as_str().unwrap_or_default().to_owned(), e["statusCode"].as_i64().unwrap_or_default())).collect();
        assert_eq!(seen, vec![("EndpointValidationSuccess".into(), 200), ("WebhookPostResponse".into(), 200)]);
        // One log at a time: both keys are a 400, even when the resource is valid (schemathesis
        // found that an invalid `resource` beside `subscriptionId` was silently ignored).
        for resource in ["not-a-urn", resource_urn(&id).as_str()] {
            let both = c.get(&format!("/events/api/v1/storage/events/logs?subscriptionId={sub_id}&resource={resource}")).platform_token(&platform_token()).send().await;
            assert_problem(&both, 400, "Give 'subscriptionId' or 'resource', not both.");
        }
    });

    suite.test("slack_endpoints_get_a_text_envelope", |ctx| async move {
        let c = ctx.client();
        let receiver = TestReceiver::start();
        let (id, _, token) = validated_subscription(
            &c,
            &receiver,
            "/hooks.slack.com/services/T0/B0/X",
            json!({}),
        )
        .await;
        let first = receiver.requests()[0].body.clone();
        assert!(
            first.starts_with("{\"text\": \"{\\\"specversion\\\":\\\"1.0\\\",\\\"id\\\":"),
            "{first}"
        );
        receiver.clear();
        publish_ok(&c, &token, &event("sl1", &resource_urn(&id))).await;
        let got = receiver.wait_for(1, T).await;
        let text = got[0].json()["text"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let inner: Value = serde_json::from_str(&text).unwrap_or_default();
        assert_eq!(inner["id"], "sl1");
    });

    suite.test("private_validate_inbound_storage_and_logs", |ctx| async move {
        let c = ctx.client();
        let receiver = TestReceiver::start();
        receiver.respond_with(500);
        let id = unique("priv");
        put_policy(&c, &id, json!({"owner": "ttd"})).await;
        let token = org_token("ttd");
        let sub = create_subscription(&c, &token, &json!({"endPoint": receiver.url_path("/p"), "resourceFilter": resource_urn(&id)})).await;
        let sub_id = sub["id"].as_i64().unwrap_or_default();
        let path = format!("{SUBSCRIPTIONS}/validate/{sub_id}");
        // PlatformAccess policy: 401 without anything, 403 with only a user token.
        assert_unauthorized(&c.put(&path).send().await);
        assert_forbidden(&c.put(&path).bearer(&token).send().await);
        assert_empty(&c.put(&format!("{SUBSCRIPTIONS}/validate/999999")).platform_token(&platform_token()).send().await, 404);
        let r = c.put(&path).platform_token(&TokenSpec::platform("platform", "events").mint()).send().await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.json()["validated"], json!(false), "the subscription as it was before");
        wait_validated(&c, &token, sub_id, 5).await;
        receiver.respond_with(200);
        receiver.clear();
        // /inbound fans out without storing.
        let p = platform_token();
        let r = c.post("/events/api/v1/inbound").platform_token(&p).cloudevent(&event("in1", &resource_urn(&id))).send().await;
        assert_empty(&r, 200);
        assert_eq!(received_ids(&receiver.wait_for(1, T).await), vec!["in1"]);
        let r = c.get(&format!("{EVENTS}?resource={}&after=0", resource_urn(&id))).bearer(&token).send().await;
        assert_eq!(r.body, "[]");
        // /storage/events stores without fan-out.
        let r = c.post("/events/api/v1/storage/events").platform_token(&p).cloudevent(&event("st1", &resource_urn(&id))).send().await;
        assert_empty(&r, 200);
        let r = c.get(&format!("{EVENTS}?resource={}&after=0", resource_urn(&id))).bearer(&token).send().await;
        assert_eq!(ids(&r), vec!["st1"]);
        assert!(receiver.quiet_for(Duration::from_millis(1500)).await.is_empty());
        let r = c.post("/events/api/v1/outbound").platform_token(&p).body("application/json", "{}").send().await;
        assert_eq!(r.status, 415);
        // /storage/events/logs.
        let entry = json!({"CloudEventId": "4a80af94-1111-2222-3333-444455556666", "CloudEventType": "x.y", "SubscriptionId": sub_id, "Consumer": "/org/ttd", "Endpoint": "https://x.example/h", "StatusCode": 503});
        assert_empty(&c.post("/events/api/v1/storage/events/logs").platform_token(&p).json(&entry).send().await, 201);
        let bad = c.post("/events/api/v1/storage/events/logs").platform_token(&p).json(&json!({"cloudEventId": "nope", "endpoint": "https://x/", "statusCode": 200})).send().await;
        assert_problem(&bad, 400, "'cloudEventId' must be a GUID.");
        let logs = c.get(&format!("/events/api/v1/storage/events/logs?subscriptionId={sub_id}")).platform_token(&p).send().await;
        let last = logs.json()["entries"].as_array().and_then(|a| a.last().cloned()).unwrap_or_default();
        assert_eq!((last["activity"].clone(), last["statusCode"].clone()), (json!("WebhookPostResponse"), json!(503)));
        // The test webhook receiver of Altinn.
        assert_empty(&c.post("/events/api/v1/tests/webhookreceiver").json(&json!({"a": 1})).send().await, 200);
        assert_eq!(c.post("/events/api/v1/tests/webhookreceiver").body("text/plain", "x").send().await.status, 415);
    });

    suite.standalone("validation_rules_and_ssrf_in_altinn_order", || async {
        // A server configured as in production: only public https endpoints.
        let server = TestServer::start(&[("WEBHOOK_ALLOW_PRIVATE", "false")]);
        let c = server.client();
        let ttd = org_token("ttd");
        let no_scope = TokenSpec::org("ttd").mint();
        let user = TokenSpec::user(1337, 50001337).scope(SUBSCRIBE).mint();
        let res = resource_urn(&unique("rules"));
        put_policy(&c, res.trim_start_matches("urn:altinn:resource:"), json!({"owner": "ttd"})).await;
        let ep = "https://webhook.example.com/hook";
        let cases: Vec<(&str, String, Value, u16, &str)> = vec![
            ("no endpoint", ttd.clone(), json!({"resourceFilter": res}), 400, "Missing or invalid endpoint to push events towards"),
            ("relative endpoint", ttd.clone(), json!({"endPoint": "/hook", "resourceFilter": res}), 400, "Missing or invalid endpoint to push events towards"),
            ("http endpoint", ttd.clone(), json!({"endPoint": "http://webhook.example.com/", "resourceFilter": res}), 400, "Missing or invalid endpoint to push events towards"),
            ("loopback", ttd.clone(), json!({"endPoint": "https://127.0.0.1/hook", "resourceFilter": res}), 400, "The endpoint host '127.0.0.1' is a loopback address; webhooks must go to public addresses."),
            ("private", ttd.clone(), json!({"endPoint": "https://10.1.2.3/hook", "resourceFilter": res}), 400, "The endpoint host '10.1.2.3' is a private network address; webhooks must go to public addresses."),
            ("localhost", ttd.clone(), json!({"endPoint": "https://localhost:8443/hook", "resourceFilter": res}), 400, "The endpoint host 'localhost' is a local or internal host name; webhooks must go to publicly resolvable host names."),
            ("metadata", ttd.clone(), json!({"endPoint": "https://169.254.169.254/latest", "resourceFilter": res}), 400, "The endpoint host '169.254.169.254' is a cloud metadata service; webhooks must go to public addresses."),
            ("ipv6 loopback", ttd.clone(), json!({"endPoint": "https://[::1]/hook", "resourceFilter": res}), 400, "The endpoint host '[::1]' is a loopback address; webhooks must go to public addresses."),
            ("decimal ip", ttd.clone(), json!({"endPoint": "https://2130706433/hook", "resourceFilter": res}), 400, "The endpoint host '2130706433' is a loopback address; webhooks must go to public addresses."),
            ("http source filter", ttd.clone(), json!({"endPoint": ep, "sourceFilter": "http://ttd.apps.altinn.no/ttd/app"}), 400, "SourceFilter must be an absolute URL with the https scheme."),
            ("bad resource filter", ttd.clone(), json!({"endPoint": ep, "resourceFilter": "urn:altinn:resource:Upper"}), 400, "Resource filter must be a valid urn"),
            ("user app without subject", user.clone(), json!({"endPoint": ep, "resourceFilter": "urn:altinn:resource:app_ttd_apps-test"}), 400, "A valid subject to the authenticated identity is required"),
            ("unknown person", user.clone(), json!({"endPoint": ep, "resourceFilter": "urn:altinn:resource:app_ttd_apps-test", "alternativeSubjectFilter": "/person/99999999999"}), 400, "A valid subject to the authenticated identity is required"),
            ("subunits without subject", ttd.clone(), json!({"endPoint": ep, "resourceFilter": "urn:altinn:resource:app_ttd_apps-test", "includeSubunits": true}), 400, "IncludeSubunits requires a subject filter."),
            ("deep source path", ttd.clone(), json!({"endPoint": ep, "sourceFilter": "https://ttd.apps.altinn.no/ttd/app/instances"}), 400, "A valid app id is required in source filter {environment}/{org}/{app}"),
            ("trailing slash", ttd.clone(), json!({"endPoint": ep, "sourceFilter": "https://ttd.apps.altinn.no/ttd/app/"}), 400, "A valid app id is required in source filter {environment}/{org}/{app}"),
            ("incompatible", ttd.clone(), json!({"endPoint": ep, "sourceFilter": "https://ttd.apps.altinn.no/ttd/app-a", "resourceFilter": "urn:altinn:resource:app_ttd_app-b"}), 400, "Provided resource filter and source filter are not compatible"),
            ("generic without resource", ttd.clone(), json!({"endPoint": ep, "subjectFilter": "/party/1"}), 400, "Resource filter is required."),
            ("generic with source", ttd.clone(), json!({"endPoint": ep, "resourceFilter": res, "sourceFilter": "https://example.com/a/b"}), 400, "Source filter is not supported for subscriptions on this resource."),
            ("generic with alt subject", ttd.clone(), json!({"endPoint": ep, "resourceFilter": res, "alternativeSubjectFilter": "/org/912345678"}), 400, "AlternativeSubject filter is not supported for subscriptions on this resource."),
            ("generic subunits", ttd.clone(), json!({"endPoint": ep, "resourceFilter": res, "includeSubunits": true}), 400, "IncludeSubunits requires a subject filter."),
            ("pdp says no", org_token("skd"), json!({"endPoint": ep, "resourceFilter": res}), 403, ""),
        ];
        for (name, token, body, status, message) in cases {
            let r = c.post(SUBSCRIPTIONS).bearer(&token).json(&body).send().await;
            if status == 403 {
                assert_text(&r, 403, &format!("Not authorized to create a subscription for resource {res}."));
            } else {
                assert_eq!(r.status, status, "{name}: {}", r.body);
                assert_eq!(r.json(), json!(message), "{name}");
            }
        }
        // Generic subscriptions need the subscribe scope: 403 (a problem document; Altinn's is empty).
        let r = c.post(SUBSCRIPTIONS).bearer(&no_scope).json(&json!({"endPoint": ep, "resourceFilter": res})).send().await;
        assert_forbidden(&r);
        // 401, 415, 413 and binding errors come first.
        assert_unauthorized(&c.post(SUBSCRIPTIONS).json(&json!({})).send().await);
        assert_eq!(c.post(SUBSCRIPTIONS).bearer(&ttd).body("text/plain", "{}").send().await.status, 415);
        let r = c.post(SUBSCRIPTIONS).bearer(&ttd).body("application/json", "").send().await;
        assert_validation(&r, json!({"": ["A non-empty request body is required."]}));
        let r = c.post(SUBSCRIPTIONS).bearer(&ttd).json(&json!({"endPoint": ep, "includeSubunits": "yes"})).send().await;
        assert_validation(&r, json!({"$.includeSubunits": ["The JSON value could not be converted to System.Boolean. Path: $.includeSubunits."]}));
        // A public https endpoint is accepted (not delivered here: the host does not exist).
        let ok = c.post(SUBSCRIPTIONS).bearer(&ttd).json(&json!({"endPoint": "HTTPS://Webhook.Example.COM", "resourceFilter": res})).send().await;
        assert_eq!(ok.status, 201, "{}", ok.body);
        assert_eq!(ok.json()["endPoint"], "https://webhook.example.com/");
        // App subscriptions: an org may subscribe to all events of its app.
        let app = c.post(SUBSCRIPTIONS).bearer(&no_scope).json(&json!({"endPoint": ep, "sourceFilter": "https://ttd.apps.altinn.no/ttd/apps-test", "typeFilter": "app.instance.process.completed"})).send().await;
        assert_eq!(app.status, 201, "{}", app.body);
        assert_eq!(app.json()["resourceFilter"], "urn:altinn:resource:app_ttd_apps-test");
        assert_eq!(app.json()["sourceFilter"], "https://ttd.apps.altinn.no/ttd/apps-test");
    });

    suite.standalone("a_pending_retry_survives_a_restart", || async {
        let server = TestServer::start(&[("DELIVERY_RETRY_DELAYS", "4,4")]);
        let c = server.client();
        let receiver = TestReceiver::start();
        let (id, _, token) = validated_subscription(&c, &receiver, "/restart", json!({})).await;
        receiver.clear();
        receiver.respond_with(503);
        publish_ok(&c, &token, &event("rs1", &resource_urn(&id))).await;
        let first = receiver.wait_for(1, T).await;
        assert_eq!(first[0].answered, 503);
        // Kill wrangler (and workerd) while the retry is pending, and bring it back.
        let state = server.stop();
        receiver.respond_with(200);
        let server = TestServer::start_with_state(&state, &[("DELIVERY_RETRY_DELAYS", "4,4")]);
        let got = receiver.wait_for(2, Duration::from_secs(30)).await;
        assert_eq!(received_ids(&got), vec!["rs1", "rs1"]);
        assert_eq!(got[1].answered, 200);
        // And the subscription still works for new events.
        publish_ok(&server.client(), &token, &event("rs2", &resource_urn(&id))).await;
        assert_eq!(received_ids(&receiver.wait_for(3, T).await)[2], "rs2");
    });

    suite.run()
}
