//! Appends, group-committed per tenant.
//!
//! One task per tenant owns that tenant's appends in this process. It takes every append
//! waiting for it and commits them together in one transaction: one chain-head lock, one
//! version check, one multi-row INSERT, one fsync. Under load from many writers this turns
//! N transactions into one, which is where the throughput of a serialized hash chain comes
//! from. Each append in a group is still checked on its own: a conflicting one fails alone.
//!
//! The task remembers the tenant's chain head and the versions of the aggregates it has
//! written. A group moves the head with a conditional UPDATE (`WHERE seq = <the head we
//! know>`: both the lock and the check that no other process appended since) and inserts its
//! rows, atomically: on PostgreSQL in one statement (a data-modifying CTE, so one round trip
//! a group), on SQLite in a transaction. When the head has moved, another process appended:
//! the task forgets what it knew, reloads the head, and redoes the group. Aggregates it has
//! not seen are looked up first, in one indexed query.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use casewire_events::RecordedEvent;
use sqlx::any::AnyRow;
use sqlx::{Any, Row as _};
use tokio::sync::{mpsc, oneshot, watch};

use crate::chain::{self, Hash, GENESIS};
use crate::inline::InlineSet;
use crate::tail::Tail;
use crate::{Backend, Db, EventStore, NewEvent, Result, StoreError};

/// A group holds at most this many events, so one transaction stays short.
const MAX_GROUP_EVENTS: usize = 2000;
/// Rows per INSERT statement: 13 parameters each keeps well under SQLite's and PostgreSQL's
/// parameter limits.
const ROWS_PER_INSERT: usize = 500;

/// An event ready to be chained: payload sealed and serialized, id assigned.
pub(crate) struct Prepared {
    aggregate_type: String,
    aggregate_id: String,
    sequence: i64,
    event_type: String,
    event_version: String,
    payload: String,
    metadata: String,
    event_id: String,
}

impl Prepared {
    pub(crate) fn new(e: NewEvent) -> Result<Self> {
        if e.sequence < 1 {
            return Err(StoreError::Invalid(format!(
                "{} {}: sequence must start at 1, got {}",
                e.aggregate_type, e.aggregate_id, e.sequence
            )));
        }
        if e.aggregate_type.is_empty() || e.aggregate_id.is_empty() || e.event_type.is_empty() {
            return Err(StoreError::Invalid(
                "aggregate type, aggregate id and event type must not be empty".into(),
            ));
        }
        Ok(Prepared {
            payload: e.payload.to_string(),
            metadata: e.metadata.to_string(),
            aggregate_type: e.aggregate_type,
            aggregate_id: e.aggregate_id,
            sequence: e.sequence,
            event_type: e.event_type,
            event_version: e.event_version,
            event_id: uuid::Uuid::now_v7().to_string(),
        })
    }
}

type Reply = oneshot::Sender<Result<Vec<RecordedEvent>>>;

struct Request {
    events: Vec<Prepared>,
    reply: Reply,
    /// The store appended through, for the inline read models (it opens sealed fields).
    store: EventStore,
}

pub(crate) struct Appenders {
    db: Db,
    pub(crate) inline: InlineSet,
    tasks: Mutex<HashMap<String, mpsc::Sender<Request>>>,
    appended: watch::Sender<Heads>,
    pub(crate) tail: Arc<Tail>,
}

/// The head (last seq) of each tenant this process appended to.
pub type Heads = HashMap<String, i64>;

impl Appenders {
    pub(crate) fn new(db: Db) -> Self {
        Appenders {
            db,
            inline: InlineSet::default(),
            tasks: Mutex::new(HashMap::new()),
            appended: watch::channel(Heads::new()).0,
            tail: Arc::default(),
        }
    }

    pub(crate) fn appended(&self) -> watch::Receiver<Heads> {
        self.appended.subscribe()
    }

