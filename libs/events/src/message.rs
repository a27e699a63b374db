//! The events of a text, outbound or inbound: the messaging service records them, case-link
//! and the gateway read them. Bodies are sealed with the client's data key.

use serde::{Deserialize, Serialize};

use crate::Sealed;

pub const AGGREGATE: &str = "message";

/// The data subject of a client's personal fields: one phone number of one tenant, so that
/// erasing a client's key makes every text and name of theirs unreadable at once.
pub fn client_subject(phone: &str) -> String {
    format!("client:{phone}")
}

/// Why a text is sent, which decides the consent it needs and whether quiet hours hold it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    /// An advocate's text in a two-way conversation: sent unless the client opted out
    /// (or, by tenant policy, only once they consented).
    #[default]
    Conversation,
    /// A reminder of a court date, meeting or deadline: needs consent, waits out quiet hours.
    Reminder,
    /// One of many texts to a group: needs consent, waits out quiet hours.
    Bulk,
    /// casewire's own answer to the client (the confirmation request, the opt-out
    /// confirmation, HELP): required by carrier rules, sent at once.
    System,
}

impl Purpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::Conversation => "conversation",
            Purpose::Reminder => "reminder",
            Purpose::Bulk => "bulk",
            Purpose::System => "system",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub enum MessageEvent {
    /// A text accepted by casewire and waiting to be dispatched.
    OutboundQueued {
        /// None for casewire's own answers that belong to no case yet.
        case_id: Option<String>,
        to: String,
        #[schema(value_type = crate::SealedSchema)]
        body: Sealed<String>,
        segments: u32,
        encoding: String,
        /// The estimate at the tenant's rate, in micro-dollars.
        price_micros: u64,
        #[serde(default)]
        purpose: Purpose,
        /// Held until then (quiet hours): the dispatcher does not send it before.
        #[serde(default)]
        deliver_after: Option<String>,
        /// The client's text this answers (a HELP or STOP reply).
        #[serde(default)]
        in_reply_to: Option<String>,
        /// After this (RFC 3339), the text is of no use: a reminder once its appointment
        /// has begun. It is not sent then, and the provider is told to drop it by then.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        expires_at: Option<String>,
        /// The client's own time zone, when their case names one: quiet hours and the
        /// provider's validity are counted in it (else in the tenant's).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        zone: Option<String>,
        /// Documents and pictures the advocate attached (an MMS): Twilio fetches each from
        /// a short-lived link casewire signs.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        attachments: Vec<Attachment>,
        /// A campaign's text: which campaign, and the recipient's place in its audience.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        campaign: Option<crate::campaign::CampaignText>,
    },
    /// casewire refused to send a text: the client opted out, or has not consented to this
    /// purpose. Nothing went to the provider; the record shows the refusal was enforced.
    OutboundRefused {
        case_id: Option<String>,
        to: String,
        purpose: Purpose,
        /// The consent state that refused it: revoked, none or pending.
        consent: String,
        reason: String,
    },
    /// About to call the provider. Recorded first, so that after a crash casewire knows a
    /// call may have happened and looks before it sends again.
    DispatchStarted {
        attempt: u32,
        provider: String,
        /// When the attempt began: a look-up after it searches the provider from here.
        started_at: String,
        /// The `ValidityPeriod` the provider was given, in seconds: how long after
        /// `started_at` it may still send the text. Absent in events from before it was
        /// sent: the provider's default, ten hours.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        valid_for: Option<u32>,
    },
    /// The attempt certainly did not reach the provider (429, refused connection), or a
    /// look-up after an uncertain attempt found nothing: the next attempt may send.
    DispatchAbandoned { attempt: u32, reason: String },
    /// The provider accepted the text.
    Accepted {
        case_id: Option<String>,
        provider_sid: String,
    },
    /// Final: the provider refused it, or it could not be handed over.
    Failed {
        case_id: Option<String>,
        error_code: Option<String>,
        reason: String,
    },
    /// A status callback that moved the text forward.
    StatusReported {
        case_id: Option<String>,
        status: String,
        error_code: Option<String>,
    },
    /// A status callback that the text's life does not allow from where it is (late, a
    /// duplicate, `undelivered` after `delivered`, `sent` for a text never dispatched):
    /// kept so that the trail shows what the provider said, and changing nothing.
    StatusIgnored {
        case_id: Option<String>,
        status: String,
        error_code: Option<String>,
        /// The text's status when the report came.
        current: String,
    },
    /// The provider's message list could not be searched for an uncertain attempt.
    LookupFailed { attempt: u32, reason: String },
    /// Final for dispatch: an attempt may have reached the provider, and nobody can tell:
    /// [`MAX_LOOKUPS`] look-ups failed, or the provider's list shows texts to the client
    /// since the attempt whose bodies it does not show. Never sent again by casewire;
    /// staff check the provider's console (the reason says what to look for).
    OutcomeUnknown {
        case_id: Option<String>,
        attempt: u32,
        reason: String,
    },
    /// A client's text, as the provider handed it over.
    InboundReceived {
        from: String,
        to: String,
        #[schema(value_type = crate::SealedSchema)]
        body: Sealed<String>,
        segments: u32,
        encoding: String,
        provider_sid: String,
        /// Twilio's `OptOutType` (STOP, START, HELP) when its own keyword handling fired.
        opt_out_type: Option<String>,
        /// Pictures and files the client sent (MMS), still at Twilio: messaging fetches,
        /// seals and keeps each, then deletes it there (`MediaStored`, `MediaRefused`).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        media: Vec<Media>,
    },
    /// A client's picture or file, fetched from the provider and kept sealed with the
    /// client's data key (erased with them); what it is, not what it shows.
    MediaStored {
        n: u32,
        content_type: String,
        size: u64,
        /// SHA-256 of its bytes, hex: what a compliance officer checks a copy against.
        sha256: String,
    },
    /// A client's picture or file casewire would not keep (its type or size), and why;
    /// the client's text stays, without it.
    MediaRefused { n: u32, reason: String },
}

