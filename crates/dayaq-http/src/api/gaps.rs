//! The assistance-gap view API (issue #15 part 2): `GET /statistics/gaps` (JSON) and its
//! CSV/XLSX export. `ReadGapReport`: the national coordinator reads every case, an
//! organisation's supervisor its own caseload; everyone else gets 403 (audited). The policy is
//! asked before any query parameter is read; every view and export is audited.

use crate::AppState;
use crate::api::ApiQuery;
use crate::api::statistics::{TableBody, table_body};
use crate::auth::Authed;
use crate::error::AppError;
use axum::Json;
use axum::extract::State;
use axum::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use dayaq_domain::statistics::Disclosure;
use dayaq_domain::{FieldError, ValidationErrors};
use dayaq_storage::statistics::gaps::{GapQuery, GapReportOut, gap_csv, gap_xlsx};
use serde::{Deserialize, Serialize};
use time::{Date, Month};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(gap_report))
        .routes(routes!(gap_report_export))
}

/// The gap view: the cohort's period, the scope and the tables.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct GapReportBody {
    /// First day of the cohort's start dates (YYYY-MM-DD).
    pub from: String,
    /// Last day of the cohort's start dates.
    pub to: String,
    /// The day the facts are observed (today).
    pub as_of: String,
    /// `national` (coordinator) or `organisation` (the supervisor's own caseload).
    pub scope: String,
    pub region: Option<String>,
    /// `internal` (exact) or `public` (cells 1..k-1 suppressed).
    pub variant: String,
    pub k: Option<i64>,
    /// `cohort`, `needs_by_domain`, `plan_goals`, `referrals`, `decline_reasons`, `followup`,
    /// `contact`, `regions_without_provider` (docs/STATISTICS.md, "Gap view").
    pub tables: Vec<TableBody>,
}

pub fn gap_body(r: &GapReportOut) -> GapReportBody {
    GapReportBody {
        from: r.from.to_string(),
        to: r.to.to_string(),
        as_of: r.as_of.to_string(),
        scope: r.scope.name().to_string(),
        region: r.region.clone(),
        variant: r.disclosure.name().to_string(),
        k: r.disclosure.k(),
        tables: r.tables.iter().map(table_body).collect(),
    }
}

/// Query parameters, read as text so that nothing is refused before the policy is asked.
#[derive(Debug, Default, Clone, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct GapQueryParams {
    /// First start date of the cohort, YYYY-MM-DD (default: 1 January of this year).
    pub from: Option<String>,
    /// Last start date of the cohort, YYYY-MM-DD (default: today).
    pub to: Option<String>,
    /// The region of the owning organisations (default: every region).
    pub region: Option<String>,
    /// `internal` (default; exact) or `public` (primary suppression).
    pub variant: Option<String>,
    /// Suppression threshold of the public variant (default 11, at least 5).
    pub k: Option<String>,
    /// Export only: `csv` (default) or `xlsx`.
    pub format: Option<String>,
}

