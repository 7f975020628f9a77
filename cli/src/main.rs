//! `altinn-events`: log in with Maskinporten (or dev keys), then publish, read and subscribe to
//! events. See `cli/README.md`.

mod api;
mod cache;
mod env;
mod error;
mod grant;
mod jwk;
mod live;
mod login;
mod maskinporten;
mod output;

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::{ArgGroup, Args, Parser, Subcommand, ValueEnum};
use serde_json::{json, Value};

use crate::api::{http_client, resource_urn, Api, Method, APP_EVENTS, EVENTS, SUBSCRIPTIONS};
use crate::cache::{DevLogin, KeySource, LoginParams, TokenCache};
use crate::env::{Overrides, Target};
use crate::error::{Error, Result};
use crate::jwk::{KeyAlg, KeyPair};
use crate::output::Printer;

/// Command-line client for altinn-events and Altinn's Events API.
#[derive(Parser)]
#[command(name = "altinn-events", version, about)]
struct Cli {
    #[command(flatten)]
    global: Global,
    #[command(subcommand)]
    command: Command,
}

/// Options every command takes.
#[derive(Args)]
struct Global {
    /// Environment: local, tt02 or prod (see `cli/README.md`).
    #[arg(long, global = true, env = "ALTINN_EVENTS_ENV")]
    env: Option<String>,
    /// Platform base URL (overrides the environment's).
    #[arg(long, global = true, env = "ALTINN_EVENTS_BASE_URL")]
    base_url: Option<String>,
    /// Maskinporten issuer, the grant's audience (overrides the environment's).
    #[arg(long, global = true, env = "ALTINN_EVENTS_MASKINPORTEN_ISSUER")]
    maskinporten_issuer: Option<String>,
    /// Maskinporten token endpoint (overrides the environment's).
    #[arg(long, global = true, env = "ALTINN_EVENTS_MASKINPORTEN_TOKEN_URL")]
    maskinporten_token_url: Option<String>,
    /// Output format.
    #[arg(long, global = true, value_enum, default_value_t = OutputFormat::Json)]
    output: OutputFormat,
    /// Lists as a table for people instead of one JSON value per line.
    #[arg(long, global = true)]
    pretty: bool,
    /// Use this Altinn token instead of the cached login.
    #[arg(
        long,
        global = true,
        env = "ALTINN_EVENTS_TOKEN",
        hide_env_values = true
    )]
    token: Option<String>,
}

#[derive(Clone, Copy, ValueEnum)]
enum OutputFormat {
    /// One JSON value per line.
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// JSON Web Keys for a Maskinporten integration.
    #[command(subcommand)]
    Jwk(JwkCommand),
    /// Obtain an Altinn token and cache it.
    #[command(subcommand)]
    Login(LoginCommand),
    /// Forget the cached token for this environment.
    Logout,
    /// Tokens: print the cached one, or sign a PlatformAccessToken.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Publish a CloudEvent (POST /events/api/v1/events).
    Publish(PublishArgs),
    /// Read events of a resource.
    #[command(subcommand)]
    Events(EventsCommand),
    /// Read Altinn app events.
    #[command(subcommand, name = "app-events")]
    AppEvents(AppEventsCommand),
    /// Webhook subscriptions.
    #[command(subcommand)]
    Subscriptions(SubscriptionsCommand),
    /// Events a subscription could not deliver.
    #[command(subcommand)]
    Deadletters(DeadlettersCommand),
}

#[derive(Subcommand)]
enum JwkCommand {
    /// Generate a key pair; print the public JWK array to paste into Samarbeidsportalen.
    New {
        #[arg(long, value_enum, default_value_t = KeyAlg::Rs256)]
        alg: KeyAlg,
        /// Key id (default: altinn-events-<date>-<random>).
        #[arg(long)]
        kid: Option<String>,
        /// Where to write the key pair and its EncodedJwk (default: <kid>.jwk.json), mode 600.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Overwrite an existing file.
        #[arg(long)]
        force: bool,
        /// Also print the private JWK and EncodedJwk on stdout.
        #[arg(long)]
        print_private: bool,
    },
    /// Print the public JWK array of a key file.
    Public {
        /// A key file (from `jwk new`, a private JWK, or an EncodedJwk).
        file: PathBuf,
    },
}

#[derive(Subcommand)]
enum LoginCommand {
    /// Maskinporten grant, then the token exchange at the platform.
    Maskinporten(MaskinportenArgs),
    /// A token signed with the repository's dev keys (local service only).
    #[command(subcommand)]
    Dev(DevCommand),
}

