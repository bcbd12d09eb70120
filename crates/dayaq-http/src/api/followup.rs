//! Long-term follow-up API: the survivor's contact protocol, the follow-up plan and tasks,
//! protocol-checked scheduling and contact log, reintegration assessments with trajectory and
//! risk flags, the caseworker's due list, and the per-question questionnaire summary.

use super::common::{
    ApiJson, Body, ErrorBody, OnPath, UpdateCase, case_body, created, path_id, typed,
};
use crate::AppState;
use crate::auth::Authed;
use crate::error::AppError;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use dayaq_domain::followup::{RiskFlag, Trajectory};
use dayaq_domain::policy::Action;
use dayaq_domain::{FieldError, ValidationErrors};
use dayaq_storage::followup::{
    Assessment as FollowupAssessment, DueItem, LoggedContact, OrgSchedule, Plan as FollowupPlan,
    Protocol, Summary, Task,
};
use dayaq_storage::followup::{AssessmentInput, LogInput, PlanInput, ProtocolInput};
use serde::Deserialize;
use serde::Serialize;
use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Routes under /api/v1 (register each with `routes!` so OpenAPI lists it).
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_protocol, put_protocol))
        .routes(routes!(get_plan, put_plan))
        .routes(routes!(list_tasks))
        .routes(routes!(schedule_task))
        .routes(routes!(request_help))
        .routes(routes!(list_contacts, log_contact))
        .routes(routes!(list_assessments, add_assessment))
        .routes(routes!(reintegration))
        .routes(routes!(due))
        .routes(routes!(summary))
        .routes(routes!(get_org_schedule, put_org_schedule))
        .routes(routes!(export_questionnaire))
        .routes(routes!(flag_goal))
}

#[utoipa::path(get, path = "/cases/{id}/followup/protocol", tag = "followup",
    params(("id" = String, Path, description = "Case id (UUID)")),
    responses((status = 200, description = "The survivor's contact protocol, personal parts decrypted (audited); null when none", body = Option<Protocol>)))]
async fn get_protocol(
    State(state): State<AppState>,
    r: OnPath,
) -> Result<Json<Option<Protocol>>, AppError> {
    let ([id], ctx) = (r.ids, r.cx());
    Ok(Json(state.store.protocol(&ctx, id).await?))
}

#[utoipa::path(put, path = "/cases/{id}/followup/protocol", tag = "followup",
    params(("id" = String, Path, description = "Case id (UUID)")),
    request_body(content = ProtocolInput, description = "{channels: [phone|sms|messenger|email|visit], windows: [\"1@09:00-12:00\"], utc_offset_min, do_not_contact, caller (username), language, safe_numbers, never_contact, never_places, cover_reason, code_word}"),
    responses((status = 200, body = Protocol)))]
async fn put_protocol(
    State(state): State<AppState>,
    r: Body<ProtocolInput>,
) -> Result<Json<Protocol>, AppError> {
    let ([id], ctx, input) = (r.ids, r.auth.cx(), r.body);
    Ok(Json(state.store.set_protocol(&ctx, id, &input).await?))
}

#[utoipa::path(get, path = "/cases/{id}/followup/plan", tag = "followup",
    params(("id" = String, Path, description = "Case id (UUID)")),
    responses((status = 200, description = "The follow-up plan (null when none) with lost-contact state", body = Option<FollowupPlan>)))]
async fn get_plan(
    State(state): State<AppState>,
    r: OnPath,
) -> Result<Json<Option<FollowupPlan>>, AppError> {
    let ([id], ctx) = (r.ids, r.cx());
    Ok(Json(state.store.plan(&ctx, id).await?))
}

#[utoipa::path(put, path = "/cases/{id}/followup/plan", tag = "followup",
    params(("id" = String, Path, description = "Case id (UUID)")),
    request_body(content = PlanInput, description = "{assistance_end: YYYY-MM-DD, months: [1,3,6,12,18,24], max_failed: 3}; (re)creates the scheduled tasks"),
    responses((status = 200, body = FollowupPlan)))]
async fn put_plan(
    State(state): State<AppState>,
    r: Body<PlanInput>,
) -> Result<Json<FollowupPlan>, AppError> {
    let ([id], ctx, input) = (r.ids, r.auth.cx(), r.body);
    Ok(Json(state.store.set_plan(&ctx, id, &input).await?))
}

