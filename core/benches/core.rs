//! Core benchmarks (issue 6), natively with criterion; each group measures its baseline in the
//! same run, and the end of a full run prints the ratios (see BENCHMARKS.md, `## Core`).
//!
//! ```sh
//! cargo bench -p altinn-events-core --bench core            # full run (a few minutes)
//! cargo bench -p altinn-events-core --bench core -- --test  # smoke: every benchmark once
//! cargo bench -p altinn-events-core --bench core -- matching # one group
//! ```
//!
//! - `cloudevent_parse`: `CloudEvent::parse` + `validate_generic_event` of a ~1 KiB event vs
//!   `serde_json::from_slice::<Value>` of the same bytes.
//! - `matching`: `SubscriptionIndex::matches`, one event per iteration from a fixed stream, for
//!   10 … 1 000 000 subscriptions; baseline: a linear scan of the subscriptions (up to 100 000).
//! - `authz`: build a 50-event multi-decision request and evaluate it with the built-in PDP;
//!   baseline: build it and write its JSON for a remote PDP.
//!
//! The inputs come from `workloads.rs`, shared with the wasm32 column (`tests/wasm_bench.rs`).

// Benchmark code: a broken input should stop the run loudly.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[cfg(not(target_arch = "wasm32"))]
#[path = "workloads.rs"]
mod workloads;

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    native::main();
}

/// criterion is a native-only dev-dependency; the wasm32 column lives in `tests/wasm_bench.rs`.
#[cfg(target_arch = "wasm32")]
fn main() {}

#[cfg(not(target_arch = "wasm32"))]
mod native {
    use std::collections::BTreeMap;
    use std::hint::black_box;
    use std::path::{Path, PathBuf};
    use std::time::{Duration, Instant, SystemTime};

    use criterion::{BenchmarkId, Criterion, Throughput};
    use events_core::authz::builtin::evaluate;
    use events_core::publish::validate_generic_event;
    use events_core::CloudEvent;

    use crate::workloads;

    /// Subscription counts of the `matching` group.
    const SIZES: [usize; 4] = [10, 1_000, 100_000, 1_000_000];
    /// The linear-scan baseline stops here (1 000 000 would take ~seconds per sample).
    const LINEAR_MAX: usize = 100_000;

    pub fn main() {
        let out_dir = criterion_dir();
        let started = SystemTime::now();
        let args: Vec<String> = std::env::args().collect();
        let smoke = args.iter().any(|a| a == "--test" || a == "--list");
        let mut c = Criterion::default()
            .output_directory(&out_dir)
            .warm_up_time(Duration::from_secs(1))
            .measurement_time(Duration::from_secs(3))
            .configure_from_args();
        cloudevent_parse(&mut c);
        matching(&mut c, smoke);
        authz(&mut c);
        c.final_summary();
        if !smoke {
            summary(&out_dir, started);
        }
    }

    fn cloudevent_parse(c: &mut Criterion) {
        let body = workloads::cloud_event_json();
        // The workload is what it claims to be: a valid generic event.
        let event = CloudEvent::parse(&body).expect("bench event parses");
        validate_generic_event(&event).expect("bench event is a valid generic event");
        let mut g = c.benchmark_group("cloudevent_parse");
        g.throughput(Throughput::Bytes(body.len() as u64));
        g.bench_function("serde_json_value", |b| {
            b.iter(|| serde_json::from_slice::<serde_json::Value>(black_box(&body)).ok())
        });
        g.bench_function("parse_validate", |b| {
            b.iter(|| {
                let e = CloudEvent::parse(black_box(&body)).ok()?;
                validate_generic_event(&e).ok()?;
                Some(e)
            })
        });
        g.finish();
    }

    fn matching(c: &mut Criterion, smoke: bool) {
        for n in SIZES {
            // Building the index of 1 000 000 takes a while: once per size, outside the loop.
            let t = Instant::now();
            let subs = workloads::subscriptions(n);
            let events = workloads::events(&subs);
            let index = workloads::index(&subs);
            let built = t.elapsed();
            if !smoke {
                let (matching, ids) = workloads::match_stats(&index, &events);
                eprintln!(
                    "matching: N = {n}: built in {:.2} s; {:.1} % of {} events match, {:.2} ids per event",
                    built.as_secs_f64(),
                    100.0 * matching as f64 / events.len() as f64,
                    events.len(),
                    ids as f64 / events.len() as f64,
                );
            }
            let mut g = c.benchmark_group("matching");
            g.throughput(Throughput::Elements(1));
            let mask = events.len() - 1;
            g.bench_with_input(BenchmarkId::new("index", n), &n, |b, _| {
                let mut out = Vec::new();
                let mut i = 0;
                b.iter(|| {
                    i = (i + 1) & mask;
                    index.matches(&events.key(i), &mut out);
                    out.len()
                })
            });
            if n <= LINEAR_MAX {
                g.bench_with_input(BenchmarkId::new("linear_scan", n), &n, |b, _| {
                    let mut out = Vec::new();
                    let mut i = 0;
                    b.iter(|| {
                        i = (i + 1) & mask;
                        workloads::linear_scan(&subs, &events.key(i), &mut out);
                        out.len()
                    })
                });
            }
            g.finish();
        }
    }

