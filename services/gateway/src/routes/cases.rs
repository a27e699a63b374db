//! Cases and their texts.

use axum::extract::State;
use axum::http::StatusCode;
use casewire_contract::audience::{DateRange, Filter, StatusFilter};
use casewire_contract::case_link::{CaseInput, CaseView, CorrectRouting, PutCase, Routed};
use casewire_contract::messaging::{MessageView, Send};
use casewire_events::message::Purpose;
use casewire_tenancy::Role;
use serde::Deserialize;

use crate::extract::{Json, Path, Query};
use crate::{ApiError, Auth, Gateway};

/// Who works with cases and texts.
pub(crate) const TEXTING: &[Role] = &[Role::Admin, Role::Advocate, Role::Integration];
/// Who may read them: also compliance officers.
pub(crate) const READING: &[Role] = &[
    Role::Admin,
    Role::Advocate,
    Role::Integration,
    Role::Compliance,
];

/// A CMS's own case id: what fits in a URL path segment without escaping surprises.
/// A CMS's own id (a case's, an appointment's): what fits in a URL path unescaped.
pub(crate) fn check_id(what: &str, id: &str) -> Result<(), ApiError> {
    if id.is_empty()
        || id.len() > 128
        || !id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.:".contains(c))
    {
        return Err(ApiError::bad_request(format!(
            "{what} must be 1 to 128 characters of letters, digits, '-', '_', '.' or ':'"
        )));
    }
    Ok(())
}

/// Links a CMS case to casewire, or updates it. The CMS sends the whole case each time.
#[utoipa::path(put, path = "/v1/cases/{case_id}", tag = "cases", security(("api_key" = [])), request_body = PutCase, responses(
    (status = 201, body = CaseView, description = "linked"),
    (status = 200, body = CaseView, description = "updated, or unchanged"),
    (status = 422, description = "what is wrong with the case"),
))]
pub(crate) async fn put(
    State(gw): State<Gateway>,
    auth: Auth,
    Path(case_id): Path<String>,
    Json(case): Json<CaseInput>,
) -> Result<(StatusCode, axum::Json<CaseView>), ApiError> {
    let tenant = auth.own_tenant(TEXTING)?.to_string();
    check_id("case_id", &case_id)?;
    if let Some(advocate) = auth.advocate() {
        // A bound key links and edits only its advocate's cases, and keeps them its own.
        in_scope(&gw, &auth, &tenant, &case_id).await?;
        if !case.advocates.iter().any(|a| a == advocate) {
            return Err(ApiError::unprocessable(format!(
                "advocates: this key is bound to advocate {advocate:?}, so the case must list them"
            )));
        }
    }
    let put = gw.ask(&auth, &tenant, PutCase { case_id, case }).await?;
    let status = if put.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, axum::Json(put.case)))
}

/// Shows a case.
#[utoipa::path(get, path = "/v1/cases/{case_id}", tag = "cases", security(("api_key" = [])), responses(
    (status = 200, body = CaseView),
    (status = 404, description = "no such case (or another tenant's)"),
))]
pub(crate) async fn show(
    State(gw): State<Gateway>,
    auth: Auth,
    Path(case_id): Path<String>,
) -> Result<axum::Json<CaseView>, ApiError> {
    let tenant = auth.own_tenant(READING)?;
    find_case(&gw, &auth, tenant, &case_id)
        .await
        .map(axum::Json)
}

/// The case, if this caller may see it: a case a bound key's advocate is not on is a 404,
/// as another tenant's is.
pub(crate) async fn find_case(
    gw: &Gateway,
    auth: &Auth,
    tenant: &str,
    case_id: &str,
) -> Result<CaseView, ApiError> {
    casewire_case_link::cases::find(gw.store(), tenant, case_id)
        .await
        .map_err(ApiError::internal)?
        .filter(|case| auth.sees_case(&case.advocates))
        .ok_or_else(|| ApiError::not_found("no such case"))
}

