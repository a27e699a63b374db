//! A client's consent to be texted, one aggregate per (tenant, phone number): the events
//! the consent service records and messaging reads to check each text itself.

use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};

use crate::Sealed;

pub const AGGREGATE: &str = "consent";

/// The events that move a number's state (see [`ConsentEvent::state`]): what a reader that
/// keeps only the state needs.
pub const STATE_CHANGES: &[&str] = &["ConfirmationRequested", "ConsentGranted", "ConsentRevoked"];

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
    /// The client's text may revoke consent and does not clearly: staff see it flagged
    /// with `reason`, and the state does not change. `reply`: the language of the one
    /// clarification ("Reply STOP to stop all texts from …"); `None` when one already went
    /// since the state last changed.
    RevocationUnclear {
        phone: String,
        evidence: Evidence,
        reason: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reply: Option<String>,
    },
    /// The client answered a confirmation request with neither a yes nor a stop, and is
    /// told once, in `language`, how to answer. The state stays pending.
    ConfirmationExplained {
        phone: String,
        evidence: Evidence,
        language: String,
    },
}

impl DomainEvent for ConsentEvent {
    fn event_type(&self) -> String {
        match self {
            ConsentEvent::ConfirmationRequested { .. } => "ConfirmationRequested",
            ConsentEvent::ConsentGranted { .. } => "ConsentGranted",
            ConsentEvent::ConsentRevoked { .. } => "ConsentRevoked",
            ConsentEvent::RevocationUnclear { .. } => "RevocationUnclear",
            ConsentEvent::ConfirmationExplained { .. } => "ConfirmationExplained",
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
            | ConsentEvent::ConsentRevoked { phone, .. }
            | ConsentEvent::RevocationUnclear { phone, .. }
            | ConsentEvent::ConfirmationExplained { phone, .. } => phone,
        }
    }

    /// The state it moves the number to; `None` when it leaves the state as it was.
    pub fn state(&self) -> Option<State> {
        match self {
            ConsentEvent::ConfirmationRequested { .. } => Some(State::Pending),
            ConsentEvent::ConsentGranted { .. } => Some(State::Granted),
            ConsentEvent::ConsentRevoked { .. } => Some(State::Revoked),
            ConsentEvent::RevocationUnclear { .. } | ConsentEvent::ConfirmationExplained { .. } => {
                None
            }
        }
    }
}
