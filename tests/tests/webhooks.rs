//! What subscribers see and control of their deliveries, end to end: Standard Webhooks
//! signatures checked with the specification's own Rust library (`standardwebhooks`), secret
//! rotation, the attempt log, endpoint health with a disabled and re-enabled subscription, and
//! replay.

use std::process::ExitCode;
use std::time::Duration;

use altinn_events_tests::fixtures::*;
use altinn_events_tests::{Received, Suite, TestClient, TestReceiver};
use serde_json::{json, Value};
use standardwebhooks::Webhook;

/// Ten attempts one second apart: nothing becomes a dead letter while the tests watch.
const DELAYS: &str = "1,1,1,1,1,1,1,1,1";
/// 5.4 seconds of failing attempts disable a subscription.
const DISABLE_AFTER_HOURS: &str = "0.0015";
const T: Duration = Duration::from_secs(20);

fn headers(r: &Received) -> http::HeaderMap {
    let mut map = http::HeaderMap::new();
    for (name, value) in &r.headers {
        let name = http::HeaderName::from_bytes(name.as_bytes()).expect("header name");
        map.append(
            name,
            http::HeaderValue::from_str(value).expect("header value"),
        );
    }
    map
}

fn verifies(secret: &str, r: &Received) -> bool {
    let hook = Webhook::new(secret).expect("a secret the library reads");
    hook.verify(r.body.as_bytes(), &headers(r)).is_ok()
}

fn is_validation(r: &Received) -> bool {
    r.json()["type"] == "platform.events.validatesubscription"
}

/// A resource owned by ttd and a subscription on it to `receiver/hook` (validated when
/// `wait` is set): its id, its 201 body, the resource URN and the token.
async fn subscribe(
    c: &TestClient,
    receiver: &TestReceiver,
    extra: Value,
    wait: bool,
) -> (i64, Value, String, String) {
    let id = unique("wh");
    put_policy(c, &id, json!({"owner": "ttd"})).await;
    let token = org_token("ttd");
    let mut body =
        json!({"endPoint": receiver.url_path("/hook"), "resourceFilter": resource_urn(&id)});
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        b.extend(e.clone());
    }
    let created = create_subscription(c, &token, &body).await;
    let sub_id = created["id"].as_i64().expect("an id");
    if wait {
        wait_validated(c, &token, sub_id, 20).await;
    }
    (sub_id, created, resource_urn(&id), token)
}

async fn get_json(c: &TestClient, token: &str, path: &str) -> Value {
    let r = c.get(path).bearer(token).send().await;
    assert_eq!(r.status, 200, "GET {path}: {}", r.body);
    r.json()
}

async fn post_json(c: &TestClient, token: &str, path: &str, body: &Value) -> Value {
    let r = c.post(path).bearer(token).json(body).send().await;
    assert_eq!(r.status, 200, "POST {path}: {}", r.body);
    r.json()
}

