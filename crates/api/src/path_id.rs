//! The `{id}` path segment of instance routes. Ids are UUIDs; anything else
//! is refused with `1411-400` before the store is touched, and ids are
//! compared in their canonical lowercase hyphenated form.

use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;

use crate::error::{ApiError, FlowError, FlowErrorCode};

/// A resource id taken from the path, already checked to be a UUID.
#[derive(Debug, Clone)]
pub struct PathId(pub String);

impl<S: Send + Sync> FromRequestParts<S> for PathId {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<PathId, ApiError> {
        let Path(raw) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|_| {
                FlowError::new(
                    FlowErrorCode::InvalidPathId,
                    "The resource id could not be read from the path.",
                )
            })?;
        let uuid = uuid::Uuid::try_parse(&raw).map_err(|_| {
            FlowError::new(
                FlowErrorCode::InvalidPathId,
                format!("The resource id '{raw}' in the path is not a UUID."),
            )
        })?;
        Ok(PathId(uuid.hyphenated().to_string()))
    }
}
