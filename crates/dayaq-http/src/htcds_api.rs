//! HTCDS import and export over HTTP: the JSON API (`POST /import/htcds`,
//! `GET /export/htcds`) and the screen `/htcds`. Parsing, validation and the file formats live
//! in `dayaq_storage::htcds`; the column mapping is documented in docs/HTCDS.md.
//!
//! Confidentiality: error messages never repeat a cell's value, download file names carry only
//! the date, and exports are audited by the store before any case leaves it.

use crate::AppState;
use crate::api::ApiQuery;
use crate::auth::{Authed, PageUser};
use crate::error::AppError;
use crate::i18n::{LOCALES, Tr};
use crate::pages::Chrome;
use crate::upload::{UploadError, file_field};
use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::multipart::MultipartRejection;
use axum::extract::{FromRequest, Multipart, Request, State};
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use dayaq_domain::Actor;
use dayaq_domain::policy::{Action, Resource, decide};
use dayaq_storage::cases::Ctx;
use dayaq_storage::htcds::{
    self, Format, ImportErrors, ImportFailure, ImportReport, RowError, XlsxSink,
};
use fluent_templates::Loader;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// API routes (mounted under /api/v1).
pub fn api_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(import_htcds))
        .routes(routes!(export_htcds))
        .routes(routes!(get_export_settings, put_export_settings))
        .routes(routes!(list_export_requests, create_export_request))
        .routes(routes!(approve_export_request))
}

/// HTML screens.
pub fn pages_router() -> Router<AppState> {
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

/// Largest upload through the browser (the outer request limit is the same).
pub const UPLOAD_LIMIT: usize = 8 * 1024 * 1024;

// ---------- shared ----------

/// The 422 body of a failed import: every problem with its row and column.
fn import_errors_response(e: &ImportErrors) -> Response {
    let first = e.errors.first();
    let body = json!({
        "error": {
            "code": "invalid_input",
            "message": e.to_string(),
            "field": first.map(|f| f.column.clone()),
            "errors": e.errors,
        }
    });
    (StatusCode::UNPROCESSABLE_ENTITY, axum::Json(body)).into_response()
}

/// Reads the whole request body (bounded by the application's body limit).
async fn body_bytes(req: Request, state: &AppState) -> Result<Bytes, AppError> {
    Bytes::from_request(req, state).await.map_err(|_| {
        AppError::field(
            "body",
            "too_large",
            "the file could not be read or is larger than 8 MiB; import large files with \
             `dayaq import htcds`",
        )
    })
}

/// A download name without personal data: the kind of file and the date.
fn download_name(state: &AppState, format: Format) -> String {
    let d = state.now().date();
    format!(
        "htcds-export-{:04}-{:02}-{:02}.{}",
        d.year(),
        u8::from(d.month()),
        d.day(),
        format.extension()
    )
}

/// May `a` export identities? The policy (`ExportIdentities`: caseworkers and supervisors)
/// and a browser session whose second factor was completed — a bearer token alone, or a
/// session of a user without a second factor, is not enough. `Err` names the reason. (The
/// organisation's approval requirement is checked by `identity_export_approved`.)
fn identity_export_allowed(state: &AppState, a: &Authed) -> Result<(), &'static str> {
    let actor = a.actor();
    if !state.store.may_export_identities(&a.ctx(&actor, state)) {
        return Err("identity_export_needs_case_manager");
    }
    match &a.session {
        Some(s) if s.mfa_ok && a.user.totp_enabled => Ok(()),
        _ => Err("identity_export_needs_second_factor"),
    }
}

/// When the organisation requires a supervisor's approval for identity exports, a
/// caseworker's export must name an approved request of theirs, which is used up (one
/// download). Supervisors export without one.
async fn identity_export_approved(
    state: &AppState,
    a: &Authed,
    request: Option<uuid::Uuid>,
) -> Result<(), AppError> {
    let actor = a.actor();
    if actor.role == dayaq_domain::Role::Supervisor
        || !state.store.export_approval_required(actor.org_id).await?
    {
        return Ok(());
    }
    let ctx = a.ctx(&actor, state);
    match request {
        None => {
            state
                .store
                .audit_export_refusal(&ctx, "identity_export_needs_approval")
                .await?;
            Err(AppError::Forbidden("identity_export_needs_approval"))
        }
        Some(id) => Ok(state.store.use_export_approval(&ctx, id).await?),
    }
}

