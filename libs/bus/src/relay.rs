//! The relay: publishes the committed log to JetStream, each tenant in `tenant_seq` order,
//! with `Nats-Msg-Id` = `event_id`.
//!
//! Its cursor (`cursors` row "relay") moves only after JetStream acknowledged the events,
//! so a crash never loses one; a crash after publishing and before moving the cursor makes
//! the next relay publish them again, and JetStream drops those as duplicates within its
//! duplicate window. On PostgreSQL one relay at a time holds an advisory lock; the others
//! wait to take over.

use std::time::Duration;

use casewire_eventstore::{Backend, EventStore};
use sqlx::pool::PoolConnection;
use sqlx::Any;
use tokio_util::sync::CancellationToken;

use crate::{BusError, Nats, Result};

pub const CURSOR: &str = "relay";
const BATCH: i64 = 256;
/// Arbitrary, fixed: the advisory lock that makes one relay the publisher.
const LEADER_LOCK: i64 = 0x6361_7365_7769_7265; // "casewire"

/// Runs the relay until `stop`.
pub async fn run(store: EventStore, nats: Nats, stop: CancellationToken) {
    let Some(_leadership) = lead(&store, &stop).await else {
        return;
    };
    tracing::info!("relay publishing the log to JetStream");
    let mut appended = store.appended();
    loop {
        if let Err(e) = relay_once(&store, &nats).await {
            tracing::warn!(error = %e, "relay pass failed; retrying");
        }
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = appended.changed() => {}
            // Appends by other processes (the services run apart) do not notify this one.
            _ = tokio::time::sleep(Duration::from_millis(100)) => {}
        }
    }
}

/// Waits until this relay may publish. `None` when stopped first.
async fn lead(store: &EventStore, stop: &CancellationToken) -> Option<Option<PoolConnection<Any>>> {
    if store.db().backend() == Backend::Sqlite {
        return Some(None); // the embedded mode is one process
    }
    loop {
        if let Ok(mut conn) = store.db().writer().acquire().await {
            let got: Result<(bool,), _> = sqlx::query_as("SELECT pg_try_advisory_lock($1)")
                .bind(LEADER_LOCK)
                .fetch_one(&mut *conn)
                .await;
            if let Ok((true,)) = got {
                return Some(Some(conn));
            }
        }
        tokio::select! {
            _ = stop.cancelled() => return None,
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
        }
    }
}

/// Publishes everything committed and not yet published. Returns how many were sent.
pub async fn relay_once(store: &EventStore, nats: &Nats) -> Result<usize> {
    let mut sent = 0;
    for lag in store.lagging(CURSOR).await? {
        let mut cursor = lag.cursor;
        loop {
            let events = store.read_log(&lag.tenant_id, cursor, BATCH).await?;
            let Some(last) = events.last().map(|e| e.tenant_seq) else {
                break;
            };
            // Pipelined: send the batch, then collect the acks in order.
            let mut acks = Vec::with_capacity(events.len());
            for e in &events {
                acks.push(nats.publish(e).await?);
            }
            let mut published = cursor;
            let mut failure = None;
            for (e, ack) in events.iter().zip(acks) {
                match ack.await {
                    Ok(_) if failure.is_none() => published = e.tenant_seq,
                    Ok(_) => {}
                    Err(err) => failure = failure.or(Some(err)),
                }
            }
            store
                .advance_cursor(CURSOR, &lag.tenant_id, published)
                .await?;
            sent += (published - cursor) as usize;
            if let Some(err) = failure {
                return Err(BusError::Nats(format!(
                    "publishing stopped at {}: {err}",
                    published + 1
                )));
            }
            cursor = last;
        }
    }
    Ok(sent)
}