#[derive(Args)]
struct MaskinportenArgs {
    /// The integration's client id ("Integrasjonens identifikator").
    #[arg(long)]
    client_id: String,
    /// Key file (from `jwk new`, a private JWK, or an EncodedJwk).
    #[arg(long, conflicts_with = "encoded_jwk")]
    jwk_file: Option<PathBuf>,
    /// The key as an EncodedJwk (not stored: the login cannot renew itself).
    #[arg(long)]
    encoded_jwk: Option<String>,
    /// Space-separated scopes, e.g. "altinn:events.publish altinn:events.subscribe".
    #[arg(long)]
    scope: String,
    /// Audience-restricted token (`resource` claim); repeatable.
    #[arg(long)]
    resource: Vec<String>,
}

#[derive(Subcommand)]
enum DevCommand {
    /// A service owner token (urn:altinn:org).
    Org {
        org: String,
        #[arg(long)]
        scope: Option<String>,
        #[arg(long)]
        org_number: Option<String>,
        /// Allow a non-local environment (it will not trust dev keys unless configured to).
        #[arg(long)]
        force: bool,
    },
    /// A person's token (urn:altinn:userid, urn:altinn:partyid).
    User {
        user_id: u64,
        party_id: u64,
        #[arg(long)]
        scope: Option<String>,
        #[arg(long)]
        force: bool,
    },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Print the cached Altinn token (renewing it when expired), e.g. for curl.
    Show {
        /// Print the web console's address with the token in its fragment instead
        /// (`{base}/events/console/#token=…`); opening it signs the console in.
        #[arg(long)]
        console: bool,
    },
    /// Sign a PlatformAccessToken (iss = ISSUER, urn:altinn:app = APP).
    Platform {
        issuer: String,
        app: String,
        /// Private key file (default for a local environment: the repository's dev key).
        #[arg(long)]
        key_file: Option<PathBuf>,
        /// Lifetime in seconds.
        #[arg(long, default_value_t = 300)]
        expires_in: i64,
    },
}

#[derive(Args)]
struct PublishArgs {
    /// A CloudEvent (or a JSON array of them) from a file, or `-` for stdin.
    #[arg(long, conflicts_with_all = ["resource", "source", "event_type", "subject", "data"])]
    file: Option<String>,
    /// Resource (`ttd-demo` or `urn:altinn:resource:ttd-demo`).
    #[arg(long)]
    resource: Option<String>,
    #[arg(long)]
    source: Option<String>,
    #[arg(long = "type")]
    event_type: Option<String>,
    #[arg(long)]
    subject: Option<String>,
    /// `data` as JSON (quote a string: '"text"').
    #[arg(long)]
    data: Option<String>,
}

#[derive(Args)]
struct ReadArgs {
    /// Resource (`ttd-demo` or `urn:altinn:resource:ttd-demo`).
    #[arg(long)]
    resource: String,
    /// Start after this event id (default 0: from the beginning).
    #[arg(long, default_value = "0")]
    after: String,
    #[arg(long)]
    subject: Option<String>,
    #[arg(long = "type")]
    event_type: Vec<String>,
    /// Page size.
    #[arg(long)]
    size: Option<u32>,
}

#[derive(Subcommand)]
enum EventsCommand {
    /// Read every event after `--after`, following `next` until the end.
    Read(ReadArgs),
    /// Like `read`, then follow new events: over the live stream (Server-Sent Events), or by
    /// polling when the server does not offer it.
    Tail {
        #[command(flatten)]
        read: ReadArgs,
        /// Seconds between polls (when polling).
        #[arg(long, default_value_t = 5)]
        interval: u64,
    },
}

#[derive(Subcommand)]
enum AppEventsCommand {
    /// Read app events, for an app (org token) or a party (user token).
    Read {
        #[arg(long, requires = "app", conflicts_with = "party")]
        org: Option<String>,
        #[arg(long, requires = "org")]
        app: Option<String>,
        #[arg(long, required_unless_present = "org")]
        party: Option<String>,
        /// Start after this event id (default 0 unless --from is given).
        #[arg(long)]
        after: Option<String>,
        /// Events from this time (with a time zone, e.g. 2026-01-01T00:00:00Z).
        #[arg(long)]
        from: Option<String>,
        #[arg(long)]
        to: Option<String>,
        #[arg(long = "type")]
        event_type: Vec<String>,
        #[arg(long)]
        size: Option<u32>,
    },
}

