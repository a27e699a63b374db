use axum::routing::{delete, get, post};
use axum::Router;

use crate::Gateway;

pub(crate) mod audit;
pub(crate) mod health;
pub(crate) mod tenants;

pub(crate) fn router() -> Router<Gateway> {
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/openapi.json", get(health::openapi))
        .route("/v1/status", get(health::status))
        .route("/v1/tenants", post(tenants::create))
        .route("/v1/tenants/{tenant_id}", get(tenants::show))
        .route(
            "/v1/tenants/{tenant_id}/api-keys",
            post(tenants::issue_key).get(tenants::list_keys),
        )
        .route(
            "/v1/tenants/{tenant_id}/api-keys/{key_id}",
            delete(tenants::revoke_key),
        )
        .route("/v1/audit/verify", get(audit::verify))
        .fallback(|| async { crate::ApiError::not_found("no such endpoint; see /openapi.json") })
}
