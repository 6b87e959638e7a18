//! `GET /metrics` and the dataset statistics of `flowd serve`: after one
//! scheduled run against a mock API, the Prometheus exposition (served
//! without credentials) carries the run, record, byte, upstream request and
//! duration metrics, and `GET /dataSets/{id}` counts the run's batch.

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
    ] {
        assert!(text.contains(line), "{line} missing from:\n{text}");
    }

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
