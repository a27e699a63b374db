//! Review flags on texts: raised by compliance officers (or the tenant's review rules),
//! resolved by them, listed as a queue.

use axum::extract::State;
use axum::http::StatusCode;
use casewire_audit::flags::{Flag, FlagCommand};
use casewire_events::review::FlagReason;
use casewire_tenancy::Role;
use serde::{Deserialize, Serialize};

use crate::extract::{Json, Path, Query};
use crate::{ApiError, Auth, Gateway};

/// Who reviews texts.
const REVIEWERS: &[Role] = &[Role::Compliance, Role::Admin];

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RaiseFlag {
    /// confidentiality, wrong_recipient, tone or other.
    #[schema(pattern = "^(confidentiality|wrong_recipient|tone|other)$")]
    reason: String,
    /// What the reviewer saw; sealed with the client's data.
    #[schema(max_length = 2000)]
    note: Option<String>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ResolveFlag {
    /// What was done; sealed with the client's data.
    #[schema(max_length = 2000)]
    note: Option<String>,
}

/// A flag on a text.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct FlagView {
    id: String,
    message_id: String,
    case_id: Option<String>,
    /// confidentiality, wrong_recipient, tone, other, or keyword (the review rules').
    reason: String,
    /// The review rules' words the text holds, when casewire flagged it.
    keywords: Vec<String>,
    /// null when none was written, or once the client's data was erased (`erased`).
    note: Option<String>,
    /// open or resolved.
    state: String,
    /// The key (`api_key:<id>`) or `system`, and the person it acted for.
    flagged_by: Option<String>,
    on_behalf_of: Option<String>,
    created_at: String,
    resolution: Option<String>,
    resolved_by: Option<String>,
    resolved_on_behalf_of: Option<String>,
    resolved_at: Option<String>,
    /// The client's data was erased: notes read as null.
    erased: bool,
}

/// Flags a text for review. The flag is an event of the trail, naming who raised it.
#[utoipa::path(post, path = "/v1/messages/{message_id}/flags", tag = "review", security(("api_key" = [])), request_body = RaiseFlag, responses(
    (status = 201, body = FlagView),
    (status = 403, description = "needs the compliance or admin role"),
    (status = 404, description = "no such text (or another tenant's)"),
    (status = 422, description = "an unknown reason, or a note over 2000 characters"),
))]
pub(crate) async fn raise(
    State(gw): State<Gateway>,
    auth: Auth,
    Path(message_id): Path<String>,
    Json(body): Json<RaiseFlag>,
) -> Result<(StatusCode, axum::Json<FlagView>), ApiError> {
    let tenant = auth.own_tenant(REVIEWERS)?.to_string();
    let reason = match body.reason.as_str() {
        "confidentiality" => FlagReason::Confidentiality,
        "wrong_recipient" => FlagReason::WrongRecipient,
        "tone" => FlagReason::Tone,
        "other" => FlagReason::Other,
        other => {
            return Err(ApiError::unprocessable(format!(
                "reason must be confidentiality, wrong_recipient, tone or other, not {other:?}"
            )))
        }
    };
    let message = casewire_messaging::messages::find(gw.store(), &tenant, &message_id)
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(|| ApiError::not_found("no such message"))?;
    let subject = casewire_events::message::client_subject(&message.phone);
    let id = auth
        .idempotent_id()
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let raise = FlagCommand::Raise {
        message_id,
        case_id: message.case_id,
        reason,
        note: body.note.map(|n| casewire_events::Sealed::new(&subject, n)),
        keywords: vec![],
    };
    gw.execute::<Flag>(&auth, &tenant, &id, raise).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(find(&gw, &tenant, &id).await?),
    ))
}

