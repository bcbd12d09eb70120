//! National statistics API: the annual national report (JSON) and its CSV/XLSX export.
//! National coordinator only (`ReadNationalReport`); the policy is asked before any query
//! parameter is read, and every view and export is audited with the table and year. Every
//! body has a schema; the error answers (401, 403, 422, 429) are documented for every operation
//! by `api::document_common_errors`.

use crate::AppState;
use crate::api::ApiQuery;
use crate::auth::Authed;
use crate::error::AppError;
use axum::Json;
use axum::extract::State;
use axum::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use dayaq_domain::statistics::{Cell, ColumnKind, Disclosure, Table};
use dayaq_domain::{FieldError, ValidationErrors};
use dayaq_storage::statistics::NationalReportOut;
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(national_report))
        .routes(routes!(national_report_export))
}

/// One published number: `value` is null when it is suppressed (public variant).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CellBody {
    pub value: Option<i64>,
    pub suppressed: bool,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ColumnBody {
    /// `identified`, `presumed`, `identified_child`, `persons`, `amount_minor` …
    pub key: String,
    /// `count` or `amount_minor` (qəpik, AZN).
    pub kind: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RowBody {
    /// An HTCDS value name (`Feminine`, `ForcedLabour`, `AZ`, `Police`), a year (trend), or a
    /// fixed key (`total`, `persons`, `not_recorded`, …; docs/STATISTICS.md).
    pub key: String,
    pub cells: Vec<CellBody>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TableBody {
    pub id: String,
    /// `persons` or `referrals`.
    pub unit: String,
    pub columns: Vec<ColumnBody>,
    pub rows: Vec<RowBody>,
    /// Set when the data model does not record what the table needs (the reason code).
    pub not_recorded: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct NationalReportBody {
    pub year: i32,
    /// `internal` (exact) or `public` (cells 1..k-1 and their complements suppressed).
    pub variant: String,
    /// The suppression threshold of the public variant.
    pub k: Option<i64>,
    pub tables: Vec<TableBody>,
    /// Headline figures of every year in the database.
    pub trend: TableBody,
}

pub fn table_body(t: &Table) -> TableBody {
    TableBody {
        id: t.id.to_string(),
        unit: t.unit.to_string(),
        columns: t
            .columns
            .iter()
            .map(|c| ColumnBody {
                key: c.key.to_string(),
                kind: match c.kind {
                    ColumnKind::Count => "count",
                    ColumnKind::AmountMinor => "amount_minor",
                }
                .to_string(),
            })
            .collect(),
        rows: t
            .rows
            .iter()
            .map(|r| RowBody {
                key: r.key.clone(),
                cells: r
                    .cells
                    .iter()
                    .map(|c| CellBody {
                        value: c.value(),
                        suppressed: *c == Cell::Suppressed,
                    })
                    .collect(),
            })
            .collect(),
        not_recorded: t.not_recorded.map(str::to_string),
    }
}

pub fn report_body(r: &NationalReportOut) -> NationalReportBody {
    NationalReportBody {
        year: r.report.year,
        variant: r.disclosure.name().to_string(),
        k: r.disclosure.k(),
        tables: r.report.tables.iter().map(table_body).collect(),
        trend: table_body(&r.trend),
    }
}

/// Query parameters, read as text so that nothing is refused before the policy is asked.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReportQuery {
    /// Calendar year (default: the current year).
    pub year: Option<String>,
    /// `internal` (default; exact) or `public` (primary and complementary suppression).
    pub variant: Option<String>,
    /// Suppression threshold of the public variant (default 11, at least 5).
    pub k: Option<String>,
    /// Export only: `csv` (default), `xlsx` or `pdf` (in the account's language).
    pub format: Option<String>,
}

fn invalid(field: &str, code: &'static str, message: &str) -> AppError {
    AppError::Invalid(ValidationErrors::single(FieldError::new(
        field, code, message,
    )))
}

/// Parses year, variant and k (after the policy allowed the caller).
pub(crate) fn parse_query(q: &ReportQuery, this_year: i32) -> Result<(i32, Disclosure), AppError> {
    fn text(v: &Option<String>) -> Option<&str> {
        v.as_deref().map(str::trim).filter(|s| !s.is_empty())
    }
    let year = match text(&q.year) {
        None => this_year,
        Some(y) => y
            .parse::<i32>()
            .ok()
            .filter(|y| (1990..=2100).contains(y))
            .ok_or_else(|| invalid("year", "invalid_year", "year must be between 1990 and 2100"))?,
    };
    let k = match text(&q.k) {
        None => None,
        Some(k) => Some(
            k.parse::<i64>()
                .map_err(|_| invalid("k", "out_of_range", "k must be a whole number"))?,
        ),
    };
    let disclosure = match text(&q.variant) {
        None | Some("internal") if k.is_none() => Disclosure::Internal,
        None | Some("internal") => {
            return Err(invalid(
                "k",
                "unexpected",
                "k applies to the public variant only",
            ));
        }
        Some("public") => {
            Disclosure::public(k).map_err(|e| AppError::Invalid(ValidationErrors::single(e)))?
        }
        Some(_) => return Err(invalid("variant", "invalid_value", "internal or public")),
    };
    Ok((year, disclosure))
}

#[utoipa::path(get, path = "/statistics/national", tag = "statistics",
    params(ReportQuery),
    responses((status = 200, description = "The annual national report of the year (identified and presumed victims by sex × child/adult, form of exploitation, citizenship, domestic/transnational, identifying organisation; assistance, allowance, referrals, cooperation; compensation not recorded) and the trend of every year; national coordinator only; audited with the table and year", body = NationalReportBody)))]
