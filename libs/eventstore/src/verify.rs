//! Walking a tenant's chain (docs/audit-chain.md, "Verifying").

use std::fmt;
use std::str::FromStr;

use casewire_events::RecordedEvent;

use crate::chain::{self, Hash, GENESIS};
use crate::{EventStore, Result, StoreError};

const CHUNK: i64 = 5000;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verification {
    /// Every event links to the one before and hashes to what it says, the log ends at its
    /// head, and it passes through every anchor given.
    Intact {
        events: i64,
        head_seq: i64,
        head_hash: String,
    },
    /// The first event that does not hold, and why.
    Broken {
        seq: i64,
        fault: Fault,
        reason: String,
    },
}

/// Why a trail does not hold, in the words of docs/audit-chain.md.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Fault {
    /// The event is not there: the log skips its seq, or ends before its head or an anchor.
    Missing,
    /// Its `prev_hash` is not the hash of the event before it.
    DoesNotLink,
    /// It does not hash to its recorded hash.
    Altered,
    /// The log does not match its head: it runs past the head, has events but no head, or
    /// has another hash where the head (or an anchor, a head recorded outside) says.
    DoesNotMatchItsHead,
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Fault::Missing => "missing",
            Fault::DoesNotLink => "does not link",
            Fault::Altered => "altered",
            Fault::DoesNotMatchItsHead => "does not match its head",
        })
    }
}

/// A head recorded outside the database (`<seq>:<hash>`): the trail must pass through it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Anchor {
    pub seq: i64,
    pub hash: String,
}

impl FromStr for Anchor {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        let wrong =
            || format!("an anchor is <seq>:<hash>, a seq from 1 and 64 hex digits; got {s:?}");
        let (seq, hash) = s.split_once(':').ok_or_else(wrong)?;
        let seq: i64 = seq.parse().map_err(|_| wrong())?;
        let hash = hash.to_ascii_lowercase();
        if seq < 1 || hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(wrong());
        }
        Ok(Anchor { seq, hash })
    }
}

/// Where a walk has got: the next seq it expects, and the hash of the one before.
struct Walk {
    next: i64,
    prev: Hash,
}

impl Walk {
    fn last(&self) -> i64 {
        self.next - 1
    }
}

impl EventStore {
    /// Recomputes a tenant's chain from its first event, checks that the log ends at its
    /// head and passes through each anchor. A tenant with no event and no head does not
    /// exist: [`StoreError::NoSuchTenant`], so that a mistyped id never reads as intact.
    pub async fn verify(&self, tenant: &str, anchors: &[Anchor]) -> Result<Verification> {
        let mut anchors: Vec<&Anchor> = anchors.iter().collect();
        anchors.sort_by_key(|a| a.seq);
        let mut walk = Walk {
            next: 1,
            prev: GENESIS,
        };
        if let Some(broken) = self.walk(tenant, &mut walk, None, &anchors).await? {
            return Ok(broken);
        }
        // Read after the walk: every event the walk saw was appended with its head move, so
        // the head is at least as far. If it is further, the appends since are walked too.
        let head = self.head(tenant).await?;
        let Some((head_seq, head_hash)) = head else {
            if walk.last() == 0 {
                return Err(StoreError::NoSuchTenant(tenant.to_string()));
            }
            let last = walk.last();
            return Ok(broken(
                last,
                Fault::DoesNotMatchItsHead,
                format!("the log holds events up to {last} but has no head: the head was deleted"),
            ));
        };
        if head_seq > walk.last() {
            if let Some(broken) = self
                .walk(tenant, &mut walk, Some(head_seq), &anchors)
                .await?
            {
                return Ok(broken);
            }
        }
        let last = walk.last();
        if head_seq > last {
            return Ok(broken(
                last + 1,
                Fault::Missing,
                format!("event {} is missing: the log ends at {last} but its head was written at {head_seq}", last + 1),
            ));
        }
        if head_seq < last {
            return Ok(broken(
                head_seq + 1,
                Fault::DoesNotMatchItsHead,
                format!(
                    "event {} is past its head: the head was written at {head_seq}, so events {} to {last} were added outside casewire",
                    head_seq + 1,
                    head_seq + 1
                ),
            ));
        }
        if head_hash != chain::to_hex(&walk.prev) {
            return Ok(broken(
                last,
                Fault::DoesNotMatchItsHead,
                format!("event {last} does not match its head: the head records another hash"),
            ));
        }
        if let Some(beyond) = anchors.iter().find(|a| a.seq > last) {
            return Ok(broken(
                last + 1,
                Fault::Missing,
                format!(
                    "event {} is missing: the log ends at {last}, but an anchor was recorded at {}",
                    last + 1,
                    beyond.seq
                ),
            ));
        }
        Ok(Verification::Intact {
            events: last,
            head_seq: last,
            head_hash: chain::to_hex(&walk.prev),
        })
    }

    /// Walks on from `walk` to the end of the log, or to `until`. Reading the next chunk of
    /// rows overlaps with hashing the current one, so a walk runs at about the speed of
    /// reading.
    async fn walk(
        &self,
        tenant: &str,
        walk: &mut Walk,
        until: Option<i64>,
        anchors: &[&Anchor],
    ) -> Result<Option<Verification>> {
        let fetch = |after: i64| {
            let store = self.clone();
            let tenant = tenant.to_string();
            let limit = until.map_or(CHUNK, |u| (u - after).clamp(0, CHUNK));
            tokio::spawn(async move {
                match limit {
                    0 => Ok(Vec::new()),
                    _ => store.read_log(&tenant, after, limit).await,
                }
            })
        };
        let mut next = fetch(walk.last());
        loop {
            let rows = next.await.expect("verify reader task")?;
            let Some(last) = rows.last() else {
                return Ok(None);
            };
            next = fetch(last.tenant_seq);
            for e in &rows {
                if let Some(broken) = check(e, walk, anchors) {
                    next.abort();
                    return Ok(Some(broken));
                }
            }
        }
    }
}

fn broken(seq: i64, fault: Fault, reason: String) -> Verification {
    Verification::Broken { seq, fault, reason }
}

/// Checks the event the walk expects next, and moves the walk past it.
fn check(e: &RecordedEvent, walk: &mut Walk, anchors: &[&Anchor]) -> Option<Verification> {
    let seq = walk.next;
    if e.tenant_seq != seq {
        return Some(broken(
            seq,
            Fault::Missing,
            format!(
                "event {seq} is missing: the next event in the log is {}",
                e.tenant_seq
            ),
        ));
    }
    if e.prev_hash != chain::to_hex(&walk.prev) {
        return Some(broken(
            seq,
            Fault::DoesNotLink,
            format!(
                "event {seq} does not link to event {}: something before it was deleted, reordered or altered",
                seq - 1
            ),
        ));
    }
    let hash = chain::event_hash(&walk.prev, e);
    if e.hash != chain::to_hex(&hash) {
        return Some(broken(
            seq,
            Fault::Altered,
            format!("event {seq} is altered: it does not hash to its recorded hash"),
        ));
    }
    for anchor in anchors.iter().filter(|a| a.seq == seq) {
        if anchor.hash != e.hash {
            return Some(broken(
                seq,
                Fault::DoesNotMatchItsHead,
                format!(
                    "event {seq} does not match its head recorded outside: the anchor says {}, the log {}",
                    anchor.hash, e.hash
                ),
            ));
        }
    }
    walk.prev = hash;
    walk.next += 1;
    None
}
