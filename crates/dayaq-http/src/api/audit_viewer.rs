//! The audit viewer API (issue #18 part 1): `GET /audit/rows` (one page, newest first, keyset
//! cursor `before`) and `GET /audit/export` (JSON lines, oldest first from `after`, for a
//! SIEM). `ReadAudit`: auditors read every row, an organisation's administrator the rows of
//! its own staff; everyone else gets 403 (audited). The policy is asked before any parameter
//! is read; every read is audited (`audit.view`, `audit.export`).

use crate::AppState;
use crate::api::ApiQuery;
use crate::auth::Authed;
use crate::error::AppError;
use axum::Json;
use axum::extract::State;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use dayaq_domain::audit_view::{AuditFilter, FilterText, parse_filter};
use dayaq_domain::{FieldError, ValidationErrors};
use dayaq_storage::audit::AuditRow;
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(audit_rows))
        .routes(routes!(audit_export))
}

/// Rows per export request (the `x-dayaq-next-after` header names the cursor of the rest).
pub const EXPORT_MAX_ROWS: i64 = 10_000;

/// One audit row: ids, codes and hashes only (never case content).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct AuditRowBody {
    /// Position in the hash chain.
    pub seq: i64,
    /// When, RFC 3339 (UTC).
    pub at: String,
    /// The acting user's id, or `cli:<os user>` for the command line.
    pub actor_user: String,
    /// The acting user's organisation id (empty for the command line).
    pub actor_org: String,
    /// The action code (e.g. `case.read_identity`, `auth.login`, `case.export`).
    pub action: String,
    /// `success`, `denied`, `failure` or `refused`.
    pub outcome: String,
    /// The case id, when the row concerns one.
    pub case_id: String,
    /// Under which grant the actor reached the case: `owner`, `referral`, `break_glass`
    /// (empty for rows before migration 0023 and rows without a case).
    pub grant: String,
    /// The client address the request came from, or `cli`.
    pub source: String,
    /// Codes and ids of the action (never personal data).
    pub detail: String,
    pub prev_hash: String,
    pub hash: String,
}

pub fn row_body(r: &AuditRow) -> AuditRowBody {
    let at = dayaq_storage::from_millis(r.at)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    AuditRowBody {
        seq: r.seq,
        at,
        actor_user: r.actor_user.clone(),
        actor_org: r.actor_org.clone(),
        action: r.action.clone(),
        outcome: r.outcome.clone(),
        case_id: r.case_id.clone(),
        grant: r.access_grant.clone(),
        source: r.source.clone(),
        detail: r.detail.clone(),
        prev_hash: r.prev_hash.clone(),
        hash: r.hash.clone(),
    }
}

/// One page of the viewer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AuditPageBody {
    /// `all` (auditor) or `organisation` (the administrator's own organisation).
    pub scope: String,
    /// Newest first.
    pub rows: Vec<AuditRowBody>,
    /// The `before` cursor of the next (older) page; absent on the last page.
    pub next_before: Option<i64>,
}

/// Filters, read as text so that nothing is refused before the policy is asked. Every
/// filter narrows; a malformed one is a 422 naming it.
#[derive(Debug, Default, Clone, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQueryParams {
    /// A case id: every read and change of the case.
    pub case: Option<String>,
    /// A user id (or `cli:<name>`): the user's activity.
    pub user: Option<String>,
    /// An organisation id (the actor's organisation).
    pub org: Option<String>,
    /// `exports`, `break_glass`, `erasures`, `keys`, `failed_signins`, `denied`,
    /// `audit_reads`.
    pub kind: Option<String>,
    /// An exact action code.
    pub action: Option<String>,
    /// `success`, `denied`, `failure`, `refused`.
    pub outcome: Option<String>,
    /// `owner`, `referral`, `break_glass`.
    pub grant: Option<String>,
    /// From (inclusive): YYYY-MM-DD or RFC 3339.
    pub since: Option<String>,
    /// Until (exclusive): YYYY-MM-DD or RFC 3339.
    pub until: Option<String>,
    /// Viewer: rows before this row number (the previous page's `next_before`).
    pub before: Option<String>,
    /// Viewer: rows per page, 1..500 (default 50).
    pub limit: Option<String>,
    /// Export: rows after this row number (default 0: from the oldest live row).
    pub after: Option<String>,
}

impl AuditQueryParams {
    pub fn text(&self) -> FilterText<'_> {
        FilterText {
            case_id: self.case.as_deref(),
            user: self.user.as_deref(),
            org: self.org.as_deref(),
            kind: self.kind.as_deref(),
            action: self.action.as_deref(),
            outcome: self.outcome.as_deref(),
            grant: self.grant.as_deref(),
            since: self.since.as_deref(),
            until: self.until.as_deref(),
            before: self.before.as_deref(),
            limit: self.limit.as_deref(),
        }
    }
}

