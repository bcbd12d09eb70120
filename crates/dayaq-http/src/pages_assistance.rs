//! Assistance screens on the case page: needs assessment, the individual rehabilitation plan
//! with its gaps, supervisor approval, services delivered, shelter stays (length-of-stay rule)
//! and the one-time allowance; the supervisor's "waiting for approval" list on the home page.

use crate::AppState;
use crate::auth::{Authed, PageUser};
use crate::error::AppError;
use crate::i18n::{Lang, Tr};
use crate::pages::{Chrome, error_page, error_text, render_case_with, see_other};
use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use dayaq_domain::assistance::{STATE_SHELTER_MAX_STAY_DAYS, StayState};
use dayaq_domain::policy::{Action, Resource, Section, decide};
use dayaq_domain::referral::Service;
use dayaq_domain::{Role, ValidationErrors};
use dayaq_storage::StoreError;
use dayaq_storage::assistance::{
    ActionInput, AdmissionInput, AssessmentInput, FacilityInput, GoalInput, GrantInput, NeedInput,
    PlanInput, ServiceInput,
};
use dayaq_storage::cases::Ctx;
use uuid::Uuid;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/cases/{id}/assistance/assessment", post(assessment_submit))
        .route("/cases/{id}/assistance/plan", post(plan_submit))
        .route("/cases/{id}/assistance/goal", post(goal_submit))
        .route("/cases/{id}/assistance/action", post(action_submit))
        .route(
            "/cases/{id}/assistance/action-done",
            post(action_done_submit),
        )
        .route("/cases/{id}/assistance/agree", post(agree_submit))
        .route("/cases/{id}/assistance/approve", post(approve_submit))
        .route("/cases/{id}/assistance/service", post(service_submit))
        .route("/cases/{id}/assistance/allowance", post(allowance_submit))
        .route(
            "/cases/{id}/assistance/payment-status",
            post(payment_status_submit),
        )
        .route("/shelters", get(shelters_page).post(facility_submit))
        .route("/cases/{id}/shelter", get(case_shelter_page))
        .route("/cases/{id}/shelter/admit", post(admit_submit))
        .route("/cases/{id}/shelter/extension", post(extension_submit))
        .route(
            "/cases/{id}/shelter/extension-approve",
            post(extension_approve_submit),
        )
        .route("/cases/{id}/shelter/exit", post(exit_submit))
        .route("/funding", get(funding_page))
        .route("/funding/sources", post(source_submit))
        .route("/funding/grants", post(grant_submit))
}

const DOMAINS: &[(&str, &str)] = &[
    ("Safety", "asst-d-safety"),
    ("PhysicalHealth", "asst-d-physical-health"),
    ("MentalHealth", "asst-d-mental-health"),
    ("Legal", "asst-d-legal"),
    ("Housing", "asst-d-housing"),
    ("EmploymentIncome", "asst-d-employment-income"),
    ("EducationSkills", "asst-d-education-skills"),
    ("FamilySocial", "asst-d-family-social"),
    ("Dependants", "asst-d-dependants"),
];
const SEVERITIES: &[(&str, &str)] = &[
    ("None", "asst-sev-none"),
    ("Low", "asst-sev-low"),
    ("Medium", "asst-sev-medium"),
    ("High", "asst-sev-high"),
];
const PLAN_TYPES: &[(&str, &str)] = &[
    ("Education", "asst-t-education"),
    ("Financial", "asst-t-financial"),
    ("Health", "asst-t-health"),
    ("LabourExploitationRehabilitation", "asst-t-labour"),
    ("Legal", "asst-t-legal"),
    ("Livelihood", "asst-t-livelihood"),
    ("RightsBasedTraining", "asst-t-rights"),
    ("SexualExploitationRehabilitation", "asst-t-sexual"),
    ("SocialCare", "asst-t-social"),
];
const TERMS: &[(&str, &str)] = &[
    ("ShortTerm", "asst-term-short"),
    ("LongTerm", "asst-term-long"),
];
const ACTION_STATUSES: &[(&str, &str)] = &[
    ("Planned", "asst-st-planned"),
    ("InProgress", "asst-st-inprogress"),
    ("Done", "asst-st-done"),
    ("Cancelled", "asst-st-cancelled"),
];
const OUTCOMES: &[(&str, &str)] = &[
    ("Ongoing", "asst-o-ongoing"),
    ("Completed", "asst-o-completed"),
    ("Discontinued", "asst-o-discontinued"),
    ("Declined", "asst-o-declined"),
];
const PAYMENT_STATUSES: &[(&str, &str)] = &[
    ("Requested", "asst-pay-requested"),
    ("Paid", "asst-pay-paid"),
    ("Cancelled", "asst-pay-cancelled"),
];

fn label(t: &Tr, table: &[(&str, &str)], code: &str) -> String {
    table
        .iter()
        .find(|(c, _)| *c == code)
        .map(|(_, k)| t.get(k))
        .unwrap_or_else(|| code.to_string())
}
fn opts(t: &Tr, table: &[(&str, &str)]) -> Vec<Opt> {
    table
        .iter()
        .map(|(c, k)| Opt {
            value: (*c).into(),
            label: t.get(k),
        })
        .collect()
}
fn service_label(t: &Tr, s: &str) -> String {
    t.get(&format!("service-{}", s.to_lowercase()))
}
fn money(minor: i64) -> String {
    format!("{}.{:02} AZN", minor / 100, minor % 100)
}

pub struct Opt {
    pub value: String,
    pub label: String,
}

pub struct NeedRow {
    pub domain: String,
    pub severity: String,
    pub high: bool,
    pub notes: String,
    pub restricted: bool,
}

pub struct GoalRow {
    pub term: String,
    pub domain: String,
    pub description: String,
}

pub struct ActionRow {
    pub id: String,
    pub service: String,
    pub responsible: String,
    pub due_on: String,
    pub status: String,
    pub open: bool,
}

pub struct PlanView {
    pub id: String,
    pub spl_type: String,
    pub objectives: String,
    pub planned_end: String,
    pub review_on: String,
    pub agreed: bool,
    pub approved: bool,
    pub goals: Vec<GoalRow>,
    pub actions: Vec<ActionRow>,
    pub goal_opts: Vec<Opt>,
    pub gaps: Vec<String>,
}

pub struct ServiceRow {
    pub service: String,
    pub started_on: String,
    pub outcome: String,
    pub cost: String,
    pub details: String,
    pub restricted: bool,
}

pub struct StayRow {
    pub admitted_on: String,
    pub state: String,
    pub code: &'static str,
    pub exited: String,
}

pub struct PaymentRow {
    pub id: String,
    pub requested: bool,
    pub amount: String,
    pub status: String,
    pub created: String,
}

