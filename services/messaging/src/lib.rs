//! The messaging service owns messages: the outbound lifecycle and inbound receipt
//! ([`message`]), and dispatch to the SMS provider ([`dispatch`]), through Twilio or the
//! sandbox ([`provider`]). Scheduling and bulk campaigns come with their issues.

pub mod answers;
pub mod appointment;
pub mod attachments;
pub mod audience;
pub mod campaign;
pub mod campaigns;
mod checks;
mod commands;
pub mod consents;
pub mod dispatch;
pub mod erasure;
pub mod media;
pub mod message;
pub mod messages;
pub mod provider;
pub mod refusals;
pub mod reminders;
pub mod rules;
pub mod sending;
pub mod survey;
pub mod surveys;
pub mod template;
pub mod usage;

use std::sync::Arc;

use casewire_bus::{Projection, Reader, Wiring};
use casewire_eventstore::EventStore;
use casewire_sms::twilio::{RetryPolicy, TwilioClient};
use casewire_tenancy::{Policies, ReminderPolicies, SmsProviders, TenantDirectory};

pub use messages::MessageView;

pub use casewire_contract::messaging::SERVICE;

/// What messaging needs from the configuration.
#[derive(Clone, Debug)]
pub struct MessagingSettings {
    /// Where Twilio reaches the gateway: the base of each text's StatusCallback.
    pub public_url: Option<String>,
    /// Twilio's API; a fake one in tests (`CASEWIRE_TWILIO_API_BASE`).
    pub twilio_api_base: String,
    /// A tenant with no provider texts through the sandbox (`casewire dev`), or cannot text.
    pub sandbox_by_default: bool,
}

pub(crate) fn providers() -> SmsProviders {
    SmsProviders::new("messaging_sms_providers", "messaging_sms_providers")
}

pub(crate) fn policies() -> Policies {
    Policies::new("messaging_policies", "messaging_policies")
}

pub(crate) fn reminder_policies() -> ReminderPolicies {
    ReminderPolicies::new("messaging_reminder_policies", "messaging_reminder_policies")
}

fn projections() -> Vec<Arc<dyn Projection>> {
    vec![
        Arc::new(TenantDirectory::new(
            "messaging_tenants",
            "messaging_tenants",
        )),
        Arc::new(providers()),
        Arc::new(policies()),
        Arc::new(reminder_policies()),
        Arc::new(messages::Messages),
        Arc::new(dispatch::Outbox),
        Arc::new(reminders::Reminders),
        Arc::new(consents::Consents),
        Arc::new(refusals::Refusals),
        Arc::new(media::MediaQueue),
        Arc::new(campaigns::Campaigns),
        Arc::new(surveys::SurveyReplies),
        Arc::new(rules::SurveyRules),
        Arc::new(erasure::ProviderCopies),
    ]
}

/// The service's reader of the log, feeding all its read models.
pub fn reader(store: &EventStore) -> Reader {
    Reader::new(store, SERVICE, projections())
}

/// What this service runs: start it with `Bus::start`.
pub fn wiring(store: &EventStore, settings: MessagingSettings) -> Wiring {
    let reader = reader(store);
    let settings = Arc::new(settings);
    // One attempt per call: the dispatcher decides about retries, so that each is recorded.
    let twilio =
        TwilioClient::new(&settings.twilio_api_base).with_retry_policy(RetryPolicy::none());
    Wiring::new(reader.clone())
        .commands(commands::handlers(commands::Commands {
            store: store.clone(),
            reader: reader.clone(),
            settings: settings.clone(),
        }))
        .worker(dispatch::Dispatcher::new(settings, twilio.clone(), reader))
        .worker(reminders::Scheduler)
        .worker(reminders::Replanner)
        .worker(media::MediaFetcher {
            twilio: twilio.clone(),
        })
        .worker(erasure::ProviderDeleter { twilio })
        .worker(sending::Sender)
        .worker(surveys::Answerer)
        .worker(rules::OutcomeSurveys)
}