    pub(crate) async fn submit(
        &self,
        tenant: &str,
        events: Vec<Prepared>,
        store: EventStore,
    ) -> Result<Vec<RecordedEvent>> {
        let (reply, answer) = oneshot::channel();
        let mut request = Request {
            events,
            reply,
            store,
        };
        loop {
            let sender = self.sender_for(tenant);
            match sender.send(request).await {
                Ok(()) => break,
                // The tenant's task died (a panic): start another and resend.
                Err(mpsc::error::SendError(r)) => request = r,
            }
        }
        answer.await.map_err(|_| {
            StoreError::Config(
                "the appender stopped before answering; nothing is known to be written".into(),
            )
        })?
    }

    fn sender_for(&self, tenant: &str) -> mpsc::Sender<Request> {
        let mut tasks = self.tasks.lock().expect("appenders lock");
        if let Some(s) = tasks.get(tenant).filter(|s| !s.is_closed()) {
            return s.clone();
        }
        let (tx, rx) = mpsc::channel(4096);
        tasks.insert(tenant.to_string(), tx.clone());
        // The task holds no reference back to `Appenders`: when the store is dropped, the
        // senders go, the task ends and the pool's connections are freed.
        let chain = Chain {
            db: self.db.clone(),
            inline: self.inline.clone(),
            tenant: tenant.to_string(),
            head: None,
            versions: HashMap::new(),
            tail: self.tail.clone(),
        };
        tokio::spawn(chain.run(rx, self.appended.clone()));
        tx
    }
}

/// One tenant's appender: what it knows of the tenant's chain between groups.
struct Chain {
    db: Db,
    inline: InlineSet,
    tenant: String,
    /// (seq, hash) of the head as this task last wrote or read it.
    head: Option<(i64, Hash)>,
    versions: HashMap<AggregateKey, i64>,
    /// Where committed events are kept for this process's readers.
    tail: Arc<Tail>,
}

/// Past this many remembered aggregates the task starts afresh, bounding its memory.
const MAX_REMEMBERED: usize = 100_000;

impl Chain {
    async fn run(mut self, mut rx: mpsc::Receiver<Request>, appended: watch::Sender<Heads>) {
        while let Some(first) = rx.recv().await {
            let mut size = first.events.len();
            let mut group = vec![first];
            while size < MAX_GROUP_EVENTS {
                match rx.try_recv() {
                    Ok(r) => {
                        size += r.events.len();
                        group.push(r);
                    }
                    Err(_) => break,
                }
            }
            let store = first_store(&group);
            let (events, replies): (Vec<_>, Vec<_>) =
                group.into_iter().map(|r| (r.events, r.reply)).unzip();
            match self.commit(&events, &store).await {
                Ok(outcomes) => {
                    let written = outcomes.iter().filter_map(|o| o.as_ref().ok());
                    self.tail.push(&self.tenant, written.flatten().cloned());
                    if let Some((seq, _)) = self.head {
                        appended.send_modify(|heads| {
                            heads.insert(self.tenant.clone(), seq);
                        });
                    }
                    for (reply, outcome) in replies.into_iter().zip(outcomes) {
                        let _ = reply.send(outcome);
                    }
                }
                Err(e) => {
                    self.forget();
                    tracing::warn!(tenant = %self.tenant, error = %e, "group commit failed");
                    for reply in replies {
                        let _ = reply.send(Err(e.clone()));
                    }
                }
            }
        }
    }

    /// Commits a group in one transaction, redoing it when another process appended to the
    /// tenant meanwhile. The outer error fails the whole group (nothing written); the inner
    /// results are per append (a conflict fails only its own).
    async fn commit(
        &mut self,
        group: &[Vec<Prepared>],
        store: &EventStore,
    ) -> Result<Vec<Result<Vec<RecordedEvent>>>> {
        loop {
            if let Some(outcomes) = self.try_commit(group, store).await? {
                return Ok(outcomes);
            }
            self.forget();
        }
    }

    fn forget(&mut self) {
        self.head = None;
        self.versions.clear();
    }

