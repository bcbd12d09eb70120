//! The rules-of-practice screen (`/rules`, issue #17 part 4): the recovery and reflection
//! period, every shelter facility's admission conditions (with the CoE art. 12(6) warning
//! where a cooperation condition is on) and this year's refusals by reason. Anyone signed in
//! reads it; the forms are the national coordinator's (`ManagePracticeRules`). The same
//! storage calls as `/api/v1/rules/*`; refused input is kept and shown beside its field.

use crate::AppState;
use crate::auth::{Authed, PageUser};
use crate::error::AppError;
use crate::i18n::Tr;
use crate::pages::form::{Back, CaseForm, lang_of, opt_value, value};
use crate::pages::{Chrome, error_page, see_other};
use crate::paths::parse_id;
use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Form, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use dayaq_domain::policy::{Action, Resource, decide};
use dayaq_domain::{FieldError, ValidationErrors};
use dayaq_storage::rules::{AdmissionRulesInput, PrioritiesInput};
use time::{Date, Month};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/rules", get(rules_page))
        .route("/rules/reflection-period", post(reflection_submit))
        .route("/rules/facilities/{id}", post(facility_submit))
        .route("/cases/{id}/assistance/priorities", post(priorities_submit))
}

/// Her priorities go back to the plan on the case page (`#assistance`).
const PLAN_BACK: Back = Back::to("assistance");

async fn priorities_submit(State(state): State<AppState>, c: CaseForm) -> Response {
    let CaseForm { a, id, uid, f } = c;
    let Some(plan) = opt_value(&f, "plan").and_then(|v| uuid::Uuid::parse_str(&v).ok()) else {
        return error_page(&state, None, lang_of(&a), AppError::NotFound);
    };
    let input = PrioritiesInput {
        words: value(&f, "words"),
    };
    let ctx = a.cx();
    let r = state
        .store
        .set_plan_priorities(&ctx, uid, plan, &input)
        .await;
    PLAN_BACK.outcome(&state, &a, &id, r).await
}

pub struct FacilityView {
    pub id: String,
    pub name: String,
    pub requires_cooperation: bool,
}

pub struct RefusalView {
    pub label: String,
    pub count: i64,
}

#[derive(Template, WebTemplate)]
#[template(path = "rules.html")]
struct RulesPage {
    c: Chrome,
    can_edit: bool,
    /// The days field as typed (kept after a refusal).
    days: String,
    days_error: Option<String>,
    summary: Vec<String>,
    saved: bool,
    facilities: Vec<FacilityView>,
    year: i32,
    refusals: Vec<RefusalView>,
}

fn field_text(t: &Tr, e: &FieldError) -> String {
    let label = match e.field.as_str() {
        "days" => t.get("rules-days"),
        _ => t.get("rules-facility"),
    };
    format!(
        "{label}: {}",
        t.get(&format!("err-{}", e.code.replace('_', "-")))
    )
}

async fn render(
    state: &AppState,
    a: &Authed,
    days: Option<String>,
    errs: Option<&ValidationErrors>,
    saved: bool,
    status: StatusCode,
) -> Response {
    let c = Chrome::for_user(state, a, "shelters");
    let lang = c.t.lang;
    let r: Result<Response, AppError> = async {
        let setting = state.store.reflection_setting().await?;
        let can_edit = decide(&a.actor, Action::ManagePracticeRules, Resource::System).allowed;
        let facilities = state
            .store
            .facility_rules()
            .await?
            .into_iter()
            .map(|f| FacilityView {
                id: f.facility_id.to_string(),
                name: f.name,
                requires_cooperation: f.rules.requires_cooperation,
            })
            .collect();
        let year = a.now.year();
        let refusals = if can_edit {
            let cx = a.cx();
            let from = Date::from_calendar_date(year, Month::January, 1)
                .map_err(|_| AppError::NotFound)?;
            let to = Date::from_calendar_date(year, Month::December, 31)
                .map_err(|_| AppError::NotFound)?;
            state
                .store
                .admission_refusal_counts(&cx, from, to)
                .await?
                .into_iter()
                .map(|r| RefusalView {
                    label: match r.reason.as_str() {
                        "cooperation_required" => c.t.get("rules-reason-cooperation-required"),
                        other => other.to_string(),
                    },
                    count: r.count,
                })
                .collect()
        } else {
            Vec::new()
        };
        let days_error = errs.and_then(|v| {
            v.errors
                .iter()
                .find(|e| e.field == "days")
                .map(|e| field_text(&c.t, e))
        });
        let summary = errs
            .map(|v| v.errors.iter().map(|e| field_text(&c.t, e)).collect())
            .unwrap_or_default();
        Ok((
            status,
            RulesPage {
                can_edit,
                days: days.unwrap_or_else(|| setting.days.to_string()),
                days_error,
                summary,
                saved,
                facilities,
                year,
                refusals,
                c,
            },
        )
            .into_response())
    }
    .await;
    r.unwrap_or_else(|e| {
        let c = Chrome::for_user(state, a, "shelters");
        error_page(state, Some(c), lang, e)
    })
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct PageQuery {
    pub saved: Option<String>,
}

async fn rules_page(
    State(state): State<AppState>,
    PageUser(a): PageUser,
    crate::api::ApiQuery(q): crate::api::ApiQuery<PageQuery>,
) -> Response {
    let saved = q.saved.as_deref() == Some("1");
    render(&state, &a, None, None, saved, StatusCode::OK).await
}

async fn reflection_submit(
    State(state): State<AppState>,
    PageUser(a): PageUser,
    Form(f): Form<Vec<(String, String)>>,
) -> Response {
    let typed = value(&f, "days");
    let cx = a.cx();
    let r: Result<(), AppError> = async {
        state.store.authorize_rules(&cx).await?;
        let days = typed.trim().parse::<i64>().map_err(|_| {
            AppError::Invalid(ValidationErrors::single(FieldError::new(
                "days",
                "invalid_number",
                "not a whole number",
            )))
        })?;
        state.store.set_reflection_days(&cx, days).await?;
        Ok(())
    }
    .await;
    match r {
        Ok(()) => see_other("/rules?saved=1"),
        Err(AppError::Invalid(errs)) => {
            render(
                &state,
                &a,
                Some(typed),
                Some(&errs),
                false,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => {
            let c = Chrome::for_user(&state, &a, "shelters");
            let lang = c.t.lang;
            error_page(&state, Some(c), lang, e)
        }
    }
}

async fn facility_submit(
    State(state): State<AppState>,
    PageUser(a): PageUser,
    Path(id): Path<String>,
    Form(f): Form<Vec<(String, String)>>,
) -> Response {
    let cx = a.cx();
    let r: Result<(), AppError> = async {
        state.store.authorize_rules(&cx).await?;
        let id = parse_id(&id)?;
        let input = AdmissionRulesInput {
            requires_cooperation: !value(&f, "requires_cooperation").is_empty(),
        };
        state.store.set_admission_rules(&cx, id, &input).await?;
        Ok(())
    }
    .await;
    match r {
        Ok(()) => see_other("/rules?saved=1#facility-rules"),
        Err(e) => {
            let c = Chrome::for_user(&state, &a, "shelters");
            let lang = c.t.lang;
            error_page(&state, Some(c), lang, e)
        }
    }
}
