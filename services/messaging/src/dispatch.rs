//! Dispatch: every queued text goes to the provider once, and never twice.
//!
//! Twilio has no idempotency key, so "never twice" rests on one rule (see
//! `Message::handle`): an attempt is recorded (`DispatchStarted`) before the provider is
//! called, and no new attempt starts while an earlier one may have reached the provider.
//! An attempt whose outcome is unknown (a 5xx, a timeout, a crash before the answer was
//! recorded) is settled by looking the text up in the provider's message list (same
//! recipient and body, created since the attempt began): found, it is recorded as
//! accepted; not found, the attempt is abandoned and the next one may send. The windows
//! that remain are in docs/decisions.md.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use casewire_bus::jobs::{self, Job, Outcome, Worker};
use casewire_bus::{Of, Projection, Reader, Reads};
use casewire_events::message::{MessageEvent, Purpose};
use casewire_events::{Actor, Metadata, RecordedEvent};
use casewire_eventstore::EventStore;
use casewire_sms::twilio::TwilioClient;
use casewire_tenancy::SmsSettings;
use chrono::{DateTime, Utc};
use serde_json::json;
use sqlx::{Any, Transaction};

use crate::checks::Facts;
use crate::message::{Message, MessageCommand};
use crate::provider::{verdict, Provider, Verdict};
use crate::MessagingSettings;

pub const QUEUE: &str = "messaging.dispatch";
/// The error code of a held text consent no longer allows when its time comes.
pub const WITHDRAWN: &str = "consent_withdrawn";
/// Attempts before a text the provider keeps not taking is failed.
const MAX_ATTEMPTS: u32 = 8;

/// Hands every queued text to the dispatcher.
pub struct Outbox;

#[async_trait]
impl Projection for Outbox {
    fn name(&self) -> &'static str {
        "messaging_outbox"
    }

    fn reads(&self) -> Reads {
        Reads::Only(&[])
    }

    /// The job is enqueued with the text's `OutboundQueued`, so the dispatcher can take it
    /// the moment the append commits, and removed with its `Accepted` or `Failed`, so the
    /// outcome, the text's status and the job's end are one commit. Enqueued twice (the
    /// reader's backlog after a restart), the dispatcher finds the text already dispatched
    /// and does nothing.
    fn inline(&self) -> Reads {
        const OF: &[Of] = &[Of::only(
            casewire_events::message::AGGREGATE,
            &["OutboundQueued", "Accepted", "Failed", "OutcomeUnknown"],
        )];
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
        match e.decode()? {
            MessageEvent::OutboundQueued { deliver_after, .. } => {
                // A text held by quiet hours is due when they end.
                let due = match deliver_after {
                    Some(at) => DateTime::parse_from_rfc3339(&at)?.with_timezone(&Utc),
                    None => casewire_events::utc_now(),
                };
                jobs::enqueue(tx, QUEUE, &e.tenant_id, &e.aggregate_id, &json!({}), due).await
            }
            MessageEvent::Accepted { .. }
            | MessageEvent::Failed { .. }
            | MessageEvent::OutcomeUnknown { .. } => {
                jobs::remove(tx, QUEUE, &e.tenant_id, &e.aggregate_id).await
            }
            _ => Ok(()),
        }
    }
}

pub struct Dispatcher {
    pub(crate) settings: Arc<MessagingSettings>,
    pub(crate) twilio: TwilioClient,
    /// Messaging's reader: caught up before a text's consent is checked at dispatch.
    pub(crate) reader: Reader,
}

impl Dispatcher {
    fn provider(&self, settings: Option<SmsSettings>) -> Option<Provider> {
        match settings {
            Some(settings) => Some(Provider::from_settings(settings, &self.twilio)),
            None if self.settings.sandbox_by_default => Some(Provider::Sandbox),
            None => None,
        }
    }

