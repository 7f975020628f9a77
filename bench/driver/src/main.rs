//! `bench-driver`: the helper of `bench/worker` (the worker benchmark).
//!
//! Subcommands (each prints one JSON line per measurement on stdout, progress on stderr):
//!
//! - `port`: a free loopback port.
//! - `wait-ready --url U [--path /health] [--timeout SECS]`: wait for a 200.
//! - `setup --url U --resources N --read-events M`: owner documents for the bench resources,
//!   `M` events on `bench-read`, and a check that publishing and reading work.
//! - `fanout --url U --subs N --repeats R`: `N` validated subscriptions on `bench-fanout`, each
//!   to a loopback receiver; then, `R` times, one event and the time until its `N`th delivery.
//! - `steady --url U --resources R --subs S --rate N --seconds T [--drain D]`: end-to-end
//!   latency (publish due → webhook received) at a steady load (see [`steady`]).
//! - `stream --url U --rate R --seconds S --idle N`: the live stream's publish → received latency
//!   at a steady rate, and `N` idle streams on one object ([`stream`]).
//! - `coldstart --workerd BIN --config FILE --url U --path P --runs N --label L`: time from
//!   spawning workerd to the first 200 of `GET P`.
//! - `summarise --results FILE`: the Markdown tables of a results file (medians, ratios).

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use altinn_events_tests::{TestClient, TestReceiver, TokenSpec};
use serde_json::{json, Value};

mod steady;
mod stream;

/// Resource of the read benchmark (pre-filled).
const READ_RESOURCE: &str = "bench-read";
/// Resource the fan-out subscriptions are on.
const FANOUT_RESOURCE: &str = "bench-fanout";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((command, rest)) = args.split_first() else {
        eprintln!("usage: bench-driver <port|wait-ready|setup|fanout|steady|stream|coldstart|summarise> [--name value]...");
        return ExitCode::from(2);
    };
    let opts = match Opts::parse(rest) {
        Ok(o) => o,
        Err(msg) => {
            eprintln!("bench-driver: {msg}");
            return ExitCode::from(2);
        }
    };
    let result = match command.as_str() {
        "port" => port(),
        "wait-ready" => wait_ready(&opts),
        "summarise" => summarise(&opts),
        "coldstart" => coldstart(&opts),
        "setup" | "fanout" | "steady" | "stream" => {
            let runtime = match tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
            {
                Ok(rt) => rt,
                Err(e) => {
                    eprintln!("bench-driver: tokio: {e}");
                    return ExitCode::FAILURE;
                }
            };
            match command.as_str() {
                "setup" => runtime.block_on(setup(&opts)),
                "steady" => runtime.block_on(steady::steady(&opts)),
                "stream" => runtime.block_on(stream::stream(&opts)),
                _ => runtime.block_on(fanout(&opts)),
            }
        }
        other => Err(format!("unknown command {other}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(msg) => {
            eprintln!("bench-driver {command}: {msg}");
            ExitCode::FAILURE
        }
    }
}

/// `--name value` options.
struct Opts(BTreeMap<String, String>);

impl Opts {
    fn parse(args: &[String]) -> Result<Opts, String> {
        let mut map = BTreeMap::new();
        let mut it = args.iter();
        while let Some(name) = it.next() {
            let Some(name) = name.strip_prefix("--") else {
                return Err(format!("unexpected argument {name}"));
            };
            let value = it.next().ok_or_else(|| format!("--{name} needs a value"))?;
            map.insert(name.to_owned(), value.clone());
        }
        Ok(Opts(map))
    }

    fn str(&self, name: &str) -> Result<&str, String> {
        self.0
            .get(name)
            .map(String::as_str)
            .ok_or_else(|| format!("--{name} is required"))
    }

    fn str_or<'a>(&'a self, name: &str, default: &'a str) -> &'a str {
        self.0.get(name).map(String::as_str).unwrap_or(default)
    }