#[derive(Template)]
#[template(path = "assistance_case.html")]
struct CaseSection {
    t: Tr,
    csrf: String,
    case_id: Uuid,
    can_edit: bool,
    can_approve: bool,
    assessed: String,
    priorities: String,
    needs: Vec<NeedRow>,
    domains: Vec<Opt>,
    severities: Vec<Opt>,
    plan: Option<PlanView>,
    plan_types: Vec<Opt>,
    terms: Vec<Opt>,
    services: Vec<Opt>,
    outcomes: Vec<Opt>,
    delivered: Vec<ServiceRow>,
    show_services: bool,
    stays: Vec<StayRow>,
    payments: Vec<PaymentRow>,
    allowance: String,
    sources: Vec<Opt>,
}

/// The assistance part of the case page, rendered to HTML (empty when nothing to show).
pub(crate) async fn case_section(
    state: &AppState,
    a: &Authed,
    ctx: &Ctx<'_>,
    t: &Tr,
    case: Uuid,
) -> Result<String, AppError> {
    let Some(facts) = state.store.case_facts(case, ctx.now).await? else {
        return Ok(String::new());
    };
    let actor = a.actor();
    let allowed = |act: Action| decide(&actor, act, Resource::Case(&facts)).allowed;
    let show_plan = allowed(Action::ReadSection(Section::Plan));
    let show_services = allowed(Action::ReadSection(Section::Services));
    if !show_plan && !show_services {
        return Ok(String::new());
    }
    let can_edit = allowed(Action::UpdateCase);
    let can_approve = allowed(Action::Approve);
    let t = *t;
    let orgs = state.store.list_orgs().await?;
    let org_name = |oid: Uuid| {
        orgs.iter()
            .find(|o| o.id == oid)
            .map(|o| o.name.clone())
            .unwrap_or_default()
    };
    let (assessments, plans) = if show_plan {
        (
            state.store.assessments(ctx, case).await?,
            state.store.plans(ctx, case).await?,
        )
    } else {
        (Vec::new(), Vec::new())
    };
    let latest = assessments.first();
    let plan = plans.first().map(|p| {
        let mut gaps: Vec<String> = p
            .gaps
            .needs_without_action
            .iter()
            .map(|d| {
                format!(
                    "{}: {}",
                    t.get("asst-gap-need"),
                    label(&t, DOMAINS, d.as_str())
                )
            })
            .collect();
        for id in &p.gaps.overdue_actions {
            if let Some(x) = p.actions.iter().find(|x| x.id == *id) {
                gaps.push(format!(
                    "{}: {} ({})",
                    t.get("asst-gap-overdue"),
                    service_label(&t, &x.service),
                    x.due_on.clone().unwrap_or_default()
                ));
            }
        }
        for id in &p.gaps.long_term_goals_without_action {
            if let Some(g) = p.goals.iter().find(|g| g.id == *id) {
                gaps.push(format!("{}: {}", t.get("asst-gap-goal"), g.description));
            }
        }
        PlanView {
            id: p.id.to_string(),
            spl_type: label(&t, PLAN_TYPES, &p.spl_type),
            objectives: p.objectives.clone().unwrap_or_default(),
            planned_end: p.planned_end.clone().unwrap_or_default(),
            review_on: p.review_on.clone().unwrap_or_default(),
            agreed: p.survivor_agreed,
            approved: p.approved,
            goals: p
                .goals
                .iter()
                .map(|g| GoalRow {
                    term: label(&t, TERMS, &g.term),
                    domain: g
                        .domain
                        .as_deref()
                        .map(|d| label(&t, DOMAINS, d))
                        .unwrap_or_default(),
                    description: g.description.clone(),
                })
                .collect(),
            actions: p
                .actions
                .iter()
                .map(|x| ActionRow {
                    id: x.id.to_string(),
                    service: service_label(&t, &x.service),
                    responsible: org_name(x.responsible_org),
                    due_on: x.due_on.clone().unwrap_or_default(),
                    status: label(&t, ACTION_STATUSES, &x.status),
                    open: x.status == "Planned" || x.status == "InProgress",
                })
                .collect(),
            goal_opts: p
                .goals
                .iter()
                .map(|g| Opt {
                    value: g.id.to_string(),
                    label: format!("{} · {}", label(&t, TERMS, &g.term), g.description),
                })
                .collect(),
            gaps,
        }
    });
    let sources = if can_edit {
        state
            .store
            .funding_source_options(ctx)
            .await?
            .into_iter()
            .map(|s| Opt {
                value: s.id.to_string(),
                label: format!("{} · {}", s.name, label(&t, FUNDING_KINDS, &s.kind)),
            })
            .collect()
    } else {
        Vec::new()
    };
    let (delivered, stays, payments) = if show_services {
        (
            state.store.services(ctx, case).await?,
            state.store.stays(ctx, case).await?,
            state.store.payments(ctx, case).await?,
        )
    } else {
        (Vec::new(), Vec::new(), Vec::new())
    };
    let s = CaseSection {
        t,
        csrf: Chrome::for_user(state, a, "cases").csrf,
        case_id: case,
        can_edit,
        can_approve,
        assessed: latest
            .map(|x| t.datetime(&x.assessed_at))
            .unwrap_or_default(),
        priorities: latest
            .and_then(|x| x.priorities.clone())
            .unwrap_or_default(),
        needs: latest
            .map(|x| {
                x.needs
                    .iter()
                    .map(|n| NeedRow {
                        domain: label(&t, DOMAINS, &n.domain),
                        severity: label(&t, SEVERITIES, &n.severity),
                        high: n.severity == "High" || n.severity == "Medium",
                        notes: n.notes.clone().unwrap_or_default(),
                        restricted: n.health_restricted,
                    })
                    .collect()
            })
            .unwrap_or_default(),
        domains: opts(&t, DOMAINS),
        severities: opts(&t, SEVERITIES),
        plan,
        plan_types: opts(&t, PLAN_TYPES),
        terms: opts(&t, TERMS),
        services: Service::ALL
            .iter()
            .map(|s| Opt {
                value: s.as_str().into(),
                label: service_label(&t, s.as_str()),
            })
            .collect(),
        outcomes: opts(&t, OUTCOMES),
        delivered: delivered
            .iter()
            .map(|d| ServiceRow {
                service: service_label(&t, &d.service),
                started_on: d.started_on.clone(),
                outcome: label(&t, OUTCOMES, &d.outcome),
                cost: money(d.cost_minor),
                details: d.details.clone().unwrap_or_default(),
                restricted: d.health_restricted,
            })
            .collect(),
        show_services,
        stays: stays
            .iter()
            .map(|s| {
                let (state_label, code) = stay_label(&t, s.length_of_stay);
                StayRow {
                    admitted_on: s.admitted_on.clone(),
                    state: state_label,
                    code,
                    exited: s.exited_on.clone().unwrap_or_default(),
                }
            })
            .collect(),
        payments: payments
            .iter()
            .map(|p| PaymentRow {
                id: p.id.to_string(),
                requested: p.status == "Requested",
                amount: money(p.amount_minor),
                status: label(&t, PAYMENT_STATUSES, &p.status),
                created: t.datetime(&p.created_at),
            })
            .collect(),
        allowance: money(crate::api::assistance::allowance_amount()),
        sources,
    };
    s.render().map_err(|e| AppError::Internal(e.to_string()))
}

