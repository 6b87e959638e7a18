//! flowd's own API for the console (`/flowd/v1`), in process against a loopback mock API:
//! a spec validated by the validator create uses, nothing stored; a spec tested on the server
//! with the run plan of `flowd spec test` and the server's upstream policy; a dataset's first
//! rows read from the files a run wrote, in the caller's sandbox only; a flow's next run time;
//! a run's progress while a worker executes it.

mod common;

use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use common::chain::{PASSWORD, connections_into_a_dataset, create, flow_body};
use common::worker::{claim_due_run, execute_due_run, run_context};
use common::{Caller, Reply, TestApp, fixture};
use flowd_api::{ApiConfig, AppState, app};
use flowd_connector::{NetRule, UpstreamPolicy};
use flowd_mockapi::{Auth, DEFAULT_LIST_ID, MockApi, Scenario};
use flowd_secrets::{Cipher, SecretKey};
use flowd_sink::LocalDatasets;
use serde_json::{Value, json};

const FLOWD: &str = "/flowd/v1";

/// `POST /flowd/v1/connectionSpecs/test` with `request`.
async fn spec_test(app: &TestApp, caller: &Caller, request: &Value) -> Reply {
    flowd(app, caller, "POST", "/connectionSpecs/test", Some(request)).await
}

async fn flowd(
    app: &TestApp,
    caller: &Caller,
    method: &str,
    path: &str,
    body: Option<&Value>,
) -> Reply {
    app.send_under(FLOWD, caller, method, path, body).await
}

fn cipher() -> Cipher {
    Cipher::new(SecretKey::from_bytes([7; 32]))
}

/// The in-process app with `config`, reading the datasets of its data dir (which a played
/// worker writes).
async fn app_with(config: ApiConfig) -> TestApp {
    let base = TestApp::with_config(config.clone()).await;
    let datasets = Arc::new(LocalDatasets::in_data_dir(base.data_dir.path()));
    let router =
        app(AppState::new(base.store.clone(), config, cipher()).with_datasets(datasets.clone()));
    TestApp { router, ..base }
}

async fn mock(records: usize, latency: Duration) -> MockApi {
    MockApi::start(
        Scenario::generated(records)
            .with_auth(Auth::Basic {
                username: "anystring".into(),
                password: PASSWORD.into(),
            })
            .with_latency(latency),
    )
    .await
}

fn problem_pointers(problems: &Value) -> Vec<String> {
    problems
        .as_array()
        .unwrap_or_else(|| panic!("problems: {problems}"))
        .iter()
        .map(|problem| problem["pointer"].as_str().unwrap().to_owned())
        .collect()
}

/// The MailChimp-like spec with two mistakes: no request path, an unknown pagination type.
fn spec_with_two_mistakes() -> Value {
    let mut spec = fixture("seed_mailchimp_update.json");
    spec["sourceSpec"]["attributes"]["urlParams"]
        .as_object_mut()
        .unwrap()
        .shift_remove("path");
    spec["sourceSpec"]["attributes"]["paginationParams"]["type"] = json!("SIDEWAYS");
    spec
}

#[tokio::test]
async fn validate_reports_the_problems_create_would_refuse_at_their_pointers() {
    let app = TestApp::new().await;
    let caller = app.caller();
    let stored_before = app.get(&caller, "/connectionSpecs?count=true").await.body;

    let spec = spec_with_two_mistakes();
    let validated = flowd(
        &app,
        &caller,
        "POST",
        "/connectionSpecs/validate",
        Some(&spec),
    )
    .await;
    assert_eq!(validated.status, StatusCode::OK, "{}", validated.body);
    assert_eq!(validated.body["valid"], false);
    let refused = app.post(&caller, "/connectionSpecs", &spec).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    assert_eq!(validated.body["problems"], refused.body["problems"]);
    let pointers = problem_pointers(&validated.body["problems"]);
    assert!(
        pointers.contains(&"/sourceSpec/attributes/urlParams/path".to_owned())
            && pointers.contains(&"/sourceSpec/attributes/paginationParams/type".to_owned()),
        "{pointers:?}"
    );

    let fine = fixture("seed_mailchimp_update.json");
    let validated = flowd(
        &app,
        &caller,
        "POST",
        "/connectionSpecs/validate",
        Some(&fine),
    )
    .await;
    assert_eq!(validated.body, json!({"valid": true, "problems": []}));
    // Nothing was stored by either.
    assert_eq!(
        app.get(&caller, "/connectionSpecs?count=true").await.body,
        stored_before
    );
    // The same credentials as the rest of the API.
    let stranger = Caller {
        token: "not-a-token".into(),
        ..caller.clone()
    };
    let refused = flowd(
        &app,
        &stranger,
        "POST",
        "/connectionSpecs/validate",
        Some(&fine),
    )
    .await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED, "{}", refused.body);
}

