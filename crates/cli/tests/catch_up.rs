//! Catch-up against a real `flowd serve`: the dataflow tutorial's flow (`startTime` in
//! September 2021, every 15 minutes, backfill) created today has about 181,000 windows due;
//! it is caught up in at most five runs, its windows contiguous, every record once.

mod common;

use std::time::{Duration, Instant};

use common::runs::{member_ids, members};
use common::workflow::runs_of;
use common::{Credential, Server, data_dir};
use flowd_mockapi::{Auth, DEFAULT_LIST_ID, MockApi, Scenario};
use serde_json::json;

const PASSWORD: &str = "catch-up-password";
/// The tutorial's `startTime`.
const TUTORIAL_START: i64 = 1_632_809_759;
const INTERVAL: i64 = 15 * 60;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tutorials_flow_from_2021_is_caught_up_in_at_most_five_runs_with_every_record_once() {
    let now = jiff::Timestamp::now().as_second();
    // 200 members spread from a day before the start time until now.
    let from = TUTORIAL_START - 86_400;
    let mock = MockApi::start(
        Scenario::explicit(members(200, from, now - from)).with_auth(Auth::Basic {
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
        json!({"startTime": TUTORIAL_START.to_string(), "frequency": "minute", "interval": 15}),
    )
    .await;
    let latest_due = TUTORIAL_START + (now - TUTORIAL_START) / INTERVAL * INTERVAL;
    let deadline = Instant::now() + Duration::from_secs(60);
    let runs = loop {
        let runs = runs_of(&client, &credential, &server, &workflow.flow_id).await;
        let done = runs
            .iter()
            .all(|run| run["metrics"]["statusSummary"]["status"] == "success")
            && runs
                .iter()
                .any(|run| run["params"]["windowEndTime"].as_i64() >= Some(latest_due));
        if done {
            break runs;
        }
        assert!(Instant::now() < deadline, "{runs:#?}\n{}", server.logs());
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(
        runs.len() <= 5,
        "caught up in {} runs: {runs:#?}",
        runs.len()
    );
    assert!(
        runs[0]["params"].get("windowStartTime").is_none(),
        "the backfill window starts at the beginning of time: {}",
        runs[0]["params"]
    );
    assert_eq!(runs[0]["params"]["windowEndTime"], TUTORIAL_START);
    for pair in runs.windows(2) {
        assert_eq!(
            pair[0]["params"]["windowEndTime"], pair[1]["params"]["windowStartTime"],
            "contiguous windows"
        );
    }
    let last_end = runs.last().unwrap()["params"]["windowEndTime"]
        .as_i64()
        .unwrap();
    let expected: Vec<i64> = (0..200)
        .filter(|id| from + id * (now - from) / 200 < last_end)
        .collect();
    assert!(expected.len() > 150, "{}", expected.len());
    assert_eq!(member_ids(&data_dir, &workflow.dataset_id), expected);
}
