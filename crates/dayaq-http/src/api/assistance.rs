//! Assistance API: needs assessments, the individual rehabilitation plan (HTCDS `spl_`),
//! shelter facilities and stays (length-of-stay rule), the one-time allowance.

use super::common::ApiQuery;
use super::common::{
    ApiJson, Approve, Body, Created, ErrorBody, ManageDirectory, OnPath, OrgBody, RecordPlanAction,
    RecordService, UpdateCase, created, list_bodies, org_body,
};
use crate::AppState;
use crate::auth::Authed;
use crate::error::AppError;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use dayaq_domain::policy::Action;
use dayaq_storage::assistance::{
    ActionInput, AdmissionInput, AssessmentInput, FacilityInput, GoalInput, GrantInput, PlanInput,
    ServiceInput,
};
use dayaq_storage::assistance::{
    Assessment, CostReport, Facility, FundingSource, Payment, PendingPlan, Plan, ServiceRecord,
    Stay,
};
use serde::Deserialize;
use serde_json::Value;
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
        .routes(routes!(plan_pdf))
}

#[utoipa::path(get, path = "/cases/{id}/assessments", tag = "assistance",
    params(("id" = String, Path, description = "Case id (UUID)")),
    responses((status = 200, description = "Needs assessments, newest first (plan section)", body = AssessmentList)))]
async fn list_assessments(
    State(state): State<AppState>,
    r: OnPath,
) -> Result<Json<AssessmentList>, AppError> {
    let ([id], ctx) = (r.ids, r.cx());
    Ok(Json(AssessmentList {
        assessments: state.store.assessments(&ctx, id).await?,
    }))
}

#[utoipa::path(post, path = "/cases/{id}/assessments", tag = "assistance",
    params(("id" = String, Path, description = "Case id (UUID)")),
    request_body(content = AssessmentInput, description = "{needs: [{domain (Safety | PhysicalHealth | MentalHealth | Legal | Housing | EmploymentIncome | EducationSkills | FamilySocial | Dependants), severity (None | Low | Medium | High), notes}], priorities (the survivor's own words; encrypted)}"),
    responses((status = 201, body = Assessment)))]
async fn add_assessment(
    State(state): State<AppState>,
    r: Body<AssessmentInput>,
) -> Result<Response, AppError> {
    let ([id], ctx, input) = (r.ids, r.auth.cx(), r.body);
    let r = state.store.add_assessment(&ctx, id, &input).await?;
    Ok(created(r))
}

#[utoipa::path(get, path = "/cases/{id}/plans", tag = "assistance",
    params(("id" = String, Path, description = "Case id (UUID)")),
    responses((status = 200, description = "Plans (spl_), newest first, with goals, actions and gaps", body = PlanList)))]
async fn list_plans(State(state): State<AppState>, r: OnPath) -> Result<Json<PlanList>, AppError> {
    let ([id], ctx) = (r.ids, r.cx());
    Ok(Json(PlanList {
        plans: state.store.plans(&ctx, id).await?,
    }))
}

#[utoipa::path(post, path = "/cases/{id}/plans", tag = "assistance",
    params(("id" = String, Path, description = "Case id (UUID)")),
    request_body(content = PlanInput, description = "{spl_Type, spl_Objectives (encrypted), spl_PlannedEndDate, review_on}"),
    responses((status = 201, body = Created)))]
async fn create_plan(
    State(state): State<AppState>,
    r: Body<PlanInput>,
) -> Result<Response, AppError> {
    let ([id], ctx, input) = (r.ids, r.auth.cx(), r.body);
    let p = state.store.create_plan(&ctx, id, &input).await?;
    Ok(created(Created { id: p }))
}

#[utoipa::path(post, path = "/cases/{id}/plans/{plan_id}/goals", tag = "assistance",
    params(("id" = String, Path, description = "Case id (UUID)"), ("plan_id" = String, Path, description = "Plan id (UUID)")),
    request_body(content = GoalInput, description = "{term (ShortTerm | LongTerm), domain, description (encrypted)}"),
    responses((status = 201, body = Created)))]
async fn add_goal(
    State(state): State<AppState>,
    r: Body<GoalInput, UpdateCase, 2>,
) -> Result<Response, AppError> {
    let ([id, plan], ctx, input) = (r.ids, r.auth.cx(), r.body);
    let g = state.store.add_goal(&ctx, id, plan, &input).await?;
    Ok(created(Created { id: g }))
}

