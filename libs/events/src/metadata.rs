use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// Who caused an event: an API key, a person signed in to the console, the operator,
/// Twilio, or casewire itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Actor {
    ApiKey(String),
    User(String),
    Operator,
    Twilio,
    System,
}

impl std::fmt::Display for Actor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Actor::ApiKey(id) => write!(f, "api_key:{id}"),
            Actor::User(id) => write!(f, "user:{id}"),
            Actor::Operator => f.write_str("operator"),
            Actor::Twilio => f.write_str("twilio"),
            Actor::System => f.write_str("system"),
        }
    }
}

/// What a person's id may be, as a CMS names its people (an advocate's id): 1 to 128
/// visible ASCII characters or spaces, trimmed. The same rule holds for the
/// `Casewire-On-Behalf-Of` header and for the advocate an API key is bound to.
pub fn is_person_id(id: &str) -> bool {
    id == id.trim()
        && (1..=128).contains(&id.len())
        && id.bytes().all(|b| b.is_ascii_graphic() || b == b' ')
}

/// Says [`is_person_id`]'s rule to whoever broke it.
pub const PERSON_ID_RULE: &str =
    "1 to 128 visible ASCII characters, such as the advocate's id in the CMS";

/// The metadata of every event (ARCHITECTURE.md, The event store). Stored as a flat JSON
/// object of strings, which is also what cqrs-es passes around as `HashMap<String, String>`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Metadata {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
    /// The person the key acted for, as the CMS names them (an advocate's id, from the
    /// request's `Casewire-On-Behalf-Of`): beside the key in `actor`, it says who did it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_behalf_of: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correlation_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub causation_id: Option<String>,
    /// W3C trace context of the request that caused the event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traceparent: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracestate: Option<String>,
}

impl Metadata {
    pub fn new(actor: Actor) -> Self {
        Metadata {
            actor: Some(actor.to_string()),
            ..Default::default()
        }
    }

    /// What casewire does on its own because of an event: `system`, naming that event's id
    /// as its cause (the worker's job carries it).
    pub fn system(cause: Option<&str>) -> Self {
        Metadata {
            causation_id: cause.map(str::to_string),
            ..Metadata::new(Actor::System)
        }
    }

    pub fn into_map(self) -> HashMap<String, String> {
        match serde_json::to_value(self) {
            Ok(serde_json::Value::Object(m)) => m
                .into_iter()
                .filter_map(|(k, v)| v.as_str().map(|s| (k, s.to_string())))
                .collect(),
            _ => HashMap::new(),
        }
    }
}
