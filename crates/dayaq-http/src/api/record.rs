//! Case record API: trafficking events (`hte_*`), perpetrator roles (`per_*`), dependants,
//! status changes with closure reason, explicit reopening and the status history, and
//! episodes (re-trafficking: a new case linked to the person's previous case).
//! Keys are HTCDS field names where HTCDS defines them. Trafficking events live under
//! `/cases/{id}/trafficking-events`: `/cases/{id}/events` is already the case timeline.

use super::common::{Body, ErrorBody, OnPath, OpenEpisode, ReopenCase, created};
use crate::AppState;
use crate::error::AppError;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use dayaq_domain::record::{DependantInput, EventInput, PerpetratorInput};
use dayaq_domain::record::{DependantView, EventView, PerpetratorView};
use dayaq_storage::record::{DependantsView, Episodes, StatusEntry, StatusView};
use dayaq_storage::record::{EpisodeInput, ReopenInput, StatusInput};
use serde::Serialize;
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
    responses((status = 200, description = "Trafficking events (HTCDS hte_*) in chronological order; street, postal code, coordinates and description decrypted (audited)", body = Vec<EventView>)))]
async fn list_events(
    State(state): State<AppState>,
    r: OnPath,
) -> Result<Json<Vec<EventView>>, AppError> {
    let ([id], ctx) = (r.ids, r.cx());
    Ok(Json(state.store.trafficking_events(&ctx, id).await?))
}

#[utoipa::path(post, path = "/cases/{id}/trafficking-events", tag = "record",
    params(("id" = String, Path, description = "Case id (UUID)")),
    request_body(content = EventInput, description = "{hte_Type: Recruitment|Transit|Exploitation, hte_Country (ISO 3166 alpha-2), hte_City, hte_State, hte_Street, hte_PostalCode, hte_Date (YYYY-MM-DD), hte_Description, hte_Latitude, hte_Longitude}"),
    responses((status = 201, body = EventView)))]
async fn add_event(
    State(state): State<AppState>,
    r: Body<EventInput>,
) -> Result<Response, AppError> {
    let ([id], ctx, input) = (r.ids, r.auth.cx(), r.body);
    let r = state.store.add_trafficking_event(&ctx, id, input).await?;
    Ok(created(r))
}

#[utoipa::path(delete, path = "/cases/{id}/trafficking-events/{event}", tag = "record",
    params(("id" = String, Path, description = "Case id (UUID)"), ("event" = String, Path, description = "Event id (UUID)")),
    responses((status = 204)))]
async fn delete_event(State(state): State<AppState>, r: OnPath<2>) -> Result<StatusCode, AppError> {
    let ([id, event], ctx) = (r.ids, r.cx());
    state
        .store
        .delete_trafficking_event(&ctx, id, event)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/cases/{id}/perpetrators", tag = "record",
    params(("id" = String, Path, description = "Case id (UUID)")),
    responses((status = 200, description = "Perpetrator roles (per_RoleInProcess, per_RoleDetails decrypted, audited); no perpetrator identity", body = Vec<PerpetratorView>)))]
async fn list_perpetrators(
    State(state): State<AppState>,
    r: OnPath,
) -> Result<Json<Vec<PerpetratorView>>, AppError> {
    let ([id], ctx) = (r.ids, r.cx());
    Ok(Json(state.store.perpetrators(&ctx, id).await?))
}

#[utoipa::path(post, path = "/cases/{id}/perpetrators", tag = "record",
    params(("id" = String, Path, description = "Case id (UUID)")),
    request_body(content = PerpetratorInput, description = "{per_RoleInProcess: [HTCDS values], per_RoleDetails (required with Other)}"),
    responses((status = 201, body = PerpetratorView)))]
async fn add_perpetrator(
    State(state): State<AppState>,
    r: Body<PerpetratorInput>,
) -> Result<Response, AppError> {
    let ([id], ctx, input) = (r.ids, r.auth.cx(), r.body);
    let r = state.store.add_perpetrator(&ctx, id, input).await?;
    Ok(created(r))
}

#[utoipa::path(delete, path = "/cases/{id}/perpetrators/{perpetrator}", tag = "record",
    params(("id" = String, Path, description = "Case id (UUID)"), ("perpetrator" = String, Path, description = "Perpetrator-role entry id (UUID)")),
    responses((status = 204)))]
async fn delete_perpetrator(
    State(state): State<AppState>,
    r: OnPath<2>,
) -> Result<StatusCode, AppError> {
    let ([id, p], ctx) = (r.ids, r.cx());
    state.store.delete_perpetrator(&ctx, id, p).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/cases/{id}/dependants", tag = "record",
    params(("id" = String, Path, description = "Case id (UUID)")),
    responses((status = 200, description = "{children: {prs_NumberOfChildren, recorded, consistent, complete}, dependants: [...]} (whereabouts decrypted, audited)", body = DependantsView)))]
async fn list_dependants(
    State(state): State<AppState>,
    r: OnPath,
) -> Result<Json<DependantsView>, AppError> {
    let ([id], ctx) = (r.ids, r.cx());
    Ok(Json(state.store.dependants(&ctx, id).await?))
}

