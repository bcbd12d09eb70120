//! The individual rehabilitation plan (HTCDS `spl_`): goals, actions, agreement, approval.

use super::*;

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanInput {
    #[serde(rename = "spl_Type")]
    pub spl_type: String,
    /// Objectives (encrypted).
    #[serde(rename = "spl_Objectives", default)]
    pub objectives: Option<String>,
    #[serde(rename = "spl_PlannedEndDate", default)]
    pub planned_end: Option<String>,
    #[serde(default)]
    pub review_on: Option<String>,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GoalInput {
    /// ShortTerm or LongTerm.
    pub term: String,
    #[serde(default)]
    pub domain: Option<String>,
    /// The goal (encrypted).
    pub description: String,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActionInput {
    #[serde(default)]
    pub goal_id: Option<Uuid>,
    #[serde(default)]
    pub domain: Option<String>,
    pub service: String,
    /// Slug of the responsible organisation (default: the case owner).
    #[serde(default)]
    pub responsible_org: Option<String>,
    #[serde(default)]
    pub due_on: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Goal {
    pub id: Uuid,
    pub term: String,
    pub domain: Option<String>,
    pub description: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PlanAction {
    pub id: Uuid,
    pub goal_id: Option<Uuid>,
    pub domain: Option<String>,
    pub service: String,
    pub responsible_org: Uuid,
    pub due_on: Option<String>,
    pub status: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Plan {
    pub id: Uuid,
    pub case_id: Uuid,
    #[serde(rename = "spl_Type")]
    pub spl_type: String,
    #[serde(rename = "spl_Objectives")]
    pub objectives: Option<String>,
    #[serde(rename = "spl_PlannedEndDate")]
    pub planned_end: Option<String>,
    #[serde(rename = "spl_ActualEndDate")]
    pub actual_end: Option<String>,
    pub review_on: Option<String>,
    pub survivor_agreed: bool,
    pub approved: bool,
    pub approved_at: Option<String>,
    pub created_at: String,
    pub goals: Vec<Goal>,
    #[serde(rename = "spl_ActionPlan")]
    pub actions: Vec<PlanAction>,
    pub gaps: PlanGaps,
    /// Her priorities in her words (sealed; `PUT .../plans/{plan}/priorities`).
    pub priorities: Option<String>,
    /// The plan type names the form of exploitation and the reader lacks the victim context
    /// (`policy::plan_type_visible`): `spl_Type` is then empty (issue #23 §9).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub spl_type_restricted: bool,
}

/// A plan waiting for a supervisor's approval (no personal data).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PendingPlan {
    pub plan_id: Uuid,
    pub case_id: Uuid,
    pub spl_type: String,
    pub created_at: String,
}

impl Store {
    /// Opens a new individual rehabilitation plan (unapproved, not yet agreed).
    pub async fn create_plan(&self, ctx: &Ctx<'_>, case: Uuid, p: &PlanInput) -> Result<Uuid> {
        let access = self.authorize_case(ctx, Action::UpdateCase, case).await?;
        let mut errs = ValidationErrors::default();
        let t = PlanType::parse(&p.spl_type).map_err(|e| errs.push(e)).ok();
        let planned = opt_date("spl_PlannedEndDate", &p.planned_end, &mut errs);
        let review = opt_date("review_on", &p.review_on, &mut errs);
        text_ok(&mut errs, "spl_Objectives", nonempty(&p.objectives));
        errs.into_result()?;
        let Some(t) = t else {
            return Err(StoreError::Data("unreachable".into()));
        };
        let id = Uuid::new_v4();
        let ids = id.to_string();
        let cs = case.to_string();
        let now = millis(ctx.now);
        let mut w = self.write_case(ctx, &access).await?;
        let key = self.case_key(&mut w, &access).await?;
        sqlx::query(
            "INSERT INTO plans (id, case_id, org_id, spl_type, spl_objectives, spl_planned_end_date, review_on, survivor_agreed, created_by, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, 0, $8, $9, $9)",
        )
        .bind(&ids)
        .bind(&cs)
        .bind(access.facts().owner_org.to_string())
        .bind(t.as_str())
        .bind(seal(&key, "plans", "spl_objectives", &ids, nonempty(&p.objectives))?)
        .bind(planned.map(fmt_date))
        .bind(review.map(fmt_date))
        .bind(ctx.actor.user_id.to_string())
        .bind(now)
        .execute(&mut *w)
        .await?;
        w.event("plan.created", t.as_str()).await?;
        w.commit("case.plan_create", format!("plan={ids}")).await?;
        Ok(id)
    }

    async fn plan_case(&self, plan: Uuid) -> Result<Uuid> {
        let cs: String = sqlx::query_scalar("SELECT case_id FROM plans WHERE id = $1")
            .bind(plan.to_string())
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound)?;
        uuid_of(&cs)
    }

    pub async fn add_goal(
        &self,
        ctx: &Ctx<'_>,
        case: Uuid,
        plan: Uuid,
        g: &GoalInput,
    ) -> Result<Uuid> {
        let access = self.authorize_case(ctx, Action::UpdateCase, case).await?;
        self.add_goal_checked(ctx, &access, plan, g).await
    }

    /// [`Store::add_goal`] on a case checked for `UpdateCase`.
    pub(crate) async fn add_goal_checked(
        &self,
        ctx: &Ctx<'_>,
        access: &CaseAccess,
        plan: Uuid,
        g: &GoalInput,
    ) -> Result<Uuid> {
        let case = access.id();
        if self.plan_case(plan).await? != case {
            return Err(StoreError::NotFound);
        }
        let mut errs = ValidationErrors::default();
        let term = GoalTerm::parse(&g.term).map_err(|e| errs.push(e)).ok();
        let domain = match nonempty(&g.domain) {
            Some(d) => NeedDomain::parse(d).map_err(|e| errs.push(e)).ok(),
            None => None,
        };
        let desc = g.description.trim();
        if desc.is_empty() {
            errs.push(FieldError::new(
                "description",
                "required",
                "describe the goal",
            ));
        }
        text_ok(&mut errs, "description", Some(desc));
        errs.into_result()?;
        let Some(term) = term else {
            return Err(StoreError::Data("unreachable".into()));
        };
        let id = Uuid::new_v4();
        let ids = id.to_string();
        let now = millis(ctx.now);
        let mut w = self.write_case(ctx, access).await?;
        let key = self.case_key(&mut w, access).await?;
        sqlx::query("INSERT INTO plan_goals (id, plan_id, term, domain, description, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(&ids)
            .bind(plan.to_string())
            .bind(term.as_str())
            .bind(domain.map(|d| d.as_str()))
            .bind(seal(&key, "plan_goals", "description", &ids, Some(desc))?)
            .bind(now)
            .execute(&mut *w)
            .await?;
        Self::touch_plan(&mut w, plan, now).await?;
        w.event("plan.goal", term.as_str()).await?;
        w.commit("case.plan_goal", format!("plan={plan} goal={ids}"))
            .await?;
        Ok(id)
    }

    /// A change to the plan's content withdraws an earlier approval (it must be approved again).
    async fn touch_plan(conn: &mut sqlx::AnyConnection, plan: Uuid, now: i64) -> Result<()> {
        sqlx::query("UPDATE plans SET updated_at = $1, approved_by = NULL, approved_at = NULL WHERE id = $2")
            .bind(now)
            .bind(plan.to_string())
            .execute(&mut *conn)
            .await?;
        Ok(())
    }

    pub async fn add_action(
        &self,
        ctx: &Ctx<'_>,
        case: Uuid,
        plan: Uuid,
        a: &ActionInput,
    ) -> Result<Uuid> {
        let access = self
            .authorize_case(ctx, Action::RecordPlanAction, case)
            .await?;
        if self.plan_case(plan).await? != case {
            return Err(StoreError::NotFound);
        }
        let mut errs = ValidationErrors::default();
        let service = Service::parse_for("service", &a.service)
            .map_err(|e| errs.push(e))
            .ok();
        let domain = match nonempty(&a.domain) {
            Some(d) => NeedDomain::parse(d).map_err(|e| errs.push(e)).ok(),
            None => None,
        };
        let status = match nonempty(&a.status) {
            Some(s) => ActionStatus::parse(s).map_err(|e| errs.push(e)).ok(),
            None => Some(ActionStatus::Planned),
        };
        let due = opt_date("due_on", &a.due_on, &mut errs);
        let responsible = match nonempty(&a.responsible_org) {
            Some(slug) => self
                .org_of_field("responsible_org", slug, &mut errs)
                .await?
                .map(|o| o.id),
            // A receiving organisation plans its own part (issue #23 §8).
            None if access.facts().owner_org != ctx.actor.org_id => Some(ctx.actor.org_id),
            None => Some(access.facts().owner_org),
        };
        if let Some(g) = a.goal_id {
            let n: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM plan_goals WHERE id = $1 AND plan_id = $2",
            )
            .bind(g.to_string())
            .bind(plan.to_string())
            .fetch_one(&self.pool)
            .await?;
            if n == 0 {
                errs.push(FieldError::new(
                    "goal_id",
                    "unknown_goal",
                    "no such goal in this plan",
                ));
            }
        }
        errs.into_result()?;
        let (Some(service), Some(status), Some(responsible)) = (service, status, responsible)
        else {
            return Err(StoreError::Data("unreachable".into()));
        };
        let id = Uuid::new_v4();
        let ids = id.to_string();
        let now = millis(ctx.now);
        let mut w = self.write_case(ctx, &access).await?;
        sqlx::query(
            "INSERT INTO plan_actions (id, plan_id, goal_id, domain, service, responsible_org, due_on, status, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)",
        )
        .bind(&ids)
        .bind(plan.to_string())
        .bind(a.goal_id.map(|g| g.to_string()))
        .bind(domain.map(|d| d.as_str()))
        .bind(service.as_str())
        .bind(responsible.to_string())
        .bind(due.map(fmt_date))
        .bind(status.as_str())
        .bind(now)
        .execute(&mut *w)
        .await?;
        Self::touch_plan(&mut w, plan, now).await?;
        w.event("plan.action", service.as_str()).await?;
        w.commit("case.plan_action", format!("plan={plan} action={ids}"))
            .await?;
        Ok(id)
    }

    /// Moves a plan action along (Planned → InProgress → Done, or Cancelled). Not a content
    /// change: the approval stands.
    pub async fn set_action_status(
        &self,
        ctx: &Ctx<'_>,
        case: Uuid,
        action: Uuid,
        status: &str,
    ) -> Result<()> {
        let access = self
            .authorize_case(ctx, Action::RecordPlanAction, case)
            .await?;
        let s = ActionStatus::parse(status).map_err(invalid)?;
        let mut w = self.write_case(ctx, &access).await?;
        w.set_status("UPDATE plan_actions SET status = $1, updated_at = $2 WHERE id = $3 AND plan_id IN (SELECT id FROM plans WHERE case_id = $4)", s.as_str(), action)
            .await?;
        w.event("plan.progress", s.as_str()).await?;
        w.commit(
            "case.plan_action_status",
            format!("action={action} status={}", s.as_str()),
        )
        .await?;
        Ok(())
    }

    /// Records that the survivor agreed to the plan as it stands.
    pub async fn record_plan_agreement(&self, ctx: &Ctx<'_>, case: Uuid, plan: Uuid) -> Result<()> {
        let access = self.authorize_case(ctx, Action::UpdateCase, case).await?;
        let q =
            "UPDATE plans SET survivor_agreed = 1, agreed_at = $1 WHERE id = $2 AND case_id = $3";
        self.plan_update(
            ctx,
            &access,
            plan,
            q,
            None,
            "plan.agreed",
            "case.plan_agree",
        )
        .await
    }

    /// A supervisor of the owner organisation approves the plan (after the survivor agreed).
    /// Approves a plan. A plan with warnings (no objectives, planned end in the past; domain
    /// `plan_warnings`) is approved only with `confirm_warnings` (domain `approval_check`: a
    /// refusal names `confirm_warnings`); the screen's tick box and the API's flag both come here.
    pub async fn approve_plan(
        &self,
        ctx: &Ctx<'_>,
        case: Uuid,
        plan: Uuid,
        confirm_warnings: bool,
    ) -> Result<()> {
        let access = self.authorize_case(ctx, Action::Approve, case).await?;
        let agreed: Option<i64> =
            sqlx::query_scalar("SELECT survivor_agreed FROM plans WHERE id = $1 AND case_id = $2")
                .bind(plan.to_string())
                .bind(case.to_string())
                .fetch_optional(&self.pool)
                .await?;
        match agreed {
            None => return Err(StoreError::NotFound),
            Some(0) => {
                return Err(invalid(FieldError::new(
                    "survivor_agreed",
                    "agreement_required",
                    "the survivor's agreement must be recorded before approval",
                )));
            }
            Some(_) => {}
        }
        let warnings = self
            .plans(ctx, case)
            .await?
            .iter()
            .find(|p| p.id == plan)
            .map(|p| {
                dayaq_domain::assistance::plan_warnings(
                    p.objectives.as_deref(),
                    p.planned_end.as_deref(),
                    ctx.now.date(),
                )
            })
            .unwrap_or_default();
        dayaq_domain::assistance::approval_check(&warnings, confirm_warnings).map_err(invalid)?;
        let q =
            "UPDATE plans SET approved_at = $1, approved_by = $4 WHERE id = $2 AND case_id = $3";
        let by = ctx.actor.user_id.to_string();
        self.plan_update(
            ctx,
            &access,
            plan,
            q,
            Some(by),
            "plan.approved",
            "case.plan_approve",
        )
        .await
    }

    /// Closes the plan: records `spl_ActualEndDate`.
    pub async fn end_plan(&self, ctx: &Ctx<'_>, case: Uuid, plan: Uuid, on: &str) -> Result<()> {
        let access = self.authorize_case(ctx, Action::UpdateCase, case).await?;
        let d = parse_date("spl_ActualEndDate", on).map_err(invalid)?;
        let q = "UPDATE plans SET updated_at = $1, spl_actual_end_date = $4 WHERE id = $2 AND case_id = $3";
        self.plan_update(
            ctx,
            &access,
            plan,
            q,
            Some(fmt_date(d)),
            "plan.ended",
            "case.plan_end",
        )
        .await
    }

    #[allow(clippy::too_many_arguments)]
    async fn plan_update(
        &self,
        ctx: &Ctx<'_>,
        access: &CaseAccess,
        plan: Uuid,
        q: &'static str,
        extra: Option<String>,
        event: &str,
        audit: &'static str,
    ) -> Result<()> {
        let cs = access.id_str().to_string();
        let now = millis(ctx.now);
        let mut w = self.write_case(ctx, access).await?;
        let mut query = sqlx::query(q)
            .bind(now)
            .bind(plan.to_string())
            .bind(cs.clone());
        if let Some(x) = extra {
            query = query.bind(x);
        }
        let n = query.execute(&mut *w).await?.rows_affected();
        if n != 1 {
            return Err(StoreError::NotFound);
        }
        w.event(event, "").await?;
        w.commit(audit, format!("plan={plan}")).await?;
        Ok(())
    }

    /// The plans of a case, newest first, each with its gaps on `ctx.now` (needs `Section::Plan`).
    pub async fn plans(&self, ctx: &Ctx<'_>, case: Uuid) -> Result<Vec<Plan>> {
        let access = self
            .authorize_case(ctx, Action::ReadSection(Section::Plan), case)
            .await?;
        self.plans_of(ctx, &access).await
    }

    /// [`Store::plans`] of a checked case (the caller asked `ReadSection(Plan)`).
    pub(crate) async fn plans_of(&self, ctx: &Ctx<'_>, access: &CaseAccess) -> Result<Vec<Plan>> {
        let case = access.id();
        let cs = access.id_str();
        let rows = sqlx::query(
            "SELECT id, spl_type, spl_objectives, spl_planned_end_date, spl_actual_end_date, review_on, survivor_agreed, approved_at, created_at \
             FROM plans WHERE case_id = $1 ORDER BY created_at DESC, id",
        )
        .bind(cs)
        .fetch_all(&self.pool)
        .await?;
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let latest_needs: Vec<NeedFact> = self
            .assessments_unchecked(access)
            .await?
            .first()
            .map(|a| {
                a.needs
                    .iter()
                    .filter_map(|n| {
                        Some(NeedFact {
                            domain: NeedDomain::parse(&n.domain).ok()?,
                            severity: Severity::parse(&n.severity).ok()?,
                        })
                    })
                    .collect()
            })
            .unwrap_or_default();
        let mut conn = self.pool.acquire().await?;
        let key = self.case_key(&mut conn, access).await?;
        let today = ctx.now.date();
        let sections = access.readable_sections();
        let mut out = Vec::new();
        for r in &rows {
            let ids: String = r.try_get("id")?;
            let grows = sqlx::query("SELECT id, term, domain, description FROM plan_goals WHERE plan_id = $1 ORDER BY created_at, id")
                .bind(&ids)
                .fetch_all(&mut *conn)
                .await?;
            let mut goals = Vec::new();
            for g in &grows {
                let gid: String = g.try_get("id")?;
                goals.push(Goal {
                    id: uuid_of(&gid)?,
                    term: g.try_get("term")?,
                    domain: g.try_get("domain")?,
                    description: open(
                        &key,
                        "plan_goals",
                        "description",
                        &gid,
                        g.try_get("description")?,
                    )?
                    .unwrap_or_default(),
                });
            }
            let arows = sqlx::query("SELECT id, goal_id, domain, service, responsible_org, due_on, status FROM plan_actions WHERE plan_id = $1 ORDER BY created_at, id")
                .bind(&ids)
                .fetch_all(&mut *conn)
                .await?;
            let mut actions = Vec::new();
            for a in &arows {
                let goal: Option<String> = a.try_get("goal_id")?;
                actions.push(PlanAction {
                    id: uuid_of(&a.try_get::<String, _>("id")?)?,
                    goal_id: goal.as_deref().map(uuid_of).transpose()?,
                    domain: a.try_get("domain")?,
                    service: a.try_get("service")?,
                    responsible_org: uuid_of(&a.try_get::<String, _>("responsible_org")?)?,
                    due_on: a.try_get("due_on")?,
                    status: a.try_get("status")?,
                });
            }
            let gfacts: Vec<GoalFact> = goals
                .iter()
                .filter_map(|g| {
                    Some(GoalFact {
                        id: g.id,
                        term: GoalTerm::parse(&g.term).ok()?,
                    })
                })
                .collect();
            let afacts: Vec<ActionFact> = actions
                .iter()
                .filter_map(|a| {
                    Some(ActionFact {
                        id: a.id,
                        goal: a.goal_id,
                        domain: a.domain.as_deref().and_then(|d| NeedDomain::parse(d).ok()),
                        due_on: a
                            .due_on
                            .as_deref()
                            .and_then(|d| parse_date("due_on", d).ok()),
                        status: ActionStatus::parse(&a.status).ok()?,
                    })
                })
                .collect();
            let approved_at: Option<i64> = r.try_get("approved_at")?;
            let priorities = crate::rules::priorities_of(&mut conn, &key, &ids).await?;
            let spl_type: String = r.try_get("spl_type")?;
            let type_shown = dayaq_domain::policy::plan_type_visible(&spl_type, &sections);
            out.push(Plan {
                id: uuid_of(&ids)?,
                case_id: case,
                spl_type: if type_shown { spl_type } else { String::new() },
                spl_type_restricted: !type_shown,
                objectives: open(
                    &key,
                    "plans",
                    "spl_objectives",
                    &ids,
                    r.try_get("spl_objectives")?,
                )?,
                planned_end: r.try_get("spl_planned_end_date")?,
                actual_end: r.try_get("spl_actual_end_date")?,
                review_on: r.try_get("review_on")?,
                survivor_agreed: r.try_get::<i64, _>("survivor_agreed")? != 0,
                approved: approved_at.is_some(),
                approved_at: approved_at.map(ts),
                created_at: ts(r.try_get("created_at")?),
                gaps: plan_gaps(&latest_needs, &gfacts, &afacts, today),
                goals,
                actions,
                priorities,
            });
        }
        Ok(out)
    }

    /// Plans of the actor's organisation waiting for approval (supervisors only; no personal data).
    pub async fn plans_waiting_approval(&self, ctx: &Ctx<'_>) -> Result<Vec<PendingPlan>> {
        if ctx.actor.role != dayaq_domain::Role::Supervisor {
            return Ok(Vec::new());
        }
        let rows = sqlx::query(
            "SELECT p.id, p.case_id, p.spl_type, p.created_at FROM plans p JOIN cases c ON c.id = p.case_id \
             WHERE c.owner_org_id = $1 AND p.approved_at IS NULL AND p.survivor_agreed = 1 AND p.spl_actual_end_date IS NULL \
             ORDER BY p.created_at LIMIT 100",
        )
        .bind(ctx.actor.org_id.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(PendingPlan {
                    plan_id: uuid_of(&r.try_get::<String, _>("id")?)?,
                    case_id: uuid_of(&r.try_get::<String, _>("case_id")?)?,
                    spl_type: r.try_get("spl_type")?,
                    created_at: ts(r.try_get("created_at")?),
                })
            })
            .collect()
    }
}
