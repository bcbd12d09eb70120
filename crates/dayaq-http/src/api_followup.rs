//! Long-term follow-up API: the survivor's contact protocol, the follow-up plan and tasks,
//! protocol-checked scheduling and contact log, reintegration assessments with trajectory and
//! risk flags, the caseworker's due list, and the per-question questionnaire summary.

use crate::AppState;
use crate::api::{ApiJson, case_id};
use crate::auth::Authed;
use crate::error::{AppError, json_body_error};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use dayaq_domain::policy::Action;
use dayaq_domain::{FieldError, ValidationErrors};
use dayaq_storage::followup::{AssessmentInput, LogInput, PlanInput, ProtocolInput};
use serde::Deserialize;
use serde_json::{Value, json};
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
}

#[utoipa::path(get, path = "/cases/{id}/followup/protocol", tag = "followup",
    params(("id" = String, Path, description = "Case id (UUID)")),
    responses((status = 200, description = "The survivor's contact protocol, personal parts decrypted (audited); null when none", body = Value),
              (status = 401, body = Value), (status = 403, body = Value), (status = 404, body = Value)))]
async fn get_protocol(
    State(state): State<AppState>,
    a: Authed,
    Path(id): Path<String>,
) -> Result<Json<Value>, AppError> {
    let id = case_id(&id)?;
    let actor = a.actor();
    let ctx = a.ctx(&actor, &state);
    Ok(Json(json!(state.store.protocol(&ctx, id).await?)))
}

#[utoipa::path(put, path = "/cases/{id}/followup/protocol", tag = "followup",
    params(("id" = String, Path, description = "Case id (UUID)")),
    request_body(content = Value, description = "{channels: [phone|sms|messenger|email|visit], windows: [\"1@09:00-12:00\"], utc_offset_min, do_not_contact, caller (username), language, safe_numbers, never_contact, never_places, cover_reason, code_word}"),
    responses((status = 200, body = Value), (status = 401, body = Value), (status = 403, body = Value), (status = 404, body = Value), (status = 422, body = Value)))]
async fn put_protocol(
    State(state): State<AppState>,
    a: Authed,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Value>,
) -> Result<Json<Value>, AppError> {
    let id = case_id(&id)?;
    let actor = a.actor();
    let ctx = a.ctx(&actor, &state);
    // Access first: another organisation learns nothing from a body error.
    state
        .store
        .authorize_case(&ctx, Action::UpdateCase, id)
        .await?;
    let input: ProtocolInput = body_as(body)?;
    Ok(Json(json!(
        state.store.set_protocol(&ctx, id, &input).await?
    )))
}

#[utoipa::path(get, path = "/cases/{id}/followup/plan", tag = "followup",
    params(("id" = String, Path, description = "Case id (UUID)")),
    responses((status = 200, description = "The follow-up plan (null when none) with lost-contact state", body = Value),
              (status = 401, body = Value), (status = 403, body = Value), (status = 404, body = Value)))]
async fn get_plan(
    State(state): State<AppState>,
    a: Authed,
    Path(id): Path<String>,
) -> Result<Json<Value>, AppError> {
    let id = case_id(&id)?;
    let actor = a.actor();
    let ctx = a.ctx(&actor, &state);
    Ok(Json(json!(state.store.plan(&ctx, id).await?)))
}

#[utoipa::path(put, path = "/cases/{id}/followup/plan", tag = "followup",
    params(("id" = String, Path, description = "Case id (UUID)")),
    request_body(content = Value, description = "{assistance_end: YYYY-MM-DD, months: [1,3,6,12,18,24], max_failed: 3}; (re)creates the scheduled tasks"),
    responses((status = 200, body = Value), (status = 401, body = Value), (status = 403, body = Value), (status = 404, body = Value), (status = 422, body = Value)))]
async fn put_plan(
    State(state): State<AppState>,
    a: Authed,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Value>,
) -> Result<Json<Value>, AppError> {
    let id = case_id(&id)?;
    let actor = a.actor();
    let ctx = a.ctx(&actor, &state);
    // Access first: another organisation learns nothing from a body error.
    state
        .store
        .authorize_case(&ctx, Action::UpdateCase, id)
        .await?;
    let input: PlanInput = body_as(body)?;
    Ok(Json(json!(state.store.set_plan(&ctx, id, &input).await?)))
}

#[utoipa::path(get, path = "/cases/{id}/followup/tasks", tag = "followup",
    params(("id" = String, Path, description = "Case id (UUID)")),
    responses((status = 200, description = "Follow-up tasks with status (upcoming, due, overdue, done)", body = Value),
              (status = 401, body = Value), (status = 403, body = Value), (status = 404, body = Value)))]
