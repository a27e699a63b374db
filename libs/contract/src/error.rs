//! How a command fails, as it travels back to the sender.

use serde::{Deserialize, Serialize};

/// What kind of failure: the gateway turns each into its HTTP status in one place.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The thing the command names does not exist (or is another tenant's).
    NotFound,
    /// The command is malformed or breaks a rule of its input.
    Invalid,
    /// The command is valid but the state of things refuses it.
    Conflict,
    /// A part of casewire cannot be reached now; trying again may work.
    Unavailable,
    /// The service has no such command: sender and service run different versions.
    UnknownCommand,
    /// A failure of casewire itself; its detail is in the service's log.
    Internal,
}

/// A refused or failed command.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[error("{code:?}: {message}")]
pub struct CommandError {
    pub code: ErrorCode,
    pub message: String,
}

impl CommandError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        CommandError {
            code,
            message: message.into(),
        }
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::NotFound, message)
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Invalid, message)
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Conflict, message)
    }

    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Unavailable, message)
    }

    /// A failure of casewire itself: the detail goes to the log, not to the caller.
    pub fn internal(e: impl std::fmt::Display) -> Self {
        tracing::error!(error = %e, "command failed");
        Self::new(ErrorCode::Internal, "internal error; it has been logged")
    }
}
