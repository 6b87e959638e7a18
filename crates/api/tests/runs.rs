//! `/runs`: ad hoc runs over a window, the run shape, lists filtered by flow,
//! RE_TRIGGER of failed and successful runs, overlapping windows refused, isolation, and the
//! flow's `lastRunDetails`.
//! Workers are played by driving the store's run queue directly.

mod common;

use axum::http::StatusCode;
use common::chain::{
    base_connection, create, flow_body, list_spec_in_flow_spec, mock, pointers, source_body,
    target_body,
};
use common::{Caller, TestApp, assert_flow_error};
use flowd_model::{RunErrorRecord, RunMetrics};
use flowd_store::{ListQuery, RunCompletion, RunFilter, RunStatus, Scope};
use serde_json::{Value, json};

/// A sandbox holding a flow (and its whole chain): the flow id.
async fn flow(app: &TestApp, caller: &Caller) -> String {
    let mock = mock().await;
    let (spec_id, base_id) = base_connection(app, caller, &mock).await;
    list_spec_in_flow_spec(app, caller, &spec_id).await;
    let (source_id, _) = create(
        app,
        caller,
        "/sourceConnections",
        &source_body(&spec_id, &base_id),
    )
    .await;
    let dataset_id = app.create_dataset(caller, "members").await;
    let (target_id, _) = create(app, caller, "/targetConnections", &target_body(&dataset_id)).await;
    create(app, caller, "/flows", &flow_body(&source_id, &target_id))
        .await
        .0
}

/// Another flow over the same connections as `flow_id`.
async fn sibling_flow(app: &TestApp, caller: &Caller, flow_id: &str) -> String {
    let existing = app.get(caller, &format!("/flows/{flow_id}")).await.body["items"][0].clone();
    let mut body = flow_body(
        existing["sourceConnectionIds"][0].as_str().unwrap(),
        existing["targetConnectionIds"][0].as_str().unwrap(),
    );
    body["name"] = json!("second dataflow");
    create(app, caller, "/flows", &body).await.0
}

