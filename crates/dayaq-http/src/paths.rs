//! Ids in URL paths: one way to read them, for pages and API alike. An id that is not a UUID
//! names nothing, so it is "not found" (never a parse error that would echo the value).

use crate::error::AppError;
use uuid::Uuid;

/// The UUID in a path segment, or `AppError::NotFound`.
pub fn parse_id(s: &str) -> Result<Uuid, AppError> {
    Uuid::parse_str(s).map_err(|_| AppError::NotFound)
}