/// For a bound key, that the case exists and lists its advocate (a 404 if not); for any
/// other key nothing to check here: the service answers for the case, with no extra read.
pub(crate) async fn in_scope(
    gw: &Gateway,
    auth: &Auth,
    tenant: &str,
    case_id: &str,
) -> Result<(), ApiError> {
    if auth.advocate().is_none() {
        return Ok(());
    }
    match casewire_case_link::cases::find(gw.store(), tenant, case_id)
        .await
        .map_err(ApiError::internal)?
    {
        Some(case) if !auth.sees_case(&case.advocates) => Err(ApiError::not_found("no such case")),
        _ => Ok(()),
    }
}

/// `GET /v1/cases`: the audience filter's keys as query parameters, lists comma-separated.
#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct CaseListQuery {
    /// open, closed or any (the default).
    #[param(pattern = "^(open|closed|any)$")]
    status: Option<String>,
    /// Comma-separated: cases with any of these problem codes.
    problem_codes: Option<String>,
    /// Comma-separated.
    offices: Option<String>,
    /// Comma-separated: cases that list any of these advocates.
    advocates: Option<String>,
    /// Comma-separated language tags; `es` takes `es-MX` too.
    languages: Option<String>,
    /// Comma-separated case ids.
    case_ids: Option<String>,
    /// YYYY-MM-DD, both ends included, on the case's `opened_at`.
    #[param(format = Date)]
    opened_from: Option<String>,
    #[param(format = Date)]
    opened_to: Option<String>,
    /// YYYY-MM-DD, both ends included, on the case's `closed_at`.
    #[param(format = Date)]
    closed_from: Option<String>,
    #[param(format = Date)]
    closed_to: Option<String>,
    /// The `next_after` of the page before.
    #[param(max_length = 128)]
    after: Option<String>,
    /// 1 to 200; 50 when left out.
    #[param(minimum = 1, maximum = 200)]
    limit: Option<i64>,
}

impl CaseListQuery {
    /// The filter these parameters spell, checked.
    fn filter(&self) -> Result<Filter, ApiError> {
        let list = |v: &Option<String>| {
            v.as_deref()
                .map(|v| v.split(',').map(|s| s.trim().to_string()).collect())
                .unwrap_or_default()
        };
        let range = |from: &Option<String>, to: &Option<String>| {
            (from.is_some() || to.is_some()).then(|| DateRange {
                from: from.clone(),
                to: to.clone(),
            })
        };
        let status = match self.status.as_deref() {
            None | Some("any") => None,
            Some("open") => Some(StatusFilter::Open),
            Some("closed") => Some(StatusFilter::Closed),
            Some(s) => {
                return Err(ApiError::unprocessable(format!(
                    "status must be open, closed or any, not {s:?}"
                )))
            }
        };
        let filter = Filter {
            problem_codes: list(&self.problem_codes),
            status,
            offices: list(&self.offices),
            advocates: list(&self.advocates),
            languages: list(&self.languages),
            opened: range(&self.opened_from, &self.opened_to),
            closed: range(&self.closed_from, &self.closed_to),
            case_ids: list(&self.case_ids),
        };
        filter.check().map_err(ApiError::unprocessable)?;
        Ok(filter)
    }
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct CaseList {
    items: Vec<CaseView>,
    /// Pass as `after` for the next page; null on the last.
    next_after: Option<String>,
}

/// The tenant's cases that the filter picks, by case id, a page at a time: for the CMS to
/// check what casewire holds, and to see whom an audience filter takes.
#[utoipa::path(get, path = "/v1/cases", tag = "cases", security(("api_key" = [])), params(CaseListQuery), responses(
    (status = 200, body = CaseList),
    (status = 422, description = "what is wrong with the filter, limit or after"),
))]
pub(crate) async fn list(
    State(gw): State<Gateway>,
    auth: Auth,
    Query(q): Query<CaseListQuery>,
) -> Result<axum::Json<CaseList>, ApiError> {
    let tenant = auth.own_tenant(READING)?;
    let mut filter = q.filter()?;
    if let Some(advocate) = auth.advocate() {
        // A bound key lists its advocate's cases, whatever advocates it asks for.
        if !(filter.advocates.is_empty() || filter.advocates.iter().any(|a| a == advocate)) {
            return Ok(axum::Json(CaseList {
                items: vec![],
                next_after: None,
            }));
        }
        filter.advocates = vec![advocate.to_string()];
    }
    let limit = q.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(ApiError::unprocessable("limit must be between 1 and 200"));
    }
    let after = q.after.clone().unwrap_or_default();
    if after.len() > 128 {
        return Err(ApiError::unprocessable(
            "after must be the next_after of the page before: a case id of at most 128 characters",
        ));
    }
    let items =
        casewire_case_link::cases::list(gw.store(), tenant, &filter, &after, limit as usize)
            .await
            .map_err(ApiError::internal)?;
    let next_after = (items.len() as i64 == limit)
        .then(|| items.last().map(|c| c.id.clone()))
        .flatten();
    Ok(axum::Json(CaseList { items, next_after }))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SendMessage {
    /// At most 1600 characters. Sealed in the log.
    #[schema(min_length = 1, max_length = 1600)]
    body: String,
    /// conversation (default): an advocate's text, sent unless the client opted out (or,
    /// by the tenant's policy, only with consent); reminder or bulk: needs the client's
    /// consent, and waits out quiet hours.
    #[schema(pattern = "^(conversation|reminder|bulk)$")]
    purpose: Option<String>,
    /// Uploads to send with it, by their ids (`POST /v1/cases/{case_id}/attachments`): the
    /// text then goes as one MMS, at most 10 of them and 5 MB in all.
    #[serde(default)]
    #[schema(max_items = 10)]
    attachments: Vec<String>,
}

