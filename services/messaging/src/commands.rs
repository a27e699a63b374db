//! The commands messaging answers over the bus.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use casewire_bus::{Bus, CommandError, CommandHandler, Envelope, Projection};
use casewire_events::message::Purpose;
use casewire_eventstore::EventStore;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::message::{Message, MessageCommand};
use crate::MessagingSettings;

pub struct Commands {
    pub(crate) store: EventStore,
    pub(crate) bus: Bus,
    pub(crate) projections: Vec<Arc<dyn Projection>>,
    pub(crate) settings: Arc<MessagingSettings>,
}

#[derive(Deserialize)]
struct Send {
    case_id: String,
    body: String,
    #[serde(default)]
    purpose: Purpose,
}

/// casewire's own answer to a client (asked by consent): no case, no consent needed, no
/// quiet hours. The id is the caller's, so that asking twice sends once.
#[derive(Deserialize)]
struct Reply {
    id: String,
    to: String,
    body: String,
    in_reply_to: Option<String>,
}

#[derive(Deserialize)]
pub struct Receive {
    pub provider_sid: String,
    pub from: String,
    pub to: String,
    pub body: String,
    pub opt_out_type: Option<String>,
}

#[derive(Deserialize)]
struct ReportStatus {
    message_id: String,
    status: String,
    error_code: Option<String>,
}

/// Consent's answer for one number and purpose.
#[derive(Deserialize)]
struct MayText {
    allowed: bool,
    state: String,
    reason: Option<String>,
}

impl Commands {
    /// Asks consent before every text. A text consent refuses is recorded as refused and
    /// answered 409 with the reason; when consent cannot answer, nothing is sent.
    async fn consented(
        &self,
        tenant: &str,
        metadata: &HashMap<String, String>,
        case_id: &str,
        phone: &str,
        purpose: Purpose,
    ) -> Result<(), CommandError> {
        let ask = json!({
            "tenant": tenant,
            "metadata": metadata,
            "body": { "phone": phone, "purpose": purpose },
        });
        let answer: MayText =
            serde_json::from_value(self.bus.request("consent", "may_text", ask).await?)
                .map_err(CommandError::internal)?;
        if answer.allowed {
            return Ok(());
        }
        let reason = answer
            .reason
            .unwrap_or_else(|| "the client's consent does not allow this text".into());
        let id = uuid::Uuid::now_v7().to_string();
        let refuse = MessageCommand::Refuse {
            case_id: Some(case_id.to_string()),
            to: phone.to_string(),
            purpose,
            consent: answer.state,
            reason: reason.clone(),
        };
        casewire_bus::execute::<Message>(
            &self.store,
            &self.projections,
            tenant,
            &id,
            refuse,
            metadata.clone(),
        )
        .await?;
        Err(CommandError::new(
            "conflict",
            format!("{reason}; nothing was sent (refusal {id} is on the record)"),
        ))
    }

    /// The tenant's price per segment; `None` when it cannot text at all.
    async fn price(&self, tenant: &str) -> Result<u64, CommandError> {
        let price = crate::providers()
            .get(&self.store, tenant)
            .await
            .map_err(CommandError::internal)?
            .map(|s| s.price_per_segment_micros);
        match price {
            Some(p) => Ok(p),
            None if self.settings.sandbox_by_default => {
                Ok(casewire_tenancy::DEFAULT_PRICE_PER_SEGMENT_MICROS)
            }
            None => Err(CommandError::new(
                "conflict",
                format!("the organization has no SMS provider yet: an admin sets one with PUT /v1/tenants/{tenant}/sms-provider"),
            )),
        }
    }

    /// When quiet hours let a text for `purpose` to this case's client go: `None` at once.
    async fn deliver_after(
        &self,
        tenant: &str,
        case_zone: Option<String>,
        purpose: Purpose,
    ) -> Result<Option<String>, CommandError> {
        let store = &self.store;
        let policy = crate::policies()
            .get(store, tenant)
            .await
            .map_err(CommandError::internal)?
            .unwrap_or_default();
        let zone = match case_zone {
            Some(z) => Some(z),
            None => sqlx::query_as::<_, (String,)>(
                "SELECT timezone FROM messaging_tenants WHERE id = $1",
            )
            .bind(tenant)
            .fetch_optional(store.db().reader())
            .await
            .map_err(CommandError::internal)?
            .map(|(z,)| z),
        };
        let zone: chrono_tz::Tz = zone
            .and_then(|z| z.parse().ok())
            .unwrap_or(chrono_tz::America::New_York);
        Ok(policy
            .release(purpose, casewire_events::utc_now(), zone)
            .map(casewire_events::timestamp))
    }

