//! Retention screens (issue #17 part 3): `/retention` — the organisation's rules (one small
//! form per record kind, the refused value kept and its error beside the field) and the
//! preview "these N records will be erased on D" grouped by kind and day; and the legal-hold
//! part of the case page (status for every reader, set/lift forms for supervisors).

use super::form::{Back, CaseForm, CaseForms, FormSpec, Opt, Posted, lang_of, value};
use crate::AppState;
use crate::auth::{Authed, PageUser};
use crate::error::AppError;
use crate::i18n::Tr;
use crate::pages::{CasePart, Chrome, error_page, error_text, see_other};
use askama::Template;
use axum::Router;
use axum::extract::{Form, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use dayaq_domain::ValidationErrors;
use dayaq_domain::policy::{Action, Resource, decide};
use dayaq_domain::retention::{HoldReason, LiftReason, RecordKind};
use dayaq_storage::StoreError;
use uuid::Uuid;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/retention", get(retention_page))
        .route("/retention/rules", post(rule_submit))
        .route("/cases/{id}/legal-hold", post(hold_submit))
        .route("/cases/{id}/legal-hold/lift", post(lift_submit))
}

const BACK: Back = Back::to("legal-hold");

/// The legal-hold forms of the case page (one form pattern, issue #23).
const HOLD: FormSpec = FormSpec {
    name: "hold",
    done: "hold",
    ids: &[("reason", "ret-hold-reason")],
};
const LIFT_HOLD: FormSpec = FormSpec {
    name: "hold-lift",
    done: "hold-lifted",
    ids: &[("reason", "ret-lift-reason")],
};

fn kind_label(t: &Tr, k: RecordKind) -> String {
    t.get(match k {
        RecordKind::CaseIdentity => "ret-kind-case-identity",
        RecordKind::CaseNotes => "ret-kind-case-notes",
        RecordKind::ContactsWithoutCase => "ret-kind-contacts-without-case",
        RecordKind::Sessions => "ret-kind-sessions",
        RecordKind::AuditRows => "ret-kind-audit-rows",
    })
}

fn hold_label(t: &Tr, r: HoldReason) -> String {
    t.get(match r {
        HoldReason::Prosecution => "ret-hold-prosecution",
        HoldReason::CivilClaim => "ret-hold-civil-claim",
        HoldReason::SurvivorRequest => "ret-hold-survivor-request",
        HoldReason::CourtOrder => "ret-hold-court-order",
    })
}

fn lift_label(t: &Tr, r: LiftReason) -> String {
    t.get(match r {
        LiftReason::ProceedingsEnded => "ret-lift-proceedings-ended",
        LiftReason::OrderLifted => "ret-lift-order-lifted",
        LiftReason::SurvivorRequest => "ret-lift-survivor-request",
        LiftReason::SetInError => "ret-lift-set-in-error",
    })
}

/// The timeline labels of this area's case events (`event-` + kind, by `pages::event_text`).
#[cfg(test)]
const EVENT_KEYS: &[&str] = &[
    "event-retention-hold",
    "event-retention-hold-lifted",
    "event-retention-notes-cleared",
];

/// One rule's row: its form keeps a refused value and shows the error beside it.
pub struct RuleRow {
    pub kind: String,
    pub label: String,
    pub months: String,
    pub minimum: u32,
    pub default_months: u32,
    pub is_default: bool,
    pub executed: bool,
    pub error: String,
}

pub struct GroupRow {
    pub kind: String,
    pub on: String,
    pub count: u64,
}

#[derive(Template)]
#[template(path = "retention.html")]
struct RetentionPage {
    c: Chrome,
    rules: Vec<RuleRow>,
    groups: Vec<GroupRow>,
    total: u64,
    days: String,
    until: String,
    days_error: String,
    saved: bool,
}

#[derive(serde::Deserialize)]
struct PageQuery {
    #[serde(default)]
    days: Option<String>,
    #[serde(default)]
    saved: Option<String>,
}

