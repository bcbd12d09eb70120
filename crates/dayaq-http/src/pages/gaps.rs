//! The assistance-gap view screen (`/statistics/gaps`, issue #15 part 2): the same view as
//! `GET /api/v1/statistics/gaps` as accessible tables (caption, `th` scopes, scrollable on a
//! phone) under a period/region form that keeps its input and shows each refused field's error
//! beside it. The national coordinator sees every case, a supervisor the own caseload.

use crate::AppState;
use crate::api::ApiQuery;
use crate::api::gaps::{GapQueryParams, parse_gap_query};
use crate::auth::PageUser;
use crate::error::AppError;
use crate::i18n::Tr;
use crate::pages::{Chrome, error_page};
use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use dayaq_domain::statistics::{Cell, Disclosure, SUPPRESSED_MARK, Table};
use dayaq_storage::statistics::gaps::GapScope;

pub fn router() -> Router<AppState> {
    Router::new().route("/statistics/gaps", get(gaps_page))
}

pub struct GapRow {
    pub label: String,
    pub cells: Vec<String>,
}

pub struct GapTable {
    pub id: &'static str,
    pub caption: String,
    pub columns: Vec<String>,
    pub rows: Vec<GapRow>,
    pub empty: bool,
}

/// A field's error, beside the field.
pub struct FieldMsg {
    pub field: String,
    pub message: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "statistics_gaps.html")]
struct GapsPage {
    c: Chrome,
    from: String,
    to: String,
    region: String,
    regions: Vec<String>,
    public: bool,
    k: String,
    national: bool,
    errors: Vec<FieldMsg>,
    as_of: String,
    tables: Vec<GapTable>,
    csv_href: String,
    xlsx_href: String,
}

impl GapsPage {
    fn error(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|e| e.field == field)
            .map(|e| e.message.as_str())
    }
}

fn label(t: &Tr, key: &str) -> String {
    let id = match key {
        "Safety" => "asst-d-safety",
        "PhysicalHealth" => "asst-d-physical-health",
        "MentalHealth" => "asst-d-mental-health",
        "Legal" => "asst-d-legal",
        "Housing" => "asst-d-housing",
        "EmploymentIncome" => "asst-d-employment-income",
        "EducationSkills" => "asst-d-education-skills",
        "FamilySocial" => "asst-d-family-social",
        "Dependants" => "asst-d-dependants",
        "ShortTerm" => "asst-term-short",
        "LongTerm" => "asst-term-long",
        "cases" => "gap-k-cases",
        "identified" => "gap-k-identified",
        "delivered" => "gap-k-delivered",
        "open" => "gap-k-open",
        "short_term_delivered" => "gap-k-short-term-delivered",
        "long_term_reached" => "gap-k-long-term-reached",
        "long_term_delivered" => "gap-k-long-term-delivered",
        "long_term_open" => "gap-k-long-term-open",
        "total" => "gap-k-total",
        "done" => "gap-k-done",
        "cancelled" => "gap-k-cancelled",
        "made" => "gap-k-made",
        "accepted" => "gap-k-accepted",
        "declined" => "gap-k-declined",
        "completed" => "gap-k-completed",
        "pending" => "gap-k-pending",
        "jobs" => "gap-k-jobs",
        "housing" => "gap-k-housing",
        "training" => "gap-k-training",
        "no_capacity" => "gap-k-no-capacity",
        "not_eligible" => "gap-k-not-eligible",
        "outside_area" => "gap-k-outside-area",
        "service_unavailable" => "gap-k-service-unavailable",
        "survivor_declined" => "gap-k-survivor-declined",
        "other" => "gap-k-other",
        "m6" => "gap-k-m6",
        "m12" => "gap-k-m12",
        "m24" => "gap-k-m24",
        "due" => "gap-k-due",
        "reached" => "gap-k-reached",
        "not_reached" => "gap-k-not-reached",
        "with_followup_plan" => "gap-k-with-followup-plan",
        "lost_contact" => "gap-k-lost-contact",
        "open_needs" => "gap-k-open-needs",
        // Anything else (a region name) is shown as it is.
        other => return other.to_string(),
    };
    t.get(id)
}

fn caption(t: &Tr, table: &str) -> String {
    let id = match table {
        "cohort" => "gap-t-cohort",
        "needs_by_domain" => "gap-t-needs-by-domain",
        "plan_goals" => "gap-t-plan-goals",
        "referrals" => "gap-t-referrals",
        "decline_reasons" => "gap-t-decline-reasons",
        "followup" => "gap-t-followup",
        "contact" => "gap-t-contact",
        "regions_without_provider" => "gap-t-regions-without-provider",
        other => return other.to_string(),
    };
    t.get(id)
}

