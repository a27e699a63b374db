//! What compliance officers looked at. Reading the trail with its sealed fields opened, and
//! reading clients' texts, are themselves events ("who looked at what", ARCHITECTURE.md,
//! Confidentiality): the next reviewer sees who read what, when, and on whose behalf.
//!
//! One aggregate per look (a fresh id each time): recording a read never waits on another.

use serde::{Deserialize, Serialize};

pub const AGGREGATE: &str = "review";

/// Which events a read of the trail asked for: the query parameters of
/// `GET /v1/audit/events`, as given.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TrailFilter {
    /// Events after this seq.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after_seq: Option<i64>,
    /// Events of the case's aggregates: the case, its texts, reminders, routing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case_id: Option<String>,
    /// Events of the aggregates that name this number: its texts, consent, cases.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// Events done on behalf of this person (`Casewire-On-Behalf-Of`, a bound key).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub advocate: Option<String>,
    /// Events of this type (`OutboundQueued`).
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub event_type: Option<String>,
    /// Recorded at or after this instant (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// Recorded before this instant (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub enum ReviewEvent {
    /// A page of the audit trail was read with its sealed fields opened.
    TrailRead {
        filter: TrailFilter,
        /// How many events the page held, and the first and last of them.
        events: u32,
        first_seq: Option<i64>,
        last_seq: Option<i64>,
    },
    /// The trail was exported (`GET /v1/audit/export`, `casewire audit export`), with its
    /// sealed fields opened unless redacted.
    TrailExported { filter: TrailFilter, redacted: bool },
    /// A compliance officer searched clients' texts (`GET /v1/search`). The words are
    /// sealed: they may name a client.
    Searched {
        #[schema(value_type = crate::SealedSchema)]
        words: crate::Sealed<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        case_id: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        from: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        to: Option<String>,
        /// How many texts it found.
        found: u32,
    },
    /// A compliance officer read clients' texts with their bodies: a case's thread, one
    /// text, or a picture or file of one.
    TextsRead {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        case_id: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        message_id: Option<String>,
        texts: u32,
    },
}

/// A compliance officer's flag on a text, and its resolution. One aggregate per flag.
pub const FLAG_AGGREGATE: &str = "review_flag";

/// Why a text was flagged.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FlagReason {
    /// It says what it should not (privileged content to the wrong person, a third
    /// party's details).
    Confidentiality,
    /// It went to the wrong client.
    WrongRecipient,
    Tone,
    Other,
    /// A word of the tenant's review rules is in it (flagged by casewire).
    Keyword,
}

impl FlagReason {
    pub fn as_str(self) -> &'static str {
        match self {
            FlagReason::Confidentiality => "confidentiality",
            FlagReason::WrongRecipient => "wrong_recipient",
            FlagReason::Tone => "tone",
            FlagReason::Other => "other",
            FlagReason::Keyword => "keyword",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub enum FlagEvent {
    MessageFlagged {
        message_id: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        case_id: Option<String>,
        reason: FlagReason,
        /// The reviewer's words; sealed with the client's data, erased with them.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[schema(value_type = Option<crate::SealedSchema>)]
        note: Option<crate::Sealed<String>>,
        /// The review rules' words it holds, when casewire flagged it.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        keywords: Vec<String>,
    },
    FlagResolved {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[schema(value_type = Option<crate::SealedSchema>)]
        note: Option<crate::Sealed<String>>,
    },
}
