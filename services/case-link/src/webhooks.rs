//! Outbound webhooks into the CMS, signed per Standard Webhooks.
//!
//! The [`Webhooks`] projection turns each inbound text's routing and each outbound status
//! change into one delivery per subscribed endpoint (a job and a row in the delivery log),
//! in the transaction that moves its cursor. The [`Deliverer`] POSTs them, retrying on a
//! schedule that spans about a day, and keeps the log. The CMS de-duplicates by
//! `webhook-id` (the event's id), which stays the same across retries.

use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;
use casewire_bus::jobs::{self, Job, Outcome, Worker};
use casewire_bus::{Of, Projection, Reads, Refusal};
use casewire_events::case::{InboundRouteEvent, WebhookEndpointEvent, WEBHOOK_EVENT_TYPES};
use casewire_events::checkpoint::CheckpointEvent;
use casewire_events::message::MessageEvent;
use casewire_events::survey::SurveyEvent;
use casewire_events::{RecordedEvent, Sealed};
use casewire_eventstore::EventStore;
use chrono::Utc;
use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sqlx::{Any, Transaction};
use tracing::Instrument;

pub const QUEUE: &str = "case-link.webhooks";

/// Wait before each retry: the schedule Standard Webhooks suggests, about a day in all.
const SCHEDULE: [Duration; 7] = [
    Duration::from_secs(5),
    Duration::from_secs(5 * 60),
    Duration::from_secs(30 * 60),
    Duration::from_secs(2 * 3600),
    Duration::from_secs(5 * 3600),
    Duration::from_secs(10 * 3600),
    Duration::from_secs(10 * 3600),
];

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct WebhookEndpoint {
    created: bool,
}

/// What an endpoint is asked: to be created, or to be sent a test event.
#[derive(Clone, Debug)]
pub enum EndpointCommand {
    Create(CreateEndpoint),
    Test,
}

#[derive(Clone)]
pub struct CreateEndpoint {
    pub url: String,
    pub events: Vec<String>,
    pub secret: String,
}

impl std::fmt::Debug for CreateEndpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreateEndpoint")
            .field("url", &self.url)
            .field("events", &self.events)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum EndpointError {
    #[error("{0}")]
    Invalid(String),
    #[error("this webhook endpoint already exists")]
    Exists,
    #[error("no such webhook endpoint")]
    Missing,
}

impl Refusal for EndpointError {
    fn code(&self) -> casewire_bus::ErrorCode {
        match self {
            EndpointError::Invalid(_) => casewire_bus::ErrorCode::Invalid,
            EndpointError::Exists => casewire_bus::ErrorCode::Conflict,
            EndpointError::Missing => casewire_bus::ErrorCode::NotFound,
        }
    }
}

/// An endpoint's URL, as a URL: absolute, http or https, without credentials. Whether it
/// may be plain http, and where it may lead, is the operator's rule ([`crate::Targets`]).
pub fn check_url(url: &str) -> Result<String, EndpointError> {
    let bad = |m: String| EndpointError::Invalid(m);
    let parsed = reqwest::Url::parse(url.trim())
        .map_err(|e| bad(format!("url: {e}: give an absolute https:// URL")))?;
    match parsed.scheme() {
        "https" | "http" => {}
        s => return Err(bad(format!("url: scheme {s} is not https"))),
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(bad(
            "url: must not hold credentials; verify casewire's signature instead".into(),
        ));
    }
    Ok(parsed.to_string())
}

fn check_events(events: Vec<String>) -> Result<Vec<String>, EndpointError> {
    if events.is_empty() {
        return Err(EndpointError::Invalid(format!(
            "events: name at least one of {}",
            WEBHOOK_EVENT_TYPES.join(", ")
        )));
    }
    let mut out = Vec::new();
    for e in events {
        if !WEBHOOK_EVENT_TYPES.contains(&e.as_str()) {
            return Err(EndpointError::Invalid(format!(
                "events: {e:?} is not one of {}",
                WEBHOOK_EVENT_TYPES.join(", ")
            )));
        }
        if !out.contains(&e) {
            out.push(e);
        }
    }
    Ok(out)
}

