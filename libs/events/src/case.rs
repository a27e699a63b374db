//! The events of case-link: cases and their clients, where each inbound text was routed,
//! and the CMS's webhook endpoints.

use serde::{Deserialize, Serialize};

use crate::Sealed;

pub const AGGREGATE: &str = "case";
pub const ROUTE_AGGREGATE: &str = "inbound_route";
pub const ENDPOINT_AGGREGATE: &str = "webhook_endpoint";

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Client {
    #[schema(value_type = crate::SealedSchema)]
    pub name: Sealed<String>,
    /// E.164.
    pub phone: String,
    /// BCP 47, e.g. en or es.
    pub language: String,
}

/// Whether `l` is a BCP 47 language tag of the shape casewire keeps: `en`, `es`, `es-MX`.
pub fn is_language_tag(l: &str) -> bool {
    let mut parts = l.split('-');
    let primary = parts.next().unwrap_or("");
    (2..=3).contains(&primary.len())
        && primary.chars().all(|c| c.is_ascii_alphabetic())
        && parts.all(|p| (2..=8).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphanumeric()))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CaseStatus {
    Open,
    Closed,
}

impl CaseStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CaseStatus::Open => "open",
            CaseStatus::Closed => "closed",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CaseDetails {
    pub client: Client,
    pub status: CaseStatus,
    pub problem_code: Option<String>,
    pub office: Option<String>,
    pub advocates: Vec<String>,
    /// IANA zone where the client lives, when it differs from the organization's: quiet
    /// hours and reminder times are the client's local time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
    /// When the CMS opened the case (`YYYY-MM-DD`), when it says: audiences filter on it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opened_at: Option<String>,
    /// When the CMS closed it (`YYYY-MM-DD`); only on a closed case.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_at: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub enum CaseEvent {
    /// The CMS linked a case (its own id) to casewire.
    CaseLinked {
        details: CaseDetails,
    },
    CaseUpdated {
        details: CaseDetails,
    },
}

/// Where an inbound text went, and why: the CMS may correct it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub enum InboundRouteEvent {
    InboundRouted {
        message_id: String,
        case_id: String,
        reason: String,
    },
    /// To the unrouted inbox.
    InboundUnrouted { message_id: String, reason: String },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub enum WebhookEndpointEvent {
    /// The secret is sealed: the log holds it only encrypted.
    WebhookEndpointCreated {
        url: String,
        events: Vec<String>,
        #[schema(value_type = crate::SealedSchema)]
        secret: Sealed<String>,
    },
    /// Someone asked for a `webhook.test` delivery to this endpoint alone, to see that the
    /// CMS receives and verifies casewire's webhooks.
    WebhookTestRequested {},
}

/// The event types a CMS may subscribe to.
pub const WEBHOOK_EVENT_TYPES: [&str; 5] = [
    "message.inbound",
    "message.status",
    "survey.answered",
    "audit.checkpoint",
    "client.erased",
];
