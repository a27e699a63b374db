//! The relay: publishes the committed log to JetStream, each tenant in `tenant_seq` order,
//! with `Nats-Msg-Id` = `event_id`.
//!
//! Its cursor (`cursors` row "relay") moves only after JetStream acknowledged the events,
//! so a crash never loses one; a crash after publishing and before moving the cursor makes
//! the next relay publish them again, and JetStream drops those as duplicates within its
//! duplicate window.
//!
//! On PostgreSQL every process may relay and one at a time does: the one holding the lease
//! (`relay_lease`), taken when it is free or expired, checked before each batch and renewed
//! once half of it is gone (about every two seconds while publishing). A holder
//! publishes a batch only while its lease is valid by its own clock, counted from before
//! the renewal it sent, less a margin, so it stops before the database could give the lease
//! to another: a database restart, or a holder cut off from it, cannot make two publishers.
//! (An advisory lock, used before, lived on one connection: a database restart dropped it
//! silently while its holder went on publishing, and another process took it.) What is
//! left: a batch whose acknowledgements take longer than the lease may be published again
//! by the next holder; JetStream drops those by `Nats-Msg-Id`.

use std::time::Duration;

use casewire_eventstore::{Backend, EventStore};
use serde::Serialize;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::{BusError, Nats, Result};

pub const CURSOR: &str = "relay";
const BATCH: i64 = 256;
/// How long a lease lasts in the database after each renewal.
const LEASE: Duration = Duration::from_secs(10);
/// What a holder keeps back from the lease, by its own clock, counted from before the
/// renewal it sent: room for clocks that run apart and a slow statement.
const MARGIN: Duration = Duration::from_secs(3);

/// Runs the relay until `stop`.
pub async fn run(store: EventStore, nats: Nats, stop: CancellationToken) {
    let mut fence = Fence::new(&store);
    let mut appended = store.appended();
    let mut leading = false;
    loop {
        match relay_once_fenced(&store, &nats, &mut fence).await {
            Ok(_) if !leading && fence.holds() => {
                leading = true;
                tracing::info!(holder = %fence.holder, token = fence.token, "relay publishing the log to JetStream");
            }
            Ok(_) => {}
            Err(BusError::LeaseLost) => {
                if leading {
                    tracing::warn!(holder = %fence.holder, "relay lease lost: another process may publish now");
                }
                leading = false;
            }
            Err(e) => tracing::warn!(error = %e, "relay pass failed; retrying"),
        }
        let wait = match leading {
            // Appends by other processes (the services run apart) do not notify this one.
            true => Duration::from_millis(100),
            // Not the holder: look again about when a lost holder's lease would end.
            false => Duration::from_secs(1),
        };
        tokio::select! {
            _ = stop.cancelled() => break,
            _ = appended.changed(), if leading => {}
            _ = tokio::time::sleep(wait) => {}
        }
    }
    fence.release(&store).await;
}

/// A relay's right to publish.
pub struct Fence {
    /// Who this relay is, in the lease row and in `/v1/status`.
    pub holder: String,
    /// The lease's token while this relay holds it; it grows with each new holder.
    pub token: i64,
    /// Until when this relay may publish, by its own clock; `None`: it does not hold it.
    valid_until: Option<Instant>,
    /// The embedded mode: one process, always the relay.
    sole: bool,
}

impl Fence {
    pub fn new(store: &EventStore) -> Fence {
        Fence {
            holder: format!(
                "{}/{}/{}",
                std::env::var("HOSTNAME").unwrap_or_else(|_| "host".into()),
                std::process::id(),
                &uuid::Uuid::new_v4().simple().to_string()[..8]
            ),
            token: 0,
            valid_until: None,
            sole: store.db().backend() == Backend::Sqlite,
        }
    }

    /// Until when this relay may publish by its own clock, while it holds the lease.
    pub fn valid_until(&self) -> Option<Instant> {
        self.valid_until
    }

    pub fn holds(&self) -> bool {
        self.sole || self.valid_until.is_some_and(|t| Instant::now() < t)
    }

