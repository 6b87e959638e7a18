//! Catalog's `/batches` under `/data/foundation/catalog`: the batches committed to the
//! caller's datasets, one per successful run (a re-triggered run replaces its batch in place),
//! read from the store's batch rows (an index seek per page, never a scan of the files), and
//! the batches of runs that failed on rejected records, known by their error diagnostics
//! (`diagnostics`, reference `data-prep.md` §10.4).
//!
//! Catalog's shapes are kept: objects keyed by batch id, `GET /batches/{id}` a one-key object.
//! A committed batch reads `status: "success"`, `relatedObjects` the dataset
//! (`type: "dataSet"`) and the run that committed it (`type: "flowRun"`; Catalog's
//! documentation shows no type for a flow run, so the Flow Service resource name is used),
//! `metrics` Catalog's `recordsRead`/`recordsWritten`/`startTime`/`endTime` and
//! `inputRecordCount`/`outputRecordCount`/`failedRecordCount` next to flowd's `recordCount`,
//! `outputByteSize` and `outputFileCount`, `errors`, and `created`, `updated` (the last
//! commit), `started` and `completed` in epoch milliseconds. A batch whose promotion rejected
//! records within the flow's `partialIngestionPercent` carries the rejections:
//! `failedRecordCount`, Catalog's `errors` (`INGEST-1212-400` and one entry per reason with its
//! `recordCount`, or `INGEST-1211-400` without error diagnostics) and `tags`
//! `acp_enableErrorDiagnostics`, `acp_partialIngestionPercent` (arrays of strings); one
//! without rejections has `failedRecordCount: 0` and `errors: []`. A batch whose run failed on
//! its rejections (nothing of it is visible) is read by `GET /batches/{id}` as
//! `status: "failed"` with what was read, `outputRecordCount: 0`, what was rejected and why.
//!
//! `GET /batches` takes `dataSet` (one dataset's batches; every dataset's without it) and
//! `limit`, `start`, `orderBy` (`created`, `updated`, `id`) and `properties` as `/dataSets`.
//! It lists committed batches only (a failed batch has no row to page by); their diagnostics
//! are read in one query per page.

use crate::routing::Routes;
use crate::routing::get;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use flowd_model::diagnostics::BatchDiagnostics;
use flowd_store::{BatchOrderField, BatchQuery, BatchRecord};
use serde_json::{Map, Value, json};

use super::diagnostics;
use super::params::{CatalogQuery, parameter_error, project};
use crate::error::{ApiError, FlowError, FlowErrorCode, json_response};
use crate::state::AppState;
use crate::tenant::Tenant;

/// The fields `orderBy` sorts batches on.
const SORTABLE: &[&str] = &["created", "updated", "id"];

pub fn routes() -> Routes {
    Routes::new()
        .route("/batches", get(list))
        .route("/batches/", get(list))
        .route("/batches/{id}", get(read))
        .route("/batches/{id}/", get(read))
}

/// A committed batch as Catalog shows it, with the diagnostics of its attempt if it has any.
pub fn present_batch(
    batch: &BatchRecord,
    diagnostics: Option<&BatchDiagnostics>,
    tenant: &Tenant,
) -> Value {
    let mut related = vec![json!({"type": "dataSet", "id": batch.dataset_id})];
    if let Some(run_id) = &batch.run_id {
        related.push(json!({"type": "flowRun", "id": run_id}));
    }
    let mut metrics = Map::new();
    metrics.insert("recordCount".into(), json!(batch.record_count));
    metrics.insert("recordsWritten".into(), json!(batch.record_count));
    metrics.insert("outputRecordCount".into(), json!(batch.record_count));
    if let Some(input) = batch.input_record_count {
        metrics.insert("inputRecordCount".into(), json!(input));
        metrics.insert("recordsRead".into(), json!(input));
    }
    metrics.insert("outputByteSize".into(), json!(batch.bytes));
    metrics.insert("outputFileCount".into(), json!(batch.file_count));
    if let Some(started) = batch.started_at {
        metrics.insert("startTime".into(), json!(started));
    }
    if let Some(completed) = batch.completed_at {
        metrics.insert("endTime".into(), json!(completed));
    }
    let mut presented = json!({
        "id": batch.batch_id,
        "imsOrg": tenant.scope.org_id,
        "sandboxId": tenant.sandbox_id,
        "sandboxName": tenant.scope.sandbox_name,
        "status": "success",
        "relatedObjects": related,
        "recordCount": batch.record_count,
        "metrics": metrics,
        "errors": [],
        "inputFormat": {"format": "parquet"},
        "version": "1.0.0",
        "created": batch.created_at,
        "updated": batch.committed_at,
        "started": batch.started_at,
        "completed": batch.completed_at,
    });
    diagnostics::add_to_batch(&mut presented, diagnostics);
    presented
}

