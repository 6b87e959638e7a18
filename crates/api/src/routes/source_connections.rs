//! `/sourceConnections` (reference §8.2): what to read from a base
//! connection — its `params` are validated against the connection spec's
//! `sourceSpec.spec` (and, for template-shaped specs, resolved into a fetch
//! configuration), `data.format` is `json`, and the base connection must
//! use the same connection spec. Items carry
//! `inheritedAttributes.baseConnection`, computed when stored.

use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use flowd_spec::{Problem, SourceShape};
use flowd_store::{Reference, ResourceKind};
use serde_json::{Map, Value, json};

use crate::body::JsonBody;
use crate::error::{ApiError, FlowError, FlowErrorCode};
use crate::path_id::PathId;
use crate::routes::body_fields::{
    canonical_uuid, client_instance_fields, invalid, optional_string, required_string,
};
use crate::routes::connection_specs::CONNECTION_SPECS;
use crate::routes::connections::CONNECTIONS;
use crate::routes::documents::{self, Collection, ResourceType};
use crate::state::AppState;
use crate::tenant::Tenant;

pub const SOURCE_CONNECTIONS: ResourceType = ResourceType {
    kind: ResourceKind::SourceConnection,
    collection: "sourceConnections",
    noun: "source connection",
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
pub struct SourceConnections;

impl Collection for SourceConnections {
    const TYPE: ResourceType = SOURCE_CONNECTIONS;
}

/// Where other resources refer to a source connection.
const REFERENCES: [Reference; 1] = [Reference {
    kind: ResourceKind::Flow,
    field: "$.sourceConnectionIds",
}];

/// Fields a PATCH may not touch: a source connection stays bound to its
/// base connection and connection spec.
const IMMUTABLE_FIELDS: [&str; 2] = ["baseConnectionId", "connectionSpec"];

/// The only `data.format` of generic-rest sources (reference §8.2).
const SOURCE_DATA_FORMAT: &str = "json";

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/sourceConnections",
            get(documents::list_handler::<SourceConnections>).post(create),
        )
        .route(
            "/sourceConnections/{id}",
            get(documents::read_handler::<SourceConnections>)
                .patch(patch)
                .delete(documents::delete_handler::<SourceConnections>),
        )
        .route(
            "/sourceConnections/{id}/",
            get(documents::read_handler::<SourceConnections>)
                .patch(patch)
                .delete(documents::delete_handler::<SourceConnections>),
        )
}

/// Checks a source connection body (a create, or a patched document) and
/// returns what to store: the client's fields, `state` and
/// `inheritedAttributes`.
async fn validate_source_connection(
    state: &AppState,
    tenant: &Tenant,
    body: Value,
) -> Result<Value, ApiError> {
    let noun = SOURCE_CONNECTIONS.noun;
    let mut body = client_instance_fields(body, noun)?;
    let mut problems = Vec::new();
    required_string(&body, "/name", &mut problems);
    optional_string(&body, "/description", &mut problems);
    let base_connection_id =
        required_string(&body, "/baseConnectionId", &mut problems).map(str::to_owned);
    let spec_id = required_string(&body, "/connectionSpec/id", &mut problems).map(str::to_owned);
    match body.pointer("/data/format") {
        Some(Value::String(format)) if format == SOURCE_DATA_FORMAT => {}
        Some(_) => problems.push(Problem::new(
            "/data/format",
            "must be \"json\", the only format of generic-rest sources",
        )),
        None => problems.push(Problem::new("/data/format", "is required")),
    }
    let params = match body.get("params") {
        None => Some(Value::Object(Map::new())),
        Some(params @ Value::Object(_)) => Some(params.clone()),
        Some(_) => {
            problems.push(Problem::new("/params", "must be an object"));
            None
        }
    };

    let connection_spec = match &spec_id {
        Some(spec_id) => Some(
            state
                .store
                .get_resource(&tenant.scope, CONNECTION_SPECS.kind, spec_id)
                .await?
                .ok_or_else(|| unknown_connection_spec(spec_id))?
                .body,
        ),
        None => None,
    };

    let mut base_connection = None;
    if let Some(raw_id) = &base_connection_id {
        let found = match canonical_uuid(raw_id) {
            Some(id) => state
                .store
                .get_resource(&tenant.scope, CONNECTIONS.kind, &id)
                .await?
                .map(|stored| (id, stored.body)),
            None => None,
        };
        match found {
            None => problems.push(Problem::new(
                "/baseConnectionId",
                "names no base connection of this sandbox",
            )),
            Some((id, connection)) => {
                let base_spec = connection
                    .get("connectionSpec")
                    .cloned()
                    .unwrap_or_default();
                let base_spec_id = base_spec.get("id").and_then(Value::as_str);
                if let Some(spec_id) = &spec_id
                    && base_spec_id != Some(spec_id.as_str())
                {
                    problems.push(Problem::new(
                        "/connectionSpec/id",
                        format!(
                            "must be the connection spec of the base connection ({})",
                            base_spec_id.unwrap_or_default()
                        ),
                    ));
                }
                base_connection = Some((id, base_spec));
            }
        }
    }

    if let (Some(connection_spec), Some(params)) = (&connection_spec, &params) {
        problems.extend(source_params_problems(connection_spec, params)?);
    }
    if !problems.is_empty() {
        return Err(invalid(noun, &body, problems));
    }

    body["state"] = json!("enabled");
    if let Some((id, base_spec)) = base_connection {
        body["baseConnectionId"] = json!(id);
        body["inheritedAttributes"] = json!({
            "baseConnection": {
                "id": id,
                "connectionSpec": {"id": base_spec.get("id"), "version": base_spec.get("version")},
            }
        });
    }
    Ok(body)
}