impl Aggregate for WebhookEndpoint {
    const TYPE: &'static str = casewire_events::case::ENDPOINT_AGGREGATE;
    type Command = EndpointCommand;
    type Event = WebhookEndpointEvent;
    type Error = EndpointError;
    type Services = ();

    async fn handle(
        &mut self,
        c: EndpointCommand,
        _: &(),
        sink: &EventSink<Self>,
    ) -> Result<(), EndpointError> {
        let event = match c {
            EndpointCommand::Create(_) if self.created => return Err(EndpointError::Exists),
            EndpointCommand::Create(c) => WebhookEndpointEvent::WebhookEndpointCreated {
                url: check_url(&c.url)?,
                events: check_events(c.events)?,
                secret: Sealed::new("tenant-secret:webhooks", c.secret),
            },
            EndpointCommand::Test if !self.created => return Err(EndpointError::Missing),
            EndpointCommand::Test => WebhookEndpointEvent::WebhookTestRequested {},
        };
        sink.write(event, self).await;
        Ok(())
    }

    fn apply(&mut self, e: WebhookEndpointEvent) {
        if let WebhookEndpointEvent::WebhookEndpointCreated { .. } = e {
            self.created = true;
        }
    }
}

/// Endpoints, and a delivery for each event an endpoint subscribed to.
pub struct Webhooks;

/// What an event means to a CMS: its webhook type, message (none for a checkpoint), and
/// the plain data to send.
fn webhook_of(e: &RecordedEvent) -> anyhow::Result<Option<(&'static str, Option<String>, Value)>> {
    if e.aggregate_type == casewire_events::erasure::ERASURE_AGGREGATE {
        // The CMS erases its own copy: the client's number and cases, and why.
        let erased: casewire_events::erasure::ErasureEvent = e.decode()?;
        let data = serde_json::to_value(erased)?["ClientErased"].take();
        return Ok(Some(("client.erased", None, data)));
    }
    if e.aggregate_type == casewire_events::checkpoint::AGGREGATE {
        // The signed note leaves casewire's database: the tenant keeps it where the
        // database's administrators cannot rewrite it (docs/audit-chain.md).
        let checkpoint: CheckpointEvent = e.decode()?;
        return Ok(Some((
            "audit.checkpoint",
            None,
            serde_json::to_value(checkpoint)?["CheckpointSigned"].take(),
        )));
    }
    if e.aggregate_type == casewire_events::case::ROUTE_AGGREGATE {
        let (message_id, case_id, reason) = match e.decode()? {
            InboundRouteEvent::InboundRouted {
                message_id,
                case_id,
                reason,
            } => (message_id, Some(case_id), reason),
            InboundRouteEvent::InboundUnrouted { message_id, reason } => (message_id, None, reason),
        };
        let data =
            json!({ "case_id": case_id, "routing": { "case_id": case_id, "reason": reason } });
        return Ok(Some(("message.inbound", Some(message_id), data)));
    }
    if e.aggregate_type == casewire_events::survey::AGGREGATE {
        let SurveyEvent::SurveyAnswered {
            campaign,
            n,
            case_id,
            question,
            value,
            reply,
            parsed,
            ..
        } = e.decode()?
        else {
            return Ok(None);
        };
        let data = json!({
            "campaign_id": campaign, "recipient": n, "case_id": case_id,
            "question": question, "answer": value, "parsed": parsed,
        });
        return Ok(Some(("survey.answered", Some(reply), data)));
    }
    if e.aggregate_type != casewire_events::message::AGGREGATE {
        return Ok(None);
    }
    let data = match e.decode()? {
        MessageEvent::Accepted { case_id, .. } => {
            json!({ "case_id": case_id, "status": "accepted", "error_code": null, "error_reason": null })
        }
        MessageEvent::Failed {
            case_id,
            error_code,
            reason,
        } => {
            json!({ "case_id": case_id, "status": "failed", "error_code": error_code, "error_reason": reason })
        }
        MessageEvent::StatusReported {
            case_id,
            status,
            error_code,
        } => {
            json!({ "case_id": case_id, "status": status, "error_code": error_code, "error_reason": null })
        }
        MessageEvent::OutcomeUnknown {
            case_id, reason, ..
        } => {
            json!({ "case_id": case_id, "status": "unknown", "error_code": null, "error_reason": reason })
        }
        _ => return Ok(None),
    };
    Ok(Some(("message.status", Some(e.aggregate_id.clone()), data)))
}

