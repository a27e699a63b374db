//! A campaign's sender with a controllable clock, against the fake Twilio: quiet hours in
//! each client's zone defer their text and never drop it, the others go on, and a client
//! who opts out while waiting is skipped. One test per binary: the clock is the process's.

mod world;

use casewire_bus::jobs::run_due;
use chrono::{DateTime, Utc};
use serde_json::json;
use world::{world, CLIENT};

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

const WEST: &str = "+13105550111";
const WEST_TOO: &str = "+13105550122";

#[tokio::test]
async fn a_campaign_waits_out_each_clients_night_and_texts_everyone_once() {
    let w = world().await;
    // The tenant is in Chicago (C-1's client, by default); two clients in Los Angeles.
    w.link_client("C-2", WEST, "Minh Tran", Some("America/Los_Angeles"))
        .await;
    w.link_client("C-3", WEST_TOO, "Rosa Diaz", Some("America/Los_Angeles"))
        .await;
    for phone in [CLIENT, WEST, WEST_TOO] {
        w.consent_of(phone, "granted").await;
    }
    // No cap on the organization's bulk rate: a run takes everyone it may.
    w.tenant(casewire_tenancy::TenantCommand::SetPolicy(
        casewire_tenancy::Policy {
            bulk_rate: None,
            ..Default::default()
        },
    ))
    .await;
    w.catch_up().await;
    let plan = json!({
        "name": "Clinic", "kind": "announcement", "filter": {},
        "messages": {"en": "Hi {client.first_name}, free clinic Saturday. Reply STOP to stop."},
    });
    w.command("draft_campaign", json!({"id": "camp-1", "plan": plan}))
        .await
        .unwrap();

    // 22:30 in Chicago, 20:30 in Los Angeles: the Californians' texts go, Ana's waits.
    casewire_events::time::set(at("2026-12-02T04:30:00Z"));
    let launched = w
        .command("step_campaign", json!({"id": "camp-1", "step": "launch"}))
        .await
        .unwrap();
    assert_eq!(launched["counts"]["recipients"], 3, "{launched}");
    // A client in the west opts out before their text goes: skipped, not texted.
    w.consent_of(WEST_TOO, "revoked").await;
    w.catch_up().await;
    // One run queues Minh's text and skips Rosa; the next finds only Ana, asleep.
    for _ in 0..2 {
        assert_eq!(run_due(&w.store, w.sender.as_ref()).await.unwrap(), 1);
    }
    w.dispatch_due().await;
    assert_eq!(
        w.sent("Hi Minh, free clinic Saturday. Reply STOP to stop."),
        1
    );
    assert_eq!(w.twilio.sent().len(), 1, "nothing else at night");
    // The sender looks again at 08:00 in Chicago, not before.
    assert_eq!(run_due(&w.store, w.sender.as_ref()).await.unwrap(), 0);
    let (due_at,): (String,) =
        sqlx::query_as("SELECT due_at FROM jobs WHERE queue = 'messaging.campaigns'")
            .fetch_one(w.store.db().reader())
            .await
            .unwrap();
    assert_eq!(due_at, "2026-12-02T14:00:00.000000Z");

    casewire_events::time::set(at("2026-12-02T14:00:01Z"));
    run_due(&w.store, w.sender.as_ref()).await.unwrap();
    w.dispatch_due().await;
    assert_eq!(
        w.sent("Hi Ana, free clinic Saturday. Reply STOP to stop."),
        1
    );
    // Nobody left: the campaign completes, and everyone was texted once or skipped.
    run_due(&w.store, w.sender.as_ref()).await.unwrap();
    w.catch_up().await;
    let done = casewire_messaging::campaigns::find(&w.store, world::TENANT, "camp-1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(done.state, "completed");
    let counts = casewire_messaging::campaigns::counts(&w.store, world::TENANT, &done)
        .await
        .unwrap();
    assert_eq!(counts.skipped.get("revoked"), Some(&1));
    assert_eq!(w.twilio.sent().len(), 2);
}
