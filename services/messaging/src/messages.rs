//! messaging's read models: every text with its status (bodies kept sealed), and the cases
//! as messaging needs them (where to send).

use std::collections::BTreeMap;
use std::sync::LazyLock;

use async_trait::async_trait;
use casewire_bus::{Of, Projection, Reads};
use casewire_events::case::{CaseEvent, InboundRouteEvent};
use casewire_events::consent::{ConsentEvent, Evidence};
use casewire_events::message::{status_rank, MessageEvent, STATUS_RANKS};
use casewire_events::{RecordedEvent, Sealed};
use casewire_eventstore::EventStore;
use sqlx::{Any, Transaction};

pub struct Messages;

/// What a status change brings besides the status: Twilio's id, an error code.
struct StatusOf<'a> {
    e: &'a RecordedEvent,
    provider_sid: Option<&'a str>,
    error_code: Option<&'a str>,
}

/// Moves texts' status forward, never back, and records what came with it (Twilio's id, an
/// error code and its reason for a person) whatever the status did: the row's rank is
/// worked out in SQL from the same table as [`status_rank`]. One statement per tenant and
/// moment: an append's group of texts accepted together is one.
async fn set_status(
    tx: &mut Transaction<'static, Any>,
    status: &str,
    changes: &[StatusOf<'_>],
) -> anyhow::Result<()> {
    static FORWARD: LazyLock<String> = LazyLock::new(|| {
        let ranks: String = STATUS_RANKS
            .iter()
            .map(|(name, rank)| format!(" WHEN '{name}' THEN {rank}"))
            .collect();
        format!("COALESCE(CASE status{ranks} END, -1) < $4")
    });
    // A status casewire does not know moves nothing, but what came with it is kept.
    let rank = status_rank(status).map_or(-1, |r| r as i64);
    let mut by_moment: BTreeMap<(&str, &str), Vec<&StatusOf>> = BTreeMap::new();
    for c in changes {
        by_moment
            .entry((&c.e.tenant_id, &c.e.recorded_at))
            .or_default()
            .push(c);
    }
    for ((tenant, at), changes) in by_moment {
        for chunk in changes.chunks(ROWS_AT_ONCE) {
            // Each row's values by its id: ($5, $6, $7, $8) is (id, sid, code, reason).
            let case = |column: usize| -> String {
                let whens: String = (0..chunk.len())
                    .map(|i| format!(" WHEN ${} THEN ${}", 5 + 4 * i, 5 + 4 * i + column))
                    .collect();
                format!("CASE id{whens} END")
            };
            let ids: Vec<String> = (0..chunk.len())
                .map(|i| format!("${}", 5 + 4 * i))
                .collect();
            let forward = &*FORWARD;
            let sql = format!(
                "UPDATE messaging_messages SET \
                   status = CASE WHEN {forward} THEN $1 ELSE status END, \
                   updated_at = CASE WHEN {forward} THEN $2 ELSE updated_at END, \
                   provider_sid = COALESCE({}, provider_sid), error_code = COALESCE({}, error_code), \
                   error_reason = COALESCE({}, error_reason) \
                 WHERE tenant_id = $3 AND id IN ({})",
                case(1),
                case(2),
                case(3),
                ids.join(", ")
            );
            let mut update = sqlx::query(&sql)
                .bind(status)
                .bind(at)
                .bind(tenant)
                .bind(rank);
            for c in chunk {
                update = update
                    .bind(&c.e.aggregate_id)
                    .bind(c.provider_sid)
                    .bind(c.error_code)
                    .bind(
                        c.error_code
                            .and_then(|code| code.parse().ok())
                            .and_then(casewire_sms::codes::explain),
                    );
            }
            update.execute(&mut **tx).await?;
        }
    }
    Ok(())
}

/// Rows per statement where a group of texts is written at once: within either database's
/// limit of placeholders.
const ROWS_AT_ONCE: usize = 500;

#[async_trait]
impl Projection for Messages {
    fn name(&self) -> &'static str {
        "messaging_messages"
    }

    fn reads(&self) -> Reads {
        use casewire_events::{case, consent};
        const OF: &[Of] = &[
            Of::all(case::AGGREGATE),
            Of::all(case::ROUTE_AGGREGATE),
            Of::only(consent::AGGREGATE, &["RevocationUnclear"]),
        ];
        Reads::Only(OF)
    }

    /// A text's row is written with the append of each of its events, so a command answers
    /// from it at once. Each change is one that applying twice leaves as it was.
    fn inline(&self) -> Reads {
        const OF: &[Of] = &[Of::all(casewire_events::message::AGGREGATE)];
        Reads::Only(OF)
    }

    /// An append's group of texts' events is written a statement per kind (see
    /// [`apply_messages`]).
    async fn apply_all(
        &self,
        tx: &mut Transaction<'static, Any>,
        store: &EventStore,
        events: &[&RecordedEvent],
    ) -> anyhow::Result<()> {
        let (texts, rest): (Vec<&RecordedEvent>, Vec<&RecordedEvent>) = events
            .iter()
            .partition(|e| e.aggregate_type == casewire_events::message::AGGREGATE);
        if texts.len() < 2 || !rest.is_empty() || !casewire_bus::one_each(&texts) {
            return casewire_bus::apply_each(self, tx, store, events).await;
        }
        apply_messages(tx, &texts).await
    }

    async fn apply(
        &self,
        tx: &mut Transaction<'static, Any>,
        _: &EventStore,
        e: &RecordedEvent,
    ) -> anyhow::Result<()> {
        match e.aggregate_type.as_str() {
            casewire_events::message::AGGREGATE => apply_messages(tx, &[e]).await,
            casewire_events::case::AGGREGATE => {
                let (CaseEvent::CaseLinked { details } | CaseEvent::CaseUpdated { details }) =
                    e.decode()?;
                // The name stays sealed: a reminder opens it when it words the text. The
                // details as stored are what an audience filters (audience.rs).
                let name = e.sealed_at(&format!("/{}/details/client/name", e.event_type));
                let stored = e.sealed_at(&format!("/{}/details", e.event_type));
                sqlx::query(
                    "INSERT INTO messaging_cases (tenant_id, case_id, phone, language, status, time_zone, client_name, advocate, details) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
                     ON CONFLICT (tenant_id, case_id) DO UPDATE SET phone = excluded.phone, language = excluded.language, \
                     status = excluded.status, time_zone = excluded.time_zone, client_name = excluded.client_name, \
                     advocate = excluded.advocate, details = excluded.details",
                )
                .bind(&e.tenant_id)
                .bind(&e.aggregate_id)
                .bind(&details.client.phone)
                .bind(&details.client.language)
                .bind(details.status.as_str())
                .bind(&details.time_zone)
                .bind(name)
                .bind(details.advocates.first())
                .bind(stored)
                .execute(&mut **tx)
                .await?;
                Ok(())
            }
            casewire_events::case::ROUTE_AGGREGATE => {
                let (message_id, case_id, routing, reason) = match e.decode()? {
                    InboundRouteEvent::InboundRouted {
                        message_id,
                        case_id,
                        reason,
                    } => (message_id, Some(case_id), "routed", reason),
                    InboundRouteEvent::InboundUnrouted { message_id, reason } => {
                        (message_id, None, "unrouted", reason)
                    }
                };
                sqlx::query("UPDATE messaging_messages SET case_id = $1, routing = $2, routing_reason = $3 WHERE tenant_id = $4 AND id = $5")
                    .bind(&case_id)
                    .bind(routing)
                    .bind(reason)
                    .bind(&e.tenant_id)
                    .bind(&message_id)
                    .execute(&mut **tx)
                    .await?;
                // casewire's answer to that text follows it to its case.
                sqlx::query("UPDATE messaging_messages SET case_id = $1 WHERE tenant_id = $2 AND in_reply_to = $3")
                    .bind(&case_id)
                    .bind(&e.tenant_id)
                    .bind(&message_id)
                    .execute(&mut **tx)
                    .await?;
                Ok(())
            }
            casewire_events::consent::AGGREGATE => {
                let ConsentEvent::RevocationUnclear {
                    evidence: Evidence::Inbound { message_id, .. },
                    reason,
                    ..
                } = e.decode()?
                else {
                    return Ok(());
                };
                sqlx::query(
                    "UPDATE messaging_messages SET flag = $1 WHERE tenant_id = $2 AND id = $3",
                )
                .bind(reason)
                .bind(&e.tenant_id)
                .bind(&message_id)
                .execute(&mut **tx)
                .await?;
                Ok(())
            }
            _ => Ok(()),
        }
    }
}

