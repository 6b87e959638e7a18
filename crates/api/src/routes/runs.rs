//! `/runs`: dataflow runs (reference §8.5). `POST /runs` enqueues an ad hoc
//! run over a window, `GET /runs[/{id}]` shows runs with AEP's run shape and
//! `POST /runs/{id}/action?op=RE_TRIGGER` puts a failed or successful run back in the queue;
//! `PUT /runs/{id}` (the provider-side update) checks a run written back.
//! A flow's `lastRunDetails` is presented here too ([`details_of`]).
//!
//! Runs live in the store's run queue ([`RunRecord`]), not among the JSON
//! documents: status, window, attempts, trigger, who created it, the last
//! attempt's metrics (the records rejected by its promotion among them) and error are typed
//! columns. [`present_run`] (in `run_shape`) is the one place turning a record into AEP's
//! wire shape (`durationSummary`, `recordSummary` with `failedRecordCount`, `statusSummary`,
//! `activities` with its `Copy Activity` and `Promotion Activity`).
//!
//! Decisions where the reference is silent:
//! - `POST /runs` answers 201 with the full run (the docs' shape; it carries
//!   the OAS's `id` and `etag` too) and a `Location` header.
//! - Window times are RFC 3339 instants or epoch seconds on the wire (numbers or numeric
//!   strings), read by `flowd_model::time::parse_instant`, the parser of the command line's
//!   `--window` too; a number that looks like milliseconds is refused with a hint.
//!   `windowStartTime` may be absent (from the beginning of time). Runs show epoch seconds;
//!   the store holds epoch milliseconds. The window is half-open `[start, end)`.
//! - Any flow of the sandbox takes ad hoc runs, whatever its schedule or
//!   state: the run is an explicit request.
//! - An ad hoc window that overlaps the window of any run of the flow (pending, running,
//!   successful or failed) is `1409-400` ("not applicable in current state": the request is
//!   well formed, the flow's run history refuses it), naming that run in the message and in
//!   `report.runId`: re-triggering it is the way to run its window again, so nothing is
//!   fetched twice. The flow's schedule, for its part, steps around ad hoc windows (see the
//!   planner). A draft flow takes no run.
//! - The `etag` (and `version`) is a digest of status, attempts, due time,
//!   last change and outcome, so it changes whenever the run does.
//! - `op` matches in any case and with `-` or `_` (`re-trigger`, as in the retry tutorial, or
//!   `RE_TRIGGER`). RE_TRIGGER keeps the window and the last attempt's metrics and errors
//!   (visible until the next outcome replaces them) and gives the run a fresh retry budget
//!   (attempts back to 0). A failed run is retried; a successful one runs its window again
//!   and its new batch replaces the old one in place (same batch id, swapped in one rename),
//!   so the dataset never holds the window twice. Only a pending or running run is refused
//!   (`1409-400`). The answer is the run, with the `id` and `etag` the tutorial reads.

