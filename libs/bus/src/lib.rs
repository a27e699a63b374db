//! How services share events and send each other commands.
//!
//! The log is the outbox: events are committed to the event store, and readers follow it.
//! - [`Projection`]: a read model fed by the events it [`Reads`].
//! - [`Reader`]: a service's one reader of the log, feeding all its projections in batches,
//!   one transaction and one cursor write per batch; commands wait on its position.
//! - Embedded mode ([`Bus::in_process`]): the reader follows the log directly; commands are
//!   calls to handlers registered in this process.
//! - Production ([`Bus::nats`]): the [`relay`] publishes the log to JetStream; a service's
//!   reader is woken by its durable pull consumer, filtered to the events it reads; commands
//!   are NATS request/reply.
//! - [`jobs`]: work that follows an event, enqueued by a projection, run by leased workers.

mod commands;
mod execute;
pub mod jobs;
mod metrics;
mod nats;
mod nats_access;
pub mod probe;
mod projection;
mod reader;
pub mod relay;
mod service;

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::Value;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub use casewire_contract::{Command, CommandError, Envelope, ErrorCode, ServiceStatus};
pub use commands::{CommandHandler, Handlers};
pub use execute::{
    caught_up, execute, execute_on, load, load_all, record, record_on, store_failure, Refusal,
};
pub use jobs::{Job, Outcome, Worker};
pub use nats::{Nats, NatsSettings};
pub use nats_access::NatsAccess;
pub use projection::{apply_each, apply_span, one_each, Of, Projection, Reads};
pub use reader::Reader;
pub use service::Wiring;

#[derive(Debug, thiserror::Error)]
pub enum BusError {
    #[error("NATS: {0}")]
    Nats(String),
    /// How casewire was told to reach NATS cannot work: says which setting.
    #[error("{0}")]
    Config(String),
    /// The relay's lease is another process's now (relay.rs).
    #[error("the relay's lease is held by another process")]
    LeaseLost,
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

    /// Runs a service's reader until `stop`: following the log in-process, or woken by its
    /// durable JetStream consumer.
    pub fn run_reader(&self, reader: Reader, stop: CancellationToken) -> JoinHandle<()> {
        match &self.transport {
            Transport::InProcess(_) => tokio::spawn(reader.follow(stop)),
            Transport::Nats(n) => {
                let n = n.clone();
                tokio::spawn(async move { n.consume(reader, stop).await })
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

    /// Sends `command` for `tenant` to the service that answers it and waits for its answer.
    pub async fn ask<C: Command>(
        &self,
        tenant: &str,
        metadata: HashMap<String, String>,
        command: C,
    ) -> Result<C::Answer, CommandError> {
        let envelope = Envelope {
            tenant: tenant.to_string(),
            metadata,
            body: command,
        };
        let body = serde_json::to_value(envelope).map_err(CommandError::internal)?;
        let answer = self.request(C::SERVICE, C::NAME, body).await?;
        serde_json::from_value(answer).map_err(|e| {
            CommandError::internal(format!(
                "{} answered {} with an unexpected shape: {e}",
                C::SERVICE,
                C::NAME
            ))
        })
    }

    /// Asks a running service how far behind it is; see [`ServiceStatus`].
    /// How many processes serve `service` (one, in-process): those answering within
    /// `within`.
    pub async fn replicas(&self, service: &str, within: std::time::Duration) -> usize {
        match &self.transport {
            Transport::InProcess(_) => 1,
            Transport::Nats(n) => n.replicas(service, within).await.unwrap_or(0),
        }
    }

    pub async fn status(&self, service: &str) -> Result<ServiceStatus, CommandError> {
        let answer = self
            .request(service, casewire_contract::STATUS, Value::Null)
            .await?;
        serde_json::from_value(answer).map_err(|e| {
            CommandError::internal(format!(
                "{service} answered status with an unexpected shape: {e}"
            ))
        })
    }

    /// Sends a command to a service by name and waits for its answer: what the transports
    /// carry under [`Bus::ask`].
    pub(crate) async fn request(
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
