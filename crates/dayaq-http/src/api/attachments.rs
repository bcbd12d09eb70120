//! Attachments of a case section (issue #21 §1): upload (multipart, streamed), list,
//! download (streamed, neutral name, audited), delete. Need-to-know: reading asks
//! `ReadSection(section)` per attachment, writing is the owner's case work.

use super::common::{ApiQuery, ErrorBody, OnPath, created};
use crate::AppState;
use crate::error::AppError;
use crate::upload::{attachment_response, attachment_upload};
use axum::Json;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{DefaultBodyLimit, Multipart, State};
use axum::http::StatusCode;
use axum::response::Response;
use dayaq_storage::attachments::AttachmentView;
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Routes under /api/v1. The upload route lifts axum's 2 MB extractor limit: the store
/// stops reading at the configured size (default 25 MiB) and the app-wide body limit is
/// that size plus the multipart framing.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, upload))
        .routes(routes!(download, delete))
        .layer(DefaultBodyLimit::disable())
}

#[derive(Debug, Deserialize)]
pub struct UploadQuery {
    /// The case section (identity, contact_details, victim_context, health, legal, plan,
    /// services, follow_up, notes).
    #[serde(default)]
    pub section: Option<String>,
}

/// The multipart body of an upload (documentation of the form; the part is streamed).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct UploadForm {
    /// The file (PDF, JPEG or PNG by content; at most the configured size). Its file name is
    /// kept sealed and shown on the case; it must not be a path or hold control characters.
    #[schema(value_type = String, format = Binary)]
    pub file: Vec<u8>,
}

#[utoipa::path(get, path = "/cases/{id}/attachments", tag = "attachments",
    params(("id" = String, Path, description = "Case id (UUID)")),
    responses((status = 200, description = "The attachments of the sections the caller may read (names opened; audited)", body = Vec<AttachmentView>)))]
async fn list(
    State(state): State<AppState>,
    r: OnPath,
) -> Result<Json<Vec<AttachmentView>>, AppError> {
    let ([id], ctx) = (r.ids, r.cx());
    Ok(Json(state.store.attachments(&ctx, id).await?))
}

#[utoipa::path(post, path = "/cases/{id}/attachments", tag = "attachments",
    params(("id" = String, Path, description = "Case id (UUID)"),
           ("section" = String, Query, description = "Case section: identity, contact_details, victim_context, health, legal, plan, services, follow_up, notes")),
    request_body(content = UploadForm, content_type = "multipart/form-data"),
    responses((status = 201, description = "Stored (encrypted)", body = AttachmentView),
              (status = 422, description = "Fields `section`, `name`, `file` (required, too_large, type_not_allowed, image_dimensions, interrupted, malware)", body = ErrorBody),
              (status = 503, description = "The attachment store (or the malware scanner) does not answer; nothing was kept", body = ErrorBody)))]
async fn upload(
    State(state): State<AppState>,
    r: OnPath,
    ApiQuery(q): ApiQuery<UploadQuery>,
    mp: Result<Multipart, MultipartRejection>,
) -> Result<Response, AppError> {
    let ([id], ctx) = (r.ids, r.cx());
    let v = attachment_upload(&state, &ctx, id, q.section, mp).await?;
    Ok(created(v))
}

#[utoipa::path(get, path = "/cases/{id}/attachments/{attachment}", tag = "attachments",
    params(("id" = String, Path, description = "Case id (UUID)"), ("attachment" = String, Path, description = "Attachment id (UUID)")),
    responses((status = 200, description = "The file, decrypted as it streams; `Content-Disposition: attachment` with a neutral name; audited", content_type = "application/octet-stream", body = Vec<u8>),
              (status = 503, description = "The object is missing or the store does not answer", body = ErrorBody)))]
async fn download(State(state): State<AppState>, r: OnPath<2>) -> Result<Response, AppError> {
    let ([id, att], ctx) = (r.ids, r.cx());
    let d = state.store.download_attachment(&ctx, id, att).await?;
    Ok(attachment_response(d))
}

#[utoipa::path(delete, path = "/cases/{id}/attachments/{attachment}", tag = "attachments",
    params(("id" = String, Path, description = "Case id (UUID)"), ("attachment" = String, Path, description = "Attachment id (UUID)")),
    responses((status = 204),
              (status = 503, description = "The store does not answer; the attachment is hidden and its removal finished by a retry or `dayaq attachments repair`", body = ErrorBody)))]
async fn delete(State(state): State<AppState>, r: OnPath<2>) -> Result<StatusCode, AppError> {
    let ([id, att], ctx) = (r.ids, r.cx());
    state.store.delete_attachment(&ctx, id, att).await?;
    Ok(StatusCode::NO_CONTENT)
}