    fn authz(c: &mut Criterion) {
        let w = workloads::authz_workload();
        let response = evaluate(&w.request(), &w.data);
        assert_eq!(response.results.len(), workloads::AUTHZ_EVENTS);
        let mut g = c.benchmark_group("authz");
        g.throughput(Throughput::Elements(workloads::AUTHZ_EVENTS as u64));
        g.bench_function("build_evaluate_50", |b| {
            b.iter(|| {
                let request = w.request();
                evaluate(&request, black_box(&w.data))
            })
        });
        g.bench_function("build_to_json_50", |b| {
            b.iter(|| serde_json::to_vec(&w.request()).ok())
        });
        g.finish();
    }

    /// Where criterion writes its estimates: `$CRITERION_HOME`, else `$CARGO_TARGET_DIR/criterion`,
    /// else the workspace's `target/criterion`.
    fn criterion_dir() -> PathBuf {
        if let Some(home) = std::env::var_os("CRITERION_HOME") {
            return home.into();
        }
        let target = std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"));
        target.join("criterion")
    }

    /// The median (ns per iteration) of a benchmark measured by this run, if it was.
    fn median_ns(dir: &Path, id: &str, since: SystemTime) -> Option<f64> {
        let file = dir.join(id).join("new/estimates.json");
        let modified = std::fs::metadata(&file).ok()?.modified().ok()?;
        if modified < since {
            return None;
        }
        let json: serde_json::Value = serde_json::from_slice(&std::fs::read(file).ok()?).ok()?;
        json["median"]["point_estimate"].as_f64()
    }

    /// Ratios against the baselines of this run, from criterion's medians.
    fn summary(dir: &Path, since: SystemTime) {
        let m = |id: &str| median_ns(dir, id, since);
        let mut lines = BTreeMap::new();
        if let (Some(base), Some(ours)) = (
            m("cloudevent_parse/serde_json_value"),
            m("cloudevent_parse/parse_validate"),
        ) {
            lines.insert(
                1,
                format!(
                    "cloudevent_parse: parse+validate {ours:.0} ns, serde_json Value {base:.0} ns: rate ratio {:.2} (target >= 0.5: {})",
                    base / ours,
                    if base / ours >= 0.5 { "met" } else { "MISSED" }
                ),
            );
        }
        for n in SIZES {
            if let Some(t) = m(&format!("matching/index/{n}")) {
                let scan = m(&format!("matching/linear_scan/{n}"))
                    .map(|s| format!(", linear scan {s:.0} ns ({:.0}x)", s / t))
                    .unwrap_or_default();
                lines.insert(10 + n, format!("matching N = {n}: {t:.0} ns/event{scan}"));
            }
        }
        if let (Some(small), Some(large)) = (m("matching/index/1000"), m("matching/index/1000000"))
        {
            lines.insert(
                usize::MAX - 1,
                format!(
                    "matching flatness 1 000 -> 1 000 000: {:.2}x (target <= 2: {}); 1 000 000 under 2 us: {}",
                    large / small,
                    if large / small <= 2.0 { "met" } else { "MISSED" },
                    if large < 2000.0 { "met" } else { "MISSED" }
                ),
            );
        }
        if let (Some(ours), Some(json)) =
            (m("authz/build_evaluate_50"), m("authz/build_to_json_50"))
        {
            lines.insert(
                usize::MAX,
                format!(
                    "authz: build+evaluate 50 {:.1} us, build+JSON for a remote PDP {:.1} us: ratio {:.2}",
                    ours / 1000.0,
                    json / 1000.0,
                    ours / json
                ),
            );
        }
        if !lines.is_empty() {
            println!("\nsummary (criterion medians of this run):");
            for line in lines.values() {
                println!("  {line}");
            }
        }
    }
}