    fn num(&self, name: &str, default: u64) -> Result<u64, String> {
        match self.0.get(name) {
            None => Ok(default),
            Some(v) => v
                .parse()
                .map_err(|_| format!("--{name}: not a number: {v}")),
        }
    }
}

fn emit(value: &Value) {
    println!("{value}");
}

fn port() -> Result<(), String> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| format!("bind: {e}"))?;
    let port = listener.local_addr().map_err(|e| e.to_string())?.port();
    println!("{port}");
    Ok(())
}

/// One `GET path` over a fresh connection; the status, or `None` if nothing answered.
fn get_status(addr: SocketAddr, path: &str) -> Option<u16> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_millis(200)).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .ok()?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).ok()?;
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).ok()?;
    let text = std::str::from_utf8(&head).ok()?;
    text.strip_prefix("HTTP/1.1 ")?.get(..3)?.parse().ok()
}

fn socket_of(url: &str) -> Result<SocketAddr, String> {
    let host = url
        .strip_prefix("http://")
        .ok_or_else(|| format!("not an http:// URL: {url}"))?
        .trim_end_matches('/');
    host.parse()
        .map_err(|e| format!("{url}: expected http://IP:PORT ({e})"))
}

fn wait_ready(opts: &Opts) -> Result<(), String> {
    let addr = socket_of(opts.str("url")?)?;
    let path = opts.str_or("path", "/health");
    let deadline = Instant::now() + Duration::from_secs(opts.num("timeout", 60)?);
    while Instant::now() < deadline {
        if get_status(addr, path) == Some(200) {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Err(format!("no 200 from GET {path} on {addr}"))
}

/// The benchmark's CloudEvent (about 1 KiB). Keep in step with `bench/wrk/event.lua`.
fn event_json(id: &str, n: u64, resource: &str) -> String {
    let party = 50_000_000 + n % 997;
    let padding = "Lorem ipsum dolor sit amet, consectetur adipiscing elit. ".repeat(3);
    format!(
        concat!(
            r#"{{"specversion":"1.0","id":"{id}","source":"https://bench.altinn.example/api/v1/documents/{n}","#,
            r#""type":"no.altinn.bench.document.created","resource":"urn:altinn:resource:{resource}","#,
            r#""resourceinstance":"{id}","subject":"/party/{party}","time":"2026-11-24T10:00:00.1234567Z","#,
            r#""datacontenttype":"application/json","data":{{"documentId":"{id}","title":"Annual report 2026","#,
            r#""status":"submitted","sender":{{"organisationNumber":"991825827","name":"Testdepartementet"}},"#,
            r#""recipient":{{"partyId":{party},"name":"Bench Recipient AS"}},"attachments":["#,
            r#"{{"name":"report.pdf","size":183422,"sha256":"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"}},"#,
            r#"{{"name":"appendix.xlsx","size":40211,"sha256":"60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752"}}],"#,
            r#""comment":"{padding}"}}}}"#
        ),
        id = id,
        n = n,
        resource = resource,
        party = party,
        padding = padding,
    )
}

/// A UUID-shaped id, unique per (nonce, n).
fn event_id(nonce: u32, n: u64) -> String {
    format!("{nonce:08x}-ffff-4000-8000-{n:012x}")
}

fn nonce() -> u32 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos() ^ (d.as_secs() as u32))
        .unwrap_or(0)
}

fn org_token() -> String {
    TokenSpec::org("ttd")
        .scope("altinn:events.publish altinn:events.subscribe")
        .expires_in(86_400)
        .mint()
}

fn platform_token() -> String {
    TokenSpec::platform("platform", "events")
        .expires_in(86_400)
        .mint()
}

async fn put_owner(client: &TestClient, platform: &str, resource: &str) -> Result<(), String> {
    let r = client
        .put(&format!("/events/api/v1/admin/resources/{resource}"))
        .platform_token(platform)
        .json(&json!({"owner": "ttd"}))
        .send()
        .await;
    if r.status == 200 || r.status == 201 {
        Ok(())
    } else {
        Err(format!("PUT owner of {resource}: {} {}", r.status, r.body))
    }
}

