//! Long-term follow-up storage: the survivor's contact protocol (personal parts sealed with
//! the case key), the follow-up plan and its tasks, logged contacts (checked against the
//! protocol), reintegration assessments, questionnaire import and per-question summaries.
//! Rules live in `dayaq_domain::followup`.

use crate::audit::append;
use crate::crypto::field_aad;
use crate::kernel::{CaseAccess, Ctx};
use crate::{Result, Store, StoreError, from_millis, millis};
use dayaq_domain::followup::{
    self as rules, Answers, Breach, Channel, ContactRules, DEFAULT_MAX_FAILED, DEFAULT_MONTHS,
    DEFAULT_UTC_OFFSET_MIN, MAX_TEXT, QUESTIONS, RiskFlag, ScheduleSource, Trajectory, Window,
};
/// The inputs of the protocol and of an assessment, and their checks, are domain types.
pub use dayaq_domain::followup::{AssessmentInput, ProtocolInput};
use dayaq_domain::identification::follow_up_covered;
use dayaq_domain::policy::{Action, Resource, Section, decide};
use dayaq_domain::stats::Cell;
use dayaq_domain::{FieldError, ValidationErrors};
/// The questionnaire file format (reading, checking, columns).
pub use dayaq_interchange::questionnaire::{
    QuestionnaireRow, parse_questionnaire, questionnaire_columns,
};
use serde::{Deserialize, Serialize};
use sqlx::{AnyConnection, FromRow, Row};
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Date, OffsetDateTime, UtcOffset};
use uuid::Uuid;

