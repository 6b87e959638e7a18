//! `POST /flowd/v1/connectionSpecs/validate`: a connection spec body checked by the validator
//! `POST /connectionSpecs` and `PUT /connectionSpecs/{id}` refuse bodies with, nothing stored:
//! 200 `{"valid", "problems": [{"pointer", "message"}]}`, the problems in document order.
//! A body that is not JSON is refused as by every route (`JsonBody`).

use axum::http::StatusCode;
use axum::response::Response;
use serde_json::json;

use crate::body::JsonBody;
use crate::error::{ApiError, json_response};
use crate::routes::connection_specs::checked;
use crate::tenant::Tenant;

pub(super) async fn validate(
    _tenant: Tenant,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let problems = checked(body).err().unwrap_or_default();
    Ok(json_response(
        StatusCode::OK,
        json!({"valid": problems.is_empty(), "problems": problems}),
    ))
}