/// A refused rule: its kind, the value typed, the message.
struct Refused {
    kind: String,
    months: String,
    message: String,
}

async fn render(
    state: &AppState,
    a: &Authed,
    days_raw: Option<String>,
    refused: Option<Refused>,
    saved: bool,
    status: StatusCode,
) -> Response {
    let c = Chrome::for_user(state, a, "");
    let t = c.t;
    let ctx = a.cx();
    let rules = match state.store.retention_rules(&ctx).await {
        Ok(r) => r,
        Err(e) => return error_page(state, Some(c), t.lang, e.into()),
    };
    let days_text = days_raw.unwrap_or_else(|| "90".into());
    let (days, mut days_error) = match days_text.trim().parse::<i64>() {
        Ok(d) => (d, String::new()),
        Err(_) => (90, t.get("ret-days-invalid")),
    };
    let preview = match state.store.retention_preview(&ctx, days).await {
        Ok(p) => Some(p),
        Err(StoreError::Invalid(v)) => {
            days_error = v
                .errors
                .first()
                .map(|e| error_text(&t, e))
                .unwrap_or_default();
            None
        }
        Err(e) => return error_page(state, Some(c), t.lang, e.into()),
    };
    let (groups, total, until) = match &preview {
        Some(p) => (
            p.groups
                .iter()
                .map(|g| GroupRow {
                    kind: kind_label(&t, g.kind),
                    on: g.erased_on.clone(),
                    count: g.count,
                })
                .collect(),
            p.total,
            p.until.clone(),
        ),
        None => (Vec::new(), 0, String::new()),
    };
    let page = RetentionPage {
        rules: rules
            .rules
            .iter()
            .map(|r| {
                let mine = refused.as_ref().filter(|f| f.kind == r.kind.as_str());
                RuleRow {
                    kind: r.kind.as_str().into(),
                    label: kind_label(&t, r.kind),
                    months: mine
                        .map(|f| f.months.clone())
                        .unwrap_or_else(|| r.months.to_string()),
                    minimum: r.legal_minimum_months,
                    default_months: r.default_months,
                    is_default: r.is_default,
                    executed: r.executed_by_job,
                    error: mine.map(|f| f.message.clone()).unwrap_or_default(),
                }
            })
            .collect(),
        groups,
        total,
        days: days_text,
        until,
        days_error,
        saved,
        c,
    };
    match page.render() {
        Ok(html) => (status, axum::response::Html(html)).into_response(),
        Err(e) => error_page(state, None, t.lang, AppError::Internal(e.to_string())),
    }
}

async fn retention_page(
    State(state): State<AppState>,
    PageUser(a): PageUser,
    Query(q): Query<PageQuery>,
) -> Response {
    render(&state, &a, q.days, None, q.saved.is_some(), StatusCode::OK).await
}