/// Streams (CSV) or builds (XLSX) the export of the cases `a` may see; with `identities`
/// only when `identity_export_allowed` and `identity_export_approved` (403 with the reason
/// otherwise, before any byte).
async fn export_response(
    state: &AppState,
    a: &Authed,
    format: Format,
    identities: bool,
    request: Option<uuid::Uuid>,
) -> Result<Response, AppError> {
    let actor = a.actor();
    // Ask the policy before any byte is sent, so that a refusal is a proper 403.
    state.store.authorize_export(&a.ctx(&actor, state))?;
    if identities {
        if let Err(reason) = identity_export_allowed(state, a) {
            let ctx = a.ctx(&actor, state);
            state.store.audit_export_refusal(&ctx, reason).await?;
            return Err(AppError::Forbidden(reason));
        }
        identity_export_approved(state, a, request).await?;
    }
    let body = match format {
        Format::Csv => {
            let (mut sink, stream) = htcds::csv_channel()?;
            let store = state.store.clone();
            let user = a.user.clone();
            let source = a.source.clone();
            let now = state.now();
            tokio::spawn(async move {
                let actor = user.actor();
                let ctx = Ctx {
                    actor: &actor,
                    source: &source,
                    now,
                };
                let outcome = store.export_cases_with(&ctx, &mut sink, identities).await;
                if let Err(e) = &outcome {
                    tracing::error!(error = %e, "HTCDS export failed");
                }
                sink.finish(&outcome).await;
            });
            Body::from_stream(stream)
        }
        Format::Xlsx => {
            let mut sink = XlsxSink::new()?;
            state
                .store
                .export_cases_with(&a.ctx(&actor, state), &mut sink, identities)
                .await?;
            let bytes = tokio::task::spawn_blocking(move || sink.finish())
                .await
                .map_err(|e| AppError::Internal(e.to_string()))??;
            Body::from(bytes)
        }
    };
    let mut headers = HeaderMap::new();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(format.media_type()));
    if let Ok(v) = HeaderValue::from_str(&format!(
        "attachment; filename=\"{}\"",
        download_name(state, format)
    )) {
        headers.insert(CONTENT_DISPOSITION, v);
    }
    Ok((headers, body).into_response())
}

fn may(actor: &Actor, action: Action) -> bool {
    decide(actor, action, Resource::Organisation(actor.org_id)).allowed
}

// ---------- API ----------

#[utoipa::path(post, path = "/import/htcds", tag = "htcds",
    request_body(description = "An HTCDS file: a header row of HTCDS field names, one case per \
        row, HTCDS value names, multi-select values joined with `;` (see docs/HTCDS.md). The \
        HTCDS Excel template is accepted. At most 8 MiB.",
        content(("text/csv"), ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
    responses(
        (status = 200, description = "Every row was imported: `{\"imported\": n, \"ignored_columns\": [{\"column\", \"code\", \"message\"}]}`", body = serde_json::Value),
        (status = 401, body = serde_json::Value), (status = 403, body = serde_json::Value),
        (status = 422, description = "Nothing was imported. `error.errors` lists every problem as `{\"row\", \"column\", \"code\", \"message\"}`; `row` is the spreadsheet row (the header is row 1), messages never contain cell values", body = serde_json::Value)))]
