//! One database handle over PostgreSQL or SQLite. Queries are written once, in the SQL both
//! understand (`$1` parameters, `ON CONFLICT`), through sqlx's `Any` driver; the few places
//! that differ ask [`Db::backend`].

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use sqlx::any::AnyPoolOptions;
use sqlx::migrate::Migrator;
use sqlx::{AnyPool, Executor};

use crate::{Result, StoreError};

/// Explicit transactions begun by this process (read models, SQLite appends): a cost figure
/// for `make bench`. A statement run on its own is not counted.
static TRANSACTIONS_BEGUN: AtomicU64 = AtomicU64::new(0);

pub fn transactions_begun() -> u64 {
    TRANSACTIONS_BEGUN.load(Ordering::Relaxed)
}

static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("../../migrations/postgres");
static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("../../migrations/sqlite");

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    Sqlite,
}

impl Backend {
    /// The database `conn` is connected to: for code handed a transaction.
    pub fn of(conn: &sqlx::AnyConnection) -> Backend {
        match conn.backend_name() {
            <sqlx::Sqlite as sqlx::Database>::NAME => Backend::Sqlite,
            _ => Backend::Postgres,
        }
    }
}

#[derive(Clone)]
pub struct Db {
    reader: AnyPool,
    writer: AnyPool,
    /// For read models: on PostgreSQL its connections commit without waiting for the disk
    /// (see [`Db::begin_read_model`]); on SQLite the writer.
    read_models: AnyPool,
    backend: Backend,
}

impl Db {
    /// Connects to `postgres://…` or `sqlite://…`.
    pub async fn connect(url: &str) -> Result<Db> {
        sqlx::any::install_default_drivers();
        if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let pool = AnyPoolOptions::new()
                .max_connections(24)
                .acquire_timeout(Duration::from_secs(10))
                .connect(url)
                .await?;
            // Set once per connection, not once per transaction: a statement saved on every
            // read-model commit.
            let read_models = AnyPoolOptions::new()
                .max_connections(8)
                .acquire_timeout(Duration::from_secs(10))
                .after_connect(|conn, _| {
                    Box::pin(async move {
                        conn.execute("SET synchronous_commit TO OFF").await?;
                        Ok(())
                    })
                })
                .connect(url)
                .await?;
            Ok(Db {
                reader: pool.clone(),
                writer: pool,
                read_models,
                backend: Backend::Postgres,
            })
        } else if url.starts_with("sqlite:") {
            // SQLite allows one writer at a time; a pool of one writing connection queues
            // writers here instead of failing them with SQLITE_BUSY. WAL lets readers go on.
            let writer = sqlite_pool(1).connect(url).await?;
            let reader = sqlite_pool(8).connect(url).await?;
            Ok(Db {
                reader,
                read_models: writer.clone(),
                writer,
                backend: Backend::Sqlite,
            })
        } else {
            Err(StoreError::Config(format!(
                "unsupported database URL (expected postgres://… or sqlite://…): {}",
                url.split('@').next_back().unwrap_or("")
            )))
        }
    }

    /// Opens (creating if needed) the SQLite database of the embedded mode. The file is
    /// readable by its owner only (0600), like master.key beside it: it holds the log and
    /// the wrapped keys. SQLite gives its -wal and -shm files the database file's mode.
    pub async fn sqlite_file(path: &Path) -> Result<Db> {
        owner_only(path)?;
        Db::connect(&format!("sqlite://{}?mode=rwc", path.display())).await
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// For queries. On PostgreSQL the same pool as [`Db::writer`].
    pub fn reader(&self) -> &AnyPool {
        &self.reader
    }

    /// For every transaction that writes.
    pub fn writer(&self) -> &AnyPool {
        &self.writer
    }

    pub async fn migrate(&self) -> Result<()> {
        match self.backend {
            Backend::Postgres => POSTGRES_MIGRATIONS.run(&self.writer).await?,
            Backend::Sqlite => SQLITE_MIGRATIONS.run(&self.writer).await?,
        }
        Ok(())
    }

    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.reader).await?;
        Ok(())
    }
}

impl Db {
    /// Begins a transaction for a read model: a change that can always be made again from
    /// the log. On PostgreSQL it commits without waiting for the disk: a crash may lose the
    /// last such transactions, each whole (read-model change and cursor together), and the
    /// reader applies those events again. The log itself is always committed durably.
    pub async fn begin_read_model(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>> {
        TRANSACTIONS_BEGUN.fetch_add(1, Ordering::Relaxed);
        Ok(self.read_models.begin().await?)
    }

    /// Begins a transaction that writes the log.
    pub(crate) async fn begin_log(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>> {
        TRANSACTIONS_BEGUN.fetch_add(1, Ordering::Relaxed);
        Ok(self.writer.begin().await?)
    }
}

/// Creates `path` with mode 0600, or takes an existing one down to it.
fn owner_only(path: &Path) -> Result<()> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let failed = |e: std::io::Error| StoreError::Config(format!("{}: {e}", path.display()));
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(path)
        .map_err(failed)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(failed)
}

fn sqlite_pool(max: u32) -> AnyPoolOptions {
    AnyPoolOptions::new()
        .max_connections(max)
        .acquire_timeout(Duration::from_secs(30))
        // A connection to a file in this process does not drop the way a socket does; the
        // ping sqlx sends before handing one out would be a round trip to its thread for
        // every statement outside a transaction.
        .test_before_acquire(false)
        .after_connect(|conn, _| {
            Box::pin(async move {
                conn.execute("PRAGMA journal_mode = WAL").await?;
                conn.execute("PRAGMA synchronous = FULL").await?;
                conn.execute("PRAGMA busy_timeout = 10000").await?;
                Ok(())
            })
        })
}
