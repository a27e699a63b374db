//! The commands case-link answers over the bus: one function per command of
//! `casewire_contract::case_link`.

use std::sync::Arc;

use casewire_bus::{CommandError, Envelope, Handlers, Reader, Refusal};
use casewire_contract::case_link::{
    CasePut, CorrectRouting, CreateWebhookEndpoint, CreatedEndpoint, PutCase, Routed,
    TestWebhookEndpoint, SERVICE,
};
use casewire_contract::Done;
use casewire_eventstore::EventStore;

use crate::case::{Case, CaseCommand};
use crate::routing::{InboundRoute, RouteCommand};
use crate::webhooks::{CreateEndpoint, EndpointCommand, WebhookEndpoint};

pub struct Commands {
    pub(crate) store: EventStore,
    pub(crate) reader: Reader,
    pub(crate) targets: crate::Targets,
}

/// Every command case-link answers, each to its function below.
pub(crate) fn handlers(commands: Commands) -> Handlers<Commands> {
    Handlers::new(SERVICE, commands)
        .on::<PutCase, _, _>(Commands::put_case)
        .on::<CreateWebhookEndpoint, _, _>(Commands::create_webhook_endpoint)
        .on::<CorrectRouting, _, _>(Commands::correct_routing)
        .on::<TestWebhookEndpoint, _, _>(Commands::test_webhook_endpoint)
}

impl Commands {
    async fn put_case(
        self: Arc<Self>,
        Envelope {
            tenant,
            metadata,
            body,
        }: Envelope<PutCase>,
    ) -> Result<CasePut, CommandError> {
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
            .ok_or_else(|| CommandError::internal("a linked case is not in the read model"))?;
        Ok(CasePut {
            created: !case.exists(),
            case: view,
        })
    }

    async fn create_webhook_endpoint(
        self: Arc<Self>,
        Envelope {
            tenant,
            metadata,
            body,
        }: Envelope<CreateWebhookEndpoint>,
    ) -> Result<CreatedEndpoint, CommandError> {
        // The URL's form first (the aggregate's rule), then where it leads (DNS, here).
        let url = crate::webhooks::check_url(&body.url)
            .map_err(|e| CommandError::new(e.code(), e.to_string()))?;
        let parsed = reqwest::Url::parse(&url).map_err(CommandError::internal)?;
        self.targets
            .check(&parsed)
            .await
            .map_err(CommandError::invalid)?;
        let id = uuid::Uuid::now_v7().to_string();
        let secret = casewire_webhooks::Secret::generate();
        let create = CreateEndpoint {
            url,
            events: body.events,
            secret: secret.as_str().to_string(),
        };
        let create = EndpointCommand::Create(create);
        casewire_bus::execute::<WebhookEndpoint>(&self.reader, &tenant, &id, create, metadata)
            .await?;
        let view = crate::webhooks::endpoint(&self.store, &tenant, &id)
            .await
            .map_err(CommandError::internal)?
            .ok_or_else(|| CommandError::internal("a created endpoint is not in the read model"))?;
        // The secret is shown this once; casewire keeps it only sealed.
        Ok(CreatedEndpoint {
            id: view.id,
            url: view.url,
            events: view.events,
            secret: secret.as_str().to_string(),
            created_at: view.created_at,
        })
    }

    async fn test_webhook_endpoint(
        self: Arc<Self>,
        Envelope {
            tenant,
            metadata,
            body,
        }: Envelope<TestWebhookEndpoint>,
    ) -> Result<Done, CommandError> {
        let id = &body.endpoint_id;
        let test = EndpointCommand::Test;
        casewire_bus::execute::<WebhookEndpoint>(&self.reader, &tenant, id, test, metadata).await?;
        Ok(Done {})
    }

    async fn correct_routing(
        self: Arc<Self>,
        Envelope {
            tenant,
            metadata,
            body,
        }: Envelope<CorrectRouting>,
    ) -> Result<Routed, CommandError> {
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
            return Err(CommandError::conflict(
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
        Ok(Routed {
            message_id: body.message_id,
            case_id: body.case_id,
            reason: "corrected".to_string(),
        })
    }
}
