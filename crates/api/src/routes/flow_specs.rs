//! `/flowSpecs`: list, read, create and replace (PUT) flow specifications
//! (reference §7). Every sandbox starts with the built-in `RestStorageToAEP`
//! flow spec; a PUT changes only the caller's sandbox copy.

use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use flowd_spec::Problem;
use flowd_store::ResourceKind;
use serde_json::Value;

use crate::body::JsonBody;
use crate::error::{ApiError, FlowError, FlowErrorCode};
use crate::metadata::strip_server_managed;
use crate::path_id::PathId;
use crate::routes::connection_specs::CONNECTION_SPECS;
use crate::routes::documents::{self, Collection, ResourceType, SPEC_SORTABLE_FIELDS};
use crate::state::AppState;
use crate::tenant::Tenant;

pub const FLOW_SPECS: ResourceType = ResourceType {
    kind: ResourceKind::FlowSpec,
    collection: "flowSpecs",
    noun: "flow spec",
    sortable: SPEC_SORTABLE_FIELDS,
    references: &[],
    in_use: FlowErrorCode::StillReferenced,
    present: documents::as_stored,
};

/// The collection, for the shared list, read and delete routes.
pub struct FlowSpecs;

impl Collection for FlowSpecs {
    const TYPE: ResourceType = FLOW_SPECS;
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/flowSpecs",
            get(documents::list_handler::<FlowSpecs>).post(create),
        )
        .route(
            "/flowSpecs/{id}",
            get(documents::read_handler::<FlowSpecs>).put(replace),
        )
}

/// The normalized body (`transformationSpecs` only), or every problem: first
/// its shape, then connection spec ids that do not exist in the sandbox.
async fn validated(state: &AppState, tenant: &Tenant, body: Value) -> Result<Value, ApiError> {
    let mut body = strip_server_managed(body);
    let mut problems = flowd_spec::normalize_flow_spec(&mut body);
    problems.extend(flowd_spec::validate_flow_spec(&body));
    if !problems.is_empty() {
        return Err(FlowError::invalid_body("flow spec", problems).into());
    }
    let mut missing = Vec::new();
    for field in ["sourceConnectionSpecIds", "targetConnectionSpecIds"] {
        let Some(ids) = body.get(field).and_then(Value::as_array) else {
            continue;
        };
        for (index, id) in ids.iter().enumerate() {
            let Some(id) = id.as_str() else { continue };
            let exists = state
                .store
                .get_resource(&tenant.scope, CONNECTION_SPECS.kind, id)
                .await?
                .is_some();
            if !exists {
                missing.push(Problem {
                    pointer: format!("/{field}/{index}"),
                    message: format!("connection spec {id} does not exist in this sandbox"),
                });
            }
        }
    }
    if missing.is_empty() {
        Ok(body)
    } else {
        let mut error = FlowError::invalid_body("flow spec", missing);
        error.code = FlowErrorCode::InvalidSpecId;
        Err(error.into())
    }
}

async fn create(
    State(state): State<AppState>,
    tenant: Tenant,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let body = validated(&state, &tenant, body).await?;
    documents::create(&state, &tenant, FLOW_SPECS, body).await
}

async fn replace(
    State(state): State<AppState>,
    tenant: Tenant,
    PathId(id): PathId,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    documents::load(&state, &tenant, FLOW_SPECS, &id).await?;
    let body = validated(&state, &tenant, body).await?;
    documents::replace(&state, &tenant, FLOW_SPECS, &id, body).await
}
