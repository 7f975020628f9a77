//! Logging in: from [`LoginParams`] to a cached [`Session`], and finding a usable token for a
//! command (renewing an expired one by logging in again).

use std::path::Path;

use chrono::Utc;

use crate::api::Http;
use crate::cache::{self, DevLogin, KeySource, LoginParams, Session, TokenCache};
use crate::env::Target;
use crate::error::{Error, Result};
use crate::grant::{self, GrantRequest};
use crate::jwk::KeyPair;
use crate::maskinporten::{self, GrantContext};

pub const ENCODED_JWK_VAR: &str = "ALTINN_EVENTS_ENCODED_JWK";

/// Loads the key a Maskinporten login names. `command_line` is the `--encoded-jwk` value, only
/// available during the first login.
pub fn load_key(source: &KeySource, command_line: Option<&str>) -> Result<KeyPair> {
    match source {
        KeySource::File { path } => {
            let text = std::fs::read_to_string(path)
                .map_err(|err| Error::io(format!("cannot read the key file {}", path.display()), err))?;
            KeyPair::from_file_text(&text)
        }
        KeySource::EnvVar { name } => match std::env::var(name) {
            Ok(value) if !value.trim().is_empty() => KeyPair::from_encoded(&value),
            _ => Err(Error::NotLoggedIn(format!(
                "the login uses the EncodedJwk in ${name}, which is not set; set it or log in again"
            ))),
        },
        KeySource::CommandLine => match command_line {
            Some(value) => KeyPair::from_encoded(value),
            None => Err(Error::NotLoggedIn(
                "the cached token expired and the key was given with --encoded-jwk, which is not stored; \
                 run `altinn-events login maskinporten` again (a --jwk-file or $ALTINN_EVENTS_ENCODED_JWK lets it renew by itself)"
                    .into(),
            )),
        },
    }
}

/// Obtains a token with `params` for `target` (Maskinporten grant + exchange, or a dev token).
pub fn obtain(
    http: &Http,
    target: &Target,
    params: &LoginParams,
    command_line_key: Option<&str>,
) -> Result<Session> {
    let token = match params {
        LoginParams::Maskinporten {
            client_id,
            scope,
            resources,
            key,
            issuer,
            token_url,
        } => {
            let key = load_key(key, command_line_key)?;
            let request = GrantRequest {
                client_id,
                audience: issuer,
                scope,
                resources,
            };
            let assertion = grant::sign(&key, &request, Utc::now())?;
            let context = GrantContext {
                client_id,
                kid: &key.kid,
                scope,
                issuer,
                env: &target.env,
            };
            let maskinporten_token =
                maskinporten::request_token(http, token_url, &assertion, &context)?;
            maskinporten::exchange(http, &target.base_url, &maskinporten_token)?
        }
        LoginParams::Dev(dev) => dev_token(dev)?,
    };
    Ok(Session {
        env: target.env.clone(),
        expires_at: cache::token_expiry(&token),
        token,
        obtained_at: Utc::now().timestamp(),
        login: params.clone(),
    })
}

/// Checks that the repository's dev keys are where this binary was built from (the `devtoken`
/// crate reads them at run time and would panic without them).
pub fn ensure_dev_keys() -> Result<()> {
    let dir = devtoken::dev_keys_dir();
    for name in ["dev-es256.private.jwk.json", "dev-rs256.private.jwk.json"] {
        if !dir.join(name).is_file() {
            return Err(Error::Usage(format!(
                "the dev keys are not at {} (dev tokens need the repository this tool was built from)",
                dir.display()
            )));
        }
    }
    Ok(())
}

/// A token signed with the repository's dev keys.
pub fn dev_token(dev: &DevLogin) -> Result<String> {
    ensure_dev_keys()?;
    Ok(match dev {
        DevLogin::Org {
            org,
            scope,
            org_number,
        } => {
            let mut spec = devtoken::TokenSpec::org(org);
            if let Some(scope) = scope {
                spec = spec.scope(scope);
            }
            if let Some(number) = org_number {
                spec = spec.org_number(number);
            }
            spec.mint()
        }
        DevLogin::User {
            user_id,
            party_id,
            scope,
        } => {
            let mut spec = devtoken::TokenSpec::user(*user_id, *party_id);
            if let Some(scope) = scope {
                spec = spec.scope(scope);
            }
            spec.mint()
        }
    })
}

