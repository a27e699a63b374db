//! The events this process appended last, kept in memory for its readers of the log.
//!
//! In the embedded mode every service's reader reads every event after it was appended:
//! four reads of each row, the largest share of SQLite's time in a campaign
//! (docs/benchmarks.md, session 17). The appender has the very events it just committed, so
//! it keeps the last of them here, and a reader that follows on from them takes them from
//! memory instead. A reader checks what it takes the way it checks a NATS delivery: seq by
//! seq and hash by hash from the last event it read. Whatever the tail cannot answer (a
//! reader further behind, events another process appended) is read from the log as before.
//!
//! Only committed events enter, in each tenant's chain order and without a gap: when an
//! append does not follow on from the tenant's last one here (another process appended in
//! between), that tenant's tail starts again from it.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use casewire_events::RecordedEvent;

/// Events kept across all tenants; the oldest go first. A campaign's readers trail the
/// appender by a gather (50 ms, a few hundred events), so a few thousand cover them.
const CAPACITY: usize = 8192;

#[derive(Default)]
pub(crate) struct Tail {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    /// Shared, so a reader copies pointers under the lock the appender pushes through, and
    /// the events themselves after it.
    tenants: HashMap<String, VecDeque<Arc<RecordedEvent>>>,
    /// (tenant, seq) of every event kept, oldest first: the order they leave in.
    order: VecDeque<(String, i64)>,
}

impl Tail {
    /// Keeps `events`, just committed to `tenant`'s chain, in seq order.
    pub(crate) fn push(&self, tenant: &str, events: impl IntoIterator<Item = RecordedEvent>) {
        let mut inner = self.inner.lock().expect("tail lock");
        let Inner { tenants, order } = &mut *inner;
        let kept = tenants.entry(tenant.to_string()).or_default();
        for e in events {
            if kept
                .back()
                .is_some_and(|last| last.tenant_seq + 1 != e.tenant_seq)
            {
                kept.clear();
            }
            order.push_back((tenant.to_string(), e.tenant_seq));
            kept.push_back(Arc::new(e));
        }
        while order.len() > CAPACITY {
            let (tenant, seq) = order.pop_front().expect("longer than the capacity");
            if let Some(kept) = tenants.get_mut(&tenant) {
                if kept.front().is_some_and(|e| e.tenant_seq == seq) {
                    kept.pop_front();
                }
                if kept.is_empty() {
                    tenants.remove(&tenant);
                }
            }
        }
    }

    /// Up to `limit` of `tenant`'s events right after `after`, when the tail holds the one
    /// right after it; `None` when it does not (the caller reads the log).
    pub(crate) fn after(
        &self,
        tenant: &str,
        after: i64,
        limit: usize,
    ) -> Option<Vec<RecordedEvent>> {
        let shared: Vec<Arc<RecordedEvent>> = {
            let inner = self.inner.lock().expect("tail lock");
            let kept = inner.tenants.get(tenant)?;
            let first = kept.front()?.tenant_seq;
            if after < first - 1 || after >= kept.back()?.tenant_seq {
                return None;
            }
            let skip = (after + 1 - first) as usize;
            kept.range(skip..).take(limit).cloned().collect()
        };
        Some(shared.iter().map(|e| RecordedEvent::clone(e)).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(seq: i64) -> RecordedEvent {
        RecordedEvent {
            tenant_id: "t".into(),
            tenant_seq: seq,
            event_id: format!("e{seq}"),
            aggregate_type: "a".into(),
            aggregate_id: "1".into(),
            sequence: seq,
            event_type: "x".into(),
            event_version: "1".into(),
            payload: "{}".into(),
            metadata: "{}".into(),
            recorded_at: String::new(),
            prev_hash: String::new(),
            hash: String::new(),
        }
    }

    fn seqs(events: Option<Vec<RecordedEvent>>) -> Option<Vec<i64>> {
        events.map(|e| e.iter().map(|e| e.tenant_seq).collect())
    }

    #[test]
    fn answers_only_what_follows_on_from_a_kept_event() {
        let tail = Tail::default();
        tail.push("t", (5..=9).map(event));
        assert_eq!(seqs(tail.after("t", 4, 10)), Some(vec![5, 6, 7, 8, 9]));
        assert_eq!(seqs(tail.after("t", 6, 2)), Some(vec![7, 8]));
        assert_eq!(seqs(tail.after("t", 3, 10)), None, "event 4 was never kept");
        assert_eq!(seqs(tail.after("t", 9, 10)), None, "nothing after the last");
        assert_eq!(seqs(tail.after("other", 0, 10)), None);
    }

    #[test]
    fn a_gap_starts_the_tenant_again() {
        let tail = Tail::default();
        tail.push("t", (1..=3).map(event));
        tail.push("t", (7..=8).map(event)); // another process appended 4 to 6
        assert_eq!(seqs(tail.after("t", 2, 10)), None);
        assert_eq!(seqs(tail.after("t", 6, 10)), Some(vec![7, 8]));
    }

    #[test]
    fn the_oldest_events_leave_first() {
        let tail = Tail::default();
        tail.push("t", (1..=CAPACITY as i64 + 10).map(event));
        assert_eq!(seqs(tail.after("t", 0, 1)), None);
        assert_eq!(seqs(tail.after("t", 10, 1)), Some(vec![11]));
    }
}