/// Texts the case's client. The answer says how many segments it costs and its estimated price.
#[utoipa::path(post, path = "/v1/cases/{case_id}/messages", tag = "messages", security(("api_key" = [])), request_body = SendMessage, params(
    ("Idempotency-Key" = Option<String>, Header, description = "a retry with the same key returns the first answer and sends nothing twice"),
), responses(
    (status = 202, body = MessageView, description = "accepted; it is sent in the background"),
    (status = 404, description = "no such case (or another tenant's)"),
    (status = 409, description = "the client's consent does not allow this text (the refusal is recorded), or the tenant has no SMS provider"),
    (status = 422, description = "the body is empty or over 1600 characters, or an unknown purpose"),
))]
pub(crate) async fn send(
    State(gw): State<Gateway>,
    auth: Auth,
    Path(case_id): Path<String>,
    Json(body): Json<SendMessage>,
) -> Result<(StatusCode, axum::Json<MessageView>), ApiError> {
    let tenant = auth.own_tenant(TEXTING)?.to_string();
    check_id("case_id", &case_id)?;
    in_scope(&gw, &auth, &tenant, &case_id).await?;
    let purpose = match body.purpose.as_deref() {
        None | Some("conversation") => Purpose::Conversation,
        Some("reminder") => Purpose::Reminder,
        Some("bulk") => Purpose::Bulk,
        Some(other) => {
            return Err(ApiError::unprocessable(format!(
                "purpose must be conversation, reminder or bulk, not {other:?}"
            )))
        }
    };
    let send = Send {
        id: auth.idempotent_id(),
        case_id,
        body: body.body,
        purpose,
        attachments: body.attachments,
    };
    let view = gw.ask(&auth, &tenant, send).await?;
    Ok((StatusCode::ACCEPTED, axum::Json(view)))
}

