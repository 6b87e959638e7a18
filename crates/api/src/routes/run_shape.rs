//! The wire shape of a run (reference §8.5, `data-prep.md` §10.2–§10.3): [`present_run`] is
//! the one place turning a [`RunRecord`] into AEP's run (`durationSummary`, `sizeSummary`,
//! `recordSummary` with the promotion's `failedRecordCount`, `fileSummary`, `statusSummary`,
//! and `activities`: the `Copy Activity` and the `Promotion Activity`, whose
//! `fileSummary.extensions.manifest.fileInfo` is the Data Access path of the run's batch,
//! `/data/foundation/export/batches/{runId}/meta?path=input_files`; the batch id is the run
//! id), and flowd's `progress` (pages and records so far while it runs, which
//! `recordSummary.inputRecordCount` shows too). A flow's `lastRunDetails` is [`details_of`].

use flowd_model::RunMetrics;
use flowd_store::{RunProgress, RunRecord, RunStatus};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use crate::DATA_ACCESS_BASE_PATH;
use crate::metadata::SYSTEM_PRINCIPAL;

/// AEP's metrics of a run's last attempt (zeros and no timestamps before the first one); while
/// an attempt is in progress, its input records so far.
fn present_metrics(record: &RunRecord) -> Value {
    let mut metrics = record.metrics.unwrap_or_default();
    if record.status == RunStatus::InProgress
        && let Some(progress) = &record.progress
    {
        metrics.input_records = progress.records;
    }
    let duration = match record.metrics {
        Some(metrics) => {
            json!({"startedAtUTC": metrics.started_at, "completedAtUTC": metrics.completed_at})
        }
        None => json!({}),
    };
    let errors: Vec<Value> = record
        .error
        .iter()
        .map(|error| json!({"code": error.code, "message": error.message}))
        .collect();
    let mut status = json!({"status": record.status.as_str(), "errors": errors});
    if !record.warnings.is_empty() {
        status["warnings"] = record
            .warnings
            .iter()
            .map(|warning| json!({"code": warning.code, "message": warning.message}))
            .collect();
    }
    json!({
        "durationSummary": duration,
        "sizeSummary": {"inputBytes": metrics.input_bytes, "outputBytes": metrics.output_bytes},
        "recordSummary": {
            "inputRecordCount": metrics.input_records,
            "outputRecordCount": metrics.output_records,
            "failedRecordCount": metrics.failed_records,
        },
        "fileSummary": {"outputFileCount": metrics.output_files},
        "statusSummary": status,
    })
}

/// The Data Access link of a run's batch (the batch id is the run id), as the Promotion
/// Activity gives it: a path under the Data Access API, whatever host the client reached.
fn batch_manifest_link(run_id: &str) -> String {
    format!("{DATA_ACCESS_BASE_PATH}/batches/{run_id}/meta?path=input_files")
}

/// The two activities of a run's last attempt (none before the first one): the Copy Activity
/// (the records fetched, each copied: input = output, as on AEP) and the Promotion Activity
/// (the records mapped, converted and validated into the dataset: what was written and what
/// was rejected, with the link to the batch's files).
fn present_activities(run_id: &str, metrics: Option<&RunMetrics>) -> Value {
    match metrics {
        None => json!([]),
        Some(metrics) => json!([
            {
                "name": "Copy Activity",
                "updatedAtUTC": metrics.completed_at,
                "recordSummary": {
                    "inputRecordCount": metrics.input_records,
                    "outputRecordCount": metrics.input_records,
                },
            },
            {
                "name": "Promotion Activity",
                "updatedAtUTC": metrics.completed_at,
                "recordSummary": {
                    "inputRecordCount": metrics.input_records,
                    "outputRecordCount": metrics.output_records,
                    "failedRecordCount": metrics.failed_records,
                },
                "fileSummary": {
                    "extensions": {"manifest": {"fileInfo": batch_manifest_link(run_id)}},
                },
            },
        ]),
    }
}

