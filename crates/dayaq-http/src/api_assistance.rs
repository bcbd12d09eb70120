//! Assistance API: needs assessments, the individual rehabilitation plan (HTCDS `spl_`),
//! shelter facilities and stays (length-of-stay rule), the one-time allowance.

use crate::AppState;
use crate::api::{ApiJson, case_id};
use crate::auth::Authed;
use crate::error::AppError;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use dayaq_domain::assistance::DEFAULT_ALLOWANCE_MINOR;
use dayaq_domain::policy::Action;
use dayaq_storage::assistance::{
    ActionInput, AdmissionInput, AssessmentInput, FacilityInput, GoalInput, GrantInput, PlanInput,
    ServiceInput,
};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_assessments, add_assessment))
        .routes(routes!(list_plans, create_plan))
        .routes(routes!(add_goal))
        .routes(routes!(add_action))
        .routes(routes!(set_action_status))
        .routes(routes!(agree_plan))
        .routes(routes!(approve_plan))
        .routes(routes!(end_plan))
        .routes(routes!(plans_waiting))
        .routes(routes!(list_facilities, add_facility))
        .routes(routes!(list_stays, admit))
        .routes(routes!(request_extension))
        .routes(routes!(approve_extension))
        .routes(routes!(exit_stay))
        .routes(routes!(list_payments, pay_allowance))
        .routes(routes!(set_payment_status))
        .routes(routes!(list_services, add_service))
        .routes(routes!(list_funding, add_funding_source))
        .routes(routes!(add_grant))
        .routes(routes!(cost_report))
}

/// Access first, then the body: another organisation learns nothing from validation errors.
async fn body_for<T: serde::de::DeserializeOwned>(
    state: &AppState,
    ctx: &dayaq_storage::cases::Ctx<'_>,
    case: uuid::Uuid,
    action: Action,
    raw: Value,
) -> Result<T, AppError> {
    state.store.authorize_case(ctx, action, case).await?;
    serde_path_to_error::deserialize(raw).map_err(crate::error::json_body_error)
}

/// The body of an organisation-level write, read only after the policy allows `action` on
/// the actor's organisation (a refused caller learns nothing from its body's errors).
fn org_body_for<T: serde::de::DeserializeOwned>(
    state: &AppState,
    ctx: &dayaq_storage::cases::Ctx<'_>,
    action: Action,
    raw: Value,
) -> Result<T, AppError> {
    state.store.authorize_org(ctx, action)?;
    serde_path_to_error::deserialize(raw).map_err(crate::error::json_body_error)
}

fn uuid(raw: &str) -> Result<uuid::Uuid, AppError> {
    case_id(raw)
}

/// The allowance amount in qəpik: `DAYAQ_ALLOWANCE_MINOR` or AZN 400 (API and screens).
pub(crate) fn allowance_amount() -> i64 {
    std::env::var("DAYAQ_ALLOWANCE_MINOR")
        .ok()
        .and_then(|v| v.trim().parse::<i64>().ok())
        .filter(|v| *v > 0)
        .unwrap_or(DEFAULT_ALLOWANCE_MINOR)
}

#[utoipa::path(get, path = "/cases/{id}/assessments", tag = "assistance",
    params(("id" = String, Path, description = "Case id (UUID)")),
    responses((status = 200, description = "Needs assessments, newest first (plan section)", body = Value), (status = 401, body = Value), (status = 404, body = Value)))]
async fn list_assessments(
    State(state): State<AppState>,
    a: Authed,
    Path(id): Path<String>,
) -> Result<Json<Value>, AppError> {
    let id = case_id(&id)?;
    let actor = a.actor();
    let ctx = a.ctx(&actor, &state);
    Ok(Json(
        json!({ "assessments": state.store.assessments(&ctx, id).await? }),
    ))
}

#[utoipa::path(post, path = "/cases/{id}/assessments", tag = "assistance",
    params(("id" = String, Path, description = "Case id (UUID)")),
    request_body(content = Value, description = "{needs: [{domain (Safety | PhysicalHealth | MentalHealth | Legal | Housing | EmploymentIncome | EducationSkills | FamilySocial | Dependants), severity (None | Low | Medium | High), notes}], priorities (the survivor's own words; encrypted)}"),
    responses((status = 201, body = Value), (status = 401, body = Value), (status = 404, body = Value), (status = 422, body = Value)))]