/// The case's thread: every text, both directions, oldest first.
#[utoipa::path(get, path = "/v1/cases/{case_id}/messages", tag = "messages", security(("api_key" = [])), responses(
    (status = 200, body = [MessageView]),
    (status = 404, description = "no such case (or another tenant's)"),
))]
pub(crate) async fn thread(
    State(gw): State<Gateway>,
    auth: Auth,
    Path(case_id): Path<String>,
) -> Result<axum::Json<Vec<MessageView>>, ApiError> {
    let tenant = auth.own_tenant(READING)?;
    find_case(&gw, &auth, tenant, &case_id).await?;
    let thread = casewire_messaging::messages::thread(gw.store(), tenant, &case_id)
        .await
        .map_err(ApiError::internal)?;
    looked(&gw, &auth, tenant, Some(&case_id), None, thread.len()).await?;
    Ok(axum::Json(thread))
}

/// Records a compliance officer's read of clients' texts in the trail, before the answer
/// leaves ("who looked at what"). Those who work the cases read them all day: not theirs.
pub(crate) async fn looked(
    gw: &Gateway,
    auth: &Auth,
    tenant: &str,
    case_id: Option<&str>,
    message_id: Option<&str>,
    texts: usize,
) -> Result<(), ApiError> {
    if !auth.reviews() {
        return Ok(());
    }
    let read = casewire_events::review::ReviewEvent::TextsRead {
        case_id: case_id.map(str::to_string),
        message_id: message_id.map(str::to_string),
        texts: texts as u32,
    };
    gw.record_look(auth, tenant, read).await
}

/// One text.
#[utoipa::path(get, path = "/v1/messages/{message_id}", tag = "messages", security(("api_key" = [])), responses(
    (status = 200, body = MessageView),
    (status = 404, description = "no such message (or another tenant's)"),
))]
pub(crate) async fn message(
    State(gw): State<Gateway>,
    auth: Auth,
    Path(message_id): Path<String>,
) -> Result<axum::Json<MessageView>, ApiError> {
    let tenant = auth.own_tenant(READING)?;
    let message = visible_message(&gw, &auth, tenant, &message_id).await?;
    looked(&gw, &auth, tenant, None, Some(&message_id), 1).await?;
    Ok(axum::Json(message))
}

/// The text, if this caller may see it: a bound key sees only texts on its advocate's cases.
async fn visible_message(
    gw: &Gateway,
    auth: &Auth,
    tenant: &str,
    message_id: &str,
) -> Result<MessageView, ApiError> {
    let message = casewire_messaging::messages::find(gw.store(), tenant, message_id)
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(|| ApiError::not_found("no such message"))?;
    if auth.advocate().is_some() {
        let case = message.case_id.as_deref().unwrap_or_default();
        find_case(gw, auth, tenant, case)
            .await
            .map_err(|_| ApiError::not_found("no such message"))?;
    }
    Ok(message)
}

/// One picture or file a client sent with a text (MMS), as casewire keeps it (sealed with
/// the client's data key, opened for this answer). Its `sha256` on the message says what
/// these bytes hash to.
#[utoipa::path(get, path = "/v1/messages/{message_id}/media/{n}", tag = "messages", security(("api_key" = [])), params(
    ("n" = u32, Path, description = "its place among the text's media, from 0"),
), responses(
    (status = 200, description = "its bytes, with its Content-Type", content_type = "application/octet-stream"),
    (status = 404, description = "no such message or media (or another tenant's), or erased with the client"),
))]
pub(crate) async fn media(
    State(gw): State<Gateway>,
    auth: Auth,
    Path((message_id, n)): Path<(String, u32)>,
) -> Result<axum::response::Response, ApiError> {
    let tenant = auth.own_tenant(READING)?;
    if auth.advocate().is_some() {
        visible_message(&gw, &auth, tenant, &message_id).await?;
    }
    let (content_type, bytes) = casewire_messaging::media::read(gw.store(), tenant, &message_id, n)
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(|| ApiError::not_found("no such picture or file"))?;
    looked(&gw, &auth, tenant, None, Some(&message_id), 1).await?;
    Ok(papers(content_type, bytes))
}

/// A client's papers as an answer: their type, not cached, not sniffed into something else.
fn papers(content_type: String, bytes: Vec<u8>) -> axum::response::Response {
    use axum::http::header;
    use axum::response::IntoResponse;
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "private, no-store".to_string()),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_string()),
        ],
        bytes,
    )
        .into_response()
}

