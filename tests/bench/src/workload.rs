//! What every contender writes: the same events, from the same writers, to the same tenants.

use casewire_eventstore::NewEvent;
use serde_json::{json, Value};

pub const AGGREGATE_TYPE: &str = "conversation";
pub const EVENT_TYPE: &str = "MessageReceived";
pub const EVENT_VERSION: &str = "1";

/// One append run: `writers` concurrent tasks, each appending `events_per_writer` events to
/// its own aggregate, one event per call, spread round-robin over `tenants` tenants.
pub struct Scenario {
    pub name: &'static str,
    pub writers: usize,
    pub tenants: usize,
    pub events_per_writer: usize,
}

impl Scenario {
    pub fn tenant(&self, writer: usize) -> String {
        format!("tenant-{}", writer % self.tenants)
    }

    pub fn total_events(&self) -> usize {
        self.writers * self.events_per_writer
    }
}

/// Writer `w`'s aggregate. Distinct across writers, hence across tenants too, which is how
/// postgres-es (no tenant column) keeps the tenants of the 16-tenant scenario apart.
pub fn aggregate_id(writer: usize) -> String {
    format!("conv-{writer:04}")
}

/// The event of one command: an inbound SMS (~300 bytes of JSON) with request metadata.
pub fn new_event(aggregate_id: &str, sequence: i64) -> NewEvent {
    NewEvent {
        aggregate_type: AGGREGATE_TYPE.into(),
        aggregate_id: aggregate_id.into(),
        sequence,
        event_type: EVENT_TYPE.into(),
        event_version: EVENT_VERSION.into(),
        payload: payload(aggregate_id, sequence),
        metadata: metadata(sequence),
    }
}

fn payload(aggregate_id: &str, sequence: i64) -> Value {
    json!({
        "message_sid": format!("SM{sequence:032x}"),
        "conversation_id": aggregate_id,
        "from": "+15555550123",
        "to": "+15555550199",
        "direction": "inbound",
        "segments": 1,
        "body": "Hi, about my hearing next Tuesday: can I bring my documents to the \
                 office before then, or should I email them?",
        "received_at": "2026-11-29T12:00:00Z",
    })
}

fn metadata(sequence: i64) -> Value {
    json!({
        "actor": "twilio",
        "request_id": format!("req-{sequence}"),
        "correlation_id": format!("corr-{sequence}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_payload_is_about_300_bytes() {
        let len = payload(&aggregate_id(15), 1000).to_string().len();
        assert!((270..=330).contains(&len), "{len} bytes");
    }
}
