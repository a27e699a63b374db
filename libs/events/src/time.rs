//! casewire's clock. Business time (quiet hours, due jobs, dispatch attempts) reads
//! [`utc_now`], which tests may move forward with [`advance`]; nothing in production moves it.

use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, SecondsFormat, Utc};

/// How far the process clock runs ahead of the system's, in microseconds.
static OFFSET_MICROS: AtomicI64 = AtomicI64::new(0);

/// Every timestamp casewire stores is RFC 3339 in UTC with microseconds (the event log's
/// `recorded_at` included), so read models can compare and sort them as text.
pub fn timestamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

pub fn utc_now() -> DateTime<Utc> {
    Utc::now() + chrono::Duration::microseconds(OFFSET_MICROS.load(Ordering::Relaxed))
}

pub fn now() -> String {
    timestamp(utc_now())
}

/// Moves this process's clock forward: a test's way to reach 08:00 or a due date without
/// waiting. Every caller of [`utc_now`] in the process sees it.
pub fn advance(by: chrono::Duration) {
    OFFSET_MICROS.fetch_add(by.num_microseconds().unwrap_or(i64::MAX), Ordering::Relaxed);
}

/// Sets this process's clock to read `at` now (tests only).
pub fn set(at: DateTime<Utc>) {
    let offset = at - Utc::now();
    OFFSET_MICROS.store(offset.num_microseconds().unwrap_or(0), Ordering::Relaxed);
}