#[derive(Subcommand)]
enum SubscriptionsCommand {
    /// Create a webhook subscription.
    Create {
        #[arg(long)]
        endpoint: String,
        #[arg(long)]
        resource: Option<String>,
        #[arg(long)]
        subject: Option<String>,
        #[arg(long = "type")]
        event_type: Option<String>,
        #[arg(long)]
        source: Option<String>,
    },
    /// The caller's subscriptions.
    List,
    Get {
        id: u64,
    },
    Delete {
        id: u64,
    },
    /// A subscription's delivery attempts, oldest first (every page from --after on).
    Attempts {
        id: u64,
        /// Start after this position of the attempt log (the `after` of a `next` link; default:
        /// the oldest attempt kept).
        #[arg(long)]
        after: Option<u64>,
        /// Page size, 1 to 1000 (default 50).
        #[arg(long)]
        size: Option<u32>,
    },
    /// Queue stored events of a window again for a subscription.
    Replay(ReplayArgs),
    /// Resume a disabled subscription where it stopped.
    Enable {
        id: u64,
    },
    /// Print a subscription's signing secret, or with --rotate make a new one.
    Secret {
        id: u64,
        /// Make a new secret (the previous one still signs deliveries for 24 hours).
        #[arg(long)]
        rotate: bool,
    },
}

#[derive(Args)]
#[command(group(ArgGroup::new("start").required(true).args(["from", "after"])))]
struct ReplayArgs {
    id: u64,
    /// Events stored at or after this time (with a time zone, e.g. 2026-01-01T00:00:00Z).
    #[arg(long)]
    from: Option<String>,
    /// Events stored after the event with this id.
    #[arg(long)]
    after: Option<String>,
    /// Events stored at or before this time (default: now).
    #[arg(long)]
    to: Option<String>,
    /// Go on where a previous replay stopped (the `cursor` it printed).
    #[arg(long)]
    cursor: Option<String>,
}

#[derive(Subcommand)]
enum DeadlettersCommand {
    /// Events whose every delivery attempt failed.
    List { subscription: u64 },
    /// Put every dead letter back at the end of the queue.
    Redeliver { subscription: u64 },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("altinn-events: {err}");
            ExitCode::from(err.exit_code())
        }
    }
}

struct Context {
    target: Target,
    cache_path: PathBuf,
    printer: Printer,
    fixed_token: Option<String>,
}

impl Context {
    fn api(&self) -> Result<Api> {
        Ok(Api {
            http: http_client(),
            target: self.target.clone(),
            cache_path: self.cache_path.clone(),
            fixed_token: self.fixed_token.clone(),
        })
    }
}

fn run(cli: Cli) -> Result<()> {
    let OutputFormat::Json = cli.global.output;
    let target = env::resolve(&Overrides {
        env: cli.global.env,
        base_url: cli.global.base_url,
        maskinporten_issuer: cli.global.maskinporten_issuer,
        maskinporten_token_url: cli.global.maskinporten_token_url,
    })?;
    let context = Context {
        target,
        cache_path: cache::default_path()?,
        printer: Printer {
            pretty: cli.global.pretty,
        },
        fixed_token: cli.global.token.filter(|t| !t.is_empty()),
    };
    match cli.command {
        Command::Jwk(command) => jwk_command(&context, command),
        Command::Login(command) => login_command(&context, command),
        Command::Logout => {
            let mut cache = TokenCache::load(&context.cache_path)?;
            let removed = cache.remove(&context.target.base_url).is_some();
            cache.save(&context.cache_path)?;
            context
                .printer
                .value(&json!({"loggedOut": removed, "baseUrl": context.target.base_url}))
        }
        Command::Token(command) => token_command(&context, command),
        Command::Publish(args) => publish(&context, args),
        Command::Events(command) => events_command(&context, command),
        Command::AppEvents(command) => app_events_command(&context, command),
        Command::Subscriptions(command) => subscriptions_command(&context, command),
        Command::Deadletters(command) => deadletters_command(&context, command),
    }
}

fn jwk_command(context: &Context, command: JwkCommand) -> Result<()> {
    match command {
        JwkCommand::New {
            alg,
            kid,
            out,
            force,
            print_private,
        } => {
            let kid = kid.unwrap_or_else(|| {
                let random = uuid::Uuid::new_v4().simple().to_string();
                format!(
                    "altinn-events-{}-{}",
                    chrono::Utc::now().format("%Y%m%d"),
                    &random[..8]
                )
            });
            let path = out.unwrap_or_else(|| PathBuf::from(format!("{kid}.jwk.json")));
            if path.exists() && !force {
                return Err(Error::Usage(format!(
                    "{} exists; it may hold a key in use. Choose another --out or add --force",
                    path.display()
                )));
            }
            let key = KeyPair::generate(alg, &kid)?;
            let contents = jwk::key_file_contents(&key);
            let text = serde_json::to_string_pretty(&contents)
                .map_err(|err| Error::Protocol(format!("cannot serialise the key: {err}")))?;
            cache::write_private(&path, text.as_bytes())?;
            eprintln!(
                "altinn-events: wrote the key pair and its EncodedJwk to {} (mode 600; keep it secret).\n\
                 Paste the public JWK array below into the integration's keys in Samarbeidsportalen.",
                path.display()
            );
            context.printer.value(&json!([key.public_jwk()]))?;
            if print_private {
                context.printer.value(&key.private_jwk())?;
                context.printer.value(&Value::String(key.encoded()))?;
            }
            Ok(())
        }
        JwkCommand::Public { file } => {
            let key = read_key_file(&file)?;
            context.printer.value(&json!([key.public_jwk()]))
        }
    }
}