#[utoipa::path(post, path = "/cases/{id}/plans/{plan_id}/actions", tag = "assistance",
    params(("id" = String, Path, description = "Case id (UUID)"), ("plan_id" = String, Path, description = "Plan id (UUID)")),
    request_body(content = ActionInput, description = "{goal_id, domain, service (the service catalogue), responsible_org (slug; default the case owner), due_on, status (Planned | InProgress | Done | Cancelled)}"),
    responses((status = 201, body = Created)))]
async fn add_action(
    State(state): State<AppState>,
    r: Body<ActionInput, RecordPlanAction, 2>,
) -> Result<Response, AppError> {
    let ([id, plan], ctx, input) = (r.ids, r.auth.cx(), r.body);
    let x = state.store.add_action(&ctx, id, plan, &input).await?;
    Ok(created(Created { id: x }))
}

/// The new status of a plan action or an allowance payment. Named `StatusUpdate` in the
/// document: `StatusChange` is the domain's kind of status-history entry, and two schemas of
/// one name overwrite each other there.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = StatusUpdate)]
pub struct StatusChange {
    pub status: String,
}

#[utoipa::path(post, path = "/cases/{id}/plan-actions/{action_id}/status", tag = "assistance",
    params(("id" = String, Path, description = "Case id (UUID)"), ("action_id" = String, Path, description = "Plan action id (UUID)")),
    request_body(content = StatusChange, description = "{status: Planned | InProgress | Done | Cancelled}"),
    responses((status = 204, description = "Updated")))]
async fn set_action_status(
    State(state): State<AppState>,
    r: Body<StatusChange, RecordPlanAction, 2>,
) -> Result<StatusCode, AppError> {
    let ([id, action], ctx, input) = (r.ids, r.auth.cx(), r.body);
    state
        .store
        .set_action_status(&ctx, id, action, &input.status)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/cases/{id}/plans/{plan_id}/agreement", tag = "assistance",
    params(("id" = String, Path, description = "Case id (UUID)"), ("plan_id" = String, Path, description = "Plan id (UUID)")),
    responses((status = 204, description = "The survivor's agreement is recorded")))]
async fn agree_plan(State(state): State<AppState>, r: OnPath<2>) -> Result<StatusCode, AppError> {
    let ([id, plan], ctx) = (r.ids, r.cx());
    state.store.record_plan_agreement(&ctx, id, plan).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/cases/{id}/plans/{plan_id}/approval", tag = "assistance",
    params(("id" = String, Path, description = "Case id (UUID)"), ("plan_id" = String, Path, description = "Plan id (UUID)"), ApprovalQuery),
    responses((status = 204, description = "Approved by a supervisor of the owner organisation"), (status = 422, description = "The survivor has not agreed yet (`survivor_agreed`), or the plan has warnings (no objectives, planned end in the past) and `confirm_warnings=true` was not sent (`confirm_warnings`)", body = ErrorBody)))]
async fn approve_plan(
    State(state): State<AppState>,
    r: OnPath<2>,
    ApiQuery(q): ApiQuery<ApprovalQuery>,
) -> Result<StatusCode, AppError> {
    let ([id, plan], ctx) = (r.ids, r.cx());
    state
        .store
        .approve_plan(&ctx, id, plan, q.confirm_warnings.unwrap_or(false))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The approver's confirmation of a plan's warnings (issue #23 §3, the same rule as the
/// screen's tick box).
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ApprovalQuery {
    /// `true`: the approver has read the plan's warnings (no objectives, planned end in the
    /// past) and approves it anyway. Without it a plan with warnings is refused (422,
    /// field `confirm_warnings`); a plan without warnings needs nothing.
    pub confirm_warnings: Option<bool>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EndInput {
    #[serde(rename = "spl_ActualEndDate")]
    pub actual_end: String,
}

#[utoipa::path(post, path = "/cases/{id}/plans/{plan_id}/end", tag = "assistance",
    params(("id" = String, Path, description = "Case id (UUID)"), ("plan_id" = String, Path, description = "Plan id (UUID)")),
    request_body(content = EndInput, description = "{spl_ActualEndDate: YYYY-MM-DD}"),
    responses((status = 204, description = "Ended")))]
async fn end_plan(
    State(state): State<AppState>,
    r: Body<EndInput, UpdateCase, 2>,
) -> Result<StatusCode, AppError> {
    let ([id, plan], ctx, input) = (r.ids, r.auth.cx(), r.body);
    state
        .store
        .end_plan(&ctx, id, plan, &input.actual_end)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/approvals/plans", tag = "assistance",
    responses((status = 200, description = "Plans of the supervisor's organisation waiting for approval (ids only)", body = PendingPlanList)))]
