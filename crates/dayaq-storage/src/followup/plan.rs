//! The follow-up plan and its tasks: scheduled and on-demand tasks, planning a contact.
use super::*;

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = FollowupPlanInput)]
pub struct PlanInput {
    /// End of short-term assistance (YYYY-MM-DD).
    pub assistance_end: String,
    /// Months after that date (default 1, 3, 6, 12, 18, 24).
    #[serde(default)]
    pub months: Option<Vec<u32>>,
    /// Failed attempts in a row before "lost contact" (default 3).
    #[serde(default)]
    pub max_failed: Option<u32>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = FollowupPlan)]
pub struct Plan {
    pub case_id: Uuid,
    pub assistance_end: String,
    pub months: Vec<u32>,
    pub max_failed: u32,
    pub lost_contact: bool,
    pub lost_contact_at: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Task {
    pub id: Uuid,
    pub case_id: Uuid,
    /// "scheduled" (from the plan) or "on_demand" (the survivor asked).
    pub kind: String,
    pub request: Option<String>,
    pub due_on: String,
    pub assignee: Uuid,
    pub channel: Option<String>,
    pub planned_at: Option<String>,
    /// upcoming, due, overdue, done, cancelled.
    pub status: String,
}

/// One `followup_tasks` row (`SELECT id, case_id, kind, request, due_on, assignee, channel,
/// planned_at, state`), read by column name.
#[derive(sqlx::FromRow)]
struct TaskRow {
    id: String,
    case_id: String,
    kind: String,
    request: Option<String>,
    due_on: String,
    assignee: String,
    channel: Option<String>,
    planned_at: Option<i64>,
    state: String,
}

impl Store {
    /// Sets the follow-up plan and (re)creates its scheduled tasks; done tasks are kept.
    pub async fn set_plan(&self, ctx: &Ctx<'_>, case: Uuid, input: &PlanInput) -> Result<Plan> {
        let access = self.authorize_case(ctx, Action::UpdateCase, case).await?;
        let end = parse_date("assistance_end", &input.assistance_end)?;
        let org_default = self.org_months(access.facts().owner_org).await?;
        let (months, _) = rules::effective_months(input.months.as_deref(), org_default.as_deref());
        rules::validate_months(&months)?;
        let max_failed = input.max_failed.unwrap_or(DEFAULT_MAX_FAILED);
        if !(1..=20).contains(&max_failed) {
            return Err(invalid("max_failed", "invalid", "between 1 and 20"));
        }
        let cs = case.to_string();
        let now = millis(ctx.now);
        let mut w = self.write_case(ctx, &access).await?;
        let protocol = self.load_protocol(&mut w, &access, false).await?;
        let assignee = protocol
            .and_then(|p| p.caller_user)
            .unwrap_or(ctx.actor.user_id);
        w.exec("DELETE FROM followup_plans WHERE case_id = $1")
            .await?;
        sqlx::query(
            "INSERT INTO followup_plans (case_id, assistance_end, months, max_failed, lost_contact_at, updated_by, updated_at) \
             VALUES ($1, $2, $3, $4, NULL, $5, $6)",
        )
        .bind(&cs)
        .bind(date_str(end))
        .bind(months.iter().map(u32::to_string).collect::<Vec<_>>().join(","))
        .bind(i64::from(max_failed))
        .bind(ctx.actor.user_id.to_string())
        .bind(now)
        .execute(&mut *w)
        .await?;
        w.exec("UPDATE followup_tasks SET state = 'cancelled' WHERE case_id = $1 AND kind = 'scheduled' AND state = 'open'").await?;
        for d in rules::plan_dates(end, &months) {
            sqlx::query(
                "INSERT INTO followup_tasks (id, case_id, kind, request, due_on, assignee, channel, planned_at, state, done_at, created_by, created_at) \
                 VALUES ($1, $2, 'scheduled', NULL, $3, $4, NULL, NULL, 'open', NULL, $5, $6)",
            )
            .bind(Uuid::new_v4().to_string())
            .bind(&cs)
            .bind(date_str(d))
            .bind(assignee.to_string())
            .bind(ctx.actor.user_id.to_string())
            .bind(now)
            .execute(&mut *w)
            .await?;
        }
        let detail = format!(
            "months={} max_failed={max_failed}",
            months
                .iter()
                .map(u32::to_string)
                .collect::<Vec<_>>()
                .join(",")
        );
        w.event("followup.plan", &detail).await?;
        w.commit("followup.plan", detail).await?;
        Ok(Plan {
            case_id: case,
            assistance_end: date_str(end),
            months,
            max_failed,
            lost_contact: false,
            lost_contact_at: None,
        })
    }

