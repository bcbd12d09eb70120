//! Data-subject requests API (issue #17 part 2): her record on request (access), correction,
//! restriction and erasure. Recording and reading: case managers of the owning organisation
//! (`RecordSubjectRequest`); deciding, her copy and executing an erasure: its supervisors
//! (`DecideSubjectRequest`). Every route checks the case first, then the body (the request is
//! named in the body, so an unknown one is a field-named 422 for those allowed, and 403/404
//! for everyone else). A supervisor lifts an accepted restriction (`lift-restriction`). `DELETE /cases/{id}` still erases directly (supervisor).

use super::common::{Body, Typed, created};
use crate::AppState;
use crate::error::AppError;
use crate::subject_access::{download_name, make_copy};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use dayaq_domain::subject_request::{DecisionInput, RequestInput, RequestRef};
use dayaq_storage::subject_requests::{SubjectRequestView, SubjectRequests};
use serde::Serialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Routes under /api/v1 (register each with `routes!` so OpenAPI lists it).
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_requests, record_request))
        .routes(routes!(decide_request))
        .routes(routes!(access_export))
        .routes(routes!(access_download))
        .routes(routes!(execute_erasure))
        .routes(routes!(lift_restriction))
}

/// Her copy was made: the passphrase to give her in person (shown once, never stored).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AccessCopy {
    pub request: uuid::Uuid,
    /// Read it out or write it down for her; Dayaq keeps no copy.
    pub passphrase: String,
    /// POST here with `{"request": …}` to download the encrypted file, once.
    pub download: String,
}

#[utoipa::path(get, path = "/cases/{id}/subject-requests", tag = "subject-requests",
    params(("id" = String, Path, description = "Case id (UUID)")),
    responses((status = 200, description = "The case's data-subject requests, newest first, and whether processing is restricted (a refusal reason in words is decrypted; audited)", body = SubjectRequests)))]
async fn list_requests(
    State(state): State<AppState>,
    r: super::common::OnPath,
) -> Result<Json<SubjectRequests>, AppError> {
    let ([id], ctx) = (r.ids, r.cx());
    Ok(Json(state.store.subject_requests(&ctx, id).await?))
}

#[utoipa::path(post, path = "/cases/{id}/subject-requests", tag = "subject-requests",
    params(("id" = String, Path, description = "Case id (UUID)")),
    request_body(content = RequestInput, description = "{kind: access|correction|restriction|erasure, channel: in_person|via_caseworker, requested_on (YYYY-MM-DD, default today), language: az|ru|en (access only, required there)}"),
    responses((status = 201, description = "The request as recorded (state requested); audited", body = SubjectRequestView)))]
async fn record_request(
    State(state): State<AppState>,
    r: Body<RequestInput, Typed>,
) -> Result<Response, AppError> {
    let ([id], ctx, input) = (r.ids, r.auth.cx(), r.body);
    let v = state.store.record_subject_request(&ctx, id, &input).await?;
    Ok(created(v))
}

#[utoipa::path(post, path = "/cases/{id}/subject-requests/decision", tag = "subject-requests",
    params(("id" = String, Path, description = "Case id (UUID)")),
    request_body(content = DecisionInput, description = "{request, decision: accept (correction, restriction) | approve (erasure; not by the supervisor who recorded it) | refuse, refusal_reason: ongoing_prosecution|legal_hold|statutory_retention|other, refusal_text (with other), changed_fields: [HTCDS field names] (correction accepted)}"),
    responses((status = 200, description = "The request after the decision; audited", body = SubjectRequestView)))]
async fn decide_request(
    State(state): State<AppState>,
    r: Body<DecisionInput, Typed>,
) -> Result<Json<SubjectRequestView>, AppError> {
    let ([id], ctx, input) = (r.ids, r.auth.cx(), r.body);
    Ok(Json(
        state.store.decide_subject_request(&ctx, id, &input).await?,
    ))
}

#[utoipa::path(post, path = "/cases/{id}/subject-requests/access-export", tag = "subject-requests",
    params(("id" = String, Path, description = "Case id (UUID)")),
    request_body(content = RequestRef, description = "{request}: an access request of the case"),
    responses((status = 201, description = "Her copy (readable HTML in the request's language + HTCDS JSON + the organisations that received her data, in a ZIP) is encrypted with age to a new passphrase, returned here once; the request is completed; audited", body = AccessCopy)))]
async fn access_export(
    State(state): State<AppState>,
    r: Body<RequestRef, Typed>,
) -> Result<Response, AppError> {
    let ([id], ctx, input) = (r.ids, r.auth.cx(), r.body);
    let pass = make_copy(&state, &ctx, id, &input).await?;
    let request = dayaq_domain::subject_request::request_id(input.request.as_deref())
        .map_err(AppError::Invalid)?;
    let mut resp = created(AccessCopy {
        request,
        passphrase: pass.as_str().to_owned(),
        download: format!("/api/v1/cases/{id}/subject-requests/access-download"),
    });
    resp.headers_mut().insert(
        CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    Ok(resp)
}

#[utoipa::path(post, path = "/cases/{id}/subject-requests/access-download", tag = "subject-requests",
    params(("id" = String, Path, description = "Case id (UUID)")),
    request_body(content = RequestRef, description = "{request}: the access request whose copy is waiting"),
    responses((status = 200, description = "The encrypted copy (an age file; `age -d` with the passphrase gives the ZIP), once: it is deleted as it is handed out; audited",
               content_type = "application/octet-stream")))]
async fn access_download(
    State(state): State<AppState>,
    r: Body<RequestRef, Typed>,
) -> Result<Response, AppError> {
    let ([id], ctx, input) = (r.ids, r.auth.cx(), r.body);
    let bytes = state.store.take_subject_access(&ctx, id, &input).await?;
    Ok((
        [
            (CONTENT_TYPE, "application/octet-stream".to_string()),
            (
                CONTENT_DISPOSITION,
                format!("attachment; filename=\"{}\"", download_name(&state)),
            ),
            (CACHE_CONTROL, "no-store".to_string()),
        ],
        bytes,
    )
        .into_response())
}

#[utoipa::path(post, path = "/cases/{id}/subject-requests/erasure", tag = "subject-requests",
    params(("id" = String, Path, description = "Case id (UUID)")),
    request_body(content = RequestRef, description = "{request}: an approved erasure request of the case"),
    responses((status = 204, description = "The case is crypto-shredded (as DELETE /cases/{id}) and the request completed; audited")))]
async fn execute_erasure(
    State(state): State<AppState>,
    r: Body<RequestRef, Typed>,
) -> Result<StatusCode, AppError> {
    let ([id], ctx, input) = (r.ids, r.auth.cx(), r.body);
    state
        .store
        .execute_subject_erasure(&ctx, id, &input)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/cases/{id}/subject-requests/lift-restriction", tag = "subject-requests",
    params(("id" = String, Path, description = "Case id (UUID)")),
    request_body(content = RequestRef, description = "{request}: an accepted restriction request of the case (state completed)"),
    responses((status = 200, description = "The request, now lifted (processing of her data is no longer restricted unless another accepted restriction stands); audited", body = SubjectRequestView)))]
async fn lift_restriction(
    State(state): State<AppState>,
    r: Body<RequestRef, Typed>,
) -> Result<Json<SubjectRequestView>, AppError> {
    let ([id], ctx, input) = (r.ids, r.auth.cx(), r.body);
    Ok(Json(
        state
            .store
            .lift_subject_restriction(&ctx, id, &input)
            .await?,
    ))
}