fn text(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

fn parse_day(field: &str, s: &str) -> Result<Date, FieldError> {
    let f = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(s, &f)
        .ok()
        .filter(|d| (1990..=2100).contains(&d.year()))
        .ok_or_else(|| FieldError::new(field, "invalid_date", "expected a date YYYY-MM-DD"))
}

/// Parses the period, region and disclosure; every problem is reported by its field.
pub(crate) fn parse_gap_query(
    q: &GapQueryParams,
    today: Date,
) -> Result<(GapQuery, Disclosure), ValidationErrors> {
    let mut errs = ValidationErrors::default();
    let from = match text(&q.from) {
        None => Date::from_calendar_date(today.year(), Month::January, 1).ok(),
        Some(s) => parse_day("from", s).map_err(|e| errs.push(e)).ok(),
    };
    let to = match text(&q.to) {
        None => Some(today),
        Some(s) => parse_day("to", s).map_err(|e| errs.push(e)).ok(),
    };
    if let (Some(f), Some(t)) = (from, to)
        && t < f
    {
        errs.push(FieldError::new(
            "to",
            "before_from",
            "the end of the period is before its start",
        ));
    }
    let region = text(&q.region).map(str::to_string);
    if region.as_ref().is_some_and(|r| r.chars().count() > 100) {
        errs.push(FieldError::new(
            "region",
            "too_long",
            "the region is too long",
        ));
    }
    let k = match text(&q.k) {
        None => None,
        Some(k) => match k.parse::<i64>() {
            Ok(k) => Some(k),
            Err(_) => {
                errs.push(FieldError::new(
                    "k",
                    "out_of_range",
                    "k must be a whole number",
                ));
                None
            }
        },
    };
    let disclosure = match text(&q.variant) {
        None | Some("internal") => {
            if k.is_some() {
                errs.push(FieldError::new(
                    "k",
                    "unexpected",
                    "k applies to the public variant only",
                ));
            }
            Some(Disclosure::Internal)
        }
        Some("public") => Disclosure::public(k).map_err(|e| errs.push(e)).ok(),
        Some(_) => {
            errs.push(FieldError::new(
                "variant",
                "invalid_value",
                "internal or public",
            ));
            None
        }
    };
    match (from, to, disclosure) {
        (Some(from), Some(to), Some(d)) if errs.is_empty() => {
            Ok((GapQuery { from, to, region }, d))
        }
        _ => Err(errs),
    }
}

#[utoipa::path(get, path = "/statistics/gaps", tag = "statistics",
    params(GapQueryParams),
    responses((status = 200, description = "The assistance-gap view of the cohort of cases starting in the period (needs by domain identified / delivered / open, short-term and long-term; plan goals by term; referrals for jobs, housing and training with decline reasons; follow-up reached at 6, 12 and 24 months and lost contact; regions where an open need has no provider); national for the coordinator, the own caseload for an organisation's supervisor; audited", body = GapReportBody)))]
async fn gap_report(
    State(state): State<AppState>,
    a: Authed,
    ApiQuery(q): ApiQuery<GapQueryParams>,
) -> Result<Json<GapReportBody>, AppError> {
    let cx = a.cx();
    let access = state.store.authorize_gap_report(&cx).await?;
    let (query, disclosure) = parse_gap_query(&q, a.now.date()).map_err(AppError::Invalid)?;
    if q.format.is_some() {
        return Err(AppError::Invalid(ValidationErrors::single(
            FieldError::new("format", "unexpected", "format applies to the export only"),
        )));
    }
    let r = state
        .store
        .gap_report(&access, &query, disclosure, "json")
        .await?;
    Ok(Json(gap_body(&r)))
}

#[utoipa::path(get, path = "/statistics/gaps/export", tag = "statistics",
    params(GapQueryParams),
    responses((status = 200, description = "The same view as a file: CSV (a line per cell: from, to, as_of, scope, region, variant, k, table, unit, row, column, value) or XLSX (one sheet, the same lines); audited with the format",
               content_type = "text/csv")))]
async fn gap_report_export(
    State(state): State<AppState>,
    a: Authed,
    ApiQuery(q): ApiQuery<GapQueryParams>,
) -> Result<Response, AppError> {
    let cx = a.cx();
    let access = state.store.authorize_gap_report(&cx).await?;
    let (query, disclosure) = parse_gap_query(&q, a.now.date()).map_err(AppError::Invalid)?;
    let xlsx = match text(&q.format) {
        None | Some("csv") => false,
        Some("xlsx") => true,
        Some(_) => {
            return Err(AppError::Invalid(ValidationErrors::single(
                FieldError::new("format", "unknown", "csv or xlsx"),
            )));
        }
    };
    let via = if xlsx { "xlsx" } else { "csv" };
    let r = state
        .store
        .gap_report(&access, &query, disclosure, via)
        .await?;
    let name = format!(
        "gaps-{}-{}-{}.{via}",
        query.from,
        query.to,
        disclosure.name()
    );
    let (bytes, ct) = if xlsx {
        (
            gap_xlsx(&r)?,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    } else {
        (gap_csv(&r)?, "text/csv; charset=utf-8")
    };
    Ok((
        [
            (CONTENT_TYPE, ct.to_string()),
            (
                CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
            (CACHE_CONTROL, "no-store".to_string()),
        ],
        bytes,
    )
        .into_response())
}