pub struct WaitingRow {
    pub case_id: String,
    pub spl_type: String,
    pub created: String,
}

#[derive(Template)]
#[template(path = "assistance_home.html")]
struct HomeSection {
    t: Tr,
    rows: Vec<WaitingRow>,
}

/// The assistance part of the home page: a supervisor's plans waiting for approval.
pub(crate) async fn home_section(
    state: &AppState,
    a: &Authed,
    ctx: &Ctx<'_>,
    t: &Tr,
) -> Result<String, AppError> {
    if a.user.role != Role::Supervisor {
        return Ok(String::new());
    }
    let t = *t;
    let rows = state
        .store
        .plans_waiting_approval(ctx)
        .await?
        .into_iter()
        .map(|p| WaitingRow {
            case_id: p.case_id.to_string(),
            spl_type: label(&t, PLAN_TYPES, &p.spl_type),
            created: t.datetime(&p.created_at),
        })
        .collect();
    HomeSection { t, rows }
        .render()
        .map_err(|e| AppError::Internal(e.to_string()))
}

// ---------------------------------------------------------------------------------------------
// Form handlers

fn lang_of(a: &Authed) -> Lang {
    Lang::parse(&a.user.locale).unwrap_or(Lang::Az)
}
fn value(form: &[(String, String)], key: &str) -> String {
    form.iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.clone())
        .unwrap_or_default()
}
fn opt_value(form: &[(String, String)], key: &str) -> Option<String> {
    Some(value(form, key).trim().to_string()).filter(|v| !v.is_empty())
}
fn opt_uuid(form: &[(String, String)], key: &str) -> Option<Uuid> {
    opt_value(form, key).and_then(|v| Uuid::parse_str(&v).ok())
}

async fn outcome<T>(state: &AppState, a: &Authed, id: &str, r: Result<T, StoreError>) -> Response {
    match r {
        Ok(_) => see_other(&format!("/cases/{id}#assistance")),
        Err(StoreError::Invalid(v)) => with_errors(state, a, id, v).await,
        Err(StoreError::AlreadyExists(w)) => {
            let v = ValidationErrors::single(dayaq_domain::FieldError::new(
                w,
                "already_exists",
                "already exists",
            ));
            with_errors(state, a, id, v).await
        }
        Err(e) => error_page(state, None, lang_of(a), e.into()),
    }
}

async fn with_errors(state: &AppState, a: &Authed, id: &str, errs: ValidationErrors) -> Response {
    let t = Tr::new(lang_of(a));
    let msgs = errs.errors.iter().map(|e| error_text(&t, e)).collect();
    render_case_with(state, a, id, false, msgs, StatusCode::UNPROCESSABLE_ENTITY)
        .await
        .unwrap_or_else(|e| error_page(state, None, t.lang, e))
}

macro_rules! case_uuid {
    ($state:expr, $a:expr, $id:expr) => {
        match Uuid::parse_str(&$id) {
            Ok(u) => u,
            Err(_) => return error_page(&$state, None, lang_of(&$a), AppError::NotFound),
        }
    };
}

async fn assessment_submit(
    State(state): State<AppState>,
    PageUser(a): PageUser,
    Path(id): Path<String>,
    Form(f): Form<Vec<(String, String)>>,
) -> Response {
    let uid = case_uuid!(state, a, id);
    let needs = DOMAINS
        .iter()
        .filter_map(|(d, _)| {
            let sev = opt_value(&f, &format!("sev-{d}"))?;
            Some(NeedInput {
                domain: (*d).into(),
                severity: sev,
                notes: opt_value(&f, &format!("notes-{d}")),
            })
        })
        .collect();
    let input = AssessmentInput {
        needs,
        priorities: opt_value(&f, "priorities"),
    };
    let actor = a.actor();
    let ctx = a.ctx(&actor, &state);
    let r = state.store.add_assessment(&ctx, uid, &input).await;
    outcome(&state, &a, &id, r).await
}

async fn plan_submit(
    State(state): State<AppState>,
    PageUser(a): PageUser,
    Path(id): Path<String>,
    Form(f): Form<Vec<(String, String)>>,
) -> Response {
    let uid = case_uuid!(state, a, id);
    let input = PlanInput {
        spl_type: value(&f, "spl_type"),
        objectives: opt_value(&f, "objectives"),
        planned_end: opt_value(&f, "planned_end"),
        review_on: opt_value(&f, "review_on"),
    };
    let actor = a.actor();
    let ctx = a.ctx(&actor, &state);
    let r = state.store.create_plan(&ctx, uid, &input).await;
    outcome(&state, &a, &id, r).await
}

async fn goal_submit(
    State(state): State<AppState>,
    PageUser(a): PageUser,
    Path(id): Path<String>,
    Form(f): Form<Vec<(String, String)>>,
) -> Response {
    let uid = case_uuid!(state, a, id);
    let Some(plan) = opt_uuid(&f, "plan") else {
        return error_page(&state, None, lang_of(&a), AppError::NotFound);
    };
    let input = GoalInput {
        term: value(&f, "term"),
        domain: opt_value(&f, "domain"),
        description: value(&f, "description"),
    };
    let actor = a.actor();
    let ctx = a.ctx(&actor, &state);
    let r = state.store.add_goal(&ctx, uid, plan, &input).await;
    outcome(&state, &a, &id, r).await
}

async fn action_submit(
    State(state): State<AppState>,
    PageUser(a): PageUser,
    Path(id): Path<String>,
    Form(f): Form<Vec<(String, String)>>,
) -> Response {
    let uid = case_uuid!(state, a, id);
    let Some(plan) = opt_uuid(&f, "plan") else {
        return error_page(&state, None, lang_of(&a), AppError::NotFound);
    };
    let input = ActionInput {
        goal_id: opt_uuid(&f, "goal"),
        domain: opt_value(&f, "domain"),
        service: value(&f, "service"),
        responsible_org: opt_value(&f, "responsible_org"),
        due_on: opt_value(&f, "due_on"),
        status: None,
    };
    let actor = a.actor();
    let ctx = a.ctx(&actor, &state);
    let r = state.store.add_action(&ctx, uid, plan, &input).await;
    outcome(&state, &a, &id, r).await
}

