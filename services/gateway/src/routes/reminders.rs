//! Appointments on a case and their reminders: the CMS sends an appointment (again when it
//! moves), and casewire reminds the client before it by the tenant's reminder policy.

use axum::extract::State;
use axum::http::StatusCode;
use casewire_contract::messaging::{
    AppointmentInput, CancelAppointment, PreviewReminder, PutAppointment as Put, ReminderPreview,
    ReminderView, RemindersSet, SetReminders as Set,
};
use casewire_events::appointment::AppointmentKind;
use serde::Deserialize;

use crate::extract::{Json, Path};
use crate::routes::cases::{check_id, find_case, in_scope, READING, TEXTING};
use crate::{ApiError, Auth, Gateway};

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PutAppointment {
    /// court_date, meeting or deadline.
    #[schema(pattern = "^(court_date|meeting|deadline)$")]
    kind: String,
    /// RFC 3339 with its offset: 2026-12-14T09:00:00-06:00.
    #[schema(format = DateTime)]
    starts_at: String,
    /// Sealed in the log.
    #[schema(max_length = 200)]
    location: Option<String>,
    /// IANA zone the time is written for; else the client's, else the organization's.
    #[schema(max_length = 64)]
    time_zone: Option<String>,
    /// Added to the reminder's text. Sealed in the log.
    #[schema(max_length = 300)]
    note_for_client: Option<String>,
}

fn kind(kind: &str) -> Result<AppointmentKind, ApiError> {
    AppointmentKind::ALL
        .into_iter()
        .find(|k| k.as_str() == kind)
        .ok_or_else(|| {
            ApiError::unprocessable(format!(
                "kind must be court_date, meeting or deadline, not {kind:?}"
            ))
        })
}

/// Sets an appointment on a case: new, or moved (the CMS sends it again), and its
/// reminders follow. The answer lists the appointment's reminders.
#[utoipa::path(put, path = "/v1/cases/{case_id}/appointments/{appointment_id}", tag = "reminders", security(("api_key" = [])), request_body = PutAppointment, responses(
    (status = 201, body = [ReminderView], description = "set; its reminders"),
    (status = 200, body = [ReminderView], description = "moved or unchanged; its reminders"),
    (status = 404, description = "no such case (or another tenant's)"),
    (status = 422, description = "what is wrong with the appointment"),
))]
pub(crate) async fn put(
    State(gw): State<Gateway>,
    auth: Auth,
    Path((case_id, appointment_id)): Path<(String, String)>,
    Json(body): Json<PutAppointment>,
) -> Result<(StatusCode, axum::Json<Vec<ReminderView>>), ApiError> {
    let tenant = auth.own_tenant(TEXTING)?.to_string();
    check_id("case_id", &case_id)?;
    check_id("appointment_id", &appointment_id)?;
    in_scope(&gw, &auth, &tenant, &case_id).await?;
    let put = Put {
        case_id,
        appointment_id,
        appointment: AppointmentInput {
            kind: kind(&body.kind)?,
            starts_at: body.starts_at,
            location: body.location,
            time_zone: body.time_zone,
            note_for_client: body.note_for_client,
        },
    };
    let set = gw.ask(&auth, &tenant, put).await?;
    let status = if set.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, axum::Json(set.reminders)))
}

