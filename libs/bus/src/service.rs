//! How a service starts: its projections and its command handler, on whichever bus.

use std::sync::Arc;

use async_trait::async_trait;
use casewire_eventstore::EventStore;
use serde_json::{json, Value};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::{Bus, CommandError, CommandHandler, Group, Projection, Result, Worker};

/// What a service runs. Every service also answers the `status` command: how far each of
/// its projections is behind the log, so an operator can see a stuck consumer.
pub struct Wiring {
    pub service: &'static str,
    pub projections: Vec<Arc<dyn Projection>>,
    pub commands: Option<Arc<dyn CommandHandler>>,
    pub workers: Vec<Arc<dyn Worker>>,
}

impl Wiring {
    pub fn new(service: &'static str) -> Self {
        Wiring {
            service,
            projections: Vec::new(),
            commands: None,
            workers: Vec::new(),
        }
    }

    pub fn projection(mut self, p: impl Projection) -> Self {
        self.projections.push(Arc::new(p));
        self
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
        // One reader per service: each event costs a service one transaction, whatever
        // the number of its projections.
        let group = Group {
            name: wiring.service,
            projections: wiring.projections.clone(),
        };
        let mut tasks = vec![self.run_group(store, group, stop.clone())];
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
        tasks.push(
            self.serve_commands(handler.wiring.service, handler.clone(), stop)
                .await?,
        );
        Ok(tasks)
    }
}

struct Status {
    store: EventStore,
    wiring: Wiring,
}

#[async_trait]
impl CommandHandler for Status {
    async fn handle(&self, command: &str, body: Value) -> Result<Value, CommandError> {
        if command != "status" {
            return match &self.wiring.commands {
                Some(h) => h.handle(command, body).await,
                None => Err(CommandError::new(
                    "unknown_command",
                    format!("{} has no command {command}", self.wiring.service),
                )),
            };
        }
        let mut projections = Vec::new();
        for p in &self.wiring.projections {
            let lag = self
                .store
                .lagging(p.name())
                .await
                .map_err(|e| CommandError::unavailable(e.to_string()))?;
            let behind: i64 = lag.iter().map(|l| l.head - l.cursor).sum();
            projections.push(json!({ "name": p.name(), "events_behind": behind }));
        }
        let mut queues = Vec::new();
        for w in &self.wiring.workers {
            let q = crate::jobs::depth(&self.store, w.queue())
                .await
                .map_err(|e| CommandError::unavailable(e.to_string()))?;
            queues.push(json!(q));
        }
        Ok(json!({ "service": self.wiring.service, "projections": projections, "jobs": queues }))
    }
}
