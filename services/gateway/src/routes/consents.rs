//! Consent per phone number: its state and evidence, the list for export, the
//! confirmation request, and consent recorded by staff.

use axum::extract::State;
use axum::http::StatusCode;
use casewire_consent::states::ConsentSummary;
use casewire_contract::consent::{ConsentView, Record, Request};
use casewire_events::consent::{Method, State as Consent};
use serde::Deserialize;

use crate::extract::{Json, OptionalJson, Path, Query};
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
    auth.whole_tenant("a client's consent, by phone,")?;
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
    #[schema(pattern = "^(granted|revoked)$")]
    state: String,
    /// verbal, written or intake.
    #[schema(pattern = "^(verbal|written|intake)$")]
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
) -> Result<axum::Json<ConsentView>, ApiError> {
    let tenant = auth.own_tenant(TEXTING)?.to_string();
    auth.whole_tenant("a client's consent, by phone,")?;
    let phone = phone(&raw)?;
    let state = match Consent::named(&body.state) {
        Some(s @ (Consent::Granted | Consent::Revoked)) => s,
        _ => {
            return Err(ApiError::unprocessable(format!(
                "state must be granted or revoked, not {:?}",
                body.state
            )))
        }
    };
    let method = match body.method.as_str() {
        "verbal" => Method::Verbal,
        "written" => Method::Written,
        "intake" => Method::Intake,
        other => {
            return Err(ApiError::unprocessable(format!(
                "method must be verbal, written or intake, not {other:?}"
            )))
        }
    };
    let record = Record {
        phone,
        state,
        method,
        note: body.note,
    };
    Ok(axum::Json(gw.ask(&auth, &tenant, record).await?))
}

#[derive(Deserialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RequestConsent {
    /// The language of the confirmation text: en (default), es, or one the tenant added.
    #[schema(max_length = 35)]
    language: Option<String>,
}

/// Texts the client the organization's confirmation request ("Reply Y or YES to
/// confirm") and makes the number's consent pending; their YES grants it.
#[utoipa::path(post, path = "/v1/consents/{phone}/request", tag = "consent", security(("api_key" = [])), request_body = RequestConsent, params(
    ("Idempotency-Key" = Option<String>, Header, description = "a retry with the same key sends nothing twice"),
), responses(
    (status = 202, body = ConsentView, description = "pending; the confirmation text is on its way (already granted: unchanged, nothing sent)"),
    (status = 409, description = "the client opted out (only they can opt back in), or the tenant has no SMS provider"),
    (status = 422, description = "not a phone number, or a bad language"),
))]
pub(crate) async fn request(
    State(gw): State<Gateway>,
    auth: Auth,
    Path(raw): Path<String>,
    OptionalJson(body): OptionalJson<RequestConsent>,
) -> Result<(StatusCode, axum::Json<ConsentView>), ApiError> {
    let tenant = auth.own_tenant(TEXTING)?.to_string();
    auth.whole_tenant("a client's consent, by phone,")?;
    let phone = phone(&raw)?;
    if gw.sms_settings(&tenant).await?.is_none() && !gw.sandbox_by_default() {
        return Err(ApiError::conflict(format!(
            "the organization has no SMS provider yet: an admin sets one with PUT /v1/tenants/{tenant}/sms-provider"
        )));
    }
    let request = Request {
        phone,
        language: body.language,
    };
    let view = gw.ask(&auth, &tenant, request).await?;
    Ok((StatusCode::ACCEPTED, axum::Json(view)))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct ListQuery {
    /// none, pending, granted or revoked; all when left out.
    #[param(pattern = "^(none|pending|granted|revoked)$")]
    state: Option<String>,
    /// The `next_after` of the page before.
    #[param(max_length = 32)]
    after: Option<String>,
    /// 1 to 1000; 500 when left out.
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<i64>,
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct ConsentList {
    items: Vec<ConsentSummary>,
    /// Pass as `after` for the next page; null on the last.
    next_after: Option<String>,
}

/// The tenant's numbers and their consent, by phone number, a page at a time: the export
/// of who opted out (`?state=revoked`) or who consented.
#[utoipa::path(get, path = "/v1/consents", tag = "consent", security(("api_key" = [])), params(ListQuery), responses(
    (status = 200, body = ConsentList),
    (status = 422, description = "a bad state, limit or after"),
))]
pub(crate) async fn list(
    State(gw): State<Gateway>,
    auth: Auth,
    Query(q): Query<ListQuery>,
) -> Result<axum::Json<ConsentList>, ApiError> {
    let tenant = auth.own_tenant(READING)?;
    auth.whole_tenant("a client's consent, by phone,")?;
    if let Some(state) = q.state.as_deref() {
        if Consent::named(state).is_none() {
            return Err(ApiError::unprocessable(format!(
                "state must be none, pending, granted or revoked, not {state:?}"
            )));
        }
    }
    let limit = q.limit.unwrap_or(500);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::unprocessable("limit must be between 1 and 1000"));
    }
    let after = q.after.unwrap_or_default();
    if after.chars().count() > 32 {
        return Err(ApiError::unprocessable(
            "after must be the next_after of the page before: a phone number of at most 32 characters",
        ));
    }
    let items =
        casewire_consent::states::list(gw.store(), tenant, q.state.as_deref(), &after, limit)
            .await
            .map_err(ApiError::internal)?;
    let next_after = (items.len() as i64 == limit)
        .then(|| items.last().map(|c| c.phone.clone()))
        .flatten();
    Ok(axum::Json(ConsentList { items, next_after }))
}
