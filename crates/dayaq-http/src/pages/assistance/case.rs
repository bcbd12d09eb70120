//! The assistance section of the case page and the supervisor's list on the home page.

use super::*;

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
    /// Her priorities in her words (sealed; rules of practice).
    pub priorities: String,
    pub planned_end: String,
    pub review_on: String,
    pub agreed: bool,
    pub approved: bool,
    pub goals: Vec<GoalRow>,
    pub actions: Vec<ActionRow>,
    pub goal_opts: Vec<Opt>,
    pub gaps: Vec<String>,
    /// No objectives, end in the past (domain `plan_warnings`): approval asks to confirm them.
    pub warnings: Vec<String>,
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
pub(super) struct CaseSection<'a> {
    t: Tr,
    /// The forms' state (refused form, confirmation, one-time token).
    forms: &'a CaseForms,
    csrf: String,
    case_id: Uuid,
    can_edit: bool,
    can_approve: bool,
    /// Issue #23 §8/§10: each button asks the policy (`CaseButtons`).
    can_service: bool,
    can_plan_action: bool,
    can_allowance: bool,
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
pub(crate) async fn case_section(part: CasePart<'_>) -> Result<String, AppError> {
    let (state, a, ctx, t, case) = part.parts();
    let Some(facts) = part.facts().await? else {
        return Ok(String::new());
    };
    let actor = &a.actor;
    let allowed = |act: Action| decide(actor, act, Resource::Case(&facts)).allowed;
    let show_plan = allowed(Action::ReadSection(Section::Plan));
    let show_services = allowed(Action::ReadSection(Section::Services));
    if !show_plan && !show_services {
        return Ok(String::new());
    }
    let buttons = dayaq_domain::policy::CaseButtons::of(actor, &facts);
    let can_edit = buttons.update;
    let can_approve = buttons.approve;
    // A receiving organisation records only the services it was asked to deliver.
    let asked = if facts.owner_org == actor.org_id {
        Service::ALL.to_vec()
    } else {
        state.store.asked_services(ctx, case).await?
    };
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
                    t.date(x.due_on.as_deref().unwrap_or_default())
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
            spl_type: if p.spl_type_restricted {
                t.get("recv-not-shared")
            } else {
                label(&t, PLAN_TYPES, &p.spl_type)
            },
            objectives: p.objectives.clone().unwrap_or_default(),
            priorities: p.priorities.clone().unwrap_or_default(),
            planned_end: t.date(p.planned_end.as_deref().unwrap_or_default()),
            review_on: t.date(p.review_on.as_deref().unwrap_or_default()),
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
                    due_on: t.date(x.due_on.as_deref().unwrap_or_default()),
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
            warnings: dayaq_domain::assistance::plan_warnings(
                p.objectives.as_deref(),
                p.planned_end.as_deref(),
                ctx.now.date(),
            )
            .iter()
            .map(|w| t.get(&format!("err-{}", w.code.replace('_', "-"))))
            .collect(),
        }
    });
    let sources = if buttons.record_service {
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
        forms: part.forms,
        csrf: Chrome::for_user(state, a, "cases").csrf,
        case_id: case,
        can_edit,
        can_approve,
        can_service: buttons.record_service,
        can_plan_action: buttons.plan_action,
        can_allowance: buttons.request_allowance,
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
        services: asked
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
                started_on: t.date(&d.started_on),
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
                    admitted_on: t.date(&s.admitted_on),
                    state: state_label,
                    code,
                    exited: t.date(s.exited_on.as_deref().unwrap_or_default()),
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
        allowance: money(crate::settings::allowance_amount()),
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
pub(super) struct HomeSection {
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
