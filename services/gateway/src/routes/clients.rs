//! Legal holds, and the erasure of a client's data (docs/erasure.md).

use axum::extract::State;
use axum::http::StatusCode;
use casewire_audit::erasure::{Hold, HoldCommand};
use casewire_events::message::client_subject;
use casewire_tenancy::Role;
use serde::{Deserialize, Serialize};

use crate::extract::{Json, Path};
use crate::{ApiError, Auth, Gateway};

const ADMIN: &[Role] = &[Role::Admin];
/// Who reads the holds: admins, and compliance officers.
const HOLD_READERS: &[Role] = &[Role::Admin, Role::Compliance];

/// A client, by one of their cases or by number.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ClientRef {
    #[schema(max_length = 128)]
    case_id: Option<String>,
    /// E.164 (or a number the tenant's country reads).
    #[schema(max_length = 32)]
    phone: Option<String>,
    /// Why: for a hold the matter or order (sealed with the client's data); for an erasure
    /// words that name no one ("retention ended", "client's request"), kept in clear.
    #[schema(min_length = 1, max_length = 500)]
    reason: String,
}

/// Whose data a request names: the number, and the case named if any.
async fn client_of(
    gw: &Gateway,
    auth: &Auth,
    tenant: &str,
    body: &ClientRef,
) -> Result<(String, Option<String>), ApiError> {
    match (&body.case_id, &body.phone) {
        (Some(case_id), None) => {
            let case = crate::routes::cases::find_case(gw, auth, tenant, case_id).await?;
            Ok((case.client.phone, Some(case.id)))
        }
        (None, Some(phone)) => Ok((
            casewire_sms::phone::normalize(phone)
                .map_err(|e| ApiError::unprocessable(format!("phone: {e}")))?,
            None,
        )),
        _ => Err(ApiError::unprocessable(
            "name the client by case_id or by phone: one of them",
        )),
    }
}

/// A legal hold.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct HoldView {
    id: String,
    case_id: Option<String>,
    phone: Option<String>,
    /// null once the client's data was erased (a hold lifted first).
    reason: Option<String>,
    placed_by: Option<String>,
    placed_at: String,
    lifted_by: Option<String>,
    lifted_at: Option<String>,
}

/// Places a legal hold on a case (and so on its client) or on a number: while it stands,
/// that client is not erased, by hand or by policy.
#[utoipa::path(post, path = "/v1/legal-holds", tag = "erasure", security(("api_key" = [])), request_body = ClientRef, responses(
    (status = 201, body = HoldView),
    (status = 403, description = "needs the admin role"),
    (status = 404, description = "no such case (or another tenant's)"),
    (status = 422, description = "neither or both of case_id and phone, a bad number, or no reason"),
))]
pub(crate) async fn place_hold(
    State(gw): State<Gateway>,
    auth: Auth,
    Json(body): Json<ClientRef>,
) -> Result<(StatusCode, axum::Json<HoldView>), ApiError> {
    let tenant = auth.own_tenant(ADMIN)?.to_string();
    let (phone, case_id) = client_of(&gw, &auth, &tenant, &body).await?;
    let id = auth
        .idempotent_id()
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let place = HoldCommand::Place {
        phone: case_id.is_none().then(|| phone.clone()),
        case_id,
        reason: casewire_events::Sealed::new(client_subject(&phone), body.reason),
    };
    gw.execute::<Hold>(&auth, &tenant, &id, place).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(hold(&gw, &tenant, &id).await?),
    ))
}

