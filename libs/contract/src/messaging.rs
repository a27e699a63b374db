//! What messaging answers: texts out and in, their statuses, appointments and reminders.

use casewire_events::appointment::AppointmentKind;
use casewire_events::message::Purpose;
use serde::{Deserialize, Serialize};

use crate::{Command, Done};

pub const SERVICE: &str = "messaging";

/// An advocate's text to the client of a case. Refused with `conflict` when the client's
/// consent does not allow it (the refusal is recorded) or the tenant cannot text.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Send {
    /// The text's id, when the caller needs a retry to be safe (the gateway derives it from
    /// the credential and the Idempotency-Key): a second send with the same id answers the
    /// text the first one queued and sends nothing. A fresh id when left out.
    #[serde(default)]
    pub id: Option<String>,
    pub case_id: String,
    pub body: String,
    #[serde(default)]
    pub purpose: Purpose,
    /// Uploads to send with it (an MMS), by the ids their upload answered.
    #[serde(default)]
    pub attachments: Vec<String>,
}

impl Command for Send {
    const SERVICE: &'static str = SERVICE;
    const NAME: &'static str = "send";
    type Answer = MessageView;
}

/// casewire's own answer to a client (asked by consent): no case, no consent needed, no
/// quiet hours. The id is the caller's, so that asking twice sends once.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Reply {
    pub id: String,
    pub to: String,
    pub body: String,
    pub in_reply_to: Option<String>,
}

impl Command for Reply {
    const SERVICE: &'static str = SERVICE;
    const NAME: &'static str = "reply";
    type Answer = MessageView;
}

/// A client's text, as Twilio delivered it to the gateway.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Receive {
    pub provider_sid: String,
    pub from: String,
    pub to: String,
    pub body: String,
    /// Twilio's `OptOutType` (STOP, START, HELP) when its opt-out handling matched.
    pub opt_out_type: Option<String>,
    /// Pictures and files the client sent (MMS), as Twilio holds them.
    #[serde(default)]
    pub media: Vec<casewire_events::message::Media>,
}

impl Command for Receive {
    const SERVICE: &'static str = SERVICE;
    const NAME: &'static str = "receive";
    type Answer = MessageView;
}

/// One picture or file of a client's text.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MediaView {
    /// Its place among the text's media, from 0.
    pub n: u32,
    pub content_type: Option<String>,
    pub size: Option<u64>,
    /// SHA-256 of its bytes, hex.
    pub sha256: Option<String>,
    /// Where to read it (`GET`, with a key that may read bodies); absent when refused.
    pub url: Option<String>,
    /// Why casewire did not keep it (its type or size).
    pub refused: Option<String>,
}

/// A text's status, as Twilio's status callback reported it.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ReportStatus {
    pub message_id: String,
    pub status: String,
    pub error_code: Option<String>,
    /// Twilio's `MessageSid`: checked against the text's, or, when the answer to the
    /// text's send was lost, the proof that Twilio took it.
    #[serde(default)]
    pub provider_sid: Option<String>,
}

impl Command for ReportStatus {
    const SERVICE: &'static str = SERVICE;
    const NAME: &'static str = "report_status";
    type Answer = Done;
}

/// An appointment as the CMS sends it, before messaging validates it.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AppointmentInput {
    pub kind: AppointmentKind,
    /// RFC 3339 with its offset.
    pub starts_at: String,
    pub location: Option<String>,
    pub time_zone: Option<String>,
    pub note_for_client: Option<String>,
}

/// Sets an appointment on a case, new or moved; its reminders follow.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PutAppointment {
    pub case_id: String,
    pub appointment_id: String,
    pub appointment: AppointmentInput,
}

impl Command for PutAppointment {
    const SERVICE: &'static str = SERVICE;
    const NAME: &'static str = "put_appointment";
    type Answer = AppointmentSet;
}

#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AppointmentSet {
    /// New (or set again after a cancellation), rather than moved or unchanged.
    pub created: bool,
    /// The appointment's reminders.
    pub reminders: Vec<ReminderView>,
}

/// Cancels an appointment and its reminders that have not gone.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CancelAppointment {
    pub case_id: String,
    pub appointment_id: String,
}

impl Command for CancelAppointment {
    const SERVICE: &'static str = SERVICE;
    const NAME: &'static str = "cancel_appointment";
    type Answer = Done;
}

/// Turns a case's reminders off or back on.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SetReminders {
    pub case_id: String,
    pub enabled: bool,
}

