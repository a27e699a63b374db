//! How a service starts: its projections and its command handler, on whichever bus.

use std::sync::Arc;

use async_trait::async_trait;
use casewire_eventstore::EventStore;
use serde_json::Value;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::{Bus, CommandError, CommandHandler, ErrorCode, Reader, Result, ServiceStatus, Worker};

/// What a service runs: its reader of the log (with its projections), its commands and its
/// workers. Every service also answers the `status` command: how far its reader is behind
/// the log and how much work its queues hold, so an operator can see a stuck consumer.
pub struct Wiring {
    pub service: &'static str,
    pub reader: Reader,
    pub commands: Option<Arc<dyn CommandHandler>>,
    pub workers: Vec<Arc<dyn Worker>>,
}

impl Wiring {
    /// A service named after its reader.
    pub fn new(reader: Reader) -> Self {
        Wiring {
            service: reader.name(),
            reader,
            commands: None,
            workers: Vec::new(),
        }
    }

    pub fn commands(mut self, handler: impl CommandHandler) -> Self {
        self.commands = Some(Arc::new(handler));
        self
    }

    pub fn worker(mut self, w: impl Worker) -> Self {
        self.workers.push(Arc::new(w));
        self
    }
}

impl Bus {
    /// Starts a service's projections and command handler; they run until `stop`.
    pub async fn start(
        &self,
        store: &EventStore,
        wiring: Wiring,
        stop: CancellationToken,
    ) -> Result<Vec<JoinHandle<()>>> {
        let mut tasks = vec![self.run_reader(wiring.reader.clone(), stop.clone())];
        tasks.extend(
            wiring
                .workers
                .iter()
                .map(|w| tokio::spawn(crate::jobs::run(store.clone(), w.clone(), stop.clone()))),
        );
        let handler = Arc::new(Status {
            store: store.clone(),
            wiring,
        });
        tasks.push(tokio::spawn(crate::metrics::sample(
            handler.clone(),
            stop.clone(),
        )));
        tasks.push(
            self.serve_commands(handler.wiring.service, handler.clone(), stop)
                .await?,
        );
        Ok(tasks)
    }
}

pub(crate) struct Status {
    store: EventStore,
    wiring: Wiring,
}

impl Status {
    /// How far the service's reader is behind the log, and its queues' depth.
    pub(crate) async fn measure(&self) -> Result<ServiceStatus, CommandError> {
        let unavailable = |e: anyhow::Error| CommandError::unavailable(e.to_string());
        let reader = &self.wiring.reader;
        let mut jobs = Vec::new();
        for w in &self.wiring.workers {
            jobs.push(
                crate::jobs::depth(&self.store, w.queue())
                    .await
                    .map_err(unavailable)?,
            );
        }
        Ok(ServiceStatus {
            service: self.wiring.service.to_string(),
            projections: reader
                .projections()
                .iter()
                .map(|p| p.name().to_string())
                .collect(),
            events_behind: reader.events_behind().await.map_err(unavailable)?,
            jobs,
        })
    }
}

#[async_trait]
impl CommandHandler for Status {
    async fn handle(&self, command: &str, body: Value) -> Result<Value, CommandError> {
        if command != casewire_contract::STATUS {
            return match &self.wiring.commands {
                Some(h) => h.handle(command, body).await,
                None => Err(CommandError::new(
                    ErrorCode::UnknownCommand,
                    format!("{} has no command {command}", self.wiring.service),
                )),
            };
        }
        let status = self.measure().await?;
        serde_json::to_value(status).map_err(CommandError::internal)
    }
}
