//! The case timeline (`case_events`): one row per change, written in the change's
//! transaction, only with a [`CaseAccess`].

use super::{CaseAccess, Ctx, millis};
use crate::{Result, Store};
use sqlx::AnyConnection;
use uuid::Uuid;

impl Store {
    /// Appends a timeline event of the checked case. `kind` and `detail` are codes, never
    /// personal data.
    pub(crate) async fn case_event(
        conn: &mut AnyConnection,
        ctx: &Ctx<'_>,
        access: &CaseAccess,
        kind: &str,
        detail: &str,
    ) -> Result<()> {
        sqlx::query("INSERT INTO case_events (id, case_id, at, actor_user, kind, detail) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(Uuid::new_v4().to_string())
            .bind(access.id_str())
            .bind(millis(ctx.now))
            .bind(ctx.actor.user_id.to_string())
            .bind(kind)
            .bind(detail)
            .execute(&mut *conn)
            .await?;
        Ok(())
    }
}
