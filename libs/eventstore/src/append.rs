//! Appends, group-committed per tenant.
//!
//! One task per tenant owns that tenant's appends in this process. It takes every append
//! waiting for it and commits them together in one transaction: one chain-head lock, one
//! version check, one multi-row INSERT, one fsync. Under load from many writers this turns
//! N transactions into one, which is where the throughput of a serialized hash chain comes
//! from. Each append in a group is still checked on its own: a conflicting one fails alone.
//!
//! Across processes, the row lock on `chain_heads` (PostgreSQL) or the single writing
//! connection (SQLite, one process only) serializes a tenant's groups.

use std::collections::HashMap;
use std::sync::Mutex;

use casewire_events::RecordedEvent;
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};
use tokio::sync::{mpsc, oneshot, watch};

use crate::chain::{self, Hash, GENESIS};
use crate::{Db, NewEvent, Result, StoreError};

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
}

pub(crate) struct Appenders {
    db: Db,
    tasks: Mutex<HashMap<String, mpsc::Sender<Request>>>,
    appended: watch::Sender<u64>,
}

impl Appenders {
    pub(crate) fn new(db: Db) -> Self {
        Appenders {
            db,
            tasks: Mutex::new(HashMap::new()),
            appended: watch::channel(0).0,
        }
    }

    pub(crate) fn appended(&self) -> watch::Receiver<u64> {
        self.appended.subscribe()
    }

    pub(crate) async fn submit(
        self: &std::sync::Arc<Self>,
        tenant: &str,
        events: Vec<Prepared>,
    ) -> Result<Vec<RecordedEvent>> {
        let (reply, answer) = oneshot::channel();
        let mut request = Request { events, reply };
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

    fn sender_for(self: &std::sync::Arc<Self>, tenant: &str) -> mpsc::Sender<Request> {
        let mut tasks = self.tasks.lock().expect("appenders lock");
        if let Some(s) = tasks.get(tenant).filter(|s| !s.is_closed()) {
            return s.clone();
        }
        let (tx, rx) = mpsc::channel(4096);
        tasks.insert(tenant.to_string(), tx.clone());
        tokio::spawn(self.clone().run(tenant.to_string(), rx));
        tx
    }

    async fn run(self: std::sync::Arc<Self>, tenant: String, mut rx: mpsc::Receiver<Request>) {
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
            let (events, replies): (Vec<_>, Vec<_>) =
                group.into_iter().map(|r| (r.events, r.reply)).unzip();
            match self.commit(&tenant, &events).await {
                Ok(outcomes) => {
                    self.appended.send_modify(|n| *n += 1);
                    for (reply, outcome) in replies.into_iter().zip(outcomes) {
                        let _ = reply.send(outcome);
                    }
                }
                Err(e) => {
                    tracing::warn!(tenant = %tenant, error = %e, "group commit failed");
                    for reply in replies {
                        let _ = reply.send(Err(e.clone()));
                    }
                }
            }
        }
    }

    /// Commits a group in one transaction. The outer error fails the whole group (nothing
    /// written); the inner results are per append (a conflict fails only its own).
    async fn commit(
        &self,
        tenant: &str,
        group: &[Vec<Prepared>],
    ) -> Result<Vec<Result<Vec<RecordedEvent>>>> {
        let mut tx = self.db.writer().begin().await?;
        let (mut seq, mut hash) = self.lock_head(&mut tx, tenant).await?;
        let mut versions = current_versions(&mut tx, tenant, group).await?;
        let recorded_at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true);

