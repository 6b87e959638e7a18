//! `/flows`: dataflows (reference §8.4) tying source connections to target
//! connections under a flow spec, with a schedule; `POST /flows/{id}/action`
//! enables and disables them.
//!
//! `scheduleParams` is checked against the flow spec's `scheduleSpec` JSON
//! Schema after numeric and boolean strings are coerced to the types the
//! schema asks for (Adobe's own tutorials send `"startTime": "1632809759"`),
//! and is stored coerced. `transformations` (Data Prep mappings) are kept as
//! given: mapping is not applied by flowd.

use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use flowd_spec::Problem;
use flowd_store::{ResourceKind, StoredResource};
use serde_json::{Value, json};

use crate::body::JsonBody;
use crate::error::{ApiError, FlowError, FlowErrorCode, json_response};
use crate::listing::ListQuery;
use crate::metadata::now_millis;
use crate::path_id::PathId;
use crate::routes::body_fields::client_instance_fields;
use crate::routes::documents::{self, Collection, ResourceType};
use crate::routes::flow_specs::FLOW_SPECS;
use crate::routes::runs;
use crate::state::AppState;
use crate::tenant::Tenant;

pub const FLOWS: ResourceType = ResourceType {
    kind: ResourceKind::Flow,
    collection: "flows",
    noun: "flow",
    sortable: &[
        "id",
        "name",
        "description",
        "state",
        "createdAt",
        "updatedAt",
    ],
    references: &[],
    in_use: FlowErrorCode::StillReferenced,
    present: documents::as_stored,
};

/// The collection, for the shared list, read and delete routes.
pub struct Flows;

impl Collection for Flows {
    const TYPE: ResourceType = FLOWS;
}

/// Fields of a flow that PATCH may not change besides the server's own.
const FLOW_IMMUTABLE_FIELDS: &[&str] = &["flowSpec"];

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/flows", get(list).post(create))
        .route(
            "/flows/{id}",
            get(read)
                .patch(patch)
                .delete(documents::delete_handler::<Flows>),
        )
        .route("/flows/{id}/action", post(action))
}

/// `GET /flows`: the shared list, each flow's `lastRunDetails` following its
/// latest run.
async fn list(
    State(state): State<AppState>,
    tenant: Tenant,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let query = ListQuery::parse(query.as_deref(), FLOWS.sortable)?;
    let mut last_runs = runs::last_run_details_by_flow(&state, &tenant.scope).await?;
    let flows = state
        .store
        .list_resources(&tenant.scope, FLOWS.kind)
        .await?
        .into_iter()
        .map(|stored| {
            let mut flow = stored.body;
            flow["lastRunDetails"] = last_runs.remove(&stored.id).unwrap_or_else(|| json!({}));
            (stored.position, flow)
        })
        .collect();
    Ok(json_response(
        StatusCode::OK,
        query.respond(flows, &format!("/{}", FLOWS.collection)),
    ))
}

/// `GET /flows/{id}`: `{"items": [flow]}` with `lastRunDetails` following
/// its latest run.
async fn read(
    State(state): State<AppState>,
    tenant: Tenant,
    PathId(id): PathId,
) -> Result<Response, ApiError> {
    let mut flow = documents::load(&state, &tenant, FLOWS, &id).await?;
    flow["lastRunDetails"] = runs::last_run_details(&state, &tenant.scope, &id).await?;
    Ok(json_response(StatusCode::OK, json!({ "items": [flow] })))
}

/// Converts string values to the integer, number or boolean the schema's
/// top-level properties ask for, when they parse as such.
pub fn coerce_to_schema_types(value: &mut Value, schema: &Value) {
    let (Some(members), Some(properties)) = (
        value.as_object_mut(),
        schema.get("properties").and_then(Value::as_object),
    ) else {
        return;
    };
    for (name, member) in members.iter_mut() {
        let Some(text) = member.as_str().map(str::trim) else {
            continue;
        };
        let wanted = properties
            .get(name)
            .and_then(|property| property.get("type"))
            .and_then(Value::as_str);
        let coerced = match wanted {
            Some("integer") => text.parse::<i64>().ok().map(Value::from),
            Some("number") => text
                .parse::<f64>()
                .ok()
                .and_then(|number| serde_json::Number::from_f64(number).map(Value::Number)),
            Some("boolean") => match text {
                "true" => Some(Value::Bool(true)),
                "false" => Some(Value::Bool(false)),
                _ => None,
            },
            _ => None,
        };
        if let Some(coerced) = coerced {
            *member = coerced;
        }
    }
}

fn id_list<'a>(body: &'a Value, field: &str, problems: &mut Vec<Problem>) -> Vec<(usize, &'a str)> {
    match body.get(field) {
        None => {
            problems.push(Problem::new(format!("/{field}"), "is required"));
            Vec::new()
        }
        Some(Value::Array(ids)) if !ids.is_empty() => ids
            .iter()
            .enumerate()
            .filter_map(|(index, id)| match id.as_str() {
                Some(id) => Some((index, id)),
                None => {
                    problems.push(Problem::new(
                        format!("/{field}/{index}"),
                        "must be a string",
                    ));
                    None
                }
            })
            .collect(),
        Some(_) => {
            problems.push(Problem::new(
                format!("/{field}"),
                "must be a non-empty array of connection ids",
            ));
            Vec::new()
        }
    }
}