/// A test request of the MailChimp-like spec against `mock`.
fn test_request(mock: &MockApi, password: &str) -> Value {
    json!({
        "spec": fixture("seed_mailchimp_update.json"),
        "auth": {"specName": "Basic Authentication", "params": {
            "host": mock.base_url(), "username": "anystring", "password": password
        }},
        "params": {"listId": DEFAULT_LIST_ID},
        "window": {"start": "2000-01-01T00:00:00Z", "end": 4_000_000_000_i64},
    })
}

#[tokio::test]
async fn a_spec_test_on_the_server_shows_pages_records_schema_and_why_it_stopped() {
    let app = TestApp::new().await;
    let caller = app.caller();
    let mock = mock(250, Duration::ZERO).await;
    let tested = spec_test(&app, &caller, &test_request(&mock, PASSWORD)).await;
    assert_eq!(tested.status, StatusCode::OK, "{}", tested.body);
    let body = &tested.body;
    assert_eq!(body["error"], Value::Null, "{body}");
    let pages = body["pages"].as_array().unwrap();
    assert_eq!(pages.len(), 3, "{body}");
    assert_eq!(
        pages
            .iter()
            .map(|page| page["recordCount"].as_u64().unwrap())
            .collect::<Vec<_>>(),
        [100, 100, 50]
    );
    let first = &pages[0];
    assert_eq!(first["number"], 1);
    assert_eq!(first["status"], 200);
    assert_eq!(first["request"]["method"], "GET");
    assert!(
        first["request"]["url"]
            .as_str()
            .unwrap()
            .contains("/3.0/lists/"),
        "{first}"
    );
    assert!(first["request"]["headers"].is_array(), "{first}");
    assert!(
        first["elapsedMs"].is_u64() && first["attempts"].as_u64() >= Some(1),
        "{first}"
    );
    // The secret appears nowhere in what is shown.
    assert!(!body.to_string().contains(PASSWORD), "{body}");

    assert_eq!(body["recordCount"], 250);
    assert_eq!(body["records"].as_array().unwrap().len(), 100);
    let columns = body["schema"]["columns"].as_array().unwrap();
    assert!(
        columns
            .iter()
            .any(|column| column["name"] == "member" && column["type"] == "object"),
        "{columns:?}"
    );
    assert_eq!(body["summary"]["pages"], 3);
    assert_eq!(body["summary"]["records"], 250);
    assert!(body["summary"]["bytes"].as_u64().unwrap() > 0);
    assert_eq!(
        body["summary"]["stopReason"],
        "the last page held fewer items than the page size"
    );
    assert_eq!(body["warnings"], json!([]));

    // The request's own limits stop it, and the sentence names them.
    let mut limited = test_request(&mock, PASSWORD);
    limited["maxPages"] = json!(2);
    let tested = spec_test(&app, &caller, &limited).await;
    assert_eq!(tested.body["summary"]["pages"], 2, "{}", tested.body);
    assert_eq!(tested.body["summary"]["stopReason"], "maxPages 2 reached");
}

