use async_trait::async_trait;
use casewire_events::RecordedEvent;
use casewire_eventstore::EventStore;
use sqlx::{Any, Transaction};
use tracing::Instrument;

/// A read model fed by the log, through its service's [`crate::Reader`]. It sees the events
/// it [`reads`](Projection::reads) of every tenant, in each tenant's order, exactly once in
/// effect: the reader applies them in the same transaction that moves its cursor.
#[async_trait]
pub trait Projection: Send + Sync + 'static {
    /// For logs and traces.
    fn name(&self) -> &'static str;

    /// The events it reads. The reader hands it no others, and a batch that no projection
    /// of the service reads costs no transaction.
    fn reads(&self) -> Reads;

    /// The events it applies in the transaction that appends them, rather than from the
    /// reader (Marten's inline projections): the rows a command's answer and its next step
    /// need. The service's [`crate::Reader`] registers them on its store, so only the service
    /// that owns these events' aggregate may declare them; the reader applies them itself
    /// only for what was appended before this process started (see docs/pipeline.md).
    fn inline(&self) -> Reads {
        Reads::Only(&[])
    }

    /// The job queues it enqueues to: their workers are woken when it applied an event.
    fn feeds(&self) -> &'static [&'static str] {
        &[]
    }

    /// Applies one event inside `tx`. Sealed fields arrive sealed: open them with
    /// `store.open_payload` where the model needs them.
    async fn apply(
        &self,
        tx: &mut Transaction<'static, Any>,
        store: &EventStore,
        event: &RecordedEvent,
    ) -> anyhow::Result<()>;

    /// Applies a batch of events inside `tx`, in each tenant's order: a reader's batch, or
    /// an append's group for [`Projection::inline`]. By default one at a time, each in a
    /// span that continues the trace of what recorded it. A read model written for many
    /// events at once overrides it, with statements of many rows; it may reorder events of
    /// different aggregates, never those of one (see [`one_each`]).
    async fn apply_all(
        &self,
        tx: &mut Transaction<'static, Any>,
        store: &EventStore,
        events: &[&RecordedEvent],
    ) -> anyhow::Result<()> {
        apply_each(self, tx, store, events).await
    }
}

/// [`Projection::apply_all`] one event at a time: what a read model written for many
/// events at once falls back to where it cannot (see [`one_each`]).
pub async fn apply_each<P: Projection + ?Sized>(
    projection: &P,
    tx: &mut Transaction<'static, Any>,
    store: &EventStore,
    events: &[&RecordedEvent],
) -> anyhow::Result<()> {
    for e in events {
        projection
            .apply(tx, store, e)
            .instrument(apply_span(projection.name(), e))
            .await?;
    }
    Ok(())
}

/// The span a projection applies an event in: it continues the trace of what recorded the
/// event, so the jobs it enqueues (a webhook's delivery) carry that trace on.
pub fn apply_span(projection: &'static str, e: &RecordedEvent) -> tracing::Span {
    let span = tracing::info_span!("apply", projection, event_type = %e.event_type, tenant_seq = e.tenant_seq);
    casewire_telemetry::continue_from(&span, &crate::reader::trace_context(e));
    span
}

/// Whether no aggregate has two of `events`: then a batch may be written grouped by kind
/// of event, as the order of different aggregates' events does not matter to a row of
/// one. A reader's backlog can hold a text's whole life; it is applied one at a time.
pub fn one_each(events: &[&RecordedEvent]) -> bool {
    let mut seen = std::collections::HashSet::with_capacity(events.len());
    events.iter().all(|e| {
        seen.insert((
            e.tenant_id.as_str(),
            e.aggregate_type.as_str(),
            e.aggregate_id.as_str(),
        ))
    })
}

/// Which events a projection reads: by aggregate type, each with all its event types or a
/// few. On NATS these become the consumer's filter subjects.
#[derive(Clone, Copy, Debug)]
pub enum Reads {
    /// Every event: for tests and tools that must see the whole log.
    Everything,
    Only(&'static [Of]),
}

/// The events of one aggregate type that a projection reads.
#[derive(Clone, Copy, Debug)]
pub struct Of {
    pub aggregate: &'static str,
    /// Its event types; empty for all of them.
    pub events: &'static [&'static str],
}

impl Of {
    /// Every event of an aggregate type.
    pub const fn all(aggregate: &'static str) -> Of {
        Of {
            aggregate,
            events: &[],
        }
    }

    /// Some events of an aggregate type.
    pub const fn only(aggregate: &'static str, events: &'static [&'static str]) -> Of {
        Of { aggregate, events }
    }

    fn matches(&self, e: &RecordedEvent) -> bool {
        self.aggregate == e.aggregate_type
            && (self.events.is_empty() || self.events.contains(&e.event_type.as_str()))
    }
}

/// A projection's [`Projection::inline`] events, as the store applies them in the append's
/// transaction.
pub(crate) struct InlineOf(pub(crate) std::sync::Arc<dyn Projection>);

#[async_trait]
impl casewire_eventstore::Inline for InlineOf {
    fn applies(&self, e: &RecordedEvent) -> bool {
        self.0.inline().matches(e)
    }

    async fn apply(
        &self,
        tx: &mut Transaction<'static, Any>,
        store: &EventStore,
        e: &RecordedEvent,
    ) -> anyhow::Result<()> {
        self.0.apply(tx, store, e).await
    }

    async fn apply_all(
        &self,
        tx: &mut Transaction<'static, Any>,
        store: &EventStore,
        events: &[&RecordedEvent],
    ) -> anyhow::Result<()> {
        self.0.apply_all(tx, store, events).await
    }

    fn committed(&self) {
        for queue in self.0.feeds() {
            crate::jobs::wake(queue);
        }
    }
}

impl Reads {
    /// Reads no event at all: a projection's default [`Projection::inline`].
    pub fn is_none(&self) -> bool {
        matches!(self, Reads::Only([]))
    }

    pub fn matches(&self, e: &RecordedEvent) -> bool {
        match self {
            Reads::Everything => true,
            Reads::Only(of) => of.iter().any(|of| of.matches(e)),
        }
    }
}
