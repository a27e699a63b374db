//! A tenant's single sign-on: the OpenID Connect provider its people sign in with.

use axum::extract::State;
use casewire_events::Sealed;
use casewire_tenancy::{Role, SsoSettings, Tenant, TenantCommand, CLIENT_SECRET_SUBJECT};
use serde::{Deserialize, Serialize};

use crate::extract::{Json, Path};
use crate::{ApiError, Auth, Gateway};

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PutSso {
    /// The provider's issuer (https://login.microsoftonline.com/{tenant}/v2.0,
    /// https://accounts.google.com, …).
    #[schema(max_length = 2048)]
    issuer: String,
    #[schema(min_length = 1, max_length = 255)]
    client_id: String,
    /// Kept sealed; never shown again.
    #[schema(min_length = 1, max_length = 1024)]
    client_secret: String,
}

/// The provider as set, without its secret.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct SsoView {
    issuer: String,
    client_id: String,
    client_secret_set: bool,
}

/// Sets the OpenID Connect provider the tenant's people sign in to the console with. The
/// issuer must answer with its discovery document now; the secret is sealed in the log.
#[utoipa::path(put, path = "/v1/tenants/{tenant_id}/sso", tag = "tenants", security(("operator" = []), ("api_key" = [])), request_body = PutSso, responses(
    (status = 200, body = SsoView),
    (status = 403, description = "needs the admin role"),
    (status = 404, description = "no such tenant (or another tenant's)"),
    (status = 422, description = "what is wrong with the settings, or the issuer's answer"),
))]
pub(crate) async fn put(
    State(gw): State<Gateway>,
    auth: Auth,
    Path(tenant_id): Path<String>,
    Json(body): Json<PutSso>,
) -> Result<axum::Json<SsoView>, ApiError> {
    auth.require(&gw, &tenant_id, &[Role::Admin]).await?;
    let settings = SsoSettings {
        issuer: body.issuer,
        client_id: body.client_id,
        client_secret: Sealed::new(CLIENT_SECRET_SUBJECT, body.client_secret),
    };
    // The form first (nothing is fetched for an address that is not one), then the issuer.
    settings.validate().map_err(ApiError::unprocessable)?;
    crate::sso::check(&settings.issuer)
        .await
        .map_err(ApiError::unprocessable)?;
    let set = TenantCommand::SetSso(settings);
    gw.execute::<Tenant>(&auth, &tenant_id, &tenant_id, set)
        .await?;
    get(State(gw), auth, Path(tenant_id)).await
}

/// The tenant's OpenID Connect provider, without its secret.
#[utoipa::path(get, path = "/v1/tenants/{tenant_id}/sso", tag = "tenants", security(("operator" = []), ("api_key" = [])), responses(
    (status = 200, body = SsoView),
    (status = 404, description = "no such tenant (or another tenant's), or none set"),
))]
pub(crate) async fn get(
    State(gw): State<Gateway>,
    auth: Auth,
    Path(tenant_id): Path<String>,
) -> Result<axum::Json<SsoView>, ApiError> {
    auth.require(&gw, &tenant_id, &[Role::Admin, Role::Compliance])
        .await?;
    let settings = gw
        .sso(&tenant_id)
        .await?
        .ok_or_else(|| ApiError::not_found("no single sign-on is set for this tenant"))?;
    Ok(axum::Json(SsoView {
        issuer: settings.issuer,
        client_id: settings.client_id,
        client_secret_set: settings.client_secret.value().is_some(),
    }))
}
