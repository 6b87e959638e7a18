//! Ad hoc runs and the schedule against a real `flowd serve`: an ad hoc run over a window
//! takes its records once; a second one overlapping it is refused naming it; the flow's
//! scheduled windows then step around it, so every record lands once; and re-triggering the
//! successful ad hoc run runs its window again with its batch replaced, not added.

mod common;

use std::time::{Duration, Instant};

use common::runs::{member_ids, members, schedule_params};
use common::workflow::{call, runs_of};
use common::{Credential, Server, data_dir};
use flowd_mockapi::{Auth, DEFAULT_LIST_ID, MockApi, Scenario};
use reqwest::Method;
use serde_json::{Value, json};

const PASSWORD: &str = "adhoc-windows-password";
const MINUTE: i64 = 60;

/// Waits until `done` holds for the flow's runs; fails with them and the log after 60 s.
async fn wait_for_runs(
    client: &reqwest::Client,
    credential: &Credential,
    server: &Server,
    flow_id: &str,
    done: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let runs = runs_of(client, credential, server, flow_id).await;
        if done(&runs) {
            return runs;
        }
        assert!(Instant::now() < deadline, "{runs:#?}\n{}", server.logs());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn succeeded(run: &Value) -> bool {
    run["metrics"]["statusSummary"]["status"] == "success"
}

fn window(run: &Value) -> (i64, i64) {
    (
        run["params"]["windowStartTime"].as_i64().unwrap(),
        run["params"]["windowEndTime"].as_i64().unwrap(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ad_hoc_and_scheduled_windows_never_overlap_and_a_retriggered_success_replaces_its_batch() {
    let now = jiff::Timestamp::now().as_second();
    // One member a minute over the last hour.
    let mock = MockApi::start(
        Scenario::explicit(members(60, now - 60 * MINUTE, 60 * MINUTE)).with_auth(Auth::Basic {
            username: "anystring".into(),
            password: PASSWORD.into(),
        }),
    )
    .await;
    let (_dir, data_dir) = data_dir();
    let server = Server::start_with_args(
        &data_dir,
        &["--planner-tick-ms", "100", "--retry-backoff-ms", "100"],
    );
    let credential = Credential::from_json(server.printed_credential.as_ref().unwrap());
    let client = reqwest::Client::new();
    // Scheduled to start tomorrow: nothing is due yet.
    let workflow = common::workflow::create(
        &client,
        &credential,
        &server,
        &mock.base_url(),
        ("anystring", PASSWORD),
        DEFAULT_LIST_ID,
        schedule_params(now + 24 * 60 * MINUTE),
    )
    .await;
    let flow_id = workflow.flow_id.clone();

    // The schedule will start at s = now - 59 min, every 15 min, its first window 15 min
    // before: [s - 15m, s), [s, s + 15m), … up to s + 45m. The ad hoc run takes
    // [s + 14m, s + 29m) first.
    let s = now - 59 * MINUTE;
    let (status, adhoc) = call(
        &client,
        &credential,
        &server,
        Method::POST,
        "/runs",
        Some(&json!({"flowId": flow_id, "params": {"windowStartTime": s + 14 * MINUTE, "windowEndTime": s + 29 * MINUTE}})),
    )
    .await;
    assert_eq!(status, 201, "{adhoc}");
    let adhoc_id = adhoc["id"].as_str().unwrap().to_owned();
    wait_for_runs(&client, &credential, &server, &flow_id, |runs| {
        runs.len() == 1 && succeeded(&runs[0])
    })
    .await;
    let taken: Vec<i64> = (0..60)
        .filter(|id| {
            let at = now - 60 * MINUTE + id * MINUTE;
            at >= s + 14 * MINUTE && at < s + 29 * MINUTE
        })
        .collect();
    assert_eq!(member_ids(&data_dir, &workflow.dataset_id), taken);

    // An ad hoc run overlapping it is refused, naming it.
    let (status, refused) = call(
        &client,
        &credential,
        &server,
        Method::POST,
        "/runs",
        Some(&json!({"flowId": flow_id, "params": {"windowStartTime": s + 20 * MINUTE, "windowEndTime": s + 40 * MINUTE}})),
    )
    .await;
    assert_eq!(status, 400, "{refused}");
    assert_eq!(refused["report"]["runId"], adhoc_id.as_str(), "{refused}");

    // Move the schedule's start into the past: four windows are due.
    let (_, flow) = call(
        &client,
        &credential,
        &server,
        Method::GET,
        &format!("/flows/{flow_id}"),
        None,
    )
    .await;
    let etag = flow["items"][0]["etag"].as_str().unwrap().to_owned();
    let patched = credential
        .apply(client.patch(server.url(&format!("/flows/{flow_id}"))))
        .header("if-match", etag)
        .json(&json!([{"op": "replace", "path": "/scheduleParams/startTime", "value": s.to_string()}]))
        .send()
        .await
        .unwrap();
    assert_eq!(patched.status(), 200, "{}", patched.text().await.unwrap());
    let runs = wait_for_runs(&client, &credential, &server, &flow_id, |runs| {
        runs.iter().all(succeeded)
            && runs
                .iter()
                .any(|run| run["params"]["windowEndTime"] == s + 45 * MINUTE)
    })
    .await;
    let mut windows: Vec<(i64, i64)> = runs.iter().map(window).collect();
    windows.sort_unstable();
    assert_eq!(windows.first().unwrap().0, s - 15 * MINUTE);
    assert_eq!(windows.last().unwrap().1, s + 45 * MINUTE);
    for pair in windows.windows(2) {
        assert_eq!(
            pair[0].1, pair[1].0,
            "contiguous, never overlapping: {windows:?}"
        );
    }
    let covered: Vec<i64> = (0..60)
        .filter(|id| now - 60 * MINUTE + id * MINUTE < s + 45 * MINUTE)
        .collect();
    assert_eq!(
        member_ids(&data_dir, &workflow.dataset_id),
        covered,
        "every record of the covered windows once"
    );

    // Re-triggering the successful ad hoc run (as the retry tutorial spells it) runs its window
    // again: its batch is replaced, the dataset still holds each record once.
    let (_, datasets_before) = call(
        &client,
        &credential,
        &server,
        Method::GET,
        &format!("/data/foundation/catalog/dataSets/{}", workflow.dataset_id),
        None,
    )
    .await;
    let batches_before = datasets_before[&workflow.dataset_id]["batchCount"].clone();
    let before = runs
        .iter()
        .find(|run| run["id"] == adhoc_id.as_str())
        .unwrap()["metrics"]["durationSummary"]["completedAtUTC"]
        .as_i64()
        .unwrap();
    mock.clear_requests();
    let (status, retriggered) = call(
        &client,
        &credential,
        &server,
        Method::POST,
        &format!("/runs/{adhoc_id}/action?op=re-trigger"),
        Some(&json!({})),
    )
    .await;
    assert_eq!(status, 200, "{retriggered}");
    assert_eq!(retriggered["id"], adhoc_id.as_str());
    wait_for_runs(&client, &credential, &server, &flow_id, |runs| {
        runs.iter().any(|run| {
            run["id"] == adhoc_id.as_str()
                && succeeded(run)
                && run["metrics"]["durationSummary"]["completedAtUTC"]
                    .as_i64()
                    .is_some_and(|completed| completed > before)
        })
    })
    .await;
    assert!(
        mock.request_count() > 0,
        "the re-triggered run fetched its window again"
    );
    assert_eq!(member_ids(&data_dir, &workflow.dataset_id), covered);
    let (_, datasets_after) = call(
        &client,
        &credential,
        &server,
        Method::GET,
        &format!("/data/foundation/catalog/dataSets/{}", workflow.dataset_id),
        None,
    )
    .await;
    assert_eq!(
        datasets_after[&workflow.dataset_id]["batchCount"], batches_before,
        "the batch is replaced, not added"
    );
    assert_eq!(
        datasets_after[&workflow.dataset_id]["recordCount"],
        covered.len()
    );
}
