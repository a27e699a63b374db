//! Commands between services: request/reply with a JSON body and a JSON answer.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use async_trait::async_trait;
use serde_json::Value;

/// A service's answer to the commands sent to it.
#[async_trait]
pub trait CommandHandler: Send + Sync + 'static {
    async fn handle(&self, command: &str, body: Value) -> Result<Value, CommandError>;
}

/// A refused or failed command, as it travels back to the sender.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, serde::Serialize, serde::Deserialize)]
#[error("{code}: {message}")]
pub struct CommandError {
    /// Machine-readable, e.g. `not_found`, `invalid`, `conflict`, `unavailable`.
    pub code: String,
    pub message: String,
}

impl CommandError {
    pub fn new(code: &str, message: impl Into<String>) -> Self {
        CommandError {
            code: code.to_string(),
            message: message.into(),
        }
    }

    pub fn unavailable(message: impl Into<String>) -> Self {
        CommandError::new("unavailable", message)
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        CommandError::new("invalid", message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        CommandError::new("not_found", message)
    }

    /// A failure of casewire itself: the detail goes to the log, not to the caller.
    pub fn internal(e: impl std::fmt::Display) -> Self {
        tracing::error!(error = %e, "command failed");
        CommandError::new("internal", "internal error; it has been logged")
    }
}

/// The in-process command registry of the embedded mode.
#[derive(Clone, Default)]
pub(crate) struct Registry {
    handlers: Arc<RwLock<HashMap<String, Arc<dyn CommandHandler>>>>,
}

impl Registry {
    pub(crate) fn register(&self, service: &str, handler: Arc<dyn CommandHandler>) {
        self.handlers
            .write()
            .expect("command registry lock")
            .insert(service.to_string(), handler);
    }

    pub(crate) async fn request(
        &self,
        service: &str,
        command: &str,
        body: Value,
    ) -> Result<Value, CommandError> {
        let handler = self
            .handlers
            .read()
            .expect("command registry lock")
            .get(service)
            .cloned()
            .ok_or_else(|| {
                CommandError::unavailable(format!("no {service} service in this process"))
            })?;
        handler.handle(command, body).await
    }
}
