//! `/runs`: dataflow runs (reference §8.5). `POST /runs` enqueues an ad hoc
//! run over a window, `GET /runs[/{id}]` shows runs with AEP's run shape and
//! `POST /runs/{id}/action?op=RE_TRIGGER` puts a failed run back in the queue.
//! The flow's `lastRunDetails` is computed here too ([`last_run_details`]).
//!
//! Runs live in the store's run queue ([`RunRecord`]), not among the JSON
//! documents: the status, window and attempts are columns, and the record's
//! `body` holds what the API and the worker add (`createdAt`/`createdBy`…
//! when the API enqueues, `{"metrics", "errors", "activities"}` when a worker
//! records an outcome). [`present_run`] is the one place turning a record
//! into the wire shape.
//!
//! Decisions where the reference is silent:
//! - `POST /runs` answers 201 with the full run (the docs' shape; it carries
//!   the OAS's `id` and `etag` too) and a `Location` header.
//! - Window times are epoch seconds on the wire (numbers or numeric strings;
//!   `windowStartTime` may be absent: from the beginning of time) and epoch
//!   milliseconds in the store. The window is half-open `[start, end)`.
//! - Any flow of the sandbox takes ad hoc runs, whatever its schedule or
//!   state: the run is an explicit request.
//! - A flow has one run per window end: a second one is `1409-400` ("not
//!   applicable in current state": the request is well formed, the flow's
//!   run history refuses it), with the existing run's id in `report.runId`.
//! - The `etag` (and `version`) is a digest of status, attempts, due time and
//!   body, so it changes whenever the run does.
//! - RE_TRIGGER keeps the window and the last attempt's metrics and errors
//!   (visible until the next outcome replaces them) and gives the run a
//!   fresh retry budget (attempts back to 0); only a `failed` run can be
//!   re-triggered (`1409-400` otherwise).

use std::collections::HashMap;

use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use axum::routing::{get, post};
use flowd_spec::Problem;
use flowd_store::{NewRun, RunRecord, RunStatus, Scope, StoreError};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use crate::body::JsonBody;
use crate::error::{ApiError, FlowError, FlowErrorCode, json_response};
use crate::listing::ListQuery;
use crate::metadata::{SYSTEM_PRINCIPAL, now_millis};
use crate::path_id::PathId;
use crate::routes::flows::FLOWS;
use crate::state::AppState;
use crate::tenant::Tenant;

/// The collection's path segment, also `report.type` of its 404s.
const COLLECTION: &str = "runs";

/// Fields `orderby` accepts on `GET /runs`.
const SORTABLE: &[&str] = &["createdAt", "id", "flowId"];

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/runs", get(list).post(create))
        .route("/runs/{id}", get(read))
        .route("/runs/{id}/action", post(action))
}

