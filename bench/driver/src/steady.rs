//! `steady`: end-to-end latency at a steady offered load (issue 14). `--resources` resources
//! with `--subs` validated subscriptions each, all to one loopback receiver; then events
//! published at `--rate` per second for `--seconds`, round-robin over the resources, each on a
//! schedule fixed in advance (a publish that is late does not move the next one). The latency
//! of a delivery is from the moment its event was due to be published to the moment the
//! receiver had the whole webhook request; every event must reach every subscription of its
//! resource within `--drain` seconds of the last publish.
//!
//! `--url wrangler` starts the service under `wrangler dev` (the end-to-end harness's
//! [`TestServer`]: SQLite-backed objects on disk, wrangler's proxy in front) and measures that.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use altinn_events_tests::{TestClient, TestReceiver, TestServer};
use serde_json::{json, Value};

use super::{
    emit, event_id, event_json, nonce, org_token, platform_token, publish, put_owner,
    subscription_state, Opts,
};

/// CPU time (user + system) used so far by each `workerd` process of process group `pgid`.
fn workerd_cpu(pgid: i32) -> HashMap<u64, Duration> {
    // SAFETY: sysconf has no preconditions.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
    let mut used = HashMap::new();
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return used;
    };
    for entry in dir.flatten() {
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // "pid (comm) state ppid pgrp … utime stime …": fields after the comm by position.
        let Some((head, rest)) = stat.rsplit_once(") ") else {
            continue;
        };
        if !head.ends_with("(workerd") {
            continue;
        }
        let fields: Vec<&str> = rest.split(' ').collect();
        let num = |i: usize| fields.get(i).and_then(|f| f.parse::<u64>().ok());
        if num(2) != Some(pgid as u64) {
            continue;
        }
        let ticks_used = num(11).unwrap_or(0) + num(12).unwrap_or(0);
        let pid = entry.file_name().to_string_lossy().parse().unwrap_or(0);
        used.insert(pid, Duration::from_secs_f64(ticks_used as f64 / ticks));
    }
    used
}

/// CPU ms per event between two readings of [`workerd_cpu`]: all processes, and the busiest.
fn cpu_per_event(
    before: &HashMap<u64, Duration>,
    after: &HashMap<u64, Duration>,
    events: u64,
) -> (f64, f64) {
    let spent: Vec<f64> = after
        .iter()
        .map(|(pid, t)| {
            let was = before.get(pid).copied().unwrap_or_default();
            t.saturating_sub(was).as_secs_f64() * 1000.0 / events.max(1) as f64
        })
        .collect();
    (
        spent.iter().sum(),
        spent.iter().copied().fold(0.0, f64::max),
    )
}

/// The `p` quantile (0–1) of sorted values (nearest rank).
fn quantile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

