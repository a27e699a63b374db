//! The bus's contract: every command a service answers, with its answer and how it fails.
//!
//! A command is a type: [`Command`] names the service that answers it, its name on the bus
//! and the type of its answer, so the sender's `bus.ask(…)` and the service's handler are
//! checked by the compiler against the same definition, and go-to-definition leads from one
//! to the other. `make proto` writes each command's JSON Schema to proto/commands/.
//!
//! The gateway reads read models through the services' query modules (the same database,
//! no hop); the bus carries what changes something, and what needs the service's own rules
//! to answer (the reminder preview). The one exception is `status`, which every service
//! answers about itself: see [`ServiceStatus`].

pub mod campaigns;
pub mod case_link;
pub mod consent;
mod error;
pub mod messaging;

use std::collections::HashMap;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

pub use casewire_events::audience;
pub use error::{CommandError, ErrorCode};

/// A command one service sends another, over NATS or in-process.
pub trait Command: Serialize + DeserializeOwned + utoipa::ToSchema + Send + Sync + 'static {
    /// The service that answers it.
    const SERVICE: &'static str;
    /// Its name on the bus: the last token of the subject `casewire.cmd.<service>.<name>`.
    const NAME: &'static str;
    /// What the service answers when the command succeeds.
    type Answer: Serialize + DeserializeOwned + utoipa::ToSchema + Send + 'static;
}

/// Every command names its tenant (taken by the gateway from the credential) and carries
/// the metadata its events will record.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Envelope<T> {
    pub tenant: String,
    #[serde(default)]
    pub metadata: HashMap<String, String>,
    pub body: T,
}

impl<T: DeserializeOwned> Envelope<T> {
    /// A command as it came over the bus; a malformed one is refused as invalid.
    pub fn parse(body: serde_json::Value) -> Result<Self, CommandError> {
        serde_json::from_value(body)
            .map_err(|e| CommandError::invalid(format!("malformed command: {e}")))
    }
}

/// The services that answer commands, by their names on the bus.
pub const SERVICES: [&str; 4] = [
    "gateway",
    messaging::SERVICE,
    consent::SERVICE,
    case_link::SERVICE,
];

/// The name of the command every service answers about itself.
pub const STATUS: &str = "status";

/// A service's answer to `status`: how far its reader is behind the log and how much work
/// its queues hold, so an operator can see a stuck consumer. It is asked of the running
/// process, not read from a table, because the reader's place is the process's own.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ServiceStatus {
    pub service: String,
    /// The service's projections; they share its one reader, so they are behind together.
    pub projections: Vec<String>,
    /// Events of the log its reader has not applied yet.
    pub events_behind: i64,
    pub jobs: Vec<QueueDepth>,
}

impl ServiceStatus {
    /// Caught up with the log, and no job due: the work the events made is done.
    pub fn is_idle(&self) -> bool {
        self.events_behind == 0 && self.jobs.iter().all(|q| q.due == 0)
    }

    /// Every service of `GET /v1/status`'s answer idle; `false` while one does not answer.
    pub fn all_idle(answer: &serde_json::Value) -> bool {
        let services = answer["services"].as_array().cloned().unwrap_or_default();
        services.len() == SERVICES.len()
            && services
                .into_iter()
                .all(|s| serde_json::from_value::<ServiceStatus>(s).is_ok_and(|s| s.is_idle()))
    }
}

/// How much work one job queue holds.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct QueueDepth {
    pub queue: String,
    /// Jobs due now.
    pub due: i64,
    /// Jobs due later.
    pub scheduled: i64,
    /// Jobs that failed at least once and wait to be tried again.
    pub retrying: i64,
    /// When the oldest due job became due.
    pub oldest_due_at: Option<String>,
}

/// The answer of a command that has nothing to say but that it was done.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Done {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_malformed_command_is_refused_as_invalid_saying_what_is_wrong() {
        let e =
            Envelope::<messaging::Send>::parse(serde_json::json!({ "tenant": "t", "body": {} }))
                .unwrap_err();
        assert_eq!(e.code, ErrorCode::Invalid);
        assert!(e.message.contains("case_id"), "{}", e.message);
    }

    #[test]
    fn an_error_keeps_its_code_across_the_wire() {
        let e = CommandError::not_found("no such case");
        let wire = serde_json::to_value(&e).unwrap();
        assert_eq!(wire["code"], "not_found");
        let back: CommandError = serde_json::from_value(wire).unwrap();
        assert_eq!(back, e);
    }
}
