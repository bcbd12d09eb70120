//! The audit viewer screen (`/audit/log`, issue #18 part 1): the rows of
//! `GET /api/v1/audit/rows` as an accessible table (newest first; "older rows" follows the
//! keyset cursor) under a filter form that keeps its input and shows each refused field's error
//! beside it. Auditors see every row, an organisation's administrator its own staff's rows.
//! Every page shown is audited (`audit.view`, `via=page`).

use crate::AppState;
use crate::api::ApiQuery;
use crate::api::audit_viewer::{AuditQueryParams, export_filter};
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
use dayaq_domain::audit_view::{GRANTS, Kind, OUTCOMES, parse_filter};
use dayaq_storage::audit_viewer::AuditScope;

pub fn router() -> Router<AppState> {
    Router::new().route("/audit/log", get(audit_page))
}

pub struct ViewRow {
    pub seq: i64,
    pub at: String,
    pub actor_user: String,
    pub actor_org: String,
    pub action: String,
    pub outcome: String,
    pub case_id: String,
    pub grant: String,
    pub source: String,
    pub detail: String,
}

/// A field's error, beside the field.
pub struct FieldMsg {
    pub field: String,
    pub message: String,
}

/// A choice of a select: value, label, selected.
pub struct Choice {
    pub value: &'static str,
    pub label: String,
    pub selected: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "audit_viewer.html")]
struct AuditPageView {
    c: Chrome,
    all: bool,
    case: String,
    user: String,
    org: String,
    action: String,
    since: String,
    until: String,
    kinds: Vec<Choice>,
    outcomes: Vec<Choice>,
    grants: Vec<Choice>,
    errors: Vec<FieldMsg>,
    rows: Vec<ViewRow>,
    shown: bool,
    older_href: String,
    export_href: String,
}

impl AuditPageView {
    fn error(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|e| e.field == field)
            .map(|e| e.message.as_str())
    }
}

fn message(t: &Tr, field: &str, code: &str) -> String {
    let id = match (field, code) {
        (_, "invalid_date") => "aud-err-date",
        ("until", "before_since") => "aud-err-until-before-since",
        ("case" | "org", _) => "aud-err-id",
        ("user", _) => "aud-err-user",
        ("before" | "after", _) => "aud-err-cursor",
        ("limit", _) => "aud-err-limit",
        _ => "aud-err-choice",
    };
    t.get(id)
}

fn kind_label(t: &Tr, k: Kind) -> String {
    t.get(match k {
        Kind::Exports => "aud-kind-exports",
        Kind::BreakGlass => "aud-kind-break-glass",
        Kind::Erasures => "aud-kind-erasures",
        Kind::Keys => "aud-kind-keys",
        Kind::FailedSignins => "aud-kind-failed-signins",
        Kind::Denied => "aud-kind-denied",
        Kind::AuditReads => "aud-kind-audit-reads",
    })
}

fn grant_label(t: &Tr, g: &str) -> String {
    match g {
        "owner" => t.get("aud-grant-owner"),
        "referral" => t.get("aud-grant-referral"),
        "break_glass" => t.get("aud-grant-break-glass"),
        other => other.to_string(),
    }
}

fn outcome_label(t: &Tr, o: &str) -> String {
    match o {
        "success" => t.get("aud-outcome-success"),
        "denied" => t.get("aud-outcome-denied"),
        "failure" => t.get("aud-outcome-failure"),
        "refused" => t.get("aud-outcome-refused"),
        other => other.to_string(),
    }
}

/// The query string of the filter's fields (cursor and page size left out).
fn filter_qs(q: &AuditQueryParams) -> String {
    let pairs: Vec<(&str, &str)> = [
        ("case", &q.case),
        ("user", &q.user),
        ("org", &q.org),
        ("kind", &q.kind),
        ("action", &q.action),
        ("outcome", &q.outcome),
        ("grant", &q.grant),
        ("since", &q.since),
        ("until", &q.until),
    ]
    .into_iter()
    .filter_map(|(k, v)| {
        v.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| (k, s))
    })
    .collect();
    serde_urlencoded::to_string(pairs).unwrap_or_default()
}

async fn audit_page(
    State(state): State<AppState>,
    PageUser(a): PageUser,
    ApiQuery(mut q): ApiQuery<AuditQueryParams>,
) -> Response {
    let c = Chrome::for_user(&state, &a, "audit");
    let lang = c.t.lang;
    let cx = a.cx();
    let access = match state.store.authorize_audit_view(&cx).await {
        Ok(x) => x,
        Err(e) => return error_page(&state, Some(c), lang, AppError::from(e)),
    };
    q.after = None;
    let v = |o: &Option<String>| o.clone().unwrap_or_default();
    let kinds = Kind::ALL
        .iter()
        .map(|k| Choice {
            value: k.name(),
            label: kind_label(&c.t, *k),
            selected: q.kind.as_deref() == Some(k.name()),
        })
        .collect();
    let outcomes = OUTCOMES
        .iter()
        .map(|o| Choice {
            value: o,
            label: outcome_label(&c.t, o),
            selected: q.outcome.as_deref() == Some(*o),
        })
        .collect();
    let grants = GRANTS
        .iter()
        .map(|g| Choice {
            value: g,
            label: grant_label(&c.t, g),
            selected: q.grant.as_deref() == Some(*g),
        })
        .collect();
    let mut page = AuditPageView {
        all: access.scope() == AuditScope::All,
        case: v(&q.case),
        user: v(&q.user),
        org: v(&q.org),
        action: v(&q.action),
        since: v(&q.since),
        until: v(&q.until),
        kinds,
        outcomes,
        grants,
        errors: Vec::new(),
        rows: Vec::new(),
        shown: false,
        older_href: String::new(),
        export_href: String::new(),
        c,
    };
    let f = match parse_filter(&q.text()) {
        Ok(f) => f,
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
    match state.store.audit_page(&access, &f, "page").await {
        Ok(p) => {
            let qs = filter_qs(&q);
            let sep = if qs.is_empty() { "" } else { "&" };
            if let Some(n) = p.next_before {
                let limit = q
                    .limit
                    .as_deref()
                    .map(|l| format!("&limit={}", l.trim()))
                    .unwrap_or_default();
                page.older_href = format!("/audit/log?{qs}{sep}before={n}{limit}");
            }
            let mut eq = q.clone();
            eq.before = None;
            eq.limit = None;
            if export_filter(&eq).is_ok() {
                page.export_href = format!(
                    "/api/v1/audit/export{}{qs}",
                    if qs.is_empty() { "" } else { "?" }
                );
            }
            page.shown = true;
            page.rows = p
                .rows
                .iter()
                .map(|r| {
                    let body = crate::api::audit_viewer::row_body(r);
                    ViewRow {
                        seq: body.seq,
                        at: body.at,
                        actor_user: body.actor_user,
                        actor_org: body.actor_org,
                        action: body.action,
                        outcome: outcome_label(&page.c.t, &body.outcome),
                        case_id: body.case_id,
                        grant: grant_label(&page.c.t, &body.grant),
                        source: body.source,
                        detail: body.detail,
                    }
                })
                .collect();
            page.into_response()
        }
        Err(e) => error_page(&state, Some(page.c), lang, AppError::from(e)),
    }
}