async fn import_htcds(
    State(state): State<AppState>,
    a: Authed,
    req: Request,
) -> Result<Response, AppError> {
    let ct = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let actor = a.actor();
    let ctx = a.ctx(&actor, &state);
    state.store.authorize_import(&ctx)?;
    let bytes = body_bytes(req, &state).await?;
    let format = match Format::from_media_type(&ct) {
        Some(f) => f,
        None if ct.starts_with("application/octet-stream") => Format::sniff(&bytes),
        None => {
            return Err(AppError::field(
                "Content-Type",
                "unsupported_media_type",
                "send the file as text/csv or as \
                 application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            ));
        }
    };
    match state.store.import_file(&ctx, bytes.to_vec(), format).await {
        Ok(report) => Ok(axum::Json(json!(report)).into_response()),
        Err(ImportFailure::Invalid(e)) => Ok(import_errors_response(&e)),
        Err(ImportFailure::Store(e)) => Err(e.into()),
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct ExportQuery {
    /// `csv` (default, streamed) or `xlsx`.
    format: Option<String>,
    /// `include` (default): with names, birth dates and contact details — needs a caseworker
    /// or supervisor signed in with a second factor (a browser session; a bearer token alone
    /// is refused with 403 `identity_export_needs_second_factor`). `none`: without them
    /// (every role that may export cases, tokens included).
    identity: Option<String>,
    /// An approved export request (UUID) of the caller: needed for an export with identities
    /// when the organisation requires a supervisor's approval; it works once.
    request: Option<String>,
}

fn export_request_id(q: &ExportQuery) -> Result<Option<uuid::Uuid>, AppError> {
    match q.request.as_deref() {
        None | Some("") => Ok(None),
        Some(r) => uuid::Uuid::parse_str(r).map(Some).map_err(|_| {
            AppError::field(
                "request",
                "invalid_value",
                "request must be a request id (UUID)",
            )
        }),
    }
}

fn export_identity(q: &ExportQuery) -> Result<bool, AppError> {
    match q.identity.as_deref() {
        None | Some("") | Some("include") => Ok(true),
        Some("none") => Ok(false),
        Some(_) => Err(AppError::field(
            "identity",
            "invalid_value",
            "identity accepts only: include, none",
        )),
    }
}

fn export_format(q: &ExportQuery) -> Result<Format, AppError> {
    match q.format.as_deref() {
        None | Some("") => Ok(Format::Csv),
        Some(f) => Format::from_name(f).ok_or_else(|| {
            AppError::field("format", "invalid_value", "format accepts only: csv, xlsx")
        }),
    }
}

#[utoipa::path(get, path = "/export/htcds", tag = "htcds", params(ExportQuery),
    responses(
        (status = 200, description = "Every case the caller may see, identity included unless `identity=none`, as a download (Content-Disposition; the file name carries only the date). Columns are HTCDS field names (docs/HTCDS.md). Audited with the case ids.",
            content(("text/csv"), ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
        (status = 401, body = serde_json::Value), (status = 403, body = serde_json::Value), (status = 422, body = serde_json::Value)))]
async fn export_htcds(
    State(state): State<AppState>,
    a: Authed,
    ApiQuery(q): ApiQuery<ExportQuery>,
) -> Result<Response, AppError> {
    let format = export_format(&q)?;
    let identities = export_identity(&q)?;
    let request = export_request_id(&q)?;
    export_response(&state, &a, format, identities, request).await
}

// ---------- identity exports needing a supervisor's approval ----------

/// The organisation's setting.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExportSettings {
    /// Identity exports by caseworkers wait for a supervisor's approval (default false).
    pub approval_required: bool,
}

/// One request for an export with identities.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ExportRequestView {
    pub id: uuid::Uuid,
    pub requested_by: uuid::Uuid,
    pub requested_at: String,
    /// Pending, Approved or Used.
    pub state: String,
    pub decided_by: Option<uuid::Uuid>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ExportRequestList {
    pub requests: Vec<ExportRequestView>,
}

fn request_view(r: dayaq_storage::exports::ExportRequest) -> ExportRequestView {
    ExportRequestView {
        id: r.id,
        requested_by: r.requested_by,
        requested_at: r.requested_at,
        state: r.state,
        decided_by: r.decided_by,
    }
}

#[utoipa::path(get, path = "/export-settings", tag = "htcds",
    responses((status = 200, description = "The caller's organisation's setting", body = ExportSettings)))]
async fn get_export_settings(
    State(state): State<AppState>,
    a: Authed,
) -> Result<axum::Json<ExportSettings>, AppError> {
    Ok(axum::Json(ExportSettings {
        approval_required: state.store.export_approval_required(a.user.org_id).await?,
    }))
}

#[utoipa::path(put, path = "/export-settings", tag = "htcds", request_body = ExportSettings,
    responses((status = 200, description = "Saved (supervisors of the organisation; audited)", body = ExportSettings)))]
async fn put_export_settings(
    State(state): State<AppState>,
    a: Authed,
    body: Bytes,
) -> Result<axum::Json<ExportSettings>, AppError> {
    let actor = a.actor();
    let ctx = a.ctx(&actor, &state);
    // The policy first, then the body.
    if !may_org(&actor, Action::Approve) {
        return Err(AppError::Forbidden("approval_needs_supervisor"));
    }
    let input: ExportSettings = serde_json::from_slice(&body).map_err(|_| {
        AppError::field(
            "approval_required",
            "invalid_value",
            "send {\"approval_required\": true|false}",
        )
    })?;
    state
        .store
        .set_export_approval(&ctx, input.approval_required)
        .await?;
    Ok(axum::Json(input))
}

