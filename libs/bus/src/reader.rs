//! A service's one reader of the log.
//!
//! Each service has one [`Reader`]: it feeds all the service's projections, keeps one
//! position per tenant (the `cursors` row named after the service), and reads the log in
//! batches, so a batch of events costs one read and at most one transaction, whatever the
//! number of projections. The follower (in-process), the NATS consumer and the service's own
//! commands all go through the same reader, so they never race for the same rows:
//!
//! - A command waits for its own events with [`Reader::reach`]: when the position in memory
//!   is already there, that costs nothing; otherwise one caller applies a batch while the
//!   others queue behind it, and most find their events applied when their turn comes.
//! - What this process appended a moment ago is taken from the store's memory
//!   ([`EventStore::recent`]) when it links, hash by hash, to the last event read: in the
//!   embedded mode, four readers no longer read each event from the log.
//! - A batch with no event any projection reads ([`Projection::reads`]) moves the position
//!   in memory only. The cursor row catches up with the next batch that writes, or when the
//!   reader is idle ([`Reader::flush`]); replaying skipped events after a crash is harmless.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use casewire_events::{subjects, RecordedEvent};
use casewire_eventstore::{lock_cursor, set_cursor, EventStore};
use tokio_util::sync::CancellationToken;

use crate::{Projection, Reads};

/// Events read from the log at once.
const BATCH: i64 = 500;
/// How long the follower (in process) and the consumer (NATS) let events gather after a
/// batch, while the log is busy: each batch costs a cursor write (and in process a log
/// read), whatever its size. On SQLite each batch is also a transaction on the one writing
/// connection, which the log's group commits wait for: at 10 ms, a campaign's four readers
/// held it so often that a group commit waited about 4 ms for it (docs/benchmarks.md,
/// session 16). Nothing that answers a caller waits on this: commands reach their own events.
pub(crate) const GATHER: Duration = Duration::from_millis(50);

/// A service's reader of the log. Cheap to clone; clones share positions.
#[derive(Clone)]
pub struct Reader {
    inner: Arc<Inner>,
}

struct Inner {
    name: &'static str,
    store: EventStore,
    /// Whether any projection is inline: then each tenant's backlog is noted (Position).
    has_inline: bool,
    projections: Vec<Arc<dyn Projection>>,
    tenants: Mutex<HashMap<String, Arc<Position>>>,
}

/// What this process knows of the reader's position in one tenant's log.
struct Position {
    /// The last seq applied or skipped here; -1 until the cursor row was read.
    seen: AtomicI64,
    /// The last event that may have been appended by a version without the inline
    /// projections (fixed by a migration, `inline_backlog`): the reader applies inline
    /// events up to here itself. Past it, every append applied them in its own
    /// transaction, and the reader leaves them alone (applying one again after a newer
    /// one would undo the newer).
    backlog: AtomicI64,
    /// Held while applying.
    held: tokio::sync::Mutex<Held>,
    /// Reads of the tenant's head begun so far, for [`Reader::catch_up`].
    heads_begun: AtomicI64,
    /// Held while reading the head. Inside: (which read it was, the head it found).
    head: tokio::sync::Mutex<(i64, i64)>,
}

/// What the one applying a tenant's events holds.
struct Held {
    /// The last seq this process wrote to the cursor row.
    written: i64,
    /// The seq and hash of the last event this process read (at `seen`), when it knows
    /// them: events delivered by a message that link to it need not be read from the log.
    last: Option<(i64, String)>,
}

impl Position {
    fn seen(&self) -> i64 {
        self.seen.load(Ordering::Acquire)
    }

    fn saw(&self, seq: i64) {
        self.seen.store(seq, Ordering::Release);
    }
}

impl Reader {
    /// `name` is the service's: its cursor rows and, on NATS, its durable consumer. Keep it
    /// stable across versions.
    pub fn new(
        store: &EventStore,
        name: &'static str,
        projections: Vec<Arc<dyn Projection>>,
    ) -> Self {
        let inline: Vec<_> = projections
            .iter()
            .filter(|p| !p.inline().is_none())
            .collect();
        for p in &inline {
            store.add_inline(
                p.name(),
                Arc::new(crate::projection::InlineOf((*p).clone())),
            );
        }
        let has_inline = !inline.is_empty();
        Reader {
            inner: Arc::new(Inner {
                name,
                store: store.clone(),
                has_inline,
                projections,
                tenants: Mutex::new(HashMap::new()),
            }),
        }
    }

