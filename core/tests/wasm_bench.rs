//! The wasm32 column of the core benchmarks (BENCHMARKS.md, `## Core`): the workloads of
//! `benches/core.rs`, compiled to wasm32-unknown-unknown and timed in Node with
//! `performance.now()`. Not a test: both functions are `#[ignore]`d, so the normal test run
//! (`cargo test -p altinn-events-core --target wasm32-unknown-unknown`) only lists them.
//!
//! ```sh
//! # full run (about a minute and a half)
//! cargo test --release -p altinn-events-core --target wasm32-unknown-unknown \
//!     --test wasm_bench -- --include-ignored --nocapture bench_full
//! # smoke: every measurement once, small matching sizes only
//! cargo test --release -p altinn-events-core --target wasm32-unknown-unknown \
//!     --test wasm_bench -- --include-ignored --nocapture bench_smoke
//! ```
//!
//! (`--include-ignored` plus a name filter, not `--ignored`: wasm-bindgen-test-runner 0.2.129
//! selects ignored tests with `--ignored` but then skips them as ignored.)
//!
//! Each measurement is calibrated to a batch of at least `FULL.min_batch_ms`, then repeated;
//! the figures are medians over the repetitions (ns per operation). Parsing and authorization
//! alternate batch by batch with their baselines; matching runs the index and the linear scan
//! one after the other (a scan batch would evict the index from the caches).

// Benchmark code: a broken input should stop the run loudly.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![cfg(target_arch = "wasm32")]

#[path = "../benches/workloads.rs"]
mod workloads;

use std::hint::black_box;

use events_core::authz::builtin::evaluate;
use events_core::publish::validate_generic_event;
use events_core::CloudEvent;
use wasm_bindgen_test::{console_log, wasm_bindgen_test, Instant};

struct Settings {
    /// Repetitions of each batch; medians are taken over them.
    reps: usize,
    /// Calibrate batches to last at least this long (0: one operation per batch).
    min_batch_ms: f64,
    /// Subscription counts of the matching measurement.
    sizes: &'static [usize],
    /// The linear-scan baseline runs up to this count.
    linear_max: usize,
}

const FULL: Settings = Settings {
    reps: 9,
    min_batch_ms: 40.0,
    sizes: &[10, 1_000, 100_000, 1_000_000],
    linear_max: 100_000,
};

const SMOKE: Settings = Settings {
    reps: 1,
    min_batch_ms: 0.0,
    sizes: &[10, 1_000],
    linear_max: 1_000,
};

#[wasm_bindgen_test]
#[ignore = "a benchmark: run with --include-ignored bench_full"]
fn bench_full() {
    run(&FULL);
}

#[wasm_bindgen_test]
#[ignore = "a benchmark smoke run: run with --include-ignored bench_smoke"]
fn bench_smoke() {
    run(&SMOKE);
}

fn run(s: &Settings) {
    cloudevent_parse(s);
    matching(s);
    authz(s);
}

fn elapsed_ms(start: Instant) -> f64 {
    start.elapsed().as_secs_f64() * 1e3
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    match n {
        0 => f64::NAN,
        _ if n % 2 == 1 => values[n / 2],
        _ => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}

/// Operations per batch so that one batch of `op` lasts at least `min_batch_ms`.
fn calibrate(s: &Settings, op: &mut dyn FnMut()) -> usize {
    let mut iters = 1usize;
    if s.min_batch_ms <= 0.0 {
        return iters;
    }
    loop {
        let start = Instant::now();
        for _ in 0..iters {
            op();
        }
        if elapsed_ms(start) >= s.min_batch_ms || iters >= 1 << 30 {
            return iters;
        }
        iters *= 2;
    }
}

/// Median ns per operation of each of `ops`, their batches alternating.
fn measure(s: &Settings, ops: &mut [&mut dyn FnMut()]) -> Vec<f64> {
    let iters: Vec<usize> = ops.iter_mut().map(|op| calibrate(s, *op)).collect();
    let mut samples = vec![Vec::with_capacity(s.reps); ops.len()];
    for _ in 0..s.reps {
        for ((op, &n), samples) in ops.iter_mut().zip(&iters).zip(&mut samples) {
            let start = Instant::now();
            for _ in 0..n {
                op();
            }
            samples.push(elapsed_ms(start) * 1e6 / n as f64);
        }
    }
    samples.into_iter().map(median).collect()
}

fn cloudevent_parse(s: &Settings) {
    let body = workloads::cloud_event_json();
    let event = CloudEvent::parse(&body).expect("bench event parses");
    validate_generic_event(&event).expect("bench event is a valid generic event");
    let mut value = || {
        black_box(serde_json::from_slice::<serde_json::Value>(black_box(&body)).ok());
    };
    let mut ours = || {
        let e = CloudEvent::parse(black_box(&body)).ok();
        black_box(e.as_ref().map(validate_generic_event));
    };
    let t = measure(s, &mut [&mut value, &mut ours]);
    let (base, ours) = (t[0], t[1]);
    console_log!(
        "wasm cloudevent_parse ({} bytes): serde_json Value {base:.0} ns, parse+validate {ours:.0} ns: rate ratio {:.2} (target >= 0.5: {})",
        body.len(),
        base / ours,
        if base / ours >= 0.5 { "met" } else { "MISSED" }
    );
}

fn matching(s: &Settings) {
    let mut per_event = Vec::new();
    for &n in s.sizes {
        let start = Instant::now();
        let subs = workloads::subscriptions(n);
        let events = workloads::events(&subs);
        let index = workloads::index(&subs);
        let built = elapsed_ms(start);
        let mask = events.len() - 1;
        let mut out = Vec::new();
        let mut i = 0;
        let mut indexed = || {
            i = (i + 1) & mask;
            index.matches(&events.key(i), &mut out);
            black_box(out.len());
        };
        let mut scan_out = Vec::new();
        let mut j = 0;
        let mut scan = || {
            j = (j + 1) & mask;
            workloads::linear_scan(&subs, &events.key(j), &mut scan_out);
            black_box(scan_out.len());
        };
        // Not alternated: a scan batch would evict the index from the caches.
        let t = measure(s, &mut [&mut indexed])[0];
        let scan = if n <= s.linear_max {
            let scan = measure(s, &mut [&mut scan])[0];
            format!(", linear scan {scan:.0} ns ({:.0}x)", scan / t)
        } else {
            String::new()
        };
        console_log!("wasm matching N = {n}: {t:.0} ns/event{scan} (index built in {built:.0} ms)");
        per_event.push((n, t));
    }
    let at = |n| per_event.iter().find(|&&(m, _)| m == n).map(|&(_, t)| t);
    if let (Some(small), Some(large)) = (at(1_000), at(1_000_000)) {
        console_log!(
            "wasm matching flatness 1 000 -> 1 000 000: {:.2}x (target <= 2: {})",
            large / small,
            if large / small <= 2.0 {
                "met"
            } else {
                "MISSED"
            }
        );
    }
}

fn authz(s: &Settings) {
    let w = workloads::authz_workload();
    let mut ours = || {
        black_box(evaluate(&w.request(), black_box(&w.data)));
    };
    let mut remote = || {
        black_box(serde_json::to_vec(&w.request()).ok());
    };
    let t = measure(s, &mut [&mut ours, &mut remote]);
    console_log!(
        "wasm authz: build+evaluate {} events {:.1} us, build+JSON for a remote PDP {:.1} us: ratio {:.2}",
        workloads::AUTHZ_EVENTS,
        t[0] / 1e3,
        t[1] / 1e3,
        t[0] / t[1]
    );
}
