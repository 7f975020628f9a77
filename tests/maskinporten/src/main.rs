//! `maskinporten-standin`: a loopback Maskinporten for local runs (see the crate docs).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use standin::Client;

/// A loopback stand-in for Maskinporten's JWT-bearer grant (never for production).
#[derive(Parser)]
#[command(version)]
struct Args {
    /// Port on 127.0.0.1.
    #[arg(long, default_value_t = 8788)]
    port: u16,
    /// Issuer URL (the `aud` clients must use); default http://127.0.0.1:<port>/.
    #[arg(long)]
    issuer: Option<String>,
    /// JSON file with an array of clients: [{"client_id", "jwks": [...], "scopes": [...], "org_number"}].
    #[arg(long)]
    clients: Option<PathBuf>,
}

#[tokio::main]
async fn main() -> ExitCode {
    match run(Args::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("maskinporten-standin: {err}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> Result<(), String> {
    let clients: Vec<Client> = match &args.clients {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|err| format!("cannot read {}: {err}", path.display()))?;
            serde_json::from_str(&text).map_err(|err| {
                format!("{} is not a JSON array of clients: {err}", path.display())
            })?
        }
        None => Vec::new(),
    };
    let (listener, standin) = standin::bind(args.port, args.issuer).await?;
    for client in clients {
        standin.register(client);
    }
    eprintln!(
        "maskinporten-standin: issuer {}, token endpoint {}, register clients with POST /clients",
        standin.issuer(),
        standin.token_endpoint()
    );
    standin::serve(listener, standin).await
}
