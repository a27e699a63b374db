//! A tenant's single sign-on: the OpenID Connect provider its people sign in with
//! (Microsoft 365, Google, or any other), as the organization registered casewire there.

use casewire_events::Sealed;
use serde::{Deserialize, Serialize};

/// The sealed subject of a tenant's OpenID Connect client secret.
pub const CLIENT_SECRET_SUBJECT: &str = "tenant-secret:sso";

/// A tenant's OpenID Connect provider as recorded: the client secret sealed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SsoSettings {
    /// The provider's issuer: its discovery document is at
    /// `{issuer}/.well-known/openid-configuration`.
    pub issuer: String,
    pub client_id: String,
    #[schema(value_type = casewire_events::SealedSchema)]
    pub client_secret: Sealed<String>,
}

impl SsoSettings {
    /// Checks what an admin may get wrong, naming the field. The issuer is `https://`; a
    /// provider on this machine (`http://127.0.0.1`, `http://localhost`) is allowed for
    /// tests and trials, where no one between can pose as it.
    pub fn validate(&self) -> Result<(), String> {
        let local = [
            "http://127.0.0.1:",
            "http://localhost:",
            "http://127.0.0.1/",
            "http://localhost/",
        ];
        let https = self.issuer.starts_with("https://") && self.issuer.len() > "https://".len();
        if !https && !local.iter().any(|l| self.issuer.starts_with(l)) {
            return Err(format!(
                "issuer: {:?} is not an https:// address",
                self.issuer
            ));
        }
        if self.issuer.len() > 2048 || self.issuer.chars().any(char::is_whitespace) {
            return Err("issuer: an address of at most 2048 characters, without spaces".into());
        }
        if self.client_id.trim().is_empty() || self.client_id.len() > 255 {
            return Err("client_id: 1 to 255 characters".into());
        }
        let secret = self.client_secret.value().map_or(0, String::len);
        if !(1..=1024).contains(&secret) {
            return Err("client_secret: 1 to 1024 characters".into());
        }
        Ok(())
    }
}
