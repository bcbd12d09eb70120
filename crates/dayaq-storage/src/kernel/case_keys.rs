//! The case key (`case_keys`, wrapped under the master key): opened only for a checked case.

use super::CaseAccess;
use crate::crypto::{SecretKey, field_aad};
use crate::{Result, Store, StoreError};
use sqlx::{AnyConnection, Row};

impl Store {
    /// The key of the case `access` was granted for.
    pub(crate) async fn case_key(
        &self,
        conn: &mut AnyConnection,
        access: &CaseAccess,
    ) -> Result<SecretKey> {
        self.unwrap_key_of(conn, access.id_str()).await
    }

    /// Reads and unwraps the stored key of case `case_id` (no check: callers hold one).
    async fn unwrap_key_of(&self, conn: &mut AnyConnection, case_id: &str) -> Result<SecretKey> {
        let r = sqlx::query("SELECT master_key_id, wrapped FROM case_keys WHERE case_id = $1")
            .bind(case_id)
            .fetch_optional(&mut *conn)
            .await?
            .ok_or(StoreError::NotFound)?;
        let kid: String = r.try_get("master_key_id")?;
        let wrapped: Vec<u8> = r.try_get("wrapped")?;
        self.keys.unwrap_case_key(&kid, &wrapped)
    }
}

/// Seals a text field (column `col` of row `row` of `table`) under a case key; `None` stays
/// `None`.
pub(crate) fn seal_text(
    key: &SecretKey,
    table: &str,
    col: &str,
    row: &str,
    s: Option<&str>,
) -> Result<Option<Vec<u8>>> {
    Ok(match s {
        Some(s) => Some(key.seal(&field_aad(table, col, row, "case"), s.as_bytes())?),
        None => None,
    })
}

/// Opens a text field sealed by [`seal_text`]; `None` stays `None`.
pub(crate) fn open_text(
    key: &SecretKey,
    table: &str,
    col: &str,
    row: &str,
    ct: Option<Vec<u8>>,
) -> Result<Option<String>> {
    Ok(match ct {
        Some(ct) => {
            let p = key.open(&field_aad(table, col, row, "case"), &ct)?;
            Some(String::from_utf8_lossy(&p).into_owned())
        }
        None => None,
    })
}
