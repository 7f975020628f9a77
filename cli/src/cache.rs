//! The token cache: `tokens.json` in the user's config directory (`ALTINN_EVENTS_CONFIG_DIR`, or
//! `dirs::config_dir()/altinn-events`), mode 0600, one session per platform base URL. A session
//! keeps the Altinn token, its expiry and how it was obtained, so an expired token is renewed by
//! logging in again with the same parameters. Private keys are never stored: only the key file's
//! path or the name of the environment variable that holds the `EncodedJwk`.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// A token is renewed this many seconds before its `exp`, so it does not expire in flight.
pub const EXPIRY_MARGIN_SECS: i64 = 30;
pub const CONFIG_DIR_VAR: &str = "ALTINN_EVENTS_CONFIG_DIR";

/// Where the key of a Maskinporten login comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "from", rename_all = "camelCase")]
pub enum KeySource {
    /// A key file (absolute path).
    File { path: PathBuf },
    /// An environment variable holding an `EncodedJwk`.
    EnvVar { name: String },
    /// `--encoded-jwk` on the command line: not stored, so no automatic re-login.
    CommandLine,
}

/// A dev-key login (`login dev ...`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    tag = "kind",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum DevLogin {
    Org {
        org: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        scope: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        org_number: Option<String>,
    },
    User {
        user_id: u64,
        party_id: u64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        scope: Option<String>,
    },
}

/// How a session's token was obtained.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "camelCase")]
pub enum LoginParams {
    #[serde(rename_all = "camelCase")]
    Maskinporten {
        client_id: String,
        scope: String,
        #[serde(default)]
        resources: Vec<String>,
        key: KeySource,
        issuer: String,
        token_url: String,
    },
    Dev(DevLogin),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Session {
    pub env: String,
    pub token: String,
    /// The token's `exp` (unix seconds), when it has one.
    pub expires_at: Option<i64>,
    pub obtained_at: i64,
    pub login: LoginParams,
}

impl Session {
    /// Usable at `now`: no `exp`, or `exp` more than [`EXPIRY_MARGIN_SECS`] away.
    pub fn is_fresh(&self, now: i64) -> bool {
        self.expires_at
            .is_none_or(|exp| exp - EXPIRY_MARGIN_SECS > now)
    }

    /// Whether this session can renew itself without the user.
    pub fn can_relogin(&self) -> bool {
        !matches!(
            self.login,
            LoginParams::Maskinporten {
                key: KeySource::CommandLine,
                ..
            }
        )
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenCache {
    #[serde(default)]
    pub sessions: BTreeMap<String, Session>,
}

/// The directory of `tokens.json`.
pub fn config_dir() -> Result<PathBuf> {
    if let Some(dir) = std::env::var_os(CONFIG_DIR_VAR).filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(dir));
    }
    dirs::config_dir()
        .map(|dir| dir.join("altinn-events"))
        .ok_or_else(|| {
            Error::Usage(format!(
                "no config directory on this system; set {CONFIG_DIR_VAR}"
            ))
        })
}

pub fn default_path() -> Result<PathBuf> {
    Ok(config_dir()?.join("tokens.json"))
}

/// The cache key of a base URL.
pub fn key(base_url: &str) -> String {
    base_url.trim_end_matches('/').to_owned()
}

impl TokenCache {
    /// Reads the cache; a missing file is an empty cache.
    pub fn load(path: &Path) -> Result<Self> {
        match std::fs::read_to_string(path) {
            Ok(text) => serde_json::from_str(&text).map_err(|err| {
                Error::Usage(format!(
                    "{} is not a token cache ({err}); delete it and log in again",
                    path.display()
                ))
            }),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(TokenCache::default()),
            Err(err) => Err(Error::io(format!("cannot read {}", path.display()), err)),
        }
    }

    /// Writes the cache with mode 0600 (through a temporary file and a rename).
    pub fn save(&self, path: &Path) -> Result<()> {
        let text = serde_json::to_string_pretty(self)
            .map_err(|err| Error::Protocol(format!("cannot serialise the token cache: {err}")))?;
        write_private(path, text.as_bytes())
    }

    pub fn get(&self, base_url: &str) -> Option<&Session> {
        self.sessions.get(&key(base_url))
    }