async fn plans_waiting(
    State(state): State<AppState>,
    a: Authed,
) -> Result<Json<PendingPlanList>, AppError> {
    let ctx = a.cx();
    Ok(Json(PendingPlanList {
        plans: state.store.plans_waiting_approval(&ctx).await?,
    }))
}

#[utoipa::path(get, path = "/shelters", tag = "assistance",
    responses((status = 200, description = "Shelter facilities with occupancy and free beds (counts only)", body = FacilityList)))]
async fn list_facilities(
    State(state): State<AppState>,
    _a: Authed,
) -> Result<Json<FacilityList>, AppError> {
    Ok(Json(FacilityList {
        facilities: state.store.facilities().await?,
    }))
}

#[utoipa::path(post, path = "/shelters", tag = "assistance",
    request_body(content = FacilityInput, description = "{name, beds, max_stay_days (default 30), state_shelter (admission needs cooperation with law enforcement)}"),
    responses((status = 201, body = Facility), (status = 409, body = ErrorBody)))]
async fn add_facility(
    State(state): State<AppState>,
    a: Authed,
    ApiJson(raw): ApiJson<Value>,
) -> Result<Response, AppError> {
    let ctx = a.cx();
    let input: FacilityInput = org_body(&state, &ctx, Action::ManageDirectory, raw)?;
    let f = state.store.add_facility(&ctx, &input).await?;
    Ok(created(f))
}

#[utoipa::path(get, path = "/cases/{id}/shelter-stays", tag = "assistance",
    params(("id" = String, Path, description = "Case id (UUID)")),
    responses((status = 200, description = "Shelter stays with the length-of-stay rule today (ok / warning / blocked)", body = StayList)))]
async fn list_stays(State(state): State<AppState>, r: OnPath) -> Result<Json<StayList>, AppError> {
    let ([id], ctx) = (r.ids, r.cx());
    Ok(Json(StayList {
        stays: state.store.stays(&ctx, id).await?,
    }))
}

#[utoipa::path(post, path = "/cases/{id}/shelter-stays", tag = "assistance",
    params(("id" = String, Path, description = "Case id (UUID)")),
    request_body(content = AdmissionInput, description = "{facility_id, admitted_on (YYYY-MM-DD), dependants}"),
    responses((status = 201, body = Stay), (status = 422, description = "Not eligible, no free beds, or already admitted", body = ErrorBody)))]
async fn admit(
    State(state): State<AppState>,
    r: Body<AdmissionInput>,
) -> Result<Response, AppError> {
    let ([id], ctx, input) = (r.ids, r.auth.cx(), r.body);
    let s = state.store.admit(&ctx, id, &input).await?;
    Ok(created(s))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExtensionInput {
    pub days: i64,
    /// Why the stay must go on (encrypted).
    pub reason: String,
}

#[utoipa::path(post, path = "/cases/{id}/shelter-stays/{stay_id}/extensions", tag = "assistance",
    params(("id" = String, Path, description = "Case id (UUID)"), ("stay_id" = String, Path, description = "Stay id (UUID)")),
    request_body(content = ExtensionInput, description = "{days, reason (encrypted)}; counts once a supervisor approves"),
    responses((status = 201, body = Created)))]
async fn request_extension(
    State(state): State<AppState>,
    r: Body<ExtensionInput, UpdateCase, 2>,
) -> Result<Response, AppError> {
    let ([id, stay], ctx, input) = (r.ids, r.auth.cx(), r.body);
    let e = state
        .store
        .request_extension(&ctx, id, stay, input.days, &input.reason)
        .await?;
    Ok(created(Created { id: e }))
}

