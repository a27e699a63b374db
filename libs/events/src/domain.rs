//! cqrs-es's `DomainEvent` for the shared event enums: an event's type is its variant's
//! name, as serde tags it, so the two can never disagree.

use cqrs_es::DomainEvent;
use serde::Serialize;

fn variant_name<T: Serialize>(e: &T) -> String {
    match serde_json::to_value(e) {
        Ok(serde_json::Value::Object(m)) => m.keys().next().cloned().unwrap_or_default(),
        Ok(serde_json::Value::String(s)) => s,
        _ => String::new(),
    }
}

macro_rules! domain_event {
    ($($t:ty),*) => {$(
        impl DomainEvent for $t {
            fn event_type(&self) -> String {
                variant_name(self)
            }
            fn event_version(&self) -> String {
                "1".to_string()
            }
        }
    )*};
}

domain_event!(
    crate::appointment::AppointmentEvent,
    crate::appointment::CaseRemindersEvent,
    crate::campaign::CampaignEvent,
    crate::survey::SurveyEvent,
    crate::survey::SurveyRuleEvent,
    crate::message::MessageEvent,
    crate::case::CaseEvent,
    crate::case::InboundRouteEvent,
    crate::case::WebhookEndpointEvent,
    crate::review::ReviewEvent,
    crate::review::FlagEvent,
    crate::checkpoint::CheckpointEvent,
    crate::erasure::HoldEvent,
    crate::erasure::ErasureEvent,
    crate::erasure::ProviderDeletionEvent
);
