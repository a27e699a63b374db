//! What a database superuser could do to the log behind casewire's back, for the tests
//! that prove verification catches it: run statements past the append-only triggers, and
//! forge a rewritten history, every hash recomputed, so that the chain alone holds.
//! Built only with the `tamper` feature, which no shipped binary turns on.

use casewire_events::RecordedEvent;
use sqlx::Executor;

use crate::{chain, Backend, EventStore, Result};

/// Runs `statements` on the log as a superuser could: the triggers that refuse changes
/// to events are switched off (PostgreSQL) or dropped (SQLite) first.
pub async fn tamper(store: &EventStore, statements: &[&str]) -> Result<()> {
    let mut conn = store.db().writer().acquire().await?;
    match store.db().backend() {
        Backend::Postgres => {
            conn.execute("SET session_replication_role = replica")
                .await?;
            for sql in statements {
                conn.execute(*sql).await?;
            }
            conn.execute("SET session_replication_role = DEFAULT")
                .await?;
        }
        Backend::Sqlite => {
            conn.execute("DROP TRIGGER IF EXISTS events_no_update")
                .await?;
            conn.execute("DROP TRIGGER IF EXISTS events_no_delete")
                .await?;
            for sql in statements {
                conn.execute(*sql).await?;
            }
        }
    }
    Ok(())
}

/// Writes `events` in place of those at their seqs, chained after `prev_hash` and each
/// hashed as casewire would: a rewrite the chain alone cannot tell. Answers them as
/// written.
pub async fn forge(
    store: &EventStore,
    prev_hash: &str,
    events: Vec<RecordedEvent>,
) -> Result<Vec<RecordedEvent>> {
    let mut prev = [0u8; 32];
    hex::decode_to_slice(prev_hash, &mut prev)
        .map_err(|e| crate::StoreError::Corrupt(e.to_string()))?;
    let mut forged = Vec::new();
    for mut e in events {
        e.prev_hash = chain::to_hex(&prev);
        prev = chain::event_hash(&prev, &e);
        e.hash = chain::to_hex(&prev);
        let delete = format!(
            "DELETE FROM events WHERE tenant_id = '{}' AND tenant_seq = {}",
            e.tenant_id.replace('\'', "''"),
            e.tenant_seq
        );
        tamper(store, &[delete.as_str()]).await?;
        sqlx::query(
            "INSERT INTO events (tenant_id, tenant_seq, event_id, aggregate_type, aggregate_id, sequence, \
             event_type, event_version, payload, metadata, recorded_at, prev_hash, hash) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        )
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
        .bind(hash_bytes(&e.prev_hash)?)
        .bind(hash_bytes(&e.hash)?)
        .execute(store.db().writer())
        .await?;
        forged.push(e);
    }
    Ok(forged)
}

/// Moves a tenant's cached head, as a rewrite that also covers its tracks would.
pub async fn move_head(store: &EventStore, tenant: &str, seq: i64, hash: &str) -> Result<()> {
    sqlx::query("UPDATE chain_heads SET seq = $1, hash = $2 WHERE tenant_id = $3")
        .bind(seq)
        .bind(hash_bytes(hash)?)
        .bind(tenant)
        .execute(store.db().writer())
        .await?;
    Ok(())
}

fn hash_bytes(hex_hash: &str) -> Result<Vec<u8>> {
    hex::decode(hex_hash).map_err(|e| crate::StoreError::Corrupt(e.to_string()))
}
