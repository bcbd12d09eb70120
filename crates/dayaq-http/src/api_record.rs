//! Case record API: trafficking events (`hte_*`), perpetrator roles (`per_*`), dependants,
//! status changes with closure reason, explicit reopening and the status history, and
//! episodes (re-trafficking: a new case linked to the person's previous case).
//! Keys are HTCDS field names where HTCDS defines them. Trafficking events live under
//! `/cases/{id}/trafficking-events`: `/cases/{id}/events` is already the case timeline.

use crate::AppState;
use crate::api::{ApiJson, case_id};
use crate::auth::Authed;
use crate::error::{AppError, body_as};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use dayaq_domain::policy::Action;
use dayaq_domain::record::{DependantInput, EventInput, PerpetratorInput};
use dayaq_storage::record::{EpisodeInput, ReopenInput, StatusInput};
use serde_json::{Value, json};
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

fn sub_id(raw: &str) -> Result<uuid::Uuid, AppError> {
    case_id(raw)
}

/// Access first: another organisation learns nothing from a body error.
async fn authorize(
    state: &AppState,
    ctx: &dayaq_storage::cases::Ctx<'_>,
    action: Action,
    id: uuid::Uuid,
) -> Result<(), AppError> {
    state.store.authorize_case(ctx, action, id).await?;
    Ok(())
}

#[utoipa::path(get, path = "/cases/{id}/trafficking-events", tag = "record",
    params(("id" = String, Path, description = "Case id (UUID)")),
    responses((status = 200, description = "Trafficking events (HTCDS hte_*) in chronological order; street, postal code, coordinates and description decrypted (audited)", body = Value),
              (status = 401, body = Value), (status = 403, body = Value), (status = 404, body = Value)))]
async fn list_events(
    State(state): State<AppState>,
    a: Authed,
    Path(id): Path<String>,
) -> Result<Json<Value>, AppError> {
    let id = case_id(&id)?;
    let actor = a.actor();
    let ctx = a.ctx(&actor, &state);
    Ok(Json(json!(state.store.trafficking_events(&ctx, id).await?)))
}

#[utoipa::path(post, path = "/cases/{id}/trafficking-events", tag = "record",
    params(("id" = String, Path, description = "Case id (UUID)")),
    request_body(content = Value, description = "{hte_Type: Recruitment|Transit|Exploitation, hte_Country (ISO 3166 alpha-2), hte_City, hte_State, hte_Street, hte_PostalCode, hte_Date (YYYY-MM-DD), hte_Description, hte_Latitude, hte_Longitude}"),
    responses((status = 201, body = Value), (status = 401, body = Value), (status = 403, body = Value), (status = 404, body = Value), (status = 422, body = Value)))]
async fn add_event(
    State(state): State<AppState>,
    a: Authed,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Value>,
) -> Result<Response, AppError> {
    let id = case_id(&id)?;
    let actor = a.actor();
    let ctx = a.ctx(&actor, &state);
    authorize(&state, &ctx, Action::UpdateCase, id).await?;
    let input: EventInput = body_as(body)?;
    let r = state.store.add_trafficking_event(&ctx, id, input).await?;
    Ok((StatusCode::CREATED, Json(r)).into_response())
}

#[utoipa::path(delete, path = "/cases/{id}/trafficking-events/{event}", tag = "record",
    params(("id" = String, Path, description = "Case id (UUID)"), ("event" = String, Path, description = "Event id (UUID)")),
    responses((status = 204), (status = 401, body = Value), (status = 403, body = Value), (status = 404, body = Value)))]
async fn delete_event(
    State(state): State<AppState>,
    a: Authed,
    Path((id, event)): Path<(String, String)>,
) -> Result<StatusCode, AppError> {
    let (id, event) = (case_id(&id)?, sub_id(&event)?);
    let actor = a.actor();
    let ctx = a.ctx(&actor, &state);
    state
        .store
        .delete_trafficking_event(&ctx, id, event)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/cases/{id}/perpetrators", tag = "record",
    params(("id" = String, Path, description = "Case id (UUID)")),
    responses((status = 200, description = "Perpetrator roles (per_RoleInProcess, per_RoleDetails decrypted, audited); no perpetrator identity", body = Value),
              (status = 401, body = Value), (status = 403, body = Value), (status = 404, body = Value)))]
async fn list_perpetrators(
    State(state): State<AppState>,
    a: Authed,
    Path(id): Path<String>,
) -> Result<Json<Value>, AppError> {
    let id = case_id(&id)?;
    let actor = a.actor();
    let ctx = a.ctx(&actor, &state);
    Ok(Json(json!(state.store.perpetrators(&ctx, id).await?)))
}