async fn post_run(app: &TestApp, caller: &Caller, flow_id: &str, params: Value) -> Value {
    let reply = app
        .post(
            caller,
            "/runs",
            &json!({"flowId": flow_id, "params": params}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    reply.body
}

fn scope(caller: &Caller) -> Scope {
    Scope {
        org_id: caller.org.clone(),
        sandbox_name: caller.sandbox.clone(),
    }
}

fn far_future() -> i64 {
    i64::MAX / 4
}

/// Plays a worker: claims the (only) due run and records `status` with what the attempt
/// measured and why it failed.
async fn finish_next_run(
    app: &TestApp,
    expected_id: &str,
    status: RunStatus,
    metrics: RunMetrics,
    error: Option<(&str, &str)>,
) {
    let claimed = app
        .store
        .claim_run("test-worker", far_future(), 60_000, None)
        .await
        .unwrap()
        .expect("a due run");
    assert_eq!(claimed.id, expected_id);
    let completion = RunCompletion {
        status,
        scheduled_at: 0,
        metrics,
        error: error.map(|(code, message)| RunErrorRecord {
            code: code.into(),
            message: message.into(),
        }),
        warnings: Vec::new(),
        batch: None,
    };
    assert!(
        app.store
            .finish_run(&claimed.id, "test-worker", &completion)
            .await
            .unwrap()
    );
}

fn ids(body: &Value) -> Vec<String> {
    body["items"]
        .as_array()
        .unwrap_or_else(|| panic!("items: {body}"))
        .iter()
        .map(|item| item["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn an_ad_hoc_run_is_created_pending_with_the_run_shape() {
    let app = TestApp::new().await;
    let caller = app.caller();
    let flow_id = flow(&app, &caller).await;
    let reply = app
        .post(
            &caller,
            "/runs",
            &json!({"flowId": flow_id, "params": {"windowStartTime": "1651584991", "windowEndTime": "1651588591"}}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let run = reply.body;
    let run_id = run["id"].as_str().unwrap().to_owned();
    assert!(uuid::Uuid::try_parse(&run_id).is_ok(), "{run_id}");
    assert!(
        reply.headers["location"]
            .to_str()
            .unwrap()
            .ends_with(&format!("/data/foundation/flowservice/runs/{run_id}"))
    );
    assert_eq!(run["flowId"], flow_id.as_str());
    assert_eq!(
        run["params"],
        json!({"windowStartTime": 1651584991, "windowEndTime": 1651588591})
    );
    assert!(run["createdAt"].as_i64().unwrap() > 1_600_000_000_000, "ms");
    assert_eq!(run["updatedAt"], run["createdAt"]);
    assert_eq!(run["sandboxName"], "prod");
    assert_eq!(run["imsOrgId"], caller.org.as_str());
    assert!(run["sandboxId"].is_string());
    assert!(run["etag"].as_str().unwrap().starts_with('"'));
    assert_eq!(run["version"], run["etag"]);
    assert_eq!(run["attempts"], 0);
    assert_eq!(
        run["metrics"],
        json!({
            "durationSummary": {},
            "sizeSummary": {"inputBytes": 0, "outputBytes": 0},
            "recordSummary": {"inputRecordCount": 0, "outputRecordCount": 0, "failedRecordCount": 0},
            "fileSummary": {"outputFileCount": 0},
            "statusSummary": {"status": "pending", "errors": []}
        })
    );
    assert_eq!(run["activities"], json!([]));

    let read = app.get(&caller, &format!("/runs/{run_id}")).await;
    assert_eq!(read.status, StatusCode::OK, "{}", read.body);
    assert_eq!(read.body, json!({"items": [run]}));

    // In the store: milliseconds, due now.
    let stored = app
        .store
        .get_run(&scope(&caller), &run_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (stored.window_start, stored.window_end),
        (Some(1_651_584_991_000), 1_651_588_591_000)
    );
    assert_eq!(stored.status, RunStatus::Pending);
}

#[tokio::test]
async fn run_windows_are_read_leniently_and_checked() {
    let app = TestApp::new().await;
    let caller = app.caller();
    let flow_id = flow(&app, &caller).await;

    let without_start = post_run(&app, &caller, &flow_id, json!({"windowEndTime": 1000})).await;
    assert_eq!(without_start["params"], json!({"windowEndTime": 1000}));
    let numbers = post_run(
        &app,
        &caller,
        &flow_id,
        json!({"windowStartTime": 1000, "windowEndTime": 2000.0}),
    )
    .await;
    assert_eq!(
        numbers["params"],
        json!({"windowStartTime": 1000, "windowEndTime": 2000})
    );

    let cases: Vec<(Value, Vec<&str>)> = vec![
        (
            json!({"flowId": flow_id, "params": {"windowStartTime": 3000, "windowEndTime": 3000}}),
            vec!["/params/windowEndTime"],
        ),
        (
            json!({"flowId": flow_id, "params": {"windowStartTime": "4000", "windowEndTime": "3500"}}),
            vec!["/params/windowEndTime"],
        ),
        (
            json!({"flowId": flow_id, "params": {"windowStartTime": "yesterday", "windowEndTime": 1.5}}),
            vec!["/params/windowStartTime", "/params/windowEndTime"],
        ),
        (
            json!({"flowId": flow_id, "params": {"windowStartTime": 1}}),
            vec!["/params/windowEndTime"],
        ),
        (
            json!({"flowId": flow_id, "params": "1000-2000"}),
            vec!["/params"],
        ),
        (json!({"flowId": flow_id}), vec!["/params"]),
        (json!({"params": {"windowEndTime": 5000}}), vec!["/flowId"]),
        (
            json!({"flowId": 7, "params": {"windowEndTime": "x"}}),
            vec!["/flowId", "/params/windowEndTime"],
        ),
    ];
    for (body, expected) in cases {
        let reply = app.post(&caller, "/runs", &body).await;
        assert_eq!(pointers(&reply), expected, "{body}");
    }
    // Nothing was enqueued by the refused requests.
    assert_eq!(
        app.store
            .list_runs(
                &scope(&caller),
                &RunFilter::default(),
                &ListQuery::default()
            )
            .await
            .unwrap()
            .len(),
        2
    );
}

#[tokio::test]
async fn run_windows_take_rfc_3339_and_epoch_seconds_and_refuse_milliseconds_with_a_hint() {
    let app = TestApp::new().await;
    let caller = app.caller();
    let flow_id = flow(&app, &caller).await;

    let rfc_3339 = post_run(
        &app,
        &caller,
        &flow_id,
        json!({"windowStartTime": "2022-05-03T13:36:31Z", "windowEndTime": "2022-05-03T15:36:31+01:00"}),
    )
    .await;
    assert_eq!(
        rfc_3339["params"],
        json!({"windowStartTime": 1651584991, "windowEndTime": 1651588591})
    );
    let mixed = post_run(
        &app,
        &caller,
        &flow_id,
        json!({"windowStartTime": 1651588591, "windowEndTime": "2022-05-03T15:36:31Z"}),
    )
    .await;
    assert_eq!(
        mixed["params"],
        json!({"windowStartTime": 1651588591, "windowEndTime": 1651592191})
    );

    let reply = app
        .post(
            &caller,
            "/runs",
            &json!({"flowId": flow_id, "params": {"windowStartTime": 1651584991000_i64, "windowEndTime": "1651588591000"}}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
    let problems: Vec<(String, String)> = reply.body["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|problem| {
            (
                problem["pointer"].as_str().unwrap().to_owned(),
                problem["message"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        problems,
        [
            (
                "/params/windowStartTime".to_owned(),
                "1651584991000 looks like milliseconds: give seconds (divide by 1000) or an RFC 3339 instant".to_owned()
            ),
            (
                "/params/windowEndTime".to_owned(),
                "1651588591000 looks like milliseconds: give seconds (divide by 1000) or an RFC 3339 instant".to_owned()
            ),
        ]
    );
    let reply = app
        .post(
            &caller,
            "/runs",
            &json!({"flowId": flow_id, "params": {"windowEndTime": "tomorrow"}}),
        )
        .await;
    assert_eq!(
        reply.body["problems"][0]["message"],
        "'tomorrow' is neither an RFC 3339 instant (like 2024-01-01T00:00:00Z) nor epoch seconds"
    );
}

#[tokio::test]
async fn unknown_flows_and_taken_windows_are_refused() {
    let app = TestApp::new().await;
    let caller = app.caller();
    let flow_id = flow(&app, &caller).await;

    let unknown = app
        .post(
            &caller,
            "/runs",
            &json!({"flowId": "00000000-0000-4000-8000-000000000000", "params": {"windowEndTime": 10}}),
        )
        .await;
    assert_flow_error(&unknown, "1430-400");
    assert_eq!(unknown.body["problems"][0]["pointer"], "/flowId");
    assert_eq!(unknown.body["report"]["type"], "flows");
    assert_flow_error(
        &app.post(
            &caller,
            "/runs",
            &json!({"flowId": "not-a-flow", "params": {"windowEndTime": 10}}),
        )
        .await,
        "1430-400",
    );

    // Flow ids are matched in their canonical form.
    let first = post_run(
        &app,
        &caller,
        &flow_id.to_uppercase(),
        json!({"windowStartTime": 0, "windowEndTime": 600}),
    )
    .await;
    assert_eq!(first["flowId"], flow_id.as_str());
    let duplicate = app
        .post(
            &caller,
            "/runs",
            &json!({"flowId": flow_id, "params": {"windowStartTime": 300, "windowEndTime": "600"}}),
        )
        .await;
    assert_flow_error(&duplicate, "1409-400");
    assert_eq!(duplicate.body["report"]["runId"], first["id"]);
    assert_eq!(duplicate.body["problems"][0]["pointer"], "/params");
    // Any overlap is refused, not only the same window end: nothing is fetched twice.
    for overlapping in [
        json!({"windowStartTime": 599, "windowEndTime": 900}),
        json!({"windowEndTime": 1}),
        json!({"windowStartTime": 100, "windowEndTime": 200}),
    ] {
        let refused = app
            .post(
                &caller,
                "/runs",
                &json!({"flowId": flow_id, "params": overlapping}),
            )
            .await;
        assert_flow_error(&refused, "1409-400");
        assert_eq!(
            refused.body["report"]["runId"], first["id"],
            "{overlapping}"
        );
    }
    // The next window, touching the first one, is free.
    post_run(
        &app,
        &caller,
        &flow_id,
        json!({"windowStartTime": 600, "windowEndTime": 900}),
    )
    .await;
    // Another flow may use the same window.
    let sibling = sibling_flow(&app, &caller, &flow_id).await;
    post_run(
        &app,
        &caller,
        &sibling,
        json!({"windowStartTime": 0, "windowEndTime": 600}),
    )
    .await;
}

#[tokio::test]
async fn runs_are_listed_by_flow_and_stay_in_their_sandbox() {
    let app = TestApp::new().await;
    let caller = app.caller();
    let flow_a = flow(&app, &caller).await;
    let flow_b = sibling_flow(&app, &caller, &flow_a).await;
    let a1 = post_run(&app, &caller, &flow_a, json!({"windowEndTime": 100})).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // Runs are listed by creation time (then id): keep the three apart by a
    // millisecond so "creation order" is what the assertions below mean.
    tokio::time::sleep(std::time::Duration::from_millis(3)).await;
    let b1 = post_run(&app, &caller, &flow_b, json!({"windowEndTime": 100})).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    tokio::time::sleep(std::time::Duration::from_millis(3)).await;
    let a2 = post_run(
        &app,
        &caller,
        &flow_a,
        json!({"windowStartTime": 100, "windowEndTime": 200}),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let of_a = app
        .get(&caller, &format!("/runs?property=flowId=={flow_a}"))
        .await;
    assert_eq!(of_a.status, StatusCode::OK, "{}", of_a.body);
    let mut listed = ids(&of_a.body);
    listed.sort();
    let mut expected = vec![a1.clone(), a2.clone()];
    expected.sort();
    assert_eq!(listed, expected);
    assert!(
        of_a.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|run| run["metrics"]["statusSummary"]["status"] == "pending")
    );

    let all = app.get(&caller, "/runs").await;
    assert_eq!(ids(&all.body).len(), 3);
    assert_eq!(
        app.get(
            &caller,
            &format!("/runs?property=flowId=={flow_a},{flow_b}&count=true")
        )
        .await
        .body,
        json!({"count": 3})
    );
    assert_eq!(
        app.get(
            &caller,
            &format!("/runs?property=flowId=={flow_b}&property=params.windowEndTime==100")
        )
        .await
        .body["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        ids(&app
            .get(
                &caller,
                "/runs?property=metrics.statusSummary.status==failed"
            )
            .await
            .body),
        Vec::<String>::new()
    );

    // Pages by keyset, in creation order by default.
    let first = app.get(&caller, "/runs?limit=2").await;
    assert_eq!(ids(&first.body), [a1.as_str(), b1.as_str()]);
    let next = first.body["_links"]["next"]["href"].as_str().unwrap();
    assert!(next.starts_with("/runs?"), "{next}");
    assert_eq!(ids(&app.get(&caller, next).await.body), [a2.as_str()]);
    assert_eq!(
        ids(&app
            .get(&caller, "/runs?orderby=-createdAt&limit=1")
            .await
            .body),
        [a2.as_str()]
    );
    assert_flow_error(
        &app.get(&caller, "/runs?orderby=attempts").await,
        "1433-400",
    );

    let mut other_sandbox = caller.clone();
    other_sandbox.sandbox = "dev".into();
    let other_org = app.caller_for_new_org("ORG2@AdobeOrg").await;
    for intruder in [&other_sandbox, &other_org] {
        assert_eq!(
            app.get(intruder, "/runs").await.body,
            json!({"items": [], "_links": {}})
        );
        assert_flow_error(&app.get(intruder, &format!("/runs/{a1}")).await, "1439-404");
        assert_flow_error(
            &app.post(
                intruder,
                &format!("/runs/{a1}/action?op=RE_TRIGGER"),
                &json!({}),
            )
            .await,
            "1439-404",
        );
        assert_flow_error(
            &app.post(
                intruder,
                "/runs",
                &json!({"flowId": flow_a, "params": {"windowEndTime": 300}}),
            )
            .await,
            "1430-400",
        );
    }
    let missing = app
        .get(&caller, "/runs/00000000-0000-4000-8000-000000000000")
        .await;
    assert_flow_error(&missing, "1439-404");
    assert_eq!(missing.body["report"]["type"], "runs");
    assert_flow_error(&app.get(&caller, "/runs/not-a-uuid").await, "1411-400");
}

#[tokio::test]
async fn failed_and_successful_runs_are_retriggered_in_any_spelling_of_the_op() {
    let app = TestApp::new().await;
    let caller = app.caller();
    let flow_id = flow(&app, &caller).await;
    let run = post_run(
        &app,
        &caller,
        &flow_id,
        json!({"windowStartTime": 0, "windowEndTime": 900}),
    )
    .await;
    let run_id = run["id"].as_str().unwrap().to_owned();
    let action = format!("/runs/{run_id}/action?op=RE_TRIGGER");

    let refused = app.post(&caller, &action, &json!({})).await;
    assert_flow_error(&refused, "1409-400");
    assert_eq!(refused.body["report"]["status"], "pending");
    assert_flow_error(
        &app.post(
            &caller,
            &format!("/runs/{run_id}/action?op=CANCEL"),
            &json!({}),
        )
        .await,
        "1100-400",
    );
    assert_flow_error(
        &app.post(
            &caller,
            "/runs/00000000-0000-4000-8000-000000000000/action?op=RE_TRIGGER",
            &json!({}),
        )
        .await,
        "1439-404",
    );

    finish_next_run(
        &app,
        &run_id,
        RunStatus::Failed,
        RunMetrics {
            started_at: 1_700_000_000_000,
            completed_at: 1_700_000_005_000,
            input_records: 3,
            ..RunMetrics::default()
        },
        Some(("UPSTREAM_STATUS", "upstream answered 500")),
    )
    .await;
    let failed = app.get(&caller, &format!("/runs/{run_id}")).await.body["items"][0].clone();
    assert_eq!(failed["metrics"]["statusSummary"]["status"], "failed");
    assert_eq!(
        failed["metrics"]["statusSummary"]["errors"],
        json!([{"code": "UPSTREAM_STATUS", "message": "upstream answered 500"}])
    );
    assert_eq!(failed["metrics"]["recordSummary"]["inputRecordCount"], 3);
    assert_eq!(
        failed["metrics"]["sizeSummary"],
        json!({"inputBytes": 0, "outputBytes": 0}),
        "zeros where the attempt measured nothing"
    );
    assert_eq!(failed["activities"][0]["name"], "Copy Activity");
    assert_eq!(failed["attempts"], 1);
    assert_eq!(
        failed["createdAt"], run["createdAt"],
        "kept from the enqueued run"
    );
    assert!(failed["updatedAt"].as_i64() >= run["updatedAt"].as_i64());
    assert_ne!(failed["etag"], run["etag"]);

    let retriggered = app.post(&caller, &action, &json!({})).await;
    assert_eq!(retriggered.status, StatusCode::OK, "{}", retriggered.body);
    assert_eq!(retriggered.body["id"], run_id.as_str());
    assert_eq!(
        retriggered.body["metrics"]["statusSummary"]["status"],
        "pending"
    );
    assert_eq!(retriggered.body["params"], run["params"], "same window");
    assert_ne!(retriggered.body["etag"], failed["etag"]);
    let stored = app
        .store
        .get_run(&scope(&caller), &run_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.status, RunStatus::Pending);
    assert_eq!(stored.lease_owner, None);
    assert_flow_error(&app.post(&caller, &action, &json!({})).await, "1409-400");

    // The queue hands it out again.
    finish_next_run(
        &app,
        &run_id,
        RunStatus::Success,
        RunMetrics::default(),
        None,
    )
    .await;
    assert_eq!(
        app.get(&caller, &format!("/runs/{run_id}")).await.body["items"][0]["attempts"],
        1,
        "a re-triggered run starts a fresh retry budget"
    );

    // A successful run runs its window again, with the retry tutorial's spelling of the op.
    for spelling in ["re-trigger", "Re_Trigger"] {
        let again = app
            .post(
                &caller,
                &format!("/runs/{run_id}/action?op={spelling}"),
                &json!({}),
            )
            .await;
        assert_eq!(again.status, StatusCode::OK, "{spelling}: {}", again.body);
        assert_eq!(again.body["id"], run_id.as_str());
        assert!(again.body["etag"].is_string());
        assert_eq!(again.body["params"], run["params"], "the same window");
        assert_eq!(again.body["metrics"]["statusSummary"]["status"], "pending");
        finish_next_run(
            &app,
            &run_id,
            RunStatus::Success,
            RunMetrics::default(),
            None,
        )
        .await;
    }
}

#[tokio::test]
async fn last_run_details_follow_the_latest_run() {
    let app = TestApp::new().await;
    let caller = app.caller();
    let flow_id = flow(&app, &caller).await;
    let sibling = sibling_flow(&app, &caller, &flow_id).await;
    let flow_path = format!("/flows/{flow_id}");
    let last_details = |body: &Value, id: &str| -> Value {
        body["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|flow| flow["id"] == id)
            .unwrap()["lastRunDetails"]
            .clone()
    };
    assert_eq!(
        app.get(&caller, &flow_path).await.body["items"][0]["lastRunDetails"],
        json!({})
    );

    let later = post_run(
        &app,
        &caller,
        &flow_id,
        json!({"windowStartTime": 1000, "windowEndTime": 2000}),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        app.get(&caller, &flow_path).await.body["items"][0]["lastRunDetails"],
        json!({"id": later, "state": "pending"})
    );
    finish_next_run(
        &app,
        &later,
        RunStatus::Success,
        RunMetrics {
            started_at: 1_700_000_000_000,
            completed_at: 1_700_000_060_000,
            ..RunMetrics::default()
        },
        None,
    )
    .await;
    // An earlier window created afterwards does not take over.
    post_run(
        &app,
        &caller,
        &flow_id,
        json!({"windowStartTime": 0, "windowEndTime": 1000}),
    )
    .await;
    let expected = json!({
        "id": later,
        "state": "success",
        "startedAtUTC": 1_700_000_000_000_i64,
        "completedAtUTC": 1_700_000_060_000_i64
    });
    assert_eq!(
        app.get(&caller, &flow_path).await.body["items"][0]["lastRunDetails"],
        expected
    );
    let listed = app.get(&caller, "/flows").await.body;
    assert_eq!(last_details(&listed, &flow_id), expected);
    assert_eq!(last_details(&listed, &sibling), json!({}));
    // lastRunDetails can be filtered on like any listed field.
    assert_eq!(
        app.get(
            &caller,
            "/flows?property=lastRunDetails.state==success&count=true"
        )
        .await
        .body,
        json!({"count": 1})
    );
}

#[tokio::test]
async fn a_run_shows_the_records_its_promotion_rejected_and_links_its_batch() {
    let app = TestApp::new().await;
    let caller = app.caller();
    let flow_id = flow(&app, &caller).await;
    let run_id = post_run(
        &app,
        &caller,
        &flow_id,
        json!({"windowStartTime": 0, "windowEndTime": 600}),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    finish_next_run(
        &app,
        &run_id,
        RunStatus::Success,
        RunMetrics {
            started_at: 1_700_000_000_000,
            completed_at: 1_700_000_030_000,
            pages: 1,
            input_records: 10,
            output_records: 8,
            failed_records: 2,
            ..RunMetrics::default()
        },
        None,
    )
    .await;
    let run = app.get(&caller, &format!("/runs/{run_id}")).await.body["items"][0].clone();
    assert_eq!(
        run["metrics"]["recordSummary"],
        json!({"inputRecordCount": 10, "outputRecordCount": 8, "failedRecordCount": 2})
    );
    let activities = run["activities"].as_array().unwrap();
    assert_eq!(activities.len(), 2, "{run}");
    assert_eq!(activities[0]["name"], "Copy Activity");
    assert_eq!(
        activities[1],
        json!({
            "name": "Promotion Activity",
            "updatedAtUTC": 1_700_000_030_000_i64,
            "recordSummary": {"inputRecordCount": 10, "outputRecordCount": 8, "failedRecordCount": 2},
            "fileSummary": {"extensions": {"manifest": {"fileInfo":
                format!("/data/foundation/export/batches/{run_id}/meta?path=input_files")}}}
        })
    );
    let listed = app
        .get(&caller, &format!("/runs?property=flowId=={flow_id}"))
        .await;
    assert_eq!(
        listed.body["items"][0]["metrics"]["recordSummary"]["failedRecordCount"], 2,
        "lists show the same run"
    );
}