/// The wire shape of a run (reference §8.5).
///
/// Status, window and attempts come from the record's columns; `metrics`,
/// errors and `activities` from what a worker stored in the body
/// (`{"metrics": {durationSummary, sizeSummary, recordSummary, fileSummary},
/// "errors": [{code, message}], "activities": [...]}`), with zero counts, no
/// timestamps and no errors until it has. `sandbox_id` is the scope's sandbox
/// UUID (the record knows only the sandbox name).
pub fn present_run(record: &RunRecord, sandbox_id: &str) -> Value {
    let body = &record.body;
    let stored_metrics = body.get("metrics");
    let summary = |name: &str, defaults: Value| -> Value {
        let mut merged = defaults;
        if let (Some(target), Some(Value::Object(stored))) = (
            merged.as_object_mut(),
            stored_metrics.and_then(|metrics| metrics.get(name)),
        ) {
            for (key, value) in stored {
                target.insert(key.clone(), value.clone());
            }
        }
        merged
    };
    let duration = summary("durationSummary", json!({}));
    let errors = body
        .get("errors")
        .filter(|errors| errors.is_array())
        .cloned()
        .unwrap_or_else(|| json!([]));
    let created_at = body
        .get("createdAt")
        .and_then(Value::as_i64)
        .unwrap_or(record.scheduled_at);
    // A worker's outcome may replace the body without touching `updatedAt`:
    // the latest of the known instants is the last change.
    let updated_at = [
        body.get("updatedAt"),
        duration.get("startedAtUTC"),
        duration.get("completedAtUTC"),
    ]
    .into_iter()
    .flatten()
    .filter_map(Value::as_i64)
    .fold(created_at, i64::max);
    let text = |name: &str| {
        body.get(name)
            .and_then(Value::as_str)
            .unwrap_or(SYSTEM_PRINCIPAL)
            .to_owned()
    };
    let mut params = Map::new();
    if let Some(start) = record.window_start {
        params.insert("windowStartTime".into(), json!(start.div_euclid(1000)));
    }
    params.insert(
        "windowEndTime".into(),
        json!(record.window_end.div_euclid(1000)),
    );
    let etag = run_etag(record);
    json!({
        "id": record.id,
        "createdAt": created_at,
        "updatedAt": updated_at,
        "createdBy": text("createdBy"),
        "updatedBy": text("updatedBy"),
        "createdClient": text("createdClient"),
        "updatedClient": text("updatedClient"),
        "sandboxId": sandbox_id,
        "sandboxName": record.scope.sandbox_name,
        "imsOrgId": record.scope.org_id,
        "flowId": record.flow_id,
        "params": params,
        "etag": etag,
        "version": etag,
        // flowd extension: how many times a worker claimed the run (each
        // claim is one attempt; a retry after a failure or a lost lease is
        // another).
        "attempts": record.attempts,
        "metrics": {
            "durationSummary": duration,
            "sizeSummary": summary("sizeSummary", json!({"inputBytes": 0, "outputBytes": 0})),
            "recordSummary": summary(
                "recordSummary",
                json!({"inputRecordCount": 0, "outputRecordCount": 0, "failedRecordCount": 0}),
            ),
            "fileSummary": summary("fileSummary", json!({"outputFileCount": 0})),
            "statusSummary": {"status": record.status.as_str(), "errors": errors},
        },
        "activities": body
            .get("activities")
            .filter(|activities| activities.is_array())
            .cloned()
            .unwrap_or_else(|| json!([])),
    })
}

/// AEP-shaped etag (a JSON string holding a quoted value) digesting what
/// changes over a run's life: status, attempts, due time and body.
fn run_etag(record: &RunRecord) -> String {
    let mut digest = Sha256::new();
    digest.update(record.status.as_str());
    digest.update(record.attempts.to_be_bytes());
    digest.update(record.scheduled_at.to_be_bytes());
    digest.update(record.body.to_string());
    format!("\"{}\"", hex::encode(&digest.finalize()[..16]))
}

/// `lastRunDetails` of one run: `{id, state, startedAtUTC, completedAtUTC}`,
/// the times only once a worker recorded them.
fn details_of(record: &RunRecord) -> Value {
    let mut details = Map::new();
    details.insert("id".into(), json!(record.id));
    details.insert("state".into(), json!(record.status.as_str()));
    let duration = record.body.pointer("/metrics/durationSummary");
    for name in ["startedAtUTC", "completedAtUTC"] {
        if let Some(instant) = duration.and_then(|duration| duration.get(name))
            && !instant.is_null()
        {
            details.insert(name.into(), instant.clone());
        }
    }
    Value::Object(details)
}

/// The flow's `lastRunDetails`: its latest run (highest window end), or `{}`
/// before its first run.
pub async fn last_run_details(
    state: &AppState,
    scope: &Scope,
    flow_id: &str,
) -> Result<Value, ApiError> {
    let runs = state.store.list_runs(scope, Some(flow_id)).await?;
    Ok(latest(runs.iter())
        .map(details_of)
        .unwrap_or_else(|| json!({})))
}

/// [`last_run_details`] of every flow of the scope that has runs, from one
/// store query (for `GET /flows`); flows missing from the map have none.
pub async fn last_run_details_by_flow(
    state: &AppState,
    scope: &Scope,
) -> Result<HashMap<String, Value>, ApiError> {
    let runs = state.store.list_runs(scope, None).await?;
    let mut latest_by_flow: HashMap<&str, &RunRecord> = HashMap::new();
    for run in &runs {
        latest_by_flow
            .entry(run.flow_id.as_str())
            .and_modify(|current| {
                if run.window_end > current.window_end {
                    *current = run;
                }
            })
            .or_insert(run);
    }
    Ok(latest_by_flow
        .into_iter()
        .map(|(flow_id, run)| (flow_id.to_owned(), details_of(run)))
        .collect())
}

/// The run with the highest window end (a flow has one run per window end).
fn latest<'a>(runs: impl Iterator<Item = &'a RunRecord>) -> Option<&'a RunRecord> {
    runs.max_by_key(|run| run.window_end)
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