async fn national_report(
    State(state): State<AppState>,
    a: Authed,
    ApiQuery(q): ApiQuery<ReportQuery>,
) -> Result<Json<NationalReportBody>, AppError> {
    let cx = a.cx();
    let access = state.store.authorize_national_report(&cx).await?;
    let (year, disclosure) = parse_query(&q, a.now.year())?;
    if q.format.is_some() {
        return Err(invalid(
            "format",
            "unexpected",
            "format applies to the export only",
        ));
    }
    let r = state
        .store
        .national_report(&access, year, disclosure, "json")
        .await?;
    Ok(Json(report_body(&r)))
}

#[utoipa::path(get, path = "/statistics/national/export", tag = "statistics",
    params(ReportQuery),
    responses((status = 200, description = "The same report as a file: CSV (one line per cell: year, variant, k, table, unit, row, column, value, note) or XLSX (a sheet per table) or PDF (the tables in the account's language, az/ru/en, embedded font); audited with the table, year and format",
               content_type = "text/csv")))]
async fn national_report_export(
    State(state): State<AppState>,
    a: Authed,
    ApiQuery(q): ApiQuery<ReportQuery>,
) -> Result<Response, AppError> {
    let cx = a.cx();
    let access = state.store.authorize_national_report(&cx).await?;
    let (year, disclosure) = parse_query(&q, a.now.year())?;
    let via = match q.format.as_deref().map(str::trim) {
        None | Some("") | Some("csv") => "csv",
        Some("xlsx") => "xlsx",
        Some("pdf") => "pdf",
        Some(_) => return Err(invalid("format", "unknown", "csv, xlsx or pdf")),
    };
    let r = state
        .store
        .national_report(&access, year, disclosure, via)
        .await?;
    let name = format!("national-report-{year}-{}.{via}", disclosure.name());
    let (bytes, ct) = match via {
        "xlsx" => (
            dayaq_storage::statistics::export::to_xlsx(&r)?,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
        "pdf" => {
            // In the reader's language (the account's locale).
            let lang = crate::i18n::Lang::parse(&a.user.locale).unwrap_or(crate::i18n::Lang::Az);
            (
                crate::pages::statistics_charts::national_pdf(lang, &r)?,
                "application/pdf",
            )
        }
        _ => (
            dayaq_storage::statistics::export::to_csv(&r)?,
            "text/csv; charset=utf-8",
        ),
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
