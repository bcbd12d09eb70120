//! Case record API: trafficking events (`hte_*`), perpetrator roles (`per_*`), dependants,
//! status changes with closure reason, explicit reopening and the status history, and
//! episodes (re-trafficking: a new case linked to the person's previous case).
//! Keys are HTCDS field names where HTCDS defines them. Trafficking events live under
//! `/cases/{id}/trafficking-events`: `/cases/{id}/events` is already the case timeline.

use super::common::{ApiJson, ErrorBody, case_body, path_id};
use crate::AppState;
use crate::auth::Authed;
use crate::error::AppError;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use dayaq_domain::policy::Action;
use dayaq_domain::record::{DependantInput, EventInput, PerpetratorInput};
use dayaq_domain::record::{DependantView, EventView, PerpetratorView};
use dayaq_storage::record::{DependantsView, Episodes, StatusEntry, StatusView};
use dayaq_storage::record::{EpisodeInput, ReopenInput, StatusInput};
use serde::Serialize;
use serde_json::Value;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Routes under /api/v1 (register each with `routes!` so OpenAPI lists it).
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_events, add_event))
        .routes(routes!(delete_event))
        .routes(routes!(list_perpetrators, add_perpetrator))
        .routes(routes!(delete_perpetrator))
        .routes(routes!(list_dependants, add_dependant))
        .routes(routes!(delete_dependant))
        .routes(routes!(get_status, change_status))
        .routes(routes!(status_history))
        .routes(routes!(reopen))
        .routes(routes!(get_episodes, open_episode))
}

