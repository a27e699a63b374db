//! The append-only event log of ARCHITECTURE.md: one log partitioned by tenant, each
//! tenant's events hash-chained, personal fields sealed with per-subject keys, on
//! PostgreSQL or SQLite behind the same API.
//!
//! - [`EventStore::append`] group-commits concurrent appends of one tenant in one
//!   transaction (see `append.rs`), with optimistic concurrency per aggregate.
//! - [`EventStore::verify`] walks a tenant's chain (layout in docs/audit-chain.md).
//! - [`TenantEvents`] is the cqrs-es `PersistedEventRepository` over one tenant.

mod append;
pub mod chain;
mod cursors;
mod db;
mod error;
mod inline;
mod keys;
mod read;
mod repo;
pub mod sql;
mod tail;
#[cfg(feature = "tamper")]
pub mod tamper;
mod verify;

use std::sync::Arc;

use casewire_crypto::Key;
use casewire_events::RecordedEvent;
use serde_json::Value;
use tokio::sync::watch;

pub use append::Heads;
pub use cursors::{lock_cursor, set_cursor, Lag};
pub use db::{transactions_begun, Backend, Db};
pub use error::StoreError;
pub use inline::Inline;
pub use read::{event_columns, from_row as event_from_row};
pub use repo::{framework, TenantEvents, TenantFramework};
pub use verify::{Anchor, Fault, Verification};

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// An event to append: what an aggregate decided, before the store gives it its place in
/// the tenant's chain.
#[derive(Clone, Debug)]
pub struct NewEvent {
    pub aggregate_type: String,
    pub aggregate_id: String,
    /// The aggregate's own sequence: 1 for its first event. The append fails with
    /// [`StoreError::Conflict`] unless this is exactly one past what is stored.
    pub sequence: i64,
    pub event_type: String,
    pub event_version: String,
    /// May hold sealed nodes (`casewire_events::Sealed`); they are encrypted before hashing.
    pub payload: Value,
    pub metadata: Value,
}

/// The event log. Cheap to clone; clones share one appender per tenant.
#[derive(Clone)]
pub struct EventStore {
    db: Db,
    keys: Arc<keys::Keys>,
    appenders: Arc<append::Appenders>,
}

impl EventStore {
    pub fn new(db: Db, master_key: Key) -> Self {
        EventStore {
            keys: Arc::new(keys::Keys::new(db.clone(), master_key)),
            appenders: Arc::new(append::Appenders::new(db.clone())),
            db,
        }
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    /// Appends events to a tenant's chain, atomically: all of them or, on any error, none.
    pub async fn append(&self, tenant: &str, events: Vec<NewEvent>) -> Result<Vec<RecordedEvent>> {
        if events.is_empty() {
            return Ok(Vec::new());
        }
        let mut prepared = Vec::with_capacity(events.len());
        for mut e in events {
            self.keys.seal_payload(tenant, &mut e.payload).await?;
            prepared.push(append::Prepared::new(e)?);
        }
        self.appenders.submit(tenant, prepared, self.clone()).await
    }

    /// Registers a read model to be written in the transaction of every append of this
    /// store whose events it applies (see [`Inline`]). A second registration under the same
    /// name replaces the first. Only the service that owns an aggregate appends its events,
    /// so the owner's store is the one that carries the aggregate's inline read models.
    pub fn add_inline(&self, name: &'static str, inline: Arc<dyn Inline>) {
        self.appenders.inline.register(name, inline);
    }

    /// A receiver that changes after every committed append in this process, with the head
    /// of each tenant appended to, so readers of the log (the relay, in-process readers) wake
    /// up, and know where to read, without asking the database.
    pub fn appended(&self) -> watch::Receiver<append::Heads> {
        self.appenders.appended()
    }

    /// Up to `limit` of the events of `tenant` right after `after_seq`, as stored, when this
    /// process appended them a moment ago and still keeps them in memory; `None` otherwise
    /// (read them with [`EventStore::read_log`]). A caller checks that they link to the last
    /// event it read (`chain::follows`), as it would a delivery from the bus.
    pub fn recent(&self, tenant: &str, after_seq: i64, limit: usize) -> Option<Vec<RecordedEvent>> {
        self.appenders.tail.after(tenant, after_seq, limit)
    }

    /// Opens the sealed fields of an event's payload: plaintext where the subject's key
    /// exists, `{"erased": true}` where it was destroyed.
    pub async fn open_payload(&self, tenant: &str, payload: &str) -> Result<Value> {
        let mut v: Value = serde_json::from_str(payload)
            .map_err(|e| StoreError::Corrupt(format!("payload is not JSON: {e}")))?;
        self.keys.open_payload(tenant, &mut v).await?;
        Ok(v)
    }

    /// Seals the sealed nodes of any JSON value (not only an event's) with the tenant's
    /// data keys: for state kept outside the log that holds a secret or personal data.
    pub async fn seal(&self, tenant: &str, value: &mut Value) -> Result<()> {
        self.keys.seal_payload(tenant, value).await
    }

    /// Seals bytes kept outside the log (a client's picture) with `subject`'s data key,
    /// bound to `context`: erased with the subject, like its sealed fields.
    pub async fn seal_bytes(
        &self,
        tenant: &str,
        subject: &str,
        context: &str,
        plain: &[u8],
    ) -> Result<Vec<u8>> {
        self.keys.seal_bytes(tenant, subject, context, plain).await
    }

    /// Opens what [`Self::seal_bytes`] sealed: `None` once the subject was erased.
    pub async fn open_bytes(
        &self,
        tenant: &str,
        subject: &str,
        context: &str,
        sealed: &[u8],
    ) -> Result<Option<Vec<u8>>> {
        self.keys.open_bytes(tenant, subject, context, sealed).await
    }

    /// `plain` as a URL-safe token sealed under a key derived from the master key for
    /// `purpose` (a signed link): any process with the master key opens it.
    pub fn seal_token(&self, purpose: &str, plain: &[u8]) -> String {
        casewire_crypto::seal_token(&self.keys.derived(purpose), purpose, plain)
    }

    /// What [`Self::seal_token`] sealed for `purpose`; `None` for anything else.
    pub fn open_token(&self, purpose: &str, token: &str) -> Option<Vec<u8>> {
        casewire_crypto::open_token(&self.keys.derived(purpose), purpose, token)
    }

    /// Destroys a subject's data key. Record the erasure as an event first: this is the
    /// step that makes it real, and it cannot be undone.
    pub async fn destroy_data_key(&self, tenant: &str, subject: &str) -> Result<()> {
        self.keys.destroy(tenant, subject).await
    }
}
