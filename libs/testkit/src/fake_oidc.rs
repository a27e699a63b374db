//! A small OpenID Connect provider on `127.0.0.1`, for the console's single sign-on: a
//! discovery document, its keys, an authorization endpoint that signs in at once whoever
//! the test says is at the keyboard, and a token endpoint that checks the client's secret
//! and the PKCE verifier and answers an RS256 ID token. Built with the `openidconnect`
//! crate's own provider types, as a real provider's document and tokens are.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use openidconnect::core::{
    CoreIdToken, CoreIdTokenClaims, CoreIdTokenFields, CoreJsonWebKeySet, CoreJwsSigningAlgorithm,
    CoreProviderMetadata, CoreResponseType, CoreRsaPrivateSigningKey, CoreSubjectIdentifierType,
    CoreTokenResponse, CoreTokenType,
};
use openidconnect::{
    AccessToken, Audience, AuthUrl, EmptyAdditionalClaims, EmptyAdditionalProviderMetadata,
    EmptyExtraTokenFields, EndUserEmail, IssuerUrl, JsonWebKeyId, JsonWebKeySetUrl, Nonce,
    PkceCodeChallenge, PkceCodeVerifier, PrivateSigningKey, ResponseTypes, StandardClaims,
    SubjectIdentifier, TokenUrl,
};
use serde::Deserialize;
use tokio::task::JoinHandle;

/// The provider's signing key: made for these tests alone, and trusted by nothing else.
const KEY: &str = include_str!("fake_oidc_key.pem");

/// Who the provider signs in next: their email, and whether it says it verified it.
#[derive(Clone)]
pub struct Account {
    pub email: String,
    pub email_verified: bool,
}

/// What an issued code stands for until it is exchanged, once.
struct Grant {
    account: Account,
    nonce: String,
    challenge: String,
    redirect_uri: String,
}

struct Inner {
    issuer: String,
    client_id: String,
    client_secret: String,
    at_the_keyboard: Account,
    grants: HashMap<String, Grant>,
    key: CoreRsaPrivateSigningKey,
}

type Shared = Arc<Mutex<Inner>>;

fn lock(shared: &Shared) -> MutexGuard<'_, Inner> {
    shared.lock().unwrap_or_else(|p| p.into_inner())
}

/// The fake provider, stopped when dropped.
pub struct FakeOidc {
    issuer: String,
    shared: Shared,
    server: JoinHandle<()>,
}

impl Drop for FakeOidc {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl FakeOidc {
    /// Starts the provider for one client, with `account` at the keyboard.
    pub async fn start(client_id: &str, client_secret: &str, account: Account) -> FakeOidc {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the fake OIDC provider to 127.0.0.1:0");
        let issuer = format!("http://{}", listener.local_addr().expect("its address"));
        let key = CoreRsaPrivateSigningKey::from_pem(KEY, Some(JsonWebKeyId::new("k1".into())))
            .expect("the test key is an RSA key");
        let shared: Shared = Arc::new(Mutex::new(Inner {
            issuer: issuer.clone(),
            client_id: client_id.into(),
            client_secret: client_secret.into(),
            at_the_keyboard: account,
            grants: HashMap::new(),
            key,
        }));
        let app = Router::new()
            .route("/.well-known/openid-configuration", get(discovery))
            .route("/jwks", get(jwks))
            .route("/authorize", get(authorize))
            .route("/token", post(token))
            .with_state(shared.clone());
        let server = tokio::spawn(async move {
            axum::serve(listener, app)
                .await
                .expect("the fake OIDC provider failed");
        });
        FakeOidc {
            issuer,
            shared,
            server,
        }
    }

    /// The issuer (`http://127.0.0.1:PORT`).
    pub fn issuer(&self) -> String {
        self.issuer.clone()
    }

