//! consent's read model (each number's state and the evidence of every change) and the
//! worker that reads clients' texts for keywords.

use async_trait::async_trait;
use casewire_bus::jobs::{self, Job, Outcome, Worker};
use casewire_bus::{Bus, Of, Projection, Reader, Reads};
use casewire_events::message::MessageEvent;
use casewire_events::{Actor, Metadata, RecordedEvent};
use casewire_eventstore::EventStore;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::{Any, Transaction};

use crate::consent::{Consent, ConsentCommand, ConsentEvent, Evidence};
use crate::replies::{render, Reply};
use casewire_keywords::{Keywords, Meaning};

pub const QUEUE: &str = "consent.inbound";
/// casewire's answers to clients.
pub const REPLIES: &str = "consent.replies";

/// One answer to send: what, to whom, in which language.
#[derive(Debug, Serialize, Deserialize)]
struct Answer {
    phone: String,
    reply: Reply,
    language: String,
    in_reply_to: Option<String>,
}

pub struct Consents;

#[async_trait]
impl Projection for Consents {
    fn name(&self) -> &'static str {
        "consent_states"
    }

    fn reads(&self) -> Reads {
        const OF: &[Of] = &[
            Of::only(
                casewire_events::message::AGGREGATE,
                &["InboundReceived", "Failed"],
            ),
            Of::all(<Consent as cqrs_es::Aggregate>::TYPE),
        ];
        Reads::Only(OF)
    }

    fn feeds(&self) -> &'static [&'static str] {
        &[QUEUE, REPLIES]
    }

    async fn apply(
        &self,
        tx: &mut Transaction<'static, Any>,
        _: &EventStore,
        e: &RecordedEvent,
    ) -> anyhow::Result<()> {
        if e.aggregate_type == casewire_events::message::AGGREGATE {
            // Every client's text is read for keywords, before or besides its routing; a
            // send Twilio refused because the number replied STOP to it (21610) is an
            // opt-out recorded without a reply.
            let unsubscribed = e.event_type == "Failed"
                && matches!(e.decode()?, MessageEvent::Failed { error_code: Some(code), .. } if code == "21610");
            if e.event_type == "InboundReceived" || unsubscribed {
                jobs::enqueue(
                    tx,
                    QUEUE,
                    &e.tenant_id,
                    &e.aggregate_id,
                    // What the worker records names this event as its cause.
                    &json!({"cause": e.event_id}),
                    chrono::Utc::now(),
                )
                .await?;
            }
            return Ok(());
        }
        if e.aggregate_type != <Consent as cqrs_es::Aggregate>::TYPE {
            return Ok(());
        }
        let event: ConsentEvent = e.decode()?;
        let phone = event.phone();
        let (reply, evidence) = match &event {
            ConsentEvent::ConfirmationRequested {
                language, evidence, ..
            } => (Some((Reply::Confirmation, language.clone())), evidence),
            ConsentEvent::ConsentGranted {
                reply, evidence, ..
            } => (reply.clone().map(|l| (Reply::OptIn, l)), evidence),
            ConsentEvent::ConsentRevoked {
                reply, evidence, ..
            } => (reply.clone().map(|l| (Reply::OptOut, l)), evidence),
            ConsentEvent::RevocationUnclear {
                reply, evidence, ..
            } => (reply.clone().map(|l| (Reply::Clarification, l)), evidence),
            ConsentEvent::ConfirmationExplained {
                language, evidence, ..
            } => (Some((Reply::HowToConfirm, language.clone())), evidence),
        };
        if let Some((reply, language)) = reply {
            // The answer is sent as a job made with the event, once: its message id is the
            // event's id, so a retry after a crash cannot send it twice.
            let in_reply_to = match evidence {
                Evidence::Inbound { message_id, .. } => Some(message_id.clone()),
                _ => None,
            };
            let answer = Answer {
                phone: phone.to_string(),
                reply,
                language,
                in_reply_to,
            };
            jobs::enqueue(
                tx,
                REPLIES,
                &e.tenant_id,
                &e.event_id,
                &serde_json::to_value(&answer)?,
                casewire_events::utc_now(),
            )
            .await?;
        }
        // Staff see an unclear one in the inbox (messaging's read model), not as a state.
        let Some(state) = event.state() else {
            return Ok(());
        };
        sqlx::query(
            "INSERT INTO consent_states (tenant_id, phone, state, updated_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (tenant_id, phone) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at",
        )
        .bind(&e.tenant_id)
        .bind(phone)
        .bind(state.as_str())
        .bind(&e.recorded_at)
        .execute(&mut **tx)
        .await?;
        sqlx::query(
            "INSERT INTO consent_evidence (tenant_id, tenant_seq, phone, state, evidence, recorded_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (tenant_id, tenant_seq) DO NOTHING",
        )
        .bind(&e.tenant_id)
        .bind(e.tenant_seq)
        .bind(phone)
        .bind(state.as_str())
        .bind(e.sealed_at(&format!("/{}/evidence", e.event_type)).unwrap_or_default())
        .bind(&e.recorded_at)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }
}

