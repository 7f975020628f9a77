//! The environments the CLI knows, as data, and how flags and environment variables override them.

use crate::error::{Error, Result};

/// One deployment: where the Events API lives and which Maskinporten issues its tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Environment {
    pub name: &'static str,
    pub base_url: &'static str,
    pub maskinporten_issuer: &'static str,
    pub maskinporten_token_url: &'static str,
}

/// `local` is `scripts/dev` with the Maskinporten stand-in (`tests/maskinporten`) on port 8788.
pub const ENVIRONMENTS: &[Environment] = &[
    Environment {
        name: "local",
        base_url: "http://127.0.0.1:8787",
        maskinporten_issuer: "http://127.0.0.1:8788/",
        maskinporten_token_url: "http://127.0.0.1:8788/token",
    },
    Environment {
        name: "tt02",
        base_url: "https://platform.tt02.altinn.no",
        maskinporten_issuer: "https://test.maskinporten.no/",
        maskinporten_token_url: "https://test.maskinporten.no/token",
    },
    Environment {
        name: "prod",
        base_url: "https://platform.altinn.no",
        maskinporten_issuer: "https://maskinporten.no/",
        maskinporten_token_url: "https://maskinporten.no/token",
    },
];

/// What the user asked for with `--env`, `--base-url`, `--maskinporten-issuer`,
/// `--maskinporten-token-url` (or their `ALTINN_EVENTS_*` variables).
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub env: Option<String>,
    pub base_url: Option<String>,
    pub maskinporten_issuer: Option<String>,
    pub maskinporten_token_url: Option<String>,
}

/// The resolved target of a command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The environment's name (`local` unless `--env` says otherwise).
    pub env: String,
    /// The platform base URL, without a trailing slash.
    pub base_url: String,
    pub maskinporten_issuer: String,
    pub maskinporten_token_url: String,
}

impl Target {
    /// Whether this target is a service on this machine (dev tokens are only for such).
    pub fn is_local(&self) -> bool {
        self.env == "local"
    }
}

pub fn find(name: &str) -> Option<&'static Environment> {
    ENVIRONMENTS.iter().find(|env| env.name == name)
}

/// Picks the environment (default `local`) and applies the overrides.
pub fn resolve(overrides: &Overrides) -> Result<Target> {
    let name = overrides.env.as_deref().unwrap_or("local");
    let env = find(name).ok_or_else(|| {
        let known: Vec<&str> = ENVIRONMENTS.iter().map(|e| e.name).collect();
        Error::Usage(format!(
            "unknown environment '{name}' (known: {}); use --base-url and --maskinporten-* for another deployment",
            known.join(", ")
        ))
    })?;
    let pick = |value: &Option<String>, default: &str| {
        value
            .as_deref()
            .filter(|v| !v.is_empty())
            .unwrap_or(default)
            .to_owned()
    };
    Ok(Target {
        env: env.name.to_owned(),
        base_url: pick(&overrides.base_url, env.base_url)
            .trim_end_matches('/')
            .to_owned(),
        maskinporten_issuer: pick(&overrides.maskinporten_issuer, env.maskinporten_issuer),
        maskinporten_token_url: pick(
            &overrides.maskinporten_token_url,
            env.maskinporten_token_url,
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_has_the_three_environments() {
        let tt02 = find("tt02").expect("tt02");
        assert_eq!(tt02.maskinporten_issuer, "https://test.maskinporten.no/");
        assert_eq!(
            tt02.maskinporten_token_url,
            "https://test.maskinporten.no/token"
        );
        assert_eq!(tt02.base_url, "https://platform.tt02.altinn.no");
        let prod = find("prod").expect("prod");
        assert_eq!(prod.maskinporten_issuer, "https://maskinporten.no/");
        assert_eq!(prod.maskinporten_token_url, "https://maskinporten.no/token");
        assert_eq!(prod.base_url, "https://platform.altinn.no");
        let local = find("local").expect("local");
        assert_eq!(local.base_url, "http://127.0.0.1:8787");
        assert_eq!(local.maskinporten_token_url, "http://127.0.0.1:8788/token");
    }

    #[test]
    fn default_is_local_and_overrides_win() {
        let target = resolve(&Overrides::default()).expect("local");
        assert_eq!(target.env, "local");
        assert!(target.is_local());
        assert_eq!(target.base_url, "http://127.0.0.1:8787");

        let target = resolve(&Overrides {
            env: Some("tt02".into()),
            base_url: Some("https://events.example.com/".into()),
            maskinporten_issuer: None,
            maskinporten_token_url: Some("https://mp.example.com/token".into()),
        })
        .expect("tt02");
        assert_eq!(target.env, "tt02");
        assert_eq!(target.base_url, "https://events.example.com");
        assert_eq!(target.maskinporten_issuer, "https://test.maskinporten.no/");
        assert_eq!(
            target.maskinporten_token_url,
            "https://mp.example.com/token"
        );

        // An empty variable counts as unset.
        let target = resolve(&Overrides {
            env: Some("prod".into()),
            base_url: Some(String::new()),
            ..Overrides::default()
        })
        .expect("prod");
        assert_eq!(target.base_url, "https://platform.altinn.no");
    }

    #[test]
    fn unknown_environment_names_the_known_ones() {
        let err = resolve(&Overrides {
            env: Some("staging".into()),
            ..Overrides::default()
        })
        .expect_err("unknown");
        let text = err.to_string();
        assert!(
            text.contains("staging") && text.contains("local, tt02, prod"),
            "{text}"
        );
        assert_eq!(err.exit_code(), 2);
    }
}