async fn action_done_submit(
    State(state): State<AppState>,
    PageUser(a): PageUser,
    Path(id): Path<String>,
    Form(f): Form<Vec<(String, String)>>,
) -> Response {
    let uid = case_uuid!(state, a, id);
    let Some(action) = opt_uuid(&f, "action") else {
        return error_page(&state, None, lang_of(&a), AppError::NotFound);
    };
    let actor = a.actor();
    let ctx = a.ctx(&actor, &state);
    let r = state
        .store
        .set_action_status(&ctx, uid, action, "Done")
        .await;
    outcome(&state, &a, &id, r).await
}

async fn agree_submit(
    State(state): State<AppState>,
    PageUser(a): PageUser,
    Path(id): Path<String>,
    Form(f): Form<Vec<(String, String)>>,
) -> Response {
    let uid = case_uuid!(state, a, id);
    let Some(plan) = opt_uuid(&f, "plan") else {
        return error_page(&state, None, lang_of(&a), AppError::NotFound);
    };
    let actor = a.actor();
    let ctx = a.ctx(&actor, &state);
    let r = state.store.record_plan_agreement(&ctx, uid, plan).await;
    outcome(&state, &a, &id, r).await
}

async fn approve_submit(
    State(state): State<AppState>,
    PageUser(a): PageUser,
    Path(id): Path<String>,
    Form(f): Form<Vec<(String, String)>>,
) -> Response {
    let uid = case_uuid!(state, a, id);
    let Some(plan) = opt_uuid(&f, "plan") else {
        return error_page(&state, None, lang_of(&a), AppError::NotFound);
    };
    let actor = a.actor();
    let ctx = a.ctx(&actor, &state);
    let r = state.store.approve_plan(&ctx, uid, plan).await;
    outcome(&state, &a, &id, r).await
}

async fn service_submit(
    State(state): State<AppState>,
    PageUser(a): PageUser,
    Path(id): Path<String>,
    Form(f): Form<Vec<(String, String)>>,
) -> Response {
    let uid = case_uuid!(state, a, id);
    // Cost is entered in AZN with up to two decimals.
    let cost_minor = match opt_value(&f, "cost") {
        None => 0,
        Some(c) => match c.replace(',', ".").parse::<f64>() {
            Ok(v) if v.is_finite() && v >= 0.0 => (v * 100.0).round() as i64,
            _ => {
                let v = ValidationErrors::single(dayaq_domain::FieldError::new(
                    "cost_minor",
                    "out_of_range",
                    "invalid cost",
                ));
                return with_errors(&state, &a, &id, v).await;
            }
        },
    };
    let input = ServiceInput {
        service: value(&f, "service"),
        provider_org: None,
        started_on: value(&f, "started_on"),
        ended_on: None,
        outcome: value(&f, "outcome"),
        details: opt_value(&f, "details"),
        cost_minor,
        funding_source_id: opt_uuid(&f, "funding_source_id"),
        plan_action_id: opt_uuid(&f, "action"),
    };
    let actor = a.actor();
    let ctx = a.ctx(&actor, &state);
    let r = state.store.add_service(&ctx, uid, &input).await;
    outcome(&state, &a, &id, r).await
}

async fn allowance_submit(
    State(state): State<AppState>,
    PageUser(a): PageUser,
    Path(id): Path<String>,
) -> Response {
    let uid = case_uuid!(state, a, id);
    let actor = a.actor();
    let ctx = a.ctx(&actor, &state);
    let r = state
        .store
        .pay_allowance(&ctx, uid, crate::api::assistance::allowance_amount())
        .await;
    outcome(&state, &a, &id, r).await
}

// ---------------------------------------------------------------------------------------------
// Shelter, funding and payment-status screens. Every form posts to a handler that calls the
// same storage method as the API; a refused form comes back with the values entered and each
// error next to its field (plus a summary at the top).

const EXIT_DESTINATIONS: &[(&str, &str)] = &[
    ("Family", "asst-exit-family"),
    ("IndependentHousing", "asst-exit-independent"),
    ("OtherShelter", "asst-exit-other-shelter"),
    ("ReturnHome", "asst-exit-return-home"),
    ("Hospital", "asst-exit-hospital"),
    ("Unknown", "asst-exit-unknown"),
    ("Other", "asst-exit-other"),
];
const FUNDING_KINDS: &[(&str, &str)] = &[
    ("StateBudget", "fund-kind-state"),
    ("VictimAssistanceFund", "fund-kind-fund"),
    ("Donor", "fund-kind-donor"),
    ("Other", "fund-kind-other"),
];

/// The values a form was posted with, to fill it again after a refusal.
#[derive(Default)]
pub struct Posted(Vec<(String, String)>);

impl Posted {
    pub fn v(&self, key: &str) -> String {
        value(&self.0, key)
    }
    pub fn is(&self, key: &str, v: &str) -> bool {
        self.v(key) == v
    }
}

/// Errors of one refused form: each next to its field, all in the summary.
#[derive(Default)]
pub struct FieldErrs {
    /// The form the errors belong to (pages with several forms show them only there).
    pub form: &'static str,
    pub by_field: Vec<(String, String)>,
    pub summary: Vec<String>,
}

impl FieldErrs {
    fn of(t: &Tr, form: &'static str, errs: &ValidationErrors) -> FieldErrs {
        FieldErrs {
            form,
            by_field: errs
                .errors
                .iter()
                .map(|e| {
                    let field = e.field.split('[').next().unwrap_or(&e.field).to_string();
                    (field, error_text(t, e))
                })
                .collect(),
            summary: errs.errors.iter().map(|e| error_text(t, e)).collect(),
        }
    }
    /// The message for `field` of form `form`, if any.
    pub fn get(&self, form: &str, field: &str) -> Option<String> {
        if self.form != form {
            return None;
        }
        let msgs: Vec<&str> = self
            .by_field
            .iter()
            .filter(|(f, _)| f == field)
            .map(|(_, m)| m.as_str())
            .collect();
        (!msgs.is_empty()).then(|| msgs.join("; "))
    }
    /// `aria-invalid` and `aria-describedby` for an input whose error is shown with id `err_id`.
    pub fn attrs(&self, form: &str, field: &str, err_id: &str) -> String {
        if self.get(form, field).is_some() {
            format!(" aria-invalid=\"true\" aria-describedby=\"{err_id}\"")
        } else {
            String::new()
        }
    }
}

