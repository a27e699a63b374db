//! Work that follows from an event but is not a read-model change: sending a text, routing
//! an inbound one, delivering a webhook. A projection enqueues the job in the same
//! transaction that moves its cursor, so an event yields its job exactly once; a [`Worker`]
//! then does it, at least once, which is why every worker must be idempotent.
//!
//! Jobs are claimed with a lease, so replicas of a service share a queue and a job whose
//! worker died is taken up again when its lease runs out.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use casewire_contract::QueueDepth;
use casewire_events::timestamp;
use casewire_eventstore::{Backend, EventStore};
use chrono::{DateTime, Utc};
use futures::StreamExt;
use serde_json::Value;
use sqlx::{Any, Transaction};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// How long a claimed job belongs to its worker, unless the worker says otherwise
/// ([`Worker::lease`]). Longer than any provider call.
pub const LEASE: Duration = Duration::from_secs(60);
/// Jobs claimed at once, and run at once, per worker. The texts of one claim share group
/// commits: measured embedded, 16 made 521 texts/s, 32 made 638, 64 made 669 with the
/// dispatcher keeping up with the API (e2e p50 74 ms against 1,368 with 16).
const CONCURRENCY: i64 = 64;
/// Jobs enqueued by another process are noticed within this.
const POLL: Duration = Duration::from_millis(500);

/// One bell per queue: a reader rings the bells of the queues its projections fed.
static BELLS: LazyLock<Mutex<HashMap<String, Arc<Notify>>>> = LazyLock::new(Default::default);

fn bell(queue: &str) -> Arc<Notify> {
    BELLS
        .lock()
        .expect("job bells")
        .entry(queue.to_string())
        .or_default()
        .clone()
}

#[derive(Clone, Debug)]
pub struct Job {
    pub tenant_id: String,
    pub id: String,
    pub payload: Value,
    /// How many times it was claimed, this time included.
    pub attempts: i64,
    /// The trace it was made in: its run continues it.
    pub trace: std::collections::HashMap<String, String>,
    /// How often it was [enqueued again](enqueue_again) before this run: enqueued again
    /// meanwhile, it runs again.
    generation: i64,
}

impl Job {
    /// The event that made this job, when the projection that enqueued it named it in the
    /// payload's `cause`: what the worker records names it as its cause.
    pub fn cause(&self) -> Option<&str> {
        self.payload.get("cause")?.as_str()
    }
}

/// What became of a job.
#[derive(Debug)]
pub enum Outcome {
    Done,
    /// Done, and the event that recorded the outcome removed the job in its own
    /// transaction (an inline projection calling [`remove`]): outcome, status and the job's
    /// end are one commit, and nothing is left to delete.
    Recorded,
    /// Not yet: run it again at this time. The reason goes to the job's row and the log.
    RetryAt(DateTime<Utc>, String),
    /// Going well, and more to do: run it again at this time (a campaign sends a batch
    /// per run). Not a retry: nothing goes to the job's row.
    Continue(DateTime<Utc>),
}

#[async_trait]
pub trait Worker: Send + Sync + 'static {
    fn queue(&self) -> &'static str;

    /// How long a claimed job is this worker's: another process takes it up this long
    /// after a crash. Longer than any one run may take.
    fn lease(&self) -> Duration {
        LEASE
    }

    /// Called with a claim's jobs just before they run, for a worker that reads what they
    /// need at once rather than a job at a time (the dispatcher: its texts and their
    /// consents in a few statements a claim, not two a text). `run` must still work for a
    /// job `prepare` did not see; a failure here is logged and each job reads for itself.
    async fn prepare(&self, _store: &EventStore, _jobs: &[Job]) -> anyhow::Result<()> {
        Ok(())
    }

    async fn run(&self, store: &EventStore, job: &Job) -> anyhow::Result<Outcome>;
}

/// Enqueues a job inside a projection's transaction. Enqueuing the same (queue, tenant, id)
/// again does nothing, so a redelivered event cannot make a second job.
pub async fn enqueue(
    tx: &mut Transaction<'static, Any>,
    queue: &str,
    tenant: &str,
    id: &str,
    payload: &Value,
    due_at: DateTime<Utc>,
) -> anyhow::Result<()> {
    let job = NewJob {
        tenant,
        id,
        payload: payload.to_string(),
        due_at,
        behind: false,
    };
    enqueue_all(tx, queue, &[job]).await
}

/// A job of [`enqueue_all`]'s.
pub struct NewJob<'a> {
    pub tenant: &'a str,
    pub id: &'a str,
    /// Its payload, as JSON.
    pub payload: String,
    pub due_at: DateTime<Utc>,
    /// Behind every job of the queue that is due: claimed only when none of them waits (a
    /// campaign's text after an advocate's text and a due reminder).
    pub behind: bool,
}