async fn list_tasks(
    State(state): State<AppState>,
    a: Authed,
    Path(id): Path<String>,
) -> Result<Json<Value>, AppError> {
    let id = case_id(&id)?;
    let actor = a.actor();
    let ctx = a.ctx(&actor, &state);
    Ok(Json(json!(state.store.followup_tasks(&ctx, id).await?)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduleInput {
    pub channel: String,
    /// RFC 3339 time.
    pub planned_at: String,
}

#[utoipa::path(post, path = "/cases/{id}/followup/tasks/{task}/schedule", tag = "followup",
    params(("id" = String, Path, description = "Case id (UUID)"), ("task" = String, Path, description = "Task id (UUID)")),
    request_body(content = Value, description = "{channel, planned_at (RFC 3339)}"),
    responses((status = 200, body = Value), (status = 401, body = Value), (status = 403, body = Value), (status = 404, body = Value),
              (status = 422, description = "Outside the survivor's protocol (codes: do_not_contact, channel_not_allowed, outside_safe_window, caller_not_named), no protocol, or no follow-up consent", body = Value)))]
async fn schedule_task(
    State(state): State<AppState>,
    a: Authed,
    Path((id, task)): Path<(String, String)>,
    ApiJson(body): ApiJson<Value>,
) -> Result<Json<Value>, AppError> {
    let id = case_id(&id)?;
    let task = case_id(&task)?;
    let actor = a.actor();
    let ctx = a.ctx(&actor, &state);
    // Access first: another organisation learns nothing from a body error.
    state
        .store
        .authorize_case(&ctx, Action::UpdateCase, id)
        .await?;
    let input: ScheduleInput = body_as(body)?;
    let when = OffsetDateTime::parse(input.planned_at.trim(), &Rfc3339).map_err(|_| {
        AppError::Invalid(ValidationErrors::single(FieldError::new(
            "planned_at",
            "invalid_time",
            "expected an RFC 3339 time",
        )))
    })?;
    Ok(Json(json!(
        state
            .store
            .schedule_contact(&ctx, id, task, input.channel.trim(), when)
            .await?
    )))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestInput {
    /// job_counselling, psychological_support, legal_help, housing, medical,
    /// safe_migration_advice, other_help.
    pub request: String,
}

#[utoipa::path(post, path = "/cases/{id}/followup/requests", tag = "followup",
    params(("id" = String, Path, description = "Case id (UUID)")),
    request_body(content = Value, description = "{request}: the survivor asks for help; a task due today"),
    responses((status = 201, body = Value), (status = 401, body = Value), (status = 403, body = Value), (status = 404, body = Value), (status = 422, body = Value)))]
async fn request_help(
    State(state): State<AppState>,
    a: Authed,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Value>,
) -> Result<Response, AppError> {
    let id = case_id(&id)?;
    let actor = a.actor();
    let ctx = a.ctx(&actor, &state);
    // Access first: another organisation learns nothing from a body error.
    state
        .store
        .authorize_case(&ctx, Action::UpdateCase, id)
        .await?;
    let input: RequestInput = body_as(body)?;
    let t = state
        .store
        .request_followup(&ctx, id, input.request.trim())
        .await?;
    Ok((StatusCode::CREATED, Json(t)).into_response())
}

#[utoipa::path(get, path = "/cases/{id}/followup/contacts", tag = "followup",
    params(("id" = String, Path, description = "Case id (UUID)")),
    responses((status = 200, description = "Logged contacts with protocol flags and justifications (audited)", body = Value),
              (status = 401, body = Value), (status = 403, body = Value), (status = 404, body = Value)))]
async fn list_contacts(
    State(state): State<AppState>,
    a: Authed,
    Path(id): Path<String>,
) -> Result<Json<Value>, AppError> {
    let id = case_id(&id)?;
    let actor = a.actor();
    let ctx = a.ctx(&actor, &state);
    Ok(Json(json!(state.store.followup_contacts(&ctx, id).await?)))
}

#[utoipa::path(post, path = "/cases/{id}/followup/contacts", tag = "followup",
    params(("id" = String, Path, description = "Case id (UUID)")),
    request_body(content = Value, description = "{task_id, channel, at (RFC 3339), reached, justification (required outside the protocol)}"),
    responses((status = 201, body = Value), (status = 401, body = Value), (status = 403, body = Value), (status = 404, body = Value), (status = 422, body = Value)))]