fn field_err(field: &str, code: &'static str, msg: &str) -> ValidationErrors {
    ValidationErrors::single(dayaq_domain::FieldError::new(field, code, msg))
}

/// An amount typed in major units ("400", "400.5", "400,50") as minor units.
fn parse_money(field: &str, s: &str) -> Result<i64, ValidationErrors> {
    let s = s.trim().replace(',', ".");
    if s.is_empty() {
        return Ok(0);
    }
    let (whole, frac) = s.split_once('.').unwrap_or((&s, ""));
    let digits = |x: &str| x.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || !digits(whole) || !digits(frac) || frac.len() > 2 || whole.len() > 12 {
        return Err(field_err(field, "invalid_value", "not an amount"));
    }
    let whole: i64 = whole
        .parse()
        .map_err(|_| field_err(field, "invalid_value", "not an amount"))?;
    let frac: i64 = format!("{frac:0<2}")
        .parse()
        .map_err(|_| field_err(field, "invalid_value", "not an amount"))?;
    Ok(whole * 100 + frac)
}

/// A whole number typed into a form; empty gives `default`.
fn parse_int(field: &str, s: &str, default: i64) -> Result<i64, ValidationErrors> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(default);
    }
    s.parse()
        .map_err(|_| field_err(field, "invalid_number", "not a whole number"))
}

/// Collects parse errors of several fields.
fn gather(results: &[&Result<i64, ValidationErrors>]) -> Option<ValidationErrors> {
    let mut all = ValidationErrors::default();
    for r in results {
        if let Err(e) = r {
            for fe in &e.errors {
                all.push(fe.clone());
            }
        }
    }
    (!all.errors.is_empty()).then_some(all)
}

fn page_error(state: &AppState, a: &Authed, nav: &'static str, e: AppError) -> Response {
    let c = Chrome::for_user(state, a, nav);
    let lang = c.t.lang;
    error_page(state, Some(c), lang, e)
}

// ---------- shelter facilities ----------

pub struct FacilityRow {
    pub name: String,
    pub org: String,
    pub beds: i64,
    pub occupied: i64,
    pub available: i64,
    pub max_stay_days: i64,
    pub state_shelter: bool,
    pub full: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "shelter.html")]
struct ShelterPage {
    c: Chrome,
    rows: Vec<FacilityRow>,
    can_manage: bool,
    posted: Posted,
    errs: FieldErrs,
    total_beds: i64,
    total_available: i64,
}

/// Facilities are readable by any signed-in user (counts only, as `GET /shelters`); the
/// navigation links them for the roles that place survivors or plan capacity.
fn shelters_in_nav(role: Role) -> bool {
    role.works_cases()
        || matches!(
            role,
            Role::OrgAdmin | Role::SystemAdmin | Role::NationalCoordinator
        )
}

async fn shelters_with(
    state: &AppState,
    a: &Authed,
    posted: Posted,
    errs: FieldErrs,
    status: StatusCode,
) -> Response {
    let c = Chrome::for_user(state, a, "shelters");
    let r: Result<Response, AppError> = async {
        let orgs = state.store.list_orgs().await?;
        let facilities = state.store.facilities().await?;
        let actor = a.actor();
        let can_manage = decide(
            &actor,
            Action::ManageDirectory,
            Resource::Organisation(actor.org_id),
        )
        .allowed;
        let rows: Vec<FacilityRow> = facilities
            .iter()
            .map(|f| FacilityRow {
                name: f.name.clone(),
                org: orgs
                    .iter()
                    .find(|o| o.id == f.org_id)
                    .map(|o| o.name.clone())
                    .unwrap_or_default(),
                beds: f.beds,
                occupied: f.occupied,
                available: f.available,
                max_stay_days: f.max_stay_days,
                state_shelter: f.state_shelter,
                full: f.available == 0,
            })
            .collect();
        Ok((
            status,
            ShelterPage {
                total_beds: rows.iter().map(|r| r.beds).sum(),
                total_available: rows.iter().map(|r| r.available).sum(),
                c,
                rows,
                can_manage,
                posted,
                errs,
            },
        )
            .into_response())
    }
    .await;
    r.unwrap_or_else(|e| page_error(state, a, "shelters", e))
}

async fn shelters_page(State(state): State<AppState>, PageUser(a): PageUser) -> Response {
    shelters_with(
        &state,
        &a,
        Posted::default(),
        FieldErrs::default(),
        StatusCode::OK,
    )
    .await
}

async fn facility_submit(
    State(state): State<AppState>,
    PageUser(a): PageUser,
    Form(f): Form<Vec<(String, String)>>,
) -> Response {
    let t = Tr::new(lang_of(&a));
    let beds = parse_int("beds", &value(&f, "beds"), 0);
    let max = parse_int(
        "max_stay_days",
        &value(&f, "max_stay_days"),
        STATE_SHELTER_MAX_STAY_DAYS,
    );
    let posted = Posted(f);
    let mine = gather(&[&beds, &max]);
    // Unreadable numbers go to storage as 0, which it refuses (so nothing is written) while
    // it still checks the other fields.
    let input = FacilityInput {
        name: posted.v("name"),
        beds: beds.unwrap_or(0),
        max_stay_days: Some(max.unwrap_or(0)),
        state_shelter: !posted.v("state_shelter").is_empty(),
    };
    let actor = a.actor();
    let ctx = a.ctx(&actor, &state);
    match merged(mine, state.store.add_facility(&ctx, &input).await) {
        Ok(_) => see_other("/shelters"),
        Err(e) => match form_errors(e) {
            Ok(v) => {
                let e = FieldErrs::of(&t, "facility", &v);
                shelters_with(&state, &a, posted, e, StatusCode::UNPROCESSABLE_ENTITY).await
            }
            Err(e) => page_error(&state, &a, "shelters", e),
        },
    }
}

/// The form's own parse errors together with the storage method's validation, so that every
/// field's problem shows at once. The caller passes values storage refuses in place of the
/// unreadable ones, so nothing is written when `mine` holds errors.
fn merged<T>(mine: Option<ValidationErrors>, r: Result<T, StoreError>) -> Result<T, StoreError> {
    let Some(mut all) = mine else {
        return r;
    };
    match r {
        Err(StoreError::Invalid(v)) => {
            for e in v.errors {
                if !all.errors.iter().any(|m| m.field == e.field) {
                    all.push(e);
                }
            }
            Err(StoreError::Invalid(all))
        }
        Err(e @ (StoreError::NotFound | StoreError::Forbidden(_))) => Err(e),
        _ => Err(StoreError::Invalid(all)),
    }
}

/// Validation-like refusals become form errors; everything else an error page.
fn form_errors(e: StoreError) -> Result<ValidationErrors, AppError> {
    match e {
        StoreError::Invalid(v) => Ok(v),
        StoreError::AlreadyExists(w) => Ok(field_err(w, "already_exists", "already exists")),
        e => Err(e.into()),
    }
}

