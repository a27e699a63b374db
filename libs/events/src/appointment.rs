//! The events of an appointment and its reminders: messaging records them, the API reads
//! them. An appointment is one aggregate, `{case_id}/{appointment_id}`; each of its
//! reminders is named by its offset before the appointment (ISO 8601, "P1D").

use serde::{Deserialize, Serialize};

use crate::Sealed;

pub const AGGREGATE: &str = "appointment";

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AppointmentKind {
    CourtDate,
    Meeting,
    Deadline,
}

impl AppointmentKind {
    pub const ALL: [AppointmentKind; 3] = [
        AppointmentKind::CourtDate,
        AppointmentKind::Meeting,
        AppointmentKind::Deadline,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AppointmentKind::CourtDate => "court_date",
            AppointmentKind::Meeting => "meeting",
            AppointmentKind::Deadline => "deadline",
        }
    }
}

/// An appointment as the CMS last sent it. The location and the note are the client's
/// private matters: sealed with the client's key.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Appointment {
    pub kind: AppointmentKind,
    /// RFC 3339 with the offset the CMS gave.
    pub starts_at: String,
    /// IANA zone the appointment's time is written in; else the client's, else the tenant's.
    pub time_zone: Option<String>,
    #[schema(value_type = Option<crate::SealedSchema>)]
    pub location: Option<Sealed<String>>,
    #[schema(value_type = Option<crate::SealedSchema>)]
    pub note_for_client: Option<Sealed<String>>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub enum AppointmentEvent {
    /// The CMS sent the appointment, new or changed.
    AppointmentSet {
        case_id: String,
        appointment_id: String,
        appointment: Appointment,
    },
    AppointmentCancelled {
        case_id: String,
        appointment_id: String,
    },
    /// A reminder will go at `due_at` (RFC 3339 UTC).
    ReminderScheduled { offset: String, due_at: String },
    /// The appointment moved (or the policy changed): the reminder goes at the new time.
    ReminderRescheduled { offset: String, due_at: String },
    /// It will not go: the appointment was cancelled, reminders were turned off, or the
    /// offset left the policy.
    ReminderCancelled { offset: String, reason: String },
    /// It did not go, and why: its time had passed when the appointment arrived, or at its
    /// time the client's consent did not allow it.
    ReminderSkipped {
        offset: String,
        due_at: String,
        reason: String,
    },
    /// Its time fell in the client's quiet hours: it goes at `until`.
    ReminderDeferred {
        offset: String,
        until: String,
        reason: String,
    },
    /// Decided and worded: the text `message_id` goes to `to` (sealed body). Recorded
    /// before the text is queued, so the decision and the text can never disagree.
    ReminderSent {
        offset: String,
        message_id: String,
        to: String,
        #[schema(value_type = crate::SealedSchema)]
        body: Sealed<String>,
        /// The client's own time zone, when their case names one: the text's quiet hours
        /// and validity are counted in it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        zone: Option<String>,
    },
}

pub const SWITCH_AGGREGATE: &str = "case_reminders";

/// An advocate turned a case's reminders off or on.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub enum CaseRemindersEvent {
    RemindersSwitched { enabled: bool },
}