    /// `None`: the head moved under us, or an append shows this task's memory of an
    /// aggregate is behind (another process appended); nothing was written.
    async fn try_commit(
        &mut self,
        group: &[Vec<Prepared>],
        store: &EventStore,
    ) -> Result<Option<Vec<Result<Vec<RecordedEvent>>>>> {
        let (head_seq, head_hash) = match self.head {
            Some(h) => h,
            None => self.load_head().await?,
        };
        if self.versions.len() > MAX_REMEMBERED {
            self.versions.clear();
        }
        let unknown: Vec<AggregateKey> = group
            .iter()
            .flatten()
            .map(|p| (p.aggregate_type.clone(), p.aggregate_id.clone()))
            .filter(|k| !self.versions.contains_key(k))
            .collect();
        let read_now: std::collections::HashSet<AggregateKey> = unknown.iter().cloned().collect();
        if !unknown.is_empty() {
            let stored = stored_versions(&self.db, &self.tenant, unknown).await?;
            self.versions.extend(stored);
        }
        // `versions` is updated in place as appends are accepted: when the group is then not
        // written (an error, or the head moved), the caller forgets everything the task knew,
        // so no copy is needed to roll back.
        let versions = &mut self.versions;

        let recorded_at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
        let (mut seq, mut hash) = (head_seq, head_hash);
        let mut outcomes = Vec::with_capacity(group.len());
        let mut rows: Vec<Row> = Vec::new();
        for events in group {
            if let Err(conflict) = check_sequences(versions, events) {
                // An append past what this task remembers of an aggregate it did not read
                // just now: another process appended to it since (a campaign launched on
                // one replica, paused on the other). Read again rather than refuse.
                if let StoreError::Conflict {
                    aggregate_type,
                    aggregate_id,
                    expected,
                    actual,
                } = &conflict
                {
                    let key = (aggregate_type.clone(), aggregate_id.clone());
                    if *expected > actual + 1 && !read_now.contains(&key) {
                        return Ok(None);
                    }
                }
                outcomes.push(Err(conflict));
                continue;
            }
            let mut recorded = Vec::with_capacity(events.len());
            for p in events {
                seq += 1;
                let mut e = RecordedEvent {
                    tenant_id: self.tenant.clone(),
                    tenant_seq: seq,
                    event_id: p.event_id.clone(),
                    aggregate_type: p.aggregate_type.clone(),
                    aggregate_id: p.aggregate_id.clone(),
                    sequence: p.sequence,
                    event_type: p.event_type.clone(),
                    event_version: p.event_version.clone(),
                    payload: p.payload.clone(),
                    metadata: p.metadata.clone(),
                    recorded_at: recorded_at.clone(),
                    prev_hash: chain::to_hex(&hash),
                    hash: String::new(),
                };
                let prev = hash;
                hash = chain::event_hash(&prev, &e);
                e.hash = chain::to_hex(&hash);
                rows.push((e.clone(), prev, hash));
                recorded.push(e);
            }
            outcomes.push(Ok(recorded));
        }

        if !rows.is_empty() && !self.write(head_seq, (seq, hash), &rows, store).await? {
            return Ok(None);
        }
        self.head = Some((seq, hash));
        Ok(Some(outcomes))
    }

    /// Moves the head from `from` to `to`, inserts `rows` and writes the inline read models
    /// of their events, all or nothing. `false`: the head was no longer at `from`, and
    /// nothing was written.
    async fn write(
        &self,
        from: i64,
        (to, hash): (i64, Hash),
        rows: &[Row],
        store: &EventStore,
    ) -> Result<bool> {
        let head = HeadMove {
            tenant: &self.tenant,
            from,
            to,
            hash,
        };
        let inline = self.inline.for_events(rows.iter().map(|(e, _, _)| e));
        let postgres = self.db.backend() == Backend::Postgres;
        if postgres && rows.len() <= ROWS_PER_INSERT && inline.is_empty() {
            let written = insert(self.db.writer(), Backend::Postgres, Some(&head), rows).await?;
            return Ok(written > 0);
        }
        let mut tx = self.db.begin_log().await?;
        if postgres && rows.len() <= ROWS_PER_INSERT {
            // One statement moves the head and inserts, as above, inside the transaction
            // that also holds the inline rows.
            if insert(&mut *tx, Backend::Postgres, Some(&head), rows).await? == 0 {
                return Ok(false);
            }
            apply_inline(&mut tx, &inline, rows, store).await?;
            tx.commit().await?;
            inline.iter().for_each(|i| i.committed());
            return Ok(true);
        }
        let moved = sqlx::query(
            "UPDATE chain_heads SET seq = $1, hash = $2 WHERE tenant_id = $3 AND seq = $4",
        )
        .bind(to)
        .bind(hash.to_vec())
        .bind(&self.tenant)
        .bind(from)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if moved != 1 {
            return Ok(false);
        }
        for chunk in rows.chunks(ROWS_PER_INSERT) {
            insert(&mut *tx, self.db.backend(), None, chunk).await?;
        }
        apply_inline(&mut tx, &inline, rows, store).await?;
        tx.commit().await?;
        inline.iter().for_each(|i| i.committed());
        Ok(true)
    }

