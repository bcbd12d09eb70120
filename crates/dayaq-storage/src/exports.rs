//! Identity exports that need a supervisor's approval: the organisation setting, and the
//! request → approve → download-once flow (issue 14 item 5). The export itself is
//! `Store::export_cases_with` (`htcds.rs`).

use crate::kernel::Ctx;
use crate::kernel::{ts, uuid_of};
use crate::{Result, Store, StoreError, millis};
use dayaq_domain::Role;
use dayaq_domain::policy::Action;
use serde::Serialize;
use sqlx::Row;
use uuid::Uuid;

/// One request for an export with identities.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ExportRequest {
    pub id: Uuid,
    pub requested_by: Uuid,
    pub requested_at: String,
    /// Pending, Approved or Used.
    pub state: String,
    pub decided_by: Option<Uuid>,
}

impl Store {
    /// Does the organisation require a supervisor's approval for identity exports?
    pub async fn export_approval_required(&self, org: Uuid) -> Result<bool> {
        let v: Option<i64> = sqlx::query_scalar(
            "SELECT approval_required FROM org_export_settings WHERE org_id = $1",
        )
        .bind(org.to_string())
        .fetch_optional(&self.pool)
        .await?;
        Ok(v.is_some_and(|v| v != 0))
    }

    /// Turns the approval requirement on or off (supervisors of the organisation; audited).
    pub async fn set_export_approval(&self, ctx: &Ctx<'_>, required: bool) -> Result<()> {
        self.authorize_org(ctx, Action::Approve)?;
        let org = ctx.actor.org_id.to_string();
        let now = millis(ctx.now);
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM org_export_settings WHERE org_id = $1")
            .bind(&org)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO org_export_settings (org_id, approval_required, updated_by, updated_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(&org)
        .bind(i64::from(required))
        .bind(ctx.actor.user_id.to_string())
        .bind(now)
        .execute(&mut *tx)
        .await?;
        let mut e = ctx.entry("org.export_approval", "success", "");
        e.detail = format!("required={required}");
        tx.commit_with(&e, now).await?;
        Ok(())
    }

    /// Asks for one export with identities (a caseworker or supervisor). The organisation's
    /// supervisors are notified (kind and id only).
    pub async fn request_export(&self, ctx: &Ctx<'_>) -> Result<ExportRequest> {
        self.authorize_org(ctx, Action::ExportIdentities)?;
        let id = Uuid::new_v4();
        let now = millis(ctx.now);
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO export_requests (id, org_id, requested_by, requested_at, state) VALUES ($1, $2, $3, $4, 'Pending')",
        )
        .bind(id.to_string())
        .bind(ctx.actor.org_id.to_string())
        .bind(ctx.actor.user_id.to_string())
        .bind(now)
        .execute(&mut *tx)
        .await?;
        sqlx::query("INSERT INTO notifications (id, org_id, role, kind, ref_id, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(Uuid::new_v4().to_string())
            .bind(ctx.actor.org_id.to_string())
            .bind(Role::Supervisor.as_str())
            .bind("export.requested")
            .bind(id.to_string())
            .bind(now)
            .execute(&mut *tx)
            .await?;
        let mut e = ctx.entry("case.export_request", "success", "");
        e.detail = format!("request={id}");
        tx.commit_with(&e, now).await?;
        Ok(ExportRequest {
            id,
            requested_by: ctx.actor.user_id,
            requested_at: ts(now),
            state: "Pending".into(),
            decided_by: None,
        })
    }

    /// Export requests of the organisation (supervisors) or the actor's own (others), newest
    /// first.
    pub async fn export_requests(&self, ctx: &Ctx<'_>) -> Result<Vec<ExportRequest>> {
        let rows = sqlx::query(
            "SELECT id, requested_by, requested_at, state, decided_by FROM export_requests \
             WHERE org_id = $1 AND ($2 = 1 OR requested_by = $3) ORDER BY requested_at DESC, id LIMIT 100",
        )
        .bind(ctx.actor.org_id.to_string())
        .bind(i64::from(ctx.actor.role == Role::Supervisor))
        .bind(ctx.actor.user_id.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let decided: Option<String> = r.try_get("decided_by")?;
                Ok(ExportRequest {
                    id: uuid_of(&r.try_get::<String, _>("id")?)?,
                    requested_by: uuid_of(&r.try_get::<String, _>("requested_by")?)?,
                    requested_at: ts(r.try_get("requested_at")?),
                    state: r.try_get("state")?,
                    decided_by: decided.as_deref().map(uuid_of).transpose()?,
                })
            })
            .collect()
    }

    /// A supervisor of the organisation (not the requester) approves a pending request.
    /// An unknown id (or another organisation's) is `NotFound`.
    pub async fn approve_export(&self, ctx: &Ctx<'_>, id: Uuid) -> Result<()> {
        let requester: Option<String> = sqlx::query_scalar(
            "SELECT requested_by FROM export_requests WHERE id = $1 AND org_id = $2",
        )
        .bind(id.to_string())
        .bind(ctx.actor.org_id.to_string())
        .fetch_optional(&self.pool)
        .await?;
        let Some(requester) = requester else {
            return Err(StoreError::NotFound);
        };
        self.authorize_org(ctx, Action::Approve)?;
        if requester == ctx.actor.user_id.to_string() {
            return Err(StoreError::Forbidden("approval_by_requester"));
        }
        let now = millis(ctx.now);
        let mut tx = self.begin_write().await?;
        let n = sqlx::query(
            "UPDATE export_requests SET state = 'Approved', decided_by = $1, decided_at = $2 WHERE id = $3 AND state = 'Pending'",
        )
        .bind(ctx.actor.user_id.to_string())
        .bind(now)
        .bind(id.to_string())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n != 1 {
            return Err(StoreError::Conflict);
        }
        let mut e = ctx.entry("case.export_approve", "success", "");
        e.detail = format!("request={id}");
        tx.commit_with(&e, now).await?;
        Ok(())
    }

    /// Uses the actor's approved request for one download: `Forbidden` unless it is theirs,
    /// approved and not used yet (marked used in the same statement, so it works once).
    pub async fn use_export_approval(&self, ctx: &Ctx<'_>, id: Uuid) -> Result<()> {
        let now = millis(ctx.now);
        let mut tx = self.begin_write().await?;
        let n = sqlx::query(
            "UPDATE export_requests SET state = 'Used', used_at = $1 \
             WHERE id = $2 AND org_id = $3 AND requested_by = $4 AND state = 'Approved' AND used_at IS NULL",
        )
        .bind(now)
        .bind(id.to_string())
        .bind(ctx.actor.org_id.to_string())
        .bind(ctx.actor.user_id.to_string())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n != 1 {
            return Err(StoreError::Forbidden("export_request_not_approved"));
        }
        let mut e = ctx.entry("case.export_request_used", "success", "");
        e.detail = format!("request={id}");
        tx.commit_with(&e, now).await?;
        Ok(())
    }
}