    async fn view(&self, tenant: &str, id: &str) -> Result<Value, CommandError> {
        let view = crate::messages::find(&self.store, tenant, id)
            .await
            .map_err(CommandError::internal)?
            .ok_or_else(|| CommandError::not_found("no such message"))?;
        Ok(json!(view))
    }
}

#[async_trait]
impl CommandHandler for Commands {
    async fn handle(&self, command: &str, body: Value) -> Result<Value, CommandError> {
        let (store, projections) = (&self.store, &self.projections);
        match command {
            "send" => {
                let Envelope {
                    tenant,
                    metadata,
                    body,
                } = Envelope::<Send>::parse(body)?;
                if body.purpose == Purpose::System {
                    return Err(CommandError::invalid(
                        "purpose must be conversation, reminder or bulk",
                    ));
                }
                // The case may have been linked a moment ago: read it as the log has it.
                casewire_bus::caught_up(store, projections, &tenant).await?;
                let case: Option<(String, Option<String>)> = sqlx::query_as(
                    "SELECT phone, time_zone FROM messaging_cases WHERE tenant_id = $1 AND case_id = $2",
                )
                .bind(&tenant)
                .bind(&body.case_id)
                .fetch_optional(store.db().reader())
                .await
                .map_err(CommandError::internal)?;
                let (to, zone) = case.ok_or_else(|| {
                    CommandError::not_found(
                        "no such case: link it first with PUT /v1/cases/{case_id}",
                    )
                })?;
                self.consented(&tenant, &metadata, &body.case_id, &to, body.purpose)
                    .await?;
                let price = self.price(&tenant).await?;
                let deliver_after = self.deliver_after(&tenant, zone, body.purpose).await?;
                let id = uuid::Uuid::now_v7().to_string();
                let queue = MessageCommand::Queue {
                    case_id: Some(body.case_id),
                    to,
                    body: body.body,
                    price_per_segment_micros: price,
                    purpose: body.purpose,
                    deliver_after,
                    in_reply_to: None,
                };
                casewire_bus::execute::<Message>(store, projections, &tenant, &id, queue, metadata)
                    .await?;
                self.view(&tenant, &id).await
            }
            "reply" => {
                let Envelope {
                    tenant,
                    metadata,
                    body,
                } = Envelope::<Reply>::parse(body)?;
                let queue = MessageCommand::Queue {
                    case_id: None,
                    to: body.to,
                    body: body.body,
                    price_per_segment_micros: self.price(&tenant).await?,
                    purpose: Purpose::System,
                    deliver_after: None,
                    in_reply_to: body.in_reply_to,
                };
                match casewire_bus::execute::<Message>(
                    store,
                    projections,
                    &tenant,
                    &body.id,
                    queue,
                    metadata,
                )
                .await
                {
                    // Asked again after a crash: it is already queued, once.
                    Err(e) if e.code == "conflict" => {}
                    other => other?,
                }
                self.view(&tenant, &body.id).await
            }
            "receive" => {
                let Envelope {
                    tenant,
                    metadata,
                    body,
                } = Envelope::<Receive>::parse(body)?;
                let from = casewire_sms::phone::normalize(&body.from)
                    .map_err(|e| CommandError::invalid(format!("From: {e}")))?;
                let receive = MessageCommand::Receive {
                    from,
                    to: body.to,
                    body: body.body,
                    provider_sid: body.provider_sid.clone(),
                    opt_out_type: body.opt_out_type,
                };
                casewire_bus::execute::<Message>(
                    store,
                    projections,
                    &tenant,
                    &body.provider_sid,
                    receive,
                    metadata,
                )
                .await?;
                self.view(&tenant, &body.provider_sid).await
            }
            "report_status" => {
                let Envelope {
                    tenant,
                    metadata,
                    body,
                } = Envelope::<ReportStatus>::parse(body)?;
                let report = MessageCommand::ReportStatus {
                    status: body.status,
                    error_code: body.error_code,
                };
                casewire_bus::execute::<Message>(
                    store,
                    projections,
                    &tenant,
                    &body.message_id,
                    report,
                    metadata,
                )
                .await?;
                Ok(json!({}))
            }
            other => Err(CommandError::new(
                "unknown_command",
                format!("messaging has no command {other}"),
            )),
        }
    }
}