#[utoipa::path(get, path = "/export-requests", tag = "htcds",
    responses((status = 200, description = "The organisation's requests (supervisors) or the caller's own", body = ExportRequestList)))]
async fn list_export_requests(
    State(state): State<AppState>,
    a: Authed,
) -> Result<axum::Json<ExportRequestList>, AppError> {
    let actor = a.actor();
    let ctx = a.ctx(&actor, &state);
    let requests = state.store.export_requests(&ctx).await?;
    Ok(axum::Json(ExportRequestList {
        requests: requests.into_iter().map(request_view).collect(),
    }))
}

#[utoipa::path(post, path = "/export-requests", tag = "htcds",
    responses((status = 201, description = "A pending request; the organisation's supervisors are notified. Once approved, download with `GET /export/htcds?request=ID` (once, in a second-factor session)", body = ExportRequestView)))]
async fn create_export_request(
    State(state): State<AppState>,
    a: Authed,
) -> Result<Response, AppError> {
    let actor = a.actor();
    let ctx = a.ctx(&actor, &state);
    let r = state.store.request_export(&ctx).await?;
    Ok((StatusCode::CREATED, axum::Json(request_view(r))).into_response())
}

#[utoipa::path(post, path = "/export-requests/{id}/approve", tag = "htcds",
    params(("id" = String, Path, description = "Request id (UUID)")),
    responses((status = 204, description = "Approved (a supervisor of the organisation other than the requester; audited)")))]
async fn approve_export_request(
    State(state): State<AppState>,
    a: Authed,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> Result<Response, AppError> {
    let id = uuid::Uuid::parse_str(&id).map_err(|_| AppError::NotFound)?;
    let actor = a.actor();
    let ctx = a.ctx(&actor, &state);
    state.store.approve_export(&ctx, id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

fn may_org(actor: &Actor, action: Action) -> bool {
    decide(actor, action, Resource::Organisation(actor.org_id)).allowed
}

// ---------- screen ----------

fn chrome(state: &AppState, a: &Authed) -> Chrome {
    Chrome::for_user(state, a, "htcds")
}

#[derive(Template, WebTemplate)]
#[template(path = "error.html")]
struct ErrorPage {
    c: Chrome,
    title: String,
    message: String,
}

fn error_page(c: Chrome, err: AppError) -> Response {
    let status = err.status();
    let key = match &err {
        AppError::NotFound => "error-not-found",
        AppError::Forbidden(_) => "error-forbidden",
        AppError::Unauthorized => "error-unauthorized",
        AppError::Internal(detail) => {
            tracing::error!(error = %detail, "internal error");
            "error-internal"
        }
        _ => "error-internal",
    };
    let (title, message) = match key {
        "error-not-found" => (c.t.get("error-not-found"), c.t.get("error-not-found-text")),
        "error-forbidden" => (c.t.get("error-forbidden"), c.t.get("error-forbidden-text")),
        "error-unauthorized" => (
            c.t.get("error-unauthorized"),
            c.t.get("error-unauthorized-text"),
        ),
        _ => (c.t.get("error-internal"), c.t.get("error-internal-text")),
    };
    (status, ErrorPage { c, title, message }).into_response()
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
    let actor = a.actor();
    let can_export = may(&actor, Action::ExportCases);
    let can_import = may(&actor, Action::ImportCases);
    if !can_export && !can_import {
        return error_page(c, AppError::Forbidden("role_without_case_access"));
    }
    let is_supervisor = may_org(&actor, Action::Approve);
    let approval_required = match state.store.export_approval_required(actor.org_id).await {
        Ok(v) => v,
        Err(e) => return error_page(c, e.into()),
    };
    let ctx = a.ctx(&actor, state);
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
    let actor = a.actor();
    let ctx = a.ctx(&actor, &state);
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
    let actor = a.actor();
    let ctx = a.ctx(&actor, &state);
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
    let actor = a.actor();
    let ctx = a.ctx(&actor, &state);
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
    let actor = a.actor();
    let ctx = a.ctx(&actor, &state);
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