impl MessageEvent {
    /// The status a text reaches with this event, for counting texts by status; None for
    /// the steps between (an attempt, a look-up, a stored picture, an ignored report).
    pub fn text_status(&self) -> Option<&str> {
        use MessageEvent as E;
        match self {
            E::OutboundQueued { .. } => Some("queued"),
            E::OutboundRefused { .. } => Some("refused"),
            E::Accepted { .. } => Some("accepted"),
            E::Failed { .. } => Some("failed"),
            E::StatusReported { status, .. } => Some(status),
            E::OutcomeUnknown { .. } => Some("unknown"),
            E::InboundReceived { .. } => Some("received"),
            E::DispatchStarted { .. }
            | E::DispatchAbandoned { .. }
            | E::StatusIgnored { .. }
            | E::LookupFailed { .. }
            | E::MediaStored { .. }
            | E::MediaRefused { .. } => None,
        }
    }
}

/// One picture or file of an inbound MMS as the provider holds it: Twilio's Media SID
/// (`ME…`) and the type Twilio says it is. Its URL is made from the tenant's account, the
/// message's SID and this, never taken from the webhook, so no webhook can point casewire's
/// credentials elsewhere.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Media {
    pub sid: String,
    pub content_type: String,
}

/// A document or picture an advocate uploaded and sent with a text: what it is, not what
/// it shows. Its bytes are kept sealed with the client's data key (erased with them).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Attachment {
    /// The id the upload answered (`POST /v1/cases/{case_id}/attachments`).
    pub id: String,
    pub content_type: String,
    pub size: u64,
    /// SHA-256 of its bytes, hex.
    pub sha256: String,
}

/// Look-ups of an uncertain attempt that may fail before the text is `unknown`.
pub const MAX_LOOKUPS: u32 = 8;

