//! Time and row helpers shared by every area.

use super::{CaseAccess, Ctx};
use crate::crypto::SecretKey;
use crate::{Result, Store, StoreError};
use sqlx::FromRow;
use sqlx::any::AnyRow;
use time::format_description::well_known::Rfc3339;

/// Milliseconds since the UNIX epoch.
pub fn millis(t: time::OffsetDateTime) -> i64 {
    (t.unix_timestamp_nanos() / 1_000_000) as i64
}

pub fn from_millis(ms: i64) -> time::OffsetDateTime {
    time::OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
}

/// A stored time (UNIX milliseconds) as RFC 3339 text; empty when out of range.
pub(crate) fn ts(ms: i64) -> String {
    from_millis(ms).format(&Rfc3339).unwrap_or_default()
}

/// A stored UUID (text) as a `Uuid`; a malformed one is a data error.
pub(crate) fn uuid_of(s: &str) -> Result<uuid::Uuid> {
    uuid::Uuid::parse_str(s).map_err(|e| StoreError::Data(e.to_string()))
}

/// A write that must change exactly one row: none (or several) is `NotFound` (the row is
/// not there, is not the checked case's, or is no longer in the state the write expects).
pub(crate) fn one_row(done: sqlx::any::AnyQueryResult) -> Result<()> {
    if done.rows_affected() == 1 {
        Ok(())
    } else {
        Err(StoreError::NotFound)
    }
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

impl Store {
    /// The rows `sql` selects for the checked case: `$1` is bound to the case id.
    pub(crate) async fn case_rows(
        &self,
        access: &CaseAccess,
        sql: &'static str,
    ) -> Result<Vec<AnyRow>> {
        Ok(sqlx::query(sql)
            .bind(access.id_str())
            .fetch_all(&self.pool)
            .await?)
    }

    /// [`Store::case_rows`], each row read into `R` (by column name) and turned into a `T`.
    pub(crate) async fn case_list<R, T>(
        &self,
        access: &CaseAccess,
        sql: &'static str,
        into: impl Fn(R) -> Result<T>,
    ) -> Result<Vec<T>>
    where
        R: for<'r> FromRow<'r, AnyRow>,
    {
        self.case_rows(access, sql)
            .await?
            .iter()
            .map(|r| into(R::from_row(r)?))
            .collect()
    }

    /// Audits a read of the checked case's protected data (`action`, success, no detail).
    pub(crate) async fn audit_read(
        &self,
        ctx: &Ctx<'_>,
        access: &CaseAccess,
        action: &'static str,
    ) -> Result<()> {
        self.audit(ctx.entry(action, "success", access.id_str()), ctx.now)
            .await
    }

    /// [`Store::case_rows`] with the case key to open their sealed parts; `None` when there
    /// are no rows (no key is unwrapped for nothing).
    pub(crate) async fn case_rows_keyed(
        &self,
        access: &CaseAccess,
        sql: &'static str,
    ) -> Result<Option<(Vec<AnyRow>, SecretKey)>> {
        let mut conn = self.pool.acquire().await?;
        let rows = sqlx::query(sql)
            .bind(access.id_str())
            .fetch_all(&mut *conn)
            .await?;
        if rows.is_empty() {
            return Ok(None);
        }
        let key = self.case_key(&mut conn, access).await?;
        Ok(Some((rows, key)))
    }
}
