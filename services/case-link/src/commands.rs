//! The commands case-link answers over the bus.

use async_trait::async_trait;
use casewire_bus::{CommandError, CommandHandler, Envelope, Reader};
use casewire_eventstore::EventStore;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::case::{Case, CaseCommand, CaseInput};
use crate::routing::{InboundRoute, RouteCommand};
use crate::webhooks::{CreateEndpoint, WebhookEndpoint};

pub struct Commands {
    pub(crate) store: EventStore,
    pub(crate) reader: Reader,
}

#[derive(Deserialize)]
struct PutCase {
    case_id: String,
    case: CaseInput,
}

#[derive(Deserialize)]
struct Correct {
    message_id: String,
    case_id: String,
}

#[derive(Deserialize)]
struct NewEndpoint {
    url: String,
    events: Vec<String>,
}

#[async_trait]
impl CommandHandler for Commands {
    async fn handle(&self, command: &str, body: Value) -> Result<Value, CommandError> {
        match command {
            "put_case" => {
                let Envelope {
                    tenant,
                    metadata,
                    body,
                } = Envelope::<PutCase>::parse(body)?;
                let (case, _) = casewire_bus::load::<Case>(&self.store, &tenant, &body.case_id)
                    .await
                    .map_err(CommandError::internal)?;
                casewire_bus::execute::<Case>(
                    &self.reader,
                    &tenant,
                    &body.case_id,
                    CaseCommand::Put(body.case),
                    metadata,
                )
                .await?;
                let view = crate::cases::find(&self.store, &tenant, &body.case_id)
                    .await
                    .map_err(CommandError::internal)?
                    .ok_or_else(|| {
                        CommandError::internal("a linked case is not in the read model")
                    })?;
                Ok(json!({ "created": !case.exists(), "case": view }))
            }
            "create_webhook_endpoint" => {
                let Envelope {
                    tenant,
                    metadata,
                    body,
                } = Envelope::<NewEndpoint>::parse(body)?;
                let id = uuid::Uuid::now_v7().to_string();
                let secret = casewire_webhooks::Secret::generate();
                let create = CreateEndpoint {
                    url: body.url,
                    events: body.events,
                    secret: secret.as_str().to_string(),
                };
                casewire_bus::execute::<WebhookEndpoint>(
                    &self.reader,
                    &tenant,
                    &id,
                    create,
                    metadata,
                )
                .await?;
                let view = crate::webhooks::endpoint(&self.store, &tenant, &id)
                    .await
                    .map_err(CommandError::internal)?
                    .ok_or_else(|| {
                        CommandError::internal("a created endpoint is not in the read model")
                    })?;
                // The secret is shown this once; casewire keeps it only sealed.
                Ok(
                    json!({ "id": view.id, "url": view.url, "events": view.events, "created_at": view.created_at, "secret": secret.as_str() }),
                )
            }
            "correct_routing" => {
                let Envelope {
                    tenant,
                    metadata,
                    body,
                } = Envelope::<Correct>::parse(body)?;
                casewire_bus::caught_up(&self.reader, &tenant).await?;
                let case = crate::cases::find(&self.store, &tenant, &body.case_id)
                    .await
                    .map_err(CommandError::internal)?;
                if case.is_none() {
                    return Err(CommandError::not_found("no such case"));
                }
                let (_, version) =
                    casewire_bus::load::<InboundRoute>(&self.store, &tenant, &body.message_id)
                        .await
                        .map_err(CommandError::internal)?;
                if version == 0 {
                    return Err(CommandError::new(
                        "conflict",
                        "this text is not routed yet; try again in a moment",
                    ));
                }
                let correct = RouteCommand::Correct {
                    message_id: body.message_id.clone(),
                    case_id: body.case_id.clone(),
                };
                casewire_bus::execute::<InboundRoute>(
                    &self.reader,
                    &tenant,
                    &body.message_id,
                    correct,
                    metadata,
                )
                .await?;
                Ok(
                    json!({ "message_id": body.message_id, "case_id": body.case_id, "reason": "corrected" }),
                )
            }
            other => Err(CommandError::new(
                "unknown_command",
                format!("case-link has no command {other}"),
            )),
        }
    }
}