/// Lifts a legal hold.
#[utoipa::path(delete, path = "/v1/legal-holds/{hold_id}", tag = "erasure", security(("api_key" = [])), responses(
    (status = 204, description = "lifted"),
    (status = 403, description = "needs the admin role"),
    (status = 404, description = "no such hold (or another tenant's)"),
    (status = 409, description = "lifted already"),
))]
pub(crate) async fn lift_hold(
    State(gw): State<Gateway>,
    auth: Auth,
    Path(hold_id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let tenant = auth.own_tenant(ADMIN)?.to_string();
    hold(&gw, &tenant, &hold_id).await?;
    gw.execute::<Hold>(&auth, &tenant, &hold_id, HoldCommand::Lift)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The holds that stand.
#[utoipa::path(get, path = "/v1/legal-holds", tag = "erasure", security(("api_key" = [])), responses(
    (status = 200, body = [HoldView]),
    (status = 403, description = "needs the admin or compliance role"),
))]
pub(crate) async fn holds(
    State(gw): State<Gateway>,
    auth: Auth,
) -> Result<axum::Json<Vec<HoldView>>, ApiError> {
    let tenant = auth.own_tenant(HOLD_READERS)?;
    let ids: Vec<(String,)> = sqlx::query_as(
        "SELECT id FROM legal_holds WHERE tenant_id = $1 AND lifted_at IS NULL ORDER BY placed_at, id",
    )
    .bind(tenant)
    .fetch_all(gw.store().db().reader())
    .await?;
    let mut views = Vec::with_capacity(ids.len());
    for (id,) in ids {
        views.push(hold(&gw, tenant, &id).await?);
    }
    Ok(axum::Json(views))
}

async fn hold(gw: &Gateway, tenant: &str, id: &str) -> Result<HoldView, ApiError> {
    type Row = (
        String,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
        String,
        Option<String>,
        Option<String>,
    );
    let row: Option<Row> = sqlx::query_as(
        "SELECT id, case_id, phone, reason, placed_by, placed_at, lifted_by, lifted_at \
         FROM legal_holds WHERE tenant_id = $1 AND id = $2",
    )
    .bind(tenant)
    .bind(id)
    .fetch_optional(gw.store().db().reader())
    .await?;
    let (id, case_id, phone, reason, placed_by, placed_at, lifted_by, lifted_at) =
        row.ok_or_else(|| ApiError::not_found("no such legal hold"))?;
    let reason = match reason {
        Some(sealed) => {
            let node = gw.store().open_payload(tenant, &sealed).await?;
            node[casewire_events::SEALED_TAG]["value"]
                .as_str()
                .map(str::to_string)
        }
        None => None,
    };
    Ok(HoldView {
        id,
        case_id,
        phone,
        reason,
        placed_by,
        placed_at,
        lifted_by,
        lifted_at,
    })
}

/// What an erasure did.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct Erased {
    phone: String,
    /// The client's cases: their names and texts read as erased now.
    cases: Vec<String>,
}

/// Erases a client: records the erasure and destroys their data key. Their texts, name
/// and notes read as erased everywhere from now on; the search index drops their words;
/// the chain still verifies; the CMS gets `client.erased`; Twilio is asked to delete its
/// copies of their texts. Refused while a legal hold stands on them or one of their cases.
#[utoipa::path(post, path = "/v1/clients/erase", tag = "erasure", security(("api_key" = [])), request_body = ClientRef, responses(
    (status = 200, body = Erased),
    (status = 403, description = "needs the admin role"),
    (status = 404, description = "no such case (or another tenant's)"),
    (status = 409, description = "a legal hold stands, or the client is erased already"),
    (status = 422, description = "neither or both of case_id and phone, a bad number, or no reason"),
))]
pub(crate) async fn erase(
    State(gw): State<Gateway>,
    auth: Auth,
    Json(body): Json<ClientRef>,
) -> Result<axum::Json<Erased>, ApiError> {
    let tenant = auth.own_tenant(ADMIN)?.to_string();
    let (phone, _) = client_of(&gw, &auth, &tenant, &body).await?;
    let erased =
        casewire_audit::erasure::erase(gw.store(), &tenant, &phone, &body.reason, auth.metadata())
            .await;
    let cases = match erased {
        Ok(cases) => cases,
        Err(casewire_audit::erasure::EraseError::Refused(e)) => return Err(e.into()),
        Err(casewire_audit::erasure::EraseError::Store(e)) => return Err(ApiError::internal(e)),
    };
    // The search index has dropped their words when this answers.
    gw.caught_up(&tenant).await?;
    Ok(axum::Json(Erased { phone, cases }))
}