#[utoipa::path(post, path = "/cases/{id}/perpetrators", tag = "record",
    params(("id" = String, Path, description = "Case id (UUID)")),
    request_body(content = Value, description = "{per_RoleInProcess: [HTCDS values], per_RoleDetails (required with Other)}"),
    responses((status = 201, body = Value), (status = 401, body = Value), (status = 403, body = Value), (status = 404, body = Value), (status = 422, body = Value)))]
async fn add_perpetrator(
    State(state): State<AppState>,
    a: Authed,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Value>,
) -> Result<Response, AppError> {
    let id = case_id(&id)?;
    let actor = a.actor();
    let ctx = a.ctx(&actor, &state);
    authorize(&state, &ctx, Action::UpdateCase, id).await?;
    let input: PerpetratorInput = body_as(body)?;
    let r = state.store.add_perpetrator(&ctx, id, input).await?;
    Ok((StatusCode::CREATED, Json(r)).into_response())
}

#[utoipa::path(delete, path = "/cases/{id}/perpetrators/{perpetrator}", tag = "record",
    params(("id" = String, Path, description = "Case id (UUID)"), ("perpetrator" = String, Path, description = "Perpetrator-role entry id (UUID)")),
    responses((status = 204), (status = 401, body = Value), (status = 403, body = Value), (status = 404, body = Value)))]
async fn delete_perpetrator(
    State(state): State<AppState>,
    a: Authed,
    Path((id, p)): Path<(String, String)>,
) -> Result<StatusCode, AppError> {
    let (id, p) = (case_id(&id)?, sub_id(&p)?);
    let actor = a.actor();
    let ctx = a.ctx(&actor, &state);
    state.store.delete_perpetrator(&ctx, id, p).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/cases/{id}/dependants", tag = "record",
    params(("id" = String, Path, description = "Case id (UUID)")),
    responses((status = 200, description = "{children: {prs_NumberOfChildren, recorded, consistent, complete}, dependants: [...]} (whereabouts decrypted, audited)", body = Value),
              (status = 401, body = Value), (status = 403, body = Value), (status = 404, body = Value)))]
async fn list_dependants(
    State(state): State<AppState>,
    a: Authed,
    Path(id): Path<String>,
) -> Result<Json<Value>, AppError> {
    let id = case_id(&id)?;
    let actor = a.actor();
    let ctx = a.ctx(&actor, &state);
    Ok(Json(json!(state.store.dependants(&ctx, id).await?)))
}

#[utoipa::path(post, path = "/cases/{id}/dependants", tag = "record",
    params(("id" = String, Path, description = "Case id (UUID)")),
    request_body(content = Value, description = "{relation: Child|Stepchild|Grandchild|Sibling|OtherDependant, prs_Gender, birth_year | age, with_victim, whereabouts (only when not with her), needs_schooling, needs_childcare}; a child beyond prs_NumberOfChildren is refused"),
    responses((status = 201, body = Value), (status = 401, body = Value), (status = 403, body = Value), (status = 404, body = Value), (status = 422, body = Value)))]
async fn add_dependant(
    State(state): State<AppState>,
    a: Authed,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Value>,
) -> Result<Response, AppError> {
    let id = case_id(&id)?;
    let actor = a.actor();
    let ctx = a.ctx(&actor, &state);
    authorize(&state, &ctx, Action::UpdateCase, id).await?;
    let input: DependantInput = body_as(body)?;
    let r = state.store.add_dependant(&ctx, id, input).await?;
    Ok((StatusCode::CREATED, Json(r)).into_response())
}

#[utoipa::path(delete, path = "/cases/{id}/dependants/{dependant}", tag = "record",
    params(("id" = String, Path, description = "Case id (UUID)"), ("dependant" = String, Path, description = "Dependant id (UUID)")),
    responses((status = 204), (status = 401, body = Value), (status = 403, body = Value), (status = 404, body = Value)))]
async fn delete_dependant(
    State(state): State<AppState>,
    a: Authed,
    Path((id, d)): Path<(String, String)>,
) -> Result<StatusCode, AppError> {
    let (id, d) = (case_id(&id)?, sub_id(&d)?);
    let actor = a.actor();
    let ctx = a.ctx(&actor, &state);
    state.store.delete_dependant(&ctx, id, d).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/cases/{id}/status", tag = "record",
    params(("id" = String, Path, description = "Case id (UUID)")),
    responses((status = 200, description = "{cas_Status, history: [{seq, at, kind: change|close|reopen|new_episode, from, cas_Status, reason (notes readers only), actor}]}", body = Value),
              (status = 401, body = Value), (status = 403, body = Value), (status = 404, body = Value)))]
