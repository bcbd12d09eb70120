//! The HTCDS screen `/htcds`: import by upload, export downloads, requests for exports with
//! identities. The JSON API is `api/htcds.rs`; both share `crate::htcds_export`. Parsing,
//! validation and the file formats live in `dayaq_storage::htcds`; the column mapping is
//! documented in docs/HTCDS.md.
//!
//! Confidentiality: error messages never repeat a cell's value.

use crate::AppState;
use crate::api::ApiQuery;
use crate::auth::{Authed, PageUser};
use crate::error::{AppError, PageMessage};
use crate::htcds_export::{
    ExportQuery, export_format, export_identity, export_request_id, export_response,
    identity_export_allowed, may,
};
use crate::i18n::{LOCALES, Tr};
use crate::pages::Chrome;
use crate::upload::{UploadError, file_field};
use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use dayaq_domain::policy::Action;
use dayaq_storage::htcds::{Format, ImportErrors, ImportFailure, ImportReport, RowError};
use fluent_templates::Loader;
use serde::Deserialize;

/// HTML screens.
pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/htcds", get(htcds_page))
        .route("/htcds/export", get(export_download))
        .route("/htcds/export-request", post(request_submit))
        .route("/htcds/export-requests/{id}/approve", post(approve_submit))
        .route("/htcds/export-settings", post(settings_submit))
        .route(
            "/htcds/import",
            post(import_upload).layer(axum::extract::DefaultBodyLimit::max(UPLOAD_LIMIT)),
        )
}

use crate::settings::UPLOAD_LIMIT;

// ---------- screen ----------

fn chrome(state: &AppState, a: &Authed) -> Chrome {
    Chrome::for_user(state, a, "htcds")
}

fn error_page(c: Chrome, err: AppError) -> Response {
    let status = err.status();
    let title_key = match &err {
        AppError::NotFound => "error-not-found",
        AppError::Forbidden(_) => "error-forbidden",
        AppError::Unauthorized => "error-unauthorized",
        AppError::Internal(detail) => {
            tracing::error!(error = %detail, "internal error");
            "error-internal"
        }
        _ => "error-internal",
    };
    let message = c.t.get(&format!("{title_key}-text"));
    PageMessage {
        frame: c,
        status,
        title_key,
        message,
    }
    .into_response()
}

/// The result of an upload, ready to show.
pub struct ImportView {
    pub ok: bool,
    pub summary: String,
    pub errors: Vec<ErrorRow>,
    pub more: Option<String>,
    pub ignored: Vec<(String, String)>,
}

pub struct ErrorRow {
    pub row: String,
    pub column: String,
    pub reason: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "htcds.html")]
struct HtcdsPage {
    c: Chrome,
    can_export: bool,
    /// Identity exports: a case manager signed in with a second factor.
    can_export_identities: bool,
    /// ... and no approval needed (setting off, or a supervisor).
    direct_identity_export: bool,
    /// A caseworker who must ask a supervisor first.
    can_request: bool,
    is_supervisor: bool,
    approval_required: bool,
    requests: Vec<RequestRow>,
    can_import: bool,
    result: Option<ImportView>,
}

/// Rows shown on the screen; the API and the command line list every problem.
const SHOWN_ERRORS: usize = 500;

/// A translation, or `None` when the catalogue has no such key.
fn try_text(t: &Tr, key: &str) -> Option<String> {
    let id: fluent_templates::LanguageIdentifier = t.code().parse().ok()?;
    LOCALES.try_lookup(&id, key)
}

/// Why a cell or column failed, in the user's language (the English message otherwise).
fn reason(t: &Tr, e: &RowError) -> String {
    try_text(t, &format!("err-{}", e.code.replace('_', "-"))).unwrap_or_else(|| e.message.clone())
}

fn ignored_reason(t: &Tr, code: &str) -> String {
    match code {
        "read_only" => t.get("htcds-ignored-read-only"),
        "not_stored" => t.get("htcds-ignored-not-stored"),
        _ => t.get("htcds-ignored-no-header"),
    }
}