#[utoipa::path(post, path = "/cases/{id}/dependants", tag = "record",
    params(("id" = String, Path, description = "Case id (UUID)")),
    request_body(content = DependantInput, description = "{relation: Child|Stepchild|Grandchild|Sibling|OtherDependant, prs_Gender, birth_year | age, with_victim, whereabouts (only when not with her), needs_schooling, needs_childcare}; a child beyond prs_NumberOfChildren is refused"),
    responses((status = 201, body = DependantView)))]
async fn add_dependant(
    State(state): State<AppState>,
    r: Body<DependantInput>,
) -> Result<Response, AppError> {
    let ([id], ctx, input) = (r.ids, r.auth.cx(), r.body);
    let r = state.store.add_dependant(&ctx, id, input).await?;
    Ok(created(r))
}

#[utoipa::path(delete, path = "/cases/{id}/dependants/{dependant}", tag = "record",
    params(("id" = String, Path, description = "Case id (UUID)"), ("dependant" = String, Path, description = "Dependant id (UUID)")),
    responses((status = 204)))]
async fn delete_dependant(
    State(state): State<AppState>,
    r: OnPath<2>,
) -> Result<StatusCode, AppError> {
    let ([id, d], ctx) = (r.ids, r.cx());
    state.store.delete_dependant(&ctx, id, d).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/cases/{id}/status", tag = "record",
    params(("id" = String, Path, description = "Case id (UUID)")),
    responses((status = 200, description = "{cas_Status, history: [{seq, at, kind: change|close|reopen|new_episode, from, cas_Status, reason (notes readers only), actor}]}", body = StatusView)))]
async fn get_status(
    State(state): State<AppState>,
    r: OnPath,
) -> Result<Json<StatusView>, AppError> {
    let ([id], ctx) = (r.ids, r.cx());
    Ok(Json(state.store.status_view(&ctx, id).await?))
}

#[utoipa::path(post, path = "/cases/{id}/status", tag = "record",
    params(("id" = String, Path, description = "Case id (UUID)")),
    request_body(content = StatusInput, description = "{cas_Status: Active|FollowUp|Closed|ClosedReferred, cas_ReasonForCaseClosure (required to close)}; a closed case must be reopened instead"),
    responses((status = 200, body = StatusView), (status = 409, body = ErrorBody)))]
async fn change_status(
    State(state): State<AppState>,
    r: Body<StatusInput>,
) -> Result<Json<StatusView>, AppError> {
    let ([id], ctx, input) = (r.ids, r.auth.cx(), r.body);
    Ok(Json(state.store.change_status(&ctx, id, &input).await?))
}

#[utoipa::path(get, path = "/cases/{id}/status/history", tag = "record",
    params(("id" = String, Path, description = "Case id (UUID)")),
    responses((status = 200, description = "The status history, oldest first", body = Vec<StatusEntry>)))]
async fn status_history(
    State(state): State<AppState>,
    r: OnPath,
) -> Result<Json<Vec<StatusEntry>>, AppError> {
    let ([id], ctx) = (r.ids, r.cx());
    Ok(Json(state.store.status_view(&ctx, id).await?.history))
}

#[utoipa::path(post, path = "/cases/{id}/status/reopen", tag = "record",
    params(("id" = String, Path, description = "Case id (UUID)")),
    request_body(content = ReopenInput, description = "{cas_Status: Active|FollowUp (default Active), reason (required)}; caseworkers and supervisors of the owning organisation"),
    responses((status = 200, body = StatusView), (status = 409, body = ErrorBody)))]
async fn reopen(
    State(state): State<AppState>,
    r: Body<ReopenInput, ReopenCase>,
) -> Result<Json<StatusView>, AppError> {
    let ([id], ctx, input) = (r.ids, r.auth.cx(), r.body);
    Ok(Json(state.store.reopen_case(&ctx, id, &input).await?))
}

#[utoipa::path(get, path = "/cases/{id}/episodes", tag = "record",
    params(("id" = String, Path, description = "Case id (UUID)")),
    responses((status = 200, description = "{episode, previous_case, next_case, series: [{episode, case_id, case_number, cas_Status, accessible, current}]}", body = Episodes)))]
async fn get_episodes(
    State(state): State<AppState>,
    r: OnPath,
) -> Result<Json<Episodes>, AppError> {
    let ([id], ctx) = (r.ids, r.cx());
    Ok(Json(state.store.episodes(&ctx, id).await?))
}

#[utoipa::path(post, path = "/cases/{id}/episodes", tag = "record",
    params(("id" = String, Path, description = "Case id (UUID) of the person's latest episode, no longer Active")),
    request_body(content = EpisodeInput, description = "{reason (required)}: opens a new Active case for the same person (re-trafficking), linked both ways"),
    responses((status = 201, description = "{case_id, episodes}", body = OpenedEpisode), (status = 409, body = ErrorBody)))]
async fn open_episode(
    State(state): State<AppState>,
    r: Body<EpisodeInput, OpenEpisode>,
) -> Result<Response, AppError> {
    let ([id], ctx, input) = (r.ids, r.auth.cx(), r.body);
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
