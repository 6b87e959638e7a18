//! A batch's error diagnostics as Catalog and Data Access show them (reference `data-prep.md`
//! §10.4–§10.5): a committed batch that rejected records within the threshold carries its
//! `failedRecordCount`, `errors` and tags; a failed run's batch reads as `failed`; the
//! diagnostics files list and stream under `meta?path=row_errors` and the older `/failed`;
//! batches without diagnostics show empty lists; another sandbox sees nothing. The scheduler's
//! part is played by storing the diagnostics document directly.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::world::World;
use common::{Caller, TestApp, assert_flow_error};
use flowd_model::diagnostics::{BatchDiagnostics, BatchErrorEntry, FailedRecord, RowErrorKind};
use flowd_model::{RunErrorRecord, RunMetrics};
use flowd_store::{BatchCommit, ResourceKind, ResourceWrite, RunCompletion, RunStatus, Scope};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

const EXPORT_BASE: &str = "/data/foundation/export";

fn scope(caller: &Caller) -> Scope {
    Scope {
        org_id: caller.org.clone(),
        sandbox_name: caller.sandbox.clone(),
    }
}

fn conversion_record(id: i64) -> FailedRecord {
    FailedRecord {
        kind: RowErrorKind::Conversion,
        record: json!({
            "id": id, "age": "old",
            "_errors": [{"column": "age", "code": "1402", "message": "Cannot convert string to integer"}],
            "_filename": "conversion_errors_0.json"
        }),
    }
}

fn required_record(id: i64) -> FailedRecord {
    FailedRecord {
        kind: RowErrorKind::Required,
        record: json!({
            "id": id,
            "_validationErrors": [{"causingExceptions": [], "keyword": "required",
                "message": "required key [email] not found", "pointerToViolation": "#",
                "schemaLocation": "#"}],
            "_filename": "validation_errors_0.json"
        }),
    }
}

fn parsing_record() -> FailedRecord {
    FailedRecord {
        kind: RowErrorKind::Parsing,
        record: json!({
            "_corrupt_record": "[1, 2]",
            "_errors": [{"code": "1401", "message": "Row is corrupted and cannot be read, please fix and resend."}],
            "_filename": "parsing_errors_0.json"
        }),
    }
}

/// Diagnostics of the batch `run_id` of `dataset_id` (flow `flow_id`) that read `input` records
/// and rejected `failed` of them.
fn diagnostics(
    run_id: &str,
    dataset_id: &str,
    flow_id: &str,
    status: &str,
    (input, failed): (u64, u64),
    failed_records: Vec<FailedRecord>,
) -> BatchDiagnostics {
    let output = if status == "success" {
        input - failed
    } else {
        0
    };
    BatchDiagnostics {
        batch_id: run_id.to_owned(),
        dataset_id: dataset_id.to_owned(),
        flow_id: flow_id.to_owned(),
        run_id: run_id.to_owned(),
        status: status.to_owned(),
        input_record_count: input,
        output_record_count: output,
        failed_record_count: failed,
        error_diagnostics_enabled: true,
        partial_ingestion_percent: Some(5.0),
        errors: vec![
            BatchErrorEntry {
                code: "INGEST-1212-400".into(),
                description: format!(
                    "Encountered {failed} errors in the data. Successfully ingested {output} rows. Please review the associated diagnostic files for more details."
                ),
                record_count: None,
            },
            BatchErrorEntry {
                code: RowErrorKind::Conversion.code().into(),
                description: RowErrorKind::Conversion.description().into(),
                record_count: Some(failed),
            },
        ],
        failed_records,
        created_at: 1_700_000_100_000,
    }
}

/// Stores `diagnostics` as the scheduler does.
async fn store_diagnostics(app: &TestApp, caller: &Caller, diagnostics: &BatchDiagnostics) {
    let document = diagnostics.to_document();
    app.store
        .insert_resource(
            &scope(caller),
            ResourceKind::BatchDiagnostics,
            &diagnostics.batch_id,
            ResourceWrite::document(&document),
        )
        .await
        .unwrap();
}