async fn add_assessment(
    State(state): State<AppState>,
    a: Authed,
    Path(id): Path<String>,
    ApiJson(raw): ApiJson<Value>,
) -> Result<Response, AppError> {
    let id = case_id(&id)?;
    let actor = a.actor();
    let ctx = a.ctx(&actor, &state);
    let input: AssessmentInput = body_for(&state, &ctx, id, Action::UpdateCase, raw).await?;
    let r = state.store.add_assessment(&ctx, id, &input).await?;
    Ok((StatusCode::CREATED, Json(r)).into_response())
}

#[utoipa::path(get, path = "/cases/{id}/plans", tag = "assistance",
    params(("id" = String, Path, description = "Case id (UUID)")),
    responses((status = 200, description = "Plans (spl_), newest first, with goals, actions and gaps", body = Value), (status = 401, body = Value), (status = 404, body = Value)))]
async fn list_plans(
    State(state): State<AppState>,
    a: Authed,
    Path(id): Path<String>,
) -> Result<Json<Value>, AppError> {
    let id = case_id(&id)?;
    let actor = a.actor();
    let ctx = a.ctx(&actor, &state);
    Ok(Json(json!({ "plans": state.store.plans(&ctx, id).await? })))
}

#[utoipa::path(post, path = "/cases/{id}/plans", tag = "assistance",
    params(("id" = String, Path, description = "Case id (UUID)")),
    request_body(content = Value, description = "{spl_Type, spl_Objectives (encrypted), spl_PlannedEndDate, review_on}"),
    responses((status = 201, body = Value), (status = 401, body = Value), (status = 404, body = Value), (status = 422, body = Value)))]
async fn create_plan(
    State(state): State<AppState>,
    a: Authed,
    Path(id): Path<String>,
    ApiJson(raw): ApiJson<Value>,
) -> Result<Response, AppError> {
    let id = case_id(&id)?;
    let actor = a.actor();
    let ctx = a.ctx(&actor, &state);
    let input: PlanInput = body_for(&state, &ctx, id, Action::UpdateCase, raw).await?;
    let p = state.store.create_plan(&ctx, id, &input).await?;
    Ok((StatusCode::CREATED, Json(json!({ "id": p }))).into_response())
}

#[utoipa::path(post, path = "/cases/{id}/plans/{plan_id}/goals", tag = "assistance",
    params(("id" = String, Path, description = "Case id (UUID)"), ("plan_id" = String, Path, description = "Plan id (UUID)")),
    request_body(content = Value, description = "{term (ShortTerm | LongTerm), domain, description (encrypted)}"),
    responses((status = 201, body = Value), (status = 401, body = Value), (status = 404, body = Value), (status = 422, body = Value)))]
async fn add_goal(
    State(state): State<AppState>,
    a: Authed,
    Path((id, plan)): Path<(String, String)>,
    ApiJson(raw): ApiJson<Value>,
) -> Result<Response, AppError> {
    let (id, plan) = (case_id(&id)?, uuid(&plan)?);
    let actor = a.actor();
    let ctx = a.ctx(&actor, &state);
    let input: GoalInput = body_for(&state, &ctx, id, Action::UpdateCase, raw).await?;
    let g = state.store.add_goal(&ctx, id, plan, &input).await?;
    Ok((StatusCode::CREATED, Json(json!({ "id": g }))).into_response())
}

#[utoipa::path(post, path = "/cases/{id}/plans/{plan_id}/actions", tag = "assistance",
    params(("id" = String, Path, description = "Case id (UUID)"), ("plan_id" = String, Path, description = "Plan id (UUID)")),
    request_body(content = Value, description = "{goal_id, domain, service (the service catalogue), responsible_org (slug; default the case owner), due_on, status (Planned | InProgress | Done | Cancelled)}"),
    responses((status = 201, body = Value), (status = 401, body = Value), (status = 404, body = Value), (status = 422, body = Value)))]
async fn add_action(
    State(state): State<AppState>,
    a: Authed,
    Path((id, plan)): Path<(String, String)>,
    ApiJson(raw): ApiJson<Value>,
) -> Result<Response, AppError> {
    let (id, plan) = (case_id(&id)?, uuid(&plan)?);
    let actor = a.actor();
    let ctx = a.ctx(&actor, &state);
    let input: ActionInput = body_for(&state, &ctx, id, Action::UpdateCase, raw).await?;
    let x = state.store.add_action(&ctx, id, plan, &input).await?;
    Ok((StatusCode::CREATED, Json(json!({ "id": x }))).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusInput {
    pub status: String,
}

#[utoipa::path(post, path = "/cases/{id}/plan-actions/{action_id}/status", tag = "assistance",
    params(("id" = String, Path, description = "Case id (UUID)"), ("action_id" = String, Path, description = "Plan action id (UUID)")),
    request_body(content = Value, description = "{status: Planned | InProgress | Done | Cancelled}"),
    responses((status = 204, description = "Updated"), (status = 401, body = Value), (status = 404, body = Value), (status = 422, body = Value)))]