#[utoipa::path(post, path = "/cases/{id}/shelter-extensions/{extension_id}/approval", tag = "assistance",
    params(("id" = String, Path, description = "Case id (UUID)"), ("extension_id" = String, Path, description = "Extension id (UUID)")),
    responses((status = 204, description = "Approved by a supervisor")))]
async fn approve_extension(
    State(state): State<AppState>,
    r: OnPath<2>,
) -> Result<StatusCode, AppError> {
    let ([id, ext], ctx) = (r.ids, r.cx());
    state.store.approve_extension(&ctx, id, ext).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExitInput {
    pub exited_on: String,
    /// Family, IndependentHousing, OtherShelter, ReturnHome, Hospital, Unknown or Other.
    pub exit_destination: String,
}

#[utoipa::path(post, path = "/cases/{id}/shelter-stays/{stay_id}/exit", tag = "assistance",
    params(("id" = String, Path, description = "Case id (UUID)"), ("stay_id" = String, Path, description = "Stay id (UUID)")),
    request_body(content = ExitInput, description = "{exited_on, exit_destination}"),
    responses((status = 204, description = "Stay ended")))]
async fn exit_stay(
    State(state): State<AppState>,
    r: Body<ExitInput, UpdateCase, 2>,
) -> Result<StatusCode, AppError> {
    let ([id, stay], ctx, input) = (r.ids, r.auth.cx(), r.body);
    state
        .store
        .exit_stay(&ctx, id, stay, &input.exited_on, &input.exit_destination)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/cases/{id}/allowance", tag = "assistance",
    params(("id" = String, Path, description = "Case id (UUID)")),
    responses((status = 200, description = "One-time allowance payments of the case", body = PaymentList)))]
async fn list_payments(
    State(state): State<AppState>,
    r: OnPath,
) -> Result<Json<PaymentList>, AppError> {
    let ([id], ctx) = (r.ids, r.cx());
    Ok(Json(PaymentList {
        payments: state.store.payments(&ctx, id).await?,
    }))
}

#[utoipa::path(post, path = "/cases/{id}/allowance", tag = "assistance",
    params(("id" = String, Path, description = "Case id (UUID)")),
    responses((status = 201, description = "Allowance requested (amount from DAYAQ_ALLOWANCE_MINOR, default AZN 400)", body = Payment),
              (status = 409, description = "This person already received the allowance (any organisation)", body = ErrorBody),
              (status = 422, description = "Status is not ActualVictimOfTrafficking", body = ErrorBody)))]
async fn pay_allowance(State(state): State<AppState>, r: OnPath) -> Result<Response, AppError> {
    let ([id], ctx) = (r.ids, r.cx());
    let p = state
        .store
        .pay_allowance(&ctx, id, crate::settings::allowance_amount())
        .await?;
    Ok(created(p))
}

#[utoipa::path(post, path = "/cases/{id}/allowance/{payment_id}/status", tag = "assistance",
    params(("id" = String, Path, description = "Case id (UUID)"), ("payment_id" = String, Path, description = "Payment id (UUID)")),
    request_body(content = StatusChange, description = "{status: Requested | Paid | Cancelled} (supervisor)"),
    responses((status = 204, description = "Updated")))]
async fn set_payment_status(
    State(state): State<AppState>,
    r: Body<StatusChange, Approve, 2>,
) -> Result<StatusCode, AppError> {
    let ([id, payment], ctx, input) = (r.ids, r.auth.cx(), r.body);
    state
        .store
        .set_payment_status(&ctx, id, payment, &input.status)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/cases/{id}/services", tag = "assistance",
    params(("id" = String, Path, description = "Case id (UUID)")),
    responses((status = 200, description = "Services delivered (services section; health details need the health section)", body = ServiceList)))]
async fn list_services(
    State(state): State<AppState>,
    r: OnPath,
) -> Result<Json<ServiceList>, AppError> {
    let ([id], ctx) = (r.ids, r.cx());
    Ok(Json(ServiceList {
        services: state.store.services(&ctx, id).await?,
    }))
}

#[utoipa::path(post, path = "/cases/{id}/services", tag = "assistance",
    params(("id" = String, Path, description = "Case id (UUID)")),
    request_body(content = ServiceInput, description = "{service, provider_org (slug), started_on, ended_on, outcome (Ongoing | Completed | Discontinued | Declined), details (encrypted), cost_minor (qepik), funding_source_id, plan_action_id}"),
    responses((status = 201, body = Created)))]
