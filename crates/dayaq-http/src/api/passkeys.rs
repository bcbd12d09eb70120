//! The signed-in user's passkeys / security keys (issue 22 §2): list (with last use and the
//! recovery codes left) and remove. Registering one and making recovery codes need the
//! browser's WebAuthn ceremony and a screen that shows the codes once: they are on the
//! account screen (`/account/security-keys`), not in the API.

use super::common::{ErrorBody, path_id};
use crate::AppState;
use crate::auth::Authed;
use crate::error::AppError;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use dayaq_storage::users::PasskeyInfo;
use serde::Serialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_passkeys))
        .routes(routes!(remove_passkey))
}

/// The caller's security keys and second-factor facts.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PasskeyList {
    pub passkeys: Vec<PasskeyInfo>,
    /// Unused recovery codes.
    pub recovery_codes_left: i64,
    /// The caller's role must sign in with a passkey.
    pub passkey_required: bool,
}

#[utoipa::path(get, path = "/account/passkeys", tag = "auth",
    responses((status = 200, description = "The caller's passkeys / security keys (name, added, last used), newest first; never credential material", body = PasskeyList),
              (status = 401, description = "Not signed in", body = ErrorBody)))]
async fn list_passkeys(
    State(state): State<AppState>,
    a: Authed,
) -> Result<Json<PasskeyList>, AppError> {
    Ok(Json(PasskeyList {
        passkeys: state.store.passkeys_of(a.user.id).await?,
        recovery_codes_left: state.store.recovery_codes_left(a.user.id).await?,
        passkey_required: state.store.passkey_required(a.user.role).await?,
    }))
}

#[utoipa::path(delete, path = "/account/passkeys/{id}", tag = "auth",
    params(("id" = String, Path, description = "Passkey id (UUID)")),
    responses((status = 204, description = "Removed; audited `passkey.remove`"),
              (status = 404, description = "Not one of the caller's passkeys", body = ErrorBody),
              (status = 422, description = "Field `passkey` (last_required_passkey): the role must keep one", body = ErrorBody)))]
async fn remove_passkey(
    State(state): State<AppState>,
    a: Authed,
    Path(id): Path<String>,
) -> Result<StatusCode, AppError> {
    let id = path_id(&id)?;
    if state
        .store
        .remove_passkey(&a.user, id, &a.source, a.now)
        .await?
    {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(AppError::NotFound)
    }
}
