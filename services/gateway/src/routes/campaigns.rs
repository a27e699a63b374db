//! Campaigns: bulk texts and surveys to an audience, drafted, launched, paused, resumed,
//! cancelled, followed while they run, and a survey's results (docs/bulk.md).

use axum::extract::State;
use axum::http::StatusCode;
use casewire_contract::campaigns::{
    CampaignStep, CampaignView, DraftCampaign, StepCampaign, SurveyResults,
};
use casewire_events::campaign::CampaignPlan;
use serde::Deserialize;

use super::cases::{READING, TEXTING};
use crate::extract::{Json, Path, Query};
use crate::{ApiError, Auth, Gateway};
use casewire_tenancy::Role;

/// Drafts a campaign: its audience and cost are estimated now; nothing is sent until it is
/// launched.
#[utoipa::path(post, path = "/v1/campaigns", tag = "bulk", security(("api_key" = [])), request_body = CampaignPlan, responses(
    (status = 201, body = CampaignView, description = "drafted, with its estimate"),
    (status = 422, description = "what is wrong with the plan"),
))]
pub(crate) async fn create(
    State(gw): State<Gateway>,
    auth: Auth,
    Json(plan): Json<CampaignPlan>,
) -> Result<(StatusCode, axum::Json<CampaignView>), ApiError> {
    let tenant = auth.own_tenant(TEXTING)?.to_string();
    auth.whole_tenant("a campaign")?;
    let draft = DraftCampaign {
        id: uuid::Uuid::now_v7().to_string(),
        plan,
    };
    let view = gw.ask(&auth, &tenant, draft).await?;
    Ok((StatusCode::CREATED, axum::Json(view)))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct ListQuery {
    /// The `next_before` of the page before.
    #[param(max_length = 40)]
    before: Option<String>,
    /// 1 to 100; 20 when left out.
    #[param(minimum = 1, maximum = 100)]
    limit: Option<i64>,
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct CampaignList {
    items: Vec<CampaignView>,
    /// Pass as `before` for the next page; null on the last.
    next_before: Option<String>,
}

/// The tenant's campaigns, newest first, each with its counts (or, a draft, its estimate).
#[utoipa::path(get, path = "/v1/campaigns", tag = "bulk", security(("api_key" = [])), params(ListQuery), responses(
    (status = 200, body = CampaignList),
))]
pub(crate) async fn list(
    State(gw): State<Gateway>,
    auth: Auth,
    Query(q): Query<ListQuery>,
) -> Result<axum::Json<CampaignList>, ApiError> {
    let tenant = auth.own_tenant(READING)?;
    auth.whole_tenant("a campaign")?;
    let limit = q.limit.unwrap_or(20);
    if !(1..=100).contains(&limit) {
        return Err(ApiError::unprocessable("limit must be between 1 and 100"));
    }
    let rows = casewire_messaging::campaigns::list(gw.store(), tenant, q.before.as_deref(), limit)
        .await
        .map_err(ApiError::internal)?;
    let next_before = (rows.len() as i64 == limit)
        .then(|| rows.last().map(|c| c.created_at.clone()))
        .flatten();
    let mut items = Vec::with_capacity(rows.len());
    for row in rows {
        items.push(
            casewire_messaging::campaigns::view(gw.store(), tenant, row)
                .await
                .map_err(ApiError::internal)?,
        );
    }
    Ok(axum::Json(CampaignList { items, next_before }))
}