    pub async fn plan(&self, ctx: &Ctx<'_>, case: Uuid) -> Result<Option<Plan>> {
        self.authorize_case(ctx, Action::ReadSection(Section::FollowUp), case)
            .await?;
        let r = sqlx::query(
            "SELECT assistance_end, months, max_failed, lost_contact_at FROM followup_plans WHERE case_id = $1",
        )
        .bind(case.to_string())
        .fetch_optional(&self.pool)
        .await?;
        let Some(r) = r else { return Ok(None) };
        let months: String = r.try_get("months")?;
        let lost: Option<i64> = r.try_get("lost_contact_at")?;
        Ok(Some(Plan {
            case_id: case,
            assistance_end: r.try_get("assistance_end")?,
            months: months.split(',').filter_map(|m| m.parse().ok()).collect(),
            max_failed: r.try_get::<i64, _>("max_failed")? as u32,
            lost_contact: lost.is_some(),
            lost_contact_at: lost.map(ts),
        }))
    }

    pub(super) fn task_of(r: &sqlx::any::AnyRow, today: Date) -> Result<Task> {
        let row = TaskRow::from_row(r)?;
        let due = row.due_on;
        let state = row.state;
        let d = parse_date("due_on", &due)?;
        let status = rules::task_status(d, today, state == "done", state == "cancelled");
        let planned = row.planned_at;
        Ok(Task {
            id: uuid_of(&row.id)?,
            case_id: uuid_of(&row.case_id)?,
            kind: row.kind,
            request: row.request,
            due_on: due,
            assignee: uuid_of(&row.assignee)?,
            channel: row.channel,
            planned_at: planned.map(ts),
            status: status.as_str().into(),
        })
    }

    /// The case's follow-up tasks with their status today.
    pub async fn followup_tasks(&self, ctx: &Ctx<'_>, case: Uuid) -> Result<Vec<Task>> {
        self.authorize_case(ctx, Action::ReadSection(Section::FollowUp), case)
            .await?;
        let rows = sqlx::query(
            "SELECT id, case_id, kind, request, due_on, assignee, channel, planned_at, state FROM followup_tasks WHERE case_id = $1 AND state <> 'cancelled' ORDER BY due_on, created_at, id",
        )
        .bind(case.to_string())
        .fetch_all(&self.pool)
        .await?;
        let t = today(ctx.now);
        rows.iter().map(|r| Self::task_of(r, t)).collect()
    }

