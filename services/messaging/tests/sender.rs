//! Two runs of a campaign's sender that read the same recipient as waiting (a run whose
//! lease ran out while it worked, and the run that took over): the text is queued once.

mod world;

use casewire_bus::jobs::run_due;
use serde_json::json;
use world::{world, CLIENT, TENANT};

#[tokio::test]
async fn a_recipient_seen_waiting_by_two_runs_is_texted_once() {
    let w = world().await;
    w.consent_of(CLIENT, "granted").await;
    w.tenant(casewire_tenancy::TenantCommand::SetPolicy(
        casewire_tenancy::Policy {
            bulk_rate: None,
            quiet_hours: None,
            ..Default::default()
        },
    ))
    .await;
    w.catch_up().await;
    let plan = json!({
        "name": "Clinic", "kind": "announcement", "filter": {},
        "messages": {"en": "Free clinic Saturday. Reply STOP to stop."},
    });
    w.command("draft_campaign", json!({"id": "camp-1", "plan": plan}))
        .await
        .unwrap();
    w.command("step_campaign", json!({"id": "camp-1", "step": "launch"}))
        .await
        .unwrap();
    assert_eq!(run_due(&w.store, w.sender.as_ref()).await.unwrap(), 1);
    // The other run read Ana as waiting before the first queued her text.
    sqlx::query("UPDATE messaging_campaign_recipients SET state = 'pending' WHERE tenant_id = $1")
        .bind(TENANT)
        .execute(w.store.db().writer())
        .await
        .unwrap();
    for _ in 0..3 {
        run_due(&w.store, w.sender.as_ref()).await.unwrap();
        w.catch_up().await;
    }
    w.dispatch_due().await;
    assert_eq!(w.sent("Free clinic Saturday. Reply STOP to stop."), 1);
    let (texts,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM events WHERE tenant_id = $1 AND event_type = 'OutboundQueued'",
    )
    .bind(TENANT)
    .fetch_one(w.store.db().reader())
    .await
    .unwrap();
    assert_eq!(texts, 1, "queued once");
}
