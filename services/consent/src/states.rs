//! consent's read model (each number's state and the evidence of every change) and the
//! worker that reads clients' texts for keywords.

use std::sync::Arc;

use async_trait::async_trait;
use casewire_bus::jobs::{self, Job, Outcome, Worker};
use casewire_bus::Projection;
use casewire_events::message::MessageEvent;
use casewire_events::{Actor, Metadata, RecordedEvent};
use casewire_eventstore::EventStore;
use serde::Serialize;
use serde_json::json;
use sqlx::{Any, Transaction};

use crate::consent::{Consent, ConsentCommand, ConsentEvent, State};
use crate::keywords::Keywords;

pub const QUEUE: &str = "consent.inbound";

fn state_name(s: State) -> &'static str {
    match s {
        State::None => "none",
        State::Pending => "pending",
        State::Granted => "granted",
        State::Revoked => "revoked",
    }
}

pub struct Consents;

#[async_trait]
impl Projection for Consents {
    fn name(&self) -> &'static str {
        "consent_states"
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
                    &json!({}),
                    chrono::Utc::now(),
                )
                .await?;
            }
            return Ok(());
        }
        if e.aggregate_type != <Consent as cqrs_es::Aggregate>::TYPE {
            return Ok(());
        }
        let (phone, state) = match e.decode()? {
            ConsentEvent::ConfirmationRequested { phone, .. } => (phone, State::Pending),
            ConsentEvent::ConsentGranted { phone, .. } => (phone, State::Granted),
            ConsentEvent::ConsentRevoked { phone, .. } => (phone, State::Revoked),
        };
        sqlx::query(
            "INSERT INTO consent_states (tenant_id, phone, state, updated_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (tenant_id, phone) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at",
        )
        .bind(&e.tenant_id)
        .bind(&phone)
        .bind(state_name(state))
        .bind(&e.recorded_at)
        .execute(&mut **tx)
        .await?;
        sqlx::query(
            "INSERT INTO consent_evidence (tenant_id, tenant_seq, phone, state, evidence, recorded_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (tenant_id, tenant_seq) DO NOTHING",
        )
        .bind(&e.tenant_id)
        .bind(e.tenant_seq)
        .bind(&phone)
        .bind(state_name(state))
        .bind(e.sealed_at(&format!("/{}/evidence", e.event_type)).unwrap_or_default())
        .bind(&e.recorded_at)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }
}

/// Reads each client's text for keywords and records what it means for consent.
pub struct KeywordReader {
    pub(crate) projections: Vec<Arc<dyn Projection>>,
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
                let metadata = Metadata::new(Actor::Twilio).into_map();
                casewire_bus::execute::<Consent>(
                    store,
                    &self.projections,
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
            _ => {
                let text = body.value().cloned().unwrap_or_default();
                ConsentCommand::Inbound {
                    phone: from.clone(),
                    message_id: job.id.clone(),
                    meaning: Keywords::default().classify(&text),
                    text,
                }
            }
        };
        let metadata = Metadata::new(Actor::System).into_map();
        casewire_bus::execute::<Consent>(
            store,
            &self.projections,
            &job.tenant_id,
            &from,
            command,
            metadata,
        )
        .await?;
        Ok(Outcome::Done)
    }
}

/// A number's consent as the API shows it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ConsentView {
    pub phone: String,
    /// none, pending, granted or revoked.
    pub state: String,
    pub updated_at: Option<String>,
    /// Every change, oldest first.
    pub history: Vec<EvidenceView>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EvidenceView {
    pub state: String,
    /// The client's text (opened), the staff member's key, method and note, or Twilio's reason.
    #[schema(value_type = Object)]
    pub evidence: serde_json::Value,
    pub recorded_at: String,
}

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

/// Whether a number may be texted for a conversation: anything but revoked.
pub async fn may_text(store: &EventStore, tenant: &str, phone: &str) -> anyhow::Result<bool> {
    let state: Option<(String,)> =
        sqlx::query_as("SELECT state FROM consent_states WHERE tenant_id = $1 AND phone = $2")
            .bind(tenant)
            .bind(phone)
            .fetch_optional(store.db().reader())
            .await?;
    Ok(state.is_none_or(|(s,)| s != "revoked"))
}
