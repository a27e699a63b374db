//! Legal holds and the erasure of a client's data (ARCHITECTURE.md, Confidentiality).
//!
//! Erasure records `ClientErased` and destroys the client's data key: their sealed fields
//! (names, bodies, notes) read as erased everywhere from then on, and nothing in the log
//! is edited. A legal hold on a case or a number stops any erasure of that client.

use serde::{Deserialize, Serialize};

/// One aggregate per hold.
pub const HOLD_AGGREGATE: &str = "legal_hold";
/// One aggregate per client, by number: erased once.
pub const ERASURE_AGGREGATE: &str = "client_erasure";
/// One aggregate per text whose copy at the provider is deleted.
pub const PROVIDER_DELETION_AGGREGATE: &str = "provider_deletion";

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub enum HoldEvent {
    /// A hold on a case (and so on its client), or on a number.
    LegalHoldPlaced {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        case_id: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        phone: Option<String>,
        /// Why (a matter, a court's order); sealed with the client's data.
        #[schema(value_type = crate::SealedSchema)]
        reason: crate::Sealed<String>,
    },
    LegalHoldLifted {},
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub enum ErasureEvent {
    /// The client's data key is destroyed with this: their texts, names and notes read as
    /// erased from now on. The number stays where the log holds it in plain.
    ClientErased {
        phone: String,
        /// The cases that were the client's.
        cases: Vec<String>,
        /// Why, in words that name no one ("retention ended", "client's request").
        reason: String,
    },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub enum ProviderDeletionEvent {
    /// The provider deleted its copy of the text (or had none).
    ProviderCopyDeleted { provider_sid: String },
    /// The provider refused or failed; the deletion is tried again.
    ProviderDeleteFailed {
        provider_sid: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        code: Option<String>,
        reason: String,
    },
}
