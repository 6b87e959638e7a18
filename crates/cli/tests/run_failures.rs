//! Runs that go wrong, end to end against `flowd serve` and a mock API: a
//! server killed with SIGKILL in the middle of a run, an upstream answering
//! 500 until the retry budget is spent, an upstream that recovers before a
//! RE_TRIGGER, and credentials the upstream refuses.

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::runs::{
    member_ids, members, parquet_files, schedule_params, schedule_with_due_windows,
};
use common::workflow::{self, Workflow, call, runs_of};
use common::{Credential, Server, data_dir};
use flowd_mockapi::{Auth, DEFAULT_LIST_ID, FailFirst, Faults, MockApi, Scenario};

use flowd_store::SqliteStore;
use flowd_store::prelude::*;
use serde_json::{Value, json};

const USERNAME: &str = "anystring";
const PASSWORD: &str = "run-failures-secret-password";

fn basic_auth() -> Auth {
    Auth::Basic {
        username: USERNAME.into(),
        password: PASSWORD.into(),
    }
}

struct Harness {
    client: reqwest::Client,
    credential: Credential,
}

impl Harness {
    fn new(server: &Server) -> Harness {
        Harness {
            client: reqwest::Client::new(),
            credential: Credential::from_json(server.printed_credential.as_ref().unwrap()),
        }
    }

    async fn create(
        &self,
        server: &Server,
        mock: &MockApi,
        password: &str,
        start_time: i64,
    ) -> Workflow {
        workflow::create(
            &self.client,
            &self.credential,
            server,
            &mock.base_url(),
            (USERNAME, password),
            DEFAULT_LIST_ID,
            schedule_params(start_time),
        )
        .await
    }

    async fn runs(&self, server: &Server, flow_id: &str) -> Vec<Value> {
        runs_of(&self.client, &self.credential, server, flow_id).await
    }