// ---------- shelter stays of one case ----------

pub struct ExtensionRow {
    pub id: String,
    pub days: i64,
    pub approved: bool,
}

pub struct StayView {
    pub id: String,
    pub facility: String,
    pub admitted_on: String,
    pub dependants: i64,
    pub open: bool,
    pub code: &'static str,
    pub state: String,
    pub exited_on: String,
    pub destination: String,
    pub extensions: Vec<ExtensionRow>,
}

#[derive(Template, WebTemplate)]
#[template(path = "shelter_case.html")]
struct CaseShelterPage {
    c: Chrome,
    case_id: Uuid,
    case_number: String,
    can_edit: bool,
    can_approve: bool,
    stays: Vec<StayView>,
    has_open: bool,
    facilities: Vec<Opt>,
    sources: Vec<Opt>,
    destinations: Vec<Opt>,
    today: String,
    posted: Posted,
    errs: FieldErrs,
}

fn stay_label(t: &Tr, s: Option<StayState>) -> (String, &'static str) {
    match s {
        Some(StayState::Ok { day, allowed_days }) => (
            format!("{} {day} / {allowed_days}", t.get("asst-stay-ok")),
            "ok",
        ),
        Some(StayState::Warning { days_left, .. }) => (
            format!("{}: {days_left}", t.get("asst-stay-warning")),
            "warning",
        ),
        Some(StayState::Blocked { day, allowed_days }) => (
            format!("{} {day} / {allowed_days}", t.get("asst-stay-blocked")),
            "blocked",
        ),
        None => (t.get("asst-exited"), "exited"),
    }
}

async fn case_shelter_with(
    state: &AppState,
    a: &Authed,
    id: &str,
    posted: Posted,
    errs: FieldErrs,
    status: StatusCode,
) -> Response {
    let r: Result<Response, AppError> = async {
        let case = Uuid::parse_str(id).map_err(|_| AppError::NotFound)?;
        let c = Chrome::for_user(state, a, "cases");
        let t = c.t;
        let actor = a.actor();
        let ctx = a.ctx(&actor, state);
        let view = state.store.get_case(&ctx, case, false).await?;
        let stays = state.store.stays(&ctx, case).await?;
        let facts = state
            .store
            .case_facts(case, ctx.now)
            .await?
            .ok_or(AppError::NotFound)?;
        let allowed = |act: Action| decide(&actor, act, Resource::Case(&facts)).allowed;
        let can_edit = allowed(Action::UpdateCase);
        let can_approve = allowed(Action::Approve);
        let facilities = state.store.facilities().await?;
        let sources = if can_edit {
            state.store.funding_source_options(&ctx).await?
        } else {
            Vec::new()
        };
        let stays: Vec<StayView> = stays
            .iter()
            .map(|s| {
                let (state_label, code) = stay_label(&t, s.length_of_stay);
                StayView {
                    id: s.id.to_string(),
                    facility: facilities
                        .iter()
                        .find(|f| f.id == s.facility_id)
                        .map(|f| f.name.clone())
                        .unwrap_or_default(),
                    admitted_on: s.admitted_on.clone(),
                    dependants: s.dependants,
                    open: s.exited_on.is_none(),
                    code,
                    state: state_label,
                    exited_on: s.exited_on.clone().unwrap_or_default(),
                    destination: s
                        .exit_destination
                        .as_deref()
                        .map(|d| label(&t, EXIT_DESTINATIONS, d))
                        .unwrap_or_default(),
                    extensions: s
                        .extensions
                        .iter()
                        .map(|e| ExtensionRow {
                            id: e.id.to_string(),
                            days: e.days,
                            approved: e.approved,
                        })
                        .collect(),
                }
            })
            .collect();
        Ok((
            status,
            CaseShelterPage {
                case_id: case,
                case_number: view.case_number.clone(),
                can_edit,
                can_approve,
                has_open: stays.iter().any(|s| s.open),
                stays,
                facilities: facilities
                    .iter()
                    .map(|f| Opt {
                        value: f.id.to_string(),
                        label: format!(
                            "{}{} — {}: {}/{}",
                            f.name,
                            if f.state_shelter {
                                format!(" ({})", t.get("shelter-state"))
                            } else {
                                String::new()
                            },
                            t.get("shelter-available"),
                            f.available,
                            f.beds,
                        ),
                    })
                    .collect(),
                sources: sources
                    .iter()
                    .map(|s| Opt {
                        value: s.id.to_string(),
                        label: format!("{} · {}", s.name, label(&t, FUNDING_KINDS, &s.kind)),
                    })
                    .collect(),
                destinations: opts(&t, EXIT_DESTINATIONS),
                today: dayaq_domain::assistance::fmt_date(ctx.now.date()),
                posted,
                errs,
                c,
            },
        )
            .into_response())
    }
    .await;
    r.unwrap_or_else(|e| page_error(state, a, "cases", e))
}

async fn case_shelter_page(
    State(state): State<AppState>,
    PageUser(a): PageUser,
    Path(id): Path<String>,
) -> Response {
    case_shelter_with(
        &state,
        &a,
        &id,
        Posted::default(),
        FieldErrs::default(),
        StatusCode::OK,
    )
    .await
}

/// After a shelter form: back to the shelter page, or the page again with the errors.
async fn shelter_outcome<T>(
    state: &AppState,
    a: &Authed,
    id: &str,
    form: &'static str,
    posted: Posted,
    r: Result<T, StoreError>,
) -> Response {
    match r {
        Ok(_) => see_other(&format!("/cases/{id}/shelter")),
        Err(e) => match form_errors(e) {
            Ok(v) => {
                let t = Tr::new(lang_of(a));
                let e = FieldErrs::of(&t, form, &v);
                case_shelter_with(state, a, id, posted, e, StatusCode::UNPROCESSABLE_ENTITY).await
            }
            Err(e) => page_error(state, a, "cases", e),
        },
    }
}

