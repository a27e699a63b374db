//! The three ways to append the same events: casewire, postgres-es, and plain INSERTs.

use std::convert::Infallible;

use anyhow::Context;
use casewire_eventstore::{Db, EventStore, NewEvent};
use casewire_testkit::PgServer;
use cqrs_es::event_sink::EventSink;
use cqrs_es::persist::{PersistedEventRepository, SerializedEvent};
use cqrs_es::{Aggregate, DomainEvent};
use postgres_es::PostgresEventRepository;
use serde::{Deserialize, Serialize};
use sqlx::postgres::PgPoolOptions;
use sqlx::PgPool;

use crate::workload::AGGREGATE_TYPE;

/// Connections per pool: casewire's own pool size, given to the others too.
const POOL_SIZE: u32 = 32;

#[derive(Clone, Copy)]
pub enum Kind {
    Casewire,
    PostgresEs,
    PlainInsert,
}

impl Kind {
    pub const ALL: [Kind; 3] = [Kind::Casewire, Kind::PostgresEs, Kind::PlainInsert];

    pub fn name(self) -> &'static str {
        match self {
            Kind::Casewire => "casewire",
            Kind::PostgresEs => "postgres-es",
            Kind::PlainInsert => "plain INSERT",
        }
    }

    /// Sets the contender up on a fresh database of `server`.
    pub async fn start(self, server: &PgServer) -> anyhow::Result<Contender> {
        let url = server.fresh_database().await?;
        Ok(match self {
            Kind::Casewire => {
                let db = Db::connect(&url).await?;
                db.migrate().await?;
                Contender::Casewire(EventStore::new(db, casewire_crypto::Key::generate()))
            }
            Kind::PostgresEs => {
                let pool = pg_pool(&url, POSTGRES_ES_SCHEMA).await?;
                Contender::PostgresEs(PostgresEventRepository::new(pool.clone()), pool)
            }
            Kind::PlainInsert => Contender::PlainInsert(pg_pool(&url, PLAIN_SCHEMA).await?),
        })
    }
}

pub enum Contender {
    /// `EventStore::append`: chained, group-committed per tenant.
    Casewire(EventStore),
    /// The repository cqrs-es ships: one transaction per call, no tenant, no chain. With its
    /// pool, to close.
    PostgresEs(PostgresEventRepository, PgPool),
    /// The limit: the same rows as casewire's, one INSERT each, no chain, no grouping.
    PlainInsert(PgPool),
}

impl Contender {
    /// Appends one event, as one command would.
    pub async fn append(&self, tenant: &str, event: NewEvent) -> anyhow::Result<()> {
        match self {
            Contender::Casewire(store) => {
                store.append(tenant, vec![event]).await?;
            }
            Contender::PostgresEs(repo, _) => {
                repo.persist::<Conversation>(&[serialized(event)], None)
                    .await?;
            }
            Contender::PlainInsert(pool) => insert_plain(pool, tenant, event).await?,
        }
        Ok(())
    }

    /// Closes the contender's connections, which dropping does not do for casewire: its
    /// per-tenant appender tasks keep the store's pool alive.
    pub async fn close(&self) {
        match self {
            Contender::Casewire(store) => store.db().writer().close().await,
            Contender::PostgresEs(_, pool) | Contender::PlainInsert(pool) => pool.close().await,
        }
    }

    /// casewire only: events per commit in `tenant`, from the rows (all events of one group
    /// commit share their `recorded_at`).
    pub async fn events_per_commit(&self, tenant: &str) -> anyhow::Result<Option<f64>> {
        let Contender::Casewire(store) = self else {
            return Ok(None);
        };
        let (events, commits): (i64, i64) = sqlx::query_as(
            "SELECT count(*), count(DISTINCT recorded_at) FROM events WHERE tenant_id = $1",
        )
        .bind(tenant)
        .fetch_one(store.db().reader())
        .await?;
        Ok(Some(events as f64 / commits.max(1) as f64))
    }
}