/// The wire shape of a run (reference §8.5). `sandbox_id` is the scope's sandbox UUID (the
/// record knows only the sandbox name).
pub fn present_run(record: &RunRecord, sandbox_id: &str) -> Value {
    let mut params = Map::new();
    if let Some(start) = record.window_start {
        params.insert("windowStartTime".into(), json!(start.div_euclid(1000)));
    }
    params.insert(
        "windowEndTime".into(),
        json!(record.window_end.div_euclid(1000)),
    );
    let principal =
        |value: &Option<String>| value.clone().unwrap_or_else(|| SYSTEM_PRINCIPAL.to_owned());
    let etag = run_etag(record);
    json!({
        "id": record.id,
        "createdAt": record.created_at,
        "updatedAt": record.updated_at.max(record.created_at),
        "createdBy": principal(&record.created_by),
        "updatedBy": principal(&record.created_by),
        "createdClient": principal(&record.created_client),
        "updatedClient": principal(&record.created_client),
        "sandboxId": sandbox_id,
        "sandboxName": record.scope.sandbox_name,
        "imsOrgId": record.scope.org_id,
        "flowId": record.flow_id,
        "params": params,
        "etag": etag,
        "version": etag,
        // flowd extensions: how many times a worker claimed the run (each claim is one
        // attempt), and what put it in the queue last.
        "attempts": record.attempts,
        "trigger": record.trigger.as_str(),
        "metrics": present_metrics(record),
        "activities": present_activities(&record.id, record.metrics.as_ref()),
        // flowd extension: how far the attempt in progress got (the last one's final figures
        // once it ended; null before the first claim).
        "progress": record.progress.as_ref().map(present_progress),
    })
}

/// `{"pages", "records", "updatedAtUTC"}` of a run's progress.
fn present_progress(progress: &RunProgress) -> Value {
    json!({
        "pages": progress.pages,
        "records": progress.records,
        "updatedAtUTC": progress.updated_at,
    })
}

/// AEP-shaped etag (a JSON string holding a quoted value) digesting what changes over a run's
/// life.
fn run_etag(record: &RunRecord) -> String {
    let mut digest = Sha256::new();
    digest.update(record.status.as_str());
    digest.update(record.attempts.to_be_bytes());
    digest.update(record.scheduled_at.to_be_bytes());
    digest.update(record.updated_at.to_be_bytes());
    digest.update(record.trigger.as_str());
    if let Some(metrics) = &record.metrics {
        digest.update(metrics.completed_at.to_be_bytes());
        digest.update(metrics.output_records.to_be_bytes());
    }
    if let Some(error) = &record.error {
        digest.update(&error.code);
        digest.update(&error.message);
    }
    if let Some(progress) = &record.progress {
        digest.update(progress.updated_at.to_be_bytes());
    }
    format!("\"{}\"", hex::encode(&digest.finalize()[..16]))
}

/// `lastRunDetails` of one run: `{id, state, startedAtUTC, completedAtUTC}`, the times only
/// once a worker recorded them.
pub fn details_of(record: &RunRecord) -> Value {
    let mut details = Map::new();
    details.insert("id".into(), json!(record.id));
    details.insert("state".into(), json!(record.status.as_str()));
    if let Some(metrics) = &record.metrics {
        details.insert("startedAtUTC".into(), json!(metrics.started_at));
        details.insert("completedAtUTC".into(), json!(metrics.completed_at));
    }
    Value::Object(details)
}

#[cfg(test)]
mod tests {
    use super::*;
    use flowd_model::{RunErrorRecord, RunTrigger};
    use flowd_store::Scope;

    fn record() -> RunRecord {
        RunRecord {
            id: "run-1".into(),
            position: 1,
            scope: Scope {
                org_id: "ORG@AdobeOrg".into(),
                sandbox_name: "prod".into(),
            },
            flow_id: "flow-1".into(),
            trigger: RunTrigger::Scheduled,
            window_start: None,
            window_end: 1_700_000_000_000,
            scheduled_at: 1_600_000_000_000,
            status: RunStatus::Success,
            attempts: 2,
            lease_owner: None,
            lease_expires_at: None,
            created_at: 1_600_000_000_000,
            created_by: None,
            created_client: None,
            updated_at: 1_600_000_009_000,
            metrics: None,
            error: None,
            warnings: Vec::new(),
            progress: None,
        }
    }

