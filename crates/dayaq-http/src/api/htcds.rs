//! HTCDS over the API: import of a CSV/XLSX file, the export (rules in `crate::htcds_export`),
//! and the organisation's setting and requests for exports with identities.
//! Error messages never repeat a cell's value.

use super::common::{ApiQuery, ErrorBody, OnPath, created, list_bodies};
use crate::AppState;
use crate::auth::Authed;
use crate::error::AppError;
use crate::htcds_export::{
    ExportQuery, export_format, export_identity, export_request_id, export_response, may,
};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{FromRequest, Request, State};
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use dayaq_domain::policy::Action;
use dayaq_storage::htcds::{Format, ImportErrors, ImportFailure, ImportReport};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(import_htcds))
        .routes(routes!(export_htcds))
        .routes(routes!(get_export_settings, put_export_settings))
        .routes(routes!(list_export_requests, create_export_request))
        .routes(routes!(approve_export_request))
}

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
    (StatusCode::UNPROCESSABLE_ENTITY, Json(body)).into_response()
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

#[utoipa::path(post, path = "/import/htcds", tag = "htcds",
    request_body(description = "An HTCDS file: a header row of HTCDS field names, one case per \
        row, HTCDS value names, multi-select values joined with `;` (see docs/HTCDS.md). The \
        HTCDS Excel template is accepted. At most 8 MiB.",
        content(("text/csv"), ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
    responses(
        (status = 200, description = "Every row was imported: `{\"imported\": n, \"ignored_columns\": [{\"column\", \"code\", \"message\"}]}`", body = ImportReport),
        (status = 422, description = "Nothing was imported. `error.errors` lists every problem as `{\"row\", \"column\", \"code\", \"message\"}`; `row` is the spreadsheet row (the header is row 1), messages never contain cell values", body = ErrorBody)))]
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
    let ctx = a.cx();
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
        Ok(report) => Ok(Json(report).into_response()),
        Err(ImportFailure::Invalid(e)) => Ok(import_errors_response(&e)),
        Err(ImportFailure::Store(e)) => Err(e.into()),
    }
}

#[utoipa::path(get, path = "/export/htcds", tag = "htcds", params(ExportQuery),
    responses(
        (status = 200, description = "Every case the caller may see, identity included unless `identity=none`, as a download (Content-Disposition; the file name carries only the date). Columns are HTCDS field names (docs/HTCDS.md). Audited with the case ids.",
            content(("text/csv"), ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")))))]
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

list_bodies! {
    ExportRequestList { requests: ExportRequestView }
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
) -> Result<Json<ExportSettings>, AppError> {
    Ok(Json(ExportSettings {
        approval_required: state.store.export_approval_required(a.user.org_id).await?,
    }))
}

#[utoipa::path(put, path = "/export-settings", tag = "htcds", request_body = ExportSettings,
    responses((status = 200, description = "Saved (supervisors of the organisation; audited)", body = ExportSettings)))]
async fn put_export_settings(
    State(state): State<AppState>,
    a: Authed,
    body: Bytes,
) -> Result<Json<ExportSettings>, AppError> {
    let ctx = a.cx();
    // The policy first, then the body.
    if !may(&a.actor, Action::Approve) {
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
    Ok(Json(input))
}

#[utoipa::path(get, path = "/export-requests", tag = "htcds",
    responses((status = 200, description = "The organisation's requests (supervisors) or the caller's own", body = ExportRequestList)))]
async fn list_export_requests(
    State(state): State<AppState>,
    a: Authed,
) -> Result<Json<ExportRequestList>, AppError> {
    let ctx = a.cx();
    let requests = state.store.export_requests(&ctx).await?;
    Ok(Json(ExportRequestList {
        requests: requests.into_iter().map(request_view).collect(),
    }))
}

#[utoipa::path(post, path = "/export-requests", tag = "htcds",
    responses((status = 201, description = "A pending request; the organisation's supervisors are notified. Once approved, download with `GET /export/htcds?request=ID` (once, in a second-factor session)", body = ExportRequestView)))]
async fn create_export_request(
    State(state): State<AppState>,
    a: Authed,
) -> Result<Response, AppError> {
    let ctx = a.cx();
    let r = state.store.request_export(&ctx).await?;
    Ok(created(request_view(r)))
}

#[utoipa::path(post, path = "/export-requests/{id}/approve", tag = "htcds",
    params(("id" = String, Path, description = "Request id (UUID)")),
    responses((status = 204, description = "Approved (a supervisor of the organisation other than the requester; audited)")))]
async fn approve_export_request(
    State(state): State<AppState>,
    r: OnPath,
) -> Result<Response, AppError> {
    let ([id], ctx) = (r.ids, r.cx());
    state.store.approve_export(&ctx, id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
