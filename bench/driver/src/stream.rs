//! `stream`: the live stream (issue 15) measured.
//!
//! `stream --url U [--rate EVENTS_PER_S] [--seconds S] [--idle N]`:
//!
//! 1. Latency: one stream on `bench-stream`; events published at a steady `rate` for `seconds`
//!    (one at a time on a fixed schedule, each request started on time); for each, the time from
//!    the start of its publish request to its message arriving on the stream. One JSON line
//!    `stream-latency` with p50/p99/max in ms, and the publish answers' own p50 for comparison.
//! 2. Idle streams: `idle` streams opened on one resource (`bench-idle`, one object), left idle,
//!    then one event: how many are open and how long until the last of them has it. One line
//!    `stream-idle`.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use altinn_events_tests::sse::{self, Item};
use altinn_events_tests::TestClient;
use serde_json::{json, Value};

use crate::{emit, event_id, event_json, nonce, org_token, publish, put_owner, Opts};

const LATENCY_RESOURCE: &str = "bench-stream";
const IDLE_RESOURCE: &str = "bench-idle";

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * (sorted.len() as f64 - 1.0)).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

pub async fn stream(opts: &Opts) -> Result<(), String> {
    let url = opts.str("url")?.to_owned();
    let client = TestClient::new(&url);
    let rate = opts.num("rate", 50)?.max(1);
    let seconds = opts.num("seconds", 10)?;
    let idle = opts.num("idle", 1000)? as usize;
    let org = org_token();
    let platform = altinn_events_tests::fixtures::platform_token();
    put_owner(&client, &platform, LATENCY_RESOURCE).await?;
    put_owner(&client, &platform, IDLE_RESOURCE).await?;

    // 1. Latency at a steady rate.
    let path =
        format!("/events/api/v1/events?resource=urn:altinn:resource:{LATENCY_RESOURCE}&after=0");
    let nonce = nonce();
    let mut s = sse::open(&url, &path, &org, &[]).await;
    if s.status != 200 {
        let status = s.status;
        return Err(format!("stream: {status} {}", s.body().await));
    }
    let sent: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    let total = rate * seconds;
    let reader = tokio::spawn(async move {
        let mut got: Vec<(String, Instant)> = Vec::new();
        while (got.len() as u64) < total {
            match s.next(Duration::from_secs(30)).await {
                Some(Item::Event { id, .. }) => got.push((id.unwrap_or_default(), Instant::now())),
                Some(Item::Comment(_)) => {}
                None => break,
            }
        }
        got
    });
    let interval = Duration::from_secs_f64(1.0 / rate as f64);
    let start = Instant::now();
    let mut publishes = tokio::task::JoinSet::new();
    for n in 0..total {
        tokio::time::sleep_until((start + interval * n as u32).into()).await;
        let id = event_id(nonce, n);
        let body = event_json(&id, n, LATENCY_RESOURCE);
        let (client, org, sent) = (client.clone(), org.clone(), Arc::clone(&sent));
        publishes.spawn(async move {
            let t0 = Instant::now();
            if let Ok(mut map) = sent.lock() {
                map.insert(id, t0);
            }
            publish(&client, &org, body).await.map(|()| t0.elapsed())
        });
    }
    let mut answer_ms = Vec::new();
    while let Some(r) = publishes.join_next().await {
        answer_ms.push(ms(r.map_err(|e| e.to_string())??));
    }
    let got = reader.await.map_err(|e| e.to_string())?;
    let sent = sent.lock().map_err(|e| e.to_string())?.clone();
    let mut latencies: Vec<f64> = got
        .iter()
        .filter_map(|(id, at)| sent.get(id).map(|t0| ms(at.duration_since(*t0))))
        .collect();
    latencies.sort_by(f64::total_cmp);
    answer_ms.sort_by(f64::total_cmp);
    let in_order = got
        .windows(2)
        .all(|w| sent.get(&w[0].0) <= sent.get(&w[1].0));
    emit(&json!({
        "bench": "stream-latency",
        "rate": rate, "seconds": seconds, "published": total, "received": latencies.len(),
        "in_order": in_order,
        "p50_ms": percentile(&latencies, 50.0), "p99_ms": percentile(&latencies, 99.0),
        "max_ms": latencies.last().copied().unwrap_or(f64::NAN),
        "publish_p50_ms": percentile(&answer_ms, 50.0),
    }));
    if latencies.len() as u64 != total {
        return Err(format!(
            "{} of {total} events arrived on the stream",
            latencies.len()
        ));
    }

    // 2. Idle streams on one object.
    let idle_path =
        format!("/events/api/v1/events?resource=urn:altinn:resource:{IDLE_RESOURCE}&after=0");
    let started = Instant::now();
    let mut streams = Vec::with_capacity(idle);
    for _ in 0..idle {
        let s = sse::open(&url, &idle_path, &org, &[]).await;
        if s.status != 200 {
            break;
        }
        streams.push(s);
    }
    let opened = streams.len();
    let open_secs = started.elapsed().as_secs_f64();
    eprintln!("stream: {opened} idle streams open in {open_secs:.1} s");
    tokio::time::sleep(Duration::from_secs(2)).await;
    let id = event_id(nonce, 1 << 40);
    let t0 = Instant::now();
    publish(&client, &org, event_json(&id, 0, IDLE_RESOURCE)).await?;
    let mut waits = tokio::task::JoinSet::new();
    for mut s in streams {
        waits.spawn(async move {
            loop {
                match s.next(Duration::from_secs(60)).await {
                    Some(Item::Event { .. }) => return Some(Instant::now()),
                    Some(Item::Comment(_)) => {}
                    None => return None,
                }
            }
        });
    }
    let mut arrivals = Vec::new();
    while let Some(r) = waits.join_next().await {
        if let Some(at) = r.map_err(|e| e.to_string())? {
            arrivals.push(ms(at.duration_since(t0)));
        }
    }
    arrivals.sort_by(f64::total_cmp);
    emit(&json!({
        "bench": "stream-idle",
        "asked": idle, "opened": opened, "open_seconds": open_secs,
        "received": arrivals.len(),
        "first_ms": arrivals.first().copied().unwrap_or(f64::NAN),
        "median_ms": percentile(&arrivals, 50.0),
        "last_ms": arrivals.last().copied().unwrap_or(f64::NAN),
    }));
    Ok(())
}