    #[test]
    fn a_run_before_its_first_attempt_shows_zeros_and_the_planner_as_creator() {
        let run = present_run(&record(), "sandbox-uuid");
        assert_eq!(run["createdAt"], 1_600_000_000_000_i64);
        assert_eq!(run["updatedAt"], 1_600_000_009_000_i64);
        assert_eq!(run["createdBy"], SYSTEM_PRINCIPAL);
        assert_eq!(run["params"], json!({"windowEndTime": 1_700_000_000}));
        assert_eq!(run["metrics"]["durationSummary"], json!({}));
        assert_eq!(run["metrics"]["fileSummary"], json!({"outputFileCount": 0}));
        assert_eq!(
            run["metrics"]["statusSummary"],
            json!({"status": "success", "errors": []})
        );
        assert_eq!(run["activities"], json!([]));
        assert_eq!(
            details_of(&record()),
            json!({"id": "run-1", "state": "success"})
        );
    }

    #[test]
    fn a_finished_attempt_shows_its_metrics_and_error() {
        let mut failed = record();
        failed.status = RunStatus::Failed;
        failed.metrics = Some(RunMetrics {
            started_at: 10,
            completed_at: 20,
            pages: 2,
            input_records: 5,
            input_bytes: 100,
            ..RunMetrics::default()
        });
        failed.error = Some(RunErrorRecord {
            code: "UPSTREAM".into(),
            message: "503".into(),
        });
        let run = present_run(&failed, "sandbox-uuid");
        assert_eq!(
            run["metrics"]["durationSummary"],
            json!({"startedAtUTC": 10, "completedAtUTC": 20})
        );
        assert_eq!(run["metrics"]["recordSummary"]["inputRecordCount"], 5);
        assert_eq!(
            run["metrics"]["statusSummary"]["errors"],
            json!([{"code": "UPSTREAM", "message": "503"}])
        );
        assert_eq!(run["activities"][0]["name"], "Copy Activity");
        assert_eq!(run["activities"][1]["name"], "Promotion Activity");
        assert_eq!(
            details_of(&failed),
            json!({"id": "run-1", "state": "failed", "startedAtUTC": 10, "completedAtUTC": 20})
        );
    }

    #[test]
    fn the_promotion_activity_counts_rejected_records_and_links_the_batch() {
        let mut partial = record();
        partial.metrics = Some(RunMetrics {
            started_at: 10,
            completed_at: 20,
            input_records: 10,
            output_records: 7,
            failed_records: 3,
            ..RunMetrics::default()
        });
        let run = present_run(&partial, "sandbox-uuid");
        assert_eq!(
            run["metrics"]["recordSummary"],
            json!({"inputRecordCount": 10, "outputRecordCount": 7, "failedRecordCount": 3})
        );
        assert_eq!(
            run["activities"],
            json!([
                {"name": "Copy Activity", "updatedAtUTC": 20,
                 "recordSummary": {"inputRecordCount": 10, "outputRecordCount": 10}},
                {"name": "Promotion Activity", "updatedAtUTC": 20,
                 "recordSummary": {"inputRecordCount": 10, "outputRecordCount": 7,
                                   "failedRecordCount": 3},
                 "fileSummary": {"extensions": {"manifest": {"fileInfo":
                     "/data/foundation/export/batches/run-1/meta?path=input_files"}}}}
            ])
        );
    }

    #[test]
    fn a_run_in_progress_shows_its_progress_and_input_records_so_far() {
        let mut running = record();
        running.status = RunStatus::InProgress;
        running.progress = Some(RunProgress {
            pages: 3,
            records: 300,
            updated_at: 1_600_000_010_000,
        });
        let run = present_run(&running, "sandbox-uuid");
        assert_eq!(
            run["progress"],
            json!({"pages": 3, "records": 300, "updatedAtUTC": 1_600_000_010_000_i64})
        );
        assert_eq!(run["metrics"]["recordSummary"]["inputRecordCount"], 300);
        assert_eq!(
            present_run(&record(), "sandbox-uuid")["progress"],
            Value::Null
        );
    }

    #[test]
    fn the_etag_changes_with_the_run() {
        let first = record();
        let mut failed = first.clone();
        failed.status = RunStatus::Failed;
        let mut retried = first.clone();
        retried.attempts += 1;
        let mut measured = first.clone();
        measured.metrics = Some(RunMetrics::default());
        let etags: std::collections::HashSet<String> = [&first, &failed, &retried, &measured]
            .into_iter()
            .map(run_etag)
            .collect();
        assert_eq!(etags.len(), 4);
        assert_eq!(run_etag(&first), run_etag(&first.clone()));
    }
}
