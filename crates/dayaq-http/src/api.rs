//! JSON API under `/api/v1`. Every route is registered through `utoipa_axum::routes!`, so the
//! OpenAPI document (`/api/v1/openapi.json`) lists every route by construction.
//! Keys and values are HTCDS field and value names.

use crate::AppState;
use crate::auth::Authed;
use crate::error::{AppError, json_body_error};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Request, State};
use axum::http::header::{CONTENT_TYPE, ETAG, IF_MATCH};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use dayaq_domain::case::CaseInput;
use dayaq_storage::cases::SearchQuery;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use std::sync::OnceLock;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

pub mod statistics;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Dayaq API",
        description = "National Referral Mechanism for survivors of human trafficking. \
            Field and value names follow the Human Trafficking Case Data Standard (HTCDS). \
            Authenticate with a session cookie (browser; send X-CSRF-Token on writes) or \
            `Authorization: Bearer <token>` (`dayaq token create`). Errors: \
            `{\"error\": {\"code\", \"message\", \"field\"?, \"errors\"?}}`."
    ),
    servers((url = "/api/v1")),
    components(schemas()),
    modifiers(&BearerScheme)
)]
struct ApiDoc;

struct BearerScheme;
impl utoipa::Modify for BearerScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        openapi.security = Some(vec![utoipa::openapi::security::SecurityRequirement::new(
            "bearer",
            Vec::<String>::new(),
        )]);
    }
}

static OPENAPI_JSON: OnceLock<String> = OnceLock::new();

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(openapi_json))
        .routes(routes!(me))
        .routes(routes!(list_cases, create_case))
        .routes(routes!(search_cases))
        .routes(routes!(get_case, update_case, erase_case))
        .routes(routes!(case_events))
        .routes(routes!(list_sessions))
        .routes(routes!(revoke_session))
        .routes(routes!(list_organisations))
        .merge(crate::htcds_api::api_router())
        .merge(crate::api_identification::router())
        .merge(crate::api_referrals::router())
        .merge(crate::api_packages::router())
        .merge(crate::api_assistance::router())
        .merge(crate::api_followup::router())
        .merge(crate::api_record::router())
        .merge(statistics::router())
}

/// Builds the OpenAPI document once (called when the app is assembled).
pub fn openapi_document() -> &'static str {
    OPENAPI_JSON.get_or_init(|| {
        let (_, mut doc) = router().split_for_parts();
        document_common_errors(&mut doc);
        doc.to_pretty_json().unwrap_or_else(|_| "{}".into())
    })
}

/// Documents the error answers every operation can give, so that the document matches what the
/// server does (checked by schemathesis): 401 without a valid session or token and 403 when
/// the access policy refuses (every operation except the document itself), 404 for an unknown
/// or invisible record (operations with a path parameter), 422 for a malformed query, path or
/// body (operations that take any), 429 over the per-address rate limit. All carry the one
/// error shape.
fn document_common_errors(doc: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::{ResponseBuilder, content::ContentBuilder, schema::Object};
    let error = |description: &str| {
        ResponseBuilder::new()
            .description(description)
            .content(
                "application/json",
                ContentBuilder::new().schema(Some(Object::new())).build(),
            )
            .build()
    };
    for (path, item) in doc.paths.paths.iter_mut() {
        if path == "/openapi.json" {
            continue;
        }
        let has_path_param = path.contains('{');
        for op in [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ]
        .into_iter()
        .flatten()
        {
            let takes_input = has_path_param
                || op.request_body.is_some()
                || op.parameters.as_ref().is_some_and(|p| !p.is_empty());
            let mut add = |code: &str, description: &str| {
                op.responses
                    .responses
                    .entry(code.to_string())
                    .or_insert_with(|| error(description).into());
            };
            add("401", "Not signed in (no valid session or token)");
            add("403", "Refused by the access policy");
            add(
                "429",
                "Over the request budget of this client address; see Retry-After",
            );
            if has_path_param {
                add("404", "No such record, or not visible to you");
            }
            if takes_input {
                add("422", "Invalid input; the error names the field");
            }
        }
    }
}

/// A JSON body whose errors name the offending field (and never echo its value).
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json"));
        if !is_json {
            return Err(AppError::field(
                "Content-Type",
                "unsupported_media_type",
                "send the body as application/json",
            ));
        }
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|_| AppError::field("body", "unreadable", "the body could not be read"))?;
        let de = &mut serde_json::Deserializer::from_slice(&bytes);
        serde_path_to_error::deserialize(de)
            .map(ApiJson)
            .map_err(json_body_error)
    }
}

