//! Prints one development token (signed with the keys in dev/keys/) on stdout.
//! Run `devtoken --help` for usage.

use std::process::ExitCode;

use devtoken::TokenSpec;
use serde_json::Value;

const USAGE: &str = "\
devtoken: mint a DEVELOPMENT token signed with the repository's dev keys (dev/keys/).
The worker accepts these only while ALTINN_JWKS / PLATFORM_ACCESS_JWKS are unset.

USAGE:
    devtoken <kind> <args...> [options]

KINDS:
    org <org> [--scope \"<scopes>\"] [--org-number N]
        Altinn token for a service owner: urn:altinn:org, urn:altinn:orgNumber
        (991825827 for ttd, 987654321 otherwise), urn:altinn:authlevel 3.
    user <userId> <partyId> [--scope \"<scopes>\"] [--authlevel N]
        Altinn token for a person: urn:altinn:userid, urn:altinn:partyid, urn:altinn:authlevel 2.
    systemuser <uuid> <orgNumber> [--scope \"<scopes>\"]
        Maskinporten system-user token: authorization_details (+ scope).
    platform <issuer> <app>
        PlatformAccessToken: iss = issuer (platform, ttd, ...), urn:altinn:app = app.

COMMON OPTIONS:
    --rs256                 sign with the RS256 key (default ES256)
    --expires-in SECS       exp = now + SECS (default 3600; negative = already expired)
    --claim name=JSON       add or replace a claim; the value is JSON, so quote strings:
                            --claim 'iss=\"other\"' (repeatable)
    -h, --help              this text

EXAMPLES:
    devtoken org ttd --scope altinn:events.publish
    devtoken org digdir --scope \"altinn:events.subscribe\"
    devtoken user 1337 50001337
    devtoken systemuser 9f4c2a5e-1d7b-4c1e-8a51-0c3f2e6d7b10 912345678 --scope altinn:events.subscribe
    devtoken platform ttd apps-test
    devtoken platform platform events --expires-in 600
    devtoken user 1337 50001337 --claim 'urn:altinn:authlevel=\"3\"'

    curl -H \"Authorization: Bearer $(devtoken org ttd --scope altinn:events.publish)\" ...
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.is_empty() {
        eprint!("{USAGE}");
        return ExitCode::from(2);
    }
    if args.iter().any(|a| a == "-h" || a == "--help") {
        print!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    match parse(&args) {
        Ok(spec) => {
            println!("{}", spec.mint());
            ExitCode::SUCCESS
        }
        Err(msg) => {
            eprintln!("devtoken: {msg}\nRun `devtoken --help` for usage.");
            ExitCode::from(2)
        }
    }
}

#[derive(Default)]
struct Options {
    positional: Vec<String>,
    scope: Option<String>,
    org_number: Option<String>,
    authlevel: Option<u8>,
    rs256: bool,
    expires_in: Option<i64>,
    claims: Vec<(String, Value)>,
}

fn parse(args: &[String]) -> Result<TokenSpec, String> {
    let (kind, rest) = args
        .split_first()
        .ok_or_else(|| "missing token kind".to_owned())?;
    let opts = parse_options(rest)?;
    let allowed: &[&str] = match kind.as_str() {
        "org" => &["--scope", "--org-number"],
        "user" => &["--scope", "--authlevel"],
        "systemuser" => &["--scope"],
        "platform" => &[],
        other => {
            return Err(format!(
                "unknown kind {other:?} (expected org, user, systemuser or platform)"
            ))
        }
    };
    let used = [
        ("--scope", opts.scope.is_some()),
        ("--org-number", opts.org_number.is_some()),
        ("--authlevel", opts.authlevel.is_some()),
    ];
    for (flag, present) in used {
        if present && !allowed.contains(&flag) {
            return Err(format!("{flag} does not apply to `{kind}` tokens"));
        }
    }
    let pos = &opts.positional;
    let expect = |n: usize, what: &str| -> Result<(), String> {
        if pos.len() == n {
            Ok(())
        } else {
            Err(format!(
                "`{kind}` takes {what}, got {} argument(s): {pos:?}",
                pos.len()
            ))
        }
    };
    let mut spec = match kind.as_str() {
        "org" => {
            expect(1, "<org>")?;
            TokenSpec::org(&pos[0])
        }
        "user" => {
            expect(2, "<userId> <partyId>")?;
            TokenSpec::user(number(&pos[0], "userId")?, number(&pos[1], "partyId")?)
        }
        "systemuser" => {
            expect(2, "<uuid> <orgNumber>")?;
            TokenSpec::system_user(&pos[0], &pos[1])
        }
        _ => {
            expect(2, "<issuer> <app>")?;
            TokenSpec::platform(&pos[0], &pos[1])
        }
    };
    if let Some(scope) = &opts.scope {
        spec = spec.scope(scope);
    }
    if let Some(n) = &opts.org_number {
        spec = spec.org_number(n);
    }
    if let Some(level) = opts.authlevel {
        spec = spec.authlevel(level);
    }
    if opts.rs256 {
        spec = spec.rs256();
    }
    if let Some(secs) = opts.expires_in {
        spec = spec.expires_in(secs);
    }
    for (name, value) in opts.claims {
        spec = spec.claim(&name, value);
    }
    Ok(spec)
}

fn parse_options(args: &[String]) -> Result<Options, String> {
    let mut opts = Options::default();
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        // Accept both `--flag value` and `--flag=value`.
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if arg.starts_with("--") => (f, Some(v.to_owned())),
            _ => (arg.as_str(), None),
        };
        let mut value = |name: &str| -> Result<String, String> {
            match &inline {
                Some(v) => Ok(v.clone()),
                None => iter
                    .next()
                    .cloned()
                    .ok_or_else(|| format!("{name} needs a value")),
            }
        };
        match flag {
            "--scope" => opts.scope = Some(value("--scope")?),
            "--org-number" => {
                let n = value("--org-number")?;
                if n.len() != 9 || !n.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(format!("--org-number must be 9 digits, got {n:?}"));
                }
                opts.org_number = Some(n);
            }
            "--authlevel" => {
                let v = value("--authlevel")?;
                opts.authlevel = Some(
                    v.parse()
                        .map_err(|_| format!("--authlevel must be a small number, got {v:?}"))?,
                );
            }
            "--rs256" => {
                if inline.is_some() {
                    return Err("--rs256 takes no value".into());
                }
                opts.rs256 = true;
            }
            "--expires-in" => {
                let v = value("--expires-in")?;
                opts.expires_in = Some(
                    v.parse()
                        .map_err(|_| format!("--expires-in must be seconds, got {v:?}"))?,
                );
            }
            "--claim" => {
                let v = value("--claim")?;
                let (name, json) = v
                    .split_once('=')
                    .filter(|(name, _)| !name.is_empty())
                    .ok_or_else(|| format!("--claim wants name=value, got {v:?}"))?;
                let json: Value = serde_json::from_str(json).map_err(|e| {
                    format!(
                        "--claim {name}: value is not JSON ({e}); quote strings, e.g. {name}='\"text\"'"
                    )
                })?;
                opts.claims.push((name.to_owned(), json));
            }
            other if other.starts_with('-') && other.len() > 1 && !is_negative_number(other) => {
                return Err(format!("unknown option {other:?}"))
            }
            _ => opts.positional.push(arg.clone()),
        }
    }
    Ok(opts)
}

fn is_negative_number(s: &str) -> bool {
    s.strip_prefix('-')
        .is_some_and(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
}

fn number(s: &str, what: &str) -> Result<u64, String> {
    s.parse()
        .map_err(|_| format!("{what} must be a non-negative integer, got {s:?}"))
}