#[utoipa::path(get, path = "/cases/{id}/followup/tasks", tag = "followup",
    params(("id" = String, Path, description = "Case id (UUID)")),
    responses((status = 200, description = "Follow-up tasks with status (upcoming, due, overdue, done)", body = Vec<Task>)))]
async fn list_tasks(State(state): State<AppState>, r: OnPath) -> Result<Json<Vec<Task>>, AppError> {
    let ([id], ctx) = (r.ids, r.cx());
    Ok(Json(state.store.followup_tasks(&ctx, id).await?))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScheduleInput {
    pub channel: String,
    /// RFC 3339 time.
    pub planned_at: String,
}

#[utoipa::path(post, path = "/cases/{id}/followup/tasks/{task}/schedule", tag = "followup",
    params(("id" = String, Path, description = "Case id (UUID)"), ("task" = String, Path, description = "Task id (UUID)")),
    request_body(content = ScheduleInput, description = "{channel, planned_at (RFC 3339)}"),
    responses((status = 200, body = Task),
              (status = 422, description = "Outside the survivor's protocol (codes: do_not_contact, channel_not_allowed, outside_safe_window, caller_not_named), no protocol, or no follow-up consent", body = ErrorBody)))]
async fn schedule_task(
    State(state): State<AppState>,
    r: Body<ScheduleInput, UpdateCase, 2>,
) -> Result<Json<Task>, AppError> {
    let ([id, task], ctx, input) = (r.ids, r.auth.cx(), r.body);
    let when = OffsetDateTime::parse(input.planned_at.trim(), &Rfc3339).map_err(|_| {
        AppError::Invalid(ValidationErrors::single(FieldError::new(
            "planned_at",
            "invalid_time",
            "expected an RFC 3339 time",
        )))
    })?;
    Ok(Json(
        state
            .store
            .schedule_contact(&ctx, id, task, input.channel.trim(), when)
            .await?,
    ))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RequestInput {
    /// job_counselling, psychological_support, legal_help, housing, medical,
    /// safe_migration_advice, other_help.
    pub request: String,
}

#[utoipa::path(post, path = "/cases/{id}/followup/requests", tag = "followup",
    params(("id" = String, Path, description = "Case id (UUID)")),
    request_body(content = RequestInput, description = "{request}: the survivor asks for help; a task due today"),
    responses((status = 201, body = Task)))]
async fn request_help(
    State(state): State<AppState>,
    r: Body<RequestInput>,
) -> Result<Response, AppError> {
    let ([id], ctx, input) = (r.ids, r.auth.cx(), r.body);
    let t = state
        .store
        .request_followup(&ctx, id, input.request.trim())
        .await?;
    Ok(created(t))
}

#[utoipa::path(get, path = "/cases/{id}/followup/contacts", tag = "followup",
    params(("id" = String, Path, description = "Case id (UUID)")),
    responses((status = 200, description = "Logged contacts with protocol flags and justifications (audited)", body = Vec<LoggedContact>)))]
async fn list_contacts(
    State(state): State<AppState>,
    r: OnPath,
) -> Result<Json<Vec<LoggedContact>>, AppError> {
    let ([id], ctx) = (r.ids, r.cx());
    Ok(Json(state.store.followup_contacts(&ctx, id).await?))
}

#[utoipa::path(post, path = "/cases/{id}/followup/contacts", tag = "followup",
    params(("id" = String, Path, description = "Case id (UUID)")),
    request_body(content = LogInput, description = "{task_id, channel, at (RFC 3339), reached, justification (required outside the protocol)}"),
    responses((status = 201, body = LoggedContact)))]
async fn log_contact(
    State(state): State<AppState>,
    r: Body<LogInput>,
) -> Result<Response, AppError> {
    let ([id], ctx, input) = (r.ids, r.auth.cx(), r.body);
    let c = state.store.log_contact(&ctx, id, &input).await?;
    Ok(created(c))
}

#[utoipa::path(get, path = "/cases/{id}/followup/assessments", tag = "followup",
    params(("id" = String, Path, description = "Case id (UUID)")),
    responses((status = 200, description = "Reintegration assessments, oldest first (audited)", body = Vec<FollowupAssessment>)))]
async fn list_assessments(
    State(state): State<AppState>,
    r: OnPath,
) -> Result<Json<Vec<FollowupAssessment>>, AppError> {
    let ([id], ctx) = (r.ids, r.cx());
    Ok(Json(state.store.reintegration_assessments(&ctx, id).await?))
}

