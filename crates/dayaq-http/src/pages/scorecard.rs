//! The action-plan scorecard screen (`/statistics/scorecard`, issue #15 §3): every indicator
//! with its value, numerator / denominator, target and traffic light (as text and colour) for
//! the year and the two before, each linking to its definition further down the page; and the
//! form for a yearly value the data cannot compute (refused input is kept, errors by the
//! field). The same storage calls as `GET /api/v1/statistics/scorecard` and
//! `POST /api/v1/statistics/scorecard/values`.

use crate::AppState;
use crate::api::ApiQuery;
use crate::api::scorecard::{IndicatorValueInput, check_value, parse_year};
use crate::auth::{Authed, PageUser};
use crate::error::AppError;
use crate::i18n::Tr;
use crate::pages::form::value;
use crate::pages::{Chrome, error_page, see_other};
use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Form, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use dayaq_domain::ValidationErrors;
use dayaq_domain::policy::Action;
use dayaq_domain::statistics::scorecard::{IndicatorResult, Light, Metric, Unit, parse_number};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/statistics/scorecard", get(scorecard_page))
        .route("/statistics/scorecard/values", post(value_submit))
}

/// One year's light of one indicator, as text and colour.
pub struct LightView {
    pub year: i32,
    /// `green`, `amber`, `red`, `grey` (the CSS class).
    pub class: &'static str,
    pub text: String,
    pub value: String,
}

pub struct BreakdownView {
    pub label: String,
    pub count: i64,
}

pub struct IndicatorView {
    pub id: String,
    pub name: String,
    pub definition: String,
    pub unit: String,
    pub direction: String,
    pub target: String,
    pub tolerance: String,
    pub value: String,
    pub numerator: String,
    pub denominator: String,
    pub light: LightView,
    pub history: Vec<LightView>,
    pub breakdown: Vec<BreakdownView>,
    pub source: String,
    pub manual: bool,
}

pub struct ManualOpt {
    pub id: String,
    pub name: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "statistics_scorecard.html")]
struct ScorecardPage {
    c: Chrome,
    year: i32,
    years: Vec<i32>,
    rows: Vec<IndicatorView>,
    manual: Vec<ManualOpt>,
    form: FormView,
}

/// The value form: posted values (kept after a refusal) and the error of each field.
#[derive(Default)]
pub struct FormView {
    pub indicator: String,
    pub year: String,
    pub value: String,
    pub source: String,
    pub errors: Vec<(String, String)>,
    pub summary: Vec<String>,
    pub saved: bool,
}

impl FormView {
    pub fn err(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, m)| m.as_str())
    }
    /// `aria-invalid` and `aria-describedby` for a refused field.
    pub fn attrs(&self, field: &str) -> String {
        if self.err(field).is_some() {
            format!(" aria-invalid=\"true\" aria-describedby=\"sc-{field}-err\"")
        } else {
            String::new()
        }
    }
}

/// The message of a refused field: its label on this screen and the reason.
fn error_text(t: &Tr, e: &dayaq_domain::FieldError) -> String {
    let label = match e.field.as_str() {
        "indicator" => t.get("sc-col-indicator"),
        "year" => t.get("sc-year"),
        "value" => t.get("sc-col-value"),
        _ => t.get("sc-source"),
    };
    let reason = t.get(&format!("err-{}", e.code.replace('_', "-")));
    format!("{label}: {reason}")
}

fn light_text(t: &Tr, l: Light) -> String {
    match l {
        Light::Green => t.get("sc-light-green"),
        Light::Amber => t.get("sc-light-amber"),
        Light::Red => t.get("sc-light-red"),
        Light::Grey => t.get("sc-light-grey"),
    }
}

fn unit_text(t: &Tr, u: Unit) -> String {
    match u {
        Unit::Days => t.get("sc-unit-days"),
        Unit::Percent => t.get("sc-unit-percent"),
        Unit::Count => t.get("sc-unit-count"),
        Unit::Value => t.get("sc-unit-value"),
    }
}

fn breakdown_label(t: &Tr, key: &str) -> String {
    match key {
        "no_capacity" => t.get("sc-reason-no-capacity"),
        "not_eligible" => t.get("sc-reason-not-eligible"),
        "outside_area" => t.get("sc-reason-outside-area"),
        "service_unavailable" => t.get("sc-reason-service-unavailable"),
        "survivor_declined" => t.get("sc-reason-survivor-declined"),
        "other" => t.get("sc-reason-other"),
        // Services missing in regions: the directory's service labels.
        s => t.get(&format!("service-{}", s.to_lowercase())),
    }
}

