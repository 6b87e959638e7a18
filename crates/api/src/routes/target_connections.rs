//! `/targetConnections` (reference §8.3): where a flow writes — always the
//! data-lake connection spec, a `data.format` of `parquet_xdm` or `json`,
//! an optional XDM `data.schema`, and `params.dataSetId` naming a dataset
//! of the sandbox (see `datasets.rs`).

use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use flowd_spec::{DATA_LAKE_CONNECTION_SPEC_ID, Problem};
use flowd_store::{Reference, ResourceKind};
use serde_json::{Value, json};

use crate::body::JsonBody;
use crate::error::{ApiError, FlowError, FlowErrorCode};
use crate::path_id::PathId;
use crate::routes::body_fields::{
    client_instance_fields, invalid, optional_string, required_string,
};
use crate::routes::connection_specs::CONNECTION_SPECS;
use crate::routes::datasets::{DATASETS, canonical_dataset_id};
use crate::routes::documents::{self, Collection, ResourceType};
use crate::state::AppState;
use crate::tenant::Tenant;

pub const TARGET_CONNECTIONS: ResourceType = ResourceType {
    kind: ResourceKind::TargetConnection,
    collection: "targetConnections",
    noun: "target connection",
    sortable: &[
        "id",
        "name",
        "description",
        "state",
        "createdAt",
        "updatedAt",
    ],
    references: &REFERENCES,
    in_use: FlowErrorCode::StillReferenced,
    present: documents::as_stored,
};

/// The collection, for the shared list, read and delete routes.
pub struct TargetConnections;

impl Collection for TargetConnections {
    const TYPE: ResourceType = TARGET_CONNECTIONS;
}

/// Where other resources refer to a target connection.
const REFERENCES: [Reference; 1] = [Reference {
    kind: ResourceKind::Flow,
    field: "$.targetConnectionIds",
}];

/// A target connection stays bound to the data-lake connection spec.
const IMMUTABLE_FIELDS: [&str; 1] = ["connectionSpec"];

/// The `data.format` values the data lake accepts (the built-in spec's
/// `targetSpec.attributes.dataFormats`).
const TARGET_DATA_FORMATS: [&str; 2] = ["parquet_xdm", "json"];

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/targetConnections",
            get(documents::list_handler::<TargetConnections>).post(create),
        )
        .route(
            "/targetConnections/{id}",
            get(documents::read_handler::<TargetConnections>)
                .patch(patch)
                .delete(documents::delete_handler::<TargetConnections>),
        )
        .route(
            "/targetConnections/{id}/",
            get(documents::read_handler::<TargetConnections>)
                .patch(patch)
                .delete(documents::delete_handler::<TargetConnections>),
        )
}

/// Checks a target connection body (a create, or a patched document) and
/// returns what to store: the client's fields and `state`.
async fn validate_target_connection(
    state: &AppState,
    tenant: &Tenant,
    body: Value,
) -> Result<Value, ApiError> {
    let noun = TARGET_CONNECTIONS.noun;
    let mut body = client_instance_fields(body, noun)?;
    let mut problems = Vec::new();
    // The OAS requires only connectionSpec and data; a name is optional.
    optional_string(&body, "/name", &mut problems);
    optional_string(&body, "/description", &mut problems);
    let spec_id = required_string(&body, "/connectionSpec/id", &mut problems);
    if spec_id.is_some_and(|spec_id| spec_id != DATA_LAKE_CONNECTION_SPEC_ID) {
        problems.push(Problem::new(
            "/connectionSpec/id",
            format!("must be the data lake connection spec {DATA_LAKE_CONNECTION_SPEC_ID}"),
        ));
    }
    match body.pointer("/data/format") {
        Some(Value::String(format)) if TARGET_DATA_FORMATS.contains(&format.as_str()) => {}
        Some(_) => problems.push(Problem::new(
            "/data/format",
            format!("must be one of {}", TARGET_DATA_FORMATS.join(", ")),
        )),
        None => problems.push(Problem::new("/data/format", "is required")),
    }
    match body.pointer("/data/schema") {
        None => {}
        Some(Value::Object(_)) => {
            required_string(&body, "/data/schema/id", &mut problems);
            optional_string(&body, "/data/schema/version", &mut problems);
        }
        Some(_) => problems.push(Problem::new("/data/schema", "must be an object")),
    }
    let dataset_id = match body.get("params") {
        None => {
            problems.push(Problem::new("/params", "is required"));
            None
        }
        Some(Value::Object(_)) => required_string(&body, "/params/dataSetId", &mut problems),
        Some(_) => {
            problems.push(Problem::new("/params", "must be an object"));
            None
        }
    };
    let dataset_id = match dataset_id {
        Some(raw_id) => match canonical_dataset_id(raw_id) {
            Some(id) => Some(id),
            None => {
                problems.push(Problem::new(
                    "/params/dataSetId",
                    "must be a dataset id (24 hexadecimal characters)",
                ));
                None
            }
        },
        None => None,
    };
    if spec_id == Some(DATA_LAKE_CONNECTION_SPEC_ID)
        && state
            .store
            .get_resource(
                &tenant.scope,
                CONNECTION_SPECS.kind,
                DATA_LAKE_CONNECTION_SPEC_ID,
            )
            .await?
            .is_none()
    {
        return Err(FlowError::new(
            FlowErrorCode::InvalidSpecId,
            format!(
                "The data lake connection spec {DATA_LAKE_CONNECTION_SPEC_ID} does not exist in this sandbox."
            ),
        )
        .with_problems(vec![Problem::new(
            "/connectionSpec/id",
            "names no connection spec of this sandbox",
        )])
        .into());
    }
    if let Some(id) = &dataset_id {
        let exists = state
            .store
            .get_resource(&tenant.scope, DATASETS.kind, id)
            .await?
            .is_some();
        if exists {
            body["params"]["dataSetId"] = json!(id);
        } else {
            problems.push(Problem::new(
                "/params/dataSetId",
                "names no dataset of this sandbox",
            ));
        }
    }
    if !problems.is_empty() {
        return Err(invalid(noun, &body, problems));
    }
    body["state"] = json!("enabled");
    Ok(body)
}

async fn create(
    State(state): State<AppState>,
    tenant: Tenant,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let stored = validate_target_connection(&state, &tenant, body).await?;
    let id = uuid::Uuid::new_v4().to_string();
    documents::create_instance(&state, &tenant, TARGET_CONNECTIONS, &id, stored).await
}

async fn patch(
    State(state): State<AppState>,
    tenant: Tenant,
    PathId(id): PathId,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let pending = documents::begin_patch(
        &state,
        &tenant,
        TARGET_CONNECTIONS,
        &id,
        documents::if_match(&headers, query.as_deref()),
        &body,
        &IMMUTABLE_FIELDS,
    )
    .await?;
    let mut stored = validate_target_connection(&state, &tenant, pending.patched.clone()).await?;
    stored["state"] = pending.previous.body["state"].clone();
    documents::finish_patch(&state, &tenant, TARGET_CONNECTIONS, &id, &pending, stored).await
}
