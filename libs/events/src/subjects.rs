//! NATS subject names (ARCHITECTURE.md, Subjects on NATS).

/// The JetStream stream that carries the event log.
pub const EVENTS_STREAM: &str = "CASEWIRE_EVENTS";
/// All event subjects.
pub const EVENTS_ALL: &str = "casewire.evt.>";

/// `casewire.evt.<tenant>.<aggregate_type>.<event_type>`
pub fn event(tenant: &str, aggregate_type: &str, event_type: &str) -> String {
    format!("casewire.evt.{tenant}.{aggregate_type}.{event_type}")
}

/// The events of an aggregate type in every tenant: one event type, or all of them.
pub fn event_filter(aggregate_type: &str, event_type: Option<&str>) -> String {
    format!(
        "casewire.evt.*.{aggregate_type}.{}",
        event_type.unwrap_or(">")
    )
}

/// `casewire.ping.<service>`: every process serving the service answers (no queue group),
/// so the answers count its replicas.
pub fn ping(service: &str) -> String {
    format!("casewire.ping.{service}")
}

/// `casewire.cmd.<service>.<command>`
pub fn command(service: &str, command: &str) -> String {
    format!("casewire.cmd.{service}.{command}")
}