/// Uploads a document or picture to send with a text to the case's client (an MMS): the
/// body is its bytes, its `Content-Type` what it is (JPEG, PNG, GIF, HEIC, WebP or PDF), at
/// most 5 MB. Kept sealed with the client's data key; name its `id` in the text's
/// `attachments` within 24 hours, or it is removed.
#[utoipa::path(post, path = "/v1/cases/{case_id}/attachments", tag = "messages", security(("api_key" = [])),
    request_body(content = Vec<u8>, content_type = "application/pdf", description = "the file's bytes"),
    responses(
    (status = 201, body = casewire_messaging::attachments::AttachmentView, description = "kept; send it within 24 hours"),
    (status = 404, description = "no such case (or another tenant's)"),
    (status = 413, description = "over 5 MB"),
    (status = 415, description = "not a type Twilio sends: pictures and PDFs"),
))]
pub(crate) async fn upload(
    State(gw): State<Gateway>,
    auth: Auth,
    Path(case_id): Path<String>,
    headers: axum::http::HeaderMap,
    bytes: axum::body::Bytes,
) -> Result<
    (
        StatusCode,
        axum::Json<casewire_messaging::attachments::AttachmentView>,
    ),
    ApiError,
> {
    let tenant = auth.own_tenant(TEXTING)?.to_string();
    check_id("case_id", &case_id)?;
    let case = find_case(&gw, &auth, &tenant, &case_id).await?;
    let content_type = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let kept = casewire_messaging::attachments::upload(
        gw.store(),
        &tenant,
        &case_id,
        &case.client.phone,
        content_type,
        &bytes,
    )
    .await
    .map_err(ApiError::internal)?;
    match kept {
        Ok(view) => Ok((StatusCode::CREATED, axum::Json(view))),
        Err(reason) if bytes.len() as u64 > casewire_messaging::media::MAX_BYTES => {
            Err(ApiError::with_status(StatusCode::PAYLOAD_TOO_LARGE, reason))
        }
        Err(reason) if bytes.is_empty() => Err(ApiError::unprocessable(reason)),
        Err(reason) => Err(ApiError::with_status(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            reason,
        )),
    }
}

/// What Twilio fetches to send an advocate's attachment: the link the dispatcher gave it,
/// sealed and short-lived. No key: Twilio sends none.
pub(crate) async fn attachment_by_link(
    State(gw): State<Gateway>,
    Path(token): Path<String>,
) -> Result<axum::response::Response, ApiError> {
    let (content_type, bytes) = casewire_messaging::attachments::by_link(gw.store(), &token)
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(|| ApiError::not_found("no such link, or it has ended"))?;
    Ok(papers(content_type, bytes))
}

/// Inbound texts from numbers that belong to no case, oldest first.
#[utoipa::path(get, path = "/v1/inbox/unrouted", tag = "messages", security(("api_key" = [])), responses(
    (status = 200, body = [MessageView]),
))]
pub(crate) async fn unrouted(
    State(gw): State<Gateway>,
    auth: Auth,
) -> Result<axum::Json<Vec<MessageView>>, ApiError> {
    let tenant = auth.own_tenant(READING)?;
    auth.whole_tenant("the unrouted inbox")?;
    casewire_messaging::messages::unrouted(gw.store(), tenant)
        .await
        .map(axum::Json)
        .map_err(ApiError::internal)
}

