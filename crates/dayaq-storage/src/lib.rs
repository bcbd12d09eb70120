//! Dayaq storage: one `Store` over SQLite (default) or PostgreSQL.
//!
//! All SQL lives in this crate and is parameterised. Queries are written once in the common
//! subset of both engines and run through `sqlx::Any`; each engine has its own migration
//! directory with the same versions (see `tests` for the schema-equivalence check).
//! Every function that touches case data takes an `Actor` and asks the access policy
//! (`dayaq_domain::decide`) before it reads or writes; each read of identity data and every
//! write appends to the hash-chained audit log in the same transaction.

pub mod accounts;
pub mod aggregates;
pub mod alerts;
pub mod assistance;
pub mod attachments;
pub mod audit;
pub mod audit_viewer;
pub mod backup;
pub mod cases;
pub mod crypto;
mod db;
pub mod documents;
mod engine;
pub mod exports;
pub mod followup;
// One-time form tokens of the screens (issue #23).
pub mod form_tokens;
pub mod htcds;
pub mod identification;
#[cfg(test)]
mod import_graph;
pub mod kernel;
pub mod key_rotation;
pub mod keys;
pub mod orgs;
pub mod package_signing;
pub mod packages;
pub mod record;
pub mod referrals;
pub mod releases;
pub mod retention;
#[cfg(test)]
mod rows_guard;
pub mod rules;
pub mod schema;
pub mod sessions;
pub mod statistics;
pub mod stats;
pub mod subject_requests;
pub mod users;
pub mod webhooks;

/// The CSV formula guard, at its old path (it lives in `dayaq_interchange::tabular`).
pub use dayaq_interchange::tabular::guard as csv_guard;
pub use db::OpenOptions;
pub use engine::Engine;
pub(crate) use kernel::{WriteTx, unique_as};
pub use kernel::{from_millis, millis};

use crypto::CryptoError;
use dayaq_domain::ValidationErrors;
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    #[error("forbidden: {0}")]
    Forbidden(&'static str),
    #[error("the record was changed by someone else (version conflict)")]
    Conflict,
    #[error("already exists: {0}")]
    AlreadyExists(&'static str),
    #[error("invalid input")]
    Invalid(#[from] ValidationErrors),
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    #[error("migration error: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("crypto error: {0}")]
    Crypto(#[from] CryptoError),
    #[error("backup error: {0}")]
    Backup(String),
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
    #[error("data error: {0}")]
    Data(String),
    /// Too many requests of this kind by this user; retry after this many seconds.
    #[error("too many requests; retry after {0} s")]
    RateLimited(i64),
    /// A service the request needs does not answer (the attachment store): 503.
    #[error("service unavailable: {0}")]
    Unavailable(&'static str),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// The storage handle. Cheap to clone.
#[derive(Clone)]
pub struct Store {
    pub(crate) pool: sqlx::AnyPool,
    pub(crate) engine: Engine,
    pub(crate) keys: Arc<keys::Keys>,
    pub(crate) settings: Settings,
    /// SQLite: writers of this process take turns here, first come first served, before
    /// `BEGIN IMMEDIATE`. Without it concurrent writers wait in SQLite's busy handler, which
    /// sleeps in growing steps (up to 100 ms) and turned a queue of a few milliseconds into
    /// p99 latencies of half a second under load. Another process (the CLI) still meets
    /// `busy_timeout`. `None` on PostgreSQL (row locks, no single writer).
    pub(crate) write_turn: Option<Arc<tokio::sync::Mutex<()>>>,
    /// Recent case searches per user (times in ms), for the search rate limit. In memory:
    /// per process, forgotten on restart (see `Settings::search_limit`).
    pub(crate) searches: Arc<std::sync::Mutex<std::collections::HashMap<uuid::Uuid, Vec<i64>>>>,
    /// How many times case facts were loaded (`Store::case_facts_loads`, for tests).
    pub(crate) fact_loads: Arc<std::sync::atomic::AtomicU64>,
    /// Where attachment objects live and their limits (issue #21; local disk by default).
    pub(crate) blobs: attachments::Blobs,
}

/// Tunable rules (times in milliseconds).
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// How long a receiving organisation keeps access after a referral completes or is
    /// withdrawn.
    pub referral_grace_ms: i64,
    /// A pending referral not answered within this time is shown as overdue.
    pub referral_overdue_ms: i64,
    /// How long break-glass access lasts.
    pub break_glass_ms: i64,
    /// Case searches a user may run per `search_window_ms` (presence-oracle brake).
    pub search_limit: usize,
    pub search_window_ms: i64,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            referral_grace_ms: 0,
            referral_overdue_ms: 72 * 3_600_000,
            break_glass_ms: 3 * 3_600_000,
            search_limit: 30,
            search_window_ms: 10 * 60_000,
        }
    }
}

impl Store {
    /// The same store with other rule settings.
    pub fn with_settings(mut self, settings: Settings) -> Store {
        self.settings = settings;
        self
    }

    pub fn settings(&self) -> Settings {
        self.settings
    }

    pub fn engine(&self) -> Engine {
        self.engine
    }

    pub fn pool(&self) -> &sqlx::AnyPool {
        &self.pool
    }

    /// Refreshes the query planner's statistics, as after any bulk load: without them
    /// PostgreSQL may scan whole tables for the case list until autovacuum's next
    /// auto-analyze, and SQLite never gathers them by itself. SQLite samples at most 1,000
    /// rows per index (`analysis_limit`) so that this stays quick on a large database.
    pub async fn refresh_planner_statistics(&self) -> Result<()> {
        let mut conn = self.pool.acquire().await?;
        if self.engine == Engine::Sqlite {
            sqlx::query("PRAGMA analysis_limit = 1000")
                .execute(&mut *conn)
                .await?;
        }
        sqlx::query("ANALYZE").execute(&mut *conn).await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}
