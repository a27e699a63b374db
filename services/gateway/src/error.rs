//! The one error type of the HTTP API, and the one place it becomes a response:
//! `{"error": {"code": "...", "message": "..."}}` with the matching status.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;

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
            401 => "unauthorized",
            403 => "forbidden",
            404 => "not_found",
            405 => "method_not_allowed",
            408 => "request_timeout",
            409 => "conflict",
            413 => "payload_too_large",
            415 => "unsupported_media_type",
            422 => "validation_failed",
            503 => "unavailable",
            500..=599 => "internal",
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

/// The body of every error answer, as the OpenAPI document declares it.
#[derive(serde::Serialize, utoipa::ToSchema)]
#[schema(as = Error)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// What kind of error, for code: bad_request, unauthorized, forbidden, not_found,
    /// conflict, validation_failed, unavailable, internal…
    pub code: String,
    /// What is wrong and what to do, for a person.
    pub message: String,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code.to_string(),
                message: self.message,
            },
        };
        (self.status, Json(body)).into_response()
    }
}

impl From<casewire_eventstore::StoreError> for ApiError {
    fn from(e: casewire_eventstore::StoreError) -> Self {
        use casewire_eventstore::StoreError as S;
        match e {
            S::Conflict { .. } => ApiError::conflict(e.to_string()),
            S::NoSuchTenant(_) => ApiError::not_found(e.to_string()),
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

/// The tenant's errors answer as the services' refusals do (`casewire_bus::Refusal`).
impl DomainError for casewire_people::UserError {
    fn api_error(&self) -> ApiError {
        use casewire_bus::Refusal;
        casewire_bus::CommandError::new(self.code(), self.to_string()).into()
    }
}

impl DomainError for casewire_tenancy::TenantError {
    fn api_error(&self) -> ApiError {
        use casewire_bus::Refusal;
        casewire_bus::CommandError::new(self.code(), self.to_string()).into()
    }
}

/// A look is recorded once under a fresh id: a second record is a bug.
impl DomainError for casewire_audit::ReviewError {
    fn api_error(&self) -> ApiError {
        ApiError::internal(self)
    }
}

impl DomainError for casewire_audit::flags::FlagError {
    fn api_error(&self) -> ApiError {
        use casewire_audit::flags::FlagError as E;
        match self {
            E::NoSuchFlag => ApiError::not_found(self.to_string()),
            E::AlreadyRaised | E::AlreadyResolved => ApiError::conflict(self.to_string()),
            E::NoteTooLong => ApiError::unprocessable(self.to_string()),
        }
    }
}

impl DomainError for casewire_audit::erasure::ErasureError {
    fn api_error(&self) -> ApiError {
        use casewire_audit::erasure::ErasureError as E;
        match self {
            E::NoSuchHold => ApiError::not_found(self.to_string()),
            E::HoldExists | E::HoldLifted | E::AlreadyErased | E::Held(_) => {
                ApiError::conflict(self.to_string())
            }
            E::Invalid(_) => ApiError::unprocessable(self.to_string()),
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

/// Puts every error answer in the API's shape, including the ones axum and tower answer
/// themselves (a 405 with no body, a 413 or 415 in plain text, the timeout's bare 503), so
/// a client parses one shape whatever went wrong. Their headers (`Allow`, `Retry-After`)
/// stay.
pub(crate) async fn in_shape(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let method = request.method().clone();
    let response = next.run(request).await;
    let status = response.status();
    // JSON is the API's shape already; HTML is a console page that says what went wrong.
    let shaped = (response.headers().get(axum::http::header::CONTENT_TYPE)).is_some_and(|v| {
        v.as_bytes().starts_with(b"application/json") || v.as_bytes().starts_with(b"text/html")
    });
    if shaped || !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let (parts, body) = response.into_parts();
    let said = axum::body::to_bytes(body, 4096)
        .await
        .map(|b| String::from_utf8_lossy(&b).trim().to_string())
        .unwrap_or_default();
    let message = match status.as_u16() {
        405 => format!("this endpoint does not take {method}; the Allow header says what it takes"),
        408 | 503 if said.is_empty() => "the request took too long; try again".to_string(),
        _ if !said.is_empty() => said,
        _ => status.canonical_reason().unwrap_or("error").to_lowercase(),
    };
    let mut shaped = ApiError::with_status(status, message).into_response();
    for (name, value) in &parts.headers {
        if name != axum::http::header::CONTENT_TYPE && name != axum::http::header::CONTENT_LENGTH {
            shaped.headers_mut().insert(name.clone(), value.clone());
        }
    }
    shaped
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::{header, Request, StatusCode};
    use axum::routing::get;
    use axum::Router;
    use tower::ServiceExt;

    /// What a route (or a layer) answered, after `in_shape`: (status, Allow, body).
    async fn shaped(
        answer: (StatusCode, &'static str),
        method: &str,
    ) -> (u16, Option<String>, serde_json::Value) {
        let app = Router::new()
            .route("/x", get(move || async move { answer }))
            .layer(axum::middleware::from_fn(super::in_shape));
        let request = Request::builder()
            .method(method)
            .uri("/x")
            .body(Body::empty())
            .unwrap();
        let response = app.oneshot(request).await.unwrap();
        let allow =
            (response.headers().get(header::ALLOW)).map(|v| v.to_str().unwrap().to_string());
        let status = response.status().as_u16();
        let body = axum::body::to_bytes(response.into_body(), 1 << 16)
            .await
            .unwrap();
        (status, allow, serde_json::from_slice(&body).unwrap())
    }

    #[tokio::test]
    async fn answers_axum_gives_in_plain_text_or_empty_come_in_the_apis_shape() {
        let (status, _, body) = shaped(
            (StatusCode::PAYLOAD_TOO_LARGE, "length limit exceeded"),
            "GET",
        )
        .await;
        assert_eq!(status, 413);
        assert_eq!(body["error"]["code"], "payload_too_large", "{body}");
        assert_eq!(body["error"]["message"], "length limit exceeded");
        let (status, _, body) = shaped(
            (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "Expected request with `Content-Type: application/json`",
            ),
            "GET",
        )
        .await;
        assert_eq!(
            (status, &body["error"]["code"]),
            (415, &serde_json::json!("unsupported_media_type")),
            "{body}"
        );
        let (status, _, body) = shaped((StatusCode::SERVICE_UNAVAILABLE, ""), "GET").await;
        assert_eq!(
            (status, &body["error"]["code"]),
            (503, &serde_json::json!("unavailable")),
            "{body}"
        );
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("try again"),
            "{body}"
        );
        // Axum's own 405 has no body; its Allow header stays.
        let (status, allow, body) = shaped((StatusCode::OK, ""), "DELETE").await;
        assert_eq!(
            (status, allow.as_deref()),
            (405, Some("GET,HEAD")),
            "{body}"
        );
        assert_eq!(body["error"]["code"], "method_not_allowed", "{body}");
    }
}