    pub fn name(&self) -> &'static str {
        self.inner.name
    }

    pub fn store(&self) -> &EventStore {
        &self.inner.store
    }

    pub fn projections(&self) -> &[Arc<dyn Projection>] {
        &self.inner.projections
    }

    /// Does the reader apply `e` to `p`: what it reads, and what it applies inline when
    /// the event is in the backlog of appends from before this process.
    fn applies(p: &dyn Projection, e: &RecordedEvent, backlog: i64) -> bool {
        p.reads().matches(e) || (e.tenant_seq <= backlog && p.inline().matches(e))
    }

    /// The NATS subjects of the events its projections read, for its consumer's filter.
    /// JetStream refuses overlapping filters: an aggregate type that any projection reads
    /// whole is one wildcard.
    pub fn subjects(&self) -> Vec<String> {
        use std::collections::{BTreeMap, BTreeSet};
        // None: every event of the aggregate type.
        let mut wanted: BTreeMap<&str, Option<BTreeSet<&str>>> = BTreeMap::new();
        for p in self.projections() {
            let Reads::Only(of) = p.reads() else {
                return vec![subjects::EVENTS_ALL.to_string()];
            };
            for of in of {
                let events = wanted.entry(of.aggregate).or_insert(Some(BTreeSet::new()));
                match events {
                    Some(set) if !of.events.is_empty() => set.extend(of.events),
                    _ => *events = None,
                }
            }
        }
        wanted
            .into_iter()
            .flat_map(|(aggregate, events)| match events {
                None => vec![subjects::event_filter(aggregate, None)],
                Some(set) => set
                    .into_iter()
                    .map(|e| subjects::event_filter(aggregate, Some(e)))
                    .collect(),
            })
            .collect()
    }

    fn position(&self, tenant: &str) -> Arc<Position> {
        let mut tenants = self.inner.tenants.lock().expect("reader positions");
        tenants
            .entry(tenant.to_string())
            .or_insert_with(|| {
                Arc::new(Position {
                    seen: AtomicI64::new(-1),
                    backlog: AtomicI64::new(0),
                    heads_begun: AtomicI64::new(0),
                    head: tokio::sync::Mutex::new((0, 0)),
                    held: tokio::sync::Mutex::new(Held {
                        written: -1,
                        last: None,
                    }),
                })
            })
            .clone()
    }

    /// Returns once every projection has applied `tenant`'s events up to `seq`: a command's
    /// read-your-writes. Applies what is missing itself, in batches.
    pub async fn reach(&self, tenant: &str, seq: i64) -> anyhow::Result<()> {
        let position = self.position(tenant);
        if position.seen() >= seq {
            return Ok(());
        }
        let mut held = position.held.lock().await;
        while position.seen() < seq {
            self.step(tenant, &position, &mut held, seq).await?;
        }
        Ok(())
    }

    /// Applies events a message delivered (NATS), up to the last of them. When they are the
    /// very events that come next (each follows the one before it in the tenant's chain, seq
    /// by seq and hash by hash, from the last event this process read), they are applied as
    /// they came, with no read of the log. Otherwise (the first message since the start,
    /// events the consumer's filter left out in between, an event published out of order
    /// after a relay retry, a message altered on the way) the log is read, as by
    /// [`Reader::reach`].
    pub async fn deliver(
        &self,
        tenant: &str,
        mut events: Vec<RecordedEvent>,
    ) -> anyhow::Result<()> {
        events.sort_by_key(|e| e.tenant_seq);
        events.dedup_by_key(|e| e.tenant_seq);
        let Some(target) = events.last().map(|e| e.tenant_seq) else {
            return Ok(());
        };
        let position = self.position(tenant);
        if position.seen() >= target {
            return Ok(());
        }
        let mut held = position.held.lock().await;
        let seen = position.seen();
        events.retain(|e| e.tenant_seq > seen);
        if !events.is_empty() && follow_on(held.last.as_ref(), seen, &events) {
            self.apply(tenant, &position, &mut held, events).await?;
        }
        while position.seen() < target {
            self.step(tenant, &position, &mut held, target).await?;
        }
        Ok(())
    }

    /// Brings the projections up to `tenant`'s head as it is now: for a command that reads
    /// what other services recorded a moment ago (a case just linked).
    ///
    /// Concurrent callers share head reads: a caller takes the head found by a read that
    /// began after it called (so it sees every event committed before), and only reads
    /// itself when there is none. Sixteen dispatches of one claim cost one or two reads.
    pub async fn catch_up(&self, tenant: &str) -> anyhow::Result<()> {
        let position = self.position(tenant);
        let arrived = position.heads_begun.load(Ordering::Acquire);
        let head = {
            let mut last = position.head.lock().await;
            if last.0 <= arrived {
                let this = position.heads_begun.fetch_add(1, Ordering::AcqRel) + 1;
                let head = self.store().head(tenant).await?.map_or(0, |(seq, _)| seq);
                *last = (this, head);
            }
            last.1
        };
        self.reach(tenant, head).await
    }

    /// One batch: read the events after the position (from memory when this process
    /// appended them a moment ago), apply those the projections read in
    /// one transaction with the cursor, or, when there are none, only move the position.
    async fn step(
        &self,
        tenant: &str,
        position: &Position,
        held: &mut Held,
        seq: i64,
    ) -> anyhow::Result<()> {
        let store = self.store();
        let name = self.name();
        if position.seen() < 0 {
            if self.inner.has_inline {
                let backlog = store.inline_backlog(name, tenant).await?;
                position.backlog.store(backlog, Ordering::Release);
            }
            let cursor = store.cursor(name, tenant).await?;
            *held = Held {
                written: cursor,
                last: None,
            };
            position.saw(cursor);
            return Ok(());
        }
        let seen = position.seen();
        // What this process appended a moment ago is still in memory: taken from there when
        // it links to the last event read, as a delivery from the bus would be.
        if let Some(events) = store.recent(tenant, seen, BATCH as usize) {
            if follow_on(held.last.as_ref(), seen, &events) {
                return self.apply(tenant, position, held, events).await;
            }
        }
        let mut events = store.read_log(tenant, seen, BATCH).await?;
        // Reading from the position, a gap means the log itself lacks an event: what comes
        // before it is applied, nothing after it can be.
        if let Some((missing, next)) = gap(seen, &events) {
            events.truncate((missing - seen - 1) as usize);
            if events.is_empty() {
                anyhow::bail!(
                    "{name}: the log of tenant {tenant} has no event {missing} (next is {next}): run `casewire audit verify --tenant {tenant}`"
                );
            }
        }
        if events.is_empty() {
            anyhow::bail!(
                "{name}: the log of tenant {tenant} ends at {seen}, before {seq}: run `casewire audit verify --tenant {tenant}`"
            );
        }
        self.apply(tenant, position, held, events).await
    }

    /// Applies `events`, the ones right after the position, in order and never empty: those
    /// the projections read in one transaction with the cursor row, or, when there are
    /// none, only moves the position.
    async fn apply(
        &self,
        tenant: &str,
        position: &Position,
        held: &mut Held,
        events: Vec<RecordedEvent>,
    ) -> anyhow::Result<()> {
        let store = self.store();
        let name = self.name();
        let seen = position.seen();
        let end = events.last().expect("a batch is never empty");
        let (last, at_last) = (end.tenant_seq, Some((end.tenant_seq, end.hash.clone())));
        let backlog = position.backlog.load(Ordering::Acquire);
        let any_applied = events
            .iter()
            .any(|e| (self.projections().iter()).any(|p| Self::applies(p.as_ref(), e, backlog)));
        if !any_applied {
            held.last = at_last;
            position.saw(last);
            return Ok(());
        }
        let mut tx = store.db().begin_read_model().await?;
        let cursor = lock_cursor(&mut tx, name, tenant).await?;
        if cursor < held.written {
            // The database lost read-model commits it had acknowledged (asynchronous commit
            // and a crash): go back to where it is and apply those events again.
            tracing::warn!(
                reader = name,
                tenant,
                cursor,
                written = held.written,
                "read models behind what was written; reapplying"
            );
            *held = Held {
                written: cursor,
                last: None,
            };
            position.saw(cursor);
            return Ok(());
        }
        // Past the cursor and the position, whichever is further: the cursor is further when
        // another replica applied events; the position when this one skipped some.
        let from = cursor.max(seen);
        if from >= last {
            // Another replica went as far or further; where it stopped, this one has no hash.
            *held = Held {
                written: cursor,
                last: if cursor > last { None } else { at_last },
            };
            position.saw(cursor.max(last));
            return Ok(());
        }
        let mut woken = Vec::new();
        for p in self.projections() {
            let mine: Vec<&RecordedEvent> = events
                .iter()
                .filter(|e| e.tenant_seq > from && Self::applies(p.as_ref(), e, backlog))
                .collect();
            if !mine.is_empty() {
                p.apply_all(&mut tx, store, &mine).await?;
                woken.extend_from_slice(p.feeds());
            }
        }
        set_cursor(&mut *tx, name, tenant, last).await?;
        tx.commit().await?;
        *held = Held {
            written: last,
            last: at_last,
        };
        position.saw(last);
        for queue in woken {
            crate::jobs::wake(queue);
        }
        Ok(())
    }

    /// Brings every tenant whose cursor row is behind its head up to that head. Whether it
    /// found anything to do.
    pub async fn follow_once(&self) -> anyhow::Result<bool> {
        let mut moved = false;
        for lag in self.store().lagging(self.name()).await? {
            let position = self.position(&lag.tenant_id);
            if position.seen() < lag.head {
                self.reach(&lag.tenant_id, lag.head).await?;
                moved = true;
            }
        }
        Ok(moved)
    }

    /// Writes the positions that moved past the cursor rows by skipping events, so that an
    /// operator's lag figure reaches zero when the reader is idle.
    pub async fn flush(&self) -> anyhow::Result<()> {
        let positions: Vec<(String, Arc<Position>)> = self
            .inner
            .tenants
            .lock()
            .expect("reader positions")
            .iter()
            .map(|(t, p)| (t.clone(), p.clone()))
            .collect();
        for (tenant, position) in positions {
            let Ok(mut held) = position.held.try_lock() else {
                continue; // being applied right now: that will write it
            };
            let seen = position.seen();
            if seen > held.written {
                self.store()
                    .advance_cursor(self.name(), &tenant, seen)
                    .await?;
                held.written = seen;
            }
        }
        Ok(())
    }

    /// Follows the whole log in this process until `stop`: the embedded mode's reader. Woken
    /// by this process's appends, it reads where they moved the heads; every 2 s, and when
    /// it starts, it asks the database which tenants are ahead of it, for appends by another
    /// process on the same database.
    pub async fn follow(self, stop: CancellationToken) {
        let mut appended = self.store().appended();
        let mut everywhere = true;
        loop {
            let moved = match everywhere {
                true => self.follow_once().await,
                false => {
                    let heads = appended.borrow_and_update().clone();
                    self.follow_heads(&heads).await
                }
            };
            match moved {
                // More may have come while it applied: look again, after letting a few
                // more appends gather, so that a busy log is read in batches and not one
                // append at a time. Commands never wait for this: they reach their own
                // events themselves.
                Ok(true) => {
                    tokio::time::sleep(GATHER).await;
                    continue;
                }
                Ok(false) => {
                    if let Err(e) = self.flush().await {
                        tracing::warn!(reader = self.name(), error = %e, "could not write the reader's position");
                    }
                }
                Err(e) => {
                    tracing::warn!(reader = self.name(), error = %e, "reader failed; retrying")
                }
            }
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = appended.changed() => everywhere = false,
                _ = tokio::time::sleep(Duration::from_secs(2)) => everywhere = true,
            }
        }
    }

    /// Brings every tenant of `heads` up to its head there. Whether it found anything to do.
    async fn follow_heads(&self, heads: &casewire_eventstore::Heads) -> anyhow::Result<bool> {
        let mut moved = false;
        for (tenant, head) in heads {
            if self.position(tenant).seen() < *head {
                self.reach(tenant, *head).await?;
                moved = true;
            }
        }
        Ok(moved)
    }

    /// How far each tenant's cursor row is behind its head, summed: what `status` shows.
    pub async fn events_behind(&self) -> anyhow::Result<i64> {
        let lag = self.store().lagging(self.name()).await?;
        Ok(lag
            .iter()
            .map(|l| {
                let seen = self.position(&l.tenant_id).seen().max(l.cursor);
                (l.head - seen).max(0)
            })
            .sum())
    }
}

