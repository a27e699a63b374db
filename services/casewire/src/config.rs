//! casewire's configuration: defaults, then an optional casewire.toml, then environment
//! variables. Read once at start; every part of the program gets what it needs from here.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use serde::Deserialize;

/// A secret from the configuration. Its `Debug` never shows it.
#[derive(Clone, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: String) -> Self {
        Secret(value)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// `casewire dev`: where the SQLite database, master key and operator token live.
    pub data_dir: PathBuf,
    pub http_addr: SocketAddr,
    /// `casewire serve`: postgres://…
    pub database_url: Option<Secret>,
    /// `casewire serve`: nats://… (a user and password in it are a secret too).
    pub nats_url: Option<Secret>,
    /// A NATS `.creds` file (a user JWT and its nkey seed).
    pub nats_creds: Option<PathBuf>,
    /// A file holding a NATS user's nkey seed.
    pub nats_nkey: Option<PathBuf>,
    /// The CA (PEM) that signs the NATS servers' certificates: TLS is then required.
    pub nats_tls_ca: Option<PathBuf>,
    /// casewire's client certificate and key (PEM) for NATS servers that verify clients.
    pub nats_tls_cert: Option<PathBuf>,
    pub nats_tls_key: Option<PathBuf>,
    /// Replicas of the JetStream events stream: 3 on a 3- or 5-node cluster.
    pub nats_replicas: usize,
    pub operator_token: Option<Secret>,
    /// Base64 of 32 random bytes: wraps every data key and tenant secret.
    pub master_key: Option<Secret>,
    /// The URL the public reaches the gateway at (Twilio signs requests over it).
    pub public_url: Option<String>,
    /// Twilio's REST API; tests point it at a fake.
    pub twilio_api_base: String,
    pub otlp_endpoint: Option<String>,
    /// Logs as JSON lines (for shipping) instead of text.
    pub log_json: bool,
    /// CMS webhooks may go to private addresses and plain http (an on-premises CMS).
    /// Unset: no under `casewire serve`, yes under `casewire dev` (one organization on one
    /// machine, whose CMS may be on localhost).
    pub webhook_allow_private: Option<bool>,
    /// The name of the Ed25519 key that signs audit checkpoints (the signed note's key
    /// name): the host casewire is reached at, say. No spaces, no '+'.
    pub audit_key_name: String,
    /// Checkpoints are signed as a tenant's log reaches each multiple of this many events…
    pub checkpoint_events: i64,
    /// …and at most this many seconds after the first event no checkpoint covers.
    pub checkpoint_seconds: u64,
    /// How often each tenant's retention policy is applied, in seconds.
    pub retention_seconds: u64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            data_dir: PathBuf::from("data"),
            http_addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
            database_url: None,
            nats_url: None,
            nats_creds: None,
            nats_nkey: None,
            nats_tls_ca: None,
            nats_tls_cert: None,
            nats_tls_key: None,
            nats_replicas: 1,
            operator_token: None,
            master_key: None,
            public_url: None,
            twilio_api_base: casewire_sms::twilio::DEFAULT_API_BASE.to_string(),
            otlp_endpoint: None,
            log_json: false,
            webhook_allow_private: None,
            audit_key_name: casewire_audit::checkpoint::DEFAULT_KEY_NAME.to_string(),
            checkpoint_events: 1000,
            checkpoint_seconds: 3600,
            retention_seconds: 86400,
        }
    }
}

/// A signed note's key name: no Unicode spaces, no '+'.
fn signed_note_name(name: &str) -> bool {
    !name.is_empty() && !name.contains('+') && !name.chars().any(char::is_whitespace)
}

impl Config {
    /// When checkpoints are signed on their own.
    pub fn cadence(&self) -> casewire_audit::Cadence {
        casewire_audit::Cadence {
            events: self.checkpoint_events,
            after: std::time::Duration::from_secs(self.checkpoint_seconds),
        }
    }

