//! An audience picked from more cases than a page (2,000): every case is read once, across
//! the pages, and a client with several cases is counted once.

mod world;

use casewire_events::audience::Filter;
use world::{world, TENANT};

#[tokio::test]
async fn a_launch_reads_every_case_across_the_pages() {
    let w = world().await;
    // 4,500 more cases: each client has two of them.
    for chunk in (0..4_500).collect::<Vec<u32>>().chunks(500) {
        let events = chunk
            .iter()
            .map(|i| world::rosas_case(&format!("P-{i:05}"), &format!("+1312556{:04}", i / 2)))
            .collect();
        w.store.append(TENANT, events).await.unwrap();
    }
    w.catch_up().await;
    let picked = casewire_messaging::audience::pick(&w.store, TENANT, &Filter::default(), None)
        .await
        .unwrap();
    assert!(picked.recipients.is_empty(), "nobody consented");
    // C-1's client, and 2,250 of the others: one each, whatever page their cases are on.
    assert_eq!(picked.excluded.no_consent, 2_251);
    assert_eq!(picked.excluded.duplicate_phone, 2_250);
}
