//! Scheduled runs end to end: a flow scheduled every 15 minutes whose start
//! lies 45 minutes in the past has three windows due at once; `flowd serve`
//! runs them against a MailChimp-like mock and writes each window's members
//! into the target dataset as Parquet, each record once (pages gzip-compressed and chunked).

mod common;

use std::time::Duration;

use common::{Credential, Server, data_dir};
use flowd_mockapi::{Auth, DEFAULT_LIST_ID, MockApi, Scenario, Transport};
use flowd_store::prelude::*;
use flowd_store::{ListQuery, RunFilter, RunStatus, Scope, SqliteStore};
use serde_json::{Value, json};

const PASSWORD: &str = "runs-secret-password";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_due_windows_land_in_the_dataset_each_record_once() {
    // The usual umask, which leaves new files readable by others: the server must not.
    rustix::process::umask(rustix::fs::Mode::from_raw_mode(0o022));
    let now = jiff::Timestamp::now().as_second();
    // Scheduled times start, start+15m, start+30m are due; start+45m is not.
    let start_time = now - 45 * 60 + 30;
    let first_window_start = start_time - 15 * 60;
    let last_window_end = start_time + 30 * 60;
    // One member a minute from 20 minutes before the first window to 10 after the last.
    let records: Vec<Value> = (0..75)
        .map(|minute| {
            let changed = jiff::Timestamp::from_second(first_window_start - 20 * 60 + minute * 60).unwrap();
            json!({"id": minute, "email_address": format!("m{minute}@example.com"), "last_changed": changed.to_string()})
        })
        .collect();
    let inside: Vec<i64> = records
        .iter()
        .filter(|record| {
            let changed: jiff::Timestamp =
                record["last_changed"].as_str().unwrap().parse().unwrap();
            changed.as_second() >= first_window_start && changed.as_second() < last_window_end
        })
        .map(|record| record["id"].as_i64().unwrap())
        .collect();
    assert_eq!(inside.len(), 45);
    // Pages come gzip-compressed and chunked, as from many real APIs.
    let mock = MockApi::start(
        Scenario::explicit(records)
            .with_auth(Auth::Basic {
                username: "anystring".into(),
                password: PASSWORD.into(),
            })
            .with_transport(Transport {
                gzip: true,
                chunk_bytes: Some(512),
                ..Transport::default()
            }),
    )
    .await;

    let (_dir, data_dir) = data_dir();
    let server = Server::start_with_args(
        &data_dir,
        &["--planner-tick-ms", "200", "--retry-backoff-ms", "100"],
    );
    let credential = Credential::from_json(server.printed_credential.as_ref().unwrap());
    let client = reqwest::Client::new();
    let workflow = common::workflow::create(
        &client,
        &credential,
        &server,
        &mock.base_url(),
        ("anystring", PASSWORD),
        DEFAULT_LIST_ID,
        json!({"startTime": start_time.to_string(), "frequency": "minute", "interval": "15", "backfill": "false"}),
    )
    .await;
    let (flow_id, dataset_id) = (workflow.flow_id, workflow.dataset_id);

    // Wait for the three runs to succeed (the store is read beside the server).
    let store = SqliteStore::open_in_data_dir(&data_dir).await.unwrap();
    let scope = Scope {
        org_id: "flowd@AdobeOrg".into(),
        sandbox_name: "prod".into(),
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let runs = loop {
        let of_flow = RunFilter {
            flow_ids: Some(vec![flow_id.clone()]),
        };
        let mut runs = store
            .list_runs(&scope, &of_flow, &ListQuery::default())
            .await
            .unwrap();
        runs.sort_by_key(|run| run.window_end);
        if runs.len() == 3 && runs.iter().all(|run| run.status == RunStatus::Success) {
            break runs;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "runs did not all succeed: {runs:#?}\n{}",
            server.logs()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let windows: Vec<(Option<i64>, i64)> = runs
        .iter()
        .map(|run| (run.window_start, run.window_end))
        .collect();
    assert_eq!(
        windows,
        [
            (Some(first_window_start * 1000), start_time * 1000),
            (Some(start_time * 1000), (start_time + 900) * 1000),
            (Some((start_time + 900) * 1000), last_window_end * 1000),
        ],
        "three contiguous windows"
    );
    for run in &runs {
        assert_eq!(
            run.metrics.map(|metrics| metrics.output_records),
            Some(15),
            "{run:?}"
        );
    }
    // The mock saw each window's bounds on every request.
    let format = |second: i64| {
        jiff::Timestamp::from_second(second)
            .unwrap()
            .strftime("%Y-%m-%dT%H:%M:%S:0000000Z")
            .to_string()
    };
    let mut seen_windows: Vec<(String, String)> = mock
        .requests()
        .iter()
        .filter(|request| request.path.ends_with("/members"))
        .map(|request| {
            (
                request
                    .query_param("since_last_changed")
                    .unwrap()
                    .to_owned(),
                request
                    .query_param("before_last_changed")
                    .unwrap()
                    .to_owned(),
            )
        })
        .collect();
    seen_windows.sort();
    seen_windows.dedup();
    assert_eq!(
        seen_windows,
        [
            (format(first_window_start), format(start_time)),
            (format(start_time), format(start_time + 900)),
            (format(start_time + 900), format(last_window_end)),
        ]
    );
    // The dataset holds exactly the members of the windows, each once.
    let dataset = flowd_sink::Dataset::open(data_dir.join("datasets"), &dataset_id).unwrap();
    assert_eq!(dataset.batches().unwrap().len(), 3);
    let mut ids: Vec<i64> = dataset
        .head(1000)
        .unwrap()
        .iter()
        .map(|record| record["member"]["id"].as_i64().unwrap())
        .collect();
    ids.sort_unstable();
    assert_eq!(ids, inside);

    // `flowd dataset` reads the same back without the server.
    let dataset_command = |arguments: &[&str]| {
        let output = common::flowd()
            .arg("dataset")
            .args(arguments)
            .arg("--data-dir")
            .arg(&data_dir)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    };
    let listed = dataset_command(&["list"]);
    assert!(
        listed.contains(&format!(
            "{dataset_id}\tmembers\tflowd@AdobeOrg\tprod\t3\t45"
        )),
        "{listed}"
    );
    let schema = dataset_command(&["schema", &dataset_id]);
    assert!(
        schema.contains("member: Struct") && schema.contains("_flowd_run_id: Utf8"),
        "{schema}"
    );
    let head = dataset_command(&["head", &dataset_id, "-n", "5"]);
    let lines: Vec<Value> = head
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(lines.len(), 5);
    assert!(lines.iter().all(
        |line| line["member"]["email_address"].is_string() && line["_flowd_run_id"].is_string()
    ));
    assert!(server.terminate().success());

    // Whatever the umask the server started with, nothing it wrote is open to others: the
    // store, the key, the datasets and every batch file.
    let mut checked = 0;
    let mut pending = vec![data_dir.clone()];
    while let Some(path) = pending.pop() {
        use std::os::unix::fs::PermissionsExt as _;
        let metadata = std::fs::metadata(&path).unwrap();
        let mode = metadata.permissions().mode() & 0o777;
        if metadata.is_dir() {
            assert_eq!(mode, 0o700, "{} is {mode:o}", path.display());
            pending.extend(
                std::fs::read_dir(&path)
                    .unwrap()
                    .map(|entry| entry.unwrap().path()),
            );
        } else {
            assert_eq!(mode, 0o600, "{} is {mode:o}", path.display());
        }
        checked += 1;
    }
    assert!(
        checked > 8,
        "the data dir, its store, key, datasets and batches"
    );
}

/// `--datasets-url` puts the batches where every process can reach them (here a file URL of
/// another directory): the run's files are there and not in the data dir, and `flowd dataset`
/// reads them back with the same option.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_datasets_url_puts_the_batches_outside_the_data_dir() {
    use common::runs::{
        member_ids, members, parquet_files, schedule_params, schedule_with_due_windows,
    };
    let (start_time, window_start) = schedule_with_due_windows(1);
    let mock = MockApi::start(
        Scenario::explicit(members(30, window_start, 15 * 60)).with_auth(Auth::Basic {
            username: "anystring".into(),
            password: PASSWORD.into(),
        }),
    )
    .await;
    let (dir, data_dir) = data_dir();
    let shared = dir.path().join("shared-datasets");
    let url = format!("file://{}", shared.display());
    let server = Server::start_with_args(
        &data_dir,
        &["--planner-tick-ms", "100", "--datasets-url", &url],
    );
    let credential = Credential::from_json(server.printed_credential.as_ref().unwrap());
    let client = reqwest::Client::new();
    let workflow = common::workflow::create(
        &client,
        &credential,
        &server,
        &mock.base_url(),
        ("anystring", PASSWORD),
        DEFAULT_LIST_ID,
        schedule_params(start_time),
    )
    .await;
    common::workflow::wait_for_successes(
        &client,
        &credential,
        &server,
        &workflow.flow_id,
        1,
        Duration::from_secs(30),
    )
    .await;
    assert!(server.terminate().success());
    assert!(!parquet_files(&shared.join(&workflow.dataset_id)).is_empty());
    assert!(
        parquet_files(&data_dir.join("datasets")).is_empty(),
        "nothing in the data dir"
    );
    let ids: Vec<i64> = {
        let dataset = flowd_sink::Dataset::open(&shared, &workflow.dataset_id).unwrap();
        let mut ids: Vec<i64> = dataset
            .head(100)
            .unwrap()
            .iter()
            .map(|record| record["member"]["id"].as_i64().unwrap())
            .collect();
        ids.sort_unstable();
        ids
    };
    assert_eq!(ids, (0..30).collect::<Vec<_>>());
    assert!(member_ids(&data_dir, &workflow.dataset_id).is_empty());
    let head = common::flowd()
        .args([
            "dataset",
            "head",
            &workflow.dataset_id,
            "-n",
            "100",
            "--data-dir",
        ])
        .arg(&data_dir)
        .args(["--datasets-url", &url])
        .output()
        .unwrap();
    assert!(
        head.status.success(),
        "{}",
        String::from_utf8_lossy(&head.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&head.stdout).lines().count(), 30);
}

/// A second process starting on the same store and datasets sweeps the staging area at
/// start-up while the first one is writing a batch: the live writer's files are left alone,
/// so its run succeeds at its first attempt with every record once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_process_starting_beside_a_running_one_leaves_its_batch_in_progress_alone() {
    use common::runs::{member_ids, members, schedule_params, schedule_with_due_windows};
    const RECORDS: i64 = 12_000;
    let (start_time, window_start) = schedule_with_due_windows(1);
    let mock = MockApi::start(
        Scenario::explicit(members(RECORDS, window_start, 15 * 60))
            .with_auth(Auth::Basic {
                username: "anystring".into(),
                password: PASSWORD.into(),
            })
            .with_latency(Duration::from_millis(15)),
    )
    .await;
    let (_dir, data_dir) = data_dir();
    let arguments = ["--planner-tick-ms", "100", "--lease-ms", "60000"];
    let first = Server::start_with_args(&data_dir, &arguments);
    let credential = Credential::from_json(first.printed_credential.as_ref().unwrap());
    let client = reqwest::Client::new();
    let workflow = common::workflow::create(
        &client,
        &credential,
        &first,
        &mock.base_url(),
        ("anystring", PASSWORD),
        DEFAULT_LIST_ID,
        schedule_params(start_time),
    )
    .await;
    // Wait until a row group of the run is on disk in staging (10,000 records in).
    let staging = data_dir.join("datasets").join(".flowd-staging");
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let staged = common::runs::parquet_files(&staging)
            .iter()
            .any(|file| std::fs::metadata(file).is_ok_and(|metadata| metadata.len() > 0));
        if staged {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{}", first.logs());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let second = Server::start_with_args(&data_dir, &arguments);
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let run = loop {
        let runs = common::workflow::runs_of(&client, &credential, &first, &workflow.flow_id).await;
        if let Some(run) = runs
            .first()
            .filter(|run| run["metrics"]["statusSummary"]["status"] == "success")
        {
            break run.clone();
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{runs:#?}\n{}",
            first.logs()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(run["attempts"], 1, "the first attempt committed: {run}");
    assert_eq!(
        member_ids(&data_dir, &workflow.dataset_id),
        (0..RECORDS).collect::<Vec<_>>()
    );
    assert!(second.terminate().success());
    assert!(first.terminate().success());
}

/// A window with nothing new: the run succeeds with 0 records and leaves no batch folder
/// (no manifest-only folder for a reader's `*/*.parquet` glob to trip on) and no statistics.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_that_fetched_nothing_succeeds_and_leaves_no_batch_folder() {
    use common::runs::{schedule_params, schedule_with_due_windows};
    let (start_time, _) = schedule_with_due_windows(1);
    let mock = MockApi::start(Scenario::explicit(Vec::new()).with_auth(Auth::Basic {
        username: "anystring".into(),
        password: PASSWORD.into(),
    }))
    .await;
    let (_dir, data_dir) = data_dir();
    let server = Server::start_with_args(&data_dir, &["--planner-tick-ms", "100"]);
    let credential = Credential::from_json(server.printed_credential.as_ref().unwrap());
    let client = reqwest::Client::new();
    let workflow = common::workflow::create(
        &client,
        &credential,
        &server,
        &mock.base_url(),
        ("anystring", PASSWORD),
        DEFAULT_LIST_ID,
        schedule_params(start_time),
    )
    .await;
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let run = loop {
        let runs =
            common::workflow::runs_of(&client, &credential, &server, &workflow.flow_id).await;
        if let Some(run) = runs
            .first()
            .filter(|run| run["metrics"]["statusSummary"]["status"] == "success")
        {
            break run.clone();
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{runs:#?}\n{}",
            server.logs()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(
        run["metrics"]["recordSummary"]["outputRecordCount"], 0,
        "{run}"
    );
    assert!(server.terminate().success());
    let dataset_dir = data_dir.join("datasets").join(&workflow.dataset_id);
    let entries: Vec<_> = std::fs::read_dir(&dataset_dir)
        .map(|entries| entries.map(|entry| entry.unwrap().file_name()).collect())
        .unwrap_or_default();
    assert!(entries.is_empty(), "no batch folder: {entries:?}");
    let listed = common::flowd()
        .args(["dataset", "list", "--data-dir"])
        .arg(&data_dir)
        .output()
        .unwrap();
    let listed = String::from_utf8_lossy(&listed.stdout);
    assert!(
        listed.contains(&format!(
            "{}\tmembers\tflowd@AdobeOrg\tprod\t0\t0",
            workflow.dataset_id
        )),
        "{listed}"
    );
}

/// Deleting a dataset (after its flow and target connection) removes its Parquet files: a
/// reader no longer finds them, and `flowd dataset head` reads nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_a_dataset_removes_its_files() {
    use common::runs::{members, parquet_files, schedule_params, schedule_with_due_windows};
    use common::workflow::call;
    let (start_time, window_start) = schedule_with_due_windows(1);
    let mock = MockApi::start(
        Scenario::explicit(members(20, window_start, 15 * 60)).with_auth(Auth::Basic {
            username: "anystring".into(),
            password: PASSWORD.into(),
        }),
    )
    .await;
    let (_dir, data_dir) = data_dir();
    let server = Server::start_with_args(&data_dir, &["--planner-tick-ms", "100"]);
    let credential = Credential::from_json(server.printed_credential.as_ref().unwrap());
    let client = reqwest::Client::new();
    let workflow = common::workflow::create(
        &client,
        &credential,
        &server,
        &mock.base_url(),
        ("anystring", PASSWORD),
        DEFAULT_LIST_ID,
        schedule_params(start_time),
    )
    .await;
    let dataset_dir = data_dir.join("datasets").join(&workflow.dataset_id);
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while parquet_files(&dataset_dir).is_empty() {
        assert!(std::time::Instant::now() < deadline, "{}", server.logs());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for path in [
        format!("/flows/{}", workflow.flow_id),
        format!("/targetConnections/{}", workflow.target_id),
        format!("/data/foundation/catalog/dataSets/{}", workflow.dataset_id),
    ] {
        let (status, body) = call(
            &client,
            &credential,
            &server,
            reqwest::Method::DELETE,
            &path,
            None,
        )
        .await;
        assert!(status < 300, "{path}: {status} {body}");
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while dataset_dir.exists() {
        assert!(
            std::time::Instant::now() < deadline,
            "the files stay: {}",
            server.logs()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(server.terminate().success());
    let head = common::flowd()
        .args(["dataset", "head", &workflow.dataset_id, "--data-dir"])
        .arg(&data_dir)
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&head.stdout).trim().is_empty(),
        "{}",
        String::from_utf8_lossy(&head.stdout)
    );
    let store = SqliteStore::open_in_data_dir(&data_dir).await.unwrap();
    assert!(
        store.deleted_datasets().await.unwrap().is_empty(),
        "forgotten once removed"
    );
}
