//! Running an aggregate command inside a service, for a command that came over the bus.

use std::collections::HashMap;

use casewire_events::RecordedEvent;
use casewire_eventstore::{EventStore, NewEvent, StoreError};
use cqrs_es::event_sink::EventSink;
use cqrs_es::{Aggregate, DomainEvent};

use crate::{CommandError, ErrorCode, Reader};

/// The kind of a refused command, which the gateway turns into an HTTP status.
pub trait Refusal: std::error::Error {
    /// Not found, invalid or conflict.
    fn code(&self) -> ErrorCode;
}

/// A store failure as a command's error: a conflict the caller may retry, the store
/// unreachable, or casewire's own failure.
pub fn store_failure(e: StoreError) -> CommandError {
    match e {
        StoreError::Conflict { .. } => {
            CommandError::conflict("changed concurrently by another request; try again")
        }
        StoreError::Database(e) => {
            tracing::error!(error = %e, "event store unavailable");
            CommandError::unavailable("the event store is unavailable; try again")
        }
        other => CommandError::internal(other),
    }
}

/// Runs `command` on an aggregate of `tenant` and appends what it decided: the recorded
/// events, in order, each with its place in the tenant's log. Nothing waits for read models:
/// for a worker, whose next step reads the aggregate or the events.
pub async fn record<A>(
    store: &EventStore,
    tenant: &str,
    aggregate_id: &str,
    command: A::Command,
    metadata: HashMap<String, String>,
) -> Result<Vec<RecordedEvent>, CommandError>
where
    A: Aggregate<Services = ()>,
    A::Event: 'static,
    A::Error: Refusal,
{
    let mut loaded = load::<A>(store, tenant, aggregate_id)
        .await
        .map_err(store_failure)?;
    record_on(store, tenant, aggregate_id, &mut loaded, command, metadata).await
}

/// [`record`] on an aggregate already loaded with [`load`], as (state, version): a worker
/// that looks before it acts and then records several steps reads it once. On success the
/// state and version are the aggregate's new ones; after an error, load it again.
pub async fn record_on<A>(
    store: &EventStore,
    tenant: &str,
    aggregate_id: &str,
    (aggregate, version): &mut (A, i64),
    command: A::Command,
    metadata: HashMap<String, String>,
) -> Result<Vec<RecordedEvent>, CommandError>
where
    A: Aggregate<Services = ()>,
    A::Event: 'static,
    A::Error: Refusal,
{
    let sink = EventSink::default();
    // `handle` applies what it decides to the aggregate as it goes (cqrs-es's sink).
    aggregate
        .handle(command, &(), &sink)
        .await
        .map_err(|e| CommandError::new(e.code(), e.to_string()))?;
    let metadata = serde_json::to_value(&metadata).map_err(CommandError::internal)?;
    let decided = sink.collect().await;
    let mut events = Vec::new();
    for (sequence, e) in (*version + 1..).zip(&decided) {
        events.push(NewEvent {
            aggregate_type: A::TYPE.to_string(),
            aggregate_id: aggregate_id.to_string(),
            sequence,
            event_type: e.event_type(),
            event_version: e.event_version(),
            payload: serde_json::to_value(e).map_err(CommandError::internal)?,
            metadata: metadata.clone(),
        });
    }
    let recorded = store.append(tenant, events).await.map_err(store_failure)?;
    crate::metrics::recorded(&decided);
    *version += recorded.len() as i64;
    Ok(recorded)
}

/// Runs `command` on an aggregate of `tenant`, then waits until the service's reader has
/// applied the events it recorded, so whoever asked reads what the command did.
pub async fn execute<A>(
    reader: &Reader,
    tenant: &str,
    aggregate_id: &str,
    command: A::Command,
    metadata: HashMap<String, String>,
) -> Result<Vec<RecordedEvent>, CommandError>
where
    A: Aggregate<Services = ()>,
    A::Event: 'static,
    A::Error: Refusal,
{
    let mut loaded = load::<A>(reader.store(), tenant, aggregate_id)
        .await
        .map_err(store_failure)?;
    execute_on(reader, tenant, aggregate_id, &mut loaded, command, metadata).await
}

/// [`execute`] on an aggregate already loaded, or known to be new (`Default::default()`: a
/// fresh id, nothing to read).
pub async fn execute_on<A>(
    reader: &Reader,
    tenant: &str,
    aggregate_id: &str,
    loaded: &mut (A, i64),
    command: A::Command,
    metadata: HashMap<String, String>,
) -> Result<Vec<RecordedEvent>, CommandError>
where
    A: Aggregate<Services = ()>,
    A::Event: 'static,
    A::Error: Refusal,
{
    let recorded = record_on::<A>(
        reader.store(),
        tenant,
        aggregate_id,
        loaded,
        command,
        metadata,
    )
    .await?;
    if let Some(last) = recorded.last() {
        reader
            .reach(tenant, last.tenant_seq)
            .await
            .map_err(CommandError::internal)?;
    }
    Ok(recorded)
}

/// Brings the reader's projections up to `tenant`'s head as it is now, for a command that
/// reads what another service recorded a moment ago.
pub async fn caught_up(reader: &Reader, tenant: &str) -> Result<(), CommandError> {
    reader
        .catch_up(tenant)
        .await
        .map_err(CommandError::internal)
}

/// An aggregate's current state and version, for a worker that must look before it acts.
/// What it then does goes through [`record`] or [`execute`], which refuse if the aggregate
/// moved on meanwhile.
pub async fn load<A: Aggregate>(
    store: &EventStore,
    tenant: &str,
    aggregate_id: &str,
) -> Result<(A, i64), StoreError> {
    let mut aggregate = A::default();
    let mut version = 0;
    for e in store
        .read_aggregate(tenant, A::TYPE, aggregate_id, 0)
        .await?
    {
        let event = serde_json::from_str(&e.payload).map_err(|err| {
            StoreError::Corrupt(format!(
                "{} {aggregate_id} event {}: {err}",
                A::TYPE,
                e.sequence
            ))
        })?;
        aggregate.apply(event);
        version = e.sequence;
    }
    Ok((aggregate, version))
}
