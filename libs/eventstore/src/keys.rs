//! Per-subject data keys and the sealing of personal fields (ARCHITECTURE.md,
//! Confidentiality). A subject is one data subject of one tenant, e.g. `client:<id>`.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use casewire_crypto::{b64, unb64, Key};
use casewire_events::SEALED_TAG;
use serde_json::{json, Value};

use crate::{Db, Result, StoreError};

/// How long an unwrapped data key is kept in memory. Erasure in this process drops it at
/// once; another process may go on opening that subject's fields for at most this long.
const CACHE_TTL: Duration = Duration::from_secs(30);

pub(crate) struct Keys {
    db: Db,
    master: Key,
    cache: Mutex<HashMap<(String, String), (Key, Instant)>>,
}

fn wrap_aad(tenant: &str, subject: &str) -> Vec<u8> {
    format!("casewire/data-key/{tenant}/{subject}").into_bytes()
}

fn field_aad(tenant: &str, subject: &str) -> Vec<u8> {
    format!("casewire/field/{tenant}/{subject}").into_bytes()
}

fn bytes_aad(tenant: &str, subject: &str, context: &str) -> Vec<u8> {
    format!("casewire/bytes/{tenant}/{subject}/{context}").into_bytes()
}

/// JSON pointers of every `{"$sealed": …}` node's inner object in a payload. Sealed nodes
/// are not searched inside.
fn sealed_paths(v: &Value, at: &mut String, out: &mut Vec<String>) {
    let len = at.len();
    match v {
        Value::Object(m) if m.get(SEALED_TAG).is_some_and(Value::is_object) => {
            out.push(format!("{at}/{}", SEALED_TAG));
        }
        Value::Object(m) => {
            for (k, c) in m {
                at.push('/');
                at.push_str(&k.replace('~', "~0").replace('/', "~1"));
                sealed_paths(c, at, out);
                at.truncate(len);
            }
        }
        Value::Array(a) => {
            for (i, c) in a.iter().enumerate() {
                at.push_str(&format!("/{i}"));
                sealed_paths(c, at, out);
                at.truncate(len);
            }
        }
        _ => {}
    }
}

fn for_each_sealed(payload: &Value) -> Vec<String> {
    let mut out = Vec::new();
    sealed_paths(payload, &mut String::new(), &mut out);
    out
}

fn node<'a>(payload: &'a mut Value, path: &str) -> &'a mut serde_json::Map<String, Value> {
    payload
        .pointer_mut(path)
        .and_then(Value::as_object_mut)
        .expect("path found by sealed_paths")
}

fn subject_of(node: &serde_json::Map<String, Value>) -> Result<String> {
    node.get("subject")
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| StoreError::Invalid("a sealed field has no subject".into()))
}

