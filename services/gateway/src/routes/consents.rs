//! Consent per phone number: its state and evidence, and consent recorded by staff.

use axum::extract::State;
use casewire_consent::ConsentView;
use serde::Deserialize;
use serde_json::json;

use crate::extract::{Json, Path};
use crate::routes::cases::{READING, TEXTING};
use crate::{ApiError, Auth, Gateway};

fn phone(raw: &str) -> Result<String, ApiError> {
    casewire_sms::phone::normalize(raw).map_err(|e| ApiError::unprocessable(format!("phone: {e}")))
}

/// A number's consent: its state and every change with its evidence. A number never seen
/// is `none` with no history.
#[utoipa::path(get, path = "/v1/consents/{phone}", tag = "consent", security(("api_key" = [])), responses(
    (status = 200, body = ConsentView),
    (status = 422, description = "not a phone number"),
))]
pub(crate) async fn show(
    State(gw): State<Gateway>,
    auth: Auth,
    Path(raw): Path<String>,
) -> Result<axum::Json<ConsentView>, ApiError> {
    let tenant = auth.own_tenant(READING)?;
    let phone = phone(&raw)?;
    casewire_consent::states::find(gw.store(), tenant, &phone)
        .await
        .map(axum::Json)
        .map_err(ApiError::internal)
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RecordConsent {
    /// granted or revoked.
    state: String,
    /// verbal, written or intake.
    method: String,
    /// Sealed in the log.
    note: Option<String>,
}

/// Records consent given or withdrawn by phone, in writing or at intake.
#[utoipa::path(put, path = "/v1/consents/{phone}", tag = "consent", security(("api_key" = [])), request_body = RecordConsent, responses(
    (status = 200, body = ConsentView),
    (status = 422, description = "not a phone number, or a bad state or method"),
))]
pub(crate) async fn record(
    State(gw): State<Gateway>,
    auth: Auth,
    Path(raw): Path<String>,
    Json(body): Json<RecordConsent>,
) -> Result<axum::Json<serde_json::Value>, ApiError> {
    let tenant = auth.own_tenant(TEXTING)?.to_string();
    let phone = phone(&raw)?;
    if !matches!(body.state.as_str(), "granted" | "revoked") {
        return Err(ApiError::unprocessable(format!(
            "state must be granted or revoked, not {:?}",
            body.state
        )));
    }
    if !matches!(body.method.as_str(), "verbal" | "written" | "intake") {
        return Err(ApiError::unprocessable(format!(
            "method must be verbal, written or intake, not {:?}",
            body.method
        )));
    }
    let answer = gw
        .command(&auth, &tenant, casewire_consent::SERVICE, "record", json!({ "phone": phone, "state": body.state, "method": body.method, "note": body.note }))
        .await?;
    Ok(axum::Json(answer))
}