/// Query parameters with JSON errors.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let q = parts.uri.query().unwrap_or("");
        serde_urlencoded::from_str(q).map(ApiQuery).map_err(|_| {
            AppError::field(
                "query",
                "invalid_query",
                "a query parameter has the wrong type",
            )
        })
    }
}

pub(crate) fn case_id(raw: &str) -> Result<Uuid, AppError> {
    Uuid::parse_str(raw).map_err(|_| AppError::NotFound)
}

fn etag(version: i64) -> HeaderValue {
    HeaderValue::from_str(&format!("\"{version}\"")).unwrap_or(HeaderValue::from_static("\"0\""))
}

#[utoipa::path(get, path = "/openapi.json", tag = "meta", security(()),
    responses((status = 200, description = "This OpenAPI 3 document", body = Value)))]
async fn openapi_json() -> Response {
    ([(CONTENT_TYPE, "application/json")], openapi_document()).into_response()
}

#[utoipa::path(get, path = "/me", tag = "auth",
    responses((status = 200, description = "The signed-in user; `csrf` is the token to send as X-CSRF-Token with cookie sessions", body = Value),
              (status = 401, description = "Not signed in", body = Value)))]
async fn me(State(state): State<AppState>, a: Authed) -> Result<Json<Value>, AppError> {
    let org = state.store.org_by_id(a.user.org_id).await?;
    Ok(Json(json!({
        "id": a.user.id,
        "username": a.user.username,
        "role": a.user.role,
        "organisation": org,
        "locale": a.user.locale,
        "totp_enabled": a.user.totp_enabled,
        "csrf": a.session.as_ref().map(|s| s.csrf.clone()),
    })))
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
    responses((status = 200, description = "The organisation's cases, newest first, without identity", body = Value),
              (status = 401, body = Value), (status = 403, body = Value)))]
async fn list_cases(
    State(state): State<AppState>,
    a: Authed,
    ApiQuery(p): ApiQuery<Page>,
) -> Result<Json<Value>, AppError> {
    let actor = a.actor();
    let ctx = a.ctx(&actor, &state);
    let cases = state
        .store
        .list_cases(&ctx, p.limit.unwrap_or(50), p.offset.unwrap_or(0))
        .await?;
    Ok(Json(json!({ "cases": cases })))
}

#[utoipa::path(post, path = "/cases", tag = "cases",
    request_body(content = Value, description = "HTCDS fields: prs_FirstName, prs_SecondName, prs_Birthdate (YYYY-MM-DD), prs_IdentityNumber, prs_MobilePhone, prs_HomePhone, prs_Email, prs_MailingStreet, prs_MailingCity, prs_MailingCountry, cco_CaseComment (encrypted); prs_Gender, prs_Citizenship[], vic_AgeWhenTrafficked, vic_TypeOfExploitation[], cas_Status, cas_ReasonForCaseClosure"),
    responses((status = 201, description = "Created; ETag carries the version", body = Value),
              (status = 401, body = Value), (status = 403, body = Value), (status = 422, description = "Invalid field", body = Value)))]
async fn create_case(
    State(state): State<AppState>,
    a: Authed,
    ApiJson(input): ApiJson<CaseInput>,
) -> Result<Response, AppError> {
    let valid = input
        .validate(state.now().date())
        .map_err(AppError::Invalid)?;
    let actor = a.actor();
    let ctx = a.ctx(&actor, &state);
    let case = state.store.create_case(&ctx, &valid).await?;
    let mut headers = HeaderMap::new();
    headers.insert(ETAG, etag(case.version));
    Ok((StatusCode::CREATED, headers, Json(case)).into_response())
}

#[utoipa::path(post, path = "/cases/search", tag = "cases",
    request_body(content = Value, description = "Exact search: case_number, or prs_FirstName + prs_SecondName + prs_Birthdate, or prs_MobilePhone, or prs_IdentityNumber (through the keyed blind index; sent in the body so that no personal data is in a URL)"),
    responses((status = 200, description = "Visible matches, and names of organisations holding a possible match", body = Value),
              (status = 401, body = Value), (status = 422, body = Value)))]
async fn search_cases(
    State(state): State<AppState>,
    a: Authed,
    ApiJson(q): ApiJson<SearchQuery>,
) -> Result<Json<Value>, AppError> {
    let actor = a.actor();
    let ctx = a.ctx(&actor, &state);
    let r = state.store.search_cases(&ctx, &q).await?;
    Ok(Json(json!(r)))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct Include {
    /// `identity` to include the decrypted identity section (audited).
    include: Option<String>,
}

#[utoipa::path(get, path = "/cases/{id}", tag = "cases",
    params(("id" = String, Path, description = "Case id (UUID)"), Include),
    responses((status = 200, description = "The case; ETag carries the version", body = Value),
              (status = 401, body = Value), (status = 403, body = Value), (status = 404, body = Value)))]
