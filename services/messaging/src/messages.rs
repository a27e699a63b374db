//! messaging's read models: every text with its status (bodies kept sealed), and the cases
//! as messaging needs them (where to send).

use async_trait::async_trait;
use casewire_bus::Projection;
use casewire_events::case::{CaseEvent, InboundRouteEvent};
use casewire_events::message::{status_rank, MessageEvent};
use casewire_events::{RecordedEvent, Sealed};
use casewire_eventstore::EventStore;
use serde::Serialize;
use sqlx::{Any, Transaction};

pub struct Messages;

async fn set_status(
    tx: &mut Transaction<'static, Any>,
    e: &RecordedEvent,
    status: &str,
) -> anyhow::Result<()> {
    let current: Option<(String,)> =
        sqlx::query_as("SELECT status FROM messaging_messages WHERE tenant_id = $1 AND id = $2")
            .bind(&e.tenant_id)
            .bind(&e.aggregate_id)
            .fetch_optional(&mut **tx)
            .await?;
    if current.is_some_and(|(c,)| status_rank(status) > status_rank(&c)) {
        sqlx::query("UPDATE messaging_messages SET status = $1, updated_at = $2 WHERE tenant_id = $3 AND id = $4")
            .bind(status)
            .bind(&e.recorded_at)
            .bind(&e.tenant_id)
            .bind(&e.aggregate_id)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

#[async_trait]
impl Projection for Messages {
    fn name(&self) -> &'static str {
        "messaging_messages"
    }

    async fn apply(
        &self,
        tx: &mut Transaction<'static, Any>,
        _: &EventStore,
        e: &RecordedEvent,
    ) -> anyhow::Result<()> {
        match e.aggregate_type.as_str() {
            casewire_events::message::AGGREGATE => apply_message(tx, e).await,
            casewire_events::case::AGGREGATE => {
                let (CaseEvent::CaseLinked { details } | CaseEvent::CaseUpdated { details }) =
                    e.decode()?;
                sqlx::query(
                    "INSERT INTO messaging_cases (tenant_id, case_id, phone, language, status) VALUES ($1, $2, $3, $4, $5) \
                     ON CONFLICT (tenant_id, case_id) DO UPDATE SET phone = excluded.phone, language = excluded.language, status = excluded.status",
                )
                .bind(&e.tenant_id)
                .bind(&e.aggregate_id)
                .bind(&details.client.phone)
                .bind(&details.client.language)
                .bind(details.status.as_str())
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
                    .bind(case_id)
                    .bind(routing)
                    .bind(reason)
                    .bind(&e.tenant_id)
                    .bind(message_id)
                    .execute(&mut **tx)
                    .await?;
                Ok(())
            }
            _ => Ok(()),
        }
    }
}

async fn apply_message(
    tx: &mut Transaction<'static, Any>,
    e: &RecordedEvent,
) -> anyhow::Result<()> {
    let event: MessageEvent = e.decode()?;
    let update = |sql: &'static str| sqlx::query(sql);
    match event {
        MessageEvent::OutboundQueued {
            case_id,
            to,
            segments,
            encoding,
            price_micros,
            ..
        } => {
            insert(
                tx,
                e,
                Some(&case_id),
                "outbound",
                &to,
                "/OutboundQueued/body",
                "queued",
                segments,
                &encoding,
                price_micros as i64,
                None,
                None,
            )
            .await?;
        }
        MessageEvent::InboundReceived {
            from,
            segments,
            encoding,
            provider_sid,
            ..
        } => {
            insert(
                tx,
                e,
                None,
                "inbound",
                &from,
                "/InboundReceived/body",
                "received",
                segments,
                &encoding,
                0,
                Some(&provider_sid),
                Some("pending"),
            )
            .await?;
        }
        MessageEvent::DispatchStarted { provider, .. } => {
            update("UPDATE messaging_messages SET provider = $1, updated_at = $2 WHERE tenant_id = $3 AND id = $4")
                .bind(provider)
                .bind(&e.recorded_at)
                .bind(&e.tenant_id)
                .bind(&e.aggregate_id)
                .execute(&mut **tx)
                .await?;
        }
        MessageEvent::DispatchAbandoned { .. } => {}
        MessageEvent::Accepted { provider_sid, .. } => {
            update(
                "UPDATE messaging_messages SET provider_sid = $1 WHERE tenant_id = $2 AND id = $3",
            )
            .bind(provider_sid)
            .bind(&e.tenant_id)
            .bind(&e.aggregate_id)
            .execute(&mut **tx)
            .await?;
            set_status(tx, e, "accepted").await?;
        }
        MessageEvent::Failed {
            error_code, reason, ..
        } => {
            update("UPDATE messaging_messages SET status = 'failed', error_code = $1, error_reason = $2, updated_at = $3 WHERE tenant_id = $4 AND id = $5")
                .bind(error_code)
                .bind(reason)
                .bind(&e.recorded_at)
                .bind(&e.tenant_id)
                .bind(&e.aggregate_id)
                .execute(&mut **tx)
                .await?;
        }
        MessageEvent::StatusReported {
            status, error_code, ..
        } => {
            if error_code.is_some() {
                update("UPDATE messaging_messages SET error_code = $1 WHERE tenant_id = $2 AND id = $3")
                    .bind(error_code)
                    .bind(&e.tenant_id)
                    .bind(&e.aggregate_id)
                    .execute(&mut **tx)
                    .await?;
            }
            set_status(tx, e, &status).await?;
        }
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
async fn insert(
    tx: &mut Transaction<'static, Any>,
    e: &RecordedEvent,
    case_id: Option<&str>,
    direction: &str,
    phone: &str,
    body_at: &str,
    status: &str,
    segments: u32,
    encoding: &str,
    price_micros: i64,
    provider_sid: Option<&str>,
    routing: Option<&str>,
) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO messaging_messages (tenant_id, id, case_id, direction, phone, body, status, segments, encoding, price_micros, \
         provider_sid, routing, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13) \
         ON CONFLICT (tenant_id, id) DO NOTHING",
    )
    .bind(&e.tenant_id)
    .bind(&e.aggregate_id)
    .bind(case_id)
    .bind(direction)
    .bind(phone)
    .bind(e.sealed_at(body_at).unwrap_or_default())
    .bind(status)
    .bind(segments as i64)
    .bind(encoding)
    .bind(price_micros)
    .bind(provider_sid)
    .bind(routing)
    .bind(&e.recorded_at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// A text as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MessageView {
    pub id: String,
    /// null for an inbound text not routed to a case.
    pub case_id: Option<String>,
    /// inbound or outbound.
    pub direction: String,
    /// The client's number (E.164).
    pub phone: String,
    /// null once the client's data was erased.
    pub body: Option<String>,
    /// outbound: queued, accepted, sending, sent, delivered, undelivered or failed; inbound: received.
    pub status: String,
    /// The provider's error code (Twilio's, e.g. 21610), when it failed.
    pub error_code: Option<String>,
    pub error_reason: Option<String>,
    pub segments: i64,
    /// GSM-7 or UCS-2.
    pub encoding: String,
    /// The estimated price in US dollars, at the tenant's rate per segment.
    pub price_usd: f64,
    /// inbound: routed, unrouted or pending.
    pub routing: Option<String>,
    pub routing_reason: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

type Row = (
    String,
    Option<String>,
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    i64,
    String,
    i64,
    Option<String>,
    Option<String>,
    String,
    String,
);

const COLUMNS: &str = "id, case_id, direction, phone, body, status, error_code, error_reason, segments, encoding, price_micros, \
                       routing, routing_reason, created_at, updated_at";

async fn views(
    store: &EventStore,
    tenant: &str,
    rows: Vec<Row>,
) -> anyhow::Result<Vec<MessageView>> {
    let mut out = Vec::with_capacity(rows.len());
    for (
        id,
        case_id,
        direction,
        phone,
        body,
        status,
        error_code,
        error_reason,
        segments,
        encoding,
        price,
        routing,
        routing_reason,
        created_at,
        updated_at,
    ) in rows
    {
        let body: Sealed<String> =
            serde_json::from_value(store.open_payload(tenant, &body).await?)?;
        out.push(MessageView {
            id,
            case_id,
            direction,
            phone,
            body: body.value().cloned(),
            status,
            error_code,
            error_reason,
            segments,
            encoding,
            price_usd: price as f64 / 1e6,
            routing,
            routing_reason,
            created_at,
            updated_at,
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

/// What the sandbox "sent": the phone of `casewire dev`.
pub async fn sandbox(store: &EventStore, tenant: &str) -> anyhow::Result<Vec<MessageView>> {
    select(store, tenant, "provider = $2", "sandbox").await
}