/// The Markdown lines of the stream results.
pub fn summary(by: &BTreeMap<String, Vec<Value>>) -> String {
    let mut out = String::new();
    let f = |v: &Value, k: &str| v[k].as_f64().map_or("–".into(), |x| format!("{x:.1}"));
    if let Some(rows) = by.get("stream-latency") {
        out.push_str("\n| live stream: publish → received | events/s | events | p50 ms | p99 ms | max ms | publish answer p50 ms | in order |\n|---|---|---|---|---|---|---|---|\n");
        for r in rows {
            out.push_str(&format!(
                "| one stream, steady load | {} | {}/{} | {} | {} | {} | {} | {} |\n",
                r["rate"],
                r["received"],
                r["published"],
                f(r, "p50_ms"),
                f(r, "p99_ms"),
                f(r, "max_ms"),
                f(r, "publish_p50_ms"),
                r["in_order"]
            ));
        }
    }
    if let Some(rows) = by.get("stream-idle") {
        out.push_str("\n| idle streams on one object | asked | open | opened in s | got the event | first ms | median ms | last ms |\n|---|---|---|---|---|---|---|---|\n");
        for r in rows {
            out.push_str(&format!(
                "| one resource | {} | {} | {} | {} | {} | {} | {} |\n",
                r["asked"],
                r["opened"],
                f(r, "open_seconds"),
                r["received"],
                f(r, "first_ms"),
                f(r, "median_ms"),
                f(r, "last_ms")
            ));
        }
    }
    out
}
