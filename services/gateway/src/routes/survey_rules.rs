//! Outcome-survey rules: a survey sent to the client of each case that closes, a while
//! after, once per case (docs/bulk.md).

use axum::extract::State;
use axum::http::StatusCode;
use casewire_contract::campaigns::{CreateSurveyRule, DeleteSurveyRule, SurveyRuleView};
use casewire_events::survey::SurveyRule;

use super::cases::{READING, TEXTING};
use crate::extract::{Json, Path};
use crate::{ApiError, Auth, Gateway};

/// Makes a rule: from now on, each case the filter admits that the CMS closes gets the
/// survey `delay` later. Its campaign (`campaign_id`) gathers the counts and the results.
#[utoipa::path(post, path = "/v1/survey-rules", tag = "bulk", security(("api_key" = [])), request_body = SurveyRule, responses(
    (status = 201, body = SurveyRuleView),
    (status = 422, description = "what is wrong with the rule"),
))]
pub(crate) async fn create_rule(
    State(gw): State<Gateway>,
    auth: Auth,
    Json(rule): Json<SurveyRule>,
) -> Result<(StatusCode, axum::Json<SurveyRuleView>), ApiError> {
    let tenant = auth.own_tenant(TEXTING)?.to_string();
    auth.whole_tenant("a survey rule")?;
    let create = CreateSurveyRule {
        id: uuid::Uuid::now_v7().to_string(),
        rule,
    };
    let view = gw.ask(&auth, &tenant, create).await?;
    Ok((StatusCode::CREATED, axum::Json(view)))
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct SurveyRuleList {
    items: Vec<SurveyRuleView>,
}

/// The tenant's rules that stand, oldest first.
#[utoipa::path(get, path = "/v1/survey-rules", tag = "bulk", security(("api_key" = [])), responses(
    (status = 200, body = SurveyRuleList),
))]
pub(crate) async fn list_rules(
    State(gw): State<Gateway>,
    auth: Auth,
) -> Result<axum::Json<SurveyRuleList>, ApiError> {
    let tenant = auth.own_tenant(READING)?;
    let rows = casewire_messaging::rules::list(gw.store(), tenant)
        .await
        .map_err(ApiError::internal)?;
    let items = rows.into_iter().map(|r| r.view()).collect();
    Ok(axum::Json(SurveyRuleList { items }))
}

/// A rule that stands.
#[utoipa::path(get, path = "/v1/survey-rules/{rule_id}", tag = "bulk", security(("api_key" = [])), responses(
    (status = 200, body = SurveyRuleView),
    (status = 404, description = "no such rule (deleted, or another tenant's)"),
))]
pub(crate) async fn show_rule(
    State(gw): State<Gateway>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<axum::Json<SurveyRuleView>, ApiError> {
    let tenant = auth.own_tenant(READING)?;
    casewire_messaging::rules::find(gw.store(), tenant, &id)
        .await
        .map_err(ApiError::internal)?
        .filter(|r| r.deleted_at.is_none())
        .map(|r| axum::Json(r.view()))
        .ok_or_else(|| ApiError::not_found("no such survey rule"))
}

/// Deletes a rule: no case sets it off any more, and its campaign is cancelled (texts sent
/// and answers given stay).
#[utoipa::path(delete, path = "/v1/survey-rules/{rule_id}", tag = "bulk", security(("api_key" = [])), responses(
    (status = 200, body = SurveyRuleView, description = "the rule as it was"),
    (status = 404, description = "no such rule (deleted, or another tenant's)"),
))]
pub(crate) async fn delete_rule(
    State(gw): State<Gateway>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<axum::Json<SurveyRuleView>, ApiError> {
    let tenant = auth.own_tenant(TEXTING)?.to_string();
    auth.whole_tenant("a survey rule")?;
    let view = gw.ask(&auth, &tenant, DeleteSurveyRule { id }).await?;
    Ok(axum::Json(view))
}