    /// Polls `GET /runs` every 200 ms until `done` holds for the flow's runs.
    async fn wait_for_runs(
        &self,
        server: &Server,
        flow_id: &str,
        what: &str,
        timeout: Duration,
        done: impl Fn(&[Value]) -> bool,
    ) -> Vec<Value> {
        let deadline = Instant::now() + timeout;
        loop {
            let runs = self.runs(server, flow_id).await;
            if done(&runs) {
                return runs;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}: {runs:#?}\n{}",
                server.logs()
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

fn status(run: &Value) -> &str {
    run["metrics"]["statusSummary"]["status"].as_str().unwrap()
}

fn first_error(run: &Value) -> (&str, &str) {
    let error = &run["metrics"]["statusSummary"]["errors"][0];
    (
        error["code"].as_str().unwrap_or_default(),
        error["message"].as_str().unwrap_or_default(),
    )
}

async fn assert_store_consistent(data_dir: &Path) {
    let store = SqliteStore::open_in_data_dir(data_dir).await.unwrap();
    assert_eq!(store.integrity_check().await.unwrap(), ["ok"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sigkill_mid_run_is_retried_after_restart_and_each_record_lands_once() {
    const RECORDS: i64 = 3_000;
    let (start_time, window_start) = schedule_with_due_windows(1);
    // 30 pages of 100 at 50 ms each: the run takes well over a second.
    let mock = MockApi::start(
        Scenario::explicit(members(RECORDS, window_start, 15 * 60))
            .with_auth(basic_auth())
            .with_latency(Duration::from_millis(50)),
    )
    .await;
    let (_dir, data_dir) = data_dir();
    let arguments = [
        "--lease-ms",
        "1000",
        "--planner-tick-ms",
        "200",
        "--retry-backoff-ms",
        "100",
    ];
    let server = Server::start_with_args(&data_dir, &arguments);
    let harness = Harness::new(&server);
    let workflow = harness.create(&server, &mock, PASSWORD, start_time).await;

    // Kill the server once the run is in progress and has fetched some pages.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let runs = harness.runs(&server, &workflow.flow_id).await;
        let pages = mock
            .requests()
            .iter()
            .filter(|request| request.path.ends_with("/members"))
            .count();
        if runs.len() == 1 && status(&runs[0]) == "inProgress" && pages >= 5 {
            assert!(
                pages < 25,
                "the run was nearly done before the kill ({pages} pages)"
            );
            break;
        }
        assert!(
            runs.iter().all(|run| status(run) != "success"),
            "the run finished before the kill: {runs:#?}"
        );
        assert_eq!(
            parquet_files(&data_dir.join("datasets").join(&workflow.dataset_id)),
            Vec::<PathBuf>::new(),
            "a batch is visible before its run finished"
        );
        assert!(
            Instant::now() < deadline,
            "no run in progress: {runs:#?}\n{}",
            server.logs()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    server.kill_hard();

    // Nothing of the interrupted batch is visible in the dataset.
    let dataset_dir = data_dir.join("datasets").join(&workflow.dataset_id);
    assert_eq!(parquet_files(&dataset_dir), Vec::<PathBuf>::new());
    let requests_before_restart = mock.request_count();

    let restarted = Server::start_with_args(&data_dir, &arguments);
    // While the run is retried, a reader sees either nothing or the whole batch.
    let deadline = Instant::now() + Duration::from_secs(60);
    let runs = loop {
        let runs = harness.runs(&restarted, &workflow.flow_id).await;
        let visible = !parquet_files(&dataset_dir).is_empty();
        if runs.len() == 1 && status(&runs[0]) == "success" {
            break runs;
        }
        if visible {
            assert_eq!(
                member_ids(&data_dir, &workflow.dataset_id).len() as i64,
                RECORDS,
                "a partial batch is visible"
            );
        }
        assert!(
            Instant::now() < deadline,
            "the retried run did not succeed: {runs:#?}\n{}",
            restarted.logs()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let run = &runs[0];
    assert!(run["attempts"].as_i64().unwrap() >= 2, "{run}");
    assert_eq!(
        run["metrics"]["recordSummary"]["outputRecordCount"], RECORDS,
        "{run}"
    );
    assert!(
        mock.request_count() > requests_before_restart,
        "the run was fetched again"
    );

    // Each record exactly once, in one batch whose files are all under it.
    let dataset =
        flowd_sink::Dataset::open(data_dir.join("datasets"), &workflow.dataset_id).unwrap();
    assert_eq!(dataset.batches().unwrap().len(), 1);
    assert_eq!(
        member_ids(&data_dir, &workflow.dataset_id),
        (0..RECORDS).collect::<Vec<_>>()
    );
    let files = parquet_files(&dataset_dir);
    assert!(!files.is_empty());
    for file in &files {
        let relative = file.strip_prefix(&dataset_dir).unwrap();
        assert!(
            !relative
                .components()
                .any(|part| part.as_os_str().to_string_lossy().starts_with(['.', '_'])),
            "a hidden file would be skipped by readers, so a visible one must not be hidden: {relative:?}"
        );
    }
    // `flowd dataset list` agrees: one batch, every record.
    let output = common::flowd()
        .args(["dataset", "list", "--data-dir"])
        .arg(&data_dir)
        .output()
        .unwrap();
    let listed = String::from_utf8_lossy(&output.stdout);
    assert!(
        listed.contains(&format!(
            "{}\tmembers\tflowd@AdobeOrg\tprod\t1\t{RECORDS}",
            workflow.dataset_id
        )),
        "{listed}"
    );
    assert!(restarted.terminate().success());
    assert_store_consistent(&data_dir).await;
    // The killed attempt's staged files were swept at restart; the retried
    // attempt's were published: nothing is left in staging.
    let staging = data_dir.join("datasets").join(".flowd-staging");
    let leftovers: Vec<_> = std::fs::read_dir(&staging)
        .map(|entries| entries.map(|entry| entry.unwrap().file_name()).collect())
        .unwrap_or_default();
    assert!(leftovers.is_empty(), "left in staging: {leftovers:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upstream_500s_spend_the_retry_budget_then_the_run_fails_and_later_windows_wait() {
    let (start_time, window_start) = schedule_with_due_windows(3);
    let mock = MockApi::start(
        Scenario::explicit(members(45, window_start, 45 * 60))
            .with_auth(basic_auth())
            .with_faults(Faults {
                fail_first: Some(FailFirst {
                    count: 1_000_000,
                    status: 500,
                    retry_after: None,
                }),
                ..Faults::default()
            }),
    )
    .await;
    let (_dir, data_dir) = data_dir();
    let server = Server::start_with_args(
        &data_dir,
        &[
            "--run-attempts",
            "2",
            "--http-retries",
            "0",
            "--retry-backoff-ms",
            "100",
            "--planner-tick-ms",
            "200",
        ],
    );
    let harness = Harness::new(&server);
    let workflow = harness.create(&server, &mock, PASSWORD, start_time).await;

    let runs = harness
        .wait_for_runs(
            &server,
            &workflow.flow_id,
            "the first window to fail",
            Duration::from_secs(30),
            |runs| runs.iter().any(|run| status(run) == "failed"),
        )
        .await;
    assert_eq!(runs.len(), 1, "later windows were enqueued: {runs:#?}");
    let run = &runs[0];
    assert_eq!(run["params"]["windowStartTime"], window_start, "{run}");
    assert_eq!(run["params"]["windowEndTime"], start_time, "{run}");
    assert_eq!(run["attempts"], 2, "{run}");
    let (code, message) = first_error(run);
    assert_eq!(code, "UPSTREAM", "{run}");
    assert!(message.contains("500"), "{message}");
    assert!(
        message.contains(&mock.base_url()) && message.contains("/members"),
        "{message}"
    );
    assert!(!message.contains(PASSWORD), "{message}");
    assert_eq!(
        run["metrics"]["recordSummary"]["outputRecordCount"], 0,
        "{run}"
    );
    // Two attempts, one request each (no HTTP retries).
    assert_eq!(mock.request_count(), 2);
    // The final failure is an ERROR naming the flow, the run and the reason; the retry a WARN.
    let logs = server.logs();
    let run_id = run["id"].as_str().unwrap();
    let failed: Vec<&str> = logs
        .lines()
        .filter(|line| line.contains("run failed; no attempt left"))
        .collect();
    assert_eq!(failed.len(), 1, "{logs}");
    for part in [
        " ERROR ",
        &format!("flow_id={}", workflow.flow_id),
        &format!("run_id={run_id}"),
        "reason=",
        "answered 500",
    ] {
        assert!(failed[0].contains(part), "{part} not in {}", failed[0]);
    }
    let retried: Vec<&str> = logs
        .lines()
        .filter(|line| line.contains("run failed; retrying"))
        .collect();
    assert_eq!(retried.len(), 1, "{logs}");
    assert!(retried[0].contains(" WARN "), "{}", retried[0]);
    let metrics = reqwest::get(format!("{}/metrics", server.base_url))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for series in [
        "flowd_runs_failed_total 1".to_owned(),
        "flowd_run_retries_total 1".to_owned(),
        "flowd_upstream_requests_total{status=\"500\"} 2".to_owned(),
        format!(
            "flowd_flow_runs_total{{flow_id=\"{}\",status=\"failed\"}} 1",
            workflow.flow_id
        ),
    ] {
        assert!(
            metrics.lines().any(|line| line == series),
            "{series} missing from:\n{metrics}"
        );
    }

    // Several planner ticks later, the failed window still blocks the next ones.
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let runs = harness.runs(&server, &workflow.flow_id).await;
    assert_eq!(
        runs.len(),
        1,
        "a later window skipped ahead of the failed one: {runs:#?}"
    );
    assert_eq!(status(&runs[0]), "failed");
    assert_eq!(runs[0]["attempts"], 2);
    assert_eq!(mock.request_count(), 2);
    // Nothing was written.
    assert_eq!(
        parquet_files(&data_dir.join("datasets").join(&workflow.dataset_id)),
        Vec::<PathBuf>::new()
    );
    // The flow shows the failure.
    let (_, flow) = call(
        &harness.client,
        &harness.credential,
        &server,
        reqwest::Method::GET,
        &format!("/flows/{}", workflow.flow_id),
        None,
    )
    .await;
    let details = &flow["items"][0]["lastRunDetails"];
    assert_eq!(details["id"], runs[0]["id"], "{flow}");
    assert!(server.terminate().success());
    assert_store_consistent(&data_dir).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn re_trigger_after_the_upstream_recovers_succeeds() {
    let (start_time, window_start) = schedule_with_due_windows(3);
    // One member a minute over the three windows.
    let mock = MockApi::start(
        Scenario::explicit(members(45, window_start, 45 * 60))
            .with_auth(basic_auth())
            .with_faults(Faults {
                fail_first: Some(FailFirst {
                    count: 2,
                    status: 500,
                    retry_after: None,
                }),
                ..Faults::default()
            }),
    )
    .await;
    let (_dir, data_dir) = data_dir();
    let server = Server::start_with_args(
        &data_dir,
        &[
            "--run-attempts",
            "2",
            "--http-retries",
            "0",
            "--retry-backoff-ms",
            "100",
            "--planner-tick-ms",
            "200",
        ],
    );
    let harness = Harness::new(&server);
    let workflow = harness.create(&server, &mock, PASSWORD, start_time).await;

    let runs = harness
        .wait_for_runs(
            &server,
            &workflow.flow_id,
            "the first window to fail",
            Duration::from_secs(30),
            |runs| runs.iter().any(|run| status(run) == "failed"),
        )
        .await;
    assert_eq!(runs.len(), 1, "{runs:#?}");
    let failed_id = runs[0]["id"].as_str().unwrap().to_owned();
    assert_eq!(runs[0]["attempts"], 2);
    assert!(first_error(&runs[0]).1.contains("500"), "{:#?}", runs[0]);

    // The upstream has recovered (its two failures are spent): re-trigger.
    let (code, retriggered) = call(
        &harness.client,
        &harness.credential,
        &server,
        reqwest::Method::POST,
        &format!("/runs/{failed_id}/action?op=RE_TRIGGER"),
        None,
    )
    .await;
    assert_eq!(code, 200, "{retriggered}");
    assert_eq!(retriggered["id"], failed_id.as_str());
    assert_ne!(status(&retriggered), "failed", "{retriggered}");

    // The re-triggered window succeeds, then the later windows follow.
    let runs = harness
        .wait_for_runs(
            &server,
            &workflow.flow_id,
            "all three windows to succeed",
            Duration::from_secs(30),
            |runs| runs.len() == 3 && runs.iter().all(|run| status(run) == "success"),
        )
        .await;
    assert_eq!(runs[0]["id"], failed_id.as_str());
    assert_eq!(
        runs[0]["metrics"]["statusSummary"]["errors"],
        json!([]),
        "{:#?}",
        runs[0]
    );
    let windows: Vec<(i64, i64)> = runs
        .iter()
        .map(|run| {
            (
                run["params"]["windowStartTime"].as_i64().unwrap(),
                run["params"]["windowEndTime"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        windows,
        [
            (window_start, start_time),
            (start_time, start_time + 900),
            (start_time + 900, start_time + 1800),
        ]
    );
    for run in &runs {
        assert_eq!(
            run["metrics"]["recordSummary"]["outputRecordCount"], 15,
            "{run}"
        );
    }
    let dataset =
        flowd_sink::Dataset::open(data_dir.join("datasets"), &workflow.dataset_id).unwrap();
    assert_eq!(dataset.batches().unwrap().len(), 3);
    assert_eq!(
        member_ids(&data_dir, &workflow.dataset_id),
        (0..45).collect::<Vec<_>>()
    );
    assert!(server.terminate().success());
    assert_store_consistent(&data_dir).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoked_credentials_fail_the_run_clearly() {
    const STALE_PASSWORD: &str = "a-password-the-upstream-revoked";
    let (start_time, window_start) = schedule_with_due_windows(2);
    // The upstream wants PASSWORD; the connection (created without an
    // authorizationTestUrl, so nothing checks it up front) holds another.
    let mock = MockApi::start(
        Scenario::explicit(members(30, window_start, 30 * 60)).with_auth(basic_auth()),
    )
    .await;
    let (_dir, data_dir) = data_dir();
    let server = Server::start_with_args(
        &data_dir,
        &[
            "--run-attempts",
            "3",
            "--retry-backoff-ms",
            "100",
            "--planner-tick-ms",
            "200",
        ],
    );
    let harness = Harness::new(&server);
    let workflow = harness
        .create(&server, &mock, STALE_PASSWORD, start_time)
        .await;

    let runs = harness
        .wait_for_runs(
            &server,
            &workflow.flow_id,
            "the run to fail",
            Duration::from_secs(30),
            |runs| runs.iter().any(|run| status(run) == "failed"),
        )
        .await;
    let run = &runs[0];
    let (code, message) = first_error(run);
    assert_eq!(code, "AUTHENTICATION", "{run}");
    assert!(message.contains("401"), "{message}");
    assert!(
        !message.contains(STALE_PASSWORD) && !message.contains(PASSWORD),
        "{message}"
    );
    assert_eq!(
        run["attempts"], 1,
        "refused credentials are not retried: {run}"
    );

    // No retry and no later window after a few more planner ticks.
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    let runs = harness.runs(&server, &workflow.flow_id).await;
    assert_eq!(runs.len(), 1, "{runs:#?}");
    assert_eq!(runs[0]["attempts"], 1);
    assert_eq!(status(&runs[0]), "failed");
    let members_requests = mock
        .requests()
        .iter()
        .filter(|request| request.path.ends_with("/members"))
        .count();
    assert_eq!(members_requests, 1, "a refused request is not retried");
    assert!(server.terminate().success());
    assert_store_consistent(&data_dir).await;
}

/// SIGTERM while a run hangs on a slow upstream: the server stops within its grace period
/// instead of waiting for the run, and the next start takes the run over as another attempt.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_hands_a_hanging_run_back_after_the_grace_period_and_a_restart_takes_it_at_once() {
    let (start_time, window_start) = schedule_with_due_windows(1);
    let mock = MockApi::start(
        Scenario::explicit(members(10, window_start, 15 * 60))
            .with_auth(basic_auth())
            .with_latency(Duration::from_secs(6)),
    )
    .await;
    let (_dir, data_dir) = data_dir();
    // A lease far longer than the test: only the hand-back lets the restart take the run.
    let arguments = [
        "--lease-ms",
        "600000",
        "--planner-tick-ms",
        "200",
        "--shutdown-grace-seconds",
        "1",
    ];
    let server = Server::start_with_args(&data_dir, &arguments);
    let harness = Harness::new(&server);
    let workflow = harness.create(&server, &mock, PASSWORD, start_time).await;
    harness
        .wait_for_runs(
            &server,
            &workflow.flow_id,
            "a run in progress",
            Duration::from_secs(30),
            |runs| runs.len() == 1 && status(&runs[0]) == "inProgress",
        )
        .await;
    // Every request waits 6 s at the mock: the run cannot end within the 1 s of grace.
    let stopping = Instant::now();
    assert!(server.terminate().success());
    assert!(
        stopping.elapsed() < Duration::from_secs(4),
        "the server waited for the run: {:?}",
        stopping.elapsed()
    );
    // Handed back: pending, no lease, the interrupted attempt not counted.
    let store = SqliteStore::open_in_data_dir(&data_dir).await.unwrap();
    let scope = flowd_store::Scope {
        org_id: "flowd@AdobeOrg".into(),
        sandbox_name: "prod".into(),
    };
    let listed = store
        .list_runs(
            &scope,
            &flowd_store::RunFilter::default(),
            &flowd_store::ListQuery::default(),
        )
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(
        (
            listed[0].status,
            listed[0].lease_owner.as_deref(),
            listed[0].attempts
        ),
        (flowd_store::RunStatus::Pending, None, 0),
        "{:?}",
        listed[0]
    );
    store.close().await;
    let restarted = Server::start_with_args(&data_dir, &arguments);
    let runs = harness
        .wait_for_runs(
            &restarted,
            &workflow.flow_id,
            "the run taken over and done",
            Duration::from_secs(60),
            |runs| runs.len() == 1 && status(&runs[0]) == "success",
        )
        .await;
    assert_eq!(
        runs[0]["attempts"], 1,
        "the handed-back attempt is not counted: {}",
        runs[0]
    );
    assert!(restarted.terminate().success());
}

/// The runtime task of the first attempt panics after its last page, before it says how the
/// fetch ended (a test-build failpoint): that attempt fails as INCOMPLETE and commits nothing,
/// and the retry lands every record once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_runtime_that_ends_without_its_summary_fails_the_attempt_and_the_retry_lands_each_record_once()
 {
    const RECORDS: i64 = 250;
    let (start_time, window_start) = schedule_with_due_windows(1);
    let mock = MockApi::start(
        Scenario::explicit(members(RECORDS, window_start, 15 * 60)).with_auth(basic_auth()),
    )
    .await;
    let (_dir, data_dir) = data_dir();
    let server = Server::start_with_env(
        &data_dir,
        &["--retry-backoff-ms", "100", "--planner-tick-ms", "200"],
        &[("FLOWD_FAILPOINTS", "runtime-before-summary=1*panic")],
    );
    let harness = Harness::new(&server);
    let workflow = harness.create(&server, &mock, PASSWORD, start_time).await;
    let runs = harness
        .wait_for_runs(
            &server,
            &workflow.flow_id,
            "the retried run to succeed",
            Duration::from_secs(30),
            |runs| runs.iter().any(|run| status(run) == "success"),
        )
        .await;
    let run = &runs[0];
    assert_eq!(run["attempts"], 2, "{run}");
    assert_eq!(
        run["metrics"]["recordSummary"]["outputRecordCount"], RECORDS,
        "{run}"
    );
    let logs = server.logs();
    assert!(
        logs.contains("INCOMPLETE") && logs.contains("run failed; retrying"),
        "the first attempt failed as INCOMPLETE:\n{logs}"
    );
    let member_pages = mock
        .requests()
        .iter()
        .filter(|request| request.path.ends_with("/members"))
        .count();
    assert_eq!(
        member_pages,
        2 * 3,
        "both attempts fetched the window's 3 pages"
    );
    assert_eq!(
        member_ids(&data_dir, &workflow.dataset_id),
        (0..RECORDS).collect::<Vec<_>>()
    );
    assert!(server.terminate().success());
}