/// `POST /runs`: `{"flowId", "params": {"windowStartTime"?, "windowEndTime"}}`
/// → 201 with the run.
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
                "is required ({\"windowStartTime\", \"windowEndTime\"} in epoch seconds)",
            ));
            None
        }
        Some(params) => match flowd_scheduler::adhoc_window(params) {
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
    let flow_id = uuid::Uuid::try_parse(&flow_id)
        .map(|uuid| uuid.hyphenated().to_string())
        .unwrap_or(flow_id);
    let flow_exists = state
        .store
        .get_resource(&tenant.scope, FLOWS.kind, &flow_id)
        .await?
        .is_some();
    if !flow_exists {
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
    }
    let id = uuid::Uuid::new_v4().to_string();
    let now = now_millis();
    let run = NewRun {
        id: id.clone(),
        scope: tenant.scope.clone(),
        flow_id: flow_id.clone(),
        window_start: start.map(|start| start.as_millisecond()),
        window_end: end.as_millisecond(),
        scheduled_at: now,
        body: json!({
            "trigger": flowd_scheduler::planner::ADHOC_TRIGGER,
            "createdAt": now,
            "updatedAt": now,
            "createdBy": tenant.principal_id,
            "updatedBy": tenant.principal_id,
            "createdClient": tenant.client_id,
            "updatedClient": tenant.client_id,
        }),
    };
    match state.store.insert_run(&run).await {
        Ok(()) => {}
        Err(StoreError::AlreadyExists { .. }) => {
            return Err(duplicate_window(&state, &tenant, &run).await);
        }
        Err(error) => return Err(error.into()),
    }
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

/// `1409-400` for a window end the flow already has a run for.
async fn duplicate_window(state: &AppState, tenant: &Tenant, run: &NewRun) -> ApiError {
    let existing = match state
        .store
        .list_runs(&tenant.scope, Some(&run.flow_id))
        .await
    {
        Ok(runs) => runs
            .into_iter()
            .find(|existing| existing.window_end == run.window_end)
            .map(|existing| existing.id),
        Err(error) => return error.into(),
    };
    let end_seconds = run.window_end.div_euclid(1000);
    let mut error = FlowError::new(
        FlowErrorCode::NotApplicableInState,
        format!(
            "A run for this window already exists: flow {} has a run ending at windowEndTime {end_seconds}{}. Re-trigger that run if it failed.",
            run.flow_id,
            existing
                .as_deref()
                .map(|id| format!(" ({id})"))
                .unwrap_or_default()
        ),
    )
    .with_problems(vec![Problem::new(
        "/params/windowEndTime",
        "the flow already has a run ending at this time",
    )]);
    if let Some(existing) = existing {
        error.report.insert("runId".into(), json!(existing));
    }
    error.into()
}

/// `GET /runs`: every run of the sandbox in the run shape, through the list
/// parameters (`property=flowId==<id>` as the docs use it, any other
/// `property` filter, `orderby` on [`SORTABLE`], `limit`, `count`).
async fn list(
    State(state): State<AppState>,
    tenant: Tenant,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let list_query = ListQuery::parse(query.as_deref(), SORTABLE)?;
    // The documented query names one flow: only its runs are read. The
    // filter still applies, so this only saves work.
    let one_flow = single_flow_filter(query.as_deref());
    let runs = state
        .store
        .list_runs(&tenant.scope, one_flow.as_deref())
        .await?;
    let mut presented: Vec<Value> = runs
        .iter()
        .map(|record| present_run(record, &tenant.sandbox_id))
        .collect();
    // Positions for the continuation token: runs are never deleted and a new
    // run has the newest `createdAt`, so this order only ever grows at the end.
    presented.sort_by(|left, right| {
        let key = |run: &Value| {
            (
                run["createdAt"].as_i64(),
                run["id"].as_str().map(str::to_owned),
            )
        };
        key(left).cmp(&key(right))
    });
    let documents = presented
        .into_iter()
        .enumerate()
        .map(|(position, run)| (position as i64, run))
        .collect();
    Ok(json_response(
        StatusCode::OK,
        list_query.respond(documents, &format!("/{COLLECTION}")),
    ))
}

/// The flow id of a `property=flowId==<one id>` parameter, if any.
fn single_flow_filter(raw_query: Option<&str>) -> Option<String> {
    form_urlencoded::parse(raw_query.unwrap_or_default().as_bytes())
        .filter(|(name, _)| name == "property")
        .find_map(|(_, value)| {
            value
                .trim()
                .strip_prefix("flowId==")
                .map(str::trim)
                .filter(|id| !id.is_empty() && !id.contains(','))
                .map(str::to_owned)
        })
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

/// `POST /runs/{id}/action?op=RE_TRIGGER`: a failed run is due again now;
/// 200 with the run.
async fn action(
    State(state): State<AppState>,
    tenant: Tenant,
    PathId(id): PathId,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let op = form_urlencoded::parse(query.as_deref().unwrap_or_default().as_bytes())
        .find(|(name, _)| name == "op")
        .map(|(_, value)| value.to_ascii_uppercase());
    if op.as_deref() != Some("RE_TRIGGER") {
        return Err(FlowError::new(
            FlowErrorCode::InvalidRequest,
            format!(
                "op {} is not supported on runs; use op=RE_TRIGGER.",
                op.as_deref().unwrap_or("(missing)")
            ),
        )
        .into());
    }
    let record = load_run(&state, &tenant, &id).await?;
    let retriggered = record.status == RunStatus::Failed
        && state
            .store
            .retrigger_run(&tenant.scope, &id, now_millis())
            .await?;
    if !retriggered {
        // Not failed, or no longer failed (re-triggered concurrently).
        let current = load_run(&state, &tenant, &id).await?;
        let mut error = FlowError::new(
            FlowErrorCode::NotApplicableInState,
            format!(
                "Operation not applicable in current state: run {id} is {}; only a failed run can be re-triggered.",
                current.status.as_str()
            ),
        );
        error.report.insert("id".into(), json!(id));
        error
            .report
            .insert("status".into(), json!(current.status.as_str()));
        return Err(error.into());
    }
    tracing::info!(run_id = %id, flow_id = %record.flow_id, "run re-triggered");
    let record = load_run(&state, &tenant, &id).await?;
    Ok(json_response(
        StatusCode::OK,
        present_run(&record, &tenant.sandbox_id),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(body: Value) -> RunRecord {
        RunRecord {
            id: "run-1".into(),
            scope: Scope {
                org_id: "ORG@AdobeOrg".into(),
                sandbox_name: "prod".into(),
            },
            flow_id: "flow-1".into(),
            window_start: None,
            window_end: 1_700_000_000_000,
            scheduled_at: 1_600_000_000_000,
            status: RunStatus::Success,
            attempts: 2,
            lease_owner: None,
            lease_expires_at: None,
            body,
        }
    }

    #[test]
    fn a_body_without_server_fields_falls_back_to_the_columns() {
        let run = present_run(
            &record(json!({
                "metrics": {
                    "durationSummary": {"startedAtUTC": 1_600_000_001_000_i64, "completedAtUTC": 1_600_000_009_000_i64},
                    "fileSummary": {"outputFileCount": 1, "inputFileCount": 0},
                    "statusSummary": {"status": "ignored"}
                },
                "errors": "not a list"
            })),
            "sandbox-uuid",
        );
        assert_eq!(run["createdAt"], 1_600_000_000_000_i64, "due time");
        assert_eq!(run["updatedAt"], 1_600_000_009_000_i64, "completion");
        assert_eq!(run["createdBy"], SYSTEM_PRINCIPAL);
        assert_eq!(run["params"], json!({"windowEndTime": 1_700_000_000}));
        assert_eq!(
            run["metrics"]["fileSummary"],
            json!({"outputFileCount": 1, "inputFileCount": 0})
        );
        assert_eq!(
            run["metrics"]["statusSummary"],
            json!({"status": "success", "errors": []}),
            "status from the column, never from the body"
        );
        assert_eq!(
            details_of(&record(json!({}))),
            json!({"id": "run-1", "state": "success"})
        );
    }

    #[test]
    fn the_etag_changes_with_the_run() {
        let first = record(json!({}));
        let mut failed = first.clone();
        failed.status = RunStatus::Failed;
        let mut retried = first.clone();
        retried.attempts += 1;
        let mut measured = first.clone();
        measured.body = json!({"metrics": {}});
        let etags: std::collections::HashSet<String> = [&first, &failed, &retried, &measured]
            .into_iter()
            .map(run_etag)
            .collect();
        assert_eq!(etags.len(), 4);
        assert_eq!(run_etag(&first), run_etag(&first.clone()));
    }
}
