//! A client's erasure, as messaging carries it out: Twilio is asked to delete its copy of
//! each of their texts, each deletion recorded (`ProviderCopyDeleted`), each failure too
//! (`ProviderDeleteFailed`) and tried again, so none is silent.

use async_trait::async_trait;
use casewire_bus::jobs::{self, Job, NewJob, Outcome, Worker};
use casewire_bus::{Of, Projection, Reads};
use casewire_events::erasure::{
    ErasureEvent, ProviderDeletionEvent, ERASURE_AGGREGATE, PROVIDER_DELETION_AGGREGATE,
};
use casewire_events::{Metadata, RecordedEvent};
use casewire_eventstore::EventStore;
use casewire_sms::twilio::TwilioClient;
use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use serde::{Deserialize, Serialize};
use sqlx::{Any, Transaction};

use crate::provider::Provider;

/// The queue of texts whose copy at Twilio is to be deleted.
pub const QUEUE: &str = "provider_deletions";

/// Queues the deletion of each of an erased client's texts that Twilio holds.
pub struct ProviderCopies;

#[async_trait]
impl Projection for ProviderCopies {
    fn name(&self) -> &'static str {
        "messaging_provider_copies"
    }

    fn reads(&self) -> Reads {
        const OF: &[Of] = &[
            Of::all(ERASURE_AGGREGATE),
            Of::all(PROVIDER_DELETION_AGGREGATE),
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
        if e.aggregate_type == PROVIDER_DELETION_AGGREGATE {
            // The text's row says how its copy stands.
            let (deleted_at, error) = match e.decode()? {
                ProviderDeletionEvent::ProviderCopyDeleted { .. } => {
                    (Some(e.recorded_at.clone()), None)
                }
                ProviderDeletionEvent::ProviderDeleteFailed { reason, .. } => (None, Some(reason)),
            };
            sqlx::query(
                "UPDATE messaging_messages SET provider_deleted_at = $1, provider_delete_error = $2 \
                 WHERE tenant_id = $3 AND id = $4",
            )
            .bind(deleted_at)
            .bind(error)
            .bind(&e.tenant_id)
            .bind(&e.aggregate_id)
            .execute(&mut **tx)
            .await?;
            return Ok(());
        }
        let ErasureEvent::ClientErased { phone, .. } = e.decode()?;
        let texts: Vec<(String, String)> = sqlx::query_as(
            "SELECT id, provider_sid FROM messaging_messages WHERE tenant_id = $1 AND phone = $2 \
             AND provider_sid IS NOT NULL AND provider_deleted_at IS NULL",
        )
        .bind(&e.tenant_id)
        .bind(&phone)
        .fetch_all(&mut **tx)
        .await?;
        let now = casewire_events::utc_now();
        let payloads: Vec<String> = texts
            .iter()
            .map(|(_, sid)| serde_json::json!({ "sid": sid, "cause": e.event_id }).to_string())
            .collect();
        let jobs: Vec<NewJob> = texts
            .iter()
            .zip(payloads)
            .map(|((id, _), payload)| NewJob {
                tenant: &e.tenant_id,
                id,
                payload,
                due_at: now,
                behind: true,
            })
            .collect();
        jobs::enqueue_all(tx, QUEUE, &jobs).await
    }
}

/// One text's copy at the provider: deleted once; failures on the way recorded.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct ProviderCopy {
    deleted: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum ProviderCopyError {
    #[error("deleted already")]
    Deleted,
}

impl Aggregate for ProviderCopy {
    const TYPE: &'static str = PROVIDER_DELETION_AGGREGATE;
    type Command = ProviderDeletionEvent;
    type Event = ProviderDeletionEvent;
    type Error = ProviderCopyError;
    type Services = ();

    /// What happened at the provider, recorded; nothing after the deletion.
    async fn handle(
        &mut self,
        outcome: ProviderDeletionEvent,
        _: &(),
        sink: &EventSink<Self>,
    ) -> Result<(), ProviderCopyError> {
        if self.deleted {
            return Err(ProviderCopyError::Deleted);
        }
        sink.write(outcome, self).await;
        Ok(())
    }

    fn apply(&mut self, event: ProviderDeletionEvent) {
        if let ProviderDeletionEvent::ProviderCopyDeleted { .. } = event {
            self.deleted = true;
        }
    }
}

/// Deletes Twilio's copies of erased clients' texts.
pub struct ProviderDeleter {
    pub(crate) twilio: TwilioClient,
}

#[async_trait]
impl Worker for ProviderDeleter {
    fn queue(&self) -> &'static str {
        QUEUE
    }

    async fn run(&self, store: &EventStore, job: &Job) -> anyhow::Result<Outcome> {
        let (tenant, id) = (job.tenant_id.as_str(), job.id.as_str());
        let sid = job.payload["sid"].as_str().unwrap_or_default().to_string();
        let settings = crate::providers().get(store, tenant).await?;
        // The sandbox keeps no copy anywhere else.
        let Some(Provider::Twilio { client, creds, .. }) =
            settings.map(|s| Provider::from_settings(s, &self.twilio))
        else {
            return Ok(Outcome::Done);
        };
        let metadata = Metadata::system(job.cause());
        let (outcome, retry) = match client.delete_message(&creds, &sid).await {
            Ok(()) => (
                ProviderDeletionEvent::ProviderCopyDeleted {
                    provider_sid: sid.clone(),
                },
                None,
            ),
            Err(e) => {
                let wait = jobs::backoff(
                    job.attempts,
                    std::time::Duration::from_secs(5),
                    std::time::Duration::from_secs(6 * 3600),
                );
                let reason = format!("Twilio answered {}: {}", e.http_status, e.message);
                (
                    ProviderDeletionEvent::ProviderDeleteFailed {
                        provider_sid: sid.clone(),
                        code: e.code.map(|c| c.to_string()),
                        reason: reason.clone(),
                    },
                    Some((wait, reason)),
                )
            }
        };
        let recorded = casewire_eventstore::framework::<ProviderCopy>(store, tenant, ())
            .execute_with_metadata(id, outcome, metadata.into_map())
            .await;
        match recorded {
            Ok(()) | Err(cqrs_es::AggregateError::UserError(ProviderCopyError::Deleted)) => {}
            Err(e) => anyhow::bail!("recording Twilio's deletion: {e}"),
        }
        Ok(match retry {
            None => Outcome::Done,
            Some((wait, reason)) => Outcome::RetryAt(
                casewire_events::utc_now() + chrono::Duration::from_std(wait).unwrap_or_default(),
                reason,
            ),
        })
    }
}
