use std::sync::Arc;

/// Everything the event store can fail with. Clone, because one failed group commit
/// answers every append that was in it.
#[derive(Clone, Debug, thiserror::Error)]
pub enum StoreError {
    #[error(
        "{aggregate_type} {aggregate_id} was changed concurrently: this change was to be its \
         event {expected}, but it already has {actual} events; reload it and try again"
    )]
    Conflict {
        aggregate_type: String,
        aggregate_id: String,
        expected: i64,
        actual: i64,
    },
    #[error("the personal data of {0} was erased; nothing more can be sealed for it")]
    SubjectErased(String),
    #[error("database: {0}")]
    Database(Arc<sqlx::Error>),
    #[error("migration: {0}")]
    Migration(Arc<sqlx::migrate::MigrateError>),
    #[error("corrupt data in the store: {0}")]
    Corrupt(String),
    #[error("invalid event: {0}")]
    Invalid(String),
    #[error("{0}")]
    Config(String),
    /// A tenant with no event and no chain head: a mistyped id, never an intact trail.
    #[error("no such tenant: {0}")]
    NoSuchTenant(String),
    /// An inline read model could not apply an event: the append was not written.
    #[error("read model {0}")]
    Inline(String),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        StoreError::Database(Arc::new(e))
    }
}

impl From<sqlx::migrate::MigrateError> for StoreError {
    fn from(e: sqlx::migrate::MigrateError) -> Self {
        StoreError::Migration(Arc::new(e))
    }
}