async fn publish(client: &TestClient, token: &str, body: String) -> Result<(), String> {
    let r = client
        .post("/events/api/v1/events")
        .bearer(token)
        .body("application/cloudevents+json", body)
        .send()
        .await;
    if r.status == 200 {
        Ok(())
    } else {
        Err(format!("publish: {} {}", r.status, r.body))
    }
}

/// Publish `count` events to `resource`, `parallel` at a time.
async fn publish_many(
    client: &TestClient,
    token: &str,
    resource: &str,
    count: u64,
    parallel: usize,
) -> Result<(), String> {
    let nonce = nonce();
    let mut set = tokio::task::JoinSet::new();
    for n in 0..count {
        while set.len() >= parallel {
            if let Some(r) = set.join_next().await {
                r.map_err(|e| e.to_string())??;
            }
        }
        let (client, token) = (client.clone(), token.to_owned());
        let body = event_json(&event_id(nonce, n), n, resource);
        set.spawn(async move { publish(&client, &token, body).await });
    }
    while let Some(r) = set.join_next().await {
        r.map_err(|e| e.to_string())??;
    }
    Ok(())
}

async fn setup(opts: &Opts) -> Result<(), String> {
    let client = TestClient::new(opts.str("url")?);
    let resources = opts.num("resources", 16)?;
    let read_events = opts.num("read-events", 1000)?;
    let (org, platform) = (org_token(), platform_token());
    let started = Instant::now();

    let mut names: Vec<String> = (0..resources).map(|i| format!("bench-{i}")).collect();
    names.push(READ_RESOURCE.into());
    names.push(FANOUT_RESOURCE.into());
    for name in &names {
        put_owner(&client, &platform, name).await?;
    }
    eprintln!("setup: {} resource documents", names.len());

    let body = event_json(&event_id(nonce(), 0), 0, "bench-0");
    eprintln!(
        "setup: one event is {} bytes; publishing {read_events} to {READ_RESOURCE}",
        body.len()
    );
    let fill = Instant::now();
    publish_many(&client, &org, READ_RESOURCE, read_events, 8).await?;
    let fill_secs = fill.elapsed().as_secs_f64();

    // The read the benchmark repeats must answer a full page.
    let r = client
        .get(&format!(
            "/events/api/v1/events?resource=urn:altinn:resource:{READ_RESOURCE}&after=0&size=50"
        ))
        .bearer(&org)
        .send()
        .await;
    let page = match r.json() {
        Value::Array(a) if r.status == 200 => a.len() as u64,
        _ => return Err(format!("read check: {} {}", r.status, r.body)),
    };
    if page != read_events.min(50) || r.header("next").is_none() {
        return Err(format!(
            "read check: {page} events (expected {}), next = {:?}",
            read_events.min(50),
            r.header("next")
        ));
    }
    emit(&json!({
        "bench": "setup",
        "event_bytes": body.len(),
        "read_events": read_events,
        "fill_seconds": fill_secs,
        "fill_events_per_s": read_events as f64 / fill_secs.max(1e-9),
        "seconds": started.elapsed().as_secs_f64(),
    }));
    Ok(())
}

