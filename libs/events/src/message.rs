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

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub enum MessageEvent {
    /// An advocate's text, accepted by casewire and waiting to be dispatched.
    OutboundQueued {
        case_id: String,
        to: String,
        #[schema(value_type = crate::SealedSchema)]
        body: Sealed<String>,
        segments: u32,
        encoding: String,
        /// The estimate at the tenant's rate, in micro-dollars.
        price_micros: u64,
    },
    /// About to call the provider. Recorded first, so that after a crash casewire knows a
    /// call may have happened and looks before it sends again.
    DispatchStarted {
        attempt: u32,
        provider: String,
        /// When the attempt began: a look-up after it searches the provider from here.
        started_at: String,
    },
    /// The attempt certainly did not reach the provider (429, refused connection), or a
    /// look-up after an uncertain attempt found nothing: the next attempt may send.
    DispatchAbandoned { attempt: u32, reason: String },
    /// The provider accepted the text.
    Accepted {
        case_id: String,
        provider_sid: String,
    },
    /// Final: the provider refused it, or it could not be handed over.
    Failed {
        case_id: String,
        error_code: Option<String>,
        reason: String,
    },
    /// A status callback that moved the text forward.
    StatusReported {
        case_id: String,
        status: String,
        error_code: Option<String>,
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
    },
}

/// The life of an outbound text, in order. A status never moves back: a late `sent`
/// callback after `delivered` changes nothing.
pub fn status_rank(status: &str) -> Option<u8> {
    Some(match status {
        "queued" => 0,
        "accepted" => 1,
        "scheduled" => 1,
        "sending" => 2,
        "sent" => 3,
        "delivered" | "read" => 4,
        "undelivered" | "failed" | "canceled" => 5,
        _ => return None,
    })
}