/// Whether `events` come right after the last event read (`last`, at the position `seen`),
/// each linked to the one before it.
fn follow_on(last: Option<&(i64, String)>, seen: i64, events: &[RecordedEvent]) -> bool {
    let Some((mut seq, mut hash)) = last
        .filter(|(at, _)| *at == seen)
        .map(|(at, hash)| (*at, hash.as_str()))
    else {
        return false;
    };
    for e in events {
        if !casewire_eventstore::chain::follows(seq, hash, e) {
            return false;
        }
        (seq, hash) = (e.tenant_seq, e.hash.as_str());
    }
    true
}

/// The first missing seq in a batch read after `after`, and the seq found in its place.
fn gap(after: i64, events: &[RecordedEvent]) -> Option<(i64, i64)> {
    (after + 1..)
        .zip(events)
        .find(|(expected, e)| e.tenant_seq != *expected)
        .map(|(expected, e)| (expected, e.tenant_seq))
}

/// The trace context an event was recorded under.
pub(crate) fn trace_context(e: &RecordedEvent) -> HashMap<String, String> {
    let m = e.metadata();
    [("traceparent", m.traceparent), ("tracestate", m.tracestate)]
        .into_iter()
        .filter_map(|(k, v)| Some((k.to_string(), v?)))
        .collect()
}