async fn rule_submit(
    State(state): State<AppState>,
    PageUser(a): PageUser,
    Form(f): Form<Vec<(String, String)>>,
) -> Response {
    let kind = value(&f, "kind");
    let raw = value(&f, "months");
    let t = Tr::new(lang_of(&a));
    let ctx = a.cx();
    let refuse = |v: ValidationErrors| Refused {
        kind: kind.clone(),
        months: raw.clone(),
        message: v
            .errors
            .first()
            .map(|e| error_text(&t, e))
            .unwrap_or_default(),
    };
    let months = match raw.trim().parse::<i64>() {
        Ok(m) => m,
        Err(_) => {
            // Authorise first: a refused caller learns nothing from the input's errors.
            if let Err(e) = state.store.retention_rules(&ctx).await {
                return error_page(&state, None, t.lang, e.into());
            }
            let v = ValidationErrors::single(dayaq_domain::FieldError::new(
                "months",
                "invalid_number",
                "a whole number of months",
            ));
            let r = refuse(v);
            return render(
                &state,
                &a,
                None,
                Some(r),
                false,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
    };
    match state
        .store
        .set_retention_rule(&ctx, kind.trim(), months)
        .await
    {
        Ok(_) => see_other("/retention?saved=1"),
        Err(StoreError::Invalid(v)) => {
            let r = refuse(v);
            render(
                &state,
                &a,
                None,
                Some(r),
                false,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => error_page(&state, None, t.lang, e.into()),
    }
}

async fn hold_submit(State(state): State<AppState>, c: CaseForm) -> Response {
    let CaseForm { a, id, uid, f } = c;
    let ctx = a.cx();
    let r = state
        .store
        .set_legal_hold(&ctx, uid, value(&f, "reason").trim())
        .await;
    BACK.answer(&state, &a, &id, &HOLD, Posted(f), r).await
}

async fn lift_submit(State(state): State<AppState>, c: CaseForm) -> Response {
    let CaseForm { a, id, uid, f } = c;
    let ctx = a.cx();
    let r = state
        .store
        .lift_legal_hold(&ctx, uid, value(&f, "reason").trim())
        .await;
    BACK.answer(&state, &a, &id, &LIFT_HOLD, Posted(f), r).await
}

#[derive(Template)]
#[template(path = "retention_case.html")]
struct HoldSection<'a> {
    t: Tr,
    forms: &'a CaseForms,
    csrf: String,
    case_id: Uuid,
    held: bool,
    reason: String,
    set_at: String,
    can_hold: bool,
    hold_reasons: Vec<Opt>,
    lift_reasons: Vec<Opt>,
}

/// The legal-hold part of the case page: for every reader of the case; the forms for those
/// who may set a hold (a supervisor of the owning organisation).
pub(crate) async fn case_section(part: CasePart<'_>) -> Result<String, AppError> {
    let Some(facts) = part.facts().await? else {
        return Ok(String::new());
    };
    let forms = part.forms;
    let (state, a, ctx, t, case) = part.parts();
    let actor = &a.actor;
    if !decide(actor, Action::ReadCase, Resource::Case(&facts)).allowed {
        return Ok(String::new());
    }
    let t = *t;
    let hold = state.store.legal_hold(ctx, case).await?;
    let s = HoldSection {
        forms,
        csrf: Chrome::for_user(state, a, "cases").csrf,
        case_id: case,
        held: hold.held,
        reason: hold.reason.map(|r| hold_label(&t, r)).unwrap_or_default(),
        set_at: hold
            .set_at
            .as_deref()
            .map(|s| t.datetime(s))
            .unwrap_or_default(),
        can_hold: decide(actor, Action::HoldCase, Resource::Case(&facts)).allowed,
        hold_reasons: HoldReason::ALL
            .iter()
            .map(|r| Opt {
                value: r.as_str().into(),
                label: hold_label(&t, *r),
            })
            .collect(),
        lift_reasons: LiftReason::ALL
            .iter()
            .map(|r| Opt {
                value: r.as_str().into(),
                label: lift_label(&t, *r),
            })
            .collect(),
        t,
    };
    s.render().map_err(|e| AppError::Internal(e.to_string()))
}

#[derive(Template)]
#[template(path = "retention_home.html")]
struct HomeSection {
    t: Tr,
}

/// The home page's retention card, for those who manage retention (supervisors): the way to
/// the rules and the preview (no query: the home page stays quick).
pub(crate) async fn home_section(
    _state: &AppState,
    a: &Authed,
    _ctx: &dayaq_storage::cases::Ctx<'_>,
    t: &Tr,
) -> Result<String, AppError> {
    let actor = &a.actor;
    if !decide(
        actor,
        Action::ManageRetention,
        Resource::Organisation(actor.org_id),
    )
    .allowed
    {
        return Ok(String::new());
    }
    HomeSection { t: *t }
        .render()
        .map_err(|e| AppError::Internal(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::EVENT_KEYS;
    use crate::i18n::{Lang, Tr};

    #[test]
    fn retention_event_labels_resolve() {
        for lang in [Lang::Az, Lang::Ru, Lang::En] {
            let t = Tr::new(lang);
            for k in EVENT_KEYS {
                assert_ne!(t.get(k), *k, "{k}");
            }
        }
    }
}