#[async_trait]
impl Projection for Webhooks {
    fn name(&self) -> &'static str {
        "caselink_webhooks"
    }

    fn reads(&self) -> Reads {
        use casewire_events::{case, message, survey};
        const OF: &[Of] = &[
            Of::all(case::ENDPOINT_AGGREGATE),
            Of::all(case::ROUTE_AGGREGATE),
            Of::all(message::AGGREGATE),
            Of::only(survey::AGGREGATE, &["SurveyAnswered"]),
            Of::all(casewire_events::checkpoint::AGGREGATE),
            Of::all(casewire_events::erasure::ERASURE_AGGREGATE),
        ];
        Reads::Only(OF)
    }

    fn feeds(&self) -> &'static [&'static str] {
        &[QUEUE]
    }

    async fn apply(
        &self,
        tx: &mut Transaction<'static, Any>,
        _: &EventStore,
        e: &RecordedEvent,
    ) -> anyhow::Result<()> {
        apply_webhook(tx, e, &mut Endpoints::new()).await
    }

    /// A batch looks up each tenant's endpoints once, not once per event.
    async fn apply_all(
        &self,
        tx: &mut Transaction<'static, Any>,
        _: &EventStore,
        events: &[&RecordedEvent],
    ) -> anyhow::Result<()> {
        let mut endpoints = Endpoints::new();
        for e in events {
            apply_webhook(tx, e, &mut endpoints)
                .instrument(casewire_bus::apply_span(self.name(), e))
                .await?;
        }
        Ok(())
    }
}

/// Each tenant's webhook endpoints, as a batch has read them: (id, the event types it
/// takes).
type Endpoints = HashMap<String, Vec<(String, Vec<String>)>>;

async fn apply_webhook(
    tx: &mut Transaction<'static, Any>,
    e: &RecordedEvent,
    known: &mut Endpoints,
) -> anyhow::Result<()> {
    if e.aggregate_type == casewire_events::case::ENDPOINT_AGGREGATE {
        let (url, events) = match e.decode()? {
            WebhookEndpointEvent::WebhookEndpointCreated { url, events, .. } => (url, events),
            WebhookEndpointEvent::WebhookTestRequested {} => {
                let data = json!({ "endpoint_id": e.aggregate_id });
                return deliver(tx, e, &e.aggregate_id, "webhook.test", None, data).await;
            }
        };
        known.remove(&e.tenant_id);
        sqlx::query(
                "INSERT INTO caselink_webhook_endpoints (tenant_id, id, url, events, secret, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (tenant_id, id) DO NOTHING",
            )
            .bind(&e.tenant_id)
            .bind(&e.aggregate_id)
            .bind(url)
            .bind(serde_json::to_string(&events)?)
            .bind(e.sealed_at("/WebhookEndpointCreated/secret").unwrap_or_default())
            .bind(&e.recorded_at)
            .execute(&mut **tx)
            .await?;
        return Ok(());
    }
    let Some((event_type, message_id, data)) = webhook_of(e)? else {
        return Ok(());
    };
    if !known.contains_key(&e.tenant_id) {
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT id, events FROM caselink_webhook_endpoints WHERE tenant_id = $1",
        )
        .bind(&e.tenant_id)
        .fetch_all(&mut **tx)
        .await?;
        let endpoints = rows
            .into_iter()
            .map(|(id, events)| Ok((id, serde_json::from_str(&events)?)))
            .collect::<anyhow::Result<_>>()?;
        known.insert(e.tenant_id.clone(), endpoints);
    }
    for (endpoint_id, events) in &known[&e.tenant_id] {
        if events.iter().any(|t| t == event_type) {
            deliver(
                tx,
                e,
                endpoint_id,
                event_type,
                message_id.clone(),
                data.clone(),
            )
            .await?;
        }
    }
    Ok(())
}

