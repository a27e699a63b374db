//! Cursors of the log's readers: the relay and every projection keep, per tenant, the last
//! `tenant_seq` they handled, in the `cursors` table.

use sqlx::{Any, Transaction};

use crate::{EventStore, Result};

/// A tenant whose log is ahead of a reader.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lag {
    pub tenant_id: String,
    pub cursor: i64,
    pub head: i64,
}

impl EventStore {
    /// Tenants whose chain is ahead of reader `name`.
    pub async fn lagging(&self, name: &str) -> Result<Vec<Lag>> {
        let rows: Vec<(String, i64, i64)> = sqlx::query_as(
            "SELECT h.tenant_id, COALESCE(c.seq, 0), h.seq FROM chain_heads h \
             LEFT JOIN cursors c ON c.name = $1 AND c.tenant_id = h.tenant_id \
             WHERE h.seq > COALESCE(c.seq, 0) ORDER BY h.tenant_id",
        )
        .bind(name)
        .fetch_all(self.db.reader())
        .await?;
        Ok(rows
            .into_iter()
            .map(|(tenant_id, cursor, head)| Lag {
                tenant_id,
                cursor,
                head,
            })
            .collect())
    }

    pub async fn cursor(&self, name: &str, tenant: &str) -> Result<i64> {
        let row: Option<(i64,)> =
            sqlx::query_as("SELECT seq FROM cursors WHERE name = $1 AND tenant_id = $2")
                .bind(name)
                .bind(tenant)
                .fetch_optional(self.db.reader())
                .await?;
        Ok(row.map_or(0, |(s,)| s))
    }

    /// The last seq of `tenant` whose events may lack the inline rows of reader `name`'s
    /// projections (migration 0009): 0 when every event had them written with its append.
    pub async fn inline_backlog(&self, name: &str, tenant: &str) -> Result<i64> {
        let row: Option<(i64,)> =
            sqlx::query_as("SELECT seq FROM inline_backlog WHERE name = $1 AND tenant_id = $2")
                .bind(name)
                .bind(tenant)
                .fetch_optional(self.db.reader())
                .await?;
        Ok(row.map_or(0, |(s,)| s))
    }

    /// Moves a cursor forward (never back), in one statement of its own.
    pub async fn advance_cursor(&self, name: &str, tenant: &str, seq: i64) -> Result<()> {
        set_cursor(self.db.writer(), name, tenant, seq).await
    }
}

/// Reads a cursor inside a transaction, making its row if it has none, in one statement.
/// On PostgreSQL the upsert locks the row, so two replicas of a reader apply a tenant's
/// events one at a time; SQLite's single writer already serializes them.
pub async fn lock_cursor(tx: &mut Transaction<'_, Any>, name: &str, tenant: &str) -> Result<i64> {
    let (seq,): (i64,) = sqlx::query_as(
        "INSERT INTO cursors (name, tenant_id, seq) VALUES ($1, $2, 0) \
         ON CONFLICT (name, tenant_id) DO UPDATE SET seq = cursors.seq RETURNING seq",
    )
    .bind(name)
    .bind(tenant)
    .fetch_one(&mut **tx)
    .await?;
    Ok(seq)
}

/// Moves a cursor forward, never back.
pub async fn set_cursor<'e>(
    db: impl sqlx::Executor<'e, Database = Any>,
    name: &str,
    tenant: &str,
    seq: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO cursors (name, tenant_id, seq) VALUES ($1, $2, $3) \
         ON CONFLICT (name, tenant_id) DO UPDATE SET seq = CASE WHEN cursors.seq > excluded.seq THEN cursors.seq ELSE excluded.seq END",
    )
    .bind(name)
    .bind(tenant)
    .bind(seq)
    .execute(db)
    .await?;
    Ok(())
}