fn ts(ms: i64) -> String {
    from_millis(ms).format(&Rfc3339).unwrap_or_default()
}
fn uuid_of(s: &str) -> Result<Uuid> {
    Uuid::parse_str(s).map_err(|e| StoreError::Data(e.to_string()))
}
fn invalid(field: &str, code: &'static str, msg: &str) -> StoreError {
    ValidationErrors::single(FieldError::new(field, code, msg)).into()
}
fn parse_date(field: &str, s: &str) -> Result<Date> {
    rules::parse_day(field, s).map_err(|e| ValidationErrors::single(e).into())
}
fn date_str(d: Date) -> String {
    d.format(format_description!("[year]-[month]-[day]"))
        .unwrap_or_default()
}
/// The local (Azerbaijan) date of `now`.
pub fn today(now: OffsetDateTime) -> Date {
    let off = UtcOffset::from_whole_seconds(DEFAULT_UTC_OFFSET_MIN * 60).unwrap_or(UtcOffset::UTC);
    now.to_offset(off).date()
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Sealed {
    safe_numbers: Vec<String>,
    never_contact: Vec<String>,
    never_places: Vec<String>,
    cover_reason: String,
    code_word: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Protocol {
    pub case_id: Uuid,
    pub channels: Vec<String>,
    pub windows: Vec<String>,
    pub utc_offset_min: i32,
    pub do_not_contact: bool,
    pub caller_user: Option<Uuid>,
    pub language: String,
    pub safe_numbers: Vec<String>,
    pub never_contact: Vec<String>,
    pub never_places: Vec<String>,
    pub cover_reason: String,
    pub code_word: String,
    pub updated_at: String,
}

impl Protocol {
    pub fn rules(&self) -> ContactRules {
        ContactRules {
            channels: self
                .channels
                .iter()
                .filter_map(|c| Channel::parse(c))
                .collect(),
            windows: self
                .windows
                .iter()
                .filter_map(|w| Window::parse(w))
                .collect(),
            utc_offset_min: self.utc_offset_min,
            do_not_contact: self.do_not_contact,
            caller: self.caller_user,
            language: self.language.clone(),
        }
    }
}

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

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LogInput {
    #[serde(default)]
    pub task_id: Option<Uuid>,
    pub channel: String,
    /// When the contact (attempt) happened, RFC 3339.
    pub at: String,
    /// Was she reached?
    pub reached: bool,
    /// Required when the contact was outside the protocol (encrypted).
    #[serde(default)]
    pub justification: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LoggedContact {
    pub id: Uuid,
    pub task_id: Option<Uuid>,
    pub channel: String,
    pub at: String,
    pub by_user: Uuid,
    pub reached: bool,
    pub outside_protocol: bool,
    pub breaches: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub justification: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = FollowupAssessment)]
pub struct Assessment {
    pub id: Uuid,
    pub round: String,
    pub assessed_on: String,
    pub answers: Answers,
    pub source: String,
    pub created_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assistance_needed_words: Option<String>,
}

/// A task on a caseworker's due list, with today's safe windows of the protocol.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DueItem {
    pub task: Task,
    pub case_number: Option<String>,
    pub do_not_contact: bool,
    pub channels: Vec<String>,
    /// Safe windows on the task's day ("09:00–12:00"), local time.
    pub safe_windows_today: Vec<String>,
}

/// One row of the per-question summary.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SummaryRow {
    pub question: String,
    pub answer: String,
    pub count: Cell,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Summary {
    pub round: Option<String>,
    pub assessments: Cell,
    /// true when the user has case access to every case counted (no suppression).
    pub exact: bool,
    pub rows: Vec<SummaryRow>,
}

fn clean(v: &[String]) -> Vec<String> {
    v.iter()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

impl Store {
    async fn followup_consent(&self, conn: &mut AnyConnection, case: &str) -> Result<bool> {
        let rows =
            sqlx::query("SELECT purpose, given, withdrawn_at FROM consents WHERE case_id = $1")
                .bind(case)
                .fetch_all(&mut *conn)
                .await?;
        let mut facts = Vec::new();
        for r in &rows {
            let purpose: String = r.try_get("purpose")?;
            if let Ok(p) = dayaq_domain::identification::ConsentPurpose::parse(&purpose) {
                facts.push(dayaq_domain::identification::ConsentFact {
                    purpose: p,
                    given: r.try_get::<i64, _>("given")? != 0,
                    recipient_org: None,
                    recipient_org_type: None,
                    withdrawn: r.try_get::<Option<i64>, _>("withdrawn_at")?.is_some(),
                });
            }
        }
        Ok(follow_up_covered(&facts))
    }

    /// Records (or replaces) the survivor's contact protocol.
    pub async fn set_protocol(
        &self,
        ctx: &Ctx<'_>,
        case: Uuid,
        input: &ProtocolInput,
    ) -> Result<Protocol> {
        let access = self.authorize_case(ctx, Action::UpdateCase, case).await?;
        let mut errs = ValidationErrors::default();
        let (channels, windows) = input.check(&mut errs);
        let caller = match input
            .caller
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            Some(name) => {
                let row = sqlx::query("SELECT id FROM users WHERE username = $1 AND org_id = $2")
                    .bind(name)
                    .bind(access.facts().owner_org.to_string())
                    .fetch_optional(&self.pool)
                    .await?;
                match row {
                    Some(r) => Some(uuid_of(&r.try_get::<String, _>("id")?)?),
                    None => {
                        errs.push(FieldError::new(
                            "caller",
                            "unknown_user",
                            "no such caseworker in the owner organisation",
                        ));
                        None
                    }
                }
            }
            None => None,
        };
        let rules = ContactRules {
            channels: channels.clone(),
            windows: windows.clone(),
            utc_offset_min: input.utc_offset_min.unwrap_or(DEFAULT_UTC_OFFSET_MIN),
            do_not_contact: input.do_not_contact,
            caller,
            language: input.language.trim().to_string(),
        };
        if let Err(e) = rules.validate() {
            errs.errors.extend(e.errors);
        }
        errs.into_result()?;
        let sealed = Sealed {
            safe_numbers: clean(&input.safe_numbers),
            never_contact: clean(&input.never_contact),
            never_places: clean(&input.never_places),
            cover_reason: input.cover_reason.trim().to_string(),
            code_word: input.code_word.trim().to_string(),
        };
        let cs = case.to_string();
        let now = millis(ctx.now);
        let mut tx = self.begin_write().await?;
        let key = self.case_key(&mut tx, &access).await?;
        let plain = serde_json::to_vec(&sealed).map_err(|e| StoreError::Data(e.to_string()))?;
        let ct = key.seal(
            &field_aad("followup_protocols", "sealed", &cs, "case"),
            &plain,
        )?;
        let ch: Vec<&str> = channels.iter().map(|c| c.as_str()).collect();
        let wi: Vec<String> = windows.iter().map(Window::encode).collect();
        sqlx::query("DELETE FROM followup_protocols WHERE case_id = $1")
            .bind(&cs)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO followup_protocols (case_id, channels, windows, utc_offset_min, do_not_contact, caller_user, language, sealed, updated_by, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(&cs)
        .bind(ch.join(","))
        .bind(wi.join(","))
        .bind(i64::from(rules.utc_offset_min))
        .bind(i64::from(rules.do_not_contact))
        .bind(caller.map(|c| c.to_string()))
        .bind(&rules.language)
        .bind(ct)
        .bind(ctx.actor.user_id.to_string())
        .bind(now)
        .execute(&mut *tx)
        .await?;
        let detail = format!("do_not_contact={}", rules.do_not_contact);
        Self::case_event(&mut tx, ctx, &access, "followup.protocol", &detail).await?;
        let mut e = ctx.entry("followup.protocol", "success", &cs);
        e.detail = detail;
        append(&mut tx, &e, now).await?;
        tx.commit().await?;
        Ok(Protocol {
            case_id: case,
            channels: ch.iter().map(|c| c.to_string()).collect(),
            windows: wi,
            utc_offset_min: rules.utc_offset_min,
            do_not_contact: rules.do_not_contact,
            caller_user: caller,
            language: rules.language,
            safe_numbers: sealed.safe_numbers,
            never_contact: sealed.never_contact,
            never_places: sealed.never_places,
            cover_reason: sealed.cover_reason,
            code_word: sealed.code_word,
            updated_at: ts(now),
        })
    }

    async fn load_protocol(
        &self,
        conn: &mut AnyConnection,
        access: &CaseAccess,
        decrypt: bool,
    ) -> Result<Option<Protocol>> {
        let cs = access.id_str();
        let Some(r) = sqlx::query(
            "SELECT channels, windows, utc_offset_min, do_not_contact, caller_user, language, sealed, updated_at \
             FROM followup_protocols WHERE case_id = $1",
        )
        .bind(cs)
        .fetch_optional(&mut *conn)
        .await?
        else {
            return Ok(None);
        };
        let sealed = match (decrypt, r.try_get::<Option<Vec<u8>>, _>("sealed")?) {
            (true, Some(ct)) => {
                let key = self.case_key(conn, access).await?;
                let plain =
                    key.open(&field_aad("followup_protocols", "sealed", cs, "case"), &ct)?;
                serde_json::from_slice(&plain).map_err(|e| StoreError::Data(e.to_string()))?
            }
            _ => Sealed::default(),
        };
        let split = |s: String| -> Vec<String> {
            s.split(',')
                .filter(|x| !x.is_empty())
                .map(str::to_string)
                .collect()
        };
        let caller: Option<String> = r.try_get("caller_user")?;
        Ok(Some(Protocol {
            case_id: uuid_of(cs)?,
            channels: split(r.try_get("channels")?),
            windows: split(r.try_get("windows")?),
            utc_offset_min: r.try_get::<i64, _>("utc_offset_min")? as i32,
            do_not_contact: r.try_get::<i64, _>("do_not_contact")? != 0,
            caller_user: caller.as_deref().map(uuid_of).transpose()?,
            language: r.try_get("language")?,
            safe_numbers: sealed.safe_numbers,
            never_contact: sealed.never_contact,
            never_places: sealed.never_places,
            cover_reason: sealed.cover_reason,
            code_word: sealed.code_word,
            updated_at: ts(r.try_get("updated_at")?),
        }))
    }

    /// The protocol with its personal parts decrypted (audited read).
    pub async fn protocol(&self, ctx: &Ctx<'_>, case: Uuid) -> Result<Option<Protocol>> {
        let access = self
            .authorize_case(ctx, Action::ReadSection(Section::FollowUp), case)
            .await?;
        let cs = case.to_string();
        let mut conn = self.pool.acquire().await?;
        let p = self.load_protocol(&mut conn, &access, true).await?;
        drop(conn);
        if p.is_some() {
            self.audit(ctx.entry("followup.protocol.read", "success", &cs), ctx.now)
                .await?;
        }
        Ok(p)
    }

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
        let mut tx = self.begin_write().await?;
        let protocol = self.load_protocol(&mut tx, &access, false).await?;
        let assignee = protocol
            .and_then(|p| p.caller_user)
            .unwrap_or(ctx.actor.user_id);
        sqlx::query("DELETE FROM followup_plans WHERE case_id = $1")
            .bind(&cs)
            .execute(&mut *tx)
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
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "UPDATE followup_tasks SET state = 'cancelled' WHERE case_id = $1 AND kind = 'scheduled' AND state = 'open'",
        )
        .bind(&cs)
        .execute(&mut *tx)
        .await?;
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
            .execute(&mut *tx)
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
        Self::case_event(&mut tx, ctx, &access, "followup.plan", &detail).await?;
        let mut e = ctx.entry("followup.plan", "success", &cs);
        e.detail = detail;
        append(&mut tx, &e, now).await?;
        tx.commit().await?;
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

    fn task_of(r: &sqlx::any::AnyRow, today: Date) -> Result<Task> {
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
        let mut tx = self.begin_write().await?;
        let assignee = self
            .load_protocol(&mut tx, &access, false)
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
        .execute(&mut *tx)
        .await?;
        Self::case_event(&mut tx, ctx, &access, "followup.request", kind).await?;
        let mut e = ctx.entry("followup.request", "success", &cs);
        e.detail = kind.to_string();
        append(&mut tx, &e, now).await?;
        tx.commit().await?;
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
        append(&mut tx, &e, now).await?;
        tx.commit().await?;
        Ok(Task {
            channel: Some(ch.as_str().into()),
            planned_at: Some(ts(millis(planned_at))),
            ..t
        })
    }

    /// Logs a contact or an attempt. Outside the protocol it needs a justification and is
    /// flagged. Failed attempts in a row reaching the plan's limit mark "lost contact"; a
    /// reached contact clears it and completes the task.
    pub async fn log_contact(
        &self,
        ctx: &Ctx<'_>,
        case: Uuid,
        input: &LogInput,
    ) -> Result<LoggedContact> {
        let access = self.authorize_case(ctx, Action::UpdateCase, case).await?;
        let ch = Channel::parse(input.channel.trim())
            .ok_or_else(|| invalid("channel", "unknown", "unknown channel"))?;
        let at = OffsetDateTime::parse(input.at.trim(), &Rfc3339)
            .map_err(|_| invalid("at", "invalid_time", "expected an RFC 3339 time"))?;
        if at > ctx.now + time::Duration::minutes(5) {
            return Err(invalid(
                "at",
                "in_future",
                "a logged contact cannot be in the future",
            ));
        }
        let justification = input
            .justification
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty());
        if justification.is_some_and(|j| j.chars().count() > MAX_TEXT) {
            return Err(invalid("justification", "too_long", "text is too long"));
        }
        let cs = case.to_string();
        let now = millis(ctx.now);
        let id = Uuid::new_v4();
        let mut tx = self.begin_write().await?;
        if let Some(t) = input.task_id {
            let n: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM followup_tasks WHERE id = $1 AND case_id = $2",
            )
            .bind(t.to_string())
            .bind(&cs)
            .fetch_one(&mut *tx)
            .await?;
            if n != 1 {
                return Err(invalid("task_id", "unknown", "no such task on this case"));
            }
        }
        let breaches: Vec<Breach> = match self.load_protocol(&mut tx, &access, false).await? {
            // Without a recorded protocol every contact is outside it.
            None => vec![Breach::ChannelNotAllowed, Breach::OutsideSafeWindow],
            Some(p) => rules::check_contact(&p.rules(), ch, at, ctx.actor.user_id)
                .err()
                .unwrap_or_default(),
        };
        let outside = !breaches.is_empty();
        if outside && justification.is_none() {
            return Err(invalid(
                "justification",
                "required",
                "a contact outside the protocol needs a reason",
            ));
        }
        let sealed = match justification {
            Some(j) => {
                let key = self.case_key(&mut tx, &access).await?;
                Some(key.seal(
                    &field_aad(
                        "followup_contacts",
                        "justification",
                        &id.to_string(),
                        "case",
                    ),
                    j.as_bytes(),
                )?)
            }
            None => None,
        };
        let codes: Vec<&str> = breaches.iter().map(|b| b.as_str()).collect();
        sqlx::query(
            "INSERT INTO followup_contacts (id, case_id, task_id, channel, at, by_user, reached, outside_protocol, breaches, justification, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(id.to_string())
        .bind(&cs)
        .bind(input.task_id.map(|t| t.to_string()))
        .bind(ch.as_str())
        .bind(millis(at))
        .bind(ctx.actor.user_id.to_string())
        .bind(i64::from(input.reached))
        .bind(i64::from(outside))
        .bind(codes.join(","))
        .bind(sealed)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        if input.reached {
            if let Some(t) = input.task_id {
                sqlx::query("UPDATE followup_tasks SET state = 'done', done_at = $1 WHERE id = $2")
                    .bind(now)
                    .bind(t.to_string())
                    .execute(&mut *tx)
                    .await?;
            }
            sqlx::query("UPDATE followup_plans SET lost_contact_at = NULL WHERE case_id = $1")
                .bind(&cs)
                .execute(&mut *tx)
                .await?;
        } else {
            let max: Option<i64> =
                sqlx::query_scalar("SELECT max_failed FROM followup_plans WHERE case_id = $1")
                    .bind(&cs)
                    .fetch_optional(&mut *tx)
                    .await?;
            let max = max.unwrap_or(i64::from(DEFAULT_MAX_FAILED)) as u32;
            let history: Vec<i64> = sqlx::query_scalar(
                "SELECT reached FROM followup_contacts WHERE case_id = $1 ORDER BY at, created_at, id",
            )
            .bind(&cs)
            .fetch_all(&mut *tx)
            .await?;
            let history: Vec<bool> = history.iter().map(|r| *r != 0).collect();
            if rules::lost_contact(&history, max) {
                let n = sqlx::query(
                    "UPDATE followup_plans SET lost_contact_at = $1 WHERE case_id = $2 AND lost_contact_at IS NULL",
                )
                .bind(now)
                .bind(&cs)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if n > 0 {
                    Self::case_event(&mut tx, ctx, &access, "followup.unreachable", "").await?;
                }
            }
        }
        let detail = format!(
            "channel={} reached={} outside_protocol={outside} breaches={}",
            ch.as_str(),
            input.reached,
            codes.join(",")
        );
        Self::case_event(&mut tx, ctx, &access, "followup.contact", &detail).await?;
        let mut e = ctx.entry("followup.contact", "success", &cs);
        e.detail = detail;
        append(&mut tx, &e, now).await?;
        tx.commit().await?;
        Ok(LoggedContact {
            id,
            task_id: input.task_id,
            channel: ch.as_str().into(),
            at: ts(millis(at)),
            by_user: ctx.actor.user_id,
            reached: input.reached,
            outside_protocol: outside,
            breaches: codes.iter().map(|c| c.to_string()).collect(),
            justification: None,
        })
    }

    /// Logged contacts, newest first, with justifications decrypted (audited read).
    pub async fn followup_contacts(&self, ctx: &Ctx<'_>, case: Uuid) -> Result<Vec<LoggedContact>> {
        let access = self
            .authorize_case(ctx, Action::ReadSection(Section::FollowUp), case)
            .await?;
        let cs = case.to_string();
        let mut conn = self.pool.acquire().await?;
        let rows = sqlx::query(
            "SELECT id, task_id, channel, at, by_user, reached, outside_protocol, breaches, justification \
             FROM followup_contacts WHERE case_id = $1 ORDER BY at DESC, id",
        )
        .bind(&cs)
        .fetch_all(&mut *conn)
        .await?;
        let mut out = Vec::new();
        let mut key = None;
        for r in &rows {
            let id: String = r.try_get("id")?;
            let task: Option<String> = r.try_get("task_id")?;
            let breaches: String = r.try_get("breaches")?;
            let justification = match r.try_get::<Option<Vec<u8>>, _>("justification")? {
                Some(ct) => {
                    if key.is_none() {
                        key = Some(self.case_key(&mut conn, &access).await?);
                    }
                    match &key {
                        Some(k) => {
                            let p = k.open(
                                &field_aad("followup_contacts", "justification", &id, "case"),
                                &ct,
                            )?;
                            Some(String::from_utf8_lossy(&p).into_owned())
                        }
                        None => None,
                    }
                }
                None => None,
            };
            out.push(LoggedContact {
                id: uuid_of(&id)?,
                task_id: task.as_deref().map(uuid_of).transpose()?,
                channel: r.try_get("channel")?,
                at: ts(r.try_get("at")?),
                by_user: uuid_of(&r.try_get::<String, _>("by_user")?)?,
                reached: r.try_get::<i64, _>("reached")? != 0,
                outside_protocol: r.try_get::<i64, _>("outside_protocol")? != 0,
                breaches: breaches
                    .split(',')
                    .filter(|b| Breach::parse(b).is_some())
                    .map(str::to_string)
                    .collect(),
                justification,
            });
        }
        drop(conn);
        if !out.is_empty() {
            self.audit(ctx.entry("followup.contacts.read", "success", &cs), ctx.now)
                .await?;
        }
        Ok(out)
    }

    /// The acting caseworker's open follow-ups due today or overdue, with today's safe windows.
    pub async fn followups_due(&self, ctx: &Ctx<'_>) -> Result<Vec<DueItem>> {
        let t = today(ctx.now);
        let rows = sqlx::query(
            "SELECT id, case_id, kind, request, due_on, assignee, channel, planned_at, state FROM followup_tasks WHERE assignee = $1 AND state = 'open' AND due_on <= $2 ORDER BY due_on, id",
        )
        .bind(ctx.actor.user_id.to_string())
        .bind(date_str(t))
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::new();
        for r in &rows {
            let task = Self::task_of(r, t)?;
            let Some(access) = self
                .access_if_allowed(ctx, Action::ReadSection(Section::FollowUp), task.case_id)
                .await?
            else {
                continue;
            };
            let cs = task.case_id.to_string();
            let number: Option<String> =
                sqlx::query_scalar("SELECT case_number FROM cases WHERE id = $1")
                    .bind(&cs)
                    .fetch_optional(&self.pool)
                    .await?
                    .flatten();
            let mut conn = self.pool.acquire().await?;
            let p = self.load_protocol(&mut conn, &access, false).await?;
            drop(conn);
            let (dnc, channels, windows) = match p {
                Some(p) => {
                    let rules = p.rules();
                    let w = rules
                        .windows_on(ctx.now)
                        .iter()
                        .map(Window::hours)
                        .collect();
                    (p.do_not_contact, p.channels, w)
                }
                None => (false, vec![], vec![]),
            };
            out.push(DueItem {
                task,
                case_number: number,
                do_not_contact: dnc,
                channels,
                safe_windows_today: windows,
            });
        }
        Ok(out)
    }

    /// Records a reintegration assessment.
    pub async fn add_reintegration_assessment(
        &self,
        ctx: &Ctx<'_>,
        case: Uuid,
        input: &AssessmentInput,
    ) -> Result<Assessment> {
        let access = self.authorize_case(ctx, Action::UpdateCase, case).await?;
        let on = input.validate()?;
        let now = millis(ctx.now);
        let id = Uuid::new_v4();
        let mut tx = self.begin_write().await?;
        self.insert_assessment(&mut tx, ctx, &access, id, input, on, "form")
            .await?;
        tx.commit().await?;
        Ok(Assessment {
            id,
            round: input.round.trim().into(),
            assessed_on: date_str(on),
            answers: input.answers.clone(),
            source: "form".into(),
            created_at: ts(now),
            assistance_needed_words: None,
        })
    }

    #[allow(clippy::too_many_arguments)]
    async fn insert_assessment(
        &self,
        conn: &mut AnyConnection,
        ctx: &Ctx<'_>,
        access: &CaseAccess,
        id: Uuid,
        input: &AssessmentInput,
        on: Date,
        source: &str,
    ) -> Result<()> {
        let cs = access.id_str();
        let now = millis(ctx.now);
        let words = match input
            .assistance_needed_words
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            Some(w) => {
                let key = self.case_key(conn, access).await?;
                Some(key.seal(
                    &field_aad("followup_assessments", "words", &id.to_string(), "case"),
                    w.as_bytes(),
                )?)
            }
            None => None,
        };
        let answers =
            serde_json::to_string(&input.answers).map_err(|e| StoreError::Data(e.to_string()))?;
        sqlx::query(
            "INSERT INTO followup_assessments (id, case_id, round, assessed_on, answers, words, source, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(id.to_string())
        .bind(cs)
        .bind(input.round.trim())
        .bind(date_str(on))
        .bind(answers)
        .bind(words)
        .bind(source)
        .bind(ctx.actor.user_id.to_string())
        .bind(now)
        .execute(&mut *conn)
        .await?;
        let flags: Vec<&str> = rules::risk_flags(&input.answers)
            .iter()
            .map(|f| f.code)
            .collect();
        let detail = format!("round={} flags={}", input.round.trim(), flags.join(","));
        Self::case_event(conn, ctx, access, "followup.assessment", &detail).await?;
        let mut e = ctx.entry("followup.assessment", "success", cs);
        e.detail = detail;
        append(conn, &e, now).await?;
        Ok(())
    }

    /// Assessments of a case, oldest first, with her words decrypted (audited read).
    pub async fn reintegration_assessments(
        &self,
        ctx: &Ctx<'_>,
        case: Uuid,
    ) -> Result<Vec<Assessment>> {
        let access = self
            .authorize_case(ctx, Action::ReadSection(Section::FollowUp), case)
            .await?;
        let cs = case.to_string();
        let mut conn = self.pool.acquire().await?;
        let rows = sqlx::query(
            "SELECT id, round, assessed_on, answers, words, source, created_at FROM followup_assessments \
             WHERE case_id = $1 ORDER BY assessed_on, created_at, id",
        )
        .bind(&cs)
        .fetch_all(&mut *conn)
        .await?;
        let mut out = Vec::new();
        for r in &rows {
            let id: String = r.try_get("id")?;
            let answers: String = r.try_get("answers")?;
            let words = match r.try_get::<Option<Vec<u8>>, _>("words")? {
                Some(ct) => {
                    let key = self.case_key(&mut conn, &access).await?;
                    let p = key.open(
                        &field_aad("followup_assessments", "words", &id, "case"),
                        &ct,
                    )?;
                    Some(String::from_utf8_lossy(&p).into_owned())
                }
                None => None,
            };
            out.push(Assessment {
                id: uuid_of(&id)?,
                round: r.try_get("round")?,
                assessed_on: r.try_get("assessed_on")?,
                answers: serde_json::from_str(&answers)
                    .map_err(|e| StoreError::Data(e.to_string()))?,
                source: r.try_get("source")?,
                created_at: ts(r.try_get("created_at")?),
                assistance_needed_words: words,
            });
        }
        drop(conn);
        if !out.is_empty() {
            self.audit(
                ctx.entry("followup.assessments.read", "success", &cs),
                ctx.now,
            )
            .await?;
        }
        Ok(out)
    }

    /// Trajectory per question over the case's assessments, and the risk flags of the latest.
    pub async fn reintegration(
        &self,
        ctx: &Ctx<'_>,
        case: Uuid,
    ) -> Result<(Vec<Trajectory>, Vec<RiskFlag>)> {
        let all = self.reintegration_assessments(ctx, case).await?;
        let history: Vec<Answers> = all.into_iter().map(|a| a.answers).collect();
        let flags = history.last().map(rules::risk_flags).unwrap_or_default();
        Ok((rules::trajectories(&history), flags))
    }

    /// Imports a survey round (CSV or XLSX; columns `case_number`, `round`, `assessed_on`,
    /// then question keys; multi-choice answers separated by `;`). All rows or none.
    pub async fn import_questionnaire(
        &self,
        ctx: &Ctx<'_>,
        bytes: &[u8],
        xlsx: bool,
    ) -> Result<usize> {
        let rows = parse_questionnaire(bytes, xlsx)?;
        let mut errs = ValidationErrors::default();
        let org = ctx.actor.org_id.to_string();
        let mut prepared = Vec::new();
        for r in rows {
            let case: Option<String> = sqlx::query_scalar(
                "SELECT id FROM cases WHERE case_number = $1 AND owner_org_id = $2 AND erased_at IS NULL",
            )
            .bind(&r.case_number)
            .bind(&org)
            .fetch_optional(&self.pool)
            .await?;
            let Some(case) = case else {
                errs.push(FieldError::new(
                    format!("row {}.case_number", r.row),
                    "unknown_case",
                    "no such case in your organisation",
                ));
                continue;
            };
            for e in r.errors {
                errs.push(e);
            }
            if let Some(on) = r.assessed_on {
                prepared.push((uuid_of(&case)?, r.input, on));
            }
        }
        errs.into_result()?;
        let mut checked = Vec::with_capacity(prepared.len());
        for (case, _, _) in &prepared {
            checked.push(self.authorize_case(ctx, Action::UpdateCase, *case).await?);
        }
        let mut tx = self.begin_write().await?;
        for ((_, input, on), access) in prepared.iter().zip(&checked) {
            self.insert_assessment(&mut tx, ctx, access, Uuid::new_v4(), input, *on, "import")
                .await?;
        }
        tx.commit().await?;
        Ok(prepared.len())
    }

    /// Counts per question and answer over a round (or all rounds). Exact when the user has
    /// follow-up access to every counted case; otherwise cells below 5 are suppressed and the
    /// user needs statistics access.
    pub async fn questionnaire_summary(
        &self,
        ctx: &Ctx<'_>,
        round: Option<&str>,
    ) -> Result<Summary> {
        let rows = match round {
            Some(r) => {
                sqlx::query("SELECT case_id, answers FROM followup_assessments WHERE round = $1")
                    .bind(r)
                    .fetch_all(&self.pool)
                    .await?
            }
            None => {
                sqlx::query("SELECT case_id, answers FROM followup_assessments")
                    .fetch_all(&self.pool)
                    .await?
            }
        };
        let mut all = Vec::new();
        let mut exact = true;
        let mut checked = std::collections::BTreeMap::new();
        for r in &rows {
            let case: String = r.try_get("case_id")?;
            let ok = match checked.get(&case) {
                Some(ok) => *ok,
                None => {
                    let ok = self
                        .access_if_allowed(
                            ctx,
                            Action::ReadSection(Section::FollowUp),
                            uuid_of(&case)?,
                        )
                        .await?
                        .is_some();
                    checked.insert(case.clone(), ok);
                    ok
                }
            };
            exact &= ok;
            let a: String = r.try_get("answers")?;
            all.push(
                serde_json::from_str::<Answers>(&a).map_err(|e| StoreError::Data(e.to_string()))?,
            );
        }
        if !exact {
            let d = decide(ctx.actor, Action::ReadStatistics, Resource::System);
            if !d.allowed {
                return Err(StoreError::Forbidden(d.reason));
            }
        }
        let cell = |n: i64| if exact { Cell::Count(n) } else { Cell::of(n) };
        let mut e = ctx.entry("followup.summary", "success", "");
        e.detail = format!("round={} exact={exact}", round.unwrap_or("*"));
        self.audit(e, ctx.now).await?;
        Ok(Summary {
            round: round.map(str::to_string),
            assessments: cell(all.len() as i64),
            exact,
            rows: rules::summarise(&all)
                .into_iter()
                .map(|(q, a, n)| SummaryRow {
                    question: q.into(),
                    answer: a.into(),
                    count: cell(n),
                })
                .collect(),
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Organisation default schedule, questionnaire export, goals from risk flags
// ---------------------------------------------------------------------------------------------

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

/// Individual questionnaire answers, one row per assessment, in the import's column mapping.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct QuestionnaireTable {
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

/// The table as CSV (UTF-8, comma, CRLF, header row), formula-guarded.
pub fn questionnaire_csv(t: &QuestionnaireTable) -> Result<Vec<u8>> {
    Ok(dayaq_interchange::questionnaire::table_csv(
        &t.header, &t.rows,
    )?)
}

/// The table as an XLSX workbook (one sheet "questionnaire", every cell a string).
pub fn questionnaire_xlsx(t: &QuestionnaireTable) -> Result<Vec<u8>> {
    Ok(dayaq_interchange::questionnaire::table_xlsx(
        "questionnaire",
        &t.header,
        &t.rows,
    )?)
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
        let org = match self.org_by_slug(slug).await {
            Ok(o) => o,
            Err(StoreError::NotFound) => {
                return Err(invalid(
                    "slug",
                    "unknown_organisation",
                    "no organisation with this slug",
                ));
            }
            Err(e) => return Err(e),
        };
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
        append(&mut tx, &entry, at).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Individual questionnaire answers of every case whose follow-up section the actor may
    /// read (one round, or all), in the import's column mapping. Needs `Action::ExportCases`.
    /// Her own words (the free-text column) are decrypted only with `free_text`, which needs
    /// `Action::ExportIdentities` too (the caller also checks the second factor, as for an
    /// identity export); otherwise that column is empty. Audited once (`followup.export`: counts,
    /// and with free text the case ids) before it is returned. Rows by case number, then date.
    pub async fn export_questionnaire(
        &self,
        ctx: &Ctx<'_>,
        round: Option<&str>,
        free_text: bool,
    ) -> Result<QuestionnaireTable> {
        self.authorize_export(ctx)?;
        if free_text && !self.may_export_identities(ctx) {
            return Err(StoreError::Forbidden("free_text_export_needs_case_manager"));
        }
        let cases: Vec<String> = match round {
            Some(r) => {
                sqlx::query_scalar(
                    "SELECT DISTINCT case_id FROM followup_assessments WHERE round = $1",
                )
                .bind(r)
                .fetch_all(&self.pool)
                .await?
            }
            None => {
                sqlx::query_scalar("SELECT DISTINCT case_id FROM followup_assessments")
                    .fetch_all(&self.pool)
                    .await?
            }
        };
        let mut allowed = Vec::new();
        for c in cases {
            if let Some(access) = self
                .access_if_allowed(ctx, Action::ReadSection(Section::FollowUp), uuid_of(&c)?)
                .await?
            {
                allowed.push(access);
            }
        }
        let header: Vec<String> = questionnaire_columns()
            .into_iter()
            .map(str::to_string)
            .collect();
        let mut keyed = Vec::new();
        let mut conn = self.pool.acquire().await?;
        for access in &allowed {
            let cs = access.id_str();
            let number: Option<String> = sqlx::query_scalar(
                "SELECT case_number FROM cases WHERE id = $1 AND erased_at IS NULL",
            )
            .bind(cs)
            .fetch_optional(&mut *conn)
            .await?
            .flatten();
            let Some(number) = number else { continue };
            let rows = sqlx::query(
                "SELECT id, round, assessed_on, answers, words, created_at FROM followup_assessments \
                 WHERE case_id = $1 AND ($2 = '' OR round = $2) ORDER BY assessed_on, created_at, id",
            )
            .bind(cs)
            .bind(round.unwrap_or(""))
            .fetch_all(&mut *conn)
            .await?;
            let mut key = None;
            for r in &rows {
                let id: String = r.try_get("id")?;
                let answers: Answers = serde_json::from_str(&r.try_get::<String, _>("answers")?)
                    .map_err(|e| StoreError::Data(e.to_string()))?;
                let words = match r.try_get::<Option<Vec<u8>>, _>("words")? {
                    Some(ct) if free_text => {
                        if key.is_none() {
                            key = Some(self.case_key(&mut conn, access).await?);
                        }
                        match &key {
                            Some(k) => {
                                let p = k.open(
                                    &field_aad("followup_assessments", "words", &id, "case"),
                                    &ct,
                                )?;
                                String::from_utf8_lossy(&p).into_owned()
                            }
                            None => String::new(),
                        }
                    }
                    _ => String::new(),
                };
                let mut row = vec![
                    number.clone(),
                    r.try_get("round")?,
                    r.try_get("assessed_on")?,
                ];
                for q in QUESTIONS {
                    row.push(answers.get(q.key).map(|v| v.join(";")).unwrap_or_default());
                }
                row.push(words);
                let order: (String, i64, String) = (
                    number.clone(),
                    r.try_get::<i64, _>("created_at")?,
                    id.clone(),
                );
                keyed.push((order, row));
            }
        }
        drop(conn);
        keyed.sort_by(|a, b| {
            (&a.0.0, &a.1[2], a.0.1, &a.0.2).cmp(&(&b.0.0, &b.1[2], b.0.1, &b.0.2))
        });
        let rows: Vec<Vec<String>> = keyed.into_iter().map(|(_, r)| r).collect();
        let mut e = ctx.entry("followup.export", "success", "");
        e.detail = format!(
            "round={} rows={} cases={} free_text={}",
            round.unwrap_or("*"),
            rows.len(),
            allowed.len(),
            if free_text { "include" } else { "none" }
        );
        if free_text {
            e.detail.push_str(&format!(
                " case_ids={}",
                allowed
                    .iter()
                    .map(CaseAccess::id_str)
                    .collect::<Vec<_>>()
                    .join(",")
            ));
        }
        self.audit(e, ctx.now).await?;
        Ok(QuestionnaireTable { header, rows })
    }

    /// Turns a risk flag of the latest assessment into a long-term goal of the case's open
    /// assistance plan (domain from the flag; description given, or the flag's codes).
    pub async fn goal_from_flag(
        &self,
        ctx: &Ctx<'_>,
        case: Uuid,
        code: &str,
        description: Option<&str>,
    ) -> Result<Uuid> {
        let access = self.authorize_case(ctx, Action::UpdateCase, case).await?;
        if !rules::is_flag_code(code) {
            return Err(invalid("risk_flag", "unknown", "not a risk flag"));
        }
        let latest: Option<String> = sqlx::query_scalar(
            "SELECT answers FROM followup_assessments WHERE case_id = $1 \
             ORDER BY assessed_on DESC, created_at DESC, id DESC LIMIT 1",
        )
        .bind(case.to_string())
        .fetch_optional(&self.pool)
        .await?;
        let answers: Answers = match latest {
            Some(a) => serde_json::from_str(&a).map_err(|e| StoreError::Data(e.to_string()))?,
            None => Answers::new(),
        };
        let Some(flag) = rules::risk_flags(&answers)
            .into_iter()
            .find(|f| f.code == code)
        else {
            return Err(invalid(
                "risk_flag",
                "not_raised",
                "the latest assessment does not raise this flag",
            ));
        };
        self.require(ctx, &access, Action::ReadSection(Section::Plan))
            .await?;
        let plan = self
            .plans_of(ctx, &access)
            .await?
            .into_iter()
            .find(|p| p.actual_end.is_none())
            .ok_or_else(|| {
                invalid(
                    "assistance_plan",
                    "no_open_plan",
                    "create an assistance plan for the case first",
                )
            })?;
        let text = match description.map(str::trim).filter(|d| !d.is_empty()) {
            Some(d) => d.to_string(),
            None => format!(
                "{}: {} → {}",
                flag.code,
                flag.reasons
                    .iter()
                    .map(|(q, a)| format!("{q}={a}"))
                    .collect::<Vec<_>>()
                    .join(", "),
                flag.suggested_action
            ),
        };
        self.add_goal_checked(
            ctx,
            &access,
            plan.id,
            &crate::assistance::GoalInput {
                term: "LongTerm".into(),
                domain: Some(flag.plan_domain.into()),
                description: text,
            },
        )
        .await
    }
}

/// The summary as CSV (`question,answer,count`, CRLF), formula-guarded.
pub fn summary_csv(s: &Summary) -> Result<String> {
    Ok(dayaq_interchange::questionnaire::summary_csv(
        s.rows
            .iter()
            .map(|r| (r.question.as_str(), r.answer.as_str(), r.count.to_string())),
    )?)
}