fn read_key_file(path: &Path) -> Result<KeyPair> {
    let text = std::fs::read_to_string(path)
        .map_err(|err| Error::io(format!("cannot read the key file {}", path.display()), err))?;
    KeyPair::from_file_text(&text)
}

fn login_command(context: &Context, command: LoginCommand) -> Result<()> {
    let target = &context.target;
    let (params, command_line_key) = match command {
        LoginCommand::Maskinporten(args) => {
            let key = match (&args.jwk_file, &args.encoded_jwk) {
                (Some(path), _) => KeySource::File {
                    path: std::path::absolute(path)
                        .map_err(|err| Error::io(format!("cannot resolve {}", path.display()), err))?,
                },
                (None, Some(_)) => KeySource::CommandLine,
                (None, None) if std::env::var_os(login::ENCODED_JWK_VAR).is_some() => KeySource::EnvVar {
                    name: login::ENCODED_JWK_VAR.to_owned(),
                },
                (None, None) => {
                    return Err(Error::Usage(format!(
                        "no key: give --jwk-file FILE, --encoded-jwk B64 or set {} (make one with `altinn-events jwk new`)",
                        login::ENCODED_JWK_VAR
                    )))
                }
            };
            let params = LoginParams::Maskinporten {
                client_id: args.client_id,
                scope: args.scope,
                resources: args.resource,
                key,
                issuer: target.maskinporten_issuer.clone(),
                token_url: target.maskinporten_token_url.clone(),
            };
            (params, args.encoded_jwk)
        }
        LoginCommand::Dev(dev) => {
            let (dev, force) = match dev {
                DevCommand::Org {
                    org,
                    scope,
                    org_number,
                    force,
                } => (
                    DevLogin::Org {
                        org,
                        scope,
                        org_number,
                    },
                    force,
                ),
                DevCommand::User {
                    user_id,
                    party_id,
                    scope,
                    force,
                } => (
                    DevLogin::User {
                        user_id,
                        party_id,
                        scope,
                    },
                    force,
                ),
            };
            if !target.is_local() && !force {
                return Err(Error::Usage(format!(
                    "dev tokens are signed with the repository's public dev keys and are for a local service only; \
                     --env {} would not (and must not) trust them. Use `login maskinporten`, or add --force for a \
                     deployment you configured to trust the dev keys",
                    target.env
                )));
            }
            (LoginParams::Dev(dev), None)
        }
    };
    let session = login::login(
        &http_client(),
        &context.cache_path,
        target,
        &params,
        command_line_key.as_deref(),
    )?;
    eprintln!(
        "altinn-events: logged in to {} ({}); token cached in {}",
        target.base_url,
        target.env,
        context.cache_path.display()
    );
    context.printer.value(&json!({
        "env": session.env,
        "baseUrl": target.base_url,
        "expiresAt": session.expires_at,
        "renewable": session.can_relogin(),
    }))
}

fn token_command(context: &Context, command: TokenCommand) -> Result<()> {
    match command {
        TokenCommand::Show { console } => {
            let token = match &context.fixed_token {
                Some(token) => token.clone(),
                None => login::bearer(&http_client(), &context.cache_path, &context.target)?,
            };
            if console {
                println!("{}", console_url(&context.target.base_url, &token));
            } else {
                println!("{token}");
            }
            Ok(())
        }
        TokenCommand::Platform {
            issuer,
            app,
            key_file,
            expires_in,
        } => {
            let token = match key_file {
                Some(path) => {
                    let key = read_key_file(&path)?;
                    let now = chrono::Utc::now();
                    let mut claims = jwt_compact::Claims::new(json!({
                        "iss": issuer,
                        "urn:altinn:app": app,
                        "jti": uuid::Uuid::new_v4().to_string(),
                    }));
                    claims.issued_at = Some(now);
                    claims.expiration = Some(now + chrono::Duration::seconds(expires_in));
                    key.sign(&claims)?
                }
                None if context.target.is_local() => {
                    login::ensure_dev_keys()?;
                    devtoken::TokenSpec::platform(&issuer, &app)
                        .expires_in(expires_in)
                        .mint()
                }
                None => {
                    return Err(Error::Usage(format!(
                        "--env {} needs --key-file: the dev key is trusted by a local service only",
                        context.target.env
                    )))
                }
            };
            println!("{token}");
            Ok(())
        }
    }
}