async fn log_contact(
    State(state): State<AppState>,
    a: Authed,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Value>,
) -> Result<Response, AppError> {
    let id = case_id(&id)?;
    let actor = a.actor();
    let ctx = a.ctx(&actor, &state);
    // Access first: another organisation learns nothing from a body error.
    state
        .store
        .authorize_case(&ctx, Action::UpdateCase, id)
        .await?;
    let input: LogInput = body_as(body)?;
    let c = state.store.log_contact(&ctx, id, &input).await?;
    Ok((StatusCode::CREATED, Json(c)).into_response())
}

#[utoipa::path(get, path = "/cases/{id}/followup/assessments", tag = "followup",
    params(("id" = String, Path, description = "Case id (UUID)")),
    responses((status = 200, description = "Reintegration assessments, oldest first (audited)", body = Value),
              (status = 401, body = Value), (status = 403, body = Value), (status = 404, body = Value)))]
async fn list_assessments(
    State(state): State<AppState>,
    a: Authed,
    Path(id): Path<String>,
) -> Result<Json<Value>, AppError> {
    let id = case_id(&id)?;
    let actor = a.actor();
    let ctx = a.ctx(&actor, &state);
    Ok(Json(json!(
        state.store.reintegration_assessments(&ctx, id).await?
    )))
}

#[utoipa::path(post, path = "/cases/{id}/followup/assessments", tag = "followup",
    params(("id" = String, Path, description = "Case id (UUID)")),
    request_body(content = Value, description = "{round, assessed_on, answers: {question_key: [answer codes]}, assistance_needed_words}"),
    responses((status = 201, body = Value), (status = 401, body = Value), (status = 403, body = Value), (status = 404, body = Value), (status = 422, body = Value)))]
async fn add_assessment(
    State(state): State<AppState>,
    a: Authed,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Value>,
) -> Result<Response, AppError> {
    let id = case_id(&id)?;
    let actor = a.actor();
    let ctx = a.ctx(&actor, &state);
    // Access first: another organisation learns nothing from a body error.
    state
        .store
        .authorize_case(&ctx, Action::UpdateCase, id)
        .await?;
    let input: AssessmentInput = body_as(body)?;
    let r = state
        .store
        .add_reintegration_assessment(&ctx, id, &input)
        .await?;
    Ok((StatusCode::CREATED, Json(r)).into_response())
}

#[utoipa::path(get, path = "/cases/{id}/followup/reintegration", tag = "followup",
    params(("id" = String, Path, description = "Case id (UUID)")),
    responses((status = 200, description = "{trajectories: per question, risk_flags: from the latest assessment with reasons}", body = Value),
              (status = 401, body = Value), (status = 403, body = Value), (status = 404, body = Value)))]
async fn reintegration(
    State(state): State<AppState>,
    a: Authed,
    Path(id): Path<String>,
) -> Result<Json<Value>, AppError> {
    let id = case_id(&id)?;
    let actor = a.actor();
    let ctx = a.ctx(&actor, &state);
    let (t, f) = state.store.reintegration(&ctx, id).await?;
    Ok(Json(json!({ "trajectories": t, "risk_flags": f })))
}

#[utoipa::path(get, path = "/followups/due", tag = "followup",
    responses((status = 200, description = "The caller's follow-ups due today or overdue, with today's safe windows", body = Value),
              (status = 401, body = Value)))]
async fn due(State(state): State<AppState>, a: Authed) -> Result<Json<Value>, AppError> {
    let actor = a.actor();
    let ctx = a.ctx(&actor, &state);
    Ok(Json(json!(state.store.followups_due(&ctx).await?)))
}

#[derive(Debug, Deserialize)]
pub struct SummaryQuery {
    #[serde(default)]
    pub round: Option<String>,
}

#[utoipa::path(get, path = "/followups/questionnaire/summary", tag = "followup",
    params(("round" = Option<String>, Query, description = "Survey round (all rounds when absent)")),
    responses((status = 200, description = "Counts per question and answer; cells below 5 suppressed unless the caller has access to every counted case", body = Value),
              (status = 401, body = Value), (status = 403, body = Value)))]
async fn summary(
    State(state): State<AppState>,
    a: Authed,
    Query(q): Query<SummaryQuery>,
) -> Result<Json<Value>, AppError> {
    let actor = a.actor();
    let ctx = a.ctx(&actor, &state);
    let round = q.round.as_deref().map(str::trim).filter(|r| !r.is_empty());
    Ok(Json(json!(
        state.store.questionnaire_summary(&ctx, round).await?
    )))
}

/// Parses a JSON body already read as a value (errors name the field, never the value).
fn body_as<T: serde::de::DeserializeOwned>(v: Value) -> Result<T, AppError> {
    serde_path_to_error::deserialize(v).map_err(json_body_error)
}
