//! The cqrs-es `PersistedEventRepository` over one tenant's part of the log, so aggregates
//! are written and tested the cqrs-es way. The tenant is fixed when the repository is made
//! (from the credential), never taken from an aggregate id.

use cqrs_es::persist::{
    PersistedEventRepository, PersistedEventStore, PersistenceError, ReplayStream, SerializedEvent,
    SerializedSnapshot,
};
use cqrs_es::{Aggregate, CqrsFramework};
use serde_json::Value;

use crate::{EventStore, NewEvent};

#[derive(Clone)]
pub struct TenantEvents {
    store: EventStore,
    tenant: String,
}

pub type TenantFramework<A> = CqrsFramework<A, PersistedEventStore<TenantEvents, A>>;

/// A cqrs-es framework whose aggregates live in `tenant`'s part of the log.
pub fn framework<A: Aggregate>(
    store: &EventStore,
    tenant: &str,
    services: A::Services,
) -> TenantFramework<A> {
    CqrsFramework::new(
        PersistedEventStore::new_event_store(TenantEvents::new(store.clone(), tenant)),
        vec![],
        services,
    )
}

impl TenantEvents {
    pub fn new(store: EventStore, tenant: &str) -> Self {
        TenantEvents {
            store,
            tenant: tenant.to_string(),
        }
    }

    async fn events<A: Aggregate>(
        &self,
        aggregate_id: &str,
        after: usize,
    ) -> Result<Vec<SerializedEvent>, PersistenceError> {
        let rows = self
            .store
            .read_aggregate(&self.tenant, A::TYPE, aggregate_id, after as i64)
            .await?;
        rows.into_iter()
            .map(|e| {
                Ok(SerializedEvent {
                    aggregate_id: e.aggregate_id,
                    sequence: e.sequence as usize,
                    aggregate_type: e.aggregate_type,
                    event_type: e.event_type,
                    event_version: e.event_version,
                    payload: serde_json::from_str(&e.payload)?,
                    metadata: serde_json::from_str(&e.metadata)?,
                })
            })
            .collect()
    }

    async fn replay(events: Vec<SerializedEvent>) -> Result<ReplayStream, PersistenceError> {
        let (mut feed, stream) = ReplayStream::new(events.len().max(1));
        for e in events {
            feed.push(Ok(e)).await?;
        }
        Ok(stream)
    }
}

impl PersistedEventRepository for TenantEvents {
    async fn get_events<A: Aggregate>(
        &self,
        aggregate_id: &str,
    ) -> Result<Vec<SerializedEvent>, PersistenceError> {
        self.events::<A>(aggregate_id, 0).await
    }

    async fn get_last_events<A: Aggregate>(
        &self,
        aggregate_id: &str,
        last_sequence: usize,
    ) -> Result<Vec<SerializedEvent>, PersistenceError> {
        self.events::<A>(aggregate_id, last_sequence).await
    }

    async fn get_snapshot<A: Aggregate>(
        &self,
        _aggregate_id: &str,
    ) -> Result<Option<SerializedSnapshot>, PersistenceError> {
        // No snapshots: aggregates here are short-lived (a case, a message, a tenant).
        Ok(None)
    }

    async fn persist<A: Aggregate>(
        &self,
        events: &[SerializedEvent],
        _snapshot_update: Option<(String, Value, usize)>,
    ) -> Result<(), PersistenceError> {
        let events = events
            .iter()
            .map(|e| NewEvent {
                aggregate_type: e.aggregate_type.clone(),
                aggregate_id: e.aggregate_id.clone(),
                sequence: e.sequence as i64,
                event_type: e.event_type.clone(),
                event_version: e.event_version.clone(),
                payload: e.payload.clone(),
                metadata: e.metadata.clone(),
            })
            .collect();
        self.store.append(&self.tenant, events).await?;
        Ok(())
    }

    async fn stream_events<A: Aggregate>(
        &self,
        aggregate_id: &str,
    ) -> Result<ReplayStream, PersistenceError> {
        Self::replay(self.events::<A>(aggregate_id, 0).await?).await
    }

    async fn stream_all_events<A: Aggregate>(&self) -> Result<ReplayStream, PersistenceError> {
        let mut all = Vec::new();
        let mut after = 0;
        loop {
            let page = self.store.read_log(&self.tenant, after, 1000).await?;
            let Some(last) = page.last() else { break };
            after = last.tenant_seq;
            for e in page.into_iter().filter(|e| e.aggregate_type == A::TYPE) {
                let payload = self.store.open_payload(&self.tenant, &e.payload).await?;
                all.push(SerializedEvent {
                    aggregate_id: e.aggregate_id,
                    sequence: e.sequence as usize,
                    aggregate_type: e.aggregate_type,
                    event_type: e.event_type,
                    event_version: e.event_version,
                    payload,
                    metadata: serde_json::from_str(&e.metadata)?,
                });
            }
        }
        Self::replay(all).await
    }
}
