//! The CMS's webhook endpoints and their delivery logs.

use axum::extract::State;
use axum::http::StatusCode;
use casewire_case_link::DeliveryView;
use casewire_contract::case_link::{
    CreateWebhookEndpoint, CreatedEndpoint, EndpointView, TestWebhookEndpoint,
};
use casewire_contract::Done;
use casewire_tenancy::Role;
use serde::Deserialize;

use crate::extract::{Json, Path};
use crate::{ApiError, Auth, Gateway};

const MANAGING: &[Role] = &[Role::Admin, Role::Integration];
/// Compliance officers read them too (where the tenant's events go), and change nothing.
const READING: &[Role] = &[Role::Admin, Role::Integration, Role::Compliance];

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateEndpoint {
    /// https:// (http:// only to localhost).
    #[schema(min_length = 1, max_length = 2048)]
    url: String,
    /// message.inbound, message.status, survey.answered, audit.checkpoint, client.erased.
    events: Vec<String>,
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
) -> Result<(StatusCode, axum::Json<CreatedEndpoint>), ApiError> {
    let tenant = auth.own_tenant(MANAGING)?.to_string();
    let create = CreateWebhookEndpoint {
        url: body.url,
        events: body.events,
    };
    let created = gw.ask(&auth, &tenant, create).await?;
    Ok((StatusCode::CREATED, axum::Json(created)))
}

/// The tenant's endpoints, oldest first, without their secrets.
#[utoipa::path(get, path = "/v1/webhook-endpoints", tag = "webhooks", security(("api_key" = [])), responses(
    (status = 200, body = [EndpointView]),
))]
pub(crate) async fn list(
    State(gw): State<Gateway>,
    auth: Auth,
) -> Result<axum::Json<Vec<EndpointView>>, ApiError> {
    let tenant = auth.own_tenant(READING)?;
    casewire_case_link::webhooks::endpoints(gw.store(), tenant)
        .await
        .map(axum::Json)
        .map_err(ApiError::internal)
}

/// Sends a `webhook.test` event to this endpoint alone (`data: {endpoint_id}`), signed and
/// retried as any other; it shows in the delivery log.
#[utoipa::path(post, path = "/v1/webhook-endpoints/{endpoint_id}/test", tag = "webhooks", security(("api_key" = [])), responses(
    (status = 202, body = Done, description = "queued; see the delivery log"),
    (status = 404, description = "no such endpoint (or another tenant's)"),
))]
pub(crate) async fn test(
    State(gw): State<Gateway>,
    auth: Auth,
    Path(endpoint_id): Path<String>,
) -> Result<(StatusCode, axum::Json<Done>), ApiError> {
    let tenant = auth.own_tenant(MANAGING)?.to_string();
    find(&gw, &tenant, &endpoint_id).await?;
    let done = gw
        .ask(&auth, &tenant, TestWebhookEndpoint { endpoint_id })
        .await?;
    Ok((StatusCode::ACCEPTED, axum::Json(done)))
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
    let tenant = auth.own_tenant(READING)?;
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
    let tenant = auth.own_tenant(READING)?;
    find(&gw, tenant, &endpoint_id).await?;
    casewire_case_link::webhooks::deliveries(gw.store(), tenant, &endpoint_id)
        .await
        .map(axum::Json)
        .map_err(ApiError::internal)
}