fn publish(context: &Context, args: PublishArgs) -> Result<()> {
    let event = match &args.file {
        Some(file) => {
            let text = if file == "-" {
                let mut text = String::new();
                std::io::stdin()
                    .read_to_string(&mut text)
                    .map_err(|err| Error::io("cannot read stdin", err))?;
                text
            } else {
                std::fs::read_to_string(file)
                    .map_err(|err| Error::io(format!("cannot read {file}"), err))?
            };
            serde_json::from_str::<Value>(&text)
                .map_err(|err| Error::Usage(format!("{file} is not JSON: {err}")))?
        }
        None => event_from_flags(&args)?,
    };
    let api = context.api()?;
    match event {
        // Many events go in batches the service takes (at most 1 000 events and 1 MiB each),
        // in file order; a refused batch stops the run (earlier batches are stored).
        Value::Array(events) => {
            for (n, batch) in batches(&events).into_iter().enumerate() {
                api.send(
                    Method::Post,
                    &api.url(EVENTS),
                    Some(("application/cloudevents-batch+json", batch.body)),
                )
                .inspect_err(|_| {
                    if n > 0 {
                        eprintln!("the first {} events were stored", batch.first);
                    }
                })?;
            }
            events.iter().try_for_each(|e| context.printer.value(e))
        }
        single @ Value::Object(_) => {
            api.send(
                Method::Post,
                &api.url(EVENTS),
                Some(("application/cloudevents+json", single.to_string())),
            )?;
            context.printer.value(&single)
        }
        _ => Err(Error::Usage(
            "a CloudEvent is a JSON object (or an array of them)".into(),
        )),
    }
}

/// Events in one batch request, at most.
const BATCH_EVENTS: usize = 1000;
/// Bytes of one batch request's body, at most (the service takes 1 MiB; room for brackets).
const BATCH_BYTES: usize = 1024 * 1024 - 16;

/// One batch request: its body and the index of its first event.
struct Batch {
    first: usize,
    body: String,
}

/// The events in order, cut into batches of at most [`BATCH_EVENTS`] events and
/// [`BATCH_BYTES`] bytes (an event larger than that goes alone, and the service says why).
fn batches(events: &[Value]) -> Vec<Batch> {
    let mut out: Vec<Batch> = Vec::new();
    let mut body = String::new();
    let mut count = 0;
    let mut first = 0;
    for (i, event) in events.iter().enumerate() {
        let text = event.to_string();
        if count > 0 && (count == BATCH_EVENTS || body.len() + text.len() + 2 > BATCH_BYTES) {
            body.push(']');
            out.push(Batch {
                first,
                body: std::mem::take(&mut body),
            });
            count = 0;
        }
        if count == 0 {
            first = i;
            body.push('[');
        } else {
            body.push(',');
        }
        body.push_str(&text);
        count += 1;
    }
    if count > 0 {
        body.push(']');
        out.push(Batch { first, body });
    }
    out
}

fn event_from_flags(args: &PublishArgs) -> Result<Value> {
    let missing = |flag: &str| {
        Error::Usage(format!(
            "publish needs --file, or --resource, --source and --type ({flag} is missing)"
        ))
    };
    let resource = args
        .resource
        .as_deref()
        .ok_or_else(|| missing("--resource"))?;
    let source = args.source.as_deref().ok_or_else(|| missing("--source"))?;
    let event_type = args
        .event_type
        .as_deref()
        .ok_or_else(|| missing("--type"))?;
    let mut event = json!({
        "specversion": "1.0",
        "id": uuid::Uuid::new_v4().to_string(),
        "source": source,
        "type": event_type,
        "resource": resource_urn(resource),
        "time": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
    });
    if let Some(subject) = &args.subject {
        event["subject"] = json!(subject);
    }
    if let Some(data) = &args.data {
        event["data"] = serde_json::from_str(data).map_err(|err| {
            Error::Usage(format!(
                "--data is not JSON ({err}); quote a string like '\"text\"'"
            ))
        })?;
    }
    Ok(event)
}