/// Records the committed batch `run_id` of `dataset_id` as a worker does.
async fn record_batch(
    app: &TestApp,
    caller: &Caller,
    dataset_id: &str,
    run_id: &str,
    records: u64,
) {
    let keep = |stored: Option<&str>| stored.unwrap_or("{}").to_owned();
    app.store
        .record_batch(
            &scope(caller),
            Some(run_id),
            &BatchCommit {
                dataset_id,
                batch_id: run_id,
                record_count: records,
                bytes: 1_000,
                file_count: 1,
                merge_schema: &keep,
            },
        )
        .await
        .unwrap();
}

/// Plays a worker: the pending run `run_id` fails on its rejected records.
async fn fail_run_on_rejections(app: &TestApp, run_id: &str, metrics: RunMetrics) {
    let claimed = app
        .store
        .claim_run("test-worker", i64::MAX / 4, 60_000, None)
        .await
        .unwrap()
        .expect("the run is due");
    assert_eq!(claimed.id, run_id);
    let completion = RunCompletion {
        status: RunStatus::Failed,
        scheduled_at: claimed.scheduled_at,
        metrics,
        error: Some(RunErrorRecord {
            code: "RECORDS_REJECTED".into(),
            message: "3 of 4 records were rejected, more than partialIngestionPercent (5)".into(),
        }),
        warnings: Vec::new(),
        batch: None,
    };
    assert!(
        app.store
            .finish_run(run_id, "test-worker", &completion)
            .await
            .unwrap()
    );
}

/// A raw Data Access answer: status, content type and body text.
async fn export(app: &TestApp, caller: &Caller, path: &str) -> (StatusCode, String, String) {
    let request = Request::builder()
        .uri(format!("{EXPORT_BASE}{path}"))
        .header("authorization", format!("Bearer {}", caller.token))
        .header("x-api-key", &caller.api_key)
        .header("x-gw-ims-org-id", &caller.org)
        .header("x-sandbox-name", &caller.sandbox)
        .body(Body::empty())
        .unwrap();
    let response = app.router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|value| value.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        content_type,
        String::from_utf8(bytes.to_vec()).unwrap(),
    )
}

/// The JSON objects of a JSON Lines file answered with 200.
async fn export_lines(app: &TestApp, caller: &Caller, path: &str) -> Vec<Value> {
    let (status, content_type, text) = export(app, caller, path).await;
    assert_eq!(status, StatusCode::OK, "{path}: {text}");
    assert_eq!(content_type, "application/x-ndjson", "{path}");
    assert!(text.is_empty() || text.ends_with('\n'), "{path}: {text:?}");
    text.lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

async fn export_json(app: &TestApp, caller: &Caller, path: &str) -> Value {
    let reply = app.send_under(EXPORT_BASE, caller, "GET", path, None).await;
    assert_eq!(reply.status, StatusCode::OK, "{path}: {}", reply.body);
    reply.body
}

async fn catalog_batch(app: &TestApp, caller: &Caller, batch_id: &str) -> Value {
    let reply = app
        .catalog(caller, "GET", &format!("/batches/{batch_id}"), None)
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.body.as_object().unwrap().len(), 1, "{}", reply.body);
    reply.body[batch_id].clone()
}