    /// Reads the tenant's chain head, creating it at genesis for a new tenant.
    async fn load_head(&mut self) -> Result<(i64, Hash)> {
        sqlx::query("INSERT INTO chain_heads (tenant_id, seq, hash) VALUES ($1, 0, $2) ON CONFLICT (tenant_id) DO NOTHING")
            .bind(&self.tenant)
            .bind(GENESIS.to_vec())
            .execute(self.db.writer())
            .await?;
        let (seq, hash): (i64, Vec<u8>) =
            sqlx::query_as("SELECT seq, hash FROM chain_heads WHERE tenant_id = $1")
                .bind(&self.tenant)
                .fetch_one(self.db.writer())
                .await?;
        let hash: Hash = hash.try_into().map_err(|_| {
            StoreError::Corrupt(format!("chain head of {} is not 32 bytes", self.tenant))
        })?;
        self.head = Some((seq, hash));
        Ok((seq, hash))
    }
}

/// Writes the inline read models of the group's events: each read model's events at once,
/// in the log's order (as a reader applies a batch).
async fn apply_inline(
    tx: &mut sqlx::Transaction<'static, Any>,
    inline: &[std::sync::Arc<dyn crate::Inline>],
    rows: &[Row],
    store: &EventStore,
) -> Result<()> {
    for i in inline {
        let events: Vec<&RecordedEvent> = rows
            .iter()
            .map(|(e, _, _)| e)
            .filter(|e| i.applies(e))
            .collect();
        i.apply_all(tx, store, &events).await.map_err(|err| {
            let (first, last) = (events[0], events[events.len() - 1]);
            StoreError::Inline(format!(
                "failed on the events from {} {} (seq {}) to {} {} (seq {}): {err:#}",
                first.event_type,
                first.aggregate_id,
                first.tenant_seq,
                last.event_type,
                last.aggregate_id,
                last.tenant_seq
            ))
        })?;
    }
    Ok(())
}

/// The store the group's first append came through: every append of a process goes
/// through clones of one store, which share its keys.
fn first_store(group: &[Request]) -> EventStore {
    group[0].store.clone()
}

type AggregateKey = (String, String);

/// The stored version of each aggregate, in one query. Written as a lookup per
/// `(type, id)` pair so each is one index probe; an `OR` of pairs makes PostgreSQL scan the
/// tenant's whole history.
async fn stored_versions(
    db: &Db,
    tenant: &str,
    mut keys: Vec<AggregateKey>,
) -> Result<HashMap<AggregateKey, i64>> {
    keys.sort();
    keys.dedup();
    let mut versions = HashMap::new();
    for chunk in keys.chunks(200) {
        let sql = format!(
            "SELECT v.column1, v.column2, (SELECT MAX(e.sequence) FROM events e WHERE e.tenant_id = $1 \
             AND e.aggregate_type = v.column1 AND e.aggregate_id = v.column2) FROM (VALUES {}) AS v",
            crate::sql::rows(chunk.len(), 2, 2)
        );
        let sql = crate::sql::positional(db.backend(), &sql);
        let mut q = sqlx::query(&sql).bind(tenant);
        for (t, id) in chunk {
            q = q.bind(t).bind(id);
        }
        for row in q.fetch_all(db.writer()).await? {
            let row: AnyRow = row;
            let version: Option<i64> = row.try_get(2)?;
            versions.insert((row.try_get(0)?, row.try_get(1)?), version.unwrap_or(0));
        }
    }
    Ok(versions)
}

