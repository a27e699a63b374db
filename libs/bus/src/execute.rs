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

/// How many times [`record`] decides a command when another writer appends to the same
/// aggregate between its read and its append.
const ATTEMPTS: usize = 4;

/// Runs `command` on an aggregate of `tenant` and appends what it decided: the recorded
/// events, in order, each with its place in the tenant's log. Nothing waits for read models:
/// for a worker, whose next step reads the aggregate or the events.
///
/// An append that meets another writer's (a status callback as the dispatcher records
/// Twilio's answer; a webhook's delivery as the CMS updates the case) is decided again on
/// what is now recorded, up to [`ATTEMPTS`] times: the command is judged on the newest
/// state, so a retry cannot do what the aggregate would refuse, and its caller (a worker,
/// Twilio, the CMS) is not handed a conflict it did not cause.
pub async fn record<A>(
    store: &EventStore,
    tenant: &str,
    aggregate_id: &str,
    command: A::Command,
    metadata: HashMap<String, String>,
) -> Result<Vec<RecordedEvent>, CommandError>
where
    A: Aggregate<Services = ()>,
    A::Command: Clone,
    A::Event: 'static,
    A::Error: Refusal,
{
    let mut attempt = 1;
    loop {
        let mut loaded = load::<A>(store, tenant, aggregate_id)
            .await
            .map_err(store_failure)?;
        let decided = decide_and_append(
            store,
            tenant,
            aggregate_id,
            &mut loaded,
            command.clone(),
            &metadata,
        )
        .await?;
        match decided {
            Err(StoreError::Conflict { .. }) if attempt < ATTEMPTS => attempt += 1,
            appended => return appended.map_err(store_failure),
        }
    }
}

/// [`record`] on an aggregate already loaded with [`load`], as (state, version): a worker
/// that looks before it acts and then records several steps reads it once. On success the
/// state and version are the aggregate's new ones; after an error, load it again. A
/// concurrent append is not retried here: the caller's look is what has gone stale.
pub async fn record_on<A>(
    store: &EventStore,
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
    decide_and_append(store, tenant, aggregate_id, loaded, command, &metadata)
        .await?
        .map_err(store_failure)
}

/// One attempt: the aggregate's decision (its refusal is the outer error) and the append of
/// what it decided (the store's answer is the inner result, for [`record`] to retry on).
async fn decide_and_append<A>(
    store: &EventStore,
    tenant: &str,
    aggregate_id: &str,
    (aggregate, version): &mut (A, i64),
    command: A::Command,
    metadata: &HashMap<String, String>,
) -> Result<Result<Vec<RecordedEvent>, StoreError>, CommandError>
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
    let metadata = serde_json::to_value(metadata).map_err(CommandError::internal)?;
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
    let recorded = match store.append(tenant, events).await {
        Ok(recorded) => recorded,
        Err(e) => return Ok(Err(e)),
    };
    crate::metrics::recorded(&decided);
    *version += recorded.len() as i64;
    Ok(Ok(recorded))
}

/// Runs `command` on an aggregate of `tenant` as [`record`] does (a concurrent append
/// decided again), then waits until the service's reader has applied the events it
/// recorded, so whoever asked reads what the command did.
pub async fn execute<A>(
    reader: &Reader,
    tenant: &str,
    aggregate_id: &str,
    command: A::Command,
    metadata: HashMap<String, String>,
) -> Result<Vec<RecordedEvent>, CommandError>
where
    A: Aggregate<Services = ()>,
    A::Command: Clone,
    A::Event: 'static,
    A::Error: Refusal,
{
    let recorded = record::<A>(reader.store(), tenant, aggregate_id, command, metadata).await?;
    read_back(reader, tenant, &recorded).await?;
    Ok(recorded)
}

/// [`execute`] on an aggregate already loaded, or known to be new (`Default::default()`: a
/// fresh id, nothing to read); not retried, as [`record_on`].
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
    read_back(reader, tenant, &recorded).await?;
    Ok(recorded)
}

/// Waits until the reader has applied `recorded`.
async fn read_back(
    reader: &Reader,
    tenant: &str,
    recorded: &[RecordedEvent],
) -> Result<(), CommandError> {
    if let Some(last) = recorded.last() {
        reader
            .reach(tenant, last.tenant_seq)
            .await
            .map_err(CommandError::internal)?;
    }
    Ok(())
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
    let events = store
        .read_aggregate(tenant, A::TYPE, aggregate_id, 0)
        .await?;
    let mut loaded = (A::default(), 0);
    for e in &events {
        apply(&mut loaded, e)?;
    }
    Ok(loaded)
}

/// [`load`] for several aggregates of one type in one read, by id; an id with no events is
/// left out (its state is the default, version 0).
pub async fn load_all<A: Aggregate>(
    store: &EventStore,
    tenant: &str,
    aggregate_ids: &[&str],
) -> Result<HashMap<String, (A, i64)>, StoreError> {
    let events = store
        .read_aggregates(tenant, A::TYPE, aggregate_ids)
        .await?;
    let mut loaded: HashMap<String, (A, i64)> = HashMap::new();
    for e in &events {
        apply(loaded.entry(e.aggregate_id.clone()).or_default(), e)?;
    }
    Ok(loaded)
}

/// Applies a stored event to an aggregate's (state, version).
fn apply<A: Aggregate>(
    (aggregate, version): &mut (A, i64),
    e: &RecordedEvent,
) -> Result<(), StoreError> {
    let event = serde_json::from_str(&e.payload).map_err(|err| {
        StoreError::Corrupt(format!(
            "{} {} event {}: {err}",
            A::TYPE,
            e.aggregate_id,
            e.sequence
        ))
    })?;
    aggregate.apply(event);
    *version = e.sequence;
    Ok(())
}
