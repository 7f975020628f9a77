//! The reference page `GET /events/api/v1/docs` (issue 11): Swagger UI served as static assets
//! (wrangler.toml `[assets]`, assembled by scripts/assets), opened in Debian's headless Chromium
//! by `tests/browser/docs.mjs` (playwright-core), which checks that every operation of the served
//! OpenAPI document is listed and the private ones are marked, and saves `target/docs-page.png`.
//! Run with `cargo test -p altinn-events-tests --test docs_page`. Chromium missing is a failure,
//! not a skip (scripts/setup installs it).

use std::path::Path;
use std::process::{ExitCode, Stdio};
use std::time::{Duration, Instant};

use altinn_events_tests::{browser, repo_root, Suite};
use serde_json::Value;

const PAGE: &str = "/events/api/v1/docs";
const DOCUMENT: &str = "/events/api/v1/openapi.json";
const BROWSER_TIMEOUT: Duration = Duration::from_secs(150);
const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// (operations, of which `x-altinn-private: true`) in an OpenAPI document.
fn count_operations(doc: &Value) -> (usize, usize) {
    let mut all = 0;
    let mut private = 0;
    if let Some(paths) = doc.get("paths").and_then(Value::as_object) {
        for item in paths.values() {
            for method in METHODS {
                if let Some(op) = item.get(method).filter(|op| op.is_object()) {
                    all += 1;
                    if op.get("x-altinn-private") == Some(&Value::Bool(true)) {
                        private += 1;
                    }
                }
            }
        }
    }
    (all, private)
}

fn main() -> ExitCode {
    let mut suite = Suite::new();

    // The page and its files are assets: served before the worker, at exactly these paths.
    suite.test("docs_page_is_served_as_assets", |ctx| async move {
        let c = ctx.client();
        let page = c.get(PAGE).send().await;
        page.assert_status(200);
        let content_type = page.header("content-type").unwrap_or_default();
        assert!(content_type.starts_with("text/html"), "{content_type}");
        assert!(page.body.contains("swagger-ui-bundle.js"), "{}", page.body);
        assert!(
            !page.body.contains("://"),
            "the page links nothing absolute"
        );
        let csp = page.header("content-security-policy").unwrap_or_default();
        assert!(
            csp.contains("script-src 'self'") && csp.contains("default-src 'none'"),
            "{csp}"
        );
        assert_eq!(
            c.request(reqwest::Method::HEAD, PAGE).send().await.status,
            200
        );

        for (path, kind) in [
            (
                "/events/api/v1/docs/swagger-ui/swagger-ui-bundle.js",
                "javascript",
            ),
            ("/events/api/v1/docs/swagger-ui/swagger-ui.css", "text/css"),
            ("/events/api/v1/docs/page.js", "javascript"),
            ("/events/api/v1/docs/page.css", "text/css"),
        ] {
            let r = c.get(path).send().await;
            r.assert_status(200);
            let got = r.header("content-type").unwrap_or_default();
            assert!(got.contains(kind), "{path}: {got}");
        }
        // A trailing slash or the file name is redirected to the one canonical path.
        for alias in ["/events/api/v1/docs/", "/events/api/v1/docs.html"] {
            let r = c.get(alias).send().await;
            assert_eq!(
                (r.status, r.header("location").as_deref()),
                (307, Some(PAGE)),
                "{alias}"
            );
        }
        // Other methods are answered by the assets layer, with the Allow the worker's 405s carry.
        for method in ["POST", "PUT", "DELETE", "OPTIONS"] {
            let m = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
            let r = c.request(m, PAGE).send().await;
            assert_eq!(
                (r.status, r.header("allow").as_deref()),
                (405, Some("GET, HEAD")),
                "{method} {PAGE}"
            );
        }
        // `_headers` is configuration, never served.
        assert_eq!(c.get("/_headers").send().await.status, 404);
    });

    // Paths that are no asset still reach the worker (not_found_handling stays "none").
    suite.test("other_paths_still_reach_the_worker", |ctx| async move {
        let c = ctx.client();
        let health = c.get("/health").send().await;
        health.assert_status(200);
        assert_eq!(health.body, "Healthy");
        for path in [
            "/events/api/v1/no-such-route",
            "/events/api/v1/docs/no-such-file.js",
            "/events/console/no-such-page",
        ] {
            let r = c.get(path).send().await;
            assert_eq!((r.status, r.body.as_str()), (404, ""), "{path}");
        }
        // An Altinn route is the worker's as before: 401 without a token.
        assert_eq!(
            c.get("/events/api/v1/events?resource=urn:altinn:resource:x&after=0")
                .send()
                .await
                .status,
            401
        );
    });

    suite.test("docs_page_in_chromium", |ctx| async move {
        let root = repo_root();
        let node = browser::node();
        let document = ctx.client().get(DOCUMENT).send().await;
        document.assert_status(200);
        let (operations, private) = count_operations(&document.json());
        assert!(operations > 0, "{DOCUMENT} lists no operation");

        let screenshot = root.join("target").join("docs-page.png");
        let _ = std::fs::remove_file(&screenshot);
        let started = Instant::now();
        let mut command = tokio::process::Command::new(&node);
        command
            .current_dir(&root)
            .arg(root.join("tests").join("browser").join("docs.mjs"))
            .arg(ctx.base_url())
            .arg(&screenshot)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            // Its own process group, so a timeout kills Chromium too.
            .process_group(0)
            .kill_on_drop(true);
        let child = command.spawn().expect("spawning node");
        let pgid = child.id().map(|id| id as i32);
        let output = match tokio::time::timeout(BROWSER_TIMEOUT, child.wait_with_output()).await {
            Ok(output) => output.expect("waiting for node"),
            Err(_) => {
                if let Some(pgid) = pgid {
                    // SAFETY: a plain syscall on the process group spawned above.
                    unsafe { libc::killpg(pgid, libc::SIGKILL) };
                }
                panic!("tests/browser/docs.mjs ran longer than {BROWSER_TIMEOUT:?}");
            }
        };
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        eprintln!(
            "tests/browser/docs.mjs took {:.1} s:\n{stdout}{stderr}",
            started.elapsed().as_secs_f64()
        );
        assert!(
            output.status.success(),
            "tests/browser/docs.mjs failed ({}):\n{stdout}{stderr}",
            output.status
        );
        assert!(
            stdout.lines().any(|l| l == "docs page OK"),
            "no verdict:\n{stdout}"
        );
        let listed = format!("docs page: {operations} of {operations} operations listed");
        assert!(
            stdout.contains(&listed),
            "expected {listed:?} in:\n{stdout}"
        );
        let marked = format!("({private} x-altinn-private, each marked Private API;");
        assert!(
            stdout.contains(&marked),
            "expected {marked:?} in:\n{stdout}"
        );
        assert_png(&screenshot);
    });

    suite.run()
}

/// A PNG at least as wide as the viewport and taller than one screen (a full-page screenshot).
fn assert_png(path: &Path) {
    let (width, height) = browser::png_size(path);
    assert!(
        width >= 1400 && height > 900,
        "{}: {width}x{height}",
        path.display()
    );
}
