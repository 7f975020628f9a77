//! The web console at `/events/console/` (issue 16): a React + Designsystemet single-page app
//! served as static assets (built by scripts/console-build, assembled by scripts/assets), driven in
//! Debian's headless Chromium by `tests/browser/console.mjs` (playwright-core) against `wrangler dev`
//! and a loopback webhook receiver: sign in, create a subscription, publish, see the delivery in
//! the attempt log, make the endpoint fail, see the dead letter, redeliver it, see it arrive; axe
//! on every view; screenshots in `target/console/`. This file steers the receiver when the script
//! asks and checks what the receiver really got. Chromium missing is a failure, not a skip.
//! Run with `cargo test -p altinn-events-tests --test console`.

use std::path::Path;
use std::process::{ExitCode, Stdio};
use std::time::{Duration, Instant};

use altinn_events_tests::fixtures::{delivered_ids, org_token, put_policy, resource_urn, unique};
use altinn_events_tests::{browser, repo_root, Suite, TestReceiver};
use serde_json::json;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

const CONSOLE: &str = "/events/console/";
const BROWSER_TIMEOUT: Duration = Duration::from_secs(180);

fn main() -> ExitCode {
    // Three attempts, a second apart: a failing endpoint dead-letters an event within seconds.
    let mut suite = Suite::with_vars(&[("DELIVERY_RETRY_DELAYS", "1,1")]);

    suite.test("console_is_served_as_assets", |ctx| async move {
        let c = ctx.client();
        let page = c.get(CONSOLE).send().await;
        page.assert_status(200);
        let content_type = page.header("content-type").unwrap_or_default();
        assert!(content_type.starts_with("text/html"), "{content_type}");
        let csp = page.header("content-security-policy").unwrap_or_default();
        for directive in [
            "default-src 'none'",
            "script-src 'self'",
            "connect-src 'self'",
            "frame-ancestors 'none'",
        ] {
            assert!(csp.contains(directive), "{directive} missing in {csp}");
        }
        assert_eq!(
            page.header("referrer-policy").as_deref(),
            Some("no-referrer")
        );
        assert!(
            !page.body.contains("://"),
            "the page links nothing absolute"
        );
        // Its script and stylesheet are the worker's own files, at hashed paths.
        let assets: Vec<&str> = page
            .body
            .split('"')
            .filter(|s| s.starts_with("/events/console/assets/"))
            .collect();
        assert_eq!(assets.len(), 2, "{}", page.body);
        for path in assets {
            let r = c.get(path).send().await;
            r.assert_status(200);
            let kind = r.header("content-type").unwrap_or_default();
            assert!(
                kind.contains("javascript") || kind.contains("text/css"),
                "{path}: {kind}"
            );
            let cache = r.header("cache-control").unwrap_or_default();
            assert!(cache.contains("immutable"), "{path}: {cache}");
        }
        // Without the slash, and by file name: redirected to the one address.
        for alias in ["/events/console", "/events/console/index.html"] {
            let r = c.get(alias).send().await;
            assert_eq!(
                (r.status, r.header("location").as_deref()),
                (307, Some(CONSOLE)),
                "{alias}"
            );
        }
        // Views are hash routes; a path that is no file still reaches the worker.
        let r = c.get("/events/console/no-such-page").send().await;
        assert_eq!((r.status, r.body.as_str()), (404, ""));
    });

    suite.test("console_in_chromium", |ctx| async move {
        let root = repo_root();
        let node = browser::node();
        let client = ctx.client();
        let resource_id = unique("console");
        put_policy(&client, &resource_id, json!({ "owner": "ttd" })).await;
        let resource = resource_urn(&resource_id);
        let receiver = TestReceiver::start();
        let ids = [unique("delivered"), unique("followed"), unique("dead")];

        let shots = root.join("target").join("console");
        let _ = std::fs::remove_dir_all(&shots);
        let started = Instant::now();
        let mut command = tokio::process::Command::new(&node);
        command
            .current_dir(&root)
            .arg(root.join("tests").join("browser").join("console.mjs"))
            .arg(ctx.base_url())
            .arg(&shots)
            .env("CONSOLE_TOKEN", org_token("ttd"))
            .env("RECEIVER_URL", receiver.url_path("/hook"))
            .env("RESOURCE", &resource)
            .env("EVENT_IDS", ids.join(","))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            // Its own process group, so a timeout kills Chromium too.
            .process_group(0)
            .kill_on_drop(true);
        let mut child = command.spawn().expect("spawning node");
        let pgid = child.id().map(|id| id as i32);
        let mut stdin = child.stdin.take().expect("stdin");
        let stdout = child.stdout.take().expect("stdout");
        let mut stderr = child.stderr.take().expect("stderr");
        let errors = tokio::spawn(async move {
            let mut text = String::new();
            let _ = tokio::io::AsyncReadExt::read_to_string(&mut stderr, &mut text).await;
            text
        });

        // The script's output, line by line; `CONTROL fail|heal` steers the receiver.
        let run = async {
            let mut lines = BufReader::new(stdout).lines();
            let mut out = String::new();
            while let Ok(Some(line)) = lines.next_line().await {
                out.push_str(&line);
                out.push('\n');
                if let Some(what) = line.strip_prefix("CONTROL ") {
                    match what {
                        "fail" => receiver.respond_with(503),
                        "heal" => receiver.reset_behaviour(),
                        other => panic!("unknown control {other:?}"),
                    }
                    let _ = stdin.write_all(format!("ok {what}\n").as_bytes()).await;
                    let _ = stdin.flush().await;
                }
            }
            let status = child.wait().await.expect("waiting for node");
            (status, out)
        };
        let (status, stdout) = match tokio::time::timeout(BROWSER_TIMEOUT, run).await {
            Ok(done) => done,
            Err(_) => {
                if let Some(pgid) = pgid {
                    // SAFETY: a plain syscall on the process group spawned above.
                    unsafe { libc::killpg(pgid, libc::SIGKILL) };
                }
                panic!("tests/browser/console.mjs ran longer than {BROWSER_TIMEOUT:?}");
            }
        };
        let stderr = errors.await.unwrap_or_default();
        eprintln!(
            "tests/browser/console.mjs took {:.1} s:\n{stdout}{stderr}",
            started.elapsed().as_secs_f64()
        );
        assert!(
            status.success(),
            "tests/browser/console.mjs failed ({status}):\n{stdout}{stderr}"
        );
        assert!(
            stdout.lines().any(|l| l == "console OK"),
            "no verdict:\n{stdout}"
        );

        // What the endpoint really got: the validation event, the two events, the third one's
        // three refused attempts and its redelivery, then the replay of all three.
        let [delivered, followed, dead] = &ids;
        let requests = receiver
            .wait_for(1 + 2 + 4 + 3, Duration::from_secs(20))
            .await;
        let got: Vec<(String, u16)> = requests
            .iter()
            .filter(|r| r.json()["type"] != "platform.events.validatesubscription")
            .map(|r| {
                (
                    r.json()["id"].as_str().unwrap_or_default().to_owned(),
                    r.answered,
                )
            })
            .collect();
        let want: Vec<(String, u16)> = [
            (delivered, 200),
            (followed, 200),
            (dead, 503),
            (dead, 503),
            (dead, 503),
            (dead, 200),
            (delivered, 200),
            (followed, 200),
            (dead, 200),
        ]
        .into_iter()
        .map(|(id, s)| (id.clone(), s))
        .collect();
        assert_eq!(got, want, "{:?}", delivered_ids(&requests));
        assert!(
            requests.iter().all(|r| r.path == "/hook"),
            "every delivery to the subscription's endpoint"
        );
        assert!(stdout.contains("REPLAYED 3"), "{stdout}");

        for view in [
            "signin",
            "subscriptions",
            "events",
            "subscription-dead-letter",
            "subscription",
            "readme",
        ] {
            assert_png(&shots.join(format!("{view}.png")));
        }
        assert!(
            stdout.contains("axe checked 5 views"),
            "every view checked with axe:\n{stdout}"
        );
    });

    suite.run()
}

/// A PNG at least as large as the 1280x800 viewport.
fn assert_png(path: &Path) {
    let (width, height) = browser::png_size(path);
    assert!(
        width >= 1280 && height >= 800,
        "{}: {width}x{height}",
        path.display()
    );
}
