//! Break-glass: a supervisor's time-limited emergency access, notified and audited.
use super::*;

impl Store {
    // ---------- break-glass ----------

    /// Emergency access for a supervisor to a case identified by its number: reason required,
    /// limited in time, the owning organisation's supervisors are notified, audited as such.
    pub async fn break_glass(
        &self,
        ctx: &Ctx<'_>,
        case_number: &str,
        reason: &str,
    ) -> Result<(Uuid, String)> {
        if ctx.actor.role != dayaq_domain::Role::Supervisor {
            return Err(StoreError::Forbidden("break_glass_needs_supervisor"));
        }
        let reason = reason.trim();
        if reason.chars().count() < 10 {
            return Err(invalid(
                "reason",
                "too_short",
                "explain the emergency (at least 10 characters)",
            ));
        }
        let id: Option<String> =
            sqlx::query_scalar("SELECT id FROM cases WHERE case_number = $1 AND erased_at IS NULL")
                .bind(case_number.trim().to_uppercase())
                .fetch_optional(&self.pool)
                .await?;
        let Some(id) = id else {
            return Err(StoreError::NotFound);
        };
        let case = uuid_of(&id)?;
        let access = self.authorize_case(ctx, Action::BreakGlass, case).await?;
        let now = millis(ctx.now);
        let expires = now + self.settings.break_glass_ms;
        let mut w = self.write_case(ctx, &access).await?;
        let key = self.case_key(&mut w, &access).await?;
        let bg = Uuid::new_v4().to_string();
        sqlx::query("INSERT INTO break_glass (id, case_id, user_id, org_id, reason, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)")
            .bind(&bg)
            .bind(&id)
            .bind(ctx.actor.user_id.to_string())
            .bind(ctx.actor.org_id.to_string())
            .bind(key.seal(&field_aad("break_glass", "reason", &bg, "case"), reason.as_bytes())?)
            .bind(now)
            .bind(expires)
            .execute(&mut *w)
            .await?;
        w.event("breakglass.opened", &format!("until={}", ts(expires)))
            .await?;
        Self::notify(
            &mut w,
            access.facts().owner_org,
            Some("supervisor"),
            "break_glass.opened",
            &id,
            now,
        )
        .await?;
        w.commit("break_glass", format!("expires={expires}"))
            .await?;
        Ok((case, ts(expires)))
    }
}
