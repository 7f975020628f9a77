//! A loopback stand-in for Maskinporten: the JWT-bearer grant (RFC 7523) as Maskinporten answers
//! it, for local runs of the CLI and for tests. Not a security boundary: it keeps everything in
//! memory and its admin endpoint is open to anyone on loopback.
//!
//! - `POST /token` (form `grant_type`, `assertion`): verifies the assertion against the client's
//!   registered public JWKs and answers an access token signed with the stand-in's own RS256 key.
//! - `POST /clients` (JSON [`Client`]): registers or replaces a client at runtime.
//! - `GET /.well-known/oauth-authorization-server` and `GET /jwk`: metadata and the public key set.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use chrono::{DateTime, Duration, Utc};
use jwt_compact::alg::{Es256, Rsa};
use jwt_compact::jwk::JsonWebKey;
use jwt_compact::{AlgorithmExt, Claims, Header, UntrustedToken};
use rsa::{RsaPrivateKey, RsaPublicKey};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tokio::net::TcpListener;

/// The grant type Maskinporten accepts.
pub const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
/// The longest lifetime Maskinporten accepts for an assertion (`exp - iat`).
pub const MAX_ASSERTION_LIFETIME_SECS: i64 = 120;
/// Lifetime of the access tokens this stand-in issues.
pub const ACCESS_TOKEN_LIFETIME_SECS: i64 = 120;
/// Clock skew tolerated on `iat` and `exp`.
const LEEWAY_SECS: i64 = 10;

/// A registered integration: its client id, public JWKs (each with a `kid`), allowed scopes and
/// the organisation that owns it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Client {
    pub client_id: String,
    pub jwks: Vec<Value>,
    #[serde(default)]
    pub scopes: Vec<String>,
    #[serde(default = "default_org_number")]
    pub org_number: String,
}

fn default_org_number() -> String {
    "991825827".to_owned()
}

/// A refusal, in Maskinporten's shape: `{"error", "error_description"}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantError {
    pub status: StatusCode,
    pub error: &'static str,
    pub description: String,
}

impl GrantError {
    fn invalid_grant(description: impl Into<String>) -> Self {
        GrantError {
            status: StatusCode::BAD_REQUEST,
            error: "invalid_grant",
            description: description.into(),
        }
    }

    fn invalid_client(description: impl Into<String>) -> Self {
        GrantError {
            status: StatusCode::UNAUTHORIZED,
            error: "invalid_client",
            description: description.into(),
        }
    }
}

impl IntoResponse for GrantError {
    fn into_response(self) -> Response {
        let body = json!({"error": self.error, "error_description": self.description});
        (self.status, Json(body)).into_response()
    }
}

/// The form posted to `/token`.
#[derive(Debug, Deserialize)]
pub struct TokenRequest {
    #[serde(default)]
    pub grant_type: String,
    #[serde(default)]
    pub assertion: String,
}

/// A successful `/token` answer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: String,
    pub expires_in: i64,
    pub scope: String,
}

/// The claims of a grant assertion this stand-in reads.
#[derive(Debug, Deserialize)]
struct GrantClaims {
    #[serde(default)]
    iss: Option<String>,
    #[serde(default)]
    aud: Option<Value>,
    #[serde(default)]
    scope: Option<String>,
    #[serde(default)]
    jti: Option<String>,
    /// An audience-restricted token was asked for (becomes the access token's `aud`).
    #[serde(default)]
    resource: Option<Value>,
}

/// The stand-in's state: its issuer, signing key, clients and the `jti`s already used.
pub struct StandIn {
    issuer: String,
    key: RsaPrivateKey,
    kid: String,
    clients: Mutex<HashMap<String, Client>>,
    /// `jti`s seen, with the `exp` of their assertion (forgotten once that has passed).
    used_jtis: Mutex<HashMap<String, DateTime<Utc>>>,
}

