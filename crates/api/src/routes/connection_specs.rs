//! `/connectionSpecs`: create, list, read, replace (PUT) and delete connection specifications
//! (reference §3). Bodies are validated by `flowd_spec` and stored verbatim apart from the
//! server-managed fields.

use crate::routing::Routes;
use crate::routing::get;
use axum::extract::State;
use axum::response::Response;
use flowd_spec::Problem;
use serde_json::Value;

use crate::body::JsonBody;
use crate::error::{ApiError, FlowError};
use crate::metadata::strip_server_managed;
use crate::path_id::PathId;
use crate::routes::collections::{CONNECTION_SPECS, ResourceType};
use crate::routes::documents::{self, Collection};
use crate::state::AppState;
use crate::tenant::Tenant;

/// The collection.
pub struct ConnectionSpecs;

impl Collection for ConnectionSpecs {
    const TYPE: ResourceType = CONNECTION_SPECS;
}

pub fn routes() -> Routes {
    Routes::new()
        .route(
            "/connectionSpecs",
            get(documents::list_handler::<ConnectionSpecs>).post(create),
        )
        .route(
            "/connectionSpecs/{id}",
            get(documents::read_handler::<ConnectionSpecs>)
                .put(replace)
                .delete(documents::delete_handler::<ConnectionSpecs>),
        )
}

/// The body without server-managed fields, or every problem that refuses it: what create and
/// PUT check, and what `POST /flowd/v1/connectionSpecs/validate` reports.
pub(crate) fn checked(body: Value) -> Result<Value, Vec<Problem>> {
    let body = strip_server_managed(body);
    let problems = flowd_spec::validate_connection_spec(&body);
    if problems.is_empty() {
        Ok(body)
    } else {
        Err(problems)
    }
}

/// [`checked`], its problems as a `1100-400`.
fn validated(body: Value) -> Result<Value, ApiError> {
    checked(body).map_err(|problems| FlowError::invalid_body("connection spec", problems).into())
}

async fn create(
    State(state): State<AppState>,
    tenant: Tenant,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let body = validated(body)?;
    documents::create(&state, &tenant, CONNECTION_SPECS, body, &[]).await
}

async fn replace(
    State(state): State<AppState>,
    tenant: Tenant,
    PathId(id): PathId,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    // An unknown id is reported before the body's problems: fixing the body of a PUT that can
    // never succeed would waste the user's time.
    documents::load(&state, &tenant, CONNECTION_SPECS, &id).await?;
    let body = validated(body)?;
    documents::replace(&state, &tenant, CONNECTION_SPECS, &id, body, &[]).await
}
