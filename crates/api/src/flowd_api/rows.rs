//! `GET /flowd/v1/dataSets/{id}/rows?limit=N`: a dataset's first records (oldest batch first,
//! with flowd's `_flowd_*` columns), read from its Parquet files through the dataset store as
//! `flowd dataset head` reads them (`DatasetStore::head`), with its columns as the dataset's
//! read shows them and its record count from the store's statistics:
//! `{"columns": [{"name", "type"}], "rows": [...], "recordCount": n}`.
//!
//! The dataset is looked up in the caller's sandbox first: another sandbox's dataset is a
//! `1439-404` like a missing one. `limit` is 50 when absent, at most 500.

use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::json;

use crate::catalog::data_access::blocking;
use crate::catalog::params::parameter_error;
use crate::error::{ApiError, FlowErrorCode, json_response};
use crate::routes::collections::DATASETS;
use crate::routes::datasets::{DatasetId, dataset_columns, typed_schema};
use crate::routes::documents;
use crate::state::AppState;
use crate::tenant::Tenant;

/// Rows answered when `limit` is absent.
const DEFAULT_ROWS: usize = 50;
/// Most rows one request answers.
const MAX_ROWS: usize = 500;

fn limit_of(raw_query: Option<&str>) -> Result<usize, ApiError> {
    let Some((_, text)) = form_urlencoded::parse(raw_query.unwrap_or_default().as_bytes())
        .find(|(name, _)| name == "limit")
    else {
        return Ok(DEFAULT_ROWS);
    };
    match text.trim().parse::<usize>() {
        Ok(limit) if (1..=MAX_ROWS).contains(&limit) => Ok(limit),
        _ => Err(parameter_error(
            FlowErrorCode::InvalidRequest,
            "limit",
            format!("limit must be a whole number from 1 to {MAX_ROWS}, not '{text}'."),
        )),
    }
}

pub(super) async fn rows(
    State(state): State<AppState>,
    tenant: Tenant,
    DatasetId(id): DatasetId,
    RawQuery(raw_query): RawQuery,
) -> Result<Response, ApiError> {
    let limit = limit_of(raw_query.as_deref())?;
    let document = documents::load(&state, &tenant, DATASETS, &id).await?;
    let stats = state
        .store
        .dataset_stats(&tenant.scope, &id)
        .await?
        .unwrap_or_default();
    let typed = typed_schema(&state, &tenant, &document).await?;
    let columns = dataset_columns(&stats, typed.as_ref());
    // No batch yet, or no dataset store in this process: nothing to read.
    let rows = match state.datasets.clone() {
        Some(datasets) if stats.batch_count > 0 => {
            blocking(move || datasets.head(&id, limit)).await?
        }
        _ => Vec::new(),
    };
    Ok(json_response(
        StatusCode::OK,
        json!({"columns": columns, "rows": rows, "recordCount": stats.record_count}),
    ))
}