fn success_view(t: &Tr, r: &ImportReport) -> ImportView {
    ImportView {
        ok: true,
        summary: t.arg("htcds-imported", "count", r.imported),
        errors: vec![],
        more: None,
        ignored: r
            .ignored_columns
            .iter()
            .map(|i| (i.column.clone(), ignored_reason(t, i.code)))
            .collect(),
    }
}

fn failure_view(t: &Tr, e: &ImportErrors) -> ImportView {
    let errors = e
        .errors
        .iter()
        .take(SHOWN_ERRORS)
        .map(|e| ErrorRow {
            row: if e.row == 0 {
                String::new()
            } else {
                e.row.to_string()
            },
            column: e.column.clone(),
            reason: reason(t, e),
        })
        .collect();
    let hidden = e.errors.len().saturating_sub(SHOWN_ERRORS);
    ImportView {
        ok: false,
        summary: t.arg("htcds-import-failed", "count", e.errors.len()),
        errors,
        more: (hidden > 0).then(|| t.arg("htcds-more-errors", "count", hidden)),
        ignored: vec![],
    }
}

async fn render(state: &AppState, a: &Authed, result: Option<ImportView>) -> Response {
    let c = chrome(state, a);
    let actor = &a.actor;
    let can_export = may(actor, Action::ExportCases);
    let can_import = may(actor, Action::ImportCases);
    if !can_export && !can_import {
        return error_page(c, AppError::Forbidden("role_without_case_access"));
    }
    let is_supervisor = may(actor, Action::Approve);
    let approval_required = match state.store.export_approval_required(actor.org_id).await {
        Ok(v) => v,
        Err(e) => return error_page(c, e.into()),
    };
    let ctx = a.cx();
    let requests = match state.store.export_requests(&ctx).await {
        Ok(v) => v,
        Err(e) => return error_page(c, e.into()),
    };
    let can_export_identities = can_export && identity_export_allowed(state, a).is_ok();
    let requests = requests
        .into_iter()
        .map(|r| RequestRow {
            when: c.t.datetime(&r.requested_at),
            state: c.t.get(match r.state.as_str() {
                "Pending" => "export-request-pending",
                "Approved" => "export-request-approved",
                _ => "export-request-used",
            }),
            mine: r.requested_by == actor.user_id,
            can_download: can_export_identities
                && r.requested_by == actor.user_id
                && r.state == "Approved",
            can_approve: is_supervisor && r.requested_by != actor.user_id && r.state == "Pending",
            id: r.id.to_string(),
        })
        .collect();
    HtcdsPage {
        c,
        can_export,
        // With the approval setting on, a caseworker downloads through an approved request.
        direct_identity_export: can_export_identities && (!approval_required || is_supervisor),
        can_request: can_export_identities && approval_required && !is_supervisor,
        can_export_identities,
        is_supervisor,
        approval_required,
        requests,
        can_import,
        result,
    }
    .into_response()
}

/// One export request on the screen.
struct RequestRow {
    id: String,
    when: String,
    state: String,
    mine: bool,
    can_download: bool,
    can_approve: bool,
}

async fn request_submit(State(state): State<AppState>, PageUser(a): PageUser) -> Response {
    let ctx = a.cx();
    match state.store.request_export(&ctx).await {
        Ok(_) => axum::response::Redirect::to("/htcds#export-requests").into_response(),
        Err(e) => error_page(chrome(&state, &a), e.into()),
    }
}

