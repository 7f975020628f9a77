//! Retention end to end (`EVENT_RETENTION_DAYS`, here 0.0001 days ≈ 8.6 s): events stored longer
//! ago than the window leave the resource log and the party index by the objects' alarms; new
//! ones stay; an `after` cursor naming a deleted event continues from the oldest kept event; and
//! an event still queued for delivery is delivered once its endpoint recovers.

use std::collections::BTreeSet;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use altinn_events_tests::fixtures::*;
use altinn_events_tests::{Suite, TestClient, TestReceiver, TokenSpec};
use serde_json::{json, Value};

/// 0.0001 days in milliseconds.
const WINDOW: Duration = Duration::from_millis(8_640);

/// An event about `party` from an app instance (so the party index holds it too), on `resource`.
fn instance_event(id: &str, resource: &str, party: u64) -> Value {
    json!({
        "specversion": "1.0", "id": id, "type": "app.instance.created",
        "source": format!("https://ttd.apps.altinn.no/ttd/retention/instances/{party}/6f0c1d8e-2a3b-4c5d-9e8f-000000000001"),
        "subject": format!("/party/{party}"),
        "resource": resource,
    })
}

/// GET `path` until its ids are `want` (or `within` passes); the last ids read.
async fn read_until(
    c: &TestClient,
    token: &str,
    path: &str,
    want: &[&str],
    within: Duration,
) -> Vec<String> {
    let deadline = Instant::now() + within;
    loop {
        let r = c.get(path).bearer(token).send().await;
        assert_eq!(r.status, 200, "{path}: {}", r.body);
        let got = ids(&r);
        if got == want || Instant::now() >= deadline {
            return got;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

enum Auth<'a> {
    Bearer(&'a str),
    Platform(&'a str),
}

/// The length of the array `key` in the JSON answer to GET `path`.
async fn count(c: &TestClient, path: &str, key: &str, auth: Auth<'_>) -> usize {
    let r = match auth {
        Auth::Bearer(token) => c.get(path).bearer(token).send().await,
        Auth::Platform(token) => c.get(path).platform_token(token).send().await,
    };
    assert_eq!(r.status, 200, "{path}: {}", r.body);
    r.json()[key].as_array().map_or(0, Vec::len)
}

fn main() -> ExitCode {
    let mut suite = Suite::with_vars(&[
        ("EVENT_RETENTION_DAYS", "0.0001"),
        ("DELIVERY_RETRY_DELAYS", "15,15"),
    ]);

    suite.test(
        "old_events_go_new_ones_stay_and_queued_ones_are_delivered",
        |ctx| async move {
            let c = ctx.client();
            let receiver = TestReceiver::start();
            let id = unique("ret");
            let res = resource_urn(&id);
            put_policy(&c, &id, json!({"owner": "ttd"})).await;
            let party = unique_number(70_000_000);
            let org_number = format!("9{:08}", party % 100_000_000);
            put_party(
                &c,
                party,
                json!({"organizationIdentifier": org_number, "roles": {"2001": ["DAGL"]}}),
            )
            .await;
            let ttd = org_token("ttd");
            let sub = create_subscription(
                &c,
                &ttd,
                &json!({"endPoint": receiver.url_path("/hook"), "resourceFilter": res}),
            )
            .await;
            let sub_id = sub["id"].as_i64().unwrap_or_default();
            wait_validated(&c, &ttd, sub_id, 20).await;
            // The endpoint is down: the old events stay queued for delivery past the window.
            receiver.respond_with(503);
            publish_ok(&c, &ttd, &instance_event("old1", &res, party)).await;
            publish_ok(&c, &ttd, &instance_event("old2", &res, party)).await;
            let log = |q: &str| format!("{EVENTS}?resource={res}&{q}");
            let by_party = |q: &str| format!("/events/api/v1/app/party?party={party}&{q}");
            let role_holder = TokenSpec::user(2001, 9).mint();
            assert_eq!(
                read_until(&c, &ttd, &log("after=0"), &["old1", "old2"], WINDOW / 4).await,
                ["old1", "old2"]
            );
            assert_eq!(
                read_until(
                    &c,
                    &role_holder,
                    &by_party("after=0"),
                    &["old1", "old2"],
                    WINDOW / 4
                )
                .await,
                ["old1", "old2"]
            );

            // Past the window, new events are stored; the old ones are gone from both.
            tokio::time::sleep(WINDOW + Duration::from_millis(1_000)).await;
            publish_ok(&c, &ttd, &instance_event("new1", &res, party)).await;
            publish_ok(&c, &ttd, &instance_event("new2", &res, party)).await;
            let within = Duration::from_secs(3);
            assert_eq!(
                read_until(&c, &ttd, &log("after=0"), &["new1", "new2"], within).await,
                ["new1", "new2"],
                "the resource log"
            );
            assert_eq!(
                read_until(
                    &c,
                    &role_holder,
                    &by_party("after=0"),
                    &["new1", "new2"],
                    within
                )
                .await,
                ["new1", "new2"],
                "the party index"
            );
            // A cursor naming a deleted event continues from the oldest kept event.
            let r = c.get(&log("after=old2")).bearer(&ttd).send().await;
            assert_eq!(
                (r.status, ids(&r)),
                (200, vec!["new1".to_owned(), "new2".into()]),
                "{}",
                r.body
            );
            let r = c
                .get(&by_party("after=old1"))
                .bearer(&role_holder)
                .send()
                .await;
            assert_eq!(
                (r.status, ids(&r)),
                (200, vec!["new1".to_owned(), "new2".into()]),
                "{}",
                r.body
            );
            let r = c.get(&log("after=new1")).bearer(&ttd).send().await;
            assert_eq!(ids(&r), ["new2"]);

            // Nothing queued for delivery was removed: once the endpoint recovers, every event
            // arrives (the old ones first, at their next attempt).
            receiver.respond_with(200);
            let deadline = Instant::now() + Duration::from_secs(30);
            let wanted = ["old1", "old2", "new1", "new2"];
            let order = loop {
                let mut seen = BTreeSet::new();
                let order: Vec<String> = delivered_ids(&receiver.requests())
                    .into_iter()
                    .filter(|i| seen.insert(i.clone()))
                    .collect();
                if order.len() == wanted.len() || Instant::now() >= deadline {
                    break order;
                }
                tokio::time::sleep(Duration::from_millis(250)).await;
            };
            assert_eq!(order, wanted);
        },
    );

    suite.standalone(
        "a_subscriptions_old_dead_letters_attempts_and_trace_rows_go_too",
        || async {
            // One attempt per event: a 503 makes a dead letter at once.
            let server = altinn_events_tests::TestServer::start(&[
                ("EVENT_RETENTION_DAYS", "0.0001"),
                ("DELIVERY_RETRY_DELAYS", "0"),
            ]);
            let c = server.client();
            let receiver = TestReceiver::start();
            let id = unique("retdl");
            put_policy(&c, &id, json!({"owner": "ttd"})).await;
            let ttd = org_token("ttd");
            let body = json!({"endPoint": receiver.url_path("/hook"), "resourceFilter": resource_urn(&id)});
            let sub = create_subscription(&c, &ttd, &body).await;
            let sub_id = sub["id"].as_i64().unwrap_or_default();
            wait_validated(&c, &ttd, sub_id, 20).await;
            receiver.respond_with(503);
            publish_ok(&c, &ttd, &event("doomed", &resource_urn(&id))).await;
            let letters = format!("{SUBSCRIPTIONS}/{sub_id}/deadletters");
            let attempts = format!("{SUBSCRIPTIONS}/{sub_id}/attempts");
            let trace = format!("/events/api/v1/storage/events/logs?subscriptionId={sub_id}");
            let platform = platform_token();
            let deadline = Instant::now() + Duration::from_secs(10);
            while count(&c, &letters, "deadLetters", Auth::Bearer(&ttd)).await == 0 {
                assert!(Instant::now() < deadline, "no dead letter");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            let before = count(&c, &attempts, "attempts", Auth::Bearer(&ttd)).await;
            assert!(before >= 2, "the validation and the event: {before}");
            assert!(count(&c, &trace, "entries", Auth::Platform(&platform)).await >= 2);
            // Past the window the sweep removes them; the newest attempt row stays (it keeps
            // the attempt ids counting), so one attempt remains.
            let deadline = Instant::now() + WINDOW + Duration::from_secs(15);
            loop {
                let letters = count(&c, &letters, "deadLetters", Auth::Bearer(&ttd)).await;
                let attempts = count(&c, &attempts, "attempts", Auth::Bearer(&ttd)).await;
                let traced = count(&c, &trace, "entries", Auth::Platform(&platform)).await;
                if (letters, attempts, traced) == (0, 1, 0) {
                    break;
                }
                assert!(
                    Instant::now() < deadline,
                    "still {letters} dead letters, {attempts} attempts, {traced} trace rows"
                );
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        },
    );

    suite.run()
}