/// Cancels an appointment: its reminders that have not gone are cancelled.
#[utoipa::path(delete, path = "/v1/cases/{case_id}/appointments/{appointment_id}", tag = "reminders", security(("api_key" = [])), responses(
    (status = 204, description = "cancelled (again: nothing changes)"),
    (status = 404, description = "no such appointment (or another tenant's)"),
))]
pub(crate) async fn cancel(
    State(gw): State<Gateway>,
    auth: Auth,
    Path((case_id, appointment_id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let tenant = auth.own_tenant(TEXTING)?.to_string();
    check_id("case_id", &case_id)?;
    check_id("appointment_id", &appointment_id)?;
    in_scope(&gw, &auth, &tenant, &case_id).await?;
    let cancel = CancelAppointment {
        case_id,
        appointment_id,
    };
    gw.ask(&auth, &tenant, cancel).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Every reminder of the case: when it is due, and whether it is scheduled, deferred (and
/// when it will go), sent (and its message), skipped or cancelled (and why).
#[utoipa::path(get, path = "/v1/cases/{case_id}/reminders", tag = "reminders", security(("api_key" = [])), responses(
    (status = 200, body = [ReminderView]),
    (status = 404, description = "no such case (or another tenant's)"),
))]
pub(crate) async fn list(
    State(gw): State<Gateway>,
    auth: Auth,
    Path(case_id): Path<String>,
) -> Result<axum::Json<Vec<ReminderView>>, ApiError> {
    let tenant = auth.own_tenant(READING)?;
    check_id("case_id", &case_id)?;
    find_case(&gw, &auth, tenant, &case_id).await?;
    casewire_messaging::reminders::list(gw.store(), tenant, &case_id, None)
        .await
        .map(axum::Json)
        .map_err(ApiError::internal)
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SetReminders {
    enabled: bool,
}

/// Turns a case's reminders off (those waiting are cancelled) or back on (those still
/// ahead are scheduled again).
#[utoipa::path(put, path = "/v1/cases/{case_id}/reminders", tag = "reminders", security(("api_key" = [])), request_body = SetReminders, responses(
    (status = 200, body = RemindersSet, description = "on or off, and every reminder of the case"),
    (status = 404, description = "no such case (or another tenant's)"),
))]
pub(crate) async fn set(
    State(gw): State<Gateway>,
    auth: Auth,
    Path(case_id): Path<String>,
    Json(body): Json<SetReminders>,
) -> Result<axum::Json<RemindersSet>, ApiError> {
    let tenant = auth.own_tenant(TEXTING)?.to_string();
    check_id("case_id", &case_id)?;
    in_scope(&gw, &auth, &tenant, &case_id).await?;
    let set = Set {
        case_id,
        enabled: body.enabled,
    };
    Ok(axum::Json(gw.ask(&auth, &tenant, set).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PreviewRequest {
    /// court_date, meeting or deadline.
    #[schema(pattern = "^(court_date|meeting|deadline)$")]
    kind: String,
    /// The client's language when left out.
    #[schema(max_length = 35)]
    language: Option<String>,
    #[schema(pattern = "^[A-Za-z0-9_.:-]{1,128}$")]
    case_id: String,
    #[schema(format = DateTime)]
    starts_at: String,
    #[schema(max_length = 200)]
    location: Option<String>,
    /// Wording to try in place of the tenant's for this kind and language (the reminder
    /// policy's variables and rules); nothing is saved.
    #[schema(max_length = 480)]
    template: Option<String>,
}

/// A reminder as the client would read it, with what it costs.
#[utoipa::path(post, path = "/v1/templates/preview", tag = "reminders", security(("api_key" = [])), request_body = PreviewRequest, responses(
    (status = 200, body = ReminderPreview, description = "the text, its segments and price"),
    (status = 404, description = "no such case (or another tenant's)"),
    (status = 422, description = "a bad kind, time or language"),
))]
pub(crate) async fn preview(
    State(gw): State<Gateway>,
    auth: Auth,
    Json(body): Json<PreviewRequest>,
) -> Result<axum::Json<ReminderPreview>, ApiError> {
    let tenant = auth.own_tenant(READING)?.to_string();
    check_id("case_id", &body.case_id)?;
    let kind = kind(&body.kind)?;
    if let Some(l) = &body.language {
        if !casewire_events::case::is_language_tag(l) {
            return Err(ApiError::unprocessable(format!(
                "language: {l:?} is not a language tag such as en or es"
            )));
        }
    }
    let preview = PreviewReminder {
        case_id: body.case_id,
        language: body.language,
        appointment: AppointmentInput {
            kind,
            starts_at: body.starts_at,
            location: body.location,
            time_zone: None,
            note_for_client: None,
        },
        template: body.template,
    };
    Ok(axum::Json(gw.ask(&auth, &tenant, preview).await?))
}