async fn approve_submit(
    State(state): State<AppState>,
    PageUser(a): PageUser,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> Response {
    let Ok(id) = uuid::Uuid::parse_str(&id) else {
        return error_page(chrome(&state, &a), AppError::NotFound);
    };
    let ctx = a.cx();
    match state.store.approve_export(&ctx, id).await {
        Ok(()) => axum::response::Redirect::to("/htcds#export-requests").into_response(),
        Err(e) => error_page(chrome(&state, &a), e.into()),
    }
}

#[derive(Deserialize)]
struct SettingsForm {
    #[serde(default)]
    approval_required: Option<String>,
}

async fn settings_submit(
    State(state): State<AppState>,
    PageUser(a): PageUser,
    axum::extract::Form(f): axum::extract::Form<SettingsForm>,
) -> Response {
    let ctx = a.cx();
    match state
        .store
        .set_export_approval(&ctx, f.approval_required.is_some())
        .await
    {
        Ok(()) => axum::response::Redirect::to("/htcds#export-settings").into_response(),
        Err(e) => error_page(chrome(&state, &a), e.into()),
    }
}

async fn htcds_page(State(state): State<AppState>, PageUser(a): PageUser) -> Response {
    render(&state, &a, None).await
}

async fn export_download(
    State(state): State<AppState>,
    PageUser(a): PageUser,
    ApiQuery(q): ApiQuery<ExportQuery>,
) -> Response {
    let r = match (
        export_format(&q),
        export_identity(&q),
        export_request_id(&q),
    ) {
        (Ok(f), Ok(identities), Ok(request)) => {
            export_response(&state, &a, f, identities, request).await
        }
        (Err(e), ..) | (_, Err(e), _) | (.., Err(e)) => Err(e),
    };
    match r {
        Ok(resp) => resp,
        Err(AppError::Invalid(_)) => error_page(chrome(&state, &a), AppError::NotFound),
        Err(e) => error_page(chrome(&state, &a), e),
    }
}

/// The upload form posts `multipart/form-data` through htmx, which sends the CSRF token in the
/// `X-CSRF-Token` header (the session layer does not read multipart bodies). Without
/// JavaScript the token is missing and the upload is refused: the screen says to use the API
/// or `dayaq import htcds` instead.
async fn import_upload(
    State(state): State<AppState>,
    PageUser(a): PageUser,
    mp: Result<Multipart, MultipartRejection>,
) -> Response {
    let t = chrome(&state, &a).t;
    let file = match file_field(mp).await {
        Ok(f) => f,
        Err(UploadError::Unreadable) => {
            let e = RowError {
                row: 0,
                column: String::new(),
                code: "too_large",
                message: "the file is larger than 8 MiB".into(),
            };
            let v = failure_view(&t, &ImportErrors { errors: vec![e] });
            return render(&state, &a, Some(v)).await;
        }
        Err(UploadError::NoFile) => {
            let v = ImportView {
                ok: false,
                summary: t.get("htcds-no-file"),
                errors: vec![],
                more: None,
                ignored: vec![],
            };
            return render(&state, &a, Some(v)).await;
        }
    };
    let ctx = a.cx();
    let format = Format::sniff(&file);
    let view = match state.store.import_file(&ctx, file, format).await {
        Ok(report) => success_view(&t, &report),
        Err(ImportFailure::Invalid(e)) => failure_view(&t, &e),
        Err(ImportFailure::Store(e)) => return error_page(chrome(&state, &a), e.into()),
    };
    render(&state, &a, Some(view)).await
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use crate::i18n::Lang;

    #[test]
    fn every_import_error_code_has_a_translation() {
        for code in [
            "too_long",
            "control_characters",
            "invalid_date",
            "in_future",
            "too_early",
            "invalid_phone",
            "invalid_email",
            "invalid_country",
            "invalid_value",
            "out_of_range",
            "required",
            "invalid_language",
            "invalid_number",
            "invalid_encoding",
            "cell_error",
            "unreadable_file",
            "no_header",
            "duplicate_column",
            "unknown_column",
            "extra_cells",
            "too_many_rows",
            "invalid_row",
            "too_many_errors",
            "too_large",
        ] {
            for lang in Lang::ALL {
                let t = Tr::new(lang);
                let e = RowError {
                    row: 2,
                    column: "prs_Gender".into(),
                    code,
                    message: "english".into(),
                };
                assert_ne!(reason(&t, &e), "english", "{code} in {}", lang.code());
            }
        }
    }
}