/// Checks a flow body against its flow spec and connections; returns the
/// document to store (schedule coerced, inherited attributes filled).
async fn validate_flow(state: &AppState, tenant: &Tenant, body: Value) -> Result<Value, ApiError> {
    let mut body = client_instance_fields(body, "flow")?;
    if let Some(fields) = body.as_object_mut() {
        for computed in ["lastOperation", "lastRunDetails", "runs"] {
            fields.shift_remove(computed);
        }
    }
    let mut problems = Vec::new();
    if body
        .get("name")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty)
    {
        problems.push(Problem::new("/name", "is required (a non-empty string)"));
    }
    let flow_spec_id = body
        .pointer("/flowSpec/id")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    if flow_spec_id.is_empty() {
        problems.push(Problem::new("/flowSpec/id", "is required"));
    }
    let sources: Vec<(usize, String)> = id_list(&body, "sourceConnectionIds", &mut problems)
        .into_iter()
        .map(|(index, id)| (index, id.to_owned()))
        .collect();
    let targets: Vec<(usize, String)> = id_list(&body, "targetConnectionIds", &mut problems)
        .into_iter()
        .map(|(index, id)| (index, id.to_owned()))
        .collect();
    if let Some(transformations) = body.get("transformations")
        && !transformations.is_array()
    {
        problems.push(Problem::new("/transformations", "must be an array"));
    }
    if !problems.is_empty() {
        return Err(FlowError::invalid_body("flow", problems).into());
    }
    let flow_spec = state
        .store
        .get_resource(&tenant.scope, FLOW_SPECS.kind, &flow_spec_id)
        .await?
        .map(|stored| stored.body)
        .ok_or_else(|| {
            FlowError::new(
                FlowErrorCode::InvalidSpecId,
                format!("The flow spec {flow_spec_id} does not exist in this sandbox."),
            )
            .with_problems(vec![Problem::new(
                "/flowSpec/id",
                "names no flow spec of this sandbox",
            )])
        })?;
    let mut inherited_sources = Vec::new();
    for (index, id) in &sources {
        let pointer = format!("/sourceConnectionIds/{index}");
        let Some(source) = load(state, tenant, ResourceKind::SourceConnection, id).await? else {
            problems.push(Problem::new(
                pointer,
                format!("source connection {id} does not exist in this sandbox"),
            ));
            continue;
        };
        check_listed(
            &flow_spec,
            "sourceConnectionSpecIds",
            &source.body,
            &pointer,
            &mut problems,
        );
        let base_connection = source.body.pointer("/inheritedAttributes/baseConnection").cloned().unwrap_or_else(|| {
            json!({"id": source.body.get("baseConnectionId"), "connectionSpec": source.body.get("connectionSpec")})
        });
        inherited_sources.push(json!({
            "id": id,
            "connectionSpec": source.body.get("connectionSpec"),
            "baseConnection": base_connection,
        }));
    }
    let mut inherited_targets = Vec::new();
    for (index, id) in &targets {
        let pointer = format!("/targetConnectionIds/{index}");
        let Some(target) = load(state, tenant, ResourceKind::TargetConnection, id).await? else {
            problems.push(Problem::new(
                pointer,
                format!("target connection {id} does not exist in this sandbox"),
            ));
            continue;
        };
        check_listed(
            &flow_spec,
            "targetConnectionSpecIds",
            &target.body,
            &pointer,
            &mut problems,
        );
        inherited_targets
            .push(json!({"id": id, "connectionSpec": target.body.get("connectionSpec")}));
    }
    if let Some(schedule_spec) = flow_spec.pointer("/scheduleSpec/spec") {
        match body.get_mut("scheduleParams") {
            Some(schedule) => {
                coerce_to_schema_types(schedule, schedule_spec);
                let validator = flowd_spec::compile_schema(schedule_spec).map_err(|error| {
                    FlowError::new(
                        FlowErrorCode::InvalidRequest,
                        format!("The flow spec's scheduleSpec does not compile: {error}"),
                    )
                })?;
                problems.extend(flowd_spec::schema_problems(
                    &validator,
                    schedule,
                    "/scheduleParams",
                ));
            }
            None => problems.push(Problem::new(
                "/scheduleParams",
                "is required by the flow spec's scheduleSpec",
            )),
        }
    }
    if !problems.is_empty() {
        return Err(FlowError::invalid_body("flow", problems).into());
    }
    body["inheritedAttributes"] = json!({
        "sourceConnections": inherited_sources,
        "targetConnections": inherited_targets,
    });
    Ok(body)
}

async fn load(
    state: &AppState,
    tenant: &Tenant,
    kind: ResourceKind,
    id: &str,
) -> Result<Option<StoredResource>, ApiError> {
    Ok(state.store.get_resource(&tenant.scope, kind, id).await?)
}

