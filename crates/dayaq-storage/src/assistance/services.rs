//! Services delivered (sealed details; health services only with the health section).

use super::*;

const SERVICE_OUTCOMES: &[&str] = &["Ongoing", "Completed", "Discontinued", "Declined"];

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceInput {
    /// The service catalogue.
    pub service: String,
    /// Slug of the provider (default: the case owner).
    #[serde(default)]
    pub provider_org: Option<String>,
    pub started_on: String,
    #[serde(default)]
    pub ended_on: Option<String>,
    /// Ongoing, Completed, Discontinued or Declined. Completed marks the linked action Done.
    pub outcome: String,
    /// Details (encrypted; for health services visible only with the health section).
    #[serde(default)]
    pub details: Option<String>,
    /// Cost in qəpik (AZN minor units).
    #[serde(default)]
    pub cost_minor: i64,
    #[serde(default)]
    pub funding_source_id: Option<Uuid>,
    /// The plan action this service fulfils.
    #[serde(default)]
    pub plan_action_id: Option<Uuid>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ServiceRecord {
    pub id: Uuid,
    pub plan_action_id: Option<Uuid>,
    pub service: String,
    pub provider_org: Uuid,
    pub started_on: String,
    pub ended_on: Option<String>,
    pub outcome: String,
    pub details: Option<String>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub health_restricted: bool,
    pub cost_minor: i64,
    pub funding_source_id: Option<Uuid>,
}

impl Store {
    /// Whether `id` is a funding source of the acting organisation: a cost can only be charged
    /// to one's own source (another organisation's cost report must never list this case).
    pub(super) async fn funding_source_exists(&self, ctx: &Ctx<'_>, id: Uuid) -> Result<bool> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM funding_sources WHERE id = $1 AND org_id = $2",
        )
        .bind(id.to_string())
        .bind(ctx.actor.org_id.to_string())
        .fetch_one(&self.pool)
        .await?;
        Ok(n == 1)
    }

    /// Records one service delivered (the owner organisation; a receiving organisation the
    /// services of its accepted referral, itself the default provider). Details are sealed with the case key;
    /// for health services (Medical, PsychologicalCounselling) they are shown only to readers of
    /// the health section.
    pub async fn add_service(&self, ctx: &Ctx<'_>, case: Uuid, d: &ServiceInput) -> Result<Uuid> {
        let access = self
            .authorize_case(ctx, Action::RecordService, case)
            .await?;
        let cs = case.to_string();
        let mut errs = ValidationErrors::default();
        let service = Service::parse_for("service", &d.service)
            .map_err(|e| errs.push(e))
            .ok();
        // A receiving organisation records the services it was asked to deliver (issue #23
        // §8); the owner records any.
        let own = access.facts().owner_org == ctx.actor.org_id;
        if let (false, Some(s)) = (own, service)
            && !self
                .referred_services(&cs, ctx.actor.org_id)
                .await?
                .contains(&s)
        {
            errs.push(FieldError::new(
                "service",
                "not_referred",
                "not a service your organisation was asked to deliver",
            ));
        }
        let started = parse_date("started_on", &d.started_on)
            .map_err(|e| errs.push(e))
            .ok();
        let ended = opt_date("ended_on", &d.ended_on, &mut errs);
        if let (Some(s), Some(e)) = (started, ended)
            && e < s
        {
            errs.push(FieldError::new(
                "ended_on",
                "before_start",
                "ended_on is before started_on",
            ));
        }
        if !SERVICE_OUTCOMES.contains(&d.outcome.as_str()) {
            errs.push(FieldError::new(
                "outcome",
                "invalid_value",
                format!("outcome must be one of {}", SERVICE_OUTCOMES.join(", ")),
            ));
        }
        if !(0..=1_000_000_000).contains(&d.cost_minor) {
            errs.push(FieldError::new(
                "cost_minor",
                "out_of_range",
                "cost_minor must not be negative",
            ));
        }
        text_ok(&mut errs, "details", nonempty(&d.details));
        let provider = match nonempty(&d.provider_org) {
            Some(slug) => self
                .org_of_field("provider_org", slug, &mut errs)
                .await?
                .map(|o| o.id),
            None if own => Some(access.facts().owner_org),
            None => Some(ctx.actor.org_id),
        };
        if let Some(act) = d.plan_action_id {
            let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM plan_actions a JOIN plans p ON p.id = a.plan_id WHERE a.id = $1 AND p.case_id = $2")
                .bind(act.to_string())
                .bind(&cs)
                .fetch_one(&self.pool)
                .await?;
            if n == 0 {
                errs.push(FieldError::new(
                    "plan_action_id",
                    "unknown_action",
                    "no such plan action in this case",
                ));
            }
        }
        if let Some(f) = d.funding_source_id
            && !self.funding_source_exists(ctx, f).await?
        {
            errs.push(FieldError::new(
                "funding_source_id",
                "unknown_funding_source",
                "no such funding source",
            ));
        }
        errs.into_result()?;
        let (Some(service), Some(started), Some(provider)) = (service, started, provider) else {
            return Err(StoreError::Data("unreachable".into()));
        };
        let id = Uuid::new_v4();
        let ids = id.to_string();
        let now = millis(ctx.now);
        let mut w = self.write_case(ctx, &access).await?;
        let key = self.case_key(&mut w, &access).await?;
        sqlx::query(
            "INSERT INTO services_delivered (id, case_id, plan_action_id, service, provider_org, started_on, ended_on, outcome, details, cost_minor, funding_source_id, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        )
        .bind(&ids)
        .bind(&cs)
        .bind(d.plan_action_id.map(|a| a.to_string()))
        .bind(service.as_str())
        .bind(provider.to_string())
        .bind(fmt_date(started))
        .bind(ended.map(fmt_date))
        .bind(&d.outcome)
        .bind(seal(&key, "services_delivered", "details", &ids, nonempty(&d.details))?)
        .bind(d.cost_minor)
        .bind(d.funding_source_id.map(|f| f.to_string()))
        .bind(ctx.actor.user_id.to_string())
        .bind(now)
        .execute(&mut *w)
        .await?;
        if let Some(act) = d.plan_action_id
            && d.outcome == "Completed"
        {
            sqlx::query("UPDATE plan_actions SET status = 'Done', updated_at = $1 WHERE id = $2")
                .bind(now)
                .bind(act.to_string())
                .execute(&mut *w)
                .await?;
        }
        w.event("service.delivered", service.as_str()).await?;
        w.commit("case.service", format!("service={ids}")).await?;
        Ok(id)
    }

    /// Services delivered to a case (needs `Section::Services`; health details need `Section::Health`).
    pub async fn services(&self, ctx: &Ctx<'_>, case: Uuid) -> Result<Vec<ServiceRecord>> {
        let access = self
            .authorize_case(ctx, Action::ReadSection(Section::Services), case)
            .await?;
        let health = access.may(Action::ReadSection(Section::Health));
        let sql = "SELECT id, plan_action_id, service, provider_org, started_on, ended_on, outcome, details, cost_minor, funding_source_id \
             FROM services_delivered WHERE case_id = $1 ORDER BY started_on, created_at, id";
        let Some((rows, key)) = self.case_rows_keyed(&access, sql).await? else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        for r in &rows {
            let ids: String = r.try_get("id")?;
            let service: String = r.try_get("service")?;
            let is_health = service == Service::Medical.as_str()
                || service == Service::PsychologicalCounselling.as_str();
            let restricted = is_health && !health;
            let details = if restricted {
                None
            } else {
                open(
                    &key,
                    "services_delivered",
                    "details",
                    &ids,
                    r.try_get("details")?,
                )?
            };
            let act: Option<String> = r.try_get("plan_action_id")?;
            let src: Option<String> = r.try_get("funding_source_id")?;
            out.push(ServiceRecord {
                id: uuid_of(&ids)?,
                plan_action_id: act.as_deref().map(uuid_of).transpose()?,
                service,
                provider_org: uuid_of(&r.try_get::<String, _>("provider_org")?)?,
                started_on: r.try_get("started_on")?,
                ended_on: r.try_get("ended_on")?,
                outcome: r.try_get("outcome")?,
                details,
                health_restricted: restricted,
                cost_minor: r.try_get("cost_minor")?,
                funding_source_id: src.as_deref().map(uuid_of).transpose()?,
            });
        }
        Ok(out)
    }
}