async fn set_action_status(
    State(state): State<AppState>,
    a: Authed,
    Path((id, action)): Path<(String, String)>,
    ApiJson(raw): ApiJson<Value>,
) -> Result<StatusCode, AppError> {
    let (id, action) = (case_id(&id)?, uuid(&action)?);
    let actor = a.actor();
    let ctx = a.ctx(&actor, &state);
    let input: StatusInput = body_for(&state, &ctx, id, Action::UpdateCase, raw).await?;
    state
        .store
        .set_action_status(&ctx, id, action, &input.status)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/cases/{id}/plans/{plan_id}/agreement", tag = "assistance",
    params(("id" = String, Path, description = "Case id (UUID)"), ("plan_id" = String, Path, description = "Plan id (UUID)")),
    responses((status = 204, description = "The survivor's agreement is recorded"), (status = 401, body = Value), (status = 404, body = Value)))]
async fn agree_plan(
    State(state): State<AppState>,
    a: Authed,
    Path((id, plan)): Path<(String, String)>,
) -> Result<StatusCode, AppError> {
    let (id, plan) = (case_id(&id)?, uuid(&plan)?);
    let actor = a.actor();
    let ctx = a.ctx(&actor, &state);
    state.store.record_plan_agreement(&ctx, id, plan).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/cases/{id}/plans/{plan_id}/approval", tag = "assistance",
    params(("id" = String, Path, description = "Case id (UUID)"), ("plan_id" = String, Path, description = "Plan id (UUID)")),
    responses((status = 204, description = "Approved by a supervisor of the owner organisation"), (status = 401, body = Value), (status = 403, body = Value), (status = 404, body = Value), (status = 422, description = "The survivor has not agreed yet", body = Value)))]
async fn approve_plan(
    State(state): State<AppState>,
    a: Authed,
    Path((id, plan)): Path<(String, String)>,
) -> Result<StatusCode, AppError> {
    let (id, plan) = (case_id(&id)?, uuid(&plan)?);
    let actor = a.actor();
    let ctx = a.ctx(&actor, &state);
    state.store.approve_plan(&ctx, id, plan).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EndInput {
    #[serde(rename = "spl_ActualEndDate")]
    pub actual_end: String,
}

#[utoipa::path(post, path = "/cases/{id}/plans/{plan_id}/end", tag = "assistance",
    params(("id" = String, Path, description = "Case id (UUID)"), ("plan_id" = String, Path, description = "Plan id (UUID)")),
    request_body(content = Value, description = "{spl_ActualEndDate: YYYY-MM-DD}"),
    responses((status = 204, description = "Ended"), (status = 401, body = Value), (status = 404, body = Value), (status = 422, body = Value)))]
async fn end_plan(
    State(state): State<AppState>,
    a: Authed,
    Path((id, plan)): Path<(String, String)>,
    ApiJson(raw): ApiJson<Value>,
) -> Result<StatusCode, AppError> {
    let (id, plan) = (case_id(&id)?, uuid(&plan)?);
    let actor = a.actor();
    let ctx = a.ctx(&actor, &state);
    let input: EndInput = body_for(&state, &ctx, id, Action::UpdateCase, raw).await?;
    state
        .store
        .end_plan(&ctx, id, plan, &input.actual_end)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/approvals/plans", tag = "assistance",
    responses((status = 200, description = "Plans of the supervisor's organisation waiting for approval (ids only)", body = Value), (status = 401, body = Value)))]
async fn plans_waiting(State(state): State<AppState>, a: Authed) -> Result<Json<Value>, AppError> {
    let actor = a.actor();
    let ctx = a.ctx(&actor, &state);
    Ok(Json(
        json!({ "plans": state.store.plans_waiting_approval(&ctx).await? }),
    ))
}

#[utoipa::path(get, path = "/shelters", tag = "assistance",
    responses((status = 200, description = "Shelter facilities with occupancy and free beds (counts only)", body = Value), (status = 401, body = Value)))]
