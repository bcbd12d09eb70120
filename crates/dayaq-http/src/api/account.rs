//! The signed-in user: who am I, my sessions; and the public directory of organisations.

use super::common::{ErrorBody, list_bodies};
use crate::AppState;
use crate::auth::Authed;
use crate::error::AppError;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use dayaq_domain::Role;
use dayaq_storage::orgs::Organisation;
use dayaq_storage::sessions::SessionInfo;
use serde::Serialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(me))
        .routes(routes!(list_sessions))
        .routes(routes!(revoke_session))
        .routes(routes!(list_organisations))
}

/// The signed-in user.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Me {
    pub id: Uuid,
    pub username: String,
    pub role: Role,
    pub organisation: Organisation,
    pub locale: String,
    pub totp_enabled: bool,
    /// The token to send as X-CSRF-Token with a cookie session; null with a bearer token.
    pub csrf: Option<String>,
}

#[utoipa::path(get, path = "/me", tag = "auth",
    responses((status = 200, description = "The signed-in user; `csrf` is the token to send as X-CSRF-Token with cookie sessions", body = Me),
              (status = 401, description = "Not signed in", body = ErrorBody)))]
async fn me(State(state): State<AppState>, a: Authed) -> Result<Json<Me>, AppError> {
    let organisation = state.store.org_by_id(a.user.org_id).await?;
    Ok(Json(Me {
        id: a.user.id,
        username: a.user.username.clone(),
        role: a.user.role,
        organisation,
        locale: a.user.locale.clone(),
        totp_enabled: a.user.totp_enabled,
        csrf: a.session.as_ref().map(|s| s.csrf.clone()),
    }))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SessionList {
    pub sessions: Vec<SessionInfo>,
    /// The public id of the session making this request (null with a bearer token).
    pub current: Option<String>,
}

#[utoipa::path(get, path = "/sessions", tag = "auth",
    responses((status = 200, description = "The user's live sessions", body = SessionList)))]
async fn list_sessions(
    State(state): State<AppState>,
    a: Authed,
) -> Result<Json<SessionList>, AppError> {
    let s = state
        .store
        .list_sessions(&a.user, state.cfg.session, a.now)
        .await?;
    Ok(Json(SessionList {
        sessions: s,
        current: a.session.map(|s| s.public_id),
    }))
}

#[utoipa::path(delete, path = "/sessions/{public_id}", tag = "auth",
    params(("public_id" = String, Path, description = "Session public id")),
    responses((status = 204, description = "Revoked")))]
async fn revoke_session(
    State(state): State<AppState>,
    a: Authed,
    Path(pid): Path<String>,
) -> Result<StatusCode, AppError> {
    if state
        .store
        .revoke_session(&a.user, &pid, &a.source, a.now)
        .await?
    {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(AppError::NotFound)
    }
}

#[utoipa::path(get, path = "/organisations", tag = "directory",
    responses((status = 200, description = "The organisations on this platform (public directory data)", body = OrganisationList)))]
async fn list_organisations(
    State(state): State<AppState>,
    _a: Authed,
) -> Result<Json<OrganisationList>, AppError> {
    Ok(Json(OrganisationList {
        organisations: state.store.list_orgs().await?,
    }))
}

list_bodies! {
    OrganisationList { organisations: Organisation }
}
