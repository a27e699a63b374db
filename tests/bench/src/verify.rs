//! Chain verification per second, against its two limits: reading the same rows without
//! hashing them, and hashing the same rows already in memory.

use std::future::Future;
use std::hint::black_box;
use std::time::{Duration, Instant};

use anyhow::{bail, ensure};
use casewire_events::RecordedEvent;
use casewire_eventstore::chain::{self, Hash, GENESIS};
use casewire_eventstore::{Db, EventStore, NewEvent, Verification};
use casewire_testkit::PgServer;

use crate::workload::{aggregate_id, new_event};

pub(crate) const TENANT: &str = "tenant-verify";
/// The chunk `EventStore::verify` reads.
const CHUNK: i64 = 5000;
/// Events per append while filling: one aggregate's run of events per call.
const BATCH: usize = 1000;
/// Each figure is the median of this many timed runs, after one untimed read.
const RUNS: usize = 3;

pub struct Rates {
    pub verify: f64,
    pub read: f64,
    pub hash: f64,
}

pub async fn measure(server: &PgServer, events: usize) -> anyhow::Result<Rates> {
    let db = Db::connect(&server.fresh_database().await?).await?;
    db.migrate().await?;
    let store = EventStore::new(db, casewire_crypto::Key::generate());
    fill(&store, events).await?;

    let mut rows = Vec::with_capacity(events); // reading warms PostgreSQL's cache too
    read_chunks(&store, |chunk| rows.extend(chunk)).await?;
    ensure!(
        rows.len() == events,
        "read {} of {events} events",
        rows.len()
    );
    // The three take turns, so that a change in the machine's load falls on all of them.
    let mut times: [Vec<Duration>; 3] = Default::default();
    for _ in 0..RUNS {
        times[0].push(timed(verify(&store, events)).await?);
        times[1].push(timed(read(&store, events)).await?);
        times[2].push(timed(async { anyhow::Ok(hash_all(&rows)) }).await?);
    }
    let [verify, read, hash] = times.map(median);
    let rate = |d: Duration| events as f64 / d.as_secs_f64();
    Ok(Rates {
        verify: rate(verify),
        read: rate(read),
        hash: rate(hash),
    })
}

/// Appends `events` to [`TENANT`], `BATCH` per call, one aggregate per call.
pub(crate) async fn fill(store: &EventStore, events: usize) -> anyhow::Result<()> {
    for (b, start) in (0..events).step_by(BATCH).enumerate() {
        let id = aggregate_id(b);
        let batch: Vec<NewEvent> = (1..=BATCH.min(events - start))
            .map(|seq| new_event(&id, seq as i64))
            .collect();
        store.append(TENANT, batch).await?;
    }
    Ok(())
}

/// Reads the tenant's rows in the chunks `verify` reads, handing each chunk to `chunk`;
/// returns how many rows there were.
async fn read_chunks(
    store: &EventStore,
    mut chunk: impl FnMut(Vec<RecordedEvent>),
) -> anyhow::Result<usize> {
    let (mut after, mut count) = (0, 0);
    loop {
        let rows = store.read_log(TENANT, after, CHUNK).await?;
        let Some(last) = rows.last() else {
            return Ok(count);
        };
        after = last.tenant_seq;
        count += rows.len();
        chunk(rows);
    }
}

/// The chain's hashes over rows in memory: SHA-256 and nothing else.
fn hash_all(rows: &[RecordedEvent]) -> Hash {
    let mut prev = GENESIS;
    for e in rows {
        prev = chain::event_hash(&prev, black_box(e));
    }
    prev
}

async fn verify(store: &EventStore, events: usize) -> anyhow::Result<()> {
    match store.verify(TENANT, &[]).await? {
        Verification::Intact { events: n, .. } if n as usize == events => Ok(()),
        other => bail!("verification of the benchmark chain: {other:?}"),
    }
}

async fn read(store: &EventStore, events: usize) -> anyhow::Result<()> {
    let n = read_chunks(store, drop).await?;
    ensure!(n == events, "read {n} of {events} events");
    Ok(())
}

/// How long `work` takes; its result is kept from the optimizer, then dropped.
async fn timed<T>(work: impl Future<Output = anyhow::Result<T>>) -> anyhow::Result<Duration> {
    let clock = Instant::now();
    black_box(work.await?);
    Ok(clock.elapsed())
}

pub(crate) fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}
