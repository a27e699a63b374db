//! The CMS's webhook endpoints and their delivery logs.

use axum::extract::State;
use axum::http::StatusCode;
use casewire_case_link::{DeliveryView, EndpointView};
use casewire_tenancy::Role;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::extract::{Json, Path};
use crate::{ApiError, Auth, Gateway};

const MANAGING: &[Role] = &[Role::Admin, Role::Integration];

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateEndpoint {
    /// https:// (http:// only to localhost).
    url: String,
    /// message.inbound, message.status.
    events: Vec<String>,
}

/// A new endpoint. `secret` (whsec_…) is shown this once: verify every delivery with it.
#[derive(Serialize, Deserialize, utoipa::ToSchema)]
pub(crate) struct CreatedEndpoint {
    id: String,
    url: String,
    events: Vec<String>,
    secret: String,
    created_at: String,
}

/// Subscribes a URL to casewire's events, signed per Standard Webhooks.
#[utoipa::path(post, path = "/v1/webhook-endpoints", tag = "webhooks", security(("api_key" = [])), request_body = CreateEndpoint, responses(
    (status = 201, body = CreatedEndpoint),
    (status = 422, description = "what is wrong with the url or events"),
))]
pub(crate) async fn create(
    State(gw): State<Gateway>,
    auth: Auth,
    Json(body): Json<CreateEndpoint>,
) -> Result<(StatusCode, axum::Json<serde_json::Value>), ApiError> {
    let tenant = auth.own_tenant(MANAGING)?.to_string();
    let answer = gw
        .command(
            &auth,
            &tenant,
            casewire_case_link::SERVICE,
            "create_webhook_endpoint",
            json!({ "url": body.url, "events": body.events }),
        )
        .await?;
    Ok((StatusCode::CREATED, axum::Json(answer)))
}

/// Shows an endpoint, without its secret.
#[utoipa::path(get, path = "/v1/webhook-endpoints/{endpoint_id}", tag = "webhooks", security(("api_key" = [])), responses(
    (status = 200, body = EndpointView),
    (status = 404, description = "no such endpoint (or another tenant's)"),
))]
pub(crate) async fn show(
    State(gw): State<Gateway>,
    auth: Auth,
    Path(endpoint_id): Path<String>,
) -> Result<axum::Json<EndpointView>, ApiError> {
    let tenant = auth.own_tenant(MANAGING)?;
    find(&gw, tenant, &endpoint_id).await.map(axum::Json)
}

async fn find(gw: &Gateway, tenant: &str, id: &str) -> Result<EndpointView, ApiError> {
    casewire_case_link::webhooks::endpoint(gw.store(), tenant, id)
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(|| ApiError::not_found("no such webhook endpoint"))
}

/// The endpoint's delivery log, newest first: each event, its attempts and their outcome.
#[utoipa::path(get, path = "/v1/webhook-endpoints/{endpoint_id}/deliveries", tag = "webhooks", security(("api_key" = [])), responses(
    (status = 200, body = [DeliveryView]),
    (status = 404, description = "no such endpoint (or another tenant's)"),
))]
pub(crate) async fn deliveries(
    State(gw): State<Gateway>,
    auth: Auth,
    Path(endpoint_id): Path<String>,
) -> Result<axum::Json<Vec<DeliveryView>>, ApiError> {
    let tenant = auth.own_tenant(MANAGING)?;
    find(&gw, tenant, &endpoint_id).await?;
    casewire_case_link::webhooks::deliveries(gw.store(), tenant, &endpoint_id)
        .await
        .map(axum::Json)
        .map_err(ApiError::internal)
}