/// Poll the subscription until `check` holds (or panic after `secs`).
async fn wait_subscription(
    c: &TestClient,
    token: &str,
    id: i64,
    secs: u64,
    what: &str,
    check: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = std::time::Instant::now() + Duration::from_secs(secs);
    loop {
        let v = get_json(c, token, &format!("{SUBSCRIPTIONS}/{id}")).await;
        if check(&v) {
            return v;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "subscription {id} never {what}: {v}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn main() -> ExitCode {
    let mut suite = Suite::with_vars(&[
        ("DELIVERY_RETRY_DELAYS", DELAYS),
        ("WEBHOOK_TIMEOUT_SECONDS", "2"),
        ("DISABLE_AFTER_HOURS", DISABLE_AFTER_HOURS),
    ]);

    suite.test(
        "deliveries_are_signed_and_verify_with_the_standard_webhooks_library",
        |ctx| async move {
            let c = ctx.client();
            let receiver = TestReceiver::start();
            // The first attempt of each delivery fails, so retries are seen too.
            receiver.fail_times(1, 503);
            let (sub_id, created, resource, token) =
                subscribe(&c, &receiver, json!({}), true).await;
            let secret = created["secret"]
                .as_str()
                .expect("the 201 names the secret")
                .to_owned();
            assert!(secret.starts_with("whsec_"), "{secret}");
            let all = receiver.wait_for(2, T).await;
            assert!(all.iter().all(is_validation));
            for r in &all {
                assert!(
                    verifies(&secret, r),
                    "validation delivery does not verify: {:?}",
                    r.headers
                );
            }
            assert_eq!(
                all[0].header("webhook-id"),
                all[1].header("webhook-id"),
                "one id over the retries of one event"
            );
            receiver.clear();
            receiver.fail_times(1, 500);
            publish_ok(&c, &token, &event("signed-1", &resource)).await;
            let got = receiver.wait_for(2, T).await;
            assert_eq!(delivered_ids(&got), vec!["signed-1", "signed-1"]);
            assert!(got.iter().all(|r| verifies(&secret, r)));
            assert_eq!(got[0].header("webhook-id"), got[1].header("webhook-id"));
            assert_ne!(got[0].header("webhook-id"), all[0].header("webhook-id"));
            let ts: i64 = got[1]
                .header("webhook-timestamp")
                .expect("a timestamp")
                .parse()
                .expect("unix seconds");
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_secs() as i64;
            assert!((now - ts).abs() < 30, "timestamp {ts} vs now {now}");
            // Another secret does not verify, nor does a changed body.
            let other = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
            assert!(!verifies(other, &got[1]));
            let mut tampered = got[1].clone();
            tampered.body = tampered.body.replace("signed-1", "signed-2");
            assert!(!verifies(&secret, &tampered));

            // The owner reads the secret; it is in no GET or list body.
            let read = get_json(&c, &token, &format!("{SUBSCRIPTIONS}/{sub_id}/secret")).await;
            assert_eq!(read, json!({"secret": secret}));
            let one = c
                .get(&format!("{SUBSCRIPTIONS}/{sub_id}"))
                .bearer(&token)
                .send()
                .await;
            assert_eq!(one.status, 200);
            assert!(
                !one.body.contains(&secret) && one.json().get("secret").is_none(),
                "{}",
                one.body
            );
            let list = c.get(SUBSCRIPTIONS).bearer(&token).send().await;
            assert!(!list.body.contains(&secret));
            // An identical POST answers the same secret.
            let again = create_subscription(
                &c,
                &token,
                &json!({"endPoint": receiver.url_path("/hook"), "resourceFilter": resource}),
            )
            .await;
            assert_eq!(
                (again["id"].as_i64(), again["secret"].as_str()),
                (Some(sub_id), Some(secret.as_str()))
            );
            // Someone else's: 403; unknown: 404.
            let r = c
                .get(&format!("{SUBSCRIPTIONS}/{sub_id}/secret"))
                .bearer(&org_token("skd"))
                .send()
                .await;
            assert_eq!(r.status, 403, "{}", r.body);
            let r = c
                .get(&format!("{SUBSCRIPTIONS}/2147483000/secret"))
                .bearer(&token)
                .send()
                .await;
            assert_eq!(r.status, 404, "{}", r.body);
            let r = c
                .post(&format!("{SUBSCRIPTIONS}/{sub_id}/secret/rotate"))
                .bearer(&org_token("skd"))
                .send()
                .await;
            assert_eq!(r.status, 403, "{}", r.body);
        },
    );

    suite.test(
        "a_rotated_secret_signs_alongside_the_previous_one",
        |ctx| async move {
            let c = ctx.client();
            let receiver = TestReceiver::start();
            let (sub_id, created, resource, token) =
                subscribe(&c, &receiver, json!({}), true).await;
            let old = created["secret"].as_str().expect("a secret").to_owned();
            let rotated = post_json(
                &c,
                &token,
                &format!("{SUBSCRIPTIONS}/{sub_id}/secret/rotate"),
                &json!({}),
            )
            .await;
            let new = rotated["secret"].as_str().expect("a new secret").to_owned();
            assert!(new.starts_with("whsec_") && new != old);
            let read = get_json(&c, &token, &format!("{SUBSCRIPTIONS}/{sub_id}/secret")).await;
            assert_eq!(read["secret"], json!(new));
            receiver.clear();
            publish_ok(&c, &token, &event("rotated-1", &resource)).await;
            let got = receiver.wait_for(1, T).await;
            let signature = got[0]
                .header("webhook-signature")
                .expect("signed")
                .to_owned();
            assert_eq!(
                signature
                    .split(' ')
                    .filter(|s| s.starts_with("v1,"))
                    .count(),
                2,
                "{signature}"
            );
            assert!(verifies(&new, &got[0]), "the new secret verifies");
            assert!(
                verifies(&old, &got[0]),
                "the previous secret still verifies for a day"
            );
        },
    );

    suite.test(
        "the_attempt_log_shows_every_attempt_with_paging",
        |ctx| async move {
            let c = ctx.client();
            let receiver = TestReceiver::start();
            let (sub_id, _, resource, token) = subscribe(&c, &receiver, json!({}), true).await;
            receiver.wait_for(1, T).await;
            // First attempt: 500 with a body; second: too slow (timeout at 2 s); third: 204.
            receiver.respond_using(|r| {
                if r.json()["id"] == "logged-1" {
                    (500, "{\"error\":\"database down\"}".to_owned())
                } else {
                    (200, String::new())
                }
            });
            publish_ok(&c, &token, &event("logged-1", &resource)).await;
            receiver.wait_for(2, T).await;
            receiver.respond_using(|_| (200, String::new()));
            receiver.delay(Duration::from_millis(2600));
            receiver.wait_for(3, T).await;
            receiver.delay(Duration::ZERO);
            receiver.wait_for(4, T).await;
            let path = format!("{SUBSCRIPTIONS}/{sub_id}/attempts");
            let deadline = std::time::Instant::now() + T;
            let log = loop {
                let log = get_json(&c, &token, &path).await;
                if log["attempts"].as_array().is_some_and(|a| a.len() >= 4)
                    || std::time::Instant::now() > deadline
                {
                    break log;
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            };
            let attempts = log["attempts"].as_array().expect("attempts").clone();
            assert_eq!(log["count"], json!(attempts.len()));
            let summary: Vec<(String, i64, String, Value)> = attempts
                .iter()
                .map(|a| {
                    (
                        a["eventId"].as_str().unwrap_or("").to_owned(),
                        a["attempt"].as_i64().unwrap_or(0),
                        a["outcome"].as_str().unwrap_or("").to_owned(),
                        a["statusCode"].clone(),
                    )
                })
                .collect();
            assert_eq!(
                summary[1..],
                [
                    (
                        "logged-1".to_owned(),
                        1,
                        "http_error".to_owned(),
                        json!(500)
                    ),
                    ("logged-1".to_owned(), 2, "timeout".to_owned(), Value::Null),
                    ("logged-1".to_owned(), 3, "success".to_owned(), json!(200)),
                ],
                "{log}"
            );
            assert_eq!(summary[0].1, 1, "the validation attempt: {log}");
            assert_eq!(summary[0].2, "success");
            assert_eq!(
                attempts[1]["response"],
                json!("{\"error\":\"database down\"}")
            );
            assert!(
                attempts[1]["nextAttemptAt"].is_string(),
                "a retry is scheduled: {}",
                attempts[1]
            );
            assert!(
                attempts[3].get("nextAttemptAt").is_none(),
                "{}",
                attempts[3]
            );
            assert!(
                attempts[2]["latencyMs"].as_i64().unwrap_or(0) >= 1900,
                "{}",
                attempts[2]
            );
            assert!(attempts[0]["time"]
                .as_str()
                .is_some_and(|t| t.ends_with('Z')));

            // Paging: two at a time, following `next`.
            let page = get_json(&c, &token, &format!("{path}?size=2")).await;
            assert_eq!(page["count"], json!(2));
            let next = page["next"].as_str().expect("a next link").to_owned();
            assert!(next.starts_with(&ctx.url(&path)), "{next}");
            let next_path = next.trim_start_matches(ctx.base_url()).to_owned();
            let page2 = get_json(&c, &token, &next_path).await;
            assert_eq!(page2["attempts"][0], attempts[2]);
            let r = c.get(&format!("{path}?size=0")).bearer(&token).send().await;
            assert_problem(&r, 400, "size must be a whole number from 1 to 1000");
            let r = c
                .get(&format!("{path}?after=x"))
                .bearer(&token)
                .send()
                .await;
            assert_problem(&r, 400, "'x' is not an attempt cursor");
            let r = c.get(&path).bearer(&org_token("skd")).send().await;
            assert_eq!(r.status, 403, "{}", r.body);
        },
    );

    suite.test("an_unreachable_endpoint_logs_connection_errors", |ctx| async move {
        let c = ctx.client();
        // A port nothing listens on: bind, take the address, close.
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
        let id = unique("closed");
        put_policy(&c, &id, json!({"owner": "ttd"})).await;
        let token = org_token("ttd");
        let body = json!({"endPoint": format!("http://{closed}/hook"), "resourceFilter": resource_urn(&id)});
        let sub = create_subscription(&c, &token, &body).await;
        let sub_id = sub["id"].as_i64().unwrap();
        let path = format!("{SUBSCRIPTIONS}/{sub_id}/attempts");
        let deadline = std::time::Instant::now() + T;
        loop {
            let log = get_json(&c, &token, &path).await;
            if let Some(first) = log["attempts"].as_array().and_then(|a| a.first()) {
                assert_eq!(first["outcome"], "connection_error", "{log}");
                assert!(first.get("statusCode").is_none());
                break;
            }
            assert!(std::time::Instant::now() < deadline, "no attempt logged: {log}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let health = get_json(&c, &token, &format!("{SUBSCRIPTIONS}/{sub_id}")).await;
        assert_eq!(health["status"], "active");
        assert!(health["failingSince"].is_string() && health["lastSuccessAt"].is_null(), "{health}");
    });

    suite.test(
        "a_disabled_subscription_gets_everything_it_missed_in_order_once_enabled",
        |ctx| async move {
            let c = ctx.client();
            let receiver = TestReceiver::start();
            let (sub_id, _, resource, token) = subscribe(&c, &receiver, json!({}), true).await;
            let healthy = get_json(&c, &token, &format!("{SUBSCRIPTIONS}/{sub_id}")).await;
            assert_eq!(
                (
                    healthy["status"].as_str(),
                    healthy["queued"].as_i64(),
                    healthy["deadLetters"].as_i64()
                ),
                (Some("active"), Some(0), Some(0)),
                "{healthy}"
            );
            assert!(
                healthy["lastSuccessAt"].is_string() && healthy["failingSince"].is_null(),
                "{healthy}"
            );
            let keys: Vec<&str> = healthy
                .as_object()
                .unwrap()
                .keys()
                .map(String::as_str)
                .collect();
            assert_eq!(
                keys,
                [
                    "id",
                    "endPoint",
                    "resourceFilter",
                    "consumer",
                    "createdBy",
                    "created",
                    "validated",
                    "includeSubunits",
                    "status",
                    "lastSuccessAt",
                    "lastFailureAt",
                    "failingSince",
                    "queued",
                    "deadLetters"
                ],
                "Altinn's properties first, in Altinn's order"
            );
            receiver.respond_with(503);
            receiver.clear();
            publish_ok(&c, &token, &event("missed-1", &resource)).await;
            // Failing for 5.4 s disables it.
            let disabled = wait_subscription(&c, &token, sub_id, 20, "disabled", |v| {
                v["status"] == "disabled"
            })
            .await;
            assert!(
                disabled["failingSince"].is_string() && disabled["lastFailureAt"].is_string(),
                "{disabled}"
            );
            publish_ok(&c, &token, &event("missed-2", &resource)).await;
            publish_ok(&c, &token, &event("missed-3", &resource)).await;
            let before = receiver.count();
            assert!(
                receiver
                    .quiet_for(Duration::from_millis(2500))
                    .await
                    .is_empty(),
                "nothing is sent while disabled"
            );
            let paused = get_json(&c, &token, &format!("{SUBSCRIPTIONS}/{sub_id}")).await;
            assert_eq!(
                (paused["status"].as_str(), paused["queued"].as_i64()),
                (Some("disabled"), Some(3)),
                "{paused}"
            );
            // The list says so too, and the attempt log says why.
            let list = get_json(&c, &token, SUBSCRIPTIONS).await;
            let item = list["subscriptions"]
                .as_array()
                .unwrap()
                .iter()
                .find(|s| s["id"] == json!(sub_id))
                .cloned()
                .unwrap();
            assert_eq!(item["status"], "disabled");
            let log = get_json(
                &c,
                &token,
                &format!("{SUBSCRIPTIONS}/{sub_id}/attempts?size=1000"),
            )
            .await;
            let last = log["attempts"].as_array().unwrap().last().cloned().unwrap();
            assert!(
                last["note"]
                    .as_str()
                    .is_some_and(|n| n.contains("disabled")),
                "{last}"
            );
            assert!(last.get("nextAttemptAt").is_none(), "{last}");

            // Enabled: everything it missed arrives, in order.
            receiver.respond_with(200);
            let enabled = post_json(
                &c,
                &token,
                &format!("{SUBSCRIPTIONS}/{sub_id}/enable"),
                &json!({}),
            )
            .await;
            assert_eq!(enabled["status"], "active", "{enabled}");
            let got = receiver.wait_for(before + 3, T).await;
            let ok: Vec<String> = got
                .iter()
                .filter(|r| r.answered == 200)
                .map(|r| r.json()["id"].as_str().unwrap_or("").to_owned())
                .collect();
            assert_eq!(ok, vec!["missed-1", "missed-2", "missed-3"]);
            let after = wait_subscription(&c, &token, sub_id, 10, "emptied", |v| {
                v["queued"] == json!(0)
            })
            .await;
            assert!(after["failingSince"].is_null(), "{after}");
            // The trace log says so too.
            let logs = c
                .get(&format!(
                    "/events/api/v1/storage/events/logs?subscriptionId={sub_id}"
                ))
                .platform_token(&platform_token())
                .send()
                .await;
            assert_eq!(logs.status, 200, "{}", logs.body);
            let activities: Vec<String> = logs.json()["entries"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .iter()
                .map(|e| e["activity"].as_str().unwrap_or_default().to_owned())
                .collect();
            let disabled_at = activities
                .iter()
                .position(|a| a == "EndpointDisabled")
                .expect("EndpointDisabled traced");
            let enabled_at = activities
                .iter()
                .position(|a| a == "EndpointEnabled")
                .expect("EndpointEnabled traced");
            assert!(disabled_at < enabled_at, "{activities:?}");
            // Enabling an active subscription changes nothing.
            let again = post_json(
                &c,
                &token,
                &format!("{SUBSCRIPTIONS}/{sub_id}/enable"),
                &json!({}),
            )
            .await;
            assert_eq!(again["status"], "active");
            let r = c
                .post(&format!("{SUBSCRIPTIONS}/{sub_id}/enable"))
                .bearer(&org_token("skd"))
                .send()
                .await;
            assert_eq!(r.status, 403, "{}", r.body);
        },
    );

    suite.test(
        "replay_requeues_a_window_of_stored_events_in_order",
        |ctx| async move {
            let c = ctx.client();
            let receiver = TestReceiver::start();
            let (sub_id, _, resource, token) =
                subscribe(&c, &receiver, json!({"typeFilter": "test.created"}), true).await;
            let start = std::time::SystemTime::now();
            tokio::time::sleep(Duration::from_millis(20)).await;
            let mut other = event("replay-x", &resource);
            other["type"] = json!("test.other");
            for e in [
                event("replay-1", &resource),
                other,
                event("replay-2", &resource),
                event("replay-3", &resource),
            ] {
                publish_ok(&c, &token, &e).await;
            }
            let got = receiver.wait_for(4, T).await;
            assert_eq!(
                delivered_ids(&got),
                vec!["replay-1", "replay-2", "replay-3"]
            );
            let first_ids: Vec<Option<String>> = got[1..]
                .iter()
                .map(|r| r.header("webhook-id").map(str::to_owned))
                .collect();
            let iso = |t: std::time::SystemTime| {
                let ms = t.duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64;
                events_core::time::UnixTime::from_millis(ms)
                    .to_timestamp()
                    .format()
            };
            let path = format!("{SUBSCRIPTIONS}/{sub_id}/replay");
            receiver.clear();
            let r = post_json(
                &c,
                &token,
                &path,
                &json!({"from": iso(start), "to": iso(std::time::SystemTime::now())}),
            )
            .await;
            assert_eq!(
                r,
                json!({"requeued": 3}),
                "only events that match the filter now"
            );
            let again = receiver.wait_for(3, T).await;
            assert_eq!(
                delivered_ids(&again),
                vec!["replay-1", "replay-2", "replay-3"]
            );
            let new_ids: Vec<Option<String>> = again
                .iter()
                .map(|r| r.header("webhook-id").map(str::to_owned))
                .collect();
            assert!(
                new_ids.iter().all(|id| !first_ids.contains(id)),
                "a replay is a new message"
            );
            receiver.clear();
            let r = post_json(&c, &token, &path, &json!({"after": "replay-1"})).await;
            assert_eq!(r, json!({"requeued": 2}));
            assert_eq!(
                delivered_ids(&receiver.wait_for(2, T).await),
                vec!["replay-2", "replay-3"]
            );
            // A window before the events: nothing.
            let r = post_json(
                &c,
                &token,
                &path,
                &json!({"from": "2020-01-01T00:00:00Z", "to": "2020-01-02T00:00:00Z"}),
            )
            .await;
            assert_eq!(r, json!({"requeued": 0}));
            // Bad requests.
            let r = c
                .post(&path)
                .bearer(&token)
                .json(&json!({"to": "2020-01-01T00:00:00Z"}))
                .send()
                .await;
            assert_problem(
                &r,
                400,
                "Give 'from' (a time) or 'after' (an event id) to say where the replay starts.",
            );
            let r = c
                .post(&path)
                .bearer(&token)
                .json(&json!({"after": "no-such-event"}))
                .send()
                .await;
            assert_eq!(r.status, 400, "{}", r.body);
            assert!(r.body.contains("no-such-event"), "{}", r.body);
            let r = c
                .post(&path)
                .bearer(&token)
                .body("text/plain", "{}")
                .send()
                .await;
            assert_eq!(r.status, 415, "{}", r.body);
            let r = c
                .post(&path)
                .bearer(&org_token("skd"))
                .json(&json!({"after": "replay-1"}))
                .send()
                .await;
            assert_eq!(r.status, 403, "{}", r.body);
            assert!(receiver
                .quiet_for(Duration::from_millis(1000))
                .await
                .is_empty());
        },
    );

    suite.test(
        "a_large_replay_window_goes_on_through_a_cursor",
        |ctx| async move {
            let c = ctx.client();
            let receiver = TestReceiver::start();
            let (sub_id, _, resource, token) =
                subscribe(&c, &receiver, json!({"typeFilter": "test.created"}), true).await;
            // 510 stored events, of which only bulk-5, bulk-105, … match the subscription.
            for n in 0..510 {
                let mut e = event(&format!("bulk-{n}"), &resource);
                if n % 100 != 5 {
                    e["type"] = json!("test.other");
                }
                publish_ok(&c, &token, &e).await;
            }
            receiver.wait_for(7, T).await;
            receiver.clear();
            let path = format!("{SUBSCRIPTIONS}/{sub_id}/replay");
            let first = post_json(&c, &token, &path, &json!({"after": "bulk-0"})).await;
            // The first call looks at bulk-1 … bulk-500.
            assert_eq!(first["requeued"], json!(5), "{first}");
            let cursor = first["cursor"].as_str().expect("more remain").to_owned();
            let rest = post_json(
                &c,
                &token,
                &path,
                &json!({"after": "bulk-0", "cursor": cursor}),
            )
            .await;
            assert_eq!(
                rest,
                json!({"requeued": 1}),
                "bulk-505, and no cursor: the window is done"
            );
            let got = receiver.wait_for(6, T).await;
            assert_eq!(
                delivered_ids(&got),
                vec!["bulk-5", "bulk-105", "bulk-205", "bulk-305", "bulk-405", "bulk-505"]
            );
        },
    );

    suite.run()
}
