//! The trail's index: which aggregates each case and each client's number touch, and which
//! events each person did, so that `GET /v1/audit/events?case_id=…` reads the events of a
//! handful of aggregates through indexes rather than scanning the tenant's log.
//!
//! It links aggregates, not events: a text's `OutboundQueued` names its case, and every
//! later step of that text (dispatch, acceptance, delivery) comes with the aggregate. So
//! most events add no row; a text adds two (its case, its client).

use std::collections::BTreeSet;

use async_trait::async_trait;
use casewire_bus::jobs::{self, NewJob};
use casewire_bus::{Projection, Reads};
use casewire_events::{Metadata, RecordedEvent, SEALED_TAG};
use casewire_eventstore::{sql, EventStore};
use serde_json::Value;
use sqlx::{Any, Transaction};

use crate::checkpoint::{self, Cadence};

/// What an event says it concerns, for the trail's filters.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Mentions {
    /// The aggregates it concerns: its own, and another it names (the text an
    /// `InboundRouted` files).
    pub aggregates: BTreeSet<(String, String)>,
    pub cases: BTreeSet<String>,
    /// Clients' numbers (E.164): those its sealed fields belong to, and those it names.
    pub phones: BTreeSet<String>,
    /// The person it was done on behalf of.
    pub person: Option<String>,
}

/// What `e` concerns. Read from the payload's first level (`case_id`, `phone`,
/// `message_id`) and from the subjects of its sealed fields at any depth (`client:<phone>`),
/// so that a new event type is indexed without a change here. A campaign's recipients lie
/// deeper and are not linked: each recipient's text names its case itself.
pub fn mentions(e: &RecordedEvent) -> Mentions {
    let mut m = Mentions::default();
    m.aggregates
        .insert((e.aggregate_type.clone(), e.aggregate_id.clone()));
    match e.aggregate_type.as_str() {
        casewire_events::case::AGGREGATE => {
            m.cases.insert(e.aggregate_id.clone());
        }
        casewire_events::consent::AGGREGATE => {
            m.phones.insert(e.aggregate_id.clone());
        }
        _ => {}
    }
    let payload: Value = serde_json::from_str(&e.payload).unwrap_or(Value::Null);
    // An event is `{"Variant": {fields}}`.
    let body = match &payload {
        Value::Object(o) if o.len() == 1 => o.values().next().unwrap_or(&Value::Null),
        other => other,
    };
    if let Value::Object(fields) = body {
        let text = |k: &str| fields.get(k).and_then(Value::as_str).map(str::to_string);
        m.cases.extend(text("case_id"));
        m.phones.extend(text("phone"));
        if let Some(message) = text("message_id") {
            m.aggregates
                .insert((casewire_events::message::AGGREGATE.to_string(), message));
        }
    }
    subjects(&payload, &mut m.phones);
    m.person = serde_json::from_str::<Metadata>(&e.metadata)
        .ok()
        .and_then(|md| md.on_behalf_of);
    m
}

/// The clients whose sealed fields `v` holds, by number.
fn subjects(v: &Value, phones: &mut BTreeSet<String>) {
    match v {
        Value::Object(o) => {
            if let Some(sealed) = o.get(SEALED_TAG) {
                if let Some(phone) = (sealed.get("subject").and_then(Value::as_str))
                    .and_then(|s| s.strip_prefix("client:"))
                {
                    phones.insert(phone.to_string());
                }
                return;
            }
            o.values().for_each(|v| subjects(v, phones));
        }
        Value::Array(a) => a.iter().for_each(|v| subjects(v, phones)),
        _ => {}
    }
}

/// The read model of [`mentions`]: `audit_links` (case or phone → aggregate) and
/// `audit_people` (person → event). Reading every event, it also queues each tenant's next
/// checkpoint ([`crate::checkpoint`]): due `cadence.after` after the first event no
/// checkpoint covers, or at once as the log reaches a multiple of `cadence.events`; and
/// finishes each erasure ([`crate::erasure`]): the client's words out of the search
/// index, their key's destruction queued.
pub struct AuditIndex {
    pub cadence: Cadence,
}