    /// The facts a dispatch decides on. Before a text's first attempt its consent is
    /// checked again (see [`withdrawn`]), so the reader is caught up first: a STOP recorded
    /// since the text was queued (or while it waited out quiet hours) is then seen.
    async fn facts(&self, tenant: &str, m: &Message) -> anyhow::Result<Facts> {
        if m.attempts == 0 && m.purpose != Purpose::System {
            self.reader.catch_up(tenant).await?;
        }
        crate::checks::facts(self.reader.store(), tenant, &m.phone).await
    }

    fn status_callback(&self, tenant: &str, message_id: &str) -> Option<String> {
        let base = self.settings.public_url.as_deref()?;
        Some(format!(
            "{}/webhooks/twilio/{tenant}/status?message_id={message_id}",
            base.trim_end_matches('/')
        ))
    }
}

/// Consent asked again as a text is about to go for the first time: `Some(reason)` when it
/// must not go. casewire's own answers to a keyword (STOP's included) always go.
fn withdrawn(facts: &Facts, m: &Message) -> Option<String> {
    if m.purpose == Purpose::System {
        return None;
    }
    let answer = facts.consent(m.purpose, &m.phone);
    let when = match m.deliver_after {
        Some(_) => "while it waited for quiet hours to end",
        None => "before it went",
    };
    (!answer.allowed).then(|| format!("not sent: {when}, {}", answer.reason()))
}

/// Records a step of the text's dispatch on the message as last loaded or recorded.
async fn record(
    store: &EventStore,
    tenant: &str,
    id: &str,
    message: &mut (Message, i64),
    command: MessageCommand,
) -> anyhow::Result<()> {
    let metadata = Metadata::new(Actor::System).into_map();
    casewire_bus::record_on::<Message>(store, tenant, id, message, command, metadata).await?;
    Ok(())
}

fn later(attempt: u32, at_least: Option<Duration>) -> DateTime<Utc> {
    let wait = jobs::backoff(
        attempt as i64,
        Duration::from_secs(5),
        Duration::from_secs(600),
    )
    .max(at_least.unwrap_or_default());
    casewire_events::utc_now() + chrono::Duration::from_std(wait).unwrap_or_default()
}

