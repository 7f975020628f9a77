//! Batch publishing end to end: `POST /events/api/v1/events` with
//! `application/cloudevents-batch+json` — all or nothing, in order per resource, read and
//! delivered exactly as single events.

use std::process::ExitCode;
use std::time::Duration;

use altinn_events_tests::fixtures::*;
use altinn_events_tests::{Suite, TestClient, TestReceiver, TestResponse};
use serde_json::{json, Value};

const BATCH: &str = "application/cloudevents-batch+json";
const T: Duration = Duration::from_secs(20);

async fn post_batch(c: &TestClient, token: &str, events: &[Value]) -> TestResponse {
    c.post(EVENTS)
        .bearer(token)
        .body(BATCH, Value::Array(events.to_vec()).to_string())
        .send()
        .await
}

async fn read_ids(c: &TestClient, token: &str, resource: &str) -> Vec<String> {
    let r = c
        .get(&format!("{EVENTS}?resource={resource}&after=0&size=1000"))
        .bearer(token)
        .send()
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    ids(&r)
}

/// `n` resources owned by ttd.
async fn resources(c: &TestClient, n: usize) -> Vec<String> {
    let mut out = Vec::new();
    for _ in 0..n {
        let id = unique("batch");
        put_policy(c, &id, json!({"owner": "ttd"})).await;
        out.push(resource_urn(&id));
    }
    out
}

