//! The real `altinn-events` binary against the Maskinporten stand-in and a small fake platform
//! (the token exchange plus just enough of the Events API): `jwk new` → register the public JWK →
//! `login maskinporten` → the cached token (mode 600) → `publish` / `events read` with it →
//! renewal after expiry → each refusal's message.

use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde_json::{json, Value};

const CLIENT_ID: &str = "e2e-client";
const EXCHANGE: &str = "/authentication/api/v1/exchange/maskinporten";

/// The fake platform: exchanges any token from the stand-in's issuer for `altinn_token`.
struct Platform {
    altinn_token: String,
    exchanges: AtomicUsize,
    events: Mutex<Vec<Value>>,
    base: Mutex<String>,
}

fn bearer(headers: &HeaderMap) -> String {
    headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default()
        .to_owned()
}

async fn exchange(State(platform): State<Arc<Platform>>, headers: HeaderMap) -> Response {
    let token = bearer(&headers);
    // A stand-in access token names our client; anything else is refused like Altinn does.
    let claims = token
        .split('.')
        .nth(1)
        .and_then(|p| {
            use base64::Engine as _;
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(p)
                .ok()
        })
        .and_then(|bytes| serde_json::from_slice::<Value>(&bytes).ok())
        .unwrap_or(Value::Null);
    if claims["client_id"] != CLIENT_ID || claims["consumer"]["ID"] != "0192:991825827" {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    platform.exchanges.fetch_add(1, Ordering::SeqCst);
    // Altinn answers the token as a JSON string.
    format!("\"{}\"", platform.altinn_token).into_response()
}

async fn post_event(
    State(platform): State<Arc<Platform>>,
    headers: HeaderMap,
    body: String,
) -> Response {
    if bearer(&headers) != platform.altinn_token {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    if headers.get("content-type").and_then(|v| v.to_str().ok())
        != Some("application/cloudevents+json")
    {
        return StatusCode::UNSUPPORTED_MEDIA_TYPE.into_response();
    }
    match serde_json::from_str::<Value>(&body) {
        Ok(event) => {
            platform.events.lock().expect("lock").push(event);
            StatusCode::OK.into_response()
        }
        Err(_) => StatusCode::BAD_REQUEST.into_response(),
    }
}

async fn get_events(
    State(platform): State<Arc<Platform>>,
    headers: HeaderMap,
    Query(query): Query<Vec<(String, String)>>,
) -> Response {
    if bearer(&headers) != platform.altinn_token {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let param = |name: &str| {
        query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let events = platform.events.lock().expect("lock").clone();
    let after = param("after");
    let start = if after == "0" {
        0
    } else {
        events
            .iter()
            .position(|e| e["id"] == after.as_str())
            .map_or(events.len(), |i| i + 1)
    };
    let page: Vec<Value> = events[start..]
        .iter()
        .filter(|e| e["resource"] == param("resource").as_str())
        .cloned()
        .collect();
    let last = page
        .last()
        .map(|e| e["id"].as_str().unwrap_or_default().to_owned())
        .unwrap_or(after);
    let next = format!(
        "{}/events/api/v1/events?after={last}&resource={}",
        platform.base.lock().expect("lock"),
        param("resource")
    );
    ([("next", next)], axum::Json(page)).into_response()
}

async fn serve(router: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, router).await });
    format!("http://{addr}")
}

struct Run {
    config: tempfile::TempDir,
    issuer: String,
    base: String,
}

impl Run {
    fn cache(&self) -> PathBuf {
        self.config.path().join("tokens.json")
    }

    async fn cli(&self, args: &[&str]) -> Output {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_altinn-events"));
        for (name, _) in std::env::vars() {
            if name.starts_with("ALTINN_EVENTS_") {
                command.env_remove(name);
            }
        }
        command
            .env("ALTINN_EVENTS_CONFIG_DIR", self.config.path())
            .env("ALTINN_EVENTS_BASE_URL", &self.base)
            .env("ALTINN_EVENTS_MASKINPORTEN_ISSUER", &self.issuer)
            .env(
                "ALTINN_EVENTS_MASKINPORTEN_TOKEN_URL",
                format!("{}token", self.issuer),
            )
            .current_dir(self.config.path())
            .args(args);
        tokio::task::spawn_blocking(move || command.output().expect("run altinn-events"))
            .await
            .expect("join")
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(path)
        .expect("metadata")
        .permissions()
        .mode()
        & 0o777
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn from_a_new_key_to_a_cached_altinn_token() {
    let standin = standin::spawn().await.expect("stand-in");
    let altinn_token = devtoken::TokenSpec::org("ttd")
        .scope("altinn:events.publish")
        .expires_in(600)
        .mint();
    let platform = Arc::new(Platform {
        altinn_token: altinn_token.clone(),
        exchanges: AtomicUsize::new(0),
        events: Mutex::new(Vec::new()),
        base: Mutex::new(String::new()),
    });
    let base = serve(
        Router::new()
            .route(EXCHANGE, get(exchange))
            .route("/events/api/v1/events", get(get_events).post(post_event))
            .with_state(platform.clone()),
    )
    .await;
    *platform.base.lock().expect("lock") = base.clone();
    let run = Run {
        config: tempfile::tempdir().expect("tempdir"),
        issuer: standin.issuer().to_owned(),
        base,
    };

    // jwk new: the public JWK array on stdout, the key pair in a 0600 file.
    let out = run
        .cli(&[
            "jwk", "new", "--alg", "ES256", "--kid", "e2e-key", "--out", "key.json",
        ])
        .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let public: Value = serde_json::from_slice(&out.stdout).expect("public JWK array");
    assert_eq!(public.as_array().map(Vec::len), Some(1));
    assert_eq!(public[0]["kid"], "e2e-key");
    assert!(public[0].get("d").is_none(), "no private key on stdout");
    let key_file = run.config.path().join("key.json");
    let saved: Value =
        serde_json::from_str(&std::fs::read_to_string(&key_file).expect("key file")).expect("json");
    assert!(saved["jwk"]["d"].is_string() && saved["encodedJwk"].is_string());
    #[cfg(unix)]
    assert_eq!(mode(&key_file), 0o600);
    let again = run
        .cli(&["jwk", "new", "--kid", "e2e-key", "--out", "key.json"])
        .await;
    assert_eq!(
        again.status.code(),
        Some(2),
        "an existing key file is not overwritten"
    );

    // Register the public key at the stand-in, as one would paste it into Samarbeidsportalen.
    let register_url = format!("{}clients", run.issuer);
    let client = json!({"client_id": CLIENT_ID, "jwks": public, "scopes": ["altinn:events.publish"], "org_number": "991825827"});
    let registered = tokio::task::spawn_blocking(move || {
        ureq::post(&register_url)
            .header("content-type", "application/json")
            .send(client.to_string())
            .expect("register")
            .status()
            .as_u16()
    })
    .await
    .expect("join");
    assert_eq!(registered, 201);

    // login maskinporten: grant → stand-in token → exchange → cached Altinn token (0600).
    let login = [
        "login",
        "maskinporten",
        "--client-id",
        CLIENT_ID,
        "--jwk-file",
        "key.json",
        "--scope",
        "altinn:events.publish",
    ];
    let out = run.cli(&login).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let answer: Value = serde_json::from_slice(&out.stdout).expect("login answer");
    assert_eq!(answer["renewable"], true);
    assert_eq!(platform.exchanges.load(Ordering::SeqCst), 1);
    let cache: Value =
        serde_json::from_str(&std::fs::read_to_string(run.cache()).expect("cache")).expect("json");
    let session = &cache["sessions"][&run.base];
    assert_eq!(
        session["token"],
        altinn_token.as_str(),
        "the JSON-quoted answer is unquoted"
    );
    assert!(session["expiresAt"]
        .as_i64()
        .is_some_and(|exp| exp > chrono::Utc::now().timestamp()));
    assert_eq!(session["login"]["method"], "maskinporten");
    assert_eq!(session["login"]["key"]["from"], "file");
    assert!(
        !cache
            .to_string()
            .contains(saved["jwk"]["d"].as_str().unwrap_or("?")),
        "no private key in the cache"
    );
    #[cfg(unix)]
    assert_eq!(mode(&run.cache()), 0o600);

    // The API commands use the cached token.
    let out = run
        .cli(&[
            "publish",
            "--resource",
            "ttd-demo",
            "--source",
            "https://example.com/demo",
            "--type",
            "demo.created",
            "--subject",
            "/party/50001337",
            "--data",
            r#"{"n":1}"#,
        ])
        .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let published: Value = serde_json::from_slice(&out.stdout).expect("published event");
    let out = run.cli(&["events", "read", "--resource", "ttd-demo"]).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let lines: Vec<Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect();
    assert_eq!(lines, vec![published.clone()]);
    let out = run
        .cli(&["events", "read", "--resource", "ttd-demo", "--pretty"])
        .await;
    let table = text(&out.stdout);
    assert!(
        table.starts_with("ID") && table.contains("demo.created"),
        "{table}"
    );
    assert_eq!(
        platform.exchanges.load(Ordering::SeqCst),
        1,
        "no new login while the token is fresh"
    );

    // An expired token is renewed with the stored parameters.
    let mut cache = cache;
    cache["sessions"][&run.base]["expiresAt"] = json!(0);
    std::fs::write(run.cache(), cache.to_string()).expect("write cache");
    let out = run.cli(&["token", "show"]).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout).trim(), altinn_token);
    assert_eq!(platform.exchanges.load(Ordering::SeqCst), 2);

    // Refusals name the fix.
    let refusals: [(Vec<&str>, i32, &[&str]); 4] = [
        (
            vec![
                "login",
                "maskinporten",
                "--client-id",
                "not-registered",
                "--jwk-file",
                "key.json",
                "--scope",
                "altinn:events.publish",
            ],
            3,
            &[
                "invalid_client",
                "not-registered",
                "Integrasjonens identifikator",
                "e2e-key",
            ],
        ),
        (
            vec![
                "login",
                "maskinporten",
                "--client-id",
                CLIENT_ID,
                "--jwk-file",
                "key.json",
                "--scope",
                "altinn:events.publish altinn:events.subscribe",
            ],
            3,
            &["invalid_scope", "altinn:events.subscribe", "--scope"],
        ),
        (
            vec![
                "login",
                "maskinporten",
                "--client-id",
                CLIENT_ID,
                "--jwk-file",
                "key.json",
                "--scope",
                "altinn:events.publish",
                "--maskinporten-issuer",
                "https://test.maskinporten.no/",
            ],
            3,
            &["invalid_grant", "aud", "clock"],
        ),
        (
            vec!["login", "dev", "org", "ttd", "--env", "tt02"],
            2,
            &["local service only"],
        ),
    ];
    for (args, code, words) in refusals {
        let out = run.cli(&args).await;
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(code), "{args:?}: {stderr}");
        for word in words {
            assert!(
                stderr.contains(word),
                "{args:?}: '{word}' missing in: {stderr}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_exchange_names_the_fix() {
    let standin = standin::spawn().await.expect("stand-in");
    let base =
        serve(Router::new().route(EXCHANGE, get(|| async { StatusCode::UNAUTHORIZED }))).await;
    let run = Run {
        config: tempfile::tempdir().expect("tempdir"),
        issuer: standin.issuer().to_owned(),
        base,
    };
    let out = run
        .cli(&["jwk", "new", "--kid", "rsa-key", "--out", "key.json"])
        .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let public: Value = serde_json::from_slice(&out.stdout).expect("public JWK array");
    assert_eq!(public[0]["kty"], "RSA");
    standin.register(standin::Client {
        client_id: CLIENT_ID.into(),
        jwks: public.as_array().cloned().unwrap_or_default(),
        scopes: vec!["altinn:events.subscribe".into()],
        org_number: "991825827".into(),
    });
    let out = run
        .cli(&[
            "login",
            "maskinporten",
            "--client-id",
            CLIENT_ID,
            "--jwk-file",
            "key.json",
            "--scope",
            "altinn:events.subscribe",
        ])
        .await;
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains("answered 401")
            && stderr.contains("exchange")
            && stderr.contains("registered"),
        "{stderr}"
    );
    assert!(!run.cache().exists(), "nothing cached after a failed login");

    // Not logged in: the API commands say how to log in.
    let out = run.cli(&["events", "read", "--resource", "ttd-demo"]).await;
    assert_eq!(out.status.code(), Some(3));
    assert!(
        text(&out.stderr).contains("login maskinporten"),
        "{}",
        text(&out.stderr)
    );
}

/// Every request the fake API saw: method, path and query, body.
type Seen = Arc<Mutex<Vec<(String, String, String)>>>;

async fn fake_api(
    State(seen): State<Seen>,
    method: axum::http::Method,
    uri: axum::http::Uri,
    headers: HeaderMap,
    body: String,
) -> Response {
    if bearer(&headers) != "fixed-token" {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let path = uri.path().to_owned();
    seen.lock()
        .expect("lock")
        .push((method.to_string(), uri.to_string(), body.clone()));
    let subscription = json!({"id": 7, "endPoint": "https://hook.example.com/x", "resourceFilter": "urn:altinn:resource:ttd-demo", "validated": false});
    match (method.as_str(), path.as_str()) {
        ("POST", "/events/api/v1/subscriptions") => {
            let mut created: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
            created["id"] = json!(7);
            (StatusCode::CREATED, axum::Json(created)).into_response()
        }
        ("GET", "/events/api/v1/subscriptions") => axum::Json(json!({"count": 1, "subscriptions": [subscription]})).into_response(),
        ("GET", "/events/api/v1/subscriptions/7") => axum::Json(subscription).into_response(),
        ("DELETE", "/events/api/v1/subscriptions/7") => StatusCode::OK.into_response(),
        ("GET", "/events/api/v1/subscriptions/7/deadletters") => axum::Json(json!({"count": 1, "deadLetters": [
            {"event": {"id": "e-1", "type": "demo.created"}, "attempts": 12, "failed": "2026-11-30T00:00:00Z", "lastStatusCode": 503, "lastError": "endpoint answered 503"}
        ]}))
        .into_response(),
        ("POST", "/events/api/v1/subscriptions/7/deadletters/redeliver") => axum::Json(json!({"redelivered": 1})).into_response(),
        ("GET", "/events/api/v1/app/ttd/apps-test") | ("GET", "/events/api/v1/app/party") => axum::Json(json!([])).into_response(),
        ("GET", "/events/api/v1/subscriptions/8") => (StatusCode::NOT_FOUND, "{\"title\":\"Not Found\"}").into_response(),
        // Two pages of attempts: the first (size 2) links the second.
        ("GET", "/events/api/v1/subscriptions/7/attempts") => {
            let host = headers.get("host").and_then(|h| h.to_str().ok()).unwrap_or_default();
            let attempt = |n: u32, outcome: &str| json!({"eventId": "e-1", "attempt": n, "time": "2026-11-30T00:00:00Z", "outcome": outcome, "latencyMs": 5});
            match uri.query() {
                Some("size=2") => axum::Json(json!({"count": 2, "attempts": [attempt(1, "timeout"), attempt(2, "http_error")],
                    "next": format!("http://{host}/events/api/v1/subscriptions/7/attempts?after=2&size=2")})).into_response(),
                _ => axum::Json(json!({"count": 1, "attempts": [attempt(3, "success")]})).into_response(),
            }
        }
        ("GET", "/events/api/v1/subscriptions/7/secret") => axum::Json(json!({"secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"})).into_response(),
        ("POST", "/events/api/v1/subscriptions/7/secret/rotate") => axum::Json(json!({"secret": "whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"})).into_response(),
        ("POST", "/events/api/v1/subscriptions/7/enable") => axum::Json(json!({"status": "active", "lastSuccessAt": null, "lastFailureAt": null, "failingSince": null, "queued": 3, "deadLetters": 0})).into_response(),
        ("POST", "/events/api/v1/subscriptions/7/replay") if headers.get("content-type").is_some_and(|c| c == "application/json") => {
            axum::Json(json!({"requeued": 500, "cursor": "512"})).into_response()
        }
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_commands_call_altinns_routes() {
    let seen: Seen = Arc::default();
    let base = serve(Router::new().fallback(fake_api).with_state(seen.clone())).await;
    let run = Run {
        config: tempfile::tempdir().expect("tempdir"),
        issuer: "http://127.0.0.1:1/".into(),
        base,
    };
    let cli = |args: Vec<&'static str>| {
        let mut all = vec!["--token", "fixed-token"];
        all.extend(args);
        all
    };
    let lines = |out: &Output| -> Vec<Value> {
        assert!(out.status.success(), "{}", text(&out.stderr));
        text(&out.stdout)
            .lines()
            .map(|l| serde_json::from_str(l).expect("json line"))
            .collect()
    };

    let out = run
        .cli(&cli(vec![
            "subscriptions",
            "create",
            "--endpoint",
            "https://hook.example.com/x",
            "--resource",
            "ttd-demo",
            "--type",
            "demo.created",
        ]))
        .await;
    assert_eq!(
        lines(&out),
        vec![
            json!({"endPoint": "https://hook.example.com/x", "resourceFilter": "urn:altinn:resource:ttd-demo", "typeFilter": "demo.created", "id": 7})
        ]
    );
    let out = run.cli(&cli(vec!["subscriptions", "list"])).await;
    assert_eq!(lines(&out)[0]["id"], 7);
    let out = run
        .cli(&cli(vec!["subscriptions", "list", "--pretty"]))
        .await;
    assert!(
        text(&out.stdout).starts_with("ID  ENDPOINT"),
        "{}",
        text(&out.stdout)
    );
    assert_eq!(
        lines(&run.cli(&cli(vec!["subscriptions", "get", "7"])).await)[0]["id"],
        7
    );
    assert_eq!(
        lines(&run.cli(&cli(vec!["subscriptions", "delete", "7"])).await),
        vec![json!({"deleted": 7})]
    );
    assert_eq!(
        lines(&run.cli(&cli(vec!["deadletters", "list", "7"])).await)[0]["lastStatusCode"],
        503
    );
    assert_eq!(
        lines(&run.cli(&cli(vec!["deadletters", "redeliver", "7"])).await),
        vec![json!({"redelivered": 1})]
    );
    assert!(lines(
        &run.cli(&cli(vec![
            "app-events",
            "read",
            "--org",
            "ttd",
            "--app",
            "apps-test"
        ]))
        .await
    )
    .is_empty());
    assert!(lines(
        &run.cli(&cli(vec![
            "app-events",
            "read",
            "--party",
            "50001337",
            "--from",
            "2026-01-01T00:00:00+01:00"
        ]))
        .await
    )
    .is_empty());

    // Every page of attempts, one line each.
    let attempts = lines(
        &run.cli(&cli(vec!["subscriptions", "attempts", "7", "--size", "2"]))
            .await,
    );
    assert_eq!(
        attempts
            .iter()
            .map(|a| a["attempt"].clone())
            .collect::<Vec<_>>(),
        vec![json!(1), json!(2), json!(3)]
    );
    let out = run
        .cli(&cli(vec![
            "subscriptions",
            "attempts",
            "7",
            "--after",
            "2",
            "--size",
            "2",
            "--pretty",
        ]))
        .await;
    assert!(
        text(&out.stdout).starts_with("EVENT  ATTEMPT  TIME"),
        "{}",
        text(&out.stdout)
    );
    assert_eq!(
        lines(&run.cli(&cli(vec!["subscriptions", "secret", "7"])).await),
        vec![json!({"secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"})]
    );
    assert_eq!(
        lines(
            &run.cli(&cli(vec!["subscriptions", "secret", "7", "--rotate"]))
                .await
        ),
        vec![json!({"secret": "whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"})]
    );
    assert_eq!(
        lines(&run.cli(&cli(vec!["subscriptions", "enable", "7"])).await)[0]["status"],
        "active"
    );
    let out = run
        .cli(&cli(vec![
            "subscriptions",
            "replay",
            "7",
            "--from",
            "2026-11-30T00:00:00Z",
            "--to",
            "2026-11-30T12:00:00Z",
        ]))
        .await;
    assert_eq!(lines(&out), vec![json!({"requeued": 500, "cursor": "512"})]);
    assert!(
        text(&out.stderr).contains("--cursor 512"),
        "{}",
        text(&out.stderr)
    );

    // An API error: exit 4 with the status and the body.
    let out = run.cli(&cli(vec!["subscriptions", "get", "8"])).await;
    assert_eq!(out.status.code(), Some(4));
    assert!(
        text(&out.stderr).contains("answered 404: {\"title\":\"Not Found\"}"),
        "{}",
        text(&out.stderr)
    );

    let requests: Vec<(String, String)> = seen
        .lock()
        .expect("lock")
        .iter()
        .map(|(m, u, _)| (m.clone(), u.clone()))
        .collect();
    let expected = [
        ("POST", "/events/api/v1/subscriptions"),
        ("GET", "/events/api/v1/subscriptions"),
        ("GET", "/events/api/v1/subscriptions"),
        ("GET", "/events/api/v1/subscriptions/7"),
        ("DELETE", "/events/api/v1/subscriptions/7"),
        ("GET", "/events/api/v1/subscriptions/7/deadletters"),
        (
            "POST",
            "/events/api/v1/subscriptions/7/deadletters/redeliver",
        ),
        ("GET", "/events/api/v1/app/ttd/apps-test?after=0"),
        (
            "GET",
            "/events/api/v1/app/party?from=2026-01-01T00%3A00%3A00%2B01%3A00&party=50001337",
        ),
        ("GET", "/events/api/v1/subscriptions/7/attempts?size=2"),
        (
            "GET",
            "/events/api/v1/subscriptions/7/attempts?after=2&size=2",
        ),
        (
            "GET",
            "/events/api/v1/subscriptions/7/attempts?after=2&size=2",
        ),
        ("GET", "/events/api/v1/subscriptions/7/secret"),
        ("POST", "/events/api/v1/subscriptions/7/secret/rotate"),
        ("POST", "/events/api/v1/subscriptions/7/enable"),
        ("POST", "/events/api/v1/subscriptions/7/replay"),
        ("GET", "/events/api/v1/subscriptions/8"),
    ];
    let expected: Vec<(String, String)> = expected
        .iter()
        .map(|(m, u)| (m.to_string(), u.to_string()))
        .collect();
    assert_eq!(requests, expected);
    let replayed = seen
        .lock()
        .expect("lock")
        .iter()
        .find(|(m, u, _)| m == "POST" && u.ends_with("/replay"))
        .map(|(_, _, body)| serde_json::from_str::<Value>(body).expect("json body"));
    assert_eq!(
        replayed,
        Some(json!({"from": "2026-11-30T00:00:00Z", "to": "2026-11-30T12:00:00Z"}))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_tail_prints_new_events_as_they_come() {
    let platform = Arc::new(Platform {
        altinn_token: "tail-token".into(),
        exchanges: AtomicUsize::new(0),
        events: Mutex::new(vec![
            json!({"id": "e-1", "resource": "urn:altinn:resource:ttd-demo"}),
        ]),
        base: Mutex::new(String::new()),
    });
    let base = serve(
        Router::new()
            .route("/events/api/v1/events", get(get_events))
            .with_state(platform.clone()),
    )
    .await;
    *platform.base.lock().expect("lock") = base.clone();
    let config = tempfile::tempdir().expect("tempdir");

    /// Kills the tail when the test ends.
    struct Tail(std::process::Child);
    impl Drop for Tail {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let mut tail = Tail(
        std::process::Command::new(env!("CARGO_BIN_EXE_altinn-events"))
            .env("ALTINN_EVENTS_CONFIG_DIR", config.path())
            .args([
                "--base-url",
                &base,
                "--token",
                "tail-token",
                "events",
                "tail",
                "--resource",
                "ttd-demo",
                "--interval",
                "1",
            ])
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("spawn tail"),
    );
    let stdout = tail.0.stdout.take().expect("stdout");
    let (send, receive) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        use std::io::BufRead as _;
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            if send.send(line).is_err() {
                break;
            }
        }
    });
    let next_line = |receive: &std::sync::mpsc::Receiver<String>| {
        let line = receive
            .recv_timeout(std::time::Duration::from_secs(10))
            .expect("a line from tail");
        serde_json::from_str::<Value>(&line).expect("json line")
    };
    let receive = tokio::task::spawn_blocking(move || {
        let first = next_line(&receive);
        (first, receive)
    })
    .await
    .expect("join");
    let (first, receive) = receive;
    assert_eq!(first["id"], "e-1");
    platform
        .events
        .lock()
        .expect("lock")
        .push(json!({"id": "e-2", "resource": "urn:altinn:resource:ttd-demo"}));
    let second = tokio::task::spawn_blocking(move || next_line(&receive))
        .await
        .expect("join");
    assert_eq!(second["id"], "e-2");
}

/// A server with the live stream: each request with `Accept: text/event-stream` gets the events
/// after `Last-Event-ID` (or `after`) as SSE messages, and the stream ends there.
#[derive(Default)]
struct StreamPlatform {
    events: Mutex<Vec<Value>>,
    /// The `Last-Event-ID` of each stream request ("" when none).
    resumed_from: Mutex<Vec<String>>,
}

async fn get_stream(
    State(platform): State<Arc<StreamPlatform>>,
    headers: HeaderMap,
    Query(query): Query<Vec<(String, String)>>,
) -> Response {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    if header("accept") != "text/event-stream" {
        return (StatusCode::IM_A_TEAPOT, "expected the stream").into_response();
    }
    let last = header("last-event-id");
    platform
        .resumed_from
        .lock()
        .expect("lock")
        .push(last.clone());
    let after = if last.is_empty() {
        query
            .iter()
            .find(|(k, _)| k == "after")
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    } else {
        last
    };
    let events = platform.events.lock().expect("lock").clone();
    let start = events
        .iter()
        .position(|e| e["id"] == after.as_str())
        .map_or(0, |i| i + 1);
    let body: String = events[start..]
        .iter()
        .map(|e| {
            format!(
                "id: {}\ndata: {e}\n\n: keep-alive\n\n",
                e["id"].as_str().unwrap_or_default()
            )
        })
        .collect();
    ([("content-type", "text/event-stream")], body).into_response()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_tail_follows_the_live_stream_and_resumes_with_last_event_id() {
    let platform = Arc::new(StreamPlatform::default());
    platform
        .events
        .lock()
        .expect("lock")
        .push(json!({"id": "s-1", "resource": "urn:altinn:resource:ttd-demo"}));
    let base = serve(
        Router::new()
            .route("/events/api/v1/events", get(get_stream))
            .with_state(platform.clone()),
    )
    .await;
    let config = tempfile::tempdir().expect("tempdir");
    struct Tail(std::process::Child);
    impl Drop for Tail {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let mut tail = Tail(
        std::process::Command::new(env!("CARGO_BIN_EXE_altinn-events"))
            .env("ALTINN_EVENTS_CONFIG_DIR", config.path())
            .args([
                "--base-url",
                &base,
                "--token",
                "t",
                "events",
                "tail",
                "--resource",
                "ttd-demo",
            ])
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("spawn tail"),
    );
    let stdout = tail.0.stdout.take().expect("stdout");
    let (send, receive) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        use std::io::BufRead as _;
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            if send.send(line).is_err() {
                break;
            }
        }
    });
    let next = move |timeout: u64| {
        receive
            .recv_timeout(std::time::Duration::from_secs(timeout))
            .ok()
            .map(|line| serde_json::from_str::<Value>(&line).expect("json line"))
    };
    let (first, next) = tokio::task::spawn_blocking(move || (next(10), next))
        .await
        .expect("join");
    assert_eq!(first.expect("a line")["id"], "s-1");
    platform
        .events
        .lock()
        .expect("lock")
        .push(json!({"id": "s-2", "resource": "urn:altinn:resource:ttd-demo"}));
    let (second, third) = tokio::task::spawn_blocking(move || (next(10), next(3)))
        .await
        .expect("join");
    assert_eq!(second.expect("a line")["id"], "s-2");
    // Nothing twice: each reconnect resumes after the last event printed.
    assert_eq!(third, None);
    let resumed = platform.resumed_from.lock().expect("lock").clone();
    assert_eq!(resumed.first().map(String::as_str), Some(""));
    assert!(resumed.iter().any(|id| id == "s-1"), "{resumed:?}");
    assert_eq!(
        resumed.last().map(String::as_str),
        Some("s-2"),
        "{resumed:?}"
    );
}