impl StandIn {
    /// A stand-in with a freshly generated 2048-bit RS256 key.
    pub fn new(issuer: &str) -> Result<Self, String> {
        let key = RsaPrivateKey::new(&mut rand_core::OsRng, 2048)
            .map_err(|err| format!("cannot generate the signing key: {err}"))?;
        Ok(StandIn {
            issuer: issuer.to_owned(),
            key,
            kid: format!("standin-{}", uuid::Uuid::new_v4().simple()),
            clients: Mutex::new(HashMap::new()),
            used_jtis: Mutex::new(HashMap::new()),
        })
    }

    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The token endpoint: the issuer with `token` appended.
    pub fn token_endpoint(&self) -> String {
        format!("{}/token", self.issuer.trim_end_matches('/'))
    }

    /// Registers (or replaces) a client.
    pub fn register(&self, client: Client) {
        let mut clients = self.clients.lock().unwrap_or_else(|e| e.into_inner());
        clients.insert(client.client_id.clone(), client);
    }

    /// The public key set (`{"keys": [...]}`) that verifies the access tokens.
    pub fn jwks(&self) -> Value {
        let public = RsaPublicKey::from(&self.key);
        let mut jwk = serde_json::to_value(JsonWebKey::from(&public)).unwrap_or(Value::Null);
        if let Value::Object(map) = &mut jwk {
            map.insert("kid".into(), json!(self.kid));
            map.insert("alg".into(), json!("RS256"));
            map.insert("use".into(), json!("sig"));
        }
        json!({ "keys": [jwk] })
    }

    /// Signs arbitrary `claims` with the stand-in's access-token key, with header `kid` (the
    /// stand-in's own when `None`): for tests of a verifier's refusals (wrong `iss`, expired, an
    /// unknown `kid`). Nothing is checked or added.
    pub fn mint(&self, claims: &Value, kid: Option<&str>) -> Result<String, String> {
        let header = Header::empty()
            .with_key_id(kid.unwrap_or(&self.kid).to_owned())
            .with_token_type("JWT");
        Rsa::rs256()
            .token(&header, &Claims::new(claims.clone()), &self.key)
            .map_err(|err| format!("cannot sign: {err}"))
    }

    /// The authorization-server metadata.
    pub fn metadata(&self) -> Value {
        let base = self.issuer.trim_end_matches('/');
        json!({
            "issuer": self.issuer,
            "token_endpoint": self.token_endpoint(),
            "jwks_uri": format!("{base}/jwk"),
            "token_endpoint_auth_methods_supported": ["private_key_jwt"],
            "grant_types_supported": [JWT_BEARER],
            "token_endpoint_auth_signing_alg_values_supported": ["RS256", "ES256"],
        })
    }