async fn admit_submit(
    State(state): State<AppState>,
    PageUser(a): PageUser,
    Path(id): Path<String>,
    Form(f): Form<Vec<(String, String)>>,
) -> Response {
    let uid = case_uuid!(state, a, id);
    let dependants = parse_int("dependants", &value(&f, "dependants"), 0);
    let daily = parse_money("daily_cost_minor", &value(&f, "daily_cost_minor"));
    let facility = opt_uuid(&f, "facility_id");
    let posted = Posted(f);
    let mut mine = gather(&[&dependants, &daily]).unwrap_or_default();
    if facility.is_none() {
        mine.push(dayaq_domain::FieldError::new(
            "facility_id",
            "required",
            "choose a shelter",
        ));
    }
    // Unreadable values go to storage as values it refuses (nothing is written).
    let input = AdmissionInput {
        facility_id: facility.unwrap_or(Uuid::nil()),
        admitted_on: posted.v("admitted_on"),
        dependants: dependants.unwrap_or(-1),
        daily_cost_minor: daily.unwrap_or(-1),
        funding_source_id: opt_uuid(&posted.0, "funding_source_id"),
    };
    let actor = a.actor();
    let ctx = a.ctx(&actor, &state);
    let mine = (!mine.errors.is_empty()).then_some(mine);
    let r = merged(mine, state.store.admit(&ctx, uid, &input).await);
    shelter_outcome(&state, &a, &id, "admit", posted, r).await
}

async fn extension_submit(
    State(state): State<AppState>,
    PageUser(a): PageUser,
    Path(id): Path<String>,
    Form(f): Form<Vec<(String, String)>>,
) -> Response {
    let uid = case_uuid!(state, a, id);
    let Some(stay) = opt_uuid(&f, "stay") else {
        return page_error(&state, &a, "cases", AppError::NotFound);
    };
    let days = parse_int("days", &value(&f, "days"), 0);
    let posted = Posted(f);
    let actor = a.actor();
    let ctx = a.ctx(&actor, &state);
    let r = merged(
        gather(&[&days]),
        state
            .store
            .request_extension(
                &ctx,
                uid,
                stay,
                days.clone().unwrap_or(0),
                &posted.v("reason"),
            )
            .await,
    );
    shelter_outcome(&state, &a, &id, "extension", posted, r).await
}

async fn extension_approve_submit(
    State(state): State<AppState>,
    PageUser(a): PageUser,
    Path(id): Path<String>,
    Form(f): Form<Vec<(String, String)>>,
) -> Response {
    let uid = case_uuid!(state, a, id);
    let Some(ext) = opt_uuid(&f, "extension") else {
        return page_error(&state, &a, "cases", AppError::NotFound);
    };
    let actor = a.actor();
    let ctx = a.ctx(&actor, &state);
    let r = state.store.approve_extension(&ctx, uid, ext).await;
    shelter_outcome(&state, &a, &id, "approve", Posted(f), r).await
}

async fn exit_submit(
    State(state): State<AppState>,
    PageUser(a): PageUser,
    Path(id): Path<String>,
    Form(f): Form<Vec<(String, String)>>,
) -> Response {
    let uid = case_uuid!(state, a, id);
    let Some(stay) = opt_uuid(&f, "stay") else {
        return page_error(&state, &a, "cases", AppError::NotFound);
    };
    let posted = Posted(f);
    let actor = a.actor();
    let ctx = a.ctx(&actor, &state);
    let r = state
        .store
        .exit_stay(
            &ctx,
            uid,
            stay,
            &posted.v("exited_on"),
            &posted.v("exit_destination"),
        )
        .await;
    shelter_outcome(&state, &a, &id, "exit", posted, r).await
}

// ---------- allowance payment status (supervisor) ----------

async fn payment_status_submit(
    State(state): State<AppState>,
    PageUser(a): PageUser,
    Path(id): Path<String>,
    Form(f): Form<Vec<(String, String)>>,
) -> Response {
    let uid = case_uuid!(state, a, id);
    let Some(payment) = opt_uuid(&f, "payment") else {
        return error_page(&state, None, lang_of(&a), AppError::NotFound);
    };
    let actor = a.actor();
    let ctx = a.ctx(&actor, &state);
    let r = state
        .store
        .set_payment_status(&ctx, uid, payment, &value(&f, "status"))
        .await;
    outcome(&state, &a, &id, r).await
}

// ---------- funding ----------

pub struct GrantRow {
    pub amount: String,
    pub period: String,
    pub purpose: String,
}

pub struct SourceRow {
    pub name: String,
    pub kind: String,
    pub grants: Vec<GrantRow>,
}

pub struct CostRow {
    pub name: String,
    pub services: String,
    pub shelter: String,
    pub total: String,
}

pub struct OverviewRow {
    pub label: String,
    pub sources: String,
    pub grants: String,
    pub survivors: String,
    pub services: String,
    pub shelter: String,
    pub total: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "funding.html")]
struct FundingPage {
    c: Chrome,
    can_manage: bool,
    sources: Vec<SourceRow>,
    source_opts: Vec<Opt>,
    kinds: Vec<Opt>,
    per_source: Vec<CostRow>,
    per_survivor: Vec<(String, String, String)>,
    per_service: Vec<(String, String)>,
    total: String,
    overview: Option<(Vec<OverviewRow>, Vec<OverviewRow>, String, String)>,
    posted: Posted,
    errs: FieldErrs,
}

/// Amounts in minor units of `currency`, e.g. "1 250.00 USD".
fn amount(minor: i64, currency: &str) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    let m = minor.unsigned_abs();
    let whole = (m / 100).to_string();
    let mut grouped = String::new();
    for (i, ch) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i).is_multiple_of(3) {
            grouped.push('\u{a0}');
        }
        grouped.push(ch);
    }
    format!("{sign}{grouped}.{:02} {currency}", m % 100)
}

fn may_see_funding(actor: &dayaq_domain::Actor) -> (bool, bool) {
    let manage = decide(
        actor,
        Action::ManageDirectory,
        Resource::Organisation(actor.org_id),
    )
    .allowed;
    let national = decide(actor, Action::ReadStatistics, Resource::System).allowed;
    (manage, national)
}