    /// How `casewire serve` reaches NATS and signs in.
    pub fn nats_access(&self) -> Option<casewire_bus::NatsAccess> {
        Some(casewire_bus::NatsAccess {
            url: self.nats_url.as_ref()?.expose().to_string(),
            creds: self.nats_creds.clone(),
            nkey: self.nats_nkey.clone(),
            tls_ca: self.nats_tls_ca.clone(),
            tls_client: self.nats_tls_cert.clone().zip(self.nats_tls_key.clone()),
        })
    }

    /// Defaults, then the file named by `CASEWIRE_CONFIG` (or ./casewire.toml if present),
    /// then the environment.
    pub fn load() -> anyhow::Result<Config> {
        Config::from_sources(|k| std::env::var(k).ok())
    }

    pub fn from_sources(env: impl Fn(&str) -> Option<String>) -> anyhow::Result<Config> {
        let file = env("CASEWIRE_CONFIG").map(PathBuf::from).or_else(|| {
            let p = Path::new("casewire.toml");
            p.exists().then(|| p.to_path_buf())
        });
        let mut config = match file {
            Some(path) => {
                let text = std::fs::read_to_string(&path)
                    .with_context(|| format!("reading {}", path.display()))?;
                toml::from_str(&text).with_context(|| {
                    format!("{} is not a valid casewire configuration", path.display())
                })?
            }
            None => Config::default(),
        };
        let secret = |k: &str| env(k).filter(|v| !v.is_empty()).map(Secret);
        if let Some(v) = env("CASEWIRE_DATA_DIR") {
            config.data_dir = v.into();
        }
        if let Some(v) = env("CASEWIRE_HTTP_ADDR") {
            config.http_addr = v.parse().with_context(|| {
                format!("CASEWIRE_HTTP_ADDR: {v:?} is not an address like 127.0.0.1:8080")
            })?;
        }
        config.database_url = secret("DATABASE_URL").or(config.database_url);
        config.nats_url = secret("NATS_URL").or(config.nats_url);
        let path = |k: &str| env(k).filter(|v| !v.is_empty()).map(PathBuf::from);
        config.nats_creds = path("CASEWIRE_NATS_CREDS").or(config.nats_creds);
        config.nats_nkey = path("CASEWIRE_NATS_NKEY").or(config.nats_nkey);
        config.nats_tls_ca = path("CASEWIRE_NATS_TLS_CA").or(config.nats_tls_ca);
        config.nats_tls_cert = path("CASEWIRE_NATS_TLS_CERT").or(config.nats_tls_cert);
        config.nats_tls_key = path("CASEWIRE_NATS_TLS_KEY").or(config.nats_tls_key);
        if config.nats_tls_cert.is_some() != config.nats_tls_key.is_some() {
            bail!("CASEWIRE_NATS_TLS_CERT and CASEWIRE_NATS_TLS_KEY go together: give both or neither");
        }
        if let Some(v) = env("CASEWIRE_NATS_REPLICAS") {
            config.nats_replicas = v
                .parse()
                .ok()
                .filter(|n| [1, 3, 5].contains(n))
                .with_context(|| format!("CASEWIRE_NATS_REPLICAS: {v:?} must be 1, 3 or 5"))?;
        }
        config.operator_token = secret("CASEWIRE_OPERATOR_TOKEN").or(config.operator_token);
        config.master_key = secret("CASEWIRE_MASTER_KEY").or(config.master_key);
        config.public_url = env("CASEWIRE_PUBLIC_URL").or(config.public_url);
        if let Some(v) = env("CASEWIRE_TWILIO_API_BASE").filter(|v| !v.is_empty()) {
            config.twilio_api_base = v;
        }
        if let Some(u) = &config.public_url {
            if !(u.starts_with("https://") || u.starts_with("http://")) {
                bail!("CASEWIRE_PUBLIC_URL: {u:?} must be an absolute URL such as https://casewire.example.org");
            }
        }
        config.otlp_endpoint = env("OTEL_EXPORTER_OTLP_ENDPOINT")
            .filter(|v| !v.is_empty())
            .or(config.otlp_endpoint);
        if let Some(v) = env("CASEWIRE_LOG_FORMAT") {
            config.log_json = match v.as_str() {
                "json" => true,
                "text" => false,
                _ => bail!("CASEWIRE_LOG_FORMAT: {v:?} must be json or text"),
            };
        }
        if let Some(v) = env("CASEWIRE_WEBHOOK_ALLOW_PRIVATE").filter(|v| !v.is_empty()) {
            config.webhook_allow_private = Some(match v.as_str() {
                "true" => true,
                "false" => false,
                _ => bail!("CASEWIRE_WEBHOOK_ALLOW_PRIVATE: {v:?} must be true or false"),
            });
        }
        if let Some(v) = env("CASEWIRE_AUDIT_KEY_NAME").filter(|v| !v.is_empty()) {
            config.audit_key_name = v;
        }
        if !signed_note_name(&config.audit_key_name) {
            bail!(
                "CASEWIRE_AUDIT_KEY_NAME: {:?} must have no spaces and no '+'",
                config.audit_key_name
            );
        }
        if let Some(v) = env("CASEWIRE_CHECKPOINT_EVENTS") {
            config.checkpoint_events = v.parse().ok().filter(|n| *n >= 1).with_context(|| {
                format!("CASEWIRE_CHECKPOINT_EVENTS: {v:?} must be a whole number from 1")
            })?;
        }
        if let Some(v) = env("CASEWIRE_CHECKPOINT_SECONDS") {
            config.checkpoint_seconds = v.parse().ok().filter(|n| *n >= 1).with_context(|| {
                format!(
                    "CASEWIRE_CHECKPOINT_SECONDS: {v:?} must be a whole number of seconds from 1"
                )
            })?;
        }
        if let Some(v) = env("CASEWIRE_RETENTION_SECONDS") {
            config.retention_seconds = v.parse().ok().filter(|n| *n >= 1).with_context(|| {
                format!(
                    "CASEWIRE_RETENTION_SECONDS: {v:?} must be a whole number of seconds from 1"
                )
            })?;
        }
        if let Some(t) = &config.operator_token {
            if t.expose().len() < 16 {
                bail!("CASEWIRE_OPERATOR_TOKEN must be at least 16 characters");
            }
        }
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn load(vars: &[(&str, &str)]) -> anyhow::Result<Config> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_sources(|k| vars.get(k).cloned())
    }