/// Writes texts' events: one, or an append's group with one event per text (see
/// [`casewire_bus::one_each`]). The kinds that come many at once (texts queued by a
/// campaign's run, started and accepted by a dispatcher's claim, their statuses) are
/// written in a statement per kind; the rest one at a time.
async fn apply_messages(
    tx: &mut Transaction<'static, Any>,
    events: &[&RecordedEvent],
) -> anyhow::Result<()> {
    let decoded: Vec<(&RecordedEvent, MessageEvent)> = events
        .iter()
        .map(|e| Ok((*e, e.decode()?)))
        .collect::<anyhow::Result<_>>()?;
    let mut rows = Vec::new();
    let mut started: BTreeMap<(&str, &str, &str), Vec<&str>> = BTreeMap::new();
    let mut statuses: BTreeMap<&str, Vec<StatusOf>> = BTreeMap::new();
    for (e, event) in &decoded {
        let e = *e;
        match event {
            MessageEvent::OutboundQueued {
                case_id,
                to,
                segments,
                encoding,
                price_micros,
                purpose,
                deliver_after,
                in_reply_to,
                attachments,
                ..
            } => {
                crate::attachments::claim(tx, &e.tenant_id, &e.aggregate_id, attachments).await?;
                let row = NewRow {
                    case_id: case_id.as_deref(),
                    direction: "outbound",
                    phone: to,
                    body_at: "/OutboundQueued/body",
                    status: "queued",
                    segments: *segments,
                    encoding,
                    price_micros: *price_micros as i64,
                    provider_sid: None,
                    routing: None,
                    purpose: Some(purpose.as_str()),
                    deliver_after: deliver_after.as_deref(),
                    in_reply_to: in_reply_to.as_deref(),
                    media: (!attachments.is_empty()).then(|| media_lines(attachments)),
                    sender: true,
                };
                rows.push((e, row));
            }
            MessageEvent::InboundReceived {
                from,
                segments,
                encoding,
                provider_sid,
                ..
            } => {
                let row = NewRow {
                    case_id: None,
                    direction: "inbound",
                    phone: from,
                    body_at: "/InboundReceived/body",
                    status: "received",
                    segments: *segments,
                    encoding,
                    price_micros: 0,
                    provider_sid: Some(provider_sid),
                    routing: Some("pending"),
                    purpose: None,
                    deliver_after: None,
                    in_reply_to: None,
                    media: None,
                    sender: false,
                };
                rows.push((e, row));
            }
            // Refused texts never reach the thread: the API answered 409, the log keeps the record.
            MessageEvent::OutboundRefused { .. } => {}
            MessageEvent::DispatchStarted { provider, .. } => started
                .entry((e.tenant_id.as_str(), e.recorded_at.as_str(), provider.as_str()))
                .or_default()
                .push(&e.aggregate_id),
            MessageEvent::DispatchAbandoned { .. } => {}
            MessageEvent::Accepted { provider_sid, .. } => {
                statuses.entry("accepted").or_default().push(StatusOf {
                    e,
                    provider_sid: Some(provider_sid),
                    error_code: None,
                })
            }
            MessageEvent::StatusReported {
                status, error_code, ..
            } => statuses.entry(status.as_str()).or_default().push(StatusOf {
                e,
                provider_sid: None,
                error_code: error_code.as_deref(),
            }),
            MessageEvent::Failed {
                error_code, reason, ..
            } => ended(tx, e, "failed", error_code.clone(), reason).await?,
            MessageEvent::OutcomeUnknown { reason, .. } => {
                ended(tx, e, "unknown", None, reason).await?
            }
            // In the trail only: the row shows where the text is.
            MessageEvent::StatusIgnored { .. } | MessageEvent::LookupFailed { .. } => {}
            MessageEvent::MediaStored {
                n,
                content_type,
                size,
                sha256,
            } => add_media(tx, e, serde_json::json!({"n": n, "content_type": content_type, "size": size, "sha256": sha256})).await?,
            MessageEvent::MediaRefused { n, reason } => {
                add_media(tx, e, serde_json::json!({"n": n, "refused": reason})).await?
            }
        }
    }
    insert(tx, &rows).await?;
    for ((tenant, at, provider), ids) in started {
        for chunk in ids.chunks(ROWS_AT_ONCE) {
            let sql = format!(
                "UPDATE messaging_messages SET provider = $1, updated_at = $2 WHERE tenant_id = $3 AND id IN ({})",
                casewire_eventstore::sql::list(chunk.len(), 4)
            );
            let sql =
                casewire_eventstore::sql::positional(casewire_eventstore::Backend::of(tx), &sql);
            let mut update = sqlx::query(&sql).bind(provider).bind(at).bind(tenant);
            for id in chunk {
                update = update.bind(*id);
            }
            update.execute(&mut **tx).await?;
        }
    }
    for (status, changes) in statuses {
        set_status(tx, status, &changes).await?;
    }
    Ok(())
}