/// Checks that an append continues each of its aggregates exactly; on success records the
/// new versions, on failure leaves `versions` as it was.
fn check_sequences(versions: &mut HashMap<AggregateKey, i64>, events: &[Prepared]) -> Result<()> {
    let mut next = HashMap::new();
    for p in events {
        let key = (p.aggregate_type.clone(), p.aggregate_id.clone());
        let current = next
            .get(&key)
            .or_else(|| versions.get(&key))
            .copied()
            .unwrap_or(0);
        if p.sequence != current + 1 {
            return Err(StoreError::Conflict {
                aggregate_type: p.aggregate_type.clone(),
                aggregate_id: p.aggregate_id.clone(),
                expected: p.sequence,
                actual: current,
            });
        }
        next.insert(key, p.sequence);
    }
    versions.extend(next);
    Ok(())
}

/// An event row with its previous and own hash, ready to insert.
type Row = (RecordedEvent, Hash, Hash);

/// The head move that must succeed for an insert to happen.
struct HeadMove<'a> {
    tenant: &'a str,
    from: i64,
    to: i64,
    hash: Hash,
}

/// Inserts rows in one statement; with `head`, only if the head moves (PostgreSQL: the
/// UPDATE runs in a CTE, and the INSERT happens only when it matched). Returns rows written.
async fn insert<'c, E: sqlx::Executor<'c, Database = Any>>(
    conn: E,
    backend: Backend,
    head: Option<&HeadMove<'_>>,
    rows: &[Row],
) -> Result<u64> {
    const COLS: usize = 13;
    const COLUMNS: &str =
        "tenant_id, tenant_seq, event_id, aggregate_type, aggregate_id, sequence, \
         event_type, event_version, payload, metadata, recorded_at, prev_hash, hash";
    let first = if head.is_some() { 5 } else { 1 };
    let values = crate::sql::rows(rows.len(), COLS, first);
    let sql = match head {
        None => format!("INSERT INTO events ({COLUMNS}) VALUES {values}"),
        Some(_) => format!(
            "WITH head AS (UPDATE chain_heads SET seq = $1, hash = $2 WHERE tenant_id = $3 AND seq = $4 RETURNING 1) \
             INSERT INTO events ({COLUMNS}) SELECT * FROM (VALUES {values}) AS v WHERE EXISTS (SELECT 1 FROM head)"
        ),
    };
    let sql = crate::sql::positional(backend, &sql);
    let mut q = sqlx::query(&sql);
    if let Some(h) = head {
        q = q
            .bind(h.to)
            .bind(h.hash.to_vec())
            .bind(h.tenant)
            .bind(h.from);
    }
    for (e, prev, hash) in rows {
        q = q
            .bind(&e.tenant_id)
            .bind(e.tenant_seq)
            .bind(&e.event_id)
            .bind(&e.aggregate_type)
            .bind(&e.aggregate_id)
            .bind(e.sequence)
            .bind(&e.event_type)
            .bind(&e.event_version)
            .bind(&e.payload)
            .bind(&e.metadata)
            .bind(&e.recorded_at)
            .bind(prev.to_vec())
            .bind(hash.to_vec());
    }
    Ok(q.execute(conn).await?.rows_affected())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prepared(id: &str, sequence: i64) -> Prepared {
        Prepared::new(NewEvent {
            aggregate_type: "case".into(),
            aggregate_id: id.into(),
            sequence,
            event_type: "Opened".into(),
            event_version: "1".into(),
            payload: serde_json::json!({}),
            metadata: serde_json::json!({}),
        })
        .unwrap()
    }

    #[test]
    fn a_conflicting_append_leaves_versions_untouched() {
        let mut v = HashMap::from([(("case".to_string(), "a".to_string()), 2)]);
        assert!(check_sequences(&mut v, &[prepared("a", 3), prepared("b", 1)]).is_ok());
        let err = check_sequences(&mut v, &[prepared("b", 2), prepared("a", 3)]).unwrap_err();
        assert!(
            matches!(
                err,
                StoreError::Conflict {
                    expected: 3,
                    actual: 3,
                    ..
                }
            ),
            "{err}"
        );
        assert_eq!(v[&("case".to_string(), "b".to_string())], 1);
    }
}