/// Reads each client's text for keywords and records what it means for consent.
pub struct KeywordReader {
    pub(crate) reader: Reader,
    pub(crate) bus: Bus,
}

#[async_trait]
impl Worker for KeywordReader {
    fn queue(&self) -> &'static str {
        QUEUE
    }

    async fn run(&self, store: &EventStore, job: &Job) -> anyhow::Result<Outcome> {
        let events = store
            .read_aggregate(
                &job.tenant_id,
                casewire_events::message::AGGREGATE,
                &job.id,
                0,
            )
            .await?;
        let (from, body, opt_out_type) = match events
            .first()
            .map(|e| serde_json::from_str(&e.payload))
            .transpose()?
        {
            Some(MessageEvent::InboundReceived {
                from,
                body,
                opt_out_type,
                ..
            }) => (from, body, opt_out_type),
            Some(MessageEvent::OutboundQueued { to, .. }) => {
                let command = ConsentCommand::Provider {
                    phone: to.clone(),
                    message_id: job.id.clone(),
                    opted_out: true,
                    reason: "Twilio 21610: the number replied STOP".into(),
                };
                let metadata = Metadata {
                    causation_id: job.cause().map(str::to_string),
                    ..Metadata::new(Actor::Twilio)
                }
                .into_map();
                casewire_bus::execute::<Consent>(
                    &self.reader,
                    &job.tenant_id,
                    &to,
                    command,
                    metadata,
                )
                .await?;
                return Ok(Outcome::Done);
            }
            _ => return Ok(Outcome::Done),
        };
        let command = match opt_out_type
            .as_deref()
            .map(str::to_ascii_uppercase)
            .as_deref()
        {
            // Twilio handled the keyword and answered the client itself.
            Some("STOP") => ConsentCommand::Provider {
                phone: from.clone(),
                message_id: job.id.clone(),
                opted_out: true,
                reason: "OptOutType STOP".into(),
            },
            Some("START") => ConsentCommand::Provider {
                phone: from.clone(),
                message_id: job.id.clone(),
                opted_out: false,
                reason: "OptOutType START".into(),
            },
            // Twilio answered HELP itself.
            Some("HELP") => return Ok(Outcome::Done),
            _ => {
                let text = body.value().cloned().unwrap_or_default();
                let policy = crate::policies()
                    .get(store, &job.tenant_id)
                    .await?
                    .unwrap_or_default();
                let keywords = Keywords::for_policy(&policy);
                let (meaning, language) = match keywords.classify(&text) {
                    Some((m, l)) => (Some(m), l.to_string()),
                    None => (None, "en".to_string()),
                };
                if meaning == Some(Meaning::Help) {
                    // Not a change of consent: answered at once, under an id made from the
                    // client's text so that a retried job answers once.
                    let answer = Answer {
                        phone: from.clone(),
                        reply: Reply::Help,
                        language,
                        in_reply_to: Some(job.id.clone()),
                    };
                    let id = uuid::Uuid::new_v5(
                        &uuid::Uuid::NAMESPACE_OID,
                        format!("{}/{}/help", job.tenant_id, job.id).as_bytes(),
                    );
                    let id = id.to_string();
                    send(store, &self.bus, &job.tenant_id, &id, job.cause(), &answer).await?;
                    return Ok(Outcome::Done);
                }
                ConsentCommand::Inbound {
                    phone: from.clone(),
                    message_id: job.id.clone(),
                    meaning,
                    text,
                    language,
                }
            }
        };
        let metadata = Metadata::system(job.cause()).into_map();
        casewire_bus::execute::<Consent>(&self.reader, &job.tenant_id, &from, command, metadata)
            .await?;
        Ok(Outcome::Done)
    }
}

/// Sends casewire's answers to clients.
pub struct Replier {
    pub(crate) bus: Bus,
}

