//! `/flows`: dataflows (reference §8.4) tying one source connection to one target connection
//! under a flow spec, with a schedule; `POST /flows/{id}/action` enables and disables them.
//!
//! The body is resolved with `flowd_model::Flow` (exactly one source and one target
//! connection; `scheduleParams` parsed by the planner's own parser, within its range), then
//! checked against the flow spec: each connection's spec must be listed, and `scheduleParams`
//! must satisfy the flow spec's `scheduleSpec` JSON Schema after numeric and boolean strings
//! are coerced to the types it asks for (Adobe's own tutorials send `"startTime":
//! "1632809759"`); it is stored coerced. `Mapping` transformations must name a mapping set of
//! the sandbox, with a version it has, that writes the dataset's schema (`flow_mappings.rs`);
//! runs apply the version the flow pins (`flowd_scheduler::mapping`). Every write also writes the flow's schedule row,
//! so the planner finds the flow when it is due.

use std::collections::HashMap;

use crate::routing::Routes;
use crate::routing::post;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use flowd_model::{Flow, FlowState, ResourceKind};
use flowd_spec::Problem;
use flowd_store::{ReplaceOutcome, ResourceWrite, ScheduleWrite};
use futures::FutureExt;
use futures::future::BoxFuture;
use serde_json::{Value, json};

use crate::error::{ApiError, FlowError, FlowErrorCode, json_response};
use crate::path_id::PathId;
use crate::routes::actions::{lifecycle, parse_action};
use crate::routes::body_fields::{client_instance_fields, invalid, refuse_problems};
use crate::routes::collections::{FLOW_SPECS, FLOWS, ResourceType};
use crate::routes::documents::{Collection, Decorate};
use crate::routes::instances::{
    InstanceResource, Validated, Write, WriteContext, instance_routes, is_draft, new_etag,
};

/// The ops of `POST /flows/{id}/action`.
const FLOW_OPS: &[&str] = &[
    "ENABLE",
    "DISABLE",
    "PUBLISH",
    "FINALIZE",
    "FINALIZE_UPDATE",
];
use crate::routes::runs::details_of;
use crate::state::AppState;
use crate::tenant::Tenant;

/// The collection.
pub struct Flows;

impl Collection for Flows {
    const TYPE: ResourceType = FLOWS;
    const DECORATE: Option<Decorate> = Some(with_last_run_details);
}

pub fn routes() -> Routes {
    instance_routes::<Flows>()
        .merge(crate::routes::search::search_routes::<Flows>())
        .route("/flows/{id}/action", post(action))
}

/// Fills each flow's `lastRunDetails` from its latest run (one store query per page), its
/// `nextRunAtUTC` (`crate::flowd_api::next_run`), and the `inheritedAttributes.properties` of a
/// flow stored without them.
fn with_last_run_details<'a>(
    state: &'a AppState,
    tenant: &'a Tenant,
    flows: &'a mut [Value],
) -> BoxFuture<'a, Result<(), ApiError>> {
    async move {
        let ids: Vec<String> = flows
            .iter()
            .filter_map(|flow| flow.get("id").and_then(Value::as_str).map(str::to_owned))
            .collect();
        let latest: HashMap<String, Value> = state
            .store
            .latest_runs(&tenant.scope, &ids)
            .await?
            .iter()
            .map(|run| (run.flow_id.clone(), details_of(run)))
            .collect();
        for flow in flows.iter_mut() {
            // A flow stored before flowd kept them gets the properties every flow has.
            if let Some(inherited) = flow
                .get_mut("inheritedAttributes")
                .and_then(Value::as_object_mut)
                && !inherited.contains_key("properties")
            {
                inherited.insert("properties".into(), flow_properties(&Value::Null));
            }
            let details = flow
                .get("id")
                .and_then(Value::as_str)
                .and_then(|id| latest.get(id).cloned())
                .unwrap_or_else(|| json!({}));
            flow["lastRunDetails"] = details;
        }
        crate::flowd_api::next_run::add_next_runs(state, tenant, flows).await
    }
    .boxed()
}

