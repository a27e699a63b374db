use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use casewire_events::RecordedEvent;
use casewire_eventstore::{lock_cursor, set_cursor, EventStore};
use sqlx::{Any, Transaction};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

/// A read model fed by the log. It sees every event of every tenant, in each tenant's
/// order, exactly once in effect: [`apply`] runs it in the same transaction that moves its
/// cursor.
#[async_trait]
pub trait Projection: Send + Sync + 'static {
    /// Its cursor's name, and its durable consumer's name on NATS. Stable across versions.
    fn name(&self) -> &'static str;

    /// Applies one event inside `tx`. Ignore the events it does not care about. Sealed
    /// fields arrive sealed: open them with `store.open_payload` where the model needs them.
    async fn apply(
        &self,
        tx: &mut Transaction<'static, Any>,
        store: &EventStore,
        event: &RecordedEvent,
    ) -> anyhow::Result<()>;
}

/// What [`apply`] did with an event.
#[derive(Debug, PartialEq, Eq)]
pub enum Applied {
    Applied,
    /// Already applied (a redelivery): nothing changed.
    Duplicate,
    /// An earlier event of the tenant has not been applied yet.
    Gap {
        cursor: i64,
    },
}

/// Applies `event` to `projection` if it is the next for its tenant.
pub async fn apply(
    store: &EventStore,
    projection: &dyn Projection,
    event: &RecordedEvent,
) -> anyhow::Result<Applied> {
    let mut tx = store.db().writer().begin().await?;
    let cursor = lock_cursor(&mut tx, store.db(), projection.name(), &event.tenant_id).await?;
    if event.tenant_seq <= cursor {
        return Ok(Applied::Duplicate);
    }
    if event.tenant_seq > cursor + 1 {
        return Ok(Applied::Gap { cursor });
    }
    projection.apply(&mut tx, store, event).await?;
    set_cursor(
        &mut tx,
        projection.name(),
        &event.tenant_id,
        event.tenant_seq,
    )
    .await?;
    tx.commit().await?;
    crate::jobs::wake();
    Ok(Applied::Applied)
}

/// Brings a projection up to the head of one tenant's log, reading the log directly.
/// Used by the in-process bus, to fill gaps on NATS, and after a command for
/// read-your-writes.
pub async fn catch_up(
    store: &EventStore,
    projection: &dyn Projection,
    tenant: &str,
) -> anyhow::Result<()> {
    loop {
        let cursor = store.cursor(projection.name(), tenant).await?;
        let events = store.read_log(tenant, cursor, 500).await?;
        if events.is_empty() {
            return Ok(());
        }
        for e in &events {
            let span = tracing::info_span!("apply", projection = projection.name(), event_type = %e.event_type, tenant_seq = e.tenant_seq);
            casewire_telemetry::continue_from(&span, &trace_context(e));
            if let Applied::Gap { cursor } = apply(store, projection, e).instrument(span).await? {
                // Reading from the cursor, a gap means the log itself lacks an event.
                anyhow::bail!(
                    "the log of tenant {tenant} has no event {} (next is {}): run `casewire audit verify --tenant {tenant}`",
                    cursor + 1,
                    e.tenant_seq
                );
            }
        }
    }
}

/// The trace context an event was recorded under.
pub(crate) fn trace_context(e: &RecordedEvent) -> std::collections::HashMap<String, String> {
    let m = e.metadata();
    [("traceparent", m.traceparent), ("tracestate", m.tracestate)]
        .into_iter()
        .filter_map(|(k, v)| Some((k.to_string(), v?)))
        .collect()
}

/// Follows the whole log for a projection in this process, until `stop`.
pub async fn follow(store: EventStore, projection: Arc<dyn Projection>, stop: CancellationToken) {
    let mut appended = store.appended();
    loop {
        if let Err(e) = follow_once(&store, projection.as_ref()).await {
            tracing::warn!(projection = projection.name(), error = %e, "projection failed; retrying");
        }
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = appended.changed() => {}
            // Appends by other processes (a second casewire on the same database) do not
            // notify this one.
            _ = tokio::time::sleep(Duration::from_secs(2)) => {}
        }
    }
}

pub(crate) async fn follow_once(
    store: &EventStore,
    projection: &dyn Projection,
) -> anyhow::Result<()> {
    for lag in store.lagging(projection.name()).await? {
        catch_up(store, projection, &lag.tenant_id).await?;
    }
    Ok(())
}
