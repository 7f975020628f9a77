//! The Maskinporten journey (issue 10): the token exchange and its refusals, the admin orgs
//! endpoint, the service's own OpenID configuration and key set, and the whole seed journey driven
//! by the real `altinn-events` binary against `wrangler dev` and the Maskinporten stand-in.
//!
//! The stand-in runs in this process (its own thread and runtime); the shared server trusts it
//! through `MASKINPORTEN_WELLKNOWN` and signs with a `TOKEN_SIGNING_JWK` made by `altinn-events
//! jwk new` (RS256), so the CLI is built first (`cargo build -p altinn-events-cli`).

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Output};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use altinn_events_tests::fixtures::*;
use altinn_events_tests::token::{hs256_token, signed_by_unknown_key, tamper, unsigned_token};
use altinn_events_tests::{Suite, TestClient, TestReceiver, TestServer, TokenSpec};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{json, Value};
use standin::StandIn;

const EXCHANGE: &str = "/authentication/api/v1/exchange/maskinporten";
const OPENID: &str = "/authentication/api/v1/openid/.well-known/openid-configuration";
const SIGNING_KID: &str = "e2e-exchange";

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// A fresh organisation number (9 digits) for this test.
fn org_number() -> String {
    format!("9{:08}", unique_number(0) % 100_000_000)
}

/// A fresh org code.
fn org_code() -> String {
    format!("e2e{}", unique_number(0) % 1_000_000_000)
}

/// The claims of a Maskinporten access token as the stand-in issues them.
fn mp_claims(issuer: &str, number: &str, scope: &str) -> Value {
    json!({
        "iss": issuer,
        "client_id": "e2e-client",
        "scope": scope,
        "consumer": {"authority": "iso6523-actorid-upis", "ID": format!("0192:{number}")},
        "iat": now(),
        "exp": now() + 120,
        "jti": unique("jti"),
    })
}

fn payload(token: &str) -> Value {
    let part = token.split('.').nth(1).unwrap_or_default();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap_or_default()).unwrap_or(Value::Null)
}

fn header(token: &str) -> Value {
    let part = token.split('.').next().unwrap_or_default();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap_or_default()).unwrap_or(Value::Null)
}

async fn exchange(c: &TestClient, token: &str) -> altinn_events_tests::TestResponse {
    c.get(EXCHANGE).bearer(token).send().await
}

/// Exchange and require `200 text/plain`; the Altinn token.
async fn exchange_ok(c: &TestClient, token: &str) -> String {
    let r = exchange(c, token).await;
    assert_eq!(r.status, 200, "exchange: {}", r.body);
    assert_eq!(
        r.header("content-type").as_deref(),
        Some("text/plain; charset=utf-8")
    );
    r.body.trim().to_owned()
}

/// Register `org` → `number` with the admin endpoint.
async fn register_org(c: &TestClient, org: &str, number: &str) {
    let r = c
        .put(&format!("/events/api/v1/admin/orgs/{org}"))
        .platform_token(&platform_token())
        .json(&json!({"orgNumber": number}))
        .send()
        .await;
    assert!(
        r.status == 201 || r.status == 200,
        "{} {}",
        r.status,
        r.body
    );
}

/// Runs the stand-in on its own thread and runtime for the life of the process.
fn start_standin() -> Result<Arc<StandIn>, String> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("maskinporten-standin".into())
        .spawn(move || {
            let runtime = match tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all()
                .build()
            {
                Ok(rt) => rt,
                Err(e) => {
                    let _ = tx.send(Err(e.to_string()));
                    return;
                }
            };
            runtime.block_on(async move {
                match standin::bind(0, None).await {
                    Ok((listener, s)) => {
                        let _ = tx.send(Ok(s.clone()));
                        let _ = standin::serve(listener, s).await;
                    }
                    Err(e) => {
                        let _ = tx.send(Err(e));
                    }
                }
            });
        })
        .map_err(|e| e.to_string())?;
    rx.recv().map_err(|e| e.to_string())?
}

