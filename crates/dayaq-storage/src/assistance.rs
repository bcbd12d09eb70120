//! Assistance: needs assessments, the individual rehabilitation plan (HTCDS `spl_`), shelter
//! facilities and stays (length-of-stay rule), the one-time allowance (once per person,
//! enforced by a UNIQUE index). Free text in the survivor's words is sealed with the case key.

use crate::audit::append;
use crate::crypto::{SecretKey, field_aad};
use crate::kernel::{CaseAccess, Ctx};
use crate::{Result, Store, StoreError, from_millis, millis, unique_as};
use dayaq_domain::assistance::{
    ActionFact, ActionStatus, ExitDestination, GoalFact, GoalTerm, NeedDomain, NeedFact, PlanGaps,
    PlanType, STATE_SHELTER_MAX_STAY_DAYS, Severity, StayState, allowance_eligibility, fmt_date,
    parse_date, plan_gaps, stay_state,
};
use dayaq_domain::policy::{Action, Resource, Section, decide};
use dayaq_domain::referral::Service;
use dayaq_domain::stats::Cell;
use dayaq_domain::vocab::TraffickingStatus;
use dayaq_domain::{FieldError, ValidationErrors};
use serde::{Deserialize, Serialize};
use sqlx::Row;
use time::Date;
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

const MAX_TEXT: usize = 4000;

