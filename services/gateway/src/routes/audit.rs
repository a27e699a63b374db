use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::Json;
use casewire_events::checkpoint::CheckpointEvent;
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
/// pass them back as anchors, or pass back signed checkpoints: the trail must then pass
/// through each, and the report names the seq where it does not.
#[utoipa::path(get, path = "/v1/audit/verify", tag = "audit", security(("api_key" = [])),
    params(
        ("anchor" = Option<Vec<String>>, Query, description = "A head recorded earlier, `<seq>:<hash>` (64 hex digits); repeat for several."),
        ("checkpoint" = Option<Vec<String>>, Query, description = "A signed checkpoint kept outside casewire, the whole signed note; repeat for several."),
    ),
    responses(
        (status = 200, body = ChainReport),
        (status = 400, description = "an anchor that is not <seq>:<hash>, or another query parameter"),
        (status = 401, description = "no or bad credential"),
        (status = 403, description = "needs the compliance or admin role"),
        (status = 422, description = "a checkpoint whose signature does not verify, or another tenant's"),
    ))]
pub(crate) async fn verify(
    State(gw): State<Gateway>,
    auth: Auth,
    RawQuery(query): RawQuery,
) -> Result<Json<ChainReport>, ApiError> {
    let tenant = auth.own_tenant(OFFICERS)?;
    let mut anchors = Vec::new();
    let mut checkpoints = Vec::new();
    for (name, value) in form_urlencoded::parse(query.as_deref().unwrap_or_default().as_bytes()) {
        match name.as_ref() {
            "anchor" => anchors.push(value.parse().map_err(ApiError::bad_request)?),
            "checkpoint" => checkpoints.push(value.into_owned()),
            other => {
                return Err(ApiError::bad_request(format!(
                    "unknown query parameter {other:?}: this endpoint takes anchor=<seq>:<hash> and checkpoint=<signed note>"
                )))
            }
        }
    }
    if !checkpoints.is_empty() {
        let keys = casewire_audit::checkpoint::verifier_keys(gw.store())
            .await
            .map_err(ApiError::internal)?;
        for note in &checkpoints {
            anchors.push(checkpoint_anchor(tenant, note, &keys)?);
        }
    }
    Ok(Json(gw.store().verify(tenant, &anchors).await?.into()))
}

/// The head a checkpoint of this tenant signed, once its signature verified.
fn checkpoint_anchor(tenant: &str, note: &str, keys: &[String]) -> Result<Anchor, ApiError> {
    let signed = casewire_audit::checkpoint::open(note, keys)
        .map_err(|e| ApiError::unprocessable(format!("checkpoint: {e}")))?;
    if signed.tenant != tenant {
        return Err(ApiError::unprocessable(
            "checkpoint: it is of another tenant's trail",
        ));
    }
    format!("{}:{}", signed.seq, signed.hash)
        .parse()
        .map_err(|e: String| ApiError::unprocessable(format!("checkpoint: {e}")))
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
    /// The key (`api_key:<id>`), a console user (`user:<id>`), `operator`, `twilio` or
    /// `system`.
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
    let limit = page_limit(q.limit, 100)?;
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
        items.push(entry(&gw, tenant, e).await?);
    }
    let read = ReviewEvent::TrailRead {
        filter: query.filter,
        events: items.len() as u32,
        first_seq: items.first().map(|e| e.seq),
        last_seq: items.last().map(|e| e.seq),
    };
    // Recorded before the answer leaves: no page is read that the trail does not show.
    gw.record_look(&auth, tenant, read).await?;
    Ok(Json(page(items, limit)))
}

/// A signed checkpoint of the tenant's trail.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct CheckpointView {
    seq: i64,
    hash: String,
    signed_at: String,
    /// The verifier key that checks it.
    key: String,
    /// The C2SP signed note: keep it outside casewire.
    note: String,
}

impl From<CheckpointEvent> for CheckpointView {
    fn from(e: CheckpointEvent) -> Self {
        let CheckpointEvent::CheckpointSigned {
            seq,
            hash,
            signed_at,
            key,
            note,
        } = e;
        CheckpointView {
            seq,
            hash,
            signed_at,
            key,
            note,
        }
    }
}