fn order_field(name: &str) -> BatchOrderField {
    match name {
        "updated" => BatchOrderField::Updated,
        "id" => BatchOrderField::Id,
        _ => BatchOrderField::Created,
    }
}

/// `GET /batches?dataSet=<id>`: a page of the sandbox's (or one dataset's) batches.
async fn list(
    State(state): State<AppState>,
    tenant: Tenant,
    RawQuery(raw_query): RawQuery,
) -> Result<Response, ApiError> {
    let query = CatalogQuery::parse(raw_query.as_deref(), SORTABLE)?;
    let dataset_id = match query.other("dataSet") {
        None => None,
        Some(given) => Some(
            flowd_model::ids::canonical_dataset_id(given).ok_or_else(|| {
                parameter_error(
                    FlowErrorCode::InvalidRequest,
                    "dataSet",
                    format!("dataSet '{given}' is not a dataset id (24 hexadecimal characters)."),
                )
            })?,
        ),
    };
    let batches = state
        .store
        .list_batches(
            &tenant.scope,
            &BatchQuery {
                dataset_id,
                order: query
                    .order
                    .iter()
                    .map(|(field, descending)| (order_field(field), *descending))
                    .collect(),
                offset: query.start,
                limit: query.limit,
            },
        )
        .await?;
    let ids: Vec<&str> = batches
        .iter()
        .map(|batch| batch.batch_id.as_str())
        .collect();
    let found = diagnostics::load_many(&state, &tenant.scope, &ids).await?;
    let keyed: Map<String, Value> = batches
        .iter()
        .map(|batch| {
            let attempt = found
                .get(&batch.batch_id)
                .filter(|found| diagnostics::describes(found, true));
            let shown = project(
                present_batch(batch, attempt, &tenant),
                query.properties.as_deref(),
            );
            (batch.batch_id.clone(), shown)
        })
        .collect();
    Ok(json_response(StatusCode::OK, Value::Object(keyed)))
}

/// `GET /batches/{id}`: one batch of the caller's sandbox (committed, or failed with its
/// diagnostics), else `1439-404`.
async fn read(
    State(state): State<AppState>,
    tenant: Tenant,
    Path(batch_id): Path<String>,
    RawQuery(raw_query): RawQuery,
) -> Result<Response, ApiError> {
    let query = CatalogQuery::parse(raw_query.as_deref(), SORTABLE)?;
    let known = diagnostics::find_batch(&state, &tenant.scope, &batch_id).await?;
    let presented = match (&known.committed, &known.diagnostics) {
        (Some(batch), attempt) => present_batch(batch, attempt.as_ref(), &tenant),
        (None, Some(failed)) => {
            let run_times = state
                .store
                .get_run(&tenant.scope, &failed.run_id)
                .await?
                .and_then(|run| run.metrics)
                .map(|metrics| (metrics.started_at, metrics.completed_at));
            diagnostics::present_failed_batch(failed, &tenant, run_times)
        }
        (None, None) => return Err(FlowError::not_found("batches", &batch_id).into()),
    };
    let key = presented["id"].as_str().unwrap_or(&batch_id).to_owned();
    let mut keyed = Map::new();
    keyed.insert(key, project(presented, query.properties.as_deref()));
    Ok(json_response(StatusCode::OK, Value::Object(keyed)))
}