/// One delivery of `e` to an endpoint: its job, and its row in the delivery log.
async fn deliver(
    tx: &mut Transaction<'static, Any>,
    e: &RecordedEvent,
    endpoint_id: &str,
    event_type: &str,
    message_id: Option<String>,
    data: Value,
) -> anyhow::Result<()> {
    let id = format!("{}:{endpoint_id}", e.event_id);
    let payload = json!({
        "endpoint_id": endpoint_id, "webhook_id": e.event_id, "type": event_type,
        "message_id": message_id, "timestamp": e.recorded_at, "data": data,
    });
    jobs::enqueue(tx, QUEUE, &e.tenant_id, &id, &payload, Utc::now()).await?;
    sqlx::query(
                "INSERT INTO caselink_webhook_deliveries (tenant_id, id, endpoint_id, event_type, message_id, status, attempts, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, 'pending', 0, $6, $6) ON CONFLICT (tenant_id, id) DO NOTHING",
            )
            .bind(&e.tenant_id)
            .bind(&id)
            .bind(endpoint_id)
            .bind(event_type)
            .bind(&message_id)
        .bind(&e.recorded_at)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// POSTs deliveries and keeps their log.
pub struct Deliverer {
    http: reqwest::Client,
    targets: crate::Targets,
}

impl Deliverer {
    pub fn new(targets: crate::Targets) -> Self {
        Deliverer {
            http: targets.client(),
            targets,
        }
    }

    /// The message as the CMS receives it: for an inbound text, its body and sender, opened
    /// from the log now (so an erased client's text is never sent).
    async fn body(&self, store: &EventStore, job: &Job) -> anyhow::Result<Value> {
        let p = &job.payload;
        let mut data = p["data"].clone();
        let envelope =
            |data| json!({ "type": p["type"], "timestamp": p["timestamp"], "data": data });
        let Some(message_id) = p["message_id"].as_str() else {
            // About no text (a checkpoint): its data as recorded.
            return Ok(envelope(data));
        };
        data["id"] = message_id.into();
        if p["type"] == "survey.answered" {
            // The client's words, opened now (null once they are erased); `id` is the
            // reply's message id.
            for e in store
                .read_aggregate(
                    &job.tenant_id,
                    casewire_events::message::AGGREGATE,
                    message_id,
                    0,
                )
                .await?
            {
                if let MessageEvent::InboundReceived { body, .. } =
                    serde_json::from_str(&e.payload)?
                {
                    data["text"] = body.value().cloned().into();
                    data["answered_at"] = p["timestamp"].clone();
                }
            }
        }
        if p["type"] == "message.inbound" {
            for e in store
                .read_aggregate(
                    &job.tenant_id,
                    casewire_events::message::AGGREGATE,
                    message_id,
                    0,
                )
                .await?
            {
                if let MessageEvent::InboundReceived {
                    from,
                    to,
                    body,
                    segments,
                    encoding,
                    media,
                    ..
                } = serde_json::from_str(&e.payload)?
                {
                    // Pictures and files as links on casewire's API, read with the
                    // integration's own key (they may be kept a moment after this is sent:
                    // a 404 then is worth a retry).
                    data["media"] = media
                        .iter()
                        .enumerate()
                        .map(|(n, m)| {
                            json!({
                                "n": n,
                                "content_type": m.content_type,
                                "url": format!("/v1/messages/{message_id}/media/{n}"),
                            })
                        })
                        .collect::<Vec<_>>()
                        .into();
                    data["direction"] = "inbound".into();
                    data["from"] = from.into();
                    data["to"] = to.into();
                    data["body"] = body.value().cloned().into();
                    data["segments"] = segments.into();
                    data["encoding"] = encoding.into();
                    data["created_at"] = e.recorded_at.into();
                }
            }
        }
        Ok(envelope(data))
    }

    async fn record(
        &self,
        store: &EventStore,
        job: &Job,
        status: &str,
        code: Option<u16>,
        error: Option<&str>,
        next: Option<String>,
    ) -> anyhow::Result<()> {
        sqlx::query(
            "UPDATE caselink_webhook_deliveries SET status = $1, attempts = $2, last_status_code = $3, last_error = $4, \
             next_attempt_at = $5, updated_at = $6 WHERE tenant_id = $7 AND id = $8",
        )
        .bind(status)
        .bind(job.attempts)
        .bind(code.map(i64::from))
        .bind(error)
        .bind(next)
        .bind(casewire_events::now())
        .bind(&job.tenant_id)
        .bind(&job.id)
        .execute(store.db().writer())
        .await?;
        Ok(())
    }
}

#[async_trait]
impl Worker for Deliverer {
    fn queue(&self) -> &'static str {
        QUEUE
    }

    async fn run(&self, store: &EventStore, job: &Job) -> anyhow::Result<Outcome> {
        let endpoint_id = job.payload["endpoint_id"].as_str().unwrap_or_default();
        let row: Option<(String, String)> = sqlx::query_as(
            "SELECT url, secret FROM caselink_webhook_endpoints WHERE tenant_id = $1 AND id = $2",
        )
        .bind(&job.tenant_id)
        .bind(endpoint_id)
        .fetch_optional(store.db().reader())
        .await?;
        let Some((url, sealed)) = row else {
            return Ok(Outcome::Done);
        };
        let secret: Sealed<String> =
            serde_json::from_value(store.open_payload(&job.tenant_id, &sealed).await?)?;
        let secret = casewire_webhooks::Secret::parse(
            secret.value().map(String::as_str).unwrap_or_default(),
        )?;
        let body = serde_json::to_vec(&self.body(store, job).await?)?;
        let webhook_id = job.payload["webhook_id"].as_str().unwrap_or_default();
        let mut request = self
            .http
            .post(&url)
            .header("content-type", "application/json");
        for (name, value) in
            casewire_webhooks::headers(&secret, webhook_id, Utc::now().timestamp(), &body)?
        {
            request = request.header(name, value);
        }
        // Checked again at each delivery: a name may resolve elsewhere since registration.
        let target = reqwest::Url::parse(&url).map_err(anyhow::Error::msg)?;
        let sent = match self.targets.check(&target).await {
            Ok(()) => request.body(body).send().await,
            Err(refused) => {
                return self
                    .retry_or_fail(store, job, None, format!("not sent: {refused}"))
                    .await
            }
        };
        let (code, error) = match sent {
            Ok(r) if r.status().is_success() => {
                self.record(
                    store,
                    job,
                    "delivered",
                    Some(r.status().as_u16()),
                    None,
                    None,
                )
                .await?;
                return Ok(Outcome::Done);
            }
            Ok(r) => (
                Some(r.status().as_u16()),
                format!("the endpoint answered HTTP {}", r.status().as_u16()),
            ),
            Err(e) => (
                None,
                format!("could not reach the endpoint: {}", without_url(e)),
            ),
        };
        self.retry_or_fail(store, job, code, error).await
    }
}