    /// The survivor asks for help (job counselling …): a task due today for the caseworker.
    pub async fn request_followup(&self, ctx: &Ctx<'_>, case: Uuid, kind: &str) -> Result<Task> {
        let access = self.authorize_case(ctx, Action::UpdateCase, case).await?;
        if !rules::REQUEST_KINDS.contains(&kind) {
            return Err(invalid("request", "unknown", "unknown request kind"));
        }
        let cs = case.to_string();
        let now = millis(ctx.now);
        let id = Uuid::new_v4();
        let due = today(ctx.now);
        let mut w = self.write_case(ctx, &access).await?;
        let assignee = self
            .load_protocol(&mut w, &access, false)
            .await?
            .and_then(|p| p.caller_user)
            .unwrap_or(ctx.actor.user_id);
        sqlx::query(
            "INSERT INTO followup_tasks (id, case_id, kind, request, due_on, assignee, channel, planned_at, state, done_at, created_by, created_at) \
             VALUES ($1, $2, 'on_demand', $3, $4, $5, NULL, NULL, 'open', NULL, $6, $7)",
        )
        .bind(id.to_string())
        .bind(&cs)
        .bind(kind)
        .bind(date_str(due))
        .bind(assignee.to_string())
        .bind(ctx.actor.user_id.to_string())
        .bind(now)
        .execute(&mut *w)
        .await?;
        w.event("followup.request", kind).await?;
        w.commit("followup.request", kind.to_string()).await?;
        Ok(Task {
            id,
            case_id: case,
            kind: "on_demand".into(),
            request: Some(kind.into()),
            due_on: date_str(due),
            assignee,
            channel: None,
            planned_at: None,
            status: rules::TaskStatus::Due.as_str().into(),
        })
    }

    /// Plans the contact of a task at a time and channel. Refused (422, field `planned_at`,
    /// one error per breach code) unless a follow-up consent covers it and the protocol allows
    /// it; the caller is the task's assignee.
    pub async fn schedule_contact(
        &self,
        ctx: &Ctx<'_>,
        case: Uuid,
        task: Uuid,
        channel: &str,
        planned_at: OffsetDateTime,
    ) -> Result<Task> {
        let access = self.authorize_case(ctx, Action::UpdateCase, case).await?;
        let ch = Channel::parse(channel)
            .ok_or_else(|| invalid("channel", "unknown", "unknown channel"))?;
        let cs = case.to_string();
        let now = millis(ctx.now);
        let mut tx = self.begin_write().await?;
        let r = sqlx::query(
            "SELECT id, case_id, kind, request, due_on, assignee, channel, planned_at, state FROM followup_tasks WHERE id = $1 AND case_id = $2",
        )
        .bind(task.to_string())
        .bind(&cs)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(StoreError::NotFound)?;
        let t = Self::task_of(&r, today(ctx.now))?;
        if t.status == "done" || t.status == "cancelled" {
            return Err(invalid("task", "closed", "the task is closed"));
        }
        let mut errs = ValidationErrors::default();
        if !self.followup_consent(&mut tx, &cs).await? {
            errs.push(FieldError::new(
                "consent",
                "no_follow_up_consent",
                "no follow-up contact consent is recorded",
            ));
        }
        match self.load_protocol(&mut tx, &access, false).await? {
            None => errs.push(FieldError::new(
                "protocol",
                "no_protocol",
                "record the survivor's contact protocol first",
            )),
            Some(p) => {
                if let Err(breaches) = rules::check_contact(&p.rules(), ch, planned_at, t.assignee)
                {
                    for b in breaches {
                        errs.push(FieldError::new(
                            "planned_at",
                            b.as_str(),
                            "outside the survivor's contact protocol",
                        ));
                    }
                }
            }
        }
        if !errs.is_empty() {
            drop(tx);
            let mut e = ctx.entry("followup.schedule", "refused", &cs);
            e.detail = errs
                .errors
                .iter()
                .map(|e| e.code)
                .collect::<Vec<_>>()
                .join(",");
            self.audit(e, ctx.now).await?;
            return Err(errs.into());
        }
        sqlx::query("UPDATE followup_tasks SET channel = $1, planned_at = $2 WHERE id = $3")
            .bind(ch.as_str())
            .bind(millis(planned_at))
            .bind(task.to_string())
            .execute(&mut *tx)
            .await?;
        Self::case_event(&mut tx, ctx, &access, "followup.scheduled", ch.as_str()).await?;
        let mut e = ctx.entry("followup.schedule", "success", &cs);
        e.detail = format!("task={task} channel={}", ch.as_str());
        tx.commit_with(&e, now).await?;
        Ok(Task {
            channel: Some(ch.as_str().into()),
            planned_at: Some(ts(millis(planned_at))),
            ..t
        })
    }
}