/// A connection's spec must be listed by the flow spec under `field`.
fn check_listed(
    flow_spec: &Value,
    field: &str,
    connection: &Value,
    pointer: &str,
    problems: &mut Vec<Problem>,
) {
    let spec_id = connection
        .pointer("/connectionSpec/id")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let listed = flow_spec
        .get(field)
        .and_then(Value::as_array)
        .is_some_and(|ids| ids.iter().any(|listed| listed.as_str() == Some(spec_id)));
    if !listed {
        let flow_spec_name = flow_spec
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("the flow spec");
        problems.push(Problem::new(
            pointer,
            format!("its connection spec {spec_id} is not in {field} of {flow_spec_name}; add it with PUT /flowSpecs/{{id}}"),
        ));
    }
}

fn last_operation(operation: &str, ops: Option<&Value>) -> Value {
    let now = now_millis();
    let mut last = json!({
        "started": now,
        "updated": now,
        "percentCompleted": 100,
        "status": {"value": "completed", "errors": []},
        "operation": operation,
    });
    if let Some(ops) = ops {
        last["ops"] = ops.clone();
    }
    last
}

fn with_server_views(mut flow: Value, id: &str, previous: Option<&Value>) -> Value {
    flow["runs"] = json!(format!("/runs?property=flowId=={id}"));
    flow["lastRunDetails"] = previous
        .and_then(|previous| previous.get("lastRunDetails"))
        .cloned()
        .unwrap_or_else(|| json!({}));
    flow
}

async fn create(
    State(state): State<AppState>,
    tenant: Tenant,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    if body.get("state").is_some() {
        return Err(FlowError::new(
            FlowErrorCode::StateNotAllowed,
            "state is not allowed when creating a flow; use POST /flows/{id}/action?op=ENABLE|DISABLE.",
        )
        .into());
    }
    let id = uuid::Uuid::new_v4().to_string();
    let mut flow = validate_flow(&state, &tenant, body).await?;
    flow["state"] = json!("enabled");
    flow["lastOperation"] = last_operation("create", None);
    let flow = with_server_views(flow, &id, None);
    documents::create_instance(&state, &tenant, FLOWS, &id, flow).await
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
        FLOWS,
        &id,
        documents::if_match(&headers, query.as_deref()),
        &body,
        FLOW_IMMUTABLE_FIELDS,
    )
    .await?;
    let mut flow = validate_flow(&state, &tenant, pending.patched.clone()).await?;
    flow["state"] = pending.previous.body["state"].clone();
    flow["lastOperation"] = last_operation("update", Some(&body));
    let flow = with_server_views(flow, &id, Some(&pending.previous.body));
    documents::finish_patch(&state, &tenant, FLOWS, &id, &pending, flow).await
}

/// `POST /flows/{id}/action?op=ENABLE|DISABLE`: 200 `{"id", "etag"}`.
async fn action(
    State(state): State<AppState>,
    tenant: Tenant,
    PathId(id): PathId,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let op = form_urlencoded::parse(query.as_deref().unwrap_or_default().as_bytes())
        .find(|(name, _)| name == "op")
        .map(|(_, value)| value.to_ascii_uppercase());
    let new_state = match op.as_deref() {
        Some("ENABLE") => "enabled",
        Some("DISABLE") => "disabled",
        other => {
            return Err(FlowError::new(
                FlowErrorCode::InvalidRequest,
                format!(
                    "op {} is not supported on flows; use op=ENABLE or op=DISABLE.",
                    other.unwrap_or("(missing)")
                ),
            )
            .into());
        }
    };
    for _attempt in 0..8 {
        let stored = load(&state, &tenant, FLOWS.kind, &id)
            .await?
            .ok_or_else(|| FlowError::not_found(FLOWS.collection, &id))?;
        let mut flow = stored.body.clone();
        let etag = documents::new_etag();
        flow["state"] = json!(new_state);
        flow["etag"] = json!(etag);
        flow["version"] = json!(etag);
        flow["updatedAt"] = json!(now_millis());
        flow["updatedBy"] = json!(tenant.principal_id);
        flow["updatedClient"] = json!(tenant.client_id);
        flow["lastOperation"] = last_operation(
            if new_state == "enabled" {
                "enable"
            } else {
                "disable"
            },
            None,
        );
        match state
            .store
            .replace_resource(&tenant.scope, FLOWS.kind, &id, &flow, Some(stored.revision))
            .await?
        {
            flowd_store::ReplaceOutcome::Replaced(_) => {
                tracing::info!(flow_id = %id, state = new_state, "flow state changed");
                return Ok(json_response(
                    StatusCode::OK,
                    json!({"id": id, "etag": etag}),
                ));
            }
            flowd_store::ReplaceOutcome::NotFound => break,
            flowd_store::ReplaceOutcome::RevisionMismatch { .. } => continue,
        }
    }
    Err(FlowError::not_found(FLOWS.collection, &id).into())
}