async fn add_service(
    State(state): State<AppState>,
    r: Body<ServiceInput, RecordService>,
) -> Result<Response, AppError> {
    let ([id], ctx, input) = (r.ids, r.auth.cx(), r.body);
    let x = state.store.add_service(&ctx, id, &input).await?;
    Ok(created(Created { id: x }))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SourceInput {
    pub name: String,
    /// StateBudget, VictimAssistanceFund, Donor or Other.
    pub kind: String,
}

#[utoipa::path(get, path = "/funding-sources", tag = "assistance",
    responses((status = 200, description = "The organisation's funding sources with grants (supervisor, org admin)", body = FundingSourceList)))]
async fn list_funding(
    State(state): State<AppState>,
    a: Authed,
) -> Result<Json<FundingSourceList>, AppError> {
    let ctx = a.cx();
    Ok(Json(FundingSourceList {
        funding_sources: state.store.funding_sources(&ctx).await?,
    }))
}

#[utoipa::path(post, path = "/funding-sources", tag = "assistance",
    request_body(content = SourceInput, description = "{name, kind (StateBudget | VictimAssistanceFund | Donor | Other)}"),
    responses((status = 201, body = Created), (status = 409, body = ErrorBody)))]
async fn add_funding_source(
    State(state): State<AppState>,
    a: Authed,
    ApiJson(raw): ApiJson<Value>,
) -> Result<Response, AppError> {
    let ctx = a.cx();
    let input: SourceInput = org_body(&state, &ctx, Action::ManageDirectory, raw)?;
    let x = state
        .store
        .add_funding_source(&ctx, &input.name, &input.kind)
        .await?;
    Ok(created(Created { id: x }))
}

#[utoipa::path(post, path = "/funding-sources/{source_id}/grants", tag = "assistance",
    params(("source_id" = String, Path, description = "Funding source id (UUID)")),
    request_body(content = GrantInput, description = "{amount_minor, currency (ISO 4217), period_start, period_end, purpose}"),
    responses((status = 201, body = Created)))]
async fn add_grant(
    State(state): State<AppState>,
    r: OrgBody<GrantInput, ManageDirectory, 1>,
) -> Result<Response, AppError> {
    let ([source], ctx, input) = (r.ids, r.auth.cx(), r.body);
    let x = state.store.add_grant(&ctx, source, &input).await?;
    Ok(created(Created { id: x }))
}

#[utoipa::path(get, path = "/reports/costs", tag = "assistance",
    responses((status = 200, description = "Costs charged to the organisation's funding sources: per source, per survivor (case id), per service type (AZN minor units)", body = CostReport)))]
async fn cost_report(
    State(state): State<AppState>,
    a: Authed,
) -> Result<Json<CostReport>, AppError> {
    let ctx = a.cx();
    Ok(Json(state.store.cost_report(&ctx).await?))
}

list_bodies! {
    AssessmentList { assessments: Assessment }
    PlanList { plans: Plan }
    PendingPlanList { plans: PendingPlan }
    FacilityList { facilities: Facility }
    StayList { stays: Stay }
    PaymentList { payments: Payment }
    ServiceList { services: ServiceRecord }
    FundingSourceList { funding_sources: FundingSource }
}

#[utoipa::path(get, path = "/cases/{id}/plans/{plan_id}/pdf", tag = "assistance",
    params(("id" = String, Path, description = "Case id (UUID)"), ("plan_id" = String, Path, description = "Plan id (UUID)"), crate::documents::DocQuery),
    responses((status = 200, description = "The individual rehabilitation plan for signature as PDF (az/ru/en): her priorities in her words, goals, actions, dates, signature lines; for whoever may read the plan section; audited (`document.printed`); neutral file name",
               content_type = "application/pdf")))]
async fn plan_pdf(
    State(state): State<AppState>,
    r: OnPath<2>,
    ApiQuery(q): ApiQuery<crate::documents::DocQuery>,
) -> Result<Response, AppError> {
    let ([id, plan], ctx) = (r.ids, r.cx());
    let lang = q.lang(&r.auth)?;
    let src = state.store.plan_source(&ctx, id, plan).await?;
    let doc = crate::pages::plan_document(lang, &src);
    Ok(crate::documents::pdf_answer(&doc, "plan", ctx.now))
}
