//! Dayaq storage: one `Store` over SQLite (default) or PostgreSQL.
//!
//! All SQL lives in this crate and is parameterised. Queries are written once in the common
//! subset of both engines and run through `sqlx::Any`; each engine has its own migration
//! directory with the same versions (see `tests` for the schema-equivalence check).
//! Every function that touches case data takes an `Actor` and asks the access policy
//! (`dayaq_domain::decide`) before it reads or writes; each read of identity data and every
//! write appends to the hash-chained audit log in the same transaction.

pub mod accounts;
pub mod assistance;
pub mod audit;
pub mod backup;
pub mod cases;
pub mod crypto;
pub mod csv_guard;
mod db;
pub mod exports;
pub mod followup;
pub mod htcds;
pub mod identification;
pub mod keys;
pub mod orgs;
pub mod package_signing;
pub mod packages;
pub mod record;
pub mod referrals;
pub mod schema;
pub mod sessions;
pub mod sheet;
pub mod statistics;
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
    /// Too many requests of this kind by this user; retry after this many seconds.
    #[error("too many requests; retry after {0} s")]
    RateLimited(i64),
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
}

/// How long a writer waits for its turn before giving up (as `busy_timeout` would).
const WRITE_TURN_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// A write transaction (see [`Store::begin_write`]): derefs to the connection for queries;
/// `commit` ends it, dropping it rolls back. On SQLite it holds the process's write turn
/// until then.
pub(crate) struct WriteTx {
    tx: sqlx::Transaction<'static, sqlx::Any>,
    _turn: Option<tokio::sync::OwnedMutexGuard<()>>,
    keys: Arc<keys::Keys>,
}

impl WriteTx {
    /// Seals the audit head this transaction moved (keyed MAC, `audit::seal_head`), then
    /// commits.
    pub(crate) async fn commit(mut self) -> Result<()> {
        audit::seal_head(&mut self.tx, &self.keys).await?;
        self.tx.commit().await?;
        Ok(())
    }
}

impl std::ops::Deref for WriteTx {
    type Target = sqlx::AnyConnection;
    fn deref(&self) -> &sqlx::AnyConnection {
        &self.tx
    }
}

impl std::ops::DerefMut for WriteTx {
    fn deref_mut(&mut self) -> &mut sqlx::AnyConnection {
        &mut self.tx
    }
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

    /// Begins a write transaction. On SQLite this takes the write lock at once
    /// (`BEGIN IMMEDIATE`), so a transaction never fails half-way on lock upgrade.
    pub(crate) async fn begin_write(&self) -> Result<WriteTx> {
        let turn = match &self.write_turn {
            Some(m) => Some(
                tokio::time::timeout(WRITE_TURN_TIMEOUT, m.clone().lock_owned())
                    .await
                    .map_err(|_| StoreError::Db(sqlx::Error::PoolTimedOut))?,
            ),
            None => None,
        };
        let mut tx = match self.engine {
            Engine::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Engine::Postgres => self.pool.begin().await?,
        };
        // The master key may have been rotated by another process (`dayaq key rotate` while
        // this server runs): wrap new keys under the key the database names as current.
        let kid: Option<String> =
            sqlx::query_scalar("SELECT master_key_id FROM keyring WHERE name = 'system'")
                .fetch_optional(&mut *tx)
                .await?;
        if let Some(kid) = kid {
            self.keys.adopt_current(&kid)?;
        }
        Ok(WriteTx {
            tx,
            _turn: turn,
            keys: self.keys.clone(),
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
