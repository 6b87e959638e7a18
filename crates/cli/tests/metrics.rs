//! `GET /metrics` and the dataset statistics of `flowd serve`: after one
//! scheduled run against a mock API, the Prometheus exposition (served
//! without credentials) carries the run, record, byte, upstream request and
//! duration metrics, per flow too, and `GET /dataSets/{id}` counts the run's batch; every family
//! has its `# HELP` and `# TYPE` and is there at zero before any run, after a restart too; and
//! `FLOWD_LOG_FORMAT=json` logs one JSON object a line.

mod common;

use std::time::{Duration, Instant};

use common::workflow::{call, create, runs_of};
use common::{Credential, Server, data_dir};
use flowd_mockapi::{Auth, DEFAULT_LIST_ID, MockApi, Scenario};
use serde_json::{Value, json};

const USERNAME: &str = "anystring";
const PASSWORD: &str = "metrics-secret-password";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_and_dataset_stats_follow_a_run() {
    // One window due: [startTime - 15 min, startTime), startTime a minute ago.
    let start_time = jiff::Timestamp::now().as_second() - 60;
    let window_start = start_time - 15 * 60;
    let records: Vec<Value> = (0..5)
        .map(|id| {
            let changed = jiff::Timestamp::from_second(window_start + 60 + id * 60).unwrap();
            json!({"id": id, "email_address": format!("m{id}@example.com"), "last_changed": changed.to_string()})
        })
        .collect();
    let mock = MockApi::start(Scenario::explicit(records).with_auth(Auth::Basic {
        username: USERNAME.into(),
        password: PASSWORD.into(),
    }))
    .await;

    let (_dir, data_dir) = data_dir();
    let server = Server::start_with_args(
        &data_dir,
        &["--planner-tick-ms", "200", "--retry-backoff-ms", "100"],
    );
    let credential = Credential::from_json(server.printed_credential.as_ref().unwrap());
    let client = reqwest::Client::new();

    // Served without credentials, like /healthz, even before any run.
    let response = client
        .get(format!("{}/metrics", server.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);

    let workflow = create(
        &client,
        &credential,
        &server,
        &mock.base_url(),
        (USERNAME, PASSWORD),
        DEFAULT_LIST_ID,
        json!({"startTime": start_time.to_string(), "frequency": "minute", "interval": "15", "backfill": "false"}),
    )
    .await;

    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let runs = runs_of(&client, &credential, &server, &workflow.flow_id).await;
        let status = runs
            .first()
            .map(|run| run["metrics"]["statusSummary"]["status"].clone());
        if status == Some(json!("success")) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the run did not succeed: {runs:#?}\n{}",
            server.logs()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    let response = client
        .get(format!("{}/metrics", server.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(content_type.starts_with("text/plain"), "{content_type}");
    let text = response.text().await.unwrap();
    for line in [
        "flowd_runs_started_total 1",
        "flowd_runs_succeeded_total 1",
        "flowd_records_ingested_total 5",
        "flowd_upstream_requests_total{status=\"200\"}",
        "flowd_run_duration_seconds_bucket{le=\"+Inf\"} 1",
        "flowd_run_duration_seconds_count 1",
        "flowd_bytes_ingested_total",
        &format!(
            "flowd_flow_runs_total{{flow_id=\"{}\",status=\"success\"}} 1",
            workflow.flow_id
        ),
        &format!(
            "flowd_flow_runs_total{{flow_id=\"{}\",status=\"failed\"}} 0",
            workflow.flow_id
        ),
        &format!(
            "flowd_flow_last_success_timestamp_seconds{{flow_id=\"{}\"}} ",
            workflow.flow_id
        ),
    ] {
        assert!(text.contains(line), "{line} missing from:\n{text}");
    }
    let last_success: f64 = text
        .lines()
        .find(|line| line.starts_with("flowd_flow_last_success_timestamp_seconds{"))
        .and_then(|line| line.rsplit(' ').next())
        .and_then(|value| value.parse().ok())
        .expect("a last-success value");
    let now = jiff::Timestamp::now().as_second() as f64;
    assert!(
        (now - 120.0..=now + 1.0).contains(&last_success),
        "{last_success}"
    );

    let (status, body) = call(
        &client,
        &credential,
        &server,
        reqwest::Method::GET,
        &format!("/data/foundation/catalog/dataSets/{}", workflow.dataset_id),
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let dataset = &body[&workflow.dataset_id];
    assert_eq!(dataset["batchCount"], 1, "{dataset}");
    assert_eq!(dataset["recordCount"], 5, "{dataset}");
    let columns: Vec<&str> = dataset["schema"]["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|column| column["name"].as_str().unwrap())
        .collect();
    for name in ["member", "_flowd_run_id", "_flowd_ingested_at"] {
        assert!(columns.contains(&name), "{name} not in {columns:?}");
    }
    server.terminate();
}

/// Every family `flowd serve` exports, with the series that exist before any run.
const FAMILIES_AT_START: &[(&str, &str, &str)] = &[
    (
        "flowd_runs_started_total",
        "counter",
        "flowd_runs_started_total 0",
    ),
    (
        "flowd_runs_succeeded_total",
        "counter",
        "flowd_runs_succeeded_total 0",
    ),
    (
        "flowd_runs_failed_total",
        "counter",
        "flowd_runs_failed_total 0",
    ),
    (
        "flowd_run_retries_total",
        "counter",
        "flowd_run_retries_total 0",
    ),
    (
        "flowd_records_ingested_total",
        "counter",
        "flowd_records_ingested_total 0",
    ),
    (
        "flowd_bytes_ingested_total",
        "counter",
        "flowd_bytes_ingested_total 0",
    ),
    (
        "flowd_upstream_requests_total",
        "counter",
        "flowd_upstream_requests_total{status=\"connection_error\"} 0",
    ),
    (
        "flowd_run_duration_seconds",
        "histogram",
        "flowd_run_duration_seconds_count 0",
    ),
    (
        "flowd_flow_runs_total",
        "counter",
        "flowd_flow_runs_total{flow_id=\"other\",status=\"success\"} 0",
    ),
];

/// The per-flow families: their series exist for every flow of the store from start-up.
const PER_FLOW_FAMILIES: &[(&str, &str)] = &[
    ("flowd_flow_runs_total", "counter"),
    ("flowd_flow_last_success_timestamp_seconds", "gauge"),
];

async fn scrape(server: &Server) -> String {
    let response = reqwest::get(format!("{}/metrics", server.base_url))
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.text().await.unwrap()
}

fn assert_families_at_zero(text: &str) {
    for (family, kind, series) in FAMILIES_AT_START {
        assert!(
            text.contains(&format!("# HELP {family} ")),
            "no HELP for {family}:\n{text}"
        );
        assert!(
            text.contains(&format!("# TYPE {family} {kind}\n")),
            "no TYPE for {family}:\n{text}"
        );
        assert!(
            text.lines().any(|line| line == *series),
            "{series} missing from:\n{text}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_family_is_described_and_at_zero_from_start_and_after_a_restart() {
    let (_dir, data_dir) = data_dir();
    let server = Server::start(&data_dir);
    assert_families_at_zero(&scrape(&server).await);
    // A flow that is not due for a day: it runs nothing, yet has its series after a restart.
    let credential = Credential::from_json(server.printed_credential.as_ref().unwrap());
    let mock = MockApi::start(Scenario::explicit(Vec::new())).await;
    let start_time = jiff::Timestamp::now().as_second() + 86_400;
    let workflow = create(
        &reqwest::Client::new(),
        &credential,
        &server,
        &mock.base_url(),
        (USERNAME, PASSWORD),
        DEFAULT_LIST_ID,
        json!({"startTime": start_time, "frequency": "day", "interval": 1}),
    )
    .await;
    assert!(server.terminate().success());

    let restarted = Server::start(&data_dir);
    assert!(restarted.printed_credential.is_none(), "the same data dir");
    let text = scrape(&restarted).await;
    assert_families_at_zero(&text);
    for series in [
        format!(
            "flowd_flow_runs_total{{flow_id=\"{}\",status=\"success\"}} 0",
            workflow.flow_id
        ),
        format!(
            "flowd_flow_runs_total{{flow_id=\"{}\",status=\"failed\"}} 0",
            workflow.flow_id
        ),
        format!(
            "flowd_flow_last_success_timestamp_seconds{{flow_id=\"{}\"}} 0",
            workflow.flow_id
        ),
    ] {
        assert!(
            text.lines().any(|line| line == series),
            "{series} missing from:\n{text}"
        );
    }
    for (family, kind) in PER_FLOW_FAMILIES {
        assert!(
            text.contains(&format!("# HELP {family} ")),
            "no HELP for {family}:\n{text}"
        );
        assert!(
            text.contains(&format!("# TYPE {family} {kind}\n")),
            "no TYPE for {family}:\n{text}"
        );
    }
    restarted.terminate();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flowd_log_format_json_writes_one_json_object_a_line() {
    let (_dir, data_dir) = data_dir();
    let server = Server::start_with_env(&data_dir, &[], &[("FLOWD_LOG_FORMAT", "json")]);
    scrape(&server).await;
    let logs = server.logs();
    let lines: Vec<Value> = logs
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}")))
        .collect();
    let listening = lines
        .iter()
        .find(|line| {
            line["fields"]["message"]
                .as_str()
                .is_some_and(|message| message.starts_with("listening on http://"))
        })
        .unwrap_or_else(|| panic!("no listening line in:\n{logs}"));
    assert_eq!(listening["level"], "INFO", "{listening}");
    assert!(listening["timestamp"].is_string(), "{listening}");
    assert!(listening["fields"]["data_dir"].is_string(), "{listening}");
    server.terminate();

    let refused = common::flowd()
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(&data_dir)
        .env("FLOWD_LOG_FORMAT", "yaml")
        .output()
        .unwrap();
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("FLOWD_LOG_FORMAT=yaml is not a log format: use text or json"),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_that_gets_no_answer_is_counted_as_a_connection_error() {
    let mock = MockApi::start(Scenario::explicit(Vec::new()).with_auth(Auth::Basic {
        username: USERNAME.into(),
        password: PASSWORD.into(),
    }))
    .await;
    let (_dir, data_dir) = data_dir();
    let server = Server::start_with_args(
        &data_dir,
        &[
            "--planner-tick-ms",
            "200",
            "--run-attempts",
            "1",
            "--http-retries",
            "0",
        ],
    );
    let credential = Credential::from_json(server.printed_credential.as_ref().unwrap());
    let client = reqwest::Client::new();
    // Due in a few seconds, by when the upstream is gone.
    let start_time = jiff::Timestamp::now().as_second() + 3;
    let workflow = create(
        &client,
        &credential,
        &server,
        &mock.base_url(),
        (USERNAME, PASSWORD),
        DEFAULT_LIST_ID,
        json!({"startTime": start_time, "frequency": "minute", "interval": 15, "backfill": false}),
    )
    .await;
    mock.shutdown().await;

    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let runs = runs_of(&client, &credential, &server, &workflow.flow_id).await;
        let status = runs
            .first()
            .map(|run| run["metrics"]["statusSummary"]["status"].clone());
        if status == Some(json!("failed")) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the run did not fail: {runs:#?}\n{}",
            server.logs()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let text = scrape(&server).await;
    assert!(
        text.lines()
            .any(|line| line == "flowd_upstream_requests_total{status=\"connection_error\"} 1"),
        "{text}"
    );
    server.terminate();
}
