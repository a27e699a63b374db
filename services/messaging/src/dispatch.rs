//! Dispatch: every queued text goes to the provider once, and never twice.
//!
//! Twilio has no idempotency key, so "never twice" rests on one rule (see
//! `Message::handle`): an attempt is recorded (`DispatchStarted`) before the provider is
//! called, and no new attempt starts while an earlier one may have reached the provider.
//! An attempt whose outcome is unknown (a 5xx, a timeout, a crash before the answer was
//! recorded) is settled by what the provider itself says ([`settle`]): its status callback
//! for the text (its URL carries the text's id) proves it took it; its message list, read
//! for texts to the client handed to a carrier since the attempt, finds it by body; and
//! only once the attempt's `ValidityPeriod` has passed can the provider no longer send it,
//! so only then does "not in the list" let the next attempt send. A list that cannot tell
//! (bodies redacted) ends the text `unknown`. docs/texting.md has the whole rule; the
//! windows that remain are in docs/decisions.md.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use casewire_bus::jobs::{self, Job, Outcome, Worker};
use casewire_bus::{Of, Projection, Reader, Reads};
use casewire_events::message::{MessageEvent, Purpose};
use casewire_events::{Actor, Metadata, RecordedEvent};
use casewire_eventstore::EventStore;
use casewire_sms::twilio::{Delivery, Lookup, TwilioClient};
use casewire_tenancy::{SmsSettings, Tenant, TenantCommand};
use chrono::{DateTime, Utc};
use serde_json::json;
use sqlx::{Any, Transaction};

use crate::checks::Facts;
use crate::message::{InFlight, Message, MessageCommand};
use crate::provider::{verdict, Provider, Verdict, CREDENTIALS_REFUSED};
use crate::MessagingSettings;

pub const QUEUE: &str = "messaging.dispatch";
/// The error code of a held text consent no longer allows when its time comes.
pub const WITHDRAWN: &str = "consent_withdrawn";
/// The error code of a text not sent because it was of no use any more.
pub const EXPIRED: &str = "expired";
/// Attempts before a text the provider keeps not taking is failed.
const MAX_ATTEMPTS: u32 = 8;
/// How far the provider's clock and ours may disagree.
const CLOCK_SKEW: chrono::TimeDelta = chrono::TimeDelta::minutes(5);
/// How often a text not seen in the provider's list yet is looked up again.
const LOOK_AGAIN: chrono::TimeDelta = chrono::TimeDelta::minutes(2);
/// How often a text held by a refusal of the tenant's credentials looks again.
const HELD: chrono::TimeDelta = chrono::TimeDelta::minutes(5);

/// What the provider says about an attempt whose outcome was lost.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Settled {
    /// It has the text: record it accepted under this id.
    Accepted(String),
    /// It neither sent the text nor can send it any more: the next attempt may.
    Resend(String),
    /// Not sent yet as far as its list shows, and it may still send it: look again then.
    LookAgain(DateTime<Utc>),
    /// Nobody can tell: the text ends `unknown`, never sent again blindly.
    Unknown(String),
}