/// An outbound text's attachments as its row lists them.
fn media_lines(attachments: &[casewire_events::message::Attachment]) -> String {
    attachments
        .iter()
        .enumerate()
        .map(|(n, a)| {
            let item = serde_json::json!({"n": n, "content_type": a.content_type, "size": a.size, "sha256": a.sha256});
            format!("{item}\n")
        })
        .collect()
}

/// Lists one of a text's media on its row: one JSON object per line, appended.
async fn add_media(
    tx: &mut Transaction<'static, Any>,
    e: &RecordedEvent,
    item: serde_json::Value,
) -> anyhow::Result<()> {
    sqlx::query("UPDATE messaging_messages SET media = COALESCE(media, '') || $1 WHERE tenant_id = $2 AND id = $3")
        .bind(format!("{item}\n"))
        .bind(&e.tenant_id)
        .bind(&e.aggregate_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// A row's media as the API shows them.
fn media_views(message_id: &str, lines: Option<&str>) -> Vec<MediaView> {
    let mut views: Vec<MediaView> = lines
        .unwrap_or_default()
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .map(|m| {
            let n = m["n"].as_u64().unwrap_or_default() as u32;
            let refused = m["refused"].as_str().map(str::to_string);
            MediaView {
                n,
                content_type: m["content_type"].as_str().map(str::to_string),
                size: m["size"].as_u64(),
                sha256: m["sha256"].as_str().map(str::to_string),
                url: refused
                    .is_none()
                    .then(|| format!("/v1/messages/{message_id}/media/{n}")),
                refused,
            }
        })
        .collect();
    views.sort_by_key(|m| m.n);
    views
}

/// A text's dispatch is over without the provider's acceptance: `failed`, or `unknown`,
/// with why.
async fn ended(
    tx: &mut Transaction<'static, Any>,
    e: &RecordedEvent,
    status: &str,
    error_code: Option<String>,
    reason: &str,
) -> anyhow::Result<()> {
    sqlx::query("UPDATE messaging_messages SET status = $1, error_code = $2, error_reason = $3, updated_at = $4 WHERE tenant_id = $5 AND id = $6")
        .bind(status)
        .bind(error_code)
        .bind(reason)
        .bind(&e.recorded_at)
        .bind(&e.tenant_id)
        .bind(&e.aggregate_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

struct NewRow<'a> {
    case_id: Option<&'a str>,
    direction: &'a str,
    phone: &'a str,
    /// Where the sealed body sits in the event.
    body_at: &'a str,
    status: &'a str,
    segments: u32,
    encoding: &'a str,
    price_micros: i64,
    provider_sid: Option<&'a str>,
    routing: Option<&'a str>,
    purpose: Option<&'a str>,
    deliver_after: Option<&'a str>,
    in_reply_to: Option<&'a str>,
    /// Its media, as [`add_media`] lists them: an outbound text's attachments.
    media: Option<String>,
    /// An outbound text's sender: its event's metadata says who (`actor`, `on_behalf_of`).
    sender: bool,
}

/// Inserts texts' rows: a statement per 500, so an append's group of texts queued at once
/// (a campaign's run) is one.
async fn insert(
    tx: &mut Transaction<'static, Any>,
    rows: &[(&RecordedEvent, NewRow<'_>)],
) -> anyhow::Result<()> {
    const COLUMNS: usize = 19;
    for chunk in rows.chunks(ROWS_AT_ONCE) {
        // A reply to a client's text joins the thread that text was routed to.
        let sql = format!(
            "INSERT INTO messaging_messages (tenant_id, id, case_id, direction, phone, body, status, segments, encoding, price_micros, \
             provider_sid, routing, purpose, deliver_after, in_reply_to, media, sent_by, on_behalf_of, created_at, updated_at) \
             SELECT v.column1, v.column2, COALESCE(v.column3, (SELECT m.case_id FROM messaging_messages m WHERE m.tenant_id = v.column1 AND m.id = v.column15)), \
             v.column4, v.column5, v.column6, v.column7, v.column8, v.column9, v.column10, v.column11, v.column12, v.column13, v.column14, \
             v.column15, v.column16, v.column17, v.column18, v.column19, v.column19 \
             FROM (VALUES {}) AS v WHERE true \
             ON CONFLICT (tenant_id, id) DO NOTHING",
            casewire_eventstore::sql::rows(chunk.len(), COLUMNS, 1)
        );
        let sql = casewire_eventstore::sql::positional(casewire_eventstore::Backend::of(tx), &sql);
        let mut insert = sqlx::query(&sql);
        for (e, row) in chunk {
            let sender = if row.sender {
                let m = e.metadata();
                (m.actor, m.on_behalf_of)
            } else {
                (None, None)
            };
            insert = insert
                .bind(&e.tenant_id)
                .bind(&e.aggregate_id)
                .bind(row.case_id)
                .bind(row.direction)
                .bind(row.phone)
                .bind(e.sealed_at(row.body_at).unwrap_or_default())
                .bind(row.status)
                .bind(row.segments as i64)
                .bind(row.encoding)
                .bind(row.price_micros)
                .bind(row.provider_sid)
                .bind(row.routing)
                .bind(row.purpose)
                .bind(row.deliver_after)
                .bind(row.in_reply_to)
                .bind(row.media.as_deref())
                .bind(sender.0)
                .bind(sender.1)
                .bind(&e.recorded_at);
        }
        insert.execute(&mut **tx).await?;
    }
    Ok(())
}

pub use casewire_contract::messaging::{MediaView, MessageView};

/// A text just queued, as the API shows it: from its recorded event and the body the
/// command had in memory, so `send` answers without reading the row back.
pub fn queued(e: &RecordedEvent, body: Option<String>) -> anyhow::Result<MessageView> {
    let MessageEvent::OutboundQueued {
        case_id,
        to,
        segments,
        encoding,
        price_micros,
        purpose,
        deliver_after,
        attachments,
        ..
    } = e.decode()?
    else {
        anyhow::bail!("{} is not a queued text", e.event_type);
    };
    let media = media_views(&e.aggregate_id, Some(&media_lines(&attachments)));
    let metadata = e.metadata();
    Ok(MessageView {
        id: e.aggregate_id.clone(),
        case_id,
        direction: "outbound".into(),
        phone: to,
        body,
        status: "queued".into(),
        error_code: None,
        error_reason: None,
        segments: segments.into(),
        encoding,
        price_usd: price_micros as f64 / 1e6,
        purpose: Some(purpose.as_str().into()),
        deliver_after,
        routing: None,
        routing_reason: None,
        flag: None,
        media,
        sent_by: metadata.actor,
        on_behalf_of: metadata.on_behalf_of,
        created_at: e.recorded_at.clone(),
        updated_at: e.recorded_at.clone(),
    })
}

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    case_id: Option<String>,
    direction: String,
    phone: String,
    body: String,
    status: String,
    error_code: Option<String>,
    error_reason: Option<String>,
    segments: i64,
    encoding: String,
    price_micros: i64,
    purpose: Option<String>,
    deliver_after: Option<String>,
    routing: Option<String>,
    routing_reason: Option<String>,
    flag: Option<String>,
    media: Option<String>,
    sent_by: Option<String>,
    on_behalf_of: Option<String>,
    created_at: String,
    updated_at: String,
}

const COLUMNS: &str = "id, case_id, direction, phone, body, status, error_code, error_reason, segments, encoding, price_micros, \
                       purpose, deliver_after, routing, routing_reason, flag, media, sent_by, on_behalf_of, created_at, updated_at";

async fn views(
    store: &EventStore,
    tenant: &str,
    rows: Vec<Row>,
) -> anyhow::Result<Vec<MessageView>> {
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let body: Sealed<String> =
            serde_json::from_value(store.open_payload(tenant, &r.body).await?)?;
        let media = media_views(&r.id, r.media.as_deref());
        out.push(MessageView {
            id: r.id,
            case_id: r.case_id,
            direction: r.direction,
            phone: r.phone,
            body: body.value().cloned(),
            status: r.status,
            error_code: r.error_code,
            error_reason: r.error_reason,
            segments: r.segments,
            encoding: r.encoding,
            price_usd: r.price_micros as f64 / 1e6,
            purpose: r.purpose,
            deliver_after: r.deliver_after,
            routing: r.routing,
            routing_reason: r.routing_reason,
            flag: r.flag,
            media,
            sent_by: r.sent_by,
            on_behalf_of: r.on_behalf_of,
            created_at: r.created_at,
            updated_at: r.updated_at,
        });
    }
    Ok(out)
}

async fn select(
    store: &EventStore,
    tenant: &str,
    filter: &str,
    arg: &str,
) -> anyhow::Result<Vec<MessageView>> {
    let sql = format!("SELECT {COLUMNS} FROM messaging_messages WHERE tenant_id = $1 AND {filter} ORDER BY created_at, id LIMIT 1000");
    let rows: Vec<Row> = sqlx::query_as(&sql)
        .bind(tenant)
        .bind(arg)
        .fetch_all(store.db().reader())
        .await?;
    views(store, tenant, rows).await
}

/// A case's thread, oldest first, both directions.
pub async fn thread(
    store: &EventStore,
    tenant: &str,
    case_id: &str,
) -> anyhow::Result<Vec<MessageView>> {
    select(store, tenant, "case_id = $2", case_id).await
}

pub async fn find(
    store: &EventStore,
    tenant: &str,
    id: &str,
) -> anyhow::Result<Option<MessageView>> {
    Ok(select(store, tenant, "id = $2", id).await?.pop())
}

/// Inbound texts from numbers that belong to no case.
pub async fn unrouted(store: &EventStore, tenant: &str) -> anyhow::Result<Vec<MessageView>> {
    select(store, tenant, "routing = $2", "unrouted").await
}

/// Clients' texts that may revoke consent and do not clearly, for staff to read.
pub async fn flagged(store: &EventStore, tenant: &str) -> anyhow::Result<Vec<MessageView>> {
    select(
        store,
        tenant,
        "flag IS NOT NULL AND direction = $2",
        "inbound",
    )
    .await
}

/// What the sandbox "sent": the phone of `casewire dev`.
pub async fn sandbox(store: &EventStore, tenant: &str) -> anyhow::Result<Vec<MessageView>> {
    select(store, tenant, "provider = $2", "sandbox").await
}