/// Builds the CLI and returns the path of `altinn-events`.
fn build_cli() -> Result<PathBuf, String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .current_dir(altinn_events_tests::repo_root())
        .args([
            "build",
            "-p",
            "altinn-events-cli",
            "--bin",
            "altinn-events",
            "--message-format=json-render-diagnostics",
        ])
        .output()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "cargo build -p altinn-events-cli failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter_map(|v| v["executable"].as_str().map(PathBuf::from))
        .find(|p| p.file_name().is_some_and(|n| n == "altinn-events"))
        .ok_or_else(|| "cargo built no altinn-events executable".into())
}

/// The CLI with its config directory.
#[derive(Clone)]
struct Cli {
    bin: PathBuf,
    config_dir: PathBuf,
}

impl Cli {
    fn run(&self, args: &[&str]) -> Output {
        Command::new(&self.bin)
            .args(args)
            .env("ALTINN_EVENTS_CONFIG_DIR", &self.config_dir)
            .env_remove("ALTINN_EVENTS_ENV")
            .env_remove("ALTINN_EVENTS_BASE_URL")
            .env_remove("ALTINN_EVENTS_TOKEN")
            .env_remove("ALTINN_EVENTS_ENCODED_JWK")
            .output()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", self.bin.display()))
    }