        let mut outcomes = Vec::with_capacity(group.len());
        let mut rows: Vec<(RecordedEvent, Hash, Hash)> = Vec::new();
        for events in group {
            if let Err(conflict) = check_sequences(&mut versions, events) {
                outcomes.push(Err(conflict));
                continue;
            }
            let mut recorded = Vec::with_capacity(events.len());
            for p in events {
                seq += 1;
                let mut e = RecordedEvent {
                    tenant_id: tenant.to_string(),
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

        if !rows.is_empty() {
            for chunk in rows.chunks(ROWS_PER_INSERT) {
                insert_rows(&mut tx, chunk).await?;
            }
            sqlx::query("UPDATE chain_heads SET seq = $1, hash = $2 WHERE tenant_id = $3")
                .bind(seq)
                .bind(hash.to_vec())
                .bind(tenant)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(outcomes)
    }

    /// Locks the tenant's chain head, creating it at genesis for a new tenant.
    async fn lock_head(&self, tx: &mut Transaction<'_, Any>, tenant: &str) -> Result<(i64, Hash)> {
        let select = format!(
            "SELECT seq, hash FROM chain_heads WHERE tenant_id = $1{}",
            self.db.for_update()
        );
        let mut head: Option<(i64, Vec<u8>)> = sqlx::query_as(&select)
            .bind(tenant)
            .fetch_optional(&mut **tx)
            .await?;
        if head.is_none() {
            sqlx::query(
                "INSERT INTO chain_heads (tenant_id, seq, hash) VALUES ($1, 0, $2) \
                 ON CONFLICT (tenant_id) DO NOTHING",
            )
            .bind(tenant)
            .bind(GENESIS.to_vec())
            .execute(&mut **tx)
            .await?;
            head = sqlx::query_as(&select)
                .bind(tenant)
                .fetch_optional(&mut **tx)
                .await?;
        }
        let (seq, hash) = head.ok_or_else(|| StoreError::Corrupt("chain head vanished".into()))?;
        let hash = hash
            .try_into()
            .map_err(|_| StoreError::Corrupt(format!("chain head of {tenant} is not 32 bytes")))?;
        Ok((seq, hash))
    }
}

type AggregateKey = (String, String);

/// The stored version of every aggregate the group touches, in one query.
async fn current_versions(
    tx: &mut Transaction<'_, Any>,
    tenant: &str,
    group: &[Vec<Prepared>],
) -> Result<HashMap<AggregateKey, i64>> {
    let mut keys: Vec<AggregateKey> = group
        .iter()
        .flatten()
        .map(|p| (p.aggregate_type.clone(), p.aggregate_id.clone()))
        .collect();
    keys.sort();
    keys.dedup();
    let mut versions = HashMap::new();
    for chunk in keys.chunks(200) {
        let mut sql = String::from(
            "SELECT aggregate_type, aggregate_id, MAX(sequence) FROM events WHERE tenant_id = $1 AND (",
        );
        for i in 0..chunk.len() {
            if i > 0 {
                sql.push_str(" OR ");
            }
            sql.push_str(&format!(
                "(aggregate_type = ${} AND aggregate_id = ${})",
                2 * i + 2,
                2 * i + 3
            ));
        }
        sql.push_str(") GROUP BY aggregate_type, aggregate_id");
        let mut q = sqlx::query(&sql).bind(tenant);
        for (t, id) in chunk {
            q = q.bind(t).bind(id);
        }
        for row in q.fetch_all(&mut **tx).await? {
            let row: AnyRow = row;
            versions.insert(
                (row.try_get(0)?, row.try_get(1)?),
                row.try_get::<i64, _>(2)?,
            );
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

async fn insert_rows(
    tx: &mut Transaction<'_, Any>,
    rows: &[(RecordedEvent, Hash, Hash)],
) -> Result<()> {
    const COLS: usize = 13;
    let mut sql = String::from(
        "INSERT INTO events (tenant_id, tenant_seq, event_id, aggregate_type, aggregate_id, sequence, \
         event_type, event_version, payload, metadata, recorded_at, prev_hash, hash) VALUES ",
    );
    for i in 0..rows.len() {
        if i > 0 {
            sql.push(',');
        }
        sql.push('(');
        for c in 0..COLS {
            if c > 0 {
                sql.push(',');
            }
            sql.push_str(&format!("${}", i * COLS + c + 1));
        }
        sql.push(')');
    }
    let mut q = sqlx::query(&sql);
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
    q.execute(&mut **tx).await?;
    Ok(())
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