/// A campaign: its plan, its state, and where each recipient's text stands.
#[utoipa::path(get, path = "/v1/campaigns/{campaign_id}", tag = "bulk", security(("api_key" = [])), responses(
    (status = 200, body = CampaignView),
    (status = 404, description = "no such campaign (or another tenant's)"),
))]
pub(crate) async fn show(
    State(gw): State<Gateway>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<axum::Json<CampaignView>, ApiError> {
    let tenant = auth.own_tenant(READING)?;
    auth.whole_tenant("a campaign")?;
    let row = own(&gw, tenant, &id).await?;
    casewire_messaging::campaigns::view(gw.store(), tenant, row)
        .await
        .map(axum::Json)
        .map_err(ApiError::internal)
}

/// The campaign, by id, of the caller's tenant; 404 for another tenant's.
async fn own(
    gw: &Gateway,
    tenant: &str,
    id: &str,
) -> Result<casewire_messaging::campaigns::CampaignRow, ApiError> {
    casewire_messaging::campaigns::find(gw.store(), tenant, id)
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(|| ApiError::not_found("no such campaign"))
}

/// A survey's answers per question: how many were asked and answered, the answers by
/// value, the median time to answer, the response rate. An announcement has no questions.
#[utoipa::path(get, path = "/v1/campaigns/{campaign_id}/results", tag = "bulk", security(("api_key" = [])), responses(
    (status = 200, body = SurveyResults),
    (status = 404, description = "no such campaign (or another tenant's)"),
))]
pub(crate) async fn results(
    State(gw): State<Gateway>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<axum::Json<SurveyResults>, ApiError> {
    let tenant = auth.own_tenant(READING)?;
    auth.whole_tenant("a campaign")?;
    let row = own(&gw, tenant, &id).await?;
    casewire_messaging::surveys::results(gw.store(), tenant, &row)
        .await
        .map(axum::Json)
        .map_err(ApiError::internal)
}

/// One row per recipient, in the audience's order, for a funder's report: `n`,
/// `case_id`, `language`, `status` (the text's, or `skipped: <why>`), `error_code`
/// (Twilio's), then for each question `<id>` (the answer), `<id>_text` (the client's
/// words) and `<id>_answered_at`.
#[utoipa::path(get, path = "/v1/campaigns/{campaign_id}/results.csv", tag = "bulk", security(("api_key" = [])), responses(
    (status = 200, content_type = "text/csv", body = String),
    (status = 404, description = "no such campaign (or another tenant's)"),
))]
pub(crate) async fn results_csv(
    State(gw): State<Gateway>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<impl axum::response::IntoResponse, ApiError> {
    use axum::http::header;
    let tenant = auth.own_tenant(READING)?;
    auth.whole_tenant("a campaign")?;
    let row = own(&gw, tenant, &id).await?;
    let csv = casewire_messaging::surveys::csv(gw.store(), tenant, &row)
        .await
        .map_err(ApiError::internal)?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"campaign-{}.csv\"", row.id),
            ),
        ],
        csv,
    ))
}

/// A step of the campaign's life, by its name in the path:
/// - `launch` freezes the audience the filter picks now (recorded: who launched it, how
///   many, whom it left out and why) and starts sending;
/// - `pause` stops new texts (within a second) until `resume`, which carries on with
///   nobody texted twice and nobody forgotten;
/// - `cancel` stops new texts for good (texts already at Twilio are not recalled);
/// - `approve` (an admin other than the one who drafted it) approves its launch, where the
///   tenant's policy asks for `approvals_required` approvals; an admin's launch counts as
///   one.
/// A key of role advocate or integration may draft and launch a campaign an admin approved.
/// An admin's key that drafted it cannot approve it.
#[utoipa::path(post, path = "/v1/campaigns/{campaign_id}/{step}", tag = "bulk", security(("api_key" = [])),
    params(("campaign_id" = String, Path), ("step" = CampaignStep, Path)),
    responses(
        (status = 200, body = CampaignView),
        (status = 404, description = "no such campaign (or another tenant's)"),
        (status = 403, description = "`approve` by a key that is not an admin's"),
        (status = 409, description = "a step its state does not allow, a launch that reaches nobody, or one that awaits approval"),
    ))]
pub(crate) async fn step(
    State(gw): State<Gateway>,
    auth: Auth,
    Path((id, step)): Path<(String, CampaignStep)>,
) -> Result<axum::Json<CampaignView>, ApiError> {
    let who = match step {
        CampaignStep::Approve => &[Role::Admin][..],
        _ => TEXTING,
    };
    let tenant = auth.own_tenant(who)?.to_string();
    auth.whole_tenant("a campaign")?;
    let admin = auth.own_tenant(&[Role::Admin]).is_ok();
    let view = gw
        .ask(&auth, &tenant, StepCampaign { id, step, admin })
        .await?;
    Ok(axum::Json(view))
}
