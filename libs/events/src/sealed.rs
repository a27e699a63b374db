use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{json, Value};

/// The JSON key that marks a sealed field. The event store finds these nodes in a payload,
/// encrypts them on append and opens them on read; nothing else needs to know.
pub const SEALED_TAG: &str = "$sealed";

/// A personal field (a message body, a client's name) that must never be stored in clear.
///
/// In memory it is the plain value, or `Erased` once the subject's data key is destroyed.
/// Serialized for the store it is `{"$sealed": {"subject": s, "value": v}}`; the store turns
/// that into `{"$sealed": {"subject": s, "ct": base64}}` before the row is hashed and written,
/// and back again, or into `{"$sealed": {"subject": s, "erased": true}}`, when read.
#[derive(Clone, PartialEq, Eq)]
pub enum Sealed<T> {
    Plain { subject: String, value: T },
    Erased { subject: String },
}

/// Never the value: a body, a name or a secret must not reach a log through `{:?}`.
impl<T> std::fmt::Debug for Sealed<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Sealed::Plain { subject, .. } => write!(f, "Sealed({subject}, <redacted>)"),
            Sealed::Erased { subject } => write!(f, "Sealed({subject}, <erased>)"),
        }
    }
}

impl<T> Sealed<T> {
    pub fn new(subject: impl Into<String>, value: T) -> Self {
        Sealed::Plain {
            subject: subject.into(),
            value,
        }
    }

    pub fn subject(&self) -> &str {
        match self {
            Sealed::Plain { subject, .. } | Sealed::Erased { subject } => subject,
        }
    }

    /// The value, or `None` once erased.
    pub fn value(&self) -> Option<&T> {
        match self {
            Sealed::Plain { value, .. } => Some(value),
            Sealed::Erased { .. } => None,
        }
    }
}

impl<T: Serialize> Serialize for Sealed<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let inner = match self {
            Sealed::Plain { subject, value } => {
                json!({ "subject": subject, "value": serde_json::to_value(value).map_err(serde::ser::Error::custom)? })
            }
            Sealed::Erased { subject } => json!({ "subject": subject, "erased": true }),
        };
        json!({ SEALED_TAG: inner }).serialize(s)
    }
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for Sealed<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let v = Value::deserialize(d)?;
        let inner = v
            .get(SEALED_TAG)
            .ok_or_else(|| D::Error::custom("expected a sealed field"))?;
        let subject = inner
            .get("subject")
            .and_then(Value::as_str)
            .ok_or_else(|| D::Error::custom("sealed field without subject"))?
            .to_string();
        match inner.get("value") {
            Some(value) => Ok(Sealed::Plain {
                subject,
                value: serde_json::from_value(value.clone()).map_err(D::Error::custom)?,
            }),
            None if inner.get("erased").is_some() => Ok(Sealed::Erased { subject }),
            None => Err(D::Error::custom(
                "sealed field is still encrypted: read it through the event store",
            )),
        }
    }
}

/// The schema of a sealed field as it is stored and published: the ciphertext, never the
/// value. Name it on a field with `#[schema(value_type = casewire_events::SealedSchema)]`.
pub struct SealedSchema;

impl utoipa::PartialSchema for SealedSchema {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, Type};
        let string = || ObjectBuilder::new().schema_type(Type::String);
        ObjectBuilder::new()
            .description(Some(
                "A sealed personal field: encrypted with the data key of `subject` (ARCHITECTURE.md, Confidentiality). `erased` once that key is destroyed.",
            ))
            .property(
                SEALED_TAG,
                ObjectBuilder::new()
                    .property("subject", string())
                    .required("subject")
                    .property("ct", string().description(Some("base64 of nonce and ciphertext")))
                    .property("erased", ObjectBuilder::new().schema_type(Type::Boolean)),
            )
            .required(SEALED_TAG)
            .into()
    }
}

impl utoipa::ToSchema for SealedSchema {
    fn name() -> std::borrow::Cow<'static, str> {
        "Sealed".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_plain_and_erased() {
        let s = Sealed::new("client-1", "hello".to_string());
        let v = serde_json::to_value(&s).unwrap();
        assert_eq!(
            v,
            json!({"$sealed": {"subject": "client-1", "value": "hello"}})
        );
        assert_eq!(serde_json::from_value::<Sealed<String>>(v).unwrap(), s);
        assert_eq!(format!("{s:?}"), "Sealed(client-1, <redacted>)");
        let e: Sealed<String> =
            serde_json::from_value(json!({"$sealed": {"subject": "c", "erased": true}})).unwrap();
        assert_eq!(e.value(), None);
    }
}