fn names(list: &Value) -> Vec<&str> {
    list["data"]
        .as_array()
        .unwrap_or_else(|| panic!("a list: {list}"))
        .iter()
        .map(|entry| entry["name"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn a_committed_batch_with_rejections_shows_them_in_catalog_and_serves_its_error_files() {
    let world = World::build().await;
    let (app, caller) = (&world.app, &world.caller);
    let batch_id = world.finished_run_id.as_str();
    record_batch(app, caller, &world.dataset_id, batch_id, 7).await;
    let stored = diagnostics(
        batch_id,
        &world.dataset_id,
        &world.flow_id,
        "success",
        (10, 3),
        vec![
            conversion_record(1),
            required_record(2),
            conversion_record(3),
        ],
    );
    store_diagnostics(app, caller, &stored).await;

    let batch = catalog_batch(app, caller, batch_id).await;
    assert_eq!(batch["status"], "success");
    assert_eq!(batch["metrics"]["failedRecordCount"], 3);
    assert_eq!(batch["metrics"]["outputRecordCount"], 7);
    assert_eq!(
        batch["errors"],
        serde_json::to_value(&stored.errors).unwrap()
    );
    assert_eq!(batch["errors"][1]["recordCount"], 3);
    assert_eq!(
        batch["tags"],
        json!({"acp_enableErrorDiagnostics": ["true"], "acp_partialIngestionPercent": ["5"]})
    );
    let listed = app
        .catalog(
            caller,
            "GET",
            &format!("/batches?dataSet={}", world.dataset_id),
            None,
        )
        .await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
    assert_eq!(
        listed.body[batch_id]["metrics"]["failedRecordCount"], 3,
        "the list reads the diagnostics of its page"
    );
    assert_eq!(listed.body[batch_id]["errors"], batch["errors"]);

    let row_errors = export_json(
        app,
        caller,
        &format!("/batches/{batch_id}/meta?path=row_errors"),
    )
    .await;
    assert_eq!(row_errors["_page"], json!({"count": 2, "limit": 100}));
    assert_eq!(
        names(&row_errors),
        ["conversion_errors_0.json", "validation_errors_0.json"]
    );
    let conversion_file = format!(
        "{}\n{}\n",
        stored.failed_records[0].record, stored.failed_records[2].record
    );
    assert_eq!(
        row_errors["data"][0]["length"],
        conversion_file.len().to_string()
    );
    let href = row_errors["data"][0]["_links"]["self"]["href"]
        .as_str()
        .unwrap();
    assert_eq!(
        href,
        format!("{EXPORT_BASE}/batches/{batch_id}/meta?path=row_errors%2Fconversion_errors_0.json")
    );
    let followed = export(app, caller, &href[EXPORT_BASE.len()..]).await;
    assert_eq!(
        (followed.0, followed.2.as_str()),
        (StatusCode::OK, conversion_file.as_str()),
        "the link serves the file, as long as it said"
    );
    assert_eq!(
        export_lines(
            app,
            caller,
            &format!("/batches/{batch_id}/meta?path=row_errors/validation_errors_0.json"),
        )
        .await,
        [stored.failed_records[1].record.clone()]
    );
    let (status, _, missing) = export(
        app,
        caller,
        &format!("/batches/{batch_id}/meta?path=row_errors/parsing_errors_0.json"),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "no parsing errors: {missing}"
    );
    let missing: Value = serde_json::from_str(&missing).unwrap();
    assert_eq!(missing["report"]["parameter"], "path");

    let input_files = export_json(
        app,
        caller,
        &format!("/batches/{batch_id}/meta?path=input_files"),
    )
    .await;
    assert_eq!(
        input_files,
        json!({"_page": {"count": 0, "limit": 100}, "data": []}),
        "flowd lands no raw input files"
    );
}

#[tokio::test]
async fn the_older_failed_route_lists_the_files_and_serves_them_by_name_or_by_reason() {
    let world = World::build().await;
    let (app, caller) = (&world.app, &world.caller);
    let batch_id = world.finished_run_id.as_str();
    record_batch(app, caller, &world.dataset_id, batch_id, 6).await;
    let stored = diagnostics(
        batch_id,
        &world.dataset_id,
        &world.flow_id,
        "success",
        (10, 4),
        vec![
            conversion_record(1),
            parsing_record(),
            required_record(2),
            conversion_record(3),
        ],
    );
    store_diagnostics(app, caller, &stored).await;

    let listed = export_json(app, caller, &format!("/batches/{batch_id}/failed")).await;
    assert_eq!(
        names(&listed),
        [
            "conversion_errors_0.json",
            "parsing_errors_0.json",
            "validation_errors_0.json"
        ]
    );
    assert_eq!(
        listed["data"][1]["_links"]["self"]["href"],
        format!("{EXPORT_BASE}/batches/{batch_id}/failed?path=parsing_errors_0.json")
    );
    let record = |index: usize| stored.failed_records[index].record.clone();
    assert_eq!(
        export_lines(
            app,
            caller,
            &format!("/batches/{batch_id}/failed?path=conversion_errors_0.json")
        )
        .await,
        [record(0), record(3)]
    );
    assert_eq!(
        export_lines(
            app,
            caller,
            &format!("/batches/{batch_id}/failed?path=conversion_errors")
        )
        .await,
        [record(0), record(3)]
    );
    assert_eq!(
        export_lines(
            app,
            caller,
            &format!("/batches/{batch_id}/failed?path=parse_errors")
        )
        .await,
        [record(1)]
    );
    let (status, _, _) = export(
        app,
        caller,
        &format!("/batches/{batch_id}/failed?path=part-00000.json"),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_failed_run_s_batch_reads_failed_with_what_it_rejected() {
    let world = World::build().await;
    let (app, caller) = (&world.app, &world.caller);
    let batch_id = world.pending_run_id.as_str();
    fail_run_on_rejections(
        app,
        batch_id,
        RunMetrics {
            started_at: 1_700_000_000_000,
            completed_at: 1_700_000_009_000,
            input_records: 4,
            failed_records: 3,
            ..RunMetrics::default()
        },
    )
    .await;
    let stored = diagnostics(
        batch_id,
        &world.dataset_id,
        &world.flow_id,
        "failed",
        (4, 3),
        vec![conversion_record(1), conversion_record(2), parsing_record()],
    );
    store_diagnostics(app, caller, &stored).await;

    let batch = catalog_batch(app, caller, batch_id).await;
    assert_eq!(batch["status"], "failed");
    assert_eq!(
        batch["relatedObjects"],
        json!([{"type": "dataSet", "id": world.dataset_id}, {"type": "flowRun", "id": batch_id}])
    );
    assert_eq!(batch["metrics"]["inputRecordCount"], 4);
    assert_eq!(batch["metrics"]["outputRecordCount"], 0);
    assert_eq!(batch["metrics"]["failedRecordCount"], 3);
    assert_eq!(batch["metrics"]["startTime"], 1_700_000_000_000_i64);
    assert_eq!(batch["metrics"]["endTime"], 1_700_000_009_000_i64);
    assert_eq!(
        batch["errors"],
        serde_json::to_value(&stored.errors).unwrap()
    );
    assert_eq!(batch["tags"]["acp_enableErrorDiagnostics"], json!(["true"]));
    let listed = app
        .catalog(
            caller,
            "GET",
            &format!("/batches?dataSet={}", world.dataset_id),
            None,
        )
        .await;
    assert!(
        listed.body.get(batch_id).is_none(),
        "the list holds committed batches: {}",
        listed.body
    );

    let row_errors = export_json(
        app,
        caller,
        &format!("/batches/{batch_id}/meta?path=row_errors"),
    )
    .await;
    assert_eq!(
        names(&row_errors),
        ["conversion_errors_0.json", "parsing_errors_0.json"]
    );
    assert_eq!(
        export_lines(
            app,
            caller,
            &format!("/batches/{batch_id}/meta?path=row_errors%2Fparsing_errors_0.json")
        )
        .await,
        [stored.failed_records[2].record.clone()]
    );

    let run = app.get(caller, &format!("/runs/{batch_id}")).await;
    assert_eq!(
        run.body["items"][0]["metrics"]["recordSummary"]["failedRecordCount"],
        3
    );
}

#[tokio::test]
async fn a_batch_without_diagnostics_has_no_failures_and_empty_lists() {
    let world = World::build().await;
    let (app, caller) = (&world.app, &world.caller);
    let batch_id = world.finished_run_id.as_str();
    record_batch(app, caller, &world.dataset_id, batch_id, 5).await;

    let batch = catalog_batch(app, caller, batch_id).await;
    assert_eq!(batch["status"], "success");
    assert_eq!(batch["metrics"]["failedRecordCount"], 0);
    assert_eq!(batch["errors"], json!([]));
    let empty = json!({"_page": {"count": 0, "limit": 100}, "data": []});
    for path in ["meta?path=row_errors", "meta?path=input_files", "failed"] {
        assert_eq!(
            export_json(app, caller, &format!("/batches/{batch_id}/{path}")).await,
            empty,
            "{path}"
        );
    }
    assert!(
        export_lines(
            app,
            caller,
            &format!("/batches/{batch_id}/failed?path=conversion_errors")
        )
        .await
        .is_empty()
    );
    let (status, _, body) = export(app, caller, &format!("/batches/{batch_id}/meta")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "path is required: {body}");
}

#[tokio::test]
async fn a_failed_attempt_after_a_committed_batch_does_not_rewrite_the_batch() {
    let world = World::build().await;
    let (app, caller) = (&world.app, &world.caller);
    let batch_id = world.finished_run_id.as_str();
    record_batch(app, caller, &world.dataset_id, batch_id, 5).await;
    let stored = diagnostics(
        batch_id,
        &world.dataset_id,
        &world.flow_id,
        "failed",
        (5, 5),
        vec![conversion_record(1)],
    );
    store_diagnostics(app, caller, &stored).await;

    let batch = catalog_batch(app, caller, batch_id).await;
    assert_eq!(
        (
            batch["status"].clone(),
            batch["metrics"]["failedRecordCount"].clone()
        ),
        (json!("success"), json!(0)),
        "the committed batch is what the dataset holds: {batch}"
    );
    assert_eq!(
        names(
            &export_json(
                app,
                caller,
                &format!("/batches/{batch_id}/meta?path=row_errors")
            )
            .await
        ),
        Vec::<&str>::new()
    );
}

#[tokio::test]
async fn another_sandbox_and_unknown_batches_get_404() {
    let world = World::build().await;
    let (app, caller) = (&world.app, &world.caller);
    let committed = world.finished_run_id.as_str();
    record_batch(app, caller, &world.dataset_id, committed, 7).await;
    store_diagnostics(
        app,
        caller,
        &diagnostics(
            committed,
            &world.dataset_id,
            &world.flow_id,
            "success",
            (10, 3),
            vec![conversion_record(1)],
        ),
    )
    .await;
    let failed = world.pending_run_id.as_str();
    store_diagnostics(
        app,
        caller,
        &diagnostics(
            failed,
            &world.dataset_id,
            &world.flow_id,
            "failed",
            (4, 3),
            vec![conversion_record(1)],
        ),
    )
    .await;

    let mut elsewhere = caller.clone();
    elsewhere.sandbox = "dev".into();
    let unknown = "00000000-0000-4000-8000-000000000000";
    for (who, batch_id) in [
        (&elsewhere, committed),
        (&elsewhere, failed),
        (caller, unknown),
    ] {
        assert_flow_error(
            &app.catalog(who, "GET", &format!("/batches/{batch_id}"), None)
                .await,
            "1439-404",
        );
        for path in [
            "meta?path=row_errors",
            "meta?path=row_errors/conversion_errors_0.json",
            "meta?path=input_files",
            "failed",
            "failed?path=conversion_errors",
        ] {
            let reply = app
                .send_under(
                    EXPORT_BASE,
                    who,
                    "GET",
                    &format!("/batches/{batch_id}/{path}"),
                    None,
                )
                .await;
            assert_flow_error(&reply, "1439-404");
            assert_eq!(reply.body["report"]["type"], "batches", "{path}");
        }
    }
}
