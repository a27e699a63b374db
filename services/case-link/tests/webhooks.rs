//! A reader's batch looks up a tenant's webhook endpoints once, not once per event. An
//! endpoint created within the batch gets the status events after it, and none before,
//! just as when each event comes alone.

use casewire_bus::Projection;
use casewire_case_link::webhooks::Webhooks;
use casewire_events::case::WebhookEndpointEvent;
use casewire_events::message::MessageEvent;
use casewire_events::{RecordedEvent, Sealed};
use casewire_eventstore::{Db, EventStore, NewEvent};

const TENANT: &str = "t1";

fn new_event(aggregate_type: &str, id: &str, payload: serde_json::Value) -> NewEvent {
    let event_type = payload.as_object().unwrap().keys().next().unwrap().clone();
    NewEvent {
        aggregate_type: aggregate_type.into(),
        aggregate_id: id.into(),
        sequence: 1,
        event_type,
        event_version: "1".into(),
        payload,
        metadata: serde_json::json!({}),
    }
}

fn endpoint(id: &str) -> NewEvent {
    let created = WebhookEndpointEvent::WebhookEndpointCreated {
        url: format!("https://cms.example.org/{id}"),
        events: vec!["message.status".into()],
        secret: Sealed::new(format!("webhook_endpoint:{id}"), "whsec".to_string()),
    };
    new_event(
        casewire_events::case::ENDPOINT_AGGREGATE,
        id,
        serde_json::to_value(created).unwrap(),
    )
}

fn accepted(id: &str) -> NewEvent {
    let accepted = MessageEvent::Accepted {
        case_id: Some("C-1".into()),
        provider_sid: format!("SM{id}"),
    };
    new_event(
        casewire_events::message::AGGREGATE,
        id,
        serde_json::to_value(accepted).unwrap(),
    )
}

/// The events in a fresh store, applied by the projection in batches of `batch`: their
/// deliveries, as (text, endpoint).
async fn deliveries(batch: usize) -> Vec<(String, String)> {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::sqlite_file(&dir.path().join("log.db")).await.unwrap();
    db.migrate().await.unwrap();
    let store = EventStore::new(db, casewire_crypto::Key::generate());
    let events = vec![
        accepted("M-1"),
        endpoint("E-1"),
        accepted("M-2"),
        endpoint("E-2"),
        accepted("M-3"),
    ];
    let recorded: Vec<RecordedEvent> = store.append(TENANT, events).await.unwrap();
    let all: Vec<&RecordedEvent> = recorded.iter().collect();
    for chunk in all.chunks(batch) {
        let mut tx = store.db().begin_read_model().await.unwrap();
        Webhooks.apply_all(&mut tx, &store, chunk).await.unwrap();
        tx.commit().await.unwrap();
    }
    sqlx::query_as(
        "SELECT message_id, endpoint_id FROM caselink_webhook_deliveries WHERE tenant_id = $1 \
         ORDER BY message_id, endpoint_id",
    )
    .bind(TENANT)
    .fetch_all(store.db().reader())
    .await
    .unwrap()
}

#[tokio::test]
async fn endpoints_created_within_a_batch_get_the_events_after_them() {
    let pair = |m: &str, e: &str| (m.to_string(), e.to_string());
    let expected = vec![pair("M-2", "E-1"), pair("M-3", "E-1"), pair("M-3", "E-2")];
    assert_eq!(deliveries(5).await, expected, "one batch");
    assert_eq!(deliveries(1).await, expected, "each alone");
}
