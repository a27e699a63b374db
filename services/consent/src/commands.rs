//! The commands consent answers over the bus.

use std::collections::HashMap;

use async_trait::async_trait;
use casewire_bus::{CommandError, CommandHandler, Envelope, Reader};
use casewire_eventstore::EventStore;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::consent::{Consent, ConsentCommand, Method, State};

pub struct Commands {
    pub(crate) store: EventStore,
    pub(crate) reader: Reader,
}

#[derive(Deserialize)]
struct Request {
    phone: String,
    language: Option<String>,
}

#[derive(Deserialize)]
struct List {
    state: Option<String>,
    #[serde(default)]
    after: String,
    limit: Option<i64>,
}

#[derive(Deserialize)]
struct Record {
    phone: String,
    state: State,
    method: Method,
    note: Option<String>,
}

impl Commands {
    /// Runs a command on a number's consent and answers with the number's consent as it
    /// now stands.
    async fn execute(
        &self,
        tenant: &str,
        phone: &str,
        command: ConsentCommand,
        metadata: HashMap<String, String>,
    ) -> Result<Value, CommandError> {
        casewire_bus::execute::<Consent>(&self.reader, tenant, phone, command, metadata).await?;
        let view = crate::states::find(&self.store, tenant, phone)
            .await
            .map_err(CommandError::internal)?;
        Ok(json!(view))
    }
}

#[async_trait]
impl CommandHandler for Commands {
    async fn handle(&self, command: &str, body: Value) -> Result<Value, CommandError> {
        match command {
            "request" => {
                let Envelope {
                    tenant,
                    metadata,
                    body,
                } = Envelope::<Request>::parse(body)?;
                let language = match body.language.as_deref().map(str::trim) {
                    None | Some("") => "en".to_string(),
                    Some(l) if casewire_events::case::is_language_tag(l) => l.to_ascii_lowercase(),
                    Some(l) => {
                        return Err(CommandError::invalid(format!(
                            "language: {l:?} is not a language code such as en or es"
                        )))
                    }
                };
                let request = ConsentCommand::RequestConfirmation {
                    phone: body.phone.clone(),
                    api_key: metadata.get("actor").cloned().unwrap_or_default(),
                    language,
                };
                self.execute(&tenant, &body.phone, request, metadata).await
            }
            "list" => {
                let Envelope { tenant, body, .. } = Envelope::<List>::parse(body)?;
                if let Some(state) = body.state.as_deref() {
                    if !["none", "pending", "granted", "revoked"].contains(&state) {
                        return Err(CommandError::invalid(format!(
                            "state must be pending, granted or revoked, not {state:?}"
                        )));
                    }
                }
                let limit = body.limit.unwrap_or(500);
                if !(1..=1000).contains(&limit) {
                    return Err(CommandError::invalid("limit must be between 1 and 1000"));
                }
                casewire_bus::caught_up(&self.reader, &tenant).await?;
                let items = crate::states::list(
                    &self.store,
                    &tenant,
                    body.state.as_deref(),
                    &body.after,
                    limit,
                )
                .await
                .map_err(CommandError::internal)?;
                let next = (items.len() as i64 == limit)
                    .then(|| items.last().map(|c| c.phone.clone()))
                    .flatten();
                Ok(json!({ "items": items, "next_after": next }))
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
                self.execute(&tenant, &body.phone, record, metadata).await
            }
            other => Err(CommandError::new(
                "unknown_command",
                format!("consent has no command {other}"),
            )),
        }
    }
}