/// Rows per statement: five values a link, well under SQLite's 32,766 parameters.
const ROWS_AT_ONCE: usize = 1000;

#[async_trait]
impl Projection for AuditIndex {
    fn name(&self) -> &'static str {
        "audit_index"
    }

    fn reads(&self) -> Reads {
        Reads::Everything
    }

    fn feeds(&self) -> &'static [&'static str] {
        &[
            checkpoint::QUEUE,
            crate::erasure::QUEUE,
            crate::retention::QUEUE,
        ]
    }

    async fn apply(
        &self,
        tx: &mut Transaction<'static, Any>,
        store: &EventStore,
        e: &RecordedEvent,
    ) -> anyhow::Result<()> {
        self.apply_all(tx, store, &[e]).await
    }

    /// One statement for the batch's links and one for its people, whatever the batch.
    async fn apply_all(
        &self,
        tx: &mut Transaction<'static, Any>,
        _: &EventStore,
        events: &[&RecordedEvent],
    ) -> anyhow::Result<()> {
        let mut links: BTreeSet<[String; 5]> = BTreeSet::new();
        let mut people: Vec<(String, String, i64)> = Vec::new();
        for e in events {
            let m = mentions(e);
            for (kind, values) in [("case", &m.cases), ("phone", &m.phones)] {
                for value in values {
                    for (aggregate_type, aggregate_id) in &m.aggregates {
                        links.insert([
                            e.tenant_id.clone(),
                            kind.to_string(),
                            value.clone(),
                            aggregate_type.clone(),
                            aggregate_id.clone(),
                        ]);
                    }
                }
            }
            if let Some(person) = m.person {
                people.push((e.tenant_id.clone(), person, e.tenant_seq));
            }
        }
        self.queue_checkpoints(tx, events).await?;
        for e in events
            .iter()
            .filter(|e| e.aggregate_type == casewire_events::erasure::ERASURE_AGGREGATE)
        {
            crate::erasure::erased(tx, e).await?;
        }
        // A retention policy set: its check runs now, and then every day.
        for e in events.iter().filter(|e| e.event_type == "RetentionSet") {
            jobs::enqueue_again(
                tx,
                crate::retention::QUEUE,
                &e.tenant_id,
                "retention",
                &serde_json::json!({}),
            )
            .await?;
        }
        let links: Vec<_> = links.into_iter().collect();
        for chunk in links.chunks(ROWS_AT_ONCE) {
            let statement = format!(
                "INSERT INTO audit_links (tenant_id, kind, value, aggregate_type, aggregate_id) \
                 VALUES {} ON CONFLICT DO NOTHING",
                sql::rows(chunk.len(), 5, 1)
            );
            let statement = casewire_eventstore::sql::positional(
                casewire_eventstore::Backend::of(tx),
                &statement,
            );
            let mut q = sqlx::query(&statement);
            for link in chunk {
                for v in link {
                    q = q.bind(v.clone());
                }
            }
            q.execute(&mut **tx).await?;
        }
        for chunk in people.chunks(ROWS_AT_ONCE) {
            let statement = format!(
                "INSERT INTO audit_people (tenant_id, person, seq) VALUES {} ON CONFLICT DO NOTHING",
                sql::rows(chunk.len(), 3, 1)
            );
            let statement = casewire_eventstore::sql::positional(
                casewire_eventstore::Backend::of(tx),
                &statement,
            );
            let mut q = sqlx::query(&statement);
            for (tenant, person, seq) in chunk {
                q = q.bind(tenant.clone()).bind(person.clone()).bind(*seq);
            }
            q.execute(&mut **tx).await?;
        }
        Ok(())
    }
}

