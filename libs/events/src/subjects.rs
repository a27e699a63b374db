//! NATS subject names (ARCHITECTURE.md, Subjects on NATS).

/// The JetStream stream that carries the event log.
pub const EVENTS_STREAM: &str = "CASEWIRE_EVENTS";
/// All event subjects.
pub const EVENTS_ALL: &str = "casewire.evt.>";

/// `casewire.evt.<tenant>.<aggregate_type>.<event_type>`
pub fn event(tenant: &str, aggregate_type: &str, event_type: &str) -> String {
    format!("casewire.evt.{tenant}.{aggregate_type}.{event_type}")
}

/// `casewire.cmd.<service>.<command>`
pub fn command(service: &str, command: &str) -> String {
    format!("casewire.cmd.{service}.{command}")
}
