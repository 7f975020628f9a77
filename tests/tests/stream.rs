//! The live stream end to end (issue 15): the three reads with `Accept: text/event-stream`
//! answered as Server-Sent Events — backlog then live events in order, resuming with
//! `Last-Event-ID`, per-event authorization, independence of resources, app events by app and
//! by party, the reads' 4xx answers, heartbeats and the token's `exp`.

use std::process::ExitCode;
use std::time::Duration;

use altinn_events_tests::fixtures::*;
use altinn_events_tests::sse::{self, Item};
use altinn_events_tests::{Suite, TestClient, TokenSpec};
use serde_json::{json, Value};

const APP: &str = "/events/api/v1/app";
const T: Duration = Duration::from_secs(20);
/// How long a stream must stay silent to show an event was not sent.
const QUIET: Duration = Duration::from_secs(2);

fn stream_path(res: &str, query: &str) -> String {
    format!("{EVENTS}?resource={res}&{query}")
}

/// Publish a batch (`application/cloudevents-batch+json`) and require 200.
async fn publish_batch(c: &TestClient, token: &str, events: &[Value]) {
    let r = c
        .post(EVENTS)
        .bearer(token)
        .body(
            "application/cloudevents-batch+json",
            Value::from(events.to_vec()).to_string(),
        )
        .send()
        .await;
    assert_eq!(r.status, 200, "batch: {}", r.body);
}