#[tokio::test]
async fn a_spec_test_that_cannot_run_names_each_problem_at_its_place_in_the_request() {
    let app = TestApp::new().await;
    let caller = app.caller();
    let mock = mock(10, Duration::ZERO).await;

    let mut request = test_request(&mock, PASSWORD);
    request["spec"] = spec_with_two_mistakes();
    request["maxPages"] = json!(51);
    request["window"] = json!({"start": "yesterday"});
    let refused = spec_test(&app, &caller, &request).await;
    let pointers = common::chain::pointers(&refused);
    for expected in [
        "/spec/sourceSpec/attributes/urlParams/path",
        "/spec/sourceSpec/attributes/paginationParams/type",
        "/window/start",
        "/maxPages",
    ] {
        assert!(
            pointers.contains(&expected.to_owned()),
            "{expected}: {pointers:?}"
        );
    }

    // A valid spec with auth params and source params its schemas refuse.
    let mut request = test_request(&mock, PASSWORD);
    request["auth"]["params"]
        .as_object_mut()
        .unwrap()
        .shift_remove("password");
    request["params"] = json!({"listId": 7});
    let refused = spec_test(&app, &caller, &request).await;
    let pointers = common::chain::pointers(&refused);
    assert!(
        pointers
            .iter()
            .any(|pointer| pointer.starts_with("/auth/params"))
            && pointers.contains(&"/params/listId".to_owned()),
        "{pointers:?}"
    );
    assert!(
        mock.requests().is_empty(),
        "nothing is sent for a request that cannot run"
    );
}

#[tokio::test]
async fn a_spec_test_refused_by_the_upstream_policy_says_so() {
    let config = ApiConfig {
        upstream: Arc::new(UpstreamPolicy::new(vec![NetRule::Loopback], Vec::new())),
        ..ApiConfig::default()
    };
    let app = TestApp::with_config(config).await;
    let caller = app.caller();
    let mock = mock(10, Duration::ZERO).await;
    let tested = spec_test(&app, &caller, &test_request(&mock, PASSWORD)).await;
    assert_eq!(tested.status, StatusCode::OK, "{}", tested.body);
    assert_eq!(tested.body["pages"], json!([]));
    let message = tested.body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("refused by the upstream policy"),
        "{message}"
    );
    assert_eq!(tested.body["error"]["page"], 1);
    assert!(
        mock.requests().is_empty(),
        "the policy holds before anything is sent"
    );
}

#[tokio::test]
async fn an_upstream_failure_is_answered_with_the_pages_so_far() {
    let app = TestApp::new().await;
    let caller = app.caller();
    let mock = MockApi::start(
        Scenario::generated(250)
            .with_auth(Auth::Basic {
                username: "anystring".into(),
                password: PASSWORD.into(),
            })
            .with_faults(flowd_mockapi::Faults {
                bad_page: Some(flowd_mockapi::BadPage {
                    page: 1,
                    body: flowd_mockapi::BadBody::Html,
                    status: 200,
                    times: None,
                }),
                ..flowd_mockapi::Faults::default()
            }),
    )
    .await;
    let tested = spec_test(&app, &caller, &test_request(&mock, PASSWORD)).await;
    assert_eq!(tested.status, StatusCode::OK, "{}", tested.body);
    assert_eq!(
        tested.body["pages"].as_array().unwrap().len(),
        1,
        "{}",
        tested.body
    );
    assert_eq!(tested.body["recordCount"], 100);
    assert_eq!(tested.body["error"]["page"], 2, "{}", tested.body);
    assert!(tested.body["error"]["message"].is_string());
    assert_eq!(tested.body["summary"]["stopReason"], "page 2 failed");
}

/// Creates the chain spec → connections → dataset → flow against `mock`: (dataset id, flow id).
async fn flow_into_a_dataset(app: &TestApp, caller: &Caller, mock: &MockApi) -> (String, String) {
    let chain = connections_into_a_dataset(app, caller, mock).await;
    let flow = flow_body(&chain.source_id, &chain.target_id);
    let (flow_id, _) = create(app, caller, "/flows", &flow).await;
    (chain.dataset_id, flow_id)
}