    #[test]
    fn the_environment_overrides_the_file_which_overrides_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("casewire.toml");
        std::fs::write(
            &file,
            "http_addr = \"127.0.0.1:9000\"\nnats_replicas = 3\ndata_dir = \"/srv/cw\"\n",
        )
        .unwrap();
        let file = file.to_str().unwrap();
        let c = load(&[
            ("CASEWIRE_CONFIG", file),
            ("CASEWIRE_HTTP_ADDR", "0.0.0.0:80"),
        ])
        .unwrap();
        assert_eq!(c.http_addr.to_string(), "0.0.0.0:80");
        assert_eq!(c.nats_replicas, 3);
        assert_eq!(c.data_dir, PathBuf::from("/srv/cw"));
        assert_eq!(load(&[]).unwrap().http_addr.to_string(), "127.0.0.1:8080");
    }

    #[test]
    fn bad_values_say_what_is_wrong_and_secrets_stay_hidden() {
        let e = load(&[("CASEWIRE_HTTP_ADDR", "localhost")])
            .unwrap_err()
            .to_string();
        assert!(e.contains("CASEWIRE_HTTP_ADDR"), "{e}");
        let e = load(&[("CASEWIRE_NATS_REPLICAS", "2")])
            .unwrap_err()
            .to_string();
        assert!(e.contains("1, 3 or 5"), "{e}");
        let c = load(&[("CASEWIRE_OPERATOR_TOKEN", "a-very-long-operator-token")]).unwrap();
        assert!(!format!("{c:?}").contains("a-very-long"));
    }
}
