//! The commands messaging answers over the bus.

use std::sync::Arc;

use async_trait::async_trait;
use casewire_bus::{Bus, CommandError, CommandHandler, Envelope, Projection};
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

impl Commands {
    /// Asks consent before every text; a number that opted out is refused. When consent
    /// cannot answer, nothing is sent.
    async fn consented(
        &self,
        tenant: &str,
        metadata: &std::collections::HashMap<String, String>,
        phone: &str,
    ) -> Result<(), CommandError> {
        let ask = json!({ "tenant": tenant, "metadata": metadata, "body": { "phone": phone } });
        let answer = self.bus.request("consent", "may_text", ask).await?;
        if answer["allowed"] == true {
            return Ok(());
        }
        Err(CommandError::new(
            "conflict",
            "the client opted out of texts (they replied STOP or asked to stop): nothing was sent; \
             they must text START or YES to receive texts again",
        ))
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
                // The case may have been linked a moment ago: read it as the log has it.
                casewire_bus::caught_up(store, projections, &tenant).await?;
                let case: Option<(String,)> = sqlx::query_as(
                    "SELECT phone FROM messaging_cases WHERE tenant_id = $1 AND case_id = $2",
                )
                .bind(&tenant)
                .bind(&body.case_id)
                .fetch_optional(store.db().reader())
                .await
                .map_err(CommandError::internal)?;
                let (to,) = case.ok_or_else(|| {
                    CommandError::not_found(
                        "no such case: link it first with PUT /v1/cases/{case_id}",
                    )
                })?;
                self.consented(&tenant, &metadata, &to).await?;
                let price = crate::providers()
                    .get(store, &tenant)
                    .await
                    .map_err(CommandError::internal)?
                    .map(|s| s.price_per_segment_micros);
                if price.is_none() && !self.settings.sandbox_by_default {
                    return Err(CommandError::new(
                        "conflict",
                        format!("the organization has no SMS provider yet: an admin sets one with PUT /v1/tenants/{tenant}/sms-provider"),
                    ));
                }
                let id = uuid::Uuid::now_v7().to_string();
                let queue = MessageCommand::Queue {
                    case_id: body.case_id,
                    to,
                    body: body.body,
                    price_per_segment_micros: price
                        .unwrap_or(casewire_tenancy::DEFAULT_PRICE_PER_SEGMENT_MICROS),
                };
                casewire_bus::execute::<Message>(store, projections, &tenant, &id, queue, metadata)
                    .await?;
                self.view(&tenant, &id).await
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