#[utoipa::path(get, path = "/cases/{id}/trafficking-events", tag = "record",
    params(("id" = String, Path, description = "Case id (UUID)")),
    responses((status = 200, description = "Trafficking events (HTCDS hte_*) in chronological order; street, postal code, coordinates and description decrypted (audited)", body = Vec<EventView>),
              (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn list_events(
    State(state): State<AppState>,
    a: Authed,
    Path(id): Path<String>,
) -> Result<Json<Vec<EventView>>, AppError> {
    let id = path_id(&id)?;
    let ctx = a.cx();
    Ok(Json(state.store.trafficking_events(&ctx, id).await?))
}

#[utoipa::path(post, path = "/cases/{id}/trafficking-events", tag = "record",
    params(("id" = String, Path, description = "Case id (UUID)")),
    request_body(content = EventInput, description = "{hte_Type: Recruitment|Transit|Exploitation, hte_Country (ISO 3166 alpha-2), hte_City, hte_State, hte_Street, hte_PostalCode, hte_Date (YYYY-MM-DD), hte_Description, hte_Latitude, hte_Longitude}"),
    responses((status = 201, body = EventView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn add_event(
    State(state): State<AppState>,
    a: Authed,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Value>,
) -> Result<Response, AppError> {
    let id = path_id(&id)?;
    let ctx = a.cx();
    let input: EventInput = case_body(&state, &ctx, Action::UpdateCase, id, body).await?;
    let r = state.store.add_trafficking_event(&ctx, id, input).await?;
    Ok((StatusCode::CREATED, Json(r)).into_response())
}

#[utoipa::path(delete, path = "/cases/{id}/trafficking-events/{event}", tag = "record",
    params(("id" = String, Path, description = "Case id (UUID)"), ("event" = String, Path, description = "Event id (UUID)")),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn delete_event(
    State(state): State<AppState>,
    a: Authed,
    Path((id, event)): Path<(String, String)>,
) -> Result<StatusCode, AppError> {
    let (id, event) = (path_id(&id)?, path_id(&event)?);
    let ctx = a.cx();
    state
        .store
        .delete_trafficking_event(&ctx, id, event)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/cases/{id}/perpetrators", tag = "record",
    params(("id" = String, Path, description = "Case id (UUID)")),
    responses((status = 200, description = "Perpetrator roles (per_RoleInProcess, per_RoleDetails decrypted, audited); no perpetrator identity", body = Vec<PerpetratorView>),
              (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn list_perpetrators(
    State(state): State<AppState>,
    a: Authed,
    Path(id): Path<String>,
) -> Result<Json<Vec<PerpetratorView>>, AppError> {
    let id = path_id(&id)?;
    let ctx = a.cx();
    Ok(Json(state.store.perpetrators(&ctx, id).await?))
}

#[utoipa::path(post, path = "/cases/{id}/perpetrators", tag = "record",
    params(("id" = String, Path, description = "Case id (UUID)")),
    request_body(content = PerpetratorInput, description = "{per_RoleInProcess: [HTCDS values], per_RoleDetails (required with Other)}"),
    responses((status = 201, body = PerpetratorView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn add_perpetrator(
    State(state): State<AppState>,
    a: Authed,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Value>,
) -> Result<Response, AppError> {
    let id = path_id(&id)?;
    let ctx = a.cx();
    let input: PerpetratorInput = case_body(&state, &ctx, Action::UpdateCase, id, body).await?;
    let r = state.store.add_perpetrator(&ctx, id, input).await?;
    Ok((StatusCode::CREATED, Json(r)).into_response())
}

#[utoipa::path(delete, path = "/cases/{id}/perpetrators/{perpetrator}", tag = "record",
    params(("id" = String, Path, description = "Case id (UUID)"), ("perpetrator" = String, Path, description = "Perpetrator-role entry id (UUID)")),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn delete_perpetrator(
    State(state): State<AppState>,
    a: Authed,
    Path((id, p)): Path<(String, String)>,
) -> Result<StatusCode, AppError> {
    let (id, p) = (path_id(&id)?, path_id(&p)?);
    let ctx = a.cx();
    state.store.delete_perpetrator(&ctx, id, p).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/cases/{id}/dependants", tag = "record",
    params(("id" = String, Path, description = "Case id (UUID)")),
    responses((status = 200, description = "{children: {prs_NumberOfChildren, recorded, consistent, complete}, dependants: [...]} (whereabouts decrypted, audited)", body = DependantsView),
              (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn list_dependants(
    State(state): State<AppState>,
    a: Authed,
    Path(id): Path<String>,
) -> Result<Json<DependantsView>, AppError> {
    let id = path_id(&id)?;
    let ctx = a.cx();
    Ok(Json(state.store.dependants(&ctx, id).await?))
}

#[utoipa::path(post, path = "/cases/{id}/dependants", tag = "record",
    params(("id" = String, Path, description = "Case id (UUID)")),
    request_body(content = DependantInput, description = "{relation: Child|Stepchild|Grandchild|Sibling|OtherDependant, prs_Gender, birth_year | age, with_victim, whereabouts (only when not with her), needs_schooling, needs_childcare}; a child beyond prs_NumberOfChildren is refused"),
    responses((status = 201, body = DependantView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn add_dependant(
    State(state): State<AppState>,
    a: Authed,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Value>,
) -> Result<Response, AppError> {
    let id = path_id(&id)?;
    let ctx = a.cx();
    let input: DependantInput = case_body(&state, &ctx, Action::UpdateCase, id, body).await?;
    let r = state.store.add_dependant(&ctx, id, input).await?;
    Ok((StatusCode::CREATED, Json(r)).into_response())
}

#[utoipa::path(delete, path = "/cases/{id}/dependants/{dependant}", tag = "record",
    params(("id" = String, Path, description = "Case id (UUID)"), ("dependant" = String, Path, description = "Dependant id (UUID)")),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn delete_dependant(
    State(state): State<AppState>,
    a: Authed,
    Path((id, d)): Path<(String, String)>,
) -> Result<StatusCode, AppError> {
    let (id, d) = (path_id(&id)?, path_id(&d)?);
    let ctx = a.cx();
    state.store.delete_dependant(&ctx, id, d).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/cases/{id}/status", tag = "record",
    params(("id" = String, Path, description = "Case id (UUID)")),
    responses((status = 200, description = "{cas_Status, history: [{seq, at, kind: change|close|reopen|new_episode, from, cas_Status, reason (notes readers only), actor}]}", body = StatusView),
              (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn get_status(
    State(state): State<AppState>,
    a: Authed,
    Path(id): Path<String>,
) -> Result<Json<StatusView>, AppError> {
    let id = path_id(&id)?;
    let ctx = a.cx();
    Ok(Json(state.store.status_view(&ctx, id).await?))
}

#[utoipa::path(post, path = "/cases/{id}/status", tag = "record",
    params(("id" = String, Path, description = "Case id (UUID)")),
    request_body(content = StatusInput, description = "{cas_Status: Active|FollowUp|Closed|ClosedReferred, cas_ReasonForCaseClosure (required to close)}; a closed case must be reopened instead"),
    responses((status = 200, body = StatusView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn change_status(
    State(state): State<AppState>,
    a: Authed,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Value>,
) -> Result<Json<StatusView>, AppError> {
    let id = path_id(&id)?;
    let ctx = a.cx();
    let input: StatusInput = case_body(&state, &ctx, Action::UpdateCase, id, body).await?;
    Ok(Json(state.store.change_status(&ctx, id, &input).await?))
}

#[utoipa::path(get, path = "/cases/{id}/status/history", tag = "record",
    params(("id" = String, Path, description = "Case id (UUID)")),
    responses((status = 200, description = "The status history, oldest first", body = Vec<StatusEntry>),
              (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn status_history(
    State(state): State<AppState>,
    a: Authed,
    Path(id): Path<String>,
) -> Result<Json<Vec<StatusEntry>>, AppError> {
    let id = path_id(&id)?;
    let ctx = a.cx();
    Ok(Json(state.store.status_view(&ctx, id).await?.history))
}

#[utoipa::path(post, path = "/cases/{id}/status/reopen", tag = "record",
    params(("id" = String, Path, description = "Case id (UUID)")),
    request_body(content = ReopenInput, description = "{cas_Status: Active|FollowUp (default Active), reason (required)}; caseworkers and supervisors of the owning organisation"),
    responses((status = 200, body = StatusView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn reopen(
    State(state): State<AppState>,
    a: Authed,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Value>,
) -> Result<Json<StatusView>, AppError> {
    let id = path_id(&id)?;
    let ctx = a.cx();
    let input: ReopenInput = case_body(&state, &ctx, Action::ReopenCase, id, body).await?;
    Ok(Json(state.store.reopen_case(&ctx, id, &input).await?))
}

#[utoipa::path(get, path = "/cases/{id}/episodes", tag = "record",
    params(("id" = String, Path, description = "Case id (UUID)")),
    responses((status = 200, description = "{episode, previous_case, next_case, series: [{episode, case_id, case_number, cas_Status, accessible, current}]}", body = Episodes),
              (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn get_episodes(
    State(state): State<AppState>,
    a: Authed,
    Path(id): Path<String>,
) -> Result<Json<Episodes>, AppError> {
    let id = path_id(&id)?;
    let ctx = a.cx();
    Ok(Json(state.store.episodes(&ctx, id).await?))
}

#[utoipa::path(post, path = "/cases/{id}/episodes", tag = "record",
    params(("id" = String, Path, description = "Case id (UUID) of the person's latest episode, no longer Active")),
    request_body(content = EpisodeInput, description = "{reason (required)}: opens a new Active case for the same person (re-trafficking), linked both ways"),
    responses((status = 201, description = "{case_id, episodes}", body = OpenedEpisode), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn open_episode(
    State(state): State<AppState>,
    a: Authed,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Value>,
) -> Result<Response, AppError> {
    let id = path_id(&id)?;
    let ctx = a.cx();
    let input: EpisodeInput = case_body(&state, &ctx, Action::OpenEpisode, id, body).await?;
    let new_case = state.store.open_episode(&ctx, id, &input).await?;
    let episodes = state.store.episodes(&ctx, new_case).await?;
    Ok((
        StatusCode::CREATED,
        Json(OpenedEpisode {
            case_id: new_case,
            episodes,
        }),
    )
        .into_response())
}

/// The case opened for a new episode, and the person's series of episodes.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OpenedEpisode {
    pub case_id: uuid::Uuid,
    pub episodes: Episodes,
}