pub async fn steady(opts: &Opts) -> Result<(), String> {
    let url = opts.str("url")?;
    let (client, server, runtime) = if url == "wrangler" {
        eprintln!("steady: starting wrangler dev (it builds the worker)");
        let server = tokio::task::spawn_blocking(|| TestServer::start(&[]))
            .await
            .map_err(|e| format!("wrangler dev: {e}"))?;
        (server.client(), Some(server), "wrangler dev")
    } else {
        (TestClient::new(url), None, "workerd")
    };
    let resources = opts.num("resources", 10)?.max(1);
    let subs = opts.num("subs", 4)?.max(1);
    let rate = opts.num("rate", 100)?.max(1);
    let seconds = opts.num("seconds", 60)?.max(1);
    let drain = Duration::from_secs(opts.num("drain", 120)?);
    let (org, platform) = (org_token(), platform_token());
    let receiver = TestReceiver::start();
    let names: Vec<String> = (0..resources)
        .map(|i| format!("bench-steady-{i}"))
        .collect();

    for name in &names {
        put_owner(&client, &platform, name).await?;
        for k in 0..subs {
            let body = json!({
                "endPoint": receiver.url_path(&format!("/steady/{name}/{k}")),
                "resourceFilter": format!("urn:altinn:resource:{name}"),
            });
            let r = client
                .post("/events/api/v1/subscriptions")
                .bearer(&org)
                .json(&body)
                .send()
                .await;
            if r.status != 201 {
                return Err(format!("create subscription: {} {}", r.status, r.body));
            }
        }
    }
    let deadline = Instant::now() + Duration::from_secs(120);
    for name in &names {
        let resource = format!("urn:altinn:resource:{name}");
        loop {
            let (total, validated) = subscription_state(&client, &org, &resource).await?;
            if total as u64 == subs && validated as u64 == subs {
                break;
            }
            if Instant::now() >= deadline {
                return Err(format!("{resource}: {validated} of {total} validated"));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    receiver.clear();
    eprintln!(
        "steady: {resources} resources × {subs} subscriptions; {rate} events/s for {seconds} s"
    );

    let cpu_before = server.as_ref().map(|s| workerd_cpu(s.pgid()));

    // The schedule: event n is due at start + n / rate.
    let nonce = nonce();
    let total = rate * seconds;
    let start = Instant::now() + Duration::from_millis(100);
    let mut due: HashMap<String, Instant> = HashMap::with_capacity(total as usize);
    let mut set = tokio::task::JoinSet::new();
    let mut publish_ms = Vec::with_capacity(total as usize);
    for n in 0..total {
        let at = start + Duration::from_secs_f64(n as f64 / rate as f64);
        tokio::time::sleep_until(at.into()).await;
        let id = event_id(nonce, n);
        let name = &names[(n % resources) as usize];
        let body = event_json(&id, n, name);
        due.insert(id, at);
        let (client, org) = (client.clone(), org.clone());
        set.spawn(async move {
            publish(&client, &org, body).await?;
            Ok::<f64, String>(at.elapsed().as_secs_f64() * 1000.0)
        });
        while let Some(done) = set.try_join_next() {
            publish_ms.push(done.map_err(|e| e.to_string())??);
        }
    }
    while let Some(done) = set.join_next().await {
        publish_ms.push(done.map_err(|e| e.to_string())??);
    }
    let published = Instant::now();
    let offered_secs = published.duration_since(start).as_secs_f64();

    let expected = (total * subs) as usize;
    let drained_by = published + drain;
    while receiver.count() < expected && Instant::now() < drained_by {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // workerd's CPU time per event, from the first publish to the last delivery (a steadier
    // measure of the service's cost than latency near saturation).
    let cpu = server
        .as_ref()
        .zip(cpu_before)
        .map(|(s, before)| cpu_per_event(&before, &workerd_cpu(s.pgid()), total));
    let received = receiver.requests();
    let mut latencies = Vec::with_capacity(received.len());
    let mut last = published;
    let mut per_event: HashMap<&str, u64> = HashMap::new();
    for r in &received {
        let id = r.json()["id"].as_str().map(str::to_owned);
        let Some((id, at)) = id.and_then(|id| due.get_key_value(&id)) else {
            continue;
        };
        *per_event.entry(id.as_str()).or_default() += 1;
        latencies.push(r.at.duration_since(*at).as_secs_f64() * 1000.0);
        last = last.max(r.at);
    }
    let delivered = latencies.len();
    let duplicates = per_event.values().filter(|&&c| c > subs).count();
    latencies.sort_by(f64::total_cmp);
    publish_ms.sort_by(f64::total_cmp);
    let row: Value = json!({
        "bench": "steady",
        "runtime": runtime,
        "resources": resources,
        "subs_per_resource": subs,
        "offered_rate": rate,
        "seconds": seconds,
        "events": total,
        "publish_seconds": offered_secs,
        "publish_p50_ms": quantile(&publish_ms, 0.5),
        "publish_p99_ms": quantile(&publish_ms, 0.99),
        "deliveries_expected": expected,
        "delivered": delivered,
        "events_with_duplicates": duplicates,
        "p50_ms": quantile(&latencies, 0.5),
        "p99_ms": quantile(&latencies, 0.99),
        "max_ms": latencies.last().copied().unwrap_or(f64::NAN),
        "drain_ms": last.duration_since(published).as_secs_f64() * 1000.0,
        "workerd_cpu_ms_per_event": cpu.map(|c| c.0),
        "busiest_workerd_cpu_ms_per_event": cpu.map(|c| c.1),
    });
    emit(&row);
    eprintln!(
        "steady: {delivered} of {expected} deliveries; p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms{}",
        quantile(&latencies, 0.5),
        quantile(&latencies, 0.99),
        latencies.last().copied().unwrap_or(f64::NAN),
        cpu.map(|(all, busiest)| format!(
            "; workerd CPU per event {all:.2} ms ({busiest:.2} ms in the busiest process)"
        ))
        .unwrap_or_default()
    );
    if delivered < expected {
        return Err(format!(
            "{delivered} of {expected} deliveries within {} s of the last publish",
            drain.as_secs()
        ));
    }
    Ok(())
}