async fn funding_with(
    state: &AppState,
    a: &Authed,
    posted: Posted,
    errs: FieldErrs,
    status: StatusCode,
) -> Response {
    let actor = a.actor();
    let (can_manage, national) = may_see_funding(&actor);
    if !can_manage && !national {
        return page_error(
            state,
            a,
            "funding",
            AppError::Forbidden("role_cannot_see_funding"),
        );
    }
    let c = Chrome::for_user(state, a, "funding");
    let r: Result<Response, AppError> = async {
        let t = c.t;
        let ctx = a.ctx(&actor, state);
        let (sources, report) = if can_manage {
            (
                state.store.funding_sources(&ctx).await?,
                state.store.cost_report(&ctx).await?,
            )
        } else {
            Default::default()
        };
        let overview = if national {
            let o = state.store.funding_overview(&ctx).await?;
            let cash = |m: Option<i64>| {
                m.map(|m| amount(m, "AZN"))
                    .unwrap_or_else(|| t.get("fund-suppressed"))
            };
            let kinds = o
                .per_kind
                .iter()
                .map(|k| OverviewRow {
                    label: label(&t, FUNDING_KINDS, &k.kind),
                    sources: k.sources.to_string(),
                    grants: k
                        .grants
                        .iter()
                        .map(|(cur, n)| amount(*n, cur))
                        .collect::<Vec<_>>()
                        .join(", "),
                    survivors: k.survivors.to_string(),
                    services: cash(k.services_minor),
                    shelter: cash(k.shelter_minor),
                    total: cash(k.total_minor),
                })
                .collect();
            let services = o
                .per_service
                .iter()
                .map(|s| OverviewRow {
                    label: service_label(&t, &s.service),
                    sources: String::new(),
                    grants: String::new(),
                    survivors: s.survivors.to_string(),
                    services: String::new(),
                    shelter: String::new(),
                    total: cash(s.total_minor),
                })
                .collect();
            Some((
                kinds,
                services,
                o.survivors.map(|c| c.to_string()).unwrap_or_default(),
                cash(o.total_minor),
            ))
        } else {
            None
        };
        Ok((
            status,
            FundingPage {
                can_manage,
                source_opts: sources
                    .iter()
                    .map(|s| Opt {
                        value: s.id.to_string(),
                        label: s.name.clone(),
                    })
                    .collect(),
                sources: sources
                    .iter()
                    .map(|s| SourceRow {
                        name: s.name.clone(),
                        kind: label(&t, FUNDING_KINDS, &s.kind),
                        grants: s
                            .grants
                            .iter()
                            .map(|g| GrantRow {
                                amount: amount(g.amount_minor, &g.currency),
                                period: format!("{} – {}", g.period_start, g.period_end),
                                purpose: g.purpose.clone(),
                            })
                            .collect(),
                    })
                    .collect(),
                kinds: opts(&t, FUNDING_KINDS),
                per_source: report
                    .per_source
                    .iter()
                    .map(|s| CostRow {
                        name: s.name.clone(),
                        services: amount(s.services_minor, "AZN"),
                        shelter: amount(s.shelter_minor, "AZN"),
                        total: amount(s.total_minor, "AZN"),
                    })
                    .collect(),
                per_survivor: report
                    .per_survivor
                    .iter()
                    .map(|(case, n)| {
                        let id = case.to_string();
                        let short = id.chars().take(8).collect();
                        (id, short, amount(*n, "AZN"))
                    })
                    .collect(),
                per_service: report
                    .per_service
                    .iter()
                    .map(|(s, n)| (service_label(&t, s), amount(*n, "AZN")))
                    .collect(),
                total: amount(report.total_minor, "AZN"),
                overview,
                posted,
                errs,
                c,
            },
        )
            .into_response())
    }
    .await;
    r.unwrap_or_else(|e| page_error(state, a, "funding", e))
}

async fn funding_page(State(state): State<AppState>, PageUser(a): PageUser) -> Response {
    funding_with(
        &state,
        &a,
        Posted::default(),
        FieldErrs::default(),
        StatusCode::OK,
    )
    .await
}

async fn funding_refused(
    state: &AppState,
    a: &Authed,
    form: &'static str,
    posted: Posted,
    e: StoreError,
) -> Response {
    match form_errors(e) {
        Ok(v) => {
            let t = Tr::new(lang_of(a));
            let e = FieldErrs::of(&t, form, &v);
            funding_with(state, a, posted, e, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(e) => page_error(state, a, "funding", e),
    }
}

async fn source_submit(
    State(state): State<AppState>,
    PageUser(a): PageUser,
    Form(f): Form<Vec<(String, String)>>,
) -> Response {
    let posted = Posted(f);
    let actor = a.actor();
    let ctx = a.ctx(&actor, &state);
    match state
        .store
        .add_funding_source(&ctx, &posted.v("name"), &posted.v("kind"))
        .await
    {
        Ok(_) => see_other("/funding"),
        Err(e) => funding_refused(&state, &a, "source", posted, e).await,
    }
}

async fn grant_submit(
    State(state): State<AppState>,
    PageUser(a): PageUser,
    Form(f): Form<Vec<(String, String)>>,
) -> Response {
    let source = opt_uuid(&f, "source");
    let amount_minor = parse_money("amount_minor", &value(&f, "amount_minor"));
    let posted = Posted(f);
    let Some(source) = source else {
        let e = field_err("source", "required", "choose a funding source");
        return funding_refused(&state, &a, "grant", posted, StoreError::Invalid(e)).await;
    };
    // An unreadable amount goes to storage as 0, which it refuses (nothing is written).
    let input = GrantInput {
        amount_minor: amount_minor.clone().unwrap_or(0),
        currency: posted.v("currency").trim().to_uppercase(),
        period_start: posted.v("period_start"),
        period_end: posted.v("period_end"),
        purpose: posted.v("purpose"),
    };
    let actor = a.actor();
    let ctx = a.ctx(&actor, &state);
    match merged(
        gather(&[&amount_minor]),
        state.store.add_grant(&ctx, source, &input).await,
    ) {
        Ok(_) => see_other("/funding"),
        Err(e) => funding_refused(&state, &a, "grant", posted, e).await,
    }
}

/// Which assistance links the navigation shows: (shelters, funding).
pub(crate) fn nav_links(a: &Authed) -> (bool, bool) {
    let (manage, national) = may_see_funding(&a.actor());
    (shelters_in_nav(a.user.role), manage || national)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_is_parsed_in_major_units() {
        assert_eq!(parse_money("x", "400").ok(), Some(40_000));
        assert_eq!(parse_money("x", "400,5").ok(), Some(40_050));
        assert_eq!(parse_money("x", " 12.34 ").ok(), Some(1_234));
        assert_eq!(parse_money("x", "").ok(), Some(0));
        for bad in ["-1", "1.234", "abc", ".5", "1e3", "1.2.3"] {
            let e = parse_money("amount_minor", bad).unwrap_err();
            assert_eq!(e.errors[0].field, "amount_minor", "{bad}");
        }
        assert_eq!(amount(123_456_789, "USD"), "1\u{a0}234\u{a0}567.89 USD");
        assert_eq!(amount(5, "AZN"), "0.05 AZN");
    }

    #[test]
    fn field_errors_stay_with_their_form() {
        let t = Tr::new(Lang::En);
        let mut v = ValidationErrors::default();
        v.push(dayaq_domain::FieldError::new("beds", "out_of_range", "x"));
        let e = FieldErrs::of(&t, "facility", &v);
        assert!(e.get("facility", "beds").is_some());
        assert!(e.get("facility", "name").is_none());
        assert!(e.get("other", "beds").is_none());
        assert!(
            e.attrs("facility", "beds", "f-beds-err")
                .contains("aria-invalid")
        );
        assert_eq!(e.summary.len(), 1);
    }
}
