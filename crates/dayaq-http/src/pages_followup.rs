//! Long-term follow-up screens: the survivor's contact protocol, the plan and its tasks
//! (schedule a contact, log a contact, an on-demand request), reintegration trajectory and
//! re-trafficking risk flags on the case page; the caseworker's due follow-ups on the home page.

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
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use dayaq_domain::ValidationErrors;
use dayaq_domain::followup::{QUESTIONS, QuestionKind, Window};
use dayaq_domain::policy::{Action, Resource, Section, decide};
use dayaq_storage::StoreError;
use dayaq_storage::cases::Ctx;
use dayaq_storage::followup::{AssessmentInput, LogInput, PlanInput, ProtocolInput};
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime, UtcOffset};
use uuid::Uuid;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/cases/{id}/followup/protocol", post(protocol_submit))
        .route("/cases/{id}/followup/plan", post(plan_submit))
        .route("/cases/{id}/followup/schedule", post(schedule_submit))
        .route("/cases/{id}/followup/contact", post(contact_submit))
        .route("/cases/{id}/followup/request", post(request_submit))
        .route("/cases/{id}/followup/assessment", post(assessment_submit))
        .route("/cases/{id}/followup/flag-goal", post(flag_goal_submit))
        .route(
            "/followup/schedule",
            axum::routing::get(schedule_page).post(schedule_submit_org),
        )
}

const CHANNELS: &[(&str, &str)] = &[
    ("phone", "fu-ch-phone"),
    ("sms", "fu-ch-sms"),
    ("messenger", "fu-ch-messenger"),
    ("email", "fu-ch-email"),
    ("visit", "fu-ch-visit"),
];
const WEEKDAYS: &[(u8, &str)] = &[
    (1, "fu-wd-1"),
    (2, "fu-wd-2"),
    (3, "fu-wd-3"),
    (4, "fu-wd-4"),
    (5, "fu-wd-5"),
    (6, "fu-wd-6"),
    (7, "fu-wd-7"),
];
const STATUSES: &[(&str, &str)] = &[
    ("upcoming", "fu-st-upcoming"),
    ("due", "fu-st-due"),
    ("overdue", "fu-st-overdue"),
    ("done", "fu-st-done"),
    ("cancelled", "fu-st-cancelled"),
];
const REQUESTS: &[(&str, &str)] = &[
    ("job_counselling", "fu-req-job-counselling"),
    ("psychological_support", "fu-req-psychological-support"),
    ("legal_help", "fu-req-legal-help"),
    ("housing", "fu-req-housing"),
    ("medical", "fu-req-medical"),
    ("safe_migration_advice", "fu-req-safe-migration-advice"),
    ("other_help", "fu-req-other-help"),
];
const FLAGS: &[(&str, &str)] = &[
    ("plans_abroad_for_work", "fu-flag-plans-abroad-for-work"),
    ("considering_migration", "fu-flag-considering-migration"),
    ("no_income", "fu-flag-no-income"),
    ("income_insufficient", "fu-flag-income-insufficient"),
    ("rejected_by_family", "fu-flag-rejected-by-family"),
    ("no_stable_housing", "fu-flag-no-stable-housing"),
    (
        "trafficker_circle_contact",
        "fu-flag-trafficker-circle-contact",
    ),
    ("unprotected", "fu-flag-unprotected"),
];
const ACTIONS: &[(&str, &str)] = &[
    (
        "safe_migration_counselling",
        "fu-act-safe-migration-counselling",
    ),
    ("job_counselling", "fu-act-job-counselling"),
    (
        "family_mediation_or_housing",
        "fu-act-family-mediation-or-housing",
    ),
    ("housing_referral", "fu-act-housing-referral"),
    ("safety_plan", "fu-act-safety-plan"),
];
const LEVELS: &[(&str, &str)] = &[("high", "fu-level-high"), ("medium", "fu-level-medium")];
const TRENDS: &[(&str, &str)] = &[
    ("better", "fu-trend-better"),
    ("same", "fu-trend-same"),
    ("worse", "fu-trend-worse"),
    ("not_comparable", "fu-trend-not-comparable"),
];
const BREACHES: &[(&str, &str)] = &[
    ("do_not_contact", "fu-br-do-not-contact"),
    ("channel_not_allowed", "fu-br-channel-not-allowed"),
    ("outside_safe_window", "fu-br-outside-safe-window"),
    ("caller_not_named", "fu-br-caller-not-named"),
];
const QUESTION_KEYS: &[(&str, &str)] = &[
    ("current_situation", "fu-q-current-situation"),
    ("compared_before", "fu-q-compared-before"),
    ("feel_integrated", "fu-q-feel-integrated"),
    ("employment", "fu-q-employment"),
    ("income_covers", "fu-q-income-covers"),
    ("living_with", "fu-q-living-with"),
    ("family_reconciliation", "fu-q-family-reconciliation"),
    ("children_schooling", "fu-q-children-schooling"),
    ("health_support", "fu-q-health-support"),
    ("psychological_support", "fu-q-psychological-support"),
    ("legal_issues", "fu-q-legal-issues"),
    ("future_plans", "fu-q-future-plans"),
    ("plans_migrate_abroad", "fu-q-plans-migrate-abroad"),
    ("trafficker_contact", "fu-q-trafficker-contact"),
    ("feel_protected", "fu-q-feel-protected"),
    ("knows_where_help", "fu-q-knows-where-help"),
    ("assistance_needed", "fu-q-assistance-needed"),
];