/// The caller's subscriptions on `resource`: (total, validated).
async fn subscription_state(
    client: &TestClient,
    token: &str,
    resource: &str,
) -> Result<(usize, usize), String> {
    let r = client
        .get("/events/api/v1/subscriptions")
        .bearer(token)
        .send()
        .await;
    if r.status != 200 {
        return Err(format!("list subscriptions: {} {}", r.status, r.body));
    }
    let body = r.json();
    let subs = body["subscriptions"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let ours: Vec<&Value> = subs
        .iter()
        .filter(|s| s["resourceFilter"] == resource)
        .collect();
    let validated = ours.iter().filter(|s| s["validated"] == true).count();
    Ok((ours.len(), validated))
}

async fn fanout(opts: &Opts) -> Result<(), String> {
    let client = TestClient::new(opts.str("url")?);
    let subs = opts.num("subs", 1000)? as usize;
    let repeats = opts.num("repeats", 3)?;
    let timeout = Duration::from_secs(opts.num("timeout", 300)?);
    let org = org_token();
    let resource = format!("urn:altinn:resource:{FANOUT_RESOURCE}");
    let receiver = TestReceiver::start();

    // Subscriptions, 8 at a time; each endpoint is distinct (an identical one would be the
    // same subscription).
    let started = Instant::now();
    let mut set = tokio::task::JoinSet::new();
    for i in 0..subs {
        while set.len() >= 8 {
            if let Some(r) = set.join_next().await {
                r.map_err(|e| e.to_string())??;
            }
        }
        let (client, org) = (client.clone(), org.clone());
        let body = json!({"endPoint": receiver.url_path(&format!("/hook/{i}")), "resourceFilter": resource});
        set.spawn(async move {
            let r = client
                .post("/events/api/v1/subscriptions")
                .bearer(&org)
                .json(&body)
                .send()
                .await;
            if r.status == 201 {
                Ok(())
            } else {
                Err(format!("create subscription: {} {}", r.status, r.body))
            }
        });
    }
    while let Some(r) = set.join_next().await {
        r.map_err(|e| e.to_string())??;
    }
    let created_secs = started.elapsed().as_secs_f64();
    eprintln!(
        "fanout: {subs} subscriptions created in {created_secs:.1} s; waiting for validation"
    );
    let deadline = Instant::now() + timeout;
    loop {
        let (total, validated) = subscription_state(&client, &org, &resource).await?;
        if total == subs && validated == subs {
            break;
        }
        if Instant::now() >= deadline {
            return Err(format!(
                "{validated} of {total} subscriptions validated after {:.0} s",
                timeout.as_secs_f64()
            ));
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let validated_secs = started.elapsed().as_secs_f64();
    emit(&json!({
        "bench": "fanout-setup",
        "subs": subs,
        "create_seconds": created_secs,
        "validated_seconds": validated_secs,
    }));
    // Let the last handshakes' bookkeeping settle.
    tokio::time::sleep(Duration::from_millis(500)).await;

    let nonce = nonce();
    for run in 0..repeats {
        let id = event_id(nonce, run);
        let body = event_json(&id, run, FANOUT_RESOURCE);
        let before = receiver.count();
        let t0 = Instant::now();
        publish(&client, &org, body).await?;
        let accepted = t0.elapsed();
        let deadline = t0 + timeout;
        let deliveries = loop {
            if receiver.count() >= before + subs {
                let ours: Vec<Instant> = receiver.requests()[before..]
                    .iter()
                    .filter(|r| r.body.contains(&id))
                    .map(|r| r.at)
                    .collect();
                if ours.len() >= subs {
                    break ours;
                }
            }
            if Instant::now() >= deadline {
                return Err(format!(
                    "run {run}: {} of {subs} deliveries after {:.0} s",
                    receiver.count() - before,
                    timeout.as_secs_f64()
                ));
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        };
        let mut times: Vec<f64> = deliveries
            .iter()
            .map(|at| at.duration_since(t0).as_secs_f64())
            .collect();
        times.sort_by(f64::total_cmp);
        let last = times[subs - 1];
        let first = times[0];
        emit(&json!({
            "bench": "fanout",
            "run": run,
            "subs": subs,
            "accepted_ms": accepted.as_secs_f64() * 1000.0,
            "first_ms": first * 1000.0,
            "median_ms": times[subs / 2] * 1000.0,
            "last_ms": last * 1000.0,
            "deliveries_per_s": subs as f64 / last,
        }));
        eprintln!(
            "fanout: run {run}: {subs} deliveries, last after {:.0} ms ({:.0}/s)",
            last * 1000.0,
            subs as f64 / last
        );
        // Nothing else should arrive (no duplicates) before the next event.
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    Ok(())
}

fn coldstart(opts: &Opts) -> Result<(), String> {
    let workerd = opts.str("workerd")?;
    let config = opts.str("config")?;
    let addr = socket_of(opts.str("url")?)?;
    let path = opts.str_or("path", "/health");
    let label = opts.str("label")?;
    let runs = opts.num("runs", 5)?;
    let log = opts.str_or("log", "/dev/null");
    for run in 0..runs {
        // The port must be free (the previous workerd gone) before starting again.
        let free_by = Instant::now() + Duration::from_secs(10);
        while get_status(addr, path).is_some() {
            if Instant::now() > free_by {
                return Err(format!("{addr} is still answering before start {run}"));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let out = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .map_err(|e| format!("{log}: {e}"))?;
        let err = out.try_clone().map_err(|e| e.to_string())?;
        let t0 = Instant::now();
        let mut child = Command::new(workerd)
            .args(["serve", config])
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .map_err(|e| format!("spawn {workerd}: {e}"))?;
        let deadline = t0 + Duration::from_secs(30);
        let ready = loop {
            if get_status(addr, path) == Some(200) {
                break Some(t0.elapsed());
            }
            if Instant::now() > deadline || child.try_wait().ok().flatten().is_some() {
                break None;
            }
            std::thread::sleep(Duration::from_millis(1));
        };
        let _ = child.kill();
        let _ = child.wait();
        let Some(ready) = ready else {
            return Err(format!(
                "{label}: no 200 from {path} within 30 s (log: {log})"
            ));
        };
        emit(&json!({"bench": label, "run": run, "ms": ready.as_secs_f64() * 1000.0}));
    }
    Ok(())
}

// ---- summary -------------------------------------------------------------------------------

fn median(mut v: Vec<f64>) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    })
}

fn summarise(opts: &Opts) -> Result<(), String> {
    let path = opts.str("results")?;
    let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
    let mut by: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for line in text.lines().filter(|l| l.trim_start().starts_with('{')) {
        let v: Value = serde_json::from_str(line).map_err(|e| format!("{line}: {e}"))?;
        let label = v["bench"].as_str().unwrap_or("").to_owned();
        by.entry(label).or_default().push(v);
    }
    let field = |label: &str, name: &str| -> Vec<f64> {
        by.get(label)
            .map(|rows| rows.iter().filter_map(|r| r[name].as_f64()).collect())
            .unwrap_or_default()
    };
    let med = |label: &str, name: &str| median(field(label, name));
    let fmt = |v: Option<f64>, digits: usize| match v {
        Some(x) => format!("{x:.digits$}"),
        None => "–".into(),
    };

    let mut out = String::new();
    let hello_runs = field("hello", "rps");
    // Each round runs every scenario once, hello first: the ratio of a round is its rate over
    // that round's hello rate, so a slow spell of the machine hits both sides.
    let per_round_ratio = |rates: &[f64]| {
        median(
            rates
                .iter()
                .zip(&hello_runs)
                .filter(|(_, h)| **h > 0.0)
                .map(|(r, h)| r / h)
                .collect(),
        )
    };
    out.push_str("| scenario | runs | requests/s (median) | min – max | × hello (median of rounds) | p50 ms | p99 ms | non-2xx |\n");
    out.push_str("|---|---|---|---|---|---|---|---|\n");
    let scenarios = [
        ("hello", "hello world `GET /` (baseline)"),
        ("floor-1", "floor: 1 object call + 1 insert, 1 resource"),
        ("floor-16", "floor: 1 object call + 1 insert, 16 resources"),
        ("publish-1", "publish, 1 resource"),
        ("publish-16", "publish, 16 resources"),
        (
            "batch-100",
            "publish a batch of 100, 16 resources (one per request)",
        ),
        ("read", "read, page of 50"),
    ];
    let mut ratios = BTreeMap::new();
    for (label, name) in scenarios {
        let rps = field(label, "rps");
        if rps.is_empty() {
            continue;
        }
        let min = rps.iter().copied().fold(f64::INFINITY, f64::min);
        let max = rps.iter().copied().fold(0.0, f64::max);
        let m = median(rps.clone());
        let ratio = per_round_ratio(&rps);
        ratios.insert(label, ratio);
        let non2xx: f64 = field(label, "non2xx").iter().sum::<f64>()
            + field(label, "timeouts").iter().sum::<f64>();
        out.push_str(&format!(
            "| {name} | {} | {} | {:.0} – {:.0} | {} | {} | {} | {non2xx:.0} |\n",
            rps.len(),
            fmt(m, 0),
            min,
            max,
            fmt(ratio, 3),
            fmt(med(label, "p50_ms"), 2),
            fmt(med(label, "p99_ms"), 2),
        ));
    }

    // Events stored per second: a batch counts its events of 200 answers only (the wrk script
    // counts those per thread); a single publish stores one event per 2xx answer.
    let batch_events = field("batch-100", "events_per_s");
    let mut batch_ratio = None;
    if !batch_events.is_empty() {
        let single: Vec<f64> = by
            .get("publish-16")
            .map(|rows| {
                rows.iter()
                    .filter_map(|r| {
                        let secs = r["seconds"].as_f64()?;
                        let ok = r["requests"].as_f64()? - r["non2xx"].as_f64()?;
                        (secs > 0.0).then(|| ok / secs)
                    })
                    .collect()
            })
            .unwrap_or_default();
        batch_ratio = per_round_ratio(&batch_events);
        out.push_str("\n| events stored | runs | events/s (median) | min – max | × hello requests/s (median of rounds) |\n");
        out.push_str("|---|---|---|---|---|\n");
        for (name, events, ratio) in [
            (
                "publish, 16 resources (1 event per request)",
                &single,
                per_round_ratio(&single),
            ),
            (
                "publish a batch of 100, 16 resources",
                &batch_events,
                batch_ratio,
            ),
        ] {
            if events.is_empty() {
                continue;
            }
            out.push_str(&format!(
                "| {name} | {} | {} | {:.0} – {:.0} | {} |\n",
                events.len(),
                fmt(median(events.clone()), 0),
                events.iter().copied().fold(f64::INFINITY, f64::min),
                events.iter().copied().fold(0.0, f64::max),
                fmt(ratio, 2),
            ));
        }
    }

    if by.contains_key("fanout") {
        out.push_str("\n| fan-out | runs | first delivery ms | median delivery ms | last delivery ms | deliveries/s |\n");
        out.push_str("|---|---|---|---|---|---|\n");
        let subs = field("fanout", "subs").first().copied().unwrap_or(0.0);
        out.push_str(&format!(
            "| 1 event → {subs:.0} validated subscriptions | {} | {} | {} | {} | {} |\n",
            field("fanout", "last_ms").len(),
            fmt(med("fanout", "first_ms"), 0),
            fmt(med("fanout", "median_ms"), 0),
            fmt(med("fanout", "last_ms"), 0),
            fmt(med("fanout", "deliveries_per_s"), 0),
        ));
        if let Some(s) = by.get("fanout-setup").and_then(|r| r.first()) {
            out.push_str(&format!(
                "\nSet-up: {} subscriptions created in {:.1} s, all validated after {:.1} s.\n",
                s["subs"],
                s["create_seconds"].as_f64().unwrap_or(0.0),
                s["validated_seconds"].as_f64().unwrap_or(0.0)
            ));
        }
    }

    let steady = by.get("steady").cloned().unwrap_or_default();
    if !steady.is_empty() {
        out.push_str("\n| steady load, publish due → webhook received | events | deliveries | p50 ms | p99 ms | max ms | publish p50 / p99 ms | target |\n");
        out.push_str("|---|---|---|---|---|---|---|---|\n");
    }
    for s in &steady {
        let num = |k: &str| s[k].as_f64().unwrap_or(f64::NAN);
        let met = num("delivered") >= num("deliveries_expected")
            && num("p50_ms") <= 1000.0
            && num("p99_ms") <= 5000.0;
        out.push_str(&format!(
            "| {}: {} events/s for {} s over {} resources × {} subscriptions | {} | {} of {} | {} | {} | {} | {} / {} | p50 ≤ 1 s, p99 ≤ 5 s, all delivered: {} |\n",
            s["runtime"].as_str().unwrap_or("workerd"),
            s["offered_rate"],
            s["seconds"],
            s["resources"],
            s["subs_per_resource"],
            s["events"],
            s["delivered"],
            s["deliveries_expected"],
            fmt(Some(num("p50_ms")), 0),
            fmt(Some(num("p99_ms")), 0),
            fmt(Some(num("max_ms")), 0),
            fmt(Some(num("publish_p50_ms")), 0),
            fmt(Some(num("publish_p99_ms")), 0),
            if met { "met" } else { "missed" },
        ));
    }

    out.push_str("\n| size and start | value | target |\n|---|---|---|\n");
    for (label, name) in [
        ("size-service", "service `index_bg.wasm`"),
        ("size-hello", "hello world `index_bg.wasm`"),
    ] {
        if let Some(r) = by.get(label).and_then(|r| r.first()) {
            let gz = r["gzip_bytes"].as_f64().unwrap_or(0.0);
            let target = if label == "size-service" {
                if gz < 1_048_576.0 {
                    "< 1 MiB: met"
                } else {
                    "< 1 MiB: missed"
                }
            } else {
                ""
            };
            out.push_str(&format!(
                "| {name}, gzip -9 | {:.0} KiB ({} bytes; raw {} bytes) | {target} |\n",
                gz / 1024.0,
                r["gzip_bytes"],
                r["raw_bytes"]
            ));
        }
    }
    for (label, name) in [
        (
            "coldstart-service",
            "cold start, service (spawn → first 200 of `GET /health`)",
        ),
        (
            "coldstart-hello",
            "cold start, hello world (spawn → first 200 of `GET /`)",
        ),
    ] {
        let v = field(label, "ms");
        if !v.is_empty() {
            out.push_str(&format!(
                "| {name}, median of {} | {} ms | |\n",
                v.len(),
                fmt(median(v), 0)
            ));
        }
    }

    out.push_str("\nTargets: ");
    let verdict = |r: Option<&Option<f64>>| match r.copied().flatten() {
        Some(x) if x >= 0.3 => format!("{x:.2}× — met"),
        Some(x) => format!("{x:.2}× — missed"),
        None => "not measured".into(),
    };
    out.push_str(&format!(
        "publish ≥ 0.3× hello: 16 resources {}, 1 resource {}; read ≥ 0.3× hello: {}.\n",
        verdict(ratios.get("publish-16")),
        verdict(ratios.get("publish-1")),
        verdict(ratios.get("read")),
    ));
    if !batch_events.is_empty() {
        out.push_str(&format!(
            "Batch of 100: events stored/s ≥ 5× hello requests/s: {}.\n",
            match batch_ratio {
                Some(x) if x >= 5.0 => format!("{x:.2}× — met"),
                Some(x) => format!("{x:.2}× — missed"),
                None => "not measured".into(),
            }
        ));
    }
    if let (Some(Some(p)), Some(Some(f))) = (ratios.get("publish-16"), ratios.get("floor-16")) {
        out.push_str(&format!(
            "Publish (16 resources) runs at {:.2}× the one-object floor (16 resources).\n",
            p / f
        ));
    }
    out.push_str(&stream::summary(&by));
    print!("{out}");
    Ok(())
}
