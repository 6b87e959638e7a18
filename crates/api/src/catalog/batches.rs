//! Catalog's `/batches` under `/data/foundation/catalog`: the batches committed to the
//! caller's datasets, one per successful run (a re-triggered run replaces its batch in place),
//! read from the store's batch rows (an index seek per page, never a scan of the files).
//!
//! Catalog's shapes are kept: objects keyed by batch id, `GET /batches/{id}` a one-key object.
//! A batch reads `status: "success"` (flowd records only committed batches), `relatedObjects`
//! the dataset (`type: "dataSet"`) and the run that committed it (`type: "flowRun"`; Catalog's
//! documentation shows no type for a flow run, so the Flow Service resource name is used),
//! `metrics` Catalog's `recordsRead`/`recordsWritten`/`startTime`/`endTime` next to flowd's
//! `recordCount`, `inputRecordCount`, `outputByteSize` and `outputFileCount`, and `created`,
//! `updated` (the last commit), `started` and `completed` in epoch milliseconds.
//! `GET /batches` takes `dataSet` (one dataset's batches; every dataset's without it) and
//! `limit`, `start`, `orderBy` (`created`, `updated`, `id`) and `properties` as `/dataSets`.

use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use flowd_store::{BatchOrderField, BatchQuery, BatchRecord};
use serde_json::{Map, Value, json};

use super::params::{CatalogQuery, parameter_error, project};
use crate::error::{ApiError, FlowError, FlowErrorCode, json_response};
use crate::state::AppState;
use crate::tenant::Tenant;

/// The fields `orderBy` sorts batches on.
const SORTABLE: &[&str] = &["created", "updated", "id"];

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/batches", get(list))
        .route("/batches/", get(list))
        .route("/batches/{id}", get(read))
        .route("/batches/{id}/", get(read))
}

/// A batch as Catalog shows it.
pub fn present_batch(batch: &BatchRecord, tenant: &Tenant) -> Value {
    let mut related = vec![json!({"type": "dataSet", "id": batch.dataset_id})];
    if let Some(run_id) = &batch.run_id {
        related.push(json!({"type": "flowRun", "id": run_id}));
    }
    let mut metrics = Map::new();
    metrics.insert("recordCount".into(), json!(batch.record_count));
    metrics.insert("recordsWritten".into(), json!(batch.record_count));
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
    json!({
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
    })
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
    let keyed: Map<String, Value> = batches
        .iter()
        .map(|batch| {
            let shown = project(present_batch(batch, &tenant), query.properties.as_deref());
            (batch.batch_id.clone(), shown)
        })
        .collect();
    Ok(json_response(StatusCode::OK, Value::Object(keyed)))
}

/// `GET /batches/{id}`: one batch of the caller's sandbox, else `1439-404`.
async fn read(
    State(state): State<AppState>,
    tenant: Tenant,
    Path(batch_id): Path<String>,
    RawQuery(raw_query): RawQuery,
) -> Result<Response, ApiError> {
    let query = CatalogQuery::parse(raw_query.as_deref(), SORTABLE)?;
    let batch = state
        .store
        .get_batch(&tenant.scope, &batch_id)
        .await?
        .ok_or_else(|| FlowError::not_found("batches", &batch_id))?;
    let mut keyed = Map::new();
    keyed.insert(
        batch.batch_id.clone(),
        project(present_batch(&batch, &tenant), query.properties.as_deref()),
    );
    Ok(json_response(StatusCode::OK, Value::Object(keyed)))
}