const DOMAINS: &[(&str, &str)] = &[
    ("situation", "fu-dom-situation"),
    ("integration", "fu-dom-integration"),
    ("employment", "fu-dom-employment"),
    ("housing", "fu-dom-housing"),
    ("family", "fu-dom-family"),
    ("health", "fu-dom-health"),
    ("legal", "fu-dom-legal"),
    ("future", "fu-dom-future"),
    ("safety", "fu-dom-safety"),
    ("needs", "fu-dom-needs"),
];
/// Labels of the questionnaire's answer codes (the codes themselves are the stable values
/// the API, the import and the export use).
const ANSWERS: &[(&str, &str)] = &[
    ("very_good", "fu-ans-very-good"),
    ("good", "fu-ans-good"),
    ("average", "fu-ans-average"),
    ("bad", "fu-ans-bad"),
    ("very_bad", "fu-ans-very-bad"),
    ("better", "fu-ans-better"),
    ("same", "fu-ans-same"),
    ("worse", "fu-ans-worse"),
    ("very_well", "fu-ans-very-well"),
    ("not_so_well", "fu-ans-not-so-well"),
    ("not_at_all", "fu-ans-not-at-all"),
    ("full_time", "fu-ans-full-time"),
    ("part_time", "fu-ans-part-time"),
    ("occasional", "fu-ans-occasional"),
    ("none", "fu-ans-none"),
    ("yes", "fu-ans-yes"),
    ("sometimes", "fu-ans-sometimes"),
    ("no", "fu-ans-no"),
    ("family", "fu-ans-family"),
    ("relatives", "fu-ans-relatives"),
    ("alone", "fu-ans-alone"),
    ("shelter", "fu-ans-shelter"),
    ("friends", "fu-ans-friends"),
    ("rented_room", "fu-ans-rented-room"),
    ("partner", "fu-ans-partner"),
    ("no_stable_place", "fu-ans-no-stable-place"),
    ("reconciled", "fu-ans-reconciled"),
    ("partly", "fu-ans-partly"),
    ("rejected", "fu-ans-rejected"),
    ("not_applicable", "fu-ans-not-applicable"),
    ("all_in_school", "fu-ans-all-in-school"),
    ("some_in_school", "fu-ans-some-in-school"),
    ("none_in_school", "fu-ans-none-in-school"),
    ("no_children", "fu-ans-no-children"),
    ("not_needed", "fu-ans-not-needed"),
    ("receiving", "fu-ans-receiving"),
    ("needed_not_receiving", "fu-ans-needed-not-receiving"),
    ("resolved", "fu-ans-resolved"),
    ("ongoing", "fu-ans-ongoing"),
    ("unresolved_needs_help", "fu-ans-unresolved-needs-help"),
    ("work_locally", "fu-ans-work-locally"),
    ("study", "fu-ans-study"),
    ("own_business", "fu-ans-own-business"),
    ("migrate", "fu-ans-migrate"),
    ("undecided", "fu-ans-undecided"),
    ("considering", "fu-ans-considering"),
    ("planning_for_work", "fu-ans-planning-for-work"),
    ("planning_other", "fu-ans-planning-other"),
    ("indirect", "fu-ans-indirect"),
    ("direct", "fu-ans-direct"),
    ("job", "fu-ans-job"),
    ("housing", "fu-ans-housing"),
    ("psychological", "fu-ans-psychological"),
    ("medical", "fu-ans-medical"),
    ("legal", "fu-ans-legal"),
    ("education", "fu-ans-education"),
    ("childcare", "fu-ans-childcare"),
    ("financial", "fu-ans-financial"),
    ("family_mediation", "fu-ans-family-mediation"),
];