fn row_label(t: &Tr, table: &str, key: &str) -> String {
    if table == "regions_without_provider"
        && let Some((region, domain)) = key.split_once('/')
    {
        return format!("{region} · {}", label(t, domain));
    }
    label(t, key)
}

fn view(t: &Tr, tb: &Table) -> GapTable {
    GapTable {
        id: tb.id,
        caption: caption(t, tb.id),
        columns: tb.columns.iter().map(|c| label(t, c.key)).collect(),
        empty: tb.rows.is_empty(),
        rows: tb
            .rows
            .iter()
            .map(|r| GapRow {
                label: row_label(t, tb.id, &r.key),
                cells: r
                    .cells
                    .iter()
                    .map(|c| match c {
                        Cell::Value(v) => v.to_string(),
                        Cell::Suppressed => SUPPRESSED_MARK.to_string(),
                    })
                    .collect(),
            })
            .collect(),
    }
}

fn message(t: &Tr, field: &str, code: &str) -> String {
    let id = match (field, code) {
        (_, "invalid_date") => "gap-err-date",
        ("to", "before_from") => "gap-err-to-before-from",
        ("region", _) => "gap-err-region",
        ("k", _) => "gap-err-k",
        _ => "gap-err-variant",
    };
    t.get(id)
}

fn enc(s: &str) -> String {
    serde_urlencoded::to_string([("region", s)]).unwrap_or_default()
}

async fn gaps_page(
    State(state): State<AppState>,
    PageUser(a): PageUser,
    ApiQuery(mut q): ApiQuery<GapQueryParams>,
) -> Response {
    let c = Chrome::for_user(&state, &a, "statistics");
    let lang = c.t.lang;
    let cx = a.cx();
    let access = match state.store.authorize_gap_report(&cx).await {
        Ok(x) => x,
        Err(e) => return error_page(&state, Some(c), lang, AppError::from(e)),
    };
    // The screen's form always sends k; it applies to the public variant only.
    if q.variant.as_deref() != Some("public") {
        q.k = None;
    }
    q.format = None;
    let regions = match state.store.gap_regions(&access).await {
        Ok(r) => r,
        Err(e) => return error_page(&state, Some(c), lang, AppError::from(e)),
    };
    let today = a.now.date();
    let mut page = GapsPage {
        from: q
            .from
            .clone()
            .unwrap_or_else(|| format!("{}-01-01", today.year())),
        to: q.to.clone().unwrap_or_else(|| today.to_string()),
        region: q.region.clone().unwrap_or_default(),
        regions,
        public: q.variant.as_deref() == Some("public"),
        k: q.k
            .clone()
            .unwrap_or_else(|| dayaq_domain::statistics::DEFAULT_K.to_string()),
        national: access.scope() == GapScope::National,
        errors: Vec::new(),
        as_of: today.to_string(),
        tables: Vec::new(),
        csv_href: String::new(),
        xlsx_href: String::new(),
        c,
    };
    let parsed = parse_gap_query(&q, today);
    let (query, disclosure) = match parsed {
        Ok(x) => x,
        Err(errs) => {
            page.errors = errs
                .errors
                .iter()
                .map(|e| FieldMsg {
                    field: e.field.clone(),
                    message: message(&page.c.t, &e.field, e.code),
                })
                .collect();
            return (StatusCode::UNPROCESSABLE_ENTITY, page).into_response();
        }
    };
    match state
        .store
        .gap_report(&access, &query, disclosure, "screen")
        .await
    {
        Ok(out) => {
            page.tables = out.tables.iter().map(|tb| view(&page.c.t, tb)).collect();
            page.as_of = out.as_of.to_string();
            let mut qs = format!("from={}&to={}", query.from, query.to);
            if let Some(r) = &query.region {
                qs.push_str(&format!("&{}", enc(r)));
            }
            if let Disclosure::Public { k } = disclosure {
                qs.push_str(&format!("&variant=public&k={k}"));
            }
            page.csv_href = format!("/api/v1/statistics/gaps/export?{qs}&format=csv");
            page.xlsx_href = format!("/api/v1/statistics/gaps/export?{qs}&format=xlsx");
            page.into_response()
        }
        Err(dayaq_storage::StoreError::Invalid(errs)) => {
            page.errors = errs
                .errors
                .iter()
                .map(|e| FieldMsg {
                    field: e.field.clone(),
                    message: message(&page.c.t, &e.field, e.code),
                })
                .collect();
            (StatusCode::UNPROCESSABLE_ENTITY, page).into_response()
        }
        Err(e) => {
            let c = page.c;
            error_page(&state, Some(c), lang, AppError::from(e))
        }
    }
}
