//! Walking a tenant's chain.

use casewire_events::RecordedEvent;

use crate::chain::{self, Hash, GENESIS};
use crate::{EventStore, Result};

const CHUNK: i64 = 5000;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verification {
    /// Every event links to the one before and hashes to what it says.
    Intact {
        events: i64,
        head_seq: i64,
        head_hash: String,
    },
    /// The first event that does not hold, and why.
    Broken { seq: i64, reason: String },
}

impl EventStore {
    /// Recomputes a tenant's chain from its first event. Reading the next chunk of rows
    /// overlaps with hashing the current one, so verification runs at about the speed of
    /// reading.
    pub async fn verify(&self, tenant: &str) -> Result<Verification> {
        let mut expected_seq = 1i64;
        let mut prev: Hash = GENESIS;
        let fetch = |after: i64| {
            let store = self.clone();
            let tenant = tenant.to_string();
            tokio::spawn(async move { store.read_log(&tenant, after, CHUNK).await })
        };
        let mut next = fetch(0);
        loop {
            let rows = next.await.expect("verify reader task")?;
            let Some(last) = rows.last() else { break };
            next = fetch(last.tenant_seq);
            for e in &rows {
                if let Some(broken) = check(e, expected_seq, &mut prev) {
                    next.abort();
                    return Ok(broken);
                }
                expected_seq += 1;
            }
        }
        let last_seq = expected_seq - 1;
        // The head is a mutable cache, but a cut at the end of the log leaves it ahead.
        if let Some((head_seq, head_hash)) = self.head(tenant).await? {
            if head_seq > last_seq {
                return Ok(Verification::Broken {
                    seq: last_seq + 1,
                    reason: format!(
                        "event {} is missing: the log ends at {last_seq} but its head was written at {head_seq}",
                        last_seq + 1
                    ),
                });
            }
            if head_seq == last_seq && head_hash != chain::to_hex(&prev) {
                return Ok(Verification::Broken {
                    seq: last_seq,
                    reason: format!("event {last_seq} does not match the recorded chain head"),
                });
            }
        }
        Ok(Verification::Intact {
            events: last_seq,
            head_seq: last_seq,
            head_hash: chain::to_hex(&prev),
        })
    }
}

fn check(e: &RecordedEvent, expected_seq: i64, prev: &mut Hash) -> Option<Verification> {
    let broken = |reason: String| {
        Some(Verification::Broken {
            seq: expected_seq,
            reason,
        })
    };
    if e.tenant_seq != expected_seq {
        return broken(format!(
            "event {expected_seq} is missing: the next event in the log is {}",
            e.tenant_seq
        ));
    }
    if e.prev_hash != chain::to_hex(prev) {
        return broken(format!(
            "event {expected_seq} does not link to event {}: deleted, reordered or altered before it",
            expected_seq - 1
        ));
    }
    let hash = chain::event_hash(prev, e);
    if e.hash != chain::to_hex(&hash) {
        return broken(format!(
            "event {expected_seq} does not hash to its recorded hash: its contents were altered"
        ));
    }
    *prev = hash;
    None
}
