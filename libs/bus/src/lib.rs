//! How services share events and send each other commands.
//!
//! The log is the outbox: events are committed to the event store, and readers follow it.
//! - [`Projection`]: a read model fed by events, applied with its cursor in one transaction,
//!   so a redelivered event is skipped ([`apply`]).
//! - Embedded mode ([`Bus::in_process`]): projections follow the log directly ([`follow`]);
//!   commands are calls to handlers registered in this process.
//! - Production ([`Bus::nats`]): the [`relay`] publishes the log to JetStream; each
//!   service's projections ([`Group`]) share a durable pull consumer; commands are NATS
//!   request/reply.
//! - [`jobs`]: work that follows an event, enqueued by a projection, run by leased workers.

mod commands;
mod execute;
pub mod jobs;
mod nats;
mod projection;
pub mod relay;
mod service;

use std::sync::Arc;

use casewire_eventstore::EventStore;
use serde_json::Value;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub use commands::{CommandError, CommandHandler};
pub use execute::{caught_up, execute, load, Envelope, Refusal};
pub use jobs::{Job, Outcome, Worker};
pub use nats::{Nats, NatsSettings};
pub use projection::{apply, catch_up, catch_up_all, follow, Applied, Group, Projection};
pub use service::Wiring;

#[derive(Debug, thiserror::Error)]
pub enum BusError {
    #[error("NATS: {0}")]
    Nats(String),
    #[error(transparent)]
    Store(#[from] casewire_eventstore::StoreError),
}

pub type Result<T, E = BusError> = std::result::Result<T, E>;

/// The transport of a running casewire: in-process (embedded mode) or NATS.
#[derive(Clone)]
pub struct Bus {
    transport: Transport,
}

#[derive(Clone)]
enum Transport {
    InProcess(commands::Registry),
    Nats(Box<Nats>),
}

impl Bus {
    pub fn in_process() -> Bus {
        Bus {
            transport: Transport::InProcess(commands::Registry::default()),
        }
    }

    pub fn nats(nats: Nats) -> Bus {
        Bus {
            transport: Transport::Nats(Box::new(nats)),
        }
    }

    /// The NATS connection, when there is one (the relay needs it).
    pub fn as_nats(&self) -> Option<&Nats> {
        match &self.transport {
            Transport::Nats(n) => Some(n),
            Transport::InProcess(_) => None,
        }
    }

    /// Runs a projection until `stop`: following the log in-process, or as a durable
    /// JetStream consumer.
    pub fn run_projection(
        &self,
        store: &EventStore,
        projection: Arc<dyn Projection>,
        stop: CancellationToken,
    ) -> JoinHandle<()> {
        self.run_group(store, Group::of_one(projection), stop)
    }

    /// Runs a group of projections until `stop`, fed together (see [`Group`]).
    pub fn run_group(
        &self,
        store: &EventStore,
        group: Group,
        stop: CancellationToken,
    ) -> JoinHandle<()> {
        let store = store.clone();
        match &self.transport {
            Transport::InProcess(_) => tokio::spawn(follow(store, group, stop)),
            Transport::Nats(n) => {
                let n = n.clone();
                tokio::spawn(async move { n.consume(store, group, stop).await })
            }
        }
    }

    /// Answers `casewire.cmd.<service>.*` with `handler` until `stop`.
    pub async fn serve_commands(
        &self,
        service: &'static str,
        handler: Arc<dyn CommandHandler>,
        stop: CancellationToken,
    ) -> Result<JoinHandle<()>> {
        match &self.transport {
            Transport::InProcess(r) => {
                r.register(service, handler);
                Ok(tokio::spawn(async move { stop.cancelled().await }))
            }
            Transport::Nats(n) => n.serve_commands(service, handler, stop).await,
        }
    }

    /// Sends a command to a service and waits for its answer.
    pub async fn request(
        &self,
        service: &str,
        command: &str,
        body: Value,
    ) -> Result<Value, CommandError> {
        match &self.transport {
            Transport::InProcess(r) => r.request(service, command, body).await,
            Transport::Nats(n) => n.request(service, command, body).await,
        }
    }

    /// Is the transport reachable? (Always, in-process.)
    pub async fn ready(&self) -> Result<()> {
        match &self.transport {
            Transport::InProcess(_) => Ok(()),
            Transport::Nats(n) => n.ready().await,
        }
    }
}
