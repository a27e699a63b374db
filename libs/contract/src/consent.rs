//! What consent answers: a number's consent recorded by staff, or asked of the client.

use casewire_events::consent::{Method, State};
use serde::{Deserialize, Serialize};

use crate::Command;

pub const SERVICE: &str = "consent";

/// Texts the client the organization's confirmation request and makes the number's
/// consent pending. Refused with `conflict` when the client opted out.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Request {
    pub phone: String,
    /// en when left out.
    pub language: Option<String>,
}

impl Command for Request {
    const SERVICE: &'static str = SERVICE;
    const NAME: &'static str = "request";
    type Answer = ConsentView;
}

/// Consent given or withdrawn by phone, in writing or at intake, as staff recorded it.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Record {
    pub phone: String,
    pub state: State,
    pub method: Method,
    pub note: Option<String>,
}

impl Command for Record {
    const SERVICE: &'static str = SERVICE;
    const NAME: &'static str = "record";
    type Answer = ConsentView;
}

/// A number's consent as the API shows it.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ConsentView {
    pub phone: String,
    /// none, pending, granted or revoked.
    pub state: String,
    pub updated_at: Option<String>,
    /// Every change, oldest first.
    pub history: Vec<EvidenceView>,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct EvidenceView {
    pub state: String,
    /// The client's text (opened), the staff member's key, method and note, or Twilio's reason.
    #[schema(value_type = Object)]
    pub evidence: serde_json::Value,
    pub recorded_at: String,
}
