//! `/flowSpecs`: list, read, create and replace (PUT) flow specifications (reference §7).
//! Every sandbox starts with the built-in `RestStorageToAEP` flow spec; a PUT changes only the
//! caller's sandbox copy. The connection specs a flow spec lists must exist, and cannot be
//! deleted while it lists them (the store keeps those references).

use crate::routing::Routes;
use crate::routing::get;
use axum::extract::State;
use axum::response::Response;
use flowd_spec::Problem;
use serde_json::Value;

use crate::body::JsonBody;
use crate::error::{ApiError, FlowError, FlowErrorCode};
use crate::metadata::strip_server_managed;
use crate::path_id::PathId;
use crate::routes::collections::{CONNECTION_SPECS, FLOW_SPECS, ResourceType};
use crate::routes::documents::{self, Collection};
use crate::state::AppState;
use crate::tenant::Tenant;

/// The collection.
pub struct FlowSpecs;

impl Collection for FlowSpecs {
    const TYPE: ResourceType = FLOW_SPECS;
}

pub fn routes() -> Routes {
    Routes::new()
        .merge(crate::routes::search::search_routes::<FlowSpecs>())
        .route(
            "/flowSpecs",
            get(documents::list_handler::<FlowSpecs>).post(create),
        )
        .route(
            "/flowSpecs/{id}",
            get(documents::read_handler::<FlowSpecs>).put(replace),
        )
}

/// The normalized body (`transformationSpecs` only) and the connection specs it lists, or
/// every problem: first its shape, then listed connection specs that do not exist.
async fn validated(
    state: &AppState,
    tenant: &Tenant,
    body: Value,
) -> Result<(Value, Vec<flowd_store::ResourceRef>), ApiError> {
    let mut body = strip_server_managed(body);
    let mut problems = flowd_spec::normalize_flow_spec(&mut body);
    problems.extend(flowd_spec::validate_flow_spec(&body));
    if !problems.is_empty() {
        return Err(FlowError::invalid_body("flow spec", problems).into());
    }
    let references = flowd_model::flow_spec_references(&body);
    let mut missing = Vec::new();
    for reference in &references {
        let exists = state
            .store
            .get_resource(&tenant.scope, CONNECTION_SPECS.kind, &reference.id)
            .await?
            .is_some();
        if !exists {
            missing.push(Problem::new(
                &reference.pointer,
                format!(
                    "connection spec {} does not exist in this sandbox",
                    reference.id
                ),
            ));
        }
    }
    if missing.is_empty() {
        Ok((body, references))
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
    let (body, references) = validated(&state, &tenant, body).await?;
    documents::create(&state, &tenant, FLOW_SPECS, body, &references).await
}

async fn replace(
    State(state): State<AppState>,
    tenant: Tenant,
    PathId(id): PathId,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    documents::load(&state, &tenant, FLOW_SPECS, &id).await?;
    let (body, references) = validated(&state, &tenant, body).await?;
    documents::replace(&state, &tenant, FLOW_SPECS, &id, body, &references).await
}