impl AuditIndex {
    async fn queue_checkpoints(
        &self,
        tx: &mut Transaction<'static, Any>,
        events: &[&RecordedEvent],
    ) -> anyhow::Result<()> {
        // A checkpoint's own event asks for no checkpoint.
        let events = || {
            events
                .iter()
                .filter(|e| e.aggregate_type != casewire_events::checkpoint::AGGREGATE)
        };
        let tenants: BTreeSet<&str> = events().map(|e| e.tenant_id.as_str()).collect();
        let due_at = casewire_events::utc_now() + self.cadence.after;
        let jobs: Vec<NewJob> = tenants
            .iter()
            .map(|tenant| NewJob {
                tenant,
                id: HEAD,
                payload: "{}".to_string(),
                due_at,
                behind: false,
            })
            .collect();
        jobs::enqueue_all(tx, checkpoint::QUEUE, &jobs).await?;
        let reached: BTreeSet<&str> = events()
            .filter(|e| e.tenant_seq % self.cadence.events.max(1) == 0)
            .map(|e| e.tenant_id.as_str())
            .collect();
        for tenant in reached {
            jobs::enqueue_again(tx, checkpoint::QUEUE, tenant, HEAD, &serde_json::json!({}))
                .await?;
        }
        Ok(())
    }
}

/// The one checkpoint job of a tenant: its head.
const HEAD: &str = "head";

#[cfg(test)]
mod tests {
    use super::*;

    fn event(aggregate: (&str, &str), payload: Value, metadata: Value) -> RecordedEvent {
        RecordedEvent {
            tenant_id: "t".into(),
            tenant_seq: 7,
            event_id: "e".into(),
            aggregate_type: aggregate.0.into(),
            aggregate_id: aggregate.1.into(),
            sequence: 1,
            event_type: "X".into(),
            event_version: "1".into(),
            payload: payload.to_string(),
            metadata: metadata.to_string(),
            recorded_at: "2026-12-01T00:00:00.000000Z".into(),
            prev_hash: String::new(),
            hash: String::new(),
        }
    }

    fn set(items: &[&str]) -> BTreeSet<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn a_text_names_its_case_its_client_and_who_sent_it() {
        let sealed = serde_json::json!({SEALED_TAG: {"subject": "client:+13125550100", "ct": "x"}});
        let e = event(
            ("message", "m-1"),
            serde_json::json!({"OutboundQueued": {"case_id": "C-1", "to": "+13125550100", "body": sealed}}),
            serde_json::json!({"actor": "api_key:k", "on_behalf_of": "adv-7"}),
        );
        let m = mentions(&e);
        assert_eq!(m.cases, set(&["C-1"]));
        assert_eq!(m.phones, set(&["+13125550100"]));
        assert_eq!(m.person.as_deref(), Some("adv-7"));
        assert_eq!(
            m.aggregates.into_iter().collect::<Vec<_>>(),
            [("message".to_string(), "m-1".to_string())]
        );
    }

    #[test]
    fn a_later_step_names_nothing_but_its_aggregate() {
        let e = event(
            ("message", "m-1"),
            serde_json::json!({"Accepted": {"provider_sid": "SM1"}}),
            serde_json::json!({"actor": "system"}),
        );
        let m = mentions(&e);
        assert!(m.cases.is_empty() && m.phones.is_empty() && m.person.is_none());
    }

    #[test]
    fn routing_links_the_text_it_files_and_consent_its_number() {
        let e = event(
            ("inbound_route", "r-1"),
            serde_json::json!({"InboundRouted": {"case_id": "C-2", "message_id": "m-9", "reason": "only_case"}}),
            serde_json::json!({}),
        );
        let m = mentions(&e);
        assert_eq!(m.cases, set(&["C-2"]));
        assert!(m.aggregates.contains(&("message".into(), "m-9".into())));
        let consent = event(
            ("consent", "+13125550100"),
            serde_json::json!({"ConsentGranted": {"method": "keyword"}}),
            serde_json::json!({}),
        );
        assert_eq!(mentions(&consent).phones, set(&["+13125550100"]));
    }

    #[test]
    fn a_campaigns_recipients_are_not_linked_to_it() {
        let e = event(
            ("campaign", "cp-1"),
            serde_json::json!({"RecipientsFrozen": {"first": 0, "recipients": [{"case_id": "C-1", "phone": "+13125550100"}]}}),
            serde_json::json!({}),
        );
        let m = mentions(&e);
        assert!(m.cases.is_empty() && m.phones.is_empty(), "{m:?}");
    }
}
