//! Appends per second: every writer appends its events one call at a time, all writers at
//! once, and the clock runs from the moment they all start until the last one finishes.

use std::sync::Arc;
use std::time::Instant;

use tokio::sync::Barrier;
use tokio::task::JoinSet;

use crate::contenders::Contender;
use crate::workload::{aggregate_id, new_event, Scenario};

/// Untimed events per writer first: pool connections opened, tenants' chain heads created.
const WARM_UP: usize = 5;

pub struct Run {
    pub events_per_sec: f64,
    /// casewire only: mean events per group commit, on the first tenant.
    pub events_per_commit: Option<f64>,
}

pub async fn run(contender: Contender, scenario: &Scenario) -> anyhow::Result<Run> {
    let contender = Arc::new(contender);
    let start = Arc::new(Barrier::new(scenario.writers + 1));
    let mut writers = JoinSet::new();
    for w in 0..scenario.writers {
        let (contender, start) = (contender.clone(), start.clone());
        let tenant = scenario.tenant(w);
        let timed = scenario.events_per_writer;
        writers.spawn(async move {
            let append =
                |seq: usize| contender.append(&tenant, new_event(&aggregate_id(w), seq as i64));
            let mut warm_up = Ok(());
            for seq in 1..=WARM_UP {
                warm_up = append(seq).await;
                if warm_up.is_err() {
                    break;
                }
            }
            start.wait().await; // even after an error, so that the others are not stuck
            warm_up?;
            for seq in WARM_UP + 1..=WARM_UP + timed {
                append(seq).await?;
            }
            anyhow::Ok(())
        });
    }
    start.wait().await;
    let clock = Instant::now();
    while let Some(writer) = writers.join_next().await {
        writer??;
    }
    let elapsed = clock.elapsed();
    let events_per_commit = contender.events_per_commit(&scenario.tenant(0)).await?;
    contender.close().await;
    Ok(Run {
        events_per_sec: scenario.total_events() as f64 / elapsed.as_secs_f64(),
        events_per_commit,
    })
}
