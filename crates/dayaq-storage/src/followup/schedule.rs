//! The organisation's default follow-up schedule.
use super::*;

/// The follow-up schedule new plans of an organisation's cases use.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OrgSchedule {
    pub org_id: Uuid,
    /// Months after the end of short-term assistance.
    pub months: Vec<u32>,
    /// `organisation` when the organisation set its own default, `default` otherwise.
    pub source: ScheduleSource,
    pub updated_at: Option<String>,
}

fn months_text(m: &[u32]) -> String {
    m.iter().map(u32::to_string).collect::<Vec<_>>().join(",")
}

fn months_of(s: &str) -> Vec<u32> {
    s.split(',').filter_map(|m| m.trim().parse().ok()).collect()
}

impl Store {
    /// The organisation's own default months, if it set them.
    pub(crate) async fn org_months(&self, org: Uuid) -> Result<Option<Vec<u32>>> {
        let m: Option<String> =
            sqlx::query_scalar("SELECT months FROM followup_org_schedules WHERE org_id = $1")
                .bind(org.to_string())
                .fetch_optional(&self.pool)
                .await?;
        Ok(m.map(|m| months_of(&m)))
    }

    async fn org_schedule_of(&self, org: Uuid) -> Result<OrgSchedule> {
        let r =
            sqlx::query("SELECT months, updated_at FROM followup_org_schedules WHERE org_id = $1")
                .bind(org.to_string())
                .fetch_optional(&self.pool)
                .await?;
        Ok(match r {
            Some(r) => OrgSchedule {
                org_id: org,
                months: months_of(&r.try_get::<String, _>("months")?),
                source: ScheduleSource::Organisation,
                updated_at: Some(ts(r.try_get("updated_at")?)),
            },
            None => OrgSchedule {
                org_id: org,
                months: DEFAULT_MONTHS.to_vec(),
                source: ScheduleSource::Default,
                updated_at: None,
            },
        })
    }

    /// The default follow-up schedule of the actor's organisation (any member may read it).
    pub async fn followup_org_schedule(&self, ctx: &Ctx<'_>) -> Result<OrgSchedule> {
        self.org_schedule_of(ctx.actor.org_id).await
    }

    /// Sets the default follow-up schedule of the actor's organisation: an org admin or a
    /// supervisor of it (`Action::ManageDirectory`). Validated (ascending, 1–60, at most 12);
    /// audited `followup.org_schedule`. Plans already set keep their months.
    pub async fn set_followup_org_schedule(
        &self,
        ctx: &Ctx<'_>,
        months: &[u32],
    ) -> Result<OrgSchedule> {
        let org = ctx.actor.org_id;
        let d = decide(
            ctx.actor,
            Action::ManageDirectory,
            Resource::Organisation(org),
        );
        if !d.allowed {
            let mut e = ctx.entry("followup.org_schedule", "denied", "");
            e.detail = d.reason.to_string();
            self.audit(e, ctx.now).await?;
            return Err(StoreError::Forbidden(d.reason));
        }
        rules::validate_org_months(months)?;
        let mut e = ctx.entry("followup.org_schedule", "success", "");
        e.detail = format!("months={}", months_text(months));
        self.write_org_schedule(org, months, &ctx.actor.user_id.to_string(), e, ctx.now)
            .await?;
        self.org_schedule_of(org).await
    }

    /// `dayaq org set-followup-schedule SLUG --months …` (the operator, audited as `cli`).
    pub async fn set_followup_org_schedule_by_slug(
        &self,
        slug: &str,
        months: &[u32],
        now: OffsetDateTime,
    ) -> Result<OrgSchedule> {
        rules::validate_org_months(months)?;
        let org = self.org_of_field_or_invalid("slug", slug).await?;
        let mut e = crate::audit::AuditEntry::new("followup.org_schedule", "success");
        e.actor_org = org.id.to_string();
        e.source = "cli".into();
        e.detail = format!("months={}", months_text(months));
        self.write_org_schedule(org.id, months, "cli", e, now)
            .await?;
        self.org_schedule_of(org.id).await
    }

    async fn write_org_schedule(
        &self,
        org: Uuid,
        months: &[u32],
        by: &str,
        entry: crate::audit::AuditEntry,
        now: OffsetDateTime,
    ) -> Result<()> {
        let at = millis(now);
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM followup_org_schedules WHERE org_id = $1")
            .bind(org.to_string())
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO followup_org_schedules (org_id, months, updated_by, updated_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(org.to_string())
        .bind(months_text(months))
        .bind(by)
        .bind(at)
        .execute(&mut *tx)
        .await?;
        tx.commit_with(&entry, at).await?;
        Ok(())
    }
}
