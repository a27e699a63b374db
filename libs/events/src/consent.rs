//! A client's consent to be texted, one aggregate per (tenant, phone number): the events
//! the consent service records and messaging reads to check each text itself.

use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};

use crate::Sealed;

pub const AGGREGATE: &str = "consent";

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum State {
    #[default]
    None,
    Pending,
    Granted,
    Revoked,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    Verbal,
    Written,
    Intake,
}

/// Why the state changed: what the organization shows when asked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Evidence {
    /// The client's own text.
    Inbound {
        message_id: String,
        text: Sealed<String>,
    },
    /// A person of the organization, with the API key they used.
    Staff {
        api_key: String,
        method: Method,
        note: Option<Sealed<String>>,
    },
    /// Twilio's opt-out handling (`OptOutType` STOP/START) or its 21610 refusal.
    Provider { message_id: String, reason: String },
    /// An advocate asked for the confirmation text.
    Request { api_key: String },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ConsentEvent {
    /// The confirmation text goes out in `language`.
    ConfirmationRequested {
        phone: String,
        evidence: Evidence,
        language: String,
    },
    /// `reply`: the language of the text that tells the client they are subscribed, when
    /// they subscribed by text themselves.
    ConsentGranted {
        phone: String,
        evidence: Evidence,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reply: Option<String>,
    },
    /// `reply`: the language of the one opt-out confirmation text; `None` is silence.
    ConsentRevoked {
        phone: String,
        evidence: Evidence,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reply: Option<String>,
    },
}

impl DomainEvent for ConsentEvent {
    fn event_type(&self) -> String {
        match self {
            ConsentEvent::ConfirmationRequested { .. } => "ConfirmationRequested",
            ConsentEvent::ConsentGranted { .. } => "ConsentGranted",
            ConsentEvent::ConsentRevoked { .. } => "ConsentRevoked",
        }
        .to_string()
    }

    fn event_version(&self) -> String {
        "1".to_string()
    }
}

impl State {
    pub const ALL: [State; 4] = [State::None, State::Pending, State::Granted, State::Revoked];

    /// The state a read model names, by [`State::as_str`].
    pub fn named(name: &str) -> Option<State> {
        State::ALL.into_iter().find(|s| s.as_str() == name)
    }

    /// As read models and answers name it.
    pub fn as_str(self) -> &'static str {
        match self {
            State::None => "none",
            State::Pending => "pending",
            State::Granted => "granted",
            State::Revoked => "revoked",
        }
    }
}

impl ConsentEvent {
    /// The number it is about.
    pub fn phone(&self) -> &str {
        match self {
            ConsentEvent::ConfirmationRequested { phone, .. }
            | ConsentEvent::ConsentGranted { phone, .. }
            | ConsentEvent::ConsentRevoked { phone, .. } => phone,
        }
    }

    /// The number's state once it is recorded.
    pub fn state(&self) -> State {
        match self {
            ConsentEvent::ConfirmationRequested { .. } => State::Pending,
            ConsentEvent::ConsentGranted { .. } => State::Granted,
            ConsentEvent::ConsentRevoked { .. } => State::Revoked,
        }
    }
}
