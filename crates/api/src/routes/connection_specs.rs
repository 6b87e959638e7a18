//! `/connectionSpecs`: create, list, read, replace (PUT) and delete
//! connection specifications (reference §3). Bodies are validated by
//! `flowd_spec` and stored verbatim apart from the server-managed fields.

use axum::Router;
use axum::extract::{RawQuery, State};
use axum::response::Response;
use axum::routing::get;
use flowd_store::{Reference, ResourceKind};
use serde_json::Value;

use crate::body::JsonBody;
use crate::error::{ApiError, FlowError};
use crate::metadata::strip_server_managed;
use crate::path_id::PathId;
use crate::routes::documents::{self, ResourceType, SPEC_SORTABLE_FIELDS};
use crate::state::AppState;
use crate::tenant::Tenant;

pub const CONNECTION_SPECS: ResourceType = ResourceType {
    kind: ResourceKind::ConnectionSpec,
    collection: "connectionSpecs",
    noun: "connection spec",
    sortable: SPEC_SORTABLE_FIELDS,
};

/// Where other resources refer to a connection spec by id.
const REFERENCES: [Reference; 2] = [
    Reference {
        kind: ResourceKind::FlowSpec,
        field: "$.sourceConnectionSpecIds",
    },
    Reference {
        kind: ResourceKind::FlowSpec,
        field: "$.targetConnectionSpecIds",
    },
];

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/connectionSpecs", get(list).post(create))
        .route(
            "/connectionSpecs/{id}",
            get(read).put(replace).delete(delete),
        )
}

/// The body without server-managed fields, or every problem found in it.
fn validated(body: Value) -> Result<Value, ApiError> {
    let body = strip_server_managed(body);
    let problems = flowd_spec::validate_connection_spec(&body);
    if problems.is_empty() {
        Ok(body)
    } else {
        Err(FlowError::invalid_body("connection spec", problems).into())
    }
}

async fn list(
    State(state): State<AppState>,
    tenant: Tenant,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    documents::list(&state, &tenant, CONNECTION_SPECS, query.as_deref()).await
}

async fn read(
    State(state): State<AppState>,
    tenant: Tenant,
    PathId(id): PathId,
) -> Result<Response, ApiError> {
    documents::read(&state, &tenant, CONNECTION_SPECS, &id).await
}

async fn create(
    State(state): State<AppState>,
    tenant: Tenant,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let body = validated(body)?;
    documents::create(&state, &tenant, CONNECTION_SPECS, body).await
}

async fn replace(
    State(state): State<AppState>,
    tenant: Tenant,
    PathId(id): PathId,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    // An unknown id is reported before the body's problems: fixing the body
    // of a PUT that can never succeed would waste the user's time.
    documents::load(&state, &tenant, CONNECTION_SPECS, &id).await?;
    let body = validated(body)?;
    documents::replace(&state, &tenant, CONNECTION_SPECS, &id, body).await
}

async fn delete(
    State(state): State<AppState>,
    tenant: Tenant,
    PathId(id): PathId,
) -> Result<Response, ApiError> {
    documents::delete(&state, &tenant, CONNECTION_SPECS, &id, &REFERENCES).await
}
