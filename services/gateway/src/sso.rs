//! casewire as an OpenID Connect relying party, for the tenants that sign their people in
//! with Microsoft 365, Google or another provider: the authorization-code flow with PKCE,
//! a `state` and a `nonce`, through the `openidconnect` crate. Each step discovers the
//! provider again (its document and keys may change; a sign-in is rare enough).

use casewire_tenancy::SsoSettings;
use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata};
use openidconnect::{
    AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointMaybeSet, EndpointNotSet,
    EndpointSet, IssuerUrl, Nonce, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope,
    TokenResponse,
};
use serde::{Deserialize, Serialize};

/// What a sign-in carries between leaving for the provider and coming back: kept sealed
/// in the browser, never in casewire's database.
#[derive(Serialize, Deserialize)]
pub(crate) struct Pending {
    pub state: String,
    pub nonce: String,
    pub verifier: String,
}

/// Who the provider says signed in.
pub(crate) struct Verified {
    pub email: String,
}

fn http() -> Result<openidconnect::reqwest::Client, String> {
    openidconnect::reqwest::ClientBuilder::new()
        // A provider's redirect is not followed: it could lead anywhere inside.
        .redirect(openidconnect::reqwest::redirect::Policy::none())
        .timeout(std::time::Duration::from_secs(10))
        .build()
        .map_err(|e| e.to_string())
}

/// The provider's discovery document, or why it could not be read.
async fn discover(issuer: &str) -> Result<CoreProviderMetadata, String> {
    let issuer = IssuerUrl::new(issuer.to_string()).map_err(|e| format!("issuer: {e}"))?;
    CoreProviderMetadata::discover_async(issuer, &http()?)
        .await
        .map_err(|e| format!("issuer: its discovery document could not be read ({e})"))
}

/// Checks that the issuer answers as an OpenID Connect provider: when an admin sets it.
pub(crate) async fn check(issuer: &str) -> Result<(), String> {
    discover(issuer).await.map(|_| ())
}

fn secret(settings: &SsoSettings) -> Result<ClientSecret, String> {
    let opened = settings
        .client_secret
        .value()
        .ok_or("the client secret is erased")?;
    Ok(ClientSecret::new(opened.clone()))
}

/// The client as discovery makes it: an authorization endpoint, maybe a token one.
type Discovered = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// casewire as the tenant registered it at its provider, coming back to `callback`.
async fn client(settings: &SsoSettings, callback: &str) -> Result<Discovered, String> {
    let metadata = discover(&settings.issuer).await?;
    let redirect = RedirectUrl::new(callback.to_string()).map_err(|e| e.to_string())?;
    Ok(CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(settings.client_id.clone()),
        Some(secret(settings)?),
    )
    .set_redirect_uri(redirect))
}

/// Where to send the person to sign in, and what to keep until they come back.
pub(crate) async fn start(
    settings: &SsoSettings,
    callback: &str,
) -> Result<(String, Pending), String> {
    let client = client(settings, callback).await?;
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, state, nonce) = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("email".to_string()))
        .set_pkce_challenge(challenge)
        .url();
    let pending = Pending {
        state: state.secret().clone(),
        nonce: nonce.secret().clone(),
        verifier: verifier.secret().clone(),
    };
    Ok((url.to_string(), pending))
}

/// The person the provider vouches for: the code exchanged (with the PKCE verifier), the ID
/// token's signature, issuer, audience, expiry and nonce checked, and an email the provider
/// says it verified.
pub(crate) async fn finish(
    settings: &SsoSettings,
    callback: &str,
    code: &str,
    pending: Pending,
) -> Result<Verified, String> {
    let client = client(settings, callback).await?;
    let tokens = client
        .exchange_code(AuthorizationCode::new(code.to_string()))
        .map_err(|e| format!("the provider has no token endpoint ({e})"))?
        .set_pkce_verifier(PkceCodeVerifier::new(pending.verifier))
        .request_async(&http()?)
        .await
        .map_err(|e| format!("the provider refused the sign-in's code ({e})"))?;
    let id_token = tokens.id_token().ok_or("the provider sent no ID token")?;
    let claims = id_token
        .claims(&client.id_token_verifier(), &Nonce::new(pending.nonce))
        .map_err(|e| format!("the provider's ID token does not hold ({e})"))?;
    let email = claims.email().ok_or("the provider did not say the email")?;
    if claims.email_verified() != Some(true) {
        return Err("the provider has not verified this email".into());
    }
    Ok(Verified {
        email: email.as_str().to_string(),
    })
}
