use crate::Metadata;
use serde::{Deserialize, Serialize};

/// One row of the event log, exactly as committed and hashed. This is also the body of every
/// message the relay publishes, so a consumer anywhere can re-verify the chain.
///
/// `payload` and `metadata` are the JSON texts as hashed, not re-serialized values: any
/// reformatting would break the hash. Sealed fields in `payload` are ciphertext here.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordedEvent {
    pub tenant_id: String,
    pub tenant_seq: i64,
    pub event_id: String,
    pub aggregate_type: String,
    pub aggregate_id: String,
    pub sequence: i64,
    pub event_type: String,
    pub event_version: String,
    pub payload: String,
    pub metadata: String,
    pub recorded_at: String,
    /// Hex of the previous event's hash (32 zero bytes for the first event of a tenant).
    pub prev_hash: String,
    /// Hex of this event's hash.
    pub hash: String,
}

impl RecordedEvent {
    pub fn payload_json(&self) -> serde_json::Result<serde_json::Value> {
        serde_json::from_str(&self.payload)
    }

    /// The payload as its event type, with sealed fields left closed (as `Erased`): for
    /// readers that need only the plain fields. Open sealed ones through the event store.
    pub fn decode<T: serde::de::DeserializeOwned>(&self) -> serde_json::Result<T> {
        fn close(v: &mut serde_json::Value) {
            match v {
                serde_json::Value::Object(m) => match m.get_mut(crate::SEALED_TAG) {
                    Some(serde_json::Value::Object(inner)) => {
                        inner.remove("ct");
                        inner.insert("erased".into(), true.into());
                    }
                    _ => m.values_mut().for_each(close),
                },
                serde_json::Value::Array(a) => a.iter_mut().for_each(close),
                _ => {}
            }
        }
        let mut v = self.payload_json()?;
        close(&mut v);
        serde_json::from_value(v)
    }

    /// The sealed node at `pointer` in the payload (JSON pointer), as stored: what a read
    /// model keeps instead of plaintext, to open when it is read.
    pub fn sealed_at(&self, pointer: &str) -> Option<String> {
        Some(self.payload_json().ok()?.pointer(pointer)?.to_string())
    }

    pub fn metadata(&self) -> Metadata {
        serde_json::from_str(&self.metadata).unwrap_or_default()
    }
}