    /// Runs the JWT-bearer grant at time `now`.
    pub fn grant(
        &self,
        request: &TokenRequest,
        now: DateTime<Utc>,
    ) -> Result<TokenResponse, GrantError> {
        if request.grant_type != JWT_BEARER {
            return Err(GrantError {
                status: StatusCode::BAD_REQUEST,
                error: "unsupported_grant_type",
                description: format!("grant_type must be {JWT_BEARER}"),
            });
        }
        let token = UntrustedToken::new(&request.assertion).map_err(|err| {
            GrantError::invalid_grant(format!("Invalid assertion. Not a JWT: {err}"))
        })?;
        let unchecked = token
            .deserialize_claims_unchecked::<GrantClaims>()
            .map_err(|err| {
                GrantError::invalid_grant(format!("Invalid assertion. Claims: {err}"))
            })?;
        let client_id = unchecked.custom.iss.clone().unwrap_or_default();
        let client = {
            let clients = self.clients.lock().unwrap_or_else(|e| e.into_inner());
            clients.get(&client_id).cloned()
        }
        .ok_or_else(|| {
            GrantError::invalid_client(format!(
                "Invalid client: no client with id '{client_id}' (iss)"
            ))
        })?;

        let kid = token.header().key_id.clone().unwrap_or_default();
        let jwk = client
            .jwks
            .iter()
            .find(|jwk| jwk.get("kid").and_then(Value::as_str) == Some(kid.as_str()))
            .ok_or_else(|| {
                GrantError::invalid_client(format!(
                    "Invalid assertion. Client authentication failed: no key with kid '{kid}' is registered for client '{client_id}'"
                ))
            })?;
        let claims = verify(&token, jwk)?;

        let audience_ok = match &claims.custom.aud {
            Some(Value::String(aud)) => aud == &self.issuer,
            Some(Value::Array(auds)) => auds
                .iter()
                .any(|a| a.as_str() == Some(self.issuer.as_str())),
            _ => false,
        };
        if !audience_ok {
            return Err(GrantError::invalid_grant(format!(
                "Invalid assertion. The aud claim must be '{}'",
                self.issuer
            )));
        }
        let (Some(iat), Some(exp)) = (claims.issued_at, claims.expiration) else {
            return Err(GrantError::invalid_grant(
                "Invalid assertion. iat and exp are required",
            ));
        };
        if exp - iat > Duration::seconds(MAX_ASSERTION_LIFETIME_SECS) {
            return Err(GrantError::invalid_grant(format!(
                "Invalid assertion. exp is more than {MAX_ASSERTION_LIFETIME_SECS} seconds after iat"
            )));
        }
        let leeway = Duration::seconds(LEEWAY_SECS);
        if exp + leeway < now {
            return Err(GrantError::invalid_grant(
                "Invalid assertion. The assertion has expired (exp is in the past; check the client's clock)",
            ));
        }
        if iat - leeway > now {
            return Err(GrantError::invalid_grant(
                "Invalid assertion. iat is in the future (check the client's clock)",
            ));
        }
        let jti = claims.custom.jti.clone().unwrap_or_default();
        if jti.is_empty() {
            return Err(GrantError::invalid_grant(
                "Invalid assertion. jti is required",
            ));
        }
        {
            let mut used = self.used_jtis.lock().unwrap_or_else(|e| e.into_inner());
            used.retain(|_, expires| *expires + leeway >= now);
            if used.insert(jti.clone(), exp).is_some() {
                return Err(GrantError::invalid_grant(format!(
                    "Invalid assertion. jti '{jti}' has already been used"
                )));
            }
        }
        let scope = claims.custom.scope.clone().unwrap_or_default();
        let requested: Vec<&str> = scope.split_whitespace().collect();
        if requested.is_empty() {
            return Err(GrantError {
                status: StatusCode::BAD_REQUEST,
                error: "invalid_scope",
                description: "No scope requested".into(),
            });
        }
        if let Some(missing) = requested
            .iter()
            .find(|s| !client.scopes.iter().any(|a| a == *s))
        {
            return Err(GrantError {
                status: StatusCode::BAD_REQUEST,
                error: "invalid_scope",
                description: format!("Scope '{missing}' is not allowed for client '{client_id}'"),
            });
        }
        let access_token = self.access_token(
            &client,
            &requested.join(" "),
            claims.custom.resource.as_ref(),
            now,
        )?;
        Ok(TokenResponse {
            access_token,
            token_type: "Bearer".into(),
            expires_in: ACCESS_TOKEN_LIFETIME_SECS,
            scope: requested.join(" "),
        })
    }

    fn access_token(
        &self,
        client: &Client,
        scope: &str,
        resource: Option<&Value>,
        now: DateTime<Utc>,
    ) -> Result<String, GrantError> {
        let mut custom = json!({
            "iss": self.issuer,
            "client_id": client.client_id,
            "client_amr": "private_key_jwt",
            "token_type": "Bearer",
            "scope": scope,
            "consumer": {
                "authority": "iso6523-actorid-upis",
                "ID": format!("0192:{}", client.org_number),
            },
            "jti": uuid::Uuid::new_v4().to_string(),
        });
        if let Some(resource) = resource {
            custom["aud"] = resource.clone();
        }
        let mut claims = Claims::new(custom);
        claims.issued_at = Some(now);
        claims.expiration = Some(now + Duration::seconds(ACCESS_TOKEN_LIFETIME_SECS));
        let header = Header::empty()
            .with_key_id(self.kid.clone())
            .with_token_type("JWT");
        Rsa::rs256()
            .token(&header, &claims, &self.key)
            .map_err(|err| GrantError {
                status: StatusCode::INTERNAL_SERVER_ERROR,
                error: "server_error",
                description: format!("cannot sign the access token: {err}"),
            })
    }
}

