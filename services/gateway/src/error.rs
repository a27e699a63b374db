//! The one error type of the HTTP API, and the one place it becomes a response:
//! `{"error": {"code": "...", "message": "..."}}` with the matching status.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl ApiError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
        }
    }
    pub fn bad_request(m: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", m)
    }
    pub fn unauthorized(m: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", m)
    }
    pub fn forbidden(m: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", m)
    }
    pub fn not_found(m: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", m)
    }
    pub fn conflict(m: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, "conflict", m)
    }
    pub fn unprocessable(m: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed", m)
    }
    pub fn unavailable(m: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", m)
    }
    pub fn with_status(status: StatusCode, m: impl Into<String>) -> Self {
        let code = match status.as_u16() {
            413 => "payload_too_large",
            415 => "unsupported_media_type",
            422 => "validation_failed",
            _ => "invalid_request",
        };
        Self::new(status, code, m)
    }

    pub fn status(&self) -> StatusCode {
        self.status
    }

    pub fn message(&self) -> &str {
        &self.message
    }

    /// For failures the caller cannot fix: the detail goes to the log, not to the caller.
    pub fn internal(e: impl std::fmt::Display) -> Self {
        tracing::error!(error = %e, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal error; it has been logged",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (
            self.status,
            Json(json!({ "error": { "code": self.code, "message": self.message } })),
        )
            .into_response()
    }
}

impl From<casewire_eventstore::StoreError> for ApiError {
    fn from(e: casewire_eventstore::StoreError) -> Self {
        use casewire_eventstore::StoreError as S;
        match e {
            S::Conflict { .. } => ApiError::conflict(e.to_string()),
            S::Database(_) => {
                tracing::error!(error = %e, "database unavailable");
                ApiError::unavailable("the event store is unavailable; try again")
            }
            e => ApiError::internal(e),
        }
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        casewire_eventstore::StoreError::from(e).into()
    }
}

/// Turns a domain error into its status: each aggregate says which of its errors mean
/// "not found", "conflict" or "invalid".
pub trait DomainError: std::error::Error {
    fn api_error(&self) -> ApiError;
}

impl<E: DomainError> From<cqrs_es::AggregateError<E>> for ApiError {
    fn from(e: cqrs_es::AggregateError<E>) -> Self {
        use cqrs_es::AggregateError as A;
        match e {
            A::UserError(e) => e.api_error(),
            A::AggregateConflict => {
                ApiError::conflict("changed concurrently by another request; try again")
            }
            A::DatabaseConnectionError(e) => {
                tracing::error!(error = %e, "database unavailable");
                ApiError::unavailable("the event store is unavailable; try again")
            }
            A::DeserializationError(e) | A::UnexpectedError(e) => ApiError::internal(e),
        }
    }
}

impl DomainError for casewire_tenancy::TenantError {
    fn api_error(&self) -> ApiError {
        use casewire_tenancy::TenantError as T;
        match self {
            T::NoSuchTenant => ApiError::not_found("no such tenant"),
            T::NoSuchKey => ApiError::not_found("no such API key"),
            T::AlreadyExists | T::KeyExists => ApiError::conflict(self.to_string()),
            T::InvalidName(_)
            | T::InvalidTimezone(_)
            | T::InvalidSmsProvider(_)
            | T::InvalidPolicy(_) => ApiError::unprocessable(self.to_string()),
        }
    }
}

/// A service's refusal, as the gateway answers it.
impl From<casewire_bus::CommandError> for ApiError {
    fn from(e: casewire_bus::CommandError) -> Self {
        use casewire_bus::ErrorCode as C;
        match e.code {
            C::NotFound => ApiError::not_found(e.message),
            C::Invalid => ApiError::unprocessable(e.message),
            C::Conflict => ApiError::conflict(e.message),
            C::Unavailable => {
                tracing::warn!(error = %e.message, "a service is unavailable");
                ApiError::unavailable("a casewire service is unavailable; try again")
            }
            C::UnknownCommand | C::Internal => ApiError::internal(e),
        }
    }
}
