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
    let mut tx = store.db().begin_read_model().await?;
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
/// Used by the in-process bus and by the NATS consumer, which applies from the log.
pub async fn catch_up(
    store: &EventStore,
    projection: &dyn Projection,
    tenant: &str,
) -> anyhow::Result<()> {
    catch_up_all(store, &[projection], tenant).await
}

/// Brings several projections up to the head of one tenant's log, in batches of events
/// applied to all of them in one transaction: after a command (read-your-writes) this is
/// one commit, not one per projection and event. Callers list a service's projections in
/// one fixed order, so that two of them lock the cursors in the same order.
pub async fn catch_up_all(
    store: &EventStore,
    projections: &[&dyn Projection],
    tenant: &str,
) -> anyhow::Result<()> {
    loop {
        let mut from = i64::MAX;
        for p in projections {
            from = from.min(store.cursor(p.name(), tenant).await?);
        }
        let events = store.read_log(tenant, from, 500).await?;
        if events.is_empty() {
            return Ok(());
        }
        let mut tx = store.db().begin_read_model().await?;
        let mut moved = false;
        let mut gap = None;
        for p in projections {
            let (applied, missing) = apply_batch(&mut tx, store, *p, tenant, &events).await?;
            moved |= applied;
            gap = gap.or(missing);
        }
        if moved {
            tx.commit().await?;
            crate::jobs::wake();
        }
        if let Some((missing, next)) = gap {
            // Reading from the cursor, a gap means the log itself lacks an event. What came
            // before it is applied; nothing after it can be.
            anyhow::bail!(
                "the log of tenant {tenant} has no event {missing} (next is {next}): run `casewire audit verify --tenant {tenant}`"
            );
        }
    }
}

/// Applies the events of `batch` (one tenant's, in order) that come next for the
/// projection, inside `tx`, and moves its cursor. Whether it applied any, and the gap
/// (missing seq, next seq) it stopped at, if any.
async fn apply_batch(
    tx: &mut Transaction<'static, Any>,
    store: &EventStore,
    projection: &dyn Projection,
    tenant: &str,
    batch: &[RecordedEvent],
) -> anyhow::Result<(bool, Option<(i64, i64)>)> {
    let mut cursor = lock_cursor(tx, store.db(), projection.name(), tenant).await?;
    let start = cursor;
    let mut gap = None;
    for e in batch.iter().filter(|e| e.tenant_seq > start) {
        if e.tenant_seq != cursor + 1 {
            gap = Some((cursor + 1, e.tenant_seq));
            break;
        }
        let span = tracing::info_span!("apply", projection = projection.name(), event_type = %e.event_type, tenant_seq = e.tenant_seq);
        casewire_telemetry::continue_from(&span, &trace_context(e));
        projection.apply(tx, store, e).instrument(span).await?;
        cursor = e.tenant_seq;
    }
    if cursor == start {
        return Ok((false, gap));
    }
    set_cursor(tx, projection.name(), tenant, cursor).await?;
    Ok((true, gap))
}

/// The trace context an event was recorded under.
pub(crate) fn trace_context(e: &RecordedEvent) -> std::collections::HashMap<String, String> {
    let m = e.metadata();
    [("traceparent", m.traceparent), ("tracestate", m.tracestate)]
        .into_iter()
        .filter_map(|(k, v)| Some((k.to_string(), v?)))
        .collect()
}

/// Follows the whole log for a group of projections in this process, until `stop`.
pub async fn follow(store: EventStore, group: Group, stop: CancellationToken) {
    let mut appended = store.appended();
    loop {
        if let Err(e) = follow_once(&store, &group).await {
            tracing::warn!(projections = group.name, error = %e, "projections failed; retrying");
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

/// A service's projections, fed together: one reader of the log (or one durable consumer
/// on NATS) applies each batch of events to all of them in one transaction.
#[derive(Clone)]
pub struct Group {
    /// The durable consumer's name on NATS.
    pub name: &'static str,
    pub projections: Vec<Arc<dyn Projection>>,
}

impl Group {
    pub fn of_one(projection: Arc<dyn Projection>) -> Group {
        Group {
            name: projection.name(),
            projections: vec![projection],
        }
    }

    pub(crate) fn members(&self) -> Vec<&dyn Projection> {
        self.projections.iter().map(|p| p.as_ref()).collect()
    }

    /// The lowest cursor of the group for `tenant`: where it must read from.
    pub(crate) async fn cursor(&self, store: &EventStore, tenant: &str) -> anyhow::Result<i64> {
        let mut from = i64::MAX;
        for p in &self.projections {
            from = from.min(store.cursor(p.name(), tenant).await?);
        }
        Ok(from)
    }
}

pub(crate) async fn follow_once(store: &EventStore, group: &Group) -> anyhow::Result<()> {
    let mut tenants = std::collections::BTreeSet::new();
    for p in &group.projections {
        tenants.extend(
            store
                .lagging(p.name())
                .await?
                .into_iter()
                .map(|l| l.tenant_id),
        );
    }
    for tenant in tenants {
        catch_up_all(store, &group.members(), &tenant).await?;
    }
    Ok(())
}
