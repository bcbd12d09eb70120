//! One change to a checked case: the write transaction, the case's timeline event and the
//! success audit row, committed together.
//!
//! Every case-scoped write has the same shape — authorise ([`Store::authorize_case`]), open a
//! write transaction, write its rows, append a timeline event, append an audit row, commit —
//! and [`CaseWrite`] is that shape once: [`Store::write_case`] opens it for a
//! [`CaseAccess`], it derefs to the connection for the area's own SQL, [`CaseWrite::event`]
//! appends to the timeline and [`CaseWrite::commit`] appends the audit row and commits.
//! Dropping it without `commit` rolls everything back.

use super::{CaseAccess, Ctx, WriteTx, millis};
use crate::audit::append;
use crate::{Result, Store};

/// A write transaction on one checked case (see the module documentation).
pub(crate) struct CaseWrite<'a> {
    tx: WriteTx,
    ctx: Ctx<'a>,
    access: &'a CaseAccess,
}

impl Store {
    /// Opens a write transaction on the case `access` was granted for.
    pub(crate) async fn write_case<'a>(
        &self,
        ctx: &Ctx<'a>,
        access: &'a CaseAccess,
    ) -> Result<CaseWrite<'a>> {
        let tx = self.begin_write().await?;
        Ok(CaseWrite {
            tx,
            ctx: *ctx,
            access,
        })
    }
}

impl CaseWrite<'_> {
    /// The change's time as stored (UNIX milliseconds of `ctx.now`).
    pub(crate) fn now(&self) -> i64 {
        millis(self.ctx.now)
    }

    /// The checked case's id as stored.
    pub(crate) fn case_id(&self) -> &str {
        self.access.id_str()
    }

    /// Runs `sql` on the case: `$1` is bound to the case id. Gives the rows it changed.
    pub(crate) async fn exec(&mut self, sql: &'static str) -> Result<u64> {
        Ok(sqlx::query(sql)
            .bind(self.access.id_str())
            .execute(&mut *self.tx)
            .await?
            .rows_affected())
    }

    /// Moves one row of the case to `status`: `sql` binds $1 the status, $2 the time, $3 the
    /// row id, $4 the case id, and must change exactly one row (else `NotFound`).
    pub(crate) async fn set_status(
        &mut self,
        sql: &'static str,
        status: &str,
        row: uuid::Uuid,
    ) -> Result<()> {
        let done = sqlx::query(sql)
            .bind(status)
            .bind(self.now())
            .bind(row.to_string())
            .bind(self.access.id_str())
            .execute(&mut *self.tx)
            .await?;
        super::one_row(done)
    }

    /// Appends a timeline event of the case (`kind` and `detail` are codes, never personal
    /// data).
    pub(crate) async fn event(&mut self, kind: &str, detail: &str) -> Result<()> {
        Store::case_event(&mut self.tx, &self.ctx, self.access, kind, detail).await
    }

    /// Appends a success audit row of the case with `detail` (codes and ids only).
    pub(crate) async fn audit(&mut self, action: &'static str, detail: String) -> Result<()> {
        let mut e = self
            .ctx
            .entry_with(action, "success", self.access.id_str(), detail);
        e.grant = self.access.grant();
        append(&mut self.tx, &e, millis(self.ctx.now)).await?;
        Ok(())
    }

    /// Appends the success audit row of the change and commits.
    pub(crate) async fn commit(mut self, action: &'static str, detail: String) -> Result<()> {
        self.audit(action, detail).await?;
        self.tx.commit().await
    }
}

impl std::ops::Deref for CaseWrite<'_> {
    type Target = sqlx::AnyConnection;
    fn deref(&self) -> &sqlx::AnyConnection {
        &self.tx
    }
}

impl std::ops::DerefMut for CaseWrite<'_> {
    fn deref_mut(&mut self) -> &mut sqlx::AnyConnection {
        &mut self.tx
    }
}
