//! The national coordinator's annual national report screen (`/statistics/national`): the
//! same report as `GET /api/v1/statistics/national`, as accessible tables (caption, `th`
//! scopes, horizontally scrollable on a phone), with the CSV/XLSX/PDF downloads of the API; the
//! trend and the bars by sex × age and by form beside their tables (`statistics_charts`).

use crate::AppState;
use crate::api::ApiQuery;
use crate::api::statistics::{ReportQuery, parse_query};
use crate::auth::{Authed, PageUser};
use crate::error::AppError;
use crate::i18n::Tr;
use crate::pages::{Chrome, error_page};
use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use dayaq_domain::Role;
use dayaq_domain::statistics::{Cell, ColumnKind, Disclosure, SUPPRESSED_MARK, Table};

pub fn router() -> Router<AppState> {
    Router::new().route("/statistics/national", get(national_page))
}

/// Whether the navigation shows the national report.
pub(crate) fn nav_link(a: &Authed) -> bool {
    a.user.role == Role::NationalCoordinator
}

pub struct ViewRow {
    pub label: String,
    pub cells: Vec<String>,
}

pub struct ViewTable {
    pub id: &'static str,
    pub caption: String,
    pub columns: Vec<String>,
    pub rows: Vec<ViewRow>,
    pub not_recorded: Option<String>,
    /// The chart drawn beside the table (SVG markup, `statistics_charts`), if it has one.
    pub chart: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "statistics_national.html")]
struct NationalPage {
    c: Chrome,
    year: i32,
    public: bool,
    k: i64,
    tables: Vec<ViewTable>,
    csv_href: String,
    xlsx_href: String,
    pdf_href: String,
}

/// The label id of a fixed key (table ids, column keys, row keys that are not HTCDS values).
fn fixed_label(key: &str) -> Option<&'static str> {
    Some(match key {
        "headline" => "stat-t-headline",
        "by_sex_age" => "stat-t-by-sex-age",
        "by_form" => "stat-t-by-form",
        "by_citizenship" => "stat-t-by-citizenship",
        "domestic_transnational" => "stat-t-domestic-transnational",
        "identified_by_decision_org" => "stat-t-identified-by-decision-org",
        "presumed_by_screening_org_type" => "stat-t-presumed-by-screening-org-type",
        "assistance" => "stat-t-assistance",
        "allowance" => "stat-t-allowance",
        "referrals" => "stat-t-referrals",
        "cooperation" => "stat-t-cooperation",
        "compensation" => "stat-t-compensation",
        "trend" => "stat-t-trend",
        "identified" => "stat-k-identified",
        "presumed" => "stat-k-presumed",
        "identification_reversed" => "stat-k-identification-reversed",
        "identified_child" => "stat-k-identified-child",
        "identified_adult" => "stat-k-identified-adult",
        "identified_age_unknown" => "stat-k-identified-age-unknown",
        "identified_total" => "stat-k-identified-total",
        "presumed_child" => "stat-k-presumed-child",
        "presumed_adult" => "stat-k-presumed-adult",
        "presumed_age_unknown" => "stat-k-presumed-age-unknown",
        "presumed_total" => "stat-k-presumed-total",
        "persons" => "stat-k-persons",
        "total" => "stat-k-total",
        "not_recorded" => "stat-k-not-recorded",
        "domestic" => "stat-k-domestic",
        "transnational" => "stat-k-transnational",
        "state_shelter" => "stat-k-state-shelter",
        "ngo_shelter" => "stat-k-ngo-shelter",
        "allowance_paid" => "stat-k-allowance-paid",
        "amount_minor" => "stat-k-amount",
        "medical" => "stat-k-medical",
        "psychological" => "stat-k-psychological",
        "legal" => "stat-k-legal",
        "vocational_training" => "stat-k-vocational-training",
        "job_placement" => "stat-k-job-placement",
        "return_or_airport_meeting" => "stat-k-return-or-airport-meeting",
        "any_assistance" => "stat-k-any-assistance",
        "made" => "stat-k-made",
        "answered" => "stat-k-answered",
        "Yes" => "stat-k-cooperation-yes",
        "No" => "stat-k-cooperation-no",
        "Declined" => "stat-k-cooperation-declined",
        "no_award_recorded" => "stat-reason-no-award-recorded",
        _ => return None,
    })
}