/// Clients' texts that may revoke consent and do not clearly ("stop calling me", "wrong
/// number"), oldest first, each with its `flag`: the client was sent one clarification
/// ("Reply STOP to stop all texts from …"); staff decide what else to do.
#[utoipa::path(get, path = "/v1/inbox/flagged", tag = "messages", security(("api_key" = [])), responses(
    (status = 200, body = [MessageView]),
))]
pub(crate) async fn flagged(
    State(gw): State<Gateway>,
    auth: Auth,
) -> Result<axum::Json<Vec<MessageView>>, ApiError> {
    let tenant = auth.own_tenant(READING)?;
    auth.whole_tenant("the flagged inbox")?;
    casewire_messaging::messages::flagged(gw.store(), tenant)
        .await
        .map(axum::Json)
        .map_err(ApiError::internal)
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct FileOnCase {
    /// The case the text belongs on.
    #[schema(pattern = "^[A-Za-z0-9_.:-]{1,128}$")]
    case_id: String,
}

/// Files a client's text on another case, correcting the routing (or taking it out of the
/// unrouted inbox). The correction is an event; the CMS gets the text again as
/// `message.inbound` with reason `corrected`.
#[utoipa::path(put, path = "/v1/messages/{message_id}/case", tag = "messages", security(("api_key" = [])), request_body = FileOnCase, responses(
    (status = 200, body = Routed, description = "filed on the case"),
    (status = 404, description = "no such inbound text or case (or another tenant's)"),
    (status = 409, description = "the text is not routed yet"),
))]
pub(crate) async fn file_on_case(
    State(gw): State<Gateway>,
    auth: Auth,
    Path(message_id): Path<String>,
    Json(body): Json<FileOnCase>,
) -> Result<axum::Json<Routed>, ApiError> {
    let tenant = auth.own_tenant(TEXTING)?.to_string();
    auth.whole_tenant("filing the unrouted inbox")?;
    check_id("case_id", &body.case_id)?;
    let inbound = casewire_messaging::messages::find(gw.store(), &tenant, &message_id)
        .await
        .map_err(ApiError::internal)?
        .filter(|m| m.direction == "inbound");
    if inbound.is_none() {
        return Err(ApiError::not_found("no such inbound text"));
    }
    let correct = CorrectRouting {
        message_id,
        case_id: body.case_id,
    };
    Ok(axum::Json(gw.ask(&auth, &tenant, correct).await?))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct TimelineQuery {
    /// The `next_after` of the page before.
    #[param(minimum = 0)]
    after_seq: Option<i64>,
    /// 1 to 1000; 200 when left out.
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<i64>,
}

/// Everything that happened on a case, in order, as the trail records it: the case's
/// edits, its texts both ways with every status and refusal, routing and corrections,
/// reminders and appointments, and its client's consent. Sealed fields opened.
#[utoipa::path(get, path = "/v1/cases/{case_id}/timeline", tag = "cases", security(("api_key" = [])), params(TimelineQuery), responses(
    (status = 200, body = crate::routes::audit::TrailPage),
    (status = 404, description = "no such case (or another tenant's, or not a bound key's)"),
    (status = 422, description = "a bad limit or after_seq"),
))]
pub(crate) async fn timeline(
    State(gw): State<Gateway>,
    auth: Auth,
    Path(case_id): Path<String>,
    Query(q): Query<TimelineQuery>,
) -> Result<axum::Json<crate::routes::audit::TrailPage>, ApiError> {
    let tenant = auth.own_tenant(READING)?;
    let case = find_case(&gw, &auth, tenant, &case_id).await?;
    let limit = crate::routes::audit::page_limit(q.limit, 200)?;
    if q.after_seq.is_some_and(|s| s < 0) {
        return Err(ApiError::unprocessable("after_seq counts from 0"));
    }
    let events = casewire_audit::trail::timeline(
        gw.store(),
        tenant,
        &case_id,
        &case.client.phone,
        q.after_seq.unwrap_or(0),
        limit,
    )
    .await?;
    let mut items = Vec::with_capacity(events.len());
    for e in &events {
        items.push(crate::routes::audit::entry(&gw, tenant, e).await?);
    }
    let texts = events
        .iter()
        .filter(|e| ["OutboundQueued", "InboundReceived"].contains(&e.event_type.as_str()))
        .count();
    looked(&gw, &auth, tenant, Some(&case_id), None, texts).await?;
    Ok(axum::Json(crate::routes::audit::page(items, limit)))
}
