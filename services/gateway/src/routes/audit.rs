use axum::extract::{RawQuery, State};
use axum::Json;
use casewire_events::review::{ReviewEvent, TrailFilter};
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

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct EventsQuery {
    /// The `next_after` of the page before; from the first event when left out.
    #[param(minimum = 0)]
    after_seq: Option<i64>,
    /// 1 to 1000; 100 when left out.
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<i64>,
    /// The events of the case: the case, its texts with every step, their routing,
    /// reminders and appointments.
    #[param(max_length = 128)]
    case_id: Option<String>,
    /// The events of the client's number (E.164): their texts, consent and cases.
    #[param(max_length = 16)]
    phone: Option<String>,
    /// The events done on behalf of this person (`Casewire-On-Behalf-Of`, a bound key).
    #[param(max_length = 128)]
    advocate: Option<String>,
    /// The events of this type, such as `OutboundQueued`.
    #[serde(rename = "type")]
    #[param(rename = "type", max_length = 128)]
    event_type: Option<String>,
    /// Recorded at or after this instant (RFC 3339).
    #[param(format = DateTime)]
    from: Option<String>,
    /// Recorded before this instant (RFC 3339).
    #[param(format = DateTime)]
    to: Option<String>,
}

/// One event of the trail, as stored and hashed, with its sealed fields opened.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct TrailEntry {
    seq: i64,
    event_id: String,
    aggregate_type: String,
    aggregate_id: String,
    #[serde(rename = "type")]
    event_type: String,
    /// The key (`api_key:<id>`), `operator`, `twilio` or `system`.
    actor: Option<String>,
    /// The person the key acted for.
    on_behalf_of: Option<String>,
    /// The whole metadata as stored: request, correlation and causation ids, trace.
    metadata: serde_json::Value,
    recorded_at: String,
    prev_hash: String,
    hash: String,
    /// The payload; each sealed field is `{"$sealed": {"subject": …, "value": …}}` opened,
    /// or `{"$sealed": {"subject": …, "erased": true}}` once its client was erased.
    payload: serde_json::Value,
}

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct TrailPage {
    items: Vec<TrailEntry>,
    /// Pass as `after_seq` for the next page; null on the last.
    next_after: Option<i64>,
}

/// The caller's tenant's audit trail, oldest first, filtered, with sealed fields opened.
/// Each page read is itself recorded in the trail (`TrailRead`), naming the key and person.
#[utoipa::path(get, path = "/v1/audit/events", tag = "audit", security(("api_key" = [])), params(EventsQuery), responses(
    (status = 200, body = TrailPage),
    (status = 401, description = "no or bad credential"),
    (status = 403, description = "needs the compliance or admin role"),
    (status = 422, description = "what is wrong with a filter or the limit"),
))]
pub(crate) async fn events(
    State(gw): State<Gateway>,
    auth: Auth,
    Query(q): Query<EventsQuery>,
) -> Result<Json<TrailPage>, ApiError> {
    let tenant = auth.own_tenant(OFFICERS)?;
    let limit = q.limit.unwrap_or(100);
    if !(1..=casewire_audit::trail::MAX_PAGE).contains(&limit) {
        return Err(ApiError::unprocessable("limit must be between 1 and 1000"));
    }
    let filter = TrailFilter {
        after_seq: q.after_seq,
        case_id: q.case_id,
        phone: q.phone,
        advocate: q.advocate,
        event_type: q.event_type,
        from: q.from,
        to: q.to,
    };
    let query = casewire_audit::trail::query(filter).map_err(ApiError::unprocessable)?;
    let events = casewire_audit::trail::read(gw.store(), tenant, &query, limit).await?;
    let mut items = Vec::with_capacity(events.len());
    for e in &events {
        let metadata: serde_json::Value =
            serde_json::from_str(&e.metadata).map_err(ApiError::internal)?;
        let field = |k: &str| metadata.get(k).and_then(|v| v.as_str()).map(str::to_string);
        items.push(TrailEntry {
            seq: e.tenant_seq,
            event_id: e.event_id.clone(),
            aggregate_type: e.aggregate_type.clone(),
            aggregate_id: e.aggregate_id.clone(),
            event_type: e.event_type.clone(),
            actor: field("actor"),
            on_behalf_of: field("on_behalf_of"),
            recorded_at: e.recorded_at.clone(),
            prev_hash: e.prev_hash.clone(),
            hash: e.hash.clone(),
            payload: gw.store().open_payload(tenant, &e.payload).await?,
            metadata,
        });
    }
    let read = ReviewEvent::TrailRead {
        filter: query.filter,
        events: items.len() as u32,
        first_seq: items.first().map(|e| e.seq),
        last_seq: items.last().map(|e| e.seq),
    };
    // Recorded before the answer leaves: no page is read that the trail does not show.
    gw.record_look(&auth, tenant, read).await?;
    let next_after = (items.len() as i64 == limit)
        .then(|| items.last().map(|e| e.seq))
        .flatten();
    Ok(Json(TrailPage { items, next_after }))
}
