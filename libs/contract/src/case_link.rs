//! What case-link answers: cases as the CMS sends them, corrections of routing, and the
//! CMS's webhook endpoints.

use serde::{Deserialize, Serialize};

use crate::Command;

pub const SERVICE: &str = "case-link";

/// Links a CMS case to casewire, or updates it: the CMS sends the whole case each time.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PutCase {
    pub case_id: String,
    pub case: CaseInput,
}

impl Command for PutCase {
    const SERVICE: &'static str = SERVICE;
    const NAME: &'static str = "put_case";
    type Answer = CasePut;
}

/// A case as the CMS sends it (`PUT /v1/cases/{case_id}`), before case-link validates it.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = PutCase)]
pub struct CaseInput {
    pub client: ClientInput,
    /// open (default) or closed.
    #[schema(pattern = "^(open|closed)$")]
    pub status: Option<String>,
    #[schema(max_length = 100)]
    pub problem_code: Option<String>,
    #[schema(max_length = 100)]
    pub office: Option<String>,
    /// At most 50, each at most 200 characters.
    #[serde(default)]
    #[schema(max_items = 50)]
    pub advocates: Vec<String>,
    /// The client's IANA time zone (America/Denver) when it is not the organization's:
    /// quiet hours are the client's local time.
    pub time_zone: Option<String>,
    /// When the case was opened, YYYY-MM-DD: audiences may filter on it.
    #[schema(format = Date)]
    pub opened_at: Option<String>,
    /// When the case was closed, YYYY-MM-DD: only with status closed, not before
    /// `opened_at`.
    #[schema(format = Date)]
    pub closed_at: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = PutClient)]
pub struct ClientInput {
    /// The client's name. Sealed in the log.
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    /// E.164, or a US number such as (312) 555-0100.
    #[schema(min_length = 1, max_length = 32)]
    pub phone: String,
    /// BCP 47 (en, es, es-MX…); default en.
    #[schema(max_length = 35)]
    pub language: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CasePut {
    /// Linked now, rather than updated or unchanged.
    pub created: bool,
    pub case: CaseView,
}

/// Files a client's text on another case.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CorrectRouting {
    pub message_id: String,
    pub case_id: String,
}

impl Command for CorrectRouting {
    const SERVICE: &'static str = SERVICE;
    const NAME: &'static str = "correct_routing";
    type Answer = Routed;
}

/// Where a client's text is filed, and why.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Routed {
    pub message_id: String,
    pub case_id: String,
    /// corrected.
    pub reason: String,
}

/// Subscribes a URL to casewire's events.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CreateWebhookEndpoint {
    pub url: String,
    pub events: Vec<String>,
}

impl Command for CreateWebhookEndpoint {
    const SERVICE: &'static str = SERVICE;
    const NAME: &'static str = "create_webhook_endpoint";
    type Answer = CreatedEndpoint;
}

/// Sends a `webhook.test` event to one endpoint, as any other delivery: signed, retried,
/// in its delivery log.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TestWebhookEndpoint {
    pub endpoint_id: String,
}

impl Command for TestWebhookEndpoint {
    const SERVICE: &'static str = SERVICE;
    const NAME: &'static str = "test_webhook_endpoint";
    type Answer = crate::Done;
}

/// A new endpoint. `secret` (whsec_…) is shown this once: verify every delivery with it.
#[derive(Serialize, Deserialize, utoipa::ToSchema)]
pub struct CreatedEndpoint {
    pub id: String,
    pub url: String,
    pub events: Vec<String>,
    pub secret: String,
    pub created_at: String,
}

impl std::fmt::Debug for CreatedEndpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreatedEndpoint")
            .field("id", &self.id)
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

/// A case as the API shows it.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CaseView {
    /// The CMS's own id.
    pub id: String,
    pub client: ClientView,
    /// open or closed.
    pub status: String,
    pub problem_code: Option<String>,
    pub office: Option<String>,
    pub advocates: Vec<String>,
    /// The client's IANA time zone, when the CMS gave one; else the organization's holds.
    pub time_zone: Option<String>,
    /// YYYY-MM-DD, as the CMS sent it.
    pub opened_at: Option<String>,
    /// YYYY-MM-DD, as the CMS sent it.
    pub closed_at: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub last_texted_at: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ClientView {
    /// null once the client's data was erased.
    pub name: Option<String>,
    pub phone: String,
    pub language: String,
}

/// An endpoint as the API shows it: never its secret.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct EndpointView {
    pub id: String,
    pub url: String,
    pub events: Vec<String>,
    pub created_at: String,
}