fn events_command(context: &Context, command: EventsCommand) -> Result<()> {
    let (read, poll) = match command {
        EventsCommand::Read(read) => (read, None),
        EventsCommand::Tail { read, interval } => {
            (read, Some(Duration::from_secs(interval.max(1))))
        }
    };
    let api = context.api()?;
    let mut params = vec![
        ("resource", resource_urn(&read.resource)),
        ("after", read.after),
        ("subject", read.subject.unwrap_or_default()),
        ("size", read.size.map(|s| s.to_string()).unwrap_or_default()),
    ];
    params.extend(read.event_type.into_iter().map(|t| ("type", t)));
    let url = api.url_with(EVENTS, &params)?;
    print_pages(context, &api, url, poll)
}

fn print_pages(context: &Context, api: &Api, url: String, poll: Option<Duration>) -> Result<()> {
    let mut first = true;
    api.follow(url, poll, |events| {
        if context.printer.pretty {
            // One table per page with events; the heading once.
            if events.is_empty() && !first {
                return Ok(());
            }
            let text = output::table(events, output::EVENT_COLUMNS);
            let text = if first {
                text
            } else {
                text.lines().skip(1).map(|l| format!("{l}\n")).collect()
            };
            first = false;
            print!("{text}");
            Ok(())
        } else {
            events
                .iter()
                .try_for_each(|event| context.printer.value(event))
        }
    })
}

fn app_events_command(context: &Context, command: AppEventsCommand) -> Result<()> {
    let AppEventsCommand::Read {
        org,
        app,
        party,
        after,
        from,
        to,
        event_type,
        size,
    } = command;
    let api = context.api()?;
    let after = match (&after, &from) {
        (None, None) => Some("0".to_owned()),
        _ => after,
    };
    let mut params = vec![
        ("after", after.unwrap_or_default()),
        ("from", from.unwrap_or_default()),
        ("to", to.unwrap_or_default()),
        ("size", size.map(|s| s.to_string()).unwrap_or_default()),
    ];
    params.extend(event_type.into_iter().map(|t| ("type", t)));
    let path = match (org, app, party) {
        (Some(org), Some(app), _) => format!("{APP_EVENTS}/{org}/{app}"),
        (_, _, Some(party)) => {
            params.push(("party", party));
            format!("{APP_EVENTS}/party")
        }
        _ => return Err(Error::Usage("give --org and --app, or --party".into())),
    };
    let url = api.url_with(&path, &params)?;
    print_pages(context, &api, url, None)
}

fn subscriptions_command(context: &Context, command: SubscriptionsCommand) -> Result<()> {
    let api = context.api()?;
    match command {
        SubscriptionsCommand::Create {
            endpoint,
            resource,
            subject,
            event_type,
            source,
        } => {
            let mut body = json!({"endPoint": endpoint});
            for (name, value) in [
                ("resourceFilter", resource.map(|r| resource_urn(&r))),
                ("subjectFilter", subject),
                ("typeFilter", event_type),
                ("sourceFilter", source),
            ] {
                if let Some(value) = value {
                    body[name] = json!(value);
                }
            }
            let answer = api.send(
                Method::Post,
                &api.url(SUBSCRIPTIONS),
                Some(("application/json", body.to_string())),
            )?;
            context.printer.value(&answer.json()?)
        }
        SubscriptionsCommand::List => {
            let answer = api.send(Method::Get, &api.url(SUBSCRIPTIONS), None)?;
            let body = answer.json()?;
            let list = body
                .get("subscriptions")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            context.printer.list(&list, output::SUBSCRIPTION_COLUMNS)
        }
        SubscriptionsCommand::Get { id } => {
            let answer = api.send(
                Method::Get,
                &api.url(&format!("{SUBSCRIPTIONS}/{id}")),
                None,
            )?;
            context.printer.value(&answer.json()?)
        }
        SubscriptionsCommand::Delete { id } => {
            api.send(
                Method::Delete,
                &api.url(&format!("{SUBSCRIPTIONS}/{id}")),
                None,
            )?;
            context.printer.value(&json!({"deleted": id}))
        }
        SubscriptionsCommand::Attempts { id, after, size } => {
            let params = [
                ("after", after.map(|a| a.to_string()).unwrap_or_default()),
                ("size", size.map(|s| s.to_string()).unwrap_or_default()),
            ];
            let url = api.url_with(&format!("{SUBSCRIPTIONS}/{id}/attempts"), &params)?;
            let attempts = attempt_pages(&api, url)?;
            context.printer.list(&attempts, output::ATTEMPT_COLUMNS)
        }
        SubscriptionsCommand::Replay(args) => {
            let url = api.url(&format!("{SUBSCRIPTIONS}/{}/replay", args.id));
            let body = replay_body(&args);
            let answer = api
                .send(
                    Method::Post,
                    &url,
                    Some(("application/json", body.to_string())),
                )?
                .json()?;
            if let Some(cursor) = answer.get("cursor").and_then(Value::as_str) {
                eprintln!("altinn-events: more stored events remain; go on with --cursor {cursor}");
            }
            context.printer.value(&answer)
        }
        SubscriptionsCommand::Enable { id } => {
            let url = api.url(&format!("{SUBSCRIPTIONS}/{id}/enable"));
            context
                .printer
                .value(&api.send(Method::Post, &url, None)?.json()?)
        }
        SubscriptionsCommand::Secret { id, rotate } => {
            let (method, path) = if rotate {
                (Method::Post, format!("{SUBSCRIPTIONS}/{id}/secret/rotate"))
            } else {
                (Method::Get, format!("{SUBSCRIPTIONS}/{id}/secret"))
            };
            let answer = api.send(method, &api.url(&path), None)?;
            context.printer.value(&answer.json()?)
        }
    }
}