/// Settles an uncertain attempt from the provider's list, at `now`. The list shows only
/// texts handed to a carrier; one still in the provider's queue is not in it, and may be
/// sent until the attempt's validity has passed (and the clocks' skew with it): "not in the
/// list" is final only then.
pub(crate) fn settle(lookup: Lookup, flight: &InFlight, now: DateTime<Utc>) -> Settled {
    let started = DateTime::parse_from_rfc3339(&flight.started_at)
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or(now);
    let sendable_until = started + chrono::TimeDelta::seconds(flight.valid_for.into()) + CLOCK_SKEW;
    let attempt = flight.attempt;
    match lookup {
        Lookup::Found(sent) => Settled::Accepted(sent.sid),
        Lookup::Indistinct(sids) => Settled::Unknown(format!(
            "attempt {attempt} may have reached the provider: its list shows texts to this client since {} whose bodies it does not show ({}); casewire will not send it again: look at those in the provider's console, and send it again only if none is this one",
            flight.started_at,
            sids.join(", ")
        )),
        Lookup::NotSent if now >= sendable_until => Settled::Resend(format!(
            "attempt {attempt} did not reach the provider: its list has no such text, and its validity ({} s) has passed",
            flight.valid_for
        )),
        Lookup::NotSent => Settled::LookAgain((now + LOOK_AGAIN).min(sendable_until)),
    }
}

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
        store: &EventStore,
        e: &RecordedEvent,
    ) -> anyhow::Result<()> {
        self.apply_all(tx, store, &[e]).await
    }

    /// An append's group of texts queued is enqueued in one statement, and a group that
    /// ended is removed in one. A text has one job, so the order of different texts'
    /// events does not matter; a backlog with a text's whole life goes one at a time.
    async fn apply_all(
        &self,
        tx: &mut Transaction<'static, Any>,
        store: &EventStore,
        events: &[&RecordedEvent],
    ) -> anyhow::Result<()> {
        if events.len() > 1 && !casewire_bus::one_each(events) {
            for e in events {
                self.apply_all(tx, store, &[e]).await?;
            }
            return Ok(());
        }
        let mut queued = Vec::new();
        let mut ended: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for e in events {
            match e.decode()? {
                MessageEvent::OutboundQueued {
                    deliver_after,
                    purpose,
                    ..
                } => {
                    // A text held by quiet hours is due when they end.
                    let due_at = match deliver_after {
                        Some(at) => DateTime::parse_from_rfc3339(&at)?.with_timezone(&Utc),
                        None => casewire_events::utc_now(),
                    };
                    queued.push(jobs::NewJob {
                        tenant: &e.tenant_id,
                        id: &e.aggregate_id,
                        // What its steps name as their cause.
                        payload: json!({"cause": e.event_id}).to_string(),
                        due_at,
                        // A campaign's texts never hold up an advocate's or a reminder.
                        behind: matches!(purpose, Purpose::Bulk),
                    });
                }
                MessageEvent::Accepted { .. }
                | MessageEvent::Failed { .. }
                | MessageEvent::OutcomeUnknown { .. } => ended
                    .entry(e.tenant_id.as_str())
                    .or_default()
                    .push(&e.aggregate_id),
                _ => {}
            }
        }
        jobs::enqueue_all(tx, QUEUE, &queued).await?;
        for (tenant, ids) in ended {
            jobs::remove_all(tx, QUEUE, tenant, &ids).await?;
        }
        Ok(())
    }
}

pub struct Dispatcher {
    pub(crate) settings: Arc<MessagingSettings>,
    pub(crate) twilio: TwilioClient,
    /// Messaging's reader: caught up before a text's consent is checked at dispatch.
    pub(crate) reader: Reader,
    /// What [`Worker::prepare`] read for the claim about to run, each job's taken by its
    /// run.
    pub(crate) prepared: Mutex<HashMap<(String, String), Prepared>>,
}

/// A claimed text as the claim's [`Worker::prepare`] read it: the message, and its facts
/// when it is to go.
pub(crate) struct Prepared {
    message: (Message, i64),
    facts: Option<Facts>,
}

impl Dispatcher {
    pub(crate) fn new(
        settings: Arc<MessagingSettings>,
        twilio: TwilioClient,
        reader: Reader,
    ) -> Self {
        Dispatcher {
            settings,
            twilio,
            reader,
            prepared: Mutex::default(),
        }
    }

    /// A claim's texts read at once: their messages in one statement a tenant, and for those
    /// about to go the tenant's facts and their consents in two (the reader caught up first,
    /// as [`Self::facts`] does for a text alone), rather than two statements a text.
    async fn read_claim(
        &self,
        store: &EventStore,
        jobs: &[Job],
    ) -> anyhow::Result<HashMap<(String, String), Prepared>> {
        let mut by_tenant: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for job in jobs {
            by_tenant.entry(&job.tenant_id).or_default().push(&job.id);
        }
        let mut prepared = HashMap::new();
        for (tenant, ids) in by_tenant {
            let messages = casewire_bus::load_all::<Message>(store, tenant, &ids).await?;
            let going: Vec<&Message> = messages
                .values()
                .map(|(m, _)| m)
                .filter(|m| m.is_outbound() && !m.dispatched())
                .collect();
            if going
                .iter()
                .any(|m| m.attempts == 0 && m.purpose != Purpose::System)
            {
                self.reader.catch_up(tenant).await?;
            }
            let mut phones: Vec<&str> = going.iter().map(|m| m.phone.as_str()).collect();
            phones.sort_unstable();
            phones.dedup();
            let facts = match phones.is_empty() {
                true => HashMap::new(),
                false => crate::checks::facts_for_numbers(store, tenant, &phones).await?,
            };
            for (id, message) in messages {
                let facts = facts.get(&message.0.phone).cloned();
                prepared.insert((tenant.to_string(), id), Prepared { message, facts });
            }
        }
        Ok(prepared)
    }

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

