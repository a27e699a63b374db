//! Signed checkpoints of a tenant's trail: the head (seq and hash) signed with the
//! platform's Ed25519 key as a C2SP signed note, kept outside casewire by whoever receives
//! it, and later proven extended by the trail (docs/audit-chain.md, Signed checkpoints).
//!
//! One aggregate per checkpointed head (its seq): two replicas signing the same head at
//! once record it once.

use serde::{Deserialize, Serialize};

pub const AGGREGATE: &str = "checkpoint";

/// The aggregate id of the checkpoint of the head at `seq`.
pub fn checkpoint_id(seq: i64) -> String {
    seq.to_string()
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub enum CheckpointEvent {
    CheckpointSigned {
        /// The head signed: its seq and hash (hex).
        seq: i64,
        hash: String,
        /// RFC 3339, as in the note.
        signed_at: String,
        /// The verifier key that checks the signature (`<name>+<key id>+<base64 key>`).
        key: String,
        /// The whole signed note, as handed out.
        note: String,
    },
}