/// Every attempt from `url` on, following each page's `next` link (the attempt log is bounded,
/// so this ends).
fn attempt_pages(api: &Api, url: String) -> Result<Vec<Value>> {
    let mut url = url;
    let mut attempts = Vec::new();
    loop {
        let page = api.send(Method::Get, &url, None)?.json()?;
        let rows = page
            .get("attempts")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let empty = rows.is_empty();
        attempts.extend(rows);
        match page.get("next").and_then(Value::as_str) {
            Some(next) if !empty && next != url => url = next.to_owned(),
            _ => return Ok(attempts),
        }
    }
}

/// The body of `POST …/replay`: the flags given, by their API names.
fn replay_body(args: &ReplayArgs) -> Value {
    let mut body = json!({});
    for (name, value) in [
        ("from", &args.from),
        ("after", &args.after),
        ("to", &args.to),
        ("cursor", &args.cursor),
    ] {
        if let Some(value) = value {
            body[name] = json!(value);
        }
    }
    body
}

fn deadletters_command(context: &Context, command: DeadlettersCommand) -> Result<()> {
    let api = context.api()?;
    match command {
        DeadlettersCommand::List { subscription } => {
            let url = api.url(&format!("{SUBSCRIPTIONS}/{subscription}/deadletters"));
            let body = api.send(Method::Get, &url, None)?.json()?;
            let list = body
                .get("deadLetters")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            context.printer.list(&list, output::DEAD_LETTER_COLUMNS)
        }
        DeadlettersCommand::Redeliver { subscription } => {
            let url = api.url(&format!(
                "{SUBSCRIPTIONS}/{subscription}/deadletters/redeliver"
            ));
            let answer = api.send(Method::Post, &url, None)?;
            context.printer.value(&answer.json()?)
        }
    }
}