/// Signs the tenant's head now. The checkpoint is recorded in the trail, and goes to the
/// webhook endpoints that take `audit.checkpoint`.
#[utoipa::path(post, path = "/v1/audit/checkpoints", tag = "audit", security(("api_key" = [])), responses(
    (status = 201, body = CheckpointView, description = "signed"),
    (status = 200, body = CheckpointView, description = "this head was signed already"),
    (status = 403, description = "needs the compliance or admin role"),
    (status = 404, description = "the trail has no event yet"),
))]
pub(crate) async fn checkpoint(
    State(gw): State<Gateway>,
    auth: Auth,
) -> Result<(StatusCode, Json<CheckpointView>), ApiError> {
    let tenant = auth.own_tenant(OFFICERS)?;
    let keys = gw.audit_keys().await?;
    let signed = casewire_audit::checkpoint::sign(gw.store(), &keys, tenant, auth.metadata())
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(|| ApiError::not_found("this tenant's trail has no event yet"))?;
    let status = match signed.now {
        true => StatusCode::CREATED,
        false => StatusCode::OK,
    };
    Ok((status, Json(signed.checkpoint.into())))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct CheckpointsQuery {
    /// The `next_after` of the page before.
    #[param(minimum = 0)]
    after_seq: Option<i64>,
    /// 1 to 1000; 100 when left out.
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<i64>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct CheckpointPage {
    items: Vec<CheckpointView>,
    /// Pass as `after_seq` for the next page; null on the last.
    next_after: Option<i64>,
}

/// The tenant's checkpoints, oldest first.
#[utoipa::path(get, path = "/v1/audit/checkpoints", tag = "audit", security(("api_key" = [])), params(CheckpointsQuery), responses(
    (status = 200, body = CheckpointPage),
    (status = 403, description = "needs the compliance or admin role"),
))]
pub(crate) async fn checkpoints(
    State(gw): State<Gateway>,
    auth: Auth,
    Query(q): Query<CheckpointsQuery>,
) -> Result<Json<CheckpointPage>, ApiError> {
    let tenant = auth.own_tenant(OFFICERS)?;
    let limit = page_limit(q.limit, 100)?;
    let filter = TrailFilter {
        after_seq: q.after_seq,
        event_type: Some("CheckpointSigned".into()),
        ..TrailFilter::default()
    };
    let query = casewire_audit::trail::query(filter).map_err(ApiError::unprocessable)?;
    let events = casewire_audit::trail::read(gw.store(), tenant, &query, limit).await?;
    let next_after = (events.len() as i64 == limit)
        .then(|| events.last().map(|e| e.tenant_seq))
        .flatten();
    let items = events
        .iter()
        .map(|e| e.decode::<CheckpointEvent>().map(CheckpointView::from))
        .collect::<Result<_, _>>()
        .map_err(ApiError::internal)?;
    Ok(Json(CheckpointPage { items, next_after }))
}

/// The keys that verify checkpoints, in the signed-note form (`<name>+<key id>+<base64>`).
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct PublicKeys {
    /// The key that signs checkpoints now.
    key: String,
    /// Keys that signed earlier ones, newest first.
    retired: Vec<String>,
}