async fn list_facilities(
    State(state): State<AppState>,
    _a: Authed,
) -> Result<Json<Value>, AppError> {
    Ok(Json(
        json!({ "facilities": state.store.facilities().await? }),
    ))
}

#[utoipa::path(post, path = "/shelters", tag = "assistance",
    request_body(content = Value, description = "{name, beds, max_stay_days (default 30), state_shelter (admission needs cooperation with law enforcement)}"),
    responses((status = 201, body = Value), (status = 401, body = Value), (status = 403, body = Value), (status = 409, body = Value), (status = 422, body = Value)))]
async fn add_facility(
    State(state): State<AppState>,
    a: Authed,
    ApiJson(raw): ApiJson<Value>,
) -> Result<Response, AppError> {
    let actor = a.actor();
    let ctx = a.ctx(&actor, &state);
    let input: FacilityInput = org_body_for(&state, &ctx, Action::ManageDirectory, raw)?;
    let f = state.store.add_facility(&ctx, &input).await?;
    Ok((StatusCode::CREATED, Json(f)).into_response())
}

#[utoipa::path(get, path = "/cases/{id}/shelter-stays", tag = "assistance",
    params(("id" = String, Path, description = "Case id (UUID)")),
    responses((status = 200, description = "Shelter stays with the length-of-stay rule today (ok / warning / blocked)", body = Value), (status = 401, body = Value), (status = 404, body = Value)))]
async fn list_stays(
    State(state): State<AppState>,
    a: Authed,
    Path(id): Path<String>,
) -> Result<Json<Value>, AppError> {
    let id = case_id(&id)?;
    let actor = a.actor();
    let ctx = a.ctx(&actor, &state);
    Ok(Json(json!({ "stays": state.store.stays(&ctx, id).await? })))
}

#[utoipa::path(post, path = "/cases/{id}/shelter-stays", tag = "assistance",
    params(("id" = String, Path, description = "Case id (UUID)")),
    request_body(content = Value, description = "{facility_id, admitted_on (YYYY-MM-DD), dependants}"),
    responses((status = 201, body = Value), (status = 401, body = Value), (status = 404, body = Value), (status = 422, description = "Not eligible, no free beds, or already admitted", body = Value)))]
async fn admit(
    State(state): State<AppState>,
    a: Authed,
    Path(id): Path<String>,
    ApiJson(raw): ApiJson<Value>,
) -> Result<Response, AppError> {
    let id = case_id(&id)?;
    let actor = a.actor();
    let ctx = a.ctx(&actor, &state);
    let input: AdmissionInput = body_for(&state, &ctx, id, Action::UpdateCase, raw).await?;
    let s = state.store.admit(&ctx, id, &input).await?;
    Ok((StatusCode::CREATED, Json(s)).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExtensionInput {
    pub days: i64,
    /// Why the stay must go on (encrypted).
    pub reason: String,
}

#[utoipa::path(post, path = "/cases/{id}/shelter-stays/{stay_id}/extensions", tag = "assistance",
    params(("id" = String, Path, description = "Case id (UUID)"), ("stay_id" = String, Path, description = "Stay id (UUID)")),
    request_body(content = Value, description = "{days, reason (encrypted)}; counts once a supervisor approves"),
    responses((status = 201, body = Value), (status = 401, body = Value), (status = 404, body = Value), (status = 422, body = Value)))]
async fn request_extension(
    State(state): State<AppState>,
    a: Authed,
    Path((id, stay)): Path<(String, String)>,
    ApiJson(raw): ApiJson<Value>,
) -> Result<Response, AppError> {
    let (id, stay) = (case_id(&id)?, uuid(&stay)?);
    let actor = a.actor();
    let ctx = a.ctx(&actor, &state);
    let input: ExtensionInput = body_for(&state, &ctx, id, Action::UpdateCase, raw).await?;
    let e = state
        .store
        .request_extension(&ctx, id, stay, input.days, &input.reason)
        .await?;
    Ok((StatusCode::CREATED, Json(json!({ "id": e }))).into_response())
}

#[utoipa::path(post, path = "/cases/{id}/shelter-extensions/{extension_id}/approval", tag = "assistance",
    params(("id" = String, Path, description = "Case id (UUID)"), ("extension_id" = String, Path, description = "Extension id (UUID)")),
    responses((status = 204, description = "Approved by a supervisor"), (status = 401, body = Value), (status = 403, body = Value), (status = 404, body = Value)))]
