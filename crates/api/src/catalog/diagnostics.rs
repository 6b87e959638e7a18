//! A batch's error diagnostics as Catalog and Data Access read them (reference `data-prep.md`
//! §10.4–§10.5): the [`BatchDiagnostics`] document the scheduler stores for a batch whose
//! promotion rejected records (kind [`ResourceKind::BatchDiagnostics`], id = batch id = run
//! id, body = [`BatchDiagnostics::to_document`]), read in the caller's sandbox only.
//!
//! The document describes the last attempt of the batch's run that rejected records. Next to
//! a committed batch, only a `success` document describes it (a `failed` one is a later
//! attempt that wrote nothing, the earlier batch staying visible); without a committed batch,
//! only a `failed` document is a batch (the run's, which Catalog then shows as failed). Catalog
//! and Data Access both go by [`find_batch`], so they agree on what a batch id names.

use std::collections::HashMap;

use flowd_model::ResourceKind;
use flowd_model::diagnostics::BatchDiagnostics;
use flowd_store::{
    BatchRecord, FilterOp, FilterValue, IndexedField, IndexedFilter, ListQuery, Scope,
    StoredResource,
};
use serde_json::{Map, Value, json};

use crate::error::{ApiError, FlowError};
use crate::state::AppState;

/// The diagnostics read from a stored document; a document that does not read is a logged
/// `1400-500` (the scheduler wrote something else).
fn read_document(stored: &StoredResource) -> Result<BatchDiagnostics, ApiError> {
    BatchDiagnostics::from_document(&stored.body).map_err(|error| {
        tracing::error!(
            %error,
            batch_id = %stored.id,
            request_id = %crate::request_id::current(),
            "stored batch diagnostics do not read"
        );
        ApiError::from(FlowError::internal())
    })
}

/// The diagnostics stored for the batch `batch_id` of the scope.
pub async fn load(
    state: &AppState,
    scope: &Scope,
    batch_id: &str,
) -> Result<Option<BatchDiagnostics>, ApiError> {
    match state
        .store
        .get_resource(scope, ResourceKind::BatchDiagnostics, batch_id)
        .await?
    {
        Some(stored) => read_document(&stored).map(Some),
        None => Ok(None),
    }
}

/// The diagnostics stored for any of `batch_ids` (one indexed query), by batch id.
pub async fn load_many(
    state: &AppState,
    scope: &Scope,
    batch_ids: &[&str],
) -> Result<HashMap<String, BatchDiagnostics>, ApiError> {
    if batch_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let query = ListQuery {
        filters: vec![IndexedFilter {
            field: IndexedField::Id,
            op: FilterOp::In,
            values: batch_ids
                .iter()
                .map(|id| FilterValue::Text((*id).to_owned()))
                .collect(),
        }],
        ..ListQuery::default()
    };
    let stored = state
        .store
        .list_resources(scope, ResourceKind::BatchDiagnostics, &query)
        .await?;
    stored
        .iter()
        .map(|stored| Ok((stored.id.clone(), read_document(stored)?)))
        .collect()
}

/// Whether `diagnostics` describe the batch as Catalog shows it: a committed batch's
/// successful attempt, or the failed run of a batch never committed.
pub fn describes(diagnostics: &BatchDiagnostics, committed: bool) -> bool {
    (diagnostics.status == "success") == committed
}

/// A number as Catalog's tags print it: whole numbers without a fraction.
fn tag_number(value: f64) -> String {
    if value.is_finite() && value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{}", value as i64)
    } else {
        value.to_string()
    }
}

/// Catalog's `tags` of a batch with diagnostics (tags are arrays of strings):
/// `acp_enableErrorDiagnostics` and, when the flow set one, `acp_partialIngestionPercent`.
pub fn tags(diagnostics: &BatchDiagnostics) -> Value {
    let mut tags = Map::new();
    tags.insert(
        "acp_enableErrorDiagnostics".into(),
        json!([diagnostics.error_diagnostics_enabled.to_string()]),
    );
    if let Some(percent) = diagnostics.partial_ingestion_percent {
        tags.insert(
            "acp_partialIngestionPercent".into(),
            json!([tag_number(percent)]),
        );
    }
    Value::Object(tags)
}

/// Catalog's `errors` of a batch with diagnostics.
pub fn errors(diagnostics: &BatchDiagnostics) -> Value {
    serde_json::to_value(&diagnostics.errors).expect("batch errors serialize")
}

/// What diagnostics add to a committed batch as Catalog presents it: `metrics.failedRecordCount`
/// (0 without diagnostics), `errors` (`[]` without) and, with diagnostics, `tags`.
pub fn add_to_batch(presented: &mut Value, diagnostics: Option<&BatchDiagnostics>) {
    let failed = diagnostics.map_or(0, |diagnostics| diagnostics.failed_record_count);
    presented["metrics"]["failedRecordCount"] = json!(failed);
    presented["errors"] = diagnostics.map_or_else(|| json!([]), errors);
    if let Some(diagnostics) = diagnostics {
        presented["tags"] = tags(diagnostics);
    }
}

