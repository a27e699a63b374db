//! The fault suite's short run (`make chaos` runs the long one): see tests/e2e/src/chaos.rs.

use casewire_e2e::chaos::{run, Plan};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn texts_go_once_through_kills_of_every_process_and_outages_of_nats_and_postgres() {
    let plan = Plan::from_env();
    let report = run(&plan).await;
    let table = report.table(&plan);
    println!("{table}");
    assert_eq!(report.accepted, plan.texts, "{table}");
    assert!(
        report.doubled.is_empty(),
        "texts sent twice: {:?}\n{table}",
        report.doubled
    );
    assert!(
        report.lost.is_empty(),
        "texts lost: {:?}\n{table}",
        report.lost
    );
    assert!(report.chain_intact, "{table}");
    assert!(report.stream_is_log, "{table}");
    assert_eq!(report.recoveries.len(), plan.faults, "{table}");
}