    /// Who signs in next.
    pub fn sign_in_as(&self, account: Account) {
        lock(&self.shared).at_the_keyboard = account;
    }
}

async fn discovery(State(shared): State<Shared>) -> Json<CoreProviderMetadata> {
    let issuer = lock(&shared).issuer.clone();
    let url = |path: &str| format!("{issuer}{path}");
    let metadata = CoreProviderMetadata::new(
        IssuerUrl::new(issuer.clone()).expect("an issuer URL"),
        AuthUrl::new(url("/authorize")).expect("a URL"),
        JsonWebKeySetUrl::new(url("/jwks")).expect("a URL"),
        vec![ResponseTypes::new(vec![CoreResponseType::Code])],
        vec![CoreSubjectIdentifierType::Public],
        vec![CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256],
        EmptyAdditionalProviderMetadata {},
    )
    .set_token_endpoint(Some(TokenUrl::new(url("/token")).expect("a URL")));
    Json(metadata)
}

async fn jwks(State(shared): State<Shared>) -> Json<CoreJsonWebKeySet> {
    Json(CoreJsonWebKeySet::new(vec![lock(&shared)
        .key
        .as_verification_key()]))
}

#[derive(Deserialize)]
struct Authorize {
    client_id: String,
    redirect_uri: String,
    state: String,
    nonce: String,
    code_challenge: String,
    code_challenge_method: String,
}

/// Signs in whoever is at the keyboard, at once, and sends them back with a code.
async fn authorize(State(shared): State<Shared>, Query(q): Query<Authorize>) -> Response {
    let mut inner = lock(&shared);
    if q.client_id != inner.client_id || q.code_challenge_method != "S256" {
        return (
            StatusCode::BAD_REQUEST,
            "unknown client or no S256 challenge",
        )
            .into_response();
    }
    let code = uuid::Uuid::new_v4().to_string();
    let grant = Grant {
        account: inner.at_the_keyboard.clone(),
        nonce: q.nonce,
        challenge: q.code_challenge,
        redirect_uri: q.redirect_uri.clone(),
    };
    inner.grants.insert(code.clone(), grant);
    let state: String = form_encode(&q.state);
    Redirect::to(&format!("{}?code={code}&state={state}", q.redirect_uri)).into_response()
}

fn form_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[derive(Deserialize)]
struct TokenRequest {
    code: String,
    redirect_uri: String,
    code_verifier: String,
}

/// Exchanges a code, once: the client's secret (HTTP Basic), the redirect URI and the PKCE
/// verifier must match what the authorization was given.
async fn token(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Form(f): Form<TokenRequest>,
) -> Response {
    let mut inner = lock(&shared);
    let basic = format!("{}:{}", inner.client_id, inner.client_secret);
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(basic)
    );
    if headers.get("authorization").and_then(|h| h.to_str().ok()) != Some(expected.as_str()) {
        return (
            StatusCode::UNAUTHORIZED,
            Json(serde_json::json!({"error": "invalid_client"})),
        )
            .into_response();
    }
    let Some(grant) = inner.grants.remove(&f.code) else {
        return (
            StatusCode::BAD_REQUEST,
            Json(serde_json::json!({"error": "invalid_grant"})),
        )
            .into_response();
    };
    let verifier = PkceCodeVerifier::new(f.code_verifier);
    let challenge = PkceCodeChallenge::from_code_verifier_sha256(&verifier);
    if challenge.as_str() != grant.challenge || f.redirect_uri != grant.redirect_uri {
        return (
            StatusCode::BAD_REQUEST,
            Json(serde_json::json!({"error": "invalid_grant"})),
        )
            .into_response();
    }
    let now = chrono::Utc::now();
    let claims = CoreIdTokenClaims::new(
        IssuerUrl::new(inner.issuer.clone()).expect("an issuer URL"),
        vec![Audience::new(inner.client_id.clone())],
        now + chrono::Duration::minutes(5),
        now,
        StandardClaims::new(SubjectIdentifier::new(format!(
            "sub-{}",
            grant.account.email
        )))
        .set_email(Some(EndUserEmail::new(grant.account.email.clone())))
        .set_email_verified(Some(grant.account.email_verified)),
        EmptyAdditionalClaims {},
    )
    .set_nonce(Some(Nonce::new(grant.nonce)));
    let id_token = CoreIdToken::new(
        claims,
        &inner.key,
        CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
        None,
        None,
    )
    .expect("the test key signs");
    let response = CoreTokenResponse::new(
        AccessToken::new(uuid::Uuid::new_v4().to_string()),
        CoreTokenType::Bearer,
        CoreIdTokenFields::new(Some(id_token), EmptyExtraTokenFields {}),
    );
    Json(response).into_response()
}