/// Resolves a flag, saying what was done. The resolution is an event of the trail.
#[utoipa::path(post, path = "/v1/flags/{flag_id}/resolve", tag = "review", security(("api_key" = [])), request_body = ResolveFlag, responses(
    (status = 200, body = FlagView),
    (status = 403, description = "needs the compliance or admin role"),
    (status = 404, description = "no such flag (or another tenant's)"),
    (status = 409, description = "resolved already"),
    (status = 422, description = "a note over 2000 characters"),
))]
pub(crate) async fn resolve(
    State(gw): State<Gateway>,
    auth: Auth,
    Path(flag_id): Path<String>,
    Json(body): Json<ResolveFlag>,
) -> Result<axum::Json<FlagView>, ApiError> {
    let tenant = auth.own_tenant(REVIEWERS)?.to_string();
    let flag = find(&gw, &tenant, &flag_id).await?;
    let message = casewire_messaging::messages::find(gw.store(), &tenant, &flag.message_id)
        .await
        .map_err(ApiError::internal)?;
    let subject = message
        .map(|m| casewire_events::message::client_subject(&m.phone))
        .unwrap_or_else(|| format!("flag:{flag_id}"));
    let resolve = FlagCommand::Resolve {
        note: body.note.map(|n| casewire_events::Sealed::new(&subject, n)),
    };
    gw.execute::<Flag>(&auth, &tenant, &flag_id, resolve)
        .await?;
    Ok(axum::Json(find(&gw, &tenant, &flag_id).await?))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct FlagsQuery {
    /// open (the default), resolved or all.
    #[param(pattern = "^(open|resolved|all)$")]
    state: Option<String>,
}

/// The tenant's flags, oldest first: the review queue (at most 500).
#[utoipa::path(get, path = "/v1/flags", tag = "review", security(("api_key" = [])), params(FlagsQuery), responses(
    (status = 200, body = [FlagView]),
    (status = 403, description = "needs the compliance or admin role"),
    (status = 422, description = "an unknown state"),
))]
pub(crate) async fn list(
    State(gw): State<Gateway>,
    auth: Auth,
    Query(q): Query<FlagsQuery>,
) -> Result<axum::Json<Vec<FlagView>>, ApiError> {
    let tenant = auth.own_tenant(REVIEWERS)?;
    let states: &[&str] = match q.state.as_deref() {
        None | Some("open") => &["open"],
        Some("resolved") => &["resolved"],
        Some("all") => &["open", "resolved"],
        Some(other) => {
            return Err(ApiError::unprocessable(format!(
                "state must be open, resolved or all, not {other:?}"
            )))
        }
    };
    let sql = format!(
        "SELECT {COLUMNS} FROM review_flags WHERE tenant_id = $1 AND state IN ({}) \
         ORDER BY created_at, id LIMIT 500",
        casewire_eventstore::sql::list(states.len(), 2)
    );
    let mut query = sqlx::query_as::<_, Row>(&sql).bind(tenant);
    for state in states {
        query = query.bind(*state);
    }
    let rows = query.fetch_all(gw.store().db().reader()).await?;
    let mut views = Vec::with_capacity(rows.len());
    for row in rows {
        views.push(view(&gw, tenant, row).await?);
    }
    Ok(axum::Json(views))
}

const COLUMNS: &str =
    "id, message_id, case_id, reason, keywords, note, state, flagged_by, on_behalf_of, \
    created_at, resolution, resolved_by, resolved_on_behalf_of, resolved_at";

type Row = (
    String,
    String,
    Option<String>,
    String,
    String,
    Option<String>,
    String,
    Option<String>,
    Option<String>,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

async fn find(gw: &Gateway, tenant: &str, id: &str) -> Result<FlagView, ApiError> {
    let row: Option<Row> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM review_flags WHERE tenant_id = $1 AND id = $2"
    ))
    .bind(tenant)
    .bind(id)
    .fetch_optional(gw.store().db().reader())
    .await?;
    let row = row.ok_or_else(|| ApiError::not_found("no such flag"))?;
    view(gw, tenant, row).await
}

async fn view(gw: &Gateway, tenant: &str, row: Row) -> Result<FlagView, ApiError> {
    let (id, message_id, case_id, reason, keywords, note, state, flagged_by, on_behalf_of) = (
        row.0, row.1, row.2, row.3, row.4, row.5, row.6, row.7, row.8,
    );
    let (created_at, resolution, resolved_by, resolved_on_behalf_of, resolved_at) =
        (row.9, row.10, row.11, row.12, row.13);
    let (note, note_erased) = opened(gw, tenant, note).await?;
    let (resolution, resolution_erased) = opened(gw, tenant, resolution).await?;
    let erased = note_erased || resolution_erased;
    Ok(FlagView {
        id,
        message_id,
        case_id,
        reason,
        keywords: serde_json::from_str(&keywords).map_err(ApiError::internal)?,
        note,
        state,
        flagged_by,
        on_behalf_of,
        created_at,
        resolution,
        resolved_by,
        resolved_on_behalf_of,
        resolved_at,
        erased,
    })
}

/// A sealed note as the row keeps it, opened: its text, and whether it was erased.
async fn opened(
    gw: &Gateway,
    tenant: &str,
    sealed: Option<String>,
) -> Result<(Option<String>, bool), ApiError> {
    let Some(sealed) = sealed else {
        return Ok((None, false));
    };
    let node = gw.store().open_payload(tenant, &sealed).await?;
    let inner = &node[casewire_events::SEALED_TAG];
    Ok((
        inner["value"].as_str().map(str::to_string),
        inner["erased"] == true,
    ))
}
