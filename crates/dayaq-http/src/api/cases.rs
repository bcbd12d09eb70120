//! Cases: the register (list, exact search), one case with its ETag version (read, replace,
//! erase) and its timeline. Keys and values are HTCDS field and value names.

use super::common::{ApiJson, ApiQuery, ErrorBody, OnPath, list_bodies, path_id};
use crate::AppState;
use crate::auth::Authed;
use crate::error::AppError;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::header::{ETAG, IF_MATCH};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use dayaq_domain::case::CaseInput;
use dayaq_domain::case::CaseView;
use dayaq_domain::progress::DisplayName;
use dayaq_storage::cases::{CaseEvent, SearchResult};
use dayaq_storage::cases::{CaseloadPage, CaseloadParams, SearchQuery};
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_cases, create_case))
        .routes(routes!(search_cases))
        .routes(routes!(get_case, update_case, erase_case))
        .routes(routes!(case_events))
        .routes(routes!(caseload))
        .routes(routes!(get_caseload_settings, put_caseload_settings))
}

fn etag(version: i64) -> HeaderValue {
    HeaderValue::from_str(&format!("\"{version}\"")).unwrap_or(HeaderValue::from_static("\"0\""))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct Page {
    /// Rows per page (1-500, default 50).
    limit: Option<i64>,
    /// Rows to skip.
    offset: Option<i64>,
}

#[utoipa::path(get, path = "/cases", tag = "cases", params(Page),
    responses((status = 200, description = "The organisation's cases, newest first, without identity", body = CaseList)))]
async fn list_cases(
    State(state): State<AppState>,
    a: Authed,
    ApiQuery(p): ApiQuery<Page>,
) -> Result<Json<CaseList>, AppError> {
    let ctx = a.cx();
    let cases = state
        .store
        .list_cases(&ctx, p.limit.unwrap_or(50), p.offset.unwrap_or(0))
        .await?;
    Ok(Json(CaseList { cases }))
}

#[utoipa::path(post, path = "/cases", tag = "cases",
    request_body(content = CaseInput, description = "HTCDS fields: prs_FirstName, prs_SecondName, prs_Birthdate (YYYY-MM-DD), prs_IdentityNumber, prs_MobilePhone, prs_HomePhone, prs_Email, prs_MailingStreet, prs_MailingCity, prs_MailingCountry, cco_CaseComment (encrypted); prs_Gender, prs_Citizenship[], vic_AgeWhenTrafficked, vic_TypeOfExploitation[], cas_Status, cas_ReasonForCaseClosure"),
    responses((status = 201, description = "Created; ETag carries the version", body = CaseView), (status = 422, description = "Invalid field", body = ErrorBody)))]
async fn create_case(
    State(state): State<AppState>,
    a: Authed,
    ApiJson(input): ApiJson<CaseInput>,
) -> Result<Response, AppError> {
    let valid = input
        .validate(state.now().date())
        .map_err(AppError::Invalid)?;
    let ctx = a.cx();
    let case = state.store.create_case(&ctx, &valid).await?;
    let mut headers = HeaderMap::new();
    headers.insert(ETAG, etag(case.version));
    Ok((StatusCode::CREATED, headers, Json(case)).into_response())
}

#[utoipa::path(post, path = "/cases/search", tag = "cases",
    request_body(content = SearchQuery, description = "Exact search: case_number, or prs_FirstName + prs_SecondName + prs_Birthdate, or prs_MobilePhone, or prs_IdentityNumber (through the keyed blind index; sent in the body so that no personal data is in a URL)"),
    responses((status = 200, description = "Visible matches, and names of organisations holding a possible match", body = SearchResult)))]
async fn search_cases(
    State(state): State<AppState>,
    a: Authed,
    ApiJson(q): ApiJson<SearchQuery>,
) -> Result<Json<SearchResult>, AppError> {
    let ctx = a.cx();
    let r = state.store.search_cases(&ctx, &q).await?;
    Ok(Json(r))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct Include {
    /// `identity` to include the decrypted identity section (audited).
    include: Option<String>,
}

#[utoipa::path(get, path = "/cases/{id}", tag = "cases",
    params(("id" = String, Path, description = "Case id (UUID)"), Include),
    responses((status = 200, description = "The case; ETag carries the version", body = CaseView)))]
async fn get_case(
    State(state): State<AppState>,
    a: Authed,
    Path(id): Path<String>,
    ApiQuery(inc): ApiQuery<Include>,
) -> Result<Response, AppError> {
    let id = path_id(&id)?;
    let reveal = match inc.include.as_deref() {
        None | Some("") => false,
        Some("identity") => true,
        Some(_) => {
            return Err(AppError::field(
                "include",
                "invalid_value",
                "include accepts only: identity",
            ));
        }
    };
    let ctx = a.cx();
    let case = state.store.get_case(&ctx, id, reveal).await?;
    let mut headers = HeaderMap::new();
    headers.insert(ETAG, etag(case.version));
    Ok((headers, Json(case)).into_response())
}