impl Deliverer {
    /// A delivery that did not succeed: tried again on the schedule, or failed for good
    /// after its last attempt. The log keeps the status code that answered, never its body.
    async fn retry_or_fail(
        &self,
        store: &EventStore,
        job: &Job,
        code: Option<u16>,
        error: String,
    ) -> anyhow::Result<Outcome> {
        match SCHEDULE.get(job.attempts as usize - 1) {
            Some(wait) => {
                let at = Utc::now() + chrono::Duration::from_std(*wait)?;
                self.record(
                    store,
                    job,
                    "retrying",
                    code,
                    Some(&error),
                    Some(casewire_events::timestamp(at)),
                )
                .await?;
                Ok(Outcome::RetryAt(at, error))
            }
            None => {
                let endpoint_id = job.payload["endpoint_id"].as_str().unwrap_or_default();
                tracing::warn!(endpoint_id, delivery = %job.id, "webhook delivery failed for good");
                self.record(store, job, "failed", code, Some(&error), None)
                    .await?;
                Ok(Outcome::Done)
            }
        }
    }
}

/// reqwest's errors quote the URL, which may hold a CMS's token in its query.
fn without_url(e: reqwest::Error) -> String {
    if e.is_timeout() {
        "timed out".into()
    } else if e.is_connect() {
        "connection refused or failed".into()
    } else {
        e.without_url().to_string()
    }
}

