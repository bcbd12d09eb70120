//! HTCDS import/export: API routes and screens (being written).

use crate::AppState;
use axum::Router;
use utoipa_axum::router::OpenApiRouter;

/// API routes (mounted under /api/v1).
pub fn api_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
}

/// HTML screens.
pub fn pages_router() -> Router<AppState> {
    Router::new()
}