async fn get_status(
    State(state): State<AppState>,
    a: Authed,
    Path(id): Path<String>,
) -> Result<Json<Value>, AppError> {
    let id = case_id(&id)?;
    let actor = a.actor();
    let ctx = a.ctx(&actor, &state);
    Ok(Json(json!(state.store.status_view(&ctx, id).await?)))
}

#[utoipa::path(post, path = "/cases/{id}/status", tag = "record",
    params(("id" = String, Path, description = "Case id (UUID)")),
    request_body(content = Value, description = "{cas_Status: Active|FollowUp|Closed|ClosedReferred, cas_ReasonForCaseClosure (required to close)}; a closed case must be reopened instead"),
    responses((status = 200, body = Value), (status = 401, body = Value), (status = 403, body = Value), (status = 404, body = Value), (status = 409, body = Value), (status = 422, body = Value)))]
async fn change_status(
    State(state): State<AppState>,
    a: Authed,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Value>,
) -> Result<Json<Value>, AppError> {
    let id = case_id(&id)?;
    let actor = a.actor();
    let ctx = a.ctx(&actor, &state);
    authorize(&state, &ctx, Action::UpdateCase, id).await?;
    let input: StatusInput = body_as(body)?;
    Ok(Json(json!(
        state.store.change_status(&ctx, id, &input).await?
    )))
}

#[utoipa::path(get, path = "/cases/{id}/status/history", tag = "record",
    params(("id" = String, Path, description = "Case id (UUID)")),
    responses((status = 200, description = "The status history, oldest first", body = Value),
              (status = 401, body = Value), (status = 403, body = Value), (status = 404, body = Value)))]
async fn status_history(
    State(state): State<AppState>,
    a: Authed,
    Path(id): Path<String>,
) -> Result<Json<Value>, AppError> {
    let id = case_id(&id)?;
    let actor = a.actor();
    let ctx = a.ctx(&actor, &state);
    Ok(Json(json!(
        state.store.status_view(&ctx, id).await?.history
    )))
}

#[utoipa::path(post, path = "/cases/{id}/status/reopen", tag = "record",
    params(("id" = String, Path, description = "Case id (UUID)")),
    request_body(content = Value, description = "{cas_Status: Active|FollowUp (default Active), reason (required)}; caseworkers and supervisors of the owning organisation"),
    responses((status = 200, body = Value), (status = 401, body = Value), (status = 403, body = Value), (status = 404, body = Value), (status = 409, body = Value), (status = 422, body = Value)))]
async fn reopen(
    State(state): State<AppState>,
    a: Authed,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Value>,
) -> Result<Json<Value>, AppError> {
    let id = case_id(&id)?;
    let actor = a.actor();
    let ctx = a.ctx(&actor, &state);
    authorize(&state, &ctx, Action::ReopenCase, id).await?;
    let input: ReopenInput = body_as(body)?;
    Ok(Json(json!(
        state.store.reopen_case(&ctx, id, &input).await?
    )))
}

#[utoipa::path(get, path = "/cases/{id}/episodes", tag = "record",
    params(("id" = String, Path, description = "Case id (UUID)")),
    responses((status = 200, description = "{episode, previous_case, next_case, series: [{episode, case_id, case_number, cas_Status, accessible, current}]}", body = Value),
              (status = 401, body = Value), (status = 403, body = Value), (status = 404, body = Value)))]
async fn get_episodes(
    State(state): State<AppState>,
    a: Authed,
    Path(id): Path<String>,
) -> Result<Json<Value>, AppError> {
    let id = case_id(&id)?;
    let actor = a.actor();
    let ctx = a.ctx(&actor, &state);
    Ok(Json(json!(state.store.episodes(&ctx, id).await?)))
}

#[utoipa::path(post, path = "/cases/{id}/episodes", tag = "record",
    params(("id" = String, Path, description = "Case id (UUID) of the person's latest episode, no longer Active")),
    request_body(content = Value, description = "{reason (required)}: opens a new Active case for the same person (re-trafficking), linked both ways"),
    responses((status = 201, description = "{case_id, episodes}", body = Value), (status = 401, body = Value), (status = 403, body = Value), (status = 404, body = Value), (status = 409, body = Value), (status = 422, body = Value)))]
async fn open_episode(
    State(state): State<AppState>,
    a: Authed,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Value>,
) -> Result<Response, AppError> {
    let id = case_id(&id)?;
    let actor = a.actor();
    let ctx = a.ctx(&actor, &state);
    authorize(&state, &ctx, Action::OpenEpisode, id).await?;
    let input: EpisodeInput = body_as(body)?;
    let new_case = state.store.open_episode(&ctx, id, &input).await?;
    let episodes = state.store.episodes(&ctx, new_case).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"case_id": new_case, "episodes": episodes})),
    )
        .into_response())
}