/// Rows per statement of [`enqueue_all`] and [`remove_all`]: within either database's
/// limit of placeholders.
const ROWS_AT_ONCE: usize = 500;

/// [`enqueue`]s many jobs at once, each [`NewJob::behind`] or not: a statement per 500, for a read
/// model that applies an append's whole group.
pub async fn enqueue_all(
    tx: &mut Transaction<'static, Any>,
    queue: &str,
    jobs: &[NewJob<'_>],
) -> anyhow::Result<()> {
    // The trace of what made them (the request that queued a text), when tracing is on.
    let trace = casewire_telemetry::inject();
    let trace = (!trace.is_empty()).then(|| serde_json::json!(trace).to_string());
    let now = casewire_events::now();
    for chunk in jobs.chunks(ROWS_AT_ONCE) {
        let sql = format!(
            "INSERT INTO jobs (queue, tenant_id, id, payload, due_at, attempts, created_at, trace, priority) \
             VALUES {} ON CONFLICT (queue, tenant_id, id) DO NOTHING",
            casewire_eventstore::sql::rows(chunk.len(), 9, 1)
        );
        let sql = casewire_eventstore::sql::positional(casewire_eventstore::Backend::of(tx), &sql);
        let mut insert = sqlx::query(&sql);
        for job in chunk {
            insert = insert
                .bind(queue)
                .bind(job.tenant)
                .bind(job.id)
                .bind(&job.payload)
                .bind(timestamp(job.due_at))
                .bind(0_i64)
                .bind(&now)
                .bind(&trace)
                .bind(i64::from(job.behind));
        }
        insert.execute(&mut **tx).await?;
    }
    Ok(())
}

/// Runs a job now: enqueues it, or, when it exists, brings it forward to now, and if it is
/// running, has it run again when this run ends (its outcome may have been decided before
/// what called it again: a campaign's sender that found nobody waiting, as a recipient
/// came). Its next run reads this `payload`, the newest.
pub async fn enqueue_again(
    tx: &mut Transaction<'static, Any>,
    queue: &str,
    tenant: &str,
    id: &str,
    payload: &Value,
) -> anyhow::Result<()> {
    let now = timestamp(casewire_events::utc_now());
    sqlx::query(
        "INSERT INTO jobs (queue, tenant_id, id, payload, due_at, attempts, created_at, priority) \
         VALUES ($1, $2, $3, $4, $5, 0, $5, 0) ON CONFLICT (queue, tenant_id, id) DO UPDATE SET \
         generation = jobs.generation + 1, payload = excluded.payload, \
         due_at = CASE WHEN jobs.due_at > $5 THEN $5 ELSE jobs.due_at END",
    )
    .bind(queue)
    .bind(tenant)
    .bind(id)
    .bind(payload.to_string())
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Brings a waiting job's time forward to `at`, inside a projection's transaction, when
/// the event it waits for came sooner than it looks again. No such job: nothing.
pub async fn bring_forward(
    tx: &mut Transaction<'static, Any>,
    queue: &str,
    tenant: &str,
    id: &str,
    at: DateTime<Utc>,
) -> anyhow::Result<()> {
    sqlx::query(
        "UPDATE jobs SET due_at = $4 WHERE queue = $1 AND tenant_id = $2 AND id = $3 AND due_at > $4",
    )
    .bind(queue)
    .bind(tenant)
    .bind(id)
    .bind(timestamp(at))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Removes a job inside the transaction that records its outcome.
pub async fn remove(
    tx: &mut Transaction<'static, Any>,
    queue: &str,
    tenant: &str,
    id: &str,
) -> anyhow::Result<()> {
    remove_all(tx, queue, tenant, &[id]).await
}

/// [`remove`]s many jobs of a tenant at once: a statement per 500.
pub async fn remove_all(
    tx: &mut Transaction<'static, Any>,
    queue: &str,
    tenant: &str,
    ids: &[&str],
) -> anyhow::Result<()> {
    for chunk in ids.chunks(ROWS_AT_ONCE) {
        let sql = format!(
            "DELETE FROM jobs WHERE queue = $1 AND tenant_id = $2 AND id IN ({})",
            casewire_eventstore::sql::list(chunk.len(), 3)
        );
        let sql = casewire_eventstore::sql::positional(casewire_eventstore::Backend::of(tx), &sql);
        let mut delete = sqlx::query(&sql).bind(queue).bind(tenant);
        for id in chunk {
            delete = delete.bind(*id);
        }
        delete.execute(&mut **tx).await?;
    }
    Ok(())
}

/// Wakes this process's workers of `queue`: called after a projection that feeds it
/// committed.
pub(crate) fn wake(queue: &str) {
    bell(queue).notify_waiters();
}

/// Runs a worker until `stop`: claims up to [`CONCURRENCY`] due jobs, runs them at once,
/// and claims again when all have ended. (Claiming again as each job ends was tried: on
/// SQLite it made many small claims and scattered the readers' batches, and halved the
/// embedded mode's texts per second; docs/benchmarks.md.)
pub async fn run(store: EventStore, worker: Arc<dyn Worker>, stop: CancellationToken) {
    let bell = bell(worker.queue());
    let mut next: Option<DateTime<Utc>> = None;
    loop {
        let woken = bell.notified();
        let busy = match run_claimed(&store, worker.as_ref()).await {
            Ok((n, continues)) => {
                // A job that continues soon (a campaign's next tenth of a second) is looked
                // for then, not at the next poll.
                next = match (next, continues) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
                n > 0
            }
            Err(e) => {
                tracing::warn!(queue = worker.queue(), error = %e, "job queue unavailable; retrying");
                false
            }
        };
        if busy {
            continue;
        }
        let wait = next.take().map_or(POLL, |at| {
            let until = (at - casewire_events::utc_now())
                .to_std()
                .unwrap_or_default();
            until.min(POLL)
        });
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = woken => {}
            _ = tokio::time::sleep(wait) => {}
        }
    }
}

/// How much work a queue holds: what the operator looks at first when texts are slow.
pub async fn depth(store: &EventStore, queue: &str) -> anyhow::Result<QueueDepth> {
    let now = timestamp(casewire_events::utc_now());
    let (due, scheduled, retrying, oldest_due_at): (i64, i64, i64, Option<String>) =
        sqlx::query_as(
            "SELECT COALESCE(SUM(CASE WHEN due_at <= $2 THEN 1 ELSE 0 END), 0), \
                COALESCE(SUM(CASE WHEN due_at > $2 THEN 1 ELSE 0 END), 0), \
                COALESCE(SUM(CASE WHEN last_error IS NOT NULL THEN 1 ELSE 0 END), 0), \
                MIN(CASE WHEN due_at <= $2 THEN due_at END) \
         FROM jobs WHERE queue = $1",
        )
        .bind(queue)
        .bind(&now)
        .fetch_one(store.db().reader())
        .await?;
    Ok(QueueDepth {
        queue: queue.to_string(),
        due,
        scheduled,
        retrying,
        oldest_due_at,
    })
}

/// Claims the jobs due now, up to [`CONCURRENCY`], and runs them at once; returns how many
/// it ran.
pub async fn run_due(store: &EventStore, worker: &dyn Worker) -> anyhow::Result<usize> {
    Ok(run_claimed(store, worker).await?.0)
}

/// [`run_due`], and the soonest time a job that ran asked to [continue](Outcome::Continue).
async fn run_claimed(
    store: &EventStore,
    worker: &dyn Worker,
) -> anyhow::Result<(usize, Option<DateTime<Utc>>)> {
    let jobs = claim(store, worker.queue(), worker.lease(), CONCURRENCY).await?;
    let ran = jobs.len();
    if ran > 0 {
        if let Err(e) = worker.prepare(store, &jobs).await {
            tracing::warn!(queue = worker.queue(), error = %e, "could not read a claim's facts at once; each job reads its own");
        }
    }
    let soonest = futures::stream::iter(jobs)
        .map(|job| finish(store, worker, job))
        .buffer_unordered(usize::MAX)
        .fold(None, |soonest: Option<DateTime<Utc>>, next| async move {
            match (soonest, next) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            }
        })
        .await;
    Ok((ran, soonest))
}

/// Claims up to `limit` due jobs whose lease is free, in one statement, those enqueued
/// [behind](NewJob::behind) last. Of two replicas, each row goes to one: PostgreSQL skips
/// the rows another claim holds, SQLite has one writer.
async fn claim(
    store: &EventStore,
    queue: &str,
    lease: Duration,
    limit: i64,
) -> anyhow::Result<Vec<Job>> {
    let now = casewire_events::utc_now();
    let lease_until = now + chrono::Duration::from_std(lease)?;
    let skip_locked = match store.db().backend() {
        Backend::Postgres => " FOR UPDATE SKIP LOCKED",
        Backend::Sqlite => "",
    };
    type Claimed = (String, String, String, i64, Option<String>, i64);
    let rows: Vec<Claimed> = sqlx::query_as(&format!(
        "UPDATE jobs SET lease_until = $1, attempts = attempts + 1 \
         WHERE queue = $2 AND (tenant_id, id) IN (SELECT tenant_id, id FROM jobs \
            WHERE queue = $2 AND due_at <= $3 AND (lease_until IS NULL OR lease_until < $3) \
            ORDER BY priority, due_at LIMIT $4{skip_locked}) \
         RETURNING tenant_id, id, payload, attempts, trace, generation"
    ))
    .bind(timestamp(lease_until))
    .bind(queue)
    .bind(timestamp(now))
    .bind(limit)
    .fetch_all(store.db().writer())
    .await?;
    rows.into_iter()
        .map(|(tenant_id, id, payload, attempts, trace, generation)| {
            Ok(Job {
                tenant_id,
                id,
                payload: serde_json::from_str(&payload)?,
                attempts,
                trace: trace
                    .and_then(|t| serde_json::from_str(&t).ok())
                    .unwrap_or_default(),
                generation,
            })
        })
        .collect()
}

/// Runs a claimed job and records what became of it: when it asked to continue, when.
async fn finish(store: &EventStore, worker: &dyn Worker, job: Job) -> Option<DateTime<Utc>> {
    let span = tracing::info_span!("job", queue = worker.queue(), tenant = %job.tenant_id, id = %job.id, attempts = job.attempts);
    casewire_telemetry::continue_from(&span, &job.trace);
    let outcome = tracing::Instrument::instrument(worker.run(store, &job), span).await;
    let mut continues = None;
    let result = match outcome {
        Ok(Outcome::Done) => end(store, worker, &job).await,
        Ok(Outcome::Recorded) => Ok(()),
        Ok(Outcome::RetryAt(at, reason)) => {
            reschedule(store, worker, &job, at, Some(&reason)).await
        }
        Ok(Outcome::Continue(at)) => {
            continues = Some(at);
            reschedule(store, worker, &job, at, None).await
        }
        Err(e) => {
            // A failure of casewire itself (store down): try again soon, keep the reason.
            tracing::warn!(queue = worker.queue(), id = %job.id, error = %e, "job failed; will retry");
            let at = casewire_events::utc_now() + chrono::Duration::seconds(5);
            reschedule(store, worker, &job, at, Some(&e.to_string())).await
        }
    };
    if let Err(e) = result {
        // The lease runs out and the job runs again: workers are idempotent.
        tracing::warn!(queue = worker.queue(), id = %job.id, error = %e, "could not record a job's outcome");
    }
    continues
}

/// Removes a job that is done, unless it was [enqueued again](enqueue_again) while it ran:
/// then it runs again now.
async fn end(store: &EventStore, worker: &dyn Worker, job: &Job) -> Result<(), sqlx::Error> {
    let ended = sqlx::query(
        "DELETE FROM jobs WHERE queue = $1 AND tenant_id = $2 AND id = $3 AND generation = $4",
    )
    .bind(worker.queue())
    .bind(&job.tenant_id)
    .bind(&job.id)
    .bind(job.generation)
    .execute(store.db().writer())
    .await?;
    match ended.rows_affected() {
        0 => reschedule(store, worker, job, casewire_events::utc_now(), None).await,
        _ => Ok(()),
    }
}

async fn reschedule(
    store: &EventStore,
    worker: &dyn Worker,
    job: &Job,
    at: DateTime<Utc>,
    reason: Option<&str>,
) -> Result<(), sqlx::Error> {
    // Enqueued again while it ran (the generation moved): at once, not at `at`.
    sqlx::query(
        "UPDATE jobs SET lease_until = NULL, last_error = $2, \
         due_at = CASE WHEN generation = $6 THEN $1 ELSE $7 END \
         WHERE queue = $3 AND tenant_id = $4 AND id = $5",
    )
    .bind(timestamp(at))
    .bind(reason)
    .bind(worker.queue())
    .bind(&job.tenant_id)
    .bind(&job.id)
    .bind(job.generation)
    .bind(casewire_events::now())
    .execute(store.db().writer())
    .await
    .map(drop)
}

/// Exponential backoff with full jitter: attempt 1 waits about `base`, each next one twice
/// as long, never more than `cap`.
pub fn backoff(attempt: i64, base: Duration, cap: Duration) -> Duration {
    use rand::Rng;
    let exp = base.saturating_mul(1u32 << attempt.clamp(1, 20).saturating_sub(1) as u32);
    let ceiling = exp.min(cap);
    let half = ceiling / 2;
    half + ceiling.mul_f64(rand::thread_rng().gen_range(0.0..0.5))
}