/// The platform's checkpoint verifier keys: public, for any signed-note library.
#[utoipa::path(get, path = "/v1/audit/public-key", tag = "audit", security(("api_key" = []), ("operator" = [])), responses(
    (status = 200, body = PublicKeys),
))]
pub(crate) async fn public_key(
    State(gw): State<Gateway>,
    _: Auth,
) -> Result<Json<PublicKeys>, ApiError> {
    let mut keys = gw.audit_keys().await?.all;
    let key = keys.remove(0);
    Ok(Json(PublicKeys { key, retired: keys }))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct ExportQuery {
    /// Events after this seq.
    #[param(minimum = 0)]
    after_seq: Option<i64>,
    /// Only the case's events (its rows are then in pieces, each verified on its own).
    #[param(max_length = 128)]
    case_id: Option<String>,
    /// Recorded at or after this instant (RFC 3339).
    #[param(format = DateTime)]
    from: Option<String>,
    /// Recorded before this instant (RFC 3339).
    #[param(format = DateTime)]
    to: Option<String>,
    /// true (the default): the rows as stored, sealed fields as ciphertext, for someone
    /// who may not read clients' texts (a funder's auditor); false: each row also with an
    /// `opened` copy of its payload.
    redacted: Option<bool>,
}

/// Exports the tenant's trail as JSON Lines: every row exactly as stored and hashed
/// (verifiable offline, docs/audit-chain.md), then a manifest line with the count, the
/// first and last seq and hash, and the signed checkpoint that covers it. An export with
/// no `to` and no case signs the head first and ends there. The export is recorded in the
/// trail (`TrailExported`).
#[utoipa::path(get, path = "/v1/audit/export", tag = "audit", security(("api_key" = [])), params(ExportQuery), responses(
    (status = 200, description = "JSON Lines, streamed", content_type = "application/jsonl"),
    (status = 403, description = "needs the compliance or admin role"),
    (status = 422, description = "what is wrong with a filter"),
))]
pub(crate) async fn export(
    State(gw): State<Gateway>,
    auth: Auth,
    Query(q): Query<ExportQuery>,
) -> Result<axum::response::Response, ApiError> {
    use axum::response::IntoResponse;
    let tenant = auth.own_tenant(OFFICERS)?.to_string();
    let filter = TrailFilter {
        after_seq: q.after_seq,
        case_id: q.case_id,
        from: q.from,
        to: q.to,
        ..TrailFilter::default()
    };
    casewire_audit::trail::query(filter.clone()).map_err(ApiError::unprocessable)?;
    let redacted = q.redacted.unwrap_or(true);
    let keys = gw.audit_keys().await?;
    let export = casewire_audit::export::Export::begin(
        gw.store(),
        &tenant,
        filter.clone(),
        redacted,
        &keys,
        auth.metadata(),
    )
    .await
    .map_err(ApiError::internal)?;
    gw.record_look(
        &auth,
        &tenant,
        ReviewEvent::TrailExported { filter, redacted },
    )
    .await?;
    let lines = futures::stream::try_unfold(export, |mut export| async move {
        let lines = export.next_lines().await.map_err(|e| {
            tracing::error!(error = %e, "an export stopped half-way");
            std::io::Error::other("the export stopped half-way; its manifest is missing")
        })?;
        Ok::<_, std::io::Error>(lines.map(|l| (axum::body::Bytes::from(l), export)))
    });
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, "application/jsonl"),
            (axum::http::header::CACHE_CONTROL, "private, no-store"),
        ],
        axum::body::Body::from_stream(lines),
    )
        .into_response())
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct SearchQuery {
    /// The words to find, all of them, whole, in any order (1 to 10 words).
    #[param(min_length = 1, max_length = 200)]
    q: String,
    /// Sent or received at or after this instant (RFC 3339).
    #[param(format = DateTime)]
    from: Option<String>,
    /// Sent or received before this instant (RFC 3339).
    #[param(format = DateTime)]
    to: Option<String>,
    #[param(max_length = 128)]
    case_id: Option<String>,
    /// 1 to 100; 50 when left out.
    #[param(minimum = 1, maximum = 100)]
    limit: Option<i64>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct SearchResults {
    /// Newest first.
    items: Vec<casewire_audit::search::Found>,
}

/// Finds clients' texts by the words in them (compliance officers only). Each search is
/// recorded in the trail (`Searched`, its words sealed).
#[utoipa::path(get, path = "/v1/search", tag = "review", security(("api_key" = [])), params(SearchQuery), responses(
    (status = 200, body = SearchResults),
    (status = 403, description = "needs the compliance role"),
    (status = 422, description = "no word to find, too many, or a bad instant"),
))]
pub(crate) async fn search(
    State(gw): State<Gateway>,
    auth: Auth,
    Query(q): Query<SearchQuery>,
) -> Result<Json<SearchResults>, ApiError> {
    let tenant = auth.own_tenant(&[Role::Compliance])?;
    let words = casewire_audit::search::words(&q.q).map_err(ApiError::unprocessable)?;
    // The same checks and instants as the trail's filters.
    let window = casewire_audit::trail::query(TrailFilter {
        case_id: q.case_id.clone(),
        from: q.from.clone(),
        to: q.to.clone(),
        ..TrailFilter::default()
    })
    .map_err(ApiError::unprocessable)?;
    let limit = q.limit.unwrap_or(50);
    if !(1..=100).contains(&limit) {
        return Err(ApiError::unprocessable("limit must be between 1 and 100"));
    }
    let search = casewire_audit::search::Search {
        words: words.clone(),
        case_id: q.case_id.clone(),
        from: window.from().map(str::to_string),
        to: window.to().map(str::to_string),
        limit,
    };
    let items = casewire_audit::search::search(gw.store(), tenant, &search)
        .await
        .map_err(ApiError::internal)?;
    let searched = ReviewEvent::Searched {
        words: casewire_events::Sealed::new(SEARCHES_SUBJECT, words.join(" ")),
        case_id: q.case_id,
        from: q.from,
        to: q.to,
        found: items.len() as u32,
    };
    gw.record_look(&auth, tenant, searched).await?;
    Ok(Json(SearchResults { items }))
}

/// The data subject searches' words are sealed for: the tenant's reviews, not a client.
const SEARCHES_SUBJECT: &str = "review:searches";

/// An event of the trail as the API shows it: the row, its actor lifted out of the
/// metadata, its payload opened.
pub(crate) async fn entry(
    gw: &Gateway,
    tenant: &str,
    e: &casewire_events::RecordedEvent,
) -> Result<TrailEntry, ApiError> {
    let metadata: serde_json::Value =
        serde_json::from_str(&e.metadata).map_err(ApiError::internal)?;
    let field = |k: &str| metadata.get(k).and_then(|v| v.as_str()).map(str::to_string);
    Ok(TrailEntry {
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
    })
}

/// A page of events, and where the next begins.
pub(crate) fn page(items: Vec<TrailEntry>, limit: i64) -> TrailPage {
    let next_after = (items.len() as i64 == limit)
        .then(|| items.last().map(|e| e.seq))
        .flatten();
    TrailPage { items, next_after }
}

/// A page's `limit`: 1 to 1000, `default` when left out.
pub(crate) fn page_limit(limit: Option<i64>, default: i64) -> Result<i64, ApiError> {
    let limit = limit.unwrap_or(default);
    if !(1..=casewire_audit::trail::MAX_PAGE).contains(&limit) {
        return Err(ApiError::unprocessable("limit must be between 1 and 1000"));
    }
    Ok(limit)
}
