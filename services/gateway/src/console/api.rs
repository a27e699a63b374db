//! The console asks the HTTP API's own router, in-process, as the signed-in person (or
//! the operator): the same handlers, roles, tenant scoping, validation and audit events
//! as any API key.

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use axum::response::Response;
use serde_json::Value;
use tower::ServiceExt;

use crate::{ApiError, Caller, Gateway};

/// Whoever a console page acts for: a person of a tenant, or the operator.
pub(crate) trait Speaks {
    /// The caller the API's `Auth` extractor takes it for.
    fn caller(&self) -> Caller;
}

/// The API's answer to `method path` with `body`, as `who`, unread.
async fn ask(
    gw: &Gateway,
    who: &impl Speaks,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> Result<Response, ApiError> {
    let mut request = Request::builder().method(method).uri(path);
    if body.is_some() {
        request = request.header(header::CONTENT_TYPE, "application/json");
    }
    let body = body.map(|b| Body::from(b.to_string())).unwrap_or_default();
    let mut request = request.body(body).map_err(ApiError::internal)?;
    // The `Auth` extractor takes the caller from here: no bearer token is made or sent.
    request.extensions_mut().insert(who.caller());
    gw.router()
        .oneshot(request)
        .await
        .map_err(ApiError::internal)
}

/// The API's error answer as the API's own error: its status and message.
async fn refused(response: Response) -> ApiError {
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 16)
        .await
        .unwrap_or_default();
    let said: Value = serde_json::from_slice(&bytes).unwrap_or_default();
    let message = said["error"]["message"]
        .as_str()
        .unwrap_or("the request failed");
    ApiError::with_status(status, message)
}

/// The API's answer to a GET of `path` as `who`, whole and unread: for what the
/// console hands on as it comes (an export streams, a CSV downloads).
pub(crate) async fn raw(gw: &Gateway, who: &impl Speaks, path: &str) -> Result<Response, ApiError> {
    let response = ask(gw, who, Method::GET, path, None).await?;
    if response.status().is_success() {
        Ok(response)
    } else {
        Err(refused(response).await)
    }
}

/// The API's answer to `method path` with `body`, as `who`: the JSON on success,
/// the API's own error otherwise.
pub(crate) async fn call(
    gw: &Gateway,
    who: &impl Speaks,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> Result<Value, ApiError> {
    let response = ask(gw, who, method, path, body).await?;
    if !response.status().is_success() {
        return Err(refused(response).await);
    }
    let bytes = axum::body::to_bytes(response.into_body(), 16 << 20)
        .await
        .map_err(ApiError::internal)?;
    if bytes.is_empty() {
        return Ok(Value::Null);
    }
    serde_json::from_slice(&bytes).map_err(ApiError::internal)
}

/// What a page does with the API's error: a refusal of what the person sent (a bad
/// field, a conflict, an unknown id) is said on the page, above the form kept as typed;
/// anything else (their role does not allow it, or casewire failed) is an error page.
pub(crate) enum Refusal {
    Said(StatusCode, String),
    Failed(ApiError),
}

impl From<ApiError> for Refusal {
    fn from(e: ApiError) -> Self {
        if e.status().is_client_error() && e.status() != StatusCode::FORBIDDEN {
            Refusal::Said(e.status(), e.message().to_string())
        } else {
            Refusal::Failed(e)
        }
    }
}

/// A string field of an API answer, or empty.
pub(crate) fn text(v: &Value) -> &str {
    v.as_str().unwrap_or_default()
}

/// A path segment, escaped: ids come from the CMS.
pub(crate) fn segment(id: &str) -> String {
    form_urlencoded::byte_serialize(id.as_bytes()).collect()
}