fn unknown_connection_spec(spec_id: &str) -> ApiError {
    FlowError::new(
        FlowErrorCode::InvalidSpecId,
        format!("The connection spec {spec_id} does not exist in this sandbox."),
    )
    .with_problems(vec![Problem::new(
        "/connectionSpec/id",
        "names no connection spec of this sandbox",
    )])
    .into()
}

/// Every problem of `params` (pointers under `/params`): against the
/// spec's source params schema, then, for template-shaped specs, as the
/// fetch configuration they carry. A fetch-configuration problem at a
/// pointer the schema already reported is left out.
fn source_params_problems(
    connection_spec: &Value,
    params: &Value,
) -> Result<Vec<Problem>, ApiError> {
    let shape = flowd_spec::source_shape(connection_spec);
    let mut schema_pointers = vec!["/sourceSpec/spec".to_owned()];
    if let SourceShape::GenericTemplate {
        fetch_config_schema_pointer,
    } = &shape
        && !schema_pointers.contains(fetch_config_schema_pointer)
    {
        schema_pointers.push(fetch_config_schema_pointer.clone());
    }
    let mut problems = Vec::new();
    for schema_pointer in &schema_pointers {
        let Some(schema) = connection_spec.pointer(schema_pointer) else {
            continue;
        };
        let validator = flowd_spec::compile_schema(schema).map_err(|error| {
            FlowError::new(
                FlowErrorCode::InvalidRequest,
                format!("The connection spec's {schema_pointer} schema does not compile: {error}"),
            )
        })?;
        problems.extend(flowd_spec::schema_problems(&validator, params, "/params"));
    }
    if matches!(shape, SourceShape::GenericTemplate { .. })
        && let Err(fetch_config_problems) =
            flowd_spec::resolve_source_fetch_config(connection_spec, params)
    {
        let reported: Vec<String> = problems
            .iter()
            .map(|problem| problem.pointer.clone())
            .collect();
        problems.extend(
            fetch_config_problems
                .into_iter()
                .filter(|problem| !reported.contains(&problem.pointer)),
        );
    }
    Ok(problems)
}

async fn create(
    State(state): State<AppState>,
    tenant: Tenant,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let stored = validate_source_connection(&state, &tenant, body).await?;
    let id = uuid::Uuid::new_v4().to_string();
    documents::create_instance(&state, &tenant, SOURCE_CONNECTIONS, &id, stored).await
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
        SOURCE_CONNECTIONS,
        &id,
        documents::if_match(&headers, query.as_deref()),
        &body,
        &IMMUTABLE_FIELDS,
    )
    .await?;
    let mut stored = validate_source_connection(&state, &tenant, pending.patched.clone()).await?;
    stored["state"] = pending.previous.body["state"].clone();
    documents::finish_patch(&state, &tenant, SOURCE_CONNECTIONS, &id, &pending, stored).await
}
