//! The commands consent answers over the bus.

use std::sync::Arc;

use async_trait::async_trait;
use casewire_bus::{CommandError, CommandHandler, Envelope, Projection};
use casewire_eventstore::EventStore;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::consent::{Consent, ConsentCommand, Method, State};

pub struct Commands {
    pub(crate) store: EventStore,
    pub(crate) projections: Vec<Arc<dyn Projection>>,
}

#[derive(Deserialize)]
struct MayText {
    phone: String,
}

#[derive(Deserialize)]
struct Record {
    phone: String,
    state: State,
    method: Method,
    note: Option<String>,
}

#[async_trait]
impl CommandHandler for Commands {
    async fn handle(&self, command: &str, body: Value) -> Result<Value, CommandError> {
        match command {
            // Asked by messaging before every text.
            "may_text" => {
                let Envelope { tenant, body, .. } = Envelope::<MayText>::parse(body)?;
                casewire_bus::caught_up(&self.store, &self.projections, &tenant).await?;
                let allowed = crate::states::may_text(&self.store, &tenant, &body.phone)
                    .await
                    .map_err(CommandError::internal)?;
                Ok(json!({ "allowed": allowed }))
            }
            "record" => {
                let Envelope {
                    tenant,
                    metadata,
                    body,
                } = Envelope::<Record>::parse(body)?;
                let api_key = metadata.get("actor").cloned().unwrap_or_default();
                let record = ConsentCommand::Record {
                    phone: body.phone.clone(),
                    state: body.state,
                    method: body.method,
                    note: body.note,
                    api_key,
                };
                casewire_bus::execute::<Consent>(
                    &self.store,
                    &self.projections,
                    &tenant,
                    &body.phone,
                    record,
                    metadata,
                )
                .await?;
                let view = crate::states::find(&self.store, &tenant, &body.phone)
                    .await
                    .map_err(CommandError::internal)?;
                Ok(json!(view))
            }
            other => Err(CommandError::new(
                "unknown_command",
                format!("consent has no command {other}"),
            )),
        }
    }
}
