//! The action-plan scorecard API (issue #15 §3): the indicators of a year with their values,
//! numerators, denominators and traffic lights, and the entry of a yearly value the data
//! cannot compute. National coordinator only (`ReadScorecard`, `EnterIndicatorValue`); the
//! policy is asked before any parameter or body field is looked at; views and entries are
//! audited. The indicators are the server's (`AppConfig::indicators`, loaded at start).

use crate::AppState;
use crate::api::common::typed;
use crate::api::{ApiJson, ApiQuery};
use crate::auth::Authed;
use crate::error::AppError;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use dayaq_domain::policy::Action;
use dayaq_domain::statistics::scorecard::{
    IndicatorResult, Scorecard, Text, ValidManualValue, validate_manual,
};
use dayaq_domain::{FieldError, ValidationErrors};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(scorecard))
        .routes(routes!(scorecard_export))
        .routes(routes!(enter_value))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TextBody {
    pub az: String,
    pub ru: String,
    pub en: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BreakdownBody {
    /// A closed code: a refusal reason (`no_capacity`, `not_eligible`, `outside_area`, `service_unavailable`, `survivor_declined`,
    /// `other`) or a service missing in regions (`Shelter`, `Medical`, …).
    pub key: String,
    pub count: i64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct IndicatorResultBody {
    pub year: i32,
    /// Null when there is no data (light `grey`).
    pub value: Option<f64>,
    pub numerator: Option<i64>,
    pub denominator: Option<i64>,
    /// `green`, `amber`, `red` or `grey`.
    pub light: String,
    pub breakdown: Vec<BreakdownBody>,
    /// The source of an entered value.
    pub source: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct IndicatorBody {
    pub id: String,
    /// The computed metric, or `manual` (a yearly value entered with its source).
    pub metric: String,
    /// `days`, `percent`, `count` or `value`.
    pub unit: String,
    /// `higher` or `lower` is better.
    pub direction: String,
    pub target: f64,
    pub tolerance: f64,
    pub name: TextBody,
    pub definition: TextBody,
    /// Where the definition is shown: the indicator's anchor on the scorecard screen.
    pub definition_href: String,
    pub result: IndicatorResultBody,
    /// The two years before, oldest first.
    pub history: Vec<IndicatorResultBody>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ScorecardBody {
    pub year: i32,
    pub indicators: Vec<IndicatorBody>,
}

fn text(t: &Text) -> TextBody {
    TextBody {
        az: t.az.clone(),
        ru: t.ru.clone(),
        en: t.en.clone(),
    }
}

fn result(r: &IndicatorResult) -> IndicatorResultBody {
    IndicatorResultBody {
        year: r.year,
        value: r.value,
        numerator: r.numerator,
        denominator: r.denominator,
        light: r.light.name().to_string(),
        breakdown: r
            .breakdown
            .iter()
            .map(|(k, n)| BreakdownBody {
                key: k.clone(),
                count: *n,
            })
            .collect(),
        source: r.source.clone(),
    }
}

pub fn scorecard_body(card: &Scorecard) -> ScorecardBody {
    ScorecardBody {
        year: card.year,
        indicators: card
            .rows
            .iter()
            .map(|row| {
                let i = &row.indicator;
                IndicatorBody {
                    id: i.id.clone(),
                    metric: i.metric.name().to_string(),
                    unit: i.unit().name().to_string(),
                    direction: i.direction.name().to_string(),
                    target: i.target,
                    tolerance: i.tolerance,
                    name: text(&i.name),
                    definition: text(&i.definition),
                    definition_href: format!("/statistics/scorecard#ind-{}", i.id),
                    result: result(&row.result),
                    history: row.history.iter().map(result).collect(),
                }
            })
            .collect(),
    }
}

/// Query parameters, read as text so that nothing is refused before the policy is asked.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ScorecardQuery {
    /// Calendar year (default: the current year).
    pub year: Option<String>,
}

/// The year of a query: 1990 to 2100, default `this_year`.
pub(crate) fn parse_year(raw: Option<&str>, this_year: i32) -> Result<i32, AppError> {
    match raw.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(this_year),
        Some(y) => y
            .parse::<i32>()
            .ok()
            .filter(|y| (1990..=2100).contains(y))
            .ok_or_else(|| {
                AppError::Invalid(ValidationErrors::single(FieldError::new(
                    "year",
                    "out_of_range",
                    "year must be between 1990 and 2100",
                )))
            }),
    }
}

#[utoipa::path(get, path = "/statistics/scorecard", tag = "statistics",
    params(ScorecardQuery),
    responses((status = 200, description = "The action-plan scorecard of the year: every indicator of the server's indicators file with its definition, target, direction, value, numerator, denominator and traffic light (and the two years before); national coordinator only; audited", body = ScorecardBody)))]
