//! Console users (issue 16): people of the organization, invited by an admin. casewire
//! sends no email: the admin hands the invitation link over; opening it lets the person
//! choose a password (docs/console.md).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use casewire_people::{directory, UserCommand, UserRow};
use casewire_tenancy::Role;
use serde::{Deserialize, Serialize};

use crate::{ApiError, Auth, Caller, Gateway};

/// The namespace of user ids: a user's id is made from the tenant and the email, so the
/// aggregate itself refuses a second user with the same email in one organization.
const USER_IDS: uuid::Uuid = uuid::Uuid::from_u128(0x2b8e_51c4_7d0a_4c1e_9f36_a04b_5e7d_13c9);

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Invite {
    /// As colleagues know the person.
    #[schema(min_length = 1, max_length = 200)]
    name: String,
    /// The person's sign-in, unique among casewire's users.
    email: String,
    /// admin, advocate or compliance (a CMS uses an API key, not a user).
    role: Role,
    /// For an advocate: their id in the CMS; they then see only the cases that list them.
    #[schema(min_length = 1, max_length = 128)]
    advocate_id: Option<String>,
    /// The operator only, who belongs to no organization: the tenant to invite into (its
    /// first admin). A key invites into its own tenant and leaves this out.
    #[schema(max_length = 64)]
    tenant_id: Option<String>,
}

/// A user just invited, with the link to hand them: shown this once, casewire keeps only
/// its hash.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct Invited {
    #[serde(flatten)]
    user: UserRow,
    invitation_url: String,
    /// RFC 3339: the link works until then (seven days).
    expires_at: String,
}

/// Invites a person to the console (admins).
#[utoipa::path(post, path = "/v1/users", tag = "users", security(("api_key" = [])), request_body = Invite, responses(
    (status = 201, body = Invited),
    (status = 403, description = "needs the admin role"),
    (status = 409, description = "the email is already a user's"),
    (status = 422, description = "invalid name, email, role or advocate_id"),
))]
pub(crate) async fn invite(
    State(gw): State<Gateway>,
    auth: Auth,
    Json(body): Json<Invite>,
) -> Result<(StatusCode, Json<Invited>), ApiError> {
    let tenant = match (&auth.caller, body.tenant_id) {
        (Caller::Operator, Some(tenant)) => {
            auth.require(&gw, &tenant, &[Role::Admin]).await?;
            tenant
        }
        (Caller::Operator, None) => {
            return Err(ApiError::unprocessable(
                "tenant_id: the operator names the tenant to invite into",
            ))
        }
        (Caller::Member { .. }, Some(_)) => {
            return Err(ApiError::unprocessable(
                "tenant_id: only the operator names a tenant; a key invites into its own",
            ))
        }
        (Caller::Member { .. }, None) => auth.own_tenant(&[Role::Admin])?.to_string(),
    };
    let email = casewire_people::user::email(&body.email)
        .map_err(|e| ApiError::unprocessable(e.to_string()))?;
    // One email, one person, one organization: the sign-in form asks no organization.
    let taken = directory::by_email(gw.store(), &email)
        .await
        .map_err(ApiError::internal)?;
    if taken.iter().any(|u| u.tenant_id != tenant) {
        return Err(ApiError::conflict(
            "email: this address already signs in to casewire for another organization; use another",
        ));
    }
    let id = uuid::Uuid::new_v5(&USER_IDS, format!("{tenant}/{email}").as_bytes()).to_string();
    let token = casewire_people::session::token();
    let now = casewire_events::utc_now();
    let command = UserCommand::Invite {
        id: id.clone(),
        email,
        name: body.name,
        role: body.role,
        advocate_id: body.advocate_id,
        invitation_hash: casewire_people::session::hash(&token),
        now,
    };
    gw.execute::<casewire_people::User>(&auth, &tenant, &id, command)
        .await?;
    let user = directory::get(gw.store(), &tenant, &id)
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(|| ApiError::internal("the user just invited is not in the directory"))?;
    let path = format!("/console/invitations/{token}");
    Ok((
        StatusCode::CREATED,
        Json(Invited {
            user,
            invitation_url: match gw.public_url() {
                Some(base) => format!("{}{path}", base.trim_end_matches('/')),
                None => path,
            },
            expires_at: casewire_events::timestamp(now + casewire_people::user::INVITATION_VALID),
        }),
    ))
}

/// The organization's console users (admins and compliance officers).
#[utoipa::path(get, path = "/v1/users", tag = "users", security(("api_key" = [])), responses(
    (status = 200, body = [UserRow]),
    (status = 403, description = "needs the admin or compliance role"),
))]
pub(crate) async fn list(
    State(gw): State<Gateway>,
    auth: Auth,
) -> Result<Json<Vec<UserRow>>, ApiError> {
    let tenant = auth.own_tenant(&[Role::Admin, Role::Compliance])?;
    Ok(Json(
        directory::list(gw.store(), tenant)
            .await
            .map_err(ApiError::internal)?,
    ))
}

/// Removes a person from the console (admins): their sessions end at once, their
/// invitation no longer works.
#[utoipa::path(delete, path = "/v1/users/{user_id}", tag = "users", security(("api_key" = [])), responses(
    (status = 204),
    (status = 403, description = "needs the admin role"),
    (status = 404, description = "no such user (or another tenant's)"),
))]
pub(crate) async fn remove(
    State(gw): State<Gateway>,
    auth: Auth,
    Path(user_id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let tenant = auth.own_tenant(&[Role::Admin])?.to_string();
    let user = directory::get(gw.store(), &tenant, &user_id)
        .await
        .map_err(ApiError::internal)?;
    if user.is_none() {
        return Err(ApiError::not_found("no such user"));
    }
    gw.execute::<casewire_people::User>(&auth, &tenant, &user_id, UserCommand::Remove)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
