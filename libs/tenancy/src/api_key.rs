use serde::{Deserialize, Serialize};

/// What an API key may do. A key belongs to one tenant and has one role.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Manages the organization: keys, provider, policies.
    Admin,
    /// Texts clients from cases.
    Advocate,
    /// Reviews and exports the audit trail.
    Compliance,
    /// A CMS integration: links cases, sends, receives webhooks.
    Integration,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Advocate => "advocate",
            Role::Compliance => "compliance",
            Role::Integration => "integration",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        serde_json::from_value(serde_json::Value::String(s.to_string())).ok()
    }
}

/// A freshly made API key. The secret is shown to its creator once; only its hash is kept.
pub struct ApiKeySecret {
    /// The whole bearer token: `cw_<prefix>_<secret>`.
    pub token: String,
    /// Shown in listings so people can tell keys apart without the secret.
    pub prefix: String,
    pub hash: String,
}

impl ApiKeySecret {
    pub fn generate() -> Self {
        let prefix = casewire_crypto::random_token(6);
        let token = format!("cw_{prefix}_{}", casewire_crypto::random_token(32));
        ApiKeySecret {
            hash: casewire_crypto::hash_secret(&token),
            prefix: format!("cw_{prefix}"),
            token,
        }
    }
}

impl std::fmt::Debug for ApiKeySecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ApiKeySecret({}…)", self.prefix)
    }
}