#[utoipa::path(post, path = "/cases/{id}/followup/assessments", tag = "followup",
    params(("id" = String, Path, description = "Case id (UUID)")),
    request_body(content = AssessmentInput, description = "{round, assessed_on, answers: {question_key: [answer codes]}, assistance_needed_words}"),
    responses((status = 201, body = FollowupAssessment)))]
async fn add_assessment(
    State(state): State<AppState>,
    r: Body<AssessmentInput>,
) -> Result<Response, AppError> {
    let ([id], ctx, input) = (r.ids, r.auth.cx(), r.body);
    let r = state
        .store
        .add_reintegration_assessment(&ctx, id, &input)
        .await?;
    Ok(created(r))
}

#[utoipa::path(get, path = "/cases/{id}/followup/reintegration", tag = "followup",
    params(("id" = String, Path, description = "Case id (UUID)")),
    responses((status = 200, description = "{trajectories: per question, risk_flags: from the latest assessment with reasons}", body = Reintegration)))]
async fn reintegration(
    State(state): State<AppState>,
    r: OnPath,
) -> Result<Json<Reintegration>, AppError> {
    let ([id], ctx) = (r.ids, r.cx());
    let (t, f) = state.store.reintegration(&ctx, id).await?;
    Ok(Json(Reintegration {
        trajectories: t,
        risk_flags: f,
    }))
}

#[utoipa::path(get, path = "/followups/due", tag = "followup",
    responses((status = 200, description = "The caller's follow-ups due today or overdue, with today's safe windows", body = Vec<DueItem>)))]
async fn due(State(state): State<AppState>, a: Authed) -> Result<Json<Vec<DueItem>>, AppError> {
    let ctx = a.cx();
    Ok(Json(state.store.followups_due(&ctx).await?))
}

#[derive(Debug, Deserialize)]
pub struct SummaryQuery {
    #[serde(default)]
    pub round: Option<String>,
}

#[utoipa::path(get, path = "/followups/questionnaire/summary", tag = "followup",
    params(("round" = Option<String>, Query, description = "Survey round (all rounds when absent)")),
    responses((status = 200, description = "Counts per question and answer; cells below 5 suppressed unless the caller has access to every counted case", body = Summary)))]
async fn summary(
    State(state): State<AppState>,
    a: Authed,
    Query(q): Query<SummaryQuery>,
) -> Result<Json<Summary>, AppError> {
    let ctx = a.cx();
    let round = q.round.as_deref().map(str::trim).filter(|r| !r.is_empty());
    Ok(Json(state.store.questionnaire_summary(&ctx, round).await?))
}

#[utoipa::path(get, path = "/followups/org-schedule", tag = "followup",
    responses((status = 200, description = "{org_id, months, source: organisation|default, updated_at}: the months new follow-up plans of the caller's organisation use unless the case sets its own", body = OrgSchedule)))]
async fn get_org_schedule(
    State(state): State<AppState>,
    a: Authed,
) -> Result<Json<OrgSchedule>, AppError> {
    let ctx = a.cx();
    Ok(Json(state.store.followup_org_schedule(&ctx).await?))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrgScheduleInput {
    /// Months after the end of short-term assistance: ascending, 1–60, at most 12.
    pub months: Vec<u32>,
}

#[utoipa::path(put, path = "/followups/org-schedule", tag = "followup",
    request_body(content = OrgScheduleInput, description = "{months: [1,3,6,12,18,24]} (ascending, 1-60, at most 12); org admin or supervisor of the organisation"),
    responses((status = 200, body = OrgSchedule),
              (status = 422, description = "Field `months`, codes required, too_many, out_of_range, not_ascending", body = ErrorBody)))]
async fn put_org_schedule(
    State(state): State<AppState>,
    a: Authed,
    ApiJson(body): ApiJson<Value>,
) -> Result<Json<OrgSchedule>, AppError> {
    let ctx = a.cx();
    let input: OrgScheduleInput = typed(body)?;
    Ok(Json(
        state
            .store
            .set_followup_org_schedule(&ctx, &input.months)
            .await?,
    ))
}

#[derive(Debug, Deserialize)]
pub struct ExportQuery {
    #[serde(default)]
    pub round: Option<String>,
    /// csv (default) or xlsx.
    #[serde(default)]
    pub format: Option<String>,
    /// include (default) or none: the free-text column (her own words).
    #[serde(default)]
    pub free_text: Option<String>,
}