/// Checks the assertion's signature with `jwk`, by the algorithm its header names.
fn verify(token: &UntrustedToken<'_>, jwk: &Value) -> Result<Claims<GrantClaims>, GrantError> {
    let bad_key = |err: String| {
        GrantError::invalid_client(format!("The registered key is not usable: {err}"))
    };
    let bad_signature = |err: jwt_compact::ValidationError| {
        GrantError::invalid_grant(format!(
            "Invalid assertion. Client authentication failed. Invalid signature ({err})"
        ))
    };
    let key: JsonWebKey<'_> =
        serde_json::from_value(jwk.clone()).map_err(|err| bad_key(err.to_string()))?;
    let checked = match token.algorithm() {
        "RS256" => {
            let public = RsaPublicKey::try_from(&key).map_err(|err| bad_key(err.to_string()))?;
            Rsa::rs256()
                .validator::<GrantClaims>(&public)
                .validate(token)
                .map_err(bad_signature)?
        }
        "ES256" => {
            let public = p256::ecdsa::VerifyingKey::try_from(&key)
                .map_err(|err| bad_key(err.to_string()))?;
            Es256
                .validator::<GrantClaims>(&public)
                .validate(token)
                .map_err(bad_signature)?
        }
        other => {
            return Err(GrantError::invalid_grant(format!(
                "Invalid assertion. Algorithm '{other}' is not allowed (RS256, ES256)"
            )))
        }
    };
    Ok(checked.into_parts().1)
}

async fn token(State(standin): State<Arc<StandIn>>, Form(request): Form<TokenRequest>) -> Response {
    match standin.grant(&request, Utc::now()) {
        Ok(answer) => Json(answer).into_response(),
        Err(err) => err.into_response(),
    }
}

async fn register(State(standin): State<Arc<StandIn>>, Json(client): Json<Client>) -> Response {
    if client.client_id.is_empty()
        || client
            .jwks
            .iter()
            .any(|k| k.get("kid").and_then(Value::as_str).is_none())
    {
        let body = json!({"error": "invalid_request", "error_description": "client_id and a kid on every JWK are required"});
        return (StatusCode::BAD_REQUEST, Json(body)).into_response();
    }
    let id = client.client_id.clone();
    standin.register(client);
    (StatusCode::CREATED, Json(json!({"client_id": id}))).into_response()
}

/// The stand-in's routes.
pub fn router(standin: Arc<StandIn>) -> Router {
    Router::new()
        .route("/token", post(token))
        .route("/clients", post(register))
        .route(
            "/.well-known/oauth-authorization-server",
            get(|State(s): State<Arc<StandIn>>| async move { Json(s.metadata()) }),
        )
        .route(
            "/jwk",
            get(|State(s): State<Arc<StandIn>>| async move { Json(s.jwks()) }),
        )
        .with_state(standin)
}

/// Binds `127.0.0.1:port` (0 = any free port); the issuer defaults to `http://127.0.0.1:<port>/`.
pub async fn bind(
    port: u16,
    issuer: Option<String>,
) -> Result<(TcpListener, Arc<StandIn>), String> {
    let listener = TcpListener::bind(("127.0.0.1", port))
        .await
        .map_err(|err| format!("cannot listen on 127.0.0.1:{port}: {err}"))?;
    let addr: SocketAddr = listener.local_addr().map_err(|err| err.to_string())?;
    let issuer = issuer.unwrap_or_else(|| format!("http://127.0.0.1:{}/", addr.port()));
    Ok((listener, Arc::new(StandIn::new(&issuer)?)))
}

/// Serves until the task is dropped.
pub async fn serve(listener: TcpListener, standin: Arc<StandIn>) -> Result<(), String> {
    axum::serve(listener, router(standin))
        .await
        .map_err(|err| err.to_string())
}

/// Starts a stand-in on a free loopback port in the current runtime; for tests.
pub async fn spawn() -> Result<Arc<StandIn>, String> {
    let (listener, standin) = bind(0, None).await?;
    tokio::spawn(serve(listener, standin.clone()));
    Ok(standin)
}