fn number(v: f64, unit: Unit) -> String {
    if unit == Unit::Percent {
        format!("{v:.1} %")
    } else if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

fn light_view(t: &Tr, r: &IndicatorResult, unit: Unit) -> LightView {
    LightView {
        year: r.year,
        class: r.light.name(),
        text: light_text(t, r.light),
        value: r
            .value
            .map(|v| number(v, unit))
            .unwrap_or_else(|| t.get("sc-no-data")),
    }
}

async fn render(
    state: &AppState,
    a: &Authed,
    year: i32,
    form: FormView,
    status: StatusCode,
) -> Response {
    let c = Chrome::for_user(state, a, "scorecard");
    let lang = c.t.lang;
    let r: Result<Response, AppError> = async {
        let cx = a.cx();
        let access = state
            .store
            .authorize_scorecard(&cx, Action::ReadScorecard)
            .await?;
        let set = &state.cfg.indicators;
        let card = state.store.scorecard(&access, set, year, "screen").await?;
        let t = &c.t;
        let code = lang.code();
        let rows = card
            .rows
            .iter()
            .map(|row| {
                let i = &row.indicator;
                let unit = i.unit();
                IndicatorView {
                    id: i.id.clone(),
                    name: i.name.get(code).to_string(),
                    definition: i.definition.get(code).to_string(),
                    unit: unit_text(t, unit),
                    direction: match i.direction {
                        dayaq_domain::statistics::scorecard::Direction::Higher => {
                            t.get("sc-direction-higher")
                        }
                        dayaq_domain::statistics::scorecard::Direction::Lower => {
                            t.get("sc-direction-lower")
                        }
                    },
                    target: number(i.target, unit),
                    tolerance: number(i.tolerance, unit),
                    value: row
                        .result
                        .value
                        .map(|v| number(v, unit))
                        .unwrap_or_else(|| t.get("sc-no-data")),
                    numerator: row
                        .result
                        .numerator
                        .map(|n| n.to_string())
                        .unwrap_or_default(),
                    denominator: row
                        .result
                        .denominator
                        .map(|n| n.to_string())
                        .unwrap_or_default(),
                    light: light_view(t, &row.result, unit),
                    history: row.history.iter().map(|h| light_view(t, h, unit)).collect(),
                    breakdown: row
                        .result
                        .breakdown
                        .iter()
                        .map(|(k, n)| BreakdownView {
                            label: breakdown_label(t, k),
                            count: *n,
                        })
                        .collect(),
                    source: row.result.source.clone().unwrap_or_default(),
                    manual: i.metric == Metric::Manual,
                }
            })
            .collect();
        let manual = set
            .indicators
            .iter()
            .filter(|i| i.metric == Metric::Manual)
            .map(|i| ManualOpt {
                id: i.id.clone(),
                name: i.name.get(code).to_string(),
            })
            .collect();
        Ok((
            status,
            ScorecardPage {
                years: vec![year - 2, year - 1, year],
                year,
                rows,
                manual,
                form,
                c,
            },
        )
            .into_response())
    }
    .await;
    r.unwrap_or_else(|e| {
        let c = Chrome::for_user(state, a, "scorecard");
        error_page(state, Some(c), lang, e)
    })
}

/// The screen's query: the year, and `saved=1` after a value was stored.
#[derive(Debug, Default, serde::Deserialize)]
pub struct PageQuery {
    pub year: Option<String>,
    pub saved: Option<String>,
}

async fn scorecard_page(
    State(state): State<AppState>,
    PageUser(a): PageUser,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> Response {
    let year = match parse_year(q.year.as_deref(), a.now.year()) {
        Ok(y) => y,
        Err(e) => {
            let c = Chrome::for_user(&state, &a, "scorecard");
            let lang = c.t.lang;
            return error_page(&state, Some(c), lang, e);
        }
    };
    let form = FormView {
        year: year.to_string(),
        saved: q.saved.as_deref() == Some("1"),
        ..FormView::default()
    };
    render(&state, &a, year, form, StatusCode::OK).await
}

async fn value_submit(
    State(state): State<AppState>,
    PageUser(a): PageUser,
    Form(f): Form<Vec<(String, String)>>,
) -> Response {
    let mut form = FormView {
        indicator: value(&f, "indicator"),
        year: value(&f, "year"),
        value: value(&f, "value"),
        source: value(&f, "source"),
        ..FormView::default()
    };
    let this_year = a.now.year();
    let cx = a.cx();
    let r: Result<(), AppError> = async {
        let access = state
            .store
            .authorize_scorecard(&cx, Action::EnterIndicatorValue)
            .await?;
        let mut errs = ValidationErrors::default();
        let year = form.year.trim().parse::<i64>();
        if year.is_err() && !form.year.trim().is_empty() {
            errs.push(dayaq_domain::FieldError::new(
                "year",
                "invalid_number",
                "not a whole number",
            ));
        }
        let number = parse_number(&form.value);
        if number.is_none() && !form.value.trim().is_empty() {
            errs.push(dayaq_domain::FieldError::new(
                "value",
                "invalid",
                "not a number",
            ));
        }
        let input = IndicatorValueInput {
            indicator: Some(form.indicator.clone()),
            year: year.ok(),
            value: number,
            source: Some(form.source.clone()),
        };
        let checked = check_value(&state, &input, this_year);
        if let Err(AppError::Invalid(more)) = &checked {
            for e in &more.errors {
                if !errs.errors.iter().any(|x| x.field == e.field) {
                    errs.push(e.clone());
                }
            }
        }
        if !errs.is_empty() {
            return Err(AppError::Invalid(errs));
        }
        let v = checked?;
        state.store.enter_indicator_value(&access, &v).await?;
        Ok(())
    }
    .await;
    match r {
        Ok(()) => {
            let y = form.year.trim();
            see_other(&format!(
                "/statistics/scorecard?year={y}&saved=1#sc-value-form"
            ))
        }
        Err(AppError::Invalid(errs)) => {
            let c = Chrome::for_user(&state, &a, "scorecard");
            form.errors = errs
                .errors
                .iter()
                .map(|e| (e.field.clone(), error_text(&c.t, e)))
                .collect();
            form.summary = errs.errors.iter().map(|e| error_text(&c.t, e)).collect();
            let year = form
                .year
                .trim()
                .parse::<i32>()
                .ok()
                .filter(|y| (1990..=this_year).contains(y))
                .unwrap_or(this_year);
            render(&state, &a, year, form, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(e) => {
            let c = Chrome::for_user(&state, &a, "scorecard");
            let lang = c.t.lang;
            error_page(&state, Some(c), lang, e)
        }
    }
}
