//! Usage: what the tenant's texting came to, by month and purpose.

use axum::extract::State;
use casewire_contract::messaging::Usage;
use casewire_tenancy::Role;
use chrono::{Datelike, NaiveDate};
use serde::Deserialize;

use crate::extract::Query;
use crate::{ApiError, Auth, Gateway};

/// Who reads what texting costs: the organization's admins, and its CMS (for its own
/// billing reports).
const READING: &[Role] = &[Role::Admin, Role::Integration];

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct UsageQuery {
    /// The first month to count ("2026-01"); the last twelve months when left out.
    #[param(max_length = 7)]
    from: Option<String>,
}

/// Texts, segments and cost by month (UTC) and purpose, newest month first; the clients'
/// texts received are their own row.
#[utoipa::path(get, path = "/v1/usage", tag = "tenants", security(("api_key" = [])), params(UsageQuery), responses(
    (status = 200, body = Usage),
    (status = 422, description = "from is not a month"),
))]
pub(crate) async fn usage(
    State(gw): State<Gateway>,
    auth: Auth,
    Query(q): Query<UsageQuery>,
) -> Result<axum::Json<Usage>, ApiError> {
    let tenant = auth.own_tenant(READING)?;
    let from = match q.from {
        Some(month) => NaiveDate::parse_from_str(&format!("{month}-01"), "%Y-%m-%d")
            .ok()
            .filter(|_| month.len() == 7)
            .map(|_| month)
            .ok_or_else(|| ApiError::unprocessable("from must be a month, as 2026-01"))?,
        None => {
            let today = casewire_events::utc_now().date_naive();
            let a_year_ago = today.with_day(1).unwrap() - chrono::Months::new(11);
            a_year_ago.format("%Y-%m").to_string()
        }
    };
    let rows = casewire_messaging::usage::by_month(gw.store(), tenant, &from)
        .await
        .map_err(ApiError::internal)?;
    Ok(axum::Json(Usage { from, rows }))
}
