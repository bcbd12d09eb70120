//! Write transactions: the SQLite write turn, the current master key, the audit seal.

use crate::audit::{AuditEntry, append};
use crate::{Engine, Result, Store, StoreError};
use std::sync::Arc;

/// How long a writer waits for its turn before giving up (as `busy_timeout` would).
const WRITE_TURN_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// A write transaction (see [`Store::begin_write`]): derefs to the connection for queries;
/// `commit` ends it, dropping it rolls back. On SQLite it holds the process's write turn
/// until then.
pub(crate) struct WriteTx {
    tx: sqlx::Transaction<'static, sqlx::Any>,
    _turn: Option<tokio::sync::OwnedMutexGuard<()>>,
    keys: Arc<crate::keys::Keys>,
}

impl WriteTx {
    /// Recounts the national statistics of the cases this transaction wrote
    /// (`aggregates::refresh`), seals the audit head it moved (keyed MAC,
    /// `audit::seal_head`), then commits.
    pub(crate) async fn commit(mut self) -> Result<()> {
        crate::aggregates::refresh(&mut self.tx, &self.keys).await?;
        crate::audit::seal_head(&mut self.tx, &self.keys).await?;
        self.tx.commit().await?;
        Ok(())
    }

    /// Appends the audit row `e` of the change (at `now_ms`), then commits.
    pub(crate) async fn commit_with(mut self, e: &AuditEntry, now_ms: i64) -> Result<()> {
        append(&mut self.tx, e, now_ms).await?;
        self.commit().await
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

impl Store {
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
}
