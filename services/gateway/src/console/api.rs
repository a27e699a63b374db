//! The console asks the HTTP API's own router, in-process, as the signed-in person: the
//! same handlers, roles, tenant scoping, validation and audit events as any API key.

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use serde_json::Value;
use tower::ServiceExt;

use super::Person;
use crate::{ApiError, Gateway};

/// The API's answer to a GET of `path` as the person, whole and unread: for what the
/// console hands on as it comes (an export streams).
pub(crate) async fn raw(
    gw: &Gateway,
    person: &Person,
    path: &str,
) -> Result<axum::response::Response, ApiError> {
    let mut request = Request::builder()
        .method(Method::GET)
        .uri(path)
        .body(Body::empty())
        .map_err(ApiError::internal)?;
    request.extensions_mut().insert(person.caller());
    gw.router()
        .oneshot(request)
        .await
        .map_err(ApiError::internal)
}

/// The API's answer to `method path` with `body`, as the person: the JSON on success,
/// the API's own error otherwise.
pub(crate) async fn call(
    gw: &Gateway,
    person: &Person,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> Result<Value, ApiError> {
    let mut request = Request::builder().method(method).uri(path);
    if body.is_some() {
        request = request.header(header::CONTENT_TYPE, "application/json");
    }
    let body = body.map(|b| Body::from(b.to_string())).unwrap_or_default();
    let mut request = request.body(body).map_err(ApiError::internal)?;
    // The `Auth` extractor takes the caller from here: no bearer token is made or sent.
    request.extensions_mut().insert(person.caller());
    let response = gw
        .router()
        .oneshot(request)
        .await
        .map_err(ApiError::internal)?;
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), 16 << 20)
        .await
        .map_err(ApiError::internal)?;
    let value: Value = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).map_err(ApiError::internal)?
    };
    if status.is_success() {
        return Ok(value);
    }
    let message = value["error"]["message"]
        .as_str()
        .unwrap_or("the request failed")
        .to_string();
    Err(ApiError::with_status(
        StatusCode::from_u16(status.as_u16()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        message,
    ))
}