#[async_trait]
impl Worker for Replier {
    fn queue(&self) -> &'static str {
        REPLIES
    }

    async fn run(&self, store: &EventStore, job: &Job) -> anyhow::Result<Outcome> {
        let answer: Answer = serde_json::from_value(job.payload.clone())?;
        // The job is named after the consent event it answers: that event is its cause.
        match send(
            store,
            &self.bus,
            &job.tenant_id,
            &job.id,
            Some(&job.id),
            &answer,
        )
        .await
        {
            Ok(()) => Ok(Outcome::Done),
            // Messaging is down, or the tenant has no provider yet: try again later.
            Err(e) => {
                let wait = jobs::backoff(
                    job.attempts,
                    std::time::Duration::from_secs(5),
                    std::time::Duration::from_secs(3600),
                );
                Ok(Outcome::RetryAt(
                    casewire_events::utc_now() + chrono::Duration::from_std(wait)?,
                    e.to_string(),
                ))
            }
        }
    }
}

/// Asks messaging to send an answer under `id`: asked twice, it is sent once. The text
/// names `cause`, the event it answers.
async fn send(
    store: &EventStore,
    bus: &Bus,
    tenant: &str,
    id: &str,
    cause: Option<&str>,
    answer: &Answer,
) -> anyhow::Result<()> {
    let policy = crate::policies()
        .get(store, tenant)
        .await?
        .unwrap_or_default();
    let organization: Option<(String,)> =
        sqlx::query_as("SELECT name FROM consent_tenants WHERE id = $1")
            .bind(tenant)
            .fetch_optional(store.db().reader())
            .await?;
    let organization = organization.map(|(n,)| n).unwrap_or_default();
    let body = render(answer.reply, &answer.language, &organization, &policy);
    let reply = casewire_contract::messaging::Reply {
        id: id.to_string(),
        to: answer.phone.clone(),
        body,
        in_reply_to: answer.in_reply_to.clone(),
    };
    bus.ask(tenant, Metadata::system(cause).into_map(), reply)
        .await
        .map_err(|e| anyhow::anyhow!("messaging: {}", e.message))?;
    Ok(())
}

pub use casewire_contract::consent::{ConsentView, EvidenceView};

pub async fn find(store: &EventStore, tenant: &str, phone: &str) -> anyhow::Result<ConsentView> {
    let state: Option<(String, String)> = sqlx::query_as(
        "SELECT state, updated_at FROM consent_states WHERE tenant_id = $1 AND phone = $2",
    )
    .bind(tenant)
    .bind(phone)
    .fetch_optional(store.db().reader())
    .await?;
    let rows: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT state, evidence, recorded_at FROM consent_evidence WHERE tenant_id = $1 AND phone = $2 ORDER BY tenant_seq",
    )
    .bind(tenant)
    .bind(phone)
    .fetch_all(store.db().reader())
    .await?;
    let mut history = Vec::with_capacity(rows.len());
    for (state, evidence, recorded_at) in rows {
        let mut evidence = store.open_payload(tenant, &evidence).await?;
        unseal(&mut evidence);
        history.push(EvidenceView {
            state,
            evidence,
            recorded_at,
        });
    }
    Ok(ConsentView {
        phone: phone.to_string(),
        state: state
            .as_ref()
            .map_or("none".to_string(), |(s, _)| s.clone()),
        updated_at: state.map(|(_, at)| at),
        history,
    })
}

/// Opened sealed nodes shown as their value (or null once erased).
fn unseal(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Object(m) => {
            if let Some(inner) = m.get(casewire_events::SEALED_TAG) {
                *v = inner
                    .get("value")
                    .cloned()
                    .unwrap_or(serde_json::Value::Null);
                return;
            }
            m.values_mut().for_each(unseal);
        }
        serde_json::Value::Array(a) => a.iter_mut().for_each(unseal),
        _ => {}
    }
}

/// One number in the list of consents.
#[derive(Debug, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct ConsentSummary {
    pub phone: String,
    pub state: String,
    pub updated_at: String,
}

/// The tenant's numbers in `state` (all when `None`), by phone, `limit` after `after`.
pub async fn list(
    store: &EventStore,
    tenant: &str,
    state: Option<&str>,
    after: &str,
    limit: i64,
) -> anyhow::Result<Vec<ConsentSummary>> {
    Ok(sqlx::query_as(
        "SELECT phone, state, updated_at FROM consent_states \
         WHERE tenant_id = $1 AND ($2 = '' OR state = $2) AND phone > $3 ORDER BY phone LIMIT $4",
    )
    .bind(tenant)
    .bind(state.unwrap_or_default())
    .bind(after)
    .bind(limit)
    .fetch_all(store.db().reader())
    .await?)
}