async fn approve_extension(
    State(state): State<AppState>,
    a: Authed,
    Path((id, ext)): Path<(String, String)>,
) -> Result<StatusCode, AppError> {
    let (id, ext) = (case_id(&id)?, uuid(&ext)?);
    let actor = a.actor();
    let ctx = a.ctx(&actor, &state);
    state.store.approve_extension(&ctx, id, ext).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExitInput {
    pub exited_on: String,
    /// Family, IndependentHousing, OtherShelter, ReturnHome, Hospital, Unknown or Other.
    pub exit_destination: String,
}

#[utoipa::path(post, path = "/cases/{id}/shelter-stays/{stay_id}/exit", tag = "assistance",
    params(("id" = String, Path, description = "Case id (UUID)"), ("stay_id" = String, Path, description = "Stay id (UUID)")),
    request_body(content = Value, description = "{exited_on, exit_destination}"),
    responses((status = 204, description = "Stay ended"), (status = 401, body = Value), (status = 404, body = Value), (status = 422, body = Value)))]
async fn exit_stay(
    State(state): State<AppState>,
    a: Authed,
    Path((id, stay)): Path<(String, String)>,
    ApiJson(raw): ApiJson<Value>,
) -> Result<StatusCode, AppError> {
    let (id, stay) = (case_id(&id)?, uuid(&stay)?);
    let actor = a.actor();
    let ctx = a.ctx(&actor, &state);
    let input: ExitInput = body_for(&state, &ctx, id, Action::UpdateCase, raw).await?;
    state
        .store
        .exit_stay(&ctx, id, stay, &input.exited_on, &input.exit_destination)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/cases/{id}/allowance", tag = "assistance",
    params(("id" = String, Path, description = "Case id (UUID)")),
    responses((status = 200, description = "One-time allowance payments of the case", body = Value), (status = 401, body = Value), (status = 404, body = Value)))]
async fn list_payments(
    State(state): State<AppState>,
    a: Authed,
    Path(id): Path<String>,
) -> Result<Json<Value>, AppError> {
    let id = case_id(&id)?;
    let actor = a.actor();
    let ctx = a.ctx(&actor, &state);
    Ok(Json(
        json!({ "payments": state.store.payments(&ctx, id).await? }),
    ))
}

#[utoipa::path(post, path = "/cases/{id}/allowance", tag = "assistance",
    params(("id" = String, Path, description = "Case id (UUID)")),
    responses((status = 201, description = "Allowance requested (amount from DAYAQ_ALLOWANCE_MINOR, default AZN 400)", body = Value), (status = 401, body = Value), (status = 404, body = Value),
              (status = 409, description = "This person already received the allowance (any organisation)", body = Value),
              (status = 422, description = "Status is not ActualVictimOfTrafficking", body = Value)))]
async fn pay_allowance(
    State(state): State<AppState>,
    a: Authed,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let id = case_id(&id)?;
    let actor = a.actor();
    let ctx = a.ctx(&actor, &state);
    let p = state
        .store
        .pay_allowance(&ctx, id, allowance_amount())
        .await?;
    Ok((StatusCode::CREATED, Json(p)).into_response())
}

#[utoipa::path(post, path = "/cases/{id}/allowance/{payment_id}/status", tag = "assistance",
    params(("id" = String, Path, description = "Case id (UUID)"), ("payment_id" = String, Path, description = "Payment id (UUID)")),
    request_body(content = Value, description = "{status: Requested | Paid | Cancelled} (supervisor)"),
    responses((status = 204, description = "Updated"), (status = 401, body = Value), (status = 403, body = Value), (status = 404, body = Value), (status = 422, body = Value)))]
async fn set_payment_status(
    State(state): State<AppState>,
    a: Authed,
    Path((id, payment)): Path<(String, String)>,
    ApiJson(raw): ApiJson<Value>,
) -> Result<StatusCode, AppError> {
    let (id, payment) = (case_id(&id)?, uuid(&payment)?);
    let actor = a.actor();
    let ctx = a.ctx(&actor, &state);
    let input: StatusInput = body_for(&state, &ctx, id, Action::Approve, raw).await?;
    state
        .store
        .set_payment_status(&ctx, id, payment, &input.status)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/cases/{id}/services", tag = "assistance",
    params(("id" = String, Path, description = "Case id (UUID)")),
    responses((status = 200, description = "Services delivered (services section; health details need the health section)", body = Value), (status = 401, body = Value), (status = 404, body = Value)))]
