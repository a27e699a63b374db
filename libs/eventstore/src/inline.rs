//! Read models written in the transaction that appends their events: Marten's inline
//! projections. The rows a command's answer and its next step need (a text's row, its
//! outbox job) exist the moment the append returns, with no reader, cursor or wait between.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use async_trait::async_trait;
use casewire_events::RecordedEvent;
use sqlx::{Any, Transaction};

use crate::EventStore;

/// A read model applied in the append's own transaction. Whatever it fails with fails the
/// append (and the group committed with it): nothing is written.
#[async_trait]
pub trait Inline: Send + Sync + 'static {
    /// Does it apply this event?
    fn applies(&self, e: &RecordedEvent) -> bool;

    /// Applies one event inside the append's transaction, after its row is written.
    async fn apply(
        &self,
        tx: &mut Transaction<'static, Any>,
        store: &EventStore,
        e: &RecordedEvent,
    ) -> anyhow::Result<()>;

    /// Applies the events of one group commit it applies, in the log's order: one at a
    /// time, unless the read model writes many at once.
    async fn apply_all(
        &self,
        tx: &mut Transaction<'static, Any>,
        store: &EventStore,
        events: &[&RecordedEvent],
    ) -> anyhow::Result<()> {
        for e in events {
            self.apply(tx, store, e).await?;
        }
        Ok(())
    }

    /// Called once the append it applied events of is committed: wakes whoever acts on
    /// its rows (a job queue's workers).
    fn committed(&self) {}
}

/// The inline read models of a store, by name: registering a name again replaces it, so a
/// service wired twice in one process applies each event once.
#[derive(Clone, Default)]
pub(crate) struct InlineSet {
    by_name: Arc<RwLock<BTreeMap<&'static str, Arc<dyn Inline>>>>,
}

impl InlineSet {
    pub(crate) fn register(&self, name: &'static str, inline: Arc<dyn Inline>) {
        self.by_name
            .write()
            .expect("inline projections lock")
            .insert(name, inline);
    }

    /// Those that apply any of `events`, in a stable order.
    pub(crate) fn for_events<'e>(
        &self,
        events: impl Iterator<Item = &'e RecordedEvent> + Clone,
    ) -> Vec<Arc<dyn Inline>> {
        self.by_name
            .read()
            .expect("inline projections lock")
            .values()
            .filter(|i| events.clone().any(|e| i.applies(e)))
            .cloned()
            .collect()
    }
}