async fn get_case(
    State(state): State<AppState>,
    a: Authed,
    Path(id): Path<String>,
    ApiQuery(inc): ApiQuery<Include>,
) -> Result<Response, AppError> {
    let id = case_id(&id)?;
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
    let actor = a.actor();
    let ctx = a.ctx(&actor, &state);
    let case = state.store.get_case(&ctx, id, reveal).await?;
    let mut headers = HeaderMap::new();
    headers.insert(ETAG, etag(case.version));
    Ok((headers, Json(case)).into_response())
}

#[utoipa::path(put, path = "/cases/{id}", tag = "cases",
    params(("id" = String, Path, description = "Case id (UUID)"),
           ("If-Match" = String, Header, description = "The version being replaced, as returned in ETag, e.g. \"3\"")),
    request_body(content = Value, description = "The whole case (same fields as create); missing fields are cleared, except cas_Status: when absent the status is kept, when present it changes under the rules of POST /cases/{id}/status (history kept; closing needs cas_ReasonForCaseClosure and a caseworker or supervisor; a closed case is reopened only through /status/reopen)"),
    responses((status = 200, body = Value), (status = 401, body = Value), (status = 404, body = Value),
              (status = 409, description = "The case changed since that version", body = Value), (status = 422, body = Value)))]
async fn update_case(
    State(state): State<AppState>,
    a: Authed,
    Path(id): Path<String>,
    headers: HeaderMap,
    ApiJson(input): ApiJson<CaseInput>,
) -> Result<Response, AppError> {
    let id = case_id(&id)?;
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
    let actor = a.actor();
    let ctx = a.ctx(&actor, &state);
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
    responses((status = 204, description = "Erased: the case key is destroyed"), (status = 401, body = Value),
              (status = 403, body = Value), (status = 404, body = Value)))]
async fn erase_case(
    State(state): State<AppState>,
    a: Authed,
    Path(id): Path<String>,
) -> Result<StatusCode, AppError> {
    let id = case_id(&id)?;
    let actor = a.actor();
    let ctx = a.ctx(&actor, &state);
    state.store.erase_case(&ctx, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/cases/{id}/events", tag = "cases",
    params(("id" = String, Path, description = "Case id (UUID)")),
    responses((status = 200, description = "Timeline", body = Value), (status = 401, body = Value), (status = 404, body = Value)))]
async fn case_events(
    State(state): State<AppState>,
    a: Authed,
    Path(id): Path<String>,
) -> Result<Json<Value>, AppError> {
    let id = case_id(&id)?;
    let actor = a.actor();
    let ctx = a.ctx(&actor, &state);
    Ok(Json(
        json!({ "events": state.store.case_events(&ctx, id).await? }),
    ))
}

#[utoipa::path(get, path = "/sessions", tag = "auth",
    responses((status = 200, description = "The user's live sessions", body = Value), (status = 401, body = Value)))]
async fn list_sessions(State(state): State<AppState>, a: Authed) -> Result<Json<Value>, AppError> {
    let s = state
        .store
        .list_sessions(&a.user, state.cfg.session, state.now())
        .await?;
    Ok(Json(
        json!({ "sessions": s, "current": a.session.map(|s| s.public_id) }),
    ))
}

#[utoipa::path(delete, path = "/sessions/{public_id}", tag = "auth",
    params(("public_id" = String, Path, description = "Session public id")),
    responses((status = 204, description = "Revoked"), (status = 401, body = Value), (status = 404, body = Value)))]
async fn revoke_session(
    State(state): State<AppState>,
    a: Authed,
    Path(pid): Path<String>,
) -> Result<StatusCode, AppError> {
    if state
        .store
        .revoke_session(&a.user, &pid, &a.source, state.now())
        .await?
    {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(AppError::NotFound)
    }
}

#[utoipa::path(get, path = "/organisations", tag = "directory",
    responses((status = 200, description = "The organisations on this platform (public directory data)", body = Value), (status = 401, body = Value)))]
async fn list_organisations(
    State(state): State<AppState>,
    _a: Authed,
) -> Result<Json<Value>, AppError> {
    Ok(Json(
        json!({ "organisations": state.store.list_orgs().await? }),
    ))
}
