//! Which SMS provider a tenant texts through, and the rules its settings must meet.

use casewire_events::Sealed;
use serde::{Deserialize, Serialize};

use crate::TenantError;

/// The sealed subject of a tenant's Twilio auth token.
pub const AUTH_TOKEN_SUBJECT: &str = "tenant-secret:twilio";

/// What Twilio charged per US SMS segment when this was written, in micro-dollars: the
/// estimate shown before sending when a tenant sets no rate of its own.
pub const DEFAULT_PRICE_PER_SEGMENT_MICROS: u64 = 8_300;
/// What Twilio charged per US MMS (one message, whatever its length) when this was
/// written, in micro-dollars: the estimate for a text with attachments.
pub const DEFAULT_PRICE_PER_MMS_MICROS: u64 = 20_000;

fn default_mms_price() -> u64 {
    DEFAULT_PRICE_PER_MMS_MICROS
}

/// A tenant's provider as recorded: the auth token sealed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SmsSettings {
    pub provider: SmsProvider,
    /// The estimated price of one segment, in micro-dollars.
    pub price_per_segment_micros: u64,
    /// The estimated price of one MMS, in micro-dollars.
    #[serde(default = "default_mms_price")]
    pub price_per_mms_micros: u64,
}

impl SmsSettings {
    /// The sandbox at the default prices: what `casewire dev` texts through.
    pub fn sandbox() -> Self {
        SmsSettings {
            provider: SmsProvider::Sandbox,
            price_per_segment_micros: DEFAULT_PRICE_PER_SEGMENT_MICROS,
            price_per_mms_micros: DEFAULT_PRICE_PER_MMS_MICROS,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SmsProvider {
    /// Captures texts instead of sending them (`casewire dev`).
    Sandbox,
    Twilio {
        account_sid: String,
        #[schema(value_type = casewire_events::SealedSchema)]
        auth_token: Sealed<String>,
        /// The number texts come from (E.164), or …
        #[serde(default, skip_serializing_if = "Option::is_none")]
        from: Option<String>,
        /// … the Messaging Service that picks it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        messaging_service_sid: Option<String>,
    },
}

impl SmsProvider {
    pub fn kind(&self) -> &'static str {
        match self {
            SmsProvider::Sandbox => "sandbox",
            SmsProvider::Twilio { .. } => "twilio",
        }
    }
}

/// Settings as an admin gives them, before validation.
#[derive(Clone)]
pub struct SmsSettingsInput {
    pub kind: String,
    pub account_sid: Option<String>,
    pub auth_token: Option<String>,
    pub from: Option<String>,
    pub messaging_service_sid: Option<String>,
    pub price_per_segment_usd: Option<f64>,
    pub price_per_mms_usd: Option<f64>,
}

impl std::fmt::Debug for SmsSettingsInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmsSettingsInput")
            .field("kind", &self.kind)
            .field("account_sid", &self.account_sid)
            .field(
                "auth_token",
                &self.auth_token.as_ref().map(|_| "<redacted>"),
            )
            .field("from", &self.from)
            .field("messaging_service_sid", &self.messaging_service_sid)
            .finish()
    }
}

fn sid(what: &str, prefix: &str, value: Option<String>) -> Result<String, TenantError> {
    let v = value
        .ok_or_else(|| TenantError::InvalidSmsProvider(format!("{what} is required for Twilio")))?;
    let v = v.trim();
    let hex = v.strip_prefix(prefix).unwrap_or("");
    if hex.len() != 32 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(TenantError::InvalidSmsProvider(format!(
            "{what} must be {prefix} followed by 32 hexadecimal characters, as in the Twilio console"
        )));
    }
    Ok(v.to_string())
}

/// A price given in dollars, as micro-dollars: between 0 and 1 dollar, or the default.
fn micros(what: &str, per: &str, usd: Option<f64>, default: u64) -> Result<u64, TenantError> {
    match usd {
        None => Ok(default),
        Some(p) if p.is_finite() && (0.0..=1.0).contains(&p) => Ok((p * 1e6).round() as u64),
        Some(_) => Err(TenantError::InvalidSmsProvider(format!(
            "{what} must be between 0 and 1 (dollars per {per})"
        ))),
    }
}

impl SmsSettingsInput {
    /// Checks the settings and seals the auth token.
    pub fn validate(self) -> Result<SmsSettings, TenantError> {
        let bad = |m: &str| TenantError::InvalidSmsProvider(m.to_string());
        let price_per_segment_micros = micros(
            "price_per_segment_usd",
            "segment",
            self.price_per_segment_usd,
            DEFAULT_PRICE_PER_SEGMENT_MICROS,
        )?;
        let price_per_mms_micros = micros(
            "price_per_mms_usd",
            "MMS",
            self.price_per_mms_usd,
            DEFAULT_PRICE_PER_MMS_MICROS,
        )?;
        let provider = match self.kind.as_str() {
            "sandbox" => {
                if self.account_sid.is_some()
                    || self.auth_token.is_some()
                    || self.from.is_some()
                    || self.messaging_service_sid.is_some()
                {
                    return Err(bad("the sandbox takes no account_sid, auth_token, from or messaging_service_sid"));
                }
                SmsProvider::Sandbox
            }
            "twilio" => {
                let account_sid = sid("account_sid", "AC", self.account_sid)?;
                let token = self.auth_token.unwrap_or_default();
                if token.is_empty()
                    || token.len() > 128
                    || token.chars().any(|c| !c.is_ascii_graphic())
                {
                    return Err(bad(
                        "auth_token is required: the account's auth token from the Twilio console",
                    ));
                }
                let (from, messaging_service_sid) =
                    match (self.from, self.messaging_service_sid) {
                        (Some(f), None) => (
                            Some(casewire_sms::phone::normalize(&f).map_err(|e| {
                                TenantError::InvalidSmsProvider(format!("from: {e}"))
                            })?),
                            None,
                        ),
                        (None, Some(m)) => {
                            (None, Some(sid("messaging_service_sid", "MG", Some(m))?))
                        }
                        _ => return Err(bad(
                            "give exactly one of from (a phone number) or messaging_service_sid",
                        )),
                    };
                SmsProvider::Twilio {
                    account_sid,
                    auth_token: Sealed::new(AUTH_TOKEN_SUBJECT, token),
                    from,
                    messaging_service_sid,
                }
            }
            other => {
                return Err(TenantError::InvalidSmsProvider(format!(
                    "kind must be \"twilio\" or \"sandbox\", not {other:?}"
                )))
            }
        };
        Ok(SmsSettings {
            provider,
            price_per_segment_micros,
            price_per_mms_micros,
        })
    }
}