async fn pg_pool(url: &str, schema: &str) -> anyhow::Result<PgPool> {
    let pool = PgPoolOptions::new()
        .max_connections(POOL_SIZE)
        .connect(url)
        .await
        .with_context(|| format!("connecting to {url}"))?;
    sqlx::raw_sql(schema).execute(&pool).await?;
    Ok(pool)
}

/// The events table postgres-es documents (its db/init.sql).
const POSTGRES_ES_SCHEMA: &str = "
CREATE TABLE events (
    aggregate_type text                         NOT NULL,
    aggregate_id   text                         NOT NULL,
    sequence       bigint CHECK (sequence >= 0) NOT NULL,
    event_type     text                         NOT NULL,
    event_version  text                         NOT NULL,
    payload        json                         NOT NULL,
    metadata       json                         NOT NULL,
    PRIMARY KEY (aggregate_type, aggregate_id, sequence)
)";

/// casewire's events table (migrations/postgres/0001_event_log.sql) with the same columns and
/// keys, but `tenant_seq` from an identity instead of a chain head.
const PLAIN_SCHEMA: &str = "
CREATE TABLE events (
    tenant_id      TEXT   NOT NULL,
    tenant_seq     BIGINT GENERATED ALWAYS AS IDENTITY,
    event_id       TEXT   NOT NULL UNIQUE,
    aggregate_type TEXT   NOT NULL,
    aggregate_id   TEXT   NOT NULL,
    sequence       BIGINT NOT NULL CHECK (sequence >= 1),
    event_type     TEXT   NOT NULL,
    event_version  TEXT   NOT NULL,
    payload        TEXT   NOT NULL,
    metadata       TEXT   NOT NULL,
    recorded_at    TEXT   NOT NULL,
    prev_hash      BYTEA  NOT NULL,
    hash           BYTEA  NOT NULL,
    PRIMARY KEY (tenant_id, tenant_seq),
    UNIQUE (tenant_id, aggregate_type, aggregate_id, sequence)
)";

/// One INSERT in its own (implicit) transaction; the hash columns hold zeros.
async fn insert_plain(pool: &PgPool, tenant: &str, e: NewEvent) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO events (tenant_id, event_id, aggregate_type, aggregate_id, sequence, \
         event_type, event_version, payload, metadata, recorded_at, prev_hash, hash) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(tenant)
    .bind(uuid::Uuid::now_v7().to_string())
    .bind(e.aggregate_type)
    .bind(e.aggregate_id)
    .bind(e.sequence)
    .bind(e.event_type)
    .bind(e.event_version)
    .bind(e.payload.to_string())
    .bind(e.metadata.to_string())
    .bind(chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true))
    .bind([0u8; 32].to_vec())
    .bind([0u8; 32].to_vec())
    .execute(pool)
    .await?;
    Ok(())
}

fn serialized(e: NewEvent) -> SerializedEvent {
    SerializedEvent::new(
        e.aggregate_id,
        e.sequence as usize,
        e.aggregate_type,
        e.event_type,
        e.event_version,
        e.payload,
        e.metadata,
    )
}

/// The aggregate type postgres-es needs for its generic methods; only its `TYPE` is used.
#[derive(Default, Serialize, Deserialize)]
struct Conversation;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct ConversationEvent;

impl DomainEvent for ConversationEvent {
    fn event_type(&self) -> String {
        crate::workload::EVENT_TYPE.into()
    }

    fn event_version(&self) -> String {
        crate::workload::EVENT_VERSION.into()
    }
}

impl Aggregate for Conversation {
    const TYPE: &'static str = AGGREGATE_TYPE;
    type Command = ();
    type Event = ConversationEvent;
    type Error = Infallible;
    type Services = ();

    async fn handle(&mut self, _: (), _: &(), _: &EventSink<Self>) -> Result<(), Infallible> {
        Ok(())
    }

    fn apply(&mut self, _: ConversationEvent) {}
}