fn main() -> ExitCode {
    let mut suite = Suite::with_vars(&[("DELIVERY_RETRY_DELAYS", "1,1")]);

    suite.test(
        "a_batch_over_three_resources_is_readable_in_order_in_each",
        |ctx| async move {
            let c = ctx.client();
            let token = org_token("ttd");
            let res = resources(&c, 3).await;
            let mut events = Vec::new();
            for n in 1..=3 {
                for (r, resource) in res.iter().enumerate() {
                    events.push(event(&format!("r{r}-{n}"), resource));
                }
            }
            // A repeat inside the batch collapses into the first.
            events.push(event("r0-1", &res[0]));
            let r = post_batch(&c, &token, &events).await;
            assert_empty(&r, 200);
            for (r, resource) in res.iter().enumerate() {
                let expected: Vec<String> = (1..=3).map(|n| format!("r{r}-{n}")).collect();
                assert_eq!(read_ids(&c, &token, resource).await, expected, "{resource}");
            }
            // Publishing the batch again stores nothing new.
            assert_empty(&post_batch(&c, &token, &events).await, 200);
            assert_eq!(
                read_ids(&c, &token, &res[0]).await,
                ["r0-1", "r0-2", "r0-3"]
            );
            // A single event after the batch comes after it.
            publish_ok(&c, &token, &event("r0-4", &res[0])).await;
            assert_eq!(
                read_ids(&c, &token, &res[0]).await,
                ["r0-1", "r0-2", "r0-3", "r0-4"]
            );
        },
    );

    suite.test("a_batch_with_a_bad_event_stores_nothing", |ctx| async move {
        let c = ctx.client();
        let token = org_token("ttd");
        let res = resources(&c, 2).await;
        let good = |id: &str, r: usize| event(id, &res[r]);
        // Bad events, reported by index.
        let no_resource = json!({"specversion": "1.0", "id": "x", "source": "https://example.com/s", "type": "t"});
        let r = post_batch(&c, &token, &[good("g1", 0), no_resource, good("g2", 1)]).await;
        assert_problem(&r, 400, "Event 1: A 'resource' property must be defined.");
        let no_source = json!({"specversion": "1.0", "id": "x", "type": "t", "resource": res[0]});
        let r = post_batch(&c, &token, &[good("g1", 0), good("g2", 1), no_source]).await;
        assert_eq!(r.status, 400, "{}", r.body);
        assert!(r.json()["detail"].as_str().is_some_and(|d| d.starts_with("Event 2: ")), "{}", r.body);
        // One event on a resource the caller may not publish to: 403, nothing stored anywhere.
        let foreign = unique("foreign");
        put_policy(&c, &foreign, json!({"owner": "skd"})).await;
        let r = post_batch(&c, &token, &[good("g1", 0), good("g2", 1), event("f1", &resource_urn(&foreign))]).await;
        assert_eq!(r.status, 403, "{}", r.body);
        let r = post_batch(&c, &token, &[event("f1", &resource_urn(&foreign)), good("g1", 0)]).await;
        assert_eq!(r.status, 403, "{}", r.body);
        for resource in &res {
            assert!(read_ids(&c, &token, resource).await.is_empty(), "{resource} holds events");
        }
        // Bodies that are no batch.
        let r = c.post(EVENTS).bearer(&token).body(BATCH, "{}").send().await;
        assert_problem(&r, 400, "A batch must be a JSON array of CloudEvents in structured mode (application/cloudevents-batch+json).");
        let r = c.post(EVENTS).bearer(&token).body(BATCH, "[]").send().await;
        assert_problem(&r, 400, "The batch is empty: send at least one event.");
        let many: Vec<Value> = (0..1001).map(|n| good(&format!("m{n}"), 0)).collect();
        let r = post_batch(&c, &token, &many).await;
        assert_problem(&r, 413, "A batch holds at most 1000 events; this one has 1001. Split it.");
        let big = json!([{"specversion": "1.0", "id": "big", "source": "https://example.com/s", "type": "t", "resource": res[0], "data": "x".repeat(1_100_000)}]);
        let r = c.post(EVENTS).bearer(&token).body(BATCH, big.to_string()).send().await;
        assert_eq!(r.status, 413, "{}", r.body);
        // The same gates as a single publish: no token 401, no publish scope 403.
        let r = c.post(EVENTS).body(BATCH, json!([good("g1", 0)]).to_string()).send().await;
        assert_unauthorized(&r);
        let no_scope = altinn_events_tests::TokenSpec::org("ttd").scope("altinn:events.subscribe").mint();
        assert_forbidden(&post_batch(&c, &no_scope, &[good("g1", 0)]).await);
        for resource in &res {
            assert!(read_ids(&c, &token, resource).await.is_empty(), "{resource} holds events");
        }
    });

    suite.test(
        "batched_events_are_delivered_in_order_like_single_ones",
        |ctx| async move {
            let c = ctx.client();
            let token = org_token("ttd");
            let res = resources(&c, 2).await;
            let receiver = TestReceiver::start();
            let sub = create_subscription(
                &c,
                &token,
                &json!({"endPoint": receiver.url_path("/hook"), "resourceFilter": res[0]}),
            )
            .await;
            wait_validated(&c, &token, sub["id"].as_i64().unwrap_or_default(), 20).await;
            receiver.clear();
            publish_ok(&c, &token, &event("d0", &res[0])).await;
            publish_ok(&c, &token, &event("d0", &res[0])).await;
            let first = receiver.wait_for(1, T).await;
            assert_eq!(delivered_ids(&first), ["d0"]);
            assert!(
                receiver
                    .quiet_for(Duration::from_millis(1500))
                    .await
                    .is_empty(),
                "a repeated single publish is not sent again"
            );
            let batch = [
                event("d1", &res[0]),
                event("x1", &res[1]),
                event("d2", &res[0]),
                event("d1", &res[0]),
                event("d3", &res[0]),
            ];
            assert_empty(&post_batch(&c, &token, &batch).await, 200);
            publish_ok(&c, &token, &event("d4", &res[0])).await;
            let got = receiver.wait_for(5, T).await;
            assert_eq!(delivered_ids(&got), ["d0", "d1", "d2", "d3", "d4"]);
            assert!(
                receiver
                    .quiet_for(Duration::from_millis(1000))
                    .await
                    .is_empty(),
                "no repeat of d1"
            );
            // The same batch again: stored before, so nothing is stored or sent.
            assert_empty(&post_batch(&c, &token, &batch).await, 200);
            assert!(
                receiver
                    .quiet_for(Duration::from_millis(1500))
                    .await
                    .is_empty(),
                "nothing sent twice"
            );
        },
    );

    suite.run()
}