#[async_trait]
impl Worker for Dispatcher {
    fn queue(&self) -> &'static str {
        QUEUE
    }

    async fn run(&self, store: &EventStore, job: &Job) -> anyhow::Result<Outcome> {
        let (tenant, id) = (job.tenant_id.as_str(), job.id.as_str());
        // Read once: each step below records on this state, which `record` keeps current.
        let mut message = casewire_bus::load::<Message>(store, tenant, id).await?;
        let m = message.0.clone();
        if !m.is_outbound() || m.dispatched() {
            return Ok(Outcome::Done);
        }
        if let Some(after) = &m.deliver_after {
            let after = DateTime::parse_from_rfc3339(after)?.with_timezone(&Utc);
            if after > casewire_events::utc_now() {
                return Ok(Outcome::RetryAt(after, "held by quiet hours".into()));
            }
        }
        let facts = self.facts(tenant, &m).await?;
        if m.attempts == 0 {
            if let Some(reason) = withdrawn(&facts, &m) {
                let fail = MessageCommand::Fail {
                    error_code: Some(WITHDRAWN.into()),
                    reason,
                };
                record(store, tenant, id, &mut message, fail).await?;
                return Ok(Outcome::Recorded);
            }
        }
        let body = m.body.clone().unwrap_or_default();
        let Some(provider) = self.provider(facts.provider) else {
            let reason = format!("the organization has no SMS provider: an admin sets one with PUT /v1/tenants/{tenant}/sms-provider");
            record(
                store,
                tenant,
                id,
                &mut message,
                MessageCommand::Fail {
                    error_code: None,
                    reason,
                },
            )
            .await?;
            return Ok(Outcome::Recorded);
        };

        if let Some((attempt, started_at)) = &m.in_flight {
            let since = DateTime::parse_from_rfc3339(started_at)?.with_timezone(&Utc);
            match provider.find_sent(id, &m.phone, &body, since).await {
                Ok(Some(sent)) => {
                    tracing::info!(
                        message_id = id,
                        attempt,
                        "an uncertain attempt had reached the provider; not sending again"
                    );
                    record(
                        store,
                        tenant,
                        id,
                        &mut message,
                        MessageCommand::Accept {
                            provider_sid: sent.sid,
                        },
                    )
                    .await?;
                    return Ok(Outcome::Recorded);
                }
                Ok(None) => {
                    let reason = format!("attempt {attempt} did not reach the provider (its message list has no such text)");
                    record(
                        store,
                        tenant,
                        id,
                        &mut message,
                        MessageCommand::Abandon { reason },
                    )
                    .await?;
                }
                Err(e) => {
                    // Each failure is in the trail; after MAX_LOOKUPS the text is `unknown`
                    // (the aggregate decides), its job removed with that event, and it is
                    // never sent again blindly.
                    let reason = format!("looking up attempt {attempt}: {e}");
                    let fail = MessageCommand::FailLookup {
                        reason: reason.clone(),
                    };
                    record(store, tenant, id, &mut message, fail).await?;
                    return Ok(match message.0.status.as_str() {
                        "unknown" => Outcome::Recorded,
                        _ => Outcome::RetryAt(later(message.0.lookups_failed, None), reason),
                    });
                }
            }
        }
        if m.attempts >= MAX_ATTEMPTS {
            let reason = format!(
                "the provider did not take the message in {MAX_ATTEMPTS} attempts; last: {}",
                m.last_reason.as_deref().unwrap_or("unknown")
            );
            record(
                store,
                tenant,
                id,
                &mut message,
                MessageCommand::Fail {
                    error_code: None,
                    reason,
                },
            )
            .await?;
            return Ok(Outcome::Recorded);
        }

        let attempt = m.attempts + 1;
        let begin = MessageCommand::BeginDispatch {
            provider: provider.kind().into(),
            now: casewire_events::now(),
        };
        if let Err(e) = record(store, tenant, id, &mut message, begin).await {
            // Another replica began at the same moment; its attempt stands.
            return Ok(Outcome::RetryAt(later(attempt, None), e.to_string()));
        }
        let callback = match provider {
            Provider::Twilio { .. } => self.status_callback(tenant, id),
            Provider::Sandbox => None,
        };
        match provider
            .send(id, &m.phone, &body, callback.as_deref())
            .await
        {
            Ok(sent) => {
                record(
                    store,
                    tenant,
                    id,
                    &mut message,
                    MessageCommand::Accept {
                        provider_sid: sent.sid,
                    },
                )
                .await?;
                if let Provider::Sandbox = provider {
                    let delivered = MessageCommand::ReportStatus {
                        status: "delivered".into(),
                        error_code: None,
                    };
                    record(store, tenant, id, &mut message, delivered).await?;
                }
                Ok(Outcome::Recorded)
            }
            Err(e) => match verdict(&e) {
                Verdict::Refused => {
                    let fail = MessageCommand::Fail {
                        error_code: e.code.map(|c| c.to_string()),
                        reason: e.reason(),
                    };
                    record(store, tenant, id, &mut message, fail).await?;
                    Ok(Outcome::Recorded)
                }
                Verdict::NotTaken => {
                    record(
                        store,
                        tenant,
                        id,
                        &mut message,
                        MessageCommand::Abandon {
                            reason: e.to_string(),
                        },
                    )
                    .await?;
                    Ok(Outcome::RetryAt(
                        later(attempt, e.retry_after),
                        e.to_string(),
                    ))
                }
                // Left in flight: the next run looks it up before anything is sent again.
                Verdict::Unknown => Ok(Outcome::RetryAt(later(attempt, None), e.to_string())),
            },
        }
    }
}