/// Each status of an outbound text with its place in the order a text lives them: a
/// status only moves to a later place (docs/texting.md, "Statuses").
pub const STATUS_RANKS: &[(&str, u8)] = &[
    ("queued", 0),
    ("unknown", 1),
    ("accepted", 2),
    ("scheduled", 2),
    ("sending", 3),
    ("sent", 4),
    ("delivered", 5),
    // Twilio's, for a text some of whose parts arrived (an MMS split by the carrier).
    ("partially_delivered", 5),
    ("read", 6),
    ("undelivered", 6),
    ("failed", 6),
    ("canceled", 6),
];

/// Whether a text's status is one it ends in (or one past delivery): the provider has
/// done all it will with it.
pub fn settled(status: &str) -> bool {
    status_rank(status).is_some_and(|rank| rank >= 5)
}

/// A status's place in [`STATUS_RANKS`]; None for one casewire does not know.
pub fn status_rank(status: &str) -> Option<u8> {
    STATUS_RANKS
        .iter()
        .find(|(name, _)| *name == status)
        .map(|(_, rank)| *rank)
}

/// Whether a dispatched text in `current` moves to `reported` when the provider reports
/// it: only forward, `delivered` only on to `read`, and `read`, `undelivered`, `failed` and
/// `canceled` are final. `unknown` (casewire could not tell whether it went) moves on any
/// report from `accepted` onward: the report settles it.
pub fn moves(current: &str, reported: &str) -> bool {
    const FINAL: u8 = 6;
    match (current, status_rank(current), status_rank(reported)) {
        ("delivered", ..) => reported == "read",
        (_, Some(from), Some(to)) => from < FINAL && to > from,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::moves;

    /// The statuses texts are counted by are the thread's: an outbound text's (in the
    /// order of [`super::STATUS_RANKS`]), a refused one's and a client's.
    #[test]
    fn texts_are_counted_by_the_status_the_thread_shows() {
        use super::{status_rank, MessageEvent as E, Purpose};
        let reported = |status: &str| E::StatusReported {
            case_id: None,
            status: status.into(),
            error_code: None,
        };
        let events = [
            E::Accepted {
                case_id: None,
                provider_sid: "SM1".into(),
            },
            E::Failed {
                case_id: None,
                error_code: Some("30003".into()),
                reason: "unreachable".into(),
            },
            E::OutcomeUnknown {
                case_id: None,
                attempt: 1,
                reason: "look in Twilio's console".into(),
            },
            reported("delivered"),
        ];
        for e in &events {
            let status = e.text_status().expect("a status");
            assert!(
                status_rank(status).is_some(),
                "{status} is an outbound status"
            );
        }
        let refused = E::OutboundRefused {
            case_id: None,
            to: "+13125550100".into(),
            purpose: Purpose::Bulk,
            consent: "revoked".into(),
            reason: "opted out".into(),
        };
        assert_eq!(refused.text_status(), Some("refused"));
        let attempt = E::DispatchStarted {
            attempt: 1,
            provider: "twilio".into(),
            started_at: "2026-11-30T17:00:00Z".into(),
            valid_for: None,
        };
        assert_eq!(
            attempt.text_status(),
            None,
            "an attempt is a step, not a status"
        );
    }

    #[test]
    fn a_status_moves_only_forward_and_the_final_ones_stay() {
        for (from, to) in [
            ("accepted", "sent"),
            ("sent", "delivered"),
            ("sent", "undelivered"),
            ("sending", "failed"),
            ("delivered", "read"),
            ("scheduled", "canceled"),
            ("unknown", "delivered"),
            ("queued", "sent"),
        ] {
            assert!(moves(from, to), "{from} -> {to}");
        }
        for (from, to) in [
            ("delivered", "undelivered"),
            ("delivered", "failed"),
            ("delivered", "sent"),
            ("sent", "sent"),
            ("undelivered", "delivered"),
            ("failed", "delivered"),
            ("read", "delivered"),
            ("refused", "sent"),
            ("received", "delivered"),
            ("sent", "bogus"),
        ] {
            assert!(!moves(from, to), "{from} -> {to}");
        }
    }
}
