//! A launch freezes its audience a chunk per append and ends with `CampaignLaunched`. One
//! that stopped half-way (the process killed between two appends) left a draft with part of
//! its audience frozen; launching it again finishes the freeze, and no client is frozen
//! twice or forgotten.

mod world;

use std::collections::HashSet;

use casewire_events::audience::Filter;
use casewire_messaging::campaign::{Campaign, CampaignCommand, Launcher};
use serde_json::json;
use world::{world, World, TENANT};

/// `n` clients from `from`, each on a case of their own, each consenting.
async fn clients(w: &World, from: u32, n: u32, case: impl Fn(u32) -> String) {
    let ids: Vec<u32> = (from..from + n).collect();
    for chunk in ids.chunks(500) {
        let events = chunk
            .iter()
            .map(|i| world::rosas_case(&case(*i), &format!("+1312557{i:04}")))
            .collect();
        w.store.append(TENANT, events).await.unwrap();
    }
    for i in from..from + n {
        w.consent_of(&format!("+1312557{i:04}"), "granted").await;
    }
    w.catch_up().await;
}

async fn recipients(w: &World) -> Vec<(i64, String)> {
    sqlx::query_as(
        "SELECT n, phone FROM messaging_campaign_recipients \
         WHERE tenant_id = $1 AND campaign_id = 'camp-1' ORDER BY n",
    )
    .bind(TENANT)
    .fetch_all(w.store.db().reader())
    .await
    .unwrap()
}

#[tokio::test]
async fn a_launch_stopped_half_way_is_finished_by_launching_again() {
    let w = world().await;
    w.consent_of(world::CLIENT, "granted").await;
    clients(&w, 0, 1_100, |i| format!("P-{i:05}")).await;
    let plan = json!({
        "name": "Clinic", "kind": "announcement", "filter": {},
        "messages": {"en": "Free clinic Saturday. Reply STOP to stop."},
    });
    w.command("draft_campaign", json!({"id": "camp-1", "plan": plan}))
        .await
        .unwrap();

    // The launch froze its first chunk, then the process was killed.
    let audience = casewire_messaging::audience::pick(&w.store, TENANT, &Filter::default(), None)
        .await
        .unwrap();
    assert_eq!(audience.recipients.len(), 1_101);
    let launcher = Launcher {
        by: None,
        admin: false,
        approvals_required: 0,
    };
    casewire_bus::record::<Campaign>(
        &w.store,
        TENANT,
        "camp-1",
        CampaignCommand::Freeze {
            first: 0,
            recipients: audience.recipients[..500].to_vec(),
            launch: launcher,
        },
        Default::default(),
    )
    .await
    .unwrap();
    let shown = casewire_messaging::campaigns::find(&w.store, TENANT, "camp-1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(shown.state, "draft", "not launched: nothing is sent");
    // Meanwhile a client came, whose case sorts among those frozen already.
    clients(&w, 2_000, 1, |_| "P-00100a".into()).await;

    let launched = w
        .command("step_campaign", json!({"id": "camp-1", "step": "launch"}))
        .await
        .unwrap();
    assert_eq!(launched["state"], "running");
    assert_eq!(launched["counts"]["recipients"], 1_102);
    let rows = recipients(&w).await;
    assert_eq!(rows.len(), 1_102);
    assert!(
        rows.iter().enumerate().all(|(i, (n, _))| *n == i as i64),
        "every place once, in order"
    );
    let phones: HashSet<&String> = rows.iter().map(|(_, p)| p).collect();
    assert_eq!(phones.len(), 1_102, "no client twice");
    assert!(
        phones.contains(&"+13125572000".to_string()),
        "the newcomer too"
    );

    let again = w
        .command("step_campaign", json!({"id": "camp-1", "step": "launch"}))
        .await
        .unwrap_err();
    assert_eq!(
        again.message,
        "the campaign is running: it cannot be launched again"
    );
    assert_eq!(recipients(&w).await.len(), 1_102);
}