    /// Before a batch: renews the lease when it runs low, or takes it when it is free;
    /// `LeaseLost` when this relay may not publish now.
    pub async fn check(&mut self, store: &EventStore) -> Result<()> {
        if self.sole {
            return Ok(());
        }
        // Plenty left: no statement. (Renewed about every two seconds while publishing.)
        if self
            .valid_until
            .is_some_and(|t| t.saturating_duration_since(Instant::now()) > LEASE / 2)
        {
            return Ok(());
        }
        let sent = Instant::now();
        // Renewed by its holder with its token; else taken, with a new token, once expired.
        let row: Option<(i64,)> = sqlx::query_as(
            "UPDATE relay_lease SET \
               token = CASE WHEN holder = $1 AND token = $2 THEN token ELSE token + 1 END, \
               holder = $1, expires_at = now() + $3 * interval '1 millisecond' \
             WHERE name = 'relay' AND ((holder = $1 AND token = $2) OR expires_at < now()) \
             RETURNING token",
        )
        .bind(&self.holder)
        .bind(self.token)
        .bind(LEASE.as_millis() as i64)
        .fetch_optional(store.db().writer())
        .await
        .map_err(|e| {
            self.lapse();
            BusError::Store(casewire_eventstore::StoreError::from(e))
        })?;
        match row {
            Some((token,)) => {
                self.token = token;
                self.valid_until = Some(sent + LEASE - MARGIN);
                Ok(())
            }
            None => {
                self.valid_until = None;
                Err(BusError::LeaseLost)
            }
        }
    }

    /// The database could not be asked: the lease stands only as long as the clock says.
    fn lapse(&mut self) {
        if !self.holds() {
            self.valid_until = None;
        }
    }

    /// Gives the lease up on a clean stop, so the next relay need not wait for it to expire.
    async fn release(&mut self, store: &EventStore) {
        if self.sole || self.valid_until.is_none() {
            return;
        }
        let _ = sqlx::query(
            "UPDATE relay_lease SET expires_at = 'epoch' WHERE name = 'relay' AND holder = $1 AND token = $2",
        )
        .bind(&self.holder)
        .bind(self.token)
        .execute(store.db().writer())
        .await;
    }
}

/// Who holds the relay's lease and how far behind the log it is: for `/v1/status`.
#[derive(Debug, Clone, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct RelayStatus {
    /// The holding process (host/pid/id); `None` when no relay holds a valid lease.
    pub holder: Option<String>,
    pub token: i64,
    pub expires_at: Option<String>,
    /// Events committed and not yet published.
    pub events_behind: i64,
}

pub async fn status(store: &EventStore) -> Result<RelayStatus> {
    let behind: i64 = store
        .lagging(CURSOR)
        .await?
        .iter()
        .map(|l| l.head - l.cursor)
        .sum();
    if store.db().backend() == Backend::Sqlite {
        return Ok(RelayStatus {
            holder: Some("this process".into()),
            token: 0,
            expires_at: None,
            events_behind: behind,
        });
    }
    let (holder, token, expires_at): (Option<String>, i64, Option<String>) = sqlx::query_as(
        "SELECT CASE WHEN expires_at > now() THEN holder END, token, \
                CASE WHEN expires_at > now() THEN to_char(expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') END \
         FROM relay_lease WHERE name = 'relay'",
    )
    .fetch_one(store.db().reader())
    .await
    .map_err(|e| BusError::Store(casewire_eventstore::StoreError::from(e)))?;
    Ok(RelayStatus {
        holder,
        token,
        expires_at,
        events_behind: behind,
    })
}

/// [`relay_once_fenced`] for the only relay there is (tests, the embedded mode).
pub async fn relay_once(store: &EventStore, nats: &Nats) -> Result<usize> {
    let mut fence = Fence::new(store);
    fence.sole = true;
    relay_once_fenced(store, nats, &mut fence).await
}

/// Publishes everything committed and not yet published, each batch only while `fence`
/// holds. Returns how many were sent.
pub async fn relay_once_fenced(
    store: &EventStore,
    nats: &Nats,
    fence: &mut Fence,
) -> Result<usize> {
    fence.check(store).await?;
    let mut sent = 0;
    for lag in store.lagging(CURSOR).await? {
        let mut cursor = lag.cursor;
        loop {
            let events = store.read_log(&lag.tenant_id, cursor, BATCH).await?;
            fence.check(store).await?;
            let Some(last) = events.last().map(|e| e.tenant_seq) else {
                break;
            };
            // Pipelined: send the batch, then collect the acks in order.
            let mut acks = Vec::with_capacity(events.len());
            for e in &events {
                acks.push(nats.publish(e).await?);
            }
            let mut published = cursor;
            let mut failure = None;
            for (e, ack) in events.iter().zip(acks) {
                match ack.await {
                    Ok(_) if failure.is_none() => published = e.tenant_seq,
                    Ok(_) => {}
                    Err(err) => failure = failure.or(Some(err)),
                }
            }
            store
                .advance_cursor(CURSOR, &lag.tenant_id, published)
                .await?;
            sent += (published - cursor) as usize;
            if let Some(err) = failure {
                return Err(BusError::Nats(format!(
                    "publishing stopped at {}: {err}",
                    published + 1
                )));
            }
            cursor = last;
        }
    }
    Ok(sent)
}