fn unexpected(field: &str, what: &str) -> ValidationErrors {
    ValidationErrors::single(FieldError::new(field, "unexpected", what.to_string()))
}

#[utoipa::path(get, path = "/audit/rows", tag = "audit",
    params(AuditQueryParams),
    responses((status = 200, description = "One page of the audit log, newest first, filtered (case, user, organisation, action kind, outcome, grant, period) and paged by the `before` cursor; every row for an auditor, the own organisation's rows for its administrator; ids, codes and hashes only; the read is itself audited (`audit.view`)", body = AuditPageBody)))]
async fn audit_rows(
    State(state): State<AppState>,
    a: Authed,
    ApiQuery(q): ApiQuery<AuditQueryParams>,
) -> Result<Json<AuditPageBody>, AppError> {
    let cx = a.cx();
    let access = state.store.authorize_audit_view(&cx).await?;
    if q.after.is_some() {
        return Err(AppError::Invalid(unexpected(
            "after",
            "after applies to the export; page with before",
        )));
    }
    let f = parse_filter(&q.text()).map_err(AppError::Invalid)?;
    let page = state.store.audit_page(&access, &f, "api").await?;
    Ok(Json(AuditPageBody {
        scope: access.scope().name().to_string(),
        rows: page.rows.iter().map(row_body).collect(),
        next_before: page.next_before,
    }))
}

/// The export's filter: the viewer's filters with `after` instead of `before`/`limit`.
pub fn export_filter(q: &AuditQueryParams) -> Result<AuditFilter, ValidationErrors> {
    let mut errs = ValidationErrors::default();
    if q.before.is_some() {
        errs.errors
            .extend(unexpected("before", "the export goes forward: use after").errors);
    }
    if q.limit.is_some() {
        errs.errors
            .extend(unexpected("limit", "the export sends up to 10000 rows per request").errors);
    }
    let after = match q.after.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => 0,
        Some(s) => match s.parse::<i64>() {
            Ok(n) if n >= 0 => n,
            _ => {
                errs.push(FieldError::new(
                    "after",
                    "invalid_cursor",
                    "expected a row number (0 or more)",
                ));
                0
            }
        },
    };
    let mut text = q.text();
    text.before = None;
    text.limit = None;
    let f = parse_filter(&text);
    match f {
        Ok(mut f) if errs.is_empty() => {
            f.after = Some(after);
            f.limit = EXPORT_MAX_ROWS;
            Ok(f)
        }
        Ok(_) => Err(errs),
        Err(e) => {
            errs.errors.extend(e.errors);
            Err(errs)
        }
    }
}

/// Rows as JSON lines (one [`AuditRowBody`] per line).
pub fn jsonl(rows: &[AuditRow]) -> String {
    let mut out = String::new();
    for r in rows {
        if let Ok(line) = serde_json::to_string(&row_body(r)) {
            out.push_str(&line);
            out.push('\n');
        }
    }
    out
}

#[utoipa::path(get, path = "/audit/export", tag = "audit",
    params(AuditQueryParams),
    responses((status = 200, description = "The filtered audit rows as JSON lines for a SIEM (one AuditRowBody object per line), oldest first after the `after` row number, up to 10000 per request; header `x-dayaq-next-after` carries the cursor when more rows follow; audited (`audit.export`)",
               body = String, content_type = "application/x-ndjson")))]
async fn audit_export(
    State(state): State<AppState>,
    a: Authed,
    ApiQuery(q): ApiQuery<AuditQueryParams>,
) -> Result<Response, AppError> {
    let cx = a.cx();
    let access = state.store.authorize_audit_view(&cx).await?;
    let mut f = export_filter(&q).map_err(AppError::Invalid)?;
    f.limit = EXPORT_MAX_ROWS + 1;
    let mut rows = state.store.audit_rows(access.scope(), &f).await?;
    let more = rows.len() as i64 > EXPORT_MAX_ROWS;
    rows.truncate(EXPORT_MAX_ROWS as usize);
    f.limit = EXPORT_MAX_ROWS;
    state
        .store
        .audit_record_read(&access, "audit.export", &f, "api", rows.len())
        .await?;
    let next = rows.last().map(|r| r.seq);
    let mut resp = (
        [
            (CONTENT_TYPE, "application/x-ndjson"),
            (CACHE_CONTROL, "no-store"),
        ],
        jsonl(&rows),
    )
        .into_response();
    if more && let Some(n) = next {
        resp.headers_mut()
            .insert("x-dayaq-next-after", axum::http::HeaderValue::from(n));
    }
    Ok(resp)
}