use crate::routing::Routes;
use crate::routing::{get, post};
use axum::extract::{RawQuery, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use flowd_model::RunTrigger;
use flowd_spec::Problem;
use flowd_store::{NewRun, RunFilter, RunRecord, RunStatus, StoreError};
use serde_json::{Value, json};

use crate::body::JsonBody;
use crate::error::{ApiError, FlowError, FlowErrorCode, json_response};
use crate::listing::{IndexedFields, ListQuery};
use crate::path_id::PathId;
use crate::routes::collections::FLOWS;
use crate::state::AppState;
use crate::tenant::Tenant;

pub use super::run_shape::{details_of, present_run};

/// The collection's path segment, also `report.type` of its 404s.
const COLLECTION: &str = "runs";

/// Fields `orderby` accepts on `GET /runs`.
const SORTABLE: &[&str] = &["createdAt", "id", "flowId"];

/// The fields of runs the store filters and orders by.
const RUN_INDEXED_FIELDS: IndexedFields = &[
    ("id", flowd_store::IndexedField::Id),
    ("flowId", flowd_store::IndexedField::FlowId),
    ("createdAt", flowd_store::IndexedField::CreatedAt),
];

pub fn routes() -> Routes {
    Routes::new()
        .route("/runs", get(list).post(create))
        .route("/runs/{id}", get(read).put(update))
        .route("/runs/{id}/action", post(action))
}

fn run_not_found(id: &str) -> ApiError {
    FlowError::not_found(COLLECTION, id).into()
}

async fn load_run(state: &AppState, tenant: &Tenant, id: &str) -> Result<RunRecord, ApiError> {
    state
        .store
        .get_run(&tenant.scope, id)
        .await?
        .ok_or_else(|| run_not_found(id))
}

fn seconds(millis: Option<i64>) -> String {
    millis.map_or_else(
        || "the beginning of time".to_owned(),
        |millis| millis.div_euclid(1000).to_string(),
    )
}

/// `1409-400` for an ad hoc window that overlaps a run of the flow (whatever its status: a
/// failed one is redone by re-triggering it): nothing is fetched twice.
fn window_taken(flow_id: &str, (start, end): (Option<i64>, i64), existing: &RunRecord) -> ApiError {
    let window = format!("[{}, {})", seconds(start), end.div_euclid(1000));
    let mut error = FlowError::new(
        FlowErrorCode::NotApplicableInState,
        format!(
            "A run for this window cannot be created: the window {window} overlaps run {} of flow {flow_id} ({}, window [{}, {})); re-trigger that run to run its window again.",
            existing.id,
            existing.status.as_str(),
            seconds(existing.window_start),
            existing.window_end.div_euclid(1000),
        ),
    );
    error.report.insert("runId".into(), json!(existing.id));
    error = error.with_problems(vec![Problem::new(
        "/params",
        "the window overlaps another run of the flow",
    )]);
    error.into()
}

/// `POST /runs`: `{"flowId", "params": {"windowStartTime"?, "windowEndTime"}}` → 201 with
/// the run.
async fn create(
    State(state): State<AppState>,
    tenant: Tenant,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let mut problems = Vec::new();
    let flow_id = match body.get("flowId") {
        Some(Value::String(id)) if !id.trim().is_empty() => Some(id.trim().to_owned()),
        None | Some(Value::Null) => {
            problems.push(Problem::new("/flowId", "is required"));
            None
        }
        Some(_) => {
            problems.push(Problem::new("/flowId", "must be a flow id (a string)"));
            None
        }
    };
    let window = match body.get("params") {
        None | Some(Value::Null) => {
            problems.push(Problem::new(
                "/params",
                "is required ({\"windowStartTime\", \"windowEndTime\"} as RFC 3339 instants or epoch seconds)",
            ));
            None
        }
        Some(params) => match flowd_model::adhoc_window(params) {
            Ok(window) => Some(window),
            Err(error) => {
                problems.extend(error.problems().iter().map(|problem| {
                    Problem::new(format!("/params{}", problem.pointer), &problem.message)
                }));
                None
            }
        },
    };
    let (Some(flow_id), Some((start, end))) = (flow_id, window) else {
        return Err(FlowError::invalid_body("run", problems).into());
    };
    // Flow ids are stored canonical (lowercase hyphenated UUIDs).
    let flow_id = flowd_model::ids::canonical_uuid(&flow_id).unwrap_or(flow_id);
    let Some(stored_flow) = state
        .store
        .get_resource(&tenant.scope, FLOWS.kind, &flow_id)
        .await?
    else {
        let mut error = FlowError::new(
            FlowErrorCode::FlowNotFound,
            format!("The flow {flow_id} does not exist in this sandbox."),
        )
        .with_problems(vec![Problem::new(
            "/flowId",
            "names no flow of this sandbox",
        )]);
        error.report.insert("id".into(), json!(flow_id));
        error.report.insert("type".into(), json!(FLOWS.collection));
        return Err(error.into());
    };
    if crate::routes::instances::is_draft(&stored_flow.body) {
        return Err(FlowError::new(
            FlowErrorCode::NotApplicableInState,
            format!("Operation not applicable in current state: the flow {flow_id} is a draft; publish it with POST /flows/{flow_id}/action?op=PUBLISH before running it."),
        )
        .into());
    }
    let window_end = end.as_millisecond();
    let window_start = start.map(|start| start.as_millisecond());
    if let Some(existing) = state
        .store
        .find_overlapping_run(&tenant.scope, &flow_id, window_start, window_end)
        .await?
    {
        return Err(window_taken(
            &flow_id,
            (window_start, window_end),
            &existing,
        ));
    }
    let id = flowd_model::ids::new_resource_id();
    let now = flowd_model::time::now_millis();
    let run = NewRun {
        id: id.clone(),
        scope: tenant.scope.clone(),
        flow_id: flow_id.clone(),
        trigger: RunTrigger::Adhoc,
        window_start,
        window_end,
        scheduled_at: now,
        created_at: now,
        created_by: Some(tenant.principal_id.clone()),
        created_client: Some(tenant.client_id.clone()),
    };
    match state.store.insert_run(&run).await {
        Ok(()) => {}
        Err(StoreError::AlreadyExists { .. }) => {
            // Another request took the window meanwhile.
            let existing = state
                .store
                .find_run_by_window(&tenant.scope, &flow_id, window_end)
                .await?;
            return Err(match &existing {
                Some(existing) => window_taken(&flow_id, (window_start, window_end), existing),
                None => FlowError::new(FlowErrorCode::NotApplicableInState, format!("A run for this window of flow {flow_id} was created at the same time; list the flow's runs.")).into(),
            });
        }
        Err(error) => return Err(error.into()),
    }
    state.runs_due.notify_one();
    tracing::info!(run_id = %id, flow_id = %flow_id, "ad hoc run enqueued");
    let record = load_run(&state, &tenant, &id).await?;
    let mut response = json_response(
        StatusCode::CREATED,
        present_run(&record, &tenant.sandbox_id),
    );
    if let Ok(location) = HeaderValue::from_str(&format!(
        "{}/{COLLECTION}/{id}",
        crate::FLOW_SERVICE_BASE_PATH
    )) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(response)
}

/// `GET /runs`: the runs of the sandbox in the run shape, through the list parameters
/// (`property=flowId==<id>` as the docs use it, any other `property` filter, `orderby` on
/// [`SORTABLE`], `limit`, `count`); oldest first by default.
async fn list(
    State(state): State<AppState>,
    tenant: Tenant,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let list_query = ListQuery::parse(query.as_deref(), SORTABLE)?.with_default_order("createdAt");
    let plan = list_query.store_plan(RUN_INDEXED_FIELDS);
    let runs = state
        .store
        .list_runs(&tenant.scope, &RunFilter::default(), &plan.query)
        .await?;
    if plan.complete && list_query.counts() && plan.query.limit.is_none() {
        return Ok(json_response(
            StatusCode::OK,
            ListQuery::count_response(runs.len() as u64),
        ));
    }
    let presented: Vec<(i64, Value)> = runs
        .iter()
        .map(|record| (record.position, present_run(record, &tenant.sandbox_id)))
        .collect();
    let collection_path = format!("/{COLLECTION}");
    let body = if plan.complete {
        list_query.respond_store_page(presented, &collection_path)
    } else {
        list_query.respond(presented, &collection_path)
    };
    Ok(json_response(StatusCode::OK, body))
}

/// `GET /runs/{id}`: `{"items": [run]}`.
async fn read(
    State(state): State<AppState>,
    tenant: Tenant,
    PathId(id): PathId,
) -> Result<Response, ApiError> {
    let record = load_run(&state, &tenant, &id).await?;
    Ok(json_response(
        StatusCode::OK,
        json!({ "items": [present_run(&record, &tenant.sandbox_id)] }),
    ))
}

/// Fields of `UpdateFlowRunRequest` (Adobe's OpenAPI file), all written by flowd's workers.
const UPDATE_FIELDS: &[&str] = &[
    "flowId",
    "flowSpec",
    "providerRefId",
    "parentFlowRunId",
    "childFlowRunIds",
    "params",
    "predecessors",
    "metrics",
    "activities",
    "recordTypes",
];

/// `PUT /runs/{id}` (the provider-side run update): flowd is its own provider, so every field
/// of a run is written by its workers. The update is checked like any other write (`If-Match`
/// required, `1403-400` without it, `1404-412` when stale) and a body that changes nothing (a
/// run read and written back, or any subset of its fields) answers 200 with the run; a field
/// that would change is `1100-400` at its pointer, and a field the file does not list too.
async fn update(
    State(state): State<AppState>,
    tenant: Tenant,
    PathId(id): PathId,
    headers: axum::http::HeaderMap,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let record = load_run(&state, &tenant, &id).await?;
    let supplied = headers
        .get(header::IF_MATCH)
        .and_then(|value| value.to_str().ok())
        .filter(|value| !value.trim().is_empty())
        .ok_or_else(|| {
            FlowError::new(
                FlowErrorCode::RequiredHeaderMissing,
                "The If-Match header with the run's current etag is required.",
            )
        })?;
    let current = present_run(&record, &tenant.sandbox_id);
    let etag = current["etag"].as_str().unwrap_or_default();
    if crate::patch::normalize_etag(supplied) != crate::patch::normalize_etag(etag) {
        return Err(FlowError::new(
            FlowErrorCode::VersionMismatch,
            format!(
                "Supplied version=[{supplied}] does not match the current version on entity=[{id}]"
            ),
        )
        .into());
    }
    let Some(fields) = body.as_object() else {
        return Err(FlowError::invalid_body(
            "run update",
            vec![Problem::new("", "must be a JSON object")],
        )
        .into());
    };
    let mut problems = Vec::new();
    for (name, value) in fields {
        let pointer = format!("/{name}");
        if !UPDATE_FIELDS.contains(&name.as_str()) {
            if current.get(name).is_none_or(|shown| shown != value) {
                problems.push(Problem::new(pointer, "is not a field a run update takes"));
            }
            continue;
        }
        let unchanged = match name.as_str() {
            "params" => same_window(value, &record),
            _ => {
                current.get(name) == Some(value) || (value.is_null() && current.get(name).is_none())
            }
        };
        if !unchanged {
            problems.push(Problem::new(
                pointer,
                "cannot change: flowd runs its own runs and its workers write every field of them",
            ));
        }
    }
    if !problems.is_empty() {
        return Err(FlowError::invalid_body("run update", problems).into());
    }
    Ok(json_response(StatusCode::OK, current))
}

/// Whether `params` names the run's own window (numbers or numeric strings, in seconds).
fn same_window(params: &Value, record: &RunRecord) -> bool {
    match flowd_model::adhoc_window(params) {
        Ok((start, end)) => {
            start
                .map(|start| start.as_millisecond())
                .map(|ms| ms.div_euclid(1000))
                == record.window_start.map(|ms| ms.div_euclid(1000))
                && end.as_millisecond().div_euclid(1000) == record.window_end.div_euclid(1000)
        }
        Err(_) => false,
    }
}

/// `POST /runs/{id}/action?op=RE_TRIGGER`: a failed run is due again now; 200 with the run.
async fn action(
    State(state): State<AppState>,
    tenant: Tenant,
    PathId(id): PathId,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    crate::routes::actions::parse_action(query.as_deref(), &["RE_TRIGGER"], "run")?;
    let record = load_run(&state, &tenant, &id).await?;
    let retriggered = matches!(record.status, RunStatus::Failed | RunStatus::Success)
        && state
            .store
            .retrigger_run(&tenant.scope, &id, flowd_model::time::now_millis())
            .await?;
    if !retriggered {
        // Not failed, or no longer failed (re-triggered concurrently).
        let current = load_run(&state, &tenant, &id).await?;
        let mut error = FlowError::new(
            FlowErrorCode::NotApplicableInState,
            format!(
                "Operation not applicable in current state: run {id} is {}; only a failed or successful run can be re-triggered.",
                current.status.as_str()
            ),
        );
        error.report.insert("id".into(), json!(id));
        error
            .report
            .insert("status".into(), json!(current.status.as_str()));
        return Err(error.into());
    }
    state.runs_due.notify_one();
    tracing::info!(run_id = %id, flow_id = %record.flow_id, "run re-triggered");
    let record = load_run(&state, &tenant, &id).await?;
    Ok(json_response(
        StatusCode::OK,
        present_run(&record, &tenant.sandbox_id),
    ))
}
