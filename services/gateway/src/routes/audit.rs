use axum::extract::{RawQuery, State};
use axum::Json;
use casewire_eventstore::{Anchor, Fault, Verification};
use casewire_tenancy::Role;
use serde::{Deserialize, Serialize};

use crate::extract::Query;
use crate::{ApiError, Auth, Gateway};

const OFFICERS: &[Role] = &[Role::Compliance, Role::Admin];

/// The result of walking a tenant's hash chain.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(tag = "status", rename_all = "lowercase")]
pub(crate) enum ChainReport {
    /// Every event links to the one before and hashes to what it says, the log ends at its
    /// head, and it passes through every anchor given.
    Intact {
        events: i64,
        head_seq: i64,
        head_hash: String,
    },
    /// The first event that does not hold, and why (docs/audit-chain.md names the faults).
    Broken {
        seq: i64,
        fault: Fault,
        reason: String,
    },
}

impl From<Verification> for ChainReport {
    fn from(v: Verification) -> Self {
        match v {
            Verification::Intact {
                events,
                head_seq,
                head_hash,
            } => ChainReport::Intact {
                events,
                head_seq,
                head_hash,
            },
            Verification::Broken { seq, fault, reason } => {
                ChainReport::Broken { seq, fault, reason }
            }
        }
    }
}

/// Verifies the caller's tenant's audit trail (docs/audit-chain.md). Record the heads you
/// get (or ask `/v1/audit/head`) somewhere the database's administrators cannot write, and
/// pass them back as anchors: the trail must then pass through each.
#[utoipa::path(get, path = "/v1/audit/verify", tag = "audit", security(("api_key" = [])),
    params(("anchor" = Option<Vec<String>>, Query, description = "A head recorded earlier, `<seq>:<hash>` (64 hex digits); repeat for several.")),
    responses(
        (status = 200, body = ChainReport),
        (status = 400, description = "an anchor that is not <seq>:<hash>, or another query parameter"),
        (status = 401, description = "no or bad credential"),
        (status = 403, description = "needs the compliance or admin role"),
    ))]
pub(crate) async fn verify(
    State(gw): State<Gateway>,
    auth: Auth,
    RawQuery(query): RawQuery,
) -> Result<Json<ChainReport>, ApiError> {
    let tenant = auth.own_tenant(OFFICERS)?;
    let anchors = anchors(query.as_deref().unwrap_or_default())?;
    Ok(Json(gw.store().verify(tenant, &anchors).await?.into()))
}

/// The `anchor` parameters, in the order given.
fn anchors(query: &str) -> Result<Vec<Anchor>, ApiError> {
    form_urlencoded::parse(query.as_bytes())
        .map(|(name, value)| match name.as_ref() {
            "anchor" => value.parse().map_err(ApiError::bad_request),
            other => Err(ApiError::bad_request(format!(
                "unknown query parameter {other:?}: this endpoint takes anchor=<seq>:<hash>"
            ))),
        })
        .collect()
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct HeadQuery {
    /// The event whose hash to answer, from 1; the chain's head when left out.
    seq: Option<i64>,
}

/// A point of the chain: an event's seq and its hash.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct ChainPoint {
    seq: i64,
    hash: String,
}

/// The hash of the caller's tenant's event `seq`, or of its head: what a compliance officer
/// records over time, to pass back later as an anchor.
#[utoipa::path(get, path = "/v1/audit/head", tag = "audit", security(("api_key" = [])), params(HeadQuery), responses(
    (status = 200, body = ChainPoint),
    (status = 400, description = "a seq below 1"),
    (status = 401, description = "no or bad credential"),
    (status = 403, description = "needs the compliance or admin role"),
    (status = 404, description = "the trail has no such event"),
))]
pub(crate) async fn head(
    State(gw): State<Gateway>,
    auth: Auth,
    Query(q): Query<HeadQuery>,
) -> Result<Json<ChainPoint>, ApiError> {
    let tenant = auth.own_tenant(OFFICERS)?;
    let point = match q.seq {
        None => gw.store().head(tenant).await?,
        Some(seq) if seq < 1 => return Err(ApiError::bad_request("seq counts from 1")),
        Some(seq) => gw.store().hash_at(tenant, seq).await?.map(|h| (seq, h)),
    };
    let (seq, hash) = point.ok_or_else(|| {
        ApiError::not_found(match q.seq {
            Some(seq) => format!("this tenant's trail has no event {seq}"),
            None => "this tenant's trail has no event yet".to_string(),
        })
    })?;
    Ok(Json(ChainPoint { seq, hash }))
}