    /// Run and require exit 0; stdout.
    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "altinn-events {args:?} failed ({}): {}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = altinn_events_tests::repo_root()
        .join("target")
        .join("e2e-state")
        .join(unique(name));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    dir
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn main() -> ExitCode {
    let setup = || -> Result<(Arc<StandIn>, Cli, String), String> {
        let standin = start_standin()?;
        let cli = Cli {
            bin: build_cli()?,
            config_dir: temp_dir("cli-config"),
        };
        let key_file = cli.config_dir.join("signing.jwk.json");
        let key_path = key_file.to_string_lossy().into_owned();
        cli.ok(&[
            "jwk",
            "new",
            "--alg",
            "RS256",
            "--kid",
            SIGNING_KID,
            "--out",
            &key_path,
        ]);
        let signing = read_json(&key_file)["jwk"].to_string();
        Ok((standin, cli, signing))
    };
    let (standin, cli, signing_jwk) = match setup() {
        Ok(v) => v,
        Err(e) => {
            eprintln!("setup failed: {e}");
            return ExitCode::FAILURE;
        }
    };
    let issuer = standin.issuer().to_owned();
    let wellknown = format!("{issuer}.well-known/oauth-authorization-server");
    let mut suite = Suite::with_vars(&[
        ("MASKINPORTEN_WELLKNOWN", &wellknown),
        ("MASKINPORTEN_ISSUER", &issuer),
        ("TOKEN_SIGNING_JWK", &signing_jwk),
        ("DELIVERY_RETRY_DELAYS", "1,1"),
    ]);

    suite.standalone("exchange_not_configured_is_404", || async {
        let server = TestServer::start(&[]);
        let c = server.client();
        let r = exchange(&c, "whatever").await;
        assert_problem(
            &r,
            404,
            "The Maskinporten token exchange is not enabled on this service. It is enabled by \
             the settings MASKINPORTEN_WELLKNOWN (or MASKINPORTEN_JWKS), MASKINPORTEN_ISSUER and \
             TOKEN_SIGNING_JWK; missing: MASKINPORTEN_WELLKNOWN (or MASKINPORTEN_JWKS), \
             MASKINPORTEN_ISSUER, TOKEN_SIGNING_JWK.",
        );
        let unset = "This service issues no tokens: TOKEN_SIGNING_JWK is not set, so there is no \
                     OpenID configuration or key set to publish.";
        assert_problem(&c.get(OPENID).send().await, 404, unset);
        assert_problem(&c.get(&format!("{OPENID}/jwks")).send().await, 404, unset);
    });

    let s = standin.clone();
    suite.test("exchange_refuses_bad_tokens_with_401", |ctx| async move {
        let c = ctx.client();
        let iss = s.issuer().to_owned();
        let number = org_number();
        let good = mp_claims(&iss, &number, PUBLISH);
        let with = |name: &str, value: Value| {
            let mut v = good.clone();
            v[name] = value;
            v
        };
        let mut no_exp = good.clone();
        if let Some(m) = no_exp.as_object_mut() {
            m.remove("exp");
        }
        let valid = s.mint(&good, None).unwrap();
        let cases: Vec<(&str, String)> = vec![
            (
                "wrong issuer",
                s.mint(&with("iss", json!("https://maskinporten.no/")), None)
                    .unwrap(),
            ),
            (
                "expired",
                s.mint(&with("exp", json!(now() - 5)), None).unwrap(),
            ),
            (
                "not yet valid",
                s.mint(&with("nbf", json!(now() + 600)), None).unwrap(),
            ),
            ("no exp", s.mint(&no_exp, None).unwrap()),
            (
                "no consumer",
                s.mint(&with("consumer", json!({"ID": "0192:123"})), None)
                    .unwrap(),
            ),
            ("alg none", unsigned_token(&good)),
            ("HS256", hs256_token(&good, b"secret")),
            (
                "unknown kid",
                s.mint(&good, Some("not-a-maskinporten-key")).unwrap(),
            ),
            ("tampered", tamper(&valid)),
            ("another key", signed_by_unknown_key(&good)),
            ("an Altinn token", org_token("ttd")),
            ("not a JWT", "garbage".into()),
        ];
        for (what, token) in cases {
            let r = exchange(&c, &token).await;
            assert_eq!(r.status, 401, "{what}: {}", r.body);
            let detail = r.json()["detail"].as_str().unwrap_or_default().to_owned();
            assert!(
                detail.starts_with("The Maskinporten token was refused: "),
                "{what}: {}",
                r.body
            );
        }
        let r = c.get(EXCHANGE).send().await;
        assert_problem(
            &r,
            401,
            "The Maskinporten token was refused: no Bearer token in the Authorization header.",
        );
        // The valid one is accepted.
        exchange_ok(&c, &valid).await;
    });

    let s = standin.clone();
    suite.test("exchanged_token_claims_and_org_mapping", |ctx| async move {
        let c = ctx.client();
        let number = org_number();
        let org = org_code();
        let resource = unique("mp-org");
        put_policy(&c, &resource, json!({"owner": org})).await;
        let scope = format!("{PUBLISH} {SUBSCRIBE}");
        let mp = s
            .mint(&mp_claims(s.issuer(), &number, &scope), None)
            .unwrap();
        let mp_exp = payload(&mp)["exp"].as_i64().unwrap_or_default();

        // Not registered: a token without urn:altinn:org, which may not publish.
        let token = exchange_ok(&c, &mp).await;
        assert_eq!(
            header(&token),
            json!({"alg": "RS256", "kid": SIGNING_KID, "typ": "JWT"})
        );
        let claims = payload(&token);
        assert_eq!(claims.get("urn:altinn:org"), None, "{claims}");
        assert_eq!(claims["urn:altinn:orgNumber"], json!(number));
        assert_eq!(claims["scope"], json!(scope));
        assert_eq!(
            claims["iss"],
            json!(format!("{}/authentication/api/v1/openid/", ctx.base_url()))
        );
        let exp = claims["exp"].as_i64().unwrap_or_default();
        assert!(exp <= mp_exp && exp > now(), "exp {exp} vs {mp_exp}");
        assert!(claims["iat"].is_i64());
        let event = event(&unique("id"), &resource_urn(&resource));
        assert_forbidden(&publish(&c, &token, &event).await);

        // Registered: the same flow publishes.
        register_org(&c, &org, &number).await;
        let token = exchange_ok(&c, &mp).await;
        assert_eq!(payload(&token)["urn:altinn:org"], json!(org));
        publish_ok(&c, &token, &event).await;
        let r = c
            .get(&format!(
                "{EVENTS}?resource={}&after=0",
                resource_urn(&resource)
            ))
            .bearer(&token)
            .send()
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(
            ids(&r),
            vec![event["id"].as_str().unwrap_or_default().to_owned()]
        );
    });

    suite.test("admin_orgs_endpoint", |ctx| async move {
        let c = ctx.client();
        let org = org_code();
        let path = format!("/events/api/v1/admin/orgs/{org}");
        let body = json!({"orgNumber": "991825827"});
        assert_unauthorized(&c.put(&path).json(&body).send().await);
        let r = c.get(&path).platform_token("not-a-token").send().await;
        assert_unauthorized(&r);
        let ttd = TokenSpec::platform("ttd", "apps-test").mint();
        assert_forbidden(&c.put(&path).platform_token(&ttd).json(&body).send().await);
        let admin = platform_token();
        assert_problem(
            &c.get(&path).platform_token(&admin).send().await,
            404,
            &format!("No organisation number is registered for org '{org}'."),
        );
        for (bad, detail) in [
            (json!({}), "orgNumber is required (9 digits)."),
            (
                json!({"orgNumber": "12345"}),
                "'12345' is not an organisation number: expected 9 digits.",
            ),
            (
                json!({"orgNumber": 991825827}),
                "orgNumber must be a string of 9 digits.",
            ),
            (
                json!({"orgNumber": "991825827", "org": "x"}),
                "Unknown member 'org': the body is {\"orgNumber\": \"…\"}.",
            ),
            (
                json!(["991825827"]),
                "The body must be a JSON object {\"orgNumber\": \"…\"}.",
            ),
        ] {
            let r = c.put(&path).platform_token(&admin).json(&bad).send().await;
            assert_problem(&r, 400, detail);
        }
        let r = c
            .put("/events/api/v1/admin/orgs/not%20a%20code")
            .platform_token(&admin)
            .json(&body)
            .send()
            .await;
        assert_eq!(r.status, 400, "{}", r.body);
        let doc = json!({"org": org, "orgNumber": "991825827"});
        let r = c.put(&path).platform_token(&admin).json(&body).send().await;
        assert_eq!((r.status, r.json()), (201, doc.clone()), "{}", r.body);
        let r = c.get(&path).platform_token(&admin).send().await;
        assert_eq!((r.status, r.json()), (200, doc), "{}", r.body);
        let other = json!({"orgNumber": "912345678"});
        let r = c
            .put(&path)
            .platform_token(&admin)
            .json(&other)
            .send()
            .await;
        assert_eq!(
            (r.status, r.json()),
            (200, json!({"org": org, "orgNumber": "912345678"}))
        );
        assert_empty(&c.delete(&path).platform_token(&admin).send().await, 204);
        assert_eq!(c.get(&path).platform_token(&admin).send().await.status, 404);
        assert_eq!(
            c.delete(&path).platform_token(&admin).send().await.status,
            404
        );
    });

    suite.test(
        "openid_configuration_publishes_the_public_key",
        |ctx| async move {
            let c = ctx.client();
            let r = c.get(OPENID).send().await;
            assert_eq!(r.status, 200, "{}", r.body);
            let issuer = format!("{}/authentication/api/v1/openid/", ctx.base_url());
            let jwks_uri = format!("{issuer}.well-known/openid-configuration/jwks");
            assert_eq!(r.json(), json!({"issuer": issuer, "jwks_uri": jwks_uri}));
            let r = c.get(&format!("{OPENID}/jwks")).send().await;
            assert_eq!(r.status, 200, "{}", r.body);
            let keys = r.json()["keys"].clone();
            assert_eq!(keys.as_array().map(Vec::len), Some(1), "{keys}");
            let key = &keys[0];
            assert_eq!(
                (&key["kty"], &key["kid"], &key["alg"], &key["use"]),
                (
                    &json!("RSA"),
                    &json!(SIGNING_KID),
                    &json!("RS256"),
                    &json!("sig")
                )
            );
            assert!(key["n"].is_string() && key["e"].is_string());
            for private in ["d", "p", "q", "dp", "dq", "qi"] {
                assert!(key.get(private).is_none(), "{private} published: {key}");
            }
        },
    );

    let s = standin.clone();
    let journey_cli = cli.clone();
    suite.test("seed_journey_with_the_cli", |ctx| async move {
        let c = ctx.client();
        let cli = journey_cli;
        let base = ctx.base_url().to_owned();
        let iss = s.issuer().to_owned();
        let token_url = format!("{iss}token");
        let global = |args: &[&str]| -> Vec<String> {
            let mut v: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
            v.extend(["--base-url".into(), base.clone()]);
            v
        };
        let run = |args: Vec<String>| {
            let refs: Vec<&str> = args.iter().map(String::as_str).collect();
            cli.ok(&refs)
        };
        let dir = temp_dir("journey");
        let key_file = dir.join("client.jwk.json").to_string_lossy().into_owned();

        // 1. A key for the integration; its public half registered at the stand-in.
        let public = cli.ok(&[
            "jwk",
            "new",
            "--alg",
            "ES256",
            "--kid",
            "client-key",
            "--out",
            &key_file,
        ]);
        let public: Value = serde_json::from_str(&public).expect("jwk new prints the public JWKs");
        assert!(public[0].get("d").is_none(), "{public}");
        let client_id = unique("client");
        let number = org_number();
        let org = org_code();
        let r = reqwest::Client::new()
            .post(format!("{iss}clients"))
            .json(&json!({"client_id": client_id, "jwks": public,
                "scopes": [PUBLISH, SUBSCRIBE], "org_number": number}))
            .send()
            .await
            .expect("stand-in answers");
        assert_eq!(r.status().as_u16(), 201);

        // 2. The platform side: the org code for the number, and a resource that org owns.
        register_org(&c, &org, &number).await;
        let resource = unique("journey");
        put_policy(&c, &resource, json!({"owner": org})).await;

        // 3. Log in: grant at the stand-in, exchange at the worker.
        let scope = format!("{PUBLISH} {SUBSCRIBE}");
        run(global(&[
            "login",
            "maskinporten",
            "--client-id",
            &client_id,
            "--jwk-file",
            &key_file,
            "--scope",
            &scope,
            "--maskinporten-issuer",
            &iss,
            "--maskinporten-token-url",
            &token_url,
        ]));
        let token = run(global(&["token", "show"])).trim().to_owned();
        assert_eq!(payload(&token)["urn:altinn:org"], json!(org));

        // 4. Publish, then read it back.
        run(global(&[
            "publish",
            "--resource",
            &resource,
            "--source",
            "https://example.com/demo",
            "--type",
            "demo.created",
            "--subject",
            "/party/50001337",
            "--data",
            r#"{"hello":"world"}"#,
        ]));
        let read = run(global(&["events", "read", "--resource", &resource]));
        let events: Vec<Value> = read
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect();
        assert_eq!(events.len(), 1, "{read}");
        assert_eq!(events[0]["type"], json!("demo.created"));
        assert_eq!(events[0]["data"], json!({"hello": "world"}));

        // 5. A webhook subscription to a loopback receiver: validated, then the next event arrives.
        let receiver = TestReceiver::start();
        let endpoint = receiver.url_path("/hook");
        let sub = run(global(&[
            "subscriptions",
            "create",
            "--endpoint",
            &endpoint,
            "--resource",
            &resource,
        ]));
        let sub: Value = serde_json::from_str(sub.trim()).expect("subscription JSON");
        let id = sub["id"].as_i64().expect("subscription id");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let got = run(global(&["subscriptions", "get", &id.to_string()]));
            let got: Value = serde_json::from_str(got.trim()).unwrap_or(Value::Null);
            if got["validated"] == json!(true) {
                break;
            }
            assert!(Instant::now() < deadline, "not validated: {got}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        run(global(&[
            "publish",
            "--resource",
            &resource,
            "--source",
            "https://example.com/demo",
            "--type",
            "demo.updated",
            "--subject",
            "/party/50001337",
        ]));
        let got = receiver.wait_for(2, Duration::from_secs(30)).await;
        let types: Vec<Value> = got.iter().map(|r| r.json()["type"].clone()).collect();
        assert_eq!(
            types,
            vec![
                json!("platform.events.validatesubscription"),
                json!("demo.updated")
            ]
        );
    });

    suite.run()
}