/// Converts string values to the integer, number or boolean the schema's top-level
/// properties ask for, when they parse as such.
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
            // A whole number stays an integer (`"10"` reads back as `10`).
            Some("number") => text.parse::<i64>().ok().map(Value::from).or_else(|| {
                text.parse::<f64>()
                    .ok()
                    .and_then(|number| serde_json::Number::from_f64(number).map(Value::Number))
            }),
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

/// The highest `options.partialIngestionPercent`: a share of a run's records.
const MAX_PARTIAL_INGESTION_PERCENT: f64 = 100.0;

/// `options` (partial ingestion, error diagnostics) against the flow spec's `optionSpec`, after
/// the same coercion as `scheduleParams` (the docs PATCH `"10"`); `partialIngestionPercent` is a
/// percentage, so at most 100.
fn check_options(
    flow_spec: &Value,
    body: &mut Value,
    problems: &mut Vec<Problem>,
) -> Result<(), ApiError> {
    let Some(options) = body.get_mut("options") else {
        return Ok(());
    };
    if !options.is_object() {
        problems.push(Problem::new(
            "/options",
            "must be an object, e.g. {\"partialIngestionPercent\": 5}",
        ));
        return Ok(());
    }
    if let Some(option_spec) = flow_spec.pointer("/optionSpec/spec") {
        coerce_to_schema_types(options, option_spec);
        let validator = flowd_spec::compile_schema(option_spec).map_err(|error| {
            FlowError::new(
                FlowErrorCode::InvalidRequest,
                format!("The flow spec's optionSpec does not compile: {error}"),
            )
        })?;
        problems.extend(flowd_spec::schema_problems(&validator, options, "/options"));
    }
    if let Some(percent) = options
        .get("partialIngestionPercent")
        .and_then(Value::as_f64)
        && !(percent > 0.0 && percent <= MAX_PARTIAL_INGESTION_PERCENT)
        && !problems
            .iter()
            .any(|problem| problem.pointer == "/options/partialIngestionPercent")
    {
        problems.push(Problem::new(
            "/options/partialIngestionPercent",
            format!("must be a percentage above 0 and at most {MAX_PARTIAL_INGESTION_PERCENT}, not {percent}"),
        ));
    }
    Ok(())
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

/// The connection of `kind` at `pointer` exists and its spec is listed by the flow spec.
async fn check_connection(
    state: &AppState,
    tenant: &Tenant,
    flow_spec: &Value,
    (kind, id, pointer): (ResourceKind, &str, &str),
    problems: &mut Vec<Problem>,
) -> Result<Option<Value>, ApiError> {
    let (noun, field) = match kind {
        ResourceKind::SourceConnection => ("source connection", "sourceConnectionSpecIds"),
        _ => ("target connection", "targetConnectionSpecIds"),
    };
    let Some(stored) = state.store.get_resource(&tenant.scope, kind, id).await? else {
        problems.push(Problem::new(
            pointer,
            format!("{noun} {id} does not exist in this sandbox"),
        ));
        return Ok(None);
    };
    check_listed(flow_spec, field, &stored.body, pointer, problems);
    Ok(Some(stored.body))
}

fn last_operation(operation: &str, ops: Option<&Value>) -> Value {
    let now = flowd_model::time::now_millis();
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

/// The schedule row of `flow` in `state`: due no earlier than its `startTime` (the planner
/// computes the exact time from the end of the flow's last window).
fn schedule_write(flow: &Flow, state: FlowState) -> ScheduleWrite {
    ScheduleWrite {
        enabled: state == FlowState::Enabled,
        due_hint: flow
            .schedule
            .map(|schedule| schedule.start_time().as_millisecond()),
    }
}

impl InstanceResource for Flows {
    const IMMUTABLE_FIELDS: &'static [&'static str] = &["flowSpec"];
    const DRAFT_REQUIRED: &'static [&'static str] = &["flowSpec"];

    async fn validate(context: &WriteContext<'_>, body: Value) -> Result<Validated, ApiError> {
        let (state, tenant, id, write) = (context.state, context.tenant, context.id, context.write);
        if matches!(write, Write::Create) && body.get("state").is_some() {
            return Err(FlowError::new(
                FlowErrorCode::StateNotAllowed,
                "state is not allowed when creating a flow; use POST /flows/{id}/action?op=ENABLE|DISABLE.",
            )
            .into());
        }
        let mut body = client_instance_fields(body, "flow")?;
        crate::routes::schedule_problems::start_time_in_seconds(&mut body);
        let flow =
            Flow::from_document(&body).map_err(|problems| invalid("flow", &body, problems))?;
        let flow_spec = state
            .store
            .get_resource(&tenant.scope, FLOW_SPECS.kind, &flow.flow_spec.id)
            .await?
            .map(|stored| stored.body)
            .ok_or_else(|| {
                FlowError::new(
                    FlowErrorCode::InvalidSpecId,
                    format!(
                        "The flow spec {} does not exist in this sandbox.",
                        flow.flow_spec.id
                    ),
                )
                .with_problems(vec![Problem::new(
                    "/flowSpec/id",
                    "names no flow spec of this sandbox",
                )])
            })?;
        let mut problems = Vec::new();
        let source = check_connection(
            state,
            tenant,
            &flow_spec,
            (
                ResourceKind::SourceConnection,
                &flow.source_connection_id,
                "/sourceConnectionIds/0",
            ),
            &mut problems,
        )
        .await?;
        let target = check_connection(
            state,
            tenant,
            &flow_spec,
            (
                ResourceKind::TargetConnection,
                &flow.target_connection_id,
                "/targetConnectionIds/0",
            ),
            &mut problems,
        )
        .await?;
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
                    problems.extend(crate::routes::schedule_problems::schedule_problems(
                        &validator,
                        schedule_spec,
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
        check_options(&flow_spec, &mut body, &mut problems)?;
        refuse_problems("flow", &body, problems)?;
        let dataset_id = target
            .as_ref()
            .and_then(|target| target.pointer("/params/dataSetId"))
            .and_then(Value::as_str)
            .map(str::to_owned);
        let mut references = flow.references();
        if let Some(Value::Array(transformations)) = body.get_mut("transformations") {
            references.extend(
                crate::routes::flow_mappings::check_mappings(
                    state,
                    tenant,
                    transformations,
                    dataset_id.as_deref(),
                )
                .await?,
            );
        }
        body["sourceConnectionIds"] = json!([flow.source_connection_id]);
        body["targetConnectionIds"] = json!([flow.target_connection_id]);
        let source = source.unwrap_or_default();
        let base_connection = source
            .pointer("/inheritedAttributes/baseConnection")
            .cloned()
            .unwrap_or_else(|| {
                json!({"id": source.get("baseConnectionId"), "connectionSpec": source.get("connectionSpec")})
            });
        let target = target.unwrap_or_default();
        body["inheritedAttributes"] = json!({
            "properties": flow_properties(&flow_spec),
            "sourceConnections": [{
                "id": flow.source_connection_id,
                "connectionSpec": source.get("connectionSpec"),
                "baseConnection": base_connection,
            }],
            "targetConnections": [{
                "id": flow.target_connection_id,
                "connectionSpec": target.get("connectionSpec"),
            }],
        });
        let (flow_state, operation) = match write {
            Write::Create => (FlowState::Enabled, last_operation("create", None)),
            Write::Publish { .. } => (FlowState::Enabled, last_operation("publish", None)),
            Write::Patch {
                previous,
                instructions,
            } => {
                let previous_state = match previous.body.get("state").and_then(Value::as_str) {
                    Some("disabled") => FlowState::Disabled,
                    _ => FlowState::Enabled,
                };
                (previous_state, last_operation("update", Some(instructions)))
            }
        };
        body["state"] = json!(flow_state.as_str());
        body["lastOperation"] = operation;
        body["runs"] = json!(format!("/runs?property=flowId=={id}"));
        body["lastRunDetails"] = json!({});
        Ok(Validated {
            document: body,
            references,
            schedule: Some(schedule_write(&flow, flow_state)),
        })
    }
}

/// `inheritedAttributes.properties` of a flow, which clients filter on
/// (`property=inheritedAttributes.properties.isSourceFlow==true`): a flowd flow reads a source
/// into a dataset, so it is a source flow and not a destination flow; the flow spec's own
/// `attributes` of that kind (`isSourceFlow`, `isDestinationFlow`, `frequency`,
/// `flacValidationSupported`) come on top.
fn flow_properties(flow_spec: &Value) -> Value {
    let mut properties = serde_json::Map::new();
    properties.insert("isSourceFlow".into(), json!(true));
    properties.insert("isDestinationFlow".into(), json!(false));
    if let Some(attributes) = flow_spec.get("attributes").and_then(Value::as_object) {
        for name in [
            "isSourceFlow",
            "isDestinationFlow",
            "frequency",
            "flacValidationSupported",
        ] {
            if let Some(value) = attributes.get(name) {
                properties.insert(name.into(), value.clone());
            }
        }
    }
    Value::Object(properties)
}

/// `POST /flows/{id}/action?op=ENABLE|DISABLE|PUBLISH|FINALIZE|FINALIZE_UPDATE`: 200
/// `{"id", "etag"}`. A draft is published, not enabled.
async fn action(
    State(state): State<AppState>,
    tenant: Tenant,
    PathId(id): PathId,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let action = parse_action(query.as_deref(), FLOW_OPS, FLOWS.noun)?;
    let (new_state, operation) = match action.op.as_str() {
        "ENABLE" => (FlowState::Enabled, "enable"),
        "DISABLE" => (FlowState::Disabled, "disable"),
        _ => return lifecycle::<Flows>(&state, &tenant, &id, &action).await,
    };
    for _attempt in 0..8 {
        let stored = state
            .store
            .get_resource(&tenant.scope, FLOWS.kind, &id)
            .await?
            .ok_or_else(|| FlowError::not_found(FLOWS.collection, &id))?;
        if is_draft(&stored.body) {
            return Err(FlowError::new(
                FlowErrorCode::NotApplicableInState,
                format!("Operation not applicable in current state: the flow {id} is a draft; publish it with op=PUBLISH."),
            )
            .into());
        }
        let mut flow = stored.body.clone();
        let etag = new_etag();
        let stamp = tenant.stamp();
        flow["state"] = json!(new_state.as_str());
        flow["etag"] = json!(etag);
        flow["version"] = json!(etag);
        flow["updatedAt"] = json!(stamp.at);
        flow["updatedBy"] = json!(tenant.principal_id);
        flow["updatedClient"] = json!(tenant.client_id);
        flow["lastOperation"] = last_operation(operation, None);
        // A flow stored by an older flowd that no longer resolves is not scheduled.
        let schedule = match Flow::from_document(&stored.body) {
            Ok(parsed) => schedule_write(&parsed, new_state),
            Err(_) => ScheduleWrite {
                enabled: new_state == FlowState::Enabled,
                due_hint: None,
            },
        };
        let write = ResourceWrite {
            references: None,
            schedule: Some(schedule),
            ..ResourceWrite::document(&flow)
        };
        match state
            .store
            .replace_resource(&tenant.scope, FLOWS.kind, &id, write, Some(stored.revision))
            .await?
        {
            ReplaceOutcome::Replaced(_) => {
                tracing::info!(flow_id = %id, state = new_state.as_str(), "flow state changed");
                return Ok(json_response(
                    StatusCode::OK,
                    json!({"id": id, "etag": etag}),
                ));
            }
            ReplaceOutcome::NotFound => break,
            ReplaceOutcome::RevisionMismatch { .. } => continue,
        }
    }
    Err(FlowError::not_found(FLOWS.collection, &id).into())
}
