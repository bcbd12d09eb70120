//! Webhooks API (issue 22 §4): an organisation's endpoints (register, list, disable) and the
//! delivery log. Deliveries themselves are made by the worker in `serve`
//! (`crate::webhook_worker`), never by a request. Managed by the organisation's admin and
//! supervisors (`Action::ManageWebhooks`).

use super::common::{Act, ErrorBody, OnPath, OrgBody, created};
use crate::AppState;
use crate::auth::Authed;
use crate::error::AppError;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use dayaq_domain::policy::Action;
use dayaq_domain::webhooks::EndpointInput;
use dayaq_storage::webhooks::{CreatedEndpoint, Delivery, Endpoint};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Routes under /api/v1 (register each with `routes!` so OpenAPI lists it).
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_endpoints, add_endpoint))
        .routes(routes!(disable_endpoint))
        .routes(routes!(deliveries))
}

/// Checks `Action::ManageWebhooks` on the organisation before typing the body.
pub(crate) struct ManageWebhooks;
impl Act for ManageWebhooks {
    const ACTION: Option<Action> = Some(Action::ManageWebhooks);
}

#[utoipa::path(get, path = "/webhooks/endpoints", tag = "webhooks",
    responses((status = 200, description = "The organisation's webhook endpoints (never their secrets); its admin and supervisors", body = [Endpoint])))]
async fn list_endpoints(
    State(state): State<AppState>,
    a: Authed,
) -> Result<Json<Vec<Endpoint>>, AppError> {
    Ok(Json(state.store.webhook_endpoints(&a.cx()).await?))
}

#[utoipa::path(post, path = "/webhooks/endpoints", tag = "webhooks",
    request_body(content = EndpointInput, description = "{url, events}: https (plain http only to a loopback host), at least one event type; audited"),
    responses((status = 201, description = "The endpoint and its signing secret (`whsec_…`), shown this once", body = CreatedEndpoint),
              (status = 422, description = "Field `url` (required, invalid, not_https, credentials_in_url, too_long) or `events` (required, unknown)", body = ErrorBody)))]
async fn add_endpoint(
    State(state): State<AppState>,
    r: OrgBody<EndpointInput, ManageWebhooks, 0>,
) -> Result<Response, AppError> {
    let ctx = r.auth.cx();
    Ok(created(
        state.store.add_webhook_endpoint(&ctx, &r.body).await?,
    ))
}

#[utoipa::path(delete, path = "/webhooks/endpoints/{id}", tag = "webhooks",
    params(("id" = String, Path, description = "Endpoint id (UUID)")),
    responses((status = 204, description = "Disabled; its undelivered events are cancelled; audited")))]
async fn disable_endpoint(
    State(state): State<AppState>,
    r: OnPath,
) -> Result<StatusCode, AppError> {
    let ([id], ctx) = (r.ids, r.cx());
    state.store.disable_webhook_endpoint(&ctx, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/webhooks/deliveries", tag = "webhooks",
    responses((status = 200, description = "The organisation's latest 200 deliveries, newest first: event type, state, attempts, last status and error code (never a payload's content beyond ids)", body = [Delivery])))]
async fn deliveries(
    State(state): State<AppState>,
    a: Authed,
) -> Result<Json<Vec<Delivery>>, AppError> {
    Ok(Json(state.store.webhook_deliveries(&a.cx()).await?))
}