    pub fn put(&mut self, base_url: &str, session: Session) {
        self.sessions.insert(key(base_url), session);
    }

    pub fn remove(&mut self, base_url: &str) -> Option<Session> {
        self.sessions.remove(&key(base_url))
    }
}

/// Writes `bytes` to `path` readable by the owner only (0600 on Unix), creating the directory.
pub fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|err| Error::io(format!("cannot create {}", dir.display()), err))?;
    }
    // A name of its own per process, so two commands renewing at once do not mix their writes.
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(".{}.tmp", std::process::id()));
    let tmp = PathBuf::from(tmp);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let write = || -> std::io::Result<()> {
        let mut file = options.open(&tmp)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        }
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)
    };
    write().map_err(|err| Error::io(format!("cannot write {}", path.display()), err))
}

/// The `exp` claim of a JWT, read without verifying it (the CLI only needs to know when to renew).
pub fn token_expiry(token: &str) -> Option<i64> {
    let untrusted = jwt_compact::UntrustedToken::new(token).ok()?;
    let claims = untrusted
        .deserialize_claims_unchecked::<jwt_compact::Empty>()
        .ok()?;
    claims.expiration.map(|exp| exp.timestamp())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(expires_at: Option<i64>, key: KeySource) -> Session {
        Session {
            env: "tt02".into(),
            token: "a.b.c".into(),
            expires_at,
            obtained_at: 1000,
            login: LoginParams::Maskinporten {
                client_id: "c".into(),
                scope: "altinn:events.publish".into(),
                resources: vec![],
                key,
                issuer: "https://test.maskinporten.no/".into(),
                token_url: "https://test.maskinporten.no/token".into(),
            },
        }
    }

    #[test]
    fn expiry_detection_leaves_a_margin() {
        let file = KeySource::File {
            path: "/k.json".into(),
        };
        assert!(session(Some(2000), file.clone()).is_fresh(1000));
        assert!(session(Some(2000), file.clone()).is_fresh(2000 - EXPIRY_MARGIN_SECS - 1));
        assert!(!session(Some(2000), file.clone()).is_fresh(2000 - EXPIRY_MARGIN_SECS));
        assert!(!session(Some(2000), file.clone()).is_fresh(3000));
        assert!(session(None, file.clone()).is_fresh(i64::MAX));
        assert!(session(Some(1), file).can_relogin());
        assert!(session(Some(1), KeySource::EnvVar { name: "X".into() }).can_relogin());
        assert!(!session(Some(1), KeySource::CommandLine).can_relogin());
    }

    #[test]
    fn cache_round_trips_with_mode_0600() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("nested").join("tokens.json");
        assert_eq!(
            TokenCache::load(&path).expect("missing = empty"),
            TokenCache::default()
        );
        let mut cache = TokenCache::default();
        cache.put(
            "https://platform.tt02.altinn.no/",
            session(
                Some(5),
                KeySource::EnvVar {
                    name: "ALTINN_EVENTS_ENCODED_JWK".into(),
                },
            ),
        );
        cache.save(&path).expect("save");
        let back = TokenCache::load(&path).expect("load");
        assert_eq!(back, cache);
        assert!(back.get("https://platform.tt02.altinn.no").is_some());
        assert!(back.get("https://platform.altinn.no").is_none());
        let text = std::fs::read_to_string(&path).expect("text");
        assert!(text.contains("\"from\": \"envVar\""), "{text}");
        assert!(!text.contains("\"d\""), "no key material in the cache");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        // A file that already existed with looser permissions is tightened on save.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
            cache.save(&path).expect("save again");
            let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn broken_cache_says_what_to_do() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("tokens.json");
        std::fs::write(&path, "{not json").expect("write");
        let err = TokenCache::load(&path).expect_err("broken");
        assert!(err.to_string().contains("log in again"), "{err}");
    }

    #[test]
    fn expiry_is_read_from_the_token() {
        let token = devtoken::TokenSpec::org("ttd").expires_in(600).mint();
        let exp = token_expiry(&token).expect("exp");
        let now = chrono::Utc::now().timestamp();
        assert!((exp - now - 600).abs() < 5);
        assert_eq!(token_expiry("not a token"), None);
    }
}