#[utoipa::path(put, path = "/cases/{id}", tag = "cases",
    params(("id" = String, Path, description = "Case id (UUID)"),
           ("If-Match" = String, Header, description = "The version being replaced, as returned in ETag, e.g. \"3\"")),
    request_body(content = CaseInput, description = "The whole case (same fields as create); missing fields are cleared, except cas_Status: when absent the status is kept, when present it changes under the rules of POST /cases/{id}/status (history kept; closing needs cas_ReasonForCaseClosure and a caseworker or supervisor; a closed case is reopened only through /status/reopen)"),
    responses((status = 200, description = "The case as saved; ETag carries the new version", body = CaseView),
              (status = 409, description = "The case changed since that version", body = ErrorBody)))]
async fn update_case(
    State(state): State<AppState>,
    a: Authed,
    Path(id): Path<String>,
    headers: HeaderMap,
    ApiJson(input): ApiJson<CaseInput>,
) -> Result<Response, AppError> {
    let id = path_id(&id)?;
    let version = headers
        .get(IF_MATCH)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().trim_start_matches("W/").trim_matches('"'))
        .and_then(|v| v.parse::<i64>().ok())
        .ok_or_else(|| {
            AppError::field(
                "If-Match",
                "required",
                "send the case version in If-Match (from ETag)",
            )
        })?;
    let status_given = input.status.is_some();
    let valid = input
        .validate(state.now().date())
        .map_err(AppError::Invalid)?;
    let ctx = a.cx();
    let case = state
        .store
        .update_case(&ctx, id, version, &valid, status_given)
        .await?;
    let mut h = HeaderMap::new();
    h.insert(ETAG, etag(case.version));
    Ok((h, Json(case)).into_response())
}

#[utoipa::path(delete, path = "/cases/{id}", tag = "cases",
    params(("id" = String, Path, description = "Case id (UUID)")),
    responses((status = 204, description = "Erased: the case key is destroyed")))]
async fn erase_case(State(state): State<AppState>, r: OnPath) -> Result<StatusCode, AppError> {
    let ([id], ctx) = (r.ids, r.cx());
    state.store.erase_case(&ctx, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/cases/{id}/events", tag = "cases",
    params(("id" = String, Path, description = "Case id (UUID)")),
    responses((status = 200, description = "Timeline", body = EventList)))]
async fn case_events(
    State(state): State<AppState>,
    r: OnPath,
) -> Result<Json<EventList>, AppError> {
    let ([id], ctx) = (r.ids, r.cx());
    Ok(Json(EventList {
        events: state.store.case_events(&ctx, id).await?,
    }))
}

#[utoipa::path(get, path = "/caseload", tag = "cases", params(CaseloadParams),
    responses((status = 200, description = "The caseload list: the organisation's own cases and those it received by an accepted referral (marked referred_to_us), each with stage, next-step prompts and their due date, assigned worker (own cases), last contact and the display name the organisation's policy chooses; every row limited to the sections the caller may read. Filters and sort are plain values; `next` is the cursor of the following page", body = CaseloadPage),
              (status = 422, description = "A named parameter is not allowed (stage, mine, needs_action, status, sort, after, limit)", body = ErrorBody)))]
async fn caseload(
    State(state): State<AppState>,
    a: Authed,
    ApiQuery(p): ApiQuery<CaseloadParams>,
) -> Result<Json<CaseloadPage>, AppError> {
    let q = p.query().map_err(AppError::Invalid)?;
    let ctx = a.cx();
    Ok(Json(state.store.caseload(&ctx, &q).await?))
}

/// The organisation's caseload-list setting.
#[derive(Debug, Deserialize, serde::Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CaseloadSettings {
    /// What the list shows as a case's name: None (default), Initials (from the identity,
    /// for readers who may read it; audited) or Pseudonym (derived from the case id).
    pub display_name: DisplayName,
}

#[utoipa::path(get, path = "/caseload/settings", tag = "cases",
    responses((status = 200, description = "The caller's organisation's caseload-list setting", body = CaseloadSettings)))]
async fn get_caseload_settings(
    State(state): State<AppState>,
    a: Authed,
) -> Result<Json<CaseloadSettings>, AppError> {
    let display_name = state.store.caseload_display_name(a.actor.org_id).await?;
    Ok(Json(CaseloadSettings { display_name }))
}

#[utoipa::path(put, path = "/caseload/settings", tag = "cases",
    request_body(content = CaseloadSettings, description = "{display_name: None|Initials|Pseudonym}; org admin or supervisor of the organisation"),
    responses((status = 200, body = CaseloadSettings),
              (status = 422, description = "Field display_name, code invalid_value", body = ErrorBody)))]
async fn put_caseload_settings(
    State(state): State<AppState>,
    a: Authed,
    ApiJson(input): ApiJson<CaseloadSettings>,
) -> Result<Json<CaseloadSettings>, AppError> {
    let ctx = a.cx();
    let display_name = state
        .store
        .set_caseload_display_name(&ctx, input.display_name)
        .await?;
    Ok(Json(CaseloadSettings { display_name }))
}

list_bodies! {
    CaseList { cases: CaseView }
    EventList { events: CaseEvent }
}