#[utoipa::path(get, path = "/followups/questionnaire/export", tag = "followup",
    params(("round" = Option<String>, Query, description = "Survey round (all rounds when absent)"),
           ("format" = Option<String>, Query, description = "csv (default) or xlsx"),
           ("free_text" = Option<String>, Query, description = "include (default) or none: assistance_needed_words is filled only for callers who may export identities (caseworkers, supervisors) in a session whose second factor is complete; empty for everybody else (bearer tokens, hotline operators)")),
    responses((status = 200, description = "Individual answers, one row per assessment, in the import's column mapping (case_number, round, assessed_on, question keys, assistance_needed_words); only cases whose follow-up section the caller may read; audited (with the case ids when free text is included)",
               content_type = "text/csv")))]
async fn export_questionnaire(
    State(state): State<AppState>,
    a: Authed,
    Query(q): Query<ExportQuery>,
) -> Result<Response, AppError> {
    use axum::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE};
    let xlsx = match q.format.as_deref().map(str::trim) {
        None | Some("") | Some("csv") => false,
        Some("xlsx") => true,
        Some(_) => {
            return Err(AppError::Invalid(ValidationErrors::single(
                FieldError::new("format", "unknown", "csv or xlsx"),
            )));
        }
    };
    let wanted = match q.free_text.as_deref().map(str::trim) {
        None | Some("") | Some("include") => true,
        Some("none") => false,
        Some(_) => {
            return Err(AppError::Invalid(ValidationErrors::single(
                FieldError::new("free_text", "unknown", "include or none"),
            )));
        }
    };
    let ctx = a.cx();
    // Her own words: the identity-export rule (ExportIdentities and a completed second factor
    // in a browser session); everybody else gets the column empty.
    let second_factor = matches!(&a.session, Some(s) if s.mfa_ok && a.user.has_second_factor());
    let free_text = wanted && second_factor && state.store.may_export_identities(&ctx);
    let round = q.round.as_deref().map(str::trim).filter(|r| !r.is_empty());
    let table = state
        .store
        .export_questionnaire(&ctx, round, free_text)
        .await?;
    let (bytes, ct, name) = if xlsx {
        (
            dayaq_storage::followup::questionnaire_xlsx(&table)?,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "questionnaire.xlsx",
        )
    } else {
        (
            dayaq_storage::followup::questionnaire_csv(&table)?,
            "text/csv; charset=utf-8",
            "questionnaire.csv",
        )
    };
    Ok((
        [
            (CONTENT_TYPE, ct.to_string()),
            (
                CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
            (CACHE_CONTROL, "no-store".to_string()),
        ],
        bytes,
    )
        .into_response())
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FlagGoalInput {
    /// The goal's text (encrypted); default: the flag with its reasons and suggestion.
    #[serde(default)]
    pub description: Option<String>,
}

#[utoipa::path(post, path = "/cases/{id}/followup/risk-flags/{code}/goal", tag = "followup",
    params(("id" = String, Path, description = "Case id (UUID)"), ("code" = String, Path, description = "Risk flag code raised by the latest assessment")),
    request_body(content = FlagGoalInput, description = "{description?}: adds a long-term goal (domain from the flag) to the case's open assistance plan"),
    responses((status = 201, description = "{goal_id}", body = FlagGoal),
              (status = 422, description = "risk_flag: unknown, not_raised; assistance_plan: no_open_plan", body = ErrorBody)))]
async fn flag_goal(
    State(state): State<AppState>,
    a: Authed,
    Path((id, code)): Path<(String, String)>,
    ApiJson(body): ApiJson<Value>,
) -> Result<Response, AppError> {
    let id = path_id(&id)?;
    let ctx = a.cx();
    let input: FlagGoalInput = if body.is_null() {
        state
            .store
            .authorize_case(&ctx, Action::UpdateCase, id)
            .await?;
        FlagGoalInput::default()
    } else {
        case_body(&state, &ctx, Action::UpdateCase, id, body).await?
    };
    let goal = state
        .store
        .goal_from_flag(&ctx, id, code.trim(), input.description.as_deref())
        .await?;
    Ok(created(FlagGoal { goal_id: goal }))
}

/// Per question, the answers over time; and the risk flags of the latest assessment.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Reintegration {
    pub trajectories: Vec<Trajectory>,
    pub risk_flags: Vec<RiskFlag>,
}

/// The goal added to the open assistance plan.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FlagGoal {
    pub goal_id: uuid::Uuid,
}