fn ts(ms: i64) -> String {
    from_millis(ms).format(&Rfc3339).unwrap_or_default()
}
fn uuid_of(s: &str) -> Result<Uuid> {
    Uuid::parse_str(s).map_err(|e| StoreError::Data(e.to_string()))
}
fn invalid(e: FieldError) -> StoreError {
    ValidationErrors::single(e).into()
}
fn text_ok(errs: &mut ValidationErrors, field: &str, s: Option<&str>) {
    if s.is_some_and(|s| s.chars().count() > MAX_TEXT) {
        errs.push(FieldError::new(
            field,
            "too_long",
            format!("{field} is too long"),
        ));
    }
}
fn nonempty(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty())
}
fn seal(
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
fn open(
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
fn opt_date(field: &str, s: &Option<String>, errs: &mut ValidationErrors) -> Option<Date> {
    match nonempty(s) {
        Some(v) => parse_date(field, v).map_err(|e| errs.push(e)).ok(),
        None => None,
    }
}

// ---------- needs assessment ----------

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NeedInput {
    pub domain: String,
    pub severity: String,
    /// Notes (encrypted).
    #[serde(default)]
    pub notes: Option<String>,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssessmentInput {
    pub needs: Vec<NeedInput>,
    /// The survivor's own priorities, in her own words (encrypted).
    #[serde(default)]
    pub priorities: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Need {
    pub domain: String,
    pub severity: String,
    pub notes: Option<String>,
    /// The notes belong to the health section, which this reader may not see.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub health_restricted: bool,
}

fn is_health_domain(d: &str) -> bool {
    d == NeedDomain::PhysicalHealth.as_str() || d == NeedDomain::MentalHealth.as_str()
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Assessment {
    pub id: Uuid,
    pub org_id: Uuid,
    pub assessed_at: String,
    pub priorities: Option<String>,
    pub needs: Vec<Need>,
}

// ---------- plan ----------

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
}

/// A plan waiting for a supervisor's approval (no personal data).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PendingPlan {
    pub plan_id: Uuid,
    pub case_id: Uuid,
    pub spl_type: String,
    pub created_at: String,
}

// ---------- shelter ----------

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FacilityInput {
    pub name: String,
    pub beds: i64,
    /// Default 30 (the state shelter's legal limit).
    #[serde(default)]
    pub max_stay_days: Option<i64>,
    /// A state shelter admits only survivors cooperating with law enforcement.
    #[serde(default)]
    pub state_shelter: bool,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Facility {
    pub id: Uuid,
    pub org_id: Uuid,
    pub name: String,
    pub beds: i64,
    pub max_stay_days: i64,
    pub state_shelter: bool,
    /// Survivors plus dependants currently staying.
    pub occupied: i64,
    pub available: i64,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AdmissionInput {
    pub facility_id: Uuid,
    pub admitted_on: String,
    #[serde(default)]
    pub dependants: i64,
    /// Cost of one shelter day in qəpik, charged to `funding_source_id`.
    #[serde(default)]
    pub daily_cost_minor: i64,
    #[serde(default)]
    pub funding_source_id: Option<Uuid>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Extension {
    pub id: Uuid,
    pub days: i64,
    pub approved: bool,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Stay {
    pub id: Uuid,
    pub case_id: Uuid,
    pub facility_id: Uuid,
    pub admitted_on: String,
    pub dependants: i64,
    pub exited_on: Option<String>,
    pub exit_destination: Option<String>,
    pub extensions: Vec<Extension>,
    /// The length-of-stay rule on `today` (None after exit).
    pub length_of_stay: Option<StayState>,
}

// ---------- allowance ----------

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Payment {
    pub id: Uuid,
    pub case_id: Uuid,
    pub org_id: Uuid,
    pub amount_minor: i64,
    pub currency: String,
    pub status: String,
    pub created_at: String,
}

// ---------- services delivered and funding ----------

const SERVICE_OUTCOMES: &[&str] = &["Ongoing", "Completed", "Discontinued", "Declined"];
const FUNDING_KINDS: &[&str] = &["StateBudget", "VictimAssistanceFund", "Donor", "Other"];

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

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GrantInput {
    pub amount_minor: i64,
    pub currency: String,
    pub period_start: String,
    pub period_end: String,
    pub purpose: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Grant {
    pub id: Uuid,
    pub amount_minor: i64,
    pub currency: String,
    pub period_start: String,
    pub period_end: String,
    pub purpose: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FundingSource {
    pub id: Uuid,
    pub name: String,
    pub kind: String,
    pub grants: Vec<Grant>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct SourceCost {
    pub source_id: Uuid,
    pub name: String,
    pub services_minor: i64,
    pub shelter_minor: i64,
    pub total_minor: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct CostReport {
    /// AZN minor units throughout.
    pub per_source: Vec<SourceCost>,
    /// (case id, total) — the survivor is the case; no personal data.
    pub per_survivor: Vec<(Uuid, i64)>,
    /// (service type, total); shelter days count as Shelter.
    pub per_service: Vec<(String, i64)>,
    pub total_minor: i64,
}

/// Sums cost lines (source id, source name, case, service, amount) into the report, sorted.
fn cost_report_of(lines: &[(Uuid, String, Uuid, String, i64)]) -> CostReport {
    use std::collections::BTreeMap;
    let mut src: BTreeMap<(String, Uuid), (i64, i64)> = BTreeMap::new();
    let mut case: BTreeMap<Uuid, i64> = BTreeMap::new();
    let mut svc: BTreeMap<String, i64> = BTreeMap::new();
    let mut total = 0;
    for (sid, name, c, service, amount) in lines {
        let e = src.entry((name.clone(), *sid)).or_default();
        if service == Service::Shelter.as_str() {
            e.1 += amount;
        } else {
            e.0 += amount;
        }
        *case.entry(*c).or_default() += amount;
        *svc.entry(service.clone()).or_default() += amount;
        total += amount;
    }
    CostReport {
        per_source: src
            .into_iter()
            .map(|((name, source_id), (a, b))| SourceCost {
                source_id,
                name,
                services_minor: a,
                shelter_minor: b,
                total_minor: a + b,
            })
            .collect(),
        per_survivor: case.into_iter().collect(),
        per_service: svc.into_iter().collect(),
        total_minor: total,
    }
}

const PAYMENT_STATUS: &[&str] = &["Requested", "Paid", "Cancelled"];

impl Store {
    fn audit_entry(
        ctx: &Ctx<'_>,
        action: &'static str,
        case: &str,
        detail: String,
    ) -> crate::audit::AuditEntry {
        let mut e = ctx.entry(action, "success", case);
        e.detail = detail;
        e
    }

    // ---------- needs assessment ----------

    /// Records a needs assessment; earlier assessments are kept (reviews repeat it).
    pub async fn add_assessment(
        &self,
        ctx: &Ctx<'_>,
        case: Uuid,
        a: &AssessmentInput,
    ) -> Result<Assessment> {
        let access = self.authorize_case(ctx, Action::UpdateCase, case).await?;
        let mut errs = ValidationErrors::default();
        let mut needs = Vec::new();
        if a.needs.is_empty() {
            errs.push(FieldError::new(
                "needs",
                "required",
                "at least one need must be assessed",
            ));
        }
        for (i, n) in a.needs.iter().enumerate() {
            let d = NeedDomain::parse_for(&format!("needs[{i}].domain"), &n.domain)
                .map_err(|e| errs.push(e))
                .ok();
            let s = Severity::parse_for(&format!("needs[{i}].severity"), &n.severity)
                .map_err(|e| errs.push(e))
                .ok();
            text_ok(&mut errs, &format!("needs[{i}].notes"), nonempty(&n.notes));
            if let (Some(d), Some(s)) = (d, s) {
                if needs
                    .iter()
                    .any(|(x, _, _): &(NeedDomain, Severity, Option<&str>)| *x == d)
                {
                    errs.push(FieldError::new(
                        format!("needs[{i}].domain"),
                        "duplicate",
                        "each domain once per assessment",
                    ));
                }
                needs.push((d, s, nonempty(&n.notes)));
            }
        }
        text_ok(&mut errs, "priorities", nonempty(&a.priorities));
        errs.into_result()?;
        let id = Uuid::new_v4();
        let ids = id.to_string();
        let cs = case.to_string();
        let now = millis(ctx.now);
        let mut tx = self.begin_write().await?;
        let key = self.case_key(&mut tx, &access).await?;
        sqlx::query("INSERT INTO needs_assessments (id, case_id, org_id, assessed_by, assessed_at, priorities) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(&ids)
            .bind(&cs)
            .bind(ctx.actor.org_id.to_string())
            .bind(ctx.actor.user_id.to_string())
            .bind(now)
            .bind(seal(&key, "needs_assessments", "priorities", &ids, nonempty(&a.priorities))?)
            .execute(&mut *tx)
            .await?;
        for (d, s, notes) in &needs {
            let nid = Uuid::new_v4().to_string();
            sqlx::query("INSERT INTO assessment_needs (id, assessment_id, domain, severity, notes) VALUES ($1, $2, $3, $4, $5)")
                .bind(&nid)
                .bind(&ids)
                .bind(d.as_str())
                .bind(s.as_str())
                .bind(seal(&key, "assessment_needs", "notes", &nid, *notes)?)
                .execute(&mut *tx)
                .await?;
        }
        Self::case_event(
            &mut tx,
            ctx,
            &access,
            "assessment.recorded",
            &format!("needs={}", needs.len()),
        )
        .await?;
        append(
            &mut tx,
            &Self::audit_entry(ctx, "case.assessment", &cs, format!("assessment={ids}")),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(Assessment {
            id,
            org_id: ctx.actor.org_id,
            assessed_at: ts(now),
            priorities: nonempty(&a.priorities).map(str::to_string),
            needs: needs
                .iter()
                .map(|(d, s, n)| Need {
                    domain: d.as_str().into(),
                    severity: s.as_str().into(),
                    notes: n.map(str::to_string),
                    health_restricted: false,
                })
                .collect(),
        })
    }

    /// All assessments of a case, newest first (needs `Section::Plan`).
    pub async fn assessments(&self, ctx: &Ctx<'_>, case: Uuid) -> Result<Vec<Assessment>> {
        let access = self
            .authorize_case(ctx, Action::ReadSection(Section::Plan), case)
            .await?;
        let mut all = self.assessments_unchecked(&access).await?;
        // Need-to-know: the health domains' notes are part of the health section.
        let health = decide(
            ctx.actor,
            Action::ReadSection(Section::Health),
            Resource::Case(access.facts()),
        )
        .allowed;
        if !health {
            for a in &mut all {
                for n in &mut a.needs {
                    if is_health_domain(&n.domain) {
                        n.notes = None;
                        n.health_restricted = true;
                    }
                }
            }
        }
        Ok(all)
    }

    /// The assessments of a checked case, health notes included (callers redact).
    async fn assessments_unchecked(&self, access: &CaseAccess) -> Result<Vec<Assessment>> {
        let cs = access.id_str();
        let rows = sqlx::query("SELECT id, org_id, assessed_at, priorities FROM needs_assessments WHERE case_id = $1 ORDER BY assessed_at DESC, id")
            .bind(cs)
            .fetch_all(&self.pool)
            .await?;
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let mut conn = self.pool.acquire().await?;
        let key = self.case_key(&mut conn, access).await?;
        let mut out = Vec::new();
        for r in &rows {
            let ids: String = r.try_get("id")?;
            let nrows = sqlx::query("SELECT id, domain, severity, notes FROM assessment_needs WHERE assessment_id = $1 ORDER BY domain")
                .bind(&ids)
                .fetch_all(&mut *conn)
                .await?;
            let mut needs = Vec::new();
            for n in &nrows {
                let nid: String = n.try_get("id")?;
                needs.push(Need {
                    domain: n.try_get("domain")?,
                    severity: n.try_get("severity")?,
                    notes: open(&key, "assessment_needs", "notes", &nid, n.try_get("notes")?)?,
                    health_restricted: false,
                });
            }
            out.push(Assessment {
                id: uuid_of(&ids)?,
                org_id: uuid_of(&r.try_get::<String, _>("org_id")?)?,
                assessed_at: ts(r.try_get("assessed_at")?),
                priorities: open(
                    &key,
                    "needs_assessments",
                    "priorities",
                    &ids,
                    r.try_get("priorities")?,
                )?,
                needs,
            });
        }
        Ok(out)
    }

    // ---------- plan ----------

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
        let mut tx = self.begin_write().await?;
        let key = self.case_key(&mut tx, &access).await?;
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
        .execute(&mut *tx)
        .await?;
        Self::case_event(&mut tx, ctx, &access, "plan.created", t.as_str()).await?;
        append(
            &mut tx,
            &Self::audit_entry(ctx, "case.plan_create", &cs, format!("plan={ids}")),
            now,
        )
        .await?;
        tx.commit().await?;
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
        let cs = case.to_string();
        let now = millis(ctx.now);
        let mut tx = self.begin_write().await?;
        let key = self.case_key(&mut tx, access).await?;
        sqlx::query("INSERT INTO plan_goals (id, plan_id, term, domain, description, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(&ids)
            .bind(plan.to_string())
            .bind(term.as_str())
            .bind(domain.map(|d| d.as_str()))
            .bind(seal(&key, "plan_goals", "description", &ids, Some(desc))?)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        Self::touch_plan(&mut tx, plan, now).await?;
        Self::case_event(&mut tx, ctx, access, "plan.goal", term.as_str()).await?;
        append(
            &mut tx,
            &Self::audit_entry(
                ctx,
                "case.plan_goal",
                &cs,
                format!("plan={plan} goal={ids}"),
            ),
            now,
        )
        .await?;
        tx.commit().await?;
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
        let access = self.authorize_case(ctx, Action::UpdateCase, case).await?;
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
            Some(slug) => match self.org_by_slug(slug).await {
                Ok(o) => Some(o.id),
                Err(StoreError::NotFound) => {
                    errs.push(FieldError::new(
                        "responsible_org",
                        "unknown_organisation",
                        "no organisation with this slug",
                    ));
                    None
                }
                Err(e) => return Err(e),
            },
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
        let cs = case.to_string();
        let now = millis(ctx.now);
        let mut tx = self.begin_write().await?;
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
        .execute(&mut *tx)
        .await?;
        Self::touch_plan(&mut tx, plan, now).await?;
        Self::case_event(&mut tx, ctx, &access, "plan.action", service.as_str()).await?;
        append(
            &mut tx,
            &Self::audit_entry(
                ctx,
                "case.plan_action",
                &cs,
                format!("plan={plan} action={ids}"),
            ),
            now,
        )
        .await?;
        tx.commit().await?;
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
        let access = self.authorize_case(ctx, Action::UpdateCase, case).await?;
        let s = ActionStatus::parse(status).map_err(invalid)?;
        let cs = case.to_string();
        let now = millis(ctx.now);
        let mut tx = self.begin_write().await?;
        let n = sqlx::query("UPDATE plan_actions SET status = $1, updated_at = $2 WHERE id = $3 AND plan_id IN (SELECT id FROM plans WHERE case_id = $4)")
            .bind(s.as_str())
            .bind(now)
            .bind(action.to_string())
            .bind(&cs)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if n != 1 {
            return Err(StoreError::NotFound);
        }
        Self::case_event(&mut tx, ctx, &access, "plan.progress", s.as_str()).await?;
        append(
            &mut tx,
            &Self::audit_entry(
                ctx,
                "case.plan_action_status",
                &cs,
                format!("action={action} status={}", s.as_str()),
            ),
            now,
        )
        .await?;
        tx.commit().await?;
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
    pub async fn approve_plan(&self, ctx: &Ctx<'_>, case: Uuid, plan: Uuid) -> Result<()> {
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
        let mut tx = self.begin_write().await?;
        let mut query = sqlx::query(q)
            .bind(now)
            .bind(plan.to_string())
            .bind(cs.clone());
        if let Some(x) = extra {
            query = query.bind(x);
        }
        let n = query.execute(&mut *tx).await?.rows_affected();
        if n != 1 {
            return Err(StoreError::NotFound);
        }
        Self::case_event(&mut tx, ctx, access, event, "").await?;
        append(
            &mut tx,
            &Self::audit_entry(ctx, audit, &cs, format!("plan={plan}")),
            now,
        )
        .await?;
        tx.commit().await?;
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
            out.push(Plan {
                id: uuid_of(&ids)?,
                case_id: case,
                spl_type: r.try_get("spl_type")?,
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

    // ---------- shelter ----------

    /// Registers a shelter facility of the actor's organisation (supervisor or org admin).
    pub async fn add_facility(&self, ctx: &Ctx<'_>, f: &FacilityInput) -> Result<Facility> {
        let d = decide(
            ctx.actor,
            Action::ManageDirectory,
            Resource::Organisation(ctx.actor.org_id),
        );
        if !d.allowed {
            return Err(StoreError::Forbidden(d.reason));
        }
        let mut errs = ValidationErrors::default();
        let name = f.name.trim();
        if name.is_empty() || name.chars().count() > 200 {
            errs.push(FieldError::new(
                "name",
                "invalid_value",
                "name is required (at most 200 characters)",
            ));
        }
        if !(1..=10_000).contains(&f.beds) {
            errs.push(FieldError::new(
                "beds",
                "out_of_range",
                "beds must be between 1 and 10000",
            ));
        }
        let max = f.max_stay_days.unwrap_or(STATE_SHELTER_MAX_STAY_DAYS);
        if !(1..=3650).contains(&max) {
            errs.push(FieldError::new(
                "max_stay_days",
                "out_of_range",
                "max_stay_days must be between 1 and 3650",
            ));
        }
        errs.into_result()?;
        let id = Uuid::new_v4();
        let now = millis(ctx.now);
        let mut tx = self.begin_write().await?;
        sqlx::query("INSERT INTO shelter_facilities (id, org_id, name, beds, max_stay_days, state_shelter, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)")
            .bind(id.to_string())
            .bind(ctx.actor.org_id.to_string())
            .bind(name)
            .bind(f.beds)
            .bind(max)
            .bind(i64::from(f.state_shelter))
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(|e| unique_as(e, "name"))?;
        append(
            &mut tx,
            &Self::audit_entry(ctx, "shelter.facility_add", "", format!("facility={id}")),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(Facility {
            id,
            org_id: ctx.actor.org_id,
            name: name.into(),
            beds: f.beds,
            max_stay_days: max,
            state_shelter: f.state_shelter,
            occupied: 0,
            available: f.beds,
        })
    }

    /// All facilities with occupancy (survivors plus dependants staying) and free beds.
    /// Only counts — nothing about who stays.
    pub async fn facilities(&self) -> Result<Vec<Facility>> {
        let rows = sqlx::query(
            "SELECT f.id, f.org_id, f.name, f.beds, f.max_stay_days, f.state_shelter, \
             CAST(COALESCE((SELECT SUM(1 + s.dependants) FROM shelter_stays s WHERE s.facility_id = f.id AND s.exited_on IS NULL), 0) AS BIGINT) AS occupied \
             FROM shelter_facilities f ORDER BY f.name, f.id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let beds: i64 = r.try_get("beds")?;
                let occupied: i64 = r.try_get("occupied")?;
                Ok(Facility {
                    id: uuid_of(&r.try_get::<String, _>("id")?)?,
                    org_id: uuid_of(&r.try_get::<String, _>("org_id")?)?,
                    name: r.try_get("name")?,
                    beds,
                    max_stay_days: r.try_get("max_stay_days")?,
                    state_shelter: r.try_get::<i64, _>("state_shelter")? != 0,
                    occupied,
                    available: (beds - occupied).max(0),
                })
            })
            .collect()
    }

    /// Admits the survivor of `case` (with dependants) to a facility. A state shelter needs
    /// cooperation with law enforcement (the legal section says `cooperation = Yes`); a full
    /// facility refuses; one open stay per case.
    pub async fn admit(&self, ctx: &Ctx<'_>, case: Uuid, a: &AdmissionInput) -> Result<Stay> {
        let access = self.authorize_case(ctx, Action::UpdateCase, case).await?;
        let mut errs = ValidationErrors::default();
        let admitted = parse_date("admitted_on", &a.admitted_on)
            .map_err(|e| errs.push(e))
            .ok();
        if !(0..=10_000_000).contains(&a.daily_cost_minor) {
            errs.push(FieldError::new(
                "daily_cost_minor",
                "out_of_range",
                "daily_cost_minor must not be negative",
            ));
        }
        if let Some(f) = a.funding_source_id
            && !self.funding_source_exists(ctx, f).await?
        {
            errs.push(FieldError::new(
                "funding_source_id",
                "unknown_funding_source",
                "no such funding source",
            ));
        }
        if !(0..=20).contains(&a.dependants) {
            errs.push(FieldError::new(
                "dependants",
                "out_of_range",
                "dependants must be between 0 and 20",
            ));
        }
        errs.into_result()?;
        let Some(admitted) = admitted else {
            return Err(StoreError::Data("unreachable".into()));
        };
        let fac = self
            .facilities()
            .await?
            .into_iter()
            .find(|f| f.id == a.facility_id)
            .ok_or_else(|| {
                invalid(FieldError::new(
                    "facility_id",
                    "unknown_facility",
                    "no such shelter facility",
                ))
            })?;
        let cs = case.to_string();
        if fac.state_shelter {
            let coop: Option<String> =
                sqlx::query_scalar("SELECT cooperation FROM case_legal WHERE case_id = $1")
                    .bind(&cs)
                    .fetch_optional(&self.pool)
                    .await?;
            if coop.as_deref() != Some("Yes") {
                return Err(invalid(FieldError::new(
                    "cooperation",
                    "cooperation_required",
                    "the state shelter admits survivors who cooperate with law enforcement (legal section: cooperation = Yes)",
                )));
            }
        }
        let id = Uuid::new_v4();
        let now = millis(ctx.now);
        let mut tx = self.begin_write().await?;
        let open_stays: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM shelter_stays WHERE case_id = $1 AND exited_on IS NULL",
        )
        .bind(&cs)
        .fetch_one(&mut *tx)
        .await?;
        if open_stays > 0 {
            return Err(invalid(FieldError::new(
                "case",
                "already_admitted",
                "the survivor already has an open shelter stay",
            )));
        }
        let occupied: i64 = sqlx::query_scalar("SELECT CAST(COALESCE(SUM(1 + dependants), 0) AS BIGINT) FROM shelter_stays WHERE facility_id = $1 AND exited_on IS NULL")
            .bind(fac.id.to_string())
            .fetch_one(&mut *tx)
            .await?;
        if occupied + 1 + a.dependants > fac.beds {
            return Err(invalid(FieldError::new(
                "facility_id",
                "no_beds",
                "not enough free beds in this facility",
            )));
        }
        sqlx::query("INSERT INTO shelter_stays (id, case_id, facility_id, admitted_on, dependants, created_by, created_at, daily_cost_minor, funding_source_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)")
            .bind(id.to_string())
            .bind(&cs)
            .bind(fac.id.to_string())
            .bind(fmt_date(admitted))
            .bind(a.dependants)
            .bind(ctx.actor.user_id.to_string())
            .bind(now)
            .bind(a.daily_cost_minor)
            .bind(a.funding_source_id.map(|f| f.to_string()))
            .execute(&mut *tx)
            .await?;
        Self::case_event(
            &mut tx,
            ctx,
            &access,
            "shelter.admitted",
            &format!("facility={}", fac.id),
        )
        .await?;
        append(
            &mut tx,
            &Self::audit_entry(ctx, "case.shelter_admit", &cs, format!("stay={id}")),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(Stay {
            id,
            case_id: case,
            facility_id: fac.id,
            admitted_on: fmt_date(admitted),
            dependants: a.dependants,
            exited_on: None,
            exit_destination: None,
            extensions: Vec::new(),
            length_of_stay: Some(stay_state(admitted, ctx.now.date(), fac.max_stay_days, &[])),
        })
    }

    /// Shelter stays of a case with the length-of-stay rule on `ctx.now` (needs `Section::Services`).
    pub async fn stays(&self, ctx: &Ctx<'_>, case: Uuid) -> Result<Vec<Stay>> {
        self.authorize_case(ctx, Action::ReadSection(Section::Services), case)
            .await?;
        let rows = sqlx::query(
            "SELECT s.id, s.facility_id, s.admitted_on, s.dependants, s.exited_on, s.exit_destination, f.max_stay_days \
             FROM shelter_stays s JOIN shelter_facilities f ON f.id = s.facility_id WHERE s.case_id = $1 ORDER BY s.admitted_on DESC, s.id",
        )
        .bind(case.to_string())
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::new();
        for r in &rows {
            let ids: String = r.try_get("id")?;
            let erows = sqlx::query("SELECT id, days, approved_at FROM shelter_extensions WHERE stay_id = $1 ORDER BY requested_at, id")
                .bind(&ids)
                .fetch_all(&self.pool)
                .await?;
            let mut extensions = Vec::new();
            for e in &erows {
                extensions.push(Extension {
                    id: uuid_of(&e.try_get::<String, _>("id")?)?,
                    days: e.try_get("days")?,
                    approved: e.try_get::<Option<i64>, _>("approved_at")?.is_some(),
                });
            }
            let admitted_on: String = r.try_get("admitted_on")?;
            let exited_on: Option<String> = r.try_get("exited_on")?;
            let approved: Vec<i64> = extensions
                .iter()
                .filter(|e| e.approved)
                .map(|e| e.days)
                .collect();
            let rule = match (&exited_on, parse_date("admitted_on", &admitted_on)) {
                (None, Ok(d)) => Some(stay_state(
                    d,
                    ctx.now.date(),
                    r.try_get("max_stay_days")?,
                    &approved,
                )),
                _ => None,
            };
            out.push(Stay {
                id: uuid_of(&ids)?,
                case_id: case,
                facility_id: uuid_of(&r.try_get::<String, _>("facility_id")?)?,
                admitted_on,
                dependants: r.try_get("dependants")?,
                exited_on,
                exit_destination: r.try_get("exit_destination")?,
                extensions,
                length_of_stay: rule,
            });
        }
        Ok(out)
    }

    /// The length-of-stay state of one stay on `ctx.now`; `Blocked` means the stay may not
    /// continue without an approved extension.
    pub async fn stay_check(&self, ctx: &Ctx<'_>, case: Uuid, stay: Uuid) -> Result<StayState> {
        let s = self
            .stays(ctx, case)
            .await?
            .into_iter()
            .find(|s| s.id == stay)
            .ok_or(StoreError::NotFound)?;
        s.length_of_stay
            .ok_or_else(|| invalid(FieldError::new("stay", "stay_ended", "the stay has ended")))
    }

    /// Asks for an extension of a stay (reason encrypted); it counts only once approved.
    pub async fn request_extension(
        &self,
        ctx: &Ctx<'_>,
        case: Uuid,
        stay: Uuid,
        days: i64,
        reason: &str,
    ) -> Result<Uuid> {
        let access = self.authorize_case(ctx, Action::UpdateCase, case).await?;
        let mut errs = ValidationErrors::default();
        if !(1..=365).contains(&days) {
            errs.push(FieldError::new(
                "days",
                "out_of_range",
                "days must be between 1 and 365",
            ));
        }
        let reason = reason.trim();
        if reason.is_empty() {
            errs.push(FieldError::new(
                "reason",
                "required",
                "an extension needs a reason",
            ));
        }
        text_ok(&mut errs, "reason", Some(reason));
        errs.into_result()?;
        let cs = case.to_string();
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM shelter_stays WHERE id = $1 AND case_id = $2 AND exited_on IS NULL")
            .bind(stay.to_string())
            .bind(&cs)
            .fetch_one(&self.pool)
            .await?;
        if n != 1 {
            return Err(StoreError::NotFound);
        }
        let id = Uuid::new_v4();
        let ids = id.to_string();
        let now = millis(ctx.now);
        let mut tx = self.begin_write().await?;
        let key = self.case_key(&mut tx, &access).await?;
        sqlx::query("INSERT INTO shelter_extensions (id, stay_id, days, reason, requested_by, requested_at) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(&ids)
            .bind(stay.to_string())
            .bind(days)
            .bind(seal(&key, "shelter_extensions", "reason", &ids, Some(reason))?)
            .bind(ctx.actor.user_id.to_string())
            .bind(now)
            .execute(&mut *tx)
            .await?;
        Self::case_event(
            &mut tx,
            ctx,
            &access,
            "shelter.extension",
            &format!("days={days}"),
        )
        .await?;
        append(
            &mut tx,
            &Self::audit_entry(
                ctx,
                "case.shelter_extension",
                &cs,
                format!("extension={ids}"),
            ),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// A supervisor of the owner organisation approves an extension.
    pub async fn approve_extension(
        &self,
        ctx: &Ctx<'_>,
        case: Uuid,
        extension: Uuid,
    ) -> Result<()> {
        let access = self.authorize_case(ctx, Action::Approve, case).await?;
        let cs = case.to_string();
        let now = millis(ctx.now);
        let mut tx = self.begin_write().await?;
        let n = sqlx::query(
            "UPDATE shelter_extensions SET approved_by = $1, approved_at = $2 WHERE id = $3 AND approved_at IS NULL \
             AND stay_id IN (SELECT id FROM shelter_stays WHERE case_id = $4)",
        )
        .bind(ctx.actor.user_id.to_string())
        .bind(now)
        .bind(extension.to_string())
        .bind(&cs)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n != 1 {
            return Err(StoreError::NotFound);
        }
        Self::case_event(&mut tx, ctx, &access, "shelter.extended", "").await?;
        append(
            &mut tx,
            &Self::audit_entry(
                ctx,
                "case.shelter_extension_approve",
                &cs,
                format!("extension={extension}"),
            ),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Ends a stay with the exit destination.
    pub async fn exit_stay(
        &self,
        ctx: &Ctx<'_>,
        case: Uuid,
        stay: Uuid,
        on: &str,
        destination: &str,
    ) -> Result<()> {
        let access = self.authorize_case(ctx, Action::UpdateCase, case).await?;
        let mut errs = ValidationErrors::default();
        let d = parse_date("exited_on", on).map_err(|e| errs.push(e)).ok();
        let dest = ExitDestination::parse(destination)
            .map_err(|e| errs.push(e))
            .ok();
        errs.into_result()?;
        let (Some(d), Some(dest)) = (d, dest) else {
            return Err(StoreError::Data("unreachable".into()));
        };
        let cs = case.to_string();
        let now = millis(ctx.now);
        let mut tx = self.begin_write().await?;
        let n = sqlx::query("UPDATE shelter_stays SET exited_on = $1, exit_destination = $2 WHERE id = $3 AND case_id = $4 AND exited_on IS NULL")
            .bind(fmt_date(d))
            .bind(dest.as_str())
            .bind(stay.to_string())
            .bind(&cs)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if n != 1 {
            return Err(StoreError::NotFound);
        }
        Self::case_event(&mut tx, ctx, &access, "shelter.exited", dest.as_str()).await?;
        append(
            &mut tx,
            &Self::audit_entry(ctx, "case.shelter_exit", &cs, format!("stay={stay}")),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    // ---------- allowance ----------

    /// The person key the once-per-person rule is enforced on: the case's keyed blind-index
    /// digest of name + birth date (the same person registered by two organisations has the
    /// same digest), else the case id.
    async fn person_key(&self, case: &str) -> Result<String> {
        let d: Option<String> = sqlx::query_scalar("SELECT digest FROM blind_index WHERE case_id = $1 AND kind = 'name_dob' ORDER BY digest LIMIT 1")
            .bind(case)
            .fetch_optional(&self.pool)
            .await?;
        Ok(match d {
            Some(d) => format!("name_dob:{d}"),
            None => format!("case:{case}"),
        })
    }

    /// Pays the one-time allowance (`amount_minor` in qəpik, AZN). Only for status
    /// ActualVictimOfTrafficking; once per person across all organisations — the UNIQUE
    /// index on `person_key` decides, so concurrent requests pay exactly once.
    pub async fn pay_allowance(
        &self,
        ctx: &Ctx<'_>,
        case: Uuid,
        amount_minor: i64,
    ) -> Result<Payment> {
        let access = self.authorize_case(ctx, Action::UpdateCase, case).await?;
        let cs = case.to_string();
        let s: String =
            sqlx::query_scalar("SELECT vic_trafficking_status FROM cases WHERE id = $1")
                .bind(&cs)
                .fetch_one(&self.pool)
                .await?;
        let status = TraffickingStatus::parse(&s).map_err(|e| StoreError::Data(e.message))?;
        allowance_eligibility(status).map_err(invalid)?;
        if !(1..=10_000_000).contains(&amount_minor) {
            return Err(invalid(FieldError::new(
                "amount_minor",
                "out_of_range",
                "amount must be positive",
            )));
        }
        let person = self.person_key(&cs).await?;
        let id = Uuid::new_v4();
        let now = millis(ctx.now);
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO allowance_payments (id, person_key, case_id, org_id, amount_minor, currency, status, created_by, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, 'AZN', 'Requested', $6, $7, $7)",
        )
        .bind(id.to_string())
        .bind(&person)
        .bind(&cs)
        .bind(access.facts().owner_org.to_string())
        .bind(amount_minor)
        .bind(ctx.actor.user_id.to_string())
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(|e| unique_as(e, "allowance"))?;
        Self::case_event(
            &mut tx,
            ctx,
            &access,
            "allowance.requested",
            &format!("amount_minor={amount_minor}"),
        )
        .await?;
        append(
            &mut tx,
            &Self::audit_entry(ctx, "case.allowance", &cs, format!("payment={id}")),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(Payment {
            id,
            case_id: case,
            org_id: access.facts().owner_org,
            amount_minor,
            currency: "AZN".into(),
            status: "Requested".into(),
            created_at: ts(now),
        })
    }

    /// Moves a payment to Paid or Cancelled (supervisor approval).
    pub async fn set_payment_status(
        &self,
        ctx: &Ctx<'_>,
        case: Uuid,
        payment: Uuid,
        status: &str,
    ) -> Result<()> {
        let access = self.authorize_case(ctx, Action::Approve, case).await?;
        if !PAYMENT_STATUS.contains(&status) {
            return Err(invalid(FieldError::new(
                "status",
                "invalid_value",
                "status must be Requested, Paid or Cancelled",
            )));
        }
        let cs = case.to_string();
        let now = millis(ctx.now);
        let mut tx = self.begin_write().await?;
        let n = sqlx::query("UPDATE allowance_payments SET status = $1, updated_at = $2 WHERE id = $3 AND case_id = $4")
            .bind(status)
            .bind(now)
            .bind(payment.to_string())
            .bind(&cs)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if n != 1 {
            return Err(StoreError::NotFound);
        }
        Self::case_event(&mut tx, ctx, &access, "allowance.status", status).await?;
        append(
            &mut tx,
            &Self::audit_entry(
                ctx,
                "case.allowance_status",
                &cs,
                format!("payment={payment} status={status}"),
            ),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Allowance payments of a case (needs `Section::Services`).
    pub async fn payments(&self, ctx: &Ctx<'_>, case: Uuid) -> Result<Vec<Payment>> {
        self.authorize_case(ctx, Action::ReadSection(Section::Services), case)
            .await?;
        let rows = sqlx::query("SELECT id, org_id, amount_minor, currency, status, created_at FROM allowance_payments WHERE case_id = $1 ORDER BY created_at, id")
            .bind(case.to_string())
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                Ok(Payment {
                    id: uuid_of(&r.try_get::<String, _>("id")?)?,
                    case_id: case,
                    org_id: uuid_of(&r.try_get::<String, _>("org_id")?)?,
                    amount_minor: r.try_get("amount_minor")?,
                    currency: r.try_get("currency")?,
                    status: r.try_get("status")?,
                    created_at: ts(r.try_get("created_at")?),
                })
            })
            .collect()
    }

    // ---------- services delivered ----------

    /// Whether `id` is a funding source of the acting organisation: a cost can only be charged
    /// to one's own source (another organisation's cost report must never list this case).
    async fn funding_source_exists(&self, ctx: &Ctx<'_>, id: Uuid) -> Result<bool> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM funding_sources WHERE id = $1 AND org_id = $2",
        )
        .bind(id.to_string())
        .bind(ctx.actor.org_id.to_string())
        .fetch_one(&self.pool)
        .await?;
        Ok(n == 1)
    }

    /// Records one service delivered (owner organisation). Details are sealed with the case key;
    /// for health services (Medical, PsychologicalCounselling) they are shown only to readers of
    /// the health section.
    pub async fn add_service(&self, ctx: &Ctx<'_>, case: Uuid, d: &ServiceInput) -> Result<Uuid> {
        let access = self.authorize_case(ctx, Action::UpdateCase, case).await?;
        let cs = case.to_string();
        let mut errs = ValidationErrors::default();
        let service = Service::parse_for("service", &d.service)
            .map_err(|e| errs.push(e))
            .ok();
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
            Some(slug) => match self.org_by_slug(slug).await {
                Ok(o) => Some(o.id),
                Err(StoreError::NotFound) => {
                    errs.push(FieldError::new(
                        "provider_org",
                        "unknown_organisation",
                        "no organisation with this slug",
                    ));
                    None
                }
                Err(e) => return Err(e),
            },
            None => Some(access.facts().owner_org),
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
        let mut tx = self.begin_write().await?;
        let key = self.case_key(&mut tx, &access).await?;
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
        .execute(&mut *tx)
        .await?;
        if let Some(act) = d.plan_action_id
            && d.outcome == "Completed"
        {
            sqlx::query("UPDATE plan_actions SET status = 'Done', updated_at = $1 WHERE id = $2")
                .bind(now)
                .bind(act.to_string())
                .execute(&mut *tx)
                .await?;
        }
        Self::case_event(&mut tx, ctx, &access, "service.delivered", service.as_str()).await?;
        append(
            &mut tx,
            &Self::audit_entry(ctx, "case.service", &cs, format!("service={ids}")),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Services delivered to a case (needs `Section::Services`; health details need `Section::Health`).
    pub async fn services(&self, ctx: &Ctx<'_>, case: Uuid) -> Result<Vec<ServiceRecord>> {
        let access = self
            .authorize_case(ctx, Action::ReadSection(Section::Services), case)
            .await?;
        let health = decide(
            ctx.actor,
            Action::ReadSection(Section::Health),
            Resource::Case(access.facts()),
        )
        .allowed;
        let cs = case.to_string();
        let rows = sqlx::query(
            "SELECT id, plan_action_id, service, provider_org, started_on, ended_on, outcome, details, cost_minor, funding_source_id \
             FROM services_delivered WHERE case_id = $1 ORDER BY started_on, created_at, id",
        )
        .bind(&cs)
        .fetch_all(&self.pool)
        .await?;
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let mut conn = self.pool.acquire().await?;
        let key = self.case_key(&mut conn, &access).await?;
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

    // ---------- funding ----------

    fn manage_funding(ctx: &Ctx<'_>) -> Result<()> {
        let d = decide(
            ctx.actor,
            Action::ManageDirectory,
            Resource::Organisation(ctx.actor.org_id),
        );
        if d.allowed {
            Ok(())
        } else {
            Err(StoreError::Forbidden(d.reason))
        }
    }

    /// A funding source of the actor's organisation (supervisor or org admin).
    pub async fn add_funding_source(&self, ctx: &Ctx<'_>, name: &str, kind: &str) -> Result<Uuid> {
        Self::manage_funding(ctx)?;
        let mut errs = ValidationErrors::default();
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 200 {
            errs.push(FieldError::new(
                "name",
                "invalid_value",
                "name is required (at most 200 characters)",
            ));
        }
        if !FUNDING_KINDS.contains(&kind) {
            errs.push(FieldError::new(
                "kind",
                "invalid_value",
                format!("kind must be one of {}", FUNDING_KINDS.join(", ")),
            ));
        }
        errs.into_result()?;
        let id = Uuid::new_v4();
        let now = millis(ctx.now);
        let mut tx = self.begin_write().await?;
        sqlx::query("INSERT INTO funding_sources (id, org_id, name, kind, created_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(id.to_string())
            .bind(ctx.actor.org_id.to_string())
            .bind(name)
            .bind(kind)
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(|e| unique_as(e, "name"))?;
        append(
            &mut tx,
            &Self::audit_entry(ctx, "funding.source_add", "", format!("source={id}")),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// A grant from a source of the actor's organisation.
    pub async fn add_grant(&self, ctx: &Ctx<'_>, source: Uuid, g: &GrantInput) -> Result<Uuid> {
        Self::manage_funding(ctx)?;
        let owner: Option<String> =
            sqlx::query_scalar("SELECT org_id FROM funding_sources WHERE id = $1")
                .bind(source.to_string())
                .fetch_optional(&self.pool)
                .await?;
        if owner != Some(ctx.actor.org_id.to_string()) {
            return Err(StoreError::NotFound);
        }
        let mut errs = ValidationErrors::default();
        if !(1..=1_000_000_000_000).contains(&g.amount_minor) {
            errs.push(FieldError::new(
                "amount_minor",
                "out_of_range",
                "amount_minor must be positive",
            ));
        }
        if !(g.currency.len() == 3 && g.currency.bytes().all(|b| b.is_ascii_uppercase())) {
            errs.push(FieldError::new(
                "currency",
                "invalid_value",
                "currency must be an ISO 4217 code such as AZN, USD or EUR",
            ));
        }
        let start = parse_date("period_start", &g.period_start)
            .map_err(|e| errs.push(e))
            .ok();
        let end = parse_date("period_end", &g.period_end)
            .map_err(|e| errs.push(e))
            .ok();
        if let (Some(s), Some(e)) = (start, end)
            && e < s
        {
            errs.push(FieldError::new(
                "period_end",
                "before_start",
                "period_end is before period_start",
            ));
        }
        let purpose = g.purpose.trim();
        if purpose.is_empty() || purpose.chars().count() > 500 {
            errs.push(FieldError::new(
                "purpose",
                "invalid_value",
                "purpose is required (at most 500 characters)",
            ));
        }
        errs.into_result()?;
        let (Some(start), Some(end)) = (start, end) else {
            return Err(StoreError::Data("unreachable".into()));
        };
        let id = Uuid::new_v4();
        let now = millis(ctx.now);
        let mut tx = self.begin_write().await?;
        sqlx::query("INSERT INTO grants (id, source_id, amount_minor, currency, period_start, period_end, purpose, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
            .bind(id.to_string())
            .bind(source.to_string())
            .bind(g.amount_minor)
            .bind(&g.currency)
            .bind(fmt_date(start))
            .bind(fmt_date(end))
            .bind(purpose)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        append(
            &mut tx,
            &Self::audit_entry(ctx, "funding.grant_add", "", format!("grant={id}")),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Funding sources of the actor's organisation with their grants.
    pub async fn funding_sources(&self, ctx: &Ctx<'_>) -> Result<Vec<FundingSource>> {
        Self::manage_funding(ctx)?;
        let rows = sqlx::query(
            "SELECT id, name, kind FROM funding_sources WHERE org_id = $1 ORDER BY name, id",
        )
        .bind(ctx.actor.org_id.to_string())
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::new();
        for r in &rows {
            let ids: String = r.try_get("id")?;
            let grows = sqlx::query("SELECT id, amount_minor, currency, period_start, period_end, purpose FROM grants WHERE source_id = $1 ORDER BY period_start, id")
                .bind(&ids)
                .fetch_all(&self.pool)
                .await?;
            let mut grants = Vec::new();
            for g in &grows {
                grants.push(Grant {
                    id: uuid_of(&g.try_get::<String, _>("id")?)?,
                    amount_minor: g.try_get("amount_minor")?,
                    currency: g.try_get("currency")?,
                    period_start: g.try_get("period_start")?,
                    period_end: g.try_get("period_end")?,
                    purpose: g.try_get("purpose")?,
                });
            }
            out.push(FundingSource {
                id: uuid_of(&ids)?,
                name: r.try_get("name")?,
                kind: r.try_get("kind")?,
                grants,
            });
        }
        Ok(out)
    }

    /// Costs charged to the actor's organisation's funding sources on `ctx.now`: services
    /// delivered (their cost) and shelter days (days stayed up to the exit or today, excluding
    /// the exit day, times the daily cost); per source, per survivor (case) and per service type.
    pub async fn cost_report(&self, ctx: &Ctx<'_>) -> Result<CostReport> {
        Self::manage_funding(ctx)?;
        let lines = self
            .cost_lines(Some(ctx.actor.org_id), ctx.now.date())
            .await?
            .into_iter()
            .map(|l| {
                (
                    l.source_id,
                    l.source_name,
                    l.case_id,
                    l.service,
                    l.amount_minor,
                )
            })
            .collect::<Vec<_>>();
        Ok(cost_report_of(&lines))
    }

    /// Cost lines charged to funding sources (of `org`, or of every organisation): services
    /// delivered (their cost) and shelter days (days stayed up to the exit or `today`,
    /// excluding the exit day, times the daily cost). Uncharged costs are not included.
    async fn cost_lines(&self, org: Option<Uuid>, today: Date) -> Result<Vec<CostLine>> {
        let (services_sql, stays_sql) = if org.is_some() {
            (
                "SELECT f.id, f.name, f.kind, s.case_id, s.service, s.cost_minor FROM services_delivered s \
                 JOIN funding_sources f ON f.id = s.funding_source_id WHERE f.org_id = $1",
                "SELECT f.id, f.name, f.kind, s.case_id, s.admitted_on, s.exited_on, s.daily_cost_minor FROM shelter_stays s \
                 JOIN funding_sources f ON f.id = s.funding_source_id WHERE f.org_id = $1",
            )
        } else {
            (
                "SELECT f.id, f.name, f.kind, s.case_id, s.service, s.cost_minor FROM services_delivered s \
                 JOIN funding_sources f ON f.id = s.funding_source_id",
                "SELECT f.id, f.name, f.kind, s.case_id, s.admitted_on, s.exited_on, s.daily_cost_minor FROM shelter_stays s \
                 JOIN funding_sources f ON f.id = s.funding_source_id",
            )
        };
        let org = org.map(|o| o.to_string());
        let mut q = sqlx::query(services_sql);
        if let Some(o) = &org {
            q = q.bind(o);
        }
        let mut lines = Vec::new();
        for r in &q.fetch_all(&self.pool).await? {
            lines.push(CostLine {
                source_id: uuid_of(&r.try_get::<String, _>("id")?)?,
                source_name: r.try_get("name")?,
                source_kind: r.try_get("kind")?,
                case_id: uuid_of(&r.try_get::<String, _>("case_id")?)?,
                service: r.try_get("service")?,
                amount_minor: r.try_get("cost_minor")?,
            });
        }
        let mut q = sqlx::query(stays_sql);
        if let Some(o) = &org {
            q = q.bind(o);
        }
        for r in &q.fetch_all(&self.pool).await? {
            let from = parse_date("admitted_on", &r.try_get::<String, _>("admitted_on")?)
                .map_err(|e| StoreError::Data(e.message))?;
            let to = match r.try_get::<Option<String>, _>("exited_on")? {
                Some(d) => parse_date("exited_on", &d)
                    .map_err(|e| StoreError::Data(e.message))?
                    .min(today),
                None => today,
            };
            let days = (to - from).whole_days().max(0);
            let daily: i64 = r.try_get("daily_cost_minor")?;
            lines.push(CostLine {
                source_id: uuid_of(&r.try_get::<String, _>("id")?)?,
                source_name: r.try_get("name")?,
                source_kind: r.try_get("kind")?,
                case_id: uuid_of(&r.try_get::<String, _>("case_id")?)?,
                service: Service::Shelter.as_str().into(),
                amount_minor: days * daily,
            });
        }
        Ok(lines)
    }
}

// ---------- read models of the screens (funding options, national overview) ----------

/// One cost charged to a funding source (internal to the cost reports).
struct CostLine {
    source_id: Uuid,
    source_name: String,
    source_kind: String,
    case_id: Uuid,
    service: String,
    amount_minor: i64,
}

/// A funding source as a form choice (no amounts).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FundingOption {
    pub id: Uuid,
    pub name: String,
    pub kind: String,
}

/// Funding of one kind of source across all organisations. Money is `None` when the survivor
/// count is suppressed (1–4 survivors): a small total would tell what one person received.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct KindFunding {
    pub kind: String,
    pub sources: i64,
    /// (currency, total of grants in minor units)
    pub grants: Vec<(String, i64)>,
    pub survivors: Cell,
    pub services_minor: Option<i64>,
    pub shelter_minor: Option<i64>,
    pub total_minor: Option<i64>,
}

/// Charged costs of one service type across all organisations (shelter days count as Shelter).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ServiceFunding {
    pub service: String,
    pub survivors: Cell,
    pub total_minor: Option<i64>,
}

/// The national coordinator's funding overview: aggregates only, small cells suppressed
/// (`dayaq_domain::stats::Cell`), no case ids, no organisation names.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FundingOverview {
    pub per_kind: Vec<KindFunding>,
    pub per_service: Vec<ServiceFunding>,
    pub survivors: Option<Cell>,
    pub total_minor: Option<i64>,
}

/// Money is published only with a published survivor count.
fn money_if(survivors: Cell, minor: i64) -> Option<i64> {
    match survivors {
        Cell::Count(_) => Some(minor),
        Cell::Suppressed(_) => None,
    }
}

/// Aggregates cost lines and source counts into the overview (pure; every funding kind is
/// listed, in the vocabulary's order, so that an empty kind shows as zero).
fn funding_overview_of(
    lines: &[CostLine],
    sources: &[(String, i64)],
    grants: &[(String, String, i64)],
) -> FundingOverview {
    use std::collections::{BTreeMap, BTreeSet};
    let survivors_of = |pred: &dyn Fn(&CostLine) -> bool| {
        let set: BTreeSet<Uuid> = lines
            .iter()
            .filter(|l| pred(l))
            .map(|l| l.case_id)
            .collect();
        Cell::of(set.len() as i64)
    };
    let per_kind = FUNDING_KINDS
        .iter()
        .map(|kind| {
            let of_kind = |l: &CostLine| l.source_kind == *kind;
            let survivors = survivors_of(&of_kind);
            let (mut services, mut shelter) = (0i64, 0i64);
            for l in lines.iter().filter(|l| of_kind(l)) {
                if l.service == Service::Shelter.as_str() {
                    shelter += l.amount_minor;
                } else {
                    services += l.amount_minor;
                }
            }
            KindFunding {
                kind: (*kind).to_string(),
                sources: sources
                    .iter()
                    .filter(|(k, _)| k == kind)
                    .map(|(_, n)| *n)
                    .sum(),
                grants: grants
                    .iter()
                    .filter(|(k, _, _)| k == kind)
                    .map(|(_, c, n)| (c.clone(), *n))
                    .collect(),
                survivors,
                services_minor: money_if(survivors, services),
                shelter_minor: money_if(survivors, shelter),
                total_minor: money_if(survivors, services + shelter),
            }
        })
        .collect();
    let mut by_service: BTreeMap<&str, i64> = BTreeMap::new();
    for l in lines {
        *by_service.entry(l.service.as_str()).or_default() += l.amount_minor;
    }
    let per_service = by_service
        .into_iter()
        .map(|(service, total)| {
            let survivors = survivors_of(&|l: &CostLine| l.service == service);
            ServiceFunding {
                service: service.to_string(),
                survivors,
                total_minor: money_if(survivors, total),
            }
        })
        .collect();
    let all = survivors_of(&|_| true);
    FundingOverview {
        per_kind,
        per_service,
        survivors: Some(all),
        total_minor: money_if(all, lines.iter().map(|l| l.amount_minor).sum()),
    }
}

impl Store {
    /// Funding sources of the actor's organisation as choices in forms (charging a service or
    /// shelter days): for those who work its cases and those who manage its funding.
    pub async fn funding_source_options(&self, ctx: &Ctx<'_>) -> Result<Vec<FundingOption>> {
        let org = Resource::Organisation(ctx.actor.org_id);
        let d = decide(ctx.actor, Action::ListCases, org);
        if !d.allowed && Self::manage_funding(ctx).is_err() {
            return Err(StoreError::Forbidden(d.reason));
        }
        let rows = sqlx::query(
            "SELECT id, name, kind FROM funding_sources WHERE org_id = $1 ORDER BY name, id",
        )
        .bind(ctx.actor.org_id.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(FundingOption {
                    id: uuid_of(&r.try_get::<String, _>("id")?)?,
                    name: r.try_get("name")?,
                    kind: r.try_get("kind")?,
                })
            })
            .collect()
    }

    /// The national funding overview on `ctx.now` (`ReadStatistics`: national coordinator,
    /// supervisors): per kind of source and per service type, survivors counted with small
    /// cells suppressed and money hidden where the count is.
    pub async fn funding_overview(&self, ctx: &Ctx<'_>) -> Result<FundingOverview> {
        let d = decide(ctx.actor, Action::ReadStatistics, Resource::System);
        if !d.allowed {
            return Err(StoreError::Forbidden(d.reason));
        }
        let lines = self.cost_lines(None, ctx.now.date()).await?;
        let rows = sqlx::query(
            "SELECT kind, CAST(COUNT(*) AS BIGINT) AS n FROM funding_sources GROUP BY kind ORDER BY kind",
        )
        .fetch_all(&self.pool)
        .await?;
        let sources = rows
            .iter()
            .map(|r| Ok((r.try_get("kind")?, r.try_get("n")?)))
            .collect::<Result<Vec<(String, i64)>>>()?;
        let rows = sqlx::query(
            "SELECT f.kind, g.currency, CAST(SUM(g.amount_minor) AS BIGINT) AS total FROM grants g \
             JOIN funding_sources f ON f.id = g.source_id GROUP BY f.kind, g.currency ORDER BY f.kind, g.currency",
        )
        .fetch_all(&self.pool)
        .await?;
        let grants = rows
            .iter()
            .map(|r| {
                Ok((
                    r.try_get("kind")?,
                    r.try_get("currency")?,
                    r.try_get("total")?,
                ))
            })
            .collect::<Result<Vec<(String, String, i64)>>>()?;
        Ok(funding_overview_of(&lines, &sources, &grants))
    }
}

#[cfg(test)]
mod screen_tests {
    use super::*;

    fn line(kind: &str, case: u128, service: &str, amount: i64) -> CostLine {
        CostLine {
            source_id: Uuid::from_u128(1),
            source_name: "s".into(),
            source_kind: kind.into(),
            case_id: Uuid::from_u128(case),
            service: service.into(),
            amount_minor: amount,
        }
    }

    #[test]
    fn overview_suppresses_small_cells_and_their_money() {
        // Donor: 5 survivors (published); StateBudget: 2 survivors (suppressed).
        let mut lines: Vec<CostLine> = (1..=5)
            .map(|c| line("Donor", c, "VocationalTraining", 1_000))
            .collect();
        lines.push(line("Donor", 1, "Shelter", 700));
        lines.push(line("StateBudget", 10, "Medical", 5_000));
        lines.push(line("StateBudget", 11, "Medical", 2_500));
        let o = funding_overview_of(
            &lines,
            &[("Donor".into(), 2), ("StateBudget".into(), 1)],
            &[("Donor".into(), "USD".into(), 900_000)],
        );
        let donor = o.per_kind.iter().find(|k| k.kind == "Donor").unwrap();
        assert_eq!(donor.survivors, Cell::Count(5));
        assert_eq!(
            (donor.services_minor, donor.shelter_minor, donor.total_minor),
            (Some(5_000), Some(700), Some(5_700))
        );
        assert_eq!(
            (donor.sources, donor.grants.clone()),
            (2, vec![("USD".into(), 900_000)])
        );
        let state = o.per_kind.iter().find(|k| k.kind == "StateBudget").unwrap();
        assert_eq!(state.survivors, Cell::Suppressed("<5"));
        assert_eq!((state.total_minor, state.services_minor), (None, None));
        let fund = o
            .per_kind
            .iter()
            .find(|k| k.kind == "VictimAssistanceFund")
            .unwrap();
        assert_eq!(
            (fund.survivors, fund.total_minor),
            (Cell::Count(0), Some(0))
        );
        assert_eq!(o.per_kind.len(), FUNDING_KINDS.len());
        let medical = o
            .per_service
            .iter()
            .find(|s| s.service == "Medical")
            .unwrap();
        assert_eq!(
            (medical.survivors, medical.total_minor),
            (Cell::Suppressed("<5"), None)
        );
        let training = o
            .per_service
            .iter()
            .find(|s| s.service == "VocationalTraining")
            .unwrap();
        assert_eq!(training.total_minor, Some(5_000));
        assert_eq!(
            (o.survivors, o.total_minor),
            (Some(Cell::Count(7)), Some(13_200))
        );
    }
}
