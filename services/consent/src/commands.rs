//! The commands consent answers over the bus: one function per command of
//! `casewire_contract::consent`.

use std::collections::HashMap;
use std::sync::Arc;

use casewire_bus::{CommandError, Envelope, Handlers, Reader};
use casewire_contract::consent::{ConsentView, Record, Request, SERVICE};
use casewire_eventstore::EventStore;

use crate::consent::{Consent, ConsentCommand};

pub struct Commands {
    pub(crate) store: EventStore,
    pub(crate) reader: Reader,
}

/// Every command consent answers, each to its function below.
pub(crate) fn handlers(commands: Commands) -> Handlers<Commands> {
    Handlers::new(SERVICE, commands)
        .on::<Request, _, _>(Commands::request)
        .on::<Record, _, _>(Commands::record)
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
    ) -> Result<ConsentView, CommandError> {
        casewire_bus::execute::<Consent>(&self.reader, tenant, phone, command, metadata).await?;
        crate::states::find(&self.store, tenant, phone)
            .await
            .map_err(CommandError::internal)
    }

    async fn request(
        self: Arc<Self>,
        Envelope {
            tenant,
            metadata,
            body,
        }: Envelope<Request>,
    ) -> Result<ConsentView, CommandError> {
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

    async fn record(
        self: Arc<Self>,
        Envelope {
            tenant,
            metadata,
            body,
        }: Envelope<Record>,
    ) -> Result<ConsentView, CommandError> {
        let record = ConsentCommand::Record {
            phone: body.phone.clone(),
            state: body.state,
            method: body.method,
            note: body.note,
            api_key: metadata.get("actor").cloned().unwrap_or_default(),
        };
        self.execute(&tenant, &body.phone, record, metadata).await
    }
}