impl Command for SetReminders {
    const SERVICE: &'static str = SERVICE;
    const NAME: &'static str = "set_reminders";
    type Answer = RemindersSet;
}

#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RemindersSet {
    pub enabled: bool,
    /// Every reminder of the case, as it now stands.
    pub reminders: Vec<ReminderView>,
}

/// A reminder as the client would read it: a dry run of the tenant's templates.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PreviewReminder {
    pub case_id: String,
    /// The client's language when left out.
    pub language: Option<String>,
    pub appointment: AppointmentInput,
    /// Wording to try in place of the tenant's for this kind and language, checked as the
    /// reminder policy checks it; nothing is saved.
    #[serde(default)]
    pub template: Option<String>,
}

impl Command for PreviewReminder {
    const SERVICE: &'static str = SERVICE;
    const NAME: &'static str = "preview_reminder";
    type Answer = ReminderPreview;
}

#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ReminderPreview {
    pub text: String,
    pub segments: u32,
    /// GSM-7 or UCS-2.
    pub encoding: String,
    /// The estimated price in US dollars, at the tenant's rate per segment.
    pub price_usd: f64,
}

/// A text as the API shows it.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MessageView {
    pub id: String,
    /// null for an inbound text not routed to a case, or casewire's answer to one.
    pub case_id: Option<String>,
    /// inbound or outbound.
    pub direction: String,
    /// The client's number (E.164).
    pub phone: String,
    /// null once the client's data was erased.
    pub body: Option<String>,
    /// outbound: queued, accepted, scheduled, sending, sent, delivered, read, undelivered,
    /// failed, canceled, or unknown (it may have reached the provider and nobody can tell:
    /// never sent again; `error_reason` says what to check); inbound: received.
    pub status: String,
    /// The provider's error code (Twilio's, e.g. 21610), when it failed.
    pub error_code: Option<String>,
    pub error_reason: Option<String>,
    pub segments: i64,
    /// GSM-7 or UCS-2.
    pub encoding: String,
    /// The estimated price in US dollars, at the tenant's rate per segment.
    pub price_usd: f64,
    /// outbound: conversation, reminder, bulk or system (casewire's answer to a keyword).
    pub purpose: Option<String>,
    /// outbound: held by quiet hours until then (RFC 3339), or null when it goes at once.
    pub deliver_after: Option<String>,
    /// inbound: routed, unrouted or pending.
    pub routing: Option<String>,
    pub routing_reason: Option<String>,
    /// Why staff should look at this client's text: it may revoke consent and does not
    /// clearly ("says it is the wrong number"). The client was sent one clarification.
    pub flag: Option<String>,
    /// The pictures and files the client sent with it (MMS), as kept or refused.
    #[serde(default)]
    pub media: Vec<MediaView>,
    /// outbound: who queued it: `api_key:<id>`, `system` (a reminder, a campaign, an
    /// answer to a keyword) or `operator`; null for texts from before it was recorded.
    #[serde(default)]
    pub sent_by: Option<String>,
    /// outbound: the person the key acted for (`Casewire-On-Behalf-Of`), when named.
    #[serde(default)]
    pub on_behalf_of: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

/// A reminder as the API shows it.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
pub struct ReminderView {
    /// `{appointment_id}:{offset}`.
    pub id: String,
    pub appointment_id: String,
    /// How long before the appointment (ISO 8601).
    pub offset: String,
    /// When it is due by the appointment (RFC 3339).
    pub due_at: String,
    /// When it goes: the due time, or the end of quiet hours once deferred; null once it
    /// went, was skipped or cancelled.
    pub sends_at: Option<String>,
    /// scheduled, deferred, sent, skipped or cancelled.
    pub state: String,
    pub reason: Option<String>,
    /// The text, once sent.
    pub message_id: Option<String>,
    pub updated_at: String,
}

/// What a tenant's texts came to in a month, for one purpose: the texts Twilio took (and
/// so bills), and the clients' texts received, as their own row.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct UsageRow {
    /// The month, in UTC: "2026-11".
    pub month: String,
    /// conversation, reminder, bulk, system; or inbound for the clients' texts.
    pub purpose: String,
    pub texts: u64,
    pub segments: u64,
    /// At the price per segment each text was queued at. casewire records no price for a
    /// received text (Twilio bills those at its inbound rate): 0 on the inbound row.
    pub cost_usd: f64,
}

/// Usage by month and purpose, newest month first.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Usage {
    /// The first month counted.
    pub from: String,
    pub rows: Vec<UsageRow>,
}
