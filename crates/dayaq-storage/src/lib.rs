//! Dayaq storage: one `Store` over SQLite (default) or PostgreSQL.
//!
//! All SQL lives in this crate and is parameterised. Queries are written once in the common
//! subset of both engines and run through `sqlx::Any`; each engine has its own migration
//! directory with the same versions (see `tests` for the schema-equivalence check).
//! Every function that touches case data takes an `Actor` and asks the access policy
//! (`dayaq_domain::decide`) before it reads or writes; each read of identity data and every
//! write appends to the hash-chained audit log in the same transaction.

pub mod assistance;
pub mod audit;
pub mod backup;
pub mod cases;
pub mod crypto;
mod db;
pub mod followup;
pub mod htcds;
pub mod identification;
pub mod keys;
pub mod orgs;
pub mod packages;
pub mod record;
pub mod referrals;
pub mod schema;
pub mod sessions;
pub mod stats;
pub mod users;

pub use db::{Engine, OpenOptions};

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
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// The storage handle. Cheap to clone.
#[derive(Clone)]
pub struct Store {
    pub(crate) pool: sqlx::AnyPool,
    pub(crate) engine: Engine,
    pub(crate) keys: Arc<keys::Keys>,
    pub(crate) settings: Settings,
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
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            referral_grace_ms: 0,
            referral_overdue_ms: 72 * 3_600_000,
            break_glass_ms: 3 * 3_600_000,
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

    /// Begins a write transaction. On SQLite this takes the write lock at once
    /// (`BEGIN IMMEDIATE`), so a transaction never fails half-way on lock upgrade.
    pub(crate) async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>> {
        Ok(match self.engine {
            Engine::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Engine::Postgres => self.pool.begin().await?,
        })
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Milliseconds since the UNIX epoch.
pub fn millis(t: time::OffsetDateTime) -> i64 {
    (t.unix_timestamp_nanos() / 1_000_000) as i64
}

pub fn from_millis(ms: i64) -> time::OffsetDateTime {
    time::OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
}

/// Maps a unique-constraint violation to `AlreadyExists(what)`.
pub(crate) fn unique_as(e: sqlx::Error, what: &'static str) -> StoreError {
    if let sqlx::Error::Database(d) = &e
        && d.is_unique_violation()
    {
        return StoreError::AlreadyExists(what);
    }
    StoreError::Db(e)
}
