//! Assistance screens on the case page: needs assessment, the individual rehabilitation plan
//! with its gaps, supervisor approval, services delivered, shelter stays (length-of-stay rule)
//! and the one-time allowance; the supervisor's "waiting for approval" list on the home page.

use crate::AppState;
use crate::auth::{Authed, PageUser};
use crate::error::AppError;
use crate::i18n::{Lang, Tr};
use crate::pages::{Chrome, error_page, error_text, render_case_with, see_other};
use askama::Template;
use axum::Form;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::post;
use dayaq_domain::assistance::{DEFAULT_ALLOWANCE_MINOR, StayState};
use dayaq_domain::policy::{Action, Resource, Section, decide};
use dayaq_domain::referral::Service;
use dayaq_domain::{Role, ValidationErrors};
use dayaq_storage::StoreError;
use dayaq_storage::assistance::{
    ActionInput, AssessmentInput, GoalInput, NeedInput, PlanInput, ServiceInput,
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
                let (state_label, code) = match s.length_of_stay {
                    Some(StayState::Ok { day, .. }) => {
                        (format!("{} ({day})", t.get("asst-stay-ok")), "ok")
                    }
                    Some(StayState::Warning { days_left, .. }) => (
                        format!("{} ({days_left})", t.get("asst-stay-warning")),
                        "warning",
                    ),
                    Some(StayState::Blocked { day, .. }) => {
                        (format!("{} ({day})", t.get("asst-stay-blocked")), "blocked")
                    }
                    None => (t.get("asst-exited"), "exited"),
                };
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
                amount: money(p.amount_minor),
                status: label(&t, PAYMENT_STATUSES, &p.status),
                created: t.datetime(&p.created_at),
            })
            .collect(),
        allowance: money(DEFAULT_ALLOWANCE_MINOR),
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
        funding_source_id: None,
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
        .pay_allowance(&ctx, uid, DEFAULT_ALLOWANCE_MINOR)
        .await;
    outcome(&state, &a, &id, r).await
}
