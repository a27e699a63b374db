//! Reading the log back.

use casewire_events::RecordedEvent;
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::{EventStore, Result, StoreError};

pub(crate) const COLUMNS: &str = "tenant_id, tenant_seq, event_id, aggregate_type, aggregate_id, \
    sequence, event_type, event_version, payload, metadata, recorded_at, prev_hash, hash";

/// [`COLUMNS`] of the table or alias `alias`, for a statement that joins the log to an
/// index: read its rows with [`from_row`].
pub fn event_columns(alias: &str) -> String {
    COLUMNS
        .split(',')
        .map(|c| format!("{alias}.{}", c.trim()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// An event as stored, from a row of [`COLUMNS`] (or [`event_columns`]).
pub fn from_row(row: &AnyRow) -> Result<RecordedEvent> {
    let prev: Vec<u8> = row.try_get(11)?;
    let hash: Vec<u8> = row.try_get(12)?;
    Ok(RecordedEvent {
        tenant_id: row.try_get(0)?,
        tenant_seq: row.try_get(1)?,
        event_id: row.try_get(2)?,
        aggregate_type: row.try_get(3)?,
        aggregate_id: row.try_get(4)?,
        sequence: row.try_get(5)?,
        event_type: row.try_get(6)?,
        event_version: row.try_get(7)?,
        payload: row.try_get(8)?,
        metadata: row.try_get(9)?,
        recorded_at: row.try_get(10)?,
        prev_hash: hex::encode(prev),
        hash: hex::encode(hash),
    })
}

impl EventStore {
    /// A tenant's events after `after_seq`, in chain order, exactly as stored (sealed).
    pub async fn read_log(
        &self,
        tenant: &str,
        after_seq: i64,
        limit: i64,
    ) -> Result<Vec<RecordedEvent>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM events WHERE tenant_id = $1 AND tenant_seq > $2 \
             ORDER BY tenant_seq LIMIT $3"
        );
        sqlx::query(&sql)
            .bind(tenant)
            .bind(after_seq)
            .bind(limit)
            .fetch_all(self.db.reader())
            .await?
            .iter()
            .map(from_row)
            .collect()
    }

    /// One aggregate's events after its `after_sequence`, with sealed fields opened.
    pub async fn read_aggregate(
        &self,
        tenant: &str,
        aggregate_type: &str,
        aggregate_id: &str,
        after_sequence: i64,
    ) -> Result<Vec<RecordedEvent>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM events WHERE tenant_id = $1 AND aggregate_type = $2 \
             AND aggregate_id = $3 AND sequence > $4 ORDER BY sequence"
        );
        let rows = sqlx::query(&sql)
            .bind(tenant)
            .bind(aggregate_type)
            .bind(aggregate_id)
            .bind(after_sequence)
            .fetch_all(self.db.reader())
            .await?;
        self.opened(tenant, &rows).await
    }

    /// The events of several aggregates of one type, each one's in order (by id, then
    /// sequence), with sealed fields opened, in one statement: for a worker that runs a
    /// claim's jobs at once and reads all their aggregates first.
    pub async fn read_aggregates(
        &self,
        tenant: &str,
        aggregate_type: &str,
        aggregate_ids: &[&str],
    ) -> Result<Vec<RecordedEvent>> {
        let mut out = Vec::new();
        // Within either database's limit of placeholders.
        for ids in aggregate_ids.chunks(500) {
            let sql = format!(
                "SELECT {COLUMNS} FROM events WHERE tenant_id = $1 AND aggregate_type = $2 \
                 AND aggregate_id IN ({}) ORDER BY aggregate_id, sequence",
                crate::sql::list(ids.len(), 3)
            );
            let sql = crate::sql::positional(self.db.backend(), &sql);
            let mut query = sqlx::query(&sql).bind(tenant).bind(aggregate_type);
            for id in ids {
                query = query.bind(*id);
            }
            let rows = query.fetch_all(self.db.reader()).await?;
            out.extend(self.opened(tenant, &rows).await?);
        }
        Ok(out)
    }

    /// Events from rows of [`COLUMNS`], their sealed fields opened.
    async fn opened(&self, tenant: &str, rows: &[AnyRow]) -> Result<Vec<RecordedEvent>> {
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let mut e = from_row(row)?;
            if e.payload.contains(casewire_events::SEALED_TAG) {
                e.payload = self.open_payload(tenant, &e.payload).await?.to_string();
            }
            out.push(e);
        }
        Ok(out)
    }

    /// The head of a tenant's chain as the store last wrote it: (seq, hex hash).
    pub async fn head(&self, tenant: &str) -> Result<Option<(i64, String)>> {
        let row: Option<(i64, Vec<u8>)> =
            sqlx::query_as("SELECT seq, hash FROM chain_heads WHERE tenant_id = $1")
                .bind(tenant)
                .fetch_optional(self.db.reader())
                .await?;
        Ok(row.map(|(s, h)| (s, hex::encode(h))))
    }

    /// The hash of a tenant's event `seq`, if it has one: for an officer recording heads.
    pub async fn hash_at(&self, tenant: &str, seq: i64) -> Result<Option<String>> {
        let row: Option<(Vec<u8>,)> =
            sqlx::query_as("SELECT hash FROM events WHERE tenant_id = $1 AND tenant_seq = $2")
                .bind(tenant)
                .bind(seq)
                .fetch_optional(self.db.reader())
                .await?;
        Ok(row.map(|(h,)| hex::encode(h)))
    }

    /// Every tenant that has at least one event.
    pub async fn tenants(&self) -> Result<Vec<String>> {
        let rows: Vec<(String,)> =
            sqlx::query_as("SELECT tenant_id FROM chain_heads ORDER BY tenant_id")
                .fetch_all(self.db.reader())
                .await?;
        Ok(rows.into_iter().map(|(t,)| t).collect())
    }
}

impl From<StoreError> for cqrs_es::persist::PersistenceError {
    fn from(e: StoreError) -> Self {
        use cqrs_es::persist::PersistenceError as P;
        match e {
            StoreError::Conflict { .. } => P::OptimisticLockError,
            StoreError::Database(_) => P::ConnectionError(Box::new(e)),
            StoreError::Corrupt(_) => P::DeserializationError(Box::new(e)),
            _ => P::UnknownError(Box::new(e)),
        }
    }
}
