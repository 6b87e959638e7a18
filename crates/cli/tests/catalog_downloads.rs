//! Catalog batches and the Data Access API end to end: `flowd serve` runs a scheduled flow
//! against a mock, `/batches?dataSet=` lists one batch per successful run with its counts,
//! times and run, and the files downloaded through `/export/batches/{id}/files` and
//! `/export/files/{id}?path=` read back with pyarrow as the dataset's records, each once — from
//! local disk, and from object storage (a moto server on loopback) when one can be started.
//!
//! pyarrow is optional on a developer machine (the pyarrow half says it skipped); CI sets
//! `FLOWD_REQUIRE_PYARROW=1`, so there it must run.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::runs::{members, schedule_params, schedule_with_due_windows};
use common::workflow::{self, call, wait_for_successes};
use common::{Credential, Server, data_dir};
use flowd_mockapi::{Auth, DEFAULT_LIST_ID, MockApi, Scenario};
use serde_json::Value;

const PASSWORD: &str = "downloads-secret-password";

/// Every `member.id` pyarrow reads under `dir` (all its Parquet files, schemas unified), or
/// `None` when python3 cannot import pyarrow.
fn pyarrow_member_ids(dir: &Path) -> Option<Vec<i64>> {
    if !common::runs::pyarrow_available() {
        return None;
    }
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts/read_dataset.py");
    let output = Command::new("python3")
        .arg(script)
        .arg(dir)
        .arg("member")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let read: Value = serde_json::from_slice(&output.stdout).unwrap();
    let mut ids: Vec<i64> = read["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|member| member["id"].as_i64().unwrap())
        .collect();
    assert_eq!(read["rows"], ids.len());
    ids.sort_unstable();
    Some(ids)
}

/// Runs a flow with `windows` due windows over `count` members on a server started with
/// `arguments` and `environment`, checks the Catalog batches, downloads every batch's files
/// through the Data Access API into `downloads`, and returns the dataset id.
async fn run_and_download(
    arguments: &[&str],
    environment: &[(&'static str, &str)],
    windows: i64,
    count: i64,
    downloads: &Path,
) -> (tempfile::TempDir, std::path::PathBuf, String) {
    let (start_time, window_start) = schedule_with_due_windows(windows);
    let mock = MockApi::start(
        Scenario::explicit(members(count, window_start, windows * 15 * 60)).with_auth(
            Auth::Basic {
                username: "anystring".into(),
                password: PASSWORD.into(),
            },
        ),
    )
    .await;
    let (dir, data_dir) = data_dir();
    let mut all_arguments = vec!["--planner-tick-ms", "200"];
    all_arguments.extend_from_slice(arguments);
    let server = Server::start_with_env(&data_dir, &all_arguments, environment);
    let credential = Credential::from_json(server.printed_credential.as_ref().unwrap());
    let client = reqwest::Client::new();
    let flow = workflow::create(
        &client,
        &credential,
        &server,
        &mock.base_url(),
        ("anystring", PASSWORD),
        DEFAULT_LIST_ID,
        schedule_params(start_time),
    )
    .await;
    let runs = wait_for_successes(
        &client,
        &credential,
        &server,
        &flow.flow_id,
        windows as usize,
        Duration::from_secs(60),
    )
    .await;
    let get = |path: String| {
        let (client, credential, server) = (&client, &credential, &server);
        async move {
            call(
                client,
                credential,
                server,
                reqwest::Method::GET,
                &path,
                None,
            )
            .await
        }
    };

    let (status, batches) = get(format!(
        "/data/foundation/catalog/batches?dataSet={}&orderBy=asc:created",
        flow.dataset_id
    ))
    .await;
    assert_eq!(status, 200, "{batches}");
    let batches = batches.as_object().unwrap().clone();
    assert_eq!(batches.len(), runs.len(), "one batch per successful run");
    let mut run_ids: Vec<&str> = runs.iter().map(|run| run["id"].as_str().unwrap()).collect();
    run_ids.sort_unstable();
    let mut batch_runs: Vec<&str> = batches
        .values()
        .map(|batch| {
            let related = batch["relatedObjects"].as_array().unwrap();
            assert_eq!(related[0]["type"], "dataSet");
            assert_eq!(related[0]["id"], flow.dataset_id.as_str());
            assert_eq!(related[1]["type"], "flowRun");
            related[1]["id"].as_str().unwrap()
        })
        .collect();
    batch_runs.sort_unstable();
    assert_eq!(batch_runs, run_ids, "each batch names its run");
    let mut records = 0;
    for (batch_id, batch) in &batches {
        assert_eq!(batch["status"], "success", "{batch}");
        let written = batch["metrics"]["recordCount"].as_i64().unwrap();
        assert_eq!(batch["metrics"]["inputRecordCount"], written, "{batch}");
        let (started, completed) = (
            batch["started"].as_i64().unwrap(),
            batch["completed"].as_i64().unwrap(),
        );
        assert!(started <= completed && completed <= batch["created"].as_i64().unwrap());
        records += written;

        let (status, files) =
            get(format!("/data/foundation/export/batches/{batch_id}/files")).await;
        assert_eq!(status, 200, "{files}");
        for file in files["data"].as_array().unwrap() {
            let file_id = file["dataSetFileId"].as_str().unwrap();
            let (status, parts) = get(format!("/data/foundation/export/files/{file_id}")).await;
            assert_eq!(status, 200, "{parts}");
            for part in parts["data"].as_array().unwrap() {
                let href = part["_links"]["self"]["href"].as_str().unwrap();
                // The link is followed as a client would, whole.
                let response = credential.apply(client.get(href)).send().await.unwrap();
                assert_eq!(response.status(), 200, "{href}");
                assert_eq!(
                    response.headers()["content-type"],
                    "application/octet-stream"
                );
                let bytes = response.bytes().await.unwrap();
                assert_eq!(part["length"], bytes.len().to_string());
                let target = downloads.join(format!("batch-{batch_id}"));
                std::fs::create_dir_all(&target).unwrap();
                std::fs::write(target.join(part["name"].as_str().unwrap()), &bytes).unwrap();
            }
        }
    }
    assert_eq!(records, count, "the batches hold every record");
    let (status, dataset) = get(format!(
        "/data/foundation/catalog/dataSets/{}",
        flow.dataset_id
    ))
    .await;
    assert_eq!(status, 200);
    let last = &dataset[&flow.dataset_id]["lastBatchId"];
    assert!(batches.contains_key(last.as_str().unwrap()), "{dataset}");
    drop(server);
    (dir, data_dir, flow.dataset_id)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn downloaded_batch_files_read_back_with_pyarrow_as_the_datasets_records() {
    let downloads = tempfile::tempdir().unwrap();
    let (_dir, data_dir, dataset_id) = run_and_download(&[], &[], 2, 120, downloads.path()).await;
    let Some(downloaded) = pyarrow_member_ids(downloads.path()) else {
        return;
    };
    assert_eq!(downloaded, (0..120).collect::<Vec<_>>(), "each record once");
    let on_disk = pyarrow_member_ids(&data_dir.join("datasets").join(&dataset_id)).unwrap();
    assert_eq!(downloaded, on_disk, "the downloads are the dataset");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batch_files_stream_from_object_storage_and_read_back_with_pyarrow() {
    let Some(s3) = flowd_sink::moto::MotoServer::start_or_skip(
        "batch_files_stream_from_object_storage_and_read_back_with_pyarrow",
    ) else {
        return;
    };
    let url = format!("s3://{}/downloads", s3.bucket());
    let environment = s3.environment();
    let environment: Vec<(&'static str, &str)> = environment
        .iter()
        .map(|(name, value)| (*name, value.as_str()))
        .collect();
    let downloads = tempfile::tempdir().unwrap();
    run_and_download(
        &["--datasets-url", &url],
        &environment,
        1,
        80,
        downloads.path(),
    )
    .await;
    if let Some(downloaded) = pyarrow_member_ids(downloads.path()) {
        assert_eq!(downloaded, (0..80).collect::<Vec<_>>(), "each record once");
    }
}