async fn scorecard(
    State(state): State<AppState>,
    a: Authed,
    ApiQuery(q): ApiQuery<ScorecardQuery>,
) -> Result<Json<ScorecardBody>, AppError> {
    let cx = a.cx();
    let access = state
        .store
        .authorize_scorecard(&cx, Action::ReadScorecard)
        .await?;
    let year = parse_year(q.year.as_deref(), a.now.year())?;
    let card = state
        .store
        .scorecard(&access, &state.cfg.indicators, year, "json")
        .await?;
    Ok(Json(scorecard_body(&card)))
}

/// Query parameters of the export, read as text so that nothing is refused before the policy
/// is asked.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ScorecardExportQuery {
    /// Calendar year (default: the current year).
    pub year: Option<String>,
    /// `csv` (default) or `xlsx`.
    pub format: Option<String>,
}

#[utoipa::path(get, path = "/statistics/scorecard/export", tag = "statistics",
    params(ScorecardExportQuery),
    responses((status = 200, description = "The scorecard of the year as a file: CSV (text cells formula-guarded) or XLSX, the same lines as `dayaq report scorecard`; national coordinator only; audited with the format",
               content_type = "text/csv")))]
async fn scorecard_export(
    State(state): State<AppState>,
    a: Authed,
    ApiQuery(q): ApiQuery<ScorecardExportQuery>,
) -> Result<Response, AppError> {
    let cx = a.cx();
    let access = state
        .store
        .authorize_scorecard(&cx, Action::ReadScorecard)
        .await?;
    let year = parse_year(q.year.as_deref(), a.now.year())?;
    let xlsx = match q.format.as_deref().map(str::trim).filter(|f| !f.is_empty()) {
        None | Some("csv") => false,
        Some("xlsx") => true,
        Some(_) => {
            return Err(AppError::Invalid(ValidationErrors::single(
                FieldError::new("format", "unknown", "csv or xlsx"),
            )));
        }
    };
    let via = if xlsx { "xlsx" } else { "csv" };
    let card = state
        .store
        .scorecard(&access, &state.cfg.indicators, year, via)
        .await?;
    let (bytes, ct) = if xlsx {
        (
            dayaq_storage::statistics::scorecard_xlsx(&card)?,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    } else {
        (
            dayaq_storage::statistics::scorecard_csv(&card)?,
            "text/csv; charset=utf-8",
        )
    };
    Ok((
        [
            (CONTENT_TYPE, ct.to_string()),
            (
                CONTENT_DISPOSITION,
                format!("attachment; filename=\"scorecard-{year}.{via}\""),
            ),
            (CACHE_CONTROL, "no-store".to_string()),
        ],
        bytes,
    )
        .into_response())
}

/// A yearly value of an indicator the data cannot compute.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IndicatorValueInput {
    /// The indicator's id (its metric must be `manual`).
    pub indicator: Option<String>,
    /// 1990 to the current year.
    pub year: Option<i64>,
    /// A number from 0 to 1000000000.
    pub value: Option<f64>,
    /// Where the value comes from (one line, at most 500 characters).
    pub source: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct IndicatorValueBody {
    pub indicator: String,
    pub year: i32,
    pub value: f64,
    pub source: String,
}

/// Checks an entered value against the server's indicators (errors name the field).
pub(crate) fn check_value(
    state: &AppState,
    input: &IndicatorValueInput,
    this_year: i32,
) -> Result<ValidManualValue, AppError> {
    validate_manual(
        &state.cfg.indicators,
        input.indicator.as_deref().unwrap_or(""),
        input.year,
        input.value,
        input.source.as_deref().unwrap_or(""),
        this_year,
    )
    .map_err(AppError::Invalid)
}

#[utoipa::path(post, path = "/statistics/scorecard/values", tag = "statistics",
    request_body = IndicatorValueInput,
    responses((status = 201, description = "The value is stored (the latest entry of an indicator and year counts); audited", body = IndicatorValueBody)))]
async fn enter_value(
    State(state): State<AppState>,
    a: Authed,
    ApiJson(raw): ApiJson<Value>,
) -> Result<Response, AppError> {
    let cx = a.cx();
    let access = state
        .store
        .authorize_scorecard(&cx, Action::EnterIndicatorValue)
        .await?;
    let input: IndicatorValueInput = typed(raw)?;
    let v = check_value(&state, &input, a.now.year())?;
    state.store.enter_indicator_value(&access, &v).await?;
    Ok((
        StatusCode::CREATED,
        Json(IndicatorValueBody {
            indicator: v.indicator,
            year: v.year,
            value: v.value,
            source: v.source,
        }),
    )
        .into_response())
}