fn label(t: &Tr, table: &str, key: &str) -> String {
    if let Some(id) = fixed_label(key) {
        return t.get(id);
    }
    let field = match table {
        "by_sex_age" => "prs_Gender",
        "by_form" => "vic_TypeOfExploitation",
        "identified_by_decision_org" => "vic_TraffickingStatusDecisionMakingOrg",
        "presumed_by_screening_org_type" => "org_Type",
        // Countries (ISO codes) and years are shown as they are.
        _ => return key.to_string(),
    };
    t.vocab(field, key)
}

fn cell_text(c: Cell, kind: ColumnKind) -> String {
    match (c, kind) {
        (Cell::Suppressed, _) => SUPPRESSED_MARK.to_string(),
        (Cell::Value(v), ColumnKind::AmountMinor) => format!("{}.{:02}", v / 100, v % 100),
        (Cell::Value(v), ColumnKind::Count) => v.to_string(),
    }
}

pub(crate) fn view(t: &Tr, table: &Table) -> ViewTable {
    ViewTable {
        id: table.id,
        caption: label(t, table.id, table.id),
        columns: table
            .columns
            .iter()
            .map(|c| label(t, table.id, c.key))
            .collect(),
        rows: table
            .rows
            .iter()
            .map(|r| ViewRow {
                label: label(t, table.id, &r.key),
                cells: r
                    .cells
                    .iter()
                    .zip(&table.columns)
                    .map(|(c, col)| cell_text(*c, col.kind))
                    .collect(),
            })
            .collect(),
        not_recorded: table.not_recorded.map(|r| label(t, table.id, r)),
        chart: None,
    }
}

async fn national_page(
    State(state): State<AppState>,
    PageUser(a): PageUser,
    ApiQuery(mut q): ApiQuery<ReportQuery>,
) -> Response {
    let c = Chrome::for_user(&state, &a, "statistics");
    let lang = c.t.lang;
    let r: Result<Response, AppError> = async {
        let cx = a.cx();
        let access = state.store.authorize_national_report(&cx).await?;
        // The screen's form always sends k; it applies to the public variant only.
        if q.variant.as_deref() != Some("public") {
            q.k = None;
        }
        q.format = None;
        let (year, disclosure) = parse_query(&q, a.now.year())?;
        let out = state
            .store
            .national_report(&access, year, disclosure, "screen")
            .await?;
        let k = disclosure
            .k()
            .unwrap_or(dayaq_domain::statistics::DEFAULT_K);
        let public = matches!(disclosure, Disclosure::Public { .. });
        let mut tables: Vec<ViewTable> =
            out.report.tables.iter().map(|tb| view(&c.t, tb)).collect();
        tables.push(view(&c.t, &out.trend));
        let public_k = public.then_some(k);
        for (vt, tb) in tables
            .iter_mut()
            .zip(out.report.tables.iter().chain(std::iter::once(&out.trend)))
        {
            vt.chart = super::statistics_charts::chart_svg(&c.t, tb, vt, public_k);
        }
        let query = if public {
            format!("year={year}&variant=public&k={k}")
        } else {
            format!("year={year}&variant=internal")
        };
        Ok(NationalPage {
            csv_href: format!("/api/v1/statistics/national/export?{query}&format=csv"),
            xlsx_href: format!("/api/v1/statistics/national/export?{query}&format=xlsx"),
            pdf_href: format!("/api/v1/statistics/national/export?{query}&format=pdf"),
            c,
            year,
            public,
            k,
            tables,
        }
        .into_response())
    }
    .await;
    r.unwrap_or_else(|e| {
        let c = Chrome::for_user(&state, &a, "statistics");
        error_page(&state, Some(c), lang, e)
    })
}
