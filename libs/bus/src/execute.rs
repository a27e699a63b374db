//! Running an aggregate command inside a service, for a command that came over the bus.

use std::collections::HashMap;
use std::sync::Arc;

use cqrs_es::{Aggregate, AggregateError};
use serde::{Deserialize, Serialize};

use crate::{catch_up_all, CommandError, Projection};

/// Every command between services names its tenant (taken by the gateway from the
/// credential) and carries the metadata its events will record.
#[derive(Debug, Serialize, Deserialize)]
pub struct Envelope<T> {
    pub tenant: String,
    #[serde(default)]
    pub metadata: HashMap<String, String>,
    pub body: T,
}

impl<T: serde::de::DeserializeOwned> Envelope<T> {
    /// A command's body as it came over the bus; a malformed one is refused as invalid.
    pub fn parse(body: serde_json::Value) -> Result<Self, CommandError> {
        serde_json::from_value(body)
            .map_err(|e| CommandError::invalid(format!("malformed command: {e}")))
    }
}

/// The kind of a refused command, which the gateway turns into an HTTP status.
pub trait Refusal: std::error::Error {
    /// `not_found`, `invalid` or `conflict`.
    fn code(&self) -> &'static str;
}

impl<E: Refusal> From<AggregateError<E>> for CommandError {
    fn from(e: AggregateError<E>) -> Self {
        match e {
            AggregateError::UserError(e) => CommandError::new(e.code(), e.to_string()),
            AggregateError::AggregateConflict => CommandError::new(
                "conflict",
                "changed concurrently by another request; try again",
            ),
            AggregateError::DatabaseConnectionError(e) => {
                tracing::error!(error = %e, "event store unavailable");
                CommandError::unavailable("the event store is unavailable; try again")
            }
            AggregateError::DeserializationError(e) | AggregateError::UnexpectedError(e) => {
                CommandError::internal(e)
            }
        }
    }
}

/// Runs `command` on an aggregate of `tenant`, then brings `projections` up to date for
/// the tenant, so whoever asked reads what the command did.
pub async fn execute<A>(
    store: &casewire_eventstore::EventStore,
    projections: &[Arc<dyn Projection>],
    tenant: &str,
    aggregate_id: &str,
    command: A::Command,
    metadata: HashMap<String, String>,
) -> Result<(), CommandError>
where
    A: Aggregate<Services = ()>,
    A::Error: Refusal,
{
    casewire_eventstore::framework::<A>(store, tenant, ())
        .execute_with_metadata(aggregate_id, command, metadata)
        .await?;
    caught_up(store, projections, tenant).await
}

/// Brings `projections` up to the head of `tenant`'s log.
pub async fn caught_up(
    store: &casewire_eventstore::EventStore,
    projections: &[Arc<dyn Projection>],
    tenant: &str,
) -> Result<(), CommandError> {
    let projections: Vec<&dyn Projection> = projections.iter().map(|p| p.as_ref()).collect();
    catch_up_all(store, &projections, tenant)
        .await
        .map_err(CommandError::internal)
}

/// An aggregate's current state and version, for a worker that must look before it acts.
/// What it then does goes through [`execute`], which refuses if the aggregate moved on.
pub async fn load<A: Aggregate>(
    store: &casewire_eventstore::EventStore,
    tenant: &str,
    aggregate_id: &str,
) -> anyhow::Result<(A, i64)> {
    let mut aggregate = A::default();
    let mut version = 0;
    for e in store
        .read_aggregate(tenant, A::TYPE, aggregate_id, 0)
        .await?
    {
        aggregate.apply(serde_json::from_str(&e.payload)?);
        version = e.sequence;
    }
    Ok((aggregate, version))
}
