//! The `maskinporten-standin` binary as documented: clients from `--clients FILE`, metadata at
//! the issuer, and a grant for a client from the file.

use std::io::{BufRead as _, BufReader};
use std::process::{Command, Stdio};

use chrono::{Duration, Utc};
use jwt_compact::alg::Es256;
use jwt_compact::jwk::JsonWebKey;
use jwt_compact::{AlgorithmExt, Claims, Header};
use serde_json::{json, Value};

/// Kills the stand-in when the test ends, whatever happens.
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn clients_file_and_port_zero() {
    let key = p256::ecdsa::SigningKey::random(&mut rand_core::OsRng);
    let mut jwk = serde_json::to_value(JsonWebKey::from(key.verifying_key())).expect("jwk");
    jwk["kid"] = json!("file-key");
    let dir = std::env::temp_dir().join(format!("standin-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).expect("dir");
    let clients = dir.join("clients.json");
    let registered =
        json!([{"client_id": "from-file", "jwks": [jwk], "scopes": ["altinn:events.subscribe"]}]);
    std::fs::write(&clients, registered.to_string()).expect("write");

    let mut child = Child(
        Command::new(env!("CARGO_BIN_EXE_maskinporten-standin"))
            .args(["--port", "0", "--clients"])
            .arg(&clients)
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn"),
    );
    let stderr = child.0.stderr.take().expect("stderr");
    let line = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        BufReader::new(stderr).read_line(&mut line).expect("read");
        line
    })
    .await
    .expect("join");
    // "maskinporten-standin: issuer http://127.0.0.1:PORT/, token endpoint ..."
    let issuer = line
        .split_whitespace()
        .nth(2)
        .map(|s| s.trim_end_matches(','))
        .expect("issuer in the start line")
        .to_owned();
    assert!(
        issuer.starts_with("http://127.0.0.1:") && issuer.ends_with('/'),
        "{line}"
    );

    let metadata: Value = reqwest::get(format!("{issuer}.well-known/oauth-authorization-server"))
        .await
        .expect("metadata")
        .json()
        .await
        .expect("json");
    assert_eq!(metadata["issuer"], issuer.as_str());

    let now = Utc::now();
    let mut claims = Claims::new(json!({
        "iss": "from-file", "aud": issuer, "scope": "altinn:events.subscribe", "jti": "j-1",
    }));
    claims.issued_at = Some(now);
    claims.expiration = Some(now + Duration::seconds(60));
    let assertion = Es256
        .token(&Header::empty().with_key_id("file-key"), &claims, &key)
        .expect("sign");
    let answer: Value = reqwest::Client::new()
        .post(metadata["token_endpoint"].as_str().expect("token_endpoint"))
        .form(&[
            ("grant_type", standin::JWT_BEARER),
            ("assertion", assertion.as_str()),
        ])
        .send()
        .await
        .expect("token")
        .json()
        .await
        .expect("json");
    assert_eq!(answer["scope"], "altinn:events.subscribe", "{answer}");
    assert!(answer["access_token"].is_string());
    let _ = std::fs::remove_dir_all(&dir);
}