/// A delivery as `GET /v1/webhook-endpoints/{id}/deliveries` shows it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DeliveryView {
    pub id: String,
    pub event_type: String,
    pub message_id: Option<String>,
    /// pending, retrying, delivered or failed.
    pub status: String,
    pub attempts: i64,
    pub last_status_code: Option<i64>,
    pub last_error: Option<String>,
    pub next_attempt_at: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

type DeliveryRow = (
    String,
    String,
    Option<String>,
    String,
    i64,
    Option<i64>,
    Option<String>,
    Option<String>,
    String,
    String,
);

pub async fn deliveries(
    store: &EventStore,
    tenant: &str,
    endpoint_id: &str,
) -> anyhow::Result<Vec<DeliveryView>> {
    let rows: Vec<DeliveryRow> = sqlx::query_as(
        "SELECT id, event_type, message_id, status, attempts, last_status_code, last_error, next_attempt_at, created_at, updated_at \
         FROM caselink_webhook_deliveries WHERE tenant_id = $1 AND endpoint_id = $2 ORDER BY created_at DESC, id LIMIT 500",
    )
    .bind(tenant)
    .bind(endpoint_id)
    .fetch_all(store.db().reader())
    .await?;
    Ok(rows
        .into_iter()
        .map(
            |(
                id,
                event_type,
                message_id,
                status,
                attempts,
                last_status_code,
                last_error,
                next_attempt_at,
                created_at,
                updated_at,
            )| DeliveryView {
                id,
                event_type,
                message_id,
                status,
                attempts,
                last_status_code,
                last_error,
                next_attempt_at,
                created_at,
                updated_at,
            },
        )
        .collect())
}

pub use casewire_contract::case_link::EndpointView;

/// An endpoint as its row holds it: (id, url, events as JSON, created_at).
type EndpointRow = (String, String, String, String);

fn endpoint_view((id, url, events, created_at): EndpointRow) -> anyhow::Result<EndpointView> {
    Ok(EndpointView {
        id,
        url,
        events: serde_json::from_str(&events)?,
        created_at,
    })
}

pub async fn endpoint(
    store: &EventStore,
    tenant: &str,
    id: &str,
) -> anyhow::Result<Option<EndpointView>> {
    let row: Option<EndpointRow> = sqlx::query_as(
        "SELECT id, url, events, created_at FROM caselink_webhook_endpoints WHERE tenant_id = $1 AND id = $2",
    )
    .bind(tenant)
    .bind(id)
    .fetch_optional(store.db().reader())
    .await?;
    row.map(endpoint_view).transpose()
}

/// The tenant's endpoints, oldest first (a tenant has a few).
pub async fn endpoints(store: &EventStore, tenant: &str) -> anyhow::Result<Vec<EndpointView>> {
    let rows: Vec<EndpointRow> = sqlx::query_as(
        "SELECT id, url, events, created_at FROM caselink_webhook_endpoints WHERE tenant_id = $1 ORDER BY created_at, id",
    )
    .bind(tenant)
    .fetch_all(store.db().reader())
    .await?;
    rows.into_iter().map(endpoint_view).collect()
}
