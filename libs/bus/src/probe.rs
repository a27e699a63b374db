//! What every process's readiness probe checks: its event store and its bus answer, each
//! within a bound, so a probe answers within a second whatever is down.

use std::time::Duration;

use casewire_eventstore::EventStore;
use serde_json::{json, Value};

use crate::Bus;

/// How long each check of a readiness probe may take.
pub const READY_WITHIN: Duration = Duration::from_millis(800);

/// One check's outcome: `Ok`, or what is wrong in words for the probe's body.
pub type Check = Result<(), String>;

/// The store and the bus, checked together.
pub struct Probe {
    pub store: Check,
    pub bus: Check,
}

impl Probe {
    pub async fn run(store: &EventStore, bus: &Bus) -> Probe {
        let (store, bus) = tokio::join!(
            within("the store", async {
                store.db().ping().await.map_err(|e| e.to_string())
            }),
            within("the bus", async {
                bus.ready().await.map_err(|e| e.to_string())
            }),
        );
        Probe { store, bus }
    }

    pub fn ok(&self) -> bool {
        self.store.is_ok() && self.bus.is_ok()
    }

    /// `{"store": "ok", "bus": {"error": "…"}}`.
    pub fn body(&self) -> serde_json::Map<String, Value> {
        [("store", &self.store), ("bus", &self.bus)]
            .into_iter()
            .map(|(k, c)| (k.to_string(), show(c)))
            .collect()
    }
}

/// `check`, or an error naming `what` when it takes longer than [`READY_WITHIN`].
pub async fn within(what: &str, check: impl std::future::Future<Output = Check>) -> Check {
    tokio::time::timeout(READY_WITHIN, check)
        .await
        .unwrap_or_else(|_| Err(format!("{what} did not answer within {READY_WITHIN:?}")))
}

/// A check as the probe's body shows it.
pub fn show(check: &Check) -> Value {
    match check {
        Ok(()) => json!("ok"),
        Err(e) => json!({ "error": e }),
    }
}
