use chrono::{DateTime, SecondsFormat, Utc};

/// Every timestamp casewire stores is RFC 3339 in UTC with microseconds (the event log's
/// `recorded_at` included), so read models can compare and sort them as text.
pub fn timestamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

pub fn now() -> String {
    timestamp(Utc::now())
}