/// The web console's address on `base_url` with `token` in the fragment, which browsers never send
/// to a server; the console moves it into the tab's session storage and out of the address bar.
fn console_url(base_url: &str, token: &str) -> String {
    format!(
        "{}/events/console/#token={token}",
        base_url.trim_end_matches('/')
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory as _;

    #[test]
    fn command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn console_url_carries_the_token_in_the_fragment() {
        assert_eq!(
            console_url("http://127.0.0.1:8787/", "eyJ.a.b"),
            "http://127.0.0.1:8787/events/console/#token=eyJ.a.b"
        );
        let show = Cli::try_parse_from(["altinn-events", "token", "show", "--console"]).unwrap();
        assert!(matches!(
            show.command,
            Command::Token(TokenCommand::Show { console: true })
        ));
    }

    fn subscriptions(args: &[&str]) -> std::result::Result<SubscriptionsCommand, clap::Error> {
        let mut all = vec!["altinn-events", "subscriptions"];
        all.extend(args);
        match Cli::try_parse_from(all)?.command {
            Command::Subscriptions(command) => Ok(command),
            _ => panic!("not a subscriptions command"),
        }
    }

    #[test]
    fn replay_flags_make_the_request_body() {
        let body = |args: &[&str]| match subscriptions(args) {
            Ok(SubscriptionsCommand::Replay(replay)) => (replay.id, replay_body(&replay)),
            Ok(_) => panic!("not replay"),
            Err(err) => panic!("{args:?}: {err}"),
        };
        assert_eq!(
            body(&["replay", "7", "--from", "2026-01-01T00:00:00Z"]),
            (7, json!({"from": "2026-01-01T00:00:00Z"}))
        );
        assert_eq!(
            body(&[
                "replay",
                "7",
                "--from",
                "2026-01-01T00:00:00Z",
                "--to",
                "2026-01-02T00:00:00+01:00",
                "--cursor",
                "42",
            ]),
            (
                7,
                json!({"from": "2026-01-01T00:00:00Z", "to": "2026-01-02T00:00:00+01:00", "cursor": "42"})
            )
        );
        assert_eq!(
            body(&[
                "replay",
                "8",
                "--after",
                "e-1",
                "--to",
                "2026-01-02T00:00:00Z"
            ]),
            (8, json!({"after": "e-1", "to": "2026-01-02T00:00:00Z"}))
        );
        // Where the replay starts: exactly one of --from and --after.
        for bad in [
            &["replay", "7"][..],
            &["replay", "7", "--to", "2026-01-02T00:00:00Z"],
            &[
                "replay",
                "7",
                "--from",
                "2026-01-01T00:00:00Z",
                "--after",
                "e-1",
            ],
            &["replay", "--from", "2026-01-01T00:00:00Z"],
        ] {
            assert!(subscriptions(bad).is_err(), "{bad:?} parses");
        }
    }

    #[test]
    fn attempts_enable_and_secret_flags() {
        assert!(matches!(
            subscriptions(&["attempts", "7"]),
            Ok(SubscriptionsCommand::Attempts {
                id: 7,
                after: None,
                size: None
            })
        ));
        assert!(matches!(
            subscriptions(&["attempts", "7", "--after", "120", "--size", "1000"]),
            Ok(SubscriptionsCommand::Attempts {
                id: 7,
                after: Some(120),
                size: Some(1000)
            })
        ));
        assert!(subscriptions(&["attempts", "7", "--after", "-1"]).is_err());
        assert!(matches!(
            subscriptions(&["enable", "7"]),
            Ok(SubscriptionsCommand::Enable { id: 7 })
        ));
        assert!(matches!(
            subscriptions(&["secret", "7"]),
            Ok(SubscriptionsCommand::Secret {
                id: 7,
                rotate: false
            })
        ));
        assert!(matches!(
            subscriptions(&["secret", "7", "--rotate"]),
            Ok(SubscriptionsCommand::Secret {
                id: 7,
                rotate: true
            })
        ));
        assert!(subscriptions(&["secret"]).is_err());
    }

    #[test]
    fn many_events_go_in_batches_the_service_takes() {
        let small: Vec<Value> = (0..2500).map(|n| json!({"id": n})).collect();
        let cut = batches(&small);
        let sizes: Vec<usize> = cut
            .iter()
            .map(|b| serde_json::from_str::<Vec<Value>>(&b.body).unwrap().len())
            .collect();
        assert_eq!(sizes, [1000, 1000, 500]);
        assert_eq!(
            cut.iter().map(|b| b.first).collect::<Vec<_>>(),
            [0, 1000, 2000]
        );
        let back: Vec<Value> = cut
            .iter()
            .flat_map(|b| serde_json::from_str::<Vec<Value>>(&b.body).unwrap())
            .collect();
        assert_eq!(back, small, "every event once, in order");
        // Large events: cut by size.
        let big: Vec<Value> = (0..5)
            .map(|n| json!({"id": n, "data": "x".repeat(400_000)}))
            .collect();
        let cut = batches(&big);
        assert_eq!(cut.len(), 3);
        assert!(cut.iter().all(|b| b.body.len() <= BATCH_BYTES));
        assert!(batches(&[]).is_empty());
    }

    #[test]
    fn publish_flags_make_a_cloudevent() {
        let args = PublishArgs {
            file: None,
            resource: Some("ttd-demo".into()),
            source: Some("https://example.com/demo".into()),
            event_type: Some("demo.created".into()),
            subject: Some("/party/50001337".into()),
            data: Some(r#"{"hello":"world"}"#.into()),
        };
        let event = event_from_flags(&args).expect("event");
        assert_eq!(event["specversion"], "1.0");
        assert_eq!(event["resource"], "urn:altinn:resource:ttd-demo");
        assert_eq!(event["data"]["hello"], "world");
        assert!(uuid::Uuid::parse_str(event["id"].as_str().expect("id")).is_ok());
        assert!(
            chrono::DateTime::parse_from_rfc3339(event["time"].as_str().expect("time")).is_ok()
        );
        let bad = PublishArgs {
            data: Some("not json".into()),
            ..args
        };
        assert!(event_from_flags(&bad)
            .expect_err("bad data")
            .to_string()
            .contains("quote a string"));
    }
}