async fn list_services(
    State(state): State<AppState>,
    a: Authed,
    Path(id): Path<String>,
) -> Result<Json<Value>, AppError> {
    let id = case_id(&id)?;
    let actor = a.actor();
    let ctx = a.ctx(&actor, &state);
    Ok(Json(
        json!({ "services": state.store.services(&ctx, id).await? }),
    ))
}

#[utoipa::path(post, path = "/cases/{id}/services", tag = "assistance",
    params(("id" = String, Path, description = "Case id (UUID)")),
    request_body(content = Value, description = "{service, provider_org (slug), started_on, ended_on, outcome (Ongoing | Completed | Discontinued | Declined), details (encrypted), cost_minor (qepik), funding_source_id, plan_action_id}"),
    responses((status = 201, body = Value), (status = 401, body = Value), (status = 404, body = Value), (status = 422, body = Value)))]
async fn add_service(
    State(state): State<AppState>,
    a: Authed,
    Path(id): Path<String>,
    ApiJson(raw): ApiJson<Value>,
) -> Result<Response, AppError> {
    let id = case_id(&id)?;
    let actor = a.actor();
    let ctx = a.ctx(&actor, &state);
    let input: ServiceInput = body_for(&state, &ctx, id, Action::UpdateCase, raw).await?;
    let x = state.store.add_service(&ctx, id, &input).await?;
    Ok((StatusCode::CREATED, Json(json!({ "id": x }))).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceInput {
    pub name: String,
    /// StateBudget, VictimAssistanceFund, Donor or Other.
    pub kind: String,
}

#[utoipa::path(get, path = "/funding-sources", tag = "assistance",
    responses((status = 200, description = "The organisation's funding sources with grants (supervisor, org admin)", body = Value), (status = 401, body = Value), (status = 403, body = Value)))]
async fn list_funding(State(state): State<AppState>, a: Authed) -> Result<Json<Value>, AppError> {
    let actor = a.actor();
    let ctx = a.ctx(&actor, &state);
    Ok(Json(
        json!({ "funding_sources": state.store.funding_sources(&ctx).await? }),
    ))
}

#[utoipa::path(post, path = "/funding-sources", tag = "assistance",
    request_body(content = Value, description = "{name, kind (StateBudget | VictimAssistanceFund | Donor | Other)}"),
    responses((status = 201, body = Value), (status = 401, body = Value), (status = 403, body = Value), (status = 409, body = Value), (status = 422, body = Value)))]
async fn add_funding_source(
    State(state): State<AppState>,
    a: Authed,
    ApiJson(raw): ApiJson<Value>,
) -> Result<Response, AppError> {
    let actor = a.actor();
    let ctx = a.ctx(&actor, &state);
    let input: SourceInput = org_body_for(&state, &ctx, Action::ManageDirectory, raw)?;
    let x = state
        .store
        .add_funding_source(&ctx, &input.name, &input.kind)
        .await?;
    Ok((StatusCode::CREATED, Json(json!({ "id": x }))).into_response())
}

#[utoipa::path(post, path = "/funding-sources/{source_id}/grants", tag = "assistance",
    params(("source_id" = String, Path, description = "Funding source id (UUID)")),
    request_body(content = Value, description = "{amount_minor, currency (ISO 4217), period_start, period_end, purpose}"),
    responses((status = 201, body = Value), (status = 401, body = Value), (status = 403, body = Value), (status = 404, body = Value), (status = 422, body = Value)))]
async fn add_grant(
    State(state): State<AppState>,
    a: Authed,
    Path(source): Path<String>,
    ApiJson(raw): ApiJson<Value>,
) -> Result<Response, AppError> {
    let source = uuid(&source)?;
    let actor = a.actor();
    let ctx = a.ctx(&actor, &state);
    let input: GrantInput = org_body_for(&state, &ctx, Action::ManageDirectory, raw)?;
    let x = state.store.add_grant(&ctx, source, &input).await?;
    Ok((StatusCode::CREATED, Json(json!({ "id": x }))).into_response())
}

#[utoipa::path(get, path = "/reports/costs", tag = "assistance",
    responses((status = 200, description = "Costs charged to the organisation's funding sources: per source, per survivor (case id), per service type (AZN minor units)", body = Value), (status = 401, body = Value), (status = 403, body = Value)))]
async fn cost_report(State(state): State<AppState>, a: Authed) -> Result<Json<Value>, AppError> {
    let actor = a.actor();
    let ctx = a.ctx(&actor, &state);
    Ok(Json(json!(state.store.cost_report(&ctx).await?)))
}