fn main() -> ExitCode {
    let mut suite = Suite::new();

    suite.test("backlog_then_live_events_in_order", |ctx| async move {
        let c = ctx.client();
        let id = unique("live");
        let res = resource_urn(&id);
        put_policy(&c, &id, json!({"owner": "ttd"})).await;
        let ttd = org_token("ttd");
        for n in 1..=3 {
            publish_ok(&c, &ttd, &event(&format!("b{n}"), &res)).await;
        }
        // size is the page size, not a cap: the backlog comes in pages of two.
        let mut s = sse::open(
            ctx.base_url(),
            &stream_path(&res, "after=0&size=2"),
            &ttd,
            &[],
        )
        .await;
        s.assert_open();
        let backlog = s.events(3, T).await;
        assert_eq!(sse::ids(&backlog), vec!["b1", "b2", "b3"]);
        // data is the CloudEvent as the read answers it.
        let read = c
            .get(&stream_path(&res, "after=0"))
            .bearer(&ttd)
            .send()
            .await;
        let stored: Vec<Value> = serde_json::from_str(&read.body).expect("a JSON page");
        let streamed: Vec<Value> = backlog.iter().map(|(_, e)| e.clone()).collect();
        assert_eq!(streamed, stored);
        // Live: single publishes and a batch, in publish order.
        publish_ok(&c, &ttd, &event("l1", &res)).await;
        publish_ok(&c, &ttd, &event("l2", &res)).await;
        publish_batch(&c, &ttd, &[event("l3", &res), event("l4", &res)]).await;
        let live = s.events(4, T).await;
        assert_eq!(sse::ids(&live), vec!["l1", "l2", "l3", "l4"]);
        assert_eq!(live[0].1["resource"], json!(res));
        // A repeat of a stored event is not stored, so not streamed; nothing else comes.
        publish_ok(&c, &ttd, &event("l1", &res)).await;
        assert_eq!(s.ids_within(QUIET).await, Vec::<String>::new());
    });

    suite.test(
        "last_event_id_resumes_without_gaps_or_repeats",
        |ctx| async move {
            let c = ctx.client();
            let id = unique("resume");
            let res = resource_urn(&id);
            put_policy(&c, &id, json!({"owner": "ttd"})).await;
            let ttd = org_token("ttd");
            for n in 1..=3 {
                publish_ok(&c, &ttd, &event(&format!("r{n}"), &res)).await;
            }
            let mut s = sse::open(ctx.base_url(), &stream_path(&res, "after=0"), &ttd, &[]).await;
            let first = s.events(2, T).await;
            assert_eq!(sse::ids(&first), vec!["r1", "r2"]);
            drop(s);
            // Published while disconnected.
            publish_ok(&c, &ttd, &event("r4", &res)).await;
            // Last-Event-ID wins over the after still in the URL.
            let last = ("last-event-id", "r2");
            let mut s =
                sse::open(ctx.base_url(), &stream_path(&res, "after=0"), &ttd, &[last]).await;
            s.assert_open();
            assert_eq!(sse::ids(&s.events(2, T).await), vec!["r3", "r4"]);
            publish_ok(&c, &ttd, &event("r5", &res)).await;
            assert_eq!(sse::ids(&s.events(1, T).await), vec!["r5"]);
            assert_eq!(s.ids_within(QUIET).await, Vec::<String>::new());
            // after alone resumes the same way; Last-Event-ID alone needs no after.
            let mut s = sse::open(ctx.base_url(), &stream_path(&res, "after=r4"), &ttd, &[]).await;
            assert_eq!(sse::ids(&s.events(1, T).await), vec!["r5"]);
            let mut s = sse::open(
                ctx.base_url(),
                &stream_path(&res, "size=1"),
                &ttd,
                &[("last-event-id", "r3")],
            )
            .await;
            s.assert_open();
            assert_eq!(sse::ids(&s.events(2, T).await), vec!["r4", "r5"]);
        },
    );

    suite.test("a_revoked_right_stops_events_at_the_next_event", |ctx| async move {
        let c = ctx.client();
        let id = unique("revoke");
        let res = resource_urn(&id);
        let granted = json!({"owner": "ttd", "rules": [{"actions": ["subscribe"], "subjects": [{"urn:altinn:org": "digdir"}]}]});
        put_policy(&c, &id, granted.clone()).await;
        let ttd = org_token("ttd");
        let digdir = org_token("digdir");
        let mut s = sse::open(ctx.base_url(), &stream_path(&res, "after=0"), &digdir, &[]).await;
        s.assert_open();
        publish_ok(&c, &ttd, &event("v1", &res)).await;
        assert_eq!(sse::ids(&s.events(1, T).await), vec!["v1"]);
        // The right is withdrawn: the next events are not sent, though the stream stays open.
        put_policy(&c, &id, json!({"owner": "ttd"})).await;
        publish_ok(&c, &ttd, &event("v2", &res)).await;
        publish_ok(&c, &ttd, &event("v3", &res)).await;
        assert_eq!(s.ids_within(QUIET).await, Vec::<String>::new());
        // Granted again: events from then on come, the denied ones are not sent late.
        put_policy(&c, &id, granted).await;
        publish_ok(&c, &ttd, &event("v4", &res)).await;
        assert_eq!(sse::ids(&s.events(1, T).await), vec!["v4"]);
        assert_eq!(s.ids_within(QUIET).await, Vec::<String>::new());
    });

    suite.test("two_resources_streams_are_independent", |ctx| async move {
        let c = ctx.client();
        let (a, b) = (unique("inda"), unique("indb"));
        put_policy(&c, &a, json!({"owner": "ttd"})).await;
        put_policy(&c, &b, json!({"owner": "ttd"})).await;
        let (ra, rb) = (resource_urn(&a), resource_urn(&b));
        let ttd = org_token("ttd");
        let mut sa = sse::open(ctx.base_url(), &stream_path(&ra, "after=0"), &ttd, &[]).await;
        let mut sb = sse::open(ctx.base_url(), &stream_path(&rb, "after=0"), &ttd, &[]).await;
        publish_ok(&c, &ttd, &event("a1", &ra)).await;
        assert_eq!(sse::ids(&sa.events(1, T).await), vec!["a1"]);
        assert_eq!(sb.ids_within(QUIET).await, Vec::<String>::new());
        publish_batch(&c, &ttd, &[event("b1", &rb), event("a2", &ra)]).await;
        assert_eq!(sse::ids(&sb.events(1, T).await), vec!["b1"]);
        assert_eq!(sse::ids(&sa.events(1, T).await), vec!["a2"]);
        assert_eq!(sa.ids_within(QUIET).await, Vec::<String>::new());
        assert_eq!(
            sb.ids_within(Duration::from_millis(200)).await,
            Vec::<String>::new()
        );
    });

    suite.test("app_events_stream_by_app_and_by_party", |ctx| async move {
        let c = ctx.client();
        let app = unique("app").replace('-', "");
        let party = unique_number(61_000_000);
        put_party(&c, party, json!({"roles": {"2101": ["DAGL"]}})).await;
        let access = TokenSpec::platform("ttd", &app).mint();
        let user = TokenSpec::user(1, 1).mint();
        let post = |n: u32| {
            let body = json!({
                "specversion": "1.0", "type": "app.instance.created",
                "source": format!("https://ttd.apps.altinn.no/ttd/{app}/instances/{party}/6f0c1d8e-2a3b-4c5d-9e8f-{n:012}"),
                "subject": format!("/party/{party}"),
            });
            let (c, user, access) = (c.clone(), user.clone(), access.clone());
            async move {
                let r = c.post(APP).bearer(&user).platform_token(&access).json(&body).send().await;
                assert_eq!(r.status, 201, "{}", r.body);
                r.json().as_str().unwrap_or_default().to_owned()
            }
        };
        let first = post(1).await;
        let org = TokenSpec::org("ttd").mint();
        let mut by_app = sse::open(ctx.base_url(), &format!("{APP}/ttd/{app}?after=0"), &org, &[]).await;
        by_app.assert_open();
        let role_holder = TokenSpec::user(2101, 9).mint();
        let mut by_party = sse::open(ctx.base_url(), &format!("{APP}/party?after=0&party={party}"), &role_holder, &[]).await;
        by_party.assert_open();
        assert_eq!(sse::ids(&by_app.events(1, T).await), vec![first.as_str()]);
        assert_eq!(sse::ids(&by_party.events(1, T).await), vec![first.as_str()]);
        let second = post(2).await;
        assert_eq!(sse::ids(&by_app.events(1, T).await), vec![second.as_str()]);
        assert_eq!(sse::ids(&by_party.events(1, T).await), vec![second.as_str()]);
        // Someone without a role for the party streams nothing of it.
        let stranger = TokenSpec::user(4104, 4).mint();
        let mut none = sse::open(ctx.base_url(), &format!("{APP}/party?after=0&party={party}"), &stranger, &[]).await;
        none.assert_open();
        post(3).await;
        assert_eq!(by_party.events(1, T).await.len(), 1);
        assert_eq!(none.ids_within(QUIET).await, Vec::<String>::new());
    });

    suite.test("bad_requests_get_the_reads_answers", |ctx| async move {
        let c = ctx.client();
        let id = unique("bad");
        let res = resource_urn(&id);
        let ttd = org_token("ttd");
        let get = |path: String| c.get(&path).header("accept", "text/event-stream");
        assert_unauthorized(&get(stream_path(&res, "after=0")).send().await);
        let publish_only = TokenSpec::org("ttd").scope(PUBLISH).mint();
        assert_forbidden(&get(stream_path(&res, "after=0")).bearer(&publish_only).send().await);
        let r = get(format!("{EVENTS}?after=0")).bearer(&ttd).send().await;
        assert_validation(&r, json!({"resource": ["The resource field is required."]}));
        let r = get(stream_path(&res, "after=0&size=ten")).bearer(&ttd).send().await;
        assert_validation(&r, json!({"size": ["The value 'ten' is not valid for size."]}));
        let r = get(format!("{EVENTS}?resource=urn:other:x&after=0")).bearer(&ttd).send().await;
        assert_problem(&r, 400, "The 'resource' parameter must begin with `urn:altinn:resource:`");
        // No cursor at all: the read's 400; an empty Last-Event-ID is none.
        let r = get(format!("{EVENTS}?resource={res}")).bearer(&ttd).send().await;
        assert_problem(&r, 400, "The 'after' parameter must be defined.");
        let r = get(format!("{EVENTS}?resource={res}")).header("last-event-id", "").bearer(&ttd).send().await;
        assert_problem(&r, 400, "The 'after' parameter must be defined.");
        // A rule the object checks (too many type patterns) still answers before the stream.
        let types: String = (0..41).map(|n| format!("&type=t{n}")).collect();
        let r = get(stream_path(&res, &format!("after=0{types}"))).bearer(&ttd).send().await;
        assert_problem(&r, 400, "At most 40 'type' and 40 'source' values can be given.");
        // App reads: their own messages.
        let org = TokenSpec::org("ttd").mint();
        let r = get(format!("{APP}/ttd/someapp")).bearer(&org).send().await;
        assert_problem(&r, 400, "The 'From' or 'After' parameter must be defined.");
        let plain = c.get(&format!("{APP}/ttd/someapp")).bearer(&org).send().await;
        assert_problem(&plain, 400, "The 'From' or 'After' parameter must be defined.");
        let r = get(format!("{APP}/party?after=0")).bearer(&org).send().await;
        assert_problem(&r, 400, "Subject must be specified using either query params party or unit or header value person.");
        // Without the Accept header the read is unchanged: JSON, and Last-Event-ID means nothing.
        let r = c.get(&format!("{EVENTS}?resource={res}")).header("last-event-id", "x").bearer(&ttd).send().await;
        assert_problem(&r, 400, "The 'after' parameter must be defined.");
        let r = c.get(&stream_path(&res, "after=0")).header("accept", "*/*").bearer(&ttd).send().await;
        assert_eq!((r.status, r.body.as_str()), (200, "[]"));
        assert_eq!(r.header("content-type").as_deref(), Some("application/cloudevents+json; charset=utf-8"));
    });

    suite.test(
        "heartbeat_comments_keep_an_idle_stream_open",
        |ctx| async move {
            let id = unique("beat");
            let res = resource_urn(&id);
            put_policy(&ctx.client(), &id, json!({"owner": "ttd"})).await;
            let mut s = sse::open(
                ctx.base_url(),
                &stream_path(&res, "after=0"),
                &org_token("ttd"),
                &[],
            )
            .await;
            s.assert_open();
            let started = std::time::Instant::now();
            let item = s.next(Duration::from_secs(25)).await;
            assert_eq!(item, Some(Item::Comment("keep-alive".into())));
            let waited = started.elapsed();
            assert!(
                waited >= Duration::from_secs(13),
                "heartbeat after {waited:?}"
            );
        },
    );

    suite.test("the_stream_ends_at_the_tokens_exp", |ctx| async move {
        let id = unique("exp");
        let res = resource_urn(&id);
        let c = ctx.client();
        put_policy(&c, &id, json!({"owner": "ttd"})).await;
        // Valid for 6 s from now (through its exp second): long enough to open on a busy machine.
        let token = TokenSpec::org("ttd").scope(SUBSCRIBE).expires_in(6).mint();
        let minted = std::time::Instant::now();
        let mut s = sse::open(ctx.base_url(), &stream_path(&res, "after=0"), &token, &[]).await;
        s.assert_open();
        publish_ok(&c, &org_token("ttd"), &event("x1", &res)).await;
        assert_eq!(sse::ids(&s.events(1, T).await), vec!["x1"]);
        assert!(
            s.ends_within(Duration::from_secs(15)).await,
            "the stream did not end"
        );
        let lived = minted.elapsed();
        assert!(
            lived >= Duration::from_secs(5) && lived < Duration::from_secs(9),
            "ended {lived:?} after the token was minted"
        );
    });

    suite.run()
}