    /// A link for each of a text's attachments, for Twilio to fetch while it may send the
    /// text (its validity, and a margin for clocks): attachments.rs.
    fn media_urls(&self, tenant: &str, m: &Message, valid_for: u32) -> Vec<String> {
        let Some(base) = self.settings.public_url.as_deref() else {
            return Vec::new();
        };
        let until =
            casewire_events::utc_now() + chrono::TimeDelta::seconds(valid_for.into()) + CLOCK_SKEW;
        m.attachments
            .iter()
            .map(|a| {
                let token = crate::attachments::link(self.reader.store(), tenant, &a.id, until);
                format!(
                    "{}/webhooks/twilio/media/{token}",
                    base.trim_end_matches('/')
                )
            })
            .collect()
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
/// `cause`: the event that queued the text (its `OutboundQueued`), named as each step's
/// causation.
async fn record(
    store: &EventStore,
    tenant: &str,
    id: &str,
    cause: Option<&str>,
    message: &mut (Message, i64),
    command: MessageCommand,
) -> anyhow::Result<()> {
    let metadata = Metadata::system(cause).into_map();
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

    async fn prepare(&self, store: &EventStore, jobs: &[Job]) -> anyhow::Result<()> {
        // The previous claim's runs have all ended: nothing of it is kept.
        self.prepared.lock().expect("not poisoned").clear();
        let prepared = self.read_claim(store, jobs).await?;
        *self.prepared.lock().expect("not poisoned") = prepared;
        Ok(())
    }

    async fn run(&self, store: &EventStore, job: &Job) -> anyhow::Result<Outcome> {
        let (tenant, id) = (job.tenant_id.as_str(), job.id.as_str());
        let cause = job.cause();
        let prepared = self
            .prepared
            .lock()
            .expect("not poisoned")
            .remove(&(job.tenant_id.clone(), job.id.clone()));
        // Read once (by the claim, or here): each step below records on this state, which
        // `record` keeps current.
        let (mut message, facts) = match prepared {
            Some(Prepared { message, facts }) => (message, facts),
            None => (
                casewire_bus::load::<Message>(store, tenant, id).await?,
                None,
            ),
        };
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
        let facts = match facts {
            Some(facts) => facts,
            None => self.facts(tenant, &m).await?,
        };
        if m.attempts == 0 {
            if let Some(reason) = withdrawn(&facts, &m) {
                let fail = MessageCommand::Fail {
                    error_code: Some(WITHDRAWN.into()),
                    reason,
                };
                record(store, tenant, id, cause, &mut message, fail).await?;
                return Ok(Outcome::Recorded);
            }
        }
        let body = m.body.clone().unwrap_or_default();
        // A text of no use any more (a reminder whose appointment has begun) is not sent,
        // and the provider is told to drop it by then.
        let now = casewire_events::utc_now();
        let expires = match &m.expires_at {
            Some(at) => Some(DateTime::parse_from_rfc3339(at)?.with_timezone(&Utc)),
            None => None,
        };
        if let Some(at) = expires.filter(|at| *at <= now) {
            if m.in_flight.is_none() {
                let fail = MessageCommand::Fail {
                    error_code: Some(EXPIRED.into()),
                    reason: format!("not sent: it was of use until {at}, and that has passed"),
                };
                record(store, tenant, id, cause, &mut message, fail).await?;
                return Ok(Outcome::Recorded);
            }
        }
        // Counted in the client's own zone when their case names one.
        let zone = m.zone.as_deref();
        let valid_for = match expires {
            Some(at) => facts
                .valid_for(m.purpose, zone)
                .min((at - now).num_seconds().clamp(1, u32::MAX.into()) as u32),
            None => facts.valid_for(m.purpose, zone),
        };
        let quiet_until = facts.release(m.purpose, zone);
        // The provider refuses the tenant's credentials: nothing goes, nothing is looked
        // up, and nothing fails, until an admin sets them again (refusals.rs).
        if let Some(reason) = &facts.refused {
            let at = casewire_events::utc_now() + HELD;
            return Ok(Outcome::RetryAt(at, format!("held: {reason}")));
        }
        let Some(provider) = self.provider(facts.provider) else {
            let reason = format!("the organization has no SMS provider: an admin sets one with PUT /v1/tenants/{tenant}/sms-provider");
            record(
                store,
                tenant,
                id,
                cause,
                &mut message,
                MessageCommand::Fail {
                    error_code: None,
                    reason,
                },
            )
            .await?;
            return Ok(Outcome::Recorded);
        };

        if let Some(flight) = &m.in_flight {
            let attempt = flight.attempt;
            let since = DateTime::parse_from_rfc3339(&flight.started_at)?.with_timezone(&Utc);
            let lookup = match provider.find_sent(id, &m.phone, &body, since).await {
                Ok(lookup) => lookup,
                Err(e) => {
                    // Each failure is in the trail; after MAX_LOOKUPS the text is `unknown`
                    // (the aggregate decides), its job removed with that event, and it is
                    // never sent again blindly.
                    let reason = format!("looking up attempt {attempt}: {e}");
                    let fail = MessageCommand::FailLookup {
                        reason: reason.clone(),
                    };
                    record(store, tenant, id, cause, &mut message, fail).await?;
                    return Ok(match message.0.status.as_str() {
                        "unknown" => Outcome::Recorded,
                        _ => Outcome::RetryAt(later(message.0.lookups_failed, None), reason),
                    });
                }
            };
            match settle(lookup, flight, casewire_events::utc_now()) {
                Settled::Accepted(provider_sid) => {
                    tracing::info!(
                        message_id = id,
                        attempt,
                        "an uncertain attempt had reached the provider; not sending again"
                    );
                    let accept = MessageCommand::Accept { provider_sid };
                    record(store, tenant, id, cause, &mut message, accept).await?;
                    return Ok(Outcome::Recorded);
                }
                Settled::Unknown(reason) => {
                    let give_up = MessageCommand::GiveUpLookup { reason };
                    record(store, tenant, id, cause, &mut message, give_up).await?;
                    return Ok(Outcome::Recorded);
                }
                Settled::LookAgain(at) => {
                    let reason = format!(
                        "attempt {attempt} is not in the provider's list yet; it may still be in its queue"
                    );
                    return Ok(Outcome::RetryAt(at, reason));
                }
                Settled::Resend(reason) => {
                    let abandon = MessageCommand::Abandon { reason };
                    record(store, tenant, id, cause, &mut message, abandon).await?;
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
                cause,
                &mut message,
                MessageCommand::Fail {
                    error_code: None,
                    reason,
                },
            )
            .await?;
            return Ok(Outcome::Recorded);
        }

        // A text tried again (after a refusal to take it, or once an uncertain attempt
        // proved not to have gone) may by now be in quiet hours: it waits them out too.
        if m.attempts > 0 {
            if let Some(until) = quiet_until {
                return Ok(Outcome::RetryAt(until, "held by quiet hours".into()));
            }
        }
        let attempt = m.attempts + 1;
        let begin = MessageCommand::BeginDispatch {
            provider: provider.kind().into(),
            now: casewire_events::now(),
            valid_for,
        };
        if let Err(e) = record(store, tenant, id, cause, &mut message, begin).await {
            // Another replica began at the same moment; its attempt stands.
            return Ok(Outcome::RetryAt(later(attempt, None), e.to_string()));
        }
        let (callback, media_urls) = match provider {
            Provider::Twilio { .. } => (
                self.status_callback(tenant, id),
                self.media_urls(tenant, &m, valid_for),
            ),
            Provider::Sandbox => (None, Vec::new()),
        };
        let delivery = Delivery {
            status_callback: callback.as_deref(),
            valid_for: Some(valid_for),
            attempt: Some(attempt),
            media_urls: &media_urls,
        };
        let call = tracing::info_span!("provider.send", provider = provider.kind(), attempt);
        match tracing::Instrument::instrument(provider.send(id, &m.phone, &body, &delivery), call)
            .await
        {
            Ok(sent) => {
                record(
                    store,
                    tenant,
                    id,
                    cause,
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
                        provider_sid: None,
                    };
                    record(store, tenant, id, cause, &mut message, delivered).await?;
                }
                Ok(Outcome::Recorded)
            }
            Err(e) => match verdict(&e) {
                Verdict::Refused => {
                    let fail = MessageCommand::Fail {
                        error_code: e.code.map(|c| c.to_string()),
                        reason: e.reason(),
                    };
                    record(store, tenant, id, cause, &mut message, fail).await?;
                    Ok(Outcome::Recorded)
                }
                Verdict::NotTaken => {
                    record(
                        store,
                        tenant,
                        id,
                        cause,
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
                Verdict::CredentialsRefused => {
                    // The text's own outcome first: it did not go, and may go later.
                    let abandon = MessageCommand::Abandon {
                        reason: e.to_string(),
                    };
                    record(store, tenant, id, cause, &mut message, abandon).await?;
                    let reason = e.reason();
                    let refuse = TenantCommand::RefuseSmsCredentials {
                        code: CREDENTIALS_REFUSED.to_string(),
                        reason: format!(
                            "{reason}; texts wait, queued, until an admin sets the provider again with PUT /v1/tenants/{tenant}/sms-provider"
                        ),
                    };
                    let metadata = Metadata::new(Actor::Twilio).into_map();
                    // Texts refused at the same moment race to record it: one is enough, and
                    // a text that finds none recorded meets the refusal again and records it.
                    if let Err(e) =
                        casewire_bus::record::<Tenant>(store, tenant, tenant, refuse, metadata)
                            .await
                    {
                        tracing::warn!(tenant, error = %e.message, "the refusal of the tenant's credentials was not recorded this time");
                    }
                    Ok(Outcome::RetryAt(casewire_events::utc_now() + HELD, reason))
                }
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use casewire_sms::twilio::Sent;

    fn flight() -> InFlight {
        InFlight {
            attempt: 2,
            started_at: "2026-11-30T15:00:00.000000Z".into(),
            valid_for: 3600,
        }
    }

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn found_in_the_list_the_attempt_is_accepted_under_twilios_id() {
        let sent = Sent {
            sid: "SM1".into(),
            status: "sent".into(),
            num_segments: Some(1),
            price: None,
            error_code: None,
            error_message: None,
        };
        assert_eq!(
            settle(Lookup::Found(sent), &flight(), at("2026-11-30T15:01:00Z")),
            Settled::Accepted("SM1".into())
        );
    }

    #[test]
    fn not_in_the_list_is_final_only_once_twilio_could_no_longer_send_it() {
        // Started 15:00, valid an hour, five minutes of skew: Twilio may send it until 16:05.
        assert_eq!(
            settle(Lookup::NotSent, &flight(), at("2026-11-30T15:01:00Z")),
            Settled::LookAgain(at("2026-11-30T15:03:00Z"))
        );
        assert_eq!(
            settle(Lookup::NotSent, &flight(), at("2026-11-30T16:04:00Z")),
            Settled::LookAgain(at("2026-11-30T16:05:00Z")),
            "the last look falls when the validity ends"
        );
        assert!(matches!(
            settle(Lookup::NotSent, &flight(), at("2026-11-30T16:05:00Z")),
            Settled::Resend(r) if r.contains("attempt 2") && r.contains("3600 s")
        ));
    }

    #[test]
    fn a_list_that_cannot_tell_ends_the_text_unknown_naming_what_to_check() {
        let settled = settle(
            Lookup::Indistinct(vec!["SM7".into(), "SM8".into()]),
            &flight(),
            at("2026-11-30T15:01:00Z"),
        );
        assert!(
            matches!(&settled, Settled::Unknown(r) if r.contains("SM7, SM8") && r.contains("will not send it again")),
            "{settled:?}"
        );
    }
}
