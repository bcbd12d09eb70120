//! Time and row helpers shared by every area.

use crate::StoreError;
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

/// Maps a unique-constraint violation to `AlreadyExists(what)`.
pub(crate) fn unique_as(e: sqlx::Error, what: &'static str) -> StoreError {
    if let sqlx::Error::Database(d) = &e
        && d.is_unique_violation()
    {
        return StoreError::AlreadyExists(what);
    }
    StoreError::Db(e)
}