/// A batch nothing of which is visible (its run failed on rejected records), as Catalog shows
/// it: `status: "failed"`, the dataset and the run it belongs to, what was read, nothing
/// written, what was rejected and why. `run_times` are the run's last attempt's start and end.
pub fn present_failed_batch(
    diagnostics: &BatchDiagnostics,
    tenant: &crate::tenant::Tenant,
    run_times: Option<(i64, i64)>,
) -> Value {
    let mut metrics = Map::new();
    metrics.insert("recordCount".into(), json!(0));
    metrics.insert("recordsRead".into(), json!(diagnostics.input_record_count));
    metrics.insert(
        "inputRecordCount".into(),
        json!(diagnostics.input_record_count),
    );
    metrics.insert("recordsWritten".into(), json!(0));
    metrics.insert("outputRecordCount".into(), json!(0));
    metrics.insert(
        "failedRecordCount".into(),
        json!(diagnostics.failed_record_count),
    );
    metrics.insert("outputByteSize".into(), json!(0));
    metrics.insert("outputFileCount".into(), json!(0));
    if let Some((started, completed)) = run_times {
        metrics.insert("startTime".into(), json!(started));
        metrics.insert("endTime".into(), json!(completed));
    }
    json!({
        "id": diagnostics.batch_id,
        "imsOrg": tenant.scope.org_id,
        "sandboxId": tenant.sandbox_id,
        "sandboxName": tenant.scope.sandbox_name,
        "status": "failed",
        "relatedObjects": [
            {"type": "dataSet", "id": diagnostics.dataset_id},
            {"type": "flowRun", "id": diagnostics.run_id},
        ],
        "recordCount": 0,
        "metrics": metrics,
        "errors": errors(diagnostics),
        "tags": tags(diagnostics),
        "inputFormat": {"format": "parquet"},
        "version": "1.0.0",
        "created": diagnostics.created_at,
        "updated": diagnostics.created_at,
        "started": run_times.map(|(started, _)| started),
        "completed": run_times.map(|(_, completed)| completed),
    })
}

/// A batch of the caller as Catalog and Data Access know it: committed, failed, or both (a
/// committed batch whose later attempt failed), with the diagnostics that describe it.
#[derive(Debug)]
pub struct KnownBatch {
    pub committed: Option<BatchRecord>,
    /// The diagnostics that describe the batch shown (see [`describes`]).
    pub diagnostics: Option<BatchDiagnostics>,
}

/// The caller's batch `batch_id`, else `1439-404` (`report.type` `batches`): a committed batch
/// (with its successful attempt's diagnostics, if any) or the failed run's diagnostics.
pub async fn find_batch(
    state: &AppState,
    scope: &Scope,
    batch_id: &str,
) -> Result<KnownBatch, ApiError> {
    let committed = state.store.get_batch(scope, batch_id).await?;
    let diagnostics = load(state, scope, batch_id)
        .await?
        .filter(|diagnostics| describes(diagnostics, committed.is_some()));
    if committed.is_none() && diagnostics.is_none() {
        return Err(FlowError::not_found("batches", batch_id).into());
    }
    Ok(KnownBatch {
        committed,
        diagnostics,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use flowd_model::diagnostics::BatchErrorEntry;

    fn diagnostics(status: &str, percent: Option<f64>) -> BatchDiagnostics {
        BatchDiagnostics {
            batch_id: "run-1".into(),
            dataset_id: "0123456789abcdef01234567".into(),
            flow_id: "flow-1".into(),
            run_id: "run-1".into(),
            status: status.into(),
            input_record_count: 10,
            output_record_count: 8,
            failed_record_count: 2,
            error_diagnostics_enabled: true,
            partial_ingestion_percent: percent,
            errors: vec![BatchErrorEntry {
                code: "INGEST-1212-400".into(),
                description: "Encountered 2 errors in the data.".into(),
                record_count: None,
            }],
            failed_records: Vec::new(),
            created_at: 5,
        }
    }

    #[test]
    fn tags_are_arrays_of_strings_with_whole_percentages_unpointed() {
        assert_eq!(
            tags(&diagnostics("success", Some(5.0))),
            json!({"acp_enableErrorDiagnostics": ["true"], "acp_partialIngestionPercent": ["5"]})
        );
        assert_eq!(
            tags(&diagnostics("success", Some(2.5)))["acp_partialIngestionPercent"],
            json!(["2.5"])
        );
        assert_eq!(
            tags(&diagnostics("success", None)),
            json!({"acp_enableErrorDiagnostics": ["true"]})
        );
    }

    #[test]
    fn a_committed_batch_takes_only_a_successful_attempt_s_diagnostics() {
        assert!(describes(&diagnostics("success", None), true));
        assert!(!describes(&diagnostics("failed", None), true));
        assert!(describes(&diagnostics("failed", None), false));
        assert!(!describes(&diagnostics("success", None), false));
    }

    #[test]
    fn a_batch_without_diagnostics_reads_no_failure() {
        let mut presented = json!({"metrics": {"recordCount": 3}, "errors": []});
        add_to_batch(&mut presented, None);
        assert_eq!(
            presented,
            json!({"metrics": {"recordCount": 3, "failedRecordCount": 0}, "errors": []})
        );
        add_to_batch(&mut presented, Some(&diagnostics("success", Some(5.0))));
        assert_eq!(presented["metrics"]["failedRecordCount"], 2);
        assert_eq!(presented["errors"][0]["code"], "INGEST-1212-400");
        assert!(presented["errors"][0].get("recordCount").is_none());
        assert_eq!(
            presented["tags"]["acp_partialIngestionPercent"],
            json!(["5"])
        );
    }
}
