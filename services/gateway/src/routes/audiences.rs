//! Audiences: whom a bulk text or a survey would reach, before anything is sent.

use axum::extract::State;
use casewire_contract::audience::Filter;
use casewire_messaging::audience::Preview;
use serde::Deserialize;

use super::cases::TEXTING;
use crate::extract::Json;
use crate::{ApiError, Auth, Gateway};

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PreviewAudience {
    /// Which cases; every case of the tenant when left out.
    #[serde(default)]
    filter: Filter,
    /// Leave out clients texted within this period (ISO 8601: P7D, PT12H; at most 90 days).
    exclude_texted_within: Option<String>,
}

/// How many clients an audience filter reaches now, what it would cost, and who is left
/// out and why (opted out, no consent, several cases of one client, texted lately).
#[utoipa::path(post, path = "/v1/audiences/preview", tag = "bulk", security(("api_key" = [])), request_body = PreviewAudience, responses(
    (status = 200, body = Preview),
    (status = 422, description = "what is wrong with the filter"),
))]
pub(crate) async fn preview(
    State(gw): State<Gateway>,
    auth: Auth,
    Json(body): Json<PreviewAudience>,
) -> Result<axum::Json<Preview>, ApiError> {
    let tenant = auth.own_tenant(TEXTING)?;
    auth.whole_tenant("an audience")?;
    body.filter.check().map_err(ApiError::unprocessable)?;
    let texted_since = body
        .exclude_texted_within
        .as_deref()
        .map(|within| {
            casewire_tenancy::Offset::parse(within)
                .map(|o| {
                    casewire_events::utc_now()
                        - chrono::Duration::days(o.days)
                        - chrono::Duration::minutes(o.minutes)
                })
                .map_err(|e| ApiError::unprocessable(format!("exclude_texted_within: {e}")))
        })
        .transpose()?;
    casewire_messaging::audience::preview(gw.store(), tenant, &body.filter, texted_since)
        .await
        .map(axum::Json)
        .map_err(ApiError::internal)
}