fn answer_labels(t: &Tr, codes: &[String]) -> String {
    codes
        .iter()
        .map(|c| label(t, ANSWERS, c))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A field error of the follow-up forms: question keys get the question's label.
fn fu_error_text(t: &Tr, e: &dayaq_domain::FieldError) -> String {
    match QUESTION_KEYS.iter().find(|(k, _)| *k == e.field) {
        Some((_, q)) => format!(
            "{}: {}",
            t.get(q),
            t.get(&format!("err-{}", e.code.replace('_', "-")))
        ),
        None => error_text(t, e),
    }
}

fn label(t: &Tr, table: &[(&str, &str)], code: &str) -> String {
    table
        .iter()
        .find(|(c, _)| *c == code)
        .map(|(_, k)| t.get(k))
        .unwrap_or_else(|| code.to_string())
}

fn window_label(t: &Tr, w: &str) -> String {
    match Window::parse(w) {
        Some(w) => {
            let day = WEEKDAYS
                .iter()
                .find(|(d, _)| *d == w.weekday)
                .map(|(_, k)| t.get(k))
                .unwrap_or_default();
            format!("{day} {}", w.hours())
        }
        None => w.to_string(),
    }
}

pub struct Opt {
    pub value: String,
    pub label: String,
    pub on: bool,
}

pub struct ProtocolView {
    pub channels: String,
    pub windows: Vec<String>,
    pub do_not_contact: bool,
    pub language: String,
    pub safe_numbers: String,
    pub never_contact: String,
    pub never_places: String,
    pub cover_reason: String,
    pub code_word: String,
}

pub struct TaskRow {
    pub id: String,
    pub due_on: String,
    pub kind: String,
    pub status: String,
    pub status_code: String,
    pub planned: String,
}

pub struct ContactRow {
    pub at: String,
    pub channel: String,
    pub reached: bool,
    pub breaches: String,
    pub justification: String,
}

pub struct FlagRow {
    pub code: String,
    pub label: String,
    pub level: String,
    pub level_code: String,
    pub reasons: String,
    pub action: String,
}

pub struct TrajRow {
    pub question: String,
    pub answers: String,
    pub trend: String,
    pub trend_code: String,
}

/// The trajectory rows of one questionnaire domain.
pub struct TrajGroup {
    pub domain: String,
    pub rows: Vec<TrajRow>,
}

/// One question of the assessment entry form.
pub struct QField {
    pub key: String,
    pub label: String,
    pub multi: bool,
    pub options: Vec<Opt>,
    /// The previous assessment's answer (labels), empty when none.
    pub previous: String,
}

/// The questions of one domain in the entry form.
pub struct QGroup {
    pub domain: String,
    pub questions: Vec<QField>,
}

#[derive(Template)]
#[template(path = "followup_case.html")]
struct CaseSection {
    t: Tr,
    csrf: String,
    case_id: Uuid,
    can_edit: bool,
    protocol: Option<ProtocolView>,
    form_channels: Vec<Opt>,
    form_windows: String,
    form_dnc: bool,
    form_caller: String,
    form_language: String,
    plan_end: String,
    plan_months: String,
    plan_max_failed: String,
    lost_contact: bool,
    has_plan: bool,
    tasks: Vec<TaskRow>,
    open_tasks: Vec<Opt>,
    channels: Vec<Opt>,
    requests: Vec<Opt>,
    contacts: Vec<ContactRow>,
    assessments: usize,
    flags: Vec<FlagRow>,
    trajectories: Vec<TrajGroup>,
    form_groups: Vec<QGroup>,
    today: String,
    latest: String,
    latest_words: String,
    has_open_plan: bool,
    org_months: String,
    may_set_org_schedule: bool,
}

/// The followup part of the case page, rendered to HTML (empty when nothing to show).
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
    if !decide(
        &actor,
        Action::ReadSection(Section::FollowUp),
        Resource::Case(&facts),
    )
    .allowed
    {
        return Ok(String::new());
    }
    let can_edit = decide(&actor, Action::UpdateCase, Resource::Case(&facts)).allowed;
    let t = *t;
    let protocol = state.store.protocol(ctx, case).await?;
    let plan = state.store.plan(ctx, case).await?;
    let tasks = state.store.followup_tasks(ctx, case).await?;
    let contacts = state.store.followup_contacts(ctx, case).await?;
    let all = state.store.reintegration_assessments(ctx, case).await?;
    let assessments = all.len();
    let latest = all
        .last()
        .map(|a| format!("{} · {}", a.assessed_on, a.round))
        .unwrap_or_default();
    let latest_words = all
        .last()
        .and_then(|a| a.assistance_needed_words.clone())
        .unwrap_or_default();
    let history: Vec<dayaq_domain::followup::Answers> =
        all.into_iter().map(|a| a.answers).collect();
    let traj = dayaq_domain::followup::trajectories(&history);
    let flags = history
        .last()
        .map(dayaq_domain::followup::risk_flags)
        .unwrap_or_default();
    let has_open_plan = can_edit
        && decide(
            &actor,
            Action::ReadSection(Section::Plan),
            Resource::Case(&facts),
        )
        .allowed
        && state
            .store
            .plans(ctx, case)
            .await?
            .iter()
            .any(|p| p.actual_end.is_none());
    let org_schedule = state.store.followup_org_schedule(ctx).await?;
    let may_set_org_schedule = decide(
        &actor,
        Action::ManageDirectory,
        Resource::Organisation(actor.org_id),
    )
    .allowed;
    let caller_name = match protocol.as_ref().and_then(|p| p.caller_user) {
        Some(u) => state
            .store
            .user_by_id(u)
            .await
            .map(|u| u.username)
            .unwrap_or_default(),
        None => String::new(),
    };
    let on = |c: &str| {
        protocol
            .as_ref()
            .is_some_and(|p| p.channels.iter().any(|x| x == c))
    };
    let s = CaseSection {
        t,
        csrf: Chrome::for_user(state, a, "cases").csrf,
        case_id: case,
        can_edit,
        form_channels: CHANNELS
            .iter()
            .map(|(c, k)| Opt {
                value: (*c).into(),
                label: t.get(k),
                on: on(c),
            })
            .collect(),
        form_windows: protocol
            .as_ref()
            .map(|p| p.windows.join("\n"))
            .unwrap_or_default(),
        form_dnc: protocol.as_ref().is_some_and(|p| p.do_not_contact),
        form_caller: caller_name,
        form_language: protocol
            .as_ref()
            .map(|p| p.language.clone())
            .unwrap_or_else(|| "az".into()),
        protocol: protocol.map(|p| ProtocolView {
            channels: p
                .channels
                .iter()
                .map(|c| label(&t, CHANNELS, c))
                .collect::<Vec<_>>()
                .join(", "),
            windows: p.windows.iter().map(|w| window_label(&t, w)).collect(),
            do_not_contact: p.do_not_contact,
            language: p.language,
            safe_numbers: p.safe_numbers.join("\n"),
            never_contact: p.never_contact.join("\n"),
            never_places: p.never_places.join("\n"),
            cover_reason: p.cover_reason,
            code_word: p.code_word,
        }),
        has_plan: plan.is_some(),
        lost_contact: plan.as_ref().is_some_and(|p| p.lost_contact),
        plan_end: plan
            .as_ref()
            .map(|p| p.assistance_end.clone())
            .unwrap_or_default(),
        plan_months: plan
            .as_ref()
            .map(|p| {
                p.months
                    .iter()
                    .map(u32::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .unwrap_or_default(),
        plan_max_failed: plan
            .as_ref()
            .map(|p| p.max_failed.to_string())
            .unwrap_or_else(|| "3".into()),
        open_tasks: tasks
            .iter()
            .filter(|x| x.status != "done")
            .map(|x| Opt {
                value: x.id.to_string(),
                label: x.due_on.clone(),
                on: false,
            })
            .collect(),
        tasks: tasks
            .iter()
            .map(|x| TaskRow {
                id: x.id.to_string(),
                due_on: x.due_on.clone(),
                kind: match &x.request {
                    Some(r) => label(&t, REQUESTS, r),
                    None => t.get("fu-kind-scheduled"),
                },
                status: label(&t, STATUSES, &x.status),
                status_code: x.status.clone(),
                planned: match (&x.channel, &x.planned_at) {
                    (Some(c), Some(at)) => {
                        format!("{} · {}", label(&t, CHANNELS, c), t.datetime(at))
                    }
                    _ => String::new(),
                },
            })
            .collect(),
        channels: CHANNELS
            .iter()
            .map(|(c, k)| Opt {
                value: (*c).into(),
                label: t.get(k),
                on: false,
            })
            .collect(),
        requests: REQUESTS
            .iter()
            .map(|(c, k)| Opt {
                value: (*c).into(),
                label: t.get(k),
                on: false,
            })
            .collect(),
        contacts: contacts
            .into_iter()
            .map(|c| ContactRow {
                at: t.datetime(&c.at),
                channel: label(&t, CHANNELS, &c.channel),
                reached: c.reached,
                breaches: c
                    .breaches
                    .iter()
                    .map(|b| label(&t, BREACHES, b))
                    .collect::<Vec<_>>()
                    .join(", "),
                justification: c.justification.unwrap_or_default(),
            })
            .collect(),
        assessments,
        flags: flags
            .iter()
            .map(|f| FlagRow {
                code: f.code.to_string(),
                label: label(&t, FLAGS, f.code),
                level: label(&t, LEVELS, f.level),
                level_code: f.level.to_string(),
                reasons: f
                    .reasons
                    .iter()
                    .map(|(q, a)| {
                        format!(
                            "{} = {}",
                            label(&t, QUESTION_KEYS, q),
                            label(&t, ANSWERS, a)
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("; "),
                action: label(&t, ACTIONS, f.suggested_action),
            })
            .collect(),
        trajectories: DOMAINS
            .iter()
            .filter_map(|(d, dk)| {
                let rows: Vec<TrajRow> = traj
                    .iter()
                    .filter(|x| x.domain == *d && x.answers.iter().any(Option::is_some))
                    .map(|x| TrajRow {
                        question: label(&t, QUESTION_KEYS, x.key),
                        answers: x
                            .answers
                            .iter()
                            .map(|a| match a {
                                Some(a) => answer_labels(
                                    &t,
                                    &a.split('+').map(str::to_string).collect::<Vec<_>>(),
                                ),
                                None => "–".into(),
                            })
                            .collect::<Vec<_>>()
                            .join(" → "),
                        trend: label(&t, TRENDS, x.trend.as_str()),
                        trend_code: x.trend.as_str().into(),
                    })
                    .collect();
                (!rows.is_empty()).then(|| TrajGroup {
                    domain: t.get(dk),
                    rows,
                })
            })
            .collect(),
        form_groups: DOMAINS
            .iter()
            .map(|(d, dk)| QGroup {
                domain: t.get(dk),
                questions: QUESTIONS
                    .iter()
                    .filter(|q| q.domain == *d)
                    .map(|q| QField {
                        key: q.key.into(),
                        label: label(&t, QUESTION_KEYS, q.key),
                        multi: matches!(q.kind, QuestionKind::Multi),
                        options: q
                            .codes
                            .iter()
                            .map(|c| Opt {
                                value: (*c).into(),
                                label: label(&t, ANSWERS, c),
                                on: false,
                            })
                            .collect(),
                        previous: history
                            .last()
                            .and_then(|a| a.get(q.key))
                            .map(|v| answer_labels(&t, v))
                            .unwrap_or_default(),
                    })
                    .collect(),
            })
            .collect(),
        today: dayaq_storage::followup::today(ctx.now).to_string(),
        latest,
        latest_words,
        has_open_plan,
        org_months: org_schedule
            .months
            .iter()
            .map(u32::to_string)
            .collect::<Vec<_>>()
            .join(", "),
        may_set_org_schedule,
    };
    debug_assert_eq!(QUESTIONS.len(), QUESTION_KEYS.len());
    debug_assert!(
        QUESTIONS
            .iter()
            .all(|q| q.codes.iter().all(|c| ANSWERS.iter().any(|(a, _)| a == c)))
    );
    s.render().map_err(|e| AppError::Internal(e.to_string()))
}

pub struct DueRow {
    pub case_id: String,
    pub case_number: String,
    pub due_on: String,
    pub status: String,
    pub kind: String,
    pub windows: String,
    pub do_not_contact: bool,
}

#[derive(Template)]
#[template(path = "followup_home.html")]
struct HomeSection {
    t: Tr,
    rows: Vec<DueRow>,
    show_due: bool,
    manage_schedule: bool,
}

/// The followup part of the home page: the caseworker's follow-ups due today (and overdue)
/// with the protocol's safe window today.
pub(crate) async fn home_section(
    state: &AppState,
    a: &Authed,
    ctx: &Ctx<'_>,
    t: &Tr,
) -> Result<String, AppError> {
    let show_due = a.user.role.works_cases();
    let manage_schedule = may_manage_schedule(a);
    if !show_due && !manage_schedule {
        return Ok(String::new());
    }
    let t = *t;
    let due = if show_due {
        state.store.followups_due(ctx).await?
    } else {
        Vec::new()
    };
    let rows = due
        .into_iter()
        .map(|d| DueRow {
            case_id: d.task.case_id.to_string(),
            case_number: d.case_number.unwrap_or_default(),
            due_on: d.task.due_on.clone(),
            status: label(&t, STATUSES, &d.task.status),
            kind: match &d.task.request {
                Some(r) => label(&t, REQUESTS, r),
                None => t.get("fu-kind-scheduled"),
            },
            windows: if d.safe_windows_today.is_empty() {
                t.get("fu-home-no-window")
            } else {
                d.safe_windows_today.join(", ")
            },
            do_not_contact: d.do_not_contact,
        })
        .collect();
    HomeSection {
        t,
        rows,
        show_due,
        manage_schedule,
    }
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
fn values(form: &[(String, String)], key: &str) -> Vec<String> {
    form.iter()
        .filter(|(k, _)| k == key)
        .map(|(_, v)| v.clone())
        .collect()
}
fn lines(s: &str) -> Vec<String> {
    s.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

async fn outcome<T>(state: &AppState, a: &Authed, id: &str, r: Result<T, StoreError>) -> Response {
    match r {
        Ok(_) => see_other(&format!("/cases/{id}#followup")),
        Err(StoreError::Invalid(v)) => with_errors(state, a, id, v).await,
        Err(e) => error_page(state, None, lang_of(a), e.into()),
    }
}

async fn with_errors(state: &AppState, a: &Authed, id: &str, errs: ValidationErrors) -> Response {
    let t = Tr::new(lang_of(a));
    let msgs = errs.errors.iter().map(|e| fu_error_text(&t, e)).collect();
    render_case_with(state, a, id, false, msgs, StatusCode::UNPROCESSABLE_ENTITY)
        .await
        .unwrap_or_else(|e| error_page(state, None, t.lang, e))
}

fn invalid(field: &str, code: &'static str) -> ValidationErrors {
    ValidationErrors::single(dayaq_domain::FieldError::new(field, code, "invalid"))
}

/// A `datetime-local` value in Azerbaijan time (UTC+4).
fn local_time(s: &str) -> Option<OffsetDateTime> {
    let s = s.trim();
    if let Ok(t) = OffsetDateTime::parse(s, &Rfc3339) {
        return Some(t);
    }
    let p = PrimitiveDateTime::parse(
        s,
        format_description!("[year]-[month]-[day]T[hour]:[minute]"),
    )
    .ok()?;
    let off =
        UtcOffset::from_whole_seconds(dayaq_domain::followup::DEFAULT_UTC_OFFSET_MIN * 60).ok()?;
    Some(p.assume_offset(off))
}

async fn protocol_submit(
    State(state): State<AppState>,
    PageUser(a): PageUser,
    Path(id): Path<String>,
    Form(f): Form<Vec<(String, String)>>,
) -> Response {
    let Ok(uid) = Uuid::parse_str(&id) else {
        return error_page(&state, None, lang_of(&a), AppError::NotFound);
    };
    let input = ProtocolInput {
        channels: values(&f, "channels"),
        windows: lines(&value(&f, "windows")),
        utc_offset_min: None,
        do_not_contact: value(&f, "do_not_contact") == "yes",
        caller: Some(value(&f, "caller")),
        language: value(&f, "language"),
        safe_numbers: lines(&value(&f, "safe_numbers")),
        never_contact: lines(&value(&f, "never_contact")),
        never_places: lines(&value(&f, "never_places")),
        cover_reason: value(&f, "cover_reason"),
        code_word: value(&f, "code_word"),
    };
    let actor = a.actor();
    let ctx = a.ctx(&actor, &state);
    let r = state.store.set_protocol(&ctx, uid, &input).await;
    outcome(&state, &a, &id, r).await
}

async fn plan_submit(
    State(state): State<AppState>,
    PageUser(a): PageUser,
    Path(id): Path<String>,
    Form(f): Form<Vec<(String, String)>>,
) -> Response {
    let Ok(uid) = Uuid::parse_str(&id) else {
        return error_page(&state, None, lang_of(&a), AppError::NotFound);
    };
    // Empty: the organisation's default schedule.
    let months = match dayaq_domain::followup::parse_months(&value(&f, "months")) {
        Ok(m) if m.is_empty() => None,
        Ok(m) => Some(m),
        Err(e) => return with_errors(&state, &a, &id, e).await,
    };
    let Ok(max_failed) = value(&f, "max_failed").trim().parse::<u32>() else {
        return with_errors(&state, &a, &id, invalid("max_failed", "invalid")).await;
    };
    let input = PlanInput {
        assistance_end: value(&f, "assistance_end"),
        months,
        max_failed: Some(max_failed),
    };
    let actor = a.actor();
    let ctx = a.ctx(&actor, &state);
    let r = state.store.set_plan(&ctx, uid, &input).await;
    outcome(&state, &a, &id, r).await
}

async fn schedule_submit(
    State(state): State<AppState>,
    PageUser(a): PageUser,
    Path(id): Path<String>,
    Form(f): Form<Vec<(String, String)>>,
) -> Response {
    let (Ok(uid), Ok(task)) = (
        Uuid::parse_str(&id),
        Uuid::parse_str(value(&f, "task").trim()),
    ) else {
        return error_page(&state, None, lang_of(&a), AppError::NotFound);
    };
    let Some(when) = local_time(&value(&f, "planned_at")) else {
        return with_errors(&state, &a, &id, invalid("planned_at", "invalid_time")).await;
    };
    let actor = a.actor();
    let ctx = a.ctx(&actor, &state);
    let r = state
        .store
        .schedule_contact(&ctx, uid, task, value(&f, "channel").trim(), when)
        .await;
    outcome(&state, &a, &id, r).await
}

async fn contact_submit(
    State(state): State<AppState>,
    PageUser(a): PageUser,
    Path(id): Path<String>,
    Form(f): Form<Vec<(String, String)>>,
) -> Response {
    let Ok(uid) = Uuid::parse_str(&id) else {
        return error_page(&state, None, lang_of(&a), AppError::NotFound);
    };
    let Some(when) = local_time(&value(&f, "at")) else {
        return with_errors(&state, &a, &id, invalid("at", "invalid_time")).await;
    };
    let input = LogInput {
        task_id: Uuid::parse_str(value(&f, "task").trim()).ok(),
        channel: value(&f, "channel"),
        at: when.format(&Rfc3339).unwrap_or_default(),
        reached: value(&f, "reached") == "yes",
        justification: Some(value(&f, "justification")),
    };
    let actor = a.actor();
    let ctx = a.ctx(&actor, &state);
    let r = state.store.log_contact(&ctx, uid, &input).await;
    outcome(&state, &a, &id, r).await
}

async fn request_submit(
    State(state): State<AppState>,
    PageUser(a): PageUser,
    Path(id): Path<String>,
    Form(f): Form<Vec<(String, String)>>,
) -> Response {
    let Ok(uid) = Uuid::parse_str(&id) else {
        return error_page(&state, None, lang_of(&a), AppError::NotFound);
    };
    let actor = a.actor();
    let ctx = a.ctx(&actor, &state);
    let r = state
        .store
        .request_followup(&ctx, uid, value(&f, "request").trim())
        .await;
    outcome(&state, &a, &id, r).await
}

async fn assessment_submit(
    State(state): State<AppState>,
    PageUser(a): PageUser,
    Path(id): Path<String>,
    Form(f): Form<Vec<(String, String)>>,
) -> Response {
    let Ok(uid) = Uuid::parse_str(&id) else {
        return error_page(&state, None, lang_of(&a), AppError::NotFound);
    };
    let mut answers = dayaq_domain::followup::Answers::new();
    for q in QUESTIONS {
        let v: Vec<String> = values(&f, q.key)
            .into_iter()
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
            .collect();
        if !v.is_empty() {
            answers.insert(q.key.to_string(), v);
        }
    }
    let words = value(&f, "assistance_needed_words");
    let input = AssessmentInput {
        round: value(&f, "round"),
        assessed_on: value(&f, "assessed_on"),
        answers,
        assistance_needed_words: (!words.trim().is_empty()).then_some(words),
    };
    let actor = a.actor();
    let ctx = a.ctx(&actor, &state);
    match state
        .store
        .add_reintegration_assessment(&ctx, uid, &input)
        .await
    {
        // Back to the flags and the trajectory of the case.
        Ok(_) => see_other(&format!("/cases/{id}#fu-reintegration")),
        Err(StoreError::Invalid(v)) => with_errors(&state, &a, &id, v).await,
        Err(e) => error_page(&state, None, lang_of(&a), e.into()),
    }
}

async fn flag_goal_submit(
    State(state): State<AppState>,
    PageUser(a): PageUser,
    Path(id): Path<String>,
    Form(f): Form<Vec<(String, String)>>,
) -> Response {
    let Ok(uid) = Uuid::parse_str(&id) else {
        return error_page(&state, None, lang_of(&a), AppError::NotFound);
    };
    let t = Tr::new(lang_of(&a));
    let code = value(&f, "flag");
    let code = code.trim();
    // The goal's text in the caseworker's language: the flag and the suggestion.
    let description = format!(
        "{} — {}: {}",
        label(&t, FLAGS, code),
        t.get("fu-suggested"),
        dayaq_domain::followup::flag_action(code)
            .map(|act| label(&t, ACTIONS, act))
            .unwrap_or_default()
    );
    let actor = a.actor();
    let ctx = a.ctx(&actor, &state);
    match state
        .store
        .goal_from_flag(&ctx, uid, code, Some(&description))
        .await
    {
        Ok(_) => see_other(&format!("/cases/{id}#assistance")),
        Err(StoreError::Invalid(v)) => with_errors(&state, &a, &id, v).await,
        Err(e) => error_page(&state, None, lang_of(&a), e.into()),
    }
}

// ---------------------------------------------------------------------------------------------
// The organisation's default follow-up schedule

#[derive(Template)]
#[template(path = "followup_schedule.html")]
struct SchedulePage {
    c: Chrome,
    months: String,
    from_org: bool,
    updated_at: String,
    can_manage: bool,
    form_months: String,
    errors: Vec<String>,
    saved: bool,
}

fn may_manage_schedule(a: &Authed) -> bool {
    let actor = a.actor();
    decide(
        &actor,
        Action::ManageDirectory,
        Resource::Organisation(actor.org_id),
    )
    .allowed
}

async fn schedule_with(
    state: &AppState,
    a: &Authed,
    form_months: Option<String>,
    errors: Vec<String>,
    saved: bool,
    status: StatusCode,
) -> Response {
    let c = Chrome::for_user(state, a, "");
    let actor = a.actor();
    let ctx = a.ctx(&actor, state);
    let sched = match state.store.followup_org_schedule(&ctx).await {
        Ok(s) => s,
        Err(e) => {
            let lang = c.t.lang;
            return error_page(state, Some(c), lang, e.into());
        }
    };
    let months = sched
        .months
        .iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    let t = c.t;
    let page = SchedulePage {
        form_months: form_months.unwrap_or_else(|| months.clone()),
        months,
        from_org: sched.source == dayaq_domain::followup::ScheduleSource::Organisation,
        updated_at: sched
            .updated_at
            .as_deref()
            .map(|u| t.datetime(u))
            .unwrap_or_default(),
        can_manage: may_manage_schedule(a),
        errors,
        saved,
        c,
    };
    match page.render() {
        Ok(html) => (status, axum::response::Html(html)).into_response(),
        Err(e) => error_page(state, None, t.lang, AppError::Internal(e.to_string())),
    }
}

#[derive(serde::Deserialize)]
struct SavedQuery {
    #[serde(default)]
    saved: Option<String>,
}

async fn schedule_page(
    State(state): State<AppState>,
    PageUser(a): PageUser,
    axum::extract::Query(q): axum::extract::Query<SavedQuery>,
) -> Response {
    schedule_with(
        &state,
        &a,
        None,
        Vec::new(),
        q.saved.is_some(),
        StatusCode::OK,
    )
    .await
}

async fn schedule_submit_org(
    State(state): State<AppState>,
    PageUser(a): PageUser,
    Form(f): Form<Vec<(String, String)>>,
) -> Response {
    let raw = value(&f, "months");
    let t = Tr::new(lang_of(&a));
    let fail = |errs: ValidationErrors| -> Vec<String> {
        errs.errors.iter().map(|e| error_text(&t, e)).collect()
    };
    let months = match dayaq_domain::followup::parse_months(&raw) {
        Ok(m) => m,
        Err(e) => {
            let msgs = fail(e);
            return schedule_with(
                &state,
                &a,
                Some(raw),
                msgs,
                false,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
    };
    let actor = a.actor();
    let ctx = a.ctx(&actor, &state);
    match state.store.set_followup_org_schedule(&ctx, &months).await {
        Ok(_) => see_other("/followup/schedule?saved=1"),
        Err(StoreError::Invalid(v)) => {
            let msgs = fail(v);
            schedule_with(
                &state,
                &a,
                Some(raw),
                msgs,
                false,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => {
            let c = Chrome::for_user(&state, &a, "");
            let lang = c.t.lang;
            error_page(&state, Some(c), lang, e.into())
        }
    }
}
