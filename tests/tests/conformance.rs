//! Conformance of the live worker to its own OpenAPI document: schemathesis (PyPI, installed by
//! `scripts/setup` into `target/venv`) loads `GET /events/api/v1/openapi.json` from the worker
//! under `wrangler dev` and sends generated requests to every operation, once without
//! credentials and once with valid tokens. A run fails on any 5xx, any status code, content
//! type, header or body the document does not allow, and any request that takes longer than the
//! request timeout. Run with `cargo test -p altinn-events-tests --test conformance`.
//!
//! Knobs (environment): `CONFORMANCE_EXAMPLES` (examples per operation and phase, default 15),
//! `CONFORMANCE_SEED` (default 1: the same run every time; any number explores other inputs).

use std::path::{Path, PathBuf};
use std::process::{ExitCode, Stdio};
use std::time::{Duration, Instant};

use altinn_events_tests::fixtures::{platform_token, put_policy, PUBLISH, SUBSCRIBE};
use altinn_events_tests::{repo_root, Ctx, Suite, TokenSpec};
use serde_json::{json, Value};
use tokio::process::Command;

/// The checks this run enforces: what the issue calls "no 5xx, no response that contradicts the
/// document (status code, content type, schema)", plus the documented response headers.
const CHECKS: &str = "not_a_server_error,status_code_conformance,content_type_conformance,\
                      response_headers_conformance,response_schema_conformance";

/// Upper bound on one whole run; a run that exceeds it is a hang and fails the test.
const RUN_LIMIT: Duration = Duration::from_secs(20 * 60);

fn main() -> ExitCode {
    let mut suite = Suite::new();
    suite.test("schemathesis_without_credentials", |ctx| async move {
        run(&ctx, "anonymous", &Credentials::None).await;
    });
    suite.test("schemathesis_with_tokens", |ctx| async move {
        // The document's example resource belongs to ttd, so the example subscription is
        // created (201) and its body checked against the CreatedSubscription schema; the
        // subscriptions created here are ttd's, so the operations on one subscription (its
        // secret, attempts, enable, replay) answer 200 for the ids that exist and 404 otherwise.
        put_policy(&ctx.client(), "ttd-demo", json!({"owner": "ttd"})).await;
        // Everything but registering app events, which needs the app's own platform token.
        let platform = platform_token();
        run(
            &ctx,
            "tokens",
            &Credentials::Tokens {
                platform,
                only: None,
                skip: Some(APP_EVENT),
            },
        )
        .await;
    });
    suite.test(
        "schemathesis_app_events_with_the_app_token",
        |ctx| async move {
            let platform = TokenSpec::platform("ttd", "apps-test").mint();
            run(
                &ctx,
                "app",
                &Credentials::Tokens {
                    platform,
                    only: Some(APP_EVENT),
                    skip: None,
                },
            )
            .await;
        },
    );
    suite.run()
}

/// The operation that registers an app event (`POST /events/api/v1/app`).
const APP_EVENT: &str = "publishAppEvent";

enum Credentials {
    None,
    /// The org token (with every scope) as Bearer and cookie, and this platform token, applied
    /// by schemathesis per operation as its `security` asks; optionally one operation only, or
    /// all but one.
    Tokens {
        platform: String,
        only: Option<&'static str>,
        skip: Option<&'static str>,
    },
}

fn schemathesis() -> PathBuf {
    repo_root().join("target/venv/bin/schemathesis")
}

async fn run(ctx: &Ctx, name: &str, credentials: &Credentials) {
    let bin = schemathesis();
    assert!(
        bin.exists(),
        "{} is missing: run scripts/setup (it installs schemathesis into target/venv)",
        bin.display()
    );
    let examples = std::env::var("CONFORMANCE_EXAMPLES").unwrap_or_else(|_| "15".to_owned());
    let seed = std::env::var("CONFORMANCE_SEED").unwrap_or_else(|_| "1".to_owned());
    let out_dir = repo_root().join("target/conformance");
    std::fs::create_dir_all(&out_dir).expect("create target/conformance");
    let report = out_dir.join(format!("{name}.json"));
    let _ = std::fs::remove_file(&report);

    let mut cmd = Command::new(&bin);
    let mut filters: Vec<&str> = Vec::new();
    if let Credentials::Tokens {
        platform,
        only,
        skip,
    } = credentials
    {
        let bearer = TokenSpec::org("ttd")
            .scope(&format!("{PUBLISH} {PUBLISH}.admin {SUBSCRIBE}"))
            .mint();
        cmd.arg("--config-file")
            .arg(repo_root().join("tests/conformance/with-tokens.toml"))
            .env("CONFORMANCE_BEARER", bearer)
            .env("CONFORMANCE_PLATFORM", platform);
        if let Some(id) = only {
            filters.extend(["--include-operation-id", id]);
        }
        if let Some(id) = skip {
            filters.extend(["--exclude-operation-id", id]);
        }
    }
    cmd.arg("run")
        .arg(ctx.url("/events/api/v1/openapi.json"))
        .args(&filters)
        .args(["--checks", CHECKS])
        .args(["--max-examples", &examples])
        .args(["--seed", &seed])
        .args(["--request-timeout", "20"])
        .args(["--phases", "examples,coverage,fuzzing"])
        .args(["--report", "json"])
        .arg("--report-json-path")
        .arg(&report)
        .args(["--output-truncate", "false"])
        .current_dir(&out_dir)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .kill_on_drop(true);
    let started = Instant::now();
    let output = tokio::time::timeout(RUN_LIMIT, cmd.output())
        .await
        .unwrap_or_else(|_| panic!("schemathesis ({name}) did not finish within {RUN_LIMIT:?}"))
        .expect("start schemathesis");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    eprintln!(
        "--- schemathesis ({name}), {:.0} s ---\n{stdout}\n{stderr}",
        started.elapsed().as_secs_f64()
    );
    let summary = summarise(&report);
    eprintln!("conformance ({name}): {summary}");
    assert!(
        output.status.success(),
        "schemathesis ({name}) found problems (exit {:?}); see the output above and {}; worker log: {}",
        output.status.code(),
        report.display(),
        ctx.server().log_path().display()
    );
}

/// "N operations, M test cases, ..." from the JSON report, for the README's figures.
fn summarise(report: &Path) -> String {
    let Ok(text) = std::fs::read_to_string(report) else {
        return format!("no report at {}", report.display());
    };
    let Ok(v) = serde_json::from_str::<Value>(&text) else {
        return format!("the report at {} is not JSON", report.display());
    };
    format!(
        "{} operations tested, {} test cases generated, {} with failures, {} errored, {:.0} s",
        v["operations"]["tested"],
        v["test_cases"]["generated"],
        v["test_cases"]["with_failures"],
        v["test_cases"]["errored"],
        v["running_time"].as_f64().unwrap_or(0.0)
    )
}