/// Enqueues an ad hoc run of `flow_id` and returns its id.
async fn adhoc_run(app: &TestApp, caller: &Caller, flow_id: &str) -> String {
    let run = app
        .post(
            caller,
            "/runs",
            &json!({"flowId": flow_id, "params": {"windowEndTime": 1_800_000_000}}),
        )
        .await;
    assert_eq!(run.status, StatusCode::CREATED, "{}", run.body);
    run.body["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn dataset_rows_are_the_records_a_run_wrote() {
    let app = app_with(ApiConfig::default()).await;
    let caller = app.caller();
    let mock = mock(10, Duration::ZERO).await;
    let (dataset_id, flow_id) = flow_into_a_dataset(&app, &caller, &mock).await;
    let rows_path = format!("/dataSets/{dataset_id}/rows");

    // Before the first batch: the columns known so far, no rows.
    let empty = flowd(&app, &caller, "GET", &rows_path, None).await;
    assert_eq!(empty.status, StatusCode::OK, "{}", empty.body);
    assert_eq!(empty.body["rows"], json!([]));
    assert_eq!(empty.body["recordCount"], 0);

    let run_id = adhoc_run(&app, &caller, &flow_id).await;
    execute_due_run(&app, &run_context(&app)).await;

    let read = flowd(&app, &caller, "GET", &format!("{rows_path}?limit=3"), None).await;
    assert_eq!(read.status, StatusCode::OK, "{}", read.body);
    assert_eq!(read.body["recordCount"], 10);
    let rows = read.body["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 3);
    assert!(
        rows.iter()
            .all(|row| row["_flowd_run_id"] == run_id.as_str()),
        "{rows:?}"
    );
    assert!(rows.iter().all(|row| row["member"].is_object()), "{rows:?}");
    let columns = read.body["columns"].as_array().unwrap();
    assert!(
        columns.iter().any(|column| column["name"] == "member")
            && columns
                .iter()
                .any(|column| column["name"] == "_flowd_run_id"),
        "{columns:?}"
    );
    assert!(
        columns.iter().all(|column| column["type"].is_string()),
        "{columns:?}"
    );
    // Fifty by default.
    let all = flowd(&app, &caller, "GET", &rows_path, None).await;
    assert_eq!(all.body["rows"].as_array().unwrap().len(), 10);

    let refused = flowd(
        &app,
        &caller,
        "GET",
        &format!("{rows_path}?limit=501"),
        None,
    )
    .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    assert_eq!(
        refused.body["report"]["parameter"], "limit",
        "{}",
        refused.body
    );

    // Another sandbox's dataset is not there.
    let elsewhere = Caller {
        sandbox: "dev".into(),
        ..caller.clone()
    };
    let hidden = flowd(&app, &elsewhere, "GET", &rows_path, None).await;
    common::assert_flow_error(&hidden, "1439-404");
    let other_org = app.caller_for_new_org("ORG2@AdobeOrg").await;
    common::assert_flow_error(
        &flowd(&app, &other_org, "GET", &rows_path, None).await,
        "1439-404",
    );
}

#[tokio::test]
async fn a_flow_shows_when_its_next_run_starts() {
    let app = TestApp::new().await;
    let caller = app.caller();
    let mock = mock(10, Duration::ZERO).await;
    let chain = connections_into_a_dataset(&app, &caller, &mock).await;
    let start = flowd_model::time::now().as_second() + 86_400;
    let mut body = flow_body(&chain.source_id, &chain.target_id);
    body["scheduleParams"] =
        json!({"startTime": start.to_string(), "frequency": "hour", "interval": 1});
    // A client's value is not taken.
    body["nextRunAtUTC"] = json!(5);
    let (flow_id, etag) = create(&app, &caller, "/flows", &body).await;
    let path = format!("/flows/{flow_id}");

    let read = app.get(&caller, &path).await;
    assert_eq!(
        read.body["items"][0]["nextRunAtUTC"],
        start * 1000,
        "{}",
        read.body
    );
    let listed = app.get(&caller, "/flows").await;
    let shown = listed.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|flow| flow["id"] == flow_id.as_str())
        .unwrap()
        .clone();
    assert_eq!(shown["nextRunAtUTC"], start * 1000);

    // Read-only, as lastRunDetails is.
    let patched = app
        .patch(
            &caller,
            &path,
            Some(&etag),
            &json!([{"op": "replace", "path": "/nextRunAtUTC", "value": 0}]),
        )
        .await;
    let refused_like = app
        .patch(
            &caller,
            &path,
            Some(&etag),
            &json!([{"op": "replace", "path": "/lastRunDetails", "value": {}}]),
        )
        .await;
    assert_eq!(patched.status, refused_like.status, "{}", patched.body);
    assert_eq!(patched.body["type"], refused_like.body["type"]);

    let disabled = app
        .send(&caller, "POST", &format!("{path}/action?op=DISABLE"), None)
        .await;
    assert_eq!(disabled.status, StatusCode::OK, "{}", disabled.body);
    assert_eq!(
        app.get(&caller, &path).await.body["items"][0]["nextRunAtUTC"],
        Value::Null
    );
    let enabled = app
        .send(&caller, "POST", &format!("{path}/action?op=ENABLE"), None)
        .await;
    assert_eq!(enabled.status, StatusCode::OK, "{}", enabled.body);
    assert_eq!(
        app.get(&caller, &path).await.body["items"][0]["nextRunAtUTC"],
        start * 1000
    );

    // Once the planner ran its first window, the next one follows it.
    flowd_scheduler::planner::plan_once(
        app.store.as_ref(),
        jiff::Timestamp::from_second(start + 1).unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(
        app.get(&caller, &path).await.body["items"][0]["nextRunAtUTC"],
        (start + 3600) * 1000
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_run_shows_its_progress_while_in_progress() {
    let app = app_with(ApiConfig::default()).await;
    let caller = app.caller();
    // Ten pages (nine of a hundred, a last short one), each answered after 200 ms.
    let mock = mock(950, Duration::from_millis(200)).await;
    let (_, flow_id) = flow_into_a_dataset(&app, &caller, &mock).await;
    let run_id = adhoc_run(&app, &caller, &flow_id).await;
    let run_path = format!("/runs/{run_id}");
    let before = app.get(&caller, &run_path).await;
    assert_eq!(
        before.body["items"][0]["progress"],
        Value::Null,
        "{}",
        before.body
    );

    let options = flowd_scheduler::worker::WorkerOptions {
        progress_every: Duration::from_millis(250),
        ..flowd_scheduler::worker::WorkerOptions::new("worker".into())
    };
    let context = run_context(&app);
    let claimed = claim_due_run(&app, &options).await;
    let worker = tokio::spawn(async move {
        flowd_scheduler::worker::process(&context, &options, claimed).await;
    });

    let mut seen_in_progress = None;
    while !worker.is_finished() {
        let run = app.get(&caller, &run_path).await.body["items"][0].clone();
        if run["metrics"]["statusSummary"]["status"] == "inProgress"
            && run["progress"]["records"].as_u64() > Some(0)
        {
            seen_in_progress = Some(run);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let seen = seen_in_progress.expect("progress was visible while the run was in progress");
    let records = seen["progress"]["records"].as_u64().unwrap();
    assert!(records < 950, "seen before the end: {seen}");
    assert!(seen["progress"]["pages"].as_u64().unwrap() > 0, "{seen}");
    assert!(seen["progress"]["updatedAtUTC"].is_i64(), "{seen}");
    assert_eq!(
        seen["metrics"]["recordSummary"]["inputRecordCount"], records,
        "{seen}"
    );
    // The list shows it the same way.
    let listed = app
        .get(&caller, &format!("/runs?property=flowId=={flow_id}"))
        .await;
    assert!(
        listed.body["items"][0]["progress"].is_object(),
        "{}",
        listed.body
    );

    worker.await.unwrap();
    let done = app.get(&caller, &run_path).await.body["items"][0].clone();
    assert_eq!(
        done["metrics"]["statusSummary"]["status"], "success",
        "{done}"
    );
    assert_eq!(
        done["progress"]["records"], 950,
        "the final figures are kept: {done}"
    );
    assert_eq!(done["progress"]["pages"], 10, "{done}");
    assert_eq!(done["metrics"]["recordSummary"]["inputRecordCount"], 950);
}
