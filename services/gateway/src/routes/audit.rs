use axum::extract::State;
use axum::Json;
use casewire_eventstore::Verification;
use casewire_tenancy::Role;
use serde::Serialize;

use crate::{ApiError, Auth, Gateway};

/// The result of walking a tenant's hash chain.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(tag = "status", rename_all = "lowercase")]
pub(crate) enum ChainReport {
    /// Every event links to the one before and hashes to what it says.
    Intact {
        events: i64,
        head_seq: i64,
        head_hash: String,
    },
    /// The first event that does not hold.
    Broken { seq: i64, reason: String },
}

/// Verifies the caller's tenant's audit trail (docs/audit-chain.md). Record the head you
/// get: a later verification that ends at the same (seq, hash) proves nothing before it
/// changed.
#[utoipa::path(get, path = "/v1/audit/verify", tag = "audit", security(("api_key" = [])), responses(
    (status = 200, body = ChainReport),
    (status = 401, description = "no or bad credential"),
    (status = 403, description = "needs the compliance or admin role"),
))]
pub(crate) async fn verify(
    State(gw): State<Gateway>,
    auth: Auth,
) -> Result<Json<ChainReport>, ApiError> {
    let tenant = auth.own_tenant(&[Role::Compliance, Role::Admin])?;
    Ok(Json(match gw.store().verify(tenant).await? {
        Verification::Intact {
            events,
            head_seq,
            head_hash,
        } => ChainReport::Intact {
            events,
            head_seq,
            head_hash,
        },
        Verification::Broken { seq, reason } => ChainReport::Broken { seq, reason },
    }))
}