/// Logs in and stores the session.
pub fn login(
    http: &Http,
    cache_path: &Path,
    target: &Target,
    params: &LoginParams,
    command_line_key: Option<&str>,
) -> Result<Session> {
    let session = obtain(http, target, params, command_line_key)?;
    let mut cache = TokenCache::load(cache_path)?;
    cache.put(&target.base_url, session.clone());
    cache.save(cache_path)?;
    Ok(session)
}

/// What to do about the cached session for a base URL at `now`.
#[derive(Debug, PartialEq, Eq)]
pub enum Decision {
    Use(String),
    Relogin(LoginParams),
    Refuse(String),
}

pub fn decide(cache: &TokenCache, target: &Target, now: i64) -> Decision {
    match cache.get(&target.base_url) {
        None => Decision::Refuse(format!(
            "not logged in to {} (--env {}): run `altinn-events login maskinporten ...` (or `login dev ...` for a local service)",
            target.base_url, target.env
        )),
        Some(session) if session.is_fresh(now) => Decision::Use(session.token.clone()),
        Some(session) if session.can_relogin() => Decision::Relogin(session.login.clone()),
        Some(_) => Decision::Refuse(
            "the cached token expired and the key was given with --encoded-jwk, which is not stored; \
             run `altinn-events login maskinporten` again (a --jwk-file or $ALTINN_EVENTS_ENCODED_JWK lets it renew by itself)"
                .into(),
        ),
    }
}

/// The token for a command: the cached one while fresh, else a new login with the stored parameters.
pub fn bearer(http: &Http, cache_path: &Path, target: &Target) -> Result<String> {
    let cache = TokenCache::load(cache_path)?;
    match decide(&cache, target, Utc::now().timestamp()) {
        Decision::Use(token) => Ok(token),
        Decision::Relogin(params) => Ok(login(http, cache_path, target, &params, None)?.token),
        Decision::Refuse(message) => Err(Error::NotLoggedIn(message)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::{resolve, Overrides};

    fn dev_session(expires_at: Option<i64>) -> Session {
        Session {
            env: "local".into(),
            token: "cached.token.here".into(),
            expires_at,
            obtained_at: 0,
            login: LoginParams::Dev(DevLogin::Org {
                org: "ttd".into(),
                scope: Some("altinn:events.publish".into()),
                org_number: None,
            }),
        }
    }

    #[test]
    fn expired_sessions_are_renewed_with_their_parameters() {
        let target = resolve(&Overrides::default()).expect("local");
        let mut cache = TokenCache::default();
        assert!(
            matches!(decide(&cache, &target, 100), Decision::Refuse(m) if m.contains("not logged in"))
        );
        cache.put(&target.base_url, dev_session(Some(1000)));
        assert_eq!(
            decide(&cache, &target, 100),
            Decision::Use("cached.token.here".into())
        );
        assert_eq!(
            decide(&cache, &target, 1000),
            Decision::Relogin(dev_session(None).login)
        );
    }

    #[test]
    fn relogin_writes_a_fresh_token() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("tokens.json");
        let target = resolve(&Overrides::default()).expect("local");
        let mut cache = TokenCache::default();
        cache.put(&target.base_url, dev_session(Some(1)));
        cache.save(&path).expect("save");
        let http = crate::api::http_client();
        let token = bearer(&http, &path, &target).expect("renewed");
        assert_ne!(token, "cached.token.here");
        let stored = TokenCache::load(&path).expect("load");
        let session = stored.get(&target.base_url).expect("session");
        assert_eq!(session.token, token);
        assert!(session
            .expires_at
            .is_some_and(|exp| exp > Utc::now().timestamp()));
        // The second call uses the cached token.
        assert_eq!(bearer(&http, &path, &target).expect("cached"), token);
    }

    #[test]
    fn a_missing_key_variable_is_a_login_error() {
        let err = load_key(
            &KeySource::EnvVar {
                name: "ALTINN_EVENTS_TEST_SURELY_UNSET".into(),
            },
            None,
        )
        .err()
        .expect("unset");
        assert_eq!(err.exit_code(), 3);
        assert!(err.to_string().contains("ALTINN_EVENTS_TEST_SURELY_UNSET"));
        let err = load_key(&KeySource::CommandLine, None)
            .err()
            .expect("not stored");
        assert!(err.to_string().contains("login maskinporten"));
    }
}