impl Keys {
    pub(crate) fn new(db: Db, master: Key) -> Self {
        Keys {
            db,
            master,
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// Replaces every plain sealed node with its ciphertext.
    pub(crate) async fn seal_payload(&self, tenant: &str, payload: &mut Value) -> Result<()> {
        for path in for_each_sealed(payload) {
            let node = node(payload, &path);
            let Some(value) = node.remove("value") else {
                continue; // already sealed or erased: stored as it is
            };
            let subject = subject_of(node)?;
            let key = self.key_for_sealing(tenant, &subject).await?;
            let plain = serde_json::to_vec(&value).expect("a JSON value serializes");
            node.insert(
                "ct".into(),
                json!(b64(&key.seal(&plain, &field_aad(tenant, &subject)))),
            );
        }
        Ok(())
    }

    /// `plain` sealed with `subject`'s data key, bound to `context` (what it is, so a
    /// ciphertext moved to another row does not open).
    pub(crate) async fn seal_bytes(
        &self,
        tenant: &str,
        subject: &str,
        context: &str,
        plain: &[u8],
    ) -> Result<Vec<u8>> {
        let key = self.key_for_sealing(tenant, subject).await?;
        Ok(key.seal(plain, &bytes_aad(tenant, subject, context)))
    }

    /// What [`Self::seal_bytes`] sealed, or `None` once the subject was erased.
    pub(crate) async fn open_bytes(
        &self,
        tenant: &str,
        subject: &str,
        context: &str,
        sealed: &[u8],
    ) -> Result<Option<Vec<u8>>> {
        let Some(key) = self.key_for_opening(tenant, subject).await? else {
            return Ok(None);
        };
        key.open(sealed, &bytes_aad(tenant, subject, context))
            .map(Some)
            .map_err(|e| StoreError::Corrupt(format!("sealed bytes of {subject}: {e}")))
    }

    /// Replaces every sealed node with its plaintext, or marks it erased.
    pub(crate) async fn open_payload(&self, tenant: &str, payload: &mut Value) -> Result<()> {
        for path in for_each_sealed(payload) {
            let node = node(payload, &path);
            let Some(Value::String(ct)) = node.remove("ct") else {
                continue;
            };
            let subject = subject_of(node)?;
            match self.key_for_opening(tenant, &subject).await? {
                Some(key) => {
                    let sealed = unb64(&ct).map_err(|e| StoreError::Corrupt(e.to_string()))?;
                    let plain = key
                        .open(&sealed, &field_aad(tenant, &subject))
                        .map_err(|e| {
                            StoreError::Corrupt(format!("sealed field of {subject}: {e}"))
                        })?;
                    let value: Value = serde_json::from_slice(&plain)
                        .map_err(|e| StoreError::Corrupt(e.to_string()))?;
                    node.insert("value".into(), value);
                }
                None => {
                    node.insert("erased".into(), Value::Bool(true));
                }
            }
        }
        Ok(())
    }

    fn cached(&self, tenant: &str, subject: &str) -> Option<Key> {
        let cache = self.cache.lock().expect("key cache lock");
        cache
            .get(&(tenant.to_string(), subject.to_string()))
            .filter(|(_, at)| at.elapsed() < CACHE_TTL)
            .map(|(k, _)| k.clone())
    }

    fn remember(&self, tenant: &str, subject: &str, key: &Key) {
        let mut cache = self.cache.lock().expect("key cache lock");
        cache.insert(
            (tenant.to_string(), subject.to_string()),
            (key.clone(), Instant::now()),
        );
    }

    /// A key of the master's own for one purpose (signed links).
    pub(crate) fn derived(&self, purpose: &str) -> Key {
        self.master.derive(purpose)
    }

    /// `Ok(None)`: no key row. `Ok(Some(None))`: erased.
    async fn stored(&self, tenant: &str, subject: &str) -> Result<Option<Option<Vec<u8>>>> {
        let row: Option<(Option<Vec<u8>>,)> =
            sqlx::query_as("SELECT wrapped FROM data_keys WHERE tenant_id = $1 AND subject = $2")
                .bind(tenant)
                .bind(subject)
                .fetch_optional(self.db.reader())
                .await?;
        Ok(row.map(|(w,)| w))
    }

    fn unwrap(&self, tenant: &str, subject: &str, wrapped: &[u8]) -> Result<Key> {
        self.master
            .unwrap_key(wrapped, &wrap_aad(tenant, subject))
            .map_err(|_| {
                StoreError::Config(format!(
                    "the data key of {subject} does not open with this master key \
                     (fingerprint {}): is CASEWIRE_MASTER_KEY the one this store was created with?",
                    self.master.fingerprint()
                ))
            })
    }

    async fn key_for_sealing(&self, tenant: &str, subject: &str) -> Result<Key> {
        if let Some(k) = self.cached(tenant, subject) {
            return Ok(k);
        }
        if self.stored(tenant, subject).await?.is_none() {
            let key = Key::generate();
            // Two appenders may race to create it: the first insert wins, both use its key.
            sqlx::query(
                "INSERT INTO data_keys (tenant_id, subject, wrapped, created_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (tenant_id, subject) DO NOTHING",
            )
            .bind(tenant)
            .bind(subject)
            .bind(self.master.wrap(&key, &wrap_aad(tenant, subject)))
            .bind(chrono::Utc::now().to_rfc3339())
            .execute(self.db.writer())
            .await?;
        }
        match self.stored(tenant, subject).await? {
            Some(Some(wrapped)) => {
                let key = self.unwrap(tenant, subject, &wrapped)?;
                self.remember(tenant, subject, &key);
                Ok(key)
            }
            _ => Err(StoreError::SubjectErased(subject.to_string())),
        }
    }

    async fn key_for_opening(&self, tenant: &str, subject: &str) -> Result<Option<Key>> {
        if let Some(k) = self.cached(tenant, subject) {
            return Ok(Some(k));
        }
        match self.stored(tenant, subject).await? {
            Some(Some(wrapped)) => {
                let key = self.unwrap(tenant, subject, &wrapped)?;
                self.remember(tenant, subject, &key);
                Ok(Some(key))
            }
            _ => Ok(None),
        }
    }

    pub(crate) async fn destroy(&self, tenant: &str, subject: &str) -> Result<()> {
        // Upsert, so a subject erased before anything was sealed for it stays erased.
        sqlx::query(
            "INSERT INTO data_keys (tenant_id, subject, wrapped, created_at, erased_at) VALUES ($1, $2, NULL, $3, $3) \
             ON CONFLICT (tenant_id, subject) DO UPDATE SET wrapped = NULL, erased_at = $3",
        )
        .bind(tenant)
        .bind(subject)
        .bind(chrono::Utc::now().to_rfc3339())
        .execute(self.db.writer())
        .await?;
        self.cache
            .lock()
            .expect("key cache lock")
            .remove(&(tenant.to_string(), subject.to_string()));
        Ok(())
    }
}
